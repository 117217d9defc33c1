"""Sample markets: deterministic sets of platform exports for one category each, 2024-09-02 ..
2026-11-22, with every planted signal written to ``truth.json``.

``generate_sample(out_dir, seed, profile)`` writes the files a shop would download from 生意参谋
for the market of ``profile`` (:mod:`research.sample.profiles`: 保温杯 — the default and the
suite's seed-7 sample —, 防晒衣, 坚果礼盒, 数据线, 扫地机器人, or ``random``, a market drawn
from the seed). Every market has the same seven tables and file names; what differs is the
category's vocabulary, season, promotions, price level, sizes, audience, the strength of each
planted signal and the export shapes (below). 保温杯's shop also sells in a second category
(儿童水杯, :mod:`research.sample.second_category`): its own item snapshots, and its daily rows
in the same sales exports; other markets have none (truth ``second_category`` null).

The files are in the platform's shape: Chinese headers (aliases of :mod:`research.store.schema`)
or, for the tables a profile lists, the canonical English names; percent strings ("12.34%"),
thousands separators ("1,234") in some files, "-" for some missing optional values, dates as
``2026/11/01`` in some files and ``2026-11-01`` in others, 12-digit item IDs written as text;
GBK CSV, UTF-8 CSV with and without BOM, XLSX and XLS; some CSVs with preamble lines
(``统计时间：…``, ``类目：<category>``) above the header. The same seed and profile give the
same bytes; nothing time-dependent is written.

Export shapes (truth ``shapes``)
--------------------------------
- ``leaf_only``: the items exports carry ``叶子类目`` (= the category) and no ``类目``, and no
  ``类目：`` preamble line.
- ``audience_hours_only``: the audience has a 时段 (hour) dimension and no 星期 (weekday).
- ``keywords_no_online_items`` / ``keywords_no_tmall_share``: no ``在线商品数`` / no
  ``商城点击占比`` column in any keyword export.
- ``english_headers``: tables whose exports use the English names (``date``, ``keyword``,
  ``search_popularity`` …; :data:`ENGLISH`).
- ``size_header``: the items' size column (容量, 尺寸 or 规格).
- ``formats``: file → ``csv-gbk`` | ``csv-utf8`` | ``xlsx`` | ``xls``. 保温杯 keeps the mix in the
  table below; another profile writes every file of a table in its one format (its extension
  follows: ``kw_2025Q1.csv`` or ``.xlsx``/``.xls``).

Files (保温杯; other markets: the same stems, without ``items_kids_*``)
Files
-----
============================  ============  =================  ===============================
file                          table         format             notes
============================  ============  =================  ===============================
``kw_2024Q3.csv`` … ``kw_2026Q3.csv``, ``kw_2026-10.csv``
                              keywords      GBK CSV (CRLF)     quarters; odd ones with a
                                                               preamble and ``/`` dates, some
                                                               with thousands separators
``kw_2026-11.xlsx``           keywords      XLSX               the latest month (1–22 Nov)
``items_<snapshot>.xlsx/csv`` items         XLSX, UTF-8 BOM    8 Sunday snapshots; 10-11 and
                                            CSV, GBK CSV       10-25 omit 交易金额; 10-25 has
                                                               a preamble
``traffic_<n>.csv``           traffic       UTF-8 BOM CSV      one per shop; 0 = our shop
                                                               (支付金额), 1–6 competitors
                                                               (交易指数)
``items_kids_<snapshot>.csv`` items         UTF-8 BOM CSV      our 儿童水杯 listings only, 8
                                                               snapshots, preamble 类目：儿童水杯
``sales_<year>.xlsx``         sales         XLSX               our items daily (both categories;
                                                               the export names no category)
``market_daily.csv``          market_daily  GBK CSV, preamble
``audience.xlsx``             audience      XLSX, date cells   first day of each month
``events.csv``                events        UTF-8 CSV, no BOM  one row per promotion day
``truth.json``                —             UTF-8 JSON         the planted signals
============================  ============  =================  ===============================

truth.json keys
---------------
- ``seed``, ``profile`` (its name; ``random:<category>`` for a drawn one), ``currency``
  ("CNY"), ``category``, ``start``, ``end``: first and last day.
- ``season``: ``peak_doy`` (day of year of the category's peak), ``scale`` (amplitudes × this,
  1 = 保温杯's), ``amplitude`` (of the search curve: 0.4 × scale), ``food_peak`` (amplitude of
  the bump ~20 days before each CNY; 0: none).
- ``shapes``: see above.
- ``our_shop``; ``competitors`` (the six shops with traffic exports; the first is the rising
  leader, the second runs the affiliate campaign, the third shifts to paid search).
- ``promotions``: ``[{name, start, end, uplift, peak, response}]`` — the windows of the
  promotions this category answers (of 年货节, 618, 双11, 双12) touching the range, from the
  generator's own calendar (CNY dates are its constants, :data:`research.sample.common.CNY_DATES`);
  ``uplift`` is the planted search-demand multiplier on the window's peak day ``peak`` (sales
  follow it to the power 1.7, traffic 1.2), ``response`` the profile's scale of the uplift;
  ``holidays``: the same for 春节 (couriers stop, sales fall; in events with 类型 节假日).
- ``keywords``: ``rising`` = ``rising_recent`` (terms that accelerate against their season
  from ``change_start``: × ``rising_factor`` of their seasonal level by the end, ramping
  log-linearly) + ``rising_sustained`` (terms that climb log-linearly for the whole last year,
  from ``sustained_start``, to ``sustained_factor`` × their level a year earlier, season
  aside); ``falling`` (× ``falling_factor`` from ``change_start``); ``seasonal_only`` (big,
  strongly seasonal terms with no trend and no change), among them ``bait`` {term, peak_doy,
  category_peak_doy} (a purely seasonal term whose season is not the category's: 运动水壶 in
  summer for 保温杯 — a false flag for a rule that reads its season as a trend);
  ``breakout`` (``term`` with no rows before ``first_date``, then ~×100 in 12 weeks;
  ``breakout_week`` = the first ISO week in which its *planted* mean daily 搜索人气 — the
  noise-free curve level × season × promotions × weekday, before noise and bucketing —
  reaches the median over the other terms of their planted mean daily 搜索人气 in the panel's
  last four ISO weeks: a function of the generator's parameters only); ``blue_ocean`` (high
  popularity, conversion 18–24 %, online items < popularity, 商城点击占比 8–15 %), ``terms``
  (how many terms), ``category``.
- ``prices``: ``band_edges`` (right-closed bands, last edge 1e9 = no upper limit),
  ``underserved_band`` [lo, hi] (prices in (lo, hi]; ~30 % of the listings that would fall
  there were moved out, and those left sell ``band_boost`` × more; its edges come from the
  profile's price level and are never on the round-price ladder …9), ``unit_cost_ok`` (leaves
  ≥ 30 % margin at any price in the band), ``unit_cost_unprofitable`` (above the band's
  prices), ``trick_price_items`` (trick listings on every snapshot: two at 0.01, two at 1 with
  拍下改价/补差价 titles, one at 9999 or more), ``trick_item_ids``, ``band_boost`` (sales
  multiplier of listings in the band), ``band_kept_share`` (share of would-be band listings
  left in it), ``price_median``, ``price_spread`` (log-normal prices around the median).
- ``traffic``: ``affiliate`` {shop, channel "affiliate", channel_raw 淘宝客, start, drop
  (first day back at the old level), uplift (extra UV/day in between, before the weekday
  pattern), level (the channel's UV/day before season and promotions), uplift_share (uplift ÷
  level)}; dates drawn per market; ``paid_shift`` {shop, date (middle of a 7-day ramp), from, to, moved_share
  (share of 手淘搜索 visitors moved to 直通车)}; ``quiet`` [[shop, channel code]] pairs with
  only season, weekday pattern, promotions and noise; ``unknown_channel`` (淘宝特价版, one
  shop, the contract maps it to "other"); ``shops`` (our shop first).
- ``market``: ``peak_hour`` (hour of the day with the most buyers), ``leading_province``,
  ``leading_city``, ``female_share``, ``rising_leader`` (shop whose share of 30-day units rises most over the
  snapshots, ~3.5 % → ~9 %).
- ``advantages``: ``[{attribute, value}]`` — values whose listings sell above their listing
  share, held by most of our listings and by almost no competitor.
- ``sales``: ``plan_week``, ``behind_weeks``, ``shortfall`` (units run this fraction below
  the seasonal expectation from ``behind_start``, the Monday of the first behind week),
  ``items`` (our listings).
- ``items``: ``snapshots``, ``distinct_items``, ``shops``, ``our_items`` (IDs).
- ``second_category`` (保温杯 only, else null): ``category`` (儿童水杯), ``shop``, ``our_items`` (IDs),
  ``leaf_categories``, ``sales_rows``, ``revenue``, ``revenue_share`` (Σ its revenue ÷ Σ our
  保温杯 revenue, ~0.3), ``revenue_share_by_week`` [min, max], ``shortfall`` (0: none),
  ``files`` (its item snapshots), ``note``. Everything of 保温杯 is byte-identical to a sample
  without it (its draws come from a separate spawned generator).
- ``files``: file name → {table, format ("csv"/"xlsx"), encoding ("gbk", "utf-8-sig",
  "utf-8" or "xlsx"), preamble (the lines above the header), rows (data rows)}.

Examples
--------
>>> import tempfile, json
>>> info = generate_sample(tempfile.mkdtemp(), seed=7)  # doctest: +SKIP
>>> sorted(info["rows"])  # doctest: +SKIP
['audience', 'events', 'items', 'keywords', 'market_daily', 'sales', 'traffic']
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from research.sample.common import (
    END,
    START,
    WEEKDAY,
    category_season,
    date_text,
    days,
    demand_multiplier,
    pct,
    promotion_windows,
    sig3,
    thousands,
    with_missing,
    write_csv,
    write_xlsx,
)
from research.sample.items import SNAPSHOTS, build_items, item_ids
from research.sample.keywords import build_keywords
from research.sample.profiles import Profile, get_profile
from research.sample.second_category import (
    SECOND_CATEGORY,
    build_second_items,
    build_second_sales,
    second_snapshots,
    second_truth,
)
from research.sample.shop import build_our_items, build_sales, build_traffic
from research.sample.xls import write_xls

__all__ = ["generate_sample", "AUDIENCE_PROFILE", "ENGLISH"]

#: audience dimension (exported name) → segments and their base shares of buyers (保温杯)
AUDIENCE_PROFILE: dict[str, dict[str, float]] = {
    "年龄": {"18岁以下": 3, "18-24岁": 17, "25-29岁": 22, "30-34岁": 21, "35-39岁": 15,
           "40-49岁": 14, "50岁及以上": 8},
    "性别": {"女": 62, "男": 38},
    "省份": {"广东": 14, "浙江": 10.5, "江苏": 9.5, "山东": 6.5, "上海": 6, "北京": 5.5, "河南": 5,
           "四川": 5, "福建": 4.5, "湖北": 4, "湖南": 3.8, "安徽": 3.5, "河北": 3.5, "辽宁": 2.5,
           "陕西": 2.5, "重庆": 2.4, "江西": 2.2, "广西": 2.1, "天津": 1.8, "云南": 1.6,
           "黑龙江": 1.5, "山西": 1.3, "吉林": 1.1, "贵州": 1.1, "内蒙古": 0.8, "新疆": 0.7,
           "甘肃": 0.6, "海南": 0.5, "宁夏": 0.3, "青海": 0.2, "西藏": 0.1},
    "城市": {"上海": 7.5, "北京": 6.5, "杭州": 5.5, "深圳": 5, "广州": 4.8, "成都": 4, "苏州": 3.5,
           "武汉": 3.2, "重庆": 3, "南京": 3, "西安": 2.5, "天津": 2.5, "郑州": 2.2, "长沙": 2.2,
           "东莞": 2, "宁波": 2, "佛山": 1.8, "青岛": 1.8, "合肥": 1.7, "厦门": 1.5},
    "时段": {f"{h}:00": v for h, v in enumerate(
        [1.6, 0.9, 0.5, 0.3, 0.2, 0.3, 0.7, 1.8, 3.0, 4.2, 5.0, 5.2, 5.0, 4.5, 4.4, 4.5, 4.4,
         4.2, 4.0, 4.6, 7.2, 9.6, 7.8, 3.6])},
    "星期": {"周一": 14, "周二": 13.5, "周三": 13.5, "周四": 13.8, "周五": 13.2, "周六": 15.4,
           "周日": 16.6},
    "消费层级": {"低": 14, "中低": 24, "中": 31, "中高": 21, "高": 10},
    "客单价": {"0-50": 21, "50-100": 33, "100-150": 20, "150-200": 12, "200-300": 9,
            "300以上": 5},
}

#: Chinese export header → canonical English name (research.store.schema), per table
ENGLISH: dict[str, dict[str, str]] = {
    "keywords": {"日期": "date", "类目": "category", "搜索词": "keyword",
                 "搜索人气": "search_popularity", "搜索热度": "search_heat", "点击率": "click_rate",
                 "点击人气": "click_popularity", "支付转化率": "conversion_rate",
                 "在线商品数": "online_items", "商城点击占比": "tmall_click_share",
                 "直通车参考价": "ppc_price"},
    "items": {"采集日期": "snapshot_date", "商品ID": "item_id", "店铺名称": "shop",
              "商品标题": "title", "类目": "category", "叶子类目": "leaf_category",
              "价格": "price", "月销量": "sales_30d", "交易金额": "revenue_30d",
              "是否天猫": "is_tmall", "材质": "material", "颜色": "color", "容量": "size",
              "尺寸": "size", "规格": "size", "功能": "function", "风格": "style"},
    "traffic": {"日期": "date", "店铺名称": "shop", "商品ID": "item_id", "流量来源": "channel",
                "访客数": "visitors", "支付买家数": "buyers", "支付金额": "payment_amount",
                "交易指数": "trade_index"},
    "sales": {"日期": "date", "店铺名称": "shop", "商品ID": "item_id", "支付件数": "units",
              "支付金额": "revenue", "访客数": "visitors", "支付买家数": "buyers",
              "单件成本": "unit_cost", "推广花费": "ad_spend", "退款金额": "refunds"},
    "market_daily": {"日期": "date", "类目": "category", "交易指数": "trade_index",
                     "访客数": "visitors", "支付买家数": "buyers",
                     "搜索人气": "search_popularity", "在线商品数": "items_online"},
    "audience": {"日期": "snapshot_date", "类目": "category", "维度": "dimension",
                 "分段": "segment", "支付买家占比": "share"},
    "events": {"日期": "date", "活动名称": "name", "类型": "kind"},
}
_SHAPE_NAME = {("csv", "gbk"): "csv-gbk", ("csv", "utf-8-sig"): "csv-utf8",
               ("csv", "utf-8"): "csv-utf8", ("xlsx", "xlsx"): "xlsx", ("xls", "xls"): "xls"}


# ----------------------------------------------------------------------------- writers

class _Out:
    """Collects the written files, their formats and row counts; writes a table's exports
    in the profile's shapes (format, English headers)."""

    def __init__(self, folder: Path, profile: Profile) -> None:
        self.folder = folder
        self.profile = profile
        self.files: dict[str, dict] = {}
        self.rows: dict[str, int] = {}

    def csv(self, name: str, table: str, frame: pd.DataFrame, encoding: str,
            preamble: tuple[str, ...] = (), crlf: bool = False) -> None:
        write_csv(self.folder / name, frame, encoding, preamble, crlf)
        self._note(name, table, "csv", encoding, preamble, len(frame))

    def xlsx(self, name: str, table: str, frame: pd.DataFrame,
             date_columns: tuple[str, ...] = ()) -> None:
        write_xlsx(self.folder / name, frame, date_columns=date_columns)
        self._note(name, table, "xlsx", "xlsx", (), len(frame))

    def shaped(self, stem: str, table: str, frame: pd.DataFrame,
               preamble: tuple[str, ...] = (), date_columns: tuple[str, ...] = (),
               fmt: str | None = None) -> str:
        """Write ``frame`` as ``stem`` + the extension of the profile's format for ``table``
        (or ``fmt``), with English headers when the profile says so; returns the file name."""
        shapes = self.profile.shapes
        fmt = fmt or (shapes.formats or {}).get(table, "csv-utf8")
        if table in shapes.english_headers:
            frame = frame.rename(columns=ENGLISH[table])
            date_columns = tuple(ENGLISH[table].get(c, c) for c in date_columns)
        if fmt == "xlsx":
            name = stem + ".xlsx"
            self.xlsx(name, table, frame, date_columns)
        elif fmt == "xls":
            name = stem + ".xls"
            write_xls(self.folder / name, frame, date_columns=date_columns)
            self._note(name, table, "xls", "xls", (), len(frame))
        else:
            name = stem + ".csv"
            if date_columns:
                frame = frame.assign(**{c: date_text(frame[c], slash=False).to_numpy()
                                        for c in date_columns})
            self.csv(name, table, frame, "gbk" if fmt == "csv-gbk" else "utf-8-sig", preamble,
                     crlf=fmt == "csv-gbk")
        return name

    def _note(self, name: str, table: str, fmt: str, encoding: str, preamble: tuple[str, ...],
              rows: int) -> None:
        self.files[name] = {"table": table, "format": fmt, "encoding": encoding,
                            "preamble": list(preamble), "rows": rows}
        self.rows[table] = self.rows.get(table, 0) + rows


