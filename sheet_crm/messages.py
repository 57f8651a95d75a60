"""Message text: sandboxed templates, SMS length, salutations.

The owner writes templates in the Templates tab (``Hi {{ first_name | default("there") }}``).
Those cells come from a spreadsheet that may be shared, so they are rendered in
Jinja's *immutable sandbox*: no attribute that starts with ``_``, no way to reach
Python internals, no changing lists; and each render is bounded in size and time
(``sheet_crm.sandbox``), so a template cannot hang the run or eat the machine.

A field that is empty for a customer is not rendered as "": using it without a
fallback raises ``MissingField`` so the caller can turn it into a finding instead
of a draft that says "Hi ,". Fallbacks (``| default(...)``) and conditionals
(``{% if preferences %}``) treat an empty field as missing, as the owner expects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from time import perf_counter
from typing import Any

from jinja2 import TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Undefined
from jinja2.utils import missing

from .sandbox import (
    MAX_TEXT,
    RENDER_SECONDS,
    SECONDS_PER_RENDER,
    SLOW,
    TEMPLATE_SECONDS,
    BoundedSandbox,
    Budget,
    OverLimit,
)

__all__ = [
    "DEFAULT_TEMPLATES",
    "FieldGroup",
    "MissingField",
    "RenderCache",
    "RenderProblem",
    "SmsLength",
    "TemplateProblem",
    "TextList",
    "compile_template",
    "empty",
    "fields_used",
    "friendly_date",
    "render",
    "salutation",
    "sms_length",
]


class MissingField(UndefinedError):
    """A template used a field that is empty for this customer (``empty=True``) or
    that no customer has (``empty=False``), with no fallback."""

    def __init__(self, field: str, empty: bool) -> None:
        self.field = field
        self.empty = empty
        what = "is empty" if empty else "is not a field templates know"
        super().__init__(f"'{field}' {what}")


class _Missing(Undefined):
    """The value of an empty or unknown field.

    Like jinja's ``ChainableUndefined`` it can be chained (``last_order.product``)
    and is false in ``{% if %}``; unlike it, printing it, iterating over it or
    measuring it raises ``MissingField`` naming the full dotted field.
    ``_undefined_hint`` is ``"empty"`` for fields we know but the customer lacks.
    """

    __slots__ = ()

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> Any:
        if self._undefined_hint not in (None, "empty"):  # the sandbox refused an unsafe attribute
            raise SecurityError(self._undefined_hint)
        raise MissingField(self._path(), self._undefined_hint == "empty")

    def _path(self) -> str:
        name = self._undefined_name or "?"
        obj = self._undefined_obj
        if isinstance(obj, FieldGroup):
            return f"{obj.label}.{name}"
        return name

    def __getattr__(self, name: str) -> _Missing:
        if name[:2] == "__" and name[-2:] == "__":
            if self._undefined_hint not in (None, "empty"):
                raise SecurityError(self._undefined_hint)
            raise AttributeError(name)
        return _Missing(hint=self._undefined_hint, name=f"{self._path()}.{name}")

    def __getitem__(self, name: Any) -> _Missing:  # type: ignore[override]
        return self.__getattr__(str(name))

    __str__ = __iter__ = __len__ = _fail_with_undefined_error  # type: ignore[assignment]
    __html__ = _fail_with_undefined_error

    def __bool__(self) -> bool:
        return False


def empty(name: str) -> _Missing:
    """The value standing for a field the customer has left blank."""
    return _Missing(hint="empty", name=name)


class TextList(list[str]):
    """A list that prints as ``tea, quiet room`` rather than Python's ``['tea', ...]``."""

    def __str__(self) -> str:
        return ", ".join(str(v) for v in self)


class FieldGroup(dict[str, Any]):
    """A group of fields (``last_order``); ``label`` names it in error messages.

    Values are reached as ``last_order.product`` (the sandbox looks keys up when
    there is no such attribute). A blank value is a ``_Missing`` so it behaves like
    any empty field."""

    def __init__(self, label: str, values: Mapping[str, Any]) -> None:
        super().__init__(
            # Filled-in text is kept as it is without naming the member (most values).
            {
                k: v if type(v) is str and v.strip() else value_or_missing(f"{label}.{k}", v)
                for k, v in values.items()
            }
        )
        self.label = label


def friendly_date(d: date) -> str:
    """``22 November 2026``: how a date reads in a message."""
    return f"{d.day} {d:%B %Y}"


