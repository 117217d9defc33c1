"""The plan summary page (计划摘要): one call, :func:`study`, for ``plan_summary.ipynb``.

``study(scope, warehouse, output_dir, …)`` reads our sales of the scope's category
(:func:`research.store.scope.our_sales` — never the whole shop), our visitors where they can
be tied to the category, the event calendar and the leaf categories; restates the other
pages' ``results/`` CSVs as sections (:mod:`research.plan.summary`); builds the operating
plan from ``forecast.csv``; and compares the latest approved earlier plan with the
category's actuals. It returns a :class:`PlanPage` (``.results()``, ``.summary()``, the
protocol of :class:`research.pages.results.PageResult`), whose :meth:`PlanPage.write_xlsx`
writes ``plan.xlsx``. The plan reads other pages only through their result files, never by
importing them.

Where none of our sales can be tied to the category, the page says so and makes no targets
and no ``plan.xlsx`` instead of planning on the whole shop.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from research.calendar import promotion_calendar
from research.config import default_reports
from research.pages.display import money
from research.pages.results import read_result
from research.plan.approvals import PlanStatus, damaged_weeks, draft_status, latest_approved
from research.plan.gaps import data_gaps
from research.plan.operating import OperatingPlan, build_plan, weekly_targets_from_forecast
from research.plan.summary import (
    Section,
    advantages_section,
    competitors_section,
    keywords_section,
    listings_section,
    our_unit_cost,
    outlook_section,
    price_section,
    scope_section,
    summary_frame,
    targets_section,
)
from research.plan.tracking import compare_with_plan, plan_fee_rate, revised_outlook
from research.plan.xlsx import write_plan_xlsx
from research.store.events import events_from_warehouse
from research.store.scope import Scope, our_sales
from research.store.warehouse import read

__all__ = ["PlanPage", "study", "StudyInputs", "study_inputs", "our_visitors", "make_plan",
           "Tracking", "track_plan", "plot_tracking", "reports_root_for"]


@dataclass
class Tracking:
    """Plan against actual for one study week.

    Attributes
    ----------
    plan_report : str
        ``category/week`` of the approved plan compared ("" when there is none).
    compared : DataFrame
        :func:`research.plan.tracking.plan_vs_actual` rows (empty without a plan).
    revised : DataFrame
        :func:`research.plan.tracking.revised_outlook`.
    lines : list of str
        What was compared and how, or why nothing was.
    """

    plan_report: str
    compared: pd.DataFrame
    revised: pd.DataFrame
    lines: list[str] = field(default_factory=list)


def track_plan(warehouse: str | os.PathLike[str], reports_root: str | os.PathLike[str],
               scope: Scope, sales: pd.DataFrame, traffic_visitors: pd.Series | None,
               forecast: pd.DataFrame | None, threshold: float = 0.15) -> Tracking:
    """Compare the latest chairman-approved earlier plan with this week's actuals.

    Parameters
    ----------
    warehouse, reports_root : path-like
        Where the approval log and the earlier reports are.
    scope : Scope
        This study's scope: only plans of its category from earlier weeks count.
    sales : DataFrame
        Our ``sales`` rows of the category up to the week's Sunday
        (:func:`research.store.scope.our_sales`) — the actuals.
    traffic_visitors : Series, optional
        Our daily UV from ``traffic``, where it can be tied to the category
        (:func:`our_visitors`).
    forecast : DataFrame, optional
        This week's ``forecast.csv`` (the revised outlook for the rest of the plan period).
    threshold : float
        Flag beyond this fraction.
    """
    empty = pd.DataFrame()
    category, week = scope.category, scope.week
    skipped = [f"跳过报告文件损坏的 {exc.path.parent.parent.name}/{exc.path.parent.name}"
               f"（不参与对比）。 · Skipped {exc.path.parent.parent.name}/"
               f"{exc.path.parent.name}, whose report is damaged (not compared): {exc}"
               for exc in damaged_weeks(reports_root, category, week)]
    found = latest_approved(warehouse, reports_root, category, week)
    if found is None:
        return Tracking("", empty, empty, [
            f"{week} 之前没有经董事长批准且签名仍有效的「{category}」计划（查找位置 "
            f"{reports_root}）：暂无可对比。 · No plan for {category} from a week before {week} "
            f"is approved by the chairman with a valid signature (looked under "
            f"{reports_root}): nothing to compare yet.", *skipped])
    folder, state = found
    targets = read_result(folder, "plan_weekly")
    if targets is None:
        return Tracking(state.report, empty, empty, [
            f"已批准的计划 {state.report} 没有 results/plan_weekly.csv，无法对比。 · The approved "
            f"plan {state.report} has no results/plan_weekly.csv: it cannot be compared.",
            *skipped])
    if sales.empty:
        return Tracking(state.report, empty, empty, [
            f"我店在类目「{category}」没有可归入的销售，无法与已批准的计划 {state.report} 对比"
            f"（不以全店销售代替）。 · None of our sales can be tied to the category "
            f"{category!r}: the approved plan {state.report} is not compared (the whole "
            f"shop's sales are not used instead).", *skipped])
    signed = [d for d in state.decisions if d["role"] == "chairman" and not d["stale"]]
    who = f"{signed[-1]['name']} on {signed[-1]['decided_at']}" if signed else "the chairman"
    lines = [f"对比 {state.report} 的计划（{who} 批准）与本类目截至 {week} 周日的实际。 · "
             f"Compared with the plan of {state.report}, approved by {who}; actuals from our "
             f"sales of {category} (and traffic where it can be tied to the category) up to "
             f"the Sunday of {week}. Variance = actual ÷ target − 1; cumulative progress = "
             f"Σ actual ÷ Σ target since the plan began; flagged when a target is missed by "
             f"more than {threshold:.0%} (ad spend: exceeded). Profit uses the plan's own "
             f"platform-fee rate ({plan_fee_rate(targets):.1%} of revenue).", *skipped]
    compared = compare_with_plan(targets, sales, traffic_visitors, week, threshold)
    if compared.empty:
        lines.append(f"计划周（{targets['week'].min()} – {targets['week'].max()}）在 {week} "
                     f"之后开始：尚无可对比的周。 · The plan's weeks ({targets['week'].min()} – "
                     f"{targets['week'].max()}) start after {week}: no week to compare yet.")
    fw = weekly_targets_from_forecast(forecast) if forecast is not None else empty
    if forecast is None:
        lines.append("销售预测页（forecast.html）没有留下 results/forecast.csv：没有修正展望。 · "
                     "forecast.html did not leave results/forecast.csv: no revised outlook.")
    revised = revised_outlook(targets, compared, fw, week)
    return Tracking(state.report, compared, revised, lines)


@dataclass
class StudyInputs:
    """What the plan summary reads from the warehouse for one scope, cut at its Sunday.

    Attributes
    ----------
    scope : Scope
        The study's scope (week, category, our shop, competitors).
    end : Timestamp
        The study week's Sunday (nothing later is kept).
    sales : DataFrame
        Our ``sales`` rows of the scope's category up to ``end``
        (:func:`research.store.scope.our_sales`); empty when none can be tied to it.
    visitors : Series
        Our daily UV from ``traffic`` where it can be tied to the category, index date
        (:func:`our_visitors`); empty otherwise.
    visitors_basis : str
        Why ``visitors`` holds what it holds (Chinese, then English).
    events : DataFrame
        Event days (built-in promotions and the warehouse's ``events``) from the history to
        ``horizon_weeks`` after ``end``.
    leaf_counts : Series
        Listings per leaf category on the latest item snapshot of the category up to ``end``.
    unit_cost : float
        Our unit cost (the parameter, or our sales' mean unit cost).
    unit_cost_basis : str
    """

    scope: Scope
    end: pd.Timestamp
    sales: pd.DataFrame
    visitors: pd.Series
    visitors_basis: str
    events: pd.DataFrame
    leaf_counts: pd.Series
    unit_cost: float
    unit_cost_basis: str

    @property
    def week(self) -> str:
        """The study week (the scope's)."""
        return self.scope.week

    @property
    def shop(self) -> str:
        """Our shop (the scope's)."""
        return self.scope.shop


def our_visitors(warehouse: str | os.PathLike[str], scope: Scope, sales: pd.DataFrame
                 ) -> tuple[pd.Series, str]:
    """Our daily UV from ``traffic`` up to the week's Sunday, only where it belongs to the
    category.

    Item-level traffic rows count for our items of the category (``scope.our_items``).
    Shop-level rows (no item id) count only when every sales row of our shop up to the
    Sunday is one of the category's (``sales``): a shop that also sells elsewhere would
    bring the other categories' visitors in. The plan prefers the visitors of the sales rows
    anyway (:func:`research.plan.operating.history_rates`); this is its fallback.

    Returns
    -------
    (Series, str)
        Daily UV (index date, may be empty) and the reason, Chinese first.
    """
    none = pd.Series(dtype=float, index=pd.DatetimeIndex([], name="date"), name="visitors")
    end = pd.Timestamp(scope.week_end)
    if not scope.shop:
        return none, "没有我店，不读流量表 · no shop of ours: traffic not read"
    traffic = read("traffic", warehouse, shop=scope.shop, columns=["date", "item_id",
                                                                   "visitors"])
    traffic = traffic[traffic["date"] <= end]
    if traffic.empty:
        return none, "流量表没有我店的行 · the traffic table has no rows of our shop"
    item = traffic["item_id"].fillna("").astype(str)
    mine = traffic[item.isin(scope.our_items)]
    if len(mine):
        return (mine.groupby("date")["visitors"].sum().astype(float),
                "流量表中本类目我店商品的访客 · traffic rows of our items in the category")
    whole = read("sales", warehouse, shop=scope.shop, columns=["date"])
    whole_rows = int((whole["date"] <= end).sum())
    if len(sales) and whole_rows == len(sales):
        shop_rows = traffic[item == ""]
        return (shop_rows.groupby("date")["visitors"].sum().astype(float),
                "流量表全店访客（我店只在本类目有销售） · shop-level traffic (our shop sells only "
                "in this category)")
    return none, (f"流量表是全店数据，而我店在类目「{scope.category}」之外也有销售"
                  f"（{whole_rows - len(sales):,} 行）：不用于本类目，访客数取自销售表 · the "
                  f"traffic is shop-level and our shop also sells outside {scope.category!r} "
                  f"({whole_rows - len(sales):,} sales rows): not used; visitors come from the "
                  f"sales rows")


def study_inputs(warehouse: str | os.PathLike[str], scope: Scope, unit_cost: float = 0.0,
                 history_weeks: int = 8, horizon_weeks: int = 9) -> StudyInputs:
    """Read our sales of the category, our daily UV, the event calendar and the leaf
    categories for ``scope``.

    Nothing of the scope is re-derived here: the week, our shop and the category are the
    scope's, and our sales are :func:`research.store.scope.our_sales` (restricted to the
    category). ``unit_cost`` 0 = :func:`our_unit_cost` over ``history_weeks``.
    """
    end = pd.Timestamp(scope.week_end)
    sales = our_sales(warehouse, scope)
    sales = sales[sales["date"] <= end].reset_index(drop=True)
    visitors, visitors_basis = our_visitors(warehouse, scope, sales)
    start = sales["date"].min() if len(sales) else end - pd.Timedelta(days=365)
    events = promotion_calendar(start, end + pd.Timedelta(days=7 * horizon_weeks),
                                extra=events_from_warehouse(warehouse))
    items = read("items", warehouse, category=scope.category,
                 columns=["snapshot_date", "leaf_category"])
    items = items[items["snapshot_date"] <= end]
    last = items[items["snapshot_date"] == items["snapshot_date"].max()] if len(items) else items
    leaf = last["leaf_category"].dropna().astype(str).value_counts()
    if unit_cost > 0:
        cost, basis = float(unit_cost), "the unit_cost parameter"
    else:
        cost = our_unit_cost(sales, end, history_weeks)
        basis = (f"our sales' mean unit cost in {scope.category} over the last "
                 f"{history_weeks} weeks")
    return StudyInputs(scope, end, sales, visitors, visitors_basis, events, leaf, cost, basis)


def make_plan(output_dir: str | os.PathLike[str], inputs: StudyInputs, history_weeks: int = 8
              ) -> tuple[OperatingPlan | None, str]:
    """Build the operating plan from this study's ``forecast.csv`` and our sales of the
    category.

    Returns
    -------
    (OperatingPlan or None, str)
        The plan, or ``None`` and the reason there is none (Chinese, then English).
    """
    scope = inputs.scope
    if inputs.sales.empty:
        return None, (f"我店在类目「{scope.category}」没有可归入的销售（{scope.sales_basis}）："
                      f"不以全店销售代替，不做目标，也不写 plan.xlsx。 · None of our sales can be "
                      f"tied to the category {scope.category!r}: the plan does not use the "
                      f"whole shop's sales instead — no targets and no plan.xlsx.")
    forecast = read_result(output_dir, "forecast")
    if forecast is None:
        return None, ("销售预测页（forecast.html）没有留下 results/forecast.csv（该页失败或未运行）："
                      "没有目标，也没有 plan.xlsx。 · forecast.html did not leave "
                      "results/forecast.csv (the page failed or was not run): no targets and "
                      "no plan.xlsx.")
    try:
        return build_plan(forecast, inputs.sales, inputs.visitors, inputs.events,
                          inputs.end, history_weeks), ""
    except ValueError as exc:
        return None, f"无法制定计划 · No plan could be made: {exc}."


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
    if reports_root:
        return Path(reports_root)
    out = Path(output_dir) if output_dir else None
    if out is not None and out.parent.name == category:
        return out.parent.parent
    return default_reports()


@dataclass
class PlanPage:
    """What the plan summary page shows and writes (a :class:`~research.pages.results.PageResult`).

    Attributes
    ----------
    scope : Scope
    inputs : StudyInputs
    sections : dict of str → Section
        ``scope``, ``competitors``, ``advantages``, ``keywords``, ``price``, ``listings``,
        ``outlook``, ``targets`` in that order (the rows of the 概况 sheet).
    plan : OperatingPlan or None
        ``None`` when there is no forecast or none of our sales belong to the category.
    tracking : Tracking
        Plan against actual.
    state : PlanStatus
        This run's approval status (a new bundle starts as 草稿).
    currency : str
    """

    scope: Scope
    inputs: StudyInputs
    sections: dict[str, Section]
    plan: OperatingPlan | None
    tracking: Tracking
    state: PlanStatus
    currency: str = "CNY"
    title: str = field(default="")

    def results(self) -> dict[str, pd.DataFrame]:
        """``plan_weekly``/``plan_daily``/``plan_monthly`` (with a plan) and
        ``plan_vs_actual`` (when an approved plan was compared)."""
        out: dict[str, pd.DataFrame] = {}
        if self.plan is not None:
            out |= {"plan_weekly": self.plan.weekly, "plan_daily": self.plan.daily,
                    "plan_monthly": self.plan.monthly}
        if len(self.tracking.compared):
            out["plan_vs_actual"] = self.tracking.compared
        return out

    def summary(self) -> str:
        """One sentence for the study's index: status, the plan's totals, flagged weeks."""
        parts = [f"状态 {self.state.status}", f"竞品 {len(self.scope.competitors)} 家"]
        if self.plan is not None:
            w = self.plan.weekly
            parts.append(f"plan {w['week'].iloc[0]}–{w['week'].iloc[-1]}: revenue "
                         f"{money(w['revenue'].sum(), self.currency, 0)}, profit "
                         f"{money(w['profit'].sum(), self.currency, 0)}")
        elif self.inputs.sales.empty:
            parts.append("no plan (none of our sales belong to the category)")
        else:
            parts.append("no plan (no forecast)")
        compared = self.tracking.compared
        if self.tracking.plan_report:
            flags = compared[compared["flag"]] if len(compared) else compared
            parts.append(f"vs {self.tracking.plan_report}: {len(flags)} flagged target-week(s)"
                         + (f" ({', '.join(sorted(set(flags['metric'])))})" if len(flags)
                            else ""))
        return "; ".join(parts) + "."

    def overview(self) -> pd.DataFrame:
        """The 概况 sheet: one row per section (项目, 内容, 来源)."""
        return summary_frame(list(self.sections.values()))

    def write_xlsx(self, output_dir: str | os.PathLike[str]) -> Path | None:
        """Write ``plan.xlsx`` (概况, 日计划, 周计划, 月计划) into ``output_dir``; ``None``
        (nothing written) without a plan."""
        if self.plan is None:
            return None
        return write_plan_xlsx(Path(output_dir) / "plan.xlsx", self.overview(), self.plan.daily,
                               self.plan.weekly, self.plan.monthly, self.title, self.currency)


def study(scope: Scope, warehouse: str | os.PathLike[str], output_dir: str | os.PathLike[str],
          *, reports_root: str = "", listings: int = 0, leaf_categories: Sequence[str] = (),
          unit_cost: float = 0.0, min_margin: float = 0.3, flag_threshold: float = 0.15,
          history_weeks: int = 8) -> PlanPage:
    """The plan summary of one study week.

    Parameters
    ----------
    scope : Scope
        The study's scope (resolved once by ``research run`` or by the notebook).
    warehouse : path-like
        The DuckDB file.
    output_dir : path-like
        The study's output folder, where the other pages left ``results/``.
    reports_root : str
        Where earlier (approved) plans are; empty: :func:`reports_root_for`.
    listings : int
        Planned number of listings for the next two months.
    leaf_categories : sequence of str
        Planned leaf categories (checked against the items data).
    unit_cost : float
        Our unit cost for the price margin; 0: our sales' mean unit cost in the category.
    min_margin : float
        Minimum acceptable margin.
    flag_threshold : float
        Plan against actual: flag a target missed by more than this fraction.
    history_weeks : int
        Weeks of our history for 客单价, conversion and the weekday profile.

    Returns
    -------
    PlanPage
    """
    currency = scope.currency or "CNY"
    inputs = study_inputs(warehouse, scope, unit_cost, history_weeks)
    op, why = make_plan(output_dir, inputs, history_weeks)
    targets = targets_section(op, currency)
    if why:
        targets.missing = why
    gaps = data_gaps(warehouse, scope, len(inputs.sales))
    sections = {
        "scope": scope_section(scope, len(inputs.sales)),
        "competitors": competitors_section(scope),
        "advantages": advantages_section(output_dir, gap=gaps.get("items") or gaps.get(
            "competitors") or gaps.get("our_items")),
        "keywords": keywords_section(output_dir, gap=gaps.get("keywords")),
        "price": price_section(output_dir, inputs.unit_cost, min_margin, currency,
                               gap=gaps.get("items")),
        "listings": listings_section(listings, list(leaf_categories), inputs.leaf_counts,
                                     gap=gaps.get("items")),
        "outlook": outlook_section(output_dir, currency, gap=gaps.get("sales")),
        "targets": targets,
    }
    root = reports_root_for(output_dir, scope.category, reports_root)
    tracking = track_plan(warehouse, root, scope, inputs.sales, inputs.visitors,
                          read_result(output_dir, "forecast"), flag_threshold)
    state = draft_status(warehouse, scope.category, scope.week)
    return PlanPage(scope, inputs, sections, op, tracking, state, currency,
                    f"{scope.category} {scope.week} 运营计划")
