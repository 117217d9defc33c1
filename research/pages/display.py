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
           "fmt_money", "PERCENT", "INTEGER", "MONEY"]

PERCENT = "{:.1%}"
INTEGER = "{:,.0f}"
MONEY = "¥{:,.2f}"


def fmt_share(x: float | None, digits: int = 1) -> str:
    """Format a fraction as a percentage; missing as an en dash."""
    return "–" if x is None or pd.isna(x) else f"{x:.{digits}%}"


def fmt_number(x: float | None, digits: int = 0) -> str:
    """Format a number with thousands separators; missing as an en dash."""
    return "–" if x is None or pd.isna(x) else f"{x:,.{digits}f}"


def fmt_money(x: float | None, currency: str = "CNY", digits: int = 2) -> str:
    """Format money with its currency (¥ for CNY, the ISO code otherwise)."""
    if x is None or pd.isna(x):
        return "–"
    return f"¥{x:,.{digits}f}" if currency == "CNY" else f"{currency} {x:,.{digits}f}"


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
