"""Market profiles of the sample generator: everything that makes one category's market differ
from another's, for :mod:`research.sample.market`.

A :class:`Profile` holds the head word (category) and its core-noun variants, modifier
vocabularies by kind, brands, item attributes and their values, shop names, the season
(peak day of year, amplitude, an optional 年货节 food peak), which promotions the category
answers and how strongly, the price level and spread, the planted underserved band, sizes
(shops, long-tail terms), the audience (leading province and city, peak hour, share of
women), the export shapes and the strength of every planted signal.

Named profiles (:data:`PROFILE_NAMES`)
--------------------------------------
==========  ==========================  =======  =========================================
name        season, promotions          price    export shapes
==========  ==========================  =======  =========================================
保温杯      winter (peak 21 Dec); all   ~¥72     the suite's sample: GBK CSV keywords (the
            four at the sample's                 last month XLSX), XLSX/UTF-8/GBK items,
            strength                             UTF-8 traffic, XLSX sales and audience;
                                                 儿童水杯 as a second category
防晒衣      summer (peak early July),   ~¥119    only 叶子类目; no 商城点击占比; English
            sizes S–XXL, colours;                traffic headers; XLS items, UTF-8 CSV
            618 ×1.6, no 年货节                  keywords and traffic
坚果礼盒    年货节 food peak on a mild  ~¥99     hour-only audience; no 在线商品数; GBK
            winter; 年货节 ×2.5                  CSV keywords, items and traffic
数据线      year-round (flat); 618 and  ~¥19     English headers (keywords, items,
            双11 only                            market_daily); UTF-8 CSV; XLS sales
扫地机器人  mild, peak mid-Nov; 双11    ~¥2,200  only 叶子类目; hour-only audience; no
            ×2.3, 618 ×1.8                       在线商品数 nor 商城点击占比; XLSX items,
                                                 traffic, sales, audience
==========  ==========================  =======  =========================================

Signal strengths differ by profile (rising ×1.5–2.6, sustained ×2.0–2.8, band boost
2.8–3.5 (random markets: :data:`BAND_BOOST_FLOOR`–4), affiliate uplift 0.4–1.2 × the
channel's level around the start and the drop, season included (random markets 0.4–1.5;
保温杯: 3,000 UV/day on 40), moved share 0.3–0.55), as do the competitor
events' dates.

``get_profile("random", seed)`` draws a market from the seed: a head word and vocabulary from
pools (a category pool's core nouns and materials combined with shared style, crowd and colour
pools and made-up brands), the season's peak and amplitude, a price level log-uniform on
¥9–3,000, shop and term counts, export shapes and signal strengths.

Export shapes (truth ``shapes``)
--------------------------------
``leaf_only`` (items carry 叶子类目 and no 类目), ``audience_hours_only`` (时段 and no 星期
dimension), ``keywords_no_online_items`` (no 在线商品数), ``keywords_no_tmall_share`` (no
商城点击占比), ``english_headers`` (tables whose exports use the canonical English column
names of :mod:`research.store.schema`) and ``formats`` (table → csv-gbk, csv-utf8, xlsx or
xls; ``None`` keeps the sample's own mix of files).

The underserved band's edges are computed from the profile's own price level
(``band_position`` × median, × ``band_width``), rounded to a step that suits the price and
moved off the round-price ladder (…9): a band never sits on 9/19/…/99/129/159/199/299/499.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from research.faults import UsageFault

#: the weakest planted underserved band (sales multiplier of its listings; a random market
#: draws it uniformly up to 4): the price page finds a band ×2.8 with 25–45 % of its listings
#: kept in ~95 % of generated markets, ×2.2 in ~65 %, ×1.8 in ~30 % (measured, issue 16; see
#: research.analyses.prices.demand_band). Below this the planted band is under the method's
#: detection limit, and a market planting it would test the generator, not the page.
BAND_BOOST_FLOOR = 2.8

__all__ = ["Profile", "Shapes", "PROFILE_NAMES", "get_profile", "band_edges_for",
           "underserved_for", "START", "END", "CNY_DATES", "promotion_windows",
           "EVENT_CLEARANCE_DAYS", "clear_of_windows"]

#: table → export format
FORMATS = ("csv-gbk", "csv-utf8", "xlsx", "xls")
TABLES = ("keywords", "items", "traffic", "sales", "market_daily", "audience", "events")


@dataclass(frozen=True)
class Shapes:
    """Which export shapes a market's files use (written to truth ``shapes``)."""

    leaf_only: bool = False
    audience_hours_only: bool = False
    keywords_no_online_items: bool = False
    keywords_no_tmall_share: bool = False
    english_headers: tuple[str, ...] = ()
    #: table → format; ``None``: the 保温杯 sample's own mix of files
    formats: dict[str, str] | None = None


