"""Forecast engine benchmark: accuracy on M4 Weekly against the published table, M5 and UCI
checks, and the speed of full model selection.

- **M4 Weekly** (359 series, horizon 13): the engine (``forecast_array`` with season 52, the
  last five years of history, five backtest origins) is fitted on the train part only; the
  test part is used for scoring alone. sMAPE and MASE (``m = 1``, as M4 defines it for weekly
  data) are averaged over the series, and OWA is computed against Naive2 exactly as in M4.
  Our own Naive2 is scored too, as a check that our metrics reproduce the published Naive2.
- **M5**: the 10 daily series, the last 28 days held out, the M5 calendar events as inputs
  (prices are not used by the engine); MASE (m = 7) against seasonal naive.
- **UCI Online Retail II**: invoice revenue (de-duplicated on invoice id) rolled up daily
  (last 28 days held out) and weekly (last 9 weeks held out), against seasonal naive.
- **Speed**: 1,000 synthetic weekly series of length 156 (two worker processes) and the 359
  M4 series; seconds in total and per series.

Writes ``bench/results/forecast.json``, ``forecast_m4.md`` and ``forecast_m4.csv`` (a quick
run only ``forecast_quick.json``).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.figures import write_figures  # noqa: E402
from research.forecasting.accuracy import mase, naive2, owa, smape  # noqa: E402
from research.forecasting.engine import forecast, forecast_array  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
REAL = ROOT.parent / "shared" / "data" / "real"
H_M4 = 13
WORKERS = 2


def _m4_one(args: tuple[np.ndarray, np.ndarray]) -> tuple[float, float, float, float, str]:
    train, test = args
    out = forecast_array(train, H_M4, 52, None, max_history=260, compare_events=False)
    f = out["point"]
    n2 = naive2(train, H_M4, 1)
    return (smape(test, f), mase(train, test, f, 1), smape(test, n2), mase(train, test, n2, 1),
            out["model"])


def _load_m4(limit: int | None) -> list[tuple[np.ndarray, np.ndarray]]:
    tr = pd.read_csv(REAL / "m4" / "Weekly-train.csv")
    te = pd.read_csv(REAL / "m4" / "Weekly-test.csv").set_index("V1")
    pairs = []
    for row in tr.itertuples(index=False):
        sid, vals = row[0], np.asarray(row[1:], dtype=float)
        pairs.append((vals[~np.isnan(vals)], te.loc[sid].to_numpy(dtype=float)))
    return pairs[:limit] if limit else pairs


def m4_weekly(limit: int | None = None) -> dict:
    """Score the engine on M4 Weekly and compare with the published benchmarks."""
    pairs = _load_m4(limit)
    start = time.perf_counter()
    with ProcessPoolExecutor(WORKERS) as pool:
        got = list(pool.map(_m4_one, pairs, chunksize=8))
    secs = time.perf_counter() - start
    s, m, s2, m2 = (float(np.mean([g[i] for g in got])) for i in range(4))
    models = pd.Series([g[4].split("(")[0] for g in got]).value_counts().to_dict()
    bench = pd.read_csv(REAL / "m4" / "benchmarks.csv")
    wk = bench[bench["frequency"] == "Weekly"]
    table = wk[wk["kind"] == "benchmark"][["method_id", "method", "smape", "mase", "owa"]]
    best = wk[wk["kind"] == "submission"].nsmallest(1, "owa")
    winner = wk[wk["method_id"].astype(str) == "118"]
    table = pd.concat([table, winner.assign(method="M4 winner (Smyl) — " + winner["method"]),
                       best.assign(method="best weekly entry — " + best["method"])])
    ours = pd.DataFrame([
        {"method_id": "ours", "method": "workbench engine (backtest choice + combination)",
         "smape": s, "mase": m, "owa": owa(s, m, s2, m2)},
        {"method_id": "ours-naive2", "method": "our Naive2 (metric check)", "smape": s2,
         "mase": m2, "owa": 1.0}])
    table = pd.concat([ours, table], ignore_index=True)[["method_id", "method", "smape", "mase",
                                                         "owa"]]
    table = table.sort_values("owa").reset_index(drop=True)
    return {"series": len(pairs), "smape": s, "mase": m, "owa": owa(s, m, s2, m2),
            "naive2_smape": s2, "naive2_mase": m2, "seconds": secs,
            "seconds_per_series": secs / len(pairs), "workers": WORKERS, "models": models,
            "beats_all_benchmarks": bool(owa(s, m, s2, m2) < wk[wk["kind"] == "benchmark"]
                                         ["owa"].drop(wk.index[wk["method_id"] == "Naive2"],
                                                      errors="ignore").min()),
            "table": table}


def _speed_one(y: np.ndarray) -> str:
    return forecast_array(y, 9, 52, None)["model"]


def speed(n_series: int = 1000, length: int = 156) -> dict:
    """Full model selection for synthetic weekly series (two processes)."""
    rng = np.random.default_rng(1)
    t = np.arange(length)
    ys = [np.maximum(100 + np.cumsum(rng.normal(0, 2, length))
                     + 15 * np.sin(2 * np.pi * t / 52 + rng.uniform(0, 6)) + rng.normal(0, 4, length),
                     1.0) for _ in range(n_series)]
    start = time.perf_counter()
    with ProcessPoolExecutor(WORKERS) as pool:
        list(pool.map(_speed_one, ys, chunksize=25))
    secs = time.perf_counter() - start
    one = time.perf_counter()
    for y in ys[:50]:
        _speed_one(y)
    per = (time.perf_counter() - one) / 50
    return {"series": n_series, "length": length, "workers": WORKERS, "seconds": secs,
            "seconds_per_series_single_process": per, "target_seconds": 60}


def m5(horizon: int = 28) -> dict:
    """The 10 M5 daily series with their event calendar, against seasonal naive."""
    sales = pd.read_csv(REAL / "m5" / "sales_train_validation_10series.csv")
    cal = pd.read_csv(REAL / "m5" / "calendar.csv", parse_dates=["date"])
    dmap = cal.set_index("d")["date"]
    ev = pd.concat([cal[["date", c]].rename(columns={c: "name"}).dropna()
                    for c in ("event_name_1", "event_name_2")], ignore_index=True)
    rows = []
    for _, r in sales.iterrows():
        days = [c for c in sales.columns if c.startswith("d_")]
        y = pd.Series(r[days].to_numpy(float), index=pd.DatetimeIndex(dmap[days].to_numpy()))
        train, test = y.iloc[:-horizon], y.iloc[-horizon:].to_numpy()
        res = forecast(train, horizon=horizon, freq="D", events=ev, calendar=False)
        f = res.forecast["point"].to_numpy()
        sn = np.tile(train.to_numpy()[-7:], horizon // 7 + 1)[:horizon]
        rows.append({"id": r["id"], "model": res.model,
                     "mase": mase(train.to_numpy(), test, f, 7),
                     "mase_snaive": mase(train.to_numpy(), test, sn, 7),
                     "cov80": float(np.mean((test >= res.forecast["lo80"]) &
                                            (test <= res.forecast["hi80"]))),
                     "promotion_gain": res.promotion_gain})
    t = pd.DataFrame(rows)
    return {"series": len(t), "horizon": horizon, "mase": float(t["mase"].mean()),
            "mase_seasonal_naive": float(t["mase_snaive"].mean()),
            "coverage80_test": float(t["cov80"].mean()), "per_series": t.to_dict("records")}


def uci() -> dict:
    """UCI invoice revenue, daily and weekly, against seasonal naive."""
    inv = pd.read_csv(REAL / "uci_online_retail_ii_invoices" / "online_retail_ii_invoices.csv")
    inv = inv.drop_duplicates("invoice_id")
    inv["date"] = pd.to_datetime(inv["invoice_date"], format="%m/%d/%y %H:%M").dt.normalize()
    daily = inv.groupby("date")["total_price"].sum()
    daily = daily.reindex(pd.date_range(daily.index.min(), "2011-12-04"), fill_value=0.0)
    out = {}
    for label, y, h, m in (("daily", daily, 28, 7),
                           ("weekly", daily.resample("W-SUN").sum().iloc[1:], 9, 52)):
        train, test = y.iloc[:-h], y.iloc[-h:].to_numpy()
        res = forecast(train, horizon=h, freq="D" if label == "daily" else "W", calendar=False)
        f = res.forecast["point"].to_numpy()
        tr = train.to_numpy()
        sn = tr[-m:][np.arange(h) % m] if len(tr) >= m else np.repeat(tr[-1], h)
        out[label] = {"horizon": h, "model": res.model, "mase": mase(tr, test, f, m),
                      "mase_seasonal_naive": mase(tr, test, sn, m), "smape": smape(test, f),
                      "smape_seasonal_naive": smape(test, sn)}
    return out


def main(quick: bool = False) -> dict:
    """Run the forecast benchmark (``quick``: 40 M4 series, 100 speed series)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    figures: dict = {"quick": quick}
    m4 = m4_weekly(40 if quick else None)
    table = m4.pop("table")
    figures["m4_weekly"] = m4
    figures["speed"] = speed(100 if quick else 1000)
    figures["m5"] = m5()
    figures["uci"] = uci()
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    md = ["| method | sMAPE | MASE | OWA |", "|---|---:|---:|---:|"]
    md += [f"| {r.method} | {r.smape:.3f} | {r.mase:.3f} | {r.owa:.3f} |"
           for r in table.itertuples()]
    if not quick:  # a quick (smoke) run writes only forecast_quick.json, never the tables
        table.to_csv(RESULTS / "forecast_m4.csv", index=False)
        note = (f"M4 Weekly, {m4['series']} series, horizon 13; MASE with m = 1 as in M4. "
                "Published rows from benchmarks.csv (same run).")
        (RESULTS / "forecast_m4.md").write_text(note + "\n\n" + "\n".join(md) + "\n",
                                                encoding="utf-8")
    write_figures("forecast", figures)
    print(json.dumps(figures, indent=2, ensure_ascii=False, default=str))
    print("\n".join(md))
    return figures


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
