"""Tests of the market overview page (research.analyses.market): hand-computed concentration and growth, planted signals in seeded
frames and in the sample market, the notebook on the sample, and Olist checked against plain
pandas."""

from __future__ import annotations

import collections
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.analyses.market import study as market_page
from research.analyses.market.audience import (
    audience_changes,
    audience_from_orders,
    audience_shares_sum_to_one,
    gender_age,
    hour_profile,
    hour_weekday,
    hour_weekday_joint,
    peak_hour,
    peak_weekday,
    region_ranking,
    weekday_profile,
)
from research.analyses.market.overview import (
    PARTS,
    MarketOverview,
    market_overview,
    seasonal_shape,
    weekly_trend,
    year_over_year,
)
from research.analyses.market.shops import (
    bestsellers,
    concentration,
    leaders,
    rising_leader,
    scope_shops,
    shop_snapshots,
)
from research.checks import CheckFailed
from research.pages.results import PageResult
from research.price_points import auto_edges, band_labels
from research.store.scope import Scope, resolve_scope
from research.store.warehouse import connect, read, store
from tests._support import warehouse_with

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "market_overview.ipynb"
CSVS = ("market_trend", "leaders", "bestsellers", "audience", "peak_hours", "regions")
S1, S2 = pd.Timestamp("2026-11-15"), pd.Timestamp("2026-11-22")


def _shops(date: pd.Timestamp, sales: list[float], names: list[str] | None = None) -> pd.DataFrame:
    names = names or [f"s{i:02d}" for i in range(len(sales))]
    return pd.DataFrame({"snapshot_date": date, "shop": names, "items": 1,
                         "sales_30d": [float(s) for s in sales],
                         "revenue_30d": [10.0 * s for s in sales]})


# ----------------------------------------------------------------------------- leaders

def test_concentration_hand_computed() -> None:
    first = _shops(S1, [30, 20, 10, 10, 5, 5, 5, 5, 3, 3, 2, 2])
    second = _shops(S2, [50, 20, 10, 10, 5, 5])
    out = concentration(pd.concat([first, second])).set_index("snapshot_date")
    assert out.loc[S1, "cr3"] == pytest.approx(0.60)
    assert out.loc[S1, "cr10"] == pytest.approx(0.96)
    assert out.loc[S1, "hhi"] == pytest.approx(900 + 400 + 100 + 100 + 4 * 25 + 2 * 9 + 2 * 4)
    assert out.loc[S1, "shops"] == 12
    assert out.loc[S2, "cr3"] == pytest.approx(80 / 100)
    assert out.loc[S2, "cr10"] == pytest.approx(1.0)
    assert out.loc[S2, "hhi"] == pytest.approx(2500 + 400 + 100 + 100 + 25 + 25)
    assert out.loc[S2, "hhi_change"] == pytest.approx(3150 - 1626)
    assert np.isnan(out.loc[S1, "cr3_change"])
    # revenue is 10 × units here, so the revenue concentration is the same
    assert out.loc[S2, "hhi_revenue"] == pytest.approx(out.loc[S2, "hhi"])


def test_leaders_shares_and_change() -> None:
    first = _shops(S1, [50, 30, 20], ["a", "b", "c"])
    second = _shops(S2, [40, 40, 10, 10], ["a", "b", "c", "new"])
    out = leaders(pd.concat([first, second]), top_n=2)
    assert len(out) == 4
    last = out[out["snapshot_date"] == S2].set_index("shop")
    assert list(last.index) == ["a", "b"]  # tie on units broken by revenue then name
    assert last.loc["a", "sales_share"] == pytest.approx(0.4)
    assert last.loc["a", "sales_share_change"] == pytest.approx(0.4 - 0.5)
    assert last.loc["b", "sales_share_change"] == pytest.approx(0.4 - 0.3)
    assert out[out["snapshot_date"] == S1]["sales_share_change"].isna().all()


def test_leaders_change_of_a_shop_new_to_the_market() -> None:
    first = _shops(S1, [50, 50], ["a", "b"])
    second = _shops(S2, [30, 20, 50], ["a", "b", "newcomer"])
    out = leaders(pd.concat([first, second]), top_n=1)
    row = out[out["snapshot_date"] == S2].iloc[0]
    assert row["shop"] == "newcomer"
    assert row["sales_share_change"] == pytest.approx(0.5)  # from no listings (0) to 50 %


def test_rising_leader_is_the_shop_whose_share_rises_most() -> None:
    first = _shops(S1, [40, 30, 20, 10], ["big", "mid", "riser", "small"])
    second = _shops(S2, [35, 25, 35, 5], ["big", "mid", "riser", "small"])
    got = rising_leader(pd.concat([first, second]), top_n=3)
    assert got["shop"] == "riser"
    assert got["change"] == pytest.approx(0.35 - 0.20)
    assert rising_leader(first, top_n=3) is None  # one snapshot: nothing to compare


# ----------------------------------------------------------------------------- trend

