"""Reading an .xlsx package: the sheet list, shared strings, styles and cached cell values.

Only the values the owner sees are read (the cached result of each formula), never the
formulas' own logic. Sheets are parsed in streamed chunks with a handful of compiled
regular expressions over the very regular XML that spreadsheet programs write; that is
several times faster than building an element per cell and keeps memory flat on
100k-row tabs. A sheet whose XML does not look like that (single-quoted attributes, cells
without references) goes through ``lxml.etree.iterparse`` instead; both give the same cells.

Nothing here trusts the file. Every part is read through ``PartStream``: its declared and
its actual size are held to ``Limits`` (and to a compression ratio, against zip bombs), its
prolog must hold no DTD, and zip's checksum is checked at its end. While the regular
expressions read a part, libxml2 checks that the same bytes are well-formed XML, so a part
a strict parser rejects (cut short, raw control characters, duplicated attributes) is
refused rather than read in part. Every pattern is linear:
possessive quantifiers and tempered bodies never rescan text, whatever the input.
"""

from __future__ import annotations

import codecs
import html
import math
import os
import posixpath
import re
import weakref
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from lxml import etree

from ..errors import (
    ConfigError,
    SheetCrmError,
    UnsafeWorkbook,
    UnsupportedWorkbook,
    WorkbookDamaged,
    WorkbookNotFound,
    WorkbookProtected,
    WorkbookTooLarge,
)
from ..serial import serial_to_datetime
from ..workbook import Cell, CellError, NoCachedValue

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
STRICT_NS_PREFIX = "http://purl.oclc.org/ooxml/"
REL_TYPE_WORKSHEET = REL_NS + "/worksheet"
REL_TYPE_OFFICE_DOC = REL_NS + "/officeDocument"
REL_TYPE_STYLES = REL_NS + "/styles"
REL_TYPE_SHARED_STRINGS = REL_NS + "/sharedStrings"

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CHUNK = 4 * 1024 * 1024
HEAD = 64 * 1024  # the start of a part, where its prolog (and any DTD) must be

# Built-in number formats that show a date or time (ECMA-376 18.8.30).
BUILTIN_DATE_FORMATS = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47})

SAVE_AS_XLSX = (
    "Open it in Excel or LibreOffice and use File > Save As > 'Excel Workbook (.xlsx)', "
    "then run sheet-crm on the new .xlsx file."
)
REPAIR = (
    "Open the workbook in Excel or LibreOffice, let it repair the file, save it as 'Excel Workbook "
    "(.xlsx)' and run again; or restore the last good copy (sheet-crm keeps backups in the "
    ".sheet-crm-backups folder beside the workbook)."
)


# ---------------------------------------------------------------- limits

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384  # column XFD
EXCEL_MAX_CELL_CHARS = 32_767
RATIO_GRACE_BYTES = 1 << 20  # a part under 1 MB may compress as well as it likes: it costs nothing


@dataclass(frozen=True)
class Limits:
    """How much sheet-crm agrees to unpack from one workbook. A file of a few kilobytes can
    otherwise claim gigabytes (a zip bomb); a genuine giant raises a limit through its
    environment variable (``LIMIT_VARIABLES``)."""

    part_mb: float = 1024.0  # one worksheet or shared-strings part, uncompressed
    zip_ratio: float = 100.0  # uncompressed / compressed size of a part over 1 MB
    empty_cells: int = 16_000_000  # blank cells padded in one tab to reach the cells beyond them

    @property
    def part_bytes(self) -> int:
        return int(self.part_mb * 1024 * 1024)

    @property
    def whole_part_bytes(self) -> int:
        """Parts read whole into a tree (workbook, relationships, styles, content types) cost
        several times their size in memory, so they get a sixteenth (64 MB by default)."""
        return self.part_bytes // 16

    @property
    def row_chars(self) -> int:
        """The most XML one row may take (32 MB by default); a full row of Excel cells at
        their longest is far below it in any workbook a person keeps."""
        return self.part_bytes // 32


LIMIT_VARIABLES = {
    "part_mb": "SHEET_CRM_MAX_PART_MB",
    "zip_ratio": "SHEET_CRM_MAX_ZIP_RATIO",
    "empty_cells": "SHEET_CRM_MAX_EMPTY_CELLS",
}


def current_limits() -> Limits:
    """The limits in force: the defaults, each overridden by its environment variable."""
    values: dict[str, Any] = {}
    defaults = Limits()
    for name, variable in LIMIT_VARIABLES.items():
        raw = os.environ.get(variable, "").strip()
        if not raw:
            continue
        default = getattr(defaults, name)
        try:
            value = type(default)(raw.replace("_", "").replace(",", ""))
        except ValueError:
            value = -1
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ConfigError(
                f"The environment variable {variable}={raw!r} is not a positive "
                f"{'whole number' if isinstance(default, int) else 'number'}.",
                f"Set {variable} to a number such as {default * 4:g}, or unset it to use the default "
                f"({default:g}).",
                where=variable,
            )
        values[name] = value
    return Limits(**values) if values else defaults


def _mb(n: float) -> str:
    if n < 1024 * 1024:
        return f"{n / 1024:,.1f} KB"
    return f"{n / (1024 * 1024):,.1f} MB"


def _raise_hint(name: str, needed: float) -> str:
    """``VARIABLE=value`` with a round value (a power of two) that would let ``needed`` pass."""
    value = max(2 ** math.ceil(math.log2(max(needed, 1.0))), 1)
    return f"{LIMIT_VARIABLES[name]}={value}"


# ---------------------------------------------------------------- parts, read safely


def _broken(part: str, exc: BaseException) -> SheetCrmError:
    """What a zip or decompression error means, in the owner's words."""
    text = str(exc)
    if isinstance(exc, zipfile.BadZipFile) and "CRC" in text:
        what = "its contents do not match the checksum stored in the zip (the file was damaged after saving)"
    elif isinstance(exc, zipfile.BadZipFile) and ("magic" in text or "header" in text):
        what = "its entry in the zip is damaged (the header before its data is not a zip header)"
    elif isinstance(exc, EOFError) or "truncated" in text.lower() or "end of" in text.lower():
        what = "it is cut short"
    elif isinstance(exc, zlib.error):
        what = f"its compressed data is damaged ({text})"
    elif isinstance(exc, NotImplementedError):
        return UnsupportedWorkbook(
            f"The part {part} is compressed in a way sheet-crm cannot read ({text}).", SAVE_AS_XLSX
        )
    elif isinstance(exc, RuntimeError) and "encrypt" in text.lower():
        return WorkbookProtected(
            f"The part {part} is encrypted inside the zip, so sheet-crm cannot read it.",
            "Save a copy without a password (File > Info > Protect Workbook) and run sheet-crm on it.",
        )
    else:
        what = f"it cannot be unpacked ({type(exc).__name__}: {text})"
    return WorkbookDamaged(f"The part {part} of the workbook is damaged: {what}.", REPAIR)


