"""Import platform exports into the warehouse, whole or not at all.

``ingest_paths`` takes files or folders; each file is read as text (:mod:`research.sources.readers`),
its table recognised from its headers, its cells parsed and validated in DuckDB, and its rows
upserted by key in one transaction together with its ingest-log entry and a copy of the
original under the warehouse's ``raw/`` folder. A file with any bad cell is refused with one
message naming the file, the rows (as Excel numbers them) and the columns, and what was
expected; the warehouse is left exactly as it was.

Values read: ``12.34%`` (a share, stored 0.1234), ``1,234``, full-width digits, ``1.2万``,
``100+`` (read as 100, a lower bound as listings show it), ``-``/``--``/empty as missing,
dates as ``2026-11-01``, ``2026/11/1``, ``20261101`` or ``2026年11月1日``. The SQL that parses
cells lives in :mod:`research.sources.parse_sql`; recognising the table, validating the parsed cells
and loading them live here.

Refused besides cells that do not parse: non-finite numbers (``inf``, ``Infinity``, ``NaN``
written as a number, ``1e309``); whole numbers beyond 2**53 - 1 (``1e19``: a count that large is
no count, and digits beyond 2**53 are lost on the way); IDs in scientific notation
(``7.1E+12``) on any row; dates outside the plausible range (:func:`date_range`: by default
2000-01-01 to the end of next year, ``RESEARCH_DATE_RANGE=FROM..TO`` or ``--dates FROM..TO``
to change it); two headers giving the same column (``搜索人气`` and ``popularity``); CSV rows
with more or fewer fields than the header, anywhere in the file; cells longer than
:data:`MAX_CELL_CHARS` characters (Excel's own limit).

Whatever happens to one file, the others of the batch are still tried, and every file gets
an outcome. The original is copied into the raw folder under a temporary name in
``<raw>/.incoming/<pid>-…/``, flushed, checked against the export's SHA-256 and only then
renamed into place; a kept copy found damaged or missing when its export comes again is
restored and the repair recorded in the ``raw_repairs`` table
(:mod:`research.sources.raw_copies`).

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "kw.csv").write_text(
...     "日期,类目,搜索词,搜索人气,点击率\\n2026/11/01,保温杯,保温杯 316,\\"1,234\\",12.5%\\n",
...     encoding="utf-8")
>>> [r.outcome for r in ingest_paths([folder / "kw.csv"], warehouse=folder / "w.duckdb")]
['loaded']
>>> from research.store.warehouse import read
>>> row = read("keywords", folder / "w.duckdb").iloc[0]
>>> row["keyword"], float(row["search_popularity"]), float(row["click_rate"])
('保温杯 316', 1234.0, 0.125)
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import itertools
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from research.config import default_warehouse, raw_dir_for
from research.faults import Fault, UsageFault, environment_fault
from research.sources.parse_sql import build_clean, create_macros
from research.sources.raw_copies import (
    copy_state,
    incoming_folder,
    mend_copies,
    place_copy,
    record_repair,
)
from research.sources.readers import (
    MAX_CELL_CHARS,
    SUPPORTED_SUFFIXES,
    ExportError,
    RawExport,
    column_letter,
    file_hash,
    read_export,
)
from research.store.schema import (
    AUDIENCE_DIMENSIONS,
    TABLES,
    Column,
    Table,
    normalise_header,
)
from research.store.warehouse import (
    StoreResult,
    connect,
    fetch_one,
    log_ingest,
    next_ingest_id,
    store,
)

__all__ = ["IngestResult", "ingest_paths", "ingest_file", "detect_table", "ExportError",
           "IngestError", "date_range", "MAX_CELL_CHARS", "MAX_WHOLE",
           "DATE_RANGE_ENV"]

IngestError = ExportError
_MAX_LISTED = 8
_PREFERRED = {"price": "券后价"}  # the price a buyer pays wins over a list price
#: the spellings of a leaf-category header (叶子类目, leaf_category): alone, it is the category
_LEAF_HEADERS = frozenset(normalise_header(a) for a in (
    TABLES["items"].column("leaf_category").name,
    *TABLES["items"].column("leaf_category").aliases))
#: headers of a paid-promotion report (the data contract's ads table, not loaded yet): a file
#: matching no table with two of them is named as such rather than as the closest table
_ADS_HEADERS = frozenset(normalise_header(h) for h in (
    "推广渠道", "计划名称", "推广计划", "花费", "消耗", "佣金", "展现量", "点击量", "总成交笔数",
    "总成交金额", "投入产出比", "roi"))
#: tables whose rows may lie in the future (a planned promotion); every other table records
#: what has happened
_MAY_PLAN_AHEAD = ("events",)

#: the largest whole number accepted in a count column (2**53 - 1): beyond it a number read
#: from text loses digits (2**53 + 1 reads as 2**53), and no count of visitors, units or
#: listings comes near it
MAX_WHOLE = 2**53 - 1
#: the environment variable widening or narrowing the plausible dates (``FROM..TO``)
DATE_RANGE_ENV = "RESEARCH_DATE_RANGE"
#: the first plausible date of an export's row: the platform and public datasets this
#: workbench reads start in 2004 and later, so a year 1900 or 0001 is a typing or export error
_EARLIEST = dt.date(2000, 1, 1)

@dataclass(frozen=True)
class IngestResult:
    """What happened to one file.

    Attributes
    ----------
    file : Path
    outcome : {"loaded", "skipped", "failed"}
        ``skipped``: the same content was loaded into the same table before.
    table : str or None
    result : StoreResult or None
        Rows new / replaced / unchanged, for loaded files.
    message : str
        One line for the user (the whole error for failed files).
    code : int
        The exit code this outcome calls for (:mod:`research.faults`): 0 loaded or skipped,
        1 refused (a bad file, or an unexpected error), 4 the machine refused (disk full,
        permission denied).
    """

    file: Path
    outcome: str
    table: str | None
    result: StoreResult | None
    message: str
    code: int = 0


# --------------------------------------------------------------------------- table mapping

def _alias_index(tbl: Table) -> dict[str, list[tuple[int, Column]]]:
    index: dict[str, list[tuple[int, Column]]] = {}
    for col in tbl.columns:
        for rank, alias in enumerate((col.name, *col.aliases)):
            index.setdefault(normalise_header(alias), []).append((rank, col))
    return index


def _map_headers(tbl: Table, headers: Sequence[str]) -> dict[str, int]:
    """Map canonical column → position of the header that supplies it."""
    index = _alias_index(tbl)
    best: dict[str, tuple[int, int]] = {}
    for pos, header in enumerate(headers):
        norm = normalise_header(header)
        for rank, col in index.get(norm, []):
            if col.name in ("channel_raw", "attributes"):
                continue
            if _PREFERRED.get(col.name) == header.strip():
                rank = -1
            if col.name not in best or rank < best[col.name][0]:
                best[col.name] = (rank, pos)
            break  # one header supplies one column of a table
    mapped = {name: pos for name, (_, pos) in best.items()}
    if "category" in tbl.names and "category" not in mapped:
        # the data contract: an export of one leaf category that carries only 叶子类目 (or
        # leaf_category) names its category there (with 类目 beside it, 类目 is the category
        # and 叶子类目 the leaf)
        leaf = next((pos for pos, h in enumerate(headers)
                     if normalise_header(h) in _LEAF_HEADERS), None)
        if leaf is not None:
            mapped["category"] = leaf
    return mapped


def _clashes(tbl: Table, headers: Sequence[str], first_column: int = 0) -> list[str]:
    """Columns of ``tbl`` that two or more headers supply (the preferred price aside)."""
    index = _alias_index(tbl)
    givers: dict[str, list[int]] = {}
    for pos, header in enumerate(headers):
        for _, col in index.get(normalise_header(header), []):
            if col.name in ("channel_raw", "attributes"):
                continue
            givers.setdefault(col.name, []).append(pos)
            break  # one header supplies one column of a table, as in _map_headers
    lines = []
    for name, positions in givers.items():
        preferred = [p for p in positions if _PREFERRED.get(name) == headers[p].strip()]
        if len(positions) < 2 or len(preferred) == 1:
            continue
        named = " and ".join(f"{headers[p]} (column {column_letter(first_column + p)})"
                             for p in positions)
        lines.append(f"{named} both give {name}; expected one column per field — delete or "
                     f"rename all but one")
    return lines


def _category_hint(missing: Sequence[str]) -> str:
    """How to give a category the file lacks (empty unless the category is all it lacks: a
    file lacking more is some other export, and naming a category would not load it)."""
    if list(missing) != ["category"]:
        return ""
    return (" A file without a category column can name it: research ingest FILE --default "
            "category=NAME (or a line 类目：NAME above the header).")


def detect_table(headers: Sequence[str], table: str | None = None,
                 defaults: dict[str, str] | None = None, *,
                 first_column: int = 0) -> tuple[Table, dict[str, int]]:
    """Recognise which canonical table a header row belongs to.

    Parameters
    ----------
    headers : sequence of str
        The export's header row.
    table : str, optional
        Force a table (``--table``); its required columns must still be present.
    defaults : dict, optional
        Constant values for columns the file lacks (``{"category": "保温杯"}``), which then
        count as present.
    first_column : int
        0-based sheet column of ``headers[0]`` (a workbook's table may start right of column
        A), so that messages name the columns as the sheet shows them.

    Returns
    -------
    (Table, dict)
        The table and canonical column → header position.

    Raises
    ------
    ExportError
        No table, or several equally, match (the message lists what each table lacks), or
        two headers give the same column of the table (``搜索人气`` and ``popularity``).
    """
    defaults = defaults or {}
    candidates = [TABLES[table]] if table else list(TABLES.values())
    scored = []
    for tbl in candidates:
        mapping = _map_headers(tbl, headers)
        missing = [c for c in tbl.required if c not in mapping and c not in defaults]
        sig = sum(1 for s in tbl.signature if s in mapping)
        scored.append((not missing, len(mapping) + 2 * sig, tbl, mapping, missing))
    scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
    ok = [s for s in scored if s[0]]
    shown = ", ".join(h for h in headers if h) or "(none)"
    if ok and (len(ok) == 1 or ok[0][1] > ok[1][1]):
        chosen, mapping = ok[0][2], ok[0][3]
        used = set(mapping.values())
        for _, _, other, other_map, missing in scored:
            stray = [c for c in other.signature if c in other_map and other_map[c] not in used]
            if missing and stray and not table:
                want = "; ".join(f"{c} ({'/'.join(other.column(c).aliases[:3]) or c})"
                                 for c in missing)
                raise ExportError(
                    f"looks like {'an' if other.name[0] in 'aeiou' else 'a'} {other.name} "
                    f"export (it has "
                    f"{', '.join(headers[other_map[c]] for c in stray)}) but lacks {want}. "
                    f"Headers found: {shown}.{_category_hint(missing)}")
        clashes = _clashes(chosen, headers, first_column)
        if clashes:
            raise ExportError(f"{chosen.name} headers: " + "; ".join(clashes))
        return chosen, mapping
    if len(ok) > 1:
        raise ExportError(
            f"headers fit both {ok[0][2].name} and {ok[1][2].name} equally; "
            f"name the table with --table. Headers found: {shown}")

    def lacks(s: tuple) -> str:
        tbl, missing = s[2], s[4]
        want = "; ".join(f"{c} ({'/'.join(tbl.column(c).aliases[:3]) or c})" for c in missing)
        return f"{tbl.name} lacks {want}"

    ads = [h for h in headers if normalise_header(h) in _ADS_HEADERS]
    if len(ads) >= 2 and not table:
        raise ExportError(
            f"looks like a paid-promotion report (ads: it has {', '.join(ads[:4])}); the data "
            f"contract describes an ads table, but this version of research does not load "
            f"one — the paid channels' visitors come from the traffic (流量来源) export. "
            f"Headers found: {shown}")
    closest = "; ".join(lacks(s) for s in scored[: 3 if not table else 1])
    raise ExportError(f"headers match no table (closest: {closest}). Headers found: "
                      f"{shown}.{_category_hint(scored[0][4])}")


# --------------------------------------------------------------------------- validation

def date_range(text: str | None = None, *, today: dt.date | None = None,
               ) -> tuple[dt.date, dt.date]:
    """The plausible dates of an export's rows: rows dated outside are refused.

    By default 2000-01-01 to the last day of next year: the platforms' and the public
    datasets' data start in 2004 and later, and a promotion calendar may plan a year ahead;
    a year 1, 1900, 2099 or 9999 is a typing or export error that would otherwise move the
    study's default week. ``text`` (``FROM..TO``, as ``$RESEARCH_DATE_RANGE`` or ``research
    ingest --dates`` give it) replaces the default; either side may be left empty to keep
    the default there.

    Raises
    ------
    UsageFault
        When ``text`` is not ``YYYY-MM-DD..YYYY-MM-DD`` with FROM not after TO.

    Examples
    --------
    >>> date_range(today=dt.date(2026, 12, 3))
    (datetime.date(2000, 1, 1), datetime.date(2027, 12, 31))
    >>> date_range("1990-01-01..2035-12-31")
    (datetime.date(1990, 1, 1), datetime.date(2035, 12, 31))
    >>> date_range("..2030-06-30", today=dt.date(2026, 12, 3))[1]
    datetime.date(2030, 6, 30)
    """
    today = today or dt.date.today()
    lo, hi = _EARLIEST, dt.date(today.year + 1, 12, 31)
    if text is None or not text.strip():
        return lo, hi
    parts = text.strip().split("..")
    try:
        if len(parts) != 2:
            raise ValueError
        lo = dt.date.fromisoformat(parts[0].strip()) if parts[0].strip() else lo
        hi = dt.date.fromisoformat(parts[1].strip()) if parts[1].strip() else hi
    except ValueError:
        raise UsageFault(f"date range {text!r}: expected FROM..TO such as "
                         f"1990-01-01..2035-12-31 (--dates or ${DATE_RANGE_ENV})") from None
    if lo > hi:
        raise UsageFault(f"date range {text!r}: FROM is after TO; expected FROM..TO such as "
                         f"1990-01-01..2035-12-31 (--dates or ${DATE_RANGE_ENV})")
    return lo, hi


def _rows_text(rows: list[int], total: int) -> str:
    shown = ", ".join(str(r) for r in rows[:_MAX_LISTED])
    more = f" and {total - _MAX_LISTED} more" if total > _MAX_LISTED else ""
    return f"row{'s' if total > 1 else ''} {shown}{more}"


def _values_text(values: list[object]) -> str:
    seen: list[str] = []
    for v in values:
        s = repr(v) if not isinstance(v, str) else f"'{v}'"
        if len(s) > 60:
            s = s[:50] + f"…' ({len(str(v)):,} characters)"
        if s not in seen:
            seen.append(s)
    return ", ".join(seen[:4])


@dataclass(frozen=True)
class _Check:
    cond: str       # SQL condition on a row of ``source`` that is a problem
    label: str      # the column as the user knows it
    expect: str     # what a valid cell looks like
    raw: str        # the column holding the cell as written
    source: str     # ``_clean``, or ``_suspect`` (rows with a cell that did not parse)


def _validate(con: duckdb.DuckDBPyConnection, tbl: Table, mapping: dict[str, int],
              headers: Sequence[str], dates: tuple[dt.date, dt.date],
              ) -> tuple[list[str], bool]:
    """Check the staged ``_clean`` table.

    Returns one line per (column, problem), and whether some key occurs more than once
    (identical repeats are allowed and kept once).
    """
    checks: list[_Check] = []
    lo, hi = dates
    for col in tbl.columns:
        if col.name not in mapping:
            continue
        header = headers[mapping[col.name]]
        if col.name == "channel":  # mapped to its code later; only a missing source is wrong
            label = f"{header} (channel)" if normalise_header(header) != "channel" else header
            checks.append(_Check('"r_channel" IS NULL OR _absent("r_channel")', label,
                                 f"a value ({col.expectation()}: the traffic source)",
                                 '"r_channel"', "_clean"))
            continue
        label = f"{header} ({col.name})" if normalise_header(header) != col.name else header
        raw, clean = f'"r_{col.name}"', f'"{col.name}"'
        expect = col.expectation()

        def add(cond: str, what: str, source: str = "_clean", *, label: str = label,
                raw: str = raw) -> None:
            checks.append(_Check(cond, label, what, raw, source))

        if col.required:
            add(f"{clean} IS NULL AND ({raw} IS NULL OR _absent({raw}))", f"a value ({expect})",
                "_suspect")
        add(f"{clean} IS NULL AND {raw} IS NOT NULL AND NOT _absent({raw})", expect,
            "_suspect")
        if col.kind == "id":
            # on every row: a scientific ID parses as text, so its row is not suspect
            add(f"(contains({raw}, 'E') OR contains({raw}, 'e') OR contains({raw}, 'Ｅ') "
                f"OR contains({raw}, 'ｅ')) AND regexp_matches(replace(upper(_norm({raw})), "
                f"'Ｅ', 'E'), '^[0-9]+(\\.[0-9]*)?E\\+[0-9]+$|^[0-9]+\\.[0-9]*E[0-9]+$')",
                "the full ID as text (this one is in scientific notation, its digits are "
                "lost: format the column as text before exporting)")
        if col.kind == "int":
            add(f"{clean} IS NOT NULL AND {clean} <> round({clean})", expect)
            add(f"abs({clean}) > {MAX_WHOLE}",
                f"a whole number of at most {MAX_WHOLE:,} (a count this large is an export "
                f"error, and its digits are not kept exactly)")
        if col.kind == "date":
            add(f"{clean} NOT BETWEEN DATE '{lo}' AND DATE '{hi}'",
                f"a date from {lo} to {hi} (a plausible date; widen the range with --dates "
                f"FROM..TO or ${DATE_RANGE_ENV} if the data really lies outside)")
            if tbl.name not in _MAY_PLAN_AHEAD and hi == date_range()[1]:
                # unless a range's end was given (--dates, $RESEARCH_DATE_RANGE): it states
                # where the data really ends
                latest = dt.date.today() + dt.timedelta(days=1)  # Beijing is ahead of UTC
                add(f"{clean} > DATE '{latest}' AND {clean} <= DATE '{hi}'",
                    f"a date no later than {latest}: an export records what has happened, "
                    f"so a row dated in the future is an export or typing error (only events "
                    f"may lie ahead)")
        if col.minimum is not None:
            op = "<=" if col.exclusive_min else "<"
            add(f"{clean} {op} {col.minimum}", expect)
        if col.maximum is not None:
            add(f"{clean} > {col.maximum} + 1e-9", expect)
    if tbl.name == "audience" and "dimension" in mapping:
        checks.append(_Check(
            "\"dimension\" IS NOT NULL AND \"dimension\" NOT IN "
            f"({', '.join(repr(c) for c in AUDIENCE_DIMENSIONS)})",
            headers[mapping["dimension"]],
            "one of " + ", ".join(f"{names[0]}" for names in AUDIENCE_DIMENSIONS.values()),
            '"r_dimension"', "_clean"))
    problems: list[str] = []
    if checks:
        # Cells that failed to parse are rare: look at those rows only for the costly tests.
        nulls = [f'"{c.name}" IS NULL' for c in tbl.columns if c.name in mapping
                 and c.name != "channel"]
        con.execute(f"CREATE OR REPLACE TEMP TABLE _suspect AS SELECT * FROM _clean "
                    f"WHERE {' OR '.join(nulls) or 'FALSE'}")
        agg = ", ".join(f"(SELECT count(*) FROM {c.source} WHERE {c.cond})" for c in checks)
        counts = fetch_one(con, f"SELECT {agg}")
        for check, n in zip(checks, counts, strict=True):
            if not n:
                continue
            examples = con.execute(
                f"SELECT _row, {check.raw} FROM {check.source} WHERE {check.cond} "
                f"ORDER BY _row LIMIT {_MAX_LISTED}").fetchall()
            rows = [r[0] for r in examples]
            found = _values_text([r[1] for r in examples if r[1] is not None])
            problems.append(f"column {check.label}, {_rows_text(rows, n)}: expected "
                            f"{check.expect}"
                            + (f", found {found}" if found else ", found an empty cell"))
    # the same key twice with different values (keys seen twice first: cheap, usually none)
    key = ", ".join(f'"{k}"' for k in tbl.key)
    values = [c for c in tbl.names if c not in tbl.key and c in mapping]
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _twice AS SELECT {key} FROM _clean
                    GROUP BY ALL HAVING count(*) > 1""")
    repeats = bool(fetch_one(con, "SELECT count(*) FROM _twice")[0])
    if repeats:
        distinct = " OR ".join(
            f'count(DISTINCT coalesce(CAST(c."{v}" AS VARCHAR), \'∅\')) > 1'
            for v in values) or "FALSE"
        on = " AND ".join(f'c."{k}" IS NOT DISTINCT FROM t."{k}"' for k in tbl.key)
        dups = con.execute(f"""
            SELECT {', '.join(f'c."{k}"' for k in tbl.key)}, list(c._row ORDER BY c._row)
            FROM _clean c SEMI JOIN _twice t ON {on}
            GROUP BY ALL HAVING {distinct} ORDER BY min(c._row)""").fetchall()
        if dups:
            first = dups[0]
            keytext = ", ".join(f"{k}={v}" for k, v in zip(tbl.key, first[:-1], strict=True))
            problems.append(
                f"key ({', '.join(tbl.key)}): {len(dups)} key(s) appear more than once with "
                f"different values, e.g. rows {', '.join(map(str, first[-1][:_MAX_LISTED]))} "
                f"({keytext}); expected one row per key")
    con.execute("DROP TABLE IF EXISTS _twice")
    con.execute("DROP TABLE IF EXISTS _suspect")
    return problems, repeats


