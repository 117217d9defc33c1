"""Competitor traffic speed: 200 shops × 9 channels × 730 days (1.3 M daily rows) — weekly
channel structure and shares, set share, and change points (level shifts and mix shifts) for
all 1,800 shop-channel series.

Target (issue 7): under 30 s and 2 GB, with the per-series change-point cost reported:
``per_series_level_ms`` is the level detection alone per shop-channel series;
``per_series_level_and_mix_ms`` is ``detect_moves(mix=True)`` per shop-channel series (each
series segmented twice: its level and its share of the shop, plus the pairing of share
moves); ``per_series_mix_only_ms`` is the difference. The
measured part runs in a fresh process so its peak RSS is its own; the data are generated in
that process before the clock starts (their memory counts in the peak). Quick mode: 20 shops
× 365 days. ``BENCH_COMPETITORS_SHOPS`` / ``BENCH_COMPETITORS_DAYS`` override the size.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.figures import write_figures

_RUN = r"""
import json, resource, sys, time
import numpy as np, pandas as pd
from research.store.schema import CHANNELS
from research.analyses.competitors.shops import ShopSet
from research.analyses.competitors.structure import channel_structure, set_share
from research.analyses.competitors.changepoints import detect_moves

shops, days = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(7)
dates = pd.date_range("2024-11-25", periods=days, freq="D")
n_series = shops * len(CHANNELS)
base = rng.lognormal(5, 1.2, n_series)
season = 0.2 * np.sin(2 * np.pi * dates.day_of_year.to_numpy() / 365.25)
weekly = np.array([0, -.02, -.03, 0, .05, .1, .08])[dates.day_of_week]
mu = np.log(base)[:, None] + season[None, :] + weekly[None, :]
# a planted step (×3 from a random day) on every 10th series
planted = np.arange(0, n_series, 10)
at = rng.integers(60, days - 60, len(planted))
for s, d in zip(planted, at):
    mu[s, d:] += np.log(3)
uv = rng.poisson(np.exp(mu + rng.normal(0, .2, mu.shape)))
traffic = pd.DataFrame({
    "date": np.tile(dates.to_numpy(), n_series),
    "shop": np.repeat([f"shop{i:03d}" for i in range(shops)], len(CHANNELS) * days),
    "channel": np.tile(np.repeat(CHANNELS, days), shops),
    "visitors": uv.ravel(),
    "item_id": "",
})
traffic["buyers"] = rng.binomial(traffic["visitors"].to_numpy(), 0.03)
traffic["payment_amount"] = traffic["buyers"] * 80.0
events = pd.DataFrame({"date": pd.date_range("2025-11-01", "2025-11-11"), "name": "双11"})
times = {}
t0 = time.perf_counter()
shopset = ShopSet("shop000", [f"shop{i:03d}" for i in range(1, shops)], "named")
channels = channel_structure(traffic, shopset)
times["structure_s"] = time.perf_counter() - t0
t = time.perf_counter()
share = set_share(traffic, shopset)
times["set_share_s"] = time.perf_counter() - t
t = time.perf_counter()
moves = detect_moves(traffic, events, mix=False)
times["level_changepoints_s"] = time.perf_counter() - t
t = time.perf_counter()
everything = detect_moves(traffic, events, mix=True)
times["level_and_mix_changepoints_s"] = time.perf_counter() - t
times["total_s"] = times["structure_s"] + times["set_share_s"] + times["level_and_mix_changepoints_s"]
key = {(f"shop{s // len(CHANNELS):03d}", CHANNELS[s % len(CHANNELS)]): dates[d]
       for s, d in zip(planted, at)}
found = 0
for (shop, ch), day in key.items():
    m = moves[(moves["shop"] == shop) & (moves["channel"] == ch)]
    found += bool((abs(m["date"] - day).dt.days <= 2).any())
false = sum(1 for s, c in zip(moves["shop"], moves["channel"]) if (s, c) not in key)
print(json.dumps({
    **{k: round(v, 3) for k, v in times.items()},
    "rows": len(traffic), "series": n_series, "shops": shops, "days": days,
    "per_series_level_ms": round(1000 * times["level_changepoints_s"] / n_series, 3),
    # one shop-channel series is segmented twice by detect_moves(mix=True): its level (log
    # UV) and its share of the shop's visitors; this is the cost of both per series (an
    # earlier version divided by 2 × series and so reported half of it)
    "per_series_level_and_mix_ms": round(1000 * times["level_and_mix_changepoints_s"] / n_series, 3),
    "per_series_mix_only_ms": round(1000 * (times["level_and_mix_changepoints_s"]
                                            - times["level_changepoints_s"]) / n_series, 3),
    "channel_rows": len(channels), "set_share_rows": len(share),
    "events": len(everything), "planted_steps": len(key), "planted_found_within_2_days": found,
    "false_level_events": false,
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
}))
"""


def main(quick: bool = False) -> dict:
    """Run the benchmark in a fresh process and write ``bench/results/competitors[_quick].json``.

    Parameters
    ----------
    quick : bool
        20 shops × 365 days instead of 200 × 730.
    """
    shops = int(os.environ.get("BENCH_COMPETITORS_SHOPS", 20 if quick else 200))
    days = int(os.environ.get("BENCH_COMPETITORS_DAYS", 365 if quick else 730))
    proc = subprocess.run([sys.executable, "-c", _RUN, str(shops), str(days)],
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    if proc.returncode:
        raise RuntimeError(f"bench_competitors failed:\n{proc.stderr[-3000:]}")
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    figures.update(quick=quick, target_s=30, target_mb=2048, cpu_count=os.cpu_count(),
                   load_average_1_5_15=[round(x, 2) for x in os.getloadavg()],
                   method="binary segmentation, l2 cost, min_size 7, jump 1, on cumulative "
                          "sums; one process (no multiprocessing needed at this cost)")
    figures["within_target"] = figures["total_s"] < 30 and figures["peak_rss_mb"] < 2048
    write_figures("competitors", figures)
    return figures


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
