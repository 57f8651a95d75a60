"""Settings: tab < environment < command line, with findings for bad values."""

from __future__ import annotations

from sheet_crm.backends.memory import MemoryBackend
from sheet_crm.config import Settings, load_settings
from sheet_crm.findings import FindingList


def test_precedence_and_origin() -> None:
    wb = MemoryBackend(
        {
            "Settings": [
                ["Setting", "Value"],
                ["Business name", "Tea Rooms"],
                ["Frequency cap", "21"],
                ["Gold", "75%"],
                ["Country", "US"],
            ]
        }
    ).read()
    s, origin = load_settings(
        wb, {"contact_frequency_days": 30}, environ={"SHEET_CRM_BUSINESS_NAME": "Env Name"}
    )
    assert s.business_name == "Env Name" and origin["business_name"] == "environment"
    assert s.contact_frequency_days == 30 and origin["contact_frequency_days"] == "command line"
    assert s.tier_gold == 75.0 and origin["tier_gold"] == "Settings!B4"
    assert s.default_country == "US" and s.day_first is False


def test_bad_and_unknown_settings_are_findings_and_defaults_stand() -> None:
    wb = MemoryBackend(
        {"Settings": [["Setting", "Value"], ["Frequency cap", "often"], ["Colour", "blue"]]}
    ).read()
    findings = FindingList()
    s, _ = load_settings(wb, environ={}, findings=findings)
    assert s.contact_frequency_days == Settings().contact_frequency_days
    assert [(f.cell, f.code) for f in findings] == [
        ("Settings!B2", "bad-setting"),
        ("Settings!A3", "unknown-setting"),
    ]
