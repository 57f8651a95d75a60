"""The spreadsheet state the server keeps: spreadsheets, their tabs (``Sheet``: cells,
formulas, formats, notes, filters, protections, charts, merges) and rectangles on a tab
(``Box``), with Google's A1 notation for naming them."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from sheet_crm.findings import column_index, column_letter

from .errors import bad
from .formats import styled


def col_letters(index: int) -> str:
    """0 -> 'A', 26 -> 'AA' (Google's grid ranges count columns from 0)."""
    return column_letter(index + 1)


def col_index(letters: str) -> int:
    """'A' -> 0."""
    return column_index(letters) - 1


def quote_title(title: str) -> str:
    """How Google spells a tab in a range: bare when it is a plain word, else quoted."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) and not re.fullmatch(
        r"[A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*", title
    ):
        return title
    return "'" + title.replace("'", "''") + "'"


_CELL = re.compile(r"^([A-Za-z]{0,3})(\d*)$")


@dataclass
class Box:
    """A rectangle on one tab: half-open row/column bounds (None = to the edge)."""

    sheet: Sheet
    r0: int
    r1: int | None
    c0: int
    c1: int | None

    def clipped(self) -> tuple[int, int, int, int]:
        r1 = self.sheet.row_count if self.r1 is None else min(self.r1, self.sheet.row_count)
        c1 = self.sheet.col_count if self.c1 is None else min(self.c1, self.sheet.col_count)
        return self.r0, r1, self.c0, c1

    def a1(self) -> str:
        r0, r1, c0, c1 = self.clipped()
        start = f"{col_letters(c0)}{r0 + 1}"
        end = f"{col_letters(c1 - 1)}{r1}"
        cells = start if (r1 - r0, c1 - c0) == (1, 1) else f"{start}:{end}"
        return f"{quote_title(self.sheet.title)}!{cells}"


@dataclass
class Sheet:
    sheet_id: int
    title: str
    index: int
    row_count: int = 1000
    col_count: int = 26
    frozen_rows: int = 0
    frozen_cols: int = 0
    hidden: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # other sheet properties, as set
    cells: list[list[Any]] = field(default_factory=list)  # row-major, ragged, None = empty
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    formats: list[tuple[int, int, int, int, dict[str, Any]]] = field(default_factory=list)
    cell_formats: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)  # one-cell formats
    basic_filter: dict[str, Any] | None = None
    protected: list[dict[str, Any]] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)
    merges: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[tuple[int, int], str] = field(default_factory=dict)
    pixel_sizes: dict[tuple[str, int], int] = field(default_factory=dict)  # ("COLUMNS", 2) -> 140

    def clone(self) -> Sheet:
        twin = copy.copy(self)
        twin.cells = [row[:] for row in self.cells]
        twin.formulas = dict(self.formulas)
        twin.formats = list(self.formats)
        twin.cell_formats = dict(self.cell_formats)
        twin.extra = copy.deepcopy(self.extra)
        twin.basic_filter = copy.deepcopy(self.basic_filter)
        twin.protected = copy.deepcopy(self.protected)
        twin.charts = copy.deepcopy(self.charts)
        twin.merges = copy.deepcopy(self.merges)
        twin.notes = dict(self.notes)
        twin.pixel_sizes = dict(self.pixel_sizes)
        return twin

    def get(self, r: int, c: int) -> Any:
        if r < len(self.cells) and c < len(self.cells[r]):
            return self.cells[r][c]
        return None

    def put(self, r: int, c: int, value: Any, formula: str | None = None) -> None:
        while len(self.cells) <= r:
            self.cells.append([])
        row = self.cells[r]
        if len(row) <= c:
            if value is None:
                self.formulas.pop((r, c), None)
                return
            row.extend([None] * (c + 1 - len(row)))
        row[c] = value
        if formula is None:
            self.formulas.pop((r, c), None)
        else:
            self.formulas[(r, c)] = formula

    def add_format(self, r0: int, r1: int, c0: int, c1: int, fmt: dict[str, Any]) -> None:
        if "backgroundColor" in fmt or "backgroundColorStyle" in fmt or "textFormat" in fmt:
            fmt = styled(fmt)
        if (r1 - r0, c1 - c0) == (1, 1):
            self.cell_formats[(r0, c0)] = {**self.cell_formats.get((r0, c0), {}), **fmt}
        else:
            # a later range format overrides earlier one-cell formats inside it
            for key in [k for k in self.cell_formats if r0 <= k[0] < r1 and c0 <= k[1] < c1]:
                for name in fmt:
                    self.cell_formats[key].pop(name, None)
            self.formats.append((r0, r1, c0, c1, fmt))

    def number_format(self, r: int, c: int) -> dict[str, Any] | None:
        own = self.cell_formats.get((r, c))
        if own and "numberFormat" in own:
            return own["numberFormat"]  # type: ignore[no-any-return]
        for r0, r1, c0, c1, fmt in reversed(self.formats):
            if r0 <= r < r1 and c0 <= c < c1 and "numberFormat" in fmt:
                return fmt["numberFormat"]  # type: ignore[no-any-return]
        return None

    def cell_format(self, r: int, c: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for r0, r1, c0, c1, fmt in self.formats:
            if r0 <= r < r1 and c0 <= c < c1:
                out.update(fmt)
        out.update(self.cell_formats.get((r, c), {}))
        for name in [k for k, v in out.items() if v is None]:  # cleared by a field mask
            del out[name]
        return out

    def properties(self) -> dict[str, Any]:
        grid: dict[str, Any] = {"rowCount": self.row_count, "columnCount": self.col_count}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        if self.frozen_cols:
            grid["frozenColumnCount"] = self.frozen_cols
        props: dict[str, Any] = {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": self.index,
            "sheetType": "GRID",
            "gridProperties": grid,
        }
        if self.hidden:
            props["hidden"] = True
        for key, value in self.extra.items():
            if key == "gridProperties":
                # proto3: a false flag (hideGridlines false) is not sent
                grid.update({k: v for k, v in value.items() if v is not False and v is not None})
            else:
                props[key] = copy.deepcopy(value)
        return props

    def used_widths(self) -> dict[int, int]:
        """Row -> how far it holds a note or a one-cell format (one pass, not per row)."""
        widths: dict[int, int] = {}
        for r, c in self.notes:
            widths[r] = max(widths.get(r, 0), c + 1)
        for (r, c), fmt in self.cell_formats.items():
            if fmt:
                widths[r] = max(widths.get(r, 0), c + 1)
        return widths

    def row_width(self, r: int, c1: int, used: dict[int, int]) -> int:
        """How far row ``r`` holds anything (a value, a note, a format), up to ``c1``."""
        width = max(len(self.cells[r]) if r < len(self.cells) else 0, used.get(r, 0))
        for f0, f1, _g0, g1, _fmt in self.formats:
            if f0 <= r < f1:
                width = max(width, g1)
        return min(width, c1)

    def last_used_row(self) -> int:
        """Rows up to the last one holding a value, a note or a format."""
        n = self.last_row()
        for r, _c in self.notes:
            n = max(n, r + 1)
        for (r, _c), fmt in self.cell_formats.items():
            if fmt:
                n = max(n, r + 1)
        for _f0, f1, *_ in self.formats:
            n = max(n, min(f1, self.row_count))
        return n

    def last_row(self) -> int:
        """Number of rows up to the last one holding a value."""
        n = len(self.cells)
        while n and all(v is None for v in self.cells[n - 1]):
            n -= 1
        return n


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    title: str
    sheets: list[Sheet]
    locale: str = "en_US"
    time_zone: str = "Etc/GMT"
    version: int = 1
    created: str = ""
    modified: str = ""
    shared_with: set[str] | None = None  # None: anyone holding a valid token
    named_ranges: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 1_000_000

    def clone(self) -> Spreadsheet:
        twin = copy.copy(self)
        twin.sheets = [s.clone() for s in self.sheets]
        twin.named_ranges = copy.deepcopy(self.named_ranges)
        return twin

    def sheet_by_id(self, sheet_id: int) -> Sheet:
        for s in self.sheets:
            if s.sheet_id == sheet_id:
                return s
        raise bad(f"No grid with id: {sheet_id}")

    def sheet_by_title(self, title: str) -> Sheet | None:
        for s in self.sheets:
            if s.title == title:
                return s
        return None

    def new_id(self) -> int:
        self.next_id += 7919
        return self.next_id

    def parse_range(self, text: str) -> Box:
        """'Sheet1!A1:B2', "'My tab'!A:B", 'Sheet1', 'A1:B2' (first tab) -> a Box."""
        original = text
        sheet: Sheet | None
        if "!" in text:
            name, _, cells = text.rpartition("!")
            if name.startswith("'") and name.endswith("'") and len(name) >= 2:
                name = name[1:-1].replace("''", "'")
            sheet = self.sheet_by_title(name)
            if sheet is None:
                raise bad(f"Unable to parse range: {original}")
        else:
            bare = text[1:-1].replace("''", "'") if text.startswith("'") and text.endswith("'") else text
            sheet = self.sheet_by_title(bare)
            if sheet is not None:
                return Box(sheet, 0, None, 0, None)
            for named in self.named_ranges:
                if named["name"] == text:
                    g = named["range"]
                    return grid_box(self, g)
            sheet = self.sheets[0]
            cells = text
        if not cells:
            return Box(sheet, 0, None, 0, None)
        for named in self.named_ranges:
            if named["name"] == cells:  # 'Sheet1'!NamedRange: Google goes by the name
                return grid_box(self, named["range"])
        parts = cells.split(":")
        if len(parts) > 2:
            raise bad(f"Unable to parse range: {original}")
        refs = []
        for p in parts:
            m = _CELL.match(p.strip())
            if not m or (not m.group(1) and not m.group(2)):
                raise bad(f"Unable to parse range: {original}")
            refs.append((m.group(1), m.group(2)))
        (ca, ra) = refs[0]
        if len(refs) == 1:
            if not ca or not ra:
                raise bad(f"Unable to parse range: {original}")
            r, c = int(ra) - 1, col_index(ca)
            return Box(sheet, r, r + 1, c, c + 1)
        (cb, rb) = refs[1]
        c0 = col_index(ca) if ca else 0
        c1 = col_index(cb) + 1 if cb else None
        r0 = int(ra) - 1 if ra else 0
        r1 = int(rb) if rb else None
        if c1 is not None and c1 < c0:
            c0, c1 = c1 - 1, c0 + 1
        if r1 is not None and r1 < r0:
            r0, r1 = r1 - 1, r0 + 1
        return Box(sheet, r0, r1, c0, c1)


def proto3(value: Any) -> Any:
    """Google's JSON leaves out proto3 fields that hold their default (sheetId 0,
    startRowIndex 0, ...): strip them from what the server stores before answering."""
    if isinstance(value, dict):
        return {
            k: proto3(v)
            for k, v in value.items()
            if not (v == 0 and not isinstance(v, bool) and k in _ZEROED)
        }
    if isinstance(value, list):
        return [proto3(v) for v in value]
    return value


_ZEROED = {"sheetId"}  # measured: Google keeps explicit zero row/column indexes


def grid_box(ss: Spreadsheet, g: dict[str, Any]) -> Box:
    sheet = ss.sheet_by_id(int(g.get("sheetId", 0)))
    return Box(
        sheet,
        int(g.get("startRowIndex", 0)),
        g.get("endRowIndex"),
        int(g.get("startColumnIndex", 0)),
        g.get("endColumnIndex"),
    )
