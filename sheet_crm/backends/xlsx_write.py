"""Writing into an .xlsx package without re-saving it: new parts, small text edits to the
parts that list sheets, appended styles, and a zip writer that copies every other part's
compressed bytes as they are.
"""

from __future__ import annotations

import math
import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import BinaryIO
from xml.sax.saxutils import quoteattr

from lxml import etree

from ..errors import WorkbookTooLarge
from ..findings import column_letter
from ..serial import datetime_to_serial
from ..workbook import Cell, CellError, NoCachedValue
from .xlsx_read import MAIN_NS, REL_NS, SAFE_PARSER_OPTIONS, parse_xml

MAX_CELL_CHARS = 32767
MAX_ROWS = 1_048_576
CUT_MARK = " [cut: longer than a cell can hold]"

# ---------------------------------------------------------------- zip


class ZipWriter:
    """A minimal zip writer that can copy a member of another zip verbatim (local header,
    compressed data, data descriptor), so the parts we do not own stay byte-identical and
    cost no recompression."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.central: list[bytes] = []
        self.names: set[str] = set()

    def copy_raw(self, src: BinaryIO, info: zipfile.ZipInfo) -> None:
        src.seek(info.header_offset)
        fixed = src.read(30)
        sig, _ver, flag, _method, _t, _d, _crc, _cs, _us, nlen, elen = struct.unpack("<IHHHHHIIIHH", fixed)
        if sig != 0x04034B50:
            raise zipfile.BadZipFile(f"bad local header for {info.filename}")
        name_bytes = src.read(nlen)
        length = 30 + nlen + elen + info.compress_size
        if flag & 0x08:  # a data descriptor follows the data
            src.seek(info.header_offset + length)
            peek = src.read(4)
            length += 16 if peek == b"PK\x07\x08" else 12
        if info.compress_size >= 0xFFFFFFFF or info.file_size >= 0xFFFFFFFF:
            raise WorkbookTooLarge(f"The part {info.filename} is larger than 4 GB.", "Split the workbook.")
        offset = self._offset()
        src.seek(info.header_offset)
        left = length
        while left:
            block = src.read(min(left, 1 << 20))
            if not block:
                raise zipfile.BadZipFile(f"{info.filename} is cut short")
            self.f.write(block)
            left -= len(block)
        extra = _strip_zip64(info.extra)
        dosdate, dostime = _dos(info.date_time)
        self.central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                info.create_version | (info.create_system << 8),
                info.extract_version,
                info.flag_bits,
                info.compress_type,
                dostime,
                dosdate,
                info.CRC,
                info.compress_size,
                info.file_size,
                len(name_bytes),
                len(extra),
                len(info.comment),
                0,
                info.internal_attr,
                info.external_attr,
                offset,
            )
            + name_bytes
            + extra
            + info.comment
        )
        self.names.add(info.filename)

    def write_new(self, name: str, data: bytes, when: tuple[int, int, int, int, int, int]) -> None:
        comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        cdata = comp.compress(data) + comp.flush()
        crc = zlib.crc32(data)
        name_bytes = name.encode("utf-8")
        flag = 0 if name.isascii() else 0x800
        dosdate, dostime = _dos(when)
        if len(cdata) >= 0xFFFFFFFF or len(data) >= 0xFFFFFFFF:
            raise WorkbookTooLarge(f"The part {name} would be larger than 4 GB.", "Write fewer rows.")
        offset = self._offset()
        self.f.write(
            struct.pack(
                "<IHHHHHIIIHH",
                0x04034B50,
                20,
                flag,
                8,
                dostime,
                dosdate,
                crc,
                len(cdata),
                len(data),
                len(name_bytes),
                0,
            )
            + name_bytes
        )
        self.f.write(cdata)
        self.central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                flag,
                8,
                dostime,
                dosdate,
                crc,
                len(cdata),
                len(data),
                len(name_bytes),
                0,
                0,
                0,
                0,
                0o600 << 16,
                offset,
            )
            + name_bytes
        )
        self.names.add(name)

    def close(self) -> None:
        start = self._offset()
        for entry in self.central:
            self.f.write(entry)
        size = self._offset() - start
        if len(self.central) > 0xFFFF:
            raise WorkbookTooLarge("The workbook would have more than 65,535 parts.", "Split the workbook.")
        self.f.write(
            struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(self.central), len(self.central), size, start, 0)
        )

    def _offset(self) -> int:
        offset = self.f.tell()
        if offset >= 0xFFFFFFFF:
            raise WorkbookTooLarge("The workbook would be larger than 4 GB.", "Split the workbook.")
        return offset


def _dos(dt: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    y, mo, d, h, mi, s = dt
    return ((max(y, 1980) - 1980) << 9) | (mo << 5) | d, (h << 11) | (mi << 5) | (s // 2)


def _strip_zip64(extra: bytes) -> bytes:
    out, i = b"", 0
    while i + 4 <= len(extra):
        hid, ln = struct.unpack("<HH", extra[i : i + 4])
        if hid != 0x0001:
            out += extra[i : i + 4 + ln]
        i += 4 + ln
    return out


# ---------------------------------------------------------------- text and cells

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LITERAL_X = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_NEEDS_ESCAPE = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_x")


def xml_text(text: str) -> str:
    """Text as element content: XML-escaped, characters XML 1.0 forbids removed, CR kept
    (as ``&#13;``), and literal ``_x0041_`` protected from OOXML's own unescaping."""
    if _ILLEGAL_XML.search(text):
        text = _ILLEGAL_XML.sub("", text)
    if "_x" in text:
        text = _LITERAL_X.sub(r"_x005F_\1", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


def xml_attr(text: str) -> str:
    """An attribute value with its quotes."""
    return quoteattr(_ILLEGAL_XML.sub("", text))


@dataclass
class StyleIds:
    """The cellXfs indexes the tool's cells use."""

    note: int = 0
    header: int = 0
    date: int = 0
    datetime: int = 0
    date1904: bool = False


def _inline(text: str) -> str:
    """``<is><t>...</t></is>`` for a text: escaped, cut to what a cell can hold."""
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - len(CUT_MARK)] + CUT_MARK
    body = xml_text(text) if _NEEDS_ESCAPE.search(text) else text
    space = ' xml:space="preserve"' if (text[:1].isspace() or text[-1:].isspace() or "\n" in text) else ""
    return f"<is><t{space}>{body}</t></is>"


def _text_cell(ref: str, text: str, s: str) -> str:
    return f'<c r="{ref}"{s} t="inlineStr">{_inline(text)}</c>'


def cell_xml(ref: str, value: Cell, styles: StyleIds, style: int | None = None) -> str:
    """One ``<c>`` element, never a formula: text (including text that starts with ``=``)
    is an inline string; dates are numbers with a date style."""
    s = f' s="{style}"' if style else ""
    if value is None:
        return f'<c r="{ref}"{s}/>' if style else ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        if abs(value) < 10**15:
            return f'<c r="{ref}"{s}><v>{value}</v></c>'
        return _text_cell(ref, str(value), s)
    if isinstance(value, float):
        if math.isfinite(value):
            return f'<c r="{ref}"{s}><v>{value!r}</v></c>'
        return _text_cell(ref, str(value), s)
    if isinstance(value, datetime | date):
        serial = datetime_to_serial(value, "1904" if styles.date1904 else "1900")
        if serial is None:
            return _text_cell(ref, value.isoformat(), s)
        is_day = not isinstance(value, datetime) or value.time() == datetime.min.time()
        ds = style if style else (styles.date if is_day else styles.datetime)
        return f'<c r="{ref}" s="{ds}"><v>{serial!r}</v></c>'
    if isinstance(value, CellError):
        return f'<c r="{ref}"{s} t="e"><v>{xml_text(value.text)}</v></c>'
    if isinstance(value, NoCachedValue):
        return _text_cell(ref, str(value), s)
    return _text_cell(ref, str(value), s)


# ---------------------------------------------------------------- tool tab sheets


def column_widths(
    headers: Sequence[str], rows: Sequence[Sequence[Cell]], fixed: Mapping[str, float]
) -> list[float]:
    """Widths in characters: the owner-facing ``fixed`` ones, else the longest of the header
    and the first 300 values, between 8 and 60."""
    widths = []
    sample = rows[:300]
    for i, header in enumerate(headers):
        if header in fixed:
            widths.append(float(fixed[header]))
            continue
        longest = len(str(header)) + 3  # room for the filter button
        for row in sample:
            if i < len(row) and row[i] is not None:
                v = row[i]
                n = 12 if isinstance(v, date | datetime) else len(str(v))
                longest = max(longest, n)
        widths.append(float(min(max(longest + 1, 8), 60)))
    return widths


def tool_sheet_xml(
    note: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    widths: Sequence[float],
    styles: StyleIds,
    drawing_rid: str | None,
    column_styles: Sequence[int | None] = (),
    cell_styles: Mapping[tuple[int, int], int] | None = None,
    cell_offset: int = 0,
) -> bytes:
    """A tool tab's worksheet part: note on row 1, bold header on row 2 with a filter,
    frozen below the header, data from row 3. Numbers take the cellXfs index of their
    column (``column_styles``) or cell (``cell_styles``, by (row index, column index),
    row indexes counted from ``rows[cell_offset]``: an append-only tab's kept rows come
    first)."""
    ncols = max([len(headers)] + [len(r) for r in rows[:1]] + [1])
    for r in rows:
        if len(r) > ncols:
            ncols = len(r)
    last_row = 2 + len(rows)
    if last_row > MAX_ROWS:
        raise WorkbookTooLarge(
            f"A tab can hold {MAX_ROWS:,} rows; this one would need {last_row:,}.",
            "Narrow the run (fewer customers or steps) or split the workbook.",
        )
    letters = [column_letter(i) for i in range(1, ncols + 1)]
    last_col = letters[-1]
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        '<sheetPr><outlinePr summaryBelow="1" summaryRight="1"/></sheetPr>'
        f'<dimension ref="A1:{last_col}{last_row}"/>'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="2" topLeftCell="A3" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A3" sqref="A3"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/>'
    ]
    if widths:
        parts.append("<cols>")
        for i, w in enumerate(widths, start=1):
            parts.append(f'<col min="{i}" max="{i}" width="{w:.2f}" customWidth="1"/>')
        parts.append("</cols>")
    parts.append("<sheetData>")
    note_style = f' s="{styles.note}"' if styles.note else ""
    parts.append('<row r="1">' + _text_cell("A1", note, note_style) + "</row>")
    parts.append(
        '<row r="2">'
        + "".join(cell_xml(f"{letters[i]}2", h, styles, styles.header or None) for i, h in enumerate(headers))
        + "</row>"
    )
    inline: dict[str, str] = {}  # tiers, reasons, segment names repeat: escape each once
    number_style = list(column_styles) + [None] * (ncols - len(column_styles))
    cell_styles = cell_styles or {}
    for n, row in enumerate(rows, start=3):
        cells = []
        for i, v in enumerate(row):
            if v is None:
                continue
            if type(v) is str:
                if v:
                    body = inline.get(v)
                    if body is None:
                        body = _inline(v)
                        if len(inline) < 100_000:
                            inline[v] = body
                    cells.append(f'<c r="{letters[i]}{n}" t="inlineStr">{body}</c>')
            elif type(v) is float or type(v) is int:
                style = cell_styles.get((n - 3 - cell_offset, i)) if cell_styles else None
                cells.append(cell_xml(f"{letters[i]}{n}", v, styles, style or number_style[i]))
            else:
                cells.append(cell_xml(f"{letters[i]}{n}", v, styles))
        parts.append(f'<row r="{n}">' + "".join(cells) + "</row>")
    parts.append("</sheetData>")
    if headers:
        parts.append(f'<autoFilter ref="A2:{column_letter(len(headers))}{max(last_row, 2)}"/>')
    parts.append('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>')
    if drawing_rid:
        parts.append(f'<drawing r:id="{drawing_rid}"/>')
    parts.append("</worksheet>")
    return "".join(parts).encode("utf-8")


