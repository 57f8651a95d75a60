"""The values endpoints: get, batchGet, update, batchUpdate, append, clear, batchClear,
with Google's checks of the ValueRange bodies and its way of finding the table that
values.append writes below."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .cells import num, parse_user_entered, value_range
from .errors import ApiError, bad
from .model import Box, Spreadsheet, col_letters, quote_title

if TYPE_CHECKING:
    from .server import SheetsServer


def endpoint(
    server: SheetsServer, ss: Spreadsheet, method: str, rest: str, query: dict[str, list[str]], data: Any
) -> dict[str, Any]:
    q = {k: v[0] for k, v in query.items()}
    render_opt = q.get("valueRenderOption", "FORMATTED_VALUE")
    date_opt = q.get("dateTimeRenderOption", "SERIAL_NUMBER")
    major = q.get("majorDimension", "ROWS")
    if rest == ":batchGet" and method == "GET":
        boxes = [ss.parse_range(r) for r in query.get("ranges", [])]
        return {
            "spreadsheetId": ss.spreadsheet_id,
            "valueRanges": [value_range(b, render_opt, date_opt, major) for b in boxes],
        }
    if rest == ":batchUpdate" and method == "POST":
        return values_batch_update(server, ss, data)
    if rest == ":batchClear" and method == "POST":
        boxes = [ss.parse_range(r) for r in data.get("ranges", [])]
        for b in boxes:
            clear(b)
        server.touch(ss)
        return {"spreadsheetId": ss.spreadsheet_id, "clearedRanges": [b.a1() for b in boxes]}
    m = re.fullmatch(r"/([^:]+)(:append|:clear)?", rest)
    if not m:
        raise ApiError(404, "Requested entity was not found.")
    if method in {"PUT", "POST"} and m.group(2) != ":clear":
        check_values(data, "data")  # the body is read before the range
    box = ss.parse_range(unquote(m.group(1)))
    action = m.group(2)
    if action == ":clear" and method == "POST":
        clear(box)
        server.touch(ss)
        return {"spreadsheetId": ss.spreadsheet_id, "clearedRange": box.a1()}
    if action == ":append" and method == "POST":
        return append(server, ss, box, q, data)
    if action is None and method == "GET":
        return value_range(box, render_opt, date_opt, major)
    if action is None and method == "PUT":
        body = dict(data)
        body.setdefault("range", unquote(m.group(1)))
        out = write(ss, box, body, q.get("valueInputOption", ""), "data")
        server.touch(ss)
        return {"spreadsheetId": ss.spreadsheet_id, **out}
    raise ApiError(404, "Requested entity was not found.")


def clear(box: Box) -> None:
    r0, r1, c0, c1 = box.clipped()
    sheet = box.sheet
    for r in range(r0, min(r1, len(sheet.cells))):
        row = sheet.cells[r]
        for c in range(c0, min(c1, len(row))):
            row[c] = None
            sheet.formulas.pop((r, c), None)


def check_values(data: dict[str, Any], where: str) -> list[list[Any]]:
    values = data.get("values")
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(r, list) for r in values):
        shown = json.dumps(values)
        message = (
            f"Invalid value at '{where}.values' (type.googleapis.com/google.protobuf.ListValue), {shown}"
        )
        if isinstance(values, list):
            bad = next(r for r in values if not isinstance(r, list))
            i = values.index(bad)
            message = (
                f"Invalid value at '{where}.values[{i}]' "
                "(type.googleapis.com/google.protobuf.ListValue), "
                f"{json.dumps(bad)}"
            )
        raise ApiError(
            400,
            message,
            [
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [
                        {"field": message.split("'")[1], "description": message},
                    ],
                }
            ],
        )
    return values


def write(
    ss: Spreadsheet, box: Box, data: dict[str, Any], input_opt: str, where: str, dry: bool = False
) -> dict[str, Any]:
    """Write one ValueRange at the top-left of ``box``; returns the update summary."""
    if input_opt not in {"RAW", "USER_ENTERED"}:
        raise bad("'valueInputOption' is required but not specified")
    values = check_values(data, where)
    if box.r1 is not None and box.c1 is not None and (box.r1 - box.r0, box.c1 - box.c0) == (1, 1):
        box = Box(box.sheet, box.r0, None, box.c0, None)  # one cell names where writing starts
    if data.get("majorDimension") == "COLUMNS":
        width = max((len(v) for v in values), default=0)
        values = [[col[r] if r < len(col) else None for col in values] for r in range(width)]
    sheet = box.sheet
    rows = len(values)
    cols = max((len(r) for r in values), default=0)
    if (box.r1 is not None and rows > box.r1 - box.r0) or (box.c1 is not None and cols > box.c1 - box.c0):
        raise bad(
            f"Requested writing within range [{data.get('range', box.a1())}], but tried writing "
            f"to {'row' if rows > (box.r1 or 0) - box.r0 else 'column'} "
            f"[{box.r0 + rows if rows > (box.r1 or 0) - box.r0 else col_letters(box.c0 + cols - 1)}]"
        )
    if box.r0 + rows > sheet.row_count or box.c0 + cols > sheet.col_count:
        raise bad(
            f"Range ({quote_title(sheet.title)}!{col_letters(box.c0 + cols - 1)}{box.r0 + rows}) "
            f"exceeds grid limits. Max rows: {sheet.row_count}, max columns: {sheet.col_count}"
        )
    for row in values:
        for v in row:
            if isinstance(v, str) and len(v) > 50000:
                raise bad("Your input contains more than the maximum of 50000 characters in a single cell.")
    if dry:
        return {}
    cells = 0
    touched_rows = 0
    touched_cols: set[int] = set()
    for dr, row in enumerate(values):
        any_cell = False
        for dc, v in enumerate(row):
            if v is None:
                continue  # null leaves the cell as it is
            r, c = box.r0 + dr, box.c0 + dc
            if input_opt == "RAW" or not isinstance(v, str):
                stored, formula, fmt = v, None, None
            else:
                stored, formula, fmt = parse_user_entered(v)
            if isinstance(stored, float):
                stored = num(stored)
            sheet.put(r, c, None if stored == "" else stored, formula)
            if fmt:
                sheet.add_format(r, r + 1, c, c + 1, {"numberFormat": fmt})
            cells += 1
            any_cell = True
            touched_cols.add(c)
        touched_rows += any_cell
    out: dict[str, Any] = {}
    if cells:
        written = Box(sheet, box.r0, box.r0 + rows, box.c0, box.c0 + cols)
        out = {
            "updatedRange": written.a1(),
            "updatedRows": touched_rows,
            "updatedColumns": len(touched_cols),
            "updatedCells": cells,
        }
    else:
        out = {"updatedRange": Box(sheet, box.r0, box.r0 + 1, box.c0, box.c0 + 1).a1()}
    if data.get("includeValuesInResponse"):
        out["updatedData"] = value_range(
            Box(sheet, box.r0, box.r0 + rows, box.c0, box.c0 + cols), "FORMATTED_VALUE", "SERIAL_NUMBER"
        )
    return out


def values_batch_update(server: SheetsServer, ss: Spreadsheet, data: dict[str, Any]) -> dict[str, Any]:
    input_opt = data.get("valueInputOption", "")
    items = data.get("data", [])
    boxes = [ss.parse_range(vr.get("range", "")) for vr in items]
    # validate everything first: a batch either applies whole or not at all
    for i, (box, vr) in enumerate(zip(boxes, items, strict=True)):
        write(ss, box, vr, input_opt, f"data[{i}]", dry=True)
    responses = []
    for i, (box, vr) in enumerate(zip(boxes, items, strict=True)):
        responses.append({"spreadsheetId": ss.spreadsheet_id, **write(ss, box, vr, input_opt, f"data[{i}]")})
    server.touch(ss)
    out: dict[str, Any] = {"spreadsheetId": ss.spreadsheet_id}
    total = [r for r in responses if "updatedCells" in r]
    if total:
        out["totalUpdatedRows"] = sum(r["updatedRows"] for r in total)
        out["totalUpdatedColumns"] = max(r["updatedColumns"] for r in total)
        out["totalUpdatedCells"] = sum(r["updatedCells"] for r in total)
        out["totalUpdatedSheets"] = len({r["updatedRange"].rpartition("!")[0] for r in total})
    out["responses"] = responses
    return out


def append(
    server: SheetsServer, ss: Spreadsheet, box: Box, q: dict[str, str], data: dict[str, Any]
) -> dict[str, Any]:
    """values.append: find the table at ``box`` and write below its last row."""
    sheet = box.sheet
    table = find_table(box)
    table_range = table.a1() if table else None
    last, c0 = (table.r1 or 0, table.c0) if table else (box.r0, box.c0)
    values = check_values(data, "data")
    if data.get("majorDimension") == "COLUMNS":
        height, width = max((len(col) for col in values), default=0), len(values)
    else:
        height, width = len(values), max((len(r) for r in values), default=0)
    if q.get("insertDataOption") == "INSERT_ROWS":
        sheet.cells[last:last] = [[] for _ in range(height)]
        sheet.row_count += height
    need = last + height
    if need > sheet.row_count:
        sheet.row_count = need
    if c0 + width > sheet.col_count:
        sheet.col_count = c0 + width
    target = Box(sheet, last, None, c0, None)
    updates = write(ss, target, data, q.get("valueInputOption", ""), "data")
    server.touch(ss)
    out: dict[str, Any] = {"spreadsheetId": ss.spreadsheet_id}
    if table_range:
        out["tableRange"] = table_range
    out["updates"] = {"spreadsheetId": ss.spreadsheet_id, **updates}
    return out


def find_table(box: Box) -> Box | None:
    """The "table" values.append writes below, as Google finds it (measured on recorded
    traffic): a one-cell range starts from that cell, a wider range from its last cell
    holding a value (row by row); the table is the block of filled cells around it,
    grown like a spreadsheet's current region (neighbours, diagonals included) until
    its border is empty, and kept inside the range. No value to start from: no table."""
    sheet = box.sheet
    r0, r1, c0, c1 = box.clipped()
    filled = lambda r, c: sheet.get(r, c) is not None  # noqa: E731
    if (r1 - r0, c1 - c0) == (1, 1):
        if not filled(r0, c0):
            return None
        start = (r0, c0)
    else:
        start = None
        for r in range(min(r1, len(sheet.cells)) - 1, r0 - 1, -1):
            row = sheet.cells[r]
            for c in range(min(c1, len(row)) - 1, c0 - 1, -1):
                if row[c] is not None:
                    start = (r, c)
                    break
            if start:
                break
        if start is None:
            return None
    top, bottom, left, right = start[0], start[0] + 1, start[1], start[1] + 1
    grown = True
    while grown:
        grown = False
        if top > r0 and any(filled(top - 1, c) for c in range(max(left - 1, c0), min(right + 1, c1))):
            top, grown = top - 1, True
        if bottom < r1 and any(filled(bottom, c) for c in range(max(left - 1, c0), min(right + 1, c1))):
            bottom, grown = bottom + 1, True
        if left > c0 and any(filled(r, left - 1) for r in range(max(top - 1, r0), min(bottom + 1, r1))):
            left, grown = left - 1, True
        if right < c1 and any(filled(r, right) for r in range(max(top - 1, r0), min(bottom + 1, r1))):
            right, grown = right + 1, True
    return Box(sheet, top, bottom, left, right)
