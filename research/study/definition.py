"""The weekly study: a YAML definition, checked against the notebooks and the warehouse.

A study definition (``templates/weekly.yaml``) names the category, our shop, the competitors
(or how many to take, ``top_n``), shared parameters (warehouse, week, currency) and the
notebooks to run in order, each with its own parameters and ``after:`` dependencies::

    name: weekly
    title: 周度市场研究 · Weekly market study
    category: 保温杯
    shop: ""                  # empty = the shop of our sales data
    competitors: []           # empty = the study's competitor rule, top_n shops
    top_n: 5
    shared:
      warehouse: ""           # empty = research.config.default_warehouse()
      week: ""                # empty = the last complete ISO week in the data
      currency: ""            # empty = the data's currency, else CNY
    notebooks:
      - name: keyword_trends  # notebooks/keyword_trends.ipynb (or give path:, relative to the YAML)
        parameters: {recent_weeks: 4}
      - name: plan_summary
        after: all            # or a list of notebook names

:func:`validate` checks everything before anything runs and resolves the study's
:class:`~research.store.scope.Scope` once (:func:`research.store.scope.resolve_scope`): an
unknown category, shop or competitor, a week outside the data, a notebook parameter of the
wrong type or a bad value (:func:`research.checks.check_parameter`) are all refused together.
Every notebook that declares ``scope`` receives the resolved scope (``Scope.to_dict()``), and
the shared values (category, week, shop, competitors, top_n, currency) go, set to the resolved
ones, to every notebook whose ``parameters`` cell declares them (and only to those); a
notebook's own parameters must be declared by it. The validated :class:`StudyRun` is run by
:func:`research.study.runner.run_study`; ``research run`` is :mod:`research.study.cli`.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import nbformat
import yaml

from research.checks import CheckFailed, check_parameter
from research.config import NOTEBOOKS_DIR, default_warehouse
from research.store.scope import Scope, ScopeError, resolve_scope, split_names

__all__ = [
    "SHARED",
    "StudyError",
    "NotebookSpec",
    "Study",
    "StudyRun",
    "load_study",
    "apply_overrides",
    "validate",
    "study_warehouse",
    "notebook_parameters",
]

#: shared parameter names; passed to a notebook only when its parameters cell declares them
SHARED = ("warehouse", "category", "week", "output_dir", "shop", "competitors", "top_n",
          "currency")

#: the resolved scope: passed by the runner, never set by a definition or the command line
SCOPE_PARAMETER = "scope"

#: shared values the scope is resolved from: one value for the whole study, never per notebook
SCOPE_VALUES = ("category", "week", "shop", "competitors", "top_n", "currency")


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
class StudyRun:
    """A validated study, ready to run: its scope resolved, every value type-checked.

    Attributes
    ----------
    study : Study
    scope : Scope
        The study's scope, resolved once; every notebook declaring ``scope`` receives it.
    warehouse : Path
    parameters : dict
        Notebook name → the exact parameters it receives (``output_dir`` is set at run time).
    shared : dict
        The shared values as resolved (category, week, shop, competitors, … and warehouse).
    declared : dict
        Notebook name → the parameter names its ``parameters`` cell declares.
    """

    study: Study
    scope: Scope
    warehouse: Path
    parameters: dict[str, dict[str, Any]]
    shared: dict[str, Any] = field(default_factory=dict)
    declared: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def category(self) -> str:
        """The scope's category."""
        return self.scope.category

    @property
    def week(self) -> str:
        """The scope's ISO week."""
        return self.scope.week

    @property
    def week_source(self) -> str:
        """How the week was chosen, in words (the scope's ``week_rule``)."""
        return self.scope.week_rule


# ---------------------------------------------------------------------------- definition

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
    shared: dict[str, Any] = {"warehouse": "", "week": "", "currency": ""}
    shared.update(raw.get("shared") or {})
    for key in ("category", "shop", "competitors", "top_n"):
        if key in raw:
            shared[key] = raw[key]
    if "competitors" in shared:
        shared["competitors"] = split_names(shared["competitors"])
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
                      else split_names(after))
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
            new_shared[key] = split_names(value) if key == "competitors" else value
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
        return split_names(text)
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
    nb = nbformat.read(str(path), as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])),
                None)
    if cell is None:
        return {}
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:
        import papermill as pm  # third-party and slow to import: only for this fallback

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


