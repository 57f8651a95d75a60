"""sheet-crm: the spreadsheet a small business already keeps, made into a CRM.

The curated public API; everything else is internal and may change.
"""

from __future__ import annotations

from ._version import __version__
from .api import RunReport, run
from .backends import Backend, MemoryBackend, open_backend
from .config import Settings, load_settings
from .errors import SheetCrmError
from .findings import Finding, Location, Severity
from .model import Customer, Interaction, Order, Records, build_records
from .workbook import CellEdit, ToolTab, Workbook, WritePlan

__all__ = [
    "Backend",
    "CellEdit",
    "Customer",
    "Finding",
    "Interaction",
    "Location",
    "MemoryBackend",
    "Order",
    "Records",
    "RunReport",
    "Settings",
    "Severity",
    "SheetCrmError",
    "ToolTab",
    "Workbook",
    "WritePlan",
    "__version__",
    "build_records",
    "load_settings",
    "open_backend",
    "run",
]
