"""The HTML report: one self-contained page per executed notebook, an index per study week and
a top-level index of every category and week.

Pages are rendered by nbconvert with the template ``templates/report/`` (built on ``lab``): no
code, no injected-parameters cell, a header with the study, category, week, parameters and
data provenance (read from the notebook's ``metadata.research``, written by
:mod:`research.study.definition`), a table of contents, charts embedded as data URIs, styles inline and a
Content-Security-Policy that allows no script and no network load at all — the page opens
offline, and even a ``<script>`` that slipped past escaping would not run.

The indexes are rendered with Jinja autoescaping, so names from the data (shops, terms,
titles, summaries) are always shown as text. ``approval.json`` in a week folder (written by
the plan's approvals) is shown on both indexes when present; call :func:`render_week_index`
and :func:`render_reports_index` again after changing it.
"""

from __future__ import annotations

import csv
import html as _html
import json
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import nbformat
from nbconvert.preprocessors import Preprocessor

from research.config import TEMPLATES_DIR
from research.pages.results import write_text_atomic

__all__ = [
    "TEMPLATE",
    "CSP",
    "render_page",
    "render_failure_stub",
    "list_results",
    "render_week_index",
    "render_reports_index",
    "read_approval",
    "mark_numeric_columns",
]

#: the nbconvert template folder (``templates/report``)
TEMPLATE = TEMPLATES_DIR / "report"
#: every page and index forbids scripts and any load that is not inline or a data URI
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
       "base-uri 'none'; form-action 'none'")

_NUMERIC = re.compile(r"^\s*[-−+]?\s*(?:R\$|Rp|¥|\$|€|£|₹|[A-Z]{3}\s)?\s*[-−+]?[\d,]*\.?\d+\s*"
                      r"(?:%|‰|pp|x|×|[万亿千百]|元|件|人|天|周)?\s*$|^\s*[–—-]?\s*$")
_TD = re.compile(r'(<t[dh]\b[^>]*class=")([^"]*\bcol(\d+)\b[^"]*)("[^>]*>)(.*?)(</t[dh]>)',
                 re.S)


def _write_atomic(path: Path, text: str) -> None:
    write_text_atomic(path, text)


def mark_numeric_columns(table_html: str) -> str:
    """Add the class ``num`` to cells and headers of all-numeric columns of a Styler table.

    Columns whose data cells are all numbers (with separators, units, %, a currency symbol
    such as ¥ or R$, or – for missing) are right-aligned by the report's CSS; text columns stay left-aligned.

    Examples
    --------
    >>> html = ('<table><tr><th class="col_heading level0 col0">t</th>'
    ...         '<th class="col_heading level0 col1">n</th></tr>'
    ...         '<tr><td class="data row0 col0">a1</td><td class="data row0 col1">1,234</td></tr>'
    ...         '</table>')
    >>> out = mark_numeric_columns(html)
    >>> 'class="data row0 col1 num"' in out, 'col0 num' in out
    (True, False)
    """
    def convert(table: str) -> str:
        numeric: dict[str, bool] = {}
        for match in _TD.finditer(table):
            if match.group(2).split()[0] != "data":
                continue
            text = re.sub(r"<[^>]+>", "", match.group(5))
            col = match.group(3)
            numeric[col] = numeric.get(col, True) and bool(_NUMERIC.match(_html.unescape(text)))

        def add(match: re.Match[str]) -> str:
            classes = match.group(2)
            kind = classes.split()[0]
            if kind in ("data", "col_heading") and numeric.get(match.group(3)):
                classes += " num"
            return match.group(1) + classes + "".join(match.group(4, 5, 6))

        return _TD.sub(add, table)

    return re.sub(r"<table\b.*?</table>", lambda m: convert(m.group(0)), table_html, flags=re.S)


class _NumericTables(Preprocessor):
    """Right-align the numeric columns of the report tables in HTML outputs."""

    def preprocess_cell(self, cell: Any, resources: Any, index: int) -> tuple[Any, Any]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "text/html" in data and "<table" in data["text/html"]:
                data["text/html"] = mark_numeric_columns(data["text/html"])
        return cell, resources


def _exporter() -> Any:
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {
        "injected-parameters", "parameters", "remove-cell", "papermill-error-cell-tag"}
    config.TagRemovePreprocessor.remove_input_tags = {"hide-input"}
    config.HTMLExporter.exclude_input = True
    config.HTMLExporter.exclude_input_prompt = True
    config.HTMLExporter.exclude_output_prompt = True
    config.HTMLExporter.embed_images = True
    exporter = HTMLExporter(config=config, template_name="report",
                            extra_template_basedirs=[str(TEMPLATES_DIR)])
    exporter.register_preprocessor(TagRemovePreprocessor(config=config), enabled=True)
    exporter.register_preprocessor(_NumericTables(), enabled=True)
    return exporter


def _css() -> str:
    return (TEMPLATE / "static" / "report.css").read_text(encoding="utf-8")


