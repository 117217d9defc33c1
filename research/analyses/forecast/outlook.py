"""The two-month outlook of our shop (units, revenue, cost, ad spend, refunds, fees, profit),
built on the forecasting engine (:mod:`research.forecasting.engine`, which knows no page: this
module belongs to the forecast page, :mod:`research.analyses.forecast.page`).

Rules (stated in the report beside the numbers):

- Weeks are ISO weeks (Monday–Sunday), labelled by their Monday; only complete weeks up to
  the study week's Sunday are used.
- Units, revenue and refunds are forecast by the engine. Cost = units × the average unit cost
  of the last 13 weeks (Σ units·unit_cost / Σ units). Ad spend = revenue × the last 13 weeks'
  ad-spend-to-revenue ratio, or the analyst's weekly plan when given. Platform fees = revenue ×
  the stated fee rate. Profit = revenue − cost − ad spend − refunds − platform fees.
- Ranges per week: cost, ad spend and fees scale the units/revenue intervals; profit's range
  comes from the joint backtest errors (the same origins for every metric, so the correlation
  between revenue and cost is kept).
- Two-month totals: the point is the sum of the weekly points; the range is
  ``± z · RMS`` of the backtest errors of the whole-horizon total (each origin's full error
  path, in the units of the recent origins, not rescaled), i.e. a normal approximation that includes the
  week-to-week correlation of errors — not the sum of weekly interval ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from research.forecasting.backtest import interval_band
from research.forecasting.engine import forecast

__all__ = ["weekly_shop_series", "shop_outlook", "Outlook", "weekly_mean"]

METRICS = ("units", "revenue", "cost", "ad_spend", "refunds", "platform_fees", "profit")


@dataclass
class Outlook:
    """The shop outlook: weekly forecasts, two-month totals, backtests, calendar effects."""

    forecast: pd.DataFrame      # series, date, point, lo/hi per level, model
    totals: pd.DataFrame        # metric, two_month_total, low, high, low95, high95
    backtest: pd.DataFrame      # series, model, origin, mase, smape, coverage…
    fits: pd.DataFrame          # series, origin, date, actual, point (chosen models)
    calendar: pd.DataFrame      # series, event effects, MASE with/without, totals with/without
    assumptions: dict           # unit cost, ad ratio or plan, fee rate, history weeks


def weekly_shop_series(sales: pd.DataFrame, shop: str = "", items: Sequence[str] = (),
                       end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Weekly totals of our sales: units, revenue, cost, ad_spend, refunds (sums of days).

    Parameters
    ----------
    sales : DataFrame
        Canonical ``sales`` rows.
    shop : str
        Keep this shop's rows when ``sales.shop`` is filled.
    items : sequence of str
        Keep only these item ids (empty = all).
    end : Timestamp, optional
        The study week's Sunday: later days are dropped, and so is a last incomplete week.

    Returns
    -------
    DataFrame
        Indexed by the Monday of each week; ``cost`` is Σ units × unit_cost (missing when
        the data have no unit cost), ``ad_spend``/``refunds`` missing when absent.
    """
    s = sales.copy()
    s["date"] = pd.to_datetime(s["date"])
    if shop and "shop" in s and s["shop"].notna().any():
        s = s[s["shop"].astype(str) == shop]
    if items:
        s = s[s["item_id"].astype(str).isin([str(i) for i in items])]
    if end is not None:
        s = s[s["date"] <= pd.Timestamp(end)]
    if s.empty:
        return pd.DataFrame(columns=["units", "revenue", "cost", "ad_spend", "refunds"])
    s["week"] = s["date"] - pd.to_timedelta(s["date"].dt.day_of_week, unit="D")
    cost = s["units"] * s["unit_cost"] if "unit_cost" in s else np.nan
    s = s.assign(cost=cost)
    agg = {}
    for col in ("units", "revenue", "cost", "ad_spend", "refunds"):
        if col in s and s[col].notna().any():
            agg[col] = s.groupby("week")[col].sum(min_count=1)
        else:
            agg[col] = pd.Series(np.nan, index=s["week"].unique())
    out = pd.DataFrame(agg).sort_index()
    days = s.groupby("week")["date"].nunique()
    last = out.index.max()
    if days.get(last, 7) < 7:  # incomplete final week
        out = out.drop(index=last)
    return out


