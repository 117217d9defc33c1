"""The sample market through the real ingest: every file loads, counts match, re-loading changes
nothing (issue 2's "done when")."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from research.sources.exports import ingest_paths
from research.store.warehouse import read
from tests.sources.test_exports import fingerprint


def _counts(warehouse: Path) -> dict[str, int]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                for t in ("keywords", "items", "traffic", "sales", "market_daily", "audience",
                          "events")}
    finally:
        con.close()


def test_every_sample_file_loads_with_the_generated_counts(sample_dir: Path,
                                                           sample_warehouse: Path,
                                                           truth: dict) -> None:
    log = read("ingest_log", sample_warehouse)
    files = sorted(p.name for p in sample_dir.iterdir() if p.suffix in (".csv", ".xlsx"))
    assert sorted(log["file_name"]) == files
    counts = _counts(sample_warehouse)
    assert counts["keywords"] >= 300 * 730
    assert read("items", sample_warehouse, columns=["item_id"])["item_id"].nunique() >= 4900
    assert counts["items"] == log.loc[log["table_name"] == "items", "rows"].sum()
    kw = read("keywords", sample_warehouse, columns=["keyword", "date"])
    assert kw["keyword"].nunique() >= 300
    assert kw["date"].min() == pd.Timestamp(truth["start"])
    assert kw["date"].max() == pd.Timestamp(truth["end"])
    items = read("items", sample_warehouse, columns=["item_id", "shop"])
    assert items["shop"].nunique() >= 200
    assert items["item_id"].str.fullmatch(r"\d{12}").all()  # IDs kept as text, digits intact


def test_reingesting_the_whole_sample_twice_changes_nothing(sample_dir: Path,
                                                            warehouse_copy: Path) -> None:
    before = fingerprint(warehouse_copy)
    again = ingest_paths([sample_dir], warehouse_copy)
    assert {r.outcome for r in again} == {"skipped"}
    assert fingerprint(warehouse_copy) == before
    counts = _counts(warehouse_copy)
    forced = ingest_paths([sample_dir], warehouse_copy, force=True)
    assert {r.outcome for r in forced} == {"loaded"}
    assert all(r.result.new == 0 and r.result.replaced == 0 for r in forced)
    assert _counts(warehouse_copy) == counts


def test_our_second_category_in_the_warehouse(sample_warehouse: Path, truth: dict) -> None:
    """Our shop sells in two categories: the items table holds both, the second with only our
    listings; the sales table holds our rows of both (it has no category of its own)."""
    second = truth["second_category"]
    items = read("items", sample_warehouse, columns=["item_id", "shop", "category"])
    assert set(items["category"]) == {truth["category"], second["category"]}
    kids = items[items["category"] == second["category"]]
    assert set(kids["shop"]) == {truth["our_shop"]}
    assert set(kids["item_id"]) == set(second["our_items"])
    sales = read("sales", sample_warehouse, columns=["item_id", "shop", "revenue"])
    assert set(sales["item_id"]) == set(truth["items"]["our_items"]) | set(second["our_items"])
    assert (sales["item_id"].isin(second["our_items"])).sum() == second["sales_rows"]
