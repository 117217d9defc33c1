"""Reading platform exports as they come: CSV or XLSX, UTF-8 (with or without BOM) or
GBK/GB18030, with preamble lines above the header.

A reader returns every cell as text (IDs never pass through a float) and the row number each
data row has in Excel, so messages can point at the cell the user sees. Parsing values is the
ingest's job (:mod:`research.sources.exports`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from research.faults import Refused
from research.store.schema import TABLES, normalise_header

__all__ = ["ExportError", "RawExport", "read_export", "file_hash", "SUPPORTED_SUFFIXES"]

SUPPORTED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
_PREAMBLE_ROWS = 30
_KNOWN_HEADERS = {normalise_header(a) for t in TABLES.values() for c in t.columns
                  for a in (c.name, *c.aliases)}
_CATEGORY_LINE = re.compile(r"^\s*(?:类目|行业类目|类目名称)\s*[:：]\s*([^,，\s]+)")


class ExportError(Refused):
    """An export that cannot be read or loaded; the message names file, rows and columns.

    A :class:`research.faults.Refused` (exit code 1), and so still a ``ValueError``."""


@dataclass
class RawExport:
    """One export read as text.

    Attributes
    ----------
    path : Path
        The original file.
    kind : {"csv", "xlsx"}
    encoding : str
        The detected encoding (``"xlsx"`` for workbooks).
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
    """Decode bytes as UTF-8 or GB18030, or raise an ExportError naming row and column."""
    if data.startswith(b"\xef\xbb\xbf"):
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
    good = data[: err.start].decode("utf-8" if name == "UTF-8" else "gb18030", errors="replace")
    first_line = good.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    row, col = _row_col_of_offset(good, delimiter)
    bad = data[err.start: err.start + 2].hex(" ")
    raise ExportError(
        f"{path.name}: row {row}, column {col}: byte(s) {bad} at offset {err.start} are not "
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


def _read_csv(path: Path, tmp_dir: Path) -> RawExport:
    data = path.read_bytes()
    if not data.strip():
        raise ExportError(f"{path.name}: the file is empty; expected a header row and data rows")
    text, encoding = _decode(path, data)
    head = text[: 200_000].splitlines()[: _PREAMBLE_ROWS + 1]
    sample_line = next((ln for ln in head if ln.strip()), "")
    delimiter = "\t" if sample_line.count("\t") > sample_line.count(",") else ","
    rows = list(csv.reader(io.StringIO("\n".join(head)), delimiter=delimiter))
    idx = _header_index(rows)
    headers = [h.strip() for h in rows[idx]] if idx < len(rows) else []
    while headers and not headers[-1]:
        headers.pop()
    raw = RawExport(path, "csv", encoding, headers, idx + 1, delimiter=delimiter,
                    preamble=_preamble_facts(rows[:idx]),
                    has_data=any(ln.strip(" ,\t\r") for ln in head[idx + 1:]))
    if encoding == "utf-8":
        raw.csv_path = path
    else:
        tmp = tmp_dir / (path.stem + ".utf8.csv")
        tmp.write_text(text, encoding="utf-8")
        raw.csv_path = raw.temporary = tmp
    return raw


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    return str(value)


def _read_xlsx(path: Path) -> RawExport:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise ExportError(
            f"{path.name}: not a readable XLSX workbook (truncated or corrupt: {exc}); "
            f"expected an .xlsx file as exported — download it again") from None
    try:
        sheet = book.worksheets[0]
        try:
            rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
            raise ExportError(
                f"{path.name}: the workbook is truncated or corrupt ({exc}); "
                f"expected a complete .xlsx file — download it again") from None
    finally:
        book.close()
    if not any(any(c not in (None, "") for c in row) for row in rows):
        raise ExportError(f"{path.name}: the workbook is empty; expected a header row and data rows")
    text_rows = [[c or "" for c in row] for row in rows[: _PREAMBLE_ROWS]]
    idx = _header_index(text_rows)
    headers = [(c or "").strip() for c in rows[idx]]
    while headers and not headers[-1]:
        headers.pop()
    width = len(headers)
    body = [(r[:width] + [None] * (width - len(r))) for r in rows[idx + 1:]]
    numbers = list(range(idx + 2, idx + 2 + len(body)))
    keep = [i for i, r in enumerate(body) if any(c not in (None, "") for c in r)]
    frame = pd.DataFrame([body[i] for i in keep], columns=[f"c{j}" for j in range(width)],
                         dtype=object)
    frame["_row"] = [numbers[i] for i in keep]
    return RawExport(path, "xlsx", "xlsx", headers, idx + 1, frame=frame,
                     preamble=_preamble_facts(text_rows[:idx]))


def read_export(path: str | Path, tmp_dir: str | Path) -> RawExport:
    """Read one export file as text cells.

    Parameters
    ----------
    path : path-like
        A ``.csv`` (``.txt``/``.tsv``) or ``.xlsx`` export.
    tmp_dir : path-like
        Where a transcoded UTF-8 copy of a GBK file may be written.

    Raises
    ------
    ExportError
        Empty, truncated, undecodable or unsupported files, with the reason.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise ExportError(f"{path.name}: old .xls workbooks are not read; save it as .xlsx or CSV")
    if suffix not in SUPPORTED_SUFFIXES:
        raise ExportError(f"{path.name}: unsupported file type {suffix!r}; expected CSV or XLSX")
    if path.stat().st_size == 0:
        raise ExportError(f"{path.name}: the file is empty; expected a header row and data rows")
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    return _read_csv(path, Path(tmp_dir))
