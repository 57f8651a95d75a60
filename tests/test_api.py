"""The pipeline: one read, the steps, one write; recompute on concurrent edits;
incremental sync."""

from __future__ import annotations

from datetime import datetime

import pytest
from conftest import TODAY

from sheet_crm import api
from sheet_crm.backends.memory import MemoryBackend
from sheet_crm.errors import AmbiguousTab, WorkbookChanged
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
