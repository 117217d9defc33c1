"""Reading workbooks (``.xlsx``, ``.xlsm``, legacy ``.xls``) as text cells, within stated limits.

The cells are read by python-calamine (a Rust reader, fast, and the one that also reads
``.xls``). Calamine builds the whole first sheet in memory as a dense rectangle spanning the
cells that hold a value, so a few kilobytes can ask it for gigabytes: a cell at ``A1`` and
one at ``XFD1048576`` make 17 billion cells. Before calamine sees an ``.xlsx``, its zip
directory is checked (unpacked size, compression ratio per member) and the sheet's XML is
streamed once, in bounded memory, to count the cells, find the rectangle they span and look
for over-long text; a file beyond a limit is refused with a message naming the file, the
limit and the fix. An ``.xls`` gets the same rectangle from its BIFF cell records. The
declared ``<dimension>`` of a sheet is ignored by calamine (measured: a 5 KB file declaring
``A1:XFD1048576`` reads in milliseconds), so only the cells count. The limits are module
constants, each with its reason.

Cells come back as text the way the ingest expects (:func:`cell_text`): numbers without a
trailing ``.0`` when whole, dates as ``2026-11-01``. Calamine gives every number as a float;
whole numbers of 16 or more digits (IDs) are taken from the XML's own digits instead, so an
ID never loses a digit through a float. Error cells (``#N/A``, ``#DIV/0!``) are kept as
their text, as Excel shows them, so a numeric column refuses them instead of reading them
as missing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import python_calamine

from research.faults import Refused

__all__ = [
    "MAX_UNCOMPRESSED_BYTES",
    "MAX_COMPRESSION_RATIO",
    "RATIO_GRACE_BYTES",
    "MAX_CELLS",
    "SPARSE_AREA",
    "MIN_FILL",
    "MAX_CELL_CHARS",
    "MAX_TEXT_RUN_BYTES",
    "MAX_TEXT_CHARS",
    "MAX_XLS_BYTES",
    "WORKBOOK_SUFFIXES",
    "ExportError",
    "column_letter",
    "cell_too_long",
    "cell_text",
    "open_first_sheet",
    "workbook_kind",
]

# --------------------------------------------------------------------------- limits
#: The whole workbook unpacked: ~10 million cells as the sample writes them (51 bytes each).
MAX_UNCOMPRESSED_BYTES = 512 * 2**20
#: Unpacked ÷ packed size of one member: Apache POI's zip-bomb threshold (real sheets: 8–12×).
MAX_COMPRESSION_RATIO = 100
#: Members smaller than this unpacked are not ratio-checked (tiny XML parts compress well).
RATIO_GRACE_BYTES = 2**20
#: Rows × columns of the rectangle read (calamine holds it densely: ~30 bytes a cell, measured).
MAX_CELLS = 20_000_000
#: Above this many cells the area must be MIN_FILL full: a stray far cell spans it emptily.
SPARSE_AREA = 1_000_000
#: Share of the area that must hold values when it exceeds SPARSE_AREA (a real table: > 50 %).
MIN_FILL = 0.05
#: Characters in one cell: Excel's own limit, so no real export exceeds it (CSV uses it too).
MAX_CELL_CHARS = 32_767
#: Characters in all cells read: one shared string repeated in every cell cannot multiply
#: a small file into gigabytes of text (a 20-million-cell table of 13-character cells fits).
MAX_TEXT_CHARS = 256 * 2**20
#: Bytes of XML text between two tags: a cell of MAX_CELL_CHARS, each written as ``&#x10FFFF;``.
MAX_TEXT_RUN_BYTES = MAX_CELL_CHARS * 10
#: A legacy .xls is not compressed; its size bounds what is read (65,536 × 256 cells at most).
MAX_XLS_BYTES = 256 * 2**20

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
_CHUNK = 2**20
_MAX_EXACT = 1_000_000  # IDs kept from the XML's digits; beyond, the float (then refused as ID)
_CAL_ERRORS = (python_calamine.CalamineError, python_calamine.ZipError,
               python_calamine.XmlError, python_calamine.WorksheetNotFound)


class ExportError(Refused):
    """An export that cannot be read or loaded; the message names file, rows and columns."""


def column_letter(index: int) -> str:
    """Return the Excel column letters of a 0-based column index.

    Examples
    --------
    >>> [column_letter(i) for i in (0, 2, 25, 26, 701, 702, 16383)]
    ['A', 'C', 'Z', 'AA', 'ZZ', 'AAA', 'XFD']
    """
    if index < 0:
        raise ValueError(f"column index {index} is negative")
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters



def cell_too_long(path: Path, row: int, column: int, length: int, *,
                  at_least: bool = False) -> ExportError:
    """The refusal of a cell longer than :data:`MAX_CELL_CHARS` at ``row`` (1-based, as Excel
    numbers it) and ``column`` (0-based); ``at_least`` when only a prefix was measured.

    Examples
    --------
    >>> str(cell_too_long(Path("kw.csv"), 2, 1, 40_000)).split(";")[0]
    "kw.csv: row 2, column B: a cell of 40,000 characters, more than the 32,767 a cell may hold (Excel's limit, MAX_CELL_CHARS)"
    """
    return ExportError(
        f"{path.name}: row {row}, column {column_letter(column)}: a cell of "
        f"{'at least ' if at_least else ''}{length:,} characters, more than the "
        f"{MAX_CELL_CHARS:,} a cell may hold (Excel's limit, MAX_CELL_CHARS); expected an export "
        f"as the platform writes it — shorten that cell or export the data again")


def _column_index(letters: bytes) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + (ch - 64)
    return index - 1


def cell_text(value: object) -> str | None:
    """Return a workbook cell as the text the ingest parses (``None`` for an empty cell).

    Whole numbers below 2**53 lose nothing as floats and are written without ``.0``; larger
    ones are written in scientific notation, so an ID column refuses them (their digits may
    be lost) while a number column still reads them.

    Examples
    --------
    >>> [cell_text(v) for v in (6001234567890.0, 89.9, 2.0**53, "", None)]
    ['6001234567890', '89.9', '9.007199254740992e+15', None, None]
    >>> cell_text(dt.datetime(2026, 11, 1)), cell_text(dt.datetime(2026, 11, 1, 13, 5))
    ('2026-11-01', '2026-11-01 13:05:00')
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        text = repr(value)
        if value.is_integer() and "e" not in text and "n" not in text:  # 2**53 ≤ |v| < 1e16
            digits = text.split(".")[0].lstrip("-").rstrip("0")
            text = f"{value:.{max(len(digits) - 1, 0)}e}".replace("e+0", "e+")
        return text
    return str(value)


