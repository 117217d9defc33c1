"""The promotion and holiday calendar that forecasts take as inputs.

Promotions move Taobao/Tmall sales far more than anything else and their dates are known in
advance, so the forecasting engine treats them as regressors rather than noise. The built-in
calendar has these windows each year (the workbench's choice of window, stated here):

============  =========================================  ==============================
name          window                                     why
============  =========================================  ==============================
618           1–18 June                                  JD/Tmall mid-year sale, pre-sale from 1 June
双11          1–11 November                              Singles' Day, pre-sale then the 11th
双12          10–12 December                             Double Twelve
年货节        CNY − 30 days … CNY − 10 days              New-Year goods festival before logistics stop
春节          CNY − 7 days … CNY + 7 days                Spring Festival: couriers stop, sales fall
============  =========================================  ==============================

The busiest days are not spread evenly over a window: Taobao/Tmall sales peak on 11.11 and
6.18 themselves. For forecasting, :func:`promotion_calendar` can add these peak days as
events of their own (``peaks=True``: ``双11当天`` on 11 November, ``618当天`` on 18 June), so a
weekly model can tell the week holding the peak day from the other weeks of the window; the
peak's effect is then estimated on top of its window's.

Chinese New Year (CNY) moves with the lunar calendar; :data:`CNY_DATES` is a hard-coded
table for 2015–2035 (first day of the first lunar month, Beijing time), so no package is
needed. Analyst events (a CSV file or a frame with ``date`` or ``start``/``end`` and
``name``) and the warehouse ``events`` table (read by
:func:`research.store.events.events_from_warehouse`) are added on top; an event with a
built-in name adds its dates to that event.

Examples
--------
>>> cal = promotion_calendar("2026-01-01", "2026-12-31")
>>> sorted(cal["name"].unique())
['618', '双11', '双12', '年货节', '春节']
>>> cal[cal["name"] == "春节"]["date"].min().date()
datetime.date(2026, 2, 10)
>>> promotion_calendar("2026-11-01", "2026-11-30", peaks=True).query("kind == 'peak'")["date"].tolist()
[Timestamp('2026-11-11 00:00:00')]
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["CNY_DATES", "BUILTIN_EVENTS", "PEAK_DAYS", "promotion_calendar", "read_event_file",
           "normalise_events", "event_regressors"]

#: Chinese New Year's day (正月初一), 2015–2035
CNY_DATES: dict[int, str] = {
    2015: "2015-02-19", 2016: "2016-02-08", 2017: "2017-01-28", 2018: "2018-02-16",
    2019: "2019-02-05", 2020: "2020-01-25", 2021: "2021-02-12", 2022: "2022-02-01",
    2023: "2023-01-22", 2024: "2024-02-10", 2025: "2025-01-29", 2026: "2026-02-17",
    2027: "2027-02-06", 2028: "2028-01-26", 2029: "2029-02-13", 2030: "2030-02-03",
    2031: "2031-01-23", 2032: "2032-02-11", 2033: "2033-01-31", 2034: "2034-02-19",
    2035: "2035-02-08",
}

BUILTIN_EVENTS = ("618", "双11", "双12", "年货节", "春节")

#: peak days added with ``peaks=True``: name → (month, day)
PEAK_DAYS: dict[str, tuple[int, int]] = {"618当天": (6, 18), "双11当天": (11, 11)}


def _windows(year: int) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    out = [
        ("618", pd.Timestamp(year, 6, 1), pd.Timestamp(year, 6, 18)),
        ("双11", pd.Timestamp(year, 11, 1), pd.Timestamp(year, 11, 11)),
        ("双12", pd.Timestamp(year, 12, 10), pd.Timestamp(year, 12, 12)),
    ]
    if year in CNY_DATES:
        cny = pd.Timestamp(CNY_DATES[year])
        out.append(("年货节", cny - pd.Timedelta(days=30), cny - pd.Timedelta(days=10)))
        out.append(("春节", cny - pd.Timedelta(days=7), cny + pd.Timedelta(days=7)))
    return out


def _expand(name: str, start: pd.Timestamp, end: pd.Timestamp, kind: str) -> pd.DataFrame:
    days = pd.date_range(start, end, freq="D")
    return pd.DataFrame({"date": days, "name": name, "kind": kind})


def read_event_file(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read analyst events from a CSV: ``date,name`` or ``start,end,name`` (``kind`` optional).

    Chinese headers 日期/开始/结束/活动 are accepted too. Returns one row per day.
    """
    frame = pd.read_csv(Path(path), encoding="utf-8-sig")
    return normalise_events(frame)


