"""Google identities: service account, the owner's OAuth token, ADC; and no secret ever
shown in messages, ``--json`` or reprs. No network: keys are generated here, tokens fake."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sheets_server import SheetsServer

from sheet_crm import auth
from sheet_crm.backends.gsheets import GoogleSheetsBackend
from sheet_crm.cli import cli
from sheet_crm.errors import AuthError

SA_EMAIL = "crm-bot@shop-project.iam.gserviceaccount.com"
SECRET_BITS = ("PRIVATE KEY", "ya29.secret-access", "1//secret-refresh", "client-secret-xyz", "test-token")


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No real credentials of the machine leak in: config folder, env and ADC are fake."""
    home = tmp_path / "config"
    monkeypatch.setattr(auth, "config_dir", lambda: home)
    for var in (auth.KEY_ENV, "GOOGLE_APPLICATION_CREDENTIALS", auth.CLIENT_SECRETS_ENV):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(auth, "adc_identity", lambda: None)
    return home


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "shop-project",
        "private_key_id": "abc123",
        "private_key": pem,
        "client_email": SA_EMAIL,
        "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = tmp_path / "key.json"
    path.write_text(json.dumps(info), encoding="utf-8")
    return path


def no_secrets(text: str) -> bool:
    return not any(bit in text for bit in SECRET_BITS)


def test_service_account_identity(isolated: Path, key_file: Path) -> None:
    identity = auth.resolve("auto", key_file)
    assert (identity.kind, identity.email) == ("service-account", SA_EMAIL)
    assert identity.credentials.service_account_email == SA_EMAIL
    assert no_secrets(repr(identity)) and no_secrets(json.dumps(identity.to_dict()))


def test_service_account_from_environment(
    isolated: Path, key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
    assert auth.resolve().kind == "service-account"


def test_bad_key_files_say_what_is_wrong(isolated: Path, tmp_path: Path) -> None:
    with pytest.raises(AuthError, match="does not exist"):
        auth.resolve("service-account", tmp_path / "missing.json")
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"type": "authorized_user", "client_secret": "client-secret-xyz"}))
    with pytest.raises(AuthError) as err:
        auth.resolve("service-account", other)
    assert "not a service-account key" in err.value.message and no_secrets(str(err.value.to_dict()))


def test_oauth_token_is_cached_with_mode_0600(isolated: Path) -> None:
    from google.oauth2.credentials import Credentials

    creds = Credentials(
        token="ya29.secret-access",
        refresh_token="1//secret-refresh",
        client_id="cid.apps.googleusercontent.com",
        client_secret="client-secret-xyz",
        token_uri="https://oauth2.googleapis.com/token",
        scopes=list(auth.SCOPES),
    )
    path = auth.save_token(creds, account="owner@example.com")
    assert path.parent == isolated
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    identity = auth.resolve("oauth")
    assert (identity.kind, identity.email) == ("oauth-user", "owner@example.com")
    assert no_secrets(identity.describe()) and no_secrets(repr(identity))


def test_no_credentials_is_a_clear_error(isolated: Path) -> None:
    with pytest.raises(AuthError) as err:
        auth.resolve()
    assert "sheet-crm auth login" in err.value.fix
    assert auth.status().kind == "none"


def test_login_without_client_file_explains(isolated: Path) -> None:
    with pytest.raises(AuthError, match="OAuth client file"):
        auth.login(None, open_browser=False)


def test_cli_auth_status_shows_the_identity_never_secrets(isolated: Path, key_file: Path) -> None:
    result = CliRunner().invoke(cli, ["auth", "status", "--key-file", str(key_file)])
    assert result.exit_code == 0, result.output
    assert SA_EMAIL in result.output and "service account" in result.output
    as_json = CliRunner().invoke(cli, ["auth", "status", "--key-file", str(key_file), "--json"])
    data = json.loads(as_json.output)
    assert data["kind"] == "service-account" and data["email"] == SA_EMAIL
    assert no_secrets(result.output) and no_secrets(as_json.output)
    none = CliRunner().invoke(cli, ["auth", "status"])
    assert none.exit_code == 3 and "No Google identity" in none.output


def test_sheet_not_shared_with_the_service_account(isolated: Path, key_file: Path) -> None:
    server = SheetsServer(tokens={"test-token": SA_EMAIL})
    sid = server.create("Shop", {"Customers": [["Name"], ["Ann"]]}, shared_with={"owner@example.com"})
    identity = auth.resolve("service-account", key_file)
    backend = GoogleSheetsBackend(sid, session=server.session(), identity=identity)
    with pytest.raises(AuthError) as err:
        backend.read()
    assert SA_EMAIL in err.value.message and SA_EMAIL in err.value.fix
    assert "Share" in err.value.fix
    assert no_secrets(json.dumps(err.value.to_dict()))


@pytest.mark.parametrize("email", ["missing", None, "", 12, "   "])
def test_a_key_without_a_service_account_address_is_not_a_usable_key(
    isolated: Path, key_file: Path, email: object
) -> None:
    info = json.loads(key_file.read_text())
    if email == "missing":
        del info["client_email"]
    else:
        info["client_email"] = email
    key_file.write_text(json.dumps(info))
    with pytest.raises(AuthError) as err:
        auth.resolve("service-account", key_file)
    assert "is not a usable service-account key: it has no client_email" in err.value.message
    assert "Download a new JSON key" in err.value.fix
    result = CliRunner().invoke(cli, ["auth", "status", "--key-file", str(key_file)])
    assert result.exit_code == 3
    assert "not a usable service-account key" in result.output
    assert "Fix: Download a new JSON key" in result.output
    assert "Share each sheet with" not in result.output and "None" not in result.output
    assert no_secrets(result.output)
