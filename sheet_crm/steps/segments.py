"""Segments: built-in and owner-defined groups of customers, each membership with
its reason. The result types below are what outreach and the dashboard use.

The owner steers segments from the optional ``Segments`` tab::

    | Name            | Rule                               | Template | Active |
    | Lapsed VIPs     |                                    |          | no     |  <- built-in off
    | Sleeping giants | builtin:lapsed_vips                | Win back |        |  <- renamed
    | Veggie fans     | "vegetarian" in preferences        | Veg menu |        |  <- own rule
    | Big spenders    | tier == "Gold" and revenue > 1000  |          | yes    |

(a Description column may sit beside them.)

- A row whose Name is a built-in segment's name and whose Rule is blank sets that
  built-in's Active, Description and Template.
- A row whose Rule is ``builtin:<key>`` (keys in ``BUILTINS``, e.g. ``builtin:lapsed_vips``)
  renames that built-in to the row's Name (and sets Active, Description, Template).
- A row with the same Name as a built-in and a rule of its own replaces the built-in.
- Any other row with a Rule is an owner segment; the rule language is in ``sheet_crm.rules``.
  A rule that cannot be used is a finding on its Rule cell (with the character where
  the problem is) and the other segments still run.
- Active: blank means yes.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter
from typing import Any

import numpy as np

from ..config import Settings
from ..findings import Severity
from ..gcpause import paused_gc
from ..model import Customer, Interaction, day_numbers
from ..normalize import parse_bool, text
from ..rules import RuleColumns, RuleContext, RuleError, RuleProblem
from ..workbook import Row, Table, ToolTab, header_key
from . import Context, StepOutput
from .tiers import CustomerValue, TiersResult, taker


@dataclass
class SegmentDef:
    name: str
    description: str = ""
    rule: str = ""  # the owner's rule text ("" for built-ins)
    template: str = ""  # name of a message template in the Templates tab, if any
    builtin: bool = False
    active: bool = True
    source_row: int | None = None  # the Segments tab row it came from
    key: str = ""  # the built-in's stable key (``lapsed_vips``); "" for owner segments


@dataclass(slots=True)
class Membership:
    segment: str
    reason: str


Hits = list[tuple[int, str]]  # (customer index, reason), customers in sheet order


@dataclass
class SegmentsResult:
    """The segments and their members. ``members`` is the primary record: each active
    segment's hits in segment order, a hit naming the customer by index into ``keys``
    (``Customer.key``) and ``names`` (display names). ``memberships``, the same by
    customer, is built on first use."""

    segments: list[SegmentDef]
    members: list[tuple[str, Hits]] = field(default_factory=list)  # (segment name, hits)
    keys: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # plain-words notes on customers left out
    _memberships: dict[str, list[Membership]] | None = field(default=None, init=False, repr=False)

    @classmethod
    def from_memberships(
        cls, segments: list[SegmentDef], memberships: dict[str, list[Membership]]
    ) -> SegmentsResult:
        """A result given by customer (Customer.key -> memberships), as a caller that
        did not run the step has it."""
        keys = list(memberships)
        by_segment: dict[str, Hits] = {}
        for i, key in enumerate(keys):
            for m in memberships[key]:
                by_segment.setdefault(m.segment, []).append((i, m.reason))
        return cls(segments, list(by_segment.items()), keys, [""] * len(keys))

    @property
    def memberships(self) -> dict[str, list[Membership]]:
        """Customer.key -> that customer's memberships in segment order; customers in
        sheet order, only those in at least one segment."""
        if self._memberships is None:
            found: list[list[Membership]] = [[] for _ in self.keys]
            for segment, hits in self.members:
                for i, reason in hits:
                    found[i].append(Membership(segment, reason))
            out: dict[str, list[Membership]] = {}
            for key, items in zip(self.keys, found, strict=True):
                if items:
                    out.setdefault(key, []).extend(items)  # a repeated Customer ID: one entry
            self._memberships = out
        return self._memberships

    def members_of(self, segment: str) -> list[dict[str, str]]:
        """The members of one segment (matched case-insensitively), with reasons."""
        wanted = segment.casefold()
        return [
            {"customer_id": self.keys[i], "name": self.names[i], "reason": reason}
            for name, hits in self.members
            if name.casefold() == wanted
            for i, reason in hits
        ]

    def sizes(self) -> dict[str, int]:
        """Members per active segment, in segment order (empty segments included)."""
        counts = {s.name: 0 for s in self.segments if s.active}
        for name, hits in self.members:
            counts[name] = counts.get(name, 0) + len(hits)
        return counts

    def in_any(self) -> int:
        """How many customers are in at least one segment."""
        return len({i for _name, hits in self.members for i, _reason in hits})

    def segment(self, name: str) -> SegmentDef | None:
        wanted = name.casefold()
        return next((s for s in self.segments if s.name.casefold() == wanted), None)


MEMBERS_TAB = "Segment Members"
MEMBERS_HEADERS = ["Segment", "Customer ID", "Name", "Tier", "Reason", "Template"]


# ---------------------------------------------------------------- built-in segments


@dataclass(slots=True)
class Facts:
    """What the built-in tests look at for one customer."""

    customer: Customer
    value: CustomerValue
    today: date
    settings: Settings
    satisfaction: float | None  # latest score, as typed
    scale: int  # 5, 10 or 100: the workbook's satisfaction scale


Test = Callable[[Facts], str | None]  # the reason, or None when not a member


def _floats(values: Iterable[float | None]) -> np.ndarray:
    """The values as a float array, NaN for None."""
    return np.array(list(values), dtype=np.float64)


class Columns:
    """What the built-ins' quick pre-checks read, one entry per customer being
    segmented (same order): the figures every pre-check needs are read once per run
    into arrays (``attrgetter`` through ``map`` runs in C), the rest on first use. A
    pre-check only narrows the customers down: the built-in's ``test`` still decides,
    and writes the reason, for each customer the pre-check lets through."""

    def __init__(
        self,
        customers: list[Customer],
        values: list[CustomerValue],
        satisfaction: list[float | None],
        scale: int,
        today: date,
        settings: Settings,
    ) -> None:
        self.customers = customers
        self.values = values
        self.today = today
        self.settings = settings
        self.scale = scale
        self.n = len(customers)
        self.orders = np.fromiter(map(attrgetter("orders"), values), np.int64, self.n)
        self.days_since = _floats(map(attrgetter("days_since_last_order"), values))
        self.usual_gap = _floats(map(attrgetter("usual_gap_days"), values))
        self.satisfaction = _floats(satisfaction)  # latest score, NaN for none
        self._read: dict[tuple[str, bool], list[Any]] = {}

    def where_value(self, name: str, keep: Callable[[Any], bool]) -> np.ndarray:
        """A true entry where ``keep`` holds for the customer's figure ``name``; ``keep``
        is asked once per distinct value (tiers, RFM names and channels repeat)."""
        return self._where(name, self.values, keep)

    def where_customer(self, name: str, keep: Callable[[Any], bool]) -> np.ndarray:
        """Like ``where_value``, for a field of the customer's row."""
        return self._where(name, self.customers, keep)

    def _where(self, name: str, items: list[Any], keep: Callable[[Any], bool]) -> np.ndarray:
        which = (name, items is self.values)
        column = self._read.get(which)
        if column is None:  # each column is read once, however many pre-checks use it
            column = self._read[which] = list(map(attrgetter(name), items))
        flags = {value: bool(keep(value)) for value in set(column)}
        return np.fromiter(map(flags.__getitem__, column), bool, self.n)

    def days_ago(self, when: list[date | None]) -> np.ndarray:
        """Days from each date to today (NaN where there is no date)."""
        days = day_numbers(when).astype(np.float64)
        days[days < 0] = np.nan
        return self.today.toordinal() - days