# --------------------------------------------------------------------------- one file

def _header_fields(raw: RawExport) -> int:
    """How many fields the CSV's header line has, trailing empty headers included (the data
    rows are held to that count)."""
    assert raw.csv_path is not None
    with open(raw.csv_path, encoding="utf-8-sig", newline="") as handle:
        line = next(itertools.islice(handle, raw.header_row - 1, None), "")
    try:
        fields = next(csv.reader([line], delimiter=raw.delimiter), [])
    except csv.Error:  # the reader parsed this line already; keep its headers
        return len(raw.headers)
    return max(len(raw.headers), len(fields))


def _ragged(con: duckdb.DuckDBPyConnection, name: str, width: int) -> list[str]:
    """The rows DuckDB rejected while reading (``_rejects``), one line per kind of fault."""
    # one fault per line: a broken quote also trips DuckDB's encoding check on its line
    found = con.execute("""SELECT error_type, list(DISTINCT line ORDER BY line), count(DISTINCT
        line), max(CASE WHEN error_type = 'TOO MANY COLUMNS' THEN column_idx END),
        min(column_idx), any_value(error_message) FROM (
            SELECT * FROM _rejects QUALIFY rank() OVER (PARTITION BY line ORDER BY
                error_type = 'INVALID ENCODING') = 1)
        GROUP BY ALL ORDER BY min(line)""").fetchall()
    lines = []
    for kind, rows, n, most, fewest, text in found:
        where = _rows_text([int(r) for r in rows], int(n))
        if kind == "TOO MANY COLUMNS":
            lines.append(f"{where}: expected {width} fields as in the header, found up to "
                         f"{most} (a value with an unquoted comma, or a column the header "
                         f"lacks); fix or re-export those rows")
        elif kind == "MISSING COLUMNS":
            lines.append(f"{where}: expected {width} fields as in the header, found as few as "
                         f"{fewest} (a cut or broken row); fix or re-export those rows")
        elif kind == "LINE SIZE OVER MAXIMUM":
            lines.append(f"{where}: a line too long for its {width} fields — expected cells "
                         f"of at most {MAX_CELL_CHARS:,} characters")
        else:
            lines.append(f"{where}: cannot be read as CSV ({kind.lower()}: "
                         f"{str(text).splitlines()[0][:200]})")
    return [f"{name}: {line}" for line in lines]


