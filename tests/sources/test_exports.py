"""Ingest: reading real-world exports, and refusing bad ones without touching the warehouse."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from research.sources.exports import detect_table, ingest_paths
from research.store.warehouse import read

KW_HEADER = "日期,类目,搜索词,搜索人气,点击率,支付转化率,在线商品数"
KW_ROWS = [
    "2026/11/01,保温杯,保温杯,\"12,345\",12.34%,3.21%,\"1,200\"",
    "2026/11/01,保温杯,儿童保温杯,８８０,8.5%,-,300",
    "2026/11/02,保温杯,保温杯,12000,11.00%,3.00%,1210",
]


def write_csv(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def fingerprint(warehouse: Path) -> str:
    """A digest of every table's content, the ingest log and the kept raw files."""
    if not warehouse.exists():
        return "absent"
    digest = hashlib.sha256()
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        for t in tables:
            rows = con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall()
            digest.update(f"{t}:{rows!r}".encode())
    finally:
        con.close()
    raw = warehouse.parent / f"{warehouse.stem}_raw"
    if raw.exists():
        digest.update(repr(sorted(str(p.relative_to(raw)) for p in raw.rglob("*"))).encode())
    return digest.hexdigest()


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    """A warehouse already holding a keywords file (so 'unchanged' is non-trivial)."""
    wh = tmp_path / "w.duckdb"
    good = write_csv(tmp_path / "good.csv", [KW_HEADER, *KW_ROWS])
    [res] = ingest_paths([good], wh)
    assert res.outcome == "loaded", res.message
    return wh


# --------------------------------------------------------------------------- good input

def test_values_read_as_the_platform_writes_them(loaded: Path) -> None:
    kw = read("keywords", loaded).sort_values(["date", "keyword"]).reset_index(drop=True)
    assert len(kw) == 3
    first = kw.iloc[0]
    assert first["date"] == pd.Timestamp("2026-11-01")
    assert first["keyword"] == "保温杯"
    assert first["search_popularity"] == 12345          # thousands separator
    assert first["click_rate"] == pytest.approx(0.1234)  # percent string → fraction
    assert first["online_items"] == 1200
    child = kw[kw["keyword"] == "儿童保温杯"].iloc[0]
    assert child["search_popularity"] == 880            # full-width digits
    assert pd.isna(child["conversion_rate"])            # "-" is missing


def test_gbk_with_preamble_and_bom(tmp_path: Path) -> None:
    wh = tmp_path / "w.duckdb"
    gbk = write_csv(tmp_path / "gbk.csv",
                    ["统计时间：2026-11-01 ~ 2026-11-02", "类目：保温杯", KW_HEADER, *KW_ROWS],
                    encoding="gbk")
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + ("\n".join(
        ["日期,类目,搜索词,搜索人气", "2026-11-03,保温杯,焖烧杯,77"]) + "\n").encode())
    results = ingest_paths([gbk, bom], wh)
    assert [r.outcome for r in results] == ["loaded", "loaded"], [r.message for r in results]
    kw = read("keywords", wh)
    assert set(kw["keyword"]) == {"保温杯", "儿童保温杯", "焖烧杯"}
    assert len(kw) == 4


def test_category_from_preamble_when_the_column_is_absent(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "kw.csv", ["类目：保温杯", "日期,搜索词,搜索人气",
                                           "2026-11-01,保温杯,100"])
    [res] = ingest_paths([path], tmp_path / "w.duckdb")
    assert res.outcome == "loaded", res.message
    assert read("keywords", tmp_path / "w.duckdb")["category"].tolist() == ["保温杯"]


def test_reloading_the_same_file_changes_nothing(loaded: Path, tmp_path: Path) -> None:
    before = fingerprint(loaded)
    [res] = ingest_paths([tmp_path / "good.csv"], loaded)
    assert res.outcome == "skipped"
    assert fingerprint(loaded) == before


def test_overlapping_file_replaces_by_key_and_counts(loaded: Path, tmp_path: Path) -> None:
    later = write_csv(tmp_path / "later.csv", [
        KW_HEADER,
        KW_ROWS[0],                                                  # unchanged
        "2026/11/02,保温杯,保温杯,13000,11.00%,3.00%,1210",           # replaced
        "2026/11/03,保温杯,保温杯,14000,11.00%,3.00%,1220",           # new
    ])
    [res] = ingest_paths([later], loaded)
    assert res.outcome == "loaded" and res.result is not None, res.message
    assert (res.result.new, res.result.replaced, res.result.unchanged) == (1, 1, 1)
    kw = read("keywords", loaded)
    assert len(kw) == 4
    assert kw.loc[kw["date"] == "2026-11-02", "search_popularity"].item() == 13000
    log = read("ingest_log", loaded)
    assert log[["rows_new", "rows_replaced", "rows_unchanged"]].iloc[-1].tolist() == [1, 1, 1]


