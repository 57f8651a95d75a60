"""Run the command line in a child process and measure it as a whole: exit code, output,
wall time and the child's own peak memory (``os.wait4`` gives the rusage of that one
child, not of every child the test process ever had).

The hostile-input tables use it: a file that would hang the reader or eat the machine
must be refused by a real process within a time and memory bound.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

TIME_LIMIT = 10.0  # seconds a hostile input may take before the child is killed
MEMORY_LIMIT_MB = 500.0  # peak resident memory a hostile input may cost


@dataclass(frozen=True)
class ChildResult:
    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float
    killed: bool  # ran past the time limit and was stopped

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def describe(self) -> str:
        """What a failing assertion should show."""
        tail = self.output[-1500:]
        return (
            f"sheet-crm {' '.join(self.args)} -> exit {self.exit_code}, {self.seconds:.2f} s, "
            f"{self.peak_mb:.0f} MB{' (killed at the time limit)' if self.killed else ''}\n{tail}"
        )


def run_cli(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    timeout: float = TIME_LIMIT,
    env: Mapping[str, str] | None = None,
) -> ChildResult:
    """``sheet-crm ARGS`` in a fresh Python process; killed after ``timeout`` seconds."""
    child_env = {**os.environ, **(env or {})}
    child_env.setdefault("SHEET_CRM_LOG_DIR", tempfile.gettempdir())
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "sheet_crm", *args], stdout=out, stderr=err, cwd=cwd, env=child_env
        )
        killed = threading.Event()

        def stop() -> None:
            killed.set()
            proc.kill()

        timer = threading.Timer(timeout, stop)
        timer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped: Popen must not wait
        out.seek(0)
        err.seek(0)
        return ChildResult(
            tuple(args),
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            seconds,
            usage.ru_maxrss / 1024,  # kilobytes on Linux
            killed.is_set(),
        )


def assert_bounded(result: ChildResult) -> None:
    """Refused or handled in time, within memory, with a message and never a traceback."""
    assert not result.killed, result.describe()
    assert result.seconds < TIME_LIMIT, result.describe()
    assert result.peak_mb < MEMORY_LIMIT_MB, result.describe()
    assert "Traceback" not in result.output, result.describe()
    assert "unexpected problem" not in result.output, result.describe()
