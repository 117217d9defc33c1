"""How report notebooks show tables and data-driven sentences.

Everything taken from the data (search terms, titles, shop names) is HTML-escaped here, so a
listing titled ``<script>alert(1)</script>`` shows as text in the report and runs nothing.

Examples
--------
>>> import pandas as pd
>>> html = table_html(pd.DataFrame({"标题": ["<b>x</b>"], "share": [0.1234]}),
...                   formats={"share": "{:.1%}"})
>>> "&lt;b&gt;x&lt;/b&gt;" in html and "12.3%" in html
True
>>> note_html("Top term: **{term}**", term="<i>a</i>")
'<p>Top term: <strong>&lt;i&gt;a&lt;/i&gt;</strong></p>'
"""

from __future__ import annotations

import html as _html
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["table_html", "show_table", "note_html", "note", "fmt_share", "fmt_number",
           "fmt_money", "money", "money_formatter", "currency_symbol", "money_cells",
           "CURRENCY_SYMBOLS", "PERCENT", "INTEGER"]

PERCENT = "{:.1%}"
INTEGER = "{:,.0f}"

#: the symbol written before a money figure, by ISO 4217 code; any other code is written
#: as the code and a space (``CHF 12.00``)
CURRENCY_SYMBOLS = {"CNY": "¥", "BRL": "R$", "USD": "$", "GBP": "£", "INR": "₹", "IDR": "Rp",
                    "EUR": "€"}


def fmt_share(x: float | None, digits: int = 1) -> str:
    """Format a fraction as a percentage; missing as an en dash."""
    return "–" if x is None or pd.isna(x) else f"{x:.{digits}%}"


def fmt_number(x: float | None, digits: int = 0) -> str:
    """Format a number with thousands separators; missing as an en dash."""
    return "–" if x is None or pd.isna(x) else f"{x:,.{digits}f}"


def currency_symbol(currency: str) -> str:
    """The prefix of a money figure in ``currency`` (an ISO 4217 code).

    Known codes get their symbol (:data:`CURRENCY_SYMBOLS`); any other code is returned with
    a space after it, so the figure still says its currency. An empty code is refused: every
    money figure is in the scope's currency, which is never empty.

    Examples
    --------
    >>> [currency_symbol(c) for c in ("CNY", "BRL", "usd", "CHF")]
    ['¥', 'R$', '$', 'CHF ']
    """
    code = str(currency or "").strip().upper()
    if not code:
        raise ValueError("a money figure needs its currency (the scope's currency is empty)")
    return CURRENCY_SYMBOLS.get(code, f"{code} ")


def money(value: float | None, currency: str, decimals: int = 2) -> str:
    """Format a money figure with its currency's symbol; missing as an en dash.

    The one money format of every page, the plan summary and the plan's sentences (the
    workbook uses the same symbols as Excel number formats: :func:`research.plan.xlsx`).

    Examples
    --------
    >>> money(65.9, "BRL"), money(73, "CNY"), money(-1234.5, "USD", 0), money(5, "CHF")
    ('R$65.90', '¥73.00', '-$1,234', 'CHF 5.00')
    >>> money(float("nan"), "BRL")
    '–'
    """
    if value is None or pd.isna(value):
        return "–"
    sign = "-" if float(value) < 0 and round(abs(float(value)), decimals) > 0 else ""
    return f"{sign}{currency_symbol(currency)}{abs(float(value)):,.{decimals}f}"


def fmt_money(x: float | None, currency: str = "CNY", digits: int = 2) -> str:
    """:func:`money` under its older name (same result)."""
    return money(x, currency, digits)


def money_formatter(currency: str, decimals: int = 2) -> Any:
    """A table column format (for :func:`table_html`) writing money in ``currency``.

    Examples
    --------
    >>> money_formatter("GBP", 0)(1234.4)
    '£1,234'
    """
    currency_symbol(currency)  # refuse an empty currency now, not at the first cell

    def fmt(x: float | None) -> str:
        return money(x, currency, decimals)
    return fmt


