"""Value tiers: totals, Pareto share, RFM scores, lifetime value, referrals, accounts.

The result types below are the interface later steps (segments, dashboard,
outreach) rely on.

What counts (and what is left out, each said in the summary and ``skipped``):

* An order counts for the customer its Customer cell names (ID or email), after
  merges: a customer merged into another counts for the survivor and gets no row
  of its own. Left out (as the validation step's findings say): orders whose date
  or amount is blank or unreadable, orders dated after today, and orders naming no
  customer in Customers.
* A negative amount is a refund: it is netted against revenue and is not an order.
  An amount of 0 is an order worth 0.
* Several orders on one day are one purchase for the lifetime-value models (their
  amounts added) but count one by one in Orders.

The rules, in the owner's terms:

* **Pareto tiers.** Customers with revenue above 0 are ranked by revenue; the
  cumulative share of revenue runs down the ranking. A customer is Platinum when
  the customers ranked above them make less than ``tier_platinum`` % (default 50)
  of revenue, so the customer who crosses the line is still Platinum; likewise Gold
  (``tier_gold``, 80), Silver (``tier_silver``, 95); Bronze the rest. Customers
  with the same revenue share a rank and all get the tier of the first of them.
  A customer whose net revenue is 0 or less (no orders, or refunds that cancel
  them) has no tier ("").
* **Top 20%.** The share of revenue from the top ``ceil(20% of customers with
  revenue)`` customers, measured, never assumed.
* **RFM scores** (customers with at least one order): R = days since the last
  order (fewer is better), F = orders, M = revenue. Each is scored 1-5 by
  quintile of the mid-rank: ``score = ceil(5 * (rank - 0.5) / n)`` where ``rank``
  is the average rank of the value (``scipy.stats.rankdata(method="average")``),
  so equal values always get equal scores and a value shared by many customers
  gets the score of the middle of its group.
* **RFM segments**: ``RFM_RULES`` below, tried in order, first match wins; the
  last rules match on R alone, so every scored customer gets a segment.
* **Lifetime value**: see ``sheet_crm.ltv``; fitted when at least
  ``MIN_REPEAT_CUSTOMERS`` customers bought on two or more days. With more than
  ``FIT_SAMPLE`` (20,000) customers the models are fitted on a fixed, seeded random
  sample of that many and predict for everyone (the note says so). The 12-month value
  is predicted purchases x expected spend per purchase, undiscounted.
* **Referrals**: a customer's "Referred by" names the referrer by ID, email or full
  name (a name must match exactly one customer). Referred customers with at least
  one order count towards the referrer's Referrals and Referred revenue; one such
  referral makes the referrer an advocate.
* **Accounts (B2B)**: customers whose Company is the same after folding case,
  punctuation, "&"/"and" and legal suffixes (Ltd, LLC, Inc, GmbH, Pty, ...) roll up
  into one account, tiered among accounts by the same Pareto rule.
"""

from __future__ import annotations

import functools
import itertools
import math
import operator
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import Any

import numpy as np
from scipy.stats import rankdata

from .. import ltv
from ..config import Settings
from ..findings import Location, Severity
from ..gcpause import paused_gc
from ..model import Customer
from ..workbook import AMOUNT, ONE_DECIMAL, WHOLE, Cell, ToolTab
from . import Context, StepOutput

TIER_NAMES = ("Platinum", "Gold", "Silver", "Bronze")


@dataclass
class CustomerValue:
    """One customer's value figures; ``key`` is ``Customer.key``.

    Shares (``cumulative_share``) are fractions of revenue (0.45 = 45%);
    ``top_percent`` is a percentage of customers (14.0 = the top 14%)."""

    key: str
    name: str = ""
    orders: int = 0
    revenue: float = 0.0
    first_order: date | None = None
    last_order: date | None = None
    avg_order_value: float | None = None
    days_since_last_order: int | None = None
    usual_gap_days: float | None = None  # median days between orders; None with < 2 orders
    revenue_rank: int | None = None  # 1 = highest revenue
    cumulative_share: float | None = None  # share of all revenue up to and including this one
    top_percent: float | None = None  # "top 14% of customers by revenue"
    tier: str = ""  # one of TIER_NAMES, or "" with no revenue
    r_score: int | None = None
    f_score: int | None = None
    m_score: int | None = None
    rfm_segment: str = ""  # Champions, Loyal, ..., Lost
    historical_value: float = 0.0
    p_alive: float | None = None
    predicted_purchases_12m: float | None = None
    predicted_value_12m: float | None = None
    referrals: int = 0  # customers they referred who bought
    referred_revenue: float = 0.0
    advocate: bool = False
    account: str = ""  # the company account it rolls up into ("" for private customers)
    products: list[str] = field(default_factory=list)  # distinct products bought
    reason: str = ""
    referred_by: str = ""  # Customer.key of the referrer, when one was found
    refunds: float = 0.0  # total refunded (a positive number)


@dataclass
class AccountValue:
    """A company with its contacts rolled up."""

    account: str
    contacts: list[str]
    orders: int
    revenue: float
    last_order: date | None
    tier: str
    reason: str
    first_order: date | None = None
    revenue_rank: int | None = None  # among accounts
    cumulative_share: float | None = None  # fraction, among accounts
    top_percent: float | None = None
    predicted_value_12m: float | None = None  # sum over contacts, when lifetime value is fitted
    key: str = ""  # the folded company name contacts are grouped by


@dataclass
class TiersResult:
    customers: dict[str, CustomerValue]  # by Customer.key
    accounts: list[AccountValue] = field(default_factory=list)
    total_revenue: float = 0.0
    top20_share: float | None = None  # measured share of revenue from the top 20% of customers
    cutoffs: dict[str, float] = field(default_factory=dict)  # tier -> cumulative revenue share %
    ltv_fitted: bool = False
    ltv_note: str = ""  # why lifetime value is (not) predicted
    skipped: list[str] = field(default_factory=list)  # plain-words notes on rows left out
    top20_customers: int = 0  # how many customers "the top 20%" is
    customers_with_orders: int = 0
    tier_counts: dict[str, int] = field(default_factory=dict)
    ltv_params: dict[str, float] = field(default_factory=dict)  # r, alpha, a, b, p, q, gamma
    referral_notes: list[str] = field(default_factory=list)  # referrers that match no customer


