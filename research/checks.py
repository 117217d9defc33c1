"""Named data-quality checks called between stages.

Each raises :class:`CheckFailed` with a sentence saying what broke, so a broken assumption
stops a run with an explanation rather than a wrong chart.

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

from collections.abc import Sequence

import pandas as pd

__all__ = ["CheckFailed", "shares_sum_to_one", "no_missing", "unique_key", "non_negative"]


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
