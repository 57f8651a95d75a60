"""Render the demo workbook's Dashboard to PNG through LibreOffice headless, to look at.

Run:  .venv/bin/python benchmarks/render_dashboard.py [--customers 1200] [--out DIR]

Makes the demo workbook, runs the tiers, segments and dashboard steps on it (dry run),
writes just the Dashboard tab (with its native charts) into a fresh workbook through the
xlsx backend, converts that to PDF with LibreOffice (each sheet on one page) and the
pages to PNG with ``pdftoppm`` (poppler-utils), and prints the PNG paths. Not a timing: the issue asks for
the Dashboard to be rendered and looked at, and this is the way to do it again.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path

# customers_workbook lives with the tests (it is not part of the installed package).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from workbooks import customers_workbook

from sheet_crm import api
from sheet_crm.backends.xlsx import XlsxBackend
from sheet_crm.demo import write_demo
from sheet_crm.workbook import WritePlan

TODAY = date(2026, 11, 22)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1200)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "sheet-crm-dashboard")
    args = parser.parse_args()
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None or shutil.which("pdftoppm") is None:
        raise SystemExit("Needs LibreOffice (soffice) and pdftoppm (poppler-utils); .ci/run installs both.")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("dashboard*"):
        old.unlink()
    demo = write_demo(out / "demo.xlsx", customers=args.customers, today=TODAY)
    report = api.run(demo, ["dashboard"], today=TODAY, now=datetime(2026, 11, 22, 9), dry_run=True)
    dashboard = next(tab for tab in report.outputs["dashboard"].tabs if tab.name == "Dashboard")

    path = customers_workbook(out / "dashboard.xlsx")
    backend = XlsxBackend(path)
    plan = WritePlan(tabs=[dashboard], generated_at=report.started)
    backend.write(plan, expected_version=backend.read().version)

    profile = out / "lo-profile"
    subprocess.run(
        [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         "--convert-to", 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}',
         "--outdir", str(out), str(path)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", str(out / "dashboard.pdf"), str(out / "dashboard")],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    pages = sorted(out.glob("dashboard-*.png"))
    print(f"Dashboard of the {args.customers:,}-customer demo, {len(pages)} page(s):")
    for page in pages:
        print(f"  {page}")


if __name__ == "__main__":
    main()
