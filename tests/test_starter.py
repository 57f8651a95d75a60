"""Starter templates: every spec builds a workbook a spreadsheet and sheet-crm both read."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from fixtures_templates import TEMPLATE_NAMES, build_template, read_grids, template_backend
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from sheet_crm import starter
from sheet_crm.config import Settings, load_settings
from sheet_crm.errors import ConfigError, UsageError
from sheet_crm.findings import FindingList
from sheet_crm.model import CUSTOMER_FIELD_NAMES, build_records
from sheet_crm.workbook import FIELD_ALIASES, header_key

OWNER_TABS = ["Customers", "Orders", "Interactions", "Settings", "Segments", "Templates"]
TRIGGERS = [
    "Thank you",
    "Win back",
    "Birthday",
    "Referral thanks",
    "Service recovery",
    "Follow up",
    "Keep in touch",
]
CANONICAL_CUSTOMER_FIELDS = set(FIELD_ALIASES["Customers"]) - {"name", "merged_into"}
# The business-specific Customers columns the customer asked for, by template.
EXTRA_CUSTOMER_COLUMNS = {
    "shop": {"favourite_category"},
    "hotel": {"room_preference", "dietary_needs"},
    "b2b": {"industry", "account_size"},
    "salon": {"stylist", "hair_type", "allergies"},
}
# GSM 03.38 basic character set: what fits in one 160-character SMS.
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# A long-ish but ordinary customer, to check SMS lengths with real values in them.
SAMPLE = {
    "first_name": "Alexandra",
    "last_name": "Fitzgerald",
    "company": "Harbour Lane Offices Ltd",
    "business_name": "Corner Coffee & Books",
    "sender_name": "Samantha",
    "last_order": {"product": "House blend coffee 250g", "date": "2026-10-01", "amount": 8.9},
    "last_interaction": {"summary": "Beans delivered a day late"},
    "preferences": ["prefers tea", "vegetarian"],
    "days_since_last_order": 120,
    "referred_name": "Tom Okafor",
    "room_preference": "Sea view",
    "stylist": "Kemi",
}


def test_list_templates_names_the_three_kinds_of_business() -> None:
    items = starter.list_templates()
    names = {t.name for t in items}
    assert {"shop", "hotel", "b2b"} <= names
    assert not any(n.startswith("_") for n in names)
    for t in items:
        assert t.title and t.description and t.path.suffix == ".toml"


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_builds_a_workbook_with_help_dropdowns_and_formats(name: str, tmp_path: Path) -> None:
    spec = starter.load_template(name)
    path = build_template(name, tmp_path)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["About", *OWNER_TABS]

    about = " ".join(str(v) for row in book["About"].iter_rows(values_only=True) for v in row if v)
    for tab in spec.tabs:
        ws = book[tab.name]
        assert [c.value for c in ws[1]] == tab.headers
        assert all(c.font.b for c in ws[1]), f"{tab.name} header not bold"
        assert ws.freeze_panes == "A2"
        assert f"The {tab.name} tab" in about
        validations = {str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation}
        for i, column in enumerate(tab.columns, 1):
            letter = openpyxl.utils.get_column_letter(i)
            assert column.header in about and column.help in about
            if column.width:
                assert ws.column_dimensions[letter].width == pytest.approx(column.width)
            dv = validations.get(f"{letter}2")
            if column.type in ("choice", "yes-no"):
                assert dv is not None and dv.type == "list", f"{tab.name}!{column.header} has no dropdown"
                assert dv.formula1 == '"' + ",".join(column.choices) + '"'
            elif column.type == "date":
                assert dv is not None and dv.type == "date"
            if column.type in ("phone", "text"):
                assert ws.column_dimensions[letter].number_format == "@"
        assert ws.max_row == 1 + len(tab.rows)

    # Phones and postcodes are text, so a leading zero survives a round trip.
    customers = book["Customers"]
    phone_at = spec.tab("Customers").headers.index("Phone") + 1
    phones = [customers.cell(r, phone_at).value for r in range(2, customers.max_row + 1)]
    assert all(isinstance(p, str) for p in phones if p is not None)
    assert any(p and p.startswith("0") for p in phones)


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_template_rows_read_back_as_records_and_settings(name: str, tmp_path: Path) -> None:
    spec = starter.load_template(name)
    workbook = template_backend(name, tmp_path).read()
    assert not list(workbook.findings)

    findings = FindingList()
    settings, origin = load_settings(workbook, environ={}, findings=findings)
    assert list(findings) == []
    assert settings.business_name != Settings.model_fields["business_name"].default
    settings_rows = [r for r in spec.tab("Settings").rows if r.get("Value") not in (None, "")]
    assert len(origin) == len(settings_rows), "every Settings row sets a setting"

    customers = workbook.find("Customers")
    assert customers is not None and customers.header_row == 1
    canonical = set(customers.fields) & set(FIELD_ALIASES["Customers"])
    assert canonical == CANONICAL_CUSTOMER_FIELDS
    assert set(customers.fields) - canonical == EXTRA_CUSTOMER_COLUMNS[name]
    for kind in ("Orders", "Interactions", "Settings", "Segments", "Templates"):
        table = workbook.find(kind)
        assert table is not None
        assert set(table.fields) <= set(FIELD_ALIASES[kind]) | {"what_it_does"}, kind

    records = build_records(workbook, settings, findings)
    assert list(findings) == []
    assert len(records.customers) == len(spec.tab("Customers").rows)
    for customer, row in zip(records.customers, spec.tab("Customers").rows, strict=True):
        assert customer.invalid == set()
        assert customer.email == row["Email"]
        assert customer.first_name == row["First name"]
        assert customer.email_opt_in is not None
        for extra in EXTRA_CUSTOMER_COLUMNS[name]:
            assert extra in customer.extra
    assert any(not c.customer_id for c in records.customers), "one example shows a blank ID"
    assert any(c.company and c.role for c in records.customers), "one example is a B2B contact"
    assert any(c.referred_by for c in records.customers)
    assert records.orders and all(o.customer_id and o.date and o.amount for o in records.orders)
    assert records.interactions and any(i.satisfaction is not None for i in records.interactions)
    assert any(i.follow_up for i in records.interactions)


def _templates(name: str) -> list[dict[str, str]]:
    return [{k: str(v) for k, v in row.items()} for row in starter.load_template(name).tab("Templates").rows]


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_message_templates_cover_every_trigger_and_render(name: str) -> None:
    rows = _templates(name)
    have = {(r["Name"], r["Channel"]) for r in rows}
    for trigger in TRIGGERS:
        assert (trigger, "email") in have and (trigger, "sms") in have, trigger
    assert ("Service recovery", "phone") in have
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    for row in rows:
        body = env.from_string(row["Body"]).render(SAMPLE)
        assert "{{" not in body and "{%" not in body
        assert body.strip()
        if row["Channel"] == "email":
            assert row.get("Subject"), f"{row['Name']} email has no subject"
            env.from_string(row["Subject"]).render(SAMPLE)
        if row["Channel"] == "sms":
            assert len(body) <= 160, f"{row['Name']} SMS is {len(body)} characters: {body}"
            assert set(body) <= GSM7, f"{row['Name']} SMS has characters outside GSM-7"
        # With no first name (a blank cell is an undefined field) the fallback greets, never "Hi ,".
        blank = env.from_string(row["Body"]).render({k: v for k, v in SAMPLE.items() if k != "first_name"})
        assert not re.search(r"\b(Hi|Hello|birthday) ,", blank)

    segments = starter.load_template(name).tab("Segments").rows
    names = {r["Name"] for r in rows}
    for segment in segments:
        assert not segment.get("Template") or segment["Template"] in names, segment["Name"]
        assert segment["Rule"].strip()


def test_build_refuses_to_overwrite_unless_told(tmp_path: Path) -> None:
    path = tmp_path / "crm.xlsx"
    path.write_bytes(b"the owner's data")
    with pytest.raises(UsageError) as err:
        starter.build_workbook("shop", path, overwrite=False)
    assert "already exists" in err.value.message and "--force" in err.value.fix
    assert path.read_bytes() == b"the owner's data"
    starter.build_workbook("shop", path, overwrite=True)
    assert openpyxl.load_workbook(path).sheetnames[0] == "About"


def test_unknown_template_lists_the_real_ones(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        starter.build_workbook("bakery", tmp_path / "x.xlsx")
    assert "bakery" in err.value.message
    for name in TEMPLATE_NAMES:
        assert name in err.value.fix
    assert not (tmp_path / "x.xlsx").exists()


def test_build_adds_xlsx_and_refuses_other_suffixes(tmp_path: Path) -> None:
    assert starter.build_workbook("hotel", tmp_path / "mycrm").name == "mycrm.xlsx"
    with pytest.raises(UsageError):
        starter.build_workbook("hotel", tmp_path / "mycrm.csv")


GOOD_BASE = """
name = "_base"
title = "Base"
description = "Shared."

