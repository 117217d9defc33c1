"""Market overview: the category's trend, its leaders, best-sellers, who buys, when and where.

The first step of the planning cycle (研究行业数据). Everything is computed from the canonical
tables ``market_daily``, ``audience`` and ``items`` up to the Sunday of the study week (no
later data is read). Snapshot aggregations over ``items`` run in DuckDB SQL, so the overview
of millions of listings never materialises them in pandas; every function also accepts plain
DataFrames (tests, public-data adapters).

Result tables (the CSVs the report writes; columns):

``market_trend.csv`` — one row per ISO week up to the study week.
    week, week_start, days (days with data), trade_index_mean (weekly **mean of the daily**
    交易指数, an index), visitors_avg_daily (average daily UV — weekly UV is not the sum of
    daily UV), buyers_avg_daily (average daily paying buyers), conversion (Σ buyers / Σ daily
    UV), search_popularity_mean, items_online_mean, orders_sum and payment_amount_sum (real
    counts/money where the source has them), ``<metric>_chg_4w`` / ``<metric>_chg_52w``
    (ratio to the same metric 4 / 52 weeks earlier, minus one), week_num (ISO week number)
    and seasonal_index (the headline metric's week-of-year level relative to its 52-week mean,
    averaged over the years available; > 1 means the week carries the category).
``leaders.csv`` — top-N shops per snapshot.
    snapshot_date, rank, shop, items, sales_30d, revenue_30d, sales_share, revenue_share,
    sales_share_change (percentage points × 0.01 against the previous snapshot; NaN on the
    first), revenue_share_change.
``concentration.csv`` — per snapshot: shops, cr3, cr10 (share of 30-day units of the top 3 /
    10 shops), hhi (Σ share², 0–10,000 scale, on units), cr3_revenue, cr10_revenue,
    hhi_revenue, and their changes against the previous snapshot.
``bestsellers.csv`` — the fastest-growing items between the last two snapshots.
    item_id, shop, title, price, price_band, sales_30d, prev_sales_30d, growth
    (sales_30d / prev_sales_30d − 1; NaN for new items), status ("growing" / "new"), rank.
``bestseller_profile.csv`` — attribute, value, bestseller_share, base_share (share of the
    category's listings in the latest snapshot), lift (ratio of the two).
``audience.csv`` — snapshot_date, prev_snapshot_date, dimension, segment, share, prev_share,
    change (share − prev_share), buyers (where known).
``peak_hours.csv`` — weekday (1 = Monday … 7 = Sunday), hour (0–23), share (of buyers or
    orders in that hour of that weekday; sums to one), method ("joint" from timestamps or
    "product of marginals").
``regions.csv`` — level (province / city), rank, segment, share, prev_share, change,
    prev_rank.

Examples
--------
>>> import pandas as pd
>>> shops = pd.DataFrame({"snapshot_date": pd.to_datetime(["2026-11-22"] * 3),
...                       "shop": ["a", "b", "c"], "items": [1, 1, 1],
...                       "sales_30d": [50, 30, 20], "revenue_30d": [500.0, 300.0, 200.0]})
>>> concentration(shops)[["cr3", "hhi"]].round(1).to_dict("records")
[{'cr3': 1.0, 'hhi': 3800.0}]
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from research.checks import CheckFailed, shares_sum_to_one
from research.schema import AUDIENCE_DIMENSIONS, TABLES
from research.weeks import iso_week, last_complete_week, week_bounds, week_start

__all__ = [
    "MarketOverview",
    "ATTRIBUTES",
    "audience_shares_sum_to_one",
    "weekly_trend",
    "seasonal_shape",
    "carrying_weeks",
    "concentration_direction",
    "year_over_year",
    "shop_snapshots",
    "leaders",
    "concentration",
    "rising_leader",
    "bestsellers",
    "bestseller_profile",
    "price_band_edges",
    "audience_changes",
    "gender_age",
    "hour_weekday",
    "hour_weekday_joint",
    "peak_hour",
    "region_ranking",
    "audience_from_orders",
    "market_overview",
    "resolve_week",
]

#: attribute columns of ``items`` compared between best-sellers and the category
ATTRIBUTES = ("price_band", "material", "color", "size", "function", "style", "leaf_category",
              "is_tmall")

#: exported percentages are rounded (12.34 %): a dimension's shares may miss 1 by this much
SHARE_TOLERANCE = 0.005

_TREND_METRICS = {
    # column: (aggregate over the week's days, output name)
    "trade_index": ("mean", "trade_index_mean"),
    "visitors": ("mean", "visitors_avg_daily"),
    "buyers": ("mean", "buyers_avg_daily"),
    "search_popularity": ("mean", "search_popularity_mean"),
    "items_online": ("mean", "items_online_mean"),
    "orders": ("sum", "orders_sum"),
    "payment_amount": ("sum", "payment_amount_sum"),
}
_HEADLINE = ("trade_index_mean", "payment_amount_sum", "orders_sum", "buyers_avg_daily",
             "visitors_avg_daily")

_WEEKDAYS = {"周一": 1, "周二": 2, "周三": 3, "周四": 4, "周五": 5, "周六": 6, "周日": 7,
             "周天": 7, "星期一": 1, "星期二": 2, "星期三": 3, "星期四": 4, "星期五": 5,
             "星期六": 6, "星期日": 7, "星期天": 7, "mon": 1, "tue": 2, "wed": 3, "thu": 4,
             "fri": 5, "sat": 6, "sun": 7}

Source = pd.DataFrame | str | os.PathLike[str]


# ----------------------------------------------------------------------------- checks

def audience_shares_sum_to_one(audience: pd.DataFrame, tol: float = SHARE_TOLERANCE) -> None:
    """Named check: within each snapshot × dimension the buyer shares sum to one.

    Parameters
    ----------
    audience : DataFrame
        Canonical ``audience`` rows (snapshot_date, dimension, share, ...).
    tol : float
        Allowed gap, for exports that round each percentage to two decimals.

    Raises
    ------
    CheckFailed
        Naming the snapshot and dimension whose shares do not sum to one (for example a
        top-10 province export, which leaves out the other provinces).
    """
    try:
        shares_sum_to_one(audience, "share", by=["snapshot_date", "dimension"], tol=tol)
    except CheckFailed as exc:
        raise CheckFailed(f"audience_shares_sum_to_one: {exc}") from None


# ----------------------------------------------------------------------------- trend

def resolve_week(week: str, dates: Sequence[Any] | pd.Series) -> str:
    """Return ``week`` or, when empty, the last complete ISO week in ``dates``."""
    if week:
        week_bounds(week)  # validates
        return week
    dates = pd.Series(pd.to_datetime(pd.Series(dates))).dropna()
    if dates.empty:
        raise ValueError("no dates in the data to choose a study week from; pass week=")
    return last_complete_week(dates)


def weekly_trend(market_daily: pd.DataFrame, until: pd.Timestamp | str | None = None,
                 category: str | None = None) -> pd.DataFrame:
    """Aggregate ``market_daily`` to ISO weeks with 4- and 52-week changes.

    Indices are averaged over the week's days (never summed), visitors and buyers are average
    daily values; only real counts (``orders``, ``payment_amount``) are summed.

    Parameters
    ----------
    market_daily : DataFrame
        Canonical rows; missing optional columns are skipped.
    until : date, optional
        Last day used (the Sunday of the study week).
    category : str, optional
        Keep only this category.

    Returns
    -------
    DataFrame
        See ``market_trend.csv`` in the module docstring (without the seasonal columns).
    """
    frame = market_daily.copy()
    frame["date"] = pd.to_datetime(frame["date"])
    if category and "category" in frame:
        frame = frame[frame["category"] == category]
    if until is not None:
        frame = frame[frame["date"] <= pd.Timestamp(until)]
    metrics = [c for c in _TREND_METRICS if c in frame and frame[c].notna().any()]
    if frame.empty or not metrics:
        return pd.DataFrame(columns=["week", "week_start", "days"])
    # several categories on one day would be indices of different things: one row a day
    daily = frame.groupby("date", as_index=False)[metrics].mean() if category else \
        frame.groupby("date", as_index=False)[metrics].agg(
            {m: _TREND_METRICS[m][0] for m in metrics})
    daily["week_start"] = week_start(daily["date"])
    agg = {_TREND_METRICS[m][1]: (m, _TREND_METRICS[m][0]) for m in metrics}
    out = daily.groupby("week_start").agg(days=("date", "nunique"), **agg)
    if {"visitors", "buyers"} <= set(metrics):
        sums = daily.groupby("week_start")[["buyers", "visitors"]].sum()
        out["conversion"] = sums["buyers"] / sums["visitors"].where(sums["visitors"] > 0)
    full = pd.date_range(out.index.min(), out.index.max(), freq="7D")
    out = out.reindex(full)
    out.index.name = "week_start"
    for name in [_TREND_METRICS[m][1] for m in metrics]:
        for lag in (4, 52):
            before = out[name].shift(lag)
            out[f"{name}_chg_{lag}w"] = out[name] / before.where(before > 0) - 1
    out = out[out["days"].notna()].reset_index()
    out["days"] = out["days"].astype(int)
    out.insert(0, "week", [iso_week(d) for d in out["week_start"]])
    out["week_num"] = [d.isocalendar().week for d in out["week_start"]]
    return out


def _headline(trend: pd.DataFrame) -> str | None:
    return next((c for c in _HEADLINE if c in trend and trend[c].notna().any()), None)


def seasonal_shape(trend: pd.DataFrame, metric: str | None = None,
                   min_weeks: int = 40) -> pd.DataFrame:
    """Which weeks of the year carry the category.

    The trend is cut into 52-week windows ending at its last week (this year, last year, …);
    within a window each week's value is divided by the window's mean, and the ratios are
    averaged by ISO week number over the windows. Windows with fewer than ``min_weeks`` weeks
    of data are left out (a partial year would bias its mean).

    Returns
    -------
    DataFrame
        week_num, seasonal_index, years (windows averaged).
    """
    metric = metric or _headline(trend)
    if metric is None or trend.empty:
        return pd.DataFrame(columns=["week_num", "seasonal_index", "years"])
    frame = trend[["week_start", "week_num", metric]].dropna()
    last = frame["week_start"].max()
    frame = frame.assign(window=((last - frame["week_start"]).dt.days // 7) // 52)
    sizes = frame.groupby("window")[metric].transform("size")
    frame = frame[sizes >= min_weeks]
    if frame.empty:
        return pd.DataFrame(columns=["week_num", "seasonal_index", "years"])
    means = frame.groupby("window")[metric].transform("mean")
    frame = frame.assign(ratio=frame[metric] / means.where(means > 0))
    out = frame.groupby("week_num").agg(seasonal_index=("ratio", "mean"),
                                        years=("window", "nunique")).reset_index()
    return out


def carrying_weeks(seasonal: pd.DataFrame, threshold: float = 1.1, limit: int = 8
                   ) -> pd.DataFrame:
    """The weeks of the year whose seasonal index is at least ``threshold``, strongest first.

    Examples
    --------
    >>> shape = pd.DataFrame({"week_num": [45, 46, 47], "seasonal_index": [1.2, 2.0, 0.9]})
    >>> carrying_weeks(shape)["week_num"].tolist()
    [46, 45]
    """
    if seasonal.empty:
        return seasonal
    strong = seasonal[seasonal["seasonal_index"] >= threshold]
    return strong.sort_values("seasonal_index", ascending=False).head(limit).reset_index(drop=True)


def year_over_year(trend: pd.DataFrame, week: str, metric: str | None = None) -> pd.DataFrame:
    """This (ISO) year against last year by week number, for one chart.

    Returns
    -------
    DataFrame
        week_num, this_year, last_year (the metric's weekly value; this year only up to
        ``week``), with the two years as ``attrs["years"]``.
    """
    metric = metric or _headline(trend)
    year = int(week[:4])
    out = pd.DataFrame({"week_num": range(1, 54)})
    if metric is None or trend.empty:
        out["this_year"], out["last_year"] = np.nan, np.nan
    else:
        years = trend["week"].str[:4].astype(int)
        for col, y in (("this_year", year), ("last_year", year - 1)):
            part = trend.loc[years == y, ["week_num", metric]].set_index("week_num")[metric]
            out[col] = out["week_num"].map(part)
    out = out.dropna(how="all", subset=["this_year", "last_year"])
    out.attrs["years"] = (year, year - 1)
    out.attrs["metric"] = metric
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------------- items (SQL)

@contextmanager
def _items_source(items: Source, category: str | None,
                  until: pd.Timestamp | None) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    """Yield an in-memory DuckDB connection with a view ``src`` of the category's listings.

    A DataFrame is registered as is (missing canonical columns become NULL); a path is
    attached read-only, so temporary tables live in memory and the warehouse is untouched.
    """
    con = duckdb.connect()
    try:
        if isinstance(items, pd.DataFrame):
            frame = items.copy()
            for col in TABLES["items"].names:
                if col not in frame:
                    frame[col] = None
            con.register("_items_frame", frame)
            base = "_items_frame"
        else:
            path = Path(items)
            if not path.exists():
                raise FileNotFoundError(f"warehouse {path} does not exist")
            con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS wh (READ_ONLY)")
            base = "wh.items"
        conds, params = ["TRUE"], []
        if category:
            conds.append("category = ?")
            params.append(category)
        if until is not None:
            conds.append("CAST(snapshot_date AS DATE) <= CAST(? AS DATE)")
            params.append(pd.Timestamp(until).date())
        where = " AND ".join(conds)
        # parameters cannot be bound in a view definition: inline them as literals
        for p in params:
            where = where.replace("?", "'" + str(p).replace("'", "''") + "'", 1)
        con.execute(f"""CREATE TEMP VIEW src AS
            SELECT * REPLACE (CAST(snapshot_date AS DATE) AS snapshot_date,
                              coalesce(revenue_30d, price * sales_30d) AS revenue_30d)
            FROM {base} WHERE {where}""")
        yield con, "src"
    finally:
        con.close()


def _snapshots(con: duckdb.DuckDBPyConnection) -> list[pd.Timestamp]:
    rows = con.execute("SELECT DISTINCT snapshot_date FROM src ORDER BY 1").fetchall()
    return [pd.Timestamp(r[0]) for r in rows]


def shop_snapshots(items: Source, until: Any = None, category: str | None = None) -> pd.DataFrame:
    """Sum the listings to shops for every snapshot (in DuckDB).

    Returns
    -------
    DataFrame
        snapshot_date, shop, items, sales_30d (units in the 30 days before the snapshot),
        revenue_30d (``revenue_30d`` where exported, else price × sales_30d).
    """
    until = pd.Timestamp(until) if until is not None else None
    with _items_source(items, category, until) as (con, _):
        return _shop_snapshots(con)


def _shop_snapshots(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    frame = con.execute("""SELECT snapshot_date, shop, count(*) AS items,
                   sum(sales_30d) AS sales_30d, sum(revenue_30d) AS revenue_30d
            FROM src GROUP BY 1, 2 ORDER BY 1, 4 DESC, 2""").df()
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"])
    frame["items"] = frame["items"].astype("int64")
    frame["sales_30d"] = frame["sales_30d"].astype("float64")
    return frame


def _with_shares(shops: pd.DataFrame) -> pd.DataFrame:
    out = shops.copy()
    for col, share in (("sales_30d", "sales_share"), ("revenue_30d", "revenue_share")):
        total = out.groupby("snapshot_date")[col].transform("sum")
        out[share] = out[col] / total.where(total > 0)
    return out


def leaders(shops: pd.DataFrame, top_n: int = 10) -> pd.DataFrame:
    """Top shops by 30-day units on each snapshot, with their shares and share changes.

    A shop's change is against its own share in the previous snapshot (0 if it had no
    listings there); NaN on the first snapshot.

    Examples
    --------
    >>> shops = pd.DataFrame({"snapshot_date": pd.to_datetime(["2026-11-15"] * 2 + ["2026-11-22"] * 2),
    ...     "shop": ["a", "b", "a", "b"], "items": [1, 1, 1, 1], "sales_30d": [60, 40, 50, 50],
    ...     "revenue_30d": [6.0, 4.0, 5.0, 5.0]})
    >>> leaders(shops, 1)[["shop", "sales_share", "sales_share_change"]].round(2).to_dict("records")
    [{'shop': 'a', 'sales_share': 0.6, 'sales_share_change': nan}, {'shop': 'a', 'sales_share': 0.5, 'sales_share_change': -0.1}]
    """
    cols = ["snapshot_date", "rank", "shop", "items", "sales_30d", "revenue_30d", "sales_share",
            "revenue_share", "sales_share_change", "revenue_share_change"]
    if shops.empty:
        return pd.DataFrame(columns=cols)
    shared = _with_shares(shops)
    dates = sorted(shared["snapshot_date"].unique())
    shared["prev_date"] = shared["snapshot_date"].map(dict(zip(dates[1:], dates[:-1],
                                                               strict=False)))
    shared = shared.sort_values(["snapshot_date", "sales_30d", "revenue_30d", "shop"],
                                ascending=[True, False, False, True])
    shared["rank"] = shared.groupby("snapshot_date").cumcount() + 1
    prev = shared[["snapshot_date", "shop", "sales_share", "revenue_share"]].rename(
        columns={"snapshot_date": "prev_date", "sales_share": "prev_sales",
                 "revenue_share": "prev_revenue"})
    top = shared[shared["rank"] <= top_n].merge(prev, on=["prev_date", "shop"], how="left")
    first = top["prev_date"].isna()
    for share, before in (("sales_share", "prev_sales"), ("revenue_share", "prev_revenue")):
        # a shop with no listings on the previous snapshot had a share of zero there
        top[f"{share}_change"] = (top[share] - top[before].fillna(0.0)).where(~first)
    return top[cols].reset_index(drop=True)


def concentration(shops: pd.DataFrame) -> pd.DataFrame:
    """CR3, CR10 and HHI of 30-day units (and of revenue) per snapshot.

    CRk is the share of the k largest shops; HHI is the sum of squared shares on the
    0–10,000 scale (10,000 = one shop). Rising values mean the category is concentrating.
    """
    rows = []
    for date, part in shops.groupby("snapshot_date"):
        row: dict[str, Any] = {"snapshot_date": date, "shops": int((part["sales_30d"] > 0).sum())}
        for col, suffix in (("sales_30d", ""), ("revenue_30d", "_revenue")):
            values = part[col].astype(float).sort_values(ascending=False)
            total = values.sum()
            shares = values / total if total > 0 else values * np.nan
            row[f"cr3{suffix}"] = shares.head(3).sum(min_count=1)
            row[f"cr10{suffix}"] = shares.head(10).sum(min_count=1)
            row[f"hhi{suffix}"] = float((shares ** 2).sum(min_count=1) * 10_000)
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    for col in ("cr3", "cr10", "hhi", "cr3_revenue", "cr10_revenue", "hhi_revenue"):
        out[f"{col}_change"] = out[col].diff()
    return out


def concentration_direction(conc: pd.DataFrame, min_change: float = 0.10) -> str | None:
    """Say whether the category is concentrating, from the first to the last snapshot's HHI.

    A relative move of the HHI smaller than ``min_change`` (10 %; a workbench choice — a
    fixed number of HHI points would call a fragmented market's doubling "stable") is
    "stable". ``None`` with fewer than two snapshots.

    Examples
    --------
    >>> concentration_direction(pd.DataFrame({"hhi": [133.0, 206.0]}))
    'concentrating'
    >>> concentration_direction(pd.DataFrame({"hhi": [1500.0, 1550.0]}))
    'stable'
    """
    if len(conc) < 2:
        return None
    first, last = float(conc["hhi"].iloc[0]), float(conc["hhi"].iloc[-1])
    if not first > 0 or abs(last / first - 1) < min_change:
        return "stable"
    return "concentrating" if last > first else "fragmenting"


def rising_leader(shops: pd.DataFrame, top_n: int = 10) -> dict[str, Any] | None:
    """The leader whose share of 30-day units rose most from the first to the last snapshot.

    Candidates are the shops in the top ``top_n`` of either snapshot. Returns ``None`` with
    fewer than two snapshots.
    """
    dates = sorted(shops["snapshot_date"].unique())
    if len(dates) < 2:
        return None
    shared = _with_shares(shops)
    first, last = (shared[shared["snapshot_date"] == d].set_index("shop") for d in
                   (dates[0], dates[-1]))
    cands = set(first.nlargest(top_n, "sales_30d").index) | set(
        last.nlargest(top_n, "sales_30d").index)
    change = {s: float(last["sales_share"].get(s, 0.0)) - float(first["sales_share"].get(s, 0.0))
              for s in cands}
    shop = max(sorted(change), key=lambda s: change[s])
    return {"shop": shop, "from": pd.Timestamp(dates[0]), "to": pd.Timestamp(dates[-1]),
            "share_from": float(first["sales_share"].get(shop, 0.0)),
            "share_to": float(last["sales_share"].get(shop, 0.0)), "change": change[shop]}


def price_band_edges(prices: pd.Series | Sequence[float]) -> list[float]:
    """Round band edges at the category's price quintiles.

    Each quintile is rounded down to a round price point (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or
    8 × a power of ten) so
    the analyst reads ¥50–100 rather than ¥47.3–98.1. This is a workbench choice.

    Examples
    --------
    >>> price_band_edges([12, 25, 40, 60, 80, 120, 150, 200, 300, 500])
    [30.0, 60.0, 120.0, 200.0]
    """
    values = pd.Series(prices, dtype="float64").dropna()
    if values.empty:
        return []
    edges = []
    for q in values.quantile([0.2, 0.4, 0.6, 0.8]):
        edges.append(_round_price(float(q)))
    return sorted({e for e in edges if e > 0})


def _round_price(x: float) -> float:
    if x <= 0:
        return 0.0
    mag = 10 ** np.floor(np.log10(x))
    steps = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]
    return float(max(s * mag for s in steps if s * mag <= x * 1.0000001))


def _band_labels(edges: Sequence[float]) -> list[str]:
    points = [0.0, *edges]
    labels = [f"{points[i]:g}–{points[i + 1]:g}" for i in range(len(points) - 1)]
    return [*labels, f"≥{points[-1]:g}"]


def _band_sql(edges: Sequence[float], column: str = "price") -> str:
    labels = _band_labels(edges)
    if not edges:
        return f"'{labels[0]}'"
    parts = [f"WHEN {column} < {e!r} THEN '{label}'" for e, label in zip(edges, labels,
                                                                          strict=False)]
    return "CASE " + " ".join(parts) + f" ELSE '{labels[-1]}' END"


def _present_attributes(con: duckdb.DuckDBPyConnection, snapshot: pd.Timestamp) -> list[str]:
    cols = [a for a in ATTRIBUTES if a != "price_band"]
    counts = con.execute(
        "SELECT " + ", ".join(f'count("{c}")' for c in cols) +
        " FROM src WHERE snapshot_date = ?", [snapshot.date()]).fetchone()
    return [c for c, n in zip(cols, counts, strict=True) if n]


def bestsellers(items: Source, until: Any = None, category: str | None = None,
                min_sales: int = 100, top: int = 30) -> dict[str, Any]:
    """Items whose 30-day sales grew fastest between the last two snapshots.

    ``sales_30d`` is a rolling 30-day window, so the growth compares two overlapping windows
    (metrics.md): it is not daily or weekly sales, and with snapshots a week apart three
    quarters of each window is shared. Items need ``sales_30d ≥ min_sales`` on the latest
    snapshot; items with no sales (or no listing) on the previous one are "new" and ranked
    after the growing ones by their sales.

    Returns
    -------
    dict
        ``table`` (see ``bestsellers.csv``), ``profile`` (see ``bestseller_profile.csv``),
        ``snapshot``, ``prev_snapshot``, ``eligible`` (items meeting the minimum),
        ``edges`` (price band edges).
    """
    until = pd.Timestamp(until) if until is not None else None
    with _items_source(items, category, until) as (con, _):
        return _bestsellers(con, _snapshots(con), min_sales, top)


def _bestsellers(con: duckdb.DuckDBPyConnection, dates: list[pd.Timestamp], min_sales: int,
                 top: int) -> dict[str, Any]:
    empty = pd.DataFrame(columns=["rank", "item_id", "shop", "title", "price", "price_band",
                                  "sales_30d", "prev_sales_30d", "growth", "status"])
    out: dict[str, Any] = {"table": empty, "profile": pd.DataFrame(
        columns=["attribute", "value", "bestseller_share", "base_share", "lift"]),
        "snapshot": dates[-1] if dates else None,
        "prev_snapshot": dates[-2] if len(dates) > 1 else None, "eligible": 0, "edges": []}
    if len(dates) < 2:
        return out
    cur, prev = dates[-1].date(), dates[-2].date()
    edges = [float(e) for e in (con.execute(
        "SELECT quantile_cont(price, [0.2, 0.4, 0.6, 0.8]) FROM src WHERE snapshot_date = ?",
        [cur]).fetchone()[0] or [])]
    edges = sorted({_round_price(e) for e in edges if e and e > 0})
    out["edges"] = edges
    band = _band_sql(edges)
    attrs = _present_attributes(con, dates[-1])
    sel_attrs = "".join(f', "{a}"' for a in attrs)
    # growth on item ids and units only (the CTE is materialised once, the previous snapshot
    # is filtered to the eligible ids); details are fetched for the listed items alone
    con.execute("""CREATE OR REPLACE TEMP TABLE _best AS
        WITH c AS MATERIALIZED (SELECT item_id, sales_30d FROM src
                                WHERE snapshot_date = ? AND sales_30d >= ?),
        p AS (SELECT item_id, sum(sales_30d) AS prev_sales_30d FROM src
              WHERE snapshot_date = ? AND item_id IN (SELECT item_id FROM c) GROUP BY 1)
        SELECT c.item_id, c.sales_30d, p.prev_sales_30d,
               CASE WHEN coalesce(p.prev_sales_30d, 0) > 0
                    THEN c.sales_30d / p.prev_sales_30d - 1 END AS growth,
               CASE WHEN coalesce(p.prev_sales_30d, 0) > 0 THEN 'growing' ELSE 'new' END
                   AS status
        FROM c LEFT JOIN p USING (item_id)""", [cur, min_sales, prev])
    out["eligible"] = int(con.execute("SELECT count(*) FROM _best").fetchone()[0])
    ranked = con.execute("""SELECT * FROM _best
        ORDER BY growth IS NULL, growth DESC, sales_30d DESC, item_id LIMIT ?""", [top]).df()
    ids = ranked["item_id"].tolist()
    details = con.execute(f"""SELECT item_id, shop, title, price, {band} AS price_band{sel_attrs}
        FROM src WHERE snapshot_date = ? AND list_contains(?, item_id)""", [cur, ids]).df()
    details = details.drop_duplicates("item_id")
    table = ranked.merge(details, on="item_id", how="left")[
        ["item_id", "shop", "title", "price", "price_band", "sales_30d", "prev_sales_30d",
         *attrs, "growth", "status"]]
    con.execute("DROP TABLE IF EXISTS _best")
    table.insert(0, "rank", range(1, len(table) + 1))
    out["table"] = table
    if not table.empty:
        out["profile"] = _profile(con, table, ["price_band", *attrs], band, cur)
    return out


def _profile(con: duckdb.DuckDBPyConnection, best: pd.DataFrame, attrs: list[str],
             band: str, snapshot: Any) -> pd.DataFrame:
    """Base rates of every attribute on the latest snapshot in one scan (grouping sets)."""
    exprs = ", ".join((f"{band} AS price_band" if a == "price_band"
                       else f'CAST("{a}" AS VARCHAR) AS "{a}"') for a in attrs)
    sets = ", ".join(f'("{a}")' for a in attrs)
    flags = ", ".join(f'GROUPING("{a}") AS "_g_{a}"' for a in attrs)
    base_all = con.execute(f"""SELECT {", ".join(f'"{a}"' for a in attrs)}, {flags},
            count(*) AS n
        FROM (SELECT {exprs} FROM src WHERE snapshot_date = ?)
        GROUP BY GROUPING SETS ({sets})""", [snapshot]).df()
    rows = []
    for attr in attrs:
        base = base_all.loc[base_all[f"_g_{attr}"] == 0, [attr, "n"]].rename(
            columns={attr: "value"})
        base["base_share"] = base["n"] / base["n"].sum()
        values = best[attr].astype("string")
        if attr == "is_tmall":
            values = values.str.lower()
        shares = (values.value_counts(dropna=False) / len(best)).rename(
            "bestseller_share").reset_index()
        shares.columns = ["value", "bestseller_share"]
        merged = shares.astype({"value": "string"}).merge(
            base[["value", "base_share"]].astype({"value": "string"}), on="value", how="outer")
        merged["bestseller_share"] = merged["bestseller_share"].fillna(0.0)
        merged["lift"] = merged["bestseller_share"] / merged["base_share"].where(
            merged["base_share"] > 0)
        merged.insert(0, "attribute", attr)
        rows.append(merged)
    return bestseller_profile(pd.concat(rows, ignore_index=True))


def bestseller_profile(profile: pd.DataFrame) -> pd.DataFrame:
    """Order a profile so the values best-sellers over-represent come first per attribute."""
    return profile.sort_values(["attribute", "lift", "bestseller_share"],
                               ascending=[True, False, False], na_position="last"
                               ).reset_index(drop=True)


# ----------------------------------------------------------------------------- audience

def _latest_two(audience: pd.DataFrame, until: Any) -> tuple[pd.DataFrame, Any, Any]:
    frame = audience.copy()
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"])
    if until is not None:
        frame = frame[frame["snapshot_date"] <= pd.Timestamp(until)]
    dates = sorted(frame["snapshot_date"].unique())
    cur = pd.Timestamp(dates[-1]) if dates else None
    prev = pd.Timestamp(dates[-2]) if len(dates) > 1 else None
    return frame, cur, prev


def audience_changes(audience: pd.DataFrame, until: Any = None,
                     category: str | None = None) -> pd.DataFrame:
    """Shares of the latest audience snapshot per dimension, and the move since the previous.

    Runs :func:`audience_shares_sum_to_one` on every snapshot used. ``prev_snapshot_date`` is
    the previous snapshot of the same dimension (a dimension may be exported less often).

    Returns
    -------
    DataFrame
        See ``audience.csv`` in the module docstring.
    """
    cols = ["snapshot_date", "prev_snapshot_date", "dimension", "segment", "share",
            "prev_share", "change", "buyers"]
    frame = audience
    if category and "category" in frame:
        frame = frame[frame["category"] == category]
    frame, _, _ = _latest_two(frame, until)
    if frame.empty:
        return pd.DataFrame(columns=cols)
    if "buyers" not in frame:
        frame = frame.assign(buyers=np.nan)
    frame = frame.assign(segment=frame["segment"].astype("string"))
    out = []
    for dim, part in frame.groupby("dimension", sort=False):
        dates = sorted(part["snapshot_date"].unique())
        cur = part[part["snapshot_date"] == dates[-1]]
        prev = part[part["snapshot_date"] == dates[-2]] if len(dates) > 1 else part.iloc[:0]
        audience_shares_sum_to_one(pd.concat([cur, prev]))
        merged = cur[["segment", "share", "buyers"]].merge(
            prev[["segment", "share"]].rename(columns={"share": "prev_share"}), on="segment",
            how="outer")
        merged["share"] = merged["share"].fillna(0.0)
        if len(dates) > 1:
            merged["prev_share"] = merged["prev_share"].fillna(0.0)
        merged["change"] = merged["share"] - merged["prev_share"]
        merged["snapshot_date"] = pd.Timestamp(dates[-1])
        merged["prev_snapshot_date"] = pd.Timestamp(dates[-2]) if len(dates) > 1 else pd.NaT
        merged["dimension"] = dim
        out.append(merged.sort_values("share", ascending=False))
    return pd.concat(out, ignore_index=True)[cols]


def gender_age(changes: pd.DataFrame) -> dict[str, Any]:
    """Gender and age of buyers: the joint table if the data has one, else the two marginals.

    The platform exports gender and age as separate distributions (the ``audience`` table has
    no joint dimension), so no gender × age cross table is derived: multiplying the marginals
    would assume age does not depend on gender.

    Returns
    -------
    dict
        ``joint`` (None), ``gender`` and ``age`` (rows of :func:`audience_changes`, may be
        empty), ``note`` (what could be shown).
    """
    parts = {d: changes[changes["dimension"] == d] for d in ("gender", "age")}
    have = [d for d, p in parts.items() if not p.empty]
    if len(have) == 2:
        text = ("Only marginal shares exist (gender and age separately); no gender × age "
                "table is shown because the data has no joint distribution.")
    elif have:
        text = f"Only the {have[0]} distribution is in the data; the other is missing."
    else:
        text = "The data has neither a gender nor an age distribution of buyers."
    return {"joint": None, **parts, "note": text}


def _hour(segment: Any) -> float:
    text = str(segment).strip()
    digits = ""
    for ch in text:
        if ch.isdigit():
            digits += ch
        elif digits:
            break
    return float(int(digits)) if digits and int(digits) < 24 else np.nan


def _weekday(segment: Any) -> float:
    text = str(segment).strip().lower()
    if text.isdigit():
        n = int(text)
        return float(7 if n == 0 else n) if 0 <= n <= 7 else np.nan
    for name, n in _WEEKDAYS.items():
        if text.startswith(name):
            return float(n)
    return np.nan


def hour_weekday(changes: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """Hour × weekday shares from the hour and weekday marginals of the latest snapshot.

    **Assumption:** with only the two marginals, the joint share is their product
    (``share(hour) × share(weekday)``): the hour profile is taken to be the same on every
    weekday. Returns an empty frame and a sentence when a marginal is missing.
    """
    hours = changes[changes["dimension"] == "hour"]
    days = changes[changes["dimension"] == "weekday"]
    missing = [d for d, p in (("hour", hours), ("weekday", days)) if p.empty]
    if missing:
        return (pd.DataFrame(columns=["weekday", "hour", "share", "method"]),
                f"No {' and no '.join(missing)} distribution of buyers in the data: "
                "the hour × weekday heatmap cannot be drawn.")
    h = hours.assign(hour=hours["segment"].map(_hour)).dropna(subset=["hour"]).groupby(
        "hour")["share"].sum()
    d = days.assign(weekday=days["segment"].map(_weekday)).dropna(subset=["weekday"]).groupby(
        "weekday")["share"].sum()
    grid = pd.DataFrame([(int(wd), int(hr), float(sw * sh)) for wd, sw in d.items()
                         for hr, sh in h.items()], columns=["weekday", "hour", "share"])
    grid["method"] = "product of marginals"
    return grid, None


def hour_weekday_joint(timestamps: pd.Series) -> pd.DataFrame:
    """The real hour × weekday distribution of orders from their timestamps.

    Returns
    -------
    DataFrame
        weekday (1 = Monday), hour, share (of orders; all 7 × 24 cells), method "joint".
    """
    ts = pd.to_datetime(pd.Series(timestamps)).dropna()
    counts = pd.crosstab((ts.dt.day_of_week + 1).rename("weekday"), ts.dt.hour.rename("hour"))
    counts = counts.reindex(index=range(1, 8), columns=range(24), fill_value=0)
    long = counts.stack().rename("n").reset_index()
    long.columns = ["weekday", "hour", "n"]
    long["share"] = long["n"] / max(int(long["n"].sum()), 1)
    long["method"] = "joint"
    return long[["weekday", "hour", "share", "method"]].astype(
        {"weekday": "int64", "hour": "int64"})


def peak_hour(grid: pd.DataFrame) -> int | None:
    """The hour of the day with the largest share of buyers (summed over weekdays)."""
    if grid.empty:
        return None
    return int(grid.groupby("hour")["share"].sum().idxmax())


def region_ranking(changes: pd.DataFrame, top: int | None = None) -> pd.DataFrame:
    """Rank provinces and cities by share of buyers, with the change and the previous rank.

    Returns
    -------
    DataFrame
        See ``regions.csv`` in the module docstring.
    """
    out = []
    for level in ("province", "city"):
        part = changes[changes["dimension"] == level].copy()
        if part.empty:
            continue
        part = part.sort_values(["share", "segment"], ascending=[False, True])
        part["rank"] = range(1, len(part) + 1)
        prev = part.dropna(subset=["prev_share"])
        prev = prev[prev["prev_share"] > 0].sort_values(["prev_share", "segment"],
                                                        ascending=[False, True])
        part["prev_rank"] = part["segment"].map(
            dict(zip(prev["segment"], range(1, len(prev) + 1), strict=True)))
        part["level"] = level
        out.append(part.head(top) if top else part)
    cols = ["level", "rank", "segment", "share", "prev_share", "change", "prev_rank"]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


def audience_from_orders(orders: pd.DataFrame, category: str, snapshot_date: Any,
                         dimensions: Sequence[str] = ("province", "city", "hour", "weekday")
                         ) -> pd.DataFrame:
    """Build canonical ``audience`` rows from order-level data (public datasets).

    Parameters
    ----------
    orders : DataFrame
        One row per order with ``timestamp`` and any of ``province``, ``city``.
    category, snapshot_date
        Written into the rows.

    Returns
    -------
    DataFrame
        snapshot_date, category, dimension, segment, share (of orders), buyers (order count).
    """
    ts = pd.to_datetime(orders["timestamp"])
    keys = {"province": orders.get("province"), "city": orders.get("city"),
            "hour": ts.dt.hour.astype("string"), "weekday": (ts.dt.day_of_week + 1).astype("string")}
    rows = []
    for dim in dimensions:
        col = keys.get(dim)
        if col is None:
            continue
        counts = pd.Series(col).dropna().astype("string").value_counts()
        rows.append(pd.DataFrame({"dimension": dim, "segment": counts.index.astype(str),
                                  "buyers": counts.to_numpy(),
                                  "share": counts.to_numpy() / counts.sum()}))
    out = pd.concat(rows, ignore_index=True)
    out.insert(0, "category", category)
    out.insert(0, "snapshot_date", pd.Timestamp(snapshot_date))
    return out


# ----------------------------------------------------------------------------- overview

@dataclass
class MarketOverview:
    """Everything the market overview report shows, for one category and study week."""

    category: str
    week: str
    week_end: pd.Timestamp
    trend: pd.DataFrame
    seasonal: pd.DataFrame
    yoy: pd.DataFrame
    shops: pd.DataFrame
    leaders: pd.DataFrame
    concentration: pd.DataFrame
    rising: dict[str, Any] | None
    best: dict[str, Any]
    audience: pd.DataFrame
    gender_age: dict[str, Any]
    peak_hours: pd.DataFrame
    regions: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def results(self) -> dict[str, pd.DataFrame]:
        """The result tables by CSV name."""
        trend = self.trend
        if not self.seasonal.empty and not trend.empty:
            trend = trend.merge(self.seasonal[["week_num", "seasonal_index"]], on="week_num",
                                how="left")
        return {"market_trend": trend, "leaders": self.leaders,
                "concentration": self.concentration, "bestsellers": self.best["table"],
                "bestseller_profile": self.best["profile"], "audience": self.audience,
                "peak_hours": self.peak_hours, "regions": self.regions}


def _read_frame(source: Source | None, table: str, category: str) -> pd.DataFrame:
    if source is None:
        return pd.DataFrame(columns=TABLES[table].names)
    if isinstance(source, pd.DataFrame):
        return source
    from research.warehouse import read

    return read(table, source, category=category or None)


def market_overview(*, warehouse: Source | None = None, category: str = "", week: str = "",
                    market_daily: pd.DataFrame | None = None,
                    audience: pd.DataFrame | None = None, items: Source | None = None,
                    top_n: int = 10, min_sales: int = 100, top_best: int = 30,
                    joint_timestamps: pd.Series | None = None) -> MarketOverview:
    """Compute the whole market overview for one category and study week.

    Parameters
    ----------
    warehouse : path-like, optional
        Read any table not given as a frame from this warehouse (items stay in DuckDB).
    category : str
        The category studied; empty = every row.
    week : str
        ISO week; empty = the last complete week of ``market_daily`` (else of ``items``).
    market_daily, audience, items : DataFrame, optional
        Canonical frames (e.g. from a public-data adapter) instead of the warehouse.
    top_n : int
        Leaders shown per snapshot.
    min_sales : int
        Minimum 30-day units of a best-seller on the latest snapshot.
    top_best : int
        Best-sellers listed.
    joint_timestamps : Series, optional
        Order timestamps; when given the hour × weekday heatmap is their real joint
        distribution instead of the product of the marginals.
    """
    market = _read_frame(market_daily if market_daily is not None else warehouse,
                         "market_daily", category)
    aud = _read_frame(audience if audience is not None else warehouse, "audience", category)
    item_src = items if items is not None else warehouse
    notes: list[str] = []
    if not week:
        dates = market["date"] if not market.empty else None
        if dates is None and item_src is not None:
            with _items_source(item_src, category or None, None) as (con, _):
                dates = pd.Series(_snapshots(con))
        week = resolve_week("", dates if dates is not None else [])
    _, week_end = week_bounds(week)

    trend = weekly_trend(market, week_end, category or None)
    if trend.empty:
        notes.append("No market_daily rows for this category up to the study week: the "
                     "market trend cannot be shown.")
    seasonal = seasonal_shape(trend)
    if not trend.empty and seasonal.empty:
        notes.append("Less than 40 weeks of market data: no seasonal shape.")
    yoy = year_over_year(trend, week)

    if item_src is not None:
        with _items_source(item_src, category or None, week_end) as (con, _):
            dates = _snapshots(con)
            shops = _shop_snapshots(con)
            best = _bestsellers(con, dates, min_sales, top_best)
    else:
        shops = pd.DataFrame(columns=["snapshot_date", "shop", "items", "sales_30d",
                                      "revenue_30d"])
        best = _bestsellers(duckdb.connect(), [], min_sales, top_best)
    if shops.empty:
        notes.append("No listings (items) for this category up to the study week: no "
                     "leaders or best-sellers.")
    elif shops["snapshot_date"].nunique() < 2:
        notes.append("Only one listing snapshot: no share changes and no best-seller growth.")
    lead = leaders(shops, top_n)
    conc = concentration(shops)
    rising = rising_leader(shops, top_n)

    changes = audience_changes(aud, week_end, category or None)
    have = set(changes["dimension"]) if not changes.empty else set()
    lacking = [d for d in AUDIENCE_DIMENSIONS if d not in have]
    if lacking:
        notes.append("The audience data has no " + ", ".join(lacking) +
                     " distribution: those parts of the report are not shown.")
    ga = gender_age(changes)
    if joint_timestamps is not None:
        ts = pd.to_datetime(pd.Series(joint_timestamps))
        grid = hour_weekday_joint(ts[ts <= week_end + pd.Timedelta(days=1)])
    else:
        grid, why = hour_weekday(changes)
        if why:
            notes.append(why)
    regions = region_ranking(changes)
    return MarketOverview(category, week, week_end, trend, seasonal, yoy, shops, lead, conc,
                          rising, best, changes, ga, grid, regions, notes)
