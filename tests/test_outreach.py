"""The outreach step: who gets a draft, who never does, the text, the IDs across
runs, and sent drafts logged in Interactions once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pytest
from conftest import TODAY

from sheet_crm.backends.memory import MemoryBackend
from sheet_crm.config import load_settings
from sheet_crm.findings import FindingList
from sheet_crm.model import build_records
from sheet_crm.steps import Context, StepOutput
from sheet_crm.steps.outreach import HEADERS, draft_id, run
from sheet_crm.steps.segments import Membership, SegmentDef, SegmentsResult
from sheet_crm.steps.tiers import CustomerValue, TiersResult
from sheet_crm.workbook import Cell

NOW = datetime(2026, 11, 22, 10, 30)  # a Sunday
SETTINGS = {"business_name": "Tea Shop", "sender_name": "Mia", "sender_email": "mia@teashop.example"}

CUSTOMER_HEADERS = [
    "Customer ID",
    "First name",
    "Last name",
    "Company",
    "Role",
    "Email",
    "Phone",
    "Preferred channel",
    "Best time to contact",
    "Address",
    "City",
    "Postcode",
    "Birthday",
    "Referred by",
    "Email opt-in",
    "SMS opt-in",
    "Do not contact",
    "Preferences",
    "Notes",
    "Merged into",
]


def customer(cid: str, first: str = "", **kw: Any) -> list[Cell]:
    """A Customers row with consent to email by default."""
    values: dict[str, Cell] = {
        "Customer ID": cid,
        "First name": first,
        "Email": f"{cid.lower()}@example.com",
        "Email opt-in": "yes",
    }
    for key, value in kw.items():
        values[key.replace("_", " ").capitalize() if key not in _KEYS else _KEYS[key]] = value
    return [values.get(h) for h in CUSTOMER_HEADERS]


_KEYS = {
    "last": "Last name",
    "company": "Company",
    "role": "Role",
    "email": "Email",
    "phone": "Phone",
    "channel": "Preferred channel",
    "best": "Best time to contact",
    "address": "Address",
    "city": "City",
    "postcode": "Postcode",
    "birthday": "Birthday",
    "referred_by": "Referred by",
    "email_opt_in": "Email opt-in",
    "sms_opt_in": "SMS opt-in",
    "dnc": "Do not contact",
    "preferences": "Preferences",
    "notes": "Notes",
    "merged_into": "Merged into",
}

ORDER_HEADERS = ["Order ID", "Customer", "Date", "Amount", "Product"]
INTERACTION_HEADERS = [
    "Date",
    "Customer",
    "Channel",
    "Direction",
    "Summary",
    "Outcome",
    "Satisfaction",
    "Follow up",
]


def sheets(
    customers: Sequence[list[Cell]],
    orders: Sequence[Sequence[Cell]] = (),
    interactions: Sequence[Sequence[Cell]] = (),
    templates: Sequence[Sequence[Cell]] | None = None,
    extra: dict[str, list[list[Cell]]] | None = None,
) -> dict[str, list[list[Cell]]]:
    out: dict[str, list[list[Cell]]] = {
        "Customers": [CUSTOMER_HEADERS, *customers],
        "Orders": [ORDER_HEADERS, *[list(o) for o in orders]],
        "Interactions": [INTERACTION_HEADERS, *[list(i) for i in interactions]],
    }
    if templates is not None:
        out["Templates"] = [["Name", "Channel", "Subject", "Body", "Offer"], *[list(t) for t in templates]]
    out.update(extra or {})
    return out


def make_ctx(
    grid: dict[str, list[list[Cell]]],
    *,
    tiers: dict[str, str] | None = None,
    segments: SegmentsResult | None = None,
    settings: dict[str, Any] | None = None,
) -> Context:
    backend = MemoryBackend(grid)
    wb = backend.read()
    findings = FindingList()
    cfg, _ = load_settings(wb, {**SETTINGS, **(settings or {})}, environ={}, findings=findings)
    records = build_records(wb, cfg, findings)
    ctx = Context(wb, records, cfg, TODAY, NOW, findings)
    ctx.results["tiers"] = TiersResult({k: CustomerValue(k, tier=t) for k, t in (tiers or {}).items()})
    ctx.results["segments"] = segments or SegmentsResult([])
    return ctx


def drafts(out: StepOutput) -> dict[str, dict[str, Cell]]:
    """Outreach rows by Customer ID."""
    return {row[1]: dict(zip(HEADERS, row, strict=True)) for row in out.tabs[0].rows}  # type: ignore[misc]


def codes(ctx: Context) -> list[tuple[str, str]]:
    return [(f.cell, f.code) for f in ctx.findings]


# ---------------------------------------------------------------- triggers


def test_thank_you_after_a_first_order() -> None:
    ctx = make_ctx(sheets([customer("C-1", "Ann")], orders=[["O-1", "C-1", "2026-11-15", 25, "Teapot"]]))
    row = drafts(run(ctx))["C-1"]
    assert row["Trigger"] == "Thank you"
    assert row["Channel"] == "email"
    assert row["To"] == "c-1@example.com"
    assert "first order on 2026-11-15 (Teapot), 7 days ago" in row["Why"]
    assert row["Draft ID"] == draft_id("C-1", "thank_you", "O-1")


def test_no_thank_you_for_an_older_first_order_or_a_second_order() -> None:
    ctx = make_ctx(
        sheets(
            [customer("C-1", "Ann")],
            orders=[["O-1", "C-1", "2026-09-01", 25, "Teapot"], ["O-2", "C-1", "2026-11-20", 10, "Tea"]],
        )
    )
    assert drafts(run(ctx)) == {}


def test_win_back_after_the_lapse_setting() -> None:
    ctx = make_ctx(
        sheets(
            [customer("C-1", "Ann"), customer("C-2", "Bob")],
            orders=[["O-1", "C-1", "2026-03-01", 40, "Mug"], ["O-2", "C-2", "2026-08-01", 40, "Mug"]],
        )
    )
    rows = drafts(run(ctx))
    assert set(rows) == {"C-1"}
    assert rows["C-1"]["Trigger"] == "Win back"
    assert "no order for 266 days (last on 2026-03-01)" in rows["C-1"]["Why"]


def test_win_back_waits_three_usual_gaps_for_slow_buyers() -> None:
    # Orders a year apart: 266 days is not lapsed for them (3 x 365 > 180).
    orders = [["O-1", "C-1", "2024-03-01", 40, "Mug"], ["O-2", "C-1", "2025-03-01", 40, "Mug"]]
    orders.append(["O-3", "C-1", "2026-03-01", 40, "Mug"])
    assert drafts(run(make_ctx(sheets([customer("C-1", "Ann")], orders=orders)))) == {}


def test_birthday_within_the_days_before_setting() -> None:
    ctx = make_ctx(
        sheets(
            [
                customer("C-1", "Ann", birthday="1980-11-25"),
                customer("C-2", "Bob", birthday="1980-12-25"),
                customer("C-3", "Cy", birthday="1980-11-21"),
            ]
        )
    )
    rows = drafts(run(ctx))
    assert set(rows) == {"C-1"}
    assert rows["C-1"]["Trigger"] == "Birthday"
    assert "birthday on 25 November 2026, in 3 days" in rows["C-1"]["Why"]
    assert rows["C-1"]["Draft ID"] == draft_id("C-1", "birthday", "2026")


def test_referral_thanks_when_the_referred_customer_buys() -> None:
    ctx = make_ctx(
        sheets(
            [customer("C-1", "Ann", last="Lee"), customer("C-2", "Bob", last="Ray", referred_by="Ann Lee")],
            orders=[["O-1", "C-2", "2026-11-01", 25, "Teapot"]],
        )
    )
    row = drafts(run(ctx))["C-1"]
    assert row["Trigger"] == "Referral thanks"
    assert "Thanks to you, Bob has just become a customer of ours." in row["Message"]


def test_service_recovery_after_a_low_score_and_not_after_a_later_contact() -> None:
    low = ["2026-11-10", "C-1", "phone", "in", "Cold tea", "", 1, None]
    ctx = make_ctx(sheets([customer("C-1", "Ann"), customer("C-2", "Bob")], interactions=[low]))
    row = drafts(run(ctx))["C-1"]
    assert row["Trigger"] == "Service recovery"
    assert "satisfaction 1 on 2026-11-10 (Interactions row 2: Cold tea), at or below 2" in row["Why"]
    later = ["2026-11-12", "C-1", "phone", "out", "Apologised", "", None, None]
    assert "C-1" not in drafts(run(make_ctx(sheets([customer("C-1", "Ann")], interactions=[low, later]))))


def test_thank_you_referral_and_recovery_windows_follow_settings() -> None:
    """The three windows (14, 30 and 30 days by default) are Settings: a first order 20
    days ago, a referred customer's first order 40 days ago and a low score 40 days
    ago get no draft by default, and get theirs once the windows are wider."""
    grid = sheets(
        [
            customer("C-1", "Ann", last="Lee"),
            customer("C-2", "Bob", last="Ray", referred_by="C-3"),
            customer("C-3", "Cy", last="Orr"),
            customer("C-4", "Di", last="Fox"),
        ],
        orders=[["O-1", "C-1", "2026-11-02", 25, "Teapot"], ["O-2", "C-2", "2026-10-13", 25, "Mug"]],
        interactions=[["2026-10-13", "C-4", "phone", "in", "Cold tea", "", 1, None]],
    )
    assert drafts(run(make_ctx(grid))) == {}
    wider = {"thank_you_days": 21, "referral_thanks_days": 45, "service_recovery_days": 45}
    rows = drafts(run(make_ctx(grid, settings=wider)))
    assert {k: r["Trigger"] for k, r in rows.items()} == {
        "C-1": "Thank you",
        "C-3": "Referral thanks",
        "C-4": "Service recovery",
    }


def test_follow_up_due_and_not_when_done() -> None:
    note = ["2026-11-01", "C-1", "phone", "out", "Quote for a party", "", None, "2026-11-20"]
    row = drafts(run(make_ctx(sheets([customer("C-1", "Ann")], interactions=[note]))))["C-1"]
    assert row["Trigger"] == "Follow up"
    assert "2 days overdue" in row["Why"]
    assert "about Quote for a party" in row["Message"]
    done = [*note[:5], "done", None, "2026-11-20"]
    assert drafts(run(make_ctx(sheets([customer("C-1", "Ann")], interactions=[done])))) == {}
    future = [*note[:7], "2026-12-01"]
    assert drafts(run(make_ctx(sheets([customer("C-1", "Ann")], interactions=[future])))) == {}


def test_keep_in_touch_for_top_tiers_only() -> None:
    orders = [["O-1", "C-1", "2026-07-01", 900, "Hamper"], ["O-2", "C-2", "2026-07-01", 20, "Tea"]]
    ctx = make_ctx(
        sheets([customer("C-1", "Ann"), customer("C-2", "Bob")], orders=orders),
        tiers={"C-1": "Platinum", "C-2": "Bronze"},
    )
    rows = drafts(run(ctx))
    assert set(rows) == {"C-1"}
    assert rows["C-1"]["Trigger"] == "Keep in touch"
    assert "Platinum customer with no order or contact for 144 days" in rows["C-1"]["Why"]


def test_segment_template_drafts_its_members() -> None:
    templates = [
        ["Veg news", "email", "Hello {{ first_name }}", "New veg dishes for you, {{ first_name }}.", None]
    ]
    segs = SegmentsResult.from_memberships(
        [SegmentDef("Veggie fans", template="Veg news", source_row=2)],
        {"C-1": [Membership("Veggie fans", "preferences include vegetarian")]},
    )
    ctx = make_ctx(
        sheets([customer("C-1", "Ann"), customer("C-2", "Bob")], templates=templates), segments=segs
    )
    rows = drafts(run(ctx))
    assert set(rows) == {"C-1"}
    assert rows["C-1"]["Trigger"] == "Segment: Veggie fans"
    assert rows["C-1"]["Subject"] == "Hello Ann"
    assert rows["C-1"]["Message"] == "New veg dishes for you, Ann."
    assert "Text: Templates!D2 ('Veg news', email)" in rows["C-1"]["Why"]
    assert rows["C-1"]["Draft ID"] == draft_id("C-1", "segment:veggie fans", "veggie fans|2026-11")


def test_segment_naming_a_missing_template_is_a_finding_on_the_segments_cell() -> None:
    segs = SegmentsResult.from_memberships(
        [SegmentDef("Veggie fans", template="Veg nws", source_row=3)],
        {"C-1": [Membership("Veggie fans", "likes veg")]},
    )
    segments_tab = {
        "Segments": [["Name", "Rule", "Template"], ["x", "y", "z"], ["Veggie fans", "r", "Veg nws"]]
    }
    ctx = make_ctx(sheets([customer("C-1", "Ann")], extra=segments_tab), segments=segs)
    assert drafts(run(ctx)) == {}
    assert ("Segments!C3", "template-not-found") in codes(ctx)


def test_one_draft_per_customer_highest_priority_others_listed() -> None:
    ctx = make_ctx(
        sheets(
            [customer("C-1", "Ann", birthday="1980-11-24")],
            orders=[["O-1", "C-1", "2026-11-20", 25, "Teapot"]],
            interactions=[["2026-11-20", "C-1", "phone", "in", "Late", "", 2, None]],
        )
    )
    out = run(ctx)
    assert len(out.tabs[0].rows) == 1
    row = drafts(out)["C-1"]
    assert row["Trigger"] == "Service recovery"
    assert "Also due: thank you, birthday." in row["Why"]


# ---------------------------------------------------------------- exclusions


def _due(**kw: Any) -> dict[str, list[list[Cell]]]:
    """C-1 is due a birthday draft; ``kw`` changes their row."""
    return sheets([customer("C-1", "Ann", birthday="1980-11-25", **kw)])


def test_do_not_contact_is_never_drafted() -> None:
    out = run(make_ctx(_due(dnc="yes")))
    assert drafts(out) == {}
    assert [s.kind for s in out.result.skipped] == ["do_not_contact"]


def test_unreadable_do_not_contact_is_treated_as_do_not_contact() -> None:
    out = run(make_ctx(_due(dnc="maybe")))
    assert drafts(out) == {}
    assert "cannot be read" in out.result.skipped[0].reason


def test_merged_customers_are_never_drafted() -> None:
    grid = sheets(
        [customer("C-1", "Ann", birthday="1980-11-25", merged_into="C-2"), customer("C-2", "Ann")],
    )
    out = run(make_ctx(grid))
    assert drafts(out) == {}
    assert out.counts["merged"] == 1


def test_no_consent_falls_back_to_the_next_consented_channel() -> None:
    row = drafts(
        run(make_ctx(_due(channel="email", email_opt_in="no", sms_opt_in="yes", phone="07911 123456")))
    )
    assert row["C-1"]["Channel"] == "sms"
    assert row["C-1"]["To"] == "+447911123456"
    assert "SMS: prefers email, but no email consent." in row["C-1"]["Why"]
    assert row["C-1"]["Length"].endswith("1 SMS")


def test_sms_needs_a_mobile() -> None:
    grid = _due(channel="sms", email_opt_in="no", sms_opt_in="yes", phone="020 7946 0000")
    row = drafts(run(make_ctx(grid)))["C-1"]
    # Not SMS to a landline; the number is still good for a call script.
    assert row["Channel"] == "phone"
    assert "prefers SMS, but their phone number is not a mobile" in row["Why"]


def test_no_channel_at_all_is_skipped_with_a_reason_and_an_info_finding() -> None:
    ctx = make_ctx(_due(email_opt_in="no"))
    out = run(ctx)
    assert drafts(out) == {}
    assert out.result.skipped[0].kind == "no_channel"
    assert "email: no email consent" in out.result.skipped[0].reason
    assert ("Customers!2", "outreach-no-channel") in codes(ctx)


def test_letter_when_that_is_all_there_is() -> None:
    row = drafts(
        run(make_ctx(_due(email_opt_in="no", address="1 High St", city="Leeds", postcode="LS1 1AA")))
    )
    assert row["C-1"]["Channel"] == "letter"
    assert row["C-1"]["To"] == "Ann\n1 High St\nLeeds LS1 1AA"
    assert row["C-1"]["Send at"] is None


def test_frequency_cap_from_interactions() -> None:
    contact = ["2026-11-15", "C-1", "email", "out", "Newsletter", "", None, None]
    grid = sheets([customer("C-1", "Ann", birthday="1980-11-25")], interactions=[contact])
    out = run(make_ctx(grid))
    assert drafts(out) == {}
    assert out.result.skipped[0].kind == "capped"
    assert "contacted on 2026-11-15, within the 14-day frequency cap" in out.result.skipped[0].reason
    # An inbound message is not us contacting them.
    inbound = [*contact[:3], "in", *contact[4:]]
    grid = sheets([customer("C-1", "Ann", birthday="1980-11-25")], interactions=[inbound])
    assert "C-1" in drafts(run(make_ctx(grid)))


def test_offer_of_a_product_already_bought_is_left_out() -> None:
    templates = [
        ["Autumn", "email", "Boots!", "Try our {{ offer }}, {{ first_name }}.", "Boots"],
        ["Win back", "email", "Back?", "Hi {{ first_name }}, we miss you.", None],
    ]
    segs = SegmentsResult.from_memberships(
        [SegmentDef("All", template="Autumn")],
        {"C-1": [Membership("All", "x")], "C-2": [Membership("All", "x")]},
    )
    orders = [["O-1", "C-1", "2025-01-01", 50, "boots"], ["O-2", "C-2", "2025-01-01", 50, "Hat"]]
    grid = sheets([customer("C-1", "Ann"), customer("C-2", "Bob")], orders=orders, templates=templates)
    rows = drafts(run(make_ctx(grid, segments=segs)))
    assert rows["C-2"]["Message"] == "Try our Boots, Bob."
    assert rows["C-1"]["Trigger"] == "Win back"
    assert "the 'Autumn' template offers Boots, which they already bought" in rows["C-1"]["Why"]


# ---------------------------------------------------------------- templates


def test_blank_field_without_fallback_is_a_finding_not_a_draft() -> None:
    templates = [["Birthday", "email", "Happy birthday", "Hi {{ first_name }},\nHave a great day.", None]]
    grid = sheets(
        [customer("C-1", "", birthday="1980-11-25"), customer("C-2", "Bob", birthday="1980-11-25")],
        templates=templates,
    )
    ctx = make_ctx(grid)
    rows = drafts(run(ctx))
    assert set(rows) == {"C-2"}
    assert rows["C-2"]["Message"] == "Hi Bob,\nHave a great day."
    found = [f for f in ctx.findings if f.code == "template-field-empty"]
    assert [(f.cell, f.customer_id) for f in found] == [("Templates!D2", "C-1")]
    assert "{{ first_name }}" in found[0].problem and "First name" in found[0].problem


def test_fallbacks_and_conditionals() -> None:
    body = (
        'Hi {{ first_name | default("there") }}!'
        "{% if preferences %} We saved some {{ preferences }}.{% endif %}"
        " {{ last_order.product | default('Come and see us') }}."
    )
    templates = [["Birthday", "email", "Hi", body, None]]
    grid = sheets(
        [
            customer("C-1", "", birthday="1980-11-25"),
            customer("C-2", "Bob", birthday="1980-11-25", preferences="tea; cake"),
        ],
        orders=[["O-1", "C-2", "2026-10-01", 5, "Scone"]],
        templates=templates,
    )
    rows = drafts(run(make_ctx(grid)))
    assert rows["C-1"]["Message"] == "Hi there! Come and see us."
    assert rows["C-2"]["Message"] == "Hi Bob! We saved some tea, cake. Scone."


def test_unknown_field_and_bad_syntax_point_at_the_template_cell() -> None:
    templates = [
        ["Birthday", "email", "Hi {{ frist_name }}", "Body", None],
        ["Win back", "email", "Back", "Hi {{ first_name ", None],
    ]
    grid = sheets(
        [customer("C-1", "Ann", birthday="1980-11-25"), customer("C-2", "Bob", birthday="1980-11-26")],
        orders=[["O-1", "C-3", "2020-01-01", 1, "x"]],
        templates=templates,
    )
    ctx = make_ctx(grid)
    assert drafts(run(ctx)) == {}
    unknown = [f for f in ctx.findings if f.code == "template-field-unknown"]
    assert [f.cell for f in unknown] == ["Templates!C2"]  # once, not per customer
    assert "Did you mean {{ first_name }}?" in unknown[0].fix


def test_template_syntax_error_points_at_the_body_cell() -> None:
    templates = [["Birthday", "email", "Hi", "Hi {{ first_name ", None]]
    ctx = make_ctx(sheets([customer("C-1", "Ann", birthday="1980-11-25")], templates=templates))
    assert drafts(run(ctx)) == {}
    assert ("Templates!D2", "template-syntax") in codes(ctx)


def test_templates_cannot_reach_python_internals() -> None:
    body = "{{ first_name.__class__.__mro__[1].__subclasses__() }}"
    templates = [["Birthday", "email", "Hi", body, None]]
    ctx = make_ctx(sheets([customer("C-1", "Ann", birthday="1980-11-25")], templates=templates))
    assert drafts(run(ctx)) == {}
    assert [f.code for f in ctx.findings] == ["template-failed"]
    assert "not allowed" in ctx.findings.items[0].problem


def test_owner_columns_by_slug_and_history_are_merge_fields() -> None:
    grid = sheets([customer("C-1", "Ann", birthday="1980-11-25")])
    grid["Customers"][0] = [*CUSTOMER_HEADERS, "Favourite Tea"]
    grid["Customers"][1] = [*grid["Customers"][1], "Assam"]
    grid["Interactions"].append(["2026-10-01", "C-1", "phone", "in", "Asked about gifts", "", 5, None])
    body = "{{ favourite_tea }} / {{ last_interaction.summary }} / "
    body += "{{ days_since_last_contact | default('never') }}"
    grid["Templates"] = [["Name", "Channel", "Subject", "Body"], ["Birthday", "email", "Hi", body]]
    rows = drafts(run(make_ctx(grid)))
    assert rows["C-1"]["Message"] == "Assam / Asked about gifts / never"


def test_b2b_salutation_uses_the_company_main_contact() -> None:
    grid = sheets(
        [
            customer("C-1", "", company="Acme Ltd", birthday="1980-11-25"),
            customer("C-2", "Priya", company="Acme Ltd", role="Main contact", dnc="yes"),
        ]
    )
    assert drafts(run(make_ctx(grid)))["C-1"]["Message"].startswith("Hi Priya,")


# ---------------------------------------------------------------- golden drafts


GOLDEN_TEMPLATES = [
    [
        "Thank you",
        "email",
        "Thank you, {{ first_name }}!",
        "Hi {{ first_name }},\n\nThanks for buying {{ last_order.product }}.\n\n"
        "{{ sender_name }}, {{ business_name }}",
        None,
    ],
    [
        "Thank you",
        "sms",
        None,
        "Hi {{ first_name }}, thanks for your {{ last_order.product }}! {{ business_name }}",
        None,
    ],
    [
        "Win back",
        "sms",
        None,
        "Hi {{ first_name | default('there') }}, we miss you at {{ business_name }} 😊",
        None,
    ],
]


def golden_workbook() -> dict[str, list[list[Cell]]]:
    return sheets(
        [
            customer("C-1", "Zoë", last="Brontë", best="Tue 2-4pm"),
            customer("C-2", "Bob", channel="sms", sms_opt_in="yes", phone="07911 123456", best="after 5pm"),
            customer("C-3", "", email_opt_in="no", sms_opt_in="yes", phone="+44 7400 123456"),
            customer("C-4", "Dee", best="whenever the kettle boils"),
        ],
        orders=[
            ["O-1", "C-1", "2026-11-18", 12.5, "Earl Grey"],
            ["O-2", "C-2", "2026-11-20", 30, "Teapot"],
            ["O-3", "C-3", "2025-12-01", 9, "Mug"],
            ["O-4", "C-4", "2025-12-02", 9, "Mug"],
        ],
        templates=GOLDEN_TEMPLATES,
    )


def test_golden_drafts() -> None:
    ctx = make_ctx(golden_workbook())
    out = run(ctx)
    got = [
        (
            r["Customer ID"],
            r["Trigger"],
            r["Channel"],
            r["To"],
            r["Subject"],
            r["Message"],
            r["Length"],
            r["Send at"],
        )
        for r in drafts(out).values()
    ]
    assert got == [
        (
            "C-3",
            "Win back",
            "sms",
            "+447400123456",
            None,
            "Hi there, we miss you at Tea Shop 😊",
            "36/70 UCS-2 characters, 1 SMS",
            datetime(2026, 11, 22, 10, 45),
        ),
        (
            "C-4",
            "Win back",
            "email",
            "c-4@example.com",
            "We miss you at Tea Shop",
            "Hi Dee,\n\nIt has been a while since we last saw you; last time you chose Mug. We would love to "
            "welcome you back: reply to this message and tell us what you are looking for.\n\nBest wishes,\n"
            "Mia\nTea Shop",
            None,
            datetime(2026, 11, 22, 10, 45),
        ),
        (
            "C-2",
            "Thank you",
            "sms",
            "+447911123456",
            None,
            "Hi Bob, thanks for your Teapot! Tea Shop",
            "40/160 GSM-7 characters, 1 SMS",
            datetime(2026, 11, 22, 17, 0),
        ),
        (
            "C-1",
            "Thank you",
            "email",
            "c-1@example.com",
            "Thank you, Zoë!",
            "Hi Zoë,\n\nThanks for buying Earl Grey.\n\nMia, Tea Shop",
            None,
            datetime(2026, 11, 24, 14, 0),
        ),
    ]
    why = drafts(out)["C-4"]["Why"]
    assert "Text: built-in text (the Templates tab has no 'Win back' email row)." in why
    assert "is not understood" in why
    assert ("Customers!I5", "best-time-unreadable") in codes(ctx)


# ---------------------------------------------------------------- across runs


def _tab_grid(out: StepOutput) -> list[list[Cell]]:
    tab = out.tabs[0]
    return [["Generated by sheet-crm on ..."], tab.headers, *tab.rows]


def _with_outreach(grid: dict[str, list[list[Cell]]], out: StepOutput) -> dict[str, list[list[Cell]]]:
    return {**grid, "Outreach": _tab_grid(out)}


def _set_status(grid: dict[str, list[list[Cell]]], customer_id: str, status: str, notes: str = "") -> None:
    rows = grid["Outreach"]
    for row in rows[2:]:
        if row[1] == customer_id:
            row[HEADERS.index("Status")] = status
            row[HEADERS.index("Notes")] = notes or None


def test_rerun_keeps_ids_and_decisions_without_duplicates() -> None:
    grid = golden_workbook()
    first = run(make_ctx(grid))
    grid = _with_outreach(grid, first)
    _set_status(grid, "C-2", "skip", "Phoned instead")
    second = run(make_ctx(grid))
    assert [r[0] for r in second.tabs[0].rows] != []
    assert sorted(r[0] for r in second.tabs[0].rows) == sorted(r[0] for r in first.tabs[0].rows)
    row = drafts(second)["C-2"]
    assert (row["Status"], row["Notes"]) == ("skip", "Phoned instead")


def test_approved_drafts_are_kept_as_the_owner_left_them() -> None:
    grid = golden_workbook()
    grid = _with_outreach(grid, run(make_ctx(grid)))
    _set_status(grid, "C-1", "approve")
    message_col = HEADERS.index("Message")
    for row in grid["Outreach"][2:]:
        if row[1] == "C-1":
            row[message_col] = "Hi Zoë, edited by the owner."
    # The data changes: the template now reads differently.
    grid["Templates"][1][3] = "Completely new text for {{ first_name }}"
    second = run(make_ctx(grid))
    row = drafts(second)["C-1"]
    assert row["Status"] == "approve"
    assert row["Message"] == "Hi Zoë, edited by the owner."
    assert len([r for r in second.tabs[0].rows if r[1] == "C-1"]) == 1
    assert second.result.approved()[0].message == "Hi Zoë, edited by the owner."


def test_sent_draft_is_logged_in_interactions_exactly_once() -> None:
    grid = golden_workbook()
    backend = MemoryBackend(grid)
    from sheet_crm import api

    api.run(backend, ["outreach"], today=TODAY, now=NOW, settings=SETTINGS)
    outreach = backend.sheets["Outreach"]
    status, did_col = outreach[1].index("Status"), outreach[1].index("Draft ID")
    row = next(r for r in outreach[2:] if r[1] == "C-1")
    did = row[did_col]
    backend.set_cell("Outreach", outreach.index(row) + 1, status + 1, "sent")

    api.run(backend, ["outreach"], today=TODAY, now=NOW, settings=SETTINGS)
    logged = [
        r for r in backend.sheets["Interactions"][1:] if r and r[4] and str(r[4]).startswith("Sent draft")
    ]
    assert logged == [
        [
            datetime(2026, 11, 22),
            "C-1",
            "Email",
            "out",
            f"Sent draft {did}: Thank you, Zoë!",
            None,
            None,
            None,
        ]
    ]
    row = next(r for r in backend.sheets["Outreach"][2:] if r[0] == did)
    assert row[HEADERS.index("Status")] == "sent"
    assert row[HEADERS.index("Logged")] == date(2026, 11, 22)

    # A third run appends nothing more, and the contact now counts for the cap.
    report = api.run(backend, ["outreach"], today=TODAY, now=NOW, settings=SETTINGS)
    logged = [
        r for r in backend.sheets["Interactions"][1:] if r and r[4] and str(r[4]).startswith("Sent draft")
    ]
    assert len(logged) == 1
    assert report.plan.appends == []
    assert [r[0] for r in backend.sheets["Outreach"][2:]].count(did) == 1


def test_a_draft_id_already_logged_as_sent_is_not_drafted_again() -> None:
    grid = golden_workbook()
    did = draft_id("C-4", "win_back", "O-4")
    grid["Interactions"].append(
        ["2026-10-01", "C-4", "email", "out", f"Sent draft {did}: We miss you", "", None, None]
    )
    out = run(make_ctx(grid))
    assert "C-4" not in drafts(out)
    assert any(s.customer_id == "C-4" and s.kind == "already_sent" for s in out.result.skipped)


def _edit(grid: dict[str, list[list[Cell]]], customer_id: str, **cells: Cell) -> int:
    """Change cells of a customer's Outreach row, as an owner would; its sheet row."""
    rows = grid["Outreach"]
    for number, row in enumerate(rows, start=1):
        if number > 2 and row[1] == customer_id:
            for header, value in cells.items():
                row[HEADERS.index(header.replace("_", " "))] = value
            return number
    raise AssertionError(customer_id)


