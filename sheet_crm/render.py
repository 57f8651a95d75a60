"""Results into tool tabs and terminal text. No I/O here."""

from __future__ import annotations

from collections.abc import Iterable

from .findings import Finding, Severity
from .workbook import ToolTab

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


def finding_line(f: Finding) -> str:
    value = f" [{f.value}]" if f.value not in (None, "") else ""
    fix = f" Fix: {f.fix}" if f.fix else ""
    return f"{f.severity}: {f.location}{value}: {f.problem}{fix}"
