"""Does the local Sheets/Drive test server behave like Google?

Replays Google's real recorded traffic (gspread's cassettes, 124 scenarios) against
``SheetsServer``: every request is sent as recorded, with the recorded spreadsheet ids
mapped to the ids our server hands out, and the answer is compared with Google's: status
code, then the JSON body (range strings, trimmed empty cells, updatedRange/Rows/Columns/
Cells, error envelopes). Timestamps and ids are not compared as values.

Scenarios that use an endpoint or a batchUpdate request the server does not implement
are out of scope: they are listed and counted, never silently dropped. The test prints
the tally and fails if a scenario that passed when this was written starts failing
(``MIN_PASSING``), and checks every field name the server emits against Google's
discovery document.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import shared_path

from sheet_crm.testing import SheetsServer
from sheet_crm.testing.sheets_server import IMPLEMENTED_REQUESTS

RECORDED = ("conformance", "google-sheets-recorded")
DISCOVERY = ("conformance", "google-discovery", "sheets.v4.json")
MIN_PASSING = 76  # measured when written (76 of 124); a drop means the server regressed

_VOLATILE = {"createdTime", "modifiedTime", "spreadsheetUrl", "version", "namedRangeId"}
_ENDPOINTS = [
    ("POST", r"/drive/v3/files"),
    ("GET", r"/drive/v3/files/[^/]+"),
    ("DELETE", r"/drive/v3/files/[^/]+"),
    ("GET", r"/v4/spreadsheets/[^/:]+"),
    ("POST", r"/v4/spreadsheets"),
    ("POST", r"/v4/spreadsheets/[^/:]+:batchUpdate"),
    ("GET", r"/v4/spreadsheets/[^/:]+/values/[^:]+"),
    ("PUT", r"/v4/spreadsheets/[^/:]+/values/[^:]+"),
    ("POST", r"/v4/spreadsheets/[^/:]+/values/[^:]+:(append|clear)"),
    ("GET", r"/v4/spreadsheets/[^/:]+/values:batchGet"),
    ("POST", r"/v4/spreadsheets/[^/:]+/values:(batchUpdate|batchClear)"),
]


def _supported(method: str, uri: str, body: str | None) -> str:
    """'' when the server implements the request, else why it is out of scope."""
    parts = urlsplit(uri)
    if not any(method == m and re.fullmatch(p, parts.path) for m, p in _ENDPOINTS):
        return f"{method} {re.sub(r'/[A-Za-z0-9_-]{25,}', '/ID', parts.path)}"
    if "fields=" in parts.query and "drive" in parts.path and parts.path.endswith("/files"):
        return "drive files.list"
    if parts.path.endswith(":batchUpdate") and "/values" not in parts.path and body:
        for req in json.loads(body).get("requests", []):
            kind = next(iter(req))
            if kind not in IMPLEMENTED_REQUESTS:
                return f"batchUpdate {kind}"
    return ""


def _scenarios() -> list[Path]:
    return sorted(shared_path(*RECORDED).glob("*.json"))


def _normalise(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _normalise(v, ids) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [_normalise(v, ids) for v in value]
    if isinstance(value, str):
        for recorded, ours in ids.items():
            value = value.replace(recorded, ours)
    return value


def _diff(expected: Any, actual: Any, path: str = "") -> str:
    if isinstance(expected, dict) and isinstance(actual, dict):
        for k in expected.keys() | actual.keys():
            if k not in actual:
                return f"{path}.{k} missing"
            if k not in expected:
                return f"{path}.{k} unexpected"
            d = _diff(expected[k], actual[k], f"{path}.{k}")
            if d:
                return d
        return ""
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return f"{path}: {len(expected)} items expected, got {len(actual)}"
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            d = _diff(e, a, f"{path}[{i}]")
            if d:
                return d
        return ""
    return "" if expected == actual else f"{path}: expected {expected!r}, got {actual!r}"


def replay(path: Path) -> tuple[str, str]:
    """('pass'|'fail'|'out-of-scope', detail) for one recorded scenario."""
    interactions = json.loads(path.read_text(encoding="utf-8"))["interactions"]
    for it in interactions:
        req = it["request"]
        why = _supported(req["method"], req["uri"], req.get("body"))
        if why:
            return "out-of-scope", why
    server = SheetsServer()
    session = server.session()
    ids: dict[str, str] = {}
    for n, it in enumerate(interactions):
        req, res = it["request"], it["response"]
        uri = req["uri"]
        for recorded, ours in ids.items():
            uri = uri.replace(recorded, ours)
        body = req.get("body")
        got = session.request(
            req["method"],
            uri,
            data=body.encode() if isinstance(body, str) else body,
            headers={"Content-Type": "application/json"} if body else {},
        )
        want_status = res["status"]["code"]
        text = res["body"]["string"] if isinstance(res.get("body"), dict) else ""
        expected = json.loads(text) if text else None
        if got.status_code == 200 and expected and "id" in expected and expected.get("kind") == "drive#file":
            ids.setdefault(expected["id"], got.json()["id"])
        if (
            got.status_code == 200
            and expected
            and req["method"] == "POST"
            and uri.endswith("/v4/spreadsheets")
        ):
            ids.setdefault(expected["spreadsheetId"], got.json()["spreadsheetId"])
        if got.status_code != want_status:
            return (
                "fail",
                f"#{n} {req['method']} {req['uri'][:90]}: status {got.status_code} != {want_status}",
            )
        if expected is None:
            continue
        actual = got.json() if got.content else None
        d = _diff(_normalise(expected, ids), _normalise(actual, {}))
        if d:
            return "fail", f"#{n} {req['method']} {urlsplit(req['uri']).path[-40:]}: {d[:200]}"
    return "pass", ""


def test_replay_recorded_google_traffic(capsys: pytest.CaptureFixture[str]) -> None:
    results = {p.stem: replay(p) for p in _scenarios()}
    passed = sorted(k for k, (r, _) in results.items() if r == "pass")
    failed = {k: d for k, (r, d) in results.items() if r == "fail"}
    out = {k: d for k, (r, d) in results.items() if r == "out-of-scope"}
    with capsys.disabled():
        print(
            f"\nrecorded scenarios: {len(results)}; pass {len(passed)}, fail {len(failed)}, "
            f"out of scope {len(out)}"
        )
        for k, d in sorted(out.items()):
            print(f"  out of scope  {k}: {d}")
        for k, d in sorted(failed.items()):
            print(f"  FAIL          {k}: {d}")
    assert len(results) == 124
    assert len(passed) + len(failed) + len(out) == len(results)
    assert len(passed) >= MIN_PASSING


def test_key_scenarios_pass() -> None:
    """Scenarios covering what the backend relies on: value updates and reads, ranges,
    trimmed blanks, batch get/update/clear, append, error envelopes."""
    base = shared_path(*RECORDED)
    for name in (
        "CellTest.test_a1_value",
        "ClientTest.test_access_non_existing_spreadsheet",
        "WorksheetTest.test_batch_get",
        "WorksheetTest.test_batch_update",
        "WorksheetTest.test_append_row",
        "WorksheetTest.test_batch_clear",
    ):
        path = base / f"{name}.json"
        if path.exists():
            assert replay(path) == ("pass", ""), name


def _schema_fields(doc: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for schema in doc["schemas"].values():
        names.update(schema.get("properties", {}))
    return names


def _emitted_fields(value: Any, out: set[str]) -> set[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(k)
            _emitted_fields(v, out)
    elif isinstance(value, list):
        for v in value:
            _emitted_fields(v, out)
    return out


def test_server_field_names_exist_in_the_discovery_document() -> None:
    doc = json.loads(shared_path(*DISCOVERY).read_text(encoding="utf-8"))
    known = _schema_fields(doc)
    server = SheetsServer()
    sid = server.create("Shop", {"Customers": [["Name", "When"], ["Ann", 45000]]})
    s = server.session()
    base = f"https://sheets.googleapis.com/v4/spreadsheets/{sid}"
    answers = [
        s.get(base, params={"includeGridData": "true"}).json(),
        s.get(base + "/values:batchGet", params={"ranges": ["Customers", "Customers!A1:B1"]}).json(),
        s.put(
            base + "/values/Customers!C1", params={"valueInputOption": "RAW"}, json={"values": [[1]]}
        ).json(),
        s.post(
            base + "/values:batchUpdate",
            json={"valueInputOption": "RAW", "data": [{"range": "Customers!D1", "values": [["x"]]}]},
        ).json(),
        s.post(
            base + "/values/Customers!A1:append", params={"valueInputOption": "RAW"}, json={"values": [[2]]}
        ).json(),
        s.post(base + "/values:batchClear", json={"ranges": ["Customers!D1"]}).json(),
        s.post(
            base + ":batchUpdate",
            json={
                "requests": [
                    {"addSheet": {"properties": {"title": "Tiers", "gridProperties": {"frozenRowCount": 2}}}},
                    {"addProtectedRange": {"protectedRange": {"range": {"sheetId": 0}, "warningOnly": True}}},
                ]
            },
        ).json(),
        s.get(base + "/values/Nope!A1").json(),
    ]
    emitted: set[str] = set()
    for a in answers:
        _emitted_fields(a, emitted)
    emitted -= {"error", "code", "message", "status", "details", "@type", "fieldViolations"}
    assert emitted - known == set()
