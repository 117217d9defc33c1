"""Tests of the forecast page (:mod:`research.analyses.forecast.page`) and its notebook: our
sales are the category's only, the scope's competitors, the profit formula, no peeking."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.analyses.forecast.outlook import shop_outlook, weekly_shop_series
from research.analyses.forecast.page import (
    check_parameters,
    study,
    weekly_profit,
)
from research.calendar import promotion_calendar
from research.checks import CheckFailed
from research.store.scope import resolve_scope
from research.store.traffic import shop_rows
from research.store.warehouse import connect, store
from research.study.kernels import ipc_kernel_manager
from research.weeks import week_bounds

NB = Path(__file__).resolve().parents[2] / "notebooks" / "forecast.ipynb"


def _synthetic_sales() -> pd.DataFrame:
    """Two items, daily, with planted 双11 (×4) uplifts."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2024-09-02", "2026-11-22", freq="D")
    cal = promotion_calendar(days.min(), days.max())
    d11 = days.isin(cal[cal["name"] == "双11"]["date"])
    rows = []
    for item, base, price, cost in [("1001", 30, 89.0, 40.0), ("1002", 15, 129.0, 60.0)]:
        lam = base * np.where(d11, 4.0, 1.0)
        units = rng.poisson(lam)
        rows.append(pd.DataFrame({"date": days, "item_id": item, "units": units,
                                  "revenue": units * price, "unit_cost": cost,
                                  "ad_spend": units * price * 0.1, "refunds": units * price * 0.02,
                                  "shop": "我们的店"}))
    return pd.concat(rows, ignore_index=True)


# ---------------------------------------------------------------- small pieces by hand


def test_shop_outlook_identities_and_double11():
    sales = _synthetic_sales()
    weekly = weekly_shop_series(sales, "我们的店", end=pd.Timestamp("2026-10-18"))
    # plain-pandas check of the weekly roll-up
    first = sales[(sales["date"] >= "2024-09-02") & (sales["date"] <= "2024-09-08")]
    assert weekly["units"].iloc[0] == first["units"].sum()
    assert weekly["cost"].iloc[0] == pytest.approx((first["units"] * first["unit_cost"]).sum())
    assert weekly.index.max() == pd.Timestamp("2026-10-12")
    out = shop_outlook(weekly, horizon=9, platform_fee_rate=0.05)
    p = out.forecast.pivot(index="date", columns="series", values="point")
    assert p["profit"].to_numpy() == pytest.approx(
        (p["revenue"] - p["cost"] - p["ad_spend"] - p["refunds"] - p["platform_fees"]).to_numpy())
    assert out.assumptions["ad_ratio"] == pytest.approx(0.1)
    assert p.loc["2026-11-02", "units"] > 2.5 * p.loc["2026-10-19", "units"]
    t = out.totals.set_index("metric")
    assert t.loc["units", "two_month_total"] == pytest.approx(p["units"].sum())
    assert (t["low"] <= t["two_month_total"]).all() and (t["two_month_total"] <= t["high"]).all()
    assert (t["low95"] <= t["low"]).all()



def test_weekly_profit_is_the_outlook_formula():
    w = pd.DataFrame({"revenue": [1000.0, 200.0], "cost": [400.0, np.nan],
                      "ad_spend": [100.0, 20.0], "refunds": [np.nan, 10.0]})
    # 1000 − 400 − 100 − 0 − 50 = 450; 200 − 0 − 20 − 10 − 10 = 160
    assert weekly_profit(w, 0.05).tolist() == pytest.approx([450.0, 160.0])


def test_shop_traffic_rows_never_double_counts():
    t = pd.DataFrame({"shop": ["A", "A", "A", "B", "B"], "item_id": ["", "1", "2", "3", "4"],
                      "visitors": [100, 60, 50, 7, 8]})
    out = shop_rows(t)
    assert out.groupby("shop")["visitors"].sum().to_dict() == {"A": 100, "B": 15}


@pytest.mark.parametrize(("name", "value"), [("horizon_weeks", 0), ("platform_fee_rate", 5),
                                             ("levels", [80, 100]), ("ad_spend_plan", -1.0),
                                             ("event_file", "/no/such/file.csv")])
def test_bad_parameters_are_refused_by_name(name, value):
    with pytest.raises((CheckFailed, ValueError), match=name):
        check_parameters(**{name: value})


# ---------------------------------------------------------------- a shop in two categories


@pytest.fixture(scope="module")
def two_category_warehouse(tmp_path_factory):
    """Our shop sells item 1001 (listed under 保温杯) and 1002 (listed under 儿童水杯) in one
    sales export without a category column; 茶具 holds only a competitor's listing."""
    wh = tmp_path_factory.mktemp("two_cat") / "w.duckdb"
    snaps = pd.date_range("2026-09-06", "2026-11-22", freq="7D")
    listing = [("1001", "我们的店", "保温杯", 89.0), ("2001", "对手A", "保温杯", 79.0),
               ("1002", "我们的店", "儿童水杯", 129.0), ("3001", "对手B", "茶具", 59.0)]
    items = pd.DataFrame([{"snapshot_date": d, "item_id": i, "shop": s, "category": c,
                           "title": f"{c} {i}", "price": p, "sales_30d": 100}
                          for d in snaps for i, s, c, p in listing])
    with connect(wh) as con:
        store(con, "sales", _synthetic_sales())
        store(con, "items", items)
    return wh


