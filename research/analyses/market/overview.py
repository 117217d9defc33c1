"""Market overview: the category's trend, its leaders, best-sellers, who buys, when and where.

The first step of the planning cycle (研究行业数据). Everything is computed from the canonical
tables ``market_daily``, ``audience`` and ``items`` up to the Sunday of the study week (no
later data is read). Snapshot aggregations over ``items`` run in DuckDB SQL, so the overview
of millions of listings never materialises them in pandas; every function also accepts plain
DataFrames (tests, public-data adapters).

This module holds the trend and :func:`market_overview`; the listings part (leaders,
concentration, best-sellers) lives in :mod:`research.analyses.market.shops`, the audience part
(who, when, where) in :mod:`research.analyses.market.audience`, the charts in
:mod:`research.analyses.market.charts`. The page's entry point is
:func:`research.analyses.market.page.study`: the study week, category, our shop and the
competitor set come from the study scope; nothing here chooses them.

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
    item_id, shop, title, price, price_band (right-closed bands at the round price points of
    :func:`research.price_points.auto_edges`, as on the price page), sales_30d, prev_sales_30d, growth
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
``hours.csv`` — hour (0–23), share of buyers (from the hour distribution alone, or summed
    over weekdays of the joint grid): the peak hour needs no weekday distribution.
``weekdays.csv`` — weekday (1 = Monday … 7 = Sunday), share of buyers.

What the data did not allow: each part of the page (:data:`PARTS`) either has its result or
one sentence in :attr:`MarketOverview.absent` saying which data is missing (Chinese, then
English) — the peak hour from an hour distribution alone, the peak weekday from a weekday
distribution alone, the hour × weekday heatmap only with both; provinces and cities each on
their own; leaders from one snapshot, their changes, the rising leader and best-sellers only
from two. A dimension whose shares fail the sum-to-one check (a top-10 province export) is
left out with its reason (:attr:`MarketOverview.rejected`); the other dimensions stand.

Examples
--------
>>> days = pd.date_range("2026-11-09", "2026-11-22")
>>> md = pd.DataFrame({"date": days, "category": "c", "trade_index": range(14)})
>>> weekly_trend(md, until="2026-11-22")[["week", "trade_index_mean"]].values.tolist()
[['2026-W46', 3.0], ['2026-W47', 10.0]]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from research.analyses.market import audience as who
from research.analyses.market.audience import (
    audience_changes,
    gender_age,
    hour_profile,
    hour_weekday,
    hour_weekday_joint,
    region_ranking,
    weekday_profile,
)
from research.analyses.market.shops import (
    Source,
    bestsellers_on,
    concentration,
    leaders,
    listings_view,
    rising_leader,
    shop_totals,
    snapshot_dates,
)
from research.checks import CheckFailed
from research.store.schema import TABLES
from research.store.scope import Scope
from research.store.warehouse import read
from research.weeks import iso_week, week_bounds, week_start

__all__ = [
    "MarketOverview",
    "weekly_trend",
    "seasonal_shape",
    "carrying_weeks",
    "year_over_year",
    "headline_metric",
    "market_overview",
    "PARTS",
    "absent_parts",
]

#: the parts of the market page, in page order, each shown or said absent
PARTS = ("trend", "seasonal", "leaders", "concentration", "rising_leader", "bestsellers",
         "gender", "age", "spend_tier", "aov_band", "peak_hour", "peak_weekday", "heatmap",
         "provinces", "cities")

_DIM_ZH = {"gender": "性别", "age": "年龄", "spend_tier": "消费层级", "aov_band": "客单价区间",
           "hour": "小时", "weekday": "星期", "province": "省份", "city": "城市"}
_DIM_EN = {"gender": "gender", "age": "age", "spend_tier": "spending tier",
           "aov_band": "order value band", "hour": "hour", "weekday": "weekday",
           "province": "province", "city": "city"}

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


# ----------------------------------------------------------------------------- trend

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


def headline_metric(trend: pd.DataFrame) -> str | None:
    """The trend's headline column: the first of 交易指数, payment amount, orders, buyers,
    visitors that has data (``None`` when none has)."""
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
    metric = metric or headline_metric(trend)
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
    metric = metric or headline_metric(trend)
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
    competitors: tuple[str, ...] = ()
    scope: Scope | None = None
    hours: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["hour", "share"]))
    weekdays: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["weekday", "share"]))
    absent: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, str] = field(default_factory=dict)

    @property
    def headline(self) -> str | None:
        """The trend's headline metric (:func:`headline_metric`)."""
        return headline_metric(self.trend)

    @property
    def peak_hour(self) -> int | None:
        """The hour with most buyers: from the hour distribution alone (no weekday one is
        needed), or the joint grid; ``None`` without either."""
        return who.peak_hour(self.hours if not self.hours.empty else self.peak_hours)

    @property
    def peak_weekday(self) -> int | None:
        """The weekday (1 = Monday) with most buyers; ``None`` without a weekday
        distribution."""
        return who.peak_weekday(self.weekdays if not self.weekdays.empty else self.peak_hours)

    @property
    def top_province(self) -> str | None:
        """The province with the largest share of buyers; ``None`` without provinces."""
        prov = self.regions[self.regions["level"] == "province"]
        return None if prov.empty else str(prov.sort_values("rank")["segment"].iloc[0])

    def summary(self) -> str:
        """One plain sentence for the study's index page."""
        parts = [f"{self.category or 'market'} {self.week}"]
        metric, trend = self.headline, self.trend
        if metric and not trend.empty and pd.notna(trend.iloc[-1].get(f"{metric}_chg_52w")):
            parts.append(f"{metric} {trend.iloc[-1][f'{metric}_chg_52w']:+.0%} year on year")
        if not self.concentration.empty:
            parts.append(f"CR3 {self.concentration['cr3'].iloc[-1]:.0%}")
        if self.rising:
            parts.append(f"rising leader {self.rising['shop']}")
        if self.peak_hour is not None:
            parts.append(f"peak hour {self.peak_hour}:00")
        if self.top_province is not None:
            parts.append(f"top province {self.top_province}")
        return "; ".join(parts) + "."

    def results(self) -> dict[str, pd.DataFrame]:
        """The result tables by CSV name."""
        trend = self.trend
        if not self.seasonal.empty and not trend.empty:
            trend = trend.merge(self.seasonal[["week_num", "seasonal_index"]], on="week_num",
                                how="left")
        return {"market_trend": trend, "leaders": self.leaders,
                "concentration": self.concentration, "bestsellers": self.best["table"],
                "bestseller_profile": self.best["profile"], "audience": self.audience,
                "peak_hours": self.peak_hours, "regions": self.regions,
                "hours": self.hours, "weekdays": self.weekdays}