_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    ValueError,
)


def member(zf: zipfile.ZipFile, part: str) -> zipfile.ZipInfo:
    try:
        return zf.getinfo(part)
    except KeyError:
        raise WorkbookDamaged(
            f"The part {part} is named in the workbook but missing from the file.", REPAIR
        ) from None


class _Unpacked:
    """Bytes unpacked so far from one open package, against what the whole file may hold:
    parts whose zip entries share one compressed stream (overlapping entries) each pass the
    ratio check, but together expand far beyond the file."""

    def __init__(self, zf: zipfile.ZipFile, limits: Limits) -> None:
        try:
            size = os.fstat(zf.fp.fileno()).st_size  # type: ignore[union-attr]
        except (AttributeError, OSError, ValueError):
            size = sum(i.compress_size for i in zf.infolist())
        self.file_size = size
        self.declared = sum(i.file_size for i in zf.infolist())
        self.allowed = max(int(limits.zip_ratio * size), limits.part_bytes // 32, RATIO_GRACE_BYTES)
        self.total = 0


_UNPACKED: weakref.WeakKeyDictionary[zipfile.ZipFile, _Unpacked] = weakref.WeakKeyDictionary()


class PartStream:
    """One part's bytes, unpacked in bounded pieces and counted as they come: never more
    than the limit or the compression ratio allows, whatever the zip header claims, and
    never more, over all the parts read from one package, than the file's own size times
    the ratio. Zip's checksum is checked when the end is reached."""

    def __init__(self, zf: zipfile.ZipFile, part: str, limit: int, limits: Limits | None = None) -> None:
        self.part = part
        self.limits = limits or current_limits()
        self.limit = limit
        info = member(zf, part)
        self.packed = max(info.compress_size, 1)
        self._check(info.file_size, declared=True)
        try:
            self.f: IO[bytes] = zf.open(info)
        except _ZIP_ERRORS as exc:
            raise _broken(part, exc) from exc
        self.count = 0
        self._buffer = b""
        self._unpacked = _UNPACKED.get(zf)
        if self._unpacked is None:
            self._unpacked = _UNPACKED[zf] = _Unpacked(zf, self.limits)

    def _check_total(self, more: int) -> None:
        unpacked = self._unpacked
        unpacked.total += more
        if unpacked.total > unpacked.allowed:
            needed = max(unpacked.total, unpacked.declared) / max(unpacked.file_size, 1) + 1
            raise UnsafeWorkbook(
                f"Reading the parts of this {_mb(unpacked.file_size)} workbook (now {self.part}) has "
                f"already unpacked {_mb(unpacked.total)}, more than {self.limits.zip_ratio:g} times its "
                "size (SHEET_CRM_MAX_ZIP_RATIO). Spreadsheets do not compress that well: many small parts "
                "that each expand hugely, or zip entries sharing compressed data, are the mark of a zip "
                "bomb, so sheet-crm stops.",
                "If you trust the file, open it in Excel or LibreOffice and save it again, or raise the "
                f"limit for this run ({_raise_hint('zip_ratio', needed)}).",
            )

    def _check(self, size: int, *, declared: bool) -> None:
        claims = "claims" if declared else "has already unpacked to"
        if size > self.limit:
            big = self.limit == self.limits.part_bytes
            raise WorkbookTooLarge(
                f"The part {self.part} {claims} {_mb(size)}; sheet-crm unpacks at most {_mb(self.limit)} "
                f"for {'a sheet' if big else 'a part it reads whole'} (SHEET_CRM_MAX_PART_MB).",
                "If this really is your workbook, raise the limit for this run, for example "
                f"{_raise_hint('part_mb', size / (1024 * 1024) * self.limits.part_bytes / self.limit + 1)}; "
                "if you do not know where the file comes from, do not open it.",
            )
        ratio = size / self.packed
        if size > RATIO_GRACE_BYTES and ratio > self.limits.zip_ratio:
            raise UnsafeWorkbook(
                f"The part {self.part} is {_mb(self.packed)} compressed but {claims} {_mb(size)} "
                f"({ratio:,.0f} times larger); spreadsheets compress at most about "
                f"{self.limits.zip_ratio:g} times (SHEET_CRM_MAX_ZIP_RATIO), so this looks like a zip "
                "bomb and sheet-crm does not unpack it.",
                "If you trust the file, open it in Excel or LibreOffice and save it again, or raise the "
                f"limit for this run ({_raise_hint('zip_ratio', ratio + 1)}).",
            )

    def head(self, n: int = HEAD) -> bytes:
        """The first ``n`` bytes, kept to be read again."""
        while len(self._buffer) < n:
            more = self._read(n - len(self._buffer))
            if not more:
                break
            self._buffer += more
        return self._buffer[:n]

    def _read(self, n: int) -> bytes:
        try:
            data = self.f.read(n)
        except _ZIP_ERRORS as exc:
            raise _broken(self.part, exc) from exc
        self.count += len(data)
        self._check(self.count, declared=False)
        self._check_total(len(data))
        return data

    def read(self, n: int = CHUNK) -> bytes:
        if self._buffer:
            data, self._buffer = self._buffer[:n], self._buffer[n:]
            return data
        return self._read(n)

    def read_all(self) -> bytes:
        pieces = []
        while True:
            data = self.read(CHUNK)
            if not data:
                return b"".join(pieces)
            pieces.append(data)

    def close(self) -> None:
        self.f.close()

    def __enter__(self) -> PartStream:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _head_text(head: bytes) -> tuple[str, str]:
    """The start of a part as text, and its encoding (from the byte-order mark or declaration)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:2] in (b"<\x00", b"\x00<"):
        le = head.startswith(b"\xff\xfe") or head[:2] == b"<\x00"
        body = head[2:] if head[:2] in (b"\xff\xfe", b"\xfe\xff") else head
        return body[: len(body) // 2 * 2].decode("utf-16-le" if le else "utf-16-be", "replace"), "utf-16"
    text = head.decode("utf-8", "replace")
    m = re.match(r"\ufeff?\s*<\?xml\b[^>]*?\bencoding\s*=\s*[\"']([\w.:-]+)", text)
    encoding = m.group(1).lower().replace("_", "-") if m else "utf-8"
    return text, encoding


def check_prolog(head: bytes, part: str) -> str:
    """Refuse a part whose prolog holds a DTD (``<!DOCTYPE``): OOXML forbids them, and they
    are how XML bombs and external-entity tricks start. Returns the part's encoding."""
    text, encoding = _head_text(head)
    i, n = (1 if text.startswith("\ufeff") else 0), len(text)
    while True:
        while i < n and text[i] in " \t\r\n":
            i += 1
        if text.startswith("<?", i):
            end = text.find("?>", i + 2)
            i = -1 if end < 0 else end + 2
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            i = -1 if end < 0 else end + 3
        elif text.startswith("<!", i):
            raise UnsafeWorkbook(
                f"The part {part} holds a DTD ({text[i : i + 9]}...), which Office Open XML forbids and "
                "which is how XML bombs and attempts to read other files start; sheet-crm does not read it.",
                "If the file comes from someone you trust, open it in Excel or LibreOffice and save it "
                "again as 'Excel Workbook (.xlsx)'; otherwise delete it.",
            )
        else:
            return encoding
        if len(head) < HEAD and (i < 0 or i >= n):
            return encoding  # the whole part ends inside its prolog: the parser will say so
        if i < 0 or i >= n:
            raise UnsafeWorkbook(
                f"The part {part} starts with more than {HEAD // 1024} KB of comments and processing "
                "instructions before its content, which no spreadsheet program writes.",
                REPAIR,
            )


SAFE_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "huge_tree": False,
}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(**SAFE_PARSER_OPTIONS)