Candidates = Callable[[Columns], np.ndarray]  # indices of the customers let through


@dataclass(frozen=True)
class Builtin:
    key: str
    name: str
    description: str
    test: Test
    # A quick pre-check over all customers at once: a superset of the members (None: everyone).
    candidates: Candidates | None = None


@functools.lru_cache(maxsize=4096)
def _day(when: date) -> str:
    """``05 Mar 2025``. Remembered: a few thousand distinct dates fill a reason column
    of hundreds of thousands, and ``strftime`` is the slow part of a reason."""
    return f"{when:%d %b %Y}"


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n:,} days"


def _orders_word(n: int) -> str:
    return "1 order" if n == 1 else f"{n:,} orders"


def _new_customer(f: Facts) -> str | None:
    limit = f.settings.new_customer_days
    first = f.value.first_order
    if first is not None:
        age = (f.today - first).days
        if 0 <= age <= limit:
            return f"first order {_days(age)} ago ({_day(first)}); new for {limit} days"
        return None
    since = f.customer.customer_since
    if since is not None and 0 <= (f.today - since).days <= limit:
        return f"customer since {_day(since)} ({_days((f.today - since).days)} ago), no orders yet"
    return None


def _one_time(f: Facts) -> str | None:
    if f.value.orders != 1:
        return None
    when = f.value.last_order
    ago = f" on {_day(when)} ({_days(f.value.days_since_last_order or 0)} ago)" if when else ""
    return f"exactly one order{ago}"


