"""Keyword trends: which search terms to fight for.

For one category and study week ``W`` (only data up to the Sunday of ``W`` is read), the
analysis builds a terms × weeks matrix of weekly levels in DuckDB (:mod:`research.analyses.keywords.panel`:
:class:`WeeklyPanel`, :func:`load_panel`), computes every per-term statistic over that matrix
with numpy (:mod:`research.analyses.keywords.stats`), segments terms with the category dictionary and sums the
modifiers' weekly index shares (:mod:`research.analyses.keywords.segment`: :func:`modifier_shares`,
:func:`modifier_changes`), and picks five diverse core keywords. The page's entry point is
:func:`research.analyses.keywords.page.study`: category and study week come from the study
scope, nothing here chooses them.

Indices are not counts (metrics.md): the weekly level of a term is the **mean of its daily
搜索人气** in the week (an index), never a sum called "searches". The modifier shares are shares
of the category's **summed daily index** per week — acceptable only because they are labelled
so; they are not shares of searches.

Result CSVs (``results/``, stable column names)
-----------------------------------------------
``keyword_metrics.csv`` — one row per term seen in the history window:

- ``keyword``, ``term_kind`` (core/brand/modifier/long_tail/unknown), ``segments``, ``core``,
  ``material``, ``capacity``, ``audience``, ``style``, ``function``, ``brand``, ``spec``,
  ``generic`` (the last two added for issue 16: numbers with a unit other than a volume, and
  modifiers found in the data that no dictionary names)
- ``first_week``, ``last_week`` (ISO weeks with data), ``weeks_observed``, ``days_in_week``
  (days with a row in the study week)
- ``popularity_mean_daily`` — mean daily 搜索人气 in the study week (index)
- ``change_4w`` — study week vs 4 weeks earlier (fraction)
- ``change_yoy`` — mean of the last 4 weeks vs the same 4 weeks 52 weeks earlier (fraction;
  empty without two years)
- ``trend_pct_week``, ``trend_lo``, ``trend_hi``, ``trend_se``, ``trend_weeks`` — least-squares
  growth per week of log(1 + level) over the last 13 weeks, its 95 % interval, the standard
  error of the log slope and the number of weeks fitted
- ``seasonal_rule`` (yoy/category/own), ``seasonal_logratio`` (recent mean log-ratio),
  ``seasonal_excess`` (exp(recent − baseline) − 1), ``seasonal_z`` (robust z), ``direction``
  (rising/falling/steady/new/"" when not computable), ``direction_rule`` (the rule(s) that
  fired: ``sustained_yoy``, ``sustained_trend``, ``recent_season``, joined with ``+``; empty
  when none), ``direction_evidence`` (the numbers, Chinese first), ``sustained_rule``
  (yoy/trend/""), ``sustained_move`` (the term's geometric ratio of its last weeks to a year —
  or 26 weeks — earlier), ``category_move`` (the category's median of that ratio),
  ``sustained_z`` (robust z of the term's move beyond the category's among the terms),
  ``is_new``, ``is_breakout``, ``breakout_week`` — the six columns from ``direction_rule`` to
  ``sustained_z`` were added for issue 16
- ``click_rate``, ``conversion_rate``, ``tmall_click_share``, ``ppc_price`` — means of the daily
  values in the study week; ``online_items`` — the last snapshot in the study week
- ``demand_supply`` (popularity / online items), ``opportunity`` (popularity × click rate ×
  conversion / online items), ``score`` and ``score_basis`` (the factors actually available),
  ``zero_supply``, ``passes_screens``, ``screen_failed``, ``data_note``

``style_terms.csv`` — one row per modifier × week: ``modifier_kind``, ``modifier``, ``week``,
``week_start``, ``index_share`` (share of the category's summed daily index), ``n_terms``.

``core_keywords.csv`` — ``role`` (core/runner_up), ``rank``, ``keyword``, ``score``,
``score_basis``, ``adjusted_score`` (score × (1 − max overlap)), ``max_overlap`` (Jaccard of
segment sets with the closest term picked before it), ``overlaps_with``, ``reasons``, and the
study-week numbers ``popularity_mean_daily``, ``click_rate``, ``conversion_rate``,
``online_items``, ``demand_supply``, ``change_yoy``, ``seasonal_z``.

Examples
--------
>>> import pandas as pd, numpy as np
>>> days = pd.date_range("2026-01-05", periods=70)
>>> frame = pd.DataFrame({"date": np.tile(days, 2), "category": "保温杯",
...     "keyword": np.repeat(["保温杯", "保温杯女"], 70),
...     "search_popularity": np.r_[np.full(70, 100.0), np.linspace(10, 80, 70)]})
>>> rep = analyse(frame, "保温杯", "2026-W10")
>>> rep.metrics.set_index("keyword").loc["保温杯", "popularity_mean_daily"]
np.float64(100.0)
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from research.analyses.keywords import stats as ks
from research.analyses.keywords.panel import (
    OPTIONAL_COLUMNS,
    WeeklyPanel,
    load_listings,
    load_panel,
)
from research.analyses.keywords.segment import (
    MODIFIER_KINDS,
    SegmentDictionary,
    jaccard,
    load_dictionary,
    modifier_changes,
    modifier_shares,
    segment_sets,
    segment_terms,
)
from research.analyses.keywords.vocab import Vocabulary, infer_vocabulary
from research.store.scope import Scope

__all__ = ["Screens", "KeywordReport", "term_metrics", "score_terms", "core_keywords",
           "event_weeks", "analyse", "rising_terms", "falling_terms", "new_terms",
           "METRIC_COLUMNS"]

#: columns of keyword_metrics.csv, in order (documented in the module docstring)
METRIC_COLUMNS = [
    "keyword", "term_kind", "segments", "core", *MODIFIER_KINDS, "first_week", "last_week",
    "weeks_observed", "days_in_week", "popularity_mean_daily", "change_4w", "change_yoy",
    "trend_pct_week", "trend_lo", "trend_hi", "trend_se", "trend_weeks", "seasonal_rule",
    "seasonal_logratio", "seasonal_excess", "seasonal_z", "direction", "direction_rule",
    "direction_evidence", "sustained_rule", "sustained_move", "category_move", "sustained_z",
    "is_new", "is_breakout",
    "breakout_week", *OPTIONAL_COLUMNS, "demand_supply", "opportunity", "score", "score_basis",
    "zero_supply", "passes_screens", "screen_failed", "data_note",
]
_LABELS = {"click_rate": "点击率", "conversion_rate": "支付转化率", "online_items": "在线商品数",
           "tmall_click_share": "商城点击占比", "ppc_price": "直通车参考价"}


@dataclass
class Screens:
    """The operators' screening rules (metrics.md), all overridable.

    Attributes
    ----------
    min_popularity : float
        Minimum mean daily 搜索人气 in the study week.
    min_conversion : float
        Minimum 支付转化率 (fraction).
    max_tmall_share : float
        Maximum 商城点击占比, applied only when ``shop_is_tmall`` is False.
    min_online_items : int
        Minimum 在线商品数 (a term with almost no listings is not a tested market).
    shop_is_tmall : bool
        Our shop is a Tmall shop (then Tmall-dominated terms are not screened out).
    """

    min_popularity: float = 0.0
    min_conversion: float = 0.01
    max_tmall_share: float = 0.6
    min_online_items: int = 50
    shop_is_tmall: bool = False

    def describe(self, available: list[str]) -> str:
        """Say which screens were applied, given the optional columns the data has."""
        parts = [f"搜索人气 ≥ {self.min_popularity:g}"]
        parts.append(f"支付转化率 ≥ {self.min_conversion:.1%}" if "conversion_rate" in available
                     else "支付转化率: not applied (no data)")
        if self.shop_is_tmall:
            parts.append("商城点击占比: not applied (Tmall shop)")
        else:
            parts.append(f"商城点击占比 ≤ {self.max_tmall_share:.0%} (non-Tmall shop)"
                         if "tmall_click_share" in available
                         else "商城点击占比: not applied (no data)")
        parts.append(f"在线商品数 ≥ {self.min_online_items:,}" if "online_items" in available
                     else "在线商品数: not applied (no data)")
        return "; ".join(parts)


@dataclass
class KeywordReport:
    """Everything the report shows; see the module docstring for the CSV columns."""

    panel: WeeklyPanel
    metrics: pd.DataFrame
    segments: pd.DataFrame
    style_terms: pd.DataFrame
    modifier_change: pd.DataFrame
    core: pd.DataFrame
    events: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    dictionary: str = ""
    screens: Screens = field(default_factory=Screens)
    competitors: tuple[str, ...] = ()
    scope: Scope | None = None
    vocabulary: Vocabulary | None = None

    def results(self) -> dict[str, pd.DataFrame]:
        """The result tables by CSV name: keyword_metrics, style_terms, core_keywords."""
        return {"keyword_metrics": self.metrics, "style_terms": self.style_terms,
                "core_keywords": self.core}

    def summary(self) -> str:
        """One plain sentence for the study's index page."""
        m = self.metrics
        core = self.core.loc[self.core["role"] == "core", "keyword"].tolist()
        rising = rising_terms(m)["keyword"].head(3).tolist()
        parts = [f"{self.panel.category} {self.panel.week}: {len(m):,} terms"]
        n_r, n_f = int((m["direction"] == "rising").sum()), int((m["direction"] == "falling").sum())
        parts.append(f"{n_r} rising and {n_f} falling against their season"
                     + (f" (top: {', '.join(rising)})" if rising else ""))
        n_b = int(m["is_breakout"].sum())
        if n_b:
            parts.append(f"{n_b} new breakout term(s)")
        parts.append(f"core keywords: {', '.join(core)}" if core
                     else "no term passes the screens for a core keyword")
        return "; ".join(parts) + "."


