"""Competitors: traffic structure by channel, share of the competitive set, where each shop
is heading, and the attributes on which we can beat them.

The moves (channel starts, drops, steps, mix shifts) are detected in
:mod:`research.changepoints`; this module builds the tables around them.

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
  project's forecasting engine (``research.forecast``); the direction stays the 8-week slope.
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

``competitor_events.csv`` (:func:`research.changepoints.detect_moves`): shop, channel,
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

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from research.changepoints import CHANNEL_LABELS
from research.checks import shares_sum_to_one
from research.schema import CHANNEL_ALIASES, CHANNEL_GROUPS, CHANNELS
from research.weeks import week_start

if TYPE_CHECKING:
    from matplotlib.figure import Figure

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

#: attributes compared between our listings and the competitors'
ATTRIBUTES = ["price_band", "size", "color", "material", "function", "style"]
_SPLIT = r"[,，/、;；|]"


@dataclass
class ShopSet:
    """Our shop and the competitors studied, with how they were chosen and what is missing.

    Attributes
    ----------
    ours : str
        Our shop ("" when unknown).
    competitors : list of str
    rule : str
        How the competitors were chosen (named / top-N by visitors / top-N by revenue).
    no_traffic : list of str
        Competitors with no rows in ``traffic`` (structure and moves cannot be shown).
    not_in_items : list of str
        Competitors with no listings in ``items`` (no attribute comparison).
    """

    ours: str
    competitors: list[str]
    rule: str
    no_traffic: list[str] = field(default_factory=list)
    not_in_items: list[str] = field(default_factory=list)

    @property
    def shops(self) -> list[str]:
        """Ours first (when known), then the competitors."""
        return ([self.ours] if self.ours else []) + [c for c in self.competitors if c != self.ours]

    def role(self, shop: str) -> str:
        """``ours`` or ``competitor``."""
        return "ours" if shop == self.ours else "competitor"


def resolve_shops(traffic: pd.DataFrame, items: pd.DataFrame, ours: str = "",
                  competitors: Sequence[str] = (), top_n: int = 5,
                  sales: pd.DataFrame | None = None) -> ShopSet:
    """Decide our shop and the competitor set.

    Parameters
    ----------
    traffic, items : DataFrame
        Canonical rows (``items`` of the studied category).
    ours : str
        Our shop; empty → the most frequent ``sales.shop``.
    competitors : sequence of str
        Named competitors; empty → the ``top_n`` shops other than ours by Σ daily UV in
        ``traffic``, or by revenue in the latest ``items`` snapshot when ``traffic`` has none.
    top_n : int
    sales : DataFrame, optional
        Our sales rows, to find our shop's name.

    Examples
    --------
    >>> t = pd.DataFrame({"shop": ["我们", "A", "B"], "visitors": [5, 9, 7]})
    >>> s = resolve_shops(t, pd.DataFrame(columns=["shop"]), ours="我们", top_n=1)
    >>> s.competitors, s.rule
    (['A'], 'top 1 shops by visitors in traffic')
    """
    if isinstance(competitors, str):  # "A,B" or '["A", "B"]' from a command line
        text = competitors.strip()
        if text.startswith("["):
            import json

            competitors = [str(c) for c in json.loads(text)]
        else:
            competitors = [c.strip() for c in re.split(_SPLIT, text) if c.strip()]
    if not ours and sales is not None and "shop" in sales and sales["shop"].notna().any():
        ours = str(sales["shop"].dropna().mode().iloc[0])
    t_shops = set(traffic["shop"].dropna().astype(str)) if len(traffic) else set()
    i_shops = set(items["shop"].dropna().astype(str)) if len(items) else set()
    if competitors:
        comps, rule = [str(c) for c in competitors], "named"
    elif t_shops - {ours}:
        uv = traffic[traffic["shop"] != ours].groupby("shop")["visitors"].sum()
        comps = uv.sort_values(ascending=False).head(top_n).index.astype(str).tolist()
        rule = f"top {top_n} shops by visitors in traffic"
    elif len(items):
        latest = items[items["snapshot_date"] == items["snapshot_date"].max()]
        rev = _revenue(latest)[latest["shop"] != ours].groupby(latest["shop"]).sum()
        comps = rev.sort_values(ascending=False).head(top_n).index.astype(str).tolist()
        rule = f"top {top_n} shops by revenue in the latest items snapshot"
    else:
        comps, rule = [], "no competitors: traffic and items are empty"
    return ShopSet(ours, comps, rule, [c for c in comps if c not in t_shops],
                   [c for c in comps if c not in i_shops])


def study_window(week_end: pd.Timestamp, start: str = "") -> tuple[pd.Timestamp, pd.Timestamp]:
    """(start, end) of the study: ``start`` or 52 weeks before, to the week's Sunday."""
    end = pd.Timestamp(week_end).normalize()
    lo = pd.Timestamp(start) if start else end - pd.Timedelta(days=364)
    return lo, end


