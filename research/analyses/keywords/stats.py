"""Vectorised statistics over a terms × weeks matrix of weekly index levels.

Every function takes ``level``: a float array of shape (terms, weeks), the mean daily index of
each term in each ISO week, ``NaN`` where the term has no rows that week (absent from an export
means "below the export's cut-off", not zero). The last column is the study week. No function
loops over terms in Python; each is a few numpy operations over the whole matrix, which is what
makes 20,000 terms × 104 weeks take well under a second.

Examples
--------
>>> import numpy as np
>>> level = np.array([[10., 10., 10., 10., 20.]])
>>> change_over(level, 4).round(3).tolist()
[1.0]
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.special import stdtrit

__all__ = ["change_over", "yoy_change", "trend", "seasonal_excess", "sustained_change",
           "unusual_weeks", "first_seen", "MAD_SCALE"]

#: 1.4826 × MAD estimates a normal standard deviation
MAD_SCALE = 1.4826


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return func(*args, **kwargs)


def change_over(level: np.ndarray, weeks: int = 4) -> np.ndarray:
    """Relative change of the last week's level against ``weeks`` weeks earlier.

    ``NaN`` when either week is missing or the earlier level is zero.
    """
    if level.shape[1] <= weeks:
        return np.full(level.shape[0], np.nan)
    now, then = level[:, -1], level[:, -1 - weeks]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = now / then - 1.0
    out[~(then > 0)] = np.nan
    return out


def yoy_change(level: np.ndarray, recent: int = 4, lag: int = 52) -> np.ndarray:
    """Change of the last ``recent`` weeks against the same weeks ``lag`` weeks earlier.

    Compares the mean weekly level of the two windows (both must be complete); ``NaN`` when
    fewer than ``lag + recent`` weeks exist, a week is missing, or last year's mean is zero.
    """
    n, m = level.shape
    if m < lag + recent:
        return np.full(n, np.nan)
    now = level[:, m - recent:].mean(axis=1)
    then = level[:, m - recent - lag:m - lag].mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = now / then - 1.0
    out[~(then > 0)] = np.nan
    return out


def trend(level: np.ndarray, weeks: int = 13, conf: float = 0.95) -> dict[str, np.ndarray]:
    """Least-squares slope of ``log(1 + level)`` on week number over the last ``weeks`` weeks.

    Missing weeks are left out of each term's fit. Returned as growth per week
    (``exp(slope) - 1``) with its standard error (of the log slope) and a ``conf`` interval
    from Student's t with ``n - 2`` degrees of freedom. Needs at least 3 weeks, else ``NaN``.

    Returns
    -------
    dict
        ``slope`` (log per week), ``se``, ``n``, ``pct``, ``lo``, ``hi`` (growth per week).
    """
    y = np.log1p(level[:, -weeks:])
    x = np.arange(y.shape[1], dtype=float)[None, :]
    ok = ~np.isnan(y)
    n = ok.sum(axis=1).astype(float)
    w = ok.astype(float)
    y0 = np.where(ok, y, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        xm = (w * x).sum(axis=1) / n
        ym = y0.sum(axis=1) / n
        dx = (x - xm[:, None]) * w
        sxx = (dx ** 2).sum(axis=1)
        slope = (dx * (y0 - ym[:, None])).sum(axis=1) / sxx
        resid = (y0 - ym[:, None] - slope[:, None] * (x - xm[:, None])) * w
        ssr = (resid ** 2).sum(axis=1)
        se = np.sqrt(ssr / (n - 2) / sxx)
    bad = n < 3
    slope[bad], se[bad] = np.nan, np.nan
    tcrit = stdtrit(np.maximum(n - 2, 1), 0.5 + conf / 2)
    return {"slope": slope, "se": se, "n": n, "pct": np.expm1(slope),
            "lo": np.expm1(slope - tcrit * se), "hi": np.expm1(slope + tcrit * se)}


def _robust_z(series: np.ndarray, recent: int, reference: int, floor: float,
              min_ref: int) -> dict[str, np.ndarray]:
    """z of the mean of the last ``recent`` columns against rolling ``recent``-week means of
    the ``reference`` columns before them: (D - median) / max(1.4826 MAD of the rolling means,
    1.4826 MAD of the weekly values × sqrt(1/recent + (π/2)/reference weeks), floor)."""
    n, m = series.shape
    d_now = _quiet(np.nanmean, series[:, m - recent:], axis=1)
    valid_now = (~np.isnan(series[:, m - recent:])).sum(axis=1) >= max(1, (recent + 1) // 2)
    ref = series[:, max(0, m - recent - reference):m - recent]
    if ref.shape[1] < recent:
        nan = np.full(n, np.nan)
        return {"recent": nan, "baseline": nan, "scale": nan, "z": nan, "n_ref": np.zeros(n)}
    windows = sliding_window_view(ref, recent, axis=1)
    roll = _quiet(np.nanmean, windows, axis=2)
    n_ref = (~np.isnan(roll)).sum(axis=1)
    base = _quiet(np.nanmedian, roll, axis=1)
    mad = _quiet(np.nanmedian, np.abs(roll - base[:, None]), axis=1)
    # overlapping rolling means are correlated and understate how far a fresh mean of
    # ``recent`` weeks strays from a median of few weeks: the weekly values' own spread bounds
    # it below (sd of a mean of ``recent`` weeks and of the median of the reference weeks)
    weekly = _quiet(np.nanmedian, np.abs(ref - _quiet(np.nanmedian, ref, axis=1)[:, None]), axis=1)
    n_weeks = np.maximum((~np.isnan(ref)).sum(axis=1), 1)
    spread = MAD_SCALE * weekly * np.sqrt(1.0 / recent + (np.pi / 2) / n_weeks)
    scale = np.fmax(np.fmax(MAD_SCALE * mad, spread), floor)
    z = (d_now - base) / scale
    ok = valid_now & (n_ref >= min_ref)
    z[~ok] = np.nan
    return {"recent": d_now, "baseline": base, "scale": scale, "z": z, "n_ref": n_ref}


def seasonal_excess(level: np.ndarray, recent: int = 4, reference: int = 26, lag: int = 52,
                    floor: float = 0.05, min_ref: int = 8,
                    min_terms_for_category: int = 5) -> dict[str, np.ndarray]:
    """How unusual each term's last ``recent`` weeks are against its own seasonal baseline.

    Rule ``yoy`` (a year of history before the reference window): the weekly log-ratio
    ``d_t = log(1 + L_t) - log(1 + L_{t-52})`` to the same week last year; ``D`` = its mean over
    the last ``recent`` weeks; the baseline is the median of the rolling ``recent``-week means of
    ``d`` over the ``reference`` weeks before, the scale 1.4826 × their MAD, but at least
    1.4826 × the MAD of the weekly ``d`` there × sqrt(1/``recent`` + (π/2)/weeks) (overlapping
    means understate the spread of a fresh mean against a median of few weeks) and at least
    ``floor``; ``z = (D - baseline) / scale``. A purely seasonal term repeats last year, so
    ``d`` stays near its usual value and ``z`` near 0.

    Rule ``category`` (no prior year for the term, but ≥ ``min_terms_for_category`` terms
    with every week of the window): the same z on ``x_t = log(1 + L_t) - c_t``, where ``c_t`` is
    the median over those terms of their log level minus their own mean — the category's
    common (seasonal) movement is taken out. Rule ``own`` (too few terms): ``x_t = log(1 + L_t)``,
    so the season is NOT removed; the report says so.

    Returns
    -------
    dict
        ``z``, ``recent`` (D), ``baseline``, ``scale``, ``rule`` (object array of
        ``"yoy"``/``"category"``/``"own"``/``""`` when not computable).
    """
    n, m = level.shape
    log = np.log1p(level)
    z = np.full(n, np.nan)
    out = {"z": z, "recent": np.full(n, np.nan), "baseline": np.full(n, np.nan),
           "scale": np.full(n, np.nan), "rule": np.full(n, "", dtype=object)}
    if m >= lag + recent + min_ref:
        d = log[:, lag:] - log[:, :-lag]
        res = _robust_z(d, recent, reference, floor, min_ref)
        done = ~np.isnan(res["z"])
        for key in ("z", "recent", "baseline", "scale"):
            out[key][done] = res[key][done]
        out["rule"][done] = "yoy"
    todo = np.isnan(out["z"])
    if not todo.any():
        return out
    window = log[:, max(0, m - recent - reference):]
    full = ~np.isnan(window).any(axis=1)
    if full.sum() >= min_terms_for_category:
        dev = window[full] - window[full].mean(axis=1, keepdims=True)
        common = np.median(dev, axis=0)
        x, rule = window - common[None, :], "category"
    else:
        x, rule = window, "own"
    res = _robust_z(x, recent, reference, floor, min_ref)
    fill = todo & ~np.isnan(res["z"])
    for key in ("z", "recent", "baseline", "scale"):
        out[key][fill] = res[key][fill]
    out["rule"][fill] = rule
    return out


def sustained_change(level: np.ndarray, recent: int = 4, lag: int = 52, long: int = 26,
                     floor: float = 0.05, min_terms: int = 5) -> dict[str, np.ndarray]:
    """How far each term's recent level has moved from a year earlier, beyond the category's own
    movement: the sustained move that the seasonal z (:func:`seasonal_excess`, which scores the
    last weeks against the weeks just before) does not see when a term climbs for months.

    Rule ``yoy`` (the term has the last ``recent`` weeks and the same weeks ``lag`` weeks earlier,
    each at least half observed): ``D`` = the mean over the last ``recent`` weeks of
    ``log(1 + L_t) - log(1 + L_{t-lag})`` (the term's year-over-year log-ratio; a purely seasonal
    term repeats last year and has ``D`` ≈ 0, whatever its season), the category's ``C`` = the
    median of ``D`` over the terms with every one of those weeks, ``excess = D - C``.

    Rule ``trend`` (no year for the term): the same with the comparison ``long`` weeks back
    instead of ``lag``, on ``log(1 + L_t) - c_t`` where ``c_t`` is the common weekly movement of
    the terms with every week of the window (their median deviation from their own mean) — the
    category's movement is taken out, the term's own season is not (the page says so).

    For each rule, ``z = excess / max(1.4826 × MAD of excess over the terms of that rule,
    floor)``: how unusual the move is among the category's terms. Either rule needs
    ``min_terms`` terms; otherwise it is not computed.

    Returns
    -------
    dict
        ``rule`` (``"yoy"``/``"trend"``/``""``), ``logratio`` (D), ``category`` (C), ``excess``,
        ``z``, ``weeks_back`` (lag or long).
    """
    n, m = level.shape
    log = np.log1p(level)
    out = {"rule": np.full(n, "", dtype=object), "logratio": np.full(n, np.nan),
           "category": np.full(n, np.nan), "excess": np.full(n, np.nan), "z": np.full(n, np.nan),
           "weeks_back": np.zeros(n, dtype=int)}
    half = max(1, (recent + 1) // 2)

    def fill(now: np.ndarray, then: np.ndarray, rule: str, back: int, todo: np.ndarray) -> None:
        ok_now = (~np.isnan(now)).sum(axis=1) >= half
        ok_then = (~np.isnan(then)).sum(axis=1) >= half
        d = _quiet(np.nanmean, now - then, axis=1)
        usable = todo & ok_now & ok_then & ~np.isnan(d)
        complete = usable & ~np.isnan(now).any(axis=1) & ~np.isnan(then).any(axis=1)
        if complete.sum() < min_terms:
            return
        c = float(np.median(d[complete]))
        ex = d - c
        mad = float(np.median(np.abs(ex[usable] - np.median(ex[usable]))))
        z = ex / max(MAD_SCALE * mad, floor)
        for key, val in (("logratio", d), ("excess", ex), ("z", z)):
            out[key][usable] = val[usable]
        out["category"][usable] = c
        out["rule"][usable] = rule
        out["weeks_back"][usable] = back

    if m >= lag + recent:
        fill(log[:, m - recent:], log[:, m - recent - lag:m - lag], "yoy", lag,
             np.ones(n, dtype=bool))
    todo = out["rule"] == ""
    if todo.any() and m >= long + recent:
        window = log[:, m - recent - long:]
        full = ~np.isnan(window).any(axis=1)
        if full.sum() >= min_terms:
            dev = window[full] - window[full].mean(axis=1, keepdims=True)
            x = window - np.median(dev, axis=0)[None, :]
            fill(x[:, -recent:], x[:, :recent], "trend", long, todo)
    return out


def unusual_weeks(level: np.ndarray, window: int = 8, z: float = 3.5, min_ratio: float = 1.5,
                  floor: float = 0.1, lag: int = 52, min_prior: int = 3
                  ) -> dict[str, np.ndarray]:
    """Flag weeks far above or below the term's trailing level (events, launches, stock-outs).

    For every term and week ``t``: the baseline is the median of ``log(1 + L)`` over the
    ``window`` weeks before ``t`` (only earlier weeks: no peeking), the scale 1.4826 × their
    MAD (at least ``floor``). A week is unusual when ``|z| ≥ z`` and the level differs from
    the baseline by a factor of at least ``min_ratio``. Where the same weeks a year earlier
    rose alike (ratio to the week ``lag`` weeks back within ``min_ratio``), the flag is
    marked ``seasonal`` — the season, not an event.

    Returns
    -------
    dict of (terms, weeks) arrays
        ``z``, ``ratio`` (level / baseline level), ``flag`` (+1 up, -1 down, 0),
        ``seasonal`` (bool).
    """
    n, m = level.shape
    log = np.log1p(level)
    shape = (n, m)
    zz, ratio = np.full(shape, np.nan), np.full(shape, np.nan)
    if m > 1:
        # pad the first weeks with shorter windows (at least min_prior weeks)
        padded = np.concatenate([np.full((n, window - 1), np.nan), log[:, :-1]], axis=1)
        past = sliding_window_view(padded, window, axis=1)  # (n, m-1, window) ends at t-1
        count = (~np.isnan(past)).sum(axis=2)
        base = _quiet(np.nanmedian, past, axis=2)
        mad = _quiet(np.nanmedian, np.abs(past - base[:, :, None]), axis=2)
        scale = np.maximum(MAD_SCALE * mad, floor)
        cur = log[:, 1:]
        zt = (cur - base) / scale
        zt[count < min_prior] = np.nan
        zz[:, 1:] = zt
        ratio[:, 1:] = np.expm1(cur) / np.maximum(np.expm1(base), 1e-9)
    up = (zz >= z) & (ratio >= min_ratio)
    down = (zz <= -z) & (ratio <= 1 / min_ratio)
    flag = up.astype(int) - down.astype(int)
    seasonal = np.zeros(shape, dtype=bool)
    if m > lag:
        with np.errstate(divide="ignore", invalid="ignore"):
            yoy = (level[:, lag:] + 1) / (level[:, :-lag] + 1)
        same = (yoy < min_ratio) & (yoy > 1 / min_ratio)
        seasonal[:, lag:] = same & (flag[:, lag:] != 0)
    return {"z": zz, "ratio": ratio, "flag": flag, "seasonal": seasonal}


def first_seen(level: np.ndarray) -> np.ndarray:
    """Index of the first week with a positive level per term (``-1`` when never)."""
    pos = np.nan_to_num(level, nan=0.0) > 0
    idx = pos.argmax(axis=1)
    idx[~pos.any(axis=1)] = -1
    return idx
