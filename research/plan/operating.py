"""The operating plan (运营计划): targets from the outlook and the day/week/month plan.

The Excel file is written by :mod:`research.plan.xlsx`, plan against actual is
:mod:`research.plan.tracking`, the metric lists and ratios are :mod:`research.plan.metrics`.

Workbench choices (stated in the plan summary beside the numbers)
-----------------------------------------------------------------
- **Weekly targets** are the forecast's point values for units, revenue, cost of goods, ad
  spend, refunds and profit (with the forecast's 80 % range beside them).
- **Traffic targets** come from 支付金额 = 访客数 × 支付转化率 × 客单价: the order value
  (客单价 = Σ revenue ÷ Σ buyers) and conversion (Σ buyers ÷ Σ daily UV) of our last
  ``history_weeks`` weeks are held, so buyers = revenue ÷ 客单价 and Σ daily UV = buyers ÷
  conversion. Visitors are shown as **average daily UV** (weekly UV is not the sum of daily
  UV); the Σ of daily UV is labelled as such. ROI (投产比) = revenue ÷ ad spend — not profit.
- **Daily plan**: each week's targets are split over its days by our weekday profile (each
  weekday's mean share of its week's revenue over the last ``history_weeks`` weeks without
  promotions), with promotion days weighted by the uplift they showed in our own history
  (mean revenue on that promotion's days ÷ mean revenue of the 14 ordinary days before it).
  Promotion days use the uplift of the same day of that promotion in our history
  (:func:`event_day_uplift`: 双11's last day is not its first), and neighbouring weeks that
  share a promotion have the outlook's total re-split between them by those day weights
  (:func:`resplit_promotion_weeks`; the two-month total is unchanged).
  The **monthly plan** is the sum of the daily plan by calendar month (a partial month says
  how many days it covers). Daily sums equal the weekly and monthly figures by construction,
  and :func:`plan_totals_agree` checks it.

Examples
--------
>>> import pandas as pd
>>> weekly = pd.DataFrame({"week_start": pd.to_datetime(["2026-11-23"]), "units": [700.0],
...                        "revenue": [70000.0], "cost": [28000.0], "ad_spend": [7000.0],
...                        "refunds": [1400.0], "profit": [33600.0]})
>>> targets = traffic_targets(weekly, aov=100.0, conversion=0.05)
>>> targets[["buyers", "uv_sum_daily", "uv_avg_daily", "roi"]].iloc[0].tolist()
[700.0, 14000.0, 2000.0, 10.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from research.checks import CheckFailed
from research.plan.metrics import PLAN_METRICS, add_ratios
from research.weeks import iso_week, week_start

__all__ = [
    "history_rates", "traffic_targets", "weekday_profile", "event_uplift", "daily_plan",
    "weekly_from_daily", "monthly_from_daily", "plan_totals_agree", "OUTLOOK_SERIES",
    "weekly_targets_from_forecast", "OperatingPlan", "build_plan", "event_day_uplift",
    "resplit_promotion_weeks",
]

#: the shop-outlook series of :mod:`research.forecasting.engine` that become plan targets
OUTLOOK_SERIES = ["units", "revenue", "cost", "ad_spend", "refunds", "platform_fees", "profit"]


def history_rates(sales: pd.DataFrame, traffic_visitors: pd.Series | None, end: pd.Timestamp,
                  weeks: int = 8) -> dict[str, float]:
    """Order value and conversion of our last ``weeks`` weeks up to ``end``.

    Parameters
    ----------
    sales : DataFrame
        Canonical ``sales`` rows (date, revenue, buyers, visitors …).
    traffic_visitors : Series, optional
        Our shop's daily UV (index date) from ``traffic``, used when ``sales`` has no
        visitors.
    end : Timestamp
        Last day of history (the study week's Sunday).
    weeks : int

    Returns
    -------
    dict
        ``aov`` (Σ revenue ÷ Σ buyers), ``conversion`` (Σ buyers ÷ Σ daily UV), with NaN for
        what cannot be computed, and ``basis`` describing the sources.
    """
    start = end - pd.Timedelta(days=7 * weeks - 1)
    recent = sales[(sales["date"] >= start) & (sales["date"] <= end)]
    revenue = float(recent["revenue"].sum())
    buyers = float(recent["buyers"].sum()) if "buyers" in recent and recent["buyers"].notna().any() \
        else float("nan")
    if "visitors" in recent and recent["visitors"].notna().any():
        uv = float(recent.groupby("date")["visitors"].sum().sum())
        basis = "sales.visitors"
    elif traffic_visitors is not None and len(traffic_visitors):
        tv = traffic_visitors[(traffic_visitors.index >= start) & (traffic_visitors.index <= end)]
        uv = float(tv.sum())
        basis = "traffic.visitors"
    else:
        uv, basis = float("nan"), "none"
    aov = revenue / buyers if buyers and buyers > 0 else float("nan")
    conversion = buyers / uv if uv and uv > 0 and buyers == buyers else float("nan")
    return {"aov": aov, "conversion": conversion, "basis": basis, "weeks": weeks,
            "from": start, "to": end}


def traffic_targets(weekly: pd.DataFrame, aov: float, conversion: float) -> pd.DataFrame:
    """Add buyers, visitors and ROI targets to weekly money targets.

    支付金额 = 访客数 × 支付转化率 × 客单价, holding 客单价 (``aov``) and conversion.
    """
    out = weekly.copy()
    out["aov"] = aov
    out["conversion"] = conversion
    out["buyers"] = out["revenue"] / aov if aov and aov > 0 else np.nan
    out["uv_sum_daily"] = out["buyers"] / conversion if conversion and conversion > 0 else np.nan
    out["uv_avg_daily"] = out["uv_sum_daily"] / 7
    out["roi"] = np.where(out["ad_spend"] > 0, out["revenue"] / out["ad_spend"].where(
        out["ad_spend"] > 0), np.nan)
    return out


def weekday_profile(sales: pd.DataFrame, end: pd.Timestamp, weeks: int = 8,
                    event_days: Sequence[pd.Timestamp] = ()) -> pd.Series:
    """Each weekday's mean share of its week's revenue (Monday = 0 … Sunday = 6).

    Weeks containing a promotion day are left out; with no usable week the profile is flat.
    """
    daily = sales.groupby("date")["revenue"].sum()
    start = week_start(pd.Series([end])).iloc[0] - pd.Timedelta(days=7 * weeks)
    daily = daily[(daily.index >= start) & (daily.index <= end)]
    if daily.empty:
        return pd.Series(1 / 7, index=range(7))
    frame = daily.rename("revenue").reset_index()
    frame["week"] = week_start(frame["date"])
    bad = set(week_start(pd.Series(pd.to_datetime(list(event_days)), dtype="datetime64[ns]")))
    full = frame.groupby("week")["date"].transform("count") == 7
    frame = frame[full & ~frame["week"].isin(bad)]
    if frame.empty:
        return pd.Series(1 / 7, index=range(7))
    frame["share"] = frame["revenue"] / frame.groupby("week")["revenue"].transform("sum")
    profile = frame.groupby(frame["date"].dt.day_of_week)["share"].mean().reindex(range(7),
                                                                            fill_value=0)
    total = profile.sum()
    return profile / total if total > 0 else pd.Series(1 / 7, index=range(7))


def event_uplift(sales: pd.DataFrame, events: pd.DataFrame, end: pd.Timestamp) -> dict[str, float]:
    """Uplift of each promotion in our own history up to ``end``.

    Mean revenue on the promotion's days ÷ mean revenue of the 14 days before its first day,
    averaged over its occurrences; promotions never seen in the history get no uplift (1.0).
    """
    daily = sales.groupby("date")["revenue"].sum()
    daily = daily[daily.index <= end]
    out: dict[str, float] = {}
    if events.empty or daily.empty:
        return out
    for name, grp in events[events["date"] <= end].groupby("name"):
        dates = pd.DatetimeIndex(sorted(grp["date"]))
        runs = np.split(dates, np.where(np.diff(dates.values).astype("timedelta64[D]")
                                        .astype(int) > 1)[0] + 1)
        ratios = []
        for run in runs:
            before = daily[(daily.index < run[0]) & (daily.index >= run[0] - pd.Timedelta(days=14))]
            during = daily.reindex(run).dropna()
            if len(before) >= 7 and len(during) and before.mean() > 0:
                ratios.append(during.mean() / before.mean())
        if ratios:
            out[str(name)] = float(np.mean(ratios))
    return out


def event_day_uplift(sales: pd.DataFrame, events: pd.DataFrame, end: pd.Timestamp,
                     future: pd.DataFrame) -> dict[pd.Timestamp, float]:
    """Uplift of each future promotion day, from the same day of that promotion in our history.

    A promotion's days are numbered from its last day (双11's 11 November is day 0, 10
    November day −1, …), because its peak is at the end; each history day's uplift is its
    revenue ÷ the mean revenue of the 14 days before that occurrence began, averaged over
    the occurrences. A future day whose number was never seen gets the promotion's mean
    uplift (:func:`event_uplift`), and a promotion never seen gets none (absent).

    Parameters
    ----------
    sales, events : DataFrame
        Our sales and the event days (``date``, ``name``) of the history.
    end : Timestamp
        Last day of history.
    future : DataFrame
        Event days (``date``, ``name``) of the plan period.
    """
    daily = sales.groupby("date")["revenue"].sum()
    daily = daily[daily.index <= end]
    seen: dict[tuple[str, int], list[float]] = {}
    for name, run in _runs(events[events["date"] <= end]):
        before = daily[(daily.index < run[0]) & (daily.index >= run[0] - pd.Timedelta(days=14))]
        if len(before) < 7 or before.mean() <= 0:
            continue
        for day in run:
            if day in daily.index and (run[-1] < end or day == run[-1]):
                seen.setdefault((name, (day - run[-1]).days), []).append(
                    daily[day] / before.mean())
    mean = event_uplift(sales, events, end)
    out: dict[pd.Timestamp, float] = {}
    for name, run in _runs(future):
        for day in run:
            ratios = seen.get((name, (day - run[-1]).days))
            if ratios:
                out[day] = float(np.mean(ratios))
            elif name in mean:
                out[day] = mean[name]
    return out


def _runs(events: pd.DataFrame) -> list[tuple[str, pd.DatetimeIndex]]:
    """Each promotion's runs of consecutive days."""
    out: list[tuple[str, pd.DatetimeIndex]] = []
    if events is None or events.empty:
        return out
    for name, grp in events.groupby("name"):
        dates = pd.DatetimeIndex(sorted(pd.to_datetime(grp["date"]).unique()))
        cuts = np.where(np.diff(dates.values).astype("timedelta64[D]").astype(int) > 1)[0] + 1
        out += [(str(name), pd.DatetimeIndex(r)) for r in np.split(dates, cuts)]
    return out


