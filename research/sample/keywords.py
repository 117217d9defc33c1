"""Search terms of the sample market (搜索词), for :mod:`research.sample.market`.

Builds ~330 terms of the category 保温杯 (head words, modifier terms, brand words and long
tail), their daily 搜索人气 and the other columns of the 生意参谋 search-term export, with the
planted signals (rising/falling terms, purely seasonal terms, one breakout, blue-ocean terms).
"""

from __future__ import annotations

from typing import TypedDict

import numpy as np
import pandas as pd

from research.sample.common import END, WEEKDAY, days, demand_multiplier, sig3

__all__ = ["build_keywords", "PLANTED"]

HEADS = {"保温杯": 42000, "水杯": 24000, "杯子": 18000, "保温壶": 12000, "焖烧杯": 8000,
         "保温水杯": 7000, "咖啡杯": 6500, "吸管杯": 6000, "保温瓶": 5000, "暖水壶": 4500,
         "运动水壶": 4000, "随行杯": 2500, "茶水分离杯": 3500}
MATERIAL = ["316不锈钢", "304不锈钢", "钛", "纯钛", "陶瓷内胆", "玻璃", "紫砂"]
CAPACITY = ["大容量", "小容量", "超大容量", "1000ml", "500ml", "750ml", "350ml", "便携", "迷你"]
AUDIENCE = ["儿童", "学生", "男士", "女士", "女生", "男生", "宝宝", "小学生", "老人", "情侣",
            "商务", "办公室", "女", "男"]
STYLE = ["可爱", "复古", "ins风", "高颜值", "简约", "卡通", "国潮", "轻奢", "少女心", "北欧"]
FUNCTION = ["带吸管", "车载", "焖烧", "泡茶", "智能测温", "茶水分离", "显示温度", "保冷", "弹盖",
            "防漏", "带提手", "刻字", "定制"]
BRANDS = ["象印", "膳魔师", "虎牌", "富光", "哈尔斯", "乐扣乐扣", "希乐", "苏泊尔", "特百惠",
          "物生物", "杯具熊", "名创优品", "星巴克", "希诺"]

class _Planted(TypedDict):
    rising: list[str]
    falling: list[str]
    seasonal_only: list[str]
    blue_ocean: list[str]
    breakout: str


#: the planted terms (truth.json ``keywords``)
PLANTED: _Planted = {
    "rising": ["茶水分离杯", "316不锈钢保温杯大容量", "国潮保温杯", "保温杯男士商务"],
    "falling": ["卡通保温杯", "玻璃保温杯", "紫砂保温杯", "保温杯可爱少女心"],
    "seasonal_only": ["保温杯", "保温壶", "焖烧杯", "暖水壶", "保温瓶", "运动水壶"],
    "blue_ocean": ["钛保温杯", "智能测温保温杯", "保温杯1000ml", "儿童焖烧杯"],
    "breakout": "冰霸杯",
}
RISING_FACTOR = 1.8     # level at the end vs the seasonal baseline, rising terms
FALLING_FACTOR = 0.5    # … falling terms
CHANGE_START = pd.Timestamp("2026-09-07")   # 11 weeks before the end
BREAKOUT_FIRST = pd.Timestamp("2026-08-31")  # the breakout term has no rows before this


def _terms(rng: np.random.Generator) -> tuple[list[str], dict[str, str]]:
    """The term list and each term's kind (core/brand/modifier/long_tail/new)."""
    kinds: dict[str, str] = {}

    def add(term: str, kind: str) -> None:
        kinds.setdefault(term, kind)

    for head in HEADS:
        add(head, "core")
    for b in BRANDS:
        add(b + "保温杯", "brand")
    for b in BRANDS[:6]:
        add(b, "brand")
    for b in BRANDS[:5]:
        add(b + "保温壶", "brand")
    for m in MATERIAL + CAPACITY + STYLE + FUNCTION:
        add(m + "保温杯", "modifier")
    for a in AUDIENCE:
        add(a + "保温杯" if a not in ("女", "男") else "保温杯" + a, "modifier")
        add(a + "水杯" if a not in ("女", "男") else "水杯" + a, "modifier")
    for m in ["大容量", "家用", "不锈钢", "玻璃", "1.5L", "2L", "车载"]:
        add(m + "保温壶", "modifier")
    for m in ["儿童", "学生", "大容量", "便携", "陶瓷内胆", "316不锈钢", "上班族"]:
        add(m + "焖烧杯", "modifier")
    for m in ["儿童", "大人", "大容量", "tritan", "316不锈钢"]:
        add(m + "吸管杯", "modifier")
    for t in PLANTED["rising"] + PLANTED["falling"] + PLANTED["blue_ocean"]:
        add(t, "long_tail" if t not in kinds else kinds[t])
    # long tail: two modifiers of different kinds around a head word
    pools = [MATERIAL, CAPACITY, AUDIENCE, STYLE, FUNCTION]
    heads = ["保温杯", "保温杯", "保温杯", "水杯", "焖烧杯", "保温壶"]
    n_tail = 0
    while n_tail < 200:
        i, j = rng.choice(len(pools), 2, replace=False)
        a, b = pools[i][rng.integers(len(pools[i]))], pools[j][rng.integers(len(pools[j]))]
        head = heads[rng.integers(len(heads))]
        pattern = rng.integers(3)
        term = (a + head + b if pattern == 0 else a + b + head if pattern == 1
                else head + a + b)
        if term not in kinds:
            add(term, "long_tail")
            n_tail += 1
    add(PLANTED["breakout"], "new")
    return list(kinds), kinds


