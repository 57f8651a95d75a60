"""Reading an .xlsx package: the sheet list, shared strings, styles and cached cell values.

Only the values the owner sees are read (the cached result of each formula), never the
formulas' own logic. Sheets are parsed in streamed chunks with a handful of compiled
regular expressions over the very regular XML that spreadsheet programs write; that is
several times faster than building an element per cell and keeps memory flat on
100k-row tabs. A sheet whose XML does not look like that (single-quoted attributes)
goes through ``lxml.etree.iterparse`` instead; both give the same cells.
"""

from __future__ import annotations

import codecs
import html
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

from lxml import etree

from ..errors import SheetCrmError, UnsupportedWorkbook, WorkbookNotFound, WorkbookProtected
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

# Built-in number formats that show a date or time (ECMA-376 18.8.30).
BUILTIN_DATE_FORMATS = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47})

SAVE_AS_XLSX = (
    "Open it in Excel or LibreOffice and use File > Save As > 'Excel Workbook (.xlsx)', "
    "then run sheet-crm on the new .xlsx file."
)


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
    try:
        data = zf.read(name)
    except KeyError:
        return []
    root = etree.fromstring(data)
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
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsupportedWorkbook(
            f"{path.name} could not be opened as a workbook ({exc}).",
            "Open it in Excel or LibreOffice and save it again as 'Excel Workbook (.xlsx)'.",
            where=str(path),
        ) from exc


