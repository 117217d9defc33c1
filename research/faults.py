"""The faults a user can foresee, each with its exit code.

Every command ends a foreseeable fault with one message naming the thing (file, row, column,
path), what was expected and the fix, and exits with the code of the fault's kind; only a
bug shows a traceback. Modules raise subclasses of these; the command line maps them to exit
codes in one place.

======  =====================================================================
code    meaning
======  =====================================================================
0       ok
1       data refused: a file was refused, or a check found damage
2       usage: a bad argument, an unknown name, a path that is not what it should be
3       busy: another process holds the warehouse and ``--wait`` ran out
4       environment: the disk is full, a permission is missing
======  =====================================================================

Examples
--------
>>> exit_code(Busy("warehouse held by research ingest (pid 42)"))
3
>>> exit_code(ValueError("anything else"))
1
"""

from __future__ import annotations

import errno

__all__ = ["Fault", "Refused", "UsageFault", "Busy", "EnvironmentFault", "exit_code",
           "environment_fault"]


class Fault(Exception):
    """A foreseeable fault; its message is shown to the user as it is."""

    code = 1


class Refused(Fault, ValueError):
    """Data that cannot be accepted (a bad export), or damage a check found."""

    code = 1


class UsageFault(Fault, ValueError):
    """A bad argument, an unknown name or a path that is not what it should be."""

    code = 2


class Busy(Fault, RuntimeError):
    """Another process holds the warehouse, and waiting ran out (or was not asked for)."""

    code = 3


class EnvironmentFault(Fault, OSError):
    """The machine refuses: the disk is full, a permission is missing."""

    code = 4


def exit_code(exc: BaseException) -> int:
    """Return the exit code for ``exc``: its kind's code, 4 for a full disk or a missing
    permission, 1 otherwise."""
    if isinstance(exc, Fault):
        return exc.code
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EACCES,
                                                  errno.EPERM, errno.EROFS):
        return 4
    return 1


def environment_fault(exc: OSError, doing: str) -> EnvironmentFault:
    """Turn an ``OSError`` met while ``doing`` something into one message with its fix.

    The caller adds what the fault left behind (for an ingest: nothing was changed).

    Examples
    --------
    >>> import errno
    >>> str(environment_fault(OSError(errno.ENOSPC, "No space left on device", "/d/x"),
    ...                       "copying the export into /d"))
    'copying the export into /d: the disk is full (/d/x); free some space and run the same command again'
    """
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        text = f"the disk is full{where}; free some space and run the same command again"
    elif exc.errno in (errno.EACCES, errno.EPERM):
        text = (f"permission denied{where}; run as the user who owns the data, or fix the "
                f"folder's permissions")
    elif exc.errno == errno.EROFS:
        text = f"the file system is read-only{where}; use a writable folder"
    else:
        text = f"{exc.strerror or exc}{where}"
    fault = EnvironmentFault(f"{doing}: {text}")
    fault.errno = exc.errno
    return fault
