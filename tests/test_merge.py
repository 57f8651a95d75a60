"""Merges and their undo (sheet_crm.merge), through api.run and api.undo_merge."""

from __future__ import annotations

import copy
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sheet_crm import api
from sheet_crm.backends.memory import MemoryBackend
from sheet_crm.config import Settings
from sheet_crm.errors import NothingToUndo
from sheet_crm.merge import choose_survivor, parse_ref
from sheet_crm.model import build_records
from sheet_crm.steps.dedupe import cluster_id

TODAY = date(2026, 11, 22)


def run(backend: MemoryBackend, hour: int) -> api.RunReport:
    return api.run(backend, ["dedupe"], today=TODAY, now=datetime(2026, 11, 22, hour))


def trimmed(grid: list[list[object]]) -> list[list[object]]:
    """A grid without trailing blank cells (a restored blank may be None or '')."""
    out = []
    for row in grid:
        row = ["" if v is None else v for v in row]
        while row and row[-1] == "":
            row.pop()
        out.append(row)
    return out


def decide(backend: MemoryBackend, cid: str, value: str = "merge") -> None:
    grid = backend.sheets["Duplicates"]
    col = grid[1].index("Decision") + 1
    for r, row in enumerate(grid[2:], start=3):
        if row[0] == cid:
            backend.set_cell("Duplicates", r, col, value)


def base() -> dict[str, list[list[object]]]:
    return {
        "Customers": [
            ["Customer ID", "Name", "Email", "Phone", "Postcode", "Customer since", "Notes"],
            ["C-1", "Ann Lee", "ann@x.com", "", "LS1 1AA", datetime(2020, 1, 5), "likes tea"],
            ["C-2", "Ann Lee", "ANN@x.com", "07700 900123", "", datetime(2021, 3, 1), "prefers email"],
            ["C-3", "Tom Ray", "tom@y.org", "07700 900999", "YO1 1AA", None, None],
        ]
    }


def test_merge_then_undo_puts_back_exactly_what_was_there() -> None:
    backend = MemoryBackend(base())
    original = copy.deepcopy(backend.sheets["Customers"])
    run(backend, 9)
    cid = cluster_id(["C-1", "C-2"])
    decide(backend, cid)
    run(backend, 10)
    assert trimmed(backend.sheets["Customers"]) != trimmed(original)
    result = api.undo_merge(backend, cid, now=datetime(2026, 11, 22, 11))
    assert result["skipped_edits"] == []
    assert trimmed(backend.sheets["Customers"]) == trimmed(original)
    log = backend.sheets["Merge Log"]
    changed = [row for row in log[2:] if row[2] == "merge" and row[8] != row[9]]
    undone = [row for row in log[2:] if row[2] == "undo"]
    assert len(undone) == len(changed) > 0
    assert all(str(row[10]) == "put back" for row in undone)
    with pytest.raises(NothingToUndo, match="undone already"):
        api.undo_merge(backend, cid)


def test_undo_leaves_alone_a_cell_the_owner_changed_since() -> None:
    backend = MemoryBackend(base())
    run(backend, 9)
    cid = cluster_id(["C-1", "C-2"])
    decide(backend, cid)
    run(backend, 10)
    grid = backend.sheets["Customers"]
    survivor_row = next(r for r, row in enumerate(grid, start=1) if row[0] == "C-1")
    assert grid[survivor_row - 1][3] == "07700 900123"  # filled from C-2
    backend.set_cell("Customers", survivor_row, 4, "07700 111111")  # the owner edits it
    result = api.undo_merge(backend, cid, now=datetime(2026, 11, 22, 11))
    assert backend.sheets["Customers"][survivor_row - 1][3] == "07700 111111"
    assert any(f"Customers!D{survivor_row}" in line for line in result["summary"])
    notes = [row[10] for row in backend.sheets["Merge Log"][2:] if row[2] == "undo"]
    assert any(str(n).startswith("left alone") for n in notes)


