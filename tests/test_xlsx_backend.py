"""The xlsx backend's reader and writer in detail: cached values against an independent
reader (python-calamine), dates, chunk boundaries, surgical cell edits, styles, charts."""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from conftest import SHARED, shared_path
from lxml import etree
from python_calamine import CalamineWorkbook
from workbooks import customers_workbook

from sheet_crm.backends import xlsx_read as rd
from sheet_crm.backends import xlsx_write as wr
from sheet_crm.backends.xlsx import XlsxBackend
from sheet_crm.workbook import (
    Cell,
    CellEdit,
    CellError,
    ChartSpec,
    NoCachedValue,
    RowAppend,
    ToolTab,
    WritePlan,
)

WHEN = datetime(2026, 11, 22, 9, 30)
REAL = ("conformance", "real-workbooks")
REFUSED = {"pass_protected.xlsx", "strict_iso_paths.xlsx"}


def _readable() -> list[str]:
    root = SHARED.joinpath(*REAL)
    if not root.exists():
        return ["(shared data missing)"]
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.xls*")
        if not p.name.startswith("~$") and p.name not in REFUSED
    )


def _comparable(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date()
    if value == "" or isinstance(value, NoCachedValue):
        return None
    return value


def _cells(rows: list[list[Cell]] | list[list[object]]) -> dict[tuple[int, int], object]:
    return {
        (r, c): _comparable(v)
        for r, line in enumerate(rows)
        for c, v in enumerate(line)
        if _comparable(v) is not None
    }


@pytest.mark.parametrize("relative", _readable())
def test_cached_values_match_calamine(relative: str) -> None:
    """Every value we read equals what python-calamine reads, except where calamine gives
    no value (error cells: we return CellError) or a duration (we return a datetime)."""
    path = shared_path(*REAL, relative)
    calamine = CalamineWorkbook.from_path(str(path))
    with rd.open_package(path) as zf:
        info = rd.read_package_info(zf, path)
        strings = rd.read_shared_strings(zf, info.shared_strings_part)
        styles = rd.read_date_styles(zf, info.styles_part)
        for sheet in info.sheets:
            if sheet.kind != "worksheet":
                continue
            ours = rd.read_sheet(zf, sheet.part, strings, styles, info.date1904).rows
            slow = rd.read_sheet_lxml(zf, sheet.part, strings, styles, info.date1904).rows
            assert _cells(ours) == _cells(slow), "fast and general parsers disagree"
            theirs = _cells(calamine.get_sheet_by_name(sheet.name).to_python(skip_empty_area=False))
            mine = _cells(ours)
            for key in set(mine) | set(theirs):
                a, b = mine.get(key), theirs.get(key)
                if a == b or (isinstance(a, CellError) and b is None) or isinstance(b, timedelta):
                    continue
                raise AssertionError(f"{sheet.name} {key}: ours {a!r}, calamine {b!r}")


def test_chunk_boundaries_do_not_lose_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    path = shared_path(*REAL, "calamine", "pivots.xlsx")
    before = XlsxBackend(path).read()
    monkeypatch.setattr(rd, "CHUNK", 37)  # cut inside every tag
    after = XlsxBackend(path).read()
    for name, table in before.tables.items():
        assert [(r.number, r.values) for r in after.tables[name].rows] == [
            (r.number, r.values) for r in table.rows
        ]


def test_errors_rich_text_and_1904_dates() -> None:
    errors = shared_path(*REAL, "calamine", "errors.xlsx")
    with rd.open_package(errors) as zf:
        info = rd.read_package_info(zf, errors)
        strings = rd.read_shared_strings(zf, info.shared_strings_part)
        rows = rd.read_sheet(zf, info.sheets[0].part, strings, frozenset(), False).rows
    found = [v.text for line in rows for v in line if isinstance(v, CellError)]
    assert {"#DIV/0!", "#NAME?", "#VALUE!", "#N/A", "#REF!", "#NUM!", "#NULL!"} <= set(found)

    path = shared_path(*REAL, "calamine", "date_1904.xlsx")
    ours = XlsxBackend(path).read()
    theirs = CalamineWorkbook.from_path(str(path))
    for name, table in ours.tables.items():
        grid = theirs.get_sheet_by_name(name).to_python(skip_empty_area=False)
        for row in table.rows:
            for i, v in enumerate(row.values):
                expected = grid[row.number - 1][table.first_column - 1 + i]
                if isinstance(expected, date) and not isinstance(expected, datetime):
                    assert v == datetime(expected.year, expected.month, expected.day)

    rich = shared_path(*REAL, "xlsxwriter", "rich_string01.xlsx")
    with rd.open_package(rich) as zf:
        info = rd.read_package_info(zf, rich)
        strings = rd.read_shared_strings(zf, info.shared_strings_part)
        rows = rd.read_sheet(zf, info.sheets[0].part, strings, frozenset(), False).rows
    texts = [v for line in rows for v in line if isinstance(v, str)]
    cal = CalamineWorkbook.from_path(str(shared_path(*REAL, "xlsxwriter", "rich_string01.xlsx")))
    expected = [v for row in cal.get_sheet_by_index(0).to_python() for v in row if isinstance(v, str) and v]
    assert sorted(texts) == sorted(expected)


@pytest.mark.parametrize(
    ("code", "is_date"),
    [
        ("yyyy-mm-dd", True),
        ("d/m/yy h:mm", True),
        ("[$-409]d-mmm-yy;@", True),
        ("[h]:mm:ss", True),
        ("mm:ss.0", True),
        ("0.00", False),
        ("#,##0.00 [$€-1]", False),
        ('"Day "0', False),
        ("[Red]0.00;[Blue]-0.00", False),
        ("General", False),
        ("0.00E+00", False),
        ("_(* #,##0_);_(* (#,##0)", False),
    ],
)
def test_date_format_detection(code: str, is_date: bool) -> None:
    assert rd._is_date_code(code) is is_date


def test_formula_without_cached_value_and_table_offsets(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Customers"
    sheet["C4"], sheet["D4"], sheet["E4"] = "Customer ID", "Name", "Total"
    sheet["C5"], sheet["D5"], sheet["E5"] = "C1", "Ann", "=1+2"
    book.save(path)
    table = XlsxBackend(path).read().find("Customers")
    assert table is not None
    assert (table.header_row, table.first_column, table.headers) == (4, 3, ["Customer ID", "Name", "Total"])
    assert table.rows[0].values[:2] == ["C1", "Ann"]
    assert table.rows[0].values[2] == NoCachedValue("1+2")


def _sheet_xml(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as zf:
        info = rd.read_package_info(zf, path)
        part = next(s.part for s in info.sheets if s.name == name)
        return zf.read(part).decode()


def test_cell_edits_change_only_their_cells(tmp_path: Path) -> None:
    path = tmp_path / "crm.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Customers"
    for row in [
        ["Customer ID", "Name", "Email", "Merged into"],
        [None, "Ann", "ann@x.org"],
        ["C2", "Bob", "b@y.com"],
    ]:
        sheet.append(row)
    sheet["A10"] = "far below"
    book.save(path)
    before = _sheet_xml(path, "Customers")
    backend = XlsxBackend(path)
    edits = [
        CellEdit("Customers", 2, 1, None, "C1", "fill a blank Customer ID"),  # cell missing in its row
        CellEdit("Customers", 3, 4, None, "C1", "merged into"),  # after the row's last cell
        CellEdit("Customers", 6, 2, None, date(2026, 1, 2), "a row that does not exist yet"),
    ]
    appends = [RowAppend("Customers", {"Name": "Cy", "email": "=not a formula"}, "new customer")]
    report = backend.write(
        WritePlan(edits=edits, appends=appends, generated_at=WHEN), expected_version=backend.read().version
    )
    assert report.cells_edited == 3 and report.rows_appended == 1
    after = _sheet_xml(path, "Customers")
    # everything before the first row touched and after the last is byte-identical
    first = before.index('<row r="2"')
    assert after[:first].replace('ref="A1:D10"', 'ref="A1:D11"') == before[:first].replace(
        'ref="A1:D10"', 'ref="A1:D11"'
    )
    assert after.endswith(before[before.index("</sheetData>") :])
    assert (
        '<row r="3"' in after
        and before[before.index('<row r="3"') : before.index("</row>", before.index('<row r="3"'))].split(
            ">", 1
        )[1]
        in after
    )
    table = backend.read().find("Customers")
    assert table is not None
    cells = {(r.number, i): v for r in table.rows for i, v in enumerate(r.values) if v is not None}
    assert cells[(2, 0)] == "C1" and cells[(3, 3)] == "C1"
    assert cells[(6, 1)] == datetime(2026, 1, 2)
    assert cells[(11, 1)] == "Cy" and cells[(11, 2)] == "=not a formula"
    # rows and cells are in order, as Excel requires
    numbers = [int(n) for n in re.findall(r'<row r="(\d+)"', after)]
    assert numbers == sorted(numbers)
    for row_xml in re.findall(r"<row [^>]*>(.*?)</row>", after):
        refs = [rd.column_number(c) for c in re.findall(r'<c r="([A-Z]+)\d+"', row_xml)]
        assert refs == sorted(refs)
    openpyxl.load_workbook(path).close()  # another reader accepts it


def test_styles_are_appended_once(tmp_path: Path) -> None:
    source = shared_path(*REAL, "xlsxwriter", "format01.xlsx")
    path = tmp_path / "format01.xlsx"
    path.write_bytes(source.read_bytes())
    backend = XlsxBackend(path)
    tab = ToolTab("Runs", ["When", "Day"], [[WHEN, date(2026, 1, 1)]])

    def styles() -> bytes:
        with zipfile.ZipFile(path) as zf:
            return zf.read("xl/styles.xml")

    original = styles()
    backend.write(WritePlan(tabs=[tab], generated_at=WHEN), expected_version=backend.read().version)
    first = styles()
    backend.write(WritePlan(tabs=[tab], generated_at=WHEN), expected_version=backend.read().version)
    assert styles() == first != original
    xfs_before = len(etree.fromstring(original).find(f"{{{rd.MAIN_NS}}}cellXfs"))  # type: ignore[arg-type]
    xfs_after = len(etree.fromstring(first).find(f"{{{rd.MAIN_NS}}}cellXfs"))  # type: ignore[arg-type]
    assert xfs_after - xfs_before == 4  # note, header, date, date and time


def test_zip_writer_copies_entries_with_data_descriptors(tmp_path: Path) -> None:
    class Stream:  # not seekable: zipfile then puts sizes in data descriptors
        def __init__(self) -> None:
            self.data = bytearray()

        def write(self, b: bytes) -> int:
            self.data += b
            return len(b)

        def flush(self) -> None:
            pass

    stream = Stream()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as zf:  # type: ignore[arg-type]
        with zf.open("a.xml", "w") as f:
            f.write(b"<a>" + b"x" * 5000 + b"</a>")
        zf.writestr("b.xml", "<b/>")
    source = tmp_path / "s.zip"
    source.write_bytes(bytes(stream.data))
    target = tmp_path / "t.zip"
    with zipfile.ZipFile(source) as zf, source.open("rb") as raw, target.open("wb") as out:
        assert zf.getinfo("a.xml").flag_bits & 0x08
        writer = wr.ZipWriter(out)
        for info in zf.infolist():
            writer.copy_raw(raw, info)
        writer.write_new("c/ü.xml", b"<c/>", (2026, 11, 22, 9, 30, 0))
        writer.close()
    with zipfile.ZipFile(target) as zf:
        assert zf.testzip() is None
        assert zf.read("a.xml") == b"<a>" + b"x" * 5000 + b"</a>"
        assert zf.read("c/ü.xml") == b"<c/>"


def test_charts_are_native_and_replaced_with_their_tab(tmp_path: Path) -> None:
    path = tmp_path / "crm.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Customers"  # type: ignore[union-attr]
    book.save(path)
    backend = XlsxBackend(path)
    rows: list[list[Cell]] = [[f"M{i}", i * 10, i] for i in range(1, 7)]
    kinds = ["line", "bar", "column", "pie", "scatter"]
    specs = [
        ChartSpec(f"{k} chart", k, (1, 3, 8), (("Value", 2, 3, 8),), anchor=f"E{3 + 18 * i}")
        for i, k in enumerate(kinds)
    ]  # type: ignore[arg-type]
    for _ in range(2):
        tab = ToolTab("Dashboard", ["Month", "Value", "N"], rows, charts=specs)
        backend.write(WritePlan(tabs=[tab], generated_at=WHEN), expected_version=backend.read().version)
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        charts = [n for n in names if n.startswith("xl/charts/chart")]
        drawings = [n for n in names if re.fullmatch(r"xl/drawings/drawing\d+\.xml", n)]
        assert len(charts) == 5 and len(drawings) == 1
        types = zf.read("[Content_Types].xml").decode()
        for part in charts + drawings:
            assert f'PartName="/{part}"' in types
            etree.fromstring(zf.read(part))  # well-formed
        bodies = "".join(zf.read(c).decode() for c in charts)
        for element in (
            "c:lineChart",
            'c:barDir val="bar"',
            'c:barDir val="col"',
            "c:pieChart",
            "c:scatterChart",
        ):
            assert element in bodies
        assert "Dashboard!$B$3:$B$8" in bodies
        assert types.count("drawingml.chart+xml") == 5  # the first write's charts are gone


def test_too_long_text_is_cut_to_what_a_cell_holds(tmp_path: Path) -> None:
    path = tmp_path / "crm.xlsx"
    openpyxl.Workbook().save(path)
    backend = XlsxBackend(path)
    backend.write(
        WritePlan(tabs=[ToolTab("Issues", ["Text"], [["y" * 40000]])], generated_at=WHEN),
        expected_version=backend.read().version,
    )
    table = backend.read().tab("Issues")
    assert table is not None
    text = table.rows[0].values[0]
    assert isinstance(text, str) and len(text) == wr.MAX_CELL_CHARS and text.endswith(wr.CUT_MARK)


def test_app_properties_list_the_new_tabs(tmp_path: Path) -> None:
    source = shared_path(*REAL, "xlsxwriter", "chart_line01.xlsx")
    path = tmp_path / "c.xlsx"
    path.write_bytes(source.read_bytes())
    backend = XlsxBackend(path)
    tabs = [ToolTab("Tiers", ["A"], [[1]]), ToolTab("Issues", ["B"], [[2]])]
    for _ in range(2):  # the second write replaces: no duplicate titles
        backend.write(WritePlan(tabs=tabs, generated_at=WHEN), expected_version=backend.read().version)
    with zipfile.ZipFile(path) as zf:
        app = etree.fromstring(zf.read("docProps/app.xml"))
    vt = "{http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes}"
    titles = [el.text for el in app.iter(f"{vt}lpstr")]
    assert titles == ["Worksheets", "Sheet1", "Tiers", "Issues"]
    assert [el.text for el in app.iter(f"{vt}i4")] == ["3"]


def test_owner_formulas_in_a_tool_tab_drop_the_calculation_chain(tmp_path: Path) -> None:
    """Excel's calcChain must not point at formulas that the replaced tool tab no longer has."""
    path = tmp_path / "crm.xlsx"
    openpyxl.Workbook().save(path)
    backend = XlsxBackend(path)
    tab = ToolTab("Duplicates", ["Pair", "Decision"], [["P1", None]], decision_columns=("Decision",))
    backend.write(WritePlan(tabs=[tab], generated_at=WHEN), expected_version=backend.read().version)
    # the owner types a formula into the tool tab; Excel saves a calcChain listing it
    with zipfile.ZipFile(path) as zf:
        items = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    info_sheet = next(n for n in items if n.startswith("xl/worksheets/sheet") and b"Decision" in items[n])
    items[info_sheet] = items[info_sheet].replace(
        b'<c r="A3" t="inlineStr"><is><t>P1</t></is></c>',
        b'<c r="A3" t="inlineStr"><is><t>P1</t></is></c><c r="C3"><f>1+1</f><v>2</v></c>',
    )
    assert b"<f>1+1</f>" in items[info_sheet]
    items["xl/calcChain.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<c r="C3" i="2"/></calcChain>'
    )
    items["xl/_rels/workbook.xml.rels"] = items["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdCalc" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        b'calcChain" Target="calcChain.xml"/></Relationships>',
    )
    items["[Content_Types].xml"] = items["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/calcChain.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>',
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items.items():
            zf.writestr(name, data)
    backend.write(WritePlan(tabs=[tab], generated_at=WHEN), expected_version=backend.read().version)
    with zipfile.ZipFile(path) as zf:
        assert "xl/calcChain.xml" not in zf.namelist()
        assert b"calcChain" not in zf.read("xl/_rels/workbook.xml.rels")
        assert b"calcChain" not in zf.read("[Content_Types].xml")


def test_long_tabs_read_as_build_table_reads_them(tmp_path: Path) -> None:
    """Rows below the top are added without copying; the result equals build_table's."""
    from sheet_crm.workbook import FindingList, build_table

    grid: list[list[Cell]] = [["Title"], [], ["Customer ID", "Name", "Email"]]
    for i in range(60):
        grid.append(
            []
            if i % 7 == 0
            else [f"C{i}", f"N{i}", "  " if i % 5 == 0 else f"e{i}@x.org", "extra"][: 2 + i % 3]
        )
    path = tmp_path / "long.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Customers"
    for r, line in enumerate(grid, start=1):
        for c, v in enumerate(line, start=1):
            sheet.cell(r, c, v)
    book.save(path)
    ours = XlsxBackend(path).read().find("Customers")
    reference = build_table("Customers", [list(r) for r in grid], findings=FindingList())
    assert ours is not None
    assert (ours.header_row, ours.headers, ours.fields) == (
        reference.header_row,
        reference.headers,
        reference.fields,
    )
    assert [(r.number, r.values) for r in ours.rows] == [(r.number, r.values) for r in reference.rows]


def test_number_formats_by_column_and_by_cell(tmp_path: Path) -> None:
    """Numbers take the tab's formats (money with thousands separators, counts whole); a
    date in the same column keeps its date format; text takes none; the values read
    back unchanged, as numbers; the styles are appended once, however many runs."""
    from sheet_crm.workbook import AMOUNT, ONE_DECIMAL, WHOLE

    path = customers_workbook(tmp_path / "book.xlsx")
    tab = ToolTab(
        "Dashboard",
        ["Key figure", "Value", "Share %", "Orders"],
        [
            ["Figures as of", date(2026, 11, 22), 87.5, 12],
            ["Customers", 1200, 12.25, 3400],
            ["Revenue", 245137.97, None, "n/a"],
        ],
        formats={"Share %": ONE_DECIMAL, "Orders": WHOLE},
        cell_formats={(2, "Value"): AMOUNT},
    )
    backend = XlsxBackend(path)
    for _ in range(2):
        backend.write(WritePlan(tabs=[tab], generated_at=WHEN), expected_version=backend.read().version)
        with zipfile.ZipFile(path) as zf:
            styles = zf.read("xl/styles.xml")
    assert styles.count(b'formatCode="#,##0.00"') == 1
    ws = openpyxl.load_workbook(path)["Dashboard"]
    assert ws["B3"].number_format == "yyyy-mm-dd"
    assert ws["B4"].number_format == "General"  # a count in the Value column: no money format
    assert ws["B5"].number_format == "#,##0.00"
    assert [ws[f"C{r}"].number_format for r in (3, 4)] == ["#,##0.0", "#,##0.0"]
    assert [ws[f"D{r}"].number_format for r in (3, 4)] == ["#,##0", "#,##0"]
    assert ws["D5"].number_format == "General" and ws["D5"].value == "n/a"
    read = backend.read().tab("Dashboard")
    assert read is not None
    assert [r.values[1] for r in read.rows] == [datetime(2026, 11, 22), 1200, 245137.97]
    assert [r.values[2] for r in read.rows] == [87.5, 12.25, None]


# ---------------------------------------------------------------- hostile and unusual XML


def _one_sheet(tmp_path: Path, rows: str, *, strings: list[str] | None = None) -> Path:
    from hostile_xlsx import base_parts, sheet_xml, strings_xml, write_package

    parts = base_parts()
    parts["xl/worksheets/sheet2.xml"] = sheet_xml([rows])
    if strings is not None:
        parts["xl/sharedStrings.xml"] = strings_xml(strings)
    return write_package(tmp_path / "odd.xlsx", parts)


def _orders_rows(path: Path) -> list[list[Cell]]:
    with rd.open_package(path) as zf:
        info = rd.read_package_info(zf, path)
        strings = rd.read_shared_strings(zf, info.shared_strings_part)
        styles = rd.read_date_styles(zf, info.styles_part)
        fast = rd.read_sheet(zf, info.sheets[1].part, strings, styles, info.date1904).rows
        general = rd.read_sheet_lxml(zf, info.sheets[1].part, strings, styles, info.date1904).rows
    assert fast == general
    return fast


def test_a_cell_the_patterns_do_not_expect_is_read_not_skipped(tmp_path: Path) -> None:
    """Valid XML the fast path's patterns do not match (spaces around ``=``, an attribute
    value with ``>``): the part goes to the general parser, so no cell is lost."""
    path = _one_sheet(
        tmp_path,
        '<row r="1"><c r="A1"><v>1</v></c><c r = "B1" t="inlineStr"><is><t>odd</t></is></c>'
        '<c r="C1" x:y="a&gt;b" xmlns:x="urn:x"><v>3</v></c></row>',
    )
    assert _orders_rows(path) == [[1, "odd", 3]]


def test_numbers_excel_cannot_hold_stay_text(tmp_path: Path) -> None:
    big = "9" * 400
    path = _one_sheet(
        tmp_path,
        f'<row r="1"><c r="A1"><v>1e309</v></c><c r="B1"><v>NaN</v></c><c r="C1" s="1"><v>{big}</v></c>'
        '<c r="D1"><v>12345678901234567</v></c><c r="E1"><v>-2.5E3</v></c>'
        '<c r="F1" s="1"><v>1e300</v></c></row>',
    )
    assert _orders_rows(path) == [["1e309", "NaN", big, 12345678901234567, -2500.0, 1e300]]


def test_ooxml_escapes_pair_surrogates_and_read_a_lone_one_as_it_is(tmp_path: Path) -> None:
    path = _one_sheet(
        tmp_path,
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>x_xD800_y</t></is></c></row>',
        strings=["smile _xD83D__xDE00_ _x0041_"],
    )
    rows = _orders_rows(path)
    # The pair is one character; the lone half is read faithfully and left to the model,
    # which reports it at its cell (tests/test_hostile_misc.py) and reads it as U+FFFD.
    assert rows == [["smile \U0001f600 A", "x\ud800y"]]


@pytest.mark.parametrize(
    ("limit", "value"),
    [("SHEET_CRM_MAX_PART_MB", "0"), ("SHEET_CRM_MAX_ZIP_RATIO", "-3"), ("SHEET_CRM_MAX_EMPTY_CELLS", "1.5")],
)
def test_limits_from_the_environment_must_be_positive_numbers(
    limit: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sheet_crm.errors import ConfigError

    monkeypatch.setenv(limit, value)
    with pytest.raises(ConfigError, match=limit):
        rd.current_limits()
    monkeypatch.setenv(limit, "2000")
    assert rd.current_limits() != rd.Limits()


def test_blank_cells_to_reach_far_cells_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sheet_crm.errors import WorkbookTooLarge

    path = _one_sheet(
        tmp_path, '<row r="1"><c r="A1"><v>1</v></c></row><row r="9"><c r="Z9"><v>2</v></c></row>'
    )
    assert _orders_rows(path)[8] == [None] * 25 + [2]
    monkeypatch.setenv("SHEET_CRM_MAX_EMPTY_CELLS", "20")
    with pytest.raises(WorkbookTooLarge, match="blank cells"):
        XlsxBackend(path).read()
