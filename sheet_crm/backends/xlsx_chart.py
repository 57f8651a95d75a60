"""Native DrawingML charts for tool tabs: one drawing part per tab, one chart part per chart.

Charts point at the tab's own cells (so they follow the data when the owner sorts or
filters) and also carry a cache of the values, which is what Excel, LibreOffice and
Google Sheets show before (or instead of) recalculating.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from ..findings import column_letter, quote_tab
from ..workbook import Cell, ChartSpec

C_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
XDR_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_TYPE_DRAWING = R_NS + "/drawing"
REL_TYPE_CHART = R_NS + "/chart"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"

EMU_PER_PX = 9525
ROW_PX = 20  # a default 15pt row
EMU_PER_CM = 360000


def _anchor_cell(anchor: str) -> tuple[int, int]:
    letters = "".join(ch for ch in anchor if ch.isalpha()).upper()
    digits = "".join(ch for ch in anchor if ch.isdigit())
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return max(col, 1), max(int(digits or 1), 1)


def _column_px(width_chars: float) -> int:
    return int(width_chars * 7 + 5)


def _span(start: int, length_emu: int, sizes_emu: Sequence[int]) -> tuple[int, int]:
    """From a 0-based start index, the 0-based index and offset where ``length_emu`` ends."""
    i, left = start, length_emu
    while True:
        size = sizes_emu[i] if i < len(sizes_emu) else sizes_emu[-1]
        if left < size:
            return i, left
        left -= size
        i += 1


def drawing_xml(charts: Sequence[ChartSpec], column_widths: Sequence[float], default_width: float) -> str:
    """The drawing part placing each chart at its anchor cell, sized in centimetres."""
    col_emu = [_column_px(w) * EMU_PER_PX for w in column_widths] + [_column_px(default_width) * EMU_PER_PX]
    anchors = []
    for i, spec in enumerate(charts, start=1):
        col, row = _anchor_cell(spec.anchor)
        cx, cy = int(spec.width_cm * EMU_PER_CM), int(spec.height_cm * EMU_PER_CM)
        sizes = col_emu[col - 1 :] if col - 1 < len(col_emu) else [col_emu[-1]]
        to_col_rel, col_off = _span(0, cx, sizes)
        to_row_rel, row_off = _span(0, cy, [ROW_PX * EMU_PER_PX])
        anchors.append(
            f'<xdr:twoCellAnchor editAs="oneCell">'
            f"<xdr:from><xdr:col>{col - 1}</xdr:col><xdr:colOff>0</xdr:colOff>"
            f"<xdr:row>{row - 1}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
            f"<xdr:to><xdr:col>{col - 1 + to_col_rel}</xdr:col><xdr:colOff>{col_off}</xdr:colOff>"
            f"<xdr:row>{row - 1 + to_row_rel}</xdr:row><xdr:rowOff>{row_off}</xdr:rowOff></xdr:to>"
            f'<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr>'
            f'<xdr:cNvPr id="{i + 1}" name={quoteattr("Chart " + str(i))} descr={quoteattr(spec.title)}/>'
            f"<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>"
            f'<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></xdr:xfrm>'
            f'<a:graphic><a:graphicData uri="{C_NS}">'
            f'<c:chart xmlns:c="{C_NS}" r:id="rId{i}"/>'
            f"</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<xdr:wsDr xmlns:xdr="{XDR_NS}" xmlns:a="{A_NS}" xmlns:r="{R_NS}">'
        + "".join(anchors)
        + "</xdr:wsDr>"
    )


def drawing_rels_xml(chart_targets: Sequence[str]) -> str:
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{REL_TYPE_CHART}" Target={quoteattr(t)}/>'
        for i, t in enumerate(chart_targets, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + rels
        + "</Relationships>"
    )


def _rich(text: str, size: int = 1400, bold: bool = True) -> str:
    return (
        f'<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz="{size}" '
        f'b="{int(bold)}"/></a:pPr><a:r><a:rPr lang="en-US" sz="{size}" b="{int(bold)}"/>'
        f"<a:t>{escape(text)}</a:t></a:r></a:p></c:rich></c:tx>"
        '<c:overlay val="0"/></c:title>'
    )


def _ref(tab: str, col: int, first: int, last: int) -> str:
    letter = column_letter(col)
    return f"{quote_tab(tab)}!${letter}${first}:${letter}${last}"


def _cell_at(rows: Sequence[Sequence[Cell]], sheet_row: int, col: int, first_data_row: int) -> Cell:
    i = sheet_row - first_data_row
    if 0 <= i < len(rows) and col - 1 < len(rows[i]):
        return rows[i][col - 1]
    return None


def _number(value: Cell) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _str_cache(values: Sequence[Cell]) -> str:
    pts = "".join(
        f'<c:pt idx="{i}"><c:v>{escape("" if v is None else str(v))}</c:v></c:pt>'
        for i, v in enumerate(values)
    )
    return f'<c:strCache><c:ptCount val="{len(values)}"/>{pts}</c:strCache>'


def _num_cache(values: Sequence[Cell]) -> str:
    pts = "".join(
        f'<c:pt idx="{i}"><c:v>{n!r}</c:v></c:pt>'
        for i, v in enumerate(values)
        if (n := _number(v)) is not None
    )
    return (
        f'<c:numCache><c:formatCode>General</c:formatCode><c:ptCount val="{len(values)}"/>{pts}</c:numCache>'
    )


def chart_xml(spec: ChartSpec, tab: str, rows: Sequence[Sequence[Cell]], first_data_row: int) -> str:
    """One chart part. ``rows`` are the tab's data rows, the first at ``first_data_row``."""
    cat_col, cat_first, cat_last = spec.categories
    cats = [_cell_at(rows, r, cat_col, first_data_row) for r in range(cat_first, cat_last + 1)]
    cat_ref = _ref(tab, cat_col, cat_first, cat_last)
    scatter = spec.kind == "scatter"
    series = []
    for i, (name, col, first, last) in enumerate(spec.series):
        vals = [_cell_at(rows, r, col, first_data_row) for r in range(first, last + 1)]
        val_ref = _ref(tab, col, first, last)
        tx = f"<c:tx><c:v>{escape(name)}</c:v></c:tx>"
        if scatter:
            body = (
                f'<c:spPr><a:ln w="28575"><a:noFill/></a:ln></c:spPr>'
                f'<c:marker><c:symbol val="circle"/><c:size val="6"/></c:marker>'
                f"<c:xVal><c:numRef><c:f>{escape(cat_ref)}</c:f>{_num_cache(cats)}</c:numRef></c:xVal>"
                f"<c:yVal><c:numRef><c:f>{escape(val_ref)}</c:f>{_num_cache(vals)}</c:numRef></c:yVal>"
                '<c:smooth val="0"/>'
            )
        else:
            cat = f"<c:cat><c:strRef><c:f>{escape(cat_ref)}</c:f>{_str_cache(cats)}</c:strRef></c:cat>"
            val = f"<c:val><c:numRef><c:f>{escape(val_ref)}</c:f>{_num_cache(vals)}</c:numRef></c:val>"
            marker = '<c:marker><c:symbol val="none"/></c:marker>' if spec.kind == "line" else ""
            extra = '<c:smooth val="0"/>' if spec.kind == "line" else ""
            inv = '<c:invertIfNegative val="0"/>' if spec.kind in ("bar", "column") else ""
            body = f"{inv}{marker}{cat}{val}{extra}"
        series.append(f'<c:ser><c:idx val="{i}"/><c:order val="{i}"/>{tx}{body}</c:ser>')
    ser = "".join(series)
    axes_ids = '<c:axId val="500000001"/><c:axId val="500000002"/>'
    if spec.kind == "pie":
        plot = f'<c:pieChart><c:varyColors val="1"/>{ser}<c:firstSliceAng val="0"/></c:pieChart>'
        axes = ""
    elif spec.kind == "line":
        plot = (
            f'<c:lineChart><c:grouping val="standard"/><c:varyColors val="0"/>{ser}'
            f'<c:marker val="1"/>{axes_ids}</c:lineChart>'
        )
        axes = _cat_axis(spec) + _val_axis(spec, "l", "500000002", "500000001")
    elif spec.kind == "scatter":
        plot = (
            f'<c:scatterChart><c:scatterStyle val="lineMarker"/><c:varyColors val="0"/>{ser}{axes_ids}'
            "</c:scatterChart>"
        )
        axes = _val_axis(spec, "b", "500000001", "500000002", title=spec.x_title) + _val_axis(
            spec, "l", "500000002", "500000001"
        )
    else:
        direction = "bar" if spec.kind == "bar" else "col"
        plot = (
            f'<c:barChart><c:barDir val="{direction}"/><c:grouping val="clustered"/><c:varyColors val="0"/>'
            f'{ser}<c:gapWidth val="80"/>{axes_ids}</c:barChart>'
        )
        cat_pos, val_pos = ("l", "b") if spec.kind == "bar" else ("b", "l")
        axes = _cat_axis(spec, cat_pos) + _val_axis(spec, val_pos, "500000002", "500000001")
    legend = (
        '<c:legend><c:legendPos val="r"/><c:overlay val="0"/></c:legend>'
        if (len(spec.series) > 1 or spec.kind == "pie")
        else ""
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<c:chartSpace xmlns:c="{C_NS}" xmlns:a="{A_NS}" xmlns:r="{R_NS}">'
        '<c:roundedCorners val="0"/>'
        f'<c:chart>{_rich(spec.title)}<c:autoTitleDeleted val="0"/>'
        f"<c:plotArea><c:layout/>{plot}{axes}</c:plotArea>"
        f'{legend}<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart></c:chartSpace>'
    )


def _cat_axis(spec: ChartSpec, pos: str = "b") -> str:
    title = _rich(spec.x_title, 1000, False) if spec.x_title else ""
    return (
        f'<c:catAx><c:axId val="500000001"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
        f'<c:delete val="0"/><c:axPos val="{pos}"/>{title}<c:numFmt formatCode="General" sourceLinked="1"/>'
        '<c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        '<c:crossAx val="500000002"/><c:crosses val="autoZero"/><c:auto val="1"/><c:lblAlgn val="ctr"/>'
        '<c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
    )


def _val_axis(spec: ChartSpec, pos: str, ax_id: str, cross: str, title: str | None = None) -> str:
    text = spec.y_title if title is None else title
    t = _rich(text, 1000, False) if text else ""
    grid = "<c:majorGridlines/>" if pos in ("l", "r") else ""
    return (
        f'<c:valAx><c:axId val="{ax_id}"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
        f'<c:delete val="0"/><c:axPos val="{pos}"/>{grid}{t}<c:numFmt formatCode="General" sourceLinked="1"/>'
        '<c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        f'<c:crossAx val="{cross}"/><c:crosses val="autoZero"/><c:crossBetween val="between"/></c:valAx>'
    )
