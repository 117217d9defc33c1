"""Reading platform exports as they come: CSV, XLSX or legacy XLS, UTF-8 (with or without
BOM) or GBK/GB18030 (or UTF-16 with its BOM, as Excel saves "Unicode text"), with preamble
lines above the header.

A reader returns every cell as text (IDs never pass through a float) and the row number each
data row has in Excel, so messages can point at the cell the user sees. Parsing values is the
ingest's job (:mod:`research.sources.exports`); workbooks are read, within their limits, by
:mod:`research.sources.workbooks`.

Refused here, each with file, row and column: bytes that are neither UTF-8 nor GBK/GB18030,
a cell above or in the header row longer than :data:`MAX_CELL_CHARS`, and the same header
twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path

import pandas as pd

from research.config import file_mode
from research.faults import environment_fault
from research.sources.workbooks import (
    MAX_CELL_CHARS,
    WORKBOOK_SUFFIXES,
    ExportError,
    cell_too_long,
    column_letter,
    open_first_sheet,
)
from research.store.schema import TABLES, normalise_header

__all__ = ["ExportError", "RawExport", "read_export", "file_hash", "SUPPORTED_SUFFIXES",
           "MAX_CELL_CHARS", "column_letter", "duplicate_headers"]

SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", *WORKBOOK_SUFFIXES)
_PREAMBLE_ROWS = 30
_HEAD_CHARS = 200_000  # the text searched for the header: 30 lines of any real export
_KNOWN_HEADERS = {normalise_header(a) for t in TABLES.values() for c in t.columns
                  for a in (c.name, *c.aliases)}
_CATEGORY_LINE = re.compile(r"^\s*(?:类目|行业类目|类目名称)\s*[:：]\s*([^,，\s]+)")


@dataclass
class RawExport:
    """One export read as text.

    Attributes
    ----------
    path : Path
        The original file.
    kind : {"csv", "xlsx"}
        ``"xlsx"`` for every workbook (``.xlsx``, ``.xlsm``, ``.xls``): its cells are in
        ``frame``.
    encoding : str
        The detected encoding (``"xlsx"`` or ``"xls"`` for workbooks).
    headers : list of str
        The header row as written in the file.
    header_row : int
        1-based row of the header in the file (as Excel shows it).
    csv_path : Path or None
        A UTF-8 CSV of the data rows (the original, or a transcoded temporary copy).
    delimiter : str
    frame : DataFrame or None
        For workbooks: every cell as text, plus ``_row`` (the Excel row number).
    preamble : dict
        Facts read from lines above the header, e.g. ``{"category": "保温杯"}``.
    temporary : Path or None
        The transcoded copy, to delete once the file is loaded.
    has_data : bool
        Whether any non-blank line follows the header (CSV; workbooks: always true).
    first_column : int
        0-based sheet column of ``headers[0]``: 0 but for a workbook whose table starts
        right of column A; ``column_letter(first_column + j)`` names header ``j``.
    """

    path: Path
    kind: str
    encoding: str
    headers: list[str]
    header_row: int
    csv_path: Path | None = None
    delimiter: str = ","
    frame: pd.DataFrame | None = None
    preamble: dict[str, str] = field(default_factory=dict)
    temporary: Path | None = None
    has_data: bool = True
    first_column: int = 0


def file_hash(path: str | Path) -> str:
    """Return the SHA-256 of a file's bytes (the identity of an export in the ingest log)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _row_col_of_offset(text_prefix: str, delimiter: str) -> tuple[int, int]:
    lines = text_prefix.split("\n")
    return len(lines), lines[-1].count(delimiter) + 1


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    """Decode bytes as UTF-8 or GB18030 (or UTF-16 after its BOM: Excel's "Unicode text"),
    or raise an ExportError naming row and column."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            good = data[:exc.start].decode("utf-16", errors="replace")
            row, col = _row_col_of_offset(good, "\t" if "\t" in good else ",")
            raise ExportError(
                f"{path.name}: row {row}, column {col}: the file starts as UTF-16 text (Excel's "
                f"Unicode text) but byte {exc.start} does not continue it (a cut file?); "
                f"re-export the file, as CSV UTF-8 if you can") from None
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    if bom:
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            utf_err: UnicodeDecodeError = exc
            gb_err = None
        else:  # pragma: no cover - returned above
            raise AssertionError
    else:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as exc:
            utf_err = exc
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError as exc:
            gb_err = exc
    # Neither decodes: blame the encoding that got furthest, and point at the bad byte.
    err, name = (utf_err, "UTF-8") if gb_err is None or utf_err.start >= gb_err.start \
        else (gb_err, "GBK/GB18030")
    offset = err.start + bom  # the error counts from after the BOM, the message from byte 0
    good = data[bom:offset].decode("utf-8" if name == "UTF-8" else "gb18030", errors="replace")
    first_line = good.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    row, col = _row_col_of_offset(good, delimiter)
    bad = data[offset: offset + 2].hex(" ")
    raise ExportError(
        f"{path.name}: row {row}, column {col}: byte(s) {bad} at offset {offset} are not "
        f"valid {name} text; the rest of the file reads as {name}. Expected a UTF-8 or "
        f"GBK/GB18030 encoded export — re-export the file or fix that cell")


def _header_index(rows: list[list[str]]) -> int:
    """Index of the header row: the first row with at least two known column names."""
    for i, row in enumerate(rows[:_PREAMBLE_ROWS]):
        if sum(normalise_header(c) in _KNOWN_HEADERS for c in row if c) >= 2:
            return i
    return 0


def _preamble_facts(rows: list[list[str]]) -> dict[str, str]:
    facts: dict[str, str] = {}
    for row in rows:
        match = _CATEGORY_LINE.match(" ".join(c for c in row if c))
        if match:
            facts["category"] = match.group(1)
    return facts


def duplicate_headers(path: Path, headers: list[str], header_row: int,
                      first_column: int = 0) -> None:
    """Refuse a header row naming the same column twice (after trimming and folding case).

    Raises
    ------
    ExportError
        Naming the header and its columns as Excel letters, e.g. ``columns C and F are both
        搜索人气``.

    Examples
    --------
    >>> duplicate_headers(Path("kw.csv"), ["日期", "类目", "搜索人气", "a", "b", "搜索人气 "], 3)
    Traceback (most recent call last):
    ...
    research.sources.workbooks.ExportError: kw.csv: row 3 (the header): columns C and F are both 搜索人气; expected each column once — delete or rename one of them and load the file again
    """
    seen: dict[str, list[int]] = {}
    for j, header in enumerate(headers):
        if header.strip():
            seen.setdefault(normalise_header(header), []).append(j)
    twice = [cols for cols in seen.values() if len(cols) > 1]
    if not twice:
        return
    parts = []
    for cols in twice:
        letters = [column_letter(first_column + j) for j in cols]
        listed = ", ".join(letters[:-1]) + " and " + letters[-1]
        parts.append(f"columns {listed} are {'both' if len(cols) == 2 else 'all'} "
                     f"{headers[cols[0]].strip()}")
    raise ExportError(
        f"{path.name}: row {header_row} (the header): {'; '.join(parts)}; expected each "
        f"column once — delete or rename one of them and load the file again")


def _long_cell(path: Path, rows: list[list[str]], first_column: int = 0) -> None:
    """Refuse a cell longer than MAX_CELL_CHARS among ``rows`` (row 1 first)."""
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            if cell is not None and len(cell) > MAX_CELL_CHARS:
                raise cell_too_long(path, i + 1, first_column + j, len(cell),
                                    at_least=len(cell) >= _HEAD_CHARS - 1)


def _head_rows(text: str, delimiter: str) -> list[list[str]]:
    """Parse the first lines as CSV records, whatever their cells' length (a cell beyond
    csv's own field limit must be named, not crash the reader)."""
    head = text[:_HEAD_CHARS].splitlines()[: _PREAMBLE_ROWS + 1]
    joined = "\n".join(head)
    old = csv.field_size_limit()
    csv.field_size_limit(max(old, len(joined) + 1))
    try:
        return list(csv.reader(io.StringIO(joined), delimiter=delimiter))
    finally:
        csv.field_size_limit(old)


