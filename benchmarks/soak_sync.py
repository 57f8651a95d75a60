"""Soak: many consecutive syncs of the demo workbook while another process edits the
owner tabs between runs, the way an owner's spreadsheet program would (a lock file
beside the workbook while it has it open, then a full re-save with openpyxl).

    .venv/bin/python benchmarks/soak_sync.py [--runs 500] [--customers 200]

Checks after every run: the file opens and reads; every edit the other process says
it saved is still there (no owner edit lost). Prints refusals (workbook open or
changed: sheet-crm must step back, never overwrite) and memory every 50 runs, which
must not grow.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

TODAY = date(2026, 11, 22)

EDITOR = r"""
import json, os, random, sys
from pathlib import Path
import openpyxl
path = Path(sys.argv[1])
rng = random.Random(1)
lock = path.parent / ("~$" + path.name)
for n, _line in enumerate(sys.stdin, 1):          # one edit each time the soak asks
    lock.write_text("editor")                     # as Excel does while the file is open
    try:
        wb = openpyxl.load_workbook(path)
        ws = wb["Customers"]
        header = [c.value for c in ws[1]]
        col = header.index("Notes") + 1
        row = 2 + rng.randrange(ws.max_row - 1)
        value = f"edit {n}"
        ws.cell(row=row, column=col, value=value)
        tmp = path.with_suffix(".editor.xlsx")
        wb.save(tmp)
        os.replace(tmp, path)
    finally:
        lock.unlink()
    print(json.dumps([row, col, value]), flush=True)
"""


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--customers", type=int, default=200)
    args = parser.parse_args()

    from sheet_crm import api
    from sheet_crm.backends.xlsx import XlsxBackend
    from sheet_crm.demo import write_demo
    from sheet_crm.errors import WorkbookChanged, WorkbookLocked

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "soak.xlsx"
        write_demo(path, customers=args.customers, seed=3, today=TODAY)
        editor = subprocess.Popen(
            [sys.executable, "-c", EDITOR, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        latest: dict[tuple[int, int], str] = {}
        edits = 0
        done = refused_locked = refused_changed = unchanged = 0
        lost: list[str] = []
        memory: list[tuple[int, float]] = []
        t0 = time.perf_counter()
        try:
            while done < args.runs:
                try:
                    report = api.run(str(path), api.COMMAND_STEPS["sync"], today=TODAY, incremental=True)
                except WorkbookLocked:
                    refused_locked += 1
                    time.sleep(0.05)
                    continue
                except WorkbookChanged:
                    refused_changed += 1
                    continue
                done += 1
                unchanged += report.unchanged
                # Every edit the other process saved must still be in the file.
                while (path.parent / f"~${path.name}").exists():
                    time.sleep(0.01)
                wb = XlsxBackend(path).read()
                customers = wb.find("Customers")
                assert customers is not None, "Customers tab lost"
                cells = {
                    (r.number, customers.fields["notes"] + 1): r.get(customers.fields["notes"])
                    for r in customers.rows
                }
                for cell, value in latest.items():
                    if cells.get(cell) != value:
                        found = cells.get(cell)
                        lost.append(f"run {done}: row {cell[0]} expected {value!r}, found {found!r}")
                # Between runs, the other process edits an owner cell and saves.
                assert editor.stdin is not None and editor.stdout is not None
                editor.stdin.write("edit\n")
                editor.stdin.flush()
                row, col, value = json.loads(editor.stdout.readline())
                latest[(row, col)] = value
                edits += 1
                if done % 50 == 0 or done == 1:
                    gc.collect()
                    memory.append((done, rss_mb()))
                    print(
                        f"run {done:>4}: {time.perf_counter() - t0:6.1f} s, rss {memory[-1][1]:.0f} MB, "
                        f"edits so far {len(latest)}, refused (open {refused_locked}, "
                        f"changed {refused_changed}), lost {len(lost)}",
                        flush=True,
                    )
        finally:
            if editor.stdin:
                editor.stdin.close()
            editor.wait(timeout=30)
        print(f"\n{done} syncs in {time.perf_counter() - t0:.0f} s; the editor saved {edits} edits.")
        print(
            f"refused while open in the 'spreadsheet program': {refused_locked}; "
            f"refused because the file changed mid-run: {refused_changed}; incremental no-ops: {unchanged}"
        )
        print(f"owner edits lost: {len(lost)}" + (f" (first: {lost[0]})" if lost else ""))
        growth = memory[-1][1] - memory[1][1] if len(memory) > 2 else 0.0
        print(
            f"memory from run {memory[1][0] if len(memory) > 1 else 1} to {memory[-1][0]}: "
            f"{growth:+.0f} MB (peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)"
        )
        sys.exit(1 if lost else 0)


if __name__ == "__main__":
    main()