def test_two_category_shop_forecasts_only_the_category(two_category_warehouse):
    wh = two_category_warehouse
    sales = _synthetic_sales()
    end = week_bounds("2026-W42")[1]
    for category, item in (("保温杯", "1001"), ("儿童水杯", "1002")):
        scope = resolve_scope(wh, category, week="2026-W42")
        page = study(scope, wh, horizon_weeks=9)
        assert set(page.sales["item_id"]) == {item}
        want = weekly_shop_series(sales[sales["item_id"] == item], "我们的店", end=end)
        assert page.weekly["units"].tolist() == want["units"].tolist()
        assert page.weekly["revenue"].tolist() == pytest.approx(want["revenue"].tolist())
        whole = weekly_shop_series(sales, "我们的店", end=end)
        assert page.weekly["units"].sum() < whole["units"].sum()
        assert page.outlook is not None
        fc = page.results()["forecast"]
        assert pd.to_datetime(fc["date"]).min() == end + pd.Timedelta(days=1)
        t = page.results()["outlook"].set_index("metric")["two-month total"]
        assert t["profit"] == pytest.approx(
            t["revenue"] - t["cost"] - t["ad_spend"] - t["refunds"] - t["platform_fees"])
    # the competitor set is the scope's: 对手A only for 保温杯 (对手B sells 茶具); no traffic
    scope = resolve_scope(wh, "保温杯", week="2026-W42")
    assert scope.competitors == ("对手A",)
    page = study(scope, wh, horizon_weeks=9)
    assert page.competitor_forecast is None
    assert any("对手A" in n and "traffic" in n for n in page.notes)


def test_no_sales_in_the_category_means_no_shop_forecast(two_category_warehouse):
    wh = two_category_warehouse
    scope = resolve_scope(wh, "茶具", week="2026-W42")
    page = study(scope, wh, horizon_weeks=9)
    assert page.sales.empty and page.outlook is None
    assert page.notes[0].startswith("我店在类目「茶具」没有可归入的销售")
    assert "whole shop" in page.notes[0]
    res = page.results()
    assert not ({"units", "revenue", "profit"} & set(res["forecast"]["series"]))
    assert res["outlook"].empty
    assert page.summary().startswith("茶具：没有可预测的我店销售")


# ---------------------------------------------------------------- the notebook


@pytest.mark.slow
def test_notebook_runs_on_a_warehouse(tmp_path):
    import papermill as pm

    wh = tmp_path / "w.duckdb"
    # the sales export names the category (类目): our sales are the category's
    sales = _synthetic_sales().assign(category="保温杯")
    days = pd.date_range("2024-09-02", "2026-11-22", freq="D")
    traffic = pd.concat([pd.DataFrame({"date": days, "shop": s, "item_id": "",
                                       "channel": "organic_search", "channel_raw": "手淘搜索",
                                       "visitors": 1000 + 100 * k})
                         for k, s in enumerate(["我们的店", "对手A", "对手B"])])
    market = pd.DataFrame({"date": days, "category": "保温杯", "trade_index": 5000.0})
    with connect(wh) as con:
        store(con, "sales", sales)
        store(con, "traffic", traffic)
        store(con, "market_daily", market)
    ev = tmp_path / "ev.csv"
    ev.write_text("start,end,name\n2026-12-01,2026-12-03,店庆\n", encoding="utf-8")
    pm.execute_notebook(str(NB), str(tmp_path / "out.ipynb"), kernel_name="python3",
                        kernel_manager_class=ipc_kernel_manager(), progress_bar=False,
                        parameters={
                            "warehouse": str(wh), "output_dir": str(tmp_path), "week": "2026-W42",
                            "items": ["1001"], "event_file": str(ev), "ad_spend_plan": 0.0})
    res = tmp_path / "results"
    fc = pd.read_csv(res / "forecast.csv", encoding="utf-8-sig")
    assert list(fc.columns) == ["series", "date", "point", "lo80", "hi80", "lo95", "hi95", "model"]
    assert {"units", "revenue", "profit", "trade_index (average daily index)"} <= set(fc["series"])
    assert pd.to_datetime(fc["date"]).min() == pd.Timestamp("2026-10-19")  # no peeking
    # the scope's competitors (no items: top 2 by visitors, ours excluded)
    assert {s for s in fc["series"] if s.startswith("visitors · ")} == {
        "visitors · 对手A", "visitors · 对手B"}
    bt = pd.read_csv(res / "backtest.csv", encoding="utf-8-sig")
    assert {"series", "model", "origin", "MASE", "sMAPE", "coverage80", "coverage95"} <= set(
        bt.columns)
    ol = pd.read_csv(res / "outlook.csv", encoding="utf-8-sig")
    assert list(ol.columns[:4]) == ["metric", "two-month total", "low", "high"]
    assert (tmp_path / "summaries" / "forecast.txt").exists()


