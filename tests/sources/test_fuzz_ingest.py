"""A property-based fuzzer of the ingest: real exports, mutated, are loaded exactly or refused
with one message — never a traceback — and a refusal changes nothing stored.

The sample market (seed 7) is generated once per run; a small slice of each kind of export is
taken from it (header, preamble lines and the first 25–40 data rows of keywords GBK with and
without preamble, keywords XLSX, items UTF-8-BOM / GBK-with-preamble / XLSX / kids, traffic
two ways, sales XLSX, market GBK with preamble, audience XLSX with date cells, events UTF-8
without BOM). A base warehouse holding every unmutated slice is built once per worker; each
example copies it (file and raw folder), ingests a batch of four mutated slices of four
different tables with ``ingest_paths`` (so a failing file must not stop the others), and
judges every file; any exception escaping ``ingest_paths`` fails the test:

- ``failed``: a message naming the file, one paragraph (no blank line), no traceback or
  exception name in it, not the ingest's catch-all for its own bugs ("an unexpected
  error"), at most 4,000 characters; and every table no file of the batch loaded
  into is bit-for-bit unchanged (row count and order-independent row hash), the ingest log
  gained entries for the loaded files only, the raw folder gained their copies only.
- ``loaded``: one new log entry with the file's name and SHA-256, its row counts those of the
  result; its raw copy exists with that SHA-256 and the contract's file mode; the table grew
  by exactly ``new`` rows and holds ``new + replaced`` rows of the new ingest id. When the
  file's headers, bytes and encoding were left alone (only cells and rows mutated), the rows
  stored equal the distinct keys among the file's data rows, parsed here independently,
  every cell this module can parse with confidence (numbers, ``%``, ``万``, full-width digits,
  dates, IDs, text, 是/否) is stored with that value under its row's key, and the file must have been refused if it holds a ragged row (CSV), a non-finite number, an
  integer beyond INT64 in a whole-number column, an ID in scientific notation, or a date in
  a year ≤ 1900 or ≥ 2099 (the years the issue names as implausible).
- ``skipped``: the file's SHA-256 is already in the log for that table.
- after every example, nothing in the warehouse is non-finite, dated ≤ 1900 or ≥ 2099, or an
  ID in scientific notation.

Mutations: cells (edge values: ``inf``, ``-inf``, ``NaN``, ``1e309``, ``1e19``, ``7.1E+12``,
huge strings, ``=formulas``, years 1/1900/2099/9999, empty, full-width digits, ``%``, ``万``,
typed ``inf``/dates in XLSX), rows (duplicate, drop, ragged extra/fewer fields, blank, swap),
headers (duplicate, swap, alias, duplicate alias, delete, blank) and bytes (flip, insert,
delete, truncate, re-encode as UTF-8/BOM/GB18030/UTF-16/Big5/CP1252, CR-only line ends).

A deterministic sweep (``test_sweep_first_row``) writes, for each slice and each column in
turn, a few values that must be refused or read as missing into the first data row (empty in
a required column, years 1 and 2099, ``7.1E+12`` in an ID, ``inf``, ``1e19``…): 329 files,
judged the same way.

Budget: 5 property tests × 85 examples × 4 files = 1,700 mutated files, plus the sweep's 329:
2,029 cases in CI, derandomised (the same cases every run; ``FUZZ_EXAMPLES`` raises the
examples per property test for a longer local hunt). Measured 2026-12-03 on the shared 2-core
machine, one process: 225 s (setup 9 s; property tests cells 46 s, rows 40 s, headers 33 s,
mixed 31 s, bytes 31 s; the sweep 30 s) — about 0.1 s a file, most of it the ingest's own
work; under ``-n 2`` the five property tests and the 13 sweeps spread over both workers,
about 120 s. A failing
example is not shrunk in CI (``FUZZ_SHRINK=1`` shrinks it); the report notes each file's
mutations and bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import math
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest
from hypothesis import HealthCheck, Phase, assume, given, note, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from python_calamine import CalamineWorkbook

from research.config import file_mode, raw_dir_for
from research.sources.exports import IngestResult, ingest_paths
from research.store.schema import AUDIENCE_DIMENSIONS, TABLES, Column, normalise_header
from tests.sources._ingest_support import (
    Fingerprint,
    LogEntry,
    fingerprint,
    log_entries,
    raw_files,
    resolve_raw,
    sha256,
    table_hashes,
)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "85"))
FILES_PER_EXAMPLE = 4
MESSAGE_LIMIT = 4_000

PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target]
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                print_blob=True, report_multiple_bugs=True,
                phases=[*PHASES, Phase.shrink] if os.environ.get("FUZZ_SHRINK") else PHASES,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture,
                                       HealthCheck.filter_too_much])

# --------------------------------------------------------------------------- the slices


@dataclass(frozen=True)
class Slice:
    """The first rows of one real export, as a grid of cells."""

    name: str
    table: str
    kind: str                      # "csv" or "xlsx"
    encoding: str                  # for CSV: "gb18030", "utf-8-sig" or "utf-8"
    newline: str
    preamble: tuple[str, ...]
    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


#: (name in the sample, table, data rows kept)
SOURCES = [
    ("kw_2024Q3.csv", "keywords", 30),       # GBK, preamble, / dates
    ("kw_2024Q4.csv", "keywords", 30),       # GBK, thousands, "-"
    ("kw_2026-11.xlsx", "keywords", 30),
    ("items_2026-11-15.csv", "items", 25),   # UTF-8 BOM, 交易金额
    ("items_2026-10-25.csv", "items", 25),   # GBK, preamble
    ("items_2026-10-04.xlsx", "items", 25),
    ("items_kids_2026-10-04.csv", "items", 25),  # UTF-8 BOM, preamble 类目：儿童水杯
    ("traffic_0.csv", "traffic", 40),        # UTF-8 BOM, 支付金额, empty item IDs
    ("traffic_1.csv", "traffic", 40),        # / dates, thousands, 交易指数
    ("sales_2024.xlsx", "sales", 30),
    ("market_daily.csv", "market_daily", 30),  # GBK, preamble
    ("audience.xlsx", "audience", 40),       # date cells
    ("events.csv", "events", 30),            # UTF-8 without BOM
]


def _read_csv_slice(path: Path, table: str, keep: int) -> Slice:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        text, encoding = data[3:].decode("utf-8"), "utf-8-sig"
    else:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = data.decode("gb18030"), "gb18030"
    newline = "\r\n" if "\r\n" in text[:2000] else "\n"
    lines = text.split(newline)
    head = next(i for i, ln in enumerate(lines) if ln.count(",") >= 2)
    rows = list(csv.reader(io.StringIO(newline.join(lines[head: head + keep + 1]))))
    return Slice(path.name, table, "csv", encoding, newline, tuple(lines[:head]),
                 tuple(rows[0]), tuple(tuple(r) for r in rows[1:]))


def _read_xlsx_slice(path: Path, table: str, keep: int) -> Slice:
    # calamine reads the first rows without parsing the whole sheet (openpyxl took seconds)
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    rows = [tuple(r) for r in sheet.to_python(nrows=keep + 1)]
    return Slice(path.name, table, "xlsx", "xlsx", "\n", (), tuple(str(c) for c in rows[0]),
                 tuple(rows[1:]))


def take_slices(sample_dir: Path) -> list[Slice]:
    """A slice of each kind of export in the sample."""
    out = []
    for name, table, keep in SOURCES:
        path = sample_dir / name
        read = _read_xlsx_slice if name.endswith(".xlsx") else _read_csv_slice
        out.append(read(path, table, keep))
    return out


# --------------------------------------------------------------------------- rendering


def _csv_text(preamble: Sequence[str], header: Sequence[Any], rows: Sequence[Sequence[Any]],
              newline: str) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=newline)
    writer.writerow(["" if c is None else c for c in header])
    for row in rows:
        writer.writerow(["" if c is None else c for c in row])
    return "".join(line + newline for line in preamble) + buf.getvalue()


def _xlsx_bytes(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()

    def cells(values: Sequence[Any]) -> list[Any]:
        out: list[Any] = []
        for v in values:
            v = _marker(v)
            if isinstance(v, str) and v.startswith("="):
                cell = WriteOnlyCell(sheet, value=v)
                cell.data_type = "s"  # text that looks like a formula, as an export holds it
                v = cell
            out.append(v)
        return out

    sheet.append(cells(header))
    for row in rows:
        sheet.append(cells(row))
    buf = io.BytesIO()
    book.save(buf)
    if not any(isinstance(v, float) and not math.isfinite(v) for r in rows for v in r):
        return buf.getvalue()
    # openpyxl writes an empty <v/> for inf and NaN; a hand-made workbook can say them
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("xl/worksheets/"):
                for marker, text in _NONFINITE_MARKERS.items():
                    data = data.replace(f"<v>{marker!r}</v>".encode(), f"<v>{text}</v>".encode())
            dst.writestr(info, data)
    return out.getvalue()


#: stand-ins written for non-finite floats, replaced by these texts in the sheet's XML
_NONFINITE_MARKERS = {8.8888e-300: "inf", -8.8888e-300: "-inf", 7.7777e-300: "NaN"}


def _marker(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return 7.7777e-300 if math.isnan(value) else math.copysign(8.8888e-300, value)
    return value


def render(sl: Slice, header: Sequence[Any] | None = None,
           rows: Sequence[Sequence[Any]] | None = None, encoding: str = "keep",
           newline: str = "keep") -> bytes:
    """The bytes of a slice (or of a mutated grid in the slice's format)."""
    header = sl.header if header is None else header
    rows = sl.rows if rows is None else rows
    if sl.kind == "xlsx":
        return _xlsx_bytes(header, rows)
    text = _csv_text(sl.preamble, header, rows, sl.newline if newline == "keep" else newline)
    enc = sl.encoding if encoding == "keep" else encoding
    if enc == "utf-8-sig":
        return b"\xef\xbb\xbf" + text.encode("utf-8")
    return text.encode(enc, errors="replace")


# --------------------------------------------------------------------------- mutations

HUGE = "x" * 140_000           # over the csv module's 131,072-character field limit
HUGE_CN = "杯" * 60_000         # 180 KB in UTF-8
EDGE_TEXT = [
    "inf", "-inf", "+inf", "Infinity", "-Infinity", "NaN", "nan", "1e309", "-1e309", "1e19",
    "-1e19", "9223372036854775808", "7.1E+12", "7.10E+12", "1.23457E+11", "5.57294E+11",
    "", " ", "-", "0", "-1", "0.5", "１２３", "１，２３４", "１２３４５６７８９０１２", "12.5%",
    "150%", "-5%", "1.2万", "3万+", "100+", "=1+1", '=HYPERLINK("http://x","y")',
    "=cmd|' /C calc'!A0", "+1", "@SUM(A1)", "\t=1", "0001-01-01", "1900-01-01",
    "1899-12-31", "2099-12-31", "9999-12-31", "20991231", "2099/1/1", "9999年12月31日",
    "2026-02-30", "2026-13-01", "2026/11/01", "2026-11-01", HUGE, HUGE_CN, "a\nb", "a,b",
    '"', "\x00", "😀", "\u200b", "557293669344.0", "０", "保温杯", "手淘搜索", "年龄",
    "1e-400", "-0", "1_000", "٣", "1.2.3", "(5)", "¥12", "12元", "12 345", "1.2万+", "0x10",
    "1e5", "TRUE", "2026-11-01T00:00:00", "11/01/2026", "45231", "2026年11月1号",
    "２０２６－１１－０１", "  保温杯  ", "保温杯\t", "搜索人气", "'557293669344",
]
EDGE_TYPED = [math.inf, -math.inf, math.nan, 1e19, 7.1e12, 1e309, -1.0, 0.5, True,
              dt.datetime(1900, 1, 1), dt.datetime(2099, 12, 31), dt.datetime(9999, 12, 31),
              dt.date(1904, 1, 1)]

idx = st.integers(0, 10_000)
cell_op = st.tuples(st.just("cell"), idx, idx, st.sampled_from(EDGE_TEXT))
typed_op = st.tuples(st.just("typed"), idx, idx, st.sampled_from(EDGE_TYPED))
copy_op = st.tuples(st.just("copy"), idx, idx, idx, idx)
row_op = st.one_of(
    st.tuples(st.just("dup"), idx), st.tuples(st.just("drop"), idx),
    st.tuples(st.just("extra"), idx, st.integers(1, 3)),
    st.tuples(st.just("short"), idx, st.integers(1, 3)),
    st.tuples(st.just("swap"), idx, idx),
)
blank_op = st.tuples(st.just("blank"), idx)
header_op = st.one_of(
    st.tuples(st.just("hdup"), idx, idx), st.tuples(st.just("hswap"), idx, idx),
    st.tuples(st.just("halias"), idx, idx), st.tuples(st.just("hdupalias"), idx, idx, idx),
    st.tuples(st.just("hdel"), idx), st.tuples(st.just("hblank"), idx),
)
byte_op = st.one_of(
    st.tuples(st.just("flip"), idx, st.integers(1, 255)),
    st.tuples(st.just("ins"), idx, st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("del"), idx, st.integers(1, 64)),
    st.tuples(st.just("trunc"), idx),
)
LOSSLESS = ("keep", "utf-8", "utf-8-sig", "gb18030")
encodings = st.sampled_from([*LOSSLESS, "utf-16", "big5", "cp1252"])
newlines = st.sampled_from(["keep", "\n", "\r\n", "\r"])
KEEP = st.just("keep")


@dataclass
class Mutated:
    """A mutated slice: its bytes, and what the judge may rely on."""

    slice: Slice
    data: bytes
    header: list[Any]
    rows: list[list[Any]]
    exact: bool          # headers, bytes and encoding untouched: the grid is what the file says
    ops: list[tuple]
    intact: bool = True  # bytes and encoding untouched: the headers are what the file says
    alias: str = ""      # another file name (several variants of one slice in one batch)

    @property
    def name(self) -> str:
        """The file's name."""
        return self.alias or self.slice.name


def _aliases(table: str, header: str) -> list[str]:
    col = column_of(table, header)
    if col is None:
        return []
    return [a for a in (col.name, *col.aliases) if normalise_header(a) != normalise_header(header)]


def apply(sl: Slice, ops: Sequence[tuple], encoding: str = "keep", newline: str = "keep",
          ) -> Mutated:
    """Apply mutations to a slice, in order; indexes wrap around the current sizes."""
    header: list[Any] = list(sl.header)
    rows: list[list[Any]] = [list(r) for r in sl.rows]
    exact = intact = encoding in LOSSLESS and newline != "\r"
    byte_ops = []
    for op in ops:
        kind = op[0]
        if kind in ("flip", "ins", "del", "trunc"):
            byte_ops.append(op)
            continue
        if kind in ("cell", "typed", "copy") and rows:
            r = rows[op[1] % len(rows)]
            if not r:
                continue
            value = op[3] if kind != "copy" else \
                rows[op[3] % len(rows)][op[4] % max(1, len(rows[op[3] % len(rows)]))] \
                if rows[op[3] % len(rows)] else ""
            if sl.kind == "xlsx" and isinstance(value, str):
                # a workbook cannot hold them; and openpyxl cuts a cell to Excel's 32,767
                # characters, so the file holds the cut text (a longer cell is tested in CSV)
                value = ILLEGAL_CHARACTERS_RE.sub("", value)[:32_767]
            elif sl.kind == "csv" and value is not None:
                value = str(value)  # what the CSV will say
            r[op[2] % len(r)] = value
            if kind == "cell" and isinstance(value, str) and "\x00" in value:
                exact = intact = False
        elif kind == "dup" and rows:
            i = op[1] % len(rows)
            rows.insert(i + 1, list(rows[i]))
        elif kind == "drop" and len(rows) > 1:
            del rows[op[1] % len(rows)]
        elif kind == "extra" and rows:
            rows[op[1] % len(rows)].extend(["x"] * op[2])
        elif kind == "short" and rows:
            r = rows[op[1] % len(rows)]
            if len(r) > op[2]:
                del r[-op[2]:]
        elif kind == "swap" and rows:
            i, k = op[1] % len(rows), op[2] % len(rows)
            rows[i], rows[k] = rows[k], rows[i]
        elif kind == "blank" and rows:
            rows.insert(op[1] % len(rows), [""] * len(header))
            exact = False
        elif kind.startswith("h") and header:
            exact = False
            j = op[1] % len(header)
            if kind == "hdup":
                header[op[2] % len(header)] = header[j]
            elif kind == "hswap":
                k = op[2] % len(header)
                header[j], header[k] = header[k], header[j]
            elif kind == "halias":
                names = _aliases(sl.table, str(header[j]))
                if names:
                    header[j] = names[op[2] % len(names)]
            elif kind == "hdupalias":
                names = _aliases(sl.table, str(header[j]))
                if names:
                    header[op[2] % len(header)] = names[op[3] % len(names)]
            elif kind == "hdel" and len(header) > 1:
                del header[j]
                for r in rows:
                    if j < len(r):
                        del r[j]
            elif kind == "hblank":
                header[j] = ""
    data = render(sl, header, rows, encoding, newline)
    for op in byte_ops:
        exact = intact = False
        buf = bytearray(data)
        pos = op[1] % (len(buf) + 1)
        if op[0] == "flip" and buf:
            buf[min(pos, len(buf) - 1)] ^= op[2]
        elif op[0] == "ins":
            buf[pos:pos] = op[2]
        elif op[0] == "del":
            del buf[pos: pos + op[2]]
        elif op[0] == "trunc":
            del buf[pos:]
        data = bytes(buf)
    return Mutated(sl, data, header, rows, exact, list(ops), intact)


# --------------------------------------------------------------------------- independent parse

_FULL = str.maketrans("０１２３４５６７８９．，－＋％　：／", "0123456789.,-+% :/")
_MISSING = {"", "-", "--", "—", "——", "n/a", "N/A", "null", "NULL", "nan", "NaN", "None", "/"}
_DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d",
                 "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S"]
