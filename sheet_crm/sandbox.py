"""What one template may cost: the limits of the sandbox message templates run in.

Jinja's immutable sandbox stops a template from reaching Python's internals, but not
from using up the machine: ``{{ 'x' | center(999999999) }}`` asks for a gigabyte,
two nested ``range(99999)`` loops run for hours. Templates come from a shared
spreadsheet, so every render here is bounded:

* **Size.** Every value a template makes (by ``*``, ``**``, ``+``, ``%``, ``~``, a
  filter, a call, a list or dict written in the template) is weighed as it is made:
  a text may hold ``MAX_TEXT`` characters, any other value ``MAX_SIZE`` items and
  characters (a part that appears twice counts twice, so printing, comparing or
  hashing any value costs at most that much), a number ``MAX_BITS`` bits. Operations
  that could ask for a huge result (widths for ``center``/``ljust``/``format``/
  ``indent``, ``'x' * n``, ``n ** m``, ``replace``, ``join``...) are checked *before*
  they run, from their operands.
* **Allocation.** All that one render makes together may not pass ``MAX_MADE``.
* **Output.** The message is checked piece by piece while it is produced.
* **Time.** Each render has a deadline, checked on every loop step, call, filter and
  operator, so neither a loop nor recursion can escape it (loops that call nothing
  are reached by wrapping every ``{% for %}``'s sequence). ``range`` gives at most
  ``MAX_RANGE`` numbers.

A template over a limit raises ``OverLimit``; ``messages.render`` turns it into a
problem for that template, and the run goes on.
"""

from __future__ import annotations

import inspect
import re
import threading
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import wraps
from time import perf_counter
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEscapeFormatter, SandboxedFormatter
from jinja2.utils import Cycler, Namespace, generate_lorem_ipsum
from markupsafe import Markup

MAX_TEXT = 32_000  # the longest text; a spreadsheet cell holds 32,767 characters
MAX_SIZE = 100_000  # the biggest list or dict, counting every item and character in it
MAX_MADE = 1_000_000  # items and characters one render may make in all
MAX_BITS = 4_000  # the biggest number (about 1,200 digits)
MAX_RANGE = 10_000  # numbers range() may give (jinja's own limit is 100,000)
MAX_INDENT = 8  # tojson's indent
MAX_LIPSUM_WORDS = 2_000
RENDER_SECONDS = 0.5  # one customer's message
TEMPLATE_SECONDS = 3.0  # one template for all customers, beyond ...
SECONDS_PER_RENDER = 0.001  # ... this much per customer (a normal render takes ~0.05 ms)


SLOW = (
    f"filling it in takes too long (over {RENDER_SECONDS:g} seconds for one customer); "
    "it probably repeats something too many times"
)


class OverLimit(SecurityError):
    """A template asked for more than one render may have; the message says what."""


class Budget:
    """One render's deadline and what it has made so far. ``with Budget(seconds):``
    puts it in force for the renders in this thread."""

    __slots__ = ("deadline", "made", "outer", "seconds")

    def __init__(self, seconds: float = RENDER_SECONDS) -> None:
        self.seconds = seconds
        self.deadline = perf_counter() + seconds
        self.made = 0
        self.outer: Budget | None = None

    def __enter__(self) -> Budget:
        self.outer = getattr(_STATE, "budget", None)
        _STATE.budget = self
        return self

    def __exit__(self, *exc: object) -> None:
        _STATE.budget = self.outer

    def tick(self) -> None:
        if perf_counter() > self.deadline:
            raise OverLimit(SLOW)

    def charge(self, amount: int) -> None:
        self.made += amount
        if self.made > MAX_MADE:
            raise OverLimit(f"it builds more than {MAX_MADE:,} characters and items in all")


_STATE = threading.local()


def _active() -> Budget | None:
    return getattr(_STATE, "budget", None)


# ---------------------------------------------------------------- weighing values


_DICT_VIEWS = frozenset({"dict_keys", "dict_values", "dict_items"})


