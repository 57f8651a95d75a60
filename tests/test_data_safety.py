"""The owner's data is sacred: for every command that writes, every owner tab is
cell-for-cell identical afterwards (formulas included), except the cells the run
says it filled or appended; and a run that fails midway leaves the file
byte-identical."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import TODAY

from sheet_crm.cli import cli
from sheet_crm.demo import write_demo
from sheet_crm.workbook import TOOL_TABS

WRITING_COMMANDS = ["validate", "dedupe", "tiers", "segment", "drafts", "sync"]


@pytest.fixture(scope="module")
def workbook_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The demo workbook plus an owner formula column and a formula in a cell of
    their own, built once (openpyxl is fine for building a fixture)."""
    folder = tmp_path_factory.mktemp("safety")
    path = folder / "crm.xlsx"
    write_demo(path, customers=120, seed=11, today=TODAY)
    wb = openpyxl.load_workbook(path)
    orders = wb["Orders"]
    col = orders.max_column + 1
    orders.cell(row=1, column=col, value="Line total")
    for r in range(2, orders.max_row + 1):
        orders.cell(row=r, column=col, value=f"=D{r}*F{r}")
    wb["Customers"]["AZ1"] = "=COUNTA(A:A)-1"
    wb.save(path)
    return path.read_bytes()


def owner_cells(path: Path) -> dict[tuple[str, str], Any]:
    wb = openpyxl.load_workbook(path, data_only=False)
    out: dict[tuple[str, str], Any] = {}
    for ws in wb.worksheets:
        if ws.title in TOOL_TABS:
            continue
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    out[(ws.title, c.coordinate)] = c.value
    return out


@pytest.mark.parametrize("command", WRITING_COMMANDS)
def test_owner_tabs_unchanged_except_reported_edits(
    tmp_path: Path, workbook_bytes: bytes, command: str
) -> None:
    path = tmp_path / "crm.xlsx"
    path.write_bytes(workbook_bytes)
    before = owner_cells(path)
    result = CliRunner().invoke(cli, [command, str(path), "--json", "--today", TODAY.isoformat()])
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    after = owner_cells(path)
    edited = {
        (e["cell"].split("!")[0].strip("'"), e["cell"].split("!")[1]) for e in report["wrote"]["cell_edits"]
    }
    skipped = {tuple(s["cell"].split("!")) for s in report["skipped_edits"]}
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    appended_tabs = {a["tab"] for a in report["wrote"]["appends"]}
    unexplained = {k for k in changed - (edited - skipped) if k[0] not in appended_tabs}
    assert unexplained == set()
    for key in changed & edited:  # an edit only ever fills a cell that was blank
        assert before.get(key) is None
    formulas = {k: v for k, v in before.items() if isinstance(v, str) and v.startswith("=")}
    assert formulas and all(after[k] == v for k, v in formulas.items())


@pytest.mark.parametrize("command", WRITING_COMMANDS)
def test_a_run_that_fails_midway_leaves_the_file_byte_identical(
    tmp_path: Path, workbook_bytes: bytes, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sheet_crm import api
    from sheet_crm.steps import plan_steps

    path = tmp_path / "crm.xlsx"
    path.write_bytes(workbook_bytes)
    original_load = api.load
    last = plan_steps(api.COMMAND_STEPS[command])[-1]  # fail after every other step ran
    calls = {"n": 0}

    def failing_load(name: str):  # type: ignore[no-untyped-def]
        step = original_load(name)
        if name != last:
            return step

        def run(ctx):  # type: ignore[no-untyped-def]
            calls["n"] += 1
            step(ctx)
            raise RuntimeError(f"the {name} step broke after computing")

        return run

    monkeypatch.setattr(api, "load", failing_load)
    result = CliRunner().invoke(cli, [command, str(path), "--today", TODAY.isoformat()])
    assert result.exit_code == 3
    assert "Error:" in result.output and "Traceback" not in result.output
    assert calls["n"] == 1
    assert path.read_bytes() == workbook_bytes
    assert [p.name for p in tmp_path.iterdir()] == ["crm.xlsx"]


@pytest.mark.parametrize("command", [*WRITING_COMMANDS, "run-job", "init", "demo"])
def test_dry_run_writes_nothing(tmp_path: Path, workbook_bytes: bytes, command: str) -> None:
    path = tmp_path / "crm.xlsx"
    path.write_bytes(workbook_bytes)
    args = [command, str(path)]
    if command == "run-job":
        job = tmp_path / "job.toml"
        job.write_text('workbook = "crm.xlsx"\nsteps = ["sync"]\nevery = "hour"\n')
        args = [command, str(job)]
    elif command in ("init", "demo"):
        args = [command, str(tmp_path / "new.xlsx")]
        if command == "demo":
            args += ["--customers", "20"]
    before = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(cli, [*args, "--dry-run"], env={"SHEET_CRM_LOG_DIR": str(tmp_path / "logs")})
    assert result.exit_code in (0, 1), result.output
    assert "nothing was written" in result.output.lower()
    assert path.read_bytes() == workbook_bytes
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "logs") == before