def resplit_promotion_weeks(targets: pd.DataFrame, profile: pd.Series,
                            day_uplift: dict[pd.Timestamp, float]) -> pd.DataFrame:
    """Re-split the outlook between neighbouring weeks that share promotion days.

    The weekly forecast treats every promotion day alike (its calendar input is the share of
    a week's days inside the promotion), so a week holding a promotion's peak day gets too
    little and its neighbour too much. For each run of consecutive plan weeks containing
    promotion days, the run's total of every additive metric is kept and re-split by the
    weeks' Σ of day weights (weekday profile × the day's uplift, :func:`event_day_uplift`).
    Ranges (``<metric>_lo``/``_hi``) move with their metric. Other weeks are unchanged.
    """
    out = targets.copy()
    if not day_uplift or out.empty:
        return out
    starts = list(out["week_start"])
    has = [any(d + pd.Timedelta(days=k) in day_uplift for k in range(7)) for d in starts]
    groups: list[list[int]] = []
    cur: list[int] = []
    for i, flag in enumerate(has):
        if flag and cur and starts[i] - starts[cur[-1]] == pd.Timedelta(days=7):
            cur.append(i)
        else:
            if len(cur) > 1:
                groups.append(cur)
            cur = [i] if flag else []
    if len(cur) > 1:
        groups.append(cur)
    metrics = [m for m in PLAN_METRICS if m in out and m not in ("buyers", "uv_sum_daily")]
    for idx in groups:
        weight = np.array([sum(profile.get(d.weekday(), 1 / 7) * day_uplift.get(d, 1.0)
                               for d in pd.date_range(starts[i], periods=7)) for i in idx])
        share = weight / weight.sum()
        rows = out.index[idx]
        for m in metrics:
            old = out.loc[rows, m].to_numpy(dtype=float)
            new = old.sum() * share
            out.loc[rows, m] = new
            ratio = np.divide(new, old, out=np.ones_like(new), where=old != 0)
            for side in ("_lo", "_hi"):
                if m + side in out:
                    out.loc[rows, m + side] = out.loc[rows, m + side].to_numpy(float) * ratio
    return out


