"""Typed records built from the owner tabs, parsed once. Never raises for bad data: a
cell that cannot be read becomes ``None`` (or the field's blank) plus a ``Problem``
kept beside the value, and the row remembers which fields cannot be used
(``invalid``), so each step can skip exactly the rows it cannot use. The validation
step turns the problems into findings; nothing reads a cell again to find out what
was wrong with it.

Normalised forms that follow from the cells and the settings alone are worked out
here, once: the email address as it is compared (``email_normalized``), and the phone
number in E.164 form and its type, read for the row's country (``phone_e164``,
``phone_type``).

The records are shared by every step of a run, and no step changes them: a step
that learns something about a record (validation's new Customer IDs, dedupe's
merges) returns it as ``RecordChanges``, and the pipeline makes the records the next
step reads with ``Records.changed`` (new objects only for the records that change).
The types are not frozen because a frozen slotted dataclass is built 2-2.5x slower
(measured: +1.1-1.5 s for a million orders); ``tests/test_pipeline_records.py``
runs every step and checks the records it was given are unchanged afterwards.

Only a missing Customers tab (or one with no way to tell customers apart) is a
failure.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import InitVar, dataclass, field
from datetime import date
from operator import attrgetter
from types import MappingProxyType
from typing import Any

import numpy as np

from .config import Settings
from .errors import TabNotFound
from .findings import FindingList, Location, Severity
from .normalize import (
    EARLIEST_DATE,
    MAX_MAGNITUDE,
    check_email,
    check_phone,
    country_code,
    has_broken_text,
    impossible_number,
    normalize_phone,
    parse_bool,
    parse_channel,
    parse_date,
    parse_money,
    parse_number,
    repair_text,
    split_list,
    text,
)
from .workbook import Cell, CellError, NoCachedValue, Row, Table, Workbook, header_key, is_blank


@dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with one cell, or worth a word, found when it was read.

    ``field`` is the record's field, ``kind`` a short slug (below), ``detail`` words or
    a value the parser gave, ``suggestion`` what the cell was read as or could be.
    Whether the value can be used is the record's ``invalid``, not the problem's.

    ============== =============================================================
    field          kinds
    ============== =============================================================
    any            ``formula`` (the cell shows an error or has no saved value;
                   reported when the tab is read)
    dates          ``unreadable`` (detail: the parser's words), ``year`` (a
                   whole number such as 2024), ``as-number`` (a date stored as
                   a number), ``ambiguous`` (03/04/2025: read with the date order)
    amount         ``unreadable``, ``impossible`` (NaN, infinity, > 10^12),
                   ``as-text`` (an amount typed as text, read as the value)
    quantity       ``unreadable``, ``impossible``
    satisfaction   ``unreadable``, ``out-of-range`` (off the 0-10 scale, or
                   impossible)
    opt-ins, Do    ``unreadable`` (not yes or no)
    not contact
    preferred_     ``unknown``
    channel
    email          ``several``, ``invalid`` (detail: why), ``typo``
                   (suggestion: the corrected address), ``role`` (info@...)
    phone          ``as-number`` (suggestion: the E.164 form, or None),
                   ``too-short``, ``too-long``, ``no-country``, ``invalid``
                   (detail: the country it was read for; suggestion: its E.164
                   form when it has one), ``fictional`` (a range kept for TV)
    country        ``unknown``
    postcode       ``lost-zero`` (suggestion: with its zeros), ``as-number``
                   (detail: the country, whose postcodes have letters)
    ============== =============================================================
    """

    field: str
    kind: str
    detail: str = ""
    suggestion: Any = None


NO_PROBLEMS: tuple[Problem, ...] = ()
NO_EXTRA: Mapping[str, Any] = MappingProxyType({})  # shared by the rows of a tab without owner columns


def problems_of(record: Any, fieldname: str) -> tuple[Problem, ...]:
    """The problems of one field of a record (most records have none at all)."""
    found = record.problems
    if not found:
        return NO_PROBLEMS
    return tuple(p for p in found if p.field == fieldname)