def sheet_rels_xml(drawing_target: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{REL_NS}/drawing" Target={xml_attr(drawing_target)}/>'
        "</Relationships>"
    ).encode()


# ---------------------------------------------------------------- styles


def _sig(el: etree._Element) -> tuple[object, ...]:
    return (
        etree.QName(el).localname,
        tuple(sorted((etree.QName(k).localname, v) for k, v in el.attrib.items())),
        tuple(_sig(c) for c in el if isinstance(c.tag, str)),
    )


_STYLE_LISTS = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs")


class StylesEditor:
    """Finds or appends the few styles the tool needs, at the END of each list, leaving
    every existing entry (and so every index the owner's cells use) as it was."""

    def __init__(self, xml: bytes, part: str = "xl/styles.xml") -> None:
        self.text = xml.decode("utf-8")
        self.root = parse_xml(xml, part)  # strictly: no DTD, no entities
        self.prefix = self.root.prefix + ":" if self.root.prefix else ""
        self.pending: dict[str, list[str]] = {}
        self.changed = False

    def _list(self, name: str) -> list[etree._Element]:
        el = self.root.find(f"{{{MAIN_NS}}}{name}")
        return [] if el is None else [c for c in el if isinstance(c.tag, str)]

    def _find_or_add(self, list_name: str, snippet: str) -> int:
        p = self.prefix
        xml = snippet.replace("{p}", p)
        ns = f' xmlns{":" + p[:-1] if p else ""}="{MAIN_NS}"'
        wanted = _sig(etree.fromstring(f"<{p}w{ns}>{xml}</{p}w>")[0])
        existing = self._list(list_name)
        for i, el in enumerate(existing):
            if _sig(el) == wanted:
                return i
        pending = self.pending.setdefault(list_name, [])
        for j, other in enumerate(pending):
            if other == xml:
                return len(existing) + j
        pending.append(xml)
        self.changed = True
        return len(existing) + len(pending) - 1

    def number_format(self, code: str) -> int:
        used = set()
        for nf in self._list("numFmts"):
            if nf.get("formatCode") == code:
                return int(nf.get("numFmtId", "0"))
            used.add(int(nf.get("numFmtId", "0")))
        for xml in self.pending.get("numFmts", []):
            m = re.search(r'numFmtId="(\d+)" formatCode="([^"]*)"', xml)
            if m and m.group(2) == code:
                return int(m.group(1))
            if m:
                used.add(int(m.group(1)))
        new_id = max(used | {163}) + 1
        self.pending.setdefault("numFmts", []).append(
            f'<{{p}}numFmt numFmtId="{new_id}" formatCode="{code}"/>'.replace("{p}", self.prefix)
        )
        self.changed = True
        return new_id

    def _xf(self, num: int, font: int, fill: int, extra: str) -> int:
        """The cellXfs index of a cell format (found, or appended)."""
        xf_id = ' xfId="0"' if self._list("cellStyleXfs") else ""
        return self._find_or_add(
            "cellXfs",
            f'<{{p}}xf numFmtId="{num}" fontId="{font}" fillId="{fill}" borderId="0"{xf_id}{extra}/>',
        )

    def number_style(self, code: str) -> int:
        """The cellXfs index of plain cells showing numbers with ``code``."""
        return self._xf(self.number_format(code), 0, 0, ' applyNumberFormat="1"')

    def tool_styles(self, date1904: bool) -> StyleIds:
        fonts = self._list("fonts")
        size, name = "11", "Calibri"
        if fonts:
            sz = fonts[0].find(f"{{{MAIN_NS}}}sz")
            nm = fonts[0].find(f"{{{MAIN_NS}}}name")
            size = sz.get("val", size) if sz is not None else size
            name = nm.get("val", name) if nm is not None else name
        q = xml_attr(name)
        note_font = self._find_or_add(
            "fonts",
            f'<{{p}}font><{{p}}i/><{{p}}sz val="{size}"/><{{p}}color rgb="FF666666"/>'
            f"<{{p}}name val={q}/></{{p}}font>",
        )
        bold_font = self._find_or_add(
            "fonts", f'<{{p}}font><{{p}}b/><{{p}}sz val="{size}"/><{{p}}name val={q}/></{{p}}font>'
        )
        fill = self._find_or_add(
            "fills",
            '<{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="FFE8EEF7"/>'
            '<{p}bgColor indexed="64"/></{p}patternFill></{p}fill>',
        )
        return StyleIds(
            note=self._xf(0, note_font, 0, ' applyFont="1"'),
            header=self._xf(0, bold_font, fill, ' applyFont="1" applyFill="1"'),
            date=self.number_style("yyyy-mm-dd"),
            datetime=self.number_style("yyyy-mm-dd hh:mm"),
            date1904=date1904,
        )

    def render(self) -> bytes:
        """The styles part with the pending entries appended and counts updated."""
        text = self.text
        for name in _STYLE_LISTS:
            items = self.pending.get(name)
            if not items:
                continue
            text = _append_to_list(text, name, self.prefix, items, len(self._list(name)) + len(items))
        return text.encode("utf-8")