def _stage(con: duckdb.DuckDBPyConnection, raw: RawExport) -> str:
    """Put the file's text cells into ``_raw`` (columns c0..cn); return the SQL giving each
    row's number as Excel shows it."""
    width = len(raw.headers)
    if raw.kind != "csv":
        assert raw.frame is not None
        con.register("_raw_frame", raw.frame)
        cols = ", ".join(f'CAST("c{j}" AS VARCHAR) AS c{j}' for j in range(width))
        con.execute(f"CREATE OR REPLACE TEMP TABLE _raw AS SELECT {cols}, _row FROM _raw_frame")
        con.unregister("_raw_frame")
        return "_row"
    width = _header_fields(raw)
    columns = "{" + ", ".join(f"'c{j}': 'VARCHAR'" for j in range(width)) + "}"
    delim = "\\t" if raw.delimiter == "\t" else raw.delimiter
    # Strict: a row with more or fewer fields than the header, or a line too long, is
    # rejected into _rejects with its line number, wherever it is (no sniffing: a sniffer
    # meeting a long line said "CSV Error on Line: 1"). A line may hold every cell at the
    # cap, quotes doubled.
    longest = max(2 << 20, width * (8 * MAX_CELL_CHARS + 3) + 1024)
    try:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _raw AS SELECT * FROM read_csv(
            ?, header = false, skip = {raw.header_row}, columns = {columns},
            delim = '{delim}', quote = '"', escape = '"', null_padding = false,
            all_varchar = true, strict_mode = true, max_line_size = {longest},
            auto_detect = false,
            store_rejects = true, rejects_table = '_rejects', rejects_scan = '_rejects_scan')
            """, [str(raw.csv_path)])
        bad = _ragged(con, raw.path.name, width)
    except duckdb.Error as exc:
        if _environment_error(exc) is not None:
            raise
        raise ExportError(f"{raw.path.name}: cannot be read as CSV below the header on row "
                          f"{raw.header_row}: {str(exc).splitlines()[0]}") from None
    finally:
        con.execute("DROP TABLE IF EXISTS _rejects; DROP TABLE IF EXISTS _rejects_scan")
    if bad:
        raise ExportError(f"{raw.path.name}: {len(bad)} problem(s), nothing was loaded and the "
                          f"warehouse is unchanged:\n"
                          + "\n".join(f"  - {b.removeprefix(raw.path.name + ': ')}"
                                      for b in bad))
    # insertion order is file order, so rowid numbers the data rows
    return f"rowid + {raw.header_row + 1}"


def _long_cells(con: duckdb.DuckDBPyConnection, headers: Sequence[str], row_expr: str,
                ) -> list[str]:
    """Cells of ``_raw`` longer than :data:`MAX_CELL_CHARS` characters, per column.

    ``strlen`` (bytes) is read from the string header, so the common case costs nothing;
    only cells over the cap in bytes are counted in characters."""
    width = len(headers)
    over = [f"(strlen(c{j}) > {MAX_CELL_CHARS} AND length(c{j}) > {MAX_CELL_CHARS})"
            for j in range(width)]
    if not over or not fetch_one(con, f"SELECT count(*) FROM _raw WHERE {' OR '.join(over)}")[0]:
        return []
    lines = []
    for j, cond in enumerate(over):
        n, rows, longest = fetch_one(
            con, f"SELECT count(*), list({row_expr} ORDER BY rowid)[:{_MAX_LISTED}], "
                 f"max(length(c{j})) FROM _raw WHERE {cond}")
        if n:
            name = headers[j] or f"(no header, column {column_letter(j)})"
            lines.append(f"column {name}, {_rows_text(list(rows), n)}: expected at most "
                         f"{MAX_CELL_CHARS:,} characters in a cell (Excel's limit), found up "
                         f"to {longest:,}")
    return lines


def _already_loaded(con: duckdb.DuckDBPyConnection, digest: str, table: str) -> tuple | None:
    return con.execute("SELECT id, loaded_at, file_name FROM ingest_log WHERE content_hash = ? "
                       "AND table_name = ? ORDER BY id LIMIT 1", [digest, table]).fetchone()


# --------------------------------------------------------------------------- faults

_ENVIRONMENT_TEXTS = (("No space left", errno.ENOSPC), ("Disk quota exceeded", errno.EDQUOT),
                      ("Permission denied", errno.EACCES),
                      ("Read-only file system", errno.EROFS))


def _environment_error(exc: BaseException) -> OSError | None:
    """The machine's refusal behind ``exc`` (a full disk, a missing permission), if any."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EACCES,
                                                  errno.EPERM, errno.EROFS):
        return exc
    if isinstance(exc, duckdb.Error):
        text = str(exc)
        for words, number in _ENVIRONMENT_TEXTS:
            if words in text:
                return OSError(number, words)
    return None


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back if a transaction is still open: a failed COMMIT has already ended it, and
    "cannot rollback - no transaction is active" must not hide the fault that ended it."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


