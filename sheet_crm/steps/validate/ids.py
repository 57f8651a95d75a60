"""Customer IDs: the guarantee, and the high-water mark that keeps it.

A new ID is always higher than every ID that (a) is in the Customer ID column,
(b) is named by an order, an interaction, a Referred by or a Merged into cell, or
(c) appears anywhere in a tab sheet-crm owns (Issues, Tiers, Duplicates, Merge Log,
Runs ...). The Issues tab always carries one "customer-id-counter" line holding the
highest ID given out, and the Merge Log keeps the IDs of merged customers for good,
so a deleted customer's ID is not issued again unless the owner deletes the row
*and* clears every tool tab that mentioned it. New IDs follow the sheet's own
pattern (prefix and zero-padding of the most common existing ID, e.g. ``CUST-0042``);
an empty sheet starts at ``C-00001``. Only blank cells are filled, and each edit
carries the blank as read, so the backend leaves alone a cell typed in meanwhile.

The IDs are cells as typed (a plain-number ID stays a number), so this part reads the
Customer ID column itself rather than the parsed records' text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ...findings import Location
from ...model import Records
from ...normalize import text
from ...workbook import TOOL_TABS, Cell, CellEdit, Table, Workbook, header_key, is_blank
from .report import Reporter

ID_FILL_REASON = "new Customer ID for a customer who had none"
DEFAULT_PREFIX, DEFAULT_WIDTH = "C-", 5


@dataclass
class Ids:
    """What ID assignment decided: the cell edits, the new IDs (sheet row, ID), the
    highest ID given out, each new ID by the customer's index in ``records.customers``,
    and the indexes of customers whose ID repeats an earlier row's."""

    edits: list[CellEdit] = field(default_factory=list)
    assigned: list[tuple[int, str]] = field(default_factory=list)
    highest: str = ""
    new_ids: dict[int, str] = field(default_factory=dict)
    repeated: list[int] = field(default_factory=list)


def assign_ids(rep: Reporter, records: Records, workbook: Workbook) -> Ids:
    """Flag repeated IDs and give every customer with a blank Customer ID cell the
    next ID after the high-water mark."""
    out = Ids()
    table = records.tables["Customers"]
    if not table.has("customer_id"):
        rep.add("customer-id-column-missing", Location(table.name, table.header_row))
        return out
    col = table.index("customer_id")
    assert col is not None
    by_row = {row.number: row for row in table.rows}
    ids = [(i, c, by_row[c.row].get(col)) for i, c in enumerate(records.customers) if c.row in by_row]
    typed = [raw for _, _, raw in ids if not is_blank(raw)]
    prefix, width, numeric = _id_pattern(typed)

    # Duplicate IDs: later rows are flagged (and not trusted).
    first_row: dict[str, int] = {}
    for i, c, raw in ids:
        if not c.customer_id:
            continue
        key = c.customer_id.casefold()
        if key in first_row:
            out.repeated.append(i)
            rep.add(
                "customer-id-duplicate",
                table.location(c.row, "customer_id"),
                value=raw,
                other_row=first_row[key],
                customer_id=c.customer_id,
            )
        else:
            first_row[key] = c.row

    highest = max(_id_numbers(_id_sources(records, workbook, numeric), prefix, numeric), default=0)
    column = table.column_number(col)
    for i, c, raw in ids:
        if not is_blank(raw):
            continue
        highest += 1
        new_id = f"{prefix}{highest:0{width}d}"
        value: Cell = highest if numeric else new_id
        out.edits.append(CellEdit(table.name, c.row, column, raw, value, ID_FILL_REASON))
        out.assigned.append((c.row, new_id))
        out.new_ids[i] = new_id
    out.highest = f"{prefix}{highest:0{width}d}" if highest else ""
    if highest:
        loc = Location(table.name, None, column, table.headers[col])
        # The ID also goes in the Customer ID column of the Issues tab, which the
        # next run scans (that is what makes the counter survive deletions).
        rep.add("customer-id-counter", loc, value=out.highest, customer_id=out.highest)
    return out


