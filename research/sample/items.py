"""Market listings of the sample market (市场商品): ~6,000 items of ~245 shops on eight weekly
snapshots, for :mod:`research.sample.market`.

Planted: an underserved price band (few listings, several times the sales per listing of its
neighbours), attribute advantages (values that sell above their listing share, held by our
shop and by few competitors), a leader whose share rises over the snapshots, trick-price
listings, and listings appearing and disappearing between snapshots.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.sample.common import END, demand_multiplier, season
from research.sample.shop import COMPETITORS, OUR_SHOP

__all__ = ["SNAPSHOTS", "BAND_EDGES", "UNDERSERVED", "ADVANTAGES", "shop_names", "item_ids",
           "build_items"]

SNAPSHOTS = pd.date_range(end=END, periods=8, freq="7D")
BAND_EDGES = [0, 29, 39, 49, 59, 79, 99, 129, 159, 199, 299, 499, 1e9]
UNDERSERVED = (79, 99)
ADVANTAGES = [("material", "钛"), ("function", "智能测温"), ("size", "1000ml")]
BRAND_SHOPS = ["象印", "膳魔师", "虎牌", "富光", "哈尔斯", "乐扣乐扣", "希乐", "苏泊尔", "特百惠",
               "物生物", "杯具熊", "希诺"]
_PRE = list("暖悦禾木初拾简朴米橙绿清北南安乐优佳美巧创青半山")
_MID = ["居", "品", "杯", "物", "生活", "家居", "日用", "优选", "好物", "百货"]
_SUF_TMALL = ["旗舰店", "专营店", "专卖店"]
_SUF_C = ["的小店", "家居店", "杯具店", "生活馆", "企业店", "工作室"]
LEAVES = (["保温杯", "儿童保温杯", "焖烧杯", "保温壶"], [0.58, 0.15, 0.1, 0.17])
MATERIALS = (["304不锈钢", "316不锈钢", "陶瓷内胆", "钛", "玻璃内胆"], [0.46, 0.37, 0.08, 0.04, 0.05])
FUNCTIONS = (["长效保温", "带吸管", "茶水分离", "智能测温", "弹盖", "带提手"],
             [0.5, 0.12, 0.1, 0.05, 0.13, 0.1])
STYLES = (["简约", "商务", "可爱", "ins风", "复古", "国潮", "卡通"],
          [0.35, 0.15, 0.15, 0.12, 0.08, 0.08, 0.07])
COLORS = ["白色", "黑色", "粉色", "蓝色", "绿色", "灰色", "紫色", "奶白色", "多色可选"]
SIZES = {"保温杯": (["350ml", "400ml", "500ml", "600ml", "750ml", "1000ml"],
                  [0.15, 0.15, 0.35, 0.15, 0.12, 0.08]),
         "儿童保温杯": (["350ml", "400ml", "500ml", "600ml"], [0.3, 0.3, 0.3, 0.1]),
         "焖烧杯": (["500ml", "750ml", "1000ml"], [0.45, 0.4, 0.15]),
         "保温壶": (["1000ml", "1500ml", "2000ml"], [0.06, 0.5, 0.44])}
_TITLE_WORDS = ["高颜值", "便携", "大容量", "男女士", "办公室", "学生", "车载", "户外", "送礼",
                "新款", "网红", "家用", "随行"]
_TRICKS = [(0.01, "拍下改价 保温杯专拍链接 联系客服", 420), (0.01, "定金链接 保温杯定制刻字",
           260), (1.0, "补差价专用 保温杯邮费补拍", 180), (1.0, "保温杯 1元秒杀 拍下改价", 95),
           (9999.0, "纯钛保温杯 收藏级 典藏礼盒 镇店之宝", 1)]


def shop_names(rng: np.random.Generator, n: int) -> tuple[list[str], np.ndarray]:
    """``n`` generated shop names (unique, never one of the fixed shops) and is-Tmall flags."""
    fixed = {OUR_SHOP, *COMPETITORS, *(b + "官方旗舰店" for b in BRAND_SHOPS)}
    sufs = _SUF_TMALL + _SUF_C
    combos = [p + m + s for p in _PRE for m in _MID for s in sufs]
    order = rng.permutation(len(combos))
    names = [combos[i] for i in order if combos[i] not in fixed][:n]
    tmall = np.array([any(x.endswith(s) for s in _SUF_TMALL) for x in names])
    return names, tmall


def item_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` distinct 12-digit item IDs as text (they start 5–7, as Taobao's do)."""
    out = np.unique(rng.integers(500_000_000_000, 800_000_000_000, int(n * 1.05) + 10))
    out = rng.permutation(out)[:n]
    return out.astype(str)


def _choice(rng: np.random.Generator, spec: tuple[list[str], list[float]], n: int) -> np.ndarray:
    values, weights = spec
    p = np.asarray(weights, dtype=float)
    return np.asarray(values, dtype=object)[rng.choice(len(values), n, p=p / p.sum())]


