"""The study runner: definitions, parameter validation before running, execution, failures,
atomic re-runs. Mechanics are tested with the small notebooks in tests/study/notebooks/ on a tiny
warehouse built here; the real weekly study on the sample market is slow-marked."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from research.config import PROJECT_ROOT
from research.store.warehouse import connect, log_ingest, store
from research.study import definition as st
from research.study import runner
from research.study.cli import run_command

HERE = Path(__file__).resolve().parent
NB = HERE / "notebooks"
XSS = "<script>alert(1)</script>"
SHOP = "我们的店<b>"


def make_tiny_warehouse(path: Path) -> Path:
    """Three keywords daily 2026-11-02 .. 2026-11-25 (last complete week 2026-W47) and four
    items, one titled ``<script>alert(1)</script>``; two ingest-log entries."""
    days = pd.date_range("2026-11-02", "2026-11-25", freq="D")
    keywords = pd.DataFrame([
        {"date": d, "category": "保温杯", "keyword": k, "search_popularity": float(p + i)}
        for i, d in enumerate(days) for k, p in (("保温杯", 1000), ("儿童保温杯", 400),
                                                 ("<i>杯</i>", 50))])
    items = pd.DataFrame({
        "snapshot_date": pd.to_datetime(["2026-11-22"] * 4), "item_id": ["1", "2", "3", "4"],
        "shop": [SHOP, "店A", "店B", "店A"], "category": ["保温杯"] * 4,
        "title": [XSS, "不锈钢保温杯 500ml", "儿童保温杯", "<img src=x onerror=alert(2)>"],
        "price": [59.0, 79.0, 39.9, 99.0], "sales_30d": [900, 500, 300, 100]})
    with connect(path) as con:
        for i, (table, frame) in enumerate((("keywords", keywords), ("items", items)), 1):
            result = store(con, table, frame, ingest_id=i)
            log_ingest(con, file_name=f"{table}_export.csv", content_hash=f"{i:064x}",
                       result=result, raw_path=None, ingest_id=i)
    return path


@pytest.fixture(scope="module")
def tiny_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_warehouse(tmp_path_factory.mktemp("tiny") / "tiny.duckdb")


def write_study(folder: Path, notebooks: list[dict], **top: object) -> Path:
    """A study YAML in ``folder`` whose notebooks are the test notebooks."""
    entries = []
    for entry in notebooks:
        entry = dict(entry)
        entry.setdefault("path", str(NB / f"{entry['name']}.ipynb"))
        entries.append(entry)
    definition = {"name": "test", "title": "测试研究 · Test study", "category": "保温杯",
                  "shop": SHOP, "competitors": [], "top_n": 3,
                  "shared": {"warehouse": "", "week": "", "currency": "CNY"},
                  "notebooks": entries, **top}
    path = folder / "study.yaml"
    path.write_text(yaml.safe_dump(definition, allow_unicode=True), encoding="utf-8")
    return path


# ------------------------------------------------------------------ definitions and validation

def test_load_study_defaults_paths_and_after_all(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({
        "name": "weekly", "category": "保温杯", "competitors": "店A，店B",
        "notebooks": [{"name": "keyword_trends"}, "price_bands",
                      {"name": "plan_summary", "after": "all"}]}, allow_unicode=True),
        encoding="utf-8")
    study = st.load_study(path)
    assert [nb.name for nb in study.notebooks] == ["keyword_trends", "price_bands", "plan_summary"]
    assert study.notebooks[0].path.name == "keyword_trends.ipynb"
    assert study.notebooks[0].path.parent.name == "notebooks"
    assert study.notebooks[2].after == ("keyword_trends", "price_bands")
    assert study.shared["competitors"] == ["店A", "店B"]
    assert study.shared["currency"] == ""  # empty: the data's currency


def test_unknown_top_level_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: x\ncategroy: 保温杯\nnotebooks: [a]\n", encoding="utf-8")
    with pytest.raises(st.StudyError, match="categroy"):
        st.load_study(path)


def test_notebook_parameters_reads_comments_with_equals(tmp_path: Path) -> None:
    params = st.notebook_parameters(NB / "ok_page.ipynb")
    assert params["warehouse"]["inferred_type_name"] == "str"
    assert params["week"]["help"].startswith("ISO week")
    assert params["competitors"]["inferred_type_name"] == "list"
    assert params["scope"]["inferred_type_name"] == "dict" and params["scope"]["default"] == "{}"
    # papermill.inspect_notebook drops these two: their comments contain a second "="
    assert params["min_rows"]["inferred_type_name"] == "int"
    assert params["min_rows"]["help"].endswith("1 = every keyword")
    assert params["share_floor"]["default"] == "0.0"
    assert "output_dir" in params


def test_validate_resolves_week_types_and_passes_only_declared(tmp_path: Path,
                                                               tiny_warehouse: Path) -> None:
    path = write_study(tmp_path, [{"name": "ok_page"}, {"name": "failing_page"}])
    study = st.apply_overrides(st.load_study(path),
                               {"warehouse": str(tiny_warehouse), "competitors": "店A,店B"},
                               ["ok_page.min_rows=3", "share_floor=0.25"])
    run = st.validate(study)
    # data ends Wednesday 2026-11-25, so the last complete ISO week ends Sunday 2026-11-22
    assert run.week == "2026-W47"
    assert "2026-11-25" in run.week_source
    ok = run.parameters["ok_page"]
    assert ok["min_rows"] == 3 and isinstance(ok["min_rows"], int)
    assert ok["share_floor"] == 0.25
    assert ok["competitors"] == ["店A", "店B"]
    assert ok["week"] == "2026-W47" and ok["warehouse"] == str(tiny_warehouse.resolve())
    assert "output_dir" not in ok  # set at run time to the build folder
    assert "min_rows" not in run.parameters["failing_page"]


@pytest.mark.parametrize("params, nb_params, message", [
    (["ok_page.nonsense=1"], {}, "notebook ok_page: unknown parameter 'nonsense'"),
    (["nonsense=1"], {}, "unknown parameter 'nonsense': no notebook"),
    (["ok_page.min_rows=abc"], {}, "notebook ok_page: parameter 'min_rows' expects int, got 'abc'"),
    ([], {"min_rows": "many"}, "notebook ok_page: parameter 'min_rows' expects int, got str"),
    ([], {"share_floor": True}, "parameter 'share_floor' expects float, got bool"),
    (["week=2026-W60"], {}, "2026 has no ISO week 60"),
    (["week=2026-W48"], {}, "week 2026-W48 ends after the data ends: category '保温杯' has "
                             "data 2026-11-02 – 2026-11-25"),
    (["nosuch.x=1"], {}, "the study has no notebook 'nosuch'"),
    (["ok_page.week=2026-W46"], {}, "notebook ok_page: 'week' is part of the study's scope"),
    (["top_n=0"], {}, "top_n 0 必须 ≥ 1 · must be at least 1"),
    (["top_n=many"], {}, "parameter 'top_n' expects int, got 'many'"),
    (["competitors=店C"], {}, "未知竞品 '店C' — did you mean 店A / 店B?"),
])
def test_bad_parameters_are_refused_naming_notebook_and_parameter(
        tmp_path: Path, tiny_warehouse: Path, params: list[str], nb_params: dict,
        message: str) -> None:
    path = write_study(tmp_path, [{"name": "ok_page", "parameters": nb_params},
                                  {"name": "failing_page"}])
    with pytest.raises(st.StudyError) as info:
        study = st.apply_overrides(st.load_study(path), {"warehouse": str(tiny_warehouse)},
                                   params)
        st.validate(study)
    assert message in str(info.value)


def test_structural_problems_are_all_listed(tmp_path: Path) -> None:
    path = write_study(tmp_path, [
        {"name": "ok_page", "after": ["xss_page"]},
        {"name": "xss_page", "after": ["ok_page"]},
        {"name": "missing_one", "path": str(tmp_path / "missing_one.ipynb"),
         "after": ["nobody"]}])
    study = st.apply_overrides(st.load_study(path), {"warehouse": str(tmp_path / "no.duckdb")})
    with pytest.raises(st.StudyError) as info:
        st.validate(study)
    text = str(info.value)
    assert f"notebook missing_one: file {tmp_path / 'missing_one.ipynb'} does not exist" in text
    assert "after: 'nobody' is not in the study" in text
    assert "ok_page, xss_page depend on each other in a cycle" in text
    assert "no.duckdb does not exist" in text


def test_cli_refuses_before_anything_runs(tmp_path: Path, tiny_warehouse: Path) -> None:
    from click.testing import CliRunner

    path = write_study(tmp_path, [{"name": "ok_page"}])
    reports = tmp_path / "reports"
    result = CliRunner().invoke(run_command, [
        str(path), "--warehouse", str(tiny_warehouse), "--reports", str(reports),
        "-p", "ok_page.min_rows=lots"])
    assert result.exit_code == 2
    assert "ok_page" in result.output and "min_rows" in result.output
    assert not reports.exists()


@pytest.mark.parametrize("args, expected", [
    (["--category", "保温瓶"], ["未知类目 '保温瓶' — did you mean 保温杯?", "warehouse holds categories"]),
    (["--competitors", "杯乐多旗舰"], ["未知竞品 '杯乐多旗舰' — did you mean 杯乐多旗舰店"]),
    (["--shop", "暖杯记旗舰"], ["未知店铺 '暖杯记旗舰' — did you mean 暖杯记旗舰店"]),
    (["--week", "2023-W10"], ["week 2023-W10 ends before the data starts",
                              "has data 2024-09-02 – 2026-11-22"]),
    (["-p", "price_bands.snapshot=2026-13-45"],
     ["notebook price_bands: parameter 'snapshot' must be empty or a date YYYY-MM-DD: "
      "'2026-13-45' is no date"]),
    (["-p", "price_bands.edges=[50, 20]"],
     ["notebook price_bands: parameter 'edges' must be strictly increasing numbers: 50 then 20"]),
    (["-p", "scope={}"], ["parameter 'scope' is resolved by `research run`"]),
])
def test_weekly_study_refuses_a_bad_scope_before_anything_runs(
        sample_warehouse: Path, tmp_path: Path, args: list[str], expected: list[str]) -> None:
    """The issue's bad scopes: exit 2, the nearest valid names printed, no report written."""
    from click.testing import CliRunner

    reports = tmp_path / "reports"
    result = CliRunner().invoke(run_command, [
        str(PROJECT_ROOT / "templates" / "weekly.yaml"), "--warehouse", str(sample_warehouse),
        "--reports", str(reports), "--no-progress", *args])
    assert result.exit_code == 2, result.output
    for text in expected:
        assert text in result.output
    assert not reports.exists()


