"""Running a validated study: worker threads driving papermill kernels, progress, the swap.

:func:`run_study` takes a :class:`research.study.definition.StudyRun` (from
:func:`research.study.definition.validate`, which resolved its scope), executes its notebooks —
each in its own kernel, independent ones in parallel, worker threads driving the kernels
through a papermill engine that reports cell progress — renders each to HTML
(:mod:`research.pages.report`), writes ``manifest.json`` (with the scope under ``"scope"``) and
the indexes, and swaps the finished week folder into ``reports/<category>/<week>/`` in one
rename.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from research.config import PROJECT_ROOT, default_reports, dir_mode
from research.pages import report
from research.store.locks import hold, make_private_dirs
from research.store.warehouse import ingest_log
from research.study.definition import StudyRun
from research.study.kernels import engine_kwargs

__all__ = ["run_study", "run_page", "swap_into_place", "code_version", "run_purpose"]


# ---------------------------------------------------------------------------- provenance

def code_version() -> str:
    """``git describe --always --dirty`` of the project, or the package version outside git."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=PROJECT_ROOT,
                             capture_output=True, text=True, timeout=10, check=True)
        if out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"research {version('research')}"
    except PackageNotFoundError:
        return "research (unknown version)"


def _provenance(warehouse: Path) -> list[dict[str, Any]]:
    log = ingest_log(warehouse)
    cols = [c for c in ("id", "file_name", "content_hash", "table_name", "rows", "source",
                        "loaded_at") if c in log.columns]
    records = []
    for row in log[cols].to_dict("records"):
        records.append({k: (str(v) if k == "loaded_at" else
                            int(v) if k in ("id", "rows") else v) for k, v in row.items()})
    return records


# ---------------------------------------------------------------------------- running

def run_study(run: StudyRun, reports: str | os.PathLike[str] | None = None, jobs: int = 2,
              progress: bool | None = None, *, wait: float = 0.0) -> dict[str, Any]:
    """Run a validated study and render its report; return the manifest.

    The whole run holds the warehouse's shared hold (:func:`research.store.locks.hold`): no
    import commits while it runs, so every page reads the same data, and the provenance in
    ``manifest.json`` (the ingest log, read once under the hold) is exactly what the pages
    read. An import started meanwhile waits or is refused with a message naming this run.

    The week is built in a temporary folder beside ``reports/<category>/<week>/`` and swapped
    in with renames only once every page is executed and rendered and the index written, so a
    run that is interrupted leaves the previous report as it was. A failing notebook does not
    stop the others; it is marked ``failed`` in the manifest and the index.

    Parameters
    ----------
    run : StudyRun
        From :func:`research.study.definition.validate`.
    reports : path-like, optional
        Reports root (default :func:`research.config.default_reports`).
    jobs : int
        Notebooks run at once (each in its own kernel process); 1 runs them one after the other.
    progress : bool, optional
        Progress bars (default: when stderr is a terminal).
    wait : float
        Seconds to wait for a writer (an import, an approval) holding the warehouse to finish;
        0 refuses at once.

    Returns
    -------
    dict
        The manifest (also written as ``manifest.json``), with ``"index"`` the index path.

    Raises
    ------
    research.faults.Busy
        When a writer holds the warehouse past ``wait`` seconds.
    """
    with hold(run.warehouse, "shared", wait=wait, purpose=run_purpose(run)):
        return _run_held(run, reports, jobs, progress)


def run_purpose(run: StudyRun) -> str:
    """How a running study names itself to a process it keeps waiting:
    ``research run weekly (保温杯 2026-W47)``."""
    return f"research run {run.study.name} ({run.scope.category} {run.scope.week})"


