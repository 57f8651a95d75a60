"""The run log: one line per run to stderr and to a rotating file in the user's
log folder (``SHEET_CRM_LOG_DIR`` overrides it). No personal data: counts only."""

from __future__ import annotations

import json
import logging
import logging.handlers
import os
from pathlib import Path
from typing import Any

from platformdirs import user_log_dir

LOGGER = "sheet_crm"


def log_dir() -> Path:
    return Path(os.environ.get("SHEET_CRM_LOG_DIR") or user_log_dir("sheet-crm", appauthor=False))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
        }
        payload.update(getattr(record, "fields", {}))
        return json.dumps(payload, default=str)


def setup_logging(*, as_json: bool = False, to_file: bool = True) -> Path | None:
    """Log to stderr and (best effort) to ``sheet-crm.log`` in the log folder, rotated
    at 1 MB with 5 old files kept. Returns the log file path, or None."""
    logger = logging.getLogger(LOGGER)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    for h in list(logger.handlers):
        logger.removeHandler(h)
        h.close()
    fmt: logging.Formatter = (
        JsonFormatter()
        if as_json
        else logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    stream = logging.StreamHandler()
    stream.setFormatter(fmt)
    logger.addHandler(stream)
    if not to_file:
        return None
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "sheet-crm.log"
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=5, encoding="utf-8"
        )
        handler.setFormatter(
            JsonFormatter()
            if as_json
            else logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
        )
        logger.addHandler(handler)
        return path
    except OSError:
        logger.warning("Cannot write the log file in %s; logging to the terminal only.", log_dir())
        return None


def run_line(report: Any) -> tuple[str, dict[str, Any]]:
    """The one log line for a finished run (counts only, no customer data)."""
    fields = {
        "workbook": report.source,
        "steps": ",".join(report.steps),
        "seconds": round((report.finished - report.started).total_seconds(), 2),
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "unchanged": report.unchanged,
        "tabs": ",".join(report.written.tabs_written) if report.written else "",
    }
    text = " ".join(f"{k}={v}" for k, v in fields.items())
    return f"run {text}", fields
