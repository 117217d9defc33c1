"""Nothing in the data runs in the outputs: formula-like text is a string cell in plan.xlsx,
neutralised (OWASP's leading quote) in every result CSV and read back as it was, and escaped
in the rendered pages."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import IPython.display
import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from research.pages import display, report
from research.pages.display import note_html, table_html
from research.pages.results import (
    neutralise,
    neutralise_text,
    read_result,
    restore,
    restore_text,
    write_csv,
    write_page,
    write_result,
)
from research.plan import summary, xlsx
from research.plan.xlsx import write_plan_xlsx

HYPERLINK = '=HYPERLINK("http://x","点我")'
DDE = "=cmd|' /C calc'!A0"
ATTACKS = [HYPERLINK, DDE, "+1+2", "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
           "\t=1+1", "\r=1+1", "\n=1+1", "=1+2\";=1+2", "=1+2'\" ;,=1+2", "-保温杯", "=杯"]
XSS = "<script>alert(1)</script>"


# --------------------------------------------------------------------------- XLSX


def _plan_frames(event: str, category: str) -> tuple[pd.DataFrame, ...]:
    days = pd.date_range("2026-11-23", periods=14)
    daily = pd.DataFrame({"date": days, "week": ["2026-W48"] * 7 + ["2026-W49"] * 7,
                          "event": [event] * 3 + [""] * 11, "units": 10.0,
                          "revenue": -3.5, "profit": 12.25})
    weekly = pd.DataFrame({"week": ["2026-W48", "2026-W49"],
                           "week_start": pd.to_datetime(["2026-11-23", "2026-11-30"]),
                           "days": [7, 7], "units": [70.0, 70.0], "revenue": [-24.5, -24.5],
                           "profit": [85.75, 85.75]})
    monthly = pd.DataFrame({"month": ["2026-11", "2026-12"], "days": [8, 6],
                            "units": [80.0, 60.0], "revenue": [-28.0, -21.0],
                            "profit": [98.0, 73.5]})
    overview = pd.DataFrame({"项目": ["核心关键词", DDE], "内容": [HYPERLINK, "-保温杯"],
                             "来源": ["@page", category]})
    return overview, daily, weekly, monthly


@pytest.mark.parametrize("category", ["=杯", DDE, "+保温杯"])
def test_plan_xlsx_writes_every_text_cell_as_a_string(tmp_path: Path, category: str) -> None:
    overview, daily, weekly, monthly = _plan_frames(HYPERLINK, category)
    title = f"{category} 2026-W48 运营计划"
    path = write_plan_xlsx(tmp_path / "plan.xlsx", overview, daily, weekly, monthly, title)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["概况", "日计划", "周计划", "月计划"]
    for sheet in book.worksheets:
        cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
        assert cells and all(c.data_type != "f" for c in cells), sheet.title
        assert all(c.hyperlink is None for c in cells), sheet.title
        a1 = sheet["A1"]
        assert a1.data_type == "s"
        assert a1.value == (title if sheet.title == "概况" else f"{title} · {sheet.title}")
    ov = book["概况"]
    assert [ov["A3"].value, ov["B3"].value, ov["C3"].value] == ["核心关键词", HYPERLINK, "@page"]
    assert [ov["A4"].value, ov["B4"].value, ov["C4"].value] == [DDE, "-保温杯", category]
    day = book["日计划"]
    head = [c.value for c in day[2]]
    assert head[:3] == ["日期", "周", "活动"]
    assert [day.cell(row=r, column=3).value for r in (3, 4, 5)] == [HYPERLINK] * 3
    # numbers are still numbers, negative ones included
    rev = head.index("支付金额(元)") + 1
    assert day.cell(row=3, column=rev).data_type == "n"
    assert day.cell(row=3, column=rev).value == -3.5
    for name, row, label, value in [("周计划", 3, "天数", 7), ("周计划", 4, "支付金额(元)", -24.5),
                                    ("月计划", 4, "支付金额(元)", -21.0)]:
        labels = [c.value for c in book[name][2]]
        cell = book[name].cell(row=row, column=labels.index(label) + 1)
        assert (cell.value, cell.data_type) == (value, "n")


def test_plan_xlsx_keeps_the_exact_text_of_urls_and_number_like_text(tmp_path: Path) -> None:
    overview = pd.DataFrame({"项目": ["a", "b"], "内容": ["http://evil.example/x", "0012"]})
    _, daily, weekly, monthly = _plan_frames("mailto:x@y.z", "杯")
    path = write_plan_xlsx(tmp_path / "plan.xlsx", overview, daily, weekly, monthly, "t")
    sheet = openpyxl.load_workbook(path)["概况"]
    assert (sheet["B3"].value, sheet["B3"].hyperlink) == ("http://evil.example/x", None)
    assert (sheet["B4"].value, sheet["B4"].data_type) == ("0012", "s")


# --------------------------------------------------------------------------- CSV


@pytest.mark.parametrize("text", ATTACKS)
def test_formula_like_text_gets_one_quote(text: str) -> None:
    assert neutralise_text(text) == "'" + text
    assert restore_text(neutralise_text(text)) == text


@pytest.mark.parametrize("text", ["保温杯", "a=b", "1-2", "'hello", "", " =x", "＝全角",
                                  "http://evil.example/x"])
def test_other_text_is_left_alone(text: str) -> None:
    assert neutralise_text(text) == text
    assert restore_text(text) == text


@pytest.mark.parametrize("value", [-3.5, -3, 0, np.nan, None, "-3.5", "+12", "-1e3", "-.5"])
def test_numbers_are_not_text_cells(value: Any) -> None:
    assert neutralise_text(value) is value


def _raw_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_result_csv_has_no_cell_that_starts_a_formula(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "keyword": ATTACKS,
        "shop": ["=杯"] * len(ATTACKS),
        "score": np.linspace(-3.5, 2.0, len(ATTACKS)),
        "units": np.arange(len(ATTACKS)) - 5,
        "date": pd.date_range("2026-11-23", periods=len(ATTACKS)),
        "kind": pd.Categorical([["-a", "b"][i % 2] for i in range(len(ATTACKS))]),
        DDE: ["x"] * len(ATTACKS),  # a column name from the data
    })
    path = write_result(frame, tmp_path, "core_keywords")
    rows = _raw_rows(path)
    header, body = rows[0], rows[1:]
    assert header == ["keyword", "shop", "score", "units", "date", "kind", "'" + DDE]
    for row in rows:
        for i, cell in enumerate(row):
            if header[i] in ("score", "units"):
                continue
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r", "\n"), (row, cell)
    assert [r[0] for r in body] == ["'" + t for t in ATTACKS]
    # numbers stay numbers: negative values written plainly, not quoted
    assert body[0][2] == "-3.5" and body[0][3] == "-5"
    assert body[0][4] == "2026-11-23"
    back = read_result(tmp_path, "core_keywords")
    assert back is not None
    assert back.columns.tolist() == frame.columns.tolist()
    assert back["keyword"].tolist() == ATTACKS
    assert set(back["shop"]) == {"=杯"}
    assert back["kind"].tolist() == frame["kind"].astype(str).tolist()
    assert back["score"].tolist() == pytest.approx(frame["score"].tolist())
    assert back["units"].dtype.kind == "i" and back["units"].tolist() == frame["units"].tolist()


def test_write_page_neutralises_every_table(tmp_path: Path) -> None:
    class Page:
        def results(self) -> dict[str, pd.DataFrame]:
            return {"a": pd.DataFrame({"shop": ["@x"]}), "b": pd.DataFrame({"t": ["=1", "ok"]})}

        def summary(self) -> str:
            return "=not a csv"

    written = write_page(Page(), tmp_path, "demo")
    assert [p.name for p in written] == ["a.csv", "b.csv", "demo.txt"]
    assert _raw_rows(written[0]) == [["shop"], ["'@x"]]
    assert _raw_rows(written[1]) == [["t"], ["'=1"], ["ok"]]
    assert not list((tmp_path / "results").glob(".*"))  # no temporary file left


def test_write_csv_leaves_nothing_behind_when_it_fails(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def half_written(self: pd.DataFrame, path: Path, **kwargs: Any) -> None:
        Path(path).write_text("a\n1", encoding="utf-8")
        raise OSError(28, "No space left on device")

    target = tmp_path / "x.csv"
    target.write_text("old\n", encoding="utf-8")
    monkeypatch.setattr(pd.DataFrame, "to_csv", half_written)
    with pytest.raises(OSError, match="No space"):
        write_csv(pd.DataFrame({"a": [1, 2]}), target)
    assert target.read_text(encoding="utf-8") == "old\n"  # the old file, whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv"]  # no temporary file left


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=12), min_size=1, max_size=6))
def test_neutralise_round_trips_any_text(texts: list[str]) -> None:
    frame = pd.DataFrame({"t": texts})
    safe = neutralise(frame)
    for cell in safe["t"]:
        if cell[:1] in ("=", "+", "-", "@", "\t", "\r", "\n"):
            float(cell)  # only a plain number may still start so
    assert restore(safe)["t"].tolist() == texts


def test_the_plan_reads_neutralised_keywords_back_as_they_were(tmp_path: Path) -> None:
    core = pd.DataFrame({"role": ["core", "core", "core"], "rank": [1, 2, 3],
                         "keyword": ["-保温杯", "=杯", XSS], "reasons": [DDE, "ok", "ok"],
                         "popularity_mean_daily": [-1.0, 2.0, 3.0]})
    write_result(core, tmp_path, "core_keywords")
    sec = summary.keywords_section(tmp_path, n=3)
    assert sec.table is not None
    assert sec.table["keyword"].tolist() == ["-保温杯", "=杯", XSS]
    assert sec.table["reasons"].tolist() == [DDE, "ok", "ok"]
    assert sec.brief == f"-保温杯、=杯、{XSS}"


# --------------------------------------------------------------------------- HTML


def test_plan_section_with_a_script_keyword_is_shown_escaped(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    core = pd.DataFrame({"role": ["core"], "rank": [1], "keyword": [XSS], "reasons": [XSS]})
    write_result(core, tmp_path, "core_keywords")
    sec = summary.keywords_section(tmp_path, n=1)
    sec.lines.append(f"top keyword {XSS}")
    shown: list[str] = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj.data))
    summary.show_section(sec)
    html = "".join(shown)
    assert "<script" not in html.lower()
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 3  # line, keyword, reasons
    assert display.note_html("{x}", x=XSS) == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"


def test_event_names_in_tables_are_escaped() -> None:
    frame = pd.DataFrame({XSS: [XSS, HYPERLINK], "revenue": [-3.5, 1.0]})
    html = table_html(frame, caption=XSS)
    assert "<script" not in html.lower()
    assert html.count("&lt;script&gt;") == 3  # caption, header, cell
    assert "=HYPERLINK(" in html and 'HYPERLINK("' not in html  # quotes escaped too
    assert note_html("**{e}**", e=XSS) == (
        "<p><strong>&lt;script&gt;alert(1)&lt;/script&gt;</strong></p>")


def test_plan_xlsx_failure_keeps_the_old_file_and_no_temporary(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    def half_written(tmp: Path, *args: Any) -> None:
        tmp.write_bytes(b"PK\x03\x04 half")
        raise OSError(28, "No space left on device")

    target = tmp_path / "plan.xlsx"
    target.write_bytes(b"old plan")
    monkeypatch.setattr(xlsx, "_write_book", half_written)
    with pytest.raises(OSError, match="No space"):
        write_plan_xlsx(target, *_plan_frames("x", "杯"), "t")
    assert target.read_bytes() == b"old plan"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.xlsx"]


def test_the_week_index_counts_rows_not_lines(tmp_path: Path) -> None:
    write_result(pd.DataFrame({"t": ["a\r\nb", "\r=1", "c"]}), tmp_path, "multi")
    listed = report.list_results(tmp_path)
    assert [(r["name"], r["rows"]) for r in listed] == [("multi", 3)]