def _run_held(run: StudyRun, reports: str | os.PathLike[str] | None, jobs: int,
              progress: bool | None) -> dict[str, Any]:
    scope = run.scope
    root = Path(reports) if reports is not None else default_reports()
    week_dir = root / scope.category / scope.week
    make_private_dirs(week_dir.parent)  # business data: dir_mode() (0700) where it is new
    _remove_stale_builds(week_dir)
    build = week_dir.parent / f".{scope.week}.building-{os.getpid()}"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir()
    os.chmod(build, dir_mode())  # becomes the week folder: its pages are readable by no other
    started = datetime.now().astimezone()
    t0 = time.perf_counter()
    context = {
        "study": run.study.name, "title": run.study.title,
        "definition": str(run.study.source), "category": scope.category, "week": scope.week,
        "week_start": scope.week_start, "week_end": scope.week_end,
        "week_source": scope.week_rule, "latest_date": scope.data_end,
        "scope": scope.to_dict(),
        "warehouse": str(run.warehouse), "code_version": code_version(),
        "provenance": _provenance(run.warehouse), "output_dir": str(week_dir),
        "shared": dict(run.shared),
    }
    try:
        pages = _execute_all(run, build, context, jobs=max(1, jobs), progress=progress)
        manifest = {
            **context, "started": started.isoformat(timespec="seconds"),
            "finished": datetime.now().astimezone().isoformat(timespec="seconds"),
            "duration_s": round(time.perf_counter() - t0, 2), "jobs": max(1, jobs),
            "status": "ok" if all(p["status"] == "ok" for p in pages) else "failed",
            "pages": pages, "results": report.list_results(build),
        }
        (build / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        report.render_week_index(build)
        swap_into_place(build, week_dir)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    report.render_reports_index(root)
    manifest["index"] = str(week_dir / "index.html")
    return manifest


# ---------------------------------------------------------------------------- workers

_ENGINE_LOCK = threading.Lock()


def _quiet_papermill() -> None:
    import logging

    # papermill's own parameter parser warns about lines it cannot read (a second "=" in a
    # comment); notebook_parameters has already read them
    logging.getLogger("papermill.translators").setLevel(logging.ERROR)
    logging.getLogger("papermill").setLevel(logging.ERROR)


def _register_engine() -> str:
    """Register a papermill engine that reports cell progress and kernel start time."""
    from papermill.engines import NBClientEngine, papermill_engines

    class _ReportingEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kwargs: Any) -> Any:
            name = kwargs.pop("research_name", "")
            marks = kwargs.pop("research_marks", {})
            events = kwargs.pop("research_events", None)
            emit = events.put if events is not None else (lambda event: None)
            start, complete = nb_man.cell_start, nb_man.cell_complete
            total = len(nb_man.nb.cells)
            emit(("start", name, total))

            def cell_start(cell: Any, cell_index: int | None = None, **kw: Any) -> Any:
                marks.setdefault("first_cell", time.perf_counter())
                return start(cell, cell_index, **kw)

            def cell_complete(cell: Any, cell_index: int | None = None, **kw: Any) -> Any:
                emit(("cell", name, (cell_index or 0) + 1, total))
                return complete(cell, cell_index, **kw)

            nb_man.cell_start, nb_man.cell_complete = cell_start, cell_complete
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    with _ENGINE_LOCK:
        if "research" not in papermill_engines._engines:
            papermill_engines.register("research", _ReportingEngine)
    return "research"


