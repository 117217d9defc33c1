"""Keyword trends: hand-computed metrics on tiny frames, planted signals in seeded data, the
sample market's truth, the real Google Trends exports, and the report notebook."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from research.analyses.keywords import stats as ks
from research.analyses.keywords import study as keyword_page
from research.analyses.keywords.analysis import (
    METRIC_COLUMNS,
    Screens,
    analyse,
    core_keywords,
    falling_terms,
    new_terms,
    rising_terms,
    score_terms,
)
from research.analyses.keywords.panel import load_panel
from research.analyses.keywords.segment import (
    SegmentDictionary,
    jaccard,
    load_dictionary,
    modifier_changes,
    modifier_shares,
    segment_terms,
)
from research.pages.results import PageResult
from research.store.scope import Scope, resolve_scope
from research.weeks import last_complete_week

CAT = "保温杯"
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "keyword_trends.ipynb"


def _daily(rows: dict[str, list[float]], start: str = "2026-11-02",
           extra: dict[str, dict] | None = None) -> pd.DataFrame:
    """Canonical keyword rows: term → daily search_popularity from ``start``."""
    frames = []
    for term, values in rows.items():
        days = pd.date_range(start, periods=len(values))
        f = pd.DataFrame({"date": days, "category": CAT, "keyword": term,
                          "search_popularity": np.asarray(values, dtype=float)})
        for col, val in (extra or {}).get(term, {}).items():
            f[col] = val
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------ hand-computed statistics

def test_change_over_four_weeks_by_hand():
    level = np.array([[10, 1, 1, 1, 25.0], [0, 1, 1, 1, 5], [np.nan, 1, 1, 1, 5]])
    out = ks.change_over(level, 4)
    assert out[0] == pytest.approx(1.5)          # 25 / 10 - 1
    assert np.isnan(out[1]) and np.isnan(out[2])  # zero or missing base


def test_yoy_change_compares_mean_of_four_weeks_with_same_weeks_last_year():
    level = np.full((1, 56), 7.0)
    level[0, :4] = [10, 20, 30, 40]         # weeks t-55..t-52: mean 25
    level[0, -4:] = [30, 30, 40, 50]         # last 4 weeks: mean 37.5
    assert ks.yoy_change(level, 4)[0] == pytest.approx(37.5 / 25 - 1)
    assert np.isnan(ks.yoy_change(level[:, :55], 4)[0])  # under 56 weeks: no comparison


def test_trend_matches_an_independent_regression_with_gaps():
    rng = np.random.default_rng(3)
    y = np.expm1(2 + 0.05 * np.arange(13) + rng.normal(0, 0.1, 13))
    y[[2, 7]] = np.nan
    res = ks.trend(y[None, :], 13)
    x = np.arange(13)[~np.isnan(y)]
    ref = stats.linregress(x, np.log1p(y[~np.isnan(y)]))
    assert res["slope"][0] == pytest.approx(ref.slope)
    assert res["se"][0] == pytest.approx(ref.stderr)
    assert res["n"][0] == 11
    tcrit = stats.t.ppf(0.975, 9)
    assert res["lo"][0] == pytest.approx(math.expm1(ref.slope - tcrit * ref.stderr))
    assert res["pct"][0] == pytest.approx(math.expm1(ref.slope))


def test_trend_exact_growth_and_too_few_points():
    level = np.expm1(np.log(100) + np.log(1.1) * np.arange(13))[None, :]
    res = ks.trend(level, 13)
    assert res["pct"][0] == pytest.approx(0.1)
    assert res["se"][0] == pytest.approx(0, abs=1e-9)
    two = np.array([[np.nan] * 11 + [5.0, 6.0]])
    assert np.isnan(ks.trend(two, 13)["slope"][0])


def test_seasonal_z_by_hand_yoy_rule():
    # last year's weeks s_t; this year s_t * exp(c_t): c alternates ±0.1 (rolling 4-week mean 0,
    # MAD 0; the weekly values' MAD is 0.1, so the scale is 1.4826 × 0.1 × sqrt(1/4 + (π/2)/26))
    # and is 0.5 in the last 4 weeks: z = (0.5 - 0) / that
    weeks = 52 + 30
    season = 100 + 50 * np.sin(np.arange(weeks) / 52 * 2 * np.pi)
    log = np.log1p(season.copy())
    c = np.where(np.arange(weeks - 52) % 2 == 0, 0.1, -0.1)
    c[-4:] = 0.5
    log[52:] = log[:-52] + c
    level = np.expm1(log)[None, :]
    res = ks.seasonal_excess(level, recent=4, reference=26)
    assert res["rule"][0] == "yoy"
    assert res["recent"][0] == pytest.approx(0.5)
    assert res["baseline"][0] == pytest.approx(0.0, abs=1e-12)
    assert res["z"][0] == pytest.approx(0.5 / (1.4826 * 0.1 * math.sqrt(1 / 4 + math.pi / 2 / 26)))
    # a steadier history: c alternates ±0.01, the floor 0.05 is the scale: z = 10
    log[52:-4] = log[:-56] + c[:-4] / 10
    res = ks.seasonal_excess(np.expm1(log)[None, :], recent=4, reference=26)
    assert res["z"][0] == pytest.approx(10.0)


def test_seasonal_fallback_rules_are_named():
    rng = np.random.default_rng(0)
    short = np.exp(rng.normal(3, 0.05, (1, 30)))
    assert ks.seasonal_excess(short)["rule"][0] == "own"
    many = np.exp(rng.normal(3, 0.05, (6, 30)))
    assert set(ks.seasonal_excess(many)["rule"]) == {"category"}
    assert np.isnan(ks.seasonal_excess(short[:, :10])["z"][0])  # too short for any rule


def test_category_rule_removes_the_common_movement():
    # every term doubles in the last 4 weeks (the season); one term quadruples
    base = np.full((6, 30), 100.0)
    base[:, -4:] *= 2
    base[5, -4:] *= 2
    res = ks.seasonal_excess(base)
    assert res["z"][5] > 3 and np.all(np.abs(res["z"][:5]) < 1e-9)


def test_unusual_weeks_flags_a_spike_and_marks_a_repeating_one_seasonal():
    level = np.full((1, 70), 10.0)
    level[0, 10] = 30.0
    level[0, 62] = 30.0            # same spike 52 weeks later: the season
    res = ks.unusual_weeks(level)
    assert res["flag"][0, 10] == 1 and res["flag"][0, 62] == 1
    assert res["ratio"][0, 10] == pytest.approx(3.0)
    assert res["z"][0, 10] == pytest.approx((math.log(31) - math.log(11)) / 0.1)
    assert not res["seasonal"][0, 10] and res["seasonal"][0, 62]
    assert res["flag"][0].sum() == 2  # the drop back to 10 after a lone spike is no event
    assert np.isnan(res["z"][0, :3]).all()  # fewer than 3 earlier weeks: not judged


def test_first_seen():
    level = np.array([[np.nan, 0, 5, 1], [1, 1, 1, 1], [np.nan] * 4])
    assert ks.first_seen(level).tolist() == [2, 0, -1]


# -------------------------------------------------------------------------- panel loading

def test_panel_weekly_level_is_mean_of_daily_index_and_no_peeking():
    # 2026-11-02 is a Monday: week W45 days 1..7, W46 days 8..14; W47 has a huge value that
    # a study of W46 must not see
    frame = _daily({"保温杯": list(range(1, 15)) + [10_000.0] * 7})
    panel = load_panel(frame, CAT, "2026-W46")
    assert panel.week_labels == ["2026-W45", "2026-W46"]
    assert panel.level[0].tolist() == [4.0, 11.0]
    assert panel.index_sum[0].tolist() == [28.0, 77.0]
    assert panel.days[0].tolist() == [7, 7]
    # the week is the study scope's (the last complete week of the data by default): the
    # panel chooses none itself
    assert load_panel(frame, CAT, last_complete_week(frame["date"])).week == "2026-W47"
    with pytest.raises(ValueError, match="week"):
        load_panel(frame, CAT, "")


def test_panel_study_week_attributes_mean_rates_and_last_item_snapshot():
    frame = _daily({"保温杯": [5.0] * 7}, start="2026-11-16")
    frame["click_rate"] = [0.5, 1.5, 1.0, 1.0, 1.0, 1.0, 1.0]   # mean 1.0; not clipped
    frame["online_items"] = [100, 200, 300, 400, 500, None, None]  # last snapshot 500
    panel = load_panel(frame, CAT, "2026-W47")
    assert panel.attrs.loc["保温杯", "click_rate"] == pytest.approx(1.0)
    assert panel.attrs.loc["保温杯", "online_items"] == 500
    assert panel.available == ["click_rate", "online_items"]


# ----------------------------------------------------------------- scoring and screening

def _metrics_for(rows: dict[str, dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    terms = list(rows)
    metrics = pd.DataFrame({"keyword": terms,
                            "popularity_mean_daily": [r["pop"] for r in rows.values()],
                            "is_new": False, "is_breakout": False, "data_note": "",
                            "change_yoy": np.nan, "seasonal_z": np.nan})
    attrs = pd.DataFrame({c: [r.get(c, np.nan) for r in rows.values()] for c in
                          ["click_rate", "conversion_rate", "online_items",
                           "tmall_click_share", "ppc_price"]}, index=terms)
    return metrics, attrs


def test_opportunity_demand_supply_and_screens_by_hand():
    metrics, attrs = _metrics_for({
        "a": {"pop": 1000, "click_rate": 0.5, "conversion_rate": 0.02, "online_items": 100,
              "tmall_click_share": 0.3},
        "tmall": {"pop": 1000, "click_rate": 0.5, "conversion_rate": 0.02, "online_items": 100,
                  "tmall_click_share": 0.7},
        "zero": {"pop": 500, "click_rate": 0.5, "conversion_rate": 0.02, "online_items": 0,
                 "tmall_click_share": 0.1},
        "lowcvr": {"pop": 800, "click_rate": 1.2, "conversion_rate": 0.005, "online_items": 80,
                   "tmall_click_share": 0.1},
        "thin": {"pop": 900, "click_rate": 0.5, "conversion_rate": 0.03, "online_items": 30,
                 "tmall_click_share": 0.2},
    })
    out = score_terms(metrics, attrs, Screens()).set_index("keyword")
    assert out.loc["a", "demand_supply"] == pytest.approx(10.0)
    assert out.loc["a", "opportunity"] == pytest.approx(1000 * 0.5 * 0.02 / 100)
    assert out.loc["a", "score"] == pytest.approx(0.1)
    assert out.loc["a", "passes_screens"]
    assert "商城点击占比" in out.loc["tmall", "screen_failed"]
    assert out.loc["zero", "zero_supply"] and np.isnan(out.loc["zero", "demand_supply"])
    assert not out.loc["zero", "passes_screens"] and "zero online items" in out.loc["zero", "data_note"]
    assert "支付转化率" in out.loc["lowcvr", "screen_failed"]
    assert out.loc["thin", "screen_failed"] == "在线商品数 < 50"   # too few listings to be a market
    assert not out.loc["thin", "passes_screens"]
    assert out.loc["lowcvr", "opportunity"] == pytest.approx(800 * 1.2 * 0.005 / 80)
    tm = score_terms(metrics, attrs, Screens(shop_is_tmall=True)).set_index("keyword")
    assert tm.loc["tmall", "passes_screens"]


def test_score_uses_available_factors_when_columns_are_missing():
    metrics, attrs = _metrics_for({"a": {"pop": 30}, "b": {"pop": 60}})
    out = score_terms(metrics, attrs, Screens())
    assert out["score_basis"].iloc[0] == "搜索人气"
    assert out["score"].tolist() == [30, 60]
    assert out["passes_screens"].all()


# ------------------------------------------------------------------------- segmentation

@pytest.fixture(scope="module")
def dictionary() -> SegmentDictionary:
    d = load_dictionary(CAT)
    assert d is not None, "templates/dictionaries/保温杯.yaml is missing"
    return d


def test_segmentation_with_the_category_dictionary(dictionary):
    seg = segment_terms(["316不锈钢保温杯女", "保温杯", "膳魔师保温杯", "保温杯 500ml",
                         "女士保温杯", "儿童保温杯带吸管"], dictionary).set_index("keyword")
    assert seg.loc["316不锈钢保温杯女", ["core", "material", "audience"]].tolist() == \
        ["保温杯", "316不锈钢", "女"]
    assert seg.loc["保温杯", "term_kind"] == "core"
    assert seg.loc["膳魔师保温杯", "term_kind"] == "brand"
    assert seg.loc["保温杯 500ml", "capacity"] == "500ml"
    assert seg.loc["保温杯 500ml", "term_kind"] == "modifier"
    assert seg.loc["女士保温杯", "audience"] == "女"          # synonym folded
    assert seg.loc["儿童保温杯带吸管", "function"] == "带吸管"
    assert seg.loc["316不锈钢保温杯女", "term_kind"] == "long_tail"


def test_segmentation_without_dictionary_and_jaccard():
    seg = segment_terms(["toilet paper", "yeezy"], None)
    assert seg["term_kind"].tolist() == ["unknown", "unknown"]
    assert seg["segments"].tolist() == ["toilet paper", "yeezy"]
    assert jaccard(frozenset({"a", "b"}), frozenset({"b", "c"})) == pytest.approx(1 / 3)
    assert jaccard(frozenset(), frozenset()) == 0.0


def test_modifier_share_of_summed_daily_index_by_hand(dictionary):
    frame = _daily({"保温杯女": [3.0] * 7 + [1.0] * 7, "保温杯男": [1.0] * 14,
                    "保温杯女 316不锈钢": [0.0] * 7 + [2.0] * 7})
    panel = load_panel(frame, CAT, "2026-W46")
    shares = modifier_shares(panel, segment_terms(panel.terms, dictionary))
    wk = shares.set_index(["modifier", "week"])["index_share"]
    assert wk[("女", "2026-W45")] == pytest.approx(21 / 28)
    assert wk[("女", "2026-W46")] == pytest.approx(21 / 28)   # (7 + 14) / (7 + 7 + 14)
    assert wk[("男", "2026-W46")] == pytest.approx(7 / 28)
    assert wk[("316不锈钢", "2026-W46")] == pytest.approx(14 / 28)
    ch = modifier_changes(shares, recent=1).set_index("modifier")
    assert ch.loc["316不锈钢", "change_pp"] == pytest.approx(50.0)
    assert ch.loc["316不锈钢", "basis"] == "vs 1 weeks earlier"


def test_core_keywords_penalise_two_spellings_of_one_idea(dictionary):
    scored = pd.DataFrame({
        "keyword": ["保温杯女", "女保温杯", "保温杯男", "保温杯儿童"],
        "score": [10.0, 9.0, 5.0, 1.0], "score_basis": "搜索人气",
        "passes_screens": True, "popularity_mean_daily": [10.0, 9.0, 5.0, 1.0]})
    seg = segment_terms(scored["keyword"], dictionary)
    core = core_keywords(scored, seg, n=2, runners_up=2)
    assert core.loc[core["role"] == "core", "keyword"].tolist() == ["保温杯女", "保温杯男"]
    runner = core[core["role"] == "runner_up"].set_index("keyword")
    assert runner.loc["女保温杯", "max_overlap"] == 1.0
    assert runner.loc["女保温杯", "adjusted_score"] == 0.0
    assert "保温杯女" in runner.loc["女保温杯", "reasons"]
    # 保温杯儿童 shares 1 of 3 words with the picks: 1 × (1 − 1/3)
    assert runner.loc["保温杯儿童", "adjusted_score"] == pytest.approx(2 / 3)
    assert core.loc[0, "reasons"].startswith("score 10 (#1 of 4")


# ------------------------------------------------------------ planted signals, degenerate

def planted(seed: int = 1) -> pd.DataFrame:
    """Two years daily: 24 seasonal terms (November peak), one rising, one falling against
    the season from 2026-08-01, one new term from 2026-09-01 that breaks out."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-09-02", "2026-11-22")
    season = 1 + 0.8 * np.exp(-0.5 * ((days.day_of_year.to_numpy() - 315) / 12.0) ** 2)
    ramp = np.clip((days - pd.Timestamp("2026-08-01")).days.to_numpy() / 60, 0, 1)
    rows = []

    def add(term: str, base: float, mult: np.ndarray | float = 1.0, start: str | None = None):
        v = base * season * mult * np.exp(rng.normal(0, 0.08, len(days)))
        f = pd.DataFrame({"date": days, "category": CAT, "keyword": term,
                          "search_popularity": v.round(),
                          "click_rate": rng.uniform(0.5, 1.5, len(days)),
                          "conversion_rate": rng.uniform(0.01, 0.05, len(days)),
                          "online_items": rng.integers(100, 5000, len(days)),
                          "tmall_click_share": rng.uniform(0.1, 0.5, len(days))})
        rows.append(f[f["date"] >= start] if start else f)

    words = ["女", "男", "儿童", "316不锈钢", "大容量", "带吸管", "ins", "陶瓷", "500ml",
             "膳魔师", "学生", "可爱"]
    for i, w in enumerate(words):
        add(f"保温杯{w}", 1000 + 100 * i)
        add(f"{w}保温杯 {words[(i + 3) % 12]}", 400 + 10 * i)
    add("钛保温杯女", 800, 1 + 1.5 * ramp)
    add("保温杯 纯钛 复古", 900, 1 - 0.6 * ramp)
    add("焖烧杯 国潮", 300, 1 + 10 * ramp, start="2026-09-01")
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def planted_report():
    return analyse(planted(), CAT, "2026-W47")