def test_validate_resolves_the_scope_once_and_passes_it(tmp_path: Path,
                                                        tiny_warehouse: Path) -> None:
    path = write_study(tmp_path, [{"name": "ok_page"}, {"name": "failing_page"}])
    run = st.validate(st.apply_overrides(st.load_study(path),
                                         {"warehouse": str(tiny_warehouse)}))
    # no competitors named: top 3 by revenue on the 2026-11-22 snapshot, our shop left out
    assert run.scope.competitors == ("店A", "店B")
    assert run.scope.shop == SHOP and run.scope.currency == "CNY"
    for name in ("ok_page", "failing_page"):
        params = run.parameters[name]
        assert params["scope"] == run.scope.to_dict()
        assert params["competitors"] == ["店A", "店B"] and params["currency"] == "CNY"
        assert params["week"] == "2026-W47" and params["shop"] == SHOP
    assert run.shared["competitors"] == ["店A", "店B"]


def test_swap_into_place_replaces_whole_folder(tmp_path: Path) -> None:
    target, build = tmp_path / "2026-W47", tmp_path / ".2026-W47.building-1"
    target.mkdir()
    (target / "old.html").write_text("old")
    build.mkdir()
    (build / "new.html").write_text("new")
    runner.swap_into_place(build, target)
    assert sorted(p.name for p in target.iterdir()) == ["new.html"]
    assert not build.exists()
    fresh = tmp_path / ".2026-W48.building-1"
    fresh.mkdir()
    runner.swap_into_place(fresh, tmp_path / "2026-W48")
    assert (tmp_path / "2026-W48").is_dir() and not fresh.exists()


def test_interrupted_run_keeps_previous_report(tmp_path: Path, tiny_warehouse: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_study(tmp_path, [{"name": "ok_page"}])
    run = st.validate(st.apply_overrides(st.load_study(path),
                                          {"warehouse": str(tiny_warehouse)}))
    week_dir = tmp_path / "reports" / "保温杯" / "2026-W47"
    week_dir.mkdir(parents=True)
    (week_dir / "index.html").write_text("the good report")

    def half_written(run, build, context, jobs, progress):
        (build / "ok_page.html").write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "_execute_all", half_written)
    with pytest.raises(KeyboardInterrupt):
        runner.run_study(run, tmp_path / "reports", jobs=1, progress=False)
    assert (week_dir / "index.html").read_text() == "the good report"
    assert sorted(p.name for p in week_dir.parent.iterdir()) == ["2026-W47"]


def test_code_version_is_git_or_package() -> None:
    version = runner.code_version()
    assert version and (version.startswith("research") or " " not in version)


# ------------------------------------------------------------------ whole runs (kernels)

@pytest.fixture(scope="module")
def failed_run(tmp_path_factory: pytest.TempPathFactory, tiny_warehouse: Path) -> dict:
    """One CLI run: ok_page, failing_page, xss_page (after ok_page), 2 at once."""
    from click.testing import CliRunner

    folder = tmp_path_factory.mktemp("study")
    path = write_study(folder, [{"name": "ok_page", "parameters": {"min_rows": 2}},
                                {"name": "failing_page"},
                                {"name": "xss_page", "after": ["ok_page"]}])
    reports = folder / "reports"
    result = CliRunner().invoke(run_command, [
        str(path), "--warehouse", str(tiny_warehouse), "--reports", str(reports),
        "--competitors", "店A,店B", "-p", "share_floor=0.5", "--no-progress"])
    week_dir = reports / "保温杯" / "2026-W47"
    return {"result": result, "reports": reports, "week": week_dir, "study": path,
            "manifest": json.loads((week_dir / "manifest.json").read_text(encoding="utf-8"))}


@pytest.mark.slow
def test_failing_notebook_does_not_stop_the_study(failed_run: dict) -> None:
    result, m = failed_run["result"], failed_run["manifest"]
    assert result.exit_code == 1, result.output
    assert "FAILED failing_page — ValueError: no usable rows for week 2026-W47" in result.output
    assert f"Report: {failed_run['week'] / 'index.html'}" in result.output
    status = {p["name"]: p["status"] for p in m["pages"]}
    assert status == {"ok_page": "ok", "failing_page": "failed", "xss_page": "ok"}
    assert m["status"] == "failed"
    err = next(p for p in m["pages"] if p["name"] == "failing_page")["error"]
    assert err["ename"] == "ValueError" and "raise ValueError" in err["source"]
    # the page after ok_page read the result ok_page wrote into the shared results/
    xss = (failed_run["week"] / "xss_page.html").read_text(encoding="utf-8")
    assert "written by the page this one runs after): 3" in xss
    page = (failed_run["week"] / "failing_page.html").read_text(encoding="utf-8")
    assert "This page did not finish" in page and "no usable rows for week 2026-W47" in page
    assert 'id="failed-step"' in page and 'raise ValueError(f"no usable rows' in page
    assert "this line ran" in page and "never printed" not in page
    index = (failed_run["week"] / "index.html").read_text(encoding="utf-8")
    assert index.count('class="badge badge-failed"') == 2  # the study and the failing page
    top = (failed_run["reports"] / "index.html").read_text(encoding="utf-8")
    assert "2026-W47" in top and "failed: failing_page" in top


@pytest.mark.slow
def test_manifest_and_notebooks_carry_parameters_provenance_version(failed_run: dict) -> None:
    import nbformat

    m = failed_run["manifest"]
    assert m["week"] == "2026-W47" and m["week_start"] == "2026-11-16"
    assert [f["content_hash"] for f in m["provenance"]] == [f"{1:064x}", f"{2:064x}"]
    assert re.fullmatch(r"[0-9a-f]{7,40}(-dirty)?|research .+", m["code_version"])
    ok = next(p for p in m["pages"] if p["name"] == "ok_page")
    assert ok["parameters"]["min_rows"] == 2 and ok["parameters"]["share_floor"] == 0.5
    assert ok["parameters"]["competitors"] == ["店A", "店B"]
    assert ok["parameters"]["output_dir"] == str(failed_run["week"])
    assert m["scope"]["competitors"] == ["店A", "店B"] and m["scope"]["shop"] == SHOP
    assert m["scope"]["competitor_rule"] == "指定竞品（2家） · named competitors (2)"
    assert ok["parameters"]["scope"] == m["scope"]
    for page in ("index.html", "ok_page.html"):
        html = (failed_run["week"] / page).read_text(encoding="utf-8")
        assert "竞品 · Competitors: <strong>店A、店B</strong>" in html, page
        assert "named competitors (2)" in html, page
    assert set(ok["timings"]) == {"kernel_start_s", "execution_s", "render_s", "total_s"}
    assert ok["summary"] == f"3 keywords for {SHOP} in 2026-W47"
    assert {r["name"]: r["rows"] for r in m["results"]} == {"ok_counts": 3, "titles": 4}
    nb = nbformat.read(failed_run["week"] / "notebooks" / "ok_page.ipynb", as_version=4)
    meta = nb.metadata["research"]
    assert meta["page"]["parameters"]["min_rows"] == 2
    assert meta["provenance"][0]["file_name"] == "keywords_export.csv"
    assert meta["code_version"] == m["code_version"]
    html = (failed_run["week"] / "ok_page.html").read_text(encoding="utf-8")
    assert f"{1:064x}"[:16] in html and m["code_version"] in html


