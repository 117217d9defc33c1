"""Competitors: traffic structure by channel, share of the competitive set, where each shop
is heading, and the attributes on which we can beat them.

The moves (channel starts, drops, steps, mix shifts) are detected in
:mod:`research.analyses.competitors.changepoints`; this module builds the tables around them.

Workbench choices (each is stated in the report beside its number)
------------------------------------------------------------------
- **Level** of a channel in a week = *average daily UV*: Σ daily UV of the channel ÷ the
  number of days the shop reported that week (a channel missing on a reported day counts
  as 0). Weekly UV is not the sum of daily UV, so no weekly "visitors" figure is shown.
- **Share** of a channel = Σ its daily UV ÷ Σ all daily UV of the shop in the week (the
  platform's 访客数占比 on daily visitors). Checked to sum to one per shop-week
  (``channel_shares_sum_to_one``).
- **Conversion** by channel = Σ buyers ÷ Σ daily UV, where buyers are given.
- **Set share**: a shop's Σ daily UV ÷ the set's Σ daily UV in the week. Payment share uses
  ``payment_amount`` (money) only, among the shops that report it; a shop with only
  ``trade_index`` (an index, not money) gets no payment share — indices are never added to
  money or across channels.
- Shop-level rows (empty ``item_id``) are used; a shop with item-level rows only has them
  summed per channel and day (an upper bound: a visitor who saw two items counts twice).
- **Heading**: ordinary least squares on the last ``weeks`` (8) weekly values of average
  daily UV, projected ``horizon`` weeks ahead with an 80 % prediction interval (the OLS
  formulas, equal to statsmodels' ``obs_ci``); "rising" / "falling" when the slope's 80 %
  interval excludes zero. ``engine="forecast"`` swaps the line and interval for the
  project's forecasting engine (``research.forecasting.engine``); the direction stays the 8-week slope.
- **Attributes**: price band (quartiles of the snapshot's listing prices), size, color,
  material, function, style. Multi-valued cells (``保温,保冷``) count for each value. Shares
  are of listings / of ``sales_30d`` units with a known value of the attribute.
- **Advantage**: an attribute value that sells well in the category (units share > listing
  share, i.e. demand index > 1), that we list, and that at most ``max_competitor_share`` of
  the competitors list, on at least ``min_listing_share`` of the category's listings.
  Score = (demand index − 1) × (1 − competitor share); ranked by score.

Result columns
--------------
``competitor_channels.csv`` (:func:`channel_structure`): shop, role (ours / competitor),
week, week_start, channel, channel_label, channel_group (free / paid / own / other), days
(days the shop reported in the week), uv_sum_daily (Σ daily UV), uv_avg_daily (average
daily UV), share (Σ channel daily UV ÷ Σ shop daily UV), buyers (Σ), conversion (Σ buyers ÷
Σ daily UV), payment_amount (Σ, money), trade_index_avg_daily (mean daily index), source
(shop rows / item rows summed).

``competitor_set_share.csv`` (:func:`set_share`): shop, role, week, week_start, days,
uv_avg_daily, uv_share (of the set's Σ daily UV), payment_amount, payment_share (among
shops reporting money; none when fewer than two do), payment_basis, shops_in_set.

``competitor_items_share.csv`` (:func:`items_share`): snapshot_date, shop, role, listings,
units_30d, revenue_30d, units_share, revenue_share, shops_in_set — the money side from
listings when traffic carries only an index.

``competitor_events.csv`` (:func:`research.analyses.competitors.changepoints.detect_moves`): shop, channel,
channel_label, channel_group, date, week, kind (start / drop / step up / step down / mix
shift), uv_before, uv_after (average daily UV over ≤ 28 non-promotion days each side),
change, change_pct, share_before, share_after (mix shifts: the gaining channel's share),
from_channel, to_channel, z (step ÷ its standard error), description; ``role`` (ours /
competitor) after ``channel``.

``competitor_heading.csv`` (:func:`heading`): shop, role, series (total / paid), week,
week_start, kind (actual / actual (not fitted): a promotion week / forecast), uv_avg_daily, lo, hi, slope_per_week, direction,
method.

``competitor_attributes.csv`` (:func:`attribute_sales`): attribute, value, listings,
listing_share, units, units_share, revenue, demand_index (units share ÷ listing share),
median_price, our_listings, our_units, competitors_with, competitors, competitor_share,
competitor_units, competitor_median_price, competitor_unit_cost, competitor_names.

``advantages.csv`` (:func:`advantages`): rank, attribute, value, score, demand_index,
units_share, listing_share, our_listings, our_units, competitors_with, competitors,
competitor_share, evidence.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# the rest of the public API lives in four modules beside this one; it is re-exported here
from research.analyses.competitors.attributes import (
    ATTRIBUTES,
    advantages,
    attribute_sales,
    competitor_profile,
    conversion_by,
    items_share,
)
from research.analyses.competitors.changepoints import CHANNEL_LABELS
from research.analyses.competitors.charts import plot_heading, plot_set_share, plot_structure
from research.analyses.competitors.heading import _ols_trend as _ols_trend  # tests use it from here
from research.analyses.competitors.heading import heading
from research.analyses.competitors.shops import (
    ShopSet,
    _weeks,
    _window,
    resolve_shops,
    shop_rows,
    study_window,
    unknown_channels,
)
from research.checks import shares_sum_to_one
from research.store.schema import CHANNEL_GROUPS, CHANNELS

__all__ = [
    "ATTRIBUTES",
    "ShopSet",
    "resolve_shops",
    "study_window",
    "shop_rows",
    "unknown_channels",
    "channel_structure",
    "set_share",
    "heading",
    "attribute_sales",
    "advantages",
    "competitor_profile",
    "profile_or_empty",
    "items_share",
    "conversion_by",
    "CompetitorStudy",
    "competitor_study",
    "plot_structure",
    "plot_set_share",
    "plot_heading",
]


def channel_structure(traffic: pd.DataFrame, shops: ShopSet | None = None,
                      start: pd.Timestamp | None = None,
                      end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Weekly level (average daily UV) and share of each channel, per shop.

    Every channel a shop ever reports appears in each of its weeks (0 when absent). Calls
    the named check ``channel_shares_sum_to_one`` (:func:`research.checks.shares_sum_to_one`).

    Parameters
    ----------
    traffic : DataFrame
        Canonical traffic rows.
    shops : ShopSet, optional
        Restrict to these shops and label roles; default all shops, role ``competitor``.
    start, end : Timestamp, optional
        Days included.

    Returns
    -------
    DataFrame
        The ``competitor_channels.csv`` columns (module docstring).

    Examples
    --------
    >>> t = pd.DataFrame({"date": pd.to_datetime(["2026-11-16"] * 2 + ["2026-11-17"]),
    ...                   "shop": "A", "channel": ["organic_search", "affiliate", "organic_search"],
    ...                   "visitors": [60, 40, 100]})
    >>> out = channel_structure(t)
    >>> out[["channel", "uv_avg_daily", "share"]].to_dict("list")
    {'channel': ['organic_search', 'affiliate'], 'uv_avg_daily': [80.0, 20.0], 'share': [0.8, 0.2]}
    """
    t = shop_rows(_window(traffic, shops, start, end))
    cols = ["shop", "role", "week", "week_start", "channel", "channel_label", "channel_group",
            "days", "uv_sum_daily", "uv_avg_daily", "share", "buyers", "conversion",
            "payment_amount", "trade_index_avg_daily", "source"]
    if t.empty:
        return pd.DataFrame(columns=cols)
    t = t.assign(date=pd.to_datetime(t["date"]).dt.normalize())
    t["week_start"], t["week"] = _weeks(t["date"])
    for c in ("buyers", "payment_amount", "trade_index"):
        if c not in t:
            t[c] = np.nan
    keys = ["shop", "week_start", "week"]
    days = t.groupby(keys)["date"].nunique().rename("days")
    src = t.groupby("shop")["source"].first()
    g = (t.groupby([*keys, "channel"], observed=True)
         .agg(uv_sum_daily=("visitors", "sum"), buyers=("buyers", "sum"),
              buyers_n=("buyers", "count"), payment_amount=("payment_amount", "sum"),
              payment_n=("payment_amount", "count"), trade_index_sum=("trade_index", "sum"),
              trade_days=("trade_index", "count")))
    g["buyers"] = g["buyers"].where(g["buyers_n"] > 0)
    g["payment_amount"] = g["payment_amount"].where(g["payment_n"] > 0)
    # every channel the shop reports, in every week it reports
    chans = t.groupby("shop")["channel"].unique()
    full = days.reset_index().merge(
        chans.explode().rename("channel").reset_index(), on="shop")
    out = full.merge(g.reset_index(), on=[*keys, "channel"], how="left")
    out["uv_sum_daily"] = out["uv_sum_daily"].fillna(0)
    out["uv_avg_daily"] = out["uv_sum_daily"] / out["days"]
    total = out.groupby(keys)["uv_sum_daily"].transform("sum")
    out["share"] = (out["uv_sum_daily"] / total.where(total > 0)).astype(float)
    out["conversion"] = out["buyers"] / out["uv_sum_daily"].where(out["uv_sum_daily"] > 0)
    out["trade_index_avg_daily"] = out["trade_index_sum"] / out["trade_days"].where(
        out["trade_days"] > 0)
    out["channel_label"] = out["channel"].map(CHANNEL_LABELS).fillna(out["channel"])
    out["channel_group"] = out["channel"].map(CHANNEL_GROUPS).fillna("other")
    out["role"] = out["shop"].map(shops.role) if shops else "competitor"
    out["source"] = out["shop"].map(src)
    order = {c: i for i, c in enumerate(CHANNELS)}
    out = out.assign(_o=out["channel"].map(order).fillna(99))
    out = out.sort_values(["role", "shop", "week_start", "_o"], ascending=[False, True, True, True])
    out = out[cols].reset_index(drop=True)
    shares_sum_to_one(out, "share", by=["shop", "week"])  # channel_shares_sum_to_one
    return out


