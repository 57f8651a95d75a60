"""The segment rule language: what it matches, how it treats missing values, and
that every bad or hostile rule becomes a finding with its cell and position."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from conftest import TODAY
from hypothesis import given, settings
from hypothesis import strategies as st
from test_segments import make_context, members, value

from sheet_crm.model import Customer, Order, Records
from sheet_crm.rules import MAX_RULE_LENGTH, CompiledRule, RuleContext, RuleError, RuleProblem
from sheet_crm.steps import segments
from sheet_crm.steps.tiers import CustomerValue


def one_customer(**fields: Any) -> tuple[RuleContext, Customer]:
    orders = fields.pop("orders_list", [])
    val = fields.pop("value", None)
    customer = Customer(row=2, customer_id="C1", **fields)
    records = Records([customer], orders)
    return RuleContext(records, {"C1": val} if val else {}, TODAY), customer


def matches(rule: str, **fields: Any) -> bool:
    ctx, customer = one_customer(**fields)
    compiled = ctx.compile(rule)
    assert isinstance(compiled, CompiledRule), compiled
    return compiled.evaluate(ctx.names_for(customer))


def error(rule: str) -> RuleError:
    ctx, _ = one_customer()
    compiled = ctx.compile(rule)
    assert isinstance(compiled, RuleError), f"{rule!r} should be refused"
    return compiled


GOLD = CustomerValue("C1", tier="Gold", orders=4, revenue=820.0, days_since_last_order=140)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ('tier in ("Platinum", "Gold") and days_since_last_order > 90', True),
        ('tier in ("Platinum", "Silver")', False),
        ('tier == "gold"', True),  # text ignores case
        ("revenue / orders > 200", True),
        ("revenue / orders > 210", False),
        ('tier == "Gold" AND orders >= 4', True),  # capitals read as and
        ("not (orders > 10)", True),
        ("1 < orders < 5", True),
        ('city == "York" or orders == 4', True),
        ('last_order > date("2020-01-01") or orders > 0', True),
    ],
)
def test_valid_rules(rule: str, expected: bool) -> None:
    assert matches(rule, value=GOLD, city="Leeds") is expected


@pytest.mark.parametrize(
    "rule",
    [
        "days_since_last_order > 90",
        "days_since_last_order < 90",
        "days_since_last_order + 10 > 5",
        "satisfaction <= 2",
        "satisfaction != 5",
        "p_alive > 0.5",
        'birthday > "2000-01-01"',
        "age >= 18",
        "days_since(last_order) > 30",
    ],
)
def test_missing_values_are_simply_false(rule: str) -> None:
    assert matches(rule) is False


def test_bought_and_bought_since_read_the_customers_orders() -> None:
    orders = [
        Order(row=2, customer_ref="C1", date=date(2026, 10, 1), amount=40, product="Lamb Roast (large)"),
        Order(row=3, customer_ref="C1", date=date(2024, 1, 1), amount=5, product="Tea"),
        Order(row=4, customer_ref="C2", date=date(2026, 10, 1), amount=5, product="Cake"),
    ]
    assert matches('bought("lamb roast")', orders_list=orders)
    assert matches('bought("TEA")', orders_list=orders)
    assert not matches('bought("Cake")', orders_list=orders)  # someone else's order
    assert matches('bought_since("lamb", 60)', orders_list=orders)
    assert not matches('bought_since("tea", 365)', orders_list=orders)
    assert not matches('bought("")', orders_list=orders)


def test_preferences_match_as_case_insensitive_substrings() -> None:
    prefs = ["Prefers vegetarian food", "quiet room"]
    assert matches('"vegetarian" in preferences', preferences=prefs)
    assert matches('"QUIET" in preferences', preferences=prefs)
    assert not matches('"vegan" in preferences', preferences=prefs)
    assert matches('"vegan" not in preferences', preferences=prefs)
    assert not matches('"" in preferences', preferences=prefs)
    assert not matches('"vegetarian" in preferences', preferences=[])
    # A list typed in the rule is matched whole, not by substring.
    assert not matches('city in ("York", "Leeds")', city="New York")
    assert matches('city in ("york", "Leeds")', city="York")
    assert matches('"york" in city', city="New York")


def test_tags_and_helper_functions() -> None:
    assert matches('any_tag("vip", "press")', tags=["VIP", "wholesale"])
    assert not matches('any_tag("vi")', tags=["VIP"])  # any_tag wants whole tags
    assert matches('"vi" in tags', tags=["VIP"])
    assert matches('contains(notes, "allergy")', notes="Nut ALLERGY!")
    assert matches('lower(city) == "york" and upper(city) == "YORK" and len(city) == 4', city="York")
    assert matches("birthday_month == 11 and age == 46", birthday=date(1980, 11, 2))


def test_owner_extra_columns_are_names_by_slug() -> None:
    ctx = make_context(
        [["C1", "Ann", "Sea view", 12, "Gold club"], ["C2", "Bob", "Garden", 2, ""]],
        {"C1": value("C1", tier="Silver")},
        headers=["Customer ID", "First name", "Favourite Room", "Visits", "Tier"],
        segments=[
            ["Sea lovers", 'favourite_room == "sea view" and visits >= 10', "", "", ""],
            ["Computed tier wins", 'tier == "Silver"', "", "", ""],
        ],
    )
    out = segments.run(ctx)
    assert members(out, "Sea lovers") == ["C1"]
    assert members(out, "Computed tier wins") == ["C1"]
    assert "favourite room is Sea view; visits is 12" in out.result.members_of("Sea lovers")[0]["reason"]


def test_satisfaction_names_use_the_latest_and_the_average() -> None:
    ctx = make_context(
        [["C1", "Ann", "", ""]],
        interactions=[
            [datetime(2026, 1, 1), "C1", "email", "", 1],
            [datetime(2026, 9, 1), "C1", "email", "", 5],
        ],
        segments=[["Happy now", "satisfaction == 5 and average_satisfaction == 3", "", "", ""]],
    )
    assert members(segments.run(ctx), "Happy now") == ["C1"]


# ---------------------------------------------------------------- bad rules


@pytest.mark.parametrize(
    ("rule", "position", "words", "suggestion"),
    [
        ('teir == "Gold"', 1, "unknown name 'teir'", "tier"),
        ('orders > 2 and teir == "Gold"', 16, "unknown name 'teir'", "tier"),
        ('tier = "Gold"', 6, "use == to compare", ""),
        ('tier == "Gold', 9, "a quote is opened but never closed", ""),
        ('bought("lamb"', 7, "'(' is opened but never closed", ""),
        ("orders >", 9, "the rule stops too early", ""),
        ('bougt("lamb")', 1, "unknown function 'bougt'", "bought"),
        ("city > 5", 8, "city is text and 5 is a number", ""),
        ("tags + 1", 1, "tags is a list; arithmetic needs numbers", ""),
        ("5 in orders", 6, "'in' cannot look inside it", ""),
        ('bought_since("tea")', 1, "bought_since() needs 2 values, not 1", ""),
        ("bought", 1, "bought is a function", ""),
        ("orders(3)", 1, "'orders' is a value, not a function", ""),
        ("   teir > 1", 4, "unknown name 'teir'", "tier"),
        ('"é" == teir', 8, "unknown name 'teir'", "tier"),  # positions count characters
    ],
)
def test_bad_rules_say_where_and_why(rule: str, position: int, words: str, suggestion: str) -> None:
    err = error(rule)
    assert err.position == position, err
    assert words in err.message
    assert err.suggestion == suggestion
    if suggestion:
        assert f"at character {position}: " in str(err) and f"did you mean '{suggestion}'?" in str(err)


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ('__import__("os")', "unknown function '__import__'"),
        ('__import__("os").system("echo hi")', "a dot (attribute access)"),
        ("().__class__.__bases__", "a dot (attribute access) is not part of the rule language"),
        ("tier.__class__", "a dot"),
        ('lower.__globals__["os"]', "square brackets"),
        ("lower.__globals__", "a dot"),
        ("(lambda: 1)()", "lambda is not part of the rule language"),
        ("[x for x in range(10**9)]", "'for' inside a rule"),
        ("sum(x for x in (1, 2))", "unknown function 'sum'"),
        ("max(x for x in range(10**9))", "'for' inside a rule"),
        ("{i: i for i in tags}", "'for' inside a rule"),
        ("9**9**9", "powers are limited to a plain exponent of at most 64"),
        ("2 ** orders", "powers are limited to a plain exponent"),
        ("10000000000000000000 > 1", "the number is too big"),
        ('"a" * 100000000', '"a" is text; arithmetic needs numbers'),
        ('"' + "x" * 300 + '" in notes', "the text is longer than 200 characters"),
        ("orders > 1 or " * 40 + "True", f"rules can be at most {MAX_RULE_LENGTH}"),
        ("orders[0]", "square brackets"),
        ('f"{tier}" == "x"', "f-strings"),
        ("(x := 3)", "':=' is not part of the rule language"),
        ("import os", "the rule is not written correctly here"),
        ("orders > 1; orders < 5", "the rule is not written correctly here"),
        ("", "the rule is empty"),
        ("-" * 400 + "1", "the rule is too complicated"),
    ],
)
def test_hostile_rules_are_refused_before_anything_runs(rule: str, words: str) -> None:
    assert words in str(error(rule))


def test_a_bad_rule_becomes_a_finding_on_its_cell() -> None:
    ctx = make_context(
        [["C1", "Ann", "", ""]],
        segments=[
            ["Fine", "orders >= 0", "", "", ""],
            ["Typo", "orders > 2 and teir == 1", "", "", ""],
            ["Hostile", '__import__("os")', "", "", ""],
        ],
    )
    out = segments.run(ctx)
    found = sorted((f.cell, f.code, f.suggestion) for f in ctx.findings)
    assert found == [
        ("Segments!B3", "bad-segment-rule", "tier"),
        ("Segments!B4", "bad-segment-rule", None),
    ]
    typo = next(f for f in ctx.findings if f.cell == "Segments!B3")
    assert "at character 16: unknown name 'teir' — did you mean 'tier'?" in typo.problem
    assert typo.value == "orders > 2 and teir == 1"
    assert members(out, "Fine") == ["C1"]


def test_a_rule_on_a_later_row_under_a_title_points_at_the_right_row() -> None:
    ctx = make_context([["C1", "Ann", "", ""]])
    from sheet_crm.backends.memory import MemoryBackend
    from sheet_crm.config import load_settings
    from sheet_crm.model import build_records

    workbook = MemoryBackend(
        {
            "Customers": [["Customer ID", "First name"], ["C1", "Ann"]],
            "Segments": [
                ["My segments"],
                ["Segment", "Condition"],
                ["A", "orders > 1"],
                [],
                ["B", "ordrs > 1"],
            ],
        }
    ).read()
    cfg, _ = load_settings(workbook, environ={})
    ctx.records = build_records(workbook, cfg, ctx.findings)
    segments.run(ctx)
    bad = [f for f in ctx.findings if f.code == "bad-segment-rule"]
    assert [(f.cell, f.location.header) for f in bad] == [("Segments!B5", "Condition")]


# ---------------------------------------------------------------- properties


NAMES = ["tier", "orders", "revenue", "city", "tags", "preferences", "birthday", "satisfaction", "teir", "x"]
PIECES = [
    *NAMES,
    "(",
    ")",
    "and",
    "or",
    "not",
    "in",
    "==",
    ">",
    "<=",
    "+",
    "*",
    "**",
    "/",
    ",",
    "1",
    "0",
    "90",
    "9",
    '"Gold"',
    '"veg"',
    "bought(",
    "len(",
    "days_since(",
    "lambda",
    "for",
    ".",
    "[",
    "]",
    "__class__",
]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_random_text_as_a_rule_never_raises(text: str) -> None:
    _check_never_raises(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=14))
def test_random_rule_shaped_text_never_raises(pieces: list[str]) -> None:
    _check_never_raises(" ".join(pieces))


def _check_never_raises(text: str) -> None:
    ctx, customer = one_customer(
        city="York", tags=["VIP"], preferences=["veg"], birthday=date(1980, 1, 2), value=GOLD
    )
    compiled = ctx.compile(text)
    if isinstance(compiled, RuleError):
        assert isinstance(str(compiled), str)
        return
    try:
        result = compiled.evaluate(ctx.names_for(customer))
    except RuleProblem as problem:  # a plain-words finding, never a crash
        assert problem.error.message
        return
    assert isinstance(result, bool)


# ---------------------------------------------------------------- compiled rules == simpleeval

# Rules are run by closures built once per rule (``CompiledRule.program``); simpleeval
# walking the same checked tree is the reference. Random well-formed rules over every
# kind of value, on random customers, must give the same answer or the same problem
# (message and position).

_VALUE_NAMES = [
    "tier",
    "orders",
    "revenue",
    "days_since_last_order",
    "usual_gap_days",
    "last_order",
    "products",
    "advocate",
    "city",
    "notes",
    "tags",
    "preferences",
    "birthday",
    "email_opt_in",
    "satisfaction",
    "age",
    "birthday_month",
    "p_alive",
]
_CONSTANTS = ['"Gold"', '"york"', '"veg"', '""', '"2025-01-01"', "0", "1", "3", "90", "2.5", "True", "None"]


# (template, how many sub-rules it takes)
_FORMS = [
    *((f"({{}} {op} {{}})", 2) for op in ["+", "-", "*", "/", "//", "%", "and", "or"]),
    *((f"({{}} {op} {{}})", 2) for op in ["==", "!=", ">", "<", ">=", "<=", "in", "not in"]),
    ("({} < {} <= {})", 3),
    ("({} and {} or not {})", 3),
    ("(not {})", 1),
    ("(-{})", 1),
    ("({} ** 2)", 1),
    ("({} if {} else {})", 3),
    ("({}, {})", 2),
    ("[{}, {}]", 2),
    ("{{{}, {}}}", 2),
    *((f"{fn}({{}})", 1) for fn in ["lower", "upper", "len", "abs", "round", "days_since", "date", "blank"]),
    *((f"{fn}({{}}, {{}})", 2) for fn in ["min", "max", "contains", "bought_since", "any_tag", "round"]),
    ("bought({})", 1),
    # the shapes with a short cut (a constant on one side)
    *((f"({{}} {op} 90)", 1) for op in [">", "<=", "==", "!="]),
    *((f'({{}} {op} "Gold")', 1) for op in ["==", "!="]),
    *((f'({{}} {op} ("Gold", "york ", 3, 2.5))', 1) for op in ["in", "not in"]),
    *((f'("{needle}" {op} {{}})', 1) for op in ["in", "not in"] for needle in ["VEG", "york", " "]),
]


@st.composite
def _rules(draw: st.DrawFn, depth: int = 4) -> str:
    """A random rule of the language's shapes over every kind of value."""
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(_VALUE_NAMES) | st.sampled_from(_CONSTANTS))
    form, parts = draw(st.sampled_from(_FORMS))
    return form.format(*(draw(_rules(depth - 1)) for _ in range(parts)))