class _Date(date):
    """A date that prints the way a letter writes it, and still compares as a date."""

    def __str__(self) -> str:
        return friendly_date(self)


def value_or_missing(name: str, value: Any) -> Any:
    """A cell value as templates see it: blanks become missing, dates read well,
    whole numbers lose their ``.0``."""
    kind = type(value)
    if kind is str:  # the usual case first
        return value if value.strip() else empty(name)
    if kind is int:
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        return empty(name)
    if isinstance(value, list | tuple) and not isinstance(value, TextList):
        return TextList(str(v) for v in value) if value else empty(name)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date) and not isinstance(value, datetime | _Date):
        return _Date(value.year, value.month, value.day)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# ---------------------------------------------------------------- the sandbox


def _money(value: Any, symbol: str = "") -> str:
    """``{{ last_order.amount | money }}`` -> ``42.50``; ``| money("£")`` -> ``£42.50``."""
    if isinstance(value, Undefined):
        return str(value)  # raises MissingField
    return f"{symbol}{float(value):,.2f}"


_ENV = BoundedSandbox(
    undefined=_Missing,
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)
_ENV.filters["money"] = _money
_GLOBALS = dict(_ENV.globals)  # range, dict, cycler, joiner, namespace, lipsum


@dataclass(frozen=True)
class TemplateProblem:
    """Why a template cannot be used at all (bad syntax), in plain words."""

    problem: str
    fix: str


# What reading a template raises besides a syntax error: brackets or blocks nested
# thousands deep exhaust jinja's parser (RecursionError) or Python's compiler
# (SyntaxError: too many statically nested blocks, MemoryError).
_UNREADABLE = (RecursionError, MemoryError, SyntaxError)


def compile_template(source: str) -> Any:
    """A compiled template, or a ``TemplateProblem`` saying what is wrong with it."""
    try:
        return _ENV.from_string(source)
    except TemplateSyntaxError as exc:
        where = f" (line {exc.lineno})" if exc.lineno and "\n" in source else ""
        return TemplateProblem(
            f"The template cannot be read{where}: {(exc.message or 'syntax error').rstrip('.')}.",
            "Check that every {{ has its }} and every {% if %} its {% endif %}.",
        )
    except _UNREADABLE:
        return TemplateProblem(
            "The template is nested too deeply to be read (brackets, filters, fields or blocks "
            "inside each other hundreds of times).",
            "Simplify the template: a message needs only fields, fallbacks and a few {% if %} blocks.",
        )


def fields_used(source: str) -> frozenset[str]:
    """The top-level names a template reads (``last_order`` for ``{{ last_order.product }}``),
    so only those are worked out for each customer. Empty when the template cannot be read."""
    try:
        return frozenset(meta.find_undeclared_variables(_ENV.parse(source)))
    except (TemplateSyntaxError, *_UNREADABLE):
        return frozenset()


@dataclass(frozen=True)
class RenderProblem:
    """A template that could not be filled in for one customer."""

    field: str  # the dotted field, '' when the problem is not a field
    empty: bool  # True: the customer's value is blank; False: no such field
    problem: str
    over_limit: bool = False  # the template asked for too much time, memory or text


def render(template: Any, values: Mapping[str, Any], seconds: float = RENDER_SECONDS) -> str | RenderProblem:
    """Fill in ``template`` for one customer within ``seconds``, or say why it cannot be.

    Lines are trimmed at the end and runs of blank lines (left by conditionals)
    collapse to one, so what a conditional leaves out leaves no hole."""
    try:
        with Budget(seconds):
            # A shared context over a plain dict: jinja's render() copies the template
            # globals (a ChainMap) for every call, which dominates at 100k drafts.
            context = template.new_context({**_GLOBALS, **values}, shared=True)
            out = _collect(template.root_render_func(context))
    except MissingField as exc:
        return RenderProblem(exc.field, exc.empty, str(exc))
    except OverLimit as exc:
        return RenderProblem("", False, str(exc), over_limit=True)
    except SecurityError as exc:
        return RenderProblem("", False, f"the template tries something not allowed ({exc})")
    except UndefinedError as exc:  # an undefined reached through a path we did not wrap
        return RenderProblem("", False, exc.message or "a field is missing")
    except RecursionError:
        return RenderProblem("", False, "it calls itself too deeply", over_limit=True)
    except MemoryError:  # a bound we did not foresee: this template, not the run, fails
        return RenderProblem("", False, "it needs more memory than the computer has", over_limit=True)
    except Exception as exc:  # a filter applied to the wrong kind of value, a division by zero...
        return RenderProblem("", False, f"the template failed: {exc}")
    return _tidy(out)