def _append_to_list(text: str, name: str, prefix: str, items: list[str], count: int) -> str:
    p = re.escape(prefix)
    opening = re.search(rf"<{p}{name}\b[^>]*?(/?)>", text)
    joined = "".join(items)
    if opening is None:
        # numFmts is the only list that may be absent; it comes first in the styleSheet.
        root_open = re.search(rf"<{p}styleSheet\b[^>]*>", text)
        assert root_open is not None
        block = f'<{prefix}{name} count="{count}">{joined}</{prefix}{name}>'
        return text[: root_open.end()] + block + text[root_open.end() :]
    tag = opening.group(0)
    if 'count="' in tag:
        new_tag = re.sub(r'count="\d*"', f'count="{count}"', tag)
    else:
        new_tag = (
            tag[: -2 if opening.group(1) else -1].rstrip()
            + f' count="{count}"'
            + ("/>" if opening.group(1) else ">")
        )
    if opening.group(1):  # <fonts count="0"/>
        new_tag = new_tag[:-2] + ">"
        return text[: opening.start()] + new_tag + joined + f"</{prefix}{name}>" + text[opening.end() :]
    close = text.index(f"</{prefix}{name}>", opening.end())
    return text[: opening.start()] + new_tag + text[opening.end() : close] + joined + text[close:]


