"""Charts of the price-band report: the price distribution, the band chart with our and the
competitors' listings, and band shares by snapshot. Each takes a
:class:`~research.analyses.prices.result.PriceStudy` and returns a figure."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from research.pages.display import currency_symbol
from research.price_points import band_labels

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from research.analyses.prices.result import PriceStudy

__all__ = ["plot_distribution", "plot_bands", "plot_movement"]


# ----------------------------------------------------------------------------- charts
def plot_distribution(study: PriceStudy) -> Figure:
    """Listing vs units- and revenue-weighted price distributions on the study snapshot
    (log price axis, band edges as dashed lines)."""
    import matplotlib.pyplot as plt

    d = study.distribution
    fig, ax = plt.subplots(figsize=(10, 4))
    mids = np.sqrt(d["bin_lo"] * d["bin_hi"])
    for col, label in (("listing_share", "在售商品 listings"), ("units_share", "销量 units"),
                       ("revenue_share", "销售额 revenue")):
        ax.step(mids, d[col], where="mid", label=label)
    for e in study.edges:
        ax.axvline(e, color="grey", ls="--", lw=0.7)
    ax.set_xscale("log")
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    if study.edges:  # ticks at the band edges, in plain numbers rather than 2×10¹
        ax.xaxis.set_major_locator(FixedLocator(study.edges))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:,.6g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(f"价格 price ({currency_symbol(study.currency).strip()}, log scale; ticks at "
                  "band edges)")
    ax.set_ylabel("占比 share")
    ax.legend()
    ax.set_title(f"价格分布 · price distribution, {study.snapshot.date()}")
    fig.tight_layout()
    return fig


def plot_bands(study: PriceStudy) -> Figure:
    """Band chart (listing / units / revenue share per band, demand per listing on a second
    axis) with our and the competitors' listings as a strip chart above it."""
    import matplotlib.pyplot as plt

    b = study.study_bands
    pos = study.positions
    fig, (top, ax) = plt.subplots(2, 1, figsize=(11, 7), sharex=True,
                                  gridspec_kw={"height_ratios": [1.2, 2]})
    x = np.arange(len(b))
    w = 0.27
    ax.bar(x - w, b["listing_share"], w, label="在售商品占比 listing share")
    ax.bar(x, b["units_share"], w, label="销量占比 units share")
    ax.bar(x + w, b["revenue_share"], w, label="销售额占比 revenue share")
    ax.set_ylabel("占比 share")
    ax.set_xticks(x, b["band_label"], rotation=30)
    ax.set_xlabel(f"价格带 price band ({currency_symbol(study.currency).strip()})")
    ax2 = ax.twinx()
    ax2.plot(x, b["demand_per_listing"], "ko-", label="单品需求 demand per listing")
    ax2.axhline(1, color="k", lw=0.6, ls=":")
    ax2.set_ylabel("demand per listing (1 = category)")
    ax2.grid(False)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    if not pos.empty:
        shops = list(dict.fromkeys(pos["shop"]))
        rng = np.random.default_rng(0)
        for i, shop in enumerate(shops):
            rows = pos[pos["shop"] == shop]
            jitter = rng.uniform(-0.35, 0.35, len(rows))
            size = 15 + 85 * np.sqrt(rows["sales_30d"] / max(pos["sales_30d"].max(), 1))
            top.scatter(rows["band"] + jitter, np.full(len(rows), i), s=size,
                        marker="D" if shop == study.shop else "o", alpha=0.7)
        top.set_yticks(range(len(shops)),
                       [f"{s} (本店)" if s == study.shop else s for s in shops])
        top.set_title("本店与竞品的商品位置 · our and competitors' listings (size = 30-day sales)")
    else:
        top.set_title("no listings of our shop or competitors on this snapshot")
    fig.tight_layout()
    return fig


def plot_movement(study: PriceStudy) -> Figure:
    """Units share of each band on each snapshot up to the study snapshot."""
    import matplotlib.pyplot as plt

    piv = study.bands.pivot(index="snapshot_date", columns="band_label", values="units_share")
    piv = piv[[lab for lab in band_labels(study.edges) if lab in piv.columns]]
    fig, ax = plt.subplots(figsize=(10, 4))
    x = np.arange(len(piv))
    for col in piv.columns:
        ax.plot(x, piv[col].to_numpy(), marker="o", label=col)
    ax.set_xticks(x, [d.strftime("%Y-%m-%d") for d in piv.index], rotation=30)
    ax.set_ylabel("销量占比 units share")
    ax.set_xlabel("snapshot")
    ax.set_title("价格带变化 · band units share by snapshot")
    ax.legend(title="price band", fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig
