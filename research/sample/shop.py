"""Our shop's daily sales (经营数据) and the shops' daily traffic by channel (流量来源) of the
sample market, for :mod:`research.sample.market`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from research.sample.common import WEEKDAY, category_season, days, demand_multiplier, season
from research.sample.profiles import Profile

__all__ = ["OUR_SHOP", "COMPETITORS", "CHANNELS_EXPORTED", "build_our_items", "our_rows", "build_sales",
           "build_traffic", "item_sales", "listings_frame", "BEHIND_START", "SHORTFALL"]

OUR_SHOP = "暖杯记旗舰店"
#: the competitors we track (traffic exports exist for them); the first is the rising leader
COMPETITORS = ["杯乐多旗舰店", "驼峰户外专营店", "简物生活旗舰店", "悠享家居旗舰店",
               "小熊杯杯的店", "清风保温杯专营店"]
#: channel names as exported → canonical code
CHANNELS_EXPORTED = {"手淘搜索": "organic_search", "直通车": "paid_search", "引力魔方": "display",
                     "淘宝客": "affiliate", "手淘推荐": "feed", "直接访问": "direct",
                     "购物车": "cart_fav", "逛逛": "content", "其他": "other"}
UNKNOWN_CHANNEL = "淘宝特价版"
BEHIND_START = pd.Timestamp("2026-11-09")  # Monday of 2026-W46
SHORTFALL = 0.3
AFFILIATE = {"shop": COMPETITORS[1], "start": pd.Timestamp("2026-07-13"),
             "drop": pd.Timestamp("2026-09-28"), "uplift": 3000}
PAID_SHIFT = {"shop": COMPETITORS[2], "date": pd.Timestamp("2026-08-05"), "moved": 0.5}

# our listings: title, leaf category, price, material, size, function, style, colour,
# mean daily units (off-season), unit cost, first day on sale
_OURS = [
    ("暖杯记 纯钛保温杯 智能测温 1000ml 大容量 商务男士", "保温杯", 89.0, "钛", "1000ml", "智能测温", "商务", "黑色", 26, 38.0, None),
    ("暖杯记 钛保温杯 女士高颜值 智能测温 500ml", "保温杯", 99.0, "钛", "500ml", "智能测温", "简约", "奶白色", 20, 41.0, None),
    ("暖杯记 纯钛保温壶 1000ml 家用大容量 智能测温", "保温壶", 159.0, "钛", "1000ml", "智能测温", "简约", "灰色", 9, 66.0, None),
    ("暖杯记 316不锈钢保温杯 1000ml 大容量 茶水分离", "保温杯", 79.0, "316不锈钢", "1000ml", "茶水分离", "商务", "黑色", 15, 29.0, None),
    ("暖杯记 钛保温杯 便携随行 智能测温 400ml", "保温杯", 129.0, "钛", "400ml", "智能测温", "ins风", "绿色", 11, 52.0, None),
    ("暖杯记 儿童保温杯 带吸管 316不锈钢 500ml 卡通", "儿童保温杯", 69.0, "316不锈钢", "500ml", "带吸管", "可爱", "粉色", 14, 24.0, None),
    ("暖杯记 纯钛焖烧杯 1000ml 智能测温 上班族", "焖烧杯", 139.0, "钛", "1000ml", "智能测温", "简约", "白色", 7, 58.0, None),
    ("暖杯记 316不锈钢保温杯 智能测温 750ml 车载", "保温杯", 99.0, "316不锈钢", "750ml", "智能测温", "商务", "灰色", 10, 36.0, None),
    ("暖杯记 钛保温杯 情侣款 500ml 刻字定制", "保温杯", 199.0, "钛", "500ml", "带提手", "轻奢", "蓝色", 4, 80.0, None),
    ("暖杯记 陶瓷内胆保温杯 泡茶 1000ml 大容量", "保温杯", 109.0, "陶瓷内胆", "1000ml", "茶水分离", "复古", "白色", 6, 42.0, None),
    ("暖杯记 纯钛保温杯 智能测温 1000ml 户外运动", "保温杯", 149.0, "钛", "1000ml", "智能测温", "简约", "黑色", 8, 61.0, "2025-09-01"),
    ("暖杯记 钛保温杯 迷你口袋杯 智能测温 350ml", "保温杯", 89.0, "钛", "350ml", "智能测温", "可爱", "紫色", 9, 35.0, "2026-04-06"),
]


def build_our_items(ids: np.ndarray, profile: Profile | None = None) -> pd.DataFrame:
    """Our shop's listings of the studied category (12) with their 12-digit IDs and
    attributes (保温杯: the fixed list; another profile: :func:`our_rows`)."""
    if profile is None or profile.category == "保温杯":
        return listings_frame(_OURS, ids[: len(_OURS)])
    rows = our_rows(profile)
    return listings_frame(rows, ids[: len(rows)], profile.our_shop)


def _nine(value: float, step: int) -> float:
    """A listed price near ``value`` ending in 9 (or the whole value under ¥20)."""
    if value < 20:
        return float(max(1, round(value)))
    return float(np.floor(value / step) * step + step - 1)


def our_rows(p: Profile) -> list[tuple]:
    """Our 12 listings of another profile's category, in the layout of ``_OURS``: five priced
    inside the underserved band, the others around the market's median; most hold the
    advantages (the first on 8, the second on 9, a third on 6)."""
    lo, hi = p.underserved
    m = p.price_median
    step = 100 if m >= 500 else 10
    inside = np.linspace(lo, hi, 7)[1:-1]
    inside_prices = []
    for v in inside:
        q = _nine(v, step) if hi - lo > 2 * step else float(round(v))
        q = q if lo < q <= hi else float(np.floor(hi))
        inside_prices.append(q)
    outside = [_nine(x, step) for x in (m * 0.8, m * 0.95, hi * 1.25, hi * 1.5, lo * 0.85,
                                        hi * 1.9, m * 0.9)]
    prices = inside_prices + outside
    attrs = p.attributes
    usual = {a: max(v, key=lambda x: v[x]) for a, v in attrs.items()}
    on = {0: range(8), 1: [0, 1, 2, 4, 5, 6, 7, 9, 10], 2: [0, 2, 3, 5, 9, 10]}
    leaf = next(iter(p.leaves))
    brand = p.our_shop.removesuffix("旗舰店")
    colors = list(attrs.get("color", {"-": 1.0}))
    styles = list(attrs["style"])
    sizes = list(attrs["size"])
    units = max(1.0, 18.0 * (72.0 / m) ** 0.5)
    rows = []
    for i, price in enumerate(prices):
        vals = {a: usual[a] for a in ("material", "function", "size")}
        vals["style"] = styles[i % len(styles)]
        vals["size"] = sizes[(i * 2) % len(sizes)]
        for k, (attr, value) in enumerate(p.advantages):
            if i in on.get(k, ()):
                vals[attr] = value
        title = (f"{brand} {vals['material']}{p.category} {vals['function']} {vals['size']} "
                 f"{vals['style']}")
        launch = "2025-09-01" if i == 10 else "2026-04-06" if i == 11 else None
        base = round(units * (1.6 if i < 5 else 0.7) * (1 - 0.05 * (i % 5)), 1)
        rows.append((title, leaf, price, vals["material"], vals["size"], vals["function"],
                     vals["style"], colors[i % len(colors)], base,
                     round(price * 0.4, 2), launch))
    return rows


def listings_frame(rows: list[tuple], ids: np.ndarray, shop: str = OUR_SHOP) -> pd.DataFrame:
    """Our listings as a frame: ``rows`` in the layout of ``_OURS`` (title, leaf category,
    price, material, size, function, style, colour, mean daily units, unit cost, first day on
    sale or ``None``), one ID each."""
    cols = ["title", "leaf_category", "price", "material", "size", "function", "style",
            "color", "base_units", "unit_cost", "launch"]
    frame = pd.DataFrame(rows, columns=cols)
    frame.insert(0, "item_id", np.asarray(ids)[: len(frame)])
    frame["launch"] = pd.to_datetime(frame["launch"].fillna(days()[0].date().isoformat()))
    frame["shop"] = shop
    return frame


def build_sales(rng: np.random.Generator, ours: pd.DataFrame, profile: Profile | None = None
                ) -> tuple[pd.DataFrame, dict]:
    """Our items' daily results (units, revenue, visitors, buyers, unit cost, ad spend,
    refunds), shaped by season and promotions, with the planted shortfall from the Monday of
    2026-W46."""
    frame = item_sales(rng, ours, profile=profile)
    truth = {"plan_week": "2026-W44", "behind_weeks": ["2026-W46", "2026-W47"],
             "shortfall": SHORTFALL, "behind_start": BEHIND_START.date().isoformat(),
             "items": len(ours)}
    return frame, truth


def item_sales(rng: np.random.Generator, listings: pd.DataFrame, amplitude: float = 0.45,
               peak_doy: float = 355.0, growth: float = 0.15,
               shortfall: float = SHORTFALL, profile: Profile | None = None) -> pd.DataFrame:
    """Daily results of our ``listings`` (as :func:`build_our_items` gives them).

    Parameters
    ----------
    rng : Generator
        Drawn from in a fixed order, listing by listing.
    listings : DataFrame
        ``item_id``, ``price``, ``base_units`` (mean daily units off-season), ``unit_cost``,
        ``launch``.
    amplitude, peak_doy : float
        The yearly season (:func:`research.sample.common.season`).
    growth : float
        Yearly growth rate of demand.
    shortfall : float
        Units run this fraction below expectation from ``BEHIND_START`` (0: none).
    profile : Profile, optional
        The market (its season and promotions replace ``amplitude`` × its scale and
        ``peak_doy``); ``None``: the 保温杯 calendar with the given season.
    """
    idx = days()
    promo = demand_multiplier(idx, None if profile is None else profile.promo_response)
    yearly = (season(idx, amplitude, peak_doy) if profile is None
              else category_season(profile, idx, amplitude))
    expected = (yearly * WEEKDAY[idx.day_of_week] * promo ** 1.7
                * np.exp(growth * np.asarray((idx - idx[0]).days) / 365.25))
    short = np.where(idx >= BEHIND_START, 1.0 - shortfall, 1.0)
    discount = np.where(promo > 1.3, 0.85, np.where(promo > 1.0, 0.95, 1.0))
    parts = []
    for row in listings.itertuples():
        on = idx >= row.launch
        lam = row.base_units * expected[on] * np.exp(rng.normal(0, 0.08, on.sum()))
        units = rng.poisson(lam * short[on])
        buyers = units - rng.binomial(units, 0.08)
        cvr = 0.055 * np.exp(rng.normal(0, 0.1, on.sum())) * np.where(promo[on] > 1.3, 1.4, 1.0)
        visitors = rng.poisson(lam / cvr) + buyers
        price = row.price * discount[on]
        revenue = np.round(units * price, 2)
        refunds = np.round(rng.binomial(units, np.where(promo[on] > 1.3, 0.08, 0.04)) * price, 2)
        ad = np.round(visitors * 0.3 * 1.25 * np.exp(rng.normal(0, 0.12, on.sum())), 2)
        parts.append(pd.DataFrame({
            "date": idx[on], "shop": row.shop, "item_id": row.item_id, "units": units,
            "revenue": revenue, "visitors": visitors, "buyers": buyers,
            "unit_cost": row.unit_cost, "ad_spend": ad, "refunds": refunds}))
    return pd.concat(parts, ignore_index=True).sort_values(["date", "item_id"],
                                                           ignore_index=True)


def _trade_index(money: np.ndarray) -> np.ndarray:
    """交易指数: a monotone, compressive index of payment amount (not money)."""
    return np.round(12.0 * np.power(np.maximum(money, 0.0), 0.75)).astype(np.int64)


def build_traffic(rng: np.random.Generator, profile: Profile) -> tuple[list[pd.DataFrame], dict]:
    """Daily visitors, buyers and payment (ours) or trade index (competitors) per shop and
    channel, with the planted affiliate start/drop, the paid-search shift and quiet pairs.

    The affiliate channel of the campaigning shop runs at ``level`` × season × promotions
    (level 40 UV/day in 保温杯, 4 % of the shop's size elsewhere) and gains ``uplift`` UV/day
    (× the weekday pattern) from ``start`` to the day before ``drop``; in 保温杯 the uplift is
    3,000, elsewhere ``affiliate_share`` × level × the higher of the mean multipliers (season,
    weekday, promotions) over the four weeks around the start and around the drop, so each
    step is at least ``affiliate_share`` of the channel's level where it happens (truth
    ``uplift_share`` = uplift / level)."""
    p = profile
    idx = days()
    nd = len(idx)
    competitors = list(p.competitors)
    shops = [p.our_shop, *competitors]
    legacy = p.affiliate_share is None
    aff = {"shop": competitors[1], "start": pd.Timestamp(p.affiliate_start),
           "drop": pd.Timestamp(p.affiliate_drop)}
    shift = {"shop": competitors[2], "date": pd.Timestamp(p.paid_shift_date),
             "moved": p.moved_share}
    size = np.array([2400, 12000, 6000, 8000, 5000, 4000, 9000], dtype=float)
    names = list(CHANNELS_EXPORTED)
    mix0 = np.array([0.35, 0.12, 0.08, 0.02, 0.2, 0.05, 0.09, 0.06, 0.03])
    conv = np.array([0.03, 0.025, 0.012, 0.035, 0.012, 0.06, 0.1, 0.02, 0.015])
    promo = demand_multiplier(idx, p.promo_response) ** 1.2
    base = category_season(p, idx, 0.3) * WEEKDAY[idx.day_of_week] * promo
    ramp_time = np.asarray((idx - idx[0]).days, dtype=float)
    rows = []
    shortfall = np.where(idx >= BEHIND_START, 1.0 - SHORTFALL, 1.0)
    for s, shop in enumerate(shops):
        mix = rng.dirichlet(mix0 * 200)
        aov = rng.uniform(70, 130) * p.price_median / 72.0
        lam = size[s] * mix[:, None] * base[None, :] * np.exp(0.1 * ramp_time / 365.25)
        lam = lam * np.exp(rng.normal(0, 0.06, lam.shape))
        if shop == aff["shop"]:
            a = names.index("淘宝客")
            level = 40.0 if legacy else 0.04 * size[s]
            # the uplift is affiliate_share × the channel's level where it is highest of the
            # four weeks around the start and around the drop (season included): both steps
            # are at least that share of the level they sit on, whatever the season does
            around = max(float(base[(idx >= d - pd.Timedelta(days=14))
                                    & (idx < d + pd.Timedelta(days=14))].mean())
                         for d in (aff["start"], aff["drop"]))
            uplift = AFFILIATE["uplift"] if legacy else \
                round(float(p.affiliate_share or 0.0) * level * around)
            aff |= {"level": level, "uplift": uplift}
            lam[a] = level * base
            on = (idx >= aff["start"]) & (idx < aff["drop"])
            lam[a, on] += uplift * WEEKDAY[idx.day_of_week[on]] \
                * np.exp(rng.normal(0, 0.05, on.sum()))
        if shop == shift["shop"]:
            o, q = names.index("手淘搜索"), names.index("直通车")
            f = shift["moved"] * np.clip(((idx - shift["date"]).days + 3.5) / 7.0, 0, 1)
            moved = lam[o] * f
            lam[o] -= moved
            lam[q] += moved
        if shop == competitors[0]:  # the rising leader grows its feed and content traffic
            grow = 1 + np.clip((idx - pd.Timestamp("2026-09-01")).days / 82.0, 0, 1)
            for ch in ("手淘推荐", "逛逛"):
                lam[names.index(ch)] *= grow
        visitors = rng.poisson(lam)
        rate = conv[:, None] * np.exp(rng.normal(0, 0.1, lam.shape))
        if shop == p.our_shop:
            rate = rate * shortfall[None, :]
        buyers = rng.binomial(visitors, np.clip(rate, 0, 1))
        money = np.round(buyers * aov * np.exp(rng.normal(0, 0.08, lam.shape)), 2)
        channel_names = names
        if shop == competitors[4]:
            extra = rng.poisson(0.03 * size[s] * base)[None, :]
            visitors = np.vstack([visitors, extra])
            buyers = np.vstack([buyers, rng.binomial(extra, 0.01)])
            money = np.vstack([money, np.round(buyers[-1:] * aov, 2)])
            channel_names = names + [UNKNOWN_CHANNEL]
        k = len(channel_names)
        frame = pd.DataFrame({
            "date": np.tile(idx, k), "shop": shop, "item_id": "",
            "channel_raw": np.repeat(channel_names, nd),
            "visitors": visitors.ravel(), "buyers": buyers.ravel(),
            "payment_amount": money.ravel()})
        if shop != p.our_shop:
            frame["trade_index"] = _trade_index(frame.pop("payment_amount").to_numpy())
        rows.append(frame.sort_values(["date", "channel_raw"], kind="stable",
                                      ignore_index=True))
    c = competitors
    quiet_pairs = [(c[3], "organic_search"), (c[3], "feed"), (c[4], "organic_search"),
                   (c[4], "cart_fav"), (c[5], "feed"), (c[5], "direct"),
                   (c[1], "organic_search"), (c[2], "feed")]
    truth_quiet = [list(p) for p in quiet_pairs]
    truth = {
        "affiliate": {"shop": aff["shop"], "channel": "affiliate",
                      "channel_raw": "淘宝客",
                      "start": aff["start"].date().isoformat(),
                      "drop": aff["drop"].date().isoformat(),
                      "uplift": aff["uplift"], "level": aff["level"],
                      "uplift_share": round(aff["uplift"] / aff["level"], 3)},
        "paid_shift": {"shop": shift["shop"], "date": shift["date"].date().isoformat(),
                       "from": "organic_search", "to": "paid_search",
                       "moved_share": round(shift["moved"], 3), "ramp_days": 7},
        "quiet": truth_quiet,
        "unknown_channel": {"shop": competitors[4], "channel_raw": UNKNOWN_CHANNEL,
                            "channel": "other"},
        "shops": shops,
    }
    return rows, truth
