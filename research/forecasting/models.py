"""Fast numpy forecasting models used by :mod:`research.forecasting.engine` (private to the engine).

Every model is a function ``(y, h, ctx) -> forecast of length h`` on a plain float array.
Exponential-smoothing parameters are chosen from a fixed grid by in-sample one-step squared
error, with the grid evaluated in one vectorised pass over the series, so a fit costs about a
millisecond instead of the 20–50 ms of a statsmodels optimiser run; that is what lets the
engine backtest several origins × several models × a thousand series in a minute.

Models (names as reported):

- ``naive`` — last value.
- ``seasonal_naive`` — the value one season ago.
- ``naive2`` — naive on the seasonally adjusted series (M4's Naive2).
- ``ses`` — simple exponential smoothing on the seasonally adjusted series.
- ``damped`` — additive damped-trend exponential smoothing (ETS(A,Ad,N)), adjusted series.
- ``theta`` — the classical Theta method (SES with half the regression slope as drift,
  Hyndman & Billah's form used by the M4 benchmark), adjusted series.
- ``regression`` — least squares on log(y + c) with trend, Fourier seasonal terms and the
  calendar events, plus an AR(1) correction of the residuals (a regression with ARIMA(1,0,0)
  errors fitted in two steps).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from research.forecasting.accuracy import seasonal_indices

_ALPHA = np.array([0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
_DAMP_A = np.array([0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9])
_DAMP_B = np.array([0.02, 0.1, 0.3])  # beta as a fraction of alpha
_DAMP_PHI = np.array([0.8, 0.9, 0.95, 0.98])
_GA, _GB, _GP = (g.ravel() for g in np.meshgrid(_DAMP_A, _DAMP_B, _DAMP_PHI, indexing="ij"))


@dataclass
class Context:
    """What a model may use besides the history: season, its indices, calendar inputs."""

    m: int
    seasonal: np.ndarray | None = None   # multiplicative indices aligned so [t % m] is position t
    x_hist: np.ndarray | None = None      # (n, p) calendar regressors
    x_future: np.ndarray | None = None    # (h, p)
    offset: float = 0.0                   # c in log(y + c)
    cache: dict = field(default_factory=dict)  # SES fit shared by ses and theta


def _reseason(f: np.ndarray, n: int, ctx: Context) -> np.ndarray:
    if ctx.seasonal is None:
        return f
    return f * ctx.seasonal[(n + np.arange(len(f))) % ctx.m]


def _deseason(y: np.ndarray, ctx: Context) -> np.ndarray:
    if ctx.seasonal is None:
        return y
    return y / ctx.seasonal[np.arange(len(y)) % ctx.m]


def naive(y: np.ndarray, h: int, ctx: Context) -> np.ndarray:
    """Last value, repeated."""
    return np.repeat(y[-1], h).astype(float)


def seasonal_naive(y: np.ndarray, h: int, ctx: Context) -> np.ndarray:
    """The value one season before each forecast step (naive when shorter than a season)."""
    m = ctx.m
    if m <= 1 or len(y) < m:
        return naive(y, h, ctx)
    last = y[-m:]
    return last[np.arange(h) % m].astype(float)


def naive2(y: np.ndarray, h: int, ctx: Context) -> np.ndarray:
    """Naive on the seasonally adjusted series, re-seasonalised."""
    ys = _deseason(y, ctx)
    return _reseason(np.repeat(ys[-1], h), len(y), ctx)


def ses_fit(y: np.ndarray) -> tuple[float, float]:
    """Grid-fit SES; return (alpha, final level)."""
    a = _ALPHA
    lev = np.full(len(a), y[0])
    sse = np.zeros(len(a))
    for t in range(1, len(y)):
        e = y[t] - lev
        sse += e * e
        lev = lev + a * e
    k = int(np.argmin(sse))
    return float(a[k]), float(lev[k])


def ses(y: np.ndarray, h: int, ctx: Context) -> np.ndarray:
    """Simple exponential smoothing of the seasonally adjusted series."""
    ys = _deseason(y, ctx)
    if len(ys) < 3:
        return naive(y, h, ctx)
    if "ses" not in ctx.cache:
        ctx.cache["ses"] = ses_fit(ys)
    _, lev = ctx.cache["ses"]
    return _reseason(np.repeat(lev, h), len(y), ctx)


def damped(y: np.ndarray, h: int, ctx: Context) -> np.ndarray:
    """ETS(A,Ad,N): additive damped trend, grid-fitted, on the seasonally adjusted series."""
    ys = _deseason(y, ctx)
    n = len(ys)
    if n < 4:
        return ses(y, h, ctx)
    a, b, p = _GA, _GA * _GB, _GP
    lev = np.full(len(a), ys[0])
    tr = np.full(len(a), (ys[min(3, n - 1)] - ys[0]) / min(3, n - 1))
    sse = np.zeros(len(a))
    for t in range(1, n):
        pt = p * tr
        e = ys[t] - lev - pt
        sse += e * e
        lev = lev + pt + a * e
        tr = pt + b * e
    k = int(np.argmin(sse))
    steps = np.cumsum(p[k] ** np.arange(1, h + 1))
    return _reseason(lev[k] + steps * tr[k], n, ctx)


def theta(y: np.ndarray, h: int, ctx: Context) -> np.ndarray:
    """Classical Theta: SES plus half the linear-regression slope as drift (thetaf form)."""
    ys = _deseason(y, ctx)
    n = len(ys)
    if n < 4:
        return ses(y, h, ctx)
    t = np.arange(n, dtype=float)
    slope = float(np.polyfit(t, ys, 1)[0])
    if "ses" not in ctx.cache:
        ctx.cache["ses"] = ses_fit(ys)
    alpha, lev = ctx.cache["ses"]
    drift = 0.5 * slope * (np.arange(h) + (1 - (1 - alpha) ** n) / alpha)
    return _reseason(lev + drift, n, ctx)


def _fourier(t: np.ndarray, period: float, k: int) -> np.ndarray:
    cols = []
    for j in range(1, k + 1):
        w = 2 * np.pi * j * t / period
        cols += [np.sin(w), np.cos(w)]
    return np.column_stack(cols) if cols else np.empty((len(t), 0))


def regression(y: np.ndarray, h: int, ctx: Context) -> np.ndarray:
    """Log-scale regression on trend, Fourier seasonality and events, AR(1) residuals.

    The history used is at most four seasons (and at least the whole series when shorter);
    the trend is damped (0.9 per step) beyond the end of the history.
    """
    n = len(y)
    m = ctx.m
    window = min(n, max(4 * m, 60))
    start = n - window
    pos = np.all(y[start:] >= 0)
    z = np.log(y[start:] + ctx.offset) if pos else y[start:].astype(float)
    t = np.arange(start, n + h, dtype=float)
    cols = [np.ones(len(t)), (t - n) / max(window, 1)]
    design = np.column_stack(cols)
    if m > 1 and window >= 2 * m:
        k = 3 if m <= 7 else min(6, m // 2)
        design = np.column_stack([design, _fourier(t, m, k)])
    if ctx.x_hist is not None and ctx.x_hist.shape[1]:
        if ctx.x_future is None:
            raise ValueError("calendar regressors: x_hist given without x_future")
        xs = np.vstack([ctx.x_hist[start:], ctx.x_future])
        keep = np.any(xs[:window] > 0, axis=0)
        design = np.column_stack([design, xs[:, keep]])
    past, fut = design[:window], design[window:]
    # damped trend: continue the trend column with 0.9 per step
    fut = fut.copy()
    fut[:, 1] = np.cumsum(0.9 ** np.arange(1, h + 1)) / max(window, 1)
    coef, *_ = np.linalg.lstsq(past, z, rcond=None)
    resid = z - past @ coef
    phi = 0.0
    if window > 3 and np.var(resid) > 0:
        phi = float(np.clip(np.corrcoef(resid[1:], resid[:-1])[0, 1], 0.0, 0.95))
    zf = fut @ coef + resid[-1] * phi ** np.arange(1, h + 1)
    if pos:
        return np.maximum(np.exp(np.clip(zf, -50, 50)) - ctx.offset, 0.0)
    return zf


MODELS = {
    "naive": naive,
    "seasonal_naive": seasonal_naive,
    "naive2": naive2,
    "ses": ses,
    "damped": damped,
    "theta": theta,
    "regression": regression,
}


def seasonal_context(y: np.ndarray, m: int, min_seasons: float = 2.0) -> np.ndarray | None:
    """Multiplicative seasonal indices when the series is long, positive and seasonal enough.

    Uses the M4 autocorrelation test at lag ``m`` but (unlike M4, which needs three seasons)
    accepts two seasons of history, so weekly data with a yearly cycle qualifies after two
    years.
    """
    n = len(y)
    if m <= 1 or n < min_seasons * m or np.any(y <= 0):
        return None
    x = y - y.mean()
    den = float(np.dot(x, x))
    if den == 0:
        return None
    acf = np.array([float(np.dot(x[k:], x[:-k])) / den for k in range(1, m + 1)])
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(acf[: m - 1] ** 2)) / n)
    if abs(acf[m - 1]) <= limit:
        return None
    return seasonal_indices(y, m)
