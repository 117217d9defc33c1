"""The forecasting engine: per-series model choice by rolling-origin backtest, promotions as
inputs, calibrated 80/95 % intervals, M4 accuracy, many series in parallel.

Public API
----------
``forecast(series, horizon=None, freq=None, events=None, levels=(80, 95)) -> ForecastResult``
    One series (a pandas Series indexed by date). ``.forecast`` has ``date, point, lo80, hi80,
    lo95, hi95, model``; ``.backtest`` has ``model, origin, mase, smape, coverage80,
    coverage95`` for every candidate at every origin.
``forecast_many(frame, id_col, date_col, value_col, ...) -> ManyResult``
    Many series at once over the machine's cores (a process pool: ``fork`` from a
    single-threaded process, ``forkserver`` from a kernel or any threaded one) with a
    progress bar.

How a forecast is made
----------------------
1. The series is put on a regular grid (daily, or weekly labelled by the week's first day);
   missing periods are filled by linear interpolation and counted in ``notes``.
2. Candidates: ``seasonal_naive``, ``naive2`` (M4's benchmark), ``ses``, ``damped``
   (ETS(A,Ad,N)), ``theta``, ``regression`` (log-scale regression on trend, Fourier
   seasonality and the calendar, AR(1) errors) — see :mod:`research.forecasting.models` — and
   ``combination``, the mean of the three best by backtest (M4's lesson: combinations win).
3. Calendar inputs (618, 双11, 双12, 年货节, 春节, the peak days 6.18 and 11.11, analyst and
   warehouse events — see :mod:`research.calendar`): each event's multiplicative effect is
   estimated against a rolling-median baseline of the non-event periods and divided out
   before the smoothing models and Naive2 run; forecasts are multiplied back by the effect of
   the future event periods (so the flat benchmark, when it wins, still carries a known event). The
   regression carries the events as regressors directly. The backtest is run again without
   the calendar for the chosen model, so ``promotion_gain`` says whether the inputs helped.
4. Rolling-origin backtest: ``n_origins`` origins (default 5), ``stride`` periods apart
   (default ⌈h/2⌉), each forecasting the full horizon from the data before it. Each model's
   score is its mean MASE over the origins (scaled by the in-sample seasonal-naive error);
   the lowest score wins.
5. Intervals: the chosen model's backtest errors, divided by the level of the series at their
   origin, give a per-step spread ``s_k = a·k^p`` (fitted on log scale, ``0 ≤ p ≤ 1``) and a
   pooled quantile of the normalised absolute errors for each level (conformal,
   ``⌈(N+1)·level⌉``-th of ``N``). Coverage is measured leaving each origin out: the interval
   for origin *o* is built from the other origins' errors only.
6. Short series: under two seasons no seasonal adjustment or Fourier terms are used; when
   there is no room for a backtest (fewer than ``h + 8`` points) the forecast is ``naive``
   with random-walk intervals (``z·σ·√k`` from the one-step changes); a constant history is
   forecast as that constant with zero-width intervals. Each case is stated in ``notes``.

Where the parts live: the models in :mod:`research.forecasting.models`; the machinery of steps
3–6 (calendar adjustment, per-origin predictions, origins, scores, interval bands, coverage,
random-walk intervals) in :mod:`research.forecasting.backtest`. Here: the choice
(:func:`forecast_array`) and the pandas layer. The engine knows no page: what a page makes
of a forecast (the forecast page's shop outlook) lives with that page under
``research.analyses``.

Examples
--------
>>> import numpy as np, pandas as pd
>>> idx = pd.date_range("2024-01-01", periods=120, freq="7D")
>>> y = pd.Series(100 + 10 * np.sin(np.arange(120) / 52 * 2 * np.pi), index=idx)
>>> res = forecast(y, horizon=9)
>>> list(res.forecast.columns)
['date', 'point', 'lo80', 'hi80', 'lo95', 'hi95', 'model']
>>> len(res.forecast), res.model in res.backtest["model"].unique()
(9, True)
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from research.calendar import (
    event_regressors,
    normalise_events,
    promotion_calendar,
    read_event_file,
)
from research.forecasting.backtest import (
    backtest_origins,
    backtest_rows,
    error_scale,
    event_adjust,
    interval_band,
    origin_level,
    predict_all,
    random_walk,
)

__all__ = ["ForecastResult", "ManyResult", "forecast", "forecast_many", "forecast_array",
           "CANDIDATES", "default_horizon", "season_length", "regularise", "pool_context"]

#: candidate models, besides the combination of the best three
CANDIDATES = ("seasonal_naive", "naive2", "ses", "damped", "theta", "regression")


@dataclass
class ForecastResult:
    """The forecast of one series and how it was chosen.

    Attributes
    ----------
    series : str
        Its name.
    model : str
        The chosen model (``combination(a+b+c)`` for a combination).
    forecast : DataFrame
        ``date, point, lo80, hi80, lo95, hi95, model`` (one ``lo/hi`` pair per level).
    backtest : DataFrame
        ``model, origin, mase, smape, coverage80, coverage95``: every candidate at every
        origin (``origin`` is the last date of the training part).
    fits : DataFrame
        ``origin, date, actual, point`` of the chosen model at each backtest origin.
    promotion_gain : float
        Mean backtest MASE of the chosen model without the calendar minus with it (> 0: the
        promotion inputs helped); ``nan`` when the history has no events.
    event_effects : dict
        Event name → multiplicative effect at full intensity (1.8 = +80 %), from the whole
        history.
    notes : list of str
        Fallbacks and data repairs, in words.
    """

    series: str
    model: str
    forecast: pd.DataFrame
    backtest: pd.DataFrame
    fits: pd.DataFrame
    promotion_gain: float = float("nan")
    event_effects: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


@dataclass
class ManyResult:
    """Results of :func:`forecast_many`: the stacked tables and each series' result."""

    forecast: pd.DataFrame
    backtest: pd.DataFrame
    results: dict


