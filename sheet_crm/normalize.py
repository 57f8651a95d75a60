"""Turning what the owner typed into typed values, without ever raising.

Each ``parse_*`` returns ``(value, problem)``: the value (or None) and, when the
cell could not be read as wanted, a short problem in plain words. Callers decide
whether that is a finding. Normalising twice equals normalising once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any

from .workbook import Cell, CellError, NoCachedValue, is_blank

EXCEL_EPOCH = datetime(1899, 12, 30)

TRUE_WORDS = {
    "yes",
    "y",
    "true",
    "1",
    "x",
    "✓",
    "✔",
    "ok",
    "opt in",
    "opted in",
    "ja",
    "oui",
    "si",
    "sí",
    "agreed",
    "subscribed",
}
FALSE_WORDS = {
    "no",
    "n",
    "false",
    "0",
    "",
    "-",
    "✗",
    "✘",
    "opt out",
    "opted out",
    "nein",
    "non",
    "unsubscribed",
}


_SURROGATE = re.compile("[\ud800-\udfff]")


def has_broken_text(value: str) -> bool:
    """True when text holds a surrogate code point: half of a UTF-16 pair, which is not a
    character (an .xlsx cell can spell one as ``_xD800_``). Such text cannot be encoded,
    printed or sent. ``isascii`` is a flag lookup, so plain text costs nothing here."""
    return not value.isascii() and _SURROGATE.search(value) is not None


def repair_text(value: str) -> str:
    """``value`` with each surrogate pair joined into its character and each lone half
    replaced by U+FFFD, the replacement character every program shows as such."""
    if not has_broken_text(value):
        return value
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def text(value: Cell) -> str:
    """A cell as trimmed text; numbers without a spurious ``.0``; dates as ISO. Text
    never keeps a lone surrogate (see ``repair_text``)."""
    if type(value) is str:  # the common case first
        t = " ".join(value.split())
        return t if t.isascii() else repair_text(t)
    if value is None or isinstance(value, CellError | NoCachedValue):
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int) and value.bit_length() > 13_000:
        return "a whole number of over 3,900 digits"  # str() refuses ints past 4,300 digits
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return repair_text(" ".join(str(value).split()))


def parse_bool(value: Cell) -> tuple[bool | None, str]:
    """yes/no/y/n/true/false/1/0/x/✓ -> bool; blank -> None."""
    if isinstance(value, bool):
        return value, ""
    if is_blank(value):
        return None, ""
    if isinstance(value, int | float):
        if value in (0, 1):
            return bool(value), ""
        return None, f"'{text(value)}' is not yes or no"
    t = text(value).lower().strip(".!")
    if t in TRUE_WORDS:
        return True, ""
    if t in FALSE_WORDS:
        return False, ""
    return None, f"'{text(value)}' is not yes or no"


_MONEY_STRIP = re.compile(r"[\s$€£¥₹₩₽¤]|(?i:usd|eur|gbp|aud|cad|nzd|chf|jpy|inr|zar|sek|nok|dkk)")


# The largest amount, quantity or numeric setting taken as real: a million million.
# No order, quantity or setting of a small business comes near it, so anything beyond
# is a broken formula, an export gone wrong or a stray paste (1e309 reads as infinity).
# Below it an amount is still exact to the cent in a float (cents up to 9e15 are), and a
# million such orders add up to 1e18, far from overflowing: totals and tiers stay true.
MAX_MAGNITUDE = 1e12


def out_of_range(number: float) -> bool:
    """True for NaN, an infinity, or a number beyond ``MAX_MAGNITUDE`` either way."""
    return not abs(number) <= MAX_MAGNITUDE  # NaN compares false


def _impossible(value: Cell, noun: str) -> str:
    return f"{text(value)} is not a possible {noun} (more than {MAX_MAGNITUDE:,.0f}, or not a number at all)"


def parse_money(value: Cell) -> tuple[float | None, str]:
    """1,234.50 / £1 234,50 / (12.00) / -5 / '12' -> float; blank -> None. NaN, infinity
    and amounts beyond ``MAX_MAGNITUDE`` are not amounts."""
    amount, problem = _money(value)
    if amount is not None and out_of_range(amount):
        return None, _impossible(value, "amount")
    return amount, problem


def impossible_number(value: Cell) -> bool:
    """True when a cell reads as a number, but not a possible one: NaN, an infinity, or
    beyond ``MAX_MAGNITUDE`` (what ``parse_money`` and ``parse_number`` refuse)."""
    amount, _problem = _money(value)
    return amount is not None and out_of_range(amount)


def _money(value: Cell) -> tuple[float | None, str]:
    if isinstance(value, bool):
        return None, "a yes/no value is not an amount"
    if isinstance(value, int):
        # A 400-digit whole number is a Python int; float() of it would raise.
        return (float(value) if abs(value) <= MAX_MAGNITUDE else float("inf")), ""
    if isinstance(value, float):
        return value, ""
    if is_blank(value) or isinstance(value, CellError | NoCachedValue):
        return None, "" if is_blank(value) else f"the cell shows {value}"
    t = _MONEY_STRIP.sub("", str(value))
    negative = False
    if t.startswith("(") and t.endswith(")"):
        negative, t = True, t[1:-1]
    if t.startswith("-"):
        negative, t = not negative, t[1:]
    if t.endswith("-"):
        negative, t = not negative, t[:-1]
    if not t or not re.fullmatch(r"[0-9.,']+", t):
        return None, f"'{text(value)}' is not an amount"
    t = t.replace("'", "")
    if "," in t and "." in t:
        # The later separator is the decimal one: 1,234.50 or 1.234,50.
        if t.rfind(",") > t.rfind("."):
            t = t.replace(".", "").replace(",", ".")
        else:
            t = t.replace(",", "")
    elif "," in t:
        head, _, tail = t.rpartition(",")
        t = t.replace(",", "") if len(tail) == 3 and head else head.replace(",", "") + "." + tail
    elif t.count(".") > 1:
        t = t.replace(".", "")
    try:
        amount = float(Decimal(t))
    except (InvalidOperation, OverflowError):
        return None, f"'{text(value)}' is not an amount"
    return (-amount if negative else amount), ""


def parse_number(value: Cell) -> tuple[float | None, str]:
    """A number from a number cell or text typed like one (``'1,5'``, ``'12 units'`` is
    not); NaN, infinity and numbers beyond ``MAX_MAGNITUDE`` are not numbers here."""
    if is_blank(value):
        return None, ""
    number, problem = _money(value)
    if number is not None and out_of_range(number):
        return None, _impossible(value, "number")
    return number, problem.replace("an amount", "a number")


_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}


def parse_date(value: Cell, *, day_first: bool = True) -> tuple[date | None, str]:
    """A date from a date cell, an Excel serial number, or text in ISO, local
    (``day_first`` decides 03/04/2024) or written-out form. Returns (date, problem);
    an ambiguous local date is read with ``day_first`` and the problem says so. A date
    before ``EARLIEST_DATE`` is not taken as one (see there)."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return (None, _too_early(value)) if value < EARLIEST_DATE else (value, "")
    if isinstance(value, bool):
        return None, "a yes/no value is not a date"
    if isinstance(value, int | float):
        if 1 <= value < 2958466:  # Excel's serial range (1900-01-01 .. 9999-12-31)
            return (EXCEL_EPOCH + timedelta(days=int(value))).date(), ""
        return None, f"{text(value)} is not a date"
    if is_blank(value) or isinstance(value, CellError | NoCachedValue):
        return None, "" if is_blank(value) else f"the cell shows {value}"
    t = text(value).strip().rstrip(".")
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?", t)
    if m:
        return _mk(int(m[1]), int(m[2]), int(m[3]), t)
    m = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})", t)
    if m:
        a, b, y = int(m[1]), int(m[2]), int(m[3])
        # Two-digit years as Excel and Google Sheets read them: 00-29 -> 2000s, 30-99 -> 1900s.
        y = y + (2000 if y < 30 else 1900) if y < 100 else y
        if a > 12 >= b:
            return _mk(y, b, a, t)
        if b > 12 >= a:
            return _mk(y, a, b, t)
        d, problem = _mk(y, b, a, t) if day_first else _mk(y, a, b, t)
        if d is not None and a != b:
            order = "day/month" if day_first else "month/day"
            return d, f"'{t}' could be either day/month or month/day; read as {order}"
        return d, problem
    m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?[ -]([A-Za-z]{3,})\.?,?[ -](\d{4})", t)
    if m and m[2][:3].lower() in _MONTHS:
        return _mk(int(m[3]), _MONTHS[m[2][:3].lower()], int(m[1]), t)
    m = re.fullmatch(r"([A-Za-z]{3,})\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})", t)
    if m and m[1][:3].lower() in _MONTHS:
        return _mk(int(m[3]), _MONTHS[m[1][:3].lower()], int(m[2]), t)
    if re.fullmatch(r"\d{5}(\.\d+)?", t):
        return parse_date(float(t))
    return None, f"'{t}' is not a date"


