"""The Google Sheets backend against the local Sheets/Drive test server.

Everything goes through gspread's HTTP client and a real ``requests.Session``; only the
transport is local (``SheetsServer.session()``), so request counts and bodies are real.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from conftest import TODAY
from sheets_server import SheetsServer

from sheet_crm import api
from sheet_crm.backends import open_backend
from sheet_crm.backends.gsheets import GoogleSheetsBackend, spreadsheet_id, to_cell
from sheet_crm.errors import UsageError, WorkbookTooLarge
from sheet_crm.workbook import CellEdit, CellError, ChartSpec, RowAppend, ToolTab, WritePlan

WHEN = datetime(2026, 11, 22, 9, 30)


def customers(n: int) -> list[list[Any]]:
    rows: list[list[Any]] = [["Customer ID", "First name", "Last name", "Email", "Customer since"]]
    for i in range(1, n + 1):
        rows.append([f"C{i}", f"Ann{i}", "Lee", f"ann{i}@example.org", date(2024, 1 + i % 12, 1 + i % 27)])
    return rows


def orders(n: int, people: int) -> list[list[Any]]:
    rows: list[list[Any]] = [["Order ID", "Customer", "Date", "Amount", "Product"]]
    for i in range(1, n + 1):
        rows.append([f"O{i}", f"C{1 + i % people}", date(2026, 1 + i % 11, 1 + i % 28), 10 + i % 90, "Tea"])
    return rows


@pytest.fixture
def server() -> SheetsServer:
    return SheetsServer()


def backend_for(server: SheetsServer, sid: str) -> GoogleSheetsBackend:
    return GoogleSheetsBackend(sid, session=server.session())


def tool_plan(rows: int) -> WritePlan:
    tab = ToolTab(
        "Tiers",
        ["Customer", "Tier", "Why"],
        [[f"C{i}", "Gold" if i % 2 else "Silver", f"spent {i}"] for i in range(rows)],
        decision_columns=(),
    )
    return WritePlan(tabs=[tab], generated_at=WHEN)


def plain(value: Any) -> Any:
    """Values as the owner sees them: a date is its midnight, 246.0 is 246."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# ---------------------------------------------------------------- targets


def test_spreadsheet_id_from_url_and_prefix() -> None:
    url = "https://docs.google.com/spreadsheets/d/1AbC_def-GHIjklmnop/edit#gid=0"
    assert spreadsheet_id(url) == "1AbC_def-GHIjklmnop"
    assert spreadsheet_id("gsheet:1AbC_def-GHIjklmnop") == "1AbC_def-GHIjklmnop"
    with pytest.raises(UsageError):
        spreadsheet_id("gsheet:")


def test_open_backend_routes_gsheet_targets(server: SheetsServer) -> None:
    sid = server.create("Shop", {"Customers": customers(2)})
    backend = open_backend(f"gsheet:{sid}", session=server.session())
    assert isinstance(backend, GoogleSheetsBackend)
    assert backend.read().tables["Customers"].rows[0].values[0] == "C1"
    assert backend.label == "Google Sheet 'Shop'"


# ---------------------------------------------------------------- reading


def test_read_converts_dates_by_number_format_and_pads_ragged_rows(server: SheetsServer) -> None:
    grid = [
        ["Customer ID", "Name", "Email", "Customer since", "Spend"],
        ["C1", "Ann", "ann@x.org", date(2025, 3, 4), 45658],  # 45658 is an amount, not a date
        ["C2", "Bob"],  # ragged: Google trims trailing blanks
        ["C3", "Cy", "cy@x.org", datetime(2025, 5, 6, 14, 30), True],
    ]
    sid = server.create("Shop", {"Customers": grid})
    table = backend_for(server, sid).read().tables["Customers"]
    assert [r.values for r in table.rows] == [
        ["C1", "Ann", "ann@x.org", datetime(2025, 3, 4), 45658],
        ["C2", "Bob", None, None, None],
        ["C3", "Cy", "cy@x.org", datetime(2025, 5, 6, 14, 30), True],
    ]
    assert [r.number for r in table.rows] == [2, 3, 4]


def test_read_is_three_requests_whatever_the_size(server: SheetsServer) -> None:
    counts = []
    for n in (5, 3000):
        sid = server.create("Shop", {"Customers": customers(n), "Orders": orders(n, n)})
        before = len(server.log)
        workbook = backend_for(server, sid).read()
        assert len(workbook.tables["Orders"].rows) == n
        counts.append(len(server.log) - before)
    assert counts == [3, 3]
    kinds = [(e.method, e.url.split("?")[0].rsplit("/", 1)[-1]) for e in server.log[-3:]]
    assert kinds[2][1] == "values:batchGet"
    assert "valueRenderOption=UNFORMATTED_VALUE" in server.log[-1].url
    assert "dateTimeRenderOption=SERIAL_NUMBER" in server.log[-1].url


