"""The competitor page's entry point (:func:`study`): traffic structure by channel, share of
the competitive set, dated moves, where each shop is heading, and the attributes on which we
can beat them — for the study scope's category, week, our shop and competitor set.

The page chooses none of the scope: our shop, the competitors and the rule that chose them
(``Scope.competitor_rule``) are the scope's, the days studied end on the week's Sunday
(``Scope.week_end``; nothing later is read) and start ``start`` or 52 weeks before. A
named competitor without traffic rows or listings is reported, not dropped silently.

Where the work is done: :mod:`~research.analyses.competitors.structure` (channel structure,
set share), :mod:`~research.analyses.competitors.changepoints` (the moves),
:mod:`~research.analyses.competitors.heading` (the trend),
:mod:`~research.analyses.competitors.attributes` (attributes, advantages, profiles),
:mod:`~research.analyses.competitors.shops` (the shop set and traffic rows); charts in
:mod:`~research.analyses.competitors.charts` and
:mod:`~research.analyses.competitors.changepoint_charts`.

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
- **Heading**: ordinary least squares (statsmodels ``OLS``) on the last ``weeks`` (8) weekly
  values of average daily UV, projected ``horizon`` weeks ahead with an 80 % prediction
  interval (``obs_ci``); "rising" / "falling" when the slope's 80 %
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
``competitor_channels.csv`` (:func:`~research.analyses.competitors.structure.channel_structure`): shop, role (ours / competitor),
week, week_start, channel, channel_label, channel_group (free / paid / own / other), days
(days the shop reported in the week), uv_sum_daily (Σ daily UV), uv_avg_daily (average
daily UV), share (Σ channel daily UV ÷ Σ shop daily UV), buyers (Σ), conversion (Σ buyers ÷
Σ daily UV), payment_amount (Σ, money), trade_index_avg_daily (mean daily index), source
(shop rows / item rows summed).

``competitor_set_share.csv`` (:func:`~research.analyses.competitors.structure.set_share`): shop, role, week, week_start, days,
uv_avg_daily, uv_share (of the set's Σ daily UV), payment_amount, payment_share (among
shops reporting money; none when fewer than two do), payment_basis, shops_in_set.

``competitor_items_share.csv`` (:func:`~research.analyses.competitors.attributes.items_share`): snapshot_date, shop, role, listings,
units_30d, revenue_30d, units_share, revenue_share, shops_in_set — the money side from
listings when traffic carries only an index.

``competitor_events.csv`` (:func:`research.analyses.competitors.changepoints.detect_moves`): shop, channel,
channel_label, channel_group, date, week, kind (start / drop / step up / step down / mix
shift), uv_before, uv_after (average daily UV over ≤ 28 non-promotion days each side),
change, change_pct, share_before, share_after (mix shifts: the gaining channel's share),
from_channel, to_channel, z (step ÷ its standard error), description; ``role`` (ours /
competitor) after ``channel``.

``competitor_heading.csv`` (:func:`~research.analyses.competitors.heading.heading`): shop, role, series (total / paid), week,
week_start, kind (actual / actual (not fitted): a promotion week / forecast), uv_avg_daily, lo, hi, slope_per_week, direction,
method.

``competitor_attributes.csv`` (:func:`~research.analyses.competitors.attributes.attribute_sales`): attribute, value, listings,
listing_share, units, units_share, revenue, demand_index (units share ÷ listing share),
median_price, our_listings, our_units, competitors_with, competitors, competitor_share,
competitor_units, competitor_median_price, competitor_unit_cost, competitor_names.

``advantages.csv`` (:func:`~research.analyses.competitors.attributes.advantages`): rank, attribute, value, score, demand_index,
units_share, listing_share, our_listings, our_units, competitors_with, competitors,
competitor_share, evidence.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from research.analyses.competitors.attributes import (
    ATTRIBUTES,
    advantages,
    attribute_sales,
    competitor_profile,
    items_share,
)
from research.analyses.competitors.changepoints import detect_moves
from research.analyses.competitors.heading import heading
from research.analyses.competitors.shops import (
    ShopSet,
    iso_weeks,
    shop_set,
    study_window,
    unknown_channels,
)
from research.analyses.competitors.structure import channel_structure, set_share
from research.checks import check_parameter
from research.store.scope import Scope
from research.store.traffic import shop_rows
from research.store.warehouse import read

__all__ = ["CompetitorStudy", "study", "check_parameters", "profile_or_empty"]


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
        Sentences (Chinese first) on what was used or could not be computed.
    scope : Scope, optional
        The study scope the page was computed for.
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
    scope: Scope | None = None

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
        adv_zh = "、".join(f"{a}={v}" for a, v in zip(self.advantages["attribute"].head(3),
                                                     self.advantages["value"].head(3),
                                                     strict=True)) or "无"
        n = len(self.shops.competitors)
        return (f"{self.week}：竞品{n}家，自{self.start:%Y-%m-%d}起流量变动{len(self.events)}次"
                f"（近4周{len(recent)}次）；优势：{adv_zh} · {n} competitors, {self.week}: "
                f"{len(self.events)} traffic moves since {self.start:%Y-%m-%d} ({len(recent)} "
                f"in the last 4 weeks); advantages: {adv}.")




def check_parameters(*, start: str = "", sensitivity: float = 1.0, trend_engine: str = "ols",
                     week_end: str = "") -> None:
    """Refuse a bad page parameter with its name (a ``ValueError``), before anything is read.

    Examples
    --------
    >>> check_parameters(start="2025-11-24", week_end="2026-11-22")
    >>> check_parameters(sensitivity=0)
    Traceback (most recent call last):
    ...
    ValueError: competitor_traffic parameter sensitivity=0: a number > 0 (1 = the default penalty)
    """
    check_parameter("start", start)
    if start and week_end and pd.Timestamp(start) > pd.Timestamp(week_end):
        raise ValueError(f"competitor_traffic parameter start={start!r}: after the study week's "
                         f"Sunday {week_end}")
    if isinstance(sensitivity, bool) or not isinstance(sensitivity, int | float) \
            or not np.isfinite(sensitivity) or sensitivity <= 0:
        raise ValueError(f"competitor_traffic parameter sensitivity={sensitivity!r}: a number "
                         "> 0 (1 = the default penalty)")
    if trend_engine not in ("ols", "forecast"):
        raise ValueError(f"competitor_traffic parameter trend_engine={trend_engine!r}: "
                         "'ols' or 'forecast'")


def study(scope: Scope, warehouse: str | os.PathLike[str] | None, *, start: str = "",
          sensitivity: float = 1.0, trend_engine: str = "ols") -> CompetitorStudy:
    """The competitor page for one study scope.

    Parameters
    ----------
    scope : Scope
        Category (of the ``items`` rows), study week (nothing after its Sunday is read), our
        shop, the competitor set and its rule, the currency.
    warehouse : path-like
        The DuckDB warehouse (read-only).
    start : str
        First day studied ``YYYY-MM-DD``; empty = 52 weeks before the week's Sunday.
    sensitivity : float
        Change-point sensitivity (see
        :func:`research.analyses.competitors.changepoints.detect_level_shifts`).
    trend_engine : {"ols", "forecast"}
        See :func:`research.analyses.competitors.heading.heading`.

    Returns
    -------
    CompetitorStudy
        With ``shops`` = the scope's shop and competitors, ``shops.rule`` = its rule.

    Raises
    ------
    ValueError
        A bad parameter, named.
    """
    check_parameters(start=start, sensitivity=sensitivity, trend_engine=trend_engine,
                     week_end=scope.week_end)
    lo, end = study_window(pd.Timestamp(scope.week_end), start)
    window = [lo.date(), end.date()]
    traffic = read("traffic", warehouse, where="date BETWEEN ? AND ?", params=window)
    items = read("items", warehouse, category=scope.category, where="snapshot_date <= ?",
                 params=[end.date()])
    events = read("events", warehouse)
    shops = shop_set(scope.shop, scope.competitors, scope.competitor_rule, traffic, items)
    notes: list[str] = []
    if not shops.ours:
        notes.append("研究范围没有我店（仓库中没有我店的销售）：只比较竞品 · The scope names no "
                     "shop of ours (the warehouse holds none of our sales): a competitor-only "
                     "comparison.")
    if not shops.competitors:
        notes.append(f"研究范围没有竞品（{scope.competitor_rule}）：没有可比较的店铺 · The "
                     "scope has no competitors: nothing to compare with.")
    if shops.no_traffic:
        names = "、".join(shops.no_traffic)
        notes.append(f"{names} 在 {lo:%Y-%m-%d} 至 {end:%Y-%m-%d} 没有流量数据：无法显示其渠道"
                     f"结构、份额和动作 · No traffic rows for {names} in the window: their "
                     "channel structure, share and moves cannot be shown.")
    if shops.not_in_items:
        names = "、".join(shops.not_in_items)
        notes.append(f"{names} 在商品表（类目「{scope.category}」）中没有商品：无法比较属性 · "
                     f"No listings in items for {names}: no attribute comparison for them.")
    t = traffic[traffic["shop"].isin(shops.shops)]
    channels = channel_structure(t, shops)
    share = set_share(t, shops)
    moves = detect_moves(shop_rows(t), events, start=lo, end=end, sensitivity=sensitivity)
    moves.insert(2, "role", moves["shop"].map(shops.role))
    promo = pd.Series(pd.to_datetime(events["date"]).dt.normalize().unique())
    promo_weeks = iso_weeks(promo)[1].value_counts() if len(promo) else pd.Series(dtype=int)
    skip = promo_weeks[promo_weeks >= 2].index.tolist()
    head = heading(channels[channels["week_start"] <= end], engine=trend_engine,
                   skip_weeks=skip)
    attrs = attribute_sales(items, shops)
    adv = advantages(attrs)
    missing = [a for a in ATTRIBUTES if a not in set(attrs.get("attribute", []))]
    if missing:
        notes.append("商品数据缺少属性：" + "、".join(missing) + " · Attributes missing from the "
                     "items data: " + ", ".join(missing) + ".")
    if shops.competitors and len(shops.not_in_items) == len(shops.competitors):
        notes.append("没有一家竞品在商品表中有商品，无法判断哪些属性竞品少有：不列优势 · None of "
                     "the competitors has listings in items, so whether few competitors offer "
                     "a value cannot be judged: no advantages are named.")
    if len(adv) < 3:
        notes.append(f"只有 {len(adv)} 个属性值符合优势规则，计划需要三个，不凑数 · Only "
                     f"{len(adv)} attribute value(s) meet the advantage rule; the plan needs "
                     "three, and none is invented.")
    if "unit_cost" not in items or items["unit_cost"].isna().all():
        notes.append("数据中没有竞品的单位成本 · Competitors' unit cost is not in the data.")
    unknown = unknown_channels(t)
    if len(unknown):
        raw = "、".join(sorted(unknown["channel_raw"].astype(str).unique()))
        notes.append(f"契约不认识的渠道名按「其他」计：{raw} · Channel names the contract does "
                     f"not know were counted as 'other': {raw}.")
    return CompetitorStudy(shops, scope.week, lo, end, sensitivity, scope.currency, channels,
                           share, items_share(items, shops), moves, head, attrs, adv,
                           profile_or_empty(items, shops), unknown, t, notes, scope)


def profile_or_empty(items: pd.DataFrame, shops: ShopSet) -> pd.DataFrame:
    """:func:`~research.analyses.competitors.attributes.competitor_profile`, or an empty
    frame when there are no shops."""
    return competitor_profile(items, shops) if shops.shops else pd.DataFrame(
        columns=["shop", "role", "listings"])
