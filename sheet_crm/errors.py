"""Failures: things that stop a run. Each says what is wrong and what to do.

Problems *in the data* are not errors; they are findings (see ``findings.py``).
Every failure is a ``SheetCrmError`` so the CLI has one place that turns it into
``Error:`` / ``Fix:`` lines and an exit code, never a traceback.
"""

from __future__ import annotations


class SheetCrmError(Exception):
    """Base of every failure sheet-crm raises on purpose."""

    exit_code = 3

    def __init__(self, message: str, fix: str = "", *, where: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.where = where

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message

    def to_dict(self) -> dict[str, str]:
        return {
            "error": type(self).__name__,
            "message": self.message,
            "fix": self.fix,
            "where": self.where,
        }


class UsageError(SheetCrmError):
    """The command line or a job file asks for something that cannot be."""

    exit_code = 2


class WorkbookNotFound(SheetCrmError):
    """No file (or Google Sheet) at the place named."""


class UnsupportedWorkbook(SheetCrmError):
    """The file is not a workbook sheet-crm can edit safely (xls, ods, csv, Strict OOXML...)."""


class WorkbookProtected(SheetCrmError):
    """The workbook is password-protected (encrypted)."""


class WorkbookDamaged(UnsupportedWorkbook):
    """Part of the workbook cannot be read strictly: bad zip data or checksum, XML that is not
    well-formed, a tab whose part is missing, a cell outside Excel's grid."""


class UnsafeWorkbook(UnsupportedWorkbook):
    """The workbook holds what no spreadsheet program writes and a reader must not follow:
    a DTD (entity tricks), or a part that expands far beyond its compressed size (zip bomb)."""


class WorkbookLocked(SheetCrmError):
    """Excel, LibreOffice or another sheet-crm run has the workbook open."""


class WorkbookChanged(SheetCrmError):
    """The workbook changed between our read and our write; nothing was written."""


class TabNotFound(SheetCrmError):
    """A required tab is missing."""


class ColumnNotFound(SheetCrmError):
    """A required column is missing from a tab."""


class BadHeader(SheetCrmError):
    """A header row cannot be understood (for example two columns mean the same thing)."""


class WriteFailed(SheetCrmError):
    """Writing failed; the workbook was left as it was."""


class NotWritable(SheetCrmError):
    """The folder or file cannot be written (permissions, read-only medium)."""


class WorkbookTooLarge(SheetCrmError):
    """The workbook or the result exceeds a limit (of the spreadsheet, or sheet-crm's own
    limits on what it reads: part size, row size, empty cells)."""


class AuthError(SheetCrmError):
    """No usable Google credentials, or the sheet is not shared with them."""


class RemoteError(SheetCrmError):
    """Google's API kept failing (quota, server errors, network) after bounded retries."""


class ConfigError(SheetCrmError):
    """A setting or job file is invalid."""

    exit_code = 2


class NothingToUndo(SheetCrmError):
    """An undo names something the log does not have."""

    exit_code = 2


class AmbiguousTab(SheetCrmError):
    """Several tabs could be the same owner tab (two could be Customers) and nothing says
    which, or a setting names a tab that cannot be it.

    Exit code 2, like ``ConfigError``: nothing is wrong with the file or the machine, the
    owner has to say which tab (a setting) or rename one, and running again as it is can
    never succeed. (3 is for "could not run": a missing file, a lock, the network.)"""

    exit_code = 2
