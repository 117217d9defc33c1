"""Helpers shared by the tests."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(what: str, hint: str) -> NoReturn:
    """Something a test needs is missing: skip outside CI, fail under CI (``CI`` set), so CI
    always runs the real-data, browser and LibreOffice checks."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing: CI must run this test ({hint})")
    pytest.skip(f"{what} is missing; skipped outside CI ({hint})")
