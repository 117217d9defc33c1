"""The DuckDB stage of the price-band study, for :mod:`research.analyses.prices.analysis`.

Listings exposed as a view (:func:`items_source`), trick prices flagged
(:func:`detect_trick_prices`), then every per-band aggregate in SQL: the price histogram,
band metrics, our and competitors' listings on the bands and the price distribution. pandas
only sees the small per-band results; what they are turned into (movement, the
recommendation …) lives in :mod:`research.analyses.prices.tables`. The result columns and workbench
choices are documented in :mod:`research.analyses.prices.analysis`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd

from research.checks import shares_sum_to_one
from research.price_points import (
    assign_bands,
    band_bounds,
    band_labels,
    clean_edges,
    weighted_quantile,
)
from research.store.warehouse import fetch_one, quiet, sql_literal

__all__ = [
    "TRICK_KEYWORDS", "IQR_FLOOR", "BAND_COLUMNS", "POSITION_COLUMNS", "items_source", "rowid_relation",
    "title_pattern", "detect_trick_prices", "price_histogram", "band_metrics",
    "band_shares_sum_to_one", "price_positions", "price_distribution",
]

#: title words of deposit / price-change / make-up links (拍下改价, 定金 …)
#: the outlier fences' IQR of ln(price) is at least ln 2: a category whose listings sit on a
#: few price points has a tiny IQR (0.25 on a generated ¥33 market), and a fence of 3 × that
#: called 2 % of its listings — premium ones at 3 × the median — outliers (floor 0.1 before)
IQR_FLOOR = math.log(2)

TRICK_KEYWORDS = ("拍下改价", "改价", "定金", "订金", "预付金", "补差价", "差价", "补拍", "专拍",
                  "补运费", "邮费补", "不发货", "deposit", "price difference")

#: columns of ``price_bands.csv``, in order
BAND_COLUMNS = ["snapshot_date", "band", "band_label", "price_lo", "price_hi", "listings",
              "listing_share", "units", "units_share", "revenue", "revenue_share",
              "revenue_computed_listings", "shops", "top3_shop_share", "hhi",
              "median_sales_30d", "zero_sales_listings", "tmall_share", "demand_per_listing",
              "revenue_per_listing_index", "median_price", "units_weighted_median_price",
              "flag", "currency"]
#: columns of ``price_positions.csv``, in order
POSITION_COLUMNS = ["snapshot_date", "role", "shop", "item_id", "title", "price", "sales_30d",
                    "revenue", "band", "band_label", "band_demand_per_listing", "currency"]


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
        The view also carries ``_rid``, the row's id in its table: the few rule-flagged rows
        are remembered by it, so the listings are never copied. A DataFrame, or a relation
        without row ids (a view), is first copied into the temp table ``_px_items``.
    """
    con = con or quiet(duckdb.connect())
    items = rowid_relation(con, items)
    have = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {items}").fetchall()}

    def col(name: str, sql_type: str) -> str:
        return f'CAST("{name}" AS {sql_type})' if name in have else f"CAST(NULL AS {sql_type})"

    conds = []  # a view cannot take bound parameters: literals, quotes doubled
    if category:
        conds.append("category = " + sql_literal(category))
    if until is not None:
        conds.append(f"CAST(snapshot_date AS DATE) <= DATE '{pd.Timestamp(until).date()}'")
    where = ("WHERE " + " AND ".join(conds)) if conds else ""
    sql = f"""SELECT rowid AS _rid, CAST(snapshot_date AS DATE) AS snapshot_date,
        CAST(item_id AS VARCHAR) AS item_id, CAST(shop AS VARCHAR) AS shop,
        {col('title', 'VARCHAR')} AS title, CAST(price AS DOUBLE) AS price,
        CAST(sales_30d AS DOUBLE) AS sales_30d, {col('revenue_30d', 'DOUBLE')} AS revenue_30d,
        {col('is_tmall', 'BOOLEAN')} AS is_tmall, {col('currency', 'VARCHAR')} AS currency
        FROM {items} {where}"""
    con.execute(f"CREATE OR REPLACE TEMP VIEW _px_src AS {sql}")
    return con, "_px_src"


