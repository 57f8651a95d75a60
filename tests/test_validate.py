"""The validation step: (cell, code) lists for small workbooks, IDs, structure, JSON."""

from __future__ import annotations

import importlib.util
import json
from datetime import date, datetime
from typing import Any

import pytest
from conftest import TODAY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sheet_crm import api
from sheet_crm.backends.memory import MemoryBackend
from sheet_crm.errors import ColumnNotFound
from sheet_crm.findings import Severity
from sheet_crm.steps.validate import can_email, can_sms, usable_order

NOW = datetime(2026, 11, 22, 9, 0)
HEAD = ["Customer ID", "First name", "Last name", "Email", "Phone", "Country"]
ANN = ["C-00001", "Ann", "Lee", "ann@example.com", "07911 123456", "GB"]


def run(sheets: dict[str, list[list[Any]]], **kw: Any) -> api.RunReport:
    return api.run(MemoryBackend(sheets), ["validate"], today=TODAY, now=NOW, **kw)


def cells(report: api.RunReport, *, notes: bool = False) -> list[tuple[str, str]]:
    """(cell, code) of each finding, leaving out the ID counter line (and notes unless asked)."""
    return [
        (f.cell, f.code)
        for f in report.findings
        if f.code != "customer-id-counter" and (notes or f.severity is not Severity.INFO)
    ]


def customers(*rows: list[Any], head: list[str] = HEAD) -> dict[str, list[list[Any]]]:
    return {"Customers": [head, *rows]}


# ---------------------------------------------------------------- a clean row


def test_clean_workbook_has_no_findings() -> None:
    sheets = customers(ANN, ["C-00002", "Bob", "McDonald", "bob@example.org", "+1 212 555 1234", "US"])
    sheets["Orders"] = [["Order ID", "Customer", "Date", "Amount"], [1, "C-00001", date(2026, 1, 2), 10.5]]
    sheets["Interactions"] = [["Date", "Customer", "Satisfaction"], [date(2026, 2, 1), "bob@example.org", 5]]
    report = run(sheets)
    assert cells(report, notes=True) == []
    assert report.exit_code == 0
    ann, bob = report.records.customers
    assert (ann.email_normalized, ann.phone_e164, ann.phone_type) == (
        "ann@example.com",
        "+447911123456",
        "mobile",
    )
    assert (bob.phone_e164, bob.phone_type) == ("+12125551234", "")
    assert report.records.interactions[0].customer_id == "C-00002"
    assert (
        report.summary_lines()[0]
        == "Checked 2 customers, 1 orders, 1 interactions: 0 errors, 0 warnings, 1 notes."
    )


# ---------------------------------------------------------------- emails


@pytest.mark.parametrize(
    ("email", "expected", "normalized"),
    [
        ("Ann@Example.COM ", [], "ann@example.com"),
        ("mailto:ann@example.com", [], "ann@example.com"),
        ("ann@", [("Customers!D2", "email-invalid")], ""),
        ("ann@example", [("Customers!D2", "email-invalid")], ""),
        ("a@x.com; b@y.com", [("Customers!D2", "email-several")], ""),
        ("ann@gmial.com", [("Customers!D2", "email-typo")], "ann@gmial.com"),
        ("ann@gmail.con", [("Customers!D2", "email-typo")], "ann@gmail.con"),
        ("ann@hotmial.com", [("Customers!D2", "email-typo")], "ann@hotmial.com"),
        ("ann@yaho.com", [("Customers!D2", "email-typo")], "ann@yaho.com"),
        ("ann@mail.com", [], "ann@mail.com"),
        ("info@example.com", [("Customers!D2", "email-role")], "info@example.com"),
    ],
)
def test_emails(email: str, expected: list[tuple[str, str]], normalized: str) -> None:
    report = run(customers([*ANN[:3], email, *ANN[4:]]))
    assert cells(report) == expected
    assert report.records.customers[0].email_normalized == normalized
    assert can_email(report.records.customers[0]) == bool(normalized)


def test_typo_suggestion_is_the_corrected_address() -> None:
    report = run(customers([*ANN[:3], "ann@gmial.com", *ANN[4:]]))
    assert report.findings[-1].suggestion == "ann@gmail.com"


def test_same_email_on_two_customers() -> None:
    report = run(customers(ANN, ["C-00002", "Annie", "Lee", "ANN@example.com", None, None]))
    assert cells(report) == [("Customers!D3", "email-duplicate")]


