"""Full sync of a demo workbook at several sizes, on xlsx and on the local Google
Sheets test server: time, peak memory and requests, compared in the same run with
the time just to read the workbook.

    .venv/bin/python benchmarks/bench_sync.py [--sizes 10000,100000] [--backends xlsx,gsheets]

Each case runs in its own child process so that its peak memory (ru_maxrss) is its
own. The workbook is the demo generator's (realistic mistakes, about two orders per
customer); the Google case loads the same cells into the in-process test server, so
the figures exclude Google's network latency but count the requests Google would see.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

TODAY = date(2026, 11, 22)


def child(backend_kind: str, path: str) -> dict[str, Any]:
    from sheet_crm import api
    from sheet_crm.backends.xlsx import XlsxBackend

    xlsx = XlsxBackend(Path(path))
    requests = 0
    if backend_kind == "gsheets":
        from sheet_crm.backends.gsheets import GoogleSheetsBackend

        # the Sheets/Drive test server lives with the tests, outside the installed package
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from sheets_server import SheetsServer

        wb = xlsx.read()
        grids = {name: _grid(t) for name, t in wb.tables.items()}
        server = SheetsServer()
        sid = server.create("Bench", grids)

        def backend() -> Any:
            return GoogleSheetsBackend(sid, session=server.session())
    else:

        def backend() -> Any:
            return XlsxBackend(Path(path))

    t = time.perf_counter()
    b = backend()
    b.read()
    read_s = time.perf_counter() - t
    before = len(server.log) if backend_kind == "gsheets" else 0
    t = time.perf_counter()
    report = api.run(backend(), api.COMMAND_STEPS["sync"], today=TODAY, command="bench", force=True)
    sync_s = time.perf_counter() - t
    if backend_kind == "gsheets":
        requests = len(server.log) - before
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "read_s": read_s,
        "sync_s": sync_s,
        "peak_mb": peak_kb / 1024,
        "requests": requests,
        "customers": len(report.records.customers) if report.records else 0,
        "orders": len(report.records.orders) if report.records else 0,
        "tabs": len(report.written.tabs_written) if report.written else 0,
    }


def _grid(table: Any) -> list[list[Any]]:
    """A table back to a grid starting at row 1 (headers first)."""
    rows: list[list[Any]] = [[None]] * (table.header_row - 1) + [list(table.headers)]
    for r in table.rows:
        while len(rows) < r.number - 1:
            rows.append([])
        rows.append(list(r.values))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--backends", default="xlsx,gsheets")
    parser.add_argument("--child", nargs=2, metavar=("BACKEND", "PATH"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    from sheet_crm.demo import write_demo

    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"{'customers':>10} {'orders':>8} {'backend':>8} {'read s':>7} {'sync s':>7} "
        f"{'sync/read':>9} {'peak MB':>8} {'requests':>8}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"demo-{size}.xlsx"
            t = time.perf_counter()
            write_demo(path, customers=size, seed=7, today=TODAY)
            gen = time.perf_counter() - t
            for kind in args.backends.split(","):
                copy = Path(tmp) / f"run-{kind}-{size}.xlsx"
                copy.write_bytes(path.read_bytes())
                out = subprocess.run(
                    [sys.executable, __file__, "--child", kind, str(copy)],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if out.returncode != 0:
                    print(f"{size:>10} {kind:>8} FAILED: {out.stderr.strip().splitlines()[-1:]}")
                    continue
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(
                    f"{r['customers']:>10,} {r['orders']:>8,} {kind:>8} {r['read_s']:>7.2f} "
                    f"{r['sync_s']:>7.2f} {r['sync_s'] / r['read_s']:>9.1f} {r['peak_mb']:>8.0f} "
                    f"{r['requests'] or '-':>8}"
                )
            print(f"{'':>10} (generating the {size:,}-customer demo took {gen:.1f} s)")


if __name__ == "__main__":
    main()