def test_error_values_and_text_cells() -> None:
    assert to_cell("#N/A", None) == CellError("#N/A")
    assert to_cell("", None) is None
    assert to_cell(2.5, "DATE_TIME") == datetime(1900, 1, 1, 12, 0)
    assert to_cell(7, "NUMBER") == 7


# ---------------------------------------------------------------- writing


def test_tool_tab_layout_and_presentation(server: SheetsServer) -> None:
    sid = server.create("Shop", {"Customers": customers(3)})
    backend = backend_for(server, sid)
    wb = backend.read()
    tab = ToolTab(
        "Outreach",
        ["Customer", "Draft", "Decision"],
        [["C1", "Hello Ann", ""], ["C2", "Hello Bob", "send"]],
        decision_columns=("Decision",),
        key_columns=("Customer",),
        widths={"Draft": 60},
        charts=[ChartSpec("Drafts", "column", (1, 3, 4), (("n", 2, 3, 4),), anchor="E3")],
    )
    report = backend.write(WritePlan(tabs=[tab], generated_at=WHEN), expected_version=wb.version)
    assert report.tabs_written == ["Outreach"]
    grid = server.grid(sid, "Outreach")
    assert grid[0][0].startswith("Generated by sheet-crm on 2026-11-22 09:30.")
    assert grid[1:] == [["Customer", "Draft", "Decision"], ["C1", "Hello Ann"], ["C2", "Hello Bob", "send"]]
    sheet = server.sheet(sid, "Outreach")
    assert sheet.frozen_rows == 2
    assert sheet.basic_filter == {"range": {"sheetId": sheet.sheet_id, "startRowIndex": 1}}
    assert len(sheet.protected) == 1 and sheet.protected[0]["warningOnly"] is True
    assert "Generated by sheet-crm" in sheet.protected[0]["description"]
    assert "Decision" in sheet.protected[0]["description"]
    assert len(sheet.charts) == 1
    assert sheet.cell_format(1, 0)["textFormat"]["bold"] is True


def test_rewrite_keeps_the_tab_clears_stale_rows_and_replaces_charts(server: SheetsServer) -> None:
    sid = server.create("Shop", {"Customers": customers(3)})
    backend = backend_for(server, sid)
    chart = ChartSpec("Tiers", "bar", (1, 3, 5), (("n", 2, 3, 5),))
    plan = tool_plan(10)
    plan.tabs[0].charts = [chart]
    backend.write(plan, expected_version=backend.read().version)
    sheet_id = server.sheet(sid, "Tiers").sheet_id
    small = tool_plan(2)
    small.tabs[0].charts = [chart]
    backend.write(small, expected_version=backend.read().version)
    sheet = server.sheet(sid, "Tiers")
    assert sheet.sheet_id == sheet_id  # same tab: the owner's formulas pointing at it survive
    assert server.grid(sid, "Tiers")[2:] == [["C0", "Silver", "spent 0"], ["C1", "Gold", "spent 1"]]
    assert len(sheet.charts) == 1
    assert len(sheet.protected) == 1  # not added twice


def test_formula_looking_text_stays_text(server: SheetsServer) -> None:
    sid = server.create("Shop", {"Customers": customers(1)})
    backend = backend_for(server, sid)
    nasty = ['=HYPERLINK("http://evil")', "+1-555", "@SUM(A1)", "-2+3"]
    plan = WritePlan(tabs=[ToolTab("Issues", ["Value"], [[v] for v in nasty])], generated_at=WHEN)
    backend.write(plan, expected_version=backend.read().version)
    sheet = server.sheet(sid, "Issues")
    assert [sheet.get(r, 0) for r in range(2, 6)] == nasty
    assert not sheet.formulas
    again = backend.read().tables["Issues"]
    assert [r.values[0] for r in again.rows] == nasty


