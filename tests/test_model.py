"""Rows to typed records: never raises for bad cells; references follow merges."""

from __future__ import annotations

from datetime import date

import pytest

from sheet_crm.backends.memory import MemoryBackend
from sheet_crm.config import Settings
from sheet_crm.errors import TabNotFound
from sheet_crm.findings import FindingList
from sheet_crm.model import NO_EXTRA, RecordChanges, build_records, problems_of
from sheet_crm.workbook import CellError, NoCachedValue


def test_records_typed_and_bad_cells_marked_invalid() -> None:
    wb = MemoryBackend(
        {
            "Customers": [
                ["Customer ID", "First name", "Email", "Birthday", "Email opt-in", "Likes"],
                ["C-1", " Ann ", "Ann@X.org", "04/03/1990", "✓", "tea; cake"],
                ["C-2", "Bob", "bob@y.org", "someday", "no", None],
            ],
            "Orders": [
                ["Order ID", "Customer", "Date", "Amount"],
                ["1", "ann@x.org", "2025-01-02", "£1,200.50"],
                ["2", "C-2", CellError("#REF!"), NoCachedValue("SUM(A1)")],
            ],
        }
    ).read()
    findings = FindingList()
    r = build_records(wb, Settings(), findings)
    ann, bob = r.customers
    assert (ann.first_name, ann.birthday, ann.email_opt_in, ann.preferences) == (
        "Ann",
        date(1990, 3, 4),
        True,
        ["tea", "cake"],
    )
    assert bob.invalid == {"birthday"} and bob.email_opt_in is False
    o1, o2 = r.orders
    assert (o1.customer_id, o1.amount) == ("C-1", 1200.5)
    assert o2.invalid == {"date", "amount"}
    assert [(f.cell, f.code) for f in findings] == [
        ("Orders!C3", "formula-error"),
        ("Orders!D3", "formula-no-value"),
    ]


def test_merged_customers_count_for_survivor() -> None:
    wb = MemoryBackend(
        {
            "Customers": [
                ["Customer ID", "Email", "Merged into"],
                ["C-1", "a@x", None],
                ["C-2", "b@x", "C-1"],
            ],
            "Orders": [["Customer", "Date", "Amount"], ["b@x", "2025-01-01", 5]],
        }
    ).read()
    r = build_records(wb, Settings())
    assert r.orders[0].customer_id == "C-1"
    assert [c.customer_id for c in r.active_customers()] == ["C-1"]


def test_no_customers_tab_is_a_failure_with_a_fix() -> None:
    wb = MemoryBackend({"Orders": [["Order ID"], ["1"]]}).read()
    with pytest.raises(TabNotFound) as exc:
        build_records(wb, Settings())
    assert "Customers" in exc.value.message and exc.value.fix


def test_order_columns_match_the_orders_and_follow_changes() -> None:
    """The shared column view of the orders holds what each order says (blank date
    -1, blank amount NaN, unreadable cells flagged) and is read again after the orders
    are resolved again or replaced, never served stale."""
    import math

    wb = MemoryBackend(
        {
            "Customers": [["Customer ID", "Email"], ["C-1", "ann@x.org"], ["C-2", "bob@y.org"]],
            "Orders": [
                ["Order ID", "Customer", "Date", "Amount", "Product"],
                ["1", "ann@x.org", "2025-01-02", "12.50", "Tea"],
                ["2", "C-2", "not a date", "7", ""],
                ["3", "nobody@z.org", None, "lots", "Tea"],
            ],
        }
    ).read()
    records = build_records(wb, Settings(), FindingList())
    cols = records.order_columns()
    assert [cols.customer_keys[c] for c in cols.customer_code] == ["C-1", "C-2", ""]
    assert cols.day.tolist() == [date(2025, 1, 2).toordinal(), -1, -1]
    assert cols.amount[0] == 12.5 and cols.amount[1] == 7 and math.isnan(cols.amount[2])
    assert cols.date_invalid.tolist() == [False, True, False]
    assert cols.amount_invalid.tolist() == [False, False, True]
    assert [cols.product_names[p] for p in cols.product_code] == ["Tea", "", "Tea"]
    assert records.order_columns() is cols  # read once

    # A merge resolved again: the orders of C-2 now count for C-1.
    records.customers[1].merged_into = "C-1"
    records.reindex()
    again = records.order_columns()
    assert again is not cols
    assert [again.customer_keys[c] for c in again.customer_code] == ["C-1", "C-1", ""]
    # An order list replaced or grown is read again too.
    records.orders = records.orders[:1]
    assert records.order_columns().day.size == 1
    records.orders.append(records.orders[0])
    assert records.order_columns().day.size == 2


