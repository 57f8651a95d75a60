"""spreadsheets:batchUpdate: the requests sheet-crm and gspread send, each applied to a
working copy that replaces the spreadsheet only when all of them succeeded."""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .cells import arith
from .errors import ApiError, bad
from .formats import format_fields, tab_colour
from .model import Sheet, Spreadsheet, grid_box, proto3
from .spreadsheets import resource

if TYPE_CHECKING:
    from .server import SheetsServer


def batch_update(server: SheetsServer, ss: Spreadsheet, data: dict[str, Any]) -> dict[str, Any]:
    """Atomic, as Google's: every request applies to a working copy, which replaces the
    spreadsheet only when all succeeded."""
    work = ss.clone()
    replies = []
    for i, req in enumerate(data.get("requests", [])):
        (kind, args), *_ = req.items()
        handler = HANDLERS.get(kind)
        if handler is None:
            raise bad(f"Invalid requests[{i}]: {kind} is not supported by this test server.")
        try:
            replies.append(handler(server, work, args) or {})
        except ApiError as exc:
            raise ApiError(exc.code, f"Invalid requests[{i}].{kind}: {exc.message}") from None
    server.files[ss.spreadsheet_id] = work
    if replies:
        server.touch(work)
    out: dict[str, Any] = {"spreadsheetId": ss.spreadsheet_id, "replies": replies}
    if data.get("includeSpreadsheetInResponse"):
        query = {"includeGridData": [str(bool(data.get("responseIncludeGridData"))).lower()]}
        query["ranges"] = list(data.get("responseRanges", []))
        out["updatedSpreadsheet"] = resource(work, query)
    return out


