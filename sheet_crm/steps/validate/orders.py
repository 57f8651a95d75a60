"""Validation of the Orders and Interactions tabs.

The model read every cell and kept its problems; here they become findings, and the
checks that need more are made: an order needs a customer who exists, a date that
is not in the future and an amount; an interaction counts as a contact only with a
date and a known customer. What later steps must skip is returned as fields by the
record's index (``Marks``); the rows left out are listed for the summary.
"""

from __future__ import annotations

from datetime import date

from ...findings import Location
from ...model import Interaction, Problem, Records, problems_of
from ...workbook import Table
from .report import Cells, Marks, Reporter, has_kind, shown_number

ORDER_NEEDS = frozenset({"date", "amount", "customer_ref"})
INTERACTION_NEEDS = frozenset({"date", "customer_ref"})


def check_orders(rep: Reporter, records: Records, today: date, marks: Marks) -> list[int]:
    """Check every order; the sheet rows of those left out of tiers and segments.

    A million orders pass through here, so the loop keeps to a fast path (local
    names, problems looked at only for the few orders that have some, no finding
    built unless there is one); the checks themselves are the same for every order."""
    table = records.tables.get("Orders")
    orders = records.orders
    if table is None or not orders:
        return []
    skipped: list[int] = []
    add, location = rep.add, table.location
    cells = Cells(table)
    check_ids = table.has("order_id")
    first_row: dict[str, int] = {}
    if check_ids:
        # Repeated order IDs are rare: one look at all IDs first, and only when some
        # repeat does each order remember its own (a million dict entries otherwise).
        ids = [o.order_id for o in orders if o.order_id]
        check_ids = len(set(ids)) != len(ids)
    has_quantity = table.has("quantity")
    for i, o in enumerate(orders):
        number = o.row
        cid = o.customer_id
        problems = o.problems
        added: set[str] | None = None
        if not cid or not o.customer_ref:
            added = {"customer_ref"}
            if not o.customer_ref:
                if not problems or not has_kind(problems_of(o, "customer_ref"), "formula"):
                    add("order-no-customer", location(number, "customer"))
            else:
                add(
                    "order-unknown-customer",
                    location(number, "customer"),
                    value=cells.get(i, number, "customer"),
                )
        d = o.date
        if d is None:
            found = problems_of(o, "date")
            if not found:
                added = {"date"} if added is None else added | {"date"}
                add("order-date-missing", location(number, "date"), customer_id=cid)
            else:
                rep.date_problems(table, number, "date", found, cells.get(i, number, "date"), d, cid)
        else:
            if problems:
                found = problems_of(o, "date")
                if found:
                    rep.date_problems(table, number, "date", found, cells.get(i, number, "date"), d, cid)
            if d > today:
                added = {"date"} if added is None else added | {"date"}
                add(
                    "order-future",
                    location(number, "date"),
                    value=cells.get(i, number, "date"),
                    suggestion=d,
                    customer_id=cid,
                )
        amount = o.amount
        if amount is None:
            found = problems_of(o, "amount")
            if not found:
                added = {"amount"} if added is None else added | {"amount"}
                add("amount-missing", location(number, "amount"), customer_id=cid)
            else:
                _amount_problem(rep, table, number, found[0], cells.get(i, number, "amount"), cid)
        else:
            if problems and has_kind(problems_of(o, "amount"), "as-text"):
                add(
                    "amount-as-text",
                    location(number, "amount"),
                    value=cells.get(i, number, "amount"),
                    suggestion=amount,
                    customer_id=cid,
                )
            if amount < 0:
                add(
                    "amount-negative",
                    location(number, "amount"),
                    value=cells.get(i, number, "amount"),
                    suggestion=amount,
                    customer_id=cid,
                )
        if problems and has_quantity and o.quantity is None:
            for p in problems_of(o, "quantity"):
                raw = cells.get(i, number, "quantity")
                if p.kind == "impossible":
                    add(
                        "quantity-impossible",
                        location(number, "quantity"),
                        value=raw,
                        shown=shown_number(raw),
                        customer_id=cid,
                    )
                elif p.kind == "unreadable":
                    add("quantity-invalid", location(number, "quantity"), value=raw, customer_id=cid)
        if check_ids and o.order_id:
            first = first_row.setdefault(o.order_id, number)
            if first != number:
                add(
                    "order-id-duplicate",
                    location(number, "order_id"),
                    value=cells.get(i, number, "order_id"),
                    other_row=first,
                    customer_id=cid,
                )
        if added is not None:
            marks[i] = added
            skipped.append(number)
        elif o.invalid and not o.invalid.isdisjoint(ORDER_NEEDS):
            skipped.append(number)
    return skipped