def weigh(value: Any, limit: int = MAX_SIZE) -> int:
    """How big ``value`` is: a text's characters; a list, tuple or dict's items plus
    the weight of each (a part that appears twice counts twice: that is what
    printing or comparing it costs). Stops counting just past ``limit``."""
    kind = type(value)
    if kind is str or kind is bytes:
        return len(value)
    total = 0
    stack = [value]
    pop, push = stack.pop, stack.extend
    while stack:
        v = pop()
        if isinstance(v, str | bytes | bytearray):
            total += len(v)
        elif isinstance(v, int):
            total += 1 + v.bit_length() * 3 // 10  # about its digits
        elif isinstance(v, list | tuple | set | frozenset):
            total += len(v)
            push(v)
        elif isinstance(v, Mapping):
            total += len(v)
            push(v.keys())
            push(v.values())
        elif isinstance(v, Namespace):
            stack.append(object.__getattribute__(v, "_Namespace__attrs"))
        elif isinstance(v, Cycler):
            stack.append(v.items)
        elif type(v).__name__ in _DICT_VIEWS:  # d.keys(), d.values(), d.items() print the whole dict
            stack.append(v.mapping)
        else:
            total += 1
        if total > limit:
            return limit + 1
    return total


def _own_size(value: Any) -> int:
    """What making ``value`` allocated by itself (its parts were counted when made)."""
    try:
        return len(value) if isinstance(value, str | bytes | list | tuple | dict) else 1
    except TypeError:
        return 1


def made(value: Any) -> Any:
    """Check a value a template has just made, and count it against the render."""
    if type(value) is str:
        size = len(value)
        if size > MAX_TEXT:
            raise OverLimit(_too_long_text(size))
    else:
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_BITS:
            raise OverLimit("it builds a number too large to use")
        weight = weigh(value)
        if isinstance(value, str | bytes) and weight > MAX_TEXT:
            raise OverLimit(_too_long_text(weight))
        if weight > MAX_SIZE:
            raise OverLimit(f"it builds a list or text too large to use (over {MAX_SIZE:,} items)")
        size = _own_size(value)
    budget = _active()
    if budget is not None:
        budget.charge(size)
    return value


def _too_long_text(size: int) -> str:
    return f"it builds a text of {size:,} characters (at most {MAX_TEXT:,})"


def _width(value: Any, what: str = "width") -> None:
    """A width, count or length a template passes to something that pads or repeats."""
    if isinstance(value, int) and value > MAX_TEXT:
        raise OverLimit(f"a {what} of {value:,} is too large (at most {MAX_TEXT:,})")


def _text_of(value: Any) -> int:
    """About how long ``value`` is as text."""
    return len(value) if isinstance(value, str) else weigh(value)


def _predict(size: int) -> None:
    """A text about to be made ``size`` characters long."""
    if size > MAX_TEXT:
        raise OverLimit(_too_long_text(size))


# ---------------------------------------------------------------- operators


