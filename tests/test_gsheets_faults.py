"""Faults injected into the local Sheets server: each run completes or fails cleanly with
nothing half-written. Nothing sleeps for real: the retry policy and rate limiter get a
fake sleep and clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sheets_server import Fault, SheetsServer

from sheet_crm.backends.gsheets import GoogleSheetsBackend, RateLimiter, RetryPolicy
from sheet_crm.errors import RemoteError, WorkbookChanged
from sheet_crm.workbook import CellEdit, ToolTab, WritePlan

WHEN = datetime(2026, 11, 22, 9, 30)
CUSTOMERS = [["Customer ID", "Name"], ["C1", "Ann"], [None, "Bob"]]


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def setup(attempts: int = 4) -> tuple[SheetsServer, str, GoogleSheetsBackend, FakeTime]:
    server = SheetsServer()
    sid = server.create("Shop", {"Customers": [list(r) for r in CUSTOMERS]})
    fake = FakeTime()
    backend = GoogleSheetsBackend(
        sid,
        session=server.session(),
        retry=RetryPolicy(attempts=attempts, sleep=fake.sleep, random=lambda: 0.5),
        limiter=RateLimiter(clock=fake.clock, sleep=fake.sleep),
    )
    return server, sid, backend, fake


def plan() -> WritePlan:
    tab = ToolTab("Tiers", ["Customer", "Tier"], [["C1", "Gold"], ["C2", "Silver"]])
    return WritePlan(
        tabs=[tab], edits=[CellEdit("Customers", 3, 1, None, "C2", "blank id")], generated_at=WHEN
    )


def written_ok(server: SheetsServer, sid: str) -> bool:
    tiers = server.grid(sid, "Tiers")
    return (
        tiers[1:] == [["Customer", "Tier"], ["C1", "Gold"], ["C2", "Silver"]]
        and server.grid(sid, "Customers")[2] == ["C2", "Bob"]
        and [s.title for s in server.files[sid].sheets] == ["Customers", "Tiers"]
    )


def nothing_written(server: SheetsServer, sid: str) -> bool:
    return [s.title for s in server.files[sid].sheets] == ["Customers"] and server.grid(sid, "Customers") == [
        ["Customer ID", "Name"],
        ["C1", "Ann"],
        ["", "Bob"],
    ]


@pytest.mark.parametrize("kind", ["429", "500", "503"])
@pytest.mark.parametrize("where", ["values:batchGet", ":batchUpdate", "values:batchUpdate", "drive/v3"])
def test_transient_errors_are_retried_and_the_run_completes(kind: str, where: str) -> None:
    server, sid, backend, fake = setup()
    server.faults.append(Fault(kind, match=where, times=2))
    wb = backend.read()
    backend.write(plan(), expected_version=wb.version)
    assert written_ok(server, sid)
    assert len(fake.slept) == 2  # two failures, two jittered waits
    assert [e.status for e in server.log].count(int(kind)) == 2


def test_quota_error_uses_googles_body_and_retry_after_is_honoured() -> None:
    server, sid, backend, fake = setup()
    server.faults.append(Fault("429", match="values:batchGet", retry_after="7"))
    backend.read()
    assert fake.slept == [7.0]
    body = server.session().get(
        f"https://sheets.googleapis.com/v4/spreadsheets/{sid}", params={"fields": "properties(title)"}
    )
    assert body.status_code == 200
    server.faults.append(Fault("429"))
    got = server.session().get(f"https://sheets.googleapis.com/v4/spreadsheets/{sid}").json()
    assert got["error"]["status"] == "RESOURCE_EXHAUSTED" and got["error"]["code"] == 429


def test_full_jitter_is_bounded() -> None:
    waits: list[float] = []
    policy = RetryPolicy(attempts=8, base=1.0, cap=8.0, sleep=waits.append, random=lambda: 1.0)
    for attempt in range(6):
        policy.wait(attempt)
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    zero = RetryPolicy(sleep=waits.append, random=lambda: 0.0)
    zero.wait(3)
    assert waits[-1] == 0.0  # full jitter: anywhere from zero


def test_slow_reads_time_out_and_are_retried() -> None:
    server, _sid, backend, fake = setup()
    server.faults.append(Fault("slow", match="values:batchGet", seconds=600))
    wb = backend.read()
    assert wb.tables["Customers"].rows[0].values == ["C1", "Ann"]
    assert len(fake.slept) == 1


def test_dropped_connection_after_the_structural_update_went_through_does_not_duplicate() -> None:
    """addSheet is not idempotent: after a dropped answer the backend looks again and
    sends only what is still owed, instead of adding the tab twice (or failing)."""
    server, sid, backend, _fake = setup()
    server.faults.append(Fault("drop", match=":batchUpdate", applied=True))
    wb = backend.read()
    report = backend.write(plan(), expected_version=wb.version)
    assert written_ok(server, sid)
    assert report.cells_edited == 1
    assert len(server.sheet(sid, "Tiers").protected) == 1


def test_dropped_connection_before_the_structural_update_resends_it() -> None:
    server, sid, backend, _fake = setup()
    server.faults.append(Fault("drop", match=":batchUpdate", applied=False))
    wb = backend.read()
    backend.write(plan(), expected_version=wb.version)
    assert written_ok(server, sid)


def test_persistent_failure_is_a_clean_error_with_nothing_written() -> None:
    server, sid, backend, _fake = setup(attempts=3)
    wb = backend.read()
    server.faults.append(Fault("503", match=":batchUpdate", times=10))
    with pytest.raises(RemoteError, match="kept failing after 3 attempts"):
        backend.write(plan(), expected_version=wb.version)
    assert nothing_written(server, sid)


def test_owner_edit_between_read_and_write_stops_the_run() -> None:
    server, sid, backend, _fake = setup()
    wb = backend.read()
    server.owner_edit(sid, "Customers", 2, 2, "Annie")
    before = len(server.log)
    with pytest.raises(WorkbookChanged, match="nothing was written"):
        backend.write(plan(), expected_version=wb.version)
    assert [e.method for e in server.log[before:]] == ["GET"]  # only the version check
    assert server.grid(sid, "Customers")[1] == ["C1", "Annie"]
    assert "Tiers" not in [s.title for s in server.files[sid].sheets]


def test_owner_edit_racing_the_write_is_caught_by_the_key_check() -> None:
    """The owner types into the very cell we fill, after our version check: the re-read in
    the structural update's answer sees it and that edit is skipped."""
    server, sid, backend, _fake = setup()
    wb = backend.read()

    def owner_types() -> None:
        server.owner_edit(sid, "Customers", 3, 1, "BOB-1")

    server.faults.append(Fault("edit", match=":batchUpdate", action=owner_types))
    report = backend.write(plan(), expected_version=wb.version)
    assert [e.row for e in report.skipped_edits] == [3]
    assert server.grid(sid, "Customers")[2] == ["BOB-1", "Bob"]


def test_rate_limit_keeps_below_sixty_a_minute() -> None:
    fake = FakeTime()
    limiter = RateLimiter(limit=50, window=60.0, clock=fake.clock, sleep=fake.sleep)
    stamps: list[float] = []
    for _ in range(120):
        limiter.acquire()
        stamps.append(fake.now)
        fake.now += 0.1
    for i, t in enumerate(stamps):
        in_window = [s for s in stamps[i:] if s - t < 60.0 - 1e-6]
        assert len(in_window) <= 50
    assert sum(fake.slept) > 60.0


def test_retry_does_not_resend_non_idempotent_without_rebuild() -> None:
    server, sid, backend, _fake = setup()
    server.faults.append(Fault("drop", match=":batchUpdate", applied=True))
    body: dict[str, Any] = {"requests": [{"addSheet": {"properties": {"title": "X"}}}]}
    from sheet_crm.backends.gsheets_http import _Ambiguous

    with pytest.raises(_Ambiguous):
        backend.http.call(
            "post",
            f"https://sheets.googleapis.com/v4/spreadsheets/{sid}:batchUpdate",
            body=body,
            idempotent=False,
        )
    assert [s.title for s in server.files[sid].sheets].count("X") == 1
