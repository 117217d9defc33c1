"""The competitive set and its traffic rows, for the competitor page
(:mod:`research.analyses.competitors.page`).

Who is studied (:class:`ShopSet`, built by :func:`shop_set` from the study scope: the page
chooses neither our shop nor the competitors), over which days (:func:`study_window`), and
which exported channel names are unknown (:func:`unknown_channels`); which traffic rows
stand for a shop is :func:`research.store.traffic.shop_rows`. Small helpers the page's other
modules share: :data:`VALUE_SPLIT`, :func:`listing_revenue`, :func:`iso_weeks`,
:func:`in_window`. The workbench choices are stated in :mod:`research.analyses.competitors.page`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from research.store.schema import CHANNEL_ALIASES
from research.weeks import week_start

__all__ = ["ShopSet", "shop_set", "study_window", "unknown_channels",
           "VALUE_SPLIT", "listing_revenue", "iso_weeks", "in_window"]

#: separators of a multi-valued attribute cell (``保温,保冷``)
VALUE_SPLIT = r"[,，/、;；|]"


@dataclass
class ShopSet:
    """Our shop and the competitors studied, with how they were chosen and what is missing.

    Attributes
    ----------
    ours : str
        Our shop ("" when unknown).
    competitors : list of str
    rule : str
        How the competitors were chosen: the study scope's ``competitor_rule``.
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


def shop_set(ours: str, competitors: Sequence[str], rule: str, traffic: pd.DataFrame,
             items: pd.DataFrame) -> ShopSet:
    """The study's shops (from its scope) with what the data lack for each competitor.

    Our shop, the competitors and the rule that chose them are the study scope's
    (:class:`research.store.scope.Scope`); nothing is chosen here. What is added is which
    named competitor has no ``traffic`` rows and which no listings in ``items``, so the page
    can say so.

    Parameters
    ----------
    ours : str
        Our shop ("" when the scope has none).
    competitors : sequence of str
        The scope's competitor set.
    rule : str
        The scope's ``competitor_rule``.
    traffic, items : DataFrame
        Canonical rows of the study window (``items`` of the studied category).

    Returns
    -------
    ShopSet

    Examples
    --------
    >>> t = pd.DataFrame({"shop": ["我们", "A"], "visitors": [5, 9]})
    >>> s = shop_set("我们", ("A", "B"), "named", t, pd.DataFrame({"shop": ["B"]}))
    >>> s.shops, s.no_traffic, s.not_in_items
    (['我们', 'A', 'B'], ['B'], ['A'])
    """
    comps = [str(c) for c in competitors if str(c) and str(c) != ours]
    t_shops = set(traffic["shop"].dropna().astype(str)) if len(traffic) else set()
    i_shops = set(items["shop"].dropna().astype(str)) if len(items) else set()
    return ShopSet(ours, comps, rule, [c for c in comps if c not in t_shops],
                   [c for c in comps if c not in i_shops])


def study_window(week_end: pd.Timestamp, start: str = "") -> tuple[pd.Timestamp, pd.Timestamp]:
    """(start, end) of the study: ``start`` or 52 weeks before, to the week's Sunday."""
    end = pd.Timestamp(week_end).normalize()
    lo = pd.Timestamp(start) if start else end - pd.Timedelta(days=364)
    return lo, end


def listing_revenue(items: pd.DataFrame) -> pd.Series:
    """30-day revenue of each listing: ``revenue_30d`` where given, else price × ``sales_30d``.

    Examples
    --------
    >>> listing_revenue(pd.DataFrame({"price": [10.0, 20.0], "sales_30d": [3, 1],
    ...                               "revenue_30d": [None, 25.0]})).tolist()
    [30.0, 25.0]
    """
    rev = items["price"] * items["sales_30d"]
    if "revenue_30d" in items:
        rev = items["revenue_30d"].where(items["revenue_30d"].notna(), rev)
    return rev.astype(float)


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


def iso_weeks(dates: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(Monday, ISO week label) of each date — computed once per distinct day.

    Examples
    --------
    >>> iso_weeks(pd.Series(pd.to_datetime(["2026-11-22", "2026-11-23"])))[1].tolist()
    ['2026-W47', '2026-W48']
    """
    dates = pd.Series(pd.to_datetime(dates))
    days = pd.Series(dates.unique())
    start = week_start(days)
    iso = start.dt.isocalendar()
    label = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    pos = pd.Index(days).get_indexer(dates)
    return (pd.Series(start.to_numpy()[pos], index=dates.index),
            pd.Series(label.to_numpy()[pos], index=dates.index))


def in_window(traffic: pd.DataFrame, shops: ShopSet | None, start: pd.Timestamp | None,
              end: pd.Timestamp | None) -> pd.DataFrame:
    """Rows of ``shops`` (all when ``None``) dated ``start`` … ``end`` (either open)."""
    t = traffic
    if shops is not None:
        t = t[t["shop"].isin(shops.shops)]
    if start is not None:
        t = t[t["date"] >= start]
    if end is not None:
        t = t[t["date"] <= end]
    return t