@dataclass(frozen=True)
class Profile:
    """One category's market: vocabulary, season, prices, sizes, audience, shapes, signals.

    ``season_scale`` scales every yearly amplitude of the sample (1.0 = 保温杯's);
    ``promo_response`` maps each promotion the category answers to the scale of its uplift
    (1.0 = 保温杯's; a missing promotion is absent from the market and its events);
    ``planted`` holds the planted keyword terms by role (see :mod:`research.sample.keywords`).
    """

    name: str
    category: str
    heads: dict[str, int]
    modifiers: dict[str, tuple[str, ...]]
    brands: tuple[str, ...]
    leaves: dict[str, float]
    attributes: dict[str, dict[str, float]]
    size_header: str
    advantages: tuple[tuple[str, str], ...]
    our_shop: str
    competitors: tuple[str, ...]
    brand_shops: tuple[str, ...]
    shop_words: tuple[tuple[str, ...], tuple[str, ...]]
    title_words: tuple[str, ...]
    season_peak: float
    season_scale: float
    food_peak: float
    promo_response: dict[str, float]
    price_median: float
    price_spread: float
    band_position: float
    band_width: float
    n_shops: int
    n_tail: int
    province: str
    city: str
    peak_hour: int
    female_share: float
    shapes: Shapes
    planted: dict[str, Any]
    rising_factor: float = 1.8
    falling_factor: float = 0.5
    sustained_factor: float = 2.5
    band_boost: float = 3.5
    band_kept_share: float = 0.3
    affiliate_share: float | None = None
    moved_share: float = 0.5
    affiliate_start: str = "2026-07-13"
    affiliate_drop: str = "2026-09-28"
    paid_shift_date: str = "2026-08-05"
    second_category: bool = False
    volume: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def underserved(self) -> tuple[float, float]:
        """The planted underserved band (lo, hi]: prices in it are thin and sell more."""
        return underserved_for(self.price_median, self.band_position, self.band_width)


_LADDER = (9, 19, 29, 39, 49, 59, 69, 79, 89, 99, 129, 159, 199, 299, 499, 799, 999, 1299,
           1599, 1999, 2999, 4999, 7999, 9999)


def _off_ladder(value: float) -> float:
    """Round ``value`` to a step that suits its size and move it off the …9 price ladder."""
    step = 1 if value < 30 else 5 if value < 300 else 50 if value < 3000 else 100
    out = max(step, round(value / step) * step)
    while out in _LADDER or int(out) % 10 == 9:
        out += step
    return float(out)


def underserved_for(median: float, position: float, width: float) -> tuple[float, float]:
    """Band edges from the price level: lo = median × position, hi = lo × width, both rounded
    and off the round-price ladder (the analyses' automatic edges sit on it)."""
    lo = _off_ladder(median * position)
    hi = _off_ladder(max(lo * width, lo + 2))
    return lo, hi


def band_edges_for(profile: Profile) -> list[float]:
    """Right-closed band edges of the market (truth ``prices.band_edges``): the round-price
    ladder around the price level with the planted band's own edges in it (no ladder edge
    inside the band); the last edge, 1e9, means no upper limit."""
    lo, hi = profile.underserved
    m = profile.price_median
    ladder = [float(x) for x in _LADDER
              if m * 0.25 <= x <= m * 8 and not lo / 1.2 <= x <= hi * 1.2]
    return [0.0, *sorted({*ladder, lo, hi}), 1e9]


#: the sample's first and last day (every table spans them)
START = pd.Timestamp("2024-09-02")
END = pd.Timestamp("2026-11-22")
#: Chinese New Year's day (正月初一) of the years the sample touches: the generator's own
#: constants (it plants truth from its own calendar, never from the analyses')
CNY_DATES: dict[int, str] = {2023: "2023-01-22", 2024: "2024-02-10", 2025: "2025-01-29",
                             2026: "2026-02-17", 2027: "2027-02-06"}


def promotion_windows(start: pd.Timestamp = START, end: pd.Timestamp = END,
                      response: Mapping[str, float] | None = None
                      ) -> list[tuple[str, pd.Timestamp, pd.Timestamp, str]]:
    """Promotion and holiday windows that touch ``start .. end``: (name, first, last, kind).

    The sample's own calendar (618: 1–18 June; 双11: 1–11 November; 双12: 10–12 December;
    年货节: CNY − 30 … CNY − 10 days; 春节: CNY ± 7 days, a holiday when couriers stop, kind
    节假日), CNY from :data:`CNY_DATES`. With ``response`` (a profile's promotions), only the
    promotions it names are kept (春节 always is).
    """
    out = []
    for year in range(start.year - 1, end.year + 1):
        cny = pd.Timestamp(CNY_DATES[year])
        cands = [
            ("年货节", cny - pd.Timedelta(days=30), cny - pd.Timedelta(days=10), "大促"),
            ("春节", cny - pd.Timedelta(days=7), cny + pd.Timedelta(days=7), "节假日"),
            ("618", pd.Timestamp(year, 6, 1), pd.Timestamp(year, 6, 18), "大促"),
            ("双11", pd.Timestamp(year, 11, 1), pd.Timestamp(year, 11, 11), "大促"),
            ("双12", pd.Timestamp(year, 12, 10), pd.Timestamp(year, 12, 12), "大促"),
        ]
        out += [c for c in cands if c[2] >= start and c[1] <= end
                and (response is None or c[0] == "春节" or c[0] in response)]
    return sorted(out, key=lambda c: c[1])


#: competitor events (affiliate start and drop, paid-search shift) keep this many days clear
#: of every promotion or holiday window of the calendar, on both sides, and of the data's
#: first and last weeks: the page leaves promotion days out and compares 28 ordinary days
#: each side, so a move just after 春节 or before 618 sits on a level the window distorts
EVENT_CLEARANCE_DAYS = 21


def clear_of_windows(day: str | pd.Timestamp | np.datetime64,
                     days: int = EVENT_CLEARANCE_DAYS) -> bool:
    """Whether ``day`` is at least ``days`` days from every window of
    :func:`promotion_windows` (all promotions, whatever a profile answers) and from the
    data's first and last days.

    Examples
    --------
    >>> clear_of_windows("2026-07-13"), clear_of_windows("2026-03-02")
    (True, False)
    """
    d = pd.Timestamp(day)
    if not START + pd.Timedelta(days=days) <= d <= END - pd.Timedelta(days=days):
        return False
    gap = pd.Timedelta(days=days)
    return all(d < first - gap or d > last + gap for _, first, last, _ in promotion_windows())


# ----------------------------------------------------------------------------- 保温杯

