"""Exported drafts: .eml files a mail client opens as drafts, and a CSV that a
spreadsheet cannot run as formulas."""

from __future__ import annotations

import csv
import errno
from datetime import datetime
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from sheet_crm.errors import NotWritable
from sheet_crm.export import (
    CSV_NAME,
    MAX_NAME_PART,
    ExportFailed,
    check_export_dir,
    file_name,
    guard_cell,
    plan_export,
    write_export,
)
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
    assert rows[0]["To"] == "+447400123456"  # a phone number in E.164 is not a formula: SMS tools need the +
    assert rows[1]["Name"] == "'@SUM(A1)"
    assert rows[2]["Message"] == "'-2+3"
    assert rows[2]["To"] == "1 High St\nLeeds"
    assert rows[0]["Send at"] == "2026-11-23 09:00"


@pytest.mark.parametrize(
    "formula",
    [
        "=1+1",
        '=HYPERLINK("http://evil.example","click")',
        "@SUM(A1:A9)",
        "-1+2",
        "+1+cmd|' /C calc'!A0",
        "+44 7700 900123",  # spaces: a spreadsheet reads +44 7700... as a formula
        "-",
        "+",
        "+1e5",
        "-2.",
        "+٣",  # not an ASCII digit
        "\tx",
        "\rx",
        "=",
    ],
)
def test_guard_cell_guards_what_a_spreadsheet_would_run(formula: str) -> None:
    assert guard_cell(formula) == "'" + formula


@pytest.mark.parametrize(
    "plain",
    [
        "+447700900123",
        "+15550100199",
        "-12.50",
        "+1",
        "-1",
        "42",
        "0044 7700 900123",
        "Hello = world",
        "",
        "x=1",
    ],
)
def test_guard_cell_leaves_numbers_and_plain_text_alone(plain: str) -> None:
    assert guard_cell(plain) == plain


def test_nothing_approved_writes_nothing(tmp_path: Path) -> None:
    assert export_drafts(result(draft("D-0000000001", "email", status="sent")), tmp_path / "out") == []


# ---------------------------------------------------------------- hostile Outreach values


def _all_files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def test_hostile_draft_ids_are_refused_and_nothing_lands_outside_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "abs" / "ESCAPED"
    hostile = [
        "../../../../" + str(tmp_path / "x" / "ESCAPED").lstrip("/"),
        "../ESCAPED",
        str(outside),
        "a/b",
        "a\\b",
        "D-" + "9" * 300,
        "D-1\r\nBcc: evil@example.org",
        "..",
        "",
    ]
    drafts = [draft(did, "email") for did in hostile] + [draft("D-0000000001", "email")]
    r = result(*drafts)
    plan = plan_export(r)
    assert plan.names == ["D-0000000001-zoe_bronte.eml"]
    assert [u.draft_id for u in plan.unexported] == hostile
    assert all("Draft ID cannot name a file" in u.reason for u in plan.unexported)

    export_dir = tmp_path / "out" / "inner"
    written = export_drafts(r, export_dir)
    assert written == [export_dir.resolve() / "D-0000000001-zoe_bronte.eml"]
    assert _all_files(tmp_path) == {tmp_path / "out", export_dir, export_dir / "D-0000000001-zoe_bronte.eml"}


def test_file_names_are_built_from_safe_characters_only() -> None:
    assert file_name(draft("D-0000000001", "email", name="../../etc/passwd")) == "D-0000000001-etc_passwd.eml"
    long = file_name(draft("D-0000000001", "email", name="Zoë " * 500))
    assert long.startswith("D-0000000001-zoe_zoe") and len(long) <= 64 + 1 + MAX_NAME_PART + 4
    # Even a draft that skipped the checks cannot name a path.
    assert file_name(draft("../../x", "email", name="")) == "______x-column.eml"


def test_a_link_in_the_export_folder_is_never_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    export_dir = tmp_path / "out"
    export_dir.mkdir()
    (export_dir / "D-0000000001-zoe_bronte.eml").symlink_to(victim)
    r = result(draft("D-0000000001", "email"), draft("D-0000000002", "sms"))
    report = write_export(plan_export(r), export_dir)
    assert victim.read_text() == "keep me"
    assert [p.name for p in report.written] == [CSV_NAME]
    assert [name for name, _why in report.skipped] == ["D-0000000001-zoe_bronte.eml"]
    assert "link" in report.skipped[0][1]