def _market_daily(start: str = "2024-09-02", end: str = "2026-11-29") -> pd.DataFrame:
    days = pd.date_range(start, end)
    week = days.isocalendar().week.to_numpy()
    index = np.where(week == 46, 300.0, 100.0) + (days.year.to_numpy() - 2024) * 10
    return pd.DataFrame({"date": days, "category": "保温杯", "trade_index": index,
                         "visitors": 1000 + days.day_of_week.to_numpy() * 100,
                         "buyers": 50 + days.day_of_week.to_numpy()})


def test_weekly_trend_means_not_sums_and_changes() -> None:
    md = _market_daily()
    trend = weekly_trend(md, until="2026-11-22", category="保温杯").set_index("week")
    assert trend.index[-1] == "2026-W47"  # the week after the study week is not read
    w46 = trend.loc["2026-W46"]
    assert w46["days"] == 7
    assert w46["trade_index_mean"] == pytest.approx(320.0)  # mean of daily index, not 7×
    assert w46["visitors_avg_daily"] == pytest.approx(1300.0)  # average daily UV
    assert w46["buyers_avg_daily"] == pytest.approx(53.0)
    assert w46["conversion"] == pytest.approx(7 * 53 / (7 * 1300))
    # 2026-W46 against 2026-W42 (index 120) and against 2025-W46 (index 310)
    assert w46["trade_index_mean_chg_4w"] == pytest.approx(320 / 120 - 1)
    assert w46["trade_index_mean_chg_52w"] == pytest.approx(320 / 310 - 1)
    assert np.isnan(trend.loc["2024-W36", "trade_index_mean_chg_4w"])


def test_weekly_trend_partial_week_and_real_counts() -> None:
    md = pd.DataFrame({"date": pd.to_datetime(["2026-11-16", "2026-11-17", "2026-11-23"]),
                       "category": "x", "orders": [3, 4, 100],
                       "payment_amount": [30.0, 40.0, 1.0]})
    trend = weekly_trend(md, until="2026-11-22")
    assert trend["week"].tolist() == ["2026-W47"]
    assert trend.loc[0, "days"] == 2
    assert trend.loc[0, "orders_sum"] == 7  # real counts are summed
    assert "trade_index_mean" not in trend


def test_seasonal_shape_finds_the_peak_week_and_yoy() -> None:
    trend = weekly_trend(_market_daily(), until="2026-11-22")
    shape = seasonal_shape(trend)
    assert shape.loc[shape["seasonal_index"].idxmax(), "week_num"] == 46
    assert shape["years"].max() == 2
    yoy = year_over_year(trend, "2026-W47").set_index("week_num")
    assert yoy.loc[46, "this_year"] == pytest.approx(320.0)
    assert yoy.loc[46, "last_year"] == pytest.approx(310.0)
    assert np.isnan(yoy.loc[48, "this_year"]) and yoy.loc[48, "last_year"] == pytest.approx(110)


def test_seasonal_shape_needs_most_of_a_year() -> None:
    trend = weekly_trend(_market_daily("2026-06-01", "2026-11-22"))
    assert seasonal_shape(trend).empty


# ----------------------------------------------------------------------------- best-sellers

def _items() -> pd.DataFrame:
    rows = []
    # item: (shop, price, material, sales on S0, S1, S2, S3)
    plan = {
        "fast": ("a", 120.0, "316", [10, 20, 100, 300]),    # growth 2.0
        "steady": ("a", 45.0, "304", [400, 400, 400, 440]),  # 0.1
        "small": ("b", 30.0, "304", [1, 1, 5, 50]),         # grows 9× but under the minimum
        "new": ("b", 130.0, "316", [None, None, None, 150]),  # not listed before
        "mid": ("c", 60.0, "304", [100, 100, 100, 150]),    # 0.5
        "late": ("c", 25.0, "304", [100, 100, 100, 100]),
    }
    snaps = pd.to_datetime(["2026-11-01", "2026-11-08", "2026-11-15", "2026-11-22"])
    for item, (shop, price, material, sales) in plan.items():
        for snap, s in zip(snaps, sales, strict=True):
            if s is not None:
                rows.append({"snapshot_date": snap, "item_id": item, "shop": shop,
                             "category": "保温杯", "price": price, "sales_30d": s,
                             "material": material, "title": f"{item} 保温杯"})
    # a later snapshot that must not be read for week 2026-W47
    rows.append({"snapshot_date": pd.Timestamp("2026-11-29"), "item_id": "late", "shop": "c",
                 "category": "保温杯", "price": 25.0, "sales_30d": 99_999, "material": "304"})
    return pd.DataFrame(rows)


def test_bestsellers_growth_minimum_and_new_items() -> None:
    best = bestsellers(_items(), until="2026-11-22", category="保温杯", min_sales=100)
    table = best["table"]
    assert best["snapshot"] == S2 and best["prev_snapshot"] == S1
    assert table["item_id"].tolist() == ["fast", "mid", "steady", "late", "new"]
    growth = table.set_index("item_id")["growth"]
    assert growth["fast"] == pytest.approx(300 / 100 - 1)
    assert growth["mid"] == pytest.approx(0.5)
    assert np.isnan(growth["new"])
    assert table.set_index("item_id").loc["new", "status"] == "new"
    assert best["eligible"] == 5  # "small" is under the minimum