@pytest.mark.parametrize(
    ("cells", "column", "reason"),
    [
        ({"Draft_ID": "../../../../tmp/x/ESCAPED"}, "A", "its Draft ID cannot name a file"),
        ({"Draft_ID": "/tmp/ESCAPED"}, "A", "its Draft ID cannot name a file"),
        ({"Draft_ID": "D-" + "7" * 300}, "A", "its Draft ID cannot name a file"),
        ({"Draft_ID": "D-1\r\nBcc: evil@example.org"}, "A", "its Draft ID cannot name a file"),
        ({"To": "c-1@example.com, evil@example.org"}, "F", "is not one email address"),
        ({"To": "c-1@example.com\nBcc: evil@example.org"}, "F", "its To has a line break"),
        ({"Subject": "Thank you,\nZoë"}, "G", "its Subject has a line break"),
        ({"Channel": "fax"}, "E", "its channel 'fax' is not email, sms, phone or letter"),
    ],
)
def test_an_approved_draft_that_cannot_be_exported_is_a_finding_at_its_cell(
    cells: dict[str, Cell], column: str, reason: str
) -> None:
    grid = golden_workbook()
    grid = _with_outreach(grid, run(make_ctx(grid)))
    _set_status(grid, "C-1", "approve")
    _set_status(grid, "C-4", "approve")
    row = _edit(grid, "C-1", **cells)
    ctx = make_ctx(grid)
    out = run(ctx)
    found = [f for f in ctx.findings if f.code == "draft-not-exportable"]
    assert [(f.cell, f.severity) for f in found] == [(f"Outreach!{column}{row}", "error")]
    assert reason in found[0].problem and found[0].problem.endswith("so it is not exported.")
    # The owner's row is kept as typed, says why it is not exported, and holds back a second draft.
    kept = next(d for d in out.result.drafts if d.customer_id == "C-1")
    assert reason in kept.blocked and f"Not exported: {kept.blocked}." in kept.why
    assert [d.customer_id for d in out.result.approved()] == ["C-4"]
    assert any(k.customer_id == "C-1" and k.kind == "pending" for k in out.result.skipped)