# --------------------------------------------------------------------------- xlsx checks

def _size(n: int) -> str:
    return f"{n / 2**20:,.0f} MB" if n >= 10 * 2**20 else f"{n:,} bytes"


def _corrupt(path: Path, exc: object) -> ExportError:
    return ExportError(
        f"{path.name}: not a readable workbook (truncated or corrupt: {exc}); expected an "
        f"{path.suffix.lower()} file as exported — download it again")


def _check_zip(path: Path, zf: zipfile.ZipFile) -> None:
    """Refuse a zip whose directory promises too much, before anything is unpacked."""
    infos = zf.infolist()
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise ExportError(
            f"{path.name}: unpacks to {_size(total)}, more than the "
            f"{_size(MAX_UNCOMPRESSED_BYTES)} a workbook may unpack to "
            f"(MAX_UNCOMPRESSED_BYTES); export it as CSV, or split it into smaller files")
    for info in infos:
        if (info.file_size > RATIO_GRACE_BYTES
                and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)):
            ratio = info.file_size / max(info.compress_size, 1)
            raise ExportError(
                f"{path.name}: its part {info.filename} unpacks {ratio:,.0f} times its packed "
                f"size ({info.compress_size:,} → {info.file_size:,} bytes), more than the "
                f"{MAX_COMPRESSION_RATIO}× a real workbook reaches (MAX_COMPRESSION_RATIO): "
                f"this looks like a zip bomb, not an export — download the export again")


_SHEET_TAG = re.compile(rb"<(?:\w+:)?sheet\s[^>]*>")
_REL_TAG = re.compile(rb"<(?:\w+:)?Relationship\s[^>]*>")
_ATTR = re.compile(rb'([\w:]+)\s*=\s*"([^"]*)"')


