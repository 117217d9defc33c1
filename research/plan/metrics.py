"""The plan's metric lists and derived ratios, shared by :mod:`research.plan.operating`,
:mod:`research.plan.tracking` and :mod:`research.plan.xlsx`.

Examples
--------
>>> import pandas as pd
>>> week = pd.DataFrame({"revenue": [900.0], "buyers": [10], "uv_sum_daily": [700.0],
...                      "days": [7], "ad_spend": [300.0]})
>>> add_ratios(week)[["aov", "conversion", "uv_avg_daily", "roi"]].values.tolist()
[[90.0, 0.014285714285714285, 100.0, 3.0]]
"""

from __future__ import annotations

import pandas as pd

__all__ = ["PLAN_METRICS", "MONEY_METRICS", "add_ratios"]

#: additive plan metrics (split over days, summed over weeks and months)
PLAN_METRICS = ["units", "revenue", "cost", "ad_spend", "refunds", "platform_fees", "profit",
                "buyers", "uv_sum_daily"]
MONEY_METRICS = ["revenue", "cost", "ad_spend", "refunds", "platform_fees", "profit"]


def add_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with the ratios its additive columns allow: ``aov`` = revenue ÷
    buyers, ``conversion`` = buyers ÷ summed daily UV, ``uv_avg_daily``, ``roi`` = revenue ÷
    ad spend (NaN where the divisor is 0)."""
    out = frame.copy()
    if {"revenue", "buyers"} <= set(out):
        out["aov"] = out["revenue"] / out["buyers"].where(out["buyers"] > 0)
    if {"buyers", "uv_sum_daily"} <= set(out):
        out["conversion"] = out["buyers"] / out["uv_sum_daily"].where(out["uv_sum_daily"] > 0)
        out["uv_avg_daily"] = out["uv_sum_daily"] / out["days"]
    if {"revenue", "ad_spend"} <= set(out):
        out["roi"] = out["revenue"] / out["ad_spend"].where(out["ad_spend"] > 0)
    return out
