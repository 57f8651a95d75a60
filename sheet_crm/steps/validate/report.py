"""Turning what validation finds into findings: the message templates filled in, the
cell as typed beside each finding, and the problems the model kept for date cells.

The model has already read every cell and kept its problems (``model.Problem``); the
cell as typed is read again here only as the value a finding shows the owner.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ...findings import FindingList, Location
from ...model import Problem
from ...normalize import text
from ...workbook import Cell, Row, Table
from .catalogue import TEMPLATES

# Fields validation finds unusable, by the record's index in its list (the pipeline adds
# them to each record's ``invalid``).
Marks = dict[int, set[str]]


def mark(marks: Marks, i: int, fieldname: str) -> None:
    found = marks.get(i)
    if found is None:
        marks[i] = {fieldname}
    else:
        found.add(fieldname)


class Reporter:
    """Adds findings made from the catalogue's templates (``catalogue.MESSAGES``)."""

    def __init__(self, findings: FindingList) -> None:
        self.findings = findings

    def add(
        self,
        code: str,
        location: Location,
        *,
        value: Any = None,
        suggestion: Any = None,
        customer_id: str = "",
        **words: Any,
    ) -> None:
        severity, problem, fix, needs_format = TEMPLATES[code]
        if needs_format:
            words["value"] = text(value)
            words["suggestion"] = text(suggestion) if suggestion is not None else ""
            problem, fix = problem.format_map(words), fix.format_map(words)
        self.findings.add(
            code,
            severity,
            location,
            problem,
            fix,
            value=value,
            suggestion=suggestion,
            customer_id=customer_id if customer_id and not customer_id.startswith("row:") else "",
        )

    def date_problems(
        self,
        table: Table,
        row: Row | int,
        fieldname: str,
        problems: tuple[Problem, ...],
        raw: Cell,
        parsed: date | None,
        customer_id: str,
    ) -> None:
        """The findings of a date cell's problems: unreadable, a year, stored as a
        number, or ambiguous (a formula error was reported when the tab was read)."""
        for p in problems:
            if p.kind == "year":
                self.add(
                    "date-invalid",
                    table.location(row, fieldname),
                    value=raw,
                    problem=f"{text(raw)} is a year, not a date",
                    customer_id=customer_id,
                )
            elif p.kind == "unreadable":
                self.add(
                    "date-invalid",
                    table.location(row, fieldname),
                    value=raw,
                    problem=_capital(p.detail or f"'{text(raw)}' is not a date"),
                    customer_id=customer_id,
                )
            elif p.kind == "as-number":
                self.add(
                    "date-as-number",
                    table.location(row, fieldname),
                    value=raw,
                    suggestion=parsed,
                    customer_id=customer_id,
                )
            elif p.kind == "ambiguous" and parsed is not None:
                other = date(parsed.year, parsed.day, parsed.month)
                first, second = sorted((parsed, other), key=lambda d: d != parsed)
                self.add(
                    "date-ambiguous",
                    table.location(row, fieldname),
                    value=raw,
                    suggestion=parsed,
                    first=_long(first),
                    second=_long(second),
                    customer_id=customer_id,
                )


class Cells:
    """The cells of one tab as typed, for the value a finding shows. Records are in the
    tab's row order, so the record at index ``i`` is normally the row at index ``i``."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.rows = table.rows

    def row(self, i: int, number: int) -> Row | None:
        rows = self.rows
        if i < len(rows) and rows[i].number == number:
            return rows[i]
        return self.table.row_at(number)

    def get(self, i: int, number: int, fieldname: str) -> Cell:
        row = self.row(i, number)
        return self.table.value(row, fieldname) if row is not None else None


def shown_number(value: Cell) -> str:
    """An impossible number as the owner can read it: 'infinity' rather than 'inf'."""
    if isinstance(value, float) and value != value:
        return "NaN (not a number)"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "infinity" if value > 0 else "minus infinity"
    shown = text(value)
    return shown if len(shown) <= 40 else f"{shown[:20]}... ({len(shown)} characters)"


def has_kind(problems: tuple[Problem, ...], kind: str) -> Problem | None:
    """The first problem of ``kind`` among ``problems``."""
    return next((p for p in problems if p.kind == kind), None)


def _capital(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def _long(d: date) -> str:
    return f"{d.day} {d.strftime('%B')} {d.year}"
