"""One place for paths and defaults.

Every other module takes these as arguments; only the command line and the notebooks'
parameter defaults read them from here. ``RESEARCH_WAREHOUSE`` overrides the warehouse file,
``RESEARCH_REPORTS`` the reports folder.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "PROJECT_ROOT",
    "DATA_DIR",
    "RAW_DIR",
    "SAMPLE_DIR",
    "NOTEBOOKS_DIR",
    "TEMPLATES_DIR",
    "default_warehouse",
    "default_reports",
    "raw_dir_for",
    "file_mode",
    "dir_mode",
    "private_umask",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
RAW_DIR = DATA_DIR / "raw"
SAMPLE_DIR = DATA_DIR / "sample"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
TEMPLATES_DIR = PROJECT_ROOT / "templates"


def default_warehouse() -> Path:
    """Return the warehouse file: ``$RESEARCH_WAREHOUSE`` or ``data/warehouse.duckdb``."""
    env = os.environ.get("RESEARCH_WAREHOUSE")
    return Path(env) if env else DATA_DIR / "warehouse.duckdb"


def default_reports() -> Path:
    """Return the reports folder: ``$RESEARCH_REPORTS`` or ``reports/``."""
    env = os.environ.get("RESEARCH_REPORTS")
    return Path(env) if env else PROJECT_ROOT / "reports"


def raw_dir_for(warehouse: str | os.PathLike[str]) -> Path:
    """Return where the original exports loaded into ``warehouse`` are kept.

    The default warehouse keeps them in ``data/raw/``; any other warehouse file keeps them in
    a ``raw/`` folder beside itself, so a temporary warehouse never writes into ``data/``.
    """
    path = Path(warehouse).resolve()
    if path == (DATA_DIR / "warehouse.duckdb").resolve():
        return RAW_DIR
    return path.parent / f"{path.stem}_raw"


def file_mode() -> int:
    """Return the permission bits for business data files (warehouse, raw copies, reports).

    ``$RESEARCH_FILE_MODE`` (octal, e.g. ``640`` to let the owner's group read) overrides the
    default ``600``: the files hold a shop's sales and costs, readable by their owner only.

    Raises
    ------
    ValueError
        When the variable is not an octal mode from 000 to 777.

    Examples
    --------
    >>> oct(file_mode()) if "RESEARCH_FILE_MODE" not in os.environ else '0o600'
    '0o600'
    """
    text = os.environ.get("RESEARCH_FILE_MODE", "").strip() or "600"
    try:
        mode = int(text, 8)
    except ValueError:
        mode = -1
    if not 0 <= mode <= 0o777:
        raise ValueError(f"RESEARCH_FILE_MODE={text!r} is not an octal file mode such as 600 "
                         f"or 640")
    return mode & 0o666


def dir_mode() -> int:
    """Return the permission bits for folders holding business data: :func:`file_mode` with
    the search bit wherever reading is allowed (``600`` → ``700``, ``640`` → ``750``).

    Examples
    --------
    >>> oct(dir_mode()) if "RESEARCH_FILE_MODE" not in os.environ else '0o700'
    '0o700'
    """
    mode = file_mode()
    return mode | ((mode & 0o444) >> 2)


def private_umask() -> int:
    """Return the umask under which new files get at most :func:`file_mode` and new folders
    at most :func:`dir_mode` (``077`` by default); the command line sets it at start.

    Examples
    --------
    >>> oct(private_umask()) if "RESEARCH_FILE_MODE" not in os.environ else '0o77'
    '0o77'
    """
    return 0o777 & ~dir_mode()