MINIMAL_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<styleSheet xmlns="{MAIN_NS}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
).encode()


# ---------------------------------------------------------------- parts that list sheets


def add_sheet_to_workbook(text: str, name: str, sheet_id: int, rid: str) -> str:
    close = re.search(r"</(\w+:)?sheets>", text)
    if close is None:
        raise ValueError("the workbook part has no <sheets> list")
    prefix = close.group(1) or ""
    root = re.search(r"<(?:\w+:)?workbook\b[^>]*>", text)
    m = re.search(r'xmlns:(\w+)="' + re.escape(REL_NS) + '"', root.group(0)) if root else None
    rel = f"{m.group(1)}:id" if m else f'xmlns:r="{REL_NS}" r:id'
    element = f'<{prefix}sheet name={xml_attr(name)} sheetId="{sheet_id}" {rel}="{rid}"/>'
    return text[: close.start()] + element + text[close.start() :]


def add_relationship(text: str, rid: str, rel_type: str, target: str) -> str:
    close = re.search(r"</(\w+:)?Relationships>", text)
    if close is None:
        raise ValueError("a relationships part has no <Relationships> element")
    prefix = close.group(1) or ""
    element = (
        f"<{prefix}Relationship Id={xml_attr(rid)} Type={xml_attr(rel_type)} Target={xml_attr(target)}/>"
    )
    return text[: close.start()] + element + text[close.start() :]