def test_check_domains_uses_the_lookup_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    from sheet_crm.steps.validate import customers as customer_checks

    asked: list[str] = []

    def fake(domain: str) -> str:
        asked.append(domain)
        return "The domain name nowhere.invalid does not exist." if domain == "nowhere-at-all.com" else ""

    monkeypatch.setattr(customer_checks, "domain_problem", fake)
    sheets = customers(ANN, ["C-00002", "Bob", "Ray", "bob@nowhere-at-all.com", None, None])
    assert cells(run(sheets)) == [] and asked == []
    report = run(sheets, options={"check_domains": True})
    assert cells(report) == [("Customers!D3", "email-domain-unknown")]
    assert sorted(asked) == ["example.com", "nowhere-at-all.com"]


# ---------------------------------------------------------------- phones


@pytest.mark.parametrize(
    ("phone", "country", "expected", "e164", "kind"),
    [
        ("07911 123456", "GB", [], "+447911123456", "mobile"),
        ("0117 496 0123", "United Kingdom", [], "+441174960123", "landline"),
        ("+49 30 123456", "GB", [], "+4930123456", "landline"),
        ("(212) 555-0123", "USA", [], "+12125550123", ""),
        ("123", "GB", [("Customers!E2", "phone-too-short")], "", ""),
        ("0791112345678901", "GB", [("Customers!E2", "phone-too-long")], "", ""),
        ("01111 111111", "GB", [("Customers!E2", "phone-invalid")], "", ""),
        ("07700 901123", "GB", [("Customers!E2", "phone-invalid")], "", ""),  # next to the drama range
        ("call me", "GB", [("Customers!E2", "phone-invalid")], "", ""),
        (7911123456, "GB", [("Customers!E2", "phone-as-number")], "+447911123456", "mobile"),
        ("07911 123456", "Narnia", [("Customers!F2", "country-unknown")], "+447911123456", "mobile"),
    ],
)
def test_phones(phone: Any, country: str, expected: list[tuple[str, str]], e164: str, kind: str) -> None:
    report = run(customers(["C-00001", "Ann", "Lee", "ann@example.com", phone, country]))
    assert cells(report) == expected
    c = report.records.customers[0]
    assert (c.phone_e164, c.phone_type) == (e164, kind)


@pytest.mark.parametrize(
    ("phone", "country", "e164", "kind", "sms"),
    [
        ("07700 900123", "GB", "+447700900123", "mobile", True),  # phonenumbers rejects this range
        ("+44 (0)7700 900999", "", "+447700900999", "mobile", True),
        (7700900000, "GB", "+447700900000", "mobile", True),  # stored as a number: also a warning
        ("01632 960123", "GB", "+441632960123", "landline", False),  # rejected by phonenumbers too
        ("0115 496 0018", "UK", "+441154960018", "landline", False),
        ("0117 496 0123", "GB", "+441174960123", "landline", False),  # accepted by phonenumbers
        ("028 9649 6999", "GB", "+442896496999", "landline", False),
        ("(617) 555-0100", "US", "+16175550100", "", True),
        ("+1 401 555 0199", "GB", "+14015550199", "", True),
    ],
)
def test_numbers_reserved_for_fiction_are_usable_with_a_note(
    phone: Any, country: str, e164: str, kind: str, sms: bool
) -> None:
    head = [*HEAD, "SMS opt-in"]
    report = run(customers(["C-00001", "Ann", "Lee", "ann@example.com", phone, country, "yes"], head=head))
    expected = [("Customers!E2", "phone-fictional")]
    if isinstance(phone, int):
        expected.insert(0, ("Customers!E2", "phone-as-number"))
    if not sms:
        expected.append(("Customers!E2", "sms-landline"))
    assert sorted(cells(report, notes=True)) == sorted(expected)
    assert report.exit_code == 0
    c = report.records.customers[0]
    assert (c.phone_e164, c.phone_type, "phone" in c.invalid, can_sms(c)) == (e164, kind, False, sms)
    notes = [f for f in report.findings if f.code == "phone-fictional"]
    assert [f.severity for f in notes] == [Severity.INFO]


@pytest.mark.parametrize("phone", ["07700 901000", "07700 899999", "0117 496 1000", "+1 617 555 0200"])
def test_numbers_next_to_the_fictional_ranges_are_not_fictional(phone: str) -> None:
    report = run(customers(["C-00001", "Ann", "Lee", "ann@example.com", phone, "GB"]))
    assert "phone-fictional" not in [code for _, code in cells(report, notes=True)]


