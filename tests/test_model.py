"""Rows to typed records: never raises for bad cells; references follow merges."""

from __future__ import annotations

from datetime import date

import pytest

from sheet_crm.backends.memory import MemoryBackend
from sheet_crm.config import Settings
from sheet_crm.errors import TabNotFound
from sheet_crm.findings import FindingList
from sheet_crm.model import build_records
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
