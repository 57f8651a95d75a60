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
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .backends import Backend, open_backend
from .changes import content_hash, describe_changes, last_run_value
from .config import Settings, load_settings
from .errors import SheetCrmError, UsageError, WorkbookChanged
from .findings import Finding, FindingList, Severity
from .gcpause import paused_gc
from .model import Records, build_records
from .render import describe_plan, issues_tab
from .steps import STEPS, Context, StepOutput, load, plan_steps, records_after
from .workbook import WHOLE, ToolTab, Workbook, WritePlan, WriteReport

if TYPE_CHECKING:  # the I/O modules are imported where a command uses them
    from .auth import Identity
    from .errors import ConfigError
    from .export import ExportPlan, ExportReport
    from .scheduling import Job, Outcome
    from .starter import TemplateInfo

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


# ---------------------------------------------------------------- one function per command
#
# Each `sheet-crm` command parses its arguments, calls exactly one of these, renders what
# it returns and exits (tests/test_architecture.py checks it). A scheduled job or a test
# makes the same call. I/O modules (export, scheduling, logs, starter, demo, auth) are
# imported where they are used, so a command loads only what it needs.

PhaseCount = Callable[[int], None]


def phase_count(command: str, *, dry_run: bool = False) -> int:
    """How many progress phases ``run_command`` reports: the read, each step, the write."""
    return len(plan_steps(COMMAND_STEPS[command])) + (1 if dry_run else 2)


def run_command(
    command: str,
    target: str | Path | Backend,
    *,
    today: date | None = None,
    dry_run: bool = False,
    options: Mapping[str, Any] | None = None,
    force: bool = False,
    progress: Progress | None = None,
    on_phases: PhaseCount | None = None,
) -> RunReport:
    """What ``sheet-crm COMMAND WORKBOOK`` does for the step commands (validate, dedupe,
    tiers, segment, drafts, sync): the command's steps in one run, recorded in Runs under
    the command's name; ``sync`` is incremental (``force`` runs it anyway).
    ``on_phases`` is told the number of progress phases before the first message."""
    if command not in COMMAND_STEPS:
        raise UsageError(
            f"There is no command called {command!r}.", f"Use one of: {', '.join(COMMAND_STEPS)}."
        )
    if on_phases is not None:
        on_phases(phase_count(command, dry_run=dry_run))
    return run(
        target,
        COMMAND_STEPS[command],
        today=today,
        dry_run=dry_run,
        options=options,
        command=command,
        progress=progress,
        incremental=command == "sync",
        force=force,
    )


def sync(
    target: str | Path | Backend,
    *,
    today: date | None = None,
    dry_run: bool = False,
    force: bool = False,
    progress: Progress | None = None,
    on_phases: PhaseCount | None = None,
    log: bool = False,
    log_json: bool = False,
) -> RunReport:
    """``sheet-crm sync``: every step in one read and one write (see ``run_command``).
    With ``log``, a run that was not a dry run logs its one line (counts only) to stderr
    and to ``sheet-crm.log`` (``logs.setup_logging``), as JSON with ``log_json``."""
    report = run_command(
        "sync", target, today=today, dry_run=dry_run, force=force, progress=progress, on_phases=on_phases
    )
    if log and not dry_run:
        import logging

        from .logs import LOGGER, run_line, setup_logging

        setup_logging(as_json=log_json, to_file=True)
        line, fields = run_line(report)
        logging.getLogger(LOGGER).info(line, extra={"fields": fields})
    return report


@dataclass
class SegmentMembers:
    """Who is in one segment, from the run that put them there."""

    segment: str
    members: list[dict[str, Any]]  # customer_id, name, reason
    report: RunReport


def segment_members(
    target: str | Path | Backend,
    segment: str,
    *,
    today: date | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    on_phases: PhaseCount | None = None,
) -> SegmentMembers:
    """``sheet-crm segment --show NAME``: the segment run (written like ``segment``, unless
    ``dry_run``) and the members of ``segment`` (none when there is no such segment)."""
    report = run_command(
        "segment",
        target,
        today=today,
        dry_run=dry_run,
        options={"show": segment},
        progress=progress,
        on_phases=on_phases,
    )
    return SegmentMembers(segment, report.outputs["segments"].result.members_of(segment), report)