def test_phone_as_number_suggests_e164() -> None:
    report = run(customers(["C-00001", "Ann", "Lee", "ann@example.com", 7911123456, "GB"]))
    assert [f.suggestion for f in report.findings if f.code == "phone-as-number"] == ["+447911123456"]


def test_default_country_from_settings_reads_national_numbers() -> None:
    sheets = customers(["C-00001", "Ann", "Lee", "ann@example.com", "(212) 555-0123", None])
    assert cells(run(sheets)) == [("Customers!E2", "phone-invalid")]  # default GB
    sheets["Settings"] = [["Setting", "Value"], ["Default country", "US"]]
    report = run(sheets)
    assert cells(report) == []
    assert report.records.customers[0].phone_e164 == "+12125550123"


def test_sms_to_a_landline_is_a_warning() -> None:
    head = [*HEAD, "Preferred channel", "SMS opt-in"]
    report = run(
        customers(
            [*ANN[:4], "0117 496 0123", "GB", "SMS", "yes"],
            ["C-00002", "Bob", "Ray", "bob@example.com", "0117 496 0124", "GB", "email", "y"],
            ["C-00003", "Cy", "Ng", "cy@example.com", "07911 123457", "GB", "text", "yes"],
            head=head,
        )
    )
    assert cells(report) == [("Customers!E2", "sms-landline"), ("Customers!E3", "sms-landline")]
    assert [can_sms(c) for c in report.records.customers] == [False, False, True]


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("first", "last", "expected", "suggestions"),
    [
        ("Ann", "Lee", [], []),
        ("ANN", "LEE", [("Customers!B2", "name-case"), ("Customers!C2", "name-case")], ["Ann", "Lee"]),
        ("mary-jane", "o'neil", [("Customers!B2", "name-case"), ("Customers!C2", "name-case")],
         ["Mary-Jane", "O'Neil"]),
        ("ROBERT", "MCDONALD", [("Customers!B2", "name-case"), ("Customers!C2", "name-case")],
         ["Robert", "McDonald"]),
        ("JOHN", "MACY", [("Customers!B2", "name-case"), ("Customers!C2", "name-case")], ["John", "Macy"]),
        ("LUDWIG", "VAN BEETHOVEN", [("Customers!B2", "name-case"), ("Customers!C2", "name-case")],
         ["Ludwig", "van Beethoven"]),
        ("Ann", "van der Berg", [], []),
        ("Smith", "John", [("Customers!B2", "name-maybe-swapped")], ["John Smith"]),
        ("Kelly", "John", [], []),  # Kelly is a given name as well: not flagged
        ("Ann2", "Lee", [("Customers!B2", "name-odd-characters")], [None]),
        ("李", "小龙", [], []),
    ],
)  # fmt: skip
def test_names(first: str, last: str, expected: list[tuple[str, str]], suggestions: list[Any]) -> None:
    report = run(customers(["C-00001", first, last, "ann@example.com", None, None]))
    assert cells(report) == expected
    assert [f.suggestion for f in report.findings if f.code != "customer-id-counter"] == suggestions


def test_company_without_a_person_is_fine_but_nobody_is_not() -> None:
    head = [*HEAD, "Company"]
    report = run(
        customers(
            ["C-00001", None, None, "shop@example.com", None, None, "Acme Ltd"],
            ["C-00002", None, None, "bob@example.com", None, None, None],
            head=head,
        )
    )
    assert cells(report) == [("Customers!B3", "name-missing")]


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("birthday", "expected", "read"),
    [
        ("1980-03-04", [], date(1980, 3, 4)),
        (datetime(1980, 3, 4), [], date(1980, 3, 4)),
        ("4 March 1980", [], date(1980, 3, 4)),
        ("March 4, 1980", [], date(1980, 3, 4)),
        ("25/12/1980", [], date(1980, 12, 25)),
        ("03/04/1980", [("Customers!G2", "date-ambiguous")], date(1980, 4, 3)),
        (29284, [("Customers!G2", "date-as-number")], date(1980, 3, 4)),
        (1980, [("Customers!G2", "date-invalid")], None),
        ("31/02/1980", [("Customers!G2", "date-invalid")], None),
        ("soon", [("Customers!G2", "date-invalid")], None),
        ("2030-01-01", [("Customers!G2", "birthday-future")], date(2030, 1, 1)),
        ("1880-01-01", [("Customers!G2", "birthday-implausible")], date(1880, 1, 1)),
    ],
)
def test_birthdays(birthday: Any, expected: list[tuple[str, str]], read: date | None) -> None:
    report = run(customers([*ANN, birthday], head=[*HEAD, "Birthday"]))
    assert cells(report, notes=True) == expected
    c = report.records.customers[0]
    assert c.birthday == read
    assert ("birthday" in c.invalid) == bool(
        expected and expected[0][1] in {"date-invalid", "birthday-future"}
    )