def money_cells(frame: pd.DataFrame, key: str, columns: list[str], money_keys: set[str],
                currency: str, decimals: int = 0) -> pd.DataFrame:
    """A copy of a long table (one row per metric) whose money rows are written with the
    currency and the other rows as plain numbers, for display.

    Parameters
    ----------
    frame : DataFrame
    key : str
        The column naming each row's metric.
    columns : list of str
        The value columns to write.
    money_keys : set of str
        Values of ``key`` whose rows are money.
    currency : str
    decimals : int

    Examples
    --------
    >>> t = pd.DataFrame({"metric": ["units", "revenue"], "total": [1200.0, 5000.0]})
    >>> money_cells(t, "metric", ["total"], {"revenue"}, "BRL")["total"].tolist()
    ['1,200', 'R$5,000']
    """
    out = frame.copy()
    is_money = out[key].isin(money_keys)
    for col in columns:
        if col in out:
            out[col] = [money(v, currency, decimals) if m else fmt_number(v, decimals)
                        for v, m in zip(out[col], is_money, strict=True)]
    return out


def _default_format(series: pd.Series) -> str | None:
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_integer_dtype(series):
        return INTEGER
    if pd.api.types.is_float_dtype(series):
        return "{:,.2f}"
    return None


def table_html(frame: pd.DataFrame, caption: str | None = None,
               formats: Mapping[str, str | Any] | None = None, max_rows: int = 200,
               index: bool = False) -> str:
    """Render a DataFrame as an escaped, formatted HTML table.

    Parameters
    ----------
    frame : DataFrame
    caption : str, optional
        Shown above the table (escaped).
    formats : mapping, optional
        Column → format string (``"{:.1%}"``) or callable; other numeric columns get
        thousands separators.
    max_rows : int
        Rows shown; a note says how many more there are (the full table is in ``results/``).
    index : bool
        Whether to show the index.
    """
    shown = frame.head(max_rows)
    fmt: dict[str, Any] = {}
    for col in shown.columns:
        if formats and col in formats:
            fmt[col] = formats[col]
        else:
            default = _default_format(shown[col])
            if default:
                fmt[col] = default
    styler = shown.style.format(fmt, na_rep="–", escape="html")
    styler = styler.format_index(escape="html", axis=1).format_index(escape="html", axis=0)
    if not index:
        styler = styler.hide(axis="index")
    if caption:
        styler = styler.set_caption(_html.escape(caption))
    styler = styler.set_table_attributes('class="report-table"')
    out = styler.to_html()
    if len(frame) > max_rows:
        out += (f'<p class="table-note">Showing {max_rows:,} of {len(frame):,} rows; '
                f"the full table is in the results CSV.</p>")
    return f'<div class="table-wrap">{out}</div>'


def show_table(frame: pd.DataFrame, caption: str | None = None,
               formats: Mapping[str, str | Any] | None = None, max_rows: int = 200,
               index: bool = False) -> None:
    """Display :func:`table_html` in a notebook."""
    from IPython.display import HTML, display

    display(HTML(table_html(frame, caption, formats, max_rows, index)))


_BOLD = re.compile(r"\*\*(.+?)\*\*")


def note_html(template: str, **values: Any) -> str:
    """Fill a sentence template with escaped values; ``**x**`` becomes bold.

    The template is trusted (written in the notebook); the values are data and are escaped.
    """
    escaped = {k: _html.escape(str(v)) for k, v in values.items()}
    text = template.format(**escaped)
    return "<p>" + _BOLD.sub(r"<strong>\1</strong>", text) + "</p>"


def note(template: str, **values: Any) -> None:
    """Display :func:`note_html` in a notebook."""
    from IPython.display import HTML, display

    display(HTML(note_html(template, **values)))