def _regular(f: Facts) -> str | None:
    """Three or more orders, and the last one within twice their usual gap."""
    v = f.value
    if v.orders < 3 or v.usual_gap_days is None or v.days_since_last_order is None:
        return None
    if v.days_since_last_order > max(2 * v.usual_gap_days, 1):
        return None
    return (
        f"{_orders_word(v.orders)}, usually every {_days(round(v.usual_gap_days))}; "
        f"last order {_days(v.days_since_last_order)} ago"
    )


LAPSED_GAP_FACTOR = 3
LAPSED_MIN_DAYS = 60


def _lapsed_vip(f: Facts) -> str | None:
    """Platinum or Gold, and quiet for much longer than usual: more than 3x their
    usual gap and more than 60 days; with no usual gap (one order), more than the
    win-back days in Settings."""
    v = f.value
    if v.tier not in ("Platinum", "Gold") or v.days_since_last_order is None:
        return None
    days = v.days_since_last_order
    if v.usual_gap_days:
        limit = max(LAPSED_GAP_FACTOR * v.usual_gap_days, LAPSED_MIN_DAYS)
        if days <= limit:
            return None
        return (
            f"{v.tier}; {_days(days)} since the last order, usually every "
            f"{_days(round(v.usual_gap_days))} (more than {LAPSED_GAP_FACTOR}x the usual gap)"
        )
    if days <= f.settings.win_back_days:
        return None
    return f"{v.tier}; {_days(days)} since their only order (over {f.settings.win_back_days} days)"


AT_RISK_RFM = ("at risk", "can't lose them", "cant lose them")


def _is_at_risk(rfm_segment: str) -> bool:
    return rfm_segment.replace("\u2019", "'").casefold().strip() in AT_RISK_RFM


def _at_risk(f: Facts) -> str | None:
    if not _is_at_risk(f.value.rfm_segment):
        return None
    v = f.value
    scores = f" (R{v.r_score} F{v.f_score} M{v.m_score})" if v.r_score is not None else ""
    last = f"; last order {_days(v.days_since_last_order)} ago" if v.days_since_last_order is not None else ""
    return f"RFM segment {f.value.rfm_segment}{scores}{last}"


def _advocate(f: Facts) -> str | None:
    v = f.value
    if not v.advocate:
        return None
    people = "1 customer" if v.referrals == 1 else f"{v.referrals:,} customers"
    return f"referred {people} who bought, {v.referred_revenue:,.2f} in revenue"


# Promoter / detractor bands per satisfaction scale: (promoter at or above, detractor at or below).
# On 0-10 the usual NPS bands (9-10, 0-6); on 1-5 a 4 or 5 is a promoter and the
# detractor limit is Settings' low satisfaction; on 0-100 the 0-10 bands times ten.
def _bands(scale: int, settings: Settings) -> tuple[float, float]:
    if scale == 10:
        return 9, 6
    if scale == 100:
        return 90, 60
    return 4, settings.low_satisfaction


@functools.lru_cache(maxsize=1024)
def _score_reason(score: float, scale: int, who: str, limit: float, side: str) -> str:
    """``latest satisfaction 9 out of 10 (promoters score 9 or more)``; a handful of
    distinct scores make every promoter's and detractor's reason, so each is remembered."""
    return f"latest satisfaction {score:g} out of {scale} ({who} score {limit:g} or {side})"


