"""The names a rule can read for one customer, and the functions it can call.

``RuleContext`` is built once per run: Customer fields, the tiers step's figures, values
worked out from orders and interactions (satisfaction, last contact, age ...) and the
owner's own Customers columns by slug. What is the same for every customer is worked
out once, on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from operator import attrgetter
from typing import Any

import numpy as np

from ..model import day_numbers, distinct_codes
from .compile import CompiledRule, compile_rule
from .language import Kind, RuleError, TextList, _as_date, _contains, _describe, _is_missing, _parse_iso

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
