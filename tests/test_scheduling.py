"""Job files, locks, the scheduler (driven by a fake clock: nothing sleeps) and watch."""

from __future__ import annotations

import datetime as real_datetime
import json
import os
import subprocess
import sys
import time
import types
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import schedule as schedule_module

from sheet_crm.errors import ConfigError, WorkbookLocked
from sheet_crm.scheduling import (
    Every,
    Job,
    Outcome,
    Scheduler,
    Watcher,
    check_jobs,
    load_job,
    lock_path,
    parse_every,
    subprocess_runner,
    workbook_lock,
)

ROOT = Path(__file__).resolve().parent.parent


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    """Make the `schedule` package see a clock the test moves by hand."""
    fake = FakeClock(datetime(2026, 11, 23, 6, 0))  # a Monday

    class FakeDatetime(real_datetime.datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            if tz is not None:
                return tz.localize(fake.now) if hasattr(tz, "localize") else fake.now.replace(tzinfo=tz)
            return fake.now

    shim = types.SimpleNamespace(
        **{k: getattr(real_datetime, k) for k in dir(real_datetime) if not k.startswith("__")}
    )
    shim.datetime = FakeDatetime
    monkeypatch.setattr(schedule_module, "datetime", shim)
    yield fake


HOURLY = Every(1, "hour")


def job(
    tmp_path: Path, name: str = "j", every: Every = HOURLY, workbook: str = "wb.xlsx", timeout: float = 30
) -> Job:
    return Job(
        tmp_path / f"{name}.toml", name, str(tmp_path / workbook), ("sync",), every, timeout_minutes=timeout
    )


def ok_runner(calls: list[str]):  # type: ignore[no-untyped-def]
    def run(j: Job) -> Outcome:
        calls.append(j.name)
        return Outcome(j.name, True, datetime.now(), 0.0, "done", 0)

    return run


# ---------------------------------------------------------------- job files


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("day at 07:00", Every(1, "day", "07:00")),
        ("every monday at 8:30", Every(1, "monday", "08:30")),
        ("15 minutes", Every(15, "minute")),
        ("every hour", Every(1, "hour")),
        ("2 weeks", Every(2, "week")),
    ],
)
def test_parse_every(text: str, expected: Every) -> None:
    assert parse_every(text) == expected


@pytest.mark.parametrize("text", ["", "daily-ish", "day at 25:00", "3 mondays", "0 minutes", "week at 07:00"])
def test_parse_every_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_every(text)


def test_example_jobs_are_valid() -> None:
    jobs, problems = check_jobs(ROOT / "sync_jobs")
    assert problems == []
    assert {j.path.name for j in jobs} >= {"demo-daily.toml", "demo-monday-drafts.toml"}
    assert all("secret" not in json.dumps(j.credentials).lower() for j in jobs)


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ('workbook = "a.xlsx"\nsteps = ["sync"]\nevery = "daily-ish"\n', 3, "timetable"),
        ('workbook = "a.xlsx"\nsteps = ["sink"]\nevery = "hour"\n', 2, "steps must be"),
        ('steps = ["sync"]\nevery = "hour"\n', 1, "which workbook"),
        ('workbook = "a.xlsx"\n\nevery = "hour"\ncolour = "red"\n', 4, "not a job setting"),
        ('workbook = "a.xlsx"\nevery = "hour"\ntimezone = "Mars/Base"\n', 3, "not a time zone"),
        ('workbook = "a.xlsx"\nevery = hour\n', 2, "not valid TOML"),
        ('workbook = "a.xlsx"\nevery = "hour"\n[credentials]\nprivate_key = "x"\n', 4, "credentials setting"),
    ],
)
def test_bad_job_files_point_at_the_line(tmp_path: Path, body: str, line: int, words: str) -> None:
    path = tmp_path / "job.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as exc:
        load_job(path)
    assert exc.value.where == f"{path}:{line}"
    assert words in exc.value.message and exc.value.fix


