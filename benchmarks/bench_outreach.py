"""Outreach drafts for many customers: how long the step takes.

Prints figures; not a test. Run from the repository root::

    .venv/bin/python benchmarks/bench_outreach.py                  # 100,000 customers
    .venv/bin/python benchmarks/bench_outreach.py --customers 20000

The customers are generated (seeded): three orders each on average over three
years, an interaction for half of them, birthdays, consents, mixed preferred
channels and best times, 20% Platinum/Gold, one owner segment with a template for
10% of them, and the starter-style Templates tab (email and SMS rows, merge fields
with fallbacks). Records are built directly (the time to read a workbook is
measured by bench_io.py); the timed part is ``steps.outreach.run`` alone, as
`sheet-crm drafts` runs it after the other steps.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sheet_crm.config import Settings
from sheet_crm.findings import FindingList
from sheet_crm.model import Customer, Interaction, Order, Records
from sheet_crm.steps import Context
from sheet_crm.steps.outreach import run
from sheet_crm.steps.segments import Membership, SegmentDef, SegmentsResult
from sheet_crm.steps.tiers import CustomerValue, TiersResult
from sheet_crm.workbook import Workbook, build_table

TODAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 10, 30)
FIRST = ["Ann", "Bob", "Zoë", "Priya", "Tom", "", "Chloé", "Sam", "Li", "Oluwaseun"]
BEST = ["mornings", "after 5pm", "weekends", "Tue 2-4pm", "evenings", "lunchtime", "anytime", "", "whenever"]
CHANNELS = ["email", "sms", "phone", "letter", ""]
PRODUCTS = ["Mug", "Teapot", "Earl Grey", "Scarf", "Hamper", "Boots"]

TEMPLATES = [
    ["Name", "Channel", "Subject", "Body", "Offer"],
    [
        "Win back",
        "email",
        "We miss you at {{ business_name }}",
        'Hi {{ first_name | default("there") }},\n\nIt has been a while{% if last_order %} since your '
        "{{ last_order.product }}{% endif %}.\n\n{{ sender_name }}",
        None,
    ],
    [
        "Win back",
        "sms",
        None,
        'Hi {{ first_name | default("there") }}, we miss you! {{ business_name }}',
        None,
    ],
    [
        "Birthday",
        "email",
        "Happy birthday!",
        'Happy birthday {{ first_name | default("to you") }}!{% if preferences %} '
        "We know you like {{ preferences }}.{% endif %}",
        None,
    ],
    [
        "Birthday",
        "sms",
        None,
        'Happy birthday {{ first_name | default("to you") }}! {{ business_name }}',
        None,
    ],
    [
        "Autumn",
        "email",
        "Our {{ offer }}",
        'Hi {{ first_name | default("there") }}, our {{ offer }} is back in.',
        "Boots",
    ],
]


def generate(n: int, seed: int = 7) -> tuple[Records, TiersResult, SegmentsResult]:
    rnd = random.Random(seed)
    customers: list[Customer] = []
    orders: list[Order] = []
    interactions: list[Interaction] = []
    tiers: dict[str, CustomerValue] = {}
    members: dict[str, list[Membership]] = {}
    for i in range(n):
        cid = f"C-{i:06d}"
        first = rnd.choice(FIRST)
        customers.append(
            Customer(
                row=i + 2,
                customer_id=cid,
                first_name=first,
                last_name="Lee",
                email=f"{cid.lower()}@example.com",
                email_normalized=f"{cid.lower()}@example.com",
                phone="07400 123456",
                phone_e164="+447400123456",
                phone_type=rnd.choice(["mobile", "mobile", "landline"]),
                preferred_channel=rnd.choice(CHANNELS),
                best_time=rnd.choice(BEST),
                address="1 High St" if rnd.random() < 0.5 else "",
                city="Leeds",
                birthday=date(1960 + rnd.randrange(40), rnd.randrange(1, 13), rnd.randrange(1, 29))
                if rnd.random() < 0.7
                else None,
                email_opt_in=rnd.random() < 0.8,
                sms_opt_in=rnd.random() < 0.5,
                do_not_contact=rnd.random() < 0.03,
                preferences=["tea"] if rnd.random() < 0.3 else [],
            )
        )
        for _ in range(rnd.randrange(0, 7)):
            orders.append(
                Order(
                    row=len(orders) + 2,
                    order_id=f"O-{len(orders)}",
                    customer_ref=cid,
                    date=TODAY - timedelta(days=rnd.randrange(0, 1100)),
                    amount=rnd.randrange(5, 200),
                    product=rnd.choice(PRODUCTS),
                )
            )
        if rnd.random() < 0.5:
            interactions.append(
                Interaction(
                    row=len(interactions) + 2,
                    customer_ref=cid,
                    date=TODAY - timedelta(days=rnd.randrange(0, 200)),
                    direction=rnd.choice(["in", "out"]),
                    summary="Chat",
                    satisfaction=rnd.choice([None, 1, 3, 5]),
                    follow_up=TODAY - timedelta(days=rnd.randrange(-10, 10)) if rnd.random() < 0.1 else None,
                )
            )
        tiers[cid] = CustomerValue(cid, tier=rnd.choice(["Platinum", "Gold", "Silver", "Bronze", "Bronze"]))
        if rnd.random() < 0.1:
            members[cid] = [Membership("Autumn boots", "likes boots")]
    templates = build_table("Templates", TEMPLATES)
    records = Records(customers, orders, interactions, {"Templates": templates})
    segments = SegmentsResult.from_memberships([SegmentDef("Autumn boots", template="Autumn")], members)
    return records, TiersResult(tiers), segments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    records, tiers, segments = generate(args.customers)
    print(
        f"generated {len(records.customers):,} customers, {len(records.orders):,} orders, "
        f"{len(records.interactions):,} interactions in {time.perf_counter() - t0:.1f} s"
    )
    settings = Settings(business_name="Tea Shop", sender_name="Mia", sender_email="mia@teashop.example")
    best, best_cpu = float("inf"), float("inf")
    for _ in range(args.repeat):
        ctx = Context(Workbook({}), records, settings, TODAY, NOW, FindingList())
        ctx.results.update({"validate": None, "tiers": tiers, "segments": segments})
        t0, c0 = time.perf_counter(), time.process_time()
        out = run(ctx)
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    # CPU time too: on a shared machine the wall clock also counts other programs.
    print(f"outreach.run: best of {args.repeat}: {best:.2f} s wall, {best_cpu:.2f} s CPU")
    print(f"  load average when done: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("  " + "\n  ".join(out.summary))
    print(f"  counts: {out.counts}")
    print(f"  findings: {len(ctx.findings):,}")


if __name__ == "__main__":
    main()
