"""Alibaba Tianchi Taobao UserBehavior excerpt (page views, carts, favourites, buys of 43
users, 2017-11-25 .. 2017-12-03) → traffic-like funnel rows per category and day.

Source
------
``../shared/data/real/taobao_userbehavior/UserBehavior.csv`` (see its SOURCE.md): repository
fattydelivery/clothes-shopping-website-v1.0, commit ee6cc5a — the first 4,321 lines of
Alibaba's public Tianchi dataset 649 "UserBehavior" (~100M events of ~1M random Taobao users).
No header: ``user_id, item_id, category_id, behavior_type, timestamp`` (Unix seconds, UTC).

Licence: no licence file; the Tianchi dataset is published by Alibaba **for research use**
— cite the Tianchi dataset page / Zhu et al. (2018), "Learning Tree-based Deep Model for
Recommender Systems".

Mapping decisions
-----------------
* **traffic** rows, one per category per day: ``shop = "category <category_id>"`` (the data
  has no shops; categories are anonymised ids), ``item_id`` empty (category level),
  ``channel = "other"`` and ``channel_raw = "all"`` (the events carry no traffic source).
* ``visitors`` = distinct users with any event in the category that day; ``page_views`` =
  ``pv`` events; ``carts`` = ``cart`` events; ``favorites`` = ``fav`` events (event counts,
  not distinct people); ``buyers`` = distinct users with a ``buy`` event. No money exists
  (``payment_amount`` empty).
* **Days are Beijing time (UTC+8)**: the dataset's days are China days (its first event,
  2017-11-24 16:00:41 UTC, is 2017-11-25 00:00 in Beijing).
* **The one event outside the dataset's documented window 2017-11-25 .. 2017-12-03 (a
  2017-09-11 page view) is dropped**.
* Caveat: 43 users only (the upstream head excerpt, user ids sorted as strings) — funnel
  ratios are indicative, far too small for per-item work.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from research.sources.common import read_csv, require_files, require_folder

__all__ = ["NAME", "COLUMNS", "WINDOW", "read", "load_events"]

NAME = "taobao_userbehavior"
FILE = "UserBehavior.csv"
COLUMNS = ("user_id", "item_id", "category_id", "behavior_type", "timestamp")
BEHAVIOURS = ("pv", "cart", "fav", "buy")
WINDOW = ("2017-11-25", "2017-12-03")


def load_events(path: str | Path) -> pd.DataFrame:
    """Read the events with their Beijing date, keeping only the documented window."""
    folder = require_folder(path, "Taobao UserBehavior")
    file = require_files(folder, [FILE], "Taobao UserBehavior")[FILE]
    raw = read_csv(file, "Taobao UserBehavior", header=None, dtype=str)
    if raw.shape[1] != len(COLUMNS):
        raise ValueError(f"{file} is not the Taobao UserBehavior file expected: it has "
                         f"{raw.shape[1]} columns, expected {len(COLUMNS)} without a header "
                         f"({', '.join(COLUMNS)})")
    raw.columns = list(COLUMNS)
    unknown = ~raw["behavior_type"].isin(BEHAVIOURS)
    if unknown.any():
        raise ValueError(f"{file} is not the Taobao UserBehavior file expected: column "
                         f"behavior_type holds {raw.loc[unknown, 'behavior_type'].iloc[0]!r} "
                         f"(line {int(unknown.to_numpy().nonzero()[0][0]) + 1}), expected one "
                         f"of {', '.join(BEHAVIOURS)}")
    seconds = pd.to_numeric(raw["timestamp"], errors="coerce")
    if seconds.isna().any():
        raise ValueError(f"{file}: column timestamp holds "
                         f"{raw.loc[seconds.isna(), 'timestamp'].iloc[0]!r}, not Unix seconds")
    local = pd.to_datetime(seconds, unit="s", utc=True).dt.tz_convert("Asia/Shanghai")
    events = raw.assign(date=local.dt.tz_localize(None).dt.normalize())
    lo, hi = (pd.Timestamp(d) for d in WINDOW)
    return events[(events["date"] >= lo) & (events["date"] <= hi)]


def read(path: Path) -> dict[str, pd.DataFrame]:
    """Map the events onto daily category funnel rows in ``traffic``.

    Parameters
    ----------
    path : Path
        The ``taobao_userbehavior/`` folder.

    Returns
    -------
    dict
        ``{"traffic": frame}``.
    """
    events = load_events(path)
    counts = pd.crosstab([events["date"], events["category_id"]], events["behavior_type"])
    counts = counts.reindex(columns=list(BEHAVIOURS), fill_value=0)
    visitors = events.groupby(["date", "category_id"])["user_id"].nunique()
    buying = events[events["behavior_type"] == "buy"]
    buyers = buying.groupby(["date", "category_id"])["user_id"].nunique()
    out = pd.DataFrame({
        "visitors": visitors,
        "page_views": counts["pv"],
        "carts": counts["cart"],
        "favorites": counts["fav"],
        "buyers": buyers.reindex(visitors.index, fill_value=0),
    }).reset_index()
    out["shop"] = "category " + out["category_id"].astype(str)
    out = out.assign(item_id="", channel="other", channel_raw="all").drop(
        columns="category_id")
    return {"traffic": out[["date", "shop", "item_id", "channel", "channel_raw", "visitors",
                            "page_views", "carts", "favorites", "buyers"]]}
