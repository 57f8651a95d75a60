"""Typed records built from the owner tabs. Never raises for bad data: a cell that
cannot be read becomes ``None`` plus a finding, and the row remembers which fields
were bad (``invalid``), so each step can skip exactly the rows it cannot use.

Only a missing Customers tab (or one with no way to tell customers apart) is a
failure.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import Any

import numpy as np

from .config import Settings
from .errors import TabNotFound
from .findings import FindingList, Location, Severity
from .normalize import (
    has_broken_text,
    parse_bool,
    parse_channel,
    parse_date,
    parse_money,
    parse_number,
    repair_text,
    split_list,
    text,
)
from .workbook import Cell, CellError, NoCachedValue, Row, Table, Workbook, header_key


@dataclass(slots=True, eq=False)
class Customer:
    """A customer row. A slotted dataclass, like ``Order``: every value is already
    typed by the parsers in ``_rows``, and the steps read these fields hundreds of
    thousands of times a run (a pydantic model's fields read 15x slower, because its
    ``__getattr__`` hook turns off Python's fast attribute path). Two customers are
    equal only when they are the same row object."""

    row: int  # the sheet row it came from
    invalid: set[str] = field(default_factory=set)  # fields whose cell could not be used
    extra: dict[str, Any] = field(default_factory=dict)  # owner-added columns, by slug
    customer_id: str = ""
    first_name: str = ""
    last_name: str = ""
    name: str = ""  # a single "Name" column, when the sheet has one
    company: str = ""
    job_title: str = ""
    role: str = ""
    email: str = ""
    phone: str = ""
    preferred_channel: str = ""  # email | sms | phone | letter | ""
    best_time: str = ""
    address: str = ""
    city: str = ""
    postcode: str = ""
    country: str = ""
    birthday: date | None = None
    customer_since: date | None = None
    referred_by: str = ""
    email_opt_in: bool | None = None
    sms_opt_in: bool | None = None
    do_not_contact: bool = False
    tags: list[str] = field(default_factory=list)
    preferences: list[str] = field(default_factory=list)
    notes: str = ""
    merged_into: str = ""
    # Filled by the validation step:
    email_normalized: str = ""  # lower-cased, trimmed; "" when invalid
    phone_e164: str = ""  # "+447700900123"; "" when not a valid number
    phone_type: str = ""  # mobile | landline | "" (unknown)

    @property
    def key(self) -> str:
        """The customer's ID, or ``row:N`` for a row that has none yet."""
        return self.customer_id or f"row:{self.row}"

    @property
    def full_name(self) -> str:
        first, last = self.first_name, self.last_name
        if first and last:
            return f"{first} {last}"
        return first or last or self.name

    @property
    def given_name(self) -> str:
        """The name to greet with, as the customer writes it."""
        if self.first_name:
            return self.first_name
        return self.name.split()[0] if self.name.split() else ""

    @property
    def display_name(self) -> str:
        return self.full_name or self.company or self.email or self.key


@dataclass(slots=True)
class Order:
    """An order row. A plain slotted dataclass, not pydantic: a busy shop has a
    million of these, every value is already typed by the parsers, and validating
    again would cost seconds."""

    row: int
    invalid: set[str] = field(default_factory=set)
    extra: dict[str, Any] = field(default_factory=dict)
    order_id: str = ""
    customer_ref: str = ""  # as typed: an ID or an email
    customer_id: str = ""  # resolved, following merges; "" when no customer matches
    date: dt.date | None = None
    amount: float | None = None
    product: str = ""
    quantity: float | None = None


@dataclass(slots=True)
class Interaction:
    """An interaction row (a slotted dataclass, like ``Order``)."""

    row: int
    invalid: set[str] = field(default_factory=set)
    extra: dict[str, Any] = field(default_factory=dict)
    date: dt.date | None = None
    customer_ref: str = ""
    customer_id: str = ""
    channel: str = ""
    direction: str = ""
    summary: str = ""
    outcome: str = ""
    satisfaction: float | None = None
    follow_up: dt.date | None = None


def distinct_codes(values: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """Each value's number in the list of distinct values (first seen first), and
    that list: ``['b', 'a', 'b']`` -> ``([0, 1, 0], ['b', 'a'])``. ``dict.fromkeys``
    and ``map`` run in C, so a million values take a few hundredths of a second."""
    distinct = list(dict.fromkeys(values))
    number = {v: i for i, v in enumerate(distinct)}
    return np.fromiter(map(number.__getitem__, values), dtype=np.int64, count=len(values)), distinct


def day_numbers(dates: list[date | None]) -> np.ndarray:
    """``date.toordinal()`` of each date, -1 for a missing one. The all-present case
    runs ``date.toordinal`` through ``map`` (C speed); numpy's ``datetime64``
    conversion of date objects is 30x slower."""
    try:
        return np.fromiter(map(date.toordinal, dates), dtype=np.int64, count=len(dates))  # type: ignore[arg-type]
    except TypeError:  # a None among them: number each distinct date once
        number = {d: -1 if d is None else d.toordinal() for d in set(dates)}
        return np.fromiter(map(number.__getitem__, dates), dtype=np.int64, count=len(dates))


@dataclass
class OrderColumns:
    """The orders column by column (entry ``i`` is ``orders[i]``), for the steps that
    look at every order at once: tiers, the segment rules' ``bought()`` and the
    Dashboard read the million orders of a busy shop once between them, not once each.

    Built by ``Records.order_columns()``, which keeps it until the orders are
    resolved again (``Records.reindex``)."""

    orders: list[Order]  # the list these columns were read from
    customer_code: np.ndarray  # index into customer_keys
    customer_keys: list[str]  # distinct resolved customers (``Order.customer_id``; "" = nobody)
    day: np.ndarray  # date.toordinal(), -1 for no date
    amount: np.ndarray  # float, nan for no amount
    date_invalid: np.ndarray  # bool: the Date cell could not be read
    amount_invalid: np.ndarray  # bool: the Amount cell could not be read
    product_code: np.ndarray  # index into product_names
    product_names: list[str]  # distinct products as typed ("" = none), first seen first

    @classmethod
    def of(cls, orders: list[Order]) -> OrderColumns:
        n = len(orders)
        customer_code, customer_keys = distinct_codes(list(map(attrgetter("customer_id"), orders)))
        product_code, product_names = distinct_codes(list(map(attrgetter("product"), orders)))
        amounts = list(map(attrgetter("amount"), orders))
        invalids = list(map(attrgetter("invalid"), orders))
        date_invalid = np.zeros(n, dtype=bool)
        amount_invalid = np.zeros(n, dtype=bool)
        for i in np.flatnonzero(np.fromiter(map(bool, invalids), dtype=bool, count=n)).tolist():
            date_invalid[i] = "date" in invalids[i]
            amount_invalid[i] = "amount" in invalids[i]
        return cls(
            orders=orders,
            customer_code=customer_code,
            customer_keys=customer_keys,
            day=day_numbers(list(map(attrgetter("date"), orders))),
            amount=np.array(amounts, dtype=np.float64) if n else np.zeros(0),  # None -> nan
            date_invalid=date_invalid,
            amount_invalid=amount_invalid,
            product_code=product_code,
            product_names=product_names,
        )


@dataclass
class Records:
    """Everything the steps work on, plus where each record came from."""

    customers: list[Customer]
    orders: list[Order] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    tables: dict[str, Table] = field(default_factory=dict)  # kind -> table read
    _order_columns: OrderColumns | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.reindex()

    def order_columns(self) -> OrderColumns:
        """The orders as columns, read once and kept while ``orders`` is the same list
        of the same length and nothing was resolved again since."""
        cols = self._order_columns
        if cols is None or cols.orders is not self.orders or len(cols.orders) != cols.day.size:
            cols = self._order_columns = OrderColumns.of(self.orders)
        return cols

    def reindex(self) -> None:
        """Rebuild the ID/email indexes and resolve orders and interactions to the
        customer they count for (following ``merged_into``)."""
        self._order_columns = None
        self.by_id: dict[str, Customer] = {}
        self.by_email: dict[str, Customer] = {}
        for c in self.customers:
            if c.customer_id:
                self.by_id.setdefault(c.customer_id.casefold(), c)
            email = (c.email_normalized or c.email).strip().casefold()
            if email:
                self.by_email.setdefault(email, c)
        resolved: dict[str, str] = {}  # many orders name the same customer
        for item in (*self.orders, *self.interactions):
            ref = item.customer_ref
            key = resolved.get(ref)
            if key is None:
                found = self.find(ref)
                key = resolved[ref] = found.key if found else ""
            item.customer_id = key

    def find(self, ref: str) -> Customer | None:
        """The customer a reference (ID or email) counts for, after merges."""
        ref = ref.strip().casefold()
        if not ref:
            return None
        c = self.by_id.get(ref) or self.by_email.get(ref)
        seen: set[str] = set()
        while c is not None and c.merged_into and c.merged_into.casefold() not in seen:
            seen.add(c.merged_into.casefold())
            c = self.by_id.get(c.merged_into.casefold(), c)
            if not c.merged_into or c.merged_into.casefold() in seen:
                break
        return c

    def active_customers(self) -> list[Customer]:
        """Customers not merged into another one."""
        return [c for c in self.customers if not c.merged_into]

    def orders_by_customer(self) -> dict[str, list[Order]]:
        out: dict[str, list[Order]] = {}
        for o in self.orders:
            if o.customer_id:
                out.setdefault(o.customer_id, []).append(o)
        return out


# Which parser reads which field. A parser returns (value, problem); a problem in a
# STRICT field marks it invalid (the detailed wording is the validation step's).
Parser = Callable[[Cell], tuple[Any, str]]
_STRICT = {
    "email_opt_in",
    "sms_opt_in",
    "do_not_contact",
    "birthday",
    "customer_since",
    "date",
    "follow_up",
    "amount",
    "quantity",
    "satisfaction",
}


def _parsers(day_first: bool) -> dict[str, Parser]:
    def as_date(value: Cell) -> tuple[Any, str]:
        d, problem = parse_date(value, day_first=day_first)
        return d, problem if d is None else ""  # an ambiguous date is still a date

    def do_not_contact(value: Cell) -> tuple[Any, str]:
        b, problem = parse_bool(value)
        return (True if problem else bool(b)), problem  # unreadable: safest is "do not contact"

    def as_list(value: Cell) -> tuple[Any, str]:
        return split_list(value), ""

    return {
        "email_opt_in": parse_bool,
        "sms_opt_in": parse_bool,
        "do_not_contact": do_not_contact,
        "birthday": as_date,
        "customer_since": as_date,
        "date": as_date,
        "follow_up": as_date,
        "amount": parse_money,
        "quantity": parse_number,
        "satisfaction": parse_number,
        "tags": as_list,
        "preferences": as_list,
        "preferred_channel": parse_channel,
    }


def _plain_text(value: Cell) -> tuple[Any, str]:
    return text(value), ""


def field_names(model: type) -> list[str]:
    """The fields of a record type, in declaration order."""
    return [f.name for f in dataclasses.fields(model)]


CUSTOMER_FIELD_NAMES: tuple[str, ...] = tuple(field_names(Customer))


def _rows(table: Table, model: type, settings: Settings, findings: FindingList) -> list[Any]:
    """Every row of ``table`` as a ``model`` record; unreadable cells become findings
    and go into ``invalid``. The per-column work (which parser, which attribute) is
    decided once per tab, not once per cell."""
    known = set(field_names(model))
    parsers = _parsers(settings.day_first)
    plan: list[tuple[str, int, str, Parser | None]] = []  # (field, index, target, parser|None=extra)
    for fieldname, i in table.fields.items():
        target = "customer_ref" if fieldname == "customer" else fieldname
        parser = parsers.get(target, _plain_text) if target in known else None
        plan.append((fieldname, i, target, parser))
    out = []
    for row in table.rows:
        values = row.values
        width = len(values)
        data: dict[str, Any] = {"row": row.number}
        invalid: set[str] = set()
        extra: dict[str, Any] = {}
        for fieldname, i, target, parser in plan:
            value = values[i] if i < width else None
            if parser is None:
                if type(value) is str and has_broken_text(value):
                    value = _repaired(findings, table, row, i, value)
                extra[fieldname] = value
                continue
            if value is None:
                continue  # blank: the record's default is what a blank cell means
            kind = type(value)
            if kind is str:
                if not value.isascii() and has_broken_text(value):
                    value = _repaired(findings, table, row, i, value)
                if parser is _plain_text:
                    data[target] = " ".join(value.split())  # the common case, inlined
                    continue
            if kind is CellError or kind is NoCachedValue:
                _formula_finding(findings, table, row, fieldname, value)
                invalid.add(target)
                if target == "do_not_contact":
                    data[target] = True
                continue
            parsed, problem = parser(value)
            if problem and target in _STRICT:
                invalid.add(target)
            data[target] = parsed
        data["invalid"] = invalid
        data["extra"] = extra
        out.append(model(**data))
    return out


def _repaired(findings: FindingList, table: Table, row: Row, index: int, value: str) -> str:
    """A cell holding half of a UTF-16 pair (``_xD800_`` in the file): the character
    cannot be shown, hashed as text, printed or sent, so it becomes U+FFFD, in the record
    and in the row as read (so every step, finding and output sees the same text), and
    the owner is told. A later write compares the cell with what was read, so the cell
    itself is never overwritten on the strength of the repaired text."""
    fixed = repair_text(value)
    row.values[index] = fixed
    header = table.headers[index] if index < len(table.headers) else ""
    findings.add(
        "broken-character",
        Severity.WARNING,
        Location(table.name, row.number, table.column_number(index), header),
        "The cell holds a broken character (half of a pair that makes one character, saved in "
        "the file as something like _xD800_); no program can show it, so it is read as \ufffd.",
        "Retype the text in this cell.",
        value=fixed,
    )
    return fixed


def repair_table(table: Table, findings: FindingList) -> None:
    """``_repaired`` over every cell of a small owner tab read as it is (Settings,
    Segments, Templates), whose text goes into rules, drafts and settings."""
    for row in table.rows:
        for i, value in enumerate(row.values):
            if type(value) is str and has_broken_text(value):
                _repaired(findings, table, row, i, value)


def _formula_finding(findings: FindingList, table: Table, row: Row, fieldname: str, value: Cell) -> None:
    error = isinstance(value, CellError)
    findings.add(
        "formula-error" if error else "formula-no-value",
        Severity.ERROR,
        table.location(row, fieldname),
        f"The cell shows {value} instead of a value."
        if error
        else "The formula in this cell has no saved result, so its value is unknown.",
        "Fix the formula, or type the value."
        if error
        else "Open and save the workbook in Excel or LibreOffice so the value is computed.",
        value=str(value),
    )


def build_records(workbook: Workbook, settings: Settings, findings: FindingList | None = None) -> Records:
    """The owner tabs as typed records.

    ::

        Customers               Orders
        | Customer ID | Email  | Order ID | Customer     | Date       | Amount |
        | C-00001     | a@x.io | 1001     | a@x.io       | 2025-03-01 | 40     |

    gives one ``Customer`` and one ``Order`` whose ``customer_id`` is ``C-00001``
    (orders may name the customer by ID or by email).
    """
    findings = findings if findings is not None else FindingList()
    customers_table = workbook.find("Customers", settings.tab_choice("Customers"))
    if customers_table is None:
        raise TabNotFound(
            "The workbook has no Customers tab.",
            "Add a tab called Customers with one row per customer (headers such as "
            "Customer ID, First name, Last name, Email, Phone), or run `sheet-crm init` "
            "to start from a template.",
            where=workbook.source,
        )
    customers = _rows(customers_table, Customer, settings, findings)
    tables = {"Customers": customers_table}
    orders: list[Order] = []
    table = workbook.find("Orders", settings.tab_choice("Orders"))
    if table is not None:
        tables["Orders"] = table
        orders = _rows(table, Order, settings, findings)
    interactions: list[Interaction] = []
    table = workbook.find("Interactions", settings.tab_choice("Interactions"))
    if table is not None:
        tables["Interactions"] = table
        interactions = _rows(table, Interaction, settings, findings)
    for kind in ("Segments", "Templates", "Settings"):
        t = workbook.find(kind, settings.tab_choice(kind))
        if t is not None:
            repair_table(t, findings)
            tables[kind] = t
    return Records(customers, orders, interactions, tables)


def owner_columns(table: Table) -> list[str]:
    """The field names of a table (canonical or slug), in column order."""
    return [name for name, _ in sorted(table.fields.items(), key=lambda kv: kv[1])]


def field_header(table: Table, fieldname: str) -> str:
    i = table.fields.get(fieldname)
    return table.headers[i] if i is not None else fieldname


def find_field(table: Table, header: str) -> str | None:
    """The field name of a header typed by someone (``'E-mail'`` -> ``'email'``)."""
    key = header_key(header)
    for name, i in table.fields.items():
        if header_key(table.headers[i]) == key or header_key(name) == key:
            return name
    return None