_customers = st.fixed_dictionaries(
    {
        "city": st.sampled_from(["York", "New York", "", "  leeds "]),
        "notes": st.sampled_from(["", "Nut ALLERGY", "veg"]),
        "tags": st.lists(st.sampled_from(["VIP", "gold", "press"]), max_size=2),
        "preferences": st.lists(st.sampled_from(["vegetarian", "Quiet room", ""]), max_size=2),
        "birthday": st.none() | st.dates(date(1940, 1, 1), date(2027, 1, 1)),
        "email_opt_in": st.sampled_from([None, True, False]),
    }
)
_values = st.none() | st.builds(
    lambda tier, orders, revenue, days, gap, advocate, p_alive: CustomerValue(
        "C1",
        tier=tier,
        orders=orders,
        revenue=revenue,
        days_since_last_order=days,
        last_order=None if days is None else TODAY - timedelta(days=days),
        usual_gap_days=gap,
        products=["Lamb roast", "Tea"] if orders else [],
        advocate=advocate,
        p_alive=p_alive,
    ),
    st.sampled_from(["Gold", "Platinum", "", "Bronze"]),
    st.integers(0, 5),
    st.sampled_from([0.0, 12.5, 820.0, -3.0]),
    st.none() | st.integers(-2, 400),
    st.none() | st.floats(0, 100),
    st.booleans(),
    st.none() | st.floats(0, 1),
)


