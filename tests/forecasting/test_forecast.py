"""Tests of the forecasting engine, its accuracy metrics and the promotion calendar."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from research.calendar import (
    CNY_DATES,
    event_regressors,
    promotion_calendar,
    read_event_file,
)
from research.forecasting.accuracy import mase, naive2, owa, seasonal_indices, smape
from research.forecasting.engine import forecast, forecast_array, forecast_many, regularise

# ---------------------------------------------------------------- metrics by hand


def test_smape_by_hand():
    # |10-12|/(10+12) = 1/11, |20-15|/(35) = 1/7; 200/2 * (1/11 + 1/7)
    assert smape([10, 20], [12, 15]) == pytest.approx(100 * (1 / 11 + 1 / 7))
    # a 0/0 step counts as 0, a 0 actual with a non-zero forecast as 200
    assert smape([0, 0], [0, 5]) == pytest.approx(100.0)


def test_mase_by_hand():
    insample = [3, 5, 4, 8]            # naive errors 2, 1, 4 -> scale 7/3
    assert mase(insample, [9, 7], [8, 8]) == pytest.approx(1.0 / (7 / 3))
    # seasonal scale m=2: |4-3|, |8-5| -> 2
    assert mase(insample, [9, 7], [8, 8], m=2) == pytest.approx(0.5)
    assert np.isnan(mase([5, 5, 5], [5], [6]))  # constant history: undefined


def test_owa_by_hand():
    # model sMAPE 9 vs Naive2 10, MASE 2.4 vs 3 -> (0.9 + 0.8) / 2
    assert owa(9.0, 2.4, 10.0, 3.0) == pytest.approx(0.85)
    # Naive2 against itself is 1
    y = np.array([5.0, 6, 7, 8])
    f = naive2(y, 2)
    assert f.tolist() == [8.0, 8.0]
    s, m = smape([9, 10], f), mase(y, [9, 10], f)
    assert owa(s, m, s, m) == 1.0


def test_seasonal_naive_repeats_the_last_season_and_falls_back_to_naive():
    from research.forecasting.models import Context, seasonal_naive

    y = np.array([1.0, 2, 3, 4, 10, 20, 30, 40, 11, 21])
    # m = 4: the last season is 30, 40, 11, 21; six steps ahead wrap around it
    assert seasonal_naive(y, 6, Context(4)).tolist() == [30, 40, 11, 21, 30, 40]
    # shorter than a season, or no season: the last value
    assert seasonal_naive(y[:3], 5, Context(4)).tolist() == [3.0] * 5
    assert seasonal_naive(y, 3, Context(1)).tolist() == [21.0] * 3


def test_backtest_coverage_leaves_each_origin_out():
    """Three one-step origins with errors 1, 2 and 10 (level 1): the 80 % band for the third
    is built from the other two only (the largest of them stretched by 1.1 → 2.2), so it
    misses 10; built in-sample (with its own error) it would cover it."""
    from research.forecasting.backtest import backtest_rows

    act = np.array([[1.0], [2.0], [10.0]])
    rows = backtest_rows("m", np.zeros((3, 1)), act, [10, 20, 30], np.ones(3), np.ones(3),
                         [0.8])
    assert [r["coverage80"] for r in rows] == [1.0, 1.0, 0.0]


def test_intervals_widen_with_the_horizon_on_a_random_walk():
    """On a random walk the backtest errors grow with the step, and so do the intervals."""
    rng = np.random.default_rng(4)
    y = pd.Series(500 + np.cumsum(rng.normal(0, 10, 200)),
                  index=pd.date_range("2023-01-02", periods=200, freq="7D"))
    fc = forecast(y, horizon=9, calendar=False).forecast
    width = (fc["hi95"] - fc["lo95"]).to_numpy()
    assert width[-1] > 1.5 * width[0], width


def test_seasonal_indices_recover_a_planted_pattern():
    pattern = np.array([0.8, 1.0, 1.2, 1.0])
    y = 50 * np.tile(pattern, 6)
    assert seasonal_indices(y, 4) == pytest.approx(pattern, rel=1e-9)
    # naive2 with a seasonal series: last adjusted value re-seasonalised
    yy = 50 * np.tile(pattern, 12)
    assert naive2(yy, 4, m=4) == pytest.approx(50 * pattern)


# ---------------------------------------------------------------- calendar


def test_cny_table_and_windows():
    assert CNY_DATES[2024] == "2024-02-10" and CNY_DATES[2025] == "2025-01-29"
    assert CNY_DATES[2026] == "2026-02-17" and set(CNY_DATES) == set(range(2015, 2036))
    cal = promotion_calendar("2025-01-01", "2025-12-31")
    d11 = cal[cal["name"] == "双11"]["date"]
    assert d11.min() == pd.Timestamp("2025-11-01") and d11.max() == pd.Timestamp("2025-11-11")
    ny = cal[cal["name"] == "年货节"]["date"]
    assert ny.max() == pd.Timestamp("2025-01-19")  # CNY 2025-01-29 minus 10 days


def test_event_regressors_weekly_share(tmp_path):
    path = tmp_path / "ev.csv"
    path.write_text("start,end,name\n2026-03-03,2026-03-04,店庆\n", encoding="utf-8")
    ev = read_event_file(path)
    assert ev["date"].tolist() == [pd.Timestamp("2026-03-03"), pd.Timestamp("2026-03-04")]
    cal = promotion_calendar("2026-03-01", "2026-03-20", ev, builtin=False)
    x = event_regressors(pd.date_range("2026-03-02", periods=2, freq="7D"), "W", cal)
    assert x["店庆"].tolist() == pytest.approx([2 / 7, 0.0])


# ---------------------------------------------------------------- seeded series


def _weekly_sales(seed: int = 0, start: str = "2023-01-02", weeks: int = 150,
                  uplift: float = 2.5) -> pd.Series:
    """Weekly sales with a yearly cycle, noise and a planted 双11 uplift."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range(start, periods=weeks, freq="7D")
    cal = promotion_calendar(idx.min(), idx.max() + pd.Timedelta(days=6))
    x = event_regressors(idx, "W", cal)
    d11 = x["双11"].to_numpy() if "双11" in x else np.zeros(weeks)
    base = 200 * (1 + 0.15 * np.sin(2 * np.pi * np.arange(weeks) / 52.18))
    y = base * np.exp(np.log(uplift) * d11) * rng.lognormal(0, 0.08, weeks)
    return pd.Series(np.round(y), index=idx, name="units")