def default_horizon(freq: str) -> int:
    """Nine weeks (two months) for weekly data, 60 days for daily data."""
    return 9 if freq.upper().startswith("W") else 60


def season_length(freq: str) -> int:
    """The seasonal period used: 52 for weekly data (a year), 7 for daily data (a week)."""
    return 52 if freq.upper().startswith("W") else 7


# ---------------------------------------------------------------- numpy core


def forecast_array(y: np.ndarray, h: int, m: int, x: np.ndarray | None = None,
                   levels: Sequence[float] = (80, 95), n_origins: int = 5,
                   stride: int | None = None, candidates: Sequence[str] = CANDIDATES,
                   combine: int = 3, max_history: int | None = None,
                   compare_events: bool = True) -> dict:
    """The engine on a plain array: choose, forecast, intervals, backtest.

    Parameters
    ----------
    y : ndarray
        History, regular, no gaps.
    h : int
        Horizon.
    m : int
        Seasonal period (1 = none).
    x : ndarray, optional
        ``(len(y) + h, p)`` calendar regressors covering history and horizon.
    levels : sequence of float
        Interval levels in percent.
    n_origins, stride : int
        Backtest origins and their spacing (default ⌈h/2⌉).
    candidates : sequence of str
        Base models to try (names in :data:`CANDIDATES` or ``naive``).
    combine : int
        Size of the combination of the best models (0 = none).
    max_history : int, optional
        Use only the last ``max_history`` points.
    compare_events : bool
        Also backtest the chosen model without the calendar (for ``promotion_gain``).

    Returns
    -------
    dict
        ``model, point, lo, hi`` (lists per level), ``origins, fits`` (per origin: forecast and
        actual of the chosen model), ``scores, rows`` (backtest), ``promotion_gain``,
        ``effects, notes``.
    """
    y = np.asarray(y, dtype=float)
    if max_history and len(y) > max_history:
        cut = len(y) - max_history
        y = y[cut:]
        x = x[cut:] if x is not None else None
    n = len(y)
    lv = [float(v) / 100 for v in levels]
    notes: list[str] = []
    stride = stride or max(1, math.ceil(h / 2))
    xh = x[:n] if x is not None else None
    xf = x[n:] if x is not None else None
    if n == 0:
        raise ValueError("empty series: nothing to forecast")
    if np.all(y == y[0]):
        notes.append("constant history: forecast is that constant, intervals have zero width")
        pt = np.repeat(y[0], h)
        return _result("constant", pt, [pt] * len(lv), [pt] * len(lv), notes=notes)
    if n < 2 * m:
        notes.append(f"shorter than two seasons ({n} < {2 * m}): no seasonal adjustment")
    origins = backtest_origins(n, h, n_origins, stride, max(8, min(h, 2 * m)))
    if n < h + 8 or not origins:
        notes.append(f"too short for a backtest ({n} points for horizon {h}): naive forecast "
                     "with random-walk intervals")
        pt, lo, hi = random_walk(y, h, lv)
        return _result("naive", pt, lo, hi, notes=notes)
    names = list(dict.fromkeys(candidates))
    act = np.array([y[o:o + h] if o + h <= n else np.r_[y[o:], [np.nan] * (o + h - n)]
                    for o in origins])
    preds = {nm: np.empty((len(origins), h)) for nm in names}
    scales = np.array([error_scale(y[:o], m) for o in origins])
    levs = np.array([origin_level(y[:o], m) for o in origins])
    for i, o in enumerate(origins):
        xo = x[: o + h] if x is not None else None
        got = predict_all(y[:o], h, m, xo[:o] if xo is not None else None,
                           xo[o:] if xo is not None else None, names)
        for nm in names:
            preds[nm][i] = got[nm]
    score = {nm: float(np.mean(np.mean(np.abs(act - preds[nm]), axis=1) / scales))
             for nm in names}
    ranked = sorted((nm for nm in names if nm != "naive2"), key=lambda k: score[k])
    members = ranked[:combine] if combine and len(ranked) >= 2 else []
    if len(members) >= 2:
        comb = "combination(" + "+".join(members) + ")"
        preds[comb] = np.mean([preds[k] for k in members], axis=0)
        score[comb] = float(np.mean(np.mean(np.abs(act - preds[comb]), axis=1) / scales))
    chosen = min(score, key=lambda k: (score[k], k != "naive2"))
    chosen_members = members if chosen.startswith("combination") else [chosen]
    final = predict_all(y, h, m, xh, xf, chosen_members)
    pt = np.mean([final[k] for k in chosen_members], axis=0)
    u = (act - preds[chosen]) / levs[:, None]
    s, q = interval_band(u, lv)
    lev_now = origin_level(y, m)
    width = s * lev_now
    if x is not None and np.all(y >= 0):  # promotion periods: spread grows with the uplift
        _, eff, _ = event_adjust(y, xh, xf, m, max(0.05 * float(np.mean(y)), 1e-6))
        if eff is not None:
            width = width * np.exp(np.maximum(eff, 0.0))
    lo = [pt - qj * width for qj in q]
    hi = [pt + qj * width for qj in q]
    if np.all(y >= 0):
        lo = [np.maximum(a, 0) for a in lo]
    rows = [r for nm, f in preds.items()
            for r in backtest_rows(nm, f, act, origins, scales, levs, lv)]
    gain = float("nan")
    effects: dict[int, float] = {}
    if xh is not None and np.any(xh > 0):  # xh is None exactly when x is
        _, _, beta = event_adjust(y, xh, xf, m, max(0.05 * float(np.mean(np.abs(y))), 1e-6))
        if beta is not None:
            effects = {j: float(np.exp(b)) for j, b in enumerate(beta) if b != 0}
        if compare_events:
            plain = np.empty((len(origins), h))
            for i, o in enumerate(origins):
                got = predict_all(y[:o], h, m, None, None, chosen_members, use_events=False)
                plain[i] = np.mean([got[k] for k in chosen_members], axis=0)
            s_plain = float(np.mean(np.mean(np.abs(act - plain), axis=1) / scales))
            gain = s_plain - score[chosen]
            rows += backtest_rows(f"{chosen} without calendar", plain, act, origins, scales,
                                   levs, lv)
    return _result(chosen, pt, lo, hi, origins=origins, fits=preds[chosen], actual=act,
                   rows=rows, score=score, gain=gain, effects=effects, notes=notes)


