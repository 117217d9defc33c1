"""The numeric building blocks of the rolling-origin backtest and the intervals.

:func:`research.forecasting.engine.forecast_array` puts them together (the method is
described in :mod:`research.forecasting.engine`); the shop outlook of the forecast page uses
:func:`interval_band` for its profit ranges.

- :func:`event_adjust` (and ``_apply_effect``) — divide each calendar event's multiplicative
  effect out of a history against a rolling-median baseline, and multiply it back into a
  forecast.
- :func:`predict_all` — every named model of :mod:`research.forecasting.models` forecast from
  one origin, on the event-adjusted series (``naive2`` and ``regression`` on the raw one).
- :func:`backtest_origins` — where the backtest origins fall; :func:`error_scale` — the MASE
  scale of a training part; :func:`origin_level` — the level of the series at an origin,
  that errors are divided by.
- :func:`interval_band` (with ``_spread``, ``_quantile``) — the per-step spread ``a·k^p`` and
  the conformal quantile of the normalised errors for each level; ``_coverage`` —
  leave-one-origin-out coverage of those bands; :func:`backtest_rows` — a model's MASE,
  sMAPE and coverage rows.
- :func:`random_walk` — the naive forecast with ``z·σ·√k`` intervals, for series too short
  for a backtest.

Examples
--------
>>> import numpy as np
>>> backtest_origins(n=100, h=9, n_origins=5, stride=5, min_train=18)
[71, 76, 81, 86, 91]
>>> u = np.tile(np.arange(1.0, 10.0), (5, 1)) * np.array([[0.5], [-1], [1], [-2], [2]])
>>> s, q = interval_band(u, [0.8, 0.95])
>>> bool(np.all(np.diff(s) > 0)), [round(v, 2) for v in q]  # spread grows with the step
(True, [1.4, 1.4])
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from research.forecasting import models as fm
from research.forecasting.accuracy import mase_scale, smape

__all__ = ["event_adjust", "predict_all", "error_scale", "origin_level", "interval_band",
           "backtest_origins", "backtest_rows", "random_walk"]


def event_adjust(y: np.ndarray, xh: np.ndarray | None, xf: np.ndarray | None, m: int,
                 offset: float) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Divide out each event's effect; return (adjusted y, future log-effects, betas)."""
    if xh is None or xh.shape[1] == 0:
        return y, None, None
    active = np.any(xh > 0, axis=0)
    if not np.any(active):
        return y, None, None
    x = xh[:, active]
    pos = bool(np.all(y >= 0))
    z = np.log(y + offset) if pos else y.astype(float)
    base = pd.Series(np.where(np.any(x > 0, axis=1), np.nan, z))
    win = 15 if m == 7 else 5
    base = base.rolling(win, center=True, min_periods=1).median()
    base = base.interpolate(limit_direction="both").to_numpy()
    if np.all(np.isnan(base)):
        return y, None, None
    beta, *_ = np.linalg.lstsq(x, z - base, rcond=None)
    beta = np.clip(beta, -4.0, 4.0)
    za = z - x @ beta
    ya = np.exp(za) - offset if pos else za
    eff = xf[:, active] @ beta if xf is not None else None
    full = np.zeros(xh.shape[1])
    full[active] = beta
    return ya, eff, full


def _apply_effect(f: np.ndarray, eff: np.ndarray | None, offset: float, pos: bool) -> np.ndarray:
    if eff is None:
        return f
    return np.maximum((f + offset) * np.exp(eff) - offset, 0.0) if pos else f + eff


def predict_all(y: np.ndarray, h: int, m: int, xh: np.ndarray | None,
                xf: np.ndarray | None, names: Sequence[str], use_events: bool = True
                ) -> dict[str, np.ndarray]:
    """Forecast ``h`` steps from ``y`` with each named base model."""
    pos = bool(np.all(y >= 0))
    offset = max(0.05 * float(np.mean(np.abs(y))), 1e-6)
    if not use_events:
        xh = xf = None
    ya, eff, _ = event_adjust(y, xh, xf, m, offset)
    seas = fm.seasonal_context(ya, m)
    ctx = fm.Context(m, seas, xh, xf, offset)
    out: dict[str, np.ndarray] = {}
    for name in names:
        if name == "naive2":
            # M4's benchmark, but not blind to known events: run on the event-adjusted
            # history and multiplied back like the smoothing models (without events, as in
            # the M4 bench, it is plain Naive2); else a flat benchmark that wins a backtest
            # whose horizons hold no event would drop a promotion known to be coming
            out[name] = _apply_effect(fm.naive2(ya, h, fm.Context(m, seas)), eff, offset, pos)
        elif name == "regression":
            out[name] = fm.regression(y, h, ctx)
        else:
            out[name] = _apply_effect(fm.MODELS[name](ya, h, ctx), eff, offset, pos)
    return out


