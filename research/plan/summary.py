"""The plan summary's sections (计划摘要), read from the other pages' ``results/`` CSVs.

Each section names the page it came from (a relative link in the report). A section that
cannot be filled is never dropped: it says why in one sentence (Chinese first, then
English) — which data the warehouse lacks (:func:`research.plan.gaps.data_gaps`: no keyword
rows, no listing snapshot, no competitors, none of our sales in the category) when the page
had nothing to work from, else which page left no result file (the notebook failed or was
not run). Money is written in the scope's currency
(:func:`research.pages.display.money`). The first two sections
restate the study's scope: category, week, our shop, and the competitor set with its rule —
the set every page names. The numbers are the other pages' numbers: this module
selects and restates them (and recomputes the margin at our unit cost).

=====================  ============================  =========================
Section                Result file                   Page
=====================  ============================  =========================
Scope, competitors     the study's ``Scope``         ``manifest.json``
Our advantages         ``advantages.csv``            ``competitor_traffic.html``
Core keywords          ``core_keywords.csv``         ``keyword_trends.html``
Price                  ``price_recommendation.csv``  ``price_bands.html``
Listings               ``items`` (warehouse)         ``market_overview.html``
Two-month outlook      ``outlook.csv``               ``forecast.html``
Targets                ``forecast.csv`` → the plan   ``forecast.html``
=====================  ============================  =========================

Examples
--------
>>> import tempfile
>>> sec = advantages_section(tempfile.mkdtemp())
>>> sec.ok
False
>>> print(sec.missing)
竞品流量页（competitor_traffic.html）没有留下 results/advantages.csv（该页失败或未运行）：没有可列的优势。 · competitor_traffic.html did not leave results/advantages.csv (the page failed or was not run): no advantages to list.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from research.pages.display import (
    fmt_number,
    fmt_share,
    money,
    money_cells,
    money_formatter,
    note,
    show_table,
)
from research.pages.results import read_result
from research.plan.operating import OperatingPlan
from research.store.scope import Scope

__all__ = ["Section", "scope_section", "competitors_section", "advantages_section",
           "keywords_section", "price_section", "listings_section", "outlook_section",
           "targets_section", "our_unit_cost", "summary_frame", "show_section", "OUTLOOK_ROWS",
           "OUTLOOK_MONEY", "PAGE_LABELS", "Gap"]

#: the pages the plan reads, with their Chinese names
PAGE_LABELS = {"competitor_traffic.html": "竞品流量", "keyword_trends.html": "关键词趋势",
               "price_bands.html": "价格带", "market_overview.html": "行业大盘",
               "forecast.html": "销售预测"}

#: rows of the two-month outlook shown in the summary, with their Chinese labels
OUTLOOK_ROWS = {"units": "件数", "revenue": "支付金额", "cost": "商品成本", "ad_spend": "推广花费",
                "profit": "利润"}
#: the outlook rows that are money (written with the scope's currency)
OUTLOOK_MONEY = ("revenue", "cost", "ad_spend", "profit")


@dataclass
class Section:
    """One section of the plan summary.

    Attributes
    ----------
    key : str
        Short name (``advantages``, ``keywords``, …).
    title : str
        Heading shown in the 概况 sheet.
    page : str
        The page it came from (relative link).
    lines : list of str
        Sentences (plain text; escaped when shown).
    table : DataFrame, optional
        Evidence table.
    formats : dict
        Column formats for the table.
    missing : str
        Why the section could not be filled ("" when it could).
    brief : str
        One line for the 概况 sheet of ``plan.xlsx``.
    """

    key: str
    title: str
    page: str
    lines: list[str] = field(default_factory=list)
    table: pd.DataFrame | None = None
    formats: dict = field(default_factory=dict)
    missing: str = ""
    brief: str = ""

    @property
    def ok(self) -> bool:
        """Whether the section has content."""
        return not self.missing


#: a missing piece of data, Chinese then English (:func:`research.plan.gaps.data_gaps`)
Gap = tuple[str, str] | None


def _missing(key: str, title: str, page: str, result: str, what: str, what_zh: str,
             gap: Gap = None) -> Section:
    if gap:
        zh, en = gap
        text = f"{zh}：{what_zh}。 · {en[:1].upper()}{en[1:]}: {what}."
        return Section(key, title, page, missing=text, brief=f"{zh}：{what_zh}")
    label = PAGE_LABELS.get(page, page)
    text = (f"{label}页（{page}）没有留下 results/{result}.csv（该页失败或未运行）：{what_zh}。"
            f" · {page} did not leave results/{result}.csv (the page failed or was not run): "
            f"{what}.")
    return Section(key, title, page, missing=text, brief=f"未能读取{label}页（{page}未运行或失败）")


def _read(output_dir: str | os.PathLike[str], name: str) -> pd.DataFrame | None:
    """A result table, ``None`` when the page left none; a file with no columns at all (a
    page that had nothing to write) reads as an empty table."""
    try:
        return read_result(output_dir, name)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()


def scope_section(scope: Scope, sales_rows: int = -1) -> Section:
    """What this plan is about: category, week, our shop and how our sales are tied to the
    category (from the study's :class:`~research.store.scope.Scope`).

    ``sales_rows`` is the number of our sales rows of the category up to the week's Sunday
    (−1: not counted); with none, the section says that no plan is made on the whole shop.

    Examples
    --------
    >>> sc = Scope("保温杯", "2026-W47", "2026-11-16", "2026-11-22", "given", "我店", "given",
    ...            ("甲店", "乙店"), "指定 · named", "CNY", "2024-09-02", "2026-11-22")
    >>> scope_section(sc).brief
    '保温杯 · 2026-W47（2026-11-16 至 2026-11-22） · 我店：我店'
    """
    title, page = "研究范围 · Scope", "manifest.json"
    lines = [f"类目 {scope.category}，研究周 {scope.week}（{scope.week_start} 至 "
             f"{scope.week_end}），数据 {scope.data_start} 至 {scope.data_end}，币种 "
             f"{scope.currency}。 · Category {scope.category}, study week {scope.week} "
             f"({scope.week_start} – {scope.week_end}), data {scope.data_start} – "
             f"{scope.data_end}, currency {scope.currency}.",
             f"周 · week: {scope.week_rule}",
             f"我店 · our shop: {scope.shop or '–'}（{scope.shop_rule}）"]
    if scope.sales_basis:
        lines.append(f"我店销售归入本类目的依据 · our sales in the category: {scope.sales_basis}")
    lines += [f"⚠ {w}" for w in scope.warnings]
    missing = ""
    if sales_rows == 0:
        missing = (f"我店在类目「{scope.category}」没有可归入的销售（截至 {scope.week_end}）：不以全店"
                   f"销售代替，本页不做目标和计划。 · None of our sales can be tied to the "
                   f"category {scope.category!r} up to {scope.week_end}: the plan does not use "
                   f"the whole shop's sales instead, so it sets no targets.")
    brief = (f"{scope.category} · {scope.week}（{scope.week_start} 至 {scope.week_end}） · "
             f"我店：{scope.shop or '–'}")
    sec = Section("scope", title, page, lines, brief=brief)
    if missing:
        sec.lines.insert(0, missing)
        sec.brief = f"{brief}；{missing.split(' · ')[0]}"
    return sec


def competitors_section(scope: Scope) -> Section:
    """The study's competitor set and the rule that chose it — the same set every page names.

    Examples
    --------
    >>> sc = Scope("保温杯", "2026-W47", "2026-11-16", "2026-11-22", "given", "我店", "given",
    ...            ("甲店", "乙店"), "指定竞品 · named competitors", "CNY", "2024-09-02",
    ...            "2026-11-22")
    >>> competitors_section(sc).brief
    '甲店、乙店（指定竞品 · named competitors）'
    """
    title, page = "竞品 · Competitors", "manifest.json"
    names = "、".join(scope.competitors) if scope.competitors else "无 · none"
    lines = [f"本次研究的竞品（每一页相同）：{names}。 · The study's competitors (the same on "
             f"every page): {', '.join(scope.competitors) or 'none'}.",
             f"竞品规则 · competitor rule: {scope.competitor_rule}"]
    return Section("competitors", title, page, lines,
                   brief=f"{names}（{scope.competitor_rule}）")


def advantages_section(output_dir: str | os.PathLike[str], needed: int = 3,
                       gap: Gap = None) -> Section:
    """Our advantages: the top attribute values of ``advantages.csv`` with their evidence.

    Fewer than ``needed`` qualifying values are reported as such — none is invented. ``gap``
    (no listing snapshot, no competitors) explains a missing or empty result.
    """
    title, page = "我们的优势 · Our advantages", "competitor_traffic.html"
    adv = _read(output_dir, "advantages")
    if adv is None or (adv.empty and gap):
        return _missing("advantages", title, page, "advantages", "no advantages to list",
                        "没有可列的优势", gap)
    adv = adv.sort_values("rank") if "rank" in adv else adv
    top = adv.head(max(needed, 3))
    cols = [c for c in ("rank", "attribute", "value", "evidence") if c in top]
    lines = []
    if len(adv) < needed:
        lines.append(f"只有 {len(adv)} 个属性值符合竞品页的优势规则，少于计划要求的 {needed} 个；"
                     f"不凭空补足，计划需要其他依据或新链接。 · Only {len(adv)} attribute value(s) "
                     f"meet the advantage rule of the competitor page — fewer than the {needed} "
                     f"the plan asks for; none is invented: the plan needs other grounds or new "
                     f"listings.")
    brief = "、".join(f"{a}={v}" for a, v in zip(top.get("attribute", []), top.get("value", []),
                                                  strict=False)) or "无符合条件的优势"
    return Section("advantages", title, page, lines, top[cols], {}, brief=brief)


def keywords_section(output_dir: str | os.PathLike[str], n: int = 5, gap: Gap = None
                     ) -> Section:
    """The core keywords (role ``core``) of ``core_keywords.csv`` with the reasons; ``gap``
    (no keyword rows) explains a missing or empty result."""
    title, page = "核心关键词 · Core keywords", "keyword_trends.html"
    core = _read(output_dir, "core_keywords")
    if core is None or (core.empty and gap):
        return _missing("keywords", title, page, "core_keywords", "no core keywords",
                        "没有核心关键词", gap)
    if "role" in core:
        core = core[core["role"] == "core"]
    core = core.sort_values("rank").head(n) if "rank" in core else core.head(n)
    cols = [c for c in ("rank", "keyword", "reasons", "popularity_mean_daily", "conversion_rate",
                        "demand_supply") if c in core]
    lines = [] if len(core) >= n else [f"关键词页选出 {len(core)} 个核心词，不是 {n} 个。 · The "
                                       f"keyword page picked {len(core)} core keyword(s), not {n}."]
    lines.append("搜索人气是指数，显示为研究周每日值的均值，不是搜索次数。 · 搜索人气 is an index, "
                 "shown as the mean of the study week's daily values; it is not a count of "
                 "searches.")
    brief = "、".join(map(str, core.get("keyword", []))) or "无"
    return Section("keywords", title, page, lines, core[cols],
                   {"popularity_mean_daily": "{:,.0f}", "conversion_rate": "{:.2%}",
                    "demand_supply": "{:,.2f}"}, brief=brief)


def our_unit_cost(sales: pd.DataFrame, end: pd.Timestamp, weeks: int = 8) -> float:
    """Our mean unit cost (Σ units × unit_cost ÷ Σ units) over the last ``weeks`` weeks.

    Examples
    --------
    >>> s = pd.DataFrame({"date": pd.to_datetime(["2026-11-20", "2026-11-21"]),
    ...                   "units": [1, 3], "unit_cost": [10.0, 30.0]})
    >>> our_unit_cost(s, pd.Timestamp("2026-11-22"))
    25.0
    """
    if "unit_cost" not in sales or sales["unit_cost"].isna().all():
        return float("nan")
    start = pd.Timestamp(end) - pd.Timedelta(days=7 * weeks - 1)
    s = sales[(sales["date"] >= start) & (sales["date"] <= end) & sales["unit_cost"].notna()]
    units = float(s["units"].sum())
    return float((s["units"] * s["unit_cost"]).sum() / units) if units > 0 else float("nan")


def price_section(output_dir: str | os.PathLike[str], unit_cost: float, min_margin: float,
                  currency: str = "CNY", gap: Gap = None) -> Section:
    """The recommended band and price of ``price_recommendation.csv``, with the margin at
    ``unit_cost`` ((price − unit cost) ÷ price), money in ``currency``; ``gap`` (no listing
    snapshot) explains a missing or empty result."""
    title, page = "价格 · Price", "price_bands.html"
    rec = _read(output_dir, "price_recommendation")
    if rec is None or (rec.empty and gap):
        return _missing("price", title, page, "price_recommendation", "no price recommendation",
                        "没有价格建议", gap)
    chosen = rec[rec["role"] == "recommended"] if "role" in rec else rec.head(1)
    if chosen.empty:
        reason = "; ".join(map(str, rec.get("reason", pd.Series(dtype=str)).head(3)))
        return Section("price", title, page, [f"没有价格带符合价格页的规则（{reason}）。 · No band "
                                              f"meets the price page's rules ({reason})."],
                       brief="无推荐价格带")
    row = chosen.iloc[0]
    price = float(row["price_point"])
    margin = (price - unit_cost) / price if price > 0 and np.isfinite(unit_cost) else np.nan
    band, shown = row.get("band_label", ""), money(price, currency)
    if np.isfinite(margin):
        ok = margin >= min_margin
        lines = [f"推荐价格带 {band}，价格点 {shown}；按我店单件成本 {money(unit_cost, currency)}，"
                 f"毛利率 {fmt_share(margin)}（(价格 − 单件成本) ÷ 价格），"
                 + ("达到" if ok else "低于") + f"最低要求 {fmt_share(min_margin)}。 · Recommended "
                 f"band {band}, price point {shown}; at our unit cost "
                 f"{money(unit_cost, currency)} the margin is {fmt_share(margin)} ((price − "
                 f"unit cost) ÷ price) — " + ("meets" if ok else "BELOW")
                 + f" the minimum {fmt_share(min_margin)}."]
    else:
        lines = [f"推荐价格带 {band}，价格点 {shown}；我店单件成本未知，不算毛利率。 · Recommended "
                 f"band {band}, price point {shown}; our unit cost is unknown, so no margin."]
    if "reason" in row and isinstance(row["reason"], str) and row["reason"]:
        lines.append(f"价格页的理由 · the price page's reason: {row['reason']}")
    table = rec.head(3)[[c for c in ("rank", "role", "band_label", "price_point",
                                     "demand_per_listing", "units_share", "listings")
                         if c in rec]]
    return Section("price", title, page, lines, table,
                   {"price_point": money_formatter(currency), "demand_per_listing": "{:.2f}",
                    "units_share": "{:.1%}", "listings": "{:,.0f}"},
                   brief=f"{row.get('band_label', '')} 价格带，建议价 {money(price, currency)}，"
                         f"毛利率 {fmt_share(margin)}")


def listings_section(listings: int, leaf_categories: Sequence[str],
                     present: pd.Series, gap: Gap = None) -> Section:
    """How many listings in which leaf categories, checked against the data.

    Parameters
    ----------
    listings : int
        Planned number of listings.
    leaf_categories : sequence of str
        Planned leaf categories.
    present : Series
        Listings per leaf category in the latest item snapshot (index: leaf category).
    gap : (str, str), optional
        No listing snapshot of the category at all (said instead of the leaf categories).
    """
    title, page = "上架规划 · Listings", "market_overview.html"
    known = [c for c in leaf_categories if c in present.index]
    unknown = [c for c in leaf_categories if c not in present.index]
    lines = []
    if not leaf_categories:
        lines.append("未指定叶子类目（参数 leaf_categories），下表列出数据中最大的几个以供选择。 · No "
                     "leaf categories were named (parameter leaf_categories); the data's largest "
                     "are listed below to choose from.")
    if unknown:
        lines.append("数据中没有（按商品的叶子类目核对） · not in the data (checked against the "
                     "items' leaf categories): " + "、".join(map(str, unknown)) + ".")
    if listings <= 0:
        lines.append("未设定上架数量（参数 listings）。 · No number of listings was set "
                     "(parameter listings).")
    per = listings / len(known) if known and listings > 0 else np.nan
    if known:
        lines.append(f"{listings} 个链接，分布在 {len(known)} 个叶子类目 · {listings} listing(s) "
                     f"over {len(known)} leaf categor{'y' if len(known) == 1 else 'ies'}: "
                     + "、".join(known)
                     + (f"（每个约 {per:.0f} · about {per:.0f} each）" if np.isfinite(per) else "")
                     + ".")
    shown = known or list(present.sort_values(ascending=False).index[:8])
    table = pd.DataFrame({"leaf_category": shown,
                          "category_listings": [int(present.get(c, 0)) for c in shown],
                          "planned": [c in known for c in shown]})
    brief = (f"{listings} 个链接：" + "、".join(known)) if known else f"{listings} 个链接（叶子类目未定）"
    missing = "" if present.size else (
        "仓库中本类目没有带叶子类目的商品，无法核对计划的叶子类目。 · The warehouse has no items of "
        "the category with a leaf category: the planned categories cannot be checked.")
    if gap and not present.size:
        missing = (f"{gap[0]}：无法核对计划的叶子类目。 · {gap[1][:1].upper()}{gap[1][1:]}: the "
                   f"planned leaf categories cannot be checked.")
    return Section("listings", title, page, lines, table, {"category_listings": "{:,.0f}"},
                   missing=missing, brief=brief)


def outlook_section(output_dir: str | os.PathLike[str], currency: str = "CNY",
                    gap: Gap = None) -> Section:
    """Units, revenue, cost, ad spend and profit over the next nine weeks with their ranges
    (``outlook.csv``: the two-month total and its 80 %/95 % range), money in ``currency``;
    ``gap`` (none of our sales in the category) explains a missing or empty result."""
    title, page = "两个月展望 · Two-month outlook", "forecast.html"
    out = _read(output_dir, "outlook")
    if out is None or (out.empty and gap):
        return _missing("outlook", title, page, "outlook", "no two-month outlook", "没有两个月展望",
                        gap)
    if out.empty or "metric" not in out:
        return Section("outlook", title, page, missing=(
            "销售预测页运行了，但 results/outlook.csv 是空的：没有两个月展望。 · forecast.html ran "
            "but left an empty results/outlook.csv: no two-month outlook."),
            brief="销售预测页没有给出展望")
    total = "two-month total" if "two-month total" in out else "two_month_total"
    t = out[out["metric"].isin(OUTLOOK_ROWS)].set_index("metric").reindex(
        [m for m in OUTLOOK_ROWS if m in set(out["metric"])])
    table = pd.DataFrame({"metric": list(t.index),
                          "total": t[total].to_numpy(), "low80": t["low"].to_numpy(),
                          "high80": t["high"].to_numpy()})
    if {"low95", "high95"} <= set(t.columns):
        table["low95"], table["high95"] = t["low95"].to_numpy(), t["high95"].to_numpy()
    # money rows carry the currency, the units row does not
    table = money_cells(table, "metric", [c for c in table.columns if c != "metric"],
                        set(OUTLOOK_MONEY), currency)
    table["metric"] = [f"{OUTLOOK_ROWS[m]} · {m}" for m in t.index]
    lines = ["两个月合计 = 九周预测之和；区间是预测页给出的合计区间（来自回测），不是各周区间相加。 · "
             "Two-month total = sum of the nine weekly forecasts; the range is the forecast "
             "page's range of the total (from its backtest), not the sum of weekly ranges."]
    def shown(m: str, value: float) -> str:
        return money(value, currency, 0) if m in OUTLOOK_MONEY else fmt_number(value)
    brief = "；".join(f"{OUTLOOK_ROWS[m]} {shown(m, t.at[m, total])}"
                     f"（{shown(m, t.at[m, 'low'])}–{shown(m, t.at[m, 'high'])}）"
                     for m in t.index)
    return Section("outlook", title, page, lines, table, {}, brief=brief)


def targets_section(plan: OperatingPlan | None, currency: str = "CNY",
                    page: str = "forecast.html") -> Section:
    """Weekly traffic targets of an :class:`OperatingPlan` (or ``None``)."""
    title = "目标 · Targets"
    if plan is None:
        return _missing("targets", title, page, "forecast",
                        "no outlook, so no weekly targets and no plan.xlsx",
                        "没有展望，因此没有周目标，也没有 plan.xlsx")
    w = plan.weekly
    rates = plan.rates
    cols = [c for c in ("week", "revenue", "uv_avg_daily", "conversion", "aov", "buyers", "roi",
                        "profit") if c in w]
    lines = [f"由 支付金额 = 访客数 × 支付转化率 × 客单价 推出：每周支付金额取展望值，客单价 "
             f"{money(rates['aov'], currency)} 和支付转化率 {fmt_share(rates['conversion'], 2)} "
             f"取我店本类目最近 {rates['weeks']} 周的值；买家数 = 支付金额 ÷ 客单价，日访客之和 = 买家数 ÷ "
             f"转化率，访客数以日均 UV 显示；ROI（投产比）= 支付金额 ÷ 推广花费。 · "
             f"Derived from 支付金额 = 访客数 × 支付转化率 × 客单价: the outlook's revenue per week, "
             f"with 客单价 {money(rates['aov'], currency)} and 支付转化率 "
             f"{fmt_share(rates['conversion'], 2)} held at our last {rates['weeks']} weeks' "
             f"values (visitors from {rates['basis']}). Buyers = revenue ÷ 客单价; Σ daily UV = "
             f"buyers ÷ conversion; visitors are shown as average daily UV (weekly UV is not "
             f"the sum of daily UV). ROI (投产比) = revenue ÷ ad spend. Neighbouring weeks that share a "
             f"promotion have the outlook's total re-split by our history's day-by-day promotion "
             f"profile (the weekly forecast treats all promotion days alike); the two-month "
             f"total is the outlook's."]
    lines += list(plan.notes)
    first = w.iloc[0]
    brief = (f"首周日均访客 {fmt_number(first.get('uv_avg_daily'))}，转化率 "
             f"{fmt_share(first.get('conversion'), 2)}，客单价 {money(first.get('aov'), currency)}，"
             f"ROI {fmt_number(first.get('roi'), 2)}（由 支付金额 = 访客数 × 支付转化率 × 客单价 推算）")
    return Section("targets", title, page, lines, w[cols],
                   {"revenue": money_formatter(currency, 0), "uv_avg_daily": "{:,.0f}",
                    "conversion": "{:.2%}", "aov": money_formatter(currency),
                    "buyers": "{:,.0f}", "roi": "{:.2f}", "profit": money_formatter(currency, 0)},
                   brief=brief)


def summary_frame(sections: Sequence[Section]) -> pd.DataFrame:
    """The 概况 sheet: one row per section (项目, 内容, 来源)."""
    return pd.DataFrame({"项目": [s.title for s in sections],
                         "内容": [s.brief if s.ok else s.missing for s in sections],
                         "来源": [s.page for s in sections]})


def show_section(section: Section) -> None:
    """Display a section in a report notebook (escaped sentences and its table)."""
    if section.missing:
        note("⚠ {text}", text=section.missing)
    for line in section.lines:
        note("{text}", text=line)
    if section.table is not None and len(section.table):
        show_table(section.table, formats=section.formats)
