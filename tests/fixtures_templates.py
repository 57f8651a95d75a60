"""Every starter template as a test fixture.

Other test modules can use a freshly built starter workbook::

    from fixtures_templates import TEMPLATE_NAMES, build_template, template_backend

    def test_something(tmp_path):
        path = build_template("hotel", tmp_path)          # a real .xlsx
        backend = template_backend("hotel", tmp_path)     # the same, in memory

or take the parametrised fixture (one test per template)::

    from fixtures_templates import template_xlsx  # noqa: F401  (a pytest fixture)

    def test_each(template_xlsx): ...
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from sheet_crm import starter
from sheet_crm.backends.memory import MemoryBackend
from sheet_crm.workbook import Cell

TEMPLATE_NAMES: list[str] = starter.template_names()


def build_template(name: str, folder: Path) -> Path:
    """Build the starter workbook ``name`` in ``folder`` and return its path."""
    return starter.build_workbook(name, Path(folder) / f"{name}.xlsx", overwrite=True)


def read_grids(path: Path) -> dict[str, list[list[Cell]]]:
    """Every tab of an .xlsx as a grid of cached values (row 1 first)."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in book.worksheets}
    finally:
        book.close()


def template_backend(name: str, folder: Path) -> MemoryBackend:
    """The starter workbook ``name``, built as a file and read into the memory backend."""
    return MemoryBackend(read_grids(build_template(name, folder)), name=f"{name}.xlsx")


@pytest.fixture(params=TEMPLATE_NAMES)
def template_xlsx(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A freshly built starter workbook, once per template."""
    return build_template(request.param, tmp_path)
