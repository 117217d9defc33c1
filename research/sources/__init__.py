"""Exports and public datasets into the warehouse: readers, cell parsing, adapters.

``exports`` (a shop's CSV/XLSX exports → canonical tables, with ``readers`` and
``parse_sql``), ``public`` (the real public datasets, one adapter module each, sharing
``common``). Sources import only the store and ground modules.
"""

from research.sources.exports import ingest_paths
from research.sources.public import ADAPTERS, import_public

__all__ = ["ADAPTERS", "import_public", "ingest_paths"]