def _collect(pieces: Iterable[str]) -> str:
    """The rendered text, refused as soon as it grows past what a cell holds
    (not after a loop has built gigabytes)."""
    out: list[str] = []
    keep = out.append
    size = 0
    for piece in pieces:
        size += len(piece)
        if size > MAX_TEXT:
            raise OverLimit(f"the message would be longer than {MAX_TEXT:,} characters, too long for a cell")
        keep(piece)
    return "".join(out)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if not line and out and not out[-1]:
            continue
        out.append(line)
    return "\n".join(out)


# Built-ins whose output changes from one call to the next: a template using them is
# never answered from the cache.
_CHANGING = re.compile(r"lipsum|random")
_PLAIN = frozenset({str, int, bool, type(None), date, _Date, datetime})


def _value_key(value: Any) -> Any:
    """What makes a value print as it does, as something hashable; ``_UNCACHEABLE``
    for a value whose text we cannot be sure of from its content."""
    kind = type(value)
    if kind in _PLAIN:
        return (kind, value)
    if kind is float:
        return (kind, repr(value))  # -0.0 == 0.0, but they print differently
    if kind is _Missing:
        if value._undefined_obj is not missing:  # type: ignore[attr-defined]
            return _UNCACHEABLE
        return (kind, value._undefined_name, value._undefined_hint)  # type: ignore[attr-defined]
    if kind is TextList:
        if any(type(v) is not str for v in value):
            return _UNCACHEABLE
        return (kind, *value)
    if kind is FieldGroup:
        items = tuple((k, _value_key(v)) for k, v in value.items())
        if any(v is _UNCACHEABLE for _k, v in items):
            return _UNCACHEABLE
        return (kind, value.label, items)
    return _UNCACHEABLE


_UNCACHEABLE = object()
_ABSENT = ("absent",)  # a name or group member that has no value at all
# What ``group.x`` finds on a FieldGroup before its members: dict methods and the label.
_GROUP_ATTRS = frozenset(dir(FieldGroup)) | {"label"}


def _group_key(value: FieldGroup, members: frozenset[str]) -> Any:
    """The key of a group a template reads only as ``group.member`` (and tests for
    truth): just those members count, so every customer whose last order was a
    teapot shares a text even though the order IDs differ."""
    keys = []
    for member in members:
        if member in _GROUP_ATTRS:  # group.items, group.label: the whole group matters
            return _value_key(value)
        v = value.get(member, _ABSENT)
        k = v if v is _ABSENT else _value_key(v)
        if k is _UNCACHEABLE:
            return _UNCACHEABLE
        keys.append(k)
    return (FieldGroup, value.label, bool(value), tuple(keys))


def _member_reads(source: str) -> dict[str, frozenset[str] | None]:
    """For each name a template reads: the members it reads (``last_order.product``,
    ``last_order["product"]``), or None when it uses the value itself (prints it,
    filters it, loops over it, passes it on). A name only tested for truth
    (``{% if last_order %}``) reads no members."""
    reads: dict[str, frozenset[str] | None] = {}

    def visit(node: nodes.Node, parent: nodes.Node | None, truth_only: bool) -> None:
        if isinstance(node, nodes.Name) and node.ctx == "load":
            name = node.name
            if name in reads and reads[name] is None:
                return
            seen = reads.get(name) or frozenset()
            if isinstance(parent, nodes.Getattr) and parent.node is node:
                reads[name] = seen | {parent.attr}
            elif (
                isinstance(parent, nodes.Getitem)
                and parent.node is node
                and isinstance(parent.arg, nodes.Const)
                and isinstance(parent.arg.value, str)
            ):
                reads[name] = seen | {parent.arg.value}
            elif truth_only:
                reads[name] = seen
            else:
                reads[name] = None
            return
        for child in node.iter_child_nodes():
            if isinstance(node, nodes.If | nodes.CondExpr):
                child_truth = child is node.test
            elif isinstance(node, nodes.Not):
                child_truth = True
            elif isinstance(node, nodes.And | nodes.Or):
                child_truth = truth_only  # "a or b" can be printed: only a test makes it a truth
            else:
                child_truth = False
            visit(child, node, child_truth)

    visit(_ENV.parse(source), None, False)
    return reads


