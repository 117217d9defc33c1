"""Olist Brazilian E-Commerce (real marketplace orders, 2016-09 .. 2018-10) → items, sales,
audience, market_daily.

Source
------
``../shared/data/real/olist/`` (see its SOURCE.md): the Olist public dataset ("Brazilian
E-Commerce Public Dataset by Olist"). ``sample_8135_orders/`` is a *consistent sample* from
cab-g/bravida-analytics-case (commit a28b371): all nine tables for 8,135 orders — every
non-delivered order of the full data (2,963) plus 5,172 delivered orders (about 5.4 % of the
96,478 delivered). ``catalog_full/`` (olist/work-at-olist-data, commit d9e4980) is the complete
product (32,951) and seller (3,095) catalogue and the category translation table.

Licence: olist/work-at-olist-data carries an MIT licence (© 2019 @olist); the Kaggle release is
CC BY-NC-SA 4.0 — treat as **non-commercial, attribution to Olist required**.

What is read
------------
``PATH`` is either the ``olist/`` folder (the adapter uses its ``sample_8135_orders/``) or the
``sample_8135_orders/`` folder itself. Files used: ``olist_orders_dataset.csv``,
``olist_order_items_dataset.csv``, ``olist_products_dataset.csv``,
``olist_customers_dataset.csv``, ``product_category_name_translation.csv``.
Not used: payments (one payment per order, cannot be split across the categories of a
mixed order — category money is taken from the item prices instead), reviews, sellers
(no names, only zip/city), geolocation, and ``catalog_full/`` — the catalogue lists products
and sellers that have no order in the sample, so they have no price or sales to map; every
sold product and seller of the sample is already in ``sample_8135_orders/`` (its rows are
byte-identical to the catalogue's).

Mapping decisions
-----------------
* **Only orders with ``order_status == "delivered"`` count.** The sample holds *every*
  non-delivered order of the full data but only ~5 % of the delivered ones, so
  non-delivered orders are 36 % of the sample against ~3 % in reality (SOURCE.md); counting
  them would inflate cancellations and distort every share. Volumes are therefore a ~5 %
  sample of the real delivered volume (about 1/18.6).
* An order's date is its ``order_purchase_timestamp`` (local Brazil time) — when the buyer
  paid, as a platform's 支付 figures are dated. One order-item line is one unit (Olist numbers
  the units of an order 1..n in ``order_item_id``).
* **Money is BRL** (``currency = "BRL"``), not yuan. Revenue is the item ``price`` (what the
  buyer paid for the goods); ``freight_value`` is charged to the buyer on top and is kept
  out of revenue.
* **Listing** = product × seller: ``item_id = "<product_id>_<first 8 characters of
  seller_id>"``, because 52 products are sold by more than one seller and the items key is
  (snapshot_date, item_id). ``shop`` = the full ``seller_id`` (Olist sellers are anonymous).
* **category** = the Portuguese ``product_category_name``; ``category_en`` its English
  translation (``None`` for the two names the translation table lacks, ``pc_gamer`` and
  ``portateis_cozinha_e_preparadores_de_alimentos``); products without a category (92 sold
  lines) get ``category = "sem_categoria"``.
* **items**: one snapshot per month-end, from the month of the first delivered order to the
  month of the last. A listing appears in a snapshot when it sold in the 30 days ending on the
  snapshot date (snapshot_date − 29 days .. snapshot_date): ``sales_30d`` = units in that
  window, ``price`` = mean price paid per unit in the window, ``revenue_30d`` = the sum
  paid. Listings that did not sell are not observable here and do not appear. ``attributes``
  holds the product's weight (g), size (cm) and photo count where known. No titles exist.
* **sales** ("our shop"): the seller given by ``our_seller`` (default: the seller with the
  most delivered orders; ties go to the smallest id). One row per listing per day with a sale:
  ``units``, ``revenue`` (Σ price), ``price`` (mean unit price that day), ``buyers``
  (distinct ``customer_unique_id``), ``shop``, ``currency``; days without a sale have no
  row (zero units). The returned frame also carries ``freight`` (Σ freight_value, BRL), a
  cost-to-serve input the warehouse has no column for, so it is not stored.
* **audience**: per calendar month (snapshot_date = month-end) and category, dimension
  ``province`` (customer state code, e.g. ``SP``), ``city`` (``"<customer_city> (<state>)"``,
  because city names repeat across states), ``hour`` (``"0"``..``"23"`` of the purchase) and
  ``weekday`` (``"1"`` = Monday .. ``"7"`` = Sunday). ``share`` is the segment's fraction of
  the category's delivered *orders* that month (so shares sum to one; 99 % of the
  sample's customers placed a single order, so it is close to the buyer share);
  ``buyers`` = distinct ``customer_unique_id`` in the segment.
* **market_daily**: per day and category, ``orders`` (distinct delivered orders with an item
  of the category), ``payment_amount`` (Σ item price of the category's items in them, BRL,
  freight excluded) and ``buyers`` (distinct ``customer_unique_id``). No index columns
  (trade_index, visitors) exist in this source.

Examples
--------
>>> from pathlib import Path
>>> frames = read(Path("../shared/data/real/olist"))  # doctest: +SKIP
>>> sorted(frames)  # doctest: +SKIP
['audience', 'items', 'market_daily', 'sales']
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from research.sources.common import month_ends, read_csv, require_files, require_folder

__all__ = ["NAME", "CURRENCY", "read", "load_delivered_lines", "top_seller", "seller_sales"]

NAME = "olist"
CURRENCY = "BRL"
NO_CATEGORY = "sem_categoria"
_FILES = ("olist_orders_dataset.csv", "olist_order_items_dataset.csv",
          "olist_products_dataset.csv", "olist_customers_dataset.csv",
          "product_category_name_translation.csv")
_TS = "%Y-%m-%d %H:%M:%S"


def _orders_folder(path: Path) -> Path:
    folder = require_folder(path, "Olist")
    if (folder / "sample_8135_orders").is_dir():
        return folder / "sample_8135_orders"
    return folder


def load_delivered_lines(path: str | Path) -> pd.DataFrame:
    """Read the sample and return one row per delivered order-item line (one unit).

    Parameters
    ----------
    path : path-like
        The ``olist/`` folder or its ``sample_8135_orders/`` folder.

    Returns
    -------
    DataFrame
        order_id, purchased_at, date, product_id, seller_id, item_id, price, freight,
        customer_unique_id, province, city, category, category_en and the product's size
        columns.
    """
    folder = _orders_folder(Path(path))
    files = require_files(folder, _FILES, "Olist")
    orders = read_csv(files[_FILES[0]], "Olist orders",
                      ["order_id", "customer_id", "order_status", "order_purchase_timestamp"])
    items = read_csv(files[_FILES[1]], "Olist order items",
                     ["order_id", "order_item_id", "product_id", "seller_id", "price",
                      "freight_value"])
    products = read_csv(files[_FILES[2]], "Olist products",
                        ["product_id", "product_category_name"])
    customers = read_csv(files[_FILES[3]], "Olist customers",
                         ["customer_id", "customer_unique_id", "customer_city",
                          "customer_state"])
    names = read_csv(files[_FILES[4]], "Olist category translation",
                     ["product_category_name", "product_category_name_english"],
                     encoding="utf-8-sig")
    delivered = orders[orders["order_status"] == "delivered"]
    try:
        purchased = pd.to_datetime(delivered["order_purchase_timestamp"], format=_TS)
    except ValueError as exc:
        raise ValueError(f"{files[_FILES[0]]}: order_purchase_timestamp is not "
                         f"YYYY-MM-DD HH:MM:SS ({exc})") from None
    delivered = delivered.assign(purchased_at=purchased)[
        ["order_id", "customer_id", "purchased_at"]]
    lines = items.merge(delivered, on="order_id", how="inner", validate="many_to_one")
    lines = lines.merge(customers[["customer_id", "customer_unique_id", "customer_city",
                                   "customer_state"]], on="customer_id", how="left",
                        validate="many_to_one")
    size_cols = [c for c in ("product_weight_g", "product_length_cm", "product_height_cm",
                             "product_width_cm", "product_photos_qty") if c in products]
    lines = lines.merge(products[["product_id", "product_category_name", *size_cols]],
                        on="product_id", how="left", validate="many_to_one")
    translation = dict(zip(names["product_category_name"],
                           names["product_category_name_english"], strict=True))
    category = lines["product_category_name"].fillna(NO_CATEGORY)
    lines = lines.assign(
        date=lines["purchased_at"].dt.normalize(),
        category=category,
        category_en=category.map(translation),
        item_id=lines["product_id"] + "_" + lines["seller_id"].str[:8],
        freight=lines["freight_value"].astype(float),
        price=lines["price"].astype(float),
        province=lines["customer_state"],
        city=lines["customer_city"] + " (" + lines["customer_state"] + ")",
    )
    pairs = lines[["item_id", "product_id", "seller_id"]].drop_duplicates()
    if pairs["item_id"].duplicated().any():  # two sellers sharing an 8-character prefix
        raise ValueError("Olist: two sellers of one product share the first 8 characters of "
                         "their id; item ids would collide")
    return lines


def _attributes(lines: pd.DataFrame) -> pd.Series:
    labels = {"product_weight_g": "weight_g", "product_length_cm": "length_cm",
              "product_height_cm": "height_cm", "product_width_cm": "width_cm",
              "product_photos_qty": "photos"}
    cols = [c for c in labels if c in lines]
    per_item = lines.drop_duplicates("item_id").set_index("item_id")[cols]
    out = {}
    for item, row in zip(per_item.index, per_item.to_dict("records"), strict=True):
        known = {labels[c]: int(v) if float(v).is_integer() else float(v)
                 for c, v in row.items() if pd.notna(v)}
        out[item] = json.dumps(known) if known else None
    return pd.Series(out, dtype="string")


def _items(lines: pd.DataFrame) -> pd.DataFrame:
    attrs = _attributes(lines)
    frames = []
    for end in month_ends(lines["date"]):
        window = lines[(lines["date"] > end - pd.Timedelta(days=30)) & (lines["date"] <= end)]
        if window.empty:
            continue
        snap = window.groupby("item_id", sort=True).agg(
            shop=("seller_id", "first"), category=("category", "first"),
            category_en=("category_en", "first"), price=("price", "mean"),
            sales_30d=("price", "size"), revenue_30d=("price", "sum")).reset_index()
        frames.append(snap.assign(snapshot_date=end))
    items = pd.concat(frames, ignore_index=True)
    items["attributes"] = items["item_id"].map(attrs)
    items["currency"] = CURRENCY
    return items[["snapshot_date", "item_id", "shop", "category", "category_en", "price",
                  "sales_30d", "revenue_30d", "currency", "attributes"]]


def top_seller(lines: pd.DataFrame) -> str:
    """The seller with the most delivered orders (ties: the smallest id)."""
    counts = lines.groupby("seller_id")["order_id"].nunique()
    return str(counts[counts == counts.max()].sort_index().index[0])


def seller_sales(lines: pd.DataFrame, seller: str) -> pd.DataFrame:
    """Daily sales rows of one seller's listings (our shop), from :func:`load_delivered_lines`.

    Raises
    ------
    ValueError
        When the seller has no delivered order.
    """
    ours = lines[lines["seller_id"] == seller]
    if ours.empty:
        raise ValueError(f"Olist: seller {seller!r} has no delivered order in the sample "
                         f"(the default is the seller with the most delivered orders)")
    sales = ours.groupby(["date", "item_id"], sort=True).agg(
        units=("price", "size"), revenue=("price", "sum"), price=("price", "mean"),
        buyers=("customer_unique_id", "nunique"), freight=("freight", "sum")).reset_index()
    return sales.assign(shop=seller, currency=CURRENCY)


def _audience(lines: pd.DataFrame) -> pd.DataFrame:
    orders = lines.drop_duplicates(["order_id", "category"]).assign(
        snapshot_date=lambda f: f["date"].dt.to_period("M").dt.to_timestamp(how="end")
        .dt.normalize(),
        hour=lambda f: f["purchased_at"].dt.hour.astype(str),
        weekday=lambda f: (f["purchased_at"].dt.day_of_week + 1).astype(str))
    totals = orders.groupby(["snapshot_date", "category"])["order_id"].nunique()
    parts = []
    for dim in ("province", "city", "hour", "weekday"):
        grouped = orders.dropna(subset=[dim]).groupby(["snapshot_date", "category", dim])
        part = grouped.agg(n=("order_id", "nunique"),
                           buyers=("customer_unique_id", "nunique")).reset_index()
        part = part.rename(columns={dim: "segment"}).assign(dimension=dim)
        part["share"] = part["n"] / part.set_index(["snapshot_date", "category"]).index.map(
            totals).to_numpy()
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    return out[["snapshot_date", "category", "dimension", "segment", "share", "buyers"]]


def _market_daily(lines: pd.DataFrame) -> pd.DataFrame:
    return lines.groupby(["date", "category"], sort=True).agg(
        orders=("order_id", "nunique"), payment_amount=("price", "sum"),
        buyers=("customer_unique_id", "nunique")).reset_index()


def read(path: Path, our_seller: str | None = None) -> dict[str, pd.DataFrame]:
    """Map the Olist sample onto items, sales, audience and market_daily.

    Parameters
    ----------
    path : Path
        The ``olist/`` folder or its ``sample_8135_orders/`` folder.
    our_seller : str, optional
        The ``seller_id`` to treat as our shop in ``sales``; default the seller with the
        most delivered orders.

    Returns
    -------
    dict of DataFrame
        Canonical frames keyed by table name.

    Raises
    ------
    ValueError
        When the folder lacks one of the files or columns the mapping needs, or the
        seller has no delivered order.
    """
    lines = load_delivered_lines(path)
    seller = our_seller or top_seller(lines)
    return {"items": _items(lines), "sales": seller_sales(lines, seller),
            "audience": _audience(lines), "market_daily": _market_daily(lines)}
