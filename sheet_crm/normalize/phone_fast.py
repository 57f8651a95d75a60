"""A faster copy of the steps phonenumbers takes to parse and type a number, for the
shapes most cells hold: plain national digits for the row's country, and ``+`` with a
calling code.

Validating 100,000 customers parses 100,000 numbers; ``phonenumbers.parse`` and
``number_type`` look every pattern up and compile it again for each one. Here each
region's patterns are compiled once, and the steps below follow phonenumbers' own code
(``phonenumberutil.py``), function for function:

- ``parse``: ``parse`` -> ``_maybe_extract_country_code`` (``+`` and a calling code;
  a national number that starts with the international prefix or the country's code
  is left to phonenumbers) -> ``_maybe_strip_national_prefix_carrier_code`` (the trunk
  0, with its transform rule) -> ``_test_number_length`` (keep the prefix when the
  number without it would be too short).
- ``type_of`` and ``number_type``: ``number_type`` -> ``region_code_for_number`` (which
  region of a shared calling code, such as GB, GG, IM and JE for +44) ->
  ``_number_type_helper`` (the special types first, in its order, then fixed line and
  mobile).
- ``length_verdict``: ``is_possible_number_with_reason`` for a number of no known type.

What is copied is code, not data: the metadata (number ranges, lengths, prefixes) is
read from the installed phonenumbers, so its updates reach this path too. The code is
that of the phonenumbers release series ``MIRRORS``; pyproject.toml allows only that
series, ``mirrors_installed`` turns this path off under any other (phonenumbers then
answers everything, slower but never different), and tests/test_normalize.py checks the
installed release, and that both paths give the same answer on generated numbers.

Moving to a new series: diff the functions named above in ``phonenumberutil.py``
between the two releases, carry any change over, run the agreement tests, then raise
``MIRRORS``, ``CHECKED`` and the pin in pyproject.toml together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

MIRRORS = "9.0"  # the phonenumbers release series whose steps this module copies
CHECKED = "9.0.43"  # the release the agreement tests were run on (pyproject.toml's lower bound)

# phonenumbers.ValidationResult values (fixed by libphonenumber; a test compares them).
IS_POSSIBLE, IS_POSSIBLE_LOCAL_ONLY, TOO_SHORT, TOO_LONG, INVALID_LENGTH = 0, 4, 2, 3, 5
# phonenumbers.PhoneNumberType values, without an import per call.
FIXED_LINE, MOBILE, FIXED_LINE_OR_MOBILE, UNKNOWN = 0, 1, 2, 99

_PLAIN_DIGITS = re.compile(r"\+?[0-9]{7,30}")


@cache
def mirrors_installed() -> bool:
    """Whether the installed phonenumbers is of the series this module copies. When it
    is not, ``parse`` answers nothing and ``number_type`` asks phonenumbers."""
    import phonenumbers

    return str(phonenumbers.__version__).split(".")[:2] == MIRRORS.split(".")


def parse(t: str, region: str) -> tuple[int, str] | None:
    """(calling code, national significant number) of ``t`` read as ``region``, as
    ``phonenumbers.parse`` gives them, for plain digits with or without ``+``; None for
    anything else, and for the rare metadata this copy does not handle."""
    if _PLAIN_DIGITS.fullmatch(t) is None or not mirrors_installed():
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
    if _length_verdict(stripped, rules) not in (TOO_SHORT, IS_POSSIBLE_LOCAL_ONLY, INVALID_LENGTH):
        national = stripped
    if not 2 <= len(national) <= 17:
        return None
    return rules.country_code, national


def type_of(country_code: int, national: str) -> int | None:
    """``phonenumbers.number_type`` of a parsed number (a ``PhoneNumberType`` value);
    None when a region of ``country_code`` has no metadata."""
    regions = _regions_of_code(country_code)
    return None if regions is None else _type_of_national(national, regions)


def length_verdict(country_code: int, national: str) -> int | None:
    """``phonenumbers.is_possible_number_with_reason`` of a parsed number (a
    ``ValidationResult`` value); None when the calling code has no usable metadata."""
    main = _parse_rules("", country_code)
    return None if main is None else _length_verdict(national, main)


def number_type(number: Any) -> int:
    """``phonenumbers.number_type(number)``, about three times faster: the same steps
    with phonenumbers' own patterns compiled once (number_type looks every pattern up
    again, and for a country code shared by several regions, such as GB, GG, IM and JE
    for +44, it matches the number against each region's patterns to find its region).
    Anything unusual (non-geographic codes, missing metadata) takes the public path."""
    import phonenumbers

    regions = _regions_of_code(number.country_code)
    if regions is None or not mirrors_installed():
        return int(phonenumbers.number_type(number))
    return _type_of_national(phonenumbers.national_significant_number(number), regions)


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
        return IS_POSSIBLE_LOCAL_ONLY
    lengths = rules.lengths
    if lengths[0] == n:
        return IS_POSSIBLE
    if lengths[0] > n:
        return TOO_SHORT
    if lengths[-1] < n:
        return TOO_LONG
    return IS_POSSIBLE if n in lengths[1:] else INVALID_LENGTH


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


@cache
def _calling_codes() -> frozenset[int]:
    import phonenumbers

    return frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def _type_of_national(national: str, regions: tuple[tuple[Any, Any], ...]) -> int:
    if len(regions) == 1:
        return _type_in_region(national, regions[0][1])
    for leading, table in regions:
        if leading is not None:
            if leading(national):
                return _type_in_region(national, table)
        else:
            kind = _type_in_region(national, table)
            if kind != UNKNOWN:
                return kind
    return UNKNOWN


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


def _type_in_region(national: str, table: Any) -> int:
    """What phonenumbers' number-type helper answers for one region's metadata."""
    general, specials, fixed, mobile, same = table
    if not _matches(national, general):
        return UNKNOWN
    kind = specials(national)
    if kind is not None:
        return kind
    if _matches(national, fixed):
        return FIXED_LINE_OR_MOBILE if same or _matches(national, mobile) else FIXED_LINE
    if not same and _matches(national, mobile):
        return MOBILE
    return UNKNOWN
