"""Keyword-trends speed: the full analysis (``research.analyses.keywords.analysis.analyse``) of a generated
category of 20,000 terms × 730 days (14.6 M rows) read from a warehouse, next to a
straightforward per-term pandas loop doing the same statistics, in the same run.

Targets (issue 5): under 30 s wall and 4 GB peak; at least 5× faster than the per-term loop.
The loop is timed on a subset of terms (it is too slow for all of them) and extrapolated
linearly in the number of terms — its per-term cost does not depend on how many terms there
are, and its read of the subset's rows is scaled by the row share. Each measurement runs in a
fresh process so its peak RSS is its own. ``quick=True`` uses 1,000 terms.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import write_figures

ROOT = Path(__file__).resolve().parent.parent
CATEGORY = "保温杯"
END = "2026-11-22"  # a Sunday: the study week is 2026-W47

_GENERATE = """
INSERT INTO keywords (date, category, keyword, search_popularity, click_rate, conversion_rate,
                      online_items, tmall_click_share, ppc_price)
WITH terms AS (
    SELECT i,
           ['保温杯','水杯','焖烧杯','保温壶','杯子'][1 + i % 5]
           || ['316不锈钢','陶瓷','钛','玻璃',''][1 + (i // 5) % 5]
           || ['女','男','儿童','学生','',''][1 + (i // 25) % 6]
           || ['大容量','便携','ins','可爱','带吸管','茶水分离','',''][1 + (i // 150) % 8]
           || ' ' || CAST(i AS VARCHAR) AS keyword,
           50 + (hash(i, 'base') % 5000) AS base,
           CASE WHEN i % 100 = 1 THEN 1 WHEN i % 100 = 2 THEN -1 ELSE 0 END AS planted
    FROM range(?) r(i)
), days AS (
    SELECT CAST(?::DATE - INTERVAL (d) DAY AS DATE) AS date, d FROM range(?) r(d)
)
SELECT date, ?, keyword,
       round(base * (1 + 0.8 * exp(-0.5 * power((dayofyear(date) - 315) / 12.0, 2)))
             * (1 + planted * 0.8 * greatest(0, least(1, (90 - d) / 60.0)))
             * exp(((hash(i, d) % 1000) / 1000.0 - 0.5) * 0.2)),
       0.3 + (hash(i, d, 'c') % 1000) / 800.0,
       0.005 + (hash(i, d, 'v') % 1000) / 20000.0,
       20 + hash(i, 'items') % 20000,
       (hash(i, 't') % 1000) / 1000.0,
       0.2 + (hash(i, d, 'p') % 500) / 100.0
FROM terms, days
"""

_ANALYSE = """
import json, resource, sys, time
t = time.perf_counter()
from research.analyses.keywords.analysis import analyse
rep = analyse(sys.argv[1], sys.argv[2], sys.argv[3], event_terms=None)
wall = time.perf_counter() - t
sub = rep.metrics.set_index("keyword").loc[json.loads(sys.argv[4]),
      ["popularity_mean_daily", "change_4w", "change_yoy", "trend_pct_week", "seasonal_z"]]
print(json.dumps({"wall_s": wall, "peak_rss_mb": resource.getrusage(
    resource.RUSAGE_SELF).ru_maxrss / 1024, "terms": len(rep.metrics),
    "rising": int((rep.metrics["direction"] == "rising").sum()),
    "falling": int((rep.metrics["direction"] == "falling").sum()),
    "subset": sub.reset_index().to_dict("list")}))
"""

_BASELINE = """
import json, resource, sys, time
import numpy as np, pandas as pd
from research.store.warehouse import read
terms = json.loads(sys.argv[4])
t0 = time.perf_counter()
rows = read("keywords", sys.argv[1], category=sys.argv[2], keyword=terms)
t_read = time.perf_counter() - t0
end = pd.Timestamp(sys.argv[3])
out = {}
t1 = time.perf_counter()
for term in terms:  # the straightforward way: one term at a time
    d = rows[rows["keyword"] == term].set_index("date").sort_index()
    d = d[d.index <= end]
    w = d["search_popularity"].resample("W-SUN").mean()
    level = w.iloc[-1]
    change_4w = w.iloc[-1] / w.iloc[-5] - 1
    yoy = w.iloc[-4:].mean() / w.iloc[-56:-52].mean() - 1
    y = np.log1p(w.iloc[-13:].to_numpy())
    x = np.arange(len(y))
    coef, cov = np.polyfit(x, y, 1, cov=True)
    slope, se = coef[0], np.sqrt(cov[0, 0])
    r = np.log1p(w) - np.log1p(w.shift(52))
    recent = r.iloc[-4:].mean()
    roll = r.iloc[-30:-4].rolling(4).mean().dropna()
    med = roll.median()
    scale = max(1.4826 * (roll - med).abs().median(), 0.05)
    z = (recent - med) / scale
    lw = np.log1p(w)
    base = lw.shift(1).rolling(8, min_periods=3).median()
    mad = (lw.shift(1).rolling(8, min_periods=3)
           .apply(lambda v: np.median(np.abs(v - np.median(v))), raw=True))
    events = ((lw - base) / np.maximum(1.4826 * mad, 0.1)).abs() >= 3.5
    week = d[d.index > end - pd.Timedelta(days=7)]
    score = (level * week["click_rate"].mean() * week["conversion_rate"].mean()
             / week["online_items"].iloc[-1])
    out[term] = [level, change_4w, yoy, np.expm1(slope), z]
t_loop = time.perf_counter() - t1
print(json.dumps({"read_s": t_read, "loop_s": t_loop, "rows": len(rows),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "values": out}, default=float))
"""


def _run(code: str, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=ROOT, env=env)
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def generate(path: Path, terms: int, days: int = 730) -> float:
    """Write ``terms`` × ``days`` keyword rows into a fresh warehouse; return seconds taken."""
    from research.store.warehouse import connect

    start = time.perf_counter()
    with connect(path) as con:
        con.execute(_GENERATE, [terms, END, days, CATEGORY])
    return time.perf_counter() - start


def main(quick: bool = False) -> dict:
    """Run the benchmark and write ``bench/results/keywords.json``.

    Parameters
    ----------
    quick : bool
        1,000 terms instead of 20,000 (a smoke run).
    """
    terms = int(os.environ.get("BENCH_KEYWORDS_TERMS", 1_000 if quick else 20_000))
    days = 730
    subset_n = min(terms, 100 if quick else 400)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        gen_s = generate(path, terms, days)
        import duckdb

        with duckdb.connect(str(path), read_only=True) as con:
            names = [r[0] for r in con.execute(
                "SELECT DISTINCT keyword FROM keywords ORDER BY hash(keyword) LIMIT ?",
                [subset_n]).fetchall()]
            rows = con.execute("SELECT count(*) FROM keywords").fetchone()[0]
        full = _run(_ANALYSE, str(path), CATEGORY, "2026-W47", json.dumps(names))
        base = _run(_BASELINE, str(path), CATEGORY, END, json.dumps(names))
    per_term = base["loop_s"] / subset_n
    base_total = per_term * terms + base["read_s"] * terms / subset_n
    ours = dict(zip(full["subset"]["keyword"], zip(*[full["subset"][c] for c in (
        "popularity_mean_daily", "change_4w", "change_yoy", "trend_pct_week", "seasonal_z")],
        strict=True), strict=True))
    diffs = [abs(a - b) for k, vals in base["values"].items() for a, b in zip(ours[k], vals,
                                                                               strict=True)]
    result = {
        "rows": rows, "terms": terms, "days": days, "quick": quick,
        "generate_s": round(gen_s, 2),
        "analyse_wall_s": round(full["wall_s"], 2),
        "analyse_peak_rss_mb": round(full["peak_rss_mb"]),
        "baseline_subset_terms": subset_n,
        "baseline_subset_read_s": round(base["read_s"], 2),
        "baseline_subset_loop_s": round(base["loop_s"], 2),
        "baseline_extrapolated_s": round(base_total, 1),
        "speedup_vs_baseline": round(base_total / full["wall_s"], 1),
        "baseline_agrees_max_abs_diff": float(max(diffs)) if diffs else None,
        "rising_found": full["rising"], "falling_found": full["falling"],
        "targets": {"wall_s": 30, "peak_rss_mb": 4096, "speedup": 5},
        "note": ("analyse() timed end to end in its own process (imports, DuckDB weekly "
                 "aggregation, numpy statistics, jieba segmentation, scoring, core keywords, "
                 "unusual weeks for every term). Baseline: pandas read of the subset's rows + a "
                 "per-term loop (resample, polyfit, rolling medians), timed on the subset and "
                 "extrapolated linearly to all terms (read time scaled by the term share)."),
    }
    write_figures("keywords", result)
    return result


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
