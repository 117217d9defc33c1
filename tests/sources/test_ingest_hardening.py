"""Ingest hardening (issue 15): values the platform never writes are refused by file, row and
column; one file's fault never aborts the batch; raw copies are all or nothing and checked."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from research.cli import main
from research.config import file_mode, raw_dir_for
from research.faults import Refused, UsageFault
from research.sources import exports, raw_copies
from research.sources.exports import (
    MAX_CELL_CHARS,
    MAX_WHOLE,
    ExportError,
    date_range,
    ingest_file,
    ingest_paths,
)
from research.sources.raw_copies import verify_raw_copies
from research.store.warehouse import connect, read
from tests.sources.test_exports import KW_HEADER, KW_ROWS, fingerprint, write_csv

ITEMS_HEADER = "日期,商品ID,店铺,商品标题,类目,价格,月销量"
ITEMS_ROW = "2026-11-01,{id},杯具旗舰店,316 保温杯,保温杯,59.00,120"
SALES_HEADER = "日期,商品ID,支付件数,支付金额"


def kw_file(tmp_path: Path, name: str, rows: list[str], header: str = KW_HEADER) -> Path:
    return write_csv(tmp_path / name, [header, *rows])


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def loaded(tmp_path: Path) -> Path:
    wh = tmp_path / "w.duckdb"
    [res] = ingest_paths([kw_file(tmp_path, "good.csv", KW_ROWS)], wh)
    assert res.outcome == "loaded", res.message
    return wh


def refuse(path: Path, wh: Path) -> str:
    """Ingest one file that must be refused with the warehouse unchanged; its message."""
    if not wh.exists():
        with connect(wh):
            pass
    before = fingerprint(wh)
    [res] = ingest_paths([path], wh)
    assert res.outcome == "failed", res.message
    assert res.code == 1
    assert fingerprint(wh) == before
    assert "Traceback" not in res.message and "Exception" not in res.message
    return res.message


# --------------------------------------------------------------------------- values

@pytest.mark.parametrize("cell", ["inf", "+inf", "Infinity", "-inf", "1e309", "-1e309",
                                  "１e309", "1e309万", "-nan", "nan万", "Infinity%"])
def test_non_finite_numbers_are_refused(loaded: Path, tmp_path: Path, cell: str) -> None:
    # one cell per column kind: 搜索人气 (decimal, fast and thorough parse), 点击率 (share)
    for column, row in ((
            "搜索人气 (search_popularity)",
            f"2026/11/05,保温杯,保温杯,{cell},12.34%,3.21%,10"), (
            "点击率 (click_rate)", f"2026/11/05,保温杯,保温杯,100,{cell},3.21%,10")):
        message = refuse(kw_file(tmp_path, "inf.csv", [KW_ROWS[0], row]), loaded)
        assert f"column {column}, row 3: expected" in message, message
        assert repr(cell) in message or f"'{cell}'" in message


def test_nan_token_counts_as_missing_never_as_a_number(loaded: Path, tmp_path: Path) -> None:
    # "NaN" is one of the documented missing tokens: a required cell is refused as empty,
    # an optional one is stored as missing, never as a NaN
    message = refuse(kw_file(tmp_path, "nan.csv", ["2026/11/05,保温杯,保温杯,NaN,1%,1%,1"]),
                     loaded)
    assert "column 搜索人气 (search_popularity), row 2: expected a value" in message
    [res] = ingest_paths([kw_file(tmp_path, "nan2.csv", ["2026/11/05,保温杯,杯,5,NaN,1%,1"])],
                         loaded)
    assert res.outcome == "loaded", res.message
    con = duckdb.connect(str(loaded), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM keywords WHERE isnan(click_rate) OR "
                           "NOT isfinite(search_popularity)").fetchone() == (0,)
        assert con.execute("SELECT click_rate FROM keywords WHERE keyword = '杯'").fetchone() \
            == (None,)
    finally:
        con.close()


@pytest.mark.parametrize("cell", ["inf", "1e19", "1e309", "9007199254740992",
                                  "9007199254740993", "-1e19"])
def test_whole_numbers_out_of_range_are_refused_not_crashed(loaded: Path, tmp_path: Path,
                                                            cell: str) -> None:
    # 在线商品数 (keywords) and 支付件数 (sales) are BIGINT columns: 1e19 used to abort the
    # batch with "ConversionException … out of range for INT64"
    message = refuse(kw_file(tmp_path, "big.csv", [f"2026/11/05,保温杯,保温杯,1,1%,1%,{cell}"]),
                     loaded)
    assert "column 在线商品数 (online_items), row 2: expected" in message, message
    sales = write_csv(tmp_path / "sales.csv", [SALES_HEADER, "2026-11-01,1001,3,30",
                                               f"2026-11-02,1001,{cell},30"])
    message = refuse(sales, loaded)
    assert "column 支付件数 (units), row 3: expected" in message, message


def test_the_largest_exact_whole_number_loads(tmp_path: Path) -> None:
    sales = write_csv(tmp_path / "sales.csv", [SALES_HEADER, f"2026-11-01,1001,{MAX_WHOLE},30"])
    [res] = ingest_paths([sales], tmp_path / "w.duckdb")
    assert res.outcome == "loaded", res.message
    assert MAX_WHOLE == 2**53 - 1
    assert read("sales", tmp_path / "w.duckdb")["units"].tolist() == [MAX_WHOLE]


@pytest.mark.parametrize("year", ["0001", "1900", "2099", "9999"])
def test_implausible_years_are_refused_naming_the_rows(loaded: Path, tmp_path: Path,
                                                       year: str) -> None:
    rows = [KW_ROWS[0], f"{year}-06-01,保温杯,保温杯,1,1%,1%,1", KW_ROWS[2],
            f"{year}/07/01,保温杯,焖烧杯,1,1%,1%,1"]
    message = refuse(kw_file(tmp_path, "years.csv", rows), loaded)
    lo, hi = date_range()
    assert (f"column 日期 (date), rows 3, 5: expected a date from {lo} to {hi}") in message
    assert "--dates" in message and "RESEARCH_DATE_RANGE" in message


def test_the_date_range_is_stated_and_overridable(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert date_range(today=dt.date(2026, 12, 3)) == (dt.date(2000, 1, 1),
                                                      dt.date(2027, 12, 31))
    path = kw_file(tmp_path, "old.csv", ["1995-03-01,保温杯,保温杯,1,1%,1%,1",
                                         "2099-03-01,保温杯,保温杯,1,1%,1%,1"])
    [res] = ingest_paths([path], tmp_path / "a.duckdb")
    assert res.outcome == "failed"
    [res] = ingest_paths([path], tmp_path / "b.duckdb",
                         dates=(dt.date(1990, 1, 1), dt.date(2100, 12, 31)))
    assert res.outcome == "loaded", res.message
    monkeypatch.setenv("RESEARCH_DATE_RANGE", "1990-01-01..2100-12-31")
    [res] = ingest_paths([path], tmp_path / "c.duckdb")
    assert res.outcome == "loaded", res.message
    out = CliRunner().invoke(main, ["ingest", str(path), "-w", str(tmp_path / "d.duckdb")])
    assert out.exit_code == 0, out.output
    out = CliRunner().invoke(main, ["ingest", str(path), "-w", str(tmp_path / "e.duckdb"),
                                    "--dates", "2000-01-01..2030-12-31"])
    assert out.exit_code == 1 and "rows 2, 3" in out.output
    out = CliRunner().invoke(main, ["ingest", str(path), "-w", str(tmp_path / "f.duckdb"),
                                    "--dates", "1990..2100"])
    assert out.exit_code == 2 and "expected FROM..TO" in out.output
    assert not (tmp_path / "f.duckdb").exists()


def test_scientific_ids_are_refused_on_complete_rows(tmp_path: Path) -> None:
    wh = tmp_path / "w.duckdb"
    path = write_csv(tmp_path / "items.csv", [ITEMS_HEADER, ITEMS_ROW.format(id="610012345678"),
                                              ITEMS_ROW.format(id="7.1E+12"),
                                              ITEMS_ROW.format(id="6.10012E+11")])
    message = refuse(path, wh)
    assert "column 商品ID (item_id), rows 3, 4: expected the full ID as text" in message
    assert "'7.1E+12'" in message


def test_two_headers_giving_one_column_are_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "dup.csv", ["日期,类目,搜索词,搜索人气,popularity",
                                            "2026-11-01,保温杯,保温杯,10,20"])
    message = refuse(path, tmp_path / "w.duckdb")
    assert "搜索人气 (column D) and popularity (column E) both give search_popularity" in message
    # the price a buyer pays beside a list price is not a clash: 券后价 is preferred
    both = write_csv(tmp_path / "prices.csv", [ITEMS_HEADER + ",券后价",
                                               ITEMS_ROW.format(id="1001") + ",49.00"])
    [res] = ingest_paths([both], tmp_path / "w.duckdb")
    assert res.outcome == "loaded", res.message
    assert read("items", tmp_path / "w.duckdb")["price"].tolist() == [49.0]


def test_clashing_headers_of_a_workbook_are_named_as_the_sheet_shows_them(
        tmp_path: Path) -> None:
    import openpyxl  # only this test writes a workbook

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([None, None, "日期", "类目", "搜索词", "搜索人气", "popularity"])
    sheet.append([None, None, "2026-11-01", "保温杯", "保温杯", 10, 20])
    book.save(tmp_path / "dup.xlsx")
    message = refuse(tmp_path / "dup.xlsx", tmp_path / "w.duckdb")
    assert "搜索人气 (column F) and popularity (column G) both give search_popularity" in message


def test_ragged_rows_are_refused_with_their_rows(tmp_path: Path) -> None:
    small = kw_file(tmp_path, "small.csv", [KW_ROWS[0], KW_ROWS[1] + ",extra", KW_ROWS[2],
                                            "2026/11/03,保温杯,焖烧杯"])
    message = refuse(small, tmp_path / "w.duckdb")
    assert "row 3: expected 7 fields as in the header, found up to 8" in message, message
    assert "row 5: expected 7 fields as in the header, found as few as 3" in message, message
    # far below the ~30,000 lines DuckDB used to sniff: still every ragged row, by number
    good = [f"2026/11/01,保温杯,词{i},{i},1%,1%,{i}" for i in range(40_000)]
    big = kw_file(tmp_path, "big.csv", [*good, "2026/11/02,保温杯,多,1,1%,1%,1,x,y",
                                        *good[:5], "2026/11/02,保温杯,少,1"])
    message = refuse(big, tmp_path / "w.duckdb")
    assert "row 40002: expected 7 fields" in message and "row 40008: expected 7" in message


def test_a_broken_quote_is_named_once_by_its_row(tmp_path: Path) -> None:
    rows = [f"2026/11/01,保温杯,词{i},{i},1%,1%,{i}" for i in range(40)]
    rows[29] = '2026/11/01,保温杯,"词"坏,5,1%,1%,1'
    message = refuse(kw_file(tmp_path, "quote.csv", rows), tmp_path / "w.duckdb")
    assert message.startswith("quote.csv: 1 problem(s), nothing was loaded"), message
    assert "row 31: cannot be read as CSV (unquoted value" in message


def test_a_trailing_empty_header_holds_its_rows_to_the_header(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "trail.csv", [KW_HEADER + ",", KW_ROWS[0] + ",", KW_ROWS[2] + ","])
    [res] = ingest_paths([path], tmp_path / "w.duckdb")
    assert res.outcome == "loaded", res.message


def test_cells_over_the_cap_are_refused_naming_row_and_column(tmp_path: Path) -> None:
    long = "杯" * (MAX_CELL_CHARS + 1)
    rows = [f"2026/11/01,保温杯,词{i},{i},1%,1%,{i}" for i in range(50)]
    rows[3] = f"2026/11/01,保温杯,{long},1,1%,1%,1"
    message = refuse(kw_file(tmp_path, "long.csv", rows), tmp_path / "w.duckdb")
    assert (f"column 搜索词, row 5: expected at most {MAX_CELL_CHARS:,} characters in a cell "
            f"(Excel's limit), found up to {MAX_CELL_CHARS + 1:,}") in message, message
    # a 3 MB cell on row 42 was "CSV Error on Line: 1"
    rows = [f"2026/11/01,保温杯,词{i},{i},1%,1%,{i}" for i in range(60)]
    rows[40] = "2026/11/01,保温杯,\"" + "x" * 3_000_000 + "\",1,1%,1%,1"
    message = refuse(kw_file(tmp_path, "huge.csv", rows), tmp_path / "w.duckdb")
    assert "row 42:" in message and f"{MAX_CELL_CHARS:,} characters" in message, message
    assert "Line: 1" not in message


def test_a_cell_at_the_cap_loads(tmp_path: Path) -> None:
    word = "杯" * MAX_CELL_CHARS
    [res] = ingest_paths([kw_file(tmp_path, "cap.csv", [f"2026/11/01,保温杯,{word},1,1%,1%,1"])],
                         tmp_path / "w.duckdb")
    assert res.outcome == "loaded", res.message


def test_export_error_is_a_refusal_and_a_value_error() -> None:
    assert issubclass(ExportError, Refused) and issubclass(ExportError, ValueError)


# --------------------------------------------------------------------------- batch

def test_an_unexpected_error_in_one_file_does_not_abort_the_batch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = exports.store

    def store(con: duckdb.DuckDBPyConnection, table_name: str, *args: Any, **kw: Any) -> Any:
        if table_name == "items":
            raise duckdb.ConversionException("Conversion Error: out of range for INT64")
        return real(con, table_name, *args, **kw)

    monkeypatch.setattr(exports, "store", store)
    a = kw_file(tmp_path, "a.csv", KW_ROWS[:1])
    b = write_csv(tmp_path / "b.csv", [ITEMS_HEADER, ITEMS_ROW.format(id="1001")])
    c = write_csv(tmp_path / "c.csv", [SALES_HEADER, "2026-11-01,1001,3,30"])
    wh = tmp_path / "w.duckdb"
    results = ingest_paths([a, b, c], wh)
    assert [r.outcome for r in results] == ["loaded", "failed", "loaded"]
    assert results[1].message.startswith("b.csv: an unexpected error while writing the "
                                          "warehouse (ConversionException")
    assert "warehouse is unchanged" in results[1].message
    assert read("items", wh).empty and len(read("sales", wh)) == 1
    assert not list(raw_dir_for(wh).glob("items/*"))


def test_a_file_that_is_no_export_is_a_usage_fault(tmp_path: Path) -> None:
    notes = tmp_path / "notes.docx"
    notes.write_bytes(b"PK\x03\x04")
    good = kw_file(tmp_path, "good.csv", KW_ROWS)
    wh = tmp_path / "w.duckdb"
    out = CliRunner().invoke(main, ["ingest", str(good), str(notes), "-w", str(wh)])
    assert out.exit_code == 2 and "notes.docx: not an export" in out.output, out.output
    assert not wh.exists() and not raw_dir_for(wh).exists()


@pytest.mark.parametrize("make", ["empty", "docx", "missing"])
def test_a_path_holding_no_export_is_a_usage_fault_creating_nothing(tmp_path: Path,
                                                                     make: str) -> None:
    folder = tmp_path / "exports"
    if make != "missing":
        folder.mkdir()
    if make == "docx":
        (folder / "notes.docx").write_bytes(b"PK\x03\x04")
    wh = tmp_path / "w.duckdb"
    with pytest.raises(UsageFault, match="exports"):
        ingest_paths([folder], wh)
    assert sorted(p.name for p in tmp_path.iterdir()) == (["exports"] if make != "missing"
                                                          else [])
    if make != "missing":
        out = CliRunner().invoke(main, ["ingest", str(folder), "-w", str(wh)])
        assert out.exit_code == 2 and "holds no export" in out.output, out.output
        assert not wh.exists() and not raw_dir_for(wh).exists()


@pytest.mark.parametrize(("number", "said"), [(errno.ENOSPC, "the disk is full"),
                                              (errno.EACCES, "permission denied")])
def test_a_full_disk_while_copying_is_one_message_and_the_batch_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, number: int, said: str) -> None:
    real = raw_copies.write_copy
    calls = []

    def full(source: Path, handle: object) -> str:
        calls.append(source)
        if len(calls) == 1:
            handle.write(b"half")  # type: ignore[attr-defined]
            raise OSError(number, os.strerror(number), str(source))
        return real(source, handle)

    monkeypatch.setattr(raw_copies, "write_copy", full)
    wh = tmp_path / "w.duckdb"
    a = kw_file(tmp_path, "a.csv", KW_ROWS[:1])
    b = kw_file(tmp_path, "b.csv", KW_ROWS[1:])
    results = ingest_paths([a, b], wh)
    assert [r.outcome for r in results] == ["failed", "loaded"], [r.message for r in results]
    assert results[0].code == 4
    assert results[0].message.startswith("a.csv: copying the export into ")
    assert said in results[0].message and "unchanged" in results[0].message
    assert read("ingest_log", wh)["file_name"].tolist() == ["b.csv"]
    assert len(read("keywords", wh)) == 2
    raw = raw_dir_for(wh)
    assert {p.name for p in raw.rglob("*")} == {"keywords", f"{sha(b)[:16]}_b.csv"}
    # the command: every file's outcome, exit 4
    calls.clear()
    out = CliRunner().invoke(main, ["ingest", str(a), str(b), "-w", str(tmp_path / "x.duckdb")])
    assert out.exit_code == 4, out.output
    assert "✗ a.csv" in out.output and "✓ b.csv" in out.output and "1 refused" in out.output


class _FailingCommit:
    """A connection whose COMMIT fails as DuckDB's does on a full disk (the transaction is
    over, so the following ROLLBACK has nothing to roll back)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def execute(self, sql: str, *args: object) -> duckdb.DuckDBPyConnection:
        if sql.strip() == "COMMIT":
            self.con.execute("ROLLBACK")
            raise duckdb.IOException("Could not write file \"w.duckdb.wal\": No space left on "
                                     "device")
        return self.con.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self.con, name)


