"""The weekly study: a YAML definition, checked against the notebooks, run with papermill.

A study definition (``templates/weekly.yaml``) names the category, our shop, the competitors
(or how many to take, ``top_n``), shared parameters (warehouse, week, currency) and the
notebooks to run in order, each with its own parameters and ``after:`` dependencies::

    name: weekly
    title: 周度市场研究 · Weekly market study
    category: 保温杯
    shop: ""                  # empty = the notebooks find our shop in the data
    competitors: []           # empty = top_n of the category
    top_n: 5
    shared:
      warehouse: ""           # empty = research.config.default_warehouse()
      week: ""                # empty = the last complete ISO week in the data
      currency: CNY
    notebooks:
      - name: keyword_trends  # notebooks/keyword_trends.ipynb (or give path:, relative to the YAML)
        parameters: {min_weeks: 8}
      - name: plan_summary
        after: all            # or a list of notebook names

Shared values go to every notebook whose ``parameters`` cell declares them (and only to those);
a notebook's own parameters must be declared by it. Everything is checked — names, types
against the tagged cell (:func:`notebook_parameters`), files, the week — before anything
runs. :func:`run_study` executes the notebooks, each in its own kernel, independent ones in
parallel, renders each to HTML (:mod:`research.pages.report`), writes ``manifest.json`` and the
indexes, and swaps the finished week folder into ``reports/<category>/<week>/``; that
machinery lives in :mod:`research.study.runner` and is re-exported here with :func:`code_version`.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import yaml

from research.config import NOTEBOOKS_DIR, default_warehouse
from research.study.runner import code_version, run_study

__all__ = [
    "SHARED",
    "StudyError",
    "NotebookSpec",
    "Study",
    "Plan",
    "load_study",
    "apply_overrides",
    "validate",
    "notebook_parameters",
    "run_study",
    "code_version",
    "run_command",
]

#: shared parameter names; passed to a notebook only when its parameters cell declares them
SHARED = ("warehouse", "category", "week", "output_dir", "shop", "competitors", "top_n",
          "currency")


class StudyError(ValueError):
    """A study definition or its parameters were refused; the message lists every problem."""


@dataclass(frozen=True)
class NotebookSpec:
    """One notebook of a study: its file, own parameters and the notebooks it runs after."""

    name: str
    path: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Study:
    """A parsed study definition (see the module docstring for the YAML)."""

    name: str
    title: str
    source: Path
    shared: dict[str, Any]
    notebooks: tuple[NotebookSpec, ...]


@dataclass(frozen=True)
class Plan:
    """A validated study, ready to run: every value resolved and type-checked.

    Attributes
    ----------
    parameters : dict
        Notebook name → the exact parameters it receives (``output_dir`` is set at run time).
    week_source : str
        How the week was chosen, in words (shown in the report).
    """

    study: Study
    category: str
    week: str
    warehouse: Path
    parameters: dict[str, dict[str, Any]]
    week_source: str
    latest_date: str | None
    declared: dict[str, tuple[str, ...]] = field(default_factory=dict)


# ---------------------------------------------------------------------------- definition

def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v.strip() for v in re.split(r"[,，]", value) if v.strip()]
    return [str(v) for v in value]


def load_study(path: str | os.PathLike[str]) -> Study:
    """Read a study definition YAML.

    Parameters
    ----------
    path : path-like
        The YAML file. A notebook's ``path:`` is relative to this file; without one the
        notebook is ``notebooks/<name>.ipynb`` of the project.

    Raises
    ------
    StudyError
        When the file is not a valid definition (what is wrong is named).
    """
    source = Path(path)
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise StudyError(f"study definition {source}: {exc}") from None
    if not isinstance(raw, dict):
        raise StudyError(f"study definition {source}: expected a mapping at the top level")
    known = {"name", "title", "category", "shop", "competitors", "top_n", "shared", "notebooks"}
    extra = sorted(set(raw) - known)
    if extra:
        raise StudyError(f"study definition {source}: unknown key(s) {', '.join(extra)} "
                         f"(allowed: {', '.join(sorted(known))})")
    shared: dict[str, Any] = {"warehouse": "", "week": "", "currency": "CNY"}
    shared.update(raw.get("shared") or {})
    for key in ("category", "shop", "competitors", "top_n"):
        if key in raw:
            shared[key] = raw[key]
    if "competitors" in shared:
        shared["competitors"] = _as_list(shared["competitors"])
    entries = raw.get("notebooks") or []
    if not entries:
        raise StudyError(f"study definition {source}: no notebooks listed")
    specs: list[NotebookSpec] = []
    names = [e.get("name") if isinstance(e, dict) else e for e in entries]
    for entry in entries:
        if isinstance(entry, str):
            entry = {"name": entry}
        name = entry.get("name")
        if not name:
            raise StudyError(f"study definition {source}: a notebook entry has no name")
        path_value = entry.get("path")
        nb_path = (source.parent / path_value) if path_value else NOTEBOOKS_DIR / f"{name}.ipynb"
        after = entry.get("after") or []
        after_list = ([str(n) for n in names if n != name] if after == "all"
                      else _as_list(after))
        specs.append(NotebookSpec(str(name), nb_path.resolve(),
                                  dict(entry.get("parameters") or {}), tuple(after_list)))
    return Study(str(raw.get("name") or source.stem), str(raw.get("title") or raw.get("name")
                 or source.stem), source.resolve(), shared, tuple(specs))


def apply_overrides(study: Study, shared: dict[str, Any] | None = None,
                    params: list[str] | tuple[str, ...] = ()) -> Study:
    """Return ``study`` with command-line values applied.

    Parameters
    ----------
    shared : dict, optional
        Shared values (``category``, ``week``, ``shop``, ``competitors``, ``warehouse`` …);
        ``None`` values are ignored.
    params : list of str
        ``name=value`` (a shared value, or every notebook declaring ``name``) or
        ``notebook.name=value`` (one notebook). Values are strings, converted to the declared
        type during :func:`validate`.
    """
    new_shared = dict(study.shared)
    for key, value in (shared or {}).items():
        if value is not None:
            new_shared[key] = _as_list(value) if key == "competitors" else value
    notebooks = {nb.name: dict(nb.parameters) for nb in study.notebooks}
    for item in params:
        if "=" not in item:
            raise StudyError(f"-p {item!r}: expected name=value or notebook.name=value")
        key, value = (s.strip() for s in item.split("=", 1))
        if "." in key:
            nb_name, pname = key.split(".", 1)
            if nb_name not in notebooks:
                raise StudyError(f"-p {item!r}: the study has no notebook {nb_name!r} "
                                 f"(it has {', '.join(notebooks)})")
            notebooks[nb_name][pname] = _CliValue(value)
        else:
            new_shared[key] = _CliValue(value)
    specs = tuple(replace(nb, parameters=notebooks[nb.name]) for nb in study.notebooks)
    return replace(study, shared=new_shared, notebooks=specs)


class _CliValue(str):
    """A value typed on the command line: converted to the notebook's declared type."""


