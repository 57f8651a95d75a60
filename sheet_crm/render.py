"""Results into tool tabs and terminal text. No I/O here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .findings import Finding, Severity
from .workbook import ToolTab, WritePlan

ISSUES_HEADERS = [
    "Severity",
    "Cell",
    "Tab",
    "Row",
    "Column",
    "Value",
    "Problem",
    "Fix",
    "Code",
    "Customer ID",
]

_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Errors first, then by tab, row and column (the order the owner walks the sheet)."""
    return sorted(
        findings,
        key=lambda f: (
            _ORDER[f.severity],
            f.location.tab,
            f.location.row or 0,
            f.location.column or 0,
            f.code,
        ),
    )


def issues_tab(findings: Iterable[Finding]) -> ToolTab:
    rows = []
    for f in sort_findings(findings):
        loc = f.location
        rows.append(
            [
                str(f.severity),
                loc.cell,
                loc.tab,
                loc.row,
                loc.header,
                None if f.value is None else str(f.value),
                f.problem,
                f.fix,
                f.code,
                f.customer_id or None,
            ]
        )
    return ToolTab(
        "Issues",
        ISSUES_HEADERS,
        rows,
        note="One row per problem found in your tabs; fix them there, not here.",
        widths={
            "Severity": 9,
            "Cell": 14,
            "Tab": 12,
            "Row": 6,
            "Column": 16,
            "Value": 24,
            "Problem": 60,
            "Fix": 50,
            "Code": 22,
            "Customer ID": 12,
        },
    )


SHOWN_VALUE = 60  # characters of a value a terminal finding line shows


def finding_line(f: Finding) -> str:
    """One finding for the terminal. A long value (a 400-digit number, a pasted page) is
    cut to its first ``SHOWN_VALUE`` characters and says how long it is; the Issues tab
    and ``--json`` keep it whole."""
    value = ""
    if f.value not in (None, ""):
        typed = str(f.value)
        if len(typed) > SHOWN_VALUE:
            typed = f"{typed[:SHOWN_VALUE]}... ({len(typed):,} characters)"
        value = f" [{typed}]"
    fix = f" Fix: {f.fix}" if f.fix else ""
    return f"{f.severity}: {f.location}{value}: {f.problem}{fix}"


def describe_plan(plan: WritePlan) -> dict[str, Any]:
    """What a run writes (or, on a dry run, would write): rows per tab, each cell edit
    in the owner's tabs with its value before and after, each row appended."""
    return {
        "tabs": {t.name: len(t.rows) for t in plan.tabs},
        "cell_edits": [
            {"cell": e.location.cell, "from": _plain(e.expected), "to": _plain(e.value), "reason": e.reason}
            for e in plan.edits
        ],
        "appends": [{"tab": a.tab, "reason": a.reason} for a in plan.appends],
    }


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return value.isoformat() if hasattr(value, "isoformat") else str(value)
