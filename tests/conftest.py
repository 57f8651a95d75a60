"""Shared fixtures. `today` is fixed; nothing here touches the network."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TODAY = date(2026, 11, 22)


def shared_path(*parts: str) -> Path:
    """A path under ../shared. Outside CI a missing ../shared skips the test; in CI it
    fails loudly, because then the test would prove nothing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"{path} is missing (tests read the shared data from ../shared)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def soffice_path() -> str:
    """LibreOffice's command; skip outside CI when it is not installed, fail in CI."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        message = "LibreOffice is not installed (.ci/run installs libreoffice-calc-nogui)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return exe


@pytest.fixture
def today() -> date:
    return TODAY


@pytest.fixture
def shared() -> Path:
    return shared_path()