def test_existing_merged_into_column_is_used_and_kept_on_undo() -> None:
    sheets = base()
    sheets["Customers"][0].append("Merged into")
    for row in sheets["Customers"][1:]:
        row.append(None)
    backend = MemoryBackend(sheets)
    original = copy.deepcopy(backend.sheets["Customers"])
    run(backend, 9)
    cid = cluster_id(["C-1", "C-2"])
    decide(backend, cid)
    report = run(backend, 10)
    assert all(e.row != 1 for e in report.plan.edits)  # no header added
    assert backend.sheets["Customers"][2][7] == "C-1"
    api.undo_merge(backend, cid, now=datetime(2026, 11, 22, 11))
    assert trimmed(backend.sheets["Customers"]) == trimmed(original)


def test_undo_of_an_unknown_cluster() -> None:
    backend = MemoryBackend(base())
    with pytest.raises(NothingToUndo, match="no Merge Log"):
        api.undo_merge(backend, "D-000000")
    run(backend, 9)
    decide(backend, cluster_id(["C-1", "C-2"]))
    run(backend, 10)
    with pytest.raises(NothingToUndo, match="no merge with that ID"):
        api.undo_merge(backend, "D-FFFFFF")


def test_survivor_rule() -> None:
    backend = MemoryBackend(
        {
            "Customers": [
                ["Customer ID", "Name", "Email", "Phone", "Customer since"],
                ["C-1", "Ann Lee", "ann@x.com", "", "2022-01-01"],
                ["C-2", "Ann Lee", "ann@x.com", "0770090012", "2023-01-01"],
                ["C-3", "Ann Lee", "ann@x.com", "0770090013", "2019-01-01"],
                ["", "Ann Lee", "ann@x.com", "0770090014", "2010-01-01"],
            ]
        }
    )
    workbook = backend.read()
    records = build_records(workbook, Settings())
    table = records.tables["Customers"]
    c1, c2, c3, no_id = records.customers
    assert choose_survivor(table, [c1, c2], {"C-1": 3, "C-2": 1}).customer is c1
    chosen = choose_survivor(table, [c1, c2], {})
    assert chosen.customer is c2 and chosen.reason.startswith("most complete")
    chosen = choose_survivor(table, [c2, c3], {})
    assert chosen.customer is c3 and chosen.reason.startswith("oldest")
    assert choose_survivor(table, [c1, c2], {"C-1": 3}, keep=["C-2"]).reason == "you marked it Keep"
    assert choose_survivor(table, [c2, no_id], {}).customer is c2  # a survivor needs an ID


def test_parse_ref() -> None:
    assert parse_ref("Customers!E7") == ("Customers", 7, 5)
    assert parse_ref("'My Clients'!AA10") == ("My Clients", 10, 27)
    assert parse_ref("'Bob''s'!A1") == ("Bob's", 1, 1)


cells = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(["x", "Leeds", "LS1 1AA", "07700 900123"]),
    st.integers(0, 50),
    st.dates(date(2000, 1, 1), date(2030, 1, 1)).map(lambda d: datetime(d.year, d.month, d.day)),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(cells, cells, cells), min_size=2, max_size=4), st.booleans())
def test_undo_restores_the_exact_cells(extra: list[tuple[object, object, object]], merged_col: bool) -> None:
    headers: list[object] = ["Customer ID", "First name", "Last name", "Email", "City", "Score", "Since"]
    if merged_col:
        headers.append("Merged into")
    grid: list[list[object]] = [headers]
    for i, (city, score, since) in enumerate(extra, start=1):
        row: list[object] = [f"C-{i}", "Ann", "Lee", "ann@x.com", city, score, since]
        if merged_col:
            row.append(None)
        grid.append(row)
    grid.append(
        [f"C-{len(extra) + 1}", "Zed", "Quill", "zed@q.org", "York", 1, None] + ([None] if merged_col else [])
    )
    backend = MemoryBackend({"Customers": grid})
    original = copy.deepcopy(backend.sheets["Customers"])
    run(backend, 9)
    cid = cluster_id([f"C-{i}" for i in range(1, len(extra) + 1)])
    decide(backend, cid)
    report = run(backend, 10)
    assert report.outputs["dedupe"].counts["merged"] == 1
    api.undo_merge(backend, cid, now=datetime(2026, 11, 22, 11))
    assert trimmed(backend.sheets["Customers"]) == trimmed(original)