_BAOWENBEI = Profile(
    name="保温杯", category="保温杯",
    heads={"保温杯": 42000, "水杯": 24000, "杯子": 18000, "保温壶": 12000, "焖烧杯": 8000,
           "保温水杯": 7000, "咖啡杯": 6500, "吸管杯": 6000, "保温瓶": 5000, "暖水壶": 4500,
           "运动水壶": 4000, "随行杯": 2500, "茶水分离杯": 3500},
    modifiers={
        "material": ("316不锈钢", "304不锈钢", "钛", "纯钛", "陶瓷内胆", "玻璃", "紫砂"),
        "size": ("大容量", "小容量", "超大容量", "1000ml", "500ml", "750ml", "350ml", "便携",
                 "迷你"),
        "crowd": ("儿童", "学生", "男士", "女士", "女生", "男生", "宝宝", "小学生", "老人",
                  "情侣", "商务", "办公室", "女", "男"),
        "style": ("可爱", "复古", "ins风", "高颜值", "简约", "卡通", "国潮", "轻奢", "少女心",
                  "北欧"),
        "function": ("带吸管", "车载", "焖烧", "泡茶", "智能测温", "茶水分离", "显示温度",
                     "保冷", "弹盖", "防漏", "带提手", "刻字", "定制"),
    },
    brands=("象印", "膳魔师", "虎牌", "富光", "哈尔斯", "乐扣乐扣", "希乐", "苏泊尔", "特百惠",
            "物生物", "杯具熊", "名创优品", "星巴克", "希诺"),
    leaves={"保温杯": 0.58, "儿童保温杯": 0.15, "焖烧杯": 0.1, "保温壶": 0.17},
    attributes={
        "material": {"304不锈钢": 0.46, "316不锈钢": 0.37, "陶瓷内胆": 0.08, "钛": 0.04,
                     "玻璃内胆": 0.05},
        "function": {"长效保温": 0.5, "带吸管": 0.12, "茶水分离": 0.1, "智能测温": 0.05,
                     "弹盖": 0.13, "带提手": 0.1},
        "style": {"简约": 0.35, "商务": 0.15, "可爱": 0.15, "ins风": 0.12, "复古": 0.08,
                  "国潮": 0.08, "卡通": 0.07},
        "color": {c: 1.0 for c in ("白色", "黑色", "粉色", "蓝色", "绿色", "灰色", "紫色",
                                    "奶白色", "多色可选")},
        "size": {"350ml": 0.15, "400ml": 0.15, "500ml": 0.35, "600ml": 0.15, "750ml": 0.12,
                 "1000ml": 0.08},
    },
    size_header="容量",
    advantages=(("material", "钛"), ("function", "智能测温"), ("size", "1000ml")),
    our_shop="暖杯记旗舰店",
    competitors=("杯乐多旗舰店", "驼峰户外专营店", "简物生活旗舰店", "悠享家居旗舰店",
                 "小熊杯杯的店", "清风保温杯专营店"),
    brand_shops=("象印", "膳魔师", "虎牌", "富光", "哈尔斯", "乐扣乐扣", "希乐", "苏泊尔",
                 "特百惠", "物生物", "杯具熊", "希诺"),
    shop_words=(tuple("暖悦禾木初拾简朴米橙绿清北南安乐优佳美巧创青半山"),
                ("居", "品", "杯", "物", "生活", "家居", "日用", "优选", "好物", "百货")),
    title_words=("高颜值", "便携", "大容量", "男女士", "办公室", "学生", "车载", "户外", "送礼",
                 "新款", "网红", "家用", "随行"),
    season_peak=355.0, season_scale=1.0, food_peak=0.0,
    promo_response={"年货节": 1.0, "618": 1.0, "双11": 1.0, "双12": 1.0},
    price_median=72.0, price_spread=0.55, band_position=1.18, band_width=1.35,
    n_shops=226, n_tail=200,
    province="广东", city="上海", peak_hour=21, female_share=0.62,
    shapes=Shapes(),
    planted={
        "rising": ("茶水分离杯", "316不锈钢保温杯大容量", "国潮保温杯", "保温杯男士商务"),
        "sustained": ("国潮保温杯",),
        "falling": ("卡通保温杯", "玻璃保温杯", "紫砂保温杯", "保温杯可爱少女心"),
        "seasonal_only": ("保温杯", "保温壶", "焖烧杯", "暖水壶", "保温瓶", "运动水壶"),
        "bait": "运动水壶",
        "blue_ocean": ("钛保温杯", "智能测温保温杯", "保温杯1000ml", "儿童焖烧杯"),
        "breakout": "冰霸杯",
    },
    rising_factor=1.8, falling_factor=0.5, sustained_factor=2.5, band_boost=3.5,
    band_kept_share=0.3, affiliate_share=None, moved_share=0.5, second_category=True,
    extra={"brand_head2": "保温壶",
           "sizes_by_leaf": {
               "保温杯": {"350ml": 0.15, "400ml": 0.15, "500ml": 0.35, "600ml": 0.15,
                          "750ml": 0.12, "1000ml": 0.08},
               "儿童保温杯": {"350ml": 0.3, "400ml": 0.3, "500ml": 0.3, "600ml": 0.1},
               "焖烧杯": {"500ml": 0.45, "750ml": 0.4, "1000ml": 0.15},
               "保温壶": {"1000ml": 0.06, "1500ml": 0.5, "2000ml": 0.44}},
           "head_modifiers": {
               "保温壶": ("大容量", "家用", "不锈钢", "玻璃", "1.5L", "2L", "车载"),
               "焖烧杯": ("儿童", "学生", "大容量", "便携", "陶瓷内胆", "316不锈钢", "上班族"),
               "吸管杯": ("儿童", "大人", "大容量", "tritan", "316不锈钢")},
           "tail_heads": ("保温杯", "保温杯", "保温杯", "水杯", "焖烧杯", "保温壶"),
           "seasonal_amps": (0.55, 0.7, 0.7, 0.8, 0.65, 0.5),
           "seasonal_peaks": {"运动水壶": 190.0, "吸管杯": 190.0, "保冷保温杯": 190.0},
           "planted_levels": {"茶水分离杯": 3500, "316不锈钢保温杯大容量": 2600,
                              "国潮保温杯": 2200, "保温杯男士商务": 1800, "卡通保温杯": 3000,
                              "玻璃保温杯": 2800, "紫砂保温杯": 1600, "保温杯可爱少女心": 1500,
                              "钛保温杯": 9000, "智能测温保温杯": 8000, "保温杯1000ml": 7500,
                              "儿童焖烧杯": 6500}},
)


