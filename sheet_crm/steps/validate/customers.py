"""Validation of the Customers tab: names, contact details, consent, dates and
referrals, one customer at a time, in the order the Issues tab lists them.

The model has read every cell (``model.Problem`` says what was wrong with one); here
problems become findings, and the checks that need more than one cell, another row,
``today`` or the network are made: a birthday in the future, the same email twice,
a preferred channel without consent, a referral loop, an email domain that does not
exist (``--check-domains``). What later steps must not use is returned as fields by
customer index (``Marks``), never written into the records.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from ...model import Customer, Records, problems_of
from ...normalize import case_problem, proper_name, text
from ...workbook import Row, Table
from .report import Marks, Reporter, has_kind, mark

# What each preferred channel needs: (the customer's field, in words), and the opt-in.
_CHANNEL_NEEDS = {
    "email": ("email", "email address"),
    "sms": ("phone", "phone number"),
    "phone": ("phone", "phone number"),
    "letter": ("address", "postal address"),
}
_CHANNEL_CONSENT = {"email": "email_opt_in", "sms": "sms_opt_in"}
_PHONE_CODES = {
    "too-short": "phone-too-short",
    "too-long": "phone-too-long",
    "no-country": "phone-no-country",
}
_PHONE_PROBLEMS = frozenset({"too-short", "too-long", "no-country", "invalid"})


class CustomerChecks:
    """The checks of every customer row. ``records`` carry the Customer IDs given out
    in this run (findings name the customer by them)."""

    def __init__(
        self, rep: Reporter, records: Records, today: date, region: str, check_domains: bool
    ) -> None:
        self.rep = rep
        self.records = records
        self.table: Table = records.tables["Customers"]
        self.today = today
        self.region = region
        self.check_domains = check_domains
        self.marks: Marks = {}

    def run(self) -> Marks:
        table = self.table
        by_row = {row.number: row for row in table.rows}
        seen_email: dict[str, Customer] = {}
        for i, c in enumerate(self.records.customers):
            row = by_row.get(c.row)
            if row is None:
                continue
            # Most rows have no problem at all: the look-ups by field are skipped for them.
            problems = c.problems
            self._names(row, c)
            self._email(row, i, c, seen_email)
            if problems:
                self._country(row, c)
            self._phone(row, c)
            self._consent(row, c)
            self._channel(row, c)
            for fieldname in ("birthday", "customer_since") if problems else ():
                found = problems_of(c, fieldname)
                if found:
                    raw = table.value(row, fieldname)
                    self.rep.date_problems(table, row, fieldname, found, raw, getattr(c, fieldname), c.key)
            if c.birthday is not None and "birthday" not in c.invalid:
                if c.birthday > self.today:
                    mark(self.marks, i, "birthday")
                    self.rep.add(
                        "birthday-future",
                        table.location(row, "birthday"),
                        value=table.value(row, "birthday"),
                        suggestion=c.birthday,
                        customer_id=c.key,
                    )
                elif c.birthday.year < self.today.year - 120:
                    self.rep.add(
                        "birthday-implausible",
                        table.location(row, "birthday"),
                        value=table.value(row, "birthday"),
                        suggestion=c.birthday,
                        customer_id=c.key,
                    )
            if c.customer_since is not None and c.customer_since > self.today:
                self.rep.add(
                    "customer-since-future",
                    table.location(row, "customer_since"),
                    value=table.value(row, "customer_since"),
                    suggestion=c.customer_since,
                    customer_id=c.key,
                )
            if problems:
                self._postcode(row, c)
        return self.marks

    def _names(self, row: Row, c: Customer) -> None:
        table, add = self.table, self.rep.add
        if not (c.first_name or c.last_name or c.name or c.company):
            add(
                "name-missing",
                table.location(row, _first_present(table, "first_name", "name", "last_name")),
                customer_id=c.key,
            )
            return
        for fieldname, value in (("first_name", c.first_name), ("last_name", c.last_name), ("name", c.name)):
            if not value:
                continue
            verdict = _name_verdict(value, fieldname == "last_name")
            if verdict is None:
                continue
            loc = table.location(row, fieldname)
            if verdict[0] == "name-odd-characters":
                add("name-odd-characters", loc, value=value, customer_id=c.key)
            else:
                _, suggestion, case = verdict
                add("name-case", loc, value=value, suggestion=suggestion, case=case, customer_id=c.key)
        if c.first_name and c.last_name and _maybe_swapped(c.first_name, c.last_name):
            add(
                "name-maybe-swapped",
                table.location(row, "first_name"),
                value=c.first_name,
                suggestion=f"{c.last_name} {c.first_name}",
                first=c.first_name,
                last=c.last_name,
                customer_id=c.key,
            )

    def _email(self, row: Row, i: int, c: Customer, seen: dict[str, Customer]) -> None:
        if not c.email:  # blank, or a formula error reported when the tab was read
            return
        table, add = self.table, self.rep.add
        found = problems_of(c, "email")
        raw = table.value(row, "email")
        if found and has_kind(found, "several"):
            add("email-several", table.location(row, "email"), value=raw, customer_id=c.key)
            return
        invalid = has_kind(found, "invalid") if found else None
        if invalid is not None:
            add(
                "email-invalid",
                table.location(row, "email"),
                value=raw,
                reason=invalid.detail.rstrip("."),
                customer_id=c.key,
            )
            return
        address = c.email_normalized
        if self.check_domains:
            problem = domain_problem(address.rpartition("@")[2])
            if problem:
                mark(self.marks, i, "email")
                add(
                    "email-domain-unknown",
                    table.location(row, "email"),
                    value=raw,
                    reason=problem,
                    customer_id=c.key,
                )
                return
        typo = has_kind(found, "typo") if found else None
        if typo is not None:
            add(
                "email-typo",
                table.location(row, "email"),
                value=raw,
                suggestion=typo.suggestion,
                domain=typo.suggestion.rpartition("@")[2],
                customer_id=c.key,
            )
        if found and has_kind(found, "role"):
            add(
                "email-role",
                table.location(row, "email"),
                value=raw,
                local=address.partition("@")[0],
                customer_id=c.key,
            )
        other = seen.get(address)
        if other is None:
            seen[address] = c
        else:
            add(
                "email-duplicate",
                table.location(row, "email"),
                value=raw,
                other_row=other.row,
                other=other.customer_id or other.display_name,
                customer_id=c.key,
            )

    def _country(self, row: Row, c: Customer) -> None:
        if has_kind(problems_of(c, "country"), "unknown"):
            self.rep.add(
                "country-unknown",
                self.table.location(row, "country"),
                value=self.table.value(row, "country"),
                country=self.region or "unknown",
                customer_id=c.key,
            )

    def _phone(self, row: Row, c: Customer) -> None:
        table, add = self.table, self.rep.add
        found = problems_of(c, "phone") if c.problems else ()
        if found:
            raw = table.value(row, "phone")
            as_number = has_kind(found, "as-number")
            if as_number is not None:
                add(
                    "phone-as-number",
                    table.location(row, "phone"),
                    value=raw,
                    suggestion=as_number.suggestion,
                    customer_id=c.key,
                )
            problem = next((p for p in found if p.kind in _PHONE_PROBLEMS), None)
            if problem is not None:
                code = _PHONE_CODES.get(problem.kind, "phone-invalid")
                # A number cell whose reading failed already has its as-number finding;
                # it gets "invalid" only when no reading of it is a possible number.
                if not (as_number is not None and code == "phone-invalid"):
                    loc = table.location(row, "phone")
                    add(code, loc, value=raw, country=problem.detail, customer_id=c.key)
                elif not problem.suggestion:
                    add(
                        "phone-invalid",
                        table.location(row, "phone"),
                        value=raw,
                        country=problem.detail,
                        customer_id=c.key,
                    )
                return
            if has_kind(found, "fictional"):
                add("phone-fictional", table.location(row, "phone"), value=raw, customer_id=c.key)
        if c.phone_type == "landline" and (c.sms_opt_in is True or c.preferred_channel == "sms"):
            why = (
                "The preferred channel is SMS"
                if c.preferred_channel == "sms"
                else "The customer opted in to SMS"
            )
            add(
                "sms-landline",
                table.location(row, "phone"),
                value=table.value(row, "phone"),
                suggestion=None,
                why=why,
                customer_id=c.key,
            )

    def _consent(self, row: Row, c: Customer) -> None:
        table = self.table
        if c.problems:
            for fieldname in ("email_opt_in", "sms_opt_in", "do_not_contact"):
                if has_kind(problems_of(c, fieldname), "unreadable"):
                    reading = "do not contact, to be safe" if fieldname == "do_not_contact" else "no consent"
                    self.rep.add(
                        "consent-unreadable",
                        table.location(row, fieldname),
                        value=table.value(row, fieldname),
                        reading=reading,
                        customer_id=c.key,
                    )
        if c.do_not_contact and "do_not_contact" not in c.invalid:
            optins = [w for w, v in (("email opt-in", c.email_opt_in), ("SMS opt-in", c.sms_opt_in)) if v]
            if optins:
                self.rep.add(
                    "dnc-with-opt-in",
                    table.location(row, "do_not_contact"),
                    value=table.value(row, "do_not_contact"),
                    optins=" and ".join(optins),
                    customer_id=c.key,
                )

    def _channel(self, row: Row, c: Customer) -> None:
        table, add = self.table, self.rep.add
        channel = c.preferred_channel
        if not channel:
            if c.problems and has_kind(problems_of(c, "preferred_channel"), "unknown"):
                raw = table.value(row, "preferred_channel")
                add("channel-unknown", table.location(row, "preferred_channel"), value=raw, customer_id=c.key)
            return
        raw = table.value(row, "preferred_channel")
        attr, needed = _CHANNEL_NEEDS[channel]
        if not getattr(c, attr):
            add(
                "channel-no-address",
                table.location(row, "preferred_channel"),
                value=raw,
                channel=text(raw),
                needed=needed,
                customer_id=c.key,
            )
            return
        consent = _CHANNEL_CONSENT.get(channel)
        if consent and table.has(consent) and getattr(c, consent) is not True and consent not in c.invalid:
            add(
                "channel-no-consent",
                table.location(row, "preferred_channel"),
                value=raw,
                channel=text(raw),
                column=table.headers[table.fields[consent]],
                customer_id=c.key,
            )

    def _postcode(self, row: Row, c: Customer) -> None:
        for p in problems_of(c, "postcode"):
            raw = self.table.value(row, "postcode")
            if p.kind == "lost-zero":
                self.rep.add(
                    "postcode-lost-zero",
                    self.table.location(row, "postcode"),
                    value=raw,
                    suggestion=p.suggestion,
                    customer_id=c.key,
                )
            elif p.kind == "as-number":
                self.rep.add(
                    "postcode-as-number",
                    self.table.location(row, "postcode"),
                    value=raw,
                    country=p.detail,
                    customer_id=c.key,
                )


# ---------------------------------------------------------------- referrals


def check_referrals(rep: Reporter, records: Records, marks: Marks) -> None:
    """Referrers that match nobody or several customers, and referral loops; the
    Referred by of each is marked unusable so referral counts leave it alone."""
    table = records.tables["Customers"]
    if not table.has("referred_by"):
        return
    customers = records.customers
    by_name: dict[str, list[Customer]] = {}
    for c in customers:
        if c.full_name:
            by_name.setdefault(c.full_name.casefold(), []).append(c)
    position = {id(c): i for i, c in enumerate(customers)}
    referrer: dict[int, Customer] = {}  # id(customer) -> the customer who referred them
    for i, c in enumerate(customers):
        ref = c.referred_by.strip()
        if not ref:
            continue
        target = records.find(ref)
        if target is None:
            named = by_name.get(" ".join(ref.split()).casefold(), [])
            if len(named) > 1:
                rep.add(
                    "referrer-ambiguous",
                    table.location(c.row, "referred_by"),
                    value=ref,
                    count=len(named),
                    customer_id=c.key,
                )
                continue
            target = named[0] if named else None
        if target is None:
            mark(marks, i, "referred_by")
            rep.add("referrer-unknown", table.location(c.row, "referred_by"), value=ref, customer_id=c.key)
            continue
        referrer[id(c)] = target
    # Each customer has at most one referrer, so a loop is a cycle in a chain.
    done: set[int] = set()
    for c in customers:
        path: list[Customer] = []
        on_path: dict[int, int] = {}
        node: Customer | None = c
        while node is not None and id(node) not in done and id(node) not in on_path:
            on_path[id(node)] = len(path)
            path.append(node)
            node = referrer.get(id(node))
        if node is not None and id(node) in on_path:
            loop = path[on_path[id(node)] :]
            for member in loop:
                if id(member) in position:
                    mark(marks, position[id(member)], "referred_by")
            start = min(loop, key=lambda m: m.row)
            k = loop.index(start)
            ordered = loop[k:] + loop[:k]
            chain = " -> ".join(_who(m) for m in [*ordered, start])
            rep.add(
                "referral-loop",
                table.location(start.row, "referred_by"),
                value=start.referred_by,
                chain=chain,
                customer_id=start.key,
            )
        done.update(id(p) for p in path)


# ---------------------------------------------------------------- small pieces


def _first_present(table: Table, *fieldnames: str) -> str | None:
    return next((f for f in fieldnames if table.has(f)), None)


@lru_cache(maxsize=1 << 17)
def _name_verdict(value: str, family: bool) -> tuple[str, str, str] | None:
    """(code, suggestion, case) of what is wrong with one name, or None; cached, since
    a sheet repeats its first names (and many family names) thousands of times."""
    if any(ch.isdigit() for ch in value) or "@" in value:
        return "name-odd-characters", "", ""
    if case_problem(value):
        suggestion = proper_name(value, family=family)
        if suggestion != value:
            return "name-case", suggestion, "capitals" if value.upper() == value else "lower case"
    return None


@lru_cache(maxsize=1 << 17)
def _maybe_swapped(first_name: str, last_name: str) -> bool:
    """A family name typed as the first name and a given name as the last ("Smith, John")."""
    first, last = first_name.casefold(), last_name.casefold()
    if not (first and last) or " " in first or " " in last:
        return False
    return first.replace("'", "") in COMMON_SURNAMES and last in given_names() and last not in COMMON_SURNAMES


def _who(c: Customer) -> str:
    name = c.display_name
    return f"{name} ({c.customer_id})" if c.customer_id and c.customer_id != name else name


def _who(c: Customer) -> str:
    name = c.display_name
    return f"{name} ({c.customer_id})" if c.customer_id and c.customer_id != name else name


@lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    """Given names (lower case) from the ``nicknames`` package's name list."""
    import nicknames

    names: set[str] = set()
    for triplet in nicknames.name_triplets():
        names.add(triplet.name1)
        names.add(triplet.name2)
    return frozenset(names)


