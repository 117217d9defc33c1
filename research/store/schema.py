"""The canonical tables of the data contract (``shared/docs/data-contract.md``).

Each table is a list of :class:`Column` with its type, whether it is required, its header
aliases (Chinese and English) and its allowed range, plus the table's key. Ingest maps an
export's headers onto these, analyses read these names from the warehouse.

Columns beyond the contract (allowed: "the code may add columns, never drop these"):

- ``items.currency``, ``sales.currency`` — ISO code, ``CNY`` unless a public-data adapter says
  otherwise; prices of Amazon India are rupees, not yuan.
- ``items.leaf_category`` — the listing's leaf category (叶子类目) within the studied
  ``category`` (the category the export was taken for).
- ``items.category_en`` — an English label of the category where the source has one (Olist).
- ``items.attributes`` — JSON object of any further ``属性``/attribute columns.
- ``traffic.channel_raw`` — the channel name as exported; ``channel`` is the canonical code.
- ``traffic.trade_index`` — ``交易指数`` is an *index*, so it is kept apart from
  ``payment_amount`` (money) instead of being stored as an alias of it.
- ``traffic.page_views``, ``traffic.carts``, ``traffic.favorites`` — funnel counts.
- ``market_daily.orders``, ``market_daily.payment_amount`` — real counts and money where the
  source has them (public data) rather than indices.
- ``audience.buyers`` — the buyer count behind a share, where known.
- ``sales.freight`` — freight paid by the buyer (Olist); not the seller's cost.
- ``sales.shop``, ``sales.price`` — our shop's name and the item's selling price that day.
- ``sales.category`` — the category of the row where the export has one (``类目``); our sales
  are tied to a study's category by it where filled, else through ``items``
  (:func:`research.store.scope.our_sales`).
- ``events`` — promotion and event calendar rows (date, name, kind), forecast inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Column",
    "Table",
    "TABLES",
    "CHANNELS",
    "CHANNEL_GROUPS",
    "CHANNEL_ALIASES",
    "AUDIENCE_DIMENSIONS",
    "normalise_header",
    "table",
]

Kind = Literal["date", "text", "id", "float", "int", "share", "bool"]


@dataclass(frozen=True)
class Column:
    """One canonical column.

    Parameters
    ----------
    name : str
        Canonical (English, snake_case) name.
    kind : {"date", "text", "id", "float", "int", "share", "bool"}
        ``share`` is a fraction stored 0–1 (exports show "12.34%"); ``id`` is text that must
        never pass through a float.
    required : bool
        Must be present (under its name or an alias) for the file to load.
    aliases : tuple of str
        Header spellings accepted for this column, besides ``name``.
    minimum, maximum : float or None
        Allowed range, inclusive unless ``exclusive_min``.
    exclusive_min : bool
        ``price > 0`` rather than ``≥ 0``.
    label : str
        The Chinese label used in messages and reports.
    """

    name: str
    kind: Kind
    required: bool = False
    aliases: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    exclusive_min: bool = False
    label: str = ""

    def expectation(self) -> str:
        """Describe in words what a valid value of this column looks like."""
        base = {
            "date": "a date such as 2026-11-01 or 2026/11/01",
            "text": "text",
            "id": "an identifier",
            "float": "a number",
            "int": "a whole number",
            "share": "a percentage such as 12.34% or a fraction such as 0.1234",
            "bool": "是/否, true/false or 1/0",
        }[self.kind]
        if self.minimum is not None:
            sign = ">" if self.exclusive_min else "≥"
            lo = "0" if self.minimum == 0 else f"{self.minimum:g}"
            base += f" {sign} {lo}"
        if self.maximum is not None:
            base += " and ≤ 100%" if self.kind == "share" else f" and ≤ {self.maximum:g}"
        return base


@dataclass(frozen=True)
class Table:
    """A canonical table: its columns and key."""

    name: str
    label: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    #: columns that only make sense in this table: a file that has one of them but not this
    #: table's required columns is refused rather than loaded into another table
    signature: tuple[str, ...] = field(default=())

    @property
    def required(self) -> list[str]:
        """Names of the required columns."""
        return [c.name for c in self.columns if c.required]

    @property
    def names(self) -> list[str]:
        """Names of all canonical columns, in order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


def _c(name: str, kind: Kind, *aliases: str, req: bool = False, lo: float | None = None,
       hi: float | None = None, gt: bool = False, label: str = "") -> Column:
    return Column(name, kind, req, tuple(aliases), lo, hi, gt, label or (aliases[0] if aliases else name))