_DIMENSION = {name: code for code, names in AUDIENCE_DIMENSIONS.items() for name in names}
_SCI = re.compile(r"[0-9.]+[eE]\+?[0-9]+")
_NONFINITE = {"inf", "-inf", "infinity", "-infinity", "1e309", "-1e309"}
_BEYOND_INT64 = {"1e19", "-1e19", "9223372036854775808"}


@functools.lru_cache(maxsize=4096)
def column_of(table: str, header: str) -> Column | None:
    """The canonical column a header names in a table (None if none)."""
    norm = normalise_header(header)
    for col in TABLES[table].columns:
        if norm in {normalise_header(a) for a in (col.name, *col.aliases)}:
            return col
    return None


def _text(value: Any) -> str:
    """A cell as text: CSV cells are text already; a workbook's typed cells as a workbook
    reader writes them (whole floats without ``.0``, booleans as true/false)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    return str(value)


def parse_date(value: Any) -> dt.date | None:
    """A date cell as the contract reads it, or None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value).translate(_FULL).strip()
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def key_of(table: str, header: Sequence[Any], row: Sequence[Any]) -> tuple:
    """A row's key, parsed the way the contract describes."""
    out: list[object] = []
    for name in TABLES[table].key:
        pos = next((j for j, h in enumerate(header) if column_of(table, str(h)) is not None
                    and column_of(table, str(h)).name == (  # type: ignore[union-attr]
                        "channel" if name == "channel_raw" else name)), None)
        value = row[pos] if pos is not None and pos < len(row) else None
        col = TABLES[table].column(name)
        if col.kind == "date":
            out.append(parse_date(value) or ("raw", _text(value)))
            continue
        text = _text(value)
        if text.translate(_FULL).strip() in _MISSING:
            out.append("")
            continue
        if col.kind == "id":
            text = re.sub(r"^(\d+)\.0+$", r"\1", text.translate(_FULL).strip())
        else:
            text = " ".join(text.replace("　", " ").split())
        if table == "audience" and name == "dimension":
            text = _DIMENSION.get(text, text)
        out.append(text)
    return tuple(out)