def test_month_first_country_reads_us_dates() -> None:
    sheets = customers([*ANN, "03/04/1980"], head=[*HEAD, "Birthday"])
    sheets["Settings"] = [["Setting", "Value"], ["Default country", "US"]]
    report = run(sheets)
    assert report.records.customers[0].birthday == date(1980, 3, 4)
    assert [f.suggestion for f in report.findings if f.code == "date-ambiguous"] == [date(1980, 3, 4)]


def test_customer_since_in_the_future() -> None:
    report = run(customers([*ANN, "2027-01-01"], head=[*HEAD, "Customer since"]))
    assert cells(report) == [("Customers!G2", "customer-since-future")]


# ---------------------------------------------------------------- orders and money


def orders(*rows: list[Any]) -> dict[str, list[list[Any]]]:
    sheets = customers(ANN)
    sheets["Orders"] = [["Order ID", "Customer", "Date", "Amount", "Quantity"], *rows]
    return sheets


@pytest.mark.parametrize(
    ("row", "expected", "amount", "usable"),
    [
        ([1, "C-00001", "2026-01-02", 10, 1], [], 10.0, True),
        ([1, "ann@example.com", "2026-01-02", "£1,234.50", 1], [("Orders!D2", "amount-as-text")], 1234.5,
         True),
        ([1, "c-00001", "2026-01-02", "1.234,50 €", 1], [("Orders!D2", "amount-as-text")], 1234.5, True),
        ([1, "C-00001", "2026-01-02", -20, 1], [("Orders!D2", "amount-negative")], -20.0, True),
        ([1, "C-00001", "2026-01-02", "(20.00)", 1],
         [("Orders!D2", "amount-as-text"), ("Orders!D2", "amount-negative")], -20.0, True),
        ([1, "C-00001", "2026-01-02", "ten", 1], [("Orders!D2", "amount-invalid")], None, False),
        ([1, "C-00001", "2026-01-02", None, 1], [("Orders!D2", "amount-missing")], None, False),
        ([1, "C-00001", None, 10, 1], [("Orders!C2", "order-date-missing")], 10.0, False),
        ([1, "C-00001", "2027-01-02", 10, 1], [("Orders!C2", "order-future")], 10.0, False),
        ([1, "C-00009", "2026-01-02", 10, 1], [("Orders!B2", "order-unknown-customer")], 10.0, False),
        ([1, None, "2026-01-02", 10, 1], [("Orders!B2", "order-no-customer")], 10.0, False),
        ([1, "C-00001", "2026-01-02", 10, "lots"], [("Orders!E2", "quantity-invalid")], 10.0, True),
    ],
)  # fmt: skip
def test_orders(row: list[Any], expected: list[tuple[str, str]], amount: float | None, usable: bool) -> None:
    report = run(orders(row))
    assert cells(report, notes=True) == expected
    order = report.records.orders[0]
    assert order.amount == amount
    assert usable_order(order) is usable
    skipped = report.outputs["validate"].result.skipped_orders
    assert skipped == ([] if usable else [2])


@pytest.mark.parametrize(
    ("amount", "quantity", "expected"),
    [
        (float("nan"), 1, [("Orders!D2", "amount-impossible")]),
        (float("inf"), 1, [("Orders!D2", "amount-impossible")]),  # 1e309 in the file reads as inf
        (-float("inf"), 1, [("Orders!D2", "amount-impossible")]),
        (10**400, 1, [("Orders!D2", "amount-impossible")]),  # a 400-digit whole number
        (2e12, float("nan"), [("Orders!D2", "amount-impossible"), ("Orders!E2", "quantity-impossible")]),
        (10, float("inf"), [("Orders!E2", "quantity-impossible")]),
    ],
)
def test_impossible_numbers_are_errors_at_their_cell_and_not_counted(
    amount: Any, quantity: Any, expected: list[tuple[str, str]]
) -> None:
    sheets = orders([1, "C-00001", "2026-01-02", amount, quantity], [2, "C-00001", "2026-02-02", 40, 1])
    report = api.run(MemoryBackend(sheets), ["tiers"], today=TODAY, now=NOW, dry_run=True)
    assert cells(report, notes=True) == expected
    assert all(f.severity is Severity.ERROR for f in report.findings if (f.cell, f.code) in expected)
    first = report.records.orders[0]
    assert first.quantity is None if expected[-1][1] == "quantity-impossible" else first.quantity == 1
    assert report.outputs["tiers"].data["total_revenue"] == (40.0 if first.amount is None else 50.0)