def not_well_formed(part: str, exc: etree.XMLSyntaxError) -> WorkbookDamaged:
    detail = str(exc.msg or exc).split(" (<string>")[0]
    hint = ""
    if "invalid Char" in detail or "out of allowed range" in detail:
        hint = " It holds a control character that XML does not allow."
    elif "redefined" in detail:
        hint = " A tag gives the same attribute twice, so which value is meant is unclear."
    elif "Premature end" in detail or "EndTag" in detail or "Extra content" in detail:
        hint = " It looks cut short or pieced together."
    return WorkbookDamaged(
        f"The part {part} is not well-formed XML ({detail}), so sheet-crm will not read it in part or "
        f"write anything based on it.{hint}",
        REPAIR,
    )


def read_part(zf: zipfile.ZipFile, part: str, *, whole: bool = True) -> bytes:
    """A part's bytes, size-checked, with its prolog checked for a DTD. ``whole`` parts (read
    into a tree) have the smaller limit; a sheet read whole for a cell edit has the sheet limit."""
    limits = current_limits()
    with PartStream(zf, part, limits.whole_part_bytes if whole else limits.part_bytes, limits) as stream:
        check_prolog(stream.head(), part)
        return stream.read_all()


def parse_xml(data: bytes, part: str) -> etree._Element:
    """A part parsed strictly into a tree: no DTD, no entities, no network."""
    check_prolog(data[:HEAD], part)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise not_well_formed(part, exc) from exc
    if root.getroottree().docinfo.doctype:
        check_prolog(b"<!DOCTYPE", part)  # raises: the prolog check missed one
    return root


def read_xml(zf: zipfile.ZipFile, part: str) -> etree._Element:
    return parse_xml(read_part(zf, part), part)


class _NoTree:
    """A parser target that builds nothing: libxml2 only checks the XML is well-formed."""

    def close(self) -> None:
        return None


class WellFormed:
    """Checks that a part is well-formed XML, fed the same pieces the fast path reads.

    libxml2 with a target that builds nothing: every tag closed, no raw control character,
    no attribute given twice, no DTD or entity. It costs a few percent of the read (a
    background thread was tried: handing pieces over and sharing the interpreter lock cost
    more than it saved). A failure is raised at the next piece or at ``finish``."""

    def __init__(self, part: str) -> None:
        self.part = part
        self.error: etree.XMLSyntaxError | None = None
        self._parser = etree.XMLParser(target=_NoTree(), **SAFE_PARSER_OPTIONS)

    def feed(self, data: bytes) -> None:
        try:
            self._parser.feed(data)
        except etree.XMLSyntaxError as exc:
            raise not_well_formed(self.part, exc) from exc

    def finish(self) -> None:
        try:
            self._parser.close()
        except etree.XMLSyntaxError as exc:
            raise not_well_formed(self.part, exc) from exc


def check_well_formed(zf: zipfile.ZipFile, part: str, count: bytes = b"") -> int:
    """Read a whole part (size-checked, no DTD) and refuse it unless it is well-formed XML.
    Returns how often ``count`` occurs in it (0 without one), found in the same pass."""
    limits = current_limits()
    found, tail = 0, b""  # the tail is shorter than ``count``: nothing is counted twice
    with PartStream(zf, part, limits.part_bytes, limits) as stream:
        check_prolog(stream.head(), part)
        checker = WellFormed(part)
        while data := stream.read(CHUNK):
            checker.feed(data)
            if count:
                block = tail + data
                found += block.count(count)
                tail = block[-(len(count) - 1) :]
        checker.finish()
    return found


# ---------------------------------------------------------------- the package


@dataclass
class SheetEntry:
    """One tab as listed in xl/workbook.xml."""

    name: str
    sheet_id: int
    rid: str
    part: str  # zip member name, e.g. xl/worksheets/sheet1.xml ("" for a missing part)
    kind: str  # "worksheet", "chartsheet", "dialogsheet", "macrosheet"
    state: str = "visible"


@dataclass
class PackageInfo:
    """Where things are in the package, as read from its relationship parts."""

    workbook_part: str
    sheets: list[SheetEntry]
    date1904: bool
    styles_part: str | None
    shared_strings_part: str | None
    names: set[str] = field(default_factory=set)