def test_jobs_check_cli_exit_codes(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sheet_crm.cli import cli

    (tmp_path / "good.toml").write_text('workbook = "a.xlsx"\nevery = "hour"\n')
    result = CliRunner().invoke(cli, ["jobs", "check", str(tmp_path)])
    assert result.exit_code == 0 and "ok   good.toml" in result.output
    (tmp_path / "bad.toml").write_text('workbook = "a.xlsx"\nevery = "sometimes"\n')
    result = CliRunner().invoke(cli, ["jobs", "check", str(tmp_path)])
    assert result.exit_code == 2 and f"FAIL {tmp_path / 'bad.toml'}:2" in result.output


# ---------------------------------------------------------------- locks


def test_lock_blocks_a_second_holder_and_is_released(tmp_path: Path) -> None:
    key = str(tmp_path / "wb.xlsx")
    with workbook_lock(key):
        assert lock_path(key).exists()
        with pytest.raises(WorkbookLocked), workbook_lock(key):
            pass
    assert not lock_path(key).exists()


def test_stale_locks_are_taken_over(tmp_path: Path) -> None:
    import socket

    key = str(tmp_path / "wb.xlsx")
    path = lock_path(key)
    dead_pid = 2**22 + 12345  # beyond pid_max on this machine: no such process
    path.write_text(json.dumps({"pid": dead_pid, "host": socket.gethostname(), "started": 1e12}))
    with workbook_lock(key):
        assert json.loads(path.read_text())["pid"] == os.getpid()
    path.write_text(json.dumps({"pid": os.getpid(), "host": "elsewhere", "started": 0}))
    with workbook_lock(key):  # very old, another host: no lock holds it
        pass
    path.write_text("not json")
    with workbook_lock(key):  # unreadable: stale
        pass
    # A process number reused by a live process (here: this one, just now) no longer
    # blocks: only a lock the operating system holds does.
    path.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}))
    with workbook_lock(key):
        pass
    assert not path.exists()


def test_a_crashed_holders_lock_dies_with_it(tmp_path: Path) -> None:
    key = str(tmp_path / "wb.xlsx")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from sheet_crm.scheduling import workbook_lock\n"
            "with workbook_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(120)",
            key,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(WorkbookLocked) as refused, workbook_lock(key):
            pass
        assert f"process {holder.pid} on" in refused.value.message
        holder.kill()  # SIGKILL: no finally, no clean-up; the lock file stays behind
        holder.wait()
        assert lock_path(key).exists()
        with workbook_lock(key):
            assert json.loads(lock_path(key).read_text())["pid"] == os.getpid()
    finally:
        holder.kill()
        holder.wait()


# ---------------------------------------------------------------- scheduler


def test_runs_on_time_and_a_missed_run_happens_once(clock: FakeClock, tmp_path: Path) -> None:
    calls: list[str] = []
    s = Scheduler([job(tmp_path, "morning", Every(1, "day", "07:00"))], runner=ok_runner(calls))
    s.run_pending()
    assert calls == []
    clock.advance(hours=1, minutes=1)
    s.run_pending()
    assert calls == ["morning"]
    s.run_pending()
    assert calls == ["morning"]
    clock.advance(days=3)  # the machine slept through three 07:00s
    s.run_pending()
    s.run_pending()
    assert calls == ["morning", "morning"]


def test_jobs_on_one_workbook_never_overlap(clock: FakeClock, tmp_path: Path) -> None:
    outcomes: list[Outcome] = []

    def runner(j: Job) -> Outcome:
        if j.name == "first":
            # While "first" holds the workbook, "second" (same workbook) comes due.
            s._run_one(second)
        return Outcome(j.name, True, datetime.now(), 0.0, "done", 0)

    first = job(tmp_path, "first", Every(15, "minute"))
    second = job(tmp_path, "second", Every(15, "minute"))
    s = Scheduler([first], runner=runner)
    clock.advance(minutes=16)
    s.run_pending()
    outcomes = s.outcomes
    assert [(o.job, o.ok) for o in outcomes] == [("second", False), ("first", True)]
    assert "skipped" in outcomes[0].message and "Another sheet-crm run" in outcomes[0].message


