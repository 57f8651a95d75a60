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
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import requests
from google.auth import exceptions as google_auth_errors
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from gspread.urls import (
    DRIVE_FILES_API_V3_URL,
    SPREADSHEET_BATCH_UPDATE_URL,
    SPREADSHEET_URL,
    SPREADSHEET_VALUES_BATCH_UPDATE_URL,
    SPREADSHEET_VALUES_BATCH_URL,
)

from ..errors import (
    AuthError,
    RemoteError,
    TabNotFound,
    UsageError,
    WorkbookChanged,
    WorkbookNotFound,
    WorkbookTooLarge,
    WriteFailed,
)
from ..findings import FindingList, column_letter, quote_tab
from ..workbook import (
    Cell,
    CellError,
    ChartSpec,
    ToolTab,
    Workbook,
    WritePlan,
    WriteReport,
    build_table,
    generated_note,
    header_key,
    is_blank,
    same_cell,
)
from .base import Backend

EPOCH = datetime(1899, 12, 30)
MAX_CELLS = 10_000_000  # Google's limit per spreadsheet (grid cells, blank ones too)
MAX_CELL_CHARS = 50_000
MAX_REQUEST_BYTES = 1_900_000  # keep each request below Google's ~2 MB comfort zone
ERROR_VALUES = {"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#ERROR!"}
DATE_TYPES = {"DATE", "DATE_TIME", "TIME"}
_ID = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")


# ---------------------------------------------------------------- retries and rate


@dataclass
class RetryPolicy:
    """Bounded retries with full jitter (sleep a random time in [0, min(cap, base*2^n)]),
    honouring Retry-After. ``sleep`` and ``random`` are injectable so tests never wait."""

    attempts: int = 5
    base: float = 1.0
    cap: float = 32.0
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random
    slept: list[float] = field(default_factory=list)

    def wait(self, attempt: int, retry_after: float | None = None) -> None:
        delay = self.random() * min(self.cap, self.base * 2**attempt)
        if retry_after is not None:
            delay = max(delay, min(retry_after, 120.0))
        self.slept.append(delay)
        self.sleep(delay)


@dataclass
class RateLimiter:
    """At most ``limit`` requests in any ``window`` seconds (below Google's 60/min/user),
    so a big run slows itself down instead of collecting 429s."""

    limit: int = 50
    window: float = 60.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    stamps: list[float] = field(default_factory=list)

    def acquire(self) -> None:
        now = self.clock()
        self.stamps = [t for t in self.stamps if now - t < self.window]
        if len(self.stamps) >= self.limit:
            pause = self.window - (now - self.stamps[0])
            if pause > 0:
                self.sleep(pause)
            now = self.clock()
            self.stamps = [t for t in self.stamps if now - t < self.window]
        self.stamps.append(now)


_RETRY_STATUS = {429, 500, 502, 503, 504}


class _Ambiguous(Exception):
    """A non-idempotent request may or may not have taken effect."""