def test_a_sender_email_that_is_not_one_address_is_a_warning_when_emails_wait_for_export() -> None:
    grid = golden_workbook()
    grid = _with_outreach(grid, run(make_ctx(grid)))
    bad = {"sender_email": "mia@teashop.example, evil@example.org"}
    ctx = make_ctx(grid, settings=bad)
    run(ctx)
    assert "sender-email-invalid" not in [f.code for f in ctx.findings]  # nothing approved yet
    _set_status(grid, "C-1", "approve")
    ctx = make_ctx(grid, settings=bad)
    run(ctx)
    assert [(f.cell, f.code) for f in ctx.findings if f.code == "sender-email-invalid"] == [
        ("Settings", "sender-email-invalid")
    ]


def test_a_template_over_a_limit_is_a_finding_and_the_other_drafts_are_made() -> None:
    templates = [
        *GOLDEN_TEMPLATES,
        ["Win back", "email", "We miss you", "{{ 'x' | center(999999999) }}", None],
    ]
    grid = golden_workbook()
    grid["Templates"] = [grid["Templates"][0], *templates]
    ctx = make_ctx(grid)
    rows = drafts(run(ctx))
    assert sorted(rows) == ["C-1", "C-2", "C-3"]  # C-4's win-back email is the one refused
    assert [(f.cell, f.code) for f in ctx.findings if f.severity == "error"] == [
        ("Templates!D5", "template-over-limit")
    ]
    problem = next(f.problem for f in ctx.findings if f.code == "template-over-limit")
    assert "a width of 999,999,999 is too large" in problem and "Dee" in problem


