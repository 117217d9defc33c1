"""Shared pieces of the sample market (:mod:`research.sample.market`): the calendar, the seasonal and
promotion multipliers every table is shaped by, value formatting as the platform shows it,
and deterministic CSV/XLSX writers.

Nothing here reads the clock: the same seed gives the same bytes.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

# the calendar lives with the profiles (their event dates keep clear of it); re-exported here
from research.sample.profiles import CNY_DATES, END, START, Profile, promotion_windows

__all__ = ["START", "END", "CATEGORY", "WEEKDAY", "CNY_DATES", "days", "promotion_windows",
           "demand_multiplier", "season", "category_season", "food_peak", "pct", "thousands", "sig3", "date_text",
           "write_csv", "write_xlsx", "with_missing"]

CATEGORY = "保温杯"
#: weekday multipliers, Monday first (weekends browse and buy a little more)
WEEKDAY = np.array([1.00, 0.98, 0.97, 0.98, 0.95, 1.04, 1.08])
#: the fixed time stamped on the zip entries of workbooks (never the clock)
_ZIP_TIME = (2026, 11, 23, 9, 0, 0)
#: the promotions of the sample's calendar: base multiplier on every day of the window
_PROMO_BASE = {"年货节": 1.2, "春节": 0.8, "618": 1.08, "双11": 1.12, "双12": 1.2}


def days() -> pd.DatetimeIndex:
    """Every day of the sample, 2024-09-02 .. 2026-11-22."""
    return pd.date_range(START, END, freq="D")


def demand_multiplier(index: pd.DatetimeIndex, response: Mapping[str, float] | None = None
                      ) -> np.ndarray:
    """Daily demand multiplier of promotions (1 on ordinary days).

    Peak days: 618 on 18 June (×1.9, with 1 June ×1.35), 双11 on 11 November (×2.6, with the
    first wave on 1 November ×1.6 and 10 November ×1.5), 双12 on 12 December (×1.6), 年货节
    ×1.2 throughout; 春节 ×0.8 (searches) — sales use this multiplier to a power. With
    ``response`` (promotion → scale), a promotion's uplift over 1 is scaled (2.0: 双11's peak
    ×4.2) and promotions it does not name are ordinary days.
    """
    mult = np.ones(len(index))
    scale = {} if response is None else dict(response)
    pos = {d: i for i, d in enumerate(index)}

    for name, first, last, _ in promotion_windows(index[0], index[-1], response):
        r = scale.get(name, 1.0)

        def put(day: pd.Timestamp, value: float, r: float = r) -> None:
            if day in pos:
                mult[pos[day]] = 1.0 + (value - 1.0) * r

        for day in pd.date_range(first, last):
            put(day, _PROMO_BASE[name])
        if name == "618":
            put(first, 1.35)
            put(last - pd.Timedelta(days=1), 1.25)
            put(last, 1.9)
        elif name == "双11":
            put(first, 1.6)
            put(last - pd.Timedelta(days=1), 1.5)
            put(last, 2.6)
        elif name == "双12":
            put(last, 1.6)
    return mult


def season(index: pd.DatetimeIndex, amplitude: float | np.ndarray, peak_doy: float = 355.0
           ) -> np.ndarray:
    """Yearly multiplier ``exp(a · cos(2π (doy − peak) / 365.25))`` (winter peak by default).

    ``amplitude`` may be an array (one per series); the result is then (series, days).
    """
    doy = np.asarray(index.day_of_year, dtype=float)
    wave = np.cos(2 * np.pi * (doy - peak_doy) / 365.25)
    amp = np.asarray(amplitude, dtype=float)
    return np.exp(np.multiply.outer(amp, wave)) if amp.ndim else np.exp(amp * wave)


def food_peak(index: pd.DatetimeIndex, amplitude: float) -> np.ndarray:
    """The 年货节 food peak: ``exp(a · bump)``, a bump of width ~12 days centred 20 days before
    each Chinese New Year (:data:`CNY_DATES`); 1 everywhere when ``amplitude`` is 0."""
    if not amplitude:
        return np.ones(len(index))
    bump = np.zeros(len(index))
    t = np.asarray((index - index[0]).days, dtype=float)
    for day in CNY_DATES.values():
        centre = float((pd.Timestamp(day) - pd.Timedelta(days=20) - index[0]).days)
        bump = np.maximum(bump, np.exp(-0.5 * ((t - centre) / 12.0) ** 2))
    return np.exp(amplitude * bump)


def category_season(profile: Profile, index: pd.DatetimeIndex,
                    amplitude: float | np.ndarray) -> np.ndarray:
    """A series' yearly multiplier in ``profile``'s market: :func:`season` with the amplitude
    scaled by ``profile.season_scale`` and peaking on ``profile.season_peak``, times its
    food peak. ``amplitude`` is the one the 保温杯 sample gives the series."""
    return (season(index, amplitude * profile.season_scale, profile.season_peak)
            * food_peak(index, profile.food_peak))


def pct(values: np.ndarray | pd.Series, digits: int = 2) -> pd.Series:
    """Fractions as the platform's percent strings (0.1234 → "12.34%")."""
    fmt = f"{{:.{digits}%}}".format
    return pd.Series(np.asarray(values, dtype=float)).map(fmt)


