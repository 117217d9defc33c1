"""Command line of the plan's sign-off (报批): ``research approve``, ``research reject`` and
``research plan status``.

A decision is recorded in the warehouse's append-only ``approvals`` log with the content hash
of the report bundle (:mod:`research.plan.approvals`); the week's ``approval.json``, the status
banner of its ``index.html`` and ``plan_summary.html``, and the reports index are then
refreshed, so the rendered report shows who signed what and when.

Examples
--------
::

    research approve reports/保温杯/2026-W44 --role director --name 王总监 --comment 同意
    research approve 保温杯/2026-W44 --role chairman --name 李董
    research reject 保温杯/2026-W44 --role chairman --name 李董 --comment "利润目标偏低"
    research plan status
    research approve 保温杯/2026-W44 --role director --name 王总监 --wait 60

Exit codes: 0 recorded (or listed); 1 a damaged report (its ``manifest.json`` cannot be read:
the message names it and the fix); 2 a decision refused (unknown report or role, wrong
order, signing twice) or a bad warehouse path; 3 the warehouse stayed held by another process
(an import, a running study) past ``--wait`` seconds.
"""

from __future__ import annotations

from pathlib import Path

import click

from research.config import default_reports, default_warehouse
from research.faults import Fault, exit_code
from research.pages.report import render_reports_index
from research.plan import approvals

__all__ = ["approve_command", "reject_command", "plan_group", "decide"]

_WAREHOUSE = click.option(
    "--warehouse", "-w", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="DuckDB warehouse holding the approval log (default: $RESEARCH_WAREHOUSE or "
         "data/warehouse.duckdb).")
_REPORTS = click.option(
    "--reports", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Reports root, for REPORT given as CATEGORY/WEEK (default: $RESEARCH_REPORTS or "
         "reports/).")
_ROLE = click.option("--role", required=True, metavar="director|chairman",
                     help="director (运营总监) or chairman (董事长).")
_NAME = click.option("--name", required=True, help="Who decides (shown on the report).")
_WAIT = click.option("--wait", type=click.FloatRange(min=0), default=0, show_default=True,
                     metavar="SECONDS",
                     help="Wait this long for an import or a running study holding the "
                          "warehouse to finish (0: refuse at once, exit 3).")


def _fault(exc: Exception) -> click.ClickException:
    """One message, exiting with the fault's code (:func:`research.faults.exit_code`)."""
    out = click.ClickException(str(exc))
    out.exit_code = exit_code(exc)  # type: ignore[misc]  # click reads it per instance
    return out


def decide(report: str, role: str, decision: str, name: str, comment: str,
           warehouse: Path | None, reports: Path | None, wait: float = 0.0
           ) -> approvals.PlanStatus:
    """Record a decision and refresh the week's pages and the reports index.

    Raises
    ------
    click.ClickException
        With the reason and the fault's exit code, when the decision is refused (unknown
        report or role, wrong order, signing twice, a rejection without a comment: 2), the
        week's manifest.json is damaged (1) or the warehouse stayed busy past ``wait`` (3).
    """
    wh = warehouse or default_warehouse()
    root = reports or default_reports()
    try:
        week_dir = approvals.resolve_report(report, root)
        state = approvals.record(wh, week_dir, role, decision, name, comment, wait=wait)
    except (Fault, FileNotFoundError) as exc:
        raise _fault(exc) from None
    try:  # the top-level index lists each week's status from its approval.json
        render_reports_index(week_dir.parent.parent)
    except (OSError, ValueError) as exc:
        click.echo(f"note: the reports index was not refreshed: {exc}", err=True)
    return state


def _echo_state(state: approvals.PlanStatus) -> None:
    click.echo(f"{state.report}: {state.status}")
    for d in state.decisions:
        verb = "批准" if d["decision"] == "approve" else "驳回"
        line = f"  {d['decided_at']}  {d['role_label']} {d['name']} {verb}"
        if d["comment"]:
            line += f"：{d['comment']}"
        if d["stale"]:
            line += "  (stale: the report changed since)"
        click.echo(line)


@click.command("approve")
@click.argument("report")
@_ROLE
@_NAME
@click.option("--comment", default="", help="Optional comment shown with the signature.")
@_WAREHOUSE
@_REPORTS
@_WAIT
def approve_command(report: str, role: str, name: str, comment: str, warehouse: Path | None,
                    reports: Path | None, wait: float) -> None:
    """Sign a study week's plan: REPORT is its folder, its index.html, or CATEGORY/WEEK.

    The operations director signs first, then the chairman. A signature holds for the exact
    bundle signed (pages, results, plan.xlsx, manifest); a re-run makes it stale.
    """
    _echo_state(decide(report, role, "approve", name, comment, warehouse, reports, wait))


@click.command("reject")
@click.argument("report")
@_ROLE
@_NAME
@click.option("--comment", required=True, help="Why (required).")
@_WAREHOUSE
@_REPORTS
@_WAIT
def reject_command(report: str, role: str, name: str, comment: str, warehouse: Path | None,
                   reports: Path | None, wait: float) -> None:
    """Send a study week's plan back to draft (已驳回), with the reason."""
    _echo_state(decide(report, role, "reject", name, comment, warehouse, reports, wait))


@click.group("plan")
def plan_group() -> None:
    """The operating plans of the study weeks and their approval."""


@plan_group.command("status")
@_WAREHOUSE
@_REPORTS
@click.option("--refresh", is_flag=True,
              help="Also rewrite each week's approval.json and status banners from the log "
                   "(e.g. after a signed file was edited, or approval.json was damaged).")
@click.option("--wait", type=click.FloatRange(min=0), default=0, show_default=True,
              metavar="SECONDS",
              help="Wait this long for an import holding the warehouse (0: refuse at once).")
def status_command(warehouse: Path | None, reports: Path | None, refresh: bool,
                   wait: float) -> None:
    """List every study week with its plan's approval status (stale signatures counted).

    A week whose manifest.json is damaged is listed as 损坏 · damaged with the file and the
    fix, and the command exits 1 after listing every week.
    """
    wh = warehouse or default_warehouse()
    root = reports or default_reports()
    try:
        plans = approvals.list_plans(wh, root, wait=wait)
    except Fault as exc:
        raise _fault(exc) from None
    if plans.empty:
        click.echo(f"No study reports under {root}.")
        return
    damaged = 0
    for row in plans.itertuples():
        if row.code == "damaged":
            damaged += 1
            click.echo(f"{row.report:<22} {row.status}: {row.problem}", err=True)
            continue
        line = f"{row.report:<22} {row.status:<8} {row.decisions} decision(s)"
        if row.stale:
            line += f", {row.stale} stale"
        if row.last:
            line += f"; last: {row.last}"
        click.echo(line)
        if refresh:
            try:
                approvals.write_status(row.path, approvals.status(row.path, wh, wait=wait))
            except Fault as exc:
                raise _fault(exc) from None
        elif row.problem:
            click.echo(f"  note: {row.problem}", err=True)
    if refresh:
        render_reports_index(root)
        click.echo(f"Status banners and {root / 'index.html'} refreshed.")
    if damaged:
        raise _fault(approvals.DamagedReport(
            f"{damaged} of {len(plans)} study week(s) under {root} have a damaged "
            f"manifest.json (listed above, each with its fix)", root))
