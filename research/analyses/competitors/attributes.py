"""Listings compared attribute by attribute, for :mod:`research.analyses.competitors.page`: what sells in
the category, what we and the competitors list, our advantages, each shop's profile and its
share of the set's listings and 30-day sales. The rules and the ``competitor_attributes.csv``
/ ``advantages.csv`` columns are stated in :mod:`research.analyses.competitors.page`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from research.analyses.competitors.shops import VALUE_SPLIT, ShopSet, listing_revenue

__all__ = ["ATTRIBUTES", "attribute_sales", "advantages", "competitor_profile", "items_share",
           "conversion_by"]

#: attributes compared between our listings and the competitors'
ATTRIBUTES = ["price_band", "size", "color", "material", "function", "style"]


def _latest(items: pd.DataFrame) -> pd.DataFrame:
    if items.empty:
        return items
    return items[items["snapshot_date"] == items["snapshot_date"].max()]



def _price_band(price: pd.Series) -> pd.Series:
    edges = np.unique(np.round(np.quantile(price.dropna(), [0.25, 0.5, 0.75]), 2))
    bins = [-np.inf, *edges, np.inf]
    labels = [f"≤{edges[0]:g}"] + [f"{a:g}–{b:g}" for a, b in zip(edges[:-1], edges[1:],
                                                                   strict=True)] \
        + [f">{edges[-1]:g}"]
    return pd.cut(price, bins=bins, labels=labels, right=True).astype(str)



def _long_attributes(items: pd.DataFrame, attributes: Sequence[str]) -> pd.DataFrame:
    """One row per listing × attribute × value (multi-valued cells split)."""
    frames = []
    for attr in attributes:
        if attr == "price_band":
            if items["price"].notna().sum() < 4:
                continue
            vals = _price_band(items["price"])
        elif attr in items and items[attr].notna().any():
            vals = items[attr]
        else:
            continue
        f = items[["item_id", "shop", "price", "sales_30d", "_revenue", "_cost"]].assign(
            attribute=attr, value=vals.astype("string"))
        f = f[f["value"].notna()]
        f = f.assign(value=f["value"].str.split(VALUE_SPLIT)).explode("value")
        f["value"] = f["value"].str.strip()
        frames.append(f[f["value"].notna() & (f["value"] != "")].drop_duplicates(
            ["attribute", "value", "item_id"]))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()



def attribute_sales(items: pd.DataFrame, shops: ShopSet,
                    attributes: Sequence[str] = ATTRIBUTES) -> pd.DataFrame:
    """Category, our and the competitors' listings and sales by attribute value.

    Uses the latest snapshot in ``items`` (pass items up to the study week only). Units are
    ``sales_30d`` (a rolling 30-day count on the listing), revenue ``revenue_30d`` or
    price × units.

    Returns
    -------
    DataFrame
        The ``competitor_attributes.csv`` columns (module docstring); attributes that are
        missing from the data are absent.

    Examples
    --------
    >>> items = pd.DataFrame({"snapshot_date": pd.Timestamp("2026-11-22"),
    ...     "item_id": ["1", "2", "3", "4"], "shop": ["我们", "A", "A", "B"],
    ...     "price": [50.0, 60, 70, 80], "sales_30d": [30, 10, 0, 0],
    ...     "material": ["钛", "不锈钢", "不锈钢", "玻璃"]})
    >>> out = attribute_sales(items, ShopSet("我们", ["A", "B"], "named"), ["material"])
    >>> out.set_index("value")["demand_index"].round(2).to_dict()
    {'钛': 3.0, '不锈钢': 0.5, '玻璃': 0.0}
    """
    cols = ["attribute", "value", "listings", "listing_share", "units", "units_share",
            "revenue", "demand_index", "median_price", "our_listings", "our_units",
            "competitors_with", "competitors", "competitor_share", "competitor_units",
            "competitor_median_price", "competitor_unit_cost", "competitor_names"]
    snap = _latest(items)
    if snap.empty:
        return pd.DataFrame(columns=cols)
    snap = snap.assign(_revenue=listing_revenue(snap),
                       _cost=snap["unit_cost"] if "unit_cost" in snap else np.nan)
    long = _long_attributes(snap, attributes)
    if long.empty:
        return pd.DataFrame(columns=cols)
    present = [c for c in shops.competitors if c in set(snap["shop"])]
    long["_ours"] = long["shop"] == shops.ours
    long["_comp"] = long["shop"].isin(present)
    per_attr = long.drop_duplicates(["attribute", "item_id"]).groupby("attribute").agg(
        n_listings=("item_id", "size"), n_units=("sales_30d", "sum"))
    g = long.groupby(["attribute", "value"])
    out = g.agg(listings=("item_id", "nunique"), units=("sales_30d", "sum"),
                revenue=("_revenue", "sum"), median_price=("price", "median")).reset_index()
    ours = long[long["_ours"]].groupby(["attribute", "value"]).agg(
        our_listings=("item_id", "nunique"), our_units=("sales_30d", "sum"))
    comp = long[long["_comp"]].groupby(["attribute", "value"]).agg(
        competitors_with=("shop", "nunique"), competitor_units=("sales_30d", "sum"),
        competitor_median_price=("price", "median"), competitor_unit_cost=("_cost", "mean"),
        competitor_names=("shop", lambda s: "、".join(sorted(s.astype(str).unique()))))
    out = out.join(ours, on=["attribute", "value"]).join(comp, on=["attribute", "value"])
    out = out.join(per_attr, on="attribute")
    out[["our_listings", "our_units", "competitors_with", "competitor_units"]] = out[
        ["our_listings", "our_units", "competitors_with", "competitor_units"]].fillna(0).astype(int)
    out["competitor_names"] = out["competitor_names"].fillna("")
    out["listing_share"] = out["listings"] / out["n_listings"]
    out["units_share"] = out["units"] / out["n_units"].where(out["n_units"] > 0)
    out["demand_index"] = out["units_share"] / out["listing_share"]
    out["competitors"] = len(present)
    # no competitor listing at all: "few competitors have it" cannot be judged (NaN)
    out["competitor_share"] = out["competitors_with"] / len(present) if present else np.nan
    order = {a: i for i, a in enumerate(attributes)}
    out = out.assign(_o=out["attribute"].map(order)).sort_values(
        ["_o", "units"], ascending=[True, False])
    return out[cols].reset_index(drop=True)



def advantages(attrs: pd.DataFrame, max_competitor_share: float = 0.4,
               min_listing_share: float = 0.01, min_demand_index: float = 1.0) -> pd.DataFrame:
    """Attribute values on which we can beat the competitors, ranked.

    A value qualifies when its demand index (units share ÷ listing share) is above
    ``min_demand_index``, we list it, at most ``max_competitor_share`` of the competitors list
    it, and it holds at least ``min_listing_share`` of the category's listings (so a value
    on two listings does not win by luck). Score = (demand index − 1) × (1 − competitor
    share). Fewer than three rows means fewer than three advantages: nothing is invented.

    Parameters
    ----------
    attrs : DataFrame
        Output of :func:`attribute_sales`.

    Returns
    -------
    DataFrame
        The ``advantages.csv`` columns (module docstring), best first.

    Examples
    --------
    >>> a = pd.DataFrame({"attribute": ["material"] * 2, "value": ["钛", "玻璃"],
    ...     "listings": [10, 90], "listing_share": [0.1, 0.9], "units": [40, 60],
    ...     "units_share": [0.4, 0.6], "demand_index": [4.0, 0.67], "our_listings": [2, 1],
    ...     "our_units": [20, 5], "competitors_with": [1, 5], "competitors": [5, 5],
    ...     "competitor_share": [0.2, 1.0]})
    >>> advantages(a).round(3)[["rank", "value", "score"]].values.tolist()
    [[1, '钛', 2.4]]
    """
    cols = ["rank", "attribute", "value", "score", "demand_index", "units_share",
            "listing_share", "listings", "our_listings", "our_units", "competitors_with",
            "competitors", "competitor_share", "evidence"]
    if attrs.empty:
        return pd.DataFrame(columns=cols)
    ok = (attrs["demand_index"] > min_demand_index) & (attrs["our_listings"] > 0) \
        & (attrs["competitor_share"] <= max_competitor_share + 1e-12) \
        & (attrs["listing_share"] >= min_listing_share)
    out = attrs[ok].copy()
    if out.empty:
        return pd.DataFrame(columns=cols)
    out["score"] = (out["demand_index"] - 1) * (1 - out["competitor_share"])
    out = out.sort_values(["score", "units_share"], ascending=False).reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    out["evidence"] = [
        f"{r.attribute}={r.value}: {r.units_share:.1%} of category units on "
        f"{r.listing_share:.1%} of listings (demand index {r.demand_index:.2f}); we list it "
        f"{int(r.our_listings)}× ({int(r.our_units):,} units/30d); "
        f"{int(r.competitors_with)} of {int(r.competitors)} competitors list it"
        for r in out.itertuples()]
    return out[cols]



def competitor_profile(items: pd.DataFrame, shops: ShopSet,
                       attributes: Sequence[str] = ("size", "color", "material", "function",
                                                    "style")) -> pd.DataFrame:
    """Per shop: listings, units, revenue, price range, unit cost and best-selling values.

    Uses the latest snapshot; shops without listings get a row saying so.

    Returns
    -------
    DataFrame
        shop, role, listings, units_30d, revenue_30d, median_price, price_min, price_max,
        unit_cost (median where given), and ``top_<attribute>`` (the value with most units).
    """
    snap = _latest(items)
    rows = []
    for shop in shops.shops:
        s = snap[snap["shop"] == shop] if len(snap) else snap
        row: dict = {"shop": shop, "role": shops.role(shop), "listings": len(s)}
        if len(s):
            row.update(units_30d=int(s["sales_30d"].sum()), revenue_30d=float(listing_revenue(s).sum()),
                       median_price=float(s["price"].median()), price_min=float(s["price"].min()),
                       price_max=float(s["price"].max()),
                       unit_cost=float(s["unit_cost"].median()) if "unit_cost" in s
                       and s["unit_cost"].notna().any() else np.nan)
            for attr in attributes:
                if attr in s and s[attr].notna().any():
                    top = s.groupby(attr)["sales_30d"].sum().sort_values(ascending=False)
                    row[f"top_{attr}"] = str(top.index[0])
        rows.append(row)
    return pd.DataFrame(rows)



def items_share(items: pd.DataFrame, shops: ShopSet | None = None) -> pd.DataFrame:
    """Each shop's share of the set's listings, units and revenue, snapshot by snapshot.

    The money side of the set share when traffic has no ``payment_amount``: units are
    ``sales_30d`` and revenue ``revenue_30d`` (or price × units) — 30-day windows ending on
    each snapshot, so consecutive weekly snapshots overlap.

    Returns
    -------
    DataFrame
        snapshot_date, shop, role, listings, units_30d, revenue_30d, units_share,
        revenue_share, shops_in_set.

    Examples
    --------
    >>> items = pd.DataFrame({"snapshot_date": pd.Timestamp("2026-11-22"),
    ...     "item_id": ["1", "2", "3"], "shop": ["A", "A", "B"], "price": [10.0, 20, 10],
    ...     "sales_30d": [1, 2, 5]})
    >>> items_share(items)[["shop", "units_share", "revenue_share"]].values.tolist()
    [['A', 0.375, 0.5], ['B', 0.625, 0.5]]
    """
    cols = ["snapshot_date", "shop", "role", "listings", "units_30d", "revenue_30d",
            "units_share", "revenue_share", "shops_in_set"]
    it = items if shops is None else items[items["shop"].isin(shops.shops)]
    if it.empty:
        return pd.DataFrame(columns=cols)
    it = it.assign(_rev=listing_revenue(it))
    out = (it.groupby(["snapshot_date", "shop"], as_index=False)
           .agg(listings=("item_id", "nunique"), units_30d=("sales_30d", "sum"),
                revenue_30d=("_rev", "sum")))
    snap = out.groupby("snapshot_date")
    out["units_share"] = out["units_30d"] / snap["units_30d"].transform("sum").where(
        lambda v: v > 0)
    out["revenue_share"] = out["revenue_30d"] / snap["revenue_30d"].transform("sum").where(
        lambda v: v > 0)
    out["shops_in_set"] = snap["shop"].transform("nunique")
    out["role"] = out["shop"].map(shops.role) if shops else "competitor"
    return out[cols]



def conversion_by(frame: pd.DataFrame, by: Sequence[str], buyers: str = "buyers",
                  visitors: str = "visitors") -> pd.DataFrame:
    """Conversion per group = Σ buyers ÷ Σ visitors (never a mean of per-row rates).

    The rule :func:`research.analyses.competitors.structure.channel_structure` uses for channels, for any grouping (a listing's
    views against its units sold, a leaf category …). Rows missing either value are left out.

    Examples
    --------
    >>> f = pd.DataFrame({"g": ["a", "a", "b"], "buyers": [1, 9, 0], "visitors": [10, 90, 5]})
    >>> conversion_by(f, ["g"])["conversion"].tolist()
    [0.1, 0.0]
    """
    ok = frame[frame[buyers].notna() & frame[visitors].notna()]
    out = ok.groupby(list(by), as_index=False).agg(
        buyers=(buyers, "sum"), visitors=(visitors, "sum"), rows=(visitors, "size"))
    out["conversion"] = out["buyers"] / out["visitors"].where(out["visitors"] > 0)
    return out
