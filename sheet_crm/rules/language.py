"""What a rule may say, what each part means, and the words for a rule that cannot run.

The limits (``MAX_RULE_LENGTH`` ...), the functions and the kinds of values, the meaning
of every operator (a missing value is simply false, text is compared ignoring case,
``in`` looks inside lists and text), and the checks a rule passes before anything runs:
each problem is plain words with the 1-based character position in the owner's text.
"""

from __future__ import annotations

import ast
import io
import operator
import tokenize
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from rapidfuzz import process

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


# ---------------------------------------------------------------- wording of problems


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


# ---------------------------------------------------------------- checks


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