def _mk(y: int, m: int, d: int, t: str) -> tuple[date | None, str]:
    try:
        made = date(y, m, d)
    except ValueError:
        return None, f"'{t}' is not a real date"
    return (None, _too_early(made)) if made < EARLIEST_DATE else (made, "")


# No birthday, order, interaction or "customer since" in a customer workbook is older.
# Excel cannot even show a date before 1900 (its serial would be negative), so an older
# date comes from a damaged cell (a negative serial in a date-formatted cell, an ISO
# date like 0001-01-01) or a typo; taking it would put a customer 2,000 years back in
# every recency figure. 1800 leaves room for the "born in 1890" typo that validation
# reports as implausible rather than impossible.
EARLIEST_DATE = date(1800, 1, 1)


def _too_early(d: date) -> str:
    return f"{d.isoformat()} is before {EARLIEST_DATE.year}, too early for any date in a customer workbook"


def split_list(value: Cell) -> list[str]:
    """'tea; vegetarian, quiet room' -> ['tea', 'vegetarian', 'quiet room']."""
    t = text(value)
    if not t:
        return []
    return [p.strip() for p in re.split(r"[;,\n|]+", t) if p.strip()]


CHANNELS = {
    "email": "email",
    "e-mail": "email",
    "mail": "email",
    "e mail": "email",
    "sms": "sms",
    "text": "sms",
    "text message": "sms",
    "whatsapp": "sms",
    "mobile": "sms",
    "phone": "phone",
    "call": "phone",
    "telephone": "phone",
    "phone call": "phone",
    "letter": "letter",
    "post": "letter",
    "postal": "letter",
    "mail letter": "letter",
}


