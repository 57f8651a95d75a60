"""Settings: the owner's Settings tab over documented defaults.

Precedence (as click documents it): command line > environment
(``SHEET_CRM_<SETTING>``) > the Settings tab > defaults.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from .findings import FindingList, Severity
from .normalize import parse_bool, parse_number, text
from .workbook import OWNER_TABS, TAB_SETTINGS, TabChoice, Workbook, choose_tab, header_key


class Settings(BaseModel):
    business_name: str = Field("Our business", description="Signs drafts and the Dashboard.")
    sender_name: str = Field("", description="Who drafts are from.")
    sender_email: str = Field("", description="From address of exported email drafts.")
    currency: str = Field("", description="Currency symbol or code shown with amounts.")
    default_country: str = Field(
        "GB",
        description="Two-letter country for phone numbers "
        "without a country code, and for reading local dates.",
    )
    date_order: str = Field(
        "",
        description="'day first' or 'month first' for dates like "
        "03/04/2025; blank = from the default country.",
    )
    timezone: str = Field("UTC", description="The business's time zone (IANA name).")
    tier_platinum: float = Field(50.0, description="Customers making the first N% of revenue.")
    tier_gold: float = Field(80.0, description="... up to N% of revenue.")
    tier_silver: float = Field(95.0, description="... up to N% of revenue; the rest are Bronze.")
    contact_frequency_days: int = Field(
        14, description="Never draft for a customer contacted in the last N days."
    )
    quiet_hours: str = Field("20:00-09:00", description="No suggested send time in this window.")
    birthday_days_before: int = Field(7, description="Birthday drafts this many days before.")
    win_back_days: int = Field(
        180,
        description="Lapsed after this many days with no order "
        "(or 3x the customer's usual gap, whichever is longer).",
    )
    keep_in_touch_days: int = Field(
        90, description="Top-tier customers not contacted for N days get a keep-in-touch draft."
    )
    low_satisfaction: float = Field(
        2.0, description="A satisfaction at or below this (1-5 scale) triggers service recovery."
    )
    service_recovery_days: int = Field(
        30,
        description="A low satisfaction score this recent (and no contact since) triggers service recovery.",
    )
    thank_you_days: int = Field(14, description="A first order this recent gets a thank-you draft.")
    referral_thanks_days: int = Field(
        30, description="A referred customer's first order this recent gets the referrer a thank-you draft."
    )
    new_customer_days: int = Field(
        90, description="A customer is new for this many days after their first order."
    )
    check_domains: bool = Field(False, description="Look up email domains (needs the network).")
    # Which tab to read as each owner tab, when several could be it (a 'Contacts' tab of
    # suppliers beside 'Clients'): blank = the only one, or the one named exactly so.
    customers_tab: str = Field("", description="The tab to read as Customers when several could be.")
    orders_tab: str = Field("", description="The tab to read as Orders when several could be.")
    interactions_tab: str = Field("", description="The tab to read as Interactions when several could be.")
    segments_tab: str = Field("", description="The tab to read as Segments when several could be.")
    templates_tab: str = Field("", description="The tab to read as Templates when several could be.")
    settings_tab: str = Field(
        "",
        description="The tab to read as Settings when several could be; only from the environment "
        "(SHEET_CRM_SETTINGS_TAB) or a caller's settings, since it says which tab the settings are in.",
    )

    def tab_choice(self, kind: str) -> str:
        """The owner's choice of tab for an owner tab kind ('' when none)."""
        return str(getattr(self, TAB_SETTINGS.get(kind, ""), "") or "")

    @property
    def day_first(self) -> bool:
        order = header_key(self.date_order)
        if order.startswith("month") or order in {"mdy", "us"}:
            return False
        if order.startswith("day") or order in {"dmy"}:
            return True
        return self.default_country.upper() not in MONTH_FIRST_COUNTRIES


MONTH_FIRST_COUNTRIES = {"US", "PH", "FM", "MH", "PW", "BZ"}

_KEYS = {header_key(name): name for name in Settings.model_fields}
_KEYS.update(
    {
        header_key(a): n
        for a, n in {
            "business": "business_name",
            "company name": "business_name",
            "shop name": "business_name",
            "sender": "sender_name",
            "from name": "sender_name",
            "from email": "sender_email",
            "reply to": "sender_email",
            "country": "default_country",
            "time zone": "timezone",
            "frequency cap": "contact_frequency_days",
            "contact frequency cap": "contact_frequency_days",
            "contact frequency": "contact_frequency_days",
            "platinum": "tier_platinum",
            "gold": "tier_gold",
            "silver": "tier_silver",
            "platinum cut off": "tier_platinum",
            "gold cut off": "tier_gold",
            "silver cut off": "tier_silver",
        }.items()
    }
)


