"""The pandas stage of the price-band study, for :mod:`research.analyses.prices.analysis`: what the small
per-band tables of :mod:`research.analyses.prices.bands_sql` are turned into — movement between the
first and last snapshot, each shop's position summary, the recommended band and price point,
and price quartiles weighted by listings, units and revenue. The result columns and the
workbench's choices are documented in :mod:`research.analyses.prices.analysis`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.pages.display import fmt_money
from research.price_points import price_point, weighted_quantile

__all__ = ["band_movement", "positions_summary", "recommend_price", "price_quantiles"]


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


# ----------------------------------------------------------------------------- quantiles
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
