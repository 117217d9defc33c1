"""Market overview, listings part: shops, leaders, concentration and best-sellers.

Snapshot aggregations over the canonical ``items`` table run in DuckDB SQL (a DataFrame is
registered, a warehouse attached read-only), so millions of listings are never materialised
in pandas. The result tables ``leaders.csv``, ``concentration.csv``, ``bestsellers.csv`` and
``bestseller_profile.csv`` are described in :mod:`research.analyses.market.overview`, which runs
the SQL steps here (:func:`listings_view`, :func:`snapshot_dates`, :func:`shop_totals`,
:func:`bestsellers_on`) on one connection for the overview. Price bands are those of the
price page (:func:`research.price_points.auto_edges`, right-closed, labelled by
:func:`research.price_points.band_labels`); concentration uses
:func:`research.price_points.hhi` and :func:`research.price_points.top_share`.

Examples
--------
>>> import pandas as pd
>>> shops = pd.DataFrame({"snapshot_date": pd.to_datetime(["2026-11-22"] * 3),
...                       "shop": ["a", "b", "c"], "items": [1, 1, 1],
...                       "sales_30d": [50, 30, 20], "revenue_30d": [500.0, 300.0, 200.0]})
>>> concentration(shops)[["cr3", "hhi"]].round(1).to_dict("records")
[{'cr3': 1.0, 'hhi': 3800.0}]
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeAlias

import duckdb
import pandas as pd

from research.price_points import assign_bands, auto_edges, band_labels, hhi, top_share
from research.store.schema import TABLES
from research.store.warehouse import fetch_one, quiet, sql_literal

__all__ = [
    "ATTRIBUTES",
    "Source",
    "listings_view",
    "snapshot_dates",
    "shop_snapshots",
    "shop_totals",
    "leaders",
    "scope_shops",
    "concentration",
    "concentration_direction",
    "rising_leader",
    "snapshot_price_edges",
    "bestsellers",
    "bestsellers_on",
    "bestseller_profile",
]

#: attribute columns of ``items`` compared between best-sellers and the category
ATTRIBUTES = ("price_band", "material", "color", "size", "function", "style", "leaf_category",
              "is_tmall")

#: a canonical frame, or the path of a DuckDB warehouse to read it from
Source: TypeAlias = pd.DataFrame | str | os.PathLike[str]


# ----------------------------------------------------------------------------- items (SQL)

@contextmanager
def listings_view(items: Source, category: str | None,
                  until: pd.Timestamp | None) -> Iterator[tuple[duckdb.DuckDBPyConnection, str]]:
    """Yield an in-memory DuckDB connection with a view ``src`` of the category's listings
    (snapshots up to ``until``; ``revenue_30d`` filled with price × sales_30d where missing).

    A DataFrame is registered as is (missing canonical columns become NULL); a path is
    attached read-only, so temporary tables live in memory and the warehouse is untouched.
    """
    con = quiet(duckdb.connect())
    try:
        if isinstance(items, pd.DataFrame):
            frame = items.copy()
            for col in TABLES["items"].names:
                if col not in frame:
                    frame[col] = None
            con.register("_items_frame", frame)
            base = "_items_frame"
        else:
            path = Path(items)
            if not path.exists():
                raise FileNotFoundError(f"warehouse {path} does not exist")
            con.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS wh (READ_ONLY)")
            base = "wh.items"
        # parameters cannot be bound in a view definition: literals
        conds = ["TRUE"]
        if category:
            conds.append("category = " + sql_literal(category))
        if until is not None:
            conds.append("CAST(snapshot_date AS DATE) <= CAST("
                         f"{sql_literal(pd.Timestamp(until).date())} AS DATE)")
        where = " AND ".join(conds)
        con.execute(f"""CREATE TEMP VIEW src AS
            SELECT * REPLACE (CAST(snapshot_date AS DATE) AS snapshot_date,
                              coalesce(revenue_30d, price * sales_30d) AS revenue_30d)
            FROM {base} WHERE {where}""")
        yield con, "src"
    finally:
        con.close()


def snapshot_dates(con: duckdb.DuckDBPyConnection) -> list[pd.Timestamp]:
    """The snapshot dates of the view ``src`` (:func:`listings_view`), ascending."""
    rows = con.execute("SELECT DISTINCT snapshot_date FROM src ORDER BY 1").fetchall()
    return [pd.Timestamp(r[0]) for r in rows]


def shop_snapshots(items: Source, until: Any = None, category: str | None = None) -> pd.DataFrame:
    """Sum the listings to shops for every snapshot (in DuckDB).

    Returns
    -------
    DataFrame
        snapshot_date, shop, items, sales_30d (units in the 30 days before the snapshot),
        revenue_30d (``revenue_30d`` where exported, else price × sales_30d).
    """
    until = pd.Timestamp(until) if until is not None else None
    with listings_view(items, category, until) as (con, _):
        return shop_totals(con)


def shop_totals(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """:func:`shop_snapshots` on the view ``src`` of an open :func:`listings_view`."""
    frame = con.execute("""SELECT snapshot_date, shop, count(*) AS items,
                   sum(sales_30d) AS sales_30d, sum(revenue_30d) AS revenue_30d
            FROM src GROUP BY 1, 2 ORDER BY 1, 4 DESC, 2""").df()
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"])
    frame["items"] = frame["items"].astype("int64")
    frame["sales_30d"] = frame["sales_30d"].astype("float64")
    return frame


def _with_shares(shops: pd.DataFrame) -> pd.DataFrame:
    out = shops.copy()
    for col, share in (("sales_30d", "sales_share"), ("revenue_30d", "revenue_share")):
        total = out.groupby("snapshot_date")[col].transform("sum")
        out[share] = out[col] / total.where(total > 0)
    return out


def leaders(shops: pd.DataFrame, top_n: int = 10) -> pd.DataFrame:
    """Top shops by 30-day units on each snapshot, with their shares and share changes.

    A shop's change is against its own share in the previous snapshot (0 if it had no
    listings there); NaN on the first snapshot.

    Examples
    --------
    >>> shops = pd.DataFrame({"snapshot_date": pd.to_datetime(["2026-11-15"] * 2 + ["2026-11-22"] * 2),
    ...     "shop": ["a", "b", "a", "b"], "items": [1, 1, 1, 1], "sales_30d": [60, 40, 50, 50],
    ...     "revenue_30d": [6.0, 4.0, 5.0, 5.0]})
    >>> leaders(shops, 1)[["shop", "sales_share", "sales_share_change"]].round(2).to_dict("records")
    [{'shop': 'a', 'sales_share': 0.6, 'sales_share_change': nan}, {'shop': 'a', 'sales_share': 0.5, 'sales_share_change': -0.1}]
    """
    cols = ["snapshot_date", "rank", "shop", "items", "sales_30d", "revenue_30d", "sales_share",
            "revenue_share", "sales_share_change", "revenue_share_change"]
    if shops.empty:
        return pd.DataFrame(columns=cols)
    shared = _with_shares(shops)
    dates = sorted(shared["snapshot_date"].unique())
    # one snapshot: no previous date (typed as a date, so the merge below still works)
    shared["prev_date"] = pd.to_datetime(shared["snapshot_date"].map(
        dict(zip(dates[1:], dates[:-1], strict=False))))
    shared = shared.sort_values(["snapshot_date", "sales_30d", "revenue_30d", "shop"],
                                ascending=[True, False, False, True])
    shared["rank"] = shared.groupby("snapshot_date").cumcount() + 1
    prev = shared[["snapshot_date", "shop", "sales_share", "revenue_share"]].rename(
        columns={"snapshot_date": "prev_date", "sales_share": "prev_sales",
                 "revenue_share": "prev_revenue"})
    top = shared[shared["rank"] <= top_n].merge(prev, on=["prev_date", "shop"], how="left")
    first = top["prev_date"].isna()
    for share, before in (("sales_share", "prev_sales"), ("revenue_share", "prev_revenue")):
        # a shop with no listings on the previous snapshot had a share of zero there
        top[f"{share}_change"] = (top[share] - top[before].fillna(0.0)).where(~first)
    return top[cols].reset_index(drop=True)


def scope_shops(shops: pd.DataFrame, shop: str, competitors: Sequence[str]) -> pd.DataFrame:
    """Where our shop and the study's competitors stand among all shops on the latest snapshot.

    Ranks are by 30-day units as in :func:`leaders`; a shop with no listings on the snapshot
    keeps its row with no rank.

    Returns
    -------
    DataFrame
        role (ours / competitor), shop, rank, of_shops, items, sales_30d, revenue_30d,
        sales_share, revenue_share — our shop first, then the competitors in the given order.

    Examples
    --------
    >>> shops = pd.DataFrame({"snapshot_date": pd.to_datetime(["2026-11-22"] * 3),
    ...     "shop": ["a", "b", "c"], "items": 1, "sales_30d": [50, 30, 20],
    ...     "revenue_30d": [5.0, 3.0, 2.0]})
    >>> scope_shops(shops, "c", ["a", "x"])[["role", "shop", "rank"]].to_dict("records")
    [{'role': 'ours', 'shop': 'c', 'rank': 3.0}, {'role': 'competitor', 'shop': 'a', 'rank': 1.0}, {'role': 'competitor', 'shop': 'x', 'rank': nan}]
    """
    cols = ["role", "shop", "rank", "of_shops", "items", "sales_30d", "revenue_30d",
            "sales_share", "revenue_share"]
    names = ([shop] if shop else []) + [c for c in dict.fromkeys(competitors) if c and c != shop]
    if not names:
        return pd.DataFrame(columns=cols)
    latest = shops[shops["snapshot_date"] == shops["snapshot_date"].max()] if len(shops) \
        else shops
    ranked = _with_shares(latest).sort_values(["sales_30d", "revenue_30d", "shop"],
                                              ascending=[False, False, True])
    ranked["rank"] = range(1, len(ranked) + 1)
    ranked["of_shops"] = len(ranked)
    out = pd.DataFrame({"shop": names}).merge(ranked, on="shop", how="left")
    out["role"] = ["ours" if n == shop else "competitor" for n in out["shop"]]
    out["rank"] = out["rank"].astype(float)
    out["of_shops"] = len(ranked)
    return out[cols]


def concentration(shops: pd.DataFrame) -> pd.DataFrame:
    """CR3, CR10 and HHI of 30-day units (and of revenue) per snapshot.

    CRk is the share of the k largest shops; HHI is the sum of squared shares on the
    0–10,000 scale (10,000 = one shop). Rising values mean the category is concentrating.
    """
    rows = []
    for date, part in shops.groupby("snapshot_date"):
        row: dict[str, Any] = {"snapshot_date": date, "shops": int((part["sales_30d"] > 0).sum())}
        for col, suffix in (("sales_30d", ""), ("revenue_30d", "_revenue")):
            values = part[col].astype(float).fillna(0.0).to_numpy()  # no number: no share
            row[f"cr3{suffix}"] = top_share(values, 3)
            row[f"cr10{suffix}"] = top_share(values, 10)
            row[f"hhi{suffix}"] = hhi(values)
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    for col in ("cr3", "cr10", "hhi", "cr3_revenue", "cr10_revenue", "hhi_revenue"):
        out[f"{col}_change"] = out[col].diff()
    return out


def concentration_direction(conc: pd.DataFrame, min_change: float = 0.10) -> str | None:
    """Say whether the category is concentrating, from the first to the last snapshot's HHI.

    A relative move of the HHI smaller than ``min_change`` (10 %; a workbench choice — a
    fixed number of HHI points would call a fragmented market's doubling "stable") is
    "stable". ``None`` with fewer than two snapshots.

    Examples
    --------
    >>> concentration_direction(pd.DataFrame({"hhi": [133.0, 206.0]}))
    'concentrating'
    >>> concentration_direction(pd.DataFrame({"hhi": [1500.0, 1550.0]}))
    'stable'
    """
    if len(conc) < 2:
        return None
    first, last = float(conc["hhi"].iloc[0]), float(conc["hhi"].iloc[-1])
    if not first > 0 or abs(last / first - 1) < min_change:
        return "stable"
    return "concentrating" if last > first else "fragmenting"


def rising_leader(shops: pd.DataFrame, top_n: int = 10) -> dict[str, Any] | None:
    """The leader whose share of 30-day units rose most from the first to the last snapshot.

    Candidates are the shops in the top ``top_n`` of either snapshot. Returns ``None`` with
    fewer than two snapshots.
    """
    dates = sorted(shops["snapshot_date"].unique())
    if len(dates) < 2:
        return None
    shared = _with_shares(shops)
    first, last = (shared[shared["snapshot_date"] == d].set_index("shop") for d in
                   (dates[0], dates[-1]))
    cands = set(first.nlargest(top_n, "sales_30d").index) | set(
        last.nlargest(top_n, "sales_30d").index)
    change = {s: float(last["sales_share"].get(s, 0.0)) - float(first["sales_share"].get(s, 0.0))
              for s in cands}
    shop = max(sorted(change), key=lambda s: change[s])
    return {"shop": shop, "from": pd.Timestamp(dates[0]), "to": pd.Timestamp(dates[-1]),
            "share_from": float(first["sales_share"].get(shop, 0.0)),
            "share_to": float(last["sales_share"].get(shop, 0.0)), "change": change[shop]}


def snapshot_price_edges(con: duckdb.DuckDBPyConnection, snapshot: pd.Timestamp,
                         n_bands: int = 8) -> tuple[list[float], pd.DataFrame]:
    """Band edges of one snapshot's listings, cut as the price page cuts them.

    :func:`research.price_points.auto_edges` on the snapshot's price histogram (listings and
    30-day units per price): round price points, the lightest band merged first, at most
    ``n_bands`` bands. Unlike the price page, trick prices are not removed first (the
    overview counts every listing).

    Returns
    -------
    (edges, histogram)
        The interior edges and the histogram (price, listings ``n``, units ``u``).
    """
    hist = con.execute("""SELECT price, count(*) AS n, coalesce(sum(sales_30d), 0) AS u
        FROM src WHERE snapshot_date = ? AND price > 0 GROUP BY price ORDER BY price""",
                       [snapshot.date()]).df()
    edges = auto_edges(hist["price"].to_numpy(float), hist["u"].to_numpy(float), n_bands,
                       counts=hist["n"].to_numpy(float))
    return edges, hist


def _present_attributes(con: duckdb.DuckDBPyConnection, snapshot: pd.Timestamp) -> list[str]:
    cols = [a for a in ATTRIBUTES if a != "price_band"]
    counts = fetch_one(
        con, "SELECT " + ", ".join(f'count("{c}")' for c in cols) +
        " FROM src WHERE snapshot_date = ?", [snapshot.date()])
    return [c for c, n in zip(cols, counts, strict=True) if n]


def bestsellers(items: Source, until: Any = None, category: str | None = None,
                min_sales: int = 100, top: int = 30) -> dict[str, Any]:
    """Items whose 30-day sales grew fastest between the last two snapshots.

    ``sales_30d`` is a rolling 30-day window, so the growth compares two overlapping windows
    (metrics.md): it is not daily or weekly sales, and with snapshots a week apart three
    quarters of each window is shared. Items need ``sales_30d ≥ min_sales`` on the latest
    snapshot; items with no sales (or no listing) on the previous one are "new" and ranked
    after the growing ones by their sales.

    Returns
    -------
    dict
        ``table`` (see ``bestsellers.csv``), ``profile`` (see ``bestseller_profile.csv``),
        ``snapshot``, ``prev_snapshot``, ``eligible`` (items meeting the minimum),
        ``edges`` (price band edges).
    """
    until = pd.Timestamp(until) if until is not None else None
    with listings_view(items, category, until) as (con, _):
        return bestsellers_on(con, snapshot_dates(con), min_sales, top)


def bestsellers_on(con: duckdb.DuckDBPyConnection, dates: list[pd.Timestamp], min_sales: int,
                   top: int) -> dict[str, Any]:
    """:func:`bestsellers` on the view ``src`` of an open :func:`listings_view` whose
    snapshots are ``dates``."""
    empty = pd.DataFrame(columns=["rank", "item_id", "shop", "title", "price", "price_band",
                                  "sales_30d", "prev_sales_30d", "growth", "status"])
    out: dict[str, Any] = {"table": empty, "profile": pd.DataFrame(
        columns=["attribute", "value", "bestseller_share", "base_share", "lift"]),
        "snapshot": dates[-1] if dates else None,
        "prev_snapshot": dates[-2] if len(dates) > 1 else None, "eligible": 0, "edges": []}
    if len(dates) < 2:
        return out
    cur, prev = dates[-1].date(), dates[-2].date()
    edges, hist = snapshot_price_edges(con, dates[-1])
    out["edges"] = edges
    labels = band_labels(edges)
    attrs = _present_attributes(con, dates[-1])
    sel_attrs = "".join(f', "{a}"' for a in attrs)
    # growth on item ids and units only (the CTE is materialised once, the previous snapshot
    # is filtered to the eligible ids); details are fetched for the listed items alone
    con.execute("""CREATE OR REPLACE TEMP TABLE _best AS
        WITH c AS MATERIALIZED (SELECT item_id, sales_30d FROM src
                                WHERE snapshot_date = ? AND sales_30d >= ?),
        p AS (SELECT item_id, sum(sales_30d) AS prev_sales_30d FROM src
              WHERE snapshot_date = ? AND item_id IN (SELECT item_id FROM c) GROUP BY 1)
        SELECT c.item_id, c.sales_30d, p.prev_sales_30d,
               CASE WHEN coalesce(p.prev_sales_30d, 0) > 0
                    THEN c.sales_30d / p.prev_sales_30d - 1 END AS growth,
               CASE WHEN coalesce(p.prev_sales_30d, 0) > 0 THEN 'growing' ELSE 'new' END
                   AS status
        FROM c LEFT JOIN p USING (item_id)""", [cur, min_sales, prev])
    out["eligible"] = int(fetch_one(con, "SELECT count(*) FROM _best")[0])
    ranked = con.execute("""SELECT * FROM _best
        ORDER BY growth IS NULL, growth DESC, sales_30d DESC, item_id LIMIT ?""", [top]).df()
    ids = ranked["item_id"].tolist()
    details = con.execute(f"""SELECT item_id, shop, title, price{sel_attrs}
        FROM src WHERE snapshot_date = ? AND list_contains(?, item_id)""", [cur, ids]).df()
    details = details.drop_duplicates("item_id")
    details.insert(4, "price_band", [labels[b] for b in assign_bands(details["price"], edges)])
    table = ranked.merge(details, on="item_id", how="left")[
        ["item_id", "shop", "title", "price", "price_band", "sales_30d", "prev_sales_30d",
         *attrs, "growth", "status"]]
    con.execute("DROP TABLE IF EXISTS _best")
    table.insert(0, "rank", range(1, len(table) + 1))
    out["table"] = table
    if not table.empty:
        out["profile"] = _profile(con, table, attrs, edges, hist, cur)
    return out


def _profile(con: duckdb.DuckDBPyConnection, best: pd.DataFrame, attrs: list[str],
             edges: list[float], hist: pd.DataFrame, snapshot: Any) -> pd.DataFrame:
    """Base rates of the price band (from the snapshot's price histogram) and of every other
    attribute (one scan, grouping sets) on the latest snapshot."""
    labels = band_labels(edges)
    bands = pd.DataFrame({"price_band": [labels[b] for b in assign_bands(hist["price"], edges)],
                          "n": hist["n"].to_numpy()}).groupby("price_band", as_index=False)["n"].sum()
    bands = bands.assign(**{"_g_price_band": 0})
    base_all = bands
    if attrs:
        exprs = ", ".join(f'CAST("{a}" AS VARCHAR) AS "{a}"' for a in attrs)
        sets = ", ".join(f'("{a}")' for a in attrs)
        flags = ", ".join(f'GROUPING("{a}") AS "_g_{a}"' for a in attrs)
        others = con.execute(f"""SELECT {", ".join(f'"{a}"' for a in attrs)}, {flags},
                count(*) AS n
            FROM (SELECT {exprs} FROM src WHERE snapshot_date = ?)
            GROUP BY GROUPING SETS ({sets})""", [snapshot]).df()
        base_all = pd.concat([bands, others.assign(_g_price_band=1)], ignore_index=True)
    rows = []
    for attr in ["price_band", *attrs]:
        base = base_all.loc[base_all[f"_g_{attr}"] == 0, [attr, "n"]].rename(
            columns={attr: "value"})
        base["base_share"] = base["n"] / base["n"].sum()
        values = best[attr].astype("string")
        if attr == "is_tmall":
            values = values.str.lower()
        shares = (values.value_counts(dropna=False) / len(best)).rename(
            "bestseller_share").reset_index()
        shares.columns = ["value", "bestseller_share"]
        merged = shares.astype({"value": "string"}).merge(
            base[["value", "base_share"]].astype({"value": "string"}), on="value", how="outer")
        merged["bestseller_share"] = merged["bestseller_share"].fillna(0.0)
        merged["lift"] = merged["bestseller_share"] / merged["base_share"].where(
            merged["base_share"] > 0)
        merged.insert(0, "attribute", attr)
        rows.append(merged)
    return bestseller_profile(pd.concat(rows, ignore_index=True))


def bestseller_profile(profile: pd.DataFrame) -> pd.DataFrame:
    """Order a profile so the values best-sellers over-represent come first per attribute."""
    return profile.sort_values(["attribute", "lift", "bestseller_share"],
                               ascending=[True, False, False], na_position="last"
                               ).reset_index(drop=True)