def _span(start: pd.Timestamp, end: pd.Timestamp) -> str:
    return f"统计时间：{start:%Y-%m-%d} ~ {end:%Y-%m-%d}"


def _write_keywords(out: _Out, frame: pd.DataFrame, rng: np.random.Generator) -> None:
    p = out.profile
    cat = p.category
    legacy = p.shapes.formats is None
    periods = []
    for q in pd.period_range("2024Q3", "2026Q3", freq="Q"):
        periods.append((f"kw_{q}", max(q.start_time, START), q.end_time.normalize()))
    periods.append(("kw_2026-10", pd.Timestamp("2026-10-01"), pd.Timestamp("2026-10-31")))
    periods.append(("kw_2026-11", pd.Timestamp("2026-11-01"), END))
    for k, (name, lo, hi) in enumerate(periods):
        part = frame[(frame["date"] >= lo) & (frame["date"] <= hi)]
        xlsx = name == "kw_2026-11" and legacy
        slash, preamble, sep = k % 2 == 0 and not xlsx, k % 2 == 0 and not xlsx, k % 3 == 1
        long_tail = (part["term_kind"] == "long_tail").to_numpy()
        ppc = part["ppc_price"].map("{:.2f}".format).astype(object).to_numpy().copy()
        ppc[long_tail & (rng.random(len(part)) < 0.03)] = "-"
        shown = pd.DataFrame({
            "日期": date_text(part["date"], slash).to_numpy(),
            "类目": cat, "搜索词": part["keyword"].to_numpy(),
            "搜索人气": (thousands(part["search_popularity"]) if sep
                     else part["search_popularity"].astype(np.int64)).to_numpy(),
            "搜索热度": part["search_heat"].astype(np.int64).to_numpy(),
            "点击率": pct(part["click_rate"]).to_numpy(),
            "点击人气": part["click_popularity"].astype(np.int64).to_numpy(),
            "支付转化率": with_missing(pct(part["conversion_rate"]), rng, 0.005).to_numpy(),
            "在线商品数": (thousands(part["online_items"]) if sep
                      else part["online_items"].astype(np.int64)).to_numpy(),
            "商城点击占比": with_missing(pct(part["tmall_click_share"]), rng, 0.003).to_numpy(),
            "直通车参考价": ppc,
        })
        if p.shapes.keywords_no_online_items:
            shown = shown.drop(columns="在线商品数")
        if p.shapes.keywords_no_tmall_share:
            shown = shown.drop(columns="商城点击占比")
        pre = (_span(lo, hi), f"类目：{cat}") if preamble else ()
        if legacy:
            if xlsx:
                out.xlsx(f"{name}.xlsx", "keywords", shown)
            else:
                out.csv(f"{name}.csv", "keywords", shown, "gbk", pre, crlf=True)
        else:
            out.shaped(name, "keywords", shown, pre)


