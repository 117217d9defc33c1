"""The traffic tables of the competitor page: each shop's weekly channel structure
(:func:`channel_structure`) and its share of the competitive set (:func:`set_share`). The
rules and the columns are stated in :mod:`research.analyses.competitors.page`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.analyses.competitors.changepoints import CHANNEL_LABELS
from research.analyses.competitors.shops import ShopSet, in_window, iso_weeks
from research.checks import shares_sum_to_one
from research.store.schema import CHANNEL_GROUPS, CHANNELS
from research.store.traffic import shop_rows

__all__ = ["channel_structure", "set_share"]


def channel_structure(traffic: pd.DataFrame, shops: ShopSet | None = None,
                      start: pd.Timestamp | None = None,
                      end: pd.Timestamp | None = None) -> pd.DataFrame:
    """Weekly level (average daily UV) and share of each channel, per shop.

    Every channel a shop ever reports appears in each of its weeks (0 when absent). Calls
    the named check ``channel_shares_sum_to_one`` (:func:`research.checks.shares_sum_to_one`).

    Parameters
    ----------
    traffic : DataFrame
        Canonical traffic rows.
    shops : ShopSet, optional
        Restrict to these shops and label roles; default all shops, role ``competitor``.
    start, end : Timestamp, optional
        Days included.

    Returns
    -------
    DataFrame
        The ``competitor_channels.csv`` columns (module docstring).

    Examples
    --------
    >>> t = pd.DataFrame({"date": pd.to_datetime(["2026-11-16"] * 2 + ["2026-11-17"]),
    ...                   "shop": "A", "channel": ["organic_search", "affiliate", "organic_search"],
    ...                   "visitors": [60, 40, 100]})
    >>> out = channel_structure(t)
    >>> out[["channel", "uv_avg_daily", "share"]].to_dict("list")
    {'channel': ['organic_search', 'affiliate'], 'uv_avg_daily': [80.0, 20.0], 'share': [0.8, 0.2]}
    """
    t = shop_rows(in_window(traffic, shops, start, end))
    cols = ["shop", "role", "week", "week_start", "channel", "channel_label", "channel_group",
            "days", "uv_sum_daily", "uv_avg_daily", "share", "buyers", "conversion",
            "payment_amount", "trade_index_avg_daily", "source"]
    if t.empty:
        return pd.DataFrame(columns=cols)
    t = t.assign(date=pd.to_datetime(t["date"]).dt.normalize())
    t["week_start"], t["week"] = iso_weeks(t["date"])
    for c in ("buyers", "payment_amount", "trade_index"):
        if c not in t:
            t[c] = np.nan
    keys = ["shop", "week_start", "week"]
    days = t.groupby(keys)["date"].nunique().rename("days")
    src = t.groupby("shop")["source"].first()
    g = (t.groupby([*keys, "channel"], observed=True)
         .agg(uv_sum_daily=("visitors", "sum"), buyers=("buyers", "sum"),
              buyers_n=("buyers", "count"), payment_amount=("payment_amount", "sum"),
              payment_n=("payment_amount", "count"), trade_index_sum=("trade_index", "sum"),
              trade_days=("trade_index", "count")))
    g["buyers"] = g["buyers"].where(g["buyers_n"] > 0)
    g["payment_amount"] = g["payment_amount"].where(g["payment_n"] > 0)
    # every channel the shop reports, in every week it reports
    chans = t.groupby("shop")["channel"].unique()
    full = days.reset_index().merge(
        chans.explode().rename("channel").reset_index(), on="shop")
    out = full.merge(g.reset_index(), on=[*keys, "channel"], how="left")
    out["uv_sum_daily"] = out["uv_sum_daily"].fillna(0)
    out["uv_avg_daily"] = out["uv_sum_daily"] / out["days"]
    total = out.groupby(keys)["uv_sum_daily"].transform("sum")
    out["share"] = (out["uv_sum_daily"] / total.where(total > 0)).astype(float)
    out["conversion"] = out["buyers"] / out["uv_sum_daily"].where(out["uv_sum_daily"] > 0)
    out["trade_index_avg_daily"] = out["trade_index_sum"] / out["trade_days"].where(
        out["trade_days"] > 0)
    out["channel_label"] = out["channel"].map(CHANNEL_LABELS).fillna(out["channel"])
    out["channel_group"] = out["channel"].map(CHANNEL_GROUPS).fillna("other")
    out["role"] = out["shop"].map(shops.role) if shops else "competitor"
    out["source"] = out["shop"].map(src)
    order = {c: i for i, c in enumerate(CHANNELS)}
    out = out.assign(_o=out["channel"].map(order).fillna(99))
    out = out.sort_values(["role", "shop", "week_start", "_o"], ascending=[False, True, True, True])
    out = out[cols].reset_index(drop=True)
    shares_sum_to_one(out, "share", by=["shop", "week"])  # channel_shares_sum_to_one
    return out


def set_share(traffic: pd.DataFrame, shops: ShopSet | None = None,
              start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
              ) -> pd.DataFrame:
    """Each shop's share of the competitive set's visitors and payment, week by week.

    Returns
    -------
    DataFrame
        The ``competitor_set_share.csv`` columns (module docstring). ``payment_share`` is
        among the shops reporting ``payment_amount`` that week; ``payment_basis`` says which.

    Examples
    --------
    >>> t = pd.DataFrame({"date": pd.to_datetime(["2026-11-16"] * 3), "shop": ["A", "B", "C"],
    ...                   "channel": "organic_search", "visitors": [30, 90, 80],
    ...                   "payment_amount": [100.0, 300.0, None],
    ...                   "trade_index": [None, None, 5000.0]})
    >>> set_share(t)[["shop", "uv_share", "payment_share", "payment_basis"]].values.tolist()
    [['A', 0.15, 0.25, 'payment_amount'], ['B', 0.45, 0.75, 'payment_amount'], ['C', 0.4, nan, 'trade_index only (an index: no share)']]
    """
    t = shop_rows(in_window(traffic, shops, start, end))
    cols = ["shop", "role", "week", "week_start", "days", "uv_avg_daily", "uv_share",
            "payment_amount", "payment_share", "payment_basis", "shops_in_set"]
    if t.empty:
        return pd.DataFrame(columns=cols)
    t = t.assign(date=pd.to_datetime(t["date"]).dt.normalize())
    t["week_start"], t["week"] = iso_weeks(t["date"])
    for c in ("payment_amount", "trade_index"):
        if c not in t:
            t[c] = np.nan
    keys = ["shop", "week_start", "week"]
    out = (t.groupby(keys)
           .agg(days=("date", "nunique"), uv=("visitors", "sum"),
                payment_amount=("payment_amount", "sum"), payment_n=("payment_amount", "count"),
                trade_n=("trade_index", "count"))
           .reset_index())
    out["payment_amount"] = out["payment_amount"].where(out["payment_n"] > 0)
    out["uv_avg_daily"] = out["uv"] / out["days"]
    wk = out.groupby("week_start")
    out["uv_share"] = out["uv"] / wk["uv"].transform("sum")
    payers = wk["payment_amount"].transform("count")
    out["payment_share"] = (out["payment_amount"] / wk["payment_amount"].transform("sum")
                            ).where(payers >= 2)
    out["payment_basis"] = np.where(
        out["payment_amount"].notna(),
        np.where(payers >= 2, "payment_amount",
                 "payment_amount (the only shop with money that week: no share)"),
        np.where(out["trade_n"] > 0, "trade_index only (an index: no share)", "none given"))
    out["shops_in_set"] = wk["shop"].transform("nunique")
    out["role"] = out["shop"].map(shops.role) if shops else "competitor"
    return out.sort_values(["week_start", "shop"])[cols].reset_index(drop=True)