def test_double11_week_is_anticipated():
    y = _weekly_sales(uplift=3.0)
    cut = y.index.get_loc(pd.Timestamp("2025-10-13"))  # history ends mid-October 2025
    res = forecast(y.iloc[: cut + 1], horizon=9)
    fc = res.forecast.set_index("date")["point"]
    d11_week = fc.loc[pd.Timestamp("2025-11-03")]      # 3–9 Nov: all days in 双11
    normal = fc.loc[[pd.Timestamp("2025-10-20"), pd.Timestamp("2025-12-08")]].mean()
    assert d11_week > 1.8 * normal, (res.model, fc)
    assert res.event_effects["双11"] > 2.0
    assert res.promotion_gain > 0  # the calendar made the backtest better


def test_chosen_model_has_the_lowest_backtest_mase():
    """The model chosen is the one whose mean backtest MASE (absolute errors over the
    in-sample scale) is lowest, on a seasonal, a trending and a random-walk series."""
    rng = np.random.default_rng(8)
    idx = pd.date_range("2022-01-03", periods=160, freq="7D")
    series = [_weekly_sales(seed=2),
              pd.Series(100 + 2.0 * np.arange(160) + rng.normal(0, 4, 160), index=idx),
              pd.Series(300 + np.cumsum(rng.normal(0, 8, 160)), index=idx)]
    for y in series:
        res = forecast(y, horizon=9, calendar=False)
        bt = res.backtest
        means = bt[~bt["model"].str.endswith("without calendar")].groupby("model")["mase"].mean()
        assert means[res.model] == pytest.approx(means.min()), (res.model, means)