def _failed(path: Path, exc: BaseException, doing: str) -> IngestResult:
    """The outcome of a file whose load ended with ``exc`` (nothing of it was kept)."""
    unchanged = "nothing was loaded from it and the warehouse is unchanged"
    machine = _environment_error(exc)
    if machine is not None:
        fault = environment_fault(machine, f"{path.name}: {doing}")
        return IngestResult(path, "failed", None, None, f"{fault}; {unchanged}", fault.code)
    if isinstance(exc, ExportError):
        text = str(exc)
        return IngestResult(path, "failed", None, None,
                            text if text.startswith(path.name) else f"{path.name}: {text}", 1)
    if isinstance(exc, Fault):
        return IngestResult(path, "failed", None, None, f"{path.name}: {exc}", exc.code)
    if isinstance(exc, OSError):
        return IngestResult(path, "failed", None, None,
                            f"{path.name}: {doing}: {exc.strerror or exc}"
                            f"{f' ({exc.filename})' if exc.filename else ''}; {unchanged}", 1)
    first = (str(exc).splitlines() or [""])[0][:300]
    return IngestResult(path, "failed", None, None,
                        f"{path.name}: an unexpected error while {doing} "
                        f"({type(exc).__name__}: {first}); {unchanged}. This is a fault of "
                        f"research, not of the file: please report it with the file", 1)


