"""Plan against actual (计划 vs 实际): the approved plan's weekly targets against what happened.

Each approved week's targets are set against the actuals of ``sales`` and ``traffic`` (our
shop): variance = actual ÷ target − 1, cumulative progress = Σ actual ÷ Σ target since the
plan started; a target is flagged when its variance is below −``threshold`` (or above
+``threshold`` for costs). The actual profit uses the plan's own platform-fee rate
(:func:`plan_fee_rate`), and :func:`revised_outlook` adds the new forecast for the weeks
left to the actuals so far.

Examples
--------
>>> import pandas as pd
>>> target = pd.DataFrame({"week": ["2026-W49", "2026-W50"], "revenue": [1000.0, 1000.0]})
>>> actual = pd.DataFrame({"week": ["2026-W49", "2026-W50"], "revenue": [900.0, 800.0]})
>>> out = plan_vs_actual(target, actual, "2026-W50", threshold=0.15)
>>> out[["week", "variance", "cum_progress", "flag"]].round(2).values.tolist()
[['2026-W49', -0.1, 0.9, False], ['2026-W50', -0.2, 0.85, True]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.plan.metrics import PLAN_METRICS, add_ratios
from research.weeks import iso_week, week_bounds

__all__ = ["actuals_weekly", "plan_vs_actual", "plan_fee_rate", "compare_with_plan",
           "revised_outlook"]


def actuals_weekly(sales: pd.DataFrame, traffic_visitors: pd.Series | None,
                   platform_fee_rate: float = 0.0) -> pd.DataFrame:
    """Our weekly actuals: units, revenue, cost, ad spend, refunds, fees, profit, buyers, UV.

    Profit = revenue − units × unit cost − ad spend − refunds − ``platform_fee_rate`` ×
    revenue: the same definition as the plan's profit when the plan's fee rate is passed
    (:func:`plan_fee_rate`); the sales export has no fee column, so fees are estimated.
    """

    s = sales.copy()
    s["cost"] = s["units"] * s["unit_cost"].fillna(0) if "unit_cost" in s else 0.0
    for col in ("ad_spend", "refunds", "buyers", "visitors"):
        if col not in s:
            s[col] = np.nan
    daily = s.groupby("date").agg(units=("units", "sum"), revenue=("revenue", "sum"),
                                  cost=("cost", "sum"), ad_spend=("ad_spend", "sum"),
                                  refunds=("refunds", "sum"),
                                  buyers=("buyers", lambda x: x.sum(min_count=1)),
                                  visitors=("visitors", lambda x: x.sum(min_count=1)))
    if traffic_visitors is not None and daily["visitors"].isna().all():
        daily["visitors"] = traffic_visitors.reindex(daily.index)
    daily["platform_fees"] = daily["revenue"] * platform_fee_rate
    daily["profit"] = (daily["revenue"] - daily["cost"] - daily["ad_spend"] - daily["refunds"]
                       - daily["platform_fees"])
    daily = daily.reset_index()
    daily["week"] = daily["date"].map(iso_week)
    weekly = daily.groupby("week", as_index=False).agg(
        days=("date", "count"), units=("units", "sum"), revenue=("revenue", "sum"),
        cost=("cost", "sum"), ad_spend=("ad_spend", "sum"), refunds=("refunds", "sum"),
        platform_fees=("platform_fees", "sum"), profit=("profit", "sum"),
        buyers=("buyers", lambda x: x.sum(min_count=1)),
        uv_sum_daily=("visitors", lambda x: x.sum(min_count=1)))
    return add_ratios(weekly)


_COMPARED = [("units", False), ("revenue", False), ("profit", False), ("uv_avg_daily", False),
             ("conversion", False), ("roi", False), ("ad_spend", True)]


def plan_vs_actual(plan_weekly: pd.DataFrame, actual_weekly: pd.DataFrame, through_week: str,
                   threshold: float = 0.15) -> pd.DataFrame:
    """Compare each plan target with the actual of every week up to ``through_week``.

    Parameters
    ----------
    plan_weekly : DataFrame
        The approved plan's weekly targets (``week`` and metric columns).
    actual_weekly : DataFrame
        From :func:`actuals_weekly`.
    through_week : str
        The study week: weeks after it are not compared (no actuals yet).
    threshold : float
        Flag a target missed by more than this fraction (costs: exceeded).

    Returns
    -------
    DataFrame
        week, metric, target, actual, variance (actual ÷ target − 1), cum_target,
        cum_actual, cum_progress (Σ actual ÷ Σ target; for ratio metrics the ratio of sums
        is not defined, so it is the mean variance), flag.
    """

    weeks = [w for w in plan_weekly["week"] if w <= through_week]
    plan = plan_weekly.set_index("week").loc[weeks]
    actual = actual_weekly.set_index("week").reindex(weeks)
    rows = []
    for metric, is_cost in _COMPARED:
        if metric not in plan or metric not in actual:
            continue
        cum_t = cum_a = 0.0
        for w in weeks:
            t, a = float(plan.at[w, metric]), actual.at[w, metric]
            a = float(a) if pd.notna(a) else np.nan
            var = a / t - 1 if t and np.isfinite(t) and np.isfinite(a) else np.nan
            additive = metric in PLAN_METRICS or metric in ("profit",)
            if additive and np.isfinite(a):
                cum_t += t
                cum_a += a
            progress = cum_a / cum_t if additive and cum_t else np.nan
            flag = bool(np.isfinite(var) and ((var > threshold) if is_cost
                                               else (var < -threshold)))
            rows.append({"week": w, "metric": metric, "target": t, "actual": a, "variance": var,
                         "cum_target": cum_t if additive else np.nan,
                         "cum_actual": cum_a if additive else np.nan,
                         "cum_progress": progress, "flag": flag})
    return pd.DataFrame(rows)


def plan_fee_rate(plan_weekly: pd.DataFrame) -> float:
    """The platform-fee share of revenue a plan assumed (0 when it has no fee column)."""
    if "platform_fees" not in plan_weekly or "revenue" not in plan_weekly:
        return 0.0
    revenue = float(plan_weekly["revenue"].sum())
    return float(plan_weekly["platform_fees"].sum()) / revenue if revenue > 0 else 0.0


def compare_with_plan(plan_weekly: pd.DataFrame, sales: pd.DataFrame,
                      traffic_visitors: pd.Series | None, through_week: str,
                      threshold: float = 0.15) -> pd.DataFrame:
    """Plan against actual up to the Sunday of ``through_week`` (nothing later is read).

    The actual profit uses the plan's own fee rate (:func:`plan_fee_rate`), so target and
    actual are the same quantity. Returns :func:`plan_vs_actual`'s frame.
    """
    end = week_bounds(through_week)[1]
    sales = sales[sales["date"] <= end]
    tv = traffic_visitors[traffic_visitors.index <= end] if traffic_visitors is not None else None
    actual = actuals_weekly(sales, tv, plan_fee_rate(plan_weekly))
    return plan_vs_actual(plan_weekly, actual, through_week, threshold)


def revised_outlook(plan_weekly: pd.DataFrame, compared: pd.DataFrame,
                    forecast_weekly: pd.DataFrame, through_week: str) -> pd.DataFrame:
    """Where the plan period will end: actual so far plus the new forecast for the rest.

    Parameters
    ----------
    plan_weekly : DataFrame
        The approved plan's weekly targets.
    compared : DataFrame
        :func:`plan_vs_actual` (or :func:`compare_with_plan`) up to ``through_week``.
    forecast_weekly : DataFrame
        :func:`research.plan.operating.weekly_targets_from_forecast` of this week's forecast (made with data up to
        ``through_week``).
    through_week : str

    Returns
    -------
    DataFrame
        Per additive metric: plan_total, actual_to_date, weeks_left, forecast_rest (Σ of the
        new weekly points over the plan weeks left), forecast_rest_lo/hi (Σ of the weekly
        range ends: wider than the range of the sum), projected_total (actual_to_date +
        forecast_rest), projected_progress (projected ÷ plan total), needed_per_week (what
        each week left must bring to meet the plan) and forecast_per_week.
    """
    rest_weeks = [w for w in plan_weekly["week"] if w > through_week]
    fw = forecast_weekly.set_index("week") if len(forecast_weekly) else pd.DataFrame()
    rows = []
    for metric in ("units", "revenue", "profit", "ad_spend"):
        if metric not in plan_weekly:
            continue
        plan_total = float(plan_weekly[metric].sum())
        done = compared[compared["metric"] == metric]
        actual = float(done["actual"].sum(min_count=1)) if len(done) else 0.0
        actual = 0.0 if not np.isfinite(actual) else actual
        have = [w for w in rest_weeks if len(fw) and w in fw.index and metric in fw]
        rest = float(fw.loc[have, metric].sum()) if have and len(have) == len(rest_weeks) \
            else (0.0 if not rest_weeks else np.nan)
        lo = float(fw.loc[have, f"{metric}_lo"].sum()) if have and f"{metric}_lo" in fw else np.nan
        hi = float(fw.loc[have, f"{metric}_hi"].sum()) if have and f"{metric}_hi" in fw else np.nan
        projected = actual + rest
        left = len(rest_weeks)
        rows.append({"metric": metric, "plan_total": plan_total, "actual_to_date": actual,
                     "weeks_done": len(done), "weeks_left": left, "forecast_rest": rest,
                     "forecast_rest_lo": lo, "forecast_rest_hi": hi,
                     "projected_total": projected,
                     "projected_progress": projected / plan_total if plan_total else np.nan,
                     "needed_per_week": (plan_total - actual) / left if left else np.nan,
                     "forecast_per_week": rest / left if left else np.nan})
    return pd.DataFrame(rows)