# ---------------------------------------------------------------------------------- metrics

def term_metrics(panel: WeeklyPanel, recent_weeks: int = 4, trend_weeks: int = 13,
                 z_threshold: float = 3.0, min_excess: float = 0.15, new_weeks: int = 13,
                 reference_weeks: int = 26, sustained_ratio: float = 1.5) -> pd.DataFrame:
    """Per-term trend metrics over the panel (see the module docstring for the columns).

    A term is **rising** (falling: the mirror) when either rule fires (workbench choice):

    - *sustained* (:func:`~research.analyses.keywords.stats.sustained_change`): its last
      ``recent_weeks`` weeks stand at least ``sustained_ratio`` × their level of a year earlier
      **relative to the category's own year-over-year movement** (without a year: 26 weeks
      earlier, the category's common movement removed), and that is unusual among the
      category's terms (robust z ≥ ``z_threshold``) — a term that climbed for months;
    - *recent* (:func:`~research.analyses.keywords.stats.seasonal_excess`): its last weeks are
      unusual against its seasonal baseline (robust z ≥ ``z_threshold`` and at least
      ``min_excess`` above it) — a term that has just turned.

    When they disagree (a term far above last year now turning down) the recent rule decides;
    ``direction_evidence`` gives both.

    Parameters
    ----------
    panel : WeeklyPanel
    recent_weeks : int
        Weeks compared with the seasonal baseline and with last year.
    trend_weeks : int
        Weeks of the trend fit.
    z_threshold : float
        ``|z|`` at or above which a term is rising or falling (both rules) …
    min_excess : float
        … the recent rule also needs the term at least this much above (or below
        ``1/(1+x) - 1``) its baseline, so tiny but steady series are not called rising.
    new_weeks : int
        A term first seen within the last ``new_weeks`` weeks is new (only when the history
        is longer than that), listed separately and not called rising.
    reference_weeks : int
        Weeks before the recent ones that the baseline is estimated from.
    sustained_ratio : float
        The sustained rule's least ratio to last year relative to the category (falling:
        at most its inverse).
    """
    lv = panel.level
    n, m = lv.shape
    tr = ks.trend(lv, trend_weeks)
    se = ks.seasonal_excess(lv, recent=recent_weeks, reference=reference_weeks)
    su = ks.sustained_change(lv, recent=recent_weeks)
    observed = ~np.isnan(lv)
    weeks_observed = observed.sum(axis=1)
    first_idx = ks.first_seen(lv)
    last_idx = np.where(observed.any(axis=1), m - 1 - observed[:, ::-1].argmax(axis=1), -1)
    labels = np.array(panel.week_labels + [""], dtype=object)
    is_new = (m > new_weeks) & (first_idx >= m - new_weeks) & (first_idx >= 0)
    excess = np.expm1(se["recent"] - se["baseline"])
    known = ~np.isnan(se["z"]) | ~np.isnan(su["z"])
    acc_up = (se["z"] >= z_threshold) & (excess >= min_excess)
    acc_down = (se["z"] <= -z_threshold) & (excess <= 1 / (1 + min_excess) - 1)
    lim = np.log(sustained_ratio)
    sus_up = (su["z"] >= z_threshold) & (su["excess"] >= lim)
    sus_down = (su["z"] <= -z_threshold) & (su["excess"] <= -lim)
    direction = np.full(n, "", dtype=object)
    direction[known] = "steady"
    direction[sus_up] = "rising"
    direction[sus_down] = "falling"
    direction[acc_up] = "rising"     # the recent rule decides a disagreement
    direction[acc_down] = "falling"
    direction[is_new] = "new"
    fired_sus = (sus_up | sus_down) & ~is_new
    fired_acc = (acc_up | acc_down) & ~is_new
    rule = np.where(fired_sus, "sustained_" + su["rule"].astype(str), "")
    rule = np.where(fired_acc, np.where(rule == "", "recent_season", rule + "+recent_season"),
                    rule)
    evidence = _evidence(su, se, excess, fired_sus, fired_acc, recent_weeks)
    # breakout: a new term whose recent level reaches the median recent level of the others
    recent_mean = np.nanmean(np.where(observed[:, -recent_weeks:], lv[:, -recent_weeks:], np.nan),
                             axis=1) if n and observed[:, -recent_weeks:].any() else np.full(n, np.nan)
    established = ~is_new & ~np.isnan(recent_mean)
    bar = float(np.nanmedian(recent_mean[established])) if established.any() else np.inf
    above = np.nan_to_num(lv, nan=0.0) >= bar
    is_breakout = is_new & above[:, -recent_weeks:].any(axis=1)
    bweek = np.where(is_breakout, above.argmax(axis=1), -1)
    out = pd.DataFrame({
        "keyword": panel.terms,
        "first_week": labels[first_idx],
        "last_week": labels[last_idx],
        "weeks_observed": weeks_observed,
        "days_in_week": panel.days[:, -1].astype(int) if m else 0,
        "popularity_mean_daily": lv[:, -1] if m else np.nan,
        "change_4w": ks.change_over(lv, 4),
        "change_yoy": ks.yoy_change(lv, recent_weeks),
        "trend_pct_week": tr["pct"], "trend_lo": tr["lo"], "trend_hi": tr["hi"],
        "trend_se": tr["se"], "trend_weeks": tr["n"].astype(int),
        "seasonal_rule": se["rule"], "seasonal_logratio": se["recent"],
        "seasonal_excess": excess, "seasonal_z": se["z"], "direction": direction,
        "direction_rule": rule, "direction_evidence": evidence,
        "sustained_rule": su["rule"], "sustained_move": np.exp(su["logratio"]),
        "category_move": np.exp(su["category"]), "sustained_z": su["z"],
        "is_new": is_new, "is_breakout": is_breakout, "breakout_week": labels[bweek],
    })
    out["data_note"] = _data_notes(out, m, recent_weeks)
    return out


