"""Price-band speed: the whole price study (cleaning, banding, per-band metrics, movement,
positions, recommendation, distribution) on 5,000,000 listings × 4 snapshots read from the
warehouse, next to a naive per-band pandas loop over the same warehouse in the same run
(same cleaning rules and title keywords, its band counts checked against the workbench's).

Targets (issue 6): under 10 s and 3 GB peak, and at least 5× the naive loop. Each measurement
runs in a fresh process so its peak RSS (``ru_maxrss``) is its own; ``seconds`` is timed
after the imports (both sides import pandas and DuckDB; ``process_seconds`` includes them).
``quick`` uses 200,000 listings per snapshot; ``BENCH_PRICES_LISTINGS`` overrides the size.
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

SNAPSHOTS = ["2026-11-01", "2026-11-08", "2026-11-15", "2026-11-22"]
EDGES = [29, 39, 49, 59, 79, 99, 129, 199, 299]

_FAST = """
import json, resource, sys, time
from research.analyses.prices.analysis import price_study
t = time.perf_counter()  # after imports: the interpreter's start-up is not the analysis
study = price_study(sys.argv[1], category="保温杯", week="2026-W47", shop="shop7",
                    competitors=["shop1", "shop2", "shop3", "shop4", "shop5"], unit_cost=30,
                    edges=json.loads(sys.argv[2]), trick_keywords=json.loads(sys.argv[3]))
seconds = time.perf_counter() - t
listings = study.bands.groupby("snapshot_date")["listings"].apply(list).tolist()
print(json.dumps({"seconds": seconds, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "listings": listings, "excluded": int(study.excluded_counts["listings"].sum()),
                  "recommended": None if study.recommended is None else study.recommended.band_label}))
"""

# The naive way: read the listings into pandas, clean by the same rules (the same title
# keywords, ASCII ones case-insensitive), then loop band by band.
_NAIVE = """
import json, re, resource, sys, time
import numpy as np
import pandas as pd
from research.store.warehouse import read
t = time.perf_counter()
edges = json.loads(sys.argv[2])
df = read("items", sys.argv[1], category="保温杯",
          columns=["snapshot_date", "shop", "title", "price", "sales_30d", "revenue_30d", "is_tmall"])
