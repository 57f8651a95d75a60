"""Validation: check every row of the owner tabs and give every customer a stable ID.

The step reads what ``model.build_records`` made of the tabs: each value already
typed, each cell's problem kept beside it, email and phone already normalised. It
turns those problems into findings in ``ctx.findings`` (the pipeline turns them into
the Issues tab), makes the checks that need more than one cell, and returns, as data,
what the later steps must see (``ValidationResult.record_changes``: the new Customer
IDs and the fields that cannot be used) and the only owner-tab writes of this step:
new Customer IDs in blank cells. It never changes the records it was given; the
pipeline makes the records the next step reads (``steps.records_after``).

The parts: ``settings`` (the Settings tab), ``ids`` (Customer IDs and the
high-water mark that keeps them unique), ``customers`` (names, contact details,
consent, dates, referrals), ``orders`` (orders and interactions), and ``catalogue``:
every message is a template in ``MESSAGES`` (code -> severity, problem, fix); the
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
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ...errors import ColumnNotFound
from ...findings import Severity
from ...gcpause import paused_gc
from ...model import Customer, Order, RecordChanges, Records
from .. import Context, StepOutput
from .customers import CustomerChecks, check_referrals
from .ids import assign_ids
from .orders import ORDER_NEEDS, check_interactions, check_orders
from .report import Marks, Reporter
from .settings import check_settings

E, W, N = Severity.ERROR, Severity.WARNING, Severity.INFO


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
    """What later steps and scripts may want from validation. ``record_changes`` is
    what the records must carry for the steps after it: each new Customer ID, and the
    fields found unusable (by the record's index)."""

    checked: dict[str, int]
    by_code: dict[str, int]
    assigned_ids: list[tuple[int, str]] = field(default_factory=list)  # (sheet row, new ID)
    highest_id: str = ""
    skipped_orders: list[int] = field(default_factory=list)  # sheet rows left out of tiers
    skipped_interactions: list[int] = field(default_factory=list)
    record_changes: RecordChanges = field(default_factory=RecordChanges)


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
    rep = Reporter(ctx.findings)
    before = len(ctx.findings)
    region = check_settings(rep, records, ctx.settings)
    ids = assign_ids(rep, records, ctx.workbook)
    # The checks name each customer by the ID given out above.
    new_ids = {i: {"customer_id": new_id} for i, new_id in ids.new_ids.items()}
    named = records.changed(RecordChanges(customers=new_ids))
    customer_marks: Marks = {i: {"customer_id"} for i in ids.repeated}
    check_domains = bool(ctx.options.get("check_domains") or ctx.settings.check_domains)
    for i, fields in CustomerChecks(rep, named, ctx.today, region, check_domains).run().items():
        customer_marks.setdefault(i, set()).update(fields)
    # The rest read the records as the next step will: the orders and interactions that
    # found no customer, or one known by row number, resolved again with the new IDs
    # and the emails as normalised (``Records.reindex`` says why), an email whose
    # domain receives no mail left out.
    unmailable = {i: {"email_normalized": ""} for i, fields in customer_marks.items() if "email" in fields}
    view = named.changed(RecordChanges(customers=unmailable, resolve="unresolved"))
    check_referrals(rep, view, customer_marks)
    order_marks: Marks = {}
    skipped_orders = check_orders(rep, view, ctx.today, order_marks)
    interaction_marks: Marks = {}
    skipped_interactions = check_interactions(rep, view, ctx.today, interaction_marks)
    changes = RecordChanges(
        customers=_customer_changes(records, ids.new_ids, customer_marks),
        orders=_invalid_changes(records.orders, order_marks),
        interactions=_invalid_changes(records.interactions, interaction_marks),
        resolve="unresolved",
    )

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
    assigned = ids.assigned
    if assigned:
        shown = ", ".join(f"{new_id} (row {row})" for row, new_id in assigned[:10])
        more = f" and {len(assigned) - 10:,} more" if len(assigned) > 10 else ""
        summary.append(f"Gave {len(assigned):,} customers a new Customer ID: {shown}{more}.")
    if skipped_orders:
        summary.append(f"{len(skipped_orders):,} orders have errors and are left out of tiers and segments.")
    result = ValidationResult(
        checked, by_code, assigned, ids.highest, skipped_orders, skipped_interactions, changes
    )
    return StepOutput(
        edits=ids.edits,
        summary=summary,
        data={
            "checked": checked,
            "by_code": by_code,
            "assigned_ids": [{"row": r, "customer_id": i} for r, i in assigned],
            "highest_id": ids.highest,
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


def _customer_changes(
    records: Records, new_ids: dict[int, str], marks: Marks
) -> dict[int, dict[str, Any]]:
    """Each changed customer's new field values: its new ID, and the fields found
    unusable added to ``invalid`` (an email found unusable is no longer compared)."""
    out: dict[int, dict[str, Any]] = {i: {"customer_id": new_id} for i, new_id in new_ids.items()}
    customers = records.customers
    for i, fields in marks.items():
        c = customers[i]
        if fields <= c.invalid:
            continue
        change = out.setdefault(i, {})
        change["invalid"] = c.invalid | fields
        if "email" in fields and c.email_normalized:
            change["email_normalized"] = ""
    return out


def _invalid_changes(items: list[Any], marks: Marks) -> dict[int, dict[str, Any]]:
    """The fields found unusable added to each marked record's ``invalid``."""
    return {
        i: {"invalid": items[i].invalid | fields}
        for i, fields in marks.items()
        if not fields <= items[i].invalid
    }


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