def set_share(traffic: pd.DataFrame, shops: ShopSet | None = None,
              start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
              ) -> pd.DataFrame:
    """Each shop's share of the competitive set's visitors and payment, week by week.

    Returns
    -------
    DataFrame
        The ``competitor_set_share.csv`` columns (module docstring). ``payment_share`` is
        among the shops reporting ``payment_amount`` that week; ``payment_basis`` says which.

    Examples
    --------
    >>> t = pd.DataFrame({"date": pd.to_datetime(["2026-11-16"] * 3), "shop": ["A", "B", "C"],
    ...                   "channel": "organic_search", "visitors": [30, 90, 80],
    ...                   "payment_amount": [100.0, 300.0, None],
    ...                   "trade_index": [None, None, 5000.0]})
    >>> set_share(t)[["shop", "uv_share", "payment_share", "payment_basis"]].values.tolist()
    [['A', 0.15, 0.25, 'payment_amount'], ['B', 0.45, 0.75, 'payment_amount'], ['C', 0.4, nan, 'trade_index only (an index: no share)']]
    """
    t = shop_rows(_window(traffic, shops, start, end))
    cols = ["shop", "role", "week", "week_start", "days", "uv_avg_daily", "uv_share",
            "payment_amount", "payment_share", "payment_basis", "shops_in_set"]
    if t.empty:
        return pd.DataFrame(columns=cols)
    t = t.assign(date=pd.to_datetime(t["date"]).dt.normalize())
    t["week_start"], t["week"] = _weeks(t["date"])
    for c in ("payment_amount", "trade_index"):
        if c not in t:
            t[c] = np.nan
    keys = ["shop", "week_start", "week"]
    out = (t.groupby(keys)
           .agg(days=("date", "nunique"), uv=("visitors", "sum"),
                payment_amount=("payment_amount", "sum"), payment_n=("payment_amount", "count"),
                trade_n=("trade_index", "count"))
           .reset_index())
    out["payment_amount"] = out["payment_amount"].where(out["payment_n"] > 0)
    out["uv_avg_daily"] = out["uv"] / out["days"]
    wk = out.groupby("week_start")
    out["uv_share"] = out["uv"] / wk["uv"].transform("sum")
    payers = wk["payment_amount"].transform("count")
    out["payment_share"] = (out["payment_amount"] / wk["payment_amount"].transform("sum")
                            ).where(payers >= 2)
    out["payment_basis"] = np.where(
        out["payment_amount"].notna(),
        np.where(payers >= 2, "payment_amount",
                 "payment_amount (the only shop with money that week: no share)"),
        np.where(out["trade_n"] > 0, "trade_index only (an index: no share)", "none given"))
    out["shops_in_set"] = wk["shop"].transform("nunique")
    out["role"] = out["shop"].map(shops.role) if shops else "competitor"
    return out.sort_values(["week_start", "shop"])[cols].reset_index(drop=True)


