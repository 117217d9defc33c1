"""Price bands (价格带): where a category's listings and money sit over price, which bands are
crowded or underserved, where our shop and competitors stand, and what price to set.

Everything heavy runs in DuckDB SQL over the ``items`` table (or a registered DataFrame):
cleaning, banding (a ``CASE`` ladder on the edges) and every per-band aggregate, so 20 million
listing rows take seconds. pandas only sees the small per-band results.

Workbench choices (each is stated in the report beside its number)
------------------------------------------------------------------
- **Bands** are right-closed: the band ``29–39`` holds prices above 29 up to and including 39;
  the first band is ``≤e1`` and the last ``>en``. Automatic edges cluster the study
  snapshot's prices on the ladder of round price points: each round point inside the price
  range starts as an edge, and the lightest band (by the larger of its listing and units
  share) is merged into its lighter neighbour until at most ``n_bands`` remain, each holding
  ≥ 3 % of listings or of units (:func:`auto_edges`). :func:`snap_to_round` snaps any value
  (e.g. a quantile) to the same ladder. Round points are ``m·10^k − 1`` for ``m`` in 10, 13,
  16, 20, 30, 40, 50, 60, 80 (…29, 39, 49, 59, 79, 99, 129, 159, 199, 299 … 1,299), ``− 0.1``
  up to 10 (2.9, 9.9), and one unit of the third significant digit from 10,000 up (12,900,
  399,000 — rupiah and rupee prices). Explicit ``edges`` override them.
- **Revenue** is ``revenue_30d`` where the listing has it, else ``price × sales_30d``.
- **Demand per listing** = the band's units share ÷ its listing share (sales per listing
  relative to the category; 1 = average, 2 = twice the category's sales per listing).
- **Concentration** is measured on band revenue: ``top3_shop_share`` is the share of the
  band's revenue held by its three largest shops; ``hhi`` is the Herfindahl-Hirschman index
  of shop revenue shares on the **0–10,000** scale (10,000 = one shop).
- **Trick prices** are excluded before banding: price ≤ ``placeholder_max`` (1 unit of the
  currency: 0.01 / 1 元 "拍下改价" placeholders), titles naming a deposit or a price-change
  link (:data:`TRICK_KEYWORDS`), and absurd outliers: ``ln(price)`` outside
  ``[Q1 − k·IQR, Q3 + k·IQR]`` of its snapshot (``k = 3``). Listings with zero sales are kept:
  they are supply.
- **Price point** in a band: the units-weighted median price of the band's listings, taken
  down to the nearest price ending in 9 at its third significant digit (47.3 → 46.9,
  137 → 129), and raised to the first such point above the band's lower edge if it falls
  below it. **Margin** = (price point − unit cost) / price point.
- A snapshot with fewer than :data:`MIN_LISTINGS` clean listings is warned about, not charted.

Result columns
--------------
``price_bands.csv`` (:func:`band_metrics`), one row per band per snapshot:
snapshot_date, band, band_label, price_lo, price_hi, listings, listing_share, units,
units_share, revenue, revenue_share, revenue_computed_listings (revenue taken as price ×
units), shops, top3_shop_share, hhi (0–10,000), median_sales_30d, zero_sales_listings,
tmall_share (share of listings that are Tmall), demand_per_listing (units share ÷ listing
share), revenue_per_listing_index (revenue share ÷ listing share), median_price,
units_weighted_median_price, flag, currency.

``price_recommendation.csv`` (:func:`recommend_price`), one row per band of the study
snapshot, best first: rank, role (recommended / runner-up / not eligible), band, band_label,
price_lo, price_hi, demand_per_listing, units_share, revenue_share, listings, price_point,
unit_cost, margin, share_ok, margin_ok, reason, currency.

``price_positions.csv`` (:func:`price_positions`): snapshot_date, role (ours / competitor),
shop, item_id, title, price, sales_30d, revenue, band, band_label, band_demand_per_listing,
currency.

Examples
--------
>>> snap_to_round([31, 47, 140])
[29.0, 49.0, 129.0]
>>> band_labels([29, 39])
['≤29', '29–39', '>39']
>>> round(hhi([50, 30, 20]), 6), round(top_share([50, 30, 20, 0], 3), 6)
(3800.0, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

from research.checks import shares_sum_to_one
from research.display import fmt_money

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "MIN_LISTINGS", "TRICK_KEYWORDS", "round_points", "snap_to_round", "auto_edges",
    "band_labels", "assign_bands", "hhi", "top_share", "price_point", "weighted_quantile",
    "items_source", "detect_trick_prices", "price_histogram", "band_metrics", "band_shares_sum_to_one",
    "band_movement", "price_positions", "recommend_price", "price_distribution",
    "PriceStudy", "analyse_prices", "price_quantiles", "resolve_snapshot", "order_value_distribution",
    "our_shop_from_sales", "price_study", "positions_summary", "plot_distribution", "plot_bands", "plot_movement",
]

#: fewer clean listings than this in a snapshot → a warning instead of a chart
MIN_LISTINGS = 30
#: title words of deposit / price-change / make-up links (拍下改价, 定金 …)
TRICK_KEYWORDS = ("拍下改价", "改价", "定金", "订金", "预付金", "补差价", "差价", "补拍", "专拍",
                  "补运费", "邮费补", "不发货", "deposit", "price difference")
_MANTISSAS = (10, 13, 16, 20, 30, 40, 50, 60, 80)


# ----------------------------------------------------------------------------- edges
def round_points(lo: float = 0.5, hi: float = 1e7) -> np.ndarray:
    """Return the round price points between ``lo`` and ``hi`` (…29, 39, 49, 59, 79, 99, 129…).

    Examples
    --------
    >>> round_points(20, 200).tolist()
    [29.0, 39.0, 49.0, 59.0, 79.0, 99.0, 129.0, 159.0, 199.0]
    >>> round_points(5000, 500_000).tolist()[::4]
    [5999.0, 15900.0, 49900.0, 129000.0, 399000.0]
    """
    pts = []
    for k in range(-2, 9):
        for m in _MANTISSAS:
            base = m * 10.0 ** k
            if base <= 10:
                step = 0.1 * 10.0 ** min(k + 1, 0)
            elif base < 10_000:
                step = 1.0
            else:
                step = 10.0 ** (math.floor(math.log10(base)) - 2)
            pts.append(round(base - step, 4))
    arr = np.unique(np.array([p for p in pts if p > 0]))
    return arr[(arr >= lo) & (arr <= hi)]


def snap_to_round(values: Sequence[float] | np.ndarray) -> list[float]:
    """Snap each value to the nearest round price point on a log scale."""
    pts = round_points()
    logp = np.log(pts)
    out = []
    for v in np.asarray(values, dtype=float):
        if not np.isfinite(v) or v <= 0:
            continue
        out.append(float(pts[int(np.argmin(np.abs(logp - math.log(v))))]))
    return out


def weighted_quantile(values: np.ndarray, weights: np.ndarray | None,
                      qs: Sequence[float]) -> np.ndarray:
    """Quantiles of ``values`` with ``weights`` (the lowest value whose cumulative weight
    reaches ``q`` of the total); unweighted when ``weights`` is None.

    Examples
    --------
    >>> weighted_quantile(np.array([10., 20., 30.]), np.array([1., 1., 8.]), [0.5]).tolist()
    [30.0]
    """
    values = np.asarray(values, dtype=float)
    if weights is None:
        weights = np.ones_like(values)
    weights = np.asarray(weights, dtype=float)
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    if not len(values):
        return np.full(len(qs), np.nan)
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    idx = np.searchsorted(cum, np.asarray(qs) * cum[-1] - 1e-9 * cum[-1], side="left")
    return values[order][np.clip(idx, 0, len(values) - 1)]


def auto_edges(prices: Sequence[float] | np.ndarray, units: Sequence[float] | None = None,
               n_bands: int = 8, min_share: float = 0.03,
               counts: Sequence[float] | None = None) -> list[float]:
    """Choose interior band edges from the data, at round price points.

    Adjacent clustering on the round-point ladder: every round point strictly inside the
    price range (:func:`round_points`) starts as an edge; then, while there are more than
    ``n_bands`` bands or a band holds less than ``min_share`` of both listings and units, the
    band with the smallest weight (the larger of its listing and units share) is merged into
    its lighter neighbour. A band with few listings but many sales (underserved) is heavy by
    units and so survives.

    Examples
    --------
    >>> auto_edges([20, 25, 33, 45, 48, 55, 70, 90, 120, 150], n_bands=4)
    [39.0, 49.0, 79.0]
    """
    p = np.asarray(prices, dtype=float)
    c = np.ones_like(p) if counts is None else np.asarray(counts, dtype=float)
    u = c.copy() if units is None else np.nan_to_num(np.asarray(units, dtype=float))
    keep = np.isfinite(p) & (p > 0) & (c > 0)
    p, u, c = p[keep], u[keep], c[keep]
    if c.sum() < 2 or p.min() == p.max():
        return []
    edges = [e for e in round_points(p.min(), p.max()).tolist() if p.min() < e < p.max()]
    idx = np.searchsorted(np.asarray(edges), p, side="left")
    n = np.bincount(idx, weights=c, minlength=len(edges) + 1).astype(float)
    w_units = np.bincount(idx, weights=u, minlength=len(edges) + 1)
    n, w_units = list(n / n.sum()), list(w_units / w_units.sum() if w_units.sum() > 0 else n)
    while len(edges):
        weight = np.maximum(n, w_units)
        i = int(np.argmin(weight))
        if len(weight) <= n_bands and weight[i] >= min_share:
            break
        if i == 0:
            j = 1
        elif i == len(weight) - 1:
            j = i - 1
        else:
            j = i - 1 if weight[i - 1] <= weight[i + 1] else i + 1
        lo, hi = min(i, j), max(i, j)
        n[lo:hi + 1] = [n[lo] + n[hi]]
        w_units[lo:hi + 1] = [w_units[lo] + w_units[hi]]
        del edges[lo]
    return [float(e) for e in edges]


#: an explicit edge at or above this is a sentinel for "no upper bound" and is dropped
_NO_UPPER = 1e9


def _clean_edges(edges: Sequence[float]) -> list[float]:
    """Interior edges: sorted, unique, > 0; 0, infinity and sentinels ≥ 1e9 dropped."""
    return sorted({float(e) for e in edges
                   if e is not None and np.isfinite(e) and 0 < float(e) < _NO_UPPER})


def _fmt_edge(x: float) -> str:
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def band_labels(edges: Sequence[float]) -> list[str]:
    """Labels of the bands cut by interior ``edges`` (right-closed: ``29–39`` is (29, 39])."""
    e = _clean_edges(edges)
    if not e:
        return ["all prices"]
    inner = [f"{_fmt_edge(a)}–{_fmt_edge(b)}" for a, b in zip(e, e[1:], strict=False)]
    return [f"≤{_fmt_edge(e[0])}"] + inner + [f">{_fmt_edge(e[-1])}"]


def assign_bands(prices: Sequence[float] | np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Band index of each price (0 = ``≤e1``), right-closed, via ``np.searchsorted``.

    Examples
    --------
    >>> assign_bands([10, 29, 29.01, 39, 500], [29, 39]).tolist()
    [0, 0, 1, 1, 2]
    """
    return np.searchsorted(np.asarray(_clean_edges(edges)), np.asarray(prices, dtype=float),
                           side="left")


