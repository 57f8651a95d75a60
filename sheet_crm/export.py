"""Approved drafts as files the owner can send from: ``.eml`` for email (opens as a
draft in Outlook, Thunderbird, Apple Mail) and a CSV for SMS, calls and letters.

The Outreach tab can be edited by anyone who shares the sheet, so nothing in it
decides where a file goes: file names are built from a safe form of the Draft ID,
every path is resolved and must sit directly in the export folder, and each file is
written whole (a temporary file renamed into place), never through a link.

Exporting has two halves. ``plan_export`` is pure: it builds every file in memory
and lists each approved draft it leaves out, and why (the outreach step has already
turned those into findings at their cells). ``write_export`` then writes the files
and, if the disk fails half-way, says exactly which were written and which were not.

The CSV is opened in a spreadsheet, so a cell that a spreadsheet would run as a
formula gets a leading apostrophe (see ``guard_cell``).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import NotWritable
from .normalize import check_email
from .workbook import FORMULA_LEADERS, slug

if TYPE_CHECKING:
    from .steps.outreach import Draft, OutreachResult

CSV_NAME = "outreach-drafts.csv"
CSV_HEADERS = ["Draft ID", "Customer ID", "Name", "Channel", "To", "Send at", "Subject", "Message", "Length"]
MAX_NAME_PART = 40  # characters of the customer's name in a file name

# A whole cell that is just a number, optionally signed: ``+447700900123`` (a phone
# number in E.164), ``-12.50``. ASCII digits only.
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?", re.ASCII)
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9_-]")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def guard_cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run: ``=1+1`` -> ``'=1+1``.

    The rule: a cell gets a leading apostrophe when it starts with ``=``, ``@``, a tab
    or a carriage return, or when it starts with ``+`` or ``-`` and is not simply a
    number (``-1+2``, ``+1+cmd|' /C calc'!A0``). A signed number (``+447700900123``,
    ``-12.50``) is a value in every spreadsheet, not a formula, and SMS tools need the
    ``+`` of a phone number as it is."""
    if value.startswith(FORMULA_LEADERS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _display_name(name: str) -> str:
    """A name for a From or To header: one line, at most 200 characters."""
    return " ".join(_CONTROLS.sub(" ", name).split())[:200]


def sender_address(result: OutreachResult) -> str:
    """Settings' sender_email when it is one valid address, else ""."""
    return check_email(result.sender_email).normalized if result.sender_email.strip() else ""


def email_message(draft: Draft, result: OutreachResult) -> EmailMessage:
    """One approved email draft as an RFC 5322 message, marked unsent. The To is one
    checked address (``export_problem`` refuses anything else before this)."""
    to = check_email(draft.to).normalized
    if not to:
        raise ValueError("the To is not one email address")
    msg = EmailMessage()
    sender = sender_address(result)
    if sender:
        name = _display_name(result.sender_name or result.business_name)
        msg["From"] = Address(display_name=name, addr_spec=sender)
    msg["To"] = Address(display_name=_display_name(draft.to_name or draft.name), addr_spec=to)
    msg["Subject"] = draft.subject
    when = result.generated_at or datetime.now()
    zone = _zone(result.timezone)
    when = when.replace(tzinfo=zone) if when.tzinfo is None else when.astimezone(zone)
    msg["Date"] = format_datetime(when)
    domain = sender.rpartition("@")[2] or "sheet-crm.invalid"
    # The same draft exported twice keeps its Message-ID (a mail client sees one draft).
    token = hashlib.sha1(f"{draft.draft_id}|{draft.subject}|{draft.message}".encode()).hexdigest()[:12]
    msg["Message-ID"] = f"<{draft.draft_id}.{token}@{domain}>"
    msg["X-Unsent"] = "1"  # Outlook and others open the file as a draft to send
    msg["X-Sheet-CRM-Draft"] = draft.draft_id
    msg.set_content(draft.message + "\n", charset="utf-8")
    return msg


def file_name(draft: Draft) -> str:
    """``<draft id>-<name>.eml``, from safe characters only: whatever the Outreach tab
    holds, the name has no folder part, no ``..`` and a bounded length."""
    stem = _UNSAFE_IN_NAME.sub("_", draft.draft_id)[:64] or "draft"
    return f"{stem}-{slug(draft.name)[:MAX_NAME_PART]}.eml"


# ---------------------------------------------------------------- the plan


@dataclass(frozen=True)
class ExportFile:
    name: str  # in the export folder
    data: bytes
    draft_ids: tuple[str, ...]


@dataclass(frozen=True)
class Unexported:
    """An approved draft that is not written, and why (completes "Not exported: ...")."""

    draft_id: str
    reason: str


@dataclass
class ExportPlan:
    files: list[ExportFile] = field(default_factory=list)
    unexported: list[Unexported] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # about the export as a whole

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.files]