# ----------------------------------------------------------------------------- the study
@dataclass
class CompetitorStudy:
    """Everything the competitor page shows, for one study week.

    Attributes
    ----------
    shops : ShopSet
    week : str
    start, end : Timestamp
        Days studied (``end`` = the Sunday of ``week``; nothing later is read).
    channels, set_share, items_share, events, heading, attributes, advantages, profile, \
unknown : DataFrame
        See the module docstring for their columns.
    notes : list of str
        Sentences on what was used, chosen or could not be computed.
    """

    shops: ShopSet
    week: str
    start: pd.Timestamp
    end: pd.Timestamp
    sensitivity: float
    currency: str
    channels: pd.DataFrame
    set_share: pd.DataFrame
    items_share: pd.DataFrame
    events: pd.DataFrame
    heading: pd.DataFrame
    attributes: pd.DataFrame
    advantages: pd.DataFrame
    profile: pd.DataFrame
    unknown: pd.DataFrame
    traffic: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def results(self) -> dict[str, pd.DataFrame]:
        """Result tables by CSV name."""
        return {"competitor_channels": self.channels, "competitor_set_share": self.set_share,
                "competitor_items_share": self.items_share,
                "competitor_events": self.events, "competitor_heading": self.heading,
                "competitor_attributes": self.attributes, "advantages": self.advantages,
                "competitor_profile": self.profile,
                "competitor_unknown_channels": self.unknown}

    def summary(self) -> str:
        """One sentence for the study index."""
        recent = self.events[self.events["date"] >= self.end - pd.Timedelta(days=27)] \
            if len(self.events) else self.events
        adv = ", ".join(f"{a}={v}" for a, v in zip(self.advantages["attribute"].head(3),
                                                   self.advantages["value"].head(3),
                                                   strict=True)) or "none found"
        return (f"{len(self.shops.competitors)} competitors, {self.week}: {len(self.events)} "
                f"traffic moves since {self.start:%Y-%m-%d} ({len(recent)} in the last 4 weeks); "
                f"advantages: {adv}.")