def test_original_export_is_kept_unchanged(loaded: Path, tmp_path: Path) -> None:
    log = read("ingest_log", loaded)
    kept = Path(log["raw_path"].iloc[0])
    assert kept.read_bytes() == (tmp_path / "good.csv").read_bytes()
    assert log["content_hash"].iloc[0] == hashlib.sha256(kept.read_bytes()).hexdigest()


def test_xlsx_items_ids_stay_text_and_extra_attributes_are_kept(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["采集日期", "商品ID", "店铺名称", "类目", "价格", "月销量", "是否天猫", "材质",
               "保温时长"])
    ws.append(["2026-11-22", "600123456789012345", "店A", "保温杯", 89.9, "1万+", "是", "钛",
               "12小时"])
    ws.append(["2026-11-22", 612345678901, "店B", "保温杯", "¥59", "300+", "否", None, None])
    book.save(tmp_path / "items.xlsx")
    [res] = ingest_paths([tmp_path / "items.xlsx"], tmp_path / "w.duckdb")
    assert res.outcome == "loaded", res.message
    items = read("items", tmp_path / "w.duckdb").sort_values("shop")
    assert items["item_id"].tolist() == ["600123456789012345", "612345678901"]
    assert items["sales_30d"].tolist() == [10000, 300]
    assert items["price"].tolist() == [89.9, 59.0]
    assert items["is_tmall"].tolist() == [True, False]
    assert '"保温时长":"12小时"' in items["attributes"].iloc[0].replace(" ", "")


def test_traffic_channels_mapped_and_unknown_kept(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "traffic.csv", [
        "日期,店铺名称,商品ID,流量来源,访客数",
        "2026-11-01,店A,,手淘搜索,1000",
        "2026-11-01,店A,,淘宝客,200",
        "2026-11-01,店A,,淘宝特价版,30",
    ])
    [res] = ingest_paths([path], tmp_path / "w.duckdb")
    assert res.outcome == "loaded", res.message
    assert "淘宝特价版" in res.message
    tr = read("traffic", tmp_path / "w.duckdb").set_index("channel_raw")
    assert tr.loc["手淘搜索", "channel"] == "organic_search"
    assert tr.loc["淘宝客", "channel"] == "affiliate"
    assert tr.loc["淘宝特价版", "channel"] == "other"
    assert (tr["item_id"] == "").all()


@pytest.mark.parametrize(("headers", "table"), [
    (["日期", "类目", "搜索词", "搜索人气", "在线商品数"], "keywords"),
    (["日期", "类目", "交易指数", "访客数", "搜索人气", "在线商品数"], "market_daily"),
    (["日期", "商品ID", "支付件数", "支付金额", "访客数"], "sales"),
    (["日期", "店铺名称", "流量来源", "访客数", "支付金额"], "traffic"),
    (["采集日期", "商品ID", "店铺名称", "类目", "价格", "月销量"], "items"),
    (["日期", "类目", "维度", "分段", "支付买家占比"], "audience"),
    (["日期", "活动名称", "类型"], "events"),
])
def test_table_recognised_from_headers(headers: list[str], table: str) -> None:
    assert detect_table(headers)[0].name == table


# --------------------------------------------------------------------------- bad input corpus