def _promoter(f: Facts) -> str | None:
    top = _bands(f.scale, f.settings)[0]
    if f.satisfaction is None or f.satisfaction < top:
        return None
    return _score_reason(f.satisfaction, f.scale, "promoters", top, "more")


def _detractor(f: Facts) -> str | None:
    low = _bands(f.scale, f.settings)[1]
    if f.satisfaction is None or f.satisfaction > low:
        return None
    return _score_reason(f.satisfaction, f.scale, "detractors", low, "less")


def _birthday(f: Facts) -> str | None:
    b = f.customer.birthday
    if b is None or b.month != f.today.month:
        return None
    return f"birthday on {b.day} {b:%B}"


DECISION_WORDS = re.compile(
    r"\b(decision[\s-]*maker|owner|co-?owner|proprietor|director|founder|co-?founder|partner|"
    r"president|chief|ceo|cfo|coo|cto|cmo|md|head of|principal|buyer|purchasing|procurement|"
    r"managing)\b",
    re.IGNORECASE,
)


def _decision_maker(f: Facts) -> str | None:
    """B2B contacts whose Role (or, failing that, Job title) says they decide."""
    c = f.customer
    for label, value in (("role", c.role), ("job title", c.job_title)):
        if value and DECISION_WORDS.search(value):
            at = f" at {c.company}" if c.company else ""
            return f"{label} is '{value}'{at}"
    return None


def _prefers(channel: str, word: str) -> Test:
    reason = f"preferred channel is {word}"

    def test(f: Facts) -> str | None:
        return reason if f.customer.preferred_channel == channel else None

    return test


def _new_candidates(cols: Columns) -> np.ndarray:
    limit = cols.settings.new_customer_days
    first = cols.days_ago(list(map(attrgetter("first_order"), cols.values)))
    since = cols.days_ago(list(map(attrgetter("customer_since"), cols.customers)))
    with np.errstate(invalid="ignore"):
        by_order = (first >= 0) & (first <= limit)
        by_join = np.isnan(first) & (since >= 0) & (since <= limit)
    return np.flatnonzero(by_order | by_join)


def _orders_at_least(low: int, high: int | None = None) -> Candidates:
    def candidates(cols: Columns) -> np.ndarray:
        keep = cols.orders >= low
        if high is not None:
            keep &= cols.orders <= high
        return np.flatnonzero(keep)

    return candidates


def _regular_candidates(cols: Columns) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.flatnonzero(
            (cols.orders >= 3) & (cols.days_since <= np.maximum(2 * cols.usual_gap, 1))
        )  # NaN (no gap, no order) compares false


def _lapsed_candidates(cols: Columns) -> np.ndarray:
    top = cols.where_value("tier", lambda tier: tier in ("Platinum", "Gold"))
    days, gap = cols.days_since, cols.usual_gap
    with np.errstate(invalid="ignore"):
        by_gap = (gap > 0) & (days > np.maximum(LAPSED_GAP_FACTOR * gap, LAPSED_MIN_DAYS))
        by_days = ~(gap > 0) & (days > cols.settings.win_back_days)
    return np.flatnonzero(top & (by_gap | by_days))


def _at_risk_candidates(cols: Columns) -> np.ndarray:
    return np.flatnonzero(cols.where_value("rfm_segment", _is_at_risk))


def _advocate_candidates(cols: Columns) -> np.ndarray:
    return np.flatnonzero(cols.where_value("advocate", bool))


def _promoter_candidates(cols: Columns) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.flatnonzero(cols.satisfaction >= _bands(cols.scale, cols.settings)[0])


def _detractor_candidates(cols: Columns) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.flatnonzero(cols.satisfaction <= _bands(cols.scale, cols.settings)[1])


def _birthday_candidates(cols: Columns) -> np.ndarray:
    month = cols.today.month
    return np.flatnonzero(cols.where_customer("birthday", lambda b: b is not None and b.month == month))


def _decision_candidates(cols: Columns) -> np.ndarray:
    def decides(value: str) -> bool:
        return bool(value) and DECISION_WORDS.search(value) is not None

    return np.flatnonzero(cols.where_customer("role", decides) | cols.where_customer("job_title", decides))