def _small_part(zf: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    if info.file_size > 16 * 2**20:  # workbook.xml and its rels are a few KB
        return None
    return zf.read(info)


def _first_sheet_part(zf: zipfile.ZipFile) -> list[str]:
    """The zip member(s) holding the first sheet, as calamine picks it; every worksheet
    when the workbook's own index cannot say."""
    every = [n for n in zf.namelist() if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n)]
    book, rels = _small_part(zf, "xl/workbook.xml"), _small_part(zf, "xl/_rels/workbook.xml.rels")
    if book is None or rels is None:
        return every
    first = _SHEET_TAG.search(book)
    if first is None:
        return every
    rid = next((v for k, v in _ATTR.findall(first.group()) if k.endswith(b":id")), None)
    for tag in _REL_TAG.findall(rels):
        attrs = dict(_ATTR.findall(tag))
        if attrs.get(b"Id") == rid and b"Target" in attrs:
            target = attrs[b"Target"].decode("utf-8", "replace")
            name = (target.lstrip("/") if target.startswith("/")
                    else str(PurePosixPath("xl") / target))
            parts = [p for p in name.split("/") if p not in ("", ".")]
            while ".." in parts:
                i = parts.index("..")
                del parts[max(i - 1, 0): i + 1]
            name = "/".join(parts)
            return [name] if name in zf.namelist() else every
    return every


# A cell that holds something (not <c .../>), with its reference.
_VALUED_CELL = re.compile(rb"<c(?:\s[^>]*)?(?<!/)>\s*<(?:v|is|f)[\s>/]")
_CELL_REF = re.compile(rb'<c\s[^>]*?\br="([A-Z]+)([0-9]+)"[^>]*(?<!/)>\s*<(?:v|is|f)[\s>/]')
# the usual cell: r="…" first; no "/" before ">" (a self-closing cell holds nothing)
_FAST_COL = re.compile(rb'<c r="([A-Z]+)[0-9]+"[^>/]*+>')
_FAST_ROW = re.compile(rb'<c r="[A-Z]+([0-9]+)"[^>/]*+>')
_EMPTY_CELL = re.compile(rb"<c\b[^>/]*+/>")
_ROW_OPEN = re.compile(rb"<row[\s>]")
_ROW_REF = re.compile(rb'<row\s[^>]*?\br="([0-9]+)"')
_ROW_END = re.compile(rb"</row>|<row\s[^>]*/>")
_LONG_RUN = re.compile(rb">[^<]{%d,}" % MAX_TEXT_RUN_BYTES)
# numeric cells of 16+ digits (IDs beyond a float's exactness) and error cells, kept exactly
_SPECIAL_HINT = re.compile(rb"<v>(?:-?[0-9]{16}|#)")
_SPECIAL = re.compile(rb"<c\s([^>]*)>\s*(?:<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)?\s*"
                      rb"<v>(-?[0-9]{16,}|#[^<]{1,30})</v>")


@dataclass
class _Scan:
    cells: int = 0
    min_row: int = 2**31
    max_row: int = -1
    min_col: int = 2**31
    max_col: int = -1
    unreferenced: bool = False  # some cell or row without r="…": positions come from counting
    rows_without_ref: int = 0
    widest_row: int = 0
    exact: dict[int, dict[int, str]] = field(default_factory=dict)
    n_exact: int = 0

    def area(self) -> tuple[int, int]:
        if self.unreferenced:
            rows = max(self.max_row + 1, 0) + self.rows_without_ref
            cols = max(self.max_col + 1, 0) + self.widest_row
            return rows, cols
        if self.max_row < 0:
            return 0, 0
        return self.max_row - self.min_row + 1, self.max_col - self.min_col + 1


def _extend(scan: _Scan, cols: Iterable[bytes], rows: Iterable[bytes]) -> None:
    col_set, row_set = set(cols), set(rows)
    if col_set:
        idx = [_column_index(c) for c in col_set]
        scan.min_col, scan.max_col = min(scan.min_col, min(idx)), max(scan.max_col, max(idx))
    if row_set:
        nums = [int(r) - 1 for r in row_set]
        scan.min_row, scan.max_row = min(scan.min_row, min(nums)), max(scan.max_row, max(nums))