_SKIP = object()  # a cell this oracle does not read with confidence
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_TRUE = {"是", "true", "1", "y", "yes", "天猫", "tmall", "√"}
_FALSE = {"否", "false", "0", "n", "no", "淘宝", "c店", "集市", "×"}


def _number(text: str) -> float | object:
    if not _NUMBER.fullmatch(text):
        return _SKIP
    value = float(text)
    return value if math.isfinite(value) else _SKIP


def parse_value(col: Column, value: Any) -> Any:
    """A cell's value as the contract reads it, None for a missing cell, or ``_SKIP`` when
    this oracle cannot tell (the ingest may then refuse or read it its own way)."""
    if isinstance(value, bool):
        return _SKIP
    if isinstance(value, int | float) and not isinstance(value, bool):
        if col.kind in ("float", "int", "share") and math.isfinite(value):
            return float(value)
        return _SKIP
    if isinstance(value, dt.date):
        return parse_date(value) if col.kind == "date" else _SKIP
    raw = _text(value)
    norm = raw.translate(_FULL).strip()
    if norm in _MISSING:
        return None
    if col.kind in ("float", "int"):
        text = norm
        for ch in (",", " ", "¥", "￥", "元"):
            text = text.replace(ch, "")
        scale = 10_000 if "万" in text else 1
        number = _number(text.rstrip("+万"))
        return number if number is _SKIP else number * scale  # type: ignore[operator]
    if col.kind == "share":
        text = norm.replace(",", "").replace(" ", "")
        if text.endswith("%"):
            number = _number(text[:-1])
            return number if number is _SKIP else number / 100  # type: ignore[operator]
        return _number(text)
    if col.kind == "date":
        return parse_date(norm) or _SKIP
    if col.kind == "id":
        return re.sub(r"^(\d+)\.0+$", r"\1", norm)
    if col.kind == "bool":
        low = norm.lower()
        return True if low in _TRUE else False if low in _FALSE else _SKIP
    return " ".join(raw.replace("\u3000", " ").split()) or None