def test_out_of_range_date_cells_are_errors_wherever_they_are() -> None:
    old = datetime(1066, 10, 14)  # a negative serial in a date-formatted cell reads like this
    sheets = customers([*ANN, old], head=[*HEAD, "Customer since"])
    sheets["Orders"] = [["Order ID", "Customer", "Date", "Amount"], [1, "C-00001", old, 10]]
    sheets["Interactions"] = [["Date", "Customer", "Follow up"], [old, "C-00001", old]]
    report = run(sheets)
    assert cells(report) == [
        ("Customers!G2", "date-invalid"),
        ("Orders!C2", "date-invalid"),
        ("Interactions!A2", "date-invalid"),
        ("Interactions!C2", "date-invalid"),
    ]
    assert all("1066-10-14 is before 1800" in f.problem for f in report.findings if f.code == "date-invalid")
    assert report.outputs["validate"].result.skipped_orders == [2]
    assert report.outputs["validate"].result.skipped_interactions == [2]


def test_duplicate_order_ids() -> None:
    report = run(orders([7, "C-00001", "2026-01-02", 10], [7, "C-00001", "2026-01-03", 10]))
    assert cells(report) == [("Orders!A3", "order-id-duplicate")]


def test_missing_order_column_is_a_failure_naming_it() -> None:
    sheets = customers(ANN)
    sheets["Orders"] = [["Order ID", "Customer", "Amount"], [1, "C-00001", 5]]
    with pytest.raises(ColumnNotFound) as exc:
        run(sheets)
    assert exc.value.message == "The Orders tab has no Date column."
    assert "Add a column called 'Date' to the Orders tab" in exc.value.fix


def test_customers_without_any_name_or_email_column_is_a_failure() -> None:
    with pytest.raises(ColumnNotFound) as exc:
        run({"Customers": [["Customer ID", "Phone"], ["C-1", "07911 123456"]]})
    assert "no column that tells customers apart" in exc.value.message


# ---------------------------------------------------------------- consent and channels


CONSENT_HEAD = [*HEAD, "Preferred channel", "Email opt-in", "SMS opt-in", "Do not contact", "Address"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["email", "yes", "n", "no", None], []),
        (["email", "✓", "0", "", None], []),
        (["email", "x", "FALSE", "false", None], []),
        (["email", "no", "no", "no", None], [("Customers!G2", "channel-no-consent")]),
        (["pigeon", "yes", "no", "no", None], [("Customers!G2", "channel-unknown")]),
        (["letter", "yes", "no", "no", None], [("Customers!G2", "channel-no-address")]),
        (["email", "maybe", "no", "no", None], [("Customers!H2", "consent-unreadable")]),
        (["email", "yes", "yes", "yes", None], [("Customers!J2", "dnc-with-opt-in")]),
    ],
)
def test_consent(extra: list[Any], expected: list[tuple[str, str]]) -> None:
    report = run(customers([*ANN, *extra], head=CONSENT_HEAD))
    assert cells(report) == expected


def test_unreadable_do_not_contact_is_read_as_do_not_contact() -> None:
    report = run(customers([*ANN, "email", "yes", "no", "perhaps", None], head=CONSENT_HEAD))
    assert cells(report) == [("Customers!J2", "consent-unreadable")]
    assert report.records.customers[0].do_not_contact is True
    assert not can_email(report.records.customers[0])


# ---------------------------------------------------------------- references