# ---------------------------------------------------------------------------- validation

def _base_types(type_name: str | None) -> set[str] | None:
    """Map papermill's inferred type name to base type names; None = not checkable."""
    if not type_name or type_name == "None":
        return None
    text = type_name.replace("typing.", "").replace(" ", "")
    match = re.fullmatch(r"Optional\[(.+)\]", text)
    parts = (match.group(1) + "|None").split("|") if match else text.split("|")
    out = set()
    for part in parts:
        key = re.sub(r"\[.*\]$", "", part).lower()
        base = {"list": "list", "tuple": "list", "sequence": "list", "dict": "dict",
                "mapping": "dict", "str": "str", "int": "int", "float": "float",
                "bool": "bool", "none": "none"}.get(key)
        if base is None:
            return None
        out.add(base)
    return out


def _convert(value: Any, types: set[str] | None) -> Any:
    """Convert a command-line string to the declared type; ValueError when it cannot be."""
    if not isinstance(value, _CliValue):
        return value
    text = str(value)
    if types is None:
        return yaml.safe_load(text) if text else text
    if "list" in types:
        if text.startswith("["):
            return list(yaml.safe_load(text))
        return _as_list(text)
    if "bool" in types:
        low = text.lower()
        if low in ("true", "yes", "1", "是"):
            return True
        if low in ("false", "no", "0", "否"):
            return False
        raise ValueError(text)
    if "int" in types:
        return int(text)
    if "float" in types:
        return float(text)
    if "dict" in types:
        loaded = yaml.safe_load(text)
        if not isinstance(loaded, dict):
            raise ValueError(text)
        return loaded
    return text


