"""The legacy .xls writer (:mod:`research.sample.xls`): what it writes reads back exactly in
python-calamine, in the workbench's own reader and ingest, and in LibreOffice.

The compound file is walked here by a small reader of its own (header, DIFAT, FAT, directory),
independent of the writer, to check the structures the large cases must produce: CONTINUE
records after the shared-string table, DIFAT sectors past 109 FAT sectors.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import python_calamine

from research.sample.common import write_xlsx
from research.sample.xls import write_xls
from research.sources.exports import ingest_paths
from research.sources.readers import read_export
from research.store.warehouse import read
from tests._support import unavailable

SST, CONTINUE = 0x00FC, 0x003C


def workbook_stream(data: bytes) -> tuple[bytes, int]:
    """The ``Workbook`` stream of a compound file and the file's count of DIFAT sectors."""
    assert data[:8] == bytes.fromhex("d0cf11e0a1b11ae1")
    size = 1 << struct.unpack_from("<H", data, 0x1E)[0]
    n_fat, first_dir, _, _, _, _, first_difat, n_difat = struct.unpack_from("<8I", data, 0x2C)

    def sector(n: int) -> bytes:
        return data[(n + 1) * size:(n + 2) * size]

    fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))
    nxt = first_difat
    for _ in range(n_difat):
        entries = struct.unpack(f"<{size // 4}I", sector(nxt))
        fat_sectors += entries[:-1]
        nxt = entries[-1]
    fat: list[int] = []
    for n in fat_sectors[:n_fat]:
        fat += struct.unpack(f"<{size // 4}I", sector(n))

    def chain(start: int) -> bytes:
        out = []
        while start < 0xFFFFFFFA:
            out.append(sector(start))
            start = fat[start]
        return b"".join(out)

    directory = chain(first_dir)
    for at in range(0, len(directory), 128):
        entry = directory[at:at + 128]
        length = struct.unpack_from("<H", entry, 64)[0]
        if entry[:max(length - 2, 0)].decode("utf-16-le") == "Workbook":
            start, stream_size = struct.unpack_from("<IQ", entry, 116)
            assert stream_size >= 4096  # no mini stream: a regular stream
            return chain(start)[:stream_size], n_difat
    raise AssertionError("no Workbook stream")


def record_kinds(stream: bytes) -> list[int]:
    """The record types of the workbook globals, up to their EOF."""
    kinds, pos = [], 0
    while pos + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, pos)
        kinds.append(kind)
        pos += 4 + size
        if kind == 0x000A:
            break
    return kinds


def calamine_rows(path: Path) -> list[list[object]]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        return book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    finally:
        book.close()


def small_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "日期": pd.to_datetime(["2026-11-01", "2024-02-29", None, "1999-12-31"]),
        "商品ID": ["600123456789", "000000000042", "612345678901", "600000000001"],
        "商品标题": ["保温杯 316不锈钢 大容量😀", "Thermos «café» ÿ", None, ""],
        "价格": [89.9, -0.125, np.nan, 1234567.5],
        "月销量": [1, 0, 120000, 7],
        "是否天猫": [True, False, True, False],
    })


def test_small_workbook_reads_back_exactly_in_calamine(tmp_path: Path) -> None:
    """Text stays text (12-digit IDs, leading zeros, Chinese, an emoji, Latin-1), numbers are
    numbers, dates are dates, missing values and empty strings are empty cells."""
    path = tmp_path / "items.xls"
    write_xls(path, small_frame(), sheet="市场商品", date_columns=["日期"])
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == ["市场商品"]
    book.close()
    assert calamine_rows(path) == [
        ["日期", "商品ID", "商品标题", "价格", "月销量", "是否天猫"],
        [dt.date(2026, 11, 1), "600123456789", "保温杯 316不锈钢 大容量😀", 89.9, 1.0, "True"],
        [dt.date(2024, 2, 29), "000000000042", "Thermos «café» ÿ", -0.125, 0.0, "False"],
        ["", "612345678901", "", "", 120000.0, "True"],
        [dt.date(1999, 12, 31), "600000000001", "", 1234567.5, 7.0, "False"],
    ]
    stream, _ = workbook_stream(path.read_bytes())
    kinds = record_kinds(stream)
    assert kinds[0] == 0x0809 and 0x0042 in kinds and 0x00FC in kinds and 0x0085 in kinds


def test_same_frame_same_bytes(tmp_path: Path) -> None:
    write_xls(tmp_path / "a.xls", small_frame(), date_columns=["日期"])
    write_xls(tmp_path / "b.xls", small_frame(), date_columns=["日期"])
    first = (tmp_path / "a.xls").read_bytes()
    assert first == (tmp_path / "b.xls").read_bytes()
    assert len(first) % 512 == 0 and len(first) >= 512 + 4096  # a padded regular stream


