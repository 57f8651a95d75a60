"""I/O benchmark of the xlsx backend against python-calamine and openpyxl.

For each size, generates a workbook with N customers and 10 orders each (shared strings,
date styles: the shape Excel saves), then times, each in a fresh subprocess so the peak
memory figure is that job's alone:

* sheet-crm read (``XlsxBackend.read``: every tab, cached values, tables built);
* sheet-crm write of a Tiers tool tab with one row per customer (the whole safety
  protocol: fingerprint check, temp file, verify, backup, atomic replace);
* python-calamine reading every sheet to Python values;
* openpyxl ``load_workbook`` + ``save`` (what the backend refuses to do to an owner's file).

Usage::

    python benchmarks/bench_io.py                    # 1k, 10k, 100k customers
    python benchmarks/bench_io.py --sizes 1000,10000 # a quick run
    python benchmarks/bench_io.py --openpyxl-max 10000
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import zipfile
from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
FIRST = ["Ann", "Bob", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jo", "Kai", "Lea", "Max", "Noor"]
LAST = ["Lee", "Ray", "Smith", "Okafor", "Novak", "Garcia", "Chen", "Müller", "Rossi", "Dubois", "Kowalski"]
CITIES = ["Leeds", "York", "Bath", "Derby", "Ely", "Wells", "Truro", "Perth", "Lisburn", "Bangor"]
PRODUCTS = ["Tea", "Coffee", "Cake", "Scone", "Gift card", "Mug", "Beans 1kg", "Class", "Room", "Breakfast"]


def col(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


class SharedStrings:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.count = 0

    def __call__(self, text: str) -> int:
        self.count += 1
        i = self.index.get(text)
        if i is None:
            i = self.index[text] = len(self.index)
        return i

    def xml(self) -> bytes:
        items = "".join(f"<si><t>{escape(s)}</t></si>" for s in self.index)
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{self.count}" uniqueCount="{len(self.index)}">{items}</sst>'
        ).encode()


def sheet_xml(rows: list[list[object]], sst: SharedStrings) -> bytes:
    """Cells as Excel writes them: strings shared, dates as serials with style 1."""
    out = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetData>'
    ]
    epoch = date(1899, 12, 30)
    letters = [col(i) for i in range(1, 30)]
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, v in enumerate(row):
            ref = f"{letters[c]}{r}"
            if isinstance(v, str):
                cells.append(f'<c r="{ref}" t="s"><v>{sst(v)}</v></c>')
            elif isinstance(v, date):
                cells.append(f'<c r="{ref}" s="1"><v>{(v - epoch).days}</v></c>')
            elif isinstance(v, bool):
                cells.append(f'<c r="{ref}" t="b"><v>{int(v)}</v></c>')
            else:
                cells.append(f'<c r="{ref}"><v>{v}</v></c>')
        out.append(f'<row r="{r}">{"".join(cells)}</row>')
    out.append("</sheetData></worksheet>")
    return "".join(out).encode()


def generate(path: Path, customers: int, seed: int = 7) -> None:
    """A workbook with Customers (N rows) and Orders (10 N rows)."""
    rnd = random.Random(seed)
    sst = SharedStrings()
    start = date(2023, 1, 1)
    cust: list[list[object]] = [
        ["Customer ID", "First name", "Last name", "Email", "Phone", "City", "Customer since", "Email opt-in"]
    ]
    for i in range(1, customers + 1):
        first, last = rnd.choice(FIRST), rnd.choice(LAST)
        cust.append(
            [
                f"C{i:06d}",
                first,
                last,
                f"{first.lower()}.{last.lower()}{i}@example.com",
                f"+44 7700 {rnd.randrange(100000, 999999)}",
                rnd.choice(CITIES),
                start + timedelta(days=rnd.randrange(0, 1000)),
                rnd.random() < 0.7,
            ]
        )
    orders: list[list[object]] = [["Order ID", "Customer", "Date", "Amount", "Product", "Quantity"]]
    n = 0
    for i in range(1, customers + 1):
        for _ in range(10):
            n += 1
            orders.append(
                [
                    f"O{n:08d}",
                    f"C{i:06d}",
                    start + timedelta(days=rnd.randrange(0, 1400)),
                    round(rnd.lognormvariate(3, 0.8), 2),
                    rnd.choice(PRODUCTS),
                    rnd.randrange(1, 5),
                ]
            )
    ns = "http://schemas.openxmlformats.org"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Types xmlns="{ns}/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/worksheets/sheet2.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            "</Types>"
        ).encode(),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{ns}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ).encode(),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{ns}/spreadsheetml/2006/main" '
            f'xmlns:r="{ns}/officeDocument/2006/relationships">'
            '<sheets><sheet name="Customers" sheetId="1" r:id="rId1"/>'
            '<sheet name="Orders" sheetId="2" r:id="rId2"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{ns}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{ns}/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet2.xml"/>'
            f'<Relationship Id="rId3" Type="{ns}/officeDocument/2006/relationships/styles" '
            'Target="styles.xml"/>'
            f'<Relationship Id="rId4" Type="{ns}/officeDocument/2006/relationships/sharedStrings" '
            'Target="sharedStrings.xml"/></Relationships>'
        ).encode(),
        "xl/styles.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<styleSheet xmlns="{ns}/spreadsheetml/2006/main">'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>"
        ).encode(),
    }
    parts["xl/worksheets/sheet1.xml"] = sheet_xml(cust, sst)
    parts["xl/worksheets/sheet2.xml"] = sheet_xml(orders, sst)
    parts["xl/sharedStrings.xml"] = sst.xml()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


# ---------------------------------------------------------------- jobs (run in subprocesses)

# Peak memory of the job: VmHWM (this process image only). ru_maxrss is not used because
# Linux carries it over from the parent across fork + exec, so it would report the
# generator's memory instead of the job's.
PEAK_PRELUDE = """
import resource
def PEAK():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

