"""The segment rule language: a small, safe expression language over one customer.

An owner types a rule in the Rule column of the Segments tab, for example::

    tier in ("Platinum", "Gold") and days_since_last_order > 90
    "vegetarian" in preferences
    bought("Lamb roast") and not bought_since("Lamb roast", 365)

Rules are Python-like expressions, checked here before anything runs and then
evaluated by simpleeval's ``EvalWithCompoundTypes`` (never ``eval``). What the
language allows, and why:

- **Names**: every Customer field (``first_name``, ``city``, ``tags`` ...), every
  computed value from the tiers step (``tier``, ``orders``, ``revenue``,
  ``days_since_last_order``, ``rfm_segment``, ``p_alive`` ...), ``satisfaction``
  (the latest score, 1-5), ``age``, ``birthday_month`` and each column the owner
  added to Customers, by its slug (``Favourite Room`` -> ``favourite_room``). A
  computed name wins over an owner column with the same slug.
- **Missing values are simply false**: ``days_since_last_order > 90`` is false for
  a customer with no orders, and arithmetic with a missing value stays missing.
- **Text is compared ignoring case**: ``tier == "gold"`` matches Gold.
- **``in``**: ``"veg" in preferences`` matches when any preference *contains*
  "veg" (ignoring case), so "prefers vegetarian food" matches; the same holds for
  ``tags``, ``products`` and text (``"smith" in last_name``). A list typed in the
  rule itself is matched whole: ``city in ("York", "Leeds")`` does not match
  "New York".
- **Functions**: ``bought(product)``, ``bought_since(product, days)``,
  ``contains(text, part)``, ``days_since(date)``, ``any_tag(tag, ...)``,
  ``lower``, ``upper``, ``len``, ``abs``, ``round``, ``min``, ``max``, ``date("2025-01-31")``.
- **Not allowed** (a finding, never a crash): attribute access, indexing,
  lambdas, comprehensions, f-strings, assignments, the bit operators
  (``<< >> | & ^ ~``), ``@`` and ``is`` (each named, with what to write instead),
  rules longer than ``MAX_RULE_LENGTH`` characters, text constants longer than
  ``MAX_TEXT`` characters, powers with big or computed exponents; a number beyond
  ``MAX_NUMBER`` stops the rule with a finding as it runs.

``AND``/``OR``/``NOT``/``IN`` typed in capitals are read as ``and``/``or``/``not``/``in``;
``true``/``false`` as ``True``/``False``.
"""

from __future__ import annotations

import ast
import io
import operator
import tokenize
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from operator import attrgetter
from typing import Any

import numpy as np
from rapidfuzz import process
from simpleeval import EvalWithCompoundTypes, InvalidExpression, NameNotDefined

from .model import day_numbers, distinct_codes

MAX_RULE_LENGTH = 500
MAX_TEXT = 200  # longest text constant in a rule, and longest text built by +
MAX_NODES = 150
MAX_EXPONENT = 64
MAX_NUMBER = 1e15


class TextList(tuple[str, ...]):
    """A list of texts from the customer's own cells (tags, preferences, products):
    ``in`` matches an item that contains the text, ignoring case."""

    __slots__ = ()


@dataclass(frozen=True)
class RuleError:
    """Why a rule cannot be used: plain words plus the 1-based character position
    in the rule text (``None`` when the rule as a whole is the problem)."""

    message: str
    position: int | None = None
    suggestion: str = ""

    def __str__(self) -> str:
        where = f"at character {self.position}: " if self.position is not None else ""
        hint = f" — did you mean '{self.suggestion}'?" if self.suggestion else ""
        return f"{where}{self.message}{hint}"


class RuleProblem(Exception):
    """Raised inside evaluation; carries a ``RuleError``."""

    def __init__(self, error: RuleError) -> None:
        super().__init__(str(error))
        self.error = error


# ---------------------------------------------------------------- kinds of values

Kind = str  # "text" | "number" | "date" | "list" | "bool" | "any"

# What each function takes (min, max arguments) and returns.
FUNCTIONS: dict[str, tuple[int, int, Kind]] = {
    "bought": (1, 1, "bool"),
    "bought_since": (2, 2, "bool"),
    "contains": (2, 2, "bool"),
    "days_since": (1, 1, "number"),
    "any_tag": (1, 20, "bool"),
    "lower": (1, 1, "text"),
    "upper": (1, 1, "text"),
    "len": (1, 1, "number"),
    "abs": (1, 1, "number"),
    "round": (1, 2, "number"),
    "min": (1, 20, "any"),
    "max": (1, 20, "any"),
    "date": (1, 1, "date"),
    "blank": (1, 1, "bool"),
}


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _fold(value: Any) -> Any:
    return value.casefold().strip() if isinstance(value, str) else value