def _result(model: str, pt: np.ndarray, lo: list, hi: list, origins: list | None = None,
            fits: np.ndarray | None = None, actual: np.ndarray | None = None,
            rows: list | None = None, score: dict | None = None, gain: float = float("nan"),
            effects: dict | None = None, notes: list | None = None) -> dict:
    return {"model": model, "point": np.asarray(pt, float), "lo": lo, "hi": hi,
            "origins": origins or [], "fits": fits, "actual": actual, "rows": rows or [],
            "scores": score or {}, "promotion_gain": gain, "effects": effects or {},
            "notes": notes or []}


# ---------------------------------------------------------------- pandas layer


def regularise(series: pd.Series, freq: str | None = None) -> tuple[pd.Series, str, list[str]]:
    """Put a dated series on a regular daily or weekly grid.

    Duplicated dates are summed; weekly dates are aligned to the weekday of the first date;
    missing periods are filled by linear interpolation (and counted in the notes).

    Returns
    -------
    (Series, freq, notes)
        ``freq`` is ``"D"`` or ``"W"`` (inferred from the median spacing when not given).
    """
    s = pd.Series(pd.to_numeric(series, errors="coerce").to_numpy(dtype=float),
                  index=pd.to_datetime(series.index)).sort_index()
    notes: list[str] = []
    if freq is None:
        gaps = s.index.to_series().diff().dt.days.dropna()
        freq = "W" if len(gaps) and gaps.median() >= 5 else "D"
    freq = "W" if freq.upper().startswith("W") else "D"
    step = 7 if freq == "W" else 1
    idx = s.index.normalize()
    if step == 7:
        first = idx.min()
        idx = idx - pd.to_timedelta((idx - first).days % 7, unit="D")
    s = s.groupby(idx).sum(min_count=1)
    full = pd.date_range(s.index.min(), s.index.max(), freq=f"{step}D")
    s = s.reindex(full)
    missing = int(s.isna().sum())
    if missing:
        notes.append(f"{missing} missing period(s) filled by linear interpolation")
        s = s.interpolate(limit_direction="both")
    return s, freq, notes


