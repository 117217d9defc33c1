"""Charts of the keyword-trends report (used by ``notebooks/keyword_trends.ipynb``).

Each function takes results of :mod:`research.analyses.keywords.analysis` and returns a matplotlib figure; the
notebook calls :func:`research.pages.charts.use_chinese_font` first and ``plt.show()`` after. Axis
labels say what the numbers are: weekly levels are the mean of the daily index, shares are
shares of a summed index.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from research.analyses.keywords.analysis import KeywordReport, event_weeks

__all__ = ["small_multiples", "modifier_heatmap", "growth_vs_competition", "event_chart"]


def small_multiples(report: KeywordReport, n: int = 12, ncols: int = 4) -> Figure:
    """Weekly series (mean daily 搜索人气) of the ``n`` biggest terms in the study week, with
    the same weeks a year earlier dashed where the history has them."""
    panel = report.panel
    top = report.metrics.nlargest(n, "popularity_mean_daily")["keyword"].tolist()
    rows = max(1, math.ceil(len(top) / ncols))
    fig, axes = plt.subplots(rows, ncols, figsize=(3.2 * ncols, 2.3 * rows), sharex=True,
                             squeeze=False)
    index = {t: i for i, t in enumerate(panel.terms)}
    weeks = panel.weeks
    show = min(len(weeks), 52)
    for ax, term in zip(axes.ravel(), top, strict=False):
        series = panel.level[index[term]]
        ax.plot(weeks[-show:], series[-show:], color="C0", lw=1.5, label="this year")
        if len(weeks) >= 52 + show:
            ax.plot(weeks[-show:], series[-show - 52:-52], color="C7", lw=1, ls="--",
                    label="52 weeks earlier")
        ax.set_title(term, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(top):]:
        ax.set_visible(False)
    fig.supylabel("搜索人气, mean of daily index per week", fontsize=8)
    fig.suptitle(f"Top {len(top)} terms, weekly level (dashed: same weeks a year earlier)",
                 fontsize=10)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def modifier_heatmap(report: KeywordReport, weeks: int = 52, top: int = 24) -> Figure:
    """Modifier × week heatmap: each modifier's share of the category's summed daily index,
    relative to its own mean share over the weeks shown (so gains and losses stand out).

    Rows are the ``top`` modifiers with the largest change in
    :attr:`KeywordReport.modifier_change` (gainers first, then losers); the mean share itself
    is in the row label.
    """
    import seaborn as sns

    shares = report.style_terms
    change = report.modifier_change
    if shares.empty or change.empty:
        fig, ax = plt.subplots(figsize=(6, 1.5))
        ax.text(0.5, 0.5, "no modifiers found", ha="center", va="center")
        ax.set_axis_off()
        return fig
    order = change.reindex(change["change_pp"].abs().sort_values(ascending=False).index)
    order = order.head(top).sort_values("change_pp", ascending=False)
    wide = shares.pivot_table(index=["modifier_kind", "modifier"], columns="week",
                              values="index_share", aggfunc="first").iloc[:, -weeks:]
    wide = wide.loc[list(zip(order["modifier_kind"], order["modifier"], strict=True))]
    mean = wide.mean(axis=1)
    rel = (wide.div(mean, axis=0) - 1) * 100
    rel.index = [f"{k}: {v} ({s:.1%})" for (k, v), s in zip(wide.index, mean, strict=True)]
    fig, ax = plt.subplots(figsize=(12, 0.3 * len(rel) + 2))
    lim = float(np.nanmax(np.abs(rel.to_numpy()))) if rel.size else 1.0
    sns.heatmap(rel, ax=ax, cmap="RdBu_r", center=0, vmin=-lim, vmax=lim, linewidths=0.1,
                cbar_kws={"label": "share vs its own mean over these weeks, %"})
    ax.set_xlabel("ISO week")
    ax.set_ylabel("modifier (mean share of the summed daily index)")
    ax.set_title("Modifier share of the category's summed daily 搜索人气 (an index sum, not "
                 "searches), relative to its mean — biggest gainers on top, losers below",
                 fontsize=10)
    fig.tight_layout()
    return fig


def growth_vs_competition(report: KeywordReport, label: int = 6) -> Figure:
    """Growth (against the seasonal baseline) vs competition (在线商品数), bubble = level.

    Falls back to growth vs level when the data has no 在线商品数. Core keywords are ringed
    and labelled, terms failing the screens are grey.
    """
    m = report.metrics.copy()
    growth_col = "seasonal_excess" if m["seasonal_excess"].notna().any() else "change_4w"
    has_items = m["online_items"].notna().any()
    xcol = "online_items" if has_items else "popularity_mean_daily"
    m = m[m[xcol].notna() & m[growth_col].notna() & (m[xcol] > 0)]
    fig, ax = plt.subplots(figsize=(9, 6))
    if m.empty:
        ax.text(0.5, 0.5, "nothing to plot: no growth or competition figures", ha="center")
        ax.set_axis_off()
        return fig
    size = 15 + 300 * np.sqrt(m["popularity_mean_daily"] / m["popularity_mean_daily"].max())
    colour = np.where(m["passes_screens"], "C0", "0.75")
    ax.scatter(m[xcol], m[growth_col] * 100, s=size, c=colour, alpha=0.6, edgecolors="none")
    core = report.core[report.core["role"] == "core"]["keyword"] if len(report.core) else []
    picks = m[m["keyword"].isin(list(core))]
    ax.scatter(picks[xcol], picks[growth_col] * 100, s=size[picks.index] + 40,
               facecolors="none", edgecolors="C3", lw=1.5, label="core keyword")
    tops = pd.concat([picks, m.nlargest(label, "popularity_mean_daily")]).drop_duplicates("keyword")
    for _, r in tops.iterrows():
        ax.annotate(str(r["keyword"]), (r[xcol], r[growth_col] * 100), fontsize=8,
                    xytext=(4, 3), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("symlog", linthresh=50)
    ax.axhline(0, color="0.4", lw=0.8)
    ax.set_xlabel("在线商品数 (competing items, log scale)" if has_items
                  else "搜索人气, mean daily index (no 在线商品数 in the data)")
    ax.set_ylabel("growth vs seasonal baseline, % (linear to ±50, log beyond)"
                  if growth_col == "seasonal_excess" else "change over 4 weeks, % (symlog)")
    ax.set_title("Growth against competition (grey: fails the screens; ring: core keyword; "
                 "bubble: level)", fontsize=10)
    if len(picks):
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def event_chart(report: KeywordReport, keywords: list[str] | None = None, n: int = 4) -> Figure:
    """Weekly series of terms with their unusual weeks marked (triangles; hollow = seasonal)."""
    panel = report.panel
    if keywords is None:
        keywords = report.metrics.nlargest(n, "popularity_mean_daily")["keyword"].tolist()
    keywords = [k for k in keywords if k in set(panel.terms)]
    if not keywords:
        fig, ax = plt.subplots(figsize=(6, 1.5))
        ax.text(0.5, 0.5, "no terms to show", ha="center", va="center")
        ax.set_axis_off()
        return fig
    fig, axes = plt.subplots(len(keywords), 1, figsize=(11, 2.4 * max(1, len(keywords))),
                             squeeze=False, sharex=True)
    index = {t: i for i, t in enumerate(panel.terms)}
    ev = event_weeks(panel, keywords)
    for ax, term in zip(axes[:, 0], keywords, strict=False):
        ax.plot(panel.weeks, panel.level[index[term]], color="C0", lw=1.2)
        e = ev[ev["keyword"] == term]
        for seasonal, face in ((False, "C3"), (True, "none")):
            sub = e[e["seasonal"] == seasonal]
            for direction, marker in (("up", "^"), ("down", "v")):
                d = sub[sub["direction"] == direction]
                ax.scatter(d["week_start"], d["level"], marker=marker, s=45, facecolors=face,
                           edgecolors="C3", zorder=3)
        ax.set_title(term, fontsize=9)
        ax.set_ylabel("mean daily index", fontsize=8)
    fig.suptitle("Unusual weeks against the trailing 8 weeks (filled: event; hollow: the same "
                 "weeks rose a year earlier too)", fontsize=10)
    fig.tight_layout()
    return fig
