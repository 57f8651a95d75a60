"""Settings: tab < environment < command line, with findings for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from sheet_crm.backends.memory import MemoryBackend
from sheet_crm.config import Settings, load_settings
from sheet_crm.errors import AmbiguousTab
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


def test_the_settings_tab_is_chosen_from_the_environment_never_from_itself() -> None:
    wb = MemoryBackend(
        {
            "Config": [["Setting", "Value"], ["Business name", "Old Config"]],
            "config ": [["Setting", "Value"], ["Business name", "Tea Rooms"], ["Settings tab", "Config"]],
        }
    ).read()
    with pytest.raises(AmbiguousTab) as err:
        load_settings(wb, environ={})
    assert "SHEET_CRM_SETTINGS_TAB" in err.value.fix
    findings = FindingList()
    s, origin = load_settings(wb, environ={"SHEET_CRM_SETTINGS_TAB": "config"}, findings=findings)
    assert s.business_name == "Tea Rooms" and origin["business_name"] == "'config '!B2"
    assert s.settings_tab == "config"
    assert [(f.cell, f.code) for f in findings] == [("'config '!A3", "setting-in-wrong-place")]


def test_tab_choices_are_settings_like_any_other() -> None:
    wb = MemoryBackend({"Settings": [["Setting", "Value"], ["Customers tab", "Clients"]]}).read()
    s, origin = load_settings(wb, environ={"SHEET_CRM_ORDERS_TAB": "Bookings"})
    assert (s.tab_choice("Customers"), s.tab_choice("Orders"), s.tab_choice("Templates")) == (
        "Clients",
        "Bookings",
        "",
    )
    assert origin["customers_tab"] == "Settings!B2"


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("Win back days", 999_999_999_999, "Type a whole number from 0 to 36,500."),
        ("Birthday days before", -3, "Type a whole number from 0 to 36,500."),
        ("Gold", float("nan"), "Type a number from 0 to 100."),
        ("Low satisfaction", float("inf"), "Type a number from 0 to 10."),
    ],
)
def test_numbers_no_date_or_score_can_hold_are_bad_settings(name: str, value: object, words: str) -> None:
    wb = MemoryBackend({"Settings": [["Setting", "Value"], [name, value]]}).read()
    findings = FindingList()
    s, origin = load_settings(wb, environ={}, findings=findings)
    assert origin == {} and s == Settings()
    assert [(f.code, f.fix) for f in findings] == [("bad-setting", words)]


def test_every_setting_is_in_the_readmes_configuration_table() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in table.splitlines() if line.startswith("| ")]
    named = {name.strip() for row in rows for name in row.split(",")}
    assert set(Settings.model_fields) <= named
