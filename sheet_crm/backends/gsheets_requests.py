"""The bodies the Google Sheets backend sends: value ranges for values:batchUpdate
(cells as RAW values), and the spreadsheets:batchUpdate requests that add a tool tab,
give its rows their number formats and draw its charts. Pure functions of the tool tab:
nothing here talks to Google.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from ..findings import column_letter, quote_tab
from ..serial import datetime_to_serial
from ..workbook import Cell, ChartSpec, ToolTab

# ---------------------------------------------------------------- cells


def to_json(value: Cell) -> Any:
    """A workbook cell as a RAW value: dates become serials (their format is set with a
    repeatCell), formula-looking text stays text because RAW never parses."""
    if value is None:
        return ""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, date):  # and datetime
        return datetime_to_serial(value, "sheets")
    return str(value)


def _date_type(value: Cell) -> str | None:
    if isinstance(value, datetime):
        return "DATE" if value.time() == datetime.min.time() else "DATE_TIME"
    if isinstance(value, date):
        return "DATE"
    return None


# ---------------------------------------------------------------- values:batchUpdate


def value_range(tab: str, row: int, col: int, values: list[list[Any]]) -> dict[str, Any]:
    """Values written from ``row``/``col`` (1-based) down and right: the ValueRange to send
    (``vr``) and where it goes, kept beside it for splitting and messages."""
    width = max((len(r) for r in values), default=1) or 1
    end_col = column_letter(col + width - 1)
    rng = f"{quote_tab(tab)}!{column_letter(col)}{row}:{end_col}{row + max(len(values), 1) - 1}"
    return {
        "tab": tab,
        "row": row,
        "col": col,
        "values": values,
        "range": rng,
        "vr": {"range": rng, "values": values},
    }


def split_block(block: dict[str, Any], limit: int) -> Iterable[dict[str, Any]]:
    """A ``value_range`` cut into runs of rows of about ``limit`` bytes of JSON each."""
    values = block["values"]
    size = len(json.dumps(values))
    if size <= limit or len(values) < 2:
        yield block
        return
    per = max(1, int(len(values) * limit / size))
    for i in range(0, len(values), per):
        yield value_range(block["tab"], block["row"] + i, block["col"], values[i : i + per])


# ---------------------------------------------------------------- spreadsheets:batchUpdate


def touch_request(sheet_id: int) -> dict[str, Any]:
    """A request that changes nothing (column widths unchanged) - used only to get the
    response's re-read when the structural work already went through."""
    return {
        "autoResizeDimensions": {
            "dimensions": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": 0, "endIndex": 0}
        }
    }


def new_tab_requests(tab: ToolTab, sheet_id: int, rows: int, cols: int, index: int) -> list[dict[str, Any]]:
    """A new tool tab: bold header on row 2, rows 1-2 frozen, a filter on the header, and a
    warning-only protection that tells an owner who types there that the tab is generated."""
    header_range = {"sheetId": sheet_id, "startRowIndex": 1, "endRowIndex": 2}
    reqs: list[dict[str, Any]] = [
        {
            "addSheet": {
                "properties": {
                    "sheetId": sheet_id,
                    "title": tab.name,
                    "index": index,
                    "gridProperties": {"rowCount": rows, "columnCount": cols, "frozenRowCount": 2},
                }
            }
        },
        {
            "repeatCell": {
                "range": header_range,
                "cell": {
                    "userEnteredFormat": {
                        "textFormat": {"bold": True},
                        "backgroundColor": {"red": 0.9, "green": 0.93, "blue": 0.98},
                    }
                },
                "fields": "userEnteredFormat(textFormat,backgroundColor)",
            }
        },
        {
            "repeatCell": {
                "range": {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1},
                "cell": {"userEnteredFormat": {"textFormat": {"italic": True}}},
                "fields": "userEnteredFormat.textFormat",
            }
        },
        {"setBasicFilter": {"filter": {"range": {"sheetId": sheet_id, "startRowIndex": 1}}}},
    ]
    protected_cols = [i for i, h in enumerate(tab.headers) if h not in tab.decision_columns]
    reqs.append(
        {
            "addProtectedRange": {
                "protectedRange": {
                    "range": {"sheetId": sheet_id},
                    "description": (
                        f"Generated by sheet-crm: the {tab.name} tab is rewritten on every run"
                        + (
                            f"; only your entries in {', '.join(tab.decision_columns)} are kept."
                            if tab.decision_columns
                            else "."
                        )
                    ),
                    "warningOnly": True,
                }
            }
        }
    )
    del protected_cols
    for i, h in enumerate(tab.headers):
        if h in tab.widths:
            reqs.append(
                {
                    "updateDimensionProperties": {
                        "range": {
                            "sheetId": sheet_id,
                            "dimension": "COLUMNS",
                            "startIndex": i,
                            "endIndex": i + 1,
                        },
                        "properties": {"pixelSize": int(tab.widths[h] * 7 + 10)},
                        "fields": "pixelSize",
                    }
                }
            )
    return reqs


_CHART_TYPES = {"line": "LINE", "bar": "BAR", "column": "COLUMN", "scatter": "SCATTER"}