def _write_items(out: _Out, frame: pd.DataFrame, rng: np.random.Generator) -> None:
    p = out.profile
    legacy = p.shapes.formats is None
    forms = ["xlsx", "utf8", "xlsx", "gbk", "xlsx", "xlsx", "utf8", "xlsx"]
    for j, snap in enumerate(SNAPSHOTS):
        part = frame[frame["snapshot_date"] == snap].reset_index(drop=True)
        form = forms[j] if p.shapes.formats is None else p.shapes.formats["items"]
        csv = form not in ("xlsx", "xls")
        shown = pd.DataFrame({
            "采集日期": date_text(part["snapshot_date"], slash=j == 6).to_numpy(),
            "商品ID": part["item_id"].astype(str).to_numpy(),
            "店铺名称": part["shop"].to_numpy(), "商品标题": part["title"].to_numpy(),
            "类目": part["category"].to_numpy(), "叶子类目": part["leaf_category"].to_numpy(),
            "价格": (part["price"].map("{:.2f}".format) if csv else part["price"]).to_numpy(),
            "月销量": (thousands(part["sales_30d"]) if csv
                    else part["sales_30d"].astype(np.int64)).to_numpy(),
            "交易金额": (part["revenue_30d"].map("{:,.2f}".format) if csv
                     else part["revenue_30d"]).to_numpy(),
            "是否天猫": np.where(part["is_tmall"], "是", "否"),
            "材质": part["material"].to_numpy(),
            "颜色": with_missing(part["color"], rng, 0.01).to_numpy(),
            p.size_header: part["size"].to_numpy(), "功能": part["function"].to_numpy(),
            "风格": with_missing(part["style"], rng, 0.04).to_numpy(),
        })
        if "color" not in p.attributes:
            shown = shown.drop(columns="颜色")
        if j in (1, 3):
            shown = shown.drop(columns="交易金额")
        if p.shapes.leaf_only:
            # one leaf category's export: 叶子类目 alone is the category
            shown = shown.drop(columns="类目")
            shown["叶子类目"] = p.category
        name = f"items_{snap:%Y-%m-%d}"
        pre = (f"统计时间：{snap:%Y-%m-%d}",) + (() if p.shapes.leaf_only
                                              else (f"类目：{p.category}",))
        if not legacy:
            out.shaped(name, "items", shown, pre if j == 3 else ())
        elif form == "xlsx":
            out.xlsx(name + ".xlsx", "items", shown)
        elif form == "gbk":
            out.csv(name + ".csv", "items", shown, "gbk", pre, crlf=True)
        else:
            out.csv(name + ".csv", "items", shown, "utf-8-sig")


