"""The plan in the weekly study: plan.xlsx, sign-off from the command line, stale signatures
after a re-run, and plan against actual on the sample market's planted shortfall."""

from __future__ import annotations

import json
import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from research.cli import main
from research.plan import approvals
from research.store.warehouse import read
from research.weeks import iso_week

# --------------------------------------------------------------------------- CLI refusals (fast)


@pytest.fixture
def bundle(tmp_path: Path) -> tuple[Path, Path, Path]:
    reports = tmp_path / "reports"
    week = reports / "保温杯" / "2026-W44"
    (week / "results").mkdir(parents=True)
    (week / "manifest.json").write_text(json.dumps({"category": "保温杯", "week": "2026-W44"}))
    page = f"<html><body>{approvals.STATUS_START}{approvals.STATUS_END}<p>x</p></body></html>"
    for name in ("plan_summary.html", "index.html"):
        (week / name).write_text(page, encoding="utf-8")
    return week, tmp_path / "w.duckdb", reports


def _cli(*args: str) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_cli_refuses_with_clear_messages(bundle: tuple[Path, Path, Path]) -> None:
    week, wh, reports = bundle
    common = ["--warehouse", str(wh), "--reports", str(reports)]
    res = _cli("approve", "保温杯/2026-W44", "--role", "chairman", "--name", "李董", *common)
    assert res.exit_code != 0 and "only after the operations director" in res.output
    res = _cli("approve", "保温杯/2026-W44", "--role", "ceo", "--name", "x", *common)
    assert res.exit_code != 0 and "unknown role 'ceo'" in res.output
    res = _cli("approve", "保温杯/2026-W09", "--role", "director", "--name", "x", *common)
    assert res.exit_code != 0 and "no study report" in res.output
    res = _cli("approve", str(week), "--role", "运营总监", "--name", "王总监", *common)
    assert res.exit_code == 0, res.output
    assert "总监已审核" in res.output
    res = _cli("approve", str(week / "index.html"), "--role", "director", "--name", "王总监",
               *common)
    assert res.exit_code != 0 and "already 总监已审核" in res.output
    res = _cli("reject", "保温杯/2026-W44", "--role", "chairman", "--name", "李董", *common)
    assert res.exit_code != 0 and "--comment" in res.output  # required by click
    res = _cli("reject", "保温杯/2026-W44", "--role", "chairman", "--name", "李董",
               "--comment", "利润偏低", *common)
    assert res.exit_code == 0 and "已驳回" in res.output
    assert "已驳回" in (week / "index.html").read_text(encoding="utf-8")
    assert "已驳回" in (reports / "index.html").read_text(encoding="utf-8")
    res = _cli("plan", "status", *common)
    assert res.exit_code == 0 and "保温杯/2026-W44" in res.output and "已驳回" in res.output


# --------------------------------------------------------------------------- the study (slow)

STUDY = """\
name: plan_test
title: 计划测试
category: 保温杯
shop: ""
competitors: []
top_n: 5
shared:
  warehouse: ""
  week: ""
  currency: CNY
notebooks:
  - name: forecast
  - name: plan_summary
    after: all
"""


WEEKLY = Path(__file__).resolve().parents[2] / "templates" / "weekly.yaml"
PAGES = ("keyword_trends", "price_bands", "competitor_traffic", "market_overview", "forecast",
         "plan_summary")


def _run(definition: Path, week: str, wh: Path, reports: Path) -> Path:
    res = _cli("run", str(definition), "--week", week, "--warehouse", str(wh), "--reports",
               str(reports), "--no-progress", "--sequential", "-p", "plan_summary.listings=12")
    assert res.exit_code == 0, res.output
    return reports / "保温杯" / week


def _same_competitor_set(week: Path, shop: str) -> None:
    """Every page, plan.xlsx and the pages' shop tables name the scope's one competitor set."""
    scope = json.loads(_text(week / "manifest.json"))["scope"]
    comps, rule = scope["competitors"], scope["competitor_rule"]
    assert comps and shop not in comps and scope["shop"] == shop
    listed = "、".join(comps)
    for page in PAGES:
        html = _text(week / f"{page}.html")
        assert listed in html, (page, comps)  # the set, in the scope's order
        assert rule.split(" · ")[0] in html, page
    book = openpyxl.load_workbook(week / "plan.xlsx")
    overview = {r[0]: r[1] for r in book["概况"].iter_rows(min_row=3, values_only=True) if r[0]}
    assert overview["竞品 · Competitors"] == f"{listed}（{rule}）"
    # the pages computed on that set (and our shop), not on a set of their own
    for name in ("price_positions", "competitor_channels", "competitor_profile"):
        table = pd.read_csv(week / "results" / f"{name}.csv", encoding="utf-8-sig")
        assert set(table["shop"]) <= {shop, *comps}, (name, set(table["shop"]))
    forecast = pd.read_csv(week / "results" / "forecast.csv", encoding="utf-8-sig")
    per_shop = {s.split(" · ", 1)[1] for s in forecast["series"] if " · " in s}
    assert per_shop <= set(comps), per_shop


def _category_revenue(wh: Path, category: str, shop: str) -> pd.Series:
    """By hand: weekly revenue of our sales rows whose item we list in ``category``."""
    items = read("items", wh, columns=["item_id", "shop", "category"])
    ids = set(items.loc[(items["shop"] == shop) & (items["category"] == category), "item_id"])
    sales = read("sales", wh, columns=["date", "item_id", "revenue"])
    sales = sales[sales["item_id"].isin(ids)]
    return sales.groupby(sales["date"].map(iso_week))["revenue"].sum()