def _scan_block(block: bytes, scan: _Scan, carry: list[int]) -> None:
    tags = block.count(b"<c ") + block.count(b"<c>")
    empty = sum(1 for _ in _EMPTY_CELL.finditer(block))
    cols = _FAST_COL.findall(block)
    if len(cols) == tags - empty:  # the usual writer: r="…" first, every valued cell matched
        scan.cells += len(cols)
        _extend(scan, cols, _FAST_ROW.findall(block))
    else:
        valued = len(_VALUED_CELL.findall(block))
        scan.cells += valued
        refs = _CELL_REF.findall(block)
        _extend(scan, (c for c, _ in refs), (r for _, r in refs))
        if valued != len(refs):
            scan.unreferenced = True
    if scan.unreferenced:  # positions come from counting: rows without r="…" count too
        rows_open = len(_ROW_OPEN.findall(block))
        row_refs = _ROW_REF.findall(block)
        scan.rows_without_ref += rows_open - len(row_refs)
        if row_refs:
            scan.max_row = max(scan.max_row, max(int(r) for r in row_refs) - 1)
        pieces = _ROW_END.split(block)
        counts = [len(_VALUED_CELL.findall(p)) for p in pieces]
        counts[0] += carry[0]
        scan.widest_row = max(scan.widest_row, *counts)
        carry[0] = counts[-1]
    if _SPECIAL_HINT.search(block):
        for attrs, value in _SPECIAL.findall(block):
            if scan.n_exact >= _MAX_EXACT:
                break
            kv = dict(_ATTR.findall(attrs))
            ref = re.fullmatch(rb"([A-Z]{1,3})([0-9]{1,7})", kv.get(b"r", b""))
            kind = kv.get(b"t", b"n")
            if ref is None or (value.startswith(b"#") != (kind == b"e")) or kind not in (b"n", b"e"):
                continue
            row, col = int(ref.group(2)) - 1, _column_index(ref.group(1))
            scan.exact.setdefault(row, {})[col] = value.decode("ascii", "replace")
            scan.n_exact += 1


def _too_long_run(path: Path, part: str, block: bytes, at: int) -> ExportError:
    before = block[:at]
    where = ""
    ref = re.findall(rb'<c\s[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"', before[-4096:])
    if ref and "worksheets" in part:
        where = f" (row {int(ref[-1][1])}, column {ref[-1][0].decode()})"
    return ExportError(
        f"{path.name}: a cell's text{where} is longer than {MAX_TEXT_RUN_BYTES:,} bytes of XML, "
        f"more than the {MAX_CELL_CHARS:,} characters Excel lets a cell hold "
        f"(MAX_CELL_CHARS); expected an export as the platform writes it — shorten that cell "
        f"or export the data again")


def _stream_part(path: Path, zf: zipfile.ZipFile, part: str, scan: _Scan | None) -> None:
    """Stream one XML part in bounded memory: long text runs in any part; cells, their
    rectangle and exact digits in the sheet (``scan``)."""
    tail = b""
    carry = [0]
    with zf.open(part) as handle:
        while True:
            chunk = handle.read(_CHUNK)
            buf = tail + chunk
            if not chunk:
                block, tail = buf, b""
            else:
                cut = buf.rfind(b"<")
                cut = 0 if cut < 0 else cut
                block, tail = buf[:cut], buf[cut:]
                if len(tail) > MAX_TEXT_RUN_BYTES + 4096:
                    raise _too_long_run(path, part, buf, cut)
            long = _LONG_RUN.search(block)
            if long:
                raise _too_long_run(path, part, block, long.start())
            if scan is not None and block:
                _scan_block(block, scan, carry)
                if scan.cells > MAX_CELLS:
                    raise _too_many(path, f"more than {MAX_CELLS:,} cells hold a value")
            if not chunk:
                return


def _too_many(path: Path, what: str, which: str = "the first sheet") -> ExportError:
    return ExportError(
        f"{path.name}: {which} is too large to read: {what}, and at most "
        f"{MAX_CELLS:,} cells (rows × columns of the area holding values, MAX_CELLS) are "
        f"read; export it as CSV, or split it into smaller files (a stray value far below or "
        f"right of the table also widens the area: delete it)")


def _check_area(path: Path, rows: int, cols: int, cells: int,
                which: str = "the first sheet") -> None:
    area = rows * cols
    if area > MAX_CELLS:
        raise _too_many(path, f"its values span {rows:,} rows × {cols:,} columns = {area:,} "
                              f"cells", which)
    if area > SPARSE_AREA and cells < MIN_FILL * area:
        raise ExportError(
            f"{path.name}: {which}'s {cells:,} values span {rows:,} rows × {cols:,} "
            f"columns = {area:,} cells, less than {MIN_FILL:.0%} of them filled (MIN_FILL, "
            f"above SPARSE_AREA = {SPARSE_AREA:,} cells): a stray value far below or right of "
            f"the table? Delete it, or export the data again")