_BASELINE = {"yoy": "季节基线（去年同期）· seasonal baseline (last year's same weeks)",
             "category": "类目共同变动 · the category's common movement",
             "own": "自身近期水平（季节未扣除）· its own recent level (season not removed)"}


def _evidence(su: dict, se: dict, excess: np.ndarray, fired_sus: np.ndarray,
              fired_acc: np.ndarray, recent: int) -> np.ndarray:
    """Chinese-first text of the numbers behind each rising/falling call."""
    out = np.full(len(excess), "", dtype=object)
    for i in np.flatnonzero(fired_sus | fired_acc):
        parts = []
        if not np.isnan(su["z"][i]):
            what = "同比 · vs last year" if su["rule"][i] == "yoy" else \
                f"{su['weeks_back'][i]}周前 · vs {su['weeks_back'][i]} weeks earlier"
            parts.append(f"{what} ×{math.exp(su['logratio'][i]):.2f}（类目 · category "
                         f"×{math.exp(su['category'][i]):.2f}，z={su['z'][i]:+.1f}）")
        if not np.isnan(se["z"][i]):
            parts.append(f"近{recent}周较{_BASELINE.get(se['rule'][i], '基线')} "
                         f"{excess[i]:+.0%}（z={se['z'][i]:+.1f}）")
        out[i] = "; ".join(parts)
    return out