def _revenue(items: pd.DataFrame) -> pd.Series:
    rev = items["price"] * items["sales_30d"]
    if "revenue_30d" in items:
        rev = items["revenue_30d"].where(items["revenue_30d"].notna(), rev)
    return rev.astype(float)


def shop_rows(traffic: pd.DataFrame) -> pd.DataFrame:
    """Shop-level traffic rows; item-level rows summed for shops that have nothing else.

    Adds a ``source`` column (``shop rows`` / ``item rows summed``).
    """
    t = traffic
    item = t["item_id"].fillna("").astype(str) != "" if "item_id" in t else pd.Series(False, t.index)
    has_shop = t.loc[~item, "shop"].unique()
    shop_level = t[~item].assign(source="shop rows")
    only_items = t[item & ~t["shop"].isin(has_shop)]
    if only_items.empty:
        return shop_level
    num = [c for c in ("visitors", "buyers", "payment_amount") if c in t]
    summed = (only_items.groupby(["date", "shop", "channel"], as_index=False)[num]
              .sum(min_count=1).assign(source="item rows summed"))
    return pd.concat([shop_level, summed], ignore_index=True)


def unknown_channels(traffic: pd.DataFrame) -> pd.DataFrame:
    """Exported channel names the contract does not know (stored as ``other``).

    Returns
    -------
    DataFrame
        shop, channel_raw, days, uv_sum_daily — one row per unknown name and shop.
    """
    cols = ["shop", "channel_raw", "days", "uv_sum_daily"]
    if "channel_raw" not in traffic or traffic.empty:
        return pd.DataFrame(columns=cols)
    raw = traffic["channel_raw"].fillna("").astype(str)
    unknown = (traffic["channel"] == "other") & (raw != "") \
        & ~raw.map(lambda r: CHANNEL_ALIASES.get(r) == "other" or r in CHANNEL_ALIASES)
    t = traffic[unknown]
    if t.empty:
        return pd.DataFrame(columns=cols)
    return (t.groupby(["shop", "channel_raw"], as_index=False)
            .agg(days=("date", "nunique"), uv_sum_daily=("visitors", "sum")))