def test_bestseller_profile_against_base_rates() -> None:
    best = bestsellers(_items(), until="2026-11-22", min_sales=120, top=2)
    assert best["table"]["item_id"].tolist() == ["fast", "mid"]
    prof = best["profile"].set_index(["attribute", "value"])
    # base: 6 listings on 2026-11-22, two of them 316 steel; best-sellers: 1 of 2
    assert prof.loc[("material", "316"), "base_share"] == pytest.approx(2 / 6)
    assert prof.loc[("material", "316"), "bestseller_share"] == pytest.approx(0.5)
    assert prof.loc[("material", "316"), "lift"] == pytest.approx(0.5 / (2 / 6))
    assert "price_band" in prof.index.get_level_values(0)


def test_shop_snapshots_revenue_falls_back_to_price_times_units() -> None:
    shops = shop_snapshots(_items(), until="2026-11-22")
    row = shops[(shops["snapshot_date"] == S2) & (shops["shop"] == "a")].iloc[0]
    assert row["sales_30d"] == 740
    assert row["revenue_30d"] == pytest.approx(120 * 300 + 45 * 440)
    assert shops["snapshot_date"].max() == S2


def test_bestseller_price_bands_are_the_price_pages_bands() -> None:
    # the bands of research.price_points.auto_edges on the latest snapshot's listings,
    # weighted by 30-day units, labelled right-closed (≤a, a–b, >b) as on the price page
    items = _items()
    latest = items[items["snapshot_date"] == S2]
    edges = auto_edges(latest["price"].to_numpy(float), latest["sales_30d"].to_numpy(float))
    best = bestsellers(items, until="2026-11-22", min_sales=100)
    assert best["edges"] == edges
    labels = band_labels(edges)
    table = best["table"].set_index("item_id")
    for item, price in latest.set_index("item_id")["price"].items():
        if item in table.index:
            band = labels[sum(price > e for e in edges)]
            assert table.loc[item, "price_band"] == band
    prof = best["profile"]
    base = prof[prof["attribute"] == "price_band"]
    assert set(base["value"]) <= set(labels) and base["base_share"].sum() == pytest.approx(1.0)


# ----------------------------------------------------------------------------- audience

def _audience(dimensions: tuple[str, ...] = ("gender", "age", "province", "city", "hour",
                                             "weekday", "spend_tier", "aov_band")
              ) -> pd.DataFrame:
    segs = {
        "gender": {"女": (0.6, 0.55), "男": (0.4, 0.45)},
        "age": {"18-24": (0.3, 0.2), "25-29": (0.5, 0.5), "30+": (0.2, 0.3)},
        "province": {"浙江": (0.5, 0.3), "广东": (0.3, 0.4), "江苏": (0.2, 0.3)},
        "city": {"杭州": (0.6, 0.5), "广州": (0.4, 0.5)},
        "hour": {str(h): ((3.0 if h == 21 else 1.0) / 26, 1 / 24) for h in range(24)},
        "weekday": {d: (1 / 7, 1 / 7) for d in ("周一", "周二", "周三", "周四", "周五",
                                                "周六", "周日")},
        "spend_tier": {"高": (0.2, 0.1), "中": (0.5, 0.5), "低": (0.3, 0.4)},
        "aov_band": {"0-50": (0.4, 0.5), "50-100": (0.6, 0.5)},
    }
    rows = []
    for dim in dimensions:
        for seg, (now, before) in segs[dim].items():
            rows.append({"snapshot_date": pd.Timestamp("2026-11-01"), "category": "保温杯",
                         "dimension": dim, "segment": seg, "share": now})
            rows.append({"snapshot_date": pd.Timestamp("2026-10-01"), "category": "保温杯",
                         "dimension": dim, "segment": seg, "share": before})
    return pd.DataFrame(rows)


def test_audience_changes_and_shares_sum_to_one() -> None:
    changes = audience_changes(_audience(), until="2026-11-22")
    g = changes[changes["dimension"] == "gender"].set_index("segment")
    assert g.loc["女", "share"] == pytest.approx(0.6)
    assert g.loc["女", "change"] == pytest.approx(0.05)
    assert (changes["prev_snapshot_date"] == pd.Timestamp("2026-10-01")).all()
    sums = changes.groupby("dimension")["share"].sum()
    assert np.allclose(sums, 1.0)
    # a snapshot after the study week is not read
    later = _audience(("gender",)).assign(snapshot_date=pd.Timestamp("2026-12-01"))
    again = audience_changes(pd.concat([_audience(), later]), until="2026-11-22")
    assert (again["snapshot_date"] == pd.Timestamp("2026-11-01")).all()


def test_audience_check_fails_on_a_truncated_dimension() -> None:
    bad = _audience(("province",))
    bad = bad[bad["segment"] != "江苏"]  # a top-2 export: shares sum to 0.8
    with pytest.raises(CheckFailed, match="audience_shares_sum_to_one"):
        audience_shares_sum_to_one(bad)
    with pytest.raises(CheckFailed):
        audience_changes(bad)
    audience_shares_sum_to_one(_audience().assign(share=lambda f: f["share"] * 1.001))


def test_gender_age_is_only_marginal() -> None:
    ga = gender_age(audience_changes(_audience()))
    assert ga["joint"] is None and "marginal" in ga["note"]
    assert len(ga["gender"]) == 2 and len(ga["age"]) == 3
    only = gender_age(audience_changes(_audience(("age",))))
    assert "age" in only["note"] and only["gender"].empty