def test_a_broken_character_is_repaired_once_and_reported_at_its_cell() -> None:
    wb = MemoryBackend(
        {
            "Customers": [
                ["Customer ID", "First name", "Email", "Favourite"],
                ["C-1", "Ann\ud800", "ann@x.org", "tea \udfff"],
            ],
            "Templates": [["Name", "Body"], ["hello", "Hi \ud83c\udf75 {{ first_name }}"]],
        }
    ).read()
    findings = FindingList()
    r = build_records(wb, Settings(), findings)
    (ann,) = r.customers
    assert (ann.first_name, ann.extra["favourite"]) == ("Ann\ufffd", "tea \ufffd")
    assert wb.tables["Customers"].rows[0].values[1] == "Ann\ufffd"  # what later steps read
    assert wb.tables["Templates"].rows[0].values[1] == "Hi \U0001f375 {{ first_name }}"
    assert [(f.cell, f.code, f.value) for f in findings] == [
        ("Customers!B2", "broken-character", "Ann\ufffd"),
        ("Customers!D2", "broken-character", "tea \ufffd"),
        ("Templates!B2", "broken-character", "Hi \U0001f375 {{ first_name }}"),
    ]


def test_each_cells_problem_is_kept_beside_its_value() -> None:
    """The model reads every cell once: what was wrong with it stays with the record,
    and the forms worked out from the cells (normalised email, E.164 phone) are there
    before any step runs."""
    wb = MemoryBackend(
        {
            "Customers": [
                ["Customer ID", "Email", "Phone", "Country", "Postcode", "Birthday", "Preferred channel"],
                ["C-1", "Ann@Gmial.com ", 7911123456, "UK", 2134, "03/04/1990", "pigeon"],
                ["C-2", "info@example.com", "123", "Narnia", "LS1 1AA", 1985, "sms"],
                ["C-3", "bob@", "07911 123456", None, None, 30000, None],
            ],
            "Orders": [
                ["Order ID", "Customer", "Date", "Amount"],
                ["1", "C-1", "2025-01-02", "£12.50"],
                ["2", "C-1", "31/02/2025", float("inf")],
            ],
            "Interactions": [["Date", "Customer", "Satisfaction"], ["2025-01-02", "C-2", 11]],
        }
    ).read()
    r = build_records(wb, Settings(), FindingList())
    ann, cy, bob = r.customers

    def kinds(record: object, fieldname: str) -> list[tuple[str, object]]:
        return [(p.kind, p.suggestion) for p in problems_of(record, fieldname)]

    assert (ann.email_normalized, ann.phone_e164) == ("ann@gmial.com", "+447911123456")
    assert ann.phone_type == "mobile"
    assert kinds(ann, "email") == [("typo", "ann@gmail.com")]
    assert kinds(ann, "phone") == [("as-number", "+447911123456")]
    assert kinds(ann, "postcode") == [("as-number", None)]  # GB postcodes have letters
    assert kinds(ann, "birthday") == [("ambiguous", None)] and ann.birthday == date(1990, 4, 3)
    assert kinds(ann, "preferred_channel") == [("unknown", None)]
    assert ann.invalid == {"preferred_channel"}
    assert kinds(cy, "email") == [("role", None)] and cy.email_normalized == "info@example.com"
    assert kinds(cy, "country") == [("unknown", None)]
    assert [(p.kind, p.detail) for p in problems_of(cy, "phone")] == [("too-short", "GB")]
    assert kinds(cy, "birthday") == [("year", None)] and cy.birthday is None
    assert cy.invalid == {"phone", "birthday"} and cy.phone_e164 == ""
    assert kinds(bob, "email") == [("invalid", None)] and bob.email_normalized == ""
    assert kinds(bob, "birthday") == [("as-number", None)] and bob.birthday == date(1982, 2, 18)
    assert bob.invalid == {"email"} and bob.phone_e164 == "+447911123456"
    o1, o2 = r.orders
    assert (o1.amount, kinds(o1, "amount"), o1.invalid) == (12.5, [("as-text", None)], frozenset())
    assert [p.detail for p in problems_of(o2, "date")] == ["'31/02/2025' is not a real date"]
    assert kinds(o2, "amount") == [("impossible", None)] and o2.invalid == {"date", "amount"}
    (it,) = r.interactions
    assert (it.satisfaction, kinds(it, "satisfaction")) == (None, [("out-of-range", None)])
    assert it.invalid == {"satisfaction"}