# Common family names that are rarely given names (Kelly, Ryan, Morris ... are left
# out); with given_names() this spots "Smith, John" typed as first name Smith, last
# name John. The nicknames list has a few of these too (smith -> smitty), so it is not
# asked about the first name.
COMMON_SURNAMES = frozenset(
    {
        "smith",
        "jones",
        "williams",
        "brown",
        "taylor",
        "davies",
        "evans",
        "wilson",
        "johnson",
        "roberts",
        "robinson",
        "wright",
        "wood",
        "thompson",
        "walker",
        "white",
        "hughes",
        "green",
        "hall",
        "edwards",
        "clarke",
        "clark",
        "harris",
        "patel",
        "khan",
        "baker",
        "turner",
        "hill",
        "ward",
        "moore",
        "young",
        "anderson",
        "phillips",
        "campbell",
        "bell",
        "murphy",
        "miller",
        "davis",
        "garcia",
        "rodriguez",
        "martinez",
        "hernandez",
        "lopez",
        "gonzalez",
        "perez",
        "sanchez",
        "ramirez",
        "torres",
        "nguyen",
        "park",
        "chen",
        "wang",
        "zhang",
        "liu",
        "muller",
        "mueller",
        "schmidt",
        "schneider",
        "fischer",
        "weber",
        "meyer",
        "wagner",
        "becker",
        "schulz",
        "hoffmann",
        "dubois",
        "durand",
        "moreau",
        "rossi",
        "russo",
        "ferrari",
        "esposito",
        "bianchi",
        "romano",
        "jansen",
        "bakker",
        "visser",
        "smit",
        "walsh",
        "byrne",
        "obrien",
        "oconnor",
        "mccarthy",
        "macdonald",
        "robertson",
        "watson",
        "morrison",
        "thomson",
        "richardson",
        "cox",
        "wilkinson",
        "chapman",
        "shaw",
        "fletcher",
        "butler",
        "simpson",
        "lloyd",
    }
)


@lru_cache(maxsize=1 << 12)
def domain_problem(domain: str) -> str:
    """Why mail to ``domain`` cannot be delivered (DNS lookup through email-validator),
    or ``""``. Only with ``--check-domains``: it needs the network."""
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email("postmaster@" + domain, check_deliverability=True)
    except EmailNotValidError as exc:
        return str(exc)
    return ""
