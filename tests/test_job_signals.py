"""A job stopped by SIGTERM at any moment leaves the workbook as it was or fully
written: never half-written, never a temp file left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import TODAY

from sheet_crm.backends.xlsx import XlsxBackend
from sheet_crm.demo import write_demo


@pytest.fixture(scope="module")
def demo_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("demo") / "demo.xlsx"
    write_demo(path, customers=300, seed=5, today=TODAY)
    return path.read_bytes()


@pytest.mark.parametrize("delay", [0.2, 0.8, 1.5, 2.5, 4.0])
def test_sigterm_mid_job_leaves_old_or_new_workbook(tmp_path: Path, demo_bytes: bytes, delay: float) -> None:
    wb = tmp_path / "crm.xlsx"
    wb.write_bytes(demo_bytes)
    job = tmp_path / "job.toml"
    job.write_text(f'workbook = "{wb.name}"\nsteps = ["sync"]\nevery = "hour"\n')
    env = {**os.environ, "SHEET_CRM_LOG_DIR": str(tmp_path / "logs")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sheet_crm", "run-job", str(job), "--today", TODAY.isoformat()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=120)
    assert "Traceback" not in err
    after = wb.read_bytes()
    if after != demo_bytes:  # then it must be the complete new workbook
        assert zipfile.ZipFile(wb).testzip() is None
        tabs = XlsxBackend(wb).read().tables
        assert {"Issues", "Tiers", "Duplicates", "Outreach", "Runs"} <= set(tabs)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp") or p.name.startswith("~$")]
    assert leftovers == []
    assert not (tmp_path / f".{wb.name}.sheet-crm.lock").exists()  # the job lock is released too


def test_a_sigterm_that_lands_in_a_finaliser_still_stops_the_run() -> None:
    """Python drops an exception raised in ``__del__`` ("Exception ignored ..."), so a
    stop that lands there would be lost and the job would run on: it is sent again."""
    code = (
        "import os, signal, time\n"
        "from sheet_crm import api\n"
        "api.stop_on_sigterm()\n"
        "class Finalised:\n"
        "    def __del__(self):\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n"
        "        sum(range(100_000))  # the handler runs here, inside __del__\n"
        "try:\n"
        "    Finalised()\n"
        "    time.sleep(5)\n"
        "    print('ran on')\n"
        "except KeyboardInterrupt:\n"
        "    print('stopped')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "stopped", done.stderr
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr
