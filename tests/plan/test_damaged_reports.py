"""A damaged report folder breaks nothing else: a week whose manifest.json is not JSON, cut
short or of another shape is listed as damaged (path and fix) by ``research plan status``,
refused by approve/reject with one message and exit 1, and skipped with a note by a later
week's plan; a damaged approval.json is named and rewritten from the log. ``--wait`` lets a
decision wait for another process holding the warehouse."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from research.cli import main
from research.faults import Busy, Refused
from research.pages.report import read_approval, render_reports_index
from research.plan import approvals
from research.plan.page import track_plan
from research.store.scope import Scope
from research.store.warehouse import open_read

GOOD = {"category": "保温杯", "week": "2026-W45", "status": "ok", "pages": []}
DAMAGE = {
    "not JSON": "this is not json",
    "truncated": json.dumps(GOOD, ensure_ascii=False)[:25],
    "a list": "[1, 2]",
    "no week": json.dumps({"category": "保温杯", "week": 45}),
    "empty": "",
    "not UTF-8": b"\xff\xfe{\x00".decode("latin-1"),
}


def _week(reports: Path, week: str) -> Path:
    folder = reports / "保温杯" / week
    (folder / "results").mkdir(parents=True)
    (folder / "manifest.json").write_text(
        json.dumps({**GOOD, "week": week}, ensure_ascii=False), encoding="utf-8")
    page = f"<html><body>{approvals.STATUS_START}{approvals.STATUS_END}<p>x</p></body></html>"
    for name in ("plan_summary.html", "index.html"):
        (folder / name).write_text(page, encoding="utf-8")
    return folder


@pytest.fixture
def reports(tmp_path: Path) -> tuple[Path, Path]:
    """W44 approved by the chairman, W45 (to be damaged), W46 draft."""
    root, wh = tmp_path / "reports", tmp_path / "w.duckdb"
    w44 = _week(root, "2026-W44")
    approvals.record(wh, w44, "director", "approve", "王总监")
    approvals.record(wh, w44, "chairman", "approve", "李董")
    _week(root, "2026-W45")
    _week(root, "2026-W46")
    return root, wh


def _damage(root: Path, kind: str) -> Path:
    path = root / "保温杯" / "2026-W45" / "manifest.json"
    if kind == "not UTF-8":
        path.write_bytes(b"\xff\xfe{\x00")
    else:
        path.write_text(DAMAGE[kind], encoding="utf-8")
    return path


def _cli(*args: str) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _log(wh: Path) -> list[tuple]:
    with open_read(wh) as con:
        return con.execute("SELECT report, role, decision FROM approvals ORDER BY id").fetchall()


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_read_manifest_refuses_each_damage_naming_the_file_and_the_fix(
        reports: tuple[Path, Path], kind: str) -> None:
    root, _ = reports
    path = _damage(root, kind)
    with pytest.raises(approvals.DamagedReport) as caught:
        approvals.read_manifest(path.parent)
    text = str(caught.value)
    assert text.startswith(f"{path}: ")
    assert "expected the manifest `research run` writes" in text
    assert "research run <study.yaml> --category 保温杯 --week 2026-W45" in text
    assert isinstance(caught.value, Refused) and caught.value.path == path
    if kind == "truncated":
        assert "cut short" in text


@pytest.mark.parametrize("kind", ["not JSON", "truncated", "a list", "no week"])
def test_plan_status_lists_the_damaged_week_and_the_others(reports: tuple[Path, Path],
                                                           kind: str) -> None:
    root, wh = reports
    path = _damage(root, kind)
    res = _cli("plan", "status", "--warehouse", str(wh), "--reports", str(root))
    assert res.exit_code == 1  # damage found (after listing every week)
    lines = res.output.splitlines()
    assert any(line.startswith("保温杯/2026-W44") and "董事长已批准" in line for line in lines)
    assert any(line.startswith("保温杯/2026-W46") and "草稿" in line for line in lines)
    damaged = [line for line in lines if line.startswith("保温杯/2026-W45")]
    assert len(damaged) == 1 and "损坏 · damaged" in damaged[0] and str(path) in damaged[0]
    assert "research run" in damaged[0]
    assert "1 of 3 study week(s)" in res.output and "Traceback" not in res.output
    listed = approvals.list_plans(wh, root).set_index("report")
    assert listed.loc["保温杯/2026-W45", "code"] == "damaged"
    assert listed.loc["保温杯/2026-W44", "code"] == "chairman"
    # --refresh rewrites the whole weeks and leaves the damaged one alone
    res = _cli("plan", "status", "--refresh", "--warehouse", str(wh), "--reports", str(root))
    assert res.exit_code == 1 and "refreshed" in res.output
    index = (root / "index.html").read_text(encoding="utf-8")
    assert "2026-W45" in index
    assert ("manifest.json 损坏 · damaged" in index) == (kind != "no week")  # JSON objects shown


@pytest.mark.parametrize("verb", ["approve", "reject"])
@pytest.mark.parametrize("kind", ["not JSON", "truncated", "a list"])
def test_approve_and_reject_refuse_a_damaged_week_and_record_nothing(
        reports: tuple[Path, Path], verb: str, kind: str) -> None:
    root, wh = reports
    path = _damage(root, kind)
    before = _log(wh)
    res = _cli(verb, "保温杯/2026-W45", "--role", "director", "--name", "王总监",
               "--comment", "x", "--warehouse", str(wh), "--reports", str(root))
    assert res.exit_code == 1
    assert res.output.count("\n") == 1 and res.output.startswith(f"Error: {path}: ")
    assert "research run" in res.output
    assert _log(wh) == before
    assert not (path.parent / "approval.json").exists()
    # the other weeks are still signed as usual
    res = _cli("approve", "保温杯/2026-W46", "--role", "director", "--name", "王总监",
               "--warehouse", str(wh), "--reports", str(root))
    assert res.exit_code == 0 and "总监已审核" in res.output
    assert "damaged" in (root / "index.html").read_text(encoding="utf-8")


def _scope(week: str, start: str, end: str) -> Scope:
    return Scope("保温杯", week, start, end, "given", "我店", "given", ("甲店",), "named", "CNY",
                 "2026-01-05", end)


def test_a_later_plan_skips_the_damaged_week_with_a_note(reports: tuple[Path, Path]) -> None:
    root, wh = reports
    path = _damage(root, "truncated")
    assert [e.path for e in approvals.damaged_weeks(root, "保温杯", "2026-W47")] == [path]
    assert approvals.damaged_weeks(root, "保温杯", "2026-W45") == []  # not before W45
    assert approvals.damaged_weeks(root, "焖烧杯", "2026-W47") == []
    sales = pd.DataFrame({"date": pd.to_datetime(["2026-11-16"]), "units": [1.0],
                          "revenue": [10.0]})
    track = track_plan(wh, root, _scope("2026-W47", "2026-11-16", "2026-11-22"), sales, None,
                       None)
    assert track.plan_report == "保温杯/2026-W44"  # the approved plan is still found
    notes = [line for line in track.lines if "Skipped 保温杯/2026-W45" in line]
    assert len(notes) == 1 and str(path) in notes[0]
    # and with no approved plan at all, the note is still given
    (root / "保温杯" / "2026-W44" / "plan_summary.html").write_text("edited", encoding="utf-8")
    track = track_plan(wh, root, _scope("2026-W47", "2026-11-16", "2026-11-22"), sales, None,
                       None)
    assert track.plan_report == ""
    assert any("Skipped 保温杯/2026-W45" in line for line in track.lines)


@pytest.mark.parametrize("text", ["{not json", "[]", '{"status": 5}', '{"status": "x", '
                                  '"signatures": 5}'])
def test_a_damaged_approval_json_is_named_and_rewritten(reports: tuple[Path, Path],
                                                        text: str) -> None:
    root, wh = reports
    w44, w46 = root / "保温杯" / "2026-W44", root / "保温杯" / "2026-W46"
    for week in (w44, w46):
        (week / "approval.json").write_text(text, encoding="utf-8")
    assert read_approval(w44)["status"].startswith("approval.json unreadable")
    render_reports_index(root)  # shown as unreadable, not an error
    res = _cli("plan", "status", "--warehouse", str(wh), "--reports", str(root))
    assert res.exit_code == 0
    assert "董事长已批准" in res.output  # the status comes from the log
    assert res.output.count("note: ") == 2 and "--refresh" in res.output
    res = _cli("approve", "保温杯/2026-W46", "--role", "director", "--name", "王总监",
               "--warehouse", str(wh), "--reports", str(root))
    assert res.exit_code == 0
    assert json.loads((w46 / "approval.json").read_text(encoding="utf-8"))["code"] == "director"
    res = _cli("plan", "status", "--refresh", "--warehouse", str(wh), "--reports", str(root))
    assert res.exit_code == 0 and "note: " not in res.output
    assert json.loads((w44 / "approval.json").read_text(encoding="utf-8"))["code"] == "chairman"


# --------------------------------------------------------------------------- --wait

HOLDER = textwrap.dedent("""
    import sys, time
    from research.store.warehouse import connect
    with connect(sys.argv[1]):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def _hold(wh: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(wh), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_approve_refuses_at_once_when_busy_and_waits_with_wait(reports: tuple[Path, Path]
                                                               ) -> None:
    root, wh = reports
    before = _log(wh)
    proc = _hold(wh, 4.0)
    held_at = time.monotonic()
    try:
        t0 = time.monotonic()
        res = _cli("approve", "保温杯/2026-W46", "--role", "director", "--name", "王总监",
                   "--warehouse", str(wh), "--reports", str(root))
        assert res.exit_code == 3, res.output
        assert time.monotonic() - t0 < 3.0
        assert str(wh) in res.output and "Traceback" not in res.output
        res = _cli("plan", "status", "--warehouse", str(wh), "--reports", str(root))
        assert res.exit_code == 3 and "busy" in res.output and "Traceback" not in res.output
        with pytest.raises(Busy):
            approvals.record(wh, root / "保温杯" / "2026-W46", "director", "reject", "王总监",
                             "x")
        res = _cli("reject", "保温杯/2026-W46", "--role", "director", "--name", "王总监",
                   "--comment", "先等等", "--wait", "30", "--warehouse", str(wh),
                   "--reports", str(root))
        assert res.exit_code == 0, res.output
        assert "已驳回" in res.output
        assert time.monotonic() - held_at > 3.5  # it waited for the holder to let go
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.wait()
    assert _log(wh) == [*before, ("保温杯/2026-W46", "director", "reject")]
