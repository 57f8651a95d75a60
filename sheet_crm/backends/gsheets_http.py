"""HTTP to Google for the Sheets backend: gspread's client with bounded, jittered retries
and a rate limit, and Google's error answers turned into sheet-crm's errors.

Which requests may be sent again after a failure is decided here (see
``RetryingHTTPClient``); what the requests say is in ``gsheets_requests``.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from google.auth import exceptions as google_auth_errors
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient

from ..errors import AuthError, RemoteError, SheetCrmError, WorkbookNotFound, WriteFailed


@dataclass
class RetryPolicy:
    """Bounded retries with full jitter (sleep a random time in [0, min(cap, base*2^n)]),
    honouring Retry-After. ``sleep`` and ``random`` are injectable so tests never wait."""

    attempts: int = 5
    base: float = 1.0
    cap: float = 32.0
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random
    slept: list[float] = field(default_factory=list)

    def wait(self, attempt: int, retry_after: float | None = None) -> None:
        delay = self.random() * min(self.cap, self.base * 2**attempt)
        if retry_after is not None:
            delay = max(delay, min(retry_after, 120.0))
        self.slept.append(delay)
        self.sleep(delay)


@dataclass
class RateLimiter:
    """At most ``limit`` requests in any ``window`` seconds (below Google's 60/min/user),
    so a big run slows itself down instead of collecting 429s."""

    limit: int = 50
    window: float = 60.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    stamps: list[float] = field(default_factory=list)

    def acquire(self) -> None:
        now = self.clock()
        self.stamps = [t for t in self.stamps if now - t < self.window]
        if len(self.stamps) >= self.limit:
            pause = self.window - (now - self.stamps[0])
            if pause > 0:
                self.sleep(pause)
            now = self.clock()
            self.stamps = [t for t in self.stamps if now - t < self.window]
        self.stamps.append(now)


_RETRY_STATUS = {429, 500, 502, 503, 504}


class _Ambiguous(Exception):
    """A non-idempotent request may or may not have taken effect."""


class RetryingHTTPClient(HTTPClient):
    """gspread's HTTP client with bounded, jittered retries and a rate limit.

    Which requests are retried as they are:
    - reads (GET) and values:batchUpdate with RAW values at fixed ranges are idempotent:
      sending them twice leaves the same cells;
    - anything answered 429 (the request was refused, not executed) is safe to resend;
    - spreadsheets:batchUpdate (addSheet, addChart, addProtectedRange...) is NOT
      idempotent: after a 5xx, a timeout or a dropped connection it may have been applied,
      and sending it again would add a second chart or fail on "sheet already exists".
      The caller passes ``rebuild``, which looks at the spreadsheet again and returns
      the request body for whatever is still missing (or None when nothing is).
    """

    def __init__(
        self,
        session: requests.Session,
        *,
        retry: RetryPolicy,
        limiter: RateLimiter,
        timeout: tuple[float, float],
    ) -> None:
        super().__init__(None, session=session)  # type: ignore[arg-type]
        self.retry = retry
        self.limiter = limiter
        self.set_timeout(timeout)
        self.requests_made = 0
        self.bytes_sent = 0

    def call(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        idempotent: bool = True,
        rebuild: Callable[[], dict[str, Any] | None] | None = None,
    ) -> Any:
        last: Exception | None = None
        for attempt in range(self.retry.attempts):
            self.limiter.acquire()
            data = json.dumps(body).encode() if body is not None else None
            self.requests_made += 1
            self.bytes_sent += len(data or b"")
            retry_after: float | None = None
            try:
                headers = {"Content-Type": "application/json"} if data is not None else None
                response = self.request(method, url, params=params, data=data, headers=headers)  # type: ignore[arg-type]
                return response.json() if response.content else {}
            except APIError as exc:
                code = exc.response.status_code
                if code not in _RETRY_STATUS:
                    raise
                last = exc
                retry_after = _retry_after(exc.response)
                ambiguous = code != 429
            except requests.exceptions.ConnectTimeout as exc:
                last, ambiguous = exc, False  # never reached the server
            except (google_auth_errors.TransportError, google_auth_errors.TimeoutError) as exc:
                # Getting or refreshing the access token failed on the network (no connection,
                # no DNS, a proxy): the request itself was never sent.
                last, ambiguous = exc, False
            except google_auth_errors.RefreshError as exc:
                if not getattr(exc, "retryable", False):
                    raise _refused_sign_in() from None
                last, ambiguous = exc, False
            except google_auth_errors.GoogleAuthError:
                raise _refused_sign_in() from None
            except requests.exceptions.RequestException as exc:
                # Dropped connections and timeouts, a reply cut off mid-way, a reply that
                # is not JSON (a captive portal or a proxy answering for Google).
                last, ambiguous = exc, True
            if attempt + 1 >= self.retry.attempts:
                break
            self.retry.wait(attempt, retry_after)
            if ambiguous and not idempotent:
                if rebuild is None:
                    raise _Ambiguous() from last
                body = rebuild()
                if body is None:
                    return {}
        if _is_network(last):
            raise RemoteError(
                f"sheet-crm could not reach Google after {self.retry.attempts} attempts "
                f"({_describe(last)}); nothing more was written.",
                "Check that this computer is connected to the internet (and that no proxy or "
                "firewall blocks googleapis.com), then run the command again.",
            )
        raise RemoteError(
            f"Google Sheets kept failing after {self.retry.attempts} attempts ({_describe(last)}); "
            "nothing more was written.",
            "Wait a few minutes and run the command again; if it keeps happening, check "
            "https://www.google.com/appsstatus.",
        )


def _refused_sign_in() -> AuthError:
    # google-auth's own message can quote the token endpoint's answer: say only what is wrong.
    return AuthError(
        "Google refused to sign sheet-crm in with its credentials (the key may have been "
        "deleted or disabled, or the sign-in revoked or expired).",
        "Run `sheet-crm auth status` to see which identity is used. For a service account, "
        "create a new JSON key in the Google Cloud console; for your own account, run "
        "`sheet-crm auth login` again.",
    )


def _is_network(exc: Exception | None) -> bool:
    """The failure was reaching Google at all, not Google answering with an error."""
    if isinstance(exc, requests.exceptions.JSONDecodeError):
        return False
    return isinstance(
        exc,
        requests.exceptions.ConnectionError
        | requests.exceptions.Timeout
        | google_auth_errors.TransportError
        | google_auth_errors.TimeoutError,
    )


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _describe(exc: Exception | None) -> str:
    if isinstance(exc, APIError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, requests.exceptions.JSONDecodeError):
        return "the answer was not from Google's API; a proxy or a Wi-Fi sign-in page may be in the way"
    if isinstance(exc, requests.exceptions.Timeout | google_auth_errors.TimeoutError):
        return "no answer in time"
    if isinstance(exc, google_auth_errors.TransportError):
        return "no connection to Google's sign-in service"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "the connection failed or was dropped"
    if isinstance(exc, google_auth_errors.RefreshError):
        return "Google's sign-in service kept failing"
    if isinstance(exc, requests.exceptions.RequestException):
        return "the answer was cut off"
    return type(exc).__name__ if exc else "unknown"


def refusal(exc: APIError, identity: Any, where: str) -> SheetCrmError:
    """Google's error answer (one not worth retrying) in the owner's words: not shared,
    not found, credentials refused, or the request itself refused."""
    code = exc.response.status_code
    try:
        message = str(exc.response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = f"HTTP {code}"
    kind = getattr(identity, "kind", "")
    email = getattr(identity, "email", "")
    if code in {403, 404} and kind == "service-account" and email:
        # Google answers 404 (Drive) or 403 (Sheets) when the sheet is not shared with the account
        return AuthError(
            f"The Google Sheet is not shared with the service account {email} (or it does not exist).",
            f"Open the sheet in Google Sheets, click Share and add {email} as an Editor.",
            where=where,
        )
    if code == 403:
        return AuthError(
            "The Google account sheet-crm uses may not open this sheet.",
            "Share the sheet with that account (see `sheet-crm auth status`), or sign in "
            "with the owner's account: `sheet-crm auth login`.",
            where=where,
        )
    if code == 404:
        return WorkbookNotFound(
            "There is no Google Sheet with this id (or it was deleted).",
            "Copy the sheet's address from the browser and use it as the workbook.",
            where=where,
        )
    if code == 401:
        return AuthError(
            "Google did not accept sheet-crm's credentials (expired or revoked).",
            "Run `sheet-crm auth login` again, or check the service-account key.",
            where=where,
        )
    return WriteFailed(
        f"Google Sheets refused the request: {message}",
        "Nothing more was written. Run the command again; report it if it repeats.",
        where=where,
    )