def test_referrals_unknown_ambiguous_and_loops() -> None:
    head = [*HEAD, "Referred by"]
    report = run(
        customers(
            [*ANN, "C-00002"],
            ["C-00002", "Bob", "Ray", "bob@example.com", None, None, "ann@example.com"],  # loop with Ann
            ["C-00003", "Cy", "Ng", "cy@example.com", None, None, "Bob Ray"],  # by name: fine
            ["C-00004", "Di", "Lo", "di@example.com", None, None, "Nobody Here"],
            ["C-00005", "Ed", "Wu", "ed@example.com", None, None, "C-00005"],  # self
            ["C-00006", "Pat", "Kay", "pat1@example.com", None, None, "Lee Kay"],
            ["C-00007", "Lee", "Kay", "lee1@example.com", None, None, None],
            ["C-00008", "Lee", "Kay", "lee2@example.com", None, None, None],
            head=head,
        )
    )
    assert cells(report) == [
        ("Customers!G5", "referrer-unknown"),
        ("Customers!G7", "referrer-ambiguous"),
        ("Customers!G2", "referral-loop"),
        ("Customers!G6", "referral-loop"),
    ]
    loop = next(f for f in report.findings if f.code == "referral-loop")
    assert (
        loop.problem
        == "Referred by goes round in a circle: Ann Lee (C-00001) -> Bob Ray (C-00002) -> Ann Lee (C-00001)."
    )
    assert [("referred_by" in c.invalid) for c in report.records.customers[:5]] == [
        True,
        True,
        False,
        True,
        True,
    ]


def test_interactions() -> None:
    sheets = customers(ANN)
    sheets["Interactions"] = [
        ["Date", "Customer", "Satisfaction"],
        ["2026-01-01", "C-00001", 4],
        ["2026-01-01", "C-00001", 9],  # a 0-10 scale is fine
        ["2026-01-01", "zz@example.com", 11],
        [None, None, "great"],
        ["2027-01-01", "ann@example.com", None],
    ]
    report = run(sheets)
    assert cells(report) == [
        ("Interactions!B4", "interaction-unknown-customer"),
        ("Interactions!C4", "satisfaction-out-of-range"),
        ("Interactions!B5", "interaction-no-customer"),
        ("Interactions!A5", "interaction-date-missing"),
        ("Interactions!C5", "satisfaction-invalid"),
        ("Interactions!A6", "interaction-future"),
    ]
    assert report.outputs["validate"].result.skipped_interactions == [4, 5]


def test_interactions_without_a_customer_column() -> None:
    sheets = customers(ANN)
    sheets["Interactions"] = [["Date", "Summary"], ["2026-01-01", "called"]]
    assert cells(run(sheets)) == [("Interactions!1", "interactions-column-missing")]


# ---------------------------------------------------------------- structure


def test_postcodes_stored_as_numbers() -> None:
    head = [*HEAD, "Postcode"]
    report = run(
        customers(
            ["C-00001", "Ann", "Lee", "ann@example.com", "(212) 555-0123", "US", 2134],
            ["C-00002", "Bob", "Ray", "bob@example.com", None, "US", 90210],
            ["C-00003", "Cy", "Ng", "cy@example.com", None, "GB", 12345],
            ["C-00004", "Di", "Lo", "di@example.com", None, "GB", "SW1A 1AA"],
            head=head,
        )
    )
    assert cells(report) == [("Customers!G2", "postcode-lost-zero"), ("Customers!G4", "postcode-as-number")]
    assert [f.suggestion for f in report.findings if f.code == "postcode-lost-zero"] == ["02134"]


def test_settings_checks() -> None:
    sheets = customers(ANN, ["C-00002", "Bob", "Ray", "bob@example.com", "07911 123457", None])
    sheets["Settings"] = [
        ["Setting", "Value"],
        ["Default country", "XX"],
        ["Timezone", "Mars/Olympus"],
        ["Gold", 30],
        ["Date order", "sideways"],
    ]
    assert cells(run(sheets)) == [
        ("Settings!B2", "setting-country-unknown"),
        ("Settings!B3", "setting-timezone-unknown"),
        ("Settings!B4", "setting-tier-order"),
        ("Settings!B5", "setting-date-order-unknown"),
        ("Customers!E3", "phone-no-country"),  # Ann's row says GB, Bob's says nothing
    ]


def test_header_problems_are_not_reported_twice() -> None:
    report = run(customers(ANN, head=["Customer ID", "First name", "Last name", "Email", "Email", ""]))
    assert [f.code for f in report.findings if "header" in f.code] == ["duplicate-header"]


# ---------------------------------------------------------------- stable IDs