def _band_bounds(edges: Sequence[float]) -> tuple[list[float], list[float]]:
    e = _clean_edges(edges)
    return [0.0] + e, e + [math.inf]


# ----------------------------------------------------------------------------- metrics
def hhi(values: Sequence[float], scale: float = 10_000) -> float:
    """Herfindahl-Hirschman index of the shares of ``values`` (0–10,000 by default)."""
    v = np.asarray(values, dtype=float)
    total = v.sum()
    return float("nan") if total <= 0 else float(((v / total) ** 2).sum() * scale)


def top_share(values: Sequence[float], n: int = 3) -> float:
    """Share of the total held by the ``n`` largest values."""
    v = np.sort(np.asarray(values, dtype=float))[::-1]
    total = v.sum()
    return float("nan") if total <= 0 else float(v[:n].sum() / total)


def price_point(median: float, lo: float, hi: float) -> float:
    """The recommended price point in band (lo, hi] (see the module's stated rule).

    Examples
    --------
    >>> price_point(47.3, 39, 49), price_point(137, 99, 159), price_point(39.2, 39, 49)
    (46.9, 129.0, 39.9)
    """
    if not np.isfinite(median) or median <= 0:
        return float("nan")
    unit = 10.0 ** (math.floor(math.log10(median)) - 2)
    point = (math.floor((median + unit) / (10 * unit)) * 10 - 1) * unit
    if point <= lo:
        point = (math.floor(lo / (10 * unit) + 1e-9) * 10 + 9) * unit
        if point <= lo:
            point += 10 * unit
    if np.isfinite(hi) and point > hi:
        point = hi
    return round(point, 6)


# ----------------------------------------------------------------------------- sources
def items_source(items: pd.DataFrame | str, con: duckdb.DuckDBPyConnection | None = None,
                 *, category: str | None = None,
                 until: str | pd.Timestamp | None = None) -> tuple[duckdb.DuckDBPyConnection, str]:
    """Expose listings to DuckDB as the temp view ``_px_src`` with the canonical columns.

    Parameters
    ----------
    items : DataFrame or str
        Canonical ``items`` rows, or the name of a relation on ``con`` holding them (e.g.
        ``"wh.items"`` after ``ATTACH 'warehouse.duckdb' AS wh (READ_ONLY)``).
    con : duckdb connection, optional
        A new in-memory connection when omitted.
    category : str, optional
        Keep only this category.
    until : date, optional
        Keep only snapshots on or before this date (no peeking past the study week).

    Returns
    -------
    (connection, "_px_src")
    """
    con = con or duckdb.connect()
    if isinstance(items, pd.DataFrame):
        con.register("_px_frame", items)
        items = "_px_frame"
    have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {items}").fetchall()}

    def col(name: str, sql_type: str) -> str:
        return f'CAST("{name}" AS {sql_type})' if name in have else f"CAST(NULL AS {sql_type})"

    conds = []  # a view cannot take bound parameters: literals, quotes doubled
    if category:
        conds.append("category = " + _literal(category))
    if until is not None:
        conds.append(f"CAST(snapshot_date AS DATE) <= DATE '{pd.Timestamp(until).date()}'")
    where = ("WHERE " + " AND ".join(conds)) if conds else ""
    sql = f"""SELECT CAST(snapshot_date AS DATE) AS snapshot_date, CAST(item_id AS VARCHAR) AS item_id,
        CAST(shop AS VARCHAR) AS shop, {col('title', 'VARCHAR')} AS title,
        CAST(price AS DOUBLE) AS price, CAST(sales_30d AS DOUBLE) AS sales_30d,
        {col('revenue_30d', 'DOUBLE')} AS revenue_30d, {col('is_tmall', 'BOOLEAN')} AS is_tmall,
        {col('currency', 'VARCHAR')} AS currency
        FROM {items} {where}"""
    con.execute(f"CREATE OR REPLACE TEMP VIEW _px_src AS {sql}")
    return con, "_px_src"