def _write_second_items(out: _Out, frame: pd.DataFrame) -> list[str]:
    """Our listings of the second category, one UTF-8 (BOM) CSV per snapshot with a
    preamble naming the category; returns the file names."""
    names = []
    for snap, part in frame.groupby("snapshot_date", sort=True):
        shown = pd.DataFrame({
            "采集日期": date_text(part["snapshot_date"], slash=False).to_numpy(),
            "商品ID": part["item_id"].astype(str).to_numpy(),
            "店铺名称": part["shop"].to_numpy(), "商品标题": part["title"].to_numpy(),
            "类目": part["category"].to_numpy(), "叶子类目": part["leaf_category"].to_numpy(),
            "价格": part["price"].map("{:.2f}".format).to_numpy(),
            "月销量": part["sales_30d"].astype(np.int64).to_numpy(),
            "交易金额": part["revenue_30d"].map("{:.2f}".format).to_numpy(),
            "是否天猫": np.where(part["is_tmall"], "是", "否"),
            "材质": part["material"].to_numpy(), "颜色": part["color"].to_numpy(),
            "容量": part["size"].to_numpy(), "功能": part["function"].to_numpy(),
            "风格": part["style"].to_numpy(),
        })
        name = f"items_kids_{snap:%Y-%m-%d}.csv"
        out.csv(name, "items", shown, "utf-8-sig",
                (f"统计时间：{snap:%Y-%m-%d}", f"类目：{SECOND_CATEGORY}"))
        names.append(name)
    return names