@dataclass(slots=True, eq=False)
class Customer:
    """A customer row. A slotted dataclass, like ``Order``: every value is already
    typed by the parsers in ``_rows``, and the steps read these fields hundreds of
    thousands of times a run (a pydantic model's fields read 15x slower, because its
    ``__getattr__`` hook turns off Python's fast attribute path). Two customers are
    equal only when they are the same row object. Steps never change one (see the
    module's docstring)."""

    row: int  # the sheet row it came from
    invalid: frozenset[str] = frozenset()  # fields whose cell cannot be used
    extra: Mapping[str, Any] = field(default_factory=dict)  # owner-added columns, by slug
    problems: tuple[Problem, ...] = ()  # what was wrong with its cells (``problems_of``)
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
    # Worked out from the cells when the tab is read:
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
    invalid: frozenset[str] = frozenset()
    extra: Mapping[str, Any] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
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
    invalid: frozenset[str] = frozenset()
    extra: Mapping[str, Any] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
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
class RecordChanges:
    """Field values a step asks the records to take, as data: for each list, the
    record's index in it -> {field: new value}. A step returns these instead of
    changing the records; ``Records.changed`` makes the records the next step reads.

    ``resolve`` says which orders and interactions are resolved again to their
    customer afterwards: ``""`` none, ``"unresolved"`` those that name no customer or
    one known by row number (new Customer IDs), ``"all"`` every one (merges)."""

    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    interactions: dict[int, dict[str, Any]] = field(default_factory=dict)
    resolve: str = ""

    def __bool__(self) -> bool:
        return bool(self.customers or self.orders or self.interactions or self.resolve)


