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