def _xlsx_truncated(tmp: Path) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["日期", "类目", "搜索词", "搜索人气"])
    for i in range(200):
        ws.append(["2026-11-01", "保温杯", f"词{i}", i])
    full = tmp / "full.xlsx"
    book.save(full)
    data = full.read_bytes()
    bad = tmp / "truncated.xlsx"
    bad.write_bytes(data[: len(data) // 2])
    return bad


BAD = {
    # name: (file maker, fragments the message must contain)
    "missing_required": (
        lambda t: write_csv(t / "missing_required.csv",
                            ["日期,类目,搜索词,点击率", "2026-11-01,保温杯,保温杯,1%"]),
        ["missing_required.csv", "搜索人气"]),
    "text_in_number": (
        lambda t: write_csv(t / "text_in_number.csv",
                            [KW_HEADER, KW_ROWS[0], "2026/11/02,保温杯,保温杯,很多,1%,1%,5"]),
        ["text_in_number.csv", "row 3", "搜索人气", "expected a number", "'很多'"]),
    "negative_visitors": (
        lambda t: write_csv(t / "negative_visitors.csv",
                            ["日期,店铺名称,流量来源,访客数", "2026-11-01,店A,手淘搜索,10",
                             "2026-11-01,店A,直通车,-3"]),
        ["negative_visitors.csv", "row 3", "访客数", "≥ 0", "'-3'"]),
    "conversion_over_100": (
        lambda t: write_csv(t / "conversion_over_100.csv",
                            [KW_HEADER, "2026/11/01,保温杯,保温杯,100,1%,120%,5"]),
        ["conversion_over_100.csv", "row 2", "支付转化率", "≤ 100%", "'120%'"]),
    "bad_date": (
        lambda t: write_csv(t / "bad_date.csv",
                            [KW_HEADER, KW_ROWS[0], "2026-13-45,保温杯,保温杯,1,1%,1%,5"]),
        ["bad_date.csv", "row 3", "日期", "a date", "'2026-13-45'"]),
    "duplicate_key": (
        lambda t: write_csv(t / "duplicate_key.csv",
                            [KW_HEADER, KW_ROWS[0], KW_ROWS[1],
                             "2026/11/01,保温杯,保温杯,999,1%,1%,5"]),
        ["duplicate_key.csv", "rows 2, 4", "keyword=保温杯", "one row per key"]),
    "empty_file": (
        lambda t: write_csv(t / "empty_file.csv", []).write_bytes(b"") or t / "empty_file.csv",
        ["empty_file.csv", "empty"]),
    "header_only": (
        lambda t: write_csv(t / "header_only.csv", [KW_HEADER]),
        ["header_only.csv", "no data rows", "row 1"]),
    "truncated_xlsx": (_xlsx_truncated, ["truncated.xlsx", "truncated or corrupt"]),
    "no_table": (
        lambda t: write_csv(t / "no_table.csv", ["名字,年龄,爱好", "张三,30,跑步"]),
        ["no_table.csv", "match no table", "名字"]),
    "gbk_stray_byte": (
        lambda t: (t / "gbk_stray_byte.csv").write_bytes(
            "\n".join([KW_HEADER, KW_ROWS[0]]).encode("gbk") + b"\n2026/11/02,\xff\xfe\xb1\xa3,"
            + "保温杯,1,1%,1%,5\n".encode("gbk")) and t / "gbk_stray_byte.csv",
        ["gbk_stray_byte.csv", "row 3", "column 2", "GBK"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_file_is_refused_with_one_clear_message(case: str, loaded: Path,
                                                    tmp_path: Path) -> None:
    make, fragments = BAD[case]
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    path = make(bad_dir)
    before = fingerprint(loaded)
    [res] = ingest_paths([path], loaded)
    assert res.outcome == "failed"
    for fragment in fragments:
        assert fragment in res.message, (fragment, res.message)
    assert fingerprint(loaded) == before


def test_a_bad_file_among_good_ones_loads_the_good_ones(tmp_path: Path) -> None:
    wh = tmp_path / "w.duckdb"
    write_csv(tmp_path / "a_good.csv", [KW_HEADER, *KW_ROWS])
    bad = write_csv(tmp_path / "b_bad.csv", [KW_HEADER, "2026/11/09,保温杯,x,-1,1%,1%,5"])
    results = ingest_paths([tmp_path], wh)
    assert [r.outcome for r in results] == ["loaded", "failed"]
    assert bad.name in results[1].message
    assert len(read("keywords", wh)) == 3


def test_a_leaf_category_alone_is_the_category(tmp_path: Path) -> None:
    """The data contract: an export of one leaf category often carries only 叶子类目."""
    leaf_only = write_csv(tmp_path / "items_leaf.csv", [
        "日期,店铺,商品ID,商品标题,叶子类目,价格,月销量",
        "2026-11-01,甲店,1001,儿童吸管杯,儿童水杯,39,12"])
    both = write_csv(tmp_path / "items_both.csv", [
        "日期,店铺,商品ID,商品标题,类目,叶子类目,价格,月销量",
        "2026-11-01,乙店,2002,316 保温杯,水具,保温杯,59,30"])
    keywords = write_csv(tmp_path / "kw_leaf.csv", [
        "日期,叶子类目,搜索词,搜索人气", "2026-11-01,儿童水杯,吸管杯,321"])
    wh = tmp_path / "w.duckdb"
    assert [r.outcome for r in ingest_paths([leaf_only, both, keywords], wh)] == ["loaded"] * 3
    items = read("items", wh).set_index("item_id")
    assert items.loc["1001", ["category", "leaf_category"]].tolist() == ["儿童水杯", "儿童水杯"]
    assert items.loc["2002", ["category", "leaf_category"]].tolist() == ["水具", "保温杯"]
    assert read("keywords", wh)["category"].tolist() == ["儿童水杯"]


def test_a_missing_category_says_how_to_give_it(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "items.csv", ["日期,店铺,商品ID,商品标题,价格,月销量",
                                              "2026-11-01,甲店,1001,杯,59,3"])
    [res] = ingest_paths([path], tmp_path / "w.duckdb")
    assert res.outcome == "failed"
    assert "--default category=NAME" in res.message and "类目：NAME" in res.message
    [res] = ingest_paths([path], tmp_path / "w.duckdb", defaults={"category": "保温杯"})
    assert res.outcome == "loaded", res.message