def rels_part_of(part: str) -> str:
    """The relationships part of a part: ``xl/workbook.xml`` -> ``xl/_rels/workbook.xml.rels``."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve_target(source_part: str, target: str) -> str:
    """A relationship target as a zip member name, relative to the part that holds it."""
    if target.startswith("/"):
        return posixpath.normpath(target.lstrip("/"))
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target)).lstrip("/")


def read_rels(zf: zipfile.ZipFile, part: str) -> list[tuple[str, str, str, str]]:
    """``(id, type, resolved target, target mode)`` for each relationship of ``part``."""
    name = rels_part_of(part) if part else "_rels/.rels"
    if name not in zf.NameToInfo:
        return []
    root = read_xml(zf, name)
    out = []
    for rel in root:
        if not isinstance(rel.tag, str) or etree.QName(rel).localname != "Relationship":
            continue
        mode = rel.get("TargetMode", "Internal")
        target = rel.get("Target", "")
        resolved = target if mode == "External" else resolve_target(part or "/", target)
        out.append((rel.get("Id", ""), rel.get("Type", ""), resolved, mode))
    return out


def check_file(path: Path) -> None:
    """Refuse, with what to do, anything that is not an .xlsx/.xlsm we can edit safely.

    Looks at the bytes, not only the name: an .xlsx that is really an old .xls, an
    encrypted workbook (an OLE file holding an ``EncryptedPackage``), an .ods or a CSV.
    """
    where = str(path)
    if not path.exists():
        raise WorkbookNotFound(
            f"There is no workbook at {path}.",
            "Check the path (and the folder you run sheet-crm from), or create one with "
            "'sheet-crm init' or 'sheet-crm demo'.",
            where=where,
        )
    if path.is_dir():
        raise UnsupportedWorkbook(
            f"{path} is a folder, not a workbook.", "Give the path of an .xlsx file inside it.", where=where
        )
    suffix = path.suffix.lower()
    if suffix in {".xls", ".ods", ".csv", ".tsv", ".txt", ".numbers", ".xlsb"}:
        raise UnsupportedWorkbook(
            f"{path.name} is a {suffix} file; sheet-crm edits .xlsx workbooks (and Google Sheets).",
            SAVE_AS_XLSX,
            where=where,
        )
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(8)
    except PermissionError as exc:
        from ..errors import NotWritable

        raise NotWritable(
            f"sheet-crm may not read {path} ({exc.strerror}).",
            "Give your user permission to read the file, or copy it somewhere you own.",
            where=where,
        ) from exc
    if size == 0:
        raise UnsupportedWorkbook(
            f"{path.name} is empty (0 bytes), so it is not a workbook.",
            "Use the real workbook, or restore it from a backup (sheet-crm keeps the last 5 in "
            "the .sheet-crm-backups folder beside it).",
            where=where,
        )
    if head == OLE_MAGIC:
        data = path.read_bytes()
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise WorkbookProtected(
                f"{path.name} is protected with a password (encrypted), so sheet-crm cannot read "
                "or safely change it.",
                "Open it in Excel, go to File > Info > Protect Workbook > Encrypt with Password, "
                "clear the password and save; or keep a password-free copy for sheet-crm.",
                where=where,
            )
        raise UnsupportedWorkbook(
            f"{path.name} is an old-style Excel 97-2003 workbook (.xls), which sheet-crm cannot "
            "edit without losing parts of it.",
            SAVE_AS_XLSX,
            where=where,
        )
    if not zipfile.is_zipfile(path):
        looks_text = head and all(32 <= b < 127 or b in (9, 10, 13) for b in head)
        what = "a text (CSV?) file" if looks_text else "not an Excel workbook (it is not a zip package)"
        raise UnsupportedWorkbook(
            f"{path.name} is {what}; sheet-crm needs an .xlsx workbook.",
            SAVE_AS_XLSX + " If it should already be a workbook, it may be damaged: restore a backup.",
            where=where,
        )


def open_package(path: Path) -> zipfile.ZipFile:
    check_file(path)
    try:
        return zipfile.ZipFile(path)
    except _ZIP_ERRORS as exc:
        raise _not_a_package(path, exc) from exc


def open_package_file(f: IO[bytes], path: Path) -> zipfile.ZipFile:
    """The package read from an open file: its table of contents and every part then come
    from the same bytes, even if someone replaces the file at ``path`` meanwhile."""
    try:
        return zipfile.ZipFile(f)
    except _ZIP_ERRORS as exc:
        raise _not_a_package(path, exc) from exc


def _not_a_package(path: Path, exc: BaseException) -> SheetCrmError:
    return UnsupportedWorkbook(
        f"{path.name} could not be opened as a workbook ({exc}).",
        "Open it in Excel or LibreOffice and save it again as 'Excel Workbook (.xlsx)'.",
        where=str(path),
    )


def read_package_info(zf: zipfile.ZipFile, path: Path) -> PackageInfo:
    """The workbook part, its tabs and where styles and shared strings live."""
    try:
        return _package_info(zf, path)
    except SheetCrmError as exc:
        if not exc.where:
            exc.where = str(path)
        raise


def _package_info(zf: zipfile.ZipFile, path: Path) -> PackageInfo:
    where = str(path)
    names = set(zf.namelist())
    if "mimetype" in names and b"opendocument" in read_part(zf, "mimetype"):
        raise UnsupportedWorkbook(
            f"{path.name} is an OpenDocument spreadsheet (.ods), not an .xlsx workbook.",
            SAVE_AS_XLSX,
            where=where,
        )
    root_rels = read_rels(zf, "")
    if any(t.startswith(STRICT_NS_PREFIX) for _, t, _, _ in root_rels):
        raise _strict(path)
    workbook_part = next((tgt for _, t, tgt, _ in root_rels if t == REL_TYPE_OFFICE_DOC), None)
    if workbook_part is None and "xl/workbook.xml" in names:
        workbook_part = "xl/workbook.xml"
    if workbook_part is None or workbook_part not in names:
        raise UnsupportedWorkbook(
            f"{path.name} is a zip file but not an Excel workbook (it has no workbook part).",
            SAVE_AS_XLSX,
            where=where,
        )
    root = read_xml(zf, workbook_part)
    if root.nsmap.get(root.prefix, "").startswith(STRICT_NS_PREFIX) or etree.QName(root).namespace != MAIN_NS:
        raise _strict(path)
    date1904 = False
    pr = root.find(f"{{{MAIN_NS}}}workbookPr")
    if pr is not None and pr.get("date1904", "0").lower() in {"1", "true"}:
        date1904 = True
    rels = {rid: (typ, tgt, mode) for rid, typ, tgt, mode in read_rels(zf, workbook_part)}
    sheets: list[SheetEntry] = []
    sheets_el = root.find(f"{{{MAIN_NS}}}sheets")
    for el in sheets_el if sheets_el is not None else []:
        if not isinstance(el.tag, str):
            continue
        name = el.get("name", "")
        rid = el.get(f"{{{REL_NS}}}id", "")
        typ, target, mode = rels.get(rid, ("", "", ""))
        kind = typ.rsplit("/", 1)[-1] if typ else "worksheet"
        raw_id = (el.get("sheetId") or "0").strip()
        if not raw_id.isdigit() or len(raw_id) > 9:
            raise WorkbookDamaged(
                f"The workbook part {workbook_part} gives the tab '{name}' the sheet number "
                f'sheetId="{raw_id[:40]}", which is not a whole number; the file is damaged.',
                REPAIR,
                where=where,
            )
        if mode == "External" or target not in names:
            missing = f"its part {target}" if target else f"its relationship {rid or '(none)'}"
            raise WorkbookDamaged(
                f"The tab '{name}' is listed in the workbook but {missing} is missing from the file, "
                "so its cells cannot be read. sheet-crm stops rather than carry on without that tab "
                "(its rows would silently count as none).",
                REPAIR,
                where=where,
            )
        sheets.append(
            SheetEntry(
                name=name,
                sheet_id=int(raw_id),
                rid=rid,
                part=target,
                kind=kind,
                state=el.get("state", "visible"),
            )
        )
    styles = next((tgt for typ, tgt, mode in rels.values() if typ == REL_TYPE_STYLES and tgt in names), None)
    strings = next(
        (tgt for typ, tgt, mode in rels.values() if typ == REL_TYPE_SHARED_STRINGS and tgt in names), None
    )
    return PackageInfo(workbook_part, sheets, date1904, styles, strings, names)


def _strict(path: Path) -> SheetCrmError:
    return UnsupportedWorkbook(
        f"{path.name} is saved as 'Strict Open XML Spreadsheet', which sheet-crm cannot edit safely.",
        "Open it in Excel and use File > Save As > 'Excel Workbook (.xlsx)' (not 'Strict Open XML "
        "Spreadsheet'), then run sheet-crm on that file.",
        where=str(path),
    )


# ---------------------------------------------------------------- text helpers

_XSTRING_ESCAPE = re.compile(
    r"_x(?:([dD][89abAB][0-9A-Fa-f]{2})__x([dD][c-fC-F][0-9A-Fa-f]{2})|([0-9A-Fa-f]{4}))_"
)


def _xstring(m: re.Match[str]) -> str:
    if m.group(1):  # a UTF-16 surrogate pair, escaped as two units: one character
        high, low = int(m.group(1), 16), int(m.group(2), 16)
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
    # A lone surrogate is half a character: it is read as it is, and the model reports
    # it at its cell ("broken-character") and reads it as U+FFFD; the writer drops it and
    # the content hash takes it (surrogatepass), so nothing downstream fails on it.
    return chr(int(m.group(3), 16))


def unescape_text(text: str) -> str:
    """XML entities and OOXML's ``_xHHHH_`` escapes back to characters."""
    if "&" in text:
        text = html.unescape(text)
    if "_x" in text:
        text = _XSTRING_ESCAPE.sub(_xstring, text)
    return text