def _amount_problem(rep: Reporter, table: Table, number: int, p: Problem, raw: object, cid: str) -> None:
    if p.kind == "impossible":
        rep.add(
            "amount-impossible",
            table.location(number, "amount"),
            value=raw,
            shown=shown_number(raw),
            customer_id=cid,
        )
    elif p.kind == "unreadable":
        rep.add("amount-invalid", table.location(number, "amount"), value=raw, customer_id=cid)


def check_interactions(rep: Reporter, records: Records, today: date, marks: Marks) -> list[int]:
    """Check every interaction; the sheet rows of those that do not count as a contact."""
    table = records.tables.get("Interactions")
    if table is None or not table.headers:
        return []
    for fieldname, header in (("customer", "Customer"), ("date", "Date")):
        if not table.has(fieldname):
            rep.add("interactions-column-missing", Location(table.name, table.header_row), column=header)
            return [r.row for r in records.interactions]
    cells = Cells(table)
    has_follow_up = table.has("follow_up")
    skipped = []
    for i, it in enumerate(records.interactions):
        added = _interaction(rep, table, cells, i, it, today, has_follow_up)
        if added:
            marks[i] = added
        if not INTERACTION_NEEDS.isdisjoint(it.invalid | added):
            skipped.append(it.row)
    return skipped


def _interaction(
    rep: Reporter, table: Table, cells: Cells, i: int, it: Interaction, today: date, has_follow_up: bool
) -> set[str]:
    add, number, cid = rep.add, it.row, it.customer_id
    added: set[str] = set()
    if not it.customer_ref:
        added.add("customer_ref")
        if not has_kind(problems_of(it, "customer_ref"), "formula"):
            add("interaction-no-customer", table.location(number, "customer"))
    elif not cid:
        added.add("customer_ref")
        add(
            "interaction-unknown-customer",
            table.location(number, "customer"),
            value=cells.get(i, number, "customer"),
        )
    found = problems_of(it, "date")
    if it.date is None and not found:
        added.add("date")
        add("interaction-date-missing", table.location(number, "date"), customer_id=cid)
    elif found:
        rep.date_problems(table, number, "date", found, cells.get(i, number, "date"), it.date, cid)
    if it.date is not None and it.date > today:
        add(
            "interaction-future",
            table.location(number, "date"),
            value=cells.get(i, number, "date"),
            suggestion=it.date,
            customer_id=cid,
        )
    if has_follow_up:
        found = problems_of(it, "follow_up")
        if found:
            raw = cells.get(i, number, "follow_up")
            rep.date_problems(table, number, "follow_up", found, raw, it.follow_up, cid)
    for p in problems_of(it, "satisfaction"):
        raw = cells.get(i, number, "satisfaction")
        if p.kind == "unreadable":
            add("satisfaction-invalid", table.location(number, "satisfaction"), value=raw, customer_id=cid)
        elif p.kind == "out-of-range":
            add(
                "satisfaction-out-of-range",
                table.location(number, "satisfaction"),
                value=raw,
                shown=shown_number(raw),
                customer_id=cid,
            )
    return added
