"""Helpers shared by the public-data adapters: refusing the wrong folder with one clear
message, reading CSVs with the file named in any error, and hashing a dataset's files."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["require_folder", "require_files", "require_columns", "read_csv", "dataset_hash",
           "snapshot", "month_ends"]


def require_folder(path: str | Path, dataset: str) -> Path:
    """Return ``path`` as a Path, refusing anything that is not an existing folder."""
    folder = Path(path)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder: expected the {dataset} dataset folder")
    return folder


def require_files(folder: Path, names: Sequence[str], dataset: str) -> dict[str, Path]:
    """Return ``{name: path}`` for the files a dataset needs, or refuse with the first missing.

    Raises
    ------
    ValueError
        Naming the missing file and everything the folder should hold.
    """
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise ValueError(
            f"{folder} is not the {dataset} dataset: file {missing[0]} is missing "
            f"(expected {', '.join(names)})")
    return {n: folder / n for n in names}


def require_columns(frame: pd.DataFrame, columns: Iterable[str], file: Path,
                    dataset: str) -> None:
    """Refuse a file that lacks any of ``columns``, naming the first one missing."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        found = ", ".join(map(str, list(frame.columns)[:12]))
        raise ValueError(
            f"{file} is not the {dataset} file expected: column {missing[0]} is missing "
            f"(needs {', '.join(columns)}; found {found})")


def read_csv(file: Path, dataset: str, columns: Sequence[str] = (), **kwargs: Any
             ) -> pd.DataFrame:
    """Read a CSV, turning parser errors into a ValueError naming the file, then check columns."""
    try:
        frame = pd.read_csv(file, **kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{file} could not be read as the {dataset} file expected: {exc}") \
            from None
    if columns:
        require_columns(frame, columns, file, dataset)
    return frame


def dataset_hash(folder: str | Path) -> str:
    """SHA-256 over every file below ``folder`` (relative name and bytes, in sorted order).

    The identity of a public dataset in the ingest log: the same files give the same hash
    wherever the folder sits.
    """
    root = Path(folder)
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    digest = hashlib.sha256()
    for file in files:
        digest.update(str(file.relative_to(root) if file != root else file.name).encode())
        digest.update(b"\0")
        with open(file, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def snapshot(value: object, default: str) -> pd.Timestamp:
    """Parse a snapshot date option (``None`` = the adapter's documented default)."""
    try:
        return pd.Timestamp(default if value in (None, "") else str(value)).normalize()
    except ValueError:
        raise ValueError(f"snapshot_date {value!r} is not a date such as 2023-12-12") from None


def month_ends(dates: pd.Series) -> pd.DatetimeIndex:
    """Every month-end from the month of the first date to the month of the last."""
    first, last = dates.min(), dates.max()
    return pd.date_range(first.to_period("M").to_timestamp(how="end").normalize(),
                         last.to_period("M").to_timestamp(how="end").normalize(), freq="ME")