@pytest.mark.slow
def test_script_titles_are_escaped_through_the_whole_study(failed_run: dict) -> None:
    reports = failed_run["reports"]
    pages = list(reports.rglob("*.html"))
    assert len(pages) == 5  # three pages, the week index, the top index
    for path in pages:
        text = path.read_text(encoding="utf-8")
        assert "<script" not in text.lower(), path  # no script at all, from data or template
        assert "<img src=x" not in text, path
        assert "Content-Security-Policy" in text
    xss = (failed_run["week"] / "xss_page.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in xss
    assert "&lt;img src=x onerror=alert(2)&gt;" in xss
    index = (failed_run["week"] / "index.html").read_text(encoding="utf-8")
    assert "Top title &lt;script&gt;alert(1)&lt;/script&gt;" in index  # the page's summary
    assert "我们的店&lt;b&gt;" in index  # the shop, from the parameters and summaries


@pytest.mark.slow
def test_rerun_replaces_the_week_atomically(failed_run: dict, tiny_warehouse: Path) -> None:
    from click.testing import CliRunner

    again = failed_run["study"].parent / "again"
    again.mkdir()
    path = write_study(again, [{"name": "ok_page"}])
    result = CliRunner().invoke(run_command, [
        str(path), "--warehouse", str(tiny_warehouse), "--reports",
        str(failed_run["reports"]), "--week", "2026-W47", "--sequential", "--no-progress"])
    assert result.exit_code == 0, result.output
    week = failed_run["week"]
    assert sorted(p.name for p in week.glob("*.html")) == ["index.html", "ok_page.html"]
    assert json.loads((week / "manifest.json").read_text(encoding="utf-8"))["status"] == "ok"
    assert [p.name for p in week.parent.iterdir()] == ["2026-W47"]  # no build folders left
    assert not (week / "results" / "titles.csv").exists()
    top = (failed_run["reports"] / "index.html").read_text(encoding="utf-8")
    assert "failed: failing_page" not in top and "badge-ok" in top


@pytest.mark.slow
def test_weekly_study_on_the_sample_market(sample_warehouse: Path, truth: dict,
                                           tmp_path: Path) -> None:
    """templates/weekly.yaml on the sample market (notebooks not written yet are left out)."""
    from dataclasses import replace

    study = st.load_study(PROJECT_ROOT / "templates" / "weekly.yaml")
    present = [nb for nb in study.notebooks if nb.path.exists()]
    names = {nb.name for nb in present}
    present = [replace(nb, after=tuple(a for a in nb.after if a in names)) for nb in present]
    assert {"keyword_trends", "price_bands"} <= names
    study = replace(study, notebooks=tuple(present))
    run = st.validate(st.apply_overrides(study, {"warehouse": str(sample_warehouse)}))
    assert run.week == "2026-W47"  # the sample ends Sunday 2026-11-22
    manifest = runner.run_study(run, tmp_path / "reports", jobs=2, progress=False)
    failed = {p["name"]: p["error"]["summary"] for p in manifest["pages"] if p["status"] != "ok"}
    assert failed == {}
    week = Path(manifest["index"]).parent
    assert [f["content_hash"] for f in manifest["provenance"]]
    charts = 0
    for page in manifest["pages"]:
        html = (week / page["html"]).read_text(encoding="utf-8")
        assert "<script" not in html.lower(), page["name"]
        assert re.search(r'(?:src|href)="(?:https?:)?//', html) is None, page["name"]
        charts += "data:image/png;base64," in html
    assert charts >= len(manifest["pages"]) // 2
    assert manifest["results"], "no result tables written"
    # one scope: every page that declares it got the manifest's, and names its competitors
    scope = manifest["scope"]
    assert scope["shop"] == truth["our_shop"] and len(scope["competitors"]) == 5
    for page in manifest["pages"]:
        if "scope" in run.declared[page["name"]]:
            assert page["parameters"]["scope"] == scope, page["name"]
        if "competitors" in run.declared[page["name"]]:
            assert page["parameters"]["competitors"] == scope["competitors"], page["name"]
        html = (week / page["html"]).read_text(encoding="utf-8")
        assert "、".join(scope["competitors"]) in html, page["name"]


# ------------------------------------------------------------------ kernels on Unix sockets

@pytest.mark.skipif(sys.platform == "win32", reason="ZeroMQ has no ipc transport on Windows")
def test_ipc_kernel_managers_get_private_short_socket_folders_removed_at_cleanup(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    import stat
    import tempfile

    from research.study.kernels import SOCKET_PATH_LIMIT, ipc_kernel_manager

    long_tmp = tmp_path / ("t" * 100)  # a $TMPDIR too long for socket paths is not used
    long_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(long_tmp))
    cls = ipc_kernel_manager()
    assert cls is ipc_kernel_manager()
    a, b = cls(kernel_name="python3"), cls(kernel_name="python3")
    assert a.transport == b.transport == "ipc"
    folder_a, folder_b = Path(a.ip).parent, Path(b.ip).parent
    assert folder_a != folder_b and folder_a.is_dir() and folder_b.is_dir()
    assert long_tmp not in folder_a.parents
    assert stat.S_IMODE(folder_a.stat().st_mode) == 0o700
    a.connection_file = str(tmp_path / "a.json")
    a.write_connection_file()
    info = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert info["transport"] == "ipc" and info["ip"] == a.ip
    sockets = [f"{a.ip}-{info[k]}" for k in ("shell_port", "iopub_port", "stdin_port",
                                              "control_port", "hb_port")]
    assert len(set(sockets)) == 5
    assert all(len(os.fsencode(s)) < SOCKET_PATH_LIMIT for s in sockets)
    asyncio.run(a.cleanup_resources())
    assert not folder_a.exists() and not (tmp_path / "a.json").exists()
    assert folder_b.is_dir()  # another kernel's folder is left alone
    asyncio.run(b.cleanup_resources())
    assert not folder_b.exists()


def test_runner_starts_every_kernel_on_ipc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    import papermill

    from research.study.kernels import ipc_kernel_manager

    seen: list[dict] = []

    def fake_execute(*args: object, **kwargs: object) -> None:
        seen.append(kwargs)
        raise RuntimeError("kernel not started in this test")

    monkeypatch.setattr(papermill, "execute_notebook", fake_execute)
    task = {"name": "ok_page", "path": str(NB / "ok_page.ipynb"), "build": str(tmp_path),
            "parameters": {"min_rows": 2}, "after": [],
            "context": {"output_dir": str(tmp_path)}}
    page = runner.run_page(task)
    assert page["status"] == "failed" and "kernel not started" in page["error"]["summary"]
    assert len(seen) == 1 and seen[0]["kernel_manager_class"] is ipc_kernel_manager()


@pytest.mark.slow
def test_two_studies_at_once_both_succeed_without_tcp_kernels(tmp_path: Path,
                                                             tiny_warehouse: Path) -> None:
    """Two ``research run`` processes, two kernels each, at the same time: every kernel
    starts (no port taken by another between being picked and being bound) and none runs
    over TCP (whose kernels print a warning into the run's output)."""
    import shutil
    import subprocess
    import tempfile

    # a private, short $TMPDIR for both runs and their kernels, to see what they leave behind
    tmp = Path(tempfile.mkdtemp(prefix="t-", dir="/tmp" if os.path.isdir("/tmp") else None))
    env = {**os.environ, "TMPDIR": str(tmp)}
    procs = []
    for label in ("one", "two"):
        folder = tmp_path / label
        folder.mkdir()
        path = write_study(folder, [{"name": "ok_page"}, {"name": "xss_page"}])
        procs.append(subprocess.Popen(
            [sys.executable, "-c", "from research.cli import main; main()", "run", str(path),
             "--warehouse", str(tiny_warehouse), "--reports", str(folder / "reports"),
             "--no-progress"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=folder, env=env))
    try:
        outputs = [p.communicate(timeout=600)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for label, proc, out in zip(("one", "two"), procs, outputs, strict=True):
        assert proc.returncode == 0, out
        assert "without encryption" not in out and "Address already in use" not in out, out
        manifest = json.loads((tmp_path / label / "reports" / "保温杯" / "2026-W47" /
                               "manifest.json").read_text(encoding="utf-8"))
        assert [p["status"] for p in manifest["pages"]] == ["ok", "ok"]
    leftovers = list(tmp.glob("rk-*"))
    shutil.rmtree(tmp, ignore_errors=True)
    assert leftovers == []  # every kernel's socket folder was removed


# ------------------------------------------------------------------ the warehouse hold

HOLD_WRITER = ("import sys, time\n"
               "from research.store.warehouse import connect\n"
               "with connect(sys.argv[1]):\n"
               "    print('held', flush=True)\n"
               "    time.sleep(float(sys.argv[2]))\n")


def _start_writer(warehouse: Path, seconds: float):
    import subprocess

    proc = subprocess.Popen([sys.executable, "-c", HOLD_WRITER, str(warehouse), str(seconds)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=PROJECT_ROOT)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held", \
        proc.communicate()
    return proc


def test_run_while_a_writer_holds_the_warehouse_exits_3_and_writes_nothing(
        tmp_path: Path) -> None:
    from click.testing import CliRunner

    warehouse = make_tiny_warehouse(tmp_path / "w.duckdb")
    path = write_study(tmp_path, [{"name": "ok_page"}])
    reports = tmp_path / "reports"
    writer = _start_writer(warehouse, 120)
    try:
        result = CliRunner().invoke(run_command, [
            str(path), "--warehouse", str(warehouse), "--reports", str(reports),
            "--no-progress"])
    finally:
        writer.kill()
        writer.communicate()
    assert result.exit_code == 3, result.output
    assert f"warehouse {warehouse} is busy: cannot read it while it is held by" in result.output
    assert f"pid {writer.pid}, exclusive" in result.output and "--wait SECONDS" in result.output
    assert "Traceback" not in result.output
    assert not reports.exists()


@pytest.mark.parametrize("content, found", [
    ("日期,搜索人气\n2026-11-02,100\n", "it reads as text: a CSV or another export?"),
    ("", "found an empty file"),
])
def test_run_with_a_file_that_is_not_a_warehouse_exits_2(tmp_path: Path, content: str,
                                                         found: str) -> None:
    from click.testing import CliRunner

    csv = tmp_path / "keywords.csv"
    csv.write_text(content, encoding="utf-8")
    path = write_study(tmp_path, [{"name": "ok_page"}])
    result = CliRunner().invoke(run_command, [str(path), "--warehouse", str(csv),
                                              "--reports", str(tmp_path / "reports")])
    assert result.exit_code == 2, result.output
    assert f"{csv}: expected a DuckDB warehouse file" in result.output and found in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keywords.csv", "study.yaml"]


@pytest.mark.slow
def test_run_with_wait_starts_once_the_writer_finishes(tmp_path: Path) -> None:
    from click.testing import CliRunner

    warehouse = make_tiny_warehouse(tmp_path / "w.duckdb")
    path = write_study(tmp_path, [{"name": "ok_page"}])
    writer = _start_writer(warehouse, 1.5)
    try:
        result = CliRunner().invoke(run_command, [
            str(path), "--warehouse", str(warehouse), "--reports", str(tmp_path / "reports"),
            "--no-progress", "--wait", "120"])
        writer_out, _ = writer.communicate(timeout=60)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert result.exit_code == 0, result.output
    assert "waiting up to 120 s to read it" in result.output
    assert writer.returncode == 0


@pytest.mark.slow
def test_an_import_during_a_run_waits_and_the_manifest_lists_what_the_pages_read(
        tmp_path: Path) -> None:
    """Two pages, one after the other, each writing the ingest-log ids and keyword rows it
    read. While the first is running, ``research ingest`` is refused at once (exit 3) naming
    the run; one given ``--wait`` commits only after the run: both pages and the manifest's
    provenance saw exactly the two imports of before the run, and the third lands after."""
    import subprocess
    import time

    from research.faults import Busy
    from research.store.warehouse import open_read

    warehouse = make_tiny_warehouse(tmp_path / "w.duckdb")
    with connect(warehouse) as con:  # the tiny warehouse logged ids 1 and 2 by hand
        con.execute("SELECT nextval('ingest_id_seq'), nextval('ingest_id_seq')").fetchall()
    export = tmp_path / "late_keywords.csv"
    export.write_text("日期,类目,搜索词,搜索人气\n2026-11-26,保温杯,保温杯,1\n"
                      "2026-11-26,保温杯,新词,2\n", encoding="utf-8")
    page = str(NB / "provenance_page.ipynb")
    path = write_study(tmp_path, [
        {"name": "first", "path": page, "parameters": {"label": "first", "pause": 3.0}},
        {"name": "second", "path": page, "parameters": {"label": "second"},
         "after": ["first"]}])
    reports = tmp_path / "reports"
    week_dir = reports / "保温杯" / "2026-W47"
    cli = [sys.executable, "-c", "from research.cli import main; main()"]
    ingest = [*cli, "ingest", str(export), "--warehouse", str(warehouse)]

    run = subprocess.Popen(
        [*cli, "run", str(path), "--warehouse", str(warehouse), "--reports", str(reports),
         "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=PROJECT_ROOT)
    late = None
    try:
        deadline = time.monotonic() + 300
        while not list((reports / "保温杯").glob(".2026-W47.building-*/seen_first.json")):
            assert run.poll() is None, run.communicate()[0]
            assert time.monotonic() < deadline, "the first page never read"
            time.sleep(0.05)
        with pytest.raises(Busy) as refused:
            with connect(warehouse):
                pass
        assert f"`research run test` (pid {run.pid}, shared)" in str(refused.value)
        now = subprocess.run(ingest, capture_output=True, text=True, timeout=120,
                             cwd=PROJECT_ROOT)
        assert now.returncode == 3, now.stderr
        assert f"`research run test` (pid {run.pid}, shared)" in now.stderr
        assert "Traceback" not in now.stderr
        late = subprocess.Popen([*ingest, "--wait", "300"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)
        out, _ = run.communicate(timeout=600)
        late_out, late_err = late.communicate(timeout=300)
    finally:
        for proc in (run, late):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert run.returncode == 0, out
    assert late.returncode == 0, late_err
    assert "waiting up to 300 s to write to it" in late_err  # it did wait for the run
    manifest = json.loads((week_dir / "manifest.json").read_text(encoding="utf-8"))
    assert [p["status"] for p in manifest["pages"]] == ["ok", "ok"]
    assert [p["id"] for p in manifest["provenance"]] == [1, 2]
    seen = {label: json.loads((week_dir / f"seen_{label}.json").read_text())
            for label in ("first", "second")}
    assert seen == {label: {"ids": [1, 2], "keyword_rows": 72} for label in seen}
    with open_read(warehouse) as con:
        assert con.execute("SELECT list(id ORDER BY id), list(file_name ORDER BY id) "
                           "FROM ingest_log").fetchall() == \
            [([1, 2, 3], ["keywords_export.csv", "items_export.csv", "late_keywords.csv"])]
        assert con.execute("SELECT count(*) FROM keywords").fetchall() == [(74,)]


@pytest.mark.slow
def test_a_killed_run_leaves_the_warehouse_free(tmp_path: Path) -> None:
    """``kill -9`` of ``research run`` in the middle of a page: the next import gets in at
    once (the kernel drops a dead process's locks; the page's own kernel reads nothing then)."""
    import signal
    import subprocess
    import time

    from research.store.locks import holders

    warehouse = make_tiny_warehouse(tmp_path / "w.duckdb")
    path = write_study(tmp_path, [{"name": "first", "path": str(NB / "provenance_page.ipynb"),
                                   "parameters": {"label": "first", "pause": 5.0}}])
    reports = tmp_path / "reports"
    run = subprocess.Popen(
        [sys.executable, "-c", "from research.cli import main; main()", "run", str(path),
         "--warehouse", str(warehouse), "--reports", str(reports), "--no-progress"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=PROJECT_ROOT)
    try:
        deadline = time.monotonic() + 300
        while not list((reports / "保温杯").glob(".2026-W47.building-*/seen_first.json")):
            assert run.poll() is None, run.communicate()[0]
            assert time.monotonic() < deadline, "the page never read"
            time.sleep(0.05)
        assert [h["pid"] for h in holders(warehouse)] == [run.pid]
        os.kill(run.pid, signal.SIGKILL)
        run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    t0 = time.monotonic()
    with connect(warehouse) as con:
        con.execute("SELECT count(*) FROM keywords").fetchall()
    assert time.monotonic() - t0 < 2.0
    assert holders(warehouse) == []


def test_a_full_disk_while_writing_the_report_exits_4_with_one_message(
        tmp_path: Path, tiny_warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from click.testing import CliRunner

    from research.study import cli as study_cli

    def full(*args: object, **kwargs: object) -> dict:
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "r" / "x.html"))

    monkeypatch.setattr(study_cli, "run_study", full)
    path = write_study(tmp_path, [{"name": "ok_page"}])
    result = CliRunner().invoke(run_command, [str(path), "--warehouse", str(tiny_warehouse),
                                              "--reports", str(tmp_path / "r")])
    assert result.exit_code == 4, result.output
    assert (f"writing the report under {tmp_path / 'r'}: the disk is full "
            f"({tmp_path / 'r' / 'x.html'}); free some space and run the same command again"
            ) in result.output
    assert "Traceback" not in result.output


def test_a_new_week_folder_is_private_under_umask_022(tmp_path: Path, tiny_warehouse: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import stat

    path = write_study(tmp_path, [{"name": "ok_page"}])
    run = st.validate(st.apply_overrides(st.load_study(path),
                                          {"warehouse": str(tiny_warehouse)}))

    def one_page(run, build, context, jobs, progress):
        (build / "ok_page.html").write_text("<p>ok</p>")
        return [{"name": "ok_page", "title": "ok", "status": "ok", "html": "ok_page.html",
                 "notebook": None, "summary": None, "error": None, "timings": {}}]

    monkeypatch.setattr(runner, "_execute_all", one_page)
    reports = tmp_path / "reports"
    old = os.umask(0o022)
    try:
        runner.run_study(run, reports, jobs=1, progress=False)
    finally:
        os.umask(old)
    week = reports / "保温杯" / "2026-W47"
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in (reports, week.parent, week)} == \
        {"reports": 0o700, "保温杯": 0o700, "2026-W47": 0o700}
