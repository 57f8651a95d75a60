"""A stateful, in-process stand-in for the Google Sheets v4 and Drive v3 endpoints.

Why it exists: Google cannot be reached from tests (or from CI), yet the Google Sheets
backend must be exercised request by request. ``SheetsServer`` keeps spreadsheets in
memory and answers the same URLs, with the same JSON shapes, status codes and error
envelopes as Google (checked by replaying Google's real recorded traffic in
``tests/test_sheets_server_conformance.py``). It is reached through a normal
``requests.Session`` whose transport adapter, mounted on ``https://sheets.googleapis.com``
and ``https://www.googleapis.com``, hands each request to the server in-process; gspread
builds its URLs from module constants, so routing at the transport is the seam that
works without patching anything.

Faults can be queued (``server.faults.append(Fault(...))``): Google's 429 quota body,
500, 503, slow responses that run into the client's read timeout, dropped connections
(before or after the request took effect), and an owner editing the sheet at a chosen
moment. Nothing here sleeps: a "slow" response is decided against the timeout the
client passed.

Implemented: Drive ``files`` create/get/delete; Sheets ``spreadsheets`` create/get
(``includeGridData``, ``ranges``, ``fields`` masks) and ``batchUpdate`` (the requests listed
in ``_BATCH_HANDLERS``); ``values`` get/batchGet/update/batchUpdate/append/clear/batchClear.
"""

from __future__ import annotations

import ast
import copy
import json
import math
import operator
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import numpy
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from ..findings import column_index, column_letter

SHEETS_HOST = "https://sheets.googleapis.com"
GOOGLE_APIS_HOST = "https://www.googleapis.com"
EPOCH = datetime(1899, 12, 30)  # Sheets' serial day 0

# Google's own wording for a per-user read quota hit (the shape of a real 429 from the
# Sheets API: google.rpc.Status with an ErrorInfo detail).
QUOTA_ERROR = {
    "error": {
        "code": 429,
        "message": (
            "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute "
            "per user' of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'."
        ),
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "RATE_LIMIT_EXCEEDED",
                "domain": "googleapis.com",
                "metadata": {
                    "quota_limit": "ReadRequestsPerMinutePerUser",
                    "quota_metric": "sheets.googleapis.com/read_requests",
                    "service": "sheets.googleapis.com",
                    "consumer": "projects/000000000000",
                    "quota_limit_value": "60",
                },
            }
        ],
    }
}

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
_REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}
_REASONS |= {404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error"}
_REASONS |= {503: "Service Unavailable"}

# The spreadsheet-level defaults Google returns for a new spreadsheet (en_US, Etc/GMT).
_DEFAULT_FORMAT: dict[str, Any] = {
    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM",
    "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {
        "foregroundColor": {},
        "fontFamily": "arial,sans,sans-serif",
        "fontSize": 10,
        "bold": False,
        "italic": False,
        "strikethrough": False,
        "underline": False,
        "foregroundColorStyle": {"rgbColor": {}},
    },
    "backgroundColorStyle": {"rgbColor": {"red": 1, "green": 1, "blue": 1}},
}
_THEME_COLORS = [
    ("TEXT", {}),
    ("BACKGROUND", {"red": 1, "green": 1, "blue": 1}),
    ("ACCENT1", {"red": 0.25882354, "green": 0.52156866, "blue": 0.95686275}),
    ("ACCENT2", {"red": 0.91764706, "green": 0.2627451, "blue": 0.20784314}),
    ("ACCENT3", {"red": 0.9843137, "green": 0.7372549, "blue": 0.015686275}),
    ("ACCENT4", {"red": 0.20392157, "green": 0.65882355, "blue": 0.3254902}),
    ("ACCENT5", {"red": 1, "green": 0.42745098, "blue": 0.003921569}),
    ("ACCENT6", {"red": 0.27450982, "green": 0.7411765, "blue": 0.7764706}),
    ("LINK", {"red": 0.06666667, "green": 0.33333334, "blue": 0.8}),
]
_THEME = {
    "primaryFontFamily": "Arial",
    "themeColors": [{"colorType": t, "color": {"rgbColor": c}} for t, c in _THEME_COLORS],
}


class ApiError(Exception):
    """An error answer, in Google's envelope."""

    def __init__(self, code: int, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message, "status": _STATUS_NAMES[self.code]}
        if self.details:
            err["details"] = self.details
        return {"error": err}


def _bad(message: str) -> ApiError:
    return ApiError(400, message)


# ---------------------------------------------------------------- A1 notation


def col_letters(index: int) -> str:
    """0 -> 'A', 26 -> 'AA' (Google's grid ranges count columns from 0)."""
    return column_letter(index + 1)


def col_index(letters: str) -> int:
    """'A' -> 0."""
    return column_index(letters) - 1