class RenderCache:
    """Fills in one compiled template, remembering the text made for each set of
    values: thousands of customers give a template the same values (``first_name``
    "Ann", the business name), and rendering is most of a draft's cost.

    The key is made of the names the template reads (other values passed in do not
    count), each compared by type and content, so a repeat gives exactly the text
    (or problem) rendering would; for a group read only member by member, only those
    members count. A template whose keys hardly ever repeat (it prints an order ID,
    say) stops being cached after ``probe`` renders, so it then costs nothing extra.
    Templates using ``lipsum`` or ``random`` are never cached.

    It also keeps the template's time budget: one render may take ``RENDER_SECONDS``,
    and all of them together ``TEMPLATE_SECONDS`` plus ``SECONDS_PER_RENDER`` each;
    past that the template is refused for the remaining customers, so a template
    that is merely slow cannot stretch a run over hours."""

    def __init__(self, template: Any, source: str, probe: int = 2_000) -> None:
        self.template = template
        self.texts: dict[Any, str | RenderProblem] = {}
        self.probe = probe
        self.calls = 0
        self.seconds = 0.0  # spent rendering, all customers together
        self.renders = 0
        self.enabled = not _CHANGING.search(source)
        self.reads: tuple[tuple[str, frozenset[str] | None], ...] = ()
        if self.enabled:
            try:
                self.reads = tuple(sorted(_member_reads(source).items()))
            except (TemplateSyntaxError, *_UNREADABLE):
                self.enabled = False

    def key(self, values: Mapping[str, Any]) -> Any:
        """The values that decide the text, hashable; ``_UNCACHEABLE`` if one cannot be keyed."""
        key = []
        for name, members in self.reads:
            value = values.get(name, _ABSENT)
            if value is _ABSENT:
                k: Any = value
            elif members is not None and type(value) is FieldGroup:
                k = _group_key(value, members)
            else:
                k = _value_key(value)
            if k is _UNCACHEABLE:
                return _UNCACHEABLE
            key.append(k)
        return tuple(key)

    def render(self, values: Mapping[str, Any]) -> str | RenderProblem:
        if not self.enabled:
            return self._render(values)
        key = self.key(values)
        if key is _UNCACHEABLE:
            return self._render(values)
        out = self.texts.get(key)
        if out is None:
            out = self.texts[key] = self._render(values)
            self.calls += 1
            if self.calls == self.probe and len(self.texts) > self.probe // 2:
                self.enabled = False  # mostly new values: not worth remembering
                self.texts.clear()
        else:
            self.calls += 1
        return out

    def _render(self, values: Mapping[str, Any]) -> str | RenderProblem:
        left = TEMPLATE_SECONDS + SECONDS_PER_RENDER * self.renders - self.seconds
        if left <= 0:
            return _TOO_SLOW_IN_ALL
        started = perf_counter()
        out = render(self.template, values, min(RENDER_SECONDS, left))
        self.seconds += perf_counter() - started
        self.renders += 1
        if left < RENDER_SECONDS and isinstance(out, RenderProblem) and out.problem == SLOW:
            return _TOO_SLOW_IN_ALL  # stopped by what was left of the template's budget
        return out


_TOO_SLOW_IN_ALL = RenderProblem(
    "",
    False,
    f"filling it in took more than {TEMPLATE_SECONDS:g} seconds for the customers so far, "
    "so it is not used for the others",
    over_limit=True,
)


# ---------------------------------------------------------------- SMS length

# GSM 03.38: the basic alphabet (one 7-bit unit each) and the extension table
# (an escape plus the character: two units each).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SmsLength:
    """How an SMS travels: encoding, units used, parts, and what one part holds."""

    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # 7-bit units (GSM-7) or UTF-16 code units (UCS-2)
    parts: int
    limit: int  # what a single message holds: 160 or 70
    non_gsm: str  # the characters that forced UCS-2, for the Why text

    def describe(self) -> str:
        """``'142/160 GSM-7 characters, 1 SMS'`` or ``'2 SMS parts (UCS-2 because of "😀")'``."""
        if self.parts <= 1:
            return f"{self.units}/{self.limit} {self.encoding} characters, 1 SMS"
        why = f' because of "{self.non_gsm}"' if self.non_gsm else ""
        return f"{self.units} {self.encoding} characters{why}: {self.parts} SMS parts"