@dataclass
class Records:
    """Everything the steps work on, plus where each record came from.

    Built once per run by ``build_records``, which resolves each order and
    interaction to the customer it counts for. Steps read them and never change
    them; ``changed`` gives new records with a step's changes."""

    customers: list[Customer]
    orders: list[Order] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    tables: dict[str, Table] = field(default_factory=dict)  # kind -> table read
    emails_as_typed: InitVar[bool] = False  # see ``reindex``
    _order_columns: OrderColumns | None = field(default=None, init=False, repr=False, compare=False)
    _by_id: dict[str, Customer] | None = field(default=None, init=False, repr=False, compare=False)
    _by_email: dict[str, Customer] | None = field(default=None, init=False, repr=False, compare=False)
    _typed_index: bool = field(default=False, init=False, repr=False, compare=False)
    # Reference as typed -> the key of the customer it resolves to, for every order and
    # interaction (each reference resolves alike wherever it is typed).
    _ref_keys: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)
    _ref_codes: tuple[_RefCodes, _RefCodes] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self, emails_as_typed: bool) -> None:
        self.reindex(emails_as_typed=emails_as_typed)

    def order_columns(self) -> OrderColumns:
        """The orders as columns, read once and kept while ``orders`` is the same list
        of the same length and nothing was resolved again since."""
        cols = self._order_columns
        if cols is None or cols.orders is not self.orders or len(cols.orders) != cols.day.size:
            cols = self._order_columns = OrderColumns.of(self.orders)
        return cols

    def reindex(self, *, emails_as_typed: bool = False) -> None:
        """Rebuild the ID/email indexes and resolve orders and interactions to the
        customer they count for (following ``merged_into``), in place: for the one who
        builds the records (``__init__`` calls it), never for a step.

        ``build_records`` resolves against the emails as typed; the validation step
        then resolves the orders that found no one again against the normalised ones
        (``RecordChanges.resolve``), so an order typed ``mailto:ann@example.com``
        finds the customer typed the same, and one typed ``ann@example.com`` finds
        her too."""
        self._order_columns = None
        self._index(emails_as_typed)
        resolved: dict[str, str] = {}  # many orders name the same customer
        for item in (*self.orders, *self.interactions):
            ref = item.customer_ref
            key = resolved.get(ref)
            if key is None:
                found = self.find(ref)
                key = resolved[ref] = found.key if found else ""
            item.customer_id = key
        self._ref_keys = resolved
        self._ref_codes = None

    def _index(self, emails_as_typed: bool = False) -> None:
        # Built from the last customer to the first, so the first of several rows with
        # one ID or email is the one found (dict comprehensions: a fifth of the time
        # of a loop of setdefault calls on 100k customers).
        customers = self.customers[::-1]
        self._by_id = {c.customer_id.casefold(): c for c in customers if c.customer_id}
        if emails_as_typed:
            by_email = {c.email.strip().casefold(): c for c in customers if c.email}
        else:
            by_email = {
                (c.email_normalized or c.email).strip().casefold(): c
                for c in customers
                if c.email_normalized or c.email
            }
        by_email.pop("", None)
        self._by_email = by_email
        self._typed_index = emails_as_typed

    def changed(self, changes: RecordChanges) -> Records:
        """New records with ``changes`` made: a new object (``dataclasses.replace``)
        only for each record that changes, the others shared; these records are left
        as they are. Orders and interactions are resolved again as ``changes.resolve``
        says, each one whose customer changes becoming a new object too."""
        if not changes:
            return self
        for items in (changes.orders, changes.interactions):
            if any("customer_ref" in f or "customer_id" in f for f in items.values()):
                raise ValueError("an order's customer is resolved by the records, not changed")
        new = Records.__new__(Records)
        new.customers = _replaced(self.customers, changes.customers)
        new.orders = _replaced(self.orders, changes.orders)
        new.interactions = _replaced(self.interactions, changes.interactions)
        new.tables = self.tables
        new._by_id = new._by_email = None  # built when first needed (``find``)
        new._typed_index = False
        if new.customers is self.customers and not self._typed_index:
            new._by_id, new._by_email = self._by_id, self._by_email
        new._ref_keys, new._ref_codes = self._ref_keys, self._ref_codes
        if changes.resolve:
            moved = new._moved_refs(everything=changes.resolve == "all")
            if moved:
                codes = self._codes()  # the same rows in the same places as these
                new._ref_codes = self._ref_codes
                new.orders = _moved(new.orders, new.orders is not self.orders, codes[0], moved)
                owned = new.interactions is not self.interactions
                new.interactions = _moved(new.interactions, owned, codes[1], moved)
        keep_columns = new.orders is self.orders and self._order_columns is not None
        new._order_columns = self._order_columns if keep_columns else None
        return new

    def _moved_refs(self, *, everything: bool) -> dict[str, str]:
        """The references (as typed in Orders and Interactions) whose customer is
        another one now: reference -> its customer's key. Every order and interaction
        with one reference resolves alike, so a million orders naming 100,000
        customers are resolved again with 100,000 look-ups, and looked at one by one
        only when some reference resolves differently."""
        old = self._ref_keys
        if everything:
            candidates: Iterable[str] = old
        else:
            candidates = [ref for ref, key in old.items() if not key or key.startswith("row:")]
        moved = {}
        for ref in candidates:
            key = self._key_of(ref)
            if key != old[ref]:
                moved[ref] = key
        if moved:
            self._ref_keys = {**old, **moved}
        return moved

    def _codes(self) -> tuple[_RefCodes, _RefCodes]:
        """Each order's and each interaction's reference as a number (read once per
        run, when a reference first resolves differently; shared by the records made
        from these, whose orders are the same rows in the same places)."""
        if self._ref_codes is None:
            self._ref_codes = (_RefCodes.of(self.orders), _RefCodes.of(self.interactions))
        return self._ref_codes

    def _key_of(self, ref: str) -> str:
        found = self.find(ref)
        return found.key if found else ""

    def find(self, ref: str) -> Customer | None:
        """The customer a reference (ID or email) counts for, after merges."""
        ref = ref.strip().casefold()
        if not ref:
            return None
        if self._by_id is None or self._by_email is None:
            self._index()
        by_id = self._by_id
        assert by_id is not None and self._by_email is not None
        c = by_id.get(ref) or self._by_email.get(ref)
        seen: set[str] = set()
        while c is not None and c.merged_into and c.merged_into.casefold() not in seen:
            seen.add(c.merged_into.casefold())
            c = by_id.get(c.merged_into.casefold(), c)
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


@dataclass
class _RefCodes:
    """The customer references of a list of orders (or interactions) as numbers."""

    codes: np.ndarray  # per item, index into ``number``'s keys
    number: dict[str, int]  # reference as typed -> its number

    @classmethod
    def of(cls, items: list[Any]) -> _RefCodes:
        refs = list(map(attrgetter("customer_ref"), items))
        number = {ref: i for i, ref in enumerate(dict.fromkeys(refs))}
        return cls(np.fromiter(map(number.__getitem__, refs), dtype=np.int64, count=len(refs)), number)


def _moved(items: list[Any], owned: bool, codes: _RefCodes, moved: Mapping[str, str]) -> list[Any]:
    """``items`` with each one whose reference is in ``moved`` replaced by a copy naming
    its customer now (``owned``: the list may be changed in place)."""
    wanted = [codes.number[ref] for ref in moved if ref in codes.number]
    if not wanted:
        return items
    mask = np.zeros(len(codes.number), dtype=bool)
    mask[wanted] = True
    out = items if owned else list(items)
    for i in np.flatnonzero(mask[codes.codes]).tolist():
        item = items[i]
        out[i] = dataclasses.replace(item, customer_id=moved[item.customer_ref])
    return out