def _channel_is(channel: str) -> Candidates:
    def candidates(cols: Columns) -> np.ndarray:
        return np.flatnonzero(cols.where_customer("preferred_channel", channel.__eq__))

    return candidates


BUILTINS: tuple[Builtin, ...] = (
    Builtin(
        "new_customers",
        "New customers",
        "First order within the 'new customer days' setting (or joined then, with no order yet).",
        _new_customer,
        _new_candidates,
    ),
    Builtin(
        "one_time_buyers", "One-time buyers", "Exactly one order so far.", _one_time, _orders_at_least(1, 1)
    ),
    Builtin(
        "regulars",
        "Regulars",
        "Three or more orders, and the last one within twice their usual gap.",
        _regular,
        _regular_candidates,
    ),
    Builtin(
        "lapsed_vips",
        "Lapsed VIPs",
        "Platinum or Gold customers quiet for more than 3x their usual gap between orders "
        "(and over 60 days).",
        _lapsed_vip,
        _lapsed_candidates,
    ),
    Builtin("at_risk", "At risk", "RFM segment At risk or Can't lose them.", _at_risk, _at_risk_candidates),
    Builtin(
        "advocates", "Advocates", "Referred customers who went on to buy.", _advocate, _advocate_candidates
    ),
    Builtin(
        "promoters",
        "Promoters",
        "Latest satisfaction score at the top of the scale.",
        _promoter,
        _promoter_candidates,
    ),
    Builtin(
        "detractors",
        "Detractors",
        "Latest satisfaction score at the bottom of the scale.",
        _detractor,
        _detractor_candidates,
    ),
    Builtin(
        "birthday_this_month",
        "Birthday this month",
        "Birthday in the current month.",
        _birthday,
        _birthday_candidates,
    ),
    Builtin(
        "decision_makers",
        "Decision makers",
        "Business contacts whose role or job title says they decide (owner, director, ...).",
        _decision_maker,
        _decision_candidates,
    ),
    *(
        Builtin(
            f"prefers_{channel}",
            f"Prefers {word}",
            f"Preferred channel is {word}.",
            _prefers(channel, word),
            _channel_is(channel),
        )
        for channel, word in (("sms", "SMS"), ("email", "email"), ("phone", "phone"))
    ),
)
BUILTIN_BY_KEY = {b.key: b for b in BUILTINS}


def satisfaction_scale(interactions: Iterable[Interaction]) -> int:
    """The workbook's satisfaction scale, from the highest score typed: 1-5, 0-10 or 0-100.
    One scale per workbook, because a lone 4 means different things on 1-5 and 0-10."""
    top = max((i.satisfaction for i in interactions if i.satisfaction is not None), default=0.0)
    if top <= 5:
        return 5
    if top <= 10:
        return 10
    return 100


# ---------------------------------------------------------------- the Segments tab


@dataclass
class _Planned:
    """A segment to run: a built-in test, or a compiled owner rule."""

    definition: SegmentDef
    builtin: Builtin | None = None
    rule: Any = None  # CompiledRule
    rule_names: list[str] = field(default_factory=list)


def _active(table: Table, row: Row, ctx: Context) -> bool:
    raw = table.value(row, "active")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return True
    value, problem = parse_bool(raw)
    if problem or value is None:
        ctx.findings.add(
            "bad-segment-active",
            Severity.WARNING,
            table.location(row, "active"),
            f"Active should be yes or no, not '{text(raw)}'; the segment is treated as active.",
            "Type yes or no.",
            value=raw,
        )
        return True
    return value


