"""The small interface every backend implements (and the contract suite holds them to)."""

from __future__ import annotations

from abc import ABC, abstractmethod

from ..workbook import Workbook, WritePlan, WriteReport


class Backend(ABC):
    """Reads a whole workbook; writes a ``WritePlan`` all or nothing.

    ``read`` returns every tab (owner and tool tabs) with ``Workbook.version`` set
    to what identifies this state of the workbook. ``write`` refuses with
    ``WorkbookChanged`` when the workbook is no longer at ``plan_version``.
    """

    kind: str = "backend"

    @abstractmethod
    def read(self) -> Workbook: ...

    @abstractmethod
    def write(self, plan: WritePlan, *, expected_version: str) -> WriteReport: ...

    @property
    @abstractmethod
    def label(self) -> str:
        """How the workbook is named to the owner (a path, or a Google Sheet title)."""
