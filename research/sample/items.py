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

from research.sample.common import END, category_season, demand_multiplier
from research.sample.profiles import Profile, band_edges_for

__all__ = ["SNAPSHOTS", "EVENT_SHOP_MARGIN", "shop_names", "item_ids", "build_items"]

SNAPSHOTS = pd.date_range(end=END, periods=8, freq="7D")
_SUF_TMALL = ["旗舰店", "专营店", "专卖店"]
_SUF_C = ["的小店", "家居店", "生活馆", "企业店", "工作室", "优品店"]
#: extra leaf price multipliers of the 保温杯 market
_LEAF_PRICE = {"保温壶": 1.5, "焖烧杯": 1.2, "儿童保温杯": 0.85}


def _tricks(p: Profile) -> list[tuple[float, str, int]]:
    """Trick-price listings: (price, title, 月销量)."""
    cat = p.category
    if cat == "保温杯":
        return [(0.01, "拍下改价 保温杯专拍链接 联系客服", 420), (0.01, "定金链接 保温杯定制刻字",
                260), (1.0, "补差价专用 保温杯邮费补拍", 180), (1.0, "保温杯 1元秒杀 拍下改价", 95),
                (9999.0, "纯钛保温杯 收藏级 典藏礼盒 镇店之宝", 1)]
    # ≥ 60 × the median: far outside any fence on ln(price) a wide market's own listings
    # reach (at 20 × a market with spread 0.53 or more held it inside Q3 + 3·IQR)
    top = max(9999.0, float(np.ceil(p.price_median * 60 / 1000) * 1000 - 1))
    return [(0.01, f"拍下改价 {cat}专拍链接 联系客服", 420), (0.01, f"定金链接 {cat}定制",
            260), (1.0, f"补差价专用 {cat}邮费补拍", 180), (1.0, f"{cat} 1元秒杀 拍下改价", 95),
            (top, f"{cat} 收藏级 典藏礼盒 镇店之宝", 1)]


def shop_names(rng: np.random.Generator, n: int, profile: Profile
               ) -> tuple[list[str], np.ndarray]:
    """``n`` generated shop names (unique, never one of the fixed shops) and is-Tmall flags."""
    fixed = {profile.our_shop, *profile.competitors,
             *(b + "官方旗舰店" for b in profile.brand_shops)}
    sufs = _SUF_TMALL + (["的小店", "家居店", "杯具店", "生活馆", "企业店", "工作室"]
                         if profile.category == "保温杯" else _SUF_C)
    pre, mid = profile.shop_words
    combos = [p + m + s for p in pre for m in mid for s in sufs]
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


def _round_price(rng: np.random.Generator, raw: np.ndarray, step: int = 10) -> np.ndarray:
    """Prices as listed: mostly ending in 9 (69, 129; 1,299 at ``step`` 100), some in .9
    (68.9), some plain."""
    whole = np.floor(raw)
    nine = np.where(whole >= 20, whole - whole % step + step - 1, whole)
    nine = np.where(nine > raw + step / 2, nine - step, nine)
    style = rng.random(len(raw))
    return np.where(style < 0.6, nine, np.where(style < 0.85, whole + 0.9, whole))


