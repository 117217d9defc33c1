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
  ≥ 3 % of listings or of units (:func:`~research.price_points.auto_edges`). An underserved
  band need not sit on that ladder, so the snapshot is also scanned for the band whose
  listings sell most above both neighbours (:func:`~research.analyses.prices.demand_band.demand_bump`:
  z ≥ 4.5 on ln(1 + units), ≥ 1.5× the better neighbour's units per listing); when found, its
  two edges — wherever they fall — are added and kept through the merging, and the edge
  source says so. :func:`~research.price_points.snap_to_round` snaps any value
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

The page's entry point is :func:`research.analyses.prices.page.study` (the study scope mapped
onto :func:`price_study`); the band edges, labels and concentration formulas live in
:mod:`research.price_points`, the SQL stage in :mod:`research.analyses.prices.bands_sql`, the
pandas stage in :mod:`research.analyses.prices.tables`, the charts in
:mod:`research.analyses.prices.charts`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from research.analyses.prices.bands_sql import (
    BAND_COLUMNS,
    POSITION_COLUMNS,
    TRICK_KEYWORDS,
    band_metrics,
    detect_trick_prices,
    items_source,
    price_distribution,
    price_histogram,
    price_positions,
    rowid_relation,
)
from research.analyses.prices.demand_band import (
    MIN_Z,
    UNDERSERVED_RULE,
    DemandBump,
    demand_bump,
    edges_with_band,
)
from research.analyses.prices.result import PriceStudy, Underserved
from research.analyses.prices.tables import band_movement, price_quantiles, recommend_price
from research.pages.display import fmt_money
from research.price_points import (
    MIN_LISTINGS,
    assign_bands,
    auto_edges,
    band_labels,
    clean_edges,
)
from research.store.warehouse import quiet, read, sql_literal
from research.weeks import week_bounds

__all__ = ["analyse_prices", "price_study", "resolve_snapshot", "order_value_distribution"]


# ----------------------------------------------------------------------------- whole study
def resolve_snapshot(snapshots: Sequence[object], week: str = "", snapshot: str = "") -> pd.Timestamp:
    """The study snapshot: ``snapshot`` if given (must exist), else the latest snapshot on or
    before the Sunday of ``week``, else the latest snapshot."""
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


def _empty_study(message: str, currency: str, shop: str,
                 competitors: tuple[str, ...]) -> PriceStudy:
    """A study with no listings: empty tables of the right shape and the reason."""
    empty = pd.DataFrame(columns=BAND_COLUMNS)
    return PriceStudy(
        pd.NaT, currency, [], "none (no listings)", empty, band_movement(empty),
        pd.DataFrame(columns=POSITION_COLUMNS),
        recommend_price(empty.assign(listings=pd.Series(dtype="int64")), pd.NaT),
        pd.DataFrame(), pd.DataFrame(columns=["snapshot_date", "shop", "item_id", "title",
                                              "price", "sales_30d", "trick_reason"]),
        pd.DataFrame(columns=["snapshot_date", "trick_reason", "listings"]),
        pd.DataFrame(columns=["snapshot_date", "clean_listings", "excluded", "zero_sales",
                              "revenue_computed"]),
        [message], [], shop=shop, competitors=competitors)


