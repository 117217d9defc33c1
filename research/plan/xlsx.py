"""The operating plan's Excel file, ``plan.xlsx``: a summary sheet and the day/week/month plan.

Sheets 概况 (the plan summary), 日计划, 周计划 and 月计划, with Chinese column labels
(:data:`LABELS`), number formats for units, money, shares and dates, frozen headers and an
autofilter. Values, not formulas, are written, so every reader sees the same numbers; the
file is written beside its target and moved into place, so a reader never sees half a file.

Text from the data (event names, categories, keywords, shop names) is always written as a
string cell, never as a formula, a hyperlink or a number: the workbook is opened with
xlsxwriter's ``strings_to_formulas``, ``strings_to_urls`` and ``strings_to_numbers`` all off
(:data:`WORKBOOK_OPTIONS`), so an event named ``=HYPERLINK("http://x","点我")`` shows as that
text and runs nothing, and the cell holds the exact text (no quote added, unlike the CSVs of
:mod:`research.pages.results`, which have no cell types).

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> import pandas as pd
>>> daily = pd.DataFrame({"date": pd.date_range("2026-11-23", periods=7), "week": "2026-W48",
...                       "event": "", "revenue": 100.0})
>>> weekly = pd.DataFrame({"week": ["2026-W48"], "week_start": [pd.Timestamp("2026-11-23")],
...                        "days": [7], "revenue": [700.0]})
>>> monthly = pd.DataFrame({"month": ["2026-11"], "days": [7], "revenue": [700.0]})
>>> summary = pd.DataFrame({"item": ["计划周期"], "value": ["2026-W48"]})
>>> with tempfile.TemporaryDirectory() as folder:
...     path = write_plan_xlsx(Path(folder) / "plan.xlsx", summary, daily, weekly, monthly, "计划")
...     list(pd.read_excel(path, sheet_name=None, engine="calamine"))
['概况', '日计划', '周计划', '月计划']
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from research.pages.display import currency_symbol
from research.plan.metrics import MONEY_METRICS, PLAN_METRICS

__all__ = ["write_plan_xlsx", "WORKBOOK_OPTIONS", "money_number_format", "labels"]

#: xlsxwriter workbook options: every text cell is a string cell — never a formula (``=…``),
#: a hyperlink (``http://…``) or a number parsed from text
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False,
                    "strings_to_numbers": False}

#: column labels of the plan sheets (``元`` is replaced by the plan's currency: :func:`labels`)
LABELS = {
    "date": "日期", "week": "周", "week_start": "周一", "month": "月份", "days": "天数",
    "units": "件数", "revenue": "支付金额(元)", "cost": "商品成本(元)", "ad_spend": "推广花费(元)",
    "refunds": "退款(元)", "platform_fees": "平台费用(元)", "profit": "利润(元)", "buyers": "支付买家数",
    "uv_sum_daily": "访客数(日UV之和)", "uv_avg_daily": "日均访客数", "conversion": "支付转化率",
    "aov": "客单价(元)", "roi": "投产比ROI", "event": "活动",
}


def money_number_format(currency: str) -> str:
    """The Excel number format of a money cell in ``currency``: the symbol of
    :func:`research.pages.display.currency_symbol` as a quoted literal, two decimals.

    Examples
    --------
    >>> money_number_format("CNY"), money_number_format("BRL"), money_number_format("CHF")
    ('"¥"#,##0.00', '"R$"#,##0.00', '"CHF "#,##0.00')
    """
    return f'"{currency_symbol(currency)}"#,##0.00'


def labels(currency: str) -> dict[str, str]:
    """:data:`LABELS` with the money unit in ``currency`` (元 for CNY, else its symbol).

    Examples
    --------
    >>> labels("CNY")["revenue"], labels("BRL")["revenue"], labels("BRL")["units"]
    ('支付金额(元)', '支付金额(R$)', '件数')
    """
    unit = "元" if str(currency).strip().upper() == "CNY" else currency_symbol(currency).strip()
    return {k: v.replace("(元)", f"({unit})") for k, v in LABELS.items()}


def _sheet(writer: pd.ExcelWriter, frame: pd.DataFrame, name: str, title: str,
           currency: str) -> None:

    book = writer.book
    head = book.add_format({"bold": True, "bg_color": "#1f4e79", "font_color": "white",
                            "border": 1, "text_wrap": True, "valign": "vcenter"})
    formats = {
        "money": book.add_format({"num_format": money_number_format(currency)}),
        "int": book.add_format({"num_format": "#,##0"}),
        "share": book.add_format({"num_format": "0.00%"}),
        "ratio": book.add_format({"num_format": "0.00"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "text": book.add_format({}),
    }
    names = labels(currency)
    shown = frame.rename(columns=names)
    shown.to_excel(writer, sheet_name=name, index=False, startrow=1)
    sheet = writer.sheets[name]
    sheet.write_string(0, 0, str(title), book.add_format({"bold": True, "font_size": 13}))
    for j, col in enumerate(frame.columns):
        kind = ("money" if col in MONEY_METRICS or col == "aov" else
                "share" if col == "conversion" else "ratio" if col == "roi" else
                "date" if col in ("date", "week_start") else
                "int" if col in ("units", "buyers", "uv_sum_daily", "uv_avg_daily", "days") else
                "text")
        label = names.get(col, col)
        width = max(len(str(label)) * 2 + 2, 12 if kind != "text" else 14)
        sheet.set_column(j, j, width, formats[kind])
        sheet.write_string(1, j, str(label), head)
    sheet.freeze_panes(2, 1)
    sheet.autofilter(1, 0, 1 + len(frame), len(frame.columns) - 1)


def write_plan_xlsx(path: str | os.PathLike[str], summary: pd.DataFrame, daily: pd.DataFrame,
                    weekly: pd.DataFrame, monthly: pd.DataFrame, title: str,
                    currency: str = "CNY") -> Path:
    """Write ``plan.xlsx``: sheets 概况 (summary), 日计划, 周计划, 月计划.

    Values (not formulas) are written, so every reader sees the same numbers; units, money,
    shares and dates carry number formats (money in ``currency``, the scope's: its symbol in
    the number format and in the column labels, :func:`money_number_format`); headers are frozen and columns sized. Every text
    cell — the title, the summary, labels, event names — is a string cell holding the exact
    text, even when it starts with ``=`` (:data:`WORKBOOK_OPTIONS`).
    """

    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        _write_book(tmp, summary, daily, weekly, monthly, title, currency)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _write_book(tmp: Path, summary: pd.DataFrame, daily: pd.DataFrame, weekly: pd.DataFrame,
                monthly: pd.DataFrame, title: str, currency: str) -> None:
    # dates as dates (pandas would write its own "YYYY-MM-DD HH:MM:SS" over the column format)
    with pd.ExcelWriter(tmp, engine="xlsxwriter", date_format="yyyy-mm-dd",
                        datetime_format="yyyy-mm-dd",
                        engine_kwargs={"options": dict(WORKBOOK_OPTIONS)}) as writer:
        book = writer.book
        sheet = book.add_worksheet("概况")
        writer.sheets["概况"] = sheet
        bold = book.add_format({"bold": True, "font_size": 13})
        key = book.add_format({"bold": True, "bg_color": "#deeaf6", "border": 1,
                               "text_wrap": True, "valign": "top"})
        val = book.add_format({"text_wrap": True, "valign": "top", "border": 1})
        sheet.write_string(0, 0, str(title), bold)
        sheet.set_column(0, 0, 22)
        sheet.set_column(1, 1, 70)
        sheet.set_column(2, 2, 40)
        for i, row in enumerate(summary.itertuples(index=False), start=2):
            sheet.write_string(i, 0, str(row[0]), key)
            sheet.write_string(i, 1, str(row[1]), val)
            if len(row) > 2:
                sheet.write_string(i, 2, str(row[2]), val)
        sheet.freeze_panes(2, 0)
        cols_daily = ["date", "week", "event", *[c for c in PLAN_METRICS if c in daily]]
        _sheet(writer, daily[cols_daily], "日计划", f"{title} · 日计划", currency)
        cols_week = ["week", "week_start", "days", *[c for c in PLAN_METRICS if c in weekly],
                     *[c for c in ("uv_avg_daily", "conversion", "aov", "roi") if c in weekly]]
        _sheet(writer, weekly[cols_week], "周计划", f"{title} · 周计划", currency)
        cols_month = ["month", "days", *[c for c in PLAN_METRICS if c in monthly],
                      *[c for c in ("uv_avg_daily", "conversion", "aov", "roi") if c in monthly]]
        _sheet(writer, monthly[cols_month], "月计划", f"{title} · 月计划", currency)