def build_keywords(rng: np.random.Generator, category: str) -> tuple[pd.DataFrame, dict]:
    """Daily rows of every term (numbers, not yet formatted) and the keyword truth.

    Returns
    -------
    (DataFrame, dict)
        Columns date, keyword, search_popularity, search_heat, click_rate, click_popularity,
        conversion_rate, online_items, tmall_click_share, ppc_price (floats; formatting is
        the writer's job), sorted by date and popularity; and ``truth["keywords"]``.
    """
    terms, kinds = _terms(rng)
    n = len(terms)
    idx = days()
    nd = len(idx)
    kind = np.array([kinds[t] for t in terms])
    # base level (mean daily 搜索人气 away from the season's extremes)
    level = np.where(kind == "long_tail", np.exp(rng.normal(np.log(700), 0.7, n)),
                     np.where(kind == "modifier", np.exp(rng.normal(np.log(2200), 0.7, n)),
                              np.exp(rng.normal(np.log(2500), 0.8, n))))
    for i, t in enumerate(terms):
        if t in HEADS:
            level[i] = HEADS[t]
    planted_pop = {"茶水分离杯": 3500, "316不锈钢保温杯大容量": 2600, "国潮保温杯": 2200,
                   "保温杯男士商务": 1800, "卡通保温杯": 3000, "玻璃保温杯": 2800,
                   "紫砂保温杯": 1600, "保温杯可爱少女心": 1500, "钛保温杯": 9000,
                   "智能测温保温杯": 8000, "保温杯1000ml": 7500, "儿童焖烧杯": 6500}
    for t, v in planted_pop.items():
        level[terms.index(t)] = v
    level = np.clip(level, 180, None)
    amp = rng.uniform(0.15, 0.4, n)
    peak = np.full(n, 355.0)
    trend = rng.uniform(-0.08, 0.12, n)  # log growth per year, steady (no change points)
    seasonal = [terms.index(t) for t in PLANTED["seasonal_only"]]
    amp[seasonal] = [0.55, 0.7, 0.7, 0.8, 0.65, 0.5]
    trend[seasonal] = 0.0
    peak[terms.index("运动水壶")] = 190.0  # a summer term
    for t in ("吸管杯", "保冷保温杯"):
        if t in terms:
            peak[terms.index(t)] = 190.0
    years = np.asarray((idx - idx[0]).days, dtype=float) / 365.25
    seas = np.exp(amp[:, None] * np.cos(2 * np.pi * (np.asarray(idx.day_of_year, float)[None, :]
                                                      - peak[:, None]) / 365.25))
    promo = demand_multiplier(idx)
    week = WEEKDAY[idx.day_of_week]
    sigma = 0.05 + 0.6 / np.sqrt(level)
    noise = np.exp(rng.normal(0.0, 1.0, (n, nd)) * sigma[:, None])
    pop = level[:, None] * seas * np.exp(trend[:, None] * years[None, :]) * promo[None, :] \
        * week[None, :] * noise
    # planted changes against the season, from CHANGE_START to the end
    ramp = np.clip((idx - CHANGE_START).days / max((END - CHANGE_START).days, 1), 0, 1)
    for t in PLANTED["rising"]:
        pop[terms.index(t)] *= RISING_FACTOR ** ramp
    for t in PLANTED["falling"]:
        pop[terms.index(t)] *= FALLING_FACTOR ** ramp
    # the breakout: absent before BREAKOUT_FIRST, then steep growth (×~100 in 12 weeks)
    b = terms.index(PLANTED["breakout"])
    since = np.asarray((idx - BREAKOUT_FIRST).days, dtype=float)
    pop[b] = np.where(since >= 0, 150.0 * np.exp(0.056 * np.clip(since, 0, None))
                      * week * promo * noise[b], np.nan)
    popularity = np.where(np.isnan(pop), np.nan, sig3(np.nan_to_num(pop, nan=1.0)))

    blue = np.isin(terms, PLANTED["blue_ocean"])
    ctr = rng.uniform(0.35, 0.9, n)
    cvr = np.exp(rng.normal(np.log(0.06), 0.35, n)).clip(0.015, 0.13)
    cvr[blue] = rng.uniform(0.18, 0.24, blue.sum())
    supply_ratio = np.exp(rng.uniform(np.log(10), np.log(45), n))
    supply_ratio[blue] = rng.uniform(0.25, 0.6, blue.sum())
    tmall = rng.uniform(0.3, 0.7, n)
    tmall[blue] = rng.uniform(0.08, 0.15, blue.sum())
    ppc = np.exp(rng.normal(np.log(1.4), 0.35, n)).clip(0.4, 4.5)
    heat_ratio = rng.uniform(1.5, 2.4, n)

    shape = (n, nd)
    online_drift = np.exp(np.cumsum(rng.normal(0.0004, 0.004, shape), axis=1))
    online = np.round(level[:, None] * supply_ratio[:, None] * online_drift).astype(np.int64)
    online[b] = np.round(np.clip(since, 0, None) * 600 + 2000).astype(np.int64)  # sellers pile in
    click_rate = np.clip(ctr[:, None] * np.exp(rng.normal(0, 0.04, shape)), 0.05, 0.99)
    promo_cvr = np.where(promo > 1.3, 1.3, 1.0)
    conv = np.clip(cvr[:, None] * promo_cvr[None, :] * np.exp(rng.normal(0, 0.08, shape)),
                   0.002, 0.6)
    heat = sig3(np.nan_to_num(pop, nan=1.0) * heat_ratio[:, None]
                * np.exp(rng.normal(0, 0.03, shape)))
    clicks = sig3(np.nan_to_num(pop, nan=1.0) * click_rate ** 0.9)
    share = np.clip(tmall[:, None] * np.exp(rng.normal(0, 0.05, shape)), 0.01, 0.95)
    price = np.round(ppc[:, None] * np.where(promo > 1.3, 1.3, 1.0)[None, :]
                     * np.exp(rng.normal(0, 0.05, shape)), 2)

    present = ~np.isnan(popularity)
    ti, di = np.nonzero(present)
    frame = pd.DataFrame({
        "date": idx[di], "keyword": np.asarray(terms, dtype=object)[ti],
        "search_popularity": popularity[ti, di].astype(np.int64),
        "search_heat": heat[ti, di], "click_rate": click_rate[ti, di],
        "click_popularity": clicks[ti, di], "conversion_rate": conv[ti, di],
        "online_items": online[ti, di], "tmall_click_share": share[ti, di],
        "ppc_price": price[ti, di], "term_kind": kind[ti],
    })
    frame = frame.sort_values(["date", "search_popularity", "keyword"],
                              ascending=[True, False, True], ignore_index=True)
    truth = {
        "rising": PLANTED["rising"], "falling": PLANTED["falling"],
        "seasonal_only": PLANTED["seasonal_only"],
        "breakout": {"term": PLANTED["breakout"],
                     "first_date": BREAKOUT_FIRST.date().isoformat(),
                     "breakout_week": _breakout_week(frame, PLANTED["breakout"])},
        "change_start": CHANGE_START.date().isoformat(),
        "blue_ocean": PLANTED["blue_ocean"],
        "rising_factor": RISING_FACTOR, "falling_factor": FALLING_FACTOR,
        "terms": n, "category": category,
    }
    return frame, truth


def _breakout_week(frame: pd.DataFrame, term: str) -> str:
    """The ISO week the new term's mean daily 搜索人气 first reaches the median, over the other
    terms, of their mean daily 搜索人气 in the last four weeks (the rule of
    :mod:`research.analyses.keywords.analysis`)."""
    week = frame["date"].dt.isocalendar()
    label = week["year"].astype(str) + "-W" + week["week"].astype(str).str.zfill(2)
    weekly = frame.assign(week=label).groupby(["keyword", "week"])["search_popularity"].mean()
    table = weekly.unstack("week").sort_index(axis=1)
    others = table.drop(index=term)
    bar = float(np.nanmedian(others.iloc[:, -4:].mean(axis=1)))
    series = table.loc[term]
    hit = series[series >= bar]
    return str(hit.index[0]) if len(hit) else ""
