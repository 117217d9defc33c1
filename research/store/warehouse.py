"""The local warehouse: one DuckDB file holding the canonical tables and the ingest log.

Writers (``research ingest``, ``research import-public``, approvals) open it read-write one at
a time, each under the warehouse's exclusive hold (:mod:`research.store.locks`); a study holds
it shared for its whole run and its notebooks open it read-only, several at once. A holder
that outlasts ``wait`` is a :class:`research.faults.Busy` naming it; a path that is not a
DuckDB warehouse (a folder, a CSV, a truncated file) is a :class:`research.faults.UsageFault`
naming it. A warehouse this module creates, and its folder, get
:func:`research.config.file_mode` / :func:`research.config.dir_mode` (0600/0700 by default).

Examples
--------
>>> import tempfile, pandas as pd
>>> from pathlib import Path
>>> path = Path(tempfile.mkdtemp()) / "w.duckdb"
>>> with connect(path) as con:
...     frame = pd.DataFrame({"date": pd.to_datetime(["2026-11-01"]), "name": ["双11"],
...                           "kind": ["promotion"]})
...     store(con, "events", frame).new
1
>>> read("events", path)["name"].tolist()
['双11']
"""

from __future__ import annotations

import errno
import os
import re
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from research.config import default_warehouse, file_mode
from research.faults import Busy, UsageFault, environment_fault
from research.store.locks import (
    busy_message,
    hold,
    holder_of_pid,
    holders,
    make_private_dirs,
    tell_waiting,
    waiting_message,
)
from research.store.schema import TABLES, Column, Table

__all__ = [
    "StoreResult",
    "WarehouseMissing",
    "check_warehouse",
    "connect",
    "open_read",
    "quiet",
    "ensure_schema",
    "store",
    "read",
    "log_ingest",
    "ingest_log",
    "summary",
    "fetch_one",
    "next_ingest_id",
    "sql_literal",
    "has_table",
]

_SQL_TYPES = {
    "date": "DATE", "text": "VARCHAR", "id": "VARCHAR", "float": "DOUBLE",
    "int": "BIGINT", "share": "DOUBLE", "bool": "BOOLEAN",
}

_LOG_DDL = """
CREATE TABLE IF NOT EXISTS ingest_log (
    id          INTEGER PRIMARY KEY,
    file_name   VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,
    table_name  VARCHAR NOT NULL,
    rows        BIGINT NOT NULL,
    rows_new    BIGINT NOT NULL,
    rows_replaced BIGINT NOT NULL,
    rows_unchanged BIGINT NOT NULL,
    raw_path    VARCHAR,
    source      VARCHAR,
    loaded_at   TIMESTAMP NOT NULL DEFAULT current_timestamp
)
"""


@dataclass(frozen=True)
class StoreResult:
    """What storing a frame did to a table.

    Attributes
    ----------
    table : str
    rows : int
        Rows in the frame.
    new : int
        Keys that were not in the table.
    replaced : int
        Keys that were there with different values, now replaced.
    unchanged : int
        Keys that were there with the same values.
    """

    table: str
    rows: int
    new: int
    replaced: int
    unchanged: int


def _column_sql(col: Column) -> str:
    return f'"{col.name}" {_SQL_TYPES[col.kind]}'


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the canonical tables and the ingest log where they do not exist yet.

    Columns added to the contract after a warehouse was made are added to it in place.
    """
    for tbl in TABLES.values():
        cols = ", ".join(_column_sql(c) for c in tbl.columns)
        con.execute(f'CREATE TABLE IF NOT EXISTS "{tbl.name}" ({cols}, _ingest_id INTEGER)')
        have = {r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
            [tbl.name]).fetchall()}
        for col in tbl.columns:
            if col.name not in have:
                con.execute(f'ALTER TABLE "{tbl.name}" ADD COLUMN {_column_sql(col)}')
    con.execute("CREATE SEQUENCE IF NOT EXISTS ingest_id_seq START 1")
    con.execute(_LOG_DDL)


def quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Turn DuckDB's progress bar off on ``con`` and return it.

    The bar prints into command output and logs once a query runs over two seconds. Inside
    a Jupyter kernel DuckDB refuses to change the setting without ipywidgets, and shows no
    bar there anyway, so a refusal is ignored.

    Examples
    --------
    >>> import duckdb
    >>> quiet(duckdb.connect()).execute(
    ...     "SELECT current_setting('enable_progress_bar')").fetchone()
    (False,)
    """
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.Error:
        pass
    return con


