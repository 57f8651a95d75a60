"""The lock files Excel and LibreOffice keep beside an open workbook: one rule, used by the
xlsx backend (no write while one is there) and by `watch` (no sync while one is there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sheet_crm.lockfiles import lock_files
from sheet_crm.scheduling import Watcher, lock_files_for

NAME = "LoadPivotTables.xlsx"


@pytest.mark.parametrize(
    "lock_name",
    [f"~${NAME}", f".~lock.{NAME}#", "~$adPivotTables.xlsx"],  # the last: Excel's shortened name
)
def test_each_spelling_is_a_lock(tmp_path: Path, lock_name: str) -> None:
    workbook = tmp_path / NAME
    workbook.write_bytes(b"v1")
    assert lock_files(workbook) == lock_files_for(workbook) == []
    (tmp_path / lock_name).write_bytes(b"owner")
    assert lock_files(workbook) == lock_files_for(workbook) == [tmp_path / lock_name]


def test_another_workbooks_lock_is_not_this_ones(tmp_path: Path) -> None:
    (tmp_path / NAME).write_bytes(b"v1")
    (tmp_path / "~$Other.xlsx").write_bytes(b"owner")
    (tmp_path / ".~lock.Other.xlsx#").write_bytes(b"owner")
    assert lock_files(tmp_path / NAME) == []


def test_watch_waits_while_excel_holds_a_long_named_workbook(tmp_path: Path) -> None:
    """Excel names the lock of LoadPivotTables.xlsx ~$adPivotTables.xlsx: watch must not
    sync while it is there (it used to look only for ~$LoadPivotTables.xlsx)."""
    workbook = tmp_path / NAME
    workbook.write_bytes(b"v1")
    now = [0.0]
    runs: list[int] = []
    watcher = Watcher(workbook, lambda: runs.append(1), debounce=3, clock=lambda: now[0])
    watcher.start()
    workbook.write_bytes(b"v2, saved by Excel")
    lock = tmp_path / "~$adPivotTables.xlsx"
    lock.write_bytes(b"owner")
    assert not watcher.poll()  # change seen
    now[0] = 10
    assert not watcher.poll() and runs == []  # settled, but Excel still holds it
    lock.unlink()
    assert watcher.poll() and runs == [1]
