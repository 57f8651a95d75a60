"""No step changes the records (or the workbook) it is given: a full sync of the demo
workbook, with the owner's merge decisions and automatic merges, where every step's
records are compared before and after it runs. What a step learned reaches the next
step only through the pipeline (``steps.records_after``), copy-on-write."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import TODAY

from sheet_crm import api
from sheet_crm.backends.memory import MemoryBackend
from sheet_crm.backends.xlsx import XlsxBackend
from sheet_crm.demo import write_demo
from sheet_crm.steps import Context, StepFunction

NOW = datetime(2026, 11, 22, 9, 0)
OWNER_TABS = ("Customers", "Orders", "Interactions", "Settings", "Segments", "Templates")


def demo_grid(folder: Path) -> dict[str, list[list[Any]]]:
    """The demo workbook's owner tabs as grids for the in-memory backend."""
    wb = XlsxBackend(write_demo(folder / "demo.xlsx", customers=240, seed=5, today=TODAY)).read()
    grid: dict[str, list[list[Any]]] = {}
    for name in OWNER_TABS:
        table = wb.tables[name]
        rows: list[list[Any]] = [[] for _ in range(table.header_row - 1)]
        pad = [None] * (table.first_column - 1)
        rows.append([*pad, *table.headers])
        for row in table.rows:
            while len(rows) < row.number - 1:
                rows.append([])
            rows.append([*pad, *row.values])
        grid[name] = rows
    return grid


def snapshot(ctx: Context) -> Any:
    """Everything a step could change: the records (which objects, in which lists,
    holding what) and every cell of the workbook as read. ``repr`` so that NaN equals
    itself."""
    records = ctx.records
    lists = (records.customers, records.orders, records.interactions)
    return (
        id(records),
        [id(items) for items in lists],
        [
            [(id(r), repr([getattr(r, f.name) for f in dataclasses.fields(r)])) for r in items]
            for items in lists
        ],
        repr({name: [row.values for row in t.rows] for name, t in ctx.workbook.tables.items()}),
    )


@pytest.fixture
def checked_steps(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Context, Any]]:
    """Wraps every step the pipeline loads: fails the run when a step changes what it
    was given; records (step, context, records it was given) for the test."""
    ran: list[tuple[str, Context, Any]] = []
    real_load = api.load

    def load(name: str) -> StepFunction:
        step = real_load(name)

        def run(ctx: Context) -> Any:
            before = snapshot(ctx)
            given = ctx.records
            out = step(ctx)
            assert snapshot(ctx) == before, f"the {name} step changed the records or workbook it was given"
            ran.append((name, ctx, given))
            return out

        return run

    monkeypatch.setattr(api, "load", load)
    return ran


def decide(backend: MemoryBackend) -> None:
    """The owner types merge on the first two groups of Duplicates (keeping the second
    row of the first) and not duplicate on the third."""
    tab = backend.sheets["Duplicates"]
    at = next(i for i, row in enumerate(tab) if row and row[0] == "Cluster ID")
    head = tab[at]
    cid, decision, keep = head.index("Cluster ID"), head.index("Decision"), head.index("Keep")
    groups: list[str] = []
    for row in tab[at + 1 :]:
        if row and row[cid] and row[cid] not in groups:
            groups.append(row[cid])
    assert len(groups) >= 3, "the demo plants duplicates"
    marked: set[str] = set()
    for row in tab[at + 1 :]:
        if not row or row[cid] not in groups[:3] or row[cid] in marked:
            continue
        if row[cid] == groups[2]:
            row[decision] = "not duplicate"
            marked.add(row[cid])
        else:
            row[decision] = "merge"
            if row[cid] == groups[0] and any(r[cid] == groups[0] and r[decision] for r in tab[at + 1 :] if r):
                row[keep] = "x"
    backend.touch()


def test_no_step_changes_the_records_it_is_given(
    tmp_path: Path, checked_steps: list[tuple[str, Context, Any]]
) -> None:
    backend = MemoryBackend(demo_grid(tmp_path))
    sync = api.COMMAND_STEPS["sync"]
    first = api.run(backend, sync, today=TODAY, now=NOW)
    assert [name for name, _ctx, _r in checked_steps] == list(sync)
    assert first.outputs["validate"].result.assigned_ids, "the demo plants customers without an ID"

    decide(backend)
    checked_steps.clear()
    report = api.run(backend, sync, today=TODAY, now=NOW, dry_run=True, options={"auto_merge_above": 0.5})
    given = {name: records for name, _ctx, records in checked_steps}
    assert list(given) == list(sync)
    merges = [m for m in report.outputs["dedupe"].result.merges if not m.skipped]
    assert len(merges) >= 2, "the owner's two merges and the automatic ones were carried out"

    # What dedupe merged reaches the steps after it, and only through new records.
    before, after = given["dedupe"], given["tiers"]
    assert after is not before
    merged_before = {c.key for c in before.customers if c.merged_into}
    merged_after = {c.key for c in after.customers if c.merged_into}
    assert merged_after > merged_before
    assert {k for m in merges for k in m.merged} <= merged_after
    # Copy-on-write: a customer the merges did not touch is the very same object.
    changed = report.outputs["dedupe"].result.record_changes.customers
    for i, (old, new) in enumerate(zip(before.customers, after.customers, strict=True)):
        assert (old is new) == (i not in changed)
    assert report.records is given["outreach"]


def test_validation_gives_ids_as_data_and_the_next_step_reads_them(
    tmp_path: Path, checked_steps: list[tuple[str, Context, Any]]
) -> None:
    report = api.run(MemoryBackend(demo_grid(tmp_path)), ["tiers"], today=TODAY, now=NOW, dry_run=True)
    given = {name: records for name, _ctx, records in checked_steps}
    assert list(given) == ["validate", "tiers"]
    assigned = dict(report.outputs["validate"].result.assigned_ids)
    assert assigned
    rows_without_id = {c.row for c in given["validate"].customers if not c.customer_id}
    assert rows_without_id == set(assigned)
    tiers_ids = {c.row: c.customer_id for c in given["tiers"].customers}
    assert all(tiers_ids[row] == new_id for row, new_id in assigned.items())
    assert set(report.outputs["tiers"].result.customers) >= set(assigned.values())  # keyed by the new IDs
