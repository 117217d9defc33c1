"""The study runner: definitions, parameter validation before running, execution, failures,
atomic re-runs. Mechanics are tested with the small notebooks in tests/notebooks/ on a tiny
warehouse built here; the real weekly study on the sample market is slow-marked."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
import yaml

from research import study as st
from research.warehouse import connect, log_ingest, store

HERE = Path(__file__).resolve().parent
NB = HERE / "notebooks"
XSS = "<script>alert(1)</script>"
SHOP = "我们的店<b>"


def make_tiny_warehouse(path: Path) -> Path:
    """Three keywords daily 2026-11-02 .. 2026-11-25 (last complete week 2026-W47) and four
    items, one titled ``<script>alert(1)</script>``; two ingest-log entries."""
    days = pd.date_range("2026-11-02", "2026-11-25", freq="D")
    keywords = pd.DataFrame([
        {"date": d, "category": "保温杯", "keyword": k, "search_popularity": float(p + i)}
        for i, d in enumerate(days) for k, p in (("保温杯", 1000), ("儿童保温杯", 400),
                                                 ("<i>杯</i>", 50))])
    items = pd.DataFrame({
        "snapshot_date": pd.to_datetime(["2026-11-22"] * 4), "item_id": ["1", "2", "3", "4"],
        "shop": [SHOP, "店A", "店B", "店A"], "category": ["保温杯"] * 4,
        "title": [XSS, "不锈钢保温杯 500ml", "儿童保温杯", "<img src=x onerror=alert(2)>"],
        "price": [59.0, 79.0, 39.9, 99.0], "sales_30d": [900, 500, 300, 100]})
    with connect(path) as con:
        for i, (table, frame) in enumerate((("keywords", keywords), ("items", items)), 1):
            result = store(con, table, frame, ingest_id=i)
            log_ingest(con, file_name=f"{table}_export.csv", content_hash=f"{i:064x}",
                       result=result, raw_path=None, ingest_id=i)
    return path


@pytest.fixture(scope="module")
def tiny_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_warehouse(tmp_path_factory.mktemp("tiny") / "tiny.duckdb")


def write_study(folder: Path, notebooks: list[dict], **top: object) -> Path:
    """A study YAML in ``folder`` whose notebooks are the test notebooks."""
    entries = []
    for entry in notebooks:
        entry = dict(entry)
        entry.setdefault("path", str(NB / f"{entry['name']}.ipynb"))
        entries.append(entry)
    definition = {"name": "test", "title": "测试研究 · Test study", "category": "保温杯",
                  "shop": SHOP, "competitors": [], "top_n": 3,
                  "shared": {"warehouse": "", "week": "", "currency": "CNY"},
                  "notebooks": entries, **top}
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(definition, allow_unicode=True), encoding="utf-8")
    return path
