"""Templates in the sandbox, SMS length and salutations."""

from __future__ import annotations

import random
from datetime import date, datetime

import pytest

from sheet_crm.messages import (
    DEFAULT_TEMPLATES,
    FieldGroup,
    RenderCache,
    RenderProblem,
    TemplateProblem,
    compile_template,
    empty,
    fields_used,
    render,
    salutation,
    sms_length,
    value_or_missing,
)


def fill(source: str, **values: object) -> str | RenderProblem:
    template = compile_template(source)
    assert not isinstance(template, TemplateProblem), template
    return render(template, {k: value_or_missing(k, v) for k, v in values.items()})


def test_fields_fallbacks_and_conditionals() -> None:
    src = 'Hi {{ first_name | default("there") }}{% if preferences %}, we saved {{ preferences }}{% endif %}.'
    assert fill(src, first_name="Ann", preferences=["tea", "cake"]) == "Hi Ann, we saved tea, cake."
    assert fill(src, first_name="", preferences=[]) == "Hi there."
    assert fill(src, first_name="  ", preferences=None) == "Hi there."


def test_a_blank_field_without_fallback_fails_naming_the_field() -> None:
    assert fill("Hi {{ first_name }},", first_name="") == RenderProblem(
        "first_name", True, "'first_name' is empty"
    )
    assert isinstance(fill("{{ first_name | upper }}", first_name=""), RenderProblem)


def test_an_unknown_field_fails_as_unknown() -> None:
    out = fill("Hi {{ frist_name }}", first_name="Ann")
    assert isinstance(out, RenderProblem)
    assert (out.field, out.empty) == ("frist_name", False)


def test_groups_name_the_dotted_field() -> None:
    template = compile_template("{{ last_order.product }}")
    group = FieldGroup("last_order", {"product": "", "date": date(2026, 1, 5)})
    out = render(template, {"last_order": group})
    assert isinstance(out, RenderProblem) and (out.field, out.empty) == ("last_order.product", True)
    out = render(compile_template("{{ last_order.prodct }}"), {"last_order": group})
    assert isinstance(out, RenderProblem) and (out.field, out.empty) == ("last_order.prodct", False)
    # No orders at all: the whole group is missing, and chaining still names the field.
    out = render(template, {"last_order": empty("last_order")})
    assert isinstance(out, RenderProblem) and out.field == "last_order.product"
    assert render(compile_template("{{ last_order.date }}"), {"last_order": group}) == "5 January 2026"


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ first_name.__class__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ (first_name|attr('__class__')) }}",
        "{{ 'x' * 100000 }}",
        "{{ 9 ** 9999 }}",
        "{% for i in range(10**9) %}{% endfor %}",
    ],
)
def test_the_sandbox_refuses_internals_and_huge_output(source: str) -> None:
    out = fill(source, first_name="Ann")
    assert isinstance(out, RenderProblem)


