"""Segments: built-in and owner-defined groups of customers, each membership with
its reason. The result types below are what outreach and the dashboard use."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SegmentDef:
    name: str
    description: str = ""
    rule: str = ""  # the owner's rule text ("" for built-ins)
    template: str = ""  # name of a message template in the Templates tab, if any
    builtin: bool = False
    active: bool = True
    source_row: int | None = None  # the Segments tab row it came from


@dataclass
class Membership:
    segment: str
    reason: str


@dataclass
class SegmentsResult:
    segments: list[SegmentDef]
    memberships: dict[str, list[Membership]] = field(default_factory=dict)  # Customer.key -> ...
    names: dict[str, str] = field(default_factory=dict)  # Customer.key -> display name

    def members_of(self, segment: str) -> list[dict[str, str]]:
        """The members of one segment (matched case-insensitively), with reasons."""
        wanted = segment.casefold()
        out = []
        for key, items in self.memberships.items():
            for m in items:
                if m.segment.casefold() == wanted:
                    out.append({"customer_id": key, "name": self.names.get(key, ""), "reason": m.reason})
        return out
