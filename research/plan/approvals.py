"""Approval of a study's plan (报批): the operations director signs, then the chairman.

Decisions go into an append-only ``approvals`` table in the warehouse: who, role, decision,
comment, time, and the content hash of the exact report bundle they saw (every page, every
``results/`` CSV, ``plan.xlsx`` and ``manifest.json`` of the study week). A signature counts
only while the bundle still has that hash: a re-run that changes the bundle, or any edit of a
signed file, makes it *stale* — shown as such, never carried over.

The approval status shown on the pages lives between ``<!-- approval-status -->`` markers
(written by :func:`write_status`); the hash skips that region, so recording a decision does
not itself change the hash, while any other change to a page does.

Statuses: 草稿 (draft), 总监已审核 (director approved), 董事长已批准 (chairman approved),
已驳回 (rejected — back to draft: the director must sign again).

A week whose ``manifest.json`` is damaged (not JSON, cut short, or not an object naming the
category and week) cannot be signed or compared: :func:`read_manifest` refuses it with
:class:`DamagedReport`, naming the file and the fix; :func:`list_plans` lists it as 损坏
(``code`` ``damaged``) with that message, and :func:`damaged_weeks` names the ones a later
week's plan skips. A damaged ``approval.json`` is only a view of the log: it is listed as a
problem and rewritten by the next decision or by ``research plan status --refresh``.

A decision waits up to ``wait`` seconds for the warehouse's exclusive hold
(:func:`research.store.warehouse.connect`), and checks the order of 报批 under that hold, so
two decisions made at once are ordered.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> week = Path(tempfile.mkdtemp()) / "保温杯" / "2026-W47"
>>> (week / "results").mkdir(parents=True)
>>> _ = (week / "manifest.json").write_text('{"category": "保温杯", "week": "2026-W47"}')
>>> wh = week.parent.parent / "w.duckdb"
>>> record(wh, week, "director", "approve", "王总监").status
'总监已审核'
>>> record(wh, week, "chairman", "approve", "李董").status
'董事长已批准'
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from research.config import default_reports
from research.faults import Refused, UsageFault
from research.pages.results import write_text_atomic
from research.store.warehouse import connect, has_table, open_read

__all__ = ["ApprovalError", "DamagedReport", "DAMAGED_LABEL", "read_manifest", "damaged_weeks",
           "approval_problem", "PlanStatus", "bundle_hash", "bundle_files", "record", "status",
           "status_html", "draft_status", "write_status", "resolve_report", "list_plans",
           "latest_approved", "parse_role", "ROLES", "STATUS_LABELS", "STATUS_START",
           "STATUS_END"]

ROLES = {"director": "运营总监", "chairman": "董事长"}
STATUS_LABELS = {"draft": "草稿", "director": "总监已审核", "chairman": "董事长已批准",
                 "rejected": "已驳回"}
STATUS_START = "<!-- approval-status -->"
STATUS_END = "<!-- /approval-status -->"
_STATUS_RE = re.compile(re.escape(STATUS_START) + ".*?" + re.escape(STATUS_END), re.S)
_DDL = """
CREATE SEQUENCE IF NOT EXISTS approval_id_seq START 1;
CREATE TABLE IF NOT EXISTS approvals (
    id INTEGER PRIMARY KEY, report VARCHAR NOT NULL, category VARCHAR, week VARCHAR,
    role VARCHAR NOT NULL, name VARCHAR NOT NULL, decision VARCHAR NOT NULL,
    comment VARCHAR, bundle_hash VARCHAR NOT NULL,
    decided_at TIMESTAMP NOT NULL DEFAULT current_timestamp)
