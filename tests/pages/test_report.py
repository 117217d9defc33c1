"""Rendering without kernels: a hand-made executed notebook through the page template, and the
week and top-level indexes from hand-made manifests. Data-driven text must come out escaped,
code and injected parameters must not come out at all, and nothing may load from the network."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from research.pages import report
from research.pages.display import table_html

XSS = "<script>alert(1)</script>"
# a 1×1 PNG
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082")).decode()


def executed_notebook(path: Path, error: bool = False) -> Path:
    frame = pd.DataFrame({"标题": [XSS, "不锈钢保温杯"], "销量": [1234, 56],
                          "占比": [0.5, 0.25], "店铺": ["店A", "店B"]})
    params = new_code_cell('week: str = ""  # ISO week; empty = last complete week')
    params.metadata["tags"] = ["parameters"]
    injected = new_code_cell('# Parameters\nweek = "2026-W47"  # SECRET_INJECTED')
    injected.metadata["tags"] = ["injected-parameters"]
    table = new_code_cell("show_table(frame)  # SECRET_CODE", outputs=[new_output(
        "display_data", data={"text/html": table_html(frame, formats={"占比": "{:.1%}"}),
                              "text/plain": "<table>"})])
    chart = new_code_cell("plt.show()", outputs=[new_output(
        "display_data", data={"image/png": PNG, "text/plain": "<Figure>"})])
    script = new_code_cell("display(Javascript('alert(3)'))", outputs=[new_output(
        "display_data", data={"application/javascript": "alert(3)", "text/plain": "js"})])
    cells = [new_markdown_cell("# 测试报告 · Test page\n\nWhat this page answers."), params,
             injected, new_markdown_cell("## 表 · Table"), table,
             new_markdown_cell("## 图 · Chart\n### 细节 · Detail"), chart, script]
    page = {"name": "test_page", "status": "ok", "notebook": "notebooks/test_page.ipynb",
            "parameters": {"shop": XSS, "competitors": ["店A", "<b>店B</b>"], "top_n": 5},
            "started": "2026-11-23T10:00:00+08:00", "finished": "2026-11-23T10:00:09+08:00",
            "error": None}
    if error:
        failing = new_code_cell('raise ValueError("boom <b>")', outputs=[new_output(
            "error", ename="ValueError", evalue="boom <b>",
            traceback=["\x1b[31mValueError\x1b[0m: boom <b>"])])
        failing.metadata["papermill"] = {"exception": True}
        cells.append(failing)
        page.update(status="failed", error={
            "summary": "ValueError: boom <b>", "ename": "ValueError", "evalue": "boom <b>",
            "cell_index": len(cells) - 1, "exec_count": 6,
            "source": 'raise ValueError("boom <b>")'})
    nb = new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.metadata["research"] = {
        "study": "weekly", "title": "周度研究", "category": "保温杯", "week": "2026-W47",
        "week_start": "2026-11-16", "week_end": "2026-11-22", "week_source": "test",
        "warehouse": "/tmp/w.duckdb", "code_version": "abc1234-dirty",
        "provenance": [{"id": 1, "file_name": "<b>export</b>.csv", "content_hash": "f" * 64,
                        "table_name": "items", "rows": 12345, "loaded_at": "2026-11-23"}],
        "page": page}
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("page")
    title = report.render_page(executed_notebook(folder / "t.ipynb"), folder / "t.html")
    assert title == "测试报告 · Test page"
    return (folder / "t.html").read_text(encoding="utf-8")


def test_page_has_no_code_no_injected_parameters_no_scripts(rendered: str) -> None:
    assert "SECRET_CODE" not in rendered and "SECRET_INJECTED" not in rendered
    assert "<script" not in rendered.lower()
    assert "alert(3)" not in rendered
    assert "JavaScript output not shown" in rendered


def test_page_escapes_data_everywhere(rendered: str) -> None:
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered  # table cell and header shop
    assert rendered.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2
    assert "&lt;b&gt;export&lt;/b&gt;.csv" in rendered
    assert "&lt;b&gt;店B&lt;/b&gt;" in rendered or "\\u003cb\\u003e" in rendered


def test_page_is_self_contained(rendered: str) -> None:
    assert re.search(r'(?:src|href)\s*=\s*"(?:https?:)?//', rendered) is None
    assert "@import" not in rendered
    assert f"data:image/png;base64,{PNG}" in rendered
    assert 'http-equiv="Content-Security-Policy"' in rendered and "default-src 'none'" in rendered


def test_page_header_toc_footer_and_numeric_columns(rendered: str) -> None:
    assert "保温杯" in rendered and "2026-W47" in rendered and "2026-11-16" in rendered
    toc = re.search(r'<nav class="toc">(.*?)</nav>', rendered, re.S).group(1)
    assert re.findall(r"<li class=\"toc-h(\d)\">", toc) == ["1", "2", "2", "3"]
    assert "表 · Table" in toc and "细节 · Detail" in toc
    assert "abc1234-dirty" in rendered and "Generated" in rendered
    assert "f" * 16 in rendered and "12,345" in rendered
    assert re.search(r'class="col_heading level0 col1 num"', rendered)  # 销量
    assert re.search(r'class="data row0 col2 num"[^>]*>50.0%', rendered)  # 占比
    assert not re.search(r'class="data row0 col0 num"', rendered)  # 标题 is text


def test_failed_page_says_what_failed_and_where(tmp_path: Path) -> None:
    report.render_page(executed_notebook(tmp_path / "f.ipynb", error=True), tmp_path / "f.html")
    html = (tmp_path / "f.html").read_text(encoding="utf-8")
    assert "This page did not finish" in html and "step [6]" in html
    assert 'id="failed-step"' in html and 'raise ValueError("boom &lt;b&gt;")' in html
    assert "boom &lt;b&gt;" in html and "boom <b>" not in html
    assert "badge-failed" in html


@pytest.mark.parametrize("text, numeric", [
    ("1,234", True), ("¥59.00", True), ("12.5%", True), ("–", True), ("-3.2", True),
    ("R$59.00", True), ("-R$1,234", True), ("Rp12,000", True), ("₹99", True),
    ("CHF 5.00", True), ("保温杯", False), ("2026-W47", False), ("A1", False)])
def test_numeric_cell_detection(text: str, numeric: bool) -> None:
    html = ('<table><tr><th class="col_heading level0 col0">x</th></tr>'
            f'<tr><td class="data row0 col0">{text}</td></tr></table>')
    assert ("col0 num" in report.mark_numeric_columns(html)) is numeric


def week_folder(root: Path, category: str, week: str, status: str = "ok") -> Path:
    folder = root / category / week
    (folder / "results").mkdir(parents=True)
    pd.DataFrame({"a": [1, 2, 3]}).to_csv(folder / "results" / "core.csv", index=False,
                                          encoding="utf-8-sig")
    manifest = {
        "study": "weekly", "title": "周度研究", "category": category, "week": week,
        "week_start": "2026-11-16", "week_end": "2026-11-22", "week_source": "test",
        "status": status, "code_version": "abc", "provenance": [], "jobs": 2,
        "shared": {"shop": XSS, "competitors": ["店A"]},
        "pages": [{"name": "p1", "title": "页一", "status": status, "html": "p1.html",
                   "summary": f"Top title {XSS}", "timings": {"total_s": 3.21},
                   "error": {"summary": "ValueError: x"} if status != "ok" else None}],
        "results": report.list_results(folder)}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False),
                                          encoding="utf-8")
    return folder


def test_week_index_links_pages_results_and_shows_approval(tmp_path: Path) -> None:
    folder = week_folder(tmp_path, "保温杯", "2026-W47")
    assert report.list_results(folder) == [
        {"file": "results/core.csv", "name": "core", "rows": 3, "bytes": 11}]  # BOM + "a\n1\n2\n3\n"
    html = report.render_week_index(folder).read_text(encoding="utf-8")
    assert 'href="p1.html"' in html and 'href="results/core.csv"' in html
    assert "Top title &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    assert "未提交 · not submitted" in html
    (folder / "approval.json").write_text(json.dumps(
        {"status": "草稿", "signatures": [{"name": XSS, "role": "运营"}]}, ensure_ascii=False),
        encoding="utf-8")
    html = report.render_week_index(folder).read_text(encoding="utf-8")
    assert "<strong>草稿</strong>" in html and "name: &lt;script&gt;" in html
    assert "<script" not in html.lower()


def test_reports_index_lists_categories_weeks_status(tmp_path: Path) -> None:
    week_folder(tmp_path, "保温杯", "2026-W46")
    week_folder(tmp_path, "保温杯", "2026-W47", status="failed")
    week_folder(tmp_path, "<i>水杯", "2026-W47")  # no "/": refused by validate
    (tmp_path / "保温杯" / ".2026-W48.building-1").mkdir()  # a build in progress: not listed
    (tmp_path / "保温杯" / "2026-W46" / "approval.json").write_text(
        '{"status": "已批准", "signatures": []}', encoding="utf-8")
    html = report.render_reports_index(tmp_path).read_text(encoding="utf-8")
    assert html.index("2026-W47") < html.index("2026-W46")  # newest first
    assert "2026-W48" not in html
    assert "failed: p1" in html and "已批准" in html
    assert "&lt;i&gt;水杯" in html and 'href="%3Ci%3E%E6%B0%B4' in html
    assert "<script" not in html.lower()


def test_unreadable_approval_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "approval.json").write_text("{not json", encoding="utf-8")
    assert report.read_approval(tmp_path)["status"].startswith("approval.json unreadable")
    assert report.read_approval(tmp_path / "none") is None
