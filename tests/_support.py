"""Helpers shared by the tests."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pandas as pd
import pytest


def unavailable(what: str, hint: str) -> NoReturn:
    """Something a test needs is missing: skip outside CI, fail under CI (``CI`` set), so CI
    always runs the real-data, browser and LibreOffice checks."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing: CI must run this test ({hint})")
    pytest.skip(f"{what} is missing; skipped outside CI ({hint})")


def warehouse_with(path: Path, **frames: pd.DataFrame) -> Path:
    """A warehouse at ``path`` holding each canonical table given (name=frame)."""
    from research.store.warehouse import connect, store

    with connect(path) as con:
        for name, frame in frames.items():
            store(con, name, frame)
    return path
