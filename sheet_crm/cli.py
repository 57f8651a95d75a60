"""The command line: parse arguments, call one library function, render, exit.

Every command is a twin of one function in ``sheet_crm.api`` (``sheet-crm run-job`` is
``api.run_job``, ``sheet-crm segment --show`` is ``api.segment_members``...): what the
command does is in that function, so a scheduled job or a script makes the same call.
This module only parses, renders (with ``sheet_crm.render``) and picks the exit code;
it imports the api, the errors and rendering, nothing else of sheet-crm (import-linter
checks it, and tests/test_architecture.py that each command makes exactly one call).

Exit codes: 0 clean, 1 ran and found errors in the data, 2 usage, 3 could not run.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.table import Table as RichTable

from . import api
from ._version import __version__
from .errors import SheetCrmError
from .render import describe_plan, finding_line, sort_findings

F = TypeVar("F", bound=Callable[..., Any])

# emoji=False: a cell that says ":smile:" is printed as the owner typed it.
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
out = Console(highlight=False, soft_wrap=True, emoji=False)


def _echo_json(payload: Any, **dumps: Any) -> None:
    """--json output, written as it is: rich would spend seconds laying out the 16 MB
    report of a 10,000-customer sync, for nothing."""
    stream = out.file
    stream.write(json.dumps(payload, **dumps) + "\n")
    stream.flush()


# ---------------------------------------------------------------- shared options


def _remember_json(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    ctx.find_root().meta["sheet_crm.json"] = value
    return value


def json_option(f: F) -> F:
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        callback=_remember_json,
        help="Print the result as JSON (for scripts) instead of text.",
    )(f)


def dry_run_option(f: F) -> F:
    return click.option(
        "--dry-run", is_flag=True, help="Compute everything and show what would change; write nothing."
    )(f)


def today_option(f: F) -> F:
    return click.option(
        "--today",
        type=click.DateTime(["%Y-%m-%d"]),
        default=None,
        help="Pretend today is this date (YYYY-MM-DD); default: today.",
    )(f)


def workbook_argument(f: F) -> F:
    return click.argument("workbook", metavar="WORKBOOK")(f)


# ---------------------------------------------------------------- error handling


class CrmGroup(click.Group):
    """Turns every ``SheetCrmError`` into ``Error:``/``Fix:`` lines and its exit code;
    anything unexpected into a short message (the traceback only with ``--debug``)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SheetCrmError as exc:
            _fail(ctx, exc.exit_code, str(exc), exc.fix, exc)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            _fail(
                ctx,
                3,
                "Stopped before finishing. The workbook is either as it was or fully written, "
                "never half-written.",
                "Run the command again to finish.",
                None,
            )
        except Exception as exc:
            _fail(
                ctx,
                3,
                f"sheet-crm hit an unexpected problem ({type(exc).__name__}: {exc}); nothing was written.",
                "Run again with --debug to see the details, and report them.",
                exc,
            )


def _fail(ctx: click.Context, code: int, message: str, fix: str, exc: BaseException | None) -> None:
    debug = bool(ctx.find_root().params.get("debug"))
    if debug and exc is not None:
        err.print(traceback.format_exc(), markup=False)
    if _wants_json(ctx):
        payload: dict[str, Any] = {"error": message, "fix": fix, "exit_code": code}
        if isinstance(exc, SheetCrmError):
            payload["type"] = type(exc).__name__
        _echo_json(payload)
    err.print(f"Error: {message}", markup=False)
    if fix:
        err.print(f"Fix: {fix}", markup=False)
    ctx.exit(code)


def _wants_json(ctx: click.Context) -> bool:
    return bool(ctx.find_root().meta.get("sheet_crm.json"))


