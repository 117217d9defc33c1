"""The competitive set and its traffic rows, for :mod:`research.analyses.competitors.study`.

Who is studied (:class:`ShopSet`, :func:`resolve_shops`), over which days
(:func:`study_window`), and which traffic rows stand for a shop (:func:`shop_rows`: shop-level
rows, item rows summed only for shops with nothing else; :func:`unknown_channels`). The
workbench choices are stated in :mod:`research.analyses.competitors.study`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from research.store.schema import CHANNEL_ALIASES
from research.weeks import week_start

__all__ = ["ShopSet", "resolve_shops", "study_window", "shop_rows", "unknown_channels"]

_SPLIT = r"[,，/、;；|]"


@dataclass
class ShopSet:
    """Our shop and the competitors studied, with how they were chosen and what is missing.

    Attributes
    ----------
    ours : str
        Our shop ("" when unknown).
    competitors : list of str
    rule : str
        How the competitors were chosen (named / top-N by visitors / top-N by revenue).
    no_traffic : list of str
        Competitors with no rows in ``traffic`` (structure and moves cannot be shown).
    not_in_items : list of str
        Competitors with no listings in ``items`` (no attribute comparison).
    """

    ours: str
    competitors: list[str]
    rule: str
    no_traffic: list[str] = field(default_factory=list)
    not_in_items: list[str] = field(default_factory=list)

    @property
    def shops(self) -> list[str]:
        """Ours first (when known), then the competitors."""
        return ([self.ours] if self.ours else []) + [c for c in self.competitors if c != self.ours]

    def role(self, shop: str) -> str:
        """``ours`` or ``competitor``."""
        return "ours" if shop == self.ours else "competitor"



def resolve_shops(traffic: pd.DataFrame, items: pd.DataFrame, ours: str = "",
                  competitors: Sequence[str] = (), top_n: int = 5,
                  sales: pd.DataFrame | None = None) -> ShopSet:
    """Decide our shop and the competitor set.

    Parameters
    ----------
    traffic, items : DataFrame
        Canonical rows (``items`` of the studied category).
    ours : str
        Our shop; empty → the most frequent ``sales.shop``.
    competitors : sequence of str
        Named competitors; empty → the ``top_n`` shops other than ours by Σ daily UV in
        ``traffic``, or by revenue in the latest ``items`` snapshot when ``traffic`` has none.
    top_n : int
    sales : DataFrame, optional
        Our sales rows, to find our shop's name.

    Examples
    --------
    >>> t = pd.DataFrame({"shop": ["我们", "A", "B"], "visitors": [5, 9, 7]})
    >>> s = resolve_shops(t, pd.DataFrame(columns=["shop"]), ours="我们", top_n=1)
    >>> s.competitors, s.rule
    (['A'], 'top 1 shops by visitors in traffic')
    """
    if isinstance(competitors, str):  # "A,B" or '["A", "B"]' from a command line
        text = competitors.strip()
        if text.startswith("["):
            import json

            competitors = [str(c) for c in json.loads(text)]
        else:
            competitors = [c.strip() for c in re.split(_SPLIT, text) if c.strip()]
    if not ours and sales is not None and "shop" in sales and sales["shop"].notna().any():
        ours = str(sales["shop"].dropna().mode().iloc[0])
    t_shops = set(traffic["shop"].dropna().astype(str)) if len(traffic) else set()
    i_shops = set(items["shop"].dropna().astype(str)) if len(items) else set()
    if competitors:
        comps, rule = [str(c) for c in competitors], "named"
    elif t_shops - {ours}:
        uv = traffic[traffic["shop"] != ours].groupby("shop")["visitors"].sum()
        comps = uv.sort_values(ascending=False).head(top_n).index.astype(str).tolist()
        rule = f"top {top_n} shops by visitors in traffic"
    elif len(items):
        latest = items[items["snapshot_date"] == items["snapshot_date"].max()]
        rev = _revenue(latest)[latest["shop"] != ours].groupby(latest["shop"]).sum()
        comps = rev.sort_values(ascending=False).head(top_n).index.astype(str).tolist()
        rule = f"top {top_n} shops by revenue in the latest items snapshot"
    else:
        comps, rule = [], "no competitors: traffic and items are empty"
    return ShopSet(ours, comps, rule, [c for c in comps if c not in t_shops],
                   [c for c in comps if c not in i_shops])



def study_window(week_end: pd.Timestamp, start: str = "") -> tuple[pd.Timestamp, pd.Timestamp]:
    """(start, end) of the study: ``start`` or 52 weeks before, to the week's Sunday."""
    end = pd.Timestamp(week_end).normalize()
    lo = pd.Timestamp(start) if start else end - pd.Timedelta(days=364)
    return lo, end



def _revenue(items: pd.DataFrame) -> pd.Series:
    rev = items["price"] * items["sales_30d"]
    if "revenue_30d" in items:
        rev = items["revenue_30d"].where(items["revenue_30d"].notna(), rev)
    return rev.astype(float)



def shop_rows(traffic: pd.DataFrame) -> pd.DataFrame:
    """Shop-level traffic rows; item-level rows summed for shops that have nothing else.

    Adds a ``source`` column (``shop rows`` / ``item rows summed``).
    """
    t = traffic
    item = t["item_id"].fillna("").astype(str) != "" if "item_id" in t else pd.Series(False, t.index)
    has_shop = t.loc[~item, "shop"].unique()
    shop_level = t[~item].assign(source="shop rows")
    only_items = t[item & ~t["shop"].isin(has_shop)]
    if only_items.empty:
        return shop_level
    num = [c for c in ("visitors", "buyers", "payment_amount") if c in t]
    summed = (only_items.groupby(["date", "shop", "channel"], as_index=False)[num]
              .sum(min_count=1).assign(source="item rows summed"))
    return pd.concat([shop_level, summed], ignore_index=True)



def unknown_channels(traffic: pd.DataFrame) -> pd.DataFrame:
    """Exported channel names the contract does not know (stored as ``other``).

    Returns
    -------
    DataFrame
        shop, channel_raw, days, uv_sum_daily — one row per unknown name and shop.
    """
    cols = ["shop", "channel_raw", "days", "uv_sum_daily"]
    if "channel_raw" not in traffic or traffic.empty:
        return pd.DataFrame(columns=cols)
    raw = traffic["channel_raw"].fillna("").astype(str)
    unknown = (traffic["channel"] == "other") & (raw != "") \
        & ~raw.map(lambda r: CHANNEL_ALIASES.get(r) == "other" or r in CHANNEL_ALIASES)
    t = traffic[unknown]
    if t.empty:
        return pd.DataFrame(columns=cols)
    return (t.groupby(["shop", "channel_raw"], as_index=False)
            .agg(days=("date", "nunique"), uv_sum_daily=("visitors", "sum")))



def _weeks(dates: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(Monday, ISO week label) of each date — computed once per distinct day."""
    dates = pd.Series(pd.to_datetime(dates))
    days = pd.Series(dates.unique())
    start = week_start(days)
    iso = start.dt.isocalendar()
    label = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    pos = pd.Index(days).get_indexer(dates)
    return (pd.Series(start.to_numpy()[pos], index=dates.index),
            pd.Series(label.to_numpy()[pos], index=dates.index))



def _window(traffic: pd.DataFrame, shops: ShopSet | None, start: pd.Timestamp | None,
            end: pd.Timestamp | None) -> pd.DataFrame:
    t = traffic
    if shops is not None:
        t = t[t["shop"].isin(shops.shops)]
    if start is not None:
        t = t[t["date"] >= start]
    if end is not None:
        t = t[t["date"] <= end]
    return t
