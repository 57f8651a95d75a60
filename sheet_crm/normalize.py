"""Turning what the owner typed into typed values, without ever raising.

Each ``parse_*`` returns ``(value, problem)``: the value (or None) and, when the
cell could not be read as wanted, a short problem in plain words. Callers decide
whether that is a finding. Normalising twice equals normalising once.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

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


def text(value: Cell) -> str:
    """A cell as trimmed text; numbers without a spurious ``.0``; dates as ISO."""
    if value is None or isinstance(value, CellError | NoCachedValue):
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return " ".join(str(value).split())


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


def parse_money(value: Cell) -> tuple[float | None, str]:
    """1,234.50 / £1 234,50 / (12.00) / -5 / '12' -> float; blank -> None."""
    if isinstance(value, bool):
        return None, "a yes/no value is not an amount"
    if isinstance(value, int | float):
        return float(value), ""
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
    except InvalidOperation:
        return None, f"'{text(value)}' is not an amount"
    return (-amount if negative else amount), ""


def parse_number(value: Cell) -> tuple[float | None, str]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value), ""
    if is_blank(value):
        return None, ""
    amount, problem = parse_money(value)
    return amount, problem.replace("an amount", "a number")


_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}


def parse_date(value: Cell, *, day_first: bool = True) -> tuple[date | None, str]:
    """A date from a date cell, an Excel serial number, or text in ISO, local
    (``day_first`` decides 03/04/2024) or written-out form. Returns (date, problem);
    an ambiguous local date is read with ``day_first`` and the problem says so."""
    if isinstance(value, datetime):
        return value.date(), ""
    if isinstance(value, date):
        return value, ""
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
        y = y + (2000 if y < 70 else 1900) if y < 100 else y
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
        return date(y, m, d), ""
    except ValueError:
        return None, f"'{t}' is not a real date"


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