def _data_notes(frame: pd.DataFrame, m: int, recent: int) -> pd.Series:
    notes = pd.Series("", index=frame.index, dtype=object)
    one = frame["weeks_observed"] == 1
    notes[one] = "one week of data: no change, trend or seasonal comparison"
    missing = frame["popularity_mean_daily"].isna()
    notes[missing & ~one] = "no rows in the study week"
    short = (frame["seasonal_rule"] == "") & ~one & ~missing
    notes[short] = (f"under {recent + 8} weeks of history: no seasonal comparison"
                    if m < recent + 8 else "too few weeks of this term for a seasonal comparison")
    return notes


def score_terms(metrics: pd.DataFrame, attrs: pd.DataFrame, screens: Screens) -> pd.DataFrame:
    """Add demand/supply, opportunity, the score used for ranking and the screens.

    ``demand_supply`` = popularity / online items; ``opportunity`` = popularity × click rate ×
    conversion / online items (metrics.md, workbench choice). When a factor is missing from
    the data, ``score`` is the product of the factors that exist and ``score_basis`` names
    them; a term with zero online items has no ratio (``zero_supply``) and fails the supply
    screen. A screen whose column is missing is not applied (the report says so).
    """
    out = metrics.merge(attrs, left_on="keyword", right_index=True, how="left")
    pop = out["popularity_mean_daily"]
    items = out["online_items"]
    out["zero_supply"] = items.eq(0)
    safe_items = items.where(items > 0)
    out["demand_supply"] = pop / safe_items
    out["opportunity"] = pop * out["click_rate"] * out["conversion_rate"] / safe_items
    factors = [c for c in ("click_rate", "conversion_rate") if out[c].notna().any()]
    has_items = items.notna().any()
    score = pop.copy()
    for c in factors:
        score = score * out[c]
    if has_items:
        score = score / safe_items
    out["score"] = score
    out["score_basis"] = " × ".join(["搜索人气", *[_LABELS[c] for c in factors]]) + (
        " / 在线商品数" if has_items else "")
    failed = pd.Series("", index=out.index, dtype=object)

    def fail(mask: pd.Series, why: str) -> None:
        failed[mask] = failed[mask].where(failed[mask] == "", failed[mask] + "; ") + why

    fail(~(pop >= screens.min_popularity), f"搜索人气 < {screens.min_popularity:g}")
    if out["conversion_rate"].notna().any():
        fail(~(out["conversion_rate"] >= screens.min_conversion),
             f"支付转化率 < {screens.min_conversion:.1%}")
    if not screens.shop_is_tmall and out["tmall_click_share"].notna().any():
        fail(out["tmall_click_share"] > screens.max_tmall_share,
             f"商城点击占比 > {screens.max_tmall_share:.0%}")
    if has_items:
        fail(~(items >= screens.min_online_items), f"在线商品数 < {screens.min_online_items}")
    fail(out["is_new"] & ~out["is_breakout"], "new term, not yet broken out")
    out["screen_failed"] = failed
    out["passes_screens"] = failed.eq("") & score.notna()
    zero = out["zero_supply"]
    out.loc[zero, "data_note"] = (out.loc[zero, "data_note"] + "; ").str.lstrip("; ") + \
        "zero online items: demand/supply undefined"
    return out