def test_planted_rising_falling_breakout_and_seasonal(planted_report):
    m = planted_report.metrics
    assert rising_terms(m)["keyword"].tolist() == ["钛保温杯女"]
    assert falling_terms(m)["keyword"].tolist() == ["保温杯 纯钛 复古"]
    new = new_terms(m)
    assert new["keyword"].tolist() == ["焖烧杯 国潮"] and new["is_breakout"].all()
    seasonal = m[m["keyword"].str.startswith("保温杯") & ~m["keyword"].str.contains("纯钛")]
    assert (seasonal["direction"] == "steady").all()
    # the season is there (up over 4 weeks) and is not mistaken for growth
    assert (seasonal["change_4w"] > 0.15).all()
    assert list(m.columns[:len(METRIC_COLUMNS)]) == METRIC_COLUMNS
    assert len(planted_report.core[planted_report.core["role"] == "core"]) == 5


def test_planted_modifier_gain(planted_report):
    ch = planted_report.modifier_change.set_index("modifier")
    assert ch["change_pp"].idxmax() == "国潮"  # the breakout term's style
    assert ch["change_pp"].idxmin() == "复古"  # the falling term's style
    assert (ch["basis"] == "vs last year").all()


def test_missing_optional_columns_short_history_one_week_term():
    frame = _daily({"保温杯": [10.0 + i for i in range(35)], "保温杯女": [5.0] * 35,
                    "新词": [0.0] * 28 + [50.0] * 7})
    frame = frame[~((frame["keyword"] == "新词") & (frame["date"] < "2026-11-30"))]
    rep = analyse(frame, CAT, "2026-W49")
    text = " ".join(rep.notes)
    assert "在线商品数" in text and "商城点击占比" in text and "Only 5 week(s)" in text
    m = rep.metrics.set_index("keyword")
    assert "one week of data" in m.loc["新词", "data_note"]
    assert np.isnan(m.loc["新词", "change_4w"]) and np.isnan(m.loc["新词", "trend_pct_week"])
    assert m.loc["保温杯", "change_4w"] == pytest.approx(
        np.mean(range(38, 45)) / np.mean(range(10, 17)) - 1)
    assert (m["score_basis"] == "搜索人气").all()
    assert len(rep.core) == 3