def daily_plan(weekly: pd.DataFrame, profile: pd.Series, events: pd.DataFrame | None = None,
               uplift: dict[str, float] | None = None,
               day_uplift: dict[pd.Timestamp, float] | None = None) -> pd.DataFrame:
    """Split weekly targets into days.

    Parameters
    ----------
    weekly : DataFrame
        ``week_start`` and the additive metrics of :data:`PLAN_METRICS` (those present).
    profile : Series
        Weekday weights (index 0–6) from :func:`weekday_profile`.
    events : DataFrame, optional
        Promotion days (``date``, ``name``); a promotion day's weight is multiplied by its
        uplift.
    uplift : dict, optional
        Promotion name → uplift (:func:`event_uplift`).
    day_uplift : dict, optional
        Date → uplift of that very day (:func:`event_day_uplift`); takes precedence over
        ``uplift`` for the dates it holds.

    Returns
    -------
    DataFrame
        One row per day: date, week, event, and each metric; per week the days sum exactly
        to the weekly value.
    """
    metrics = [m for m in PLAN_METRICS if m in weekly.columns]
    names: dict[pd.Timestamp, str] = {}
    if events is not None and len(events):
        for row in events.itertuples():
            names.setdefault(pd.Timestamp(row.date), str(row.name))
    rows = []
    for w in weekly.itertuples():
        days = pd.date_range(w.week_start, periods=7)
        weights = np.array([profile.get(d.weekday(), 1 / 7) for d in days], dtype=float)
        weights *= np.array([(day_uplift or {}).get(d, (uplift or {}).get(names.get(d, ""), 1.0))
                             for d in days], dtype=float)
        weights = weights / weights.sum() if weights.sum() > 0 else np.full(7, 1 / 7)
        for d, wt in zip(days, weights, strict=True):
            row = {"date": d, "week": iso_week(d), "event": names.get(d, "")}
            for m in metrics:
                value = getattr(w, m)
                row[m] = value * wt if pd.notna(value) else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