def _literal(text: object) -> str:
    return "'" + str(text).replace("'", "''") + "'"


_REASONS = {1: "no price (≤ 0)", 2: "placeholder price (≤ {ph:g})",
             3: "deposit / price-change link (title)", 4: "outlier: ln(price) > Q3 + {k:g}·IQR",
             5: "outlier: ln(price) < Q1 − {k:g}·IQR"}


def _rule_code(placeholder_max: float, keywords: Sequence[str]) -> str:
    # ASCII words match case-insensitively; RE2 on the raw title (no lower(): 2× faster)
    words = "|".join(("(?i:" + kw + ")") if kw.isascii() else kw for kw in keywords)
    title = (f"WHEN title IS NOT NULL AND regexp_matches(title, {_literal(words)}) THEN 3"
             if words else "")
    return f"""CASE WHEN price IS NULL OR price <= 0 THEN 1
                    WHEN price <= {float(placeholder_max)} THEN 2
                    {title} ELSE 0 END"""


def detect_trick_prices(con: duckdb.DuckDBPyConnection, source: str = "_px_src", *,
                        placeholder_max: float = 1.0, k: float = 3.0,
                        keywords: Sequence[str] = TRICK_KEYWORDS) -> str:
    """Flag trick prices; return the name of the view of clean listings, ``_px_clean``.

    Rules, in order: no price (≤ 0); placeholder price ≤ ``placeholder_max``; a title naming
    a deposit / price-change link (:data:`TRICK_KEYWORDS`); ``ln(price)`` outside
    ``[Q1 − k·IQR, Q3 + k·IQR]`` of its snapshot's rule-clean listings (IQR floored at 0.1;
    only with ≥ 8 listings).

    One pass over ``source`` materialises the narrow temp table ``_px_all`` (shop as a
    64-bit hash, a rule code; item, title and shop text only on rule-flagged rows), so 20
    million rows stay well under a gigabyte;
    ``_px_q`` holds each snapshot's log-price fences. Views on top: ``_px_codes`` (every
    row with its final ``code``, 0 = clean), ``_px_clean`` (clean rows, with ``shop_h``,
    ``price``, ``sales_30d``, ``revenue`` = revenue_30d else price × sales_30d,
    ``revenue_computed``, ``is_tmall``), and ``_px_flagged`` (the source's columns plus
    ``trick_reason``; it re-reads titles, so query it only for few rows).
    """
    rule = _rule_code(placeholder_max, keywords)
    # text columns are kept only for the few rule-flagged rows (the excluded list)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _px_all AS
        SELECT snapshot_date, shop_h, price, sales_30d, revenue, revenue_computed, is_tmall,
               code, CASE WHEN code > 0 THEN item_id END AS item_id,
               CASE WHEN code > 0 THEN title END AS title,
               CASE WHEN code > 0 THEN shop END AS shop
        FROM (SELECT snapshot_date, item_id, title, shop, hash(shop) AS shop_h, price,
                     sales_30d, coalesce(revenue_30d, price * sales_30d) AS revenue,
                     revenue_30d IS NULL AS revenue_computed, is_tmall,
                     CAST({rule} AS TINYINT) AS code
              FROM {source})""")
    con.execute(f"CREATE OR REPLACE TEMP MACRO _px_rule(price, title) AS {rule}")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _px_q AS
        SELECT snapshot_date, count(*) AS n,
               CASE WHEN count(*) >= 8 THEN quantile_cont(ln(price), 0.75)
                    + {k} * greatest(quantile_cont(ln(price), 0.75)
                                     - quantile_cont(ln(price), 0.25), 0.1) END AS hi,
               CASE WHEN count(*) >= 8 THEN quantile_cont(ln(price), 0.25)
                    - {k} * greatest(quantile_cont(ln(price), 0.75)
                                     - quantile_cont(ln(price), 0.25), 0.1) END AS lo
        FROM _px_all WHERE code = 0 GROUP BY snapshot_date""")
    final = """CASE WHEN a.code > 0 THEN a.code WHEN ln(a.price) > q.hi THEN 4
                    WHEN ln(a.price) < q.lo THEN 5 ELSE 0 END"""
    # outliers are few: mark them in place, so the clean view needs no join
    con.execute("""UPDATE _px_all a SET code = CASE WHEN ln(a.price) > q.hi THEN 4 ELSE 5 END
        FROM _px_q q WHERE a.snapshot_date = q.snapshot_date AND a.code = 0
          AND (ln(a.price) > q.hi OR ln(a.price) < q.lo)""")
    con.execute("CREATE OR REPLACE TEMP VIEW _px_codes AS SELECT * FROM _px_all")
    con.execute("CREATE OR REPLACE TEMP VIEW _px_clean AS SELECT * FROM _px_all WHERE code = 0")
    reason = "CASE code " + " ".join(
        f"WHEN {c} THEN {_literal(t.format(ph=placeholder_max, k=k))}"
        for c, t in _REASONS.items()) + " END"
    final_s = final.replace("a.code", "s.code").replace("a.price", "s.price")
    con.execute(f"""CREATE OR REPLACE TEMP VIEW _px_flagged AS
        SELECT * EXCLUDE (fc), {reason.replace('code', 'fc')} AS trick_reason FROM (
            SELECT s.* EXCLUDE (code), {final_s} AS fc
            FROM (SELECT *, {rule} AS code FROM {source}) s
            LEFT JOIN _px_q q USING (snapshot_date))""")
    con.execute(f"CREATE OR REPLACE TEMP MACRO _px_reason(code) AS {reason}")
    return "_px_clean"


def _band_case(edges: Sequence[float], column: str = "price") -> str:
    e = _clean_edges(edges)
    if not e:
        return "0"
    whens = " ".join(f"WHEN {column} <= {x!r} THEN {i}" for i, x in enumerate(e))
    return f"CASE {whens} ELSE {len(e)} END"


def price_histogram(con: duckdb.DuckDBPyConnection, clean: str = "_px_clean") -> pd.DataFrame:
    """Clean listings aggregated per snapshot and price: listings ``n``, units ``u``, revenue
    ``r``, revenue-computed ``rc``, zero-sales ``z``, Tmall ``tm`` (of ``tn`` known).

    Every band metric but shops, concentration and median sales is a sum over this table, so
    the listings are scanned once for them whatever the edges.
    """
    frame = con.execute(f"""SELECT snapshot_date, price, count(*) AS n, sum(sales_30d) AS u,
            sum(revenue) AS r, count(*) FILTER (WHERE revenue_computed) AS rc,
            count(*) FILTER (WHERE sales_30d = 0) AS z,
            sum(CAST(is_tmall AS DOUBLE)) AS tm, count(is_tmall) AS tn
        FROM {clean} GROUP BY ALL ORDER BY snapshot_date, price""").df()
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"])
    return frame


def _hist_median(values: np.ndarray, counts: np.ndarray) -> float:
    """Median of values repeated ``counts`` times, interpolated as ``quantile_cont(0.5)``."""
    total = counts.sum()
    if total <= 0:
        return float("nan")
    cum = np.cumsum(counts)
    pos = (total - 1) / 2
    lo = values[np.searchsorted(cum, math.floor(pos) + 1)]
    hi = values[np.searchsorted(cum, math.ceil(pos) + 1)]
    return float(lo + (hi - lo) * (pos - math.floor(pos)))


