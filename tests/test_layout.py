"""The package's shape (README, "Layout"): no import cycle, no private name used across
modules, no unexplained function-level import, short ``__init__`` faces; and pyproject.toml
lists what the code imports, nothing more.

The direction of imports between wings is checked by import-linter (``lint-imports``, the
contracts in pyproject.toml); these tests check what its contracts cannot say. Each checker
reads the source with :mod:`ast` (nothing is imported), and is first shown to catch a planted
example in a throw-away package, so a passing run on ``research/`` means something.

Every import counts for the cycle check: at the top of a module, inside a function, or under
``if TYPE_CHECKING:`` (an import moved into a function or a typing block to dodge a cycle
still means a name lives in the wrong place).
"""

from __future__ import annotations

import ast
import json
import re
import sys
import textwrap
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "research"
MAX_INIT_CODE_LINES = 25


@cache
def _parse(source: str) -> ast.Module:
    """Parse once per text: several checks walk the same files (the trees are only read).
    Top-level ``await`` is allowed, as in a notebook cell."""
    tree = compile(source, "<source>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    assert isinstance(tree, ast.Module)
    return tree


@dataclass(frozen=True)
class Import:
    """One import of a module of the package, as written."""

    importer: str        # module that imports
    imported: str        # module it resolves to (a module of the package)
    names: tuple[str, ...]  # names taken from it (empty for ``import x``)
    line: int
    end_line: int
    in_function: bool


def find_modules(root: Path, package: str) -> dict[str, Path]:
    """Module name → file for every ``.py`` file of ``package`` under ``root``."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _resolve(importer: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    """Every import in ``path`` (module ``name``) of a module in ``modules``."""
    return imports_in(path.read_text(encoding="utf-8"), name, path.name == "__init__.py",
                      modules)


def imports_in(source: str, name: str, is_package: bool,
               modules: dict[str, Path]) -> list[Import]:
    """Every import in ``source`` (of module or notebook cell ``name``) of a module in
    ``modules``."""
    tree = _parse(source)
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    found.append(Import(name, alias.name, (), node.lineno,
                                        node.end_lineno or node.lineno, in_function))
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(name, is_package, node)
            plain = [a.name for a in node.names if f"{target}.{a.name}" not in modules]
            for alias in node.names:  # `from pkg import submodule` imports the submodule
                sub = f"{target}.{alias.name}"
                if sub in modules:
                    found.append(Import(name, sub, (), node.lineno,
                                        node.end_lineno or node.lineno, in_function))
            if plain and target in modules:
                found.append(Import(name, target, tuple(plain), node.lineno,
                                    node.end_lineno or node.lineno, in_function))
        inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(tree, False)
    return found


def import_graph(root: Path, package: str) -> tuple[dict[str, Path], list[Import]]:
    modules = find_modules(root, package)
    edges = [imp for name, path in modules.items() for imp in imports_of(name, path, modules)]
    return modules, edges


def find_cycles(edges: list[Import]) -> list[list[Import]]:
    """One cycle (as its imports, in order) per strongly connected group of modules."""
    graph: dict[str, dict[str, Import]] = {}
    for imp in edges:
        if imp.importer == imp.imported:
            continue
        graph.setdefault(imp.importer, {}).setdefault(imp.imported, imp)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(v: str) -> None:  # Tarjan, recursive: the package is a few hundred modules
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(group)

    for v in sorted(graph):
        if v not in index:
            connect(v)
    cycles = []
    for group in groups:  # the shortest way from the group's first module back to itself
        start = min(group)
        came: dict[str, Import] = {}
        queue = [start]
        while queue and start not in came:
            here = queue.pop(0)
            for w in sorted(graph.get(here, {})):
                if w in group and w not in came:
                    came[w] = graph[here][w]
                    queue.append(w)
        path = [came[start]]
        while path[0].importer != start:
            path.insert(0, came[path[0].importer])
        cycles.append(path)
    return cycles


def describe_cycle(cycle: list[Import]) -> str:
    return " → ".join(f"{imp.importer} (l.{imp.line})" for imp in cycle) + \
        f" → {cycle[-1].imported}"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_in(source: str, name: str, is_package: bool, modules: dict[str, Path]) -> list[str]:
    """Private names (``_x``, or anything in a ``_x`` module) ``source`` takes from another
    module of the package: ``from m import _x``, an import of a private module, and
    ``alias._x`` where ``alias`` names a module of the package."""
    out = []
    for imp in imports_in(source, name, is_package, modules):
        if imp.importer == imp.imported:
            continue
        if any(_private(p) for p in imp.imported.split(".")[1:]):
            out.append(f"{name}:{imp.line} imports private module {imp.imported}")
        out += [f"{name}:{imp.line} imports {imp.imported}.{n}" for n in imp.names if _private(n)]
    tree = _parse(source)
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases.update({a.asname: a.name for a in node.names if a.asname and a.name in modules})
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(name, is_package, node)
            aliases.update({a.asname or a.name: f"{target}.{a.name}" for a in node.names
                            if f"{target}.{a.name}" in modules})
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and _private(node.attr)
                and aliases[node.value.id] != name):
            out.append(f"{name}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    return out


def private_uses(root: Path, package: str) -> list[str]:
    """Private names one module of ``package`` takes from another (see :func:`private_in`)."""
    modules = find_modules(root, package)
    return sorted(set(
        found for name, path in modules.items()
        for found in private_in(path.read_text(encoding="utf-8"), name,
                                path.name == "__init__.py", modules)))


def notebook_private_uses(root: Path, package: str, folder: str = "notebooks") -> list[str]:
    """Private names of ``package`` the code cells of ``folder/*.ipynb`` use (a notebook is a
    memo over public functions). IPython magics and shell lines are left out."""
    modules = find_modules(root, package)
    out = []
    for path in sorted((root / folder).glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for i, cell in enumerate(cells):
            if cell["cell_type"] != "code":
                continue
            text = "".join(cell["source"])
            lines = ["" if line.lstrip().startswith(("%", "!")) else line
                     for line in text.splitlines()]
            out += private_in("\n".join(lines), f"{path.name} cell {i}", False, modules)
    return sorted(set(out))


def unexplained_function_imports(root: Path, package: str) -> list[str]:
    """Function-level imports of the package's modules without a comment saying why.

    The comment stands on a line of the import statement, or on its own line right above
    the import or above the run of imports the import belongs to.
    """
    modules, edges = import_graph(root, package)
    out = []
    for imp in edges:
        if not imp.in_function:
            continue
        lines = modules[imp.importer].read_text(encoding="utf-8").splitlines()
        explained = any("#" in text for text in lines[imp.line - 1: imp.end_line])
        above = imp.line - 2
        while above >= 0 and lines[above].strip().startswith(("from ", "import ")):
            above -= 1
        explained = explained or (above >= 0 and lines[above].strip().startswith("#"))
        if not explained:
            out.append(f"{imp.importer}:{imp.line} imports {imp.imported} inside a function "
                       "without a comment saying why")
    return sorted(set(out))


def code_lines(source: str) -> int:
    """Lines of code: not blank, not a comment, not the module docstring."""
    tree = _parse(source)
    doc_lines: set[int] = set()
    if tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(
            getattr(tree.body[0], "value", None), ast.Constant):
        first = tree.body[0]
        doc_lines = set(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return sum(1 for i, text in enumerate(source.splitlines(), 1)
               if text.strip() and not text.strip().startswith("#") and i not in doc_lines)


def init_problems(root: Path, package: str) -> list[str]:
    """``__init__.py`` files that are not a short face: too long, or without ``__all__``."""
    out = []
    for name, path in find_modules(root, package).items():
        if path.name != "__init__.py":
            continue
        source = path.read_text(encoding="utf-8")
        tree = _parse(source)
        has_all = any(isinstance(node, ast.Assign | ast.AnnAssign) and any(
            isinstance(t, ast.Name) and t.id == "__all__"
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))
            for node in tree.body)
        if not has_all:
            out.append(f"{name} ({path.relative_to(root)}) has no __all__")
        n = code_lines(source)
        if n > MAX_INIT_CODE_LINES:
            out.append(f"{name} ({path.relative_to(root)}) has {n} lines of code "
                       f"(a face has at most {MAX_INIT_CODE_LINES})")
    return out


#: declared dependencies the code uses other than through an import statement
USED_WITHOUT_IMPORT = {
    "ipykernel": "the kernel the notebooks run in (papermill, nbval, JupyterLab)",
    "jupyterlab": "make lab",
    "xlsxwriter": "pandas' ExcelWriter engine for plan.xlsx",
    "pytest-xdist": "make test runs pytest -n 2",
    "nbval": "make nbval runs pytest --nbval-lax",
    "ruff": "make lint",
    "mypy": "make lint",
    "import-linter": "make lint and make test run lint-imports",
    "nbstripout": "strips notebook outputs before commit",
}


def _dist(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def third_party_imports(paths: list[Path]) -> dict[str, set[str]]:
    """Top-level third-party module → files importing it (``import``, ``from … import``,
    ``pytest.importorskip("…")``), in ``.py`` files and notebooks' code cells."""
    out: dict[str, set[str]] = {}
    for path in paths:
        if path.suffix == ".ipynb":
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            sources = ["\n".join("" if line.lstrip().startswith(("%", "!")) else line
                                 for line in "".join(c["source"]).splitlines())
                       for c in cells if c["cell_type"] == "code"]
        else:
            sources = [path.read_text(encoding="utf-8")]
        for source in sources:
            for node in ast.walk(_parse(source)):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                      and node.func.attr == "importorskip" and node.args
                      and isinstance(node.args[0], ast.Constant)):
                    names = [str(node.args[0].value)]
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in (
                            "__future__", PACKAGE, "tests", "bench"):
                        out.setdefault(top, set()).add(path.name)
    return out


def dependency_problems(imports: dict[str, set[str]], declared: set[str],
                        provides: dict[str, list[str]], unused_ok: set[str]) -> list[str]:
    """Modules imported but not declared, and declared distributions nothing imports.

    ``provides`` maps an import name to the distributions providing it
    (:func:`importlib.metadata.packages_distributions`); ``unused_ok`` are declared
    distributions used other than through an import.
    """
    declared = {_dist(d) for d in declared}
    out = []
    used = set()
    for module, files in sorted(imports.items()):
        dists = {_dist(d) for d in provides.get(module, [module])}
        used |= dists
        if not dists & declared:
            out.append(f"{module} is imported ({', '.join(sorted(files))}) but "
                       f"{' or '.join(sorted(dists))} is not a declared dependency")
    for dist in sorted(declared - used - {_dist(d) for d in unused_ok}):
        out.append(f"{dist} is declared but nothing imports it")
    return out


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [re.split(r"[\s<>=!~;\[]", d, maxsplit=1)[0] for d in project["dependencies"]]
    dev = [re.split(r"[\s<>=!~;\[]", d, maxsplit=1)[0]
           for d in project["optional-dependencies"]["dev"]]
    return set(names), set(dev)


# ------------------------------------------------------------------ the checkers can fail


def _plant(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def test_cycle_checker_finds_a_planted_cycle(tmp_path):
    root = _plant(tmp_path, {
        "pkg/__init__.py": '"""p"""\n__all__ = []\n',
        "pkg/a.py": "from pkg.b import f\n",
        "pkg/b.py": "def f():\n    from pkg import c  # late: c imports us\n",
        "pkg/c.py": "import pkg.a\n",
        "pkg/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.e import X\n",
        "pkg/e.py": "from pkg.d import Y\n",
    })
    _, edges = import_graph(root, "pkg")
    cycles = find_cycles(edges)
    assert [describe_cycle(c) for c in cycles] == [
        "pkg.a (l.1) → pkg.b (l.2) → pkg.c (l.1) → pkg.a",
        "pkg.d (l.3) → pkg.e (l.1) → pkg.d",  # for typing only, still a cycle
    ]
    _, edges = import_graph(root, "pkg")
    fixed = [imp for imp in edges if imp.importer not in ("pkg.c", "pkg.e")]
    assert find_cycles(fixed) == []


def test_private_checker_finds_planted_private_uses(tmp_path):
    root = _plant(tmp_path, {
        "pkg/__init__.py": '"""p"""\n__all__ = []\n',
        "pkg/_helpers.py": "def ok(): ...\n",
        "pkg/a.py": "def _band(): ...\ndef band(): return _band()\n",
        "pkg/b.py": "from pkg.a import _band, band\n",
        "pkg/c.py": "from pkg import a as mod\nmod._band()\nmod.band()\n",
        "pkg/d.py": "from pkg._helpers import ok\n",
    })
    assert private_uses(root, "pkg") == [
        "pkg.b:1 imports pkg.a._band",
        "pkg.c:2 uses pkg.a._band",
        "pkg.d:1 imports private module pkg._helpers",
    ]


def test_notebook_private_checker_finds_a_planted_private_use(tmp_path):
    root = _plant(tmp_path, {
        "pkg/__init__.py": '"""p"""\n__all__ = []\n',
        "pkg/a.py": "def _band(): ...\ndef band(): ...\n",
    })
    cells = [{"cell_type": "markdown", "source": ["from pkg.a import _band"]},
             {"cell_type": "code", "source": ["%matplotlib inline\n", "from pkg.a import band\n"]},
             {"cell_type": "code", "source": ["from pkg import a\n", "a._band()\n"]}]
    (root / "notebooks").mkdir()
    (root / "notebooks" / "memo.ipynb").write_text(json.dumps({"cells": cells}))
    assert notebook_private_uses(root, "pkg") == ["memo.ipynb cell 2:2 uses pkg.a._band"]


def test_function_import_checker_wants_a_reason(tmp_path):
    root = _plant(tmp_path, {
        "pkg/__init__.py": '"""p"""\n__all__ = []\n',
        "pkg/a.py": "X = 1\n",
        "pkg/b.py": """\
            def silent():
                from pkg.a import X
                import json
                return X, json

            def explained():
                # late: pkg.a is slow to import and only this path needs it
                from pkg.a import X
                return X

            def inline():
                from pkg.a import X  # late: see above
                return X

            def block():
                # late: both are slow to import
                import json
                from pkg.a import X
                return X, json

            def after_an_explained_one():
                import pkg.a  # late: see above
                from pkg.a import X
                return X
            """,
    })
    assert unexplained_function_imports(root, "pkg") == [
        "pkg.b:2 imports pkg.a inside a function without a comment saying why",
        "pkg.b:23 imports pkg.a inside a function without a comment saying why"]


def test_init_checker_wants_a_short_face(tmp_path):
    long_body = "\n".join(f"X{i} = {i}" for i in range(MAX_INIT_CODE_LINES + 1))
    root = _plant(tmp_path, {
        "pkg/__init__.py": '"""A docstring\n\nover lines."""\n# note\n\n__all__ = ["a"]\n',
        "pkg/a.py": "",
        "pkg/sub/__init__.py": f'"""no __all__, too long"""\n{long_body}\n',
    })
    assert code_lines((root / "pkg/__init__.py").read_text()) == 1
    assert init_problems(root, "pkg") == [
        "pkg.sub (pkg/sub/__init__.py) has no __all__",
        f"pkg.sub (pkg/sub/__init__.py) has {MAX_INIT_CODE_LINES + 1} lines of code "
        f"(a face has at most {MAX_INIT_CODE_LINES})",
    ]


def test_dependency_checker_finds_planted_problems():
    imports = {"sklearn": {"model.py"}, "yaml": {"study.py"}, "pandas": {"a.py"}}
    provides = {"sklearn": ["scikit-learn"], "yaml": ["PyYAML"], "pandas": ["pandas"]}
    declared = {"pandas", "pyyaml", "charset_normalizer", "ipykernel"}
    assert dependency_problems(imports, declared, provides, {"ipykernel"}) == [
        "sklearn is imported (model.py) but scikit-learn is not a declared dependency",
        "charset-normalizer is declared but nothing imports it",
    ]


# ------------------------------------------------------------------ the package itself


def test_no_import_cycle():
    _, edges = import_graph(ROOT, PACKAGE)
    cycles = find_cycles(edges)
    assert not cycles, "import cycles:\n" + "\n".join(describe_cycle(c) for c in cycles)


def test_no_private_name_crosses_modules():
    found = private_uses(ROOT, PACKAGE)
    assert not found, "make these public or move them:\n" + "\n".join(found)


def test_notebooks_use_no_private_name():
    found = notebook_private_uses(ROOT, PACKAGE)
    assert not found, "notebooks use public names only:\n" + "\n".join(found)


def test_function_level_imports_say_why():
    found = unexplained_function_imports(ROOT, PACKAGE)
    assert not found, "\n".join(found)


def test_every_init_is_a_short_face():
    found = init_problems(ROOT, PACKAGE)
    assert not found, "\n".join(found)


def test_runtime_dependencies_are_what_the_code_imports():
    runtime, _ = _declared()
    files = sorted((ROOT / PACKAGE).rglob("*.py")) + sorted((ROOT / "notebooks").glob("*.ipynb"))
    found = dependency_problems(third_party_imports(files), runtime, packages_distributions(),
                                set(USED_WITHOUT_IMPORT) & runtime)
    assert not found, "pyproject.toml [project] dependencies:\n" + "\n".join(found)


def test_tests_and_benches_import_declared_packages_only():
    runtime, dev = _declared()
    files = sorted((ROOT / "tests").rglob("*.py")) + sorted((ROOT / "bench").rglob("*.py"))
    found = dependency_problems(third_party_imports(files), runtime | dev,
                                packages_distributions(), runtime | set(USED_WITHOUT_IMPORT))
    assert not found, "pyproject.toml dependencies and dev dependencies:\n" + "\n".join(found)
