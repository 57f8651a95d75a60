"""Carrying out approved merges, and putting them back.

A merge never deletes a row. It:

- fills the survivor's blank cells from the other records (each a ``CellEdit`` whose
  ``expected`` is the blank as read),
- writes the survivor's Customer ID into the others' ``Merged into`` cell (adding
  that column's header after the last header when the tab has none),
- logs every change to ``Merge Log`` with the value before, and every conflicting
  value it did *not* copy (Before = After = the other record's value), so nothing is
  lost.

``undo_plan`` reads the log back and builds edits that restore each cell's value
before, each checked against the value the merge wrote: a cell the owner changed
since is left alone and the summary says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from .errors import NothingToUndo, TabNotFound
from .findings import Location, column_index
from .model import Customer
from .normalize import text
from .workbook import Cell, CellEdit, Table, ToolTab, Workbook, WritePlan, is_blank, same_cell

MERGE_LOG = "Merge Log"
MERGE_LOG_HEADERS = [
    "Merged at",
    "Cluster ID",
    "Action",
    "Survivor",
    "Merged record",
    "Tab",
    "Cell",
    "Column",
    "Before",
    "After",
    "Note",
]
MERGED_INTO_HEADER = "Merged into"
LOG_NOTE = (
    "Every change a merge or an undo made to your tabs, with the value before. "
    "Rows where Before equals After are values that were not copied (kept here so nothing is lost). "
    "`sheet-crm undo-merge WORKBOOK CLUSTER_ID` puts a merge back."
)

# Columns a merge never copies between records.
_NOT_COPIED = {"customer_id", "merged_into"}


def merge_log_tab(rows: list[list[Cell]]) -> ToolTab:
    return ToolTab(
        MERGE_LOG,
        list(MERGE_LOG_HEADERS),
        rows,
        note=LOG_NOTE,
        append_only=True,
        widths={"Merged at": 18, "Cell": 14, "Before": 28, "After": 28, "Note": 60},
    )


@dataclass
class Survivor:
    """The record that stays, and why it was chosen."""

    customer: Customer
    reason: str


def completeness(table: Table, customer: Customer) -> int:
    """How many of the record's cells are filled in."""
    row = table.row_at(customer.row)
    return sum(not is_blank(v) for v in row.values) if row else 0


def choose_survivor(
    table: Table, members: Sequence[Customer], orders: dict[str, int], keep: Sequence[str] = ()
) -> Survivor:
    """The stated rule: the owner's Keep mark; else most orders; then the most filled-in
    record; then the oldest (earliest Customer since); then the highest in the tab."""
    marked = [c for c in members if c.key in keep and c.customer_id]
    if marked:
        return Survivor(marked[0], "you marked it Keep")
    with_id = [c for c in members if c.customer_id] or list(members)

    def rank(c: Customer) -> tuple[int, int, str, int]:
        since = c.customer_since.isoformat() if c.customer_since else "9999"
        return (-orders.get(c.key, 0), -completeness(table, c), since, c.row)

    ordered = sorted(with_id, key=rank)
    best = ordered[0]
    if len(ordered) == 1:
        return Survivor(best, "the only record with a Customer ID")
    second = ordered[1]
    n_best, n_second = orders.get(best.key, 0), orders.get(second.key, 0)
    if n_best != n_second:
        return Survivor(best, f"most orders ({n_best})")
    if completeness(table, best) != completeness(table, second):
        return Survivor(best, f"most complete ({completeness(table, best)} cells filled)")
    if best.customer_since and best.customer_since != second.customer_since:
        return Survivor(best, f"oldest customer (since {best.customer_since.isoformat()})")
    return Survivor(best, f"highest in the tab (row {best.row})")


@dataclass
class MergeOutcome:
    cluster_id: str
    survivor: str
    merged: list[str]
    edits: list[CellEdit] = field(default_factory=list)
    log_rows: list[list[Cell]] = field(default_factory=list)
    filled: dict[str, Cell] = field(default_factory=dict)  # field -> value copied to the survivor
    conflicts: int = 0
    skipped: str = ""  # why nothing was done, when nothing was

    @property
    def summary(self) -> str:
        if self.skipped:
            return f"Did not merge {self.cluster_id}: {self.skipped}"
        extra = f", filled {len(self.filled)} blank cell(s)" if self.filled else ""
        kept = f", {self.conflicts} differing value(s) kept in Merge Log" if self.conflicts else ""
        return f"Merged {self.cluster_id}: {', '.join(self.merged)} into {self.survivor}{extra}{kept}."


def _cell_ref(tab: str, row: int, column: int) -> str:
    return Location(tab, row, column).cell