def weekly_mean(frame: pd.DataFrame, date_col: str, value_col: str,
                by: str | None = None, end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Weekly mean of a daily value (e.g. average daily UV or trade index), by Monday.

    Indices and UV are not summed over days: a week's value is the average day.
    """
    f = frame[[c for c in (date_col, value_col, by) if c]].dropna(subset=[value_col]).copy()
    f[date_col] = pd.to_datetime(f[date_col])
    if end is not None:
        f = f[f[date_col] <= pd.Timestamp(end)]
    f["week"] = f[date_col] - pd.to_timedelta(f[date_col].dt.day_of_week, unit="D")
    keys = ["week"] + ([by] if by else [])
    daily = f.groupby([date_col] + ([by] if by else []))[value_col].sum().reset_index()
    daily["week"] = daily[date_col] - pd.to_timedelta(daily[date_col].dt.day_of_week, unit="D")
    out = daily.groupby(keys).agg(value=(value_col, "mean"), days=(date_col, "nunique"))
    return out[out["days"] == 7].reset_index().drop(columns="days")


def _errors(fits: pd.DataFrame) -> tuple[np.ndarray, list]:
    piv = (fits.assign(err=fits["actual"] - fits["point"])
           .pivot_table(index="origin", columns="date", values="err", aggfunc="first"))
    rows = [r.dropna().to_numpy() for _, r in piv.iterrows()]
    h = min(len(r) for r in rows) if rows else 0
    return (np.array([r[:h] for r in rows]) if h else np.empty((0, 0))), list(piv.index)


def shop_outlook(weekly: pd.DataFrame, horizon: int = 9, ad_spend_plan: float = 0.0,
                 platform_fee_rate: float = 0.05, events: pd.DataFrame | str | None = None,
                 levels: Sequence[float] = (80, 95), recent_weeks: int = 13) -> Outlook:
    """Forecast the shop's weekly units, revenue, cost, ad spend, refunds, fees and profit.

    Parameters
    ----------
    weekly : DataFrame
        From :func:`weekly_shop_series`.
    horizon : int
        Weeks ahead (nine = two months).
    ad_spend_plan : float
        Planned ad spend per week; 0 = the recent ad-spend-to-revenue ratio.
    platform_fee_rate : float
        Platform fees as a share of revenue.
    events : DataFrame or path, optional
        Analyst/warehouse events on top of the built-in promotion calendar.
    levels : sequence of float
        Interval levels in percent.
    recent_weeks : int
        Weeks the unit cost and ad ratio are averaged over.

    Returns
    -------
    Outlook
    """
    lv = [float(v) for v in levels]
    w = weekly.dropna(subset=["units", "revenue"])
    recent = w.tail(recent_weeks)
    units_sum = float(recent["units"].sum())
    unit_cost = (float(recent["cost"].sum() / units_sum)
                 if units_sum > 0 and recent["cost"].notna().any() else 0.0)
    rev_sum = float(recent["revenue"].sum())
    ad_ratio = (float(recent["ad_spend"].sum() / rev_sum)
                if rev_sum > 0 and recent["ad_spend"].notna().any() else 0.0)
    has_ref = w["refunds"].notna().any()
    res = {}
    plain = {}
    for col in ("units", "revenue") + (("refunds",) if has_ref else ()):
        s = w[col].fillna(0.0).astype(float)
        res[col] = forecast(s, horizon=horizon, freq="W", events=events, levels=lv, name=col)
        plain[col] = forecast(s, horizon=horizon, freq="W", levels=lv, name=col,
                              calendar=False, compare_events=False)
    dates = res["units"].forecast["date"]
    pts = {c: r.forecast["point"].to_numpy() for c, r in res.items()}
    if not has_ref:
        pts["refunds"] = np.zeros(horizon)
    ad_fixed = ad_spend_plan > 0
    rate_rev = platform_fee_rate + (0.0 if ad_fixed else ad_ratio)
    pts["cost"] = unit_cost * pts["units"]
    pts["ad_spend"] = np.full(horizon, ad_spend_plan) if ad_fixed else ad_ratio * pts["revenue"]
    pts["platform_fees"] = platform_fee_rate * pts["revenue"]
    pts["profit"] = (pts["revenue"] - pts["cost"] - pts["ad_spend"] - pts["refunds"]
                     - pts["platform_fees"])
    # joint backtest errors (same origins for every engine-forecast metric)
    err = {c: _errors(r.fits)[0] for c, r in res.items()}
    k = min(e.shape[0] for e in err.values())
    hh = min(e.shape[1] for e in err.values()) if k else 0
    for c in list(err):
        err[c] = err[c][-k:, :hh] if k else err[c]
    if not has_ref:
        err["refunds"] = np.zeros((k, hh))
    err["cost"] = unit_cost * err["units"]
    err["ad_spend"] = np.zeros((k, hh)) if ad_fixed else ad_ratio * err["revenue"]
    err["platform_fees"] = platform_fee_rate * err["revenue"]
    err["profit"] = (err["revenue"] * (1 - rate_rev) - err["cost"] - err["refunds"]
                     - (0.0 if not ad_fixed else 0.0))
    rows = []
    lev_rev = max(float(recent["revenue"].mean()), 1e-9)
    for metric in METRICS:
        if metric in res:
            fc = res[metric].forecast.copy()
        else:
            fc = pd.DataFrame({"date": dates, "point": pts[metric]})
            base = {"cost": ("units", unit_cost), "ad_spend": ("revenue", ad_ratio),
                    "platform_fees": ("revenue", platform_fee_rate)}
            if metric in base and not (metric == "ad_spend" and ad_fixed):
                src, factor = base[metric]
                for v in lv:
                    fc[f"lo{int(v)}"] = factor * res[src].forecast[f"lo{int(v)}"].to_numpy()
                    fc[f"hi{int(v)}"] = factor * res[src].forecast[f"hi{int(v)}"].to_numpy()
                fc["model"] = f"{factor:.4g} × {src}"
            elif metric == "profit" and k >= 2 and hh:
                s, q = interval_band(err["profit"] / lev_rev, [v / 100 for v in lv])
                width = np.r_[s, np.repeat(s[-1], max(0, horizon - hh))][:horizon] * lev_rev
                for v, qj in zip(lv, q, strict=True):
                    fc[f"lo{int(v)}"] = pts["profit"] - qj * width
                    fc[f"hi{int(v)}"] = pts["profit"] + qj * width
                fc["model"] = "revenue − cost − ad − refunds − fees"
            else:
                for v in lv:
                    fc[f"lo{int(v)}"] = fc[f"hi{int(v)}"] = pts[metric]
                fc["model"] = "plan" if metric == "ad_spend" else "derived"
        rows.append(fc.assign(series=metric))
    fc_all = pd.concat(rows, ignore_index=True)
    fc_all = fc_all[["series"] + [c for c in fc_all.columns if c != "series"]]
    # two-month totals
    tot_rows = []
    for metric in METRICS:
        total = float(pts[metric].sum())
        e = err[metric]
        rms = float(np.sqrt(np.mean(e.sum(axis=1) ** 2))) if k else float("nan")
        if k and hh < horizon:  # stretch to the full horizon (errors of sums grow ~ linearly)
            rms *= horizon / hh
        row = {"metric": metric, "two_month_total": total}
        for j, v in enumerate(lv):
            z = float(norm.ppf(0.5 + v / 200))
            lo, hi = total - z * rms, total + z * rms
            if metric != "profit":
                lo = max(lo, 0.0)
            suffix = "" if j == 0 else str(int(v))
            row[f"low{suffix}"], row[f"high{suffix}"] = lo, hi
        tot_rows.append(row)
    totals = pd.DataFrame(tot_rows)
    bts, fits, cal = [], [], []
    for c, r in res.items():
        bts.append(r.backtest.assign(series=c))
        fits.append(r.fits.assign(series=c))
        with_cal = r.backtest[r.backtest["model"] == r.model]["mase"].mean()
        without = r.backtest[r.backtest["model"] == f"{r.model} without calendar"]["mase"].mean()
        cal.append({"series": c, "model": r.model,
                    "effects": ", ".join(f"{n} ×{v:.2f}" for n, v in r.event_effects.items()),
                    "mase_with_calendar": with_cal, "mase_without_calendar": without,
                    "total_with_calendar": float(r.forecast["point"].sum()),
                    "total_without_calendar": float(plain[c].forecast["point"].sum())})
    bt = pd.concat(bts, ignore_index=True)
    bt = bt[["series"] + [c for c in bt.columns if c != "series"]]
    assumptions = {"unit_cost": unit_cost, "ad_ratio": ad_ratio, "ad_spend_plan": ad_spend_plan,
                   "platform_fee_rate": platform_fee_rate, "history_weeks": len(w),
                   "recent_weeks": min(recent_weeks, len(w)), "backtest_origins": k}
    return Outlook(fc_all, totals, bt, pd.concat(fits, ignore_index=True), pd.DataFrame(cal),
                   assumptions)