def test_a_failing_commit_is_not_hidden_by_the_rollback(loaded: Path, tmp_path: Path) -> None:
    before = fingerprint(loaded)
    path = kw_file(tmp_path, "later.csv", ["2026/11/09,保温杯,保温杯,1,1%,1%,1"])
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    with connect(loaded) as con:
        res = ingest_file(_FailingCommit(con), path, raw_dir_for(loaded),  # type: ignore[arg-type]
                          tmp_dir=incoming)
    assert res.outcome == "failed" and res.code == 4, res.message
    assert "the disk is full" in res.message and "rollback" not in res.message
    assert fingerprint(loaded) == before  # the copy placed before the commit is gone again


# --------------------------------------------------------------------------- raw copies

def test_raw_copies_get_the_file_mode_and_leave_no_temporaries(tmp_path: Path) -> None:
    gbk = write_csv(tmp_path / "gbk.csv", [KW_HEADER, *KW_ROWS], encoding="gbk")
    os.chmod(gbk, 0o644)
    wh = tmp_path / "w.duckdb"
    [res] = ingest_paths([gbk], wh)
    assert res.outcome == "loaded", res.message
    [kept] = raw_dir_for(wh).rglob("*.csv")
    assert kept.stat().st_mode & 0o777 == file_mode()
    assert sha(kept) == sha(gbk)
    assert sorted(p.name for p in raw_dir_for(wh).iterdir()) == ["keywords"]  # no .incoming
    # a refused file leaves nothing in the raw folder either
    bad = kw_file(tmp_path, "bad.csv", ["2026/11/09,保温杯,保温杯,inf,1%,1%,1"])
    refuse(bad, wh)
    assert sorted(p.name for p in raw_dir_for(wh).iterdir()) == ["keywords"]


