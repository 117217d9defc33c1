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
    # MAD 0 → scale floor 0.05) and is 0.5 in the last 4 weeks: z = (0.5 - 0) / 0.05 = 10
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


def test_sample_truth_rising_falling_breakout(sample_report, truth):
    kw = truth["keywords"]
    m = sample_report.metrics
    rising = rising_terms(m)["keyword"].tolist()
    falling = falling_terms(m)["keyword"].tolist()
    top = len(kw["rising"]) + 3
    assert set(kw["rising"]) <= set(rising[:top]), (kw["rising"], rising[:top])
    top = len(kw["falling"]) + 3
    assert set(kw["falling"]) <= set(falling[:top]), (kw["falling"], falling[:top])
    assert not set(kw["seasonal_only"]) & set(rising)
    new = new_terms(m)
    assert kw["breakout"]["term"] in set(new.loc[new["is_breakout"], "keyword"])
    assert new.set_index("keyword").loc[kw["breakout"]["term"], "breakout_week"] <= \
        kw["breakout"]["breakout_week"]
    # the planted blue-ocean terms (demand above supply, good conversion) make the shortlist
    core = sample_report.core
    assert set(kw["blue_ocean"]) <= set(core.loc[core["role"] == "core", "keyword"])


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
