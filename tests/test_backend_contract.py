"""The backend contract: the same tests run against every backend.

To add a backend, add one entry to ``FACTORIES``: a name and a function that builds a
``Harness`` (the backend plus a way to edit the workbook as its owner would) from a
dict of grids, ``grid[0]`` being sheet row 1.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from sheet_crm.backends.base import Backend
from sheet_crm.backends.memory import MemoryBackend
from sheet_crm.backends.xlsx import XlsxBackend
from sheet_crm.errors import WorkbookChanged
from sheet_crm.workbook import (
    Cell,
    CellEdit,
    RowAppend,
    ToolTab,
    WritePlan,
    previous_decisions,
)

WHEN = datetime(2026, 11, 22, 9, 30)
Grids = Mapping[str, Sequence[Sequence[Cell]]]


@dataclass
class Harness:
    backend: Backend
    owner_edit: Callable[[str, int, int, Cell], None]  # tab, row, column, value


def memory_harness(sheets: Grids, tmp_path: Path) -> Harness:
    backend = MemoryBackend(sheets)
    return Harness(backend, backend.set_cell)


def xlsx_harness(sheets: Grids, tmp_path: Path) -> Harness:
    """A new workbook made with openpyxl (fine for a file we create; never for the owner's)."""
    path = tmp_path / "crm.xlsx"
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, grid in sheets.items():
        ws = wb.create_sheet(name)
        for r, line in enumerate(grid, start=1):
            for c, value in enumerate(line, start=1):
                if value is not None:
                    ws.cell(r, c, value)
    wb.save(path)

    def owner_edit(tab: str, row: int, column: int, value: Cell) -> None:
        book = openpyxl.load_workbook(path)
        book[tab].cell(row, column, value)
        book.save(path)

    return Harness(XlsxBackend(path), owner_edit)


def gsheets_harness(sheets: Grids, tmp_path: Path) -> Harness:
    """A spreadsheet on the local Sheets API test server, reached through gspread."""
    from sheets_server import SheetsServer

    from sheet_crm.backends.gsheets import GoogleSheetsBackend

    server = SheetsServer()
    sid = server.create("CRM", {k: [list(r) for r in v] for k, v in sheets.items()})
    return Harness(
        GoogleSheetsBackend(sid, session=server.session()),
        lambda tab, row, column, value: server.owner_edit(sid, tab, row, column, value),
    )


FACTORIES: dict[str, Callable[[Grids, Path], Harness]] = {
    "memory": memory_harness,
    "xlsx": xlsx_harness,
    "gsheets": gsheets_harness,
}


@pytest.fixture(params=list(FACTORIES))
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[Grids], Harness]:
    factory = FACTORIES[request.param]
    return lambda sheets: factory(sheets, tmp_path)


CUSTOMERS: list[list[Cell]] = [
    ["Our customers 2026"],
    ["Customer ID", "Name", "Email", "Spend"],
    ["C1", "Ann Lee", "ann@x.org", 120],
    [None, None, None, None],
    ["C2", "Bob Ray", "bob@y.com", 80.5],
    [None, "Cy Dee", "cy@z.net", 0],
]


