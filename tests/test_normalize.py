"""Normalisers: what each turns a cell into, and that normalising twice equals once."""

from __future__ import annotations

import importlib.metadata
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from sheet_crm.normalize import (
    FICTIONAL_PHONE_RANGES,
    case_problem,
    check_email,
    check_phone,
    country_code,
    has_broken_text,
    impossible_number,
    normalize_email,
    normalize_phone,
    parse_bool,
    parse_date,
    parse_money,
    parse_number,
    proper_name,
    repair_text,
    text,
    typo_domain,
)


@pytest.mark.parametrize(
    ("typed", "family", "proper"),
    [
        ("ANN", False, "Ann"),
        ("mary-jane", False, "Mary-Jane"),
        ("O'NEIL", True, "O'Neil"),
        ("d'arcy", True, "D'Arcy"),
        ("MCDONALD", True, "McDonald"),
        ("MACDONALD", True, "MacDonald"),
        ("MACY", True, "Macy"),  # not every Mac is a Mac
        ("MACK", True, "Mack"),
        ("VAN DER BERG", True, "van der Berg"),
        ("VON TRAPP", True, "von Trapp"),
        ("DE LA CRUZ", True, "de la Cruz"),
        ("LUDWIG VAN BEETHOVEN", False, "Ludwig van Beethoven"),
        ("di", False, "Di"),  # a given name, not a particle
        ("SMITH-JONES", True, "Smith-Jones"),
        ("HENRY FORD III", False, "Henry Ford III"),
        ("JONES'S", True, "Jones's"),
        ("ZOË", False, "Zoë"),
    ],
)
def test_proper_name(typed: str, family: bool, proper: str) -> None:
    assert proper_name(typed, family=family) == proper


@pytest.mark.parametrize(
    ("name", "flagged"),
    [("ANN", True), ("ann", True), ("Ann", False), ("McDONALD", False), ("A", False), ("李小龙", False)],
)
def test_case_problem(name: str, flagged: bool) -> None:
    assert case_problem(name) is flagged


@pytest.mark.parametrize(
    ("typed", "normalized"),
    [
        (" Ann@Example.COM ", "ann@example.com"),
        ("<ann@example.com>", "ann@example.com"),
        ("MAILTO:ann@example.com", "ann@example.com"),
        ("ann@example", ""),
        ("ann", ""),
        ("a@x.com; b@y.com", ""),
        ("josé@exämple.com", "josé@exämple.com"),
        (None, ""),
        (42, ""),
    ],
)
def test_normalize_email(typed: Any, normalized: str) -> None:
    assert normalize_email(typed) == normalized


@pytest.mark.parametrize(
    ("domain", "fix"),
    [
        ("gmial.com", "gmail.com"),
        ("gmail.con", "gmail.com"),
        ("gmail.co", "gmail.com"),
        ("hotmial.com", "hotmail.com"),
        ("yaho.com", "yahoo.com"),
        ("yahooo.co.uk", "yahoo.co.uk"),
        ("outlok.com", "outlook.com"),
        ("gmail.com", ""),
        ("mail.com", ""),
        ("me.com", ""),
        ("example.com", ""),
        ("acme-gmbh.de", ""),
    ],
)
def test_typo_domains(domain: str, fix: str) -> None:
    assert typo_domain(domain) == fix


def test_role_addresses() -> None:
    assert check_email("info@shop.co.uk").role
    assert check_email("sales+uk@shop.co.uk").role
    assert not check_email("ann@shop.co.uk").role


@pytest.mark.parametrize(
    ("typed", "region", "e164", "kind", "problem"),
    [
        ("07911 123456", "GB", "+447911123456", "mobile", ""),
        ("+44 (0)7911 123456", "US", "+447911123456", "mobile", ""),
        ("0044 7911 123456", "US", "+447911123456", "mobile", ""),
        ("0117 496 0123", "GB", "+441174960123", "landline", ""),
        ("(212) 555-0123", "US", "+12125550123", "", ""),
        ("07700 900123", "GB", "+447700900123", "mobile", ""),
        ("01632 960123", "GB", "+441632960123", "landline", ""),
        ("030 123456", "DE", "+4930123456", "landline", ""),
        ("12", "GB", "", "", "too-short"),
        ("07911 123456", "", "", "", "no-country"),
        ("phone me", "GB", "", "", "invalid"),
    ],
)
def test_check_phone(typed: str, region: str, e164: str, kind: str, problem: str) -> None:
    check = check_phone(typed, region)
    assert (check.e164, check.kind, check.problem) == (e164, kind, problem)


