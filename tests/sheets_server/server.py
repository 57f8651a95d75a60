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
in ``batch_update.HANDLERS``); ``values`` get/batchGet/update/batchUpdate/append/clear/batchClear.

This module routes requests and holds the server's own state; the rest of the package is
split by concern: ``model`` (spreadsheets, tabs, ranges), ``cells`` (values typed in and
rendered out), ``formats``, ``masks`` (field masks), ``errors`` (Google's error envelope),
and one module per endpoint family: ``spreadsheets``, ``batch_update``, ``values``, ``drive``.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from sheet_crm.serial import datetime_to_serial

from . import drive, values
from .batch_update import batch_update
from .cells import arith, parse_user_entered, trim
from .errors import QUOTA_ERROR, REASONS, ApiError, fault_message
from .formats import num
from .model import Sheet, Spreadsheet
from .spreadsheets import create_spreadsheet, get

SHEETS_HOST = "https://sheets.googleapis.com"
GOOGLE_APIS_HOST = "https://www.googleapis.com"


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
        self.caller = ""  # who sent the request being answered

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
        ss = self.new_spreadsheet(title)
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
        self.touch(ss)

    def grid(self, spreadsheet_id: str, tab: str) -> list[list[Any]]:
        """A tab's stored values (trailing blanks trimmed), for assertions."""
        sheet = self.files[spreadsheet_id].sheet_by_title(tab)
        assert sheet is not None, tab
        rows = [[("" if v is None else v) for v in row] for row in sheet.cells]
        return trim(rows)

    def sheet(self, spreadsheet_id: str, tab: str) -> Sheet:
        sheet = self.files[spreadsheet_id].sheet_by_title(tab)
        assert sheet is not None, tab
        return sheet

    def _store_typed(self, sheet: Sheet, r: int, c: int, v: Any) -> None:
        if isinstance(v, datetime | date):
            when = v if isinstance(v, datetime) else datetime(v.year, v.month, v.day)
            serial = num(datetime_to_serial(when, "sheets"))
            kind = "DATE_TIME" if isinstance(v, datetime) and when.time() != datetime.min.time() else "DATE"
            sheet.put(r, c, serial)
            pattern = "yyyy-mm-dd" if kind == "DATE" else "yyyy-mm-dd hh:mm"
            sheet.add_format(r, r + 1, c, c + 1, {"numberFormat": {"type": kind, "pattern": pattern}})
        elif isinstance(v, str) and v.startswith("="):
            sheet.put(r, c, arith(v[1:]), v)
        elif v is not None and v != "":
            sheet.put(r, c, v)

    def _now(self) -> str:
        self._tick += 1
        when = datetime(2026, 11, 22, 9, 0, tzinfo=UTC) + timedelta(milliseconds=37 * self._tick)
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"

    def new_spreadsheet(self, title: str) -> Spreadsheet:
        sid = "1" + secrets.token_urlsafe(32)[:43]
        ss = Spreadsheet(sid, title, [Sheet(0, "Sheet1", 0)])
        # sheet ids differ across spreadsheets too, as Google's random ones do
        ss.next_id += 1_000_003 * self._files_made
        self._files_made += 1
        ss.created = ss.modified = self._now()
        self.files[sid] = ss
        return ss

    def touch(self, ss: Spreadsheet) -> None:
        """The spreadsheet changed: a new Drive version and modification time."""
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
                payload = QUOTA_ERROR if code == 429 else ApiError(code, fault_message(code)).body()
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
        self.caller = who
        data: Any = json.loads(body) if body else {}
        host = f"{parts.scheme}://{parts.netloc}"
        if host == GOOGLE_APIS_HOST and path.startswith("/drive/v3/files"):
            return drive.files(self, method, path, query, data, who)
        if host != SHEETS_HOST or not path.startswith("/v4/spreadsheets"):
            raise ApiError(404, "Not found: " + path)
        rest = path[len("/v4/spreadsheets") :]
        if rest in {"", "/"}:
            if method != "POST":
                raise ApiError(404, "Requested entity was not found.")
            return 200, create_spreadsheet(self, data)
        m = re.fullmatch(r"/([^/:]+)(:batchUpdate)?(/values(.*))?", rest)
        if not m:
            raise ApiError(404, "Requested entity was not found.")
        ss = self._spreadsheet(m.group(1), who)
        if m.group(2):
            return 200, batch_update(self, ss, data)
        if m.group(3) is None:
            if method != "GET":
                raise ApiError(404, "Requested entity was not found.")
            return 200, get(ss, query)
        return 200, values.endpoint(self, ss, method, m.group(4), query, data)


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
        response.reason = REASONS.get(status, "")
        response._content = data
        response.headers = CaseInsensitiveDict(headers)
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass
