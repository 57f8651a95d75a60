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

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from ..config import Settings
from ..findings import Severity
from ..gcpause import paused_gc
from ..model import Customer, Interaction
from ..normalize import parse_bool, text
from ..rules import RuleColumns, RuleContext, RuleError, RuleProblem
from ..workbook import Row, Table, ToolTab, header_key
from . import Context, StepOutput
from .tiers import CustomerValue, TiersResult


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


@dataclass
class SegmentsResult:
    segments: list[SegmentDef]
    memberships: dict[str, list[Membership]] = field(default_factory=dict)  # Customer.key -> ...
    names: dict[str, str] = field(default_factory=dict)  # Customer.key -> display name
    skipped: list[str] = field(default_factory=list)  # plain-words notes on customers left out

    def members_of(self, segment: str) -> list[dict[str, str]]:
        """The members of one segment (matched case-insensitively), with reasons."""
        wanted = segment.casefold()
        out = []
        for key, items in self.memberships.items():
            for m in items:
                if m.segment.casefold() == wanted:
                    out.append({"customer_id": key, "name": self.names.get(key, ""), "reason": m.reason})
        return out

    def sizes(self) -> dict[str, int]:
        """Members per active segment, in segment order (empty segments included)."""
        counts = {s.name: 0 for s in self.segments if s.active}
        for items in self.memberships.values():
            for m in items:
                counts[m.segment] = counts.get(m.segment, 0) + 1
        return counts

    def segment(self, name: str) -> SegmentDef | None:
        wanted = name.casefold()
        return next((s for s in self.segments if s.name.casefold() == wanted), None)


MEMBERS_TAB = "Segment Members"
MEMBERS_HEADERS = ["Segment", "Customer ID", "Name", "Tier", "Reason", "Template"]


# ---------------------------------------------------------------- built-in segments


@dataclass
class Facts:
    """What the built-in tests look at for one customer."""

    customer: Customer
    value: CustomerValue
    today: date
    settings: Settings
    satisfaction: float | None  # latest score, as typed
    scale: int  # 5, 10 or 100: the workbook's satisfaction scale


Test = Callable[[Facts], str | None]  # the reason, or None when not a member


class Columns:
    """What the built-ins' quick pre-checks read, one entry per customer being
    segmented (same order), gathered once per run. A pre-check only narrows the
    customers down: the built-in's ``test`` still decides, and writes the reason, for
    each customer the pre-check lets through."""

    def __init__(
        self,
        customers: list[Customer],
        values: list[CustomerValue],
        satisfaction: dict[str, tuple[float | None, float | None]],
        today: date,
        settings: Settings,
    ) -> None:
        self.customers = customers
        self.values = values
        self.today = today
        self.settings = settings
        self.satisfaction = satisfaction
        self.n = len(customers)
        self.keys = [c.key for c in customers]
        self.orders = np.fromiter((v.orders for v in values), np.int64, self.n)
        self._channels: dict[str, list[int]] | None = None

    def by_channel(self, channel: str) -> list[int]:
        """Customers whose preferred channel is ``channel`` (one pass for all channels)."""
        if self._channels is None:
            groups: dict[str, list[int]] = {}
            for i, c in enumerate(self.customers):
                groups.setdefault(c.preferred_channel, []).append(i)
            self._channels = groups
        return self._channels.get(channel, [])

    def where(self, flags: Iterable[Any]) -> np.ndarray:
        """Indices where ``flags`` (one per customer) is true."""
        return np.flatnonzero(np.fromiter(flags, bool, self.n))

    def days_ago(self, when: Iterable[date | None]) -> np.ndarray:
        """Days from each date to today (NaN where there is no date)."""
        today = self.today.toordinal()
        return np.fromiter((np.nan if d is None else today - d.toordinal() for d in when), float, self.n)


Candidates = Callable[[Columns], Iterable[int]]


@dataclass(frozen=True)
class Builtin:
    key: str
    name: str
    description: str
    test: Test
    # A quick pre-check over all customers at once: a superset of the members (None: everyone).
    candidates: Candidates | None = None


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
            return f"first order {_days(age)} ago ({first:%d %b %Y}); new for {limit} days"
        return None
    since = f.customer.customer_since
    if since is not None and 0 <= (f.today - since).days <= limit:
        return f"customer since {since:%d %b %Y} ({_days((f.today - since).days)} ago), no orders yet"
    return None


