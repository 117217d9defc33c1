"""Shared fixtures: the sample market (generated once per test run), its warehouse, and the
real public datasets beside the project.

The sample is generated and ingested once per run even under pytest-xdist: the first worker
builds it under a file lock in the run's shared temporary folder, the others reuse it.
Tests must treat ``sample_dir`` and ``sample_warehouse`` as read-only; a test that writes
copies the warehouse first (``warehouse_copy``).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests._support import unavailable

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REAL_DATA = PROJECT_ROOT.parent / "shared" / "data" / "real"
SAMPLE_SEED = 7


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.getbasetemp()
    # under xdist each worker has basetemp/<worker>; share the parent between workers
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample market's exports (seed 7), with ``truth.json`` beside them."""
    from research.sample.market import generate_sample

    root = _shared_root(tmp_path_factory)
    out = root / "sample_market"
    with _locked(root / "sample_market.lock"):
        if not (out / "truth.json").exists():
            shutil.rmtree(out, ignore_errors=True)
            generate_sample(out, seed=SAMPLE_SEED)
    return out


@pytest.fixture(scope="session")
def truth(sample_dir: Path) -> dict:
    """The planted signals of the sample market."""
    return json.loads((sample_dir / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def sample_warehouse(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding the whole sample market. Read-only: copy it to write."""
    from research.sources.exports import ingest_paths

    root = _shared_root(tmp_path_factory)
    path = root / "sample_warehouse" / "warehouse.duckdb"
    with _locked(root / "sample_warehouse.lock"):
        if not (root / "sample_warehouse" / "done").exists():
            shutil.rmtree(path.parent, ignore_errors=True)
            path.parent.mkdir(parents=True)
            results = ingest_paths([sample_dir], warehouse=path)
            refused = [r.message for r in results if r.outcome != "loaded"]
            assert not refused, "sample files not loaded:\n" + "\n".join(refused)
            (root / "sample_warehouse" / "done").write_text("ok")
    return path


@pytest.fixture
def warehouse_copy(sample_warehouse: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the sample warehouse."""
    target = tmp_path / "warehouse.duckdb"
    shutil.copy(sample_warehouse, target)
    return target


@pytest.fixture(scope="session")
def real_data() -> Path:
    """``../shared/data/real``: skipped outside CI when absent, a failure in CI."""
    if not REAL_DATA.exists():
        unavailable(str(REAL_DATA), "the shared folder beside the project")
    return REAL_DATA
