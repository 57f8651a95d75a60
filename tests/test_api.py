"""The pipeline: one read, the steps, one write; recompute on concurrent edits;
incremental sync."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from conftest import TODAY

from sheet_crm import api
from sheet_crm.backends.memory import MemoryBackend
from sheet_crm.errors import AmbiguousTab, NotWritable, UsageError, WorkbookChanged
from sheet_crm.workbook import Workbook

NOW = datetime(2026, 11, 22, 9, 0)


class CountingBackend(MemoryBackend):
    """Counts reads and writes; can play an owner who edits right after each read."""

    def __init__(self, sheets, edits_after_read: int = 0) -> None:  # type: ignore[no-untyped-def]
        super().__init__(sheets)
        self.reads = 0
        self.edits_after_read = edits_after_read

    def read(self) -> Workbook:
        self.reads += 1
        wb = super().read()
        if self.edits_after_read:
            self.edits_after_read -= 1
            self.set_cell("Customers", 2, 2, f"Ann (edit {self.reads})")
        return wb


def sheets() -> dict[str, list[list[object]]]:
    return {
        "Customers": [
            ["Customer ID", "First name", "Last name", "Email", "Email opt-in"],
            ["C-00001", "Ann", "Lee", "ann@example.com", "yes"],
            ["C-00002", "Bob", "Ray", "bob@example.org", "no"],
        ],
        "Orders": [
            ["Order ID", "Customer", "Date", "Amount", "Product"],
            ["1", "C-00001", "2026-01-05", 120, "Tea set"],
            ["2", "C-00001", "2026-06-01", 80, "Teapot"],
            ["3", "bob@example.org", "2025-12-24", 40, "Mug"],
        ],
    }


def test_sync_reads_once_and_writes_once() -> None:
    b = CountingBackend(sheets())
    report = api.run(b, api.COMMAND_STEPS["sync"], today=TODAY, now=NOW, command="sync")
    assert (b.reads, b.writes) == (1, 1)
    assert report.written is not None
    assert {"Issues", "Tiers", "Segment Members", "Duplicates", "Outreach", "Dashboard", "Runs"} <= set(
        report.written.tabs_written
    )
    assert b.sheets["Customers"][1] == sheets()["Customers"][1]  # owner rows untouched


def test_an_owner_edit_during_the_run_is_recomputed() -> None:
    b = CountingBackend(sheets(), edits_after_read=1)
    report = api.run(b, ["tiers"], today=TODAY, now=NOW)
    assert (b.reads, b.writes) == (2, 1)
    tiers = b.sheets["Tiers"]
    assert any("Ann (edit 1)" in " ".join(map(str, row)) for row in tiers)  # the edit is in the result
    assert report.written is not None


def test_an_owner_who_keeps_editing_gets_a_clean_failure_and_nothing_written() -> None:
    b = CountingBackend(sheets(), edits_after_read=api.RECOMPUTE_ATTEMPTS)
    with pytest.raises(WorkbookChanged) as exc:
        api.run(b, ["tiers"], today=TODAY, now=NOW)
    assert "nothing was written" in exc.value.message
    assert b.writes == 0 and "Tiers" not in b.sheets
    assert b.reads == api.RECOMPUTE_ATTEMPTS


def test_incremental_sync_skips_when_nothing_changed_and_force_runs() -> None:
    b = CountingBackend(sheets())
    steps = api.COMMAND_STEPS["sync"]
    api.run(b, steps, today=TODAY, now=NOW, incremental=True)
    again = api.run(b, steps, today=TODAY, now=NOW, incremental=True)
    assert again.unchanged and again.written is None and b.writes == 1
    assert "Nothing changed" in again.summary_lines()[0]
    forced = api.run(b, steps, today=TODAY, now=NOW, incremental=True, force=True)
    assert not forced.unchanged and b.writes == 2
    b.set_cell("Orders", 5, 4, 999)  # the owner adds to an order
    b.sheets["Orders"][4] = ["4", "C-00002", "2026-11-01", 60, "Cosy"]
    after_edit = api.run(b, steps, today=TODAY, now=NOW, incremental=True)
    assert not after_edit.unchanged and b.writes == 3
    runs = b.sheets["Runs"]
    assert len([r for r in runs[2:] if r and r[0] is not None]) == 3


def test_dry_run_writes_nothing_but_describes_the_plan() -> None:
    b = CountingBackend(sheets())
    report = api.run(b, ["validate"], today=TODAY, now=NOW, dry_run=True)
    assert b.writes == 0 and "Issues" not in b.sheets
    described = api.describe_plan(report.plan)
    assert "Issues" in described["tabs"] and "Runs" in described["tabs"]
    assert report.to_dict()["would_write"] == described


SUPPLIERS = [["ID", "Name", "Email"], [None, "Acme Supplies", "sales@acme.example"]]


def test_a_supplier_tab_before_customers_is_left_alone() -> None:
    """The issue's case: 'Contacts' (suppliers) comes first; IDs go into Customers only."""
    b = CountingBackend({"Contacts": SUPPLIERS, **sheets()})
    b.sheets["Customers"].append([None, "Cy", "Fox", "cy@example.net", "yes"])
    report = api.run(b, ["validate"], today=TODAY, now=NOW)
    assert [(e.tab, e.row, e.value) for e in report.plan.edits] == [("Customers", 4, "C-00003")]
    assert b.sheets["Contacts"] == SUPPLIERS