@dataclass
class DraftsExport:
    """A drafts run and the export of its approved drafts (``sheet_crm.export``)."""

    report: RunReport
    folder: Path
    plan: ExportPlan  # every file, and each approved draft left out with why
    folder_existed: bool
    written: ExportReport | None = None  # None on a dry run


def export_drafts(
    target: str | Path | Backend,
    export_dir: str | Path,
    *,
    today: date | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    on_phases: PhaseCount | None = None,
) -> DraftsExport:
    """``sheet-crm drafts --export DIR``: run drafts, then write the approved drafts as
    files in ``export_dir``. A folder that cannot take them is refused before the
    workbook is written; the workbook is written first, and if the disk fails half-way
    the ``ExportFailed`` names the files that were written. On a dry run nothing is
    written and the result lists the files it would export."""
    from .export import ExportFailed, check_export_dir, plan_export, write_export

    folder = Path(export_dir)
    folder_existed = check_export_dir(folder)
    report = run_command(
        "drafts", target, today=today, dry_run=dry_run, progress=progress, on_phases=on_phases
    )
    plan = plan_export(report.outputs["outreach"].result)
    result = DraftsExport(report, folder, plan, folder_existed)
    if dry_run:
        return result
    try:
        result.written = write_export(plan, folder)
    except ExportFailed as exc:
        raise ExportFailed(
            f"The workbook {report.source} was written, then the export stopped: {exc.message}",
            exc.fix,
            exc.written,
        ) from exc
    return result


@dataclass
class NewWorkbook:
    """A workbook ``init_workbook`` created, or on a dry run would create."""

    path: Path
    template: str
    dry_run: bool
    tabs: list[tuple[str, list[str], int]] = field(default_factory=list)  # dry run: tab, headers, examples


def init_workbook(
    template: str, path: str | Path, *, force: bool = False, dry_run: bool = False
) -> NewWorkbook:
    """``sheet-crm init``: a new CRM workbook from a starter template. A dry run checks
    what the real one would (the template exists, the file does not unless ``force``)
    and lists the tabs it would create, writing nothing."""
    from .starter import build_workbook, load_template

    path = Path(path)
    if not dry_run:
        return NewWorkbook(build_workbook(template, path, overwrite=force), template, False)
    spec = load_template(template)  # an unknown template raises the usual clear error
    if path.exists() and not force:
        raise UsageError(f"{path} already exists.", "Choose another file name, or add --force.")
    return NewWorkbook(path, template, True, [(t.name, list(t.headers), len(t.rows)) for t in spec.tabs])


def list_templates() -> list[TemplateInfo]:
    """``sheet-crm templates``: the starter templates."""
    from .starter import list_templates as templates

    return list(templates())


@dataclass
class Demo:
    """The demo workbook and the sync that ran on it."""

    path: Path  # where it was written (on a dry run: where it would be)
    customers: int
    report: RunReport


def demo(
    path: str | Path,
    *,
    customers: int = 200,
    seed: int = 7,
    today: date | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    on_phases: PhaseCount | None = None,
) -> Demo:
    """``sheet-crm demo``: write a realistic demo workbook (``demo.write_demo``), then sync
    it. A dry run builds it in a scratch folder, computes the sync there and leaves
    nothing behind."""
    import tempfile

    from .demo import write_demo

    day = today or date.today()
    if dry_run:
        with tempfile.TemporaryDirectory() as scratch:
            made = write_demo(Path(scratch) / Path(path).name, customers=customers, seed=seed, today=day)
            report = run_command(
                "sync", str(made), today=today, dry_run=True, progress=progress, on_phases=on_phases
            )
        return Demo(Path(path), customers, report)
    created = write_demo(Path(path), customers=customers, seed=seed, today=day)
    report = run_command("sync", str(created), today=today, progress=progress, on_phases=on_phases)
    return Demo(created, customers, report)


# ---------------------------------------------------------------- jobs, the scheduler, watch


def job_steps(job_commands: Sequence[str]) -> list[str]:
    """A job's ``steps`` (command names: sync, tiers, drafts...) as the steps to run,
    each once, in the order first named."""
    steps: list[str] = []
    for name in job_commands:
        steps.extend(s for s in COMMAND_STEPS[name] if s not in steps)
    return steps


