"""The jobs: pure functions of records (and ``today``) that return what to write.

Every step is ``run(ctx: Context) -> StepOutput``; it reads ``ctx`` and the results
of the steps before it (``ctx.results``), and never touches storage. ``STEPS``
names them in the order a sync runs them; ``READS`` says what each reads, and so
which steps must run before it (``DEPENDS``).

No step changes the records it is given. A step that learns something the later
steps must see returns it as data (``record_changes`` on its result: validation's
new Customer IDs and unusable fields, dedupe's merges), and the pipeline makes the
records the next step reads with ``records_after`` (new objects only for the records
that change). ``tests/test_pipeline_records.py`` runs every step on the demo
workbook and checks the records each was given are unchanged afterwards.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..config import Settings
from ..findings import FindingList
from ..model import RecordChanges, Records
from ..workbook import CellEdit, RowAppend, ToolTab, Workbook


@dataclass
class Context:
    workbook: Workbook
    records: Records  # what this step reads; no step changes them (see the module's docstring)
    settings: Settings
    today: date
    now: datetime
    findings: FindingList
    options: dict[str, Any] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)  # step name -> its result object
    requested: frozenset[str] = frozenset()  # the steps the owner asked for (not deps)


@dataclass
class StepOutput:
    """What a step wants written, and what it tells the owner."""

    tabs: list[ToolTab] = field(default_factory=list)
    edits: list[CellEdit] = field(default_factory=list)
    appends: list[RowAppend] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)  # plain lines for the terminal
    data: Any = None  # JSON-able result for --json
    result: Any = None  # the rich result later steps use (also put in ctx.results)
    counts: dict[str, int] = field(default_factory=dict)


StepFunction = Callable[[Context], StepOutput]

# name -> "module:function"; imported when first used.
STEPS: dict[str, str] = {
    "validate": "sheet_crm.steps.validate:run",
    "dedupe": "sheet_crm.steps.dedupe:run",
    "tiers": "sheet_crm.steps.tiers:run",
    "segments": "sheet_crm.steps.segments:run",
    "dashboard": "sheet_crm.steps.dashboard:run",
    "outreach": "sheet_crm.steps.outreach:run",
}



@dataclass(frozen=True)
class Reads:
    """What a step reads: owner and tool ``tabs`` (through the records or the
    workbook), and the earlier steps whose ``results`` it reads, directly in
    ``ctx.results`` or as what they add to the records (validation's Customer IDs)."""

    tabs: tuple[str, ...] = ()
    results: tuple[str, ...] = ()


READS: dict[str, Reads] = {
    # Customer IDs: every tab that may name one counts for the high-water mark.
    "validate": Reads(("Customers", "Orders", "Interactions", "Settings", "tool tabs")),
    # A merge needs the survivor's Customer ID, which validation gives a new customer.
    "dedupe": Reads(("Customers", "Orders", "Settings", "Duplicates"), ("validate",)),
    # Each customer's figures are keyed by the Customer ID validation gives out.
    "tiers": Reads(("Customers", "Orders", "Settings"), ("validate",)),
    "segments": Reads(("Customers", "Orders", "Interactions", "Segments", "Settings"), ("tiers",)),
    "dashboard": Reads(("Customers", "Orders", "Settings"), ("tiers", "segments")),
    # Outreach reads validation's normalised contact details only when it ran (see
    # ``outreach._Channels``), so validation is not a dependency of its own.
    "outreach": Reads(
        ("Customers", "Orders", "Interactions", "Settings", "Segments", "Templates", "Outreach"),
        ("tiers", "segments"),
    ),
}

# The steps each one needs first: the ones whose results it reads.
DEPENDS: dict[str, tuple[str, ...]] = {name: reads.results for name, reads in READS.items()}


def plan_steps(requested: Iterable[str]) -> list[str]:
    """The requested steps and everything they depend on, in sync order."""
    wanted: set[str] = set()

    def add(name: str) -> None:
        if name not in STEPS:
            raise KeyError(name)
        if name in wanted:
            return
        wanted.add(name)
        for dep in DEPENDS[name]:
            add(dep)

    for name in requested:
        add(name)
    return [name for name in STEPS if name in wanted]


def records_after(records: Records, result: Any) -> Records:
    """The records the next step reads: ``records`` with the changes a step's result
    asks for (``result.record_changes``, when it has any), copy-on-write."""
    changes: RecordChanges | None = getattr(result, "record_changes", None)
    return records.changed(changes) if changes else records


def load(name: str) -> StepFunction:
    module, _, function = STEPS[name].partition(":")
    return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]