def test_a_subject_with_a_line_break_is_joined_into_one_line_with_a_warning() -> None:
    grid = golden_workbook()
    grid["Templates"][1][2] = "Thank you,\n{{ first_name }}!"  # Alt+Enter in the Subject cell
    ctx = make_ctx(grid)
    assert drafts(run(ctx))["C-1"]["Subject"] == "Thank you, Zoë!"
    assert [(f.cell, f.code) for f in ctx.findings if f.code.startswith("template")] == [
        ("Templates!C2", "template-subject-line-break")
    ]


@pytest.mark.parametrize("status", ["maybe", "later"])
def test_unknown_status_is_a_finding(status: str) -> None:
    grid = golden_workbook()
    grid = _with_outreach(grid, run(make_ctx(grid)))
    _set_status(grid, "C-1", status)
    ctx = make_ctx(grid)
    run(ctx)
    assert any(f.code == "outreach-unknown-status" and f.location.header == "Status" for f in ctx.findings)


def test_api_run_writes_the_outreach_tab() -> None:
    """Through the whole pipeline (validate, tiers, segments first)."""
    from sheet_crm import api

    backend = MemoryBackend(golden_workbook())
    report = api.run(backend, ["outreach"], today=TODAY, now=NOW, settings=SETTINGS)
    assert "Outreach" in report.written.tabs_written  # type: ignore[union-attr]
    tab = backend.sheets["Outreach"]
    assert tab[1][: len(HEADERS)] == HEADERS
    assert {r[1] for r in tab[2:]} >= {"C-1", "C-2"}


