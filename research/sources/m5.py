"""M5 (Walmart) — 10 real daily item-store sales series with their weekly prices and the
calendar's events → sales, events.

Source
------
``../shared/data/real/m5/`` (see its SOURCE.md): the slice of the M5 "Forecasting - Accuracy"
competition files committed in zama-github/SPOT (commit cc3d43d): 10 item-store series (two
consecutive items per store/department: HOBBIES_1_001/002 @ CA_1, HOUSEHOLD_1_001/002 @ CA_2,
FOODS_1_001/002 @ CA_3, FOODS_2_033/034 @ TX_1, FOODS_2_323/324 @ WI_1), each with all 1,913
training days (2011-01-29 .. 2016-04-24); the weekly prices of those 10 items in all 10 stores
(``sell_prices_10items.csv``, re-delimited from tab to comma, values unchanged); the complete
M5 calendar (1,969 days to 2016-06-19). ``benchmarks.csv`` / ``aggregation_levels.csv`` are
published scores, not data, and are not loaded.

Licence: no licence file; the data were provided by Walmart through the MOFC/Kaggle M5
competition for **competition and research use** — cite Makridakis, Spiliotis &
Assimakopoulos (2022), International Journal of Forecasting 38(4).

Mapping decisions
-----------------
* **sales**: one row per series per day. ``item_id`` = the M5 series id without the
  competition's ``_validation`` suffix (``HOBBIES_1_001_CA_1``: item and store), because
  the same item sells in several stores and sales are keyed by (date, item_id);
  ``shop`` = the store (``CA_1``); ``category`` = M5's ``cat_id`` (``FOODS``, ``HOBBIES``,
  ``HOUSEHOLD``), so a study scope of one category takes only its series. ``units`` = the day's unit sales (``d_n`` joined to
  ``calendar.d`` for the date).
* ``price`` = that item's ``sell_price`` at that store in the day's Walmart week
  (``wm_yr_wk``); ``revenue`` = units × price; **currency USD**.
* **Days before the item has a price at that store are dropped** (4,081 of 19,130 days): the
  item was not yet on the shelf, so its zeros there are not demand (the M5 organisers too
  ignore the leading zeros). No day with a sale lacks a price.
* **events**: the calendar's ``event_name_1``/``event_type_1`` and ``event_name_2``/
  ``event_type_2`` become (date, name, kind = the type in lower case: ``sporting``,
  ``cultural``, ``national``, ``religious``), for the whole calendar including the 56 days
  after the sales end (known future events are legitimate forecast inputs). SNAP days
  (food-stamp purchase days, which lift FOODS sales) become ``name = "SNAP CA"`` /
  ``"SNAP TX"`` / ``"SNAP WI"``, ``kind = "snap"``.
* Not stored: the prices of the same 10 items in the other 9 stores (90 store-item pairs —
  the items table needs units sold, which those pairs do not have); they are returned by
  :func:`store_prices` for cross-store price comparison.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from research.sources.common import read_csv, require_files, require_folder

__all__ = ["NAME", "CURRENCY", "read", "store_prices"]

NAME = "m5"
CURRENCY = "USD"
SALES = "sales_train_validation_10series.csv"
CALENDAR = "calendar.csv"
PRICES = "sell_prices_10items.csv"
_ID = ("id", "item_id", "dept_id", "cat_id", "store_id", "state_id")


def _files(path: Path) -> dict[str, Path]:
    folder = require_folder(path, "M5")
    return require_files(folder, [SALES, CALENDAR, PRICES], "M5")


def store_prices(path: Path) -> pd.DataFrame:
    """Weekly prices of the 10 items in all 10 stores, with the week's first date (USD)."""
    files = _files(Path(path))
    prices = read_csv(files[PRICES], "M5 sell prices",
                      ["store_id", "item_id", "wm_yr_wk", "sell_price"])
    calendar = read_csv(files[CALENDAR], "M5 calendar", ["date", "wm_yr_wk", "d"])
    first = calendar.groupby("wm_yr_wk")["date"].min().rename("week_start")
    return prices.merge(first, left_on="wm_yr_wk", right_index=True, how="left")


def read(path: Path) -> dict[str, pd.DataFrame]:
    """Map the M5 slice onto sales (10 item-store series) and events.

    Parameters
    ----------
    path : Path
        The ``m5/`` folder.

    Returns
    -------
    dict
        ``{"sales": frame, "events": frame}``.
    """
    files = _files(Path(path))
    sales = read_csv(files[SALES], "M5 sales", [*_ID, "d_1"])
    calendar = read_csv(files[CALENDAR], "M5 calendar",
                        ["date", "wm_yr_wk", "d", "event_name_1", "event_type_1",
                         "event_name_2", "event_type_2", "snap_CA", "snap_TX", "snap_WI"])
    prices = read_csv(files[PRICES], "M5 sell prices",
                      ["store_id", "item_id", "wm_yr_wk", "sell_price"])
    days = [c for c in sales.columns if c.startswith("d_")]
    # a wide-to-long reshape by hand: pandas' melt is slow on 1,913 columns
    n = len(days)
    long = pd.DataFrame({
        **{c: np.repeat(sales[c].to_numpy(), n) for c in _ID},
        "d": np.tile(np.asarray(days, dtype=object), len(sales)),
        "units": sales[days].to_numpy().ravel(),
    })
    long = long.merge(calendar[["d", "date", "wm_yr_wk"]], on="d", how="left",
                      validate="many_to_one")
    if long["date"].isna().any():
        raise ValueError(f"{files[SALES]}: day {long.loc[long['date'].isna(), 'd'].iloc[0]} "
                         f"is not in {files[CALENDAR]}")
    long = long.merge(prices[["store_id", "item_id", "wm_yr_wk", "sell_price"]],
                      on=["store_id", "item_id", "wm_yr_wk"], how="left",
                      validate="many_to_one")
    long = long[long["sell_price"].notna()]
    out = pd.DataFrame({
        "date": pd.to_datetime(long["date"], format="%Y-%m-%d").to_numpy(),
        "item_id": long["id"].str.replace(r"_(validation|evaluation)$", "", regex=True)
        .to_numpy(),
        "units": long["units"].astype("int64").to_numpy(),
        "price": long["sell_price"].astype(float).to_numpy(),
        "shop": long["store_id"].to_numpy(),
        "category": long["cat_id"].to_numpy(),
        "currency": CURRENCY,
    })
    out["revenue"] = out["units"] * out["price"]
    out = out.sort_values(["item_id", "date"], ignore_index=True)
    return {"sales": out, "events": _events(calendar)}


def _events(calendar: pd.DataFrame) -> pd.DataFrame:
    date = pd.to_datetime(calendar["date"], format="%Y-%m-%d")
    parts = []
    for n in (1, 2):
        named = calendar[f"event_name_{n}"].notna()
        parts.append(pd.DataFrame({"date": date[named].to_numpy(),
                                   "name": calendar.loc[named, f"event_name_{n}"].to_numpy(),
                                   "kind": calendar.loc[named, f"event_type_{n}"].str.lower()
                                   .to_numpy()}))
    for state in ("CA", "TX", "WI"):
        on = calendar[f"snap_{state}"].astype(int) == 1
        parts.append(pd.DataFrame({"date": date[on].to_numpy(), "name": f"SNAP {state}",
                                   "kind": "snap"}))
    events = pd.concat(parts, ignore_index=True).drop_duplicates(["date", "name"])
    return events.sort_values(["date", "name"], ignore_index=True)
