"""Where each competitor is heading: a short-horizon trend of total and paid traffic, for
the competitor page (the method and the ``competitor_heading.csv`` columns are stated in
:mod:`research.analyses.competitors.page`).

The trend is statsmodels' ordinary least squares (:func:`ols_trend`): the prediction interval
of the weeks ahead is ``get_prediction(...).summary_frame(alpha)``'s ``obs_ci`` and the
slope's interval ``conf_int(alpha)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from statsmodels.regression.linear_model import OLS
from statsmodels.tools.tools import add_constant

from research.analyses.competitors.shops import iso_weeks
from research.forecasting.engine import forecast

__all__ = ["heading", "ols_trend"]


def ols_trend(y: np.ndarray, horizon: int, level: float, x: np.ndarray | None = None,
              x_new: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float, float]:
    """Linear trend y = a + b·t by ordinary least squares (statsmodels ``OLS``).

    Parameters
    ----------
    y : array
        The values fitted (at least 3).
    horizon : int
        Points ahead when ``x_new`` is not given (the ``horizon`` steps after ``x``'s last).
    level : float
        Interval coverage, 0.8 = 80 %.
    x, x_new : array, optional
        Positions of ``y`` (default 0 … n−1) and of the points predicted.

    Returns
    -------
    tuple
        (mean, lower, upper) at ``x_new`` — the prediction interval of a new observation,
        ŷ ± t(n−2) · s · √(1 + 1/n + (t₀ − t̄)² / Σ(t − t̄)²) — and (slope, slope lower, slope
        upper), the slope's ``level`` confidence interval.

    Examples
    --------
    >>> mean, lo, hi, b, b_lo, b_hi = ols_trend(np.array([1.0, 2.0, 3.0, 4.0]), 2, 0.8)
    >>> mean.round(6).tolist(), round(b, 6)
    ([5.0, 6.0], 1.0)
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    x = np.arange(n, dtype=float) if x is None else np.asarray(x, dtype=float)
    new = np.arange(x[-1] + 1, x[-1] + 1 + horizon, dtype=float) if x_new is None \
        else np.asarray(x_new, dtype=float)
    alpha = 1.0 - level
    fit = OLS(y, add_constant(x, has_constant="add")).fit()
    frame = fit.get_prediction(add_constant(new, has_constant="add")).summary_frame(
        alpha=alpha)
    slope_lo, slope_hi = np.asarray(fit.conf_int(alpha=alpha))[1]
    return (frame["mean"].to_numpy(), frame["obs_ci_lower"].to_numpy(),
            frame["obs_ci_upper"].to_numpy(), float(fit.params[1]), float(slope_lo),
            float(slope_hi))


def heading(channels: pd.DataFrame, weeks: int = 8, horizon: int = 4,
            level: float = 0.8, engine: str = "ols",
            skip_weeks: Sequence[str] = ()) -> pd.DataFrame:
    """Short-horizon trend of each shop's total and paid traffic, with intervals.

    Method: OLS (:func:`ols_trend`) of weekly average daily UV
    on the week number over the last ``weeks`` complete weeks; the next ``horizon`` weeks
    with a ``level`` prediction interval (floored at 0). Needs at least 3 weeks.

    Parameters
    ----------
    channels : DataFrame
        Output of :func:`research.analyses.competitors.structure.channel_structure`.
    weeks, horizon : int
    level : float
        Interval coverage (0.8 = 80 %).
    engine : {"ols", "forecast"}
        ``forecast`` uses :func:`research.forecasting.engine.forecast` (model chosen by backtest, 80 %
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
    wide["week"] = iso_weeks(wide["week_start"])[1]
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
            mean, lo, hi, slope, s_lo, s_hi = ols_trend(
                y, horizon, level, fit["pos"].to_numpy(float), np.arange(1, horizon + 1))
            # a constant series fits with a slope of ±1e-14 and no residual: not a trend
            eps = 1e-9 * max(1.0, float(np.abs(y).mean()))
            direction = "rising" if s_lo > eps else "falling" if s_hi < -eps else "flat"
            used = method
            if engine == "forecast":
                full = wide[(wide["shop"] == shop)].set_index("week_start")[series]
                got = _engine_forecast(full.sort_index(), horizon)
                if got is not None:
                    mean, lo, hi = got
                    used = "research.forecasting.engine engine (80 % interval); slope: " + method
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
    out["week"] = iso_weeks(out["week_start"])[1]
    if "method" not in out:
        out["method"] = pd.Series(np.nan, index=out.index, dtype=object)
    out[["slope_per_week", "direction", "method"]] = (
        out.groupby(["shop", "series"])[["slope_per_week", "direction", "method"]]
        .transform("last"))
    out["method"] = out["method"].astype(object).fillna(method)
    return out[cols]



def _engine_forecast(series: pd.Series, horizon: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    if len(series) < 12:
        return None
    try:
        fc = forecast(series.astype(float), horizon=horizon, freq="W", levels=(80,)).forecast
    except Exception:  # the engine failing falls back to the stated OLS
        return None
    return (fc["point"].to_numpy(), fc["lo80"].to_numpy(), fc["hi80"].to_numpy())
