"""Hostile workbooks of the hardening issue (#20) that are about what the data means, not
about the file format: which tab is Customers, broken characters, impossible numbers and
dates, rules with left-out operators, absurd settings; and Google without a network.

The table runs the real command line in a child process (``childrun``): each run ends in
time and memory with a message, never a traceback, and a refused file is byte-identical.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import requests
from childrun import assert_bounded, run_cli
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sheet_crm import auth
from sheet_crm.backends.gsheets import GoogleSheetsBackend, RetryPolicy
from sheet_crm.errors import AuthError, RemoteError

CUSTOMERS = [
    ["Customer ID", "First name", "Last name", "Email"],
    ["C-00001", "Ann", "Lee", "ann@example.com"],
    ["C-00002", "Bob", "Ray", "bob@example.org"],
    [None, "Cy", "Fox", "cy@example.net"],
]
SUPPLIERS = [["ID", "Name", "Email"], [None, "Acme Supplies", "sales@acme.example"]]


def workbook(path: Path, tabs: dict[str, list[list[Any]]], patch: dict[str, str] | None = None) -> Path:
    """An .xlsx with ``tabs`` in order (openpyxl, as a starter workbook is made). ``patch``
    replaces cell values in the sheet XML afterwards (``{"111111": "NaN"}``): values
    openpyxl cannot write, as a damaged export or a hand-edited file holds them."""
    book = openpyxl.Workbook()
    first = True
    for name, rows in tabs.items():
        sheet = book.active if first else book.create_sheet(name)
        assert sheet is not None
        sheet.title, first = name, False
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    if patch:
        out = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(data)) as zin,
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout,
        ):
            for info in zin.infolist():
                part = zin.read(info.filename)
                if info.filename.startswith(("xl/worksheets/", "xl/sharedStrings")):
                    text = part.decode("utf-8")
                    for old, new in patch.items():
                        text = text.replace(old, new)
                    part = text.encode("utf-8")
                zout.writestr(info, part)
        data = out.getvalue()
    path.write_bytes(data)
    return path


def _contacts_first(path: Path) -> Path:
    return workbook(path, {"Contacts": SUPPLIERS, "Customers": CUSTOMERS})


def _quoted_first(path: Path) -> Path:
    # Its name folds to "customers"; it holds no names, so taking it refused the workbook.
    return workbook(path, {"Cust'o\"mers": [["Code", "Count"], ["x", 1]], "Customers": CUSTOMERS})


def _two_customer_tabs(path: Path) -> Path:
    return workbook(path, {"Contacts": SUPPLIERS, "Clients": CUSTOMERS})


def _two_order_tabs(path: Path) -> Path:
    orders = [["Order ID", "Customer", "Date", "Amount"], [1, "C-00001", datetime(2026, 1, 5), 20]]
    return workbook(path, {"Customers": CUSTOMERS, "Sales": orders, "Bookings": orders})


def _impossible_data(path: Path) -> Path:
    """One workbook holding every impossible value of the issue, each at a known cell."""
    orders = [
        ["Order ID", "Customer", "Date", "Amount", "Quantity"],
        [1, "C-00001", datetime(2026, 1, 5), 111111, 1],  # D2: NaN
        [2, "C-00001", datetime(2026, 2, 5), 222222, 1],  # D3: inf
        [3, "C-00002", datetime(2026, 3, 5), 333333, 1],  # D4: 1e309
        [4, "C-00002", datetime(2026, 4, 5), 40.5, 444444],  # E5: 400 digits
        [5, "C-00002", datetime(2026, 5, 5), 10, 1],  # C6: a date cell 100,000 days before 1900
    ]
    return workbook(
        path,
        {
            "Customers": [CUSTOMERS[0], ["C-00001", "Ann_xD800_", "Lee", "ann@example.com"], *CUSTOMERS[2:]],
            "Orders": orders,
            "Segments": [["Name", "Rule"], ["Shifty", "1 << 64"], ["Hatty", "orders ^ 2 > 1"]],
            "Settings": [["Setting", "Value"], ["Win back days", 999_999_999_999]],
        },
        patch={
            "<v>111111</v>": "<v>NaN</v>",
            "<v>222222</v>": "<v>INF</v>",
            "<v>333333</v>": "<v>1e309</v>",
            "<v>444444</v>": "<v>" + "9" * 400 + "</v>",
            "<v>46147</v>": "<v>-100000</v>",  # 2026-05-05 as a serial, still date-formatted
        },
    )


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], Path]
    command: tuple[str, ...]
    exit_code: int
    says: tuple[str, ...]
    refused: bool = False  # the file must stay byte-identical


CASES = [
    Case("supplier tab first", _contacts_first, ("validate",), 0, ("Customers!A4: C-00003",)),
    Case("tab named Cust'o\"mers first", _quoted_first, ("validate",), 0, ("Customers!A4: C-00003",)),
    Case(
        "two tabs could be Customers: tabs warns",
        _two_customer_tabs,
        ("tabs",),
        0,
        ("Warning: Several tabs could be the Customers tab: 'Contacts', 'Clients'", "customers_tab"),
        refused=True,
    ),
    Case(
        "two tabs could be Customers: validate refuses",
        _two_customer_tabs,
        ("validate",),
        2,
        ("Error:", "Several tabs could be the Customers tab: 'Contacts', 'Clients'", "Fix: Add a row"),
        refused=True,
    ),
    Case(
        "two tabs could be Orders: sync refuses",
        _two_order_tabs,
        ("sync",),
        2,
        ("Several tabs could be the Orders tab: 'Sales', 'Bookings'", "orders_tab"),
        refused=True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_tab_names(tmp_path: Path, case: Case) -> None:
    path = case.build(tmp_path / "crm.xlsx")
    before = path.read_bytes()
    result = run_cli([*case.command, str(path)])
    assert_bounded(result)
    assert result.exit_code == case.exit_code, result.describe()
    for words in case.says:
        assert words in result.output, result.describe()
    if case.refused:
        assert path.read_bytes() == before
    else:  # the supplier (or odd) tab was not written into
        first = openpyxl.load_workbook(path).worksheets[0]
        assert [[c.value for c in r] for r in first.iter_rows(max_row=2)][1][0] in (None, "x")


def test_impossible_data_are_findings_at_their_cells_and_not_counted(tmp_path: Path) -> None:
    path = _impossible_data(tmp_path / "crm.xlsx")
    result = run_cli(["sync", str(path), "--json", "--today", "2026-11-22"])
    assert_bounded(result)
    assert result.exit_code == 1, result.describe()  # ran, and the data has errors
    report = json.loads(result.stdout)
    found = {(f["cell"], f["code"]) for f in report["findings"]}
    # The xlsx reader keeps NaN, INF and 1e309 in a number cell as the text they are (no
    # program writes them): an amount that is not a number; a float NaN or infinity from
    # another backend is "impossible" (tests/test_validate.py). Either way an error at the cell.
    for cell in ("Orders!D2", "Orders!D3", "Orders!D4"):
        assert found & {(cell, "amount-impossible"), (cell, "amount-invalid")}, cell
    assert {
        ("Orders!E5", "quantity-impossible"),
        ("Orders!C6", "date-invalid"),
        ("Customers!B2", "broken-character"),
        ("Segments!B2", "bad-segment-rule"),
        ("Segments!B3", "bad-segment-rule"),
        ("Settings!B2", "bad-setting"),
    } <= found
    problems = {f["cell"]: f["problem"] for f in report["findings"] if f["code"] != "bad-segment-rule"}
    assert "INF" in problems["Orders!D3"] and "amount" in problems["Orders!D3"]
    rules = [f["problem"] for f in report["findings"] if f["code"] == "bad-segment-rule"]
    assert "'<<' (shifting bits) is not part of the rule language" in rules[0]
    assert "for a power write **" in rules[1] and "''" not in " ".join(rules)
    # only order 4 counts: the others have an impossible amount or date (order 4's quantity
    # is impossible too, but a quantity is not needed to count an order)
    assert report["results"]["tiers"]["total_revenue"] == 40.5
    tiers = report["results"]["tiers"]
    names = {row[tiers["columns"].index("name")] for row in tiers["rows"]}
    assert "Ann\ufffd Lee" in names  # the broken half shown as the replacement character
    again = run_cli(["tabs", str(path)])  # the written workbook reads back
    assert_bounded(again)
    assert again.exit_code == 0 and "Tiers" in again.output, again.describe()


# ---------------------------------------------------------------- Google without a network


def _service_account() -> auth.Identity:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    from google.oauth2 import service_account

    info = {
        "type": "service_account",
        "private_key": pem,
        "client_email": "crm-bot@shop.iam.gserviceaccount.com",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    creds = service_account.Credentials.from_service_account_info(info, scopes=list(auth.SCOPES))
    return auth.Identity("service-account", info["client_email"], "key.json", creds)


class _Network(requests.adapters.BaseAdapter):
    """Stands in for the machine's network: no connection at all, or a token endpoint
    that refuses the key."""

    def __init__(self, refuse_key: bool = False) -> None:
        super().__init__()
        self.refuse_key = refuse_key
        self.sent: list[str] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append(str(request.url))
        if not self.refuse_key:
            raise requests.exceptions.ConnectionError("Failed to resolve 'oauth2.googleapis.com'")
        response = requests.Response()
        response.status_code = 400
        response._content = b'{"error": "invalid_grant", "error_description": "Invalid JWT Signature."}'
        response.headers["Content-Type"] = "application/json"
        response.url = str(request.url)
        response.request = request
        return response

    def close(self) -> None:
        pass


def _backend(network: _Network) -> tuple[GoogleSheetsBackend, list[float]]:
    from google.auth.transport.requests import AuthorizedSession, Request

    identity = _service_account()
    plain = requests.Session()
    plain.mount("https://", network)
    session = AuthorizedSession(identity.credentials, auth_request=Request(session=plain))
    session.mount("https://", network)
    slept: list[float] = []
    retry = RetryPolicy(attempts=3, sleep=slept.append, random=lambda: 0.5)
    return GoogleSheetsBackend("1AbCdEfGhIjKlMnOp", session=session, identity=identity, retry=retry), slept


def test_no_network_is_a_named_error_with_a_fix() -> None:
    network = _Network()
    backend, slept = _backend(network)
    with pytest.raises(RemoteError) as err:
        backend.read()
    assert "could not reach Google after 3 attempts" in err.value.message
    assert "no connection to Google's sign-in service" in err.value.message
    assert "connected to the internet" in err.value.fix
    assert len(slept) == 2 and all(url.startswith("https://oauth2.googleapis.com") for url in network.sent)


def test_a_refused_key_is_an_auth_error_and_is_not_retried() -> None:
    network = _Network(refuse_key=True)
    backend, slept = _backend(network)
    with pytest.raises(AuthError) as err:
        backend.read()
    assert "Google refused to sign sheet-crm in" in err.value.message
    assert "create a new JSON key" in err.value.fix
    assert slept == [] and len(network.sent) == 1
    assert "PRIVATE KEY" not in str(err.value.to_dict()) and "JWT" not in err.value.message
