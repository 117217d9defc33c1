"""Run every benchmark: ``python -m bench [NAME ...] [--quick]``.

Each ``bench/bench_<name>.py`` defines ``main(quick: bool = False) -> dict`` and writes its
figures to ``bench/results/<name>.json``. Each runs in its own process, so one bench's memory
does not count against the next, and ``bench/results/README.md`` collects the figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def _names() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {_names()})")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    names = args.names or _names()
    failed = []
    for name in names:
        print(f"=== bench {name}{' (quick)' if args.quick else ''}", flush=True)
        start = time.perf_counter()
        code = (f"import json, bench.bench_{name} as b; "
                f"print(json.dumps(b.main(quick={args.quick}), ensure_ascii=False, "
                f"indent=2, default=str))")
        proc = subprocess.run([sys.executable, "-c", code], cwd=HERE.parent)
        print(f"=== {name}: exit {proc.returncode} in {time.perf_counter() - start:.1f} s",
              flush=True)
        if proc.returncode:
            failed.append(name)
    _collect()
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


def _collect() -> None:
    lines = ["# Benchmark figures", "", "Written by `make bench` (`python -m bench`); one JSON "
             "per benchmark beside this file.", ""]
    for path in sorted(p for p in RESULTS.glob("*.json") if not p.stem.endswith("_quick")):
        data = json.loads(path.read_text(encoding="utf-8"))
        lines += [f"## {path.stem}", "", "```json",
                  json.dumps(data, ensure_ascii=False, indent=2, default=str)[:6000], "```", ""]
    (RESULTS / "README.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