def test_owner_tabs_untouched_and_edits_key_checked(server: SheetsServer) -> None:
    grid = customers(3)
    grid[2][0] = None  # C2's id is blank
    grid[3][0] = None  # C3's id is blank
    sid = server.create("Shop", {"Customers": grid, "Orders": orders(4, 3)})
    backend = backend_for(server, sid)
    wb = backend.read()
    orders_before = server.grid(sid, "Orders")
    plan = tool_plan(3)
    plan.edits = [
        CellEdit("Customers", 3, 1, None, "C2", "blank customer id"),
        CellEdit("Customers", 4, 1, None, "C3", "blank customer id"),
    ]
    plan.appends = [RowAppend("Customers", {"Email": "new@x.org", "First name": "Dee"}, "test")]
    # the owner fills C3's id by hand after our read but before our write: same version
    # is simulated by editing without bumping (the key check must still catch it)
    server.sheet(sid, "Customers").put(3, 0, "OWN-3")
    report = backend.write(plan, expected_version=wb.version)
    assert report.cells_edited == 1
    assert [e.row for e in report.skipped_edits] == [4]
    after = server.grid(sid, "Customers")
    assert after[2][0] == "C2" and after[3][0] == "OWN-3"
    assert after[4] == ["", "Dee", "", "new@x.org"]
    assert after[1][1:] == ["Ann1", "Lee", "ann1@example.org", after[1][4]]
    assert server.grid(sid, "Orders") == orders_before


def test_append_only_tab_keeps_old_rows(server: SheetsServer) -> None:
    sid = server.create("Shop", {"Customers": customers(1)})
    backend = backend_for(server, sid)
    for run in range(3):
        tab = ToolTab("Runs", ["Started", "Command"], [[datetime(2026, 11, 20 + run, 8), f"run {run}"]])
        tab.append_only = True
        backend.write(WritePlan(tabs=[tab], generated_at=WHEN), expected_version=backend.read().version)
    rows = backend.read().tables["Runs"].rows
    assert [r.values for r in rows] == [[datetime(2026, 11, 20 + i, 8), f"run {i}"] for i in range(3)]


def test_requests_per_sync_do_not_grow_with_rows(server: SheetsServer) -> None:
    counts = []
    for n in (10, 4000):
        sid = server.create("Shop", {"Customers": customers(n)})
        backend = backend_for(server, sid)
        before = len(server.log)
        wb = backend.read()
        plan = tool_plan(n)
        plan.edits = [CellEdit("Customers", 2, 2, "Ann1", "Ann", "test")]
        backend.write(plan, expected_version=wb.version)
        counts.append(len(server.log) - before)
    assert counts[0] == counts[1] <= 6


def test_limits_checked_before_writing(server: SheetsServer) -> None:
    sid = server.create("Shop", {"Customers": customers(1)})
    backend = backend_for(server, sid)
    wb = backend.read()
    before = len(server.log)
    plan = WritePlan(tabs=[ToolTab("Issues", ["Note"], [["x" * 50_001]])], generated_at=WHEN)
    with pytest.raises(WorkbookTooLarge, match="50,000"):
        backend.write(plan, expected_version=wb.version)
    big = WritePlan(tabs=[ToolTab("Issues", [f"c{i}" for i in range(200)], [[1]] * 60_000)])
    with pytest.raises(WorkbookTooLarge, match="10,000,000"):
        backend.write(big, expected_version=wb.version)
    assert len(server.log) == before  # refused before any request
    assert "Issues" not in [s.title for s in server.files[sid].sheets]


def test_large_write_is_split_with_busy_note_first_and_final_note_last(server: SheetsServer) -> None:
    sid = server.create("Shop", {"Customers": customers(2)})
    backend = GoogleSheetsBackend(sid, session=server.session(), max_request_bytes=20_000)
    wb = backend.read()
    plan = tool_plan(2000)
    plan.edits = [CellEdit("Customers", 2, 2, "Ann1", "Annie", "test")]
    before = len(server.log)
    backend.write(plan, expected_version=wb.version)
    posts = [e for e in server.log[before:] if e.url.endswith("values:batchUpdate")]
    assert len(posts) > 2
    assert all(e.bytes_sent <= 20_000 + 2_000 for e in posts)
    grid = server.grid(sid, "Tiers")
    assert grid[0][0].startswith("Generated by sheet-crm") and len(grid) == 2002
    assert server.grid(sid, "Customers")[1][1] == "Annie"


# ---------------------------------------------------------------- end to end


def test_api_run_tiers_on_a_google_sheet(server: SheetsServer) -> None:
    sid = server.create("Shop", {"Customers": customers(40), "Orders": orders(200, 40)})
    before = len(server.log)
    report = api.run(f"gsheet:{sid}", ["tiers"], today=TODAY, backend_options={"session": server.session()})
    assert report.written is not None
    assert len(server.log) - before <= 6
    titles = [s.title for s in server.files[sid].sheets]
    assert "Tiers" in titles and "Runs" in titles
    tiers = report.plan.tabs[[t.name for t in report.plan.tabs].index("Tiers")]
    grid = server.grid(sid, "Tiers")
    assert grid[1] == tiers.headers
    assert len(grid) - 2 == len(tiers.rows)