def content_types_edit(text: str, add: Mapping[str, str], remove: Sequence[str]) -> str:
    """Add ``Override`` entries (part name -> content type) and drop those of deleted parts."""
    for part in remove:
        pattern = r'<(?:\w+:)?Override\b[^>]*\bPartName="/' + re.escape(part) + r'"[^>]*/>'
        text = re.sub(pattern, "", text, flags=re.I)
    close = re.search(r"</(\w+:)?Types>", text)
    if close is None:
        raise ValueError("[Content_Types].xml has no <Types> element")
    prefix = close.group(1) or ""
    existing = {m.lower() for m in re.findall(r'PartName="/([^"]+)"', text)}
    items = "".join(
        f"<{prefix}Override PartName={xml_attr('/' + part)} ContentType={xml_attr(ct)}/>"
        for part, ct in add.items()
        if part.lower() not in existing
    )
    return text[: close.start()] + items + text[close.start() :]


def app_titles_edit(xml: bytes, new_names: Sequence[str]) -> bytes | None:
    """docProps/app.xml with new worksheet titles; None to leave the part as it is (when its
    shape is not the usual one; the titles there are only a summary)."""
    if not new_names:
        return None
    try:
        root = etree.fromstring(xml, etree.XMLParser(**SAFE_PARSER_OPTIONS))
    except etree.XMLSyntaxError:
        return None
    ep = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
    vt = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
    heading = root.find(f"{{{ep}}}HeadingPairs/{{{vt}}}vector")
    titles = root.find(f"{{{ep}}}TitlesOfParts/{{{vt}}}vector")
    if heading is None or titles is None:
        return None
    variants = list(heading)
    offset = 0
    for i in range(0, len(variants) - 1, 2):
        label = variants[i].find(f"{{{vt}}}lpstr")
        count = variants[i + 1].find(f"{{{vt}}}i4")
        if label is None or count is None or not (count.text or "").strip().isdigit():
            return None
        n = int(count.text or "0")
        if label.text in (
            "Worksheets",
            "Arbeitsblätter",
            "Feuilles de calcul",
            "Hojas de cálculo",
            "Fogli di lavoro",
        ):
            at = offset + n
            for j, name in enumerate(new_names):
                el = etree.Element(f"{{{vt}}}lpstr")
                el.text = name
                titles.insert(at + j, el)
            count.text = str(n + len(new_names))
            titles.set("size", str(len(titles)))
            return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        offset += n
    return None