# ------------------------------------------------------------------------------ core words

def _reasons(row: pd.Series, rank: int, n_pass: int) -> str:
    parts = [f"score {row['score']:.4g} (#{rank} of {n_pass} passing the screens; "
             f"{row['score_basis']})",
             f"搜索人气 {row['popularity_mean_daily']:,.0f} (mean daily)"]
    for col, fmt in (("click_rate", "点击率 {:.1%}"), ("conversion_rate", "支付转化率 {:.2%}"),
                     ("online_items", "在线商品数 {:,.0f}"), ("demand_supply", "需求供给比 {:.2f}"),
                     ("tmall_click_share", "商城点击占比 {:.0%}"), ("change_yoy", "vs last year {:+.0%}"),
                     ("seasonal_z", "seasonal z {:+.1f}")):
        if col in row and pd.notna(row[col]):
            parts.append(fmt.format(row[col]))
    return "; ".join(parts)


def core_keywords(scored: pd.DataFrame, segments: pd.DataFrame, n: int = 5,
                  runners_up: int = 5, pool: int = 300) -> pd.DataFrame:
    """Pick ``n`` diverse core keywords among the terms that pass the screens.

    Greedy maximal-marginal-relevance: at each step every remaining candidate's
    ``adjusted_score`` = score × (1 − its largest Jaccard overlap of segment sets with a term
    already picked), and the best is taken. Two spellings of one idea (same segments) overlap
    1.0 and score 0. The next ``runners_up`` by adjusted score are listed with why they lost.

    Returns
    -------
    DataFrame
        Columns of ``core_keywords.csv`` (module docstring).
    """
    cols = ["role", "rank", "keyword", "score", "score_basis", "adjusted_score", "max_overlap",
            "overlaps_with", "reasons", "popularity_mean_daily", "click_rate", "conversion_rate",
            "online_items", "demand_supply", "change_yoy", "seasonal_z"]
    cand = scored[scored["passes_screens"]].sort_values(
        ["score", "keyword"], ascending=[False, True]).head(pool)
    if cand.empty:
        return pd.DataFrame(columns=cols)
    seg = segments.set_index("keyword")["segments"]
    sets = segment_sets(seg.reindex(cand["keyword"]).fillna(cand["keyword"]).tolist())
    score = cand["score"].to_numpy(float)
    rank_of = {k: i + 1 for i, k in enumerate(cand["keyword"])}
    overlap = np.zeros(len(cand))
    closest = np.full(len(cand), "", dtype=object)
    free = np.ones(len(cand), dtype=bool)
    picked: list[tuple[int, float, float, str]] = []
    for _ in range(min(n + runners_up, len(cand))):
        adj = np.where(free, score * (1 - overlap), -np.inf)
        i = int(np.argmax(adj))
        picked.append((i, float(adj[i]), float(overlap[i]), str(closest[i])))
        free[i] = False
        if len(picked) <= n:  # only the core five steer the overlap penalty
            for j in np.flatnonzero(free):
                jac = jaccard(sets[i], sets[j])
                if jac > overlap[j]:
                    overlap[j], closest[j] = jac, cand["keyword"].iloc[i]
    rows = []
    n_pass = int(scored["passes_screens"].sum())
    for pos, (i, adj_score, ov, near) in enumerate(picked):
        row = cand.iloc[i]
        core = pos < n
        why = _reasons(row, rank_of[row["keyword"]], n_pass)
        if not core:
            why = (f"runner-up: shares {ov:.0%} of its words with {near}; " if ov > 0
                   else "runner-up: lower score; ") + why
        rows.append({"role": "core" if core else "runner_up", "rank": pos + 1,
                     "keyword": row["keyword"], "score": row["score"],
                     "score_basis": row["score_basis"], "adjusted_score": adj_score,
                     "max_overlap": ov, "overlaps_with": near, "reasons": why,
                     **{c: row.get(c, np.nan) for c in cols[9:]}})
    return pd.DataFrame(rows, columns=cols)