class WarehouseMissing(UsageFault, FileNotFoundError):
    """The warehouse file does not exist (a usage fault: load exports first)."""


_DUCKDB_MAGIC = b"DUCK"
_LOCK_ERROR = "Could not set lock"
_RETRY_S = 0.1


def _target(path: str | os.PathLike[str] | None) -> Path:
    return Path(path) if path is not None else default_warehouse()


def _not_a_warehouse(target: Path, found: str) -> UsageFault:
    return UsageFault(
        f"{target}: expected a DuckDB warehouse file, found {found}. Give --warehouse the "
        f"warehouse (e.g. data/warehouse.duckdb), or a new file name to create one; exports are "
        f"loaded with `research ingest PATH`")


def check_warehouse(path: str | os.PathLike[str] | None = None) -> Path:
    """Refuse a path that exists but cannot be a DuckDB warehouse (a folder, a CSV, an empty
    file), without opening it or making anything beside it; return the path.

    Raises
    ------
    UsageFault
        Naming the path and what was found.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> csv = Path(tempfile.mkdtemp()) / "export.csv"
    >>> _ = csv.write_text("日期,搜索人气,支付件数", encoding="utf-8")
    >>> try:
    ...     check_warehouse(csv)
    ... except UsageFault as exc:
    ...     print(str(exc).split(". ")[0].split(": ", 1)[1])
    expected a DuckDB warehouse file, found a file of another kind (it reads as text: a CSV or another export?)
    """
    target = _target(path)
    _check_file(target)
    return target


def _check_file(target: Path) -> None:
    """Refuse a path that exists but cannot be a DuckDB database, before DuckDB opens it."""
    if target.is_dir():
        raise _not_a_warehouse(target, "a folder")
    if not target.exists():
        return
    try:
        with open(target, "rb") as fh:
            head = fh.read(12)
    except OSError as exc:
        raise environment_fault(exc, f"opening the warehouse {target}") from exc
    if len(head) < 12 or head[8:12] != _DUCKDB_MAGIC:
        raise _not_a_warehouse(target, _kind_of(target, head))


def _kind_of(target: Path, head: bytes) -> str:
    if not head:
        return "an empty file"
    return "a file of another kind" + (
        " (it reads as text: a CSV or another export?)" if _looks_like_text(target) else "")


def _looks_like_text(target: Path) -> bool:
    try:
        with open(target, "rb") as fh:
            chunk = fh.read(4096)
    except OSError:
        return False
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(chunk) - 4:  # a character cut by the chunk's end is still text
            return False
    return b"\0" not in chunk


def _holder_pid(message: str) -> int | None:
    found = re.search(r"\(PID (\d+)\)", message)
    return int(found.group(1)) if found else None