def _write_private(path: Path, text: str, tmp: Path) -> None:
    """Write the UTF-8 copy readable by its owner only (``file_mode()``), or nothing."""
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, file_mode())
        try:
            os.fchmod(fd, file_mode())  # the umask may have narrowed, never widened, the mode
            with open(fd, "w", encoding="utf-8", newline="", closefd=False) as handle:
                handle.write(text)
        finally:
            os.close(fd)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise environment_fault(exc, f"{path.name}: writing its UTF-8 copy to {tmp.parent}"
                                ) from None


def _read_csv(path: Path, tmp_dir: Path) -> RawExport:
    data = path.read_bytes()
    if not data.strip():
        raise ExportError(f"{path.name}: the file is empty; expected a header row and data rows")
    text, encoding = _decode(path, data)
    if not text.strip(" \t\r\n,\ufeff"):
        raise ExportError(f"{path.name}: the file is empty; expected a header row and data rows")
    head = text[:_HEAD_CHARS].splitlines()[: _PREAMBLE_ROWS + 1]
    sample_line = next((ln for ln in head if ln.strip()), "")
    delimiter = "\t" if sample_line.count("\t") > sample_line.count(",") else ","
    rows = _head_rows(text, delimiter)
    idx = _header_index(rows)
    found = idx > 0 or (bool(rows) and sum(normalise_header(c) in _KNOWN_HEADERS
                                            for c in rows[0] if c) >= 2)
    _long_cell(path, rows[: idx + 1] if found else rows)  # no header seen: a long cell may
    # have pushed it out of the lines searched, so every line read is checked
    headers = [h.strip() for h in rows[idx]] if idx < len(rows) else []
    while headers and not headers[-1]:
        headers.pop()
    duplicate_headers(path, headers, idx + 1)
    raw = RawExport(path, "csv", encoding, headers, idx + 1, delimiter=delimiter,
                    preamble=_preamble_facts(rows[:idx]),
                    has_data=any(ln.strip(" ,\t\r") for ln in head[idx + 1:]))
    if encoding == "utf-8":
        raw.csv_path = path
    else:
        tmp = tmp_dir / (path.stem + ".utf8.csv")
        _write_private(path, text, tmp)
        raw.csv_path = raw.temporary = tmp
    return raw