def _write_traffic(out: _Out, frames: list[pd.DataFrame]) -> None:
    legacy = out.profile.shapes.formats is None
    for s, part in enumerate(frames):
        shown = pd.DataFrame({
            "日期": date_text(part["date"], slash=s % 2 == 1).to_numpy(),
            "店铺名称": part["shop"].to_numpy(), "商品ID": part["item_id"].to_numpy(),
            "流量来源": part["channel_raw"].to_numpy(),
            "访客数": (thousands(part["visitors"]) if s == 1 else part["visitors"]).to_numpy(),
            "支付买家数": part["buyers"].to_numpy()})
        if "payment_amount" in part:
            shown["支付金额"] = part["payment_amount"].map("{:.2f}".format).to_numpy()
        else:
            shown["交易指数"] = part["trade_index"].to_numpy()
        if legacy:
            out.csv(f"traffic_{s}.csv", "traffic", shown, "utf-8-sig")
        else:
            out.shaped(f"traffic_{s}", "traffic", shown)


def _write_sales(out: _Out, frame: pd.DataFrame) -> None:
    legacy = out.profile.shapes.formats is None
    for year in sorted(frame["date"].dt.year.unique()):
        part = frame[frame["date"].dt.year == year]
        shown = pd.DataFrame({
            "日期": date_text(part["date"], slash=False).to_numpy(),
            "店铺名称": part["shop"].to_numpy(), "商品ID": part["item_id"].astype(str).to_numpy(),
            "支付件数": part["units"].astype(np.int64).to_numpy(),
            "支付金额": part["revenue"].astype(float).to_numpy(),
            "访客数": part["visitors"].astype(np.int64).to_numpy(),
            "支付买家数": part["buyers"].astype(np.int64).to_numpy(),
            "单件成本": part["unit_cost"].astype(float).to_numpy(),
            "推广花费": part["ad_spend"].astype(float).to_numpy(),
            "退款金额": part["refunds"].astype(float).to_numpy()})
        if legacy:
            out.xlsx(f"sales_{year}.xlsx", "sales", shown)
        else:
            out.shaped(f"sales_{year}", "sales", shown)


