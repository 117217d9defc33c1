"""Level shifts in daily traffic series: when a channel starts, drops or steps.

The method, in the order it runs (every choice is stated in the report beside the events):

1. **Scale.** ``log1p`` of daily UV, so a step is a ratio and a start from zero is finite.
2. **Promotion days removed.** Days in the ``events`` calendar (618, 双11 …) are dropped from
   the series before detection, not treated as noise: they are known in advance and would
   otherwise show up as two "steps" each. Days a shop has no rows at all are dropped too.
3. **Weekly pattern removed.** Per series, the median by weekday of the residual from a
   centred 28-day rolling mean is subtracted.
4. **Common factor removed** (when there are at least :data:`MIN_SERIES_COMMON` series): the
   per-day median across series of the (series-centred) values — the market's seasonality
   and platform-wide swings that move every shop at once. A move of one shop's channel
   barely moves that median.
5. **Change points** by binary segmentation with the ``l2`` (mean-shift) cost, ``min_size``
   days per segment and ``jump = 1`` — the same result as ``ruptures.Binseg(model="l2")``
   (tested against it), written on cumulative sums so a 730-day series costs well under a
   millisecond. Each break is then re-optimised between its neighbours. (The algorithm and
   the noise estimate of step 6 live in :mod:`research.analyses.competitors.binseg`.)
6. **Penalty calibrated on a robust noise estimate**: σ = 1.4826 · MAD(first differences) / √2
   (floored at :data:`SIGMA_FLOOR`), penalty = ``beta`` · σ² · ln(n) / ``sensitivity``.
   Higher sensitivity → lower penalty → more (smaller) events.
7. **Kept only if it is a step, not a drift**: the mean of up to 14 days after minus the
   14 days before (log scale) must be at least ``ln(1 + min_change)`` in size and ``min_z``
   standard errors; the 28-day average daily UV must change by at least ``min_change / 2``
   (relative) and ``min_uv`` (absolute).

Event kinds: ``start`` when the level before is at most ``start_ratio`` × the level after,
``drop`` when the level after is at most ``start_ratio`` × the level before, otherwise
``step up`` / ``step down``. Levels ("UV/day before → after") are average daily UV over up to
28 non-promotion days each side, inside the neighbouring segments.

The charts of the events (``plot_timeline``, ``plot_event_series``) are in
:mod:`research.analyses.competitors.changepoint_charts`, which imports this module.

Examples
--------
>>> days = pd.date_range("2026-01-05", periods=120, freq="D")
>>> uv = np.r_[np.full(60, 50.0), np.full(60, 150.0)]
>>> uv = uv * np.exp(np.random.default_rng(0).normal(0, .05, 120))
>>> t = pd.DataFrame({"date": days, "shop": "A", "channel": "affiliate", "visitors": uv})
>>> detect_moves(t)[["date", "kind"]].astype(str).values.tolist()
[['2026-03-06', 'step up']]
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from research.analyses.competitors.binseg import binseg_l2, refine_l2, robust_sigma
from research.store.schema import CHANNEL_GROUPS
from research.weeks import iso_week

__all__ = [
    "MIN_SERIES_COMMON",
    "SIGMA_FLOOR",
    "prepare_log_matrix",
    "detect_level_shifts",
    "detect_share_shifts",
    "promotion_days",
    "daily_matrix",
    "detect_moves",
    "EVENT_COLUMNS",
    "CHANNEL_LABELS",
]

#: at least this many series before a common (market) factor is estimated and removed
MIN_SERIES_COMMON = 8
#: a mix shift needs both channels' own levels to move by this much (log) …
MIX_MIN_LEVEL_STEP = float(np.log1p(0.1))
#: … and by this many standard errors (rising for the gaining, falling for the losing one)
MIX_MIN_Z = 3.0
#: Chinese labels of the canonical channel codes, for reports
CHANNEL_LABELS = {
    "organic_search": "手淘搜索", "paid_search": "直通车", "display": "引力魔方/钻展",
    "affiliate": "淘宝客", "feed": "手淘推荐", "direct": "直接访问", "cart_fav": "购物车/收藏",
    "content": "内容/直播", "other": "其他",
}
#: floor of the noise estimate (log scale): a series of constant zeros has MAD 0
SIGMA_FLOOR = 0.05


def prepare_log_matrix(values: np.ndarray, dates: pd.DatetimeIndex, keep: np.ndarray,
                       common: bool | None = None, log: bool = True) -> np.ndarray:
    """log1p, weekly pattern and (optionally) common factor removed; NaN where not kept.

    Parameters
    ----------
    values : array (T, S)
        Daily UV, one column per series; NaN where the series has no data that day.
    dates : DatetimeIndex of length T
    keep : bool array (T,) or (T, S)
        False on promotion days (and anything else to leave out).
    common : bool, optional
        Remove the per-day median across series; default: when there are at least
        :data:`MIN_SERIES_COMMON` series.
    log : bool
        Take ``log1p`` first (levels); ``False`` for shares.

    Returns
    -------
    array (T, S)
    """
    y = np.asarray(values, dtype=float)
    y = np.log1p(y) if log else y.copy()
    keep = np.asarray(keep, dtype=bool)
    if keep.ndim == 1:
        keep = np.broadcast_to(keep[:, None], y.shape)
    y = np.where(keep, y, np.nan)
    frame = pd.DataFrame(y, index=dates)
    base = frame.rolling(28, center=True, min_periods=7).mean()
    wd = np.asarray(dates.day_of_week)
    effect = (frame - base).groupby(wd).median()
    effect = effect - effect.mean()
    y = y - effect.reindex(wd).to_numpy()
    if common is None:
        common = y.shape[1] >= MIN_SERIES_COMMON
    if common:
        centred = y - np.nanmedian(y, axis=0, keepdims=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            factor = np.nanmedian(centred, axis=1) if np.isfinite(centred).any() else None
        if factor is not None:
            factor = np.where(np.isnan(factor), 0.0, factor)
            y = y - factor[:, None]
    return y


def _classify(before: float, after: float, start_ratio: float) -> str:
    if before <= start_ratio * after:
        return "start"
    if after <= start_ratio * before:
        return "drop"
    return "step up" if after > before else "step down"


def _breaks(prepared: np.ndarray, sensitivity: float, beta: float, min_size: int,
            sigma_floor: float) -> tuple[np.ndarray, np.ndarray, list[int], float]:
    """Kept positions, kept values, break positions (in kept days) and σ of one series."""
    idx = np.flatnonzero(~np.isnan(prepared))
    x = prepared[idx]
    if len(idx) < 2 * min_size:
        return idx, x, [], 0.0
    sigma = max(robust_sigma(x), sigma_floor)
    pen = beta * sigma * sigma * np.log(len(x)) / max(sensitivity, 1e-9)
    return idx, x, refine_l2(x, binseg_l2(x, pen, min_size), min_size), sigma


def _windows(k: int, lo: int, hi: int, w: int) -> tuple[slice, slice, int]:
    m = min(w, k - lo, hi - k)
    return slice(k - m, k), slice(k, k + m), m


def detect_level_shifts(values: np.ndarray, dates: pd.DatetimeIndex, prepared: np.ndarray,
                        *, sensitivity: float = 1.0, beta: float = 8.0, min_size: int = 7,
                        min_change: float = 0.3, min_uv: float = 5.0,
                        start_ratio: float = 0.1, min_z: float = 3.0) -> list[dict]:
    """Level shifts of one daily series.

    Parameters
    ----------
    values : array (T,)
        Raw daily UV (NaN where no data).
    dates : DatetimeIndex (T,)
    prepared : array (T,)
        The same series from :func:`prepare_log_matrix`; NaN days are left out.
    sensitivity : float
        > 1 finds more (smaller) shifts, < 1 fewer; divides the penalty and divides
        ``min_z`` by its square root.
    beta : float
        Penalty multiplier of σ² · ln(n).
    min_size : int
        Shortest level, in (kept) days.
    min_change : float
        Smallest relative step kept (0.3 = ±30 % between the two weeks around the break).
    min_uv : float
        Smallest change of average daily UV kept.
    start_ratio : float
        Level before ≤ ratio × level after is a start; after ≤ ratio × before is a drop.
    min_z : float
        Smallest step in units of its standard error (σ·√(2/w), w ≤ 14 days each side).

    Returns
    -------
    list of dict
        ``date, kind, uv_before, uv_after, change, log_step, z`` per event, by date.
    """
    idx, x, bkps, sigma = _breaks(prepared, sensitivity, beta, min_size, SIGMA_FLOOR)
    raw = np.nan_to_num(np.asarray(values, dtype=float)[idx])
    edges = [0, *bkps, len(x)]
    out = []
    for j, k in enumerate(bkps):
        b14, a14, m = _windows(k, edges[j], edges[j + 2], 14)
        step = float(x[a14].mean() - x[b14].mean())
        if abs(step) < np.log1p(min_change):
            continue
        b28, a28, _ = _windows(k, edges[j], edges[j + 2], 28)
        before, after = float(raw[b28].mean()), float(raw[a28].mean())
        z = abs(step) / sigma * np.sqrt(m / 2)
        ratio = (after + 1) / (before + 1)
        if abs(after - before) < min_uv or (after - before) * step <= 0 \
                or z < min_z / np.sqrt(max(sensitivity, 1e-9)) \
                or abs(np.log(ratio)) < np.log1p(min_change / 2):
            continue
        out.append({
            "date": pd.Timestamp(dates[idx[k]]),
            "kind": _classify(before, after, start_ratio),
            "uv_before": before, "uv_after": after, "change": after - before,
            "log_step": step, "z": z,
        })
    return out


def detect_share_shifts(shares: np.ndarray, dates: pd.DatetimeIndex, prepared: np.ndarray,
                        *, sensitivity: float = 1.0, beta: float = 8.0, min_size: int = 7,
                        min_share_change: float = 0.05) -> list[dict]:
    """Shifts of one channel's share of its shop's visitors (same method, no log).

    Returns
    -------
    list of dict
        ``date, share_before, share_after`` (28-day means each side) per shift.
    """
    idx, x, bkps, _ = _breaks(prepared, sensitivity, beta, min_size, 0.005)
    raw = np.nan_to_num(np.asarray(shares, dtype=float)[idx])
    edges = [0, *bkps, len(x)]
    out = []
    for j, k in enumerate(bkps):
        b14, a14, _ = _windows(k, edges[j], edges[j + 2], 14)
        if abs(x[a14].mean() - x[b14].mean()) < min_share_change:
            continue
        b28, a28, _ = _windows(k, edges[j], edges[j + 2], 28)
        out.append({"date": pd.Timestamp(dates[idx[k]]),
                    "share_before": float(raw[b28].mean()),
                    "share_after": float(raw[a28].mean())})
    return out


def promotion_days(events: pd.DataFrame | None) -> pd.DatetimeIndex:
    """Dates of the ``events`` calendar (promotions) — left out of change-point detection."""
    if events is None or events.empty or "date" not in events:
        return pd.DatetimeIndex([])
    return pd.DatetimeIndex(pd.to_datetime(events["date"]).dt.normalize().unique())


def daily_matrix(traffic: pd.DataFrame, start: pd.Timestamp | None = None,
                 end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Daily UV as a dates × (shop, channel) frame.

    A channel missing on a day its shop reported other channels counts as 0 visitors; a day
    the shop reported nothing is NaN (no data, left out).

    Parameters
    ----------
    traffic : DataFrame
        Canonical traffic rows (``date, shop, channel, visitors``), shop-level.
    start, end : Timestamp, optional
        Window (inclusive); default the data's range.
    """
    t = traffic[["date", "shop", "channel", "visitors"]]
    t = t.assign(date=pd.to_datetime(t["date"]).dt.normalize())
    if start is not None:
        t = t[t["date"] >= start]
    if end is not None:
        t = t[t["date"] <= end]
    if t.empty:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="date"),
                            columns=pd.MultiIndex.from_tuples([], names=["shop", "channel"]))
    t = t.astype({"shop": "category", "channel": "category"})
    wide = (t.groupby(["date", "shop", "channel"], observed=True)["visitors"].sum()
            .unstack(["shop", "channel"]))
    days = pd.date_range(start if start is not None else wide.index.min(),
                         end if end is not None else wide.index.max(), freq="D", name="date")
    wide = wide.reindex(days)
    present = t.groupby(["date", "shop"], observed=True).size().unstack("shop").reindex(days)
    mask = present.notna().reindex(columns=wide.columns.get_level_values("shop")).to_numpy()
    wide = wide.fillna(0).where(mask)
    wide.columns = wide.columns.set_names(["shop", "channel"])
    wide.columns = pd.MultiIndex.from_arrays(
        [wide.columns.get_level_values(0).astype(str), wide.columns.get_level_values(1).astype(str)],
        names=["shop", "channel"])
    return wide.sort_index(axis=1).astype(float)