def _read_workbook(path: Path) -> RawExport:
    with open_first_sheet(path) as (kind, first, rows):
        top = list(islice(rows, _PREAMBLE_ROWS))
        text_rows = [[c or "" for c in row] for row in top]
        idx = _header_index(text_rows)
        if idx < len(top) and not any(text_rows[idx]):  # no known header: the first filled row
            idx = next((i for i, r in enumerate(text_rows) if any(r)), idx)
        headers = [(c or "").strip() for c in top[idx]] if idx < len(top) else []
        while headers and not headers[-1]:
            headers.pop()
        width = len(headers)
        body: list[list[str | None]] = []
        numbers: list[int] = []
        number = idx + 1
        filled = False
        for row in chain(top[idx + 1:], rows):
            number += 1
            if any(c is not None for c in row[:width]):
                body.append(row[:width] + [None] * (width - len(row)))
                numbers.append(number)
            elif not width and not filled:
                filled = any(c is not None for c in row)
    if not headers:
        if filled:
            raise ExportError(f"{path.name}: no header row in the first {_PREAMBLE_ROWS} rows of "
                              f"the first sheet; expected the export's header row at its top")
        raise ExportError(f"{path.name}: the workbook is empty; expected a header row and data "
                          f"rows")
    duplicate_headers(path, headers, idx + 1, first)
    frame = pd.DataFrame(body, columns=[f"c{j}" for j in range(width)], dtype=object)
    frame["_row"] = numbers
    return RawExport(path, "xlsx", kind, headers, idx + 1, frame=frame,
                     preamble=_preamble_facts(text_rows[:idx]), first_column=first)


def read_export(path: str | Path, tmp_dir: str | Path) -> RawExport:
    """Read one export file as text cells.

    Parameters
    ----------
    path : path-like
        A ``.csv`` (``.txt``/``.tsv``), ``.xlsx``/``.xlsm`` or legacy ``.xls`` export.
    tmp_dir : path-like
        Where a transcoded UTF-8 copy of a GBK file may be written (mode ``file_mode()``).

    Raises
    ------
    ExportError
        Empty, truncated, undecodable, oversized or unsupported files, with the reason.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ExportError(f"{path.name}: unsupported file type {suffix!r}; expected CSV, XLSX "
                          f"or XLS")
    if path.stat().st_size == 0:
        raise ExportError(f"{path.name}: the file is empty; expected a header row and data rows")
    if suffix in WORKBOOK_SUFFIXES:
        return _read_workbook(path)
    return _read_csv(path, Path(tmp_dir))
