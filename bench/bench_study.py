"""Study speed: the whole weekly study on the sample market (every notebook executed in a cold
kernel and rendered to HTML), sequential (``--sequential``) and parallel (``--jobs 2``) in the
same run, each in a fresh ``research run`` process, with the time per notebook split into
kernel start, execution and rendering (from the study's ``manifest.json``).

Target (issue 4): under 60 s wall on 2 cores, parallel clearly faster than sequential.

``quick=True`` runs the test notebooks (tests/notebooks) on a tiny warehouse instead, to check
the script works; its figures say nothing about the real study. Notebooks of
``templates/weekly.yaml`` that do not exist yet are left out and listed as ``missing``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bench.figures import write_figures

ROOT = Path(__file__).resolve().parent.parent

_RUN = "from research.study.cli import run_command; run_command(sys.argv[1:])"


def _sample_warehouse(folder: Path) -> Path:
    from research.sample.market import generate_sample
    from research.sources.exports import ingest_paths

    generate_sample(folder / "sample", seed=7)
    warehouse = folder / "warehouse.duckdb"
    ingest_paths([folder / "sample"], warehouse=warehouse)
    return warehouse


def _tiny_study(folder: Path) -> tuple[Path, Path, list[str]]:
    from tests.study.test_study import make_tiny_warehouse, write_study  # the suite's tiny study

    warehouse = make_tiny_warehouse(folder / "tiny.duckdb")
    names = ["ok_page", "xss_page"]
    return write_study(folder, [{"name": n} for n in names]), warehouse, []


def _weekly_study(folder: Path) -> tuple[Path, list[str]]:
    """templates/weekly.yaml without the notebooks that are not written yet."""
    definition = yaml.safe_load((ROOT / "templates" / "weekly.yaml").read_text(encoding="utf-8"))
    present, missing = [], []
    for entry in definition["notebooks"]:
        path = ROOT / "notebooks" / f"{entry['name']}.ipynb"
        (present if path.exists() else missing).append(entry)
    for entry in present:
        entry.setdefault("path", str(ROOT / "notebooks" / f"{entry['name']}.ipynb"))
        if entry.get("after") == "all":
            entry["after"] = [e["name"] for e in present if e is not entry]
    definition["notebooks"] = present
    path = folder / "weekly.yaml"
    path.write_text(yaml.safe_dump(definition, allow_unicode=True), encoding="utf-8")
    return path, [m["name"] for m in missing]


def _run(study: Path, warehouse: Path, reports: Path, mode: list[str]) -> dict:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", f"import sys; {_RUN}", str(study), "--warehouse",
         str(warehouse), "--reports", str(reports), "--no-progress", *mode],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    wall = time.perf_counter() - start
    manifests = list(reports.glob("*/*/manifest.json"))
    if not manifests:
        raise RuntimeError(f"study did not run (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    m = json.loads(manifests[0].read_text(encoding="utf-8"))
    return {
        "wall_s": round(wall, 2), "study_s": m["duration_s"], "exit_code": proc.returncode,
        "status": m["status"],
        "pages": {p["name"]: {**p.get("timings", {}), "status": p["status"]}
                  for p in m["pages"]},
        "kernel_start_s": round(sum(p.get("timings", {}).get("kernel_start_s", 0)
                                    for p in m["pages"]), 2),
        "execution_s": round(sum(p.get("timings", {}).get("execution_s", 0)
                                 for p in m["pages"]), 2),
        "render_s": round(sum(p.get("timings", {}).get("render_s", 0) for p in m["pages"]), 2),
    }


def main(quick: bool = False) -> dict:
    """Time the weekly study sequential and parallel; write ``bench/results/study.json``."""
    with tempfile.TemporaryDirectory(prefix="bench_study_") as tmp:
        folder = Path(tmp)
        if quick:
            study, warehouse, missing = _tiny_study(folder)
        else:
            warehouse = _sample_warehouse(folder)
            study, missing = _weekly_study(folder)
        sequential = _run(study, warehouse, folder / "seq", ["--sequential"])
        parallel = _run(study, warehouse, folder / "par", ["--jobs", "2"])
    out = {
        "quick": quick, "cpus": os.cpu_count(), "target_wall_s": 60,
        "notebooks": list(parallel["pages"]), "missing": missing,
        "sequential": sequential, "parallel": parallel,
        "speedup": round(sequential["wall_s"] / parallel["wall_s"], 2),
        "parallel_under_target": parallel["wall_s"] < 60,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    write_figures("study", out)
    return out


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