def test_single_week_category_and_zero_supply():
    frame = _daily({"保温杯": [4.0] * 7, "杯子": [2.0] * 7},
                   extra={"保温杯": {"online_items": 0}, "杯子": {"online_items": 60}})
    rep = analyse(frame, CAT, "2026-W45")
    m = rep.metrics.set_index("keyword")
    assert m.loc["保温杯", "zero_supply"] and not m.loc["保温杯", "passes_screens"]
    assert m.loc["杯子", "demand_supply"] == pytest.approx(2 / 60)
    assert rep.core["keyword"].tolist() == ["杯子"]
    assert any("Only 1 week" in n for n in rep.notes)


# ------------------------------------------------------------------------ sample market

@pytest.fixture(scope="module")
def sample_report(sample_warehouse, truth):
    return keyword_page(resolve_scope(sample_warehouse, truth["category"]), sample_warehouse)


def test_study_returns_a_page_result_with_the_scope_competitors(tmp_path):
    from research.store.warehouse import connect, store

    path = tmp_path / "w.duckdb"
    frame = _daily({"保温杯": [5.0] * 28, "保温杯女": [2.0] * 28})  # 2026-11-02 … 11-29
    with connect(path) as con:
        store(con, "keywords", frame)
    scope = Scope(category=CAT, week="2026-W47", week_start="2026-11-16",
                  week_end="2026-11-22", week_rule="given", shop="我们", shop_rule="given",
                  competitors=("甲店", "乙店"), competitor_rule="named", currency="CNY",
                  data_start="2026-11-02", data_end="2026-11-29")
    report = keyword_page(scope, path, min_online_items=0)
    assert isinstance(report, PageResult) and report.scope == scope
    assert report.competitors == scope.competitors
    assert report.panel.week == "2026-W47" and report.panel.category == CAT
    assert report.panel.week_labels[-1] == "2026-W47"  # the scope's week, not the data's last
    with pytest.raises(ValueError, match="keyword_trends parameter recent_weeks="):
        keyword_page(scope, path, recent_weeks=0)