# ----------------------------------------------------------------------------- the others

def _named(name: str) -> Profile:
    if name == "防晒衣":
        return Profile(
            name=name, category="防晒衣",
            heads={"防晒衣": 38000, "防晒服": 16000, "防晒衫": 9000, "皮肤衣": 8000,
                   "冰袖": 7000, "防晒外套": 6000, "防晒帽": 5000},
            modifiers={
                "material": ("冰丝", "锦纶", "纯棉", "莫代尔", "凉感", "聚酯纤维"),
                "function": ("upf50+", "防紫外线", "透气", "速干", "连帽", "带面罩", "薄款"),
                "size": ("大码", "宽松", "加长", "短款", "长款", "oversize"),
                "crowd": ("女", "男", "儿童", "学生", "情侣", "骑行", "户外", "钓鱼"),
                "style": ("韩版", "运动风", "小清新", "简约", "原宿风"),
                "color": ("白色", "黑色", "粉色", "浅蓝", "米色", "紫色"),
            },
            brands=("蕉下", "茉寻", "优衣库", "骆驼", "迪卡侬", "伯希和", "探路者", "安踏",
                    "李宁", "波司登"),
            leaves={"防晒衣": 1.0},
            attributes={
                "material": {"聚酯纤维": 0.45, "锦纶": 0.3, "冰丝": 0.06, "纯棉": 0.12,
                             "莫代尔": 0.07},
                "function": {"防紫外线": 0.5, "upf50+": 0.06, "速干": 0.2, "透气": 0.24},
                "style": {"短款": 0.4, "中长款": 0.35, "长款": 0.25},
                "color": {c: 1.0 for c in ("白色", "黑色", "粉色", "浅蓝", "米色", "紫色")},
                "size": {"S": 0.15, "M": 0.3, "L": 0.3, "XL": 0.17, "XXL": 0.08},
            },
            size_header="尺寸",
            advantages=(("material", "冰丝"), ("function", "upf50+")),
            our_shop="晴遮旗舰店",
            competitors=("凉伞户外旗舰店", "薄荷防晒专营店", "夏木服饰旗舰店", "轻羽运动旗舰店",
                         "小鹿防晒的店", "阿福服饰专营店"),
            brand_shops=("蕉下", "茉寻", "优衣库", "骆驼", "迪卡侬", "伯希和", "探路者"),
            shop_words=(tuple("夏凉晴朗森柚麦云溪星禾初简"),
                        ("衣", "服饰", "女装", "户外", "运动", "优品", "衣橱")),
            title_words=("新款", "女夏", "薄款", "透气", "户外", "骑行", "网红", "显瘦"),
            season_peak=190.0, season_scale=2.2, food_peak=0.0,
            promo_response={"618": 1.6, "双11": 0.6, "双12": 0.5},
            price_median=119.0, price_spread=0.5, band_position=1.22, band_width=1.32,
            n_shops=120, n_tail=90,
            province="浙江", city="杭州", peak_hour=22, female_share=0.78,
            shapes=Shapes(leaf_only=True, keywords_no_tmall_share=True,
                          english_headers=("traffic",),
                          formats={"keywords": "csv-utf8", "items": "xls", "traffic": "csv-utf8",
                                   "sales": "xlsx", "market_daily": "csv-gbk",
                                   "audience": "xlsx", "events": "csv-utf8"}),
            planted={
                "rising": ("冰丝防晒衣", "防晒衣骑行", "upf50+防晒衣", "防晒衣oversize"),
                "sustained": ("冰丝防晒衣",),
                "falling": ("纯棉防晒衣", "防晒衣韩版", "小清新防晒衣", "短款防晒衣"),
                "seasonal_only": ("防晒衣", "防晒服", "冰袖", "防晒帽", "保暖冲锋衣"),
                "bait": "保暖冲锋衣",
                "blue_ocean": ("钓鱼防晒衣", "防晒衣带面罩", "大码防晒衣", "防晒衣男"),
                "breakout": "凉感披肩",
            },
            rising_factor=2.2, falling_factor=0.45, sustained_factor=2.8, band_boost=3.2,
            band_kept_share=0.35, affiliate_share=1.2, moved_share=0.45,
            affiliate_start="2026-04-20", affiliate_drop="2026-08-10",
            paid_shift_date="2026-07-22", volume=0.8,
        )
    if name == "坚果礼盒":
        return Profile(
            name=name, category="坚果礼盒",
            heads={"坚果礼盒": 36000, "每日坚果": 22000, "零食大礼包": 14000, "干果礼盒": 12000,
                   "年货礼盒": 10000, "混合坚果": 8000, "夏威夷果": 7000, "碧根果": 6500},
            modifiers={
                "material": ("腰果", "巴旦木", "核桃", "开心果", "榛子", "松子"),
                "function": ("原味", "盐焗", "奶油味", "低糖", "无添加", "炭烧"),
                "size": ("500g", "750g", "1kg", "1.5kg", "30袋", "15袋"),
                "crowd": ("孕妇", "儿童", "老人", "送礼", "员工福利", "团购"),
                "style": ("高档", "罐装", "独立小包装", "网红", "国潮"),
            },
            brands=("三只松鼠", "良品铺子", "百草味", "沃隆", "洽洽", "来伊份", "姚生记",
                    "新农哥"),
            leaves={"坚果礼盒": 0.6, "每日坚果": 0.25, "混合坚果": 0.15},
            attributes={
                "material": {"混合": 0.6, "腰果": 0.12, "碧根果": 0.1, "夏威夷果": 0.1,
                             "松子": 0.08},
                "function": {"原味": 0.4, "盐焗": 0.3, "奶油味": 0.24, "低糖": 0.06},
                "style": {"礼盒装": 0.55, "袋装": 0.3, "罐装": 0.15},
                "size": {"500g": 0.25, "750g": 0.2, "1kg": 0.3, "1.5kg": 0.15, "2kg": 0.1},
            },
            size_header="规格",
            advantages=(("material", "松子"), ("function", "低糖"), ("size", "2kg")),
            our_shop="果然鲜旗舰店",
            competitors=("仁心坚果旗舰店", "松林食品专营店", "每日优果旗舰店", "丰年礼品旗舰店",
                         "小壳零食的店", "山里红特产专营店"),
            brand_shops=("三只松鼠", "良品铺子", "百草味", "沃隆", "洽洽", "来伊份"),
            shop_words=(tuple("丰禾果仁鲜甜香福满山田谷"),
                        ("食品", "零食", "坚果", "特产", "优选", "铺子")),
            title_words=("年货", "送礼", "新货", "整箱", "过年", "礼品", "送长辈", "团购"),
            season_peak=20.0, season_scale=0.5, food_peak=1.1,
            promo_response={"年货节": 2.5, "618": 0.5, "双11": 0.8, "双12": 1.0},
            price_median=99.0, price_spread=0.45, band_position=1.25, band_width=1.3,
            n_shops=110, n_tail=80,
            province="江苏", city="北京", peak_hour=10, female_share=0.58,
            shapes=Shapes(audience_hours_only=True, keywords_no_online_items=True,
                          formats={"keywords": "csv-gbk", "items": "csv-gbk",
                                   "traffic": "csv-gbk", "sales": "xlsx",
                                   "market_daily": "csv-gbk", "audience": "xlsx",
                                   "events": "csv-utf8"}),
            planted={
                "rising": ("低糖坚果礼盒", "松子坚果礼盒", "坚果礼盒员工福利", "无添加每日坚果"),
                "sustained": ("低糖坚果礼盒",),
                "falling": ("坚果礼盒网红", "罐装坚果礼盒", "炭烧坚果礼盒", "坚果礼盒15袋"),
                "seasonal_only": ("坚果礼盒", "年货礼盒", "零食大礼包", "干果礼盒",
                                  "坚果冰淇淋"),
                "bait": "坚果冰淇淋",
                "blue_ocean": ("孕妇坚果礼盒", "坚果礼盒2kg", "老人坚果礼盒", "松子礼盒"),
                "breakout": "冻干坚果脆",
            },
            rising_factor=1.6, falling_factor=0.55, sustained_factor=2.2, band_boost=2.8,
            band_kept_share=0.4, affiliate_share=0.6, moved_share=0.35,
            affiliate_start="2026-07-20", affiliate_drop="2026-09-14",
            paid_shift_date="2026-08-19", volume=0.7,
        )
    if name == "数据线":
        return Profile(
            name=name, category="数据线",
            heads={"数据线": 45000, "充电线": 26000, "快充线": 18000, "typec数据线": 16000,
                   "苹果数据线": 14000, "安卓数据线": 6000, "编织数据线": 4000},
            modifiers={
                "material": ("编织", "尼龙", "硅胶", "液态硅胶", "铝合金", "tpe"),
                "function": ("快充", "100w", "66w", "120w", "三合一", "弯头", "磁吸", "伸缩"),
                "size": ("1米", "1.5米", "2米", "3米", "短"),
                "crowd": ("苹果", "华为", "小米", "车载", "学生", "办公"),
                "style": ("透明", "彩色", "卡通", "游戏", "简约"),
            },
            brands=("绿联", "倍思", "品胜", "公牛", "小米", "酷态科", "安克", "罗马仕"),
            leaves={"数据线": 1.0},
            attributes={
                "material": {"tpe": 0.55, "编织": 0.3, "液态硅胶": 0.05, "铝合金": 0.1},
                "function": {"快充": 0.6, "普通充电": 0.25, "120w": 0.05, "三合一": 0.1},
                "style": {"简约": 0.6, "彩色": 0.25, "透明": 0.15},
                "color": {c: 1.0 for c in ("白色", "黑色", "灰色", "蓝色")},
                "size": {"1米": 0.4, "1.5米": 0.25, "2米": 0.25, "3米": 0.1},
            },
            size_header="规格",
            advantages=(("material", "液态硅胶"), ("function", "120w")),
            our_shop="电小满旗舰店",
            competitors=("极充数码旗舰店", "闪电配件专营店", "线立方旗舰店", "酷电数码旗舰店",
                         "小米粒数码的店", "通达配件专营店"),
            brand_shops=("绿联", "倍思", "品胜", "公牛", "酷态科", "安克"),
            shop_words=(tuple("闪极酷电乐通捷速联优星云"),
                        ("数码", "配件", "电子", "科技", "3c", "优品")),
            title_words=("快充", "适用", "手机", "加长", "耐用", "正品", "原装", "车载"),
            season_peak=320.0, season_scale=0.15, food_peak=0.0,
            promo_response={"618": 1.2, "双11": 1.4},
            price_median=19.0, price_spread=0.45, band_position=1.2, band_width=1.35,
            n_shops=100, n_tail=80,
            province="广东", city="深圳", peak_hour=22, female_share=0.41,
            shapes=Shapes(english_headers=("keywords", "items", "market_daily"),
                          formats={"keywords": "csv-utf8", "items": "csv-utf8",
                                   "traffic": "csv-utf8", "sales": "xls",
                                   "market_daily": "csv-utf8", "audience": "xlsx",
                                   "events": "csv-utf8"}),
            planted={
                "rising": ("120w数据线", "液态硅胶数据线", "数据线弯头", "磁吸数据线"),
                "sustained": ("120w数据线",),
                "falling": ("数据线卡通", "伸缩数据线", "尼龙数据线", "数据线3米"),
                "seasonal_only": ("学生数据线", "车载数据线", "数据线游戏"),
                "bait": "车载数据线",
                "blue_ocean": ("数据线三合一", "铝合金数据线", "数据线办公", "tpe数据线"),
                "breakout": "240w氮化镓线",
            },
            rising_factor=2.6, falling_factor=0.4, sustained_factor=2.4, band_boost=3.0,
            band_kept_share=0.3, affiliate_share=0.9, moved_share=0.55,
            affiliate_start="2026-04-13", affiliate_drop="2026-07-13",
            paid_shift_date="2026-09-09", volume=0.9,
            extra={"seasonal_peaks": {"学生数据线": 245.0, "车载数据线": 30.0,
                                      "数据线游戏": 200.0}},
        )
    if name == "扫地机器人":
        return Profile(
            name=name, category="扫地机器人",
            heads={"扫地机器人": 40000, "扫拖一体机": 18000, "洗地机": 16000, "吸尘器": 14000,
                   "扫地机": 12000, "拖地机器人": 7000},
            modifiers={
                "material": ("激光导航", "视觉导航", "dtof", "陀螺仪"),
                "function": ("自动集尘", "自清洁", "热水洗拖布", "避障", "拖布抬升", "上下水",
                             "全能基站"),
                "size": ("超薄", "小户型", "大户型", "家用"),
                "crowd": ("宠物家庭", "懒人", "家用", "送父母"),
                "style": ("智能", "全自动", "静音", "高端"),
            },
            brands=("科沃斯", "石头", "追觅", "云鲸", "米家", "美的", "海尔", "小狗"),
            leaves={"扫地机器人": 1.0},
            attributes={
                "material": {"激光导航": 0.55, "视觉导航": 0.3, "dtof": 0.05, "陀螺仪": 0.1},
                "function": {"自动集尘": 0.4, "自清洁": 0.35, "热水洗拖布": 0.05, "避障": 0.2},
                "style": {"白色": 0.6, "黑色": 0.3, "银色": 0.1},
                "size": {"标准版": 0.5, "基站版": 0.4, "上下水版": 0.1},
            },
            size_header="规格",
            advantages=(("material", "dtof"), ("function", "热水洗拖布")),
            our_shop="净小智旗舰店",
            competitors=("清扫侠旗舰店", "洁宝电器专营店", "智扫家电旗舰店", "家净科技旗舰店",
                         "小净电器的店", "安居电器专营店"),
            brand_shops=("科沃斯", "石头", "追觅", "云鲸", "美的", "海尔"),
            shop_words=(tuple("净洁智安家宜优云扫"), ("电器", "家电", "科技", "智能", "生活")),
            title_words=("全自动", "家用", "智能", "新款", "旗舰", "扫拖洗", "吸扫拖"),
            season_peak=318.0, season_scale=0.5, food_peak=0.0,
            promo_response={"618": 1.8, "双11": 2.3, "双12": 0.8, "年货节": 0.3},
            price_median=2200.0, price_spread=0.3, band_position=1.15, band_width=1.25,
            n_shops=70, n_tail=70,
            province="上海", city="上海", peak_hour=20, female_share=0.47,
            shapes=Shapes(leaf_only=True, audience_hours_only=True,
                          keywords_no_online_items=True, keywords_no_tmall_share=True,
                          formats={t: "xlsx" for t in TABLES}
                          | {"keywords": "csv-utf8", "events": "csv-utf8"}),
            planted={
                "rising": ("dtof扫地机器人", "热水洗拖布扫地机器人", "扫地机器人宠物家庭",
                           "全能基站扫地机器人"),
                "sustained": ("全能基站扫地机器人",),
                "falling": ("陀螺仪扫地机器人", "扫地机器人懒人", "视觉导航扫地机器人",
                            "扫地机器人静音"),
                "seasonal_only": ("扫地机器人", "扫拖一体机", "洗地机", "除螨仪"),
                "bait": "除螨仪",
                "blue_ocean": ("上下水扫地机器人", "扫地机器人送父母", "超薄扫地机器人",
                               "扫地机器人避障"),
                "breakout": "机械臂扫地机",
            },
            rising_factor=1.5, falling_factor=0.6, sustained_factor=2.0, band_boost=2.9,
            band_kept_share=0.45, affiliate_share=0.4, moved_share=0.3,
            affiliate_start="2026-08-03", affiliate_drop="2026-10-05",
            paid_shift_date="2026-04-22", volume=0.6,
        )
    raise KeyError(name)