def weekly_from_daily(daily: pd.DataFrame) -> pd.DataFrame:
    """Sum the daily plan by ISO week (ratios recomputed from the sums)."""
    metrics = [m for m in PLAN_METRICS if m in daily.columns]
    out = daily.groupby("week", as_index=False).agg(
        week_start=("date", "min"), days=("date", "count"), **{m: (m, "sum") for m in metrics})
    return add_ratios(out)


def monthly_from_daily(daily: pd.DataFrame) -> pd.DataFrame:
    """Sum the daily plan by calendar month (``days`` says how much of the month is covered)."""
    metrics = [m for m in PLAN_METRICS if m in daily.columns]
    frame = daily.assign(month=daily["date"].dt.strftime("%Y-%m"))
    out = frame.groupby("month", as_index=False).agg(
        days=("date", "count"), **{m: (m, "sum") for m in metrics})
    return add_ratios(out)


def plan_totals_agree(daily: pd.DataFrame, weekly: pd.DataFrame, monthly: pd.DataFrame,
                      tol: float = 0.01) -> None:
    """Check that the daily plan sums to the weekly and monthly plans (named check)."""
    for metric in [m for m in PLAN_METRICS if m in daily.columns]:
        by_week = daily.groupby("week")[metric].sum()
        w = weekly.set_index("week")[metric].reindex(by_week.index)
        by_month = daily.groupby(daily["date"].dt.strftime("%Y-%m"))[metric].sum()
        m = monthly.set_index("month")[metric].reindex(by_month.index)
        for name, a, b in (("week", by_week, w), ("month", by_month, m)):
            diff = (a - b).abs()
            if (diff > tol).any():
                key = diff.idxmax()
                raise CheckFailed(f"daily {metric} sums to {a[key]:.2f} in {name} {key}, "
                                  f"the {name}ly plan says {b[key]:.2f}")
    for metric in [m for m in PLAN_METRICS if m in daily.columns]:
        if abs(daily[metric].sum() - weekly[metric].sum()) > tol * max(len(weekly), 1):
            raise CheckFailed(f"total {metric}: daily and weekly plans disagree")