_SST_TAG = re.compile(rb"<(?:\w+:)?sst\b[^>]*>")
_UNIQUE = re.compile(rb'\buniqueCount\s*=\s*"\s*([0-9]+)')


def _check_shared_strings(path: Path, zf: zipfile.ZipFile) -> None:
    """Calamine reserves room for the ``uniqueCount`` the table declares: a count no file of
    its size can hold (each string takes 9 bytes at least) is refused, as are long texts."""
    part = "xl/sharedStrings.xml"
    size = zf.getinfo(part).file_size
    with zf.open(part) as handle:
        head = handle.read(4096)
    tag = _SST_TAG.search(head)
    unique = _UNIQUE.search(tag.group()) if tag else None
    if unique and int(unique.group(1)) > size // 9 + 1:
        raise _corrupt(path, f"{part} declares {int(unique.group(1)):,} strings in "
                             f"{size:,} bytes")
    _stream_part(path, zf, part, None)


def _precheck_xlsx(path: Path) -> dict[int, dict[int, str]]:
    """Check an .xlsx before calamine unpacks it; return the exact text of cells a float
    would change (row → column → text, 0-based)."""
    size = path.stat().st_size
    if size > MAX_UNCOMPRESSED_BYTES:
        raise ExportError(
            f"{path.name}: {_size(size)}, more than the {_size(MAX_UNCOMPRESSED_BYTES)} a "
            f"workbook may unpack to (MAX_UNCOMPRESSED_BYTES); export it as CSV, or split it "
            f"into smaller files")
    try:
        with zipfile.ZipFile(path) as zf:
            _check_zip(path, zf)
            scan = _Scan()
            sheets = _first_sheet_part(zf)
            for part in sheets:
                _stream_part(path, zf, part, scan if len(sheets) == 1 else _Scan())
            if "xl/sharedStrings.xml" in zf.namelist():
                _check_shared_strings(path, zf)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
            ValueError, NotImplementedError, RuntimeError) as exc:
        if isinstance(exc, ExportError):
            raise
        raise _corrupt(path, exc) from None
    rows, cols = scan.area()
    _check_area(path, rows, cols, scan.cells)
    return scan.exact


# --------------------------------------------------------------------------- xls checks
# A legacy .xls is an OLE2 compound file holding a BIFF record stream. Calamine reads every
# sheet of it when the workbook opens, spans each sheet's cells with one dense rectangle
# (65,536 × 256 cells, 1.1 GB measured, for a 6 KB file with values at A1 and IV65536) and
# reserves memory from counts the file declares (sectors, stream sizes, the shared-string
# count, each sheet's DIMENSIONS): one wrong byte asked it for a terabyte and aborted the
# process. So the file is walked first, and a count no file of its size can hold is refused.

_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")
_FREE, _END = 0xFFFFFFFF, 0xFFFFFFFE
# NUMBER, RK, LABELSST, LABEL, BOOLERR, FORMULA, RSTRING (BIFF5/8; blanks hold no value)
_CELL_RECORDS = {0x0203, 0x027E, 0x00FD, 0x0204, 0x0205, 0x0006, 0x00D6}
_MULRK, _DIMENSIONS, _SST, _BOUNDSHEET, _EOF = 0x00BD, 0x0200, 0x00FC, 0x0085, 0x000A
_BOFS = (0x0809, 0x0409, 0x0209, 0x0009)
_XLS_ROWS, _XLS_COLS = 65_536, 256


class _Corrupt(Exception):
    pass


def _u16(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 2], "little")


def _u32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 4], "little")


