"""The operating plan: targets, day/week/month split, Excel read back, approvals, plan vs actual."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from research.checks import CheckFailed
from research.plan import approvals, tracking
from research.plan import operating as plan
from research.plan.xlsx import write_plan_xlsx

# --------------------------------------------------------------------------- plan numbers

def _history(weeks: int = 10) -> pd.DataFrame:
    """Our sales: revenue 100/day on weekdays, 200 on weekends; 10 buyers/day; 200 UV/day."""
    days = pd.date_range("2026-09-07", periods=7 * weeks)  # a Monday
    rev = np.where(days.day_of_week >= 5, 200.0, 100.0)
    return pd.DataFrame({"date": days, "item_id": "a", "units": rev / 10, "revenue": rev,
                         "buyers": rev / 10, "visitors": 200.0, "unit_cost": 4.0,
                         "ad_spend": 10.0, "refunds": 0.0})


def test_history_rates_hand_computed() -> None:
    sales = _history()
    rates = plan.history_rates(sales, None, sales["date"].max(), weeks=4)
    # revenue/buyers = 10 exactly; buyers per week = (5*10 + 2*20) = 90 over 7*200 UV
    assert rates["aov"] == pytest.approx(10.0)
    assert rates["conversion"] == pytest.approx(90 / 1400)


def test_weekday_profile_and_event_uplift() -> None:
    sales = _history()
    profile = plan.weekday_profile(sales, sales["date"].max())
    assert profile.sum() == pytest.approx(1)
    assert profile[0] == pytest.approx(100 / 900)
    assert profile[6] == pytest.approx(200 / 900)
    # a promotion on one Wednesday tripling revenue: uplift vs the 14 days before it
    promo_day = pd.Timestamp("2026-10-14")
    sales.loc[sales["date"] == promo_day, "revenue"] = 300.0
    events = pd.DataFrame({"date": [promo_day], "name": ["双11"]})
    before = sales[(sales["date"] < promo_day) & (sales["date"] >= promo_day - pd.Timedelta(days=14))]
    expected = 300.0 / before["revenue"].mean()
    assert plan.event_uplift(sales, events, sales["date"].max())["双11"] == pytest.approx(expected)
    # and the profile leaves the promotion's week out
    assert plan.weekday_profile(sales, sales["date"].max(), event_days=[promo_day])[2] == \
        pytest.approx(100 / 900)


def _weekly_targets() -> pd.DataFrame:
    weeks = pd.date_range("2026-11-23", periods=9, freq="7D")
    rev = np.linspace(7000, 9000, 9)
    frame = pd.DataFrame({"week_start": weeks, "units": rev / 100, "revenue": rev,
                          "cost": rev * 0.4, "ad_spend": rev * 0.1, "refunds": rev * 0.02})
    frame["profit"] = frame["revenue"] - frame["cost"] - frame["ad_spend"] - frame["refunds"]
    return plan.traffic_targets(frame, aov=100.0, conversion=0.05)


def test_daily_plan_sums_to_weeks_and_months_and_weights_promotions() -> None:
    weekly = _weekly_targets()
    profile = pd.Series([0.1, 0.1, 0.1, 0.1, 0.2, 0.2, 0.2])
    events = pd.DataFrame({"date": [pd.Timestamp("2026-12-12")], "name": ["双12"]})
    daily = plan.daily_plan(weekly, profile, events, {"双12": 3.0})
    assert len(daily) == 63
    by_week = plan.weekly_from_daily(daily)
    np.testing.assert_allclose(by_week["revenue"], weekly["revenue"])
    monthly = plan.monthly_from_daily(daily)
    assert monthly["revenue"].sum() == pytest.approx(weekly["revenue"].sum())
    plan.plan_totals_agree(daily, by_week, monthly)
    # 2026-12-12 is a Saturday: weight 0.2 * 3 against the week's other days
    week = daily[daily["week"] == "2026-W50"].set_index("date")
    w = np.array([0.1, 0.1, 0.1, 0.1, 0.2, 0.6, 0.2])
    assert week.loc["2026-12-12", "revenue"] == pytest.approx(
        weekly.set_index("week_start").loc["2026-12-07", "revenue"] * 0.6 / w.sum())
    assert week.loc["2026-12-12", "event"] == "双12"


def test_plan_totals_agree_catches_a_broken_month() -> None:
    weekly = _weekly_targets()
    daily = plan.daily_plan(weekly, pd.Series(1 / 7, index=range(7)))
    monthly = plan.monthly_from_daily(daily)
    monthly.loc[0, "units"] += 5
    with pytest.raises(CheckFailed, match="units"):
        plan.plan_totals_agree(daily, plan.weekly_from_daily(daily), monthly)


def test_excel_plan_reads_back_cell_by_cell(tmp_path: Path) -> None:
    weekly_t = _weekly_targets()
    daily = plan.daily_plan(weekly_t, pd.Series(1 / 7, index=range(7)))
    weekly = plan.weekly_from_daily(daily)
    monthly = plan.monthly_from_daily(daily)
    summary = pd.DataFrame({"项目": ["核心关键词", "价格"], "内容": ["保温杯 <b>", "¥89.9"]})
    path = write_plan_xlsx(tmp_path / "plan.xlsx", summary, daily, weekly, monthly,
                                "保温杯 2026-W47 运营计划")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["概况", "日计划", "周计划", "月计划"]
    assert book["概况"]["B3"].value == "保温杯 <b>"

    def table(name: str) -> pd.DataFrame:
        rows = list(book[name].iter_rows(min_row=2, values_only=True))
        return pd.DataFrame(rows[1:], columns=rows[0])

    d, w, m = table("日计划"), table("周计划"), table("月计划")
    assert book["日计划"].freeze_panes == "B3"
    assert book["日计划"]["D3"].number_format == "#,##0"
    for label in ("件数", "支付金额(元)", "利润(元)", "访客数(日UV之和)"):
        by_week = d.groupby("周")[label].sum()
        for row in w.itertuples(index=False):
            week = row[w.columns.get_loc("周")]
            assert by_week[week] == pytest.approx(row[w.columns.get_loc(label)], abs=1e-6)
        by_month = d.groupby(pd.to_datetime(d["日期"]).dt.strftime("%Y-%m"))[label].sum()
        for row in m.itertuples(index=False):
            assert by_month[row[m.columns.get_loc("月份")]] == pytest.approx(
                row[m.columns.get_loc(label)], abs=1e-6)


def test_plan_vs_actual_flags_the_weeks_behind() -> None:
    target = _weekly_targets()
    target["week"] = target["week_start"].map(lambda d: f"{d.isocalendar().year}-W{d.isocalendar().week:02d}")
    sales_days = pd.date_range("2026-11-23", periods=21)
    factor = np.r_[np.ones(7), np.full(14, 0.7)]  # weeks 2-3 fall 30 % behind
    revenue = np.repeat(target["revenue"].to_numpy()[:3] / 7, 7) * factor
    sales = pd.DataFrame({"date": sales_days, "item_id": "a", "units": revenue / 100,
                          "revenue": revenue, "buyers": revenue / 100, "visitors": revenue / 5,
                          "unit_cost": 40.0, "ad_spend": revenue * 0.1, "refunds": revenue * 0.02})
    actual = tracking.actuals_weekly(sales, None)
    result = tracking.plan_vs_actual(target, actual, "2026-W50", threshold=0.15)
    rev = result[result["metric"] == "revenue"].set_index("week")
    assert rev["flag"].tolist() == [False, True, True]
    assert rev.loc["2026-W49", "variance"] == pytest.approx(-0.3)
    expected_progress = revenue.sum() / target["revenue"].iloc[:3].sum()
    assert rev.loc["2026-W50", "cum_progress"] == pytest.approx(expected_progress)
    assert "2026-W51" not in set(result["week"])


# --------------------------------------------------------------------------- approvals

@pytest.fixture
def bundle(tmp_path: Path) -> tuple[Path, Path]:
    week = tmp_path / "reports" / "保温杯" / "2026-W47"
    (week / "results").mkdir(parents=True)
    (week / "manifest.json").write_text(json.dumps({"category": "保温杯", "week": "2026-W47"}))
    (week / "results" / "core_keywords.csv").write_text("keyword\n保温杯\n", encoding="utf-8")
    page = (f"<html><body>{approvals.STATUS_START}{approvals.STATUS_END}"
            f"<p>计划摘要</p></body></html>")
    (week / "plan_summary.html").write_text(page, encoding="utf-8")
    (week / "index.html").write_text(page, encoding="utf-8")
    return week, tmp_path / "w.duckdb"


def test_director_then_chairman(bundle: tuple[Path, Path]) -> None:
    week, wh = bundle
    assert approvals.status(week, wh).status == "草稿"
    with pytest.raises(approvals.ApprovalError, match="only after the operations director"):
        approvals.record(wh, week, "chairman", "approve", "李董")
    state = approvals.record(wh, week, "director", "approve", "王总监", "同意")
    assert state.status == "总监已审核"
    with pytest.raises(approvals.ApprovalError, match="already 总监已审核"):
        approvals.record(wh, week, "director", "approve", "王总监")
    assert approvals.record(wh, week, "chairman", "approve", "李董").status == "董事长已批准"
    # the status is shown on the pages and in approval.json, without changing the hash
    assert "董事长已批准" in (week / "plan_summary.html").read_text(encoding="utf-8")
    assert "李董" in (week / "index.html").read_text(encoding="utf-8")
    assert json.loads((week / "approval.json").read_text())["code"] == "chairman"
    assert approvals.status(week, wh).status == "董事长已批准"
    for role in ("chairman", "director"):  # signing twice is refused, with the reason
        with pytest.raises(approvals.ApprovalError, match="already 董事长已批准"):
            approvals.record(wh, week, role, "approve", "李董")


def test_rejection_sends_the_plan_back(bundle: tuple[Path, Path]) -> None:
    week, wh = bundle
    approvals.record(wh, week, "director", "approve", "王总监")
    with pytest.raises(approvals.ApprovalError, match="comment"):
        approvals.record(wh, week, "chairman", "reject", "李董")
    assert approvals.record(wh, week, "chairman", "reject", "李董", "利润太低").status == "已驳回"
    with pytest.raises(approvals.ApprovalError, match="only after"):
        approvals.record(wh, week, "chairman", "approve", "李董")
    assert approvals.record(wh, week, "director", "approve", "王总监").status == "总监已审核"


def test_changed_bundle_makes_signatures_stale(bundle: tuple[Path, Path]) -> None:
    week, wh = bundle
    approvals.record(wh, week, "director", "approve", "王总监")
    (week / "results" / "core_keywords.csv").write_text("keyword\n焖烧杯\n", encoding="utf-8")
    state = approvals.status(week, wh)
    assert state.status == "草稿"
    assert [d["stale"] for d in state.decisions] == [True]
    with pytest.raises(approvals.ApprovalError, match="stale"):
        approvals.record(wh, week, "chairman", "approve", "李董")


def test_tampering_with_a_signed_page_is_detected(bundle: tuple[Path, Path]) -> None:
    week, wh = bundle
    approvals.record(wh, week, "director", "approve", "王总监")
    approvals.record(wh, week, "chairman", "approve", "李董")
    page = week / "plan_summary.html"
    page.write_text(page.read_text(encoding="utf-8").replace("计划摘要", "计划摘要（改）"),
                    encoding="utf-8")
    state = approvals.status(week, wh)
    assert state.code == "draft"
    assert all(d["stale"] for d in state.decisions)


def test_refusals(bundle: tuple[Path, Path], tmp_path: Path) -> None:
    week, wh = bundle
    with pytest.raises(approvals.ApprovalError, match="unknown role"):
        approvals.record(wh, week, "ceo", "approve", "x")
    with pytest.raises(approvals.ApprovalError, match="no study report"):
        approvals.resolve_report(tmp_path / "nope", tmp_path / "reports")
    assert approvals.resolve_report("保温杯/2026-W47", tmp_path / "reports") == week.resolve()
    assert approvals.resolve_report(week / "index.html") == week.resolve()
    listed = approvals.list_plans(wh, tmp_path / "reports")
    assert listed[["report", "status"]].values.tolist() == [["保温杯/2026-W47", "草稿"]]


# --------------------------------------------------------------------------- the plan from the outlook

def _forecast_csv(start: str = "2026-11-23", weeks: int = 9) -> pd.DataFrame:
    """A forecast.csv as the forecast notebook writes it (plus a competitor series to ignore)."""
    dates = pd.date_range(start, periods=weeks, freq="7D")
    rows = []
    for i, d in enumerate(dates):
        rev = 7000.0 + 100 * i
        vals = {"units": rev / 100, "revenue": rev, "cost": rev * 0.4, "ad_spend": rev * 0.1,
                "refunds": rev * 0.02, "platform_fees": rev * 0.05}
        vals["profit"] = rev - sum(v for k, v in vals.items() if k not in ("units", "revenue"))
        for series, point in vals.items():
            rows.append({"series": series, "date": f"{d:%Y-%m-%d}", "point": point,
                         "lo80": point * 0.9, "hi80": point * 1.1, "lo95": point * 0.8,
                         "hi95": point * 1.2, "model": "theta"})
        rows.append({"series": "visitors · 某店", "date": f"{d:%Y-%m-%d}", "point": 1e6,
                     "lo80": 1, "hi80": 2, "lo95": 1, "hi95": 2, "model": "ses"})
    return pd.DataFrame(rows)


def test_weekly_targets_from_forecast_keeps_the_shop_outlook_only() -> None:
    targets = plan.weekly_targets_from_forecast(_forecast_csv())
    assert targets["week"].tolist()[:2] == ["2026-W48", "2026-W49"]
    assert set(plan.OUTLOOK_SERIES) <= set(targets.columns)
    assert targets.loc[0, "revenue"] == 7000.0 and targets.loc[0, "revenue_hi"] == pytest.approx(7700.0)
    assert not any("visitors" in c for c in targets.columns)
    assert plan.weekly_targets_from_forecast(pd.DataFrame()).empty


def test_build_plan_traffic_targets_and_totals() -> None:
    sales = _history(10)  # ends Sunday 2026-11-15; aov 10, conversion 90/1400
    end = sales["date"].max()
    events = pd.DataFrame({"date": pd.to_datetime(["2026-12-12"]), "name": ["双12"]})
    op = plan.build_plan(_forecast_csv("2026-11-16"), sales, None, events, end, history_weeks=4)
    w = op.weekly.set_index("week")
    # 支付金额 = 访客数 × 支付转化率 × 客单价, held rates
    assert w.loc["2026-W47", "buyers"] == pytest.approx(7000.0 / 10)
    assert w.loc["2026-W47", "uv_sum_daily"] == pytest.approx(700 / (90 / 1400))
    assert w.loc["2026-W47", "uv_avg_daily"] == pytest.approx(700 / (90 / 1400) / 7)
    assert w.loc["2026-W47", "roi"] == pytest.approx(10.0)
    assert w.loc["2026-W47", "revenue_lo"] == pytest.approx(6300.0)
    # weekend days carry twice the weekday revenue (the history's profile)
    d = op.daily.set_index("date")
    assert d.loc["2026-11-21", "revenue"] == pytest.approx(2 * d.loc["2026-11-18", "revenue"])
    assert op.daily["revenue"].sum() == pytest.approx(_forecast_csv()["point"][
        _forecast_csv()["series"] == "revenue"].sum())
    assert op.monthly["revenue"].sum() == pytest.approx(op.weekly["revenue"].sum())
    assert op.uplift == {}  # 双12 never seen in this history: no uplift invented
    # a forecast without a shop outlook gives no plan
    with pytest.raises(ValueError, match="no shop outlook"):
        plan.build_plan(pd.DataFrame({"series": ["trade_index"], "date": ["2026-11-23"],
                                      "point": [1.0]}), sales, None, events, end)


def test_compare_with_plan_uses_the_plans_fee_rate_and_reads_nothing_later() -> None:
    target = plan.weekly_targets_from_forecast(_forecast_csv())
    target = plan.traffic_targets(target, 100.0, 0.05)
    days = pd.date_range("2026-11-23", periods=28)  # four weeks of actuals exactly on plan
    rev = np.repeat(target["revenue"].to_numpy()[:4] / 7, 7)
    sales = pd.DataFrame({"date": days, "item_id": "a", "units": rev / 100, "revenue": rev,
                          "buyers": rev / 100, "visitors": rev / 5, "unit_cost": 40.0,
                          "ad_spend": rev * 0.1, "refunds": rev * 0.02})
    assert tracking.plan_fee_rate(target) == pytest.approx(0.05)
    out = tracking.compare_with_plan(target, sales, None, "2026-W50")
    assert sorted(set(out["week"])) == ["2026-W48", "2026-W49", "2026-W50"]
    profit = out[out["metric"] == "profit"]
    np.testing.assert_allclose(profit["variance"], 0.0, atol=1e-9)  # fees counted on both sides
    assert not out["flag"].any()
    revised = tracking.revised_outlook(target, out, target, "2026-W50")
    r = revised.set_index("metric").loc["revenue"]
    assert r["weeks_left"] == 6 and r["projected_progress"] == pytest.approx(1.0)
    assert r["needed_per_week"] == pytest.approx(target["revenue"].iloc[3:].mean())


def test_draft_status_and_latest_approved(bundle: tuple[Path, Path]) -> None:
    week, wh = bundle
    reports = week.parent.parent
    assert approvals.latest_approved(wh, reports, "保温杯", "2026-W48") is None
    approvals.record(wh, week, "director", "approve", "王总监")
    assert approvals.latest_approved(wh, reports, "保温杯", "2026-W48") is None  # not yet signed
    approvals.record(wh, week, "chairman", "approve", "李董")
    folder, state = approvals.latest_approved(wh, reports, "保温杯", "2026-W48")
    assert folder == week and state.code == "chairman"
    assert approvals.latest_approved(wh, reports, "保温杯", "2026-W47") is None  # not before
    assert approvals.latest_approved(wh, reports, "焖烧杯", "2026-W48") is None
    draft = approvals.draft_status(wh, "保温杯", "2026-W47")
    assert draft.status == "草稿" and [d["stale"] for d in draft.decisions] == [True, True]
    assert "已过期" in approvals.status_html(draft)
    assert approvals.parse_role("董事长") == "chairman"
    with pytest.raises(approvals.ApprovalError, match="unknown role"):
        approvals.parse_role("boss")
    # an edit after the signature: no longer an approved plan
    (week / "results" / "core_keywords.csv").write_text("keyword\n焖烧杯\n", encoding="utf-8")
    assert approvals.latest_approved(wh, reports, "保温杯", "2026-W48") is None


def test_promotion_peak_day_resplits_neighbouring_weeks() -> None:
    sales = _history(10)
    sales.loc[sales["date"] == "2026-10-13", "revenue"] = 200.0  # a two-day promotion,
    sales.loc[sales["date"] == "2026-10-14", "revenue"] = 500.0  # its peak on the last day
    past = pd.DataFrame({"date": pd.to_datetime(["2026-10-13", "2026-10-14"]), "name": "双11"})
    future = pd.DataFrame({"date": pd.to_datetime(["2026-11-29", "2026-11-30"]), "name": "双11"})
    base = 2 * 900 / 14  # mean revenue of the 14 days before the promotion
    by_day = plan.event_day_uplift(sales, past, sales["date"].max(), future)
    assert by_day[pd.Timestamp("2026-11-29")] == pytest.approx(200 / base)
    assert by_day[pd.Timestamp("2026-11-30")] == pytest.approx(500 / base)
    targets = pd.DataFrame({"week_start": pd.to_datetime(["2026-11-23", "2026-11-30",
                                                          "2026-12-07"]),
                            "revenue": [1000.0, 1000.0, 1000.0], "revenue_hi": [1100.0] * 3})
    flat = pd.Series(1 / 7, index=range(7))
    out = plan.resplit_promotion_weeks(targets, flat, by_day)
    w48, w49 = 6 + 200 / base, 6 + 500 / base  # Σ day weights (×7) of the two weeks
    assert out.loc[0, "revenue"] == pytest.approx(2000 * w48 / (w48 + w49))
    assert out.loc[1, "revenue"] == pytest.approx(2000 * w49 / (w48 + w49))
    assert out.loc[1, "revenue_hi"] == pytest.approx(1100 * out.loc[1, "revenue"] / 1000)
    assert out.loc[2, "revenue"] == 1000.0  # a week without promotion days is left alone


@pytest.mark.slow
def test_plan_xlsx_opens_in_libreoffice(tmp_path: Path) -> None:
    """LibreOffice opens plan.xlsx and saves it again with the same sheets and numbers."""
    import shutil
    import subprocess

    from tests._support import unavailable

    soffice = shutil.which("soffice")
    if soffice is None:
        unavailable("LibreOffice (soffice)", "make browser installs libreoffice-calc-nogui")
    weekly_t = _weekly_targets()
    daily = plan.daily_plan(weekly_t, pd.Series(1 / 7, index=range(7)))
    weekly, monthly = plan.weekly_from_daily(daily), plan.monthly_from_daily(daily)
    summary = pd.DataFrame({"项目": ["价格"], "内容": ["¥89.9"]})
    src = write_plan_xlsx(tmp_path / "plan.xlsx", summary, daily, weekly, monthly, "保温杯 计划")
    out = tmp_path / "lo"
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(src)],
                   check=True, capture_output=True, timeout=180)
    before, after = openpyxl.load_workbook(src), openpyxl.load_workbook(out / "plan.xlsx")
    assert after.sheetnames == before.sheetnames == ["概况", "日计划", "周计划", "月计划"]
    for name in before.sheetnames:
        a = [[c for c in row] for row in before[name].iter_rows(values_only=True)]
        b = [[c for c in row] for row in after[name].iter_rows(values_only=True)]
        assert len(a) == len(b), name
        for ra, rb in zip(a, b, strict=True):
            for ca, cb in zip(ra, rb, strict=False):
                if isinstance(ca, float):
                    assert cb == pytest.approx(ca, rel=1e-9), name
                elif ca is not None and not hasattr(ca, "year"):
                    assert str(cb) == str(ca), name