def rising_terms(metrics: pd.DataFrame) -> pd.DataFrame:
    """Terms called rising against their seasonal baseline, most unusual first."""
    return metrics[metrics["direction"] == "rising"].sort_values(
        "seasonal_z", ascending=False, ignore_index=True)


def falling_terms(metrics: pd.DataFrame) -> pd.DataFrame:
    """Terms called falling against their seasonal baseline, most unusual first."""
    return metrics[metrics["direction"] == "falling"].sort_values(
        "seasonal_z", ascending=True, ignore_index=True)


def new_terms(metrics: pd.DataFrame) -> pd.DataFrame:
    """New terms (first seen within the new-term window): breakouts first, then by level."""
    return metrics[metrics["is_new"]].sort_values(
        ["is_breakout", "popularity_mean_daily"], ascending=[False, False], ignore_index=True)


# -------------------------------------------------------------------------------- events

def event_weeks(panel: WeeklyPanel, keywords: list[str] | None = None, **kwargs: Any
                ) -> pd.DataFrame:
    """Weeks in which a term jumped or dropped against its trailing 8-week level.

    See :func:`research.analyses.keywords.stats.unusual_weeks` for the rule (keyword arguments pass through).

    Returns
    -------
    DataFrame
        ``keyword``, ``week``, ``week_start``, ``level``, ``ratio`` (to the trailing median
        level), ``z``, ``direction`` (up/down), ``seasonal`` (the same weeks rose alike a year
        earlier), sorted by keyword and week.
    """
    idx = np.arange(len(panel.terms))
    if keywords is not None:
        idx = np.flatnonzero(np.isin(panel.terms, np.asarray(keywords, dtype=object)))
    res = ks.unusual_weeks(panel.level[idx], **kwargs)
    ti, wi = np.nonzero(res["flag"])
    return pd.DataFrame({
        "keyword": panel.terms[idx][ti],
        "week": np.asarray(panel.week_labels, dtype=object)[wi],
        "week_start": panel.weeks[wi],
        "level": panel.level[idx][ti, wi],
        "ratio": res["ratio"][ti, wi],
        "z": res["z"][ti, wi],
        "direction": np.where(res["flag"][ti, wi] > 0, "up", "down"),
        "seasonal": res["seasonal"][ti, wi],
    })


