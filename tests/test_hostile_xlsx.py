"""Hostile and damaged workbooks through the real command line, one child process each.

Every case is made by code (``hostile_xlsx``) from one small valid workbook; the Apache POI
fuzzing finds come from ``../shared/conformance/poi-fuzz/``. Each run must end within the
bounds of ``childrun`` (10 s, 500 MB, no traceback, never "unexpected problem") with the
expected exit code and words; a refused workbook stays byte-identical, and nothing is
written anywhere but the workbook's folder, the export folder and the log folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from childrun import ChildResult, assert_bounded, run_cli
from conftest import SHARED, TODAY, shared_path
from hostile_xlsx import (
    CUSTOMER_ROWS,
    DECL,
    DTD_FILE,
    DTD_LAUGHS,
    MAIN,
    ORDER_ROWS,
    STRINGS,
    Builder,
    bad_magic,
    bomb_part,
    customers,
    customers_xml,
    cut_part,
    declared_size,
    drop_part,
    flip_stored_byte,
    many_small_bombs,
    set_part,
    sheet_xml,
    strings_xml,
    styles_xml,
    then,
    valid,
    workbook,
    workbook_rels,
    workbook_xml,
)

REFUSED = 3


@dataclass(frozen=True)
class Case:
    build: Builder
    commands: tuple[str, ...]
    code: int
    words: str  # must appear in the output (case-insensitive)
    env: dict[str, str] = field(default_factory=dict)


def _orders(*rows: str) -> Builder:
    return workbook(set_part("xl/worksheets/sheet2.xml", sheet_xml([*ORDER_ROWS, *rows])))


SHEET1 = "xl/worksheets/sheet1.xml"
TAIL = b"</sheetData></worksheet>"
FAR_APART = "".join(f'<row r="{r}"><c r="XFD{r}"><v>1</v></c></row>' for r in range(5, 1100))

CASES: dict[str, Case] = {
    # positive controls: the same machinery reads a good workbook, and an unusual but valid one
    "valid workbook": Case(valid(), ("tabs", "sync", "drafts"), 0, "customers"),
    "single-quoted attributes (general parser)": Case(
        workbook(customers("<row r='5'><c r='A5' t='inlineStr'><is><t>C-00004</t></is></c></row>")),
        ("tabs",),
        0,
        "customers",
    ),
    # 3a: references beyond Excel's grid
    "cell at row 999,999,999,999": Case(
        workbook(customers('<row r="5"><c r="A999999999999"><v>1</v></c></row>')),
        ("tabs",),
        REFUSED,
        "outside excel's grid",
    ),
    "cell in column ZZZZZZZ": Case(
        workbook(customers('<row r="5"><c r="ZZZZZZZ5"><v>1</v></c></row>')),
        ("tabs", "validate"),
        REFUSED,
        "outside excel's grid",
    ),
    "row 0 (cells without references)": Case(
        workbook(customers('<row r="0"><c t="inlineStr"><is><t>Mallory</t></is></c></row>')),
        ("sync",),
        REFUSED,
        "outside excel's grid",
    ),
    "cell A0": Case(
        workbook(customers('<row r="5"><c r="A0"><v>1</v></c></row>')), ("tabs",), REFUSED, "outside"
    ),
    "cells far apart (XFD in 1,100 rows)": Case(
        workbook(customers(FAR_APART)), ("tabs",), REFUSED, "blank cells"
    ),
    # 3b: inputs that made the regular expressions backtrack
    "a <c with 40 repeated attributes": Case(
        workbook(customers('<row r="5"><c' + ' s="0"' * 40 + ' r="A5"><v>1</v></row>')),
        ("tabs",),
        REFUSED,
        "not well-formed",
    ),
    "40,000 unclosed <c> at the end": Case(
        workbook(
            customers_xml(sheet_xml(CUSTOMER_ROWS).replace(TAIL, b'<row r="5">' + b'<c r="A5">' * 40000))
        ),
        ("sync",),
        REFUSED,
        "not well-formed",
    ),
    "40,000 unclosed <si> in the shared strings": Case(
        workbook(set_part("xl/sharedStrings.xml", strings_xml(STRINGS)[:-6] + b"<si><t>x</t>" * 40000)),
        ("tabs",),
        REFUSED,
        "not well-formed",
    ),
    # 3c: zip bombs and giant cells
    "styles part expanding 1000x": Case(
        bomb_part("xl/styles.xml", styles_xml()[:-13], 16, b"</styleSheet>"),
        ("validate",),
        REFUSED,
        "zip bomb",
    ),
    "sheet expanding 1000x": Case(
        bomb_part(SHEET1, sheet_xml(CUSTOMER_ROWS)[: -len(TAIL)], 16, TAIL), ("tabs",), REFUSED, "zip bomb"
    ),
    "a 16-million-character cell, compressed": Case(
        bomb_part(
            SHEET1,
            sheet_xml(CUSTOMER_ROWS)[: -len(TAIL)]
            + b'<row r="5"><c r="A5" t="inlineStr"><is><t xml:space="preserve">',
            16,
            b"</t></is></c></row>" + TAIL,
        ),
        ("sync",),
        REFUSED,
        "zip bomb",
    ),
    "120 tabs of 900 KB from 1 KB each": Case(many_small_bombs(), ("tabs",), REFUSED, "zip bomb"),
    "a sheet that claims 5 GB": Case(
        then(valid(), declared_size(SHEET1, 0xFFFFFFF0)), ("tabs",), REFUSED, "sheet-crm unpacks at most"
    ),
    "a sheet that claims 100 bytes but holds more": Case(
        then(valid(), declared_size(SHEET1, 100)), ("sync",), REFUSED, "damaged"
    ),
    "a 40,000-character cell (not compressed away)": Case(
        workbook(
            customers(
                '<row r="5"><c r="A5" t="inlineStr"><is><t>C-00004</t></is></c>'
                '<c r="B5" t="inlineStr"><is><t>'
                + "".join(chr(0x41 + i % 26) for i in range(40000))
                + "</t></is></c></row>"
            )
        ),
        ("validate",),
        1,
        "32,767",
    ),
    "zip bomb read with a raised limit": Case(
        bomb_part(SHEET1, sheet_xml(CUSTOMER_ROWS)[: -len(TAIL)], 2, TAIL),
        ("tabs",),
        0,
        "customers",
        {"SHEET_CRM_MAX_ZIP_RATIO": "100000"},
    ),
    "a limit that is not a number": Case(
        valid(), ("tabs",), 2, "sheet_crm_max_part_mb", {"SHEET_CRM_MAX_PART_MB": "lots"}
    ),
    # 7: damage that used to be an "unexpected problem"
    "bad magic number in a local header": Case(
        then(valid(), bad_magic(SHEET1)), ("sync",), REFUSED, "damaged"
    ),
    "bad CRC": Case(
        then(workbook(stored=frozenset({SHEET1})), flip_stored_byte(SHEET1, b"C-00003", b"C-00009")),
        ("tabs",),
        REFUSED,
        "checksum",
    ),
    "truncated workbook relationships": Case(
        workbook(cut_part("xl/_rels/workbook.xml.rels")), ("sync",), REFUSED, "not well-formed"
    ),
    "oversized workbook relationships": Case(
        then(valid(), declared_size("xl/_rels/workbook.xml.rels", 200 << 20)),
        ("tabs",),
        REFUSED,
        "sheet-crm unpacks at most",
    ),
    "an entity in the relationships": Case(
        workbook(
            set_part(
                "xl/_rels/workbook.xml.rels",
                workbook_rels('<!DOCTYPE r [<!ENTITY s "worksheets/sheet1.xml">]>', target1="&s;"),
            )
        ),
        ("sync",),
        REFUSED,
        "dtd",
    ),
    "an undefined entity in the relationships": Case(
        workbook(set_part("xl/_rels/workbook.xml.rels", workbook_rels(target1="&s;"))),
        ("tabs",),
        REFUSED,
        "not well-formed",
    ),
    'sheetId="abc"': Case(
        workbook(set_part("xl/workbook.xml", workbook_xml(sheet_id="abc"))),
        ("sync",),
        REFUSED,
        "sheetid",
    ),
    "a 400-digit number in a date cell": Case(
        _orders(
            '<row r="4"><c r="A4" t="inlineStr"><is><t>O-3</t></is></c><c r="B4" t="inlineStr"><is><t>C-00001'
            f'</t></is></c><c r="C4" s="1"><v>{"9" * 400}</v></c><c r="D4"><v>5</v></c></row>'
        ),
        ("validate", "sync"),
        1,
        "orders",
    ),
    "a lone surrogate escape in a name": Case(
        workbook(
            customers(
                '<row r="5"><c r="A5" t="inlineStr"><is><t>C-00004</t></is></c>'
                '<c r="B5" t="inlineStr"><is><t>Eve_xD800_</t></is></c></row>'
            )
        ),
        ("sync",),
        0,
        "customers",
    ),
    # 8: damage that was accepted silently
    "sheet cut off mid-XML": Case(workbook(cut_part(SHEET1, 0.8)), ("sync",), REFUSED, "not well-formed"),
    "Orders tab whose part is missing": Case(
        workbook(drop_part("xl/worksheets/sheet2.xml")), ("tabs", "sync"), REFUSED, "missing"
    ),
    "raw control character": Case(
        workbook(customers('<row r="5"><c r="A5" t="inlineStr"><is><t>bad\x01name</t></is></c></row>')),
        ("sync",),
        REFUSED,
        "control character",
    ),
    "duplicated attribute": Case(
        workbook(customers('<row r="5"><c r="A5" r="B7" t="inlineStr"><is><t>Mallory</t></is></c></row>')),
        ("validate",),
        REFUSED,
        "same attribute twice",
    ),
    # 9: a DTD in any part, on every read path
    "DTD in a sheet (external entity)": Case(
        workbook(customers(before=DTD_FILE)), ("sync", "drafts"), REFUSED, "dtd"
    ),
    "DTD after a comment": Case(
        workbook(customers(before="<!-- harmless -->" + DTD_FILE)), ("tabs",), REFUSED, "dtd"
    ),
    "DTD in a sheet read by the general parser": Case(
        workbook(customers("<row r='5'><c r='A5'><v>1</v></c></row>", before=DTD_FILE)),
        ("tabs",),
        REFUSED,
        "dtd",
    ),
    "billion laughs in the shared strings": Case(
        workbook(set_part("xl/sharedStrings.xml", strings_xml(STRINGS, before=DTD_LAUGHS))),
        ("tabs", "drafts"),
        REFUSED,
        "dtd",
    ),
    "DTD in the styles": Case(
        workbook(set_part("xl/styles.xml", styles_xml(DTD_FILE))), ("validate",), REFUSED, "dtd"
    ),
    "DTD in the workbook part": Case(
        workbook(set_part("xl/workbook.xml", workbook_xml(before=DTD_FILE))), ("tabs",), REFUSED, "dtd"
    ),
    "DTD in the content types (read when writing)": Case(
        workbook(
            lambda parts: parts.__setitem__(
                "[Content_Types].xml",
                parts["[Content_Types].xml"].replace(DECL.encode(), (DECL + DTD_FILE).encode()),
            )
        ),
        ("sync",),
        REFUSED,
        "dtd",
    ),
    "DTD in UTF-16": Case(
        workbook(
            set_part(
                "xl/worksheets/sheet2.xml",
                (
                    '<?xml version="1.0" encoding="UTF-16"?>'
                    + DTD_FILE
                    + f'<worksheet xmlns="{MAIN}"><sheetData></sheetData></worksheet>'
                ).encode("utf-16"),
            )
        ),
        ("tabs",),
        REFUSED,
        "dtd",
    ),
}


def _args(command: str, path: Path, export: Path) -> list[str]:
    if command == "tabs":
        return ["tabs", str(path)]
    if command == "drafts":
        return ["drafts", str(path), "--export", str(export), "--today", TODAY.isoformat()]
    return [command, str(path), "--today", TODAY.isoformat()]


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def run_sandboxed(command: str, path: Path, sandbox: Path, env: dict[str, str]) -> ChildResult:
    """One command in a child whose home, config, cache, log and working folders all lie
    in ``sandbox``, so a file written anywhere unexpected is seen."""
    home, cwd, export = sandbox / "home", sandbox / "cwd", sandbox / "export"
    for folder in (home, cwd):
        folder.mkdir(exist_ok=True)
    child_env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "SHEET_CRM_LOG_DIR": str(sandbox / "logs"),
        "TMPDIR": str(sandbox / "tmp"),
        **env,
    }
    (sandbox / "tmp").mkdir(exist_ok=True)
    return run_cli(_args(command, path, export), cwd=cwd, env=child_env)


def check_run(result: ChildResult, case_code: int, words: str) -> None:
    assert_bounded(result)
    assert result.exit_code == case_code, result.describe()
    assert words.lower() in result.output.lower(), result.describe()
    if case_code == REFUSED:
        assert "Error:" in result.output and "Fix:" in result.output, result.describe()


def assert_nothing_outside(sandbox: Path, workbook_folder: Path, before: set[Path]) -> None:
    allowed = (workbook_folder, sandbox / "export", sandbox / "logs")
    strays = [p for p in _files(sandbox) - before if not any(a in p.parents for a in allowed)]
    assert not strays, f"written outside the workbook, export and log folders: {strays}"


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_workbook(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    folder = tmp_path / "work"
    folder.mkdir()
    path = case.build(folder)
    original = path.read_bytes()
    listing = sorted(p.name for p in folder.iterdir())
    for command in case.commands:
        before = _files(tmp_path)
        result = run_sandboxed(command, path, tmp_path, case.env)
        check_run(result, case.code, case.words)
        assert_nothing_outside(tmp_path, folder, before)
        if case.code in (REFUSED, 2) or command == "tabs":
            assert path.read_bytes() == original, f"{command}: the refused workbook changed"
            assert sorted(p.name for p in folder.iterdir()) == listing, f"{command}: files added beside it"
            export = tmp_path / "export"
            assert not export.exists() or not any(export.iterdir()), f"{command}: exported despite refusing"


# ---------------------------------------------------------------- Apache POI's fuzzing finds


def _poi_files() -> list[str]:
    folder = SHARED / "conformance" / "poi-fuzz"
    if not folder.exists():
        return ["(shared data missing)"]
    return sorted(p.name for p in folder.iterdir() if p.suffix in (".xls", ".xlsx"))


@pytest.mark.parametrize("name", _poi_files())
def test_poi_fuzz_workbook(name: str, tmp_path: Path) -> None:
    source = shared_path("conformance", "poi-fuzz", name)
    folder = tmp_path / "work"
    folder.mkdir()
    path = folder / name
    path.write_bytes(source.read_bytes())
    original = path.read_bytes()
    # sync reads all that tabs reads, then writes: the widest path through the backend
    command = "sync" if name.endswith(".xlsx") else "tabs"
    before = _files(tmp_path)
    result = run_sandboxed(command, path, tmp_path, {})
    assert_bounded(result)
    assert_nothing_outside(tmp_path, folder, before)
    assert result.exit_code in (0, 1, REFUSED), result.describe()
    if result.exit_code == REFUSED:
        assert "Error:" in result.output and "Fix:" in result.output, result.describe()
        assert path.read_bytes() == original
        assert not (folder / ".sheet-crm-backups").exists()
