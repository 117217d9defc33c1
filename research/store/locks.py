"""The warehouse lock protocol: writers one at a time, a study's readers never under a write.

Every process that changes the warehouse (``research ingest``, ``research import-public``,
approvals) takes the **exclusive** hold for as long as its connection is open; a study takes the
**shared** hold for its whole run, so no import commits between two of its pages. Several
shared holds coexist; an exclusive hold excludes every other hold.

The hold lives in a small SQLite file beside the warehouse, ``<warehouse>.lock``, through
:class:`filelock.ReadWriteLock`: SQLite's shared and exclusive transactions, which rest on the
kernel's POSIX record locks. The kernel drops a process's locks when it ends, however it ends
(``kill -9`` included), so a dead holder never leaves the warehouse locked. Who holds it is
written beside it, one small file per process in ``<warehouse>.holders/``, so that a refusal
can say "held by `research ingest` (pid 1234, exclusive) since 15:02:07"; entries of processes
that have ended are ignored and removed.

:class:`filelock.SoftReadWriteLock` was not taken: it is made for network file systems,
where a SIGKILLed holder's record stays until its heartbeat goes stale (90 s by default) and
a holder that pauses longer (a laptop asleep) can be evicted; the warehouse lives on a local
disk, where the kernel's locks are exact.

A writer that waits keeps new shared holds out (SQLite's pending lock), so a stream of studies
cannot starve an import; such a writer is listed as waiting in ``<warehouse>.holders/`` and
named to the studies it keeps waiting. ``wait`` is the longest a command waits for a
conflicting hold (``--wait SECONDS`` on the command line); 0 refuses at once, ``inf`` waits
for as long as it takes; a command that waits says so on stderr, once.

Holds nest within one process: a process holding the exclusive hold may take either hold
again (the outer one covers it); a process holding the shared hold may take it again. A
process holding only the shared hold cannot take the exclusive one (it would wait for itself):
that is refused at once with :class:`research.faults.Busy`.

Read-only connections (:func:`research.store.warehouse.open_read`) take no hold: the study's
notebooks run in kernels, child processes of the study, and read under the study's shared hold.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> w = Path(tempfile.mkdtemp()) / "w.duckdb"
>>> with hold(w, "shared", purpose="a study"), hold(w, "shared"):
...     [h["purpose"] for h in holders(w)]
['a study']
>>> holders(w)
[]
"""

from __future__ import annotations

import json
import math
import os
import re
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from filelock import ReadWriteLock, Timeout

from research.config import dir_mode, file_mode
from research.faults import Busy, EnvironmentFault, UsageFault, environment_fault

__all__ = ["Mode", "hold", "holders", "lock_path", "holders_dir", "busy_message",
           "holder_of_pid", "command_name", "make_private_dirs", "tell_waiting",
           "waiting_message"]

Mode = Literal["shared", "exclusive"]


def lock_path(warehouse: str | os.PathLike[str]) -> Path:
    """The lock file of ``warehouse``: ``<warehouse>.lock`` beside it (symlinks resolved, so
    every name of one warehouse shares one lock).

    Examples
    --------
    >>> lock_path("/data/w.duckdb").name
    'w.duckdb.lock'
    """
    real = Path(os.path.realpath(warehouse))
    return real.with_name(real.name + ".lock")


def holders_dir(warehouse: str | os.PathLike[str]) -> Path:
    """The folder where holders of ``warehouse`` say who they are: ``<warehouse>.holders/``."""
    real = Path(os.path.realpath(warehouse))
    return real.with_name(real.name + ".holders")


def command_name(argv: list[str] | None = None) -> str:
    """A short name for the running command, for "held by …": ``research ingest``.

    Examples
    --------
    >>> command_name(["/venv/bin/research", "ingest", "exports/", "--wait", "60"])
    'research ingest'
    >>> command_name(["/p/research/__main__.py", "run", "templates/weekly.yaml"])
    'research run'
    >>> command_name(["-c"])
    'python'
    """
    argv = list(sys.argv if argv is None else argv)
    if not argv or argv[0] in ("", "-c", "-m"):
        return "python"
    first = Path(argv[0])
    name = first.parent.name if first.name == "__main__.py" else first.name
    words = [name]
    if len(argv) > 1 and not argv[1].startswith("-") and re.fullmatch(r"[\w.-]+", argv[1]) \
            and "/" not in argv[1] and "." not in argv[1]:
        words.append(argv[1])
    return " ".join(words)