def quote_title(title: str) -> str:
    """How Google spells a tab in a range: bare when it is a plain word, else quoted."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) and not re.fullmatch(
        r"[A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*", title
    ):
        return title
    return "'" + title.replace("'", "''") + "'"


_CELL = re.compile(r"^([A-Za-z]{0,3})(\d*)$")


@dataclass
class Box:
    """A rectangle on one tab: half-open row/column bounds (None = to the edge)."""

    sheet: Sheet
    r0: int
    r1: int | None
    c0: int
    c1: int | None

    def clipped(self) -> tuple[int, int, int, int]:
        r1 = self.sheet.row_count if self.r1 is None else min(self.r1, self.sheet.row_count)
        c1 = self.sheet.col_count if self.c1 is None else min(self.c1, self.sheet.col_count)
        return self.r0, r1, self.c0, c1

    def a1(self) -> str:
        r0, r1, c0, c1 = self.clipped()
        start = f"{col_letters(c0)}{r0 + 1}"
        end = f"{col_letters(c1 - 1)}{r1}"
        cells = start if (r1 - r0, c1 - c0) == (1, 1) else f"{start}:{end}"
        return f"{quote_title(self.sheet.title)}!{cells}"


# ---------------------------------------------------------------- the model


@dataclass
class Sheet:
    sheet_id: int
    title: str
    index: int
    row_count: int = 1000
    col_count: int = 26
    frozen_rows: int = 0
    frozen_cols: int = 0
    hidden: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # other sheet properties, as set
    cells: list[list[Any]] = field(default_factory=list)  # row-major, ragged, None = empty
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)
    formats: list[tuple[int, int, int, int, dict[str, Any]]] = field(default_factory=list)
    cell_formats: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)  # one-cell formats
    basic_filter: dict[str, Any] | None = None
    protected: list[dict[str, Any]] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)
    merges: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[tuple[int, int], str] = field(default_factory=dict)
    pixel_sizes: dict[tuple[str, int], int] = field(default_factory=dict)  # ("COLUMNS", 2) -> 140

    def clone(self) -> Sheet:
        twin = copy.copy(self)
        twin.cells = [row[:] for row in self.cells]
        twin.formulas = dict(self.formulas)
        twin.formats = list(self.formats)
        twin.cell_formats = dict(self.cell_formats)
        twin.extra = copy.deepcopy(self.extra)
        twin.basic_filter = copy.deepcopy(self.basic_filter)
        twin.protected = copy.deepcopy(self.protected)
        twin.charts = copy.deepcopy(self.charts)
        twin.merges = copy.deepcopy(self.merges)
        twin.notes = dict(self.notes)
        twin.pixel_sizes = dict(self.pixel_sizes)
        return twin

    def get(self, r: int, c: int) -> Any:
        if r < len(self.cells) and c < len(self.cells[r]):
            return self.cells[r][c]
        return None

    def put(self, r: int, c: int, value: Any, formula: str | None = None) -> None:
        while len(self.cells) <= r:
            self.cells.append([])
        row = self.cells[r]
        if len(row) <= c:
            if value is None:
                self.formulas.pop((r, c), None)
                return
            row.extend([None] * (c + 1 - len(row)))
        row[c] = value
        if formula is None:
            self.formulas.pop((r, c), None)
        else:
            self.formulas[(r, c)] = formula

    def add_format(self, r0: int, r1: int, c0: int, c1: int, fmt: dict[str, Any]) -> None:
        if "backgroundColor" in fmt or "backgroundColorStyle" in fmt or "textFormat" in fmt:
            fmt = _styled(fmt)
        if (r1 - r0, c1 - c0) == (1, 1):
            self.cell_formats[(r0, c0)] = {**self.cell_formats.get((r0, c0), {}), **fmt}
        else:
            # a later range format overrides earlier one-cell formats inside it
            for key in [k for k in self.cell_formats if r0 <= k[0] < r1 and c0 <= k[1] < c1]:
                for name in fmt:
                    self.cell_formats[key].pop(name, None)
            self.formats.append((r0, r1, c0, c1, fmt))

    def number_format(self, r: int, c: int) -> dict[str, Any] | None:
        own = self.cell_formats.get((r, c))
        if own and "numberFormat" in own:
            return own["numberFormat"]  # type: ignore[no-any-return]
        for r0, r1, c0, c1, fmt in reversed(self.formats):
            if r0 <= r < r1 and c0 <= c < c1 and "numberFormat" in fmt:
                return fmt["numberFormat"]  # type: ignore[no-any-return]
        return None

    def cell_format(self, r: int, c: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for r0, r1, c0, c1, fmt in self.formats:
            if r0 <= r < r1 and c0 <= c < c1:
                out.update(fmt)
        out.update(self.cell_formats.get((r, c), {}))
        for name in [k for k, v in out.items() if v is None]:  # cleared by a field mask
            del out[name]
        return out

    def properties(self) -> dict[str, Any]:
        grid: dict[str, Any] = {"rowCount": self.row_count, "columnCount": self.col_count}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        if self.frozen_cols:
            grid["frozenColumnCount"] = self.frozen_cols
        props: dict[str, Any] = {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": self.index,
            "sheetType": "GRID",
            "gridProperties": grid,
        }
        if self.hidden:
            props["hidden"] = True
        for key, value in self.extra.items():
            if key == "gridProperties":
                # proto3: a false flag (hideGridlines false) is not sent
                grid.update({k: v for k, v in value.items() if v is not False and v is not None})
            else:
                props[key] = copy.deepcopy(value)
        return props

    def used_widths(self) -> dict[int, int]:
        """Row -> how far it holds a note or a one-cell format (one pass, not per row)."""
        widths: dict[int, int] = {}
        for r, c in self.notes:
            widths[r] = max(widths.get(r, 0), c + 1)
        for (r, c), fmt in self.cell_formats.items():
            if fmt:
                widths[r] = max(widths.get(r, 0), c + 1)
        return widths

    def row_width(self, r: int, c1: int, used: dict[int, int]) -> int:
        """How far row ``r`` holds anything (a value, a note, a format), up to ``c1``."""
        width = max(len(self.cells[r]) if r < len(self.cells) else 0, used.get(r, 0))
        for f0, f1, _g0, g1, _fmt in self.formats:
            if f0 <= r < f1:
                width = max(width, g1)
        return min(width, c1)

    def last_used_row(self) -> int:
        """Rows up to the last one holding a value, a note or a format."""
        n = self.last_row()
        for r, _c in self.notes:
            n = max(n, r + 1)
        for (r, _c), fmt in self.cell_formats.items():
            if fmt:
                n = max(n, r + 1)
        for _f0, f1, *_ in self.formats:
            n = max(n, min(f1, self.row_count))
        return n

    def last_row(self) -> int:
        """Number of rows up to the last one holding a value."""
        n = len(self.cells)
        while n and all(v is None for v in self.cells[n - 1]):
            n -= 1
        return n


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    title: str
    sheets: list[Sheet]
    locale: str = "en_US"
    time_zone: str = "Etc/GMT"
    version: int = 1
    created: str = ""
    modified: str = ""
    shared_with: set[str] | None = None  # None: anyone holding a valid token
    named_ranges: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 1_000_000

    def clone(self) -> Spreadsheet:
        twin = copy.copy(self)
        twin.sheets = [s.clone() for s in self.sheets]
        twin.named_ranges = copy.deepcopy(self.named_ranges)
        return twin

    def sheet_by_id(self, sheet_id: int) -> Sheet:
        for s in self.sheets:
            if s.sheet_id == sheet_id:
                return s
        raise _bad(f"No grid with id: {sheet_id}")

    def sheet_by_title(self, title: str) -> Sheet | None:
        for s in self.sheets:
            if s.title == title:
                return s
        return None

    def new_id(self) -> int:
        self.next_id += 7919
        return self.next_id

    def parse_range(self, text: str) -> Box:
        """'Sheet1!A1:B2', "'My tab'!A:B", 'Sheet1', 'A1:B2' (first tab) -> a Box."""
        original = text
        sheet: Sheet | None
        if "!" in text:
            name, _, cells = text.rpartition("!")
            if name.startswith("'") and name.endswith("'") and len(name) >= 2:
                name = name[1:-1].replace("''", "'")
            sheet = self.sheet_by_title(name)
            if sheet is None:
                raise _bad(f"Unable to parse range: {original}")
        else:
            bare = text[1:-1].replace("''", "'") if text.startswith("'") and text.endswith("'") else text
            sheet = self.sheet_by_title(bare)
            if sheet is not None:
                return Box(sheet, 0, None, 0, None)
            for named in self.named_ranges:
                if named["name"] == text:
                    g = named["range"]
                    return _grid_box(self, g)
            sheet = self.sheets[0]
            cells = text
        if not cells:
            return Box(sheet, 0, None, 0, None)
        for named in self.named_ranges:
            if named["name"] == cells:  # 'Sheet1'!NamedRange: Google goes by the name
                return _grid_box(self, named["range"])
        parts = cells.split(":")
        if len(parts) > 2:
            raise _bad(f"Unable to parse range: {original}")
        refs = []
        for p in parts:
            m = _CELL.match(p.strip())
            if not m or (not m.group(1) and not m.group(2)):
                raise _bad(f"Unable to parse range: {original}")
            refs.append((m.group(1), m.group(2)))
        (ca, ra) = refs[0]
        if len(refs) == 1:
            if not ca or not ra:
                raise _bad(f"Unable to parse range: {original}")
            r, c = int(ra) - 1, col_index(ca)
            return Box(sheet, r, r + 1, c, c + 1)
        (cb, rb) = refs[1]
        c0 = col_index(ca) if ca else 0
        c1 = col_index(cb) + 1 if cb else None
        r0 = int(ra) - 1 if ra else 0
        r1 = int(rb) if rb else None
        if c1 is not None and c1 < c0:
            c0, c1 = c1 - 1, c0 + 1
        if r1 is not None and r1 < r0:
            r0, r1 = r1 - 1, r0 + 1
        return Box(sheet, r0, r1, c0, c1)


def proto3(value: Any) -> Any:
    """Google's JSON leaves out proto3 fields that hold their default (sheetId 0,
    startRowIndex 0, ...): strip them from what the server stores before answering."""
    if isinstance(value, dict):
        return {
            k: proto3(v)
            for k, v in value.items()
            if not (v == 0 and not isinstance(v, bool) and k in _ZEROED)
        }
    if isinstance(value, list):
        return [proto3(v) for v in value]
    return value


_ZEROED = {"sheetId"}  # measured: Google keeps explicit zero row/column indexes


def _format_fields(fields: str) -> list[str]:
    """The ``userEnteredFormat`` subfields a repeatCell field mask names:
    ``"userEnteredFormat.numberFormat"`` -> ``["numberFormat"]``,
    ``"userEnteredFormat(textFormat,backgroundColor)"`` -> both. Fields the mask names
    and the request's cell leaves out are cleared, as Google does."""
    return list(_parse_mask(fields).get("userEnteredFormat", {}))


def _grid_box(ss: Spreadsheet, g: dict[str, Any]) -> Box:
    sheet = ss.sheet_by_id(int(g.get("sheetId", 0)))
    return Box(
        sheet,
        int(g.get("startRowIndex", 0)),
        g.get("endRowIndex"),
        int(g.get("startColumnIndex", 0)),
        g.get("endColumnIndex"),
    )


# ---------------------------------------------------------------- values in and out


def _num(v: float) -> int | float:
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    return v


_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_ARITH |= {ast.Pow: operator.pow}