def _source(sheet_id: int, column: int, first: int, last: int) -> dict[str, Any]:
    return {
        "sourceRange": {
            "sources": [
                {
                    "sheetId": sheet_id,
                    "startRowIndex": first - 1,
                    "endRowIndex": last,
                    "startColumnIndex": column - 1,
                    "endColumnIndex": column,
                }
            ]
        }
    }


def format_requests(tab: ToolTab, sheet_id: int, first_row: int) -> list[dict[str, Any]]:
    """repeatCell requests giving the rows just written their number formats: dates a
    date format, numbers their ``ToolTab.formats`` (by column) or ``cell_formats`` (by
    cell). A column of dates (and blanks), or of numbers with one format, is one
    request; a column that mixes dates and numbers, or has formats for single cells,
    is first reset to no format and then formatted cell by cell (runs of rows at a
    time), so a number never shows as a date and a cell keeps no format from a run
    where it held something else."""
    rows = tab.rows
    if not rows:
        return []
    columns, cells = tab.number_formats()
    width = max(len(tab.headers), *(len(r) for r in rows))
    columns += [None] * (width - len(columns))
    dates: list[dict[int, str]] = [{} for _ in range(width)]
    numbers = [False] * width
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            kind = _date_type(v)
            if kind:
                dates[c][r] = kind
            elif type(v) is int or type(v) is float:
                numbers[c] = True
    singles: dict[int, dict[int, str]] = {}
    for (r, c), f in cells.items():
        singles.setdefault(c, {})[r] = f

    def request(r0: int, r1: int, c: int, fmt: dict[str, str] | None) -> dict[str, Any]:
        where = {
            "sheetId": sheet_id,
            "startRowIndex": first_row - 1 + r0,
            "endRowIndex": first_row - 1 + r1,
            "startColumnIndex": c,
            "endColumnIndex": c + 1,
        }
        cell = {"userEnteredFormat": {"numberFormat": fmt}} if fmt else {"userEnteredFormat": {}}
        return {"repeatCell": {"range": where, "cell": cell, "fields": "userEnteredFormat.numberFormat"}}

    def date_format(kind: str) -> dict[str, str]:
        return {"type": kind, "pattern": "yyyy-mm-dd" if kind == "DATE" else "yyyy-mm-dd hh:mm"}

    reqs: list[dict[str, Any]] = []
    n = len(rows)
    for c in range(width):
        own = singles.get(c, {})
        column = columns[c]
        if dates[c] and not numbers[c] and not own:
            kind = "DATE_TIME" if "DATE_TIME" in dates[c].values() else "DATE"
            reqs.append(request(0, n, c, date_format(kind)))
            continue
        if column:
            reqs.append(request(0, n, c, {"type": "NUMBER", "pattern": column}))
        elif dates[c] or own:
            reqs.append(request(0, n, c, None))
        by_row = {r: date_format(kind) for r, kind in dates[c].items()}
        by_row.update((r, {"type": "NUMBER", "pattern": f}) for r, f in own.items() if r < n)
        runs: list[tuple[int, int, dict[str, str]]] = []  # consecutive rows with one format
        for r in sorted(by_row):
            fmt = by_row[r]
            if runs and runs[-1][1] == r and runs[-1][2] == fmt:
                runs[-1] = (runs[-1][0], r + 1, fmt)
            else:
                runs.append((r, r + 1, fmt))
        reqs.extend(request(r0, r1, c, fmt) for r0, r1, fmt in runs)
    return reqs


def chart_request(spec: ChartSpec, sheet_id: int) -> dict[str, Any]:
    """A ChartSpec as an addChart request anchored where the spec says."""
    m = re.fullmatch(r"([A-Z]+)(\d+)", spec.anchor)
    col = sum((ord(ch) - 64) * 26**i for i, ch in enumerate(reversed(m.group(1)))) - 1 if m else 7
    row = int(m.group(2)) - 1 if m else 2
    cat_col, cat_first, cat_last = spec.categories
    if spec.kind == "pie":
        _name, s_col, s_first, s_last = spec.series[0]
        chart_spec: dict[str, Any] = {
            "title": spec.title,
            "pieChart": {
                "legendPosition": "RIGHT_LEGEND",
                "domain": _source(sheet_id, cat_col, cat_first, cat_last),
                "series": _source(sheet_id, s_col, s_first, s_last),
            },
        }
    else:
        chart_spec = {
            "title": spec.title,
            "basicChart": {
                "chartType": _CHART_TYPES[spec.kind],
                "legendPosition": "BOTTOM_LEGEND",
                "axis": [
                    {"position": "BOTTOM_AXIS", "title": spec.x_title},
                    {"position": "LEFT_AXIS", "title": spec.y_title},
                ],
                "domains": [{"domain": _source(sheet_id, cat_col, cat_first, cat_last)}],
                "series": [
                    {"series": _source(sheet_id, c, f, last), "targetAxis": "LEFT_AXIS"}
                    for _name, c, f, last in spec.series
                ],
                "headerCount": 0,
            },
        }
    return {
        "addChart": {
            "chart": {
                "spec": chart_spec,
                "position": {
                    "overlayPosition": {
                        "anchorCell": {"sheetId": sheet_id, "rowIndex": row, "columnIndex": col},
                        "widthPixels": int(spec.width_cm * 37.8),
                        "heightPixels": int(spec.height_cm * 37.8),
                    }
                },
            }
        }
    }