@pytest.mark.parametrize(("code", "template", "kind"), FICTIONAL_PHONE_RANGES)
def test_every_fictional_range_is_recognised_at_both_ends(code: int, template: str, kind: str) -> None:
    for fill in ("0", "9"):
        national = "".join(fill if ch == "x" else "2" if ch == "N" else ch for ch in template)
        check = check_phone(f"+{code}{national}", "GB")
        assert (check.e164, check.kind, check.problem, check.fictional) == (
            f"+{code}{national}",
            kind,
            "",
            True,
        )


@pytest.mark.parametrize(
    ("typed", "region", "fictional"),
    [
        ("07700 900123", "GB", True),
        ("0044 7700 900123", "US", True),
        ("07700 900123", "US", False),  # read as a US number: not valid, not fictional
        ("07700 9001234", "GB", False),  # one digit too many
        ("0161 496 0000", "GB", True),
        ("0161 496 1000", "GB", False),
        ("020 7946 0999", "GB", True),
        ("020 7946 1000", "GB", False),
        ("(212) 555-0150", "US", True),
        ("(212) 555-0200", "US", False),
        ("(212) 555-1234", "US", False),
    ],
)
def test_fictional_phone_ranges(typed: str, region: str, fictional: bool) -> None:
    assert check_phone(typed, region).fictional is fictional


def test_phone_stored_as_number_gets_its_zero_back() -> None:
    assert normalize_phone(7911123456, "GB") == "+447911123456"
    assert normalize_phone(447911123456, "GB") == "+447911123456"
    assert normalize_phone(2125550123, "US") == "+12125550123"


@pytest.mark.parametrize(
    ("typed", "code"),
    [("GB", "GB"), ("uk", "GB"), ("United Kingdom", "GB"), (" Deutschland ", "DE"), ("usa", "US"),
     ("fr", "FR"), ("Narnia", ""), ("", ""), (None, "")],
)  # fmt: skip
def test_country_code(typed: Any, code: str) -> None:
    assert country_code(typed) == code


@pytest.mark.parametrize(
    ("typed", "day_first", "read", "ambiguous"),
    [
        ("2024-03-05", True, date(2024, 3, 5), False),
        ("2024/3/5", True, date(2024, 3, 5), False),
        ("05/03/2024", True, date(2024, 3, 5), True),
        ("05/03/2024", False, date(2024, 5, 3), True),
        ("25/03/2024", False, date(2024, 3, 25), False),
        ("5 March 2024", True, date(2024, 3, 5), False),
        ("Mar 5, 2024", True, date(2024, 3, 5), False),
        (45356, True, date(2024, 3, 5), False),
        ("45356", True, date(2024, 3, 5), False),
        (datetime(2024, 3, 5, 14, 0), True, date(2024, 3, 5), False),
        # two-digit years as Excel and Google Sheets read them: 00-29 -> 2000s, 30-99 -> 1900s
        ("25.03.29", True, date(2029, 3, 25), False),
        ("25.03.45", True, date(1945, 3, 25), False),
        ("25/03/99", True, date(1999, 3, 25), False),
    ],
)
def test_parse_date(typed: Any, day_first: bool, read: date, ambiguous: bool) -> None:
    d, problem = parse_date(typed, day_first=day_first)
    assert d == read
    assert bool(problem) is ambiguous


@pytest.mark.parametrize(
    ("typed", "amount"),
    [("£1,234.50", 1234.5), ("1.234,50 €", 1234.5), ("(12.00)", -12.0), ("USD 7", 7.0), ("1'000", 1000.0),
     (12, 12.0), ("-5", -5.0), ("twelve", None)],
)  # fmt: skip
def test_parse_money(typed: Any, amount: float | None) -> None:
    assert parse_money(typed)[0] == amount


