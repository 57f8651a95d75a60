"""Time the validation step on 100,000 customers and 1,000,000 orders.

The workbook is generated in memory (about 3% of rows carry a typical mistake) and
read into records once; the step is timed, then the pipeline's making of the records
the next step reads from the step's result (``steps.records_after``), and the record
building (which parses every cell, email and phone) is reported beside them.
Run: ``.venv/bin/python benchmarks/bench_validate.py [customers] [orders]``.
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import date, datetime, timedelta

from sheet_crm.config import load_settings
from sheet_crm.findings import FindingList
from sheet_crm.model import build_records
from sheet_crm.steps import Context, records_after
from sheet_crm.steps.validate import run
from sheet_crm.workbook import Workbook, build_table

FIRST = ["Ann", "Bob", "Cy", "Di", "Ed", "Flo", "Gus", "Hal", "Ida", "Jo", "Kim", "Liam", "Mia", "Noah"]
LAST = ["Lee", "Ray", "Ng", "McDonald", "O'Neil", "van der Berg", "Smith", "Jones", "Patel", "Khan"]
DOMAINS = ["gmail.com", "yahoo.co.uk", "outlook.com", "example.org", "shop.co.uk", "gmial.com"]


def workbook(n_customers: int, n_orders: int, seed: int = 7) -> Workbook:
    rnd = random.Random(seed)
    head = ["Customer ID", "First name", "Last name", "Email", "Phone", "Country", "Birthday",
            "Preferred channel", "Email opt-in", "SMS opt-in", "Referred by"]  # fmt: skip
    rows: list[list[object]] = [head]
    for i in range(1, n_customers + 1):
        bad = rnd.random() < 0.03
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        rows.append(
            [
                None if i % 50 == 0 else f"C-{i:06d}",
                first.upper() if bad else first,
                last,
                f"{first.lower()}.{last.lower().replace(' ', '').replace(chr(39), '')}{i}@{rnd.choice(DOMAINS)}"  # noqa: E501
                if not bad
                else f"{first}@",
                f"07{rnd.randint(400, 999)} {rnd.randint(100000, 999999)}" if not bad else "12345",
                rnd.choice(["GB", "UK", "United Kingdom", ""]),
                datetime(1950, 1, 1) + timedelta(days=rnd.randint(0, 20000)),
                rnd.choice(["email", "SMS", "phone", ""]),
                rnd.choice(["yes", "no", "y"]),
                rnd.choice(["yes", "no"]),
                f"C-{rnd.randint(1, n_customers):06d}" if rnd.random() < 0.05 else None,
            ]
        )
    orders: list[list[object]] = [["Order ID", "Customer", "Date", "Amount", "Product"]]
    start = datetime(2022, 1, 1)
    for j in range(1, n_orders + 1):
        bad = rnd.random() < 0.01
        orders.append(
            [
                j,
                f"C-{rnd.randint(1, n_customers + 100):06d}",
                start + timedelta(days=rnd.randint(0, 1700)) if not bad else "31/02/2024",
                round(rnd.uniform(-5, 400), 2) if not bad else "£1,234.50",
                "Widget",
            ]
        )
    findings = FindingList()
    tables = {
        "Customers": build_table("Customers", rows, findings=findings),
        "Orders": build_table("Orders", orders, findings=findings),
    }
    return Workbook(tables, source="bench", findings=findings)


def main(n_customers: int = 100_000, n_orders: int = 1_000_000) -> None:
    t0 = time.perf_counter()
    wb = workbook(n_customers, n_orders)
    t1 = time.perf_counter()
    findings = FindingList()
    settings, _ = load_settings(wb, environ={})
    records = build_records(wb, settings, findings)
    t2 = time.perf_counter()
    ctx = Context(wb, records, settings, date(2026, 11, 22), datetime(2026, 11, 22, 9), findings)
    c2 = time.process_time()
    out = run(ctx)
    t3, c3 = time.perf_counter(), time.process_time()
    records_after(records, out.result)
    t4, c4 = time.perf_counter(), time.process_time()
    print(f"generate workbook: {t1 - t0:6.2f} s")
    print(f"build records:     {t2 - t1:6.2f} s  (model.build_records, not this step)")
    print(f"validate step:     {t3 - t2:6.2f} s  for {n_customers:,} customers, {n_orders:,} orders")
    print(f"  of which CPU:    {c3 - c2:6.2f} s  (wall time minus waiting for other jobs' turn)")
    print(f"records after it:  {t4 - t3:6.2f} s  ({c4 - c3:.2f} s CPU; the pipeline applies its changes)")
    print(f"load average:      {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"findings: {len(findings):,}; IDs assigned: {out.counts['ids_assigned']:,}")
    for line in out.summary:
        print("  " + line)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