# Each template asks for far more than a message needs; (template, words in the problem).
HOSTILE_TEMPLATES = [
    # time
    ("{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}", "takes too long"),
    (
        "{% set L = range(9999)|list %}{% for a in L %}{% for b in L %}{% endfor %}{% endfor %}",
        "takes too long",
    ),
    (
        "{% macro f() %}{% for i in range(9999) %}{% for j in range(9999) %}x{% endfor %}{% endfor %}"
        "{% endmacro %}{{ f()|length }}",
        "takes too long",
    ),
    ("{% for i in range(99999) %}{% endfor %}", "range() may give at most 10,000 numbers"),
    ("{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(1) }}", "calls itself too deeply"),
    # numbers
    ("{{ ((99**99)**99)**99 }}", "the power is too large"),
    ("{{ ('9'*4000)|int * ('9'*4000)|int }}", "number too large"),
    # text built in a loop, or at once
    ("{% for i in range(9999) %}{{ 'a'*30000 }}{% endfor %}", "longer than 32,000 characters"),
    ("{% for i in range(9999) %}{{ first_name }}{% endfor %}", "longer than 32,000 characters"),
    ("{{ 'x'|center(999999999) }}", "a width of 999,999,999 is too large"),
    ("{{ 'x'.center(999999999) }}", "a width of 999,999,999 is too large"),
    ("{{ 'x'.ljust(999999999) }}", "a width of 999,999,999 is too large"),
    ("{{ 'x'.zfill(999999999) }}", "a width of 999,999,999 is too large"),
    ("{{ '%999999999s'|format(1) }}", "width in the format is too large"),
    ("{{ '%999999999d' % 1 }}", "width in the format is too large"),
    ("{{ ('%32000d' * 900)|format(*range(900)) }}", "it builds a text of"),
    ("{{ '{:>999999999}'.format(1) }}", "in the format is too large"),
    ("{{ ('{:32000}' * 3000).format(*range(3000)) }}", "characters and items in all"),
    ("{{ 'a\nb'|indent(999999999) }}", "a width of 999,999,999 is too large"),
    ("{{ ('a\n'*15000)|indent('x'*30000) }}", "it builds a text of"),
    ("{{ ('a'*30000)|wordwrap(1) }}", "it builds a text of"),
    ("{{ ('a'*30000)|replace('a', 'a'*30000) }}", "it builds a text of 900,000,000 characters"),
    ("{{ ('a'*30000).replace('a', 'bb') }}", "it builds a text of 60,000 characters"),
    ("{{ ('a'*30000).translate({97: 'b'*30000}) }}", "it builds a text of"),
    ("{{ ('\t'*30000).expandtabs(30000) }}", "it builds a text of"),
    ("{% set a='x'*30000 %}{{ a~a~a }}", "it builds a text of 90,000 characters"),
    (
        "{% set ns = namespace(s='a'*1000) %}{% for i in range(99) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        "a text",
    ),
    (
        "{% set ns = namespace(s='a'*1000) %}{% for i in range(99) %}"
        "{% set ns.s = ns.s + ns.s %}{% endfor %}",
        "a text",
    ),
    # lists, joins and what walks them
    ("{% set s='x'*30000 %}{{ [s]*30000 }}", "list too large"),
    ("{% set s='x'*30000 %}{{ [s, s, s, s] }}", "too large"),
    ("{% set s='x'*30000 %}{{ ([s]*3)|join }}", "it builds a text of 90,000 characters"),
    ("{{ range(9999)|map('string')|map('center', 30000)|list }}", "characters and items in all"),
    ("{{ ([none]*9999)|map('default', 'x'*30000, true)|list }}", "too large"),
    ("{{ ([[1]*9999]*9999)|sum(start=[]) }}", "too large"),
    ("{{ [1]|sum(start=[]) }}", "sum adds up numbers only"),
    ("{{ [1]|batch(999999999, 'x')|list }}", "a batch size of 999,999,999 is too large"),
    ("{{ [1]|slice(999999999)|list }}", "a number of slices of 999,999,999 is too large"),
    ("{{ [[1]]|tojson(indent=999999999) }}", "indent may be at most 8"),
    ("{{ dict.fromkeys(range(9999), 'x'*30000) }}", "too large"),
    ("{% set L=[1]*9000 %}{% set M=[1]*9000 %}{{ [L]*9000 == [M]*9000 }}", "list too large"),
    ("{{ (1).to_bytes(999999999, 'big') }}", "a length of 999,999,999 is too large"),
    ("{{ lipsum(99999) }}", "lipsum may write at most"),
]


@pytest.mark.parametrize(("source", "words"), HOSTILE_TEMPLATES)
def test_templates_that_would_exhaust_the_machine_are_stopped(source: str, words: str) -> None:
    template = compile_template(source)
    assert not isinstance(template, TemplateProblem), template
    # Each of these would run for minutes or take gigabytes without the limits. Those
    # stopped by the clock get a short budget (the suite stays fast), the others a long
    # one (a loaded machine cannot make them look slow).
    seconds = 0.05 if words == "takes too long" else 10.0
    out = render(template, {"first_name": "Annabel" * 100}, seconds=seconds)
    assert isinstance(out, RenderProblem) and out.over_limit, out
    assert words in out.problem, out.problem


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ ('x' * 32000) | length }}", "32000"),
        ("{{ '%-6s|' | format(first_name) }}{{ '{:>6}'.format(first_name) }}", "Ann   |   Ann"),
        ("{% for p in products %}{{ p|upper }}{{ ', ' if not loop.last }}{% endfor %}", "TEA, CAKE"),
        ("{{ (products + ['jam'])|join(' & ') }} {{ 2 ** 10 }} {{ 3 * 4 }}", "tea & cake & jam 1024 12"),
        ("{{ first_name ~ '!' }} {{ [1, 2, 3]|sum }} {{ {'a': 1}|length }}", "Ann! 6 1"),
        ("{% for a, b in [(1, 2)] %}{{ a + b }}{% endfor %}{% set x, y = 1, 2 %}{{ x }}{{ y }}", "312"),
        ("{{ range(3)|list }} {{ notes|wordwrap(5) }}", "[0, 1, 2] a bc\nde"),
    ],
)
def test_templates_within_the_limits_render_as_before(source: str, expected: str) -> None:
    assert fill(source, first_name="Ann", products=["tea", "cake"], notes="a bc de") == expected


