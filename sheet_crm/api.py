"""The library's front door: one read, the steps, one write.

The CLI, scheduled jobs and tests all call ``run``::

    report = run("shop.xlsx", ["tiers"], today=date(2026, 11, 22))
    report.findings, report.outputs["tiers"].result, report.written
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from . import __version__
from .backends.base import Backend, open_backend
from .changes import content_hash, describe_changes, last_run_value
from .config import Settings, load_settings
from .errors import UsageError, WorkbookChanged
from .findings import Finding, FindingList, Severity
from .gcpause import paused_gc
from .model import Records, build_records
from .render import issues_tab
from .steps import STEPS, Context, StepOutput, load, plan_steps, records_after
from .workbook import WHOLE, ToolTab, Workbook, WritePlan, WriteReport

# The names a command line uses for steps (`sheet-crm segment` runs "segments").
COMMAND_STEPS: dict[str, tuple[str, ...]] = {
    "validate": ("validate",),
    "dedupe": ("dedupe",),
    "tiers": ("tiers", "dashboard"),
    "segment": ("segments", "dashboard"),
    "drafts": ("outreach",),
    "sync": tuple(STEPS),
}

RUNS_HEADERS = [
    "Started",
    "Finished",
    "Seconds",
    "Command",
    "Steps",
    "Customers",
    "Errors",
    "Warnings",
    "Tabs written",
    "Cells edited",
    "Rows appended",
    "Changes",
    "sheet-crm version",
    "Content hash",
]

Progress = Callable[[str], None]


@dataclass
class RunReport:
    """What a run found, computed and wrote."""

    source: str
    steps: list[str]
    findings: list[Finding]
    outputs: dict[str, StepOutput]
    plan: WritePlan
    written: WriteReport | None  # None on a dry run
    dry_run: bool
    started: datetime
    finished: datetime
    settings: Settings
    records: Records | None = None
    changes: list[str] = field(default_factory=list)  # what changed since the last run
    unchanged: bool = False  # incremental run that found nothing new and wrote nothing

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]

    @property
    def exit_code(self) -> int:
        """0 clean, 1 the data has errors (DESIGN.md section 5)."""
        return 1 if self.errors else 0

    def summary_lines(self) -> list[str]:
        if self.unchanged:
            return [
                "Nothing changed in your tabs since the last run; nothing was written "
                "(use --force to run anyway)."
            ]
        lines: list[str] = []
        for name in self.steps:
            lines.extend(self.outputs[name].summary)
        if self.changes:
            lines.append("Since the last run: " + " ".join(self.changes))
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "workbook": self.source,
            "steps": self.steps,
            "dry_run": self.dry_run,
            "unchanged": self.unchanged,
            "changes": self.changes,
            "findings": [f.to_dict() for f in self.findings],
            "results": {name: out.data for name, out in self.outputs.items() if out.data is not None},
            "counts": {name: out.counts for name, out in self.outputs.items() if out.counts},
            "would_write" if self.dry_run else "wrote": describe_plan(self.plan),
            "skipped_edits": [
                {"cell": e.location.cell, "reason": "the cell changed since it was read"}
                for e in (self.written.skipped_edits if self.written else [])
            ],
        }


def describe_plan(plan: WritePlan) -> dict[str, Any]:
    return {
        "tabs": {t.name: len(t.rows) for t in plan.tabs},
        "cell_edits": [
            {"cell": e.location.cell, "from": _plain(e.expected), "to": _plain(e.value), "reason": e.reason}
            for e in plan.edits
        ],
        "appends": [{"tab": a.tab, "reason": a.reason} for a in plan.appends],
    }


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def read_workbook(target: str | Path | Backend, **backend_options: Any) -> tuple[Backend, Workbook]:
    backend = target if isinstance(target, Backend) else open_backend(target, **backend_options)
    return backend, backend.read()


RECOMPUTE_ATTEMPTS = 3  # reads+computes when the owner keeps editing during a run


def run(
    target: str | Path | Backend,
    steps: Sequence[str],
    *,
    today: date | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
    options: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
    command: str = "",
    progress: Progress | None = None,
    backend_options: Mapping[str, Any] | None = None,
    incremental: bool = False,
    force: bool = False,
) -> RunReport:
    """Read the workbook once, run ``steps`` (and what they depend on), write once.

    Findings never stop the run. Failures raise a ``SheetCrmError`` and nothing is
    written. With ``dry_run`` nothing is written and the report says what would be.
    With ``incremental`` (what ``sync`` does), a run whose inputs hash the same as the
    last run's (see ``changes.content_hash``) writes nothing unless ``force``.
    When the owner edits the workbook between our read and our write, the backend
    refuses to write (``WorkbookChanged``) and the run reads and computes again, up to
    ``RECOMPUTE_ATTEMPTS`` times, before giving up with nothing written.
    """
    note = progress or (lambda _msg: None)
    try:
        order = plan_steps(steps)
    except KeyError as exc:
        raise UsageError(f"There is no step called {exc}.", f"Use one of: {', '.join(STEPS)}.") from None
    backend = target if isinstance(target, Backend) else open_backend(target, **dict(backend_options or {}))
    for attempt in range(1, RECOMPUTE_ATTEMPTS + 1):
        note("Reading the workbook")
        with paused_gc():  # millions of long-lived cells and records, no cycles
            report, version = _compute(
                backend,
                steps,
                order,
                today=today,
                now=now,
                dry_run=dry_run,
                options=options,
                settings=settings,
                command=command,
                note=note,
                incremental=incremental,
                force=force,
            )
        if dry_run or report.unchanged:
            return report
        note("Writing the workbook")
        try:
            report.written = backend.write(report.plan, expected_version=version)
        except WorkbookChanged:
            if attempt == RECOMPUTE_ATTEMPTS:
                raise
            note("The workbook changed while sheet-crm was working; reading it again")
            continue
        return report
    raise AssertionError("unreachable")  # pragma: no cover


def _compute(
    backend: Backend,
    steps: Sequence[str],
    order: list[str],
    *,
    today: date | None,
    now: datetime | None,
    dry_run: bool,
    options: Mapping[str, Any] | None,
    settings: Mapping[str, Any] | None,
    command: str,
    note: Progress,
    incremental: bool,
    force: bool,
) -> tuple[RunReport, str]:
    """One read and the steps: the report (not yet written) and the version read."""
    started = now or datetime.now()
    today = today or started.date()
    t0 = time.perf_counter()
    workbook = backend.read()
    digest = content_hash(workbook, today, order)
    findings = FindingList()
    findings.extend(workbook.findings.items)
    cfg, _origin = load_settings(workbook, settings, findings=findings)
    records = build_records(workbook, cfg, findings)
    if incremental and not force and digest == last_run_value(workbook, "Content hash"):
        finished = datetime.now() if now is None else now
        report = RunReport(
            backend.label,
            order,
            list(findings.items),
            {},
            WritePlan(),
            None,
            dry_run,
            started,
            finished,
            cfg,
            records,
            unchanged=True,
        )
        return report, workbook.version
    ctx = Context(
        workbook, records, cfg, today, started, findings, dict(options or {}), requested=frozenset(steps)
    )
    outputs: dict[str, StepOutput] = {}
    for name in order:
        note(f"Running {name}")
        out = load(name)(ctx)
        outputs[name] = out
        ctx.results[name] = out.result
        # Steps never change the records they read; what one learned that the next
        # must see (new Customer IDs, merges) comes back as data and is applied here.
        ctx.records = records_after(ctx.records, out.result)
    records = ctx.records
    plan = WritePlan(generated_at=started)
    for name in order:
        plan.tabs.extend(outputs[name].tabs)
        plan.edits.extend(outputs[name].edits)
        plan.appends.extend(outputs[name].appends)
    if "validate" in order:
        plan.tabs.insert(0, issues_tab(findings.items))
    changes = describe_changes(workbook, plan.tabs)
    finished = datetime.now() if now is None else now
    plan.tabs.append(
        runs_tab(
            command or " ".join(steps),
            order,
            started,
            finished,
            time.perf_counter() - t0,
            records,
            findings.items,
            plan,
            changes,
            digest,
        )
    )
    report = RunReport(
        backend.label,
        order,
        list(findings.items),
        outputs,
        plan,
        None,
        dry_run,
        started,
        finished,
        cfg,
        records,
        changes,
    )
    return report, workbook.version


def runs_tab(
    command: str,
    steps: Sequence[str],
    started: datetime,
    finished: datetime,
    seconds: float,
    records: Records,
    findings: Sequence[Finding],
    plan: WritePlan,
    changes: Sequence[str] = (),
    digest: str = "",
) -> ToolTab:
    """One row for this run; the backend appends it below the earlier ones."""
    row = [
        started.replace(microsecond=0),
        finished.replace(microsecond=0),
        round(seconds, 2),
        command,
        ", ".join(steps),
        len(records.active_customers()),
        sum(f.severity is Severity.ERROR for f in findings),
        sum(f.severity is Severity.WARNING for f in findings),
        ", ".join(t.name for t in plan.tabs) or "-",
        len(plan.edits),
        len(plan.appends),
        " ".join(changes) or "-",
        __version__,
        digest,
    ]
    return ToolTab(
        "Runs",
        RUNS_HEADERS,
        [row],
        note="One row per run of sheet-crm.",
        append_only=True,
        widths={"Started": 18, "Finished": 18, "Steps": 40, "Tabs written": 50},
        formats={"Customers": WHOLE, "Errors": WHOLE, "Warnings": WHOLE, "Cells edited": WHOLE},
    )


def describe_tabs(target: str | Path | Backend) -> list[dict[str, Any]]:
    """Each tab: its name, whose it is (owner or tool), data rows, header row, which
    owner tab it is read as (``kind``; None when it is not read), and a ``note`` when
    that needs saying: another tab is read as its kind, or several tabs could be the
    same owner tab and a run would refuse until the owner says which (``warning``)."""
    from .config import owner_tab_choices
    from .workbook import TAB_SETTINGS, TOOL_TABS

    _backend, workbook = read_workbook(target)
    choices = owner_tab_choices(workbook)
    out = []
    for name, table in workbook.tables.items():
        owner = "sheet-crm" if name in TOOL_TABS else "you"
        could_be = table.kind if owner == "you" else None
        choice = choices.get(could_be) if could_be else None
        kind, note, warning = could_be, "", ""
        if choice is not None and choice.problem:
            kind, warning = None, f"{choice.problem} Fix: {choice.fix}"
        elif choice is not None and choice.table is not None and choice.table.name != name:
            how = f"chosen by {TAB_SETTINGS[could_be]}" if choice.how == "setting" else "by its exact name"
            kind = None
            note = f"not read; '{choice.table.name}' is read as {could_be}, {how}"
        out.append(
            {
                "tab": name,
                "owner": owner,
                "rows": len(table.rows),
                "header_row": table.header_row if table.headers else None,
                "kind": kind,
                "could_be": could_be,
                "note": note,
                "warning": warning,
            }
        )
    return out


def undo_merge(
    target: str | Path | Backend, cluster_id: str, *, dry_run: bool = False, now: datetime | None = None
) -> dict[str, Any]:
    """Put back what the merge of ``cluster_id`` changed, from the Merge Log."""
    from .steps.dedupe import undo_plan

    backend, workbook = read_workbook(target)
    plan, summary = undo_plan(workbook, cluster_id, now or datetime.now())
    written = None if dry_run else backend.write(plan, expected_version=workbook.version)
    return {
        "cluster": cluster_id,
        "summary": summary,
        "dry_run": dry_run,
        "would_write" if dry_run else "wrote": describe_plan(plan),
        "skipped_edits": [e.location.cell for e in (written.skipped_edits if written else [])],
    }
