"""Validation of the Settings tab: the values the rest of the run relies on."""

from __future__ import annotations

from ...config import _KEYS as SETTING_KEYS
from ...config import Settings
from ...findings import Location
from ...model import Records, default_region
from ...workbook import header_key
from .report import Reporter


def check_settings(rep: Reporter, records: Records, settings: Settings) -> str:
    """Report settings that cannot be used; the country phone numbers without a
    country code are read for (``""`` when the setting names none phonenumbers knows)."""
    region = default_region(settings)
    if not region:
        rep.add(
            "setting-country-unknown",
            _location(records, "default_country"),
            value=settings.default_country,
        )
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(settings.timezone)
    except Exception:  # zoneinfo raises ValueError, KeyError, OSError or its own subclasses
        rep.add("setting-timezone-unknown", _location(records, "timezone"), value=settings.timezone)
    s = settings
    if not (0 < s.tier_platinum < s.tier_gold < s.tier_silver <= 100):
        rep.add(
            "setting-tier-order",
            _location(records, "tier_platinum", "tier_gold", "tier_silver"),
            value=f"{s.tier_platinum:g} / {s.tier_gold:g} / {s.tier_silver:g}",
        )
    order = header_key(s.date_order)
    if order and not (order.startswith(("day", "month")) or order in {"dmy", "mdy", "us"}):
        rep.add("setting-date-order-unknown", _location(records, "date_order"), value=s.date_order)
    return region


def _location(records: Records, *names: str) -> Location:
    """The Value cell of the first of ``names`` typed in the Settings tab."""
    table = records.tables.get("Settings")  # build_records chose it (or there is none)
    if table is None:
        return Location("Settings")
    if table.has("setting"):
        for row in table.rows:
            if SETTING_KEYS.get(header_key(table.value(row, "setting"))) in names:
                return table.location(row, "value")
    return Location(table.name)
