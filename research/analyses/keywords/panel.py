"""The weekly keyword panel: reading the ``keywords`` table into a terms × weeks matrix.

:func:`load_panel` aggregates one category's daily search-term rows (a DuckDB warehouse, read
only, or a DataFrame of canonical keyword rows) to weekly levels in DuckDB, reading nothing after
the Sunday of the study week, and returns a :class:`WeeklyPanel` — the matrix every statistic of
:mod:`research.analyses.keywords.analysis` runs on. The weekly level is the **mean** of the daily 搜索人气 (an
index, metrics.md); the summed index is kept separately, for labelled shares only. The study
week's optional attributes (:data:`OPTIONAL_COLUMNS`) come along per term. The category and
the study week are given (the study scope's): nothing here chooses them.

Examples
--------
>>> import pandas as pd, numpy as np
>>> days = pd.date_range("2026-01-05", periods=14)
>>> frame = pd.DataFrame({"date": np.tile(days, 2), "category": "保温杯",
...     "keyword": np.repeat(["保温杯", "保温杯女"], 14),
...     "search_popularity": np.r_[np.full(14, 100.0), np.full(14, 20.0)]})
>>> panel = load_panel(frame, "保温杯", "2026-W03")
>>> panel.week_labels, panel.level.tolist()
(['2026-W02', '2026-W03'], [[100.0, 100.0], [20.0, 20.0]])
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from research.config import default_warehouse
from research.store.warehouse import quiet
from research.weeks import iso_week, week_bounds

__all__ = ["WeeklyPanel", "OPTIONAL_COLUMNS", "load_panel", "load_listings"]

#: optional keyword columns the study week's attributes are read from
OPTIONAL_COLUMNS = ["click_rate", "conversion_rate", "online_items", "tmall_click_share",
                    "ppc_price"]


@dataclass
class WeeklyPanel:
    """Weekly levels of every term of a category: the matrix the statistics run on.

    Attributes
    ----------
    terms : ndarray of str, shape (n,)
    weeks : DatetimeIndex, shape (m,)
        Mondays of consecutive ISO weeks; the last is the study week.
    level : ndarray, shape (n, m)
        Mean daily search_popularity (an index) per week; NaN where the term has no rows.
    index_sum : ndarray, shape (n, m)
        Sum of daily search_popularity per week (0 where no rows) — for labelled shares only.
    days : ndarray of int, shape (n, m)
        Days with a row per week.
    attrs : DataFrame
        Per term (index aligned to ``terms``): study-week means of the optional columns.
    available : list of str
        Optional columns that have any value in the study week.
    category, week : str
    """

    terms: np.ndarray
    weeks: pd.DatetimeIndex
    level: np.ndarray
    index_sum: np.ndarray
    days: np.ndarray
    attrs: pd.DataFrame
    available: list[str]
    category: str
    week: str

    @property
    def week_labels(self) -> list[str]:
        """ISO labels of :attr:`weeks`."""
        return [iso_week(w) for w in self.weeks]


def _connect(source: str | os.PathLike[str] | pd.DataFrame | None) -> duckdb.DuckDBPyConnection:
    if isinstance(source, pd.DataFrame):
        con = quiet(duckdb.connect())
        con.register("keywords", source)
        return con
    path = Path(source) if source else default_warehouse()
    if not path.exists():
        raise FileNotFoundError(f"warehouse {path} does not exist: load exports with "
                                f"`research ingest PATH` (or `make demo` for the sample market)")
    return quiet(duckdb.connect(str(path), read_only=True))


def load_panel(source: str | os.PathLike[str] | pd.DataFrame | None, category: str,
               week: str, history_weeks: int = 156) -> WeeklyPanel:
    """Aggregate the ``keywords`` table to a terms × weeks matrix in DuckDB.

    Parameters
    ----------
    source : path-like, DataFrame or None
        A warehouse file (read-only; None = the project default) or canonical keyword rows.
    category : str
        The category (the study scope's).
    week : str
        ISO week to study (the study scope's); nothing after its Sunday is read.
    history_weeks : int
        Weeks of history read, ending with the study week.

    Returns
    -------
    WeeklyPanel
    """
    if not category or not week:
        raise ValueError(f"load_panel needs the study's category and week (the scope's): "
                         f"category={category!r}, week={week!r}")
    monday, sunday = week_bounds(week)
    con = _connect(source)
    try:
        cols = {r[0] for r in con.execute("DESCRIBE keywords").fetchall()}
        start = monday - pd.Timedelta(weeks=history_weeks - 1)
        con.execute("""CREATE OR REPLACE TEMP TABLE _kw AS
            SELECT keyword, CAST(date_diff('day', CAST(? AS DATE),
                       CAST(date_trunc('week', date) AS DATE)) / 7 AS INTEGER) AS wi,
                   avg(search_popularity) AS level, sum(search_popularity) AS idx_sum,
                   count(search_popularity) AS days
            FROM keywords
            WHERE category = ? AND date >= ? AND date <= ? AND search_popularity IS NOT NULL
            GROUP BY ALL""", [start.date(), category, start.date(), sunday.date()])
        terms = np.array([r[0] for r in con.execute(
            "SELECT DISTINCT keyword FROM _kw ORDER BY keyword").fetchall()], dtype=object)
        cells = con.execute("""SELECT t.ti, k.wi, k.level, k.idx_sum, k.days FROM _kw k
            JOIN (SELECT keyword, row_number() OVER (ORDER BY keyword) - 1 AS ti
                  FROM (SELECT DISTINCT keyword FROM _kw)) t USING (keyword)""").fetchnumpy()
        have = [c for c in OPTIONAL_COLUMNS if c in cols]
        agg = ", ".join(
            f"arg_max({c}, date) FILTER (WHERE {c} IS NOT NULL) AS {c}" if c == "online_items"
            else f"avg({c}) AS {c}" for c in have)
        attrs = con.execute(f"""SELECT keyword {', ' + agg if agg else ''} FROM keywords
            WHERE category = ? AND date >= ? AND date <= ? GROUP BY keyword""",
                            [category, monday.date(), sunday.date()]).df()
        con.execute("DROP TABLE _kw")
    finally:
        con.close()
    n = len(terms)
    first = int(cells["wi"].min()) if n else history_weeks - 1
    m = history_weeks - first
    level = np.full((n, m), np.nan)
    index_sum = np.zeros((n, m))
    days = np.zeros((n, m), dtype=np.int16)
    ti, wi = cells["ti"].astype(np.int64), cells["wi"].astype(np.int64) - first
    level[ti, wi] = cells["level"]
    index_sum[ti, wi] = cells["idx_sum"]
    days[ti, wi] = cells["days"]
    attrs = attrs.set_index("keyword").reindex(pd.Index(terms, name="keyword"))
    for c in OPTIONAL_COLUMNS:
        if c not in attrs:
            attrs[c] = np.nan
    attrs = attrs[OPTIONAL_COLUMNS].astype(float)
    available = [c for c in OPTIONAL_COLUMNS if attrs[c].notna().any()]
    weeks = pd.date_range(start + pd.Timedelta(weeks=first), monday, freq="7D")
    return WeeklyPanel(terms, weeks, level, index_sum, days, attrs, available, category, week)


def load_listings(source: str | os.PathLike[str] | pd.DataFrame | None, category: str,
                  week: str) -> pd.DataFrame:
    """The category's listings (``title``, ``shop``, one row per distinct pair) on snapshots up to
    the study week's Sunday, for recognising brands; empty when the source is a frame of keyword
    rows or the warehouse has no ``items`` table (or no ``title`` column).
    """
    empty = pd.DataFrame({"title": pd.Series(dtype=object), "shop": pd.Series(dtype=object)})
    if isinstance(source, pd.DataFrame) or not category or not week:
        return empty
    _, sunday = week_bounds(week)
    con = _connect(source)
    try:
        tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
        if "items" not in tables:
            return empty
        cols = {r[0] for r in con.execute("DESCRIBE items").fetchall()}
        if not {"title", "shop", "category", "snapshot_date"} <= cols:
            return empty
        return con.execute("""SELECT DISTINCT title, shop FROM items
            WHERE category = ? AND snapshot_date <= ? AND title IS NOT NULL
            ORDER BY shop, title""", [category, sunday.date()]).df()
    finally:
        con.close()