def _type_ok(value: Any, types: set[str] | None) -> bool:
    if types is None:
        return True
    checks = {
        "str": lambda v: isinstance(v, str),
        "bool": lambda v: isinstance(v, bool),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "list": lambda v: isinstance(v, list | tuple),
        "dict": lambda v: isinstance(v, dict),
        "none": lambda v: v is None,
    }
    return any(checks[t](value) for t in types)


def notebook_parameters(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Read the parameters a notebook's ``parameters``-tagged cell declares.

    The cell is parsed with :mod:`ast`: ``name: type = value  # help`` and ``name = value``.
    (``papermill.inspect_notebook`` skips any line with a second ``=``, e.g. a comment such
    as ``# empty = project default``, so it is only the fallback for cells that are not
    valid Python.)

    Returns
    -------
    dict
        Name → ``{"name", "inferred_type_name", "default", "help"}`` (papermill's shape);
        empty when the notebook has no tagged cell.

    Examples
    --------
    >>> import nbformat, tempfile, os
    >>> cell = nbformat.v4.new_code_cell('week: str = ""  # ISO week; empty = last\\nn = 5')
    >>> cell.metadata["tags"] = ["parameters"]
    >>> path = os.path.join(tempfile.mkdtemp(), "x.ipynb")
    >>> nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    >>> {k: v["inferred_type_name"] for k, v in notebook_parameters(path).items()}
    {'week': 'str', 'n': 'int'}
    """
    import ast

    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])),
                None)
    if cell is None:
        return {}
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:
        import papermill as pm

        return pm.inspect_notebook(str(path))
    lines = cell.source.splitlines()
    out: dict[str, dict[str, Any]] = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets, annotation, value = [node.target.id], ast.unparse(node.annotation), node.value
        elif isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            annotation, value = None, node.value
        else:
            continue
        default = ast.unparse(value) if value is not None else ""
        type_name = annotation
        if type_name is None and value is not None:
            try:
                type_name = type(ast.literal_eval(value)).__name__
            except ValueError:
                type_name = None
        line = lines[node.end_lineno - 1] if node.end_lineno else ""
        comment = line[node.end_col_offset:].strip() if node.end_col_offset else ""
        help_text = comment[1:].strip() if comment.startswith("#") else ""
        for name in targets:
            out[name] = {"name": name, "inferred_type_name": type_name or "None",
                         "default": default, "help": help_text}
    return out


def _latest_date(warehouse: Path, category: str) -> str | None:
    """Latest date of the daily tables (keywords and market of the category, traffic, sales)."""
    from research.store.warehouse import open_read

    queries = [
        ("SELECT max(date) FROM keywords WHERE category = ?", [category]),
        ("SELECT max(date) FROM market_daily WHERE category = ?", [category]),
        ("SELECT max(date) FROM traffic", []),
        ("SELECT max(date) FROM sales", []),
    ]
    found = []
    with open_read(warehouse) as con:
        for sql, args in queries:
            try:
                row = con.execute(sql, args).fetchone()
                value = row[0] if row else None
            except Exception:  # table absent in an old warehouse: nothing to add
                continue
            if value is not None:
                found.append(str(value)[:10])
    return max(found) if found else None


def validate(study: Study) -> Plan:
    """Check a study against its notebooks and the warehouse, before anything runs.

    Refused (all problems listed at once, each naming notebook and parameter): a notebook
    file that does not exist or has no ``parameters`` cell, a parameter the notebook does not
    declare, a value of the wrong type, ``after:`` naming an unknown notebook or a cycle, a
    category unfit for a folder name, a malformed week or one later than the data, a missing
    warehouse.

    Returns
    -------
    Plan
    """
    from research.weeks import last_complete_week, parse_week, week_bounds

    problems: list[str] = []
    shared = dict(study.shared)
    names = [nb.name for nb in study.notebooks]
    if len(set(names)) != len(names):
        problems.append("a notebook is listed twice: " + ", ".join(names))
    declared: dict[str, dict[str, Any]] = {}
    for nb in study.notebooks:
        for dep in nb.after:
            if dep not in names:
                problems.append(f"notebook {nb.name}: after: {dep!r} is not in the study")
        if not nb.path.exists():
            problems.append(f"notebook {nb.name}: file {nb.path} does not exist")
            continue
        try:
            declared[nb.name] = notebook_parameters(nb.path)
        except Exception as exc:  # unreadable notebook JSON
            problems.append(f"notebook {nb.name}: cannot read {nb.path}: {exc}")
            continue
        if not declared[nb.name]:
            problems.append(f"notebook {nb.name}: {nb.path.name} has no cell tagged "
                            f"'parameters', so no parameter can be passed to it")
    problems += _cycles(study)

    category = str(shared.get("category") or "")
    if not category:
        problems.append("the study has no category (set category: or --category)")
    elif category in (".", "..") or re.search(r"[/\\\x00]", category) or category.startswith("."):
        problems.append(f"category {category!r} cannot be used as a folder name")
    warehouse = Path(str(shared.get("warehouse") or default_warehouse())).expanduser().resolve()
    latest: str | None = None
    if not warehouse.exists():
        problems.append(f"warehouse {warehouse} does not exist: load exports with "
                        f"`research ingest PATH` (or `make demo` for the sample market)")
    elif category:
        latest = _latest_date(warehouse, category)
        if latest is None:
            problems.append(f"warehouse {warehouse} holds no dated rows for category "
                            f"{category!r}: nothing to study")
    week = str(shared.get("week") or "")
    week_source = "set in the study definition or on the command line"
    if week:
        try:
            year, num = parse_week(week)
            week = f"{year}-W{num:02d}"
            if latest and week_bounds(week)[1] > datetime.fromisoformat(latest):
                problems.append(f"week {week} ends {week_bounds(week)[1]:%Y-%m-%d}, after the "
                                f"latest data ({latest}): it is not complete in the data")
        except ValueError as exc:
            problems.append(str(exc))
    elif latest:
        week = last_complete_week([datetime.fromisoformat(latest)])
        week_source = f"last complete ISO week in the data (latest date {latest})"
    shared.update(category=category, week=week, warehouse=str(warehouse))

    used_shared: set[str] = set()
    parameters: dict[str, dict[str, Any]] = {}
    for nb in study.notebooks:
        if nb.name not in declared:
            continue
        decl = declared[nb.name]
        values: dict[str, Any] = {}
        for key, value in shared.items():
            if key in decl:
                values[key] = value
                used_shared.add(key)
        for key, value in nb.parameters.items():
            if key not in decl:
                problems.append(f"notebook {nb.name}: unknown parameter {key!r} (its "
                                f"parameters cell declares: {', '.join(decl) or 'nothing'})")
                continue
            values[key] = value
        for key, value in values.items():
            type_name = decl[key].get("inferred_type_name")
            types = _base_types(type_name)
            try:
                converted = _convert(value, types)
            except (ValueError, TypeError, yaml.YAMLError):
                problems.append(f"notebook {nb.name}: parameter {key!r} expects {type_name}, "
                                f"got {str(value)!r}")
                continue
            if not _type_ok(converted, types):
                problems.append(f"notebook {nb.name}: parameter {key!r} expects {type_name}, "
                                f"got {type(converted).__name__} {converted!r}")
                continue
            values[key] = converted
        values.pop("output_dir", None)
        parameters[nb.name] = values
    for key in shared:
        if key not in SHARED and key not in used_shared and declared:
            problems.append(f"unknown parameter {key!r}: no notebook of the study declares it")
    if problems:
        raise StudyError("study refused before running:\n  - " + "\n  - ".join(problems))
    return Plan(study, category, week, warehouse, parameters, week_source, latest,
                {name: tuple(decl) for name, decl in declared.items()})


def _cycles(study: Study) -> list[str]:
    deps = {nb.name: set(nb.after) for nb in study.notebooks}
    done: set[str] = set()
    while True:
        ready = {n for n, d in deps.items() if n not in done and d <= done | (d - set(deps))}
        if not ready:
            break
        done |= ready
    left = sorted(set(deps) - done)
    return [f"notebooks {', '.join(left)} depend on each other in a cycle"] if left else []


# ---------------------------------------------------------------------------- command line

@click.command("run", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("definition", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--category", help="Category to study (overrides the definition).")
@click.option("--week", help="ISO week, e.g. 2026-W47 (default: last complete week in the data).")
@click.option("--shop", help="Our shop's name.")
@click.option("--competitors", help="Competitor shops, comma-separated (empty = top-N).")
@click.option("--top-n", type=int, help="How many competitors when none are named.")
@click.option("--currency", help="Currency of prices and money in the data.")
@click.option("--warehouse", "-w", type=click.Path(dir_okay=False, path_type=Path),
              help="DuckDB warehouse file (default: $RESEARCH_WAREHOUSE or data/warehouse.duckdb).")
@click.option("-p", "--param", "params", multiple=True, metavar="[NOTEBOOK.]NAME=VALUE",
              help="Any parameter: shared, or one notebook's with NOTEBOOK.NAME=VALUE.")
@click.option("--sequential", is_flag=True, help="Run the notebooks one after the other.")
@click.option("--jobs", "-j", type=click.IntRange(1, 32), default=2, show_default=True,
              help="Notebooks run at once.")
@click.option("--reports", type=click.Path(file_okay=False, path_type=Path),
              help="Reports root (default: $RESEARCH_REPORTS or reports/).")
@click.option("--no-progress", is_flag=True, help="No progress bars.")
def run_command(definition: Path, category: str | None, week: str | None, shop: str | None,
                competitors: str | None, top_n: int | None, currency: str | None,
                warehouse: Path | None, params: tuple[str, ...], sequential: bool, jobs: int,
                reports: Path | None, no_progress: bool) -> None:
    """Run a study (e.g. templates/weekly.yaml) and render its HTML report.

    Every notebook gets the shared values it declares plus its own; all of them are checked
    before anything runs. Prints the report's index and each page's status; exits 1 when a
    page failed, 2 when the study was refused.
    """
    try:
        study = load_study(definition)
        study = apply_overrides(study, {
            "category": category, "week": week, "shop": shop, "competitors": competitors,
            "top_n": top_n, "currency": currency,
            "warehouse": str(warehouse) if warehouse else None}, params)
        plan = validate(study)
    except StudyError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    click.echo(f"Study {plan.study.name}: {plan.category} {plan.week} ({plan.week_source}), "
               f"{len(plan.parameters)} notebook(s), warehouse {plan.warehouse}", err=True)
    manifest = run_study(plan, reports, jobs=1 if sequential else jobs,
                         progress=False if no_progress else None)
    for page in manifest["pages"]:
        mark = "ok    " if page["status"] == "ok" else "FAILED"
        line = f"  {mark} {page['name']}"
        if page.get("error"):
            line += f" — {page['error']['summary']}"
        click.echo(line)
    click.echo(f"Report: {manifest['index']}")
    if manifest["status"] != "ok":
        sys.exit(1)