def _round_price(rng: np.random.Generator, raw: np.ndarray) -> np.ndarray:
    """Prices as listed: mostly ending in 9 (69, 129), some in .9 (68.9), some plain."""
    whole = np.floor(raw)
    nine = np.where(whole >= 20, whole - whole % 10 + 9, whole)
    nine = np.where(nine > raw + 5, nine - 10, nine)
    style = rng.random(len(raw))
    return np.where(style < 0.6, nine, np.where(style < 0.85, whole + 0.9, whole))


def build_items(rng: np.random.Generator, ours: pd.DataFrame, our_sales: pd.DataFrame,
                ids: np.ndarray, category: str) -> tuple[pd.DataFrame, dict]:
    """Listings on every snapshot (numbers, not yet formatted) and the items truth.

    ``ours`` are our listings (from :func:`research.sample.shop.build_our_items`);
    ``our_sales`` their daily sales, whose 30-day sums become our listings' 月销量.
    """
    # ---------------------------------------------------------------- shops and their sizes
    gen_names, gen_tmall = shop_names(rng, 226)
    comp_sizes = [55, 30, 35, 25, 18, 22]
    brand_sizes = rng.integers(40, 90, len(BRAND_SHOPS))
    gen_sizes = np.clip(np.round(4 + rng.pareto(1.6, len(gen_names)) * 16), 4, 120).astype(int)
    shops = ([b + "官方旗舰店" for b in BRAND_SHOPS] + COMPETITORS + gen_names)
    sizes = np.r_[brand_sizes, comp_sizes, gen_sizes].astype(int)
    tmall = np.r_[np.ones(len(BRAND_SHOPS), bool), [True, True, True, True, False, True],
                  gen_tmall]
    effect = np.r_[np.full(len(BRAND_SHOPS), 2.5), [1.6, 1.2, 1.3, 1.0, 0.9, 1.0],
                   np.exp(rng.normal(0, 0.5, len(gen_names))) * np.where(gen_tmall, 1.4, 1.0)]
    shop_of = np.repeat(np.arange(len(shops)), sizes)
    n = len(shop_of)
    item_shop = np.asarray(shops, dtype=object)[shop_of]

    # ---------------------------------------------------------------- attributes and prices
    leaf = _choice(rng, LEAVES, n)
    material = _choice(rng, MATERIALS, n)
    function = _choice(rng, FUNCTIONS, n)
    function[(leaf == "焖烧杯") & (rng.random(n) < 0.6)] = "焖烧"
    function[(leaf == "儿童保温杯") & (rng.random(n) < 0.5)] = "带吸管"
    style = _choice(rng, STYLES, n)
    color = np.asarray(COLORS, dtype=object)[rng.integers(len(COLORS), size=n)]
    size = np.empty(n, dtype=object)
    for name, spec in SIZES.items():
        at = leaf == name
        size[at] = _choice(rng, spec, at.sum())
    # competitors rarely hold the advantages: one titanium listing among them, no more
    comp = np.isin(item_shop, COMPETITORS)
    material[comp & (material == "钛")] = "316不锈钢"
    function[comp & (function == "智能测温")] = "长效保温"
    size[comp & (size == "1000ml")] = "750ml"
    material[np.flatnonzero(item_shop == COMPETITORS[3])[0]] = "钛"
    leaf_mult = np.select([leaf == "保温壶", leaf == "焖烧杯", leaf == "儿童保温杯"],
                          [1.5, 1.2, 0.85], 1.0)
    raw = np.exp(rng.normal(np.log(72), 0.55, n)) * leaf_mult * np.where(material == "钛", 1.3, 1)
    price = _round_price(rng, np.clip(raw, 16, 700))
    lo, hi = UNDERSERVED
    inside = (price > lo) & (price <= hi)
    move = inside & (rng.random(n) > 0.3)   # thin the band: keep ~30 % of its listings
    pool = price[~inside]
    price[move] = pool[rng.integers(len(pool), size=move.sum())]

    # ---------------------------------------------------------------- 30-day sales
    base = np.exp(rng.normal(2.3, 1.2, n)) * effect[shop_of] * (price / 79.0) ** -0.5
    base *= np.where((price > lo) & (price <= hi), 3.5, 1.0)
    for attr, value in ADVANTAGES:
        arr = {"material": material, "function": function, "size": size}[attr]
        base *= np.where(arr == value, 2.2, 1.0)
    base[rng.random(n) < 0.1] = 0.0  # listings that sell nothing are supply too
    k = len(SNAPSHOTS)
    idx = pd.date_range(SNAPSHOTS[0] - pd.Timedelta(days=29), SNAPSHOTS[-1])
    daily = season(idx, 0.45) * demand_multiplier(idx) ** 1.7
    window = np.array([daily[(idx > s - pd.Timedelta(days=30)) & (idx <= s)].mean()
                       for s in SNAPSHOTS])
    walk = np.exp(np.cumsum(rng.normal(0, 0.07, (n, k)), axis=1))
    units = base[:, None] * window[None, :] / window[0] * walk
    leader = item_shop == COMPETITORS[0]
    units[leader] *= np.linspace(1.0, 3.0, k)[None, :]
    # the leader starts at ~3.5 % of units so it is a top-10 shop on the first snapshot
    first = units[:, 0]
    target = 0.035
    units[leader] *= target * first[~leader].sum() / ((1 - target) * first[leader].sum())
    sales = np.round(units).astype(np.int64)

    # ---------------------------------------------------------------- appear / disappear
    enter = np.where(rng.random(n) < 0.1, rng.integers(1, k, n), 0)
    leave = np.where(rng.random(n) < 0.08, rng.integers(0, k - 1, n), k - 1)
    leave = np.maximum(leave, enter)
    steady = comp  # competitors' listings stay
    enter[steady], leave[steady] = 0, k - 1
    present = (np.arange(k)[None, :] >= enter[:, None]) & (np.arange(k)[None, :] <= leave[:, None])

    # ---------------------------------------------------------------- titles
    head = np.select([leaf == "儿童保温杯", leaf == "焖烧杯", leaf == "保温壶"],
                     ["儿童保温杯", "焖烧杯", "保温壶"], "保温杯")
    brand_word = np.where(shop_of < len(BRAND_SHOPS),
                          np.asarray(BRAND_SHOPS + [""] * (len(shops) - len(BRAND_SHOPS)),
                                     dtype=object)[shop_of], "")
    w1 = np.asarray(_TITLE_WORDS, dtype=object)[rng.integers(len(_TITLE_WORDS), size=n)]
    w2 = np.asarray(_TITLE_WORDS, dtype=object)[rng.integers(len(_TITLE_WORDS), size=n)]
    title = (pd.Series(brand_word) + pd.Series(material) + pd.Series(head) + " " + pd.Series(w1)
             + pd.Series(style) + " " + pd.Series(size) + " " + pd.Series(function)
             + pd.Series(np.where(w2 == w1, "", w2))).str.strip()

    universe = pd.DataFrame({
        "item_id": ids[len(ours): len(ours) + n], "shop": item_shop, "title": title,
        "leaf_category": leaf, "price": price, "is_tmall": tmall[shop_of],
        "material": material, "color": color, "size": size, "function": function,
        "style": style})
    # ---------------------------------------------------------------- our shop and tricks
    our_daily = our_sales.pivot_table(index="date", columns="item_id", values="units",
                                      aggfunc="sum").reindex(pd.date_range(
                                          SNAPSHOTS[0] - pd.Timedelta(days=29), SNAPSHOTS[-1]))
    our_units = np.stack([our_daily.loc[s - pd.Timedelta(days=29): s].sum().to_numpy()
                          for s in SNAPSHOTS], axis=1)
    our = ours[["item_id", "shop", "title", "leaf_category", "price", "material", "color",
                "size", "function", "style"]].assign(is_tmall=True)
    our_units = our_units[[list(our_daily.columns).index(i) for i in ours["item_id"]]]
    trick_shops = np.asarray(gen_names, dtype=object)[rng.choice(len(gen_names), len(_TRICKS),
                                                                 replace=False)]
    tricks = pd.DataFrame({
        "item_id": ids[len(ours) + n: len(ours) + n + len(_TRICKS)], "shop": trick_shops,
        "title": [t[1] for t in _TRICKS], "leaf_category": "保温杯",
        "price": [t[0] for t in _TRICKS], "is_tmall": False, "material": "304不锈钢",
        "color": "多色可选", "size": "500ml", "function": "长效保温", "style": "简约"})
    trick_units = np.array([[t[2]] * k for t in _TRICKS], dtype=np.int64)
    everything = pd.concat([our, universe, tricks], ignore_index=True)
    all_units = np.vstack([our_units.astype(np.int64), sales, trick_units])
    all_present = np.vstack([np.ones((len(our), k), bool), present,
                             np.ones((len(tricks), k), bool)])
    frames = []
    for j, snap in enumerate(SNAPSHOTS):
        part = everything[all_present[:, j]].copy()
        part.insert(0, "snapshot_date", snap)
        part["category"] = category
        part["sales_30d"] = all_units[all_present[:, j], j]
        disc = rng.uniform(0.9, 1.0, len(part))
        part["revenue_30d"] = np.round(part["price"] * part["sales_30d"] * disc, 2)
        frames.append(part.sort_values("sales_30d", ascending=False, kind="stable",
                                       ignore_index=True))
    frame = pd.concat(frames, ignore_index=True)
    truth = {
        "prices": {"band_edges": BAND_EDGES, "underserved_band": list(UNDERSERVED),
                   "unit_cost_ok": 39.0, "unit_cost_unprofitable": 120.0,
                   "trick_price_items": len(_TRICKS),
                   "trick_item_ids": tricks["item_id"].tolist(),
                   "band_boost": 3.5, "band_kept_share": 0.3},
        "advantages": [{"attribute": a, "value": v} for a, v in ADVANTAGES],
        "items": {"snapshots": [s.date().isoformat() for s in SNAPSHOTS],
                  "distinct_items": int(everything["item_id"].nunique()),
                  "shops": int(everything["shop"].nunique()),
                  "our_items": ours["item_id"].tolist()},
    }
    return frame, truth
