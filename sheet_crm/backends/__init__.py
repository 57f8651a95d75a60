"""Storage backends: the only code that reads or writes a workbook.

``open_backend`` picks one from how the workbook is named. The xlsx and Google
backends are imported only when such a workbook is opened, so an xlsx run never
loads the Google client libraries (and a Google run never loads lxml).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UnsupportedWorkbook, UsageError
from .base import Backend
from .memory import MemoryBackend

__all__ = ["Backend", "MemoryBackend", "open_backend"]


def open_backend(target: str | Path, **options: object) -> Backend:
    """The backend for a workbook named on the command line or in a job file:
    ``memory:``, a Google Sheet URL or ``gsheet:ID``, or a path to an ``.xlsx``."""
    text = str(target)
    if text.startswith("memory:"):
        return MemoryBackend({})
    if text.startswith(("gsheet:", "https://docs.google.com/spreadsheets/")):
        from .gsheets import GoogleSheetsBackend

        return GoogleSheetsBackend.from_target(text, **options)
    if not text:
        raise UsageError("No workbook was named.", "Give the path of an .xlsx file.")
    suffix = Path(text).suffix.lower()
    if suffix in {".xlsx", ".xlsm"} or not suffix:
        from .xlsx import XlsxBackend

        return XlsxBackend(Path(text), **options)  # type: ignore[arg-type]
    raise UnsupportedWorkbook(
        f"{text} is a {suffix} file; sheet-crm works on .xlsx workbooks and Google Sheets.",
        "Open it in Excel or LibreOffice and save it as an Excel Workbook (.xlsx), "
        "then run sheet-crm on the .xlsx file.",
        where=text,
    )
