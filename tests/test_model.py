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