# ----------------------------------------------------------------------------- tables

def _market_daily(rng: np.random.Generator, p: Profile) -> pd.DataFrame:
    idx = days()
    nd = len(idx)
    promo = demand_multiplier(idx, p.promo_response)
    growth = np.exp(0.1 * np.asarray((idx - idx[0]).days) / 365.25)
    visitors = np.round(2.2e6 * p.volume * category_season(p, idx, 0.35)
                        * WEEKDAY[idx.day_of_week] * promo ** 1.2
                        * growth * np.exp(rng.normal(0, 0.03, nd))).astype(np.int64)
    buyers = np.round(visitors * 0.042 * np.where(promo > 1.3, 1.25, 1.0)
                      * np.exp(rng.normal(0, 0.03, nd))).astype(np.int64)
    payment = buyers * 92.0 * p.price_median / 72.0 * np.exp(rng.normal(0, 0.04, nd))
    popularity = sig3(380_000 * p.volume * category_season(p, idx, 0.4)
                      * WEEKDAY[idx.day_of_week] * promo * growth
                      * np.exp(rng.normal(0, 0.03, nd)))
    online = np.round(1.2e6 * np.exp(np.cumsum(rng.normal(0.0003, 0.002, nd)))).astype(np.int64)
    return pd.DataFrame({"date": idx, "category": p.category,
                         "trade_index": np.round(12.0 * payment ** 0.75).astype(np.int64),
                         "visitors": visitors, "buyers": buyers,
                         "search_popularity": popularity, "items_online": online})


def _lead(shares: dict[str, float], leader: str) -> dict[str, float]:
    """``shares`` with ``leader`` swapped into the largest share."""
    out = dict(shares)
    top = max(out, key=lambda k: out[k])
    if leader != top:
        out[top], out[leader] = out.get(leader, 1.0), out[top]
    return out