# Tempered bodies (``(?:[^<]++|<(?!...))*+``) stop at the next tag that could not be inside
# and never give back what they took: an unclosed tag costs one scan, not a rescan per tag.
_T_RUN = re.compile(
    r"<(?:\w+:)?t\s*/>|<(?:\w+:)?t(?:\s[^<>]*+)?>((?:[^<]++|<(?!/?(?:\w+:)?t\b))*+)</(?:\w+:)?t>"
)
_PHONETIC = re.compile(r"<(?:\w+:)?rPh\b(?:[^<]++|<(?!/?(?:\w+:)?rPh\b))*+</(?:\w+:)?rPh>")


def rich_text(body: str) -> str:
    """The visible text of an ``<si>`` or ``<is>`` body: every run's ``<t>``, not phonetic hints."""
    if "rPh" in body:
        body = _PHONETIC.sub("", body)
    return unescape_text("".join(_T_RUN.findall(body)))


# ---------------------------------------------------------------- shared strings and styles

_SI = re.compile(
    r"<(?:\w+:)?si><(?:\w+:)?t(?: xml:space=\"preserve\")?>([^<]*+)</(?:\w+:)?t></(?:\w+:)?si>"
    r"|<(?:\w+:)?si>((?:[^<]++|<(?!/?(?:\w+:)?si\b))*+)</(?:\w+:)?si>|<(?:\w+:)?si\s*/>"
    r"|(<(?:\w+:)?si\b)"  # any other <si: the fast path stops and the general parser reads the part
)


def read_shared_strings(zf: zipfile.ZipFile, part: str | None) -> list[str]:
    """The shared strings, in order (a cell of type ``s`` holds an index into them)."""
    if part is None:
        return []
    head, encoding = part_head(zf, part)
    if encoding not in ("utf-8", "utf8"):
        return read_shared_strings_lxml(zf, part)
    out: list[str] = []
    m = re.search(r"<(\w+:)?sst\b", head)
    closing = f"</{(m.group(1) or '') if m else ''}si>"
    segments = text_segments(zf, part, closing)
    try:
        for segment in segments:
            for plain, rich, odd in _SI.findall(segment):
                if plain:
                    out.append(unescape_text(plain) if ("&" in plain or "_x" in plain) else plain)
                elif odd:
                    segments.close()
                    return read_shared_strings_lxml(zf, part)
                else:
                    out.append(rich_text(rich) if rich else "")
    finally:
        segments.close()
    return out


def read_shared_strings_lxml(zf: zipfile.ZipFile, part: str) -> list[str]:
    """The general parser's reading of the shared strings (any XML shape, any encoding)."""
    si_tag, t_tag, rph_tag = f"{{{MAIN_NS}}}si", f"{{{MAIN_NS}}}t", f"{{{MAIN_NS}}}rPh"
    out: list[str] = []
    for _event, el in _iterparse(zf, part, ("end",), (si_tag,)):
        out.append("".join(t.text or "" for t in el.iter(t_tag) if t.getparent().tag != rph_tag))
        el.clear()
    # lxml has already turned entities into characters; only OOXML's own escapes are left
    return [_XSTRING_ESCAPE.sub(_xstring, v) if "_x" in v else v for v in out]


def _is_date_code(code: str) -> bool:
    """Whether a custom number format shows a date or time: d, m, y, h or s outside
    quoted text, ``[colour]``/``[$-locale]`` brackets and backslash escapes. ``[h]``
    elapsed-time brackets count as time."""
    code = code.split(";", 1)[0]
    if re.search(r"\[(h+|m+|s+)\]", code, re.I):
        return True
    code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.', "", code)
    return bool(re.search(r"[dmyhs]", code, re.I)) and not re.fullmatch(r"[#0.,%\s]*", code)


def read_date_styles(zf: zipfile.ZipFile, part: str | None) -> frozenset[int]:
    """Indexes of the cellXfs entries whose number format shows a date."""
    if part is None:
        return frozenset()
    root = read_xml(zf, part)
    custom: dict[int, str] = {}
    for nf in root.iter(f"{{{MAIN_NS}}}numFmt"):
        try:
            custom[int(nf.get("numFmtId", "-1"))] = nf.get("formatCode", "")
        except ValueError:
            continue
    dates: set[int] = set()
    xfs = root.find(f"{{{MAIN_NS}}}cellXfs")
    for i, xf in enumerate(x for x in (xfs if xfs is not None else []) if isinstance(x.tag, str)):
        try:
            fmt = int(xf.get("numFmtId", "0"))
        except ValueError:
            continue
        if fmt in custom:
            if _is_date_code(custom[fmt]):
                dates.add(i)
        elif fmt in BUILTIN_DATE_FORMATS:
            dates.add(i)
    return frozenset(dates)