def _open_duckdb(target: Path, *, read_only: bool, wait: float,
                 started: float) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``, its own faults turned into one message each.

    DuckDB's file lock refuses a reader while another process writes and a writer while any
    other process has the file open; that is retried until ``wait`` seconds after
    ``started`` (``time.monotonic()``), then :class:`Busy` names the process DuckDB reports.
    """
    wanted = "read" if read_only else "write to"
    told = False
    while True:
        try:
            return duckdb.connect(str(target), read_only=read_only)
        except duckdb.IOException as exc:
            text = str(exc)
            if _LOCK_ERROR in text:
                pid = _holder_pid(text)
                held_by = [holder_of_pid(target, pid)] if pid is not None else None
                if time.monotonic() - started + _RETRY_S <= wait:
                    if not told:
                        tell_waiting(waiting_message(target, wanted, wait, held_by))
                        told = True
                    time.sleep(_RETRY_S)
                    continue
                raise Busy(busy_message(target, wanted, wait, held_by)) from None
            if "Permission denied" in text or "No space left" in text \
                    or "Read-only file system" in text:
                err = (errno.EACCES if "Permission" in text else
                       errno.ENOSPC if "No space" in text else errno.EROFS)
                raise environment_fault(OSError(err, text, str(target)),
                                        f"opening the warehouse {target}") from None
            if "not a valid DuckDB database" in text:
                try:
                    with open(target, "rb") as fh:
                        head = fh.read(12)
                except OSError:
                    head = b"?"
                raise _not_a_warehouse(target, _kind_of(target, head)) from None
            if "Could not read enough bytes" in text or "Corrupt" in text:
                raise _not_a_warehouse(
                    target, f"a damaged or truncated DuckDB file ({text.removeprefix('IO Error: ')})"
                ) from None
            raise
        except duckdb.SerializationException as exc:
            raise _not_a_warehouse(target, f"a DuckDB file this version cannot read ({exc})") \
                from None
        except duckdb.ConnectionException:  # this process holds it open another way: a bug
            raise
        except duckdb.Error as exc:  # any other refusal to open it
            raise _not_a_warehouse(target, f"a file DuckDB cannot open ({exc})") from None


def _make_private(target: Path, *, created: bool) -> None:
    """Give a warehouse this connection created, and any write-ahead log, exactly
    :func:`file_mode`; an existing warehouse only loses the bits ``file_mode`` does not allow
    (a 0644 warehouse of before becomes 0600; a tighter one stays as it is)."""
    wal = target.with_name(target.name + ".wal")
    for file, exact in ((target, created), (wal, True)):
        try:
            mode = stat.S_IMODE(file.stat().st_mode)
            wanted = file_mode() if exact else mode & file_mode()
            if mode != wanted:
                os.chmod(file, wanted)
        except OSError:  # gone meanwhile, or not ours to change: leave it as it is
            pass


@contextmanager
def connect(path: str | os.PathLike[str] | None = None, *,
            wait: float = 0.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse read-write, creating the file and its tables if needed.

    The connection holds the warehouse's exclusive hold (:mod:`research.store.locks`) for its
    whole life: no other writer and no study runs meanwhile. A new warehouse file, its folder
    and its write-ahead log get :func:`research.config.file_mode` / ``dir_mode``.

    Parameters
    ----------
    path : path-like, optional
        The DuckDB file; defaults to :func:`research.config.default_warehouse`.
    wait : float
        Seconds to wait for another holder (a writer, a running study) to finish; 0 refuses
        at once.

    Raises
    ------
    Busy
        When the warehouse stays held past ``wait`` seconds, naming who holds it.
    UsageFault
        When the path is a folder or a file that is not a DuckDB database.
    """
    started = time.monotonic()
    target = _target(path)
    if target.parent.exists() and not target.parent.is_dir():
        raise UsageFault(f"{target}: expected a warehouse file in a folder, but "
                         f"{target.parent} is a file; give --warehouse a path in a folder")
    if target.is_dir():
        raise _not_a_warehouse(target, "a folder")
    if target.exists() and target.stat().st_size >= 12:
        _check_file(target)  # plainly not a warehouse: refused before anything is made
    try:
        make_private_dirs(target.parent)
    except (NotADirectoryError, FileExistsError):
        raise UsageFault(f"{target}: expected a warehouse file in a folder, but a file stands "
                         f"where a folder of its path should be; give --warehouse a path in a "
                         f"folder") from None
    except OSError as exc:
        raise environment_fault(exc, f"creating the folder of the warehouse {target}") from exc
    with hold(target, "exclusive", wait=wait):
        _check_file(target)  # under the hold: no writer is creating it meanwhile
        created = not target.exists()
        con = _open_duckdb(target, read_only=False, wait=wait, started=started)
        try:
            _make_private(target, created=created)
            quiet(con)
            ensure_schema(con)
            yield con
        finally:
            _make_private(target, created=created)
            con.close()
            _make_private(target, created=created)