"""


class ApprovalError(UsageFault):
    """A decision that cannot be recorded; the message says why (a usage fault, exit 2)."""


class DamagedReport(Refused):
    """A week folder whose ``manifest.json`` cannot be read (exit 1); the message names the
    file, what was expected and the fix.

    Attributes
    ----------
    path : Path
        The damaged file.
    """

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


def _rerun_hint(week_dir: Path) -> str:
    return (f"run the study of {week_dir.parent.name} {week_dir.name} again (`research run "
            f"<study.yaml> --category {week_dir.parent.name} --week {week_dir.name}` rewrites "
            f"the folder), or restore manifest.json from a backup")


def read_manifest(week_dir: str | os.PathLike[str]) -> dict:
    """Read a week folder's ``manifest.json``: a JSON object naming the category and week.

    Raises
    ------
    DamagedReport
        When the file cannot be read, is not JSON (or is cut short), or has another shape;
        the message names the file, what was expected and the fix.

    Examples
    --------
    >>> import tempfile
    >>> week = Path(tempfile.mkdtemp()) / "保温杯" / "2026-W46"
    >>> week.mkdir(parents=True)
    >>> _ = (week / "manifest.json").write_text('{"category": "保温杯", "we')
    >>> try:
    ...     read_manifest(week)
    ... except DamagedReport as exc:
    ...     print(str(exc).split(" (")[0].endswith("manifest.json: not valid JSON"))
    True
    """
    root = Path(week_dir)
    path = root / "manifest.json"
    expected = ("expected the manifest `research run` writes: a JSON object naming the "
                "study's category and week")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (byte {exc.start})"
    except OSError as exc:
        problem = f"cannot be read ({exc.strerror or exc})"
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            cut = exc.msg.startswith("Unterminated") or exc.pos >= len(text.rstrip())
            problem = ("empty" if not text.strip() else
                       f"not valid JSON ({exc}{': the file looks cut short' if cut else ''})")
        else:
            if not isinstance(data, dict):
                problem = f"a JSON {type(data).__name__}, not an object"
            else:
                bad = [k for k in ("category", "week")
                       if not isinstance(data.get(k), str) or not data.get(k)]
                if not bad:
                    return data
                problem = "no " + " and no ".join(bad) + " named in it"
    raise DamagedReport(f"{path}: {problem}; {expected}. It is left out of sign-off and plan "
                        f"comparison until it is whole: {_rerun_hint(root)}.", path)


def approval_problem(week_dir: str | os.PathLike[str]) -> str:
    """What is wrong with a week's ``approval.json`` (``""`` when it is whole or absent).

    ``approval.json`` only shows the approval log; the fix is to rewrite it from the log.
    """
    path = Path(week_dir) / "approval.json"
    if not path.exists():
        return ""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problem = f"unreadable ({exc})"
    else:
        if (isinstance(data, dict) and isinstance(data.get("status"), str)
                and isinstance(data.get("signatures", []), list)):
            return ""
        problem = "not the object the approvals write (status and signatures)"
    return (f"{path}: {problem}; the approval log in the warehouse is unaffected: `research "
            f"plan status --refresh` (or the next approve/reject of this week) rewrites it")


@dataclass
class PlanStatus:
    """The state of one study week's plan.

    Attributes
    ----------
    report : str
        The week folder.
    status : str
        One of :data:`STATUS_LABELS` values.
    code : str
        ``draft``, ``director``, ``chairman`` or ``rejected``.
    bundle_hash : str
        The hash of the bundle as it is now.
    decisions : list of dict
        Every decision on this report, oldest first, each with ``stale`` (its hash is not
        the current one).
    """

    report: str
    status: str
    code: str
    bundle_hash: str
    decisions: list[dict] = field(default_factory=list)

    @property
    def stale(self) -> list[dict]:
        """Decisions made on an earlier version of the bundle."""
        return [d for d in self.decisions if d["stale"]]

    def as_dict(self) -> dict:
        """A JSON-ready form (for ``approval.json`` and the index).

        ``signatures`` repeats the decisions as one sentence each, the form the report
        indexes show (:mod:`research.pages.report`).
        """
        return {"status": self.status, "code": self.code, "bundle_hash": self.bundle_hash,
                "decisions": self.decisions,
                "signatures": [_sentence(d) for d in self.decisions]}


def _sentence(d: dict) -> str:
    text = (f"{d['role_label']} {d['name']} {'批准' if d['decision'] == 'approve' else '驳回'}"
            f" {d['decided_at']}")
    if d.get("comment"):
        text += f"：{d['comment']}"
    return text + ("（已过期：报告已变更）" if d.get("stale") else "")


def bundle_files(week_dir: str | os.PathLike[str]) -> list[Path]:
    """The files that make up a report bundle: pages, results, plan.xlsx, manifest."""
    root = Path(week_dir)
    files = [p for p in root.glob("*.html") if p.name != "index.html"]
    files += list((root / "results").glob("*.csv")) if (root / "results").exists() else []
    files += [p for p in (root / "plan.xlsx", root / "manifest.json") if p.exists()]
    return sorted(files)


def bundle_hash(week_dir: str | os.PathLike[str]) -> str:
    """SHA-256 over the bundle's files (names and bytes; the approval-status region of a
    page is blanked first)."""
    root = Path(week_dir)
    digest = hashlib.sha256()
    for path in bundle_files(root):
        data = path.read_bytes()
        if path.suffix == ".html":
            data = _STATUS_RE.sub(STATUS_START + STATUS_END, data.decode("utf-8")).encode()
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(data).digest())
    return digest.hexdigest()


def resolve_report(report: str | os.PathLike[str], reports_root: str | os.PathLike[str]
                   | None = None) -> Path:
    """Find a study week folder from a path, its index.html, or ``category/week``.

    Raises
    ------
    ApprovalError
        When no such report exists.
    """
    candidates = [Path(report)]
    root = Path(reports_root) if reports_root else default_reports()
    candidates.append(root / str(report))
    for cand in candidates:
        if cand.is_file() and cand.name == "index.html":
            cand = cand.parent
        if cand.is_dir() and (cand / "manifest.json").exists():
            return cand.resolve()
    raise ApprovalError(f"no study report at {report!r} (looked for a folder with a "
                        f"manifest.json, also under {root}); run `research run` first")


def _ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_DDL)


def _decisions_in(con: duckdb.DuckDBPyConnection, key: str) -> pd.DataFrame:
    if not has_table(con, "approvals"):
        return pd.DataFrame()
    return con.execute("SELECT * FROM approvals WHERE report = ? ORDER BY id", [key]).df()


def _decisions(warehouse: str | os.PathLike[str], key: str, wait: float = 0.0) -> pd.DataFrame:
    try:
        with open_read(warehouse, wait=wait) as con:
            return _decisions_in(con, key)
    except FileNotFoundError:
        return pd.DataFrame()


def _state(decisions: pd.DataFrame, current: str) -> str:
    """Replay the valid (current-hash) decisions: the state machine of 报批."""
    code = "draft"
    for row in decisions.itertuples():
        if row.bundle_hash != current:
            continue
        if row.decision == "reject":
            code = "rejected"
        elif row.role == "director":
            code = "director"
        elif row.role == "chairman" and code == "director":
            code = "chairman"
    return code


def _key(week_dir: Path) -> str:
    manifest = read_manifest(week_dir)
    return f"{manifest['category']}/{manifest['week']}"


def status(week_dir: str | os.PathLike[str], warehouse: str | os.PathLike[str], *,
           wait: float = 0.0) -> PlanStatus:
    """Current approval status of a study week, with every decision marked stale or not.

    Raises
    ------
    DamagedReport
        When the week's ``manifest.json`` is damaged (:func:`read_manifest`).
    Busy
        When a writer holds the warehouse past ``wait`` seconds.
    """
    root = Path(week_dir)
    key = _key(root)
    return _status_of(key, bundle_hash(root), _decisions(warehouse, key, wait))


def _status_of(key: str, current: str, decisions: pd.DataFrame) -> PlanStatus:
    code = _state(decisions, current) if len(decisions) else "draft"
    listed = [{"role": r.role, "role_label": ROLES.get(r.role, r.role), "name": r.name,
               "decision": r.decision, "comment": r.comment or "",
               "decided_at": f"{pd.Timestamp(r.decided_at):%Y-%m-%d %H:%M}",
               "stale": r.bundle_hash != current} for r in decisions.itertuples()]
    return PlanStatus(key, STATUS_LABELS[code], code, current, listed)


def record(warehouse: str | os.PathLike[str], week_dir: str | os.PathLike[str], role: str,
           decision: str, name: str, comment: str = "", *, wait: float = 0.0) -> PlanStatus:
    """Record an approval or rejection, enforcing the order of 报批.

    Parameters
    ----------
    warehouse : path-like
    week_dir : path-like
        The study week folder (see :func:`resolve_report`).
    role : {"director", "chairman"}
    decision : {"approve", "reject"}
    name : str
        Who decides.
    comment : str
        Required for a rejection.
    wait : float
        Seconds to wait for another process holding the warehouse (an import, a running
        study, another decision); 0 refuses at once.

    Raises
    ------
    ApprovalError
        Unknown role, chairman before director, approving twice, a rejection without a
        comment.
    DamagedReport
        The week's ``manifest.json`` is damaged (nothing is recorded).
    Busy
        The warehouse stayed held past ``wait`` seconds (nothing is recorded).
    """
    role = parse_role(role)
    if decision not in ("approve", "reject"):
        raise ApprovalError(f"unknown decision {decision!r}: expected approve or reject")
    if not name.strip():
        raise ApprovalError("a decision needs the name of who makes it (--name)")
    if decision == "reject" and not comment.strip():
        raise ApprovalError("a rejection needs a comment saying why (--comment)")
    root = Path(week_dir)
    manifest = read_manifest(root)
    key = f"{manifest['category']}/{manifest['week']}"
    current = bundle_hash(root)
    # refused early without taking the hold, then checked again under it
    _check_order(_status_of(key, current, _decisions(warehouse, key, wait)), role, decision)
    with connect(warehouse, wait=wait) as con:
        _ensure(con)
        before = _status_of(key, current, _decisions_in(con, key))
        _check_order(before, role, decision)
        con.execute(
            "INSERT INTO approvals (id, report, category, week, role, name, decision, comment, "
            "bundle_hash) VALUES (nextval('approval_id_seq'), ?, ?, ?, ?, ?, ?, ?, ?)",
            [before.report, manifest["category"], manifest["week"], role, name.strip(),
             decision, comment.strip(), before.bundle_hash])
        after = _status_of(key, current, _decisions_in(con, key))
    write_status(root, after)
    return after


def _check_order(before: PlanStatus, role: str, decision: str) -> None:
    """Refuse a decision out of the order of 报批 (:class:`ApprovalError`)."""
    if decision == "approve":
        if before.code == "chairman":
            raise ApprovalError(f"{before.report} is already 董事长已批准 (signed by the "
                                f"chairman); nothing more to sign for this version")
        if role == "chairman" and before.code != "director":
            raise ApprovalError(
                f"the chairman can sign only after the operations director: {before.report} "
                f"is {before.status}" + (" (earlier signatures are stale: the report changed "
                                        "since)" if before.stale else ""))
        if role == "director" and before.code in ("director", "chairman"):
            raise ApprovalError(f"{before.report} is already {before.status}; the director "
                                f"has signed this version")
    elif before.code == "chairman":
        raise ApprovalError(f"{before.report} is already 董事长已批准; re-run the study to "
                            f"revise it")


def parse_role(role: str) -> str:
    """``director``/``chairman``, also given as 运营总监/总监/董事长 (any case).

    Raises
    ------
    ApprovalError
        For any other name.

    Examples
    --------
    >>> parse_role("董事长"), parse_role(" Director ")
    ('chairman', 'director')
    """
    key = str(role).strip().lower()
    aliases = {"director": "director", "运营总监": "director", "总监": "director",
               "chairman": "chairman", "董事长": "chairman"}
    if key not in aliases:
        raise ApprovalError(f"unknown role {role!r}: expected director (运营总监) or "
                            f"chairman (董事长)")
    return aliases[key]


def status_html(state: PlanStatus) -> str:
    """The status banner shown on the index and the plan summary page (escaped)."""
    rows = "".join(
        f"<li class=\"{'stale' if d['stale'] else d['decision']}\">{html.escape(d['role_label'])}"
        f" {html.escape(d['name'])} — {'批准' if d['decision'] == 'approve' else '驳回'}"
        f" {html.escape(d['decided_at'])}"
        + (f"：{html.escape(d['comment'])}" if d["comment"] else "")
        + (" <strong>（已过期：报告已变更）</strong>" if d["stale"] else "") + "</li>"
        for d in state.decisions)
    return (f'{STATUS_START}<div class="approval approval-{state.code}">'
            f"<strong>审批状态：{html.escape(state.status)}</strong>"
            f"{'<ul>' + rows + '</ul>' if rows else ''}</div>{STATUS_END}")


def write_status(week_dir: str | os.PathLike[str], state: PlanStatus) -> None:
    """Write ``approval.json`` (creating ``week_dir``) and refresh the status region of the
    week's pages; each file is replaced whole (a kill leaves the old one, not half a file)."""
    root = Path(week_dir)
    root.mkdir(parents=True, exist_ok=True)
    write_text_atomic(root / "approval.json",
                      json.dumps(state.as_dict(), ensure_ascii=False, indent=2))
    banner = status_html(state)
    for page in [root / "index.html", *root.glob("*.html")]:
        if not page.exists():
            continue
        text = page.read_text(encoding="utf-8")
        if STATUS_START in text:
            new = _STATUS_RE.sub(lambda _m: banner, text)
            if new != text:
                write_text_atomic(page, new)


