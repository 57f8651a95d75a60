"""The jobs: pure functions of records (and ``today``) that return what to write.

Every step is ``run(ctx: Context) -> StepOutput``; it reads ``ctx`` and the results
of the steps before it (``ctx.results``), and never touches storage. ``STEPS``
names them in the order a sync runs them; ``DEPENDS`` says what each needs first.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ..config import Settings
from ..findings import FindingList
from ..model import Records
from ..workbook import CellEdit, RowAppend, ToolTab, Workbook


@dataclass
class Context:
    workbook: Workbook
    records: Records
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

DEPENDS: dict[str, tuple[str, ...]] = {
    "validate": (),
    "dedupe": ("validate",),
    "tiers": ("validate",),
    "segments": ("tiers",),
    "dashboard": ("tiers", "segments"),
    "outreach": ("segments",),
}


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


def load(name: str) -> StepFunction:
    module, _, function = STEPS[name].partition(":")
    return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]
