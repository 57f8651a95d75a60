"""Storage backends: the only code that reads or writes a workbook."""

from __future__ import annotations

from .base import Backend, open_backend
from .memory import MemoryBackend

__all__ = ["Backend", "MemoryBackend", "open_backend"]