def parse_channel(value: Cell) -> tuple[str, str]:
    """A preferred channel as one of email, sms, phone, letter ("" when blank)."""
    t = text(value).lower()
    if not t:
        return "", ""
    if t in CHANNELS:
        return CHANNELS[t], ""
    return "", f"'{text(value)}' is not a channel sheet-crm knows (email, SMS, phone, letter)"


# ---------------------------------------------------------------- names

# Lower-case particles of family names ("Ludwig van Beethoven", "Ana de la Cruz").
NAME_PARTICLES = frozenset(
    {
        "van",
        "der",
        "den",
        "de",
        "von",
        "da",
        "di",
        "du",
        "del",
        "della",
        "dos",
        "das",
        "do",
        "ten",
        "ter",
        "zu",
        "la",
        "le",
    }
)
# "Mac" is only capitalised inside these names: Mack, Macy, Mace, Machado, Macias,
# Mackie ... are names of their own, so a rule on the prefix would spoil them.
MAC_NAMES = frozenset(
    {
        "macarthur", "macaulay", "macbeth", "maccallum", "macdonald", "macdougall", "macdowell",
        "macfarlane", "macgregor", "macinnes", "macintosh", "macintyre", "mackay", "mackenzie",
        "mackinnon", "mackintosh", "maclachlan", "maclean", "maclennan", "macleod", "macmillan",
        "macnamara", "macneil", "macneill", "macpherson", "macquarie", "macrae", "macsween",
    }
)  # fmt: skip
_ROMAN = frozenset({"ii", "iii", "iv", "vi", "vii", "viii"})


def _cap(part: str) -> str:
    """First letter upper, the rest lower, never changing the length (``ß``, ``ﬁ``
    have no one-letter capital, so they stay as they are: that keeps it idempotent)."""
    if not part:
        return part
    first, rest = part[0], part[1:].lower()
    up = first.upper()
    if len(up) != 1 or up.lower() != first.lower():
        up = first
    return up + rest


def _proper_word(word: str) -> str:
    low = word.lower()
    if low in _ROMAN:
        return low.upper()
    if low.startswith("mc") and len(low) > 2 and low[2].isalpha():
        return "Mc" + _cap(low[2:])
    if low in MAC_NAMES:
        return "Mac" + _cap(low[3:])
    return _cap(low)


