"""The Google Sheets backend: the same tabs and results as the xlsx path, through gspread.

Requests per run, whatever the number of rows (Google allows 60 per minute per user):

    read   1. Drive files.get fields=version          (the state we computed from)
           2. spreadsheets.get (titles, ids, time zone, locale, charts, and each cell's
              number-format *type* through a field mask)
           3. values:batchGet, every tab, UNFORMATTED_VALUE + SERIAL_NUMBER
    write  4. Drive files.get fields=version          (stop if the owner edited meanwhile)
           5. spreadsheets:batchUpdate                (new tool tabs, formats, charts; and,
              when owner cells are to be edited, the re-read of those cells in its response)
           6. values:batchUpdate, RAW                 (all values; split only above ~2 MB)

Why the number-format types come from request 2: values:batchGet returns a date as a bare
serial number, indistinguishable from an amount. Asking for FORMATTED_VALUE as well would
double the values read and force locale-dependent parsing of dates ("11/12/2026" is two
dates); a separate probe would cost a request. Adding
``data.rowData.values.effectiveFormat.numberFormat.type`` to the field mask of the
spreadsheets.get we need anyway costs no request, and the answer is a long run of ``{}``
that compresses to almost nothing. Serials are wall-clock days in the spreadsheet's time
zone, so they become naive datetimes as the owner sees them (like the xlsx path);
UNFORMATTED values are locale-independent, so the locale is recorded, not parsed.

The retries, rate limit and error answers are in ``gsheets_http``; the request bodies
(value ranges, new tabs, formats, charts) in ``gsheets_requests``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests
from gspread.exceptions import APIError
from gspread.urls import (
    DRIVE_FILES_API_V3_URL,
    SPREADSHEET_BATCH_UPDATE_URL,
    SPREADSHEET_URL,
    SPREADSHEET_VALUES_BATCH_UPDATE_URL,
    SPREADSHEET_VALUES_BATCH_URL,
)

from ..errors import (
    TabNotFound,
    UsageError,
    WorkbookChanged,
    WorkbookTooLarge,
    WriteFailed,
)
from ..findings import FindingList, column_letter, quote_tab
from ..serial import serial_to_datetime
from ..workbook import (
    Cell,
    CellError,
    ToolTab,
    Workbook,
    WritePlan,
    WriteReport,
    build_table,
    generated_note,
    header_key,
    same_cell,
)
from .base import Backend
from .gsheets_http import RateLimiter, RetryingHTTPClient, RetryPolicy, refusal
from .gsheets_requests import (
    chart_request,
    format_requests,
    new_tab_requests,
    split_block,
    to_json,
    touch_request,
    value_range,
)

MAX_CELLS = 10_000_000  # Google's limit per spreadsheet (grid cells, blank ones too)
MAX_CELL_CHARS = 50_000
MAX_REQUEST_BYTES = 1_900_000  # keep each request below Google's ~2 MB comfort zone
ERROR_VALUES = {"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#ERROR!"}
DATE_TYPES = {"DATE", "DATE_TIME", "TIME"}
_ID = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")


# ---------------------------------------------------------------- cells read


def to_cell(value: Any, number_type: str | None) -> Cell:
    """A value from values:batchGet (UNFORMATTED_VALUE, SERIAL_NUMBER) as a workbook cell."""
    if value == "" or value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if number_type in DATE_TYPES:
            try:
                # Google sends exact doubles: keep the time as written, to the microsecond
                return serial_to_datetime(float(value), "sheets", to_second=False)
            except (OverflowError, ValueError):  # beyond year 9999 (or before year 1)
                return value  # a number: validation says it is not a date
        return value
    if isinstance(value, str) and value in ERROR_VALUES:
        return CellError(value)
    return value  # type: ignore[no-any-return]


def _cells_from_grid(spreadsheet: dict[str, Any]) -> dict[tuple[str, int, int], Cell]:
    out: dict[tuple[str, int, int], Cell] = {}
    for sheet in spreadsheet.get("sheets", []):
        title = sheet.get("properties", {}).get("title", "")
        for data in sheet.get("data", []):
            r0, c0 = int(data.get("startRow", 0)), int(data.get("startColumn", 0))
            for r, row in enumerate(data.get("rowData", [])):
                for c, cell in enumerate(row.get("values", [])):
                    ev = cell.get("effectiveValue", {})
                    kind = cell.get("effectiveFormat", {}).get("numberFormat", {}).get("type")
                    value: Any = None
                    if "numberValue" in ev:
                        value = ev["numberValue"]
                    elif "boolValue" in ev:
                        value = ev["boolValue"]
                    elif "stringValue" in ev:
                        value = ev["stringValue"]
                    elif "errorValue" in ev:
                        value = CellError(str(ev["errorValue"].get("type", "#ERROR!")))
                    out[(title, r0 + r + 1, c0 + c + 1)] = (
                        value if isinstance(value, CellError) else to_cell(value, kind)
                    )
    return out


def spreadsheet_id(target: str) -> str:
    """``gsheet:ID`` or a docs.google.com URL -> the spreadsheet id."""
    if target.startswith("gsheet:"):
        sid = target[len("gsheet:") :].strip()
    else:
        m = _ID.search(target)
        sid = m.group(1) if m else ""
    if not re.fullmatch(r"[A-Za-z0-9_-]{10,}", sid):
        raise UsageError(
            f"'{target}' does not name a Google Sheet.",
            "Give the sheet's URL (https://docs.google.com/spreadsheets/d/...) or gsheet:ID.",
        )
    return sid


# ---------------------------------------------------------------- the backend


@dataclass
class _TabState:
    sheet_id: int
    rows: int  # grid size
    columns: int
    used_rows: int = 0  # rows up to the last one with a value, as read
    used_columns: int = 0
    charts: list[int] = field(default_factory=list)


class GoogleSheetsBackend(Backend):
    """A Google Sheet as a workbook (see the module docstring for the requests it makes)."""

    kind = "gsheets"

    def __init__(
        self,
        spreadsheet_id: str,
        *,
        session: requests.Session | None = None,
        identity: Any = None,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        timeout: tuple[float, float] = (10.0, 120.0),
        max_request_bytes: int = MAX_REQUEST_BYTES,
    ) -> None:
        self.spreadsheet_id = spreadsheet_id
        self.identity = identity
        if session is None:
            from .. import auth

            self.identity = identity or auth.resolve()
            session = auth.authorized_session(self.identity)
        self.http = RetryingHTTPClient(
            session, retry=retry or RetryPolicy(), limiter=limiter or RateLimiter(), timeout=timeout
        )
        self.max_request_bytes = max_request_bytes
        self.title = ""
        self.time_zone = ""
        self.locale = ""
        self._tabs: dict[str, _TabState] = {}
        self._tables_read: dict[str, Any] = {}

    @classmethod
    def from_target(cls, text: str, **options: Any) -> GoogleSheetsBackend:
        """``gsheet:ID`` or a sheet URL. Options: ``session`` (tests), ``auth`` (mode),
        ``key_file``, ``retry``, ``limiter``, ``timeout``."""
        sid = spreadsheet_id(text)
        session = options.pop("session", None)
        identity = options.pop("identity", None)
        mode = str(options.pop("auth", "auto"))
        key_file = options.pop("key_file", None)
        if session is None and identity is None:
            from .. import auth

            identity = auth.resolve(mode, key_file)
        return cls(sid, session=session, identity=identity, **options)

    @property
    def label(self) -> str:
        return f"Google Sheet '{self.title}'" if self.title else f"Google Sheet {self.spreadsheet_id}"

    @property
    def requests_made(self) -> int:
        return self.http.requests_made

    @property
    def bytes_sent(self) -> int:
        return self.http.bytes_sent

    # -- errors

    def _call(self, method: str, url: str, **kw: Any) -> Any:
        try:
            return self.http.call(method, url, **kw)
        except APIError as exc:
            raise refusal(exc, self.identity, self.label) from None

    # -- read

    def version(self) -> str:
        meta = self._call(
            "get",
            DRIVE_FILES_API_V3_URL + "/" + self.spreadsheet_id,
            params={"fields": "version", "supportsAllDrives": "true"},
        )
        return str(meta.get("version", ""))

    def _metadata(self) -> dict[str, Any]:
        fields = (
            "properties(title,locale,timeZone),"
            "sheets(properties(sheetId,title,index,gridProperties(rowCount,columnCount)),"
            "charts(chartId),data(rowData(values(effectiveFormat(numberFormat(type))))))"
        )
        return self._call(  # type: ignore[no-any-return]
            "get",
            SPREADSHEET_URL % self.spreadsheet_id,
            params={"includeGridData": "true", "fields": fields},
        )

    def read(self) -> Workbook:
        version = self.version()
        meta = self._metadata()
        props = meta.get("properties", {})
        self.title = str(props.get("title", ""))
        self.time_zone = str(props.get("timeZone", ""))
        self.locale = str(props.get("locale", ""))
        sheets = meta.get("sheets", [])
        formats: dict[str, dict[tuple[int, int], str]] = {}
        self._tabs = {}
        for sheet in sheets:
            p = sheet.get("properties", {})
            grid = p.get("gridProperties", {})
            title = str(p.get("title", ""))
            self._tabs[title] = _TabState(
                int(p.get("sheetId", 0)),
                int(grid.get("rowCount", 0)),
                int(grid.get("columnCount", 0)),
                charts=[int(c["chartId"]) for c in sheet.get("charts", []) if "chartId" in c],
            )
            found: dict[tuple[int, int], str] = {}
            for data in sheet.get("data", []):
                r0, c0 = int(data.get("startRow", 0)), int(data.get("startColumn", 0))
                for r, row in enumerate(data.get("rowData", [])):
                    for c, cell in enumerate(row.get("values", [])):
                        kind = cell.get("effectiveFormat", {}).get("numberFormat", {}).get("type")
                        if kind in DATE_TYPES:
                            found[(r0 + r, c0 + c)] = kind
            formats[title] = found
        titles = list(self._tabs)
        tables = {}
        findings = FindingList()
        if titles:
            got = self._call(
                "get",
                SPREADSHEET_VALUES_BATCH_URL % self.spreadsheet_id,
                params={
                    "ranges": [quote_tab(t) for t in titles],
                    "valueRenderOption": "UNFORMATTED_VALUE",
                    "dateTimeRenderOption": "SERIAL_NUMBER",
                    "majorDimension": "ROWS",
                },
            )
            for title, vr in zip(titles, got.get("valueRanges", []), strict=False):
                raw = vr.get("values", [])
                fmt = formats.get(title, {})
                width = max((len(r) for r in raw), default=0)
                # ragged rows (Google trims trailing blanks) are padded to the tab's width
                grid = [
                    [to_cell(v, fmt.get((r, c))) for c, v in enumerate(row)] + [None] * (width - len(row))
                    for r, row in enumerate(raw)
                ]
                state = self._tabs[title]
                state.used_rows, state.used_columns = len(raw), width
                tables[title] = build_table(title, grid, findings=findings)
        self._tables_read = tables
        return Workbook(tables, source=self.label, version=version, findings=findings)

    # -- write

    def write(self, plan: WritePlan, *, expected_version: str) -> WriteReport:
        if not self._tabs:
            raise WriteFailed("The sheet must be read before it is written.", "", where=self.label)
        when = plan.generated_at or datetime.now()
        self._check_cell_count(plan)  # before any work proportional to the cells
        blocks, layout = self._value_blocks(plan, when)
        self._check_cell_text(blocks)
        if self.version() != expected_version:
            raise WorkbookChanged(
                "The sheet changed while sheet-crm was working; nothing was written.",
                "Run the command again (someone edited the sheet during the run).",
                where=self.label,
            )
        report = WriteReport()
        structure, recheck_ranges = self._structure_requests(plan, layout)
        current: dict[tuple[str, int, int], Cell] = {}
        if structure or recheck_ranges:
            current = self._apply_structure(structure, recheck_ranges)
        edit_blocks = []
        for edit in plan.edits:
            if edit.tab not in self._tabs:
                raise TabNotFound(f"There is no tab called '{edit.tab}'.", where=self.label)
            if not same_cell(current.get((edit.tab, edit.row, edit.column)), edit.expected):
                report.skipped_edits.append(edit)
                continue
            edit_blocks.append(value_range(edit.tab, edit.row, edit.column, [[to_json(edit.value)]]))
            report.cells_edited += 1
        blocks.extend(edit_blocks)
        report.rows_appended = len(plan.appends)
        self._send_values(blocks, layout)
        report.tabs_written = [t.name for t in plan.tabs]
        return report

    def _value_blocks(self, plan: WritePlan, when: datetime) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The values to write, as ValueRanges in write order, and what each tool tab needs
        (rows, columns, date columns) for the structural request."""
        blocks: list[dict[str, Any]] = []
        layout: dict[str, Any] = {"tabs": {}, "notes": {}}
        for tab in plan.tabs:
            state = self._tabs.get(tab.name)
            width = max([len(tab.headers), *(len(r) for r in tab.rows)])
            old_rows = state.used_rows if state else 0
            old_cols = state.used_columns if state else 0
            keep = 0
            if tab.append_only and state is not None:
                table = self._previous_rows(tab.name)
                keep = table
            first_new = ToolTab.FIRST_DATA_ROW + keep
            rows = [[to_json(v) for v in r] for r in tab.rows]
            clear_width = max(width, old_cols)
            note = generated_note(tab, when)
            header = [*tab.headers, *[""] * (clear_width - len(tab.headers))]
            layout["notes"][tab.name] = [[note, *[""] * (clear_width - 1)]]
            data = [r + [""] * (clear_width - len(r)) for r in rows]
            end = first_new + len(rows) - 1
            stale = max(0, old_rows - end) if not tab.append_only else 0
            data += [[""] * clear_width for _ in range(stale)]
            layout["tabs"][tab.name] = {
                "rows": max(first_new + len(rows) - 1, ToolTab.HEADER_ROW),
                "columns": clear_width,
                "first_new": first_new,
                "new_rows": len(rows),
                "tab": tab,
            }
            blocks.append(value_range(tab.name, ToolTab.HEADER_ROW, 1, [header]))
            if data:
                blocks.append(value_range(tab.name, first_new, 1, data))
        for append in plan.appends:
            blocks.append(self._append_block(append.tab, append.values))
        return blocks, layout

    def _previous_rows(self, name: str) -> int:
        """How many data rows an append-only tool tab already has (they are kept)."""
        state = self._tabs[name]
        return max(0, state.used_rows - ToolTab.FIRST_DATA_ROW + 1)

    def _append_block(self, tab: str, values: dict[str, Cell]) -> dict[str, Any]:
        state = self._tabs.get(tab)
        if state is None:
            raise TabNotFound(f"There is no tab called '{tab}' to add a row to.", where=self.label)
        table = self._tables_read.get(tab)
        headers = table.headers if table is not None else []
        first_col = table.first_column if table is not None else 1
        by_key = {header_key(h): i for i, h in enumerate(headers)}
        line: list[Any] = [""] * len(headers)
        for header, value in values.items():
            i = by_key.get(header_key(header))
            if i is not None:
                line[i] = to_json(value)
        state.used_rows += 1
        return value_range(tab, state.used_rows, first_col, [line])

    def _check_cell_text(self, blocks: list[dict[str, Any]]) -> None:
        for block in blocks:
            for r, row in enumerate(block["values"]):
                for c, v in enumerate(row):
                    if isinstance(v, str) and len(v) > MAX_CELL_CHARS:
                        where = block["tab"]
                        raise WorkbookTooLarge(
                            f"A value for the {where} tab has {len(v):,} characters; Google Sheets "
                            f"allows at most {MAX_CELL_CHARS:,} in one cell (row {block['row'] + r}, "
                            f"column {column_letter(block['col'] + c)}). Nothing was written.",
                            "Shorten the text that feeds this cell (a template or a note).",
                            where=self.label,
                        )

    def _check_cell_count(self, plan: WritePlan) -> None:
        """Google counts every cell of every tab's grid, blank ones too, up to 10 million."""
        need: dict[str, tuple[int, int]] = {}
        for tab in plan.tabs:
            state = self._tabs.get(tab.name)
            kept = self._previous_rows(tab.name) if tab.append_only and state is not None else 0
            width = max([len(tab.headers), *(len(r) for r in tab.rows)])
            need[tab.name] = (ToolTab.FIRST_DATA_ROW - 1 + kept + len(tab.rows), width)
        total = 0
        for title, state in self._tabs.items():
            rows, cols = need.get(title, (0, 0))
            total += max(state.rows, rows) * max(state.columns, cols)
        for title, (rows, cols) in need.items():
            if title not in self._tabs:
                total += max(1000, rows) * max(26, cols)
        if total > MAX_CELLS:
            raise WorkbookTooLarge(
                f"After this run the sheet would have {total:,} cells; Google Sheets allows "
                f"{MAX_CELLS:,} per spreadsheet (blank cells count). Nothing was written.",
                "Delete unused rows and columns in your tabs (right-click > Delete), or move old "
                "orders to another spreadsheet.",
                where=self.label,
            )

    def _structure_requests(
        self, plan: WritePlan, layout: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """Requests for spreadsheets:batchUpdate: add missing tool tabs (never delete and
        recreate one: the owner's formulas pointing at it would turn into #REF!), grow
        grids, date formats, charts; and the owner cells to re-read."""
        reqs: list[dict[str, Any]] = []
        next_id = max([s.sheet_id for s in self._tabs.values()] + [0]) + 1
        for name, need in layout["tabs"].items():
            tab: ToolTab = need["tab"]
            state = self._tabs.get(name)
            if state is None:
                sid = next_id
                next_id += 1
                rows, cols = max(1000, need["rows"]), max(26, need["columns"])
                state = _TabState(sid, rows, cols)
                self._tabs[name] = state
                need["new"] = True
                reqs.extend(new_tab_requests(tab, sid, rows, cols, len(self._tabs) - 1))
            elif need["rows"] > state.rows or need["columns"] > state.columns:
                state.rows, state.columns = max(state.rows, need["rows"]), max(state.columns, need["columns"])
                reqs.append(
                    {
                        "updateSheetProperties": {
                            "properties": {
                                "sheetId": state.sheet_id,
                                "gridProperties": {"rowCount": state.rows, "columnCount": state.columns},
                            },
                            "fields": "gridProperties.rowCount,gridProperties.columnCount",
                        }
                    }
                )
            reqs.extend(format_requests(tab, state.sheet_id, need["first_new"]))
            if tab.charts or state.charts:
                reqs.extend({"deleteEmbeddedObject": {"objectId": cid}} for cid in state.charts)
                reqs.extend(chart_request(c, state.sheet_id) for c in tab.charts)
        recheck: list[str] = []
        by_column: dict[tuple[str, int], list[int]] = {}
        for edit in plan.edits:
            by_column.setdefault((edit.tab, edit.column), []).append(edit.row)
        for (tab_name, col), rows in by_column.items():
            letter = column_letter(col)
            recheck.append(f"{quote_tab(tab_name)}!{letter}{min(rows)}:{letter}{max(rows)}")
        return reqs, recheck

    def _apply_structure(
        self, reqs: list[dict[str, Any]], recheck: list[str]
    ) -> dict[tuple[str, int, int], Cell]:
        """Send the structural batchUpdate; its response carries the owner cells we are about
        to edit, read *after* the version check (the key-checked re-read, at no extra request)."""
        body: dict[str, Any] = {"requests": reqs}
        if recheck:
            body |= {
                "includeSpreadsheetInResponse": True,
                "responseRanges": recheck,
                "responseIncludeGridData": True,
            }
        if not reqs:
            # nothing structural to do: a plain read of the cells is the cheapest re-check
            got = self._call(
                "get",
                SPREADSHEET_URL % self.spreadsheet_id,
                params={
                    "includeGridData": "true",
                    "ranges": recheck,
                    "fields": "sheets(properties(title),data(startRow,startColumn,"
                    "rowData(values(effectiveValue,effectiveFormat(numberFormat(type))))))",
                },
            )
            return _cells_from_grid(got)

        def rebuild() -> dict[str, Any] | None:
            # The first attempt may have gone through: keep only the tabs still missing.
            meta = self._call(
                "get",
                SPREADSHEET_URL % self.spreadsheet_id,
                params={"fields": "sheets(properties(sheetId,title),charts(chartId))"},
            )
            present = {int(s["properties"]["sheetId"]) for s in meta.get("sheets", [])}
            added = {r["addSheet"]["properties"]["sheetId"] for r in reqs if "addSheet" in r}
            if added and added <= present:
                # everything went through the first time; only the re-read is still owed
                if recheck:
                    return {**body, "requests": [touch_request(next(iter(present)))]}
                return None
            return body

        got = self._call(
            "post",
            SPREADSHEET_BATCH_UPDATE_URL % self.spreadsheet_id,
            body=body,
            idempotent=False,
            rebuild=rebuild,
        )
        return _cells_from_grid(got.get("updatedSpreadsheet", {}))

    def _send_values(self, blocks: list[dict[str, Any]], layout: dict[str, Any]) -> None:
        """All values in one values:batchUpdate, split only above ``max_request_bytes``.

        Order when split: whole tabs go together whenever they fit; a tab too big for one
        request is written top to bottom, and its row-1 note says "being updated" in the
        first request and gets its final "Generated by ..." text in the last one, so an
        owner who opens the tab mid-write is told, and never takes a half-written tab for a
        finished one. The owner's own tabs (checked cell edits, appended rows) come last, so
        a failure part-way leaves them untouched.
        """
        notes = {name: value_range(name, 1, 1, note) for name, note in layout["notes"].items()}
        ordered = blocks
        payloads = [json.dumps(b["vr"]).encode() for b in ordered]
        total = sum(len(p) for p in payloads) + sum(len(json.dumps(n["vr"])) for n in notes.values())
        if total <= self.max_request_bytes:
            self._values_request([*notes.values(), *ordered])
            return
        chunks: list[list[dict[str, Any]]] = [[]]
        size = 0
        split_tabs = set()
        pieces: list[dict[str, Any]] = []
        for b in ordered:
            pieces.extend(split_block(b, self.max_request_bytes // 2))
        for p in pieces:
            n = len(json.dumps(p["vr"]))
            if size + n > self.max_request_bytes and chunks[-1]:
                chunks.append([])
                size = 0
            chunks[-1].append(p)
            size += n
        for tab in layout["tabs"]:
            where = [i for i, ch in enumerate(chunks) if any(p["tab"] == tab for p in ch)]
            if len(where) > 1:
                split_tabs.add(tab)
        busy = [
            value_range(
                t,
                1,
                1,
                [["sheet-crm is updating this tab; it is complete when this note says 'Generated by'."]],
            )
            for t in split_tabs
        ]
        chunks[0][:0] = busy
        chunks[-1].extend(notes.values())
        for ch in chunks:
            self._values_request(ch)

    def _values_request(self, blocks: Sequence[dict[str, Any]]) -> None:
        if not blocks:
            return
        self._call(
            "post",
            SPREADSHEET_VALUES_BATCH_UPDATE_URL % self.spreadsheet_id,
            body={"valueInputOption": "RAW", "data": [b["vr"] for b in blocks]},
        )


__all__ = ["GoogleSheetsBackend", "RateLimiter", "RetryPolicy", "spreadsheet_id"]
