"""The raw copies: every loaded export kept byte for byte beside the warehouse.

A copy is written under a temporary name in ``<raw>/.incoming/<pid>-…/`` (the same file
system), flushed and synced, checked against the export's SHA-256 and only then renamed into
``<raw>/<table>/``, with :func:`research.config.file_mode` permissions — never the source's.
A kept copy found missing or damaged when its export comes again is restored from it and the
repair recorded in the ``raw_repairs`` table; :func:`verify_raw_copies` checks every kept copy
against the ingest log (``research status --verify``). Leftover working folders of killed
ingests are swept by the next one (:func:`incoming_folder`).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from research.config import default_warehouse, file_mode, raw_dir_for
from research.faults import environment_fault
from research.sources.readers import ExportError, file_hash
from research.store.locks import make_private_dirs
from research.store.warehouse import open_read

__all__ = ["INCOMING", "copy_state", "write_copy", "place_copy", "logged_copy",
           "record_repair", "mend_copies", "verify_raw_copies", "pid_alive",
           "incoming_folder"]

#: the working folder under the raw folder
INCOMING = ".incoming"
REPAIRS_DDL = """CREATE TABLE IF NOT EXISTS raw_repairs (
    repaired_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
    raw_path     VARCHAR NOT NULL,
    content_hash VARCHAR NOT NULL,
    found        VARCHAR NOT NULL,
    restored_from VARCHAR NOT NULL
)"""



def copy_state(kept: Path, digest: str) -> str:
    """``ok``, ``missing`` or what is wrong with a kept copy (its size and hash)."""
    if not kept.is_file():
        return "missing"
    found = file_hash(kept)
    if found == digest:
        return "ok"
    return f"damaged ({kept.stat().st_size:,} bytes, SHA-256 {found[:16]}…)"


def write_copy(source: Path, handle: object) -> str:
    """Copy ``source``'s bytes into the open binary ``handle``; return their SHA-256."""
    digest = hashlib.sha256()
    with open(source, "rb") as src:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            digest.update(chunk)
            handle.write(chunk)  # type: ignore[attr-defined]
    return digest.hexdigest()


def place_copy(source: Path, kept: Path, digest: str, incoming: Path) -> None:
    """Copy ``source`` to ``kept`` all or nothing: into a temporary file in ``incoming``
    (the same file system), flushed and synced, its SHA-256 checked against ``digest``,
    then renamed over ``kept``. The copy gets :func:`research.config.file_mode`, never the
    source's mode."""
    make_private_dirs(kept.parent)
    temporary = incoming / f"{secrets.token_hex(4)}_{kept.name}"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, file_mode())
        with os.fdopen(fd, "wb") as handle:
            written = write_copy(source, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, file_mode())  # exactly the mode, whatever the umask
        if written != digest:
            raise ExportError(f"{source.name}: the file changed while it was being loaded "
                              f"(its SHA-256 is no longer the one read first); nothing was "
                              f"loaded — load it again once it is complete")
        os.replace(temporary, kept)
    finally:
        temporary.unlink(missing_ok=True)
    try:
        folder = os.open(kept.parent, os.O_RDONLY)
    except OSError:  # pragma: no cover - a folder that cannot be opened: the rename stands
        return
    try:
        os.fsync(folder)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass
    finally:
        os.close(folder)


def logged_copy(text: str, raw_dir: Path) -> Path:
    """Where the copy the log names as ``text`` lies: there, or — when the warehouse and its
    raw folder were moved together — at the same ``<table>/<name>`` in the raw folder."""
    logged = Path(text)
    if logged.exists():
        return logged
    moved = raw_dir / logged.parent.name / logged.name
    return moved if moved.exists() else logged


def record_repair(con: duckdb.DuckDBPyConnection, kept: Path, digest: str, found: str,
                  source: Path) -> None:
    """Record in ``raw_repairs`` (made on first use) that ``kept`` was ``found`` missing or
    damaged and restored from ``source``; inside the caller's transaction."""
    con.execute(REPAIRS_DDL)
    con.execute("INSERT INTO raw_repairs (raw_path, content_hash, found, restored_from) "
                "VALUES (?, ?, ?, ?)", [str(kept), digest, found, str(source)])


def mend_copies(con: duckdb.DuckDBPyConnection, path: Path, digest: str, raw_dir: Path,
                 incoming: Path) -> list[str]:
    """Restore from ``path`` every kept copy of the same content that is missing or damaged,
    recording each repair in ``raw_repairs``; return one note per repair."""
    notes = []
    kept_paths = [r[0] for r in con.execute(
        "SELECT DISTINCT raw_path FROM ingest_log WHERE content_hash = ? AND raw_path IS NOT "
        "NULL ORDER BY 1", [digest]).fetchall()]
    for text in kept_paths:
        kept = logged_copy(text, raw_dir)
        state = copy_state(kept, digest)
        if state == "ok":
            continue
        place_copy(path, kept, digest, incoming)
        record_repair(con, kept, digest, state, path)
        notes.append(f"raw copy {kept.name} was {state.split(' (')[0]} ({state}); restored "
                     f"from this file")
    return notes


def verify_raw_copies(warehouse: str | os.PathLike[str] | None = None,
                      ) -> tuple[int, list[str]]:
    """Check every raw copy the ingest log names against the SHA-256 it records.

    Returns
    -------
    (int, list of str)
        How many copies were checked, and one line per copy that is missing or whose bytes
        differ (its size and hash found), naming the export it keeps and the fix.
    """
    target = Path(warehouse) if warehouse is not None else default_warehouse()
    with open_read(target) as con:
        kept = con.execute("""SELECT raw_path, content_hash, string_agg(DISTINCT file_name, ', ')
            FROM ingest_log WHERE raw_path IS NOT NULL GROUP BY ALL ORDER BY 1""").fetchall()
    problems = []
    for text, digest, names in kept:
        copy = logged_copy(text, raw_dir_for(target))
        state = copy_state(copy, digest)
        if state != "ok":
            problems.append(
                f"{copy}: {state}, expected the bytes of {names} (SHA-256 {digest[:16]}…); "
                f"run `research ingest` on that export again (add --force to reload it), "
                f"or restore the copy from a backup")
    return len(kept), problems


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` is alive (one of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def incoming_folder(raw_dir: Path) -> Iterator[Path]:
    """A private working folder ``<raw>/.incoming/<pid>-<token>`` for transcoded copies and
    raw-copy temporaries, removed at the end; leftovers of killed ingests (their pid no
    longer alive) are swept first. Folders made here and left empty are removed too."""
    made = [d for d in (raw_dir, raw_dir / INCOMING) if not d.exists()]
    folder = raw_dir / INCOMING / f"{os.getpid()}-{secrets.token_hex(4)}"
    try:
        make_private_dirs(folder)
    except OSError as exc:
        raise environment_fault(exc, f"preparing {raw_dir}") from None
    for old in (raw_dir / INCOMING).iterdir():
        match = re.match(r"(\d+)-", old.name)
        if match and int(match.group(1)) != os.getpid() and not pid_alive(int(match.group(1))):
            shutil.rmtree(old, ignore_errors=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        for d in (raw_dir / INCOMING, *reversed(made)):
            try:
                d.rmdir()  # only when empty
            except OSError:
                pass