class RetryingHTTPClient(HTTPClient):
    """gspread's HTTP client with bounded, jittered retries and a rate limit.

    Which requests are retried as they are:
    - reads (GET) and values:batchUpdate with RAW values at fixed ranges are idempotent:
      sending them twice leaves the same cells;
    - anything answered 429 (the request was refused, not executed) is safe to resend;
    - spreadsheets:batchUpdate (addSheet, addChart, addProtectedRange...) is NOT
      idempotent: after a 5xx, a timeout or a dropped connection it may have been applied,
      and sending it again would add a second chart or fail on "sheet already exists".
      The caller passes ``rebuild``, which looks at the spreadsheet again and returns
      the request body for whatever is still missing (or None when nothing is).
    """

    def __init__(
        self,
        session: requests.Session,
        *,
        retry: RetryPolicy,
        limiter: RateLimiter,
        timeout: tuple[float, float],
    ) -> None:
        super().__init__(None, session=session)  # type: ignore[arg-type]
        self.retry = retry
        self.limiter = limiter
        self.set_timeout(timeout)
        self.requests_made = 0
        self.bytes_sent = 0

    def call(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        idempotent: bool = True,
        rebuild: Callable[[], dict[str, Any] | None] | None = None,
    ) -> Any:
        last: Exception | None = None
        for attempt in range(self.retry.attempts):
            self.limiter.acquire()
            data = json.dumps(body).encode() if body is not None else None
            self.requests_made += 1
            self.bytes_sent += len(data or b"")
            retry_after: float | None = None
            try:
                headers = {"Content-Type": "application/json"} if data is not None else None
                response = self.request(method, url, params=params, data=data, headers=headers)  # type: ignore[arg-type]
                return response.json() if response.content else {}
            except APIError as exc:
                code = exc.response.status_code
                if code not in _RETRY_STATUS:
                    raise
                last = exc
                retry_after = _retry_after(exc.response)
                ambiguous = code != 429
            except requests.exceptions.ConnectTimeout as exc:
                last, ambiguous = exc, False  # never reached the server
            except (google_auth_errors.TransportError, google_auth_errors.TimeoutError) as exc:
                # Getting or refreshing the access token failed on the network (no connection,
                # no DNS, a proxy): the request itself was never sent.
                last, ambiguous = exc, False
            except google_auth_errors.RefreshError as exc:
                if not getattr(exc, "retryable", False):
                    raise _refused_sign_in() from None
                last, ambiguous = exc, False
            except google_auth_errors.GoogleAuthError:
                raise _refused_sign_in() from None
            except requests.exceptions.RequestException as exc:
                # Dropped connections and timeouts, a reply cut off mid-way, a reply that
                # is not JSON (a captive portal or a proxy answering for Google).
                last, ambiguous = exc, True
            if attempt + 1 >= self.retry.attempts:
                break
            self.retry.wait(attempt, retry_after)
            if ambiguous and not idempotent:
                if rebuild is None:
                    raise _Ambiguous() from last
                body = rebuild()
                if body is None:
                    return {}
        if _is_network(last):
            raise RemoteError(
                f"sheet-crm could not reach Google after {self.retry.attempts} attempts "
                f"({_describe(last)}); nothing more was written.",
                "Check that this computer is connected to the internet (and that no proxy or "
                "firewall blocks googleapis.com), then run the command again.",
            )
        raise RemoteError(
            f"Google Sheets kept failing after {self.retry.attempts} attempts ({_describe(last)}); "
            "nothing more was written.",
            "Wait a few minutes and run the command again; if it keeps happening, check "
            "https://www.google.com/appsstatus.",
        )


def _refused_sign_in() -> AuthError:
    # google-auth's own message can quote the token endpoint's answer: say only what is wrong.
    return AuthError(
        "Google refused to sign sheet-crm in with its credentials (the key may have been "
        "deleted or disabled, or the sign-in revoked or expired).",
        "Run `sheet-crm auth status` to see which identity is used. For a service account, "
        "create a new JSON key in the Google Cloud console; for your own account, run "
        "`sheet-crm auth login` again.",
    )


def _is_network(exc: Exception | None) -> bool:
    """The failure was reaching Google at all, not Google answering with an error."""
    if isinstance(exc, requests.exceptions.JSONDecodeError):
        return False
    return isinstance(
        exc,
        requests.exceptions.ConnectionError
        | requests.exceptions.Timeout
        | google_auth_errors.TransportError
        | google_auth_errors.TimeoutError,
    )


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _describe(exc: Exception | None) -> str:
    if isinstance(exc, APIError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, requests.exceptions.JSONDecodeError):
        return "the answer was not from Google's API; a proxy or a Wi-Fi sign-in page may be in the way"
    if isinstance(exc, requests.exceptions.Timeout | google_auth_errors.TimeoutError):
        return "no answer in time"
    if isinstance(exc, google_auth_errors.TransportError):
        return "no connection to Google's sign-in service"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "the connection failed or was dropped"
    if isinstance(exc, google_auth_errors.RefreshError):
        return "Google's sign-in service kept failing"
    if isinstance(exc, requests.exceptions.RequestException):
        return "the answer was cut off"
    return type(exc).__name__ if exc else "unknown"


# ---------------------------------------------------------------- cells


def to_cell(value: Any, number_type: str | None) -> Cell:
    """A value from values:batchGet (UNFORMATTED_VALUE, SERIAL_NUMBER) as a workbook cell."""
    if value == "" or value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if number_type in DATE_TYPES:
            try:
                return EPOCH + timedelta(days=float(value))
            except (OverflowError, ValueError):  # beyond year 9999 (or before year 1)
                return value  # a number: validation says it is not a date
        return value
    if isinstance(value, str) and value in ERROR_VALUES:
        return CellError(value)
    return value  # type: ignore[no-any-return]