def _per_band(hist: pd.DataFrame, edges: Sequence[float]) -> pd.DataFrame:
    h = hist.assign(band=assign_bands(hist["price"], edges))
    agg = h.groupby(["snapshot_date", "band"]).agg(
        listings=("n", "sum"), units=("u", "sum"), revenue=("r", "sum"),
        revenue_computed_listings=("rc", "sum"), zero_sales_listings=("z", "sum"),
        tm=("tm", "sum"), tn=("tn", "sum"))
    agg["tmall_share"] = agg["tm"] / agg["tn"].where(agg["tn"] > 0)
    med, wmed = {}, {}
    for key, g in h.groupby(["snapshot_date", "band"], sort=False):
        price, n, u = g["price"].to_numpy(), g["n"].to_numpy(), g["u"].to_numpy()
        med[key] = _hist_median(price, n)
        wmed[key] = weighted_quantile(price, u, [0.5])[0]
    agg["median_price"] = pd.Series(med)
    agg["units_weighted_median_price"] = pd.Series(wmed)
    return agg.drop(columns=["tm", "tn"])


def band_metrics(con: duckdb.DuckDBPyConnection, edges: Sequence[float], *,
                 clean: str = "_px_clean", currency: str = "CNY",
                 strong_share: float = 0.15, thin_share: float = 0.03,
                 hist: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per band per snapshot metrics of the clean listings (columns: module docstring).

    Every band of every snapshot is present, empty ones with zero listings. ``flag`` marks an
    empty or thin band (listing share < ``thin_share``) next to a strong one (units share ≥
    ``strong_share``). Calls :func:`band_shares_sum_to_one`. ``hist`` is
    :func:`price_histogram` when already computed.
    """
    case = _band_case(edges)
    los, his = _band_bounds(edges)
    labels = band_labels(edges)
    hist = price_histogram(con, clean) if hist is None else hist
    sums = _per_band(hist, edges)
    conc = con.execute(f"""SELECT snapshot_date, band, count(*) AS shops,
            list_sum(max(r, 3)) / nullif(sum(r), 0) AS top3_shop_share,
            CASE WHEN sum(r) > 0 THEN 10000 * sum(r * r) / (sum(r) * sum(r)) END AS hhi
        FROM (SELECT snapshot_date, {case} AS band, shop_h, sum(revenue) AS r
              FROM {clean} GROUP BY ALL) GROUP BY ALL""").df()
    sales = con.execute(f"""SELECT snapshot_date, {case} AS band, sales_30d, count(*) AS n
        FROM {clean} GROUP BY ALL ORDER BY ALL""").df()
    meds = {(pd.Timestamp(k[0]), int(k[1])): _hist_median(g["sales_30d"].to_numpy(),
                                                          g["n"].to_numpy())
            for k, g in sales.groupby(["snapshot_date", "band"], sort=False)}
    conc["snapshot_date"] = pd.to_datetime(conc["snapshot_date"])
    conc["band"] = conc["band"].astype(int)
    frame = sums.join(conc.set_index(["snapshot_date", "band"]), how="left").reset_index()
    frame["median_sales_30d"] = [meds.get((d, b), np.nan)
                                 for d, b in zip(frame["snapshot_date"], frame["band"],
                                                 strict=True)]
    snaps = sorted(con.execute("SELECT DISTINCT snapshot_date FROM _px_all").df()
                   ["snapshot_date"].pipe(pd.to_datetime))
    grid = pd.MultiIndex.from_product([snaps, range(len(labels))], names=["snapshot_date", "band"])
    frame["band"] = frame["band"].astype(int)
    out = frame.set_index(["snapshot_date", "band"]).reindex(grid).reset_index()
    for c in ("listings", "units", "revenue", "revenue_computed_listings", "shops",
              "zero_sales_listings"):
        out[c] = out[c].fillna(0)
    for c in ("listings", "revenue_computed_listings", "shops", "zero_sales_listings"):
        out[c] = out[c].astype("int64")
    out["band_label"] = [labels[b] for b in out["band"]]
    out["price_lo"] = [los[b] for b in out["band"]]
    out["price_hi"] = [his[b] for b in out["band"]]
    g = out.groupby("snapshot_date")
    for what in ("listings", "units", "revenue"):
        total = g[what].transform("sum")
        out[f"{'listing' if what == 'listings' else what}_share"] = out[what] / total.where(total > 0)
    ls = out["listing_share"].where(out["listing_share"] > 0)
    out["demand_per_listing"] = out["units_share"] / ls
    out["revenue_per_listing_index"] = out["revenue_share"] / ls
    out["flag"] = _flags(out, strong_share, thin_share)
    out["currency"] = currency
    band_shares_sum_to_one(out)
    return out[_BAND_COLS].sort_values(["snapshot_date", "band"]).reset_index(drop=True)


def _flags(out: pd.DataFrame, strong_share: float, thin_share: float) -> list[str]:
    flags = []
    by = {(s, b): r for s, b, r in zip(out["snapshot_date"], out["band"],
                                       out.itertuples(index=False), strict=True)}
    for row in out.itertuples(index=False):
        if row.listings == 0:
            kind = "empty"
        elif row.listing_share < thin_share:
            kind = "thin"
        else:
            flags.append("")
            continue
        strong = [by[(row.snapshot_date, nb)].band_label for nb in (row.band - 1, row.band + 1)
                  if (row.snapshot_date, nb) in by
                  and (by[(row.snapshot_date, nb)].units_share or 0) >= strong_share]
        flags.append(f"{kind} band next to strong band {' & '.join(strong)}" if strong
                     else f"{kind} band")
    return flags


def band_shares_sum_to_one(bands: pd.DataFrame) -> None:
    """Named check: listing, units and revenue shares each sum to one per snapshot."""
    for col in ("listing_share", "units_share", "revenue_share"):
        shares_sum_to_one(bands, col, by=["snapshot_date"])


# ----------------------------------------------------------------------------- movement
def band_movement(bands: pd.DataFrame) -> pd.DataFrame:
    """Units and revenue share of each band on the first and last snapshot, and the change.

    Returns an empty frame when there are fewer than two snapshots (the report says so).
    Shares use 30-day sales on each snapshot; snapshots closer than 30 days overlap.
    """
    cols = ["band", "band_label", "first_snapshot", "last_snapshot", "units_share_first",
            "units_share_last", "units_share_change", "revenue_share_first",
            "revenue_share_last", "revenue_share_change", "listing_share_change", "direction"]
    snaps = sorted(bands["snapshot_date"].unique())
    if len(snaps) < 2:
        return pd.DataFrame(columns=cols)
    first = bands[bands["snapshot_date"] == snaps[0]].set_index("band")
    last = bands[bands["snapshot_date"] == snaps[-1]].set_index("band")
    out = pd.DataFrame({"band": last.index, "band_label": last["band_label"].to_numpy()})
    out["first_snapshot"], out["last_snapshot"] = snaps[0], snaps[-1]
    for what in ("units_share", "revenue_share"):
        out[f"{what}_first"] = first[what].reindex(last.index).to_numpy()
        out[f"{what}_last"] = last[what].to_numpy()
        out[f"{what}_change"] = out[f"{what}_last"] - out[f"{what}_first"]
    out["listing_share_change"] = (last["listing_share"] - first["listing_share"]
                                   .reindex(last.index)).to_numpy()
    ch = out["units_share_change"]
    out["direction"] = np.where(ch > 0.005, "gaining", np.where(ch < -0.005, "losing", "flat"))
    return out[cols]


# ----------------------------------------------------------------------------- positions
def price_positions(con: duckdb.DuckDBPyConnection, edges: Sequence[float], snapshot: object,
                    *, shop: str = "", competitors: Sequence[str] = (), top_n: int = 5,
                    bands: pd.DataFrame | None = None, clean: str = "_px_clean",
                    currency: str = "CNY") -> pd.DataFrame:
    """Our shop's and competitors' clean listings on the study snapshot, with their band.

    Competitors default to the ``top_n`` shops by revenue on the snapshot, other than ours.
    """
    day = str(pd.Timestamp(snapshot).date())
    comps = [c for c in competitors if c and c != shop]
    if not comps:
        top = con.execute(
            f"""SELECT shop_h, sum(revenue) AS r FROM {clean} WHERE snapshot_date = ?
                AND shop_h IS DISTINCT FROM hash(?) GROUP BY shop_h ORDER BY r DESC, shop_h
                LIMIT ?""", [day, shop, int(top_n)]).df()
        if len(top):
            names = con.execute(
                f"""SELECT DISTINCT shop, hash(shop) AS h FROM _px_src WHERE snapshot_date = ?
                    AND hash(shop) IN ({', '.join(str(int(h)) for h in top['shop_h'])})""",
                [day]).df()
            by_hash = dict(zip(names["h"].astype("uint64"), names["shop"], strict=True))
            comps = [by_hash[h] for h in top["shop_h"].astype("uint64") if h in by_hash]
    shops = ([shop] if shop else []) + comps
    cols = ["snapshot_date", "role", "shop", "item_id", "title", "price", "sales_30d", "revenue",
            "band", "band_label", "band_demand_per_listing", "currency"]
    if not shops:
        return pd.DataFrame(columns=cols)
    marks = ", ".join("?" for _ in shops)
    frame = con.execute(
        f"""SELECT snapshot_date, shop, item_id, title, price, sales_30d,
                   coalesce(revenue_30d, price * sales_30d) AS revenue FROM _px_flagged
            WHERE trick_reason IS NULL AND snapshot_date = ? AND shop IN ({marks})
            ORDER BY shop, revenue DESC, item_id""", [day, *shops]).df()
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"])
    frame["role"] = np.where(frame["shop"] == shop, "ours", "competitor")
    frame["band"] = assign_bands(frame["price"], edges)
    labels = band_labels(edges)
    frame["band_label"] = [labels[b] for b in frame["band"]]
    dpl = {}
    if bands is not None:
        latest = bands[bands["snapshot_date"] == pd.Timestamp(snapshot)]
        dpl = dict(zip(latest["band"], latest["demand_per_listing"], strict=True))
    frame["band_demand_per_listing"] = frame["band"].map(dpl).astype(float)
    frame["currency"] = currency
    order = {s: i for i, s in enumerate(shops)}
    frame = frame.sort_values(["shop", "revenue"], ascending=[True, False],
                              key=lambda s: s.map(order) if s.name == "shop" else s)
    return frame[cols].reset_index(drop=True)


def positions_summary(positions: pd.DataFrame) -> pd.DataFrame:
    """Per shop of :func:`price_positions`: role, listings, 30-day units and revenue, median
    price, and the band holding most of its units (ties: the lower band)."""
    cols = ["role", "shop", "listings", "units", "revenue", "median_price", "main_band"]
    if positions.empty:
        return pd.DataFrame(columns=cols)
    g = positions.groupby(["role", "shop"], sort=False)
    out = g.agg(listings=("item_id", "size"), units=("sales_30d", "sum"),
                revenue=("revenue", "sum"), median_price=("price", "median")).reset_index()
    by_band = positions.groupby(["shop", "band", "band_label"], as_index=False)["sales_30d"].sum()
    by_band = by_band.sort_values(["shop", "sales_30d", "band"], ascending=[True, False, True])
    main = by_band.drop_duplicates("shop").set_index("shop")["band_label"]
    out["main_band"] = out["shop"].map(main)
    return out[cols]


# ----------------------------------------------------------------------------- recommendation
def recommend_price(bands: pd.DataFrame, snapshot: object, *, unit_cost: float = 0.0,
                    min_margin: float = 0.3, min_band_share: float = 0.05,
                    currency: str = "CNY") -> pd.DataFrame:
    """Rank the study snapshot's bands and recommend one with a price point.

    Eligible bands hold ≥ ``min_band_share`` of the category's units and leave ≥
    ``min_margin`` over ``unit_cost`` at their price point (:func:`price_point`); among them
    the highest demand per listing wins. ``unit_cost`` ≤ 0 means unknown: the margin is then
    not checked (the report says so). Rows are best first with a reason for each.
    """
    day = pd.Timestamp(snapshot)
    b = bands[(bands["snapshot_date"] == day) & (bands["listings"] > 0)].copy()
    b["price_point"] = [price_point(m if pd.notna(m) else med, lo, hi) for m, med, lo, hi in
                        zip(b["units_weighted_median_price"], b["median_price"], b["price_lo"],
                            b["price_hi"], strict=True)]
    b["unit_cost"] = unit_cost
    b["margin"] = (b["price_point"] - unit_cost) / b["price_point"]
    b["share_ok"] = b["units_share"].fillna(0) >= min_band_share
    b["margin_ok"] = True if unit_cost <= 0 else b["margin"] >= min_margin
    b["eligible"] = b["share_ok"] & b["margin_ok"]
    b = b.sort_values(["eligible", "demand_per_listing", "units_share"],
                      ascending=[False, False, False], na_position="last").reset_index(drop=True)
    b["rank"] = np.arange(1, len(b) + 1)
    winner = b[b["eligible"]].head(1)
    best_dpl = float(winner["demand_per_listing"].iloc[0]) if len(winner) else float("nan")
    roles, reasons = [], []
    for i, row in b.iterrows():
        money = fmt_money(row.price_point, currency)
        why = []
        if not row.share_ok:
            why.append(f"holds {row.units_share:.1%} of units < minimum band share "
                       f"{min_band_share:.0%}")
        if not row.margin_ok:
            why.append(f"margin {row.margin:.0%} at {money} < minimum margin {min_margin:.0%} "
                       f"over unit cost {unit_cost:g}")
        if row.eligible and i == 0:
            roles.append("recommended")
            reasons.append(f"highest demand per listing ({row.demand_per_listing:.2f}) among "
                           f"bands with ≥ {min_band_share:.0%} of units"
                           + (f" and ≥ {min_margin:.0%} margin (margin {row.margin:.0%} at "
                              f"{money})" if unit_cost > 0 else "; unit cost unknown, margin "
                              "not checked") + f"; price point {money}")
        elif row.eligible:
            roles.append("runner-up")
            reasons.append(f"lower demand per listing ({row.demand_per_listing:.2f} vs "
                           f"{best_dpl:.2f})")
        else:
            roles.append("not eligible")
            reasons.append("; ".join(why))
    b["role"], b["reason"] = roles, reasons
    b["currency"] = currency
    cols = ["rank", "role", "band", "band_label", "price_lo", "price_hi", "demand_per_listing",
            "units_share", "revenue_share", "listings", "price_point", "unit_cost", "margin",
            "share_ok", "margin_ok", "reason", "currency"]
    return b[cols]


# ----------------------------------------------------------------------------- distribution
def price_distribution(con: duckdb.DuckDBPyConnection, snapshot: object, *, bins: int = 40,
                       clean: str = "_px_clean") -> pd.DataFrame:
    """Listing, units and revenue shares over log-spaced price bins on one snapshot.

    Returns columns bin_lo, bin_hi, listings, units, revenue, listing_share, units_share,
    revenue_share — the listing distribution next to the sales-weighted ones.
    """
    day = str(pd.Timestamp(snapshot).date())
    lo, hi = con.execute(f"""SELECT min(price), max(price) FROM {clean}
        WHERE snapshot_date = ?""", [day]).fetchone()
    if lo is None:
        return pd.DataFrame(columns=["bin_lo", "bin_hi", "listings", "units", "revenue",
                                     "listing_share", "units_share", "revenue_share"])
    hi = max(hi, lo * 1.001)
    llo, step = math.log(lo), (math.log(hi) - math.log(lo)) / bins
    frame = con.execute(f"""SELECT least(CAST(floor((ln(price) - {llo}) / {step}) AS INT),
                                         {bins - 1}) AS b,
            count(*) AS listings, sum(sales_30d) AS units, sum(revenue) AS revenue
        FROM {clean} WHERE snapshot_date = ? GROUP BY b""",
                        [day]).df().set_index("b").reindex(range(bins), fill_value=0)
    frame["bin_lo"] = np.exp(llo + step * frame.index.to_numpy())
    frame["bin_hi"] = np.exp(llo + step * (frame.index.to_numpy() + 1))
    for what, name in (("listings", "listing"), ("units", "units"), ("revenue", "revenue")):
        total = frame[what].sum()
        frame[f"{name}_share"] = frame[what] / total if total > 0 else np.nan
    return frame.reset_index(drop=True)[["bin_lo", "bin_hi", "listings", "units", "revenue",
                                          "listing_share", "units_share", "revenue_share"]]


def price_quantiles(price: np.ndarray, units: np.ndarray, revenue: np.ndarray,
                    counts: np.ndarray | None = None) -> pd.DataFrame:
    """Quartiles of price weighted by listings, by 30-day units and by revenue (``counts``:
    listings per price when the inputs are a histogram).

    Examples
    --------
    >>> price_quantiles(np.array([10., 20, 30, 40]), np.array([0., 0, 1, 3]),
    ...                 np.array([0., 0, 30, 120]))["median"].tolist()
    [20.0, 40.0, 40.0]
    """
    rows = []
    for name, w in (("listings", counts), ("units (sales-weighted)", units),
                    ("revenue (sales-weighted)", revenue)):
        q = weighted_quantile(price, w, [0.25, 0.5, 0.75])
        rows.append({"weighted_by": name, "p25": q[0], "median": q[1], "p75": q[2]})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- whole study
def resolve_snapshot(snapshots: Sequence[object], week: str = "", snapshot: str = "") -> pd.Timestamp:
    """The study snapshot: ``snapshot`` if given (must exist), else the latest snapshot on or
    before the Sunday of ``week``, else the latest snapshot."""
    from research.weeks import week_bounds

    days = sorted(pd.to_datetime(pd.Series(list(snapshots))).unique())
    if not days:
        raise ValueError("no listing snapshots in the data")
    if snapshot:
        day = pd.Timestamp(snapshot)
        if day not in days:
            raise ValueError(f"snapshot {day.date()} is not in the data; snapshots: "
                             f"{', '.join(str(d.date()) for d in days[-8:])}")
        return day
    if week:
        sunday = week_bounds(week)[1]
        before = [d for d in days if d <= sunday]
        if not before:
            raise ValueError(f"no listing snapshot on or before {sunday.date()} (week {week})")
        return pd.Timestamp(before[-1])
    return pd.Timestamp(days[-1])


@dataclass
class PriceStudy:
    """Everything the price-band report shows (see :func:`analyse_prices`)."""

    snapshot: pd.Timestamp
    currency: str
    edges: list[float]
    edges_source: str
    bands: pd.DataFrame
    movement: pd.DataFrame
    positions: pd.DataFrame
    recommendation: pd.DataFrame
    distribution: pd.DataFrame
    excluded: pd.DataFrame
    excluded_counts: pd.DataFrame
    listings_per_snapshot: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    order_value: pd.DataFrame = field(default_factory=pd.DataFrame)
    order_value_note: str = "order value (客单价) not computed: no audience or sales data given"
    shop: str = ""
    quantiles: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def study_bands(self) -> pd.DataFrame:
        """Band rows of the study snapshot."""
        return self.bands[self.bands["snapshot_date"] == self.snapshot].reset_index(drop=True)

    @property
    def has_data(self) -> bool:
        """Whether any listing snapshot was found (else :attr:`warnings` says why)."""
        return not pd.isna(self.snapshot)

    @property
    def study_listings(self) -> int:
        """Clean listings on the study snapshot."""
        row = self.listings_per_snapshot
        row = row[row["snapshot_date"] == self.snapshot]
        return int(row["clean_listings"].iloc[0]) if len(row) else 0

    @property
    def charts_ok(self) -> bool:
        """Whether the study snapshot has enough listings (:data:`MIN_LISTINGS`) to chart."""
        return self.study_listings >= MIN_LISTINGS

    @property
    def recommended(self) -> pd.Series | None:
        """The recommended band's row of :attr:`recommendation`, or None."""
        rec = self.recommendation[self.recommendation["role"] == "recommended"]
        return rec.iloc[0] if len(rec) else None

    def results(self) -> dict[str, pd.DataFrame]:
        """The result tables by CSV name: price_bands, price_recommendation, price_positions."""
        return {"price_bands": self.bands, "price_recommendation": self.recommendation,
                "price_positions": self.positions}

    def summary(self) -> str:
        """One sentence for the study's index page."""
        rec = self.recommended
        def money(x: float) -> str:
            return fmt_money(x, self.currency)

        if not self.has_data:
            return "Price bands not computed: " + (self.warnings[0] if self.warnings
                                                   else "no listings") + "."
        if not self.charts_ok:
            return (f"Price bands of {self.snapshot.date()}: only {self.study_listings} clean "
                    f"listings, too few to read bands.")
        if rec is None:
            return (f"Price bands of {self.snapshot.date()}: no band holds enough sales and "
                    f"leaves the target margin; no price recommended.")
        return (f"Price bands of {self.snapshot.date()}: recommend band {rec.band_label} at "
                f"{money(rec.price_point)} (demand per listing {rec.demand_per_listing:.2f}, "
                f"{rec.units_share:.0%} of units).")


_BAND_COLS = ["snapshot_date", "band", "band_label", "price_lo", "price_hi", "listings",
              "listing_share", "units", "units_share", "revenue", "revenue_share",
              "revenue_computed_listings", "shops", "top3_shop_share", "hhi",
              "median_sales_30d", "zero_sales_listings", "tmall_share", "demand_per_listing",
              "revenue_per_listing_index", "median_price", "units_weighted_median_price",
              "flag", "currency"]


def _empty_study(message: str, currency: str, shop: str) -> PriceStudy:
    """A study with no listings: empty tables of the right shape and the reason."""
    empty = pd.DataFrame(columns=_BAND_COLS)
    return PriceStudy(
        pd.NaT, currency, [], "none (no listings)", empty, band_movement(empty),
        pd.DataFrame(columns=["snapshot_date", "role", "shop", "item_id", "title", "price",
                              "sales_30d", "revenue", "band", "band_label",
                              "band_demand_per_listing", "currency"]),
        recommend_price(empty.assign(listings=pd.Series(dtype="int64")), pd.NaT),
        pd.DataFrame(), pd.DataFrame(columns=["snapshot_date", "shop", "item_id", "title",
                                              "price", "sales_30d", "trick_reason"]),
        pd.DataFrame(columns=["snapshot_date", "trick_reason", "listings"]),
        pd.DataFrame(columns=["snapshot_date", "clean_listings", "excluded", "zero_sales",
                              "revenue_computed"]),
        [message], [], shop=shop)


def analyse_prices(items: pd.DataFrame | str, *, con: duckdb.DuckDBPyConnection | None = None,
                   category: str | None = None, week: str = "", snapshot: str = "",
                   edges: Sequence[float] = (), n_bands: int = 8, shop: str = "",
                   competitors: Sequence[str] = (), top_n: int = 5, unit_cost: float = 0.0,
                   min_margin: float = 0.3, min_band_share: float = 0.05,
                   currency: str = "CNY",
                   trick_keywords: Sequence[str] = TRICK_KEYWORDS) -> PriceStudy:
    """Run the whole price-band study for one category and snapshot.

    Parameters
    ----------
    items : DataFrame or str
        Canonical listings, or a relation name on ``con``.
    week, snapshot : str
        Study week (→ latest snapshot on or before its Sunday) or an explicit snapshot date.
        Later snapshots are never read.
    edges : sequence of float
        Explicit interior band edges; empty = automatic (:func:`auto_edges`).
    currency : str
        Used only when the data has no ``currency`` column.
    trick_keywords : sequence of str
        Title words of deposit / price-change links; empty = no title rule (the title scan
        is the costliest step on millions of listings).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"snapshot_date": "2026-11-22", "item_id": [str(i) for i in range(60)],
    ...     "shop": [f"s{i % 7}" for i in range(60)], "category": "c",
    ...     "price": rng.uniform(20, 120, 60).round(1), "sales_30d": rng.integers(0, 50, 60)})
    >>> study = analyse_prices(frame, edges=[39, 79])
    >>> study.study_bands["band_label"].tolist()
    ['≤39', '39–79', '>79']
    """
    con, src = items_source(items, con, category=category)
    all_snaps = [r[0] for r in con.execute(f"SELECT DISTINCT snapshot_date FROM {src}").fetchall()]
    try:
        day = resolve_snapshot(all_snaps, week, snapshot)
    except ValueError as exc:
        what = f" of category {category}" if category else ""
        return _empty_study(f"{exc}{what}", currency, shop)
    con, src = items_source(items, con, category=category, until=day)
    clean = detect_trick_prices(con, src, keywords=trick_keywords)
    dstr = str(day.date())
    data_cur = [r[0] for r in con.execute(
        f"""SELECT currency FROM {src} WHERE snapshot_date = ? AND currency IS NOT NULL
            GROUP BY currency ORDER BY count(*) DESC""", [dstr]).fetchall()]
    notes, warnings = [], []
    cur = data_cur[0] if data_cur else currency
    if data_cur and currency and currency != cur:
        warnings.append(f"the data's currency is {cur}, not the parameter's {currency}: "
                        f"money is shown in {cur}")
    if len(data_cur) > 1:
        warnings.append(f"mixed currencies on the snapshot: {', '.join(data_cur)}")
    hist = price_histogram(con, clean)
    h = hist[hist["snapshot_date"] == day]
    quantiles = price_quantiles(h["price"].to_numpy(), h["u"].to_numpy(), h["r"].to_numpy(),
                                h["n"].to_numpy())
    if edges:
        used, source = _clean_edges(edges), "explicit (parameter)"
    else:
        used = auto_edges(h["price"].to_numpy(), h["u"].to_numpy(), n_bands,
                          counts=h["n"].to_numpy())
        source = (f"automatic: round price points, adjacent bands merged (lightest first) "
                  f"to at most {n_bands} bands each holding ≥ 3% of listings or units")
    bands = band_metrics(con, used, clean=clean, currency=cur, hist=hist)
    counts = con.execute("""SELECT snapshot_date, count(*) FILTER (WHERE code = 0)
            AS clean_listings, count(*) FILTER (WHERE code > 0) AS excluded,
            count(*) FILTER (WHERE code = 0 AND sales_30d = 0) AS zero_sales,
            count(*) FILTER (WHERE code = 0 AND revenue_computed) AS revenue_computed
        FROM _px_codes GROUP BY 1 ORDER BY 1""").df()
    counts["snapshot_date"] = pd.to_datetime(counts["snapshot_date"])
    for r in counts.itertuples(index=False):
        if r.clean_listings < MIN_LISTINGS:
            warnings.append(f"snapshot {r.snapshot_date.date()} has only {r.clean_listings} clean "
                            f"listings (< {MIN_LISTINGS}): its bands are noise, not charted")
    # rule-flagged rows carry their text; outliers are re-found by the numeric fences
    excluded = con.execute(f"""
        SELECT snapshot_date, shop, item_id, title, price, sales_30d,
               _px_reason(code) AS trick_reason
        FROM _px_all WHERE code BETWEEN 1 AND 3 AND snapshot_date = ?
        UNION ALL
        SELECT s.snapshot_date, s.shop, s.item_id, s.title, s.price, s.sales_30d,
               _px_reason(CASE WHEN ln(s.price) > q.hi THEN 4 ELSE 5 END)
        FROM {src} s JOIN _px_q q USING (snapshot_date)
        WHERE s.snapshot_date = ? AND s.price > 0
          AND (ln(s.price) > q.hi OR ln(s.price) < q.lo) AND _px_rule(s.price, s.title) = 0
        ORDER BY trick_reason, price""", [dstr, dstr]).df()
    excluded_counts = con.execute("""SELECT snapshot_date, _px_reason(code) AS trick_reason,
            count(*) AS listings FROM _px_codes WHERE code > 0 GROUP BY ALL ORDER BY ALL""").df()
    study_row = counts[counts["snapshot_date"] == day]
    if len(study_row):
        r = study_row.iloc[0]
        notes.append(f"{int(r.zero_sales):,} of {int(r.clean_listings):,} clean listings sold "
                     "nothing in 30 days; they are kept (they are supply)")
        notes.append(f"revenue: revenue_30d where given, else price × sales_30d "
                     f"({int(r.revenue_computed):,} listings computed)")
    movement = band_movement(bands)
    positions = price_positions(con, used, day, shop=shop, competitors=competitors,
                                top_n=top_n, bands=bands, clean=clean, currency=cur)
    rec = recommend_price(bands, day, unit_cost=unit_cost, min_margin=min_margin,
                          min_band_share=min_band_share, currency=cur)
    dist = price_distribution(con, day, clean=clean)
    return PriceStudy(day, cur, used, source, bands, movement, positions, rec, dist, excluded,
                      excluded_counts, counts, warnings, notes, shop=shop, quantiles=quantiles)


# ----------------------------------------------------------------------------- order value
def order_value_distribution(snapshot: object, edges: Sequence[float], *,
                             audience: pd.DataFrame | None = None,
                             sales: pd.DataFrame | None = None) -> tuple[pd.DataFrame, str]:
    """The order-value (客单价) distribution on or before ``snapshot``, and a sentence on its
    source.

    From ``audience`` rows with ``dimension == "aov_band"`` (share of buyers per AOV segment,
    the latest audience snapshot on or before the study snapshot) when present; else from
    ``sales`` rows with buyers over the 30 days up to the snapshot: each item-day's order
    value (revenue ÷ buyers) placed on the price bands, weighted by buyers. Columns:
    segment, share, buyers (where known), source.
    """
    day = pd.Timestamp(snapshot)
    cols = ["segment", "share", "buyers", "source"]
    if audience is not None and not audience.empty and "dimension" in audience:
        aov = audience[(audience["dimension"] == "aov_band")
                       & (pd.to_datetime(audience["snapshot_date"]) <= day)]
        if not aov.empty:
            last = pd.to_datetime(aov["snapshot_date"]).max()
            rows = aov[pd.to_datetime(aov["snapshot_date"]) == last]
            out = pd.DataFrame({"segment": rows["segment"].astype(str).to_numpy(),
                                "share": rows["share"].astype(float).to_numpy(),
                                "buyers": rows["buyers"].to_numpy() if "buyers" in rows
                                else np.nan,
                                "source": "audience aov_band"})
            return out[cols], (f"order value (客单价) bands from the category's audience "
                               f"profile of {last.date()}: share of paying buyers per band")
    if sales is not None and not sales.empty and "buyers" in sales \
            and sales["buyers"].notna().any():
        d = pd.to_datetime(sales["date"])
        win = sales[(d > day - pd.Timedelta(days=30)) & (d <= day)
                    & (sales["buyers"].fillna(0) > 0)]
        if not win.empty:
            aov = win["revenue"].astype(float) / win["buyers"].astype(float)
            band = assign_bands(aov, edges)
            buyers = np.bincount(band, weights=win["buyers"].astype(float),
                                 minlength=len(_clean_edges(edges)) + 1)
            overall = win["revenue"].sum() / win["buyers"].sum()
            out = pd.DataFrame({"segment": band_labels(edges), "share": buyers / buyers.sum(),
                                "buyers": buyers, "source": "our sales (revenue ÷ buyers)"})
            return out[cols], (f"our shop's order value over the 30 days to {day.date()}: "
                               f"each item-day's revenue ÷ buyers on the price bands, weighted "
                               f"by buyers; overall 客单价 = Σ revenue / Σ buyers = "
                               f"{overall:,.2f}")
    return pd.DataFrame(columns=cols), ("order value (客单价) not shown: the data has neither "
                                        "audience AOV bands nor sales with buyers up to "
                                        f"{day.date()}")


def our_shop_from_sales(sales: pd.DataFrame | None) -> str:
    """Our shop's name from the ``sales`` table's ``shop`` column (its most common value), or
    ``""`` when it cannot be determined."""
    if sales is None or sales.empty or "shop" not in sales:
        return ""
    names = sales["shop"].dropna().astype(str)
    names = names[names != ""]
    return str(names.mode().iloc[0]) if len(names) else ""


def price_study(warehouse: str | object, *, category: str = "", week: str = "",
                snapshot: str = "", shop: str = "", **kwargs: object) -> PriceStudy:
    """:func:`analyse_prices` on a warehouse file, with order value and our shop resolved.

    The warehouse is attached read-only to an in-memory DuckDB connection, so the listings
    never pass through pandas. ``shop`` empty = the shop named in our ``sales`` rows.
    ``kwargs`` go to :func:`analyse_prices`.
    """
    from pathlib import Path

    from research.warehouse import read

    path = Path(str(warehouse))
    if not path.exists():
        raise FileNotFoundError(f"warehouse {path} does not exist: load exports with "
                                "`research ingest PATH` (or `make demo`)")
    sales = read("sales", path)
    shop = shop or our_shop_from_sales(sales)
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {_literal(path)} AS wh (READ_ONLY)")
        study = analyse_prices("wh.items", con=con, category=category or None, week=week,
                               snapshot=snapshot, shop=shop, **kwargs)  # type: ignore[arg-type]
    finally:
        con.close()
    audience = read("audience", path, category=category or None)
    study.order_value, study.order_value_note = order_value_distribution(
        study.snapshot, study.edges, audience=audience, sales=sales)
    return study


# ----------------------------------------------------------------------------- charts
def plot_distribution(study: PriceStudy) -> Figure:
    """Listing vs units- and revenue-weighted price distributions on the study snapshot
    (log price axis, band edges as dashed lines)."""
    import matplotlib.pyplot as plt

    d = study.distribution
    fig, ax = plt.subplots(figsize=(10, 4))
    mids = np.sqrt(d["bin_lo"] * d["bin_hi"])
    for col, label in (("listing_share", "在售商品 listings"), ("units_share", "销量 units"),
                       ("revenue_share", "销售额 revenue")):
        ax.step(mids, d[col], where="mid", label=label)
    for e in study.edges:
        ax.axvline(e, color="grey", ls="--", lw=0.7)
    ax.set_xscale("log")
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    if study.edges:  # ticks at the band edges, in plain numbers rather than 2×10¹
        ax.xaxis.set_major_locator(FixedLocator(study.edges))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.6g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(f"价格 price ({study.currency}, log scale; ticks at band edges)")
    ax.set_ylabel("占比 share")
    ax.legend()
    ax.set_title(f"价格分布 · price distribution, {study.snapshot.date()}")
    fig.tight_layout()
    return fig


def plot_bands(study: PriceStudy) -> Figure:
    """Band chart (listing / units / revenue share per band, demand per listing on a second
    axis) with our and the competitors' listings as a strip chart above it."""
    import matplotlib.pyplot as plt

    b = study.study_bands
    pos = study.positions
    fig, (top, ax) = plt.subplots(2, 1, figsize=(11, 7), sharex=True,
                                  gridspec_kw={"height_ratios": [1.2, 2]})
    x = np.arange(len(b))
    w = 0.27
    ax.bar(x - w, b["listing_share"], w, label="在售商品占比 listing share")
    ax.bar(x, b["units_share"], w, label="销量占比 units share")
    ax.bar(x + w, b["revenue_share"], w, label="销售额占比 revenue share")
    ax.set_ylabel("占比 share")
    ax.set_xticks(x, b["band_label"], rotation=30)
    ax.set_xlabel(f"价格带 price band ({study.currency})")
    ax2 = ax.twinx()
    ax2.plot(x, b["demand_per_listing"], "ko-", label="单品需求 demand per listing")
    ax2.axhline(1, color="k", lw=0.6, ls=":")
    ax2.set_ylabel("demand per listing (1 = category)")
    ax2.grid(False)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    if not pos.empty:
        shops = list(dict.fromkeys(pos["shop"]))
        rng = np.random.default_rng(0)
        for i, shop in enumerate(shops):
            rows = pos[pos["shop"] == shop]
            jitter = rng.uniform(-0.35, 0.35, len(rows))
            size = 15 + 85 * np.sqrt(rows["sales_30d"] / max(pos["sales_30d"].max(), 1))
            top.scatter(rows["band"] + jitter, np.full(len(rows), i), s=size,
                        marker="D" if shop == study.shop else "o", alpha=0.7)
        top.set_yticks(range(len(shops)),
                       [f"{s} (本店)" if s == study.shop else s for s in shops])
        top.set_title("本店与竞品的商品位置 · our and competitors' listings (size = 30-day sales)")
    else:
        top.set_title("no listings of our shop or competitors on this snapshot")
    fig.tight_layout()
    return fig


def plot_movement(study: PriceStudy) -> Figure:
    """Units share of each band on each snapshot up to the study snapshot."""
    import matplotlib.pyplot as plt

    piv = study.bands.pivot(index="snapshot_date", columns="band_label", values="units_share")
    piv = piv[[lab for lab in band_labels(study.edges) if lab in piv.columns]]
    fig, ax = plt.subplots(figsize=(10, 4))
    x = np.arange(len(piv))
    for col in piv.columns:
        ax.plot(x, piv[col].to_numpy(), marker="o", label=col)
    ax.set_xticks(x, [d.strftime("%Y-%m-%d") for d in piv.index], rotation=30)
    ax.set_ylabel("销量占比 units share")
    ax.set_xlabel("snapshot")
    ax.set_title("价格带变化 · band units share by snapshot")
    ax.legend(title="price band", fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig
