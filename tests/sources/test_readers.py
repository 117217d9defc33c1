"""Readers: workbooks through calamine within their limits, and the CSV header region.

The hostile workbooks of issue 15 are built here with :mod:`zipfile`, small on disk, and read
in a subprocess that reports its time and its peak resident memory (``ru_maxrss``: calamine
allocates in Rust, which ``tracemalloc`` does not see), under an address-space limit so a
regression fails the test instead of the machine.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pandas as pd
import pytest

from research.sources import workbooks
from research.sources.exports import ingest_paths
from research.sources.readers import (
    MAX_CELL_CHARS,
    ExportError,
    column_letter,
    read_export,
)
from research.store.warehouse import read
from tests._support import unavailable

KW_HEADER = ["日期", "类目", "搜索词", "搜索人气", "点击率", "在线商品数"]
KW_ROWS = [
    ["2026-11-01", "保温杯", "保温杯 316", 12345, "12.34%", 1200],
    ["2026-11-01", "保温杯", "儿童保温杯", 880.5, 0.085, 300],
    ["2026-11-02", "保温杯", "保温杯", 12000, "11.00%", None],
    ["2026-11-02", "保温杯", "吸管杯", 7.25, "-", 45],
]

# --------------------------------------------------------------------------- builders

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def _cell(ref: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, str) and value.startswith("#"):
        return f'<c r="{ref}" t="e"><v>{escape(value)}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def sheet_rows(rows: Iterable[Iterable[object]], first_row: int = 1, first_col: int = 0) -> str:
    """``<row>`` elements for ``rows``, the first at ``first_row`` and column ``first_col``."""
    out = []
    for i, row in enumerate(rows):
        r = first_row + i
        cells = "".join(_cell(f"{column_letter(first_col + j)}{r}", v) for j, v in enumerate(row))
        out.append(f'<row r="{r}">{cells}</row>')
    return "".join(out)


def write_xlsx(path: Path, sheet_data: str | Iterable[str], dimension: str = "A1",
               level: int = 6) -> Path:
    """A minimal workbook whose first sheet holds ``sheet_data`` (the inside of
    ``<sheetData>``; an iterable is streamed into the zip, so it may be huge)."""
    types = (f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{_PKG.replace("relationships", "content-types")}">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
             '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
             "</Types>")
    rels = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>")
    book = (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
    book_rels = (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">'
                 f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
                 "</Relationships>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        zf.writestr("[Content_Types].xml", types)
        zf.writestr("_rels/.rels", rels)
        zf.writestr("xl/workbook.xml", book)
        zf.writestr("xl/_rels/workbook.xml.rels", book_rels)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}">'
                       f'<dimension ref="{dimension}"/><sheetData>'.encode())
            for piece in ([sheet_data] if isinstance(sheet_data, str) else sheet_data):
                part.write(piece.encode())
            part.write(b"</sheetData></worksheet>")
    return path


def kw_csv_text() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["统计时间：2026-11-01 ~ 2026-11-02"])
    writer.writerow([])
    writer.writerow(KW_HEADER)
    for row in KW_ROWS:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


def kw_openpyxl(path: Path) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["统计时间：2026-11-01 ~ 2026-11-02"])
    ws.append([])
    ws.append(KW_HEADER)
    for row in KW_ROWS:
        ws.append(row)
    book.save(path)
    return path


@pytest.fixture(scope="module")
def kw_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same keywords export as CSV, XLSX (openpyxl) and XLS (LibreOffice from the XLSX)."""
    folder = tmp_path_factory.mktemp("kw")
    files = {"csv": folder / "kw.csv", "xlsx": kw_openpyxl(folder / "kw.xlsx")}
    files["csv"].write_text(kw_csv_text(), encoding="utf-8")
    corner = openpyxl.Workbook()  # values at A1 and IV65536, the last cell an .xls has
    corner.active.append(KW_HEADER)
    corner.active["IV65536"] = "x"
    corner.save(folder / "corner.xlsx")
    errors = openpyxl.Workbook()  # LibreOffice computes the formulas: error results in the .xls
    errors.active.append(KW_HEADER[:4])
    errors.active.append(["2026-11-01", "保温杯", "杯", "=1/0"])
    errors.active.append(["2026-11-02", "保温杯", "杯", "=NA()"])
    errors.save(folder / "errors.xlsx")
    soffice = shutil.which("soffice")
    if soffice is None:
        unavailable("LibreOffice (soffice), to write the .xls fixture",
                    "make browser installs libreoffice-calc-nogui")
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{folder}/profile",
                    "--convert-to", "xls", "--outdir", str(folder / "xls"),
                    str(files["xlsx"]), str(folder / "corner.xlsx"), str(folder / "errors.xlsx")],
                   check=True, capture_output=True, timeout=180)
    files["xls"] = folder / "xls" / "kw.xls"
    for xls in (files["xls"], folder / "xls" / "corner.xls", folder / "xls" / "errors.xls"):
        assert xls.read_bytes()[:8] == bytes.fromhex("d0cf11e0a1b11ae1")  # OLE2: a real .xls
    return files


