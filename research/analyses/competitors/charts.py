"""Charts of the competitor report (:mod:`research.analyses.competitors.page`): channel structure, share
of the competitive set, and where each shop is heading."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from research.analyses.competitors.changepoints import CHANNEL_LABELS
from research.store.schema import CHANNELS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_structure", "plot_set_share", "plot_heading"]


def plot_structure(channels: pd.DataFrame, week: str) -> Figure | None:
    """Channel shares (left) and average daily UV by channel (right) of each shop in ``week``,
    ours first."""
    import matplotlib.pyplot as plt

    w = channels[channels["week"] == week]
    if w.empty:
        return None
    shops = list(dict.fromkeys(w.sort_values("role", ascending=False)["shop"]))
    share = w.pivot_table(index="shop", columns="channel", values="share", aggfunc="sum")
    level = w.pivot_table(index="shop", columns="channel", values="uv_avg_daily", aggfunc="sum")
    order = [c for c in CHANNELS if c in share.columns]
    share, level = share.reindex(index=shops, columns=order), level.reindex(index=shops,
                                                                           columns=order)
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.5 * len(shops) + 2), sharey=True)
    tab10 = plt.get_cmap("tab10")  # tab10(k): its k-th colour (RGBA)
    for ax, frame, label in ((axes[0], share, "访客占比 share of the shop's daily UV"),
                             (axes[1], level, "日均访客 average daily UV")):
        left = np.zeros(len(shops))
        for i, c in enumerate(order):
            vals = frame[c].fillna(0).to_numpy()
            ax.barh(range(len(shops)), vals, left=left, color=tab10(i % 10),
                    label=CHANNEL_LABELS.get(c, c))
            left += vals
        ax.set_xlabel(label)
    axes[0].set_yticks(range(len(shops)), shops)
    axes[0].invert_yaxis()
    axes[1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.suptitle(f"流量结构 · traffic structure, {week}")
    fig.tight_layout()
    return fig



def plot_set_share(share: pd.DataFrame) -> Figure | None:
    """Each shop's share of the set's daily UV, week by week."""
    import matplotlib.pyplot as plt

    if share.empty:
        return None
    fig, ax = plt.subplots(figsize=(11, 3.8))
    for (shop, role), g in share.groupby(["shop", "role"]):
        ax.plot(g["week_start"], g["uv_share"], lw=2.5 if role == "ours" else 1.2,
                label=f"{shop}{'（我们）' if role == 'ours' else ''}")
    ax.set_ylabel("访客份额 share of the set's UV")
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax.set_title("竞争集访客份额 · share of the competitive set's visitors")
    fig.tight_layout()
    return fig



def plot_heading(head: pd.DataFrame, max_shops: int = 6) -> Figure | None:
    """Total and paid average daily UV: the weeks used and the trend ahead with its interval."""
    import matplotlib.pyplot as plt

    if head.empty:
        return None
    shops = list(dict.fromkeys(head.sort_values("role", ascending=False)["shop"]))[:max_shops]
    fig, axes = plt.subplots(len(shops), 1, figsize=(10, 2.2 * len(shops)), squeeze=False)
    for ax, shop in zip(axes[:, 0], shops, strict=True):
        for series, color in (("total", "tab:blue"), ("paid", "tab:red")):
            g = head[(head["shop"] == shop) & (head["series"] == series)]
            act, fc = g[g["kind"] != "forecast"], g[g["kind"] == "forecast"]
            ax.plot(act["week_start"], act["uv_avg_daily"], color=color, marker="o", ms=3,
                    label=f"{'全部 total' if series == 'total' else '付费 paid'}")
            skipped = act[act["kind"] != "actual"]
            ax.scatter(skipped["week_start"], skipped["uv_avg_daily"], s=40, facecolors="white",
                       edgecolors=color, zorder=3)
            if len(fc):
                ax.plot(fc["week_start"], fc["uv_avg_daily"], color=color, ls="--")
                ax.fill_between(fc["week_start"], fc["lo"], fc["hi"], color=color, alpha=0.15)
        d = head[(head["shop"] == shop) & (head["series"] == "total")]["direction"].dropna()
        ax.set_title(f"{shop} — total {d.iloc[0] if len(d) else 'n/a'}", fontsize=9)
        ax.set_ylabel("日均UV")
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig
