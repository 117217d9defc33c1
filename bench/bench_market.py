"""Market overview speed: the whole overview (trend, leaders, concentration, best-sellers with
their profile, audience, heatmap, regions) on 5,000,000 listings × 4 weekly snapshots
(20 M item rows) and two years of daily market rows in a DuckDB warehouse.

Target (issue 8): under 15 s. The warehouse is generated with DuckDB SQL (not timed); the
overview runs in a fresh process so its time and peak RSS are its own. ``quick=True`` (or
``BENCH_MARKET_LISTINGS``) uses fewer listings for a smoke run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import write_figures

FULL_LISTINGS = 5_000_000
QUICK_LISTINGS = 200_000
SNAPSHOTS = 4
SHOPS = 20_000

_RUN = """
import resource, sys, time
from research.analyses.market.overview import market_overview
t = time.perf_counter()
over = market_overview(warehouse=sys.argv[1], category="保温杯", week="2026-W47", top_n=10,
                       min_sales=100)
elapsed = time.perf_counter() - t
assert not over.leaders.empty and not over.best["table"].empty and not over.trend.empty
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, len(over.trend))
"""


def build_warehouse(path: Path, listings: int) -> dict[str, int]:
    """Write a synthetic category: ``listings`` items on each of 4 Sunday snapshots, two
    years of daily market rows and monthly audience snapshots of every dimension."""
    from research.store.warehouse import connect

    with connect(path) as con:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"""
            INSERT INTO items (snapshot_date, item_id, shop, title, category, price, sales_30d,
                               is_tmall, material, color, size, style)
            SELECT DATE '2026-11-01' + CAST(7 * s AS INTEGER),
                   'i' || i, 's' || (hash(i) % {SHOPS}), '保温杯 316 不锈钢 ' || i, '保温杯',
                   round(9.9 + (hash(i * 7) % 40000) / 100.0, 2),
                   CAST(floor(pow((hash(i, s) % 100000) / 100000.0, 6) * 3000
                              * (1 + 0.1 * s * CAST(i % 50 = 0 AS INTEGER))) AS BIGINT),
                   i % 3 = 0,
                   ['304', '316', '陶瓷', '钛', '玻璃'][CAST(hash(i * 3) % 5 AS INTEGER) + 1],
                   ['白', '黑', '粉', '蓝'][CAST(hash(i * 5) % 4 AS INTEGER) + 1],
                   ['350ml', '500ml', '750ml', '1L'][CAST(hash(i * 11) % 4 AS INTEGER) + 1],
                   ['简约', '卡通', '商务'][CAST(hash(i * 13) % 3 AS INTEGER) + 1]
            FROM range({listings}) r(i), range({SNAPSHOTS}) t(s)""")
        con.execute("""
            INSERT INTO market_daily (date, category, trade_index, visitors, buyers,
                                      search_popularity, items_online)
            SELECT d, '保温杯', 1000 + 300 * sin(epoch(d) / 86400 / 58.0),
                   20000 + (hash(d) % 5000), 800 + (hash(d, 1) % 200), 5000, 4000000
            FROM range(DATE '2024-11-18', DATE '2026-11-23', INTERVAL 1 DAY) t(d)""")
        segs = {"gender": ["女", "男"], "age": ["18-24", "25-29", "30-34", "35-39", "40+"],
                "province": [f"省{i}" for i in range(31)], "city": [f"市{i}" for i in range(300)],
                "hour": [str(h) for h in range(24)],
                "weekday": ["周一", "周二", "周三", "周四", "周五", "周六", "周日"],
                "spend_tier": ["低", "中", "高"], "aov_band": ["0-50", "50-100", "100-200", "200+"]}
        values = ", ".join(f"('{dim}', '{seg}', {1 / len(names)!r})"
                           for dim, names in segs.items() for seg in names)
        con.execute(f"""
            INSERT INTO audience (snapshot_date, category, dimension, segment, share)
            SELECT m, '保温杯', dim, seg, share
            FROM (VALUES {values}) v(dim, seg, share),
                 range(DATE '2024-11-30', DATE '2026-11-23', INTERVAL 1 MONTH) t(m)""")
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("items", "market_daily", "audience")}
    return counts


def _measure(path: Path) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", _RUN, str(path)], check=True,
                         capture_output=True, text=True)
    seconds, rss_kb, _ = out.stdout.split()
    return float(seconds), int(rss_kb) / 1024


def main(quick: bool = False) -> dict:
    """Build the synthetic warehouse, time the overview twice, write ``results/market.json``."""
    listings = int(os.environ.get("BENCH_MARKET_LISTINGS",
                                  QUICK_LISTINGS if quick else FULL_LISTINGS))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_market.duckdb"
        t = time.perf_counter()
        counts = build_warehouse(path, listings)
        build = time.perf_counter() - t
        runs = [_measure(path) for _ in range(2)]
        size_mb = path.stat().st_size / 2**20
    figures = {
        "benchmark": "market_overview",
        "quick": quick,
        "listings": listings,
        "snapshots": SNAPSHOTS,
        "item_rows": counts["items"],
        "market_daily_rows": counts["market_daily"],
        "audience_rows": counts["audience"],
        "warehouse_mb": round(size_mb, 1),
        "build_seconds": round(build, 2),
        "overview_seconds": [round(s, 2) for s, _ in runs],
        "overview_best_seconds": round(min(s for s, _ in runs), 2),
        "peak_rss_mb": round(max(m for _, m in runs), 1),
        "target_seconds": 15,
        "meets_target": min(s for s, _ in runs) < 15,
        "cpus": os.cpu_count(),
    }
    write_figures("market", figures)
    return figures


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
