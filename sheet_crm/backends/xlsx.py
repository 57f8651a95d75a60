"""The .xlsx backend: reads cached values, writes the tool's tabs by editing the package.

Loading and re-saving an owner's workbook with a general library loses what that library
does not model (shapes, form controls, slicers, in-cell pictures, newer validation and
conditional formats, cached formula values). So this backend never re-saves the
workbook: it copies every part it does not own byte for byte and changes only

* the tool tabs' own sheet parts (and their drawing and chart parts),
* the parts that list sheets (``xl/workbook.xml``, its relationships,
  ``[Content_Types].xml``, ``docProps/app.xml``),
* the ends of the lists in ``xl/styles.xml`` (new entries only), and
* for the few owner-tab writes, the single ``<c>`` elements concerned.

Writing follows the safety protocol: refuse while Excel or LibreOffice has the file
open, refuse when it changed since it was read, write a temp file beside it, check that
it reopens, keep a backup, then replace the workbook atomically.

Each read or write opens the workbook once: the zip's table of contents, every part and
the fingerprint (the version a write is checked against) come from that one open file, so
a file replaced meanwhile by another run is "changed since read", never "damaged". Writers
take an operating-system lock beside the workbook, which the system frees when a run dies.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import stat
import zipfile
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import filelock
from lxml import etree

from ..errors import (
    NotWritable,
    SheetCrmError,
    TabNotFound,
    UnsupportedWorkbook,
    UsageError,
    WorkbookChanged,
    WorkbookDamaged,
    WorkbookLocked,
    WriteFailed,
)
from ..findings import Location, Severity, column_letter
from ..gcpause import paused_gc
from ..lockfiles import lock_files
from ..workbook import (
    GENERATED_MARK,
    Cell,
    FindingList,
    Row,
    Table,
    ToolTab,
    Workbook,
    WritePlan,
    WriteReport,
    build_table,
    generated_note,
    header_key,
    is_blank,
    same_cell,
)
from . import xlsx_chart as charts
from . import xlsx_read as rd
from . import xlsx_write as wr
from .base import Backend

BACKUP_DIR = ".sheet-crm-backups"
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[ >/]")
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
_BAD_TAB_CHARS = re.compile(r"[\[\]:*?/\\]")


def fingerprint(path: Path) -> str:
    """What identifies this state of the file: size, modification time and content hash."""
    with path.open("rb") as f:
        return fingerprint_file(f)


def fingerprint_file(f: BinaryIO) -> str:
    """The fingerprint of an open file: of exactly the bytes read through it (its size and
    time from the handle, not from the path, which may name another file by now)."""
    st = os.fstat(f.fileno())
    digest = hashlib.sha256()
    f.seek(0)
    for block in iter(lambda: f.read(1 << 20), b""):
        digest.update(block)
    f.seek(0)
    return f"{st.st_size}:{st.st_mtime_ns}:{digest.hexdigest()}"


def _damaged(path: Path, exc: BaseException) -> UnsupportedWorkbook:
    if isinstance(exc, etree.XMLSyntaxError):
        detail = f"a part is not well-formed XML: {exc}"
    else:
        detail = f"{type(exc).__name__}: {exc}"
    return WorkbookDamaged(
        f"{path.name} looks damaged: sheet-crm could not read part of it ({detail}).",
        "Open it in Excel or LibreOffice, let it repair the file, save it as 'Excel Workbook (.xlsx)' "
        "and run again.",
        where=str(path),
    )


def _located(exc: SheetCrmError, path: Path, tab: str = "") -> None:
    """A reader's failure, said of this workbook (and tab)."""
    if not exc.where:
        exc.where = str(path)
        if tab and f"'{tab}'" not in exc.message:
            exc.message = f"In the tab '{tab}': {exc.message}"


_READ_ERRORS = (
    etree.XMLSyntaxError,
    KeyError,
    zipfile.BadZipFile,
    zlib.error,
    ValueError,
    IndexError,
    EOFError,
    OverflowError,
)

WRITE_LOCK_WAIT = 30.0  # seconds a write waits for another sheet-crm run's write to finish


def write_lock_path(path: Path) -> Path:
    return path.parent / f".{path.name}.sheet-crm-write.lock"