def normalise_events(frame: pd.DataFrame | None) -> pd.DataFrame:
    """Turn a frame of events (``date`` or ``start``/``end``, ``name``) into one row per day."""
    cols = ["date", "name", "kind"]
    if frame is None or len(frame) == 0:
        return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "date" else "str")
                             for c in cols})
    ren = {"日期": "date", "开始": "start", "开始日期": "start", "结束": "end",
           "结束日期": "end", "活动": "name", "活动名称": "name", "类型": "kind"}
    f = frame.rename(columns={k: v for k, v in ren.items() if k in frame.columns})
    if "name" not in f.columns:
        raise ValueError("an event table needs a 'name' column (活动)")
    kind = f["kind"] if "kind" in f.columns else pd.Series("analyst", index=f.index)
    parts = []
    if "start" in f.columns:
        ends = f["end"] if "end" in f.columns else f["start"]
        for name, s, e, k in zip(f["name"], f["start"], ends, kind, strict=True):
            parts.append(_expand(str(name), pd.Timestamp(s), pd.Timestamp(e), str(k)))
    elif "date" in f.columns:
        parts.append(pd.DataFrame({"date": pd.to_datetime(f["date"]),
                                   "name": f["name"].astype(str), "kind": kind.astype(str)}))
    else:
        raise ValueError("an event table needs 'date' or 'start'/'end' columns")
    out = pd.concat(parts, ignore_index=True)
    return out.drop_duplicates(["date", "name"]).reset_index(drop=True)[cols]


def promotion_calendar(start: str | pd.Timestamp, end: str | pd.Timestamp,
                       extra: pd.DataFrame | None = None, builtin: bool = True,
                       peaks: bool = False) -> pd.DataFrame:
    """The event days between ``start`` and ``end``: the built-in promotions plus ``extra``.

    Parameters
    ----------
    start, end : date-like
        Inclusive range (history and forecast horizon together).
    extra : DataFrame, optional
        Analyst or warehouse events (``date`` or ``start``/``end``, ``name``, ``kind``).
    builtin : bool
        Include the built-in windows (618, 双11, 双12, 年货节, 春节).
    peaks : bool
        With ``builtin``, also the peak days of :data:`PEAK_DAYS` as events of their own
        (kind ``peak``).

    Returns
    -------
    DataFrame
        ``date, name, kind``, one row per event day.
    """
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    parts = []
    if builtin:
        for year in range(lo.year - 1, hi.year + 2):
            for name, s, e in _windows(year):
                kind = "holiday" if name == "春节" else "promotion"
                parts.append(_expand(name, s, e, kind))
            if peaks:
                for name, (month, day) in PEAK_DAYS.items():
                    d = pd.Timestamp(year, month, day)
                    parts.append(_expand(name, d, d, "peak"))
    if extra is not None and len(extra):
        parts.append(normalise_events(extra))
    if not parts:
        return normalise_events(None)
    cal = pd.concat(parts, ignore_index=True)
    cal = cal[(cal["date"] >= lo) & (cal["date"] <= hi)]
    return cal.drop_duplicates(["date", "name"]).sort_values(["date", "name"]).reset_index(
        drop=True)


def event_regressors(dates: pd.DatetimeIndex, freq: str, calendar: pd.DataFrame) -> pd.DataFrame:
    """One column per event: the share of each period's days that fall in the event.

    Parameters
    ----------
    dates : DatetimeIndex
        Period labels: days (``freq="D"``) or the first day of each week (``freq="W"``).
    freq : {"D", "W"}
    calendar : DataFrame
        From :func:`promotion_calendar`.

    Returns
    -------
    DataFrame
        Indexed like ``dates``; values in [0, 1] (0/1 for daily data). Events that touch none
        of the periods are left out.

    Examples
    --------
    >>> cal = promotion_calendar("2026-11-01", "2026-11-30", builtin=True)
    >>> x = event_regressors(pd.date_range("2026-11-02", periods=2, freq="7D"), "W", cal)
    >>> x["双11"].round(3).tolist()
    [1.0, 0.429]
    """
    dates = pd.DatetimeIndex(dates)
    out = pd.DataFrame(index=dates)
    if calendar is None or len(calendar) == 0:
        return out
    span = 7 if freq.upper().startswith("W") else 1
    for name, grp in calendar.groupby("name", sort=True):
        days = pd.DatetimeIndex(grp["date"]).normalize().unique()
        if span == 1:
            col = dates.normalize().isin(days).astype(float)
        else:
            col = np.zeros(len(dates))
            dset = days.values.astype("datetime64[D]")
            starts = dates.values.astype("datetime64[D]")
            for off in range(7):
                col += np.isin(starts + np.timedelta64(off, "D"), dset)
            col /= 7.0
        if np.any(col > 0):
            out[str(name)] = np.asarray(col, dtype=float)
    return out
