"""Amazon UK product sample (PromptCloud "amazon_co-ecommerce_sample", mostly toys & hobbies)
→ items (one snapshot).

Source
------
``../shared/data/real/amazon_uk_products/amazon_co-ecommerce_sample.csv`` (see its
SOURCE.md): repository Yannooh/Products, commit 7e86200 (2021-12-11), produced from
PromptCloud's public "Amazon.co.uk e-commerce sample" (10,000 products) by keeping 9 columns,
cleaning the price to a number and writing the file **without a header**. Column order
(from the author's ``data.py``): uniq_id, product_name, amazon_category_and_sub_category,
manufacturer, price, number_available_in_stock, number_of_reviews,
number_of_answered_questions, average_rating.

Licence: no licence file; PromptCloud released the sample publicly (data.world / Kaggle) —
treat as **research / non-commercial**.

Mapping decisions
-----------------
* **snapshot_date**: the file has no date. Default ``2021-12-11``, the upstream commit date —
  the latest the listing can have been taken; pass ``snapshot_date=`` when you know better.
* **item_id** = ``uniq_id``; **title** = ``product_name``.
* **shop** = ``manufacturer`` (the brand/maker — the file has no seller), also stored as
  ``brand``; the 7 rows without one get ``"unknown"``.
* **category** = the top level of the ``" > "``-separated path (``Hobbies``, ``Die-Cast &
  Toy Vehicles``, ``Figures & Playsets`` …); ``leaf_category`` = its last level; the 690
  rows without a path get ``"uncategorised"``.
* **price** = ``price``, **currency GBP** (pounds, not yuan). The **1,435 rows without a price
  are dropped** (the contract needs a price > 0), leaving 8,565 listings.
* **sales_30d** = ``number_of_reviews`` — **a demand proxy, not units sold**: reviews
  collected over the product's life, the only volume signal in the file. ``revenue_30d`` is
  left empty.
* ``average_rating``, ``number_of_answered_questions``, the stock text (``"5 new"``) and the
  full category path are kept in ``attributes`` (JSON).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from research.sources.common import read_csv, require_files, require_folder, snapshot

__all__ = ["NAME", "CURRENCY", "DEFAULT_SNAPSHOT", "COLUMNS", "read"]

NAME = "amazon_uk_products"
CURRENCY = "GBP"
DEFAULT_SNAPSHOT = "2021-12-11"
FILE = "amazon_co-ecommerce_sample.csv"
COLUMNS = ("uniq_id", "product_name", "amazon_category_and_sub_category", "manufacturer",
           "price", "number_available_in_stock", "number_of_reviews",
           "number_of_answered_questions", "average_rating")
_NUMBERS = ("price", "number_of_reviews", "number_of_answered_questions", "average_rating")


def read(path: Path, snapshot_date: str | None = None) -> dict[str, pd.DataFrame]:
    """Map the headerless Amazon UK sample onto one items snapshot.

    Parameters
    ----------
    path : Path
        The ``amazon_uk_products/`` folder.
    snapshot_date : str, optional
        Date of the snapshot; default 2021-12-11 (the upstream commit date).

    Returns
    -------
    dict
        ``{"items": frame}``.
    """
    folder = require_folder(path, "Amazon UK")
    file = require_files(folder, [FILE], "Amazon UK")[FILE]
    raw = read_csv(file, "Amazon UK", header=None, dtype=str, keep_default_na=False,
                   na_values=[""])
    if raw.shape[1] != len(COLUMNS):
        raise ValueError(f"{file} is not the Amazon UK file expected: it has {raw.shape[1]} "
                         f"columns, expected {len(COLUMNS)} without a header "
                         f"({', '.join(COLUMNS)})")
    raw.columns = list(COLUMNS)
    numbers = {}
    for col in _NUMBERS:
        numbers[col] = pd.to_numeric(raw[col], errors="coerce")
        bad = numbers[col].isna() & raw[col].notna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0]) + 1
            raise ValueError(f"{file} is not the Amazon UK file expected: column {col} "
                             f"(position {COLUMNS.index(col) + 1}) holds "
                             f"{raw.loc[bad, col].iloc[0]!r} in line {row}, not a number")
    keep = numbers["price"].notna() & (numbers["price"] > 0)
    raw = raw[keep]
    nums = {k: v[keep] for k, v in numbers.items()}
    path_text = raw["amazon_category_and_sub_category"]
    parts = path_text.fillna("uncategorised").str.split(" > ")
    maker = raw["manufacturer"].fillna("unknown").str.strip()
    attributes = [
        json.dumps({k: v for k, v in {
            "rating": r, "answered_questions": int(q) if pd.notna(q) else None,
            "stock": s.replace("\xa0", " ") if isinstance(s, str) else None,
            "category_path": cp if isinstance(cp, str) else None}.items()
            if v is not None and not pd.isna(v)}, ensure_ascii=False)
        for r, q, s, cp in zip(nums["average_rating"], nums["number_of_answered_questions"],
                               raw["number_available_in_stock"], path_text, strict=True)]
    items = pd.DataFrame({
        "snapshot_date": snapshot(snapshot_date, DEFAULT_SNAPSHOT),
        "item_id": raw["uniq_id"].to_numpy(),
        "shop": maker.to_numpy(),
        "brand": maker.to_numpy(),
        "title": raw["product_name"].to_numpy(),
        "category": parts.str[0].str.strip().to_numpy(),
        "leaf_category": parts.str[-1].str.strip().to_numpy(),
        "price": nums["price"].astype(float).to_numpy(),
        "sales_30d": nums["number_of_reviews"].fillna(0).astype("int64").to_numpy(),
        "currency": CURRENCY,
        "attributes": attributes,
    })
    return {"items": items}