def test_hour_weekday_product_of_marginals() -> None:
    changes = audience_changes(_audience())
    grid, why = hour_weekday(changes)
    assert why is None and len(grid) == 7 * 24
    assert grid["share"].sum() == pytest.approx(1.0)
    cell = grid[(grid["weekday"] == 3) & (grid["hour"] == 21)]["share"].item()
    assert cell == pytest.approx(3 / 26 / 7)
    assert peak_hour(grid) == 21
    assert (grid["method"] == "product of marginals").all()


def test_hour_weekday_joint_from_timestamps() -> None:
    ts = pd.Series(pd.to_datetime(["2026-11-16 21:05", "2026-11-16 21:55", "2026-11-22 09:00",
                                   "2026-11-17 21:30"]))
    grid = hour_weekday_joint(ts).set_index(["weekday", "hour"])
    assert len(grid) == 168 and grid["share"].sum() == pytest.approx(1.0)
    assert grid.loc[(1, 21), "share"] == pytest.approx(0.5)  # Monday 21h: two of four
    assert grid.loc[(7, 9), "share"] == pytest.approx(0.25)  # Sunday
    assert peak_hour(grid.reset_index()) == 21


def test_region_ranking_with_previous_rank() -> None:
    regions = region_ranking(audience_changes(_audience()))
    prov = regions[regions["level"] == "province"].set_index("segment")
    assert prov["rank"].to_dict() == {"浙江": 1, "广东": 2, "江苏": 3}
    # previous shares 0.3 / 0.4 / 0.3: ties are ranked by name
    assert prov["prev_rank"].to_dict() == {"浙江": 3, "广东": 1, "江苏": 2}
    assert prov.loc["浙江", "change"] == pytest.approx(0.2)
    assert set(regions["level"]) == {"province", "city"}


def test_audience_from_orders() -> None:
    orders = pd.DataFrame({"timestamp": pd.to_datetime(["2026-11-16 10:00", "2026-11-17 10:30",
                                                        "2026-11-18 20:00"]),
                           "province": ["SP", "SP", "RJ"], "city": ["a", "b", "b"]})
    aud = audience_from_orders(orders, "x", "2026-11-22")
    audience_shares_sum_to_one(aud)
    prov = aud[aud["dimension"] == "province"].set_index("segment")["share"]
    assert prov["SP"] == pytest.approx(2 / 3)
    hours = aud[aud["dimension"] == "hour"].set_index("segment")["buyers"]
    assert hours["10"] == 2


# ----------------------------------------------------------------------------- overview

def test_overview_with_missing_dimensions_says_so() -> None:
    over = market_overview(category="保温杯", week="2026-W47", market_daily=_market_daily(),
                           audience=_audience(("gender", "province")), items=_items(),
                           top_n=2, min_sales=100)
    text = " ".join(over.notes)
    for missing in ("(age)", "(hour)", "(weekday)", "(spend_tier)", "(aov_band)", "(city)"):
        assert missing in text
    assert "heatmap needs both" in over.absent["heatmap"]
    assert "既没有小时分布也没有星期分布" in over.absent["heatmap"]
    assert over.peak_hours.empty
    assert "Only the gender distribution" in over.gender_age["note"]
    results = over.results()
    assert set(CSVS) <= set(results)
    assert "seasonal_index" in results["market_trend"]


def test_overview_without_audience_or_items() -> None:
    over = market_overview(week="2026-W47", market_daily=_market_daily(),
                           audience=pd.DataFrame(columns=["snapshot_date", "category",
                                                          "dimension", "segment", "share"]))
    assert over.audience.empty and over.regions.empty and over.leaders.empty
    assert "（items）" in over.absent["leaders"]
    assert all("（audience）" in over.absent[p] for p in ("gender", "age", "peak_hour",
                                                         "provinces", "cities"))


def _market_warehouse(tmp_path: Path) -> Path:
    """A warehouse holding the hand-made market_daily, audience and items frames."""
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        store(con, "market_daily", _market_daily())
        store(con, "audience", _audience())
        store(con, "items", _items())
    return path


def test_overview_from_a_warehouse_matches_frames(tmp_path: Path) -> None:
    path = _market_warehouse(tmp_path)
    from_frames = market_overview(category="保温杯", week="2026-W47",
                                  market_daily=_market_daily(), audience=_audience(),
                                  items=_items(), top_n=2, min_sales=100)
    # the week is the study scope's: the last complete week of the data by default
    assert resolve_scope(path, "保温杯").week == "2026-W48"
    with pytest.raises(ValueError, match="study week"):
        market_overview(warehouse=path, category="保温杯", week="")
    from_wh = market_overview(warehouse=path, category="保温杯", week="2026-W47", top_n=2,
                              min_sales=100)
    pd.testing.assert_frame_equal(from_wh.leaders, from_frames.leaders, check_dtype=False)
    assert from_wh.best["table"]["item_id"].tolist() == \
        from_frames.best["table"]["item_id"].tolist()
    assert peak_hour(from_wh.peak_hours) == 21