def _notebook_text(path: Path) -> str:
    """Every text and HTML output of an executed notebook, tags removed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            parts.append(str(data.get("text/html") or data.get("text/plain") or out.get("text", "")))
    return re.sub(r"<[^>]+>", "", "\n".join(parts))


@pytest.mark.slow
def test_notebook_on_the_sample_for_a_past_week(sample_warehouse, warehouse_copy, truth,
                                                tmp_path):
    """The study runner's case: a past week on the full sample. Only data up to that week's
    Sunday may be used, so the results must equal those of a warehouse cut at that Sunday
    (run with an empty week), and the forecast starts the Monday after."""
    import papermill as pm

    week = truth["sales"]["plan_week"]                     # 2026-W44, before the sample's end
    sunday = week_bounds(week)[1]
    with connect(warehouse_copy) as con:                   # the same data, ending that Sunday
        for table, col in [("sales", "date"), ("traffic", "date"), ("market_daily", "date"),
                           ("keywords", "date"), ("items", "snapshot_date")]:
            con.execute(f'DELETE FROM "{table}" WHERE "{col}" > ?', [sunday.date()])
    common = {"platform_fee_rate": 0.06, "items": ["503274555260"], "top_n": 3}
    runs = {"full": (sample_warehouse, week), "cut": (warehouse_copy, "")}

    def run(label: str) -> Path:
        wh, wk = runs[label]
        out = tmp_path / label
        out.mkdir()
        # no cwd=: papermill would chdir this whole process while the other run is going
        pm.execute_notebook(str(NB), str(out / "out.ipynb"), kernel_name="python3",
                            kernel_manager_class=ipc_kernel_manager(), progress_bar=False,
                            parameters={
                                **common, "warehouse": str(wh), "output_dir": str(out),
                                "week": wk})
        return out

    with ThreadPoolExecutor(2) as pool:
        full, cut = pool.map(run, ["full", "cut"])
    res = full / "results"
    fc = pd.read_csv(res / "forecast.csv", encoding="utf-8-sig", parse_dates=["date"])
    assert list(fc.columns) == ["series", "date", "point", "lo80", "hi80", "lo95", "hi95", "model"]
    assert {"units", "revenue", "cost", "ad_spend", "refunds", "platform_fees", "profit",
            "units · item 503274555260", "trade_index (average daily index)"} <= set(fc["series"])
    assert sum(s.startswith("visitors · ") for s in fc["series"].unique()) == 3
    starts = fc.groupby("series")["date"].min()
    assert (starts == sunday + pd.Timedelta(days=1)).all(), starts   # the Monday after
    assert (fc.groupby("series").size() == 9).all()
    assert (fc["lo95"] <= fc["lo80"] + 1e-9).all() and (fc["hi80"] <= fc["hi95"] + 1e-9).all()
    bt = pd.read_csv(res / "backtest.csv", encoding="utf-8-sig", parse_dates=["origin"])
    assert list(bt.columns) == ["series", "model", "origin", "MASE", "sMAPE", "coverage80",
                                "coverage95"]
    assert bt["origin"].max() <= sunday
    ol = pd.read_csv(res / "outlook.csv", encoding="utf-8-sig").set_index("metric")
    assert list(ol.columns) == ["two-month total", "low", "high", "low95", "high95"]
    t = ol["two-month total"]
    assert t["profit"] == pytest.approx(
        t["revenue"] - t["cost"] - t["ad_spend"] - t["refunds"] - t["platform_fees"], rel=1e-9)
    assert t["platform_fees"] == pytest.approx(0.06 * t["revenue"], rel=1e-9)
    weekly = fc.pivot(index="date", columns="series", values="point")
    assert t["units"] == pytest.approx(weekly["units"].sum(), rel=1e-9)
    assert ((ol["low95"] <= ol["low"]) & (ol["low"] <= t) & (t <= ol["high"])
            & (ol["high"] <= ol["high95"])).all()
    text = _notebook_text(full / "out.ipynb")
    assert "platform fees 6.0% of revenue" in text          # the rate the totals used, stated
    assert f"Study week {week} (data up to {sunday.date()})" in text
    # the page states the scope (category, competitor set and rule) and forecasts its set
    scope = resolve_scope(sample_warehouse, truth["category"], week=week, top_n=3)
    assert truth["category"] in text and scope.competitor_rule in text
    assert "、".join(scope.competitors) in text
    assert {s for s in fc["series"] if s.startswith("visitors · ")} == {
        f"visitors · {c}" for c in scope.competitors}
    # no peeking: the later weeks in the warehouse change nothing
    for name in ("forecast", "backtest", "outlook"):
        assert (full / "results" / f"{name}.csv").read_bytes() == (
            cut / "results" / f"{name}.csv").read_bytes(), name
    assert (full / "summaries" / "forecast.txt").read_text(encoding="utf-8") == (
        cut / "summaries" / "forecast.txt").read_text(encoding="utf-8")
