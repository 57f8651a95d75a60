"""Outreach: one draft message for each customer who should hear from the business
now, in their preferred channel, at their preferred time, with a Why.

Who gets a draft (highest priority first; one draft per customer per run, the
other reasons are listed in Why):

=================  ==========================================================
Service recovery   a satisfaction score at or below ``low_satisfaction`` in the
                   last ``service_recovery_days`` (30), and no contact logged since
Follow up          a Follow-up date in Interactions that is today or past, and
                   no contact logged after that interaction (or Outcome "done")
Thank you          the customer's first order was in the last ``thank_you_days`` (14)
Referral thanks    someone they referred (Customers: Referred by) made a first
                   order in the last ``referral_thanks_days`` (30)
Birthday           their birthday is within ``birthday_days_before`` days
Segment            a segment with a Template (Segments tab) they are in
Win back           no order for ``win_back_days`` (or 3x their usual gap)
Keep in touch      Platinum or Gold tier, no order or contact for
                   ``keep_in_touch_days``
=================  ==========================================================

Never: Do not contact (or an unreadable Do not contact cell); merged customers;
no channel they agreed to; contacted within ``contact_frequency_days`` (logged
in Interactions or a draft marked sent) - except service recovery and follow-up,
which answer something the customer is waiting for and are instead ended by
any contact logged after them; a template whose Offer column names a product the
customer already bought (Orders); a draft ID already sent.

Draft IDs are a hash of customer, trigger and period (the order, the birthday
year, the month of a segment campaign...), so a re-run keeps IDs and the owner's
Status and Notes. Approved and sent drafts are kept as the owner left them; a
sent draft is appended to Interactions once (the Logged column remembers it, and
an Interactions row "Sent draft D-...:" is never written twice).
"""

from __future__ import annotations

import calendar
import difflib
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import pairwise
from operator import attrgetter
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..contact_time import ANYTIME, next_send_time, parse_best_time, parse_quiet_hours
from ..findings import Location, Severity
from ..gcpause import paused_gc
from ..messages import (
    DEFAULT_TEMPLATES,
    FieldGroup,
    RenderCache,
    RenderProblem,
    TemplateProblem,
    compile_template,
    empty,
    fields_used,
    friendly_date,
    salutation,
    sms_length,
    value_or_missing,
)
from ..model import CUSTOMER_FIELD_NAMES, Customer, Interaction, Order
from ..normalize import check_email, parse_channel, parse_date, split_list, text
from ..workbook import Cell, Row, RowAppend, Table, ToolTab, header_key, is_blank
from . import Context, StepOutput

TAB = "Outreach"
HEADERS = [
    "Draft ID",
    "Customer ID",
    "Name",
    "Trigger",
    "Channel",
    "To",
    "Subject",
    "Message",
    "Length",
    "Send at",
    "Why",
    "Status",
    "Notes",
    "Logged",
]
DECISIONS = ("Status", "Notes")
KEY_COLUMNS = ("Draft ID",)

# Built-in triggers in priority order: (key, the template name they use).
TRIGGERS: tuple[tuple[str, str], ...] = (
    ("service_recovery", "Service recovery"),
    ("follow_up", "Follow up"),
    ("thank_you", "Thank you"),
    ("referral_thanks", "Referral thanks"),
    ("birthday", "Birthday"),
    ("segment", ""),
    ("win_back", "Win back"),
    ("keep_in_touch", "Keep in touch"),
)
PRIORITY = {key: i for i, (key, _) in enumerate(TRIGGERS)}
# These answer something the customer is waiting for: the frequency cap does not
# hold them back; a contact logged after the interaction that raised them ends them.
ANSWERS = frozenset({"service_recovery", "follow_up"})

TOP_TIERS = ("Platinum", "Gold")
CHANNELS = ("email", "sms", "phone", "letter")
CHANNEL_WORDS = {"email": "email", "sms": "SMS", "phone": "phone call", "letter": "letter"}
INBOUND = frozenset({"in", "inbound", "incoming", "received", "from customer"})
DONE = frozenset({"done", "completed", "complete", "closed", "resolved", "followed up"})
SENT_RE = re.compile(r"Sent draft (D-[0-9A-F]{10})")
MAX_FIELD_FINDINGS = 25  # per template cell and field; the rest are counted in one finding
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A Draft ID names the exported file and goes into the email's headers, and anyone
# editing the sheet can change it: only letters, digits, - and _ (sheet-crm's own
# are like D-3F2A91C0DE), so no ID can climb out of the export folder or break a header.
SAFE_DRAFT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
# What cannot stand in an email header: line breaks (Alt+Enter in a cell, Unicode line
# separators) and other control characters. A tab can.
LINE_BREAKS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")


# ---------------------------------------------------------------- results


@dataclass
class Draft:
    """One row of the Outreach tab."""

    draft_id: str
    customer_id: str
    name: str
    trigger: str
    channel: str  # email | sms | phone | letter
    to: str
    subject: str
    message: str
    length: str = ""  # SMS only: characters and parts
    send_at: datetime | None = None
    why: str = ""
    status: str = ""  # "" | approve | skip | sent
    notes: str = ""
    logged: date | None = None
    kept: bool = False  # carried over as the owner left it (approved or sent)
    blocked: str = ""  # why an approved draft must not go out after all
    to_name: str = ""  # the name for the To header of an exported email

    def row(self) -> list[Cell]:
        return [
            self.draft_id,
            self.customer_id,
            self.name,
            self.trigger,
            self.channel,
            self.to,
            self.subject or None,
            self.message,
            self.length or None,
            self.send_at,
            self.why,
            self.status or None,
            self.notes or None,
            self.logged,
        ]


@dataclass
class Skip:
    customer_id: str
    name: str
    reason: str
    kind: str  # do_not_contact | capped | no_channel | pending | template | offer | already_sent


@dataclass
class OutreachResult:
    """What export and later steps need: the drafts and who sends them."""

    drafts: list[Draft]
    skipped: list[Skip] = field(default_factory=list)
    business_name: str = ""
    sender_name: str = ""
    sender_email: str = ""
    timezone: str = "UTC"
    generated_at: datetime | None = None

    def approved(self, channels: Iterable[str] = CHANNELS) -> list[Draft]:
        wanted = set(channels)
        return [d for d in self.drafts if d.status == "approve" and not d.blocked and d.channel in wanted]


@dataclass(frozen=True)
class ExportProblem:
    """Why an approved draft cannot be exported as it stands, and which Outreach column to fix."""

    column: str
    reason: str  # completes "Not exported: ..."
    fix: str


def export_problem(d: Draft) -> ExportProblem | None:
    """What stops an approved draft from becoming a file (checked when the Outreach
    tab is read, before anything is written, so the owner sees it in Issues)."""
    if not SAFE_DRAFT_ID.fullmatch(d.draft_id):
        return ExportProblem(
            "Draft ID",
            "its Draft ID cannot name a file (a Draft ID holds only letters, digits, - and _, "
            "at most 64 of them)",
            "Put back the Draft ID sheet-crm gave this draft (like D-3F2A91C0DE), or delete the row "
            "and run drafts again.",
        )
    if d.channel not in CHANNELS:
        return ExportProblem(
            "Channel",
            f"its channel '{shorten(d.channel)}' is not email, sms, phone or letter",
            "Type email, sms, phone or letter in Channel.",
        )
    if d.channel != "email":
        return None
    if LINE_BREAKS.search(d.subject):
        return ExportProblem(
            "Subject",
            "its Subject has a line break (or another control character), and an email subject is one line",
            "Remove the line break (Alt+Enter) from the Subject cell.",
        )
    if LINE_BREAKS.search(d.to):
        return ExportProblem(
            "To", "its To has a line break (or another control character)", "Type one email address in To."
        )
    checked = check_email(d.to)
    if not checked.normalized:
        why = f" ({checked.reason})" if checked.reason else ""
        what = f"'{shorten(d.to)}' is not one email address{why}" if d.to.strip() else "is empty"
        return ExportProblem("To", f"its To {what}", "Type one email address in To, or set Status to skip.")
    return None


def one_line(text: str) -> str:
    """A subject as one line: each line break (and the spaces around it) becomes one space."""
    return _BREAK_RUN.sub(" ", text).strip() if LINE_BREAKS.search(text) else text


_BREAK_RUN = re.compile(r"\s*[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]+\s*")


def shorten(value: str, most: int = 60) -> str:
    """A cell's text for a message: at most ``most`` characters, line breaks shown as spaces."""
    flat = LINE_BREAKS.sub(" ", value)
    return flat if len(flat) <= most else flat[: most - 1] + "…"


