"""Exports and public datasets into the warehouse: readers, cell parsing, adapters."""

from research.sources.exports import ingest_paths
from research.sources.public import ADAPTERS, import_public

__all__ = ["ADAPTERS", "import_public", "ingest_paths"]
