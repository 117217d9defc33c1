"""Sample markets: deterministic sets of platform exports with their planted truth.

``market`` (``generate_sample``: the files and ``truth.json``), ``profiles`` (the named and
random markets: category, vocabulary, season, prices, shapes, signal strengths), ``common``
(calendar, season, value forms, CSV/XLSX writers), ``xls`` (the .xls writer), ``keywords``,
``items``, ``shop`` (our sales and the shops' traffic), ``second_category`` (保温杯 only).
The sample imports only store and ground modules, never calendar or price_points.
"""

__all__ = ["common", "items", "keywords", "market", "profiles", "second_category", "shop", "xls"]
