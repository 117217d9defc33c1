"""The warehouse lock protocol across processes: one writer at a time, shared holds together,
a killed holder never leaves the warehouse locked; a file that is not a warehouse is a usage
fault; a new warehouse is private.

Holders are real processes (``python -c``), since the guarantees are between processes; each
prints ``held`` once it holds and is killed at the end of its test if still running.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from research.config import PROJECT_ROOT
from research.faults import Busy, UsageFault, exit_code
from research.store.locks import hold, holders, holders_dir, lock_path
from research.store.warehouse import WarehouseMissing, connect, open_read

HOLDER = textwrap.dedent("""
    import sys, time
    import duckdb
    from research.store.locks import hold
    from research.store.warehouse import connect, open_read
    what, path, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    if what == "connect":
        cm = connect(path)
    elif what == "read":
        cm = open_read(path)
    elif what == "raw":  # DuckDB's own lock only, outside the protocol
        cm = duckdb.connect(path)
    else:
        cm = hold(path, what, purpose="test holder " + what)
    with cm:
        print("held", flush=True)
        time.sleep(seconds)
    print("released", flush=True)
""")


@pytest.fixture
def start_holder() -> Iterator:
    """Start holder processes; each is killed (by its pid) at the end if still running."""
    started: list[subprocess.Popen] = []

    def start(what: str, path: Path, seconds: float = 120.0) -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, what, str(path), str(seconds)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=PROJECT_ROOT)
        started.append(proc)
        line = proc.stdout.readline() if proc.stdout else ""
        if line.strip() != "held":
            proc.kill()
            raise AssertionError(f"holder did not start: {line!r} {proc.communicate()}")
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    with connect(path) as con:
        con.execute("CREATE TABLE marks (x INTEGER)")
    return path


# ------------------------------------------------------------------ writers and readers

def test_second_writer_is_refused_at_once_and_gets_in_with_wait(warehouse: Path,
                                                                 start_holder) -> None:
    first = start_holder("connect", warehouse, 2.0)
    t0 = time.monotonic()
    with pytest.raises(Busy) as refused:
        with connect(warehouse):
            pass
    assert time.monotonic() - t0 < 1.0
    message = str(refused.value)
    assert str(warehouse) in message and f"pid {first.pid}" in message
    assert "exclusive" in message and "--wait SECONDS" in message
    assert exit_code(refused.value) == 3

    t0 = time.monotonic()
    with connect(warehouse, wait=60) as con:
        waited = time.monotonic() - t0
        con.execute("INSERT INTO marks VALUES (2)")
    out, _ = first.communicate(timeout=30)
    assert first.returncode == 0 and out.strip() == "released"  # it let go before we got in
    assert waited > 0.5
    with open_read(warehouse) as con:
        assert con.execute("SELECT list(x) FROM marks").fetchall() == [([2],)]


def test_wait_runs_out_with_a_message(warehouse: Path, start_holder) -> None:
    holder = start_holder("connect", warehouse)
    t0 = time.monotonic()
    with pytest.raises(Busy) as refused:
        with connect(warehouse, wait=0.6):
            pass
    assert 0.5 <= time.monotonic() - t0 < 10
    assert "(waited 0.6 s)" in str(refused.value) and f"pid {holder.pid}" in str(refused.value)
    assert "longer --wait" in str(refused.value)


def test_waiting_is_said_once_on_stderr(warehouse: Path, start_holder,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    holder = start_holder("connect", warehouse, 1.0)
    with connect(warehouse, wait=60):
        pass
    err = capsys.readouterr().err
    assert err.count("waiting up to 60 s to write to it") == 1
    assert f"pid {holder.pid}" in err


def test_shared_holds_coexist(warehouse: Path, start_holder) -> None:
    other = start_holder("shared", warehouse)
    with hold(warehouse, "shared", purpose="this test"):
        with open_read(warehouse) as con:  # a study reads under its own shared hold
            assert con.execute("SELECT count(*) FROM marks").fetchall() == [(0,)]
        seen = {(h["pid"], h["mode"], h["purpose"]) for h in holders(warehouse)}
    assert seen == {(other.pid, "shared", "test holder shared"),
                    (os.getpid(), "shared", "this test")}


def test_shared_blocks_exclusive_until_released(warehouse: Path, start_holder) -> None:
    study = start_holder("shared", warehouse)
    with pytest.raises(Busy) as refused:
        with connect(warehouse):
            pass
    assert f"`test holder shared` (pid {study.pid}, shared)" in str(refused.value)
    with pytest.raises(Busy):
        with hold(warehouse, "exclusive", wait=0.3):
            pass
    study.send_signal(signal.SIGTERM)
    study.communicate(timeout=30)
    with connect(warehouse, wait=10) as con:
        con.execute("INSERT INTO marks VALUES (1)")


def test_exclusive_blocks_shared_holds_and_readers(warehouse: Path, start_holder) -> None:
    writer = start_holder("connect", warehouse)
    with pytest.raises(Busy):
        with hold(warehouse, "shared"):
            pass
    with pytest.raises(Busy) as refused:  # DuckDB's own lock, named the same way
        with open_read(warehouse):
            pass
    assert f"pid {writer.pid}" in str(refused.value) and "cannot read it" in str(refused.value)


def test_duckdb_lock_outside_the_protocol_is_busy_naming_the_process(
        warehouse: Path, start_holder) -> None:
    other = start_holder("raw", warehouse)
    with pytest.raises(Busy) as refused:
        with connect(warehouse):
            pass
    message = str(refused.value)
    assert f"pid {other.pid}" in message and "python" in message
    assert "Traceback" not in message and "IOException" not in message


def test_a_reader_outside_the_protocol_makes_a_writer_wait(warehouse: Path,
                                                           start_holder) -> None:
    """``research status`` reads without a hold; a writer waits for DuckDB's lock too."""
    reader = start_holder("read", warehouse, 1.0)
    with pytest.raises(Busy):
        with connect(warehouse):
            pass
    with connect(warehouse, wait=60) as con:
        con.execute("INSERT INTO marks VALUES (3)")
    reader.communicate(timeout=30)