# ---------------------------------------------------------------- owner-tab cell edits


class CannotEdit(Exception):
    """The owner's sheet XML is not in the shape the cell editor can change safely."""


def edit_cells(
    text: str, cells: Mapping[tuple[int, int], str], formula_cells_ok: bool = False
) -> tuple[str, set[tuple[int, int]]]:
    """Set cells in a worksheet's XML, changing only the ``<c>`` (or adding ``<c>``/``<row>``)
    elements concerned. ``cells`` maps (row, column) to a complete ``<c>`` element whose
    ``s`` attribute is replaced by the old cell's style when it had one. Returns the new
    text and the cells left alone because they hold a formula."""
    m = re.search(r"<(\w+:)?worksheet\b", text)
    prefix = (m.group(1) or "") if m else ""
    p = re.escape(prefix)
    sd = re.search(rf"<{p}sheetData\b[^>]*?(/?)>", text)
    if sd is None:
        raise CannotEdit("no sheetData")
    if sd.group(1):
        body_start = body_end = sd.start()
        text = text[: sd.start()] + f"<{prefix}sheetData></{prefix}sheetData>" + text[sd.end() :]
        body_start = sd.start() + len(f"<{prefix}sheetData>")
        body_end = body_start
    else:
        body_start = sd.end()
        body_end = text.index(f"</{prefix}sheetData>", body_start)
    row_re = re.compile(rf"<{p}row\b([^>]*?)(/?)>")
    rows: list[tuple[int, int, int, str, str]] = []  # (r, start, end, attrs, body)
    pos = body_start
    while True:
        rm = row_re.search(text, pos, body_end)
        if rm is None:
            break
        rnum = re.search(r'\br="(\d+)"', rm.group(1))
        if rnum is None:
            raise CannotEdit("rows without numbers")
        if rm.group(2):
            rows.append((int(rnum.group(1)), rm.start(), rm.end(), rm.group(1), ""))
            pos = rm.end()
            continue
        close = text.index(f"</{prefix}row>", rm.end())
        rows.append(
            (
                int(rnum.group(1)),
                rm.start(),
                close + len(f"</{prefix}row>"),
                rm.group(1),
                text[rm.end() : close],
            )
        )
        pos = close
    by_row: dict[int, dict[int, str]] = {}
    for (r, c), xml in cells.items():
        by_row.setdefault(r, {})[c] = xml
    skipped: set[tuple[int, int]] = set()
    replacements: list[tuple[int, int, str]] = []
    existing = {r: (s, e, a, b) for r, s, e, a, b in rows}
    for r in sorted(by_row):
        if r in existing:
            s, e, attrs, body = existing[r]
            new_row, skip = _edit_row(r, attrs, body, by_row[r], prefix)
            skipped |= skip
            replacements.append((s, e, new_row))
        else:
            new_row = (
                f'<{prefix}row r="{r}">'
                + "".join(_with_prefix(x, prefix) for _, x in sorted(by_row[r].items()))
                + f"</{prefix}row>"
            )
            after = next((s for rn, s, _e, _a, _b in rows if rn > r), body_end)
            replacements.append((after, after, new_row))
    out = []
    last = 0
    for start, end, new in sorted(replacements, key=lambda t: (t[0], t[1])):
        out.append(text[last:start])
        out.append(new)
        last = end
    out.append(text[last:])
    result = "".join(out)
    max_row = max(by_row)
    max_col = max(c for _, c in cells)
    return _grow_dimension(result, prefix, max_row, max_col), skipped