# ---------------------------------------------------------------- sheets


@dataclass
class SheetData:
    """A worksheet's cells as rows (``rows[0]`` is sheet row 1, ``rows[r][0]`` column A),
    the merged ranges, whether any cell holds a formula, and the cells holding more text
    than Excel allows (``(row, column, characters)``)."""

    rows: list[list[Cell]]
    merged: list[str]
    formulas: int = 0
    too_long: list[tuple[int, int, int]] = field(default_factory=list)


def part_head(zf: zipfile.ZipFile, part: str) -> tuple[str, str]:
    """The first 64 KB of a part as text (prolog checked for a DTD) and its encoding."""
    limits = current_limits()
    with PartStream(zf, part, limits.part_bytes, limits) as stream:
        head = stream.head()
    encoding = check_prolog(head, part)
    return _head_text(head)[0], encoding


def text_segments(zf: zipfile.ZipFile, part: str, closing: str) -> Iterator[str]:
    """The part's text in pieces that end just after a ``closing`` tag (``</row>``), so no
    element the caller matches is ever cut in two. The bytes are size-checked as they are
    unpacked and checked for well-formedness alongside; a stretch without ``closing`` longer
    than ``Limits.row_chars`` is refused (it would otherwise be held, and rescanned, whole)."""
    limits = current_limits()
    stream = PartStream(zf, part, limits.part_bytes, limits)
    try:
        check_prolog(stream.head(), part)
        checker = WellFormed(part)
        decoder = codecs.getincrementaldecoder("utf-8")()
        carry = ""
        while True:
            chunk = stream.read(CHUNK)
            final = not chunk
            if chunk:
                checker.feed(chunk)
            try:
                text = carry + decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                raise WorkbookDamaged(
                    f"The part {part} is not valid UTF-8 text ({exc.reason} at byte {stream.count}).", REPAIR
                ) from exc
            if final:
                checker.finish()
                if text:
                    yield text
                return
            cut = text.rfind(closing)
            if cut < 0:
                if len(text) > limits.row_chars:
                    raise WorkbookTooLarge(
                        f"The part {part} has more than {_mb(limits.row_chars)} of XML without a "
                        f"{closing}; a row of a real sheet (a cell holds at most "
                        f"{EXCEL_MAX_CELL_CHARS:,} characters) never comes near that.",
                        "If this really is your workbook, raise the limit for this run, for example "
                        f"{_raise_hint('part_mb', limits.part_mb * 4)} (a row may take 1/32 of it).",
                    )
                carry = text
                continue
            cut += len(closing)
            yield text[:cut]
            carry = text[cut:]
    finally:
        stream.close()


_COLUMN_CACHE: dict[str, int] = {}


def column_number(letters: str) -> int:
    """``A`` -> 1, ``XFD`` -> 16,384; anything beyond Excel's last column is refused."""
    n = _COLUMN_CACHE.get(letters)
    if n is None:
        n = 0
        for ch in letters[:4]:
            n = n * 26 + ord(ch) - 64
        if len(letters) > 3 or not 1 <= n <= EXCEL_MAX_COLUMNS:
            raise OutsideGrid(f"{letters[:12]}{'...' if len(letters) > 12 else ''}")
        _COLUMN_CACHE[letters] = n
    return n


class OutsideGrid(ValueError):
    """A cell reference beyond Excel's grid (the part is named by the caller)."""


def outside_grid(part: str, ref: str) -> WorkbookDamaged:
    return WorkbookDamaged(
        f"The sheet part {part} has a cell or row at {ref[:40]}, outside Excel's grid (at most "
        f"{EXCEL_MAX_ROWS:,} rows and {EXCEL_MAX_COLUMNS:,} columns, A to XFD). No spreadsheet program "
        "saves that, so the file is damaged or was made to mislead; sheet-crm reads none of it.",
        REPAIR,
    )


def _row_number(part: str, letters: str, digits: str) -> int:
    if not digits or len(digits) > 7 or not 1 <= (r := int(digits)) <= EXCEL_MAX_ROWS:
        raise outside_grid(part, letters + digits)
    return r


def _too_many_blanks(part: str, limits: Limits) -> WorkbookTooLarge:
    return WorkbookTooLarge(
        f"The cells of the sheet part {part} are spread so far apart that reading them would fill in "
        f"more than {limits.empty_cells:,} blank cells (SHEET_CRM_MAX_EMPTY_CELLS); a few stray cells far "
        "to the right or far down usually cause this.",
        "Delete the stray cells (Ctrl+End shows the last one Excel knows of) and save; or, if the sheet "
        "really is that large, raise the limit for this run "
        f"({_raise_hint('empty_cells', limits.empty_cells * 4)}).",
    )


class _Patterns:
    def __init__(self, prefix: str) -> None:
        p = re.escape(prefix)
        # One match per cell, its reference split into column letters and row digits; the
        # common body ``<v>...</v>`` (up to 15 characters) is captured directly, anything
        # else (formulas, inline strings, longer values) as ``body``. Linear whatever the
        # input: attribute alternatives cannot match the same text (the catch-all excludes
        # r, s and t), every quantifier is possessive, and the body stops at the next cell
        # or row. A ``<c`` none of that matches is still matched, by the last alternative,
        # with no reference: the reader then hands the part to the general parser instead
        # of skipping a cell.
        self.cell = re.compile(
            rf"<{p}c\b(?:\s++(?:r=\"(?P<col>[A-Z]*+)(?P<row>\d*+)\"|s=\"(?P<s>[^\"<]*+)\""
            rf"|t=\"(?P<t>[^\"<]*+)\"|(?![rst]=)[\w:.-]++=\"[^\"<]*+\"))*+"
            rf"\s*+(?:/>|>(?:<{p}v>(?P<v>[^<]{{0,15}}+)</{p}v>|<{p}is><{p}t(?: xml:space=\"preserve\")?>"
            rf"(?P<it>[^<]*+)</{p}t></{p}is>|(?P<body>(?:[^<]++|<(?!{p}c\b|/{p}c>|/?{p}row\b))*+))</{p}c>)"
            rf"|<{p}c\b"
        )
        self.value = re.compile(rf"<{p}v(?:\s[^<>]*+)?>([^<]*+)</{p}v>")
        self.formula = re.compile(rf"<{p}f\b(?:[^<>/]++|/(?!>))*+(?:/>|>([^<]*+)</{p}f>)")
        self.inline = re.compile(rf"<{p}is>((?:[^<]++|<(?!/?{p}is>))*+)</{p}is>")
        self.merge = re.compile(rf"<{p}mergeCell\b[^<>]*?\sref=\"([^\"<>]++)\"")