def sms_length(text: str) -> SmsLength:
    """Parts an SMS takes. One GSM-7 message holds 160 units; a long one is split in
    parts of 153 (the rest carries the joining header), and an escaped character
    never straddles two parts. Any character outside GSM-7 switches the whole
    message to UCS-2: 70 in one message, 67 per part."""
    non_gsm = "".join(dict.fromkeys(ch for ch in text if ch not in GSM7_BASIC and ch not in GSM7_EXTENDED))
    if non_gsm:
        units = len(text.encode("utf-16-le")) // 2
        parts = 1 if units <= 70 else _pack((2 if ord(ch) > 0xFFFF else 1 for ch in text), 67)
        return SmsLength("UCS-2", units, parts, 70, non_gsm[:5])
    costs = [2 if ch in GSM7_EXTENDED else 1 for ch in text]
    units = sum(costs)
    parts = 1 if units <= 160 else _pack(costs, 153)
    return SmsLength("GSM-7", units, parts, 160, "")


def _pack(costs: Iterable[int], size: int) -> int:
    """Parts needed when items of these costs are packed in order, none split."""
    parts, used = 1, 0
    for cost in costs:
        if used + cost > size:
            parts, used = parts + 1, 0
        used += cost
    return parts


# ---------------------------------------------------------------- salutation


def salutation(given_name: str, company_contact: str = "") -> str:
    """The name to greet with, as the customer writes it: their given name; for a
    company row with no person named, the company's main contact; otherwise ""
    (templates then use their fallback: ``{{ salutation | default("there") }}``)."""
    return given_name.strip() or company_contact.strip()


# ---------------------------------------------------------------- built-in texts

# Used when the workbook has no Templates tab or no row for a trigger and channel.
# Every field has a fallback, so these never fail for a customer with blank cells;
# the owner's Templates tab always wins over them.

_HI = '{{ salutation | default("there") }}'