def proper_name(value: Cell, *, family: bool = False) -> str:
    """A name in proper case: ``'MARY-JANE O'NEIL'`` -> ``'Mary-Jane O'Neil'``,
    ``'mcdonald'`` -> ``'McDonald'``, family name ``'VAN DER BERG'`` -> ``'van der Berg'``.

    Particles (van, der, de, von ...) are lower case in a family name, or inside a full
    name, but never as the last word (the given name "Di" stays "Di"). Idempotent.
    """
    words = text(value).split(" ")
    out: list[str] = []
    for i, word in enumerate(words):
        low = word.lower()
        last = i == len(words) - 1
        if low in NAME_PARTICLES and not last and (family or i > 0):
            out.append(low)
            continue
        pieces = re.split(r"([-'’])", word)
        fixed: list[str] = []
        for j, piece in enumerate(pieces):
            if j >= 2 and pieces[j - 1] in "'’" and len(pieces[j - 2]) > 1:
                # Jones's -> Jones's, not Jones'S; but O'neil -> O'Neil, d'arcy -> D'Arcy.
                fixed.append(piece.lower() if len(piece) <= 1 else _proper_word(piece))
            else:
                fixed.append(_proper_word(piece))
        out.append("".join(fixed))
    return " ".join(out)


def case_problem(value: str) -> bool:
    """True for a name typed ALL CAPS or all lower case (at least two letters)."""
    letters = [ch for ch in value if ch.isalpha()]
    if len(letters) < 2:
        return False
    cased = [ch for ch in letters if ch.isupper() or ch.islower()]
    if len(cased) < 2:
        return False  # scripts without case (Chinese, Arabic ...) are fine as they are
    return all(ch.isupper() for ch in cased) or all(ch.islower() for ch in cased)


# ---------------------------------------------------------------- countries

_COUNTRY_NAMES = {
    "united kingdom": "GB", "uk": "GB", "u.k.": "GB", "great britain": "GB", "britain": "GB",
    "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB", "gbr": "GB",
    "united states": "US", "united states of america": "US", "usa": "US", "u.s.": "US",
    "u.s.a.": "US", "america": "US", "ireland": "IE", "eire": "IE", "france": "FR", "fra": "FR",
    "germany": "DE", "deutschland": "DE", "deu": "DE", "spain": "ES", "españa": "ES", "espana": "ES",
    "italy": "IT", "italia": "IT", "netherlands": "NL", "the netherlands": "NL", "holland": "NL",
    "nederland": "NL", "belgium": "BE", "belgique": "BE", "belgië": "BE", "switzerland": "CH",
    "schweiz": "CH", "suisse": "CH", "austria": "AT", "österreich": "AT", "portugal": "PT",
    "sweden": "SE", "sverige": "SE", "norway": "NO", "norge": "NO", "denmark": "DK", "danmark": "DK",
    "finland": "FI", "suomi": "FI", "poland": "PL", "polska": "PL", "canada": "CA", "australia": "AU",
    "new zealand": "NZ", "india": "IN", "south africa": "ZA", "mexico": "MX", "méxico": "MX",
    "brazil": "BR", "brasil": "BR", "japan": "JP", "china": "CN", "singapore": "SG",
    "hong kong": "HK", "united arab emirates": "AE", "uae": "AE", "greece": "GR", "czechia": "CZ",
    "czech republic": "CZ", "hungary": "HU", "romania": "RO", "iceland": "IS", "luxembourg": "LU",
    "israel": "IL", "turkey": "TR", "türkiye": "TR", "argentina": "AR", "chile": "CL",
    "colombia": "CO", "south korea": "KR", "korea": "KR", "malaysia": "MY", "philippines": "PH",
    "thailand": "TH", "vietnam": "VN", "indonesia": "ID", "nigeria": "NG", "kenya": "KE",
    "egypt": "EG", "saudi arabia": "SA", "croatia": "HR", "slovenia": "SI", "slovakia": "SK",
    "estonia": "EE", "latvia": "LV", "lithuania": "LT", "malta": "MT", "cyprus": "CY",
}  # fmt: skip


def country_code(value: Cell) -> str:
    """A two-letter country code phonenumbers knows, from a code or a country name as
    owners type it (``'UK'``, ``'United Kingdom'``, ``'de'``); ``""`` when unknown."""
    import phonenumbers

    t = text(value).strip().lower()
    if not t:
        return ""
    if t in _COUNTRY_NAMES:
        return _COUNTRY_NAMES[t]
    if len(t) == 2 and t.upper() in phonenumbers.SUPPORTED_REGIONS:
        return t.upper()
    return ""


# ---------------------------------------------------------------- emails

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


# ---------------------------------------------------------------- phones


