"""Rules run over all customers at once, one column of values per name (``RuleColumns``)."""

from __future__ import annotations

import ast
import operator
from collections.abc import Mapping
from typing import Any

from .compile import _NOT_CONSTANT, CompiledRule, _constant_value, _fast_compare
from .context import _ZERO_WITHOUT_FIGURES, DERIVED_KINDS, VALUE_KINDS, RuleContext
from .language import OPERATORS


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
