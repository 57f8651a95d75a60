"""Pausing Python's cyclic garbage collector around bulk work.

Reading a workbook and running the steps build millions of small, long-lived objects
with no reference cycles. Each automatic pass of the cyclic collector walks all of
them again and finds nothing to free: measured, it made reading a 100k-row tab a
third slower and the tiers step four times slower. Reference counting still frees
everything; the collector is switched back on (if it was on) afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
