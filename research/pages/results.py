"""Result tables: CSV files (UTF-8 with BOM, so Excel opens the Chinese) in a study's
``results/`` folder, written atomically, and read back by later notebooks (the plan).

Formula injection (OWASP "CSV Injection"): a spreadsheet opening a CSV runs any cell that
starts with ``=``, ``+``, ``-`` or ``@`` (and cells starting with a tab, a carriage return or
a line feed can be made to). Names from the data — keywords, shops, titles, event names —
may start so. Every CSV written here goes through :func:`write_csv`, which applies
:func:`neutralise`: a *text* cell starting with one of those characters gets a single quote
``'`` in front (OWASP's remedy), so Excel shows it as text. Numbers are not text and stay as
they are (``-3.5`` stays ``-3.5``); a text cell that is just a plain number (``"-3.5"``)
cannot be a formula and is left alone too. Separators, quotes and line breaks inside a cell
are quoted as RFC 4180 says (lines end with CRLF, so a lone CR is quoted too), so no cell
can start in the middle of another. Column names are treated
like text cells (some tables take them from the data).

The quote is reversible: a text cell that already starts with quotes followed by one of the
characters gets one more quote, so :func:`restore` (used by :func:`read_result`) removes
exactly one and gives the original text back — the plan reads a keyword ``-保温杯`` or a
shop ``=杯`` as it was. Read a result CSV with :func:`read_result`, not ``pd.read_csv``.

Examples
--------
>>> import tempfile, pandas as pd
>>> folder = tempfile.mkdtemp()
>>> path = write_result(pd.DataFrame({"关键词": ["保温杯", "=1+1"], "score": [1.5, -2.0]}),
...                     folder, "core_keywords")
>>> path.read_text(encoding="utf-8-sig").splitlines()
['关键词,score', '保温杯,1.5', "'=1+1,-2.0"]
>>> read_result(folder, "core_keywords")["关键词"].tolist()
['保温杯', '=1+1']
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pandas as pd

__all__ = ["PageResult", "write_result", "read_result", "results_dir", "write_summary",
           "read_summary", "write_page", "write_csv", "neutralise", "neutralise_text",
           "restore", "restore_text", "FORMULA_STARTS", "write_text_atomic"]

#: the first characters that make a spreadsheet read a CSV cell as a formula (OWASP's list:
#: equals, plus, minus, at, tab, carriage return, line feed)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
_RISKY = re.compile("'*[" + re.escape("".join(FORMULA_STARTS)) + "]")
_QUOTED = re.compile("'+[" + re.escape("".join(FORMULA_STARTS)) + "]")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


@runtime_checkable
class PageResult(Protocol):
    """What every page's ``study(scope, warehouse, **params)`` returns.

    ``results()`` names the tables written to ``results/<name>.csv`` (the plan reads them);
    ``summary()`` is the page's one sentence shown on the study's index.
    """

    def results(self) -> dict[str, pd.DataFrame]:
        """Result tables by file stem."""
        ...

    def summary(self) -> str:
        """One plain-text sentence."""
        ...


def results_dir(output_dir: str | os.PathLike[str]) -> Path:
    """Return (and create) the ``results/`` folder of a study output folder."""
    path = Path(output_dir) / "results"
    path.mkdir(parents=True, exist_ok=True)
    return path


def neutralise_text(value: Any) -> Any:
    """Return ``value`` made safe for a CSV cell: a string starting with a formula character
    (:data:`FORMULA_STARTS`), possibly after quotes, gets one more ``'`` in front.

    Anything that is not a string (numbers, dates, missing values) and strings that are a
    plain number (``"-3.5"``, ``"+1e3"``) are returned as they are.

    Examples
    --------
    >>> [neutralise_text(v) for v in ["=1+1", "-保温杯", "@x", "'=x", "a=b", "-3.5", -3.5]]
    ["'=1+1", "'-保温杯", "'@x", "''=x", 'a=b', '-3.5', -3.5]
    """
    if isinstance(value, str) and _RISKY.match(value) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def restore_text(value: Any) -> Any:
    """Undo :func:`neutralise_text`: a string of quotes followed by a formula character loses
    one quote; anything else is returned as it is.

    Examples
    --------
    >>> [restore_text(v) for v in ["'=1+1", "''=x", "'hello", "-3.5"]]
    ['=1+1', "'=x", "'hello", '-3.5']
    """
    if isinstance(value, str) and _QUOTED.match(value):
        return value[1:]
    return value


def _map_text(frame: pd.DataFrame, fn: Any) -> pd.DataFrame:
    out = frame.copy()
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_datetime64_any_dtype(col):
            continue  # numbers and dates are never text cells
        values = col.astype(object) if isinstance(col.dtype, pd.CategoricalDtype) else col
        out.isetitem(i, values.map(fn))
    out.columns = [fn(c) for c in out.columns]
    return out


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot run as formulas in a
    spreadsheet (:func:`neutralise_text` on every text cell; numbers untouched)."""
    return _map_text(frame, neutralise_text)