class Merger:
    """Plans the merges of one run against the Customers tab as read. Adds the
    ``Merged into`` header at most once."""

    def __init__(self, table: Table, now: datetime) -> None:
        self.table = table
        self.now = now.replace(microsecond=0)
        self.rows = {row.number: row for row in table.rows}
        index = table.index("merged_into")
        self.header_added = False
        if index is not None:
            self.merged_into_column = table.column_number(index)
            self.merged_into_index: int | None = index
        else:
            self.merged_into_column = table.column_number(len(table.headers))
            self.merged_into_index = None

    def _value(self, customer: Customer, index: int | None) -> Cell:
        row = self.rows.get(customer.row)
        return row.get(index) if row is not None else None

    def merge(
        self, cluster_id: str, survivor: Customer, others: Sequence[Customer], note: str = ""
    ) -> MergeOutcome:
        """The edits and log rows that merge ``others`` into ``survivor``."""
        tab = self.table.name
        outcome = MergeOutcome(cluster_id, survivor.key, [c.key for c in others])
        if not survivor.customer_id:
            outcome.skipped = (
                f"the record to keep (row {survivor.row}) has no Customer ID; "
                "give it one (sheet-crm validate fills blank IDs) and run again"
            )
            return outcome
        others = [c for c in others if not c.merged_into and c.key != survivor.key]
        if not others:
            outcome.skipped = "the other records are already merged"
            return outcome
        outcome.merged = [c.key for c in others]

        def log(
            donor: Customer, row: int, column: int, header: str, before: Cell, after: Cell, why: str
        ) -> None:
            outcome.log_rows.append(
                [
                    self.now,
                    cluster_id,
                    "merge",
                    survivor.customer_id,
                    donor.key,
                    tab,
                    _cell_ref(tab, row, column),
                    header,
                    before,
                    after,
                    f"{why}{'; ' + note if note else ''}",
                ]
            )

        # Blank cells of the survivor, filled from the others in order of preference.
        for fieldname, index in sorted(self.table.fields.items(), key=lambda kv: kv[1]):
            if fieldname in _NOT_COPIED:
                continue
            header = self.table.headers[index]
            column = self.table.column_number(index)
            mine = self._value(survivor, index)
            for donor in others:
                theirs = self._value(donor, index)
                if is_blank(theirs):
                    continue
                if is_blank(mine) and fieldname not in outcome.filled:
                    outcome.edits.append(
                        CellEdit(
                            tab,
                            survivor.row,
                            column,
                            mine,
                            theirs,
                            f"merge {cluster_id}: fill {header} of {survivor.customer_id} from {donor.key}",
                        )
                    )
                    outcome.filled[fieldname] = theirs
                    log(donor, survivor.row, column, header, mine, theirs, f"filled from {donor.key}")
                    continue
                kept = outcome.filled.get(fieldname, mine)
                if _same_text(kept, theirs):
                    continue
                outcome.conflicts += 1
                log(
                    donor,
                    donor.row,
                    column,
                    header,
                    theirs,
                    theirs,
                    f"differs: {survivor.customer_id} keeps '{text(kept)}'; not copied",
                )
        # The header of the Merged into column, once per run.
        if self.merged_into_index is None and not self.header_added:
            self.header_added = True
            column = self.merged_into_column
            outcome.edits.append(
                CellEdit(
                    tab, self.table.header_row, column, None, MERGED_INTO_HEADER, "add the Merged into column"
                )
            )
            log(
                survivor,
                self.table.header_row,
                column,
                MERGED_INTO_HEADER,
                None,
                MERGED_INTO_HEADER,
                "added the column",
            )
        for donor in others:
            before = self._value(donor, self.merged_into_index)
            outcome.edits.append(
                CellEdit(
                    tab,
                    donor.row,
                    self.merged_into_column,
                    before,
                    survivor.customer_id,
                    f"merge {cluster_id}: {donor.key} merged into {survivor.customer_id}",
                )
            )
            log(
                donor,
                donor.row,
                self.merged_into_column,
                MERGED_INTO_HEADER,
                before,
                survivor.customer_id,
                f"{donor.key} now counts as {survivor.customer_id}",
            )
        return outcome


def _same_text(a: Cell, b: Cell) -> bool:
    return " ".join(text(a).casefold().split()) == " ".join(text(b).casefold().split())


# ---------------------------------------------------------------- undo

_REF = re.compile(r"^(?:'((?:[^']|'')+)'|([^!]+))!([A-Z]+)([0-9]+)$")


def parse_ref(ref: str) -> tuple[str, int, int]:
    """``"Customers!E7"`` -> ``("Customers", 7, 5)``; quoted tab names too."""
    m = _REF.match(ref.strip())
    if not m:
        raise ValueError(ref)
    tab = m.group(1).replace("''", "'") if m.group(1) is not None else m.group(2)
    return tab, int(m.group(4)), column_index(m.group(3))


def _current(table: Table, row: int, column: int) -> Cell:
    i = column - table.first_column
    if row == table.header_row:
        return table.headers[i] if 0 <= i < len(table.headers) else None
    found = table.row_at(row)
    return found.get(i) if found else None