def _scope(**values: object) -> Scope:
    base = {"category": "保温杯", "week": "2026-W47", "week_start": "2026-11-16",
            "week_end": "2026-11-22", "week_rule": "given", "shop": "c",
            "shop_rule": "given", "competitors": ("a", "b"), "competitor_rule": "named",
            "currency": "CNY", "data_start": "2026-11-01", "data_end": "2026-11-22"}
    return Scope(**{**base, **values})


def test_study_returns_a_page_result_with_the_scope_competitors(tmp_path: Path) -> None:
    path = _market_warehouse(tmp_path)
    scope = _scope()
    over = market_page(scope, path, leaders_n=2)
    assert isinstance(over, PageResult) and over.scope == scope
    assert over.competitors == scope.competitors == ("a", "b")
    assert over.week == "2026-W47" and over.shops["snapshot_date"].max() == S2  # no W48 data
    placed = scope_shops(over.shops, scope.shop, over.competitors)
    assert placed["shop"].tolist() == ["c", "a", "b"]
    assert placed["role"].tolist() == ["ours", "competitor", "competitor"]
    assert over.summary().startswith("保温杯 2026-W47")
    with pytest.raises(ValueError, match="market_overview parameter leaders_n="):
        market_page(scope, path, leaders_n=0)


# ----------------------------------------------------------------------------- sample market

def test_sample_market_planted_facts(sample_warehouse: Path, truth: dict) -> None:
    scope = resolve_scope(sample_warehouse, truth["category"])
    over = market_page(scope, sample_warehouse, leaders_n=10, min_sales=50)
    market = truth["market"]
    # from the hour distribution alone, so it holds on markets exported without weekdays
    assert over.peak_hour == int(market["peak_hour"])
    assert over.top_province == market["leading_province"]
    regions = over.regions.set_index(["level", "rank"])["segment"]
    assert regions[("province", 1)] == market["leading_province"]
    assert regions[("city", 1)] == market["leading_city"]
    assert over.rising is not None and over.rising["shop"] == market["rising_leader"]
    sums = over.audience.groupby("dimension")["share"].sum()
    assert np.allclose(sums, 1.0, atol=0.005)


@pytest.mark.slow
def test_notebook_on_the_sample(sample_warehouse: Path, truth: dict, tmp_path: Path) -> None:
    import papermill as pm

    pm.execute_notebook(str(NOTEBOOK), str(tmp_path / "out.ipynb"),
                        parameters={"warehouse": str(sample_warehouse),
                                    "category": truth["category"],
                                    "output_dir": str(tmp_path), "leaders_n": 10},
                        kernel_name="python3", cwd=str(tmp_path))
    for name in CSVS:
        frame = pd.read_csv(tmp_path / "results" / f"{name}.csv", encoding="utf-8-sig")
        assert not frame.empty, name
    regions = pd.read_csv(tmp_path / "results" / "regions.csv", encoding="utf-8-sig")
    top = regions[(regions["level"] == "province") & (regions["rank"] == 1)]
    assert top["segment"].item() == truth["market"]["leading_province"]
    assert (tmp_path / "summaries" / "market_overview.txt").exists()


# ----------------------------------------------------------------------------- Olist

def _olist_delivered(real_data: Path) -> pd.DataFrame:
    folder = real_data / "olist" / "sample_8135_orders"
    orders = pd.read_csv(folder / "olist_orders_dataset.csv")
    customers = pd.read_csv(folder / "olist_customers_dataset.csv")
    orders = orders[orders["order_status"] == "delivered"]
    return orders.merge(customers, on="customer_id", how="left")


@pytest.mark.realdata
def test_olist_regions_and_heatmap_match_plain_pandas(real_data: Path) -> None:
    raw = _olist_delivered(real_data)
    orders = pd.DataFrame({"timestamp": raw["order_purchase_timestamp"],
                           "province": raw["customer_state"], "city": raw["customer_city"]})
    aud = audience_from_orders(orders, "olist", "2018-08-31")
    over = market_overview(week="2018-W35", market_daily=pd.DataFrame(
        columns=["date", "category", "orders"]), audience=aud,
        joint_timestamps=orders["timestamp"])
    # independent: count states and (weekday, hour) with the standard library
    states = collections.Counter(raw["customer_state"])
    total = sum(states.values())
    expected = sorted(states.items(), key=lambda kv: (-kv[1], kv[0]))
    prov = over.regions[over.regions["level"] == "province"]
    assert prov["segment"].tolist() == [s for s, _ in expected]
    assert np.allclose(prov["share"], [n / total for _, n in expected])
    assert prov.iloc[0]["segment"] == "SP"
    stamps = [pd.Timestamp(t) for t in raw["order_purchase_timestamp"]]
    cells = collections.Counter((t.isoweekday(), t.hour) for t in stamps)
    grid = over.peak_hours.set_index(["weekday", "hour"])["share"]
    assert grid.sum() == pytest.approx(1.0)
    for (wd, hr), n in cells.items():
        assert grid[(wd, hr)] == pytest.approx(n / len(stamps))
    hours = collections.Counter(t.hour for t in stamps)
    assert peak_hour(over.peak_hours) == max(sorted(hours), key=lambda h: hours[h])


