"""Amazon India product sample ("Amazon Sales Dataset", scraped from amazon.in about 2023)
→ items (one snapshot).

Source
------
``../shared/data/real/amazon_in_products/amazon.csv`` (see its SOURCE.md): repository
AdityaSharma2003/Amazon_Sales_Data_Modeling_Project, commit 0221f89 (2024-03-06), a byte copy
of the Kaggle dataset "Amazon Sales Dataset" (karkavelrajaj). 1,465 rows, 1,351 distinct
products, no dates.

Licence: no licence file in the repository; the Kaggle release's licence could not be
checked — treat as **non-commercial research data**.

Mapping decisions
-----------------
* **snapshot_date**: the file has no date. Default ``2024-03-06``, the upstream commit date —
  the latest the listing can have been taken (the scrape itself is from about 2023); pass
  ``snapshot_date=`` when you know better.
* **item_id** = ``product_id`` (the ASIN). 92 ASINs appear more than once (114 extra rows:
  the same product with different review sets; a few differ in price or rating count): the
  **first row is kept**.
* **shop** = the brand, taken as the **first word of ``product_name``** (``boAt``,
  ``Samsung``, ``AmazonBasics`` …): the file has no brand or seller column, and Amazon titles
  start with the brand. Also stored as ``brand``. This is a heuristic: a title that starts
  with a generic word yields that word.
* **category** = the top level of the ``|``-separated category path (``Electronics``,
  ``Computers&Accessories``, ``Home&Kitchen`` …); ``leaf_category`` = its last level.
* **price** = ``discounted_price`` (the price a buyer pays), parsed from ``₹1,099``;
  **currency INR** (rupees, not yuan). The list price ``actual_price``, the
  ``discount_percentage`` (as a fraction), ``rating`` and the full category path are kept in
  ``attributes`` (JSON).
* **sales_30d** = ``rating_count`` — **a demand proxy, not units sold**: the number of
  ratings the product has collected over its life, the only volume signal in the file. Rows
  without a rating count (2) get 0. ``revenue_30d`` is left empty (a price × rating-count
  product is not money).
* Dropped: ``about_product``, the reviewer lists and review texts, image and product links.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from research.sources.common import read_csv, require_files, require_folder, snapshot

__all__ = ["NAME", "CURRENCY", "DEFAULT_SNAPSHOT", "read", "parse_money"]

NAME = "amazon_in_products"
CURRENCY = "INR"
DEFAULT_SNAPSHOT = "2024-03-06"
FILE = "amazon.csv"
COLUMNS = ("product_id", "product_name", "category", "discounted_price", "actual_price",
           "discount_percentage", "rating", "rating_count")


def parse_money(values: pd.Series) -> pd.Series:
    """Turn ``₹1,099`` / ``24,269`` / ``64%`` strings into floats (missing stays missing).

    Examples
    --------
    >>> parse_money(pd.Series(["₹1,099", "64%", None])).tolist()
    [1099.0, 64.0, nan]
    """
    text = values.astype("string").str.replace(r"[₹,%\s]", "", regex=True)
    return pd.to_numeric(text, errors="coerce").astype(float)


def read(path: Path, snapshot_date: str | None = None) -> dict[str, pd.DataFrame]:
    """Map ``amazon.csv`` onto one items snapshot.

    Parameters
    ----------
    path : Path
        The ``amazon_in_products/`` folder.
    snapshot_date : str, optional
        Date of the snapshot; default 2024-03-06 (the upstream commit date).

    Returns
    -------
    dict
        ``{"items": frame}``.
    """
    folder = require_folder(path, "Amazon India")
    file = require_files(folder, [FILE], "Amazon India")[FILE]
    raw = read_csv(file, "Amazon India", COLUMNS, dtype=str, keep_default_na=False,
                   na_values=[""])
    raw = raw.drop_duplicates("product_id", keep="first")
    price = parse_money(raw["discounted_price"])
    if price.isna().any():
        bad = raw.loc[price.isna(), "discounted_price"].iloc[0]
        raise ValueError(f"{file}: discounted_price {bad!r} is not a rupee amount")
    path_parts = raw["category"].str.split("|")
    brand = raw["product_name"].str.strip().str.split().str[0]
    list_price = parse_money(raw["actual_price"])
    discount = parse_money(raw["discount_percentage"]) / 100
    rating = pd.to_numeric(raw["rating"], errors="coerce")
    ratings = parse_money(raw["rating_count"])
    attributes = [
        json.dumps({k: v for k, v in {
            "list_price": lp, "discount": round(d, 4) if pd.notna(d) else None,
            "rating": r, "rating_count": int(n) if pd.notna(n) else None,
            "category_path": cp}.items() if v is not None and not pd.isna(v)},
            ensure_ascii=False)
        for lp, d, r, n, cp in zip(list_price, discount, rating, ratings, raw["category"],
                                   strict=True)]
    items = pd.DataFrame({
        "snapshot_date": snapshot(snapshot_date, DEFAULT_SNAPSHOT),
        "item_id": raw["product_id"].to_numpy(),
        "shop": brand.to_numpy(),
        "brand": brand.to_numpy(),
        "title": raw["product_name"].to_numpy(),
        "category": path_parts.str[0].to_numpy(),
        "leaf_category": path_parts.str[-1].to_numpy(),
        "price": price.to_numpy(),
        "sales_30d": ratings.fillna(0).astype("int64").to_numpy(),
        "currency": CURRENCY,
        "attributes": attributes,
    })
    return {"items": items}