def plan_segments(ctx: Context, rules: RuleContext) -> list[_Planned]:
    """Built-ins (as the owner switched or renamed them) followed by the owner's rules."""
    table: Table | None = ctx.records.tables.get("Segments")
    planned = {
        b.key: _Planned(SegmentDef(b.name, b.description, builtin=True, key=b.key), b) for b in BUILTINS
    }
    by_name = {header_key(b.name): b.key for b in BUILTINS}
    own: list[_Planned] = []
    taken: dict[str, str] = {}  # folded name -> where it was defined
    if table is None:
        return list(planned.values())
    for row in table.rows:
        name = text(table.value(row, "name"))
        rule_text = text(table.value(row, "rule"))
        description = text(table.value(row, "description"))
        template = text(table.value(row, "template"))
        if not name and not rule_text:
            continue
        active = _active(table, row, ctx)
        builtin_key = None
        if rule_text.lower().startswith("builtin:"):
            builtin_key = rule_text.split(":", 1)[1].strip().lower().replace(" ", "_").replace("-", "_")
            if builtin_key not in BUILTIN_BY_KEY:
                from rapidfuzz import process

                best = process.extractOne(builtin_key, list(BUILTIN_BY_KEY), score_cutoff=60)
                ctx.findings.add(
                    "unknown-builtin-segment",
                    Severity.ERROR,
                    table.location(row, "rule"),
                    f"There is no built-in segment called '{builtin_key}'"
                    + (f" — did you mean 'builtin:{best[0]}'?" if best else "."),
                    "Built-in keys: " + ", ".join(BUILTIN_BY_KEY) + ".",
                    value=rule_text,
                    suggestion=f"builtin:{best[0]}" if best else None,
                )
                continue
        elif not rule_text and header_key(name) in by_name:
            builtin_key = by_name[header_key(name)]
        if builtin_key is not None:
            p = planned[builtin_key]
            if rule_text:  # builtin:<key> renames; a matching Name keeps the built-in's spelling
                p.definition.name = name or p.definition.name
            p.definition.active = active
            p.definition.description = description or p.definition.description
            p.definition.template = template or p.definition.template
            p.definition.source_row = row.number
            continue
        if not rule_text:
            ctx.findings.add(
                "segment-without-rule",
                Severity.WARNING,
                table.location(row, "rule"),
                f"The segment '{name}' has no rule, so it has no members.",
                'Type a rule such as tier == "Gold", or the name of a built-in segment in Name.',
            )
            continue
        if not name:
            ctx.findings.add(
                "segment-without-name",
                Severity.WARNING,
                table.location(row, "name"),
                "This segment has a rule but no name, so it is not used.",
                "Type a name for the segment.",
                value=rule_text,
            )
            continue
        folded = header_key(name)
        if folded in taken:
            ctx.findings.add(
                "duplicate-segment",
                Severity.ERROR,
                table.location(row, "name"),
                f"Two segments are called '{name}'; only the one in {taken[folded]} is used.",
                "Give each segment its own name.",
                value=name,
            )
            continue
        if folded in by_name:
            # The owner's rule replaces the built-in of the same name.
            planned[by_name[folded]].definition.active = False
            planned[by_name[folded]].definition.description += " (replaced by your rule of the same name)"
        definition = SegmentDef(name, description, rule_text, template, False, active, row.number)
        compiled = rules.compile(rule_text)
        if isinstance(compiled, RuleError):
            _bad_rule(ctx, table, row, name, rule_text, compiled)
            definition.active = False
            compiled = None
        taken[folded] = table.location(row, "name").cell
        own.append(_Planned(definition, None, compiled, _names_in(compiled)))
    return [*planned.values(), *own]


def _bad_rule(ctx: Context, table: Table, row: Row, name: str, rule: str, error: RuleError) -> None:
    ctx.findings.add(
        "bad-segment-rule",
        Severity.ERROR,
        table.location(row, "rule"),
        f"The rule of segment '{name}' cannot be used, {error}.",
        "Correct the rule; the other segments still run. Rules look like "
        'tier in ("Platinum", "Gold") and days_since_last_order > 90.',
        value=rule,
        suggestion=error.suggestion or None,
    )


def _names_in(compiled: Any) -> list[str]:
    """The value names a rule uses, in reading order (for the reason text)."""
    if compiled is None:
        return []
    import ast

    called = {id(n.func) for n in ast.walk(compiled.tree) if isinstance(n, ast.Call)}
    found: list[tuple[int, str]] = []
    for node in ast.walk(compiled.tree):
        if isinstance(node, ast.Name) and id(node) not in called:
            found.append((node.col_offset, node.id))
    out: list[str] = []
    for _, name in sorted(found):
        if name not in out:
            out.append(name)
    return out


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "blank"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, tuple | list):
        items = ", ".join(str(v) for v in value[:5])
        return (items + (", ..." if len(value) > 5 else "")) or "none"
    if isinstance(value, date):
        return _day(value)
    return str(value)