def test_two_tabs_that_could_be_customers_stop_the_run_until_the_owner_chooses() -> None:
    data = {"Contacts": SUPPLIERS, "Clients": sheets()["Customers"]}
    b = CountingBackend(data)
    with pytest.raises(AmbiguousTab) as err:
        api.run(b, ["validate"], today=TODAY, now=NOW)
    assert err.value.exit_code == 2 and "'Contacts', 'Clients'" in err.value.message
    assert b.writes == 0
    b.sheets["Settings"] = [["Setting", "Value"], ["Customers tab", "Clients"]]
    report = api.run(b, ["validate"], today=TODAY, now=NOW)
    assert report.records is not None and report.records.tables["Customers"].name == "Clients"
    assert b.sheets["Contacts"] == SUPPLIERS


def test_describe_tabs_says_which_tab_is_read_and_warns_of_ambiguity() -> None:
    tabs = api.describe_tabs(MemoryBackend({"Contacts": SUPPLIERS, **sheets(), "Sales": [["Amount"]]}))
    shown = {t["tab"]: (t["kind"], t["could_be"], t["note"], t["warning"]) for t in tabs}
    assert shown["Customers"] == ("Customers", "Customers", "", "")
    assert shown["Contacts"][:2] == (None, "Customers")
    assert "'Customers' is read as Customers, by its exact name" in shown["Contacts"][2]
    assert shown["Orders"][0] == "Orders" and shown["Sales"][0] is None
    both = api.describe_tabs(MemoryBackend({"Contacts": SUPPLIERS, "Clients": sheets()["Customers"]}))
    assert [t["kind"] for t in both] == [None, None]
    assert all("Several tabs could be the Customers tab" in t["warning"] for t in both)
    assert all("customers_tab" in t["warning"] for t in both)


# ---------------------------------------------------------------- one function per command


