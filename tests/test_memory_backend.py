"""The memory backend's own behaviour (the contract suite covers the shared part)."""

from __future__ import annotations

from datetime import datetime

import pytest

from sheet_crm.backends.memory import MemoryBackend
from sheet_crm.errors import WorkbookChanged
from sheet_crm.workbook import CellEdit, RowAppend, ToolTab, WritePlan


def backend() -> MemoryBackend:
    return MemoryBackend(
        {
            "Customers": [["Customer ID", "Name"], [None, "Ann"], ["C-2", "Bob"]],
            "Interactions": [["Date", "Customer", "Summary"], ["2026-01-01", "C-2", "call"]],
        }
    )


def test_edit_applies_only_when_cell_still_holds_expected() -> None:
    b = backend()
    wb = b.read()
    plan = WritePlan(
        edits=[
            CellEdit("Customers", 2, 1, None, "C-1", "new ID"),
            CellEdit("Customers", 3, 1, None, "C-9", "new ID"),  # not blank: must be skipped
        ]
    )
    report = b.write(plan, expected_version=wb.version)
    assert b.sheets["Customers"][1][0] == "C-1"
    assert b.sheets["Customers"][2][0] == "C-2"
    assert [e.row for e in report.skipped_edits] == [3]


def test_write_refuses_when_changed_since_read_and_writes_nothing() -> None:
    b = backend()
    wb = b.read()
    b.set_cell("Customers", 2, 2, "Anne")
    before = [list(r) for r in b.sheets["Customers"]]
    with pytest.raises(WorkbookChanged):
        b.write(WritePlan(tabs=[ToolTab("Issues", ["A"], [["x"]])]), expected_version=wb.version)
    assert b.sheets["Customers"] == before
    assert "Issues" not in b.sheets


def test_append_goes_after_last_row_matching_headers() -> None:
    b = backend()
    wb = b.read()
    b.write(
        WritePlan(appends=[RowAppend("Interactions", {"summary": "sent", "CUSTOMER": "C-1"}, "x")]),
        expected_version=wb.version,
    )
    assert b.sheets["Interactions"][-1] == [None, "C-1", "sent"]


def test_append_only_tab_keeps_old_rows() -> None:
    b = backend()
    when = datetime(2026, 11, 22, 8, 0)
    for n in (1, 2):
        wb = b.read()
        b.write(
            WritePlan(tabs=[ToolTab("Runs", ["Run"], [[n]], append_only=True)], generated_at=when),
            expected_version=wb.version,
        )
    assert [r[0] for r in b.sheets["Runs"][2:]] == [1, 2]