@dataclass(frozen=True)
class PhoneCheck:
    """What one phone cell holds: ``e164`` ('' when not a valid number), ``kind``
    (mobile | landline | ''), a ``problem`` kind ('' | 'too-short' | 'too-long' |
    'invalid' | 'no-country'), for a possible but unassigned number the E.164 form
    anyway in ``possible``, and whether it is in a range reserved for fiction
    (``FICTIONAL_PHONE_RANGES``: a usable number, but nobody's)."""

    e164: str
    kind: str = ""
    problem: str = ""
    possible: str = ""
    fictional: bool = False


# Numbers set aside so that films, TV, books and examples never ring a real person. The
# regulators keep them out of service, so phonenumbers rejects some of them (07700 900xxx,
# 01632 960xxx) and accepts others like any number; either way they are well-formed and
# never a real customer's. Each entry: country calling code, the national significant
# number as a template (a digit stands for itself, x for any digit, N for 2-9), and the
# line type the range stands for ("" when it is neither mobile nor landline, or could be
# either, as for every US number).
FICTIONAL_PHONE_RANGES: tuple[tuple[int, str, str], ...] = (
    # Ofcom, "TV, film and radio drama telephone numbers" (UK).
    (44, "7700900xxx", "mobile"),  # 07700 900000-900999
    (44, "1632960xxx", "landline"),  # 01632 960000-960999 (no geographic area)
    (44, "2079460xxx", "landline"),  # 020 7946 0000-0999 London
    (44, "1134960xxx", "landline"),  # 0113 496 0000-0999 Leeds
    (44, "1144960xxx", "landline"),  # 0114 Sheffield
    (44, "1154960xxx", "landline"),  # 0115 Nottingham
    (44, "1164960xxx", "landline"),  # 0116 Leicester
    (44, "1174960xxx", "landline"),  # 0117 Bristol
    (44, "1184960xxx", "landline"),  # 0118 Reading
    (44, "1214960xxx", "landline"),  # 0121 Birmingham
    (44, "1314960xxx", "landline"),  # 0131 Edinburgh
    (44, "1414960xxx", "landline"),  # 0141 Glasgow
    (44, "1514960xxx", "landline"),  # 0151 Liverpool
    (44, "1614960xxx", "landline"),  # 0161 Manchester
    (44, "2896496xxx", "landline"),  # 028 9649 6000-6999 Belfast
    (44, "2920180xxx", "landline"),  # 029 2018 0000-0999 Cardiff
    (44, "1914980xxx", "landline"),  # 0191 498 0000-0999 Tyneside
    (44, "8081570xxx", ""),  # 0808 157 0000-0999 freephone
    (44, "9098790xxx", ""),  # 0909 879 0000-0999 premium rate
    (44, "3069990xxx", ""),  # 03069 990000-990999 UK-wide
    # North American Numbering Plan: 555-0100 to 555-0199 in every area code is for fiction.
    (1, "Nxx55501xx", ""),
)


def _range_pattern(template: str) -> str:
    return "".join({"x": "[0-9]", "N": "[2-9]"}.get(ch, ch) for ch in template)


def _compile_ranges() -> dict[int, tuple[re.Pattern[str], tuple[str, ...]]]:
    """calling code -> (one pattern for all its ranges, the kind of each alternative)."""
    out = {}
    for country in {code for code, _, _ in FICTIONAL_PHONE_RANGES}:
        ranges = [(t, kind) for code, t, kind in FICTIONAL_PHONE_RANGES if code == country]
        pattern = re.compile("|".join(f"({_range_pattern(t)})" for t, _ in ranges))
        out[country] = (pattern, tuple(kind for _, kind in ranges))
    return out


_FICTIONAL = _compile_ranges()


def fictional_kind(country_code: int, national: str) -> str | None:
    """The line type of a number in a range reserved for fiction (see
    ``FICTIONAL_PHONE_RANGES``), or None for every other number."""
    entry = _FICTIONAL.get(country_code)
    if entry is None:
        return None
    m = entry[0].fullmatch(national)
    return entry[1][m.lastindex - 1] if m and m.lastindex else None


# A number typed with nothing but digits, a leading +, spaces, dots and hyphens:
# phonenumbers ignores those separators, so the digits alone are the key. (Brackets are
# not just separators to it: "1(0)" and "10" read differently.)
_PLAIN_PHONE = re.compile(r"\+?[0-9][0-9 .-]*")
_SEPARATORS = str.maketrans("", "", " .-")