def error_scale(train: np.ndarray, m: int) -> float:
    """The MASE scale of a training part (seasonal, else one-step, else mean level; never 0)."""
    for s in (mase_scale(train, m), mase_scale(train, 1), float(np.mean(np.abs(train)))):
        if s > 0:
            return s
    return 1.0


def origin_level(train: np.ndarray, m: int) -> float:
    """The level errors at an origin are divided by: the mean of the last few periods (≠ 0)."""
    w = min(len(train), max(4, min(m, 13)))
    lev = float(np.mean(np.abs(train[-w:])))
    return lev if lev > 0 else 1.0


def _spread(u: np.ndarray) -> np.ndarray:
    """Per-step spread a·k^p fitted to the RMS of normalised errors u (K, h)."""
    h = u.shape[1]
    rms = np.sqrt(np.mean(u ** 2, axis=0)) + 1e-12
    if h == 1:
        return rms
    lk = np.log(np.arange(1, h + 1, dtype=float))
    lr = np.log(rms)
    lkc = lk - lk.mean()
    p = float(np.clip(np.dot(lkc, lr - lr.mean()) / np.dot(lkc, lkc), 0.0, 1.0))
    a = float(np.exp(np.mean(lr - p * lk)))
    return a * np.exp(p * lk)


def _quantile(v: np.ndarray, level: float) -> float:
    v = np.sort(np.abs(v.ravel()))
    n = len(v)
    r = math.ceil((n + 1) * level)
    if r > n:  # not enough errors for this level: stretch the largest by the normal ratio
        return float(v[-1] * 1.1)
    return float(v[r - 1])


def interval_band(u: np.ndarray, levels: Sequence[float]) -> tuple[np.ndarray, list[float]]:
    """Per-step spread ``s`` (h,) of normalised errors ``u`` (K, h) and one quantile per level.

    The interval at step k for level j is ``point ± q[j] · s[k] · level``.
    """
    s = _spread(u)
    return s, [_quantile(u / s, lv) for lv in levels]


def _coverage(f: np.ndarray, act: np.ndarray, lev: np.ndarray, levels: Sequence[float]
              ) -> np.ndarray:
    """Leave-one-origin-out coverage (K, len(levels)) of each origin's actuals."""
    k = f.shape[0]
    cov = np.full((k, len(levels)), np.nan)
    if k < 2:
        return cov
    u = (act - f) / lev[:, None]
    for o in range(k):
        s, q = interval_band(np.delete(u, o, axis=0), levels)
        for j, qj in enumerate(q):
            cov[o, j] = float(np.mean(np.abs(u[o]) <= qj * s))
    return cov


def backtest_origins(n: int, h: int, n_origins: int, stride: int, min_train: int) -> list[int]:
    """Up to ``n_origins`` origins ``stride`` apart, the last ``h`` before the end, ≥ ``min_train``."""
    out = []
    for j in range(n_origins):
        o = n - h - j * stride
        if o < min_train:
            break
        out.append(o)
    return out[::-1]


def backtest_rows(model: str, f: np.ndarray, act: np.ndarray, origins: Sequence[int],
                  scales: np.ndarray, levs: np.ndarray, levels: Sequence[float]) -> list[dict]:
    """One backtest row per origin of forecasts ``f`` (K, h): MASE, sMAPE, coverage per level."""
    cov = _coverage(f, act, levs, levels)
    return [{"model": model, "origin": o,
             "mase": float(np.mean(np.abs(act[i] - f[i])) / scales[i]),
             "smape": smape(act[i], f[i]),
             **{f"coverage{int(round(v * 100))}": cov[i, j] for j, v in enumerate(levels)}}
            for i, o in enumerate(origins)]


def random_walk(y: np.ndarray, h: int, levels: Sequence[float]
                ) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Naive forecast with random-walk intervals ``z·σ·√k`` (σ of the one-step changes)."""
    n = len(y)
    pt = np.repeat(y[-1], h)
    sd = float(np.std(np.diff(y))) if n > 2 else abs(float(y[-1])) * 0.1
    from scipy.stats import norm
    z = [norm.ppf(0.5 + v / 2) for v in levels]
    w = sd * np.sqrt(np.arange(1, h + 1))
    lo = [pt - zi * w for zi in z]
    hi = [pt + zi * w for zi in z]
    if np.all(y >= 0):
        lo = [np.maximum(a, 0) for a in lo]
    return pt, lo, hi