def _weeks_apart(a: str, b: str) -> int:
    from research.weeks import week_bounds

    return abs((week_bounds(a)[0] - week_bounds(b)[0]).days) // 7


def test_sample_truth_rising_falling_breakout(sample_report, truth):
    kw = truth["keywords"]
    m = sample_report.metrics
    rising = set(rising_terms(m)["keyword"])
    falling = set(falling_terms(m)["keyword"])
    # no false flags: among the terms with at least a year of history the rising and falling
    # sets are exactly the planted ones, and no purely seasonal term is flagged either way
    year = set(m.loc[m["weeks_observed"] >= 52 + 4, "keyword"])
    assert set(kw["rising"]) <= year and set(kw["falling"]) <= year
    assert rising & year == set(kw["rising"]), (rising, kw["rising"])
    assert falling & year == set(kw["falling"]), (falling, kw["falling"])
    assert not set(kw["seasonal_only"]) & (rising | falling)
    seasonal = m.set_index("keyword").loc[kw["seasonal_only"]]
    assert (seasonal["direction"] == "steady").all() and (seasonal["direction_rule"] == "").all()
    # each flagged term carries its rule and evidence
    flagged = m[m["direction"].isin(["rising", "falling"])]
    assert (flagged["direction_rule"] != "").all() and (flagged["direction_evidence"] != "").all()
    # the breakout term is found within one ISO week of the planted week (the generator's own
    # curve and rule, research/sample/market.py), not merely on or before it
    new = new_terms(m)
    assert kw["breakout"]["term"] in set(new.loc[new["is_breakout"], "keyword"])
    found = new.set_index("keyword").loc[kw["breakout"]["term"], "breakout_week"]
    assert _weeks_apart(found, kw["breakout"]["breakout_week"]) <= 1, \
        (found, kw["breakout"]["breakout_week"])
    # the planted blue-ocean terms (demand above supply, good conversion) make the shortlist
    core = sample_report.core
    assert set(kw["blue_ocean"]) <= set(core.loc[core["role"] == "core", "keyword"])


def test_week_distance_helper():
    assert _weeks_apart("2026-W42", "2026-W43") == 1
    assert _weeks_apart("2026-W01", "2025-W52") == 1
    assert _weeks_apart("2024-W36", "2026-W42") > 1   # the panel's first week would fail


def test_sample_outputs_are_complete(sample_report):
    m = sample_report.metrics
    assert m["keyword"].is_unique
    assert (m["change_yoy"].notna().mean()) > 0.5
    assert (sample_report.core["role"] == "core").sum() == 5
    assert not sample_report.style_terms.empty


# ------------------------------------------------------------------------ Google Trends

def _read_trends(folder: Path, geo: str, term: str = "") -> pd.DataFrame:
    """One Google Trends export through the public-data adapter (its category = one export)."""
    from research.sources import google_trends

    frame = google_trends.read(folder)["keywords"]
    cats = [c for c in frame["category"].unique()
            if "related" not in c and f"({geo})" in c and term in c]
    assert len(cats) == 1, cats
    return frame[frame["category"] == cats[0]].reset_index(drop=True)


def _event_week(sunday: str) -> str:
    """ISO week of a Google Trends week (Sunday–Saturday, the adapter dates it on Saturday)."""
    cal = (pd.Timestamp(sunday) + pd.Timedelta(days=6)).isocalendar()
    return f"{cal.year}-W{cal.week:02d}"


@pytest.mark.realdata
@pytest.mark.parametrize(("folder", "geo", "events"), [
    ("toilet_paper", "USA", ["2020-03-08", "2020-03-15"]),      # US panic buying
    # Japan's came a week earlier; its first week (2020-02-23) has only 2 earlier weeks in the
    # export, fewer than the rule needs, so the test expects the peak week
    ("toilet_paper", "Japon", ["2020-03-01"]),
    ("yeezy_us", "United States", ["2016-02-14"]),              # Yeezy Season 3 / TLOP week
])
def test_google_trends_known_event_weeks_are_flagged(real_data, folder, geo, events):
    frame = _read_trends(real_data / "google_trends" / folder, geo)
    assert frame["keyword"].nunique() == 1
    rep = analyse(frame, frame["category"].iloc[0], last_complete_week(frame["date"]),
                  history_weeks=260)
    ev = rep.events[(rep.events["direction"] == "up") & ~rep.events["seasonal"]]
    assert {_event_week(d) for d in events} <= set(ev["week"]), ev
    assert any("single-term" in n for n in rep.notes)
    assert any("在线商品数" in n for n in rep.notes)
    m = rep.metrics.iloc[0]
    assert m["score_basis"] == "搜索人气"
    # weekly level = the export's value for the study week (one row per week)
    iso = frame["date"].dt.isocalendar()
    label = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    assert m["popularity_mean_daily"] == pytest.approx(
        frame.loc[label == rep.panel.week, "search_popularity"].item())


@pytest.mark.realdata
def test_google_trends_quiet_weeks_are_mostly_not_flagged(real_data):
    frame = _read_trends(real_data / "google_trends" / "skincare_us", "United States", "cerave")
    rep = analyse(frame, frame["category"].iloc[0], last_complete_week(frame["date"]),
                  event_terms=None)
    ev = rep.events[~rep.events["seasonal"]]
    assert len(ev) < 0.1 * len(rep.panel.weeks)  # an event rule that flags everything is useless
    assert rep.metrics["change_yoy"].notna().all()


# ------------------------------------------------------------------------------ notebook

@pytest.mark.slow
def test_notebook_runs_on_the_sample(sample_warehouse, truth, tmp_path):
    import papermill as pm

    pm.execute_notebook(str(NOTEBOOK), str(tmp_path / "out.ipynb"),
                        parameters={"warehouse": str(sample_warehouse),
                                    "category": truth["category"],
                                    "output_dir": str(tmp_path)},
                        kernel_name="python3", cwd=str(tmp_path))
    res = tmp_path / "results"
    metrics = pd.read_csv(res / "keyword_metrics.csv", encoding="utf-8-sig")
    assert list(metrics.columns[:len(METRIC_COLUMNS)]) == METRIC_COLUMNS
    core = pd.read_csv(res / "core_keywords.csv", encoding="utf-8-sig")
    assert (core["role"] == "core").sum() == 5
    style = pd.read_csv(res / "style_terms.csv", encoding="utf-8-sig")
    assert {"modifier_kind", "modifier", "week", "index_share"} <= set(style.columns)
    assert (tmp_path / "summaries" / "keyword_trends.txt").exists()


