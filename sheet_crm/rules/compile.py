"""From rule text to a rule that runs: parse, check (``language``), then compile.

The checked tree is turned once into nested closures (``_Compiler``), so a rule run for
100k customers does not walk the tree 100k times; simpleeval walks the same tree as the
reference the closures are tested against (``CompiledRule.evaluate_reference``).
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from simpleeval import EvalWithCompoundTypes, InvalidExpression, NameNotDefined

from .language import (
    _ORDER_OPS,
    MAX_RULE_LENGTH,
    OPERATORS,
    Kind,
    RuleError,
    RuleProblem,
    TextList,
    _char_position,
    _check,
    _fold,
    _friendlier,
    _syntax_message,
)


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