def rowid_relation(con: duckdb.DuckDBPyConnection, items: pd.DataFrame | str) -> str:
    """The name of a relation holding ``items`` whose rows have ``rowid``s.

    A table name is returned as is; a DataFrame, or a relation without row ids (a view), is
    copied once into the temp table ``_px_items``.
    """
    if isinstance(items, str):
        try:
            con.execute(f"SELECT rowid FROM {items} LIMIT 0")
            return items
        except duckdb.BinderException:
            source = items
    else:
        con.register("_px_frame", items)
        source = "_px_frame"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _px_items AS SELECT * FROM {source}")
    if source == "_px_frame":
        con.unregister("_px_frame")
    return "_px_items"


_REASONS = {1: "no price (≤ 0)", 2: "placeholder price (≤ {ph:g})",
             3: "deposit / price-change link (title)", 4: "outlier: ln(price) > Q3 + {k:g}·IQR",
             5: "outlier: ln(price) < Q1 − {k:g}·IQR"}


def title_pattern(keywords: Sequence[str]) -> str:
    """One RE2 alternation of the keywords; a keyword containing another is dropped (it
    matches nothing more), ASCII words match case-insensitively.

    Examples
    --------
    >>> print(title_pattern(["拍下改价", "改价", "1+1"]))
    改价|(?i:1\\+1)
    """
    kept = [kw for kw in dict.fromkeys(keywords) if kw
            and not any(o != kw and o.lower() in kw.lower() for o in keywords if o)]
    return "|".join(("(?i:" + re.escape(kw) + ")") if kw.isascii() else re.escape(kw)
                    for kw in kept)


def _hist_quantile(values: np.ndarray, counts: np.ndarray, q: float) -> float:
    """Quantile ``q`` of ``values`` (ascending) repeated ``counts`` times, interpolated as
    DuckDB's ``quantile_cont`` (and pandas' default) would on the repeated values."""
    total = counts.sum()
    if total <= 0:
        return float("nan")
    cum = np.cumsum(counts)
    pos = (total - 1) * q
    lo = values[np.searchsorted(cum, math.floor(pos) + 1)]
    hi = values[np.searchsorted(cum, math.ceil(pos) + 1)]
    return float(lo + (hi - lo) * (pos - math.floor(pos)))


def _hist_median(values: np.ndarray, counts: np.ndarray) -> float:
    """Median of values repeated ``counts`` times, interpolated as ``quantile_cont(0.5)``."""
    return _hist_quantile(values, counts, 0.5)