def build_items(rng: np.random.Generator, ours: pd.DataFrame, our_sales: pd.DataFrame,
                ids: np.ndarray, category: str, profile: Profile) -> tuple[pd.DataFrame, dict]:
    """Listings on every snapshot (numbers, not yet formatted) and the items truth.

    ``ours`` are our listings (from :func:`research.sample.shop.build_our_items`);
    ``our_sales`` their daily sales, whose 30-day sums become our listings' 月销量. Prices are
    log-normal around the profile's median; listings that would fall in the underserved band
    are thinned to ``band_kept_share`` and those left sell ``band_boost`` × more.
    """
    p = profile
    competitors = list(p.competitors)
    brand_shops = list(p.brand_shops)
    # ---------------------------------------------------------------- shops and their sizes
    gen_names, gen_tmall = shop_names(rng, p.n_shops, p)
    comp_sizes = [55, 30, 35, 25, 18, 22]
    brand_sizes = rng.integers(40, 90, len(brand_shops))
    gen_sizes = np.clip(np.round(4 + rng.pareto(1.6, len(gen_names)) * 16), 4, 120).astype(int)
    shops = ([b + "官方旗舰店" for b in brand_shops] + competitors + gen_names)
    sizes = np.r_[brand_sizes, comp_sizes, gen_sizes].astype(int)
    tmall = np.r_[np.ones(len(brand_shops), bool), [True, True, True, True, False, True],
                  gen_tmall]
    effect = np.r_[np.full(len(brand_shops), 2.5), [1.6, 1.2, 1.3, 1.0, 0.9, 1.0],
                   np.exp(rng.normal(0, 0.5, len(gen_names))) * np.where(gen_tmall, 1.4, 1.0)]
    shop_of = np.repeat(np.arange(len(shops)), sizes)
    n = len(shop_of)
    item_shop = np.asarray(shops, dtype=object)[shop_of]

    # ---------------------------------------------------------------- attributes and prices
    attrs = p.attributes

    def spec(values: dict[str, float]) -> tuple[list[str], list[float]]:
        return list(values), list(values.values())

    leaf = _choice(rng, spec(p.leaves), n)
    material = _choice(rng, spec(attrs["material"]), n)
    function = _choice(rng, spec(attrs["function"]), n)
    if p.category == "保温杯":
        function[(leaf == "焖烧杯") & (rng.random(n) < 0.6)] = "焖烧"
        function[(leaf == "儿童保温杯") & (rng.random(n) < 0.5)] = "带吸管"
    style = _choice(rng, spec(attrs["style"]), n)
    colors = list(attrs.get("color", {"-": 1.0}))
    color = np.asarray(colors, dtype=object)[rng.integers(len(colors), size=n)]
    size = np.empty(n, dtype=object)
    by_leaf = dict(p.extra.get("sizes_by_leaf", {}))
    for name in p.leaves:
        at = leaf == name
        size[at] = _choice(rng, spec(by_leaf.get(name, attrs["size"])), at.sum())
    # competitors rarely hold the advantages: one listing of the first advantage among them
    comp = np.isin(item_shop, competitors)
    columns = {"material": material, "function": function, "size": size, "style": style}
    for attr, value in p.advantages:
        arr = columns[attr]
        common = max(attrs[attr], key=lambda v: attrs[attr][v])
        arr[comp & (arr == value)] = common if attr != "size" or p.category != "保温杯" \
            else "750ml"
    first_attr, first_value = p.advantages[0]
    columns[first_attr][np.flatnonzero(item_shop == competitors[3])[0]] = first_value
    leaf_mult = np.array([_LEAF_PRICE.get(x, 1.0) for x in leaf]) \
        if p.category == "保温杯" else np.ones(n)
    m = p.price_median
    raw = np.exp(rng.normal(np.log(m), p.price_spread, n)) * leaf_mult \
        * np.where(columns[first_attr] == first_value, 1.3, 1)
    price = _round_price(rng, np.clip(raw, max(m * 0.22, 2.0), m * 9.7),
                         100 if m >= 500 else 10)
    lo, hi = p.underserved
    inside = (price > lo) & (price <= hi)
    move = inside & (rng.random(n) > p.band_kept_share)   # thin the band
    pool = price[~inside]
    price[move] = pool[rng.integers(len(pool), size=move.sum())]

    # ---------------------------------------------------------------- 30-day sales
    base = np.exp(rng.normal(2.3, 1.2, n)) * effect[shop_of] * (price / (m * 1.1)) ** -0.5
    base *= np.where((price > lo) & (price <= hi), p.band_boost, 1.0)
    for attr, value in p.advantages:
        base *= np.where(columns[attr] == value, 2.2, 1.0)
    base[rng.random(n) < 0.1] = 0.0  # listings that sell nothing are supply too
    k = len(SNAPSHOTS)
    idx = pd.date_range(SNAPSHOTS[0] - pd.Timedelta(days=29), SNAPSHOTS[-1])
    daily = category_season(p, idx, 0.45) * demand_multiplier(idx, p.promo_response) ** 1.7
    window = np.array([daily[(idx > s - pd.Timedelta(days=30)) & (idx <= s)].mean()
                       for s in SNAPSHOTS])
    walk = np.exp(np.cumsum(rng.normal(0, 0.07, (n, k)), axis=1))
    units = base[:, None] * window[None, :] / window[0] * walk
    leader = item_shop == competitors[0]
    units[leader] *= np.linspace(1.0, 3.0, k)[None, :]
    # the leader starts at ~3.5 % of units so it is a top-10 shop on the first snapshot
    first = units[:, 0]
    target = 0.035
    units[leader] *= target * first[~leader].sum() / ((1 - target) * first[leader].sum())
    _keep_event_shops_studied(units, price, item_shop, competitors)
    sales = np.round(units).astype(np.int64)

    # ---------------------------------------------------------------- appear / disappear
    enter = np.where(rng.random(n) < 0.1, rng.integers(1, k, n), 0)
    leave = np.where(rng.random(n) < 0.08, rng.integers(0, k - 1, n), k - 1)
    leave = np.maximum(leave, enter)
    steady = comp  # competitors' listings stay
    enter[steady], leave[steady] = 0, k - 1
    present = (np.arange(k)[None, :] >= enter[:, None]) & (np.arange(k)[None, :] <= leave[:, None])

    # ---------------------------------------------------------------- titles
    head = leaf.copy()
    brand_word = np.where(shop_of < len(brand_shops),
                          np.asarray(brand_shops + [""] * (len(shops) - len(brand_shops)),
                                     dtype=object)[shop_of], "")
    words = list(p.title_words)
    w1 = np.asarray(words, dtype=object)[rng.integers(len(words), size=n)]
    w2 = np.asarray(words, dtype=object)[rng.integers(len(words), size=n)]
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
    trick_list = _tricks(p)
    trick_shops = np.asarray(gen_names, dtype=object)[rng.choice(len(gen_names), len(trick_list),
                                                                 replace=False)]

    def usual(attr: str) -> str:
        return max(attrs[attr], key=lambda v: attrs[attr][v]) if attr in attrs else "-"

    tricks = pd.DataFrame({
        "item_id": ids[len(ours) + n: len(ours) + n + len(trick_list)], "shop": trick_shops,
        "title": [t[1] for t in trick_list], "leaf_category": next(iter(p.leaves)),
        "price": [t[0] for t in trick_list], "is_tmall": False, "material": usual("material"),
        "color": colors[-1], "size": usual("size"), "function": usual("function"),
        "style": usual("style")})
    trick_units = np.array([[t[2]] * k for t in trick_list], dtype=np.int64)
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
        "prices": {"band_edges": band_edges_for(p), "underserved_band": [lo, hi],
                   "unit_cost_ok": _cost(lo * 0.45), "unit_cost_unprofitable": _cost(hi * 1.1),
                   "trick_price_items": len(trick_list),
                   "trick_item_ids": tricks["item_id"].tolist(),
                   "band_boost": round(p.band_boost, 3),
                   "band_kept_share": round(p.band_kept_share, 3),
                   "price_median": round(m, 2), "price_spread": round(p.price_spread, 3)},
        "advantages": [{"attribute": a, "value": v} for a, v in p.advantages],
        "items": {"snapshots": [s.date().isoformat() for s in SNAPSHOTS],
                  "distinct_items": int(everything["item_id"].nunique()),
                  "shops": int(everything["shop"].nunique()),
                  "our_items": ours["item_id"].tolist()},
    }
    return frame, truth