#: the named profiles (保温杯 first)
PROFILE_NAMES: tuple[str, ...] = ("保温杯", "防晒衣", "坚果礼盒", "数据线", "扫地机器人")


# ----------------------------------------------------------------------------- random

#: category pools of random markets: head word, core nouns, materials, functions, sizes,
#: a breakout word; styles, crowds, colours and brands come from shared pools
_POOLS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...],
                    str], ...] = (
    ("瑜伽垫", ("瑜伽垫", "健身垫", "运动垫", "地垫", "防滑垫"), ("tpe", "nbr", "天然橡胶", "pu"),
     ("防滑", "加厚", "折叠", "隔音", "体位线"), ("6mm", "8mm", "10mm", "15mm"), "悬浮瑜伽垫"),
    ("蓝牙耳机", ("蓝牙耳机", "无线耳机", "耳机", "降噪耳机", "运动耳机"), ("入耳式", "半入耳",
     "头戴式", "骨传导"), ("降噪", "长续航", "低延迟", "防水", "通话降噪"), ("迷你", "标准",
     "大电池"), "开放式耳夹"),
    ("台灯", ("台灯", "护眼灯", "学习灯", "床头灯", "落地灯"), ("金属", "塑料", "木质", "亚克力"),
     ("护眼", "无频闪", "充电", "触控", "调光"), ("小号", "中号", "大号"), "全光谱台灯"),
    ("收纳箱", ("收纳箱", "收纳盒", "整理箱", "储物箱", "衣物收纳"), ("塑料", "布艺", "藤编",
     "pp"), ("折叠", "带轮", "防潮", "可叠加", "带盖"), ("小号", "中号", "大号", "特大号"),
     "磁吸收纳盒"),
    ("猫砂", ("猫砂", "豆腐猫砂", "膨润土猫砂", "混合猫砂", "水晶猫砂"), ("豆腐", "膨润土",
     "松木", "水晶"), ("除臭", "结团", "无尘", "可冲厕所"), ("6l", "10kg", "20斤", "40斤"),
     "冻干猫砂"),
    ("电热毯", ("电热毯", "电褥子", "加热垫", "暖身毯", "电热垫"), ("法兰绒", "水暖", "珊瑚绒",
     "棉"), ("双控", "智能定时", "除螨", "调温"), ("单人", "双人", "1.8米", "1.5米"),
     "石墨烯电热毯"),
    ("茶叶", ("茶叶", "绿茶", "红茶", "乌龙茶", "普洱茶"), ("明前", "高山", "古树", "有机"),
     ("浓香", "清香", "回甘", "特级"), ("50g", "250g", "500g", "礼盒装"), "冷泡茶包"),
)
_STYLE_POOL = ("简约", "ins风", "高颜值", "国潮", "复古", "可爱", "北欧", "轻奢", "日式",
               "韩版", "工业风", "奶油风")
