"""``make test-markets N=50``: every analysis on N fresh random markets, with detection rates.

Draws N fresh seeds (``--seeds`` replays given ones), generates each market with
``--profile random`` (or ``--profile NAME``), ingests it, runs every page as the weekly
study does and compares it with the market's ``truth.json`` (:mod:`tests.markets.family`).
Prints, per analysis and check, the share of markets where each planted signal was found and
each false flag was raised, and the failing seeds with the command that writes their market
again; writes the same as JSON (``--out``). Exits 1 when a target is missed: every signal
found in ≥ 95 % of markets, every false flag raised in ≤ 2 %.

Usage::

    python -m tests.markets.report --n 50 --jobs 2
    python -m tests.markets.report --seeds 123,456        # replay
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path

from tests.markets.family import Check, build_market, check_market

SIGNAL_TARGET = 0.95
FALSE_FLAG_TARGET = 0.02


def run_one(profile: str, seed: int) -> dict:
    """Build one market in a temporary folder, check it, remove it; never raises."""
    root = Path(tempfile.mkdtemp(prefix="market-"))
    t0 = time.perf_counter()
    try:
        market = build_market(root, profile, seed)
        checks = check_market(market)
        drawn = f"{market.truth.get('profile', profile)} {market.truth.get('category', '')}"
    except Exception as exc:  # a market that cannot be built is a failure
        checks = [Check("build", "generate_and_ingest", "signal", False,
                        f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}")]
        drawn = ""
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {"profile": profile, "seed": seed, "category": drawn,
            "seconds": round(time.perf_counter() - t0, 1),
            "checks": [asdict(c) for c in checks]}


def summarise(runs: list[dict]) -> dict:
    """Per check label: markets where it applied, the share where it held, failing seeds."""
    table: dict[str, dict] = defaultdict(lambda: {"kind": "", "markets": 0, "held": 0,
                                                  "failing": []})
    for run in runs:
        per_label: dict[str, list[dict]] = defaultdict(list)
        for c in run["checks"]:
            per_label[f"{c['analysis']}/{c['signal'].split(':')[0]}"].append(c)
        for label, cs in per_label.items():
            row = table[label]
            row["kind"] = cs[0]["kind"]
            row["markets"] += 1
            if all(c["ok"] for c in cs):
                row["held"] += 1
            else:
                row["failing"].append({"seed": run["seed"], "profile": run["profile"],
                                       "category": run["category"],
                                       "detail": [c["detail"] for c in cs if not c["ok"]][:3]})
    out = {}
    for label in sorted(table):
        row = table[label]
        share = row["held"] / row["markets"]
        rate = share if row["kind"] == "signal" else 1 - share
        target = (rate >= SIGNAL_TARGET) if row["kind"] == "signal" else \
            (rate <= FALSE_FLAG_TARGET)
        out[label] = {**row, "rate": round(rate, 4), "meets_target": bool(target)}
    return out


def _plain(value: object) -> object:
    """numpy scalars (a check's ``ok`` may be ``numpy.bool_``) as Python values."""
    return value.item() if hasattr(value, "item") else str(value)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=50, help="markets to draw (fresh seeds)")
    ap.add_argument("--seeds", default="", help="comma-separated seeds to replay instead")
    ap.add_argument("--profile", default="random", help="profile name or random")
    ap.add_argument("--jobs", type=int, default=2, help="markets built at once")
    ap.add_argument("--out", default="reports/test-markets.json", help="JSON summary")
    args = ap.parse_args(argv)
    seeds = ([int(s) for s in args.seeds.split(",") if s.strip()] if args.seeds
             else [secrets.randbelow(2**31) for _ in range(args.n)])
    print(f"test-markets: {len(seeds)} market(s), profile {args.profile}, "
          f"{args.jobs} at once; seeds {','.join(map(str, seeds))}", flush=True)
    t0 = time.perf_counter()
    runs = []
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(run_one, args.profile, s): s for s in seeds}
        for k, fut in enumerate(as_completed(futures), 1):
            run = fut.result()
            runs.append(run)
            bad = sum(not c["ok"] for c in run["checks"])
            print(f"  [{k}/{len(seeds)}] seed {run['seed']} {run['category']}: "
                  f"{len(run['checks'])} checks, {bad} failed, {run['seconds']} s", flush=True)
    summary = summarise(runs)
    print(f"\n{'check':45s} {'kind':10s} {'markets':>7s} {'rate':>7s}  target")
    for label, row in summary.items():
        what = "found" if row["kind"] == "signal" else "raised"
        print(f"{label:45s} {row['kind']:10s} {row['markets']:7d} {row['rate']:7.1%}  "
              f"{what} {'ok' if row['meets_target'] else 'MISSED'}")
    missed = {k: v for k, v in summary.items() if not v["meets_target"]}
    failing = sorted({(f["profile"], f["seed"]) for v in summary.values()
                      for f in v["failing"]})
    if failing:
        print("\nfailing markets (replay: research sample --profile P --seed N --out DIR; "
              "python -m tests.markets.report --seeds N):")
        for profile, seed in failing:
            what = [f"{label}: {f['detail'][0][:140]}" for label, v in summary.items()
                    for f in v["failing"] if f["seed"] == seed and f["profile"] == profile]
            print(f"  {profile} seed {seed}: " + " | ".join(what[:4]))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"profile": args.profile, "seeds": seeds,
                               "seconds": round(time.perf_counter() - t0, 1),
                               "summary": summary, "runs": runs},
                              ensure_ascii=False, indent=1, default=_plain) + "\n",
                   encoding="utf-8")
    print(f"\n{len(runs)} markets in {time.perf_counter() - t0:.0f} s; "
          f"{len(missed)} check(s) missed the target; written {out}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