def _read_frame(source: Source | None, table: str, category: str) -> pd.DataFrame:
    if source is None:
        return pd.DataFrame(columns=TABLES[table].names)
    if isinstance(source, pd.DataFrame):
        return source
    return read(table, source, category=category or None)


def market_overview(*, week: str, warehouse: Source | None = None, category: str = "",
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
        The study week (ISO, the scope's on the page path); nothing after its Sunday is read.
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
        raise ValueError("market_overview needs the study week (the scope's week): week=''")
    _, week_end = week_bounds(week)

    trend = weekly_trend(market, week_end, category or None)
    seasonal = seasonal_shape(trend)
    yoy = year_over_year(trend, week)

    if item_src is not None:
        with listings_view(item_src, category or None, week_end) as (con, _):
            dates = snapshot_dates(con)
            shops = shop_totals(con)
            best = bestsellers_on(con, dates, min_sales, top_best)
    else:
        shops = pd.DataFrame(columns=["snapshot_date", "shop", "items", "sales_30d",
                                      "revenue_30d"])
        best = bestsellers_on(duckdb.connect(), [], min_sales, top_best)
    lead = leaders(shops, top_n)
    conc = concentration(shops)
    rising = rising_leader(shops, top_n)

    changes, rejected = _checked_changes(aud, week_end, category or None)
    ga = gender_age(changes)
    if joint_timestamps is not None:
        ts = pd.to_datetime(pd.Series(joint_timestamps))
        grid = hour_weekday_joint(ts[ts <= week_end + pd.Timedelta(days=1)])
        hours = grid.groupby("hour", as_index=False)["share"].sum()
        days = grid.groupby("weekday", as_index=False)["share"].sum()
    else:
        grid, _ = hour_weekday(changes)
        hours, days = hour_profile(changes), weekday_profile(changes)
    regions = region_ranking(changes)
    over = MarketOverview(category, week, week_end, trend, seasonal, yoy, shops, lead, conc,
                          rising, best, changes, ga, grid, regions, notes, hours=hours,
                          weekdays=days, rejected=rejected)
    over.absent = absent_parts(over, min_sales)
    over.notes.extend(over.absent.values())
    return over


def _checked_changes(aud: pd.DataFrame, until: pd.Timestamp, category: str | None
                     ) -> tuple[pd.DataFrame, dict[str, str]]:
    """:func:`audience_changes`, leaving out each dimension whose shares fail the sum-to-one
    check (a top-10 province export) — that dimension's parts are said absent, the others
    stand — with the check's message by dimension."""
    try:
        return audience_changes(aud, until, category), {}
    except CheckFailed:
        pass
    kept, rejected = [], {}
    for dim, part in aud.groupby("dimension", sort=False):
        try:
            kept.append(audience_changes(part, until, category))
        except CheckFailed as exc:
            rejected[str(dim)] = str(exc)
    changes = pd.concat([k for k in kept if not k.empty], ignore_index=True) if any(
        not k.empty for k in kept) else audience_changes(aud.iloc[:0], until, category)
    return changes, rejected


def absent_parts(over: MarketOverview, min_sales: int = 100) -> dict[str, str]:
    """Which parts of the page (:data:`PARTS`) the data did not allow, and why.

    Returns
    -------
    dict
        Part → one sentence (Chinese · English) naming the missing data; a part not in it
        has its result in ``over``.
    """
    out: dict[str, str] = {}
    upto = f"截至 {over.week_end:%Y-%m-%d}"
    if over.trend.empty:
        why = (f"没有本类目{upto}的行业大盘数据（market_daily） · no market_daily rows of the "
               f"category up to {over.week_end:%Y-%m-%d}")
        out["trend"] = _said(why, "无法展示市场趋势", "no market trend")
        out["seasonal"] = _said(why, "无法得出季节性", "no seasonal shape")
    elif over.seasonal.empty:
        out["seasonal"] = ("行业大盘数据在任一 52 周窗口内都不足 40 周：无法得出季节性。 · The market "
                           "data has fewer than 40 weeks in every 52-week window: no seasonal "
                           "shape.")
    snaps = sorted(over.shops["snapshot_date"].unique()) if len(over.shops) else []
    if not snaps:
        why = (f"没有本类目{upto}的商品快照（items） · no listing snapshot (items) of the "
               f"category up to {over.week_end:%Y-%m-%d}")
        for part, zh, en in (("leaders", "没有龙头", "no leaders"),
                             ("concentration", "没有集中度", "no concentration"),
                             ("rising_leader", "没有上升最快的龙头", "no rising leader"),
                             ("bestsellers", "没有爆款", "no best-sellers")):
            out[part] = _said(why, zh, en)
    elif len(snaps) < 2:
        day = pd.Timestamp(snaps[0])
        why = (f"只有一期商品快照（{day:%Y-%m-%d}），份额和销量变化需要两期 · only one listing "
               f"snapshot ({day:%Y-%m-%d}); changes need two")
        out["rising_leader"] = _said(why, "没有上升最快的龙头", "no rising leader")
        out["bestsellers"] = _said(why, "没有爆款（销量增长）", "no best-sellers (growth)")
    elif over.best["table"].empty:
        out["bestsellers"] = (f"最近一期快照上没有商品的30天销量达到 {min_sales} 件：没有爆款。 · No "
                              f"item has {min_sales} 30-day units on the latest snapshot: no "
                              f"best-sellers.")
    have = set(over.audience["dimension"]) if not over.audience.empty else set()
    base = ""
    if not have:
        base = (f"没有本类目{upto}的人群画像数据（audience） · no audience rows of the category "
                f"up to {over.week_end:%Y-%m-%d}")
    for dim, part in (("gender", "gender"), ("age", "age"), ("spend_tier", "spend_tier"),
                      ("aov_band", "aov_band"), ("hour", "peak_hour"),
                      ("weekday", "peak_weekday"), ("province", "provinces"),
                      ("city", "cities")):
        profile = {"hour": over.hours, "weekday": over.weekdays}.get(dim)
        if (profile is None and dim in have) or (profile is not None and not profile.empty):
            continue
        if dim in over.rejected:
            why = (f"人群数据的{_DIM_ZH[dim]}分布（{dim}）各分段占比之和不为 1（可能只导出了前几名），未采用 · "
                   f"the audience's {dim} shares do not sum to one (perhaps only the top "
                   f"segments were exported), so they are not used")
        elif not have:
            why = base
        elif dim in have:  # exported, but no segment reads as an hour or a weekday
            why = (f"人群数据的{_DIM_ZH[dim]}分布（{dim}）没有一个分段能读成{_DIM_ZH[dim]} · no "
                   f"segment of the audience's {dim} distribution reads as a {_DIM_EN[dim]}")
        else:
            why = (f"人群数据没有{_DIM_ZH[dim]}分布（{dim}） · the audience data has no "
                   f"{_DIM_EN[dim]} distribution ({dim})")
        zh, en = {"peak_hour": ("无法得出成交高峰小时", "no peak hour"),
                  "peak_weekday": ("无法得出成交最多的星期", "no peak weekday"),
                  "provinces": ("没有省份排名", "no province ranking"),
                  "cities": ("没有城市排名", "no city ranking")}.get(
            part, (f"没有{_DIM_ZH[dim]}分布", f"no {_DIM_EN[dim]} shares"))
        out[part] = _said(why, zh, en)
    if over.peak_hours.empty:
        lacking = [d for d, prof in (("hour", over.hours), ("weekday", over.weekdays))
                   if prof.empty]
        if len(lacking) != 1:
            zh, en = "既没有小时分布也没有星期分布", "neither an hour nor a weekday distribution"
        else:
            other = "weekday" if lacking == ["hour"] else "hour"
            zh = f"只有{_DIM_ZH[other]}分布、没有{_DIM_ZH[lacking[0]]}分布"
            en = f"a {other} distribution but no {lacking[0]} distribution"
        out["heatmap"] = (f"人群数据{zh}：小时 × 星期热力图需要两者，未画出。 · The audience data "
                          f"has {en}: the hour × weekday heatmap needs both and is not drawn.")
    return {p: out[p] for p in PARTS if p in out}


def _said(why: str, zh: str, en: str) -> str:
    """One sentence: the missing data (``why``: Chinese · English) and what it takes away."""
    why_zh, why_en = why.split(" · ")
    return f"{why_zh}：{zh}。 · {why_en[:1].upper()}{why_en[1:]}: {en}."
