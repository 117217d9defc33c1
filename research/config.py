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