_PATTERNS: dict[str, _Patterns] = {}


def _patterns(prefix: str) -> _Patterns:
    if prefix not in _PATTERNS:
        _PATTERNS[prefix] = _Patterns(prefix)
    return _PATTERNS[prefix]


def read_sheet(
    zf: zipfile.ZipFile,
    part: str,
    strings: list[str],
    date_styles: frozenset[int],
    date1904: bool,
    max_rows: int = 1 << 40,
) -> SheetData:
    """Every cached cell value of one worksheet part (or of its first ``max_rows`` rows).

    The hot loop: one ``findall`` per 4 MB of XML gives every cell's column, row, style,
    type and value; rows come from the cells' own references. Sheets whose cells have no
    references, or whose XML uses single-quoted attributes, go to the general parser.
    Cell references outside Excel's grid are refused, and the blank cells filled in to
    reach far-apart cells are counted against ``Limits.empty_cells``.
    """
    head, encoding = part_head(zf, part)
    m = re.search(r"<(\w+:)?worksheet\b", head)
    prefix = (m.group(1) or "") if m else ""
    if encoding not in ("utf-8", "utf8") or re.search(r"<(?:\w+:)?(?:c|row)\s[^>]*='", head):
        return read_sheet_lxml(zf, part, strings, date_styles, date1904)
    limits = current_limits()
    blanks_left = limits.empty_cells
    pat = _patterns(prefix)
    rows: list[list[Cell]] = []
    merged: list[str] = []
    formulas = 0
    long_text = False
    date_strs = frozenset(str(i) for i in date_styles)
    date_cache: dict[str, Cell] = {}
    f_open = f"<{prefix}f"
    cell_all = pat.cell.findall
    col_of = _COLUMN_CACHE
    line: list[Cell] = []
    current = "\0"  # no row yet: the first cell always sets one
    value: Cell
    segments = text_segments(zf, part, f"</{prefix}row>")
    try:
        for segment in segments:
            for letters, row_s, s, t, v, inline, body in cell_all(segment):
                if row_s != current:
                    if not row_s or not letters:
                        segments.close()
                        return read_sheet_lxml(zf, part, strings, date_styles, date1904)
                    if len(row_s) > 7 or not 0 < (r := int(row_s)) <= EXCEL_MAX_ROWS:
                        raise outside_grid(part, letters + row_s)
                    current = row_s
                    if r > max_rows:
                        return SheetData(rows, merged, formulas)
                    n = len(rows)
                    if n == r - 1:
                        line = []
                        rows.append(line)
                    elif n < r - 1:
                        blanks_left -= r - 1 - n
                        if blanks_left < 0:
                            raise _too_many_blanks(part, limits)
                        rows.extend([] for _ in range(r - 1 - n))
                        line = []
                        rows.append(line)
                    else:
                        line = rows[r - 1]
                if v:
                    if t == "s":
                        value = strings[int(v)]
                    elif not t or t == "n":
                        if s and s in date_strs:
                            value = date_cache.get(v)
                            if value is None:
                                value = date_cache[v] = _convert(v, "", s, date_styles, date1904)
                        elif "." in v or "E" in v or "e" in v:
                            try:
                                value = float(v)
                            except ValueError:
                                value = _convert(v, t, s, date_styles, date1904)
                            else:
                                if value - value != 0.0:  # inf or NaN: not a number Excel holds
                                    value = _convert(v, t, s, date_styles, date1904)
                        else:  # at most 15 characters (see the pattern): no giant integers
                            try:
                                value = int(v)
                            except ValueError:
                                value = _convert(v, t, s, date_styles, date1904)
                    else:
                        value = _convert(v, t, s, date_styles, date1904)
                elif inline:
                    value = unescape_text(inline) if ("&" in inline or "_x" in inline) else inline
                    long_text = long_text or len(value) > EXCEL_MAX_CELL_CHARS
                elif not body:
                    continue
                elif t == "inlineStr":
                    im = pat.inline.search(body)
                    value = rich_text(im.group(1)) if im else ""
                    long_text = long_text or len(value) > EXCEL_MAX_CELL_CHARS
                else:
                    vm = pat.value.search(body)
                    is_formula = body.startswith(f_open)
                    if is_formula:
                        formulas += 1
                    if vm is None or (is_formula and not vm.group(1) and t != "str"):
                        if not is_formula:
                            continue
                        fm = pat.formula.match(body)
                        value = NoCachedValue(unescape_text((fm.group(1) if fm else "") or ""))
                    elif t == "s":
                        value = strings[int(vm.group(1))]
                    else:
                        value = _convert(vm.group(1), t, s, date_styles, date1904)
                        long_text = long_text or (type(value) is str and len(value) > EXCEL_MAX_CELL_CHARS)
                col = col_of.get(letters) or column_number(letters)
                n = len(line)
                if n == col - 1:
                    line.append(value)
                elif n < col - 1:
                    blanks_left -= col - 1 - n
                    if blanks_left < 0:
                        raise _too_many_blanks(part, limits)
                    line.extend([None] * (col - 1 - n))
                    line.append(value)
                else:
                    line[col - 1] = value
            if "mergeCell" in segment:
                merged.extend(pat.merge.findall(segment))
    except OutsideGrid as exc:
        raise outside_grid(part, str(exc)) from None
    except (IndexError, ValueError) as exc:
        raise _bad_value(part, exc) from exc
    finally:
        segments.close()
    while rows and not rows[-1]:
        rows.pop()
    return SheetData(rows, merged, formulas, _too_long(rows, strings, long_text))


def _bad_value(part: str, exc: BaseException) -> WorkbookDamaged:
    if isinstance(exc, IndexError):
        what = "points at a shared text that does not exist"
    else:
        what = f"is unreadable ({exc})"
    return WorkbookDamaged(f"A cell in the sheet part {part} {what}; the file is damaged.", REPAIR)


def _too_long(rows: list[list[Cell]], strings: list[str], inline_found: bool) -> list[tuple[int, int, int]]:
    """Cells holding more characters than Excel allows. Looked for only when some text is
    that long (the shared strings are measured once), so the common case costs nothing."""
    if not inline_found and (not strings or max(map(len, strings)) <= EXCEL_MAX_CELL_CHARS):
        return []
    return [
        (r, c, len(v))
        for r, line in enumerate(rows, 1)
        for c, v in enumerate(line, 1)
        if type(v) is str and len(v) > EXCEL_MAX_CELL_CHARS
    ]