def undo_plan(workbook: Workbook, cluster_id: str, now: datetime) -> tuple[WritePlan, list[str]]:
    """Edits that put back what the last merge of ``cluster_id`` changed, and 'undo'
    rows for the Merge Log. Raises ``NothingToUndo`` when the log has no such merge
    or it was undone already."""
    log = workbook.tab(MERGE_LOG)
    wanted = cluster_id.strip().casefold()
    if log is None or not log.headers:
        raise NothingToUndo(
            f"There is nothing to undo for {cluster_id}: the workbook has no Merge Log tab.",
            "Check the cluster ID in the Duplicates or Merge Log tab.",
        )
    pos = {h: i for i, h in enumerate(log.headers)}
    missing = [h for h in ("Cluster ID", "Action", "Cell", "Before", "After") if h not in pos]
    if missing:
        raise NothingToUndo(
            f"The Merge Log tab has no {', '.join(missing)} column, so the merge cannot be undone.",
            "Put the Merge Log headers back as sheet-crm wrote them.",
        )
    pending: list[list[Cell]] = []
    undone = False
    for row in log.rows:
        values = [row.get(i) for i in range(len(log.headers))]
        if text(values[pos["Cluster ID"]]).casefold() != wanted:
            continue
        action = text(values[pos["Action"]]).casefold()
        if action == "undo":
            pending, undone = [], True
        elif action == "merge":
            pending.append(values)
    if not pending:
        why = "it was undone already" if undone else "the Merge Log has no merge with that ID"
        raise NothingToUndo(
            f"There is nothing to undo for {cluster_id}: {why}.",
            "Check the cluster ID in the Merge Log tab.",
        )
    now = now.replace(microsecond=0)

    def get(values: list[Cell], header: str) -> Cell:
        return values[pos[header]] if header in pos else None

    edits: list[CellEdit] = []
    log_rows: list[list[Cell]] = []
    left_alone: list[str] = []
    restored_blank: dict[tuple[str, int], set[int]] = {}  # (tab, column) -> rows set back to blank
    header_rows: list[tuple[list[Cell], str, int, int]] = []
    for values in pending:
        before, after = get(values, "Before"), get(values, "After")
        if same_cell(before, after):
            continue  # a value that was only logged, never written
        ref = text(get(values, "Cell"))
        try:
            tab, row, column = parse_ref(ref)
        except ValueError:
            left_alone.append(f"{ref} (not a cell reference)")
            continue
        table = workbook.tab(tab)
        if table is None:
            raise TabNotFound(f"The merge changed the {tab} tab, which is no longer in the workbook.")
        if row == table.header_row:
            header_rows.append((values, tab, row, column))
            continue
        current = _current(table, row, column)
        note = "put back"
        if same_cell(current, after):
            edits.append(CellEdit(tab, row, column, current, before, f"undo merge {cluster_id}"))
            if is_blank(before):
                restored_blank.setdefault((tab, column), set()).add(row)
        else:
            note = f"left alone: it now holds '{text(current)}', changed since the merge"
            left_alone.append(ref)
        log_rows.append(
            _undo_row(now, cluster_id, values, pos, current, before if note == "put back" else current, note)
        )
    # The Merged into header goes only when no other row still uses the column.
    for values, tab, row, column in header_rows:
        table = workbook.tab(tab)
        assert table is not None
        current = _current(table, row, column)
        after = get(values, "After")
        i = column - table.first_column
        blanked = restored_blank.get((tab, column), set())
        in_use = [r.number for r in table.rows if not is_blank(r.get(i)) and r.number not in blanked]
        ref = text(get(values, "Cell"))
        if not same_cell(current, after):
            note = f"left alone: it now holds '{text(current)}'"
            left_alone.append(ref)
        elif in_use:
            note = "left in place: other merges still use this column"
        else:
            edits.append(
                CellEdit(tab, row, column, current, get(values, "Before"), f"undo merge {cluster_id}")
            )
            note = "put back"
        log_rows.append(
            _undo_row(
                now,
                cluster_id,
                values,
                pos,
                current,
                get(values, "Before") if note == "put back" else current,
                note,
            )
        )
    summary = [f"Undo {cluster_id}: {len(edits)} cell(s) put back as they were before the merge."]
    if left_alone:
        summary.append(f"Left alone (changed since the merge, so your edit wins): {', '.join(left_alone)}.")
    plan = WritePlan(tabs=[merge_log_tab(log_rows)], edits=edits, generated_at=now)
    return plan, summary


def _undo_row(
    now: datetime,
    cluster_id: str,
    values: list[Cell],
    pos: dict[str, int],
    current: Cell,
    after: Cell,
    note: str,
) -> list[Cell]:
    def get(header: str) -> Cell:
        return values[pos[header]] if header in pos else None

    return [
        now,
        cluster_id,
        "undo",
        get("Survivor"),
        get("Merged record"),
        get("Tab"),
        get("Cell"),
        get("Column"),
        current,
        after,
        note,
    ]