def read_package_info(zf: zipfile.ZipFile, path: Path) -> PackageInfo:
    """The workbook part, its tabs and where styles and shared strings live."""
    where = str(path)
    names = set(zf.namelist())
    if "mimetype" in names and b"opendocument" in zf.read("mimetype"):
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
    try:
        root = etree.fromstring(zf.read(workbook_part))
    except etree.XMLSyntaxError as exc:
        raise UnsupportedWorkbook(
            f"The workbook part of {path.name} is damaged ({exc}).",
            "Open it in Excel, let Excel repair it, and save it again.",
            where=where,
        ) from exc
    if root.nsmap.get(root.prefix, "").startswith(STRICT_NS_PREFIX) or etree.QName(root).namespace != MAIN_NS:
        raise _strict(path)
    date1904 = False
    pr = root.find(f"{{{MAIN_NS}}}workbookPr")
    if pr is not None and pr.get("date1904", "0").lower() in {"1", "true"}:
        date1904 = True
    rels = {rid: (typ, tgt) for rid, typ, tgt, _ in read_rels(zf, workbook_part)}
    sheets: list[SheetEntry] = []
    sheets_el = root.find(f"{{{MAIN_NS}}}sheets")
    for el in sheets_el if sheets_el is not None else []:
        if not isinstance(el.tag, str):
            continue
        rid = el.get(f"{{{REL_NS}}}id", "")
        typ, target = rels.get(rid, ("", ""))
        kind = typ.rsplit("/", 1)[-1] if typ else "worksheet"
        sheets.append(
            SheetEntry(
                name=el.get("name", ""),
                sheet_id=int(el.get("sheetId", "0") or 0),
                rid=rid,
                part=target if target in names else "",
                kind=kind,
                state=el.get("state", "visible"),
            )
        )
    styles = next((tgt for typ, tgt in rels.values() if typ == REL_TYPE_STYLES and tgt in names), None)
    strings = next(
        (tgt for typ, tgt in rels.values() if typ == REL_TYPE_SHARED_STRINGS and tgt in names), None
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

_XSTRING_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def unescape_text(text: str) -> str:
    """XML entities and OOXML's ``_xHHHH_`` escapes back to characters."""
    if "&" in text:
        text = html.unescape(text)
    if "_x" in text:
        text = _XSTRING_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text


_T_RUN = re.compile(r"<(?:\w+:)?t(?:\s[^>]*)?>(.*?)</(?:\w+:)?t>|<(?:\w+:)?t\s*/>", re.S)
_PHONETIC = re.compile(r"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.S)


def rich_text(body: str) -> str:
    """The visible text of an ``<si>`` or ``<is>`` body: every run's ``<t>``, not phonetic hints."""
    if "rPh" in body:
        body = _PHONETIC.sub("", body)
    return unescape_text("".join(_T_RUN.findall(body)))


# ---------------------------------------------------------------- shared strings and styles


def read_shared_strings(zf: zipfile.ZipFile, part: str | None) -> list[str]:
    if part is None:
        return []
    out: list[str] = []
    # Most items are one plain run: captured directly; rich text and empties go the slow way.
    si = re.compile(
        r"<(?:\w+:)?si><(?:\w+:)?t(?: xml:space=\"preserve\")?>([^<]*)</(?:\w+:)?t></(?:\w+:)?si>"
        r"|<(?:\w+:)?si>(.*?)</(?:\w+:)?si>|<(?:\w+:)?si\s*/>",
        re.S,
    )
    with zf.open(part) as f:
        head = f.read(4096).decode("utf-8", "replace")
    m = re.search(r"<(\w+:)?sst\b", head)
    closing = f"</{(m.group(1) or '') if m else ''}si>"
    for segment in _segments(zf, part, closing):
        for plain, rich in si.findall(segment):
            if plain:
                out.append(unescape_text(plain) if ("&" in plain or "_x" in plain) else plain)
            else:
                out.append(rich_text(rich) if rich else "")
    return out


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
    root = etree.fromstring(zf.read(part))
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


def serial_to_datetime(serial: float, date1904: bool) -> datetime:
    """An Excel date serial to a datetime (to the second, as shown), in either date system."""
    if date1904:
        base = datetime(1904, 1, 1)
    elif serial < 60:  # Excel counts a 29 February 1900 that never was
        base = datetime(1899, 12, 31)
    else:
        base = datetime(1899, 12, 30)
    return base + timedelta(seconds=round(serial * 86400))


# ---------------------------------------------------------------- sheets


@dataclass
class SheetData:
    """A worksheet's cells as rows (``rows[0]`` is sheet row 1, ``rows[r][0]`` column A),
    the merged ranges, and whether any cell holds a formula."""

    rows: list[list[Cell]]
    merged: list[str]
    formulas: int = 0


def _segments(zf: zipfile.ZipFile, part: str, closing: str) -> Iterator[str]:
    """The part's text in pieces that end just after a ``closing`` tag (``</row>``),
    so no element the caller matches is ever cut in two."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    carry = ""
    with zf.open(part) as f:
        while True:
            chunk = f.read(CHUNK)
            final = not chunk
            text = carry + decoder.decode(chunk, final=final)
            if final:
                if text:
                    yield text
                return
            cut = text.rfind(closing)
            if cut < 0:
                carry = text
                continue
            cut += len(closing)
            yield text[:cut]
            carry = text[cut:]


_COLUMN_CACHE: dict[str, int] = {}


def column_number(letters: str) -> int:
    n = _COLUMN_CACHE.get(letters)
    if n is None:
        n = 0
        for ch in letters:
            n = n * 26 + ord(ch) - 64
        _COLUMN_CACHE[letters] = n
    return n


_REF = re.compile(r"([A-Z]+)(\d+)")


class _Patterns:
    def __init__(self, prefix: str) -> None:
        p = re.escape(prefix)
        # One match per cell, its reference split into column letters and row digits; the
        # common body ``<v>...</v>`` is captured directly, anything else (formulas, inline
        # strings) as ``body``.
        self.cell = re.compile(
            rf'<{p}c\b(?:\s+(?:r="(?P<col>[A-Z]*)(?P<row>\d*)"|s="(?P<s>[^"]*)"|t="(?P<t>[^"]*)"|[\w:]+="[^"]*"))*'
            rf"\s*(?:/>|>(?:<{p}v>(?P<v>[^<]*)</{p}v>|<{p}is><{p}t(?: xml:space=\"preserve\")?>(?P<it>[^<]*)"
            rf"</{p}t></{p}is>|(?P<body>.*?))</{p}c>)",
            re.S,
        )
        self.value = re.compile(rf"<{p}v(?:\s[^>]*)?>(.*?)</{p}v>", re.S)
        self.formula = re.compile(rf"<{p}f\b[^>]*?(?:/>|>(.*?)</{p}f>)", re.S)
        self.inline = re.compile(rf"<{p}is>(.*?)</{p}is>", re.S)
        self.merge = re.compile(rf'<{p}mergeCell\b[^>]*?\bref="([^"]+)"')


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
    """
    with zf.open(part) as f:
        head = f.read(65536).decode("utf-8", "replace")
    m = re.search(r"<(\w+:)?worksheet\b", head)
    prefix = (m.group(1) or "") if m else ""
    if re.search(r"<(?:\w+:)?(?:c|row)\s[^>]*='", head):
        return read_sheet_lxml(zf, part, strings, date_styles, date1904)
    pat = _patterns(prefix)
    rows: list[list[Cell]] = []
    merged: list[str] = []
    formulas = 0
    date_strs = frozenset(str(i) for i in date_styles)
    date_cache: dict[str, Cell] = {}
    f_open = f"<{prefix}f"
    cell_all = pat.cell.findall
    col_of = _COLUMN_CACHE
    line: list[Cell] = []
    current = ""
    value: Cell
    for segment in _segments(zf, part, f"</{prefix}row>"):
        for letters, row_s, s, t, v, inline, body in cell_all(segment):
            if row_s != current:
                if not row_s or not letters:
                    return read_sheet_lxml(zf, part, strings, date_styles, date1904)
                current = row_s
                r = int(row_s)
                if r > max_rows:
                    return SheetData(rows, merged, formulas)
                n = len(rows)
                if n == r - 1:
                    line = []
                    rows.append(line)
                elif n < r - 1:
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
                    else:
                        try:
                            value = float(v) if ("." in v or "E" in v or "e" in v) else int(v)
                        except ValueError:
                            value = _convert(v, t, s, date_styles, date1904)
                else:
                    value = _convert(v, t, s, date_styles, date1904)
            elif inline:
                value = unescape_text(inline) if ("&" in inline or "_x" in inline) else inline
            elif not body:
                continue
            elif t == "inlineStr":
                im = pat.inline.search(body)
                value = rich_text(im.group(1)) if im else ""
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
            col = col_of.get(letters) or column_number(letters)
            n = len(line)
            if n == col - 1:
                line.append(value)
            elif n < col - 1:
                line.extend([None] * (col - 1 - n))
                line.append(value)
            else:
                line[col - 1] = value
        if "mergeCell" in segment:
            merged.extend(pat.merge.findall(segment))
    while rows and not rows[-1]:
        rows.pop()
    return SheetData(rows, merged, formulas)


def _put(line: list[Cell], col: int, value: Cell) -> None:
    n = len(line)
    if n == col - 1:
        line.append(value)
    elif n < col:
        line.extend([None] * (col - 1 - n))
        line.append(value)
    else:
        line[col - 1] = value


def _convert(v: str, t: str, s: str, date_styles: frozenset[int], date1904: bool) -> Cell:
    if not t or t == "n":
        if "." in v or "E" in v or "e" in v or "N" in v or "n" in v:
            try:
                number: int | float = float(v)
            except ValueError:
                return unescape_text(v)
        else:
            try:
                number = int(v)
            except ValueError:
                return unescape_text(v)
        if s and date_styles and int(s) in date_styles:
            try:
                return serial_to_datetime(number, date1904)
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


def read_sheet_lxml(
    zf: zipfile.ZipFile,
    part: str,
    strings: list[str],
    date_styles: frozenset[int],
    date1904: bool,
) -> SheetData:
    """The slower, fully general parser, for sheet XML that the fast path does not expect."""
    rows: list[list[Cell]] = []
    merged: list[str] = []
    formulas = 0
    c_tag, row_tag, merge_tag = f"{{{MAIN_NS}}}c", f"{{{MAIN_NS}}}row", f"{{{MAIN_NS}}}mergeCell"
    v_tag, f_tag, is_tag = f"{{{MAIN_NS}}}v", f"{{{MAIN_NS}}}f", f"{{{MAIN_NS}}}is"
    next_row, col = 1, 0
    line: list[Cell] = []
    with zf.open(part) as f:
        for event, el in etree.iterparse(
            _Reader(f), events=("start", "end"), tag=(row_tag, c_tag, merge_tag)
        ):
            if el.tag == row_tag and event == "start":
                r = el.get("r")
                current = int(r) if r else next_row
                next_row = current + 1
                line, col = [], 0
                el.set("_n", str(current))
            elif el.tag == row_tag:
                if line:
                    current = int(el.get("_n"))
                    while len(rows) < current:
                        rows.append([])
                    rows[current - 1] = line
                el.clear()
            elif el.tag == c_tag and event == "end":
                ref = el.get("r")
                col = column_number(ref.rstrip("0123456789")) if ref else col + 1
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
                _put(line, col, value)
            elif el.tag == merge_tag and event == "end":
                merged.append(el.get("ref", ""))
    return SheetData(rows, merged, formulas)


def _escape_back(text: str) -> str:
    # _convert unescapes XML entities itself; keep ``&`` literal text intact for it.
    return text.replace("&", "&amp;")


class _Reader:
    """A file-like wrapper lxml's iterparse accepts for a zip member."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f

    def read(self, n: int = -1) -> bytes:
        return self.f.read(n)