# ---------------------------------------------------------------- rules

MIN_REPEAT_CUSTOMERS = 50
FIT_SAMPLE = 20_000  # lifetime-value models are fitted on at most this many customers (a fixed sample)
FIT_SEED = 20261122
PREDICTION_WEEKS = ltv.WEEKS_PER_YEAR  # 12 months
TOP_SHARE_OF_CUSTOMERS = 0.20


@dataclass(frozen=True)
class RfmRule:
    """One row of the RFM segment table: score ranges (inclusive) and, optionally, a
    range of order counts (``None`` = any)."""

    segment: str
    r: tuple[int, int]
    f: tuple[int, int] = (1, 5)
    m: tuple[int, int] = (1, 5)
    orders: tuple[int, int | None] | None = None
    meaning: str = ""

    def matches(self, r: int, f: int, m: int, orders: int) -> bool:
        if not (self.r[0] <= r <= self.r[1] and self.f[0] <= f <= self.f[1] and self.m[0] <= m <= self.m[1]):
            return False
        if self.orders is None:
            return True
        lo, hi = self.orders
        return orders >= lo and (hi is None or orders <= hi)


# Tried in this order; the first rule that matches names the segment. "One order"
# is checked on the count itself because many customers share F (bought once) and
# mid-rank scoring may give them F 2 or 3.
RFM_RULES: tuple[RfmRule, ...] = (
    RfmRule("Champions", r=(4, 5), f=(4, 5), m=(4, 5), meaning="bought recently, often and the most"),
    RfmRule("Loyal", r=(3, 5), f=(4, 5), meaning="buy often and not long ago"),
    RfmRule("Can't lose them", r=(1, 2), f=(4, 5), m=(4, 5), meaning="big, frequent buyers gone quiet"),
    RfmRule("At risk", r=(1, 2), f=(3, 5), orders=(2, None), meaning="bought often, but long ago"),
    RfmRule("New", r=(5, 5), orders=(1, 1), meaning="first order very recently"),
    RfmRule("Promising", r=(4, 4), orders=(1, 1), meaning="first order recently"),
    RfmRule("Potential loyalist", r=(4, 5), meaning="recent repeat buyers, not yet frequent"),
    RfmRule("Needs attention", r=(3, 3), orders=(2, None), meaning="repeat buyers drifting off"),
    RfmRule("About to sleep", r=(3, 3), meaning="one order, a while ago"),
    RfmRule("Hibernating", r=(2, 2), meaning="last order long ago, few orders"),
    RfmRule("Lost", r=(1, 1), meaning="last order longest ago, few orders"),
)


@functools.lru_cache(maxsize=8192)
def rfm_segment(r: int, f: int, m: int, orders: int) -> str:
    """The segment of the first rule in ``RFM_RULES`` that matches."""
    for rule in RFM_RULES:
        if rule.matches(r, f, m, orders):
            return rule.segment
    return ""  # unreachable for scores 1-5: the last rules cover every R