@pytest.mark.parametrize("what", ["connect", "shared", "exclusive"])
def test_a_killed_holder_does_not_leave_the_warehouse_locked(warehouse: Path, start_holder,
                                                             what: str) -> None:
    holder = start_holder(what, warehouse)
    assert [h["pid"] for h in holders(warehouse)] == [holder.pid]
    os.kill(holder.pid, signal.SIGKILL)
    holder.communicate(timeout=30)
    t0 = time.monotonic()
    with connect(warehouse) as con:  # no wait: the kernel dropped the dead holder's locks
        con.execute("INSERT INTO marks VALUES (9)")
    assert time.monotonic() - t0 < 2.0
    stray = holders_dir(warehouse) / f".{holder.pid}.12345.tmp"  # as if killed mid-write
    stray.write_text("{")
    assert holders(warehouse) == []
    assert list(holders_dir(warehouse).iterdir()) == []  # its entry (and stray) removed


# ------------------------------------------------------------------ within one process

def test_holds_nest_within_a_process(warehouse: Path) -> None:
    with hold(warehouse, "exclusive"):
        with hold(warehouse, "shared"), connect(warehouse) as con:  # the outer hold covers
            con.execute("INSERT INTO marks VALUES (4)")
        assert len(holders(warehouse)) == 1
    with hold(warehouse, "shared"):
        with hold(warehouse, "shared"):
            pass
        with pytest.raises(Busy, match="this process reads it under a shared hold"):
            with connect(warehouse):
                pass
    assert holders(warehouse) == []
    with connect(warehouse):  # everything was released
        pass


