"""Every benchmark script still runs, at a tiny size.

The benchmarks are not timed here (speed targets live in ``benchmarks/``, never in
tests); this only catches a script broken by a change elsewhere, as an interface
change once broke ``bench_outreach.py`` unnoticed until the next measurement."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, shared_path, soffice_path

RUNS = {
    "bench_segments.py": (
        ["--customers", "300", "--orders", "3000", "--interactions", "600"],
        "tiers + segments",
    ),
    "bench_tiers.py": (["--customers", "300", "--orders", "3000"], "CDNOW master"),
    "bench_validate.py": (["300", "3000"], "validate step:"),
    "bench_outreach.py": (["--customers", "300", "--repeat", "1"], "drafts"),
    "bench_dedupe.py": (["--scale", "300"], "F1"),
    "bench_sync.py": (["--sizes", "200", "--backends", "xlsx,gsheets"], "gsheets"),
    "bench_gsheets.py": (["--customers", "100", "--orders", "500"], "requests"),
    "bench_io.py": (["--sizes", "200"], "200"),
    "soak_sync.py": (["--runs", "3", "--customers", "30"], "3"),
}


def test_render_dashboard_draws_the_charts(tmp_path: Path) -> None:
    """The script that renders the Dashboard to PNG for a person to look at runs, and
    the page it draws carries the charts (their titles are in LibreOffice's PDF)."""
    soffice_path()
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        pytest.skip("pdftoppm / pdftotext (poppler-utils) are not installed")
    script = ROOT / "benchmarks" / "render_dashboard.py"
    done = subprocess.run(
        [sys.executable, str(script), "--customers", "150", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    pages = sorted(tmp_path.glob("dashboard-*.png"))
    assert pages and all(str(p) in done.stdout for p in pages)
    assert max(p.stat().st_size for p in pages) > 20_000  # a drawn page, not a blank one
    pdf = tmp_path / "dashboard.pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    for title in ("Pareto: share of revenue from the top", "Customers per tier", "Revenue by month"):
        assert title in text


@pytest.mark.parametrize("script", sorted(RUNS))
def test_benchmark_script_runs(script: str) -> None:
    args, expected = RUNS[script]
    if script == "bench_tiers.py":
        shared_path("datasets", "cdnow")  # its second half fits the CDNOW master file
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert expected in done.stdout, done.stdout[-2000:]