def check_phone(raw: str, region: str) -> PhoneCheck:
    """Parse a phone number with phonenumbers, reading national numbers as ``region``.

    Parsing is the slow part of validation, so results are cached by (digits, region):
    "07911 123456", "07911-123456" and "(07911) 123456" are parsed once."""
    t = raw.strip()
    if t.startswith("00"):
        t = "+" + t[2:]
    if _PLAIN_PHONE.fullmatch(t):
        compact = t.translate(_SEPARATORS)
        if len(compact) >= 7:  # below that phonenumbers' length rules count the separators too
            t = compact
    return _parse_phone(t, region)


@lru_cache(maxsize=1 << 18)
def _parse_phone(t: str, region: str) -> PhoneCheck:
    if not t:
        return PhoneCheck("")
    quick = _quick_phone(t, region)
    return quick if quick is not None else _full_phone(t, region)


def _full_phone(t: str, region: str) -> PhoneCheck:
    """The reference path: phonenumbers' own parser, for every shape of number."""
    import phonenumbers
    from phonenumbers import NumberParseException, ValidationResult

    try:
        number = phonenumbers.parse(t, region or None)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            return PhoneCheck("", problem="no-country")
        if exc.error_type in (NumberParseException.TOO_SHORT_NSN, NumberParseException.TOO_SHORT_AFTER_IDD):
            return PhoneCheck("", problem="too-short")
        if exc.error_type == NumberParseException.TOO_LONG:
            return PhoneCheck("", problem="too-long")
        return PhoneCheck("", problem="invalid")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    fictional = fictional_kind(number.country_code, phonenumbers.national_significant_number(number))
    if fictional is not None:
        return PhoneCheck(e164, fictional, fictional=True)
    # The type is UNKNOWN exactly when the number is not valid for its region (that is
    # how is_valid_number decides), so one call answers both questions.
    kind = _number_type(number)
    if kind == _UNKNOWN:
        reason = phonenumbers.is_possible_number_with_reason(number)
        if reason in (ValidationResult.TOO_SHORT, ValidationResult.INVALID_LENGTH):
            return PhoneCheck("", problem="too-short")
        if reason == ValidationResult.TOO_LONG:
            return PhoneCheck("", problem="too-long")
        return PhoneCheck("", problem="invalid", possible=e164)
    return PhoneCheck(e164, _KIND_NAMES.get(kind, ""))


# phonenumbers.ValidationResult values (fixed by libphonenumber).
_IS_POSSIBLE, _LOCAL_ONLY, _TOO_SHORT, _TOO_LONG, _INVALID_LENGTH = 0, 4, 2, 3, 5
_PLAIN_DIGITS = re.compile(r"\+?[0-9]{7,30}")


@dataclass(frozen=True)
class _ParseRules:
    """One region's (or calling code's) metadata as phonenumbers' parser uses it,
    compiled once."""

    country_code: int
    code_text: str
    idd: Any  # compiled international prefix's match, or None
    prefix: re.Pattern[str] | None  # national prefix for parsing
    transform: str
    general: Any  # fullmatch of the general pattern, or None
    lengths: tuple[int, ...]
    local_lengths: frozenset[int]


@cache
def _parse_rules(region: str, country_code: int = 0) -> _ParseRules | None:
    """Rules for ``region``, or (``region`` empty) for the main region of
    ``country_code``; None when the metadata is missing or unusual."""
    import phonenumbers

    if region:
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    else:
        main = phonenumbers.region_code_for_country_code(country_code)
        metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(country_code, main)
    if metadata is None or metadata.general_desc is None or not metadata.general_desc.possible_length:
        return None
    general = metadata.general_desc
    prefix = metadata.national_prefix_for_parsing
    compiled = re.compile(prefix) if prefix else None
    transform = metadata.national_prefix_transform_rule or ""
    if compiled is not None and transform and compiled.groups == 0:
        return None  # phonenumbers itself would stumble on this (it never occurs)
    idd = metadata.international_prefix
    return _ParseRules(
        metadata.country_code,
        str(metadata.country_code),
        re.compile(idd).match if idd is not None else None,
        compiled,
        transform,
        re.compile(general.national_number_pattern).fullmatch if general.national_number_pattern else None,
        tuple(general.possible_length),
        frozenset(general.possible_length_local_only),
    )


def _length_verdict(national: str, rules: _ParseRules) -> int:
    """phonenumbers' length test of a national number against the general lengths."""
    n = len(national)
    if n in rules.local_lengths:
        return _LOCAL_ONLY
    lengths = rules.lengths
    if lengths[0] == n:
        return _IS_POSSIBLE
    if lengths[0] > n:
        return _TOO_SHORT
    if lengths[-1] < n:
        return _TOO_LONG
    return _IS_POSSIBLE if n in lengths[1:] else _INVALID_LENGTH