EVENT_COLUMNS = ["shop", "channel", "channel_label", "channel_group", "date", "week", "kind",
                 "uv_before", "uv_after", "change", "change_pct", "share_before", "share_after",
                 "from_channel", "to_channel", "z", "description"]


def _describe(shop: str, label: str, kind: str, date: pd.Timestamp, before: float,
              after: float) -> str:
    verb = {"start": "started", "drop": "dropped", "step up": "stepped up",
            "step down": "stepped down"}[kind]
    return (f"{shop} {label} {verb} {date:%Y-%m-%d}, {after - before:+,.0f} UV/day "
            f"({before:,.0f} → {after:,.0f} average daily UV)")


def _level_step(prepared: np.ndarray, dates: pd.DatetimeIndex, date: pd.Timestamp,
                days: int = 14) -> float:
    """The channel's own level change at ``date``, in standard errors: the mean of the
    prepared (log, deseasonalised) series over ``days`` kept days from ``date`` minus the
    ``days`` before, ÷ σ·√(2/days), σ from :func:`robust_sigma`; 0 when it moved less than
    :data:`MIX_MIN_LEVEL_STEP` (log)."""
    pos = int(np.searchsorted(dates, date))
    before = prepared[:pos][~np.isnan(prepared[:pos])][-days:]
    after = prepared[pos:][~np.isnan(prepared[pos:])][:days]
    m = min(len(before), len(after))
    if not m:
        return 0.0
    step = float(after[:m].mean() - before[-m:].mean())
    if abs(step) < MIX_MIN_LEVEL_STEP:
        return 0.0
    sigma = max(robust_sigma(prepared), SIGMA_FLOOR)
    return step / (sigma * np.sqrt(2 / m))