def test_analyst_event_is_an_input():
    rng = np.random.default_rng(3)
    idx = pd.date_range("2024-01-01", periods=400, freq="D")
    y = pd.Series(100 + rng.normal(0, 5, 400), index=idx)
    days = [d for d in idx if d.day == 15]
    y[days] = y[days] * 4  # the shop's monthly members' day
    events = pd.DataFrame({"date": days + [pd.Timestamp("2025-02-15")], "name": "会员日"})
    res = forecast(y, horizon=30, events=events, calendar=False)
    fc = res.forecast.set_index("date")["point"]
    assert fc.loc["2025-02-15"] > 2.5 * fc.drop(pd.Timestamp("2025-02-15")).median()


def test_interval_coverage_near_nominal():
    rng = np.random.default_rng(11)
    cov80, cov95 = [], []
    for _ in range(24):
        n = 130
        level = 100 + np.cumsum(rng.normal(0, 2, n))
        season = 1 + 0.1 * np.sin(2 * np.pi * np.arange(n) / 52)
        y = np.maximum(level * season + rng.normal(0, 5, n), 1)
        out = forecast_array(y, 9, 52, n_origins=6)
        rows = pd.DataFrame(out["rows"])
        chosen = rows[rows["model"] == out["model"]]
        cov80.append(chosen["coverage80"].mean())
        cov95.append(chosen["coverage95"].mean())
    assert abs(np.mean(cov80) - 0.80) <= 0.10, np.mean(cov80)
    assert abs(np.mean(cov95) - 0.95) <= 0.10, np.mean(cov95)


@pytest.mark.parametrize("case", ["zeros", "gaps", "ten", "shift"])
def test_degenerate_series_give_a_stated_forecast(case):
    rng = np.random.default_rng(5)
    idx = pd.date_range("2025-01-06", periods=80, freq="7D")
    if case == "zeros":
        y = pd.Series(0.0, index=idx)
    elif case == "gaps":
        y = pd.Series(50 + rng.normal(0, 3, 80), index=idx).drop(idx[[10, 11, 40, 79 - 5]])
    elif case == "ten":
        y = pd.Series(50 + rng.normal(0, 3, 10), index=idx[:10])
    else:
        y = pd.Series(np.r_[np.full(50, 20.0), np.full(30, 80.0)] + rng.normal(0, 1, 80),
                      index=idx)
    res = forecast(y, horizon=9)
    fc = res.forecast
    assert len(fc) == 9 and fc["model"].notna().all() and res.model
    assert np.isfinite(fc[["point", "lo80", "hi80", "lo95", "hi95"]].to_numpy()).all()
    assert (fc["lo95"] <= fc["lo80"]).all() and (fc["lo80"] <= fc["point"]).all()
    assert (fc["point"] <= fc["hi80"]).all() and (fc["hi80"] <= fc["hi95"]).all()
    if case == "zeros":
        assert res.model == "constant" and (fc["point"] == 0).all()
    if case == "gaps":
        assert any("interpolation" in n for n in res.notes)
    if case == "ten":
        assert res.model == "naive" and any("too short" in n for n in res.notes)
    if case == "shift":
        assert fc["point"].iloc[0] > 60  # follows the new level, not the old mean


def test_regularise_weekly_alignment_and_duplicates():
    s = pd.Series([1.0, 2.0, 3.0, 4.0],
                  index=pd.to_datetime(["2026-01-05", "2026-01-05", "2026-01-12", "2026-01-26"]))
    out, freq, notes = regularise(s)
    assert freq == "W" and out.tolist() == [3.0, 3.0, 3.5, 4.0]
    assert notes and "1 missing" in notes[0]


