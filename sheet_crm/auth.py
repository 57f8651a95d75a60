"""Which Google identity sheet-crm uses, and how it gets credentials.

Three ways, tried in this order when none is named:

1. a **service-account key file** (``--key-file``, ``SHEET_CRM_SERVICE_ACCOUNT`` or a
   service-account ``GOOGLE_APPLICATION_CREDENTIALS``): for scheduled runs. The sheet
   must be shared with the account's email, which ``sheet-crm auth status`` prints;
2. the **owner's own Google account**, signed in once with ``sheet-crm auth login``
   (the installed-app OAuth flow); the token is cached in the user's config folder with
   mode 0600 so only the owner can read it;
3. **Application Default Credentials** (``gcloud auth application-default login`` or a
   cloud machine's account).

Secrets never leave this module: ``Identity`` carries a description (kind, email, where
the file is) and the credentials object, and its ``repr``/``to_dict`` show no token or key.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from .errors import AuthError

SCOPES = (
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/drive.metadata.readonly",
)
APP_NAME = "sheet-crm"
TOKEN_FILE = "google-token.json"
KEY_ENV = "SHEET_CRM_SERVICE_ACCOUNT"
CLIENT_SECRETS_ENV = "SHEET_CRM_OAUTH_CLIENT"


def config_dir() -> Path:
    """The user's config folder for sheet-crm (``~/.config/sheet-crm`` on Linux)."""
    return Path(platformdirs.user_config_dir(APP_NAME))


def token_path() -> Path:
    return config_dir() / TOKEN_FILE


@dataclass
class Identity:
    """Who sheet-crm acts as. ``credentials`` is the google-auth object; it is left out of
    ``repr`` and ``to_dict`` so it can never end up in a log or ``--json``."""

    kind: str  # "service-account" | "oauth-user" | "application-default" | "none"
    email: str = ""
    source: str = ""  # where the credentials come from (a path or an explanation), no secrets
    credentials: Any = field(default=None, repr=False, compare=False)
    fix: str = ""  # for kind "none": what to do to have an identity

    def describe(self) -> str:
        who = f" {self.email}" if self.email else ""
        if self.kind == "service-account":
            return f"service account{who} (key file {self.source})"
        if self.kind == "oauth-user":
            return f"your Google account{who} (signed in with `sheet-crm auth login`, token in {self.source})"
        if self.kind == "application-default":
            return f"Application Default Credentials{who} ({self.source})"
        return "no Google identity"

    def to_dict(self) -> dict[str, str]:
        out = {"kind": self.kind, "email": self.email, "source": self.source, "description": self.describe()}
        if self.fix:
            out["fix"] = self.fix
        return out


def _service_account_file(key_file: str | os.PathLike[str] | None) -> Path | None:
    if key_file:
        return Path(key_file)
    if os.environ.get(KEY_ENV):
        return Path(os.environ[KEY_ENV])
    adc = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if adc and _key_type(Path(adc)) == "service_account":
        return Path(adc)
    return None


