"""The forecast page's entry point (:func:`study`): the two-month outlook of our shop in the
study's category, the category's trade index and the competitors' traffic, nine weeks ahead.

What the page reads, and from where
-----------------------------------
- **Our sales** come only from :func:`research.store.scope.our_sales`: our shop's rows tied to
  the scope's category (a ``category`` column where the export has it, else our item ids
  listed in ``items`` of the category), up to the week's Sunday. A shop selling in several
  categories never has another category forecast here; when none of our sales can be tied
  to the category the page says so (``Scope.sales_basis``) and forecasts nothing for our
  shop — never the whole shop.
- **Week, shop, competitors, currency** are the scope's (:class:`research.store.scope.Scope`);
  the page chooses none of them. Nothing after ``Scope.week_end`` is read.
- **Events**: the warehouse ``events`` table plus an analyst ``event_file``, on top of the
  built-in promotion calendar.
- **Competitors' traffic**: average daily UV per week of each shop of ``Scope.competitors``,
  from shop-level rows where the shop has them, else its item rows summed (the same rule as
  the competitor page); a competitor without traffic rows is named.

The outlook's rules (cost, ad spend, fees, profit, ranges, totals) are stated in
:mod:`research.analyses.forecast.outlook`; :func:`weekly_profit` is the same profit formula
applied to history.

Result columns
--------------
``forecast.csv``: series, date (Monday), point, lo/hi per level, model — our shop's metrics,
the named items' units, the category's trade index, each competitor's visitors.
``backtest.csv``: series, model, origin, MASE, sMAPE, coverage per level.
``outlook.csv``: metric, two-month total, low, high, low95, high95.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from research.analyses.forecast.outlook import (
    Outlook,
    shop_outlook,
    weekly_mean,
    weekly_shop_series,
)
from research.calendar import read_event_file
from research.checks import check_parameter
from research.forecasting.engine import ForecastResult, ManyResult, forecast, forecast_many
from research.pages.display import money
from research.store.events import events_from_warehouse
from research.store.scope import Scope, our_sales
from research.store.traffic import shop_rows
from research.store.warehouse import read

__all__ = ["ForecastPage", "study", "check_parameters", "weekly_profit"]

TRADE_SERIES = "trade_index (average daily index)"


def weekly_profit(weekly: pd.DataFrame, platform_fee_rate: float) -> pd.Series:
    """Profit of each history week: revenue − cost − ad spend − refunds − fee rate × revenue.

    The outlook's formula (:mod:`research.analyses.forecast.outlook`) applied to the weeks
    behind us; a missing cost, ad spend or refund counts as 0.

    Examples
    --------
    >>> w = pd.DataFrame({"revenue": [1000.0], "cost": [400.0], "ad_spend": [100.0],
    ...                   "refunds": [np.nan]})
    >>> weekly_profit(w, 0.05).tolist()
    [450.0]
    """
    return (weekly["revenue"] - weekly["cost"].fillna(0) - weekly["ad_spend"].fillna(0)
            - weekly["refunds"].fillna(0) - platform_fee_rate * weekly["revenue"])


def check_parameters(*, items: Sequence[object] = (), horizon_weeks: int = 9,
                     ad_spend_plan: float = 0.0, platform_fee_rate: float = 0.05,
                     event_file: str = "", levels: Sequence[float] = (80, 95)) -> None:
    """Refuse a bad page parameter with its name (a ``ValueError``), before anything is read.

    Examples
    --------
    >>> check_parameters(horizon_weeks=9, platform_fee_rate=0.06, levels=[80, 95])
    >>> check_parameters(platform_fee_rate=5)
    Traceback (most recent call last):
    ...
    research.checks.CheckFailed: parameter 'platform_fee_rate' must be a fraction in [0, 1] \