def _olist_frames(real_data: Path) -> dict:
    from research.sources import olist  # the package's own adapter: never skipped

    return olist.read(real_data / "olist")


@pytest.mark.realdata
def test_olist_adapter_regions_match_raw(real_data: Path) -> None:
    """The adapter's province shares, ranked by research.analyses.market.study, against the raw CSVs."""
    frames = _olist_frames(real_data)
    folder = real_data / "olist" / "sample_8135_orders"
    items = pd.read_csv(folder / "olist_order_items_dataset.csv")
    products = pd.read_csv(folder / "olist_products_dataset.csv")
    raw = _olist_delivered(real_data).merge(items, on="order_id").merge(products,
                                                                       on="product_id")
    category = raw["product_category_name"].value_counts().index[0]
    raw = raw[(raw["product_category_name"] == category)
              & raw["order_purchase_timestamp"].str.startswith("2018-07")]
    per_state = raw.groupby("customer_state")["order_id"].nunique()
    expected = (per_state / raw["order_id"].nunique()).sort_values(ascending=False)

    over = market_overview(category=category, week="2018-W31",
                           market_daily=frames["market_daily"], audience=frames["audience"],
                           items=frames["items"], top_n=5, min_sales=2)
    prov = over.regions[over.regions["level"] == "province"].set_index("segment")["share"]
    assert over.audience["snapshot_date"].dt.month.unique().tolist() == [7]
    assert prov.index[0] == expected.index[0]
    assert np.allclose(prov.reindex(expected.index).to_numpy(), expected.to_numpy())
    assert over.trend["orders_sum"].notna().any()  # real counts, not an index
    assert not over.leaders.empty


@pytest.mark.realdata
@pytest.mark.slow
def test_notebook_on_olist(real_data: Path, tmp_path: Path) -> None:
    import papermill as pm

    frames = _olist_frames(real_data)
    path = tmp_path / "olist.duckdb"
    with connect(path) as con:
        for name in ("items", "market_daily", "audience"):
            store(con, name, frames[name])
    category = frames["items"]["category"].value_counts().index[0]
    pm.execute_notebook(str(NOTEBOOK), str(tmp_path / "out.ipynb"),
                        parameters={"warehouse": str(path), "category": category,
                                    "week": "2018-W31", "output_dir": str(tmp_path),
                                    "leaders_n": 5, "min_sales": 2, "currency": "BRL"},
                        kernel_name="python3", cwd=str(tmp_path))
    for name in CSVS:
        assert (tmp_path / "results" / f"{name}.csv").exists(), name
    regions = pd.read_csv(tmp_path / "results" / "regions.csv", encoding="utf-8-sig")
    assert regions.loc[regions["level"] == "province", "segment"].iloc[0] == "SP"


# ----------------------------------------------------------------------------- missing parts
# Each part of the page either has its result or one sentence naming the missing data
# (MarketOverview.absent); hand-built warehouses take one piece of data away at a time.

def _shown(over: MarketOverview, part: str) -> bool:
    """Whether ``part`` has a result, read from the result fields (not from ``absent``)."""
    dims = set(over.audience["dimension"]) if not over.audience.empty else set()
    levels = set(over.regions["level"]) if not over.regions.empty else set()
    return {"trend": not over.trend.empty, "seasonal": not over.seasonal.empty,
            "leaders": not over.leaders.empty, "concentration": not over.concentration.empty,
            "rising_leader": over.rising is not None,
            "bestsellers": not over.best["table"].empty,
            "gender": "gender" in dims, "age": "age" in dims,
            "spend_tier": "spend_tier" in dims, "aov_band": "aov_band" in dims,
            "peak_hour": over.peak_hour is not None,
            "peak_weekday": over.peak_weekday is not None,
            "heatmap": not over.peak_hours.empty, "provinces": "province" in levels,
            "cities": "city" in levels}[part]


def _check_parts(over: MarketOverview) -> None:
    """Every part shown or said absent (never both, never neither), each absence one
    Chinese · English sentence; the summary and results work."""
    assert set(over.absent) <= set(PARTS)
    for part in PARTS:
        assert _shown(over, part) != (part in over.absent), part
    for text in over.absent.values():
        zh, en = text.split(" · ")
        assert zh.endswith("。") and en.endswith(".") and "：" in zh
    assert over.summary().endswith(".")
    assert set(CSVS) <= set(over.results())


def _warehouse(tmp_path: Path, **frames: pd.DataFrame) -> Path:
    return warehouse_with(tmp_path / "parts.duckdb", **frames)


def _page(tmp_path: Path, **frames: pd.DataFrame) -> MarketOverview:
    return market_page(_scope(), _warehouse(tmp_path, **frames), leaders_n=2, min_sales=100)


_ALL_DIMS = ("gender", "age", "province", "city", "hour", "weekday", "spend_tier", "aov_band")


def _weekday_peak_saturday() -> pd.DataFrame:
    aud = _audience(("weekday",))
    sat = aud["segment"] == "周六"
    now = aud["snapshot_date"] == pd.Timestamp("2026-11-01")
    aud.loc[now, "share"] = np.where(sat[now], 0.4, 0.1)  # 0.4 + 6 × 0.1 = 1
    return aud