def audience_profile(p: Profile) -> dict[str, dict[str, float]]:
    """The audience's base shares in ``p``'s market: the 保温杯 shares with the profile's
    leading province and city moved to the top, the hours rolled so the peak falls on
    ``p.peak_hour``, women at ``p.female_share``; no 星期 when the shapes say hours only."""
    base = {k: dict(v) for k, v in AUDIENCE_PROFILE.items()}
    base["省份"] = _lead(base["省份"], p.province)
    base["城市"] = _lead(base["城市"], p.city)
    hours = np.roll(np.array(list(AUDIENCE_PROFILE["时段"].values())), p.peak_hour - 21)
    base["时段"] = {f"{h}:00": float(v) for h, v in enumerate(hours)}
    base["性别"] = {"女": round(100 * p.female_share, 1),
                  "男": round(100 * (1 - p.female_share), 1)}
    if p.shapes.audience_hours_only:
        del base["星期"]
    return base


def _audience(rng: np.random.Generator, p: Profile) -> pd.DataFrame:
    """Monthly snapshots; shares in basis points summing exactly to 10,000 per dimension (the
    largest segment absorbs the rounding)."""
    snaps = pd.date_range("2024-10-01", END, freq="MS")
    rows = []
    profile = audience_profile(p)
    for snap in snaps:
        for dim, shares in profile.items():
            segs = list(shares)
            base = np.array([shares[s] for s in segs], dtype=float)
            noisy = base * np.exp(rng.normal(0, 0.03, len(base)))
            bp = np.round(noisy / noisy.sum() * 10_000).astype(np.int64)
            bp[np.argmax(bp)] += 10_000 - bp.sum()
            rows.append(pd.DataFrame({"date": snap, "category": p.category, "dimension": dim,
                                      "segment": segs, "bp": bp}))
    frame = pd.concat(rows, ignore_index=True)
    frame["share_text"] = [f"{b // 100}.{b % 100:02d}%" for b in frame["bp"]]
    return frame


def _events(p: Profile) -> pd.DataFrame:
    rows = []
    for name, first, last, kind in promotion_windows(response=p.promo_response):
        for day in pd.date_range(max(first, START), min(last, END)):
            rows.append((f"{day:%Y-%m-%d}", name, kind))
    return pd.DataFrame(rows, columns=["日期", "活动名称", "类型"])


def _promotions(p: Profile, kind_wanted: bool) -> list[dict]:
    """truth ``promotions`` (kind_wanted) or ``holidays``: windows, with each promotion's
    planted search uplift (the peak day's demand multiplier) and response scale."""
    idx = days()
    mult = pd.Series(demand_multiplier(idx, p.promo_response), index=idx)
    out = []
    for n, a, b, k in promotion_windows(response=p.promo_response):
        if (k == "大促") != kind_wanted:
            continue
        entry: dict[str, object] = {"name": n, "start": f"{a:%Y-%m-%d}",
                                    "end": f"{b:%Y-%m-%d}"}
        if kind_wanted:
            window = mult[(mult.index >= a) & (mult.index <= b)]
            if len(window):
                entry |= {"uplift": round(float(window.max()), 3),
                          "peak": f"{window.idxmax():%Y-%m-%d}",
                          "response": round(float(p.promo_response.get(n, 1.0)), 3)}
        out.append(entry)
    return out


# ----------------------------------------------------------------------------- public