def _with_prefix(xml: str, prefix: str) -> str:
    if not prefix:
        return xml
    return re.sub(r"<(/?)(c|v|is|t)\b", lambda m: f"<{m.group(1)}{prefix}{m.group(2)}", xml)


def _edit_row(
    r: int, attrs: str, body: str, cells: Mapping[int, str], prefix: str
) -> tuple[str, set[tuple[int, int]]]:
    p = re.escape(prefix)
    cell_re = re.compile(rf"<{p}c\b([^>]*?)(?:/>|>(.*?)</{p}c>)", re.S)
    found: list[tuple[int, int, int, str, str]] = []  # (col, start, end, attrs, body)
    for m in cell_re.finditer(body):
        ref = re.search(r'\br="([A-Z]+)\d+"', m.group(1))
        if ref is None:
            raise CannotEdit("cells without references")
        col = 0
        for ch in ref.group(1):
            col = col * 26 + ord(ch) - 64
        found.append((col, m.start(), m.end(), m.group(1), m.group(2) or ""))
    skipped: set[tuple[int, int]] = set()
    reps: list[tuple[int, int, str]] = []
    by_col = {c: (s, e, a, b) for c, s, e, a, b in found}
    for col, xml in sorted(cells.items()):
        if col in by_col:
            s, e, a, b = by_col[col]
            if re.search(rf"<{p}f\b", b):
                skipped.add((r, col))
                continue
            style = re.search(r'\bs="(\d+)"', a)
            new = xml
            if style and ' s="' not in xml:
                new = xml.replace("<c ", f'<c s="{style.group(1)}" ', 1)
            reps.append((s, e, _with_prefix(new, prefix)))
        else:
            at = next((s for c, s, _e, _a, _b in found if c > col), len(body))
            reps.append((at, at, _with_prefix(xml, prefix)))
    out, last = [], 0
    for start, end, new in sorted(reps, key=lambda t: (t[0], t[1])):
        out.append(body[last:start])
        out.append(new)
        last = end
    out.append(body[last:])
    new_attrs = re.sub(r'\s+spans="[^"]*"', "", attrs)
    return f"<{prefix}row{new_attrs}>" + "".join(out) + f"</{prefix}row>", skipped


def _grow_dimension(text: str, prefix: str, max_row: int, max_col: int) -> str:
    p = re.escape(prefix)
    m = re.search(rf'<{p}dimension\b[^>]*?\bref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"', text)
    if m is None:
        return text
    c2, r2 = (m.group(3), m.group(4)) if m.group(3) else (m.group(1), m.group(2))
    col2 = 0
    for ch in c2:
        col2 = col2 * 26 + ord(ch) - 64
    if max_row <= int(r2) and max_col <= col2:
        return text
    new_ref = f"{m.group(1)}{m.group(2)}:{column_letter(max(col2, max_col))}{max(int(r2), max_row)}"
    start, end = m.span(0)
    old = m.group(0)
    return text[:start] + re.sub(r'ref="[^"]*"', f'ref="{new_ref}"', old) + text[end:]


def relative_target(source_part: str, target_part: str) -> str:
    return posixpath.relpath(target_part, posixpath.dirname(source_part) or ".")
