"""Test helpers shipped with the package (as httpx ships a mock transport).

``SheetsServer`` is a stateful, in-process stand-in for the Google Sheets v4 and
Drive v3 endpoints sheet-crm uses; tests and benchmarks reach it through an
ordinary ``requests.Session`` (``server.session()``), so the Google Sheets backend
runs unchanged against it. ``customers_workbook`` makes a one-tab ``.xlsx`` file.
"""

from __future__ import annotations

from .sheets_server import Fault, SheetsServer
from .workbooks import customers_workbook

__all__ = ["Fault", "SheetsServer", "customers_workbook"]