@contextmanager
def open_read(path: str | os.PathLike[str] | None = None, *,
              wait: float = 0.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse read-only (several readers may do so at once).

    No hold is taken (a study's notebooks read under the study's shared hold); DuckDB itself
    refuses a reader while another process writes, which becomes :class:`Busy`.

    Parameters
    ----------
    path : path-like, optional
        The DuckDB file; defaults to :func:`research.config.default_warehouse`.
    wait : float
        Seconds to wait for a writer to finish; 0 refuses at once.

    Raises
    ------
    WarehouseMissing
        When the file does not exist, with what to run to make it (a ``FileNotFoundError``).
    UsageFault
        When the path is a folder or a file that is not a DuckDB database.
    Busy
        When a writer holds the file past ``wait`` seconds.
    """
    started = time.monotonic()
    if not wait >= 0:  # NaN too
        raise UsageFault(f"--wait {wait}: expected a number of seconds, 0 or more")
    target = _target(path)
    if target.is_dir():
        raise _not_a_warehouse(target, "a folder")
    if not target.exists():
        raise WarehouseMissing(
            f"warehouse {target} does not exist: load exports with `research ingest PATH` "
            f"(or `make demo` for the sample market)")
    try:
        _check_file(target)
    except UsageFault:
        # a warehouse being created this instant is still short: that is a writer at work
        if not any(h.get("mode") == "exclusive" and not h.get("waiting")
                   for h in holders(target)):
            raise
    con = _open_duckdb(target, read_only=True, wait=wait, started=started)
    try:
        yield con
    finally:
        con.close()


def _value_columns(tbl: Table) -> list[str]:
    return [c for c in tbl.names if c not in tbl.key]


def store(con: duckdb.DuckDBPyConnection, table_name: str, frame: pd.DataFrame | str,
          ingest_id: int | None = None) -> StoreResult:
    """Upsert canonical rows into a table by its key, counting new, replaced and unchanged.

    The caller owns the transaction: wrap a file's store and its log entry in one
    ``BEGIN``/``COMMIT`` so that a file is loaded whole or not at all.

    Parameters
    ----------
    con : duckdb connection
    table_name : str
        A canonical table.
    frame : DataFrame or str
        Canonical rows (missing optional columns are filled with NULL), or the name of a
        DuckDB relation/table already holding them (faster for large files).
    ingest_id : int, optional
        The ingest-log id the rows came from.

    Returns
    -------
    StoreResult
    """
    tbl = TABLES[table_name]
    if isinstance(frame, pd.DataFrame):
        missing = [c for c in tbl.names if c not in frame.columns]
        staged = frame.assign(**{c: None for c in missing})[tbl.names]
        con.register("_store_frame", staged)
        source = "_store_frame"
    else:
        source = frame
    present = {r[0] for r in con.execute(f"DESCRIBE {source}").fetchall()}
    casts = ", ".join(
        f'CAST({f"{chr(34)}{c.name}{chr(34)}" if c.name in present else "NULL"} '
        f'AS {_SQL_TYPES[c.kind]}) AS "{c.name}"' for c in tbl.columns)
    # Text keys: NULL would never match in a join, the contract stores "" instead (item_id of
    # shop-level traffic rows).
    key_fix = ", ".join(
        f'coalesce("{k}", \'\') AS "{k}"' if tbl.column(k).kind in ("text", "id") else f'"{k}"'
        for k in tbl.key)
    values = _value_columns(tbl)
    # A frame is materialised (it is unregistered below); a table already in the database is
    # read through a view, which saves a full copy of a large file.
    kind = "TABLE" if isinstance(frame, pd.DataFrame) else "VIEW"
    con.execute("DROP VIEW IF EXISTS _incoming; DROP TABLE IF EXISTS _incoming")
    con.execute(f"""CREATE TEMP {kind} _incoming AS
        SELECT {key_fix}, {', '.join(f'"{v}"' for v in values)}
        FROM (SELECT {casts} FROM {source})""")
    if isinstance(frame, pd.DataFrame):
        con.unregister("_store_frame")
    on = " AND ".join(f't."{k}" = i."{k}"' for k in tbl.key)
    same = " AND ".join(f't."{v}" IS NOT DISTINCT FROM i."{v}"' for v in values) or "TRUE"
    rows, matched, unchanged = fetch_one(con, f"""
        SELECT (SELECT count(*) FROM _incoming),
               count(*), count(*) FILTER (WHERE {same})
        FROM "{tbl.name}" t JOIN _incoming i ON {on}""")
    changed = matched - unchanged
    if changed:
        con.execute(f"""DELETE FROM "{tbl.name}" t USING _incoming i
                        WHERE {on} AND NOT ({same})""")
    names = ", ".join(f'"{c}"' for c in tbl.names)
    con.execute(f"""INSERT INTO "{tbl.name}" ({names}, _ingest_id)
        SELECT {', '.join(f'i."{c}"' for c in tbl.names)}, ?
        FROM _incoming i ANTI JOIN "{tbl.name}" t ON {on}""", [ingest_id])
    con.execute(f"DROP {kind} _incoming")
    return StoreResult(tbl.name, int(rows), int(rows - matched), int(changed), int(unchanged))


def log_ingest(con: duckdb.DuckDBPyConnection, *, file_name: str, content_hash: str,
               result: StoreResult, raw_path: str | None, source: str = "export",
               ingest_id: int | None = None) -> int:
    """Record one loaded file in the ingest log and return its id."""
    if ingest_id is None:
        ingest_id = next_ingest_id(con)
    con.execute(
        """INSERT INTO ingest_log (id, file_name, content_hash, table_name, rows, rows_new,
                                   rows_replaced, rows_unchanged, raw_path, source)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [ingest_id, file_name, content_hash, result.table, result.rows, result.new,
         result.replaced, result.unchanged, raw_path, source])
    return ingest_id


