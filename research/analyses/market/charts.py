"""Charts of the market overview report: the weekly trend, this year against last, the
seasonal index, concentration, the leaders' shares, who buys, the hour × weekday heatmap and
the regional ranking. Each takes the frames of a
:class:`~research.analyses.market.overview.MarketOverview` and returns a figure; labels are
Chinese first, drawn with the bundled CJK font (:func:`research.pages.charts.use_chinese_font`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from research.pages.charts import use_chinese_font
from research.pages.display import currency_symbol

__all__ = ["trend_chart", "year_over_year_chart", "seasonal_chart", "concentration_chart",
           "leaders_share_chart", "audience_chart", "peak_hours_chart", "regions_chart"]

WEEKDAYS = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"]
#: trend columns that are money (their axis carries the currency)
MONEY_COLUMNS = ("payment_amount_sum",)


@cache
def _font() -> str:
    return use_chinese_font()


def trend_chart(trend: pd.DataFrame, columns: Sequence[str], category: str,
                currency: str = "CNY") -> Figure:
    """The weekly trend of up to three metrics (``columns`` of ``market_trend``), one panel
    each; a money metric's axis names its currency (the scope's)."""
    _font()
    cols = list(columns)[:3]
    fig, axes = plt.subplots(len(cols), 1, figsize=(10, 2.6 * len(cols)), sharex=True,
                             squeeze=False)
    for ax, col in zip(axes[:, 0], cols, strict=True):
        ax.plot(trend["week_start"], trend[col])
        ax.set_ylabel(f"{col} ({currency_symbol(currency).strip()})" if col in MONEY_COLUMNS
                      else col)
    axes[0, 0].set_title(f"{category} 周趋势 · weekly trend")
    fig.tight_layout()
    return fig


def year_over_year_chart(yoy: pd.DataFrame, metric: str) -> Figure:
    """This ISO year against last year by week number (:func:`~research.analyses.market.overview.year_over_year`)."""
    _font()
    this, prev = yoy.attrs["years"]
    fig, ax = plt.subplots(figsize=(10, 3.5))
    ax.plot(yoy["week_num"], yoy["last_year"], label=f"{prev}", color="grey")
    ax.plot(yoy["week_num"], yoy["this_year"], label=f"{this}", color="C3")
    ax.set_xlabel("ISO 周 · week of year")
    ax.set_ylabel(metric)
    ax.set_title("今年 vs 去年 · this year against last year")
    ax.legend()
    return fig


def seasonal_chart(seasonal: pd.DataFrame) -> Figure:
    """The seasonal index by week of the year (red: above an average week)."""
    _font()
    fig, ax = plt.subplots(figsize=(10, 2.8))
    ax.bar(seasonal["week_num"], seasonal["seasonal_index"],
           color=["C3" if v >= 1 else "C0" for v in seasonal["seasonal_index"]])
    ax.axhline(1, color="black", linewidth=0.8)
    ax.set_xlabel("ISO 周 · week of year")
    ax.set_title("季节性 · seasonal index (1 = an average week)")
    return fig


def concentration_chart(conc: pd.DataFrame) -> Figure:
    """CR3 and CR10 (left axis) and HHI (right axis, 0–10,000) by snapshot."""
    _font()
    fig, ax1 = plt.subplots(figsize=(10, 3.2))
    ax1.plot(conc["snapshot_date"], conc["cr3"], marker="o", label="CR3")
    ax1.plot(conc["snapshot_date"], conc["cr10"], marker="o", label="CR10")
    ax1.set_ylabel("share of 30-day units")
    ax2 = ax1.twinx()
    ax2.plot(conc["snapshot_date"], conc["hhi"], marker="s", color="C3", label="HHI")
    ax2.set_ylabel("HHI (0–10,000)")
    ax2.grid(False)
    fig.legend(loc="upper left")
    ax1.set_title("集中度 · concentration")
    return fig


def leaders_share_chart(lead: pd.DataFrame) -> Figure:
    """Each leader's share of 30-day units by snapshot (``leaders.csv``)."""
    _font()
    pivot = lead.pivot_table(index="snapshot_date", columns="shop", values="sales_share")
    fig, ax = plt.subplots(figsize=(10, 3.5))
    pivot.plot(ax=ax, marker="o")
    ax.set_ylabel("share of 30-day units")
    ax.set_title("龙头份额 · leaders' share")
    ax.legend(bbox_to_anchor=(1.01, 1), loc="upper left", fontsize=8)
    return fig


def audience_chart(parts: Sequence[tuple[str, pd.DataFrame]]) -> Figure:
    """One horizontal bar panel per audience dimension: the latest shares, the previous
    snapshot's as a tick."""
    _font()
    fig, axes = plt.subplots(1, len(parts), figsize=(3.4 * len(parts), 3.2), squeeze=False)
    for ax, (dim, part) in zip(axes[0], parts, strict=True):
        ax.barh(part["segment"].astype(str), part["share"], label="latest", color="C0")
        if part["prev_share"].notna().any():
            ax.scatter(part["prev_share"], part["segment"].astype(str), color="black",
                       marker="|", s=200, label="previous")
        ax.set_title(dim)
        ax.invert_yaxis()
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def peak_hours_chart(grid: pd.DataFrame) -> Figure:
    """Heatmap of the share of buyers by hour × weekday (``peak_hours.csv``), its method in
    the title."""
    _font()
    heat = grid.pivot_table(index="weekday", columns="hour", values="share").rename(
        index=dict(enumerate(WEEKDAYS, start=1)))
    fig, ax = plt.subplots(figsize=(12, 3.6))
    sns.heatmap(heat, cmap="Reds", ax=ax, cbar_kws={"label": "share of buyers"})
    ax.set_title(f"成交高峰 · buyers by hour × weekday ({grid['method'].iloc[0]})")
    ax.set_xlabel("小时 · hour")
    ax.set_ylabel("")
    ax.tick_params(axis="y", rotation=0)
    return fig


def regions_chart(regions: pd.DataFrame, top: int = 15) -> Figure:
    """Ranked bars of the ``top`` provinces and cities by share of buyers (``regions.csv``)."""
    _font()
    levels = [lv for lv in ("province", "city") if lv in set(regions["level"])]
    fig, axes = plt.subplots(1, len(levels), figsize=(6 * len(levels), 5), squeeze=False)
    for ax, level in zip(axes[0], levels, strict=True):
        part = regions[regions["level"] == level].head(top)
        ax.barh(part["segment"].astype(str), part["share"], color="C0")
        ax.invert_yaxis()
        ax.set_title(f"{'省份' if level == 'province' else '城市'} · {level} (share of buyers)")
    fig.tight_layout()
    return fig
