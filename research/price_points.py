"""Price-band edges and the small per-band formulas, shared by the price and market pages.

The ladder of round price points and the automatic edges on it (:func:`auto_edges`), band
labels and assignment (right-closed bands), weighted quantiles, concentration (HHI on the
0–10,000 scale, top-n share) and the price point of a band. Pure numpy: no DuckDB. The
workbench choices behind them are stated in :mod:`research.analyses.prices.analysis`.

Examples
--------
>>> snap_to_round([31, 47, 140])
[29.0, 49.0, 129.0]
>>> band_labels([29, 39])
['≤29', '29–39', '>39']
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "MIN_LISTINGS", "round_points", "snap_to_round", "weighted_quantile", "auto_edges",
    "clean_edges", "band_labels", "band_bounds", "assign_bands", "hhi", "top_share",
    "price_point",
]

#: fewer clean listings than this in a snapshot → a warning instead of a chart
MIN_LISTINGS = 30
_MANTISSAS = (10, 13, 16, 20, 30, 40, 50, 60, 80)


# ----------------------------------------------------------------------------- edges
def round_points(lo: float = 0.5, hi: float = 1e7) -> np.ndarray:
    """Return the round price points between ``lo`` and ``hi`` (…29, 39, 49, 59, 79, 99, 129…).

    Examples
    --------
    >>> round_points(20, 200).tolist()
    [29.0, 39.0, 49.0, 59.0, 79.0, 99.0, 129.0, 159.0, 199.0]
    >>> round_points(5000, 500_000).tolist()[::4]
    [5999.0, 15900.0, 49900.0, 129000.0, 399000.0]
    """
    pts = []
    for k in range(-2, 9):
        for m in _MANTISSAS:
            base = m * 10.0 ** k
            if base <= 10:
                step = 0.1 * 10.0 ** min(k + 1, 0)
            elif base < 10_000:
                step = 1.0
            else:
                step = 10.0 ** (math.floor(math.log10(base)) - 2)
            pts.append(round(base - step, 4))
    arr = np.unique(np.array([p for p in pts if p > 0]))
    return arr[(arr >= lo) & (arr <= hi)]


def snap_to_round(values: Sequence[float] | np.ndarray) -> list[float]:
    """Snap each value to the nearest round price point on a log scale."""
    pts = round_points()
    logp = np.log(pts)
    out = []
    for v in np.asarray(values, dtype=float):
        if not np.isfinite(v) or v <= 0:
            continue
        out.append(float(pts[int(np.argmin(np.abs(logp - math.log(v))))]))
    return out


def weighted_quantile(values: np.ndarray, weights: np.ndarray | None,
                      qs: Sequence[float]) -> np.ndarray:
    """Quantiles of ``values`` with ``weights`` (the lowest value whose cumulative weight
    reaches ``q`` of the total); unweighted when ``weights`` is None.

    Examples
    --------
    >>> weighted_quantile(np.array([10., 20., 30.]), np.array([1., 1., 8.]), [0.5]).tolist()
    [30.0]
    """
    values = np.asarray(values, dtype=float)
    if weights is None:
        weights = np.ones_like(values)
    weights = np.asarray(weights, dtype=float)
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    if not len(values):
        return np.full(len(qs), np.nan)
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    idx = np.searchsorted(cum, np.asarray(qs) * cum[-1] - 1e-9 * cum[-1], side="left")
    return values[order][np.clip(idx, 0, len(values) - 1)]


def auto_edges(prices: Sequence[float] | np.ndarray, units: Sequence[float] | None = None,
               n_bands: int = 8, min_share: float = 0.03,
               counts: Sequence[float] | None = None) -> list[float]:
    """Choose interior band edges from the data, at round price points.

    Adjacent clustering on the round-point ladder: every round point strictly inside the
    price range (:func:`round_points`) starts as an edge; then, while there are more than
    ``n_bands`` bands or a band holds less than ``min_share`` of both listings and units, the
    band with the smallest weight (the larger of its listing and units share) is merged into
    its lighter neighbour. A band with few listings but many sales (underserved) is heavy by
    units and so survives.

    Examples
    --------
    >>> auto_edges([20, 25, 33, 45, 48, 55, 70, 90, 120, 150], n_bands=4)
    [39.0, 49.0, 79.0]
    """
    p = np.asarray(prices, dtype=float)
    c = np.ones_like(p) if counts is None else np.asarray(counts, dtype=float)
    u = c.copy() if units is None else np.nan_to_num(np.asarray(units, dtype=float))
    keep = np.isfinite(p) & (p > 0) & (c > 0)
    p, u, c = p[keep], u[keep], c[keep]
    if c.sum() < 2 or p.min() == p.max():
        return []
    edges = [e for e in round_points(p.min(), p.max()).tolist() if p.min() < e < p.max()]
    idx = np.searchsorted(np.asarray(edges), p, side="left")
    n_raw = np.bincount(idx, weights=c, minlength=len(edges) + 1).astype(float)
    u_raw = np.bincount(idx, weights=u, minlength=len(edges) + 1)
    # shares per band, merged in place below (no units sold: the listing shares)
    n: list[float] = list(n_raw / n_raw.sum())
    w_units: list[float] = list(u_raw / u_raw.sum()) if u_raw.sum() > 0 else list(n)
    while len(edges):
        weight = np.maximum(n, w_units)
        i = int(np.argmin(weight))
        if len(weight) <= n_bands and weight[i] >= min_share:
            break
        if i == 0:
            j = 1
        elif i == len(weight) - 1:
            j = i - 1
        else:
            j = i - 1 if weight[i - 1] <= weight[i + 1] else i + 1
        lo, hi = min(i, j), max(i, j)
        n[lo:hi + 1] = [n[lo] + n[hi]]
        w_units[lo:hi + 1] = [w_units[lo] + w_units[hi]]
        del edges[lo]
    return [float(e) for e in edges]


#: an explicit edge at or above this is a sentinel for "no upper bound" and is dropped
_NO_UPPER = 1e9


def clean_edges(edges: Sequence[float]) -> list[float]:
    """Interior edges: sorted, unique, > 0; 0, infinity and sentinels ≥ 1e9 dropped.

    Examples
    --------
    >>> clean_edges([39, 0, 29, 29, float("inf"), 1e9])
    [29.0, 39.0]
    """
    return sorted({float(e) for e in edges
                   if e is not None and np.isfinite(e) and 0 < float(e) < _NO_UPPER})


def _fmt_edge(x: float) -> str:
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def band_labels(edges: Sequence[float]) -> list[str]:
    """Labels of the bands cut by interior ``edges`` (right-closed: ``29–39`` is (29, 39])."""
    e = clean_edges(edges)
    if not e:
        return ["all prices"]
    inner = [f"{_fmt_edge(a)}–{_fmt_edge(b)}" for a, b in zip(e, e[1:], strict=False)]
    return [f"≤{_fmt_edge(e[0])}"] + inner + [f">{_fmt_edge(e[-1])}"]


def assign_bands(prices: Sequence[float] | np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Band index of each price (0 = ``≤e1``), right-closed, via ``np.searchsorted``.

    Examples
    --------
    >>> assign_bands([10, 29, 29.01, 39, 500], [29, 39]).tolist()
    [0, 0, 1, 1, 2]
    """
    return np.searchsorted(np.asarray(clean_edges(edges)), np.asarray(prices, dtype=float),
                           side="left")


