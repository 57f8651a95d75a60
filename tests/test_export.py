"""Exported drafts: .eml files a mail client opens as drafts, and a CSV that a
spreadsheet cannot run as formulas."""

from __future__ import annotations

import csv
from datetime import datetime
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from sheet_crm.export import CSV_NAME, guard_cell
from sheet_crm.steps.outreach import Draft, OutreachResult, export_drafts

WHEN = datetime(2026, 11, 22, 10, 30)


def draft(did: str, channel: str, status: str = "approve", **kw: object) -> Draft:
    values: dict[str, object] = {
        "draft_id": did,
        "customer_id": "C-1",
        "name": "Zoë Brontë",
        "trigger": "Birthday",
        "channel": channel,
        "to": {"email": "zoe@example.com", "sms": "+447400123456", "phone": "+442079460000"}.get(
            channel, "x"
        ),
        "subject": "Happy birthday, Zoë! 🎂" if channel == "email" else "",
        "message": "Hi Zoë,\n\nHappy birthday from all of us — have a lovely day.\n\nMia",
        "send_at": datetime(2026, 11, 23, 9, 0),
        "status": status,
        "to_name": "Zoë Brontë",
    }
    values.update(kw)
    return Draft(**values)  # type: ignore[arg-type]


def result(*drafts: Draft) -> OutreachResult:
    return OutreachResult(
        list(drafts),
        business_name="Tea Shop",
        sender_name="Mia Ng",
        sender_email="mia@teashop.example",
        timezone="Europe/London",
        generated_at=WHEN,
    )


def test_approved_email_drafts_become_eml_files_that_parse_back(tmp_path: Path) -> None:
    paths = export_drafts(
        result(draft("D-0000000001", "email"), draft("D-0000000002", "email", status="")), tmp_path
    )
    assert [p.name for p in paths] == ["D-0000000001-zoe_bronte.eml"]
    raw = paths[0].read_bytes()
    assert b"\r\n" in raw  # RFC 5322 line endings
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert msg["From"] == "Mia Ng <mia@teashop.example>"
    assert msg["To"] == "Zoë Brontë <zoe@example.com>"
    assert msg["To"].addresses[0].addr_spec == "zoe@example.com"
    assert msg["Subject"] == "Happy birthday, Zoë! 🎂"
    assert msg["X-Unsent"] == "1"
    assert msg["Message-ID"].startswith("<D-0000000001.") and msg["Message-ID"].endswith("@teashop.example>")
    assert parsedate_to_datetime(msg["Date"]) == datetime.fromisoformat("2026-11-22T10:30:00+00:00")
    body = msg.get_body(("plain",))
    assert body is not None
    assert body.get_content_charset() == "utf-8"
    assert (
        body.get_content().replace("\r\n", "\n")
        == "Hi Zoë,\n\nHappy birthday from all of us — have a lovely day.\n\nMia\n"
    )
    # Headers stay ASCII on the wire (encoded words), so any mail client reads them.
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()


def test_exporting_twice_gives_the_same_file(tmp_path: Path) -> None:
    r = result(draft("D-0000000001", "email"))
    first = export_drafts(r, tmp_path / "a")[0].read_bytes()
    second = export_drafts(r, tmp_path / "b")[0].read_bytes()
    assert first == second


def test_sms_phone_and_letter_drafts_go_to_one_csv_guarded_against_formulas(tmp_path: Path) -> None:
    r = result(
        draft("D-0000000001", "sms", message='=HYPERLINK("http://evil.example","hi")'),
        draft("D-0000000002", "phone", name="@SUM(A1)", message="Call script"),
        draft("D-0000000003", "letter", message="-2+3", to="1 High St\nLeeds"),
        draft("D-0000000004", "sms", status="skip"),
        draft("D-0000000005", "sms", blocked="now Do not contact"),
    )
    paths = export_drafts(r, tmp_path)
    assert [p.name for p in paths] == [CSV_NAME]
    with paths[0].open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [row["Draft ID"] for row in rows] == ["D-0000000001", "D-0000000002", "D-0000000003"]
    assert rows[0]["Message"] == '\'=HYPERLINK("http://evil.example","hi")'
    assert rows[0]["To"] == "'+447400123456"
    assert rows[1]["Name"] == "'@SUM(A1)"
    assert rows[2]["Message"] == "'-2+3"
    assert rows[2]["To"] == "1 High St\nLeeds"
    assert rows[0]["Send at"] == "2026-11-23 09:00"


def test_guard_cell() -> None:
    for bad in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx"):
        assert guard_cell(bad) == "'" + bad
    assert guard_cell("Hello = world") == "Hello = world"
    assert guard_cell("") == ""


def test_nothing_approved_writes_nothing(tmp_path: Path) -> None:
    assert export_drafts(result(draft("D-0000000001", "email", status="sent")), tmp_path / "out") == []