#: an event shop's 30-day revenue on every snapshot is at least this × the smallest of the
#: other monitored competitors' (the 0.9–1.0 discount cannot undo it)
EVENT_SHOP_MARGIN = 1.25


def _keep_event_shops_studied(units: np.ndarray, price: np.ndarray, item_shop: np.ndarray,
                              competitors: list[str]) -> None:
    """Scale up (in place) the units of the competitors that carry the traffic events
    (``competitors[1]`` affiliate, ``competitors[2]`` paid-search shift) where, on some
    snapshot, their 30-day revenue would be under :data:`EVENT_SHOP_MARGIN` × the smallest
    of the other monitored competitors'. The study takes the top 5 of the 6 monitored shops
    by revenue on the latest snapshot, so the event shops are always studied; a market that
    already ranks them so (保温杯) is left as it is."""
    rev = {c: (price[item_shop == c, None] * units[item_shop == c]).sum(axis=0)
           for c in competitors}
    others = np.min([rev[c] for c in competitors if c not in competitors[1:3]], axis=0)
    for shop in competitors[1:3]:
        factor = float(np.max(EVENT_SHOP_MARGIN * others / np.maximum(rev[shop], 1e-9)))
        if factor > 1.0:
            units[item_shop == shop] *= factor


def _cost(value: float) -> float:
    """A unit cost rounded as a buyer would quote it (two significant digits)."""
    digits = max(0, 1 - int(np.floor(np.log10(max(value, 0.01)))))
    return float(round(value, digits))