def _replaced(items: list[Any], changes: Mapping[int, Mapping[str, Any]]) -> list[Any]:
    """``items`` with the records at the changed indexes replaced by changed copies
    (the same list when nothing changes)."""
    if not changes:
        return items
    out = list(items)
    for i, fields in changes.items():
        out[i] = dataclasses.replace(out[i], **fields)
    return out


# A parser reads one cell (never blank, never a formula error) into (value, problem
# in words), as the normalize module's parsers do. Most cells have nothing to say, so
# a field's ``Classify`` runs only when the parser found a problem or the cell's type
# calls for a note (a date stored as a number, an amount typed as text): it returns the
# value to keep and what was found, (kind, detail, suggestion, unusable), for a
# ``Problem`` of that field; ``unusable`` puts the field in the record's ``invalid``.
# Problems that are the same for many cells are module constants, so a million orders
# typed alike share one.
Found = tuple[str, str, Any, bool]
Parser = Callable[[Cell], tuple[Any, str]]
Classify = Callable[[Cell, Any, str], tuple[Any, "Found | None"]]

_UNREADABLE: Found = ("unreadable", "", None, True)
_IMPOSSIBLE: Found = ("impossible", "", None, True)
_OUT_OF_RANGE: Found = ("out-of-range", "", None, True)
_YEAR: Found = ("year", "", None, True)
_AS_NUMBER: Found = ("as-number", "", None, False)
_AMBIGUOUS: Found = ("ambiguous", "", None, False)
_AS_TEXT: Found = ("as-text", "", None, False)
_UNKNOWN: Found = ("unknown", "", None, True)
_FORMULA: Found = ("formula", "", None, True)

_NUMBERS = frozenset({int, float})
_ANY_TYPE = frozenset({int, float, str, bool, dt.date, dt.datetime})


def _is_number(value: Cell) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _date_found(value: Cell, d: Any, problem: str) -> tuple[Any, Found | None]:
    if _is_number(value):
        if 1900 <= value <= 2200 and float(value).is_integer():  # type: ignore[operator]
            return None, _YEAR  # 2024 typed in a date column: a year, not day 2024 of 1900
        if d is not None:
            return d, _AS_NUMBER
    if d is None:
        return (None, None) if is_blank(value) else (None, ("unreadable", problem, None, True))
    return d, (_AMBIGUOUS if problem and isinstance(value, str) else None)  # 03/04/2025


def _bool_found(value: Cell, b: Any, problem: str) -> tuple[Any, Found | None]:
    return None, _UNREADABLE


def _do_not_contact_found(value: Cell, b: Any, problem: str) -> tuple[Any, Found | None]:
    return True, _UNREADABLE  # unreadable: safest is "do not contact"


def _amount_found(value: Cell, a: Any, problem: str) -> tuple[Any, Found | None]:
    if a is None:
        if is_blank(value):
            return None, None
        return None, (_IMPOSSIBLE if impossible_number(value) else _UNREADABLE)
    return a, _AS_TEXT


def _quantity_found(value: Cell, q: Any, problem: str) -> tuple[Any, Found | None]:
    return None, (_IMPOSSIBLE if impossible_number(value) else _UNREADABLE)


def _satisfaction_found(value: Cell, score: Any, problem: str) -> tuple[Any, Found | None]:
    if score is None:
        if is_blank(value):
            return None, None
        return None, (_OUT_OF_RANGE if impossible_number(value) else _UNREADABLE)
    if not 0 <= score <= 10:
        return None, _OUT_OF_RANGE  # neither the 1-5 nor the 0-10 scale
    return score, None


def _channel_found(value: Cell, name: Any, problem: str) -> tuple[Any, Found | None]:
    return name, _UNKNOWN


# Per field: (parser, classify, cell types that call for classify without a problem).
ParsePlan = tuple[Parser, "Classify | None", frozenset[type]]


