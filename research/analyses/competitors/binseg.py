"""Binary segmentation with the ``l2`` (mean-shift) cost, and the noise estimate behind its
penalty — the pure change-point algorithm of :mod:`research.analyses.competitors.changepoints`.

Plain numpy on one float array, no dates and no thresholds: :func:`binseg_l2` finds the breaks
for a given penalty (the same result as ``ruptures.Binseg(model="l2", jump=1)``, written on
cumulative sums so a 730-day series costs well under a millisecond), :func:`refine_l2` moves
each break to the best split between its neighbours, and :func:`robust_sigma` estimates the
noise level the penalty is calibrated on. How the penalty is set, which breaks are kept and
what they are called is decided in :mod:`research.analyses.competitors.changepoints`.

Examples
--------
>>> x = np.r_[np.zeros(30), np.full(40, 3.0), np.ones(30)]
>>> x = x + np.random.default_rng(0).normal(0, .1, 100)
>>> refine_l2(x, binseg_l2(x, pen=5.0, min_size=7), min_size=7)
[30, 70]
"""

from __future__ import annotations

import numpy as np

__all__ = ["robust_sigma", "binseg_l2", "refine_l2"]


def robust_sigma(x: np.ndarray) -> float:
    """Noise level of a series from the MAD of its first differences.

    σ = 1.4826 · median(|Δx − median(Δx)|) / √2 — insensitive to a few steps (they are a few
    large differences) and to slow drift.

    Examples
    --------
    >>> round(robust_sigma(np.random.default_rng(1).normal(0, 2, 5000)), 1)
    2.0
    """
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) < 3:
        return 0.0
    d = np.diff(x)
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / np.sqrt(2))


def _best_split(s1: np.ndarray, s2: np.ndarray, a: int, b: int,
                min_size: int) -> tuple[int, float]:
    """Best single split of [a, b) under the l2 cost: (position, gain); (-1, 0) if none."""
    if b - a < 2 * min_size:
        return -1, 0.0
    ks = np.arange(a + min_size, b - min_size + 1)
    left_n = ks - a
    right_n = b - ks
    left_s = s1[ks] - s1[a]
    right_s = s1[b] - s1[ks]
    # cost(a,b) - cost(a,k) - cost(k,b): the squares cancel, only the mean terms remain
    tot = s1[b] - s1[a]
    gain = left_s * left_s / left_n + right_s * right_s / right_n - tot * tot / (b - a)
    i = int(np.argmax(gain))
    return int(ks[i]), float(gain[i])


def binseg_l2(signal: np.ndarray, pen: float, min_size: int = 7) -> list[int]:
    """Binary segmentation with the l2 cost and a penalty, ``jump = 1``.

    A segment is split at its best point while the cost falls by more than ``pen`` and both
    parts keep ``min_size`` points. Equal to ``ruptures.Binseg(model="l2", min_size=min_size,
    jump=1).fit(signal).predict(pen=pen)`` without its final ``n``.

    Parameters
    ----------
    signal : array of shape (n,)
    pen : float
        Cost decrease a split must buy.
    min_size : int
        Shortest segment.

    Returns
    -------
    list of int
        Sorted break positions: index of the first point of each new segment.
    """
    x = np.asarray(signal, dtype=float)
    n = len(x)
    s1 = np.r_[0.0, np.cumsum(x)]
    s2 = np.r_[0.0, np.cumsum(x * x)]
    out: list[int] = []
    stack = [(0, n)]
    while stack:
        a, b = stack.pop()
        k, gain = _best_split(s1, s2, a, b, min_size)
        if k < 0 or gain <= pen:
            continue
        out.append(k)
        stack.extend([(a, k), (k, b)])
    return sorted(out)


def refine_l2(signal: np.ndarray, bkps: list[int], min_size: int = 7,
              rounds: int = 2) -> list[int]:
    """Move each break to the best split between its neighbouring breaks.

    Binary segmentation places early breaks with later ones still unknown; one or two passes
    of this local re-optimisation put a break that sat inside a short bump on its edge.
    """
    x = np.asarray(signal, dtype=float)
    s1 = np.r_[0.0, np.cumsum(x)]
    s2 = np.r_[0.0, np.cumsum(x * x)]
    b = list(bkps)
    for _ in range(rounds):
        for i in range(len(b)):
            lo = b[i - 1] if i else 0
            hi = b[i + 1] if i + 1 < len(b) else len(x)
            k, _ = _best_split(s1, s2, lo, hi, min_size)
            if k >= 0:
                b[i] = k
    return sorted(set(b))