def _mix_events(wide: pd.DataFrame, levels: np.ndarray, keep: np.ndarray,
                dates: pd.DatetimeIndex, *,
                sensitivity: float, beta: float, min_size: int, min_share_change: float,
                pair_days: int, min_change: float) -> list[dict]:
    out: list[dict] = []
    shop_of = wide.columns.get_level_values("shop")
    values = wide.to_numpy()
    total = wide.T.groupby(level="shop", sort=False).sum(min_count=1).T
    with np.errstate(all="ignore"):
        denom = total[shop_of].to_numpy()
        all_shares = values / np.where(denom > 0, denom, np.nan)
    all_prepared = prepare_log_matrix(all_shares, dates, keep, common=False, log=False)
    for shop in shop_of.unique():
        where = np.flatnonzero(shop_of == shop)
        if len(where) < 2:
            continue
        block = wide[shop]
        lv = levels[:, where]
        cols = {c: k for k, c in enumerate(block.columns)}
        shares, prepared = all_shares[:, where], all_prepared[:, where]
        ups: list[dict] = []
        downs: list[dict] = []
        for j, channel in enumerate(block.columns):
            for s in detect_share_shifts(shares[:, j], dates, prepared[:, j],
                                         sensitivity=sensitivity, beta=beta, min_size=min_size,
                                         min_share_change=min_share_change):
                (ups if s["share_after"] > s["share_before"] else downs).append({**s, "channel": channel})
        used: set[int] = set()
        for up in sorted(ups, key=lambda s: s["share_before"] - s["share_after"]):
            # the channel gaining share must have grown itself, not only kept still while
            # another channel fell away
            if _level_step(lv[:, cols[up["channel"]]], dates, up["date"]) < MIX_MIN_Z:
                continue
            best, best_drop = None, 0.0
            for i, dn in enumerate(downs):
                if i in used or dn["channel"] == up["channel"] \
                        or abs((dn["date"] - up["date"]).days) > pair_days:
                    continue
                fell = _level_step(lv[:, cols[dn["channel"]]], dates, dn["date"]) <= -MIX_MIN_Z
                drop = dn["share_before"] - dn["share_after"]
                if fell and drop > best_drop:
                    best, best_drop = i, drop
            if best is None:
                continue
            used.add(best)
            dn = downs[best]
            out.append({
                "shop": shop, "channel": f"{dn['channel']}→{up['channel']}",
                "channel_label": f"{CHANNEL_LABELS.get(dn['channel'], dn['channel'])}→"
                                 f"{CHANNEL_LABELS.get(up['channel'], up['channel'])}",
                "channel_group": "mix", "date": up["date"], "kind": "mix shift",
                "share_before": up["share_before"], "share_after": up["share_after"],
                "from_channel": dn["channel"], "to_channel": up["channel"],
                "description": (
                    f"{shop} moved from {CHANNEL_LABELS.get(dn['channel'], dn['channel'])} to "
                    f"{CHANNEL_LABELS.get(up['channel'], up['channel'])} around "
                    f"{up['date']:%Y-%m-%d}: {CHANNEL_LABELS.get(up['channel'], up['channel'])} "
                    f"share {up['share_before']:.0%} → {up['share_after']:.0%}, "
                    f"{CHANNEL_LABELS.get(dn['channel'], dn['channel'])} share "
                    f"{dn['share_before']:.0%} → {dn['share_after']:.0%}")})
    return out