def test_same_tabs_as_memory_backend(server: SheetsServer) -> None:
    """The Google path writes exactly what the reference in-memory backend writes."""
    from sheet_crm.backends.memory import MemoryBackend

    tabs = {"Customers": customers(30), "Orders": orders(120, 30)}
    sid = server.create("Shop", tabs)
    memory = MemoryBackend(tabs)
    steps = ["tiers"]
    api.run(f"gsheet:{sid}", steps, today=TODAY, now=WHEN, backend_options={"session": server.session()})
    api.run(memory, steps, today=TODAY, now=WHEN)
    google = backend_for(server, sid).read()
    ref = memory.read()
    for name in ("Tiers", "Runs"):
        g = [[plain(v) for v in r.values] for r in google.tables[name].rows]
        m = [[plain(v) for v in r.values] for r in ref.tables[name].rows]
        if name == "Runs":  # the run's own duration differs
            g = [v[:2] + v[3:] for v in g]
            m = [v[:2] + v[3:] for v in m]
        assert g == m, name


def test_full_sync_through_api_is_six_requests_and_leaves_owner_tabs_alone(server: SheetsServer) -> None:
    tabs = {"Customers": customers(25), "Orders": orders(100, 25)}
    sid = server.create("Shop", tabs)
    owner_before = {name: server.grid(sid, name) for name in tabs}
    before = len(server.log)
    report = api.run(
        f"gsheet:{sid}", api.COMMAND_STEPS["sync"], today=TODAY, backend_options={"session": server.session()}
    )
    assert len(server.log) - before <= 6
    assert report.written is not None
    assert not report.plan.edits and not report.plan.appends
    assert {name: server.grid(sid, name) for name in tabs} == owner_before
    for tab in report.plan.tabs:
        grid = server.grid(sid, tab.name)
        assert grid[0][0].startswith("Generated by sheet-crm")
        assert grid[1][: len(tab.headers)] == tab.headers


def formats_tab(value_rows: list[list[Any]]) -> ToolTab:
    """A Dashboard-like tab: a Value column mixing a date, counts and money (money cells
    formatted one by one), a Revenue column formatted as a whole, a column of dates."""
    from sheet_crm.workbook import AMOUNT, WHOLE

    rows = [[label, value, revenue, day] for label, value, revenue, day in value_rows]
    money = {(i, "Value"): AMOUNT for i, r in enumerate(value_rows) if r[0].startswith("Revenue")}
    return ToolTab(
        "Dashboard", ["Key figure", "Value", "Revenue", "Day"], rows, formats={"Revenue": WHOLE},
        cell_formats=money,
    )  # fmt: skip


def test_number_formats_and_a_column_mixing_dates_and_numbers(server: SheetsServer) -> None:
    """Numbers take their formats; in a column that mixes a date with numbers only the
    date cell shows as a date (a count must never show as 1903-04-14); formats from the
    last run do not stay on cells that now hold something else."""
    sid = server.create("Shop", {"Customers": customers(3)})
    backend = backend_for(server, sid)
    first = formats_tab(
        [
            ["Figures as of", date(2026, 11, 22), 10, date(2026, 1, 1)],
            ["Customers", 1200, 20, date(2026, 1, 2)],
            ["Revenue", 245137.97, 30, None],
        ]
    )
    backend.write(WritePlan(tabs=[first], generated_at=WHEN), expected_version=backend.read().version)
    sheet = server.sheet(sid, "Dashboard")
    row = ToolTab.FIRST_DATA_ROW - 1  # 0-based grid row of the first data row
    assert sheet.number_format(row, 1)["type"] == "DATE"
    assert sheet.number_format(row + 1, 1) is None  # a count: no date format
    assert sheet.number_format(row + 2, 1) == {"type": "NUMBER", "pattern": "#,##0.00"}
    assert all(sheet.number_format(row + r, 2) == {"type": "NUMBER", "pattern": "#,##0"} for r in range(3))
    assert sheet.number_format(row, 3)["type"] == "DATE"

    # Next run: the rows moved; the money format goes with the Revenue row.
    second = formats_tab(
        [
            ["Figures as of", date(2026, 11, 23), 10, date(2026, 1, 1)],
            ["Revenue", 250000.0, 20, date(2026, 1, 2)],
            ["Customers", 1201, 30, None],
        ]
    )
    backend.write(WritePlan(tabs=[second], generated_at=WHEN), expected_version=backend.read().version)
    sheet = server.sheet(sid, "Dashboard")
    assert sheet.number_format(row + 1, 1) == {"type": "NUMBER", "pattern": "#,##0.00"}
    assert sheet.number_format(row + 2, 1) is None
    assert plain(backend.read().tab("Dashboard").rows[2].values[1]) == 1201  # read back as a number