def test_ids_fill_only_blank_cells_following_the_sheet_pattern() -> None:
    sheets = customers(
        ["CUST-0007", "Ann", "Lee", "ann@example.com", None, None],
        [None, "Bob", "Ray", "bob@example.com", None, None],
        ["  ", "Cy", "Ng", "cy@example.com", None, None],
        ["CUST-0003", "Di", "Lo", "di@example.com", None, None],
    )
    report = run(sheets, dry_run=True)
    assert [(e.tab, e.row, e.column, e.expected, e.value) for e in report.plan.edits] == [
        ("Customers", 3, 1, None, "CUST-0008"),
        ("Customers", 4, 1, "  ", "CUST-0009"),
    ]
    assert [c.customer_id for c in report.records.customers] == [
        "CUST-0007",
        "CUST-0008",
        "CUST-0009",
        "CUST-0003",
    ]
    assert (
        report.summary_lines()[1]
        == "Gave 2 customers a new Customer ID: CUST-0008 (row 3), CUST-0009 (row 4)."
    )
    counter = [f for f in report.findings if f.code == "customer-id-counter"]
    assert [(f.cell, f.value) for f in counter] == [("Customers!A", "CUST-0009")]


def test_new_ids_written_and_orders_by_email_follow_them() -> None:
    backend = MemoryBackend(
        {
            "Customers": [HEAD, [None, "Ann", "Lee", "ann@example.com", None, None]],
            "Orders": [["Customer", "Date", "Amount"], ["ann@example.com", "2026-01-01", 5]],
        }
    )
    report = api.run(backend, ["validate"], today=TODAY, now=NOW)
    assert backend.sheets["Customers"][1][0] == "C-00001"
    assert report.written is not None and report.written.cells_edited == 1
    assert report.records.orders[0].customer_id == "C-00001"
    again = api.run(backend, ["validate"], today=TODAY, now=NOW)
    assert again.plan.edits == []


def test_ids_are_never_reused_after_the_highest_row_is_deleted() -> None:
    sheets = customers(
        ["C-00010", "Ann", "Lee", "ann@example.com", None, None],
        [None, "Bob", "Ray", "bob@example.com", None, None],
    )
    sheets["Merge Log"] = [
        ["Generated by sheet-crm"],
        ["When", "Kept", "Merged"],
        [NOW, "C-00010", "C-00050"],
    ]
    report = run(sheets, dry_run=True)
    assert [e.value for e in report.plan.edits] == ["C-00051"]


def test_deleting_the_newest_customer_does_not_free_its_id() -> None:
    backend = MemoryBackend({"Customers": [HEAD, ["C-00001", "Ann", "Lee", "a@example.com", None, None],
                                           [None, "Bob", "Ray", "b@example.com", None, None]]})  # fmt: skip
    api.run(backend, ["validate"], today=TODAY, now=NOW)
    assert backend.sheets["Customers"][2][0] == "C-00002"
    del backend.sheets["Customers"][2]  # the owner deletes Bob...
    backend.sheets["Customers"].append([None, "Cy", "Ng", "c@example.com", None, None])  # ...and adds Cy
    api.run(backend, ["validate"], today=TODAY, now=NOW)
    assert backend.sheets["Customers"][2][0] == "C-00003"  # the Issues tab remembered C-00002


def test_plain_number_ids_stay_numbers() -> None:
    sheets = customers(
        [12, "Ann", "Lee", "ann@example.com", None, None], [None, "Bob", "Ray", "b@example.com", None, None]
    )
    sheets["Issues"] = [["Generated by sheet-crm"], ["Value", "Customer ID"], ["99999", 15]]
    report = run(sheets, dry_run=True)
    assert [e.value for e in report.plan.edits] == [16]  # the amount-like "99999" is not an ID
    assert report.records.customers[1].customer_id == "16"


def test_duplicate_ids_are_errors() -> None:
    report = run(customers(ANN, ["c-00001", "Bob", "Ray", "bob@example.com", None, None]))
    assert cells(report) == [("Customers!A3", "customer-id-duplicate")]
    assert "customer_id" in report.records.customers[1].invalid


def test_no_id_column_says_how_to_add_one() -> None:
    report = run({"Customers": [["First name", "Email"], ["Ann", "ann@example.com"]]}, dry_run=True)
    assert cells(report) == [("Customers!1", "customer-id-column-missing")]
    assert report.plan.edits == []


# ---------------------------------------------------------------- JSON