def _check_sender(ctx: Context, kept: list[Draft]) -> None:
    """An approved email is exported From the sender_email setting: say so when that
    is not one address (the export then leaves the From out)."""
    sender = ctx.settings.sender_email
    waiting = any(d.status == "approve" and not d.blocked and d.channel == "email" for d in kept)
    if waiting and sender.strip() and not check_email(sender).normalized:
        ctx.findings.add(
            "sender-email-invalid",
            Severity.WARNING,
            Location("Settings"),
            f"The sender_email setting '{shorten(sender)}' is not one email address, so exported "
            "emails have no From (your mail program fills it in when you send).",
            "Type one email address as sender_email in the Settings tab.",
            value=sender[:200],
        )


def _unexportable_finding(ctx: Context, prev: _Previous, d: Draft, p: ExportProblem) -> None:
    value = prev.values.get(p.column)
    ctx.findings.add(
        "draft-not-exportable",
        Severity.ERROR,
        prev.location(p.column),
        f"Draft {shorten(d.draft_id, 30)} is approved, but {p.reason}, so it is not exported.",
        p.fix,
        value=value[:200] if isinstance(value, str) else value,
        customer_id=d.customer_id,
    )


# ---------------------------------------------------------------- templates


@dataclass
class TemplateText:
    """A template for one name and channel: from the Templates tab or built in."""

    name: str
    channel: str
    subject_src: str
    body_src: str
    table: Table | None = None
    row: Row | None = None
    offer: list[str] = field(default_factory=list)
    _compiled: dict[str, Any] = field(default_factory=dict)

    @property
    def builtin(self) -> bool:
        return self.row is None

    def where(self, part: str = "body") -> str:
        if self.table is None or self.row is None:
            return "built-in text"
        return self.table.location(self.row, part).cell

    def location(self, part: str) -> Location:
        if self.table is None or self.row is None:
            return Location("Templates")
        return self.table.location(self.row, part)

    def compiled(self, part: str) -> Any:
        if part not in self._compiled:
            src = self.subject_src if part == "subject" else self.body_src
            self._compiled[part] = compile_template(src)
        return self._compiled[part]

    def renderer(self, part: str) -> RenderCache:
        """The compiled part with the texts already made for repeated values."""
        key = f"render:{part}"
        if key not in self._compiled:
            src = self.subject_src if part == "subject" else self.body_src
            self._compiled[key] = RenderCache(self.compiled(part), src)
        return self._compiled[key]  # type: ignore[no-any-return]

    def text_note(self, source_note: str) -> str:
        """Where the text came from (and what it offers), for Why: the same for every
        draft made from this template, so put together once."""
        key = f"why:{source_note}"
        if key not in self._compiled:
            if self.builtin:
                note = f"Text: {source_note or 'built-in text'}."
            else:
                note = (
                    f"Text: {self.where('body')} ('{self.name}', {self.channel})"
                    + (f", {source_note}" if source_note else "")
                    + "."
                )
            if self.offer:
                note += f" Offers {', '.join(self.offer)} (not bought before)."
            self._compiled[key] = note
        return self._compiled[key]  # type: ignore[no-any-return]

    def needs(self, channel: str) -> frozenset[str]:
        """The names the template reads (subject only for email)."""
        key = "needs:email" if channel == "email" else "needs:other"
        if key not in self._compiled:
            names = fields_used(self.body_src)
            if channel == "email":
                names |= fields_used(self.subject_src)
            self._compiled[key] = names
        return self._compiled[key]  # type: ignore[no-any-return]


def _read_templates(ctx: Context) -> dict[tuple[str, str], TemplateText]:
    """The Templates tab by (folded name, channel). Rows without a name or body, with
    an unknown channel, or repeating a name and channel are findings."""
    table = ctx.records.tables.get("Templates")
    out: dict[tuple[str, str], TemplateText] = {}
    if table is None or not table.has("name") or not table.has("body"):
        return out
    offer_field = next((f for f in ("offer", "product", "offered_product") if table.has(f)), None)
    for row, cells in table.records():
        name = text(cells.get("name"))
        body = "" if is_blank(cells.get("body")) else str(cells.get("body"))
        if not name:
            continue
        raw_channel = text(cells.get("channel")).lower()
        channel, _problem = parse_channel(raw_channel)
        if not channel and re.search(r"script|call", raw_channel):
            channel = "phone"
        if not raw_channel:
            channel = "email"
        if not channel:
            ctx.findings.add(
                "template-unknown-channel",
                Severity.WARNING,
                table.location(row, "channel"),
                f"The '{name}' template's channel '{raw_channel}' is not email, sms, phone or letter, "
                f"so the template is not used.",
                "Type email, sms, phone or letter.",
                value=cells.get("channel"),
            )
            continue
        if not body.strip():
            ctx.findings.add(
                "template-empty",
                Severity.WARNING,
                table.location(row, "body"),
                f"The '{name}' {channel} template has no text, so it is not used.",
                "Type the message in the Body column.",
            )
            continue
        key = (header_key(name), channel)
        if key in out:
            first = out[key]
            ctx.findings.add(
                "template-duplicate",
                Severity.WARNING,
                table.location(row, "name"),
                f"There are two '{name}' {channel} templates; the one in row "
                f"{first.row.number if first.row else '?'} is used.",
                "Delete or rename one of them.",
                value=name,
            )
            continue
        subject = "" if is_blank(cells.get("subject")) else str(cells.get("subject"))
        offer = split_list(cells.get(offer_field)) if offer_field else []
        out[key] = TemplateText(name, channel, subject, body, table, row, offer)
    return out


class _Templates:
    """Finds the text for a template name and channel: the owner's row first, then
    (for letters) the owner's email row, then the built-in default."""

    def __init__(self, owner: dict[tuple[str, str], TemplateText]) -> None:
        self.owner = owner
        self.builtin = {
            (header_key(n), ch): TemplateText(n, ch, s, b) for (n, ch), (s, b) in DEFAULT_TEMPLATES.items()
        }
        self.names = {k[0] for k in owner}
        self._keys: dict[str, str] = {}
        self._found: dict[tuple[str, str], tuple[TemplateText | None, str]] = {}

    def find(self, name: str, channel: str) -> tuple[TemplateText | None, str]:
        """(template, note on where it came from, for Why); the same for every customer,
        so worked out once per name and channel."""
        found = self._found.get((name, channel))
        if found is None:
            found = self._found[(name, channel)] = self._find(name, channel)
        return found

    def _find(self, name: str, channel: str) -> tuple[TemplateText | None, str]:
        key = self._key(name)
        t = self.owner.get((key, channel))
        if t is not None:
            return t, ""
        if channel == "letter" and (key, "email") in self.owner:
            return self.owner[(key, "email")], "the email text, as there is no letter template"
        t = self.builtin.get((key, "email" if channel == "letter" else channel))
        if t is not None:
            if not self.owner:
                return t, "built-in text (the workbook has no Templates tab)"
            return t, f"built-in text (the Templates tab has no '{name}' {channel} row)"
        return None, ""

    def _key(self, name: str) -> str:
        key = self._keys.get(name)
        if key is None:
            key = self._keys[name] = header_key(name)
        return key

    def known(self, name: str) -> bool:
        key = self._key(name)
        return key in self.names or any(k[0] == key for k in self.builtin)


# ---------------------------------------------------------------- facts per customer


class _Facts:
    """What the triggers need to know about one customer, computed once (a slotted
    class: there is one per customer, and a dataclass with factories costs more)."""

    __slots__ = ("contacts", "interactions", "orders", "products")

    def __init__(self) -> None:
        self.orders: list[Order] = []  # dated, oldest first
        self.products: set[str] = set()  # folded
        self.interactions: list[Interaction] = []  # dated, oldest first
        self.contacts: list[date] = []  # our contacts: outbound interactions, sent drafts

    @property
    def last_contact(self) -> date | None:
        return max(self.contacts) if self.contacts else None


_EMPTY_FACTS = _Facts()
_BY_DATE = attrgetter("date", "row")


def _is_inbound(i: Interaction) -> bool:
    return i.direction.strip().lower() in INBOUND


def _gather(ctx: Context) -> dict[str, _Facts]:
    """Every customer's orders, products, interactions and contacts in one pass over
    orders and one over interactions. Product and direction words repeat, so each
    distinct one is folded once."""
    facts: dict[str, _Facts] = {}
    get = facts.get
    folded: dict[str, str] = {}
    for o in ctx.records.orders:
        cid = o.customer_id
        if not cid:
            continue
        f = get(cid)
        if f is None:
            f = facts[cid] = _Facts()
        product = o.product
        if product:
            key = folded.get(product)
            if key is None:
                key = folded[product] = product.strip().casefold()
            f.products.add(key)
        if o.date is not None:
            f.orders.append(o)
    today = ctx.today
    inbound: dict[str, bool] = {}
    for i in ctx.records.interactions:
        cid = i.customer_id
        day = i.date
        if not cid or day is None:
            continue
        f = get(cid)
        if f is None:
            f = facts[cid] = _Facts()
        f.interactions.append(i)
        direction = i.direction
        came_in = inbound.get(direction)
        if came_in is None:
            came_in = inbound[direction] = direction.strip().lower() in INBOUND
        if not came_in and day <= today:
            f.contacts.append(day)
    for f in facts.values():
        if len(f.orders) > 1:
            f.orders.sort(key=_BY_DATE)
        if len(f.interactions) > 1:
            f.interactions.sort(key=_BY_DATE)
    return facts


def _days_before(day: date, n: int) -> date:
    """``day`` minus ``n`` days, or the first (last) date there is for a setting so
    large that it reaches past it."""
    try:
        return day - timedelta(days=n)
    except OverflowError:
        return date.min if n > 0 else date.max


def _median(values: list[int]) -> float:
    """``statistics.median`` (same result and type), without its overhead per call."""
    ordered = sorted(values)
    half = len(ordered) // 2
    return ordered[half] if len(ordered) % 2 else (ordered[half - 1] + ordered[half]) / 2


# ---------------------------------------------------------------- triggers


@dataclass
class Candidate:
    """A reason to write to a customer now."""

    trigger: str  # key in TRIGGERS, or "segment"
    label: str  # the Trigger column: "Birthday", "Segment: Lapsed VIPs"
    template: str  # template name
    period: str  # with customer and trigger, makes the draft ID
    reason: str  # plain words for Why
    since: date | None = None  # the interaction that raised it (ANSWERS only)
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def priority(self) -> int:
        return PRIORITY.get(self.trigger, len(PRIORITY))


def draft_id(customer_key: str, trigger: str, period: str) -> str:
    """Stable across runs: the same customer, trigger and period give the same ID."""
    digest = hashlib.sha1(f"{customer_key}|{trigger}|{period}".encode()).hexdigest()
    return "D-" + digest[:10].upper()


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n:,} days"


class _Triggers:
    """Works out every trigger for every customer."""

    def __init__(self, ctx: Context, facts: dict[str, _Facts]) -> None:
        self.ctx = ctx
        self.s = ctx.settings
        self.today = ctx.today
        self.facts = facts
        tiers = ctx.results.get("tiers")
        self.tier: dict[str, str] = (
            {k: v.tier for k, v in tiers.customers.items()} if tiers is not None else {}
        )
        segments = ctx.results.get("segments")
        self.segment_templates: dict[str, Any] = {}
        self.memberships: dict[str, list[Any]] = {}
        if segments is not None:
            self.segment_templates = {
                s.name.casefold(): s for s in segments.segments if s.template.strip() and s.active
            }
            if self.segment_templates:
                self.memberships = segments.memberships
        self.referral_days = ctx.settings.referral_thanks_days
        self.referrals = self._referrals()
        # Day limits as dates, so each customer's check is a comparison of dates.
        self.recovery_from = ctx.today - timedelta(days=ctx.settings.service_recovery_days)
        self.thank_you_from = ctx.today - timedelta(days=ctx.settings.thank_you_days)
        self.win_back_before = _days_before(ctx.today, ctx.settings.win_back_days)
        # month * 100 + day -> the date it falls on within the birthday window; 29
        # February is celebrated on the 28th in common years.
        self.birthdays: dict[int, date] = {}
        for n in range(max(ctx.settings.birthday_days_before, -1) + 1):
            day = ctx.today + timedelta(days=n)
            self.birthdays.setdefault(day.month * 100 + day.day, day)
            if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
                self.birthdays.setdefault(229, day)

    def _referrals(self) -> dict[str, list[tuple[Customer, Order]]]:
        """Referrer key -> (referred customer, their first order) for first orders
        in the last ``referral_thanks_days`` days. Referred by may hold an ID, an email or a name
        (customers by name are listed only if some reference is neither)."""
        out: dict[str, list[tuple[Customer, Order]]] = {}
        records = self.ctx.records
        by_name: dict[str, Customer | None] | None = None
        for c in records.active_customers():
            if not c.referred_by:
                continue
            f = self.facts.get(c.key)
            if f is None or not f.orders:
                continue
            first = f.orders[0]
            if first.date is None or not 0 <= (self.today - first.date).days <= self.referral_days:
                continue
            referrer = records.find(c.referred_by)
            if referrer is None:
                if by_name is None:
                    by_name = {}
                    for other in records.active_customers():
                        n = other.full_name.casefold()
                        if n:  # an ambiguous name matches no one
                            by_name[n] = None if n in by_name else other
                referrer = by_name.get(c.referred_by.strip().casefold())
            if referrer is None or referrer.key == c.key:
                continue
            out.setdefault(referrer.key, []).append((c, first))
        return out

    def for_customer(self, c: Customer, key: str | None = None) -> list[Candidate]:
        """Every trigger due for ``c`` (``key`` is ``c.key``, when the caller has it),
        highest priority first: they are found in that order."""
        s, today = self.s, self.today
        if key is None:
            key = c.key
        f = self.facts.get(key) or _EMPTY_FACTS
        found: list[Candidate] = []
        interactions = f.interactions
        # Service recovery: the latest low score in the last ``service_recovery_days`` days.
        for i in reversed(interactions) if interactions else ():
            if i.satisfaction is None or i.date is None or i.date < self.recovery_from:
                continue
            if i.satisfaction <= s.low_satisfaction and i.date <= today:
                later = [d for d in f.contacts if d > i.date]
                if not later:
                    score = f"{i.satisfaction:g}"
                    found.append(
                        Candidate(
                            "service_recovery",
                            "Service recovery",
                            "Service recovery",
                            f"{i.date.isoformat()}-r{i.row}",
                            f"satisfaction {score} on {i.date.isoformat()} (Interactions row {i.row}"
                            + (f": {i.summary}" if i.summary else "")
                            + f"), at or below {s.low_satisfaction:g}, and no contact since",
                            since=i.date,
                            values={"low_score": i.satisfaction},
                        )
                    )
            break
        # Follow up: the latest interaction with a follow-up date that is due.
        for i in reversed(interactions) if interactions else ():
            if i.follow_up is None:
                continue
            if i.follow_up <= today and i.outcome.strip().lower() not in DONE:
                later = [d for d in f.contacts if i.date is not None and d > i.date]
                if not later:
                    overdue = (today - i.follow_up).days
                    when = "due today" if overdue == 0 else f"{_days(overdue)} overdue"
                    found.append(
                        Candidate(
                            "follow_up",
                            "Follow up",
                            "Follow up",
                            i.follow_up.isoformat(),
                            f"follow-up date {i.follow_up.isoformat()} ({when}) in Interactions row {i.row}"
                            + (f" ('{i.summary}')" if i.summary else "")
                            + ", with no contact logged since",
                            since=i.date,
                            values={"follow_up_date": i.follow_up, "follow_up_summary": i.summary},
                        )
                    )
            break
        orders = f.orders
        first = orders[0] if orders else None
        last = orders[-1] if orders else None
        if first is not None and first.date is not None and self.thank_you_from <= first.date <= today:
            found.append(
                Candidate(
                    "thank_you",
                    "Thank you",
                    "Thank you",
                    first.order_id or first.date.isoformat(),
                    f"first order on {first.date.isoformat()}"
                    + (f" ({first.product})" if first.product else "")
                    + f", {_days((today - first.date).days)} ago",
                )
            )
        for referred, order in self.referrals.get(key, ())[:1] if self.referrals else ():
            more = len(self.referrals[key]) - 1
            found.append(
                Candidate(
                    "referral_thanks",
                    "Referral thanks",
                    "Referral thanks",
                    referred.key,
                    f"{referred.display_name}, whom they referred, made a first order on "
                    f"{order.date.isoformat() if order.date else '?'}"
                    + (f" (and {more} more referred customers bought)" if more > 0 else ""),
                    values={"referred_name": referred.given_name, "referred_full_name": referred.full_name},
                )
            )
        born = c.birthday
        nxt = self.birthdays.get(born.month * 100 + born.day) if born is not None else None
        if nxt is not None:
            ahead = (nxt - today).days
            if ahead <= s.birthday_days_before:
                found.append(
                    Candidate(
                        "birthday",
                        "Birthday",
                        "Birthday",
                        str(nxt.year),
                        "birthday today"
                        if ahead == 0
                        else f"birthday on {friendly_date(nxt)}, in {_days(ahead)}",
                        values={"birthday_date": nxt},
                    )
                )
        for m in self.memberships.get(key, ()) if self.memberships else ():
            seg = self.segment_templates.get(m.segment.casefold())
            if seg is None:
                continue
            found.append(
                Candidate(
                    "segment",
                    f"Segment: {seg.name}",
                    seg.template.strip(),
                    f"{seg.name.casefold()}|{today:%Y-%m}",
                    f"in the segment '{seg.name}' ({m.reason})",
                    values={"segment": seg.name},
                )
            )
        if last is not None and last.date is not None and last.date < self.win_back_before:
            since = (today - last.date).days
            gaps = [(b.date - a.date).days for a, b in pairwise(orders)]  # type: ignore[operator]
            usual = _median(gaps) if gaps else None
            lapse = max(s.win_back_days, 3 * usual) if usual else s.win_back_days
            if since > lapse:
                basis = (
                    f"3x their usual {usual:g}-day gap"
                    if usual and 3 * usual > s.win_back_days
                    else f"the {s.win_back_days}-day win-back setting"
                )
                found.append(
                    Candidate(
                        "win_back",
                        "Win back",
                        "Win back",
                        last.order_id or last.date.isoformat(),
                        f"no order for {_days(since)} (last on {last.date.isoformat()}), longer than {basis}",
                    )
                )
        tier = self.tier.get(key, "")
        if tier in TOP_TIERS:
            touches = [d for d in (f.last_contact, last.date if last else None) if d is not None]
            inbound = [i.date for i in interactions if i.date is not None and i.date <= today]
            touches += inbound[-1:]
            latest = max(touches) if touches else None
            if latest is None or (today - latest).days >= s.keep_in_touch_days:
                found.append(
                    Candidate(
                        "keep_in_touch",
                        "Keep in touch",
                        "Keep in touch",
                        latest.isoformat() if latest else "never",
                        f"{tier} customer with no order or contact "
                        + (f"for {_days((today - latest).days)}" if latest else "on record")
                        + f" (keep-in-touch after {s.keep_in_touch_days})",
                    )
                )
        # No sort: the checks above run in priority order (TRIGGERS).
        return found


