"""Findings: problems in the owner's data, collected (never raised).

A finding has a stable ``code`` (a slug tests and scripts can rely on), a
severity, a location in the owner's own terms (tab, sheet row, column letter,
header) and plain words: the problem and the fix.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    if index < 1:
        raise ValueError(f"column index must be >= 1, got {index}")
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """A -> 1, AA -> 27."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def quote_tab(name: str) -> str:
    """A tab name as it appears in an A1 reference: quoted when it needs to be."""
    if name.replace("_", "a").isalnum() and not name[0].isdigit():
        return name
    return "'" + name.replace("'", "''") + "'"


@dataclass(frozen=True)
class Location:
    tab: str
    row: int | None = None  # the sheet's own row number (header row is usually 1)
    column: int | None = None  # 1-based
    header: str = ""

    @property
    def cell(self) -> str:
        """``Customers!E7``; ``Customers!7`` for a whole row, ``Customers`` for a tab."""
        ref = quote_tab(self.tab)
        if self.row is None and self.column is None:
            return ref
        col = column_letter(self.column) if self.column else ""
        row = str(self.row) if self.row is not None else ""
        return f"{ref}!{col}{row}"

    def __str__(self) -> str:
        return f"{self.cell} ({self.header})" if self.header else self.cell


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    location: Location
    problem: str
    fix: str = ""
    value: Any = None  # the value as typed
    suggestion: Any = None  # a corrected value, when there is one
    customer_id: str = ""

    @property
    def cell(self) -> str:
        return self.location.cell

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["severity"] = str(self.severity)
        d["cell"] = self.cell
        d["value"] = _jsonable(self.value)
        d["suggestion"] = _jsonable(self.suggestion)
        return d


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


@dataclass
class FindingList:
    """Collects findings; steps append, nobody raises."""

    items: list[Finding] = field(default_factory=list)

    def add(
        self,
        code: str,
        severity: Severity,
        location: Location,
        problem: str,
        fix: str = "",
        *,
        value: Any = None,
        suggestion: Any = None,
        customer_id: str = "",
    ) -> Finding:
        f = Finding(code, severity, location, problem, fix, value, suggestion, customer_id)
        self.items.append(f)
        return f

    def extend(self, others: list[Finding]) -> None:
        self.items.extend(others)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.items if f.severity is Severity.ERROR]
