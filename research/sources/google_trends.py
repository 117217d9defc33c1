"""Google Trends CSV exports (skincare brands US, Love Bonito ID, Big Bazaar vs DMart IN,
yeezy US, toilet paper US/JP) → keywords, plus campaign dates → events.

Source
------
``../shared/data/real/google_trends/`` (see its SOURCE.md): real "Download CSV" exports from
the Trends web UI committed by their authors (oreBajela/Consumer-purchasing-decisions,
ekasetyo090/love-bonito-stats, ManaliL06/Big-Bazaar-Analysis, Duy-Vux/yeezy_search_trend,
Eko7nanterre/Stocker-du-papier-toilette). Byte copies, renamed only.

Licence: none of the repositories has a licence file; Google allows reuse of Trends data
with attribution — cite **"Source: Google Trends"**. The campaign-date lists are the
repository author's own work.

What is read
------------
``PATH`` is the ``google_trends/`` folder (every subfolder is read) or one subfolder. In each:

* ``multiTimeline*.csv`` — interest over time (loaded);
* ``relatedQueries*.csv`` — related queries (the TOP block is loaded);
* ``campaign_dates_*.csv`` — the skincare author's influencer-campaign dates (→ events);
* ``geoMap*.csv`` (interest by Indonesian province over five years) is **not loaded**: its
  values are each region's own 0–100 popularity, not a share of the term's searchers, so
  it fits neither ``audience`` (buyer shares) nor ``keywords`` (dated interest).

Mapping decisions
-----------------
* **Values are Google's 0–100 relative index** (100 = the peak within that export's own
  window and region), stored as ``search_popularity``: an index, never a count — do not sum
  across terms or exports. ``<1`` (below one) is stored as 0.5; an empty cell (not enough
  data) gives no row.
* **category = one export**: ``"<folder>: <terms> (<geography>)"``, e.g.
  ``"skincare_us: cerave (United States)"``, ``"bigbazaar_vs_dmart_in: Big Bazaar, DMart
  (India)"``. Terms inside one category share one scale (Big Bazaar vs DMart were requested
  together, so are comparable); the three skincare brands were exported separately, each
  scaled to its own peak, so each is its own category. Geography is the export's own
  (localised) label: ``USA``/``Japon`` in the French-UI toilet-paper exports.
* **keyword** = the term as exported (``cerave``, ``Love, Bonito``, ``toilet paper``).
* **date = the last day the value covers**: a weekly point dated Sunday *d* (Google's weeks
  run Sunday–Saturday) is stored on *d* + 6 (Saturday), a monthly point (``2014-01``) on the
  month's last day. A study of ISO week W (Monday–Sunday) then never sees a value that
  includes days after W's Sunday; the Saturday falls in the ISO week holding 6 of the 7 days.
* **Related queries**: the TOP block (0–100, relative to the top related query) becomes
  keywords rows in their own category ``"<folder>: related to <term> (<geography>)"``, dated
  on the last day of the export's window (e.g. 12/18/22 - 12/18/23 → 2023-12-18). The RISING
  block (growth percentages and "Breakout") is **dropped**: the keywords table has no growth
  column and a growth rate is not a popularity.
* **events** from ``campaign_dates_*.csv``: ``name = "<brand>: <description>"`` (brand from
  the file name), ``kind = "campaign"``. Files with a start and an end date give one row per
  day of the campaign; the three curology files describe the same campaigns and merge into
  one set of rows (duplicates dropped).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from research.sources.common import require_folder

__all__ = ["NAME", "read", "parse_timeline", "parse_related", "parse_campaigns"]

NAME = "google_trends"
_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")
_TERM = re.compile(r"^(.*):\s*\((.*)\)\s*$")
_WINDOW = re.compile(r"^(.*):\s*\((\d{1,2}/\d{1,2}/\d{2,4})\s*-\s*(\d{1,2}/\d{1,2}/\d{2,4}),"
                     r"\s*(.*)\)\s*$")


def _rows(file: Path) -> list[list[str]]:
    text = file.read_text(encoding="utf-8-sig")
    return [row for row in csv.reader(io.StringIO(text))]


def _value(text: str, file: Path, line: int) -> float | None:
    cell = text.strip()
    if cell == "":
        return None
    if cell == "<1":
        return 0.5
    try:
        return float(cell)
    except ValueError:
        raise ValueError(f"{file}, line {line}: {cell!r} is not a Google Trends value "
                         f"(0-100 or <1)") from None


def parse_timeline(file: Path) -> pd.DataFrame:
    """Parse one ``multiTimeline`` export into long rows.

    Returns
    -------
    DataFrame
        date (last day covered), period_start, keyword, geo, search_popularity.

    Raises
    ------
    ValueError
        When no dated row or header is found, naming the file.
    """
    rows = _rows(file)
    first = next((i for i, r in enumerate(rows) if r and _DATE.match(r[0].strip())), None)
    if first is None or first == 0:
        raise ValueError(f"{file} is not a Google Trends interest-over-time export: no header "
                         f"followed by dated rows (YYYY-MM or YYYY-MM-DD)")
    header = next(r for r in reversed(rows[:first]) if any(c.strip() for c in r))
    terms = []
    for cell in header[1:]:
        match = _TERM.match(cell.strip())
        terms.append((match.group(1).strip(), match.group(2).strip()) if match
                     else (cell.strip(), ""))
    records = []
    for i, row in enumerate(rows[first:], start=first + 1):
        if not row or not row[0].strip():
            continue
        if not _DATE.match(row[0].strip()):
            raise ValueError(f"{file}, line {i}: {row[0]!r} is not a date")
        for (term, geo), cell in zip(terms, row[1:], strict=False):
            value = _value(cell, file, i)
            if value is not None:
                records.append((row[0].strip(), term, geo, value))
    frame = pd.DataFrame(records, columns=["period", "keyword", "geo", "search_popularity"])
    monthly = frame["period"].str.len() == 7
    start = pd.to_datetime(frame["period"].where(~monthly, frame["period"] + "-01"),
                           format="%Y-%m-%d")
    if monthly.all():
        end = start + pd.offsets.MonthEnd(0)
    else:
        days = pd.Series(sorted(start.unique())).diff().dt.days.dropna()
        step = int(days.median()) if len(days) else 1
        end = start + pd.Timedelta(days=step - 1)
    return frame.assign(period_start=start, date=end).drop(columns="period")


def parse_related(file: Path) -> tuple[pd.DataFrame, str, str, pd.Timestamp]:
    """Parse the TOP block of a ``relatedQueries`` export.

    Returns
    -------
    (DataFrame, term, geo, window_end)
        The frame has keyword and search_popularity (0–100).
    """
    rows = _rows(file)
    title = None
    for row in rows[:3]:
        for cell in row:
            match = _WINDOW.match(cell.strip().strip('"'))
            if match:
                title = match
    if title is None:
        raise ValueError(f"{file} is not a Google Trends related-queries export: no title "
                         f"such as 'term: (12/18/22 - 12/18/23, United States)'")
    term, _, end, geo = (g.strip() for g in title.groups())
    block = "top"
    records = []
    for row in rows:
        cells = [c.strip() for c in row]
        if not any(cells) or title.string in (c.strip('"') for c in cells):
            continue
        label = cells[0].upper()
        if label in ("TOP", "RISING"):
            block = label.lower()
            continue
        if block != "top" or len(cells) < 2:
            continue
        try:
            records.append((cells[0], float(cells[1])))
        except ValueError:
            continue
    frame = pd.DataFrame(records, columns=["keyword", "search_popularity"])
    return frame, term, geo, pd.to_datetime(end, format="%m/%d/%y")


def parse_campaigns(file: Path) -> pd.DataFrame:
    """Parse a ``campaign_dates_<brand>.csv`` list into daily event rows (date, name, kind)."""
    brand = re.sub(r"_\d+$", "", file.stem.removeprefix("campaign_dates_"))
    raw = pd.read_csv(file, dtype=str, skip_blank_lines=True)
    raw.columns = [c.strip().lower() for c in raw.columns]
    start_col = next((c for c in raw.columns if "date" in c and "end" not in c), None)
    desc_col = next((c for c in raw.columns if "description" in c), None)
    if start_col is None or desc_col is None:
        raise ValueError(f"{file}: expected a date column and a 'Campaign Description' column")
    end_col = next((c for c in raw.columns if "end" in c and "date" in c), None)
    raw = raw.dropna(subset=[start_col, desc_col])
    start = pd.to_datetime(raw[start_col].str.strip(), format="%Y-%m-%d")
    end = pd.to_datetime(raw[end_col].str.strip(), format="%Y-%m-%d") if end_col else start
    rows = []
    for s, e, desc in zip(start, end, raw[desc_col].str.strip(), strict=True):
        for day in pd.date_range(s, max(s, e), freq="D"):
            rows.append((day, f"{brand}: {desc}", "campaign"))
    return pd.DataFrame(rows, columns=["date", "name", "kind"])


def _folders(path: Path) -> list[Path]:
    if any(path.glob("multiTimeline*.csv")) or any(path.glob("relatedQueries*.csv")):
        return [path]
    return sorted(p for p in path.iterdir() if p.is_dir()
                  and (any(p.glob("multiTimeline*.csv")) or any(p.glob("relatedQueries*.csv"))))


def read(path: Path) -> dict[str, pd.DataFrame]:
    """Map every Google Trends export below ``path`` onto keywords (and events).

    Parameters
    ----------
    path : Path
        The ``google_trends/`` folder or one of its subfolders.

    Returns
    -------
    dict
        ``{"keywords": frame, "events": frame}`` (events only when campaign lists exist).

    Raises
    ------
    ValueError
        When the folder holds no ``multiTimeline*.csv`` or ``relatedQueries*.csv`` export.
    """
    folder = require_folder(path, "Google Trends")
    folders = _folders(folder)
    if not folders:
        raise ValueError(f"{folder} is not the Google Trends dataset: file multiTimeline*.csv "
                         f"is missing (no Google Trends export in it or its subfolders)")
    keywords, events = [], []
    for sub in folders:
        for file in sorted(sub.glob("multiTimeline*.csv")):
            frame = parse_timeline(file)
            geos = sorted(set(frame["geo"]) - {""})
            terms = list(dict.fromkeys(frame["keyword"]))
            label = f"{sub.name}: {', '.join(terms)}" + (f" ({', '.join(geos)})" if geos else "")
            keywords.append(frame.assign(category=label))
        for file in sorted(sub.glob("relatedQueries*.csv")):
            frame, term, geo, end = parse_related(file)
            keywords.append(frame.assign(category=f"{sub.name}: related to {term} ({geo})",
                                         date=end))
        for file in sorted(sub.glob("campaign_dates_*.csv")):
            events.append(parse_campaigns(file))
    out = {"keywords": pd.concat(keywords, ignore_index=True)[
        ["date", "category", "keyword", "search_popularity"]]}
    if events:
        out["events"] = pd.concat(events, ignore_index=True).drop_duplicates(
            ["date", "name"]).reset_index(drop=True)
    return out