def _shared_for_scope(shared: dict[str, Any], problems: list[str]) -> dict[str, Any]:
    """The scope's arguments from the shared values (command-line strings converted)."""
    top_n: Any = shared.get("top_n", 5)
    try:
        top_n = int(str(top_n)) if isinstance(top_n, str) else top_n
    except ValueError:
        problems.append(f"parameter 'top_n' expects int, got {str(top_n)!r}")
        top_n = 5
    if isinstance(top_n, bool) or not isinstance(top_n, int):
        problems.append(f"parameter 'top_n' expects int, got {top_n!r}")
        top_n = 5
    return {"category": str(shared.get("category") or ""),
            "week": str(shared.get("week") or ""), "shop": str(shared.get("shop") or ""),
            "competitors": split_names(shared.get("competitors")), "top_n": top_n,
            "currency": str(shared.get("currency") or "")}


def study_warehouse(study: Study) -> Path:
    """The warehouse file a study reads: its ``warehouse`` value, else the default, resolved.

    Examples
    --------
    >>> study_warehouse(Study("s", "", Path("s.yaml"), {"warehouse": "/d/w.duckdb"}, ()))
    PosixPath('/d/w.duckdb')
    """
    return Path(str(study.shared.get("warehouse") or default_warehouse())).expanduser().resolve()


def validate(study: Study) -> StudyRun:
    """Check a study against its notebooks and the warehouse, and resolve its scope, before
    anything runs.

    Refused (all problems listed at once, each naming notebook and parameter): a notebook
    file that does not exist or has no ``parameters`` cell, a parameter the notebook does not
    declare, a value of the wrong type or a bad value (:func:`research.checks.check_parameter`:
    a date that is no date, band edges that do not increase, a rate outside [0, 1], a count
    below 1), ``after:`` naming an unknown notebook or a cycle, a category unfit for a folder
    name, a missing warehouse, and every refusal of :func:`research.store.scope.resolve_scope`
    (unknown category, shop or competitor with the nearest held names; a malformed week or
    one outside the data, with the data's range).

    Returns
    -------
    StudyRun
        Carrying the resolved :class:`~research.store.scope.Scope`.
    """
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
    resolved_by_run = (f"parameter {SCOPE_PARAMETER!r} is resolved by `research run` from "
                       f"category, week, shop, competitors, top_n and currency; set those")
    if SCOPE_PARAMETER in shared:
        problems.append(resolved_by_run)
        shared.pop(SCOPE_PARAMETER)
    for nb in study.notebooks:
        if SCOPE_PARAMETER in nb.parameters:
            problems.append(f"notebook {nb.name}: {resolved_by_run}")

    args = _shared_for_scope(shared, problems)
    category = args["category"]
    if not category:
        problems.append("the study has no category (set category: or --category)")
    elif category in (".", "..") or re.search(r"[/\\\x00]", category) or category.startswith("."):
        problems.append(f"category {category!r} cannot be used as a folder name")
        category = ""
    warehouse = study_warehouse(study)
    scope: Scope | None = None
    if not warehouse.exists():
        problems.append(f"warehouse {warehouse} does not exist: load exports with "
                        f"`research ingest PATH` (or `make demo` for the sample market)")
    elif category:
        try:
            scope = resolve_scope(warehouse, **args)
        except ScopeError as exc:
            problems += exc.problems
    if scope is not None:
        shared.update(category=scope.category, week=scope.week, shop=scope.shop,
                      competitors=list(scope.competitors), top_n=args["top_n"],
                      currency=scope.currency)
    shared["warehouse"] = str(warehouse)

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
            if key == SCOPE_PARAMETER:
                continue
            if key in SCOPE_VALUES:
                problems.append(f"notebook {nb.name}: {key!r} is part of the study's scope, "
                                f"the same on every page: set it for the whole study "
                                f"(--{key.replace('_', '-')} or -p {key}=…)")
                continue
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
            try:
                if key not in SCOPE_VALUES:  # those were checked once, by resolve_scope
                    check_parameter(key, converted)
            except CheckFailed as exc:
                problems.append(f"notebook {nb.name}: {exc}")
                continue
            values[key] = converted
        values.pop("output_dir", None)
        if SCOPE_PARAMETER in decl and scope is not None:
            values[SCOPE_PARAMETER] = scope.to_dict()
        parameters[nb.name] = values
    for key in shared:
        if key not in SHARED and key not in used_shared and declared:
            problems.append(f"unknown parameter {key!r}: no notebook of the study declares it")
    if problems or scope is None:
        raise StudyError("study refused before running:\n  - " + "\n  - ".join(
            problems or ["the scope could not be resolved"]))
    resolved = {k: (str(v) if isinstance(v, _CliValue) else v) for k, v in shared.items()}
    return StudyRun(study, scope, warehouse, parameters, resolved,
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