def to_json(value: Cell) -> Any:
    """A workbook cell as a RAW value: dates become serials (their format is set with a
    repeatCell), formula-looking text stays text because RAW never parses."""
    if value is None:
        return ""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, datetime):
        return (value.replace(tzinfo=None) - EPOCH) / timedelta(days=1)
    if isinstance(value, date):
        return (datetime(value.year, value.month, value.day) - EPOCH).days
    return str(value)


def _date_type(value: Cell) -> str | None:
    if isinstance(value, datetime):
        return "DATE" if value.time() == datetime.min.time() else "DATE_TIME"
    if isinstance(value, date):
        return "DATE"
    return None


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
            raise self._translate(exc) from None

    def _translate(self, exc: APIError) -> Exception:
        code = exc.response.status_code
        try:
            message = str(exc.response.json()["error"]["message"])
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {code}"
        kind = getattr(self.identity, "kind", "")
        email = getattr(self.identity, "email", "")
        if code in {403, 404} and kind == "service-account" and email:
            # Google answers 404 (Drive) or 403 (Sheets) when the sheet is not shared with the account
            return AuthError(
                f"The Google Sheet is not shared with the service account {email} (or it does not exist).",
                f"Open the sheet in Google Sheets, click Share and add {email} as an Editor.",
                where=self.label,
            )
        if code == 403:
            return AuthError(
                "The Google account sheet-crm uses may not open this sheet.",
                "Share the sheet with that account (see `sheet-crm auth status`), or sign in "
                "with the owner's account: `sheet-crm auth login`.",
                where=self.label,
            )
        if code == 404:
            return WorkbookNotFound(
                "There is no Google Sheet with this id (or it was deleted).",
                "Copy the sheet's address from the browser and use it as the workbook.",
                where=self.label,
            )
        if code == 401:
            return AuthError(
                "Google did not accept sheet-crm's credentials (expired or revoked).",
                "Run `sheet-crm auth login` again, or check the service-account key.",
                where=self.label,
            )
        return WriteFailed(
            f"Google Sheets refused the request: {message}",
            "Nothing more was written. Run the command again; report it if it repeats.",
            where=self.label,
        )

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
            edit_blocks.append(_block(edit.tab, edit.row, edit.column, [[to_json(edit.value)]]))
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
            blocks.append(_block(tab.name, ToolTab.HEADER_ROW, 1, [header]))
            if data:
                blocks.append(_block(tab.name, first_new, 1, data))
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
        return _block(tab, state.used_rows, first_col, [line])

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
                reqs.extend(_new_tab_requests(tab, sid, rows, cols, len(self._tabs) - 1))
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
            reqs.extend(_format_requests(tab, state.sheet_id, need["first_new"]))
            if tab.charts or state.charts:
                reqs.extend({"deleteEmbeddedObject": {"objectId": cid}} for cid in state.charts)
                reqs.extend(_chart_request(c, state.sheet_id) for c in tab.charts)
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
                    return {**body, "requests": [_touch_request(next(iter(present)))]}
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
        notes = {name: _block(name, 1, 1, note) for name, note in layout["notes"].items()}
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
            pieces.extend(_split_block(b, self.max_request_bytes // 2))
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
            _block(
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


def _block(tab: str, row: int, col: int, values: list[list[Any]]) -> dict[str, Any]:
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


def _split_block(block: dict[str, Any], limit: int) -> Iterable[dict[str, Any]]:
    values = block["values"]
    size = len(json.dumps(values))
    if size <= limit or len(values) < 2:
        yield block
        return
    per = max(1, int(len(values) * limit / size))
    for i in range(0, len(values), per):
        yield _block(block["tab"], block["row"] + i, block["col"], values[i : i + per])


def _touch_request(sheet_id: int) -> dict[str, Any]:
    """A request that changes nothing (column widths unchanged) - used only to get the
    response's re-read when the structural work already went through."""
    return {
        "autoResizeDimensions": {
            "dimensions": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": 0, "endIndex": 0}
        }
    }


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


def _new_tab_requests(tab: ToolTab, sheet_id: int, rows: int, cols: int, index: int) -> list[dict[str, Any]]:
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


def _format_requests(tab: ToolTab, sheet_id: int, first_row: int) -> list[dict[str, Any]]:
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


def _chart_request(spec: ChartSpec, sheet_id: int) -> dict[str, Any]:
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


def is_blank_row(values: Sequence[Cell]) -> bool:
    return all(is_blank(v) for v in values)


__all__ = ["GoogleSheetsBackend", "RateLimiter", "RetryPolicy", "spreadsheet_id"]
