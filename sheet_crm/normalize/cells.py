"""Cells as typed values: text, yes/no, amounts, numbers, dates, lists, channels and
countries, never raising.

Each ``parse_*`` returns ``(value, problem)``: the value (or None) and, when the cell
could not be read as wanted, a short problem in plain words. Normalising twice equals
normalising once.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from ..serial import serial_to_datetime
from ..workbook import Cell, CellError, NoCachedValue, is_blank

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
            return serial_to_datetime(int(value)).date(), ""
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