(5% is 0.05): got 5
    """
    check_parameter("horizon_weeks", horizon_weeks)
    check_parameter("platform_fee_rate", platform_fee_rate)
    check_parameter("levels", list(levels))
    if not levels:
        raise ValueError("forecast parameter levels=[]: at least one interval level")
    if isinstance(ad_spend_plan, bool) or not isinstance(ad_spend_plan, int | float) \
            or not np.isfinite(ad_spend_plan) or ad_spend_plan < 0:
        raise ValueError(f"forecast parameter ad_spend_plan={ad_spend_plan!r}: a number ≥ 0 "
                         "(0 = the history's ad-spend-to-revenue ratio)")
    if isinstance(items, str):
        raise ValueError(f"forecast parameter items={items!r}: a list of item ids")
    if event_file and not Path(event_file).expanduser().is_file():
        raise ValueError(f"forecast parameter event_file={event_file!r}: no such file")


@dataclass
class ForecastPage:
    """Everything the forecast page shows, for one study scope.

    Attributes
    ----------
    scope : Scope
    horizon_weeks : int
    levels : list of int
        Interval levels in percent, the first one the main range.
    platform_fee_rate : float
    sales : DataFrame
        Our sales of the category (:func:`research.store.scope.our_sales`).
    weekly : DataFrame
        Their complete weeks (:func:`~research.analyses.forecast.outlook.weekly_shop_series`).
    events : DataFrame
        Warehouse and analyst event days (on top of the built-in calendar).
    outlook : Outlook or None
        None when our shop cannot be forecast (no sales of the category, too few weeks).
    items : tuple of str
        Items forecast one by one.
    item_forecast : DataFrame
        Their weekly units.
    trade_index : DataFrame
        week, value — the category's weekly average daily trade index.
    trade_forecast : ForecastResult or None
    competitor_uv : DataFrame
        shop, week, value — each competitor's weekly average daily UV.
    competitor_forecast : ManyResult or None
    notes : list of str
        What was used or could not be done, Chinese first.
    """

    scope: Scope
    horizon_weeks: int
    levels: list[int]
    platform_fee_rate: float
    sales: pd.DataFrame
    weekly: pd.DataFrame
    events: pd.DataFrame
    outlook: Outlook | None
    items: tuple[str, ...]
    item_forecast: pd.DataFrame
    trade_index: pd.DataFrame
    trade_forecast: ForecastResult | None
    competitor_uv: pd.DataFrame
    competitor_forecast: ManyResult | None
    notes: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ tables
    def forecast_columns(self) -> list[str]:
        """series, date, point, lo/hi per level, model."""
        return ["series", "date", "point"] + [f"{s}{v}" for v in self.levels
                                              for s in ("lo", "hi")] + ["model"]

    def forecast_table(self) -> pd.DataFrame:
        """Every forecast series of the page (``forecast.csv``)."""
        cols = self.forecast_columns()
        parts = [self.outlook.forecast] if self.outlook is not None else []
        if len(self.item_forecast):
            parts.append(self.item_forecast)
        if self.trade_forecast is not None:
            parts.append(self.trade_forecast.forecast.assign(series=TRADE_SERIES))
        if self.competitor_forecast is not None:
            parts.append(self.competitor_forecast.forecast.assign(
                series=lambda d: "visitors · " + d["series"].astype(str)))
        frames = [p[cols] for p in parts]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)

    def backtest_table(self) -> pd.DataFrame:
        """Backtest of every series (``backtest.csv``)."""
        parts = [self.outlook.backtest] if self.outlook is not None else []
        if self.trade_forecast is not None:
            parts.append(self.trade_forecast.backtest.assign(series=TRADE_SERIES))
        if self.competitor_forecast is not None:
            parts.append(self.competitor_forecast.backtest.assign(
                series=lambda d: "visitors · " + d["series"].astype(str)))
        bt = (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
            columns=["series", "model", "origin", "mase", "smape"]))
        bt = bt.rename(columns={"mase": "MASE", "smape": "sMAPE"})
        return bt[["series", "model", "origin", "MASE", "sMAPE"]
                  + [c for c in bt.columns if c.startswith("coverage")]]

    def totals_table(self) -> pd.DataFrame:
        """Two-month totals of our shop (``outlook.csv``); empty when there is no outlook."""
        if self.outlook is None:
            return pd.DataFrame(columns=["metric", "two-month total", "low", "high"])
        return self.outlook.totals.rename(columns={"two_month_total": "two-month total"})

    def accuracy(self) -> pd.DataFrame:
        """Mean backtest accuracy and coverage per series and model; ``chosen`` marks the
        model each series uses."""
        if self.outlook is None:
            return pd.DataFrame(columns=["series", "model", "mase", "smape", "chosen"])
        bt = self.outlook.backtest
        acc = (bt.groupby(["series", "model"])[["mase", "smape"]
                                               + [f"coverage{v}" for v in self.levels]]
               .mean().reset_index())
        chosen = dict(zip(self.outlook.calendar["series"], self.outlook.calendar["model"],
                          strict=True))
        acc["chosen"] = ["✓" if chosen.get(s) == m else ""
                         for s, m in zip(acc["series"], acc["model"], strict=True)]
        return acc.sort_values(["series", "mase"]).reset_index(drop=True)

    def competitor_outlook(self) -> pd.DataFrame:
        """Per competitor: last week's and the next weeks' average daily UV, the change."""
        cols = ["shop", "last_week", "next_weeks", "change", "model"]
        if self.competitor_forecast is None:
            return pd.DataFrame(columns=cols)
        last = self.competitor_uv.sort_values("week").groupby("shop")["value"].last()
        head = self.competitor_forecast.forecast.groupby("series").agg(
            next_weeks=("point", "mean"), model=("model", "first"))
        head["last_week"] = last.reindex(head.index)
        head["change"] = head["next_weeks"] / head["last_week"] - 1
        return head.reset_index().rename(columns={"series": "shop"})[cols]

    def history_profit(self) -> pd.Series:
        """Profit of the history weeks (:func:`weekly_profit`)."""
        return weekly_profit(self.weekly, self.platform_fee_rate)

    # ------------------------------------------------------------------ PageResult
    def results(self) -> dict[str, pd.DataFrame]:
        """``forecast``, ``backtest`` and ``outlook`` tables by CSV name."""
        return {"forecast": self.forecast_table(), "backtest": self.backtest_table(),
                "outlook": self.totals_table()}

    def summary(self) -> str:
        """One sentence for the study index (Chinese first)."""
        if self.outlook is None:
            return (f"{self.scope.category}：没有可预测的我店销售 · no forecast of our shop "
                    f"({self.notes[0] if self.notes else 'too little sales history'})")
        p = self.outlook.totals.set_index("metric")
        cur = self.scope.currency
        lv = self.levels[0]
        units = (f"{p.loc['units', 'two_month_total']:,.0f}（{p.loc['units', 'low']:,.0f}–"
                 f"{p.loc['units', 'high']:,.0f}）")
        profit = (f"{money(p.loc['profit', 'two_month_total'], cur, 0)}"
                  f"（{money(p.loc['profit', 'low'], cur, 0)}–{money(p.loc['profit', 'high'], cur, 0)}）")
        return (f"未来{self.horizon_weeks}周（{self.scope.category}）：销量 {units}，利润 "
                f"{profit}，{lv}% 区间 · Next {self.horizon_weeks} weeks: "
                f"{p.loc['units', 'two_month_total']:,.0f} units "
                f"({p.loc['units', 'low']:,.0f}–{p.loc['units', 'high']:,.0f}, {lv} %), profit "
                f"{money(p.loc['profit', 'two_month_total'], cur, 0)} "
                f"({money(p.loc['profit', 'low'], cur, 0)}–{money(p.loc['profit', 'high'], cur, 0)}).")


def study(scope: Scope, warehouse: str | os.PathLike[str], *, items: Sequence[object] = (),
          horizon_weeks: int = 9, ad_spend_plan: float = 0.0,
          platform_fee_rate: float = 0.05, event_file: str = "",
          levels: Sequence[float] = (80, 95)) -> ForecastPage:
    """The forecast page for one study scope.

    Parameters
    ----------
    scope : Scope
        Category, study week (nothing after its Sunday is read), our shop, the competitors,
        the currency.
    warehouse : path-like
        The DuckDB warehouse (read-only).
    items : sequence
        Item ids to forecast one by one as well (among our sales of the category).
    horizon_weeks : int
        Weeks ahead (nine ≈ two months).
    ad_spend_plan : float
        Planned ad spend per week; 0 = the history's ad-spend-to-revenue ratio.
    platform_fee_rate : float
        Platform fees as a share of revenue.
    event_file : str
        CSV of analyst events (``date,name`` or ``start,end,name``); empty = none.
    levels : sequence of float
        Interval levels in percent.

    Returns
    -------
    ForecastPage

    Raises
    ------
    ValueError
        A bad parameter, named.
    """
    check_parameters(items=items, horizon_weeks=horizon_weeks, ad_spend_plan=ad_spend_plan,
                     platform_fee_rate=platform_fee_rate, event_file=event_file,
                     levels=levels)
    lv = [int(v) for v in levels]
    level_values = [float(v) for v in levels]
    end = pd.Timestamp(scope.week_end)
    notes: list[str] = []
    sales = our_sales(warehouse, scope)
    events = events_from_warehouse(warehouse)
    if event_file:
        events = pd.concat([events, read_event_file(event_file)], ignore_index=True)

    # our shop, the category's sales only
    weekly = weekly_shop_series(sales, scope.shop, [], end)
    outlook = None
    if sales.empty:
        basis = f"（{scope.sales_basis}）" if scope.sales_basis else ""
        notes.append(f"我店在类目「{scope.category}」没有可归入的销售，不做我店预测，也不用全店销售"
                     f"代替{basis} · None of our sales can be tied to the category "
                     f"{scope.category!r}: no outlook of our shop (the whole shop's sales are "
                     "not used instead).")
    elif len(weekly) < 2:
        notes.append(f"我店本类目只有 {len(weekly)} 个完整周的销售，不足以预测 · Our shop has "
                     f"{len(weekly)} complete week(s) of sales in the category: too little to "
                     "forecast an outlook.")
    else:
        outlook = shop_outlook(weekly, horizon=horizon_weeks, ad_spend_plan=ad_spend_plan,
                               platform_fee_rate=platform_fee_rate, events=events,
                               levels=level_values)
        if weekly["cost"].isna().all():
            notes.append("我店销售数据没有单位成本：成本按 0 计，利润未扣商品成本 · Our sales carry "
                         "no unit cost: cost counts as 0 and profit is before the cost of goods.")
        if ad_spend_plan <= 0 and weekly["ad_spend"].isna().all():
            notes.append("我店销售数据没有推广费，也没有推广费计划：推广费按 0 计 · Our sales carry "
                         "no ad spend and no plan was given: ad spend counts as 0.")

    # named items, among our sales of the category
    wanted = [str(i) for i in items]
    item_fc = pd.DataFrame()
    per_item = sales[sales["item_id"].astype(str).isin(wanted)] if wanted else sales.iloc[:0]
    if len(per_item):
        wk = pd.concat({i: weekly_shop_series(g, scope.shop, [], end)["units"]
                        for i, g in per_item.groupby("item_id")}, names=["item_id", "week"]
                       ).reset_index()
        many = forecast_many(wk, "item_id", "week", "units", horizon=horizon_weeks, freq="W",
                             events=events, levels=level_values)
        item_fc = many.forecast.assign(series=lambda d: "units · item " + d["series"].astype(str))
    missing = sorted(set(wanted) - set(per_item["item_id"].astype(str)))
    if missing:
        notes.append(f"指定商品在本类目我店销售中没有记录：{'、'.join(missing)} · Named items with "
                     f"no sales rows of ours in the category: {', '.join(missing)}.")

    # the category's trade index
    market = read("market_daily", warehouse, category=scope.category, where="date <= ?",
                  params=[end.date()])
    trade = pd.DataFrame(columns=["week", "value"])
    trade_fc = None
    if len(market) and market["trade_index"].notna().any():
        trade = weekly_mean(market, "date", "trade_index", end=end)
        trade_fc = forecast(trade.set_index("week")["value"], horizon=horizon_weeks, freq="W",
                            events=events, levels=level_values, name="trade_index")
    else:
        notes.append(f"仓库中没有类目「{scope.category}」的交易指数：不做类目预测 · The warehouse "
                     f"has no trade index for {scope.category!r}: no category outlook.")

    # the scope's competitors' traffic
    comps = [c for c in scope.competitors if c and c != scope.shop]
    traffic = read("traffic", warehouse, shop=comps, where="date <= ?",
                   params=[end.date()]) if comps else read("traffic", warehouse, where="FALSE")
    traffic = shop_rows(traffic)
    uv = pd.DataFrame(columns=["shop", "week", "value"])
    comp_fc = None
    if len(traffic):
        uv = weekly_mean(traffic, "date", "visitors", by="shop", end=end)
    if len(uv):
        comp_fc = forecast_many(uv, "shop", "week", "value", horizon=horizon_weeks, freq="W",
                                events=events, levels=level_values)
    absent = [c for c in comps if c not in set(uv["shop"])]
    if not comps:
        notes.append(f"研究范围没有竞品（{scope.competitor_rule}）：不做竞品流量预测 · The scope "
                     "has no competitors: no competitor outlook.")
    elif absent:
        notes.append(f"{'、'.join(absent)} 没有完整周的流量数据：不做其流量预测 · No complete "
                     f"week of traffic for {', '.join(absent)}: no traffic outlook for them.")
    return ForecastPage(scope, horizon_weeks, lv, float(platform_fee_rate), sales, weekly,
                        events, outlook, tuple(wanted), item_fc, trade, trade_fc, uv, comp_fc,
                        notes)