def big_frame(n: int = 20_000) -> pd.DataFrame:
    rng = np.random.default_rng(16)
    cols: dict[str, object] = {"日期": pd.Timestamp("2025-01-01")
                               + pd.to_timedelta(np.arange(n) % 700, unit="D")}
    cols["商品ID"] = (600_000_000_000 + rng.integers(0, 10**11, n)).astype(str)
    cols["商品标题"] = [f"保温杯{i}号 不锈钢 {'大容量' * (i % 5)}" for i in range(n)]
    for j in range(6):
        cols[f"数值{j}"] = np.round(rng.random(n) * 10 ** j, 2)
    cols["店铺"] = [f"店铺{i % 300}" for i in range(n)]
    cols["空列"] = [None if i % 3 else f"a{i}" for i in range(n)]
    for j in range(3):
        cols[f"整数{j}"] = rng.integers(0, 10**6, n)
    cols["英文"] = [f"term {i}" for i in range(n)]
    return pd.DataFrame(cols)


def expected_rows(frame: pd.DataFrame, date_columns: tuple[str, ...]) -> list[list[object]]:
    out: list[list[object]] = [list(frame.columns)]
    for row in frame.itertuples(index=False):
        cells: list[object] = []
        for name, value in zip(frame.columns, row, strict=True):
            if value is None or (isinstance(value, float) and np.isnan(value)):
                cells.append("")
            elif name in date_columns:
                cells.append(value.date())
            elif isinstance(value, (int, float, np.integer, np.floating)):
                cells.append(float(value))
            else:
                cells.append(value)
        out.append(cells)
    return out


def test_a_large_sheet_with_continued_strings_reads_back_exactly(tmp_path: Path) -> None:
    """20,000 rows × 15 columns: the shared strings run over several CONTINUE records and
    every cell still reads back as written."""
    frame = big_frame()
    assert frame.shape == (20_000, 15)
    path = tmp_path / "big.xls"
    write_xls(path, frame, date_columns=["日期"])
    stream, _ = workbook_stream(path.read_bytes())
    kinds = record_kinds(stream)
    after_sst = kinds[kinds.index(SST) + 1:]
    continues = len(after_sst) - len(list(dropwhile_continue(after_sst)))
    assert continues > 1
    assert calamine_rows(path) == expected_rows(frame, ("日期",))


def dropwhile_continue(kinds: list[int]) -> list[int]:
    i = 0
    while i < len(kinds) and kinds[i] == CONTINUE:
        i += 1
    return kinds[i:]


def test_strings_split_across_records_keep_every_character(tmp_path: Path) -> None:
    """Long strings cross record boundaries at every alignment, Latin-1 and UTF-16, emoji
    (surrogate pairs) included; each comes back whole."""
    texts = [("😀" * k + "杯" * (k % 7) + "x" * (k % 3)) for k in range(1, 1500, 37)]
    texts += ["a" * k for k in range(8000, 8300, 7)] + ["保" * 20_000, "y" * 32_767]
    frame = pd.DataFrame({"文本": texts})
    path = tmp_path / "long.xls"
    write_xls(path, frame)
    stream, _ = workbook_stream(path.read_bytes())
    assert record_kinds(stream).count(CONTINUE) > 10
    assert [r[0] for r in calamine_rows(path)[1:]] == texts


def test_a_file_past_109_fat_sectors_uses_difat(tmp_path: Path) -> None:
    """65,535 rows × 9 numbers (10 MB): the FAT needs more sectors than the header lists,
    so DIFAT sectors hold the rest; every row still reads."""
    n = 65_535
    values = np.arange(n * 9, dtype=float).reshape(n, 9) / 4
    frame = pd.DataFrame(values, columns=[f"v{j}" for j in range(9)])
    path = tmp_path / "difat.xls"
    write_xls(path, frame)
    stream, n_difat = workbook_stream(path.read_bytes())
    assert n_difat >= 1 and len(stream) > 109 * 128 * 512
    rows = calamine_rows(path)
    assert len(rows) == n + 1
    assert rows[1] == list(values[0]) and rows[-1] == list(values[-1])
    assert rows[32_768] == list(values[32_767])


def test_beyond_the_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="65,535"):
        write_xls(tmp_path / "x.xls", pd.DataFrame({"a": np.zeros(65_536)}))
    with pytest.raises(ValueError, match="256"):
        write_xls(tmp_path / "x.xls", pd.DataFrame(np.zeros((1, 257))))
    with pytest.raises(ValueError, match="32,767"):
        write_xls(tmp_path / "x.xls", pd.DataFrame({"a": ["z" * 32_768]}))