def _error_info(exc: BaseException) -> dict[str, Any]:
    """Describe a failure in plain words, with the cell that raised it when known."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return {"summary": f"{exc.ename}: {exc.evalue}", "ename": exc.ename,
                "evalue": str(exc.evalue), "cell_index": exc.cell_index,
                "exec_count": exc.exec_count, "source": exc.source}
    return {"summary": f"{type(exc).__name__}: {exc}", "ename": type(exc).__name__,
            "evalue": str(exc), "cell_index": None, "exec_count": None, "source": None}


def run_page(task: dict[str, Any], events: Any = None) -> dict[str, Any]:
    """Execute one notebook with papermill, annotate it and render its page (a worker thread).

    Parameters
    ----------
    task : dict
        What :func:`run_study` prepared for the notebook: its name, path, parameters, the
        build folder and the report context.
    events : queue.Queue, optional
        Receives ``("done", name, status)`` when the page is finished.

    Returns
    -------
    dict
        The page's manifest entry (status, error, files).

    The kernel runs in its own process; this thread only drives it. It listens on Unix sockets
    in a private folder (:mod:`research.study.kernels`), not on TCP ports picked and released before
    it binds them, which another process could take in between. ``cwd`` is not passed to
    papermill (it would ``chdir`` the whole process under the other threads): notebooks get
    absolute paths as parameters.
    """
    import nbformat
    import papermill as pm

    name, build = task["name"], Path(task["build"])
    out_nb = build / "notebooks" / f"{name}.ipynb"
    out_nb.parent.mkdir(parents=True, exist_ok=True)
    marks: dict[str, float] = {}
    started = datetime.now().astimezone()
    t0 = time.perf_counter()
    error = None
    try:
        pm.execute_notebook(
            task["path"], str(out_nb), parameters=task["parameters"], kernel_name="python3",
            engine_name=_register_engine(), progress_bar=False, **engine_kwargs(),
            research_name=name, research_marks=marks, research_events=events)
    except Exception as exc:  # any failure becomes the page's error, the study goes on
        error = _error_info(exc)
    t1 = time.perf_counter()
    first = marks.get("first_cell", t1)
    finished = datetime.now().astimezone()
    if out_nb.exists():
        nb = nbformat.read(out_nb, as_version=4)
    else:  # papermill never got to write it (kernel did not start): render the source
        nb = nbformat.read(task["path"], as_version=4)
        for cell in nb.cells:
            cell.pop("outputs", None) if cell.cell_type != "code" else cell.update(outputs=[])
    page = {
        "name": name, "status": "failed" if error else "ok",
        "notebook": f"notebooks/{name}.ipynb", "html": f"{name}.html",
        "source": task["path"], "after": task["after"],
        "parameters": {**task["parameters"], "output_dir": task["context"]["output_dir"]},
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "error": error,
    }
    nb.metadata["research"] = {**task["context"], "page": page}
    nbformat.write(nb, out_nb)
    t2 = time.perf_counter()
    try:
        page["title"] = report.render_page(out_nb, build / f"{name}.html")
    except Exception as exc:  # a page that cannot be rendered is a failed page, not a crash
        page["status"] = "failed"
        page["error"] = page["error"] or {**_error_info(exc), "summary":
                                          f"rendering failed: {type(exc).__name__}: {exc}"}
        page["title"] = name
        report.render_failure_stub(build / f"{name}.html", task["context"], page)
    t3 = time.perf_counter()
    page["timings"] = {"kernel_start_s": round(first - t0, 3),
                       "execution_s": round(t1 - first, 3), "render_s": round(t3 - t2, 3),
                       "total_s": round(t3 - t0, 3)}
    summary = build / "summaries" / f"{name}.txt"  # research.pages.results.write_summary's file
    page["summary"] = summary.read_text(encoding="utf-8").strip() if summary.exists() else None
    if events is not None:
        events.put(("done", name, page["status"]))
    return page


def _execute_all(run: StudyRun, build: Path, context: dict[str, Any], jobs: int,
                 progress: bool | None) -> list[dict[str, Any]]:
    """Run every notebook in worker threads, respecting ``after:``; pages in study order.

    A notebook starts once every notebook it runs ``after`` has finished, whether that one
    succeeded or failed (the plan summary reads whatever results exist and says what is
    missing).
    """
    import queue as queue_mod
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    from tqdm.auto import tqdm

    specs = {nb.name: nb for nb in run.study.notebooks}
    order = list(specs)
    events: queue_mod.Queue[tuple[Any, ...]] = queue_mod.Queue()
    _quiet_papermill()
    disable = None if progress is None else not progress
    overall = tqdm(total=len(order), desc=f"{run.study.name} {run.week}", unit="page",
                   position=0, disable=disable, leave=True)
    bars = {n: tqdm(total=1, desc=f"  {n}", unit="cell", position=i + 1, disable=disable,
                    leave=False) for i, n in enumerate(order)}

    def drain() -> None:
        while True:
            try:
                kind, name, *rest = events.get_nowait()
            except queue_mod.Empty:
                return
            bar = bars.get(name)
            if bar is None:
                continue
            if kind == "start":
                bar.reset(total=rest[0])
            elif kind == "cell":
                bar.n = rest[0]
                bar.refresh()
            elif kind == "done":
                bar.set_postfix_str(rest[0])

    pages: dict[str, dict[str, Any]] = {}
    pending = list(order)
    running: dict[Any, str] = {}
    with ThreadPoolExecutor(max_workers=min(jobs, len(order)),
                            thread_name_prefix="research-study") as pool:
        while pending or running:
            for name in list(pending):
                if len(running) >= jobs:
                    break
                if all(dep in pages for dep in specs[name].after):
                    pending.remove(name)
                    task = {"name": name, "path": str(specs[name].path), "build": str(build),
                            "parameters": {**run.parameters[name],
                                           **({"output_dir": str(build)} if "output_dir" in
                                              run.declared.get(name, ()) else {})},
                            "after": list(specs[name].after), "context": context}
                    running[pool.submit(run_page, task, events)] = name
            done, _ = wait(list(running), timeout=0.2, return_when=FIRST_COMPLETED)
            drain()
            for future in done:
                name = running.pop(future)
                try:
                    pages[name] = future.result()
                except Exception as exc:  # the runner itself broke on this page
                    pages[name] = {"name": name, "title": name, "status": "failed",
                                   "html": None, "notebook": None, "summary": None,
                                   "parameters": run.parameters[name], "timings": {},
                                   "error": _error_info(exc)}
                overall.update(1)
                bars[name].close()
    drain()
    overall.close()
    return [pages[n] for n in order]


def _remove_stale_builds(week_dir: Path) -> None:
    """Delete build folders of this week left by runs that were killed."""
    for folder in week_dir.parent.glob(f".{week_dir.name}.building-*"):
        pid = folder.name.rsplit("-", 1)[-1]
        try:
            os.kill(int(pid), 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass


def swap_into_place(build: Path, target: Path) -> None:
    """Put ``build`` at ``target``; an existing ``target`` is exchanged atomically.

    On Linux ``renameat2(RENAME_EXCHANGE)`` swaps the two folders in one step; elsewhere the
    old folder is renamed aside first. Either way the new folder is complete before it is
    moved, and the old one is deleted only after.
    """
    if not target.exists():
        os.rename(build, target)
        return
    if _exchange(build, target):
        shutil.rmtree(build, ignore_errors=True)  # build now holds the old report
        return
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    os.rename(target, old)
    os.rename(build, target)
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return rc == 0