def test_forecast_many_in_parallel_matches_single():
    frames = []
    for k in range(5):
        y = _weekly_sales(seed=k, weeks=110)
        frames.append(pd.DataFrame({"sku": f"s{k}", "week": y.index, "units": y.to_numpy()}))
    frame = pd.concat(frames, ignore_index=True)
    many = forecast_many(frame, "sku", "week", "units", horizon=9, workers=2, progress=False,
                         min_parallel=2, start_method="fork")
    assert sorted(many.forecast["series"].unique()) == [f"s{k}" for k in range(5)]
    assert len(many.forecast) == 45
    single = forecast(frame[frame["sku"] == "s3"].set_index("week")["units"], horizon=9)
    got = many.results["s3"].forecast["point"].to_numpy()
    assert got == pytest.approx(single.forecast["point"].to_numpy())
    assert {"model", "origin", "mase", "smape", "coverage80", "coverage95"} <= set(
        many.backtest.columns)


def test_pool_start_method_follows_the_threads():
    import threading

    from research.forecasting.engine import pool_context

    stop = threading.Event()
    helper = threading.Thread(target=stop.wait, daemon=True)
    helper.start()
    try:  # a kernel always has other threads: no fork there
        assert pool_context().get_start_method() == "forkserver"
    finally:
        stop.set()
        helper.join()
    assert pool_context("fork").get_start_method() == "fork"


@pytest.mark.slow
def test_forecast_many_from_a_threaded_process_uses_forkserver():
    import threading

    frame = pd.concat([pd.DataFrame({"sku": f"s{k}", "week": y.index, "units": y.to_numpy()})
                       for k in range(3) for y in [_weekly_sales(seed=k, weeks=110)]])
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait, daemon=True)
    helper.start()
    try:
        many = forecast_many(frame, "sku", "week", "units", horizon=9, workers=2,
                             progress=False, min_parallel=2)
    finally:
        stop.set()
        helper.join()
    single = forecast(frame[frame["sku"] == "s1"].set_index("week")["units"], horizon=9)
    assert many.results["s1"].forecast["point"].to_numpy() == pytest.approx(
        single.forecast["point"].to_numpy())


# ---------------------------------------------------------------- the sample market


@pytest.fixture(scope="module")
def sample_sales(sample_warehouse):
    from research.store.warehouse import read

    return read("sales", sample_warehouse)


@pytest.fixture(scope="module")
def sample_events(sample_warehouse):
    from research.store.events import events_from_warehouse

    return events_from_warehouse(sample_warehouse)


def _promotion_days(truth: dict) -> set:
    windows = truth["promotions"] + truth.get("holidays", [])
    return {d for p in windows for d in pd.date_range(p["start"], p["end"])}


def _has_promotion(monday: pd.Timestamp, days: set) -> bool:
    return any(monday + pd.Timedelta(days=k) in days for k in range(7))


def _strongest_promotion(truth: dict, sales: pd.DataFrame) -> list[dict]:
    """The truth's promotions with a year of history before them, strongest planted uplift
    first (all with equal weight when the truth gives no uplift)."""
    first = pd.Timestamp(truth["start"])
    ok = [p for p in truth["promotions"]
          if (pd.Timestamp(p["start"]) - first).days >= 365
          and pd.Timestamp(p.get("peak", p["end"])) <= sales["date"].max()]
    return sorted(ok, key=lambda p: -float(p.get("uplift", 1.0)))