def sql_literal(value: object) -> str:
    """``value`` as a SQL string literal, its quotes doubled — for the few places a value
    cannot be bound as a parameter (view definitions, generated expressions, ATTACH).

    Examples
    --------
    >>> sql_literal("O'Neil 保温杯")
    "'O''Neil 保温杯'"
    """
    return "'" + str(value).replace("'", "''") + "'"


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Whether a table (or temp table) called ``name`` exists on ``con``.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> has_table(con, "t"), has_table(con.execute("CREATE TEMP TABLE t (x INT)"), "t")
    (False, True)
    """
    return bool(fetch_one(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?",
                          [name])[0])


def fetch_one(con: duckdb.DuckDBPyConnection, sql: str,
              params: list[Any] | None = None) -> tuple[Any, ...]:
    """The one row of a query that always returns exactly one (an aggregate, no GROUP BY).

    DuckDB's ``fetchone`` is typed ``tuple | None``; this states the single row and fails
    loudly if there is none. The result is read whole (``fetchall``): a half-read result
    keeps the connection busy.

    Examples
    --------
    >>> import duckdb
    >>> fetch_one(duckdb.connect(), "SELECT count(*), max(x) FROM range(3) t(x)")
    (3, 2)
    """
    rows = con.execute(sql, params).fetchall()
    if not rows:
        raise RuntimeError(f"query returned no row: {sql.strip()[:120]}")
    return tuple(rows[0])


def next_ingest_id(con: duckdb.DuckDBPyConnection) -> int:
    """Reserve the id of the next ingest-log entry."""
    # fetchall: a half-read result would keep the connection busy (DuckDB 2.0 then refuses
    # to register a DataFrame on it)
    return int(con.execute("SELECT nextval('ingest_id_seq')").fetchall()[0][0])


def read(table_name: str, warehouse: str | os.PathLike[str] | None = None, *,
         where: str | None = None, params: list[Any] | None = None,
         columns: list[str] | None = None, **equals: Any) -> pd.DataFrame:
    """Read a canonical table into pandas.

    Parameters
    ----------
    table_name : str
        ``keywords``, ``items``, ``traffic``, ``sales``, ``market_daily``, ``audience``,
        ``events`` or ``ingest_log``.
    warehouse : path-like, optional
        The DuckDB file (read-only); defaults to the configured warehouse.
    where : str, optional
        An extra SQL condition, with ``?`` placeholders bound from ``params``.
    columns : list of str, optional
        Columns to read (default: all canonical columns).
    **equals
        Column = value filters, e.g. ``category="保温杯"``; a list or tuple means IN.

    Returns
    -------
    DataFrame
        Dates as ``datetime64``; an empty frame with the right columns when nothing matches.
    """
    if table_name != "ingest_log":
        tbl = TABLES[table_name]
        cols = columns or tbl.names
    else:
        cols = columns or ["*"]
    conds, args = [], []
    for name, value in equals.items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set):
            values = list(value)
            conds.append(f'"{name}" IN ({", ".join("?" for _ in values)})')
            args.extend(values)
        else:
            conds.append(f'"{name}" = ?')
            args.append(value)
    if where:
        conds.append(f"({where})")
        args.extend(params or [])
    with open_read(warehouse) as con:
        have = {r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
            [table_name]).fetchall()}
        # a warehouse made before a column joined the contract lacks it: read it as missing
        select = ", ".join(c if c == "*" else f'"{c}"' if c in have else f'NULL AS "{c}"'
                           for c in cols)
        sql = f'SELECT {select} FROM "{table_name}"'
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        frame = con.execute(sql, args).df()
    for col in frame.columns:
        if table_name in TABLES and col in TABLES[table_name].names \
                and TABLES[table_name].column(col).kind == "date":
            frame[col] = pd.to_datetime(frame[col])
    return frame


def ingest_log(warehouse: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Return the ingest log, oldest first (the provenance of every study)."""
    with open_read(warehouse) as con:
        return con.execute("SELECT * FROM ingest_log ORDER BY id").df()