def test_a_template_nested_too_deeply_is_a_problem_not_a_crash() -> None:
    for source in (
        "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
        "{% if 1 %}" * 300 + "x" + "{% endif %}" * 300,
    ):
        problem = compile_template(source)
        assert isinstance(problem, TemplateProblem)
        assert "nested too deeply" in problem.problem
        assert fields_used(source) == frozenset()


def test_a_template_slow_for_every_customer_is_stopped_for_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    import sheet_crm.messages as messages

    monkeypatch.setattr(messages, "RENDER_SECONDS", 0.02)
    monkeypatch.setattr(messages, "TEMPLATE_SECONDS", 0.05)
    monkeypatch.setattr(messages, "SECONDS_PER_RENDER", 0.0)
    cache = _cached(
        "{{ first_name }}{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}"
    )
    outs = [cache.render({"first_name": f"Ann{n}"}) for n in range(20)]
    assert all(isinstance(o, RenderProblem) and o.over_limit for o in outs)
    assert outs[-1].problem.startswith("filling it in took more than")  # type: ignore[union-attr]
    assert cache.renders < 10  # the rest were refused without rendering


def test_lists_cannot_be_changed_from_a_template() -> None:
    assert isinstance(fill("{{ preferences.append('x') }}", preferences=["tea"]), RenderProblem)


def test_syntax_errors_are_problems_not_exceptions() -> None:
    problem = compile_template("Hi {{ first_name ")
    assert isinstance(problem, TemplateProblem)
    assert problem.problem.startswith("The template cannot be read")


def test_blank_lines_left_by_conditionals_collapse() -> None:
    src = "Hi\n\n{% if notes %}{{ notes }}{% endif %}\n\nBye  "
    assert fill(src, notes="") == "Hi\n\nBye"


def test_money_filter() -> None:
    assert fill("{{ amount | money('£') }}", amount=1234.5) == "£1,234.50"


def test_builtin_templates_never_fail_for_a_customer_with_blank_cells() -> None:
    blank = {
        name: empty(name)
        for name in (
            "salutation",
            "full_name",
            "last_order",
            "last_interaction",
            "preferences",
            "referred_name",
            "follow_up_summary",
        )
    }
    values = {**blank, "business_name": "Shop", "sender": "Shop", "signature": "Shop"}
    for (name, channel), (subject, body) in DEFAULT_TEMPLATES.items():
        for part in (subject, body):
            out = render(compile_template(part), values)
            assert not isinstance(out, RenderProblem), (name, channel, out)
            assert "Hi ," not in out and " ." not in out and " ," not in out
            assert all("  " not in line for line in out.splitlines())


# ---------------------------------------------------------------- SMS


def test_gsm7_single_and_multipart() -> None:
    assert sms_length("a" * 160).parts == 1
    assert sms_length("a" * 161).parts == 2
    assert sms_length("a" * 306).parts == 2
    assert sms_length("a" * 307).parts == 3
    assert sms_length("a" * 160).describe() == "160/160 GSM-7 characters, 1 SMS"


def test_gsm7_extension_characters_count_twice_and_do_not_straddle_parts() -> None:
    assert sms_length("€" * 80).units == 160
    assert sms_length("€" * 80).parts == 1
    # 152 plain + one escaped character: 154 units; as parts, the euro moves to part 2.
    info = sms_length("a" * 152 + "€" + "a" * 10)
    assert (info.units, info.parts) == (164, 2)


def test_non_gsm_characters_switch_to_ucs2() -> None:
    info = sms_length("Merci Zoë 😊")
    assert info.encoding == "UCS-2" and info.parts == 1 and info.units == 12
    assert sms_length("ы" * 70).parts == 1
    assert sms_length("ы" * 71).parts == 2
    assert sms_length("ы" * 134).parts == 2
    assert sms_length("ы" * 135).parts == 3
    assert 'because of "ы"' in sms_length("ы" * 71).describe()
    # Accented letters in GSM-7 (é, ü, Ñ) do not force UCS-2.
    assert sms_length("Café für Señor").encoding == "GSM-7"


def test_salutation_as_the_customer_writes_it() -> None:
    assert salutation("ANNE-marie ") == "ANNE-marie"
    assert salutation("", "Priya") == "Priya"
    assert salutation("", "") == ""


# ---------------------------------------------------------------- the render cache