def _same(col: Column, stored: Any, expected: Any) -> bool:
    if expected is None or stored is None:
        return expected is None and stored is None
    if col.kind in ("float", "int", "share"):
        return math.isclose(float(stored), float(expected), rel_tol=1e-9, abs_tol=1e-12)
    if col.kind == "text":
        return " ".join(str(stored).split()) == expected
    return bool(stored == expected)


def stored_mismatches(con: duckdb.DuckDBPyConnection, m: Mutated) -> list[str]:
    """Cells of an exactly-known loaded file whose stored value is not the cell's value."""
    tbl = TABLES[m.slice.table]
    cols = [column_of(tbl.name, str(h)) for h in m.header]
    present = {c.name for c in cols if c is not None}
    names = tbl.names
    stored: dict[tuple, dict[str, Any]] = {}
    for values in con.execute(f'SELECT {", ".join(chr(34) + n + chr(34) for n in names)} '
                              f'FROM "{tbl.name}"').fetchall():
        row = dict(zip(names, values, strict=True))
        key = tuple(row[k] if tbl.column(k).kind == "date"
                    else " ".join(str(row[k] or "").split()) for k in tbl.key)
        stored[key] = row
    out = []
    for i, cells in enumerate(m.rows):
        if _blank(cells):
            continue
        key = key_of(tbl.name, m.header, cells)
        found = stored.get(key)
        if found is None:
            out.append(f"data row {i + 1}: key {key} not stored")
            continue
        row = found
        for j, col in enumerate(cols):
            if col is None or col.name in tbl.key or col.name in ("channel", "dimension") \
                    or j >= len(cells):
                continue
            if sum(1 for c in cols if c is not None and c.name == col.name) > 1:
                continue  # which of two headers wins is the refusal's business
            want = parse_value(col, cells[j])
            if want is _SKIP or col.name not in present:
                continue
            if not _same(col, row[col.name], want):
                out.append(f"data row {i + 1}, {m.header[j]}: cell {_text(cells[j])[:40]!r}, "
                           f"stored {str(row[col.name])[:40]!r}")
    return out


