"""Our shop's second category in the sample market (儿童水杯, children's water cups), for
:mod:`research.sample.market`.

Our shop (暖杯记旗舰店) also sells four listings in another category. They appear on their
own item snapshots (``items_kids_<snapshot>.csv``, 类目 儿童水杯, only our listings) and
their daily rows sit in the same ``sales_<year>.xlsx`` exports as our 保温杯 listings — the
sales export, like the platform's, names no category. A study of 保温杯 that took every
sales row of our shop would count them: about ``REVENUE_SHARE`` of our 保温杯 revenue, on
a different season (summer and the school start), without the planted W46–W47 shortfall.

Everything here draws from its own generator (the ninth child of the sample's seed
sequence), so the draws of the 保温杯 tables are exactly those of a sample without it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.sample.items import SNAPSHOTS
from research.sample.shop import item_sales, listings_frame

__all__ = ["SECOND_CATEGORY", "build_second_items", "build_second_sales",
           "second_snapshots", "second_truth"]

SECOND_CATEGORY = "儿童水杯"
#: yearly season of the category: a peak at the start of September (school), low in winter
_AMPLITUDE, _PEAK_DOY, _GROWTH = 0.3, 245.0, 0.1

# our listings in the second category, in the layout of research.sample.shop._OURS
_LISTINGS = [
    ("暖杯记 儿童水杯 Tritan吸管杯 400ml 防漏 幼儿园", "吸管杯", 59.0, "Tritan", "400ml", "带吸管", "可爱", "蓝色", 25, 21.0, None),
    ("暖杯记 儿童水杯 316不锈钢 双饮杯 550ml 上学", "双饮杯", 79.0, "316不锈钢", "550ml", "带吸管", "卡通", "粉色", 18, 30.0, None),
    ("暖杯记 宝宝学饮杯 硅胶 300ml 防呛", "学饮杯", 49.0, "硅胶", "300ml", "防呛", "可爱", "黄色", 16, 17.0, None),
    ("暖杯记 儿童运动水壶 Tritan 750ml 背带 大容量", "运动水壶", 69.0, "Tritan", "750ml", "带背带", "运动", "绿色", 13, 25.0, "2025-03-03"),
]


def build_second_items(rng: np.random.Generator, taken: np.ndarray) -> pd.DataFrame:
    """Our listings of the second category, with 12-digit IDs none of ``taken`` uses."""
    cands = np.unique(rng.integers(500_000_000_000, 800_000_000_000, 64)).astype(str)
    cands = rng.permutation(cands[~np.isin(cands, np.asarray(taken, dtype=str))])
    return listings_frame(_LISTINGS, cands[: len(_LISTINGS)])


def build_second_sales(rng: np.random.Generator, listings: pd.DataFrame) -> pd.DataFrame:
    """Their daily sales rows (the columns of :func:`research.sample.shop.item_sales`): the
    category's own season, the same promotions, no shortfall."""
    return item_sales(rng, listings, _AMPLITUDE, _PEAK_DOY, _GROWTH, shortfall=0.0)


def second_snapshots(rng: np.random.Generator, listings: pd.DataFrame,
                     sales: pd.DataFrame) -> pd.DataFrame:
    """Our listings on every snapshot date of the sample (numbers, not yet formatted):
    月销量 = the 30 days' units up to the snapshot; 交易金额 = price × 月销量 × a discount in
    [0.9, 1]."""
    daily = sales.pivot_table(index="date", columns="item_id", values="units",
                              aggfunc="sum").reindex(columns=listings["item_id"]).fillna(0)
    frames = []
    for snap in SNAPSHOTS:
        units = daily.loc[snap - pd.Timedelta(days=29): snap].sum().to_numpy()
        part = listings[["item_id", "shop", "title", "leaf_category", "price", "material",
                         "color", "size", "function", "style"]].copy()
        part.insert(0, "snapshot_date", snap)
        part["category"] = SECOND_CATEGORY
        part["is_tmall"] = True
        part["sales_30d"] = units.astype(np.int64)
        disc = rng.uniform(0.9, 1.0, len(part))
        part["revenue_30d"] = np.round(part["price"] * part["sales_30d"] * disc, 2)
        frames.append(part.sort_values("sales_30d", ascending=False, kind="stable",
                                       ignore_index=True))
    return pd.concat(frames, ignore_index=True)


def second_truth(listings: pd.DataFrame, sales: pd.DataFrame, first_sales: pd.DataFrame,
                 files: list[str]) -> dict:
    """The ``second_category`` entry of ``truth.json``.

    ``first_sales`` are our 保温杯 sales; ``revenue_share`` = Σ revenue of the second
    category ÷ Σ revenue of 保温杯 over the whole sample, ``revenue_share_by_week`` the same
    per ISO week (min and max).
    """
    def weekly(frame: pd.DataFrame) -> pd.Series:
        iso = frame["date"].dt.isocalendar()
        return frame.groupby([iso["year"], iso["week"]])["revenue"].sum()

    ratio = (weekly(sales) / weekly(first_sales)).dropna()
    return {
        "category": SECOND_CATEGORY, "shop": str(listings["shop"].iloc[0]),
        "our_items": listings["item_id"].tolist(),
        "leaf_categories": sorted(listings["leaf_category"].unique().tolist()),
        "sales_rows": len(sales),
        "revenue": round(float(sales["revenue"].sum()), 2),
        "revenue_share": round(float(sales["revenue"].sum() / first_sales["revenue"].sum()), 4),
        "revenue_share_by_week": [round(float(ratio.min()), 4), round(float(ratio.max()), 4)],
        "shortfall": 0.0, "files": files,
        "note": "sales rows are in the same sales_<year>.xlsx as the 保温杯 ones (the export "
                "has no category column); the item snapshots list only our shop; the traffic "
                "exports are shop-level and unchanged.",
    }