@settings(max_examples=400, deadline=None)
@given(_rules(), _customers, _values)
def test_compiled_rules_agree_with_simpleeval(rule: str, fields: dict[str, Any], val: Any) -> None:
    orders = [
        Order(row=2, customer_ref="C1", date=TODAY - timedelta(days=30), amount=40, product="Lamb roast"),
        Order(row=3, customer_ref="C1", date=TODAY + timedelta(days=3), amount=5, product="Tea"),
    ]
    ctx, customer = one_customer(orders_list=orders, value=val, **fields)
    compiled = ctx.compile(rule)
    if isinstance(compiled, RuleError):
        return
    outcomes = []
    for run in (compiled.evaluate, compiled.evaluate_reference):
        try:
            outcomes.append(run(ctx.names_for(customer)))
        except RuleProblem as problem:
            outcomes.append((problem.error.message, problem.error.position))
    assert outcomes[0] == outcomes[1], rule


def test_compiled_rules_give_the_reference_positions() -> None:
    ctx, customer = one_customer(city="York", value=GOLD)
    for rule, position in [
        ("orders > 1 and  city > 2", None),  # refused before running (text > number)
        ("orders > 1 and abs(city) > 2", 16),
        ("  min(city, orders) == 1", 3),
        ("orders < 9 < max(city)", 1),
        ("{[1], 2} == 3", 1),
    ]:
        compiled = ctx.compile(rule)
        if position is None:
            assert isinstance(compiled, RuleError)
            continue
        assert isinstance(compiled, CompiledRule), (rule, compiled)
        problems = []
        for run in (compiled.evaluate, compiled.evaluate_reference):
            with pytest.raises(RuleProblem) as caught:
                run(ctx.names_for(customer))
            problems.append(caught.value.error)
        assert problems[0] == problems[1]
        assert problems[0].position == position, (rule, problems[0])


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", "C1", "C2", "C3"]),
            st.one_of(st.none(), st.integers(1, 3)),
            st.one_of(st.none(), st.sampled_from([0.0, 1.0, 2.5, 5.0, 10.0])),
        ),
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)
@settings(max_examples=200, deadline=None)
def test_satisfaction_by_customer_is_the_latest_and_the_average(rows: list[Any], rng: Any) -> None:
    """The whole-column version gives, for every customer with a score, the score of
    their latest interaction (by date, a blank date earliest, then the one further
    down the sheet) and the plain average, as a one-customer-at-a-time reading does."""
    from sheet_crm.model import Interaction
    from sheet_crm.rules import satisfaction_by_customer

    numbers = list(range(2, len(rows) + 2))
    rng.shuffle(numbers)  # sheet rows in any order
    items = [
        Interaction(row=r, customer_id=key, date=None if d is None else date(2025, 1, d), satisfaction=s)
        for r, (key, d, s) in zip(numbers, rows, strict=True)
    ]
    expected = {}
    for key in {i.customer_id for i in items if i.customer_id}:
        scored = [i for i in items if i.customer_id == key and i.satisfaction is not None]
        if scored:
            latest = max(scored, key=lambda i: (i.date or date.min, i.row))
            expected[key] = (latest.satisfaction, sum(i.satisfaction for i in scored) / len(scored))
    got = satisfaction_by_customer(items)
    assert got.keys() == expected.keys()
    for key, (latest, average) in expected.items():
        assert got[key][0] == latest
        assert got[key][1] == pytest.approx(average)