def _weeks(dates: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(Monday, ISO week label) of each date — computed once per distinct day."""
    dates = pd.Series(pd.to_datetime(dates))
    days = pd.Series(dates.unique())
    start = week_start(days)
    iso = start.dt.isocalendar()
    label = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    pos = pd.Index(days).get_indexer(dates)
    return (pd.Series(start.to_numpy()[pos], index=dates.index),
            pd.Series(label.to_numpy()[pos], index=dates.index))


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


def _window(traffic: pd.DataFrame, shops: ShopSet | None, start: pd.Timestamp | None,
            end: pd.Timestamp | None) -> pd.DataFrame:
    t = traffic
    if shops is not None:
        t = t[t["shop"].isin(shops.shops)]
    if start is not None:
        t = t[t["date"] >= start]
    if end is not None:
        t = t[t["date"] <= end]
    return t


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


def _ols_trend(y: np.ndarray, horizon: int, level: float, x: np.ndarray | None = None,
               x_new: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Linear trend y = a + b·t by least squares: forecast, prediction interval, slope CI.

    The textbook formulas (the same numbers as statsmodels' ``OLS.get_prediction`` with
    ``obs_ci``): ŷ ± t(n−2) · s · √(1 + 1/n + (t₀ − t̄)² / Σ(t − t̄)²).
    """
    from scipy.special import stdtrit  # Student t quantile (scipy.stats is slow to import)

    n = len(y)
    x = np.arange(n, dtype=float) if x is None else np.asarray(x, dtype=float)
    xm = x.mean()
    sxx = float(((x - xm) ** 2).sum())
    slope = float(((x - xm) * (y - y.mean())).sum() / sxx)
    icpt = float(y.mean() - slope * xm)
    resid = y - (icpt + slope * x)
    s = float(np.sqrt((resid ** 2).sum() / (n - 2))) if n > 2 else 0.0
    q = float(stdtrit(n - 2, 0.5 + level / 2)) if n > 2 else float("nan")
    new = np.arange(x[-1] + 1, x[-1] + 1 + horizon, dtype=float) if x_new is None \
        else np.asarray(x_new, dtype=float)
    mean = icpt + slope * new
    half = q * s * np.sqrt(1 + 1 / n + (new - xm) ** 2 / sxx)
    se_b = s / np.sqrt(sxx)
    return mean, mean - half, mean + half, slope, slope - q * se_b, slope + q * se_b


def heading(channels: pd.DataFrame, weeks: int = 8, horizon: int = 4,
            level: float = 0.8, engine: str = "ols",
            skip_weeks: Sequence[str] = ()) -> pd.DataFrame:
    """Short-horizon trend of each shop's total and paid traffic, with intervals.

    Method (documented placeholder for the forecast engine): OLS of weekly average daily UV
    on the week number over the last ``weeks`` complete weeks; the next ``horizon`` weeks
    with a ``level`` prediction interval (floored at 0). Needs at least 3 weeks.

    Parameters
    ----------
    channels : DataFrame
        Output of :func:`channel_structure`.
    weeks, horizon : int
    level : float
        Interval coverage (0.8 = 80 %).
    engine : {"ols", "forecast"}
        ``forecast`` uses :func:`research.forecast.forecast` (model chosen by backtest, 80 %
        interval) on all the weekly history instead; a series it cannot handle falls back to
        OLS, and ``method`` says which was used.
    skip_weeks : sequence of str
        ISO weeks left out of the fit (promotion weeks: known in advance, not the trend);
        they are shown as ``actual (not fitted)``; the fit uses the last ``weeks`` others.

    Returns
    -------
    DataFrame
        The ``competitor_heading.csv`` columns (module docstring): the actual weeks used and
        the forecast weeks.
    """
    cols = ["shop", "role", "series", "week", "week_start", "kind", "uv_avg_daily", "lo", "hi",
            "slope_per_week", "direction", "method"]
    if channels.empty:
        return pd.DataFrame(columns=cols)
    method = (f"OLS linear trend, last {weeks} weeks"
              f"{' outside promotion weeks' if skip_weeks else ''}, "
              f"{level:.0%} prediction interval")
    c = channels.assign(paid=channels["channel_group"] == "paid")
    total = c.groupby(["shop", "role", "week_start"])["uv_avg_daily"].sum().rename("total")
    paid = c[c["paid"]].groupby(["shop", "role", "week_start"])["uv_avg_daily"].sum()
    wide = pd.concat([total, paid.rename("paid")], axis=1).fillna({"paid": 0.0}).reset_index()
    rows = []
    wide["week"] = _weeks(wide["week_start"])[1]
    skip = set(skip_weeks)
    for (shop, role), g in wide.groupby(["shop", "role"], sort=False):
        g = g.sort_values("week_start")
        g = g.assign(pos=((g["week_start"] - g["week_start"].iloc[-1]).dt.days // 7),
                     fit=~g["week"].isin(skip))
        first = g.loc[g["fit"], "week_start"].tail(weeks)
        g = g[g["week_start"] >= first.iloc[0]] if len(first) else g.tail(weeks)
        fit = g[g["fit"]]
        for series in ("total", "paid"):
            for ws, v, f in zip(g["week_start"], g[series], g["fit"], strict=True):
                rows.append({"shop": shop, "role": role, "series": series, "week_start": ws,
                             "kind": "actual" if f else "actual (not fitted)",
                             "uv_avg_daily": float(v)})
            if len(fit) < 3:
                continue
            y = fit[series].to_numpy(float)
            mean, lo, hi, slope, s_lo, s_hi = _ols_trend(
                y, horizon, level, fit["pos"].to_numpy(float), np.arange(1, horizon + 1))
            direction = "rising" if s_lo > 0 else "falling" if s_hi < 0 else "flat"
            used = method
            if engine == "forecast":
                full = wide[(wide["shop"] == shop)].set_index("week_start")[series]
                got = _engine_forecast(full.sort_index(), horizon)
                if got is not None:
                    mean, lo, hi = got
                    used = "research.forecast engine (80 % interval); slope: " + method
            last = g["week_start"].iloc[-1]
            for h in range(horizon):
                rows.append({"shop": shop, "role": role, "series": series,
                             "week_start": last + pd.Timedelta(weeks=h + 1), "kind": "forecast",
                             "uv_avg_daily": max(mean[h], 0.0), "lo": max(lo[h], 0.0),
                             "hi": max(hi[h], 0.0), "slope_per_week": slope,
                             "direction": direction, "method": used})
    out = pd.DataFrame(rows)
    if out.empty:
        return pd.DataFrame(columns=cols)
    for col in ("lo", "hi", "slope_per_week", "direction"):
        if col not in out:
            out[col] = np.nan
    out["week_start"] = pd.to_datetime(out["week_start"])
    out["week"] = _weeks(out["week_start"])[1]
    if "method" not in out:
        out["method"] = np.nan
    out[["slope_per_week", "direction", "method"]] = (
        out.groupby(["shop", "series"])[["slope_per_week", "direction", "method"]]
        .transform("last"))
    out["method"] = out["method"].fillna(method)
    return out[cols]


def _engine_forecast(series: pd.Series, horizon: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    try:
        from research.forecast import forecast
    except ImportError:
        return None
    if len(series) < 12:
        return None
    try:
        fc = forecast(series.astype(float), horizon=horizon, freq="W", levels=(80,)).forecast
    except Exception:  # the engine failing falls back to the stated OLS
        return None
    return (fc["point"].to_numpy(), fc["lo80"].to_numpy(), fc["hi80"].to_numpy())


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
        f = f.assign(value=f["value"].str.split(_SPLIT)).explode("value")
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
    snap = snap.assign(_revenue=_revenue(snap),
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
            row.update(units_30d=int(s["sales_30d"].sum()), revenue_30d=float(_revenue(s).sum()),
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
    it = it.assign(_rev=_revenue(it))
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

    The rule :func:`channel_structure` uses for channels, for any grouping (a listing's
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


def competitor_study(warehouse: str | object, *, category: str = "", week: str = "",
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
        Change-point sensitivity (see :func:`research.changepoints.detect_level_shifts`).
    currency : str
        Currency of the money columns.
    trend_engine : {"ols", "forecast"}
        See :func:`heading`.
    """
    from research.changepoints import detect_moves
    from research.warehouse import read
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


# ----------------------------------------------------------------------------- charts
def plot_structure(channels: pd.DataFrame, week: str) -> Figure | None:
    """Channel shares (left) and average daily UV by channel (right) of each shop in ``week``,
    ours first."""
    import matplotlib.pyplot as plt

    w = channels[channels["week"] == week]
    if w.empty:
        return None
    shops = list(dict.fromkeys(w.sort_values("role", ascending=False)["shop"]))
    share = w.pivot_table(index="shop", columns="channel", values="share", aggfunc="sum")
    level = w.pivot_table(index="shop", columns="channel", values="uv_avg_daily", aggfunc="sum")
    order = [c for c in CHANNELS if c in share.columns]
    share, level = share.reindex(index=shops, columns=order), level.reindex(index=shops,
                                                                           columns=order)
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.5 * len(shops) + 2), sharey=True)
    colors = plt.get_cmap("tab10").colors
    for ax, frame, label in ((axes[0], share, "访客占比 share of the shop's daily UV"),
                             (axes[1], level, "日均访客 average daily UV")):
        left = np.zeros(len(shops))
        for i, c in enumerate(order):
            vals = frame[c].fillna(0).to_numpy()
            ax.barh(range(len(shops)), vals, left=left, color=colors[i % 10],
                    label=CHANNEL_LABELS.get(c, c))
            left += vals
        ax.set_xlabel(label)
    axes[0].set_yticks(range(len(shops)), shops)
    axes[0].invert_yaxis()
    axes[1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.suptitle(f"流量结构 · traffic structure, {week}")
    fig.tight_layout()
    return fig


def plot_set_share(share: pd.DataFrame) -> Figure | None:
    """Each shop's share of the set's daily UV, week by week."""
    import matplotlib.pyplot as plt

    if share.empty:
        return None
    fig, ax = plt.subplots(figsize=(11, 3.8))
    for (shop, role), g in share.groupby(["shop", "role"]):
        ax.plot(g["week_start"], g["uv_share"], lw=2.5 if role == "ours" else 1.2,
                label=f"{shop}{'（我们）' if role == 'ours' else ''}")
    ax.set_ylabel("访客份额 share of the set's UV")
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.set_title("竞争集访客份额 · share of the competitive set's visitors")
    fig.tight_layout()
    return fig


def plot_heading(head: pd.DataFrame, max_shops: int = 6) -> Figure | None:
    """Total and paid average daily UV: the weeks used and the trend ahead with its interval."""
    import matplotlib.pyplot as plt

    if head.empty:
        return None
    shops = list(dict.fromkeys(head.sort_values("role", ascending=False)["shop"]))[:max_shops]
    fig, axes = plt.subplots(len(shops), 1, figsize=(10, 2.2 * len(shops)), squeeze=False)
    for ax, shop in zip(axes[:, 0], shops, strict=True):
        for series, color in (("total", "tab:blue"), ("paid", "tab:red")):
            g = head[(head["shop"] == shop) & (head["series"] == series)]
            act, fc = g[g["kind"] != "forecast"], g[g["kind"] == "forecast"]
            ax.plot(act["week_start"], act["uv_avg_daily"], color=color, marker="o", ms=3,
                    label=f"{'全部 total' if series == 'total' else '付费 paid'}")
            skipped = act[act["kind"] != "actual"]
            ax.scatter(skipped["week_start"], skipped["uv_avg_daily"], s=40, facecolors="white",
                       edgecolors=color, zorder=3)
            if len(fc):
                ax.plot(fc["week_start"], fc["uv_avg_daily"], color=color, ls="--")
                ax.fill_between(fc["week_start"], fc["lo"], fc["hi"], color=color, alpha=0.15)
        d = head[(head["shop"] == shop) & (head["series"] == "total")]["direction"].dropna()
        ax.set_title(f"{shop} — total {d.iloc[0] if len(d) else 'n/a'}", fontsize=9)
        ax.set_ylabel("日均UV")
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig
