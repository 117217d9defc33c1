"""Market overview, audience part: who buys, when and where (``audience`` snapshots).

Shares of the latest audience snapshot per dimension and their move since the previous one,
gender and age, the hour × weekday grid, the province and city ranking, and canonical
``audience`` rows built from order-level public data. The result tables ``audience.csv``,
``peak_hours.csv`` and ``regions.csv`` are described in :mod:`research.analyses.market.study`, which
re-exports every public name here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from research.checks import CheckFailed, shares_sum_to_one

__all__ = [
    "SHARE_TOLERANCE",
    "audience_shares_sum_to_one",
    "audience_changes",
    "gender_age",
    "hour_weekday",
    "hour_weekday_joint",
    "hour_profile",
    "weekday_profile",
    "peak_hour",
    "peak_weekday",
    "region_ranking",
    "audience_from_orders",
]

#: exported percentages are rounded (12.34 %): a dimension's shares may miss 1 by this much
SHARE_TOLERANCE = 0.005

_WEEKDAYS = {"周一": 1, "周二": 2, "周三": 3, "周四": 4, "周五": 5, "周六": 6, "周日": 7,
             "周天": 7, "星期一": 1, "星期二": 2, "星期三": 3, "星期四": 4, "星期五": 5,
             "星期六": 6, "星期日": 7, "星期天": 7, "mon": 1, "tue": 2, "wed": 3, "thu": 4,
             "fri": 5, "sat": 6, "sun": 7}


# ----------------------------------------------------------------------------- checks

def audience_shares_sum_to_one(audience: pd.DataFrame, tol: float = SHARE_TOLERANCE) -> None:
    """Named check: within each snapshot × dimension the buyer shares sum to one.

    Parameters
    ----------
    audience : DataFrame
        Canonical ``audience`` rows (snapshot_date, dimension, share, ...).
    tol : float
        Allowed gap, for exports that round each percentage to two decimals.

    Raises
    ------
    CheckFailed
        Naming the snapshot and dimension whose shares do not sum to one (for example a
        top-10 province export, which leaves out the other provinces).
    """
    try:
        shares_sum_to_one(audience, "share", by=["snapshot_date", "dimension"], tol=tol)
    except CheckFailed as exc:
        raise CheckFailed(f"audience_shares_sum_to_one: {exc}") from None



# ----------------------------------------------------------------------------- audience

def _latest_two(audience: pd.DataFrame, until: Any) -> tuple[pd.DataFrame, Any, Any]:
    frame = audience.copy()
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"])
    if until is not None:
        frame = frame[frame["snapshot_date"] <= pd.Timestamp(until)]
    dates = sorted(frame["snapshot_date"].unique())
    cur = pd.Timestamp(dates[-1]) if dates else None
    prev = pd.Timestamp(dates[-2]) if len(dates) > 1 else None
    return frame, cur, prev


def audience_changes(audience: pd.DataFrame, until: Any = None,
                     category: str | None = None) -> pd.DataFrame:
    """Shares of the latest audience snapshot per dimension, and the move since the previous.

    Runs :func:`audience_shares_sum_to_one` on every snapshot used. ``prev_snapshot_date`` is
    the previous snapshot of the same dimension (a dimension may be exported less often).

    Returns
    -------
    DataFrame
        See ``audience.csv`` in :mod:`research.analyses.market.study`.
    """
    cols = ["snapshot_date", "prev_snapshot_date", "dimension", "segment", "share",
            "prev_share", "change", "buyers"]
    frame = audience
    if category and "category" in frame:
        frame = frame[frame["category"] == category]
    frame, _, _ = _latest_two(frame, until)
    if frame.empty:
        return pd.DataFrame(columns=cols)
    if "buyers" not in frame:
        frame = frame.assign(buyers=np.nan)
    frame = frame.assign(segment=frame["segment"].astype("string"))
    out = []
    for dim, part in frame.groupby("dimension", sort=False):
        dates = sorted(part["snapshot_date"].unique())
        cur = part[part["snapshot_date"] == dates[-1]]
        prev = part[part["snapshot_date"] == dates[-2]] if len(dates) > 1 else part.iloc[:0]
        audience_shares_sum_to_one(pd.concat([cur, prev]))
        merged = cur[["segment", "share", "buyers"]].merge(
            prev[["segment", "share"]].rename(columns={"share": "prev_share"}), on="segment",
            how="outer")
        merged["share"] = merged["share"].fillna(0.0)
        if len(dates) > 1:
            merged["prev_share"] = merged["prev_share"].fillna(0.0)
        merged["change"] = merged["share"] - merged["prev_share"]
        merged["snapshot_date"] = pd.Timestamp(dates[-1])
        merged["prev_snapshot_date"] = pd.Timestamp(dates[-2]) if len(dates) > 1 else pd.NaT
        merged["dimension"] = dim
        out.append(merged.sort_values("share", ascending=False))
    return pd.concat(out, ignore_index=True)[cols]


def gender_age(changes: pd.DataFrame) -> dict[str, Any]:
    """Gender and age of buyers: the joint table if the data has one, else the two marginals.

    The platform exports gender and age as separate distributions (the ``audience`` table has
    no joint dimension), so no gender × age cross table is derived: multiplying the marginals
    would assume age does not depend on gender.

    Returns
    -------
    dict
        ``joint`` (None), ``gender`` and ``age`` (rows of :func:`audience_changes`, may be
        empty), ``note`` (what could be shown).
    """
    parts = {d: changes[changes["dimension"] == d] for d in ("gender", "age")}
    have = [d for d, p in parts.items() if not p.empty]
    if len(have) == 2:
        text = ("Only marginal shares exist (gender and age separately); no gender × age "
                "table is shown because the data has no joint distribution.")
    elif have:
        text = f"Only the {have[0]} distribution is in the data; the other is missing."
    else:
        text = "The data has neither a gender nor an age distribution of buyers."
    return {"joint": None, **parts, "note": text}


def _hour(segment: Any) -> float:
    text = str(segment).strip()
    digits = ""
    for ch in text:
        if ch.isdigit():
            digits += ch
        elif digits:
            break
    return float(int(digits)) if digits and int(digits) < 24 else np.nan


def _weekday(segment: Any) -> float:
    text = str(segment).strip().lower()
    if text.isdigit():
        n = int(text)
        return float(7 if n == 0 else n) if 0 <= n <= 7 else np.nan
    for name, n in _WEEKDAYS.items():
        if text.startswith(name):
            return float(n)
    return np.nan


def _marginal(changes: pd.DataFrame, dimension: str, parse: Any) -> pd.DataFrame:
    """Shares of one time dimension's segments read by ``parse`` (segments naming the same
    hour or day are added); columns ``dimension``, share."""
    part = changes[changes["dimension"] == dimension]
    read = part.assign(**{dimension: part["segment"].map(parse)}).dropna(subset=[dimension])
    out = read.groupby(dimension, as_index=False)["share"].sum()
    return out.astype({dimension: "int64"})[[dimension, "share"]]


def hour_profile(changes: pd.DataFrame) -> pd.DataFrame:
    """Share of buyers by hour of the day from the latest snapshot's hour distribution.

    Segments are read as hours (``"21"``, ``"21:00"``, ``"21时"``); shares of segments naming
    the same hour are added. Empty (columns hour, share) without an hour distribution.

    Examples
    --------
    >>> ch = pd.DataFrame({"dimension": "hour", "segment": ["9:00", "21:00", "21时"],
    ...                    "share": [0.2, 0.5, 0.3]})
    >>> hour_profile(ch).to_dict("records")
    [{'hour': 9, 'share': 0.2}, {'hour': 21, 'share': 0.8}]
    """
    return _marginal(changes, "hour", _hour)


def weekday_profile(changes: pd.DataFrame) -> pd.DataFrame:
    """Share of buyers by weekday (1 = Monday … 7 = Sunday) from the latest snapshot's
    weekday distribution; empty (columns weekday, share) without one.

    Examples
    --------
    >>> ch = pd.DataFrame({"dimension": "weekday", "segment": ["周一", "周日", "星期天"],
    ...                    "share": [0.5, 0.3, 0.2]})
    >>> weekday_profile(ch).to_dict("records")
    [{'weekday': 1, 'share': 0.5}, {'weekday': 7, 'share': 0.5}]
    """
    return _marginal(changes, "weekday", _weekday)


def hour_weekday(changes: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    """Hour × weekday shares from the hour and weekday marginals of the latest snapshot.

    **Assumption:** with only the two marginals, the joint share is their product
    (``share(hour) × share(weekday)``): the hour profile is taken to be the same on every
    weekday. Returns an empty frame and a sentence when a marginal is missing.
    """
    hours = changes[changes["dimension"] == "hour"]
    days = changes[changes["dimension"] == "weekday"]
    missing = [d for d, p in (("hour", hours), ("weekday", days)) if p.empty]
    if missing:
        return (pd.DataFrame(columns=["weekday", "hour", "share", "method"]),
                f"No {' and no '.join(missing)} distribution of buyers in the data: "
                "the hour × weekday heatmap cannot be drawn.")
    h = hour_profile(changes).set_index("hour")["share"]
    d = weekday_profile(changes).set_index("weekday")["share"]
    grid = pd.DataFrame([(int(wd), int(hr), float(sw * sh)) for wd, sw in d.items()
                         for hr, sh in h.items()], columns=["weekday", "hour", "share"])
    grid["method"] = "product of marginals"
    return grid, None


def hour_weekday_joint(timestamps: pd.Series) -> pd.DataFrame:
    """The real hour × weekday distribution of orders from their timestamps.

    Returns
    -------
    DataFrame
        weekday (1 = Monday), hour, share (of orders; all 7 × 24 cells), method "joint".
    """
    ts = pd.to_datetime(pd.Series(timestamps)).dropna()
    counts = pd.crosstab((ts.dt.day_of_week + 1).rename("weekday"), ts.dt.hour.rename("hour"))
    counts = counts.reindex(index=range(1, 8), columns=range(24), fill_value=0)
    long = counts.stack().rename("n").reset_index()
    long.columns = ["weekday", "hour", "n"]
    long["share"] = long["n"] / max(int(long["n"].sum()), 1)
    long["method"] = "joint"
    return long[["weekday", "hour", "share", "method"]].astype(
        {"weekday": "int64", "hour": "int64"})


def peak_hour(grid: pd.DataFrame) -> int | None:
    """The hour of the day with the largest share of buyers (summed over weekdays).

    ``grid`` is an hour × weekday grid or an hour profile alone (:func:`hour_profile`:
    columns hour, share); ``None`` when it is empty. A tie goes to the earlier hour.

    Examples
    --------
    >>> peak_hour(pd.DataFrame({"hour": [9, 21, 22], "share": [0.2, 0.5, 0.3]}))
    21
    """
    if grid.empty:
        return None
    return int(grid.groupby("hour")["share"].sum().idxmax())


def peak_weekday(grid: pd.DataFrame) -> int | None:
    """The weekday (1 = Monday … 7 = Sunday) with the largest share of buyers, from an hour ×
    weekday grid or a weekday profile alone (:func:`weekday_profile`); ``None`` when empty.

    Examples
    --------
    >>> peak_weekday(pd.DataFrame({"weekday": [1, 6, 7], "share": [0.2, 0.5, 0.3]}))
    6
    """
    if grid.empty:
        return None
    return int(grid.groupby("weekday")["share"].sum().idxmax())


def region_ranking(changes: pd.DataFrame, top: int | None = None) -> pd.DataFrame:
    """Rank provinces and cities by share of buyers, with the change and the previous rank.

    Returns
    -------
    DataFrame
        See ``regions.csv`` in :mod:`research.analyses.market.study`.
    """
    out = []
    for level in ("province", "city"):
        part = changes[changes["dimension"] == level].copy()
        if part.empty:
            continue
        part = part.sort_values(["share", "segment"], ascending=[False, True])
        part["rank"] = range(1, len(part) + 1)
        prev = part.dropna(subset=["prev_share"])
        prev = prev[prev["prev_share"] > 0].sort_values(["prev_share", "segment"],
                                                        ascending=[False, True])
        part["prev_rank"] = part["segment"].map(
            dict(zip(prev["segment"], range(1, len(prev) + 1), strict=True)))
        part["level"] = level
        out.append(part.head(top) if top else part)
    cols = ["level", "rank", "segment", "share", "prev_share", "change", "prev_rank"]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


def audience_from_orders(orders: pd.DataFrame, category: str, snapshot_date: Any,
                         dimensions: Sequence[str] = ("province", "city", "hour", "weekday")
                         ) -> pd.DataFrame:
    """Build canonical ``audience`` rows from order-level data (public datasets).

    Parameters
    ----------
    orders : DataFrame
        One row per order with ``timestamp`` and any of ``province``, ``city``.
    category, snapshot_date
        Written into the rows.

    Returns
    -------
    DataFrame
        snapshot_date, category, dimension, segment, share (of orders), buyers (order count).
    """
    ts = pd.to_datetime(orders["timestamp"])
    keys = {"province": orders.get("province"), "city": orders.get("city"),
            "hour": ts.dt.hour.astype("string"), "weekday": (ts.dt.day_of_week + 1).astype("string")}
    rows = []
    for dim in dimensions:
        col = keys.get(dim)
        if col is None:
            continue
        counts = pd.Series(col).dropna().astype("string").value_counts()
        rows.append(pd.DataFrame({"dimension": dim, "segment": counts.index.astype(str),
                                  "buyers": counts.to_numpy(),
                                  "share": counts.to_numpy() / counts.sum()}))
    out = pd.concat(rows, ignore_index=True)
    out.insert(0, "category", category)
    out.insert(0, "snapshot_date", pd.Timestamp(snapshot_date))
    return out