[[tabs]]
name = "Customers"
about = "People."

[[tabs.columns]]
header = "Email"
type = "email"
help = "Their email."

[[tabs.columns]]
header = "Email opt-in"
type = "yes-no"
help = "Agreed to email."

[[tabs]]
name = "Settings"
about = "Settings."
key = ["Setting"]

[[tabs.columns]]
header = "Setting"
help = "Name."

[[tabs.columns]]
header = "Value"
help = "Value."
"""


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            'extends = "_base"\n[[tabs]]\nname = "Customers"\n[[tabs.rows]]\nPhone = "07700 900123"\n',
            r"tabs > Customers: example row 1 has a value for 'Phone', which is not a column",
        ),
        (
            'extends = "_base"\n[[tabs]]\nname = "Customers"\n[[tabs.extra_columns]]\nheader = "Room"\n'
            'type = "dropdown"\nhelp = "x"\n',
            r"Customers > columns > Room > type",
        ),
        (
            'extends = "_base"\n[[tabs]]\nname = "Customers"\n[[tabs.extra_columns]]\nheader = "Room"\n'
            'type = "choice"\nhelp = "x"\n',
            r"'Room' is a choice column but has no choices",
        ),
        (
            'extends = "_base"\n[[tabs]]\nname = "Customers"\n[[tabs.rows]]\n"Email opt-in" = "maybe"\n',
            r"'maybe' is not one of the choices",
        ),
        (
            'extends = "_base"\n[[tabs]]\nname = "Settings"\n[[tabs.rows]]\nSetting = "Favourite colour"\n'
            'Value = "blue"\n',
            r"Settings rows .* not valid.*Favourite colour",
        ),
        (
            'extends = "_base"\n[[tabs]]\nname = "Settings"\n[[tabs.rows]]\nSetting = "Win back days"\n'
            'Value = "soon"\n',
            r"win back days",
        ),
        ('extends = "_nowhere"\n', r"no _nowhere.toml"),
        ('extends = "_base"\ncolour = "blue"\n', r"colour: Extra inputs are not permitted"),
        ('extends = "_base"\n[[tabs]]\nname = "Customers"\nabout = "unclosed\n', r"not valid TOML"),
    ],
)
def test_a_bad_spec_is_a_config_error_naming_file_and_key(
    spec: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "_base.toml").write_text(GOOD_BASE)
    head = 'name = "broken"\ntitle = "Broken"\ndescription = "A broken spec."\n'
    (tmp_path / "broken.toml").write_text(head + textwrap.dedent(spec))
    monkeypatch.setenv(starter.TEMPLATES_ENV, str(tmp_path))
    with pytest.raises(ConfigError) as err:
        starter.build_workbook("broken", tmp_path / "out.xlsx")
    assert re.search(expected, err.value.message), err.value.message
    assert "broken.toml" in err.value.where
    assert err.value.fix
    assert not (tmp_path / "out.xlsx").exists()


def test_a_minimal_custom_spec_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "_base.toml").write_text(GOOD_BASE)
    (tmp_path / "tiny.toml").write_text(
        'name = "tiny"\ntitle = "Tiny"\ndescription = "Just emails."\nextends = "_base"\n'
        '[[tabs]]\nname = "Customers"\n[[tabs.rows]]\n'
        'Email = \'=HYPERLINK("http://x")\'\n"Email opt-in" = "yes"\n'
        '[[tabs]]\nname = "Settings"\n[[tabs.rows]]\nSetting = "Business name"\nValue = "Tiny Ltd"\n'
    )
    monkeypatch.setenv(starter.TEMPLATES_ENV, str(tmp_path))
    assert [t.name for t in starter.list_templates()] == ["tiny"]
    grids = read_grids(starter.build_workbook("tiny", tmp_path / "tiny.xlsx"))
    assert grids["Customers"] == [["Email", "Email opt-in"], ['=HYPERLINK("http://x")', "yes"]]
    assert grids["Settings"][1] == ["Business name", "Tiny Ltd"]
    # Text that looks like a formula is written as text, never as a formula.
    cell = openpyxl.load_workbook(tmp_path / "tiny.xlsx")["Customers"]["A2"]
    assert cell.data_type == "s"


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_settings_tab_explains_each_setting(name: str, tmp_path: Path) -> None:
    rows = read_grids(build_template(name, tmp_path))["Settings"]
    assert rows[0] == ["Setting", "Value", "What it does"]
    explained = {r[0]: r[2] for r in rows[1:]}
    assert explained["Quiet hours"] == Settings.model_fields["quiet_hours"].description
    assert all(explained.values()), "a setting with no explanation"


def test_customer_fields_in_templates_are_model_fields() -> None:
    """The canonical names the templates rely on exist on the Customer record."""
    assert set(CUSTOMER_FIELD_NAMES) >= CANONICAL_CUSTOMER_FIELDS
    base = starter.load_template("shop").tab("Customers")
    assert base is not None
    keys = {header_key(h) for h in base.headers}
    for fieldname, aliases in FIELD_ALIASES["Customers"].items():
        if fieldname in CANONICAL_CUSTOMER_FIELDS:
            assert header_key(aliases[0]) in keys, f"{fieldname} has no column under its canonical name"


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_cli_init_builds_each_template(name: str, tmp_path: Path) -> None:
    from sheet_crm.cli import cli

    runner = CliRunner()
    target = tmp_path / f"{name}-crm.xlsx"
    result = runner.invoke(cli, ["init", "--template", name, str(target)])
    assert result.exit_code == 0, result.output
    assert target.exists() and "sheet-crm sync" in result.output
    again = runner.invoke(cli, ["init", "--template", name, str(target)])
    assert again.exit_code == 2 and "already exists" in again.output


def test_cli_templates_lists_them() -> None:
    from sheet_crm.cli import cli

    result = CliRunner().invoke(cli, ["templates"])
    assert result.exit_code == 0
    for name in TEMPLATE_NAMES:
        assert re.search(rf"^{name}\s", result.output, re.M)
