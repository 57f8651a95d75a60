"""Phone numbers: parsed and checked with phonenumbers (Google's libphonenumber data),
written as E.164, with their kind (mobile or landline) and the ranges kept for fiction.

Parsing is the slow part of validating a customer list, so results are cached by the
number's digits, and the common shapes take ``phone_fast``, a copy of phonenumbers'
own steps with its patterns compiled once; everything else takes ``phonenumbers.parse``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..workbook import Cell
from . import phone_fast
from .cells import text


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


def _quick_phone(t: str, region: str) -> PhoneCheck | None:
    """The result of ``_full_phone`` for the common shapes (plain digits in national
    form, or + and digits), from ``phone_fast``'s copy of phonenumbers' steps: about
    four times faster. None for anything else (a test checks the two agree)."""
    parsed = phone_fast.parse(t, region)
    if parsed is None:
        return None
    code, national = parsed
    e164 = f"+{code}{national}"
    fictional = fictional_kind(code, national)
    if fictional is not None:
        return PhoneCheck(e164, fictional, fictional=True)
    kind = phone_fast.type_of(code, national)
    if kind is None:
        return None
    if kind == phone_fast.UNKNOWN:
        reason = phone_fast.length_verdict(code, national)
        return None if reason is None else _not_valid(reason, e164)
    return PhoneCheck(e164, _KIND_NAMES.get(kind, ""))


def _full_phone(t: str, region: str) -> PhoneCheck:
    """The reference path: phonenumbers' own parser, for every shape of number."""
    import phonenumbers
    from phonenumbers import NumberParseException

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
    kind = phone_fast.number_type(number)
    if kind == phone_fast.UNKNOWN:
        return _not_valid(phonenumbers.is_possible_number_with_reason(number), e164)
    return PhoneCheck(e164, _KIND_NAMES.get(kind, ""))


_KIND_NAMES = {phone_fast.MOBILE: "mobile", phone_fast.FIXED_LINE: "landline"}


def _not_valid(reason: int, e164: str) -> PhoneCheck:
    """A number of no known type, by phonenumbers' verdict on its length (a
    ``ValidationResult``): too short, too long, or the right length but not in use."""
    if reason in (phone_fast.TOO_SHORT, phone_fast.INVALID_LENGTH):
        return PhoneCheck("", problem="too-short")
    if reason == phone_fast.TOO_LONG:
        return PhoneCheck("", problem="too-long")
    return PhoneCheck("", problem="invalid", possible=e164)


def normalize_phone(value: Cell, region: str = "GB") -> str:
    """The E.164 form (``'+447911123456'``) of a phone cell, or ``""``. Idempotent."""
    t = text(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and not t.startswith("0"):
        # A number cell lost its leading zero (or plus sign): try both readings.
        first = check_phone(t, region)
        return first.e164 or check_phone("0" + t, region).e164 or check_phone("+" + t, region).e164
    return check_phone(t, region).e164
