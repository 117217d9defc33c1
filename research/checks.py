"""Named data-quality checks called between stages.

Each raises :class:`CheckFailed` with a sentence saying what broke, so a broken assumption
stops a run with an explanation rather than a wrong chart.

Parameter checks (applied by name before a study runs, :func:`check_parameter`):

- dates — ``snapshot``, ``start`` and names ending ``_date``: empty or a real ISO date
  ``YYYY-MM-DD`` (:func:`iso_date`; ``2026-13-45`` is refused);
- band edges — ``edges`` and names ending ``_edges``: numbers, strictly increasing
  (:func:`increasing_numbers`; an empty list means "choose them from the data");
- rates and shares — names ending ``_rate``, ``_share``, ``_margin``, ``_conversion`` or
  ``_threshold`` except ``z_threshold``: a number in [0, 1] (:func:`unit_interval`);
- counts — ``top_n`` and names starting ``n_`` or ``top_`` or ending ``_weeks``: a whole
  number ≥ 1 (:func:`at_least_one`);
- interval levels — ``levels``: percentages strictly between 0 and 100 (:func:`percent_levels`).

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"shop": ["a", "a", "b"], "share": [0.4, 0.6, 1.0]})
>>> shares_sum_to_one(frame, "share", by=["shop"])
>>> shares_sum_to_one(frame.assign(share=[0.4, 0.5, 1.0]), "share", by=["shop"])
Traceback (most recent call last):
...
research.checks.CheckFailed: shares of 'share' do not sum to one for 1 group(s), e.g. shop=a: 0.9
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import pandas as pd

__all__ = ["CheckFailed", "shares_sum_to_one", "no_missing", "unique_key", "non_negative",
           "iso_date", "increasing_numbers", "unit_interval", "at_least_one", "whole_number",
           "percent_levels",
           "parameter_check", "check_parameter"]


class CheckFailed(ValueError):
    """A data-quality check failed."""


def shares_sum_to_one(frame: pd.DataFrame, column: str, by: Sequence[str] = (),
                      tol: float = 1e-6) -> None:
    """Check that ``column`` sums to one within each ``by`` group (all rows when empty).

    Groups whose shares are all missing (nothing to share out) are not checked.
    """
    if frame.empty:
        return
    if by:
        sums = frame.groupby(list(by), dropna=False, observed=True)[column].sum(min_count=1)
    else:
        sums = pd.Series([frame[column].sum(min_count=1)], index=["all"])
    sums = sums.dropna()
    bad = sums[(sums - 1).abs() > tol]
    if len(bad):
        key = bad.index[0]
        label = ", ".join(f"{b}={k}" for b, k in zip(by, key if isinstance(key, tuple) else (key,),
                                                     strict=False)) if by else "all rows"
        raise CheckFailed(f"shares of {column!r} do not sum to one for {len(bad)} group(s), "
                          f"e.g. {label}: {bad.iloc[0]:.6g}")


def no_missing(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """Check that ``columns`` have no missing values."""
    for col in columns:
        n = int(frame[col].isna().sum())
        if n:
            raise CheckFailed(f"{n} row(s) have no value in {col!r}")


def unique_key(frame: pd.DataFrame, key: Sequence[str]) -> None:
    """Check that ``key`` identifies each row once."""
    dup = frame.duplicated(list(key), keep=False)
    if dup.any():
        first = frame.loc[dup, list(key)].iloc[0].to_dict()
        raise CheckFailed(f"{int(dup.sum())} rows share a key {list(key)}, e.g. {first}")


def non_negative(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    """Check that ``columns`` hold no negative values."""
    for col in columns:
        n = int((frame[col] < 0).sum())
        if n:
            raise CheckFailed(f"{n} row(s) have a negative {col!r}")


# ---------------------------------------------------------------------------- parameters

def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(float(value)) else None


def iso_date(value: Any, name: str = "date") -> None:
    """Check that ``value`` is empty or a real ISO date ``YYYY-MM-DD``.

    Examples
    --------
    >>> iso_date("2026-11-22", "snapshot"); iso_date("", "snapshot")
    >>> iso_date("2026-13-45", "snapshot")
    Traceback (most recent call last):
    ...
    research.checks.CheckFailed: parameter 'snapshot' must be empty or a date YYYY-MM-DD: \
'2026-13-45' is no date (month must be in 1..12)
    """
    if value is None or value == "":
        return
    text = str(value).strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise CheckFailed(f"parameter {name!r} must be empty or a date YYYY-MM-DD: "
                          f"{value!r} is not written that way")
    try:
        date.fromisoformat(text)
    except ValueError as exc:
        raise CheckFailed(f"parameter {name!r} must be empty or a date YYYY-MM-DD: "
                          f"{value!r} is no date ({exc})") from None


def increasing_numbers(values: Any, name: str = "edges") -> None:
    """Check that ``values`` is a list of numbers, strictly increasing (empty allowed).

    Examples
    --------
    >>> increasing_numbers([0, 50, 100.5], "edges")
    >>> increasing_numbers([0, 100, 50], "edges")
    Traceback (most recent call last):
    ...
    research.checks.CheckFailed: parameter 'edges' must be strictly increasing numbers: \