def _arith(formula: str) -> Any:
    """Evaluate a formula that is plain arithmetic (``= 1 / 1024``); anything else is left
    unevaluated (this server is not a spreadsheet engine)."""

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
            return float(_ARITH[type(node.op)](ev(node.left), ev(node.right)))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        raise ValueError(formula)

    try:
        return _num(ev(ast.parse(formula.strip().replace("^", "**"), mode="eval").body))
    except (ValueError, SyntaxError, ZeroDivisionError, TypeError):
        return "#NAME?"


_DATE_INPUTS = ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%m/%d/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S")


def parse_user_entered(value: Any) -> tuple[Any, str | None, dict[str, Any] | None]:
    """What typing ``value`` into a cell stores: (value, formula, number format)."""
    if not isinstance(value, str):
        return value, None, None
    text = value
    if text.startswith("'"):
        return text[1:], None, None
    if text.startswith("=") and len(text) > 1:
        return _arith(text[1:]), text, None
    stripped = text.strip()
    if stripped.upper() in {"TRUE", "FALSE"}:
        return stripped.upper() == "TRUE", None, None
    if re.fullmatch(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?", stripped):
        return _num(float(stripped)), None, None
    if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", stripped):
        dec = "." in stripped
        return (
            _num(float(stripped.replace(",", ""))),
            None,
            {
                "type": "NUMBER",
                "pattern": "#,##0.00" if dec else "#,##0",
            },
        )
    if re.fullmatch(r"[-+]?\d+(\.\d+)?%", stripped):
        return _num(float(stripped[:-1]) / 100), None, {"type": "PERCENT", "pattern": "0%"}
    for fmt in _DATE_INPUTS:
        try:
            when = datetime.strptime(stripped, fmt)
        except ValueError:
            continue
        serial = (when - EPOCH) / timedelta(days=1)
        kind = "DATE_TIME" if " " in stripped else "DATE"
        pattern = "M/d/yyyy H:mm:ss" if kind == "DATE_TIME" else "M/d/yyyy"
        if fmt.startswith("%Y-"):
            pattern = "yyyy-mm-dd" + (" h:mm:ss" if kind == "DATE_TIME" else "")
        return _num(serial), None, {"type": kind, "pattern": pattern}
    return text, None, None


def format_number(value: float, fmt: dict[str, Any] | None) -> str:
    """How Google shows a number with a (small subset of) number formats."""
    kind = (fmt or {}).get("type", "")
    pattern = (fmt or {}).get("pattern", "")
    if kind in {"DATE", "DATE_TIME", "TIME"}:
        when = EPOCH + timedelta(days=float(value))
        return _format_date(when, pattern or {"DATE": "M/d/yyyy", "TIME": "h:mm:ss am/pm"}.get(kind, ""))
    if kind == "PERCENT":
        decimals = len(pattern.split(".")[1].rstrip("%")) if "." in pattern else 0
        return f"{value * 100:.{decimals}f}%"
    if pattern and ("#" in pattern or "0" in pattern):
        decimals = len(pattern.split(".")[1]) if "." in pattern else 0
        return f"{value:,.{decimals}f}" if "," in pattern else f"{value:.{decimals}f}"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    text = f"{value:.10g}"
    return text if "e" not in text else f"{value:.2E}".replace("E+", "E+")


def _format_date(when: datetime, pattern: str) -> str:
    if not pattern:
        pattern = "M/d/yyyy H:mm:ss"
    tokens = [
        ("yyyy", "%Y"),
        ("yy", "%y"),
        ("mmmm", "%B"),
        ("mmm", "%b"),
        ("dddd", "%A"),
        ("ddd", "%a"),
        ("dd", "%d"),
        ("hh", "%H"),
        ("ss", "%S"),
    ]
    out = ""
    i = 0
    low = pattern
    while i < len(low):
        for tok, code in tokens:
            if low[i : i + len(tok)].lower() == tok:
                out += when.strftime(code)
                i += len(tok)
                break
        else:
            ch = low[i]
            nxt = low[i : i + 2]
            if nxt.lower() == "mm":
                # minutes after an hour, month otherwise
                out += f"{when.minute:02d}" if ":" in low[max(0, i - 3) : i] else f"{when.month:02d}"
                i += 2
            elif ch in "mM":
                out += str(when.minute) if ":" in low[max(0, i - 3) : i] else str(when.month)
                i += 1
            elif ch in "dD":
                out += str(when.day)
                i += 1
            elif ch in "hH":
                out += str(when.hour)
                i += 1
            elif ch == "s":
                out += str(when.second)
                i += 1
            else:
                out += ch
                i += 1
    return out


def render(sheet: Sheet, r: int, c: int, value_render: str, date_render: str = "SERIAL_NUMBER") -> Any:
    value = sheet.get(r, c)
    if value_render == "FORMULA" and (r, c) in sheet.formulas:
        return sheet.formulas[(r, c)]
    if value is None:
        return ""
    if isinstance(value, bool):
        return value if value_render != "FORMATTED_VALUE" else ("TRUE" if value else "FALSE")
    if isinstance(value, int | float):
        fmt = sheet.number_format(r, c)
        is_date = bool(fmt) and fmt.get("type") in {"DATE", "DATE_TIME", "TIME"}  # type: ignore[union-attr]
        if value_render == "FORMATTED_VALUE" or (is_date and date_render == "FORMATTED_STRING"):
            return format_number(value, fmt)
        return _num(value)
    return value


def _trim(rows: list[list[Any]]) -> list[list[Any]]:
    """Google leaves out trailing empty cells of each row and trailing empty rows."""
    out = []
    for row in rows:
        n = len(row)
        while n and row[n - 1] == "":
            n -= 1
        out.append(row[:n])
    while out and not out[-1]:
        out.pop()
    return out


def value_range(box: Box, value_render: str, date_render: str, major: str = "ROWS") -> dict[str, Any]:
    r0, r1, c0, c1 = box.clipped()
    sheet = box.sheet
    r_end = min(r1, len(sheet.cells))
    rows = [[render(sheet, r, c, value_render, date_render) for c in range(c0, c1)] for r in range(r0, r_end)]
    if major == "COLUMNS":
        width = max((len(_trim([row])[0]) if _trim([row]) else 0 for row in rows), default=0)
        rows = [[row[c] if c < len(row) else "" for row in rows] for c in range(width)]
    out: dict[str, Any] = {"range": box.a1(), "majorDimension": major}
    trimmed = _trim(rows)
    if trimmed:
        out["values"] = trimmed
    return out


# ---------------------------------------------------------------- field masks


def _parse_mask(text: str) -> dict[str, Any]:
    """'a,b(c,d/e),f/g' -> {'a': {}, 'b': {'c': {}, 'd': {'e': {}}}, 'f': {'g': {}}}."""
    pos = 0

    def parse_list() -> dict[str, Any]:
        nonlocal pos
        tree: dict[str, Any] = {}
        while pos < len(text):
            m = re.compile(r"[A-Za-z0-9_.*]+(/[A-Za-z0-9_.*]+)*").match(text, pos)
            if not m:
                raise _bad(f"Invalid field selection {text}")
            path = m.group(0).replace(".", "/").split("/")
            pos = m.end()
            node = tree
            for part in path:
                node = node.setdefault(part, {})
            if pos < len(text) and text[pos] == "(":
                pos += 1
                _merge(node, parse_list())
                pos += 1  # ')'
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            break
        return tree

    return parse_list()


def _merge(a: dict[str, Any], b: dict[str, Any]) -> None:
    for k, v in b.items():
        _merge(a.setdefault(k, {}), v)


def apply_mask(obj: Any, mask: dict[str, Any]) -> Any:
    if not mask or "*" in mask:
        return obj
    if isinstance(obj, list):
        return [apply_mask(x, mask) for x in obj]
    if not isinstance(obj, dict):
        return obj
    out = {}
    for k, sub in mask.items():
        if k in obj:
            out[k] = apply_mask(obj[k], sub)  # a message the mask empties stays, as {}
    return out


# ---------------------------------------------------------------- faults


@dataclass
class Fault:
    """A misbehaviour injected into the next request(s) that match.

    ``kind``: ``"429"``, ``"500"``, ``"503"`` (an error answer; the request has no effect),
    ``"slow"`` (the answer takes ``seconds``; past the client's read timeout it becomes a
    ``ReadTimeout``), ``"drop"`` (the connection is dropped), ``"edit"`` (``action`` runs
    first, as the owner editing the sheet). ``applied``: for slow/drop, whether the request
    took effect on the server before the client lost the answer. ``match`` is a substring
    of ``"METHOD URL"`` (or a callable on it); ``times`` how many requests it hits.
    """

    kind: str
    match: str | Callable[[str], bool] = ""
    times: int = 1
    seconds: float = 30.0
    applied: bool = False
    retry_after: str | None = None
    action: Callable[[], None] | None = None

    def hits(self, line: str) -> bool:
        if self.times <= 0:
            return False
        return self.match(line) if callable(self.match) else self.match in line


@dataclass
class Logged:
    method: str
    url: str
    status: int
    bytes_sent: int
    bytes_received: int


# ---------------------------------------------------------------- the server


class SheetsServer:
    """The in-process Sheets/Drive stand-in. ``tokens`` maps bearer tokens to identities."""

    def __init__(self, tokens: dict[str, str] | None = None) -> None:
        self.files: dict[str, Spreadsheet] = {}
        self.tokens = tokens if tokens is not None else {"test-token": "owner@example.com"}
        self.faults: list[Fault] = []
        self.log: list[Logged] = []
        self._tick = 0
        self._files_made = 0
        self._caller = ""  # who sent the request being answered

    # -- helpers for tests

    def session(self, token: str = "test-token") -> requests.Session:
        """A session whose requests to Google's hosts are answered by this server."""
        s = requests.Session()
        adapter = LocalAdapter(self)
        s.mount(SHEETS_HOST, adapter)
        s.mount(GOOGLE_APIS_HOST, adapter)
        s.headers["Authorization"] = f"Bearer {token}"
        return s

    def create(
        self,
        title: str = "Untitled spreadsheet",
        tabs: dict[str, list[list[Any]]] | None = None,
        *,
        shared_with: set[str] | None = None,
        time_zone: str = "Etc/GMT",
        locale: str = "en_US",
    ) -> str:
        """A spreadsheet with ``tabs`` (grids of RAW values; ``datetime``/``date`` become
        date serials with a date format, as if typed). Returns its id."""
        ss = self._new(title)
        ss.time_zone, ss.locale, ss.shared_with = time_zone, locale, shared_with
        if tabs:
            ss.sheets = []
            for i, (name, grid) in enumerate(tabs.items()):
                sheet = Sheet(ss.new_id() if i else 0, name, i)
                sheet.row_count = max(1000, len(grid))
                sheet.col_count = max(26, max((len(r) for r in grid), default=0))
                for r, row in enumerate(grid):
                    for c, v in enumerate(row):
                        self._store_typed(sheet, r, c, v)
                ss.sheets.append(sheet)
        return ss.spreadsheet_id

    def owner_edit(self, spreadsheet_id: str, tab: str, row: int, column: int, value: Any) -> None:
        """The owner types ``value`` into a cell (1-based row/column), as in the Sheets UI."""
        ss = self.files[spreadsheet_id]
        sheet = ss.sheet_by_title(tab)
        assert sheet is not None, tab
        if not isinstance(value, str):
            sheet.put(row - 1, column - 1, None)
            self._store_typed(sheet, row - 1, column - 1, value)
        else:
            stored, formula, fmt = parse_user_entered(value)
            sheet.put(row - 1, column - 1, None if stored == "" else stored, formula)
            if fmt:
                sheet.add_format(row - 1, row, column - 1, column, {"numberFormat": fmt})
        self._touch(ss)

    def grid(self, spreadsheet_id: str, tab: str) -> list[list[Any]]:
        """A tab's stored values (trailing blanks trimmed), for assertions."""
        sheet = self.files[spreadsheet_id].sheet_by_title(tab)
        assert sheet is not None, tab
        rows = [[("" if v is None else v) for v in row] for row in sheet.cells]
        return _trim(rows)

    def sheet(self, spreadsheet_id: str, tab: str) -> Sheet:
        sheet = self.files[spreadsheet_id].sheet_by_title(tab)
        assert sheet is not None, tab
        return sheet

    def _store_typed(self, sheet: Sheet, r: int, c: int, v: Any) -> None:
        if isinstance(v, datetime | date):
            when = v if isinstance(v, datetime) else datetime(v.year, v.month, v.day)
            serial = _num((when.replace(tzinfo=None) - EPOCH) / timedelta(days=1))
            kind = "DATE_TIME" if isinstance(v, datetime) and when.time() != datetime.min.time() else "DATE"
            sheet.put(r, c, serial)
            pattern = "yyyy-mm-dd" if kind == "DATE" else "yyyy-mm-dd hh:mm"
            sheet.add_format(r, r + 1, c, c + 1, {"numberFormat": {"type": kind, "pattern": pattern}})
        elif isinstance(v, str) and v.startswith("="):
            sheet.put(r, c, _arith(v[1:]), v)
        elif v is not None and v != "":
            sheet.put(r, c, v)

    def _now(self) -> str:
        self._tick += 1
        when = datetime(2026, 11, 22, 9, 0, tzinfo=UTC) + timedelta(milliseconds=37 * self._tick)
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"

    def _new(self, title: str) -> Spreadsheet:
        sid = "1" + secrets.token_urlsafe(32)[:43]
        ss = Spreadsheet(sid, title, [Sheet(0, "Sheet1", 0)])
        # sheet ids differ across spreadsheets too, as Google's random ones do
        ss.next_id += 1_000_003 * self._files_made
        self._files_made += 1
        ss.created = ss.modified = self._now()
        self.files[sid] = ss
        return ss

    def _touch(self, ss: Spreadsheet) -> None:
        ss.version += 1
        ss.modified = self._now()

    # -- the HTTP face

    def handle(
        self, method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float | None
    ) -> tuple[int, bytes, dict[str, str]]:
        """Answer one request: (status, body, headers); may raise requests' connection or
        timeout errors for injected faults."""
        line = f"{method} {url}"
        fault = next((f for f in self.faults if f.hits(line)), None)
        if fault is not None:
            fault.times -= 1
            if fault.kind == "edit" and fault.action is not None:
                fault.action()
            elif fault.kind in {"429", "500", "503"}:
                code = int(fault.kind)
                payload = QUOTA_ERROR if code == 429 else ApiError(code, _fault_message(code)).body()
                extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                return self._reply(method, url, body, code, payload, extra)
            elif fault.kind in {"slow", "drop"}:
                if fault.kind == "slow" and (timeout is None or fault.seconds <= timeout):
                    pass  # slow but within the client's patience: answered normally
                else:
                    if fault.applied:
                        self._answer(method, url, headers, body)
                    self._reply(method, url, body, 0, None, {})
                    if fault.kind == "slow":
                        raise requests.exceptions.ReadTimeout(f"Read timed out. (read timeout={timeout})")
                    raise requests.exceptions.ConnectionError("Connection aborted: RemoteDisconnected")
        status, payload = self._answer(method, url, headers, body)
        return self._reply(method, url, body, status, payload, {})

    def _reply(
        self, method: str, url: str, sent: bytes | None, status: int, payload: Any, extra: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        # compact JSON (Google pretty-prints; the parsed answer is the same, and the compact
        # form keeps big benchmark answers fast to produce)
        data = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        self.log.append(Logged(method, url, status, len(sent or b""), len(data)))
        return status, data, {"Content-Type": "application/json; charset=UTF-8", **extra}

    def _answer(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[int, Any]:
        try:
            return self._route(method, url, headers, body)
        except ApiError as exc:
            return exc.code, exc.body()

    def _identity(self, headers: dict[str, str]) -> str:
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        token = auth.removeprefix("Bearer ").strip()
        who = self.tokens.get(token)
        if who is None:
            raise ApiError(
                401,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential. See "
                "https://developers.google.com/identity/sign-in/web/devconsole-project.",
            )
        return who

    def _spreadsheet(self, sid: str, who: str) -> Spreadsheet:
        ss = self.files.get(sid)
        if ss is None:
            raise ApiError(404, "Requested entity was not found.")
        if ss.shared_with is not None and who not in ss.shared_with:
            raise ApiError(403, "The caller does not have permission")
        return ss

    def _route(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[int, Any]:
        parts = urlsplit(url)
        query = {k: v for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        path = parts.path
        who = self._identity(headers)
        self._caller = who
        data: Any = json.loads(body) if body else {}
        host = f"{parts.scheme}://{parts.netloc}"
        if host == GOOGLE_APIS_HOST and path.startswith("/drive/v3/files"):
            return self._drive(method, path, query, data, who)
        if host != SHEETS_HOST or not path.startswith("/v4/spreadsheets"):
            raise ApiError(404, "Not found: " + path)
        rest = path[len("/v4/spreadsheets") :]
        if rest in {"", "/"}:
            if method != "POST":
                raise ApiError(404, "Requested entity was not found.")
            return 200, self._create_spreadsheet(data)
        m = re.fullmatch(r"/([^/:]+)(:batchUpdate)?(/values(.*))?", rest)
        if not m:
            raise ApiError(404, "Requested entity was not found.")
        ss = self._spreadsheet(m.group(1), who)
        if m.group(2):
            return 200, self._batch_update(ss, data)
        if m.group(3) is None:
            if method != "GET":
                raise ApiError(404, "Requested entity was not found.")
            return 200, self._get(ss, query)
        return 200, self._values(ss, method, m.group(4), query, data)

    # -- Drive

    def _drive(
        self, method: str, path: str, query: dict[str, list[str]], data: Any, who: str
    ) -> tuple[int, Any]:
        rest = path[len("/drive/v3/files") :].strip("/")
        if not rest and method == "POST":
            ss = self._new(data.get("name", "Untitled spreadsheet"))
            return 200, {
                "kind": "drive#file",
                "id": ss.spreadsheet_id,
                "name": ss.title,
                "mimeType": "application/vnd.google-apps.spreadsheet",
            }
        ss_opt = self.files.get(rest)
        if ss_opt is None or (ss_opt.shared_with is not None and who not in ss_opt.shared_with):
            raise ApiError(
                404,
                f"File not found: {rest}.",
            )
        if method == "DELETE":
            del self.files[rest]
            return 204, None
        if method != "GET":
            raise ApiError(404, "Not found")
        meta = {
            "kind": "drive#file",
            "id": ss_opt.spreadsheet_id,
            "name": ss_opt.title,
            "mimeType": "application/vnd.google-apps.spreadsheet",
            "createdTime": ss_opt.created,
            "modifiedTime": ss_opt.modified,
            "version": str(ss_opt.version),
        }
        fields = query.get("fields", ["kind,id,name,mimeType"])[0]
        return 200, apply_mask(meta, _parse_mask(fields))

    # -- spreadsheets

    def _create_spreadsheet(self, data: dict[str, Any]) -> dict[str, Any]:
        props = data.get("properties", {})
        ss = self._new(props.get("title", "Untitled spreadsheet"))
        ss.locale = props.get("locale", ss.locale)
        ss.time_zone = props.get("timeZone", ss.time_zone)
        if data.get("sheets"):
            ss.sheets = []
            for i, sh in enumerate(data["sheets"]):
                p = sh.get("properties", {})
                grid = p.get("gridProperties", {})
                ss.sheets.append(
                    Sheet(
                        int(p.get("sheetId", ss.new_id() if i else 0)),
                        p.get("title", f"Sheet{i + 1}"),
                        i,
                        int(grid.get("rowCount", 1000)),
                        int(grid.get("columnCount", 26)),
                    )
                )
        return self._resource(ss, {})

    def _resource(self, ss: Spreadsheet, query: dict[str, list[str]]) -> dict[str, Any]:
        grid_data = query.get("includeGridData", ["false"])[0].lower() == "true"
        mask = _parse_mask(query["fields"][0]) if "fields" in query else {}
        data_mask = mask.get("sheets", {}).get("data")
        # a field mask that asks for grid data gets it, whatever includeGridData says
        grid_data = grid_data or data_mask is not None
        cell_mask = (data_mask or {}).get("rowData", {}).get("values")
        types_only = cell_mask == {"effectiveFormat": {"numberFormat": {"type": {}}}}
        ranges = query.get("ranges", [])
        boxes = [ss.parse_range(r) for r in ranges]
        sheets = []
        for s in ss.sheets:
            entry: dict[str, Any] = {"properties": s.properties()}
            if s.merges:
                entry["merges"] = proto3(s.merges)
            if s.basic_filter:
                # kept as set; answered with every bound spelt out, as Google does
                r0, r1, c0, c1 = _grid_box(ss, s.basic_filter.get("range", {})).clipped()
                bounds = {
                    "startRowIndex": r0,
                    "endRowIndex": r1,
                    "startColumnIndex": c0,
                    "endColumnIndex": c1,
                }
                entry["basicFilter"] = proto3({**s.basic_filter, "range": {"sheetId": s.sheet_id, **bounds}})
            if s.protected:
                entry["protectedRanges"] = proto3(s.protected)
            if s.charts:
                entry["charts"] = copy.deepcopy(s.charts)
            mine = [b for b in boxes if b.sheet is s]
            if ranges and not mine:
                continue  # only the tabs the ranges name
            if grid_data:
                entry["data"] = [
                    self._grid_data(b, types_only, cell_mask, data_mask)
                    for b in (mine or [Box(s, 0, None, 0, None)])
                ]
            sheets.append(entry)
        out: dict[str, Any] = {
            "spreadsheetId": ss.spreadsheet_id,
            "properties": {
                "title": ss.title,
                "locale": ss.locale,
                "autoRecalc": "ON_CHANGE",
                "timeZone": ss.time_zone,
                "defaultFormat": copy.deepcopy(_DEFAULT_FORMAT),
                "spreadsheetTheme": copy.deepcopy(_THEME),
            },
            "sheets": sheets,
        }
        if ss.named_ranges:
            out["namedRanges"] = proto3(ss.named_ranges)
        out["spreadsheetUrl"] = f"https://docs.google.com/spreadsheets/d/{ss.spreadsheet_id}/edit"
        return out

    def _grid_data(
        self,
        box: Box,
        types_only: bool = False,
        cell_mask: dict[str, Any] | None = None,
        data_mask: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One GridData: cells holding a value, a note or a format; each cell cut to the
        field mask before trailing empty cells and rows are left out, as Google does."""
        r0, r1, c0, c1 = box.clipped()
        sheet = box.sheet
        rows: list[dict[str, Any]] = []
        if types_only:  # the benchmark's hot path: the mask asks only for number-format types
            for r in range(r0, min(r1, sheet.last_row())):
                values = []
                for c in range(c0, min(c1, len(sheet.cells[r]) if r < len(sheet.cells) else 0)):
                    nf = sheet.number_format(r, c) if sheet.get(r, c) is not None else None
                    kind = nf.get("type") if nf else None
                    values.append({"effectiveFormat": {"numberFormat": {"type": kind}}} if kind else {})
                while values and not values[-1]:
                    values.pop()
                rows.append({"values": values} if values else {})
        elif data_mask is None or "rowData" in data_mask or not data_mask:
            used = sheet.used_widths()
            for r in range(r0, min(r1, sheet.last_used_row())):
                values = []
                for c in range(c0, sheet.row_width(r, c1, used)):
                    cell = self._cell_data(sheet, r, c)
                    values.append(apply_mask(cell, cell_mask) if cell_mask else cell)
                while values and not values[-1]:
                    values.pop()
                rows.append({"values": values} if values else {})
        while rows and not rows[-1]:
            rows.pop()
        out: dict[str, Any] = {"rowData": rows} if rows else {}
        if r0:
            out["startRow"] = r0
        if c0:
            out["startColumn"] = c0
        wants = data_mask or {}
        if data_mask is None or not data_mask or "rowMetadata" in wants:
            out["rowMetadata"] = [
                {"pixelSize": sheet.pixel_sizes.get(("ROWS", r), 21)} for r in range(r0, r1)
            ]
        if data_mask is None or not data_mask or "columnMetadata" in wants:
            out["columnMetadata"] = [
                {"pixelSize": sheet.pixel_sizes.get(("COLUMNS", c), 100)} for c in range(c0, c1)
            ]
        return out

    def _cell_data(self, sheet: Sheet, r: int, c: int) -> dict[str, Any]:
        v = sheet.get(r, c)
        note = sheet.notes.get((r, c))
        fmt = sheet.cell_format(r, c)
        if v is None:
            out_empty: dict[str, Any] = {}
            if fmt:
                out_empty["userEnteredFormat"] = copy.deepcopy(fmt)
                out_empty["effectiveFormat"] = {**_DEFAULT_FORMAT, **fmt}
            if note:
                out_empty["note"] = note
            return out_empty
        if isinstance(v, bool):
            ev = {"boolValue": v}
        elif isinstance(v, int | float):
            ev = {"numberValue": v}
        else:
            ev = {"stringValue": v}
        formula = sheet.formulas.get((r, c))
        out: dict[str, Any] = {
            "userEnteredValue": {"formulaValue": formula} if formula else dict(ev),
            "effectiveValue": ev,
            "formattedValue": render(sheet, r, c, "FORMATTED_VALUE"),
            "effectiveFormat": {**_DEFAULT_FORMAT, **fmt},
        }
        if fmt:
            out["userEnteredFormat"] = copy.deepcopy(fmt)
        if note:
            out["note"] = note
        return out

    def _get(self, ss: Spreadsheet, query: dict[str, list[str]]) -> dict[str, Any]:
        res = self._resource(ss, query)
        if "fields" in query:
            res = apply_mask(res, _parse_mask(query["fields"][0]))
        return res

    # -- batchUpdate

    def _batch_update(self, ss: Spreadsheet, data: dict[str, Any]) -> dict[str, Any]:
        """Atomic, as Google's: every request applies to a working copy, which replaces the
        spreadsheet only when all succeeded."""
        work = ss.clone()
        replies = []
        for i, req in enumerate(data.get("requests", [])):
            (kind, args), *_ = req.items()
            handler = _BATCH_HANDLERS.get(kind)
            if handler is None:
                raise _bad(f"Invalid requests[{i}]: {kind} is not supported by this test server.")
            try:
                replies.append(handler(self, work, args) or {})
            except ApiError as exc:
                raise ApiError(exc.code, f"Invalid requests[{i}].{kind}: {exc.message}") from None
        self.files[ss.spreadsheet_id] = work
        if replies:
            self._touch(work)
        out: dict[str, Any] = {"spreadsheetId": ss.spreadsheet_id, "replies": replies}
        if data.get("includeSpreadsheetInResponse"):
            query = {"includeGridData": [str(bool(data.get("responseIncludeGridData"))).lower()]}
            query["ranges"] = list(data.get("responseRanges", []))
            out["updatedSpreadsheet"] = self._resource(work, query)
        return out

    def _add_sheet(self, ss: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
        p = args.get("properties", {})
        title = p.get("title") or f"Sheet{len(ss.sheets) + 1}"
        if ss.sheet_by_title(title) is not None:
            raise _bad(f'A sheet with the name "{title}" already exists. Please enter another name.')
        sid = int(p["sheetId"]) if "sheetId" in p else ss.new_id()
        if any(s.sheet_id == sid for s in ss.sheets):
            raise _bad(f"Sheet with id {sid} already exists.")
        grid = p.get("gridProperties", {})
        index = min(int(p.get("index", len(ss.sheets))), len(ss.sheets))
        sheet = Sheet(sid, title, index, int(grid.get("rowCount", 1000)), int(grid.get("columnCount", 26)))
        sheet.frozen_rows = int(grid.get("frozenRowCount", 0))
        sheet.frozen_cols = int(grid.get("frozenColumnCount", 0))
        sheet.hidden = bool(p.get("hidden", False))
        for key in ("tabColor", "tabColorStyle", "rightToLeft"):
            if key in p:
                sheet.extra[key] = p[key]
        _tab_colour(sheet.extra, list(p))
        ss.sheets.insert(index, sheet)
        for i, s in enumerate(ss.sheets):
            s.index = i
        return {"addSheet": {"properties": sheet.properties()}}

    def _delete_sheet(self, ss: Spreadsheet, args: dict[str, Any]) -> None:
        sheet = ss.sheet_by_id(int(args["sheetId"]))
        if len(ss.sheets) == 1:
            raise _bad("You can't remove all the sheets in a document.")
        ss.sheets.remove(sheet)
        for i, s in enumerate(ss.sheets):
            s.index = i

    def _update_sheet_properties(self, ss: Spreadsheet, args: dict[str, Any]) -> None:
        p = args.get("properties", {})
        sheet = ss.sheet_by_id(int(p.get("sheetId", 0)))
        fields = [f.strip() for f in args.get("fields", "").split(",") if f.strip()]
        if fields == ["*"]:
            fields = list(p)
        for f in fields:
            if f == "title":
                if p.get("title") != sheet.title and ss.sheet_by_title(p.get("title", "")) is not None:
                    raise _bad(f'A sheet with the name "{p["title"]}" already exists.')
                sheet.title = p.get("title", sheet.title)
            elif f == "index":
                ss.sheets.remove(sheet)
                ss.sheets.insert(min(int(p.get("index", 0)), len(ss.sheets)), sheet)
                for i, s in enumerate(ss.sheets):
                    s.index = i
            elif f == "hidden":
                hide = bool(p.get("hidden", False))
                if hide and all(s.hidden or s is sheet for s in ss.sheets):
                    raise _bad("You can't hide all the sheets in a document.")
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
        _tab_colour(sheet.extra, fields)

    def _update_spreadsheet_properties(self, ss: Spreadsheet, args: dict[str, Any]) -> None:
        p = args.get("properties", {})
        for f in [f.strip() for f in args.get("fields", "").split(",") if f.strip()]:
            if f == "title":
                ss.title = p.get("title", ss.title)
            elif f == "timeZone":
                ss.time_zone = p.get("timeZone", ss.time_zone)
            elif f == "locale":
                ss.locale = p.get("locale", ss.locale)

    def _set_basic_filter(self, ss: Spreadsheet, args: dict[str, Any]) -> None:
        flt = copy.deepcopy(args.get("filter", {}))
        box = _grid_box(ss, flt.get("range", {}))
        box.sheet.basic_filter = flt

    def _clear_basic_filter(self, ss: Spreadsheet, args: dict[str, Any]) -> None:
        ss.sheet_by_id(int(args.get("sheetId", 0))).basic_filter = None

    def _add_protected_range(self, ss: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
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
        if self._caller and self._caller not in users:
            users.append(self._caller)
        sheet.protected.append(pr)
        return reply

    def _delete_protected_range(self, ss: Spreadsheet, args: dict[str, Any]) -> None:
        pid = int(args.get("protectedRangeId", -1))
        for s in ss.sheets:
            for pr in s.protected:
                if pr.get("protectedRangeId") == pid:
                    s.protected.remove(pr)
                    return
        raise _bad(f"No protected range with id: {pid}")

    def _repeat_cell(self, ss: Spreadsheet, args: dict[str, Any]) -> None:
        box = _grid_box(ss, args.get("range", {}))
        cell = args.get("cell", {})
        r0, r1, c0, c1 = box.clipped()
        masked = _format_fields(args.get("fields", ""))
        if "userEnteredFormat" in cell or masked:
            fmt = copy.deepcopy(cell.get("userEnteredFormat", {}))
            for name in masked:  # a field the mask names but the cell leaves out is cleared
                fmt.setdefault(name, None)
            box.sheet.add_format(r0, r1, c0, c1, fmt)
        if "userEnteredValue" in cell:
            for r in range(r0, r1):
                for c in range(c0, c1):
                    self._put_entered(box.sheet, r, c, cell["userEnteredValue"])

    def _put_entered(self, sheet: Sheet, r: int, c: int, uev: dict[str, Any] | None) -> None:
        if not uev:
            sheet.put(r, c, None)
        elif "formulaValue" in uev:
            sheet.put(r, c, _arith(uev["formulaValue"][1:]), uev["formulaValue"])
        else:
            (_, v), *_ = uev.items()
            sheet.put(r, c, v)

    def _update_cells(self, ss: Spreadsheet, args: dict[str, Any]) -> None:
        fields = args.get("fields", "")
        if "start" in args:
            st = args["start"]
            sheet = ss.sheet_by_id(int(st.get("sheetId", 0)))
            r0, c0 = int(st.get("rowIndex", 0)), int(st.get("columnIndex", 0))
            r_lim, c_lim = None, None
        else:
            box = _grid_box(ss, args.get("range", {}))
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
                    raise _bad(f"Range exceeds grid limits. Max rows: {sheet.row_count}")
                if "userEnteredValue" in fields or fields == "*":
                    self._put_entered(sheet, r, c, cell.get("userEnteredValue"))
                if ("userEnteredFormat" in fields or fields == "*") and "userEnteredFormat" in cell:
                    sheet.add_format(r, r + 1, c, c + 1, copy.deepcopy(cell["userEnteredFormat"]))
                if "note" in fields.split(",") or fields == "*":
                    if cell.get("note"):
                        sheet.notes[(r, c)] = cell["note"]
                    else:
                        sheet.notes.pop((r, c), None)

    def _add_chart(self, ss: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
        chart = copy.deepcopy(args.get("chart", {}))
        chart.setdefault("chartId", ss.new_id())
        anchor = chart.get("position", {}).get("overlayPosition", {}).get("anchorCell", {})
        sheet_id = anchor.get("sheetId", chart.get("position", {}).get("sheetId", 0))
        ss.sheet_by_id(int(sheet_id)).charts.append(chart)
        return {"addChart": {"chart": copy.deepcopy(chart)}}

    def _delete_embedded_object(self, ss: Spreadsheet, args: dict[str, Any]) -> None:
        oid = int(args.get("objectId", -1))
        for s in ss.sheets:
            for ch in s.charts:
                if ch.get("chartId") == oid:
                    s.charts.remove(ch)
                    return
        raise _bad(f"No object with id: {oid}")

    def _no_effect(self, ss: Spreadsheet, args: dict[str, Any]) -> None:
        """Requests that change only presentation this server does not model (column
        widths, auto-resize): accepted and validated for their sheet id."""
        rng = args.get("range", args.get("dimensions", {}))
        ss.sheet_by_id(int(rng.get("sheetId", 0)))

    def _update_dimension_properties(self, ss: Spreadsheet, args: dict[str, Any]) -> None:
        rng = args.get("range", {})
        sheet = ss.sheet_by_id(int(rng.get("sheetId", 0)))
        dim = rng.get("dimension", "ROWS")
        end = rng.get("endIndex", sheet.row_count if dim == "ROWS" else sheet.col_count)
        size = args.get("properties", {}).get("pixelSize")
        if size is not None and "pixelSize" in args.get("fields", ""):
            for i in range(int(rng.get("startIndex", 0)), int(end)):
                sheet.pixel_sizes[(dim, i)] = int(size)

    def _merge_cells(self, ss: Spreadsheet, args: dict[str, Any]) -> None:
        """MERGE_ALL: one merge; MERGE_COLUMNS: one per column; MERGE_ROWS: one per row.
        Merges inside the range are replaced; one that sticks out of it is an error."""
        box = _grid_box(ss, args.get("range", {}))
        r0, r1, c0, c1 = box.clipped()
        sheet = box.sheet
        kept = []
        for m in sheet.merges:
            mr0, mr1 = m.get("startRowIndex", 0), m.get("endRowIndex", 0)
            mc0, mc1 = m.get("startColumnIndex", 0), m.get("endColumnIndex", 0)
            if mr1 <= r0 or r1 <= mr0 or mc1 <= c0 or c1 <= mc0:
                kept.append(m)
            elif not (r0 <= mr0 and mr1 <= r1 and c0 <= mc0 and mc1 <= c1):
                raise _bad("You must select all cells in a merged region to merge or unmerge them.")
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

    def _unmerge_cells(self, ss: Spreadsheet, args: dict[str, Any]) -> None:
        box = _grid_box(ss, args.get("range", {}))
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

    def _append_dimension(self, ss: Spreadsheet, args: dict[str, Any]) -> None:
        sheet = ss.sheet_by_id(int(args.get("sheetId", 0)))
        if args.get("dimension") == "COLUMNS":
            sheet.col_count += int(args.get("length", 0))
        else:
            sheet.row_count += int(args.get("length", 0))

    def _insert_dimension(self, ss: Spreadsheet, args: dict[str, Any]) -> None:
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

    def _delete_dimension(self, ss: Spreadsheet, args: dict[str, Any]) -> None:
        rng = args.get("range", {})
        sheet = ss.sheet_by_id(int(rng.get("sheetId", 0)))
        start, end = int(rng.get("startIndex", 0)), int(rng.get("endIndex", 0))
        n = end - start
        if rng.get("dimension") == "COLUMNS":
            sheet.col_count -= n
            for row in sheet.cells:
                del row[start:end]
            sheet.formulas = {
                (r, c - n if c >= end else c): f
                for (r, c), f in sheet.formulas.items()
                if not start <= c < end
            }
        else:
            sheet.row_count -= n
            del sheet.cells[start:end]
            sheet.formulas = {
                (r - n if r >= end else r, c): f
                for (r, c), f in sheet.formulas.items()
                if not start <= r < end
            }

    def _add_named_range(self, ss: Spreadsheet, args: dict[str, Any]) -> dict[str, Any]:
        nr = copy.deepcopy(args.get("namedRange", {}))
        nr.setdefault("namedRangeId", secrets.token_hex(6))
        ss.named_ranges.append(nr)
        return {"addNamedRange": {"namedRange": proto3(nr)}}

    def _update_named_range(self, ss: Spreadsheet, args: dict[str, Any]) -> None:
        asked = args.get("namedRange", {})
        target = next(
            (n for n in ss.named_ranges if n.get("namedRangeId") == asked.get("namedRangeId")), None
        )
        if target is None:
            raise _bad(f"No named range with id {asked.get('namedRangeId')}.")
        fields = [f.strip() for f in args.get("fields", "").split(",") if f.strip()]
        for f in list(asked) if fields == ["*"] else fields:
            top = f.split(".")[0]
            if top == "namedRangeId":
                continue
            if top in asked:
                target[top] = copy.deepcopy(asked[top])
            else:
                target.pop(top, None)

    def _delete_named_range(self, ss: Spreadsheet, args: dict[str, Any]) -> None:
        ss.named_ranges = [n for n in ss.named_ranges if n.get("namedRangeId") != args.get("namedRangeId")]

    # -- values

    def _values(
        self, ss: Spreadsheet, method: str, rest: str, query: dict[str, list[str]], data: Any
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
            return self._values_batch_update(ss, data)
        if rest == ":batchClear" and method == "POST":
            boxes = [ss.parse_range(r) for r in data.get("ranges", [])]
            for b in boxes:
                self._clear(b)
            self._touch(ss)
            return {"spreadsheetId": ss.spreadsheet_id, "clearedRanges": [b.a1() for b in boxes]}
        m = re.fullmatch(r"/([^:]+)(:append|:clear)?", rest)
        if not m:
            raise ApiError(404, "Requested entity was not found.")
        if method in {"PUT", "POST"} and m.group(2) != ":clear":
            self._check_values(data, "data")  # the body is read before the range
        box = ss.parse_range(unquote(m.group(1)))
        action = m.group(2)
        if action == ":clear" and method == "POST":
            self._clear(box)
            self._touch(ss)
            return {"spreadsheetId": ss.spreadsheet_id, "clearedRange": box.a1()}
        if action == ":append" and method == "POST":
            return self._append(ss, box, q, data)
        if action is None and method == "GET":
            return value_range(box, render_opt, date_opt, major)
        if action is None and method == "PUT":
            body = dict(data)
            body.setdefault("range", unquote(m.group(1)))
            out = self._write(ss, box, body, q.get("valueInputOption", ""), "data")
            self._touch(ss)
            return {"spreadsheetId": ss.spreadsheet_id, **out}
        raise ApiError(404, "Requested entity was not found.")

    def _clear(self, box: Box) -> None:
        r0, r1, c0, c1 = box.clipped()
        sheet = box.sheet
        for r in range(r0, min(r1, len(sheet.cells))):
            row = sheet.cells[r]
            for c in range(c0, min(c1, len(row))):
                row[c] = None
                sheet.formulas.pop((r, c), None)

    def _check_values(self, data: dict[str, Any], where: str) -> list[list[Any]]:
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

    def _write(
        self, ss: Spreadsheet, box: Box, data: dict[str, Any], input_opt: str, where: str, dry: bool = False
    ) -> dict[str, Any]:
        """Write one ValueRange at the top-left of ``box``; returns the update summary."""
        if input_opt not in {"RAW", "USER_ENTERED"}:
            raise _bad("'valueInputOption' is required but not specified")
        values = self._check_values(data, where)
        if box.r1 is not None and box.c1 is not None and (box.r1 - box.r0, box.c1 - box.c0) == (1, 1):
            box = Box(box.sheet, box.r0, None, box.c0, None)  # one cell names where writing starts
        if data.get("majorDimension") == "COLUMNS":
            width = max((len(v) for v in values), default=0)
            values = [[col[r] if r < len(col) else None for col in values] for r in range(width)]
        sheet = box.sheet
        rows = len(values)
        cols = max((len(r) for r in values), default=0)
        if (box.r1 is not None and rows > box.r1 - box.r0) or (box.c1 is not None and cols > box.c1 - box.c0):
            raise _bad(
                f"Requested writing within range [{data.get('range', box.a1())}], but tried writing "
                f"to {'row' if rows > (box.r1 or 0) - box.r0 else 'column'} "
                f"[{box.r0 + rows if rows > (box.r1 or 0) - box.r0 else col_letters(box.c0 + cols - 1)}]"
            )
        if box.r0 + rows > sheet.row_count or box.c0 + cols > sheet.col_count:
            raise _bad(
                f"Range ({quote_title(sheet.title)}!{col_letters(box.c0 + cols - 1)}{box.r0 + rows}) "
                f"exceeds grid limits. Max rows: {sheet.row_count}, max columns: {sheet.col_count}"
            )
        for row in values:
            for v in row:
                if isinstance(v, str) and len(v) > 50000:
                    raise _bad(
                        "Your input contains more than the maximum of 50000 characters in a single cell."
                    )
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
                    stored = _num(stored)
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

    def _values_batch_update(self, ss: Spreadsheet, data: dict[str, Any]) -> dict[str, Any]:
        input_opt = data.get("valueInputOption", "")
        items = data.get("data", [])
        boxes = [ss.parse_range(vr.get("range", "")) for vr in items]
        # validate everything first: a batch either applies whole or not at all
        for i, (box, vr) in enumerate(zip(boxes, items, strict=True)):
            self._write(ss, box, vr, input_opt, f"data[{i}]", dry=True)
        responses = []
        for i, (box, vr) in enumerate(zip(boxes, items, strict=True)):
            responses.append(
                {"spreadsheetId": ss.spreadsheet_id, **self._write(ss, box, vr, input_opt, f"data[{i}]")}
            )
        self._touch(ss)
        out: dict[str, Any] = {"spreadsheetId": ss.spreadsheet_id}
        total = [r for r in responses if "updatedCells" in r]
        if total:
            out["totalUpdatedRows"] = sum(r["updatedRows"] for r in total)
            out["totalUpdatedColumns"] = max(r["updatedColumns"] for r in total)
            out["totalUpdatedCells"] = sum(r["updatedCells"] for r in total)
            out["totalUpdatedSheets"] = len({r["updatedRange"].rpartition("!")[0] for r in total})
        out["responses"] = responses
        return out

    def _append(self, ss: Spreadsheet, box: Box, q: dict[str, str], data: dict[str, Any]) -> dict[str, Any]:
        """values.append: find the table at ``box`` and write below its last row."""
        sheet = box.sheet
        table = _find_table(box)
        table_range = table.a1() if table else None
        last, c0 = (table.r1 or 0, table.c0) if table else (box.r0, box.c0)
        values = self._check_values(data, "data")
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
        updates = self._write(ss, target, data, q.get("valueInputOption", ""), "data")
        self._touch(ss)
        out: dict[str, Any] = {"spreadsheetId": ss.spreadsheet_id}
        if table_range:
            out["tableRange"] = table_range
        out["updates"] = {"spreadsheetId": ss.spreadsheet_id, **updates}
        return out


def colour(rgb: dict[str, Any] | None) -> dict[str, Any]:
    """A colour as Google keeps it: 8 bits a channel (truncated), sent as float32, zero
    channels left out (proto3)."""
    out: dict[str, Any] = {}
    for channel, v in (rgb or {}).items():
        if channel == "alpha":
            q = float(v)
        else:
            q = math.floor(float(v) * 255 + 1e-6) / 255
        if q:
            out[channel] = _num(float(str(numpy.float32(q))))
    return out


def _styled(fmt: dict[str, Any]) -> dict[str, Any]:
    """A cell format as Google keeps it: colours 8-bit, each colour mirrored into its
    ``...Style`` twin (backgroundColor -> backgroundColorStyle.rgbColor)."""
    out = copy.deepcopy(fmt)
    pairs = [(out, "backgroundColor", "backgroundColorStyle")]
    if isinstance(out.get("textFormat"), dict):
        pairs.append((out["textFormat"], "foregroundColor", "foregroundColorStyle"))
    for holder, plain, style in pairs:
        if plain in holder:
            c = colour(holder[plain])
            holder[plain] = c
            holder[style] = {"rgbColor": dict(c)}
        elif isinstance(holder.get(style), dict) and "rgbColor" in holder[style]:
            c = colour(holder[style]["rgbColor"])
            holder[style] = {"rgbColor": c}
            holder[plain] = dict(c)
    return out


def _tab_colour(props: dict[str, Any], fields: list[str]) -> None:
    """Google mirrors tabColor and tabColorStyle (the newer name) into each other."""
    style_set = any(f.split(".")[0] == "tabColorStyle" for f in fields)
    plain_set = any(f.split(".")[0] == "tabColor" for f in fields)
    if style_set or (fields == list(props) and "tabColorStyle" in props):
        rgb = (props.get("tabColorStyle") or {}).get("rgbColor")
    elif plain_set:
        rgb = props.get("tabColor")
    else:
        return
    props.pop("tabColor", None)
    props.pop("tabColorStyle", None)
    if rgb is not None:
        c = colour(rgb)
        props["tabColor"] = c
        props["tabColorStyle"] = {"rgbColor": dict(c)}


def _find_table(box: Box) -> Box | None:
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


_BATCH_HANDLERS: dict[str, Callable[[SheetsServer, Spreadsheet, dict[str, Any]], Any]] = {
    "addSheet": SheetsServer._add_sheet,
    "deleteSheet": SheetsServer._delete_sheet,
    "updateSheetProperties": SheetsServer._update_sheet_properties,
    "updateSpreadsheetProperties": SheetsServer._update_spreadsheet_properties,
    "setBasicFilter": SheetsServer._set_basic_filter,
    "clearBasicFilter": SheetsServer._clear_basic_filter,
    "addProtectedRange": SheetsServer._add_protected_range,
    "deleteProtectedRange": SheetsServer._delete_protected_range,
    "repeatCell": SheetsServer._repeat_cell,
    "updateCells": SheetsServer._update_cells,
    "addChart": SheetsServer._add_chart,
    "deleteEmbeddedObject": SheetsServer._delete_embedded_object,
    "updateDimensionProperties": SheetsServer._update_dimension_properties,
    "autoResizeDimensions": SheetsServer._no_effect,
    "mergeCells": SheetsServer._merge_cells,
    "unmergeCells": SheetsServer._unmerge_cells,
    "appendDimension": SheetsServer._append_dimension,
    "insertDimension": SheetsServer._insert_dimension,
    "deleteDimension": SheetsServer._delete_dimension,
    "addNamedRange": SheetsServer._add_named_range,
    "deleteNamedRange": SheetsServer._delete_named_range,
    "updateNamedRange": SheetsServer._update_named_range,
}
IMPLEMENTED_REQUESTS = frozenset(_BATCH_HANDLERS)


def _fault_message(code: int) -> str:
    if code == 503:
        return "The service is currently unavailable."
    return "Internal error encountered."


class LocalAdapter(BaseAdapter):
    """A requests transport that hands each request to a ``SheetsServer`` in-process."""

    def __init__(self, server: SheetsServer) -> None:
        super().__init__()
        self.server = server

    def send(  # type: ignore[override]
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | None = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout
        body = request.body
        raw = body.encode() if isinstance(body, str) else body
        status, data, headers = self.server.handle(
            request.method or "GET", request.url or "", dict(request.headers), raw, read_timeout
        )
        response = requests.Response()
        response.status_code = status
        response.reason = _REASONS.get(status, "")
        response._content = data
        response.headers = CaseInsensitiveDict(headers)
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


def serial_to_datetime(serial: float) -> datetime:
    """A Sheets date serial (days since 1899-12-30) as a naive datetime."""
    return EPOCH + timedelta(days=serial) if math.isfinite(serial) else EPOCH
