"""Tests of research.analyses.competitors.study and research.analyses.competitors.changepoints: hand-made series with known
change points, hand-computed shares and attribute advantages, edge cases, the sample
market's planted moves, the notebook, and real data (Olist, Tokopedia)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.analyses.competitors import changepoints as cp
from research.analyses.competitors import structure
from research.analyses.competitors.attributes import (
    advantages,
    attribute_sales,
    competitor_profile,
    conversion_by,
    items_share,
)
from research.analyses.competitors.binseg import binseg_l2, robust_sigma
from research.analyses.competitors.heading import heading, ols_trend
from research.analyses.competitors.page import study
from research.analyses.competitors.shops import ShopSet, iso_weeks, shop_set, unknown_channels
from research.analyses.competitors.structure import channel_structure, set_share
from research.checks import CheckFailed, shares_sum_to_one
from research.store.schema import CHANNELS
from research.store.scope import Scope
from tests._support import unavailable

NB = Path(__file__).resolve().parents[2] / "notebooks" / "competitor_traffic.ipynb"
#: tolerance on the planted affiliate start and drop, in days: none. Measured: 0 days on the
#: seeded market (seeds 1–8), on the old sample (seeds 1, 2, 3, 7) and on the five named
#: profiles (保温杯 7, 防晒衣 3, 坚果礼盒 5, 数据线 11, 扫地机器人 13, uplift 0.4–75× the
#: channel's level); the steps are abrupt, so binary segmentation dates them exactly.
MOVE_DAYS = 0
#: tolerance on the planted organic → paid mix shift, in days. Measured: 0 on the seeded
#: market (seeds 1–8), −1 to +1 on the samples above (the generator ramps the shift over 7
#: days and plants its middle); 2 leaves one day of room, not a week.
MIX_DAYS = 2


def _move_kinds(aff: dict) -> tuple[str, str]:
    """The kinds the planted affiliate campaign must be reported as: "start"/"drop" when the
    channel's level before is at most a tenth of the level during (uplift ≥ 9× the level,
    the analysis's stated rule), else "step up"/"step down"."""
    share = aff.get("uplift_share")
    return ("start", "drop") if share is None or share >= 9 else ("step up", "step down")


