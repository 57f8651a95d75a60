"""Email addresses: checked with email-validator (without the network), typos of the
big mail domains (``gmial.com``), role addresses (``info@``), several addresses in one cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..workbook import Cell
from .cells import text

# Big mail providers whose misspellings are worth catching.
BIG_MAIL_DOMAINS = (
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "ymail.com",
    "hotmail.com", "hotmail.co.uk", "hotmail.fr", "hotmail.de", "outlook.com", "live.com",
    "live.co.uk", "msn.com", "icloud.com", "aol.com", "protonmail.com", "proton.me", "gmx.de",
    "gmx.net", "web.de", "t-online.de", "btinternet.com", "virginmedia.com", "sky.com",
    "comcast.net", "verizon.net", "sbcglobal.net", "bellsouth.net", "orange.fr", "wanadoo.fr",
    "free.fr", "libero.it", "yandex.ru", "mail.ru", "qq.com", "163.com", "bigpond.com",
)  # fmt: skip
# Real domains a letter or two away from a big one: never "corrected".
REAL_NEAR_BIG = frozenset(
    {"mail.com", "email.com", "gmx.com", "me.com", "mac.com", "aim.com", "live.de", "live.fr", "hotmail.it",
     "yahoo.it", "yahoo.es", "outlook.de", "outlook.fr", "yahoo.ca", "gmail.co.uk"}
)  # fmt: skip
ROLE_LOCAL_PARTS = frozenset(
    {
        "info", "sales", "admin", "office", "contact", "hello", "support", "enquiries", "enquiry",
        "inquiries", "accounts", "billing", "team", "mail", "reception", "bookings", "booking",
        "noreply", "no-reply", "marketing", "help", "webmaster", "postmaster", "hr", "jobs",
        "careers", "orders", "service", "customerservice", "post", "events", "press",
    }
)  # fmt: skip

# A conservative subset of addresses (plain ASCII dot-atom local part) whose local part
# email-validator would accept; only their domain needs the library, once per domain.
_SIMPLE_LOCAL = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


@dataclass(frozen=True)
class EmailCheck:
    """What one email cell holds: ``normalized`` ('' when unusable), a ``problem`` kind
    ('' | 'invalid' | 'several'), the library's words for it, a likely typo fix, and
    whether it is a role address (info@, sales@)."""

    normalized: str
    problem: str = ""
    reason: str = ""
    typo_fix: str = ""
    role: bool = False


def normalize_email(value: Cell) -> str:
    """Lower-cased, trimmed address without ``mailto:`` or angle brackets; ``""`` when
    it is not a valid address. Idempotent."""
    return check_email(text(value)).normalized


def _clean_email_text(t: str) -> str:
    t = t.strip().strip("<>").strip()
    if t.lower().startswith("mailto:"):
        t = t[7:]
    return t.strip().lower()


_EMAIL_SEPARATORS = re.compile(r"[;,\s]+")


@lru_cache(maxsize=1 << 18)
def check_email(raw: str) -> EmailCheck:
    """Check one address (cached by value: the same address is checked once)."""
    t = _clean_email_text(raw)
    if not t:
        return EmailCheck("")
    if _EMAIL_SEPARATORS.search(t):
        parts = [p for p in _EMAIL_SEPARATORS.split(t) if p]
        if len(parts) > 1 and sum("@" in p for p in parts) > 1:
            return EmailCheck("", "several", "the cell holds more than one email address")
    local, at, domain = t.rpartition("@")
    if at and _SIMPLE_LOCAL.fullmatch(local) and len(local) <= 64 and len(t) <= 254:
        ok, reason, domain = _check_domain(domain)
        if not ok:
            return EmailCheck("", "invalid", reason)
        address = f"{local}@{domain}"
    else:
        from email_validator import EmailNotValidError, validate_email

        try:
            address = validate_email(t, check_deliverability=False).normalized.lower()
        except EmailNotValidError as exc:
            return EmailCheck("", "invalid", str(exc))
        local, _, domain = address.rpartition("@")
    fix = typo_domain(domain)
    return EmailCheck(
        address,
        typo_fix=f"{local}@{fix}" if fix else "",
        role=local.split("+")[0] in ROLE_LOCAL_PARTS,
    )


@lru_cache(maxsize=1 << 16)
def _check_domain(domain: str) -> tuple[bool, str, str]:
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email("x@" + domain, check_deliverability=False)
    except EmailNotValidError as exc:
        return False, str(exc), domain
    return True, "", checked.domain.lower()


@lru_cache(maxsize=1 << 16)
def typo_domain(domain: str) -> str:
    """The big mail domain ``domain`` is probably a misspelling of (``'gmial.com'`` ->
    ``'gmail.com'``), or ``""``. Adjacent swaps count as one slip."""
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import extractOne

    domain = domain.lower()
    if domain in BIG_MAIL_DOMAINS or domain in REAL_NEAR_BIG or len(domain) < 6:
        return ""
    best = extractOne(domain, BIG_MAIL_DOMAINS, scorer=OSA.distance, score_cutoff=2)
    if best is None:
        return ""
    candidate, distance, _ = best
    if distance == 2 and len(candidate) < 10:
        return ""
    if candidate.split(".")[0][:1] != domain[:1] and distance == 2:
        return ""
    return candidate