KEYWORDS = Table(
    "keywords", "搜索词",
    (
        _c("date", "date", "日期", "统计日期", "时间", req=True),
        _c("category", "text", "类目", "行业类目", "类目名称", req=True),
        _c("keyword", "text", "搜索词", "关键词", "search_term", "term", req=True),
        _c("search_popularity", "float", "搜索人气", "popularity", "interest", req=True, lo=0),
        _c("search_heat", "float", "搜索热度", lo=0),
        _c("click_rate", "share", "点击率", "ctr", lo=0),
        _c("click_popularity", "float", "点击人气", lo=0),
        _c("click_heat", "float", "点击热度", lo=0),
        _c("conversion_rate", "share", "支付转化率", "转化率", "cvr", lo=0, hi=1),
        _c("online_items", "int", "在线商品数", "商品数", lo=0),
        _c("tmall_click_share", "share", "商城点击占比", lo=0, hi=1),
        _c("ppc_price", "float", "直通车参考价", "ppc", "cpc", lo=0),
    ),
    ("date", "category", "keyword"),
    ("keyword", "click_rate", "ppc_price", "tmall_click_share"),
)

ITEMS = Table(
    "items", "市场商品",
    (
        _c("snapshot_date", "date", "日期", "采集日期", "快照日期", "date", req=True),
        _c("item_id", "id", "商品ID", "宝贝ID", "商品id", "宝贝id", "id", req=True),
        _c("shop", "text", "店铺", "店铺名称", "店铺名", "seller", req=True),
        _c("title", "text", "商品标题", "宝贝标题", "标题", "商品名称"),
        _c("category", "text", "类目", "行业类目", "类目名称", req=True),
        _c("leaf_category", "text", "叶子类目"),
        _c("price", "float", "价格", "售价", "券后价", "单价", req=True, lo=0, gt=True),
        _c("sales_30d", "int", "月销量", "30天销量", "销量", "近30天销量", req=True, lo=0),
        _c("revenue_30d", "float", "交易金额", "销售额", "近30天销售额", lo=0),
        _c("is_tmall", "bool", "是否天猫", "天猫", "tmall"),
        _c("material", "text", "材质"),
        _c("color", "text", "颜色", "colour"),
        _c("size", "text", "尺寸", "容量", "规格", "capacity"),
        _c("function", "text", "功能"),
        _c("style", "text", "风格"),
        _c("unit_cost", "float", "成本", "单件成本", lo=0),
        _c("brand", "text", "品牌"),
        _c("currency", "text", "币种", "货币"),
        _c("category_en", "text"),
        _c("attributes", "text"),
    ),
    ("snapshot_date", "item_id"),
    ("sales_30d", "price", "title"),
)

TRAFFIC = Table(
    "traffic", "流量来源",
    (
        _c("date", "date", "日期", "统计日期", req=True),
        _c("shop", "text", "店铺", "竞品店铺", "店铺名称", "竞品", req=True),
        _c("item_id", "id", "商品ID", "宝贝ID"),
        _c("channel", "text", "流量来源", "来源", "渠道", "source", req=True),
        _c("visitors", "int", "访客数", "uv", req=True, lo=0),
        _c("buyers", "int", "支付买家数", "买家数", lo=0),
        _c("payment_amount", "float", "支付金额", lo=0),
        _c("trade_index", "float", "交易指数", lo=0),
        _c("page_views", "int", "浏览量", "pv", lo=0),
        _c("carts", "int", "加购人数", "加购数", lo=0),
        _c("favorites", "int", "收藏人数", "收藏数", lo=0),
        _c("channel_raw", "text"),
    ),
    ("date", "shop", "item_id", "channel_raw"),
    ("channel",),
)

SALES = Table(
    "sales", "经营数据",
    (
        _c("date", "date", "日期", "统计日期", req=True),
        _c("item_id", "id", "商品ID", "宝贝ID", req=True),
        _c("units", "int", "支付件数", "销量", "件数", req=True, lo=0),
        _c("revenue", "float", "支付金额", "销售额", req=True, lo=0),
        _c("visitors", "int", "访客数", lo=0),
        _c("buyers", "int", "支付买家数", "买家数", lo=0),
        _c("unit_cost", "float", "成本", "单件成本", lo=0),
        _c("ad_spend", "float", "推广花费", "广告花费", lo=0),
        _c("refunds", "float", "退款金额", lo=0),
        _c("shop", "text", "店铺", "店铺名称"),
        _c("price", "float", "价格", "售价", lo=0),
        _c("currency", "text", "币种", "货币"),
        _c("freight", "float", "运费", lo=0),
        _c("category", "text", "类目", "类目名称"),
    ),
    ("date", "item_id"),
    ("units", "ad_spend", "refunds"),
)