def quintile_scores(values: Sequence[float] | np.ndarray, *, higher_is_better: bool = True) -> np.ndarray:
    """Scores 1-5 by quintile of the mid-rank; equal values get equal scores."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    ranks = rankdata(arr if higher_is_better else -arr, method="average")
    pct = (ranks - 0.5) / arr.size
    return np.clip(np.ceil(5 * pct - 1e-9), 1, 5).astype(np.int64)


_LEGAL_SUFFIXES = {
    "ltd", "limited", "llc", "llp", "lp", "inc", "incorporated", "gmbh", "pty", "plc", "corp",
    "corporation", "co", "company", "ag", "sa", "sas", "sarl", "bv", "nv", "srl", "spa", "oy", "ab",
    "kg", "ug", "pte", "pvt", "sl", "as", "aps",
}  # fmt: skip


def account_key(company: str) -> str:
    """Fold a company name so spellings of one company meet: ``'ACME Pty. Ltd.'`` and
    ``'Acme'`` -> ``'acme'``; ``'Smith & Sons, Inc'`` -> ``'smith and sons'``. A name made
    only of a suffix (``'Ltd'``) is kept as it is."""
    s = unicodedata.normalize("NFKD", company)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).casefold()
    s = s.replace("&", " and ").replace("+", " and ")
    s = re.sub(r"(?<=\b[a-z])\.(?=[a-z]\b)", "", s)  # "p.l.c" -> "plc"
    words = re.sub(r"[^0-9a-z]+", " ", s).split()
    if words and words[0] == "the" and len(words) > 1:
        words = words[1:]
    while len(words) > 1 and words[-1] in _LEGAL_SUFFIXES:
        words.pop()
    # "Acme Pty Ltd" drops both; "Co" after "and" ("Smith and Co") goes with the "and".
    if len(words) > 1 and words[-1] == "and":
        words.pop()
    return " ".join(words)


def tier_cutoffs(settings: Settings, ctx: Context | None = None) -> dict[str, float]:
    """Platinum/Gold/Silver cut-offs in % of revenue from Settings. A value at or
    below 1 is read as a fraction (0.5 = 50%); cut-offs out of order or outside
    0-100 fall back to the defaults with a finding."""
    values = [settings.tier_platinum, settings.tier_gold, settings.tier_silver]
    # A percentage-formatted cell holds 0.5 for "50%": nobody means a 0.5% cut-off.
    values = [v * 100 if 0 < v <= 1 else v for v in values]
    ok = all(0 < v <= 100 for v in values) and values[0] <= values[1] <= values[2]
    if not ok:
        defaults = [
            float(Settings.model_fields[n].default) for n in ("tier_platinum", "tier_gold", "tier_silver")
        ]
        if ctx is not None:
            ctx.findings.add(
                "bad-tier-cutoffs",
                Severity.WARNING,
                Location("Settings"),
                f"The tier cut-offs (Platinum {values[0]:g}, Gold {values[1]:g}, Silver {values[2]:g}) must "
                f"be between 0 and 100 and rise from Platinum to Silver, so the defaults "
                f"({defaults[0]:g}/{defaults[1]:g}/{defaults[2]:g}) are used.",
                "Set tier platinum, tier gold and tier silver in Settings to rising percentages, "
                "for example 50, 80 and 95.",
                value=f"{values[0]:g}/{values[1]:g}/{values[2]:g}",
            )
        values = defaults
    return dict(zip(TIER_NAMES[:3], values, strict=True))


@dataclass
class _Pareto:
    rank: np.ndarray  # int, 0 for no revenue
    cumulative: np.ndarray  # fraction, nan for no revenue
    top_percent: np.ndarray  # nan for no revenue
    tier: list[str]
    top20_share: float | None
    top20_count: int
    positive: int
    order: list[int] = field(default_factory=list)  # entries with revenue, best first


def pareto(revenue: np.ndarray, keys: Sequence[str], cutoffs: dict[str, float]) -> _Pareto:
    """Ranks, cumulative shares and tiers of ``revenue`` (one entry per customer or
    account); see the module docstring for the rule. Ties share rank and tier."""
    n = revenue.size
    rank = np.zeros(n, dtype=np.int64)
    cumulative = np.full(n, np.nan)
    top_percent = np.full(n, np.nan)
    tier = [""] * n
    pos_idx = np.flatnonzero(revenue > 0)
    m = pos_idx.size
    if m == 0:
        return _Pareto(rank, cumulative, top_percent, tier, None, 0, 0)
    key_arr = np.asarray([keys[i] for i in pos_idx], dtype=object)
    # Highest revenue first; equal revenue in key order so the tab is stable.
    order = pos_idx[np.lexsort((key_arr, -revenue[pos_idx]))]
    rev = revenue[order]
    total = float(rev.sum())
    cum = np.cumsum(rev) / total
    # Tie groups: first and last position of each run of equal revenue.
    new_group = np.ones(m, dtype=bool)
    new_group[1:] = rev[1:] != rev[:-1]
    group_id = np.cumsum(new_group) - 1
    group_start = np.flatnonzero(new_group)
    group_end = np.append(group_start[1:], m) - 1
    first_pos = group_start[group_id]
    last_pos = group_end[group_id]
    before = np.where(first_pos > 0, cum[np.maximum(first_pos - 1, 0)], 0.0) * 100
    rank[order] = first_pos + 1
    cumulative[order] = cum[last_pos]
    top_percent[order] = (last_pos + 1) / m * 100
    limits = [cutoffs[t] for t in TIER_NAMES[:3]]
    tier_index = np.searchsorted(np.asarray(limits) - 1e-9, before, side="right")
    for pos, idx in enumerate(order):
        tier[idx] = TIER_NAMES[int(tier_index[pos])]
    top_count = max(1, math.ceil(TOP_SHARE_OF_CUSTOMERS * m - 1e-9))
    return _Pareto(
        rank, cumulative, top_percent, tier, float(cum[top_count - 1]), top_count, m, order.tolist()
    )


# ---------------------------------------------------------------- formatting


def money(amount: float, currency: str = "") -> str:
    """``1240`` -> ``'1,240'``; ``12.5`` -> ``'12.50'``; with the Settings currency."""
    text = f"{amount:,.0f}" if abs(amount) >= 1000 or float(amount).is_integer() else f"{amount:,.2f}"
    if not currency:
        return text
    if len(currency) == 1:
        return f"-{currency}{text[1:]}" if text.startswith("-") else f"{currency}{text}"
    return f"{text} {currency}"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _pct(fraction: float) -> str:
    return f"{fraction * 100:.0f}%" if fraction * 100 >= 10 else f"{fraction * 100:.1f}%"


def _top(percent: float) -> str:
    return f"top {max(1, math.ceil(percent - 1e-9))}%"


# ---------------------------------------------------------------- the step

TIERS_HEADERS = [
    "Level",
    "Customer ID",
    "Name",
    "Company/Account",
    "Orders",
    "Revenue",
    "First order",
    "Last order",
    "Average order",
    "Days since last order",
    "Usual gap (days)",
    "Rank",
    "Cumulative share %",
    "Tier",
    "R",
    "F",
    "M",
    "RFM segment",
    "Historical value",
    "P(active) %",
    "Predicted purchases 12m",
    "Predicted value 12m",
    "Referrals",
    "Referred revenue",
    "Advocate",
    "Reason",
]


# How the tab shows its numbers (R, F and M are plain scores 1-5).
TIERS_FORMATS = {
    "Orders": WHOLE,
    "Revenue": AMOUNT,
    "Average order": AMOUNT,
    "Days since last order": WHOLE,
    "Usual gap (days)": ONE_DECIMAL,
    "Rank": WHOLE,
    "Cumulative share %": ONE_DECIMAL,
    "Historical value": AMOUNT,
    "P(active) %": ONE_DECIMAL,
    "Predicted purchases 12m": AMOUNT,  # two decimals, like money
    "Predicted value 12m": AMOUNT,
    "Referrals": WHOLE,
    "Referred revenue": AMOUNT,
}

# The tab's columns as JSON keys: "Days since last order" -> "days_since_last_order".
JSON_KEYS = [re.sub(r"[^0-9a-z]+", "_", h.lower().replace("%", "pct")).strip("_") for h in TIERS_HEADERS]


@dataclass
class _Orders:
    """The orders that count, as arrays (one entry per order)."""

    cust: np.ndarray  # index into the customer list
    day: np.ndarray  # date ordinal
    amount: np.ndarray
    product_cust: np.ndarray  # distinct (customer, product) pairs, sorted by customer then name
    product_code: np.ndarray  # index into product_names
    product_names: list[str]  # sorted


def _collect_orders(ctx: Context, index: dict[str, int]) -> tuple[_Orders, list[str]]:
    """The usable orders as arrays, and plain-words notes on those left out.

    The orders come as columns (``Records.order_columns``, read once per run and
    shared with the segment rules and the Dashboard), so a million orders cost only
    array operations here."""
    orders = ctx.records.orders
    cols = ctx.records.order_columns()
    today_ord = ctx.today.toordinal()
    # Customers are numbered once per distinct customer key, not once per order.
    position = np.fromiter(
        map(index.get, cols.customer_keys, itertools.repeat(-1)), np.int64, len(cols.customer_keys)
    )
    cust = position[cols.customer_code] if len(orders) else np.zeros(0, np.int64)
    day = cols.day
    unreadable = (day < 0) | np.isnan(cols.amount) | cols.date_invalid | cols.amount_invalid
    amount = np.nan_to_num(cols.amount, nan=0.0)
    future = ~unreadable & (day > today_ord)
    unmatched = ~unreadable & ~future & (cust < 0)
    keep = ~(unreadable | future | unmatched)

    notes: list[str] = []
    bad_rows = [orders[i].row for i in np.flatnonzero(unreadable).tolist()]
    if bad_rows:
        notes.append(
            f"{_plural(len(bad_rows), 'order')} left out because the date or amount is missing or unreadable "
            f"(Orders rows {_rows(bad_rows)})."
        )
    future_rows = [orders[i].row for i in np.flatnonzero(future).tolist()]
    if future_rows:
        notes.append(
            f"{_plural(len(future_rows), 'order')} left out because dated after {ctx.today.isoformat()} "
            f"(Orders rows {_rows(future_rows)})."
        )
    nobody: list[int] = []
    unknown: dict[str, list[tuple[int, float]]] = {}
    for i in np.flatnonzero(unmatched).tolist():
        o = orders[i]
        ref = o.customer_ref.strip()
        if ref:
            unknown.setdefault(ref, []).append((o.row, float(amount[i])))
        else:
            nobody.append(o.row)
    if nobody:
        notes.append(
            f"{_plural(len(nobody), 'order')} left out because no customer is named "
            f"(Orders rows {_rows(nobody)})."
        )
    for ref, items in sorted(unknown.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        notes.append(
            f"{_plural(len(items), 'order')} ({money(sum(a for _r, a in items), ctx.settings.currency)}) for "
            f"'{ref}', who has no row in Customers, left out (Orders rows {_rows([r for r, _a in items])}); "
            f"add the customer to count them."
        )

    # Distinct products per customer, via the products' numbers in alphabetical order.
    names = sorted(cols.product_names)
    number = {name: i for i, name in enumerate(cols.product_names)}
    alpha_rank = np.empty(len(names), dtype=np.int64)
    alpha_rank[[number[name] for name in names]] = np.arange(len(names))
    code = cols.product_code
    has_product = keep.copy()
    if "" in number:
        has_product &= code != number[""]
    width = max(len(names), 1)
    pairs = _distinct(cust[has_product] * width + alpha_rank[code[has_product]])
    arrays = _Orders(
        cust[keep],
        day[keep],
        amount[keep],
        pairs // width,
        pairs % width,
        names,
    )
    return arrays, notes


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct integers (a plain sort: quicker here than ``np.unique``'s hashing;
    none when they come sorted)."""
    if values.size == 0:
        return values
    ordered = values if bool((values[1:] >= values[:-1]).all()) else np.sort(values)
    keep = np.ones(ordered.size, dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


def _rows(rows: list[int], limit: int = 8) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f" and {len(rows) - limit:,} more" if len(rows) > limit else "")


