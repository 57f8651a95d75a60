"""Turning what the owner typed into typed values, without ever raising.

Each ``parse_*`` returns ``(value, problem)``: the value (or None) and, when the cell
could not be read as wanted, a short problem in plain words. Callers decide whether
that is a finding. Normalising twice equals normalising once.

- ``cells``: text, yes/no, amounts, numbers, dates (Excel serials too), lists,
  channels, countries.
- ``names``: proper case for people's names, and names typed in one case.
- ``email``: email addresses, typo domains, role addresses.
- ``phone``: phone numbers as E.164, their kind, the ranges kept for fiction.
- ``phone_fast``: phonenumbers' parsing steps for the common shapes, compiled once
  (a copy of one phonenumbers release series, pinned in pyproject.toml).
"""

from __future__ import annotations

from .cells import (
    CHANNELS,
    EARLIEST_DATE,
    FALSE_WORDS,
    MAX_MAGNITUDE,
    TRUE_WORDS,
    country_code,
    has_broken_text,
    impossible_number,
    out_of_range,
    parse_bool,
    parse_channel,
    parse_date,
    parse_money,
    parse_number,
    repair_text,
    split_list,
    text,
)
from .email import (
    BIG_MAIL_DOMAINS,
    REAL_NEAR_BIG,
    ROLE_LOCAL_PARTS,
    EmailCheck,
    check_email,
    normalize_email,
    typo_domain,
)
from .names import MAC_NAMES, NAME_PARTICLES, case_problem, proper_name
from .phone import FICTIONAL_PHONE_RANGES, PhoneCheck, check_phone, fictional_kind, normalize_phone

__all__ = [
    "BIG_MAIL_DOMAINS",
    "CHANNELS",
    "EARLIEST_DATE",
    "FALSE_WORDS",
    "FICTIONAL_PHONE_RANGES",
    "MAC_NAMES",
    "MAX_MAGNITUDE",
    "NAME_PARTICLES",
    "REAL_NEAR_BIG",
    "ROLE_LOCAL_PARTS",
    "TRUE_WORDS",
    "EmailCheck",
    "PhoneCheck",
    "case_problem",
    "check_email",
    "check_phone",
    "country_code",
    "fictional_kind",
    "has_broken_text",
    "impossible_number",
    "normalize_email",
    "normalize_phone",
    "out_of_range",
    "parse_bool",
    "parse_channel",
    "parse_date",
    "parse_money",
    "parse_number",
    "proper_name",
    "repair_text",
    "split_list",
    "text",
    "typo_domain",
]