# --------------------------------------------------------------------------- the plan

def weekly_targets_from_forecast(forecast: pd.DataFrame, level: int = 80) -> pd.DataFrame:
    """The weekly targets: the shop outlook's point forecasts, one column per metric.

    Parameters
    ----------
    forecast : DataFrame
        The forecast notebook's ``results/forecast.csv`` (``series, date, point, lo80, hi80,
        …``; ``date`` is the Monday of the week). Only the shop-outlook series
        (:data:`OUTLOOK_SERIES`) are used; competitor and item series are ignored.
    level : int
        The range kept beside each target (``<metric>_lo`` / ``<metric>_hi``).

    Returns
    -------
    DataFrame
        ``week, week_start`` and each metric with its range; empty when the forecast has no
        shop outlook.

    Examples
    --------
    >>> f = pd.DataFrame({"series": ["units", "revenue"], "date": ["2026-11-23"] * 2,
    ...                   "point": [10.0, 900.0], "lo80": [8.0, 700.0], "hi80": [12.0, 1100.0]})
    >>> weekly_targets_from_forecast(f)[["week", "units", "revenue_hi"]].values.tolist()
    [['2026-W48', 10.0, 1100.0]]
    """
    if forecast is None or forecast.empty or "series" not in forecast:
        return pd.DataFrame(columns=["week", "week_start"])
    f = forecast[forecast["series"].astype(str).isin(OUTLOOK_SERIES)].copy()
    if f.empty:
        return pd.DataFrame(columns=["week", "week_start"])
    f["date"] = pd.to_datetime(f["date"])
    wide = f.pivot_table(index="date", columns="series", values="point", aggfunc="first")
    parts = [wide[[m for m in OUTLOOK_SERIES if m in wide.columns]]]
    for side in ("lo", "hi"):
        col = f"{side}{int(level)}"
        if col in f:
            rng = f.pivot_table(index="date", columns="series", values=col, aggfunc="first")
            parts.append(rng.rename(columns=lambda c, s=side: f"{c}_{s}"))
    out = pd.concat(parts, axis=1).sort_index().reset_index(names="week_start")
    out.columns.name = None
    out.insert(0, "week", out["week_start"].map(iso_week))
    return out