# ---------------------------------------------------------------- channels


@dataclass
class _Reach:
    """Whether a customer can be reached on a channel, and at what address."""

    to: str = ""
    why_not: str = ""


class _Channels:
    def __init__(self, ctx: Context) -> None:
        self.validated = "validate" in ctx.results
        self.country = ctx.settings.default_country

    def reach(self, c: Customer, channel: str) -> _Reach:
        if channel == "email":
            if "email_opt_in" in c.invalid:
                return _Reach(why_not="the Email opt-in cell cannot be read")
            if c.email_opt_in is not True:
                return _Reach(why_not="no email consent")
            address = c.email_normalized if self.validated else c.email.strip()
            bad = "email" in c.invalid or (not self.validated and not _EMAIL_RE.match(address))
            if not address or bad:
                return _Reach(why_not="no valid email address")
            return _Reach(address)
        if channel == "sms":
            if "sms_opt_in" in c.invalid:
                return _Reach(why_not="the SMS opt-in cell cannot be read")
            if c.sms_opt_in is not True:
                return _Reach(why_not="no SMS consent")
            number, kind = self._phone(c)
            if not number:
                return _Reach(why_not="no valid phone number")
            if kind not in ("mobile", ""):
                return _Reach(why_not="their phone number is not a mobile")
            return _Reach(number)
        if channel == "phone":
            number, _kind = self._phone(c)
            return _Reach(number) if number else _Reach(why_not="no valid phone number")
        if channel == "letter":
            if not c.address or not (c.postcode or c.city):
                return _Reach(why_not="no postal address")
            lines = [c.full_name or c.company, c.company if c.full_name else "", c.address]
            lines.append(" ".join(p for p in (c.city, c.postcode) if p))
            lines.append(c.country)
            return _Reach("\n".join(line for line in lines if line))
        return _Reach(why_not="unknown channel")

    def _phone(self, c: Customer) -> tuple[str, str]:
        """(number, mobile | landline | ""): from validation when it ran, otherwise
        read here with phonenumbers."""
        if "phone" in c.invalid:
            return "", ""
        if self.validated:
            return c.phone_e164, c.phone_type
        if not c.phone.strip():
            return "", ""
        import phonenumbers

        try:
            parsed = phonenumbers.parse(c.phone, self.country or None)
        except phonenumbers.NumberParseException:
            return "", ""
        if not phonenumbers.is_valid_number(parsed):
            return "", ""
        kind = phonenumbers.number_type(parsed)
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        if kind == phonenumbers.PhoneNumberType.MOBILE:
            return e164, "mobile"
        if kind == phonenumbers.PhoneNumberType.FIXED_LINE:
            return e164, "landline"
        return e164, ""

    @staticmethod
    def order(c: Customer) -> list[str]:
        first = [c.preferred_channel] if c.preferred_channel in CHANNELS else []
        return first + [ch for ch in CHANNELS if ch not in first]


# ---------------------------------------------------------------- the previous tab


@dataclass
class _Previous:
    row: int
    values: dict[str, Cell]
    status: str
    columns: dict[str, int] = field(default_factory=dict)  # header -> sheet column number (1 = A)

    def location(self, header: str) -> Location:
        return Location(TAB, self.row, self.columns.get(header), header if header in self.columns else "")


def _status(value: Cell) -> str:
    t = text(value).strip().lower()
    if not t:
        return ""
    if t.startswith("approv") or t in {"ok", "yes", "go", "send"}:
        return "approve"
    if t.startswith("skip") or t in {"no", "reject", "rejected", "don't send", "dont send"}:
        return "skip"
    if t.startswith("sent") or t == "done":
        return "sent"
    return "?"


def _previous(ctx: Context) -> dict[str, _Previous]:
    """The Outreach tab as read: each draft's row by Draft ID, with the owner's
    Status read as approve / skip / sent (anything else is a finding)."""
    table = ctx.workbook.tab(TAB)
    if table is None:
        return {}
    pos = {h: i for i, h in enumerate(table.headers)}
    if "Draft ID" not in pos:
        return {}
    columns = {h: table.column_number(i) for h, i in pos.items()}
    out: dict[str, _Previous] = {}
    for row in table.rows:
        values = {h: row.get(i) for h, i in pos.items()}
        did = text(values.get("Draft ID"))
        if not did:
            continue
        status = _status(values.get("Status"))
        if status == "?":
            column = table.column_number(pos["Status"])
            ctx.findings.add(
                "outreach-unknown-status",
                Severity.WARNING,
                Location(TAB, row.number, column, "Status"),
                f"'{text(values.get('Status'))}' is not a status sheet-crm knows, so draft {did} is "
                f"treated as not yet decided.",
                "Type approve, skip or sent.",
                value=values.get("Status"),
            )
            status = ""
        out[did] = _Previous(row.number, values, status, columns)
    return out


def _as_datetime(value: Cell) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    t = text(value)
    if not t:
        return None
    try:
        return datetime.fromisoformat(t)
    except ValueError:
        d, _ = parse_date(value)
        return datetime.combine(d, datetime.min.time()) if d else None


def _as_date(value: Cell) -> date | None:
    dt = _as_datetime(value)
    return dt.date() if dt else None


def _kept_draft(did: str, prev: _Previous) -> Draft:
    v = prev.values
    return Draft(
        draft_id=did,
        customer_id=text(v.get("Customer ID")),
        name=text(v.get("Name")),
        trigger=text(v.get("Trigger")),
        channel=parse_channel(v.get("Channel"))[0] or text(v.get("Channel")).lower(),
        to="" if is_blank(v.get("To")) else str(v.get("To")),
        subject="" if is_blank(v.get("Subject")) else str(v.get("Subject")),
        message="" if is_blank(v.get("Message")) else str(v.get("Message")),
        length=text(v.get("Length")),
        send_at=_as_datetime(v.get("Send at")),
        why=text(v.get("Why")),
        status=prev.status,
        notes="" if is_blank(v.get("Notes")) else str(v.get("Notes")),
        logged=_as_date(v.get("Logged")),
        kept=True,
    )