def _blank(row: Sequence[Any]) -> bool:
    return all(_text(c).strip(" \t\r") == "" for c in row)


def must_refuse(m: Mutated) -> list[str]:
    """Reasons the contract says this file must be refused (only for exact grids)."""
    if not m.exact:
        return []
    reasons = []
    width = len(m.header)
    while width and _text(m.header[width - 1]).strip() == "":
        width -= 1
    cols = [column_of(m.slice.table, str(h)) for h in m.header]
    for i, row in enumerate(m.rows):
        if _blank(row):
            continue
        if m.slice.kind == "csv" and len(row) != len(m.header):
            reasons.append(f"data row {i + 1} has {len(row)} fields, the header {len(m.header)}")
        for j, value in enumerate(row[:width]):
            col = cols[j] if j < len(cols) else None
            if col is None:
                continue
            text = _text(value).translate(_FULL).strip().lower().lstrip("+")
            if isinstance(value, float) and math.isinf(value):
                text = "inf"
            if col.required and not (isinstance(value, float) and math.isinf(value)) \
                    and _text(value).translate(_FULL).strip() in _MISSING:
                reasons.append(f"data row {i + 1}, {col.name}: required, found {value!r}")
            if col.kind in ("float", "int", "share") and text in _NONFINITE:
                reasons.append(f"data row {i + 1}, {col.name}: non-finite {value!r}")
            if col.kind == "int" and text in _BEYOND_INT64:
                reasons.append(f"data row {i + 1}, {col.name}: beyond INT64 {value!r}")
            if col.kind == "id" and isinstance(value, str) and _SCI.fullmatch(text):
                reasons.append(f"data row {i + 1}, {col.name}: scientific notation {value!r}")
            if col.kind == "date":
                day = parse_date(value)
                if day is not None and (day.year <= 1900 or day.year >= 2099):
                    reasons.append(f"data row {i + 1}, {col.name}: implausible date {day}")
    return reasons


def header_clashes(m: Mutated) -> list[str]:
    """Columns of the slice's table that two headers of an intact file name (the issue: refuse
    duplicate headers naming both); a price beside 券后价 is the documented preference."""
    if not m.intact:
        return []
    named: dict[str, list[str]] = {}
    for h in m.header:
        col = column_of(m.slice.table, str(h))
        if col is not None:
            named.setdefault(col.name, []).append(str(h))
    return [f"{name}: {' and '.join(hs)}" for name, hs in named.items()
            if len(hs) > 1 and not (name == "price" and "券后价" in hs)]


def expected_rows(m: Mutated) -> int:
    """Distinct keys among the data rows (identical repeats are kept once)."""
    return len({key_of(m.slice.table, m.header, r) for r in m.rows if not _blank(r)})


# --------------------------------------------------------------------------- the base