def _calendar_frame(events: pd.DataFrame | str | os.PathLike | None) -> pd.DataFrame | None:
    if events is None:
        return None
    if isinstance(events, (str, os.PathLike)):
        return read_event_file(events) if str(events) else None
    return normalise_events(events)


def forecast(series: pd.Series, horizon: int | None = None, freq: str | None = None,
             events: pd.DataFrame | str | None = None, levels: Sequence[float] = (80, 95),
             calendar: bool = True, name: str | None = None, **options) -> ForecastResult:
    """Forecast one dated series with the model its backtest prefers, with intervals.

    Parameters
    ----------
    series : Series
        Values indexed by date (daily, or weekly labelled by any fixed weekday).
    horizon : int, optional
        Periods ahead; default nine weeks or 60 days.
    freq : {"D", "W"}, optional
        Inferred from the dates when omitted.
    events : DataFrame or path, optional
        Analyst/warehouse events (``date`` or ``start``/``end``, ``name``), on top of the
        built-in calendar.
    levels : sequence of float
        Interval levels in percent.
    calendar : bool
        Use the built-in promotion calendar (618, 双11, 双12, 年货节, 春节, and the peak days
        618当天 and 双11当天 as events of their own).
    name : str, optional
        Series name for the result (default ``series.name``).
    **options
        Passed to :func:`forecast_array` (``n_origins``, ``stride``, ``candidates``,
        ``combine``, ``max_history`` — default five years of weeks or three years of days —,
        ``compare_events``).

    Returns
    -------
    ForecastResult
    """
    s, freq, notes = regularise(series, freq)
    h = int(horizon or default_horizon(freq))
    m = season_length(freq)
    step = pd.Timedelta(days=7 if freq == "W" else 1)
    dates = s.index
    future = pd.DatetimeIndex([dates[-1] + step * (k + 1) for k in range(h)])
    alldates = dates.append(future)
    extra = _calendar_frame(events)
    x = None
    cols: list[str] = []
    if calendar or extra is not None:
        starts = alldates
        if freq == "W" and (dates.day_of_week == 6).all():
            starts = alldates - pd.Timedelta(days=6)  # labelled by the week's Sunday
        cal = promotion_calendar(starts.min(), starts.max() + pd.Timedelta(days=6), extra,
                                 builtin=calendar, peaks=calendar)
        reg = event_regressors(starts, freq, cal)
        if reg.shape[1]:
            x, cols = reg.to_numpy(), list(reg.columns)
    options.setdefault("max_history", 5 * m if freq == "W" else 3 * 365)
    out = forecast_array(s.to_numpy(), h, m, x, levels=levels, **options)
    label = str(name if name is not None else (series.name or "series"))
    fc = pd.DataFrame({"date": future, "point": out["point"]})
    for j, lv in enumerate(levels):
        fc[f"lo{int(lv)}"] = out["lo"][j]
        fc[f"hi{int(lv)}"] = out["hi"][j]
    fc["model"] = out["model"]
    bt = pd.DataFrame(out["rows"])
    if len(bt):
        bt["origin"] = dates[bt["origin"].to_numpy() - 1]
    else:
        bt = pd.DataFrame(columns=["model", "origin", "mase", "smape"]
                          + [f"coverage{int(v)}" for v in levels])
    fit_rows = []
    for i, o in enumerate(out["origins"]):
        for k in range(h):
            if o + k < len(dates):
                fit_rows.append({"origin": dates[o - 1], "date": dates[o + k],
                                 "actual": out["actual"][i, k], "point": out["fits"][i, k]})
    fits = pd.DataFrame(fit_rows, columns=["origin", "date", "actual", "point"])
    effects = {cols[j]: v for j, v in out["effects"].items()} if cols else {}
    return ForecastResult(label, out["model"], fc, bt, fits, out["promotion_gain"], effects,
                          notes + out["notes"])


