"""Which ``traffic`` rows stand for a shop.

A traffic export holds shop-level rows (``item_id`` empty) and, for some shops, item-level
rows; a shop row already counts its items' visitors, so the two are never added. Every
reader of shop traffic (the competitor page, the forecast page) goes through
:func:`shop_rows`.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["shop_rows"]


def shop_rows(traffic: pd.DataFrame) -> pd.DataFrame:
    """Shop-level traffic rows; item-level rows summed for shops that have nothing else.

    Item rows are summed by the key columns present (``date``, ``shop``, ``channel``). Adds a
    ``source`` column (``shop rows`` / ``item rows summed``).

    Examples
    --------
    >>> t = pd.DataFrame({"date": ["2026-11-02"] * 4, "shop": ["A", "A", "B", "B"],
    ...                   "channel": "organic_search", "item_id": ["", "1", "2", "3"],
    ...                   "visitors": [10, 4, 3, 5]})
    >>> shop_rows(t)[["shop", "visitors", "source"]].values.tolist()
    [['A', 10, 'shop rows'], ['B', 8, 'item rows summed']]
    """
    t = traffic
    item = t["item_id"].fillna("").astype(str) != "" if "item_id" in t else pd.Series(False, t.index)
    has_shop = t.loc[~item, "shop"].unique()
    shop_level = t[~item].assign(source="shop rows")
    only_items = t[item & ~t["shop"].isin(has_shop)]
    if only_items.empty:
        return shop_level
    keys = [c for c in ("date", "shop", "channel") if c in t]
    num = [c for c in ("visitors", "buyers", "payment_amount") if c in t]
    summed = (only_items.groupby(keys, as_index=False)[num]
              .sum(min_count=1).assign(source="item rows summed"))
    return pd.concat([shop_level, summed], ignore_index=True)