def make_private_dirs(folder: Path) -> None:
    """Create ``folder`` and its missing parents with :func:`research.config.dir_mode`
    (folders that already exist keep their mode)."""
    missing = []
    cur = folder
    while not cur.exists():
        missing.append(cur)
        if cur.parent == cur:
            break
        cur = cur.parent
    folder.mkdir(parents=True, exist_ok=True)
    for made in missing:
        try:
            os.chmod(made, dir_mode())
        except OSError:  # made by another process in between, under its own mode
            pass


# ---------------------------------------------------------------------------- who holds it

def _proc_stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (Linux), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()


def _process_start(pid: int) -> str | None:
    """The kernel's start tick of ``pid`` (Linux), telling a reused pid from the holder."""
    fields = _proc_stat(pid)
    return fields[19] if fields and len(fields) > 19 else None


def _alive(pid: int, start: str | None) -> bool:
    """Whether ``pid`` still runs and is the process that wrote the entry (a killed process
    not yet reaped by its parent, a zombie, holds nothing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    fields = _proc_stat(pid)
    if fields is None:
        return True
    if fields[0] in ("Z", "X"):
        return False
    return start is None or len(fields) <= 19 or fields[19] == start


def _process_command(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    argv = [a.decode(errors="replace") for a in raw.split(b"\0") if a]
    return " ".join(argv)[:200] or None


def holders(warehouse: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Who holds ``warehouse`` now, as they wrote it: ``pid``, ``mode``, ``purpose``,
    ``command``, ``since``, and ``waiting`` (true for a process waiting for the hold, which
    keeps new readers out while a writer waits); oldest first. Entries of ended processes are
    removed.

    Returns
    -------
    list of dict
    """
    folder = holders_dir(warehouse)
    out = []
    try:
        entries = list(folder.glob("*.json"))
    except OSError:
        return []
    for entry in entries:
        try:
            info = json.loads(entry.read_text(encoding="utf-8"))
            pid = int(info["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not _alive(pid, info.get("start")):
            try:
                entry.unlink()
            except OSError:
                pass
            continue
        out.append(info)
    for tmp in folder.glob(".*.tmp"):  # an entry half-written by a process killed meanwhile
        pid_text = tmp.name.split(".")[1]
        if pid_text.isdigit() and not _alive(int(pid_text), None):
            try:
                tmp.unlink()
            except OSError:
                pass
    return sorted(out, key=lambda h: str(h.get("since", "")))


def holder_of_pid(warehouse: str | os.PathLike[str], pid: int) -> dict[str, Any]:
    """What is known of process ``pid`` holding ``warehouse``: its holder entry, else its
    command line from ``/proc``."""
    for info in holders(warehouse):
        if int(info["pid"]) == pid:
            return info
    return {"pid": pid, "mode": None, "purpose": "", "command": _process_command(pid) or "",
            "since": None}


def _since(info: dict[str, Any]) -> str:
    try:
        since = datetime.fromisoformat(str(info.get("since")))
    except ValueError:
        return ""
    return f" since {since:%H:%M:%S}" if since.date() == datetime.now().date() \
        else f" since {since:%Y-%m-%d %H:%M}"


def _describe(info: dict[str, Any]) -> str:
    name = info.get("purpose") or info.get("command") or "another process"
    if info.get("waiting"):
        wants = "write to" if info.get("mode") == "exclusive" else "read"
        return f"`{name}` (pid {info['pid']}) waiting to {wants} it{_since(info)}"
    details = [f"pid {info['pid']}"]
    if info.get("mode"):
        details.append(str(info["mode"]))
    return f"`{name}` ({', '.join(details)}){_since(info)}"


def _who(warehouse: str | os.PathLike[str],
         held_by: list[dict[str, Any]] | None) -> str:
    """The holders (and the writers waiting before us) of ``warehouse`` in words."""
    found = held_by if held_by is not None else [
        h for h in holders(warehouse) if int(h["pid"]) != os.getpid()]
    holding = [h for h in found if not h.get("waiting")]
    waiting = [h for h in found if h.get("waiting")]
    text = "; ".join(_describe(h) for h in holding) if holding else "another process"
    if waiting:
        text += (", and " + "; ".join(_describe(h) for h in waiting)
                 + " (a waiting writer goes first)")
    return text


def busy_message(warehouse: str | os.PathLike[str], wanted: str, wait: float,
                 held_by: list[dict[str, Any]] | None = None) -> str:
    """The one message of a refused hold: the warehouse, who holds it, what to do.

    Examples
    --------
    >>> print(busy_message("/d/w.duckdb", "write to", 0, [{"pid": 42, "mode": "shared",
    ...       "purpose": "research run", "since": None}]))  # doctest: +NORMALIZE_WHITESPACE
    warehouse /d/w.duckdb is busy: cannot write to it while it is held by `research run`
    (pid 42, shared). Wait for that to finish and run the command again, or give --wait
    SECONDS to wait for it.
    """
    waited = f" (waited {wait:g} s)" if wait > 0 else ""
    more = "give a longer --wait SECONDS" if wait > 0 else "give --wait SECONDS to wait for it"
    return (f"warehouse {warehouse} is busy: cannot {wanted} it while it is held by "
            f"{_who(warehouse, held_by)}{waited}. Wait for that to finish and run the command "
            f"again, or {more}.")


def tell_waiting(message: str) -> None:
    """Say on stderr that a command is waiting for the warehouse (once per wait)."""
    print(message, file=sys.stderr, flush=True)


def waiting_message(warehouse: str | os.PathLike[str], wanted: str, wait: float,
                    held_by: list[dict[str, Any]] | None = None) -> str:
    """What a command prints when it starts waiting: the holder and how long it will wait."""
    how_long = f"up to {wait:g} s" if math.isfinite(wait) else "for as long as it takes"
    return (f"warehouse {warehouse} is held by {_who(warehouse, held_by)}; waiting {how_long} "
            f"to {wanted} it …")


# ---------------------------------------------------------------------------- holding

@dataclass
class _Held:
    mode: Mode
    depth: int
    lock: ReadWriteLock
    entry: Path | None


_REGISTRY: dict[Path, _Held] = {}
_REGISTRY_LOCK = threading.RLock()


def _write_entry(warehouse: Path, mode: Mode, purpose: str,
                 waiting: bool = False) -> Path | None:
    """Say who holds (or waits for) the warehouse; a failure to say it never fails the hold."""
    folder = holders_dir(warehouse)
    pid = os.getpid()
    info = {"pid": pid, "start": _process_start(pid), "mode": mode, "waiting": waiting,
            "purpose": purpose or command_name(),
            "command": " ".join(sys.argv)[:200],
            "since": datetime.now().astimezone().isoformat(timespec="seconds")}
    entry = folder / f"{pid}.json"
    tmp = folder / f".{pid}.{threading.get_ident()}.tmp"
    try:
        make_private_dirs(folder)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, file_mode())
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(info, out, ensure_ascii=False)
        os.replace(tmp, entry)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass
        return None
    return entry


def _new_lock(path: Path) -> ReadWriteLock:
    existed = path.exists()
    make_private_dirs(path.parent)
    lock = ReadWriteLock(path, is_singleton=False)
    if not existed:
        try:
            os.chmod(path, file_mode())
        except OSError:
            pass
    return lock


def _acquire(lock: ReadWriteLock, mode: Mode, warehouse: str | os.PathLike[str],
             wait: float, purpose: str) -> None:
    take = lock.acquire_write if mode == "exclusive" else lock.acquire_read
    wanted = "write to" if mode == "exclusive" else "read"
    started = time.monotonic()
    try:
        take(timeout=0, blocking=False)
        return
    except Timeout:
        if wait <= 0:
            raise Busy(busy_message(warehouse, wanted, wait)) from None
    tell_waiting(waiting_message(warehouse, wanted, wait))
    # a waiting writer keeps new readers out (SQLite's pending lock): say so to them
    entry = _write_entry(Path(warehouse), mode, purpose, waiting=True)
    try:
        take(timeout=-1 if math.isinf(wait) else max(wait - (time.monotonic() - started), 0.0),
             blocking=True)
    except BaseException as exc:
        if entry is not None:
            try:
                entry.unlink()
            except OSError:
                pass
        if isinstance(exc, Timeout):
            raise Busy(busy_message(warehouse, wanted, wait)) from None
        raise


def _cannot_lock(warehouse: str | os.PathLike[str], path: Path,
                 exc: BaseException) -> EnvironmentFault:
    if isinstance(exc, OSError):
        return environment_fault(exc, f"making the lock file {path} of warehouse {warehouse}")
    if "not a database" in str(exc):
        return EnvironmentFault(
            f"lock file {path} of warehouse {warehouse}: expected the warehouse's lock (a small "
            f"SQLite file), found a file of another kind; delete it (nothing holds a lock in "
            f"it) and run the command again")
    return EnvironmentFault(
        f"making the lock file {path} of warehouse {warehouse}: {exc}; the folder must be "
        f"writable by this user and on a local disk (SQLite locks do not work on every "
        f"network share)")


@contextmanager
def hold(warehouse: str | os.PathLike[str], mode: Mode, *, wait: float = 0.0,
         purpose: str = "") -> Iterator[None]:
    """Hold ``warehouse`` shared (a study) or exclusive (a writer) for the ``with`` block.

    Parameters
    ----------
    warehouse : path-like
        The DuckDB file (it need not exist yet).
    mode : {"shared", "exclusive"}
    wait : float
        Seconds to wait for a conflicting holder to finish (saying so on stderr once); 0
        refuses at once.
    purpose : str
        Who is holding, for other processes' messages (default: the command's name, e.g.
        ``research ingest``).

    Raises
    ------
    Busy
        When another process holds the warehouse in a conflicting mode past ``wait`` seconds
        (or when this process holds it shared and asks for exclusive), naming the holder and
        the fix.
    """
    if mode not in ("shared", "exclusive"):
        raise ValueError(f"mode must be 'shared' or 'exclusive', not {mode!r}")
    if not wait >= 0:  # NaN too
        raise UsageFault(f"--wait {wait}: expected a number of seconds, 0 or more")
    path = lock_path(warehouse)
    with _REGISTRY_LOCK:
        held = _enter(path, warehouse, mode, wait, purpose)
    if held is None:
        yield
        return
    try:
        yield
    finally:
        with _REGISTRY_LOCK:
            held.depth -= 1
            if held.depth == 0:
                _REGISTRY.pop(path, None)
                if held.entry is not None:
                    try:
                        held.entry.unlink()
                    except OSError:
                        pass
                held.lock.close()


def _enter(path: Path, warehouse: str | os.PathLike[str], mode: Mode, wait: float,
           purpose: str) -> _Held | None:
    """Take or nest the hold (under ``_REGISTRY_LOCK``); None when reading goes unheld."""
    held = _REGISTRY.get(path)
    if held is not None:
        if mode == "exclusive" and held.mode == "shared":
            raise Busy(
                f"warehouse {warehouse} is busy: this process reads it under a shared hold "
                f"and cannot write to it at the same time; finish the reading first")
        held.depth += 1
        return held
    try:
        lock = _new_lock(path)
    except (OSError, sqlite3.Error) as exc:
        if not (mode == "shared" and Path(warehouse).is_file()):
            raise _cannot_lock(warehouse, path, exc) from None
        # a warehouse in a folder this user cannot write to: no writer of this user can
        # change it either, and DuckDB's own lock still keeps readers from writers
        tell_waiting(f"note: reading warehouse {warehouse} without a hold: cannot make its "
                     f"lock file {path} ({exc})")
        return None
    try:
        _acquire(lock, mode, warehouse, wait, purpose)
    except sqlite3.Error as exc:
        lock.close()
        raise _cannot_lock(warehouse, path, exc) from None
    except BaseException:
        lock.close()
        raise
    held = _Held(mode, 1, lock, _write_entry(Path(warehouse), mode, purpose))
    _REGISTRY[path] = held
    return held