def _ole_stream(data: bytes, names: tuple[str, ...]) -> bytes:
    """The bytes of the first stream called one of ``names`` in an OLE2 compound file,
    after checking every count calamine sizes memory by against the file's length."""
    if not data.startswith(_OLE_MAGIC) or len(data) < 512:
        raise _Corrupt("not an OLE2 compound file")
    sector = 1 << _u16(data, 0x1E)
    mini = 1 << _u16(data, 0x20)
    if sector not in (512, 4096) or mini != 64:
        raise _Corrupt(f"sector sizes {sector}/{mini}")
    n_sectors = max((len(data) - sector) // sector + (1 if len(data) % sector else 0), 0)
    for name, field_at in (("directory", 0x28), ("FAT", 0x2C), ("mini FAT", 0x40),
                           ("DIFAT", 0x48)):
        if _u32(data, field_at) > n_sectors:
            raise _Corrupt(f"the header declares {_u32(data, field_at):,} {name} sectors in a "
                           f"file of {n_sectors:,}")

    def at(n: int) -> bytes:
        if n >= n_sectors:
            raise _Corrupt(f"sector {n} beyond the end of the file")
        return data[(n + 1) * sector:(n + 2) * sector]

    def chain(start: int, table: list[int], read: Callable[[int], bytes], limit: int) -> bytes:
        out, n, seen = [], start, 0
        while n not in (_FREE, _END):
            if n >= len(table) or seen > limit:
                raise _Corrupt("a broken sector chain")
            out.append(read(n))
            n, seen = table[n], seen + 1
        return b"".join(out)

    difat = [_u32(data, 0x4C + 4 * i) for i in range(109)]
    nxt = _u32(data, 0x44)
    for _ in range(_u32(data, 0x48)):
        if nxt in (_FREE, _END):
            break
        block = at(nxt)
        difat += [_u32(block, i) for i in range(0, sector - 4, 4)]
        nxt = _u32(block, sector - 4)
    fat: list[int] = []
    for n in difat[:_u32(data, 0x2C)]:
        block = at(n)
        fat += [_u32(block, i) for i in range(0, sector, 4)]
    directory = chain(_u32(data, 0x30), fat, at, n_sectors)
    entries = [directory[i:i + 128] for i in range(0, len(directory) - 127, 128)]
    if not entries:
        raise _Corrupt("no directory")
    for entry in entries:
        size = int.from_bytes(entry[120:128 if sector == 4096 else 124], "little")
        if entry[66] in (2, 5) and size > len(data):
            raise _Corrupt(f"a stream declares {size:,} bytes in a file of {len(data):,}")
    root = entries[0]
    for entry in entries:
        length = _u16(entry, 64)
        name = entry[:max(min(length, 64) - 2, 0)].decode("utf-16-le", "replace")
        if entry[66] != 2 or name not in names:
            continue
        start, size = _u32(entry, 116), _u32(entry, 120)
        if size >= _u32(data, 0x38):
            return chain(start, fat, at, n_sectors)[:size]
        ministream = chain(_u32(root, 116), fat, at, n_sectors)
        minifat_bytes = chain(_u32(data, 0x3C), fat, at, n_sectors)
        minifat = [_u32(minifat_bytes, i) for i in range(0, len(minifat_bytes), 4)]

        def mini_at(n: int, stream: bytes = ministream) -> bytes:
            return stream[n * mini:(n + 1) * mini]

        return chain(start, minifat, mini_at, len(minifat))[:size]
    raise _Corrupt("no Workbook stream")


_ERRORS = {0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?",
           0x24: "#NUM!", 0x2A: "#N/A", 0x2B: "#GETTING_DATA"}


@dataclass
class _Sheet:
    rows: int = 0
    cols: int = 0
    cells: int = 0
    errors: dict[int, dict[int, str]] = field(default_factory=dict)  # calamine reads them as ""


def _biff_sheets(stream: bytes) -> list[_Sheet]:
    """Each sheet's rectangle of cells, in the BIFF stream's order, after checking the
    counts calamine reserves memory by (the shared strings, each sheet's DIMENSIONS)."""
    n = len(stream)
    pos, offsets = 0, []
    while pos + 4 <= n:  # the workbook globals, up to their EOF
        kind, size = _u16(stream, pos), _u16(stream, pos + 2)
        body = stream[pos + 4:pos + 4 + size]
        if kind == _BOUNDSHEET and size >= 4:
            offsets.append(_u32(body, 0))
        elif kind == _SST and size >= 8:
            unique = int.from_bytes(body[4:8], "little", signed=True)
            if not 0 <= unique <= n // 3:  # a string takes 3 bytes at least
                raise _Corrupt(f"the shared-string table declares {unique:,} strings in a "
                               f"stream of {n:,} bytes")
        elif kind == _EOF:
            break
        pos += 4 + size
    sheets: list[_Sheet] = []
    for offset in offsets or [0]:
        sheet, rows, cols = _Sheet(), [], []  # type: tuple[_Sheet, list[int], list[int]]
        pos, started = offset, False
        while pos + 4 <= n:
            kind, size = _u16(stream, pos), _u16(stream, pos + 2)
            body = stream[pos + 4:pos + 4 + size]
            if kind in _BOFS:
                if started:
                    break
                started = True
            elif kind == _EOF:
                break
            elif kind == _DIMENSIONS and size in (10, 14):
                wide = size == 14
                rf, rl = (_u32(body, 0), _u32(body, 4)) if wide else (_u16(body, 0), _u16(body, 2))
                cf, cl = (_u16(body, 8), _u16(body, 10)) if wide else (_u16(body, 4), _u16(body, 6))
                if rl >= 1 and cl >= 1:  # calamine reserves (rl - rf) × (cl - cf) cells, in u32
                    span = ((rl - 1 - rf) % 2**32 + 1) % 2**32 * ((cl - 1 - cf) % 2**32 + 1) % 2**32
                    if span > _XLS_ROWS * _XLS_COLS:
                        raise _Corrupt(f"a sheet declares rows {rf}–{rl} and columns {cf}–{cl}")
            elif (kind in _CELL_RECORDS or kind == _MULRK) and size >= 4:
                row, col = _u16(body, 0), _u16(body, 2)
                last = _u16(body, size - 2) if kind == _MULRK else col
                rows.append(row)
                cols += (col, last)
                sheet.cells += max(last - col + 1, 1)
                error = None
                if kind == 0x0205 and size >= 8 and body[7] == 1:  # BOOLERR holding an error
                    error = body[6]
                elif kind == 0x0006 and size >= 14 and body[12:14] == b"\xff\xff" and body[6] == 2:
                    error = body[8]  # a formula whose cached result is an error
                if error is not None and len(sheets) == 0:
                    sheet.errors.setdefault(row, {})[col] = _ERRORS.get(error, "#VALUE!")
            pos += 4 + size
        if rows:
            sheet.rows, sheet.cols = max(rows) - min(rows) + 1, max(cols) - min(cols) + 1
        sheets.append(sheet)
    return sheets


def _precheck_xls(path: Path) -> dict[int, dict[int, str]]:
    """Check an .xls before calamine reads it; return the first sheet's error cells
    (row → column → ``#N/A`` …, 0-based), which calamine gives as empty."""
    size = path.stat().st_size
    if size > MAX_XLS_BYTES:
        raise ExportError(
            f"{path.name}: {_size(size)}, more than the {_size(MAX_XLS_BYTES)} a legacy .xls "
            f"may have (MAX_XLS_BYTES); export it as CSV or .xlsx")
    try:
        sheets = _biff_sheets(_ole_stream(path.read_bytes(), ("Workbook", "Book")))
    except (_Corrupt, OSError, ValueError, IndexError) as exc:
        raise _corrupt(path, exc) from None
    for i, sheet in enumerate(sheets):  # calamine reads every sheet of an .xls
        _check_area(path, sheet.rows, sheet.cols, sheet.cells,
                    "the first sheet" if i == 0 else f"sheet {i + 1} (read with the first)")
    return sheets[0].errors if sheets else {}


# --------------------------------------------------------------------------- reading

def workbook_kind(path: str | Path) -> str:
    """Return ``"xlsx"`` (a zip) or ``"xls"`` (an OLE2 file) from the file's first bytes,
    whatever its name says (platforms name one as the other).

    Raises
    ------
    ExportError
        Neither: a web page or a text table saved under a workbook's name, with the fix.
    """
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(512)
    if head.startswith(_OLE_MAGIC):
        return "xls"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "xlsx"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<html", b"<!doctype", b"<table", b"<?xml", b"<meta")):
        what, fix = ("a web page (HTML), not an Excel workbook",
                     "open it in Excel and save it as .xlsx, or export the data as CSV")
    elif head and b"\x00" not in head:
        what, fix = ("text, not an Excel workbook",
                     f"if it is a table of text, rename it to {path.stem}.csv (or .tsv when "
                     f"tab-separated) and load it again")
    else:
        what, fix = ("neither an .xlsx nor an .xls workbook",
                     "download the export again, or export it as CSV")
    raise ExportError(f"{path.name}: the file is {what}; {fix}")


@contextmanager
def open_first_sheet(path: str | Path) -> Iterator[tuple[str, int, Iterator[list[str | None]]]]:
    """Open a workbook's first sheet within the limits above.

    Parameters
    ----------
    path : path-like
        An ``.xlsx``, ``.xlsm`` or ``.xls`` file (told apart by content, not by name).

    Yields
    ------
    (str, int, iterator of list)
        The kind (``"xlsx"`` or ``"xls"``), the 0-based column of each row's first cell, and
        the rows from Excel row 1 on, as text cells (``None`` when empty); row ``i`` of the
        iterator is Excel row ``i + 1``.

    Raises
    ------
    ExportError
        A truncated or corrupt file, or one beyond a limit, named with the limit and the fix.
    """
    path = Path(path)
    exact: dict[int, dict[int, str]] = {}
    kind = workbook_kind(path)
    if kind == "xls":
        exact = _precheck_xls(path)
    else:
        exact = _precheck_xlsx(path)
    with _calamine_faults(path, quiet=True):
        if (kind == "xls") == (path.suffix.lower() == ".xls"):
            book = python_calamine.CalamineWorkbook.from_path(str(path))
        else:  # calamine picks its reader by name from a path; by content from a file object
            with open(path, "rb") as handle:
                book = python_calamine.CalamineWorkbook.from_filelike(handle)
    try:
        if not book.sheet_names:
            raise ExportError(f"{path.name}: the workbook has no sheet; expected a header row "
                              f"and data rows")
        with _calamine_faults(path, quiet=True):
            sheet = book.get_sheet_by_index(0)
        if sheet.height * sheet.width > MAX_CELLS:  # .xls: bounded by the format, checked late
            raise _too_many(path, f"its values span {sheet.height:,} rows × "
                                  f"{sheet.width:,} columns")
        first = sheet.start[1] if sheet.start is not None else 0
        yield kind, first, _rows(path, sheet, first, exact)
    finally:
        book.close()


@contextmanager
def _panic_reports_dropped() -> Iterator[None]:
    """Keep Rust's panic report (printed straight to file descriptor 2) off the user's
    screen: the panic becomes the one message below. Anything else written is passed on."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no stderr to protect
        yield
        return
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            text = caught.read(1 << 16)
            if text and b"panicked at" not in text:
                os.write(2, text)


@contextmanager
def _calamine_faults(path: Path, quiet: bool = False) -> Iterator[None]:
    """Turn calamine's errors, and its panics on malformed files, into one message."""
    try:
        if quiet:
            with _panic_reports_dropped():
                yield
        else:
            yield
    except python_calamine.PasswordError:
        raise ExportError(f"{path.name}: the workbook is protected by a password; save it "
                          f"without one, or export it as CSV") from None
    except _CAL_ERRORS as exc:
        raise _corrupt(path, exc) from None
    except BaseException as exc:  # a Rust panic is pyo3's PanicException, a BaseException
        if type(exc).__name__ != "PanicException":
            raise
        raise _corrupt(path, str(exc).splitlines()[0] if str(exc) else "malformed") from None


def _rows(path: Path, sheet: python_calamine.CalamineSheet, first: int,
          exact: dict[int, dict[int, str]]) -> Iterator[list[str | None]]:
    with _calamine_faults(path):
        yield from _text_rows(path, sheet.iter_rows(), first, exact)


def _text_rows(path: Path, rows: Iterator[Sequence[object]], first: int,
               exact: dict[int, dict[int, str]]) -> Iterator[list[str | None]]:
    total = 0
    for i, values in enumerate(rows):
        fix = exact.get(i)
        if not fix and values.count("") == len(values):  # an empty row: no cell to convert
            yield [None] * len(values)
            continue
        cells = [cell_text(v) for v in values]
        if fix:
            for col, exact_text in fix.items():
                if 0 <= col - first < len(cells):
                    cells[col - first] = exact_text
        lengths = list(map(len, filter(None, cells)))
        total += sum(lengths)
        if total > MAX_TEXT_CHARS:
            raise ExportError(
                f"{path.name}: the cells up to row {i + 1} hold more than "
                f"{MAX_TEXT_CHARS:,} characters of text (MAX_TEXT_CHARS; the same long text "
                f"repeated in many cells?); export the data as CSV, or split it into smaller "
                f"files")
        if max(lengths, default=0) <= MAX_CELL_CHARS:
            yield cells
            continue
        for j, text in enumerate(cells):
            if text is not None and len(text) > MAX_CELL_CHARS:
                raise cell_too_long(path, i + 1, first + j, len(text))
