"""Headless Chromium opens a rendered study: the top index, the week index and a page load
with nothing failing (no console error, no failed request, no script dialog), the chart
renders, the data's ``<script>`` title shows as text, and screenshots are saved.

Chromium is Debian's package (``make browser`` installs it); without ``/usr/bin/chromium`` the
test skips outside CI and fails in CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests._support import unavailable
from tests.study.test_study import XSS, make_tiny_warehouse, write_study

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def chromium() -> Path:
    if not CHROMIUM.exists():
        unavailable(str(CHROMIUM), "make browser installs Debian's chromium")
    try:
        import playwright.sync_api  # noqa: F401  (a dev dependency: fail in CI, skip outside)
    except ImportError:
        unavailable("playwright", "pip install -e '.[dev]'")
    return CHROMIUM


def test_rendered_report_opens_offline_without_errors(chromium: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    from research.study import definition as st
    from research.study.runner import run_study

    warehouse = make_tiny_warehouse(tmp_path / "tiny.duckdb")
    path = write_study(tmp_path, [{"name": "ok_page"}, {"name": "xss_page"}])
    run = st.validate(st.apply_overrides(st.load_study(path), {"warehouse": str(warehouse)}))
    manifest = run_study(run, tmp_path / "reports", jobs=2, progress=False)
    assert manifest["status"] == "ok", manifest["pages"]
    week = Path(manifest["index"]).parent

    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))
        page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))

        page.goto((tmp_path / "reports" / "index.html").as_uri())
        assert "2026-W47" in page.inner_text("body")
        page.screenshot(path=str(tmp_path / "reports_index.png"), full_page=True)

        page.goto((week / "index.html").as_uri())
        body = page.inner_text("body")
        assert f"Top title {XSS}" in body  # the summary, shown as text
        page.screenshot(path=str(tmp_path / "week_index.png"), full_page=True)

        page.click("text=测试页 · OK page")
        page.wait_for_load_state("load")
        assert page.url.endswith("ok_page.html")
        images = page.evaluate(
            "Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
        assert images and all(done and width > 0 for done, width in images)
        assert page.locator("nav.toc a").count() >= 2
        page.screenshot(path=str(tmp_path / "ok_page.png"), full_page=True)

        page.goto((week / "xss_page.html").as_uri())
        cell = page.locator("td", has_text="<script>alert(1)</script>").first
        assert cell.inner_text() == XSS
        sticky = page.evaluate(
            "getComputedStyle(document.querySelector('.table-wrap thead th')).position")
        assert sticky == "sticky"
        page.screenshot(path=str(tmp_path / "xss_page.png"), full_page=True)
        browser.close()

    assert problems == []
    assert all(url.startswith("file://") for url in requests), requests
    assert (tmp_path / "ok_page.png").stat().st_size > 10_000
