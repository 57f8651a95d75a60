"""Fidelity on real workbooks no one here made: writing the tool's tabs, then replacing
them, keeps every part the tool does not own byte for byte.

For each workbook in ../shared/conformance/real-workbooks/: copy it, write two tool
tabs (one with a chart), write again replacing them, then check

* every original part other than the parts that list sheets is unchanged (decompressed
  bytes), nothing of the owner's was removed;
* the parts that list sheets differ only by the tool's own entries;
* the styles part's existing entries are unchanged (new ones only at the ends);
* the tool tabs read back exactly, and the owner's cached values are unchanged.

Workbooks that must be refused (encrypted, Strict Open XML, open in Excel) are refused
and left byte-identical.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import SHARED, shared_path
from lxml import etree

from sheet_crm.backends.xlsx import XlsxBackend
from sheet_crm.errors import SheetCrmError, UnsupportedWorkbook, WorkbookLocked, WorkbookProtected
from sheet_crm.workbook import AMOUNT, Cell, ChartSpec, ToolTab, Workbook, WritePlan

REAL = ("conformance", "real-workbooks")
MUST_REFUSE: dict[str, type[SheetCrmError]] = {
    "calamine/pass_protected.xlsx": WorkbookProtected,
    "calamine/strict_iso_paths.xlsx": UnsupportedWorkbook,
    "closedxml/excel-open-lock/LoadPivotTables.xlsx": WorkbookLocked,
}
LISTING_PARTS = {"[Content_Types].xml", "docProps/app.xml"}
WHEN = datetime(2026, 11, 22, 9, 30)
RESULTS: dict[str, str] = {}


def _workbooks() -> list[str]:
    root = SHARED.joinpath(*REAL)
    if not root.exists():
        return ["(shared data missing)"]
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.suffix.lower() in {".xlsx", ".xlsm"} and not p.name.startswith("~$")
    )


@pytest.fixture(scope="module", autouse=True)
def _summary(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if not RESULTS:
        return
    ok = sum(1 for v in RESULTS.values() if v in {"kept", "refused"})
    line = (
        f"\nxlsx fidelity: {ok}/{len(RESULTS)} real workbooks passed "
        f"({sum(v == 'kept' for v in RESULTS.values())} written and kept byte for byte, "
        f"{sum(v == 'refused' for v in RESULTS.values())} refused and untouched)"
    )
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():
        print(line)


def tool_tabs(round_: int) -> list[ToolTab]:
    rows: list[list[Cell]] = [
        [
            f"C{i}",
            ["Gold", "Silver", "Bronze"][i % 3],
            100.0 / (i + 1) + round_,
            date(2026, 1, 1 + i),
            "=not a formula",
        ]
        for i in range(12)
    ]
    chart = ChartSpec("Spend by customer", "column", (1, 3, 14), (("Spend", 3, 3, 14),), anchor="G3")
    return [
        ToolTab(
            "Tiers",
            ["Customer ID", "Tier", "Spend", "Since", "Why"],
            rows,
            charts=[chart],
            formats={"Spend": AMOUNT},  # a number format appended to the owner's styles
        ),
        ToolTab(
            "Issues",
            ["Where", "Problem"],
            [[f"Customers!E{i}", f"problem {i} round {round_}"] for i in range(5)],
        ),
    ]


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def owner_values(workbook: Workbook, tool: set[str]) -> dict[str, list[tuple[int, list[Cell]]]]:
    return {
        name: [(row.number, row.values) for row in table.rows]
        for name, table in workbook.tables.items()
        if name not in tool
    }


def strip_tool_entries(text: str, tool_parts: set[str], tool_names: set[str], rids: set[str]) -> str:
    """A listing part with the tool's own entries removed: what must equal the original."""
    for name in tool_names:
        escaped = re.escape(name.replace("&", "&amp;"))
        text = re.sub(rf'<(?:\w+:)?sheet name="{escaped}"[^>]*/>', "", text)
    for rid in rids:
        text = re.sub(rf'<(?:\w+:)?Relationship Id="{re.escape(rid)}"[^>]*/>', "", text)
    for part in tool_parts:
        text = re.sub(rf'<(?:\w+:)?Override PartName="/{re.escape(part)}"[^>]*/>', "", text)
    return text


STYLE_LISTS = ("numFmts", "fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles", "dxfs")