def test_leftovers_of_a_killed_ingest_are_swept(loaded: Path, tmp_path: Path) -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    incoming = raw_dir_for(loaded) / ".incoming"
    dead = incoming / f"{int(ended.stdout)}-abcd"
    alive = incoming / f"{os.getppid()}-ef01"
    for folder in (dead, alive):
        folder.mkdir(parents=True)
        (folder / "big.utf8.csv").write_bytes(b"x" * 1000)
    [res] = ingest_paths([kw_file(tmp_path, "later.csv", ["2026/11/09,保温杯,保温杯,1,1%,1%,1"])],
                         loaded)
    assert res.outcome == "loaded", res.message
    assert not dead.exists()
    assert (alive / "big.utf8.csv").exists()  # another live process's work is left alone


def test_a_damaged_copy_is_restored_and_the_repair_recorded(loaded: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    [kept] = raw_dir_for(loaded).rglob("*good.csv")
    kept.write_bytes(kept.read_bytes()[:20])  # truncated, as a kill -9 mid-copy left it
    assert verify_raw_copies(loaded)[1][0].startswith(f"{kept}: damaged (20 bytes")
    [res] = ingest_paths([good], loaded)
    assert res.outcome == "skipped"
    assert f"raw copy {kept.name} was damaged" in res.message and "restored" in res.message
    assert sha(kept) == sha(good)
    assert verify_raw_copies(loaded) == (1, [])
    con = duckdb.connect(str(loaded), read_only=True)
    try:
        [(path, found)] = con.execute("SELECT raw_path, found FROM raw_repairs").fetchall()
    finally:
        con.close()
    assert path == str(kept) and found.startswith("damaged (20 bytes")
    # --force reloads and mends a missing copy the same way
    kept.unlink()
    [res] = ingest_paths([good], loaded, force=True)
    assert res.outcome == "loaded" and "was missing" in res.message, res.message
    assert sha(kept) == sha(good)


def test_status_verify_names_each_damaged_copy_and_the_fix(loaded: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(main, ["status", "-w", str(loaded), "--verify"])
    assert out.exit_code == 0, out.output
    assert "Raw copies: 1 checked, 0 missing or damaged — all agree" in out.output
    [kept] = raw_dir_for(loaded).rglob("*good.csv")
    kept.write_bytes(b"not the export")
    out = runner.invoke(main, ["status", "-w", str(loaded), "--verify"])
    assert out.exit_code == 1
    assert f"✗ {kept}: damaged (14 bytes" in out.output
    assert "expected the bytes of good.csv" in out.output and "--force" in out.output
    kept.unlink()
    out = runner.invoke(main, ["status", "-w", str(loaded), "--verify"])
    assert out.exit_code == 1 and f"✗ {kept}: missing" in out.output


def test_a_warehouse_moved_with_its_raw_folder_still_verifies(loaded: Path,
                                                             tmp_path: Path) -> None:
    moved = tmp_path / "moved"
    moved.mkdir()
    loaded.rename(moved / loaded.name)
    raw_dir_for(loaded).rename(moved / raw_dir_for(loaded).name)
    assert verify_raw_copies(moved / loaded.name) == (1, [])
    [kept] = raw_dir_for(moved / loaded.name).rglob("*good.csv")
    kept.write_bytes(b"cut")
    assert verify_raw_copies(moved / loaded.name)[1][0].startswith(f"{kept}: damaged (3 bytes")
    [res] = ingest_paths([tmp_path / "good.csv"], moved / loaded.name)
    assert res.outcome == "skipped" and "restored" in res.message, res.message
    assert sha(kept) == sha(tmp_path / "good.csv")


_KILLED_MID_COPY = """
import sys, time
from pathlib import Path
from research.sources import exports, raw_copies

def half(source, handle):
    data = Path(source).read_bytes()
    handle.write(data[: len(data) // 2])
    handle.flush()
    print("half", flush=True)
    time.sleep(60)

raw_copies.write_copy = half
exports.ingest_paths([sys.argv[1]], sys.argv[2])
"""


def test_an_ingest_killed_mid_copy_leaves_nothing_the_next_one_trusts(tmp_path: Path) -> None:
    wh = tmp_path / "w.duckdb"
    gbk = write_csv(tmp_path / "gbk.csv", [KW_HEADER, *KW_ROWS], encoding="gbk")
    child = subprocess.Popen([sys.executable, "-c", _KILLED_MID_COPY, str(gbk), str(wh)],
                             stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[2])
    assert child.stdout is not None and child.stdout.readline().strip() == "half"
    child.kill()  # SIGKILL, in the middle of the raw copy, inside the transaction
    child.wait()
    incoming = raw_dir_for(wh) / ".incoming"
    left = [p for p in incoming.rglob("*") if p.is_file()]
    assert left, "the killed ingest left its half copy and its transcoded copy"
    assert not list(raw_dir_for(wh).glob("keywords/*"))  # nothing renamed into place
    [res] = ingest_paths([gbk], wh)
    assert res.outcome == "loaded", res.message  # not "skipped": nothing was committed
    assert not incoming.exists()  # the dead process's leftovers swept, ours removed
    [kept] = raw_dir_for(wh).glob("keywords/*")
    assert sha(kept) == sha(gbk)
    assert verify_raw_copies(wh) == (1, [])
    assert len(read("keywords", wh)) == 3


def test_a_traffic_row_without_its_source_is_refused(tmp_path: Path) -> None:
    header = "日期,店铺名称,商品ID,流量来源,访客数,支付买家数,支付金额"
    path = write_csv(tmp_path / "traffic.csv", [
        header, "2024-09-02,暖杯记旗舰店,,,50,0,0.00", "2024-09-02,暖杯记旗舰店,,-,60,1,9.00",
        "2024-09-02,暖杯记旗舰店,,直通车,60,1,9.00"])
    message = refuse(path, tmp_path / "w.duckdb")
    assert "column 流量来源 (channel), rows 2, 3: expected a value" in message


def test_facts_dated_in_the_future_are_refused_but_planned_events_are_not(
        tmp_path: Path) -> None:
    ahead = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    kw = kw_file(tmp_path, "kw.csv", [KW_ROWS[0], KW_ROWS[1].replace("2026/11/01", ahead)])
    message = refuse(kw, tmp_path / "w.duckdb")
    assert "row 3: expected a date no later than" in message, message
    events = write_csv(tmp_path / "events.csv", ["日期,活动名称,类型",
                                                 f"{ahead},年货节,promotion"])
    [res] = ingest_paths([events], tmp_path / "w.duckdb")
    assert res.outcome == "loaded", res.message