def analyse_prices(items: pd.DataFrame | str, *, con: duckdb.DuckDBPyConnection | None = None,
                   category: str | None = None, week: str = "", snapshot: str = "",
                   edges: Sequence[float] = (), n_bands: int = 8, shop: str = "",
                   competitors: Sequence[str] = (), unit_cost: float = 0.0,
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
        Explicit interior band edges; empty = automatic (:func:`~research.price_points.auto_edges`).
    shop, competitors :
        Our shop and the competitor set positioned on the bands (the study scope's on the
        page path); nothing is chosen here.
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
    con = con or quiet(duckdb.connect())
    comps = tuple(dict.fromkeys(c for c in competitors if c and c != shop))
    base = rowid_relation(con, items)  # a DataFrame is copied once, not per view
    con, src = items_source(base, con, category=category)
    all_snaps = [r[0] for r in con.execute(f"SELECT DISTINCT snapshot_date FROM {src}").fetchall()]
    try:
        day = resolve_snapshot(all_snaps, week, snapshot)
    except ValueError as exc:
        what = f" of category {category}" if category else ""
        return _empty_study(f"{exc}{what}", currency, shop, comps)
    con, src = items_source(base, con, category=category, until=day)
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
    hist = price_histogram(con)
    h = hist[hist["snapshot_date"] == day]
    quantiles = price_quantiles(h["price"].to_numpy(), h["u"].to_numpy(), h["r"].to_numpy(),
                                h["n"].to_numpy())
    bump = demand_bump(h["price"].to_numpy(), h["n"].to_numpy(), h["lu"].to_numpy(),
                       h["lu2"].to_numpy(), h["u"].to_numpy())
    if edges:
        used, source = clean_edges(edges), "explicit (parameter)"
    else:
        used = auto_edges(h["price"].to_numpy(), h["u"].to_numpy(), n_bands,
                          counts=h["n"].to_numpy())
        source = (f"automatic: round price points, adjacent bands merged (lightest first) "
                  f"to at most {n_bands} bands each holding ≥ 3% of listings or units")
        if bump is not None:
            used = edges_with_band(h["price"].to_numpy(), h["u"].to_numpy(),
                                   h["n"].to_numpy(), used, (bump.lo, bump.hi), n_bands)
            source += (f"; plus the edges of the band selling most above both neighbours, "
                       f"wherever they fall: {bump.lo:,g}–{bump.hi:,g} (its listings' "
                       f"ln(1 + units) {bump.z:.1f} standard errors above the better "
                       f"neighbour's, z ≥ {MIN_Z:g}; units per listing {bump.demand_ratio:.1f}×)")
        else:
            source += (f"; no band sells above both neighbours by z ≥ {MIN_Z:g} "
                       "(no demand edges added)")
    bands = band_metrics(con, used, clean=clean, currency=cur, hist=hist)
    claim, claim_note = _underserved(bump, bands, day, cur)
    counts = con.execute("""SELECT snapshot_date,
            CAST(coalesce(sum(listings) FILTER (WHERE code = 0), 0) AS BIGINT) AS clean_listings,
            CAST(coalesce(sum(listings) FILTER (WHERE code > 0), 0) AS BIGINT) AS excluded,
            CAST(coalesce(sum(zero_sales) FILTER (WHERE code = 0), 0) AS BIGINT) AS zero_sales,
            CAST(coalesce(sum(revenue_computed) FILTER (WHERE code = 0), 0) AS BIGINT)
                AS revenue_computed
        FROM _px_code_counts GROUP BY 1 ORDER BY 1""").df()
    counts["snapshot_date"] = pd.to_datetime(counts["snapshot_date"])
    for r in counts.itertuples(index=False):
        if r.clean_listings < MIN_LISTINGS:
            warnings.append(f"snapshot {r.snapshot_date.date()} has only {r.clean_listings} clean "
                            f"listings (< {MIN_LISTINGS}): its bands are noise, not charted")
    excluded = con.execute("""SELECT snapshot_date, shop, item_id, title, price, sales_30d,
            trick_reason FROM _px_flagged WHERE snapshot_date = ? AND trick_reason IS NOT NULL
        ORDER BY trick_reason, price, item_id""", [dstr]).df()
    excluded_counts = con.execute("""SELECT snapshot_date, _px_reason(code) AS trick_reason,
            CAST(sum(listings) AS BIGINT) AS listings FROM _px_code_counts WHERE code > 0
        GROUP BY ALL ORDER BY ALL""").df()
    study_row = counts[counts["snapshot_date"] == day]
    if len(study_row):
        r = study_row.iloc[0]
        notes.append(f"{int(r.zero_sales):,} of {int(r.clean_listings):,} clean listings sold "
                     "nothing in 30 days; they are kept (they are supply)")
        notes.append(f"revenue: revenue_30d where given, else price × sales_30d "
                     f"({int(r.revenue_computed):,} listings computed)")
    movement = band_movement(bands)
    positions = price_positions(con, used, day, shop=shop, competitors=comps, bands=bands,
                                currency=cur)
    rec = recommend_price(bands, day, unit_cost=unit_cost, min_margin=min_margin,
                          min_band_share=min_band_share, currency=cur)
    dist = price_distribution(con, day)
    return PriceStudy(day, cur, used, source, bands, movement, positions, rec, dist, excluded,
                      excluded_counts, counts, warnings, notes, shop=shop, quantiles=quantiles,
                      competitors=comps, underserved=claim, underserved_note=claim_note)


def _underserved(bump: DemandBump | None, bands: pd.DataFrame, day: pd.Timestamp,
                 currency: str) -> tuple[Underserved | None, str]:
    """The underserved-band claim from the scan, its sentence, and the ``flag`` of its band
    in ``bands`` (study snapshot rows; set in place): ``underserved`` on the band whose edges
    are the claim's (automatic edges keep them), or ``underserved band a–b inside`` on the
    explicit band holding the claim's middle price. Other flags of the band follow after
    ``; ``."""
    if bump is None:
        return None, ("未发现蓝海价格带（供给不足的价格带） · no underserved band: no band of "
                      "the snapshot sells above both its neighbours by the rule — "
                      + UNDERSERVED_RULE)
    label = band_labels([bump.lo, bump.hi])[1]
    claim = Underserved(label, bump.lo, bump.hi, bump.listings, bump.demand_ratio, bump.z)
    at = bands["snapshot_date"] == day
    exact = at & np.isclose(bands["price_lo"], bump.lo) & np.isclose(bands["price_hi"], bump.hi)
    if exact.any():
        tag = "underserved"
        rows = exact
    else:
        mid = float(np.sqrt(bump.lo * bump.hi))
        rows = at & (bands["price_lo"].fillna(-np.inf) < mid) \
            & (bands["price_hi"].fillna(np.inf) >= mid)
        tag = f"underserved band {label} inside"
    for k in np.flatnonzero(rows.to_numpy()):
        old = str(bands.at[bands.index[k], "flag"] or "")
        bands.at[bands.index[k], "flag"] = tag + ("; " + old if old else "")
    money = lambda x: fmt_money(x, currency)  # noqa: E731
    return claim, (f"蓝海价格带（供给不足）{label}（{money(bump.lo)}–{money(bump.hi)}）："
                   f"{bump.listings:,} 个在售商品，单品销量是较好相邻价格带的 "
                   f"{bump.demand_ratio:.1f} 倍，z = {bump.z:.1f} · underserved band {label}: "
                   f"{bump.listings:,} listings selling {bump.demand_ratio:.1f}× the better "
                   f"neighbour's units per listing (z = {bump.z:.1f}) — " + UNDERSERVED_RULE)


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
                                 minlength=len(clean_edges(edges)) + 1)
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