100 then 50
    """
    if values is None or values == "":
        return
    if not isinstance(values, list | tuple):
        raise CheckFailed(f"parameter {name!r} must be a list of numbers, got {values!r}")
    # an open upper end (infinity) is a valid last edge; NaN and text are not numbers
    nums = [float(v) if isinstance(v, float) and v == math.inf else _number(v) for v in values]
    bad = [v for v, n in zip(values, nums, strict=True) if n is None]
    if bad:
        raise CheckFailed(f"parameter {name!r} must be numbers: {bad[0]!r} is not a number")
    for (a, b), (x, y) in zip(zip(values, values[1:], strict=False),
                              zip(nums, nums[1:], strict=False), strict=True):
        if not y > x:  # type: ignore[operator]
            raise CheckFailed(f"parameter {name!r} must be strictly increasing numbers: "
                              f"{a!r} then {b!r}")


def unit_interval(value: Any, name: str = "rate") -> None:
    """Check that ``value`` is a number in [0, 1] (a rate or share, not a percentage).

    Examples
    --------
    >>> unit_interval(0.05, "platform_fee_rate")
    >>> unit_interval(5, "platform_fee_rate")
    Traceback (most recent call last):
    ...
    research.checks.CheckFailed: parameter 'platform_fee_rate' must be a fraction in [0, 1] \
(5% is 0.05): got 5
    """
    num = _number(value)
    if num is None or not 0 <= num <= 1:
        raise CheckFailed(f"parameter {name!r} must be a fraction in [0, 1] (5% is 0.05): "
                          f"got {value!r}")


def at_least_one(value: Any, name: str = "count") -> None:
    """Check that ``value`` is a whole number ≥ 1.

    Examples
    --------
    >>> at_least_one(5, "top_n")
    >>> at_least_one(0, "top_n")
    Traceback (most recent call last):
    ...
    research.checks.CheckFailed: parameter 'top_n' must be a whole number ≥ 1: got 0
    """
    whole_number(value, name, least=1)


def whole_number(value: Any, name: str = "count", least: int = 0) -> None:
    """Check that ``value`` is a whole number ≥ ``least``.

    Examples
    --------
    >>> whole_number(0, "min_sales")
    >>> whole_number(1, "trend_weeks", least=2)
    Traceback (most recent call last):
    ...
    research.checks.CheckFailed: parameter 'trend_weeks' must be a whole number ≥ 2: got 1
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise CheckFailed(f"parameter {name!r} must be a whole number ≥ {least}: got {value!r}")


def percent_levels(values: Any, name: str = "levels") -> None:
    """Check that ``values`` are percentages strictly between 0 and 100 (interval levels).

    Examples
    --------
    >>> percent_levels([80, 95], "levels")
    >>> percent_levels([0.8], "levels")
    >>> percent_levels([80, 100], "levels")
    Traceback (most recent call last):
    ...
    research.checks.CheckFailed: parameter 'levels' must be percentages between 0 and 100 \
(exclusive): got 100
    """
    if not isinstance(values, list | tuple):
        values = [values]
    for v in values:
        num = _number(v)
        if num is None or not 0 < num < 100:
            raise CheckFailed(f"parameter {name!r} must be percentages between 0 and 100 "
                              f"(exclusive): got {v!r}")


def parameter_check(name: str) -> Callable[[Any, str], None] | None:
    """The check a parameter's name calls for (module docstring), or ``None``.

    Examples
    --------
    >>> [getattr(parameter_check(n), "__name__", None)
    ...  for n in ("snapshot", "band_edges", "min_margin", "horizon_weeks", "z_threshold")]
    ['iso_date', 'increasing_numbers', 'unit_interval', 'at_least_one', None]
    """
    if name in ("snapshot", "start") or name.endswith("_date"):
        return iso_date
    if name == "edges" or name.endswith("_edges"):
        return increasing_numbers
    if name == "levels":
        return percent_levels
    if name != "z_threshold" and name.endswith(
            ("_rate", "_share", "_margin", "_conversion", "_threshold")):
        return unit_interval
    if name == "top_n" or name.startswith(("n_", "top_")) or name.endswith("_weeks"):
        return at_least_one
    return None


def check_parameter(name: str, value: Any) -> None:
    """Apply the check the parameter's name calls for; :class:`CheckFailed` names it.

    Examples
    --------
    >>> check_parameter("snapshot", "2026-11-22"); check_parameter("anything", object())
    >>> check_parameter("price_edges", [50, 20])
    Traceback (most recent call last):
    ...
    research.checks.CheckFailed: parameter 'price_edges' must be strictly increasing numbers: \
50 then 20
    """
    check = parameter_check(name)
    if check is not None:
        check(value, name)
