"""A legacy Excel 97-2003 workbook writer (``.xls``: BIFF8 records in an OLE2 compound file),
written with the standard library and numpy, for the sample markets' XLS exports.

生意参谋 still exports ``.xls``; the sample writes one so that the ingest's legacy path is
exercised on real bytes. The writer is deliberately small: one worksheet, text as shared
strings (``SST`` with ``CONTINUE`` records past 8,224 bytes, ``LABELSST`` cells), numbers as
``NUMBER`` records, dates as numbers under an XF whose format is ``yyyy-mm-dd`` (so readers
see real dates), and the compound file around it (512-byte sectors, FAT, DIFAT past 109 FAT
sectors, no mini stream: the ``Workbook`` stream is padded to 4,096 bytes when smaller, as
Excel's own writers do). Nothing reads the clock: the same frame gives the same bytes.

Limits of the format, refused with :class:`ValueError`: 65,536 rows (the header included),
256 columns, 32,767 characters in a cell.

References: [MS-XLS] (BIFF8 records) and [MS-CFB] (compound file), Microsoft Open
Specifications.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["write_xls", "MAX_ROWS", "MAX_COLUMNS", "MAX_CELL_CHARS"]

#: rows a BIFF8 sheet holds (the header row included)
MAX_ROWS = 65_536
#: columns a BIFF8 sheet holds
MAX_COLUMNS = 256
#: characters in one cell (Excel's limit)
MAX_CELL_CHARS = 32_767

# --------------------------------------------------------------------------- BIFF8
_BOF, _EOF, _CODEPAGE, _WINDOW1, _DATEMODE = 0x0809, 0x000A, 0x0042, 0x003D, 0x0022
_FONT, _FORMAT, _XF, _STYLE, _BOUNDSHEET = 0x0031, 0x041E, 0x00E0, 0x0293, 0x0085
_SST, _CONTINUE, _EXTSST = 0x00FC, 0x003C, 0x00FF
_DIMENSIONS, _WINDOW2, _LABELSST, _NUMBER = 0x0200, 0x023E, 0x00FD, 0x0203
_MAX_BODY = 8224  # bytes of data in one record (BIFF8)
_DATE_FORMAT = 164  # the first number-format index free for a workbook's own formats
_GENERAL_XF, _DATE_XF = 15, 16  # XFs 0–14 are styles, 15 the default cell XF
_EPOCH = pd.Timestamp("1899-12-30")  # day 0 of the 1900 date system, as Excel counts

_LABEL_DTYPE = np.dtype([("type", "<u2"), ("size", "<u2"), ("row", "<u2"), ("col", "<u2"),
                         ("xf", "<u2"), ("sst", "<u4")])
_NUMBER_DTYPE = np.dtype([("type", "<u2"), ("size", "<u2"), ("row", "<u2"), ("col", "<u2"),
                          ("xf", "<u2"), ("value", "<f8")])


def _record(kind: int, body: bytes) -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def _short_string(text: str) -> bytes:
    """ShortXLUnicodeString: 8-bit length, then Latin-1 or UTF-16 characters."""
    if all(ord(ch) < 256 for ch in text):
        return struct.pack("<BB", len(text), 0) + text.encode("latin-1")
    data = text.encode("utf-16-le")
    return struct.pack("<BB", len(data) // 2, 1) + data


def _string(text: str) -> bytes:
    """XLUnicodeString: 16-bit length, then Latin-1 or UTF-16 characters."""
    if all(ord(ch) < 256 for ch in text):
        return struct.pack("<HB", len(text), 0) + text.encode("latin-1")
    data = text.encode("utf-16-le")
    return struct.pack("<HB", len(data) // 2, 1) + data


def _xf(font: int, fmt: int, style: bool, used: int) -> bytes:
    """One XF: style XFs (0–14) have no parent; cell XFs have style 0 as parent."""
    prot = 0xFFF5 if style else 0x0001  # locked; a style XF: fStyle and parent 0xFFF
    colours = 0x40 | (0x41 << 7)  # pattern colours: system foreground and background
    return _record(_XF, struct.pack("<HHHBBHIIH", font, fmt, prot, 0x20, 0, used, 0, 0,
                                    colours))


def _globals_head() -> bytes:
    """Every workbook-globals record before BOUNDSHEET."""
    out = [_record(_BOF, struct.pack("<HHHHII", 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 6)),
           _record(_CODEPAGE, struct.pack("<H", 1200)),  # strings are UTF-16
           _record(_WINDOW1, struct.pack("<hhHHHHHHH", 0, 0, 0x4000, 0x2000, 0x0038, 0, 0,
                                          1, 600)),
           _record(_DATEMODE, struct.pack("<H", 0))]  # the 1900 date system
    font = struct.pack("<HHHHHBBBB", 200, 0, 0x7FFF, 400, 0, 0, 0, 0, 0) + _short_string("Arial")
    out += [_record(_FONT, font)] * 4  # fonts 0–3 (BIFF has no font 4)
    out.append(_record(_FORMAT, struct.pack("<H", _DATE_FORMAT) + _string("yyyy-mm-dd")))
    out += [_xf(0, 0, True, 0)] * _GENERAL_XF
    out.append(_xf(0, 0, False, 0))
    out.append(_xf(0, _DATE_FORMAT, False, 0x0400))  # fAtrNum: this XF sets the format
    out.append(_record(_STYLE, struct.pack("<HBB", 0x8000, 0, 0xFF)))  # "Normal" is XF 0
    return b"".join(out)


def _sst(strings: Sequence[str], total: int, start: int) -> bytes:
    """The shared-string table, split into CONTINUE records, and its EXTSST index.

    ``start`` is the stream offset of the SST record (EXTSST points at strings by offset).
    A string's header never splits; its characters may, the CONTINUE then opening with the
    characters' width flag. A surrogate pair is never split.
    """
    records: list[bytearray] = [bytearray(struct.pack("<II", total, len(strings)))]
    step = max(8, -(-len(strings) // 128))  # strings per EXTSST bucket (≤ 128 buckets)
    buckets: list[tuple[int, int]] = []
    offset = start  # stream offset of the current record
    for i, text in enumerate(strings):
        wide = not text.isascii() and max(text) > "\xff"
        data = text.encode("utf-16-le" if wide else "latin-1")
        unit = 2 if wide else 1
        head = struct.pack("<HB", len(data) // unit, int(wide))
        body = records[-1]
        if len(body) + len(head) + unit > _MAX_BODY:
            offset += 4 + len(body)
            body = bytearray()
            records.append(body)
        if i % step == 0:
            buckets.append((offset + 4 + len(body), 4 + len(body)))
        body += head
        if len(body) + len(data) <= _MAX_BODY:  # the usual case: the string fits
            body += data
            continue
        rest = data
        while rest:
            room = (_MAX_BODY - len(body)) // unit * unit
            take = min(room, len(rest))
            if wide and take < len(rest) and 0xD8 <= rest[take - 1] <= 0xDB:
                take -= 2  # keep a surrogate pair in one record
            body += rest[:take]
            rest = rest[take:]
            if rest:
                offset += 4 + len(body)
                body = bytearray([int(wide)])
                records.append(body)
    out = [_record(_SST if j == 0 else _CONTINUE, bytes(b)) for j, b in enumerate(records)]
    extsst = struct.pack("<H", step) + b"".join(struct.pack("<IHH", ib, cb, 0)
                                                for ib, cb in buckets)
    return b"".join(out) + _record(_EXTSST, extsst)


def _cells(frame: pd.DataFrame, date_columns: Sequence[str]
           ) -> tuple[bytes, list[str], int, tuple[int, int, int, int]]:
    """The sheet's cell records in row order, the shared strings, the count of string cells
    and the rectangle (first row, last row + 1, first column, last column + 1)."""
    n = len(frame)
    text_rows, text_cols, texts = [], [], []
    num_rows, num_cols, nums, xfs = [], [], [], []
    for j, name in enumerate(frame.columns):
        text_rows.append(np.array([0]))
        text_cols.append(np.array([j]))
        texts.append(np.array([str(name)], dtype=object))
        col = frame[name].reset_index(drop=True)
        rows = np.arange(1, n + 1)
        if name in date_columns:
            stamp = pd.to_datetime(col)
            ok = stamp.notna().to_numpy()
            serial = (stamp[ok].dt.normalize() - _EPOCH).dt.days.to_numpy(dtype=float)
            num_rows.append(rows[ok])
            nums.append(serial)
            xfs.append(np.full(ok.sum(), _DATE_XF))
        elif pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            values = col.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            ok = ~np.isnan(values)
            num_rows.append(rows[ok])
            nums.append(values[ok])
            xfs.append(np.full(ok.sum(), _GENERAL_XF))
        else:
            ok = col.notna().to_numpy()
            values = col[ok].astype(str).to_numpy(dtype=object)
            filled = values != ""
            text_rows.append(rows[ok][filled])
            text_cols.append(np.full(filled.sum(), j))
            texts.append(values[filled])
            continue
        num_cols.append(np.full(ok.sum(), j))
    all_texts = np.concatenate(texts) if texts else np.array([], dtype=object)
    long = [t for t in all_texts if len(t) > MAX_CELL_CHARS]
    if long:
        raise ValueError(f"a cell of {len(long[0]):,} characters; an .xls cell holds "
                         f"{MAX_CELL_CHARS:,} at most")
    codes, uniques = pd.factorize(pd.Series(all_texts, dtype=object), sort=False)
    t_rows = np.concatenate(text_rows).astype(np.int64) if text_rows else np.zeros(0, np.int64)
    t_cols = np.concatenate(text_cols).astype(np.int64) if text_cols else np.zeros(0, np.int64)
    n_rows = np.concatenate(num_rows).astype(np.int64) if num_rows else np.zeros(0, np.int64)
    n_cols = np.concatenate(num_cols).astype(np.int64) if num_cols else np.zeros(0, np.int64)
    labels = np.zeros(len(t_rows), dtype=_LABEL_DTYPE)
    labels["type"], labels["size"] = _LABELSST, 10
    labels["row"], labels["col"], labels["xf"] = t_rows, t_cols, _GENERAL_XF
    labels["sst"] = codes
    numbers = np.zeros(len(n_rows), dtype=_NUMBER_DTYPE)
    numbers["type"], numbers["size"] = _NUMBER, 14
    numbers["row"], numbers["col"] = n_rows, n_cols
    numbers["xf"] = np.concatenate(xfs) if xfs else 0
    numbers["value"] = np.concatenate(nums) if nums else 0.0
    # lay the records out in row order, then column order
    rows_all = np.concatenate([t_rows, n_rows])
    cols_all = np.concatenate([t_cols, n_cols])
    sizes = np.concatenate([np.full(len(t_rows), _LABEL_DTYPE.itemsize),
                            np.full(len(n_rows), _NUMBER_DTYPE.itemsize)])
    order = np.lexsort((cols_all, rows_all))
    starts = np.empty(len(order), dtype=np.int64)
    starts[order] = np.cumsum(sizes[order]) - sizes[order]
    buf = np.zeros(int(sizes.sum()), dtype=np.uint8)
    for recs, at in ((labels, starts[:len(t_rows)]), (numbers, starts[len(t_rows):])):
        if len(recs):
            width = recs.dtype.itemsize
            buf[at[:, None] + np.arange(width)] = recs.view(np.uint8).reshape(-1, width)
    if len(rows_all):
        box = (0, int(rows_all.max()) + 1, int(cols_all.min()), int(cols_all.max()) + 1)
    else:
        box = (0, 0, 0, 0)
    return buf.tobytes(), [str(u) for u in uniques], len(t_rows), box


def _workbook_stream(frame: pd.DataFrame, sheet: str, date_columns: Sequence[str]) -> bytes:
    cells, strings, total, box = _cells(frame, date_columns)
    head = _globals_head()
    boundsheet_size = 4 + 6 + len(_short_string(sheet))
    sst_at = len(head) + boundsheet_size
    tail = _sst(strings, total, sst_at) + _record(_EOF, b"")
    sheet_at = sst_at + len(tail)
    book = (head + _record(_BOUNDSHEET, struct.pack("<IBB", sheet_at, 0, 0)
                           + _short_string(sheet)) + tail)
    first, last, left, right = box
    worksheet = (_record(_BOF, struct.pack("<HHHHII", 0x0600, 0x0010, 0x0DBB, 0x07CC, 0, 6))
                 + _record(_DIMENSIONS, struct.pack("<IIHHH", first, last, left, right, 0))
                 + cells
                 + _record(_WINDOW2, struct.pack("<HHHHHHHI", 0x06B6, 0, 0, 0x40, 0, 0, 0, 0))
                 + _record(_EOF, b""))
    return book + worksheet


# --------------------------------------------------------------------------- OLE2
_SECTOR = 512
_FREE, _END, _FATSECT, _DIFSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFC, \
    0xFFFFFFFF
_MINI_CUTOFF = 4096
_HEADER_DIFAT = 109
_PER_SECTOR = _SECTOR // 4


def _dir_entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
    encoded = (name + "\x00").encode("utf-16-le") if name else b""
    return (encoded.ljust(64, b"\x00")
            + struct.pack("<HBBIII", len(encoded), kind, 1 if kind else 0,
                          _NOSTREAM, _NOSTREAM, child)
            + bytes(16 + 4 + 16)  # CLSID, state bits, creation and modification times
            + struct.pack("<IQ", start, size))


def _compound_file(stream: bytes) -> bytes:
    """Wrap one ``Workbook`` stream (≥ 4,096 bytes) in a version-3 compound file."""
    n_data = -(-len(stream) // _SECTOR)
    n_fat = n_difat = 0
    while True:  # the FAT must also map its own sectors and the DIFAT's
        total = n_data + 1 + n_fat + n_difat
        need_fat = -(-total // _PER_SECTOR)
        need_difat = -(-max(need_fat - _HEADER_DIFAT, 0) // (_PER_SECTOR - 1))
        if (need_fat, need_difat) == (n_fat, n_difat):
            break
        n_fat, n_difat = need_fat, need_difat
    dir_at = n_data
    fat_at = dir_at + 1
    difat_at = fat_at + n_fat
    fat = np.full(n_fat * _PER_SECTOR, _FREE, dtype="<u4")
    fat[:n_data] = np.arange(1, n_data + 1)
    fat[n_data - 1] = _END
    fat[dir_at] = _END
    fat[fat_at:difat_at] = _FATSECT
    fat[difat_at:difat_at + n_difat] = _DIFSECT
    fat_sectors = list(range(fat_at, difat_at))
    header_difat = fat_sectors[:_HEADER_DIFAT] + [_FREE] * (_HEADER_DIFAT - min(n_fat, 109))
    difat = bytearray()
    rest = fat_sectors[_HEADER_DIFAT:]
    for k in range(n_difat):
        chunk = rest[k * (_PER_SECTOR - 1):(k + 1) * (_PER_SECTOR - 1)]
        chunk += [_FREE] * (_PER_SECTOR - 1 - len(chunk))
        nxt = difat_at + k + 1 if k + 1 < n_difat else _END
        difat += struct.pack(f"<{_PER_SECTOR}I", *chunk, nxt)
    header = (bytes.fromhex("d0cf11e0a1b11ae1") + bytes(16)
              + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6) + bytes(6)
              + struct.pack("<IIIIIIIII", 0, n_fat, dir_at, 0, _MINI_CUTOFF, _END, 0,
                            difat_at if n_difat else _END, n_difat)
              + struct.pack(f"<{_HEADER_DIFAT}I", *header_difat))
    directory = (_dir_entry("Root Entry", 5, 1, _END, 0)
                 + _dir_entry("Workbook", 2, _NOSTREAM, 0, len(stream))
                 + _dir_entry("", 0, _NOSTREAM, 0, 0) * 2)
    return (header + stream.ljust(n_data * _SECTOR, b"\x00") + directory + fat.tobytes()
            + bytes(difat))


def write_xls(path: Path, frame: pd.DataFrame, sheet: str = "Sheet1",
              date_columns: Sequence[str] = ()) -> None:
    """Write an export as a legacy Excel 97-2003 workbook (``.xls``), reproducibly.

    Behaves as :func:`research.sample.common.write_xlsx`: text stays text (IDs are written
    as strings, never numbers), float and int columns are numbers, ``date_columns`` hold
    Timestamps written as real Excel dates (format ``yyyy-mm-dd``); missing values and empty
    strings leave the cell empty. The bytes depend on the content only.

    Parameters
    ----------
    path : Path
        The file to write.
    frame : DataFrame
        The table; its column names are the header row.
    sheet : str
        The sheet's name (at most 31 characters).
    date_columns : sequence of str
        Columns holding dates.

    Raises
    ------
    ValueError
        A frame beyond the format: more than 65,535 data rows, more than 256 columns, a cell
        over 32,767 characters, or a sheet name over 31 characters.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> frame = pd.DataFrame({"商品ID": ["600123456789"], "价格": [89.9]})
    >>> write_xls(folder / "items.xls", frame)
    >>> (folder / "items.xls").read_bytes()[:8].hex()
    'd0cf11e0a1b11ae1'
    """
    if len(frame) + 1 > MAX_ROWS:
        raise ValueError(f"{len(frame):,} data rows; an .xls sheet holds {MAX_ROWS - 1:,} "
                         f"below its header")
    if frame.shape[1] > MAX_COLUMNS:
        raise ValueError(f"{frame.shape[1]} columns; an .xls sheet holds {MAX_COLUMNS}")
    if not 1 <= len(sheet) <= 31:
        raise ValueError(f"sheet name {sheet!r}: expected 1 to 31 characters")
    stream = _workbook_stream(frame, sheet, date_columns)
    stream = stream.ljust(_MINI_CUTOFF, b"\x00")  # no mini stream: small books are padded
    Path(path).write_bytes(_compound_file(stream))