def _one_time(f: Facts) -> str | None:
    if f.value.orders != 1:
        return None
    when = f.value.last_order
    ago = f" on {when:%d %b %Y} ({_days(f.value.days_since_last_order or 0)} ago)" if when else ""
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


def _at_risk(f: Facts) -> str | None:
    seg = f.value.rfm_segment.replace("\u2019", "'").casefold().strip()
    if seg not in AT_RISK_RFM:
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
def _bands(f: Facts) -> tuple[float, float]:
    if f.scale == 10:
        return 9, 6
    if f.scale == 100:
        return 90, 60
    return 4, f.settings.low_satisfaction


def _score(f: Facts) -> str:
    s = f.satisfaction
    shown = f"{s:g}" if s is not None else "?"
    return f"latest satisfaction {shown} out of {f.scale}"


def _promoter(f: Facts) -> str | None:
    if f.satisfaction is None or f.satisfaction < _bands(f)[0]:
        return None
    return f"{_score(f)} (promoters score {_bands(f)[0]:g} or more)"


def _detractor(f: Facts) -> str | None:
    if f.satisfaction is None or f.satisfaction > _bands(f)[1]:
        return None
    return f"{_score(f)} (detractors score {_bands(f)[1]:g} or less)"


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
    def test(f: Facts) -> str | None:
        if f.customer.preferred_channel != channel:
            return None
        return f"preferred channel is {word}"

    return test


def _new_candidates(cols: Columns) -> np.ndarray:
    limit = cols.settings.new_customer_days
    first = cols.days_ago(v.first_order for v in cols.values)
    since = cols.days_ago(c.customer_since for c in cols.customers)
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


def _lapsed_candidates(cols: Columns) -> np.ndarray:
    return cols.where(
        v.tier in ("Platinum", "Gold") and v.days_since_last_order is not None for v in cols.values
    )


def _at_risk_candidates(cols: Columns) -> np.ndarray:
    folded: dict[str, bool] = {}  # a handful of distinct RFM names

    def at_risk(name: str) -> bool:
        if name not in folded:
            folded[name] = name.replace("\u2019", "'").casefold().strip() in AT_RISK_RFM
        return folded[name]

    return cols.where(at_risk(v.rfm_segment) for v in cols.values)


def _advocate_candidates(cols: Columns) -> np.ndarray:
    return cols.where(bool(v.advocate) for v in cols.values)


def _scored_candidates(cols: Columns) -> np.ndarray:
    scored = cols.satisfaction
    return [i for i, key in enumerate(cols.keys) if key in scored]


def _birthday_candidates(cols: Columns) -> np.ndarray:
    month = cols.today.month
    return cols.where(c.birthday is not None and c.birthday.month == month for c in cols.customers)


def _decision_candidates(cols: Columns) -> np.ndarray:
    seen: dict[str, bool] = {}  # job titles and roles repeat: search each distinct one once

    def decides(value: str) -> bool:
        if not value:
            return False
        if value not in seen:
            seen[value] = DECISION_WORDS.search(value) is not None
        return seen[value]

    return cols.where(decides(c.role) or decides(c.job_title) for c in cols.customers)


