"""The segments step: each built-in segment on small hand-made cases, the owner's
Segments tab (switch off, rename, own rules) and the Segment Members tab.

Tier figures are built by hand (``CustomerValue``) so these tests do not depend on
the tiers step; one api-level test runs the real pipeline."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from conftest import TODAY

from sheet_crm.backends.memory import MemoryBackend
from sheet_crm.config import load_settings
from sheet_crm.findings import FindingList
from sheet_crm.model import build_records
from sheet_crm.steps import Context, StepOutput
from sheet_crm.steps.segments import BUILTINS, MEMBERS_HEADERS, SegmentsResult, run
from sheet_crm.steps.tiers import CustomerValue, TiersResult

CUSTOMER_HEADERS = ["Customer ID", "First name", "Last name", "Email"]


def make_context(
    customers: list[list[Any]],
    values: dict[str, CustomerValue] | None = None,
    *,
    headers: list[str] = CUSTOMER_HEADERS,
    orders: list[list[Any]] | None = None,
    interactions: list[list[Any]] | None = None,
    segments: list[list[Any]] | None = None,
    settings: list[list[Any]] | None = None,
    today: date = TODAY,
) -> Context:
    sheets: dict[str, list[list[Any]]] = {"Customers": [headers, *customers]}
    if orders is not None:
        sheets["Orders"] = [["Order ID", "Customer", "Date", "Amount", "Product"], *orders]
    if interactions is not None:
        sheets["Interactions"] = [["Date", "Customer", "Channel", "Summary", "Satisfaction"], *interactions]
    if segments is not None:
        sheets["Segments"] = [["Name", "Rule", "Description", "Template", "Active"], *segments]
    if settings is not None:
        sheets["Settings"] = [["Setting", "Value"], *settings]
    workbook = MemoryBackend(sheets).read()
    findings = FindingList()
    cfg, _ = load_settings(workbook, findings=findings, environ={})
    records = build_records(workbook, cfg, findings)
    ctx = Context(workbook, records, cfg, today, datetime.combine(today, time(9)), findings)
    ctx.results["tiers"] = TiersResult(dict(values or {}))
    return ctx


def value(key: str, **fields: Any) -> CustomerValue:
    return CustomerValue(key, **fields)


def members(out: StepOutput, segment: str) -> list[str]:
    result: SegmentsResult = out.result
    return [m["customer_id"] for m in result.members_of(segment)]


def reason(out: StepOutput, segment: str, key: str) -> str:
    return next(m["reason"] for m in out.result.members_of(segment) if m["customer_id"] == key)


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


# ---------------------------------------------------------------- built-ins


def test_new_customers_by_first_order_or_join_date() -> None:
    ctx = make_context(
        [["C1", "Ann", "Lee", ""], ["C2", "Bob", "Ray", ""], ["C3", "Cy", "Ng", ""], ["C4", "Di", "Oz", ""]],
        {
            "C1": value("C1", orders=1, first_order=ago(10)),
            "C2": value("C2", orders=4, first_order=ago(400)),
            "C3": value("C3", orders=2, first_order=ago(90)),  # on the limit: still new
            "C4": value("C4"),
        },
    )
    out = run(ctx)
    assert members(out, "New customers") == ["C1", "C3"]
    assert "first order 10 days ago" in reason(out, "New customers", "C1")


def test_new_customer_without_orders_uses_customer_since_and_setting() -> None:
    ctx = make_context(
        [["C1", "Ann", "Lee", "", ago(20)], ["C2", "Bob", "Ray", "", ago(40)]],
        {},
        headers=[*CUSTOMER_HEADERS, "Customer since"],
        settings=[["New customer days", 30]],
    )
    out = run(ctx)
    assert members(out, "New customers") == ["C1"]
    assert "no orders yet" in reason(out, "New customers", "C1")


def test_one_time_buyers_and_no_orders() -> None:
    ctx = make_context(
        [["C1", "Ann", "", ""], ["C2", "Bob", "", ""], ["C3", "Cy", "", ""]],
        {
            "C1": value("C1", orders=1, last_order=ago(30), days_since_last_order=30),
            "C2": value("C2", orders=2),
            "C3": value("C3", orders=0),
        },
    )
    out = run(ctx)
    assert members(out, "One-time buyers") == ["C1"]
    assert "exactly one order" in reason(out, "One-time buyers", "C1")


def test_regulars_need_three_orders_and_a_recent_one() -> None:
    ctx = make_context(
        [["C1", "A", "", ""], ["C2", "B", "", ""], ["C3", "C", "", ""]],
        {
            "C1": value("C1", orders=5, usual_gap_days=30, days_since_last_order=20),
            "C2": value("C2", orders=5, usual_gap_days=30, days_since_last_order=61),
            "C3": value("C3", orders=2, usual_gap_days=10, days_since_last_order=2),
        },
    )
    out = run(ctx)
    assert members(out, "Regulars") == ["C1"]
    assert reason(out, "Regulars", "C1") == "5 orders, usually every 30 days; last order 20 days ago"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"tier": "Gold", "usual_gap_days": 30, "days_since_last_order": 140}, True),
        ({"tier": "Platinum", "usual_gap_days": 30, "days_since_last_order": 91}, True),
        ({"tier": "Gold", "usual_gap_days": 30, "days_since_last_order": 90}, False),  # exactly 3x
        ({"tier": "Gold", "usual_gap_days": 10, "days_since_last_order": 50}, False),  # under 60 days
        ({"tier": "Silver", "usual_gap_days": 30, "days_since_last_order": 400}, False),
        ({"tier": "Platinum", "usual_gap_days": None, "days_since_last_order": 200}, True),  # one order
        ({"tier": "Platinum", "usual_gap_days": None, "days_since_last_order": 100}, False),
        ({"tier": "Gold", "usual_gap_days": 30, "days_since_last_order": None}, False),
    ],
)
def test_lapsed_vips(fields: dict[str, Any], expected: bool) -> None:
    ctx = make_context([["C1", "Ann", "", ""]], {"C1": value("C1", orders=3, **fields)})
    out = run(ctx)
    assert (members(out, "Lapsed VIPs") == ["C1"]) is expected
    if expected:
        why = reason(out, "Lapsed VIPs", "C1")
        assert fields["tier"] in why and f"{fields['days_since_last_order']} days" in why


def test_at_risk_from_rfm_segment() -> None:
    ctx = make_context(
        [["C1", "A", "", ""], ["C2", "B", "", ""], ["C3", "C", "", ""]],
        {
            "C1": value("C1", rfm_segment="At risk", r_score=1, f_score=4, m_score=4),
            "C2": value("C2", rfm_segment="Can\u2019t lose them"),
            "C3": value("C3", rfm_segment="Champions"),
        },
    )
    out = run(ctx)
    assert members(out, "At risk") == ["C1", "C2"]
    assert "R1 F4 M4" in reason(out, "At risk", "C1")


def test_advocates() -> None:
    ctx = make_context(
        [["C1", "A", "", ""], ["C2", "B", "", ""]],
        {"C1": value("C1", advocate=True, referrals=2, referred_revenue=310.5), "C2": value("C2")},
    )
    out = run(ctx)
    assert members(out, "Advocates") == ["C1"]
    assert reason(out, "Advocates", "C1") == "referred 2 customers who bought, 310.50 in revenue"


def test_promoters_and_detractors_on_a_1_to_5_scale_use_the_latest_score() -> None:
    ctx = make_context(
        [["C1", "A", "", ""], ["C2", "B", "", ""], ["C3", "C", "", ""], ["C4", "D", "", ""]],
        interactions=[
            [ago(100), "C1", "phone", "moan", 1],
            [ago(5), "C1", "email", "thanks", 5],  # latest wins: promoter
            [ago(3), "C2", "email", "meh", 2],  # low satisfaction setting is 2
            [ago(3), "C3", "email", "ok", 3],
            [ago(3), "C4", "email", "no score", None],
        ],
    )
    out = run(ctx)
    assert members(out, "Promoters") == ["C1"]
    assert members(out, "Detractors") == ["C2"]
    assert "latest satisfaction 5 out of 5" in reason(out, "Promoters", "C1")


def test_promoters_and_detractors_on_a_0_to_10_scale() -> None:
    ctx = make_context(
        [["C1", "A", "", ""], ["C2", "B", "", ""], ["C3", "C", "", ""], ["C4", "D", "", ""]],
        interactions=[
            [ago(5), "C1", "email", "", 9],
            [ago(5), "C2", "email", "", 7],  # passive
            [ago(5), "C3", "email", "", 4],  # a 4 on 0-10 is a detractor
            [ago(5), "C4", "email", "", 10],
        ],
    )
    out = run(ctx)
    assert members(out, "Promoters") == ["C1", "C4"]
    assert members(out, "Detractors") == ["C3"]
    assert "4 out of 10" in reason(out, "Detractors", "C3")


def test_birthday_this_month() -> None:
    ctx = make_context(
        [
            ["C1", "A", "", "", date(1980, 11, 30)],
            ["C2", "B", "", "", date(1990, 12, 1)],
            ["C3", "C", "", "", None],
            ["C4", "D", "", "", date(2000, 11, 1)],
        ],
        headers=[*CUSTOMER_HEADERS, "Birthday"],
    )
    out = run(ctx)
    assert members(out, "Birthday this month") == ["C1", "C4"]
    assert reason(out, "Birthday this month", "C1") == "birthday on 30 November"


def test_decision_makers_from_role_or_job_title() -> None:
    ctx = make_context(
        [
            ["C1", "A", "Acme", "Decision maker", ""],
            ["C2", "B", "Acme", "Main contact", "Managing Director"],
            ["C3", "C", "Acme", "Main contact", "Office assistant"],
            ["C4", "D", "", "", "Owner"],
        ],
        headers=["Customer ID", "First name", "Company", "Role", "Job title"],
    )
    out = run(ctx)
    assert members(out, "Decision makers") == ["C1", "C2", "C4"]
    assert reason(out, "Decision makers", "C1") == "role is 'Decision maker' at Acme"
    assert reason(out, "Decision makers", "C2") == "job title is 'Managing Director' at Acme"


def test_preferred_channels() -> None:
    ctx = make_context(
        [["C1", "A", "SMS"], ["C2", "B", "e-mail"], ["C3", "C", "Phone"], ["C4", "D", ""]],
        headers=["Customer ID", "First name", "Preferred channel"],
    )
    out = run(ctx)
    assert members(out, "Prefers SMS") == ["C1"]
    assert members(out, "Prefers email") == ["C2"]
    assert members(out, "Prefers phone") == ["C3"]


def test_one_customer_with_nothing_known_is_in_no_segment() -> None:
    ctx = make_context([["C1", "Ann", "Lee", ""]])
    out = run(ctx)
    assert out.result.memberships == {}
    assert out.tabs[0].rows == []
    assert all(n == 0 for n in out.data.values())
    assert len(out.data) == len(BUILTINS)


def test_a_customer_can_be_in_many_segments_each_with_its_reason() -> None:
    ctx = make_context(
        [["C1", "Ann", "SMS", date(1980, 11, 3)]],
        {"C1": value("C1", orders=1, first_order=ago(3), last_order=ago(3), days_since_last_order=3)},
        headers=["Customer ID", "First name", "Preferred channel", "Birthday"],
    )
    out = run(ctx)
    got = {m.segment: m.reason for m in out.result.memberships["C1"]}
    assert set(got) == {"New customers", "One-time buyers", "Birthday this month", "Prefers SMS"}
    assert all(got.values())


def test_merged_customers_are_left_out_and_the_summary_says_so() -> None:
    ctx = make_context(
        [["C1", "Ann", "SMS", ""], ["C2", "Ann", "SMS", "C1"]],
        headers=["Customer ID", "First name", "Preferred channel", "Merged into"],
    )
    out = run(ctx)
    assert members(out, "Prefers SMS") == ["C1"]
    assert any("1 merged customer" in line for line in out.summary)


def test_rows_validation_marks_unusable_are_left_out() -> None:
    class Validation:
        unusable = frozenset({"C2"})

    ctx = make_context(
        [["C1", "A", "SMS"], ["C2", "B", "SMS"]], headers=["Customer ID", "First name", "Channel"]
    )
    ctx.results["validate"] = Validation()
    out = run(ctx)
    assert members(out, "Prefers SMS") == ["C1"]
    assert any("marks them unusable" in line for line in out.summary)


# ---------------------------------------------------------------- the Segments tab


def test_switch_off_a_builtin_by_name() -> None:
    ctx = make_context(
        [["C1", "A", "SMS"]],
        headers=["Customer ID", "First name", "Preferred channel"],
        segments=[["prefers sms", "", "", "", "no"]],
    )
    out = run(ctx)
    assert members(out, "Prefers SMS") == []
    assert "Prefers SMS" not in out.data
    assert any(line.startswith("Switched off: Prefers SMS") for line in out.summary)


def test_rename_a_builtin_with_builtin_key() -> None:
    ctx = make_context(
        [["C1", "A", "SMS"]],
        headers=["Customer ID", "First name", "Preferred channel"],
        segments=[["Texters", "builtin:prefers_sms", "Likes texts", "SMS hello", ""]],
    )
    out = run(ctx)
    assert members(out, "Texters") == ["C1"]
    assert members(out, "Prefers SMS") == []
    row = out.tabs[0].rows[0]
    assert row[0] == "Texters" and row[-1] == "SMS hello"
    definition = out.result.segment("Texters")
    assert definition is not None and definition.builtin and definition.key == "prefers_sms"


def test_unknown_builtin_key_is_a_finding_with_a_suggestion() -> None:
    ctx = make_context(
        [["C1", "A"]], headers=["Customer ID", "First name"], segments=[["X", "builtin:lapsed_vip"]]
    )
    run(ctx)
    found = [(f.cell, f.code, f.suggestion) for f in ctx.findings]
    assert ("Segments!B2", "unknown-builtin-segment", "builtin:lapsed_vips") in found


def test_owner_rule_members_carry_the_rule_in_their_reason() -> None:
    ctx = make_context(
        [["C1", "A", ""], ["C2", "B", ""]],
        {
            "C1": value("C1", tier="Gold", days_since_last_order=140),
            "C2": value("C2", tier="Silver", days_since_last_order=140),
        },
        headers=["Customer ID", "First name", "Email"],
        segments=[
            ["Sleeping gold", 'tier in ("Platinum", "Gold") and days_since_last_order > 90', "", "", ""]
        ],
    )
    out = run(ctx)
    assert members(out, "Sleeping gold") == ["C1"]
    assert reason(out, "Sleeping gold", "C1") == (
        'tier is Gold; days since last order is 140 (rule: tier in ("Platinum", "Gold") '
        "and days_since_last_order > 90)"
    )
    assert out.data["Sleeping gold"] == 1


def test_a_bad_rule_is_a_finding_and_other_segments_still_run() -> None:
    ctx = make_context(
        [["C1", "A", "SMS"]],
        {"C1": value("C1", tier="Gold")},
        headers=["Customer ID", "First name", "Preferred channel"],
        segments=[
            ["Broken", 'teir == "Gold"', "", "", ""],
            ["Gold ones", 'tier == "gold"', "", "", ""],
        ],
    )
    out = run(ctx)
    bad = [f for f in ctx.findings if f.code == "bad-segment-rule"]
    assert [(f.cell, f.suggestion) for f in bad] == [("Segments!B2", "tier")]
    assert "at character 1: unknown name 'teir'" in bad[0].problem
    assert members(out, "Gold ones") == ["C1"]
    assert members(out, "Prefers SMS") == ["C1"]
    assert "Broken" not in out.data
    assert out.counts["rule_errors"] == 1


def test_a_rule_failing_at_run_time_is_one_finding_naming_the_first_customer() -> None:
    ctx = make_context(
        [["C1", "A", 5], ["C2", "B", "n/a"], ["C3", "C", 1]],
        headers=["Customer ID", "First name", "Visits"],
        segments=[["Frequent", "visits > 3", "", "", ""]],
    )
    out = run(ctx)
    assert members(out, "Frequent") == ["C1"]
    failed = [f for f in ctx.findings if f.code == "segment-rule-failed"]
    assert len(failed) == 1
    assert failed[0].cell == "Segments!B2" and failed[0].customer_id == "C2"
    assert "cannot compare text with a number" in failed[0].problem


def test_duplicate_and_nameless_segments() -> None:
    ctx = make_context(
        [["C1", "A"]],
        headers=["Customer ID", "First name"],
        segments=[["Big", "orders > 1", "", "", ""], ["big", "orders > 2", "", "", ""], ["", "orders > 3"]],
    )
    run(ctx)
    codes = sorted((f.cell, f.code) for f in ctx.findings)
    assert codes == [("Segments!A3", "duplicate-segment"), ("Segments!A4", "segment-without-name")]


def test_owner_rule_with_a_builtin_name_replaces_the_builtin() -> None:
    ctx = make_context(
        [["C1", "A", "SMS"], ["C2", "B", "email"]],
        headers=["Customer ID", "First name", "Preferred channel"],
        segments=[["Prefers SMS", 'preferred_channel == "email"', "", "", ""]],
    )
    out = run(ctx)
    assert members(out, "Prefers SMS") == ["C2"]
    assert "(rule:" in reason(out, "Prefers SMS", "C2")


# ---------------------------------------------------------------- the tab and the result


def test_segment_members_tab_rows_and_json_data() -> None:
    ctx = make_context(
        [["C1", "Ann", "Lee", "SMS"], ["C2", "Bob", "Ray", "SMS"]],
        {"C1": value("C1", tier="Gold"), "C2": value("C2", tier="")},
        headers=["Customer ID", "First name", "Last name", "Preferred channel"],
    )
    out = run(ctx)
    tab = out.tabs[0]
    assert tab.name == "Segment Members"
    assert tab.headers == MEMBERS_HEADERS
    assert tab.rows == [
        ["Prefers SMS", "C1", "Ann Lee", "Gold", "preferred channel is SMS", None],
        ["Prefers SMS", "C2", "Bob Ray", None, "preferred channel is SMS", None],
    ]
    assert json.loads(json.dumps(out.data))["Prefers SMS"] == 2
    assert out.result.members_of("prefers sms") == [
        {"customer_id": "C1", "name": "Ann Lee", "reason": "preferred channel is SMS"},
        {"customer_id": "C2", "name": "Bob Ray", "reason": "preferred channel is SMS"},
    ]


def test_api_run_segment_writes_segment_members() -> None:
    """The whole pipeline, once validate and tiers exist."""
    import importlib.util

    import sheet_crm.steps.tiers as tiers

    if not hasattr(tiers, "run") or importlib.util.find_spec("sheet_crm.steps.validate") is None:
        pytest.skip("the tiers and validate steps are not written yet")
    from sheet_crm.api import run as api_run

    backend = MemoryBackend(
        {
            "Customers": [
                ["Customer ID", "First name", "Email", "Preferred channel"],
                ["C-00001", "Ann", "ann@example.org", "SMS"],
                ["C-00002", "Bob", "bob@example.org", "email"],
            ],
            "Orders": [
                ["Order ID", "Customer", "Date", "Amount", "Product"],
                ["1", "C-00001", datetime(2026, 11, 1), 40.0, "Lamb roast"],
                ["2", "C-00002", datetime(2024, 1, 1), 400.0, "Tea"],
            ],
            "Segments": [["Name", "Rule"], ["Lamb lovers", 'bought("lamb")']],
        }
    )
    report = api_run(backend, ["segments"], today=TODAY, dry_run=True)
    result = report.outputs["segments"].result
    assert [m["customer_id"] for m in result.members_of("Lamb lovers")] == ["C-00001"]
    assert [m["customer_id"] for m in result.members_of("Prefers SMS")] == ["C-00001"]
    assert "Segment Members" in [t.name for t in report.plan.tabs]


def test_builtin_pre_checks_never_leave_out_a_member() -> None:
    """Each built-in first narrows the customers down with a quick pre-check over all
    of them (``Builtin.candidates``); running its test on every customer instead must
    give exactly the same members and reasons."""
    import random

    from sheet_crm.config import Settings
    from sheet_crm.model import Customer
    from sheet_crm.steps.segments import Columns, Facts

    rng = random.Random(7)
    customers, values, satisfaction = [], [], {}
    for i in range(600):
        key = f"C{i}"
        first = None if rng.random() < 0.3 else ago(rng.randint(-5, 900))
        last = None if first is None else ago(rng.randint(-5, (TODAY - first).days + 5))
        customers.append(
            Customer(
                row=i + 2,
                customer_id=key,
                preferred_channel=rng.choice(["", "email", "sms", "phone", "letter"]),
                birthday=rng.choice([None, ago(rng.randint(0, 30000))]),
                customer_since=rng.choice([None, ago(rng.randint(-5, 200))]),
                role=rng.choice(["", "Owner", "assistant", "Head of buying", "co-founder"]),
                job_title=rng.choice(["", "Director", "clerk"]),
                company=rng.choice(["", "Acme"]),
            )
        )
        orders = 0 if first is None else rng.randint(1, 6)
        values.append(
            value(
                key,
                orders=orders,
                first_order=first,
                last_order=last,
                days_since_last_order=None if last is None else (TODAY - last).days,
                usual_gap_days=rng.choice([None, 0.0, 10.0, 45.5]) if orders > 1 else None,
                tier=rng.choice(["", "Platinum", "Gold", "Silver"]),
                rfm_segment=rng.choice(["", "At risk", "Can\u2019t lose them", "Champions", " at RISK "]),
                r_score=rng.choice([None, 2]),
                advocate=rng.random() < 0.2,
                referrals=rng.randint(0, 3),
            )
        )
        if rng.random() < 0.5:
            satisfaction[key] = (float(rng.randint(0, 10)), 5.0)
    settings = Settings()
    latest = [satisfaction.get(c.key, (None, None))[0] for c in customers]
    for scale in (5, 10):
        cols = Columns(customers, values, latest, scale, TODAY, settings)
        for builtin in BUILTINS:
            facts = [
                Facts(c, v, TODAY, settings, satisfaction.get(c.key, (None, None))[0], scale)
                for c, v in zip(customers, values, strict=True)
            ]
            everyone = [(i, builtin.test(f)) for i, f in enumerate(facts)]
            expected = [(i, r) for i, r in everyone if r]
            assert builtin.candidates is not None, builtin.key
            picked = [(int(i), builtin.test(facts[int(i)])) for i in builtin.candidates(cols)]
            assert [(i, r) for i, r in picked if r] == expected, builtin.key
            assert expected, f"{builtin.key}: the random customers should include members"
