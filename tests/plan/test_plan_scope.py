"""The plan of a shop selling in two categories uses only the studied category's sales.

On the sample market our shop (暖杯记旗舰店) sells 保温杯 and 儿童水杯 (truth.json
``second_category``); the sales export has no category column, so its rows are tied to a
category only through our item ids listed in that category's ``items`` snapshots. Every
number checked here is computed by hand from the sales rows of the category's items.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from research.pages.results import write_result
from research.plan.page import our_visitors, study, study_inputs
from research.store.scope import resolve_scope
from research.store.warehouse import read
from research.weeks import iso_week, week_bounds

WEEK = "2026-W44"
HISTORY = 8


def _forecast_csv(first_monday: str, weeks: int = 9) -> pd.DataFrame:
    """A shop outlook as the forecast page writes it (the same for every test)."""
    rows = []
    for i, day in enumerate(pd.date_range(first_monday, periods=weeks, freq="7D")):
        rev = 150_000.0 + 1_000 * i
        vals = {"units": rev / 100, "revenue": rev, "cost": rev * 0.4, "ad_spend": rev * 0.1,
                "refunds": rev * 0.02, "platform_fees": rev * 0.05}
        vals["profit"] = rev - sum(v for k, v in vals.items() if k not in ("units", "revenue"))
        rows += [{"series": s, "date": f"{day:%Y-%m-%d}", "point": p, "lo80": p * 0.9,
                  "hi80": p * 1.1, "lo95": p * 0.8, "hi95": p * 1.2, "model": "theta"}
                 for s, p in vals.items()]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def by_hand(sample_warehouse: Path, truth: dict) -> dict:
    """Our sales rows, split by hand into the two categories through the items table."""
    items = read("items", sample_warehouse, columns=["item_id", "shop", "category"])
    ours = items[items["shop"] == truth["our_shop"]]
    cups = set(ours.loc[ours["category"] == "保温杯", "item_id"])
    kids = set(ours.loc[ours["category"] == truth["second_category"]["category"], "item_id"])
    sales = read("sales", sample_warehouse)
    end = week_bounds(WEEK)[1]
    sales = sales[sales["date"] <= end]
    return {"cups": sales[sales["item_id"].isin(cups)], "kids": sales[sales["item_id"].isin(kids)],
            "all": sales, "end": end}


def _weekly(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame.groupby(frame["date"].map(iso_week))[column].sum()


def test_the_sample_shop_sells_in_two_categories(by_hand: dict, truth: dict) -> None:
    assert len(by_hand["cups"]) and len(by_hand["kids"])
    assert len(by_hand["cups"]) + len(by_hand["kids"]) == len(by_hand["all"])
    assert set(by_hand["kids"]["shop"]) == set(by_hand["cups"]["shop"]) == {truth["our_shop"]}
    # a leak would be visible: the other category adds ≥ 15 % to the last eight weeks' revenue
    start = by_hand["end"] - pd.Timedelta(days=7 * HISTORY - 1)
    recent = [f[f["date"] >= start]["revenue"].sum() for f in (by_hand["cups"], by_hand["kids"])]
    assert recent[1] / recent[0] > 0.15


def test_plan_history_uses_only_the_category(sample_warehouse: Path, by_hand: dict) -> None:
    scope = resolve_scope(sample_warehouse, "保温杯", week=WEEK)
    inputs = study_inputs(sample_warehouse, scope, history_weeks=HISTORY)
    cups = by_hand["cups"]
    assert set(inputs.sales["item_id"]) == set(cups["item_id"])
    for column in ("revenue", "units", "buyers", "visitors"):
        got, want = _weekly(inputs.sales, column), _weekly(cups, column)
        pd.testing.assert_series_equal(got, want, check_names=False, check_dtype=False)
    assert inputs.sales["revenue"].sum() < 0.9 * by_hand["all"]["revenue"].sum()
    # mean unit cost of the last eight weeks: Σ units × cost ÷ Σ units of the category's rows
    recent = cups[cups["date"] >= by_hand["end"] - pd.Timedelta(days=7 * HISTORY - 1)]
    assert inputs.unit_cost == pytest.approx(
        (recent["units"] * recent["unit_cost"]).sum() / recent["units"].sum())
    # the shop-level traffic export also counts the other category's visitors: not used
    visitors, basis = our_visitors(sample_warehouse, scope, inputs.sales)
    assert visitors.empty and "其他类目" not in basis and "之外也有销售" in basis


def test_plan_targets_use_only_the_category(sample_warehouse: Path, by_hand: dict,
                                            tmp_path: Path) -> None:
    scope = resolve_scope(sample_warehouse, "保温杯", week=WEEK)
    out = tmp_path / "保温杯" / WEEK
    monday = week_bounds(WEEK)[1] + pd.Timedelta(days=1)
    write_result(_forecast_csv(f"{monday:%Y-%m-%d}"), out, "forecast")
    page = study(scope, sample_warehouse, out, reports_root=str(tmp_path / "none"),
                 history_weeks=HISTORY)
    assert page.plan is not None
    start = by_hand["end"] - pd.Timedelta(days=7 * HISTORY - 1)
    cups = by_hand["cups"][by_hand["cups"]["date"] >= start]
    shop = by_hand["all"][by_hand["all"]["date"] >= start]
    aov = cups["revenue"].sum() / cups["buyers"].sum()
    conversion = cups["buyers"].sum() / cups["visitors"].sum()
    rates = page.plan.rates
    assert rates["aov"] == pytest.approx(aov) and rates["conversion"] == pytest.approx(conversion)
    assert rates["basis"] == "sales.visitors"
    # the whole shop's rates differ clearly: the check would catch a leak
    assert abs(shop["revenue"].sum() / shop["buyers"].sum() / aov - 1) > 0.03
    weekly = page.plan.weekly
    assert weekly["revenue"].sum() == pytest.approx(sum(150_000.0 + 1_000 * i for i in range(9)))
    assert weekly["buyers"].tolist() == pytest.approx((weekly["revenue"] / aov).tolist())
    assert weekly["uv_sum_daily"].tolist() == pytest.approx(
        (weekly["revenue"] / aov / conversion).tolist())
    # the scope and competitor sections state the set, in the page and the 概况 sheet
    overview = page.overview().set_index("项目")["内容"]
    assert all(c in overview["竞品 · Competitors"] for c in scope.competitors)
    assert scope.competitor_rule in overview["竞品 · Competitors"]
    assert set(page.results()) == {"plan_weekly", "plan_daily", "plan_monthly"}


def test_no_plan_when_no_sales_tie_to_the_category(sample_warehouse: Path,
                                                   tmp_path: Path) -> None:
    """A scope whose category none of our sales can be tied to (no item of ours listed in it)
    gets no plan — even with a forecast present — and says so, Chinese first."""
    scope = resolve_scope(sample_warehouse, "保温杯", week=WEEK)
    untied = replace(scope, our_items=(), sales_basis="我店销售无法归入类目 · none tied")
    out = tmp_path / "out"
    monday = week_bounds(WEEK)[1] + pd.Timedelta(days=1)
    write_result(_forecast_csv(f"{monday:%Y-%m-%d}"), out, "forecast")
    page = study(untied, sample_warehouse, out, reports_root=str(tmp_path / "none"))
    assert page.inputs.sales.empty and page.plan is None
    assert page.write_xlsx(out) is None and not (out / "plan.xlsx").exists()
    targets = page.sections["targets"].missing
    assert targets.startswith("我店在类目「保温杯」没有可归入的销售")
    assert "does not use the whole shop's sales" in targets
    assert page.sections["scope"].lines[0].startswith("我店在类目「保温杯」没有可归入的销售")
    assert page.results() == {} and "none of our sales belong to the category" in page.summary()


def test_the_second_category_plans_on_its_own_sales(sample_warehouse: Path, by_hand: dict,
                                                   truth: dict) -> None:
    second = truth["second_category"]["category"]
    scope = resolve_scope(sample_warehouse, second, week=WEEK)
    inputs = study_inputs(sample_warehouse, scope, history_weeks=HISTORY)
    assert set(inputs.sales["item_id"]) == set(truth["second_category"]["our_items"])
    pd.testing.assert_series_equal(_weekly(inputs.sales, "revenue"),
                                   _weekly(by_hand["kids"], "revenue"), check_names=False)
