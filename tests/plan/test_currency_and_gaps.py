"""Money in the scope's currency on the price page, the plan summary and plan.xlsx; the plan
summary says which data is missing instead of dropping a section (issue 16).

Hand-built warehouses: listings priced in BRL (Olist's currency) and in CNY, with no keyword,
traffic or sales rows, so the plan's sections that need those must say so.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from research.analyses import prices
from research.pages.display import currency_symbol, money, money_cells
from research.pages.results import write_page
from research.plan.page import study as plan_study
from research.plan.summary import outlook_section, price_section
from research.plan.xlsx import write_plan_xlsx
from research.store.scope import Scope
from tests._support import warehouse_with

S1, S2 = pd.Timestamp("2026-11-15"), pd.Timestamp("2026-11-22")


def _items(currency: str) -> pd.DataFrame:
    """60 listings a snapshot over four shops, prices 19.9–199, units heavier at 59–79."""
    rng = np.random.default_rng(3)
    rows = []
    for snap in (S1, S2):
        for i in range(60):
            price = float(np.round(19.9 + 3 * i, 1))
            units = int(40 + (200 if 59 < price <= 79 else 0) + rng.integers(0, 20))
            rows.append({"snapshot_date": snap, "item_id": f"i{i}", "shop": f"s{i % 4}",
                         "title": f"杯 {i}", "category": "杯", "price": price,
                         "sales_30d": units, "currency": currency})
    return pd.DataFrame(rows)


def _scope(currency: str, **values: object) -> Scope:
    base = {"category": "杯", "week": "2026-W47", "week_start": "2026-11-16",
            "week_end": "2026-11-22", "week_rule": "given", "shop": "s0", "shop_rule": "given",
            "competitors": ("s1", "s2"), "competitor_rule": "named", "currency": currency,
            "data_start": "2026-11-15", "data_end": "2026-11-22"}
    return Scope(**{**base, **values})


def _warehouse(tmp_path: Path, **frames: pd.DataFrame) -> Path:
    return warehouse_with(tmp_path / "w.duckdb", **frames)


def _price_then_plan(tmp_path: Path, currency: str) -> tuple[str, list[str]]:
    """The price page's summary and every text of the plan summary (sentences, briefs, the
    概况 rows, shown tables), on listings priced in ``currency``."""
    path = _warehouse(tmp_path, items=_items(currency))
    scope = _scope(currency)
    out = tmp_path / "out"
    page = prices.study(scope, path)
    assert page.recommended is not None  # a price figure to check
    write_page(page, out, "price_bands")
    plan = plan_study(scope, path, out, unit_cost=30.0)
    texts = [str(v) for v in plan.overview().to_numpy().ravel()]
    for sec in plan.sections.values():
        texts += [*sec.lines, sec.brief, sec.missing]
        if sec.table is not None:
            for col, fmt in sec.formats.items():
                if callable(fmt) and col in sec.table:
                    texts += [fmt(v) for v in sec.table[col]]
    return page.summary(), texts


# ----------------------------------------------------------------------------- money

def test_symbols_and_unknown_code() -> None:
    assert [currency_symbol(c) for c in ("CNY", "BRL", "USD", "GBP", "INR", "IDR", "EUR")] \
        == ["¥", "R$", "$", "£", "₹", "Rp", "€"]
    assert money(65.9, "BRL") == "R$65.90" and money(73, "CNY") == "¥73.00"
    assert money(1500, "XYZ", 0) == "XYZ 1,500" and money(-2.5, "GBP") == "-£2.50"
    with pytest.raises(ValueError, match="currency"):
        money(1.0, "")


def test_brl_price_page_and_plan_summary_show_reais_and_no_yuan(tmp_path: Path) -> None:
    summary, texts = _price_then_plan(tmp_path, "BRL")
    assert "R$" in summary and "¥" not in summary
    joined = "\n".join(texts)
    assert "R$" in joined  # the recommended price point, the margin's unit cost
    assert "¥" not in joined and "元" not in joined.replace("单元", "")


def test_cny_price_page_and_plan_summary_show_yuan(tmp_path: Path) -> None:
    summary, texts = _price_then_plan(tmp_path, "CNY")
    joined = "\n".join(texts)
    assert "¥" in summary and "¥" in joined and "R$" not in joined


def test_plan_xlsx_number_formats_and_labels_carry_the_currency(tmp_path: Path) -> None:
    daily = pd.DataFrame({"date": pd.date_range("2026-11-23", periods=7), "week": "2026-W48",
                          "event": "", "revenue": 100.0, "profit": 20.0, "units": 3})
    weekly = pd.DataFrame({"week": ["2026-W48"], "week_start": [pd.Timestamp("2026-11-23")],
                           "days": [7], "revenue": [700.0], "units": [21], "aov": [33.3]})
    monthly = pd.DataFrame({"month": ["2026-11"], "days": [7], "revenue": [700.0]})
    summary = pd.DataFrame({"项目": ["计划周期"], "内容": ["2026-W48"]})
    for code, fmt, unit in (("BRL", '"R$"#,##0.00', "R$"), ("CNY", '"¥"#,##0.00', "元"),
                            ("CHF", '"CHF "#,##0.00', "CHF")):
        path = write_plan_xlsx(tmp_path / f"{code}.xlsx", summary, daily, weekly, monthly, "计划",
                               currency=code)
        sheet = openpyxl.load_workbook(path)["周计划"]
        heads = {c.value: c.column for c in sheet[2]}
        revenue, units = heads[f"支付金额({unit})"], heads["件数"]
        assert f"客单价({unit})" in heads
        assert sheet.cell(3, revenue).number_format == fmt
        assert sheet.cell(3, revenue).value == 700.0
        assert "¥" not in sheet.cell(3, units).number_format
        assert sheet.cell(3, heads["周一"]).number_format == "yyyy-mm-dd"
        if code != "CNY":
            assert not any("元" in str(h) or "¥" in str(h) for h in heads)


def test_money_rows_of_a_long_table() -> None:
    t = pd.DataFrame({"metric": ["units", "profit"], "total": [1200.0, -50.0]})
    shown = money_cells(t, "metric", ["total"], {"profit"}, "INR")
    assert shown["total"].tolist() == ["1,200", "-₹50"]


def test_outlook_section_money_rows_in_the_currency(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    pd.DataFrame({"metric": ["units", "revenue", "profit"],
                  "two-month total": [900.0, 45000.0, 9000.0], "low": [800.0, 40000.0, 7000.0],
                  "high": [1000.0, 50000.0, 11000.0]}).to_csv(
        tmp_path / "results" / "outlook.csv", index=False, encoding="utf-8-sig")
    sec = outlook_section(tmp_path, "USD")
    assert sec.ok
    assert sec.brief == "件数 900（800–1,000）；支付金额 $45,000（$40,000–$50,000）；利润 $9,000（$7,000–$11,000）"
    assert sec.table["total"].tolist() == ["900", "$45,000", "$9,000"]


# ----------------------------------------------------------------------------- gaps

def test_plan_summary_names_the_missing_data(tmp_path: Path) -> None:
    """Items only: keywords, our sales are missing; no page ran but the price page."""
    path = _warehouse(tmp_path, items=_items("CNY"))
    out = tmp_path / "out"
    write_page(prices.study(_scope("CNY"), path), out, "price_bands")
    plan = plan_study(_scope("CNY"), path, out)
    s = plan.sections
    assert "关键词数据（keywords 表" in s["keywords"].missing
    assert "不是" not in s["keywords"].missing and "该页失败" not in s["keywords"].missing
    assert "没有可归入的销售（sales 表" in s["outlook"].missing
    assert s["price"].ok  # the price page ran on the listings
    assert "该页失败或未运行" in s["advantages"].missing  # items exist: the page did not run
    pd.DataFrame({"rank": []}).to_csv(out / "results" / "advantages.csv", index=False)
    ours_gone = plan_study(_scope("CNY", shop="nobody"), path, out).sections["advantages"]
    assert "我店在类目「杯」没有在售商品" in ours_gone.missing  # an empty result, explained
    rows = plan.overview().set_index("项目")["内容"]
    assert rows.str.len().gt(0).all()  # every section has one line in the 概况 sheet
    assert "关键词数据" in rows["核心关键词 · Core keywords"]


def test_plan_summary_without_listings_or_competitors(tmp_path: Path) -> None:
    kw = pd.DataFrame({"date": [pd.Timestamp("2026-11-20")], "category": ["杯"],
                       "keyword": ["杯"], "search_popularity": [1.0]})
    path = _warehouse(tmp_path, keywords=kw)
    plan = plan_study(_scope("CNY", competitors=()), path, tmp_path / "out")
    s = plan.sections
    for key in ("price", "advantages", "listings"):
        assert "商品快照（items 表" in s[key].missing, key
    assert "该页失败或未运行" in s["keywords"].missing  # keyword rows exist: the page did not run
    for sec in s.values():
        assert sec.ok or " · " in sec.missing


def test_price_section_gap_only_when_the_result_is_absent(tmp_path: Path) -> None:
    gap = ("仓库中没有类目「杯」的商品快照（items 表，截至 2026-11-22）",
           "the warehouse has no listing snapshot (items) of '杯' up to 2026-11-22")
    sec = price_section(tmp_path, 10.0, 0.3, "CNY", gap=gap)
    assert sec.missing.startswith(gap[0]) and "The warehouse has no listing" in sec.missing


@pytest.mark.realdata
def test_olist_price_page_and_plan_in_reais(real_data: Path, tmp_path: Path) -> None:
    from research.sources.public import import_public  # the adapter registry, for this test only
    from research.store.scope import resolve_scope

    warehouse = tmp_path / "olist.duckdb"
    import_public("olist", real_data / "olist", warehouse)
    scope = resolve_scope(warehouse, "cama_mesa_banho")
    assert scope.currency == "BRL"
    page = prices.study(scope, warehouse)
    out = tmp_path / "out"
    write_page(page, out, "price_bands")
    plan = plan_study(scope, warehouse, out)
    texts = [page.summary(), *map(str, plan.overview().to_numpy().ravel())]
    for sec in plan.sections.values():
        texts += [*sec.lines, sec.brief, sec.missing]
    joined = "\n".join(texts)
    assert "R$" in joined and "¥" not in joined


@pytest.mark.slow
def test_brl_price_and_plan_notebooks_print_no_yuan(tmp_path: Path) -> None:
    """The rendered price and plan pages on listings in BRL: money in R$, never ¥ or 元."""
    import html
    import json
    import re

    import papermill as pm

    path = _warehouse(tmp_path, items=_items("BRL"))
    notebooks = Path(__file__).resolve().parents[2] / "notebooks"
    out = tmp_path / "out"
    params = {"warehouse": str(path), "category": "杯", "week": "2026-W47",
              "output_dir": str(out), "shop": "s0", "competitors": ["s1", "s2"]}
    texts = []
    for name, extra in (("price_bands", {"unit_cost": 30.0}), ("plan_summary", {})):
        done = tmp_path / f"{name}.ipynb"
        pm.execute_notebook(str(notebooks / f"{name}.ipynb"), str(done),
                            parameters={**params, **extra}, kernel_name="python3",
                            cwd=str(tmp_path))
        for cell in json.loads(done.read_text(encoding="utf-8"))["cells"]:
            for o in cell.get("outputs", []):
                texts.append("".join(o.get("data", {}).get("text/html", "")))
    text = html.unescape(re.sub(r"<[^>]+>", "", "\n".join(texts)))
    assert "R$" in text and "¥" not in text
    assert "元" not in text.replace("单元", "")
