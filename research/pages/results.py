"""Result tables: CSV files (UTF-8 with BOM, so Excel opens the Chinese) in a study's
``results/`` folder, written atomically, and read back by later notebooks (the plan).

Examples
--------
>>> import tempfile, pandas as pd
>>> folder = tempfile.mkdtemp()
>>> path = write_result(pd.DataFrame({"关键词": ["保温杯"], "score": [1.5]}), folder, "core_keywords")
>>> read_result(folder, "core_keywords")["关键词"].tolist()
['保温杯']
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol, runtime_checkable

import pandas as pd

__all__ = ["PageResult", "write_result", "read_result", "results_dir", "write_summary",
           "read_summary", "write_page"]


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


def write_result(frame: pd.DataFrame, output_dir: str | os.PathLike[str], name: str) -> Path:
    """Write ``frame`` as ``results/<name>.csv`` (UTF-8 with BOM), atomically.

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
    folder = results_dir(output_dir)
    target = folder / f"{name}.csv"
    tmp = folder / f".{name}.csv.tmp"
    frame.to_csv(tmp, index=False, encoding="utf-8-sig", date_format="%Y-%m-%d")
    os.replace(tmp, target)
    return target


def read_result(output_dir: str | os.PathLike[str], name: str) -> pd.DataFrame | None:
    """Read ``results/<name>.csv`` back, or ``None`` when that result was not produced."""
    path = Path(output_dir) / "results" / f"{name}.csv"
    if not path.exists():
        return None
    return pd.read_csv(path, encoding="utf-8-sig")


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
    target = folder / f"{page}.txt"
    target.write_text(" ".join(text.split()), encoding="utf-8")
    return target


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