def test_the_workbench_reader_and_ingest_accept_it(tmp_path: Path) -> None:
    """The workbench's own reader (with its .xls pre-check) reads the cells as text, and the
    ingest loads the export as a market items table with the right values."""
    frame = small_frame().drop(columns="是否天猫")
    frame["店铺"] = ["杯之家", "Thermos官方旗舰店", "杯之家", "小店"]
    frame["类目"] = "保温杯"
    frame.loc[2, "日期"] = pd.Timestamp("2026-11-01")
    frame.loc[3, "日期"] = pd.Timestamp("2025-12-31")
    frame["价格"] = [89.9, 0.125, 59.0, 1234567.5]
    path = tmp_path / "items.xls"
    write_xls(path, frame, date_columns=["日期"])
    raw = read_export(path, tmp_path)
    assert raw.encoding == "xls" and raw.headers == list(frame.columns)
    assert raw.frame.iloc[0, :5].tolist() == ["2026-11-01", "600123456789",
                                              "保温杯 316不锈钢 大容量😀", "89.9", "1"]
    assert raw.frame["_row"].tolist() == [2, 3, 4, 5]
    results = ingest_paths([path], warehouse=tmp_path / "w.duckdb")
    assert [(r.outcome, r.table) for r in results] == [("loaded", "items")], results[0].message
    items = read("items", tmp_path / "w.duckdb").sort_values("item_id").reset_index(drop=True)
    assert items["item_id"].tolist() == ["000000000042", "600000000001", "600123456789",
                                         "612345678901"]
    assert items["price"].tolist() == [0.125, 1234567.5, 89.9, 59.0]
    assert items["snapshot_date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2024-02-29", "2025-12-31", "2026-11-01", "2026-11-01"]
    assert items.set_index("item_id").loc["600123456789", "sales_30d"] == 1


def libreoffice_csv(path: Path, tmp: Path) -> list[list[str]]:
    soffice = shutil.which("soffice")
    if soffice is None:
        unavailable("LibreOffice (soffice)", "make browser installs libreoffice-calc-nogui")
    out = tmp / "lo"
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp}/profile",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir",
                    str(out), str(path)], check=True, capture_output=True, timeout=180)
    with open(out / (path.stem + ".csv"), encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_libreoffice_opens_it_with_the_same_values(tmp_path: Path) -> None:
    """LibreOffice reads the same cells: dates shown as yyyy-mm-dd (a real date format),
    IDs as their digits, numbers as written, Chinese text whole."""
    path = tmp_path / "items.xls"
    write_xls(path, small_frame(), date_columns=["日期"])
    assert libreoffice_csv(path, tmp_path) == [
        ["日期", "商品ID", "商品标题", "价格", "月销量", "是否天猫"],
        ["2026-11-01", "600123456789", "保温杯 316不锈钢 大容量😀", "89.9", "1", "True"],
        ["2024-02-29", "000000000042", "Thermos «café» ÿ", "-0.125", "0", "False"],
        ["", "612345678901", "", "", "120000", "True"],
        ["1999-12-31", "600000000001", "", "1234567.5", "7", "False"],
    ]


def test_the_reader_sees_the_same_cells_as_in_the_xlsx(tmp_path: Path) -> None:
    """write_xls behaves as write_xlsx: the workbench's reader gets the same text cells from
    both files of the same frame."""
    frame = pd.concat([small_frame(), small_frame()], ignore_index=True)
    frame.loc[5, "商品标题"] = ("保温杯 " * 50).strip()  # the xlsx drops a trailing space
    frame["日期"] = frame["日期"].fillna(pd.Timestamp("2025-01-01"))  # write_xlsx needs dates
    write_xlsx(tmp_path / "a.xlsx", frame, date_columns=["日期"])
    write_xls(tmp_path / "a.xls", frame, date_columns=["日期"])
    xlsx, xls = read_export(tmp_path / "a.xlsx", tmp_path), read_export(tmp_path / "a.xls",
                                                                          tmp_path)
    assert xls.headers == xlsx.headers == list(frame.columns)
    pd.testing.assert_frame_equal(xls.frame, xlsx.frame)
    assert xls.frame.iloc[0, 0] == "2026-11-01" and xls.frame.iloc[0, 3] == "89.9"


def test_libreoffice_reads_the_large_sheet_whole(tmp_path: Path) -> None:
    """LibreOffice follows the shared strings through their CONTINUE records: every row of the
    20,000-row sheet holds its date, ID, title and shop."""
    frame = big_frame()
    path = tmp_path / "big.xls"
    write_xls(path, frame, date_columns=["日期"])
    rows = libreoffice_csv(path, tmp_path)
    assert len(rows) == len(frame) + 1 and rows[0] == list(frame.columns)
    got = [(r[0], r[1], r[2], r[9]) for r in rows[1:]]
    want = list(zip(frame["日期"].dt.strftime("%Y-%m-%d"), frame["商品ID"], frame["商品标题"],
                    frame["店铺"], strict=True))
    assert got == want
