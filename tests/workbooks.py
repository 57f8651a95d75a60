"""Small workbooks for tests and benchmarks (benchmarks put this folder on ``sys.path``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import openpyxl


def customers_workbook(path: Path, rows: Iterable[Sequence[Any]] = (["Customer ID"],)) -> Path:
    """An ``.xlsx`` file with one tab, Customers, holding ``rows`` from A1 (made with
    openpyxl, as a starter workbook is)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Customers"
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path