@pytest.mark.parametrize("typed", ["yes", "Y", "TRUE", "1", "x", "✓", 1, True])
def test_consent_words_true(typed: Any) -> None:
    assert parse_bool(typed) == (True, "")


@pytest.mark.parametrize("typed", ["no", "n", "false", "0", 0, False])
def test_consent_words_false(typed: Any) -> None:
    assert parse_bool(typed) == (False, "")


# ---------------------------------------------------------------- idempotence

NAMES = st.one_of(
    st.text(max_size=30),
    st.lists(
        st.sampled_from(["ann", "MARY", "o'neil", "mcdonald", "MACDONALD", "van", "der", "jean-luc", "ß", "ﬁ",
                         "İ", "ǅ", "DI", "iii"]),
        max_size=4,
    ).map(" ".join),
)  # fmt: skip


@settings(max_examples=100, deadline=None)
@given(NAMES, st.booleans())
def test_proper_name_twice_equals_once(name: str, family: bool) -> None:
    once = proper_name(name, family=family)
    assert proper_name(once, family=family) == once


@settings(max_examples=80, deadline=None)
@given(
    st.one_of(
        st.emails().map(lambda e: f"  {e.upper()} "),
        st.text(max_size=40),
        st.from_regex(r"[a-z]{1,8}@(gmial|gmail|yaho|hotmial)\.(com|con|co\.uk)", fullmatch=True),
    )
)
def test_email_twice_equals_once(email: str) -> None:
    once = normalize_email(email)
    assert normalize_email(once) == once


@settings(max_examples=80, deadline=None)
@given(
    st.one_of(
        st.from_regex(r"\+?[0-9 ()-]{3,18}", fullmatch=True),
        st.integers(min_value=0, max_value=10**13),
        st.text(max_size=20),
    ),
    st.sampled_from(["GB", "US", "DE", "FR", "AU"]),
)
def test_phone_twice_equals_once(phone: Any, region: str) -> None:
    once = normalize_phone(phone, region)
    assert normalize_phone(once, region) == once
    if once:
        assert once.startswith("+") and once[1:].isdigit()


@settings(max_examples=80, deadline=None)
@given(
    st.dates(min_value=date(1900, 3, 1)), st.booleans(), st.sampled_from(["iso", "local", "long", "serial"])
)
def test_date_text_twice_equals_once(d: date, day_first: bool, form: str) -> None:
    typed = {
        "iso": d.isoformat(),
        "local": d.strftime("%d/%m/%Y") if day_first else d.strftime("%m/%d/%Y"),
        "long": f"{d.day} {d.strftime('%B')} {d.year}",
        "serial": str((d - date(1899, 12, 30)).days),
    }[form]
    assume(form != "serial" or len(typed) == 5)  # other lengths of digits as text are not read as serials
    once, _ = parse_date(typed, day_first=day_first)
    assert once == d
    again, problem = parse_date(once.isoformat(), day_first=day_first)
    assert (again, problem) == (once, "")


@settings(max_examples=1500, deadline=None)
@given(
    st.sampled_from(["GB", "US", "DE", "FR", "AU", "IE", "IT", "BR", "IN", "JP", "JE", "CA", "RU"]),
    st.from_regex(r"(\+[1-9][0-9]{0,2})?0?[1-9][0-9]{5,11}", fullmatch=True),
)
def test_fast_number_type_agrees_with_phonenumbers(region: str, national: str) -> None:
    """check_phone matches phonenumbers' own patterns, compiled once; the answer must be
    exactly what phonenumbers.number_type gives."""
    import phonenumbers

    from sheet_crm.normalize.phone_fast import number_type

    try:
        number = phonenumbers.parse(national, region)
    except phonenumbers.NumberParseException:
        return
    assert number_type(number) == phonenumbers.number_type(number)