def restore(frame: pd.DataFrame) -> pd.DataFrame:
    """Undo :func:`neutralise` on a frame read back from a CSV (:func:`restore_text`)."""
    return _map_text(frame, restore_text)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to a temporary name beside ``path`` and move it into place, so a
    reader — or a kill, or a full disk — never leaves half a file; the temporary file is
    removed when writing fails.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "a.txt"
    >>> write_text_atomic(target, "一行").read_text(encoding="utf-8")
    '一行'
    """
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``frame`` as a CSV that is safe to open in a spreadsheet, atomically.

    UTF-8 with BOM, no index, dates as ``YYYY-MM-DD``; text cells neutralised against formula
    injection (:func:`neutralise`, OWASP's single quote); lines end with CRLF and a cell
    holding a separator, a quote, a CR or a LF is quoted (RFC 4180 — with a bare LF line end,
    a CR inside a cell would be left unquoted and start a new row in a spreadsheet). The file is written beside ``path`` and moved into place. Every CSV a
    study writes goes through here; read it back with :func:`read_result` (or
    :func:`restore` after ``pd.read_csv``) to get the original text.

    Returns
    -------
    Path
        The written file.
    """
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        neutralise(frame).to_csv(tmp, index=False, encoding="utf-8-sig",
                                 date_format="%Y-%m-%d", lineterminator="\r\n")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def write_result(frame: pd.DataFrame, output_dir: str | os.PathLike[str], name: str) -> Path:
    """Write ``frame`` as ``results/<name>.csv`` (UTF-8 with BOM, text cells neutralised
    against formula injection: :func:`write_csv`), atomically.

    Parameters
    ----------
    frame : DataFrame
    output_dir : path-like
        The study's output folder (the notebook's ``output_dir`` parameter).
    name : str
        File stem, e.g. ``"keyword_metrics"``.

    Returns
    -------
    Path
        The written file.
    """
    return write_csv(frame, results_dir(output_dir) / f"{name}.csv")


def read_result(output_dir: str | os.PathLike[str], name: str) -> pd.DataFrame | None:
    """Read ``results/<name>.csv`` back, or ``None`` when that result was not produced.

    Text cells get their original text back (:func:`restore` undoes the quote
    :func:`write_csv` put in front of formula-like text)."""
    path = Path(output_dir) / "results" / f"{name}.csv"
    if not path.exists():
        return None
    return restore(pd.read_csv(path, encoding="utf-8-sig"))


def write_summary(output_dir: str | os.PathLike[str], page: str, text: str) -> Path:
    """Record the one-line summary of a report page, shown on the study's index.

    Parameters
    ----------
    output_dir : path-like
        The study's output folder.
    page : str
        The notebook's stem, e.g. ``"keyword_trends"``.
    text : str
        One sentence, plain text (it is escaped when shown).
    """
    folder = Path(output_dir) / "summaries"
    folder.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(folder / f"{page}.txt", " ".join(text.split()))


def read_summary(output_dir: str | os.PathLike[str], page: str) -> str | None:
    """Read a page's one-line summary back, or ``None``."""
    path = Path(output_dir) / "summaries" / f"{page}.txt"
    return path.read_text(encoding="utf-8") if path.exists() else None


def write_page(result: PageResult, output_dir: str | os.PathLike[str], page: str) -> list[Path]:
    """Write a page's result tables and its summary; return the files written.

    Parameters
    ----------
    result : PageResult
        What the page's ``study`` returned.
    output_dir : path-like
        The study's output folder.
    page : str
        The notebook's stem, e.g. ``"price_bands"``.
    """
    written = [write_result(frame, output_dir, name) for name, frame in result.results().items()]
    written.append(write_summary(output_dir, page, result.summary()))
    return written