def _sheet(book: openpyxl.Workbook, name: str) -> pd.DataFrame:
    rows = list(book[name].iter_rows(min_row=2, values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.mark.slow
def test_plan_sign_off_rerun_and_plan_against_actual(warehouse_copy: Path, truth: dict,
                                                     tmp_path: Path) -> None:
    definition = tmp_path / "study.yaml"
    definition.write_text(STUDY, encoding="utf-8")
    reports = tmp_path / "reports"
    wh = warehouse_copy
    common = ["--warehouse", str(wh), "--reports", str(reports)]
    plan_week = truth["sales"]["plan_week"]
    # the whole weekly study (every page) for the plan week: one competitor set everywhere
    week = _run(WEEKLY, plan_week, wh, reports)
    _same_competitor_set(week, truth["our_shop"])

    # plan.xlsx: four sheets; the daily plan sums to the weekly and monthly plans cell by cell
    book = openpyxl.load_workbook(week / "plan.xlsx")
    assert book.sheetnames == ["概况", "日计划", "周计划", "月计划"]
    d, w, m = _sheet(book, "日计划"), _sheet(book, "周计划"), _sheet(book, "月计划")
    assert len(w) == 9 and len(d) == 63 and w["周"].min() > plan_week
    month_of = pd.to_datetime(d["日期"]).dt.strftime("%Y-%m")
    for label in ("件数", "支付金额(元)", "利润(元)", "推广花费(元)", "访客数(日UV之和)"):
        by_week = d.groupby("周")[label].sum()
        by_month = d.groupby(month_of)[label].sum()
        for wk, value in zip(w["周"], w[label], strict=True):
            assert by_week[wk] == pytest.approx(value, rel=1e-9)
        for mo, value in zip(m["月份"], m[label], strict=True):
            assert by_month[mo] == pytest.approx(value, rel=1e-9)
    cells = [c.value for c in book["概况"]["B"] if c.value]
    assert len(cells) >= 8  # one row per section, the scope and the competitors first
    weekly_csv = pd.read_csv(week / "results" / "plan_weekly.csv", encoding="utf-8-sig")
    assert weekly_csv["revenue"].sum() == pytest.approx(w["支付金额(元)"].sum(), rel=1e-9)

    page, index = week / "plan_summary.html", week / "index.html"
    assert approvals.STATUS_START in _text(page) and "草稿" in _text(page)
    assert approvals.STATUS_START in _text(index)

    # sign: director, then chairman, from the command line
    res = _cli("approve", f"保温杯/{plan_week}", "--role", "director", "--name", "王总监",
               "--comment", "同意", *common)
    assert res.exit_code == 0, res.output
    res = _cli("approve", str(week), "--role", "chairman", "--name", "李董", *common)
    assert res.exit_code == 0, res.output
    for path in (page, index):
        assert "董事长已批准" in _text(path) and "李董" in _text(path)
    assert "董事长已批准" in _text(reports / "index.html")

    # a re-run changes the bundle (the manifest has the run time): the signatures are stale;
    # this one runs only the forecast and the plan: the pages not run are named, not crashed on
    _run(definition, plan_week, wh, reports)
    assert "competitor_traffic.html did not leave results/advantages.csv" in _text(page)
    cells = [c.value for c in openpyxl.load_workbook(week / "plan.xlsx")["概况"]["B"] if c.value]
    assert any("keyword_trends.html" in str(c) for c in cells)
    state = approvals.status(week, wh)
    assert state.code == "draft" and len(state.decisions) == 2
    assert all(d["stale"] for d in state.decisions)
    assert "已过期" in _text(page) and "已过期" in _text(index)
    assert "董事长已批准" not in re.sub(r"<li.*?</li>", "", _text(page))
    res = _cli("plan", "status", *common)
    assert "2 stale" in res.output
    res = _cli("approve", str(week), "--role", "chairman", "--name", "李董", *common)
    assert res.exit_code != 0 and "stale" in res.output
    for role, name in (("director", "王总监"), ("chairman", "李董")):
        res = _cli("approve", str(week), "--role", role, "--name", name, *common)
        assert res.exit_code == 0, res.output
    assert approvals.status(week, wh).code == "chairman"

    # the last week: plan against actual flags the weeks the shop fell behind
    last = _run(definition, "2026-W47", wh, reports)
    pva = pd.read_csv(last / "results" / "plan_vs_actual.csv", encoding="utf-8-sig")
    revenue = pva[pva["metric"] == "revenue"].set_index("week")
    assert list(revenue.index) == ["2026-W45", "2026-W46", "2026-W47"]
    for behind in truth["sales"]["behind_weeks"]:
        assert revenue.loc[behind, "flag"], revenue
        assert revenue.loc[behind, "variance"] < -0.15
    assert not revenue.loc["2026-W45", "flag"], revenue
    assert revenue.loc["2026-W47", "cum_progress"] == pytest.approx(
        revenue["actual"].sum() / revenue["target"].sum())
    # the actuals are our 保温杯 sales only, though the shop also sells another category
    by_hand = _category_revenue(wh, "保温杯", truth["our_shop"])
    for wk in revenue.index:
        assert revenue.loc[wk, "actual"] == pytest.approx(by_hand[wk], rel=1e-9), wk
    other = _category_revenue(wh, truth["second_category"]["category"], truth["our_shop"])
    assert other["2026-W46"] > 0.1 * by_hand["2026-W46"]  # a leak would have shown
    assert f"保温杯/{plan_week}" in _text(last / "plan_summary.html")