# --------------------------------------------------------------------------- one file

def ingest_file(con: duckdb.DuckDBPyConnection, path: Path, raw_dir: Path, *,
                table: str | None = None, defaults: dict[str, str] | None = None,
                force: bool = False, tmp_dir: Path,
                dates: tuple[dt.date, dt.date] | None = None) -> IngestResult:
    """Load one export through an open warehouse connection (see :func:`ingest_paths`).

    ``tmp_dir`` is a private folder on the raw folder's file system (raw copies are renamed
    from it into place). Never raises for a fault of the file or the machine: the outcome
    says what happened."""
    path = Path(path)
    doing = "loading it"
    try:
        return _ingest_one(con, path, raw_dir, table=table, defaults=defaults, force=force,
                           tmp_dir=tmp_dir, dates=dates or date_range())
    except _Stage as stage:
        doing = stage.doing
        exc = stage.__cause__ or stage
        return _failed(path, exc, doing)
    except Exception as exc:  # whatever it is, the batch goes on (the message names it)
        return _failed(path, exc, doing)
    finally:
        for name in ("_raw", "_clean", "_dedup", "_parsed", "_suspect", "_twice"):
            try:
                con.execute(f"DROP TABLE IF EXISTS {name}")
            except duckdb.Error:  # pragma: no cover - a connection already broken
                pass