def detect_trick_prices(con: duckdb.DuckDBPyConnection, source: str = "_px_src", *,
                        placeholder_max: float = 1.0, k: float = 3.0,
                        keywords: Sequence[str] = TRICK_KEYWORDS) -> str:
    """Flag trick prices; return the name of the view of clean listings, ``_px_clean``.

    Rules, in order: no price (≤ 0); placeholder price ≤ ``placeholder_max``; a title naming
    a deposit / price-change link (:data:`TRICK_KEYWORDS`); ``ln(price)`` outside
    ``[Q1 − k·IQR, Q3 + k·IQR]`` of its snapshot's rule-clean listings (IQR floored at
    :data:`IQR_FLOOR` = ln 2; only with ≥ 8 listings).

    Two passes over ``source`` and no copy of it: the first keeps the few rows a rule flags
    (temp table ``_px_flag``: the source's columns, ``_rid`` and ``code`` 1–3); the second
    aggregates every other row per snapshot and price (temp table ``_px_hist``: listings
    ``n``, units ``u``, revenue ``r``, revenue-computed ``rc``, zero-sales ``z``, Tmall
    ``tm`` of ``tn`` known, and ``code`` 0 clean / 4 / 5 outlier). The outlier fences come
    from that histogram exactly as ``quantile_cont`` would compute them from the rows; as
    they are an interval of ``ln(price)``, each snapshot's clean listings are the unflagged
    ones priced within ``[lo_price, hi_price]`` (temp table ``_px_range``, with the fences
    ``ln_lo``/``ln_hi``). Views on top: ``_px_clean`` (clean rows with ``shop_h`` = hash of
    shop, ``price``, ``sales_30d``, ``revenue`` = revenue_30d else price × sales_30d,
    ``revenue_computed``, ``is_tmall``), ``_px_flagged`` (the source's columns plus
    ``trick_reason``, NULL when clean) and ``_px_code_counts`` (listings, zero-sales and
    revenue-computed listings per snapshot and code).
    """
    ph = float(placeholder_max)
    pattern = title_pattern(keywords)
    con.execute("DROP TABLE IF EXISTS _px_shop_band")  # band_metrics' table of older flags
    title = f"WHEN regexp_matches(title, {sql_literal(pattern)}) THEN 3" if pattern else ""
    rule = f"""CASE WHEN price IS NULL OR price <= 0 THEN 1 WHEN price <= {ph} THEN 2
                    {title} ELSE 0 END"""
    # find the flagged rows reading only price and title (the rule is not pushed into the
    # scan, so selecting every column here would build them for all rows), then fetch by id
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _px_flag AS
        SELECT s.*, CAST({rule} AS TINYINT) AS code FROM {source} s
        WHERE s._rid IN (SELECT _rid FROM {source} WHERE ({rule}) > 0)""")
    hist = con.execute(f"""SELECT snapshot_date, price, count(*) AS n, sum(sales_30d) AS u,
            sum(coalesce(revenue_30d, price * sales_30d)) AS r,
            count(*) FILTER (WHERE revenue_30d IS NULL) AS rc,
            count(*) FILTER (WHERE sales_30d = 0) AS z,
            sum(CAST(is_tmall AS DOUBLE)) AS tm, count(is_tmall) AS tn,
            sum(ln(1 + greatest(coalesce(sales_30d, 0), 0))) AS lu,
            sum(ln(1 + greatest(coalesce(sales_30d, 0), 0)) ** 2) AS lu2
        FROM {source} s ANTI JOIN _px_flag f ON s._rid = f._rid
        GROUP BY ALL ORDER BY snapshot_date, price""").df()
    hist["code"] = np.zeros(len(hist), dtype="int8")
    ranges = []
    for day, g in hist.groupby("snapshot_date", sort=True):
        price, n = g["price"].to_numpy(), g["n"].to_numpy()
        ln_lo = ln_hi = float("nan")
        if n.sum() >= 8:
            lp = np.log(price)
            q1, q3 = _hist_quantile(lp, n, 0.25), _hist_quantile(lp, n, 0.75)
            iqr = max(q3 - q1, IQR_FLOOR)
            ln_lo, ln_hi = q1 - k * iqr, q3 + k * iqr
            code = np.where(lp > ln_hi, 4, np.where(lp < ln_lo, 5, 0))
            hist.loc[g.index, "code"] = code.astype("int8")
            price = price[code == 0]
        if len(price):
            ranges.append((day, float(price.min()), float(price.max()), ln_lo, ln_hi))
    con.register("_px_hist_frame", hist)
    con.execute("CREATE OR REPLACE TEMP TABLE _px_hist AS SELECT * FROM _px_hist_frame")
    con.unregister("_px_hist_frame")
    con.execute("""CREATE OR REPLACE TEMP TABLE _px_range (snapshot_date DATE,
        lo_price DOUBLE, hi_price DOUBLE, ln_lo DOUBLE, ln_hi DOUBLE)""")
    if ranges:
        con.executemany("INSERT INTO _px_range VALUES (?, ?, ?, ?, ?)",
                        [(pd.Timestamp(d).date(), *rest) for d, *rest in ranges])
    # the outliers join the flagged rows, so one anti-join by row id leaves the clean rows
    # (found by id first: a join selecting every column would build them for all rows)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _px_out AS
        SELECT s._rid FROM {source} s JOIN _px_range g ON s.snapshot_date = g.snapshot_date
             AND (s.price > g.hi_price OR s.price < g.lo_price)
        ANTI JOIN _px_flag f ON s._rid = f._rid""")
    con.execute(f"""INSERT INTO _px_flag SELECT s.*, CAST(CASE WHEN s.price > g.hi_price
            THEN 4 ELSE 5 END AS TINYINT) FROM {source} s
        JOIN _px_range g ON s.snapshot_date = g.snapshot_date
        WHERE s._rid IN (SELECT _rid FROM _px_out)""")
    con.execute("DROP TABLE _px_out")
    con.execute(f"""CREATE OR REPLACE TEMP VIEW _px_clean AS
        SELECT s.snapshot_date, hash(s.shop) AS shop_h, s.price, s.sales_30d,
               coalesce(s.revenue_30d, s.price * s.sales_30d) AS revenue,
               s.revenue_30d IS NULL AS revenue_computed, s.is_tmall
        FROM {source} s ANTI JOIN _px_flag f ON s._rid = f._rid""")
    reason = "CASE code " + " ".join(
        f"WHEN {c} THEN {sql_literal(t.format(ph=ph, k=k))}" for c, t in _REASONS.items()) + " END"
    con.execute(f"CREATE OR REPLACE TEMP MACRO _px_reason(code) AS {reason}")
    con.execute(f"""CREATE OR REPLACE TEMP VIEW _px_flagged AS
        SELECT * EXCLUDE (_rid, code), _px_reason(code) AS trick_reason FROM _px_flag
        UNION ALL
        SELECT s.* EXCLUDE (_rid), CAST(NULL AS VARCHAR)
        FROM {source} s ANTI JOIN _px_flag f ON s._rid = f._rid""")
    con.execute("""CREATE OR REPLACE TEMP VIEW _px_code_counts AS
        SELECT snapshot_date, code, sum(n) AS listings, sum(z) AS zero_sales,
               sum(rc) AS revenue_computed FROM _px_hist GROUP BY ALL
        UNION ALL
        SELECT snapshot_date, code, count(*), count(*) FILTER (WHERE sales_30d = 0),
               count(*) FILTER (WHERE revenue_30d IS NULL) FROM _px_flag WHERE code <= 3
        GROUP BY ALL""")
    return "_px_clean"


