"""The workbook model: header detection, aliases, row numbers, structural findings."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from sheet_crm.errors import AmbiguousTab
from sheet_crm.findings import FindingList, Location, column_index, column_letter
from sheet_crm.workbook import (
    CellError,
    NoCachedValue,
    ToolTab,
    Workbook,
    build_table,
    choose_tab,
    generated_note,
    header_key,
    needs_text_guard,
    same_cell,
    slug,
    tab_kind,
)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("E-mail", "email"),
        ("Email address", "email"),
        (" EMAIL ", "email"),
        ("Mobile", "phone"),
        ("Surname", "last_name"),
        ("Post code", "postcode"),
        ("Zip", "postcode"),
        ("ZIP code", "postcode"),
        ("First Name", "first_name"),
        ("D.O.B.", "birthday"),
        ("Do Not Contact", "do_not_contact"),
        ("SMS opt in", "sms_opt_in"),
    ],
)
def test_customer_header_aliases(header: str, field: str) -> None:
    table = build_table("Customers", [[header, "Notes"], ["x", "y"]])
    assert table.fields[field] == 0


def test_unknown_columns_are_kept_by_slug() -> None:
    table = build_table("Customers", [["Email", "Favourite Room", "2nd phone"], ["a@x.org", "12", "1"]])
    assert table.fields == {"email": 0, "favourite_room": 1, "_2nd_phone": 2}
    assert table.value(table.rows[0], "favourite_room") == "12"


def test_header_below_a_title_row_is_found_and_reported() -> None:
    findings = FindingList()
    grid = [["Our customers 2026"], [], ["Name", "Email", "Phone"], ["Ann", "a@x.org", "1"]]
    table = build_table("Customers", grid, findings=findings)
    assert table.header_row == 3
    assert [r.number for r in table.rows] == [4]
    assert [(f.cell, f.code) for f in findings] == [("Customers!3", "header-below-title")]


def test_blank_rows_are_skipped_but_keep_sheet_numbers() -> None:
    grid = [["Name", "Email"], ["Ann", "a@x"], [None, "  "], [], ["Bob", "b@y"]]
    table = build_table("Customers", grid)
    assert [r.number for r in table.rows] == [2, 5]


def test_duplicate_and_blank_headers_are_findings() -> None:
    findings = FindingList()
    build_table("Customers", [["Email", "E-mail", "", "Name"], ["a", "b", "c", "d"]], findings=findings)
    assert [(f.cell, f.code) for f in findings] == [
        ("Customers!B1", "duplicate-header"),
        ("Customers!C1", "blank-header"),
    ]


def test_error_values_are_kept_as_cell_errors() -> None:
    table = build_table("Orders", [["Order ID", "Amount"], ["1", CellError("#N/A")]])
    assert table.value(table.rows[0], "amount") == CellError("#N/A")


def test_tab_kind_matching_is_tolerant() -> None:
    assert tab_kind(" customers ") == "Customers"
    assert tab_kind("Clients") == "Customers"
    assert tab_kind("Bookings") == "Orders"
    assert tab_kind("Tiers") is None


def test_generated_tool_tab_reads_back_with_header_on_row_two() -> None:
    tab = ToolTab("Tiers", ["Customer ID", "Tier"], [["C-1", "Gold"]], decision_columns=("Tier",))
    note = generated_note(tab, datetime(2026, 11, 22, 7, 0))
    table = build_table("Tiers", [[note], tab.headers, *tab.rows])
    assert table.header_row == 2
    assert table.rows[0].number == 3
    assert "2026-11-22 07:00" in note and "Tier" in note


def test_helpers() -> None:
    assert header_key("  E-Mail  Address ") == "emailaddress"
    assert slug("Favourite Room!") == "favourite_room"
    assert [column_letter(i) for i in (1, 26, 27, 703)] == ["A", "Z", "AA", "AAA"]
    assert column_index("AA") == 27
    assert Location("My tab", 7, 5, "Email").cell == "'My tab'!E7"
    assert Location("Customers", 7, 5, "Email").__str__() == "Customers!E7 (Email)"
    assert Location("Bob's", 2).cell == "'Bob''s'!2"
    assert all(needs_text_guard(v) for v in ("=1+1", "+44", "-3", "@SUM(A1)", "\tx", "\rx"))
    assert not any(needs_text_guard(v) for v in ("Ann", "", 5, None))


# ---------------------------------------------------------------- which tab is which


def _book(*names: str) -> Workbook:
    return Workbook({n: build_table(n, [["Name", "Email"], ["Ann", "ann@x.org"]]) for n in names})


@pytest.mark.parametrize(
    ("names", "kind", "chosen", "expected", "how"),
    [
        (("Contacts",), "Customers", "", "Contacts", "only one"),
        (("Contacts", "Customers"), "Customers", "", "Customers", "exact name"),  # the case
        (("Cust'o\"mers", "Customers"), "Customers", "", "Customers", "exact name"),
        (("Clients", " customers "), "Customers", "", " customers ", "exact name"),  # case and spaces
        (("Contacts", "Clients"), "Customers", "clients", "Clients", "setting"),
        (("Sales", "Bookings", "Orders"), "Orders", "", "Orders", "exact name"),
        (("Sales", "Bookings"), "Orders", "Bookings", "Bookings", "setting"),
        (("Config", "Settings"), "Settings", "", "Settings", "exact name"),
    ],
)
def test_choose_tab_prefers_the_owners_choice_then_the_exact_name(
    names: tuple[str, ...], kind: str, chosen: str, expected: str, how: str
) -> None:
    choice = choose_tab(_book(*names).tables, kind, chosen)
    assert choice.problem == ""
    assert choice.table is not None and (choice.table.name, choice.how) == (expected, how)


def test_several_candidates_and_no_choice_are_refused_naming_them() -> None:
    book = _book("Contacts", "Clients")
    choice = choose_tab(book.tables, "Customers")
    assert choice.table is None and choice.candidates == ("Contacts", "Clients")
    assert "'Contacts', 'Clients'" in choice.problem and "customers_tab" in choice.fix
    with pytest.raises(AmbiguousTab) as err:
        book.find("Customers")
    assert err.value.exit_code == 2 and "will not guess" in err.value.message


def test_every_owner_tab_kind_is_checked() -> None:
    book = _book("Sales", "Invoices", "Activity", "Contact log", "Config", " config")
    for kind, setting in (("Orders", "orders_tab"), ("Interactions", "interactions_tab")):
        with pytest.raises(AmbiguousTab) as err:
            book.find(kind)
        assert setting in err.value.fix
    with pytest.raises(AmbiguousTab) as err:
        book.find("Settings")
    assert "SHEET_CRM_SETTINGS_TAB" in err.value.fix  # not the Settings tab itself


@pytest.mark.parametrize(
    ("chosen", "words"),
    [
        ("Suppliers", "has no such tab"),
        ("Notes", "only when its name says so (Customers, Clients, Contacts, Guests)"),
    ],
)
def test_a_choice_that_cannot_be_used_is_refused(chosen: str, words: str) -> None:
    book = _book("Contacts", "Customers", "Notes")
    with pytest.raises(AmbiguousTab) as err:
        book.find("Customers", chosen)
    assert words in err.value.message
    assert "'Contacts', 'Customers'" in err.value.fix


def test_names_in_messages_are_printable_and_short() -> None:
    hidden = "C" + "\u200b" * 80 + "ontacts\n"  # reads as Contacts: invisible characters are ignored
    choice = choose_tab(_book("Clients", hidden).tables, "Customers")
    assert choice.problem.startswith("Several tabs could be the Customers tab: 'Clients', 'C\ufffd")
    assert choice.problem.isprintable() and "\u200b" * 60 not in choice.problem and "..." in choice.problem


def test_a_choice_matching_several_tabs_but_for_capitals_is_refused() -> None:
    book = _book("Clients", "clients")
    assert book.find("Customers", "clients") is book.tables["clients"]  # exact spelling wins
    with pytest.raises(AmbiguousTab) as err:
        book.find("Customers", "CLIENTS")
    assert "differ only in capitals or spaces" in err.value.message


# ---------------------------------------------------------------- one cell, two reads


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (None, ""),
        (None, "   "),
        ("", " \t"),
        (3, 3.0),
        (120.0, 120),
        (0.1, 0.1),
        (date(2026, 11, 22), datetime(2026, 11, 22)),
        (datetime(2026, 11, 22, 9, 30), datetime(2026, 11, 22, 9, 30)),
        (True, True),
        ("Ann", "Ann"),
        (CellError("#N/A"), CellError("#N/A")),
        (NoCachedValue("A1+1"), NoCachedValue("A1+1")),
    ],
)
def test_same_cell_whatever_backend_read_it(a: object, b: object) -> None:
    assert same_cell(a, b) and same_cell(b, a)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("3", 3),
        ("TRUE", True),
        (True, 1),
        (False, 0),
        (False, None),
        (0, None),
        (3, 3.5),
        (date(2026, 11, 22), datetime(2026, 11, 22, 9, 30)),
        (date(2026, 11, 22), "2026-11-22"),
        ("Ann", "Ann "),
        ("Ann", "ann"),
        (CellError("#N/A"), "#N/A"),
        (CellError("#N/A"), CellError("#REF!")),
        (NoCachedValue("A1+1"), ""),
    ],
)
def test_different_cells(a: object, b: object) -> None:
    assert not same_cell(a, b) and not same_cell(b, a)  # type: ignore[arg-type]