CACHED_SRCS = [
    'Hi {{ first_name | default("there") }}{% if last_order %}, your {{ last_order.product }} of '
    "{{ last_order.date }}{% endif %} ({{ total }}) {{ tags }}",
    "{{ last_order['product'] | default('?') }} {{ last_order.missing | default('-') }}",
    "{{ last_order.get('amount') }}",
    "{{ last_order.items() | list }}",
    "{{ last_order.label }} {{ last_order.product }}",
    "{{ (last_order or first_name) }}",
    "{% if last_order and total %}{{ last_order.product }}{% endif %}",
    "{% if not last_order %}none{% else %}{{ last_order.date }}{% endif %}",
    "{{ last_order.product if last_order else first_name }}",
    "{{ last_order if total else 'x' }}",
    "{{ last_order | length }} {{ last_order.product }}",
    "{% for k in last_order %}{{ k }}{% endfor %}",
    "{% set first_name = 'X' %}{{ first_name }} {{ total is number }} {{ tags | first | default('') }}",
    "{{ raw }}{% if last_order %} (ordered){% endif %}",
]

FIRSTS = [None, "", "Ann", "Zoë"]
CELLS = [
    None,
    "",
    "Mug",
    0,
    0.0,
    -0.0,
    12,
    12.0,
    12.5,
    True,
    False,
    date(2026, 1, 2),
    datetime(2026, 1, 2, 9, 30),
]


def _cached(source: str, probe: int = 2_000) -> RenderCache:
    template = compile_template(source)
    assert not isinstance(template, TemplateProblem), template
    return RenderCache(template, source, probe)


@pytest.mark.parametrize("source", CACHED_SRCS)
def test_the_render_cache_gives_exactly_what_rendering_gives(source: str) -> None:
    """Repeated and near-equal values (0 / 0.0 / -0.0 / False, a date and a datetime,
    blanks of different fields, group members the template does not read at first
    sight) must never be mistaken for one another: every combination, twice."""
    cache = _cached(source)
    rnd = random.Random(5)
    combos = [
        (first, product, total, amount, tags, has_order)
        for first in FIRSTS
        for product in CELLS
        for total in rnd.sample(CELLS, 4)
        for amount in rnd.sample(CELLS, 4)
        for tags in ([], ["tea", "cake"])
        for has_order in ("order", "none", "empty group")
    ]
    for first, product, total, amount, tags, has_order in combos * 2:
        values = {
            "first_name": value_or_missing("first_name", first),
            "last_order": FieldGroup("last_order", {"product": product, "date": total, "amount": amount})
            if has_order == "order"
            else FieldGroup("last_order", {})
            if has_order == "empty group"
            else empty("last_order"),
            "total": value_or_missing("total", total),
            "raw": total,  # as given: -0.0 and 0.0 print differently
            "tags": value_or_missing("tags", tags),
        }
        assert cache.render(values) == render(cache.template, values), values


def test_the_render_cache_keys_a_group_by_the_members_read() -> None:
    cache = _cached("Your {{ last_order.product }}{% if last_order %}!{% endif %}")
    for n in range(30):
        group = FieldGroup("last_order", {"product": "Teapot", "order_id": f"O-{n}"})
        assert cache.render({"last_order": group, "unused": n}) == "Your Teapot!"
    assert len(cache.texts) == 1
    whole = _cached("{{ last_order.product }} {{ last_order | length }}")
    for n in range(3):
        whole.render({"last_order": FieldGroup("last_order", {"product": "Mug", "order_id": f"O-{n}"})})
    assert len(whole.texts) == 3


def test_the_render_cache_remembers_repeated_values_and_their_problems() -> None:
    cache = _cached("Hi {{ first_name }}, from {{ business_name }}")
    for name in ["Ann", "Bob", "Ann", "", "Ann", ""]:
        out = cache.render({"first_name": value_or_missing("first_name", name), "business_name": "Tea Shop"})
        if name:
            assert out == f"Hi {name}, from Tea Shop"
        else:
            assert out == RenderProblem("first_name", True, "'first_name' is empty")
    assert len(cache.texts) == 3 and cache.enabled


def test_the_render_cache_gives_up_on_values_that_never_repeat() -> None:
    cache = _cached("Order {{ order_id }}", probe=50)
    outs = [cache.render({"order_id": f"O-{n}"}) for n in range(120)]
    assert outs == [f"Order O-{n}" for n in range(120)]
    assert not cache.enabled and not cache.texts


def test_templates_with_changing_output_are_never_cached() -> None:
    assert not _cached("{{ lipsum(1) }}").enabled
    assert not _cached('{{ ["a", "b"] | random }}').enabled

    # A value whose text cannot be told from its content is rendered every time.
    class Odd:
        n = 0

        def __str__(self) -> str:
            Odd.n += 1
            return str(Odd.n)

    cache = _cached("{{ x }}")
    odd = Odd()
    assert [cache.render({"x": odd}) for _ in range(3)] == ["1", "2", "3"]