def detect_moves(traffic: pd.DataFrame, events: pd.DataFrame | None = None, *,
                 start: pd.Timestamp | None = None, end: pd.Timestamp | None = None,
                 sensitivity: float = 1.0, beta: float = 8.0, min_size: int = 7,
                 min_change: float = 0.3, min_uv: float = 5.0, start_ratio: float = 0.1,
                 min_z: float = 3.0, min_share_change: float = 0.05, pair_days: int = 7,
                 common: bool | None = None, mix: bool = True) -> pd.DataFrame:
    """Every shop × channel level shift, and shifts of each shop's channel mix.

    Parameters
    ----------
    traffic : DataFrame
        Canonical shop-level traffic rows.
    events : DataFrame, optional
        The promotion calendar; its dates are left out of the series.
    start, end : Timestamp, optional
        Window studied (``end`` is the Sunday of the study week: nothing later is read).
    sensitivity, beta, min_size, min_change, min_uv, start_ratio, min_z
        See :func:`detect_level_shifts`.
    min_share_change : float
        Smallest shift of a channel's share (0.05 = 5 percentage points) for a mix shift.
    pair_days : int
        A share rise of one channel and a fall of another within this many days, with the
        falling channel's own level down, make one "mix shift" (from → to).
    common : bool, optional
        Remove the common factor (default: with ≥ :data:`MIN_SERIES_COMMON` series).
    mix : bool
        Also look for mix shifts.

    Returns
    -------
    DataFrame
        :data:`EVENT_COLUMNS`, sorted by date; empty (with the columns) when nothing moved.
    """
    wide = daily_matrix(traffic, start, end)
    if wide.empty or wide.shape[1] == 0:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    dates = pd.DatetimeIndex(wide.index)
    keep = ~dates.isin(promotion_days(events))
    values = wide.to_numpy()
    prepared = prepare_log_matrix(values, dates, keep, common=common)
    rows: list[dict] = []
    for j, (shop, channel) in enumerate(wide.columns):
        for ev in detect_level_shifts(values[:, j], dates, prepared[:, j],
                                      sensitivity=sensitivity, beta=beta, min_size=min_size,
                                      min_change=min_change, min_uv=min_uv,
                                      start_ratio=start_ratio, min_z=min_z):
            label = CHANNEL_LABELS.get(channel, channel)
            rows.append({"shop": shop, "channel": channel, "channel_label": label,
                         "channel_group": CHANNEL_GROUPS.get(channel, "other"), **ev,
                         "description": _describe(shop, label, ev["kind"], ev["date"],
                                                  ev["uv_before"], ev["uv_after"])})
    if mix:
        rows += _mix_events(wide, prepared, keep, dates, sensitivity=sensitivity, beta=beta,
                            min_size=min_size, min_share_change=min_share_change,
                            pair_days=pair_days, min_change=min_change)
    out = pd.DataFrame(rows, columns=[*EVENT_COLUMNS, "log_step"])
    if out.empty:
        return pd.DataFrame(columns=EVENT_COLUMNS)
    out["date"] = pd.to_datetime(out["date"])
    out["week"] = [iso_week(d) for d in out["date"]]
    with np.errstate(all="ignore"):
        out["change_pct"] = out["change"] / out["uv_before"].where(out["uv_before"] > 0)
    return out[EVENT_COLUMNS].sort_values(["date", "shop", "channel"]).reset_index(drop=True)
