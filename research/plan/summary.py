"""The plan summary's sections (计划摘要), read from the other pages' ``results/`` CSVs.

Each section names the page it came from (a relative link in the report) and, when that
page's result file is missing — the notebook failed or was not run — says which page it
could not read instead of failing. The numbers are the other pages' numbers: this module
selects and restates them (and recomputes the margin at our unit cost).

=====================  ============================  =========================
Section                Result file                   Page
=====================  ============================  =========================
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
>>> sec.ok, sec.missing
(False, 'competitor_traffic.html did not leave results/advantages.csv (the page failed or was not run): no advantages to list.')
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from research.pages.display import fmt_money, fmt_number, fmt_share, note, show_table
from research.pages.results import read_result

__all__ = ["Section", "advantages_section", "keywords_section", "price_section",
           "listings_section", "outlook_section", "targets_section", "our_unit_cost",
           "summary_frame", "show_section", "OUTLOOK_ROWS", "Tracking", "track_plan",
           "StudyInputs", "study_inputs", "make_plan", "plot_tracking", "reports_root_for"]

#: rows of the two-month outlook shown in the summary, with their Chinese labels
OUTLOOK_ROWS = {"units": "件数", "revenue": "支付金额", "cost": "商品成本", "ad_spend": "推广花费",
                "profit": "利润"}


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


def _missing(key: str, title: str, page: str, result: str, what: str) -> Section:
    text = (f"{page} did not leave results/{result}.csv (the page failed or was not run): "
            f"{what}.")
    return Section(key, title, page, missing=text, brief=f"未能读取 {page}")


def advantages_section(output_dir: str | os.PathLike[str], needed: int = 3) -> Section:
    """Our advantages: the top attribute values of ``advantages.csv`` with their evidence.

    Fewer than ``needed`` qualifying values are reported as such — none is invented.
    """
    title, page = "我们的优势 · Our advantages", "competitor_traffic.html"
    adv = read_result(output_dir, "advantages")
    if adv is None:
        return _missing("advantages", title, page, "advantages", "no advantages to list")
    adv = adv.sort_values("rank") if "rank" in adv else adv
    top = adv.head(max(needed, 3))
    cols = [c for c in ("rank", "attribute", "value", "evidence") if c in top]
    lines = []
    if len(adv) < needed:
        lines.append(f"Only {len(adv)} attribute value(s) meet the advantage rule of the "
                     f"competitor page — fewer than the {needed} the plan asks for; none is "
                     f"invented: the plan needs other grounds or new listings.")
    brief = "、".join(f"{a}={v}" for a, v in zip(top.get("attribute", []), top.get("value", []),
                                                  strict=False)) or "无符合条件的优势"
    return Section("advantages", title, page, lines, top[cols], {}, brief=brief)


def keywords_section(output_dir: str | os.PathLike[str], n: int = 5) -> Section:
    """The core keywords (role ``core``) of ``core_keywords.csv`` with the reasons."""
    title, page = "核心关键词 · Core keywords", "keyword_trends.html"
    core = read_result(output_dir, "core_keywords")
    if core is None:
        return _missing("keywords", title, page, "core_keywords", "no core keywords")
    if "role" in core:
        core = core[core["role"] == "core"]
    core = core.sort_values("rank").head(n) if "rank" in core else core.head(n)
    cols = [c for c in ("rank", "keyword", "reasons", "popularity_mean_daily", "conversion_rate",
                        "demand_supply") if c in core]
    lines = [] if len(core) >= n else [f"The keyword page picked {len(core)} core keyword(s), "
                                       f"not {n}."]
    lines.append("搜索人气 is an index, shown as the mean of the study week's daily values; "
                 "it is not a count of searches.")
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
                  currency: str = "CNY") -> Section:
    """The recommended band and price of ``price_recommendation.csv``, with the margin at
    ``unit_cost`` ((price − unit cost) ÷ price)."""
    title, page = "价格 · Price", "price_bands.html"
    rec = read_result(output_dir, "price_recommendation")
    if rec is None:
        return _missing("price", title, page, "price_recommendation", "no price recommendation")
    chosen = rec[rec["role"] == "recommended"] if "role" in rec else rec.head(1)
    if chosen.empty:
        reason = "; ".join(map(str, rec.get("reason", pd.Series(dtype=str)).head(3)))
        return Section("price", title, page, [f"No band meets the price page's rules ({reason})."],
                       brief="无推荐价格带")
    row = chosen.iloc[0]
    price = float(row["price_point"])
    margin = (price - unit_cost) / price if price > 0 and np.isfinite(unit_cost) else np.nan
    lines = [f"Recommended band {row.get('band_label', '')}, price point "
             f"{fmt_money(price, currency)}; at our unit cost {fmt_money(unit_cost, currency)} the "
             f"margin is {fmt_share(margin)} ((price − unit cost) ÷ price) — "
             + ("meets" if margin >= min_margin else "BELOW") + f" the minimum {fmt_share(min_margin)}."
             if np.isfinite(margin) else
             f"Recommended band {row.get('band_label', '')}, price point "
             f"{fmt_money(price, currency)}; our unit cost is unknown, so no margin."]
    if "reason" in row and isinstance(row["reason"], str) and row["reason"]:
        lines.append(f"The price page's reason: {row['reason']}")
    table = rec.head(3)[[c for c in ("rank", "role", "band_label", "price_point",
                                     "demand_per_listing", "units_share", "listings")
                         if c in rec]]
    return Section("price", title, page, lines, table,
                   {"price_point": "{:,.2f}", "demand_per_listing": "{:.2f}",
                    "units_share": "{:.1%}", "listings": "{:,.0f}"},
                   brief=f"{row.get('band_label', '')} 价格带，建议价 {fmt_money(price, currency)}，"
                         f"毛利率 {fmt_share(margin)}")


def listings_section(listings: int, leaf_categories: Sequence[str],
                     present: pd.Series) -> Section:
    """How many listings in which leaf categories, checked against the data.

    Parameters
    ----------
    listings : int
        Planned number of listings.
    leaf_categories : sequence of str
        Planned leaf categories.
    present : Series
        Listings per leaf category in the latest item snapshot (index: leaf category).
    """
    title, page = "上架规划 · Listings", "market_overview.html"
    known = [c for c in leaf_categories if c in present.index]
    unknown = [c for c in leaf_categories if c not in present.index]
    lines = []
    if not leaf_categories:
        lines.append("No leaf categories were named (parameter leaf_categories); the data's "
                     "largest are listed below to choose from.")
    if unknown:
        lines.append("Not in the data (checked against the items' leaf categories): "
                     + "、".join(map(str, unknown)) + ".")
    if listings <= 0:
        lines.append("No number of listings was set (parameter listings).")
    per = listings / len(known) if known and listings > 0 else np.nan
    if known:
        lines.append(f"{listings} listing(s) over {len(known)} leaf categor"
                     f"{'y' if len(known) == 1 else 'ies'}: " + "、".join(known)
                     + (f" (about {per:.0f} each)" if np.isfinite(per) else "") + ".")
    shown = known or list(present.sort_values(ascending=False).index[:8])
    table = pd.DataFrame({"leaf_category": shown,
                          "category_listings": [int(present.get(c, 0)) for c in shown],
                          "planned": [c in known for c in shown]})
    brief = (f"{listings} 个链接：" + "、".join(known)) if known else f"{listings} 个链接（叶子类目未定）"
    return Section("listings", title, page, lines, table, {"category_listings": "{:,.0f}"},
                   missing="" if present.size else "the warehouse has no items with a leaf "
                   "category: the planned categories cannot be checked.", brief=brief)


def outlook_section(output_dir: str | os.PathLike[str], currency: str = "CNY") -> Section:
    """Units, revenue, cost, ad spend and profit over the next nine weeks with their ranges
    (``outlook.csv``: the two-month total and its 80 %/95 % range)."""
    title, page = "两个月展望 · Two-month outlook", "forecast.html"
    out = read_result(output_dir, "outlook")
    if out is None or out.empty:
        return _missing("outlook", title, page, "outlook", "no two-month outlook")
    total = "two-month total" if "two-month total" in out else "two_month_total"
    t = out[out["metric"].isin(OUTLOOK_ROWS)].set_index("metric").reindex(
        [m for m in OUTLOOK_ROWS if m in set(out["metric"])])
    table = pd.DataFrame({"metric": [f"{OUTLOOK_ROWS[m]} · {m}" for m in t.index],
                          "total": t[total].to_numpy(), "low80": t["low"].to_numpy(),
                          "high80": t["high"].to_numpy()})
    if {"low95", "high95"} <= set(t.columns):
        table["low95"], table["high95"] = t["low95"].to_numpy(), t["high95"].to_numpy()
    lines = ["Two-month total = sum of the nine weekly forecasts; the range is the forecast "
             "page's range of the total (from its backtest), not the sum of weekly ranges."]
    brief = "；".join(f"{OUTLOOK_ROWS[m]} {fmt_number(t.at[m, total])}"
                     f"（{fmt_number(t.at[m, 'low'])}–{fmt_number(t.at[m, 'high'])}）"
                     for m in t.index)
    return Section("outlook", title, page, lines, table,
                   {c: "{:,.0f}" for c in table.columns if c != "metric"}, brief=brief)


def targets_section(plan: object | None, currency: str = "CNY", page: str = "forecast.html"
                    ) -> Section:
    """Weekly traffic targets of a :class:`research.plan.operating.OperatingPlan` (or ``None``)."""
    title = "目标 · Targets"
    if plan is None:
        return _missing("targets", title, page, "forecast",
                        "no outlook, so no weekly targets and no plan.xlsx")
    w = plan.weekly  # type: ignore[attr-defined]
    rates = plan.rates  # type: ignore[attr-defined]
    cols = [c for c in ("week", "revenue", "uv_avg_daily", "conversion", "aov", "buyers", "roi",
                        "profit") if c in w]
    lines = [f"Derived from 支付金额 = 访客数 × 支付转化率 × 客单价: the outlook's revenue per week, "
             f"with 客单价 {fmt_money(rates['aov'], currency)} and 支付转化率 "
             f"{fmt_share(rates['conversion'], 2)} held at our last {rates['weeks']} weeks' "
             f"values (visitors from {rates['basis']}). Buyers = revenue ÷ 客单价; Σ daily UV = "
             f"buyers ÷ conversion; visitors are shown as average daily UV (weekly UV is not "
             f"the sum of daily UV). ROI (投产比) = revenue ÷ ad spend. Neighbouring weeks that share a "
             f"promotion have the outlook's total re-split by our history's day-by-day promotion "
             f"profile (the weekly forecast treats all promotion days alike); the two-month "
             f"total is the outlook's."]
    lines += list(plan.notes)  # type: ignore[attr-defined]
    first = w.iloc[0]
    brief = (f"首周日均访客 {fmt_number(first.get('uv_avg_daily'))}，转化率 "
             f"{fmt_share(first.get('conversion'), 2)}，客单价 {fmt_money(first.get('aov'), currency)}，"
             f"ROI {fmt_number(first.get('roi'), 2)}（由 支付金额 = 访客数 × 支付转化率 × 客单价 推算）")
    return Section("targets", title, page, lines, w[cols],
                   {"revenue": "{:,.0f}", "uv_avg_daily": "{:,.0f}", "conversion": "{:.2%}",
                    "aov": "{:,.2f}", "buyers": "{:,.0f}", "roi": "{:.2f}", "profit": "{:,.0f}"},
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


@dataclass
class Tracking:
    """Plan against actual for one study week.

    Attributes
    ----------
    plan_report : str
        ``category/week`` of the approved plan compared ("" when there is none).
    compared : DataFrame
        :func:`research.plan.operating.plan_vs_actual` rows (empty without a plan).
    revised : DataFrame
        :func:`research.plan.operating.revised_outlook`.
    lines : list of str
        What was compared and how, or why nothing was.
    """

    plan_report: str
    compared: pd.DataFrame
    revised: pd.DataFrame
    lines: list[str] = field(default_factory=list)


def track_plan(warehouse: str | os.PathLike[str], reports_root: str | os.PathLike[str],
               category: str, week: str, sales: pd.DataFrame,
               traffic_visitors: pd.Series | None, forecast: pd.DataFrame | None,
               threshold: float = 0.15) -> Tracking:
    """Compare the latest chairman-approved earlier plan with this week's actuals.

    Parameters
    ----------
    warehouse, reports_root : path-like
        Where the approval log and the earlier reports are.
    category, week : str
        This study's category and week; only plans of earlier weeks count, and only actuals
        up to this week's Sunday are read.
    sales : DataFrame
        Our ``sales`` rows.
    traffic_visitors : Series, optional
        Our daily UV from ``traffic``.
    forecast : DataFrame, optional
        This week's ``forecast.csv`` (the revised outlook for the rest of the plan period).
    threshold : float
        Flag beyond this fraction.
    """
    from research.plan import approvals
    from research.plan import operating as plan_mod

    empty = pd.DataFrame()
    found = approvals.latest_approved(warehouse, reports_root, category, week)
    if found is None:
        return Tracking("", empty, empty, [
            f"No plan for {category} from a week before {week} is approved by the chairman "
            f"with a valid signature (looked under {reports_root}): nothing to compare yet."])
    folder, state = found
    targets = read_result(folder, "plan_weekly")
    if targets is None:
        return Tracking(state.report, empty, empty, [
            f"The approved plan {state.report} has no results/plan_weekly.csv: it cannot be "
            f"compared."])
    signed = [d for d in state.decisions if d["role"] == "chairman" and not d["stale"]]
    lines = [f"Compared with the plan of {state.report}, approved by "
             + (f"{signed[-1]['name']} on {signed[-1]['decided_at']}" if signed else "the chairman")
             + f"; actuals from sales and traffic up to the Sunday of {week}. Variance = actual "
             f"÷ target − 1; cumulative progress = Σ actual ÷ Σ target since the plan began; "
             f"flagged when a target is missed by more than {threshold:.0%} (ad spend: "
             f"exceeded). Profit uses the plan's own platform-fee rate "
             f"({plan_mod.plan_fee_rate(targets):.1%} of revenue)."]
    compared = plan_mod.compare_with_plan(targets, sales, traffic_visitors, week, threshold)
    if compared.empty:
        lines.append(f"The plan's weeks ({targets['week'].min()} – {targets['week'].max()}) "
                     f"start after {week}: no week to compare yet.")
    fw = plan_mod.weekly_targets_from_forecast(forecast) if forecast is not None else empty
    if forecast is None:
        lines.append("forecast.html did not leave results/forecast.csv: no revised outlook.")
    revised = plan_mod.revised_outlook(targets, compared, fw, week)
    return Tracking(state.report, compared, revised, lines)


@dataclass
class StudyInputs:
    """What the plan summary reads from the warehouse, cut at the study week's Sunday.

    Attributes
    ----------
    week : str
    end : Timestamp
        The study week's Sunday (nothing later is kept).
    shop : str
        Our shop ("" when the sales data do not name it).
    sales : DataFrame
        Our ``sales`` rows up to ``end``.
    visitors : Series
        Our daily UV from ``traffic`` (Σ over channels per day), index date.
    events : DataFrame
        Event days (built-in promotions and the warehouse's ``events``) from the history to
        nine weeks after ``end``.
    leaf_counts : Series
        Listings per leaf category on the latest item snapshot up to ``end``.
    unit_cost : float
        Our unit cost (the parameter, or our sales' mean unit cost).
    unit_cost_basis : str
    """

    week: str
    end: pd.Timestamp
    shop: str
    sales: pd.DataFrame
    visitors: pd.Series
    events: pd.DataFrame
    leaf_counts: pd.Series
    unit_cost: float
    unit_cost_basis: str


def study_inputs(warehouse: str | os.PathLike[str], category: str, week: str = "",
                 shop: str = "", unit_cost: float = 0.0, history_weeks: int = 8,
                 horizon_weeks: int = 9) -> StudyInputs:
    """Read our sales, our daily UV, the event calendar and the leaf categories.

    ``week`` empty = the last complete week of our sales; ``shop`` empty = the shop most
    often named in our sales; ``unit_cost`` 0 = :func:`our_unit_cost` over ``history_weeks``.
    """
    from research.calendar import promotion_calendar
    from research.store.events import events_from_warehouse
    from research.store.warehouse import read
    from research.weeks import last_complete_week, week_bounds

    sales = read("sales", warehouse)
    study_week = week or (last_complete_week(sales["date"]) if len(sales) else "")
    if not study_week:
        raise ValueError("no week given and no sales to find the last complete week in")
    end = week_bounds(study_week)[1]
    ours = shop or (str(sales["shop"].dropna().mode().iloc[0])
                    if len(sales) and sales["shop"].notna().any() else "")
    if ours and sales["shop"].notna().any():
        sales = sales[sales["shop"] == ours]
    sales = sales[sales["date"] <= end].reset_index(drop=True)
    traffic = read("traffic", warehouse, shop=ours, columns=["date", "visitors"]) if ours \
        else pd.DataFrame(columns=["date", "visitors"])
    visitors = traffic[traffic["date"] <= end].groupby("date")["visitors"].sum().astype(float)
    start = sales["date"].min() if len(sales) else end - pd.Timedelta(days=365)
    events = promotion_calendar(start, end + pd.Timedelta(days=7 * horizon_weeks),
                                extra=events_from_warehouse(warehouse))
    items = read("items", warehouse, category=category,
                 columns=["snapshot_date", "leaf_category"])
    items = items[items["snapshot_date"] <= end]
    last = items[items["snapshot_date"] == items["snapshot_date"].max()] if len(items) else items
    leaf = last["leaf_category"].dropna().astype(str).value_counts()
    if unit_cost > 0:
        cost, basis = float(unit_cost), "the unit_cost parameter"
    else:
        cost = our_unit_cost(sales, end, history_weeks)
        basis = f"our sales' mean unit cost over the last {history_weeks} weeks"
    return StudyInputs(study_week, end, ours, sales, visitors, events, leaf, cost, basis)


def make_plan(output_dir: str | os.PathLike[str], inputs: StudyInputs, history_weeks: int = 8
              ) -> tuple[object | None, str]:
    """Build the operating plan from this study's ``forecast.csv``.

    Returns
    -------
    (OperatingPlan or None, str)
        The plan, or ``None`` and the reason there is none.
    """
    from research.plan import operating as plan_mod

    forecast = read_result(output_dir, "forecast")
    if forecast is None:
        return None, ("forecast.html did not leave results/forecast.csv (the page failed or was "
                      "not run): no targets and no plan.xlsx.")
    try:
        return plan_mod.build_plan(forecast, inputs.sales, inputs.visitors, inputs.events,
                                   inputs.end, history_weeks), ""
    except ValueError as exc:
        return None, f"No plan could be made: {exc}."


def plot_tracking(compared: pd.DataFrame, metric: str = "revenue") -> Any:
    """Bars of the target and the actual of ``metric`` per week, flagged weeks in red."""
    import matplotlib.pyplot as plt

    rows = compared[compared["metric"] == metric]
    if rows.empty:
        return None
    fig, ax = plt.subplots(figsize=(9, 3.2))
    x = np.arange(len(rows))
    ax.bar(x - 0.2, rows["target"], width=0.4, color="0.75", label="目标 target")
    ax.bar(x + 0.2, rows["actual"], width=0.4,
           color=["tab:red" if f else "tab:blue" for f in rows["flag"]], label="实际 actual")
    ax.set_xticks(x, rows["week"])
    ax.set_title(f"{metric}: plan target and actual per week (red = flagged)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def reports_root_for(output_dir: str | os.PathLike[str], category: str,
                     reports_root: str = "") -> Path:
    """Where earlier study weeks are: ``reports_root`` if given; else, when ``output_dir`` is a
    week folder of a study (``<root>/<category>/<week or build folder>``), that ``<root>``;
    else :func:`research.config.default_reports`.

    Examples
    --------
    >>> str(reports_root_for("/r/保温杯/.2026-W47.building-12", "保温杯"))
    '/r'
    """
    from research.config import default_reports

    if reports_root:
        return Path(reports_root)
    out = Path(output_dir) if output_dir else None
    if out is not None and out.parent.name == category:
        return out.parent.parent
    return default_reports()