def _strip_national_prefix(number: str, rules: _ParseRules) -> str:
    """The number without its national prefix (the trunk 0 in GB, 1 in the US), the
    way phonenumbers' parser takes it off."""
    prefix = rules.prefix
    if prefix is None:
        return number
    m = prefix.match(number)
    if m is None:
        return number
    general = rules.general
    viable = general is not None and general(number) is not None
    if not rules.transform or m.groups()[-1] is None:
        rest = number[m.end() :]
    else:
        rest = prefix.sub(rules.transform, number, count=1)
    if viable and (general is None or general(rest) is None):
        return number
    return rest


def _quick_phone(t: str, region: str) -> PhoneCheck | None:
    """The result of ``_full_phone`` for the common shapes (plain digits in national
    form, or + and digits), worked out with phonenumbers' own rules compiled once:
    about four times faster. None for anything else (a test checks the two agree)."""
    if _PLAIN_DIGITS.fullmatch(t) is None:
        return None
    if t[0] == "+":
        digits = t[1:]
        if digits[0] == "0":
            return None
        calling_codes = _calling_codes()
        for size in (1, 2, 3):
            code = int(digits[:size])
            if code in calling_codes:
                break
        else:
            return None
        rules = _parse_rules("", code)
        national = digits[size:]
        if rules is None or len(national) < 2:
            return None
    else:
        if not region:
            return None
        rules = _parse_rules(region)
        if rules is None or (rules.idd is not None and rules.idd(t)) or t.startswith(rules.code_text):
            return None
        national = t
    stripped = _strip_national_prefix(national, rules)
    if _length_verdict(stripped, rules) not in (_TOO_SHORT, _LOCAL_ONLY, _INVALID_LENGTH):
        national = stripped
    if not 2 <= len(national) <= 17:
        return None
    code = rules.country_code
    e164 = f"+{code}{national}"
    fictional = fictional_kind(code, national)
    if fictional is not None:
        return PhoneCheck(e164, fictional, fictional=True)
    regions = _regions_of_code(code)
    if regions is None:
        return None
    kind = _type_of_national(national, regions)
    if kind == _UNKNOWN:
        main = _parse_rules("", code)
        if main is None:
            return None
        reason = _length_verdict(national, main)
        if reason in (_TOO_SHORT, _INVALID_LENGTH):
            return PhoneCheck("", problem="too-short")
        if reason == _TOO_LONG:
            return PhoneCheck("", problem="too-long")
        return PhoneCheck("", problem="invalid", possible=e164)
    return PhoneCheck(e164, _KIND_NAMES.get(kind, ""))


@cache
def _calling_codes() -> frozenset[int]:
    import phonenumbers

    return frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def _number_type(number: Any) -> int:
    """``phonenumbers.number_type(number)``, about three times faster: the same steps
    with phonenumbers' own patterns compiled once (number_type looks every pattern up
    again, and for a country code shared by several regions, such as GB, GG, IM and JE
    for +44, it matches the number against each region's patterns to find its region).
    Anything unusual (non-geographic codes, missing metadata) takes the public path."""
    import phonenumbers

    regions = _regions_of_code(number.country_code)
    if regions is None:
        return int(phonenumbers.number_type(number))
    return _type_of_national(phonenumbers.national_significant_number(number), regions)


def _type_of_national(national: str, regions: tuple[tuple[Any, Any], ...]) -> int:
    if len(regions) == 1:
        return _type_in_region(national, regions[0][1])
    for leading, table in regions:
        if leading is not None:
            if leading(national):
                return _type_in_region(national, table)
        else:
            kind = _type_in_region(national, table)
            if kind != _UNKNOWN:
                return kind
    return _UNKNOWN


@cache
def _regions_of_code(country_code: int) -> tuple[tuple[Any, Any], ...] | None:
    """(leading-digits matcher or None, type table) for each region sharing
    ``country_code``, in phonenumbers' order; None when one has no metadata."""
    import phonenumbers

    out = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ()):
        table = _type_table(region)
        if table is None:
            return None
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        leading = re.compile(metadata.leading_digits).match if metadata.leading_digits is not None else None
        out.append((leading, table))
    return tuple(out) or None