def test_child_processes_read_under_the_parent_shared_hold(warehouse: Path) -> None:
    """The study's kernels are child processes reading with open_read: no deadlock."""
    with hold(warehouse, "shared"):
        out = subprocess.run(
            [sys.executable, "-c", "import sys; from research.store.warehouse import open_read\n"
             "with open_read(sys.argv[1]) as con: "
             "print(con.execute('SELECT count(*) FROM marks').fetchall()[0][0])",
             str(warehouse)], capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0"


# ------------------------------------------------------------------ not a warehouse

def _truncated_duckdb(path: Path) -> None:
    full = path.with_name("full.duckdb")
    con = duckdb.connect(str(full))
    con.execute("CREATE TABLE t AS SELECT range AS x FROM range(100000)")
    con.close()
    path.write_bytes(full.read_bytes()[:6000])
    full.unlink()


@pytest.mark.parametrize("kind, make, found", [
    ("csv", lambda p: p.write_text("日期,搜索人气\n2026-11-02,100\n", encoding="utf-8"),
     "it reads as text: a CSV or another export?"),
    ("empty", lambda p: p.write_bytes(b""), "found an empty file"),
    ("short", lambda p: p.write_bytes(b"a,b\n"), "it reads as text"),
    ("binary", lambda p: p.write_bytes(bytes(range(256)) * 40), "found a file of another kind"),
    ("truncated", _truncated_duckdb, "a damaged or truncated DuckDB file"),
])
@pytest.mark.parametrize("opener", [connect, open_read])
def test_a_file_that_is_not_a_warehouse_is_a_usage_fault(tmp_path: Path, kind: str, make,
                                                         found: str, opener) -> None:
    path = tmp_path / f"{kind}.duckdb"
    make(path)
    before = path.read_bytes()
    with pytest.raises(UsageFault) as refused:
        with opener(path):
            pass
    message = str(refused.value)
    assert message.startswith(f"{path}: expected a DuckDB warehouse file, found ")
    assert found in message and "--warehouse" in message
    assert exit_code(refused.value) == 2
    assert path.read_bytes() == before  # never overwritten
    if kind in ("csv", "binary"):  # plainly not DuckDB: refused before anything is made
        assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


@pytest.mark.parametrize("opener", [connect, open_read])
def test_a_folder_is_not_a_warehouse(tmp_path: Path, opener) -> None:
    with pytest.raises(UsageFault, match="expected a DuckDB warehouse file, found a folder"):
        with opener(tmp_path):
            pass


def test_a_missing_warehouse_for_reading_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(WarehouseMissing) as missing:
        with open_read(tmp_path / "none.duckdb"):
            pass
    assert isinstance(missing.value, FileNotFoundError)  # callers catching it still do
    assert exit_code(missing.value) == 2 and "research ingest PATH" in str(missing.value)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ permissions

MAKE_PRIVATE = textwrap.dedent("""
    import os, sys
    os.umask(0o022)
    from research.store.warehouse import connect
    with connect(sys.argv[1]) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
""")


@pytest.mark.parametrize("setting, file, folder", [(None, 0o600, 0o700), ("640", 0o640, 0o750)])
def test_a_new_warehouse_is_private_under_umask_022(tmp_path: Path, setting: str | None,
                                                    file: int, folder: int) -> None:
    env = {k: v for k, v in os.environ.items() if k != "RESEARCH_FILE_MODE"}
    if setting:
        env["RESEARCH_FILE_MODE"] = setting
    path = tmp_path / "new" / "sub" / "w.duckdb"
    tmp_path.chmod(0o755)
    out = subprocess.run([sys.executable, "-c", MAKE_PRIVATE, str(path)], env=env,
                         capture_output=True, text=True, timeout=60, cwd=PROJECT_ROOT)
    assert out.returncode == 0, out.stderr

    def mode(p: Path) -> int:
        return stat.S_IMODE(p.stat().st_mode)

    assert mode(path) == file
    assert mode(lock_path(path)) == file
    assert mode(path.parent) == folder and mode(path.parent.parent) == folder
    assert mode(holders_dir(path)) == folder
    assert mode(tmp_path) == 0o755  # a folder that existed keeps its mode
    assert not path.with_name(path.name + ".wal").exists()


def test_an_existing_warehouse_loses_only_the_bits_file_mode_forbids(warehouse: Path) -> None:
    warehouse.chmod(0o644)  # made before warehouses were private
    with connect(warehouse):
        pass
    assert stat.S_IMODE(warehouse.stat().st_mode) == 0o600
    warehouse.chmod(0o400)  # tighter than the default: left as it is
    with open_read(warehouse):
        pass
    with connect(warehouse):
        pass
    assert stat.S_IMODE(warehouse.stat().st_mode) == 0o400


# ------------------------------------------------------------------ a lock that cannot be made

def test_a_foreign_lock_file_is_named_with_its_fix(warehouse: Path) -> None:
    lock_path(warehouse).write_text("not a lock " * 20)
    with pytest.raises(Exception) as refused:
        with connect(warehouse):
            pass
    assert exit_code(refused.value) == 4
    assert str(refused.value) == (
        f"lock file {lock_path(warehouse)} of warehouse {warehouse}: expected the warehouse's "
        f"lock (a small SQLite file), found a file of another kind; delete it (nothing holds a "
        f"lock in it) and run the command again")


def test_a_lock_that_cannot_be_made_refuses_writers_and_lets_readers_read(
        warehouse: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A warehouse in a folder this user may not write to (simulated: root may write
    anywhere): reading goes on under DuckDB's own lock, with a note; writing is refused."""
    import errno

    import research.store.locks as locks

    def refuse(path: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(locks, "ReadWriteLock", refuse)
    with hold(warehouse, "shared"), open_read(warehouse) as con:
        assert con.execute("SELECT count(*) FROM marks").fetchall() == [(0,)]
    assert "reading warehouse" in capsys.readouterr().err
    with pytest.raises(OSError) as refused:
        with connect(warehouse):
            pass
    assert exit_code(refused.value) == 4
    assert str(refused.value).startswith(f"making the lock file {lock_path(warehouse)} of "
                                         f"warehouse {warehouse}: permission denied")


def test_a_waiting_writer_goes_first_and_new_readers_are_told(warehouse: Path,
                                                              start_holder) -> None:
    """SQLite's pending lock: while a writer waits for a study, a new study is refused, and
    its message names both the study holding and the writer waiting."""
    study = start_holder("shared", warehouse)
    writer = subprocess.Popen(
        [sys.executable, "-c", "import sys\nfrom research.store.locks import hold\n"
         "with hold(sys.argv[1], 'exclusive', wait=60, purpose='research ingest'):\n"
         "    print('held', flush=True)\n", str(warehouse)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + 30
        while not any(h.get("waiting") for h in holders(warehouse)):
            assert time.monotonic() < deadline and writer.poll() is None
            time.sleep(0.05)
        with pytest.raises(Busy) as refused:
            with hold(warehouse, "shared"):
                pass
        message = str(refused.value)
        assert f"held by `test holder shared` (pid {study.pid}, shared) since " in message
        assert f", and `research ingest` (pid {writer.pid}) waiting to write to it since " \
            in message and "(a waiting writer goes first)" in message
        study.kill()
        out, err = writer.communicate(timeout=30)
        assert out.strip() == "held" and "waiting up to 60 s to write to it" in err
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.communicate()
    assert holders(warehouse) == []


def test_wait_forever_and_a_bad_wait(warehouse: Path, start_holder,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    start_holder("connect", warehouse, 1.0)
    with connect(warehouse, wait=float("inf")):
        pass
    assert "waiting for as long as it takes to write to it" in capsys.readouterr().err
    with pytest.raises(UsageFault, match="--wait nan: expected a number of seconds, 0 or more"):
        with connect(warehouse, wait=float("nan")):
            pass


@pytest.mark.parametrize("below", ["w.duckdb", "deeper/w.duckdb"])
def test_a_warehouse_path_through_a_file_is_a_usage_fault(tmp_path: Path, below: str) -> None:
    blocker = tmp_path / "export.csv"
    blocker.write_text("a,b\n")
    with pytest.raises(UsageFault, match="expected a warehouse file in a folder") as refused:
        with connect(blocker / below):
            pass
    assert str(refused.value).startswith(f"{blocker / below}: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.csv"]
