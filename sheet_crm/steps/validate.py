"""Validation: check every row of the owner tabs, normalise what can be, and give
every customer a stable ID.

The step reads what ``model.build_records`` made of the tabs (and the cells as typed,
for the "value" of each finding), adds findings to ``ctx.findings`` (the pipeline
turns them into the Issues tab), fills ``email_normalized``, ``phone_e164`` and
``phone_type`` on each customer, and returns the only owner-tab writes of this step:
new Customer IDs in blank cells.

Every message is a template in ``MESSAGES`` (code -> severity, problem, fix); the
codes are stable and tests and scripts rely on them.

Which rows later steps skip
---------------------------
A finding never stops the run. A record whose cell is unusable has that field in its
``invalid`` set, and later steps skip exactly what they cannot use (and say so):

* an order with no valid date (blank, unreadable or in the future), no valid amount,
  or no known customer is left out of tiers, segments and the Dashboard
  (``usable_order``);
* a customer whose email is invalid (or whose domain does not exist, with
  ``--check-domains``) gets no email drafts (``can_email``); a bad phone number means
  no SMS or call drafts, and a landline gets no SMS (``can_sms``); a future or
  unreadable birthday gets no birthday draft; a number in a range reserved for fiction
  (Ofcom's drama numbers such as 07700 900123, or 555-0100 to 555-0199 in North America)
  is usable, with a note, so a demo workbook still gets SMS and call drafts;
* an unreadable Do not contact cell is read as "do not contact" (we cannot tell the
  customer agreed), and an unreadable opt-in as no consent;
* an interaction with an unreadable date or unknown customer does not count as a
  contact; a satisfaction score off the 0-10 scale is ignored;
* customers in a referral loop or with a duplicate Customer ID have ``referred_by``
  / ``customer_id`` marked invalid, so referral counts and merges leave them alone.

Customer IDs: the guarantee
---------------------------
A new ID is always higher than every ID that (a) is in the Customer ID column,
(b) is named by an order, an interaction, a Referred by or a Merged into cell, or
(c) appears anywhere in a tab sheet-crm owns (Issues, Tiers, Duplicates, Merge Log,
Runs ...). The Issues tab always carries one "customer-id-counter" line holding the
highest ID given out, and the Merge Log keeps the IDs of merged customers for good,
so a deleted customer's ID is not issued again unless the owner deletes the row
*and* clears every tool tab that mentioned it. New IDs follow the sheet's own
pattern (prefix and zero-padding of the most common existing ID, e.g. ``CUST-0042``);
an empty sheet starts at ``C-00001``. Only blank cells are filled, and each edit
carries the blank as read, so the backend leaves alone a cell typed in meanwhile.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from ..config import _KEYS as SETTING_KEYS
from ..errors import ColumnNotFound
from ..findings import Location, Severity
from ..gcpause import paused_gc
from ..model import Customer, Interaction, Order, Records
from ..normalize import (
    case_problem,
    check_email,
    check_phone,
    country_code,
    impossible_number,
    normalize_phone,
    parse_bool,
    parse_date,
    proper_name,
    text,
)
from ..workbook import TOOL_TABS, Cell, CellEdit, CellError, NoCachedValue, Row, Table, header_key, is_blank
from . import Context, StepOutput

E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO  # N: a note

# code -> (severity, problem template, fix template). Templates are filled with
# str.format; {value} is the cell as typed.
MESSAGES: dict[str, tuple[Severity, str, str]] = {
    # emails
    "email-invalid": (E, "'{value}' is not a valid email address: {reason}", "Correct the address."),
    "email-several": (
        E,
        "The cell holds more than one email address.",
        "Keep one address here and put the other in a column of its own.",
    ),
    "email-typo": (
        W,
        "'{value}' looks like a misspelling of {domain}.",
        "Change it to {suggestion} if that is what the customer meant.",
    ),
    "email-role": (
        W,
        "'{value}' is a shared address ({local}@), not a person's.",
        "Use the person's own address if you have it; drafts to shared inboxes are often ignored.",
    ),
    "email-duplicate": (
        W,
        "The same email is on row {other_row} ({other}).",
        "If this is the same customer, run `sheet-crm dedupe`; if not, correct one of the addresses.",
    ),
    "email-domain-unknown": (
        E,
        "The domain of '{value}' does not receive email: {reason}",
        "Check the part after the @ with the customer.",
    ),
    # phones
    "phone-invalid": (
        E,
        "'{value}' is not a valid phone number for {country}.",
        "Check the number; type it with + and the country code if it is from abroad.",
    ),
    "phone-too-short": (E, "'{value}' is too short to be a phone number.", "Type the full number."),
    "phone-too-long": (E, "'{value}' is too long to be a phone number.", "Check for extra digits."),
    "phone-no-country": (
        E,
        "'{value}' has no country code, and the customer's country is not known.",
        "Type the number with + and the country code, or fill in Country.",
    ),
    "phone-as-number": (
        W,
        "The phone number is stored as a number, so its leading zero or + is lost.",
        "Format the Phone column as text and type {suggestion}.",
    ),
    "phone-fictional": (
        N,
        "This number is in a range reserved for TV, film and examples, so it cannot be a real "
        "customer's number.",
        "Fine in a demo; replace it with the customer's real number.",
    ),
    "sms-landline": (
        W,
        "{why}, but {value} is a landline, which cannot receive text messages.",
        "Add the customer's mobile number, or choose another channel.",
    ),
    "country-unknown": (
        W,
        "'{value}' is not a country sheet-crm knows; phone numbers on this row are read as {country}.",
        "Type the country's name in English or its two-letter code (GB, US, DE ...).",
    ),
    # names
    "name-missing": (
        W,
        "This customer has no name and no company.",
        "Type the first and last name (or the company).",
    ),
    "name-case": (W, "'{value}' is typed in {case}.", "Change it to '{suggestion}'."),
    "name-odd-characters": (
        W,
        "'{value}' does not look like a name (it has digits or an @).",
        "Check the name; an email belongs in the Email column.",
    ),
    "name-maybe-swapped": (
        W,
        "The first name '{first}' looks like a family name and the last name '{last}' like a "
        "given name; they may be swapped.",
        "If so, swap them (first name {last}, last name {first}); otherwise ignore this.",
    ),
    # dates
    "date-invalid": (E, "{problem}.", "Type the date as YYYY-MM-DD, or format the cell as a date."),
    "date-ambiguous": (
        W,
        "'{value}' could be {first} or {second}; it was read as {suggestion}.",
        "Type it as YYYY-MM-DD to be sure, or set 'date order' in Settings.",
    ),
    "date-as-number": (
        N,
        "The date is stored as the number {value}, read as {suggestion}.",
        "Format the column as a date so it shows as one.",
    ),
    "birthday-future": (E, "The birthday {suggestion} is in the future.", "Correct the year."),
    "birthday-implausible": (
        W,
        "The birthday {suggestion} would make the customer over 120.",
        "Correct the year.",
    ),
    "customer-since-future": (W, "'Customer since' ({suggestion}) is in the future.", "Correct the date."),
    "order-future": (
        W,
        "The order is dated {suggestion}, in the future; it is left out of tiers until it is corrected.",
        "Correct the date (often the year).",
    ),
    "order-date-missing": (
        E,
        "The order has no date; it is left out of tiers.",
        "Type the date of the order.",
    ),
    "interaction-future": (
        W,
        "The interaction is dated {suggestion}, in the future.",
        "Correct the date; plan future contacts in Follow up.",
    ),
    "interaction-date-missing": (
        W,
        "The interaction has no date, so it does not count as a contact.",
        "Type the date.",
    ),
    # money and numbers
    "amount-missing": (E, "The order has no amount; it is left out of tiers.", "Type the amount."),
    "amount-invalid": (
        E,
        "'{value}' is not an amount; the order is left out of tiers.",
        "Type a number such as 1234.50.",
    ),
    "amount-negative": (
        W,
        "The amount is negative ({suggestion}); it is counted as a refund.",
        "Nothing to do if it is a refund; otherwise remove the minus sign.",
    ),
    "amount-as-text": (
        N,
        "The amount is typed as text, read as {suggestion}.",
        "Type it as a plain number so the sheet can add it up.",
    ),
    "amount-impossible": (
        E,
        "The amount {shown} cannot be a real amount (it is more than 1,000,000,000,000, or not a "
        "number at all); the order is left out of tiers.",
        "Type the order's real amount. A value like this usually comes from a broken formula, "
        "an export or a stray paste.",
    ),
    "quantity-invalid": (W, "'{value}' is not a quantity.", "Type a whole number."),
    "quantity-impossible": (
        E,
        "The quantity {shown} cannot be a real quantity (it is more than 1,000,000,000,000, or not "
        "a number at all); it is ignored.",
        "Type the real quantity.",
    ),
    "order-id-duplicate": (
        W,
        "Order ID {value} is also on row {other_row}; the order may be counted twice.",
        "Remove the copy, or give each order its own ID.",
    ),
    "satisfaction-invalid": (E, "'{value}' is not a satisfaction score.", "Type a number from 1 to 5."),
    "satisfaction-out-of-range": (
        E,
        "The satisfaction score {shown} is outside the 1-5 (or 0-10) scale; it is ignored.",
        "Type a score from 1 to 5 (or 0 to 10).",
    ),
    # consent and channels
    "consent-unreadable": (
        W,
        "'{value}' is not yes or no; it is read as {reading}.",
        "Type yes or no (y/n, true/false, 1/0, x and ✓ also work).",
    ),
    "channel-unknown": (
        W,
        "'{value}' is not a channel sheet-crm knows; no channel is assumed.",
        "Type one of: email, SMS, phone, letter.",
    ),
    "channel-no-consent": (
        W,
        "The preferred channel is {channel}, but the customer has not opted in to {channel}.",
        "Ask for consent and tick {column}, or choose another channel.",
    ),
    "channel-no-address": (
        W,
        "The preferred channel is {channel}, but there is no {needed} for this customer.",
        "Add the {needed}, or choose another channel.",
    ),
    "dnc-with-opt-in": (
        W,
        "Do not contact is set, but the customer also has {optins}; Do not contact wins.",
        "Clear the opt-ins, or Do not contact if the customer now agrees to hear from you.",
    ),
    # references
    "order-no-customer": (
        E,
        "The order names no customer; it is left out of tiers.",
        "Type the customer's ID or email.",
    ),
    "order-unknown-customer": (
        E,
        "No customer has the ID or email '{value}'; the order is left out of tiers.",
        "Correct the reference, or add the customer to the Customers tab.",
    ),
    "interaction-no-customer": (W, "The interaction names no customer.", "Type the customer's ID or email."),
    "interaction-unknown-customer": (
        W,
        "No customer has the ID or email '{value}'.",
        "Correct the reference, or add the customer to the Customers tab.",
    ),
    "referrer-unknown": (
        W,
        "Referred by '{value}' matches no customer (by ID, email or name).",
        "Type the referrer's Customer ID or email.",
    ),
    "referrer-ambiguous": (
        W,
        "Referred by '{value}' matches {count} customers with that name.",
        "Type the referrer's Customer ID or email instead of the name.",
    ),
    "referral-loop": (
        W,
        "Referred by goes round in a circle: {chain}.",
        "Correct who referred whom; referrals in a loop are not counted.",
    ),
    # structure
    "postcode-lost-zero": (
        W,
        "The postcode is stored as the number {value}, so its leading zero is lost.",
        "Format the Postcode column as text and type {suggestion}.",
    ),
    "postcode-as-number": (
        W,
        "The postcode is stored as a number ({value}); postcodes in {country} have letters.",
        "Format the Postcode column as text and type the full postcode.",
    ),
    "interactions-column-missing": (
        W,
        "The Interactions tab has no {column} column, so its rows cannot be used.",
        "Add a column called '{column}'.",
    ),
    # IDs
    "customer-id-duplicate": (
        E,
        "Customer ID {value} is also on row {other_row}.",
        "Give one of them a new ID (clear the cell and the next run fills it), or merge them.",
    ),
    "customer-id-column-missing": (
        W,
        "The Customers tab has no Customer ID column, so customers are known by row number, "
        "which changes when rows move.",
        "Insert a column called 'Customer ID' (for example as column A); the next run fills it "
        "with IDs like C-00001.",
    ),
    "customer-id-counter": (
        N,
        "The highest Customer ID given out so far is {value}; new customers get higher ones.",
        "Nothing to do. This line keeps the IDs of deleted customers from being given out again.",
    ),
    # settings
    "setting-country-unknown": (
        E,
        "'{value}' is not a two-letter country code; phone numbers without a country code cannot be read.",
        "Type a code such as GB, US or DE.",
    ),
    "setting-timezone-unknown": (
        E,
        "'{value}' is not a time zone name.",
        "Type a name such as Europe/London or America/New_York.",
    ),
    "setting-tier-order": (
        E,
        "The tier cut-offs must rise: Platinum < Gold < Silver <= 100 (now {value}).",
        "Correct the tier settings.",
    ),
    "setting-date-order-unknown": (
        W,
        "'{value}' is not a date order; the order of the default country is used.",
        "Type 'day first' or 'month first', or leave it blank.",
    ),
}

# MESSAGES with, for each code, whether its templates need filling in at all (many
# findings of a big sheet are of codes whose words never change).
_TEMPLATES: dict[str, tuple[Severity, str, str, bool]] = {
    code: (severity, problem, fix, any(ch in problem + fix for ch in "{}"))
    for code, (severity, problem, fix) in MESSAGES.items()
}

ID_FILL_REASON = "new Customer ID for a customer who had none"
DEFAULT_PREFIX, DEFAULT_WIDTH = "C-", 5

ORDER_NEEDS = frozenset({"date", "amount", "customer_ref"})


def usable_order(order: Order) -> bool:
    """An order tiers and segments can count: a valid date, amount and customer."""
    return (
        not (order.invalid & ORDER_NEEDS)
        and bool(order.customer_id)
        and order.date is not None
        and order.amount is not None
    )


def can_email(customer: Customer) -> bool:
    return bool(customer.email_normalized) and "email" not in customer.invalid and not customer.do_not_contact


def can_sms(customer: Customer) -> bool:
    return (
        bool(customer.phone_e164)
        and customer.phone_type != "landline"
        and "phone" not in customer.invalid
        and not customer.do_not_contact
    )


@dataclass
class ValidationResult:
    """What later steps and scripts may want from validation."""

    checked: dict[str, int]
    by_code: dict[str, int]
    assigned_ids: list[tuple[int, str]] = field(default_factory=list)  # (sheet row, new ID)
    highest_id: str = ""
    skipped_orders: list[int] = field(default_factory=list)  # sheet rows left out of tiers
    skipped_interactions: list[int] = field(default_factory=list)


# ---------------------------------------------------------------- the step


def run(ctx: Context) -> StepOutput:
    # The workbook's records are millions of long-lived objects; with the cyclic garbage
    # collector on, every burst of new findings makes it walk all of them again (it
    # doubled the time on 100k customers and 1M orders). Nothing here makes cycles.
    with paused_gc():
        return _run(ctx)


def _run(ctx: Context) -> StepOutput:
    records = ctx.records
    require_columns(ctx)
    v = _Validator(ctx)
    before = len(ctx.findings)
    v.check_settings()
    edits, assigned, highest = v.assign_ids()
    v.check_customers()
    _resolve_again(records)  # emails are normalised and IDs assigned: resolve orders again
    v.check_referrals()
    skipped_orders = v.check_orders()
    skipped_interactions = v.check_interactions()

    mine = ctx.findings.items[before:]
    by_code = dict(sorted(Counter(f.code for f in mine).items()))
    severities = Counter(f.severity for f in ctx.findings.items)
    checked = {
        "customers": len(records.customers),
        "orders": len(records.orders),
        "interactions": len(records.interactions),
    }
    parts = [f"{checked['customers']:,} customers"]
    if "Orders" in records.tables:
        parts.append(f"{checked['orders']:,} orders")
    if "Interactions" in records.tables:
        parts.append(f"{checked['interactions']:,} interactions")
    summary = [
        f"Checked {', '.join(parts)}: {severities[E]:,} errors, {severities[W]:,} warnings, "
        f"{severities[N]:,} notes."
    ]
    if assigned:
        shown = ", ".join(f"{new_id} (row {row})" for row, new_id in assigned[:10])
        more = f" and {len(assigned) - 10:,} more" if len(assigned) > 10 else ""
        summary.append(f"Gave {len(assigned):,} customers a new Customer ID: {shown}{more}.")
    if skipped_orders:
        summary.append(f"{len(skipped_orders):,} orders have errors and are left out of tiers and segments.")
    result = ValidationResult(checked, by_code, assigned, highest, skipped_orders, skipped_interactions)
    return StepOutput(
        edits=edits,
        summary=summary,
        data={
            "checked": checked,
            "by_code": by_code,
            "assigned_ids": [{"row": r, "customer_id": i} for r, i in assigned],
            "highest_id": highest,
            "skipped_orders": len(skipped_orders),
            "skipped_interactions": len(skipped_interactions),
        },
        result=result,
        counts={
            **checked,
            "errors": severities[E],
            "warnings": severities[W],
            "notes": severities[N],
            "ids_assigned": len(assigned),
        },
    )


def _resolve_again(records: Records) -> None:
    """``records.reindex()``, but only re-resolving the orders and interactions that can
    have changed: those that found no customer, or a customer known by row number who
    has just been given an ID. (Re-resolving a million orders that already point at a
    Customer ID would give the same answer and take a second.)"""
    orders, interactions = records.orders, records.interactions
    try:
        records.orders = [o for o in orders if not o.customer_id or o.customer_id.startswith("row:")]
        records.interactions = [
            i for i in interactions if not i.customer_id or i.customer_id.startswith("row:")
        ]
        records.reindex()
    finally:
        records.orders, records.interactions = orders, interactions


def require_columns(ctx: Context) -> None:
    """Fail (not a finding) when a tab lacks a column nothing can work without."""
    customers = ctx.records.tables.get("Customers")
    if customers is not None and not any(
        customers.has(f) for f in ("first_name", "last_name", "name", "email", "company")
    ):
        raise ColumnNotFound(
            f"The {customers.name} tab has no column that tells customers apart "
            "(a name, an email or a company).",
            f"Add a header such as 'First name', 'Last name', 'Email' or 'Company' to row "
            f"{customers.header_row} of the {customers.name} tab.",
            where=ctx.workbook.source,
        )
    orders = ctx.records.tables.get("Orders")
    if orders is not None and orders.headers:
        for fieldname, header in (("customer", "Customer"), ("date", "Date"), ("amount", "Amount")):
            if not orders.has(fieldname):
                raise ColumnNotFound(
                    f"The {orders.name} tab has no {header} column.",
                    f"Add a column called '{header}' to the {orders.name} tab "
                    f"(row {orders.header_row}), or rename the column that holds it.",
                    where=ctx.workbook.source,
                )


# ---------------------------------------------------------------- helpers


def _raw_ok(value: Cell) -> bool:
    """A cell worth checking: not blank and not a formula error (the model reported those)."""
    return not is_blank(value) and not isinstance(value, CellError | NoCachedValue)


def _is_number(value: Cell) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shown_number(value: Cell) -> str:
    """An impossible number as the owner can read it: 'infinity' rather than 'inf'."""
    if isinstance(value, float) and value != value:
        return "NaN (not a number)"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "infinity" if value > 0 else "minus infinity"
    shown = text(value)
    return shown if len(shown) <= 40 else f"{shown[:20]}... ({len(shown)} characters)"


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    """Given names (lower case) from the ``nicknames`` package's name list."""
    import nicknames

    names: set[str] = set()
    for triplet in nicknames.name_triplets():
        names.add(triplet.name1)
        names.add(triplet.name2)
    return frozenset(names)