@pytest.mark.slow
@pytest.mark.realdata
def test_notebook_runs_on_a_single_column_google_trends_export(real_data, tmp_path):
    import papermill as pm

    from research.store.warehouse import connect, store

    frame = _read_trends(real_data / "google_trends" / "yeezy_us", "United States")
    wh = tmp_path / "gt.duckdb"
    with connect(wh) as con:
        store(con, "keywords", frame)
    pm.execute_notebook(str(NOTEBOOK), str(tmp_path / "out.ipynb"),
                        parameters={"warehouse": str(wh), "category": frame["category"].iloc[0],
                                    "output_dir": str(tmp_path)},
                        kernel_name="python3", cwd=str(tmp_path))
    metrics = pd.read_csv(tmp_path / "results" / "keyword_metrics.csv", encoding="utf-8-sig")
    assert len(metrics) == 1
    assert (tmp_path / "results" / "core_keywords.csv").exists()


def test_screens_say_which_were_applied():
    text = Screens(min_conversion=0.02).describe(["conversion_rate"])
    assert "支付转化率 ≥ 2.0%" in text
    assert "商城点击占比: not applied (no data)" in text
    assert "在线商品数: not applied (no data)" in text
    assert "not applied (Tmall shop)" in Screens(shop_is_tmall=True).describe(["tmall_click_share"])


# ------------------------------------------------ segmentation from the data (issue 16, item 2)

def _segments_of(terms, weights=None, category="", titles=(), shops=(), dictionary=None):
    from research.analyses.keywords.vocab import infer_vocabulary

    keep = dictionary.words if dictionary is not None else []
    vocab = infer_vocabulary(terms, weights, category, titles, shops, keep=keep)
    return vocab, segment_terms(terms, dictionary, vocab).set_index("keyword")


SUN_TERMS = {  # 防晒衣 (a fashion category): term → popularity
    "防晒衣": 9000, "防晒衣女": 6000, "冰丝防晒衣": 3000, "冰丝防晒衣女": 2500, "防晒衣男": 2400,
    "冰丝防晒衣男": 900, "upf50+防晒衣": 800, "防晒衣女长款": 700, "长款防晒衣": 650,
    "防晒服": 3000, "防晒服女": 1500, "防晒服男": 600, "冰丝防晒服": 500, "蕉下防晒衣": 2000,
    "蕉下": 1800, "蕉下防晒衣女": 900, "防晒衣女夏季": 700, "夏季防晒衣男": 300,
    "户外防晒衣": 600, "户外防晒服": 400, "防晒衣女短款": 500, "短款防晒衣": 450,
    "防晒衣儿童": 400, "儿童防晒衣": 900, "儿童防晒服": 300, "骆驼防晒衣": 700,
    "骆驼防晒衣男": 300, "防晒衣xl": 200, "防晒衣女xl": 200, "防晒衣女白色": 300,
    "白色防晒衣": 250, "黑色防晒衣": 200, "防晒衫": 800, "防晒衫女": 500, "冰丝防晒衫": 300,
}
NUT_TERMS = {  # 坚果礼盒 (a 年货 food category)
    "坚果礼盒": 12000, "每日坚果": 9000, "混合坚果": 4000, "坚果礼盒装": 2000, "每日坚果礼盒": 1800,
    "三只松鼠坚果": 2500, "三只松鼠坚果礼盒": 1500, "三只松鼠": 5000, "良品铺子": 3000,
    "良品铺子坚果礼盒": 900, "良品铺子每日坚果": 800, "百草味坚果": 900, "百草味": 2000,
    "年货礼盒": 3000, "零食礼盒": 1500, "零食大礼包": 2500, "坚果零食大礼包": 800,
    "坚果大礼包": 1200, "送礼坚果礼盒": 700, "孕妇坚果": 600, "孕妇每日坚果": 500,
    "儿童坚果": 500, "坚果500g": 400, "每日坚果30包": 900, "混合坚果1斤": 300,
    "坚果礼盒送礼": 800, "年货坚果礼盒": 1000, "核桃": 3000, "纸皮核桃": 1200, "坚果": 6000,
}
CABLE_TERMS = {  # 数据线 (electronics accessories): most terms say 充电线 or 快充线
    "数据线": 8000, "充电线": 9000, "苹果数据线": 3000, "苹果充电线": 5000, "type-c数据线": 2500,
    "type-c快充线": 2200, "快充数据线": 1500, "安卓数据线": 1200, "数据线2米": 700,
    "充电线1米": 600, "65w快充线": 900, "iphone充电线": 1600, "华为快充线": 1800,
    "手机充电线": 1400, "三合一数据线": 900, "三合一充电线": 1100, "车载充电线": 500,
    "快充线": 2500, "绿联数据线": 800, "倍思数据线": 600, "倍思快充线": 500, "绿联": 700,
    "数据线1米": 500, "120w快充线": 700, "iphone数据线": 900, "华为数据线": 1000,
    "type-c充电线": 1500, "安卓充电线": 900, "充电线2米": 400, "苹果快充线": 800,
}


@pytest.mark.parametrize(("category", "terms", "heads", "modifiers", "brands", "listings"), [
    ("防晒衣", SUN_TERMS, {"防晒衣", "防晒服", "防晒衫"},
     {"冰丝", "女", "男", "长款", "短款", "户外", "儿童", "夏季", "白色", "xl"}, {"蕉下", "骆驼"},
     [("蕉下防晒衣女冰丝", "蕉下官方旗舰店"), ("蕉下防晒服户外", "蕉下官方旗舰店"),
      ("骆驼防晒衣男户外", "骆驼户外旗舰店"), ("骆驼防晒衣女", "骆驼户外旗舰店"),
      ("骆驼 冰丝防晒衣", "骆驼户外旗舰店"), ("冰丝防晒衣女长款", "阿花的小店"),
      ("防晒衣女夏季", "小林服饰专营店")]),
    ("坚果礼盒", NUT_TERMS, {"坚果", "礼盒", "核桃"},
     {"每日", "混合", "零食", "年货", "送礼", "孕妇", "大礼包"}, {"三只松鼠", "良品铺子", "百草味"},
     [("三只松鼠每日坚果礼盒", "三只松鼠旗舰店"), ("良品铺子坚果礼盒", "良品铺子官方旗舰店"),
      ("百草味混合坚果", "百草味旗舰店"), ("年货坚果礼盒送礼", "小王零食店")]),
    ("数据线", CABLE_TERMS, {"数据线", "充电线", "快充线"},
     {"苹果", "type-c", "安卓", "iphone", "华为", "三合一"}, {"绿联", "倍思"},
     [("绿联数据线type-c快充", "绿联旗舰店"), ("倍思快充线苹果", "倍思官方旗舰店"),
      ("绿联 充电线 2米", "绿联旗舰店"), ("倍思 数据线", "倍思官方旗舰店")]),
])
def test_head_words_modifiers_and_brands_from_the_data(category, terms, heads, modifiers, brands,
                                                       listings):
    titles, shops = [t for t, _ in listings], [s for _, s in listings]
    vocab, seg = _segments_of(list(terms), list(terms.values()), category, titles, shops)
    assert set(vocab.core) == heads, vocab.core
    assert modifiers <= set(vocab.kinds["generic"]), vocab.kinds["generic"]
    assert not set(vocab.kinds["generic"]) & (heads | brands)
    assert set(vocab.kinds["brand"]) == brands, vocab.kinds["brand"]
    # every term holding a head word gets it as its core, and the page's kinds are set
    for term in terms:
        expected = {h for h in heads if h in term}
        got = set(filter(None, seg.loc[term, "core"].split("+")))
        assert got == expected or (expected and got and got <= expected), (term, got, expected)
    assert "unknown" not in set(seg["term_kind"])
    assert {"core", "brand", "modifier", "long_tail"} >= set(seg["term_kind"])