def plan_export(result: OutreachResult) -> ExportPlan:
    """Every file an export writes, built in memory, and every approved draft left
    out with the reason. Writes nothing."""
    from .steps.outreach import export_problem

    plan = ExportPlan()
    if result.sender_email.strip() and not sender_address(result):
        plan.notes.append(
            f"The sender_email setting '{_display_name(result.sender_email)[:60]}' is not one email "
            "address, so the exported emails have no From (your mail program fills it in)."
        )
    taken: set[str] = set()
    rows: list[Draft] = []
    for d in result.drafts:
        if d.status != "approve":
            continue
        if d.blocked:
            plan.unexported.append(Unexported(d.draft_id, d.blocked))
            continue
        problem = export_problem(d)
        if problem is not None:
            plan.unexported.append(Unexported(d.draft_id, problem.reason))
            continue
        if d.channel != "email":
            rows.append(d)
            continue
        name = file_name(d)
        if name.casefold() in taken:  # IDs differing only in case: one file on Windows and macOS
            plan.unexported.append(Unexported(d.draft_id, f"another approved draft is exported as {name}"))
            continue
        try:
            data = email_message(d, result).as_bytes(policy=SMTP)
        except (ValueError, TypeError, MessageError) as exc:
            plan.unexported.append(Unexported(d.draft_id, f"the email could not be made ({exc})"))
            continue
        taken.add(name.casefold())
        plan.files.append(ExportFile(name, data, (d.draft_id,)))
    if rows:
        plan.files.append(ExportFile(CSV_NAME, _csv_bytes(rows), tuple(d.draft_id for d in rows)))
    return plan


def _csv_bytes(drafts: list[Draft]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADERS)
    for d in drafts:
        cells = [
            d.draft_id,
            d.customer_id,
            d.name,
            d.channel,
            d.to,
            d.send_at.strftime("%Y-%m-%d %H:%M") if d.send_at else "",
            d.subject,
            d.message,
            d.length,
        ]
        writer.writerow([guard_cell(c) for c in cells])
    # utf-8-sig: Excel reads the names' accents right only with the BOM.
    return buffer.getvalue().encode("utf-8-sig")


# ---------------------------------------------------------------- writing


class ExportFailed(NotWritable):
    """The disk refused a file half-way through an export; says what was written."""

    def __init__(self, message: str, fix: str, written: list[Path]) -> None:
        super().__init__(message, fix)
        self.written = written


@dataclass
class ExportReport:
    written: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file name, why not written)


def check_export_dir(export_dir: Path) -> bool:
    """Refuse, before anything is written, a folder that cannot take the export: a
    file in its place, or a place we may not write. True when it exists already."""
    path = Path(export_dir)
    probe = path
    while not probe.exists() and not probe.is_symlink() and probe != probe.parent:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        where = "is a file" if probe == path else f"cannot be made: {probe} is a file"
        raise NotWritable(
            f"The export folder {path} {where}; nothing was written.",
            "Choose a folder for --export (it is created when it does not exist).",
        )
    if not os.access(probe, os.W_OK | os.X_OK):
        raise NotWritable(
            f"sheet-crm may not write in {probe}, so it cannot export to {path}; nothing was written.",
            "Choose a folder you can write to.",
        )
    return probe == path


def write_export(plan: ExportPlan, export_dir: Path) -> ExportReport:
    """Write the planned files into ``export_dir`` (created if need be). Each file
    replaces any earlier export of it whole; a file whose place is taken by a link
    (or anything leading outside the folder) is skipped and reported, never written
    through. A disk error stops the export with ``ExportFailed``, naming what was written."""
    report = ExportReport()
    if not plan.files:
        return report
    folder = Path(export_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        root = folder.resolve(strict=True)
    except OSError as exc:
        raise ExportFailed(
            f"The folder {folder} cannot be created ({exc.strerror}), so no drafts were exported.",
            "Choose a folder you can write to.",
            [],
        ) from exc
    for n, f in enumerate(plan.files):
        target = root / f.name
        why_not = _why_not_here(root, target)
        if why_not:
            report.skipped.append((f.name, why_not))
            continue
        try:
            _write_whole(root, target, f.data)
        except OSError as exc:
            done = ", ".join(p.name for p in report.written) or "none"
            after = len(plan.files) - n - 1
            raise ExportFailed(
                f"{len(report.written)} of {len(plan.files)} export files were written to {root} ({done}); "
                f"{f.name} could not be written ({exc.strerror or exc})"
                + (f", and the {after} after it were not written either." if after else "."),
                "Check the folder is writable and has space, then export again: files already "
                "written are replaced, not doubled.",
                list(report.written),
            ) from exc
        report.written.append(target)
    return report


def _why_not_here(root: Path, target: Path) -> str:
    """Why ``target`` must not be written, or ""."""
    if target.parent != root or target.name in ("", ".", ".."):
        return "its name would put it outside the export folder"
    if target.is_symlink():
        return "a link of that name in the export folder points elsewhere (sheet-crm never writes via links)"
    if target.exists() and target.resolve().parent != root:
        return "it would land outside the export folder"
    if target.exists() and not target.is_file():
        return "something that is not a file already has that name"
    return ""


def _write_whole(root: Path, target: Path, data: bytes) -> None:
    """Write to a temporary file in the folder, then rename it over ``target``: a
    reader never sees half a file, and a rename replaces a link rather than following it."""
    fd, tmp = tempfile.mkstemp(prefix=".sheet-crm-", suffix=".tmp", dir=root)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def export_drafts(result: OutreachResult, export_dir: Path) -> list[Path]:
    """Write approved drafts: one ``<draft id>-<name>.eml`` per email and one CSV for
    the rest (written only when there is a row for it). Blocked drafts (the customer
    is now Do not contact, merged or gone) and drafts that cannot be exported as they
    stand are never written. Returns the files written."""
    return write_export(plan_export(result), export_dir).written
