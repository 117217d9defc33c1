"""The command line's own guarantees: one line and an exit code per foreseeable fault, and
private files (issue 15)."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

import research.cli as cli
from research.faults import Busy

RESEARCH = [str(Path(sys.executable).parent / "research")]


def _run(args: list[str], *, env: dict[str, str] | None = None,
         umask: int = 0o022, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RESEARCH, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})}, timeout=120,
                          preexec_fn=lambda: os.umask(umask), check=False)


@pytest.fixture()
def keep_umask() -> Iterator[None]:
    """CliRunner runs the group in this process, which sets the umask: put it back."""
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)


def _one_message(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("✗ "), result.stderr
    return lines[0]


def test_a_file_that_is_not_a_warehouse_is_a_usage_fault(tmp_path: Path) -> None:
    export = tmp_path / "keywords.csv"
    export.write_text("日期,搜索词\n2026-11-01,保温杯\n", encoding="utf-8")
    result = _run(["status", "--warehouse", str(export)])
    assert result.returncode == 2
    assert "keywords.csv" in _one_message(result)
    assert export.read_text(encoding="utf-8").startswith("日期")  # untouched


def test_a_missing_warehouse_is_named_with_what_to_run(tmp_path: Path) -> None:
    result = _run(["status", "--warehouse", str(tmp_path / "none.duckdb")])
    assert result.returncode == 2
    assert "research ingest" in _one_message(result)
    assert not (tmp_path / "none.duckdb").exists()


def test_a_bad_file_mode_setting_is_refused_before_anything_runs(tmp_path: Path) -> None:
    result = _run(["status", "--warehouse", str(tmp_path / "w.duckdb")],
                  env={"RESEARCH_FILE_MODE": "999"})
    assert result.returncode == 2
    assert "RESEARCH_FILE_MODE" in _one_message(result)


@pytest.mark.parametrize(("setting", "file", "folder"),
                         [(None, 0o600, 0o700), ("640", 0o640, 0o750)])
def test_ingest_creates_private_files_whatever_the_umask(
        tmp_path: Path, setting: str | None, file: int, folder: int) -> None:
    export = tmp_path / "in" / "keywords.csv"
    export.parent.mkdir()
    export.write_text("日期,类目,搜索词,搜索人气\n2026-11-01,保温杯,保温杯 316,1234\n",
                      encoding="utf-8")
    export.chmod(0o644)  # a raw copy must not keep the source's mode
    warehouse = tmp_path / "store" / "w.duckdb"
    env = {"RESEARCH_FILE_MODE": setting or ""}  # empty: the default
    result = _run(["ingest", str(export), "--warehouse", str(warehouse)], env=env)
    assert result.returncode == 0, result.stderr
    made = [p for p in (tmp_path / "store").rglob("*") if ".incoming" not in p.parts]
    assert warehouse in made and any(p.name.endswith("keywords.csv") for p in made)
    for path in [tmp_path / "store", *made]:
        if path.name.endswith(".holders") or path.parent.name.endswith(".holders"):
            continue  # the lock's bookkeeping holds no business data
        if path.suffix == ".lock":
            continue
        want = folder if path.is_dir() else file
        assert stat.S_IMODE(path.stat().st_mode) == want, f"{path}: {oct(path.stat().st_mode)}"


def test_a_full_disk_is_one_line_with_exit_4(monkeypatch: pytest.MonkeyPatch,
                                             keep_umask: None, tmp_path: Path) -> None:
    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "w.duckdb.wal"))

    monkeypatch.setattr(cli, "summary", full)
    result = CliRunner().invoke(cli.main, ["status", "--warehouse", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 4
    assert "the disk is full" in result.output and "w.duckdb.wal" in result.output
    assert "Traceback" not in result.output


def test_a_busy_warehouse_exits_3(monkeypatch: pytest.MonkeyPatch, keep_umask: None,
                                  tmp_path: Path) -> None:
    def held(*_: object, **__: object) -> None:
        raise Busy("warehouse w.duckdb is busy: held by `research run` (pid 42)")

    monkeypatch.setattr(cli, "summary", held)
    result = CliRunner().invoke(cli.main, ["status", "--warehouse", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 3 and "pid 42" in result.output


def test_a_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch, keep_umask: None,
                                   tmp_path: Path) -> None:
    def bug(*_: object, **__: object) -> None:
        raise KeyError("not foreseeable")

    monkeypatch.setattr(cli, "summary", bug)
    result = CliRunner().invoke(cli.main, ["status", "--warehouse", str(tmp_path / "w.duckdb")])
    assert result.exit_code == 1 and isinstance(result.exception, KeyError)