@pytest.mark.parametrize(
    ("rule", "position", "words"),
    [
        ("1 << 64", 3, "'<<' (shifting bits) is not part of the rule language"),
        ("orders >> 2 > 1", 8, "'>>' (shifting bits) is not part of the rule language"),
        ("~orders", 1, "'~' is not part of the rule language; write 'not'"),
        ("email == ann@example.com", 13, "'@' is not part of the rule language; put an email address in"),
        ("orders > 1 | orders < 0", 12, "'|' is not part of the rule language; write 'or'"),
        ("orders > 1 & orders < 9", 12, "'&' is not part of the rule language; write 'and'"),
        ("orders ^ 2 > 1", 8, "'^' is not part of the rule language; for a power write **"),
        ("city is None", 6, "'is' is not part of the rule language; write =="),
        ("city is not None", 6, "'is not' is not part of the rule language; write !="),
        ("2 ** orders > 1", 1, "powers are limited to a plain exponent of at most 64"),
    ],
)
def test_every_left_out_operator_is_named_where_it_is(rule: str, position: int, words: str) -> None:
    err = error(rule)
    assert words in err.message and "''" not in err.message
    assert err.position == position


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("2 ** -1 == 0.5", True), ("0 ** -1 > 0", False), ("2 ** 10 == 1024", True)],
)
def test_small_plain_powers_run(rule: str, expected: bool) -> None:
    assert matches(rule) is expected


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("(0 - 8) ** 0.5 > 1", "a negative number cannot be raised to a fractional power"),
        ("2 ** 64 > 1", "the number would be too big"),
        ("(10 ** 15) ** 2 > 1", "the number would be too big"),
        ("orders * 1e15 * 1e15 > 1", "the number would be too big"),
    ],
)
def test_powers_and_products_stay_bounded_as_they_run(rule: str, words: str) -> None:
    ctx, customer = one_customer(value=GOLD)
    compiled = ctx.compile(rule)
    assert isinstance(compiled, CompiledRule)
    with pytest.raises(RuleProblem) as problem:
        compiled.evaluate(ctx.names_for(customer))
    assert words in str(problem.value.error)
    with pytest.raises(RuleProblem):
        compiled.evaluate_reference(ctx.names_for(customer))
