"""UCI Online Retail II, invoice-level roll-up (a UK online gift retailer, 2009-12-01 ..
2011-12-09) → sales: one daily revenue series for forecast benchmarks.

Source
------
``../shared/data/real/uci_online_retail_ii_invoices/online_retail_ii_invoices.csv`` (see its
SOURCE.md): repository ivyklo/uw-data-science-process-and-tools, commit 0359377, file
``data/online_retail.csv`` — a course's roll-up of the UCI "Online Retail II" dataset to one
row per invoice (54,716 rows). Columns: invoice_id (``C`` prefix = cancellation), invoice_date
(``M/D/YY H:MM``), customer_id, domestic_sale, item_types_purchased, total_quantity,
total_price (GBP).

Licence: the UCI dataset is **CC BY 4.0** — cite Chen, D. (2019), Online Retail II, UCI
Machine Learning Repository, doi:10.24432/C5CG6D.

Mapping decisions
-----------------
* **Duplicates**: 1,088 invoice ids appear twice (the week 2010-12-01..09 present in both
  sheets of the original workbook); **de-duplicated on invoice_id, first row kept** (53,628
  invoices), as SOURCE.md prescribes.
* **sales**: one row per calendar day, ``item_id = "all"`` (the roll-up has no product lines,
  so the whole shop is one series), ``shop = "online_retail_ii"``, **currency GBP**.
* ``revenue`` = Σ ``total_price`` of the day's sale invoices (no ``C``/``A`` prefix, total
  > 0); ``units`` = Σ ``total_quantity`` of those invoices; ``buyers`` = distinct known
  ``customer_id`` among them (8,752 of the de-duplicated invoices have no customer: they are
  not counted there, but their money is in revenue).
* ``refunds`` = −Σ ``total_price`` of the day's cancellation invoices (``C`` prefix; one of
  them, C496350, is +373.57 and reduces that day's refunds). Net sales = revenue − refunds.
* **Dropped**: the 6 ``A`` invoices (bad-debt adjustments of up to −£53,594, accounting
  entries rather than sales or returns) and invoices with a zero total (stock adjustments
  with negative quantities and no money).
* The date is the invoice's calendar day (UK time as recorded). **Every day from the first
  to the last invoice has a row; a day without invoices (the shop did not trade on
  Saturdays, and closed over Christmas) has zero units and revenue** — a regular daily
  series for forecasting.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from research.sources.common import read_csv, require_files, require_folder

__all__ = ["NAME", "CURRENCY", "read", "load_invoices"]

NAME = "uci_online_retail_ii_invoices"
CURRENCY = "GBP"
FILE = "online_retail_ii_invoices.csv"
COLUMNS = ("invoice_id", "invoice_date", "customer_id", "domestic_sale", "total_quantity",
           "total_price")


def load_invoices(path: str | Path) -> pd.DataFrame:
    """Read the invoices, de-duplicated on invoice_id, with a ``date`` and a ``kind``.

    ``kind`` is ``sale`` (total > 0, no prefix), ``cancellation`` (``C`` prefix),
    ``adjustment`` (``A`` prefix) or ``zero`` (no money).
    """
    folder = require_folder(path, "UCI Online Retail II")
    file = require_files(folder, [FILE], "UCI Online Retail II")[FILE]
    raw = read_csv(file, "UCI Online Retail II invoices", COLUMNS,
                   dtype={"invoice_id": str, "customer_id": str})
    raw = raw.drop_duplicates("invoice_id", keep="first")
    try:
        stamp = pd.to_datetime(raw["invoice_date"], format="%m/%d/%y %H:%M")
    except ValueError as exc:
        raise ValueError(f"{file}: invoice_date is not M/D/YY H:MM ({exc})") from None
    price = pd.to_numeric(raw["total_price"], errors="coerce")
    if price.isna().any():
        raise ValueError(f"{file}: total_price holds "
                         f"{raw.loc[price.isna(), 'total_price'].iloc[0]!r}, not a number")
    ident = raw["invoice_id"].str.strip()
    kind = pd.Series("zero", index=raw.index)
    kind[(price > 0)] = "sale"
    kind[ident.str.startswith("C")] = "cancellation"
    kind[ident.str.startswith("A")] = "adjustment"
    return raw.assign(date=stamp.dt.normalize(), total_price=price, kind=kind,
                      total_quantity=pd.to_numeric(raw["total_quantity"]))


def read(path: Path) -> dict[str, pd.DataFrame]:
    """Map the invoices onto one daily sales series.

    Parameters
    ----------
    path : Path
        The ``uci_online_retail_ii_invoices/`` folder.

    Returns
    -------
    dict
        ``{"sales": frame}``.
    """
    invoices = load_invoices(path)
    days = pd.date_range(invoices["date"].min(), invoices["date"].max(), freq="D", name="date")
    sales = invoices[invoices["kind"] == "sale"].groupby("date").agg(
        revenue=("total_price", "sum"), units=("total_quantity", "sum"),
        buyers=("customer_id", "nunique"))
    refunds = -invoices[invoices["kind"] == "cancellation"].groupby("date")["total_price"].sum()
    out = sales.reindex(days).assign(refunds=refunds.reindex(days)).fillna(0).reset_index()
    out = out.assign(item_id="all", shop="online_retail_ii", currency=CURRENCY,
                     units=out["units"].astype("int64"), buyers=out["buyers"].astype("int64"))
    return {"sales": out[["date", "item_id", "units", "revenue", "refunds", "buyers", "shop",
                          "currency"]]}