def test_parts_all_data_everything_shown(tmp_path: Path) -> None:
    path = _warehouse(tmp_path, market_daily=_market_daily(), audience=_audience(),
                      items=_items())
    with connect(path) as con:  # the market page reads no traffic: none is stored here
        held = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables"
                                          ).fetchall()}
    assert "traffic" not in held or not len(read("traffic", path))
    over = market_page(_scope(), path, leaders_n=2, min_sales=100)
    _check_parts(over)
    assert over.absent == {}
    assert over.peak_hour == 21 and over.top_province == "浙江"


def test_parts_hours_without_weekdays_still_give_the_peak_hour(tmp_path: Path) -> None:
    dims = tuple(d for d in _ALL_DIMS if d != "weekday")
    over = _page(tmp_path, market_daily=_market_daily(), audience=_audience(dims),
                 items=_items())
    _check_parts(over)
    assert over.peak_hour == 21  # from the hour distribution alone
    assert over.hours.set_index("hour")["share"][21] == pytest.approx(3 / 26)
    assert over.peak_hours.empty and over.peak_weekday is None
    assert set(over.absent) == {"peak_weekday", "heatmap"}
    assert "只有小时分布、没有星期分布" in over.absent["heatmap"]
    assert "(weekday)" in over.absent["peak_weekday"]
    assert "peak hour 21:00" in over.summary()
    assert over.results()["hours"]["hour"].tolist() == list(range(24))


def test_parts_weekdays_without_hours_give_the_peak_weekday(tmp_path: Path) -> None:
    dims = tuple(d for d in _ALL_DIMS if d not in ("hour", "weekday"))
    aud = pd.concat([_audience(dims), _weekday_peak_saturday()], ignore_index=True)
    over = _page(tmp_path, market_daily=_market_daily(), audience=aud, items=_items())
    _check_parts(over)
    assert over.peak_weekday == 6 and over.peak_hour is None
    assert set(over.absent) == {"peak_hour", "heatmap"}
    assert "只有星期分布、没有小时分布" in over.absent["heatmap"]
    assert "peak hour" not in over.summary()


def test_parts_no_audience_at_all(tmp_path: Path) -> None:
    over = _page(tmp_path, market_daily=_market_daily(), items=_items())
    _check_parts(over)
    audience_parts = {"gender", "age", "spend_tier", "aov_band", "peak_hour", "peak_weekday",
                      "heatmap", "provinces", "cities"}
    assert set(over.absent) == audience_parts
    for part in audience_parts - {"heatmap"}:
        assert "（audience）" in over.absent[part], part
    assert not over.leaders.empty and over.rising is not None  # the rest stands


def test_parts_no_provinces_names_no_city_as_province(tmp_path: Path) -> None:
    dims = tuple(d for d in _ALL_DIMS if d != "province")
    over = _page(tmp_path, market_daily=_market_daily(), audience=_audience(dims),
                 items=_items())
    _check_parts(over)
    assert set(over.absent) == {"provinces"} and "(province)" in over.absent["provinces"]
    assert over.top_province is None and "top province" not in over.summary()
    assert over.regions["segment"].tolist() == ["杭州", "广州"]


def test_parts_no_cities(tmp_path: Path) -> None:
    dims = tuple(d for d in _ALL_DIMS if d != "city")
    over = _page(tmp_path, market_daily=_market_daily(), audience=_audience(dims),
                 items=_items())
    _check_parts(over)
    assert set(over.absent) == {"cities"} and over.top_province == "浙江"


def test_parts_no_items(tmp_path: Path) -> None:
    over = _page(tmp_path, market_daily=_market_daily(), audience=_audience())
    _check_parts(over)
    assert set(over.absent) == {"leaders", "concentration", "rising_leader", "bestsellers"}
    assert all("（items）" in t for t in over.absent.values())
    assert over.peak_hour == 21


def test_parts_one_items_snapshot(tmp_path: Path) -> None:
    items = _items()
    over = _page(tmp_path, market_daily=_market_daily(), audience=_audience(),
                 items=items[items["snapshot_date"] == S2])
    _check_parts(over)
    assert set(over.absent) == {"rising_leader", "bestsellers"}
    assert "只有一期商品快照（2026-11-22）" in over.absent["rising_leader"]
    assert over.leaders["shop"].tolist() == ["a", "c"]  # 740 and 250 units on S2


def test_parts_no_market_daily(tmp_path: Path) -> None:
    over = _page(tmp_path, audience=_audience(), items=_items())
    _check_parts(over)
    assert set(over.absent) == {"trend", "seasonal"}
    assert all("（market_daily）" in t for t in over.absent.values())


def test_parts_short_market_history_has_a_trend_but_no_season(tmp_path: Path) -> None:
    over = _page(tmp_path, market_daily=_market_daily("2026-06-01", "2026-11-22"),
                 audience=_audience(), items=_items())
    _check_parts(over)
    assert set(over.absent) == {"seasonal"} and "40" in over.absent["seasonal"]


def test_parts_nothing_at_all(tmp_path: Path) -> None:
    over = _page(tmp_path, keywords=pd.DataFrame({"date": [pd.Timestamp("2026-11-20")],
                                                  "category": ["保温杯"], "keyword": ["杯"],
                                                  "search_popularity": [1.0]}))
    _check_parts(over)
    assert set(over.absent) == set(PARTS)


