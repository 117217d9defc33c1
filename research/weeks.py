"""ISO weeks: the unit of the weekly study.

Examples
--------
>>> week_bounds("2026-W47")
(Timestamp('2026-11-16 00:00:00'), Timestamp('2026-11-22 00:00:00'))
>>> import pandas as pd
>>> last_complete_week(pd.to_datetime(["2026-11-01", "2026-11-25"]))
'2026-W47'
>>> iso_week(pd.Timestamp("2026-11-22"))
'2026-W47'
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

__all__ = ["week_bounds", "last_complete_week", "iso_week", "week_start", "parse_week"]

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


def parse_week(week: str) -> tuple[int, int]:
    """Split ``"2026-W47"`` into ``(2026, 47)``, with a clear error for anything else."""
    match = _WEEK.match(str(week).strip())
    if not match:
        raise ValueError(f"week {week!r} is not an ISO week such as 2026-W47")
    year, num = int(match.group(1)), int(match.group(2))
    if not 1 <= num <= pd.Timestamp(year=year, month=12, day=28).isocalendar().week:
        raise ValueError(f"week {week!r}: {year} has no ISO week {num}")
    return year, num


def week_bounds(week: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the Monday and Sunday of an ISO week."""
    year, num = parse_week(week)
    monday = pd.Timestamp.fromisocalendar(year, num, 1)
    return monday, monday + pd.Timedelta(days=6)


def iso_week(day: pd.Timestamp) -> str:
    """Return the ISO week label of a day."""
    cal = pd.Timestamp(day).isocalendar()
    return f"{cal.year}-W{cal.week:02d}"


def week_start(dates: pd.Series) -> pd.Series:
    """Map each date to the Monday of its ISO week (vectorised)."""
    dates = pd.to_datetime(dates)
    return (dates - pd.to_timedelta(dates.dt.day_of_week, unit="D")).dt.normalize()


def last_complete_week(dates: Iterable[pd.Timestamp]) -> str:
    """Return the last ISO week whose Sunday is on or before the latest date in ``dates``."""
    latest = pd.Timestamp(max(pd.to_datetime(list(dates))))
    sunday = latest - pd.Timedelta(days=(latest.weekday() + 1) % 7)
    return iso_week(sunday)
