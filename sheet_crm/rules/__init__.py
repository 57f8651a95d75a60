"""The segment rule language: a small, safe expression language over one customer.

An owner types a rule in the Rule column of the Segments tab, for example::

    tier in ("Platinum", "Gold") and days_since_last_order > 90
    "vegetarian" in preferences
    bought("Lamb roast") and not bought_since("Lamb roast", 365)

Rules are Python-like expressions, checked before anything runs and then run with
simpleeval's meaning (``EvalWithCompoundTypes``; never ``eval``). What the language
allows, and why:

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

Where each part lives:

- ``language``: the limits, functions and kinds of values, what each operator means,
  and the checks with their words for the owner (each problem with its position).
- ``compile``: ``compile_rule`` (parse, check, compile) and ``CompiledRule``: the checked
  tree as closures, with simpleeval on the same tree as the reference.
- ``context``: ``RuleContext``, the names and functions a rule can use for one customer.
- ``columns``: ``RuleColumns``, the same rules over all customers at once, for speed.
"""

from __future__ import annotations

from .columns import RuleColumns
from .compile import CompiledRule, compile_rule
from .context import CUSTOMER_KINDS, DERIVED_KINDS, VALUE_KINDS, RuleContext, satisfaction_by_customer
from .language import (
    FUNCTIONS,
    MAX_EXPONENT,
    MAX_NODES,
    MAX_NUMBER,
    MAX_RULE_LENGTH,
    MAX_TEXT,
    OPERATORS,
    Kind,
    RuleError,
    RuleProblem,
    TextList,
)

__all__ = [
    "CUSTOMER_KINDS",
    "DERIVED_KINDS",
    "FUNCTIONS",
    "MAX_EXPONENT",
    "MAX_NODES",
    "MAX_NUMBER",
    "MAX_RULE_LENGTH",
    "MAX_TEXT",
    "OPERATORS",
    "VALUE_KINDS",
    "CompiledRule",
    "Kind",
    "RuleColumns",
    "RuleContext",
    "RuleError",
    "RuleProblem",
    "TextList",
    "compile_rule",
    "satisfaction_by_customer",
]