@dataclass
class OperatingPlan:
    """The plan of one study week: rates held, weekday profile, promotion uplift, targets.

    Attributes
    ----------
    targets : DataFrame
        Weekly targets from the outlook with their ranges and the traffic targets.
    daily, weekly, monthly : DataFrame
        The day/week/month plan (weekly and monthly are sums of the daily plan).
    rates : dict
        :func:`history_rates` (客单价 and conversion held).
    profile : Series
        Weekday weights.
    uplift : dict
        Promotion name → uplift used for its days.
    notes : list of str
        What could not be computed and the choices made.
    """

    targets: pd.DataFrame
    daily: pd.DataFrame
    weekly: pd.DataFrame
    monthly: pd.DataFrame
    rates: dict
    profile: pd.Series
    uplift: dict
    notes: list[str] = field(default_factory=list)


def build_plan(forecast: pd.DataFrame, sales: pd.DataFrame, traffic_visitors: pd.Series | None,
               events: pd.DataFrame | None, end: pd.Timestamp, history_weeks: int = 8,
               level: int = 80) -> OperatingPlan:
    """Turn the shop outlook into the day/week/month operating plan.

    Parameters
    ----------
    forecast : DataFrame
        ``results/forecast.csv`` of the forecast notebook.
    sales : DataFrame
        Our ``sales`` rows (only days up to ``end`` are used).
    traffic_visitors : Series, optional
        Our daily UV from ``traffic`` (index date), when ``sales`` has no visitors.
    events : DataFrame, optional
        Event days (``date``, ``name``) covering the history and the plan period.
    end : Timestamp
        The study week's Sunday.
    history_weeks : int
        Weeks of history for 客单价, conversion and the weekday profile.
    level : int
        Range kept beside the targets.

    Returns
    -------
    OperatingPlan
        Checked with :func:`plan_totals_agree`.
    """
    end = pd.Timestamp(end)
    sales = sales[sales["date"] <= end]
    notes: list[str] = []
    targets = weekly_targets_from_forecast(forecast, level)
    targets = targets[targets["week_start"] > end].reset_index(drop=True)
    if targets.empty or "revenue" not in targets:
        raise ValueError("the forecast has no shop outlook after the study week: no targets")
    for m in OUTLOOK_SERIES:
        if m not in targets:
            targets[m] = 0.0 if m in ("refunds", "platform_fees") else np.nan
    rates = history_rates(sales, traffic_visitors, end, history_weeks)
    if not np.isfinite(rates["aov"]):
        notes.append("我店销售没有买家数：不设客单价、买家数和访客目标。 · our sales have no buyers: "
                     "客单价, buyers and visitor targets are not set")
    elif not np.isfinite(rates["conversion"]):
        notes.append("销售表和流量表都没有可用的访客数：不设转化率和访客目标。 · no visitor counts in "
                     "sales or traffic: conversion and visitor targets are not set")
    ev = events if events is not None and len(events) else pd.DataFrame(columns=["date", "name"])
    ev = ev.assign(date=pd.to_datetime(ev["date"]))
    profile = weekday_profile(sales, end, history_weeks, event_days=ev["date"][ev["date"] <= end])
    uplift = event_uplift(sales, ev, end)
    period = ev[(ev["date"] >= targets["week_start"].min())
                & (ev["date"] <= targets["week_start"].max() + pd.Timedelta(days=6))]
    by_day = event_day_uplift(sales, ev, end, period)
    targets = resplit_promotion_weeks(targets, profile, by_day)
    targets = traffic_targets(targets, rates["aov"], rates["conversion"])
    daily = daily_plan(targets, profile, period, uplift, by_day)
    weekly = weekly_from_daily(daily)
    keep = ["week", *[c for c in targets.columns if c.endswith(("_lo", "_hi"))]]
    weekly = weekly.merge(targets[keep], on="week", how="left")
    monthly = monthly_from_daily(daily)
    plan_totals_agree(daily, weekly, monthly)
    return OperatingPlan(targets, daily, weekly, monthly, rates, profile, uplift, notes)
