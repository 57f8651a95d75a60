"""The lock files spreadsheet programs keep beside a workbook they have open: the xlsx
backend refuses to write while one is there, and ``watch`` waits for it to go."""

from __future__ import annotations

from pathlib import Path


def lock_files(path: Path) -> list[Path]:
    """The lock files beside ``path`` now: Excel's ``~$name`` and LibreOffice's
    ``.~lock.name#``. Excel shortens a long name by dropping its first two characters
    (``~$adPivotTables.xlsx`` beside ``LoadPivotTables.xlsx``), so both spellings count."""
    candidates = [path.parent / f"~${path.name}", path.parent / f".~lock.{path.name}#"]
    if len(path.name) > 2:
        candidates.append(path.parent / f"~${path.name[2:]}")
    return [c for c in candidates if c.exists()]