def _id_sources(records: Records, workbook: Workbook, numeric: bool) -> Iterable[Cell]:
    """Every cell that may hold a Customer ID, in owner and tool tabs."""
    customers = records.tables["Customers"]
    for fieldname in ("customer_id", "referred_by", "merged_into"):
        i = customers.index(fieldname)
        if i is not None:
            yield from _column_cells(customers, i)
    for kind in ("Orders", "Interactions"):
        table = records.tables.get(kind)
        if table is not None and table.has("customer"):
            # A million order references name far fewer customers: distinct ones only.
            yield from set(_column_cells(table, table.index("customer")))
    for name, table in workbook.tables.items():
        if name in TOOL_TABS:
            yield from _ToolCells(table, numeric)


def is_number(value: Cell) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_ID_SHAPE = re.compile(r"(\D*?)(\d+)")


def _id_pattern(typed: list[Cell]) -> tuple[str, int, bool]:
    """(prefix, zero-padding width, numeric cells) of the sheet's IDs: the most common
    prefix among IDs shaped ``PREFIX + digits``; ``('C-', 5, False)`` when there are none."""
    shapes: Counter[tuple[str, int]] = Counter()
    numeric = 0
    for raw in typed:
        if is_number(raw) and float(raw).is_integer() and raw >= 0:
            numeric += 1
            shapes[("", 0)] += 1
            continue
        m = _ID_SHAPE.fullmatch(text(raw))
        if m:
            digits = m[2]
            shapes[(m[1], len(digits) if digits.startswith("0") else 0)] += 1
    if not shapes:
        return DEFAULT_PREFIX, DEFAULT_WIDTH, False
    by_prefix: Counter[str] = Counter()
    for (prefix, _), n in shapes.items():
        by_prefix[prefix] += n
    prefix = by_prefix.most_common(1)[0][0]
    width = max((w for (p, w), n in shapes.items() if p == prefix), default=0)
    return prefix, width, prefix == "" and numeric > 0 and numeric == by_prefix[""]


def _id_numbers(cells: Iterable[Cell], prefix: str, numeric: bool) -> Iterable[int]:
    """The numbers of every ID with ``prefix`` found in ``cells`` (also inside text such
    as "Merged C-00050 into C-00012")."""
    cells = set(cells)  # a million order references name far fewer customers
    if prefix:
        pattern = re.compile(r"(?<![0-9A-Za-z])" + re.escape(prefix) + r"(\d+)(?!\d)", re.IGNORECASE)
        folded = prefix.casefold()
        for cell in cells:
            if isinstance(cell, str) and folded in cell.casefold():
                for m in pattern.finditer(cell):
                    yield int(m[1])
        return
    for cell in cells:
        if is_number(cell) and float(cell).is_integer() and 0 <= cell < 10**12:
            yield int(cell)
        elif isinstance(cell, str) and cell.strip().isdigit() and len(cell.strip()) < 13:
            yield int(cell.strip())


def _column_cells(table: Table, i: int | None) -> list[Cell]:
    """Every cell of one column (``Row.get`` for all rows, without a call per row)."""
    if i is None:
        return [None] * len(table.rows)
    return [v[i] if i < len(v) else None for v in [row.values for row in table.rows]]


class _ToolCells:
    """The cells of a tool tab that may hold Customer IDs. With a text prefix every text
    cell is searched; for plain-number IDs only columns whose header names a customer or
    an ID, or any number would count."""

    def __init__(self, table: Table, numeric: bool) -> None:
        self.table = table
        self.numeric = numeric

    def __iter__(self) -> Iterator[Cell]:
        table = self.table
        columns = [
            i
            for i, h in enumerate(table.headers)
            if "customer" in header_key(h) or header_key(h).endswith("id")
        ]
        wanted = set(columns)
        for row in table.rows:
            for i, cell in enumerate(row.values):
                if i in wanted or (isinstance(cell, str) and not self.numeric):
                    yield cell