def test_segmentation_from_the_data_splits_terms_into_kinds():
    _, seg = _segments_of(list(CABLE_TERMS), list(CABLE_TERMS.values()), "数据线",
                          shops=["绿联旗舰店", "倍思官方旗舰店"])
    row = seg.loc["65w快充线"]
    assert (row["core"], row["spec"], row["term_kind"]) == ("快充线", "65w", "modifier")
    row = seg.loc["type-c数据线"]
    assert (row["core"], row["generic"], row["term_kind"]) == ("数据线", "type-c", "modifier")
    assert seg.loc["绿联数据线", "brand"] == "绿联" and seg.loc["绿联数据线", "term_kind"] == "brand"
    assert seg.loc["数据线", "term_kind"] == "core"
    assert seg.loc["充电线2米", "spec"] == "2米"
    _, nuts = _segments_of(list(NUT_TERMS), list(NUT_TERMS.values()), "坚果礼盒")
    assert nuts.loc["坚果500g", "spec"] == "500g" and nuts.loc["每日坚果30包", "spec"] == "30包"
    assert nuts.loc["孕妇每日坚果", ["core", "generic"]].tolist() == ["坚果", "孕妇+每日"]
    # without listings a brand is still found when the term stands alone and is no common word
    assert {"三只松鼠", "良品铺子", "百草味"} <= set(nuts["brand"])


def test_head_word_found_when_the_category_is_named_otherwise():
    # the category's own name occurs in no term: the head words are the terms' common core
    vocab, seg = _segments_of(list(CABLE_TERMS), list(CABLE_TERMS.values()), "手机线材")
    assert {"充电线", "数据线", "快充线"} == set(vocab.core)
    assert vocab.core[0] == "充电线"  # most popularity first
    assert seg.loc["苹果充电线", "core"] == "充电线"


def test_a_modifier_must_recur_and_a_one_term_export_stays_unknown():
    vocab, seg = _segments_of(list(SUN_TERMS), list(SUN_TERMS.values()), "防晒衣")
    assert "upf50+" not in vocab.kinds["generic"]           # in one term only
    assert seg.loc["upf50+防晒衣", "other_words"] == "upf50+"
    vocab, seg = _segments_of(["toilet paper"], None, "toilet paper (USA)")
    assert vocab.core == [] and seg["term_kind"].tolist() == ["unknown"]


def test_sample_with_its_dictionary_is_no_worse_and_without_it_finds_the_core(
        sample_report, sample_warehouse, dictionary):
    from research.analyses.keywords.analysis import category_vocabulary
    from research.analyses.keywords.panel import load_listings

    panel = sample_report.panel
    terms = list(panel.terms)
    only = segment_terms(terms, dictionary).set_index("keyword")
    both = sample_report.segments.set_index("keyword").loc[terms]
    for col in ["core", *dictionary.kinds]:
        for term in terms:
            before = set(filter(None, only.loc[term, col].split("+")))
            assert before <= set(filter(None, both.loc[term, col].split("+"))), (term, col)
    assert (both["other_words"] != "").mean() < (only["other_words"] != "").mean()
    # the same data without the dictionary
    listings = load_listings(sample_warehouse, panel.category, panel.week)
    vocab = category_vocabulary(panel, None, listings)
    bare = segment_terms(terms, None, vocab).set_index("keyword")
    assert {"保温杯", "水杯", "焖烧杯", "保温壶"} <= set(vocab.core)
    assert {"膳魔师", "象印", "富光", "哈尔斯"} <= set(vocab.kinds["brand"])
    assert {"大容量", "儿童", "不锈钢", "带吸管", "女"} <= set(vocab.kinds["generic"])
    assert (bare["core"] != "").mean() > 0.95
    agree = (bare["core"] == only["core"]) | (only["core"] == "")
    assert agree.mean() > 0.9


def test_analysis_without_a_dictionary_has_modifier_shares(tmp_path):
    frame = pd.concat([_daily({t: [float(p)] * 28})
                       for t, p in CABLE_TERMS.items()], ignore_index=True)
    frame["category"] = "数据线"
    rep = analyse(frame, "数据线", "2026-W47", dictionary=tmp_path)  # an empty folder
    assert rep.dictionary == ""
    assert not rep.style_terms.empty
    kinds = set(rep.style_terms["modifier_kind"])
    assert {"generic", "spec"} <= kinds
    share = rep.style_terms.set_index(["modifier", "week"])["index_share"]
    total = sum(CABLE_TERMS.values())
    apple = sum(p for t, p in CABLE_TERMS.items() if "苹果" in t)
    assert share[("苹果", "2026-W47")] == pytest.approx(apple / total)
    assert any("no segmentation dictionary" in n and "数据线" in n for n in rep.notes)
    assert {"spec", "generic"} <= set(rep.metrics.columns)


# -------------------------------------------- rising and falling: sustained or recent (item 3)

def _panel(levels: dict[str, np.ndarray], end: str = "2026-W47"):
    """A WeeklyPanel straight from weekly levels (the last column is the study week)."""
    from research.analyses.keywords.panel import OPTIONAL_COLUMNS, WeeklyPanel
    from research.weeks import week_bounds

    terms = np.array(list(levels), dtype=object)
    level = np.vstack([np.asarray(v, dtype=float) for v in levels.values()])
    m = level.shape[1]
    monday, _ = week_bounds(end)
    weeks = pd.date_range(end=monday, periods=m, freq="7D")
    attrs = pd.DataFrame(np.nan, index=pd.Index(terms, name="keyword"), columns=OPTIONAL_COLUMNS)
    return WeeklyPanel(terms, weeks, level, np.nan_to_num(level) * 7,
                       (~np.isnan(level)).astype(np.int16) * 7, attrs, [], CAT, end)


def _market(seed: int, weeks: int = 110, n_flat: int = 30, winter: float = 0.0,
            category_growth: float = 1.0, noise: float = 0.04) -> tuple[dict, np.ndarray]:
    """Flat (or growing) category terms with a winter season of amplitude ``winter``: weekly
    levels with log-normal noise. Returns the terms and the season curve (for planted terms)."""
    rng = np.random.default_rng(seed)
    t = np.arange(weeks)
    season = np.exp(winter * np.cos(2 * np.pi * (t - (weeks - 1)) / 52.18))  # peak: study week
    growth = category_growth ** (t / 52.0)
    levels = {f"flat{i:02d}": rng.uniform(200, 3000) * season * growth
              * np.exp(rng.normal(0, noise, weeks)) for i in range(n_flat)}
    return levels, season * growth