def _parsers(day_first: bool) -> dict[str, ParsePlan]:
    def as_date(value: Cell) -> tuple[Any, str]:
        if type(value) is dt.datetime:  # the common case, as parse_date reads it
            d = value.date()
            if d >= EARLIEST_DATE:
                return d, ""
        return parse_date(value, day_first=day_first)

    def as_list(value: Cell) -> tuple[Any, str]:
        return split_list(value), ""

    def as_flag(value: Cell) -> tuple[Any, str]:
        b, problem = parse_bool(value)
        return bool(b), problem

    dates: ParsePlan = (as_date, _date_found, _NUMBERS)
    opt_in: ParsePlan = (parse_bool, _bool_found, frozenset())
    return {
        "email_opt_in": opt_in,
        "sms_opt_in": opt_in,
        "do_not_contact": (as_flag, _do_not_contact_found, frozenset()),
        "birthday": dates,
        "customer_since": dates,
        "date": dates,
        "follow_up": dates,
        "amount": (_as_amount, _amount_found, frozenset({str})),
        "quantity": (parse_number, _quantity_found, frozenset()),
        "satisfaction": (parse_number, _satisfaction_found, _ANY_TYPE),
        "tags": (as_list, None, frozenset()),
        "preferences": (as_list, None, frozenset()),
        "preferred_channel": (parse_channel, _channel_found, frozenset()),
    }


def _plain_text(value: Cell) -> tuple[Any, str]:
    if type(value) is int and value.bit_length() <= 13_000:
        return str(value), ""  # an order number: what ``text`` gives, without its checks
    return text(value), ""


def _as_amount(value: Cell) -> tuple[Any, str]:
    if type(value) is float and abs(value) <= MAX_MAGNITUDE:
        return value, ""  # the common case, as parse_money reads it
    return parse_money(value)


_TEXT: ParsePlan = (_plain_text, None, frozenset())


def field_names(model: type) -> list[str]:
    """The fields of a record type, in declaration order."""
    return [f.name for f in dataclasses.fields(model)]


# The fields of a customer that hold what the owner typed and the forms worked out
# from it (not ``problems``, which says what was wrong with the cells).
CUSTOMER_FIELD_NAMES: tuple[str, ...] = tuple(f for f in field_names(Customer) if f != "problems")

# Postcodes that are all digits, by country (a shorter number lost its leading zeros),
# and countries whose postcodes have letters (a number cannot be one).
POSTCODE_DIGITS = {
    "US": 5,
    "DE": 5,
    "FR": 5,
    "IT": 5,
    "ES": 5,
    "MX": 5,
    "FI": 5,
    "AU": 4,
    "NZ": 4,
    "BE": 4,
    "DK": 4,
    "NO": 4,
    "CH": 4,
    "AT": 4,
}
POSTCODE_LETTERS = frozenset({"GB", "CA", "NL", "IE", "AR", "MT"})


def default_region(settings: Settings) -> str:
    """The country phone numbers without a country code are read for: the
    ``default_country`` setting as a code phonenumbers knows (UK is GB), or ``""``."""
    import phonenumbers

    region = settings.default_country.strip().upper()
    region = "GB" if region == "UK" else region
    return region if region in phonenumbers.SUPPORTED_REGIONS else ""


# What a finishing pass adds to a row: its problems and the fields it makes unusable.
Finish = Callable[[dict[str, Any], list[Cell]], tuple[list[Problem], list[str]] | None]