def band_bounds(edges: Sequence[float]) -> tuple[list[float], list[float]]:
    """Lower and upper bound of each band (the first starts at 0, the last is open).

    Examples
    --------
    >>> band_bounds([29, 39])
    ([0.0, 29.0, 39.0], [29.0, 39.0, inf])
    """
    e = clean_edges(edges)
    return [0.0] + e, e + [math.inf]


# ----------------------------------------------------------------------------- metrics
def hhi(values: Sequence[float], scale: float = 10_000) -> float:
    """Herfindahl-Hirschman index of the shares of ``values`` (0–10,000 by default).

    NaN when the values sum to zero or less.

    Examples
    --------
    >>> round(hhi([50, 30, 20]), 6), round(hhi([1, 1], scale=1), 6)
    (3800.0, 0.5)
    """
    v = np.asarray(values, dtype=float)
    total = v.sum()
    return float("nan") if total <= 0 else float(((v / total) ** 2).sum() * scale)


def top_share(values: Sequence[float], n: int = 3) -> float:
    """Share of the total held by the ``n`` largest values (NaN when they sum to zero).

    Examples
    --------
    >>> round(top_share([50, 30, 20, 0], 3), 6), round(top_share([50, 30, 20], 1), 6)
    (1.0, 0.5)
    """
    v = np.sort(np.asarray(values, dtype=float))[::-1]
    total = v.sum()
    return float("nan") if total <= 0 else float(v[:n].sum() / total)


def price_point(median: float, lo: float, hi: float) -> float:
    """The recommended price point in band (lo, hi] (see the module's stated rule).

    Examples
    --------
    >>> price_point(47.3, 39, 49), price_point(137, 99, 159), price_point(39.2, 39, 49)
    (46.9, 129.0, 39.9)
    """
    if not np.isfinite(median) or median <= 0:
        return float("nan")
    unit = 10.0 ** (math.floor(math.log10(median)) - 2)
    point = (math.floor((median + unit) / (10 * unit)) * 10 - 1) * unit
    if point <= lo:
        point = (math.floor(lo / (10 * unit) + 1e-9) * 10 + 9) * unit
        if point <= lo:
            point += 10 * unit
    if np.isfinite(hi) and point > hi:
        point = hi
    return round(point, 6)
