"""The xlsx backend's safety protocol: crashes, lock files, change detection, backups,
and a table of broken inputs that must each get a clear message and an untouched file."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import shared_path

from sheet_crm.backends import xlsx as xlsx_module
from sheet_crm.backends import xlsx_write
from sheet_crm.backends.xlsx import BACKUP_DIR, XlsxBackend, iter_backups
from sheet_crm.cli import cli
from sheet_crm.errors import (
    NotWritable,
    SheetCrmError,
    UnsupportedWorkbook,
    WorkbookChanged,
    WorkbookLocked,
    WorkbookNotFound,
    WorkbookProtected,
    WriteFailed,
)
from sheet_crm.workbook import CellEdit, ToolTab, WritePlan

WHEN = datetime(2026, 11, 22, 9, 30)
TODAY = "2026-11-22"


def make_workbook(path: Path, sheets: dict[str, list[list[object]]] | None = None) -> Path:
    sheets = sheets or {
        "Customers": [
            ["Customer ID", "Name", "Email"],
            ["C1", "Ann Lee", "ann@x.org"],
            ["C2", "Bob", "b@y.com"],
        ],
        "Orders": [["Order ID", "Customer", "Date", "Amount"], ["O1", "C1", datetime(2026, 1, 5), 12.5]],
    }
    book = openpyxl.Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def plan(n: int = 1) -> WritePlan:
    return WritePlan(
        tabs=[ToolTab("Tiers", ["Customer ID", "Tier"], [["C1", f"Gold {n}"], ["C2", "Silver"]])],
        edits=[CellEdit("Customers", 3, 3, "b@y.com", "bob@y.com", "tidy email")],
        generated_at=WHEN,
    )


def folder_listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def assert_valid_with_tiers(path: Path, expected: str | None) -> None:
    """The file is a complete workbook our reader (and zip's CRC check) accepts."""
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
    tiers = XlsxBackend(path).read().tab("Tiers")
    if expected is None:
        assert tiers is None
    else:
        assert tiers is not None and tiers.rows[0].values == ["C1", expected]


# ---------------------------------------------------------------- crash safety


class Boom(Exception):
    pass


def _raise(*_args: object, **_kwargs: object) -> None:
    raise Boom("simulated crash")


CRASH_POINTS: dict[str, tuple[str, str, bool]] = {
    # name: (object path, attribute, whether the new version is in place afterwards)
    "mid temp write": ("sheet_crm.backends.xlsx_write.ZipWriter", "write_new", False),
    "while closing the zip": ("sheet_crm.backends.xlsx_write.ZipWriter", "close", False),
    "during verification": ("sheet_crm.backends.xlsx.XlsxBackend", "_verify", False),
    "while keeping the backup": ("sheet_crm.backends.xlsx.XlsxBackend", "_backup", False),
    "at the replace": ("sheet_crm.backends.xlsx.os", "replace", False),
    "after the replace": ("sheet_crm.backends.xlsx", "_fsync_dir", True),
}


@pytest.mark.parametrize("point", list(CRASH_POINTS))
def test_crash_leaves_old_or_new_file(point: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_workbook(tmp_path / "crm.xlsx")
    backend = XlsxBackend(path)
    backend.write(plan(1), expected_version=backend.read().version)
    old = path.read_bytes()
    target, attribute, new_in_place = CRASH_POINTS[point]
    monkeypatch.setattr(target + "." + attribute, _raise)
    with pytest.raises(Boom):
        backend.write(plan(2), expected_version=backend.read().version)
    monkeypatch.undo()
    if new_in_place:
        assert path.read_bytes() != old
        assert_valid_with_tiers(path, "Gold 2")
    else:
        assert path.read_bytes() == old
        assert_valid_with_tiers(path, "Gold 1")
    assert not [n for n in folder_listing(tmp_path) if n.endswith(".tmp")], "temp file left behind"
    # and the next run works normally
    backend.write(plan(3), expected_version=backend.read().version)
    assert_valid_with_tiers(path, "Gold 3")


def test_a_killed_run_leaves_the_old_file_and_its_temp_is_cleaned_up(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "crm.xlsx")
    old = path.read_bytes()
    script = f"""
import os, signal
from datetime import datetime
from pathlib import Path
from sheet_crm.backends import xlsx_write
from sheet_crm.backends.xlsx import XlsxBackend
from sheet_crm.workbook import ToolTab, WritePlan
real = xlsx_write.ZipWriter.write_new
def dying(self, *a, **k):
    real(self, *a, **k)
    os.kill(os.getpid(), signal.SIGKILL)
xlsx_write.ZipWriter.write_new = dying
b = XlsxBackend(Path({str(path)!r}))
b.write(WritePlan(tabs=[ToolTab("Tiers", ["A"], [[1]])]), expected_version=b.read().version)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert result.returncode < 0  # killed
    assert path.read_bytes() == old
    leftovers = [n for n in folder_listing(tmp_path) if n.endswith(".tmp")]
    assert len(leftovers) == 1  # a kill cannot clean up ...
    backend = XlsxBackend(path)
    backend.write(plan(1), expected_version=backend.read().version)
    assert not [n for n in folder_listing(tmp_path) if n.endswith(".tmp")]  # ... the next run does
    assert_valid_with_tiers(path, "Gold 1")


def test_a_running_writer_is_respected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A live sheet-crm writer is known by the operating-system lock it holds."""
    path = make_workbook(tmp_path / "crm.xlsx")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from pathlib import Path\n"
            "from sheet_crm.backends.xlsx import _write_lock\n"
            f"with _write_lock(Path({str(path)!r})):\n"
            "    print('holding', flush=True)\n"
            "    sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        monkeypatch.setattr(xlsx_module, "WRITE_LOCK_WAIT", 0.3)
        backend = XlsxBackend(path)
        old = path.read_bytes()
        with pytest.raises(WorkbookLocked, match="Another sheet-crm run"):
            backend.write(plan(), expected_version=backend.read().version)
        assert path.read_bytes() == old
    finally:
        holder.communicate("", timeout=30)
    # the holder is gone, and so is its lock: the next write goes ahead
    backend.write(plan(), expected_version=backend.read().version)
    assert_valid_with_tiers(path, "Gold 1")


def test_a_stale_temp_whose_process_number_is_reused_does_not_block_writes(tmp_path: Path) -> None:
    """A temp file left by a killed run, named with a process number that now belongs to
    another (live, unrelated) process, is stale: no lock is held, so it is removed."""
    path = make_workbook(tmp_path / "crm.xlsx")
    stale = tmp_path / f".crm.xlsx.sheet-crm-{os.getppid()}.tmp"  # a live process: our parent
    stale.write_bytes(b"partial")
    backend = XlsxBackend(path)
    backend.write(plan(), expected_version=backend.read().version)
    assert not stale.exists()
    assert_valid_with_tiers(path, "Gold 1")
    assert not [n for n in folder_listing(tmp_path) if n.endswith((".tmp", ".lock"))]


# ---------------------------------------------------------------- locks and changes


@pytest.mark.parametrize(
    ("lock_name", "app"),
    [("~$crm.xlsx", "Excel"), (".~lock.crm.xlsx#", "LibreOffice"), ("~$m.xlsx", "Excel")],
)
def test_lock_files_refuse_the_write(tmp_path: Path, lock_name: str, app: str) -> None:
    path = make_workbook(tmp_path / "crm.xlsx")
    backend = XlsxBackend(path)
    workbook = backend.read()  # reading an open workbook is fine
    (tmp_path / lock_name).write_bytes(b"owner")
    old = path.read_bytes()
    with pytest.raises(WorkbookLocked) as info:
        backend.write(plan(), expected_version=workbook.version)
    assert app in info.value.message and "close" in info.value.fix.lower()
    assert path.read_bytes() == old
    assert not (tmp_path / BACKUP_DIR).exists()


def test_real_excel_lock_file(tmp_path: Path) -> None:
    folder = shared_path("conformance", "real-workbooks", "closedxml", "excel-open-lock")
    for item in folder.iterdir():
        (tmp_path / item.name).write_bytes(item.read_bytes())
    path = tmp_path / "LoadPivotTables.xlsx"
    backend = XlsxBackend(path)
    old = path.read_bytes()
    with pytest.raises(WorkbookLocked, match="open in Excel"):
        backend.write(plan(), expected_version=backend.read().version)
    assert path.read_bytes() == old


def test_owner_save_between_read_and_write(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "crm.xlsx")
    backend = XlsxBackend(path)
    workbook = backend.read()
    book = openpyxl.load_workbook(path)
    book["Customers"]["B2"] = "Ann Leigh"
    book.save(path)
    saved = path.read_bytes()
    with pytest.raises(WorkbookChanged, match="nothing was written"):
        backend.write(plan(), expected_version=workbook.version)
    assert path.read_bytes() == saved


def test_same_bytes_but_touched_counts_as_changed(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "crm.xlsx")
    backend = XlsxBackend(path)
    workbook = backend.read()
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    with pytest.raises(WorkbookChanged):
        backend.write(plan(), expected_version=workbook.version)


def test_edit_skipped_when_the_owner_changed_the_cell(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "crm.xlsx")
    backend = XlsxBackend(path)
    report = backend.write(
        WritePlan(
            edits=[CellEdit("Customers", 2, 3, "someone@else.org", "x@y.z", "stale")], generated_at=WHEN
        ),
        expected_version=backend.read().version,
    )
    assert report.cells_edited == 0 and len(report.skipped_edits) == 1
    table = backend.read().find("Customers")
    assert table is not None and table.rows[0].values[2] == "ann@x.org"


def test_formula_cells_in_owner_tabs_are_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    make_workbook(path, {"Customers": [["Customer ID", "Name", "Total"], ["C1", "Ann", "=1+2"]]})
    backend = XlsxBackend(path)
    workbook = backend.read()
    table = workbook.find("Customers")
    assert table is not None
    current = table.rows[0].values[2]  # openpyxl writes no cached value: NoCachedValue
    report = backend.write(
        WritePlan(
            edits=[CellEdit("Customers", 2, 3, current, 5, "would replace a formula")], generated_at=WHEN
        ),
        expected_version=workbook.version,
    )
    assert report.cells_edited == 0 and len(report.skipped_edits) == 1
    with zipfile.ZipFile(path) as zf:
        assert b"<f>1+2</f>" in zf.read("xl/worksheets/sheet1.xml")


# ---------------------------------------------------------------- backups


def test_backups_keep_the_last_five(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "crm.xlsx")
    backend = XlsxBackend(path)
    versions = []
    for n in range(7):
        versions.append(path.read_bytes())
        report = backend.write(
            WritePlan(tabs=[ToolTab("Tiers", ["n"], [[n]])], generated_at=WHEN),
            expected_version=backend.read().version,
        )
        assert Path(report.backup).read_bytes() == versions[-1]
    kept = list(iter_backups(path))
    assert len(kept) == 5
    assert [p.read_bytes() for p in kept] == versions[-5:]
    assert kept[-1].parent == tmp_path / BACKUP_DIR


def test_file_mode_is_kept(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "crm.xlsx")
    path.chmod(0o640)
    backend = XlsxBackend(path)
    backend.write(plan(), expected_version=backend.read().version)
    assert path.stat().st_mode & 0o777 == 0o640


def test_xlsm_keeps_its_macros(tmp_path: Path) -> None:
    source = shared_path("conformance", "real-workbooks", "xlsxwriter", "macro01.xlsm")
    path = tmp_path / "macro01.xlsm"
    path.write_bytes(source.read_bytes())
    with zipfile.ZipFile(path) as zf:
        vba = zf.read("xl/vbaProject.bin")
    backend = XlsxBackend(path)
    backend.write(WritePlan(tabs=plan().tabs, generated_at=WHEN), expected_version=backend.read().version)
    with zipfile.ZipFile(path) as zf:
        assert zf.read("xl/vbaProject.bin") == vba
        assert "macroEnabled" in zf.read("[Content_Types].xml").decode()


# ---------------------------------------------------------------- broken inputs


def _bytes(data: bytes, name: str = "crm.xlsx") -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(data)
        return path

    return build


def _shared(*parts: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        source = shared_path(*parts)
        path = folder / source.name
        path.write_bytes(source.read_bytes())
        return path

    return build


def _sheets(sheets: dict[str, list[list[object]]], name: str = "crm.xlsx") -> Callable[[Path], Path]:
    return lambda folder: make_workbook(folder / name, sheets)


def _missing(folder: Path) -> Path:
    return folder / "nowhere.xlsx"


def _directory(folder: Path) -> Path:
    path = folder / "crm.xlsx"
    path.mkdir()
    return path


def _open_in_excel(folder: Path) -> Path:
    path = make_workbook(folder / "crm.xlsx")
    (folder / "~$crm.xlsx").write_bytes(b"\x05owner")
    return path


def _read_only_folder(folder: Path) -> Path:
    sub = folder / "locked"
    sub.mkdir()
    path = make_workbook(sub / "crm.xlsx")
    sub.chmod(0o555)
    return path


def _read_only_file(folder: Path) -> Path:
    path = make_workbook(folder / "crm.xlsx")
    path.chmod(0o444)
    return path


def _xls_named_xlsx(folder: Path) -> Path:
    path = folder / "old.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024)
    return path


def _ods_named_xlsx(folder: Path) -> Path:
    path = folder / "calc.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<office:document-content/>")
    return path


def _zip_not_workbook(folder: Path) -> Path:
    path = folder / "crm.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("hello.txt", "hi")
    return path


def _truncated(folder: Path) -> Path:
    good = make_workbook(folder / "good.xlsx").read_bytes()
    (folder / "good.xlsx").unlink()
    path = folder / "crm.xlsx"
    path.write_bytes(good[: len(good) // 2])
    return path


CUSTOMERS_HEAD = ["Customer ID", "Name", "Email"]
HUGE = "x" * 32767

# (case, builder, command, exit code, words the message must contain)
BROKEN: list[tuple[str, Callable[[Path], Path], str, int, str]] = [
    ("missing file", _missing, "tabs", 3, "no workbook at"),
    ("a directory", _directory, "tabs", 3, "is a folder"),
    ("not a zip", _bytes(b"this is not a workbook at all\n" * 20), "tabs", 3, "needs an .xlsx workbook"),
    ("empty file", _bytes(b""), "tabs", 3, "empty"),
    ("zip without a workbook", _zip_not_workbook, "tabs", 3, "no workbook part"),
    ("cut-off file", _truncated, "tabs", 3, "not an excel workbook"),
    (
        "encrypted",
        _shared("conformance", "real-workbooks", "calamine", "pass_protected.xlsx"),
        "tabs",
        3,
        "password",
    ),
    (
        "strict ooxml",
        _shared("conformance", "real-workbooks", "calamine", "strict_iso_paths.xlsx"),
        "tabs",
        3,
        "strict",
    ),
    (".xls content", _xls_named_xlsx, "tabs", 3, "97-2003"),
    (".ods content", _ods_named_xlsx, "tabs", 3, "opendocument"),
    (".xls name", _bytes(b"\xd0\xcf\x11\xe0", "old.xls"), "tabs", 3, ".xls file"),
    (".ods name", _bytes(b"PK", "calc.ods"), "tabs", 3, ".ods file"),
    (".csv name", _bytes(b"Name,Email\nAnn,a@x.org\n", "list.csv"), "tabs", 3, ".csv file"),
    ("open in Excel", _open_in_excel, "tiers", 3, "open in excel"),
    ("read-only folder", _read_only_folder, "tiers", 3, "read-only"),
    ("read-only file", _read_only_file, "tiers", 3, "read-only"),
    ("no Customers tab", _sheets({"Stuff": [["a", "b"], [1, 2]]}), "tiers", 3, "no customers tab"),
    (
        "duplicate headers",
        _sheets({"Customers": [["Customer ID", "Email", "E-mail"], ["C1", "a@x.org", "b@x.org"]]}),
        "validate",
        1,
        "two columns",
    ),
    (
        "header on row 3",
        _sheets({"Customers": [["My shop"], [], CUSTOMERS_HEAD, ["C1", "Ann", "a@x.org"]]}),
        "tabs",
        0,
        "3",
    ),
    ("no data rows", _sheets({"Customers": [CUSTOMERS_HEAD]}), "tabs", 0, "Customers"),
    (
        "a huge cell",
        _sheets({"Customers": [CUSTOMERS_HEAD, ["C1", HUGE, "a@x.org"]]}),
        "tabs",
        0,
        "Customers",
    ),
    (
        "quotes and unicode in a tab name",
        _sheets(
            {"Customers": [CUSTOMERS_HEAD, ["C1", "Ann", "a@x.org"]], "Ann's «café» ☕": [["a", "b"], [1, 2]]}
        ),
        "tabs",
        0,
        "Ann's «café» ☕",
    ),
]


def snapshot(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


@pytest.mark.parametrize(("case", "build", "command", "code", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_input_through_the_cli(
    case: str, build: Callable[[Path], Path], command: str, code: int, words: str, tmp_path: Path
) -> None:
    path = build(tmp_path)
    before = snapshot(path)
    args = [command, str(path)] + (["--today", TODAY] if command != "tabs" else [])
    try:
        result = CliRunner().invoke(cli, args)
    finally:
        for folder in (tmp_path, *tmp_path.iterdir()):
            if folder.is_dir():
                folder.chmod(0o755)
    output = result.output
    assert "Traceback" not in output
    assert result.exit_code == code, output
    assert words.lower() in output.lower(), output
    if code == 3:
        assert "Error:" in output and "Fix:" in output
    if command == "tabs" or code == 3:
        assert snapshot(path) == before, "the file changed"
        assert not (path.parent / BACKUP_DIR).exists()


DIRECT: list[tuple[str, Callable[[Path], Path], type[SheetCrmError], bool]] = [
    ("missing file", _missing, WorkbookNotFound, False),
    ("a directory", _directory, UnsupportedWorkbook, False),
    ("not a zip", _bytes(b"garbage" * 50), UnsupportedWorkbook, False),
    ("empty file", _bytes(b""), UnsupportedWorkbook, False),
    (
        "encrypted",
        _shared("conformance", "real-workbooks", "calamine", "pass_protected.xlsx"),
        WorkbookProtected,
        False,
    ),
    (
        "strict",
        _shared("conformance", "real-workbooks", "calamine", "strict_iso_paths.xlsx"),
        UnsupportedWorkbook,
        False,
    ),
    ("cut-off file", _truncated, UnsupportedWorkbook, False),
    ("open in Excel", _open_in_excel, WorkbookLocked, True),
    ("read-only folder", _read_only_folder, NotWritable, True),
    ("read-only file", _read_only_file, NotWritable, True),
]


@pytest.mark.parametrize(("case", "build", "error", "readable"), DIRECT, ids=[d[0] for d in DIRECT])
def test_broken_input_directly(
    case: str, build: Callable[[Path], Path], error: type[SheetCrmError], readable: bool, tmp_path: Path
) -> None:
    path = build(tmp_path)
    before = snapshot(path)
    backend = XlsxBackend(path)
    try:
        with pytest.raises(error) as info:
            version = backend.read().version if readable else "unread"
            backend.write(plan(), expected_version=version)
    finally:
        for folder in (tmp_path, *tmp_path.iterdir()):
            if folder.is_dir():
                folder.chmod(0o755)
    assert info.value.message and info.value.fix
    assert path.name in str(info.value)
    assert snapshot(path) == before


def test_a_tab_of_the_owners_with_a_tool_tab_name_is_not_overwritten(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "crm.xlsx", {"Customers": [CUSTOMERS_HEAD], "tiers": [["My own notes"]]})
    backend = XlsxBackend(path)
    old = path.read_bytes()
    with pytest.raises(WriteFailed, match="did not make"):
        backend.write(plan(), expected_version=backend.read().version)
    assert path.read_bytes() == old


def test_text_is_never_written_as_a_formula(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "crm.xlsx")
    backend = XlsxBackend(path)
    risky = ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "\t=1", "\r=1", "bad \x01 char", "_x0041_ literal"]
    tab = ToolTab("Issues", ["Value"], [[v] for v in risky])
    backend.write(WritePlan(tabs=[tab], generated_at=WHEN), expected_version=backend.read().version)
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = zf.read(sorted(names)[-1]).decode()
    assert "<f>" not in xml and "<f " not in xml
    table = backend.read().tab("Issues")
    assert table is not None
    assert [r.values[0] for r in table.rows] == [v.replace("\x01", "") for v in risky]


def test_tool_tab_presentation(tmp_path: Path) -> None:
    path = make_workbook(tmp_path / "crm.xlsx")
    backend = XlsxBackend(path)
    tab = ToolTab(
        "Tiers", ["Customer ID", "Why"], [["C1", "a long reason " * 20]], widths={"Customer ID": 14}
    )
    backend.write(WritePlan(tabs=[tab], generated_at=WHEN), expected_version=backend.read().version)
    book = openpyxl.load_workbook(path)
    sheet = book["Tiers"]
    assert str(sheet["A1"].value).startswith("Generated by sheet-crm on 2026-11-22 09:30")
    assert sheet["A1"].font.i
    assert sheet["A2"].font.b and sheet["B2"].font.b
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == "A2:B3"
    assert sheet.column_dimensions["A"].width == 14
    assert sheet.column_dimensions["B"].width == 60  # estimated, capped
    assert book.sheetnames[-1] == "Tiers"


def test_dates_and_1904_date_system(tmp_path: Path) -> None:
    source = shared_path("conformance", "real-workbooks", "calamine", "date_1904.xlsx")
    path = tmp_path / "date_1904.xlsx"
    path.write_bytes(source.read_bytes())
    backend = XlsxBackend(path)
    workbook = backend.read()
    values = [v for t in workbook.tables.values() for r in t.rows for v in r.values]
    assert datetime(1904, 1, 11, 15, 10, 10) in values or any(
        isinstance(v, datetime) and v.year >= 1904 for v in values
    )
    moment = datetime(2026, 3, 4, 5, 6)
    backend.write(
        WritePlan(tabs=[ToolTab("Runs", ["When"], [[moment]])], generated_at=WHEN),
        expected_version=workbook.version,
    )
    runs = backend.read().tab("Runs")
    assert runs is not None and runs.rows[0].values == [moment]


def test_merged_cells_are_reported(tmp_path: Path) -> None:
    source = shared_path("conformance", "real-workbooks", "xlsxwriter", "merge_range01.xlsx")
    path = tmp_path / "m.xlsx"
    path.write_bytes(source.read_bytes())
    workbook = XlsxBackend(path).read()
    merged = [f for f in workbook.findings if f.code == "merged-cells"]
    assert merged and merged[0].location.cell.startswith("Sheet1!")
    assert "Unmerge" in merged[0].fix


def test_zip_writer_copies_parts_verbatim(tmp_path: Path) -> None:
    """Compressed bytes of untouched parts are copied, not recompressed."""
    source = shared_path("conformance", "real-workbooks", "xlsxwriter", "chart_line01.xlsx")
    path = tmp_path / "c.xlsx"
    path.write_bytes(source.read_bytes())
    with zipfile.ZipFile(path) as zf:
        before = {i.filename: (i.CRC, i.compress_size, i.compress_type) for i in zf.infolist()}
    backend = XlsxBackend(path)
    backend.write(WritePlan(tabs=plan().tabs, generated_at=WHEN), expected_version=backend.read().version)
    with zipfile.ZipFile(path) as zf:
        after = {i.filename: (i.CRC, i.compress_size, i.compress_type) for i in zf.infolist()}
    kept = {
        "xl/charts/chart1.xml",
        "xl/drawings/drawing1.xml",
        "xl/worksheets/sheet1.xml",
        "xl/theme/theme1.xml",
    }
    for name in kept:
        assert after[name] == before[name]
    assert xlsx_write.ZipWriter is not None and xlsx_module.XlsxBackend is XlsxBackend


# ---------------------------------------------------------------- another run replaces the file


def _replaced_by_another_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, times: int = 1) -> Path:
    """Make the workbook's next write(s) find it replaced, by another run's atomic save,
    just after the package's table of contents was read and before its bytes are copied
    (where the old code opened the path a second time)."""
    path = make_workbook(tmp_path / "crm.xlsx")
    real_apply = xlsx_module._PackageEdit.apply
    left = {"n": times}

    def apply_then_replace(self: object, *args: object, **kwargs: object) -> None:
        real_apply(self, *args, **kwargs)  # type: ignore[arg-type]
        if left["n"] > 0:
            left["n"] -= 1
            other = make_workbook(
                tmp_path / "other.xlsx",
                {
                    "Customers": [["Customer ID", "Name", "Email"], ["C1", "Ann Leigh", "ann@x.org"]],
                    "Notes": [["Saved by another run"]] + [[f"line {i}"] for i in range(200)],
                },
            )
            os.replace(other, path)

    monkeypatch.setattr(xlsx_module._PackageEdit, "apply", apply_then_replace)
    return path


def test_a_file_replaced_during_a_write_is_changed_not_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 20, item 6: the table of contents and the bytes come from one open file, so
    the other run's save is seen as a change (re-read, recompute), never as damage."""
    path = _replaced_by_another_run(tmp_path, monkeypatch)
    backend = XlsxBackend(path)
    version = backend.read().version
    with pytest.raises(WorkbookChanged, match="changed while sheet-crm was writing"):
        backend.write(plan(), expected_version=version)
    replaced = path.read_bytes()
    table = XlsxBackend(path).read().find("Customers")
    assert table is not None and table.rows[0].values[1] == "Ann Leigh"  # the other run's save stands
    assert not [n for n in folder_listing(tmp_path) if n.endswith((".tmp", ".lock"))]
    assert path.read_bytes() == replaced


def test_a_run_whose_file_was_replaced_reads_again_and_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sheet_crm import api

    path = _replaced_by_another_run(tmp_path, monkeypatch)
    report = api.run(path, ["validate"], today=datetime(2026, 11, 22).date())
    assert report.written is not None
    workbook = XlsxBackend(path).read()
    customers = workbook.find("Customers")
    assert customers is not None and customers.rows[0].values[1] == "Ann Leigh"
    assert {"Notes", "Issues"} <= set(workbook.tables)


def test_read_fingerprints_the_bytes_it_parses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file replaced while it is being read: the version read is the version parsed, so
    the write that follows finds the change."""
    path = make_workbook(tmp_path / "crm.xlsx")
    original = path.read_bytes()
    other = make_workbook(tmp_path / "other.xlsx", {"Customers": [["Customer ID"], ["C9"]]})
    real = xlsx_module.rd.read_package_info

    def info_then_replace(*args: object) -> object:
        result = real(*args)  # type: ignore[arg-type]
        if other.exists():
            os.replace(other, path)
        return result

    monkeypatch.setattr(xlsx_module.rd, "read_package_info", info_then_replace)
    workbook = XlsxBackend(path).read()
    monkeypatch.undo()
    customers = workbook.find("Customers")
    assert customers is not None and customers.rows[0].values[0] == "C1"  # the file that was opened
    assert workbook.version.endswith(":" + hashlib.sha256(original).hexdigest())  # ... and its version
    with pytest.raises(WorkbookChanged):
        XlsxBackend(path).write(plan(), expected_version=workbook.version)
