"""Every export shape the data contract allows, as a new user would send it, loads with the
right values (issue 16).

Small hand-made exports of every table are written the way the platform and the sample write
them (:mod:`research.sample.common`, :mod:`research.sample.xls`) in each accepted format —
GBK CSV, UTF-8 CSV with and without BOM, XLSX, XLS — and with each header language: Chinese,
the canonical English names, and the other English aliases of ``research.store.schema``. The
shapes the contract allows and the sample of 保温杯 never used are among them: an items export
whose only category column is 叶子类目, an audience export holding only 时段 rows, keyword
exports without 在线商品数 and without 商城点击占比. Each file is then read back from the
warehouse and compared with the values written, known in advance.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from research.sample.common import write_csv, write_xlsx
from research.sample.xls import write_xls
from research.sources.exports import ingest_paths
from research.store.schema import TABLES
from research.store.warehouse import read

FORMATS = ("csv-gbk", "csv-utf8", "csv-utf8-bom", "xlsx", "xls")

#: the Chinese header of each canonical column ("en" headers are the canonical names,
#: "en-alias" ones the English aliases of research.store.schema, table by table)
HEADERS: dict[str, dict[str, str]] = {
    "zh": {
        "date": "日期", "snapshot_date": "日期", "category": "类目", "keyword": "搜索词",
        "search_popularity": "搜索人气", "search_heat": "搜索热度", "click_rate": "点击率",
        "click_popularity": "点击人气", "conversion_rate": "支付转化率",
        "online_items": "在线商品数", "tmall_click_share": "商城点击占比",
        "ppc_price": "直通车参考价", "item_id": "商品ID", "shop": "店铺", "title": "商品标题",
        "leaf_category": "叶子类目", "price": "价格", "sales_30d": "月销量",
        "is_tmall": "是否天猫", "color": "颜色", "size": "容量", "channel": "流量来源",
        "visitors": "访客数", "buyers": "支付买家数", "payment_amount": "支付金额",
        "units": "支付件数", "revenue": "支付金额", "trade_index": "交易指数",
        "items_online": "在线商品数", "dimension": "维度", "segment": "分段",
        "share": "支付买家占比", "name": "活动", "kind": "类型", "page_views": "浏览量",
    },
}

D1, D2 = pd.Timestamp("2025-10-01"), pd.Timestamp("2025-10-02")


def tables(lang: str) -> dict[str, tuple[str, pd.DataFrame]]:
    """file stem → (table, the export as canonical columns and typed values)."""
    zh = lang == "zh"
    kw = pd.DataFrame({
        "date": [D1, D1, D2], "category": "防晒衣",
        "keyword": ["防晒衣 女", "冰丝防晒衣", "防晒衣 女"],
        "search_popularity": [12345.0, 880.0, 12000.0], "search_heat": [40000.0, 2100.0, 39000.0],
        "click_rate": ["12.34%", "8.50%", "11.00%"],
        "click_popularity": [9000.0, 500.0, 8800.0],
        "conversion_rate": ["3.21%", "-", "3.00%"],
        "online_items": [1200, 300, 1210], "tmall_click_share": ["45.10%", "20.00%", "44.00%"],
        "ppc_price": [1.25, 0.8, 1.3],
    })
    no_online = kw.drop(columns="online_items").assign(keyword=kw["keyword"] + " 无商品数")
    no_tmall = kw.drop(columns="tmall_click_share").assign(keyword=kw["keyword"] + " 无商城")
    bare = kw.drop(columns=["online_items", "tmall_click_share"]).assign(
        keyword=kw["keyword"] + " 两者皆无")
    items = pd.DataFrame({
        "snapshot_date": [D1, D1, D1], "item_id": ["600123456789", "000000000042", "612345678901"],
        "shop": ["防晒衣旗舰店", "蕉下官方旗舰店", "小店"],
        "title": ["冰丝防晒衣 女 UPF50+", "蕉下 防晒衣 连帽", "防晒衫 男 透气"],
        "leaf_category": "防晒衣", "price": [89.9, 159.0, 39.5], "sales_30d": [1200, 35000, 7],
        "is_tmall": ["是", "是", "否"] if zh else ["true", "true", "false"],
        "color": ["白色", "黑色", "蓝色"], "size": ["M", "L", "XL"],
    })
    both = items.assign(item_id=["700000000001", "700000000002", "700000000003"],
                        category="服饰", leaf_category="防晒衣")
    traffic = pd.DataFrame({
        "date": [D1, D1, D2], "shop": ["防晒衣旗舰店", "防晒衣旗舰店", "小店"],
        "item_id": ["600123456789", "600123456789", "612345678901"],
        "channel": (["手淘搜索", "淘宝客", "直通车"] if zh
                    else ["organic_search", "affiliate", "paid_search"]),
        "visitors": [1500, 320, 45], "buyers": [60, 9, 1],
        "page_views": [2600, 400, 50],
    })
    sales = pd.DataFrame({
        "date": [D1, D2], "item_id": ["600123456789", "600123456789"], "units": [12, 30],
        "revenue": [1078.8, 2697.0], "visitors": [400, 900],
    })
    market = pd.DataFrame({
        "date": [D1, D2], "category": "防晒衣", "trade_index": [123456.0, 130000.0],
        "visitors": [56000, 61000], "buyers": [1800, 1950],
        "search_popularity": [88000.0, 91000.0], "items_online": [45000, 45100],
    })
    hours = pd.DataFrame({
        "snapshot_date": D1, "category": "防晒衣", "dimension": "时段" if zh else "hour",
        "segment": [str(h) for h in range(24)],
        "share": [f"{s:.2%}" for s in (np.arange(24) + 1) / 300],
    })
    events = pd.DataFrame({"date": [D1, D2], "name": ["国庆", "618"],
                           "kind": ["节假日", "大促"] if zh else ["holiday", "promotion"]})
    return {"kw_full": ("keywords", kw), "kw_no_online": ("keywords", no_online),
            "kw_no_tmall": ("keywords", no_tmall), "kw_bare": ("keywords", bare),
            "items_leaf_only": ("items", items), "items_both": ("items", both),
            "traffic": ("traffic", traffic), "sales": ("sales", sales),
            "market": ("market_daily", market), "audience_hours": ("audience", hours),
            "events": ("events", events)}


def header_of(lang: str, table: str, column: str) -> str:
    """The header of a canonical column: Chinese, the canonical name, or the table's first
    English alias in the schema other than the name (the name where it has none)."""
    if lang == "zh":
        return HEADERS["zh"][column]
    english = [a for a in TABLES[table].column(column).aliases if a.isascii()]
    return english[0] if lang == "en-alias" and english else column


def export_frame(frame: pd.DataFrame, table: str, lang: str, fmt: str) -> pd.DataFrame:
    """The export as written: headers in ``lang``; dates as text in a CSV."""
    out = frame.copy()
    if fmt.startswith("csv"):
        for col in ("date", "snapshot_date"):
            if col in out:
                out[col] = out[col].dt.strftime("%Y/%m/%d")
    return out.rename(columns={c: header_of(lang, table, c) for c in out.columns})


WRITERS: dict[str, Callable[[Path, pd.DataFrame, list[str]], None]] = {
    "csv-gbk": lambda p, f, d: write_csv(p, f, "gbk"),
    "csv-utf8": lambda p, f, d: write_csv(p, f, "utf-8"),
    "csv-utf8-bom": lambda p, f, d: write_csv(p, f, "utf-8-sig", crlf=True),
    "xlsx": lambda p, f, d: write_xlsx(p, f, date_columns=d),
    "xls": lambda p, f, d: write_xls(p, f, date_columns=d),
}


def write_exports(folder: Path, lang: str, fmt: str) -> dict[str, tuple[str, pd.DataFrame]]:
    folder.mkdir(parents=True, exist_ok=True)
    made = tables(lang)
    suffix = "." + fmt.split("-")[0]
    for stem, (table, frame) in made.items():
        out = export_frame(frame, table, lang, fmt)
        dates = [header_of(lang, table, c) for c in ("date", "snapshot_date") if c in frame]
        WRITERS[fmt](folder / f"{stem}{suffix}", out, dates)
    return made


def share(text: str) -> float:
    return float("nan") if text == "-" else float(text.rstrip("%")) / 100


#: every format in Chinese and English; the English aliases (matched the same way whatever
#: the format) in one CSV and one workbook
CASES = [(f, lang) for f in FORMATS for lang in ("zh", "en")] + [
    ("csv-utf8", "en-alias"), ("xls", "en-alias")]


@pytest.fixture(scope="module", params=CASES,
                ids=lambda p: f"{p[0]}-{p[1]}")
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> tuple[Path, dict[str, tuple[str, pd.DataFrame]], list]:
    fmt, lang = request.param
    folder = tmp_path_factory.mktemp(f"{fmt}-{lang}")
    made = write_exports(folder / "exports", lang, fmt)
    results = ingest_paths([folder / "exports"], warehouse=folder / "w.duckdb")
    return folder / "w.duckdb", made, results


def test_every_file_loads_into_its_table(loaded: tuple) -> None:
    _, made, results = loaded
    failed = [r.message for r in results if r.outcome != "loaded"]
    assert not failed, "\n".join(failed)
    got = {r.file.stem: r.table for r in results}
    assert got == {stem: table for stem, (table, _) in made.items()}
    rows = {r.file.stem: r.result.rows for r in results}
    assert rows == {stem: len(frame) for stem, (_, frame) in made.items()}


def test_keywords_with_and_without_the_optional_columns(loaded: tuple) -> None:
    """在线商品数 and 商城点击占比 absent: those columns are empty for that file's rows, the
    rest is read as written."""
    warehouse, made, _ = loaded
    kw = read("keywords", warehouse).set_index(["date", "keyword"])
    for stem in ("kw_full", "kw_no_online", "kw_no_tmall", "kw_bare"):
        frame = made[stem][1]
        for row in frame.itertuples(index=False):
            got = kw.loc[(row.date, row.keyword)]
            assert got["category"] == "防晒衣"
            assert got["search_popularity"] == row.search_popularity
            assert got["search_heat"] == row.search_heat
            assert got["click_rate"] == pytest.approx(share(row.click_rate))
            assert got["ppc_price"] == pytest.approx(row.ppc_price)
            if row.conversion_rate == "-":
                assert pd.isna(got["conversion_rate"])
            else:
                assert got["conversion_rate"] == pytest.approx(share(row.conversion_rate))
            if "online_items" in frame:
                assert got["online_items"] == row.online_items
            else:
                assert pd.isna(got["online_items"])
            if "tmall_click_share" in frame:
                assert got["tmall_click_share"] == pytest.approx(share(row.tmall_click_share))
            else:
                assert pd.isna(got["tmall_click_share"])
    assert len(kw) == 12


def test_items_leaf_only_and_with_both_category_columns(loaded: tuple) -> None:
    """Only 叶子类目: it is the category (and the leaf). 类目 beside it: 类目 is the category."""
    warehouse, made, _ = loaded
    items = read("items", warehouse).set_index("item_id")
    for stem, category in (("items_leaf_only", "防晒衣"), ("items_both", "服饰")):
        frame = made[stem][1]
        for row in frame.itertuples(index=False):
            got = items.loc[row.item_id]
            assert got["category"] == category
            assert got["leaf_category"] == "防晒衣"
            assert got["snapshot_date"] == row.snapshot_date
            assert (got["shop"], got["title"]) == (row.shop, row.title)
            assert got["price"] == pytest.approx(row.price)
            assert got["sales_30d"] == row.sales_30d
            assert bool(got["is_tmall"]) == (row.is_tmall in ("是", "true"))
            assert (got["color"], got["size"]) == (row.color, row.size)
            assert got["revenue_30d"] is None or pd.isna(got["revenue_30d"]) \
                or got["revenue_30d"] == pytest.approx(row.price * row.sales_30d)
    assert sorted(items.index) == sorted(["600123456789", "000000000042", "612345678901",
                                          "700000000001", "700000000002", "700000000003"])


def test_traffic_sales_market_and_events(loaded: tuple) -> None:
    warehouse, made, _ = loaded
    traffic = read("traffic", warehouse).sort_values(["date", "visitors"], ascending=[True, False])
    assert traffic["channel"].tolist() == ["organic_search", "affiliate", "paid_search"]
    assert traffic["visitors"].tolist() == [1500, 320, 45]
    assert traffic["buyers"].tolist() == [60, 9, 1]
    assert traffic["page_views"].tolist() == [2600, 400, 50]
    assert traffic["item_id"].tolist() == ["600123456789", "600123456789", "612345678901"]
    sales = read("sales", warehouse).sort_values("date")
    assert sales["units"].tolist() == [12, 30]
    assert sales["revenue"].tolist() == pytest.approx([1078.8, 2697.0])
    assert sales["visitors"].tolist() == [400, 900]
    market = read("market_daily", warehouse).sort_values("date")
    assert market["trade_index"].tolist() == [123456.0, 130000.0]
    assert market["items_online"].tolist() == [45000, 45100]
    assert market["search_popularity"].tolist() == [88000.0, 91000.0]
    events = read("events", warehouse).sort_values("date")
    assert events["name"].tolist() == ["国庆", "618"]
    assert events["date"].tolist() == [D1, D2]


def test_audience_with_hours_only(loaded: tuple) -> None:
    """An audience export of 时段 rows alone (no 星期): 24 hour rows, shares as fractions."""
    warehouse, made, _ = loaded
    audience = read("audience", warehouse)
    assert set(audience["dimension"]) == {"hour"}
    by_hour = audience.set_index("segment")["share"]
    assert sorted(by_hour.index, key=int) == [str(h) for h in range(24)]
    assert by_hour["0"] == pytest.approx(1 / 300, abs=5e-5)
    assert by_hour["23"] == pytest.approx(24 / 300, abs=5e-5)
    assert (audience["category"] == "防晒衣").all()
    assert (audience["snapshot_date"] == D1).all()


@pytest.mark.parametrize("fmt", ["xlsx", "xls"])
def test_workbook_cells_typed_otherwise(fmt: str, tmp_path: Path) -> None:
    """A workbook may hold shares as numbers (0.1234 under a % format), dates as text
    (2025/10/01) and IDs as numbers: each reads as the same value as in the CSV."""
    kw = pd.DataFrame({"日期": ["2025/10/01", "2025/10/02"], "类目": "防晒衣",
                       "搜索词": ["防晒衣 女", "防晒衣 女"], "搜索人气": [1234.0, 1300.0],
                       "点击率": [0.1234, 0.5], "支付转化率": [0.0321, np.nan]})
    items = pd.DataFrame({"日期": ["2025-10-01"], "商品ID": [600123456789], "店铺": ["小店"],
                          "叶子类目": ["防晒衣"], "价格": [89.9], "月销量": [12]})
    writer = write_xlsx if fmt == "xlsx" else write_xls
    writer(tmp_path / f"kw.{fmt}", kw)
    writer(tmp_path / f"items.{fmt}", items)
    results = ingest_paths([tmp_path / f"kw.{fmt}", tmp_path / f"items.{fmt}"],
                           warehouse=tmp_path / "w.duckdb")
    assert [r.outcome for r in results] == ["loaded", "loaded"], [r.message for r in results]
    got = read("keywords", tmp_path / "w.duckdb").sort_values("date")
    assert got["date"].tolist() == [D1, D2]
    assert got["click_rate"].tolist() == pytest.approx([0.1234, 0.5])
    assert got["conversion_rate"].iloc[0] == pytest.approx(0.0321)
    assert pd.isna(got["conversion_rate"].iloc[1])
    item = read("items", tmp_path / "w.duckdb").iloc[0]
    assert (item["item_id"], item["category"], item["snapshot_date"]) == (
        "600123456789", "防晒衣", D1)


def test_refusals_name_what_is_really_wrong(tmp_path: Path) -> None:
    """A file lacking only its category is told how to give one; a file lacking more is not
    (naming a category would not load it); a paid-promotion report (the contract's ads table,
    not loaded by this version) is named as such instead of as the closest table."""
    only_category = pd.DataFrame({"日期": ["2025/10/01"], "店铺": ["小店"], "商品ID": ["1001"],
                                  "价格": [59.0], "月销量": [3]})
    more = only_category.drop(columns=["价格", "月销量"]).assign(访问量=[3])
    ads = pd.DataFrame({"日期": ["2025/10/01"], "推广渠道": ["直通车"], "计划名称": ["计划A"],
                        "花费": [120.5], "展现量": [10000], "点击量": [300],
                        "总成交金额": [1500.0], "投入产出比": [12.45]})
    for name, frame in (("only_category", only_category), ("more", more), ("ads", ads)):
        write_csv(tmp_path / f"{name}.csv", frame, "utf-8")
    results = {r.file.stem: r for r in ingest_paths(
        [tmp_path / f"{n}.csv" for n in ("only_category", "more", "ads")],
        warehouse=tmp_path / "w.duckdb")}
    assert {r.outcome for r in results.values()} == {"failed"}
    assert "--default category=NAME" in results["only_category"].message
    assert "items lacks category" in results["only_category"].message
    assert "headers match no table" in results["more"].message
    assert "--default category" not in results["more"].message
    assert results["ads"].message.startswith(
        "ads.csv: looks like a paid-promotion report (ads: it has 推广渠道, 计划名称, 花费, 展现量)")
    assert "does not load one" in results["ads"].message
    assert "--default category" not in results["ads"].message


def test_excel_unicode_text_loads(tmp_path: Path) -> None:
    """Excel's "Unicode text" (UTF-16 with its BOM, tab-separated .txt) loads as the CSV does;
    the same file cut mid-character is refused, naming UTF-16."""
    _, frame = tables("zh")["items_leaf_only"]
    text = export_frame(frame, "items", "zh", "csv").to_csv(index=False, sep="\t",
                                                             lineterminator="\r\n")
    (tmp_path / "items.txt").write_bytes(text.encode("utf-16"))
    (tmp_path / "cut.txt").write_bytes(text.encode("utf-16")[:-1])
    loaded, cut = ingest_paths([tmp_path / "items.txt", tmp_path / "cut.txt"],
                               warehouse=tmp_path / "w.duckdb")
    assert (loaded.outcome, loaded.table) == ("loaded", "items"), loaded.message
    items = read("items", tmp_path / "w.duckdb").set_index("item_id")
    assert items.loc["000000000042", ["category", "shop", "price", "sales_30d"]].tolist() == [
        "防晒衣", "蕉下官方旗舰店", 159.0, 35000]
    assert cut.outcome == "failed" and "UTF-16" in cut.message