def styles_kept(before: bytes, after: bytes) -> None:
    b, a = etree.fromstring(before), etree.fromstring(after)
    b_children = [c for c in b if isinstance(c.tag, str)]
    a_children = {etree.QName(c).localname: c for c in a if isinstance(c.tag, str)}
    for child in b_children:
        name = etree.QName(child).localname
        assert name in a_children, f"styles lost <{name}>"
        new = a_children[name]
        if name in STYLE_LISTS:
            old_items = [etree.tostring(c, method="c14n") for c in child if isinstance(c.tag, str)]
            new_items = [etree.tostring(c, method="c14n") for c in new if isinstance(c.tag, str)]
            assert new_items[: len(old_items)] == old_items, f"styles <{name}> existing entries changed"
            count = new.get("count")
            assert count is None or int(count) == len(new_items)
        else:
            assert etree.tostring(child, method="c14n") == etree.tostring(new, method="c14n")


@pytest.mark.parametrize("relative", _workbooks())
def test_real_workbook_keeps_every_part(relative: str, tmp_path: Path) -> None:
    source = shared_path(*REAL, relative)
    # copy the folder's lock files too: a workbook open in Excel must be refused
    target = tmp_path / source.name
    target.write_bytes(source.read_bytes())
    for lock in source.parent.glob("~$*"):
        shutil.copyfile(lock, tmp_path / lock.name)
    original = target.read_bytes()
    backend = XlsxBackend(target)

    if relative in MUST_REFUSE:
        with pytest.raises(MUST_REFUSE[relative]) as info:
            workbook = backend.read()
            backend.write(WritePlan(tabs=tool_tabs(1), generated_at=WHEN), expected_version=workbook.version)
        assert info.value.fix, "a refusal must say what to do"
        assert target.read_bytes() == original
        assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("~$")) == [target.name]
        RESULTS[relative] = "refused"
        return

    RESULTS[relative] = "failed"
    before_parts = parts(target)
    before = backend.read()
    tool = {"Tiers", "Issues"}
    for round_ in (1, 2):
        workbook = backend.read()
        backend.write(WritePlan(tabs=tool_tabs(round_), generated_at=WHEN), expected_version=workbook.version)
    after_parts = parts(target)
    after = backend.read()

    # 1. every part of the owner's is still there, byte for byte
    lost = set(before_parts) - set(after_parts)
    assert not lost, f"parts removed: {lost}"
    with zipfile.ZipFile(target) as zf:
        from sheet_crm.backends import xlsx_read as rd

        info = rd.read_package_info(zf, target)
    workbook_part = info.workbook_part
    wb_rels = rd.rels_part_of(workbook_part)
    listing = LISTING_PARTS | {workbook_part, wb_rels}
    styles = info.styles_part
    changed = {
        name
        for name in before_parts
        if before_parts[name] != after_parts[name] and name not in listing | {styles}
    }
    assert not changed, f"owner parts changed: {sorted(changed)}"

    # 2. listing parts differ only by the tool's entries
    tool_sheets = [s for s in info.sheets if s.name in tool]
    assert [s.name for s in info.sheets][-2:] == ["Tiers", "Issues"]
    new_parts = set(after_parts) - set(before_parts)
    rids = {s.rid for s in tool_sheets}
    for name in (workbook_part, wb_rels, "[Content_Types].xml"):
        stripped = strip_tool_entries(after_parts[name].decode("utf-8"), new_parts, tool, rids)
        assert stripped == before_parts[name].decode("utf-8"), f"{name} changed beyond the tool's entries"
    assert all(
        p.startswith(("xl/worksheets/", "xl/drawings/", "xl/charts/")) or p == styles for p in new_parts
    ), sorted(new_parts)

    # 3. styles: existing entries untouched
    if styles in before_parts:
        styles_kept(before_parts[styles], after_parts[styles])

    # 4. tool tabs read back exactly; owner values unchanged
    for tab in tool_tabs(2):
        table = after.tab(tab.name)
        assert table is not None and table.headers == tab.headers
        got = [
            [datetime(v.year, v.month, v.day) if type(v) is date else v for v in r.values] for r in table.rows
        ]
        want = [[datetime(v.year, v.month, v.day) if type(v) is date else v for v in r] for r in tab.rows]
        assert got == want
    assert owner_values(after, tool) == owner_values(before, tool)
    # 5. the second write replaced, not duplicated: one chart, one drawing for Tiers
    assert len([p for p in new_parts if p.startswith("xl/charts/")]) == 1
    RESULTS[relative] = "kept"