def load_settings(
    workbook: Workbook | None,
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    findings: FindingList | None = None,
) -> tuple[Settings, dict[str, str]]:
    """Settings from the Settings tab, the environment and ``overrides`` (the command
    line), in rising precedence. Returns the settings and, per setting that is not a
    default, where it came from (``'Settings!B4'``, ``'environment'``, ``'command line'``).
    A value that cannot be used is a finding and the default stands."""
    findings = findings if findings is not None else FindingList()
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    table = workbook.find("Settings", settings_tab_choice(overrides, environ)) if workbook else None
    if table is not None and table.has("setting") and table.has("value"):
        for row in table.rows:
            key = header_key(table.value(row, "setting"))
            raw = table.value(row, "value")
            if not key:
                continue
            name = _KEYS.get(key)
            loc = table.location(row, "value")
            if name == "settings_tab":
                findings.add(
                    "setting-in-wrong-place",
                    Severity.WARNING,
                    table.location(row, "setting"),
                    "The settings tab cannot be chosen inside a Settings tab (sheet-crm has to know "
                    "which tab holds the settings before it reads them), so this row is ignored.",
                    "Delete this row; if several tabs could be Settings, set the environment "
                    "variable SHEET_CRM_SETTINGS_TAB instead.",
                    value=raw,
                )
                continue
            if name is None:
                findings.add(
                    "unknown-setting",
                    Severity.WARNING,
                    table.location(row, "setting"),
                    f"'{text(table.value(row, 'setting'))}' is not a setting sheet-crm "
                    f"knows, so it is ignored.",
                    "Check the spelling; `sheet-crm settings` lists every setting.",
                    value=table.value(row, "setting"),
                )
                continue
            ok, value = _coerce(name, raw)
            if not ok:
                findings.add(
                    "bad-setting",
                    Severity.ERROR,
                    loc,
                    f"The setting '{name.replace('_', ' ')}' cannot be '{text(raw)}'; "
                    f"the default ({Settings.model_fields[name].default}) is used.",
                    f"Type a {_kind(name)}.",
                    value=raw,
                )
                continue
            if value is not None:
                values[name] = value
                origin[name] = loc.cell
    for name in Settings.model_fields:
        env = environ.get("SHEET_CRM_" + name.upper())
        if env is not None:
            ok, value = _coerce(name, env)
            if ok and value is not None:
                values[name] = value
                origin[name] = "environment"
    for name, value in (overrides or {}).items():
        if value is not None and name in Settings.model_fields:
            values[name] = value
            origin[name] = "command line"
    return Settings(**values), origin


def settings_tab_choice(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> str:
    """The owner's choice of Settings tab: the caller's settings (``api.run(settings=...)``),
    else the environment."""
    environ = os.environ if environ is None else environ
    chosen = (overrides or {}).get("settings_tab") or environ.get("SHEET_CRM_SETTINGS_TAB") or ""
    return str(chosen)


def owner_tab_choices(
    workbook: Workbook,
    overrides: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> dict[str, TabChoice]:
    """Which tab is read as each owner tab kind, and why, without raising: what
    ``sheet-crm tabs`` shows. When the Settings tab itself cannot be chosen, the other
    choices come from the environment and the command line alone."""
    environ = os.environ if environ is None else environ
    settings_choice = choose_tab(workbook.tables, "Settings", settings_tab_choice(overrides, environ))
    readable = workbook if not settings_choice.problem else None
    cfg, _origin = load_settings(readable, overrides, environ=environ)
    choices = {kind: choose_tab(workbook.tables, kind, cfg.tab_choice(kind)) for kind in OWNER_TABS}
    choices["Settings"] = settings_choice
    return choices


# The range a numeric setting may take. Days are at most a century: every step adds
# them to dates, and a date a million years away cannot be made (the run would fail).
_RANGES: dict[str, tuple[float, float]] = {
    **{name: (0, 36_500) for name, f in Settings.model_fields.items() if f.annotation is int},
    "tier_platinum": (0, 100),
    "tier_gold": (0, 100),
    "tier_silver": (0, 100),
    "low_satisfaction": (0, 10),
}


def _kind(name: str) -> str:
    annotation = Settings.model_fields[name].annotation
    kind = {int: "whole number", float: "number", bool: "yes or no"}.get(annotation, "text")  # type: ignore[arg-type]
    if name in _RANGES:
        low, high = _RANGES[name]
        kind += f" from {low:,g} to {high:,g}"
    return kind


def _coerce(name: str, raw: Any) -> tuple[bool, Any]:
    annotation = Settings.model_fields[name].annotation
    if annotation is bool:
        b, problem = parse_bool(raw)
        return not problem, b
    if annotation in (int, float):
        t = text(raw).rstrip("%").strip()
        if not t:
            return True, None
        n, problem = parse_number(t)
        if problem or n is None:
            return False, None
        low, high = _RANGES.get(name, (float("-inf"), float("inf")))
        if not low <= n <= high:
            return False, None
        if annotation is int:
            return n.is_integer(), int(n)
        return True, n
    t = text(raw)
    return True, (t or None)