def add_sheet(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
    p = args.get("properties", {})
    title = p.get("title") or f"Sheet{len(ss.sheets) + 1}"
    if ss.sheet_by_title(title) is not None:
        raise bad(f'A sheet with the name "{title}" already exists. Please enter another name.')
    sid = int(p["sheetId"]) if "sheetId" in p else ss.new_id()
    if any(s.sheet_id == sid for s in ss.sheets):
        raise bad(f"Sheet with id {sid} already exists.")
    grid = p.get("gridProperties", {})
    index = min(int(p.get("index", len(ss.sheets))), len(ss.sheets))
    sheet = Sheet(sid, title, index, int(grid.get("rowCount", 1000)), int(grid.get("columnCount", 26)))
    sheet.frozen_rows = int(grid.get("frozenRowCount", 0))
    sheet.frozen_cols = int(grid.get("frozenColumnCount", 0))
    sheet.hidden = bool(p.get("hidden", False))
    for key in ("tabColor", "tabColorStyle", "rightToLeft"):
        if key in p:
            sheet.extra[key] = p[key]
    tab_colour(sheet.extra, list(p))
    ss.sheets.insert(index, sheet)
    for i, s in enumerate(ss.sheets):
        s.index = i
    return {"addSheet": {"properties": sheet.properties()}}


def delete_sheet(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> None:
    sheet = ss.sheet_by_id(int(args["sheetId"]))
    if len(ss.sheets) == 1:
        raise bad("You can't remove all the sheets in a document.")
    ss.sheets.remove(sheet)
    for i, s in enumerate(ss.sheets):
        s.index = i


def update_sheet_properties(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> None:
    p = args.get("properties", {})
    sheet = ss.sheet_by_id(int(p.get("sheetId", 0)))
    fields = [f.strip() for f in args.get("fields", "").split(",") if f.strip()]
    if fields == ["*"]:
        fields = list(p)
    for f in fields:
        if f == "title":
            if p.get("title") != sheet.title and ss.sheet_by_title(p.get("title", "")) is not None:
                raise bad(f'A sheet with the name "{p["title"]}" already exists.')
            sheet.title = p.get("title", sheet.title)
        elif f == "index":
            ss.sheets.remove(sheet)
            ss.sheets.insert(min(int(p.get("index", 0)), len(ss.sheets)), sheet)
            for i, s in enumerate(ss.sheets):
                s.index = i
        elif f == "hidden":
            hide = bool(p.get("hidden", False))
            if hide and all(s.hidden or s is sheet for s in ss.sheets):
                raise bad("You can't hide all the sheets in a document.")
            sheet.hidden = hide
        elif f.startswith("gridProperties"):
            grid = p.get("gridProperties", {})
            sub = f.split(".", 1)[1] if "." in f else None
            keys = [sub] if sub else list(grid)
            for k in keys:
                val = int(grid.get(k, 0))
                if k == "frozenRowCount":
                    sheet.frozen_rows = val
                elif k == "frozenColumnCount":
                    sheet.frozen_cols = val
                elif k == "rowCount":
                    sheet.row_count = val
                elif k == "columnCount":
                    sheet.col_count = val
                else:
                    sheet.extra.setdefault("gridProperties", {})[k] = grid.get(k)
        else:
            top = f.split(".")[0]
            if top in p:
                sheet.extra[top] = p[top]
            else:
                sheet.extra.pop(top, None)
    tab_colour(sheet.extra, fields)


def update_spreadsheet_properties(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> None:
    p = args.get("properties", {})
    for f in [f.strip() for f in args.get("fields", "").split(",") if f.strip()]:
        if f == "title":
            ss.title = p.get("title", ss.title)
        elif f == "timeZone":
            ss.time_zone = p.get("timeZone", ss.time_zone)
        elif f == "locale":
            ss.locale = p.get("locale", ss.locale)


def set_basic_filter(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> None:
    flt = copy.deepcopy(args.get("filter", {}))
    box = grid_box(ss, flt.get("range", {}))
    box.sheet.basic_filter = flt


def clear_basic_filter(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> None:
    ss.sheet_by_id(int(args.get("sheetId", 0))).basic_filter = None


def add_protected_range(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
    asked = copy.deepcopy(args.get("protectedRange", {}))
    rng = asked.get("range", {})
    sheet = ss.sheet_by_id(int(rng.get("sheetId", 0)))
    # as Google answers: nulls, false flags and empty lists left out; the caller
    # (who protected it) can always edit; editors always present, maybe empty
    pr: dict[str, Any] = {"protectedRangeId": asked.get("protectedRangeId") or ss.new_id()}
    for key, value in asked.items():
        if key in {"protectedRangeId", "requestingUserCanEdit", "editors"} or value in (None, False, ""):
            continue
        pr[key] = value
    editors = asked.get("editors") or {}
    pr["requestingUserCanEdit"] = True
    pr["editors"] = {k: v for k, v in editors.items() if v}
    reply = {"addProtectedRange": {"protectedRange": proto3(copy.deepcopy(pr))}}
    # the one who protected it is an editor from then on (the reply does not say so yet)
    users = pr["editors"].setdefault("users", [])
    if server.caller and server.caller not in users:
        users.append(server.caller)
    sheet.protected.append(pr)
    return reply


def delete_protected_range(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> None:
    pid = int(args.get("protectedRangeId", -1))
    for s in ss.sheets:
        for pr in s.protected:
            if pr.get("protectedRangeId") == pid:
                s.protected.remove(pr)
                return
    raise bad(f"No protected range with id: {pid}")


def repeat_cell(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> None:
    box = grid_box(ss, args.get("range", {}))
    cell = args.get("cell", {})
    r0, r1, c0, c1 = box.clipped()
    masked = format_fields(args.get("fields", ""))
    if "userEnteredFormat" in cell or masked:
        fmt = copy.deepcopy(cell.get("userEnteredFormat", {}))
        for name in masked:  # a field the mask names but the cell leaves out is cleared
            fmt.setdefault(name, None)
        box.sheet.add_format(r0, r1, c0, c1, fmt)
    if "userEnteredValue" in cell:
        for r in range(r0, r1):
            for c in range(c0, c1):
                put_entered(box.sheet, r, c, cell["userEnteredValue"])


def put_entered(sheet: Sheet, r: int, c: int, uev: dict[str, Any] | None) -> None:
    if not uev:
        sheet.put(r, c, None)
    elif "formulaValue" in uev:
        sheet.put(r, c, arith(uev["formulaValue"][1:]), uev["formulaValue"])
    else:
        (_, v), *_ = uev.items()
        sheet.put(r, c, v)


def update_cells(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> None:
    fields = args.get("fields", "")
    if "start" in args:
        st = args["start"]
        sheet = ss.sheet_by_id(int(st.get("sheetId", 0)))
        r0, c0 = int(st.get("rowIndex", 0)), int(st.get("columnIndex", 0))
        r_lim, c_lim = None, None
    else:
        box = grid_box(ss, args.get("range", {}))
        sheet, r0, c0 = box.sheet, box.r0, box.c0
        r_lim, c_lim = box.r1, box.c1
        if not args.get("rows") and ("userEnteredValue" in fields or fields == "*"):
            rr0, rr1, cc0, cc1 = box.clipped()
            for r in range(rr0, min(rr1, len(sheet.cells))):
                for c in range(cc0, min(cc1, len(sheet.cells[r]))):
                    sheet.put(r, c, None)
            return
    for dr, row in enumerate(args.get("rows", [])):
        for dc, cell in enumerate(row.get("values", [])):
            r, c = r0 + dr, c0 + dc
            if (r_lim is not None and r >= r_lim) or (c_lim is not None and c >= c_lim):
                continue
            if r >= sheet.row_count or c >= sheet.col_count:
                raise bad(f"Range exceeds grid limits. Max rows: {sheet.row_count}")
            if "userEnteredValue" in fields or fields == "*":
                put_entered(sheet, r, c, cell.get("userEnteredValue"))
            if ("userEnteredFormat" in fields or fields == "*") and "userEnteredFormat" in cell:
                sheet.add_format(r, r + 1, c, c + 1, copy.deepcopy(cell["userEnteredFormat"]))
            if "note" in fields.split(",") or fields == "*":
                if cell.get("note"):
                    sheet.notes[(r, c)] = cell["note"]
                else:
                    sheet.notes.pop((r, c), None)


def add_chart(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
    chart = copy.deepcopy(args.get("chart", {}))
    chart.setdefault("chartId", ss.new_id())
    anchor = chart.get("position", {}).get("overlayPosition", {}).get("anchorCell", {})
    sheet_id = anchor.get("sheetId", chart.get("position", {}).get("sheetId", 0))
    ss.sheet_by_id(int(sheet_id)).charts.append(chart)
    return {"addChart": {"chart": copy.deepcopy(chart)}}


def delete_embedded_object(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> None:
    oid = int(args.get("objectId", -1))
    for s in ss.sheets:
        for ch in s.charts:
            if ch.get("chartId") == oid:
                s.charts.remove(ch)
                return
    raise bad(f"No object with id: {oid}")


def no_effect(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> None:
    """Requests that change only presentation this server does not model (column
    widths, auto-resize): accepted and validated for their sheet id."""
    rng = args.get("range", args.get("dimensions", {}))
    ss.sheet_by_id(int(rng.get("sheetId", 0)))


def update_dimension_properties(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> None:
    rng = args.get("range", {})
    sheet = ss.sheet_by_id(int(rng.get("sheetId", 0)))
    dim = rng.get("dimension", "ROWS")
    end = rng.get("endIndex", sheet.row_count if dim == "ROWS" else sheet.col_count)
    size = args.get("properties", {}).get("pixelSize")
    if size is not None and "pixelSize" in args.get("fields", ""):
        for i in range(int(rng.get("startIndex", 0)), int(end)):
            sheet.pixel_sizes[(dim, i)] = int(size)


def merge_cells(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> None:
    """MERGE_ALL: one merge; MERGE_COLUMNS: one per column; MERGE_ROWS: one per row.
    Merges inside the range are replaced; one that sticks out of it is an error."""
    box = grid_box(ss, args.get("range", {}))
    r0, r1, c0, c1 = box.clipped()
    sheet = box.sheet
    kept = []
    for m in sheet.merges:
        mr0, mr1 = m.get("startRowIndex", 0), m.get("endRowIndex", 0)
        mc0, mc1 = m.get("startColumnIndex", 0), m.get("endColumnIndex", 0)
        if mr1 <= r0 or r1 <= mr0 or mc1 <= c0 or c1 <= mc0:
            kept.append(m)
        elif not (r0 <= mr0 and mr1 <= r1 and c0 <= mc0 and mc1 <= c1):
            raise bad("You must select all cells in a merged region to merge or unmerge them.")
    kind = args.get("mergeType", "MERGE_ALL")
    if kind == "MERGE_COLUMNS":
        parts = [(r0, r1, c, c + 1) for c in range(c0, c1)]
    elif kind == "MERGE_ROWS":
        parts = [(r, r + 1, c0, c1) for r in range(r0, r1)]
    else:
        parts = [(r0, r1, c0, c1)]
    sid = sheet.sheet_id
    for a, b, c, d in parts:
        if (b - a) * (d - c) > 1:  # a single cell is no merge
            kept.append(
                {
                    "sheetId": sid,
                    "startRowIndex": a,
                    "endRowIndex": b,
                    "startColumnIndex": c,
                    "endColumnIndex": d,
                }
            )
    sheet.merges = kept


def unmerge_cells(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> None:
    box = grid_box(ss, args.get("range", {}))
    r0, r1, c0, c1 = box.clipped()
    box.sheet.merges = [
        m
        for m in box.sheet.merges
        if not (
            r0 <= m.get("startRowIndex", 0)
            and m.get("endRowIndex", 0) <= r1
            and c0 <= m.get("startColumnIndex", 0)
            and m.get("endColumnIndex", 0) <= c1
        )
    ]


def append_dimension(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> None:
    sheet = ss.sheet_by_id(int(args.get("sheetId", 0)))
    if args.get("dimension") == "COLUMNS":
        sheet.col_count += int(args.get("length", 0))
    else:
        sheet.row_count += int(args.get("length", 0))


def insert_dimension(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> None:
    rng = args.get("range", {})
    sheet = ss.sheet_by_id(int(rng.get("sheetId", 0)))
    start, end = int(rng.get("startIndex", 0)), int(rng.get("endIndex", 0))
    n = end - start
    if rng.get("dimension") == "COLUMNS":
        sheet.col_count += n
        for row in sheet.cells:
            if len(row) > start:
                row[start:start] = [None] * n
        sheet.formulas = {(r, c + n if c >= start else c): f for (r, c), f in sheet.formulas.items()}
    else:
        sheet.row_count += n
        if len(sheet.cells) > start:
            sheet.cells[start:start] = [[] for _ in range(n)]
        sheet.formulas = {(r + n if r >= start else r, c): f for (r, c), f in sheet.formulas.items()}


def delete_dimension(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> None:
    rng = args.get("range", {})
    sheet = ss.sheet_by_id(int(rng.get("sheetId", 0)))
    start, end = int(rng.get("startIndex", 0)), int(rng.get("endIndex", 0))
    n = end - start
    if rng.get("dimension") == "COLUMNS":
        sheet.col_count -= n
        for row in sheet.cells:
            del row[start:end]
        sheet.formulas = {
            (r, c - n if c >= end else c): f for (r, c), f in sheet.formulas.items() if not start <= c < end
        }
    else:
        sheet.row_count -= n
        del sheet.cells[start:end]
        sheet.formulas = {
            (r - n if r >= end else r, c): f for (r, c), f in sheet.formulas.items() if not start <= r < end
        }


def add_named_range(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
    nr = copy.deepcopy(args.get("namedRange", {}))
    nr.setdefault("namedRangeId", secrets.token_hex(6))
    ss.named_ranges.append(nr)
    return {"addNamedRange": {"namedRange": proto3(nr)}}


def update_named_range(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> None:
    asked = args.get("namedRange", {})
    target = next((n for n in ss.named_ranges if n.get("namedRangeId") == asked.get("namedRangeId")), None)
    if target is None:
        raise bad(f"No named range with id {asked.get('namedRangeId')}.")
    fields = [f.strip() for f in args.get("fields", "").split(",") if f.strip()]
    for f in list(asked) if fields == ["*"] else fields:
        top = f.split(".")[0]
        if top == "namedRangeId":
            continue
        if top in asked:
            target[top] = copy.deepcopy(asked[top])
        else:
            target.pop(top, None)


def delete_named_range(server: SheetsServer, ss: Spreadsheet, args: dict[str, Any]) -> None:
    ss.named_ranges = [n for n in ss.named_ranges if n.get("namedRangeId") != args.get("namedRangeId")]


HANDLERS: dict[str, Callable[[SheetsServer, Spreadsheet, dict[str, Any]], Any]] = {
    "addSheet": add_sheet,
    "deleteSheet": delete_sheet,
    "updateSheetProperties": update_sheet_properties,
    "updateSpreadsheetProperties": update_spreadsheet_properties,
    "setBasicFilter": set_basic_filter,
    "clearBasicFilter": clear_basic_filter,
    "addProtectedRange": add_protected_range,
    "deleteProtectedRange": delete_protected_range,
    "repeatCell": repeat_cell,
    "updateCells": update_cells,
    "addChart": add_chart,
    "deleteEmbeddedObject": delete_embedded_object,
    "updateDimensionProperties": update_dimension_properties,
    "autoResizeDimensions": no_effect,
    "mergeCells": merge_cells,
    "unmergeCells": unmerge_cells,
    "appendDimension": append_dimension,
    "insertDimension": insert_dimension,
    "deleteDimension": delete_dimension,
    "addNamedRange": add_named_range,
    "deleteNamedRange": delete_named_range,
    "updateNamedRange": update_named_range,
}
IMPLEMENTED_REQUESTS = frozenset(HANDLERS)
