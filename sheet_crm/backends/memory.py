"""An in-memory workbook: for tests, ``--dry-run`` and as the reference behaviour
the contract suite holds the other backends to."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime

from ..errors import TabNotFound, WorkbookChanged
from ..workbook import (
    Cell,
    FindingList,
    ToolTab,
    Workbook,
    WritePlan,
    WriteReport,
    build_table,
    generated_note,
    header_key,
    is_blank,
    same_cell,
)
from .base import Backend


class MemoryBackend(Backend):
    """Tabs as grids: ``{"Customers": [["Name", "Email"], ["Ann", "ann@x.org"]]}``;
    ``grid[0]`` is sheet row 1."""

    kind = "memory"

    def __init__(self, sheets: Mapping[str, Sequence[Sequence[Cell]]], name: str = "memory") -> None:
        self.sheets: dict[str, list[list[Cell]]] = {k: [list(r) for r in v] for k, v in sheets.items()}
        self.name = name
        self._version = 0
        self.writes = 0

    @property
    def label(self) -> str:
        return self.name

    @classmethod
    def from_workbook_copy(cls, other: MemoryBackend) -> MemoryBackend:
        clone = cls(copy.deepcopy(other.sheets), other.name)
        clone._version = other._version
        return clone

    def touch(self) -> None:
        """Pretend the owner edited the workbook (tests of change detection)."""
        self._version += 1

    def set_cell(self, tab: str, row: int, column: int, value: Cell) -> None:
        """Edit a cell as the owner would (1-based row and column)."""
        grid = self.sheets[tab]
        while len(grid) < row:
            grid.append([])
        line = grid[row - 1]
        while len(line) < column:
            line.append(None)
        line[column - 1] = value
        self.touch()

    def read(self) -> Workbook:
        findings = FindingList()
        tables = {name: build_table(name, grid, findings=findings) for name, grid in self.sheets.items()}
        return Workbook(tables, source=self.name, version=str(self._version), findings=findings)

    def write(self, plan: WritePlan, *, expected_version: str) -> WriteReport:
        if expected_version != str(self._version):
            raise WorkbookChanged(
                "The workbook changed while sheet-crm was working; nothing was written.",
                "Run the command again.",
                where=self.name,
            )
        sheets = copy.deepcopy(self.sheets)  # all or nothing: work on a copy
        report = WriteReport()
        when = plan.generated_at or datetime.now()
        for edit in plan.edits:
            grid = sheets.get(edit.tab)
            if grid is None:
                raise TabNotFound(f"There is no tab called '{edit.tab}'.", where=self.name)
            current = _cell(grid, edit.row, edit.column)
            if not same_cell(current, edit.expected):
                report.skipped_edits.append(edit)
                continue
            _set(grid, edit.row, edit.column, edit.value)
            report.cells_edited += 1
        for append in plan.appends:
            grid = sheets.get(append.tab)
            if grid is None:
                raise TabNotFound(f"There is no tab called '{append.tab}'.", where=self.name)
            table = build_table(append.tab, grid)
            by_key = {header_key(h): i for i, h in enumerate(table.headers)}
            line: list[Cell] = [None] * len(table.headers)
            for header, value in append.values.items():
                i = by_key.get(header_key(header))
                if i is not None:
                    line[i] = value
            last = max(
                (r for r, cells in enumerate(grid, 1) if any(not is_blank(c) for c in cells)),
                default=table.header_row,
            )
            del grid[last:]
            grid.append([None] * (table.first_column - 1) + line)
            report.rows_appended += 1
        for tab in plan.tabs:
            if tab.append_only and tab.name in sheets:
                old = sheets[tab.name]
                keep = [r for r in old[2:] if any(not is_blank(c) for c in r)]
                grid = _tool_tab_grid(tab, when)
                sheets[tab.name] = grid[:2] + keep + grid[2:]
            else:
                sheets[tab.name] = _tool_tab_grid(tab, when)
            report.tabs_written.append(tab.name)
        self.sheets = sheets
        self._version += 1
        self.writes += 1
        return report


def _tool_tab_grid(tab: ToolTab, when: datetime) -> list[list[Cell]]:
    """A tool tab as rows of cells: the generated note, the header, the data."""
    return [[generated_note(tab, when)], list(tab.headers), *[list(r) for r in tab.rows]]


def _cell(grid: list[list[Cell]], row: int, column: int) -> Cell:
    if row - 1 >= len(grid) or column - 1 >= len(grid[row - 1]):
        return None
    return grid[row - 1][column - 1]


def _set(grid: list[list[Cell]], row: int, column: int, value: Cell) -> None:
    while len(grid) < row:
        grid.append([])
    line = grid[row - 1]
    while len(line) < column:
        line.append(None)
    line[column - 1] = value