def _channel_is(channel: str) -> Candidates:
    def candidates(cols: Columns) -> list[int]:
        return cols.by_channel(channel)

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
        _orders_at_least(3),
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
        _scored_candidates,
    ),
    Builtin(
        "detractors",
        "Detractors",
        "Latest satisfaction score at the bottom of the scale.",
        _detractor,
        _scored_candidates,
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
        return f"{value:%d %b %Y}"
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
    result = SegmentsResult([p.definition for p in planned], skipped=skipped)
    active = [p for p in planned if p.definition.active and (p.builtin is not None or p.rule is not None)]
    hits, failures = _members(ctx, customers, values, rules, scale, active)
    # Each customer's memberships in segment order, customers in sheet order.
    found: list[list[Membership]] = [[] for _ in customers]
    for p, members in zip(active, hits, strict=True):
        name = p.definition.name
        for i, reason in members:
            found[i].append(Membership(name, reason))
    keys = [c.key for c in customers]
    shown_names: list[str] = [""] * len(customers)
    for i, (c, items) in enumerate(zip(customers, found, strict=True)):
        if items:
            result.memberships[keys[i]] = items
            result.names[keys[i]] = shown_names[i] = c.display_name

    _report_failures(ctx, planned, failures)
    sizes = result.sizes()
    order = {p.definition.name: i for i, p in enumerate(planned)}
    templates = {p.definition.name: p.definition.template for p in planned}
    active_names = [p.definition.name for p in active]
    if len(set(keys)) == len(keys) and len(set(active_names)) == len(active_names):
        # Unique customers and segment names (the usual case): the rows are each
        # active segment's members in turn (``active`` is in segment order), in sheet
        # order, which is what the general path below gives, built without sorting.
        tier_of = [(values[k].tier if k in values else "") or None for k in keys]
        rows: list[list[Any]] = [
            [name, keys[i], shown_names[i], tier_of[i], reason, template]
            for name, members in zip(active_names, hits, strict=True)
            for template in [templates.get(name) or None]
            for i, reason in members
        ]
    else:
        rows = []
        for key, items in result.memberships.items():
            for m in items:
                tier = values[key].tier if key in values else ""
                rows.append(
                    [
                        m.segment,
                        key,
                        result.names.get(key, ""),
                        tier or None,
                        m.reason,
                        templates.get(m.segment) or None,
                    ]
                )
        position = {c.key: i for i, c in enumerate(customers)}
        if len(position) == len(customers):
            # Customer keys are unique, so the memberships are already in sheet order:
            # grouping by segment (stable) is the same as sorting by (segment, customer).
            buckets: dict[int, list[list[Any]]] = {}
            for r in rows:
                buckets.setdefault(order.get(r[0], 0), []).append(r)
            rows = [r for k in sorted(buckets) for r in buckets[k]]
        else:
            rows.sort(key=lambda r: (order.get(r[0], 0), position.get(r[1], 0)))
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
    in_any = len(result.memberships)
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


Hits = list[tuple[int, str]]  # (customer index, reason)


def _members(
    ctx: Context,
    customers: list[Customer],
    values: dict[str, CustomerValue],
    rules: RuleContext,
    scale: int,
    active: list[_Planned],
) -> tuple[list[Hits], dict[str, tuple[int, RuleProblem, str]]]:
    """The members of each active segment, in customer order, with their reasons; and
    the owner rules that failed while running (segment -> count, first problem, customer).

    Built-ins run segment by segment over the customers their pre-check lets through;
    owner rules run customer by customer, so the names a customer's rules share are
    worked out once."""
    vals = [values.get(c.key) or CustomerValue(c.key, c.display_name) for c in customers]
    satisfaction = rules.satisfaction_by_customer
    cols = Columns(customers, vals, satisfaction, ctx.today, ctx.settings)
    facts: dict[int, Facts] = {}
    hits: list[Hits] = [[] for _ in active]

    keys = cols.keys

    def facts_for(i: int) -> Facts:
        f = facts.get(i)
        if f is None:
            c = customers[i]
            latest = satisfaction.get(keys[i], (None, None))[0]
            f = facts[i] = Facts(c, vals[i], ctx.today, ctx.settings, latest, scale)
        return f

    owner: list[tuple[_Planned, Hits]] = []
    for p, found in zip(active, hits, strict=True):
        if p.builtin is None:
            owner.append((p, found))
            continue
        test = p.builtin.test
        pick = p.builtin.candidates
        for i in range(len(customers)) if pick is None else [int(i) for i in pick(cols)]:
            reason = test(facts_for(i))
            if reason:
                found.append((i, reason))

    failures: dict[str, tuple[int, RuleProblem, str]] = {}
    # Owner rules run column by column over all customers where they can; a rule that
    # cannot (or fails for some customer) runs customer by customer below, which
    # gives the same answers and reports the failure with its position.
    slow: list[tuple[_Planned, Hits]] = []
    if owner:
        table = RuleColumns(rules, customers)
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