def thousands(values: np.ndarray | pd.Series) -> pd.Series:
    """Whole numbers with thousands separators (1234 → "1,234")."""
    return pd.Series(np.asarray(values).astype(np.int64)).map("{:,}".format)


def sig3(values: np.ndarray) -> np.ndarray:
    """Round to three significant digits (index values look bucketed), at least 1."""
    x = np.maximum(np.asarray(values, dtype=float), 1.0)
    scale = 10.0 ** np.maximum(np.floor(np.log10(x)) - 2, 0)
    return np.maximum(np.round(x / scale) * scale, 1.0).astype(np.int64)


def date_text(index: pd.DatetimeIndex | pd.Series, slash: bool) -> pd.Series:
    """Dates as text, ``2026/11/01`` or ``2026-11-01``."""
    return pd.Series(pd.DatetimeIndex(index).strftime("%Y/%m/%d" if slash else "%Y-%m-%d"))


def with_missing(col: pd.Series, rng: np.random.Generator, rate: float,
                 token: str = "-") -> pd.Series:
    """Replace a share ``rate`` of the cells by the platform's missing token."""
    out = col.astype(object).copy()
    hit = rng.random(len(out)) < rate
    out[hit] = token
    return out


def write_csv(path: Path, frame: pd.DataFrame, encoding: str,
              preamble: Sequence[str] = (), crlf: bool = False) -> None:
    """Write an export as CSV text, optionally with preamble lines above the header.

    ``encoding`` is ``"gbk"`` or ``"utf-8-sig"``/``"utf-8"``; encoding is strict, so a
    character GBK cannot hold fails here rather than in the user's hands.
    """
    newline = "\r\n" if crlf else "\n"
    body = frame.to_csv(index=False, lineterminator=newline)
    text = "".join(line + newline for line in preamble) + body
    path.write_bytes(text.encode(encoding, errors="strict"))


def _col_letter(j: int) -> str:
    name = ""
    j += 1
    while j:
        j, rem = divmod(j - 1, 26)
        name = chr(65 + rem) + name
    return name


def _xml_text(values: pd.Series) -> pd.Series:
    return (values.astype(str).str.replace("&", "&amp;", regex=False)
            .str.replace("<", "&lt;", regex=False).str.replace(">", "&gt;", regex=False))


_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.styles+xml"/></Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/styles" Target="styles.xml"/></Relationships>'),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
        '<fonts count="1"><font><sz val="11"/><name val="等线"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        '</cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
        'xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" '
        'applyNumberFormat="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" '
        'xfId="0" builtinId="0"/></cellStyles></styleSheet>'),
}


def write_xlsx(path: Path, frame: pd.DataFrame, sheet: str = "Sheet1",
               date_columns: Sequence[str] = ()) -> None:
    """Write an export as a minimal XLSX workbook (one sheet, inline strings), reproducibly.

    Text stays text (IDs are written as strings, never numbers); float and int columns are
    numbers; ``date_columns`` hold Timestamps written as real Excel dates. Zip entries carry
    a fixed time, so the bytes depend on the content only. Built column-wise with vectorised
    string operations: a 6,000-row sheet takes a fraction of a second.
    """
    n = len(frame)
    rownum = pd.Series(np.arange(2, n + 2)).astype(str)
    cells = pd.Series([""] * n, dtype=object)
    header = []
    for j, name in enumerate(frame.columns):
        letter = _col_letter(j)
        header.append(f'<c r="{letter}1" t="inlineStr"><is><t>{_xml_text(pd.Series([name]))[0]}'
                      f"</t></is></c>")
        col = frame[name].reset_index(drop=True)
        ref = f'<c r="{letter}' + rownum
        if name in date_columns:
            serial = (pd.to_datetime(col) - pd.Timestamp("1899-12-30")).dt.days.astype(str)
            part = ref + '" s="1"><v>' + serial + "</v></c>"
        elif pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            ok = col.notna().to_numpy()
            part = (ref + '"><v>' + col.astype(str) + "</v></c>").where(ok, "")
        else:
            ok = col.notna().to_numpy()
            text = _xml_text(col.astype(object).where(ok, ""))
            part = (ref + '" t="inlineStr"><is><t>' + text + "</t></is></c>").where(ok, "")
        cells = cells + part.astype(object).to_numpy()
    rows = '<row r="' + rownum + '">' + cells + "</row>"
    title = _xml_text(pd.Series([sheet]))[0]
    sheet_xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                 '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                 '<sheetData><row r="1">' + "".join(header) + "</row>" + "".join(rows.tolist())
                 + "</sheetData></worksheet>")
    workbook = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                f'<sheets><sheet name="{title}" sheetId="1" r:id="rId1"/></sheets></workbook>')
    parts = {**_XLSX_PARTS, "xl/workbook.xml": workbook, "xl/worksheets/sheet1.xml": sheet_xml}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            book.writestr(info, text.encode("utf-8"))