_CHILD = r"""
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
from research.sources.readers import ExportError, read_export
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    raw = read_export(sys.argv[1], sys.argv[2])
    out = {"outcome": "read", "rows": len(raw.frame), "headers": raw.headers,
           "cells": raw.frame.drop(columns="_row").fillna("").values.tolist()[:3]}
except ExportError as exc:
    out = {"outcome": "refused", "message": str(exc)}
out["seconds"] = time.perf_counter() - start
out["extra_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
print(json.dumps(out))
"""


def read_in_child(path: Path, tmp: Path) -> dict:
    """Read ``path`` in a fresh interpreter; its outcome, seconds and peak memory added (MB)."""
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(tmp)],
                          capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- workbooks

def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 5, 25, 26, 27, 51, 52, 701, 702, 16383)] == [
        "A", "F", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA", "XFD"]


@pytest.mark.parametrize("kind", ["xlsx", "xls"])
def test_workbook_reads_as_the_same_csv(kind: str, kw_files: dict[str, Path],
                                        tmp_path: Path) -> None:
    """The cells of a workbook are the CSV's text: whole numbers without .0, shares as
    written, the preamble skipped and the Excel row numbers kept."""
    raw = read_export(kw_files[kind], tmp_path)
    assert raw.kind == "xlsx" and raw.encoding == kind
    assert raw.headers == KW_HEADER and raw.header_row == 3 and raw.first_column == 0
    csv_rows = list(csv.reader(io.StringIO(kw_csv_text())))[3:]
    assert raw.frame is not None
    cells = raw.frame.drop(columns="_row").fillna("").values.tolist()
    assert cells == csv_rows
    assert raw.frame["_row"].tolist() == [4, 5, 6, 7]


def test_csv_xlsx_and_xls_load_the_same_table(kw_files: dict[str, Path],
                                              tmp_path: Path) -> None:
    tables = {}
    for kind, path in kw_files.items():
        wh = tmp_path / f"{kind}.duckdb"
        [res] = ingest_paths([path], wh)
        assert res.outcome == "loaded", res.message
        got = read("keywords", wh)
        tables[kind] = got.drop(columns=[c for c in got.columns if c.startswith("_")])
    pd.testing.assert_frame_equal(tables["xlsx"], tables["csv"])
    pd.testing.assert_frame_equal(tables["xls"], tables["csv"])
    assert sorted(tables["csv"]["search_popularity"].tolist()) == [7.25, 880.5, 12000, 12345]


def test_numbers_ids_dates_and_errors_keep_their_text(tmp_path: Path) -> None:
    """IDs of 16+ digits come from the XML's digits (a float would change them), error
    cells keep their text, dates and times read as ISO text."""
    rows = sheet_rows([["采集日期", "商品ID", "店铺名称", "价格", "月销量"],
                       ["2026-11-22", 600123456789012345, "店A", 89.9, "#N/A"],
                       ["2026-11-22", 9007199254740993, "店B", 59, 300],
                       ["2026-11-22", 612345678901, "店C", "#DIV/0!", 1e20]])
    raw = read_export(write_xlsx(tmp_path / "ids.xlsx", rows), tmp_path)
    assert raw.frame is not None
    assert raw.frame.drop(columns="_row").values.tolist() == [
        ["2026-11-22", "600123456789012345", "店A", "89.9", "#N/A"],
        ["2026-11-22", "9007199254740993", "店B", "59", "300"],
        ["2026-11-22", "612345678901", "店C", "#DIV/0!", "1e+20"]]
    assert workbooks.cell_text(2.0**53 + 2) == "9.007199254740994e+15"  # from a float: refused as an ID


def test_dates_from_openpyxl(tmp_path: Path) -> None:
    import datetime as dt

    book = openpyxl.Workbook()
    book.active.append(["日期", "类目", "搜索词", "搜索人气"])
    book.active.append([dt.date(2026, 11, 1), "保温杯", "杯", 5])
    book.active.append([dt.datetime(2026, 11, 2, 13, 5), "保温杯", "杯", 6])
    book.save(tmp_path / "d.xlsx")
    raw = read_export(tmp_path / "d.xlsx", tmp_path)
    assert raw.frame is not None
    assert raw.frame["c0"].tolist() == ["2026-11-01", "2026-11-02 13:05:00"]


def test_declared_dimension_alone_is_not_allocated(tmp_path: Path) -> None:
    """Issue 15: a 5 KB file declaring A1:XFD1048576 took >3 GB and 17 s. Calamine ignores
    the declaration; the file reads at once."""
    rows = sheet_rows([KW_HEADER, *KW_ROWS])
    path = write_xlsx(tmp_path / "declared.xlsx", rows, dimension="A1:XFD1048576")
    assert path.stat().st_size < 5_000
    out = read_in_child(path, tmp_path)
    assert out["outcome"] == "read" and out["rows"] == 4, out
    assert out["seconds"] < 3 and out["extra_mb"] < 100, out


def test_cells_at_far_corners_refused_before_calamine(tmp_path: Path) -> None:
    """Two real cells at A1 and XFD1048576 would make calamine allocate 17 billion cells
    (it aborts the process); the sheet scan refuses the file first."""
    rows = sheet_rows([KW_HEADER, KW_ROWS[0]]) + (
        '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>')
    path = write_xlsx(tmp_path / "corners.xlsx", rows, dimension="A1:XFD1048576")
    assert path.stat().st_size < 5_000
    out = read_in_child(path, tmp_path)
    assert out["outcome"] == "refused", out
    assert "corners.xlsx" in out["message"] and "1,048,576 rows × 16,384 columns" in out["message"]
    assert "MAX_CELLS" in out["message"] and "delete it" in out["message"]
    assert out["seconds"] < 3 and out["extra_mb"] < 100, out


def test_stray_far_cell_refused_as_sparse(kw_files: dict[str, Path], tmp_path: Path) -> None:
    """Within MAX_CELLS but nearly empty: a 6 KB .xls with values at A1 and IV65536 took
    1.1 GB and 7 s in calamine (65,536 × 256 cells); so does an .xlsx with a value at CV200000."""
    corner = kw_files["xls"].parent / "corner.xls"
    assert corner.stat().st_size < 10_000
    out = read_in_child(corner, tmp_path)
    assert out["outcome"] == "refused", out
    assert out["message"].startswith(
        "corner.xls: the first sheet's 7 values span 65,536 rows × 256 columns = 16,777,216 "
        "cells, less than 5% of them filled (MIN_FILL"), out
    assert out["seconds"] < 3 and out["extra_mb"] < 100, out
    rows = sheet_rows([KW_HEADER, KW_ROWS[0]]) + (
        '<row r="200000"><c r="CV200000" t="inlineStr"><is><t>x</t></is></c></row>')
    out = read_in_child(write_xlsx(tmp_path / "stray.xlsx", rows), tmp_path)
    assert out["outcome"] == "refused" and "200,000 rows × 100 columns" in out["message"], out
    assert "a stray value far below or right of the table?" in out["message"]
    assert out["seconds"] < 3 and out["extra_mb"] < 100, out


def test_cells_without_references_are_counted(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows and cells without r="…" (some writers omit them) are placed by counting: 69 cells
    whose widest row has 40 span 30 × 40 = 1,200 cells, refused under a cap of 1,000."""
    wide = "".join("<c><v>1</v></c>" for _ in range(40))
    rows = "".join(f"<row>{wide if i == 7 else '<c><v>1</v></c>'}</row>" for i in range(30))
    path = write_xlsx(tmp_path / "norefs.xlsx", rows)
    monkeypatch.setattr(workbooks, "MAX_CELLS", 1000)
    with pytest.raises(ExportError, match=r"norefs.xlsx: .* 30 rows × 40 columns = 1,200 cells.*MAX_CELLS"):
        read_export(path, tmp_path)
    monkeypatch.setattr(workbooks, "MAX_CELLS", 1200)
    raw = read_export(path, tmp_path)  # within the cap: read
    assert raw.headers == ["1"] and raw.frame is not None and len(raw.frame) == 29


def test_zip_bomb_refused_in_bounded_memory(tmp_path: Path) -> None:
    """Issue 15: a ~100 KB zip storing a 100-million-character title (1 GB peak before)."""
    head = sheet_rows([["采集日期", "商品ID", "店铺名称", "商品标题", "类目", "价格", "月销量"]])
    chunk = "A" * 2**20

    def parts() -> Iterable[str]:
        yield head
        yield ('<row r="2"><c r="A2" t="inlineStr"><is><t>2026-11-22</t></is></c>'
               '<c r="D2" t="inlineStr"><is><t>')
        for _ in range(100):
            yield chunk
        yield "</t></is></c></row>"

    path = write_xlsx(tmp_path / "bomb.xlsx", parts(), level=9)
    assert path.stat().st_size < 400_000
    out = read_in_child(path, tmp_path)
    assert out["outcome"] == "refused", out
    assert "bomb.xlsx" in out["message"] and "MAX_COMPRESSION_RATIO" in out["message"]
    assert "xl/worksheets/sheet1.xml" in out["message"]
    assert out["seconds"] < 3 and out["extra_mb"] < 100, out


def test_incompressible_long_cell_refused_by_the_scan(tmp_path: Path) -> None:
    """A cell too long to be real, not compressible: the streaming scan names its cell."""
    rng = random.Random(15)
    text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(400_000))
    rows = sheet_rows([KW_HEADER, ["2026-11-01", "保温杯", text, 5]])
    path = write_xlsx(tmp_path / "long.xlsx", rows)
    out = read_in_child(path, tmp_path)
    assert out["outcome"] == "refused", out
    assert "long.xlsx" in out["message"] and "(row 2, column C)" in out["message"]
    assert "MAX_CELL_CHARS" in out["message"]
    assert out["seconds"] < 3 and out["extra_mb"] < 100, out


def test_cell_over_excel_limit_named(tmp_path: Path) -> None:
    rows = sheet_rows([KW_HEADER, ["2026-11-01", "保温杯", "杯", 5],
                       ["2026-11-01", "保温杯", "x" * (MAX_CELL_CHARS + 1), 6]], first_col=1)
    path = write_xlsx(tmp_path / "over.xlsx", rows)
    with pytest.raises(ExportError) as err:
        read_export(path, tmp_path)
    assert str(err.value).startswith("over.xlsx: row 3, column D: a cell of 32,768 characters")
    assert "MAX_CELL_CHARS" in str(err.value)
    rows = sheet_rows([KW_HEADER, ["2026-11-01", "保温杯", "x" * MAX_CELL_CHARS, 6]])
    raw = read_export(write_xlsx(tmp_path / "at.xlsx", rows), tmp_path)
    assert raw.frame is not None and len(raw.frame["c2"].iloc[0]) == MAX_CELL_CHARS


def test_unpacked_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_xlsx(tmp_path / "big.xlsx", sheet_rows([KW_HEADER, *KW_ROWS]))
    packed, unpacked = path.stat().st_size, sum(i.file_size for i in zipfile.ZipFile(path).infolist())
    monkeypatch.setattr(workbooks, "MAX_UNCOMPRESSED_BYTES", (packed + unpacked) // 2)
    with pytest.raises(ExportError, match=rf"big.xlsx: unpacks to {unpacked:,} bytes, .*"
                                          r"MAX_UNCOMPRESSED_BYTES.*CSV"):
        read_export(path, tmp_path)
    monkeypatch.setattr(workbooks, "MAX_UNCOMPRESSED_BYTES", packed - 1)  # the file itself
    with pytest.raises(ExportError, match=rf"big.xlsx: {packed:,} bytes, more than .*"
                                          r"MAX_UNCOMPRESSED_BYTES"):
        read_export(path, tmp_path)


@pytest.mark.parametrize("kind", ["xlsx", "xls"])
def test_truncated_workbook_keeps_a_clear_message(kind: str, kw_files: dict[str, Path],
                                                  tmp_path: Path) -> None:
    data = kw_files[kind].read_bytes()
    bad = tmp_path / f"cut.{kind}"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(ExportError) as err:
        read_export(bad, tmp_path)
    assert str(err.value).startswith(f"cut.{kind}: not a readable workbook (truncated or corrupt")
    assert "download it again" in str(err.value)


def test_table_right_of_column_a_and_duplicate_headers(tmp_path: Path) -> None:
    rows = sheet_rows([["日期", "类目", "搜索人气", "搜索词", "点击率", "搜索人气"],
                       ["2026-11-01", "保温杯", 5, "杯", "1%", 6]], first_row=2, first_col=1)
    with pytest.raises(ExportError) as err:
        read_export(write_xlsx(tmp_path / "dup.xlsx", rows), tmp_path)
    assert str(err.value).startswith(
        "dup.xlsx: row 2 (the header): columns D and G are both 搜索人气; expected each column once")
    rows = sheet_rows([KW_HEADER, KW_ROWS[0]], first_row=2, first_col=1)
    raw = read_export(write_xlsx(tmp_path / "right.xlsx", rows), tmp_path)
    assert raw.first_column == 1 and raw.header_row == 2 and raw.headers == KW_HEADER
    assert raw.frame is not None and raw.frame["_row"].tolist() == [3]


# --------------------------------------------------------------------------- CSV

def test_duplicate_csv_headers_named_with_letters(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("日期,类目,搜索人气,搜索词,点击率,搜索人气\n2026-11-01,保温杯,5,杯,1%,6\n",
                    encoding="utf-8")
    with pytest.raises(ExportError) as err:
        read_export(path, tmp_path)
    assert str(err.value).startswith(
        "dup.csv: row 1 (the header): columns C and F are both 搜索人气; expected each column once")


@pytest.mark.parametrize(("size", "row", "col"), [(1_000_000, 1, "A"), (40_000, 2, "B"),
                                                  (1_000_000, 2, "B"), (1_000_000, 3, "C")])
def test_long_cell_in_the_header_region_named(size: int, row: int, col: str,
                                              tmp_path: Path) -> None:
    """A 1 MB cell in the first lines crashed csv ('field larger than field limit'); now
    any cell over MAX_CELL_CHARS above or in the header is refused with its row and column."""
    lines = ["统计时间：2026-11-01", "类目：保温杯,", ",".join(KW_HEADER[:4]),
             "2026-11-01,保温杯,杯,5"]
    cells = lines[row - 1].split(",")
    cells[ord(col) - ord("A")] = '"' + "说" * size + '"'
    lines[row - 1] = ",".join(cells)
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ExportError) as err:
        read_export(path, tmp_path)
    text = str(err.value)
    assert text.startswith(f"long.csv: row {row}, column {col}: a cell of"), text[:200]
    assert "MAX_CELL_CHARS" in text and len(text) < 400


def test_bom_file_encoding_error_names_the_right_column(tmp_path: Path) -> None:
    data = ("日期,类目,搜索词,搜索人气\n2026-11-01,保温杯,".encode() + b"\xff\xfe" + b",5\n")
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + data)
    with pytest.raises(ExportError) as err:
        read_export(path, tmp_path)
    offset = path.read_bytes().index(b"\xff")
    assert str(err.value).startswith(
        f"bom.csv: row 2, column 3: byte(s) ff fe at offset {offset} are not valid UTF-8")


@pytest.mark.parametrize(("env", "mode"), [(None, 0o600), ("640", 0o640)])
def test_gbk_copy_is_private(env: str | None, mode: int, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    if env is None:
        monkeypatch.delenv("RESEARCH_FILE_MODE", raising=False)
    else:
        monkeypatch.setenv("RESEARCH_FILE_MODE", env)
    path = tmp_path / "gbk.csv"
    path.write_bytes(("\n".join([",".join(KW_HEADER[:4]), "2026-11-01,保温杯,杯,5"]) + "\n")
                     .encode("gbk"))
    old = os.umask(0o000)
    try:
        raw = read_export(path, tmp_path)
    finally:
        os.umask(old)
    assert raw.encoding == "gb18030" and raw.temporary is not None
    assert stat.S_IMODE(raw.temporary.stat().st_mode) == mode
    assert raw.temporary.read_text(encoding="utf-8").startswith("日期,类目,搜索词,搜索人气\n")


def test_workbooks_told_apart_by_content(kw_files: dict[str, Path], tmp_path: Path) -> None:
    """Platforms name one format as the other: the content decides, and a web page or a text
    table under an .xls name gets the fix in its message."""
    (tmp_path / "zip.xls").write_bytes(kw_files["xlsx"].read_bytes())
    (tmp_path / "ole.xlsx").write_bytes(kw_files["xls"].read_bytes())
    for name, kind in (("zip.xls", "xlsx"), ("ole.xlsx", "xls")):
        raw = read_export(tmp_path / name, tmp_path)
        assert raw.encoding == kind and raw.headers == KW_HEADER and raw.frame is not None
        assert len(raw.frame) == 4
    (tmp_path / "page.xls").write_text("<html><table><tr><td>日期</td></tr></table></html>",
                                       encoding="utf-8")
    (tmp_path / "text.xls").write_text("日期\t类目\n2026-11-01\t保温杯\n", encoding="utf-8")
    with pytest.raises(ExportError, match=r"^page.xls: the file is a web page \(HTML\), not an "
                                          r"Excel workbook; open it in Excel and save it as"):
        read_export(tmp_path / "page.xls", tmp_path)
    with pytest.raises(ExportError, match=r"^text.xls: the file is text, not an Excel workbook; "
                                          r"if it is a table of text, rename it to text.csv"):
        read_export(tmp_path / "text.xls", tmp_path)


def test_empty_and_headerless_workbooks(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"^empty.xlsx: the workbook is empty"):
        read_export(write_xlsx(tmp_path / "empty.xlsx", ""), tmp_path)
    rows = sheet_rows([KW_HEADER, KW_ROWS[0]], first_row=31)
    with pytest.raises(ExportError, match=r"^low.xlsx: no header row in the first 30 rows"):
        read_export(write_xlsx(tmp_path / "low.xlsx", rows), tmp_path)
    rows = sheet_rows([["名称", "数值"], ["a", 1]], first_row=3)  # unknown headers: first filled row
    raw = read_export(write_xlsx(tmp_path / "other.xlsx", rows), tmp_path)
    assert raw.headers == ["名称", "数值"] and raw.header_row == 3


def test_repeated_shared_string_cannot_multiply_text(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """One 30,000-character shared string in every cell: small on disk, 60 million characters
    once read; the total of text read is capped."""
    path = write_xlsx(tmp_path / "repeat.xlsx",
                      sheet_rows([KW_HEADER]) + "".join(
                          f'<row r="{r}"><c r="A{r}" t="s"><v>0</v></c><c r="B{r}" t="s"><v>0</v>'
                          f"</c></row>" for r in range(2, 1002)))
    with zipfile.ZipFile(path, "a") as zf:  # the shared string and its relationship
        zf.writestr("xl/sharedStrings.xml",
                    f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}" count="1" '
                    f'uniqueCount="1"><si><t>{"杯" * 30_000}</t></si></sst>')
    rels = zipfile.ZipFile(path).read("xl/_rels/workbook.xml.rels").decode().replace(
        "</Relationships>", f'<Relationship Id="rId9" Type="{_REL}/sharedStrings" '
                            f'Target="sharedStrings.xml"/></Relationships>')
    rebuilt = tmp_path / "rebuilt.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = rels.encode() if info.filename == "xl/_rels/workbook.xml.rels" \
                else src.read(info)
            dst.writestr(info.filename, data)
    raw = read_export(rebuilt, tmp_path)  # within the real cap: read, every cell the string
    assert raw.frame is not None and len(raw.frame) == 1000
    assert raw.frame["c0"].str.len().tolist() == [30_000] * 1000
    monkeypatch.setattr(workbooks, "MAX_TEXT_CHARS", 10_000_000)
    with pytest.raises(ExportError, match=r"^rebuilt.xlsx: the cells up to row 168 hold more "
                                          r"than 10,000,000 characters of text \(MAX_TEXT_CHARS"):
        read_export(rebuilt, tmp_path)


def test_declared_counts_calamine_would_reserve_are_checked(kw_files: dict[str, Path],
                                                            tmp_path: Path) -> None:
    """Calamine reserves memory from counts a file declares; one wrong number made it ask
    for 96 GB (an .xlsx's uniqueCount) or a terabyte (an .xls's DIMENSIONS) and abort."""
    sst = write_xlsx(tmp_path / "sst.xlsx", sheet_rows([KW_HEADER]) +
                     '<row r="2"><c r="A2" t="s"><v>0</v></c></row>')
    with zipfile.ZipFile(sst, "a") as zf:
        zf.writestr("xl/sharedStrings.xml", f'<sst xmlns="{_MAIN}" count="1" '
                    f'uniqueCount="4000000000"><si><t>2026-11-01</t></si></sst>')
    out = read_in_child(sst, tmp_path)
    assert out["outcome"] == "refused", out
    assert "sst.xlsx: not a readable workbook (truncated or corrupt: xl/sharedStrings.xml " \
           "declares 4,000,000,000 strings" in out["message"]
    data = bytearray(kw_files["xls"].read_bytes())
    at = data.index(bytes.fromhex("00020e00"))  # DIMENSIONS, 14 bytes: first row, last row…
    data[at + 4:at + 8] = (0x00560000).to_bytes(4, "little")  # first row after the last
    bad = tmp_path / "dims.xls"
    bad.write_bytes(bytes(data))
    out = read_in_child(bad, tmp_path)
    assert out["outcome"] == "refused", out
    assert out["message"].startswith("dims.xls: not a readable workbook (truncated or corrupt: "
                                     "a sheet declares rows 5636096–"), out
    data = bytearray(kw_files["xls"].read_bytes())
    at = data.index(b"\xfc\x00")  # SST: total count, unique count
    data[at + 8:at + 12] = (0x7FFFFFFF).to_bytes(4, "little")
    bad = tmp_path / "sst.xls"
    bad.write_bytes(bytes(data))
    out = read_in_child(bad, tmp_path)
    assert out["outcome"] == "refused" and "shared-string table declares" in out["message"], out


_MUTATE = r"""
import json, random, sys
from pathlib import Path
from research.sources.readers import ExportError, read_export
sources = [Path(p).read_bytes() for p in sys.argv[2:]]
rng, tmp, seen = random.Random(15), Path(sys.argv[1]), {"read": 0, "refused": 0}
for i in range(int(300)):
    k = rng.randrange(len(sources))
    data = bytearray(sources[k])
    for _ in range(rng.choice([1, 2, 5, 20])):
        pos, op = rng.randrange(len(data)), rng.random()
        if op < 0.6:
            data[pos] = rng.randrange(256)
        elif op < 0.8:
            del data[pos:pos + rng.randrange(1, 200)]
        else:
            data[pos:pos] = rng.randbytes(rng.randrange(1, 50))
    path = tmp / f"m{i}{Path(sys.argv[2 + k]).suffix}"
    path.write_bytes(bytes(data))
    try:
        read_export(path, tmp)
        seen["read"] += 1
    except ExportError:
        seen["refused"] += 1
print(json.dumps(seen))
"""


def test_mutated_workbooks_are_read_or_refused(kw_files: dict[str, Path], tmp_path: Path) -> None:
    """300 byte-mutated .xlsx and .xls files: each is read or refused with a message; no
    traceback, no abort, no Rust panic report on stderr (calamine panics on some of them)."""
    done = subprocess.run([sys.executable, "-c", _MUTATE, str(tmp_path), str(kw_files["xlsx"]),
                           str(kw_files["xls"])], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-3000:]
    assert "panicked" not in done.stderr and "Traceback" not in done.stderr, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["read"] + seen["refused"] == 300 and seen["refused"] > 100, seen


@pytest.mark.parametrize("data", [b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n\r\n", b",,,\n,,\n"])
def test_blank_csv_is_empty(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    path.write_bytes(data)
    with pytest.raises(ExportError, match=r"^blank.csv: the file is empty"):
        read_export(path, tmp_path)


def test_xls_error_cells_keep_their_text(kw_files: dict[str, Path], tmp_path: Path) -> None:
    """Calamine gives an .xls error cell as empty (a missing value); the BIFF records say
    which error it is, so a number column refuses it as Excel shows it."""
    raw = read_export(kw_files["xls"].parent / "errors.xls", tmp_path)
    assert raw.frame is not None
    assert raw.frame["c3"].tolist() == ["#DIV/0!", "#N/A"]