def _climber(base: float, ratio: float, weeks: int, months: int = 12, seed: int = 0,
             noise: float = 0.04) -> np.ndarray:
    """A term flat until ``months`` months ago, then climbing steadily (log-linearly) to
    ``ratio`` × where it stood a year earlier at the study week."""
    rng = np.random.default_rng(seed)
    span = int(round(months * 52 / 12))
    t = np.arange(weeks)
    ramp = np.clip((t - (weeks - 1 - span)) / span, 0, 1)
    return base * ratio ** ramp * np.exp(rng.normal(0, noise, weeks))


def test_flat_category_steady_threefold_climber_is_rising_with_its_evidence():
    levels, curve = _market(seed=11)
    levels["climber"] = _climber(800, 3.0, 110, seed=1) * curve
    m = analyse_panel(levels).set_index("keyword")
    row = m.loc["climber"]
    assert row["direction"] == "rising"
    assert row["direction_rule"] == "sustained_yoy"        # the recent rule alone misses it …
    assert row["seasonal_z"] < 3.0                         # … which was the bug
    assert row["sustained_move"] == pytest.approx(3.0, rel=0.12)
    assert row["category_move"] == pytest.approx(1.0, abs=0.05)
    assert row["direction_evidence"].startswith("同比 · vs last year ×")
    assert "类目 · category ×1.0" in row["direction_evidence"]
    assert (m.drop(index="climber")["direction"] == "steady").all()


def analyse_panel(levels: dict, **kwargs) -> pd.DataFrame:
    from research.analyses.keywords.analysis import term_metrics

    return term_metrics(_panel(levels), **kwargs)


def _grower(base: float, ratio_per_year: float, weeks: int, seed: int = 0,
            noise: float = 0.04) -> np.ndarray:
    """A term growing at a constant rate (× ``ratio_per_year`` every 52 weeks) all along."""
    rng = np.random.default_rng(seed)
    return base * ratio_per_year ** (np.arange(weeks) / 52.0) * np.exp(rng.normal(0, noise, weeks))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sustained_rule_threshold_planted_strengths(seed):
    # ratios to a year earlier beyond the category's (threshold 1.5) over a winter-peaking
    # category. Terms that have grown at a constant rate for two years (no acceleration, so
    # only the sustained rule can see them): 1.25 and 1.35 a year must not fire, 1.65 (just
    # above the threshold), 2 and 3 must; falling mirrors.
    levels, curve = _market(seed=seed, winter=0.5)
    planted = {"up125": 1.25, "up135": 1.35, "up165": 1.65, "up200": 2.0, "up300": 3.0,
               "down135": 1 / 1.35, "down165": 1 / 1.65, "down250": 1 / 2.5}
    for i, (name, ratio) in enumerate(planted.items()):
        levels[name] = _grower(1000, ratio, 110, seed=100 * seed + i) * curve
    # terms that turned 9 months ago (flat before): the sustained rule fires from 1.65 on
    for i, (name, ratio) in enumerate({"turn135": 1.35, "turn165": 1.65, "turn300": 3.0}.items()):
        levels[name] = _climber(1000, ratio, 110, months=9, seed=100 * seed + 50 + i) * curve
    m = analyse_panel(levels).set_index("keyword")
    assert set(m.index[m["direction"] == "rising"]) - {"turn135"} == \
        {"up165", "up200", "up300", "turn165", "turn300"}
    assert set(m.index[m["direction"] == "falling"]) == {"down165", "down250"}
    sustained = m["direction_rule"].str.contains("sustained")
    assert set(m.index[sustained]) == {"up165", "up200", "up300", "turn165", "turn300",
                                       "down165", "down250"}
    assert (m.loc[["up165", "up200", "up300"], "direction_rule"] == "sustained_yoy").all()
    assert m.loc["up165", "sustained_move"] == pytest.approx(1.65, rel=0.06)
    assert m.loc["down165", "sustained_move"] == pytest.approx(1 / 1.65, rel=0.06)
    # 9 months of climbing to 1.35 is below the sustained threshold; the recent rule may see
    # its turn (it is rising), but never by the sustained rule
    assert m.loc["turn135", "direction"] in {"rising", "steady"}


def test_sustained_rule_is_relative_to_the_category_own_movement():
    # the whole category grows 1.5× a year: a term growing with it is steady, a term that
    # triples a year (2× beyond the category) is rising, one losing a quarter is falling
    levels, curve = _market(seed=5, category_growth=1.5)
    levels["with_category"] = _grower(900, 1.5, 110, seed=6)
    levels["tripled"] = _grower(900, 3.0, 110, seed=7)
    levels["fell"] = _grower(900, 0.75, 110, seed=8)   # half the category's move
    m = analyse_panel(levels).set_index("keyword")
    assert m.loc["with_category", "direction"] == "steady"
    assert m.loc["tripled", "direction"] == "rising"
    assert m.loc["tripled", "category_move"] == pytest.approx(1.5, rel=0.05)
    assert "类目 · category ×1.5" in m.loc["tripled", "direction_evidence"]
    assert m.loc["fell", "direction"] == "falling"
    assert m.loc["fell", "sustained_move"] == pytest.approx(0.75, rel=0.06)
    assert (m.drop(index=["tripled", "fell"])["direction"] == "steady").all()


@pytest.mark.parametrize("seed", range(5))
def test_no_false_flags_on_seasonal_terms_noise_or_short_history(seed):
    rng = np.random.default_rng(seed)
    levels, curve = _market(seed=seed, winter=0.4, noise=0.05, n_flat=50)
    t = np.arange(110)
    for i in range(6):  # purely seasonal, peaking in summer (half a year from the category)
        summer = np.exp(rng.uniform(0.5, 0.9) * np.cos(2 * np.pi * (t - 109 + 26) / 52.18))
        levels[f"summer{i}"] = rng.uniform(500, 5000) * summer * np.exp(rng.normal(0, .05, 110))
    for i in range(6):  # seasonal with a sharp peak in the study weeks, repeating last year
        spike = 1 + 3 * np.exp(-0.5 * (((t - 109 + 1) % 52.18) / 2.0) ** 2)
        levels[f"spike{i}"] = rng.uniform(500, 5000) * spike * np.exp(rng.normal(0, .05, 110))
    short = np.full(110, np.nan)  # 20 weeks of history, flat with noise
    short[-20:] = 300 * np.exp(rng.normal(0, 0.05, 20))
    levels["short"] = short
    climb = np.full(110, np.nan)  # 20 weeks, climbing 3×: no sustained rule can judge it
    climb[-20:] = 300 * 3.0 ** np.linspace(0, 1, 20)
    levels["short_climber"] = climb
    m = analyse_panel(levels).set_index("keyword")
    flagged = m.index[m["direction"].isin(["rising", "falling"])].tolist()
    # the short climber may be rising against the category's common movement (the recent
    # rule's fallback without a prior year, as before): legitimate, and the only possible flag
    assert set(flagged) <= {"short_climber"}, m.loc[flagged, ["direction_evidence"]]
    assert m.loc["short_climber", "direction_rule"] in {"", "recent_season"}
    assert m.loc["short_climber", "seasonal_rule"] == "category"
    assert (m.loc[["short", "short_climber"], "sustained_rule"] == "").all()