def run_job(
    job_file: str | Path,
    *,
    today: date | None = None,
    dry_run: bool = False,
    lock: bool = True,
    log_json: bool = False,
) -> RunReport:
    """``sheet-crm run-job FILE``: run one job file once (cron, systemd, Task Scheduler).

    Sets up the run log (stderr and ``sheet-crm.log``; JSON with ``log_json``), reads the
    job (a problem raises ``ConfigError`` naming file and line), holds the workbook's lock
    (``scheduling.workbook_lock``; another run on it raises ``WorkbookLocked``), runs the
    job's steps (incremental when they include sync) with the job's credentials, and logs
    one line. ``lock=False`` is for a caller that already holds the lock: the scheduler
    holds it around the child process that calls this.
    """
    import logging
    from contextlib import nullcontext

    from .logs import LOGGER, run_line, setup_logging
    from .scheduling import load_job, workbook_lock

    setup_logging(as_json=log_json)
    job = load_job(Path(job_file))
    with workbook_lock(job.lock_key) if lock else nullcontext():
        report = run(
            job.workbook,
            job_steps(job.steps),
            today=today,
            command=f"job {job.name}",
            incremental="sync" in job.steps,
            backend_options=job.backend_options(),
            dry_run=dry_run,
        )
    line, fields = run_line(report)
    logging.getLogger(LOGGER).info("job=%r %s", job.name, line, extra={"fields": fields})
    return report


def stop_on_sigterm() -> None:
    """Make SIGTERM (systemd's stop, the scheduler's timeout) unwind like Ctrl-C, so
    temporary files are removed; the workbook itself is replaced atomically, never
    half-written. For a process's entry point (the CLI, the scheduler's child).

    A signal can land while Python runs a finaliser (``__del__``), where an exception is
    printed as "Exception ignored" and dropped, so the run would go on: there the stop is
    sent again a moment later, to land in ordinary code."""
    import signal
    import threading
    from types import FrameType

    main = threading.main_thread()

    def again(signum: int) -> None:
        # To the main thread itself, so that a wait it is in ends at once (POSIX).
        if hasattr(signal, "pthread_kill") and main.ident is not None:
            signal.pthread_kill(main.ident, signum)
        else:
            signal.raise_signal(signum)

    def terminate(signum: int, frame: FrameType | None) -> None:
        while frame is not None:
            if frame.f_code.co_name == "__del__":
                threading.Timer(0.05, again, (signum,)).start()
                return
            frame = frame.f_back
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)


# The scheduler's child process: a fresh interpreter that calls run_job_child. It is a
# process, not a thread, so a hung job can be stopped at its timeout and a crash (even
# of the interpreter) cannot take the scheduler down; it calls the library, not the CLI,
# so nothing is parsed or rendered twice and no report is printed only to be thrown away.
JOB_CHILD_CODE = "import sys; from sheet_crm.api import run_job_child; sys.exit(run_job_child(*sys.argv[1:]))"


def run_job_isolated(job: Job, *, log_json: bool = False) -> Outcome:
    """The scheduler's runner: run ``job`` in a child process that calls ``run_job``
    (see ``JOB_CHILD_CODE``), stopped at the job's timeout."""
    import sys

    from .scheduling import subprocess_runner

    command = [sys.executable, "-c", JOB_CHILD_CODE, str(job.path)]
    return subprocess_runner(job, [*command, "--json"] if log_json else command)


def run_job_child(job_file: str, *flags: str) -> int:
    """The body of the scheduler's child process: ``run_job`` without the lock (the
    scheduler holds it for the child's whole life). Returns the exit code (0 clean,
    1 the data has errors, 2 or 3 failed); a failure is written to stderr as the CLI
    writes it (``Error:``/``Fix:``), which is what the scheduler logs. SIGTERM (the
    scheduler's timeout) unwinds like Ctrl-C, so temporary files are removed."""
    import sys

    stop_on_sigterm()
    try:
        return run_job(job_file, lock=False, log_json="--json" in flags).exit_code
    except SheetCrmError as exc:
        message, fix, code = str(exc), exc.fix, exc.exit_code
    except KeyboardInterrupt:
        message, fix, code = "Stopped before finishing; the workbook is as it was or fully written.", "", 3
    except Exception as exc:  # reported, never a traceback in the scheduler's log
        message = f"sheet-crm hit an unexpected problem ({type(exc).__name__}: {exc}); nothing was written."
        fix, code = "Run the job with `sheet-crm --debug run-job FILE` to see the details.", 3
    print(f"Error: {message}", file=sys.stderr)
    if fix:
        print(f"Fix: {fix}", file=sys.stderr)
    return code