JOB_SHEET_CRM = """
import json, resource, sys, time
from datetime import datetime
from pathlib import Path
from sheet_crm.backends.xlsx import XlsxBackend
from sheet_crm.workbook import ToolTab, WritePlan
path = Path(sys.argv[1])
backend = XlsxBackend(path)
t0 = time.perf_counter()
workbook = backend.read()
t1 = time.perf_counter()
customers = workbook.find("Customers")
rows = [[r.values[0], ("Gold", "Silver", "Bronze")[i % 3], float(i % 977), 10, r.values[6],
         "in the top 20% of spend"] for i, r in enumerate(customers.rows)]
tab = ToolTab("Tiers", ["Customer ID", "Tier", "Spend", "Orders", "Since", "Why"], rows)
t2 = time.perf_counter()
plan = WritePlan(tabs=[tab], generated_at=datetime(2026, 11, 22, 9, 0))
backend.write(plan, expected_version=workbook.version)
t3 = time.perf_counter()
peak = PEAK()
rows_read = sum(len(t.rows) for t in workbook.tables.values())
print(json.dumps({"read": t1 - t0, "write": t3 - t2, "rows": rows_read, "maxrss_mb": peak}))
"""

JOB_CALAMINE = """
import json, resource, sys, time
from python_calamine import CalamineWorkbook
t0 = time.perf_counter()
wb = CalamineWorkbook.from_path(sys.argv[1])
n = sum(len(wb.get_sheet_by_name(name).to_python()) for name in wb.sheet_names)
t1 = time.perf_counter()
peak = PEAK()
print(json.dumps({"read": t1 - t0, "rows": n, "maxrss_mb": peak}))
"""

JOB_OPENPYXL = """
import json, resource, sys, time
import openpyxl
t0 = time.perf_counter()
wb = openpyxl.load_workbook(sys.argv[1])
t1 = time.perf_counter()
wb.save(sys.argv[1] + ".openpyxl.xlsx")
t2 = time.perf_counter()
print(json.dumps({"load": t1 - t0, "save": t2 - t1,
                  "maxrss_mb": PEAK()}))
"""


def run_job(code: str, path: Path, timeout: float) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", PEAK_PRELUDE + code, str(path)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000", help="customer counts, comma-separated")
    parser.add_argument(
        "--openpyxl-max",
        type=int,
        default=100000,
        help="skip openpyxl above this many customers (it is slow)",
    )
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    header = (
        f"{'customers':>10} {'rows':>9} {'MB':>6} | "
        f"{'read s':>7} {'write s':>7} {'r+w s':>7} {'peak MB':>8} | "
        f"{'calamine s':>10} {'ratio':>6} | {'openpyxl load+save s':>21} {'peak MB':>8}"
    )
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"crm-{n}.xlsx"
            generate(path, n)
            size_mb = path.stat().st_size / 1e6
            cal = run_job(JOB_CALAMINE, path, args.timeout)
            ours = run_job(JOB_SHEET_CRM, path, args.timeout)
            total = ours["read"] + ours["write"]
            if n <= args.openpyxl_max:
                opx = run_job(JOB_OPENPYXL, path, args.timeout)
                opx_text = f"{opx['load'] + opx['save']:>21.2f} {opx['maxrss_mb']:>8.0f}"
            else:
                opx_text = f"{'(skipped)':>21} {'':>8}"
            print(
                f"{n:>10,} {int(ours['rows']):>9,} {size_mb:>6.1f} | "
                f"{ours['read']:>7.2f} {ours['write']:>7.2f} {total:>7.2f} {ours['maxrss_mb']:>8.0f} | "
                f"{cal['read']:>10.2f} {total / cal['read']:>6.2f} | "
                f"{opx_text}",
                flush=True,
            )
    print("ratio = (sheet-crm read + write) / calamine read; target <= 2.0 at 100k customers, peak < 1024 MB")


if __name__ == "__main__":
    main()
