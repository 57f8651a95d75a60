#!/usr/bin/env python3
"""Set up everything and run: `python3 dev.py demo` or `python3 dev.py test`.

Needs only Python 3.11+ with pip and venv. Creates `.venv/` beside this file and
installs the project with its dev tools into it (again only when pyproject.toml
changed), then runs the demo, or ruff, the import-layer contracts (lint-imports) and
the whole test suite.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".sheet-crm-installed"


def ensure_env() -> None:
    # This file runs under whatever python3 the user has, which may be older than ours.
    if sys.version_info < (3, 11):  # noqa: UP036
        sys.exit(f"sheet-crm needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PY.exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("Installing sheet-crm and its dependencies into .venv ...", flush=True)
    subprocess.run([str(PY), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([str(PY), "-m", "pip", "install", "-q", "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test"}:
        print(__doc__)
        return 2
    ensure_env()
    if argv[0] == "demo":
        return subprocess.call([str(BIN / "sheet-crm"), "demo", *argv[1:]], cwd=ROOT)
    lint = subprocess.call([str(PY), "-m", "ruff", "check", "."], cwd=ROOT)
    # The layering contracts in pyproject.toml ([tool.importlinter]).
    layers = subprocess.call([str(BIN / "lint-imports")], cwd=ROOT)
    tests = subprocess.call([str(PY), "-m", "pytest", "-n", "2", "-q", *argv[1:]], cwd=ROOT)
    return tests or lint or layers


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
