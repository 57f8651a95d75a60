"""A full sync of a big shop on a Google Sheet, against the local Sheets/Drive test server.

Prints the requests made, bytes sent and received, and the time spent reading, computing
and writing. Google's own latency is not modelled (the server is in-process), so the time
is sheet-crm's and the test server's CPU; the request count and bytes are what Google
would see.

    .venv/bin/python benchmarks/bench_gsheets.py [--customers 10000] [--orders 100000]
"""

from __future__ import annotations

import argparse
import importlib
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

# The Sheets/Drive test server lives with the tests (it is not part of the installed package).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from sheets_server import SheetsServer

from sheet_crm import api
from sheet_crm.backends.gsheets import GoogleSheetsBackend
from sheet_crm.steps import STEPS

TODAY = date(2026, 11, 22)


def shop(customers: int, orders: int, seed: int = 7) -> dict[str, list[list[Any]]]:
    rng = random.Random(seed)
    first = ["Ann", "Bob", "Cy", "Dee", "Eve", "Fay", "Gus", "Hal", "Ida", "Joe"]
    last = ["Lee", "Ray", "Dunn", "Park", "Moss", "Hart", "Wren", "Cole"]
    cust: list[list[Any]] = [
        ["Customer ID", "First name", "Last name", "Email", "Phone", "City", "Customer since", "Email opt-in"]
    ]
    for i in range(1, customers + 1):
        f, la = rng.choice(first), rng.choice(last)
        cust.append(
            [
                f"C{i:05d}",
                f,
                la,
                f"{f.lower()}.{la.lower()}{i}@example.org",
                f"+44 7700 9{i % 100000:05d}",
                rng.choice(["Leeds", "York", "Hull", "Bath"]),
                TODAY - timedelta(days=rng.randint(30, 2000)),
                rng.random() < 0.7,
            ]
        )
    orde: list[list[Any]] = [["Order ID", "Customer", "Date", "Amount", "Product", "Quantity"]]
    for i in range(1, orders + 1):
        orde.append(
            [
                f"O{i:06d}",
                f"C{rng.randint(1, customers):05d}",
                TODAY - timedelta(days=rng.randint(1, 900)),
                round(rng.uniform(5, 400), 2),
                rng.choice(["Tea", "Coffee", "Mug", "Gift box"]),
                rng.randint(1, 4),
            ]
        )
    return {"Customers": cust, "Orders": orde}


def available_steps() -> list[str]:
    """Every step whose module exists yet (others are being written in parallel)."""
    out = []
    for name, target in STEPS.items():
        try:
            importlib.import_module(target.partition(":")[0])
        except ImportError:
            continue
        out.append(name)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=100_000)
    args = parser.parse_args()
    server = SheetsServer()
    sid = server.create("Big shop", shop(args.customers, args.orders))
    steps = available_steps()
    backend = GoogleSheetsBackend(sid, session=server.session())

    timings: dict[str, float] = {}
    original_read, original_write = backend.read, backend.write

    def timed_read() -> Any:
        t = time.perf_counter()
        try:
            return original_read()
        finally:
            timings["read"] = time.perf_counter() - t

    def timed_write(plan: Any, *, expected_version: str) -> Any:
        t = time.perf_counter()
        try:
            return original_write(plan, expected_version=expected_version)
        finally:
            timings["write"] = time.perf_counter() - t

    backend.read, backend.write = timed_read, timed_write  # type: ignore[method-assign]
    start = time.perf_counter()
    report = api.run(backend, steps, today=TODAY)
    total = time.perf_counter() - start
    received = sum(e.bytes_received for e in server.log)
    cells = sum(len(t.rows) * max(1, len(t.headers)) for t in report.plan.tabs)
    print(f"Google Sheets sync: {args.customers:,} customers, {args.orders:,} orders")
    print(f"steps: {', '.join(report.steps)}")
    print(
        f"tabs written: {', '.join(report.written.tabs_written if report.written else [])} ({cells:,} cells)"
    )
    print(f"requests: {len(server.log)}  ({', '.join(_kinds(server))})")
    print(f"bytes sent: {backend.bytes_sent:,}  bytes received: {received:,}")
    read, write = timings.get("read", 0.0), timings.get("write", 0.0)
    print(
        f"time: {total:.1f} s total = read {read:.1f} s + compute {total - read - write:.1f} s "
        f"+ write {write:.1f} s"
    )


def _kinds(server: SheetsServer) -> list[str]:
    out = []
    for e in server.log:
        path = e.url.split("?")[0]
        tail = path.rsplit("/", 1)[-1]
        kind = "drive.files.get" if "/drive/" in path else tail.split(":")[-1] if ":" in tail else "get"
        out.append(f"{e.method} {kind}")
    return out


if __name__ == "__main__":
    main()