def competitor_study(warehouse: str | os.PathLike[str] | None, *, category: str = "", week: str = "",
                     start: str = "", shop: str = "", competitors: Sequence[str] = (),
                     top_n: int = 5, sensitivity: float = 1.0, currency: str = "CNY",
                     trend_engine: str = "ols") -> CompetitorStudy:
    """Read the warehouse and build every table of the competitor page.

    Parameters
    ----------
    warehouse : path-like
    category : str
        Category of the ``items`` rows (empty = all).
    week : str
        ISO week; empty = the last complete week in ``traffic`` (or ``items``).
    start : str
        First day studied; empty = 52 weeks before the week's Sunday.
    shop, competitors, top_n
        See :func:`resolve_shops`.
    sensitivity : float
        Change-point sensitivity (see :func:`research.analyses.competitors.changepoints.detect_level_shifts`).
    currency : str
        Currency of the money columns.
    trend_engine : {"ols", "forecast"}
        See :func:`heading`.
    """
    from research.analyses.competitors.changepoints import detect_moves
    from research.store.warehouse import read
    from research.weeks import last_complete_week, week_bounds

    traffic = read("traffic", warehouse)
    items = read("items", warehouse, category=category or None)
    events = read("events", warehouse)
    sales = read("sales", warehouse, columns=["shop"])
    notes: list[str] = []
    if not week:
        dates = traffic["date"] if len(traffic) else items["snapshot_date"]
        if len(dates) == 0:
            raise ValueError("the warehouse has no traffic and no items rows: nothing to study")
        week = last_complete_week(dates)
    end = week_bounds(week)[1]
    lo, end = study_window(end, start)
    traffic = traffic[(traffic["date"] >= lo) & (traffic["date"] <= end)]
    items = items[items["snapshot_date"] <= end]
    shops = resolve_shops(traffic, items, shop, competitors, top_n, sales)
    notes.append(f"Competitors: {shops.rule}.")
    if not shops.ours:
        notes.append("Our shop is not known (no shop parameter, no shop in our sales rows): "
                     "shown as a competitor-only comparison.")
    if shops.no_traffic:
        notes.append("No traffic rows for " + "、".join(shops.no_traffic) + ": their channel "
                     "structure, share and moves cannot be shown.")
    if shops.not_in_items:
        notes.append("No listings in items for " + "、".join(shops.not_in_items) + ": no "
                     "attribute comparison for them.")
    t = traffic[traffic["shop"].isin(shops.shops)]
    channels = channel_structure(t, shops)
    share = set_share(t, shops)
    moves = detect_moves(shop_rows(t), events, start=lo, end=end, sensitivity=sensitivity)
    moves.insert(2, "role", moves["shop"].map(shops.role))
    promo = pd.Series(pd.to_datetime(events["date"]).dt.normalize().unique())
    promo_weeks = _weeks(promo)[1].value_counts() if len(promo) else pd.Series(dtype=int)
    skip = promo_weeks[promo_weeks >= 2].index.tolist()
    head = heading(channels[channels["week_start"] <= end], engine=trend_engine,
                   skip_weeks=skip)
    attrs = attribute_sales(items, shops)
    adv = advantages(attrs)
    missing = [a for a in ATTRIBUTES if a not in set(attrs.get("attribute", []))]
    if missing:
        notes.append("Attributes missing from the items data: " + ", ".join(missing) + ".")
    if shops.competitors and len(shops.not_in_items) == len(shops.competitors):
        notes.append("None of the competitors has listings in items, so whether few "
                     "competitors offer a value cannot be judged: no advantages are named.")
    if len(adv) < 3:
        notes.append(f"Only {len(adv)} attribute value(s) meet the advantage rule; the plan "
                     "needs three, and none is invented.")
    if "unit_cost" not in items or items["unit_cost"].isna().all():
        notes.append("Competitors' unit cost is not in the data.")
    unknown = unknown_channels(t)
    if len(unknown):
        notes.append("Channel names the contract does not know were counted as 'other': "
                     + "、".join(sorted(unknown["channel_raw"].astype(str).unique())) + ".")
    return CompetitorStudy(shops, week, lo, end, sensitivity, currency, channels, share,
                           items_share(items, shops), moves,
                           head, attrs, adv, profile_or_empty(items, shops), unknown, t, notes)


def profile_or_empty(items: pd.DataFrame, shops: ShopSet) -> pd.DataFrame:
    """:func:`competitor_profile`, or an empty frame when there are no shops."""
    return competitor_profile(items, shops) if shops.shops else pd.DataFrame(
        columns=["shop", "role", "listings"])
