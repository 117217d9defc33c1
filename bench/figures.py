"""Where benchmarks put their figures: ``bench/results/<name>.json`` (UTF-8, readable)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def write_figures(name: str, figures: dict[str, Any]) -> Path:
    """Write one benchmark's figures; ``python -m bench`` prints and collects them.

    A quick (smoke) run goes to ``<name>_quick.json``, never over the full figures.
    """
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}{'_quick' if figures.get('quick') else ''}.json"
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str) + "\n",
                    encoding="utf-8")
    return path
