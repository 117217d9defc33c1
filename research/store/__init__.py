"""The warehouse: one DuckDB file with the canonical tables, and what the study reads of it.

``schema`` (the canonical tables and their Chinese headers), ``warehouse`` (connect, read,
store, the ingest log), ``scope`` (the study scope, resolved once and checked), ``events``
(the ``events`` table as calendar input), ``traffic`` (which traffic rows stand for a shop).
The store imports only ground modules.
"""

__all__ = ["events", "schema", "scope", "traffic", "warehouse"]