def _contact_forms(table: Table, settings: Settings) -> Finish:
    """The customers' email, country, phone and postcode, read from the cells together
    (a phone number is read for the row's country): ``email_normalized``,
    ``phone_e164``, ``phone_type`` and their problems."""
    region0 = default_region(settings)
    i_country, i_phone, i_postcode = table.index("country"), table.index("phone"), table.index("postcode")

    def cell(values: list[Cell], i: int | None) -> Cell:
        return values[i] if i is not None and i < len(values) else None

    def usable(value: Cell) -> bool:
        return not is_blank(value) and not isinstance(value, CellError | NoCachedValue)

    def finish(data: dict[str, Any], values: list[Cell]) -> tuple[list[Problem], list[str]] | None:
        found: list[Problem] = []
        unusable: list[str] = []
        email = data.get("email")
        if email:
            check = check_email(email)
            if check.problem:
                found.append(Problem("email", check.problem, check.reason))
                unusable.append("email")
            else:
                data["email_normalized"] = check.normalized
                if check.typo_fix:
                    found.append(Problem("email", "typo", suggestion=check.typo_fix))
                if check.role:
                    found.append(Problem("email", "role"))
        region = region0
        raw = cell(values, i_country)
        if usable(raw):
            code = country_code(raw)
            if code:
                region = code
            else:
                found.append(Problem("country", "unknown"))
        raw = cell(values, i_phone)
        if usable(raw) and not isinstance(raw, bool):
            if _is_number(raw):
                e164 = normalize_phone(raw, region)
                check_p = check_phone(e164, region) if e164 else check_phone(text(raw), region)
                found.append(Problem("phone", "as-number", suggestion=e164 or None))
            else:
                check_p = check_phone(text(raw), region)
            if check_p.problem:
                found.append(Problem("phone", check_p.problem, region or "any country", check_p.e164))
                unusable.append("phone")
            else:
                data["phone_e164"], data["phone_type"] = check_p.e164, check_p.kind
                if check_p.fictional:
                    found.append(Problem("phone", "fictional"))
        raw = cell(values, i_postcode)
        if _is_number(raw):
            digits = text(raw)
            want = POSTCODE_DIGITS.get(region)
            if want and digits.isdigit() and len(digits) < want:
                found.append(Problem("postcode", "lost-zero", suggestion=digits.zfill(want)))
            elif region in POSTCODE_LETTERS:
                found.append(Problem("postcode", "as-number", region))
        return (found, unusable) if found else None

    return finish


def _rows(
    table: Table, model: type, settings: Settings, findings: FindingList, finish: Finish | None = None
) -> list[Any]:
    """Every row of ``table`` as a ``model`` record, with each cell's problems beside
    its value; unreadable cells also go into ``invalid`` (and formula errors become
    findings here). The per-column work (which parser, which attribute) is decided once
    per tab, not once per cell; records without problems or owner columns share one
    empty value for each (a million orders would otherwise carry a million empty sets)."""
    known = set(field_names(model))
    parsers = _parsers(settings.day_first)
    # (field, index, target, parser | None for an owner column, classify, types to classify)
    plan: list[tuple[str, int, str, Parser | None, Classify | None, frozenset[type]]] = []
    for fieldname, i in table.fields.items():
        target = "customer_ref" if fieldname == "customer" else fieldname
        if target in known:
            parser, classify, notes = parsers.get(target, _TEXT)
            plan.append((fieldname, i, target, parser, classify, notes))
        else:
            plan.append((fieldname, i, target, None, None, frozenset()))
    has_extra = any(parser is None for _f, _i, _t, parser, _c, _n in plan)
    made: dict[tuple[str, Found], tuple[Problem, ...]] = {}  # one Problem per distinct problem
    frozen: dict[frozenset[str], frozenset[str]] = {}  # one set per distinct set of fields
    out = []
    for row in table.rows:
        values = row.values
        width = len(values)
        data: dict[str, Any] = {"row": row.number}
        invalid: set[str] | None = None
        problems: tuple[Problem, ...] = NO_PROBLEMS
        extra: dict[str, Any] | None = {} if has_extra else None
        for fieldname, i, target, parser, classify, notes in plan:
            value = values[i] if i < width else None
            if parser is None:
                if type(value) is str and has_broken_text(value):
                    value = _repaired(findings, table, row, i, value)
                extra[fieldname] = value  # type: ignore[index]
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
                found: Found | None = _FORMULA
                if target == "do_not_contact":
                    data[target] = True
            else:
                parsed, problem = parser(value)
                if classify is not None and (problem or kind in notes):
                    parsed, found = classify(value, parsed, problem)
                else:
                    found = None
                data[target] = parsed
            if found is not None:
                one = made.get((target, found))
                if one is None:
                    one = made[(target, found)] = (Problem(target, found[0], found[1], found[2]),)
                problems += one
                if found[3]:
                    if invalid is None:
                        invalid = {target}
                    else:
                        invalid.add(target)
        if finish is not None:
            more = finish(data, values)
            if more is not None:
                problems += tuple(more[0])
                if more[1]:
                    invalid = {*(invalid or ()), *more[1]}
        if invalid:
            fields = frozenset(invalid)
            data["invalid"] = frozen.setdefault(fields, fields)
        if problems:
            data["problems"] = problems
        data["extra"] = extra if extra is not None else NO_EXTRA
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
    contacts = _contact_forms(customers_table, settings)
    customers = _rows(customers_table, Customer, settings, findings, contacts)
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
    return Records(customers, orders, interactions, tables, emails_as_typed=True)


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
