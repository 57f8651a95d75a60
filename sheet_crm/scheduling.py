"""Scheduled jobs: TOML job files, a crash-safe lock per workbook, the scheduler
loop (on the ``schedule`` package) and ``watch``.

A job file names a workbook, the steps, when to run, and where credentials are
(a path or an environment variable name, never the secret itself)::

    name = "Shop: every morning"
    workbook = "../demo/sheet-crm-demo.xlsx"   # relative to this file, or gsheet:ID
    steps = ["sync"]
    every = "day at 07:00"                     # "monday at 08:00", "15 minutes", "hour"
    timezone = "Europe/London"
    timeout_minutes = 30

    [credentials]
    service_account_file = "~/.config/sheet-crm/service-account.json"

``service_account_file`` may also be written at the top level, without ``[credentials]``.
Like ``workbook``, a relative key path is relative to the job file's folder.

This module is the machinery, not the job: ``Scheduler`` keeps the timetables and
the workbook locks and hands each due job to a runner it is given.
``subprocess_runner`` runs one job in a child process, so a job that hangs is stopped
at its timeout and a job that crashes (even the interpreter) cannot take the scheduler
down; the workbook write is atomic, so stopping a job leaves the workbook as it was or
fully written. What the child runs is the library's ``api.run_job`` (see
``api.run_job_isolated``): the api builds the child's command, so this module never
imports the api, which imports it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import threading
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import filelock
import schedule

from .errors import ConfigError, WorkbookLocked

log = logging.getLogger("sheet_crm.schedule")

STEP_NAMES = ("sync", "validate", "dedupe", "tiers", "segment", "drafts")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
UNITS = ("second", "minute", "hour", "day", "week")
_EVERY = re.compile(
    r"^\s*(?:every\s+)?(?:(?P<n>\d+)\s+)?(?P<unit>[a-z]+?)s?(?:\s+at\s+(?P<at>\d{1,2}:\d{2}(?::\d{2})?))?\s*$",
    re.IGNORECASE,
)
CREDENTIAL_KEYS = {"service_account_file", "service_account_env", "oauth", "adc"}
# service_account_file may also sit at the top level, as the README shows it.
ALLOWED_KEYS = {
    "name",
    "workbook",
    "steps",
    "every",
    "timezone",
    "timeout_minutes",
    "credentials",
    "enabled",
    "service_account_file",
}


@dataclass(frozen=True)
class Every:
    """When a job runs: every ``n`` ``unit`` (second..week or a weekday), ``at`` a time."""

    n: int
    unit: str
    at: str = ""

    def __str__(self) -> str:
        base = f"every {self.n} {self.unit}s" if self.n != 1 else f"every {self.unit}"
        return f"{base} at {self.at}" if self.at else base


@dataclass(frozen=True)
class Job:
    path: Path
    name: str
    workbook: str
    steps: tuple[str, ...]
    every: Every
    timezone: str = ""
    timeout_minutes: float = 30.0
    credentials: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True

    def backend_options(self) -> dict[str, Any]:
        """The job's credentials reference as backend options (``auth``, ``key_file``).
        Local workbooks need none. The secret itself is only ever read by the auth
        module, from the file named here."""
        if not self.workbook.startswith(("gsheet:", "https://")):
            return {}
        c = self.credentials
        if "service_account_file" in c:
            # load_job made it absolute (relative to the job file), whatever the current folder
            return {"auth": "service-account", "key_file": str(c["service_account_file"])}
        if "service_account_env" in c:
            name = str(c["service_account_env"])
            value = os.environ.get(name)
            if not value:
                raise ConfigError(
                    f"The job reads its key file's path from the environment variable {name}, "
                    "which is not set.",
                    f"Set {name} to the path of the service-account key file for the scheduler.",
                    where=str(self.path),
                )
            return {"auth": "service-account", "key_file": value}
        if c.get("oauth"):
            return {"auth": "oauth"}
        if c.get("adc"):
            return {"auth": "adc"}
        return {}

    @property
    def lock_key(self) -> str:
        """Jobs on the same workbook share a lock."""
        return lock_key(self.workbook)


def lock_key(workbook: str) -> str:
    """What names a workbook's lock: a Google Sheet's reference, or a local file's full path
    (so a job, ``run-job`` and ``watch`` on the same file share one lock, however each names it)."""
    if workbook.startswith(("gsheet:", "https://")):
        return workbook
    return str(Path(workbook).resolve())


def parse_every(text: str) -> Every:
    """'day at 07:00' / 'every monday at 08:00' / '15 minutes' -> Every; ValueError if not."""
    m = _EVERY.match(text or "")
    if not m:
        raise ValueError(text)
    n = int(m["n"] or 1)
    unit = m["unit"].lower()
    at = m["at"] or ""
    if unit in WEEKDAYS:
        if n != 1:
            raise ValueError(text)
    elif unit not in UNITS:
        raise ValueError(text)
    if n < 1:
        raise ValueError(text)
    if at:
        hh, mm = (int(p) for p in at.split(":")[:2])
        if hh > 23 or mm > 59 or unit in {"second", "week"}:
            raise ValueError(text)
        at = f"{hh:02d}:{mm:02d}" if unit not in {"minute", "hour"} else at
    return Every(n, unit, at)


def _line_of(text: str, key: str) -> int:
    for i, line in enumerate(text.splitlines(), 1):
        if re.match(rf"\s*{re.escape(key)}\s*=", line):
            return i
    return 1


def load_job(path: Path) -> Job:
    """Read one job file; a problem raises ``ConfigError`` naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"Cannot read the job file: {exc.strerror}.", "Check the path.", where=str(path)
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise ConfigError(
            f"This is not valid TOML: {exc}.",
            'Fix the line named; strings need quotes, e.g. every = "day at 07:00".',
            where=f"{path}:{m[1] if m else 1}",
        ) from None

    def bad(key: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(problem, fix, where=f"{path}:{_line_of(text, key)}")

    for key in data:
        if key not in ALLOWED_KEYS:
            raise bad(key, f"'{key}' is not a job setting.", f"Use only: {', '.join(sorted(ALLOWED_KEYS))}.")
    workbook = data.get("workbook")
    if not isinstance(workbook, str) or not workbook.strip():
        raise bad(
            "workbook",
            "The job does not say which workbook to use.",
            'Add a line such as workbook = "../my-crm.xlsx" or workbook = "gsheet:SHEET_ID".',
        )
    if not workbook.startswith(("gsheet:", "https://")):
        workbook = str((path.parent / Path(workbook).expanduser()).resolve())
    steps = data.get("steps", ["sync"])
    if isinstance(steps, str):
        steps = [steps]
    if not isinstance(steps, list) or not steps or any(s not in STEP_NAMES for s in steps):
        raise bad(
            "steps",
            f"steps must be a list of: {', '.join(STEP_NAMES)}; got {steps!r}.",
            'For example steps = ["sync"].',
        )
    every_text = data.get("every")
    if not isinstance(every_text, str):
        raise bad(
            "every",
            "The job does not say when to run.",
            'Add for example every = "day at 07:00", "monday at 08:00" or "15 minutes".',
        )
    try:
        every = parse_every(every_text)
    except ValueError:
        raise bad(
            "every",
            f"'{every_text}' is not a timetable sheet-crm understands.",
            'Write e.g. "day at 07:00", "monday at 08:00", "15 minutes" or "hour".',
        ) from None
    tz = data.get("timezone", "")
    if tz:
        import pytz

        try:
            pytz.timezone(tz)
        except pytz.UnknownTimeZoneError:
            raise bad(
                "timezone",
                f"'{tz}' is not a time zone.",
                'Use an IANA name such as "Europe/London" or "America/New_York".',
            ) from None
        if not every.at:
            raise bad(
                "timezone",
                "A time zone only matters with a time of day.",
                'Add "at HH:MM" to every, or remove timezone.',
            )
    timeout = data.get("timeout_minutes", 30)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise bad(
            "timeout_minutes",
            "timeout_minutes must be a positive number.",
            "For example timeout_minutes = 30.",
        )
    creds = data.get("credentials", {})
    if not isinstance(creds, dict):
        raise bad(
            "credentials",
            "credentials must be a table.",
            'Write [credentials] then service_account_file = "path/to/key.json".',
        )
    for key, value in creds.items():
        if key not in CREDENTIAL_KEYS:
            raise bad(
                key,
                f"'{key}' is not a credentials setting.",
                f"Use one of: {', '.join(sorted(CREDENTIAL_KEYS))}.",
            )
        if key in {"private_key", "token"} or (isinstance(value, str) and "BEGIN PRIVATE KEY" in value):
            raise bad(key, "A job file must not hold a secret.", "Point at a key file instead.")
    creds = dict(creds)
    top = data.get("service_account_file")
    if top is not None:
        inner = creds.get("service_account_file")
        if inner is not None and inner != top:
            raise bad(
                "service_account_file",
                "The job names two different key files (service_account_file at the top and "
                "in [credentials]).",
                "Keep one of them.",
            )
        creds["service_account_file"] = top
    if "service_account_file" in creds:
        creds["service_account_file"] = _key_path(creds["service_account_file"], path, bad)
    enabled = data.get("enabled", True)
    return Job(
        path,
        str(data.get("name") or path.stem),
        workbook,
        tuple(steps),
        every,
        tz,
        float(timeout),
        creds,
        bool(enabled),
    )


def _key_path(value: Any, job: Path, bad: Callable[[str, str, str], ConfigError]) -> str:
    """A key file named in a job file, as an absolute path: ``~`` is the home folder and a
    relative path is relative to the job file's folder (like ``workbook``), so the job
    means the same file whichever folder cron, systemd or the scheduler starts in."""
    if not isinstance(value, str) or not value.strip():
        raise bad(
            "service_account_file",
            "service_account_file must be the path of the key file, in quotes.",
            'For example service_account_file = "~/.config/sheet-crm/service-account.json".',
        )
    if "BEGIN PRIVATE KEY" in value:
        raise bad(
            "service_account_file", "A job file must not hold a secret.", "Point at a key file instead."
        )
    key = Path(value.strip()).expanduser()
    return str(key if key.is_absolute() else Path(os.path.abspath(job.parent / key)))


def job_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.toml") if p.is_file())


def check_jobs(folder: Path) -> tuple[list[Job], list[ConfigError]]:
    """Every job file in ``folder``: the good ones, and a ConfigError per bad one."""
    jobs: list[Job] = []
    problems: list[ConfigError] = []
    if not folder.is_dir():
        problems.append(
            ConfigError(
                f"{folder} is not a folder.", "Name the folder with the job files.", where=str(folder)
            )
        )
        return jobs, problems
    for path in job_files(folder):
        try:
            jobs.append(load_job(path))
        except ConfigError as exc:
            problems.append(exc)
    return jobs, problems


# ---------------------------------------------------------------- locks


def lock_path(job_or_key: Job | str) -> Path:
    key = job_or_key.lock_key if isinstance(job_or_key, Job) else job_or_key
    if not key.startswith(("gsheet:", "https://")):
        p = Path(key)
        return p.parent / f".{p.name}.sheet-crm.lock"
    import hashlib

    from platformdirs import user_data_dir

    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return Path(user_data_dir("sheet-crm")) / "locks" / f"{digest}.lock"


@contextmanager
def workbook_lock(key: str) -> Iterator[Path]:
    """Hold the lock of one workbook so no two sheet-crm runs overlap on it; a second
    run is refused at once with ``WorkbookLocked``.

    The lock is the operating system's (flock, or its Windows twin, through ``filelock``)
    on a file beside the workbook: a run that dies, however it dies, holds it no longer,
    so a crashed run never blocks the next one and no process number is ever judged. The
    file names the holder (process and host) only so that a refusal can say who it is.
    """
    path = lock_path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(path, timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        holder = _read_lock(path)
        who = f" (process {holder['pid']} on {holder['host']})" if {"pid", "host"} <= holder.keys() else ""
        raise WorkbookLocked(
            f"Another sheet-crm run{who} is working on this workbook.",
            "Wait for it to finish, then run again. (A run that stopped or crashed holds no lock, "
            "so this one is still going.)",
            where=key,
        ) from None
    try:
        # Best effort: on Windows the locked file may refuse a second handle.
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        with suppress(OSError):
            path.write_text(json.dumps(holder))
        yield path
    finally:
        # Removed while still held, so no lock file is left behind; a run that opened the
        # old file meanwhile finds it unlinked once it gets the lock and opens the path
        # afresh (filelock checks the link count).
        with suppress(OSError):
            path.unlink()
        lock.release()


def _read_lock(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# ---------------------------------------------------------------- running


@dataclass
class Outcome:
    job: str
    ok: bool
    started: datetime
    seconds: float
    message: str
    exit_code: int


Runner = Callable[[Job], Outcome]


def subprocess_runner(job: Job, command: Sequence[str]) -> Outcome:
    """Run one job as the child process ``command`` with the job's timeout. A hung job
    is stopped (SIGTERM, then SIGKILL) and reported; the scheduler carries on. The child
    is in its own session, so Ctrl-C on the scheduler's terminal stops the scheduler after
    the job instead of breaking the job. Exit codes 0 (clean) and 1 (the data has
    errors) are a job that ran; the child's ``Error:``/``Fix:`` lines on stderr are the
    outcome's message."""
    started = datetime.now()
    t0 = time.monotonic()
    proc = subprocess.Popen(
        list(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        _out, err = proc.communicate(timeout=job.timeout_minutes * 60)
    except subprocess.TimeoutExpired:
        proc.terminate()
        try:
            proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        return Outcome(
            job.name,
            False,
            started,
            time.monotonic() - t0,
            f"stopped after its timeout of {job.timeout_minutes:g} minutes",
            -1,
        )
    message = _last_error(err) or "done"
    return Outcome(
        job.name, proc.returncode in (0, 1), started, time.monotonic() - t0, message, proc.returncode
    )


def _last_error(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.startswith(("Error:", "Fix:"))]
    return " ".join(lines)


class Scheduler:
    """Runs jobs on their timetables until stopped.

    Built on ``schedule``: a run that was missed while the machine slept happens once
    when it wakes (``schedule`` runs an overdue job once, then plans the next run from
    now). Jobs on the same workbook never overlap: the scheduler holds the workbook's
    lock (``workbook_lock``) for as long as ``runner`` runs the job, so the runner must
    not take it again. A failing job is logged and simply runs again at its next time.
    ``stop()`` (SIGTERM, Ctrl-C) ends the loop after the job that is running.
    ``runner`` runs one job; ``api.schedule`` gives ``api.run_job_isolated``.
    """

    def __init__(
        self,
        jobs: Sequence[Job],
        runner: Runner,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.jobs = [j for j in jobs if j.enabled]
        self.runner = runner
        self.outcomes: list[Outcome] = []
        self._stop = threading.Event()
        self._sleep = sleep or (lambda s: self._stop.wait(s))
        self._schedule = schedule.Scheduler()
        for job in self.jobs:
            self._add(job)

    def _add(self, job: Job) -> None:
        e = job.every
        base = self._schedule.every(e.n)
        unit = e.unit + ("s" if e.n != 1 and e.unit not in WEEKDAYS else "")
        sched_job = getattr(base, unit)
        if e.at:
            sched_job = sched_job.at(e.at, job.timezone or None)
        sched_job.do(self._run_one, job)

    def _run_one(self, job: Job) -> None:
        try:
            with workbook_lock(job.lock_key):
                outcome = self.runner(job)
        except WorkbookLocked as exc:
            outcome = Outcome(job.name, False, datetime.now(), 0.0, f"skipped: {exc.message}", 3)
        except Exception as exc:  # a failing job must not kill the scheduler
            outcome = Outcome(job.name, False, datetime.now(), 0.0, f"failed: {type(exc).__name__}: {exc}", 3)
        self.outcomes.append(outcome)
        level = logging.INFO if outcome.ok else logging.ERROR
        log.log(
            level,
            "job=%r ok=%s seconds=%.1f exit=%s %s",
            outcome.job,
            outcome.ok,
            outcome.seconds,
            outcome.exit_code,
            outcome.message,
        )

    def next_runs(self) -> list[tuple[str, datetime | None]]:
        return [(j.job_func.args[0].name, j.next_run) for j in self._schedule.jobs]  # type: ignore[union-attr]

    def run_pending(self) -> None:
        """Run every job that is due (each at most once), stopping early if asked."""
        for sched_job in sorted(self._schedule.jobs):
            if self._stop.is_set():
                return
            if sched_job.should_run:
                self._schedule._run_job(sched_job)

    def stop(self, *_args: object) -> None:
        self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def run_forever(self, *, install_signals: bool = True, max_idle: float = 60.0) -> None:
        if install_signals:
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        while not self._stop.is_set():
            self.run_pending()
            idle = self._schedule.idle_seconds
            self._sleep(max(0.5, min(max_idle, idle if idle is not None else max_idle)))


# ---------------------------------------------------------------- watch


def lock_files_for(path: Path) -> list[Path]:
    """The lock files Excel and LibreOffice have beside a workbook they hold open (the same
    rule the xlsx backend refuses to write by, Excel's shortened ``~$`` name included)."""
    from .lockfiles import lock_files

    return lock_files(path)


@dataclass
class Watcher:
    """Runs ``action`` when a local workbook is saved: after its modification time
    has stayed the same for ``debounce`` seconds and no Excel/LibreOffice lock file
    is beside it. Our own writes change the file too: the fingerprint after an
    action is taken as seen, so a sync does not trigger itself. An action that returns
    False could not run yet (another run holds the workbook): the change stays
    pending and is tried again after another ``debounce``."""

    path: Path
    action: Callable[[], bool | None]
    debounce: float = 3.0
    clock: Callable[[], float] = time.monotonic
    _seen: tuple[int, int] | None = None
    _changed_at: float | None = None
    _pending: tuple[int, int] | None = None

    def fingerprint(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def start(self) -> None:
        self._seen = self.fingerprint()

    def poll(self) -> bool:
        """One look; True when the action ran."""
        fp = self.fingerprint()
        if fp is None or fp == self._seen:
            self._pending = None
            return False
        if fp != self._pending:
            self._pending, self._changed_at = fp, self.clock()
            return False
        if self._changed_at is not None and self.clock() - self._changed_at < self.debounce:
            return False
        if any(p.exists() for p in lock_files_for(self.path)):
            return False
        if self.action() is False:
            self._changed_at = self.clock()
            return False
        self._seen = self.fingerprint()
        self._pending = None
        return True