# Common family names that are rarely given names (Kelly, Ryan, Morris ... are left
# out); with given_names() this spots "Smith, John" typed as first name Smith, last
# name John. The nicknames list has a few of these too (smith -> smitty), so it is not
# asked about the first name.
COMMON_SURNAMES = frozenset(
    {
        "smith",
        "jones",
        "williams",
        "brown",
        "taylor",
        "davies",
        "evans",
        "wilson",
        "johnson",
        "roberts",
        "robinson",
        "wright",
        "wood",
        "thompson",
        "walker",
        "white",
        "hughes",
        "green",
        "hall",
        "edwards",
        "clarke",
        "clark",
        "harris",
        "patel",
        "khan",
        "baker",
        "turner",
        "hill",
        "ward",
        "moore",
        "young",
        "anderson",
        "phillips",
        "campbell",
        "bell",
        "murphy",
        "miller",
        "davis",
        "garcia",
        "rodriguez",
        "martinez",
        "hernandez",
        "lopez",
        "gonzalez",
        "perez",
        "sanchez",
        "ramirez",
        "torres",
        "nguyen",
        "park",
        "chen",
        "wang",
        "zhang",
        "liu",
        "muller",
        "mueller",
        "schmidt",
        "schneider",
        "fischer",
        "weber",
        "meyer",
        "wagner",
        "becker",
        "schulz",
        "hoffmann",
        "dubois",
        "durand",
        "moreau",
        "rossi",
        "russo",
        "ferrari",
        "esposito",
        "bianchi",
        "romano",
        "jansen",
        "bakker",
        "visser",
        "smit",
        "walsh",
        "byrne",
        "obrien",
        "oconnor",
        "mccarthy",
        "macdonald",
        "robertson",
        "watson",
        "morrison",
        "thomson",
        "richardson",
        "cox",
        "wilkinson",
        "chapman",
        "shaw",
        "fletcher",
        "butler",
        "simpson",
        "lloyd",
    }
)