def _check_mul(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_BITS:
            raise OverLimit("it builds a number too large to use")
        return
    seq, times = (left, right) if isinstance(left, str | bytes | list | tuple) else (right, left)
    if isinstance(seq, str | bytes | list | tuple) and isinstance(times, int) and times > 0:
        size = weigh(seq) * times if seq else 0
        if isinstance(seq, str | bytes):
            _predict(size)
        elif size > MAX_SIZE:
            raise OverLimit(f"it builds a list too large to use (over {MAX_SIZE:,} items)")


def _check_pow(left: Any, right: Any) -> None:
    numbers = isinstance(left, int) and isinstance(right, int)
    if numbers and right > 0 and abs(left) > 1 and right * left.bit_length() > MAX_BITS:
        raise OverLimit("the power is too large")


def _check_add(left: Any, right: Any) -> None:
    if isinstance(left, str | bytes | list | tuple) and isinstance(right, str | bytes | list | tuple):
        size = weigh(left) + weigh(right)
        if isinstance(left, str | bytes):
            _predict(size)
        elif size > MAX_SIZE:
            raise OverLimit(f"it builds a list too large to use (over {MAX_SIZE:,} items)")


# %-formatting: each conversion's width and precision (``*`` takes them from the values).
_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_percent(template: Any, values: Any) -> None:
    """``'%-20s' % name``: the widths asked for, plus the values, must fit in a text."""
    if not isinstance(template, str):
        return
    size = len(template) + weigh(values)
    stars = 0
    for width, precision in _PERCENT_FIELD.findall(template):
        for n in (width, precision):
            if n == "*":
                stars += 1
            elif n:
                if len(n) > 6:
                    raise OverLimit("a width in the format is too large")
                size += int(n)
    if stars:
        numbers = values if isinstance(values, tuple) else (values,)
        size += sum(abs(v) for v in numbers if isinstance(v, int))
    _predict(size)


_SPEC_NUMBER = re.compile(r"\d+")


def _check_spec(spec: str) -> None:
    """``'{:>40}'.format(x)``: widths and precisions in a format spec."""
    for n in _SPEC_NUMBER.findall(spec):
        if len(n) > 6 or int(n) > MAX_TEXT:
            raise OverLimit(f"a width of {n} in the format is too large (at most {MAX_TEXT:,})")


class _FieldLimits:
    """A str.format formatter that checks each field's spec and what it makes."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        _check_spec(format_spec)
        return made(super().format_field(value, format_spec))  # type: ignore[misc]


class _BoundedFormatter(_FieldLimits, SandboxedFormatter):
    pass


class _BoundedEscapeFormatter(_FieldLimits, SandboxedEscapeFormatter):
    pass


# ---------------------------------------------------------------- methods of texts


def _check_text_method(owner: str | bytes, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple:
    """Checks a str/bytes method call before it runs; returns the arguments to use
    (``join`` gets its items as a list, so they are counted once)."""
    if name in ("center", "ljust", "rjust", "zfill") and args:
        _width(args[0])
    elif name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(size, int):
            _predict(len(owner) + owner.count("\t" if isinstance(owner, str) else b"\t") * max(size, 0))
    elif name == "replace" and len(args) >= 2:
        _predict(_replaced_size(owner, args[0], args[1], args[2] if len(args) > 2 else -1))
    elif name == "join" and args:
        items = list(args[0])
        _predict(sum(_text_of(i) for i in items) + len(owner) * max(len(items) - 1, 0))
        args = (items, *args[1:])
    elif name == "translate" and args and isinstance(args[0], Mapping):
        longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
        _predict(len(owner) * max(longest, 1))
    return args


def _replaced_size(text: Any, old: Any, new: Any, count: Any) -> int:
    if not all(isinstance(v, str | bytes) for v in (text, old, new)):
        return _text_of(text)
    try:
        times = text.count(old) if old else len(text) + 1
    except TypeError:
        return len(text)
    if isinstance(count, int) and count >= 0:
        times = min(times, count)
    return len(text) + times * max(len(new) - len(old), 0)


# ---------------------------------------------------------------- filters and globals


def _binder(f: Callable[..., Any]) -> Callable[[tuple[Any, ...], dict[str, Any]], dict[str, Any]]:
    """Names a filter's arguments as its definition does. Jinja passes a context,
    eval context or environment first to filters marked for it; a filter with a
    sync and an async version does not list that argument, so it is skipped."""
    signature = inspect.signature(f)
    first = next(iter(signature.parameters), "")
    passed = hasattr(f, "jinja_pass_arg")
    skip = 1 if passed and first not in ("context", "eval_ctx", "environment", "env") else 0

    def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        try:
            return signature.bind(*args[skip:], **kwargs).arguments
        except TypeError:
            return {}  # the filter itself will say what is wrong with its arguments

    return bind


def _indent_check(a: Mapping[str, Any]) -> None:
    width = a.get("width", 4)
    text = str(a.get("s", ""))
    if isinstance(width, int):
        _width(width)
        pad = max(width, 0)
    else:
        pad = _text_of(width)
    _predict(len(text) + (text.count("\n") + 1) * pad)


def _wordwrap_check(a: Mapping[str, Any]) -> None:
    wrap = a.get("wrapstring")
    text = a.get("s", "")
    if wrap is not None:
        # At worst a line per character, each ending with the wrapstring.
        _predict(_text_of(text) * (1 + _text_of(wrap)))


def _sum_check(a: Mapping[str, Any]) -> None:
    start = a.get("start", 0)
    if not isinstance(start, int | float):
        raise OverLimit("sum adds up numbers only")


def _tojson_check(a: Mapping[str, Any]) -> None:
    indent = a.get("indent")
    if indent is not None and (not isinstance(indent, int) or indent > MAX_INDENT):
        raise OverLimit(f"tojson's indent may be at most {MAX_INDENT}")


def _format_check(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if args:
        _check_percent(str(args[0]) if not isinstance(args[0], str) else args[0], kwargs or tuple(args[1:]))


_FILTER_CHECKS: dict[str, Callable[[Mapping[str, Any]], None]] = {
    "center": lambda a: _width(a.get("width", 80)),
    "indent": _indent_check,
    "wordwrap": _wordwrap_check,
    "replace": lambda a: _predict(_replaced_size(a.get("s"), a.get("old"), a.get("new"), a.get("count"))),
    "batch": lambda a: _width(a.get("linecount"), "batch size"),
    "slice": lambda a: _width(a.get("slices"), "number of slices"),
    "sum": _sum_check,
    "tojson": _tojson_check,
}

# Filters that only pick, count or convert one value: nothing to bound, and the
# common ones (``default``) stay as fast as they were.
_PLAIN_FILTERS = frozenset(
    {"default", "d", "length", "count", "first", "attr", "abs", "round", "int", "float"}
)


def _bounded_filter(name: str, f: Callable[..., Any]) -> Callable[..., Any]:
    check = _FILTER_CHECKS.get(name)
    bind = _binder(f) if check is not None else None
    state = _STATE

    @wraps(f)
    def bounded_filter(*args: Any, **kwargs: Any) -> Any:
        budget = getattr(state, "budget", None)
        if budget is not None:
            budget.tick()
        if bind is not None:
            check(bind(args, kwargs))  # type: ignore[misc]
        elif name == "format":
            _format_check(args, kwargs)
        elif name == "join":
            args = _materialise_join(args, kwargs)
        return made(f(*args, **kwargs))

    return bounded_filter


def _materialise_join(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """``join``'s items as a list (counted and checked), so a lazy sequence cannot
    build a huge text before anything looks at it. ``args`` is (eval context, value, ...)."""
    if len(args) < 2:
        return args
    items = made(list(args[1]))
    sep = args[2] if len(args) > 2 else kwargs.get("d", "")
    _predict(sum(_text_of(i) for i in items) + _text_of(sep) * max(len(items) - 1, 0))
    return (args[0], items, *args[2:])


def _range(*args: int) -> range:
    """``range`` with at most ``MAX_RANGE`` numbers."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise OverLimit(f"range() may give at most {MAX_RANGE:,} numbers, not {len(numbers):,}")
    return numbers


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    """``lipsum`` with at most ``MAX_LIPSUM_WORDS`` words."""
    if isinstance(n, int) and isinstance(max, int) and n * max > MAX_LIPSUM_WORDS:
        raise OverLimit(f"lipsum may write at most {MAX_LIPSUM_WORDS:,} words")
    return generate_lorem_ipsum(n, html, min, max)


# ---------------------------------------------------------------- compiled code


def _is_each(node: nodes.Node) -> bool:
    return (
        isinstance(node, nodes.Call)
        and isinstance(node.node, nodes.EnvironmentAttribute)
        and node.node.name == "each"
    )


class _CodeGenerator(CodeGenerator):
    """Jinja's code generator with three more checkpoints: every loop's sequence goes
    through ``environment.each`` (the deadline), and every ``~`` and every list, tuple
    or dict written in the template through a size check."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if not _is_each(node.iter):
            # A template cannot write an EnvironmentAttribute node (only extensions
            # make them), so this marker cannot be forged.
            node.iter = nodes.Call(
                nodes.EnvironmentAttribute("each"), [node.iter], [], None, None, lineno=node.iter.lineno
            )
        super().visit_For(node, frame)

    def visit_Call(self, node: nodes.Call, frame: Frame, **kwargs: Any) -> None:
        if _is_each(node):
            self.write("environment.each(")
            self.visit(node.args[0], frame)
            self.write(")")
        else:
            super().visit_Call(node, frame, **kwargs)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            markup = "context.eval_ctx.volatile"
        else:
            markup = "True" if frame.eval_ctx.autoescape else "False"
        self.write("environment.join_parts((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(f"), {markup})")

    def _made(self, visit: Callable[[Any, Frame], None], node: nodes.Expr, frame: Frame) -> None:
        self.write("environment.made(")
        visit(node, frame)
        self.write(")")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self._made(super().visit_List, node, frame)

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self._made(super().visit_Dict, node, frame)

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        if node.ctx == "load":
            self._made(super().visit_Tuple, node, frame)
        else:  # a target: {% for a, b in ... %}, {% set a, b = ... %}
            super().visit_Tuple(node, frame)


# ---------------------------------------------------------------- the environment


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with every render bounded in size, allocation and time."""

    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["range"] = _range
        self.globals["lipsum"] = _lipsum
        for name, f in list(self.filters.items()):
            if name not in _PLAIN_FILTERS:
                self.filters[name] = _bounded_filter(name, f)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        budget = _active()
        if budget is not None:
            budget.tick()
        if operator == "*":
            _check_mul(left, right)
        elif operator == "**":
            _check_pow(left, right)
        elif operator == "+":
            _check_add(left, right)
        else:
            _check_percent(left, right)
        return made(self.binop_table[operator](left, right))

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        budget = _active()
        if budget is not None:
            budget.tick()
        if isinstance(obj, types.BuiltinMethodType | types.MethodType):
            owner = getattr(obj, "__self__", None)
            if isinstance(owner, str | bytes | bytearray):
                args = _check_text_method(owner, obj.__name__, args, kwargs)
            elif isinstance(owner, int) and obj.__name__ == "to_bytes":
                _width(args[0] if args else kwargs.get("length", 1), "length")
        return made(super().call(context, obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``'{:>9}'.format(x)`` as the sandbox does it, with each field's width checked."""
        if not isinstance(value, types.MethodType | types.BuiltinMethodType) or value.__name__ not in (
            "format",
            "format_map",
        ):
            return None
        text = value.__self__
        if not isinstance(text, str):
            return None
        formatter = (
            _BoundedEscapeFormatter(self, escape=text.escape)
            if isinstance(text, Markup)
            else _BoundedFormatter(self)
        )
        by_name = value.__name__ == "format_map"
        kind = type(text)

        def bounded_format(*args: Any, **kwargs: Any) -> str:
            if by_name:
                if kwargs or len(args) != 1:
                    raise TypeError("format_map() takes exactly one argument")
                args, kwargs = (), args[0]
            return kind(formatter.vformat(text, args, kwargs))

        return bounded_format

    # Called from the compiled templates (see _CodeGenerator).

    def each(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """A loop's items, with the deadline checked before each."""
        budget = _active()
        if budget is None:
            yield from iterable
            return
        tick = budget.tick
        for item in iterable:
            tick()
            yield item

    def join_parts(self, parts: tuple[Any, ...], markup: bool) -> str:
        """``a ~ b``: each part as text, and the whole checked before it is joined."""
        texts = [p if isinstance(p, str) else str(p) for p in parts]
        size = sum(map(len, texts))
        _predict(size)
        budget = _active()
        if budget is not None:
            budget.charge(size)
        return markup_join(texts) if markup else str_join(texts)

    made = staticmethod(made)
