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

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from research.config import default_warehouse, raw_dir_for
from research.sources.parse_sql import build_clean, create_macros
from research.sources.readers import (
    SUPPORTED_SUFFIXES,
    ExportError,
    RawExport,
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
           "IngestError"]

IngestError = ExportError
_MAX_LISTED = 8
_PREFERRED = {"price": "券后价"}  # the price a buyer pays wins over a list price


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
    """

    file: Path
    outcome: str
    table: str | None
    result: StoreResult | None
    message: str


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
    return {name: pos for name, (_, pos) in best.items()}


def detect_table(headers: Sequence[str], table: str | None = None,
                 defaults: dict[str, str] | None = None) -> tuple[Table, dict[str, int]]:
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

    Returns
    -------
    (Table, dict)
        The table and canonical column → header position.

    Raises
    ------
    ExportError
        No table, or several equally, match; the message lists what each table lacks.
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
                    f"looks like a {other.name} export (it has "
                    f"{', '.join(headers[other_map[c]] for c in stray)}) but lacks {want}. "
                    f"Headers found: {shown}")
        return chosen, mapping
    if len(ok) > 1:
        raise ExportError(
            f"headers fit both {ok[0][2].name} and {ok[1][2].name} equally; "
            f"name the table with --table. Headers found: {shown}")

    def lacks(s: tuple) -> str:
        tbl, missing = s[2], s[4]
        want = "; ".join(f"{c} ({'/'.join(tbl.column(c).aliases[:3]) or c})" for c in missing)
        return f"{tbl.name} lacks {want}"

    closest = "; ".join(lacks(s) for s in scored[: 3 if not table else 1])
    raise ExportError(f"headers match no table (closest: {closest}). Headers found: {shown}")


# --------------------------------------------------------------------------- validation

def _rows_text(rows: list[int], total: int) -> str:
    shown = ", ".join(str(r) for r in rows[:_MAX_LISTED])
    more = f" and {total - _MAX_LISTED} more" if total > _MAX_LISTED else ""
    return f"row{'s' if total > 1 else ''} {shown}{more}"


def _values_text(values: list[object]) -> str:
    seen: list[str] = []
    for v in values:
        s = repr(v) if not isinstance(v, str) else f"'{v}'"
        if s not in seen:
            seen.append(s)
    return ", ".join(seen[:4])


def _validate(con: duckdb.DuckDBPyConnection, tbl: Table, mapping: dict[str, int],
              headers: Sequence[str]) -> tuple[list[str], bool]:
    """Check the staged ``_clean`` table.

    Returns one line per (column, problem), and whether some key occurs more than once
    (identical repeats are allowed and kept once).
    """
    checks: list[tuple[str, str, str]] = []  # (condition, column label, expectation)
    for col in tbl.columns:
        if col.name not in mapping and col.name not in ("channel",):
            continue
        if col.name == "channel":
            continue
        header = headers[mapping[col.name]]
        label = f"{header} ({col.name})" if normalise_header(header) != col.name else header
        raw, clean = f'"r_{col.name}"', f'"{col.name}"'
        expect = col.expectation()
        if col.required:
            checks.append((f"{clean} IS NULL AND ({raw} IS NULL OR _absent({raw}))", label,
                           f"a value ({expect})"))
        checks.append((f"{clean} IS NULL AND {raw} IS NOT NULL AND NOT _absent({raw})", label,
                       expect))
        if col.kind == "id":
            checks.append((f"contains(lower({raw}), 'e+') AND "
                           f"regexp_matches(_norm({raw}), '^[0-9.]+[eE][+]?[0-9]+$')", label,
                           "the full ID as text (this one is in scientific notation, its "
                           "digits are lost: format the column as text before exporting)"))
        if col.kind == "int":
            checks.append((f"{clean} IS NOT NULL AND {clean} <> round({clean})", label, expect))
        if col.minimum is not None:
            op = "<=" if col.exclusive_min else "<"
            checks.append((f"{clean} {op} {col.minimum}", label, expect))
        if col.maximum is not None:
            checks.append((f"{clean} > {col.maximum} + 1e-9", label, expect))
    if tbl.name == "audience" and "dimension" in mapping:
        checks.append(("\"dimension\" IS NOT NULL AND \"dimension\" NOT IN "
                       f"({', '.join(repr(c) for c in AUDIENCE_DIMENSIONS)})",
                       headers[mapping["dimension"]],
                       "one of " + ", ".join(f"{names[0]}" for names in
                                             AUDIENCE_DIMENSIONS.values())))
    problems: list[str] = []
    if checks:
        # Cells that failed to parse are rare: look at those rows only for the costly tests.
        nulls = [f'"{c.name}" IS NULL' for c in tbl.columns if c.name in mapping
                 and c.name != "channel"]
        con.execute(f"CREATE OR REPLACE TEMP TABLE _suspect AS SELECT * FROM _clean "
                    f"WHERE {' OR '.join(nulls) or 'FALSE'}")
        agg = ", ".join(
            f"(SELECT count(*) FROM {'_suspect' if ('_absent' in c or '_norm' in c) else '_clean'}"
            f" WHERE {c})" for c, _, _ in checks)
        counts = fetch_one(con, f"SELECT {agg}")
        for (cond, label, expect), n in zip(checks, counts, strict=True):
            if not n:
                continue
            raw_col = "r_" + next((c.name for c in tbl.columns
                                   if label.startswith(headers[mapping.get(c.name, -1)])
                                   and c.name in mapping), "")
            source = "_suspect" if ("_absent" in cond or "_norm" in cond) else "_clean"
            examples = con.execute(
                f'SELECT _row, "{raw_col}" FROM {source} WHERE {cond} ORDER BY _row LIMIT '
                f'{_MAX_LISTED}').fetchall() if raw_col != "r_" else []
            rows = [r[0] for r in examples]
            found = _values_text([r[1] for r in examples if r[1] is not None])
            problems.append(f"column {label}, {_rows_text(rows, n)}: expected {expect}"
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

def _stage(con: duckdb.DuckDBPyConnection, raw: RawExport) -> str:
    """Put the file's text cells into ``_raw`` (columns c0..cn); return the SQL giving each
    row's number as Excel shows it."""
    width = len(raw.headers)
    if raw.kind == "xlsx":
        assert raw.frame is not None
        con.register("_raw_frame", raw.frame)
        cols = ", ".join(f'CAST("c{j}" AS VARCHAR) AS c{j}' for j in range(width))
        con.execute(f"CREATE OR REPLACE TEMP TABLE _raw AS SELECT {cols}, _row FROM _raw_frame")
        con.unregister("_raw_frame")
        return "_row"
    columns = "{" + ", ".join(f"'c{j}': 'VARCHAR'" for j in range(width)) + "}"
    delim = "\\t" if raw.delimiter == "\t" else raw.delimiter
    try:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _raw AS SELECT * FROM read_csv(
            ?, header = false, skip = {raw.header_row}, columns = {columns},
            delim = '{delim}', quote = '"', escape = '"', null_padding = true,
            all_varchar = true, strict_mode = false)""", [str(raw.csv_path)])
    except duckdb.Error as exc:
        raise ExportError(f"{raw.path.name}: cannot be read as CSV below the header on row "
                          f"{raw.header_row}: {str(exc).splitlines()[0]}") from None
    # insertion order is file order, so rowid numbers the data rows
    return f"rowid + {raw.header_row + 1}"


def _already_loaded(con: duckdb.DuckDBPyConnection, digest: str, table: str) -> tuple | None:
    return con.execute("SELECT id, loaded_at, file_name FROM ingest_log WHERE content_hash = ? "
                       "AND table_name = ? ORDER BY id LIMIT 1", [digest, table]).fetchone()


def ingest_file(con: duckdb.DuckDBPyConnection, path: Path, raw_dir: Path, *,
                table: str | None = None, defaults: dict[str, str] | None = None,
                force: bool = False, tmp_dir: Path) -> IngestResult:
    """Load one export through an open warehouse connection (see :func:`ingest_paths`)."""
    path = Path(path)
    try:
        raw = read_export(path, tmp_dir)
        facts = {**raw.preamble, **(defaults or {})}
        try:
            tbl, mapping = detect_table(raw.headers, table, facts)
        except ExportError as exc:
            raise ExportError(f"{path.name}: {exc}") from None
        used_defaults = {k: v for k, v in facts.items() if k in tbl.names and k not in mapping}
        digest = file_hash(path)
        seen = _already_loaded(con, digest, tbl.name)
        if seen and not force:
            return IngestResult(path, "skipped", tbl.name, None,
                                f"{path.name}: already loaded into {tbl.name} as ingest "
                                f"#{seen[0]} ({seen[2]}, {seen[1]:%Y-%m-%d %H:%M}); nothing "
                                f"changed")
        create_macros(con)
        row_expr = "_row"
        if raw.has_data:
            row_expr = _stage(con, raw)
        if not raw.has_data or fetch_one(con, "SELECT count(*) FROM _raw")[0] == 0:
            raise ExportError(f"{path.name}: has a header (row {raw.header_row}) but no data "
                              f"rows; expected at least one row of {tbl.name}")
        build_clean(con, tbl, mapping, raw.headers, used_defaults, row_expr)
        con.execute("DROP TABLE _raw")
        problems, repeats = _validate(con, tbl, mapping, raw.headers)
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
        kept = raw_dir / tbl.name / f"{digest[:16]}_{path.name}"
        con.execute("BEGIN TRANSACTION")
        copied = False
        try:
            ingest_id = next_ingest_id(con)
            result = store(con, tbl.name, source, ingest_id)
            if not kept.exists():
                kept.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, kept)
                copied = True
            log_ingest(con, file_name=path.name, content_hash=digest, result=result,
                       raw_path=str(kept), source="export", ingest_id=ingest_id)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            if copied:
                kept.unlink(missing_ok=True)
            raise
    except ExportError as exc:
        text = str(exc)
        return IngestResult(path, "failed", None, None,
                            text if text.startswith(path.name) else f"{path.name}: {text}")
    finally:
        for name in ("_raw", "_clean", "_dedup"):
            con.execute(f"DROP TABLE IF EXISTS {name}")
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
    return IngestResult(path, "loaded", tbl.name, result,
                        f"{path.name} → {tbl.name}: {result.rows:,} rows, {result.new:,} new, "
                        f"{result.replaced:,} replaced, {result.unchanged:,} unchanged{note}")


def _expand(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.is_file()
                                and f.suffix.lower() in (*SUPPORTED_SUFFIXES, ".xls")
                                and not f.name.startswith((".", "~$"))))
        elif p.exists():
            files.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such file or folder")
    return files


def ingest_paths(paths: Iterable[str | os.PathLike[str]],
                 warehouse: str | os.PathLike[str] | None = None, *, table: str | None = None,
                 defaults: dict[str, str] | None = None, force: bool = False,
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

    Returns
    -------
    list of IngestResult
        One per file; failed files leave the warehouse untouched.
    """
    target = Path(warehouse) if warehouse is not None else default_warehouse()
    files = _expand(paths)
    raw_dir = raw_dir_for(target)
    results = []
    with connect(target) as con, tempfile.TemporaryDirectory() as tmp:
        for f in files:
            results.append(ingest_file(con, f, raw_dir, table=table, defaults=defaults,
                                       force=force, tmp_dir=Path(tmp)))
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
                        "message": r.message} for r in results], ensure_ascii=False, indent=2)