def generate_sample(out_dir: str | Path, seed: int = 7, profile: str = "保温杯") -> dict:
    """Write a sample market's exports and ``truth.json`` into ``out_dir``.

    Parameters
    ----------
    out_dir : path-like
        Folder to write into (created if missing; files of the same names are overwritten).
    seed : int
        Random seed; the same seed and profile write the same bytes.
    profile : str
        A name of :data:`research.sample.profiles.PROFILE_NAMES` or ``"random"`` (a market
        drawn from ``seed``).

    Returns
    -------
    dict
        ``files`` (relative names, sorted), ``rows`` (rows written per table), ``truth``
        (path of ``truth.json``) and ``profile`` (its name; for ``random`` the category
        drawn, as ``random:<category>``).

    Raises
    ------
    research.faults.UsageFault
        For an unknown profile name.

    Examples
    --------
    >>> import tempfile
    >>> info = generate_sample(tempfile.mkdtemp(), seed=1)  # doctest: +SKIP
    >>> info["rows"]["items"] >= 40_000  # doctest: +SKIP
    True
    """
    p = get_profile(profile, seed)
    cat = p.category
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    # children 0-7 are those of SeedSequence(seed).spawn(8) (the market); child 8 draws our
    # second category alone (保温杯 only)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(9)]
    out = _Out(folder, p)

    ids = item_ids(rngs[0], 10_000)
    ours = build_our_items(ids, p)
    sales, sales_truth = build_sales(rngs[1], ours, p)
    items, items_truth = build_items(rngs[2], ours, sales, ids, cat, p)
    keywords, kw_truth = build_keywords(rngs[3], cat, p)
    traffic, traffic_truth = build_traffic(rngs[4], p)
    market = _market_daily(rngs[5], p)
    audience = _audience(rngs[6], p)

    _write_keywords(out, keywords, rngs[7])
    _write_items(out, items, rngs[7])
    _write_traffic(out, traffic)
    second = None
    if p.second_category:
        second_items = build_second_items(rngs[8], ids)
        second_sales = build_second_sales(rngs[8], second_items)
        second_snaps = second_snapshots(rngs[8], second_items, second_sales)
        second_files = _write_second_items(out, second_snaps)
        second = second_truth(second_items, second_sales, sales, second_files)
        all_sales = pd.concat([sales, second_sales], ignore_index=True)
    else:
        all_sales = sales
    _write_sales(out, all_sales.sort_values(["date", "item_id"], ignore_index=True))
    legacy = p.shapes.formats is None
    shown = pd.DataFrame({
        "日期": date_text(market["date"], slash=True).to_numpy(), "类目": cat,
        "交易指数": market["trade_index"].to_numpy(),
        "访客数": thousands(market["visitors"]).to_numpy(),
        "支付买家数": thousands(market["buyers"]).to_numpy(),
        "搜索人气": market["search_popularity"].to_numpy(),
        "在线商品数": thousands(market["items_online"]).to_numpy()})
    if legacy:
        out.csv("market_daily.csv", "market_daily", shown, "gbk", (_span(START, END),),
                crlf=True)
    else:
        out.shaped("market_daily", "market_daily", shown, (_span(START, END),))
    aud = pd.DataFrame({
        "日期": audience["date"], "类目": audience["category"], "维度": audience["dimension"],
        "分段": audience["segment"], "支付买家占比": audience["share_text"]})
    if legacy:
        out.xlsx("audience.xlsx", "audience", aud, date_columns=("日期",))
        out.csv("events.csv", "events", _events(p), "utf-8")
    else:
        out.shaped("audience", "audience", aud, date_columns=("日期",))
        out.shaped("events", "events", _events(p))

    leader = _rising_leader(items, p)
    hours = audience_profile(p)["时段"]
    shapes = p.shapes
    truth = {
        "seed": seed, "profile": p.name if p.name != "random" else f"random:{cat}",
        "currency": "CNY", "category": cat, "start": START.date().isoformat(),
        "end": END.date().isoformat(), "our_shop": p.our_shop,
        "competitors": list(p.competitors),
        "promotions": _promotions(p, True),
        "holidays": _promotions(p, False),
        "season": {"peak_doy": round(p.season_peak, 1), "scale": round(p.season_scale, 3),
                   "amplitude": round(0.4 * p.season_scale, 3),
                   "food_peak": round(p.food_peak, 3)},
        "keywords": kw_truth,
        "prices": items_truth["prices"],
        "traffic": traffic_truth,
        "market": {"peak_hour": int(max(hours, key=lambda h: hours[h]).split(":")[0]),
                   "leading_province": p.province, "leading_city": p.city,
                   "female_share": round(p.female_share, 3),
                   "rising_leader": leader},
        "advantages": items_truth["advantages"],
        "sales": sales_truth,
        "items": items_truth["items"],
        "second_category": second,
        "shapes": {"leaf_only": shapes.leaf_only,
                   "audience_hours_only": shapes.audience_hours_only,
                   "keywords_no_online_items": shapes.keywords_no_online_items,
                   "keywords_no_tmall_share": shapes.keywords_no_tmall_share,
                   "english_headers": list(shapes.english_headers),
                   "size_header": p.size_header,
                   "formats": {n: _SHAPE_NAME[(m["format"], m["encoding"])]
                               for n, m in sorted(out.files.items())}},
        "files": out.files,
    }
    path = folder / "truth.json"
    path.write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return {"files": sorted(out.files), "rows": out.rows, "truth": str(path),
            "profile": truth["profile"]}


def _rising_leader(items: pd.DataFrame, p: Profile) -> str:
    """The shop whose share of 30-day units rises most between the first and last snapshot,
    among the top ten of either (the planted leader; checked, not assumed)."""
    units = items.groupby(["snapshot_date", "shop"])["sales_30d"].sum()
    first, last = (units.loc[d] / units.loc[d].sum() for d in (SNAPSHOTS[0], SNAPSHOTS[-1]))
    cands = set(first.nlargest(10).index) | set(last.nlargest(10).index)
    change = {s: last.get(s, 0.0) - first.get(s, 0.0) for s in sorted(cands)}
    best = max(change, key=lambda s: change[s])
    if best != p.competitors[0]:
        raise AssertionError(f"the planted rising leader {p.competitors[0]} is not the one "
                             f"that rises most ({best})")
    return best