#: the status shown for a week whose manifest.json is damaged
DAMAGED_LABEL = "损坏 · damaged"


def _week_manifests(reports_root: str | os.PathLike[str]) -> list[Path]:
    return [m for m in sorted(Path(reports_root).glob("*/*/manifest.json"))
            if not (m.parent.name.startswith(".") or m.parent.parent.name.startswith("."))]


def list_plans(warehouse: str | os.PathLike[str], reports_root: str | os.PathLike[str], *,
               wait: float = 0.0) -> pd.DataFrame:
    """Every study week under ``reports_root`` with its approval status.

    A week whose ``manifest.json`` is damaged is listed with status :data:`DAMAGED_LABEL`,
    code ``damaged`` and the message (path, what was expected, fix) in ``problem``; a
    damaged ``approval.json`` is named in ``problem`` beside the status from the log.
    """
    rows = []
    for manifest in _week_manifests(reports_root):
        week_dir = manifest.parent
        try:
            state = status(week_dir, warehouse, wait=wait)
        except DamagedReport as exc:
            rows.append({"report": f"{week_dir.parent.name}/{week_dir.name}",
                         "status": DAMAGED_LABEL, "code": "damaged", "decisions": 0,
                         "stale": 0, "last": "", "path": str(week_dir), "problem": str(exc)})
            continue
        last = state.decisions[-1] if state.decisions else None
        rows.append({"report": state.report, "status": state.status, "code": state.code,
                     "decisions": len(state.decisions), "stale": len(state.stale),
                     "last": (f"{last['role_label']} {last['name']} {last['decided_at']}"
                              if last else ""), "path": str(week_dir),
                     "problem": approval_problem(week_dir)})
    return pd.DataFrame(rows, columns=["report", "status", "code", "decisions", "stale",
                                       "last", "path", "problem"])