def _rule_reason(planned: _Planned, names: Any) -> str:
    shown = "; ".join(f"{n.replace('_', ' ')} is {_shown(names[n])}" for n in planned.rule_names[:4])
    lead = f"{shown} " if shown else ""
    return f"{lead}(rule: {planned.definition.rule})"


# ---------------------------------------------------------------- the step


def _unusable(ctx: Context) -> set[str | int]:
    """Customers the validation step says later steps must skip: its result's
    ``unusable`` (Customer keys or sheet rows), when it has one."""
    result = ctx.results.get("validate")
    found = getattr(result, "unusable", None) or ()
    return set(found)


def run(ctx: Context) -> StepOutput:
    """Plan the segments, find their members (each with a reason) and lay out the
    Segment Members tab. Python's cycle collector is paused meanwhile (``_no_gc``)."""
    with paused_gc():
        return _run(ctx)


def _run(ctx: Context) -> StepOutput:
    tiers: TiersResult | None = ctx.results.get("tiers")
    values: dict[str, CustomerValue] = tiers.customers if tiers is not None else {}
    rules = RuleContext(ctx.records, values, ctx.today)
    planned = plan_segments(ctx, rules)
    unusable = _unusable(ctx)
    skipped: list[str] = []
    merged = [c for c in ctx.records.customers if c.merged_into]
    if merged:
        skipped.append(
            f"{len(merged):,} merged customer row(s) left out (they count for the customer they merged into)"
        )
    customers: list[Customer] = []
    bad = 0
    for c in ctx.records.customers:
        if c.merged_into:
            continue
        if c.key in unusable or c.row in unusable:
            bad += 1
            continue
        customers.append(c)
    if bad:
        skipped.append(f"{bad:,} customer row(s) left out because the Issues tab marks them unusable")
    if tiers is None:
        skipped.append("no tier figures were available, so segments based on orders are empty")

    scale = satisfaction_scale(ctx.records.interactions)
    active = [p for p in planned if p.definition.active and (p.builtin is not None or p.rule is not None)]
    keys = list(map(attrgetter("key"), customers))
    vals = _values_of(customers, keys, values)
    hits, failures = _members(ctx, customers, keys, vals, rules, scale, active)
    result = SegmentsResult(
        [p.definition for p in planned],
        members=[(p.definition.name, found) for p, found in zip(active, hits, strict=True)],
        keys=keys,
        names=list(map(attrgetter("display_name"), customers)),
        skipped=skipped,
    )
    _report_failures(ctx, planned, failures)
    sizes = result.sizes()
    # The rows: each active segment's members in turn (``active`` is in segment
    # order), customers in sheet order within a segment.
    tier_of = [t or None for t in map(attrgetter("tier"), vals)]
    rows: list[list[Any]] = []
    for p, found in zip(active, hits, strict=True):
        if not found:
            continue
        at, reasons = zip(*found, strict=True)
        pick = taker(at)
        rows.extend(
            map(
                list,
                zip(
                    itertools.repeat(p.definition.name),
                    pick(keys),
                    pick(result.names),
                    pick(tier_of),
                    reasons,
                    itertools.repeat(p.definition.template or None),
                ),
            )
        )
    tab = ToolTab(
        MEMBERS_TAB,
        list(MEMBERS_HEADERS),
        rows,
        note="One row per customer in each segment, with the reason. Switch built-in segments off, "
        "rename them or add your own rules in the Segments tab.",
        widths={"Segment": 22, "Customer ID": 12, "Name": 24, "Tier": 10, "Reason": 70, "Template": 18},
    )
    switched_off = [p.definition.name for p in planned if p.builtin is not None and not p.definition.active]
    own = [p for p in planned if p.builtin is None]
    in_any = result.in_any()
    summary = [
        f"Segments: {len(sizes)} active ({sum(p.builtin is not None for p in planned) - len(switched_off)} "
        f"built-in, {sum(p.definition.active for p in own)} of yours); {in_any:,} of {len(customers):,} "
        f"customers are in at least one.",
        "Sizes: " + ", ".join(f"{name} {n:,}" for name, n in sizes.items()),
    ]
    if switched_off:
        summary.append("Switched off: " + ", ".join(switched_off) + ".")
    summary.extend(s[0].upper() + s[1:] + "." for s in skipped)
    return StepOutput(
        tabs=[tab],
        summary=summary,
        data=sizes,
        result=result,
        counts={
            "segments": len(sizes),
            "memberships": len(rows),
            "customers_in_segments": in_any,
            "rule_errors": sum(1 for p in own if p.rule is None and p.definition.rule) + len(failures),
        },
    )