def _order_days(cust: np.ndarray, day: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each customer's first and last order day (-1 with no order) and the median days
    between their distinct order days (nan with fewer than two), from one sort of the
    distinct (customer, day) pairs."""
    first = np.full(n, -1, dtype=np.int64)
    last = np.full(n, -1, dtype=np.int64)
    gaps = np.full(n, np.nan)
    if cust.size == 0:
        return first, last, gaps
    span = int(day.max()) + 1
    pairs = _distinct(cust * span + day)  # (customer, day), sorted
    c, d = pairs // span, pairs % span
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
    ends = np.r_[starts[1:], c.size] - 1
    first[c[starts]] = d[starts]
    last[c[ends]] = d[ends]
    same = c[1:] == c[:-1]
    gap_c = c[1:][same]
    gap = (d[1:] - d[:-1])[same]
    if gap.size == 0:
        return first, last, gaps
    # Sort by customer, then gap: one sort of the combined key (gaps are below ``span``).
    ordered = np.sort(gap_c * span + gap)
    gap_c, gap = ordered // span, (ordered % span).astype(np.float64)
    counts = np.bincount(gap_c, minlength=n)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    has = counts > 0
    lo = starts[has] + (counts[has] - 1) // 2
    hi = starts[has] + counts[has] // 2
    gaps[has] = (gap[lo] + gap[hi]) / 2
    return first, last, gaps


def _distinct_customers(customers: list[Customer]) -> tuple[list[Customer], list[str], list[str]]:
    """One customer per Customer ID, with their keys: a later row repeating an ID is
    left out (its orders already count for the first row with that ID, as
    ``Records.find`` resolves them), with a note. The validation step reports the
    repeat itself."""
    keys = list(map(attrgetter("key"), customers))
    if len(set(keys)) == len(keys):
        return customers, keys, []
    seen: dict[str, Customer] = {}
    notes: list[str] = []
    for c, key in zip(customers, keys, strict=True):
        first = seen.setdefault(key, c)
        if first is not c:
            notes.append(
                f"Customers row {c.row} repeats Customer ID {key} (row {first.row}); it is counted once, "
                f"as row {first.row}."
            )
    return list(seen.values()), list(seen), notes


def _referrals(
    customers: list[Customer], index: dict[str, int], ctx: Context
) -> tuple[np.ndarray, list[str]]:
    """For each customer, the index of the customer who referred them (-1 if none),
    and notes on referrers that match nobody."""
    by_name: dict[str, list[int]] | None = None  # built only if a name is needed
    referrer = np.full(len(customers), -1, dtype=np.int64)
    notes: list[str] = []
    for i, c in enumerate(customers):
        ref = c.referred_by.strip()
        if not ref:
            continue
        found = ctx.records.find(ref)
        j = index.get(found.key) if found is not None else None
        if j is None:
            if by_name is None:
                by_name = {}
                for n, other in enumerate(customers):
                    name = " ".join(other.full_name.casefold().split())
                    if name:
                        by_name.setdefault(name, []).append(n)
            matches = by_name.get(" ".join(ref.casefold().split()), [])
            j = matches[0] if len(matches) == 1 else None
            if len(matches) > 1:
                notes.append(
                    f"Customers row {c.row}: 'Referred by' {ref!r} matches {len(matches)} customers by name; "
                    f"type their Customer ID instead."
                )
                continue
        if j is None:
            notes.append(f"Customers row {c.row}: 'Referred by' {ref!r} matches no customer.")
            continue
        if j != i:
            referrer[i] = j
    return referrer, notes


def run(ctx: Context) -> StepOutput:
    """Totals, tiers, RFM, lifetime value, referrals and accounts for every customer
    not merged into another; the ``Tiers`` tab shows each input beside the result.

    The cyclic garbage collector is paused while the step runs: it builds hundreds of
    thousands of small objects (no cycles) next to the workbook's own million, and
    each automatic collection would walk all of them (measured: 4x slower at 100k
    customers / 1M orders)."""
    with paused_gc():
        return _run(ctx)


def _run(ctx: Context) -> StepOutput:
    settings = ctx.settings
    currency = settings.currency
    cutoffs = tier_cutoffs(settings, ctx)
    customers, keys, repeated = _distinct_customers(ctx.records.active_customers())
    n = len(customers)
    index = {k: i for i, k in enumerate(keys)}
    orders, skipped = _collect_orders(ctx, index)
    skipped = repeated + skipped
    today_ord = ctx.today.toordinal()

    # ---- totals (vectorised over orders)
    cust, day, amount = orders.cust, orders.day, orders.amount
    purchase = amount >= 0
    revenue = np.bincount(cust, weights=amount, minlength=n) if n else np.zeros(0)
    refunds = -np.bincount(cust[~purchase], weights=amount[~purchase], minlength=n) if n else np.zeros(0)
    n_orders = np.bincount(cust[purchase], minlength=n) if n else np.zeros(0, np.int64)
    # The purchases sorted by customer, then day, once: the day figures and the
    # lifetime-value summary both read them in that order.
    p_cust, p_day, p_amount = cust[purchase], day[purchase], amount[purchase]
    by = ltv.by_customer_then_day(p_cust, p_day) if p_cust.size else None
    if by is not None:
        p_cust, p_day, p_amount = p_cust[by], p_day[by], p_amount[by]
    first, last, gaps = _order_days(p_cust, p_day, n)
    bought = n_orders > 0
    had_orders = bought | (np.bincount(cust, minlength=n) > 0 if n else bought)

    # ---- Pareto tiers
    par = pareto(revenue, keys, cutoffs)

    # ---- RFM among customers with at least one order
    r_score = np.zeros(n, dtype=np.int64)
    f_score = np.zeros(n, dtype=np.int64)
    m_score = np.zeros(n, dtype=np.int64)
    scored = np.flatnonzero(bought)
    if scored.size:
        r_score[scored] = quintile_scores(today_ord - last[scored], higher_is_better=False)
        f_score[scored] = quintile_scores(n_orders[scored])
        m_score[scored] = quintile_scores(revenue[scored])

    # ---- lifetime value
    fit = _lifetime_value(p_cust, p_day, p_amount, today_ord, n, n_orders, revenue)

    # ---- referrals
    referrer, referral_notes = _referrals(customers, index, ctx)
    referral_count = np.zeros(n, dtype=np.int64)
    referred_revenue = np.zeros(n)
    refd = np.flatnonzero((referrer >= 0) & bought)
    np.add.at(referral_count, referrer[refd], 1)
    np.add.at(referred_revenue, referrer[refd], revenue[refd])

    # ---- accounts
    account_of: list[str] = [""] * n
    groups: dict[str, list[int]] = {}
    spellings: dict[str, Counter[str]] = {}
    folded: dict[str, str] = {}  # company as typed -> account key (companies repeat)
    for i, c in enumerate(customers):
        company = c.company.strip()
        if not company:
            continue
        k = folded.get(company)
        if k is None:
            k = folded[company] = account_key(company)
        if not k:
            continue
        groups.setdefault(k, []).append(i)
        spellings.setdefault(k, Counter())[" ".join(company.split())] += 1
    display = {k: min(cnt.items(), key=lambda kv: (-kv[1], kv[0]))[0] for k, cnt in spellings.items()}
    for k, members in groups.items():
        for i in members:
            account_of[i] = display[k]

    # ---- per customer: values, reasons and rows, built column by column (plain lists
    # taken in row order, then zipped in C), since one Python loop body per customer
    # with a 29-field keyword constructor was most of the step's time at 100k customers.
    # Rows: customers with revenue by rank (ties by key), then the rest by key.
    in_ranking = set(par.order)
    row_order = par.order + sorted((i for i in range(n) if i not in in_ranking), key=keys.__getitem__)
    take = taker(row_order)
    cnt_o = take(n_orders.tolist())
    rev_o = take(np.round(revenue, 2).tolist())
    avg_o = take(
        _none_for_nan(np.round(np.divide(revenue, n_orders, out=np.full(n, np.nan), where=n_orders > 0), 2))
    )
    bought_o = [c > 0 for c in cnt_o]
    day_of = {d: date.fromordinal(d) for d in set(first[bought].tolist()) | set(last[bought].tolist())}
    first_o = [day_of[d] if b else None for d, b in zip(take(first.tolist()), bought_o, strict=True)]
    last_days = take(last.tolist())
    last_o = [day_of[d] if b else None for d, b in zip(last_days, bought_o, strict=True)]
    since_o = [today_ord - d if b else None for d, b in zip(last_days, bought_o, strict=True)]
    r_o = [s if b else None for s, b in zip(take(r_score.tolist()), bought_o, strict=True)]
    f_o = [s if b else None for s, b in zip(take(f_score.tolist()), bought_o, strict=True)]
    m_o = [s if b else None for s, b in zip(take(m_score.tolist()), bought_o, strict=True)]
    segment_o = [
        rfm_segment(r, f, m, c) if c else "" for r, f, m, c in zip(r_o, f_o, m_o, cnt_o, strict=True)
    ]
    tier_o = take(par.tier)
    tier_counts = dict.fromkeys(TIER_NAMES, 0)
    tier_counts.update((t, k) for t, k in Counter(tier_o).items() if t)
    rank_o = [r or None for r in take(par.rank.tolist())]
    top_o = take(_none_for_nan(par.top_percent))
    alive_o, buys_o, value_o = (take(_none_for_nan(a)) for a in (fit.p_alive, fit.purchases, fit.value))
    refs_o = take(referral_count.tolist())
    refrev_o = take(np.round(referred_revenue, 2).tolist())
    refunds_o = take(np.round(refunds, 2).tolist())
    account_o = take(account_of)
    customers_o = take(customers)
    keys_o = take(keys)
    names_o = [c.display_name for c in customers_o]
    pstart = np.searchsorted(orders.product_cust, np.arange(n + 1)).tolist()
    pnames = orders.product_names
    bought_names = taker(orders.product_code.tolist())(pnames)
    products_o = take([bought_names[a:b] for a, b in itertools.pairwise(pstart)])
    referred_by_o = take([keys[j] if j >= 0 else "" for j in referrer.tolist()])
    reason_o = _customer_reasons(
        tier_o, rev_o, cnt_o, top_o, take(had_orders.tolist()), segment_o, r_o, f_o, m_o,
        refunds_o, alive_o, buys_o, refs_o, refrev_o, account_o, currency,
    )  # fmt: skip
    cvs = map(
        CustomerValue,
        keys_o, names_o, cnt_o, rev_o, first_o, last_o, avg_o, since_o, take(_none_for_nan(gaps)),
        rank_o, take(_none_for_nan(par.cumulative)), top_o, tier_o, r_o, f_o, m_o, segment_o, rev_o,
        alive_o, buys_o, value_o, refs_o, refrev_o, [r > 0 for r in refs_o], account_o, products_o,
        reason_o, referred_by_o, refunds_o,
    )  # fmt: skip
    values: dict[str, CustomerValue] = dict(zip(keys_o, cvs, strict=True))
    id_o = [i or None for i in map(attrgetter("customer_id"), customers_o)]
    companies = map(attrgetter("company"), customers_o)
    company_o = [a or c or None for a, c in zip(account_o, companies, strict=True)]
    gap_o = take(_none_for_nan(np.round(gaps, 1)))
    share_o = take(_none_for_nan(np.round(par.cumulative * 100, 1)))
    tier_cell_o = [t or None for t in tier_o]
    segment_cell_o = [s or None for s in segment_o]
    alive_pct_o = take(_none_for_nan(np.round(fit.p_alive * 100, 1)))
    buys_cell_o = take(_none_for_nan(np.round(fit.purchases, 2)))
    value_cell_o = take(_none_for_nan(np.round(fit.value, 2)))
    advocate_o = ["yes" if r else "no" for r in refs_o]
    rows: list[list[Cell]] = list(
        map(
            list,
            zip(
                itertools.repeat("Customer"), id_o, names_o, company_o, cnt_o, rev_o, first_o, last_o,
                avg_o, since_o, gap_o, rank_o, share_o, tier_cell_o, r_o, f_o, m_o, segment_cell_o, rev_o,
                alive_pct_o, buys_cell_o, value_cell_o, refs_o, refrev_o, advocate_o, reason_o,
            ),
        )
    )  # fmt: skip

    # ---- accounts: totals and tiers among accounts
    accounts = _accounts(groups, display, values, keys, cutoffs, currency, fit.fitted, today_ord)
    for acc in accounts:
        rows.append(_account_row(acc, values, today_ord))

    total_revenue = float(revenue.sum()) if n else 0.0
    buyers = int(had_orders.sum()) if n else 0
    ltv_note = fit.note
    result = TiersResult(
        customers=values,
        accounts=accounts,
        total_revenue=round(total_revenue, 2),
        top20_share=par.top20_share,
        cutoffs=cutoffs,
        ltv_fitted=fit.fitted,
        ltv_note=ltv_note,
        skipped=skipped,
        top20_customers=par.top20_count,
        customers_with_orders=buyers,
        tier_counts=tier_counts,
        ltv_params=fit.params,
        referral_notes=referral_notes,
    )
    summary = _summary(result, n, par.positive, currency)
    tab = ToolTab(
        "Tiers",
        TIERS_HEADERS,
        rows,
        note=_tab_note(result, currency),
        widths={"Name": 24, "Company/Account": 22, "RFM segment": 18, "Reason": 90},
        formats=TIERS_FORMATS,
    )
    counts = {
        "customers": n,
        "customers_with_orders": buyers,
        "accounts": len(accounts),
        "orders_skipped_notes": len(skipped),
        **{t.lower(): tier_counts[t] for t in TIER_NAMES},
    }
    data = {
        "total_revenue": result.total_revenue,
        "top20_share": result.top20_share,
        "top20_customers": result.top20_customers,
        "cutoffs": cutoffs,
        "tier_counts": tier_counts,
        "ltv_fitted": result.ltv_fitted,
        "ltv_note": ltv_note,
        "ltv_params": result.ltv_params,
        "skipped": skipped,
        "referral_notes": referral_notes,
        # The tab itself: column names, then one list per row (customers, then accounts);
        # lists, not dicts, because 100k dicts would cost a second.
        "columns": JSON_KEYS,
        "rows": rows,
        "accounts": [_account_json(a) for a in accounts],
    }
    return StepOutput(tabs=[tab], summary=summary, data=data, result=result, counts=counts)


# ---------------------------------------------------------------- lifetime value


@dataclass
class _Fit:
    fitted: bool
    note: str
    p_alive: np.ndarray
    purchases: np.ndarray
    value: np.ndarray
    params: dict[str, float]


def _lifetime_value(
    cust: np.ndarray,
    day: np.ndarray,
    amount: np.ndarray,
    today_ord: int,
    n: int,
    n_orders: np.ndarray,
    revenue: np.ndarray,
) -> _Fit:
    """BG/NBD + Gamma-Gamma on the purchases (refunds are not purchases), or a note
    saying why not."""
    nan = np.full(n, np.nan)
    summary = ltv.summarise(cust, day, amount, today_ord)
    repeaters = int((summary.x > 0).sum())
    if repeaters < MIN_REPEAT_CUSTOMERS:
        return _Fit(
            False,
            f"Lifetime value is not predicted: only {_plural(repeaters, 'customer')} ordered on more than "
            f"one day and the model needs at least {MIN_REPEAT_CUSTOMERS}; historical value only.",
            nan,
            nan,
            nan,
            {},
        )
    # Above FIT_SAMPLE customers the parameters are fitted on a fixed, seeded random
    # sample of them (the same workbook always gives the same sample), and then used to
    # predict for every customer: 20,000 customers pin the seven population parameters
    # far more tightly than the model fits any real shop, and the fit is the costliest
    # part of the step at 100k customers.
    fit_on = _fit_sample(len(summary.x))
    bg = ltv.fit_bgnbd(summary.x[fit_on], summary.t_x[fit_on], summary.T[fit_on])
    if not bg.converged:
        return _Fit(
            False,
            "Lifetime value is not predicted: the purchase model could not be fitted to these orders "
            "(the fit did not settle); historical value only.",
            nan,
            nan,
            nan,
            {},
        )
    idx = summary.keys
    p_alive = nan.copy()
    purchases = nan.copy()
    value = nan.copy()
    p_alive[idx] = ltv.p_alive(bg, summary.x, summary.t_x, summary.T)
    purchases[idx] = ltv.expected_purchases(bg, PREDICTION_WEEKS, summary.x, summary.t_x, summary.T)
    missing = int(np.isnan(purchases[idx]).sum())
    if missing == len(idx):
        return _Fit(
            False,
            "Lifetime value is not predicted: the fitted purchase model gives no usable predictions "
            "for these orders; historical value only.",
            nan,
            nan,
            nan,
            {},
        )
    params = {k: v for k, v in bg.as_dict().items() if k != "ll"}
    params["bgnbd_log_likelihood"] = bg.log_likelihood
    gg = ltv.fit_gamma_gamma(summary.x[fit_on], summary.monetary[fit_on])
    spend_customers = int(((summary.x > 0) & (summary.monetary > 0)).sum())
    if gg.converged and spend_customers >= MIN_REPEAT_CUSTOMERS:
        spend = ltv.expected_spend(gg, summary.x, summary.monetary)
        params.update({k: v for k, v in gg.as_dict().items() if k != "ll"})
        how = (
            f"expected spend per purchase from the Gamma-Gamma model (p={gg.p:.3g}, q={gg.q:.3g}, "
            f"gamma={gg.gamma:.3g})"
        )
    else:
        avg = np.divide(revenue, n_orders, out=np.zeros(n), where=n_orders > 0)
        spend = np.maximum(avg[idx], 0.0)
        how = "each customer's own average order (the spend model could not be fitted)"
    value[idx] = purchases[idx] * spend
    sampled = (
        f"; models fitted on a fixed random sample of {FIT_SAMPLE:,} of these customers"
        if len(idx) > FIT_SAMPLE
        else ""
    )
    note = (
        f"Lifetime value: BG/NBD fitted on {_plural(len(idx), 'customer')} ({repeaters:,} ordered on more "
        f"than one day{sampled}; r={bg.r:.3g}, alpha={bg.alpha:.3g}, a={bg.a:.3g}, b={bg.b:.3g}); predicted "
        f"purchases over the next 12 months x {how}, not discounted."
    )
    if missing:
        note += (
            f" No prediction for {_plural(missing, 'customer')}: the model's formula did not give a number."
        )
    return _Fit(True, note, p_alive, purchases, value, params)


def _fit_sample(customers: int) -> slice | np.ndarray:
    """Which of ``customers`` (summary rows) the models are fitted on: all of them up
    to ``FIT_SAMPLE``, else ``FIT_SAMPLE`` of them drawn with a fixed seed, in order."""
    if customers <= FIT_SAMPLE:
        return slice(None)
    return np.sort(np.random.default_rng(FIT_SEED).choice(customers, FIT_SAMPLE, replace=False))


# ---------------------------------------------------------------- rows and reasons


def taker(order: Sequence[int]) -> Any:
    """A function that lists ``values[i]`` for each ``i`` in ``order`` (itemgetter runs in C)."""
    if len(order) > 1:
        getter = operator.itemgetter(*order)
        return lambda values: list(getter(values))
    return lambda values: [values[i] for i in order]


def _customer_reasons(
    tier: list[str],
    revenue: list[float],
    orders: list[int],
    top_percent: list[float | None],
    had_orders: list[bool],
    segment: list[str],
    r: list[int | None],
    f: list[int | None],
    m: list[int | None],
    refunds: list[float],
    p_alive: list[float | None],
    purchases: list[float | None],
    referrals: list[int],
    referred_revenue: list[float],
    account: list[str],
    currency: str,
) -> list[str]:
    """Every customer's reason: the tier with revenue, orders and rank, then the RFM
    scores, refunds, lifetime value, referrals and account where there are any."""

    def cash(amount: float) -> str:
        if currency:
            return money(amount, currency)
        return f"{amount:,.0f}" if abs(amount) >= 1000 or amount.is_integer() else f"{amount:,.2f}"

    def count(k: int) -> str:
        return "1 order" if k == 1 else f"{k:,} orders"

    rfm_text: dict[tuple[str, int | None, int | None, int | None], str] = {}  # 125 score combinations
    out: list[str] = []
    for t, v, k, p, had, s, a, b, c, x, alive, buys, nref, refv, acc in zip(
        tier, revenue, orders, top_percent, had_orders, segment, r, f, m, refunds, p_alive, purchases,
        referrals, referred_revenue, account, strict=True,
    ):  # fmt: skip
        if t:
            text = f"{t}: {cash(v)} over {count(k)}"
            if p is not None:
                text += f"; top {max(1, math.ceil(p - 1e-9))}% of customers by revenue"
        elif k or had:
            text = f"No tier: refunds cancel the revenue of {count(k)} (net {cash(v)})"
        else:
            text = "No tier: no orders yet"
        if s:
            part = rfm_text.get((s, a, b, c))
            if part is None:
                part = rfm_text[(s, a, b, c)] = f"; RFM {a}-{b}-{c} = {s}"
            text += part
        if x:
            text += f"; {cash(x)} refunded"
        if alive is not None and buys is not None:
            text += f"; {alive * 100:.0f}% likely still active, {buys:.1f} orders expected in 12 months"
        if nref:
            text += f"; advocate: referred {_plural(nref, 'customer')} who bought ({cash(refv)})"
        if acc:
            text += f"; account {acc}"
        out.append(text)
    return out


def _none_for_nan(values: np.ndarray) -> list[float | None]:
    return [None if v != v else v for v in values.tolist()]  # v != v only for nan


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _accounts(
    groups: dict[str, list[int]],
    display: dict[str, str],
    values: dict[str, CustomerValue],
    keys: list[str],
    cutoffs: dict[str, float],
    currency: str,
    fitted: bool,
    today_ord: int,
) -> list[AccountValue]:
    """One account per folded company name, tiered among accounts."""
    accounts: list[AccountValue] = []
    for k in sorted(groups):
        members = [values[keys[i]] for i in groups[k]]
        firsts = [m.first_order for m in members if m.first_order]
        lasts = [m.last_order for m in members if m.last_order]
        predicted = [m.predicted_value_12m for m in members if m.predicted_value_12m is not None]
        accounts.append(
            AccountValue(
                account=display[k],
                contacts=[m.key for m in members],
                orders=sum(m.orders for m in members),
                revenue=round(sum(m.revenue for m in members), 2),
                last_order=max(lasts) if lasts else None,
                tier="",
                reason="",
                first_order=min(firsts) if firsts else None,
                predicted_value_12m=round(sum(predicted), 2) if fitted and predicted else None,
                key=k,
            )
        )
    if not accounts:
        return accounts
    revenue = np.asarray([a.revenue for a in accounts])
    par = pareto(revenue, [a.key for a in accounts], cutoffs)
    for i, a in enumerate(accounts):
        a.tier = par.tier[i]
        a.revenue_rank = int(par.rank[i]) or None
        a.cumulative_share = None if math.isnan(par.cumulative[i]) else float(par.cumulative[i])
        a.top_percent = None if math.isnan(par.top_percent[i]) else float(par.top_percent[i])
        contacts = _plural(len(a.contacts), "contact")
        names = ", ".join(a.contacts[:5]) + (" ..." if len(a.contacts) > 5 else "")
        if a.tier:
            a.reason = (
                f"{a.tier} account: {money(a.revenue, currency)} over {_plural(a.orders, 'order')} from "
                f"{contacts} ({names}); {_top(a.top_percent or 100)} of accounts by revenue"
            )
        else:
            a.reason = f"No tier: no revenue from the account's {contacts} ({names})"
    accounts.sort(key=lambda a: (a.revenue_rank is None, a.revenue_rank or 0, a.key))
    return accounts


def _account_row(a: AccountValue, values: dict[str, CustomerValue], today_ord: int) -> list[Cell]:
    members = [values[k] for k in a.contacts]
    refs = sum(m.referrals for m in members)
    return [
        "Account",
        None,
        a.account,
        a.account,
        a.orders,
        a.revenue,
        a.first_order,
        a.last_order,
        round(a.revenue / a.orders, 2) if a.orders else None,
        today_ord - a.last_order.toordinal() if a.last_order else None,
        None,
        a.revenue_rank,
        None if a.cumulative_share is None else round(a.cumulative_share * 100, 1),
        a.tier or None,
        None,
        None,
        None,
        None,
        a.revenue,
        None,
        _r(sum(m.predicted_purchases_12m or 0.0 for m in members))
        if a.predicted_value_12m is not None
        else None,
        a.predicted_value_12m,
        refs,
        round(sum(m.referred_revenue for m in members), 2),
        "yes" if refs else "no",
        a.reason,
    ]


def _cutoff_text(cutoffs: dict[str, float]) -> str:
    p, g, s = (cutoffs[t] for t in TIER_NAMES[:3])
    return (
        f"Platinum = the customers making the first {p:g}% of revenue, Gold up to {g:g}%, "
        f"Silver up to {s:g}%, Bronze the rest"
    )


def _summary(result: TiersResult, n: int, positive: int, currency: str) -> list[str]:
    lines = [
        f"Tiers: {result.customers_with_orders:,} of {_plural(n, 'customer')} have orders; revenue "
        f"{money(result.total_revenue, currency)}."
    ]
    if result.top20_share is not None:
        lines.append(
            f"The top 20% of customers ({result.top20_customers:,} of {positive:,} with revenue) bring "
            f"{_pct(result.top20_share)} of revenue."
        )
    counts = ", ".join(f"{t} {result.tier_counts.get(t, 0):,}" for t in TIER_NAMES)
    lines.append(f"{_cutoff_text(result.cutoffs)}: {counts}.")
    if result.accounts:
        tiered = [a for a in result.accounts if a.tier]
        top = f"; the largest is {tiered[0].account} ({tiered[0].tier})" if tiered else ""
        lines.append(f"{_plural(len(result.accounts), 'company account')}{top}.")
    advocates = sum(v.advocate for v in result.customers.values())
    if advocates:
        lines.append(f"{_plural(advocates, 'advocate')} referred customers who bought.")
    lines.append(result.ltv_note)
    lines.extend(result.skipped)
    if result.referral_notes:
        count = len(result.referral_notes)
        entries = "1 Referred by entry" if count == 1 else f"{count:,} Referred by entries"
        lines.append(f"{entries} could not be matched to one customer; those referrals are not counted.")
    return lines


def _tab_note(result: TiersResult, currency: str) -> str:
    top = (
        f" The top 20% of customers ({result.top20_customers:,}) bring {_pct(result.top20_share)} of revenue."
        if result.top20_share is not None
        else ""
    )
    return (
        f"One row per customer (Level Customer), then company accounts (Level Account). "
        f"{_cutoff_text(result.cutoffs)}; equal revenue gets the same tier.{top} "
        f"RFM scores 1-5 by quintile (equal values, equal score). {result.ltv_note}"
    )


def _account_json(a: AccountValue) -> dict[str, Any]:
    return {
        "account": a.account,
        "contacts": a.contacts,
        "orders": a.orders,
        "revenue": a.revenue,
        "last_order": a.last_order.isoformat() if a.last_order else None,
        "tier": a.tier,
        "rank": a.revenue_rank,
        "reason": a.reason,
    }