class _Stage(Exception):
    """Carries what the load was doing when the fault in ``__cause__`` happened."""

    def __init__(self, doing: str) -> None:
        super().__init__(doing)
        self.doing = doing


def _ingest_one(con: duckdb.DuckDBPyConnection, path: Path, raw_dir: Path, *,
                table: str | None, defaults: dict[str, str] | None, force: bool,
                tmp_dir: Path, dates: tuple[dt.date, dt.date]) -> IngestResult:
    try:
        raw = read_export(path, tmp_dir)
    except (ExportError, OSError) as exc:
        raise _Stage("reading the export") from exc
    try:
        return _load(con, path, raw, raw_dir, table=table, defaults=defaults, force=force,
                     tmp_dir=tmp_dir, dates=dates)
    finally:
        if raw.temporary:
            raw.temporary.unlink(missing_ok=True)


def _load(con: duckdb.DuckDBPyConnection, path: Path, raw: RawExport, raw_dir: Path, *,
          table: str | None, defaults: dict[str, str] | None, force: bool, tmp_dir: Path,
          dates: tuple[dt.date, dt.date]) -> IngestResult:
    facts = {**raw.preamble, **(defaults or {})}
    try:
        tbl, mapping = detect_table(raw.headers, table, facts, first_column=raw.first_column)
    except ExportError as exc:
        raise ExportError(f"{path.name}: {exc}") from None
    used_defaults = {k: v for k, v in facts.items() if k in tbl.names and k not in mapping}
    digest = file_hash(path)
    seen = _already_loaded(con, digest, tbl.name)
    if seen and not force:
        try:
            restored = mend_copies(con, path, digest, raw_dir, tmp_dir)
        except (OSError, duckdb.Error) as exc:
            raise _Stage("restoring its raw copy") from exc
        return IngestResult(path, "skipped", tbl.name, None,
                            f"{path.name}: already loaded into {tbl.name} as ingest "
                            f"#{seen[0]} ({seen[2]}, {seen[1]:%Y-%m-%d %H:%M}); nothing "
                            f"changed" + "".join(f"; {m}" for m in restored))
    create_macros(con)
    row_expr = "_row"
    if raw.has_data:
        row_expr = _stage(con, raw)
    if not raw.has_data or fetch_one(con, "SELECT count(*) FROM _raw")[0] == 0:
        raise ExportError(f"{path.name}: has a header (row {raw.header_row}) but no data "
                          f"rows; expected at least one row of {tbl.name}")
    long_cells = _long_cells(con, raw.headers, row_expr)
    if long_cells:
        listing = "\n".join(f"  - {p}" for p in long_cells)
        raise ExportError(f"{path.name} (table {tbl.name}): {len(long_cells)} problem(s), "
                          f"nothing was loaded and the warehouse is unchanged:\n{listing}")
    build_clean(con, tbl, mapping, raw.headers, used_defaults, row_expr)
    con.execute("DROP TABLE _raw")
    problems, repeats = _validate(con, tbl, mapping, raw.headers, dates)
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise ExportError(
            f"{path.name} (table {tbl.name}): {len(problems)} problem(s), nothing was "
            f"loaded and the warehouse is unchanged:\n{listing}")
    key = ", ".join(f'"{k}"' for k in tbl.key)
    source = "_clean"
    if repeats:
        # exact repeats of a row (same key, same values) are kept once
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _dedup AS SELECT * FROM _clean
                        QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY _row) = 1""")
        source = "_dedup"
    if raw.temporary:
        raw.temporary.unlink(missing_ok=True)
    mended: list[str] = []
    if seen:  # --force on content loaded before: its kept copies are checked first
        try:
            mended = mend_copies(con, path, digest, raw_dir, tmp_dir)
        except (OSError, duckdb.Error) as exc:
            raise _Stage("restoring its raw copy") from exc
    kept = raw_dir / tbl.name / f"{digest[:16]}_{path.name}"
    doing = "writing the warehouse"
    placed = None
    con.execute("BEGIN TRANSACTION")
    try:
        ingest_id = next_ingest_id(con)
        result = store(con, tbl.name, source, ingest_id)
        doing = f"copying the export into {kept.parent}"
        state = copy_state(kept, digest)
        if state != "ok":
            place_copy(path, kept, digest, tmp_dir)
            placed = state
            if state != "missing":
                record_repair(con, kept, digest, state, path)
                mended.append(f"raw copy {kept.name} was {state}; replaced")
        doing = "writing the warehouse"
        log_ingest(con, file_name=path.name, content_hash=digest, result=result,
                   raw_path=str(kept), source="export", ingest_id=ingest_id)
        con.execute("COMMIT")
    except BaseException as exc:
        _rollback(con)
        if placed == "missing":
            kept.unlink(missing_ok=True)
        if isinstance(exc, Exception) and not isinstance(exc, ExportError):
            raise _Stage(doing) from exc
        raise
    ignored = [h for j, h in enumerate(raw.headers) if h and j not in mapping.values()
               and tbl.name != "items"]
    note = f"; ignored columns: {', '.join(ignored)}" if ignored else ""
    if used_defaults:
        note += "; " + ", ".join(f"{k}={v} (from preamble/--default)"
                                 for k, v in used_defaults.items())
    unknown = []
    if tbl.name == "traffic":
        unknown = [r[0] for r in con.execute(
            "SELECT DISTINCT channel_raw FROM traffic WHERE channel = 'other' AND _ingest_id = ? "
            "AND channel_raw NOT IN ('其他', '其它', 'other') ORDER BY 1", [ingest_id]).fetchall()]
        if unknown:
            note += f"; channels not in the contract, kept as 'other': {', '.join(unknown)}"
    note += "".join(f"; {m}" for m in mended)
    return IngestResult(path, "loaded", tbl.name, result,
                        f"{path.name} → {tbl.name}: {result.rows:,} rows, {result.new:,} new, "
                        f"{result.replaced:,} replaced, {result.unchanged:,} unchanged{note}")


# --------------------------------------------------------------------------- the batch

def _expand(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The export files under ``paths``; a path holding none is a usage fault."""
    files: list[Path] = []
    suffixes = SUPPORTED_SUFFIXES
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file()
                           and f.suffix.lower() in suffixes
                           and not f.name.startswith((".", "~$")))
            if not found:
                raise UsageFault(
                    f"{p}: the folder holds no export (expected {', '.join(suffixes)} "
                    f"files); nothing was loaded — give the folder or files the platform "
                    f"exported")
            files.extend(found)
        elif p.is_file():
            if p.suffix.lower() not in suffixes:
                raise UsageFault(f"{p}: not an export (expected {', '.join(suffixes)}); "
                                 f"nothing was loaded — give the files the platform exported")
            files.append(p)
        else:
            raise UsageFault(f"{p}: no such file or folder; nothing was loaded — check the "
                             f"path")
    if not files:
        raise UsageFault("no export given; name the files or folders to load")
    return files


