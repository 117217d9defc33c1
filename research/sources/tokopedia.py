"""Tokopedia store listing of "Love, Bonito Indonesia" (4,260 products with price, units sold,
page views, reviews) → items (one snapshot).

Source
------
``../shared/data/real/tokopedia_lovebonito/getLayoutQueryData.csv`` (see its SOURCE.md):
repository ekasetyo090/love-bonito-stats, commit c1085a5 (2023-12-12), taken by the author
from Tokopedia's public product API. One shop (shopID 9633142), listings created 2020-10-01
.. 2023-11-27, snapshot about 2023-12. Pairs with ``google_trends/love_bonito_id``.

Licence: no licence file; publicly visible marketplace data scraped by the repository
author — **testing/research only, no redistribution outside the project**.

Mapping decisions
-----------------
* **snapshot_date**: default ``2023-12-12``, the upstream commit date (the newest listing was
  created 2023-11-27, so the snapshot lies between); pass ``snapshot_date=`` to override.
* **item_id** = ``productID`` (read as text); **title** = ``product_name``.
* **shop** = ``shopName`` (``Love, Bonito Indonesia``): the listing is one store's, and the
  brand is the store. ``brand`` is left empty.
* **category** = the top level of Tokopedia's category path ``related_category_name``
  (``Fashion Wanita`` for 4,240 listings); ``leaf_category`` = ``category_name`` (56 leaf
  categories such as ``Celana Panjang Wanita``).
* **price** = ``product_price``, **currency IDR** (rupiah, from the file's ``currency``
  column; not yuan). The **2 listings priced 0 are dropped** (the contract needs price > 0).
* **sales_30d** = ``countSold`` — **units sold over the listing's whole life**, not in the
  last 30 days (the API gives no window): real units, but cumulative, so older listings
  weigh more. ``revenue_30d`` is left empty (the author's ``productRevenue`` =
  countSold × price is not stored).
* Kept in ``attributes`` (JSON): ``views`` (``countView``, product-page views — a traffic
  measure with no date, so it cannot become ``traffic`` rows), ``reviews``, ``rating``,
  ``showcase`` (``etalase_name``), ``created`` (``dateCreate``), ``is_variant``, ``stock``.
  4,255 of the listings are variants (size/colour) of a style, each its own listing.
* Dropped: URLs, flags (leasing, adult, COD …), related-category ids, the author's
  ``soldPerViewRatio`` and ``productRevenue``.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pandas as pd

from research.sources.common import read_csv, require_files, require_folder, snapshot

__all__ = ["NAME", "DEFAULT_SNAPSHOT", "read"]

NAME = "tokopedia_lovebonito"
DEFAULT_SNAPSHOT = "2023-12-12"
FILE = "getLayoutQueryData.csv"
COLUMNS = ("productID", "shopName", "product_name", "product_price", "currency", "countSold",
           "countView", "countReview", "rating", "category_name", "related_category_name",
           "etalase_name", "dateCreate", "isVariant", "stockValue")


def _top_level(text: object) -> str | None:
    if not isinstance(text, str):
        return None
    try:
        parts = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    return str(parts[0]) if isinstance(parts, list | tuple) and parts else None


def read(path: Path, snapshot_date: str | None = None) -> dict[str, pd.DataFrame]:
    """Map the Tokopedia store listing onto one items snapshot.

    Parameters
    ----------
    path : Path
        The ``tokopedia_lovebonito/`` folder.
    snapshot_date : str, optional
        Date of the snapshot; default 2023-12-12 (the upstream commit date).

    Returns
    -------
    dict
        ``{"items": frame}``.
    """
    folder = require_folder(path, "Tokopedia Love, Bonito")
    file = require_files(folder, [FILE], "Tokopedia Love, Bonito")[FILE]
    raw = read_csv(file, "Tokopedia listing", COLUMNS, dtype={"productID": str})
    numbers = {}
    for col in ("product_price", "countSold", "countView", "countReview", "rating",
                "stockValue"):
        numbers[col] = pd.to_numeric(raw[col], errors="coerce")
        if numbers[col].isna().any() and col in ("product_price", "countSold"):
            raise ValueError(f"{file}: column {col} holds a value that is not a number "
                             f"({raw.loc[numbers[col].isna(), col].iloc[0]!r})")
    keep = numbers["product_price"] > 0
    raw = raw[keep]
    nums = {k: v[keep] for k, v in numbers.items()}
    top = raw["related_category_name"].map(_top_level)
    category = top.fillna(raw["category_name"])
    attributes = [
        json.dumps({k: v for k, v in {
            "views": int(vw) if pd.notna(vw) else None,
            "reviews": int(rv) if pd.notna(rv) else None,
            "rating": float(rt) if pd.notna(rt) else None,
            "showcase": sc if isinstance(sc, str) else None,
            "created": cr if isinstance(cr, str) else None,
            "is_variant": str(iv).lower() == "true",
            "stock": int(st) if pd.notna(st) else None}.items() if v is not None},
            ensure_ascii=False)
        for vw, rv, rt, sc, cr, iv, st in zip(
            nums["countView"], nums["countReview"], nums["rating"], raw["etalase_name"],
            raw["dateCreate"], raw["isVariant"], nums["stockValue"], strict=True)]
    items = pd.DataFrame({
        "snapshot_date": snapshot(snapshot_date, DEFAULT_SNAPSHOT),
        "item_id": raw["productID"].astype(str).to_numpy(),
        "shop": raw["shopName"].to_numpy(),
        "title": raw["product_name"].to_numpy(),
        "category": category.to_numpy(),
        "leaf_category": raw["category_name"].to_numpy(),
        "price": nums["product_price"].astype(float).to_numpy(),
        "sales_30d": nums["countSold"].astype("int64").to_numpy(),
        "currency": raw["currency"].to_numpy(),
        "attributes": attributes,
    })
    return {"items": items}