MARKET_DAILY = Table(
    "market_daily", "行业大盘",
    (
        _c("date", "date", "日期", "统计日期", req=True),
        _c("category", "text", "类目", "行业类目", req=True),
        _c("trade_index", "float", "交易指数", lo=0),
        _c("visitors", "int", "访客数", lo=0),
        _c("buyers", "int", "支付买家数", lo=0),
        _c("search_popularity", "float", "搜索人气", lo=0),
        _c("items_online", "int", "在线商品数", lo=0),
        _c("orders", "int", "订单数", lo=0),
        _c("payment_amount", "float", "支付金额", lo=0),
    ),
    ("date", "category"),
    ("trade_index", "orders"),
)

AUDIENCE = Table(
    "audience", "人群画像",
    (
        _c("snapshot_date", "date", "日期", "统计日期", req=True),
        _c("category", "text", "类目", "行业类目", req=True),
        _c("dimension", "text", "维度", "画像维度", req=True),
        _c("segment", "text", "分段", "人群", "细分", "属性值", req=True),
        _c("share", "share", "支付买家占比", "占比", req=True, lo=0, hi=1),
        _c("buyers", "int", "支付买家数", lo=0),
    ),
    ("snapshot_date", "category", "dimension", "segment"),
    ("dimension", "segment", "share"),
)

EVENTS = Table(
    "events", "活动日历",
    (
        _c("date", "date", "日期", req=True),
        _c("name", "text", "活动", "活动名称", "事件", "event", req=True),
        _c("kind", "text", "类型", "活动类型", "type"),
    ),
    ("date", "name"),
    ("name",),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (KEYWORDS, ITEMS, TRAFFIC, SALES, MARKET_DAILY, AUDIENCE, EVENTS)
}

#: canonical channel codes, in the order reports show them
CHANNELS = ["organic_search", "paid_search", "display", "affiliate", "feed", "direct",
            "cart_fav", "content", "other"]

#: how the platform groups channels (metrics.md, "Traffic channels")
CHANNEL_GROUPS = {
    "organic_search": "free", "feed": "free", "content": "free",
    "paid_search": "paid", "display": "paid", "affiliate": "paid",
    "direct": "own", "cart_fav": "own",
    "other": "other",
}

#: exported channel names → canonical code; unknown names map to "other" and are listed
CHANNEL_ALIASES = {
    "手淘搜索": "organic_search", "搜索": "organic_search", "自然搜索": "organic_search",
    "淘宝搜索": "organic_search", "organic_search": "organic_search",
    "直通车": "paid_search", "付费搜索": "paid_search", "paid_search": "paid_search",
    "引力魔方": "display", "钻展": "display", "超级推荐": "display", "钻石展位": "display",
    "万相台": "display", "display": "display",
    "淘宝客": "affiliate", "淘宝联盟": "affiliate", "affiliate": "affiliate",
    "手淘推荐": "feed", "猜你喜欢": "feed", "首页推荐": "feed", "feed": "feed",
    "直接访问": "direct", "direct": "direct",
    "购物车": "cart_fav", "我的淘宝": "cart_fav", "收藏": "cart_fav", "收藏夹": "cart_fav",
    "cart_fav": "cart_fav",
    "内容": "content", "逛逛": "content", "直播": "content", "淘宝直播": "content",
    "微淘": "content", "content": "content",
    "其他": "other", "其它": "other", "other": "other",
}

#: audience dimensions: code → exported names
AUDIENCE_DIMENSIONS = {
    "age": ("年龄", "年龄段"),
    "gender": ("性别",),
    "province": ("省份", "地域", "省"),
    "city": ("城市", "市"),
    "hour": ("时段", "小时", "成交时段"),
    "weekday": ("星期", "周几"),
    "spend_tier": ("消费层级", "消费层次"),
    "aov_band": ("客单价", "客单价分布", "客单价区间"),
}

_FULLWIDTH = str.maketrans(
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ（）％　",
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz()% ",
)


def normalise_header(header: object) -> str:
    """Fold an export header to the form aliases are matched in.

    Full-width letters and digits become half-width, a BOM, spaces and a trailing unit in
    brackets (``支付金额(元)``) are dropped, and Latin letters are lower-cased.

    Examples
    --------
    >>> normalise_header("\\ufeff 支付金额（元） ")
    '支付金额'
    >>> normalise_header("Search_Popularity")
    'search_popularity'
    """
    text = str(header).replace("\ufeff", "").translate(_FULLWIDTH).strip()
    if text.endswith(")") and "(" in text:
        text = text[: text.rindex("(")]
    return "".join(text.split()).lower()


def table(name: str) -> Table:
    """Return the canonical table called ``name``, with a clear error for an unknown one."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; the tables are {', '.join(TABLES)}") from None
