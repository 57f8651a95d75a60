"""The small interface every backend implements, and the helpers they share."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import date, datetime
from pathlib import Path

from ..errors import UnsupportedWorkbook, UsageError
from ..workbook import Cell, ToolTab, Workbook, WritePlan, WriteReport, generated_note, is_blank


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


def open_backend(target: str | Path, **options: object) -> Backend:
    """The backend for a workbook named on the command line or in a job file:
    ``memory:``, a Google Sheet URL or ``gsheet:ID``, or a path to an ``.xlsx``."""
    text = str(target)
    if text.startswith("memory:"):
        from .memory import MemoryBackend

        return MemoryBackend({})
    if text.startswith(("gsheet:", "https://docs.google.com/spreadsheets/")):
        from .gsheets import GoogleSheetsBackend  # type: ignore[import-not-found,unused-ignore]

        return GoogleSheetsBackend.from_target(text, **options)  # type: ignore[no-any-return]
    if not text:
        raise UsageError("No workbook was named.", "Give the path of an .xlsx file.")
    suffix = Path(text).suffix.lower()
    if suffix in {".xlsx", ".xlsm"} or not suffix:
        from .xlsx import XlsxBackend  # type: ignore[import-not-found,unused-ignore]

        return XlsxBackend(Path(text), **options)  # type: ignore[no-any-return]
    raise UnsupportedWorkbook(
        f"{text} is a {suffix} file; sheet-crm works on .xlsx workbooks and Google Sheets.",
        "Open it in Excel or LibreOffice and save it as an Excel Workbook (.xlsx), "
        "then run sheet-crm on the .xlsx file.",
        where=text,
    )


def tool_tab_grid(tab: ToolTab, when: datetime) -> list[list[Cell]]:
    """A tool tab as rows of cells: the generated note, the header, the data."""
    return [[generated_note(tab, when)], list(tab.headers), *[list(r) for r in tab.rows]]


def same_cell(a: Cell, b: Cell) -> bool:
    """Whether a cell still holds what was read (blank == blank; a date equals its
    midnight datetime; 3 == 3.0)."""
    if is_blank(a) and is_blank(b):
        return True

    def norm(v: Cell) -> Cell:
        if isinstance(v, datetime) and v.time() == datetime.min.time():
            return v.date()
        if isinstance(v, bool):
            return v
        if isinstance(v, int | float) and float(v).is_integer():
            return int(v)
        if isinstance(v, str):
            return v
        return v

    na, nb = norm(a), norm(b)
    if isinstance(na, date) and isinstance(nb, date):
        return na == nb
    return na == nb