def price_study(warehouse: str | os.PathLike[str], *, category: str, week: str,
                snapshot: str = "", shop: str = "", competitors: Sequence[str] = (),
                sales: pd.DataFrame | None = None, **kwargs: object) -> PriceStudy:
    """:func:`analyse_prices` on a warehouse file, with the order-value distribution.

    The warehouse is attached read-only to an in-memory DuckDB connection, so the listings
    never pass through pandas. Our shop, the competitors and our sales (``sales``: our sales
    rows of the category, :func:`research.store.scope.our_sales` on the page path) are given;
    nothing is chosen here. ``kwargs`` go to :func:`analyse_prices`.
    """
    path = Path(warehouse)
    if not path.exists():
        raise FileNotFoundError(f"warehouse {path} does not exist: load exports with "
                                "`research ingest PATH` (or `make demo`)")
    con = quiet(duckdb.connect())
    try:
        con.execute(f"ATTACH {sql_literal(path)} AS wh (READ_ONLY)")
        study = analyse_prices("wh.items", con=con, category=category or None, week=week,
                               snapshot=snapshot, shop=shop, competitors=competitors,
                               **kwargs)  # type: ignore[arg-type]
    finally:
        con.close()
    audience = read("audience", path, category=category or None)
    study.order_value, study.order_value_note = order_value_distribution(
        study.snapshot, study.edges, audience=audience, sales=sales)
    return study