def _band_case(edges: Sequence[float], column: str = "price") -> str:
    e = clean_edges(edges)
    if not e:
        return "0"
    whens = " ".join(f"WHEN {column} <= {x!r} THEN {i}" for i, x in enumerate(e))
    return f"CASE {whens} ELSE {len(e)} END"


def price_histogram(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Clean listings aggregated per snapshot and price: listings ``n``, units ``u``, revenue
    ``r``, revenue-computed ``rc``, zero-sales ``z``, Tmall ``tm`` (of ``tn`` known), and
    Σ ln(1 + units) ``lu`` and its squares ``lu2`` (for the demand scan).

    Read from ``_px_hist``, which :func:`detect_trick_prices` builds in its one aggregating
    pass. Every band metric but shops, concentration and median sales is a sum over this
    table, so the listings are not scanned again for them, whatever the edges.
    """
    frame = con.execute("""SELECT snapshot_date, price, n, u, r, rc, z, tm, tn, lu, lu2
        FROM _px_hist
        WHERE code = 0 ORDER BY snapshot_date, price""").df()
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"])
    return frame


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
    :func:`price_histogram` when already computed. Leaves the temp table ``_px_shop_band``
    (revenue ``r`` per snapshot, band and shop hash) that the concentration is computed on.
    """
    case = _band_case(edges)
    los, his = band_bounds(edges)
    labels = band_labels(edges)
    hist = price_histogram(con) if hist is None else hist
    sums = _per_band(hist, edges)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _px_shop_band AS
        SELECT snapshot_date, {case} AS band, shop_h, sum(revenue) AS r
        FROM {clean} GROUP BY ALL""")
    conc = con.execute("""SELECT snapshot_date, band, count(*) AS shops,
            list_sum(max(r, 3)) / nullif(sum(r), 0) AS top3_shop_share,
            CASE WHEN sum(r) > 0 THEN 10000 * sum(r * r) / (sum(r) * sum(r)) END AS hhi
        FROM _px_shop_band GROUP BY ALL""").df()
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
    snaps = sorted(con.execute("SELECT DISTINCT snapshot_date FROM _px_code_counts").df()
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
    return out[BAND_COLUMNS].sort_values(["snapshot_date", "band"]).reset_index(drop=True)


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


# ----------------------------------------------------------------------------- positions
def price_positions(con: duckdb.DuckDBPyConnection, edges: Sequence[float], snapshot: object,
                    *, shop: str = "", competitors: Sequence[str] = (),
                    bands: pd.DataFrame | None = None, currency: str = "CNY") -> pd.DataFrame:
    """Our shop's and the given competitors' clean listings on the study snapshot, with their band.

    Parameters
    ----------
    con : duckdb connection
        After :func:`detect_trick_prices` (reads ``_px_flagged``).
    edges : sequence of float
        Interior band edges.
    snapshot : date
        The study snapshot.
    shop : str
        Our shop ("" = none).
    competitors : sequence of str
        The study's competitor set (the scope's): this function chooses none itself. Our shop
        is never listed as a competitor.
    bands : DataFrame, optional
        :func:`band_metrics`, for each band's demand per listing.
    currency : str

    Returns
    -------
    DataFrame
        ``price_positions.csv`` (:data:`POSITION_COLUMNS`), our shop first, then the
        competitors in the given order, each by revenue.
    """
    day = str(pd.Timestamp(snapshot).date())
    comps = list(dict.fromkeys(c for c in competitors if c and c != shop))
    shops = ([shop] if shop else []) + comps
    cols = POSITION_COLUMNS
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


# ----------------------------------------------------------------------------- distribution
def price_distribution(con: duckdb.DuckDBPyConnection, snapshot: object, *,
                       bins: int = 40) -> pd.DataFrame:
    """Listing, units and revenue shares over log-spaced price bins on one snapshot.

    Computed from the clean histogram ``_px_hist`` (:func:`detect_trick_prices`). Returns
    columns bin_lo, bin_hi, listings, units, revenue, listing_share, units_share,
    revenue_share — the listing distribution next to the sales-weighted ones.
    """
    day = str(pd.Timestamp(snapshot).date())
    lo, hi = fetch_one(con, """SELECT min(price), max(price) FROM _px_hist
        WHERE code = 0 AND snapshot_date = ?""", [day])
    if lo is None:
        return pd.DataFrame(columns=["bin_lo", "bin_hi", "listings", "units", "revenue",
                                     "listing_share", "units_share", "revenue_share"])
    hi = max(hi, lo * 1.001)
    llo, step = math.log(lo), (math.log(hi) - math.log(lo)) / bins
    frame = con.execute(f"""SELECT least(CAST(floor((ln(price) - {llo}) / {step}) AS INT),
                                         {bins - 1}) AS b,
            sum(n) AS listings, sum(u) AS units, sum(r) AS revenue
        FROM _px_hist WHERE code = 0 AND snapshot_date = ? GROUP BY b""",
                        [day]).df().set_index("b").reindex(range(bins), fill_value=0)
    frame["bin_lo"] = np.exp(llo + step * frame.index.to_numpy())
    frame["bin_hi"] = np.exp(llo + step * (frame.index.to_numpy() + 1))
    for what, name in (("listings", "listing"), ("units", "units"), ("revenue", "revenue")):
        total = frame[what].sum()
        frame[f"{name}_share"] = frame[what] / total if total > 0 else np.nan
    return frame.reset_index(drop=True)[["bin_lo", "bin_hi", "listings", "units", "revenue",
                                          "listing_share", "units_share", "revenue_share"]]