def test_leap_day_birthdays_are_on_28_february_in_common_years() -> None:
    grid = sheets([customer("C-1", "Ann", birthday="1992-02-29")])
    ctx = make_ctx(grid)
    ctx.today = date(2027, 2, 25)
    row = drafts(run(ctx))["C-1"]
    assert "birthday on 28 February 2027, in 3 days" in row["Why"]
    assert row["Draft ID"] == draft_id("C-1", "birthday", "2027")


def test_birthday_across_the_new_year() -> None:
    ctx = make_ctx(sheets([customer("C-1", "Ann", birthday="1980-01-02")]))
    ctx.today = date(2026, 12, 30)
    assert "in 3 days" in drafts(run(ctx))["C-1"]["Why"]


def test_contact_details_validation_marked_unusable_are_not_used() -> None:
    """After the validate step: only its normalised email and phone count, and a
    field it marked invalid is never used."""
    grid = _due(channel="sms", sms_opt_in="yes", phone="07911 123456")
    ctx = make_ctx(grid)
    ctx.results["validate"] = None
    c = ctx.records.customers[0]
    c.email_normalized, c.phone_e164, c.phone_type = "c-1@example.com", "+447911123456", "mobile"
    c.invalid = c.invalid | {"phone"}  # records hold frozensets
    row = drafts(run(ctx))["C-1"]
    assert (row["Channel"], row["To"]) == ("email", "c-1@example.com")
    assert "prefers SMS, but no valid phone number" in row["Why"]
    c.invalid = c.invalid | {"email"}
    assert drafts(run(make_ctx_like(ctx))) == {}