def test_parts_unreadable_hour_segments_are_said(tmp_path: Path) -> None:
    aud = _audience(("hour", "weekday"))
    aud = aud[aud["dimension"] != "hour"]
    words = pd.DataFrame({"snapshot_date": pd.Timestamp("2026-11-01"), "category": "保温杯",
                          "dimension": "hour", "segment": ["上午", "晚上"], "share": 0.5})
    aud = pd.concat([aud, words], ignore_index=True)  # no segment names an hour
    over = _page(tmp_path, audience=aud, items=_items(), market_daily=_market_daily())
    _check_parts(over)
    assert "没有一个分段能读成小时" in over.absent["peak_hour"]
    assert over.peak_weekday is not None


def test_peak_weekday_and_profiles_hand_computed() -> None:
    changes = audience_changes(_weekday_peak_saturday())
    assert peak_weekday(weekday_profile(changes)) == 6
    assert hour_profile(changes).empty
    hours = hour_profile(audience_changes(_audience(("hour",))))
    assert peak_hour(hours) == 21 and hours["share"].sum() == pytest.approx(1.0)


def test_hour_profile_adds_segments_naming_the_same_hour() -> None:
    # an export may split an hour ("21:00" and "21时"); their shares are one hour's
    changes = pd.DataFrame({"dimension": "hour", "segment": ["9:00", "21:00", "21时", "22"],
                            "share": [0.35, 0.25, 0.2, 0.2]})
    hours = hour_profile(changes).set_index("hour")["share"]
    assert hours.to_dict() == pytest.approx({9: 0.35, 21: 0.45, 22: 0.2})
    assert peak_hour(hours.reset_index()) == 21  # 0.45 together, though 9:00 is the largest row


def test_audience_segment_new_since_the_previous_snapshot_rose_from_zero() -> None:
    aud = _audience(("province",))
    new = pd.DataFrame({"snapshot_date": [pd.Timestamp("2026-11-01")], "category": "保温杯",
                        "dimension": "province", "segment": ["上海"], "share": [0.0]})
    aud = pd.concat([aud, new], ignore_index=True)
    aud.loc[(aud["segment"] == "上海"), "share"] = 0.1
    aud.loc[(aud["segment"] == "浙江") & (aud["snapshot_date"] == pd.Timestamp("2026-11-01")),
            "share"] = 0.4
    row = audience_changes(aud).set_index("segment").loc["上海"]
    assert row["prev_share"] == 0.0 and row["change"] == pytest.approx(0.1)


def _outputs_text(path: Path) -> str:
    """Every text/HTML output of an executed notebook, tags removed."""
    import html
    import json
    import re

    nb = json.loads(path.read_text(encoding="utf-8"))
    chunks = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", out.get("evalue")
            data = out.get("data", {})
            chunks.append("".join(data.get("text/html", "")) or "".join(
                data.get("text/plain", "")) or "".join(out.get("text", "")))
    return html.unescape(re.sub(r"<[^>]+>", "", "\n".join(chunks)))


@pytest.mark.slow
def test_notebook_says_each_missing_part(tmp_path: Path) -> None:
    """Hours without weekdays, one listing snapshot, no market_daily: the page shows the peak
    hour and says, part by part, what the data did not allow."""
    import papermill as pm

    dims = tuple(d for d in _ALL_DIMS if d != "weekday")
    items = _items()
    path = _warehouse(tmp_path, audience=_audience(dims),
                      items=items[items["snapshot_date"] == S2])
    over = market_page(_scope(), path, leaders_n=2, min_sales=100)
    pm.execute_notebook(str(NOTEBOOK), str(tmp_path / "out.ipynb"),
                        parameters={"warehouse": str(path), "category": "保温杯",
                                    "week": "2026-W47", "output_dir": str(tmp_path),
                                    "leaders_n": 2},
                        kernel_name="python3", cwd=str(tmp_path))
    text = _outputs_text(tmp_path / "out.ipynb")
    assert "成交高峰 21:00" in text and "peak hour: 21:00" in text
    assert set(over.absent) == {"trend", "seasonal", "rising_leader", "bestsellers",
                                "peak_weekday", "heatmap"}
    for sentence in over.absent.values():
        assert sentence in text
    assert "浙江" in text and "杭州" in text  # the parts the data allows are shown
    hours = pd.read_csv(tmp_path / "results" / "hours.csv", encoding="utf-8-sig")
    assert int(hours.loc[hours["share"].idxmax(), "hour"]) == 21


def test_parts_a_truncated_province_export_takes_away_only_provinces(tmp_path: Path) -> None:
    aud = _audience()
    aud = aud[aud["segment"] != "江苏"]  # a top-2 province export: shares sum to 0.8
    over = _page(tmp_path, market_daily=_market_daily(), audience=aud, items=_items())
    _check_parts(over)
    assert set(over.absent) == {"provinces"}
    assert "之和不为 1" in over.absent["provinces"] and "province" in over.rejected
    assert over.peak_hour == 21 and over.top_province is None
    assert set(over.regions["level"]) == {"city"}