def _put(line: list[Cell], col: int, value: Cell) -> int:
    """Set a cell in its row; returns how many blank cells were filled in before it."""
    n = len(line)
    if n == col - 1:
        line.append(value)
    elif n < col:
        line.extend([None] * (col - 1 - n))
        line.append(value)
        return col - 1 - n
    else:
        line[col - 1] = value
    return 0


def _number(v: str) -> int | float | None:
    """A number as Excel stores it (a double), or None when it is not one Excel can hold:
    1e309, NaN, a 400-digit integer. Such a value is kept as the text it is."""
    if "." in v or "E" in v or "e" in v or "N" in v or "n" in v or len(v) > 15:
        try:
            number = float(v)
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        if len(v) > 15 and "." not in v and "E" not in v and "e" not in v and number.is_integer():
            return int(v) if len(v) <= 17 else number
        return number
    try:
        return int(v)
    except ValueError:
        return None


def _convert(v: str, t: str, s: str, date_styles: frozenset[int], date1904: bool) -> Cell:
    if not t or t == "n":
        number = _number(v)
        if number is None:
            return unescape_text(v)
        if s and date_styles and s.isdigit() and int(s) in date_styles:
            try:
                return serial_to_datetime(number, "1904" if date1904 else "1900")
            except (OverflowError, ValueError):
                return number
        return number
    if t == "str":
        return unescape_text(v)
    if t == "b":
        return v.strip() in {"1", "true"}
    if t == "e":
        return CellError(unescape_text(v))
    if t == "d":
        try:
            return datetime.fromisoformat(v.strip().rstrip("Z"))
        except ValueError:
            return unescape_text(v)
    return unescape_text(v)


_REF = re.compile(r"([A-Z]{1,3})([0-9]{1,7})")


def _iterparse(
    zf: zipfile.ZipFile, part: str, events: tuple[str, ...], tags: tuple[str, ...]
) -> Iterator[tuple[str, Any]]:
    """``lxml.etree.iterparse`` over a size-checked part, DTDs refused, no entities or network."""
    limits = current_limits()
    with PartStream(zf, part, limits.part_bytes, limits) as stream:
        check_prolog(stream.head(), part)
        try:
            yield from etree.iterparse(_Reader(stream), events=events, tag=tags, **SAFE_PARSER_OPTIONS)
        except etree.XMLSyntaxError as exc:
            raise not_well_formed(part, exc) from exc


def read_sheet_lxml(
    zf: zipfile.ZipFile,
    part: str,
    strings: list[str],
    date_styles: frozenset[int],
    date1904: bool,
) -> SheetData:
    """The slower, fully general parser, for sheet XML that the fast path does not expect.
    Rows and columns come from the cells' references when they have them (as in the fast
    path), else from the row's ``r`` and the cell's place in it; all within Excel's grid."""
    limits = current_limits()
    blanks_left = limits.empty_cells
    rows: list[list[Cell]] = []
    merged: list[str] = []
    formulas = 0
    c_tag, row_tag, merge_tag = f"{{{MAIN_NS}}}c", f"{{{MAIN_NS}}}row", f"{{{MAIN_NS}}}mergeCell"
    v_tag, f_tag, is_tag = f"{{{MAIN_NS}}}v", f"{{{MAIN_NS}}}f", f"{{{MAIN_NS}}}is"
    current, col = 0, 0
    long_text = False

    def row_line(r: int) -> list[Cell]:
        nonlocal blanks_left
        if len(rows) < r:
            blanks_left -= r - 1 - len(rows)
            if blanks_left < 0:
                raise _too_many_blanks(part, limits)
            rows.extend([] for _ in range(r - len(rows)))
        return rows[r - 1]

    try:
        for event, el in _iterparse(zf, part, ("start", "end"), (row_tag, c_tag, merge_tag)):
            if el.tag == row_tag and event == "start":
                r_attr = el.get("r")
                current = _row_number(part, "", r_attr.strip()) if r_attr is not None else current + 1
                if current > EXCEL_MAX_ROWS:
                    raise outside_grid(part, f"row {current}")
                col = 0
            elif el.tag == row_tag:
                el.clear()
            elif el.tag == c_tag and event == "end":
                ref = el.get("r")
                r = current
                if ref is not None:
                    m = _REF.fullmatch(ref.strip())
                    if m is None:
                        raise outside_grid(part, ref)
                    col = column_number(m.group(1))
                    r = _row_number(part, m.group(1), m.group(2))
                else:
                    col += 1
                    if col > EXCEL_MAX_COLUMNS:
                        raise outside_grid(part, f"column {col} of row {r}")
                if r < 1:  # a cell outside any <row>
                    raise outside_grid(part, ref or "a cell outside every row")
                t, s = el.get("t", ""), el.get("s", "")
                v_el, f_el = el.find(v_tag), el.find(f_tag)
                if f_el is not None:
                    formulas += 1
                value: Cell
                if t == "inlineStr":
                    is_el = el.find(is_tag)
                    value = rich_text(etree.tostring(is_el, encoding="unicode")) if is_el is not None else ""
                elif v_el is None or (f_el is not None and not v_el.text and t != "str"):
                    if f_el is None:
                        continue
                    value = NoCachedValue(f_el.text or "")
                elif t == "s":
                    value = strings[int(v_el.text or 0)]
                else:
                    value = _convert(_escape_back(v_el.text or ""), t, s, date_styles, date1904)
                if type(value) is str and len(value) > EXCEL_MAX_CELL_CHARS:
                    long_text = True
                blanks_left -= _put(row_line(r), col, value)
                if blanks_left < 0:
                    raise _too_many_blanks(part, limits)
                el.clear()
            elif el.tag == merge_tag and event == "end":
                merged.append(el.get("ref", ""))
    except OutsideGrid as exc:
        raise outside_grid(part, str(exc)) from None
    except (IndexError, ValueError) as exc:
        raise _bad_value(part, exc) from exc
    while rows and not rows[-1]:
        rows.pop()
    return SheetData(rows, merged, formulas, _too_long(rows, strings, long_text))


def _escape_back(text: str) -> str:
    # _convert unescapes XML entities itself; keep ``&`` literal text intact for it.
    return text.replace("&", "&amp;")


class _Reader:
    """A file-like wrapper lxml's iterparse accepts for a zip member."""

    def __init__(self, f: PartStream) -> None:
        self.f = f

    def read(self, n: int = -1) -> bytes:
        return self.f.read(n if n > 0 else CHUNK)
