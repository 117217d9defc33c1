"""Charts of the forecast page (:mod:`research.analyses.forecast.page`): our shop's weekly
history, backtest forecasts and outlook with its ranges, and the category's trade index.

Each function returns a matplotlib figure (``None`` when there is nothing to draw); the
notebook calls :func:`research.pages.charts.use_chinese_font` first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from research.analyses.forecast.page import ForecastPage
from research.pages.display import currency_symbol

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_outlook", "plot_trade_index"]

_TITLES = {"units": "销量 units", "revenue": "销售额 revenue", "profit": "利润 profit"}


def plot_outlook(page: ForecastPage, metrics: tuple[str, ...] = ("units", "revenue", "profit")
                 ) -> Figure | None:
    """History, the backtest forecasts and the outlook with its ranges, one panel a metric."""
    import matplotlib.pyplot as plt

    if page.outlook is None:
        return None
    lv = page.levels
    fig, axes = plt.subplots(len(metrics), 1, figsize=(11, 3.4 * len(metrics)), sharex=True,
                             squeeze=False)
    for ax, metric in zip(axes[:, 0], metrics, strict=True):
        hist = page.history_profit() if metric == "profit" else page.weekly[metric]
        ax.plot(hist.index, hist.values, color="0.3", lw=1, label="历史 history")
        fits = page.outlook.fits[page.outlook.fits["series"] == metric]
        for i, (_, g) in enumerate(fits.groupby("origin")):
            ax.plot(g["date"], g["point"], color="tab:orange", lw=0.8, alpha=0.7,
                    label="回测预测 backtest forecasts" if i == 0 else None)
        g = page.outlook.forecast[page.outlook.forecast["series"] == metric]
        ax.fill_between(g["date"], g[f"lo{lv[-1]}"], g[f"hi{lv[-1]}"], color="tab:blue",
                        alpha=0.15, label=f"{lv[-1]} %")
        ax.fill_between(g["date"], g[f"lo{lv[0]}"], g[f"hi{lv[0]}"], color="tab:blue",
                        alpha=0.3, label=f"{lv[0]} %")
        ax.plot(g["date"], g["point"], color="tab:blue", lw=2, label="预测 forecast")
        unit = f" ({currency_symbol(page.scope.currency).strip()})" if metric != "units" else ""
        ax.set_title(f"{_TITLES.get(metric, metric)}{unit} · per week")
        ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def plot_trade_index(page: ForecastPage) -> Figure | None:
    """The category's weekly average daily trade index and its forecast."""
    import matplotlib.pyplot as plt

    r = page.trade_forecast
    if r is None:
        return None
    lv = page.levels
    fig, ax = plt.subplots(figsize=(11, 3.5))
    ax.plot(page.trade_index["week"], page.trade_index["value"], color="0.3", lw=1,
            label="历史 history")
    ax.fill_between(r.forecast["date"], r.forecast[f"lo{lv[0]}"], r.forecast[f"hi{lv[0]}"],
                    alpha=0.3, label=f"{lv[0]} %")
    ax.plot(r.forecast["date"], r.forecast["point"], lw=2, label=f"预测 forecast ({r.model})")
    ax.set_title(f"{page.scope.category} 交易指数 · weekly average of the daily trade index")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