# ---------------------------------------------------------------- template values


# Customer fields templates see by name (internal ones left out).
CUSTOMER_FIELDS = frozenset(CUSTOMER_FIELD_NAMES) - {
    "row",
    "invalid",
    "extra",
    "email_normalized",
    "phone_e164",
    "phone_type",
    "merged_into",
}


class _Values:
    """Builds what a template sees for one customer: every column of the Customers
    tab (owner columns by slug), orders, the last interaction, settings, and the
    trigger's own fields. Blank values are "missing", so a template that uses one
    without a fallback fails instead of writing 'Hi ,'."""

    TRIGGER_FIELDS = (
        "offer",
        "referred_name",
        "referred_full_name",
        "birthday_date",
        "follow_up_date",
        "follow_up_summary",
        "low_score",
        "segment",
    )

    def __init__(self, ctx: Context, triggers: _Triggers) -> None:
        s = ctx.settings
        self.today = ctx.today
        self.triggers = triggers
        sender = s.sender_name or s.business_name
        self.common: dict[str, Any] = {
            "business_name": value_or_missing("business_name", s.business_name),
            "sender_name": value_or_missing("sender_name", sender),
            "sender": value_or_missing("sender", sender),
            "sender_email": value_or_missing("sender_email", s.sender_email),
            "signature": "\n".join(dict.fromkeys(p for p in (s.sender_name, s.business_name) if p)),
            "currency": value_or_missing("currency", s.currency),
            "today": value_or_missing("today", ctx.today),
        }
        segments = ctx.results.get("segments")
        self.memberships = segments.memberships if segments is not None else {}
        self.company_contact = self._company_contacts(ctx)

    @staticmethod
    def _company_contacts(ctx: Context) -> dict[str, str]:
        """Company (folded) -> the given name of its main contact: a row with a
        person's name, preferring Role 'main contact', then 'decision maker'."""
        rank = {"main contact": 0, "decision maker": 1}
        best: dict[str, tuple[int, str]] = {}
        for c in ctx.records.active_customers():
            if not c.company or not c.given_name:
                continue
            r = rank.get(c.role.strip().lower(), 2)
            key = c.company.strip().casefold()
            if key not in best or r < best[key][0]:
                best[key] = (r, c.given_name)
        return {k: v[1] for k, v in best.items()}

    def build(
        self, c: Customer, f: _Facts, cand: Candidate, offer: list[str], needed: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """The values for ``needed`` names (those the template uses; all when None).
        A name that is no field at all is left out: the template then reports it as
        unknown rather than empty."""
        names = self.all_names(c, cand) if needed is None else needed
        values: dict[str, Any] = {}
        for name in names:
            if name in self.common:
                values[name] = self.common[name]
            elif name in cand.values:
                values[name] = value_or_missing(name, cand.values[name])
            elif name == "offer":
                values[name] = value_or_missing("offer", ", ".join(offer))
            elif name in self._computed:
                values[name] = self._computed[name](self, c, f, cand)
            elif name in self.TRIGGER_FIELDS:
                values[name] = empty(name)
            elif name in c.extra:
                value = c.extra[name]
                values[name] = value_or_missing(name, value if isinstance(value, date) else text(value))
            elif name in CUSTOMER_FIELDS:
                values[name] = value_or_missing(name, getattr(c, name))
        return values

    def all_names(self, c: Customer, cand: Candidate) -> list[str]:
        return [*self.common, *cand.values, *self._computed, *self.TRIGGER_FIELDS, *c.extra, *CUSTOMER_FIELDS]

    def _salutation(self, c: Customer, f: _Facts, cand: Candidate) -> Any:
        contact = "" if c.given_name else self.company_contact.get(c.company.strip().casefold(), "")
        return value_or_missing("salutation", salutation(c.given_name, contact))

    def _last_interaction(self, c: Customer, f: _Facts, cand: Candidate) -> Any:
        past = [i for i in f.interactions if i.date is not None and i.date <= self.today]
        if not past:
            return empty("last_interaction")
        i = past[-1]
        return FieldGroup(
            "last_interaction",
            {
                "date": i.date,
                "channel": i.channel,
                "direction": i.direction,
                "summary": i.summary,
                "outcome": i.outcome,
                "satisfaction": i.satisfaction,
            },
        )

    def _days_since(self, day: date | None, name: str) -> Any:
        return (self.today - day).days if day else empty(name)

    _computed: ClassVar[dict[str, Any]] = {
        "name": lambda self, c, f, cand: value_or_missing("name", c.full_name),
        "full_name": lambda self, c, f, cand: value_or_missing("full_name", c.full_name),
        "given_name": lambda self, c, f, cand: value_or_missing("given_name", c.given_name),
        "salutation": _salutation,
        "orders_count": lambda self, c, f, cand: len(f.orders),
        "total_spent": lambda self, c, f, cand: round(sum(o.amount or 0 for o in f.orders), 2),
        "first_order": lambda self, c, f, cand: (
            self._order("first_order", f.orders[0]) if f.orders else empty("first_order")
        ),
        "last_order": lambda self, c, f, cand: (
            self._order("last_order", f.orders[-1]) if f.orders else empty("last_order")
        ),
        "days_since_last_order": lambda self, c, f, cand: self._days_since(
            f.orders[-1].date if f.orders else None, "days_since_last_order"
        ),
        "products": lambda self, c, f, cand: value_or_missing(
            "products", sorted({o.product for o in f.orders if o.product})
        ),
        "tier": lambda self, c, f, cand: value_or_missing("tier", self.triggers.tier.get(c.key, "")),
        "segments": lambda self, c, f, cand: value_or_missing(
            "segments", [m.segment for m in self.memberships.get(c.key, [])]
        ),
        "last_interaction": _last_interaction,
        "days_since_last_contact": lambda self, c, f, cand: self._days_since(
            f.last_contact, "days_since_last_contact"
        ),
        "trigger": lambda self, c, f, cand: cand.label,
    }

    @staticmethod
    def _order(label: str, o: Order) -> FieldGroup:
        return FieldGroup(
            label,
            {
                "order_id": o.order_id,
                "date": o.date,
                "amount": o.amount,
                "product": o.product,
                "quantity": o.quantity,
                **{k: (text(v) if not isinstance(v, date) else v) for k, v in o.extra.items()},
            },
        )


# ---------------------------------------------------------------- the step


class _FieldFindings:
    """Findings for templates that cannot be filled in: one per customer for a blank
    field (up to MAX_FIELD_FINDINGS per template cell and field, then a count), one
    per template cell for an unknown field or broken template."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.per_key: dict[tuple[str, str], int] = {}
        self.once: set[tuple[str, str]] = set()
        self.first_loc: dict[tuple[str, str], tuple[Location, str]] = {}

    def syntax(self, t: TemplateText, part: str, problem: TemplateProblem) -> None:
        key = (t.where(part), "syntax")
        if key in self.once:
            return
        self.once.add(key)
        self.ctx.findings.add(
            "template-syntax",
            Severity.ERROR,
            t.location(part),
            f"The '{t.name}' {t.channel} template: {problem.problem} No drafts are made from it.",
            problem.fix,
            value=(t.subject_src if part == "subject" else t.body_src)[:200],
        )

    def subject_line_break(self, t: TemplateText, c: Customer) -> None:
        key = (t.where("subject"), "line break")
        if key in self.once:
            return
        self.once.add(key)
        self.ctx.findings.add(
            "template-subject-line-break",
            Severity.WARNING,
            t.location("subject"),
            f"The '{t.name}' email template makes a subject with a line break (first customer: "
            f"{c.display_name}, {c.key}); an email subject is one line, so its lines are joined "
            "with a space.",
            "Remove the line break (Alt+Enter) from the Subject cell, or the field in it that has one.",
            value=t.subject_src[:200],
            customer_id=c.key,
        )

    def problem(self, t: TemplateText, part: str, p: RenderProblem, c: Customer) -> None:
        loc = t.location(part)
        src = f"{{{{ {p.field} }}}}"
        if p.field and p.empty:
            key = (loc.cell, p.field)
            n = self.per_key.get(key, 0) + 1
            self.per_key[key] = n
            self.first_loc[key] = (loc, t.name)
            if n > MAX_FIELD_FINDINGS:
                return
            header = _field_words(self.ctx, p.field)
            self.ctx.findings.add(
                "template-field-empty",
                Severity.WARNING,
                loc,
                f"The '{t.name}' {t.channel} template uses {src} with no fallback, and "
                f"{c.display_name} ({c.key}) has no {header}, so no draft was made for them.",
                f"Fill in their {header} (Customers row {c.row}), or give the field a fallback in the "
                f'template: {{{{ {p.field} | default("...") }}}}.',
                value=src,
                customer_id=c.key,
            )
            return
        key = (loc.cell, p.field or p.problem)
        if key in self.once:
            return
        self.once.add(key)
        if p.field:
            names = sorted(k for k in self._known_fields(c) if not k.startswith("_"))
            close = difflib.get_close_matches(p.field, names, n=1)
            hint = f"Did you mean {{{{ {close[0]} }}}}? " if close else ""
            self.ctx.findings.add(
                "template-field-unknown",
                Severity.ERROR,
                loc,
                f"The '{t.name}' {t.channel} template uses {src}, which is not a field sheet-crm knows, "
                f"so no drafts are made from it (first customer affected: {c.display_name}, {c.key}).",
                f"{hint}Fields are the Customers columns in lower case with underscores, "
                f"such as {{{{ first_name }}}}, {{{{ last_order.product }}}}, {{{{ business_name }}}}.",
                value=src,
                customer_id=c.key,
            )
        elif p.over_limit:
            self.ctx.findings.add(
                "template-over-limit",
                Severity.ERROR,
                loc,
                f"The '{t.name}' {t.channel} template asks for too much: {p.problem}. sheet-crm stopped it, "
                f"so no draft is made from it (first customer affected: {c.display_name}, {c.key}).",
                "Simplify the template: a message needs fields, fallbacks, filters and {% if %} blocks, "
                "not long loops, huge widths or huge numbers.",
                value=(t.subject_src if part == "subject" else t.body_src)[:200],
                customer_id=c.key,
            )
        else:
            self.ctx.findings.add(
                "template-failed",
                Severity.ERROR,
                loc,
                f"The '{t.name}' {t.channel} template cannot be filled in: {p.problem} "
                f"(first customer affected: {c.display_name}, {c.key}).",
                "Simplify the template; only fields, fallbacks, filters and {% if %} blocks are needed.",
                customer_id=c.key,
            )

    def _known_fields(self, c: Customer) -> list[str]:
        return [
            *CUSTOMER_FIELD_NAMES,
            *c.extra,
            *_Values.TRIGGER_FIELDS,
            "last_order",
            "salutation",
            "business_name",
            "sender_name",
            "days_since_last_order",
            "last_interaction",
        ]

    def finish(self) -> None:
        for key, n in self.per_key.items():
            if n > MAX_FIELD_FINDINGS:
                loc, name = self.first_loc[key]
                self.ctx.findings.add(
                    "template-field-empty",
                    Severity.WARNING,
                    loc,
                    f"... and {n - MAX_FIELD_FINDINGS:,} more customers have no "
                    f"{_field_words(self.ctx, key[1])} for the '{name}' template, so no drafts were made "
                    f"for them.",
                    f'Give the field a fallback: {{{{ {key[1]} | default("...") }}}}.',
                    value=f"{{{{ {key[1]} }}}}",
                )


def _field_words(ctx: Context, fieldname: str) -> str:
    """A field as the owner knows it: the Customers header for a column."""
    table = ctx.records.tables.get("Customers")
    top = fieldname.split(".")[0]
    if table is not None and top in table.fields:
        return table.headers[table.fields[top]]
    return fieldname.replace("_", " ").replace(".", " ")


def _local_now(ctx: Context) -> datetime:
    now = ctx.now
    if now.tzinfo is None:
        return now
    try:
        zone = ZoneInfo(ctx.settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return now.astimezone(zone).replace(tzinfo=None)


def run(ctx: Context) -> StepOutput:
    """Draft outreach: see the module docstring for who gets a draft and why."""
    with paused_gc():
        return _run(ctx)


def _run(ctx: Context) -> StepOutput:
    s = ctx.settings
    today = ctx.today
    now = _local_now(ctx)
    if now.date() != today:  # `today` rules: a test or --today may set it apart from the clock
        now = datetime.combine(today, now.time())
    quiet = parse_quiet_hours(s.quiet_hours)
    if quiet is None:
        ctx.findings.add(
            "bad-quiet-hours",
            Severity.WARNING,
            Location("Settings"),
            f"The quiet hours '{s.quiet_hours}' cannot be read, so 20:00-09:00 is used.",
            "Type the quiet hours like 20:00-09:00.",
            value=s.quiet_hours,
        )
        quiet = (20 * 60, 9 * 60)
    facts = _gather(ctx)
    previous = _previous(ctx)
    interactions_table = ctx.records.tables.get("Interactions")

    # Drafts already sent: logged in Interactions, or marked sent in the tab.
    sent_ids: dict[str, date] = {}
    for i in ctx.records.interactions:
        for did in SENT_RE.findall(i.summary):
            sent_ids.setdefault(did, i.date or today)

    drafts: list[Draft] = []
    appends: list[RowAppend] = []
    pending: dict[str, str] = {}  # customer key -> approved draft waiting to go out
    keep_sent_days = max(30, s.contact_frequency_days)
    customers_by_key = {c.key: c for c in ctx.records.customers}
    logged_now = 0
    for did, prev in previous.items():
        if prev.status not in ("approve", "sent"):
            continue
        d = _kept_draft(did, prev)
        c = ctx.records.find(d.customer_id) if d.customer_id else None
        if prev.status == "approve":
            if c is None:
                d.blocked = "the customer is no longer in the Customers tab"
            elif c.do_not_contact or "do_not_contact" in c.invalid:
                d.blocked = "the customer is now marked Do not contact"
            elif c.key != d.customer_id and customers_by_key.get(d.customer_id) is not None:
                d.blocked = f"the customer was merged into {c.key}"
            if not d.blocked:
                pending[c.key] = did  # type: ignore[union-attr]  # fixing the row sends it; no second draft
                unusable = export_problem(d)
                if unusable is not None:
                    d.blocked = unusable.reason
                    _unexportable_finding(ctx, prev, d, unusable)
            if d.blocked:
                d.why = _append_note(d.why, f"Not exported: {d.blocked}.")
            drafts.append(d)
            continue
        # Sent: log it in Interactions once, then keep the row a while.
        sent_on = d.send_at.date() if d.send_at and d.send_at.date() <= today else today
        if d.logged is None and did in sent_ids:
            d.logged = sent_ids[did]
        if d.logged is None:
            append = _log_sent(ctx, interactions_table, d, c, sent_on)
            if append is not None:
                appends.append(append)
                d.logged = today
                logged_now += 1
                sent_ids[did] = sent_on
                if c is not None:
                    facts.setdefault(c.key, _Facts()).contacts.append(sent_on)
        elif (today - d.logged).days > keep_sent_days:
            continue  # logged long ago; Interactions has it
        if did not in sent_ids:
            sent_ids[did] = sent_on
        drafts.append(d)

    _check_sender(ctx, drafts)
    owner_templates = _read_templates(ctx)
    templates = _Templates(owner_templates)
    triggers = _Triggers(ctx, facts)
    values = _Values(ctx, triggers)
    channels = _Channels(ctx)
    problems = _FieldFindings(ctx)
    send_cache: dict[str, tuple[datetime | None, str, bool]] = {}
    send_texts: dict[str, tuple[datetime | None, str, bool, str]] = {}  # Best time cell -> the same
    sms_lengths: dict[str, str] = {}  # message -> its Length text
    orders: dict[str, tuple[str, ...]] = {}  # preferred channel -> channels in the order tried
    missing_segment_templates: set[str] = set()
    skipped: list[Skip] = []
    merged = sum(1 for c in ctx.records.customers if c.merged_into)

    cap = s.contact_frequency_days
    for c in ctx.records.active_customers():
        key = c.key
        cands = triggers.for_customer(c, key)
        if not cands:
            continue
        full_name = c.full_name
        name = full_name or c.company or c.email or key  # c.display_name
        if c.do_not_contact or "do_not_contact" in c.invalid:
            unreadable = "do_not_contact" in c.invalid
            why = "the Do not contact cell cannot be read" if unreadable else "marked Do not contact"
            skipped.append(Skip(key, name, f"{why} (due: {_labels(cands)})", "do_not_contact"))
            continue
        if key in pending:
            skipped.append(
                Skip(key, name, f"an approved draft ({pending[key]}) is waiting to be sent", "pending")
            )
            continue
        f = facts.get(key) or _EMPTY_FACTS
        last_contact = f.last_contact
        capped = last_contact is not None and cap > 0 and (today - last_contact).days < cap
        left_out: list[str] = []
        usable: list[Candidate] = []
        ids: dict[int, str] = {}  # id(candidate) -> draft ID, worked out once
        for cand in cands:
            if sent_ids:  # with nothing sent yet, an ID is only needed for the draft made
                did = ids[id(cand)] = draft_id(key, _trigger_key(cand), cand.period)
                if did in sent_ids:
                    left_out.append(f"{cand.label.lower()} (draft {did} already sent)")
                    continue
            if capped and cand.trigger not in ANSWERS:
                left_out.append(f"{cand.label.lower()} (contacted on {last_contact.isoformat()})")  # type: ignore[union-attr]
                continue
            usable.append(cand)
        if not usable:
            kind = "capped" if capped else "already_sent"
            reason = (
                f"contacted on {last_contact.isoformat()}, within the {cap}-day frequency cap"  # type: ignore[union-attr]
                if capped
                else "the draft for this was already sent"
            )
            skipped.append(Skip(c.key, name, f"{reason} (due: {_labels(cands)})", kind))
            continue
        made: Draft | None = None
        failed = False
        no_channel: list[str] = []
        for n, cand in enumerate(usable):
            if cand.trigger == "segment" and not templates.known(cand.template):
                if cand.template.casefold() not in missing_segment_templates:
                    missing_segment_templates.add(cand.template.casefold())
                    _missing_template_finding(ctx, cand)
                left_out.append(f"{cand.label.lower()} (no template '{cand.template}')")
                continue
            chosen = _choose_channel(c, cand, templates, channels, orders)
            if chosen is None:
                no_channel.append(cand.label.lower())
                continue
            channel, reach, tmpl, source_note, channel_note = chosen
            bought = [p for p in tmpl.offer if p.strip().casefold() in f.products] if tmpl.offer else None
            if bought:
                left_out.append(
                    f"{cand.label.lower()} (the '{tmpl.name}' template offers {', '.join(bought)}, "
                    f"which they already bought)"
                )
                continue
            vals = values.build(c, f, cand, tmpl.offer, tmpl.needs(channel))
            subject = ""
            if channel == "email":
                subject_out = _render_part(problems, tmpl, "subject", vals, c)
                if subject_out is None:
                    failed = True
                    break
                subject = one_line(subject_out)
                if subject != subject_out:
                    problems.subject_line_break(tmpl, c)
            body = _render_part(problems, tmpl, "body", vals, c)
            if body is None:
                failed = True
                break
            did = ids.get(id(cand)) or draft_id(key, _trigger_key(cand), cand.period)
            send_at, send_note = _send_time(ctx, c, channel, now, quiet, send_cache, send_texts)
            length = ""
            if channel == "sms":
                length = sms_lengths.get(body, "")
                if not length:
                    length = sms_lengths[body] = sms_length(body).describe()
            others = [o.label.lower() for o in usable[n + 1 :]]
            why = _why(cand, channel, channel_note, tmpl, source_note, others, left_out, send_note)
            prev = previous.get(did) if previous else None
            made = Draft(
                did,
                key,
                name,
                cand.label,
                channel,
                reach.to,
                subject,
                body,
                length,
                send_at,
                why,
                status=prev.status if prev else "",
                notes="" if prev is None or is_blank(prev.values.get("Notes")) else str(prev.values["Notes"]),
                to_name=full_name or c.company,
            )
            break
        if made is not None:
            drafts.append(made)
            continue
        if failed:
            skipped.append(Skip(c.key, name, "the template cannot be filled in (see Issues)", "template"))
        elif no_channel:
            reasons = "; ".join(
                f"{CHANNEL_WORDS[ch]}: {channels.reach(c, ch).why_not}" for ch in _Channels.order(c)
            )
            skipped.append(Skip(c.key, name, f"no channel they agreed to ({reasons})", "no_channel"))
            ctx.findings.add(
                "outreach-no-channel",
                Severity.INFO,
                ctx.records.tables["Customers"].location(c.row)
                if "Customers" in ctx.records.tables
                else Location("Customers", c.row),
                f"{name} ({c.key}) is due a draft ({', '.join(no_channel)}) but cannot be reached: "
                f"{reasons}.",
                "Record their consent (Email opt-in / SMS opt-in), a phone number or an address, "
                "if they agree.",
                customer_id=c.key,
            )
        else:
            skipped.append(Skip(c.key, name, "; ".join(left_out) or "nothing to send", "offer"))
    problems.finish()

    drafts.sort(key=_sort_key)
    tab = ToolTab(
        TAB,
        HEADERS,
        [d.row() for d in drafts],
        note=(
            "One draft per customer who should hear from you now, and why. Set Status to approve, "
            "skip or sent; `sheet-crm drafts --export DIR` writes approved drafts as files, and sent "
            "drafts are logged in Interactions on the next run."
            + (f" Send times are in {s.timezone}." if s.timezone else "")
        ),
        decision_columns=DECISIONS,
        key_columns=KEY_COLUMNS,
        widths={
            "Draft ID": 13,
            "Customer ID": 12,
            "Name": 20,
            "Trigger": 18,
            "Channel": 8,
            "To": 26,
            "Subject": 30,
            "Message": 60,
            "Length": 22,
            "Send at": 17,
            "Why": 60,
            "Status": 10,
            "Notes": 24,
            "Logged": 11,
        },
    )
    result = OutreachResult(
        drafts,
        skipped,
        s.business_name,
        s.sender_name,
        s.sender_email,
        s.timezone,
        ctx.now,
    )
    new = [d for d in drafts if not d.kept]
    by_channel = {ch: sum(1 for d in new if d.channel == ch) for ch in CHANNELS}
    by_skip: dict[str, int] = {}
    for k in skipped:
        by_skip[k.kind] = by_skip.get(k.kind, 0) + 1
    counts = {
        "drafts": len(new),
        **{f"drafts_{ch}": n for ch, n in by_channel.items()},
        "approved": sum(1 for d in drafts if d.status == "approve"),
        "sent_logged": logged_now,
        "skipped": len(skipped),
        **{f"skipped_{k}": n for k, n in by_skip.items()},
        "merged": merged,
    }
    summary = [
        f"Outreach: {len(new):,} drafts ("
        + ", ".join(f"{n:,} {CHANNEL_WORDS[ch]}" for ch, n in by_channel.items() if n)
        + ")"
        + (f"; {counts['approved']:,} approved drafts kept" if counts["approved"] else "")
        + (f"; {logged_now:,} sent drafts logged in Interactions" if logged_now else "")
        + "."
    ]
    if skipped:
        words = {
            "do_not_contact": "Do not contact",
            "capped": "contacted recently",
            "no_channel": "no channel they agreed to",
            "pending": "an approved draft waiting",
            "template": "template problems",
            "offer": "offer already bought",
            "already_sent": "already sent",
        }
        summary.append(
            f"  {len(skipped):,} customers due a message got no draft: "
            + ", ".join(f"{n:,} {words.get(k, k)}" for k, n in sorted(by_skip.items(), key=lambda kv: -kv[1]))
            + "."
        )
    data = {
        "drafts": [_draft_json(d) for d in drafts],
        "skipped": [_skip_json(k) for k in skipped],
    }
    return StepOutput(tabs=[tab], appends=appends, summary=summary, data=data, result=result, counts=counts)


def _trigger_key(cand: Candidate) -> str:
    return (
        f"segment:{cand.label.split(': ', 1)[-1].casefold()}" if cand.trigger == "segment" else cand.trigger
    )


def _labels(cands: list[Candidate]) -> str:
    return ", ".join(c.label.lower() for c in cands)


def _choose_channel(
    c: Customer,
    cand: Candidate,
    templates: _Templates,
    channels: _Channels,
    orders: dict[str, tuple[str, ...]] | None = None,
) -> tuple[str, _Reach, TemplateText, str, str] | None:
    """The first channel, in the customer's order of preference, they agreed to and
    we have a text for: (channel, address, template, where the text came from, note).
    ``orders`` remembers the order of channels for each preferred channel."""
    refused: list[str] = []
    order = orders.get(c.preferred_channel) if orders is not None else None
    if order is None:
        order = tuple(_Channels.order(c))
        if orders is not None:
            orders[c.preferred_channel] = order
    for channel in order:
        reach = channels.reach(c, channel)
        if not reach.to:
            refused.append(f"{CHANNEL_WORDS[channel]}: {reach.why_not}")
            continue
        tmpl, source_note = templates.find(cand.template, channel)
        if tmpl is None:
            refused.append(f"{CHANNEL_WORDS[channel]}: no '{cand.template}' {channel} template")
            continue
        preferred = c.preferred_channel
        if channel == preferred:
            note = "their preferred channel"
        elif preferred:
            note = f"prefers {CHANNEL_WORDS[preferred]}, but {refused[0].split(': ', 1)[1]}"
        else:
            note = "no preferred channel given" + (f" ({'; '.join(refused)})" if refused else "")
        return channel, reach, tmpl, source_note, note
    return None


def _render_part(
    problems: _FieldFindings, tmpl: TemplateText, part: str, vals: Mapping[str, Any], c: Customer
) -> str | None:
    src = tmpl.subject_src if part == "subject" else tmpl.body_src
    if not src.strip():
        return ""
    compiled = tmpl.compiled(part)
    if isinstance(compiled, TemplateProblem):
        problems.syntax(tmpl, part, compiled)
        return None
    out = tmpl.renderer(part).render(vals)
    if isinstance(out, RenderProblem):
        problems.problem(tmpl, part, out, c)
        return None
    return out


def _send_time(
    ctx: Context,
    c: Customer,
    channel: str,
    now: datetime,
    quiet: tuple[int, int],
    cache: dict[str, tuple[datetime | None, str, bool]],
    by_text: dict[str, tuple[datetime | None, str, bool, str]] | None = None,
) -> tuple[datetime | None, str]:
    """(suggested time, note for Why). Letters have none. Times repeat for the same
    Best time text, so each distinct text is worked out once (``cache``, by the text
    folded; ``by_text`` by the cell as typed, saving the folding); an unreadable one
    is a finding on every customer who has it."""
    if channel == "letter":
        return None, ""
    if by_text is not None:
        known = by_text.get(c.best_time)
        if known is not None:
            when, note, unreadable, raw = known
            if unreadable:
                _unreadable_best_time(ctx, c, raw)
            return when, note
    raw = " ".join(c.best_time.split())
    key = raw.casefold()
    if key not in cache:
        availability = parse_best_time(raw)
        unreadable = availability is None
        note = f"their best time '{raw}'" if raw else ""
        if availability is None:
            availability = ANYTIME
            note = f"their best time '{raw}' is not understood, so the next time outside quiet hours"
        when = next_send_time(availability, now, quiet)
        if when is None:
            note = (
                f"their best time '{raw}' falls in your quiet hours ({ctx.settings.quiet_hours}), "
                f"so the next time outside them"
            )
            when = next_send_time(ANYTIME, now, quiet)
        cache[key] = (when, note, unreadable)
    when, note, unreadable = cache[key]
    if by_text is not None:
        by_text[c.best_time] = (when, note, unreadable, raw)
    if unreadable:
        _unreadable_best_time(ctx, c, raw)
    return when, note


def _unreadable_best_time(ctx: Context, c: Customer, raw: str) -> None:
    """The finding for a Best time text that cannot be read (one per customer)."""
    table = ctx.records.tables.get("Customers")
    loc = table.location(c.row, "best_time") if table is not None else Location("Customers", c.row)
    ctx.findings.add(
        "best-time-unreadable",
        Severity.WARNING,
        loc,
        f"sheet-crm cannot tell when '{raw}' is, so {c.display_name}'s draft is suggested for the "
        f"next time outside quiet hours.",
        "Write it like: mornings, after 5pm, weekends, Tue 2-4pm, evenings, lunchtime or anytime.",
        value=raw,
        customer_id=c.key,
    )


def _why(
    cand: Candidate,
    channel: str,
    channel_note: str,
    tmpl: TemplateText,
    source_note: str,
    others: list[str],
    left_out: list[str],
    send_note: str,
) -> str:
    parts = [f"{cand.label}: {cand.reason}.", f"{_CHANNEL_TITLES[channel]}: {channel_note}."]
    parts.append(tmpl.text_note(source_note))
    if others:
        parts.append(f"Also due: {', '.join(others)}.")
    if left_out:
        parts.append(f"Left out: {'; '.join(left_out)}.")
    if send_note:
        parts.append(f"Send time: {send_note}.")
    return " ".join(parts)


_CHANNEL_TITLES = {ch: f"{word[0].upper()}{word[1:]}" for ch, word in CHANNEL_WORDS.items()}


def _append_note(why: str, note: str) -> str:
    return why if note in why else (f"{why} {note}".strip())


def _missing_template_finding(ctx: Context, cand: Candidate) -> None:
    segments = ctx.results.get("segments")
    seg = (
        segments.segment(cand.label.split(": ", 1)[-1])
        if segments is not None and hasattr(segments, "segment")
        else None
    )
    table = ctx.records.tables.get("Segments")
    if seg is not None and seg.source_row and table is not None:
        loc = table.location(seg.source_row, "template")
    else:
        loc = Location("Segments")
    ctx.findings.add(
        "template-not-found",
        Severity.WARNING,
        loc,
        f"The segment '{cand.label.split(': ', 1)[-1]}' names the template '{cand.template}', "
        f"which is not in the Templates tab, so its members get no draft from it.",
        "Add a row with that Name to the Templates tab, or correct the name.",
        value=cand.template,
    )


def _log_sent(
    ctx: Context, table: Table | None, d: Draft, c: Customer | None, sent_on: date
) -> RowAppend | None:
    """The Interactions row for a draft the owner marked sent, or None (with a
    finding) when there is no Interactions tab to log it in."""
    if table is None or not table.has("date") or not table.has("customer"):
        ctx.findings.add(
            "outreach-cannot-log",
            Severity.WARNING,
            Location("Interactions"),
            f"Draft {d.draft_id} is marked sent, but there is no Interactions tab with Date and Customer "
            f"columns to log it in, so sheet-crm cannot count it as a contact.",
            "Add an Interactions tab with Date, Customer, Channel, Direction and Summary columns.",
            customer_id=d.customer_id,
        )
        return None
    header = {f: table.headers[i] for f, i in table.fields.items()}
    what = d.subject or d.message.split("\n", 1)[0][:60]
    values: dict[str, Cell] = {
        header["date"]: datetime.combine(sent_on, datetime.min.time()),
        header["customer"]: (c.customer_id if c is not None and c.customer_id else d.customer_id),
    }
    if "channel" in header:
        values[header["channel"]] = {"sms": "SMS", "phone": "Phone"}.get(d.channel, d.channel.capitalize())
    if "direction" in header:
        values[header["direction"]] = "out"
    summary = f"Sent draft {d.draft_id}: {what}"
    if "summary" in header:
        values[header["summary"]] = summary
    return RowAppend("Interactions", values, f"draft {d.draft_id} was marked sent in the Outreach tab")


_STATUS_ORDER = {"": 0, "skip": 1, "approve": 2, "sent": 3}


def _sort_key(d: Draft) -> tuple[Any, ...]:
    return (
        _STATUS_ORDER.get(d.status, 0),
        d.send_at or datetime.max,
        d.name.casefold(),
        d.draft_id,
    )


def _skip_json(k: Skip) -> dict[str, Any]:
    """``dataclasses.asdict`` of a Skip, without its deep copy (every field is text)."""
    return {"customer_id": k.customer_id, "name": k.name, "reason": k.reason, "kind": k.kind}


def _draft_json(d: Draft) -> dict[str, Any]:
    return {
        "draft_id": d.draft_id,
        "customer_id": d.customer_id,
        "name": d.name,
        "trigger": d.trigger,
        "channel": d.channel,
        "to": d.to,
        "subject": d.subject,
        "message": d.message,
        "length": d.length,
        "send_at": d.send_at.isoformat() if d.send_at else None,
        "why": d.why,
        "status": d.status,
        "notes": d.notes,
        "logged": d.logged.isoformat() if d.logged else None,
        "blocked": d.blocked,
    }


def export_drafts(result: OutreachResult, export_dir: Path) -> list[Path]:
    """Approved email drafts as .eml files and approved SMS, phone and letter drafts
    as one CSV in ``export_dir``; returns the files written (see ``sheet_crm.export``)."""
    from ..export import export_drafts as _export

    return _export(result, export_dir)


__all__ = [
    "HEADERS",
    "Draft",
    "ExportProblem",
    "OutreachResult",
    "Skip",
    "draft_id",
    "export_drafts",
    "export_problem",
    "run",
]