@pytest.mark.parametrize("builtin", [False, True])
def test_sample_promotion_peak_week_is_anticipated(truth, sample_sales, sample_events,
                                                   builtin):
    """History cut on the Sunday before the strongest planted promotion (a year of history
    before it): the forecast for the week holding its peak day is the highest of the nine and
    well above normal. The promotion, its dates and its peak day come from truth.json.

    ``builtin=True`` is the page's configuration: the warehouse's events table on top of the
    built-in calendar (whose 618当天 / 双11当天 peak days carry the peak week). With
    ``builtin=False`` nothing of research.calendar is used: the events table plus each
    promotion's peak day as an analyst event of its own (``<name>当天``, dated by the
    generator). The events table alone (windows only, no peak day) is not enough on this
    history: the window's average effect is ~1.5 and the flat benchmark wins the backtest.
    """
    from research.analyses.forecast.outlook import weekly_shop_series

    events = sample_events
    if not builtin:
        peaks = pd.DataFrame([{"date": pd.Timestamp(p["peak"]), "name": f"{p['name']}当天",
                               "kind": "peak"} for p in truth["promotions"] if "peak" in p])
        events = pd.concat([sample_events, peaks], ignore_index=True)

    promo_days = _promotion_days(truth)
    checked = 0
    for p in _strongest_promotion(truth, sample_sales):
        start = pd.Timestamp(p["start"])
        peak = pd.Timestamp(p.get("peak", p["end"]))
        first_monday = start - pd.Timedelta(days=start.weekday())
        cut = first_monday - pd.Timedelta(days=1)                  # a Sunday
        weekly = weekly_shop_series(sample_sales, truth["our_shop"], end=cut)
        assert weekly.index.max() == first_monday - pd.Timedelta(days=7)  # nothing later
        peak_week = peak - pd.Timedelta(days=peak.weekday())
        hist = weekly["units"]
        normal = [w for w in hist.index if not _has_promotion(w, promo_days)][-8:]
        baseline = float(hist.loc[normal].median())
        actual = weekly_shop_series(sample_sales, truth["our_shop"],
                                    end=peak_week + pd.Timedelta(days=6))["units"]
        if not actual.loc[peak_week] > 1.5 * baseline:
            continue  # the premise: the planted spike is real in our shop's sales
        res = forecast(weekly["units"].astype(float), horizon=9, freq="W",
                       events=events, calendar=builtin)
        fc = res.forecast.set_index("date")["point"]
        assert fc.index[0] == first_monday
        assert fc.loc[peak_week] > 1.5 * baseline, (p, res.model, fc, baseline)
        assert fc.idxmax() == peak_week, (p, fc)
        quiet = [w for w in fc.index if not _has_promotion(w, promo_days)]
        assert fc.loc[peak_week] > 1.3 * fc.loc[quiet].median(), fc
        assert res.event_effects[p["name"]] > 1.0 and res.promotion_gain > 0
        checked += 1
        break  # the strongest promotion whose spike is real
    assert checked == 1, truth["promotions"]


def test_weekly_promotion_on_dates_no_builtin_calendar_knows():
    """A shop's own promotion week (a 品牌日 in late September, each year on other days, in
    no built-in calendar) given only through the events table: the forecast made before it
    anticipates it, with or without the built-in calendar; without the events it does not
    (the events table is what carries it)."""
    rng = np.random.default_rng(21)
    idx = pd.date_range("2023-01-02", periods=150, freq="7D")
    days = [pd.date_range(s, periods=5) for s in ("2023-09-19", "2024-09-24", "2025-09-23")]
    events = pd.DataFrame({"date": [d for w in days for d in w], "name": "品牌日"})
    share = event_regressors(idx, "W", promotion_calendar(
        idx.min(), idx.max() + pd.Timedelta(days=6), events, builtin=False))["品牌日"]
    y = pd.Series(np.round(300 * np.exp(np.log(2.5) * share.to_numpy())
                           * rng.lognormal(0, 0.08, len(idx))), index=idx)
    cut = y.index.get_loc(pd.Timestamp("2025-09-01"))
    week = pd.Timestamp("2025-09-22")  # 22–28 Sep holds 23–27 Sep
    for builtin in (False, True):
        res = forecast(y.iloc[: cut + 1], horizon=9, events=events, calendar=builtin)
        fc = res.forecast.set_index("date")["point"]
        # planted: ×2.5 on 5 of the week's 7 days (×1.92 for the week)
        assert fc.idxmax() == week and fc.loc[week] > 1.5 * fc.drop(week).median(), fc
        assert res.event_effects["品牌日"] > 1.5
    blind = forecast(y.iloc[: cut + 1], horizon=9, calendar=True).forecast.set_index("date")
    assert blind.loc[week, "point"] < 1.3 * blind["point"].drop(week).median()