def _one(args: tuple) -> ForecastResult:
    key, series, kwargs = args
    return forecast(series, name=str(key), **kwargs)


def pool_context(start_method: str | None = None) -> multiprocessing.context.BaseContext:
    """``fork`` from a single-threaded process; ``forkserver`` when other threads run.

    Forking copies only the calling thread: a lock held at that moment by another thread (a
    Jupyter kernel's IOPub and heartbeat threads, the study runner's notebook threads, a
    pytest-xdist worker's I/O thread) stays locked forever in the child, which then hangs on
    its first write to the redirected stderr (a statsmodels warning is enough).
    ``forkserver`` (like ``spawn``) needs the caller's main module to be import-safe (the
    ``if __name__ == "__main__":`` idiom), as kernels, pytest and ``python -m`` are.
    """
    if start_method == "fork" or (start_method is None and threading.active_count() == 1):
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["research.forecasting.engine"])
    return ctx


def forecast_many(frame: pd.DataFrame, id_col: str, date_col: str, value_col: str,
                  horizon: int | None = None, freq: str | None = None,
                  events: pd.DataFrame | str | None = None, levels: Sequence[float] = (80, 95),
                  workers: int | None = None, progress: bool = True, min_parallel: int = 8,
                  start_method: str | None = None, **options) -> ManyResult:
    """Forecast every series of a long frame, in parallel over the cores, with a progress bar.

    Parameters
    ----------
    frame : DataFrame
        Long format: one row per series and date.
    id_col, date_col, value_col : str
        Columns naming the series, the date and the value.
    workers : int, optional
        Processes (default: all cores); 1 runs in this process.
    min_parallel : int
        Fewer series than this run in this process (a pool costs more than it saves for a
        handful of series of about half a second each).
    start_method : {"fork", "forkserver"}, optional
        How the pool's processes start; default ``fork`` from a single-threaded process and
        ``forkserver`` when other threads run (a Jupyter kernel): forking a threaded process
        can leave a lock held by another thread locked forever in the child.
    progress : bool
        Show a tqdm progress bar (terminal or notebook).
    horizon, freq, events, levels, **options
        As in :func:`forecast`.

    Returns
    -------
    ManyResult
        ``forecast`` and ``backtest`` stacked with a ``series`` column, and ``results``
        (series → :class:`ForecastResult`).
    """
    from tqdm.auto import tqdm

    kwargs = {"horizon": horizon, "freq": freq, "events": events, "levels": levels, **options}
    jobs = [(key, grp.set_index(date_col)[value_col], kwargs)
            for key, grp in frame.groupby(id_col, sort=True)]
    workers = workers or os.cpu_count() or 1
    results: dict = {}
    bar = tqdm(total=len(jobs), desc="forecasts", disable=not progress)
    if workers <= 1 or len(jobs) < max(2, min_parallel):
        for job in jobs:
            results[job[0]] = _one(job)
            bar.update()
    else:
        chunk = max(1, len(jobs) // (workers * 8))
        with ProcessPoolExecutor(max_workers=min(workers, len(jobs)),
                                 mp_context=pool_context(start_method)) as pool:
            for job, res in zip(jobs, pool.map(_one, jobs, chunksize=chunk), strict=True):
                results[job[0]] = res
                bar.update()
    bar.close()
    fcs = [r.forecast.assign(series=k) for k, r in results.items()]
    bts = [r.backtest.assign(series=k) for k, r in results.items()]
    fc = pd.concat(fcs, ignore_index=True) if fcs else pd.DataFrame()
    bt = pd.concat(bts, ignore_index=True) if bts else pd.DataFrame()
    front = ["series"]
    fc = fc[front + [c for c in fc.columns if c not in front]] if len(fc) else fc
    bt = bt[front + [c for c in bt.columns if c not in front]] if len(bt) else bt
    return ManyResult(fc, bt, results)

