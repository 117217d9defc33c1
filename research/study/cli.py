"""``research run``: check a study, resolve its scope, run its notebooks, render the report.

Everything is checked before anything runs (:func:`research.study.definition.validate`); a
refused study prints every problem — with the nearest valid names for an unknown category,
shop or competitor — exits 2 and writes nothing under the reports root.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import click

from research.config import default_reports
from research.faults import Fault, environment_fault, exit_code
from research.store.locks import hold
from research.store.warehouse import check_warehouse
from research.study.definition import (
    StudyError,
    apply_overrides,
    load_study,
    study_warehouse,
    validate,
)
from research.study.runner import run_study

__all__ = ["run_command"]


@click.command("run", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("definition", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--category", help="Category to study (overrides the definition).")
@click.option("--week", help="ISO week, e.g. 2026-W47 (default: last complete week in the data).")
@click.option("--shop", help="Our shop's name (default: the shop of our sales data).")
@click.option("--competitors", help="Competitor shops, comma-separated (empty = the study's "
                                     "rule: top-N by 30-day revenue on the latest items snapshot).")
@click.option("--top-n", type=int, help="How many competitors when none are named.")
@click.option("--currency", help="Currency of prices and money (default: the data's, else CNY).")
@click.option("--warehouse", "-w", type=click.Path(dir_okay=False, path_type=Path),
              help="DuckDB warehouse file (default: $RESEARCH_WAREHOUSE or data/warehouse.duckdb).")
@click.option("-p", "--param", "params", multiple=True, metavar="[NOTEBOOK.]NAME=VALUE",
              help="Any parameter: shared, or one notebook's with NOTEBOOK.NAME=VALUE.")
@click.option("--sequential", is_flag=True, help="Run the notebooks one after the other.")
@click.option("--jobs", "-j", type=click.IntRange(1, 32), default=2, show_default=True,
              help="Notebooks run at once.")
@click.option("--reports", type=click.Path(file_okay=False, path_type=Path),
              help="Reports root (default: $RESEARCH_REPORTS or reports/).")
@click.option("--no-progress", is_flag=True, help="No progress bars.")
@click.option("--wait", type=click.FloatRange(min=0), default=0, show_default=True,
              metavar="SECONDS",
              help="Wait this long for an import or approval holding the warehouse to finish "
                   "(0: refuse at once).")
def run_command(definition: Path, category: str | None, week: str | None, shop: str | None,
                competitors: str | None, top_n: int | None, currency: str | None,
                warehouse: Path | None, params: tuple[str, ...], sequential: bool, jobs: int,
                reports: Path | None, no_progress: bool, wait: float) -> None:
    """Run a study (e.g. templates/weekly.yaml) and render its HTML report.

    The study's scope (category, week, our shop, competitors, currency) is resolved once and
    checked against the warehouse; every notebook gets it and the shared values it declares
    plus its own parameters, all checked before anything runs. From the check to the last
    page the study holds the warehouse shared: imports and approvals wait for it (or are
    refused), so every page and the manifest's provenance see the same data. Prints the scope,
    the report's index and each page's status; exits 1 when a page failed, 2 when the study
    was refused, 3 when the warehouse stayed busy past --wait.
    """
    with ExitStack() as held:
        try:
            study = load_study(definition)
            study = apply_overrides(study, {
                "category": category, "week": week, "shop": shop, "competitors": competitors,
                "top_n": top_n, "currency": currency,
                "warehouse": str(warehouse) if warehouse else None}, params)
            target = check_warehouse(study_warehouse(study))
            if target.is_file():  # a missing warehouse is refused by validate, not created
                held.enter_context(hold(target, "shared", wait=wait,
                                        purpose=f"research run {study.name}"))
            run = validate(study)
        except StudyError as exc:
            click.echo(str(exc), err=True)
            sys.exit(2)
        except Fault as exc:
            click.echo(str(exc), err=True)
            sys.exit(exc.code)
        scope = run.scope
        click.echo(f"Study {run.study.name}: {scope.category} {scope.week} ({scope.week_rule}), "
                   f"{len(run.parameters)} notebook(s), warehouse {run.warehouse}", err=True)
        click.echo(f"  我店 · our shop: {scope.shop or '—'} ({scope.shop_rule})", err=True)
        click.echo(f"  竞品 · competitors: {'、'.join(scope.competitors) or '—'} "
                   f"({scope.competitor_rule})", err=True)
        for warning in scope.warnings:
            click.echo(f"  注意 · note: {warning}", err=True)
        try:
            manifest = run_study(run, reports, jobs=1 if sequential else jobs,
                                 progress=False if no_progress else None, wait=wait)
        except Fault as exc:
            click.echo(str(exc), err=True)
            sys.exit(exc.code)
        except OSError as exc:
            if exit_code(exc) != 4:  # not the disk or a permission: a bug, shown as one
                raise
            root = reports or default_reports()
            click.echo(str(environment_fault(exc, f"writing the report under {root}")),
                       err=True)
            sys.exit(4)
    for page in manifest["pages"]:
        mark = "ok    " if page["status"] == "ok" else "FAILED"
        line = f"  {mark} {page['name']}"
        if page.get("error"):
            line += f" — {page['error']['summary']}"
        click.echo(line)
    click.echo(f"Report: {manifest['index']}")
    if manifest["status"] != "ok":
        sys.exit(1)