@pytest.fixture
def run_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The run log goes to a scratch folder, and the logger is as it was afterwards (the
    functions that log configure the "sheet_crm" logger, as the CLI wants)."""
    monkeypatch.setenv("SHEET_CRM_LOG_DIR", str(tmp_path / "logs"))
    logger = logging.getLogger("sheet_crm")
    saved = (list(logger.handlers), logger.propagate, logger.level)
    yield tmp_path / "logs" / "sheet-crm.log"
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.handlers[:], logger.propagate, logger.level = saved


@pytest.mark.parametrize(("command", "dry_run"), [("tiers", False), ("drafts", True), ("sync", False)])
def test_a_command_says_how_many_progress_phases_it_has_and_fills_them(command: str, dry_run: bool) -> None:
    b = CountingBackend(sheets())
    phases: list[int] = []
    notes: list[str] = []
    report = api.run_command(
        command, b, today=TODAY, dry_run=dry_run, progress=notes.append, on_phases=phases.append
    )
    assert phases == [api.phase_count(command, dry_run=dry_run)]
    assert len(notes) == phases[0]  # read, each step, (write): the bar ends full
    assert notes[0] == "Reading the workbook" and report.dry_run is dry_run
    if not dry_run:
        assert notes[-1] == "Writing the workbook" and b.sheets["Runs"][2][3] == command


def test_segment_members_are_the_runs_own() -> None:
    b = CountingBackend(sheets())
    found = api.segment_members(b, "One-time buyers", today=TODAY)
    assert [m["customer_id"] for m in found.members] == ["C-00002"]
    assert found.members == found.report.outputs["segments"].result.members_of("One-time buyers")
    assert b.writes == 1 and "Segment Members" in b.sheets
    assert api.segment_members(b, "No such segment", today=TODAY, dry_run=True).members == []
    assert b.writes == 1


def test_export_drafts_runs_drafts_then_writes_the_approved_ones(tmp_path: Path) -> None:
    b = CountingBackend(sheets())
    api.run_command("drafts", b, today=TODAY)
    outreach = b.sheets["Outreach"]
    status = outreach[1].index("Status")
    outreach[2][status] = "approve"  # the owner approves Ann's draft
    folder = tmp_path / "outbox"
    planned = api.export_drafts(b, folder, today=TODAY, dry_run=True)
    assert planned.written is None and not planned.folder_existed and not folder.exists()
    assert [n.endswith(".eml") for n in planned.plan.names] == [True]
    assert b.writes == 1
    done = api.export_drafts(b, folder, today=TODAY)
    assert done.written is not None and [p.name for p in done.written.written] == planned.plan.names
    assert b"To: Ann Lee <ann@example.com>" in (folder / planned.plan.names[0]).read_bytes()
    assert b.writes == 2
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    with pytest.raises(NotWritable):
        api.export_drafts(b, a_file, today=TODAY)
    assert b.writes == 2  # refused before the workbook was written


def test_init_workbook_dry_run_checks_like_the_real_one_and_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "crm.xlsx"
    planned = api.init_workbook("shop", target, dry_run=True)
    assert not target.exists() and planned.dry_run
    tabs = {name: (headers, examples) for name, headers, examples in planned.tabs}
    assert "Customers" in tabs and tabs["Customers"][0][:2] == ["Customer ID", "First name"]
    with pytest.raises(UsageError):
        api.init_workbook("no-such-template", target, dry_run=True)
    made = api.init_workbook("shop", target)
    assert made.path == target and target.is_file() and not made.dry_run
    with pytest.raises(UsageError) as exists:
        api.init_workbook("shop", target, dry_run=True)
    assert "already exists" in exists.value.message
    assert api.init_workbook("shop", target, dry_run=True, force=True).tabs == planned.tabs


def test_a_demo_dry_run_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "demo.xlsx"
    made = api.demo(target, customers=12, seed=1, today=TODAY, dry_run=True)
    assert made.path == target and not target.exists()
    assert made.report.dry_run and made.report.written is None
    assert not Path(made.report.source).exists()  # built and synced in a scratch folder
    assert list(tmp_path.iterdir()) == []


def _job(tmp_path: Path, steps: str = '["tiers"]') -> tuple[Path, Path]:
    workbook = api.init_workbook("shop", tmp_path / "crm.xlsx").path
    job = tmp_path / "job.toml"
    job.write_text(f'name = "Shop"\nworkbook = "crm.xlsx"\nsteps = {steps}\nevery = "hour"\n')
    return workbook, job


def test_run_job_holds_the_workbook_lock_unless_its_caller_does(tmp_path: Path, run_log: Path) -> None:
    from sheet_crm.errors import WorkbookLocked
    from sheet_crm.scheduling import workbook_lock

    workbook, job = _job(tmp_path, '["tiers", "drafts"]')
    before = workbook.read_bytes()
    with workbook_lock(str(workbook)):
        with pytest.raises(WorkbookLocked):
            api.run_job(job, today=TODAY)
        assert workbook.read_bytes() == before
        report = api.run_job(job, today=TODAY, lock=False)  # the scheduler holds it for its child
    assert report.steps == ["validate", "tiers", "segments", "dashboard", "outreach"]
    assert report.written is not None and "Outreach" in report.written.tabs_written
    assert "job='Shop' run workbook=" in run_log.read_text()


def test_watch_syncs_a_saved_workbook_and_waits_while_another_run_holds_it(
    tmp_path: Path, run_log: Path
) -> None:
    from sheet_crm.backends.xlsx import XlsxBackend
    from sheet_crm.scheduling import workbook_lock

    workbook, _job_file = _job(tmp_path)
    held = contextlib.ExitStack()
    held.enter_context(workbook_lock(str(workbook)))  # a job is running on the workbook
    looks: list[int] = []

    def sleep(_seconds: float) -> None:
        looks.append(1)
        if len(looks) == 1:  # the owner saves
            stat = workbook.stat()
            os.utime(workbook, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
        elif len(looks) == 3:  # a look later, the sync found the workbook held
            assert "Runs" not in XlsxBackend(workbook).read().tables
            held.close()  # the job ends
        elif len(looks) == 5:
            raise KeyboardInterrupt

    api.watch(workbook, debounce=0, interval=0, today=TODAY, sleep=sleep)
    runs = XlsxBackend(workbook).read().tables["Runs"]
    assert [row.values[3] for row in runs.rows] == ["watch"]
    log = run_log.read_text()
    assert log.count("sync waits: ") == 1 and "Another sheet-crm run" in log
    assert "stopped watching" in log