def _key_type(path: Path) -> str:
    try:
        return str(json.loads(path.read_text(encoding="utf-8")).get("type", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def service_account_identity(path: Path) -> Identity:
    """An identity from a service-account key file (the file is read, never echoed)."""
    from google.oauth2 import service_account

    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AuthError(
            f"The service-account key file {path} does not exist.",
            "Download a JSON key for the service account from the Google Cloud console "
            "and give its path with --key-file.",
        ) from None
    except (OSError, ValueError):
        raise AuthError(
            f"The service-account key file {path} cannot be read as JSON.",
            "Download the key again from the Google Cloud console (a .json file).",
        ) from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise AuthError(
            f"{path} is not a service-account key file.",
            'Use the JSON key of a service account (its "type" is "service_account").',
        )
    email = info.get("client_email")
    if not isinstance(email, str) or "@" not in email.strip():
        # Without it there is nobody to share the sheet with, and Google refuses the key.
        raise AuthError(
            f"{path} is not a usable service-account key: it has no client_email (the service "
            "account's address).",
            "Download a new JSON key for the service account from the Google Cloud console "
            "(IAM & Admin > Service accounts > Keys > Add key > JSON) and use that file; "
            "its client_email ends in .iam.gserviceaccount.com.",
        )
    try:
        creds = service_account.Credentials.from_service_account_info(info, scopes=list(SCOPES))
    except (ValueError, KeyError):
        # google-auth's message may quote parts of the key: say only what is wrong.
        raise AuthError(
            f"The service-account key file {path} is incomplete or damaged.",
            "Download a new JSON key for the service account from the Google Cloud console.",
        ) from None
    return Identity("service-account", email.strip(), str(path), creds)


def oauth_identity(path: Path | None = None) -> Identity | None:
    """The owner's cached OAuth token, if there is one."""
    from google.oauth2.credentials import Credentials

    path = path or token_path()
    if not path.exists():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        creds = Credentials.from_authorized_user_info(info, scopes=list(SCOPES))
    except (OSError, ValueError, KeyError):
        raise AuthError(
            f"The saved Google sign-in in {path} cannot be read.",
            "Run `sheet-crm auth login` to sign in again.",
        ) from None
    return Identity("oauth-user", str(info.get("account", "")), str(path), creds)


def adc_identity() -> Identity | None:
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        creds, project = google.auth.default(scopes=list(SCOPES))
    except DefaultCredentialsError:
        return None
    email = str(getattr(creds, "service_account_email", "") or "")
    if email == "default":
        email = ""
    where = f"project {project}" if project else "gcloud / environment"
    return Identity("application-default", email, where, creds)


def resolve(mode: str = "auto", key_file: str | os.PathLike[str] | None = None) -> Identity:
    """The identity to use. ``mode``: ``auto``, ``service-account``, ``oauth`` or ``adc``."""
    if mode in {"auto", "service-account"}:
        path = _service_account_file(key_file)
        if path is not None:
            return service_account_identity(path)
        if mode == "service-account":
            raise AuthError(
                "No service-account key file was given.",
                f"Pass --key-file PATH or set {KEY_ENV} to the key's path.",
            )
    if mode in {"auto", "oauth"}:
        ident = oauth_identity()
        if ident is not None:
            return ident
        if mode == "oauth":
            raise AuthError("You have not signed in to Google yet.", "Run `sheet-crm auth login`.")
    if mode in {"auto", "adc"}:
        ident = adc_identity()
        if ident is not None:
            return ident
    raise AuthError(
        "sheet-crm has no Google credentials to open the sheet with.",
        "Run `sheet-crm auth login` to use your own Google account, or pass --key-file with a "
        "service-account key (and share the sheet with that account's email).",
    )


def status(mode: str = "auto", key_file: str | os.PathLike[str] | None = None) -> Identity:
    """Like ``resolve`` but never raises: ``kind == 'none'`` when there is nothing."""
    try:
        return resolve(mode, key_file)
    except AuthError as exc:
        return Identity("none", "", exc.message, fix=exc.fix)


def save_token(creds: Any, account: str = "", path: Path | None = None) -> Path:
    """Cache an OAuth token so only the owner can read it (mode 0600, written atomically)."""
    path = path or token_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    info = json.loads(creds.to_json())
    if account:
        info["account"] = account
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(info, fh)
    os.chmod(tmp, stat.S_IRUSR | stat.S_IWUSR)
    os.replace(tmp, path)
    return path


def login(client_secrets: str | os.PathLike[str] | None = None, *, open_browser: bool = True) -> Identity:
    """Sign in with the owner's Google account (installed-app flow) and cache the token."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    secrets = client_secrets or os.environ.get(CLIENT_SECRETS_ENV)
    if not secrets or not Path(secrets).exists():
        raise AuthError(
            "Signing in needs an OAuth client file (client_secret_....json) from Google Cloud.",
            f"Create a 'Desktop app' OAuth client in the Google Cloud console, download it, and "
            f"pass its path with --client-secrets (or set {CLIENT_SECRETS_ENV}).",
        )
    flow = InstalledAppFlow.from_client_secrets_file(str(secrets), scopes=list(SCOPES))
    creds = flow.run_local_server(port=0, open_browser=open_browser, bind_addr="127.0.0.1")
    path = save_token(creds)
    return Identity("oauth-user", "", str(path), creds)


def authorized_session(identity: Identity) -> Any:
    """A requests session that signs every request with the identity's credentials."""
    from google.auth.transport.requests import AuthorizedSession

    return AuthorizedSession(identity.credentials)