def make_ctx_like(ctx: Context) -> Context:
    """The same records and settings, fresh findings."""
    fresh = Context(ctx.workbook, ctx.records, ctx.settings, ctx.today, ctx.now, FindingList())
    fresh.results.update(ctx.results)
    return fresh


def test_starter_templates_render_for_a_customer_with_blank_cells() -> None:
    """The Templates rows shipped in sheet_templates/_base.toml, used as an owner's
    Templates tab: every trigger drafts without a template finding."""
    import tomllib
    from pathlib import Path

    base = Path(__file__).resolve().parent.parent / "sheet_templates" / "_base.toml"
    if not base.exists():
        pytest.skip("sheet_templates/_base.toml is not there yet")
    spec = tomllib.loads(base.read_text(encoding="utf-8"))
    tab = next(t for t in spec["tabs"] if t["name"] == "Templates")
    rows = [[r.get("Name"), r.get("Channel"), r.get("Subject"), r.get("Body"), None] for r in tab["rows"]]
    grid = sheets(
        [
            customer("C-1", "", birthday="1980-11-25"),
            customer("C-2", "Bob", channel="sms", sms_opt_in="yes", phone="07911 123456"),
        ],
        orders=[["O-1", "C-2", "2026-11-20", 5, "Tea"]],
        templates=rows,
    )
    ctx = make_ctx(grid, settings={"sender_name": ""})
    got = drafts(run(ctx))
    assert [f.code for f in ctx.findings if f.code.startswith("template")] == []
    assert got["C-1"]["Message"].startswith("Hi there,")
    assert got["C-2"]["Channel"] == "sms" and got["C-2"]["Message"].startswith("Hi Bob,")


def test_median_of_order_gaps_is_statistics_median() -> None:
    """Win back's usual gap: the quick median gives statistics.median's value and type."""
    import random
    import statistics

    from sheet_crm.steps.outreach import _median

    rnd = random.Random(3)
    for _ in range(500):
        gaps = [rnd.randrange(0, 400) for _ in range(rnd.randrange(1, 9))]
        got, want = _median(gaps), statistics.median(gaps)
        assert got == want and type(got) is type(want)


def test_skipped_customers_in_data_are_the_whole_skip_record() -> None:
    """The JSON of a skipped customer is written by hand (no deep copy): it must stay
    every field of Skip, in order."""
    from dataclasses import asdict

    from sheet_crm.steps.outreach import Skip, _skip_json

    k = Skip("C-1", "Ann Lee", "marked Do not contact (due: birthday)", "do_not_contact")
    assert _skip_json(k) == asdict(k) and list(_skip_json(k)) == list(asdict(k))