def check_jobs(folder: str | Path) -> tuple[list[Job], list[ConfigError]]:
    """``sheet-crm jobs check``: the job files in ``folder`` that are good, and a
    ``ConfigError`` for each one that is not."""
    from .scheduling import check_jobs as check

    jobs, problems = check(Path(folder))
    return list(jobs), list(problems)


def schedule(folder: str | Path, *, log_json: bool = False) -> None:
    """``sheet-crm schedule``: run the jobs in ``folder`` on their timetables until
    SIGTERM or Ctrl-C (which stop it after the running job). Each job runs in its own
    process (``run_job_isolated``) while the scheduler holds the workbook's lock.
    Job files with problems, or none at all, raise ``UsageError`` before anything runs."""
    import logging
    from functools import partial

    from .logs import LOGGER, setup_logging
    from .scheduling import Scheduler
    from .scheduling import check_jobs as check

    path = setup_logging(as_json=log_json)
    jobs, problems = check(Path(folder))
    if problems:
        first = problems[0]
        raise UsageError(
            f"{len(problems)} job files have problems; the first: {first.where}: {first.message}", first.fix
        )
    if not jobs:
        raise UsageError(
            f"There are no job files in {folder}.",
            "Copy one of the examples in sync_jobs/ and change the workbook.",
        )
    scheduler = Scheduler(jobs, runner=partial(run_job_isolated, log_json=log_json))
    logger = logging.getLogger(LOGGER)
    for name, when in scheduler.next_runs():
        logger.info("scheduled job=%r next=%s", name, when)
    if path:
        logger.info("log file: %s", path)
    scheduler.run_forever()
    logger.info("scheduler stopped")


def watch(
    workbook: str | Path,
    *,
    debounce: float = 3.0,
    interval: float = 1.0,
    today: date | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """``sheet-crm watch``: sync a local workbook each time it is saved, until Ctrl-C.

    Each sync holds the workbook's lock, the same one ``run_job`` and the scheduler take,
    so a watch never runs beside a job on the same file: while another run (or Excel)
    holds the workbook, the sync waits and is tried again. Logs one line per sync.
    ``sleep`` waits between looks (tests pass one that edits the file or stops)."""
    import logging

    from .errors import WorkbookLocked
    from .logs import LOGGER, run_line, setup_logging
    from .scheduling import Watcher, lock_key, workbook_lock

    path = Path(workbook)
    if not path.is_file():
        raise UsageError(f"{path} is not a file.", "watch works on a local .xlsx workbook.")
    setup_logging()
    logger = logging.getLogger(LOGGER)
    key = lock_key(str(path))
    waiting = [False]

    def action() -> bool:
        try:
            with workbook_lock(key):
                report = run(str(path), COMMAND_STEPS["sync"], today=today, command="watch", incremental=True)
        except WorkbookLocked as exc:
            if not waiting[0]:  # said once per wait, not at every look
                logger.info("sync waits: %s", exc)
            waiting[0] = True
            return False
        except SheetCrmError as exc:
            logger.error("sync failed: %s Fix: %s", exc, exc.fix)
        else:
            logger.info(run_line(report)[0])
        waiting[0] = False
        return True

    watcher = Watcher(path, action, debounce=debounce)
    watcher.start()
    logger.info("watching %s (Ctrl-C to stop)", path)
    try:
        while True:
            watcher.poll()
            sleep(interval)
    except KeyboardInterrupt:
        logger.info("stopped watching")


# ---------------------------------------------------------------- Google sign-in


def auth_status(key_file: str | Path | None = None) -> Identity:
    """``sheet-crm auth status``: the Google identity a Google Sheet run would use
    (never a token or key)."""
    from . import auth

    return auth.status("auto", key_file)


def auth_login(client_secrets: str | Path | None = None, *, open_browser: bool = True) -> Identity:
    """``sheet-crm auth login``: sign in with the owner's Google account; the token is
    cached privately. Returns the identity now in use."""
    from . import auth

    return auth.login(client_secrets, open_browser=open_browser)
