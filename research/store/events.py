"""The warehouse ``events`` table as calendar input for forecasts.

The promotion calendar itself (:mod:`research.calendar`) is ground and reads no warehouse;
this module is where the two meet: analyst events loaded with ``research ingest`` come back
one row per day, ready for :func:`research.calendar.promotion_calendar` (``extra=``) or the
forecasting engine (``events=``).

Examples
--------
>>> import tempfile, pandas as pd
>>> from pathlib import Path
>>> from research.store.warehouse import connect, store
>>> path = Path(tempfile.mkdtemp()) / "w.duckdb"
>>> with connect(path) as con:
...     _ = store(con, "events", pd.DataFrame({"date": pd.to_datetime(["2026-11-01"]),
...                                            "name": ["店庆"], "kind": ["analyst"]}))
>>> events_from_warehouse(path)[["name", "kind"]].values.tolist()
[['店庆', 'analyst']]
"""

from __future__ import annotations

import os

import pandas as pd

from research.calendar import normalise_events
from research.store.warehouse import has_table, open_read, read

__all__ = ["events_from_warehouse"]


def events_from_warehouse(warehouse: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The warehouse ``events`` table as one row per event day.

    Parameters
    ----------
    warehouse : path-like, optional
        The DuckDB file; defaults to :func:`research.config.default_warehouse`.

    Returns
    -------
    DataFrame
        ``date, name, kind``; empty when the warehouse has no events (or, made before the
        table joined the schema, no ``events`` table).

    Raises
    ------
    FileNotFoundError
        When the warehouse file does not exist.
    """
    with open_read(warehouse) as con:
        present = has_table(con, "events")
    if not present:
        return normalise_events(None)
    return normalise_events(read("events", warehouse))