def ingest_paths(paths: Iterable[str | os.PathLike[str]],
                 warehouse: str | os.PathLike[str] | None = None, *, table: str | None = None,
                 defaults: dict[str, str] | None = None, force: bool = False,
                 dates: tuple[dt.date, dt.date] | None = None, wait: float = 0.0,
                 ) -> list[IngestResult]:
    """Load export files and folders (recursively) into the warehouse, one file at a time.

    Parameters
    ----------
    paths : iterable of path-like
        Files (``.csv``, ``.xlsx``) and folders.
    warehouse : path-like, optional
        The DuckDB file; created if missing.
    table : str, optional
        Force the table instead of recognising it from the headers.
    defaults : dict, optional
        Values for columns a file lacks, e.g. ``{"category": "保温杯"}``.
    force : bool
        Re-apply a file even if the same content was loaded before.
    dates : (date, date), optional
        The plausible dates; rows dated outside are refused. Default: :func:`date_range`
        of ``$RESEARCH_DATE_RANGE`` (2000-01-01 to the end of next year when unset).
    wait : float
        Seconds to wait for another holder of the warehouse (see
        :func:`research.store.warehouse.connect`); 0 refuses at once.

    Returns
    -------
    list of IngestResult
        One per file, whatever happened to it; failed files leave the warehouse untouched.

    Raises
    ------
    UsageFault
        A path that does not exist, or holds no export; nothing is created.
    Busy
        The warehouse stayed held by another process past ``wait``.
    EnvironmentFault
        The raw folder cannot be made (permission, full disk); nothing was loaded.
    """
    target = Path(warehouse) if warehouse is not None else default_warehouse()
    files = _expand(paths)
    bounds = dates if dates is not None else date_range(os.environ.get(DATE_RANGE_ENV))
    raw_dir = raw_dir_for(target)
    results: list[IngestResult] = []
    with connect(target, wait=wait) as con, incoming_folder(raw_dir) as tmp:
        for f in files:
            results.append(ingest_file(con, f, raw_dir, table=table, defaults=defaults,
                                       force=force, tmp_dir=tmp, dates=bounds))
    return results


def results_frame(results: Sequence[IngestResult]) -> pd.DataFrame:
    """Tabulate ingest results (for printing and logs)."""
    return pd.DataFrame([{
        "file": r.file.name, "outcome": r.outcome, "table": r.table,
        "rows": r.result.rows if r.result else None,
        "new": r.result.new if r.result else None,
        "replaced": r.result.replaced if r.result else None,
        "unchanged": r.result.unchanged if r.result else None,
    } for r in results])


def as_json(results: Sequence[IngestResult]) -> str:
    """Serialise results for ``--json`` output."""
    return json.dumps([{"file": str(r.file), "outcome": r.outcome, "table": r.table,
                        "code": r.code, "message": r.message} for r in results],
                      ensure_ascii=False, indent=2)