def plain(value: Cell) -> Cell:
    """Compare values as the owner sees them: a date is a midnight datetime, 3.0 is 3."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == "":
        return None
    return value


def rows_of(backend: Backend, tab: str) -> list[list[Cell]]:
    table = backend.read().tab(tab)
    assert table is not None, f"no tab {tab}"
    return [[plain(v) for v in row.values] for row in table.rows]


def test_read_keeps_sheet_row_numbers(make: Callable[[Grids], Harness]) -> None:
    backend = make({"Customers": CUSTOMERS}).backend
    table = backend.read().find("Customers")
    assert table is not None
    assert table.header_row == 2
    assert [r.number for r in table.rows] == [3, 5, 6]
    assert table.headers == ["Customer ID", "Name", "Email", "Spend"]
    assert [plain(table.value(r, "email")) for r in table.rows] == ["ann@x.org", "bob@y.com", "cy@z.net"]
    assert [plain(table.value(r, "spend")) for r in table.rows] == [120, 80.5, 0]


TOOL_ROWS: list[list[Cell]] = [
    ["C1", "Gold", 120, 1.25, True, date(2026, 1, 31), datetime(2026, 2, 1, 14, 30), "café ☕ 'quoted' <b>&"],
    ["C2", "Silver", -3, 0.1, False, None, None, "line one\nline two"],
    ["C3", None, 0, 1e-7, None, date(1999, 12, 31), None, "  padded  "],
]
TOOL_HEADERS = ["Customer ID", "Tier", "Orders", "Share", "Active", "Since", "Last seen", "Why"]


def test_tool_tab_round_trip(make: Callable[[Grids], Harness]) -> None:
    backend = make({"Customers": CUSTOMERS}).backend
    version = backend.read().version
    report = backend.write(
        WritePlan(tabs=[ToolTab("Tiers", TOOL_HEADERS, TOOL_ROWS)], generated_at=WHEN),
        expected_version=version,
    )
    assert report.tabs_written == ["Tiers"]
    workbook = backend.read()
    table = workbook.tab("Tiers")
    assert table is not None
    assert table.header_row == 2 and table.headers == TOOL_HEADERS
    assert [r.number for r in table.rows] == [3, 4, 5]
    expected = [[plain(v) for v in row] for row in TOOL_ROWS]
    assert rows_of(backend, "Tiers") == expected
    # the owner's tab is untouched
    assert rows_of(backend, "Customers") == [[plain(v) for v in r] for r in CUSTOMERS if any(r)][2:]


def test_formula_looking_text_stays_text(make: Callable[[Grids], Harness]) -> None:
    backend = make({"Customers": CUSTOMERS}).backend
    risky = ["=1+1", "+44 20 7946 0000", "-5 apples", "@SUM(A1:A2)", "\tTabbed", '=HYPERLINK("x")']
    plan = WritePlan(tabs=[ToolTab("Issues", ["Value"], [[v] for v in risky])], generated_at=WHEN)
    backend.write(plan, expected_version=backend.read().version)
    assert rows_of(backend, "Issues") == [[v] for v in risky]


def test_replacing_a_tool_tab_keeps_its_position(make: Callable[[Grids], Harness]) -> None:
    backend = make({"Customers": CUSTOMERS, "Orders": [["Order ID", "Customer"], ["O1", "C1"]]}).backend
    first = WritePlan(
        tabs=[ToolTab("Tiers", ["A"], [[1]]), ToolTab("Issues", ["B"], [[2]])], generated_at=WHEN
    )
    backend.write(first, expected_version=backend.read().version)
    order = list(backend.read().tables)
    assert order == ["Customers", "Orders", "Tiers", "Issues"]
    second = WritePlan(tabs=[ToolTab("Tiers", ["A", "C"], [[5, "x"], [6, "y"]])], generated_at=WHEN)
    backend.write(second, expected_version=backend.read().version)
    assert list(backend.read().tables) == order
    assert rows_of(backend, "Tiers") == [[5, "x"], [6, "y"]]
    assert rows_of(backend, "Issues") == [[2]]


def test_append_only_keeps_old_rows(make: Callable[[Grids], Harness]) -> None:
    backend = make({"Customers": CUSTOMERS}).backend
    for n in range(3):
        tab = ToolTab("Runs", ["Run", "Started"], [[n, datetime(2026, 11, 20 + n, 8)]], append_only=True)
        backend.write(WritePlan(tabs=[tab], generated_at=WHEN), expected_version=backend.read().version)
    assert rows_of(backend, "Runs") == [[n, datetime(2026, 11, 20 + n, 8)] for n in range(3)]


def test_cell_edit_only_when_cell_still_holds_expected(make: Callable[[Grids], Harness]) -> None:
    backend = make({"Customers": CUSTOMERS}).backend
    workbook = backend.read()
    good = CellEdit("Customers", 6, 1, None, "C3", "fill blank Customer ID")
    stale = CellEdit("Customers", 3, 3, "old@x.org", "new@x.org", "the cell no longer holds this")
    report = backend.write(
        WritePlan(edits=[good, stale], generated_at=WHEN), expected_version=workbook.version
    )
    assert report.cells_edited == 1
    assert report.skipped_edits == [stale]
    rows = rows_of(backend, "Customers")
    assert rows[2][0] == "C3"
    assert rows[0][2] == "ann@x.org"


def test_row_append_goes_after_the_last_row(make: Callable[[Grids], Harness]) -> None:
    backend = make({"Customers": CUSTOMERS}).backend
    append = RowAppend(
        "Customers", {"name": "Dee Ann", "E-mail": "dee@a.org", "Unknown": "x"}, "new customer"
    )
    report = backend.write(
        WritePlan(appends=[append], generated_at=WHEN), expected_version=backend.read().version
    )
    assert report.rows_appended == 1
    table = backend.read().find("Customers")
    assert table is not None
    last = table.rows[-1]
    assert last.number == 7
    assert [plain(v) for v in last.values] == [None, "Dee Ann", "dee@a.org", None]


def test_change_between_read_and_write_writes_nothing(make: Callable[[Grids], Harness]) -> None:
    harness = make({"Customers": CUSTOMERS})
    workbook = harness.backend.read()
    harness.owner_edit("Customers", 3, 2, "Ann Leigh")
    plan = WritePlan(
        tabs=[ToolTab("Tiers", ["A"], [[1]])],
        edits=[CellEdit("Customers", 6, 1, None, "C3", "fill")],
        generated_at=WHEN,
    )
    with pytest.raises(WorkbookChanged) as info:
        harness.backend.write(plan, expected_version=workbook.version)
    assert "nothing was written" in str(info.value)
    after = harness.backend.read()
    assert after.tab("Tiers") is None
    assert rows_of(harness.backend, "Customers")[2][0] is None


def test_decisions_carry_over(make: Callable[[Grids], Harness]) -> None:
    harness = make({"Customers": CUSTOMERS})
    backend = harness.backend
    tab = ToolTab(
        "Duplicates",
        ["Pair", "Customer A", "Customer B", "Decision"],
        [["P1", "C1", "C2", None], ["P2", "C2", "C3", None]],
        decision_columns=("Decision",),
        key_columns=("Customer A", "Customer B"),
    )
    backend.write(WritePlan(tabs=[tab], generated_at=WHEN), expected_version=backend.read().version)
    harness.owner_edit("Duplicates", 4, 4, "merge")  # the owner approves the second pair
    workbook = backend.read()
    decisions = previous_decisions(workbook, "Duplicates", tab.key_columns, tab.decision_columns)
    assert decisions == {("C2", "C3"): {"Decision": "merge"}}


@pytest.mark.parametrize("name", ["Café 'Élite' ünï", "Q&A <new>", "Ταξινόμηση"])
def test_unicode_and_quotes_in_tab_names(make: Callable[[Grids], Harness], name: str) -> None:
    backend = make({"Customers": CUSTOMERS, name: [["Note", "Value"], ["a", 1]]}).backend
    plan = WritePlan(tabs=[ToolTab(name + " 2", ["K"], [["v"]])], generated_at=WHEN)
    backend.write(plan, expected_version=backend.read().version)
    workbook = backend.read()
    assert list(workbook.tables) == ["Customers", name, name + " 2"]
    assert rows_of(backend, name) == [["a", 1]]
    assert rows_of(backend, name + " 2") == [["v"]]


def test_an_xlsx_sync_never_loads_the_google_backend(tmp_path: Path) -> None:
    """The Google client libraries are imported only for a Google Sheet: a whole
    `sheet-crm sync` of an .xlsx, in a fresh interpreter, leaves them unloaded."""
    path = xlsx_harness({"Customers": CUSTOMERS}, tmp_path).backend.label
    script = (
        "import sys\n"
        "from sheet_crm.cli import cli\n"
        "try:\n"
        f"    cli(['sync', {path!r}, '--today', '2026-11-22'], prog_name='sheet-crm')\n"
        "except SystemExit as done:\n"
        "    code = done.code\n"
        "loaded = [m for m in sys.modules if m.startswith(('gspread', 'google.', 'sheet_crm.backends.g'))]\n"
        "print(code, 'sheet_crm.backends.xlsx' in sys.modules, sorted(loaded))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1] == "0 True []"