def _page_title(nb: Any, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return re.sub(r"[*_`]", "", line[2:]).strip()
    return fallback


_HEADING = re.compile(r'<h([1-3]) id="([^"]+)">(.*?)<a class="anchor-link"', re.S)


def _toc(body: str) -> str:
    items = []
    for level, anchor, inner in _HEADING.findall(body):
        text = _html.escape(_html.unescape(re.sub(r"<[^>]+>", "", inner)).strip())
        items.append(f'<li class="toc-h{level}"><a href="#{_html.escape(anchor)}">{text}</a></li>')
    if not items:
        return ""
    return '<nav class="toc"><h2>目录 · Contents</h2><ul>' + "".join(items) + "</ul></nav>"


def render_page(notebook: str | os.PathLike[str], out: str | os.PathLike[str]) -> str:
    """Render an executed notebook to a self-contained HTML page.

    Parameters
    ----------
    notebook : path-like
        The executed notebook; its ``metadata.research`` (study, category, week, parameters,
        provenance, code version, error) fills the header and footer.
    out : path-like
        The HTML file to write (atomically).

    Returns
    -------
    str
        The page title (the notebook's first ``# `` heading).
    """
    nb = nbformat.read(str(notebook), as_version=4)
    meta = nb.metadata.get("research", {})
    page = meta.get("page", {})
    title = _page_title(nb, page.get("name") or Path(notebook).stem)
    nb.metadata["title"] = f"{title} · {meta.get('category', '')} {meta.get('week', '')}".strip()
    resources = {"research_css": _css(), "csp": CSP, "page_title": title,
                 "generated": datetime.now().astimezone().isoformat(timespec="seconds")}
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    body = body.replace("<!--research-toc-->", _toc(body), 1)
    _write_atomic(Path(out), body)
    return title


def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE)),
                             autoescape=True, undefined=jinja2.ChainableUndefined)
    env.filters["urlq"] = lambda s: quote(str(s))
    env.filters["seconds"] = lambda s: "–" if s in (None, "") else f"{float(s):.1f} s"
    return env


def render_failure_stub(out: str | os.PathLike[str], context: dict[str, Any],
                        page: dict[str, Any]) -> None:
    """Write a minimal page saying a notebook failed (used when rendering itself failed)."""
    html = _env().get_template("failed.html.j2").render(
        ctx=context, page=page, css=_css(), csp=CSP)
    _write_atomic(Path(out), html)


def list_results(week_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """List the ``results/*.csv`` of a week folder with their row counts and sizes."""
    folder = Path(week_dir) / "results"
    out = []
    for path in sorted(folder.glob("*.csv")) if folder.exists() else []:
        with open(path, encoding="utf-8-sig", newline="") as handle:  # a cell may hold a CR/LF
            rows = max(sum(1 for _ in csv.reader(handle)) - 1, 0)
        out.append({"file": f"results/{path.name}", "name": path.stem, "rows": rows,
                    "bytes": path.stat().st_size})
    return out


def read_approval(week_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """Read ``approval.json`` of a week folder, or ``None`` (unreadable files say so)."""
    path = Path(week_dir) / "approval.json"
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"status": f"approval.json unreadable: {exc}", "signatures": []}
    if not (isinstance(data, dict) and isinstance(data.get("status"), str)
            and isinstance(data.get("signatures", []), list)):
        return {"status": "approval.json unreadable: not the object the approvals write "
                          "(research plan status --refresh rewrites it)", "signatures": []}
    return data


def render_week_index(week_dir: str | os.PathLike[str]) -> Path:
    """(Re)write ``index.html`` of a study week from its ``manifest.json`` and approval."""
    folder = Path(week_dir)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    approval = read_approval(folder)
    html = _env().get_template("week.html.j2").render(
        m=manifest, approval=approval, css=_css(), csp=CSP,
        generated=datetime.now().astimezone().isoformat(timespec="seconds"))
    target = folder / "index.html"
    _write_atomic(target, html)
    return target


def _index_entry(manifest_path: Path) -> dict[str, Any]:
    """What the reports index shows of one week's manifest; a damaged manifest is shown as
    such (status ``damaged``), never dropped and never an error."""
    try:
        m = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        m, problem = None, f"unreadable ({type(exc).__name__})"
    else:
        problem = "" if isinstance(m, dict) else "not a JSON object"
    if not isinstance(m, dict):
        return {"status": "damaged", "pages": 0, "failed": [], "finished": None,
                "study": f"manifest.json 损坏 · damaged: {problem}; run the study again"}
    pages = [p for p in m.get("pages", []) if isinstance(p, dict)] \
        if isinstance(m.get("pages"), list) else []
    return {"status": str(m.get("status", "?")), "pages": len(pages),
            "failed": [str(p.get("name", "?")) for p in pages if p.get("status") != "ok"],
            "study": m.get("title") or m.get("study"),
            "finished": m.get("finished") if isinstance(m.get("finished"), str) else None}


def render_reports_index(root: str | os.PathLike[str]) -> Path:
    """(Re)write ``<root>/index.html`` listing every category and week with its status."""
    base = Path(root)
    categories: dict[str, list[dict[str, Any]]] = {}
    for manifest_path in sorted(base.glob("*/*/manifest.json")):
        week_dir = manifest_path.parent
        if week_dir.name.startswith(".") or week_dir.parent.name.startswith("."):
            continue
        categories.setdefault(week_dir.parent.name, []).append(
            {"week": week_dir.name, "href": f"{quote(week_dir.parent.name)}/"
                                            f"{quote(week_dir.name)}/index.html",
             **_index_entry(manifest_path), "approval": read_approval(week_dir)})
    for weeks in categories.values():
        weeks.sort(key=lambda w: w["week"], reverse=True)
    html = _env().get_template("reports.html.j2").render(
        categories=dict(sorted(categories.items())), css=_css(), csp=CSP,
        generated=datetime.now().astimezone().isoformat(timespec="seconds"))
    base.mkdir(parents=True, exist_ok=True)
    target = base / "index.html"
    _write_atomic(target, html)
    return target
