"""The sample market: a deterministic set of platform exports with its planted truth.

``market`` (``generate_sample``: the files and ``truth.json``), ``common`` (calendar,
season, value forms, CSV/XLSX writers), ``keywords``, ``items``, ``shop`` (our sales and the
shops' traffic), ``second_category`` (our shop's listings and sales in a second category).
The sample imports only store and ground modules.
"""

__all__ = ["common", "items", "keywords", "market", "second_category", "shop"]