def test_a_disk_error_half_way_says_which_files_were_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sheet_crm.export as export

    real = export._write_whole
    calls: list[Path] = []

    def full_disk(root: Path, target: Path, data: bytes) -> None:
        calls.append(target)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(root, target, data)

    monkeypatch.setattr(export, "_write_whole", full_disk)
    r = result(draft("D-0000000001", "email"), draft("D-0000000002", "email"), draft("D-0000000003", "sms"))
    with pytest.raises(ExportFailed) as caught:
        export_drafts(r, tmp_path)
    assert caught.value.message == (
        f"1 of 3 export files were written to {tmp_path.resolve()} (D-0000000001-zoe_bronte.eml); "
        "D-0000000002-zoe_bronte.eml could not be written (No space left on device), "
        "and the 1 after it were not written either."
    )
    assert [p.name for p in caught.value.written] == ["D-0000000001-zoe_bronte.eml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["D-0000000001-zoe_bronte.eml"]  # no temp file left


@pytest.mark.parametrize(
    ("to", "subject", "reason"),
    [
        ("zoe@example.com, evil@example.org", "Hi", "is not one email address"),
        ("zoe@example.com; evil@example.org", "Hi", "is not one email address"),
        ("zoe@example.com\nBcc: evil@example.org", "Hi", "To has a line break"),
        ("", "Hi", "To is empty"),
        ("not an address", "Hi", "is not one email address"),
        ("zoe@example.com", "Hi\nBcc: evil@example.org", "Subject has a line break"),
        ("zoe@example.com", "Hi\u2028there", "Subject has a line break"),
    ],
)
def test_an_email_goes_to_exactly_one_checked_address(to: str, subject: str, reason: str) -> None:
    plan = plan_export(result(draft("D-0000000001", "email", to=to, subject=subject)))
    assert plan.files == []
    assert [u.draft_id for u in plan.unexported] == ["D-0000000001"]
    assert reason in plan.unexported[0].reason


def test_names_in_headers_are_one_line_and_cannot_add_recipients(tmp_path: Path) -> None:
    r = result(draft("D-0000000001", "email", name="Zoë\r\nBcc: evil@example.org", to_name=""))
    r.sender_name = "Mia\nCc: evil@example.org"
    raw = export_drafts(r, tmp_path)[0].read_bytes()
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert [a.addr_spec for a in msg["To"].addresses] == ["zoe@example.com"]
    assert msg["To"].addresses[0].display_name == "Zoë Bcc: evil@example.org"
    assert msg["From"].addresses[0].addr_spec == "mia@teashop.example"
    assert msg["Bcc"] is None and msg["Cc"] is None


def test_a_sender_email_that_is_not_one_address_leaves_the_from_out(tmp_path: Path) -> None:
    r = result(draft("D-0000000001", "email"))
    r.sender_email = "mia@teashop.example, evil@example.org"
    plan = plan_export(r)
    assert "is not one email address" in plan.notes[0]
    msg = BytesParser(policy=policy.default).parsebytes(plan.files[0].data)
    assert msg["From"] is None
    assert msg["Message-ID"].endswith("@sheet-crm.invalid>")


def test_planning_an_export_writes_nothing(tmp_path: Path) -> None:
    plan = plan_export(result(draft("D-0000000001", "email"), draft("D-0000000002", "sms")))
    assert plan.names == ["D-0000000001-zoe_bronte.eml", CSV_NAME]
    assert list(tmp_path.iterdir()) == []


def test_an_export_folder_that_is_a_file_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(NotWritable, match="is a file; nothing was written"):
        check_export_dir(tmp_path / "taken")
    with pytest.raises(NotWritable, match="cannot be made"):
        check_export_dir(tmp_path / "taken" / "inner")
    assert check_export_dir(tmp_path) is True
    assert check_export_dir(tmp_path / "new" / "inner") is False
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_a_tab_in_a_subject_is_not_a_line_break(tmp_path: Path) -> None:
    raw = export_drafts(result(draft("D-0000000001", "email", subject="Hi\tthere")), tmp_path)[0].read_bytes()
    assert BytesParser(policy=policy.default).parsebytes(raw)["Subject"] == "Hi\tthere"