def test_rows_without_problems_share_one_empty_value() -> None:
    """A million clean orders must not carry a million empty sets, dicts and tuples;
    orders with the same problem share one Problem."""
    wb = MemoryBackend(
        {
            "Customers": [
                ["Customer ID", "Email", "Favourite"],
                ["C-1", "a@x.org", "tea"],
                ["C-2", "b@x.org", None],
            ],
            "Orders": [["Customer", "Date", "Amount"], *[["C-1", "2025-01-02", "12.50"] for _ in range(3)]],
        }
    ).read()
    r = build_records(wb, Settings(), FindingList())
    a, b, c = r.orders
    assert a.invalid is b.invalid is c.invalid and not a.invalid
    assert a.extra is b.extra is NO_EXTRA  # the Orders tab has no owner columns
    assert a.problems is b.problems and a.problems[0] is c.problems[0]
    assert r.customers[0].problems == () and r.customers[0].extra == {"favourite": "tea"}


def test_changed_records_are_new_objects_only_where_they_change() -> None:
    """``Records.changed`` leaves the records it is called on as they are: a changed
    customer is a copy, an order whose customer resolves anew is a copy, everything
    else is shared (and the orders' columns with it, while the orders are the same)."""
    wb = MemoryBackend(
        {
            "Customers": [["Customer ID", "Email"], [None, "ann@x.org"], ["C-2", "bob@y.org"]],
            "Orders": [
                ["Customer", "Date", "Amount"],
                ["ann@x.org", "2025-01-02", 5],
                ["C-2", "2025-01-03", 7],
            ],
        }
    ).read()
    records = build_records(wb, Settings(), FindingList())
    ann, bob = records.customers
    o_ann, o_bob = records.orders
    assert o_ann.customer_id == "row:2"
    columns = records.order_columns()

    named = records.changed(RecordChanges(customers={0: {"customer_id": "C-3"}}, resolve="unresolved"))
    assert (ann.customer_id, o_ann.customer_id) == ("", "row:2")  # the originals as they were
    assert named.customers[0].customer_id == "C-3" and named.customers[1] is bob
    assert named.orders[0] is not o_ann and named.orders[0].customer_id == "C-3"
    assert named.orders[1] is o_bob and named.find("c-3") is named.customers[0]
    assert records.order_columns() is columns

    columns = named.order_columns()
    same_orders = named.changed(RecordChanges(customers={1: {"notes": "hi"}}))
    assert same_orders.orders is named.orders and same_orders.customers[1].notes == "hi"
    assert same_orders.order_columns() is columns

    merged = named.changed(RecordChanges(customers={1: {"merged_into": "C-3"}}, resolve="all"))
    assert [o.customer_id for o in merged.orders] == ["C-3", "C-3"]
    assert [o.customer_id for o in named.orders] == ["C-3", "C-2"]
    assert merged.orders[0] is named.orders[0] and merged.orders[1] is not o_bob
