"""A local stand-in for the Google Sheets v4 and Drive v3 APIs, for tests and benchmarks.

``SheetsServer`` is stateful and in-process; tests and benchmarks reach it through an
ordinary ``requests.Session`` (``server.session()``), so the Google Sheets backend runs
unchanged against it. It lives with the tests, not in the installed package: nothing an
owner runs needs it. Benchmarks put this folder on ``sys.path`` to import it.
"""

from __future__ import annotations

from .batch_update import IMPLEMENTED_REQUESTS
from .server import Fault, SheetsServer

__all__ = ["IMPLEMENTED_REQUESTS", "Fault", "SheetsServer"]
