"""What the ingest fuzzer and the kill test both need: a warehouse's fingerprint and the
agreement of its ingest log with the raw copies kept beside it.

A fingerprint is, for every table of the warehouse (the canonical tables and the ingest log),
its row count and an order-independent hash of all its rows (``bit_xor`` of each row's
``hash``), plus every file under the raw folder with its SHA-256. Two warehouses with the same
fingerprint hold the same rows and the same raw copies.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from research.config import raw_dir_for

__all__ = ["Fingerprint", "fingerprint", "sha256", "raw_files", "log_entries", "resolve_raw",
           "LogEntry"]


def sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes, as the ingest log records it."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def raw_files(warehouse: Path) -> dict[str, str]:
    """Every file under the warehouse's raw folder (relative path → SHA-256)."""
    root = raw_dir_for(warehouse)
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}


@dataclass(frozen=True)
class Fingerprint:
    """Row count and order-independent row hash per table, and the raw folder's files."""

    tables: dict[str, tuple[int, int | None]]
    raw: dict[str, str]

    def differences(self, other: Fingerprint) -> list[str]:
        """Name what differs between two fingerprints (empty when equal)."""
        out = []
        for name in sorted(set(self.tables) | set(other.tables)):
            if self.tables.get(name) != other.tables.get(name):
                out.append(f"table {name}: {self.tables.get(name)} → {other.tables.get(name)}")
        for name in sorted(set(self.raw) | set(other.raw)):
            if self.raw.get(name) != other.raw.get(name):
                out.append(f"raw {name}: {self.raw.get(name)} → {other.raw.get(name)}")
        return out


def table_hashes(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int | None]]:
    """Row count and ``bit_xor(hash(row))`` of every permanent table on ``con``."""
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary ORDER BY 1").fetchall()]
    out: dict[str, tuple[int, int | None]] = {}
    for name in names:
        n, h = con.execute(f'SELECT count(*), bit_xor(hash(t)) FROM "{name}" t').fetchall()[0]
        out[name] = (int(n), None if h is None else int(h))
    return out


def fingerprint(warehouse: Path) -> Fingerprint:
    """The fingerprint of a warehouse file and its raw folder (opened read-only)."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = table_hashes(con)
    finally:
        con.close()
    return Fingerprint(tables, raw_files(warehouse))


@dataclass(frozen=True)
class LogEntry:
    """One row of the ingest log, the fields the tests compare."""

    id: int
    file_name: str
    content_hash: str
    table_name: str
    rows: int
    rows_new: int
    rows_replaced: int
    rows_unchanged: int
    raw_path: str | None


def log_entries(con: duckdb.DuckDBPyConnection) -> list[LogEntry]:
    """The ingest log, oldest first."""
    rows = con.execute(
        "SELECT id, file_name, content_hash, table_name, rows, rows_new, rows_replaced, "
        "rows_unchanged, raw_path FROM ingest_log ORDER BY id").fetchall()
    return [LogEntry(*r) for r in rows]


def resolve_raw(warehouse: Path, raw_path: str | None,
                moved_from: Path | None = None) -> Path | None:
    """Where a log entry's raw copy lies: absolute as written, else relative to the raw
    folder or to the warehouse's folder (whichever exists; the raw folder when neither).

    ``moved_from``: the warehouse this one was copied from; an absolute path under its raw
    folder is read under this warehouse's raw folder instead."""
    if raw_path is None:
        return None
    path = Path(raw_path)
    if path.is_absolute():
        if moved_from is not None and path.is_relative_to(raw_dir_for(moved_from)):
            return raw_dir_for(warehouse) / path.relative_to(raw_dir_for(moved_from))
        return path
    for base in (raw_dir_for(warehouse), warehouse.parent):
        if (base / path).exists():
            return base / path
    return raw_dir_for(warehouse) / path