@settings(max_examples=1000, deadline=None)
@given(
    st.sampled_from(["GB", "US", "DE"]),
    st.lists(st.sampled_from(["0", "1", "2", "4", "7", "9", " ", "-", ".", "(", ")", "(0)"]), max_size=20),
    st.sampled_from(["", "+", "00", "+44 ", "+1 "]),
)
def test_separators_do_not_change_what_a_number_reads_as(region: str, parts: list[str], lead: str) -> None:
    """Numbers are cached by their digits; phonenumbers must read the typed text the same."""
    from sheet_crm.normalize.phone import _parse_phone

    typed = lead + "".join(parts)
    as_typed = typed.strip()
    as_typed = "+" + as_typed[2:] if as_typed.startswith("00") else as_typed
    assert check_phone(typed, region) == _parse_phone.__wrapped__(as_typed, region)


def _phone_shapes() -> st.SearchStrategy[str]:
    """Digit strings in the shapes the quick phone path takes (and some it leaves alone):
    national with and without a trunk prefix, + and a calling code, IDD prefixes,
    numbers starting with the region's own calling code."""
    lead = st.sampled_from(["", "0", "00", "011", "1", "44", "49", "8", "9", "+", "+1", "+44", "+49", "+39",
                            "+7", "+54", "+55", "+61", "+800", "+881", "+0"])  # fmt: skip
    return st.builds(lambda a, b: a + b, lead, st.from_regex(r"[0-9]{3,17}", fullmatch=True))


@settings(max_examples=3000, deadline=None)
@given(
    st.sampled_from(
        ["GB", "US", "DE", "FR", "IT", "AR", "BR", "AU", "JE", "RU", "MX", "IN", "CA", "SM", "", "XX"]
    ),
    _phone_shapes(),
)
def test_quick_phone_path_agrees_with_phonenumbers(region: str, typed: str) -> None:
    """The quick path reads common shapes with phonenumbers' rules compiled once; when it
    answers at all, the answer must be exactly what the phonenumbers.parse path gives."""
    from sheet_crm.normalize.phone import _full_phone, _quick_phone

    quick = _quick_phone(typed, region)
    if quick is not None:
        assert quick == _full_phone(typed, region)


def test_the_installed_phonenumbers_is_the_series_the_fast_path_copies() -> None:
    """normalize/phone_fast.py copies parsing steps of one phonenumbers release series:
    the installed release must be of that series and no older than the one the agreement
    tests were run on, pyproject.toml must allow exactly that, and the result codes the
    copy uses must be phonenumbers' own."""
    import phonenumbers

    from sheet_crm.normalize import phone_fast

    installed = importlib.metadata.version("phonenumbers")
    major, minor = (int(part) for part in phone_fast.MIRRORS.split("."))
    release = tuple(int(part) for part in installed.split(".")[:3])
    assert release[:2] == (major, minor), installed
    assert release >= tuple(int(part) for part in phone_fast.CHECKED.split(".")), installed
    assert phone_fast.mirrors_installed()
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    wanted = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    pins = [w for w in wanted if w.startswith("phonenumbers")]
    assert pins == [f"phonenumbers>={phone_fast.CHECKED},<{major}.{minor + 1}"]
    for name in ("IS_POSSIBLE", "IS_POSSIBLE_LOCAL_ONLY", "TOO_SHORT", "TOO_LONG", "INVALID_LENGTH"):
        assert getattr(phone_fast, name) == getattr(phonenumbers.ValidationResult, name), name
    for name in ("FIXED_LINE", "MOBILE", "FIXED_LINE_OR_MOBILE", "UNKNOWN"):
        assert getattr(phone_fast, name) == getattr(phonenumbers.PhoneNumberType, name), name