# -------------------------------------------------------------------------------- analysis

def _notes(panel: WeeklyPanel, metrics: pd.DataFrame, screens: Screens,
           dictionary: SegmentDictionary | None, recent: int,
           vocabulary: Vocabulary | None = None) -> list[str]:
    notes = []
    m = len(panel.weeks)
    missing = [c for c in OPTIONAL_COLUMNS if c not in panel.available]
    if missing:
        names = ", ".join(f"{_LABELS[c]} ({c})" for c in missing)
        lost = "; ".join(filter(None, [
                         "demand/supply and the supply screen" if "online_items" in missing else "",
                         "the conversion screen" if "conversion_rate" in missing else "",
                         "the Tmall-share screen" if "tmall_click_share" in missing else "",
                         "the full opportunity score (the score uses the factors that exist)"
                         if {"online_items", "click_rate", "conversion_rate"} & set(missing)
                         else "",
                     ]))
        notes.append(f"Not in the data for the study week: {names}. Not computed: "
                     f"{lost or 'those columns stay empty in the tables'}.")
    if screens.shop_is_tmall:
        notes.append("Our shop is a Tmall shop: the Tmall click-share screen is not applied.")
    if m < 8:
        notes.append(f"Only {m} week(s) of history: no trend beyond what the weeks allow, "
                     "no seasonal comparison, no new-term detection.")
    elif m < 52 + recent + 8:
        notes.append(f"{m} weeks of history (under a year plus {recent + 8} weeks): seasonality "
                     "cannot be taken from last year's same weeks.")
    rules = metrics["seasonal_rule"].value_counts()
    for rule, text in (("yoy", "against the same weeks last year (robust z of the weekly "
                                "log-ratio to last year)"),
                       ("category", "against the category's common weekly movement (no prior "
                                    "year for the term: the median movement of complete terms "
                                    "stands in for the season)"),
                       ("own", "against the term's own recent level — the season is NOT "
                               "removed (too few terms to estimate the category's movement)")):
        if rules.get(rule, 0):
            notes.append(f"{int(rules[rule]):,} term(s) judged {text}.")
    heads = vocabulary.core if vocabulary is not None else []
    brands = vocabulary.kinds.get("brand", []) if vocabulary is not None else []
    found = (f"核心词 · head words {'、'.join(heads[:8])}{' …' if len(heads) > 8 else ''}; "
             f"品牌 · brands {'、'.join(brands[:8]) or 'none'}{' …' if len(brands) > 8 else ''}")
    if dictionary is None and heads:
        notes.append(f"没有分词词典 · no segmentation dictionary for {panel.category!r} "
                     f"(templates/dictionaries/{panel.category}.yaml): head words, brands and "
                     f"modifiers were found from the terms and listings themselves ({found}); "
                     "modifiers are of a generic kind (修饰词) except numbers with a unit (规格/容量).")
    elif dictionary is None:
        notes.append(f"No segmentation dictionary for {panel.category!r} "
                     f"(templates/dictionaries/{panel.category}.yaml) and no head word the terms "
                     "share: terms are split into words only; no core/modifier kinds.")
    elif vocabulary is not None:
        notes.append(f"词典 {dictionary.source} refines what the data shows ({found}): its words "
                     "keep the dictionary's kinds; the words it does not list keep the data's.")
    weekly = panel.days.max() <= 1 if panel.days.size else False
    if weekly:
        notes.append("The source has at most one row per week (a weekly export): the weekly "
                     "level is that row's value.")
    if len(panel.terms) == 1:
        notes.append("A single-term export: shares, screens against other terms and the "
                     "diversity of the core keywords are trivial.")
    return notes