@contextlib.contextmanager
def _write_lock(path: Path) -> Iterator[None]:
    """Only one sheet-crm run writes a workbook at a time. The lock is the operating
    system's (flock, or its Windows twin, through ``filelock``): a run that dies, however
    it dies, holds it no longer, so no process number is ever taken for a live writer."""
    lock_file = write_lock_path(path)
    lock = filelock.FileLock(lock_file, timeout=WRITE_LOCK_WAIT)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise WorkbookLocked(
            f"Another sheet-crm run has been writing {path.name} for more than {WRITE_LOCK_WAIT:g} seconds; "
            "nothing was written.",
            "Wait for that run to finish and run again. (A run that was stopped or crashed holds no "
            "lock, so one is still going.)",
            where=str(path),
        ) from None
    try:
        yield
    finally:
        # Removed while still held, so the folder keeps no lock file: a run waiting on it
        # finds, once it gets the lock, that its file is gone and opens the path afresh
        # (filelock 4 checks the link count). On Windows filelock removes it on release.
        with contextlib.suppress(OSError):
            lock_file.unlink()
        lock.release()


class XlsxBackend(Backend):
    """A local .xlsx (or .xlsm) workbook.

    Options: ``backups`` (how many backups to keep, default 5), ``verify`` (re-read
    the written tabs from the temp file before replacing the workbook, default on).
    """

    kind = "xlsx"

    def __init__(self, path: Path, *, backups: int = 5, verify: bool = True, **options: Any) -> None:
        self.path = Path(path)
        self.backups = backups
        self.verify = verify
        self.options = options

    @property
    def label(self) -> str:
        return str(self.path)

    # ------------------------------------------------------------ reading

    def read(self) -> Workbook:
        """Every worksheet as a ``Table`` of cached values (chart sheets have no cells)."""
        path = self.path
        rd.check_file(path)
        findings = FindingList()
        tables: dict[str, Table] = {}
        tab = ""
        try:
            with path.open("rb") as raw, paused_gc():
                version = fingerprint_file(raw)  # of the very bytes read below
                with rd.open_package_file(raw, path) as zf:
                    info = rd.read_package_info(zf, path)
                    strings = rd.read_shared_strings(zf, info.shared_strings_part)
                    date_styles = rd.read_date_styles(zf, info.styles_part)
                    for sheet in info.sheets:
                        if sheet.kind != "worksheet":
                            continue
                        tab = sheet.name
                        data = rd.read_sheet(zf, sheet.part, strings, date_styles, info.date1904)
                        tables[sheet.name] = _table(sheet.name, data, findings)
                    tab = ""
        except SheetCrmError as exc:
            _located(exc, path, tab)
            raise
        except _READ_ERRORS as exc:
            raise _damaged(path, exc) from exc
        except PermissionError as exc:
            raise NotWritable(
                f"sheet-crm may not read {path} ({exc.strerror}).",
                "Give your user permission to read the file, or copy it somewhere you own.",
                where=str(path),
            ) from exc
        return Workbook(tables, source=str(path), version=version, findings=findings)

    # ------------------------------------------------------------ writing

    def write(self, plan: WritePlan, *, expected_version: str) -> WriteReport:
        path = self.path
        self._refuse_if_open()
        rd.check_file(path)
        self._check_writable()
        for tab in plan.tabs:
            _check_tab_name(tab.name)
        when = plan.generated_at or datetime.now()
        tmp = path.parent / f".{path.name}.sheet-crm-{os.getpid()}.tmp"
        report = WriteReport()
        try:
            with _write_lock(path):
                _remove_stale_temps(path)
                # One open file for everything: the fingerprint, the zip's table of contents
                # and the bytes copied come from the same file, even if the path is replaced.
                with path.open("rb") as raw:
                    edit = self._edit_into(raw, tmp, plan, report, when, expected_version)
                if self.verify:
                    self._verify(tmp, plan, edit)
                self._refuse_if_open()
                if fingerprint(path) != expected_version:
                    raise WorkbookChanged(
                        f"{path.name} changed while sheet-crm was writing; nothing was written.",
                        "Run the command again.",
                        where=str(path),
                    )
                report.backup = str(self._backup())
                with contextlib.suppress(OSError):
                    os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
                os.replace(tmp, path)
        except SheetCrmError:
            _remove(tmp)
            raise
        except PermissionError as exc:
            _remove(tmp)
            raise NotWritable(
                f"sheet-crm may not write in {path.parent} ({exc.strerror}); nothing was written.",
                "Give your user permission to change the folder and the workbook, or copy the "
                "workbook to a folder you own.",
                where=str(path),
            ) from exc
        except OSError as exc:
            _remove(tmp)
            raise WriteFailed(
                f"Writing {path.name} failed ({exc.strerror or exc}); the workbook was left as it was.",
                "Check there is free disk space and that the folder is writable, then run again.",
                where=str(path),
            ) from exc
        except BaseException:
            _remove(tmp)
            raise
        _fsync_dir(path.parent)
        return report

    def _edit_into(
        self,
        raw: BinaryIO,
        tmp: Path,
        plan: WritePlan,
        report: WriteReport,
        when: datetime,
        expected_version: str,
    ) -> _PackageEdit:
        """Work out the package's changes from the open workbook and write the new package
        to ``tmp``. Every part read here is read as strictly as ``read`` reads it."""
        path = self.path
        try:
            with rd.open_package_file(raw, path) as zf, paused_gc():
                info = rd.read_package_info(zf, path)  # refuse Strict, .ods, ... for what they are
                if fingerprint_file(raw) != expected_version:
                    raise WorkbookChanged(
                        f"{path.name} changed after sheet-crm read it (someone saved it, or another "
                        "run wrote to it); nothing was written.",
                        "Run the command again; it will read the workbook as it is now.",
                        where=str(path),
                    )
                edit = _PackageEdit(zf, info, path, when)
                edit.apply(plan, report)
                with tmp.open("wb") as out:
                    edit.write_to(raw, out)
                    out.flush()
                    os.fsync(out.fileno())
        except SheetCrmError as exc:
            _located(exc, path)
            raise
        except _READ_ERRORS as exc:
            raise _damaged(path, exc) from exc
        return edit

    def _refuse_if_open(self) -> None:
        locks = lock_files(self.path)
        if not locks:
            return
        lock = locks[0]
        app = "LibreOffice" if lock.name.startswith(".~lock.") else "Excel"
        raise WorkbookLocked(
            f"{self.path.name} is open in {app} (its lock file {lock.name} is beside it), so sheet-crm "
            "will not change it now; nothing was written.",
            f"Save and close the workbook in {app}, then run again. If {app} is not running "
            f"(it may have crashed), delete {lock}.",
            where=str(self.path),
        )

    def _check_writable(self) -> None:
        folder, path = self.path.parent, self.path
        folder_mode, file_mode = folder.stat().st_mode, path.stat().st_mode
        if not os.access(folder, os.W_OK | os.X_OK) or not folder_mode & 0o222:
            raise NotWritable(
                f"The folder {folder} is read-only, so sheet-crm cannot save {path.name} safely; "
                "nothing was written.",
                "Move the workbook to a folder you can write to (or make this one writable) and run again.",
                where=str(path),
            )
        if not os.access(path, os.W_OK) or not file_mode & 0o222:
            raise NotWritable(
                f"{path.name} is marked read-only; nothing was written.",
                "Clear the read-only setting (file Properties, or 'chmod u+w') and run again.",
                where=str(path),
            )

    def _verify(self, tmp: Path, plan: WritePlan, edit: _PackageEdit) -> None:
        """The temp file must open as a zip, every part we changed or added must decompress
        and be well-formed XML, and our reader must find each tool tab with its header and
        row count."""
        try:
            with zipfile.ZipFile(tmp) as zf, paused_gc():
                info = rd.read_package_info(zf, self.path)
                found = {s.name.casefold(): s for s in info.sheets}
                rows_in: dict[str, int] = {}
                for part in (*edit.changed, *edit.added):
                    if part.endswith((".xml", ".rels")):  # well-formed, and the CRC of the whole part
                        rows_in[part] = rd.check_well_formed(zf, part, count=b"<row ")
                date_styles = rd.read_date_styles(zf, info.styles_part)
                for tab in plan.tabs:
                    sheet = found.get(tab.name.casefold())
                    if sheet is None or not sheet.part or sheet.part not in rows_in:
                        raise ValueError(f"tab {tab.name} missing")
                    rows = rows_in[sheet.part]
                    if rows < 2 + len(tab.rows):
                        raise ValueError(f"tab {tab.name} has {rows - 2} data rows, not {len(tab.rows)}")
                    # tool tabs hold inline strings only, so no shared strings are needed
                    data = rd.read_sheet(zf, sheet.part, [], date_styles, info.date1904, max_rows=2)
                    header = data.rows[1] if len(data.rows) > 1 else []
                    if [str(h) for h in header[: len(tab.headers)]] != [str(h) for h in tab.headers]:
                        raise ValueError(f"tab {tab.name} header differs")
                    note = data.rows[0][0] if data.rows and data.rows[0] else None
                    if not (isinstance(note, str) and note.startswith(GENERATED_MARK)):
                        raise ValueError(f"tab {tab.name} note missing")
        except (SheetCrmError, *_READ_ERRORS) as exc:
            raise WriteFailed(
                f"The new version of {self.path.name} did not read back correctly ({exc}); the workbook "
                "was left as it was.",
                "Run again with --debug and report the message.",
                where=str(self.path),
            ) from exc

    def _backup(self) -> Path:
        """Keep the current file in .sheet-crm-backups (a hard link when possible: instant,
        and the replaced file lives on there), then drop all but the newest ``backups``."""
        folder = self.path.parent / BACKUP_DIR
        folder.mkdir(exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        target = folder / f"{self.path.stem}.{stamp}{self.path.suffix}"
        try:
            os.link(self.path, target)
        except OSError:
            shutil.copy2(self.path, target)
        pattern = re.compile(
            re.escape(self.path.stem) + r"\.\d{8}-\d{6}-\d{6}" + re.escape(self.path.suffix) + "$"
        )
        ours = sorted(p for p in folder.iterdir() if pattern.match(p.name))
        for old in ours[: max(len(ours) - self.backups, 0)]:
            with contextlib.suppress(OSError):
                old.unlink()
        return target


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _remove_stale_temps(path: Path) -> None:
    """Temp files left by a run that was killed mid-write. Called while holding the write
    lock, so no other run is writing one now: every temp of this workbook is stale."""
    pattern = re.compile(re.escape(f".{path.name}.sheet-crm-") + r"\d+\.tmp$")
    for entry in path.parent.iterdir():
        if pattern.match(entry.name):
            _remove(entry)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _check_tab_name(name: str) -> None:
    if (
        not name
        or len(name) > 31
        or _BAD_TAB_CHARS.search(name)
        or name.startswith("'")
        or name.endswith("'")
    ):
        raise UsageError(
            f"'{name}' cannot be a tab name in Excel (at most 31 characters, none of [ ] : * ? / \\, "
            "and not starting or ending with an apostrophe).",
            "Choose a shorter or plainer tab name.",
        )


def _first_column(rows: list[list[Cell]]) -> int:
    """The first sheet column (1 = A) holding anything, so a table that starts in column C
    does not get two blank headers."""
    first = None
    for line in rows:
        for i, v in enumerate(line):
            if v is not None:
                if first is None or i < first:
                    first = i
                break
        if first == 0:
            break
    return (first or 0) + 1


_TOP = 20  # build_table finds the header within the top 15 rows


def _table(name: str, data: rd.SheetData, findings: FindingList) -> Table:
    first_col = _first_column(data.rows)
    grid = data.rows if first_col == 1 else [line[first_col - 1 :] for line in data.rows]
    # Header detection, aliases and findings come from build_table, which looks at the top
    # rows only; the rows below are added here the same way (padded to the headers, blank
    # rows skipped) but reusing the lists just read, so a 1M-row tab is not held twice.
    table = build_table(
        name, grid[:_TOP], first_column=first_col, findings=findings, merged_cells=data.merged
    )
    width = len(table.headers)
    if width:
        rows = table.rows
        for index in range(_TOP, len(grid)):
            line = grid[index]
            n = len(line)
            if n > width:
                del line[width:]
            elif n < width:
                line.extend([None] * (width - n))
            for v in line:
                if v is not None and (type(v) is not str or v.strip()):
                    rows.append(Row(index + 1, line))
                    break
    for ref in data.merged:
        top_left = ref.split(":", 1)[0]
        m = re.fullmatch(r"([A-Z]+)(\d+)", top_left)
        if m is None:
            continue
        findings.add(
            "merged-cells",
            Severity.WARNING,
            Location(name, int(m.group(2)), rd.column_number(m.group(1))),
            f"Cells {ref} of the {name} tab are merged; sheet-crm reads the value in {top_left} only "
            "and treats the other cells as blank.",
            "Unmerge them (Home > Merge & Center > Unmerge Cells) and type the value in every cell "
            "that needs it.",
            value=ref,
        )
    for row, column, length in data.too_long:
        findings.add(
            "cell-too-long",
            Severity.ERROR,
            Location(name, row, column),
            f"This cell holds {length:,} characters; a cell holds at most {rd.EXCEL_MAX_CELL_CHARS:,} in "
            "Excel, so Excel would cut it (the workbook was not saved by Excel as it is now).",
            "Shorten the text, or split it over several cells or rows.",
            value=f"{length:,} characters",
        )
    return table


class _PackageEdit:
    """The changes one write makes to the package, computed before any byte is written."""

    def __init__(self, zf: zipfile.ZipFile, info: rd.PackageInfo, path: Path, when: datetime) -> None:
        self.zf = zf
        self.info = info
        self.path = path
        self.when = when
        self.changed: dict[str, bytes] = {}  # existing parts with new content
        self.added: dict[str, bytes] = {}  # new parts, in order
        self.deleted: set[str] = set()
        self.ct_add: dict[str, str] = {}
        self.ct_remove: list[str] = []
        self.taken = {n.lower() for n in info.names}
        self._strings: list[str] | None = None
        self._date_styles: frozenset[int] | None = None
        self._checked: set[str] = set()  # parts already found well-formed in this write

    # -- helpers

    def text(self, part: str) -> str:
        if part in self.changed:
            return self.changed[part].decode("utf-8")
        if part in self.added:
            return self.added[part].decode("utf-8")
        data = rd.read_part(self.zf, part, whole=False)
        if part not in self._checked:
            # edited as text, so first made sure a strict parser accepts it
            checker = rd.WellFormed(part)
            checker.feed(data)
            checker.finish()
            self._checked.add(part)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WorkbookDamaged(
                f"The part {part} is not valid UTF-8 text ({exc.reason}), so sheet-crm cannot edit it.",
                rd.REPAIR,
            ) from exc

    def put(self, part: str, data: bytes) -> None:
        if part in self.info.names and part not in self.deleted:
            self.changed[part] = data
        else:
            self.deleted.discard(part)
            self.added[part] = data

    def free_name(self, folder: str, stem: str, ext: str) -> str:
        n = 1
        while f"{folder}/{stem}{n}{ext}".lower() in self.taken:
            n += 1
        name = f"{folder}/{stem}{n}{ext}"
        self.taken.add(name.lower())
        return name

    def sheet(self, part: str, max_rows: int = 1 << 40) -> rd.SheetData:
        if self._strings is None:
            self._strings = rd.read_shared_strings(self.zf, self.info.shared_strings_part)
            self._date_styles = rd.read_date_styles(self.zf, self.info.styles_part)
        assert self._date_styles is not None
        data = rd.read_sheet(self.zf, part, self._strings, self._date_styles, self.info.date1904, max_rows)
        if max_rows >= rd.EXCEL_MAX_ROWS:
            self._checked.add(part)  # read whole, so found well-formed
        return data

    def has_formulas(self, part: str) -> bool:
        """Whether a sheet part holds any formula, without parsing its cells."""
        limits = rd.current_limits()
        tail = b""
        with rd.PartStream(self.zf, part, limits.part_bytes, limits) as stream:
            while data := stream.read(rd.CHUNK):
                if _FORMULA_TAG.search(tail + data) is not None:
                    return True
                tail = data[-16:]
        return False

    # -- the plan

    def apply(self, plan: WritePlan, report: WriteReport) -> None:
        self.styles = self._styles()
        by_name = {s.name: s for s in self.info.sheets}
        by_fold = {s.name.casefold(): s for s in self.info.sheets}
        self._owner_writes(plan, report, by_name, by_fold)
        new_titles: list[str] = []
        for tab in plan.tabs:
            existing = by_fold.get(tab.name.casefold())
            self._tool_tab(tab, existing, new_titles)
            if existing is None:
                # later tabs of the same plan must see this one
                by_fold[tab.name.casefold()] = rd.SheetEntry(tab.name, 0, "", "", "new")
            report.tabs_written.append(tab.name)
        if self.styles_editor is not None and self.styles_editor.changed:
            self.put(self.styles_part, self.styles_editor.render())
        if "docProps/app.xml" in self.info.names and new_titles:
            app = wr.app_titles_edit(rd.read_part(self.zf, "docProps/app.xml"), new_titles)
            if app is not None:
                self.put("docProps/app.xml", app)
        if self.ct_add or self.ct_remove:
            ct = wr.content_types_edit(self.text("[Content_Types].xml"), self.ct_add, self.ct_remove)
            self.put("[Content_Types].xml", ct.encode("utf-8"))

    def _styles(self) -> wr.StyleIds:
        part = self.info.styles_part
        if part is None:
            folder = os_dir(self.info.workbook_part)
            part = f"{folder}/styles.xml" if folder else "styles.xml"
            if part.lower() in self.taken:
                part = self.free_name(folder or ".", "styles", ".xml")
            self.taken.add(part.lower())
            self.styles_editor = wr.StylesEditor(wr.MINIMAL_STYLES)
            self.styles_editor.changed = True
            self._add_workbook_rel(rd.REL_TYPE_STYLES, part)
            self.ct_add[part] = CT_STYLES
        else:
            self.styles_editor = wr.StylesEditor(rd.read_part(self.zf, part), part)
        self.styles_part = part
        return self.styles_editor.tool_styles(self.info.date1904)

    def _drop_calc_chain(self) -> None:
        """The owner typed formulas into a tool tab that is now replaced: Excel's calculation
        chain (a cache of where formulas are) would point at cells that no longer hold
        one, which Excel reports as damage. Dropping the chain is safe: Excel rebuilds it."""
        rels_part = rd.rels_part_of(self.info.workbook_part)
        for rid, typ, target, _mode in rd.read_rels(self.zf, self.info.workbook_part):
            if not typ.endswith("/calcChain") or target in self.deleted:
                continue
            self.deleted.add(target)
            self.ct_remove.append(target)
            text = self.text(rels_part)
            text = re.sub(r'<(?:\w+:)?Relationship\b[^>]*\bId="' + re.escape(rid) + r'"[^>]*/>', "", text)
            self.put(rels_part, text.encode("utf-8"))

    def _add_workbook_rel(self, rel_type: str, part: str) -> str:
        rels_part = rd.rels_part_of(self.info.workbook_part)
        text = self.text(rels_part)
        used = set(re.findall(r'\bId="([^"]*)"', text))
        n = 1
        while f"rIdSc{n}" in used:
            n += 1
        rid = f"rIdSc{n}"
        target = wr.relative_target(self.info.workbook_part, part)
        self.put(rels_part, wr.add_relationship(text, rid, rel_type, target).encode("utf-8"))
        return rid

    def _owned_parts(self, sheet_part: str) -> set[str]:
        """Parts reached from a tool sheet's relationships (its drawing, charts, ...),
        minus any that another part of the workbook also uses."""
        found: set[str] = set()
        todo = [sheet_part]
        while todo:
            part = todo.pop()
            for _rid, _typ, target, mode in rd.read_rels(self.zf, part):
                if mode == "External" or target in found or target not in self.info.names:
                    continue
                found.add(target)
                todo.append(target)
        if not found:
            return found
        own_rels = {rd.rels_part_of(p) for p in found | {sheet_part}}
        for name in self.info.names:
            if not name.endswith(".rels") or name in own_rels:
                continue
            source = _source_of_rels(name)
            for _rid, _typ, target, _mode in rd.read_rels(self.zf, source):
                found.discard(target)
        return found

    def _tool_tab(self, tab: ToolTab, existing: rd.SheetEntry | None, new_titles: list[str]) -> None:
        rows: list[list[Cell]] = [list(r) for r in tab.rows]
        if existing is not None and existing.kind == "new":
            raise UsageError(f"The plan writes the tab '{tab.name}' twice.", "Write each tab once.")
        if existing is not None:
            if existing.kind != "worksheet" or not existing.part:
                raise WriteFailed(
                    f"The workbook has a chart sheet or other non-grid tab called '{existing.name}', where "
                    "sheet-crm writes its results; nothing was written.",
                    f"Rename that tab (sheet-crm needs the name '{tab.name}'), then run again.",
                    where=str(self.path),
                )
            # A tab being replaced is only looked at for its first rows (is it ours?) and
            # for formulas; an append-only tab's old rows are kept, so it is read whole.
            old = self.sheet(existing.part, max_rows=(1 << 40) if tab.append_only else 50)
            first = old.rows[0][0] if old.rows and old.rows[0] else None
            has_cells = any(any(v is not None for v in line) for line in old.rows[:50])
            if has_cells and not (isinstance(first, str) and first.startswith(GENERATED_MARK)):
                raise WriteFailed(
                    f"The workbook already has a tab called '{existing.name}' that sheet-crm did not make, "
                    "so sheet-crm will not overwrite it; nothing was written.",
                    f"Rename your tab (sheet-crm writes its results to a tab named '{tab.name}'), "
                    "then run again.",
                    where=str(self.path),
                )
            if old.formulas or (not tab.append_only and self.has_formulas(existing.part)):
                self._drop_calc_chain()
            if tab.append_only:
                keep = [list(r) for r in old.rows[2:] if any(not is_blank(v) for v in r)]
                rows = keep + rows
            part = existing.part
            owned = self._owned_parts(part)
            old_rels = rd.rels_part_of(part)
            for p in owned | ({old_rels} if old_rels in self.info.names else set()):
                self.deleted.add(p)
                self.ct_remove.append(p)
                rels = rd.rels_part_of(p)
                if rels in self.info.names:
                    self.deleted.add(rels)
        else:
            folder = os_dir(self.info.workbook_part)
            part = self.free_name(f"{folder}/worksheets" if folder else "worksheets", "sheet", ".xml")
            rid = self._add_workbook_rel(rd.REL_TYPE_WORKSHEET, part)
            sheet_id = max([s.sheet_id for s in self.info.sheets] + [0]) + 1
            self.info.sheets.append(rd.SheetEntry(tab.name, sheet_id, rid, part, "worksheet"))
            wb_text = wr.add_sheet_to_workbook(self.text(self.info.workbook_part), tab.name, sheet_id, rid)
            self.put(self.info.workbook_part, wb_text.encode("utf-8"))
            self.ct_add[part] = CT_WORKSHEET
            new_titles.append(tab.name)
        widths = wr.column_widths(tab.headers, rows, tab.widths)
        drawing_rid = None
        if tab.charts:
            folder = os_dir(os_dir(part)) or "xl"
            drawing = self.free_name(f"{folder}/drawings", "drawing", ".xml")
            chart_parts = [self.free_name(f"{folder}/charts", "chart", ".xml") for _ in tab.charts]
            self.put(
                drawing,
                charts.drawing_xml(tab.charts, widths, 8.43).encode("utf-8"),
            )
            self.put(
                rd.rels_part_of(drawing),
                charts.drawing_rels_xml([wr.relative_target(drawing, c) for c in chart_parts]).encode(
                    "utf-8"
                ),
            )
            for spec, chart_part in zip(tab.charts, chart_parts, strict=True):
                self.put(
                    chart_part, charts.chart_xml(spec, tab.name, rows, ToolTab.FIRST_DATA_ROW).encode("utf-8")
                )
                self.ct_add[chart_part] = charts.CT_CHART
            self.ct_add[drawing] = charts.CT_DRAWING
            self.put(rd.rels_part_of(part), wr.sheet_rels_xml(wr.relative_target(part, drawing)))
            drawing_rid = "rId1"
        note = generated_note(tab, self.when)
        column_formats, cell_formats = tab.number_formats()
        assert self.styles_editor is not None
        style_of = self.styles_editor.number_style
        column_styles = [style_of(f) if f else None for f in column_formats]
        cell_styles = {at: style_of(f) for at, f in cell_formats.items()}
        kept = len(rows) - len(tab.rows)  # an append-only tab's earlier rows come first
        self.put(
            part,
            wr.tool_sheet_xml(
                note, tab.headers, rows, widths, self.styles, drawing_rid, column_styles, cell_styles, kept
            ),
        )

    def _owner_writes(
        self,
        plan: WritePlan,
        report: WriteReport,
        by_name: dict[str, rd.SheetEntry],
        by_fold: dict[str, rd.SheetEntry],
    ) -> None:
        targets: dict[str, dict[tuple[int, int], str]] = {}
        edits_at: dict[tuple[str, int, int], Any] = {}
        grids: dict[str, rd.SheetData] = {}

        def sheet_of(tab: str) -> rd.SheetEntry:
            entry = by_name.get(tab) or by_fold.get(tab.casefold())
            if entry is None or entry.kind != "worksheet" or not entry.part:
                raise TabNotFound(
                    f"There is no tab called '{tab}' in {self.path.name}; nothing was written.",
                    "Check the tab's name, or add the tab.",
                    where=str(self.path),
                )
            if entry.part not in grids:
                grids[entry.part] = self.sheet(entry.part)
            return entry

        for edit in plan.edits:
            entry = sheet_of(edit.tab)
            rows = grids[entry.part].rows
            current = (
                rows[edit.row - 1][edit.column - 1]
                if (edit.row - 1 < len(rows) and edit.column - 1 < len(rows[edit.row - 1]))
                else None
            )
            if not same_cell(current, edit.expected):
                report.skipped_edits.append(edit)
                continue
            ref = f"{column_letter(edit.column)}{edit.row}"
            xml = wr.cell_xml(ref, edit.value, self.styles) or f'<c r="{ref}"/>'
            targets.setdefault(entry.part, {})[(edit.row, edit.column)] = xml
            edits_at[(entry.part, edit.row, edit.column)] = edit
            report.cells_edited += 1
        next_row: dict[str, int] = {}
        for append in plan.appends:
            entry = sheet_of(append.tab)
            data = grids[entry.part]
            first_col = _first_column(data.rows)
            grid = data.rows if first_col == 1 else [line[first_col - 1 :] for line in data.rows]
            table = build_table(append.tab, grid, first_column=first_col)
            by_key = {header_key(h): i for i, h in enumerate(table.headers)}
            if entry.part not in next_row:
                last = max(
                    (r for r, cells in enumerate(data.rows, 1) if any(not is_blank(c) for c in cells)),
                    default=table.header_row,
                )
                next_row[entry.part] = last + 1
            r = next_row[entry.part]
            next_row[entry.part] = r + 1
            for header, value in append.values.items():
                i = by_key.get(header_key(header))
                if i is None or value is None:
                    continue
                col = first_col + i
                xml = wr.cell_xml(f"{column_letter(col)}{r}", value, self.styles)
                if xml:
                    targets.setdefault(entry.part, {})[(r, col)] = xml
            report.rows_appended += 1
        for part, cells in targets.items():
            try:
                new_text, skipped = wr.edit_cells(self.text(part), cells)
            except (wr.CannotEdit, ValueError) as exc:
                raise WriteFailed(
                    f"sheet-crm cannot safely change cells in one of your tabs ({exc}); nothing was written.",
                    "Open the workbook in Excel, save it, and run again.",
                    where=str(self.path),
                ) from exc
            for row, col in skipped:
                edit = edits_at.get((part, row, col))
                if edit is not None:
                    report.skipped_edits.append(edit)
                    report.cells_edited -= 1
            self.put(part, new_text.encode("utf-8"))

    # -- output

    def write_to(self, raw: Any, out: Any) -> None:
        when = self.when.timetuple()[:6]
        writer = wr.ZipWriter(out)
        for info in self.zf.infolist():
            name = info.filename
            if name in self.deleted:
                continue
            if name in self.changed:
                writer.write_new(name, self.changed[name], when)  # type: ignore[arg-type]
            else:
                writer.copy_raw(raw, info)
        for name, data in self.added.items():
            writer.write_new(name, data, when)  # type: ignore[arg-type]
        writer.close()


def os_dir(part: str) -> str:
    return part.rsplit("/", 1)[0] if "/" in part else ""


def _source_of_rels(rels_part: str) -> str:
    """``xl/_rels/workbook.xml.rels`` -> ``xl/workbook.xml``; ``_rels/.rels`` -> ``''``."""
    folder, name = rels_part.rsplit("/", 1) if "/" in rels_part else ("", rels_part)
    parent = folder[: -len("_rels")].rstrip("/") if folder.endswith("_rels") else folder
    source = name[: -len(".rels")]
    return f"{parent}/{source}" if parent and source else source


def iter_backups(path: Path) -> Iterator[Path]:
    """The backups kept for a workbook, oldest first."""
    folder = path.parent / BACKUP_DIR
    if not folder.is_dir():
        return iter(())
    pattern = re.compile(re.escape(path.stem) + r"\.\d{8}-\d{6}-\d{6}" + re.escape(path.suffix) + "$")
    return iter(sorted(p for p in folder.iterdir() if pattern.match(p.name)))