def test_a_failing_job_is_logged_and_runs_again_next_time(
    clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[int] = []

    def runner(j: Job) -> Outcome:
        attempts.append(1)
        raise RuntimeError("disk on fire")

    s = Scheduler([job(tmp_path, "flaky", Every(1, "hour"))], runner=runner)
    with caplog.at_level("ERROR", logger="sheet_crm.schedule"):
        clock.advance(minutes=61)
        s.run_pending()
        clock.advance(minutes=61)
        s.run_pending()
    assert len(attempts) == 2
    assert [o.ok for o in s.outcomes] == [False, False]
    assert "disk on fire" in caplog.text
    assert not lock_path(str(tmp_path / "wb.xlsx")).exists()


def test_stop_during_a_job_ends_after_that_job(clock: FakeClock, tmp_path: Path) -> None:
    calls: list[str] = []

    def runner(j: Job) -> Outcome:
        calls.append(j.name)
        s.stop()  # SIGTERM arrives while this job runs
        return Outcome(j.name, True, datetime.now(), 0.0, "done", 0)

    s = Scheduler(
        [job(tmp_path, "a", Every(1, "hour"), "a.xlsx"), job(tmp_path, "b", Every(1, "hour"), "b.xlsx")],
        runner=runner,
    )
    clock.advance(minutes=61)
    s.run_forever(install_signals=False)  # returns: stopped
    assert calls == ["a"]
    assert s.outcomes[0].ok


def test_a_hung_job_is_stopped_at_its_timeout(tmp_path: Path) -> None:
    j = job(tmp_path, "hangs", timeout=0.5 / 60)  # half a second
    outcome = subprocess_runner(j, command=[sys.executable, "-c", "import time; time.sleep(60)"])
    assert not outcome.ok
    assert "timeout" in outcome.message
    assert outcome.seconds < 15


def test_job_exit_codes_map_to_outcomes(tmp_path: Path) -> None:
    j = job(tmp_path)
    assert subprocess_runner(j, command=[sys.executable, "-c", "raise SystemExit(1)"]).ok  # data errors
    failed = subprocess_runner(
        j,
        command=[
            sys.executable,
            "-c",
            "import sys; print('Error: no such file', file=sys.stderr); sys.exit(3)",
        ],
    )
    assert not failed.ok and failed.message == "Error: no such file"


def test_the_scheduler_runs_a_real_job_through_the_library_in_a_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scheduler holds the workbook's lock while its child runs ``api.run_job``: the
    child must not be refused by its own scheduler's lock, and writes the workbook."""
    from functools import partial

    from conftest import TODAY

    from sheet_crm import api
    from sheet_crm.backends.xlsx import XlsxBackend
    from sheet_crm.demo import write_demo

    monkeypatch.setenv("SHEET_CRM_LOG_DIR", str(tmp_path / "logs"))
    wb = write_demo(tmp_path / "crm.xlsx", customers=20, seed=2, today=TODAY)
    path = tmp_path / "tiers.toml"
    path.write_text('name = "Tiers"\nworkbook = "crm.xlsx"\nsteps = ["tiers"]\nevery = "hour"\n')
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "Broken"\nworkbook = "missing.xlsx"\nevery = "hour"\n')
    s = Scheduler([load_job(path), load_job(broken)], runner=partial(api.run_job_isolated))
    for j in s.jobs:
        s._run_one(j)
    good, bad = s.outcomes
    # 1: it ran, and the demo has errors in its data on purpose
    assert (good.job, good.ok, good.exit_code, good.message) == ("Tiers", True, 1, "done"), good
    assert {"Tiers", "Runs"} <= set(XlsxBackend(wb).read().tables)
    assert (bad.ok, bad.exit_code) == (False, 3)
    assert bad.message.startswith("Error: ") and "missing.xlsx" in bad.message and "Fix: " in bad.message
    assert not lock_path(str(wb)).exists()


# ---------------------------------------------------------------- watch


def test_watch_debounces_and_waits_for_excel_to_close(tmp_path: Path) -> None:
    wb = tmp_path / "crm.xlsx"
    wb.write_bytes(b"v1")
    now = [0.0]
    runs: list[int] = []
    w = Watcher(wb, lambda: runs.append(1), debounce=3, clock=lambda: now[0])
    w.start()
    assert not w.poll()
    wb.write_bytes(b"v2-longer")  # the owner saves
    assert not w.poll()  # change seen, waiting for it to settle
    now[0] = 1
    assert not w.poll()
    lock = tmp_path / "~$crm.xlsx"
    lock.write_bytes(b"")
    now[0] = 5
    assert not w.poll()  # still open in Excel
    lock.unlink()
    assert w.poll() and runs == [1]
    assert not w.poll()  # our own result counts as seen


def test_credentials_reference_becomes_backend_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def load(body: str) -> Job:
        path = tmp_path / "g.toml"
        path.write_text('workbook = "gsheet:abc"\nevery = "hour"\n' + body)
        return load_job(path)

    key = load('[credentials]\nservice_account_file = "~/keys/sa.json"\n').backend_options()
    assert key == {"auth": "service-account", "key_file": str(Path("~/keys/sa.json").expanduser())}
    assert load("[credentials]\noauth = true\n").backend_options() == {"auth": "oauth"}
    assert load("[credentials]\nadc = true\n").backend_options() == {"auth": "adc"}
    env_job = load('[credentials]\nservice_account_env = "SHOP_KEY"\n')
    monkeypatch.delenv("SHOP_KEY", raising=False)
    with pytest.raises(ConfigError) as exc:
        env_job.backend_options()
    assert "SHOP_KEY" in exc.value.message
    monkeypatch.setenv("SHOP_KEY", "/secure/sa.json")
    assert env_job.backend_options() == {"auth": "service-account", "key_file": "/secure/sa.json"}
    local = tmp_path / "local.toml"
    local.write_text('workbook = "a.xlsx"\nevery = "hour"\n[credentials]\noauth = true\n')
    assert load_job(local).backend_options() == {}


@pytest.mark.parametrize(
    "credentials",
    ['service_account_file = "keys/sa.json"\n', '[credentials]\nservice_account_file = "keys/sa.json"\n'],
)
def test_a_key_file_is_named_where_the_readme_says_and_found_from_the_job_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, credentials: str
) -> None:
    folder = tmp_path / "jobs"
    folder.mkdir()
    path = folder / "g.toml"
    path.write_text('workbook = "gsheet:abc"\nevery = "hour"\n' + credentials)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # cron and systemd start in some other folder
    options = load_job(path).backend_options()
    assert options == {"auth": "service-account", "key_file": str(folder / "keys" / "sa.json")}


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            'service_account_file = "a.json"\n[credentials]\nservice_account_file = "b.json"\n',
            "two different key files",
        ),
        ("service_account_file = 3\n", "must be the path of the key file"),
        ('service_account_file = "-----BEGIN PRIVATE KEY-----abc"\n', "must not hold a secret"),
    ],
)
def test_a_key_file_setting_that_cannot_be_used_is_refused(tmp_path: Path, body: str, words: str) -> None:
    path = tmp_path / "g.toml"
    path.write_text('workbook = "gsheet:abc"\nevery = "hour"\n' + body)
    with pytest.raises(ConfigError) as err:
        load_job(path)
    assert words in err.value.message and err.value.where == f"{path}:3"