_CROWD_POOL = ("学生", "女生", "男士", "儿童", "老人", "宝宝", "情侣", "家用", "办公室",
               "宿舍", "送礼", "上班族")
_COLOR_POOL = ("白色", "黑色", "粉色", "蓝色", "绿色", "灰色", "米色", "紫色", "卡其色")
_SYLLABLES = tuple("米优极乐悦途禾森澜朗卡摩维诺思鹿木汐岚蓝拓")
_PROVINCES = (("广东", "广州"), ("浙江", "杭州"), ("江苏", "苏州"), ("山东", "青岛"),
              ("上海", "上海"), ("北京", "北京"), ("四川", "成都"))


def _random_profile(seed: int) -> Profile:
    """A market drawn from ``seed`` (see the module docstring)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 16]))

    def pick(pool: tuple[str, ...], k: int) -> tuple[str, ...]:
        return tuple(pool[i] for i in sorted(rng.choice(len(pool), min(k, len(pool)),
                                                         replace=False)))

    cat, cores, materials, functions, sizes, breakout = _POOLS[rng.integers(len(_POOLS))]
    styles, crowds, colors = pick(_STYLE_POOL, 6), pick(_CROWD_POOL, 6), pick(_COLOR_POOL, 5)
    brands: list[str] = []
    while len(brands) < 8:
        b = "".join(rng.choice(_SYLLABLES, 2, replace=False))
        if b not in brands:
            brands.append(b)
    levels = np.sort(np.exp(rng.uniform(np.log(4000), np.log(30000), len(cores) - 1)))[::-1]
    heads = {cat: int(rng.uniform(30000, 50000)), **{c: int(v) for c, v in
                                                    zip(cores[1:], levels, strict=True)}}
    median = float(np.exp(rng.uniform(np.log(9), np.log(3000))))
    amp = float(rng.choice([0.1, 0.5, 1.0, 1.6, 2.2]))
    peak = float(rng.uniform(0, 365))
    food = float(rng.choice([0.0, 0.0, 0.0, 0.8]))
    promos = {"618": float(rng.uniform(0.5, 2.0)), "双11": float(rng.uniform(0.6, 2.4))}
    if rng.random() < 0.7:
        promos["双12"] = float(rng.uniform(0.4, 1.2))
    if rng.random() < 0.6 or food:
        promos["年货节"] = float(rng.uniform(0.3, 2.5))
    province, city = _PROVINCES[rng.integers(len(_PROVINCES))]
    adv_m, adv_f = materials[-1], functions[-1]
    mats = {m: w for m, w in zip(materials, (0.5, 0.3, 0.14, 0.06), strict=False)}
    funcs = {f: w for f, w in zip(functions, (0.4, 0.25, 0.2, 0.1, 0.05), strict=False)}
    mods = {"material": materials, "function": functions, "size": sizes, "crowd": crowds,
            "style": styles}
    # planted terms, all of the form modifier + category (distinct)
    combos = [m + cat for kind in ("material", "function", "style", "crowd", "size")
              for m in mods[kind]]
    order = [combos[i] for i in rng.permutation(len(combos))]
    bait = crowds[0] + cores[1]
    seasonal = (cat, cores[1], cores[2], bait)
    # a head word may also be spelled modifier + category (豆腐猫砂 = 豆腐 + 猫砂): a term
    # plays one role only, so the purely seasonal ones are taken out first
    order = [t for t in order if t not in seasonal]
    first = [adv_m + cat] if adv_m + cat in order else []
    rising = tuple(first + [t for t in order if t not in first][:4 - len(first)])
    rest = [t for t in order if t not in rising]
    falling, blue = tuple(rest[:4]), tuple(rest[4:8])
    shapes = Shapes(
        leaf_only=bool(rng.random() < 0.4), audience_hours_only=bool(rng.random() < 0.4),
        keywords_no_online_items=bool(rng.random() < 0.35),
        keywords_no_tmall_share=bool(rng.random() < 0.35),
        english_headers=tuple(t for t in ("keywords", "items", "traffic", "market_daily")
                              if rng.random() < 0.25),
        formats={t: str(rng.choice(["csv-gbk", "csv-utf8", "xlsx", "xls"]
                                   if t != "keywords" else ["csv-gbk", "csv-utf8"]))
                 for t in TABLES})
    # competitor events: the affiliate start and drop on Mondays 8–20 weeks apart (a spring
    # start runs over 618 to a summer drop), the paid-search shift on any day; each is
    # EVENT_CLEARANCE_DAYS clear of every promotion and holiday window (clear_of_windows)
    mondays = [np.datetime64("2026-03-02") + np.timedelta64(7 * k, "D") for k in range(33)]
    starts = [d for d in mondays if clear_of_windows(d)
              and any(clear_of_windows(d + np.timedelta64(7 * k, "D")) for k in range(8, 21))]
    start = starts[int(rng.integers(len(starts)))]
    drops = [start + np.timedelta64(7 * k, "D") for k in range(8, 21)]
    drops = [d for d in drops if clear_of_windows(d)]
    drop = drops[int(rng.integers(len(drops)))]
    shifts = [np.datetime64("2026-03-02") + np.timedelta64(k, "D") for k in range(230)]
    shifts = [d for d in shifts if clear_of_windows(d)]
    shift = shifts[int(rng.integers(len(shifts)))]
    shop_sfx = ("旗舰店", "专营店", "旗舰店", "旗舰店", "的店", "专营店")
    names: list[str] = []
    while len(names) < 6:
        word = "".join(rng.choice(_SYLLABLES, 2, replace=False))
        if word not in names and word not in brands:
            names.append(word)
    comps = tuple(b + mid + s for b, mid, s in zip(
        names, ("优品", "生活", "家居", "好物", "小", "百货"), shop_sfx, strict=True))
    return Profile(
        name="random", category=cat, heads=heads, modifiers=mods | {"color": colors},
        brands=tuple(brands), leaves={cat: 1.0},
        attributes={"material": mats, "function": funcs,
                    "style": {s: 1.0 for s in styles[:4]},
                    "color": {c: 1.0 for c in colors},
                    "size": {s: 1.0 for s in sizes}},
        size_header=str(rng.choice(["尺寸", "规格", "容量"])),
        advantages=(("material", adv_m), ("function", adv_f)),
        our_shop="".join(rng.choice(_SYLLABLES, 2, replace=False)) + "小铺旗舰店",
        competitors=comps, brand_shops=tuple(brands[:6]),
        shop_words=(_SYLLABLES, ("家居", "优品", "生活", "好物", "百货", "工坊")),
        title_words=styles[:3] + crowds[:3] + ("新款", "热卖"),
        season_peak=peak, season_scale=amp, food_peak=food, promo_response=promos,
        price_median=median, price_spread=float(rng.uniform(0.3, 0.6)),
        band_position=float(rng.uniform(1.12, 1.35)), band_width=float(rng.uniform(1.25, 1.45)),
        n_shops=int(rng.integers(60, 140)), n_tail=int(rng.integers(50, 110)),
        province=province, city=city, peak_hour=int(rng.choice([10, 14, 20, 21, 22])),
        female_share=float(rng.uniform(0.35, 0.8)), shapes=shapes,
        planted={"rising": rising, "sustained": rising[:1], "falling": falling,
                 "seasonal_only": seasonal, "bait": bait, "blue_ocean": blue,
                 "breakout": breakout},
        rising_factor=float(rng.uniform(1.5, 3.0)),
        falling_factor=float(rng.uniform(0.35, 0.6)),
        sustained_factor=float(rng.uniform(2.0, 3.0)),
        band_boost=float(rng.uniform(BAND_BOOST_FLOOR, 4.0)),
        band_kept_share=float(rng.uniform(0.25, 0.45)),
        affiliate_share=float(rng.uniform(0.4, 1.5)), moved_share=float(rng.uniform(0.3, 0.6)),
        affiliate_start=str(start), affiliate_drop=str(drop), paid_shift_date=str(shift),
        volume=float(rng.uniform(0.5, 1.0)),
    )


def get_profile(name: str = "保温杯", seed: int = 7) -> Profile:
    """The profile called ``name``, or one drawn from ``seed`` when ``name`` is ``"random"``.

    Raises
    ------
    UsageFault
        For an unknown name, naming the nearest choices.
    """
    if name == "random":
        return _random_profile(seed)
    if name == "保温杯":
        return _BAOWENBEI
    if name in PROFILE_NAMES:
        return _named(name)
    near = difflib.get_close_matches(name, [*PROFILE_NAMES, "random"], n=3, cutoff=0.0)
    raise UsageFault(f"unknown sample profile {name!r}; nearest: {', '.join(near)} "
                     f"(all: {', '.join(PROFILE_NAMES)}, random)")