def damaged_weeks(reports_root: str | os.PathLike[str], category: str, before_week: str
                  ) -> list[DamagedReport]:
    """The weeks of ``category`` before ``before_week`` (by folder name) whose
    ``manifest.json`` is damaged: a later plan skips them and says so."""
    found = []
    for manifest in _week_manifests(reports_root):
        week_dir = manifest.parent
        if week_dir.parent.name != category or week_dir.name >= before_week:
            continue
        try:
            read_manifest(week_dir)
        except DamagedReport as exc:
            found.append(exc)
    return found


def draft_status(warehouse: str | os.PathLike[str], category: str, week: str) -> PlanStatus:
    """The status of a study week while it is being built (shown by the plan summary page).

    A new run is a new bundle (its manifest carries the run time), so it starts as 草稿 and
    every earlier decision on the same category and week is listed as stale — never carried
    over. After the run, :func:`status` of the published folder says the same.
    """
    key = f"{category}/{week}"
    decisions = _decisions(warehouse, key)
    listed = [{"role": r.role, "role_label": ROLES.get(r.role, r.role), "name": r.name,
               "decision": r.decision, "comment": r.comment or "",
               "decided_at": f"{pd.Timestamp(r.decided_at):%Y-%m-%d %H:%M}", "stale": True}
              for r in decisions.itertuples()] if len(decisions) else []
    return PlanStatus(key, STATUS_LABELS["draft"], "draft", "", listed)


def latest_approved(warehouse: str | os.PathLike[str], reports_root: str | os.PathLike[str],
                    category: str, before_week: str) -> tuple[Path, PlanStatus] | None:
    """The latest plan of ``category`` from a week before ``before_week`` that the chairman
    approved and whose signatures are still valid (bundle unchanged), or ``None``.

    Returns
    -------
    (Path, PlanStatus) or None
        The week folder and its status.
    """
    plans = list_plans(warehouse, reports_root)
    if plans.empty:
        return None
    prefix = f"{category}/"
    ok = plans[plans["report"].str.startswith(prefix) & (plans["code"] == "chairman")]
    ok = ok[ok["report"].str[len(prefix):] < before_week]
    if ok.empty:
        return None
    best = ok.sort_values("report").iloc[-1]
    return Path(best["path"]), status(best["path"], warehouse)
