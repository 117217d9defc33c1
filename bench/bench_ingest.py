"""Ingest speed: a 1,000,000-row search-term export through ``research ingest`` end to end
(parse, validate, store), next to a bare DuckDB ``read_csv`` of the same file in the same run.

Targets (issue 2): full ingest within 3x the bare read, peak memory under 1.5 GB. Each
measurement runs in a fresh process so its peak RSS is its own. Two ratios are reported:
``ratio_ingest_to_bare`` times the work inside each process after its imports (the import
of ``research.sources.exports`` — the ingest entry point, with pandas and the readers — is
left out and reported as ``import_seconds``); ``ratio_ingest_to_bare_whole_process`` is the
wall time of each whole process, start to exit, imports included.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.figures import write_figures

_BARE = """
import duckdb, resource, sys, time
con = duckdb.connect(sys.argv[2])
con.execute("SET enable_progress_bar = false")
t = time.perf_counter()
con.execute("CREATE TABLE k AS SELECT * FROM read_csv(?)", [sys.argv[1]])
n = con.execute("SELECT count(*) FROM k").fetchone()[0]
con.close()
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, n)
"""

_INGEST = """
import resource, sys, time
t0 = time.perf_counter()
from research.sources.exports import ingest_paths
t = time.perf_counter()
[r] = ingest_paths([sys.argv[1]], sys.argv[2])
assert r.outcome == "loaded", r.message
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, r.result.rows,
      t - t0)
"""


def make_export(path: Path, rows: int, encoding: str = "utf-8", seed: int = 1) -> Path:
    """Write a search-term export shaped like 生意参谋's: Chinese headers, percent strings."""
    rng = np.random.default_rng(seed)
    terms = 2_000
    days = rows // terms
    dates = pd.date_range("2024-01-01", periods=days).strftime("%Y/%m/%d")
    frame = pd.DataFrame({
        "日期": np.repeat(dates, terms),
        "类目": "保温杯",
        "搜索词": np.tile([f"保温杯 词{i}" for i in range(terms)], days),
        "搜索人气": rng.integers(50, 60_000, days * terms),
        "搜索热度": rng.integers(100, 120_000, days * terms),
        "点击率": [f"{x:.2f}%" for x in rng.uniform(1, 180, days * terms)],
        "点击人气": rng.integers(10, 40_000, days * terms),
        "支付转化率": [f"{x:.2f}%" for x in rng.uniform(0, 30, days * terms)],
        "在线商品数": [f"{x:,}" for x in rng.integers(10, 2_000_000, days * terms)],
        "商城点击占比": [f"{x:.2f}%" for x in rng.uniform(0, 95, days * terms)],
        "直通车参考价": rng.uniform(0.2, 6, days * terms).round(2),
    })
    frame.to_csv(path, index=False, encoding=encoding)
    return path


def _measure(script: str, export: Path, db: Path) -> dict:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", script, str(export), str(db)], check=True,
                         capture_output=True, text=True).stdout.split()
    figures = {"seconds": round(float(out[0]), 3), "process_seconds":
               round(time.perf_counter() - start, 3), "peak_mb": round(int(out[1]) / 1024, 1),
               "rows": int(out[2])}
    if len(out) > 3:  # the ingest script also times its import of research
        figures["import_seconds"] = round(float(out[3]), 3)
    return figures


#: the 1,000,000-row figures before the hardening of issue 15 (commit 6ab0c2d): its checks
#: (finite numbers, plausible dates, ragged rows, hashed raw copies) may cost at most 1.2× these
BEFORE_HARDENING = {"utf8_seconds": 3.501, "gbk_seconds": 4.38}


def main(quick: bool = False) -> dict:
    rows = 100_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        utf8 = make_export(tmp_path / "keywords.csv", rows)
        gbk = make_export(tmp_path / "keywords_gbk.csv", rows, encoding="gbk")
        bare = _measure(_BARE, utf8, tmp_path / "bare.duckdb")
        full = _measure(_INGEST, utf8, tmp_path / "w.duckdb")
        full_gbk = _measure(_INGEST, gbk, tmp_path / "w_gbk.duckdb")
        size_mb = utf8.stat().st_size / 2**20
    figures = {
        "rows": rows, "file_mb": round(size_mb, 1),
        "bare_duckdb_read_csv": bare, "research_ingest_utf8": full, "research_ingest_gbk": full_gbk,
        # two honest ratios: the in-process one times the work after `import research...`
        # (the import of the package, pandas and its readers is left out); the whole-process
        # one is wall time of each subprocess from start to exit, imports included
        "ratio_ingest_to_bare": round(full["seconds"] / bare["seconds"], 2),
        "ratio_ingest_to_bare_meaning": "in-process seconds, excluding the import of "
                                        "research.sources.exports (the ingest entry point)",
        "ratio_ingest_to_bare_whole_process": round(full["process_seconds"]
                                                    / bare["process_seconds"], 2),
        "ratio_gbk_ingest_to_bare": round(full_gbk["seconds"] / bare["seconds"], 2),
        "ratio_gbk_ingest_to_bare_whole_process": round(full_gbk["process_seconds"]
                                                        / bare["process_seconds"], 2),
        "before_hardening": BEFORE_HARDENING,
        "ratio_to_before_hardening": None if quick else {
            "utf8": round(full["seconds"] / BEFORE_HARDENING["utf8_seconds"], 2),
            "gbk": round(full_gbk["seconds"] / BEFORE_HARDENING["gbk_seconds"], 2)},
        "targets": {"ratio": "<= 3", "peak_mb": "< 1536", "ratio_to_before_hardening": "<= 1.2"},
        "quick": quick,
        # the machine's load when the run ended: timings on a shared machine are only
        # comparable at a similar load
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(),
    }
    write_figures("ingest", figures)
    return figures


if __name__ == "__main__":
    print(json.dumps(main(quick="--quick" in sys.argv), indent=2, ensure_ascii=False))