words = "|".join(re.escape(k) for k in json.loads(sys.argv[3]))
bad = (df["price"] <= 1) | df["title"].fillna("").str.contains(words, case=False, regex=True)
df = df[~bad].copy()
df["lp"] = np.log(df["price"])
q = df.groupby("snapshot_date")["lp"].quantile([0.25, 0.75]).unstack()
iqr = (q[0.75] - q[0.25]).clip(lower=0.1)
hi = df["snapshot_date"].map(q[0.75] + 3 * iqr)
lo = df["snapshot_date"].map(q[0.25] - 3 * iqr)
df = df[(df["lp"] <= hi) & (df["lp"] >= lo)]
df["revenue"] = df["revenue_30d"].fillna(df["price"] * df["sales_30d"])
bounds = list(zip([0.0] + edges, edges + [float("inf")]))
rows, listings = [], []
for snap in sorted(df["snapshot_date"].unique()):
    s = df[df["snapshot_date"] == snap]
    counts = []
    for lo_, hi_ in bounds:
        b = s[(s["price"] > lo_) & (s["price"] <= hi_)]
        shop_rev = b.groupby("shop")["revenue"].sum().sort_values(ascending=False)
        total = shop_rev.sum()
        rows.append({"listings": len(b), "units": b["sales_30d"].sum(), "revenue": total,
                     "shops": b["shop"].nunique(),
                     "top3": shop_rev.head(3).sum() / total if total else np.nan,
                     "hhi": ((shop_rev / total) ** 2).sum() * 1e4 if total else np.nan,
                     "median_sales": b["sales_30d"].median(), "tmall": b["is_tmall"].mean()})
        counts.append(len(b))
    listings.append(counts)
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "listings": listings}))
"""


def make_warehouse(path: Path, listings: int, seed: float = 0.42) -> Path:
    """A warehouse whose items table holds ``listings`` rows on each of four snapshots,
    generated in DuckDB (log-normal prices around 60, a thin band at 99–129 selling 4× per
    listing, 20,000 shops, a few trick-price rows)."""
    from research.store.warehouse import connect

    with connect(path) as con:
        con.execute(f"SELECT setseed({seed})")
        for d, day in enumerate(SNAPSHOTS):
            con.execute(f"""
                INSERT INTO items (snapshot_date, item_id, shop, title, category, price,
                                   sales_30d, revenue_30d, is_tmall, currency)
                WITH base AS (
                    SELECT i, exp(ln(60) + 0.5 * sqrt(-2 * ln(random() + 1e-12))
                                  * cos(2 * pi() * random())) AS p, random() AS r
                    FROM range({listings}) t(i))
                SELECT DATE '{day}', CAST(i AS VARCHAR), 'shop' || CAST(i % 20000 AS VARCHAR),
                       CASE WHEN i % 100000 = 1 THEN '拍下改价 保温杯'
                            WHEN i % 100000 = 2 THEN '保温杯 定金链接'
                            ELSE '保温杯 316不锈钢 大容量 男女士 办公室 ' || CAST(i AS VARCHAR) END,
                       '保温杯',
                       CASE WHEN i % 100000 = 3 THEN 0.01
                            WHEN p > 99 AND p <= 129 AND r > 0.3 THEN round(p * 0.6, 1)
                            ELSE round(p, 1) END,
                       CAST(floor(exp(2 + r * 1.5 + {d} * 0.05))
                            * CASE WHEN p > 99 AND p <= 129 THEN 4 ELSE 1 END AS BIGINT),
                       NULL, r < 0.3, 'CNY'
                FROM base""")
    return path


def _run(script: str, warehouse: Path, keywords: tuple[str, ...] = ()) -> dict:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", script, str(warehouse), json.dumps(EDGES),
                           json.dumps(list(keywords), ensure_ascii=False)],
                          check=True, capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_seconds"] = round(time.perf_counter() - start, 3)
    out["seconds"] = round(out["seconds"], 3)
    out["peak_mb"] = round(out.pop("maxrss_kb") / 1024, 1)
    return out


def main(quick: bool = False) -> dict:
    listings = int(os.environ.get("BENCH_PRICES_LISTINGS", 200_000 if quick else 5_000_000))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        wh = make_warehouse(Path(tmp) / "prices.duckdb", listings)
        build = time.perf_counter() - start
        from research.analyses.prices.bands_sql import TRICK_KEYWORDS

        fast = _run(_FAST, wh, TRICK_KEYWORDS)
        numeric = _run(_FAST, wh, ())
        naive = _run(_NAIVE, wh, TRICK_KEYWORDS)
    same = fast.pop("listings") == naive.pop("listings")
    numeric.pop("listings")
    result = {
        "benchmark": "price bands, movement, positions and recommendation from the warehouse",
        "listings_per_snapshot": listings, "snapshots": len(SNAPSHOTS),
        "rows": listings * len(SNAPSHOTS), "quick": quick,
        "warehouse_build_seconds": round(build, 1),
        "workbench": fast, "naive_pandas_loop": naive,
        "workbench_without_title_rule": numeric,
        "speedup_vs_naive": round(naive["seconds"] / fast["seconds"], 2),
        "band_counts_agree": same,
        "targets": {"seconds": 10, "peak_mb": 3072, "speedup": 5},
        "meets_targets": bool(fast["seconds"] < 10 and fast["peak_mb"] < 3072
                              and naive["seconds"] / fast["seconds"] >= 5),
        "cpu_count": os.cpu_count(),
    }
    write_figures("prices", result)
    return result


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