@click.group(cls=CrmGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sheet-crm")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
def cli(debug: bool) -> None:
    """sheet-crm: your customer spreadsheet, made into a CRM.

    Every command takes a WORKBOOK: a local .xlsx file, a Google Sheet URL, or
    gsheet:ID. Results go to tabs sheet-crm owns; your own tabs are never rewritten.

    \b
    Start here:
        sheet-crm demo demo/crm.xlsx      # a realistic demo workbook, fully processed
        sheet-crm init --template shop my-crm.xlsx
        sheet-crm sync my-crm.xlsx
    """


def main() -> None:
    api.stop_on_sigterm()  # SIGTERM unwinds like Ctrl-C: temporary files are removed
    # A cell may hold a broken character (half of a surrogate pair), and findings and
    # --json quote cells: written as \udc80 rather than failing the print after the
    # workbook was written. UTF-8 whatever the locale, so --json is always UTF-8.
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(encoding="utf-8", errors="backslashreplace")
    cli(prog_name="sheet-crm")


# ---------------------------------------------------------------- running steps


def _day(today: datetime | None) -> date | None:
    return today.date() if today else None


@contextmanager
def _progress(enabled: bool) -> Iterator[dict[str, Any]]:
    """A rich progress bar over a run's phases (read, each step, write), on a terminal
    only: the library says how many phases there are (``on_phases``), and each message
    it sends (``progress``) starts the next phase. Yields those two as keyword arguments."""
    if not enabled or not err.is_terminal:
        yield {}
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("Starting", total=None)
        seen = [0]

        def phases(total: int) -> None:
            bar.update(task, total=total)

        def note(message: str) -> None:
            if seen[0]:
                bar.advance(task)
            seen[0] += 1
            bar.update(task, description=message)

        yield {"progress": note, "on_phases": phases}


def _emit(
    report: api.RunReport, as_json: bool, *, extra: dict[str, Any] | None = None, show_findings: int = 20
) -> NoReturn:
    if as_json:
        payload = report.to_dict()
        if extra:
            payload.update(extra)
        _echo_json(payload, default=str, ensure_ascii=False)
        sys.exit(report.exit_code)
    for line in report.summary_lines():
        out.print(line, markup=False)
    findings = sort_findings(report.findings)
    if findings and show_findings:
        out.print(
            f"{len(report.errors)} errors, {len(report.warnings)} warnings "
            f"({len(findings)} findings in all).",
            markup=False,
        )
        for f in findings[:show_findings]:
            out.print("  " + finding_line(f), markup=False)
        if len(findings) > show_findings:
            out.print(
                f"  ... and {len(findings) - show_findings} more"
                + (" in the Issues tab." if not report.dry_run else "."),
                markup=False,
            )
    if report.dry_run:
        plan = describe_plan(report.plan)
        out.print("Dry run: nothing was written. It would write:", markup=False)
        for tab, n in plan["tabs"].items():
            out.print(f"  tab {tab}: {n} rows", markup=False)
        for e in plan["cell_edits"]:
            out.print(f"  cell {e['cell']}: {e['from']!r} -> {e['to']!r} ({e['reason']})", markup=False)
        for a in plan["appends"]:
            out.print(f"  append to {a['tab']}: {a['reason']}", markup=False)
    elif report.written is not None:
        w = report.written
        out.print(f"Wrote {', '.join(w.tabs_written)} to {report.source}.", markup=False)
        if w.cells_edited:
            out.print(f"Filled {w.cells_edited} cells in your tabs:", markup=False)
            for e in report.plan.edits:
                if e not in w.skipped_edits:
                    out.print(f"  {e.location.cell}: {e.value} ({e.reason})", markup=False)
        for e in w.skipped_edits:
            out.print(f"Left {e.location.cell} alone: it changed since it was read.", markup=False)
        if w.backup:
            out.print(f"Backup of the previous version: {w.backup}", markup=False)
    sys.exit(report.exit_code)


def step_command(name: str, help_text: str, *extra: Callable[[F], F]) -> Callable[[F], F]:
    """The shared shape of the step commands: WORKBOOK, --json, --dry-run, --today."""

    def decorate(f: F) -> F:
        for option in reversed(extra):
            f = option(f)
        f = today_option(dry_run_option(json_option(workbook_argument(f))))
        return cli.command(name, help=help_text)(f)  # type: ignore[return-value]

    return decorate


@step_command(
    "validate",
    """Check every row of your tabs and write the Issues tab.

    Emails, phones, names, dates, amounts, consent, references between tabs and the
    headers themselves. Customers without a Customer ID get one (only blank cells are
    filled). Exits 1 when there are errors.

    \b
    Example:
        sheet-crm validate my-crm.xlsx
        sheet-crm validate my-crm.xlsx --json > findings.json
    """,
    click.option("--check-domains", is_flag=True, help="Also look up each email's domain on the internet."),
)
def validate_cmd(
    workbook: str, as_json: bool, dry_run: bool, today: datetime | None, check_domains: bool
) -> None:
    with _progress(not as_json) as bar:
        report = api.run_command(
            "validate",
            workbook,
            today=_day(today),
            dry_run=dry_run,
            options={"check_domains": check_domains},
            **bar,
        )
    _emit(report, as_json)


@step_command(
    "dedupe",
    """Find customers who are probably the same person and write the Duplicates tab.

    Type merge or not duplicate in the Decision column; the next run carries it out.
    Every merge is logged in Merge Log and can be undone with `sheet-crm undo-merge`.

    \b
    Example:
        sheet-crm dedupe my-crm.xlsx
        sheet-crm dedupe my-crm.xlsx --auto-merge-above 0.99
    """,
    click.option(
        "--auto-merge-above",
        type=click.FloatRange(0.5, 1.0),
        default=None,
        help="Merge without asking when the match probability is above this.",
    ),
)
def dedupe_cmd(
    workbook: str, as_json: bool, dry_run: bool, today: datetime | None, auto_merge_above: float | None
) -> None:
    with _progress(not as_json) as bar:
        report = api.run_command(
            "dedupe",
            workbook,
            today=_day(today),
            dry_run=dry_run,
            options={"auto_merge_above": auto_merge_above},
            **bar,
        )
    _emit(report, as_json, show_findings=0)


@cli.command("undo-merge")
@workbook_argument
@click.argument("cluster_id")
@json_option
@dry_run_option
def undo_merge_cmd(workbook: str, cluster_id: str, as_json: bool, dry_run: bool) -> None:
    """Put back exactly what a merge changed, from the Merge Log.

    \b
    Example:
        sheet-crm undo-merge my-crm.xlsx D-0003
    """
    result = api.undo_merge(workbook, cluster_id, dry_run=dry_run)
    if as_json:
        _echo_json(result, default=str)
        return
    for line in result["summary"]:
        out.print(line, markup=False)


@step_command(
    "tiers",
    """Value tiers, RFM scores and lifetime value: the Tiers and Dashboard tabs.

    \b
    Example:
        sheet-crm tiers my-crm.xlsx
    """,
)
def tiers_cmd(workbook: str, as_json: bool, dry_run: bool, today: datetime | None) -> None:
    with _progress(not as_json) as bar:
        report = api.run_command("tiers", workbook, today=_day(today), dry_run=dry_run, **bar)
    _emit(report, as_json, show_findings=0)


@step_command(
    "segment",
    """Put customers into segments: the Segment Members and Dashboard tabs.

    Built-in segments plus your own rules in the Segments tab, for example
    tier in ("Platinum", "Gold") and days_since_last_order > 90.

    \b
    Example:
        sheet-crm segment my-crm.xlsx
        sheet-crm segment my-crm.xlsx --show "Lapsed VIPs"
    """,
    click.option("--show", "show", default=None, metavar="NAME", help="Print the members of one segment."),
)
def segment_cmd(
    workbook: str, as_json: bool, dry_run: bool, today: datetime | None, show: str | None
) -> None:
    if not show:
        with _progress(not as_json) as bar:
            report = api.run_command(
                "segment", workbook, today=_day(today), dry_run=dry_run, options={"show": show}, **bar
            )
        _emit(report, as_json, show_findings=0)
    with _progress(not as_json) as bar:
        found = api.segment_members(workbook, show, today=_day(today), dry_run=dry_run, **bar)
    if as_json:
        _echo_json({"segment": show, "members": found.members}, default=str)
        sys.exit(0)
    table = RichTable(title=f"{show}: {len(found.members)} customers")
    for column in ("Customer ID", "Name", "Reason"):
        table.add_column(column)
    for m in found.members:
        table.add_row(m["customer_id"], m["name"], m["reason"])
    out.print(table, markup=False)
    sys.exit(0)


@step_command(
    "drafts",
    """Draft personal messages for the customers who should hear from you now.

    Writes the Outreach tab; set Status to approve, skip or sent. With --export,
    approved email drafts become .eml files and SMS/phone drafts a CSV.

    \b
    Example:
        sheet-crm drafts my-crm.xlsx
        sheet-crm drafts my-crm.xlsx --export outbox/
    """,
    click.option(
        "--export",
        "export_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Folder for approved drafts (.eml and a CSV).",
    ),
)
def drafts_cmd(
    workbook: str, as_json: bool, dry_run: bool, today: datetime | None, export_dir: Path | None
) -> None:
    if export_dir is None:
        with _progress(not as_json) as bar:
            report = api.run_command("drafts", workbook, today=_day(today), dry_run=dry_run, **bar)
        _emit(report, as_json, show_findings=0)
    with _progress(not as_json) as bar:
        done = api.export_drafts(workbook, export_dir, today=_day(today), dry_run=dry_run, **bar)
    lines, extra = _export_lines(done)
    if not as_json:
        for line in lines:
            out.print(line, markup=False)
    _emit(done.report, as_json, extra=extra, show_findings=0)


def _export_lines(done: api.DraftsExport) -> tuple[list[str], dict[str, Any]]:
    """What an export says on the terminal, and what it adds to --json."""
    plan = done.plan
    lines = list(plan.notes)
    if plan.unexported:
        lines.append(f"Not exported: {len(plan.unexported)} approved drafts (see Issues):")
        lines += [f"  {u.draft_id[:40]}: {u.reason}" for u in plan.unexported]
    extra: dict[str, Any] = {
        "not_exported": [{"draft_id": u.draft_id, "reason": u.reason} for u in plan.unexported]
    }
    if done.written is None:  # a dry run
        extra["would_export"] = plan.names
        created = "" if done.folder_existed or not plan.files else " (the folder would be created)"
        lines.insert(0, f"Dry run: would export {len(plan.files)} files to {done.folder}{created}:")
        lines[1:1] = [f"  {name}" for name in plan.names]
    else:
        written = done.written
        extra["exported"] = [str(p) for p in written.written]
        extra["export_skipped"] = [{"file": name, "reason": why} for name, why in written.skipped]
        lines.insert(0, f"Exported {len(written.written)} files to {done.folder}.")
        lines += [f"Not written: {name}: {why}." for name, why in written.skipped]
    return lines, extra


@step_command(
    "sync",
    """Run everything: validate, dedupe, tiers, segments and drafts, in one read and one write.

    Prints what changed since the last run and adds a row to the Runs tab. When
    nothing in your tabs (or your decisions) changed since the last run today, it
    says so and writes nothing; --force runs anyway.

    \b
    Example:
        sheet-crm sync my-crm.xlsx
        sheet-crm sync my-crm.xlsx --force
    """,
    click.option("--force", is_flag=True, help="Run even when nothing changed since the last run."),
)
def sync_cmd(workbook: str, as_json: bool, dry_run: bool, today: datetime | None, force: bool) -> None:
    with _progress(not as_json) as bar:
        report = api.sync(
            workbook, today=_day(today), dry_run=dry_run, force=force, log=True, log_json=as_json, **bar
        )
    _emit(report, as_json)


# ---------------------------------------------------------------- jobs


@cli.command("run-job")
@click.argument("job_file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@today_option
@dry_run_option
def run_job_cmd(job_file: Path, as_json: bool, today: datetime | None, dry_run: bool) -> None:
    """Run one job file once (for cron, systemd timers or Task Scheduler).

    Takes the workbook's lock so it never overlaps another run on the same workbook.

    \b
    Example:
        sheet-crm run-job sync_jobs/demo-daily.toml
    """
    report = api.run_job(job_file, today=_day(today), dry_run=dry_run, log_json=as_json)
    _emit(report, as_json, show_findings=0)


@cli.group("jobs")
def jobs_group() -> None:
    """Scheduled job files (TOML) in sync_jobs/."""


@jobs_group.command("check")
@click.argument("folder", required=False, type=click.Path(path_type=Path), default=Path("sync_jobs"))
@json_option
def jobs_check_cmd(folder: Path, as_json: bool) -> None:
    """Check every job file in FOLDER; problems point at the file and line.

    \b
    Example:
        sheet-crm jobs check sync_jobs/
    """
    jobs, problems = api.check_jobs(folder)
    if as_json:
        _echo_json(
            {
                "jobs": [
                    {
                        "file": str(j.path),
                        "name": j.name,
                        "workbook": j.workbook,
                        "steps": list(j.steps),
                        "every": str(j.every),
                        "timezone": j.timezone,
                    }
                    for j in jobs
                ],
                "problems": [p.to_dict() for p in problems],
            }
        )
    else:
        for j in jobs:
            tz = f" ({j.timezone})" if j.timezone else ""
            out.print(f"ok   {j.path.name}: {j.name}: {', '.join(j.steps)} {j.every}{tz}", markup=False)
        for p in problems:
            out.print(f"FAIL {p.where}: {p.message} Fix: {p.fix}", markup=False)
        if not jobs and not problems:
            out.print(f"No job files (*.toml) in {folder}.", markup=False)
    sys.exit(2 if problems else 0)


@cli.command("schedule")
@click.argument("folder", required=False, type=click.Path(path_type=Path), default=Path("sync_jobs"))
@click.option("--json", "as_json", is_flag=True, help="Log one JSON object per line.")
def schedule_cmd(folder: Path, as_json: bool) -> None:
    """Run the jobs in FOLDER on their timetables until stopped (Ctrl-C or SIGTERM
    stop after the job that is running).

    \b
    Example:
        sheet-crm schedule sync_jobs/
    """
    api.schedule(folder, log_json=as_json)


@cli.command("watch")
@workbook_argument
@click.option(
    "--debounce",
    type=float,
    default=3.0,
    show_default=True,
    help="Seconds the file must stay unchanged before a sync.",
)
@click.option("--interval", type=float, default=1.0, show_default=True, help="Seconds between looks.")
def watch_cmd(workbook: str, debounce: float, interval: float) -> None:
    """Run sync each time a local workbook is saved (waits until Excel or LibreOffice
    has closed it, and while a job runs on it). Stop with Ctrl-C.

    \b
    Example:
        sheet-crm watch my-crm.xlsx
    """
    api.watch(workbook, debounce=debounce, interval=interval)


# ---------------------------------------------------------------- workbooks


@cli.command("tabs")
@workbook_argument
@json_option
def tabs_cmd(workbook: str, as_json: bool) -> None:
    """List the tabs of a workbook: whose each is (yours or sheet-crm's) and how many rows.

    \b
    Example:
        sheet-crm tabs my-crm.xlsx
    """
    tabs = api.describe_tabs(workbook)
    if as_json:
        _echo_json(tabs)
        return
    table = RichTable()
    for column in ("Tab", "Owner", "Rows", "Header row", "Reads as"):
        table.add_column(column)
    for t in tabs:
        reads_as = t["kind"] or "-"
        if t["warning"]:
            reads_as = f"{t['could_be']}? (see below)"
        elif t["note"]:
            reads_as = f"- ({t['note']})"
        table.add_row(t["tab"], t["owner"], str(t["rows"]), str(t["header_row"] or "-"), reads_as)
    out.print(table, markup=False)
    for warning in dict.fromkeys(t["warning"] for t in tabs if t["warning"]):
        err.print(f"Warning: {warning}", markup=False)


@cli.command("templates")
@json_option
def templates_cmd(as_json: bool) -> None:
    """List the starter templates for `sheet-crm init`.

    \b
    Example:
        sheet-crm templates
    """
    items = api.list_templates()
    if as_json:
        _echo_json([{"name": t.name, "title": t.title, "description": t.description} for t in items])
        return
    for t in items:
        out.print(f"{t.name:<10} {t.title}: {t.description}", markup=False)


@cli.command("init")
@click.option(
    "--template",
    "template",
    default="shop",
    show_default=True,
    help="Which kind of business (see `sheet-crm templates`).",
)
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
@dry_run_option
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def init_cmd(template: str, force: bool, dry_run: bool, path: Path) -> None:
    """Create a new CRM workbook from a starter template.

    \b
    Example:
        sheet-crm init --template hotel my-crm.xlsx
    """
    made = api.init_workbook(template, path, force=force, dry_run=dry_run)
    if made.dry_run:
        out.print(f"Dry run: nothing was written. It would create {made.path} with the tabs:", markup=False)
        out.print("  About: what every tab and column is for", markup=False)
        for name, headers, examples in made.tabs:
            out.print(f"  {name}: {', '.join(headers)} ({examples} example rows)", markup=False)
        return
    out.print(
        f"Created {made.path} from the '{template}' template. "
        f"Open it, replace the example rows with your customers, then run "
        f"`sheet-crm sync {made.path}`.",
        markup=False,
    )


@cli.command("demo")
@click.argument(
    "path",
    required=False,
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("demo/sheet-crm-demo.xlsx"),
)
@click.option("--customers", type=click.IntRange(10, 200_000), default=200, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@today_option
@json_option
@dry_run_option
def demo_cmd(
    path: Path, customers: int, seed: int, today: datetime | None, as_json: bool, dry_run: bool
) -> None:
    """Write a realistic demo workbook (with the mistakes real sheets have), then run
    every step on it.

    \b
    Example:
        sheet-crm demo demo/crm.xlsx --customers 500 --seed 3
    """
    with _progress(not as_json) as bar:
        made = api.demo(path, customers=customers, seed=seed, today=_day(today), dry_run=dry_run, **bar)
    report = made.report
    if dry_run:
        if not as_json:
            out.print(f"Would create {made.path} ({made.customers} customers).", markup=False)
        _emit(report, as_json, show_findings=0)
    if as_json:
        _emit(report, as_json)
    out.print(f"Created demo workbook {made.path} ({made.customers} customers).", markup=False)
    for line in report.summary_lines():
        out.print(line, markup=False)
    out.print(
        f"{len(report.errors)} errors and {len(report.warnings)} warnings found "
        f"(the demo has them on purpose).",
        markup=False,
    )
    out.print(
        f"Open {made.path} and look at the tabs: "
        + ", ".join(report.written.tabs_written if report.written else [])
        + ".",
        markup=False,
    )
    sys.exit(0)


# ---------------------------------------------------------------- Google sign-in


@cli.group("auth")
def auth_group() -> None:
    """Which Google identity sheet-crm uses for Google Sheets, and signing in."""


@auth_group.command("status")
@click.option("--key-file", type=click.Path(dir_okay=False), default=None, help="A service-account key.")
@json_option
def auth_status_cmd(key_file: str | None, as_json: bool) -> None:
    """Show which Google identity will be used (never a token or key).

    \b
    Example:
        sheet-crm auth status
    """
    identity = api.auth_status(key_file)
    if as_json:
        _echo_json(identity.to_dict())
    elif identity.kind == "none":
        out.print(f"No Google identity: {identity.source}", markup=False)
        if identity.fix:
            out.print(f"Fix: {identity.fix}", markup=False)
    else:
        out.print(f"sheet-crm will use {identity.describe()}.", markup=False)
        if identity.kind == "service-account" and identity.email:
            out.print(f"Share each sheet with {identity.email} (Editor).", markup=False)
    sys.exit(0 if identity.kind != "none" else 3)


@auth_group.command("login")
@click.option("--client-secrets", type=click.Path(dir_okay=False), default=None, help="OAuth client file.")
@click.option("--no-browser", is_flag=True, help="Print the sign-in link instead of opening a browser.")
def auth_login_cmd(client_secrets: str | None, no_browser: bool) -> None:
    """Sign in with your own Google account; the token is kept in your config folder (mode 0600).

    \b
    Example:
        sheet-crm auth login --client-secrets client_secret.json
    """
    identity = api.auth_login(client_secrets, open_browser=not no_browser)
    out.print(f"Signed in. sheet-crm will use {identity.describe()}.", markup=False)


if __name__ == "__main__":  # pragma: no cover
    main()