@dataclass
class Base:
    """A warehouse holding every unmutated slice, and its fingerprint."""

    folder: Path
    warehouse: Path
    slices: list[Slice]
    fp: Fingerprint
    log: list[LogEntry]
    scratch: Path


@pytest.fixture(scope="module")
def base(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Base:
    """Slices of the sample's exports, loaded into a fresh warehouse (once per worker)."""
    root = tmp_path_factory.mktemp("fuzz_base")
    slices = take_slices(sample_dir)
    exports = root / "exports"
    exports.mkdir()
    for sl in slices:
        (exports / sl.name).write_bytes(render(sl))
    warehouse = root / "w" / "warehouse.duckdb"
    results = ingest_paths([exports / sl.name for sl in slices], warehouse)
    assert [r.outcome for r in results] == ["loaded"] * len(slices), \
        [r.message for r in results]
    for sl, r in zip(slices, results, strict=True):
        assert r.result is not None and r.result.rows == len(sl.rows), (sl.name, r.message)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        log = log_entries(con)
        assert not invariant_breaches(con)
    finally:
        con.close()
    scratch = root / "scratch"
    scratch.mkdir()
    return Base(root, warehouse, slices, fingerprint(warehouse), log, scratch)


def invariant_breaches(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Stored values the contract never allows: non-finite numbers, dates in years ≤ 1900 or
    ≥ 2099, IDs in scientific notation."""
    out = []
    for tbl in TABLES.values():
        conds = []
        for col in tbl.columns:
            q = f'"{col.name}"'
            if col.kind in ("float", "share"):
                conds.append((col.name, f"NOT isfinite({q})"))
            elif col.kind == "date":
                conds.append((col.name, f"year({q}) <= 1900 OR year({q}) >= 2099"))
            elif col.kind == "id":
                conds.append((col.name, f"regexp_full_match({q}, '[0-9.]+[eE][+]?[0-9]+')"))
        sql = ", ".join(f"count(*) FILTER (WHERE {c})" for _, c in conds)
        counts = con.execute(f'SELECT {sql} FROM "{tbl.name}"').fetchall()[0]
        for (name, _), n in zip(conds, counts, strict=True):
            if n:
                out.append(f"{tbl.name}.{name}: {n} stored value(s) the contract refuses")
    return out


# --------------------------------------------------------------------------- the judge


def _note(text: str) -> None:
    if currently_in_test_context():  # the sweep judges outside Hypothesis
        note(text)


def _show(data: bytes) -> str:
    return repr(data if len(data) <= 3000 else data[:1500] + b"..." + data[-500:])


def judge(base: Base, batch: Sequence[Mutated]) -> None:
    """Ingest a batch of mutated files into a copy of the base warehouse and judge each."""
    work = Path(tempfile.mkdtemp(dir=base.scratch))
    try:
        folder = work / "w"
        shutil.copytree(base.warehouse.parent, folder)
        warehouse = folder / base.warehouse.name
        inbox = work / "in"
        inbox.mkdir()
        paths = []
        for m in batch:
            path = inbox / m.name
            path.write_bytes(m.data)
            paths.append(path)
            _note(f"{m.name} ({len(m.data)} bytes, exact={m.exact}) ops={m.ops!r}")
            _note(f"{m.name} bytes: {_show(m.data)}")
        results = ingest_paths(paths, warehouse)  # any exception here fails the test
        assert len(results) == len(paths), f"{len(results)} results for {len(paths)} files"
        for m, path, r in zip(batch, paths, results, strict=True):
            _note(f"{m.name}: {r.outcome}: {r.message[:600]}")
            assert r.file == path
            assert r.outcome in ("loaded", "skipped", "failed"), r.outcome
        _judge_results(base, warehouse, batch, paths, results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _judge_results(base: Base, warehouse: Path, batch: Sequence[Mutated], paths: list[Path],
                   results: list[IngestResult]) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        log = log_entries(con)
        old_ids = {e.id for e in base.log}
        assert [e for e in log if e.id in old_ids] == base.log, "old ingest-log entries changed"
        new_entries = [e for e in log if e.id not in old_ids]
        hashes = table_hashes(con)
        loaded_into = [r.table for r in results if r.outcome == "loaded"]
        mismatches = {m.name: stored_mismatches(con, m) for m, r in zip(
            batch, results, strict=True) if r.outcome == "loaded" and m.exact
            and r.table == m.slice.table and not must_refuse(m)
            and loaded_into.count(r.table) == 1}  # a later file may replace its rows
        by_id = {(t, i): n for t in TABLES for i, n in con.execute(
            f'SELECT _ingest_id, count(*) FROM "{t}" WHERE _ingest_id > ? GROUP BY ALL',
            [max(old_ids, default=0)]).fetchall()}
        breaches = invariant_breaches(con)
    finally:
        con.close()
    counts = {t: hashes[t][0] for t in TABLES}
    after = Fingerprint(hashes, raw_files(warehouse))
    touched: set[str] = set()
    new_raw: set[str] = set()
    used: set[int] = set()
    raw_root = raw_dir_for(warehouse)
    for m, path, r in zip(batch, paths, results, strict=True):
        digest = sha256(path)
        name = m.name
        if r.outcome == "failed":
            msg = r.message
            assert msg.strip(), f"{name}: refused with an empty message"
            assert name in msg, f"{name}: the refusal does not name the file: {msg[:300]!r}"
            assert "\n\n" not in msg.strip(), f"{name}: message of several paragraphs: {msg!r}"
            assert not re.search(r"Traceback|Exception\b|_csv\.Error", msg), \
                f"{name}: an internal error leaks into the message: {msg[:600]!r}"
            # the ingest's catch-all for its own bugs: a crash, reported politely
            assert "unexpected error" not in msg, f"{name}: a crash in the ingest: {msg[:600]!r}"
            assert len(msg) <= MESSAGE_LIMIT, \
                f"{name}: a {len(msg):,}-character message (limit {MESSAGE_LIMIT:,}): " \
                f"{msg[:300]!r}…"
            continue
        if r.outcome == "skipped":
            assert any(e.content_hash == digest and e.table_name == r.table for e in base.log), \
                f"{name}: skipped but its SHA-256 is not in the log for {r.table}"
            continue
        # loaded
        assert r.result is not None and r.table is not None
        entry = next((e for e in new_entries if e.content_hash == digest
                      and e.file_name == name and e.id not in used), None)
        assert entry is not None, f"{name}: loaded but no new ingest-log entry with its SHA-256"
        used.add(entry.id)
        res = r.result
        assert entry.table_name == r.table
        assert (entry.rows, entry.rows_new, entry.rows_replaced, entry.rows_unchanged) == \
            (res.rows, res.new, res.replaced, res.unchanged), f"{name}: log {entry} vs {res}"
        assert res.rows == res.new + res.replaced + res.unchanged, f"{name}: {res}"
        assert by_id.get((r.table, entry.id), 0) == res.new + res.replaced \
            or loaded_into.count(r.table) > 1 \
            and by_id.get((r.table, entry.id), 0) <= res.new + res.replaced, \
            f"{name}: {by_id.get((r.table, entry.id), 0)} rows carry ingest #{entry.id}, " \
            f"expected new + replaced = {res.new + res.replaced}"
        touched.add(r.table)
        kept = resolve_raw(warehouse, entry.raw_path)
        assert kept is not None and kept.is_file(), f"{name}: raw copy {entry.raw_path} missing"
        assert sha256(kept) == digest, f"{name}: raw copy's SHA-256 differs from the log"
        assert kept.stat().st_mode & 0o777 == file_mode(), \
            f"{name}: raw copy has mode {oct(kept.stat().st_mode & 0o777)}, " \
            f"expected {oct(file_mode())}"
        new_raw.add(str(kept.resolve().relative_to(raw_root.resolve())))
        if r.table == m.slice.table:
            clashes = header_clashes(m)
            assert not clashes, f"{name}: loaded, but two headers name one column: {clashes}"
        if m.exact:
            reasons = must_refuse(m)
            assert not reasons, f"{name}: loaded, but must be refused: {reasons[:3]}"
            want = expected_rows(m)
            assert res.rows == want, \
                f"{name}: {res.rows} rows stored, the file has {want} distinct keys"
            wrong = mismatches.get(name, [])
            assert not wrong, f"{name}: loaded, but stored values differ from the file: " \
                f"{wrong[:4]}"
    assert len(used) == len(new_entries), \
        f"ingest-log entries for files not loaded: {[e for e in new_entries if e.id not in used]}"
    for table in TABLES:
        grew = sum(r.result.new for r in results if r.outcome == "loaded" and r.table == table
                   and r.result is not None)
        assert counts[table] == base.fp.tables[table][0] + grew, \
            f"{table}: {counts[table]} rows, expected {base.fp.tables[table][0]} + {grew} new"
        if table not in touched:
            assert after.tables[table] == base.fp.tables[table], \
                f"{table}: changed though no file of the batch loaded into it"
    assert set(after.raw) == set(base.fp.raw) | new_raw, \
        f"raw folder: unexpected files {sorted(set(after.raw) - set(base.fp.raw) - new_raw)}"
    for rel, digest in base.fp.raw.items():
        assert after.raw[rel] == digest, f"raw copy {rel} changed"
    if not touched:
        assert not after.differences(base.fp), after.differences(base.fp)
    assert not breaches, breaches


# --------------------------------------------------------------------------- the properties


def _batches(ops: st.SearchStrategy[list[tuple]], *,
             encoding: st.SearchStrategy[str] = KEEP, newline: st.SearchStrategy[str] = KEEP,
             ) -> Callable[[Base], st.SearchStrategy[list[Mutated]]]:
    """Batches of mutated slices of distinct tables."""

    def build(b: Base) -> st.SearchStrategy[list[Mutated]]:
        pool = b.slices

        @st.composite
        def batch(draw: st.DrawFn) -> list[Mutated]:
            tables = sorted({s.table for s in pool})
            chosen = draw(st.lists(st.sampled_from(tables), min_size=FILES_PER_EXAMPLE,
                                   max_size=FILES_PER_EXAMPLE, unique=True))
            out = []
            for table in chosen:
                sl = draw(st.sampled_from([s for s in pool if s.table == table]))
                out.append(apply(sl, draw(ops), draw(encoding), draw(newline)))
            return out

        return batch()

    return build


_CELL_OPS = st.lists(st.one_of(cell_op, copy_op), min_size=1, max_size=3)
_XLSX_CELL_OPS = st.lists(st.one_of(cell_op, typed_op, copy_op), min_size=1, max_size=3)
_ROW_OPS = st.lists(st.one_of(row_op, cell_op, blank_op), min_size=1, max_size=4)
_HEADER_OPS = st.lists(st.one_of(header_op, cell_op), min_size=1, max_size=3)
_BYTE_OPS = st.lists(byte_op, min_size=0, max_size=3)
_ANY_OPS = st.lists(st.one_of(cell_op, typed_op, row_op, blank_op, header_op, byte_op),
                    min_size=1, max_size=5)


def _run(base: Base, data: st.DataObject,
         build: Callable[[Base], st.SearchStrategy[list[Mutated]]]) -> None:
    batch = data.draw(build(base), label="batch")
    assume(batch)
    judge(base, batch)


@FUZZ
@given(data=st.data())
def test_fuzz_cells(base: Base, data: st.DataObject) -> None:
    """Edge values in cells (CSV and XLSX, typed cells included)."""
    _run(base, data, _batches(_XLSX_CELL_OPS))


@FUZZ
@given(data=st.data())
def test_fuzz_rows(base: Base, data: st.DataObject) -> None:
    """Duplicated, dropped, swapped, blank and ragged rows, with edge cells."""
    _run(base, data, _batches(_ROW_OPS))


@FUZZ
@given(data=st.data())
def test_fuzz_headers(base: Base, data: st.DataObject) -> None:
    """Duplicated, swapped, renamed (aliases), deleted and blank headers."""
    _run(base, data, _batches(_HEADER_OPS))


@FUZZ
@given(data=st.data())
def test_fuzz_bytes(base: Base, data: st.DataObject) -> None:
    """Flipped, inserted, deleted and truncated bytes; other encodings and line ends."""
    _run(base, data, _batches(_BYTE_OPS, encoding=encodings, newline=newlines))


@FUZZ
@given(data=st.data())
def test_fuzz_mixed(base: Base, data: st.DataObject) -> None:
    """Every kind of mutation at once."""
    _run(base, data, _batches(_ANY_OPS, encoding=encodings, newline=newlines))


#: per kind of column, the values a sweep writes into each cell of the first data row
SWEEP = {"date": ["", "2099-12-31", "0001-01-01"], "id": ["", "7.1E+12"],
         "float": ["", "inf", "-1"], "int": ["", "1e19", "1.5"], "share": ["", "NaN", "Infinity"],
         "text": ["", "-"], "bool": ["", "也许"]}


@pytest.mark.parametrize("slice_name", [name for name, _, _ in SOURCES])
def test_sweep_first_row(base: Base, slice_name: str) -> None:
    """Every column of the first data row, in turn, holds each of a few values that must be
    refused or read as missing (empty in a required column, a year outside the plausible
    range, an ID in scientific notation, a non-finite number...): one batch per slice, judged
    like the fuzzer's (the same checks, deterministic)."""
    sl = next(s for s in base.slices if s.name == slice_name)
    stem, suffix = os.path.splitext(sl.name)
    batch = []
    for j, header in enumerate(sl.header):
        col = column_of(sl.table, header)
        for k, value in enumerate(SWEEP[col.kind] if col else ["", "="]):
            m = apply(sl, [("cell", 0, j, value)])
            m.alias = f"{stem}__c{j}v{k}{suffix}"
            batch.append(m)
    judge(base, batch)


# --------------------------------------------------------------------------- the oracle's own checks


def test_slices_cover_every_kind(base: Base) -> None:
    """The slices hold every table, both formats, and GBK, UTF-8-BOM and plain UTF-8 CSV."""
    assert {s.table for s in base.slices} == set(TABLES)
    assert {s.kind for s in base.slices} == {"csv", "xlsx"}
    assert {s.encoding for s in base.slices if s.kind == "csv"} == \
        {"gb18030", "utf-8-sig", "utf-8"}
    assert any(s.preamble for s in base.slices)


def test_render_round_trips_the_sample(sample_dir: Path, base: Base) -> None:
    """An unmutated CSV slice is byte for byte the first lines of the real export."""
    for sl in base.slices:
        if sl.kind != "csv":
            continue
        original = (sample_dir / sl.name).read_bytes()
        assert original.startswith(render(sl)), sl.name


def test_oracle_knows_bad_files(base: Base) -> None:
    """The independent checks flag what they should (so a pass means something)."""
    kw = next(s for s in base.slices if s.name == "kw_2024Q4.csv")
    assert not must_refuse(apply(kw, []))
    assert expected_rows(apply(kw, [])) == len(kw.rows)
    assert expected_rows(apply(kw, [("dup", 3)])) == len(kw.rows)
    assert must_refuse(apply(kw, [("cell", 0, 3, "inf")]))        # 搜索人气
    assert must_refuse(apply(kw, [("cell", 0, 8, "1e19")]))       # 在线商品数
    assert must_refuse(apply(kw, [("cell", 0, 0, "2099-12-31")]))
    assert must_refuse(apply(kw, [("extra", 0, 1)]))
    assert not must_refuse(apply(kw, [("hdup", 3, 4)]))           # headers: not exact
    assert header_clashes(apply(kw, [("hdup", 3, 4)]))
    assert not header_clashes(apply(kw, [("halias", 3, 0)]))
    items = next(s for s in base.slices if s.name == "items_2026-11-15.csv")
    assert must_refuse(apply(items, [("cell", 0, 1, "7.1E+12")]))
    con = duckdb.connect(str(base.warehouse), read_only=True)
    try:
        for sl in base.slices:  # the independent parse reads the real sample as stored
            assert stored_mismatches(con, apply(sl, [])) == [], sl.name
        assert stored_mismatches(con, apply(kw, [("cell", 0, 3, "7")]))
    finally:
        con.close()
