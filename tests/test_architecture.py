"""The shape of the code, checked by running it: every CLI command is a twin of one
library function, and an .xlsx run never loads the Google Sheets code.

The import rules themselves (steps import no backend, the CLI imports only the api,
errors and rendering...) are import-linter contracts in pyproject.toml, which
`python3 dev.py test` runs as `lint-imports`.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import click
import pytest
from click.testing import CliRunner
from conftest import TODAY

from sheet_crm import api
from sheet_crm.cli import cli

T = ["--today", TODAY.isoformat()]


def all_commands() -> list[tuple[str, ...]]:
    """Every command, subcommands of groups (``jobs``, ``auth``) included."""
    found: list[tuple[str, ...]] = []

    def walk(group: click.Group, prefix: tuple[str, ...]) -> None:
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                walk(command, (*prefix, name))
            else:
                found.append((*prefix, name))

    walk(cli, ())
    return sorted(found)


# Each command with the smallest arguments that make it do its work, the one api
# function it must call, and (for the few that run until stopped or open a browser) a
# stand-in for that function. {wb} is a small workbook, {job} a job file on it, {jobs}
# their folder, {tmp} a scratch folder.
STOP: dict[str, Callable[..., Any]] = {
    "schedule": lambda *_a, **_k: None,
    "watch": lambda *_a, **_k: None,
    "auth_login": lambda *_a, **_k: SimpleNamespace(describe=lambda: "a test account"),
}
CASES: list[tuple[tuple[str, ...], list[str], str]] = [
    (("demo",), ["{tmp}/demo.xlsx", "--customers", "10", *T], "demo"),
    (("templates",), [], "list_templates"),
    (("init",), ["{tmp}/new.xlsx"], "init_workbook"),
    (("init",), ["--dry-run", "{tmp}/new.xlsx"], "init_workbook"),
    (("tabs",), ["{wb}"], "describe_tabs"),
    (("validate",), ["{wb}", *T], "run_command"),
    (("dedupe",), ["{wb}", *T], "run_command"),
    (("undo-merge",), ["{wb}", "D-0001"], "undo_merge"),
    (("tiers",), ["{wb}", *T], "run_command"),
    (("segment",), ["{wb}", *T], "run_command"),
    (("segment",), ["{wb}", *T, "--show", "One-time buyers"], "segment_members"),
    (("drafts",), ["{wb}", *T], "run_command"),
    (("drafts",), ["{wb}", *T, "--export", "{tmp}/outbox"], "export_drafts"),
    (("sync",), ["{wb}", *T, "--dry-run"], "sync"),
    (("sync",), ["{wb}", *T], "sync"),
    (("run-job",), ["{job}", *T], "run_job"),
    (("jobs", "check"), ["{jobs}"], "check_jobs"),
    (("schedule",), ["{jobs}"], "schedule"),
    (("watch",), ["{wb}"], "watch"),
    (("auth", "status"), ["--key-file", "{tmp}/no-key.json"], "auth_status"),
    (("auth", "login"), [], "auth_login"),
]


def test_every_command_has_a_case() -> None:
    assert sorted({command for command, _args, _twin in CASES}) == all_commands()


@pytest.fixture(scope="module")
def small_workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return api.init_workbook("shop", tmp_path_factory.mktemp("starter") / "crm.xlsx").path


@pytest.fixture
def quiet_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run logs into a scratch folder; the "sheet_crm" logger as it was afterwards."""
    monkeypatch.setenv("SHEET_CRM_LOG_DIR", str(tmp_path / "logs"))
    logger = logging.getLogger("sheet_crm")
    saved = (list(logger.handlers), logger.propagate, logger.level)
    yield
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.handlers[:], logger.propagate, logger.level = saved


def record_api_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Wrap every public function of ``sheet_crm.api``; the list gets the name of each
    call made from outside the api (calls the api makes to itself are its own business)."""
    calls: list[str] = []
    depth = [0]
    for name, function in list(vars(api).items()):
        if name.startswith("_") or not inspect.isfunction(function) or function.__module__ != api.__name__:
            continue

        def recorder(
            *args: Any, _name: str = name, _real: Callable[..., Any] = function, **kwargs: Any
        ) -> Any:
            if depth[0] == 0:
                calls.append(_name)
            depth[0] += 1
            try:
                return STOP.get(_name, _real)(*args, **kwargs)
            finally:
                depth[0] -= 1

        monkeypatch.setattr(api, name, recorder)
    return calls


@pytest.mark.parametrize(
    ("command", "args", "twin"), CASES, ids=[" ".join((*c, *a))[:60] for c, a, _ in CASES]
)
def test_each_command_calls_exactly_one_api_function(
    command: tuple[str, ...],
    args: list[str],
    twin: str,
    small_workbook: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    quiet_log: None,
) -> None:
    wb = tmp_path / "crm.xlsx"
    shutil.copy(small_workbook, wb)
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    job = jobs / "shop.toml"
    job.write_text('name = "Shop"\nworkbook = "../crm.xlsx"\nsteps = ["tiers"]\nevery = "hour"\n')
    values = {"wb": str(wb), "job": str(job), "jobs": str(jobs), "tmp": str(tmp_path)}
    calls = record_api_calls(monkeypatch)
    result = CliRunner().invoke(cli, [*command, *(a.format(**values) for a in args)])
    assert calls == [twin], result.output
    assert "Traceback" not in result.output and "unexpected problem" not in result.output, result.output
    # Each did its work: a clean run, data errors, "no such merge", or no Google identity.
    assert result.exit_code in {0, 1, 2, 3}, result.output
    if twin not in {"undo_merge", "auth_status"}:
        assert result.exit_code in {0, 1}, result.output


def test_an_xlsx_run_never_loads_the_google_sheets_code(small_workbook: Path, tmp_path: Path) -> None:
    """A sync of a local workbook, through the CLI, in a fresh interpreter: neither the
    Google Sheets backend nor gspread or google-auth is ever imported."""
    wb = tmp_path / "crm.xlsx"
    shutil.copy(small_workbook, wb)
    code = (
        "import json, sys\n"
        "from sheet_crm.cli import cli\n"
        "try:\n"
        "    cli.main(args=['sync', sys.argv[1], '--today', sys.argv[2]], standalone_mode=False)\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "google = ('gspread', 'google', 'sheet_crm.backends.gsheets')\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(google))\n"
        "xlsx = 'sheet_crm.backends.xlsx' in sys.modules\n"
        "print(json.dumps({'exit': code, 'xlsx': xlsx, 'google': loaded}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(wb), TODAY.isoformat()],
        capture_output=True,
        text=True,
        env={**os.environ, "SHEET_CRM_LOG_DIR": str(tmp_path / "logs")},
        check=False,
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"exit": 0, "xlsx": True, "google": []}, done.stderr