def analyse(source: str | os.PathLike[str] | pd.DataFrame | None, category: str = "",
            week: str = "", screens: Screens | None = None, *, recent_weeks: int = 4,
            trend_weeks: int = 13, z_threshold: float = 3.0, min_excess: float = 0.15,
            new_weeks: int = 13, history_weeks: int = 156, n_core: int = 5,
            sustained_ratio: float = 1.5,
            dictionary: str | os.PathLike[str] | None = None,
            event_terms: int | None = 50, listings: pd.DataFrame | None = None) -> KeywordReport:
    """Run the whole keyword analysis for one category and study week.

    Parameters
    ----------
    source : path-like, DataFrame or None
        Warehouse file or canonical keyword rows (see
        :func:`~research.analyses.keywords.panel.load_panel`).
    category, week : str
        The category and the study week (the scope's on the page path); both required.
    screens : Screens, optional
        Screening rules; defaults to :class:`Screens`.
    recent_weeks, trend_weeks, z_threshold, min_excess, new_weeks, sustained_ratio :
        See :func:`term_metrics`.
    history_weeks : int
        Weeks of history read.
    n_core : int
        Core keywords to pick.
    dictionary : path-like, optional
        Segmentation dictionary file or folder (default ``templates/dictionaries``).
    event_terms : int or None
        Unusual weeks are listed for this many top terms by level (None = all).
    listings : DataFrame, optional
        ``title`` and ``shop`` of the category's listings, for recognising brands; by default
        read from the warehouse's ``items`` (snapshots up to the study week), none for a frame.

    Returns
    -------
    KeywordReport
    """
    screens = screens or Screens()
    panel = load_panel(source, category, week, history_weeks)
    metrics = term_metrics(panel, recent_weeks, trend_weeks, z_threshold, min_excess, new_weeks,
                           sustained_ratio=sustained_ratio)
    diction = load_dictionary(panel.category, dictionary)
    vocabulary = category_vocabulary(panel, diction, load_listings(source, category, week)
                                     if listings is None else listings)
    segments = segment_terms(panel.terms, diction, vocabulary)
    metrics = segments.drop(columns=["other_words"]).merge(metrics, on="keyword", how="right")
    scored = score_terms(metrics, panel.attrs, screens)
    shares = modifier_shares(panel, segments)
    scored = scored[[c for c in METRIC_COLUMNS if c in scored.columns]
                    + [c for c in scored.columns if c not in METRIC_COLUMNS]]
    top = scored.sort_values("popularity_mean_daily", ascending=False)["keyword"]
    events = event_weeks(panel, None if event_terms is None else top.head(event_terms).tolist())
    return KeywordReport(
        panel=panel, metrics=scored, segments=segments, style_terms=shares,
        modifier_change=modifier_changes(shares, recent_weeks),
        core=core_keywords(scored, segments, n_core), events=events,
        notes=_notes(panel, scored, screens, diction, recent_weeks, vocabulary),
        dictionary=diction.source if diction else "", screens=screens, vocabulary=vocabulary)


def category_vocabulary(panel: WeeklyPanel, dictionary: SegmentDictionary | None,
                        listings: pd.DataFrame) -> Vocabulary:
    """The category's head words, brands and modifiers found from its terms (weighted by each
    term's mean weekly level over the history) and listings, the dictionary's words kept whole
    and its modifiers never taken for head words (see :mod:`research.analyses.keywords.vocab`)."""
    with np.errstate(all="ignore"):
        weights = np.nan_to_num(np.nanmean(panel.level, axis=1)) if panel.level.size else None
    titles = listings["title"].astype(str).tolist() if len(listings) else []
    shops = listings["shop"].astype(str).tolist() if len(listings) else []
    keep = dictionary.words if dictionary is not None else []
    modifiers = [w for ws in dictionary.kinds.values() for w in ws] if dictionary is not None else []
    return infer_vocabulary([str(t) for t in panel.terms], weights, panel.category, titles, shops,
                            keep=keep, exclude_heads=modifiers)