_POSTCODE_DIGITS = {
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
# What each preferred channel needs: (the customer's field, in words), and the opt-in.
_CHANNEL_NEEDS = {
    "email": ("email", "email address"),
    "sms": ("phone", "phone number"),
    "phone": ("phone", "phone number"),
    "letter": ("address", "postal address"),
}
_CHANNEL_CONSENT = {"email": "email_opt_in", "sms": "sms_opt_in"}
_POSTCODE_LETTERS = {"GB", "CA", "NL", "IE", "AR", "MT"}


class _Validator:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.records: Records = ctx.records
        self.findings = ctx.findings
        self.today = ctx.today
        self.settings = ctx.settings
        self.day_first = ctx.settings.day_first
        region = ctx.settings.default_country.strip().upper()
        self.region = "GB" if region == "UK" else region
        self.check_domains = bool(ctx.options.get("check_domains") or ctx.settings.check_domains)

    # -- adding findings

    def add(
        self,
        code: str,
        location: Location,
        *,
        value: Any = None,
        suggestion: Any = None,
        customer_id: str = "",
        **words: Any,
    ) -> None:
        severity, problem, fix, needs_format = _TEMPLATES[code]
        if needs_format:
            words["value"] = text(value)
            words["suggestion"] = text(suggestion) if suggestion is not None else ""
            problem, fix = problem.format_map(words), fix.format_map(words)
        self.findings.add(
            code,
            severity,
            location,
            problem,
            fix,
            value=value,
            suggestion=suggestion,
            customer_id=customer_id if customer_id and not customer_id.startswith("row:") else "",
        )

    # -- settings

    def _setting_location(self, *names: str) -> Location:
        """The Value cell of the first of ``names`` typed in the Settings tab."""
        table = self.records.tables.get("Settings")  # build_records chose it (or there is none)
        if table is None:
            return Location("Settings")
        if table.has("setting"):
            for row in table.rows:
                if SETTING_KEYS.get(header_key(table.value(row, "setting"))) in names:
                    return table.location(row, "value")
        return Location(table.name)

    def check_settings(self) -> None:
        import phonenumbers

        s = self.settings
        if self.region not in phonenumbers.SUPPORTED_REGIONS:
            self.add(
                "setting-country-unknown", self._setting_location("default_country"), value=s.default_country
            )
            self.region = ""
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(s.timezone)
        except (ValueError, KeyError, OSError):
            self.add("setting-timezone-unknown", self._setting_location("timezone"), value=s.timezone)
        except Exception:  # zoneinfo raises its own subclass of KeyError/ValueError variants
            self.add("setting-timezone-unknown", self._setting_location("timezone"), value=s.timezone)
        if not (0 < s.tier_platinum < s.tier_gold < s.tier_silver <= 100):
            self.add(
                "setting-tier-order",
                self._setting_location("tier_platinum", "tier_gold", "tier_silver"),
                value=f"{s.tier_platinum:g} / {s.tier_gold:g} / {s.tier_silver:g}",
            )
        order = header_key(s.date_order)
        if order and not (order.startswith(("day", "month")) or order in {"dmy", "mdy", "us"}):
            self.add("setting-date-order-unknown", self._setting_location("date_order"), value=s.date_order)

    # -- IDs

    def assign_ids(self) -> tuple[list[CellEdit], list[tuple[int, str]], str]:
        table = self.records.tables["Customers"]
        if not table.has("customer_id"):
            self.add("customer-id-column-missing", Location(table.name, table.header_row))
            return [], [], ""
        col = table.index("customer_id")
        assert col is not None
        by_row = {row.number: row for row in table.rows}
        ids = [(c, by_row[c.row].get(col)) for c in self.records.customers if c.row in by_row]
        typed = [raw for _, raw in ids if not is_blank(raw)]
        prefix, width, numeric = _id_pattern(typed)

        # Duplicate IDs: later rows are flagged (and not trusted).
        first_row: dict[str, int] = {}
        for c, raw in ids:
            if not c.customer_id:
                continue
            key = c.customer_id.casefold()
            if key in first_row:
                c.invalid.add("customer_id")
                self.add(
                    "customer-id-duplicate",
                    table.location(c.row, "customer_id"),
                    value=raw,
                    other_row=first_row[key],
                    customer_id=c.customer_id,
                )
            else:
                first_row[key] = c.row

        highest = max(_id_numbers(self._id_sources(numeric), prefix, numeric), default=0)
        edits: list[CellEdit] = []
        assigned: list[tuple[int, str]] = []
        column = table.column_number(col)
        for c, raw in ids:
            if not is_blank(raw):
                continue
            highest += 1
            new_id = f"{prefix}{highest:0{width}d}"
            value: Cell = highest if numeric else new_id
            edits.append(CellEdit(table.name, c.row, column, raw, value, ID_FILL_REASON))
            assigned.append((c.row, new_id))
            c.customer_id = new_id
        highest_id = f"{prefix}{highest:0{width}d}" if highest else ""
        if highest:
            loc = Location(table.name, None, column, table.headers[col])
            # The ID also goes in the Customer ID column of the Issues tab, which the
            # next run scans (that is what makes the counter survive deletions).
            self.add("customer-id-counter", loc, value=highest_id, customer_id=highest_id)
        return edits, assigned, highest_id

    def _id_sources(self, numeric: bool) -> Iterable[Cell]:
        """Every cell that may hold a Customer ID, in owner and tool tabs."""
        records = self.records
        customers = records.tables["Customers"]
        for fieldname in ("customer_id", "referred_by", "merged_into"):
            i = customers.index(fieldname)
            if i is not None:
                yield from _column_cells(customers, i)
        for kind in ("Orders", "Interactions"):
            table = records.tables.get(kind)
            if table is not None and table.has("customer"):
                # A million order references name far fewer customers: distinct ones only.
                yield from set(_column_cells(table, table.index("customer")))
        for name, table in self.ctx.workbook.tables.items():
            if name in TOOL_TABS:
                yield from _ToolCells(table, numeric)

    # -- customers

    def check_customers(self) -> None:
        table = self.records.tables["Customers"]
        by_row = {row.number: row for row in table.rows}
        seen_email: dict[str, Customer] = {}
        for c in self.records.customers:
            row = by_row.get(c.row)
            if row is None:
                continue
            self._names(table, row, c)
            self._email(table, row, c, seen_email)
            region = self._country(table, row, c)
            self._phone(table, row, c, region)
            self._consent(table, row, c)
            self._channel(table, row, c)
            for fieldname in ("birthday", "customer_since"):
                self._date_cell(table, row, c, fieldname, getattr(c, fieldname))
            if c.birthday is not None and "birthday" not in c.invalid:
                if c.birthday > self.today:
                    c.invalid.add("birthday")
                    self.add(
                        "birthday-future",
                        table.location(row, "birthday"),
                        value=table.value(row, "birthday"),
                        suggestion=c.birthday,
                        customer_id=c.key,
                    )
                elif c.birthday.year < self.today.year - 120:
                    self.add(
                        "birthday-implausible",
                        table.location(row, "birthday"),
                        value=table.value(row, "birthday"),
                        suggestion=c.birthday,
                        customer_id=c.key,
                    )
            if c.customer_since is not None and c.customer_since > self.today:
                self.add(
                    "customer-since-future",
                    table.location(row, "customer_since"),
                    value=table.value(row, "customer_since"),
                    suggestion=c.customer_since,
                    customer_id=c.key,
                )
            self._postcode(table, row, c, region)

    def _names(self, table: Table, row: Row, c: Customer) -> None:
        if not (c.first_name or c.last_name or c.name or c.company):
            self.add(
                "name-missing",
                table.location(row, _first_present(table, "first_name", "name", "last_name")),
                customer_id=c.key,
            )
            return
        for fieldname, value in (("first_name", c.first_name), ("last_name", c.last_name), ("name", c.name)):
            if not value:
                continue
            verdict = _name_verdict(value, fieldname == "last_name")
            if verdict is None:
                continue
            loc = table.location(row, fieldname)
            if verdict[0] == "name-odd-characters":
                self.add("name-odd-characters", loc, value=value, customer_id=c.key)
            else:
                _, suggestion, case = verdict
                self.add("name-case", loc, value=value, suggestion=suggestion, case=case, customer_id=c.key)
        if c.first_name and c.last_name and _maybe_swapped(c.first_name, c.last_name):
            self.add(
                "name-maybe-swapped",
                table.location(row, "first_name"),
                value=c.first_name,
                suggestion=f"{c.last_name} {c.first_name}",
                first=c.first_name,
                last=c.last_name,
                customer_id=c.key,
            )

    def _email(self, table: Table, row: Row, c: Customer, seen: dict[str, Customer]) -> None:
        raw = table.value(row, "email")
        if not _raw_ok(raw):
            return
        check = check_email(text(raw))
        if check.problem == "several":
            c.invalid.add("email")
            self.add("email-several", table.location(row, "email"), value=raw, customer_id=c.key)
            return
        if check.problem:
            c.invalid.add("email")
            self.add(
                "email-invalid",
                table.location(row, "email"),
                value=raw,
                reason=check.reason.rstrip("."),
                customer_id=c.key,
            )
            return
        address = check.normalized
        if self.check_domains:
            problem = domain_problem(address.rpartition("@")[2])
            if problem:
                c.invalid.add("email")
                self.add(
                    "email-domain-unknown",
                    table.location(row, "email"),
                    value=raw,
                    reason=problem,
                    customer_id=c.key,
                )
                return
        c.email_normalized = address
        if check.typo_fix:
            self.add(
                "email-typo",
                table.location(row, "email"),
                value=raw,
                suggestion=check.typo_fix,
                domain=check.typo_fix.rpartition("@")[2],
                customer_id=c.key,
            )
        if check.role:
            self.add(
                "email-role",
                table.location(row, "email"),
                value=raw,
                local=address.partition("@")[0],
                customer_id=c.key,
            )
        other = seen.get(address)
        if other is None:
            seen[address] = c
        else:
            self.add(
                "email-duplicate",
                table.location(row, "email"),
                value=raw,
                other_row=other.row,
                other=other.customer_id or other.display_name,
                customer_id=c.key,
            )

    def _country(self, table: Table, row: Row, c: Customer) -> str:
        raw = table.value(row, "country")
        if not _raw_ok(raw):
            return self.region
        code = country_code(raw)
        if not code:
            self.add(
                "country-unknown",
                table.location(row, "country"),
                value=raw,
                country=self.region or "unknown",
                customer_id=c.key,
            )
            return self.region
        return code

    def _phone(self, table: Table, row: Row, c: Customer, region: str) -> None:
        raw = table.value(row, "phone")
        if not _raw_ok(raw) or isinstance(raw, bool):
            return
        if _is_number(raw):
            e164 = normalize_phone(raw, region)
            check = check_phone(e164, region) if e164 else check_phone(text(raw), region)
            self.add(
                "phone-as-number",
                table.location(row, "phone"),
                value=raw,
                suggestion=e164 or None,
                customer_id=c.key,
            )
        else:
            check = check_phone(text(raw), region)
        if check.problem:
            c.invalid.add("phone")
            code = {
                "too-short": "phone-too-short",
                "too-long": "phone-too-long",
                "no-country": "phone-no-country",
            }.get(check.problem, "phone-invalid")
            if not (_is_number(raw) and code == "phone-invalid"):
                self.add(
                    code,
                    table.location(row, "phone"),
                    value=raw,
                    country=region or "any country",
                    customer_id=c.key,
                )
            elif not check.e164:
                self.add(
                    "phone-invalid",
                    table.location(row, "phone"),
                    value=raw,
                    country=region or "any country",
                    customer_id=c.key,
                )
            return
        c.phone_e164, c.phone_type = check.e164, check.kind
        if check.fictional:
            self.add("phone-fictional", table.location(row, "phone"), value=raw, customer_id=c.key)
        if check.kind == "landline" and (c.sms_opt_in is True or c.preferred_channel == "sms"):
            why = (
                "The preferred channel is SMS"
                if c.preferred_channel == "sms"
                else "The customer opted in to SMS"
            )
            self.add(
                "sms-landline",
                table.location(row, "phone"),
                value=raw,
                suggestion=None,
                why=why,
                customer_id=c.key,
            )

    def _consent(self, table: Table, row: Row, c: Customer) -> None:
        for fieldname in ("email_opt_in", "sms_opt_in", "do_not_contact"):
            raw = table.value(row, fieldname)
            if not _raw_ok(raw):
                continue
            problem = _bool_problem(raw) if type(raw) is str else parse_bool(raw)[1]
            if problem:
                if fieldname == "do_not_contact":
                    c.do_not_contact = True
                    reading = "do not contact, to be safe"
                else:
                    reading = "no consent"
                c.invalid.add(fieldname)
                self.add(
                    "consent-unreadable",
                    table.location(row, fieldname),
                    value=raw,
                    reading=reading,
                    customer_id=c.key,
                )
        if c.do_not_contact and "do_not_contact" not in c.invalid:
            optins = [w for w, v in (("email opt-in", c.email_opt_in), ("SMS opt-in", c.sms_opt_in)) if v]
            if optins:
                self.add(
                    "dnc-with-opt-in",
                    table.location(row, "do_not_contact"),
                    value=table.value(row, "do_not_contact"),
                    optins=" and ".join(optins),
                    customer_id=c.key,
                )

    def _channel(self, table: Table, row: Row, c: Customer) -> None:
        raw = table.value(row, "preferred_channel")
        if not _raw_ok(raw):
            return
        if not c.preferred_channel:
            c.invalid.add("preferred_channel")
            self.add(
                "channel-unknown", table.location(row, "preferred_channel"), value=raw, customer_id=c.key
            )
            return
        channel = c.preferred_channel
        attr, needed = _CHANNEL_NEEDS[channel]
        if not getattr(c, attr):
            self.add(
                "channel-no-address",
                table.location(row, "preferred_channel"),
                value=raw,
                channel=text(raw),
                needed=needed,
                customer_id=c.key,
            )
            return
        consent = _CHANNEL_CONSENT.get(channel)
        if consent and table.has(consent) and getattr(c, consent) is not True and consent not in c.invalid:
            self.add(
                "channel-no-consent",
                table.location(row, "preferred_channel"),
                value=raw,
                channel=text(raw),
                column=table.headers[table.fields[consent]],
                customer_id=c.key,
            )

    def _date_cell(self, table: Table, row: Row, rec: Any, fieldname: str, parsed: date | None) -> None:
        """Unreadable, ambiguous or number-typed dates; marks unreadable ones invalid."""
        raw = table.value(row, fieldname)
        if not _raw_ok(raw):
            return
        customer_id = (
            getattr(rec, "key", "") if isinstance(rec, Customer) else getattr(rec, "customer_id", "")
        )
        if _is_number(raw) and 1900 <= raw <= 2200 and float(raw).is_integer():
            rec.invalid.add(fieldname)
            setattr(rec, fieldname, None)
            self.add(
                "date-invalid",
                table.location(row, fieldname),
                value=raw,
                problem=f"{text(raw)} is a year, not a date",
                customer_id=customer_id,
            )
            return
        if parsed is None:
            _, problem = parse_date(raw, day_first=self.day_first)
            rec.invalid.add(fieldname)
            self.add(
                "date-invalid",
                table.location(row, fieldname),
                value=raw,
                problem=_capital(problem or f"'{text(raw)}' is not a date"),
                customer_id=customer_id,
            )
            return
        if _is_number(raw):
            self.add(
                "date-as-number",
                table.location(row, fieldname),
                value=raw,
                suggestion=parsed,
                customer_id=customer_id,
            )
        elif isinstance(raw, str):
            _, problem = parse_date(raw, day_first=self.day_first)
            if problem:
                other = date(parsed.year, parsed.day, parsed.month)
                first, second = sorted((parsed, other), key=lambda d: d != parsed)
                self.add(
                    "date-ambiguous",
                    table.location(row, fieldname),
                    value=raw,
                    suggestion=parsed,
                    first=_long(first),
                    second=_long(second),
                    customer_id=customer_id,
                )

    def _postcode(self, table: Table, row: Row, c: Customer, region: str) -> None:
        raw = table.value(row, "postcode")
        if not _is_number(raw) or isinstance(raw, bool):
            return
        digits = text(raw)
        country = region or self.region
        want = _POSTCODE_DIGITS.get(country)
        if want and digits.isdigit() and len(digits) < want:
            self.add(
                "postcode-lost-zero",
                table.location(row, "postcode"),
                value=raw,
                suggestion=digits.zfill(want),
                customer_id=c.key,
            )
        elif country in _POSTCODE_LETTERS:
            self.add(
                "postcode-as-number",
                table.location(row, "postcode"),
                value=raw,
                country=country,
                customer_id=c.key,
            )

    # -- references between customers

    def check_referrals(self) -> None:
        table = self.records.tables["Customers"]
        if not table.has("referred_by"):
            return
        by_name: dict[str, list[Customer]] = {}
        for c in self.records.customers:
            if c.full_name:
                by_name.setdefault(c.full_name.casefold(), []).append(c)
        referrer: dict[int, Customer] = {}  # id(customer) -> the customer who referred them
        for c in self.records.customers:
            ref = c.referred_by.strip()
            if not ref:
                continue
            target = self.records.find(ref)
            if target is None:
                named = by_name.get(" ".join(ref.split()).casefold(), [])
                if len(named) > 1:
                    self.add(
                        "referrer-ambiguous",
                        table.location(c.row, "referred_by"),
                        value=ref,
                        count=len(named),
                        customer_id=c.key,
                    )
                    continue
                target = named[0] if named else None
            if target is None:
                c.invalid.add("referred_by")
                self.add(
                    "referrer-unknown", table.location(c.row, "referred_by"), value=ref, customer_id=c.key
                )
                continue
            referrer[id(c)] = target
        # Each customer has at most one referrer, so a loop is a cycle in a chain.
        done: set[int] = set()
        for c in self.records.customers:
            path: list[Customer] = []
            on_path: dict[int, int] = {}
            node: Customer | None = c
            while node is not None and id(node) not in done and id(node) not in on_path:
                on_path[id(node)] = len(path)
                path.append(node)
                node = referrer.get(id(node))
            if node is not None and id(node) in on_path:
                loop = path[on_path[id(node)] :]
                for member in loop:
                    member.invalid.add("referred_by")
                start = min(loop, key=lambda m: m.row)
                k = loop.index(start)
                ordered = loop[k:] + loop[:k]
                chain = " -> ".join(_who(m) for m in [*ordered, start])
                self.add(
                    "referral-loop",
                    table.location(start.row, "referred_by"),
                    value=start.referred_by,
                    chain=chain,
                    customer_id=start.key,
                )
            done.update(id(p) for p in path)

    # -- orders

    def check_orders(self) -> list[int]:
        """Check every order. A million orders pass through here, so the loop keeps to
        a fast path (local names, no finding built unless there is one); the checks
        themselves are the same for every order."""
        table = self.records.tables.get("Orders")
        if table is None or not self.records.orders:
            return []
        today, skipped = self.today, []
        add, location = self.add, table.location
        i_date, i_amount, i_cust = table.index("date"), table.index("amount"), table.index("customer")
        i_id, i_qty = table.index("order_id"), table.index("quantity")
        seen_ids: dict[str, int] = {}
        first_row = seen_ids.setdefault
        if i_id is not None:
            # Repeated order IDs are rare: one look at all IDs first, and only when some
            # repeat does each order remember its own (a million dict entries otherwise).
            ids = [o.order_id for o in self.records.orders if o.order_id]
            if len(set(ids)) == len(ids):
                i_id = None
        unreadable = (CellError, NoCachedValue)
        for o, row in zip(self.records.orders, table.rows, strict=False):
            values = row.values
            cid = o.customer_id
            invalid = o.invalid
            if not cid or not o.customer_ref:
                raw_ref = values[i_cust] if i_cust is not None else None
                invalid.add("customer_ref")
                if not o.customer_ref:
                    if not isinstance(raw_ref, unreadable):
                        add("order-no-customer", location(row, "customer"))
                else:
                    add("order-unknown-customer", location(row, "customer"), value=raw_ref)
            raw = values[i_date] if i_date is not None else None
            d = o.date
            if d is None or not isinstance(raw, date):
                if is_blank(raw):
                    invalid.add("date")
                    add("order-date-missing", location(row, "date"), customer_id=cid)
                else:
                    self._date_cell(table, row, o, "date", d)
                d = o.date
            if d is not None and d > today and "date" not in invalid:
                invalid.add("date")
                add("order-future", location(row, "date"), value=raw, suggestion=d, customer_id=cid)
            raw = values[i_amount] if i_amount is not None else None
            amount = o.amount
            if amount is None:
                if is_blank(raw):
                    invalid.add("amount")
                    add("amount-missing", location(row, "amount"), customer_id=cid)
                elif not isinstance(raw, unreadable):
                    invalid.add("amount")
                    if impossible_number(raw):
                        add(
                            "amount-impossible",
                            location(row, "amount"),
                            value=raw,
                            shown=_shown_number(raw),
                            customer_id=cid,
                        )
                    else:
                        add("amount-invalid", location(row, "amount"), value=raw, customer_id=cid)
            else:
                if type(raw) is str:
                    add(
                        "amount-as-text",
                        location(row, "amount"),
                        value=raw,
                        suggestion=amount,
                        customer_id=cid,
                    )
                if amount < 0:
                    add(
                        "amount-negative",
                        location(row, "amount"),
                        value=raw,
                        suggestion=amount,
                        customer_id=cid,
                    )
            if i_qty is not None and o.quantity is None and _raw_ok(values[i_qty]):
                raw = values[i_qty]
                if impossible_number(raw):
                    add(
                        "quantity-impossible",
                        location(row, "quantity"),
                        value=raw,
                        shown=_shown_number(raw),
                        customer_id=cid,
                    )
                else:
                    add("quantity-invalid", location(row, "quantity"), value=raw, customer_id=cid)
            if i_id is not None and o.order_id:
                number = row.number
                first = first_row(o.order_id, number)
                if first != number:
                    add(
                        "order-id-duplicate",
                        location(row, "order_id"),
                        value=values[i_id],
                        other_row=first,
                        customer_id=cid,
                    )
            if invalid and not invalid.isdisjoint(ORDER_NEEDS):
                skipped.append(row.number)
        return skipped

    # -- interactions

    def check_interactions(self) -> list[int]:
        table = self.records.tables.get("Interactions")
        if table is None or not table.headers:
            return []
        for fieldname, header in (("customer", "Customer"), ("date", "Date")):
            if not table.has(fieldname):
                self.add("interactions-column-missing", Location(table.name, table.header_row), column=header)
                return [r.row for r in self.records.interactions]
        skipped = []
        for it, row in zip(self.records.interactions, table.rows, strict=False):
            self._interaction(table, row, it)
            if it.invalid & {"date", "customer_ref"}:
                skipped.append(row.number)
        return skipped

    def _interaction(self, table: Table, row: Row, it: Interaction) -> None:
        cid = it.customer_id
        raw = table.value(row, "customer")
        if not it.customer_ref:
            it.invalid.add("customer_ref")
            if not isinstance(raw, CellError | NoCachedValue):
                self.add("interaction-no-customer", table.location(row, "customer"))
        elif not cid:
            it.invalid.add("customer_ref")
            self.add("interaction-unknown-customer", table.location(row, "customer"), value=raw)
        raw = table.value(row, "date")
        if is_blank(raw):
            it.invalid.add("date")
            self.add("interaction-date-missing", table.location(row, "date"), customer_id=cid)
        elif not isinstance(raw, date) or it.date is None:  # a date cell can be out of range
            self._date_cell(table, row, it, "date", it.date)
        if it.date is not None and it.date > self.today and "date" not in it.invalid:
            self.add(
                "interaction-future",
                table.location(row, "date"),
                value=raw,
                suggestion=it.date,
                customer_id=cid,
            )
        if table.has("follow_up") and (
            not isinstance(table.value(row, "follow_up"), date) or it.follow_up is None
        ):
            self._date_cell(table, row, it, "follow_up", it.follow_up)
        raw = table.value(row, "satisfaction")
        if _raw_ok(raw):
            if it.satisfaction is None and not impossible_number(raw):
                it.invalid.add("satisfaction")
                self.add(
                    "satisfaction-invalid", table.location(row, "satisfaction"), value=raw, customer_id=cid
                )
            elif it.satisfaction is None or not 0 <= it.satisfaction <= 10:
                it.invalid.add("satisfaction")
                it.satisfaction = None
                self.add(
                    "satisfaction-out-of-range",
                    table.location(row, "satisfaction"),
                    value=raw,
                    shown=_shown_number(raw),
                    customer_id=cid,
                )


# ---------------------------------------------------------------- small pieces


def _first_present(table: Table, *fieldnames: str) -> str | None:
    return next((f for f in fieldnames if table.has(f)), None)


@lru_cache(maxsize=1 << 12)
def _bool_problem(raw: str) -> str:
    """``parse_bool``'s problem with a yes/no text (a column holds a handful of them)."""
    return parse_bool(raw)[1]


@lru_cache(maxsize=1 << 17)
def _name_verdict(value: str, family: bool) -> tuple[str, str, str] | None:
    """(code, suggestion, case) of what is wrong with one name, or None; cached, since
    a sheet repeats its first names (and many family names) thousands of times."""
    if any(ch.isdigit() for ch in value) or "@" in value:
        return "name-odd-characters", "", ""
    if case_problem(value):
        suggestion = proper_name(value, family=family)
        if suggestion != value:
            return "name-case", suggestion, "capitals" if value.upper() == value else "lower case"
    return None


@lru_cache(maxsize=1 << 17)
def _maybe_swapped(first_name: str, last_name: str) -> bool:
    """A family name typed as the first name and a given name as the last ("Smith, John")."""
    first, last = first_name.casefold(), last_name.casefold()
    if not (first and last) or " " in first or " " in last:
        return False
    return first.replace("'", "") in COMMON_SURNAMES and last in given_names() and last not in COMMON_SURNAMES


def _who(c: Customer) -> str:
    name = c.display_name
    return f"{name} ({c.customer_id})" if c.customer_id and c.customer_id != name else name


def _capital(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def _long(d: date) -> str:
    return f"{d.day} {d.strftime('%B')} {d.year}"


@lru_cache(maxsize=1 << 12)
def domain_problem(domain: str) -> str:
    """Why mail to ``domain`` cannot be delivered (DNS lookup through email-validator),
    or ``""``. Only with ``--check-domains``: it needs the network."""
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email("postmaster@" + domain, check_deliverability=True)
    except EmailNotValidError as exc:
        return str(exc)
    return ""


_ID_SHAPE = re.compile(r"(\D*?)(\d+)")


def _id_pattern(typed: list[Cell]) -> tuple[str, int, bool]:
    """(prefix, zero-padding width, numeric cells) of the sheet's IDs: the most common
    prefix among IDs shaped ``PREFIX + digits``; ``('C-', 5, False)`` when there are none."""
    shapes: Counter[tuple[str, int]] = Counter()
    numeric = 0
    for raw in typed:
        if _is_number(raw) and float(raw).is_integer() and raw >= 0:
            numeric += 1
            shapes[("", 0)] += 1
            continue
        m = _ID_SHAPE.fullmatch(text(raw))
        if m:
            digits = m[2]
            shapes[(m[1], len(digits) if digits.startswith("0") else 0)] += 1
    if not shapes:
        return DEFAULT_PREFIX, DEFAULT_WIDTH, False
    by_prefix: Counter[str] = Counter()
    for (prefix, _), n in shapes.items():
        by_prefix[prefix] += n
    prefix = by_prefix.most_common(1)[0][0]
    width = max((w for (p, w), n in shapes.items() if p == prefix), default=0)
    return prefix, width, prefix == "" and numeric > 0 and numeric == by_prefix[""]


def _id_numbers(cells: Iterable[Cell], prefix: str, numeric: bool) -> Iterable[int]:
    """The numbers of every ID with ``prefix`` found in ``cells`` (also inside text such
    as "Merged C-00050 into C-00012")."""
    cells = set(cells)  # a million order references name far fewer customers
    if prefix:
        pattern = re.compile(r"(?<![0-9A-Za-z])" + re.escape(prefix) + r"(\d+)(?!\d)", re.IGNORECASE)
        folded = prefix.casefold()
        for cell in cells:
            if isinstance(cell, str) and folded in cell.casefold():
                for m in pattern.finditer(cell):
                    yield int(m[1])
        return
    for cell in cells:
        if _is_number(cell) and float(cell).is_integer() and 0 <= cell < 10**12:
            yield int(cell)
        elif isinstance(cell, str) and cell.strip().isdigit() and len(cell.strip()) < 13:
            yield int(cell.strip())


def _column_cells(table: Table, i: int | None) -> list[Cell]:
    """Every cell of one column (``Row.get`` for all rows, without a call per row)."""
    if i is None:
        return [None] * len(table.rows)
    return [v[i] if i < len(v) else None for v in [row.values for row in table.rows]]


class _ToolCells:
    """The cells of a tool tab that may hold Customer IDs. With a text prefix every text
    cell is searched; for plain-number IDs only columns whose header names a customer or
    an ID, or any number would count."""

    def __init__(self, table: Table, numeric: bool) -> None:
        self.table = table
        self.numeric = numeric

    def __iter__(self):  # type: ignore[no-untyped-def]
        table = self.table
        columns = [
            i
            for i, h in enumerate(table.headers)
            if "customer" in header_key(h) or header_key(h).endswith("id")
        ]
        wanted = set(columns)
        for row in table.rows:
            for i, cell in enumerate(row.values):
                if i in wanted or (isinstance(cell, str) and not self.numeric):
                    yield cell
