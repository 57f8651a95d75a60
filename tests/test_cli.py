"""The CLI's shared behaviour: documentation, exit codes, clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import sheet_crm
from sheet_crm import api
from sheet_crm.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def all_commands() -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []

    def walk(group: click.Group, prefix: tuple[str, ...]) -> None:
        for name, cmd in group.commands.items():
            if isinstance(cmd, click.Group):
                walk(cmd, (*prefix, name))
            else:
                out.append((*prefix, name))

    walk(cli, ())
    return sorted(out)


@pytest.mark.parametrize("command", all_commands(), ids=" ".join)
def test_every_command_has_help_with_an_example(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    assert f"sheet-crm {' '.join(command)}" in result.output


@pytest.mark.parametrize("command", all_commands(), ids=" ".join)
def test_every_command_is_in_the_readme(command: tuple[str, ...]) -> None:
    readme = (ROOT / "README.md").read_text()
    assert f"sheet-crm {' '.join(command)}" in readme


def test_usage_errors_exit_2() -> None:
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 2
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 2


def test_failure_prints_error_and_fix_without_traceback(tmp_path: Path) -> None:
    target = tmp_path / "customers.ods"
    target.write_bytes(b"PK\x03\x04 not really")
    result = CliRunner().invoke(cli, ["validate", str(target)])
    assert result.exit_code == 3
    assert "Error: " in result.output and "Fix: " in result.output
    assert "Traceback" not in result.output
    assert target.read_bytes() == b"PK\x03\x04 not really"


def test_json_failure_is_json_on_stdout(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "x.csv"), "--json"])
    assert result.exit_code == 3
    payload = json.loads(result.stdout.splitlines()[0])
    assert payload["type"] == "UnsupportedWorkbook" and payload["exit_code"] == 3 and payload["fix"]


def test_unexpected_errors_are_short_unless_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(api, "run", boom)
    result = CliRunner().invoke(cli, ["sync", "x.xlsx"])
    assert result.exit_code == 3
    assert "kaboom" in result.output and "--debug" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["--debug", "sync", "x.xlsx"])
    assert result.exit_code == 3 and "Traceback" in result.output


def test_public_api_is_curated() -> None:
    assert sorted(sheet_crm.__all__) == sorted(set(sheet_crm.__all__))
    for name in sheet_crm.__all__:
        assert hasattr(sheet_crm, name), name
    public = {n for n in dir(sheet_crm) if not n.startswith("_")} - {"annotations"}
    modules = {n for n in public if isinstance(getattr(sheet_crm, n), type(sheet_crm))}
    assert public - modules == set(sheet_crm.__all__) - {"__version__"}


def test_a_long_value_is_shortened_in_the_terminal_finding_list() -> None:
    from sheet_crm.findings import Finding, Location, Severity
    from sheet_crm.render import finding_line

    digits = "7" * 400
    where = Location("Orders", 5, 4, "Amount")
    f = Finding("amount-invalid", Severity.ERROR, where, "Not an amount.", "Fix it.", digits)
    line = finding_line(f)
    assert f"[{'7' * 60}... (400 characters)]" in line and digits not in line
    assert line.endswith("Not an amount. Fix: Fix it.")
    short = Finding("x", Severity.WARNING, Location("Orders", 5, 4, "Amount"), "P.", "", "12.5")
    assert "[12.5]: P." in finding_line(short)


def test_a_broken_character_in_output_is_escaped_not_a_crash(tmp_path: Path) -> None:
    """Half a surrogate pair (read from a damaged cell) in what a command prints comes
    out as \\udcxx instead of failing the print after the workbook was written."""
    import os
    import subprocess
    import sys

    tab = {"owner": "you", "rows": 3, "header_row": 1, "kind": None, "could_be": None}
    tab |= {"note": "", "warning": ""}
    code = (
        "import sys\n"
        "from sheet_crm import api, cli\n"
        f"api.describe_tabs = lambda _wb: [{{'tab': 'Notes \\udc80', **{tab!r}}}]\n"
        "sys.argv = ['sheet-crm', 'tabs', 'x.xlsx']\n"
        "cli.main()\n"
    )
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "SHEET_CRM_LOG_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert b"Notes \\udc80" in done.stdout


@pytest.mark.parametrize("as_json", [[], ["--json"]], ids=["text", "json"])
def test_what_the_owner_typed_is_printed_as_typed(
    monkeypatch: pytest.MonkeyPatch, as_json: list[str]
) -> None:
    """rich would turn ":smile:" into an emoji and "[b]x[/b]" into a bold x; a tab name or a
    customer's name is printed exactly as it is in the workbook."""
    from types import SimpleNamespace

    typed = "Ann :smile: [b]x[/b]"
    tab = {"tab": typed, "owner": "you", "rows": 1, "header_row": 1, "kind": None}
    tab |= {"could_be": None, "note": "", "warning": ""}
    monkeypatch.setattr(api, "describe_tabs", lambda _wb: [tab])
    result = CliRunner().invoke(cli, ["tabs", "x.xlsx", *as_json])
    assert result.exit_code == 0 and typed in result.output
    member = {"customer_id": "C-00001", "name": typed, "reason": "one order"}
    monkeypatch.setattr(api, "segment_members", lambda *_a, **_k: SimpleNamespace(members=[member]))
    result = CliRunner().invoke(cli, ["segment", "x.xlsx", "--show", "VIP", *as_json])
    assert result.exit_code == 0 and typed in result.output