def messy() -> dict[str, list[list[Any]]]:
    sheets = customers(
        [None, "ANN", "LEE", "ann@gmial.com", 7911123456, "UK"],
        ["C-00002", "Bob", "Ray", "bob@", "123", "Narnia"],
    )
    sheets["Orders"] = [["Customer", "Date", "Amount"], ["C-00009", "31/02/2026", "£-5"]]
    return sheets


def test_json_result_is_the_findings_of_the_library() -> None:
    report = run(messy(), dry_run=True)
    payload = json.loads(json.dumps(report.to_dict(), default=str))
    assert payload["findings"] == [f.to_dict() for f in report.findings]
    data = payload["results"]["validate"]
    assert data["by_code"]["email-typo"] == 1
    # The order names C-00009: that number counts as given out, so the new ID is above it.
    assert data["assigned_ids"] == [{"row": 2, "customer_id": "C-00010"}]


@pytest.mark.skipif(
    importlib.util.find_spec("sheet_crm.backends.xlsx") is None, reason="xlsx backend not there yet"
)
def test_cli_json_equals_library_findings(tmp_path: Any) -> None:
    from click.testing import CliRunner
    from openpyxl import Workbook

    from sheet_crm.cli import cli

    path = tmp_path / "crm.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "Customers"
    for row in messy()["Customers"]:
        ws.append(row)
    wb.save(path)
    result = CliRunner().invoke(cli, ["validate", str(path), "--json", "--dry-run", "--today", "2026-11-22"])
    payload = json.loads(result.stdout)
    library = api.run(str(path), ["validate"], today=TODAY, dry_run=True)
    assert payload["findings"] == json.loads(json.dumps([f.to_dict() for f in library.findings], default=str))
    assert result.exit_code == 1


# ---------------------------------------------------------------- properties

CELL = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "So", "Lo", "Mn"]), max_size=20),
    st.sampled_from(
        ["مرحبا بالعالم", "שלום", "😀😀", "\u202eevil", "x" * 5000, "=1+1", "07911 123456", "£12"]
    ),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
)
FULL_HEAD = [
    "Customer ID", "First name", "Last name", "Email", "Phone", "Country", "Birthday", "Customer since",
    "Preferred channel", "Email opt-in", "SMS opt-in", "Do not contact", "Referred by", "Postcode", "Company",
]  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(CELL, min_size=len(FULL_HEAD), max_size=len(FULL_HEAD)), min_size=1, max_size=4),
    st.lists(st.lists(CELL, min_size=5, max_size=5), max_size=4),
    st.lists(st.lists(CELL, min_size=3, max_size=3), max_size=3),
)
def test_no_input_crashes_the_validator(
    rows: list[list[Any]], order_rows: list[list[Any]], interaction_rows: list[list[Any]]
) -> None:
    sheets = {
        "Customers": [FULL_HEAD, *rows],
        "Orders": [["Order ID", "Customer", "Date", "Amount", "Quantity"], *order_rows],
        "Interactions": [["Date", "Customer", "Satisfaction"], *interaction_rows],
    }
    report = run(sheets, dry_run=True)
    assert all(f.code and f.problem for f in report.findings)
    json.dumps(report.to_dict(), default=str)


GIVEN = st.sampled_from(["Ann", "Bob", "Mary-Jane", "Siobhán", "José", "Zoë", "Li"])
FAMILY = st.sampled_from(["Lee", "O'Neil", "McDonald", "van der Berg", "Smith-Jones", "Núñez"])


@settings(max_examples=30, deadline=None)
@given(
    GIVEN,
    FAMILY,
    st.sampled_from(["gmail.com", "example.org", "shop.co.uk"]),
    st.integers(min_value=100000, max_value=199999),
    st.dates(min_value=date(1930, 1, 1), max_value=date(2008, 1, 1)),
    st.sampled_from(["email", "SMS", "phone", ""]),
)
def test_a_valid_row_gives_no_errors(
    first: str, last: str, domain: str, digits: int, birthday: date, channel: str
) -> None:
    email = f"{first.lower()}.{digits}@{domain}"
    row = [None, first, last, email, f"07911 {digits}", "GB", birthday, date(2020, 1, 1), channel,
           "yes", "yes", "no", None, "SW1A 1AA", None]  # fmt: skip
    report = run({"Customers": [FULL_HEAD, row]}, dry_run=True)
    assert [f for f in report.findings if f.severity is not Severity.INFO] == []