def _values_of(
    customers: list[Customer], keys: list[str], values: dict[str, CustomerValue]
) -> list[CustomerValue]:
    """Each customer's tier figures (blank ones for a customer the tiers step has none for)."""
    return [values.get(k) or CustomerValue(k, c.display_name) for c, k in zip(customers, keys, strict=True)]


def _members(
    ctx: Context,
    customers: list[Customer],
    keys: list[str],
    vals: list[CustomerValue],
    rules: RuleContext,
    scale: int,
    active: list[_Planned],
) -> tuple[list[Hits], dict[str, tuple[int, RuleProblem, str]]]:
    """The members of each active segment, in customer order, with their reasons; and
    the owner rules that failed while running (segment -> count, first problem, customer).

    Built-ins run segment by segment over the customers their pre-check lets through;
    owner rules run column by column where they can, else customer by customer, so
    the names a customer's rules share are worked out once."""
    scores = rules.satisfaction_by_customer
    none = (None, None)
    latest = [scores.get(k, none)[0] for k in keys]
    cols = Columns(customers, vals, latest, scale, ctx.today, ctx.settings)
    hits: list[Hits] = [[] for _ in active]
    if any(p.builtin is not None for p in active):
        today, settings = itertools.repeat(ctx.today), itertools.repeat(ctx.settings)
        facts = list(map(Facts, customers, vals, today, settings, latest, itertools.repeat(scale)))

    owner: list[tuple[_Planned, Hits]] = []
    for p, found in zip(active, hits, strict=True):
        if p.builtin is None:
            owner.append((p, found))
            continue
        test = p.builtin.test
        pick = p.builtin.candidates
        for i in range(len(customers)) if pick is None else pick(cols).tolist():
            reason = test(facts[i])
            if reason:
                found.append((i, reason))

    failures: dict[str, tuple[int, RuleProblem, str]] = {}
    # Owner rules run column by column over all customers where they can; a rule that
    # cannot (or fails for some customer) runs customer by customer below, which
    # gives the same answers and reports the failure with its position.
    slow: list[tuple[_Planned, Hits]] = []
    if owner:
        table = RuleColumns(rules, customers, known={"satisfaction": latest})
        for p, found in owner:
            matched = table.evaluate(p.rule)
            if matched is None:
                slow.append((p, found))
                continue
            for i in itertools.compress(range(len(customers)), matched):
                found.append((i, _rule_reason(p, table.names_at(i, p.rule_names))))
    if slow:
        for i, c in enumerate(customers):
            names = rules.names_for(c)
            for p, found in slow:
                try:
                    matched = p.rule.evaluate(names)
                except RuleProblem as problem:
                    n, first, who = failures.get(p.definition.name, (0, problem, c.key))
                    failures[p.definition.name] = (n + 1, first, who)
                    continue
                if matched:
                    found.append((i, _rule_reason(p, names)))
    return hits, failures


def _report_failures(
    ctx: Context, planned: list[_Planned], failures: dict[str, tuple[int, RuleProblem, str]]
) -> None:
    """A rule that failed while running (a wrong type, say) is one finding on its cell,
    naming the first customer it failed for; for those customers it counts as no match."""
    table = ctx.records.tables.get("Segments")
    for p in planned:
        if p.definition.name not in failures or table is None or p.definition.source_row is None:
            continue
        n, problem, who = failures[p.definition.name]
        err = problem.error
        where = f"at character {err.position}: " if err.position is not None else ""
        people = "1 customer" if n == 1 else f"{n:,} customers"
        ctx.findings.add(
            "segment-rule-failed",
            Severity.ERROR,
            table.location(p.definition.source_row, "rule"),
            f"The rule of segment '{p.definition.name}' failed for {people} (first: {who}), "
            f"{where}{err.message}; they are left out of the segment.",
            "Correct the rule, or the values it reads in those customers' rows.",
            value=p.definition.rule,
            customer_id=who,
        )
