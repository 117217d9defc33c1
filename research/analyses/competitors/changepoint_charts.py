"""Charts of the change-point events of :mod:`research.analyses.competitors.changepoints`: a timeline of every
shop · channel move, and the daily series with the largest level events, breaks marked.

Both functions take the events table of
:func:`research.analyses.competitors.changepoints.detect_moves` and return a matplotlib
figure; the notebook calls :func:`research.pages.charts.use_chinese_font` first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from research.analyses.competitors.changepoints import CHANNEL_LABELS, daily_matrix

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_timeline", "plot_event_series"]


_MARKERS = {"start": ("^", "tab:green"), "step up": ("^", "tab:olive"),
            "drop": ("v", "tab:red"), "step down": ("v", "tab:orange"),
            "mix shift": ("D", "tab:purple")}


def plot_timeline(events: pd.DataFrame, start: pd.Timestamp | None = None,
                  end: pd.Timestamp | None = None, title: str = "") -> Figure:
    """Timeline of moves: one row per shop · channel, a marker per event (▲ start / step
    up, ▼ drop / step down, ◆ mix shift), labelled with the change in average daily UV."""
    import matplotlib.pyplot as plt

    ev = events.sort_values(["shop", "channel", "date"])
    rows = list(dict.fromkeys(zip(ev["shop"], ev["channel_label"], strict=True)))
    fig, ax = plt.subplots(figsize=(11, max(2.0, 0.45 * len(rows) + 1.2)))
    pos = {r: i for i, r in enumerate(rows)}
    for kind, (marker, color) in _MARKERS.items():
        sel = ev[ev["kind"] == kind]
        if sel.empty:
            continue
        y = [pos[(s, c)] for s, c in zip(sel["shop"], sel["channel_label"], strict=True)]
        ax.scatter(sel["date"], y, marker=marker, color=color, s=70, label=kind, zorder=3)
        for d, yy, ch in zip(sel["date"], y, sel["change"], strict=True):
            if pd.notna(ch):
                ax.annotate(f"{ch:+,.0f}", (d, yy), xytext=(4, 5), textcoords="offset points",
                            fontsize=7)
    ax.set_yticks(range(len(rows)), [f"{s} · {c}" for s, c in rows])
    ax.invert_yaxis()
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if start is not None and end is not None:
        ax.set_xlim(start, end)
    ax.set_xlabel("日期 date")
    ax.set_title(title or "竞品动作时间线 · moves (change in average daily UV)")
    if len(ev):
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.tight_layout()
    return fig


def plot_event_series(traffic: pd.DataFrame, events: pd.DataFrame, max_panels: int = 6,
                      start: pd.Timestamp | None = None,
                      end: pd.Timestamp | None = None) -> Figure | None:
    """Daily UV of the shop · channels with the largest level events, breaks marked."""
    import matplotlib.pyplot as plt

    lv = events[events["kind"] != "mix shift"]
    if lv.empty:
        return None
    order = (lv.assign(a=lv["change"].abs()).groupby(["shop", "channel"])["a"].max()
             .sort_values(ascending=False).head(max_panels).index.tolist())
    wide = daily_matrix(traffic[traffic["shop"].isin({s for s, _ in order})], start, end)
    fig, axes = plt.subplots(len(order), 1, figsize=(11, 2.1 * len(order)), sharex=True,
                             squeeze=False)
    for ax, (shop, channel) in zip(axes[:, 0], order, strict=True):
        if (shop, channel) in wide.columns:
            ax.plot(wide.index, wide[(shop, channel)], lw=0.8, color="tab:blue")
        for r in lv[(lv["shop"] == shop) & (lv["channel"] == channel)].itertuples():
            ax.axvline(r.date, color=_MARKERS[r.kind][1], ls="--", lw=1)
            ax.text(r.date, ax.get_ylim()[1] * 0.9, f" {r.kind} {r.date:%m-%d}", fontsize=7)
        ax.set_ylabel("UV/日")
        ax.set_title(f"{shop} · {CHANNEL_LABELS.get(channel, channel)}", fontsize=9)
    fig.tight_layout()
    return fig
