"""The ``research`` command line.

``research ingest``, ``status`` and ``sample`` live here; the commands of other wings
(``run``, ``import-public``, ``approve``/``reject``/``plan``) are defined beside the code they
drive and added at the bottom, so this file stays a thin index.

Every command ends a foreseeable fault (:mod:`research.faults`) with one line and its exit
code — 0 ok, 1 data refused, 2 usage, 3 busy, 4 environment — and creates what it writes under
the umask of :func:`research.config.private_umask` (files 0600, folders 0700 by default).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from research.config import default_warehouse, private_umask
from research.faults import Fault, UsageFault, environment_fault, exit_code
from research.plan.cli import approve_command, plan_group, reject_command
from research.sample.market import generate_sample
from research.sources.exports import DATE_RANGE_ENV, date_range, ingest_paths
from research.sources.public import import_command
from research.sources.raw_copies import verify_raw_copies
from research.store.warehouse import summary
from research.study.cli import run_command

__all__ = ["main"]

WAREHOUSE_OPTION = click.option(
    "--warehouse", "-w", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="DuckDB warehouse file (default: $RESEARCH_WAREHOUSE or data/warehouse.duckdb).")


class _Workbench(click.Group):
    """The command group: a foreseeable fault ends as one line and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Fault as exc:
            click.echo(f"✗ {exc}", err=True)
            ctx.exit(exc.code)
        except OSError as exc:
            if exit_code(exc) != 4:
                raise  # not foreseeable (a bug or a broken machine): keep the traceback
            click.echo(f"✗ {environment_fault(exc, ctx.invoked_subcommand or 'research')}",
                       err=True)
            ctx.exit(4)


@click.group(cls=_Workbench, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="research")
def main() -> None:
    """Market and competitor research workbench: import exports, study, plan, approve.

    Exit codes: 0 ok, 1 data refused (a file, or damage found), 2 usage, 3 the warehouse is
    busy (give --wait SECONDS), 4 the disk is full or a permission is missing. Files and
    folders are created readable by their owner only ($RESEARCH_FILE_MODE, default 600).
    """
    try:
        os.umask(private_umask())
    except ValueError as exc:
        raise UsageFault(str(exc)) from None


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@WAREHOUSE_OPTION
@click.option("--table", type=click.Choice(["keywords", "items", "traffic", "sales",
                                            "market_daily", "audience", "events"]),
              help="Force the table instead of recognising it from the headers.")
@click.option("--default", "defaults", multiple=True, metavar="COLUMN=VALUE",
              help="Value for a column the files lack, e.g. --default category=保温杯.")
@click.option("--force", is_flag=True, help="Re-apply files whose content was loaded before.")
@click.option("--dates", metavar="FROM..TO", envvar=DATE_RANGE_ENV, default=None,
              help="Plausible dates of the rows; rows dated outside are refused (default "
                   "2000-01-01..end of next year; also $RESEARCH_DATE_RANGE).")
@click.option("--wait", type=click.FloatRange(min=0), default=0.0, show_default=True,
              metavar="SECONDS",
              help="Wait this long for another process holding the warehouse (0: refuse).")
