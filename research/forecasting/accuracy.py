"""Forecast accuracy as the M4 competition defines it: sMAPE, MASE, OWA, and Naive2.

Definitions (Makridakis, Spiliotis & Assimakopoulos 2020, and the M4 guide):

- ``sMAPE = 200/h · Σ |y - f| / (|y| + |f|)`` in percent; a step where both the actual and the
  forecast are 0 counts as 0 (the M4 formula is undefined there).
- ``MASE = mean|y - f| / mean|x_t - x_{t-m}|``: the out-of-sample absolute error scaled by the
  in-sample error of the seasonal naive forecast (``m = 1`` gives the naive forecast). M4 uses
  ``m = 1`` for weekly and daily data, ``m = 24`` for hourly.
- ``OWA = ½ (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2)``, computed in M4 on the averages over
  all series of a set (:func:`owa`).
- Naive2 is the naive forecast of the seasonally adjusted series (classical multiplicative
  decomposition), re-seasonalised; the series is adjusted only when the M4 seasonality test
  (autocorrelation at lag ``m`` beyond the 90 % limit) says it is seasonal.

Examples
--------
>>> import numpy as np
>>> round(smape([100.0, 200.0], [110.0, 180.0]), 3)
10.025
>>> mase(np.array([1.0, 2.0, 4.0, 7.0]), [8.0, 9.0], [7.0, 7.0], m=1)
0.75
>>> owa(smape_model=8.0, mase_model=2.0, smape_naive2=10.0, mase_naive2=2.5)
0.8
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "smape",
    "mase",
    "mase_scale",
    "owa",
    "seasonality_test",
    "seasonal_indices",
    "naive2",
]

ArrayLike = Sequence[float] | np.ndarray


def smape(actual: ArrayLike, forecast: ArrayLike) -> float:
    """Symmetric MAPE in percent, as in M4 (``0/0`` steps count as 0).

    Parameters
    ----------
    actual, forecast : array-like of the same length

    Returns
    -------
    float
        Between 0 and 200.
    """
    y = np.asarray(actual, dtype=float)
    f = np.asarray(forecast, dtype=float)
    den = np.abs(y) + np.abs(f)
    num = np.abs(y - f)
    terms = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return float(200.0 * terms.mean())


def mase_scale(insample: ArrayLike, m: int = 1) -> float:
    """Mean absolute error of the seasonal naive forecast inside the sample.

    Falls back to ``m = 1`` when the sample is not longer than ``m``; ``nan`` when the
    sample has fewer than two values.
    """
    x = np.asarray(insample, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) <= m:
        m = 1
    if len(x) < 2:
        return float("nan")
    return float(np.mean(np.abs(x[m:] - x[:-m])))


def mase(insample: ArrayLike, actual: ArrayLike, forecast: ArrayLike, m: int = 1) -> float:
    """Mean absolute scaled error (M4): out-of-sample MAE over the in-sample seasonal-naive MAE.

    Returns ``nan`` when the scale is 0 (a constant history): the ratio is undefined.
    """
    scale = mase_scale(insample, m)
    err = float(np.mean(np.abs(np.asarray(actual, float) - np.asarray(forecast, float))))
    if not scale > 0:
        return float("nan")
    return err / scale


def owa(smape_model: float, mase_model: float, smape_naive2: float, mase_naive2: float) -> float:
    """Overall weighted average of M4: mean of sMAPE and MASE, each relative to Naive2."""
    return 0.5 * (smape_model / smape_naive2 + mase_model / mase_naive2)


def _acf(x: np.ndarray, nlags: int) -> np.ndarray:
    x = x - x.mean()
    den = float(np.dot(x, x))
    if den == 0:
        return np.zeros(nlags + 1)
    return np.array([1.0] + [float(np.dot(x[k:], x[:-k])) / den for k in range(1, nlags + 1)])


def seasonality_test(y: ArrayLike, m: int) -> bool:
    """The M4 seasonality test: is the autocorrelation at lag ``m`` beyond its 90 % limit?

    ``limit = 1.645 · sqrt((1 + 2 Σ_{k<m} acf_k²) / n)``; needs ``n ≥ 3m`` and ``m > 1``.
    """
    x = np.asarray(y, dtype=float)
    if m <= 1 or len(x) < 3 * m:
        return False
    acf = _acf(x, m)
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(acf[1:m] ** 2)) / len(x))
    return bool(abs(acf[m]) > limit)


def seasonal_indices(y: ArrayLike, m: int) -> np.ndarray:
    """Multiplicative seasonal indices of a classical decomposition (length ``m``).

    The centred moving average of order ``m`` (2×m for even ``m``) is the trend; the index of
    each position in the cycle is the mean ratio of the series to it, normalised to mean 1.
    Position ``i`` of the result belongs to observations ``i, i + m, …``.
    """
    x = np.asarray(y, dtype=float)
    n = len(x)
    if m % 2 == 0:
        w = np.r_[0.5, np.ones(m - 1), 0.5] / m
    else:
        w = np.ones(m) / m
    trend = np.convolve(x, w, mode="valid")
    off = (len(w) - 1) // 2
    ratio = np.full(n, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio[off: off + len(trend)] = x[off: off + len(trend)] / trend
    idx = np.array([np.nanmean(ratio[i::m]) if np.any(~np.isnan(ratio[i::m])) else 1.0
                    for i in range(m)])
    idx = np.where(np.isfinite(idx) & (idx > 0), idx, 1.0)
    return idx / idx.mean()


def naive2(y: ArrayLike, h: int, m: int = 1) -> np.ndarray:
    """Naive2 forecast of M4: naive on the seasonally adjusted series, re-seasonalised.

    Parameters
    ----------
    y : array-like
        The history.
    h : int
        Horizon.
    m : int
        Seasonal period used for the seasonality test and the decomposition (M4: weekly 1).

    Examples
    --------
    >>> naive2([1.0, 2.0, 3.0], 2).tolist()
    [3.0, 3.0]
    """
    x = np.asarray(y, dtype=float)
    n = len(x)
    if m > 1 and np.all(x > 0) and seasonality_test(x, m):
        idx = seasonal_indices(x, m)
        last = x[-1] / idx[(n - 1) % m]
        return last * idx[(n + np.arange(h)) % m]
    return np.repeat(x[-1], h).astype(float)