def test_sample_backtest_coverage_near_nominal(truth, sample_sales, sample_events):
    """80 % and 95 % intervals cover about 80 % and 95 % of the backtest actuals, on our
    shop's totals and top items, weekly and daily (mean over the series, ±10 points)."""
    from research.analyses.forecast.outlook import weekly_shop_series

    shop = truth["our_shop"]
    top = (sample_sales.groupby("item_id")["units"].sum().sort_values(ascending=False)
           .index[:3].tolist())
    total = weekly_shop_series(sample_sales, shop)
    series = {("W", "units"): total["units"], ("W", "revenue"): total["revenue"]}
    for item in top:
        series[("W", item)] = weekly_shop_series(sample_sales, shop, [item])["units"]
    series[("D", "units")] = sample_sales.groupby("date")["units"].sum()
    for item in top[:2]:
        series[("D", item)] = sample_sales[sample_sales["item_id"] == item].set_index(
            "date")["units"]
    cover: dict = {"W": [], "D": []}
    for (freq, _), y in series.items():
        res = forecast(y.astype(float), freq=freq, events=sample_events)
        chosen = res.backtest[res.backtest["model"] == res.model]
        assert len(chosen) >= 4
        cover[freq].append(chosen[["coverage80", "coverage95"]].mean())
    for freq, rows in cover.items():
        mean = pd.concat(rows, axis=1).mean(axis=1)
        assert abs(mean["coverage80"] - 0.80) <= 0.10, (freq, mean)
        assert abs(mean["coverage95"] - 0.95) <= 0.10, (freq, mean)


@pytest.mark.realdata
def test_m4_weekly_smoke(real_data):
    tr = pd.read_csv(real_data / "m4" / "Weekly-train.csv", nrows=5)
    te = pd.read_csv(real_data / "m4" / "Weekly-test.csv", nrows=5)
    for i in range(5):
        y = tr.iloc[i, 1:].dropna().to_numpy(float)
        out = forecast_array(y, 13, 52, max_history=260)
        test = te.iloc[i, 1:].to_numpy(float)
        assert len(out["point"]) == 13 and np.isfinite(out["point"]).all()
        # independent check of our sMAPE against a plain formula
        f = out["point"]
        assert smape(test, f) == pytest.approx(
            np.mean(2 * np.abs(test - f) / (np.abs(test) + np.abs(f))) * 100)


@pytest.mark.realdata
def test_m5_and_uci_smoke(real_data):
    sales = pd.read_csv(real_data / "m5" / "sales_train_validation_10series.csv", nrows=1)
    cal = pd.read_csv(real_data / "m5" / "calendar.csv", parse_dates=["date"])
    days = [c for c in sales.columns if c.startswith("d_")][-400:]
    y = pd.Series(sales.iloc[0][days].to_numpy(float),
                  index=pd.DatetimeIndex(cal.set_index("d").loc[days, "date"]))
    ev = cal[["date", "event_name_1"]].dropna().rename(columns={"event_name_1": "name"})
    res = forecast(y, horizon=28, events=ev, calendar=False)
    assert len(res.forecast) == 28 and res.model
    inv = pd.read_csv(real_data / "uci_online_retail_ii_invoices" / "online_retail_ii_invoices.csv")
    inv = inv.drop_duplicates("invoice_id")
    inv["date"] = pd.to_datetime(inv["invoice_date"], format="%m/%d/%y %H:%M").dt.normalize()
    daily = inv.groupby("date")["total_price"].sum()
    res = forecast(daily, horizon=14, freq="D", calendar=False)
    assert np.isfinite(res.forecast["point"]).all()
    assert any("interpolation" in n for n in res.notes)  # Sundays/holidays have no invoices