# --------------------------------------------------------------------------- seeded market
def _market(seed: int = 1, shops: int = 6, noise: float = 0.25):
    """Seeded canonical traffic with season, weekly pattern, promotions, an affiliate
    campaign (店铺1, 2026-03-10 .. 2026-05-01) and an organic → paid shift (店铺2, 2025-08-20)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-09-02", "2026-11-22", freq="D")
    n = len(dates)
    season = 0.25 * np.sin(2 * np.pi * (dates.day_of_year.to_numpy() - 80) / 365.25)
    weekly = np.array([0.0, -0.02, -0.03, 0.0, 0.05, 0.1, 0.08])[dates.day_of_week]
    promo = np.zeros(n)
    promo_days = []
    for y in (2024, 2025, 2026):
        for a, b, m in ((f"{y}-11-01", f"{y}-11-11", 1.0), (f"{y}-06-01", f"{y}-06-18", 0.6)):
            sel = (dates >= a) & (dates <= b)
            promo[sel] = m
            promo_days += list(dates[sel])
    base = {"organic_search": 3000, "paid_search": 800, "display": 400, "affiliate": 150,
            "feed": 1500, "direct": 300, "cart_fav": 500, "content": 200, "other": 50}
    rows = []
    for s in range(shops):
        shop = f"店铺{s}"
        scale = rng.uniform(0.5, 2)
        for c in CHANNELS:
            lvl = np.full(n, base[c] * scale)
            if s == 1 and c == "affiliate":
                lvl[dates.get_loc(pd.Timestamp("2026-03-10")):
                    dates.get_loc(pd.Timestamp("2026-05-02"))] += 4100
            if s == 2 and c in ("organic_search", "paid_search"):
                lvl[dates.get_loc(pd.Timestamp("2025-08-20")):] *= \
                    0.55 if c == "organic_search" else 3.0
            mu = np.log(lvl) + season + weekly + promo * rng.uniform(0.5, 1.0)
            v = rng.poisson(np.exp(mu + rng.normal(0, noise, n)))
            rows.append(pd.DataFrame({"date": dates, "shop": shop, "channel": c, "visitors": v}))
    t = pd.concat(rows, ignore_index=True)
    t["item_id"] = ""
    t["buyers"] = (t["visitors"] * 0.03).round().astype(int)
    t["payment_amount"] = t["buyers"] * 80.0
    t["channel_raw"] = t["channel"]
    events = pd.DataFrame({"date": pd.DatetimeIndex(promo_days), "name": "promo",
                           "kind": "promotion"})
    return t, events


@pytest.fixture(scope="module")
def market():
    return _market()


# --------------------------------------------------------------------------- change points
def test_binseg_equals_ruptures():
    try:
        import ruptures as rpt  # the reference implementation (a dev dependency)
    except ImportError:
        unavailable("ruptures", "pip install -e '.[dev]'")
    rng = np.random.default_rng(3)
    for _ in range(5):
        n = int(rng.integers(60, 160))
        x = np.repeat(rng.normal(0, 2, 5), n // 5 + 1)[:n] + rng.normal(0, 1, n)
        pen = float(rng.uniform(5, 40))
        want = rpt.Binseg(model="l2", min_size=7, jump=1).fit(x).predict(pen=pen)[:-1]
        assert binseg_l2(x, pen, 7) == want


def test_robust_sigma_ignores_steps():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.2, 400) + np.r_[np.zeros(200), np.full(200, 3.0)]
    assert robust_sigma(x) == pytest.approx(0.2, rel=0.15)


def _one(values, dates, keep=None, **kw):
    keep = np.ones(len(dates), bool) if keep is None else keep
    prepared = cp.prepare_log_matrix(np.asarray(values, float)[:, None], dates, keep)[:, 0]
    return cp.detect_level_shifts(np.asarray(values, float), dates, prepared, **kw)


def test_step_up_dated_exactly():
    rng = np.random.default_rng(11)
    dates = pd.date_range("2026-01-01", periods=120)
    lvl = np.where(np.arange(120) >= 70, 400.0, 100.0)
    v = rng.poisson(lvl * np.exp(rng.normal(0, 0.1, 120)))
    ev = _one(v, dates)
    assert len(ev) == 1
    assert ev[0]["date"] == dates[70] == pd.Timestamp("2026-03-12")
    assert ev[0]["kind"] == "step up"
    assert ev[0]["uv_before"] == pytest.approx(100, rel=0.1)
    assert ev[0]["uv_after"] == pytest.approx(400, rel=0.1)


def test_breaks_are_refined_between_their_neighbours():
    """A 16-day campaign (×2.1) in a quiet series: binary segmentation alone dates its end
    a day off on this seeded series; re-optimising each break between its neighbours
    (refine_l2) dates both to the day. (On 20 noise seeds of this shape binary segmentation
    alone is exact 19 times: the refinement matters rarely, and this case is one.)"""
    rng = np.random.default_rng(575)
    a, b, c = rng.integers(10, 80, 3)
    levels = rng.normal(0, 1.5, 3)
    n = int(a + b + c)
    x = np.repeat(levels, [a, b, c]) + rng.normal(0, 0.1, n)
    dates = pd.date_range("2026-01-05", periods=n)
    ev = _one(np.round(np.expm1(x + 6)), dates)
    assert (a, b, c) == (76, 16, 64)
    assert [(e["date"], e["kind"]) for e in ev] == [(dates[76], "step up"),
                                                   (dates[92], "step down")]


def test_weekly_pattern_is_removed_before_detection():
    """A shop whose weekend traffic is 2.2× its weekdays' and which steps up ×1.6 on a
    Thursday: the step is dated to the day on every seed (the weekly swing, left in, hides
    it in the noise estimate and no seed dates it)."""
    dates = pd.date_range("2026-01-05", periods=140)
    weekly = 0.8 * np.array([0, 0, 0, 0, 0.3, 1, 1])[dates.day_of_week]
    for seed in range(5):
        rng = np.random.default_rng(seed)
        lvl = np.where(np.arange(140) >= 70, 1.6, 1.0) * 300
        v = rng.poisson(lvl * np.exp(weekly + rng.normal(0, 0.08, 140))).astype(float)
        assert [(e["date"], e["kind"]) for e in _one(v, dates)] == [(dates[70], "step up")]


def test_start_and_drop_from_zero_dated_exactly():
    rng = np.random.default_rng(12)
    dates = pd.date_range("2026-01-01", periods=200)
    lvl = np.zeros(200)
    lvl[50:120] = 3000
    v = rng.poisson(lvl * np.exp(rng.normal(0, 0.1, 200))).astype(float)
    ev = _one(v, dates)
    assert [(e["date"], e["kind"]) for e in ev] == [(dates[50], "start"), (dates[120], "drop")]
    assert ev[0]["uv_before"] == 0 and ev[0]["uv_after"] == pytest.approx(3000, rel=0.1)


def test_promotion_days_are_left_out():
    rng = np.random.default_rng(13)
    dates = pd.date_range("2026-09-01", periods=120)
    v = rng.poisson(500 * np.exp(rng.normal(0, 0.1, 120))).astype(float)
    promo = (dates >= "2026-11-01") & (dates <= "2026-11-11")
    v[promo] *= 4
    assert len(_one(v, dates)) >= 1  # the promotion looks like a start and a drop …
    assert _one(v, dates, keep=~promo) == []  # … and is not one once the calendar is used


def _promotion_market(seed: int, shops: str, plant: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three channels per shop over 23 months with four promotions (two 618s, two 双11s) to
    which shop A responds ×3 and the others ×1.2 — so the market's common factor does not
    absorb A's spikes — and, if ``plant``, A's affiliate channel +3,000 UV/day from
    2026-03-10 to 2026-05-01. The events table is the only place the promotion days are
    named (no research.calendar)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2025-01-06", "2026-11-22")
    promo = np.zeros(len(dates), bool)
    for a, b in (("2025-06-01", "2025-06-18"), ("2025-11-01", "2025-11-11"),
                 ("2026-06-01", "2026-06-18"), ("2026-11-01", "2026-11-11")):
        promo |= (dates >= a) & (dates <= b)
    rows = []
    for shop in shops:
        for channel, level in (("organic_search", 2000.0), ("affiliate", 100.0),
                               ("feed", 900.0)):
            lvl = np.full(len(dates), level)
            if plant and shop == "A" and channel == "affiliate":
                lvl[(dates >= "2026-03-10") & (dates < "2026-05-02")] += 3000
            mu = np.log(lvl) + np.where(promo, np.log(3.0 if shop == "A" else 1.2), 0.0)
            v = rng.poisson(np.exp(mu + rng.normal(0, 0.15, len(dates))))
            rows.append(pd.DataFrame({"date": dates, "shop": shop, "channel": channel,
                                      "visitors": v}))
    return (pd.concat(rows, ignore_index=True),
            pd.DataFrame({"date": dates[promo], "name": "promo", "kind": "promotion"}))


@pytest.mark.parametrize("shops", ["A", "ABCD"])  # 3 series (no common factor) and 12
def test_detect_moves_leaves_the_events_tables_promotion_days_out(shops):
    """detect_moves takes the promotion days from its events argument: a shop whose traffic
    triples on every promotion and otherwise never changes has no move; the planted
    affiliate start and drop are still found to the day; and without the events the same
    spikes are reported as moves (so this test fails if the filter is removed)."""
    for seed in range(3):
        quiet, events = _promotion_market(seed, shops, plant=False)
        assert cp.detect_moves(quiet, events).empty
        assert len(cp.detect_moves(quiet, None)) >= 4  # the spikes, were they not left out
        planted, events = _promotion_market(seed, shops, plant=True)
        got = cp.detect_moves(planted, events)
        assert got[["shop", "channel", "date", "kind"]].values.tolist() == [
            ["A", "affiliate", pd.Timestamp("2026-03-10"), "start"],
            ["A", "affiliate", pd.Timestamp("2026-05-02"), "drop"]]


def test_a_market_wide_drop_is_not_a_shop_move():
    """Every channel of four shops halves on 2025-10-06 (the platform, not the shops; no
    event names it) and one shop's feed doubles on 2026-01-12: only that doubling is a move
    (the common factor is removed; with common=False the market's drop is 12 "moves")."""
    rng = np.random.default_rng(0)
    dates = pd.date_range("2025-06-02", periods=300)
    market = np.where(dates >= "2025-10-06", np.log(0.5), 0.0)
    rows = []
    for shop in "ABCD":
        for channel, level in (("organic_search", 2000.0), ("affiliate", 300.0),
                               ("feed", 900.0)):
            lvl = np.full(300, level)
            if shop == "B" and channel == "feed":
                lvl[dates >= "2026-01-12"] *= 2.0
            v = rng.poisson(np.exp(np.log(lvl) + market + rng.normal(0, 0.1, 300)))
            rows.append(pd.DataFrame({"date": dates, "shop": shop, "channel": channel,
                                      "visitors": v}))
    traffic = pd.concat(rows, ignore_index=True)
    got = cp.detect_moves(traffic, None, mix=False)
    assert got[["shop", "channel", "date", "kind"]].values.tolist() == [
        ["B", "feed", pd.Timestamp("2026-01-12"), "step up"]]
    assert len(cp.detect_moves(traffic, None, mix=False, common=False)) >= 12


def test_quiet_series_has_no_events():
    rng = np.random.default_rng(14)
    dates = pd.date_range("2025-01-01", periods=730)
    weekly = np.array([0, 0, 0, 0.05, 0.1, 0.15, 0.1])[dates.day_of_week]
    for _ in range(5):
        v = rng.poisson(800 * np.exp(weekly + rng.normal(0, 0.2, 730)))
        assert _one(v, dates) == []


def test_sensitivity_finds_more_events_when_raised():
    rng = np.random.default_rng(5)
    dates = pd.date_range("2025-01-01", periods=365)
    counts = {0.5: 0, 4.0: 0}
    for _ in range(10):
        lvl = np.where(np.arange(365) >= 200, 140.0, 100.0)
        v = rng.poisson(lvl * np.exp(rng.normal(0, 0.35, 365))).astype(float)
        for s in counts:
            counts[s] += len(_one(v, dates, sensitivity=s))
    assert counts[4.0] > counts[0.5]


def test_detect_moves_finds_planted_moves(market):
    traffic, events = market
    ev = cp.detect_moves(traffic, events)
    aff = ev[(ev["shop"] == "店铺1") & (ev["channel"] == "affiliate")]
    start = aff[aff["kind"] == "start"]["date"]
    drop = aff[aff["kind"] == "drop"]["date"]
    assert (abs(start - pd.Timestamp("2026-03-10")).dt.days <= MOVE_DAYS).any()
    assert (abs(drop - pd.Timestamp("2026-05-02")).dt.days <= MOVE_DAYS).any()
    assert aff.iloc[0]["uv_after"] - aff.iloc[0]["uv_before"] > 3000
    mix = ev[(ev["kind"] == "mix shift") & (ev["shop"] == "店铺2")]
    assert len(mix) == 1
    assert mix.iloc[0]["from_channel"] == "organic_search"
    assert mix.iloc[0]["to_channel"] == "paid_search"
    assert abs((mix.iloc[0]["date"] - pd.Timestamp("2025-08-20")).days) <= MIX_DAYS
    # quiet pairs: at most one false event per shop-channel-year (2.2 years here)
    planted = {("店铺1", "affiliate"), ("店铺2", "organic_search"), ("店铺2", "paid_search")}
    level = ev[ev["kind"] != "mix shift"]
    false = level[[(s, c) not in planted for s, c in zip(level["shop"], level["channel"],
                                                         strict=True)]]
    per_pair = false.groupby(["shop", "channel"]).size()
    assert (per_pair <= 2).all(), false
    # no mix shift invented when the affiliate campaign ends (organic did not grow)
    assert not ((ev["kind"] == "mix shift") & (ev["shop"] == "店铺1")).any()
    assert set(ev.columns) >= {"shop", "channel", "date", "kind", "uv_before", "uv_after"}


def test_detect_moves_respects_window(market):
    traffic, events = market
    ev = cp.detect_moves(traffic, events, end=pd.Timestamp("2026-04-30"))
    assert ev["date"].max() <= pd.Timestamp("2026-04-30")
    aff = ev[(ev["shop"] == "店铺1") & (ev["channel"] == "affiliate")]
    assert "drop" not in set(aff["kind"])  # the drop is after the study week


def test_detect_moves_empty():
    empty = pd.DataFrame(columns=["date", "shop", "channel", "visitors"])
    out = cp.detect_moves(empty)
    assert out.empty and list(out.columns) == cp.EVENT_COLUMNS


# --------------------------------------------------------------------------- structure
def _tiny():
    d = pd.to_datetime
    return pd.DataFrame({
        "date": d(["2026-11-16", "2026-11-16", "2026-11-17", "2026-11-16", "2026-11-17",
                   "2026-11-23"]),
        "shop": ["A", "A", "A", "B", "B", "A"],
        "item_id": "",
        "channel": ["organic_search", "affiliate", "organic_search", "organic_search",
                    "other", "organic_search"],
        "channel_raw": ["手淘搜索", "淘宝客", "手淘搜索", "手淘搜索", "抖音引流", "手淘搜索"],
        "visitors": [60, 40, 100, 50, 50, 70],
        "buyers": [6, 1, 10, np.nan, np.nan, 7],
        "payment_amount": [600.0, 100.0, 1000.0, np.nan, np.nan, 700.0],
        "trade_index": [np.nan, np.nan, np.nan, 900.0, 300.0, np.nan],
    })


def test_channel_structure_hand_computed():
    out = channel_structure(_tiny(), ShopSet("A", ["B"], "named"))
    a = out[(out["shop"] == "A") & (out["week"] == "2026-W47")].set_index("channel")
    # A, W47: two days; organic 60+100 = 160, affiliate 40 (+0 on the 17th)
    assert a.loc["organic_search", "uv_sum_daily"] == 160
    assert a.loc["organic_search", "uv_avg_daily"] == 80
    assert a.loc["affiliate", "uv_avg_daily"] == 20
    assert a.loc["organic_search", "share"] == pytest.approx(0.8)
    assert a.loc["affiliate", "share"] == pytest.approx(0.2)
    assert a.loc["organic_search", "conversion"] == pytest.approx(16 / 160)
    assert a.loc["affiliate", "channel_group"] == "paid"
    assert (a["role"] == "ours").all()
    # the next week has only organic rows, but affiliate is still shown (at 0)
    w48 = out[(out["shop"] == "A") & (out["week"] == "2026-W48")].set_index("channel")
    assert w48.loc["affiliate", "uv_sum_daily"] == 0 and w48.loc["organic_search", "share"] == 1
    b = out[out["shop"] == "B"].set_index("channel")
    assert b.loc["other", "share"] == pytest.approx(0.5)
    assert b.loc["organic_search", "trade_index_avg_daily"] == 900
    assert np.isnan(b.loc["organic_search", "conversion"])
    assert out.groupby(["shop", "week"])["share"].sum().round(9).eq(1).all()


def test_channel_structure_calls_the_named_check(monkeypatch):
    calls = []
    monkeypatch.setattr(structure, "shares_sum_to_one", lambda f, c, by: calls.append((c, by)))
    channel_structure(_tiny())
    assert calls == [("share", ["shop", "week"])]


def test_shares_check_catches_a_broken_share():
    frame = pd.DataFrame({"shop": ["A", "A"], "week": ["2026-W47"] * 2, "share": [0.5, 0.4]})
    with pytest.raises(CheckFailed):
        shares_sum_to_one(frame, "share", by=["shop", "week"])


def test_set_share_hand_computed():
    out = set_share(_tiny()).query("week == '2026-W47'").set_index("shop")
    # Σ daily UV: A 200, B 100 → 2/3, 1/3; payment money only for A; B has an index only
    assert out.loc["A", "uv_share"] == pytest.approx(2 / 3)
    assert out.loc["B", "uv_share"] == pytest.approx(1 / 3)
    # A is the only shop with money: no payment share is made up from one shop
    assert np.isnan(out.loc["A", "payment_share"]) and out.loc["A", "payment_amount"] == 1700
    assert "only shop with money" in out.loc["A", "payment_basis"]
    assert np.isnan(out.loc["B", "payment_share"])
    assert out.loc["B", "payment_basis"].startswith("trade_index only")
    assert out.loc["A", "uv_avg_daily"] == 100
    # with a second shop reporting money, shares are of the money only
    t = _tiny().assign(payment_amount=lambda f: f["payment_amount"].fillna(100.0))
    out = set_share(t).query("week == '2026-W47'").set_index("shop")
    assert out.loc["A", "payment_share"] == pytest.approx(1700 / 1900)
    assert out.loc["B", "payment_share"] == pytest.approx(200 / 1900)


def test_items_share_and_conversion_by():
    items = _items()
    out = items_share(items, SHOPS)
    out = out[out["snapshot_date"] == pd.Timestamp("2026-11-22")].set_index("shop")
    # set: 我们 + A..D (E has no listings, X is not in the set): units 80, 30, 30, 20, 10
    assert out["units_30d"].to_dict() == {"A": 30, "B": 30, "C": 20, "D": 10, "我们": 80}
    assert out.loc["我们", "units_share"] == pytest.approx(80 / 170)
    assert out.loc["我们", "revenue_share"] == pytest.approx(80 / 170)  # one price
    assert out.loc["我们", "role"] == "ours" and (out["shops_in_set"] == 5).all()
    f = pd.DataFrame({"g": ["a", "a", "b", "b"], "buyers": [1, 3, np.nan, 2],
                      "visitors": [10, 30, 50, 0]})
    conv = conversion_by(f, ["g"]).set_index("g")
    assert conv.loc["a", "conversion"] == pytest.approx(0.1)
    assert np.isnan(conv.loc["b", "conversion"])  # 2 buyers on 0 visitors: undefined


def test_unknown_channels_listed():
    out = unknown_channels(_tiny())
    assert out[["shop", "channel_raw", "uv_sum_daily"]].values.tolist() == [["B", "抖音引流", 50]]
    known = _tiny().assign(channel_raw=lambda f: f["channel_raw"].replace("抖音引流", "其他"))
    assert unknown_channels(known).empty


def test_item_rows_summed_when_no_shop_rows():
    t = _tiny().iloc[:1].assign(item_id="1")
    t = pd.concat([t, t.assign(item_id="2", visitors=15)])
    out = channel_structure(t)
    assert out["uv_sum_daily"].tolist() == [75] and out["source"].tolist() == ["item rows summed"]


def test_competitor_without_traffic_and_only_in_items():
    items = pd.DataFrame({"snapshot_date": pd.Timestamp("2026-11-22"), "item_id": ["1", "2"],
                          "shop": ["A", "C"], "price": [10.0, 20.0], "sales_30d": [5, 6]})
    shops = shop_set("A", ["B", "C", "D"], "named", _tiny(), items)
    assert shops.no_traffic == ["C", "D"] and shops.not_in_items == ["B", "D"]
    out = channel_structure(_tiny(), shops)
    assert set(out["shop"]) == {"A", "B"}
    assert channel_structure(_tiny().iloc[:0], shops).empty
    assert set_share(_tiny().iloc[:0], shops).empty
    prof = competitor_profile(items, shops).set_index("shop")
    assert prof.loc["D", "listings"] == 0 and prof.loc["C", "listings"] == 1


def test_shop_set_is_the_scopes_set():
    """The page chooses nothing: ours, the competitors and the rule are passed through (our
    shop is never its own competitor), whatever the traffic or items would rank first."""
    t = _tiny()
    items = pd.DataFrame({"snapshot_date": pd.Timestamp("2026-11-22"), "item_id": ["1", "2"],
                          "shop": ["A", "Y"], "price": [10.0, 99.0], "sales_30d": [5, 900]})
    rule = "类目内最近一期商品快照30天销售额前1名（我店除外） · top 1 shops by 30-day revenue"
    s = shop_set("A", ("X", "A"), rule, t, items)
    assert (s.ours, s.competitors, s.rule) == ("A", ["X"], rule)
    assert s.shops == ["A", "X"] and s.no_traffic == ["X"] and s.not_in_items == ["X"]
    none = shop_set("", (), "no competitors", t, items)
    assert none.shops == [] and none.competitors == []


def test_no_competitor_listings_means_no_advantages():
    shops = ShopSet("我们", ["nobody"], "named")
    attrs = attribute_sales(_items(), shops, ["material"])
    assert attrs["competitor_share"].isna().all()
    assert advantages(attrs).empty


# --------------------------------------------------------------------------- heading
def test_heading_linear_trend():
    weeks = pd.date_range("2026-09-07", periods=10, freq="7D")
    rng = np.random.default_rng(2)
    rows = []
    for i, w in enumerate(weeks):
        rows += [{"shop": "A", "role": "competitor", "week_start": w, "channel": "organic_search",
                  "channel_group": "free", "uv_avg_daily": 1000 + 50 * i + rng.normal(0, 5)},
                 {"shop": "A", "role": "competitor", "week_start": w, "channel": "paid_search",
                  "channel_group": "paid", "uv_avg_daily": 300.0}]
    out = heading(pd.DataFrame(rows), weeks=8, horizon=4)
    total = out[(out["series"] == "total") & (out["kind"] == "forecast")]
    assert len(total) == 4
    assert total["slope_per_week"].iloc[0] == pytest.approx(50, abs=3)
    assert total["direction"].iloc[0] == "rising"
    # next week ≈ 1300 + 50 × 10 = 1800, inside its interval
    assert total["uv_avg_daily"].iloc[0] == pytest.approx(1800, abs=15)
    assert (total["lo"] < total["uv_avg_daily"]).all() and (total["hi"] > total["uv_avg_daily"]).all()
    paid = out[(out["series"] == "paid") & (out["kind"] == "forecast")]
    assert paid["direction"].iloc[0] == "flat"
    assert len(out[(out["series"] == "total") & (out["kind"] == "actual")]) == 8


def test_heading_skips_promotion_weeks():
    weeks = pd.date_range("2026-09-07", periods=10, freq="7D")
    level = 1000 + 50 * np.arange(10.0)
    level[7] = 5000  # a promotion week
    frame = pd.DataFrame({"shop": "A", "role": "competitor", "week_start": weeks,
                          "channel": "organic_search", "channel_group": "free",
                          "uv_avg_daily": level})
    promo = iso_weeks(pd.Series([weeks[7]]))[1].tolist()
    out = heading(frame, weeks=8, horizon=2, skip_weeks=promo)
    total = out[out["series"] == "total"]
    assert (total["kind"] == "actual (not fitted)").sum() == 1
    fc = total[total["kind"] == "forecast"]
    # the line through the other weeks is exact: 1000 + 50·t, next weeks t = 10, 11
    assert fc["uv_avg_daily"].tolist() == pytest.approx([1500, 1550])
    assert fc["slope_per_week"].iloc[0] == pytest.approx(50)
    assert "outside promotion weeks" in fc["method"].iloc[0]
    spoiled = heading(frame, weeks=8, horizon=2)
    assert spoiled[spoiled["kind"] == "forecast"]["uv_avg_daily"].iloc[0] != pytest.approx(1500)


def test_ols_trend_matches_statsmodels_numbers():
    # reference numbers from statsmodels OLS get_prediction(...).summary_frame(alpha=0.2)
    mean, lo, hi, slope, s_lo, s_hi = ols_trend(
        np.array([3.0, 5, 4, 7, 8, 7, 10, 11]), 4, 0.8)
    assert mean == pytest.approx([11.75, 12.833, 13.917, 15.0], abs=1e-3)
    assert lo == pytest.approx([9.989, 10.947, 11.889, 12.82], abs=1e-3)
    assert hi == pytest.approx([13.511, 14.72, 15.944, 17.18], abs=1e-3)
    assert (slope, s_lo, s_hi) == pytest.approx((1.0833, 0.869, 1.2976), abs=1e-4)


def test_ols_trend_equals_closed_form_ols_and_student_t():
    """statsmodels' OLS (prediction interval of a new week, slope interval) against the
    closed-form least-squares line and Student t quantiles, on a seeded series with a gap."""
    from scipy.stats import t as student

    rng = np.random.default_rng(20261122)
    x = np.array([-9.0, -8, -7, -6, -5, -3, -2, -1, 0])  # week −4 left out (a promotion)
    y = 500 + 12 * x + rng.normal(0, 30, len(x))
    x_new = np.arange(1.0, 5.0)
    level = 0.8
    mean, lo, hi, slope, s_lo, s_hi = ols_trend(y, 4, level, x, x_new)
    n, xm = len(x), x.mean()
    sxx = ((x - xm) ** 2).sum()
    b = ((x - xm) * (y - y.mean())).sum() / sxx
    a = y.mean() - b * xm
    s = np.sqrt(((y - a - b * x) ** 2).sum() / (n - 2))
    q = student.ppf(0.5 + level / 2, n - 2)
    want = a + b * x_new
    half = q * s * np.sqrt(1 + 1 / n + (x_new - xm) ** 2 / sxx)
    assert np.max(np.abs(mean - want)) < 1e-9
    assert np.max(np.abs(lo - (want - half))) < 1e-9
    assert np.max(np.abs(hi - (want + half))) < 1e-9
    assert abs(slope - b) < 1e-9
    assert abs(s_lo - (b - q * s / np.sqrt(sxx))) < 1e-9
    assert abs(s_hi - (b + q * s / np.sqrt(sxx))) < 1e-9


def test_heading_too_short():
    one = pd.DataFrame({"shop": ["A"], "role": ["competitor"],
                        "week_start": [pd.Timestamp("2026-11-16")], "channel": ["direct"],
                        "channel_group": ["own"], "uv_avg_daily": [5.0]})
    out = heading(one)
    assert (out["kind"] == "actual").all()


# --------------------------------------------------------------------------- attributes
def _items():
    """20 listings. Units 200. Hand-computed below."""
    rows = []
    # 钛 (titanium): 4 listings (20 %), 80 units (40 %): index 2; we have 2, B has 2
    rows += [("我们", "钛", "500ml", 40), ("我们", "钛", "500ml", 20), ("B", "钛", "500ml", 10),
             ("B", "钛", "350ml", 10)]
    # 玻璃 (glass): 2 listings (10 %), 30 units (15 %): index 1.5; we have 1, no competitor
    rows += [("我们", "玻璃", "350ml", 20), ("X", "玻璃", "350ml", 10)]
    # 不锈钢: 14 listings (70 %), 90 units (45 %): index < 1; everybody
    rows += [(s, "不锈钢", "1000ml", u) for s, u in
             [("A", 20), ("A", 10), ("B", 10), ("C", 10), ("C", 10), ("D", 10), ("X", 5),
              ("X", 5), ("X", 5), ("X", 5), ("A", 0), ("B", 0), ("C", 0), ("我们", 0)]]
    f = pd.DataFrame(rows, columns=["shop", "material", "size", "sales_30d"])
    f["item_id"] = [str(i) for i in range(len(f))]
    f["price"] = 50.0
    f["snapshot_date"] = pd.Timestamp("2026-11-22")
    old = f.assign(snapshot_date=pd.Timestamp("2026-11-15"), sales_30d=0)
    return pd.concat([old, f], ignore_index=True)


SHOPS = ShopSet("我们", ["A", "B", "C", "D", "E"], "named")


def test_attribute_sales_hand_computed():
    out = attribute_sales(_items(), SHOPS, ["material", "size"])
    m = out[out["attribute"] == "material"].set_index("value")
    assert m.loc["钛", "listings"] == 4 and m.loc["钛", "listing_share"] == pytest.approx(0.2)
    assert m.loc["钛", "units"] == 80 and m.loc["钛", "units_share"] == pytest.approx(0.4)
    assert m.loc["钛", "demand_index"] == pytest.approx(2.0)
    assert m.loc["钛", "our_listings"] == 2 and m.loc["钛", "our_units"] == 60
    # E has no listings: competitors counted are the 4 present in items
    assert m.loc["钛", "competitors"] == 4 and m.loc["钛", "competitors_with"] == 1
    assert m.loc["钛", "competitor_share"] == pytest.approx(0.25)
    assert m.loc["玻璃", "demand_index"] == pytest.approx(1.5)
    assert m.loc["玻璃", "competitors_with"] == 0
    assert m.loc["不锈钢", "competitor_share"] == 1.0
    assert m.loc["不锈钢", "demand_index"] == pytest.approx(0.45 / 0.7)


def test_advantages_hand_computed_and_not_invented():
    attrs = attribute_sales(_items(), SHOPS, ["material", "size"])
    adv = advantages(attrs)
    # 钛: (2 − 1) × (1 − 0.25) = 0.75; 玻璃: (1.5 − 1) × 1 = 0.5
    # size 500ml: 3 listings (15 %), 70 units (35 %): (7/3 − 1) × (1 − 1/4) = 1.0
    # size 350ml: 3 listings, 40 units (20 %): index 4/3, B lists it: (1/3) × 0.75 = 0.25
    got = adv[["attribute", "value", "score"]].values.tolist()
    assert [g[:2] for g in got] == [["size", "500ml"], ["material", "钛"],
                                    ["material", "玻璃"], ["size", "350ml"]]
    assert [g[2] for g in got] == pytest.approx([1.0, 0.75, 0.5, 0.25])
    assert adv["rank"].tolist() == [1, 2, 3, 4]
    assert "40.0% of category units on 20.0% of listings" in adv.iloc[1]["evidence"]
    # stricter "few competitors": none of the competitors may list it → only 玻璃
    strict = advantages(attrs, max_competitor_share=0.0)
    assert strict["value"].tolist() == ["玻璃"]
    # we do not list 钛 any more → it is not an advantage
    items = _items()
    items.loc[(items["shop"] == "我们") & (items["material"] == "钛"), "shop"] = "Z"
    adv2 = advantages(attribute_sales(items, SHOPS, ["material"]))
    assert adv2["value"].tolist() == ["玻璃"]
    # a value only we list but which sells below its listing share (demand index 0.8) is
    # no advantage; at index 1.2 it is, score (1.2 − 1) × (1 − 0) = 0.2
    row = {"attribute": "color", "value": "红", "listings": 20, "listing_share": 0.2,
           "units": 16, "units_share": 0.16, "demand_index": 0.8, "our_listings": 5,
           "our_units": 4, "competitors_with": 0, "competitors": 4, "competitor_share": 0.0}
    assert advantages(pd.DataFrame([row])).empty
    up = advantages(pd.DataFrame([{**row, "units_share": 0.24, "demand_index": 1.2}]))
    assert up["value"].tolist() == ["红"] and up["score"].tolist() == pytest.approx([0.2])


def test_attributes_missing_columns_and_multi_values():
    items = _items().drop(columns=["size"])
    items["function"] = "保温,保冷"
    out = attribute_sales(items, SHOPS)
    assert "size" not in set(out["attribute"])
    assert set(out.loc[out["attribute"] == "function", "value"]) == {"保温", "保冷"}
    assert set(out.loc[out["attribute"] == "price_band", "value"]) == {"≤50"}
    empty = attribute_sales(items.iloc[:0], SHOPS)
    assert empty.empty and advantages(empty).empty


# --------------------------------------------------------------------------- sample market
def _have_sample() -> bool:
    return importlib.util.find_spec("research.sample.market") is not None


sample_only = pytest.mark.skipif(not _have_sample(), reason="research.sample.market not built yet")


@sample_only
def test_sample_planted_moves(sample_warehouse, truth):
    from research.store.warehouse import read

    traffic = read("traffic", sample_warehouse)
    events = read("events", sample_warehouse)
    ev = cp.detect_moves(traffic, events)
    aff = truth["traffic"]["affiliate"]
    mine = ev[(ev["shop"] == aff["shop"]) & (ev["channel"] == aff["channel"])]
    for when, kind in zip(("start", "drop"), _move_kinds(aff), strict=True):
        dates = mine.loc[mine["kind"] == kind, "date"]
        assert (abs(dates - pd.Timestamp(aff[when])).dt.days <= MOVE_DAYS).any(), (kind, mine)
    shift = truth["traffic"]["paid_shift"]
    mix = ev[(ev["shop"] == shift["shop"]) & (ev["kind"] == "mix shift")
             & (ev["from_channel"] == shift["from"]) & (ev["to_channel"] == shift["to"])]
    assert (abs(mix["date"] - pd.Timestamp(shift["date"])).dt.days <= MIX_DAYS).any(), ev
    # no invented mix shift (the affiliate drop is not a move "to" another channel)
    assert (ev["kind"] == "mix shift").sum() == len(mix), ev[ev["kind"] == "mix shift"]
    years = (traffic["date"].max() - traffic["date"].min()).days / 365.25
    for shop, channel in truth["traffic"]["quiet"]:
        n = ((ev["shop"] == shop) & (ev["channel"] == channel)).sum()
        assert n <= max(1, years), (shop, channel, ev[(ev["shop"] == shop)])


@sample_only
def test_sample_advantages(sample_warehouse, truth):
    from research.store.warehouse import read

    items = read("items", sample_warehouse, category=truth["category"])
    traffic = read("traffic", sample_warehouse)
    shops = shop_set(truth["our_shop"], truth["competitors"], "named", traffic, items)
    adv = advantages(attribute_sales(items, shops))
    top = set(zip(adv["attribute"].head(5), adv["value"].head(5), strict=True))
    for a in truth["advantages"]:
        assert (a["attribute"], a["value"]) in top, adv.head(8)
    ch = channel_structure(traffic, shops)
    assert ch.groupby(["shop", "week"])["share"].sum().round(9).eq(1).all()
    unknown = truth["traffic"].get("unknown_channel")
    if unknown:
        listed = unknown_channels(traffic)
        assert [unknown["shop"], unknown["channel_raw"]] in \
            listed[["shop", "channel_raw"]].values.tolist()


@sample_only
def test_page_set_is_the_named_scope_set(sample_warehouse, truth):
    """The page studies exactly the scope's competitors (not its own top-N): two named ones
    — one the sample's smallest, one with no data at all — and says what it lacks."""
    from research.weeks import week_bounds

    week = truth["sales"]["plan_week"]
    monday, sunday = week_bounds(week)
    named = (truth["competitors"][-1], "不存在的店")
    rule = "指定竞品（2家） · named competitors (2)"
    scope = Scope(category=truth["category"], week=week, week_start=f"{monday:%Y-%m-%d}",
                  week_end=f"{sunday:%Y-%m-%d}", week_rule="given", shop=truth["our_shop"],
                  shop_rule="given", competitors=named, competitor_rule=rule, currency="CNY",
                  data_start=truth["start"], data_end=f"{sunday:%Y-%m-%d}")
    page = study(scope, sample_warehouse)
    assert page.shops.ours == truth["our_shop"]
    assert page.shops.competitors == list(named) and page.shops.rule == rule
    assert page.scope == scope and page.week == week and page.end == sunday
    shown = {truth["our_shop"], *named}
    for frame in (page.channels, page.set_share, page.heading, page.profile, page.items_share):
        assert set(frame["shop"]) <= shown, frame["shop"].unique()
    assert set(page.channels["shop"]) == {truth["our_shop"], named[0]}
    assert page.profile["shop"].tolist() == [truth["our_shop"], *named]
    assert page.shops.no_traffic == ["不存在的店"] and page.shops.not_in_items == ["不存在的店"]
    assert any("不存在的店" in n and "traffic" in n for n in page.notes)
    assert page.channels["week_start"].max() <= sunday
    assert page.items_share["snapshot_date"].max() <= sunday
    assert set(page.results()) >= {"competitor_channels", "competitor_events", "advantages"}
    with pytest.raises(ValueError, match="sensitivity"):
        study(scope, sample_warehouse, sensitivity=-1)
    with pytest.raises(ValueError, match="start"):
        study(scope, sample_warehouse, start="2026-13-45")


@pytest.mark.slow
@sample_only
def test_notebook_runs_on_sample(sample_warehouse, truth, tmp_path):
    import papermill as pm  # a runtime dependency: missing is a failure, never a skip

    # the planted competitors named: the study's rule (top 5 by 30-day revenue) does not
    # take the affiliate shop, which the old page's own top-5-by-visitors rule did
    pm.execute_notebook(str(NB), str(tmp_path / "out.ipynb"),
                        parameters={"warehouse": str(sample_warehouse),
                                    "output_dir": str(tmp_path), "start": "2024-09-02",
                                    "competitors": truth["competitors"]},
                        kernel_name="python3", cwd=str(tmp_path))
    res = tmp_path / "results"
    channels = pd.read_csv(res / "competitor_channels.csv", encoding="utf-8-sig")
    events = pd.read_csv(res / "competitor_events.csv", encoding="utf-8-sig")
    adv = pd.read_csv(res / "advantages.csv", encoding="utf-8-sig")
    assert {"shop", "channel", "week", "uv_avg_daily", "share"} <= set(channels.columns)
    assert truth["our_shop"] in set(channels["shop"])
    assert set(channels["shop"]) == {truth["our_shop"], *truth["competitors"]}
    aff = truth["traffic"]["affiliate"]
    starts = pd.to_datetime(events.loc[(events["shop"] == aff["shop"])
                                       & (events["kind"] == _move_kinds(aff)[0]), "date"])
    assert (abs(starts - pd.Timestamp(aff["start"])).dt.days <= MOVE_DAYS).any()
    assert {"rank", "attribute", "value", "evidence"} <= set(adv.columns)
    assert (tmp_path / "summaries" / "competitor_traffic.txt").exists()


# --------------------------------------------------------------------------- real data
OLIST = "olist/sample_8135_orders"


def _olist_lines(real: Path) -> pd.DataFrame:
    """Delivered order lines from the raw Olist CSVs, plain pandas (independent of adapters)."""
    folder = real / OLIST
    orders = pd.read_csv(folder / "olist_orders_dataset.csv",
                         parse_dates=["order_purchase_timestamp"])
    lines = pd.read_csv(folder / "olist_order_items_dataset.csv")
    products = pd.read_csv(folder / "olist_products_dataset.csv")
    orders = orders[orders["order_status"] == "delivered"]
    out = lines.merge(orders[["order_id", "order_purchase_timestamp"]], on="order_id")
    out = out.merge(products[["product_id", "product_category_name"]], on="product_id",
                    how="left")
    out["day"] = out["order_purchase_timestamp"].dt.normalize()
    out["product_category_name"] = out["product_category_name"].fillna("sem_categoria")
    return out


def _olist_items(lines: pd.DataFrame) -> pd.DataFrame:
    """Canonical items: month-end snapshots, a listing = product × seller, 30-day window."""
    frames = []
    for snap in pd.date_range(lines["day"].min(), lines["day"].max() + pd.offsets.MonthEnd(0),
                              freq="ME"):
        w = lines[(lines["day"] > snap - pd.Timedelta(days=30)) & (lines["day"] <= snap)]
        if w.empty:
            continue
        g = w.groupby(["product_id", "seller_id", "product_category_name"], as_index=False).agg(
            sales_30d=("price", "size"), revenue_30d=("price", "sum"), price=("price", "mean"))
        frames.append(g.assign(snapshot_date=snap))
    items = pd.concat(frames, ignore_index=True)
    items["item_id"] = items["product_id"] + "_" + items["seller_id"].str[:8]
    return items.rename(columns={"seller_id": "shop", "product_category_name": "category"})


@pytest.mark.realdata
def test_olist_sellers_as_competitive_set(real_data):
    lines = _olist_lines(real_data)
    try:
        from research.sources import olist

        items = olist.read(real_data / "olist")["items"]
    except (ImportError, AttributeError):
        items = _olist_items(lines)
    top = lines.groupby("seller_id")["order_id"].nunique().sort_values(ascending=False)
    ours, rivals = top.index[0], list(top.index[1:6])
    shops = ShopSet(ours, rivals, "named")
    share = items_share(items, shops)
    # independent: units and revenue of each seller in the 30 days to 2018-05-31
    snap = pd.Timestamp("2018-05-31")
    w = lines[(lines["day"] > snap - pd.Timedelta(days=30)) & (lines["day"] <= snap)
              & lines["seller_id"].isin(shops.shops)]
    want = w.groupby("seller_id").agg(units=("price", "size"), revenue=("price", "sum"))
    got = share[share["snapshot_date"] == snap].set_index("shop")
    assert set(got.index) == set(want.index)
    for seller, row in want.iterrows():
        assert got.loc[seller, "units_30d"] == row["units"]
        assert got.loc[seller, "revenue_30d"] == pytest.approx(row["revenue"])
        assert got.loc[seller, "revenue_share"] == pytest.approx(
            row["revenue"] / want["revenue"].sum())
    assert share.groupby("snapshot_date")["revenue_share"].sum().round(9).eq(1).all()
    assert share["snapshot_date"].nunique() >= 12  # over time, month by month
    # category and price mix on the latest snapshot: the set's units per category
    latest = items[items["snapshot_date"] == items["snapshot_date"].max()]
    attrs = attribute_sales(latest, shops, ["category", "price_band"])
    cat = attrs[attrs["attribute"] == "category"].set_index("value")
    mine = latest[latest["shop"].isin(rivals)].groupby("category")["sales_30d"].sum()
    for c, units in mine.items():
        assert cat.loc[c, "competitor_units"] == units
    assert cat["units"].sum() == latest["sales_30d"].sum()
    prof = competitor_profile(items, shops).set_index("shop")
    for seller in shops.shops:
        s = latest[latest["shop"] == seller]
        assert prof.loc[seller, "listings"] == len(s)
        if len(s):
            assert prof.loc[seller, "median_price"] == pytest.approx(s["price"].median())


@pytest.mark.realdata
def test_tokopedia_view_to_sale_conversion(real_data):
    raw = pd.read_csv(real_data / "tokopedia_lovebonito" / "getLayoutQueryData.csv")
    raw = raw[raw["product_price"] > 0]
    conv = conversion_by(raw, ["category_name"], buyers="countSold", visitors="countView")
    want = raw.groupby("category_name").apply(
        lambda g: g["countSold"].sum() / g["countView"].sum(), include_groups=False)
    got = conv.set_index("category_name")["conversion"]
    assert got.to_dict() == pytest.approx(want.to_dict(), nan_ok=True)
    overall = raw["countSold"].sum() / raw["countView"].sum()
    assert 0 < overall < 0.2  # a view-to-sale rate: well under one sale per view
    # Σ sold / Σ views is not the mean of per-listing ratios (the author's soldPerViewRatio)
    assert abs(overall - raw["soldPerViewRatio"].mean()) > 1e-4