def test_another_phonenumbers_series_turns_the_fast_path_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under a phonenumbers series the copy was not checked against, phonenumbers
    answers everything itself: slower, never different."""
    import phonenumbers

    from sheet_crm.normalize import phone_fast
    from sheet_crm.normalize.phone import _full_phone, _quick_phone

    fast = _quick_phone("07911123456", "GB")
    assert fast is not None and fast.kind == "mobile"
    asked = []
    real_type = phonenumbers.number_type
    monkeypatch.setattr(phonenumbers, "number_type", lambda n: asked.append(n) or real_type(n))
    monkeypatch.setattr(phonenumbers, "__version__", "9.1.0")
    phone_fast.mirrors_installed.cache_clear()
    try:
        assert _quick_phone("07911123456", "GB") is None
        assert _full_phone("07911123456", "GB") == fast
        assert asked, "phonenumbers.number_type was not asked"
    finally:
        monkeypatch.undo()
        phone_fast.mirrors_installed.cache_clear()
    assert _quick_phone("07911123456", "GB") == fast


@pytest.mark.parametrize(
    "typed, region",
    [
        ("07911123456", "GB"),
        ("+447911123456", "GB"),
        ("02079460000", "GB"),
        ("+12125550123", ""),
        ("2125550123", "US"),
        ("030123456", "DE"),
        ("0612345678", "FR"),
        ("12345", "GB"),
    ],
)
def test_quick_phone_path_takes_the_common_shapes(typed: str, region: str) -> None:
    """National and E.164 numbers of the sheet's country must not fall back to the slow
    path (that is what keeps validating 100k customers fast)."""
    from sheet_crm.normalize.phone import _full_phone, _quick_phone

    if len(typed) >= 7:
        assert _quick_phone(typed, region) == _full_phone(typed, region)
    else:
        assert _quick_phone(typed, region) is None


@pytest.mark.parametrize(
    "typed",
    [float("nan"), float("inf"), float("-inf"), 1e309, 10**400, pytest.param(10**5000, id="5000 digits"),
     -(10**13), 1.5e12, "1,000,000,000,000.01", "9" * 400],
)  # fmt: skip
def test_impossible_amounts_and_numbers_are_not_read(typed: Any) -> None:
    assert parse_money(typed)[0] is None and parse_number(typed)[0] is None
    assert "is not a possible amount (more than 1,000,000,000,000" in parse_money(typed)[1]
    assert "is not a possible number" in parse_number(typed)[1]
    assert impossible_number(typed)


@pytest.mark.parametrize("typed", [1e12, -1e12, "1,000,000,000,000", 0, 999_999_999_999.99])
def test_the_largest_real_amounts_are_read(typed: Any) -> None:
    assert parse_money(typed)[0] == float(str(typed).replace(",", "")) and not impossible_number(typed)


@pytest.mark.parametrize(
    "typed",
    [
        datetime(1799, 12, 31),
        date(1, 1, 1),
        "0001-01-01",
        "1066-10-14",
        datetime(1899, 12, 26) - timedelta(days=40000),
    ],
)
def test_dates_older_than_any_customer_record_are_not_read(typed: Any) -> None:
    d, problem = parse_date(typed)
    assert d is None and "too early for any date in a customer workbook" in problem


def test_the_old_dates_validation_calls_implausible_are_still_dates() -> None:
    assert parse_date(datetime(1890, 5, 1)) == (date(1890, 5, 1), "")
    assert parse_date("1800-01-01") == (date(1800, 1, 1), "")


@pytest.mark.parametrize(
    ("typed", "repaired"),
    [
        ("Ann\ud800", "Ann\ufffd"),  # a lone half: the replacement character
        ("\udfffBob", "\ufffdBob"),
        ("Tea \ud83c\udf75", "Tea \U0001f375"),  # a pair spelled as two halves: its character
        ("Zoë", "Zoë"),
        ("plain", "plain"),
    ],
)
def test_broken_text_is_repaired_and_everything_else_kept(typed: str, repaired: str) -> None:
    assert repair_text(typed) == repaired
    assert has_broken_text(typed) is (typed != repaired)
    assert text(typed) == repaired
    repaired.encode("utf-8")  # now it can be written, hashed and printed


def test_a_serial_date_before_march_1900_is_not_a_day_early() -> None:
    # Excel counts a 29 February 1900 that never was: serial 1 is 1 January 1900 and
    # serial 61 is 1 March 1900; parse_date reads both through sheet_crm.serial.
    from sheet_crm.normalize import parse_date

    assert parse_date(1) == (date(1900, 1, 1), "")
    assert parse_date(59) == (date(1900, 2, 28), "")
    assert parse_date(61) == (date(1900, 3, 1), "")
