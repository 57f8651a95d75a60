"""Approved drafts as files the owner can send from: ``.eml`` for email (opens as a
draft in Outlook, Thunderbird, Apple Mail) and a CSV for SMS, calls and letters.

The CSV is opened in a spreadsheet, so any cell that starts like a formula
(``=``, ``+``, ``-``, ``@``, tab, carriage return) gets a leading apostrophe: a
customer's note such as ``=HYPERLINK(...)`` stays text.
"""

from __future__ import annotations

import csv
import hashlib
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import NotWritable
from .workbook import FORMULA_LEADERS, slug

if TYPE_CHECKING:
    from .steps.outreach import Draft, OutreachResult

CSV_NAME = "outreach-drafts.csv"
CSV_HEADERS = ["Draft ID", "Customer ID", "Name", "Channel", "To", "Send at", "Subject", "Message", "Length"]


def guard_cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run: ``=1+1`` -> ``'=1+1``."""
    return "'" + value if value.startswith(FORMULA_LEADERS) else value


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def email_message(draft: Draft, result: OutreachResult) -> EmailMessage:
    """One approved email draft as an RFC 5322 message, marked unsent."""
    msg = EmailMessage()
    sender = result.sender_name or result.business_name
    if result.sender_email:
        msg["From"] = formataddr((sender, result.sender_email))
    msg["To"] = (
        formataddr((draft.to_name or draft.name, draft.to)) if draft.to_name or draft.name else draft.to
    )
    msg["Subject"] = draft.subject
    when = result.generated_at or datetime.now()
    zone = _zone(result.timezone)
    when = when.replace(tzinfo=zone) if when.tzinfo is None else when.astimezone(zone)
    msg["Date"] = format_datetime(when)
    domain = result.sender_email.rpartition("@")[2] or "sheet-crm.invalid"
    # The same draft exported twice keeps its Message-ID (a mail client sees one draft).
    token = hashlib.sha1(f"{draft.draft_id}|{draft.subject}|{draft.message}".encode()).hexdigest()[:12]
    msg["Message-ID"] = f"<{draft.draft_id}.{token}@{domain}>"
    msg["X-Unsent"] = "1"  # Outlook and others open the file as a draft to send
    msg["X-Sheet-CRM-Draft"] = draft.draft_id
    msg.set_content(draft.message + "\n", charset="utf-8")
    return msg


def export_drafts(result: OutreachResult, export_dir: Path) -> list[Path]:
    """Write approved drafts: one ``<draft id>-<name>.eml`` per email and one CSV for
    the rest (written only when there is a row for it). Blocked drafts (the customer
    is now Do not contact, merged or gone) are never written."""
    export_dir = Path(export_dir)
    try:
        export_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NotWritable(
            f"The folder {export_dir} cannot be created ({exc.strerror}).",
            "Choose a folder you can write to.",
        ) from exc
    written: list[Path] = []
    try:
        for draft in result.approved(["email"]):
            path = export_dir / f"{draft.draft_id}-{slug(draft.name)}.eml"
            path.write_bytes(email_message(draft, result).as_bytes(policy=SMTP))
            written.append(path)
        others = result.approved(["sms", "phone", "letter"])
        if others:
            path = export_dir / CSV_NAME
            # utf-8-sig: Excel reads the names' accents right only with the BOM.
            with path.open("w", newline="", encoding="utf-8-sig") as fh:
                writer = csv.writer(fh)
                writer.writerow(CSV_HEADERS)
                for d in others:
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
            written.append(path)
    except OSError as exc:
        raise NotWritable(
            f"Drafts could not be written to {export_dir} ({exc.strerror}).",
            "Check the folder is writable and has space.",
        ) from exc
    return written