def summary(warehouse: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Describe what the warehouse holds: per table rows, date range, categories, shops.

    Returns
    -------
    dict
        ``{"tables": {name: {...}}, "last_imports": DataFrame}``.
    """
    out: dict[str, Any] = {"tables": {}}
    with open_read(warehouse) as con:
        for tbl in TABLES.values():
            info: dict[str, Any] = {
                "rows": fetch_one(con, f'SELECT count(*) FROM "{tbl.name}"')[0]}
            date_col = next((c.name for c in tbl.columns if c.kind == "date"), None)
            if date_col and info["rows"]:
                lo, hi = fetch_one(
                    con, f'SELECT min("{date_col}"), max("{date_col}") FROM "{tbl.name}"')
                info["from"], info["to"] = str(lo), str(hi)
            for col in ("category", "shop"):
                if col in tbl.names and info["rows"]:
                    vals = [r[0] for r in con.execute(
                        f'SELECT DISTINCT "{col}" FROM "{tbl.name}" WHERE "{col}" IS NOT NULL '
                        f'ORDER BY 1 LIMIT 12').fetchall()]
                    n = fetch_one(
                        con, f'SELECT count(DISTINCT "{col}") FROM "{tbl.name}"')[0]
                    info[col + "_count"], info[col + "_examples"] = n, vals
            out["tables"][tbl.name] = info
        out["last_imports"] = con.execute(
            "SELECT id, file_name, table_name, rows, rows_new, rows_replaced, rows_unchanged, "
            "loaded_at FROM ingest_log ORDER BY id DESC LIMIT 10").df()
    return out