def test_long_trend_rule_without_a_year_and_its_limits():
    # 40 weeks of history: no year-over-year comparison; a term that climbed 2.5× over the
    # 26 weeks in a flat category is rising by the trend rule; the evidence says so
    levels, curve = _market(seed=4, weeks=40)
    levels["climber"] = _climber(700, 2.5, 40, months=6, seed=9) * curve
    m = analyse_panel(levels).set_index("keyword")
    assert m.loc["climber", "direction"] == "rising"
    assert "sustained_trend" in m.loc["climber", "direction_rule"]
    assert m.loc["climber", "direction_evidence"].startswith("26周前 · vs 26 weeks earlier ×")
    assert (m.drop(index="climber")["direction"] == "steady").all()
    # under 30 weeks there is no sustained rule at all
    short, _ = _market(seed=4, weeks=25)
    assert (analyse_panel(short)["sustained_rule"] == "").all()


def test_recent_rule_still_fires_alone_and_wins_a_disagreement():
    levels, curve = _market(seed=6)
    jump = np.ones(110)
    jump[-4:] = 1.35              # just turned: +35 % in the last 4 weeks only
    levels["turned_up"] = 800 * curve * jump
    t = np.arange(110)            # quadrupled between 52 and 40 weeks ago, now halving:
    turn = 800 * 4.0 ** np.clip((t - 57) / 12, 0, 1)   # still ×2 last year, yet dropping hard
    turn[-4:] *= 0.5
    levels["turning_down"] = turn * curve * np.exp(np.random.default_rng(3).normal(0, .04, 110))
    m = analyse_panel(levels).set_index("keyword")
    assert m.loc["turned_up", "direction"] == "rising"
    assert m.loc["turned_up", "direction_rule"] == "recent_season"
    assert "近4周较季节基线" in m.loc["turned_up", "direction_evidence"]
    assert m.loc["turning_down", "direction"] == "falling"
    assert m.loc["turning_down", "direction_rule"] == "sustained_yoy+recent_season"
    assert m.loc["turning_down", "sustained_move"] == pytest.approx(2.0, rel=0.1)
    assert "同比 · vs last year ×" in m.loc["turning_down", "direction_evidence"]


def test_sustained_change_by_hand():
    # D = mean of the last 4 weekly log-ratios to 52 weeks earlier; C = the median D over the
    # complete terms; z = (D - C) / max(1.4826 MAD, 0.05)
    level = np.full((6, 60), 99.0)
    level[:, -4:] = np.array([99.0, 99.0, 99.0, 99.0, 199.0, 399.0])[:, None]
    res = ks.sustained_change(level)
    d = np.log([1, 1, 1, 1, 2, 4])
    assert res["rule"].tolist() == ["yoy"] * 6
    assert res["logratio"] == pytest.approx(d)
    assert res["category"][0] == pytest.approx(0.0)
    assert res["z"][5] == pytest.approx(np.log(4) / 0.05)   # MAD 0 → the floor
    assert np.isnan(ks.sustained_change(level[:4])["z"]).all()  # under 5 terms: not computed


def test_head_words_rules_by_hand():
    from research.analyses.keywords.vocab import head_words

    # 夏季 ends many terms but rides on the head 防晒衣: not exclusive, so no head of its own
    tokens = [["防晒衣"], ["防晒衣", "夏季"], ["冰丝", "防晒衣", "夏季"], ["长款", "防晒衣", "夏季"],
              ["防晒衣", "女", "夏季"], ["薄款", "夏季"], ["新款", "夏季"], ["防晒服"],
              ["冰丝", "防晒服"], ["防晒服", "女"]]
    heads, why = head_words(tokens, np.ones(len(tokens)), ["防晒衣"])
    assert heads == ["防晒衣", "防晒服"]
    assert "类目名" in why["防晒衣"] and "覆盖" in why["防晒服"]
    # 儿童 covers the most terms but never ends one: the heads are the words at the end
    tokens = [["儿童", "雨靴"], ["雨靴"], ["男", "雨靴"], ["儿童", "雨衣"], ["雨衣"],
              ["儿童", "雨伞"], ["儿童", "雨披"]]
    assert head_words(tokens, np.ones(len(tokens)), [])[0] == ["雨靴", "雨衣"]
    # popularity decides the order
    assert head_words(tokens, np.array([1, 1, 1, 9, 9, 1, 1.0]), [])[0] == ["雨衣", "雨靴"]


def test_modifier_change_is_against_the_same_weeks_last_year():
    weeks = pd.date_range("2025-06-02", periods=60, freq="7D")
    share = np.full(60, 0.1)
    share[4:8] = 0.3          # the same 4 weeks a year before the last 4
    share[-4:] = 0.2          # the last 4 weeks (13 weeks earlier it was 0.1)
    shares = pd.DataFrame({"modifier_kind": "generic", "modifier": "冰丝", "week_start": weeks,
                           "index_share": share})
    ch = modifier_changes(shares, recent=4).iloc[0]
    assert ch["basis"] == "vs last year"
    assert ch["change_pp"] == pytest.approx(-10.0)
    assert ch["share_before"] == pytest.approx(0.3)


def test_recent_rule_needs_the_minimum_excess_too():
    # a perfectly steady history and a +10 % step: with z_threshold 1 the z passes
    # (log 1.1 / 0.05 ≈ 1.9) but the step is under min_excess (15 %): steady; +25 %: rising
    levels = {f"flat{i}": np.full(60, 100.0 + 10 * i) for i in range(6)}
    levels["step10"] = np.r_[np.full(56, 100.0), np.full(4, 110.0)]
    levels["step25"] = np.r_[np.full(56, 100.0), np.full(4, 125.0)]
    m = analyse_panel(levels, z_threshold=1.0).set_index("keyword")
    assert m.loc["step10", "seasonal_z"] >= 1.0
    assert m.loc["step10", "direction"] == "steady"
    assert m.loc["step25", "direction"] == "rising"


def test_brands_from_title_openers_concentrated_in_few_shops():
    from research.analyses.keywords.vocab import brand_words

    words = {"玻璃": 6, "象印": 3, "保温杯": 20}
    tokens = [["玻璃", "保温杯"], ["象印", "保温杯"], ["象印"], ["保温杯"]]
    # 玻璃 opens the titles of six different shops (a material); 象印 those of one reseller
    titles = [f"玻璃保温杯 款{i}" for i in range(6)] + [f"象印保温杯 {i}" for i in range(4)]
    shops = [f"店{i}的小店" for i in range(6)] + ["好物专营店"] * 4
    brands, why = brand_words(words, tokens, ["保温杯"], titles, shops, from_terms=False)
    assert brands == ["象印"]
    assert "4 个商品标题以它开头" in why["象印"]
