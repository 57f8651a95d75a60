"""Hostile and damaged workbooks, made by code from one small valid workbook.

Each builder writes one .xlsx into a folder and returns its path. The base workbook is
written part by part with ``zipfile`` (not through a spreadsheet library), so every case
changes exactly the bytes it means to: a part's XML, its compression, or the zip's own
headers.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

Parts = dict[str, bytes]
Builder = Callable[[Path], Path]

CUSTOMER_ROWS = [
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c>'
    '<c r="D1" t="s"><v>3</v></c></row>',
    '<row r="2"><c r="A2" t="s"><v>4</v></c><c r="B2" t="s"><v>5</v></c><c r="C2" t="s"><v>6</v></c>'
    '<c r="D2" t="s"><v>7</v></c></row>',
    '<row r="3"><c r="A3" t="s"><v>8</v></c><c r="B3" t="s"><v>9</v></c><c r="C3" t="s"><v>10</v></c>'
    '<c r="D3" t="s"><v>11</v></c></row>',
    '<row r="4"><c r="A4" t="inlineStr"><is><t>C-00003</t></is></c>'
    '<c r="B4" t="inlineStr"><is><t>Cara</t></is></c><c r="C4" t="inlineStr"><is><t>Okafor</t></is></c>'
    '<c r="D4" t="inlineStr"><is><t>cara@example.org</t></is></c></row>',
]
STRINGS = [
    "Customer ID", "First name", "Last name", "Email",
    "C-00001", "Ann", "Lee", "ann@example.org",
    "C-00002", "Bob", "Ray", "bob@example.com",
]  # fmt: skip
ORDER_ROWS = [
    '<row r="1"><c r="A1" t="inlineStr"><is><t>Order ID</t></is></c><c r="B1" t="inlineStr"><is><t>Customer'
    '</t></is></c><c r="C1" t="inlineStr"><is><t>Date</t></is></c><c r="D1" t="inlineStr"><is><t>Amount</t>'
    "</is></c></row>",
    '<row r="2"><c r="A2" t="inlineStr"><is><t>O-1</t></is></c><c r="B2" t="inlineStr"><is><t>C-00001</t>'
    '</is></c><c r="C2" s="1"><v>46000</v></c><c r="D2"><v>12.5</v></c></row>',
    '<row r="3"><c r="A3" t="inlineStr"><is><t>O-2</t></is></c><c r="B3" t="inlineStr"><is><t>C-00002</t>'
    '</is></c><c r="C3" s="1"><v>46010</v></c><c r="D3"><v>30</v></c></row>',
]


def sheet_xml(rows: list[str], before: str = "", after: str = "") -> bytes:
    return (
        f'{DECL}{before}<worksheet xmlns="{MAIN}" xmlns:r="{RELS}"><sheetData>'
        + "".join(rows)
        + f"</sheetData>{after}</worksheet>"
    ).encode()


def strings_xml(items: list[str], before: str = "") -> bytes:
    body = "".join(f"<si><t>{s}</t></si>" for s in items)
    n = len(items)
    return f'{DECL}{before}<sst xmlns="{MAIN}" count="{n}" uniqueCount="{n}">{body}</sst>'.encode()


def styles_xml(before: str = "", filler: str = "") -> bytes:
    return (
        f'{DECL}{before}<styleSheet xmlns="{MAIN}">{filler}'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        "</styleSheet>"
    ).encode()


def workbook_xml(sheet_id: str = "2", before: str = "") -> bytes:
    return (
        f'{DECL}{before}<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets>'
        '<sheet name="Customers" sheetId="1" r:id="rId1"/>'
        f'<sheet name="Orders" sheetId="{sheet_id}" r:id="rId2"/></sheets></workbook>'
    ).encode()


def workbook_rels(before: str = "", target1: str = "worksheets/sheet1.xml") -> bytes:
    return (
        f'{DECL}{before}<Relationships xmlns="{PKG}">'
        f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="{target1}"/>'
        f'<Relationship Id="rId2" Type="{RELS}/worksheet" Target="worksheets/sheet2.xml"/>'
        f'<Relationship Id="rId3" Type="{RELS}/styles" Target="styles.xml"/>'
        f'<Relationship Id="rId4" Type="{RELS}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    ).encode()


def base_parts() -> Parts:
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    return {
        "[Content_Types].xml": (
            f'{DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet2.xml" ContentType="{ct}.worksheet+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{ct}.styles+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/>'
            "</Types>"
        ).encode(),
        "_rels/.rels": (
            f'{DECL}<Relationships xmlns="{PKG}">'
            f'<Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ).encode(),
        "xl/workbook.xml": workbook_xml(),
        "xl/_rels/workbook.xml.rels": workbook_rels(),
        "xl/styles.xml": styles_xml(),
        "xl/sharedStrings.xml": strings_xml(STRINGS),
        "xl/worksheets/sheet1.xml": sheet_xml(CUSTOMER_ROWS),
        "xl/worksheets/sheet2.xml": sheet_xml(ORDER_ROWS),
    }


def write_package(path: Path, parts: Parts, stored: frozenset[str] = frozenset()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in parts.items():
            method = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            zf.writestr(name, data, compress_type=method)
    return path


def workbook(
    change: Callable[[Parts], None] | None = None, *, stored: frozenset[str] = frozenset()
) -> Builder:
    """A builder: the base workbook with ``change`` applied to its parts."""

    def build(folder: Path) -> Path:
        parts = base_parts()
        if change is not None:
            change(parts)
        return write_package(folder / "crm.xlsx", parts, stored)

    return build


def valid() -> Builder:
    return workbook()


# ---------------------------------------------------------------- changes to parts


def set_part(name: str, data: bytes) -> Callable[[Parts], None]:
    def change(parts: Parts) -> None:
        parts[name] = data

    return change


def drop_part(name: str) -> Callable[[Parts], None]:
    def change(parts: Parts) -> None:
        del parts[name]

    return change


def customers(*rows: str, before: str = "", after: str = "") -> Callable[[Parts], None]:
    """Customers with extra rows (raw XML) after the four good ones."""
    return set_part("xl/worksheets/sheet1.xml", sheet_xml([*CUSTOMER_ROWS, *rows], before, after))


def customers_xml(xml: bytes) -> Callable[[Parts], None]:
    return set_part("xl/worksheets/sheet1.xml", xml)


def cut_part(name: str, keep: float = 0.5) -> Callable[[Parts], None]:
    def change(parts: Parts) -> None:
        data = parts[name]
        parts[name] = data[: int(len(data) * keep)]

    return change


DTD_FILE = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
DTD_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)


# ---------------------------------------------------------------- changes to the zip itself


def _central_entry(data: bytes, name: str) -> int:
    """Offset of ``name``'s central-directory record."""
    encoded = name.encode()
    at = data.rfind(b"PK\x01\x02")
    while at >= 0:
        nlen = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + nlen] == encoded:
            return at
        at = data.rfind(b"PK\x01\x02", 0, at)
    raise KeyError(name)