def ingest(paths: tuple[Path, ...], warehouse: Path | None, table: str | None,
           defaults: tuple[str, ...], force: bool, dates: str | None, wait: float) -> None:
    """Load platform exports (CSV/XLSX files or folders) into the warehouse.

    Each file is loaded whole or not at all; a bad file is reported with its rows and
    columns and leaves the warehouse as it was, and the other files are still loaded. Every
    file's outcome is listed. Exits 0 when all loaded (or were loaded before), 1 if a file
    was refused, 2 for a path holding no export (nothing is created), 3 if the warehouse
    stayed busy past --wait, 4 if the disk is full or a permission is missing.
    """
    pairs = {}
    for item in defaults:
        if "=" not in item:
            raise click.BadParameter(f"{item!r} is not COLUMN=VALUE", param_hint="--default")
        k, v = item.split("=", 1)
        pairs[k.strip()] = v.strip()
    target = warehouse or default_warehouse()
    try:
        bounds = date_range(dates)
        results = ingest_paths(paths, target, table=table, defaults=pairs, force=force,
                               dates=bounds, wait=wait)
    except Fault as exc:
        click.echo(f"✗ {exc}", err=True)
        sys.exit(exc.code)
    for r in results:
        mark = {"loaded": "✓", "skipped": "=", "failed": "✗"}[r.outcome]
        click.echo(f"{mark} {r.message}", err=r.outcome == "failed")
    counts = {o: sum(r.outcome == o for r in results) for o in ("loaded", "skipped", "failed")}
    click.echo(f"{len(results)} file(s): {counts['loaded']} loaded, {counts['skipped']} already "
               f"loaded, {counts['failed']} refused — warehouse {target}")
    code = max((r.code for r in results), default=0)
    if code:
        sys.exit(code)


@main.command()
@WAREHOUSE_OPTION
@click.option("--verify", is_flag=True,
              help="Check every kept raw copy against the SHA-256 in the ingest log; exit 1 "
                   "naming each copy that is missing or damaged.")
def status(warehouse: Path | None, verify: bool) -> None:
    """Print what the warehouse holds: tables, rows, dates, categories, shops, last imports."""
    target = warehouse or default_warehouse()
    info = summary(target)  # a missing or foreign warehouse is a UsageFault (exit 2)
    click.echo(f"Warehouse {target}")
    for name, t in info["tables"].items():
        line = f"  {name:<13}{t['rows']:>12,} rows"
        if "from" in t:
            line += f"  {t['from']} … {t['to']}"
        for col in ("category", "shop"):
            if f"{col}_count" in t:
                ex = ", ".join(map(str, t[f"{col}_examples"][:4]))
                more = "…" if t[f"{col}_count"] > 4 else ""
                line += f"  {t[f'{col}_count']} {col}{'s' if t[f'{col}_count'] != 1 else ''}"
                line += f" ({ex}{more})"
        click.echo(line)
    last = info["last_imports"]
    if len(last):
        click.echo("Last imports:")
        for row in last.itertuples():
            click.echo(f"  #{row.id} {row.loaded_at:%Y-%m-%d %H:%M} {row.file_name} → "
                       f"{row.table_name}: {row.rows:,} rows ({row.rows_new:,} new, "
                       f"{row.rows_replaced:,} replaced, {row.rows_unchanged:,} unchanged)")
    if verify:
        checked, damaged = verify_raw_copies(target)
        for line in damaged:
            click.echo(f"✗ {line}", err=True)
        click.echo(f"Raw copies: {checked} checked, {len(damaged)} missing or damaged"
                   + ("" if damaged else " — all agree with the ingest log"))
        if damaged:
            sys.exit(1)


@main.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the exports and truth.json into.")
@click.option("--seed", default=7, show_default=True, help="Random seed (same seed, same files).")
@click.option("--profile", default="保温杯", show_default=True,
              help="Market profile: 保温杯, 防晒衣, 坚果礼盒, 数据线, 扫地机器人 or random "
                   "(a market drawn from the seed).")
def sample(out_dir: Path, seed: int, profile: str) -> None:
    """Write a sample market as platform exports, with its planted truth."""
    info = generate_sample(out_dir, seed=seed, profile=profile)
    rows = ", ".join(f"{t} {n:,}" for t, n in info.get("rows", {}).items())
    click.echo(f"Sample market {info['profile']} (seed {seed}) written to {out_dir}: "
               f"{len(info['files'])} files; {rows}. Planted signals: {info.get('truth')}")


# Commands defined beside the code they drive.
main.add_command(run_command, "run")
main.add_command(import_command, "import-public")
main.add_command(approve_command, "approve")
main.add_command(reject_command, "reject")
main.add_command(plan_group, "plan")