def _as_date(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()
    return value


def _coerce_pair(a: Any, b: Any) -> tuple[Any, Any]:
    """Make a date comparable with ISO text (``last_order > "2025-01-01"``) and fold text."""
    a, b = _as_date(a), _as_date(b)
    if isinstance(a, date) and isinstance(b, str):
        b = _parse_iso(b)
    elif isinstance(b, date) and isinstance(a, str):
        a = _parse_iso(a)
    return _fold(a), _fold(b)


def _parse_iso(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise TypeError(f"'{text}' is not a date written as YYYY-MM-DD") from None


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, tuple | list | set):
        return "a list"
    return type(value).__name__


def _ordering(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return False  # a missing value is simply false
        a, b = _coerce_pair(a, b)
        if isinstance(a, bool) or isinstance(b, bool):
            raise TypeError(f"cannot order {_describe(a)} and {_describe(b)}")
        try:
            return bool(op(a, b))
        except TypeError:
            raise TypeError(f"cannot compare {_describe(a)} with {_describe(b)}") from None

    return compare


def _eq(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    a, b = _coerce_pair(a, b)
    return bool(a == b)


def _ne(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    return not _eq(a, b)


def _contains(container: Any, item: Any) -> bool:
    """``item in container`` the way the module docstring describes."""
    if container is None or _is_missing(item):
        return False
    if isinstance(container, TextList):
        needle = str(item).casefold().strip()
        return any(needle in str(x).casefold() for x in container)
    if isinstance(container, str):
        if not isinstance(item, str):
            raise TypeError(f"cannot look for {_describe(item)} in text")
        return item.casefold().strip() in container.casefold()
    if isinstance(container, tuple | list | set | frozenset):
        wanted = _fold(_as_date(item))
        return any(_fold(_as_date(x)) == wanted for x in container)
    raise TypeError(f"cannot look inside {_describe(container)}")


def _in(a: Any, b: Any) -> bool:
    return _contains(b, a)


def _not_in(a: Any, b: Any) -> bool:
    if b is None or _is_missing(a):
        return False
    return not _contains(b, a)


def _arith(op: Callable[[Any, Any], Any], symbol: str) -> Callable[[Any, Any], Any]:
    def calc(a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None  # missing stays missing
        if symbol == "+" and isinstance(a, str) and isinstance(b, str):
            if len(a) + len(b) > MAX_TEXT:
                raise TypeError(f"the text would be longer than {MAX_TEXT} characters")
            return a + b
        if (
            isinstance(a, bool)
            or isinstance(b, bool)
            or not (isinstance(a, int | float) and isinstance(b, int | float))
        ):
            raise TypeError(f"cannot use {symbol} on {_describe(a)} and {_describe(b)}")
        if symbol == "**" and (abs(b) > MAX_EXPONENT or abs(a) > MAX_NUMBER):
            raise OverflowError("the number would be too big")
        try:
            result = op(a, b)
        except ZeroDivisionError:
            return None
        if isinstance(result, complex):  # Python's (-8) ** 0.5
            raise ValueError("a negative number cannot be raised to a fractional power")
        if isinstance(result, int | float) and abs(result) > MAX_NUMBER:
            raise OverflowError("the number would be too big")
        return result

    return calc


def _neg(a: Any) -> Any:
    if a is None:
        return None
    if isinstance(a, bool) or not isinstance(a, int | float):
        raise TypeError(f"cannot negate {_describe(a)}")
    return -a


OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: _arith(operator.add, "+"),
    ast.Sub: _arith(operator.sub, "-"),
    ast.Mult: _arith(operator.mul, "*"),
    ast.Div: _arith(operator.truediv, "/"),
    ast.FloorDiv: _arith(operator.floordiv, "//"),
    ast.Mod: _arith(operator.mod, "%"),
    ast.Pow: _arith(operator.pow, "**"),
    ast.Eq: _eq,
    ast.NotEq: _ne,
    ast.Gt: _ordering(operator.gt),
    ast.Lt: _ordering(operator.lt),
    ast.GtE: _ordering(operator.ge),
    ast.LtE: _ordering(operator.le),
    ast.In: _in,
    ast.NotIn: _not_in,
    ast.Not: lambda a: not a,
    ast.USub: _neg,
    ast.UAdd: lambda a: a if a is None else _neg(_neg(a)),
}

_ALLOWED_NODES = (
    ast.Expression,
    ast.BoolOp,
    ast.BinOp,
    ast.UnaryOp,
    ast.Compare,
    ast.Call,
    ast.Name,
    ast.Constant,
    ast.Tuple,
    ast.List,
    ast.Set,
    ast.Load,
    ast.IfExp,
    *OPERATORS,
    ast.And,
    ast.Or,
)

_FORBIDDEN_WORDS: dict[type, str] = {
    ast.Attribute: "a dot (attribute access) is not part of the rule language; "
    "write lower(x) instead of x.lower()",
    ast.Subscript: "square brackets [ ] are not part of the rule language",
    ast.Lambda: "lambda is not part of the rule language",
    ast.ListComp: "'for' inside a rule is not part of the rule language",
    ast.SetComp: "'for' inside a rule is not part of the rule language",
    ast.DictComp: "'for' inside a rule is not part of the rule language",
    ast.GeneratorExp: "'for' inside a rule is not part of the rule language",
    ast.JoinedStr: "f-strings are not part of the rule language",
    ast.NamedExpr: "':=' is not part of the rule language",
    ast.Dict: "{ } dictionaries are not part of the rule language",
    ast.Starred: "'*' before a value is not part of the rule language",
    ast.Await: "'await' is not part of the rule language",
    ast.Yield: "'yield' is not part of the rule language",
    ast.YieldFrom: "'yield' is not part of the rule language",
}

# Python operators the rule language leaves out, in words that say what to write instead.
# (ast.unparse gives "" for a bare operator node, so each needs its own words.)
_OPERATOR_WORDS: dict[type, str] = {
    ast.LShift: "'<<' (shifting bits) is not part of the rule language",
    ast.RShift: "'>>' (shifting bits) is not part of the rule language",
    ast.BitOr: "'|' is not part of the rule language; write 'or' between two conditions",
    ast.BitAnd: "'&' is not part of the rule language; write 'and' between two conditions",
    ast.BitXor: "'^' is not part of the rule language; for a power write ** (for example 2 ** 3)",
    ast.MatMult: "'@' is not part of the rule language; put an email address in quotes",
    ast.Invert: "'~' is not part of the rule language; write 'not' to turn a condition round",
    ast.Is: "'is' is not part of the rule language; write == to compare",
    ast.IsNot: "'is not' is not part of the rule language; write != to compare",
}


# ---------------------------------------------------------------- compiling


def _char_position(text: str, byte_offset: int) -> int:
    """ast gives UTF-8 byte offsets; the owner counts characters (1-based)."""
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore")) + 1


def _friendlier(text: str) -> str:
    """Owners type ``AND``, ``Or``, ``TRUE``; read them as Python's words. Works on
    tokens so text inside quotes is never touched, and keeps every position."""
    words = {"and": "and", "or": "or", "not": "not", "in": "in", "is": "is", "true": "True", "false": "False"}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return text
    chars = list(text)
    for tok in tokens:
        if tok.type == tokenize.NAME and tok.string.lower() in words and tok.start[0] == 1:
            replacement = words[tok.string.lower()]
            if replacement != tok.string and len(replacement) == len(tok.string):
                chars[tok.start[1] : tok.end[1]] = list(replacement)
    return "".join(chars)


def _syntax_message(text: str, exc: SyntaxError) -> tuple[str, int]:
    offset = exc.offset if exc.offset and exc.offset > 0 else len(text) + 1
    offset = min(offset, len(text) + 1)
    msg = (exc.msg or "invalid syntax").split(" (detected at")[0]
    near = text[offset - 1 : offset + 1] if offset <= len(text) else ""
    if near.startswith("=") and not near.startswith("=="):
        return "use == to compare (a single = is not allowed)", offset
    if near.startswith("<>"):
        return "use != for 'is not equal to'", offset
    if "unterminated string" in msg:
        return "a quote is opened but never closed", offset
    if "was never closed" in msg:
        return f"{msg.split(' was')[0]} is opened but never closed", offset
    if "unmatched" in msg:
        return f"{msg.replace('unmatched', 'there is no opening bracket for')}", offset
    if offset > len(text):
        return "the rule stops too early", offset
    return "the rule is not written correctly here", offset


@dataclass
class CompiledRule:
    """A checked rule, ready to run against one customer's names at a time.

    ``program`` is the checked tree turned once into nested Python closures (see
    ``_Compiler``), so running a rule for 100k customers does not walk the tree
    100k times; ``evaluator`` is simpleeval on the same tree, kept as the reference
    the closures are tested against (``evaluate_reference``)."""

    text: str
    tree: ast.expr
    evaluator: EvalWithCompoundTypes
    program: Callable[[Mapping[str, Any]], Any]

    def evaluate(self, names: Mapping[str, Any]) -> bool:
        """True when the customer matches. Raises ``RuleProblem`` with the position of
        the part that failed (a wrong type, for example)."""
        try:
            return bool(self.program(names))
        except RuleProblem:
            raise
        except _RUN_ERRORS as exc:
            raise RuleProblem(RuleError(_plain_exception(exc))) from None

    def evaluate_reference(self, names: Mapping[str, Any]) -> bool:
        """The same as ``evaluate`` through simpleeval's tree walk (slower; for tests)."""
        self.evaluator.names = names
        try:
            return bool(self.evaluator.eval(self.text, previously_parsed=self.tree))
        except RuleProblem:
            raise
        except _RUN_ERRORS as exc:
            raise RuleProblem(RuleError(_plain_exception(exc))) from None


_RUN_ERRORS = (InvalidExpression, TypeError, ValueError, OverflowError, RecursionError)
_NODE_ERRORS = (TypeError, ValueError, OverflowError, InvalidExpression)


def _plain_exception(exc: BaseException) -> str:
    text = str(exc)
    return text if text else type(exc).__name__


class _Evaluator(EvalWithCompoundTypes):  # type: ignore[misc]
    """simpleeval with the position of the failing part attached to any error."""

    def __init__(self, source: str, offset: int, functions: dict[str, Callable[..., Any]]) -> None:
        super().__init__(operators=dict(OPERATORS), functions=dict(functions), names={})
        self.source = source
        self.offset = offset  # characters stripped from the front of the owner's text

    def _eval(self, node: ast.AST) -> Any:
        try:
            return super()._eval(node)
        except RuleProblem:
            raise
        except (TypeError, ValueError, OverflowError, InvalidExpression) as exc:
            col = getattr(node, "col_offset", None)
            position = None if col is None else _char_position(self.source, col) + self.offset
            raise RuleProblem(RuleError(_plain_exception(exc), position)) from None

    def _eval_boolop(self, node: ast.BoolOp) -> Any:
        # Python's and/or return an operand; a rule only needs true/false.
        return bool(super()._eval_boolop(node))


Program = Callable[[Mapping[str, Any]], Any]


class _Compiler:
    """Turns a checked rule tree into nested closures, once per rule.

    Why closures and not Python's own ``compile``: every closure below can only do
    what simpleeval does on the same node — call one of ``OPERATORS`` or one of the
    rule language's ``functions`` (bound here, by name, from the checked call), look a
    name up in the mapping it is given, or return a constant. Nothing reaches
    builtins, attributes or globals, so the safety argument is the checker's plus
    this short list. The meaning is simpleeval's, node for node (and/or give yes/no,
    comparisons chain and stop early, arguments are worked out left to right), and
    an error is tagged with the position of the innermost node that failed, as
    ``_Evaluator`` does. ``tests/test_rules.py`` checks both agree on random rules.
    """

    def __init__(self, text: str, source: str, offset: int, functions: Mapping[str, Callable[..., Any]]):
        self.text = text  # the owner's text, as simpleeval's messages quote it
        self.source = source
        self.offset = offset
        self.functions = dict(functions)

    def position(self, node: ast.AST) -> int | None:
        col = getattr(node, "col_offset", None)
        return None if col is None else _char_position(self.source, col) + self.offset

    def build(self, node: ast.AST) -> Program:
        method = getattr(self, "_" + type(node).__name__.lower(), None)
        if method is None:  # the checker lets no other node through
            raise ValueError(f"{type(node).__name__} is not part of the rule language")
        program: Program = method(node, self.position(node))
        return program

    # Each builder returns ``run(names)``; ``fail`` turns a plain error raised by this
    # node's own work into a RuleProblem at its position (a child's is already one).

    def _constant(self, node: ast.Constant, at: int | None) -> Program:
        value = node.value

        def run(names: Mapping[str, Any]) -> Any:
            return value

        return run

    def _name(self, node: ast.Name, at: int | None) -> Program:
        name, text, functions = node.id, self.text, self.functions

        def run(names: Mapping[str, Any]) -> Any:
            try:
                return names[name]
            except (KeyError, TypeError):
                pass
            except _NODE_ERRORS as exc:
                raise _fail(exc, at) from None
            if name in functions:
                return functions[name]
            raise _fail(NameNotDefined(name, text), at)

        return run

    def _unaryop(self, node: ast.UnaryOp, at: int | None) -> Program:
        op, operand = OPERATORS[type(node.op)], self.build(node.operand)

        def run(names: Mapping[str, Any]) -> Any:
            value = operand(names)
            try:
                return op(value)
            except _NODE_ERRORS as exc:
                raise _fail(exc, at) from None

        return run

    def _binop(self, node: ast.BinOp, at: int | None) -> Program:
        op, left, right = OPERATORS[type(node.op)], self.build(node.left), self.build(node.right)

        def run(names: Mapping[str, Any]) -> Any:
            a = left(names)
            b = right(names)
            try:
                return op(a, b)
            except _NODE_ERRORS as exc:
                raise _fail(exc, at) from None

        return run

    def _boolop(self, node: ast.BoolOp, at: int | None) -> Program:
        parts = tuple(self.build(v) for v in node.values)
        # Plain loops (not all()/any() over a generator): this runs once per customer.
        if isinstance(node.op, ast.And):
            if len(parts) == 2:
                one, two = parts

                def run_and2(names: Mapping[str, Any]) -> bool:
                    return bool(one(names)) and bool(two(names))

                return run_and2

            def run_and(names: Mapping[str, Any]) -> bool:
                for part in parts:  # noqa: SIM110
                    if not part(names):
                        return False
                return True

            return run_and
        if len(parts) == 2:
            one, two = parts

            def run_or2(names: Mapping[str, Any]) -> bool:
                return bool(one(names)) or bool(two(names))

            return run_or2

        def run_or(names: Mapping[str, Any]) -> bool:
            for part in parts:  # noqa: SIM110
                if part(names):
                    return True
            return False

        return run_or

    def _compare(self, node: ast.Compare, at: int | None) -> Program:
        first = self.build(node.left)
        pairs = zip(node.ops, node.comparators, strict=True)
        steps = tuple((OPERATORS[type(op)], self.build(right)) for op, right in pairs)
        if len(steps) == 1:
            ((op, second),) = steps
            fast = _fast_compare(node.left, node.ops[0], node.comparators[0])
            if fast is not None:
                fn, constant_on_right = fast
                return self._compare_constant(at, fn, first if constant_on_right else second)

            def run_one(names: Mapping[str, Any]) -> Any:
                a = first(names)
                b = second(names)
                try:
                    return op(a, b)
                except _NODE_ERRORS as exc:
                    raise _fail(exc, at) from None

            return run_one

        def run(names: Mapping[str, Any]) -> Any:
            right = first(names)
            result: Any = True
            for op, part in steps:
                if not result:
                    break
                left, right = right, part(names)
                try:
                    result = op(left, right)
                except _NODE_ERRORS as exc:
                    raise _fail(exc, at) from None
            return result

        return run

    def _compare_constant(self, at: int | None, fast: Callable[[Any], Any], other: Program) -> Program:
        """One comparison with a constant on one side: only the other side runs."""

        def run(names: Mapping[str, Any]) -> Any:
            value = other(names)
            try:
                return fast(value)
            except _NODE_ERRORS as exc:
                raise _fail(exc, at) from None

        return run

    def _ifexp(self, node: ast.IfExp, at: int | None) -> Program:
        test, body, orelse = self.build(node.test), self.build(node.body), self.build(node.orelse)

        def run(names: Mapping[str, Any]) -> Any:
            return body(names) if test(names) else orelse(names)

        return run

    def _call(self, node: ast.Call, at: int | None) -> Program:
        assert isinstance(node.func, ast.Name) and not node.keywords  # the checker's promise
        try:
            fn = self.functions[node.func.id]
        except KeyError:
            raise ValueError(f"unknown function '{node.func.id}'") from None
        args = tuple(self.build(a) for a in node.args)
        if len(args) == 1:
            (only,) = args

            def run_one(names: Mapping[str, Any]) -> Any:
                value = only(names)
                try:
                    return fn(value)
                except _NODE_ERRORS as exc:
                    raise _fail(exc, at) from None

            return run_one

        def run(names: Mapping[str, Any]) -> Any:
            values = [a(names) for a in args]
            try:
                return fn(*values)
            except _NODE_ERRORS as exc:
                raise _fail(exc, at) from None

        return run

    def _items(self, node: ast.Tuple | ast.List | ast.Set) -> tuple[Program, ...]:
        return tuple(self.build(e) for e in node.elts)

    def _tuple(self, node: ast.Tuple, at: int | None) -> Program:
        fixed = _constant_value(node)
        if fixed is not _NOT_CONSTANT:  # ("Platinum", "Gold"): built once, a tuple never changes

            def run_fixed(names: Mapping[str, Any]) -> Any:
                return fixed

            return run_fixed
        items = self._items(node)

        def run(names: Mapping[str, Any]) -> Any:
            return tuple(i(names) for i in items)

        return run

    def _list(self, node: ast.List, at: int | None) -> Program:
        items = self._items(node)

        def run(names: Mapping[str, Any]) -> Any:
            return [i(names) for i in items]

        return run

    def _set(self, node: ast.Set, at: int | None) -> Program:
        items = self._items(node)

        def run(names: Mapping[str, Any]) -> Any:
            out = set()  # one item at a time: an unhashable item stops before the next runs
            for item in items:
                value = item(names)
                try:
                    out.add(value)
                except _NODE_ERRORS as exc:
                    raise _fail(exc, at) from None
            return out

        return run


_NOT_CONSTANT = object()
_PLAIN_NUMBER = (int, float)  # exact types: bool (a kind of int) takes the general path


def _constant_value(node: ast.AST) -> Any:
    """The value of a constant, or of a tuple of text and number constants;
    ``_NOT_CONSTANT`` for anything else."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple) and all(
        isinstance(e, ast.Constant) and type(e.value) in (str, int, float) for e in node.elts
    ):
        return tuple(e.value for e in node.elts)  # type: ignore[attr-defined]
    return _NOT_CONSTANT


def _fast_compare(left: ast.AST, op: ast.cmpop, right: ast.AST) -> tuple[Callable[[Any], Any], bool] | None:
    """A one-sided version of ``OPERATORS[op]`` for the common shapes (``revenue > 100``,
    ``tier == "Gold"``, ``tier in ("Gold", "Platinum")``, ``"veg" in preferences``).
    Each takes a short cut only for the plain value types it was written for, where it
    gives exactly what the general operator gives; any other value goes to the general
    operator with the constant in its place. Returns the short cut and whether the
    constant is on the right; ``None`` when there is no short cut."""
    general = OPERATORS[type(op)]
    const = _constant_value(right)
    if const is not _NOT_CONSTANT:
        kind = type(const)
        if isinstance(op, _ORDER_OPS) and kind in _PLAIN_NUMBER:
            plain = {ast.Gt: operator.gt, ast.Lt: operator.lt, ast.GtE: operator.ge, ast.LtE: operator.le}
            fn = plain[type(op)]

            def ordered(a: Any) -> Any:
                if type(a) in _PLAIN_NUMBER:
                    return fn(a, const)
                return general(a, const)

            return ordered, True
        if isinstance(op, ast.Eq | ast.NotEq) and kind in (str, *_PLAIN_NUMBER):
            folded = _fold(const)
            same = isinstance(op, ast.Eq)

            def equal(a: Any) -> Any:
                t = type(a)
                if (t is str and kind is str) or (t in _PLAIN_NUMBER and kind in _PLAIN_NUMBER):
                    return (_fold(a) == folded) is same
                return general(a, const)

            return equal, True
        if isinstance(op, ast.In | ast.NotIn) and kind is tuple:
            wanted = frozenset(_fold(x) for x in const)
            inside = isinstance(op, ast.In)

            def member(a: Any) -> Any:
                if type(a) is str:
                    return bool(a.strip()) and ((a.casefold().strip() in wanted) is inside)
                return general(a, const)

            return member, True
        return None
    const = _constant_value(left)
    if isinstance(op, ast.In | ast.NotIn) and type(const) is str and not isinstance(right, ast.Constant):
        needle = const.casefold().strip()
        inside = isinstance(op, ast.In)

        def contains(b: Any) -> Any:
            if not needle:  # a blank text is in nothing, and not "not in" anything either
                return general(const, b)
            t = type(b)
            if t is TextList:
                return any(needle in str(x).casefold() for x in b) is inside
            if t is str:
                return (needle in b.casefold()) is inside
            return general(const, b)

        return contains, False
    return None


def _fail(exc: BaseException, at: int | None) -> RuleProblem:
    return RuleProblem(RuleError(_plain_exception(exc), at))


def compile_rule(
    text: str,
    kinds: Mapping[str, Kind],
    functions: Mapping[str, Callable[..., Any]],
) -> CompiledRule | RuleError:
    """Check ``text`` and prepare it, or say (with the position) why it cannot run.

    ``kinds`` names every value a rule may use and what kind it is (text, number,
    date, list, bool or any); ``functions`` are the callables behind ``FUNCTIONS``.
    """
    if not isinstance(text, str):
        return RuleError("the rule must be text")
    if len(text) > MAX_RULE_LENGTH:
        return RuleError(f"the rule is {len(text):,} characters long; rules can be at most {MAX_RULE_LENGTH}")
    # A rule typed across lines (Alt+Enter) is one expression; keep every position.
    flat = text.replace("\r", " ").replace("\n", " ").replace("\t", " ")
    lead = len(flat) - len(flat.lstrip())
    body = _friendlier(flat.strip())
    if not body:
        return RuleError("the rule is empty")
    try:
        tree = ast.parse(body, mode="eval")
    except SyntaxError as exc:
        message, offset = _syntax_message(body, exc)
        return RuleError(message, offset + lead)
    except (ValueError, RecursionError, MemoryError):
        return RuleError("the rule is not written correctly")
    problem = _check(tree, body, kinds)
    if problem is not None:
        if problem.position is not None:
            problem = RuleError(problem.message, problem.position + lead, problem.suggestion)
        return problem
    try:
        program = _Compiler(text, body, lead, functions).build(tree.body)
    except (ValueError, RecursionError):
        return RuleError("the rule is not written correctly")
    return CompiledRule(text, tree.body, _Evaluator(body, lead, dict(functions)), program)


def _walk(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node, parents before children and left to right, so a forbidden construct
    is named before its parts and the first problem reported is the leftmost."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _check(tree: ast.Expression, text: str, kinds: Mapping[str, Kind]) -> RuleError | None:
    def at(node: ast.AST) -> int | None:
        col = getattr(node, "col_offset", None)
        return None if col is None else _char_position(text, col)

    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for count, node in enumerate(_walk(tree), start=1):
        if count > MAX_NODES:
            return RuleError(f"the rule is too complicated (more than {MAX_NODES} parts)")
        if type(node) in _FORBIDDEN_WORDS:
            return RuleError(_FORBIDDEN_WORDS[type(node)], at(node))
        if (problem := _check_operator(node, text)) is not None:
            return problem
        if not isinstance(node, _ALLOWED_NODES):
            return RuleError(f"'{_show_node(node)}' is not part of the rule language", at(node))
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str) and len(node.value) > MAX_TEXT:
                return RuleError(f"the text is longer than {MAX_TEXT} characters", at(node))
            if isinstance(node.value, bytes | complex) or node.value is Ellipsis:
                return RuleError(f"{node.value!r} is not a value rules can use", at(node))
            number = isinstance(node.value, int | float) and not isinstance(node.value, bool)
            if number and abs(node.value) > MAX_NUMBER:
                return RuleError("the number is too big", at(node))
        elif isinstance(node, ast.Name):
            if node.id not in kinds and node.id not in FUNCTIONS:
                return _unknown_name(node.id, at(node), kinds)
            if node.id in FUNCTIONS and node.id not in kinds and id(node) not in called:
                return RuleError(f"{node.id} is a function: write {node.id}(...)", at(node))
        elif isinstance(node, ast.Call):
            problem = _check_call(node, at(node), kinds)
            if problem is not None:
                return problem
        elif isinstance(node, ast.BinOp) and (problem := _check_binop(node, at, kinds)) is not None:
            return problem
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            exponent = node.right
            if isinstance(exponent, ast.UnaryOp) and isinstance(exponent.op, ast.USub | ast.UAdd):
                exponent = exponent.operand  # 2 ** -1 is a plain exponent too
            if not (
                isinstance(exponent, ast.Constant)
                and isinstance(exponent.value, int | float)
                and not isinstance(exponent.value, bool)
                and abs(exponent.value) <= MAX_EXPONENT
            ):
                return RuleError(
                    f"powers are limited to a plain exponent of at most {MAX_EXPONENT}", at(node)
                )
        elif isinstance(node, ast.Compare):
            problem = _check_compare(node, at, kinds)
            if problem is not None:
                return problem
    return None


def _check_operator(node: ast.AST, text: str) -> RuleError | None:
    """An operator the language leaves out, named, at the operator's own position."""
    pairs: list[tuple[ast.AST, ast.AST | None, ast.AST]] = []  # (operator, left, right)
    if isinstance(node, ast.BinOp):
        pairs.append((node.op, node.left, node.right))
    elif isinstance(node, ast.UnaryOp):
        pairs.append((node.op, None, node))
    elif isinstance(node, ast.Compare):
        lefts = [node.left, *node.comparators[:-1]]
        pairs.extend(zip(node.ops, lefts, node.comparators, strict=True))
    for op, left, right in pairs:
        words = _OPERATOR_WORDS.get(type(op))
        if words is not None:
            return RuleError(words, _operator_position(text, left, right))
    return None


def _operator_position(text: str, left: ast.AST | None, right: ast.AST) -> int | None:
    """1-based character position of the operator between ``left`` and ``right`` (the
    start of ``right`` for a unary operator, which is where it is written)."""
    start = getattr(right, "col_offset", None)
    if left is None or start is None:
        return None if start is None else _char_position(text, start)
    end = getattr(left, "end_col_offset", None)
    if end is None:
        return _char_position(text, start)
    between = text.encode("utf-8")[end:start]
    skip = len(between) - len(between.lstrip(b" )"))
    return _char_position(text, end + skip)


def _show_node(node: ast.AST) -> str:
    """A part of the rule in a message: as typed, or (for a bare operator or keyword
    node, which has no text of its own) its kind in words."""
    try:
        shown = ast.unparse(node)[:30]
    except Exception:  # unparse is for whole trees; a part may not unparse
        shown = ""
    return shown or type(node).__name__.lower()


def _unknown_name(name: str, position: int | None, kinds: Mapping[str, Kind]) -> RuleError:
    choices = [*kinds, *FUNCTIONS]
    best = process.extractOne(name.lower(), choices, score_cutoff=70)
    if name.lower() in kinds or name.lower() in FUNCTIONS:
        suggestion = name.lower()
    else:
        suggestion = best[0] if best else ""
    hint = "" if suggestion else " (for text, put it in quotes)"
    return RuleError(f"unknown name '{name}'{hint}", position, suggestion)


def _check_call(node: ast.Call, position: int | None, kinds: Mapping[str, Kind]) -> RuleError | None:
    if isinstance(node.func, ast.Attribute):
        return RuleError(_FORBIDDEN_WORDS[ast.Attribute], position)
    if type(node.func) in _FORBIDDEN_WORDS:
        return RuleError(_FORBIDDEN_WORDS[type(node.func)], position)
    if not isinstance(node.func, ast.Name):
        return RuleError("only the rule language's own functions can be called", position)
    name = node.func.id
    if name not in FUNCTIONS:
        if name in kinds:
            return RuleError(f"'{name}' is a value, not a function", position)
        best = process.extractOne(name.lower(), list(FUNCTIONS), score_cutoff=70)
        return RuleError(f"unknown function '{name}'", position, best[0] if best else "")
    if node.keywords:
        return RuleError(f"{name}() takes plain values, not name=value", position)
    low, high, _ = FUNCTIONS[name]
    n = len(node.args)
    if not low <= n <= high:
        wanted = str(low) if low == high else f"{low} to {high}"
        return RuleError(f"{name}() needs {wanted} value{'s' if high > 1 else ''}, not {n}", position)
    return None


def _show(node: ast.AST) -> str:
    """A part of the rule as the owner typed it, short."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return '"' + node.value[:40] + '"'
    return ast.unparse(node)[:40]


_KIND_WORDS = {"number": "a number", "text": "text", "date": "a date", "list": "a list", "bool": "yes/no"}


def _check_binop(
    node: ast.BinOp, at: Callable[[ast.AST], int | None], kinds: Mapping[str, Kind]
) -> RuleError | None:
    """Arithmetic is for numbers; + may also join two texts."""
    a, b = _kind_of(node.left, kinds), _kind_of(node.right, kinds)
    if isinstance(node.op, ast.Add) and a == b == "text":
        return None
    for side, kind in ((node.left, a), (node.right, b)):
        if kind in ("text", "list", "date", "bool"):
            return RuleError(f"{_show(side)} is {_KIND_WORDS[kind]}; arithmetic needs numbers", at(side))
    return None


_ORDER_OPS = (ast.Gt, ast.Lt, ast.GtE, ast.LtE)
_SYMBOLS: dict[type, str] = {ast.Gt: ">", ast.Lt: "<", ast.GtE: ">=", ast.LtE: "<="}


def _kind_of(node: ast.AST, kinds: Mapping[str, Kind]) -> Kind:
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, int | float):
            return "number"
        if isinstance(v, str):
            return "text"
        return "any"
    if isinstance(node, ast.Name):
        return kinds.get(node.id, "any")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
        return FUNCTIONS[node.func.id][2]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return "list"
    return "any"


_ORDERABLE = {("number", "number"), ("text", "text"), ("date", "date"), ("date", "text"), ("text", "date")}


def _check_compare(
    node: ast.Compare, at: Callable[[ast.AST], int | None], kinds: Mapping[str, Kind]
) -> RuleError | None:
    """Catch the plain type mistakes before any customer is looked at
    (``city > 5``, ``tags > 2``); the rest is checked as the rule runs."""
    left = node.left
    for op, right in zip(node.ops, node.comparators, strict=True):
        a, b = _kind_of(left, kinds), _kind_of(right, kinds)
        if isinstance(op, _ORDER_OPS) and "any" not in (a, b) and (a, b) not in _ORDERABLE:
            words = _KIND_WORDS
            return RuleError(
                f"{_show(left)} is {words[a]} and {_show(right)} is {words[b]}; "
                f"they cannot be compared with {_SYMBOLS[type(op)]}",
                at(right),
            )
        if isinstance(op, ast.In | ast.NotIn) and b in ("number", "bool", "date"):
            return RuleError(
                f"{_show(right)} is not text or a list, so 'in' cannot look inside it", at(right)
            )
        left = right
    return None


# ---------------------------------------------------------------- one customer's names

# Customer fields by kind (the rest of Customer is internal bookkeeping).
CUSTOMER_KINDS: dict[str, Kind] = {
    **dict.fromkeys(
        [
            "customer_id",
            "first_name",
            "last_name",
            "name",
            "company",
            "job_title",
            "role",
            "email",
            "phone",
            "preferred_channel",
            "best_time",
            "address",
            "city",
            "postcode",
            "country",
            "referred_by",
            "notes",
        ],
        "text",
    ),
    "birthday": "date",
    "customer_since": "date",
    "email_opt_in": "bool",
    "sms_opt_in": "bool",
    "do_not_contact": "bool",
    "tags": "list",
    "preferences": "list",
}

# CustomerValue fields (from the tiers step) by kind.
VALUE_KINDS: dict[str, Kind] = {
    **dict.fromkeys(
        [
            "orders",
            "revenue",
            "avg_order_value",
            "days_since_last_order",
            "usual_gap_days",
            "revenue_rank",
            "cumulative_share",
            "top_percent",
            "r_score",
            "f_score",
            "m_score",
            "historical_value",
            "p_alive",
            "predicted_purchases_12m",
            "predicted_value_12m",
            "referrals",
            "referred_revenue",
        ],
        "number",
    ),
    "first_order": "date",
    "last_order": "date",
    "tier": "text",
    "rfm_segment": "text",
    "advocate": "bool",
    "account": "text",
    "products": "list",
}

# Worked out here from the customer's orders and interactions.
DERIVED_KINDS: dict[str, Kind] = {
    "satisfaction": "number",  # latest score, on the workbook's own scale
    "average_satisfaction": "number",
    "interactions": "number",
    "last_contact": "date",
    "days_since_last_contact": "number",
    "age": "number",
    "birthday_month": "number",
}


Getter = Callable[[Any, str], Any]  # (customer, its key) -> one name's value


class RuleContext:
    """Everything a rule can see, for one customer at a time.

    Build it once per run; ``names_for(customer)`` gives a lazy mapping (a value is
    worked out only when a rule uses it, then kept for that customer's other rules)
    and sets the customer the functions (``bought`` ...) look at. What is the same
    for every customer is worked out once, on first use: interactions and orders by
    customer, the latest and average satisfaction, and who bought a product.
    """

    MEMO_LIMIT = 64  # distinct bought() arguments remembered (a rule like bought(city) varies)

    def __init__(
        self,
        records: Any,
        values: Mapping[str, Any],
        today: date,
        extra_columns: list[str] | None = None,
    ) -> None:
        self.records = records
        self.values = values
        self.today = today
        extras = extra_columns if extra_columns is not None else self._extra_columns(records)
        self.kinds: dict[str, Kind] = {
            **dict.fromkeys(extras, "any"),
            **CUSTOMER_KINDS,
            **VALUE_KINDS,
            **DERIVED_KINDS,
        }
        self.extra_columns = [e for e in extras if e not in CUSTOMER_KINDS | VALUE_KINDS | DERIVED_KINDS]
        self._orders_by_customer: dict[str, list[Any]] | None = None
        self._contacts_by_customer: dict[str, list[Any]] | None = None
        self._satisfaction: dict[str, tuple[float | None, float | None]] | None = None
        self._bought_memo: dict[Any, frozenset[str]] = {}
        self.getters: dict[str, Getter] = self._getters()
        self.current: Any = None
        self.current_key = ""
        self.functions: dict[str, Callable[..., Any]] = {
            "bought": self._bought,
            "bought_since": self._bought_since,
            "contains": _fn_contains,
            "days_since": self._days_since,
            "any_tag": self._any_tag,
            "lower": lambda v: v.lower() if isinstance(v, str) else v,
            "upper": lambda v: v.upper() if isinstance(v, str) else v,
            "len": lambda v: None if v is None else len(v),
            "abs": lambda v: None if v is None else abs(v),
            "round": lambda v, n=0: None if v is None else round(v, int(n)),
            "min": _none_safe(min),
            "max": _none_safe(max),
            "date": _fn_date,
            "blank": _is_missing,
        }

    @staticmethod
    def _extra_columns(records: Any) -> list[str]:
        table = getattr(records, "tables", {}).get("Customers") if records else None
        if table is None:
            return []
        return [name for name in table.fields if name not in CUSTOMER_KINDS and name != "merged_into"]

    def compile(self, text: str) -> CompiledRule | RuleError:
        return compile_rule(text, self.kinds, self.functions)

    def names_for(self, customer: Any) -> Mapping[str, Any]:
        names = _CustomerNames(self, customer)
        self.current, self.current_key = customer, names.key
        return names

    # -- worked out once per run, on first use

    @property
    def orders_by_customer(self) -> dict[str, list[Any]]:
        if self._orders_by_customer is None:
            self._orders_by_customer = self.records.orders_by_customer() if self.records else {}
        return self._orders_by_customer

    @property
    def contacts_by_customer(self) -> dict[str, list[Any]]:
        """Interactions by ``Customer.key``."""
        if self._contacts_by_customer is None:
            out: dict[str, list[Any]] = {}
            for item in getattr(self.records, "interactions", None) or []:
                if item.customer_id:
                    out.setdefault(item.customer_id, []).append(item)
            self._contacts_by_customer = out
        return self._contacts_by_customer

    @property
    def satisfaction_by_customer(self) -> dict[str, tuple[float | None, float | None]]:
        """(latest, average) satisfaction by ``Customer.key``, for customers with a score."""
        if self._satisfaction is None:
            self._satisfaction = satisfaction_by_customer(getattr(self.records, "interactions", None) or [])
        return self._satisfaction

    def _getters(self) -> dict[str, Getter]:
        """How each name is worked out for one customer (a computed name wins over an
        owner column with the same slug, as ``kinds`` says)."""
        getters: dict[str, Getter] = {name: _extra_getter(name) for name in self.extra_columns}
        for name in CUSTOMER_KINDS:
            getters[name] = _customer_getter(name)
        for name in VALUE_KINDS:
            getters[name] = _value_getter(self.values, name)
        for name in DERIVED_KINDS:
            getters[name] = self._derived_getter(name)
        return getters

    def _derived_getter(self, name: str) -> Getter:
        today = self.today
        if name == "satisfaction":
            return lambda c, key: self.satisfaction_by_customer.get(key, (None, None))[0]
        if name == "average_satisfaction":
            return lambda c, key: self.satisfaction_by_customer.get(key, (None, None))[1]
        if name == "interactions":
            return lambda c, key: len(self.contacts_by_customer.get(key, ()))
        if name in ("last_contact", "days_since_last_contact"):

            def contact(c: Any, key: str) -> Any:
                items = self.contacts_by_customer.get(key, ())
                dates = [i.date for i in items if i.date is not None and i.date <= today]
                if not dates:
                    return None
                last = max(dates)
                return last if name == "last_contact" else (today - last).days

            return contact
        if name == "birthday_month":
            return lambda c, key: c.birthday.month if c.birthday else None
        if name == "age":

            def age(c: Any, key: str) -> int | None:
                b = c.birthday
                if b is None or b > today:
                    return None
                return today.year - b.year - ((today.month, today.day) < (b.month, b.day))

            return age
        return lambda c, key: None

    # -- functions (they look at ``self.current``)

    def _products(self) -> list[tuple[str, date | None]]:
        key = self.current.key if self.current is not None else ""
        return [(o.product, o.date) for o in self.orders_by_customer.get(key, []) if o.product]

    def _buyers(self, wanted: str, days: float | None) -> frozenset[str] | None:
        """Keys of customers with an order whose product contains ``wanted`` (within the
        last ``days`` days when given), worked out once per argument over all orders at
        once (``Records.order_columns``); ``None`` once too many different arguments
        were asked for."""
        memo_key = (wanted, days)
        found = self._bought_memo.get(memo_key)
        if found is not None:
            return found
        if len(self._bought_memo) >= self.MEMO_LIMIT:
            return None
        found = frozenset()
        if self.records is not None and self.records.orders:
            cols = self.records.order_columns()
            names = cols.product_names
            matching = np.zeros(len(names), dtype=bool)
            matching[[i for i, name in enumerate(names) if name and wanted in name.casefold()]] = True
            hit = matching[cols.product_code]
            if days is not None:
                ago = self.today.toordinal() - cols.day
                hit &= (cols.day >= 0) & (ago >= 0) & (ago <= days)
            keys = cols.customer_keys
            found = frozenset(keys[k] for k in np.unique(cols.customer_code[hit]).tolist() if keys[k])
        self._bought_memo[memo_key] = found
        return found

    def _bought(self, product: Any) -> bool:
        if not isinstance(product, str):
            raise TypeError("bought() needs a product name in quotes")
        wanted = product.casefold().strip()
        if not wanted:
            return False
        buyers = self._buyers(wanted, None)
        if buyers is not None:
            return self.current is not None and self.current_key in buyers
        return any(wanted in name.casefold() for name, _ in self._products())

    def _bought_since(self, product: Any, days: Any) -> bool:
        if not isinstance(product, str) or isinstance(days, bool) or not isinstance(days, int | float):
            raise TypeError(
                'bought_since() needs a product in quotes and a number of days: bought_since("Tea", 90)'
            )
        wanted = product.casefold().strip()
        if not wanted:
            return False
        buyers = self._buyers(wanted, days)
        if buyers is not None:
            return self.current is not None and self.current_key in buyers
        return any(
            wanted in name.casefold() and when is not None and 0 <= (self.today - when).days <= days
            for name, when in self._products()
        )

    def _days_since(self, when: Any) -> int | None:
        when = _as_date(when)
        if isinstance(when, str):
            when = _fn_date(when)
        if when is None:
            return None
        if not isinstance(when, date):
            raise TypeError(f"days_since() needs a date, not {_describe(when)}")
        return (self.today - when).days

    def _any_tag(self, *tags: Any) -> bool:
        have = {t.casefold().strip() for t in (self.current.tags if self.current is not None else [])}
        return any(isinstance(t, str) and t.casefold().strip() in have for t in tags)


def _customer_getter(name: str) -> Getter:
    if name == "name":
        return lambda c, key: c.full_name or c.name

    def get(c: Any, key: str) -> Any:
        raw = getattr(c, name)
        return TextList(raw) if isinstance(raw, list) else raw

    return get


_ZERO_WITHOUT_FIGURES = ("orders", "revenue", "historical_value", "referrals")


def _value_getter(values: Mapping[str, Any], name: str) -> Getter:
    if name == "products":

        def products(c: Any, key: str) -> TextList:
            value = values.get(key)
            return TextList((getattr(value, name, None) if value is not None else None) or [])

        return products
    missing = 0 if name in _ZERO_WITHOUT_FIGURES else None

    def get(c: Any, key: str) -> Any:
        value = values.get(key)
        return missing if value is None else getattr(value, name, None)

    return get


def _extra_getter(name: str) -> Getter:
    def get(c: Any, key: str) -> Any:
        raw = c.extra.get(name)
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, str):
            return raw.strip()
        return raw

    return get


def _fn_contains(text: Any, part: Any) -> bool:
    if _is_missing(text) or _is_missing(part):
        return False
    if isinstance(text, tuple | list):
        return _contains(TextList(str(x) for x in text), part)
    return str(part).casefold().strip() in str(text).casefold()


def _fn_date(text: Any) -> date | None:
    if text is None:
        return None
    if isinstance(text, date):
        return _as_date(text)
    if not isinstance(text, str):
        raise TypeError(f'date() needs text like "2025-01-31", not {_describe(text)}')
    return _parse_iso(text)


def _none_safe(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        values = [a for a in args if a is not None]
        return fn(values) if values else None

    return call


def satisfaction_by_customer(interactions: list[Any]) -> dict[str, tuple[float, float]]:
    """(latest, average) satisfaction score by ``customer_id``, for the customers with a
    score. The latest is the score of the interaction with the latest date (a blank date
    counts as earliest), then the one further down the sheet; worked out over all interactions
    at once, since 200,000 interactions one by one took a third of a second."""
    n = len(interactions)
    if n == 0:
        return {}
    score = np.array(list(map(attrgetter("satisfaction"), interactions)), dtype=np.float64)  # None -> nan
    code, keys = distinct_codes(list(map(attrgetter("customer_id"), interactions)))
    picked = ~np.isnan(score)
    if "" in keys:
        picked &= code != keys.index("")
    if not picked.any():
        return {}
    day = day_numbers(list(map(attrgetter("date"), interactions)))  # -1 (earliest) for a blank date
    row = np.fromiter(map(attrgetter("row"), interactions), dtype=np.int64, count=n)
    code, score, day, row = code[picked], score[picked], day[picked], row[picked]
    # Sorted by customer, then date, then row: the last entry of each customer's run
    # is their latest.
    order = np.lexsort((row, day, code))
    ends = np.flatnonzero(np.r_[code[order][1:] != code[order][:-1], True])
    latest = score[order[ends]].tolist()
    average = (np.bincount(code, weights=score) / np.maximum(np.bincount(code), 1)).tolist()
    customer = code[order[ends]].tolist()
    return {keys[c]: (latest[j], average[c]) for j, c in enumerate(customer)}


class _CustomerNames(dict[str, Any]):
    """The names a rule sees for one customer, worked out on first use and kept.

    A dict, so a name already worked out is found at dict speed; a missing one is
    worked out by ``__missing__``. Iterating lists only the names worked out so far."""

    __slots__ = ("customer", "getters", "key")

    def __init__(self, ctx: RuleContext, customer: Any) -> None:
        super().__init__()
        self.getters = ctx.getters
        self.customer = customer
        self.key = customer.key

    def __missing__(self, name: str) -> Any:
        getter = self.getters.get(name)
        if getter is None:
            raise KeyError(name)
        value = getter(self.customer, self.key)
        self[name] = value
        return value


class _NotColumnar(Exception):
    """A rule (or part of one) that ``RuleColumns`` does not run column by column."""


class RuleColumns:
    """Rules run over all customers at once, one column of values per name and per
    part of the rule, for speed (100k customers x several rules).

    Each part does what the per-customer closures do, value by value (the same
    operator and short-cut functions, applied with ``map``), so a customer's answer is
    the same. Two things differ from running customer by customer, and both send the
    rule back to that slower path (``evaluate`` returns ``None``) rather than answer
    differently: an error anywhere in the column (it might come from a part that
    ``and``/``or`` would have skipped for that customer, and the per-customer run
    reports it with its position), and parts not handled here (chained comparisons,
    ``x if y else z``, lists and sets built from names, ``any_tag`` and functions
    called with anything but constants where the answer depends on the customer)."""

    def __init__(
        self, ctx: RuleContext, customers: list[Any], known: Mapping[str, list[Any]] | None = None
    ) -> None:
        """``known``: columns the caller has already worked out (name -> one value per
        customer, as the getter gives it)."""
        self.ctx = ctx
        self.customers = customers
        self.keys = [c.key for c in customers]
        self.n = len(customers)
        self._names: dict[str, list[Any]] = dict(known or {})
        self._values: list[Any] | None = None  # each customer's tier figures (CustomerValue)
        self._all_values = False  # every customer has them

    def column(self, name: str) -> list[Any]:
        """The value of ``name`` for every customer, worked out once per run."""
        values = self._names.get(name)
        if values is None and name in ("satisfaction", "average_satisfaction"):
            # What the getter gives, without asking for the per-run table 100k times.
            scores = self.ctx.satisfaction_by_customer
            which = 0 if name == "satisfaction" else 1
            none = (None, None)
            values = self._names[name] = [scores.get(key, none)[which] for key in self.keys]
        if values is None and name in VALUE_KINDS and name not in DERIVED_KINDS and name != "products":
            # What ``_value_getter`` gives, a column at a time.
            if self._values is None:
                self._values = [self.ctx.values.get(key) for key in self.keys]
                self._all_values = not any(v is None for v in self._values)
            missing = 0 if name in _ZERO_WITHOUT_FIGURES else None
            try:
                if not self._all_values:
                    raise AttributeError(name)
                values = list(map(operator.attrgetter(name), self._values))
            except AttributeError:
                values = [missing if v is None else getattr(v, name, None) for v in self._values]
            self._names[name] = values
        if values is None:
            getter = self.ctx.getters.get(name)
            if getter is None:
                raise _NotColumnar(name)
            values = self._names[name] = list(map(getter, self.customers, self.keys))
        return values

    def evaluate(self, rule: CompiledRule) -> list[bool] | None:
        """Whether each customer matches ``rule``; ``None`` when the rule must run one
        customer at a time (see the class docstring)."""
        try:
            return list(map(bool, self._run(rule.tree)))
        except Exception:  # any failure: the per-customer run decides, and reports it
            return None

    def names_at(self, i: int, names: list[str]) -> dict[str, Any]:
        """Customer ``i``'s values of ``names`` (for the membership's reason)."""
        return {name: self.column(name)[i] for name in names}

    def _run(self, node: ast.AST) -> list[Any]:
        n = self.n
        if isinstance(node, ast.Constant):
            return [node.value] * n
        if isinstance(node, ast.Name):
            return self.column(node.id)
        if isinstance(node, ast.Tuple):
            fixed = _constant_value(node)
            if fixed is _NOT_CONSTANT:
                raise _NotColumnar("tuple")
            return [fixed] * n
        if isinstance(node, ast.BoolOp):
            parts = [self._run(v) for v in node.values]
            result = list(map(bool, parts[0]))
            if isinstance(node.op, ast.And):
                for part in parts[1:]:
                    result = [r and bool(v) for r, v in zip(result, part, strict=True)]
            else:
                for part in parts[1:]:
                    result = [r or bool(v) for r, v in zip(result, part, strict=True)]
            return result
        if isinstance(node, ast.UnaryOp):
            return list(map(OPERATORS[type(node.op)], self._run(node.operand)))
        if isinstance(node, ast.BinOp):
            return list(map(OPERATORS[type(node.op)], self._run(node.left), self._run(node.right)))
        if isinstance(node, ast.Compare):
            if len(node.ops) != 1:
                raise _NotColumnar("chained comparison")
            left, op, right = node.left, node.ops[0], node.comparators[0]
            fast = _fast_compare(left, op, right)
            if fast is not None:
                fn, constant_on_right = fast
                return list(map(fn, self._run(left if constant_on_right else right)))
            return list(map(OPERATORS[type(op)], self._run(left), self._run(right)))
        if isinstance(node, ast.Call):
            return self._call(node)
        raise _NotColumnar(type(node).__name__)

    def _call(self, node: ast.Call) -> list[Any]:
        assert isinstance(node.func, ast.Name) and not node.keywords  # the checker's promise
        name = node.func.id
        if name in ("bought", "bought_since"):
            # These look at the current customer: answered from the set of buyers.
            args = [_constant_value(a) for a in node.args]
            if any(a is _NOT_CONSTANT for a in args) or not isinstance(args[0], str):
                raise _NotColumnar(name)
            days = None
            if name == "bought_since":
                days = args[1]
                if isinstance(days, bool) or not isinstance(days, int | float):
                    raise _NotColumnar(name)
            wanted = args[0].casefold().strip()
            if not wanted:
                return [False] * self.n
            buyers = self.ctx._buyers(wanted, days)
            if buyers is None:
                raise _NotColumnar(name)
            return [key in buyers for key in self.keys]
        if name == "any_tag":
            raise _NotColumnar(name)
        fn = self.ctx.functions[name]
        return list(map(fn, *(self._run(a) for a in node.args)))