def declared_size(name: str, size: int) -> Callable[[Path], None]:
    """Make the central directory claim another uncompressed size for ``name``."""

    def patch(path: Path) -> None:
        data = bytearray(path.read_bytes())
        at = _central_entry(bytes(data), name)
        struct.pack_into("<I", data, at + 24, size)
        path.write_bytes(bytes(data))

    return patch


def bad_magic(name: str) -> Callable[[Path], None]:
    """Spoil the signature of ``name``'s local header."""

    def patch(path: Path) -> None:
        data = bytearray(path.read_bytes())
        at = _central_entry(bytes(data), name)
        offset = struct.unpack_from("<I", data, at + 42)[0]
        data[offset : offset + 4] = b"XX\x03\x04"
        path.write_bytes(bytes(data))

    return patch


def flip_stored_byte(name: str, old: bytes, new: bytes) -> Callable[[Path], None]:
    """Change bytes inside a stored (uncompressed) part without fixing its CRC."""

    def patch(path: Path) -> None:
        data = path.read_bytes()
        assert len(old) == len(new) and data.count(old) == 1
        path.write_bytes(data.replace(old, new))

    return patch


def then(build: Builder, *patches: Callable[[Path], None]) -> Builder:
    def run(folder: Path) -> Path:
        path = build(folder)
        for patch in patches:
            patch(path)
        return path

    return run


def bomb_part(name: str, xml_before: bytes, filler_mb: int, xml_after: bytes) -> Builder:
    """A part that expands from a few KB to ``filler_mb`` MB (whitespace compresses ~1000x)."""

    def build(folder: Path) -> Path:
        parts = base_parts()
        path = folder / "crm.xlsx"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            for part, data in parts.items():
                if part != name:
                    zf.writestr(part, data)
            # streamed, so the test never holds the expanded part either
            info = zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w") as out:
                out.write(xml_before)
                block = b" " * (1 << 20)
                for _ in range(filler_mb):
                    out.write(block)
                out.write(xml_after)
        return path

    return build


def deflate_ratio(data: bytes) -> float:
    return len(data) / len(zlib.compress(data, 9))


def many_small_bombs(tabs: int = 120, kb: int = 900) -> Builder:
    """Tabs that each expand from about 1 KB to ``kb`` KB: each part stays under the size where
    its own ratio is checked, but together they unpack far more than the file could hold."""

    def build(folder: Path) -> Path:
        parts = base_parts()
        sheets = "".join(f'<sheet name="Filler {i}" sheetId="{i + 10}" r:id="rIdF{i}"/>' for i in range(tabs))
        parts["xl/workbook.xml"] = workbook_xml().replace(b"</sheets>", sheets.encode() + b"</sheets>")
        rels = "".join(
            f'<Relationship Id="rIdF{i}" Type="{RELS}/worksheet" Target="worksheets/filler{i}.xml"/>'
            for i in range(tabs)
        )
        parts["xl/_rels/workbook.xml.rels"] = workbook_rels().replace(
            b"</Relationships>", rels.encode() + b"</Relationships>"
        )
        filler = sheet_xml([], before="").replace(b"<sheetData>", b"<sheetData>" + b" " * (kb * 1024))
        for i in range(tabs):
            parts[f"xl/worksheets/filler{i}.xml"] = filler
        return write_package(folder / "crm.xlsx", parts)

    return build