# The number types phonenumbers tries before fixed line and mobile, in its order.
_SPECIAL_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
                  "voicemail")  # fmt: skip
_Desc = tuple[frozenset[int], Any] | None  # (possible lengths, compiled pattern's fullmatch)


@cache
def _type_table(region: str) -> tuple[_Desc, Any, _Desc, _Desc, bool] | None:
    """phonenumbers' own patterns for ``region``, compiled once, in the order its
    number_type tries them (it looks each pattern up again for every number)."""
    import phonenumbers
    from phonenumbers import PhoneNumberType

    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None:
        return None

    def desc(d: Any) -> _Desc:
        if d is None or not d.national_number_pattern:
            return None
        return frozenset(d.possible_length), re.compile(d.national_number_pattern).fullmatch

    specials = [
        (int(getattr(PhoneNumberType, name.upper())), getattr(metadata, name)) for name in _SPECIAL_TYPES
    ]
    return (
        desc(metadata.general_desc),
        _special_types(
            [(kind, d) for kind, d in specials if d is not None and d.national_number_pattern],
            [(kind, desc(d)) for kind, d in specials],
        ),
        desc(metadata.fixed_line),
        desc(metadata.mobile),
        bool(metadata.same_mobile_and_fixed_line_pattern),
    )


def _special_types(descs: list[tuple[int, Any]], compiled: list[tuple[int, _Desc]]) -> Any:
    """A function giving the first special type (premium rate, toll free ...) whose
    pattern and lengths ``national`` matches, in phonenumbers' order, or None.

    Per number length, the patterns that allow that length are joined into one
    alternation: a full match takes the first alternative that matches the whole number,
    which is the first type phonenumbers' loop would find, in one regex call instead of
    eight. Patterns with back-references (which the joining would renumber) keep the loop."""

    def one_by_one(national: str) -> int | None:
        for kind, d in compiled:
            if _matches(national, d):
                return kind
        return None

    if any(re.search(r"\\[1-9]|\(\?P", d.national_number_pattern) for _, d in descs):
        return one_by_one
    by_length: dict[int, tuple[Any, tuple[tuple[int, int], ...]] | None] = {}
    for n in range(1, _MAX_NATIONAL + 1):
        alternatives, groups, index = [], [], 1
        for kind, d in descs:
            if d.possible_length and n not in d.possible_length:
                continue
            alternatives.append(f"({d.national_number_pattern})")
            groups.append((index, kind))
            index += 1 + re.compile(d.national_number_pattern).groups
        by_length[n] = (re.compile("|".join(alternatives)).fullmatch, tuple(groups)) if alternatives else None

    def joined(national: str) -> int | None:
        n = len(national)
        if n not in by_length:
            return one_by_one(national)
        entry = by_length[n]
        if entry is None:
            return None
        m = entry[0](national)
        if m is None:
            return None
        for index, kind in entry[1]:
            if m.start(index) != -1:
                return kind
        return None  # not reached: one alternative matched

    return joined


_MAX_NATIONAL = 17  # phonenumbers' longest national significant number


def _matches(national: str, d: _Desc) -> bool:
    if d is None:
        return False
    lengths, fullmatch = d
    return (not lengths or len(national) in lengths) and fullmatch(national) is not None


# phonenumbers.PhoneNumberType values (fixed by libphonenumber), without an import per call.
_FIXED_LINE, _MOBILE, _FIXED_LINE_OR_MOBILE, _UNKNOWN = 0, 1, 2, 99
_KIND_NAMES = {_MOBILE: "mobile", _FIXED_LINE: "landline"}


def _type_in_region(national: str, table: Any) -> int:
    """What phonenumbers' number-type helper answers for one region's metadata."""
    general, specials, fixed, mobile, same = table
    if not _matches(national, general):
        return _UNKNOWN
    kind = specials(national)
    if kind is not None:
        return kind
    if _matches(national, fixed):
        return _FIXED_LINE_OR_MOBILE if same or _matches(national, mobile) else _FIXED_LINE
    if not same and _matches(national, mobile):
        return _MOBILE
    return _UNKNOWN


def normalize_phone(value: Cell, region: str = "GB") -> str:
    """The E.164 form (``'+447911123456'``) of a phone cell, or ``""``. Idempotent."""
    t = text(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and not t.startswith("0"):
        # A number cell lost its leading zero (or plus sign): try both readings.
        first = check_phone(t, region)
        return first.e164 or check_phone("0" + t, region).e164 or check_phone("+" + t, region).e164
    return check_phone(t, region).e164