# (template name, channel) -> (subject, body). Letters use the email text.
DEFAULT_TEMPLATES: dict[tuple[str, str], tuple[str, str]] = {
    ("Thank you", "email"): (
        "Thank you from {{ business_name }}",
        f"Hi {_HI},\n\n"
        "Thank you for your first order{% if last_order.product %} ({{ last_order.product }}){% endif %}. "
        "We hope you enjoy it, and if anything is not right, just reply to this message.\n\n"
        "Best wishes,\n{{ signature }}",
    ),
    ("Thank you", "sms"): (
        "",
        f"Hi {_HI}, thank you for your first order with {{{{ business_name }}}}! "
        "Any questions, just reply to this text.",
    ),
    ("Thank you", "phone"): (
        "Call script",
        f"Call {{{{ full_name | default('the customer') }}}}. Say: \"Hi {_HI}, it's {{{{ sender }}}} from "
        '{{ business_name }}. I wanted to thank you for your first order and check everything is fine."',
    ),
    ("Win back", "email"): (
        "We miss you at {{ business_name }}",
        f"Hi {_HI},\n\n"
        "It has been a while since we last saw you"
        "{% if last_order.product %}; last time you chose {{ last_order.product }}{% endif %}. "
        "We would love to welcome you back: reply to this message and tell us what you are looking for.\n\n"
        "Best wishes,\n{{ signature }}",
    ),
    ("Win back", "sms"): (
        "",
        f"Hi {_HI}, it has been a while! We would love to see you again at {{{{ business_name }}}}. "
        "Reply to this text and we will keep something for you.",
    ),
    ("Win back", "phone"): (
        "Call script",
        f"Call {{{{ full_name | default('the customer') }}}}. Say: \"Hi {_HI}, it's {{{{ sender }}}} from "
        "{{ business_name }}. It has been a while"
        "{% if last_order.product %} since your {{ last_order.product }}{% endif %}"
        ' and I wondered if there is anything we can do for you."',
    ),
    ("Birthday", "email"): (
        "Happy birthday from {{ business_name }}!",
        f"Hi {_HI},\n\nHappy birthday from everyone at {{{{ business_name }}}}! "
        "We hope you have a lovely day.\n\nWarm wishes,\n{{ signature }}",
    ),
    ("Birthday", "sms"): (
        "",
        f"Happy birthday {_HI}! Everyone at {{{{ business_name }}}} wishes you a lovely day.",
    ),
    ("Birthday", "phone"): (
        "Call script",
        f"Call {{{{ full_name | default('the customer') }}}}. Say: \"Hi {_HI}, it's {{{{ sender }}}} from "
        '{{ business_name }}. I just wanted to wish you a happy birthday!"',
    ),
    ("Referral thanks", "email"): (
        "Thank you for recommending {{ business_name }}",
        f"Hi {_HI},\n\n"
        'Thanks to you, {{ referred_name | default("a friend of yours") }} has just become a customer '
        "of ours. "
        "Word of mouth means a great deal to us, so thank you.\n\n"
        "Best wishes,\n{{ signature }}",
    ),
    ("Referral thanks", "sms"): (
        "",
        f"Hi {_HI}, thank you for recommending {{{{ business_name }}}} to "
        '{{ referred_name | default("a friend") }}. It means a lot to us!',
    ),
    ("Referral thanks", "phone"): (
        "Call script",
        f"Call {{{{ full_name | default('the customer') }}}}. Say: \"Hi {_HI}, it's {{{{ sender }}}} from "
        "{{ business_name }}. Thank you for recommending us to "
        '{{ referred_name | default("your friend") }}!"',
    ),
    ("Service recovery", "email"): (
        "Sorry, and how we will put it right",
        f"Hi {_HI},\n\n"
        "Thank you for telling us about your recent experience with {{ business_name }}. "
        "I am sorry we did not get it right. I would like to hear what happened and how we can make it up "
        "to you: reply to this message, or tell me a good time to call.\n\n"
        "With apologies,\n{{ signature }}",
    ),
    ("Service recovery", "sms"): (
        "",
        f"Hi {_HI}, this is {{{{ sender }}}} at {{{{ business_name }}}}. "
        "Sorry your last visit was not right. Can I call to put it right?",
    ),
    ("Service recovery", "phone"): (
        "Call script",
        f"Call {{{{ full_name | default('the customer') }}}}.\n"
        f'1. "Hi {_HI}, it\'s {{{{ sender }}}} from {{{{ business_name }}}}."\n'
        '2. "You told us things were not right'
        "{% if last_interaction.summary %} ({{ last_interaction.summary }}){% endif %}. "
        'I am calling to say sorry and to hear what happened."\n'
        "3. Listen, then offer a way to put it right and agree a date.\n"
        "4. Afterwards, add a row to the Interactions tab with the outcome.",
    ),
    ("Follow up", "email"): (
        "Following up from {{ business_name }}",
        f"Hi {_HI},\n\n"
        "I said I would get back to you"
        "{% if follow_up_summary %} about {{ follow_up_summary }}{% endif %}, so here I am. "
        "Is there anything else you need from us? Just reply to this message.\n\n"
        "Best wishes,\n{{ signature }}",
    ),
    ("Follow up", "sms"): (
        "",
        f"Hi {_HI}, {{{{ sender }}}} from {{{{ business_name }}}} here, following up as promised. "
        "Anything else we can do for you?",
    ),
    ("Follow up", "phone"): (
        "Call script",
        f"Call {{{{ full_name | default('the customer') }}}}. Say: \"Hi {_HI}, it's {{{{ sender }}}} from "
        "{{ business_name }}, following up as promised{% if follow_up_summary %} about "
        '{{ follow_up_summary }}{% endif %}."',
    ),
    ("Keep in touch", "email"): (
        "News from {{ business_name }}",
        f"Hi {_HI},\n\n"
        "It has been a little while, so I wanted to say thank you for being such a loyal customer."
        "{% if preferences %} We have not forgotten that you like {{ preferences }}.{% endif %} "
        "If there is anything we can set aside for you, just reply to this message.\n\n"
        "Best wishes,\n{{ signature }}",
    ),
    ("Keep in touch", "sms"): (
        "",
        f"Hi {_HI}, {{{{ sender }}}} at {{{{ business_name }}}} here. "
        "Thank you for being a loyal customer! Anything we can set aside for you?",
    ),
    ("Keep in touch", "phone"): (
        "Call script",
        f"Call {{{{ full_name | default('the customer') }}}}. Say: \"Hi {_HI}, it's {{{{ sender }}}} from "
        '{{ business_name }}. Just calling to say thank you for being such a loyal customer."',
    ),
}
