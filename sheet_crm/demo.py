"""A realistic demo workbook: the shop template filled with invented customers who
have the problems real sheets have.

Everything is drawn from one ``random.Random(seed)``, so the same seed and ``today``
give the same workbook. All data is fictional: people are made up from common
names, emails use the reserved example.com/.org/.net domains (plus misspelt mail
domains, and gmail.com for the dot-variant duplicate the dedupe step must catch),
phone numbers come from Ofcom's ranges reserved for drama (07700 900xxx,
020 7946 0xxx, 0113 496 0xxx, ...) and the US 555-01xx range.

What is planted on purpose (``PLANTED`` lists it, tests check each):

- emails with typo domains (gmial.com, hotmial.com, gmail.con, yaho.com) and invalid ones;
- phones in five formats, one stored as a number that lost its leading zero;
- missing consent, Do not contact, unknown channel words;
- birthdays and dates typed as text in mixed formats, Excel serial numbers;
- trailing spaces, ALL CAPS and all-lower names;
- the same person twice (a nickname such as Bob/Robert, another email format, a
  Gmail dot variant), a referral chain, several contacts at one company;
- blank Customer IDs; three years of orders with heavy-tailed spend, repeat buyers,
  a refund, amounts typed as text, an order for a customer who does not exist;
- interactions with satisfaction scores and follow-up dates, some recent enough to
  trigger service recovery, birthdays and thank-you drafts.
"""

from __future__ import annotations

import itertools
import random
import tomllib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

from .errors import UsageError
from .starter import example_rows, load_template, write_workbook
from .workbook import Cell

DEMO_TEMPLATE = "shop"
DEMO_MARK = "sheet-crm demo workbook"
YEARS = 3


def _word_lists(name: str) -> dict[str, Any]:
    """One of the demo's word-list files in ``sheet_crm/data/`` (names, places, shop)."""
    text = files("sheet_crm").joinpath(f"data/demo_{name}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _rows(items: list[list[Any]]) -> tuple[tuple[Any, ...], ...]:
    return tuple(tuple(item) for item in items)


# The word lists, read once when the demo is first imported; the files say what each
# list is for. What stays here are the generator's own choices: how often each way of
# typing a value or each planted mistake comes up (a repeated item is a likelier pick).
_NAMES, _PLACES, _SHOP = _word_lists("names"), _word_lists("places"), _word_lists("shop")
FIRST_NAMES: tuple[str, ...] = tuple(_NAMES["first_names"])
LAST_NAMES: tuple[str, ...] = tuple(_NAMES["last_names"])
NICKNAMES: tuple[tuple[str, str], ...] = _rows(_NAMES["nicknames"])  # formal name, nickname
NAME_STARTS: tuple[str, ...] = tuple(_NAMES["name_starts"])  # made-up surnames: a start + an end
NAME_ENDS: tuple[str, ...] = tuple(_NAMES["name_ends"])
STREETS: tuple[str, ...] = tuple(_PLACES["streets"])
STREET_KINDS: tuple[str, ...] = tuple(_PLACES["street_kinds"])
# City, postcode area, and the Ofcom drama range for its landlines (prefix + 0xxx).
CITIES: tuple[tuple[str, str, str], ...] = _rows(_PLACES["cities"])
US_CITIES: tuple[tuple[str, str, str], ...] = _rows(_PLACES["us_cities"])  # city, state, ZIP start
PREFERENCES: tuple[str, ...] = tuple(_SHOP["preferences"])
TAGS: tuple[str, ...] = tuple(_SHOP["tags"])
CATEGORIES: tuple[str, ...] = tuple(_SHOP["categories"])
PRODUCTS: dict[str, tuple[tuple[str, float], ...]] = {
    category: _rows(items) for category, items in _SHOP["products"].items()
}
B2B_PRODUCTS: tuple[tuple[str, float], ...] = _rows(_SHOP["b2b_products"])
COMPANIES: tuple[str, ...] = tuple(_SHOP["companies"])
JOBS: tuple[tuple[str, str], ...] = _rows(_SHOP["jobs"])  # job title, role
SUMMARIES: dict[str, tuple[str, ...]] = {mood: tuple(words) for mood, words in _SHOP["summaries"].items()}
OUTCOMES: dict[str, tuple[str, ...]] = {mood: tuple(words) for mood, words in _SHOP["outcomes"].items()}

TOWNS = {city for city, _area, _line in CITIES}
MOBILE_PREFIX = "07700 900"
COUNTRY_SPELLINGS = ("GB", "GB", "GB", "United Kingdom", "UK", "", "", "England", "gb")
DOMAINS = ("example.com", "example.com", "example.org", "example.net")
TYPO_DOMAINS = ("gmial.com", "hotmial.com", "gmail.con", "yaho.com")
BAD_EMAILS: tuple[Callable[[str, str], str], ...] = (
    lambda f, last: f"{f}.{last}@",
    lambda f, last: f"{f} {last}@example.com",
    lambda f, last: f"{f}.{last}@@example.org",
    lambda f, last: f"{f}.{last}.example.net",
    lambda f, last: "n/a",
)
CHANNEL_WORDS = ("Email", "Email", "email", "E-mail", "SMS", "text", "Phone", "phone", "Letter", None)
BEST_TIMES = ("mornings", "after 5pm", "weekends", "Tue 2-4pm", "lunchtime", "anytime", "evenings", None)


def name_pools(n: int) -> tuple[list[str], list[str], list[str]]:
    """First names, surnames and streets for ``n`` customers. Up to 1,200 customers the
    short lists above (so small demos stay as they were); above that, made-up surnames
    (about one per 20 customers, up to 2,000 more) and streets (one per 80 customers, up
    to 2,500 more) join them. First names stay the common 58: real first names are
    concentrated too."""
    made_names = sorted({a + b for a in NAME_STARTS for b in NAME_ENDS} - set(LAST_NAMES))
    made_streets = [f"{a}{b} {kind}" for kind in STREET_KINDS for a in NAME_STARTS for b in NAME_ENDS[:5]]
    extra_last = min(len(made_names), max(0, n // 20 - len(LAST_NAMES)))
    extra_streets = min(len(made_streets), max(0, n // 80 - len(STREETS)))
    # Spread the picks over the whole made-up list (not just its first letters).
    last = list(LAST_NAMES) + made_names[:: max(1, len(made_names) // max(extra_last, 1))][:extra_last]
    streets = (
        list(STREETS) + made_streets[:: max(1, len(made_streets) // max(extra_streets, 1))][:extra_streets]
    )
    return list(FIRST_NAMES), last, streets


# The planted problems, by the name tests and the README use.
PLANTED = (
    "typo email domain",
    "invalid email",
    "phone formats",
    "phone stored as a number",
    "missing consent",
    "text dates",
    "trailing spaces",
    "ALL CAPS name",
    "nickname duplicate",
    "email format duplicate",
    "gmail dot duplicate",
    "referral chain",
    "company contacts",
    "blank customer ID",
    "refund",
    "order for unknown customer",
)


@dataclass
class DemoData:
    """The generated tabs as rows keyed by header, plus what was planted where."""

    customers: list[dict[str, Cell]]
    orders: list[dict[str, Cell]]
    interactions: list[dict[str, Cell]]
    planted: dict[str, list[str]] = field(default_factory=dict)  # problem -> customer IDs/emails


def write_demo(path: Path, *, customers: int = 200, seed: int = 7, today: date) -> Path:
    """Write the demo workbook to ``path`` (replacing an earlier demo there, never
    another file) and return its path."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        path = path.with_suffix(".xlsx") if not path.suffix else path
    if path.exists() and not _is_demo(path):
        raise UsageError(
            f"{path} already exists and is not a sheet-crm demo workbook; it was left as it is.",
            "Give the demo another file name, for example demo/sheet-crm-demo.xlsx.",
        )
    if customers < 1:
        raise UsageError("The demo needs at least one customer.", "Use --customers 10 or more.")
    spec = load_template(DEMO_TEMPLATE)
    spec = spec.model_copy(
        update={
            "title": f"Demo: {spec.title}",
            "description": (
                f"{customers} invented customers of an invented shop, with the mistakes real sheets "
                f"have (typos, duplicates, text dates...) planted on purpose. Seed {seed}; made for "
                f"{today.isoformat()}. Every name, email and phone number here is fictional."
            ),
        }
    )
    data = generate(customers, seed=seed, today=today)
    rows: dict[str, list[list[Cell]]] = example_rows(spec)
    for tab, records in (
        ("Customers", data.customers),
        ("Orders", data.orders),
        ("Interactions", data.interactions),
    ):
        headers = spec.tab(tab).headers  # type: ignore[union-attr]
        rows[tab] = [[r.get(h) for h in headers] for r in records]
    settings = spec.tab("Settings")
    if settings is not None:
        for line in rows[settings.name]:
            if line[0] == "Business name":
                line[1] = "Corner Coffee & Books (demo)"
    return write_workbook(spec, path, rows, overwrite=True, title=DEMO_MARK)


def _is_demo(path: Path) -> bool:
    """Whether ``path`` is a workbook an earlier ``write_demo`` made (so it may be replaced)."""
    try:
        with zipfile.ZipFile(path) as z:
            return DEMO_MARK.encode() in z.read("docProps/core.xml")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False


# ---------------------------------------------------------------- generation


class _Gen:
    """One generation run: the random source, today's date, and the pools numbers and
    emails are drawn from without repeats (two people sharing a phone would be a
    duplicate we did not mean to plant)."""

    def __init__(self, seed: int, today: date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.start = today - timedelta(days=365 * YEARS)
        self.emails: set[str] = set()
        self.pools: dict[str, list[int]] = {}
        self.first_names, self.last_names, self.streets = name_pools(0)
        self.us_phones: set[str] = set()

    def pick(self, items: Any) -> Any:
        # random() is several times cheaper than randrange() and just as reproducible.
        return items[int(self.rng.random() * len(items))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def number(self, prefix: str) -> str | None:
        """A fresh drama-range number 'prefix' + 4 digits (or 3 for the mobile range)."""
        pool = self.pools.get(prefix)
        if pool is None:
            pool = list(range(1000))
            self.rng.shuffle(pool)
            self.pools[prefix] = pool
        if not pool:
            return None
        n = pool.pop()
        return f"{prefix}{n:03d}" if prefix == MOBILE_PREFIX else f"{prefix}0{n:03d}"

    def email(self, first: str, last: str, domain: str | None = None) -> str:
        base = self.pick(
            (
                f"{first}.{last}",
                f"{first}{last}",
                f"{first[0]}{last}",
                f"{first}_{last}",
                f"{first}.{last}{self.rng.randint(1, 99)}",
            )
        )
        base = "".join(ch for ch in base.lower() if ch.isalnum() or ch in "._")
        domain = domain or self.pick(DOMAINS)
        address, n = f"{base}@{domain}", 1
        while address in self.emails:
            n += 1
            address = f"{base}{n}@{domain}"
        self.emails.add(address)
        return address

    def day(self, first: date, last: date) -> date:
        span = (last - first).days
        return first + timedelta(days=self.rng.randint(0, max(span, 0)))


def _phone_formats(national: str) -> list[Cell]:
    """One UK number in the five ways owners type it (and a sixth, Excel's number)."""
    digits = national.replace(" ", "")
    rest = digits[1:]
    area, _, local = national.partition(" ")
    return [
        f"+44 {national[1:]}",  # +44 7700 900123
        digits,  # 07700900123
        f"({area}) {local}",  # (020) 7946 0018
        "0044-" + national[1:].replace(" ", "-"),  # 0044-7700-900123
        f"+44 (0){national[1:]}",  # +44 (0)20 7946 0018
        int(rest),  # 7700900123: typed into a number cell, the leading zero is gone
    ]


def _text_date(g: _Gen, d: date) -> Cell:
    """A date the way it ends up in real sheets: mostly a date, sometimes text."""
    r = g.rng.random()
    if r < 0.70:
        return d
    if r < 0.80:
        return d.strftime("%d/%m/%Y")
    if r < 0.86:
        return f"{d.day} {d:%B %Y}"
    if r < 0.91:
        return f"{d:%B} {d.day}, {d.year}"
    if r < 0.95:
        return d.isoformat()
    if r < 0.98:
        return d.strftime("%d.%m.%y")
    return (d - date(1899, 12, 30)).days  # an Excel serial number in a General cell


def _person(g: _Gen, first: str | None = None, last: str | None = None) -> dict[str, Cell]:
    """A private customer with a clean-ish row (problems are planted afterwards)."""
    first = first or g.pick(g.first_names)
    last = last or g.pick(g.last_names)
    c: dict[str, Cell] = {"First name": first, "Last name": last}
    us = g.chance(0.03)
    if us:
        city, state, zip3 = g.pick(US_CITIES)
        c["City"] = city
        c["Country"] = g.pick(("US", "USA", "United States"))
        c["Postcode"] = f"{zip3}{g.rng.randint(0, 99):02d}"
        phone = f"+1 {g.pick(('617', '401', '860'))}-555-01{g.rng.randint(0, 99):02d}"
        # The US drama range has 300 numbers: once taken, later customers have none.
        if phone not in g.us_phones:
            g.us_phones.add(phone)
            c["Phone"] = phone
        c["Address"] = f"{g.rng.randint(1, 999)} {g.pick(('Elm', 'Maple', 'Oak'))} Street, {state}"
    else:
        city, area, landline = g.pick(CITIES)
        c["City"] = city
        c["Country"] = g.pick(COUNTRY_SPELLINGS)
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        c["Postcode"] = (
            f"{area}{g.rng.randint(1, 20)} {g.rng.randint(1, 9)}{g.pick(letters)}{g.pick(letters)}"
        )
        c["Address"] = f"{g.rng.randint(1, 120)} {g.pick(g.streets)}"
        number = g.number(MOBILE_PREFIX) if g.chance(0.5) else None
        number = number or (g.number(landline) if g.chance(0.8) else None)
        if number:
            c["Phone"] = g.pick(_phone_formats(number)[:5]) if g.chance(0.35) else number
    c["_first_clean"], c["_last_clean"] = first, last
    c["Email"] = g.email(first, last) if g.chance(0.93) else None
    c["Preferred channel"] = g.pick(CHANNEL_WORDS)
    c["Best time to contact"] = g.pick(BEST_TIMES)
    if g.chance(0.6):
        born = g.day(date(1945, 1, 1), date(2004, 12, 31))
        c["Birthday"] = _text_date(g, born)
    c["Email opt-in"] = g.pick(("Yes", "Yes", "Yes", "yes", "Y", "No", "TRUE", "x", None, None))
    c["SMS opt-in"] = g.pick(("Yes", "No", "No", "y", "1", "0", None, None, None))
    c["Do not contact"] = "Yes" if g.chance(0.02) else g.pick(("No", None, None))
    if g.chance(0.3):
        c["Tags"] = "; ".join(g.rng.sample(TAGS, g.rng.randint(1, 2)))
    if g.chance(0.45):
        c["Preferences"] = "; ".join(g.rng.sample(PREFERENCES, g.rng.randint(1, 3)))
    c["Favourite category"] = g.pick(CATEGORIES) if g.chance(0.7) else None
    if g.chance(0.1):
        c["Notes"] = g.pick(
            (
                "Met at the book fair",
                "Prefers to be called by first name",
                "Usually comes in on Saturdays",
                "Ask about the poetry night",
            )
        )
    return c


def generate(n: int, *, seed: int, today: date) -> DemoData:
    """The demo rows for ``n`` customers (see the module docstring for what is planted)."""
    g = _Gen(seed, today)
    g.first_names, g.last_names, g.streets = name_pools(n)
    planted: dict[str, list[str]] = {name: [] for name in PLANTED}
    scale = max(1, n // 100)  # how many of each planted problem

    # --- the planted groups first (so small demos still have them), then ordinary people.
    groups: list[list[dict[str, Cell]]] = []
    for i in range(scale):  # nickname duplicates: Robert Smith / Bob Smith, same phone, other email
        formal, nick = NICKNAMES[i % len(NICKNAMES)]
        last = "Smith" if i == 0 else g.pick(g.last_names)
        a = _person(g, formal, last)
        b = _person(g, nick, last)
        # A number of their own: a mobile, else a landline in their town (a big demo uses
        # up the 1,000 mobiles), so two planted pairs never share one.
        landline = (
            next(line for city, _area, line in CITIES if city == a["City"]) if a["City"] in TOWNS else ""
        )
        number = g.number(MOBILE_PREFIX) or (g.number(landline) if landline else None) or "07700 900000"
        a["Phone"], b["Phone"] = number, _phone_formats(number)[1]
        b["City"], b["Postcode"], b["Country"] = a["City"], a["Postcode"], a["Country"]
        b["Email"] = g.email(nick, last)
        groups.append([a, b])
        planted["nickname duplicate"].append(f"{formal}/{nick} {last}")
    for _ in range(scale):  # the same email typed differently, name in another case
        a = _person(g)
        b = dict(a)
        email = a["Email"] or g.email(str(a["First name"]), str(a["Last name"]))
        a["Email"] = email
        local, _, domain = str(email).partition("@")
        b["Email"] = f"{local.title()}@{domain.capitalize()} "
        b["First name"], b["Last name"] = str(a["First name"]).lower(), str(a["Last name"]).lower()
        b["Phone"] = None
        groups.append([a, b])
        planted["email format duplicate"].append(str(email))
    for _ in range(scale):  # a Gmail dot variant: jane.doe@gmail.com / janedoe@gmail.com
        a = _person(g)
        first, last = str(a["First name"]).lower(), str(a["Last name"]).lower().replace("'", "")
        a["Email"] = f"{first}.{last}@gmail.com"
        b = _person(g, str(a["First name"]), str(a["Last name"]))
        b["Email"] = f"{first}{last}@gmail.com"
        b["City"] = a["City"]
        groups.append([a, b])
        planted["gmail dot duplicate"].append(str(a["Email"]))
    companies = max(1, n // 60)
    for i in range(companies):  # several contacts at one company, sharing its phone and address
        company = COMPANIES[i % len(COMPANIES)] + (
            "" if i < len(COMPANIES) else f" ({i // len(COMPANIES) + 1})"
        )
        city, area, landline = g.pick(CITIES)
        switchboard = g.number(landline)
        address = f"Unit {g.rng.randint(1, 30)}, {g.pick(g.streets)}"
        postcode = f"{area}{g.rng.randint(1, 20)} {g.rng.randint(1, 9)}AA"
        members = []
        for job, role in g.rng.sample(JOBS, g.rng.randint(2, 4)):
            p = _person(g)
            p["Email"] = g.email(str(p["First name"]), str(p["Last name"]), "example.net")
            p.update(
                {
                    "Company": company,
                    "Job title": job,
                    "Role": role,
                    "City": city,
                    "Address": address,
                    "Postcode": postcode,
                    "Country": "GB",
                    "Phone": switchboard,
                    "_b2b": True,
                    "Favourite category": "Coffee",
                    "Tags": "wholesale",
                }
            )
            p["Preferred channel"] = "Email"
            members.append(p)
        groups.append(members)
        planted["company contacts"].append(company)
    for grp in groups:
        for p in grp:
            p["_group"] = True
    planted_count = sum(len(grp) for grp in groups)
    people = [_person(g) for _ in range(max(0, n - planted_count))]
    # Scatter the planted groups through the list (a duplicate is rarely the next row).
    for grp in groups:
        for p in grp:
            people.insert(g.rng.randint(0, len(people)), p)
    people = people[:n]

    # --- IDs (some blank), then problems planted on single rows.
    for i, p in enumerate(people, 1):
        p["_id"] = f"C-{i:05d}"
        p["Customer ID"] = p["_id"]
    plain = [p for p in people if not p.get("_group") and p["Email"]]
    g.rng.shuffle(plain)
    take = iter(plain)

    def some(k: int) -> list[dict[str, Cell]]:
        return [p for _, p in zip(range(k), take, strict=False)]

    for p in some(scale * 5):
        p["Customer ID"] = None
        planted["blank customer ID"].append(str(p["Email"]))
    for j, p in enumerate(some(scale * 2)):
        local = str(p["Email"]).split("@")[0]
        p["Email"] = f"{local}@{TYPO_DOMAINS[j % len(TYPO_DOMAINS)]}"
        planted["typo email domain"].append(str(p["Email"]))
    for j, p in enumerate(some(scale * 2)):
        p["Email"] = BAD_EMAILS[j % len(BAD_EMAILS)](
            str(p["_first_clean"]).lower(), str(p["_last_clean"]).lower()
        )
        planted["invalid email"].append(str(p["Email"]))
    for p in some(scale * 3):
        p["Last name"] = f"{p['Last name']} "
        p["Email"] = f" {p['Email']}" if g.chance(0.5) else f"{p['Email']}  "
        planted["trailing spaces"].append(str(p["Customer ID"] or p["Email"]))
    for j, p in enumerate(some(scale * 2)):
        p["First name"], p["Last name"] = str(p["First name"]).upper(), str(p["Last name"]).upper()
        if j % 2:
            p["Preferred channel"] = "fax"
        planted["ALL CAPS name"].append(str(p["Customer ID"] or p["Email"]))
    for j, p in enumerate(some(scale * 6)):
        number = g.number(MOBILE_PREFIX if j % 2 else "020 7946 ")
        if number and p.get("Country") not in ("US", "USA", "United States"):  # UK formats
            p["Phone"] = _phone_formats(number)[j % 6]
            planted["phone formats"].append(str(p["Phone"]))
            if isinstance(p["Phone"], int):
                planted["phone stored as a number"].append(str(p["Phone"]))
    for p in some(scale * 3):
        p["Email opt-in"], p["SMS opt-in"] = None, None
        p["Preferred channel"] = g.pick(("Email", "SMS"))
        planted["missing consent"].append(str(p["Customer ID"] or p["Email"]))
    for p in some(scale * 2):
        p["Birthday"] = g.pick(("14/03/1985", "March 3rd 1979", "1990-13-01", "31/04/1988", "Xmas"))
        planted["text dates"].append(str(p["Birthday"]))
    for p in people:
        if isinstance(p.get("Birthday"), str | int) and str(p["Birthday"]) not in planted["text dates"]:
            planted["text dates"].append(str(p["Birthday"]))
    # A few birthdays in the coming week, for the Birthday drafts.
    for p in some(max(2, scale * 2)):
        soon = today + timedelta(days=g.rng.randint(1, 7))
        try:
            p["Birthday"] = soon.replace(year=g.rng.randint(1950, 2000))
        except ValueError:  # 29 February
            p["Birthday"] = soon.replace(year=1996)

    # --- referrals: a chain A <- B <- C <- D, and scattered single referrals.
    with_id = [p for p in people if p["Customer ID"] and not p.get("_group")]
    chain = with_id[: min(len(with_id), 3 + scale)]
    for referrer, referred in itertools.pairwise(chain):
        referred["Referred by"] = referrer["Customer ID"]
    planted["referral chain"] = [str(p["Customer ID"]) for p in chain]
    for p in people:
        if not p.get("Referred by") and g.chance(0.05) and with_id:
            other = g.pick(with_id)
            if other is not p and other.get("Referred by") != p["Customer ID"]:
                p["Referred by"] = other["Customer ID"] if g.chance(0.8) else other["Email"]

    orders, first_orders = _orders(g, people, planted, scale)
    for p in people:
        first = first_orders.get(str(p["_id"]))
        since = first - timedelta(days=g.rng.randint(0, 30)) if first else g.day(g.start, today)
        p["Customer since"] = _text_date(g, since) if g.chance(0.85) else None
    interactions = _interactions(g, people, first_orders)
    for p in people:
        for k in [k for k in p if k.startswith("_")]:
            del p[k]
    return DemoData(people, orders, interactions, planted)


def _ref(g: _Gen, p: dict[str, Cell]) -> Cell:
    """How an Orders or Interactions row names its customer: the ID, or the email."""
    email = str(p.get("Email") or "").strip()
    if p.get("Customer ID") and (not email or g.chance(0.8)):
        return p["Customer ID"]
    return email or p.get("Customer ID") or f"{p['First name']} {p['Last name']}".strip()


def _orders(
    g: _Gen, people: list[dict[str, Cell]], planted: dict[str, list[str]], scale: int
) -> tuple[list[dict[str, Cell]], dict[str, date]]:
    """Three years of orders: most customers buy once, a heavy tail buys often and big."""
    today, start = g.today, g.start
    raw: list[tuple[date, int, dict[str, Cell]]] = []
    first_orders: dict[str, date] = {}
    seq = 0
    for i, p in enumerate(people):
        if g.chance(0.15) and i > 1:
            continue  # a contact who never bought (yet)
        b2b = bool(p.get("_b2b"))
        count = min(80, int(g.rng.paretovariate(1.15)))
        spend = g.rng.lognormvariate(0.0, 0.7) * (6 if b2b else 1)
        if i == 0:
            first = start + timedelta(days=1)  # orders really do span three years
            count = max(count, 12)
        elif g.chance(0.03):
            first = today - timedelta(days=g.rng.randint(1, 12))  # brand-new: thank-you drafts
        else:
            first = g.day(start, today - timedelta(days=1))
        gap = g.rng.uniform(14, 120) if not b2b else 30.0
        when = first
        category = p.get("Favourite category") or g.pick(CATEGORIES)
        for k in range(count):
            if k:
                when = when + timedelta(days=max(1, int(g.rng.expovariate(1 / gap))))
            if when >= today:
                break
            if b2b:
                product, price = g.pick(B2B_PRODUCTS)
            else:
                cat = category if g.chance(0.6) else g.pick(CATEGORIES)
                product, price = g.pick(PRODUCTS[cat])
            quantity = 1 if g.chance(0.75) else g.rng.randint(2, 6 if not b2b else 12)
            amount = round(price * quantity * spend * g.rng.lognormvariate(0, 0.25), 2)
            seq += 1
            raw.append((when, seq, {"_p": p, "Product": product, "Quantity": quantity, "Amount": amount}))
            first_orders.setdefault(str(p["_id"]), when)
    raw.sort(key=lambda t: (t[0], t[1]))
    # Refunds: a later negative row for an earlier order.
    refunds = []
    for when, s, row in g.rng.sample(raw, min(len(raw), scale)):
        back = min(today - timedelta(days=1), when + timedelta(days=g.rng.randint(1, 10)))
        refunds.append((back, s, {**row, "Amount": -row["Amount"], "Quantity": row["Quantity"]}))
    raw.extend(refunds)
    raw.sort(key=lambda t: (t[0], t[1]))
    orders: list[dict[str, Cell]] = []
    for number, (when, _, row) in enumerate(raw, 10001):
        p = row.pop("_p")
        r = g.rng.random()
        date_cell: Cell = when if r > 0.04 else (when.strftime("%d/%m/%Y") if r > 0.01 else when.isoformat())
        amount: Cell = row["Amount"]
        if g.chance(0.03):
            amount = f"£{amount:,.2f}" if amount >= 0 else f"-£{-amount:,.2f}"
        if isinstance(row["Amount"], float) and row["Amount"] < 0:
            planted["refund"].append(f"SO-{number}")
        orders.append(
            {
                "Order ID": f"SO-{number}",
                "Customer": _ref(g, p),
                "Date": date_cell,
                "Amount": amount,
                "Product": row["Product"],
                "Quantity": row["Quantity"],
            }
        )
    # An order for someone no longer in Customers (a deleted row), named by email.
    ghost = {
        "Order ID": f"SO-{10001 + len(orders)}",
        "Customer": "former.customer@example.com",
        "Date": today - timedelta(days=20),
        "Amount": 15.0,
        "Product": "Gift card",
        "Quantity": 1,
    }
    orders.append(ghost)
    planted["order for unknown customer"].append(str(ghost["Customer"]))
    return orders, first_orders


def _interactions(
    g: _Gen, people: list[dict[str, Cell]], first_orders: dict[str, date]
) -> list[dict[str, Cell]]:
    """Calls, emails and visits; about one in five unhappy, some with a follow-up date."""
    today = g.today
    rows: list[tuple[date, int, dict[str, Cell]]] = []
    buyers = [p for p in people if str(p["_id"]) in first_orders]
    if not buyers:
        return []
    count = max(4, int(len(people) * 0.6))
    for k in range(count):
        p = g.pick(buyers)
        if k < max(2, len(people) // 100):
            when = today - timedelta(days=g.rng.randint(1, 10))  # recent: service recovery, follow-ups
            mood = "bad" if k % 2 == 0 else "good"
        else:
            when = g.day(first_orders[str(p["_id"])], today - timedelta(days=1))
            mood = g.rng.choices(("good", "bad", "neutral"), (0.55, 0.15, 0.30))[0]
        score: Cell = {"good": g.pick((4, 5, 5)), "bad": g.pick((1, 2, 2, 3)), "neutral": g.pick((3, 4))}[
            mood
        ]
        if mood == "neutral" and g.chance(0.5):
            score = None
        follow: Cell = None
        if mood == "bad" or g.chance(0.1):
            follow = when + timedelta(days=g.rng.randint(2, 21))
        rows.append(
            (
                when,
                k,
                {
                    "Date": when,
                    "Customer": _ref(g, p),
                    "Channel": g.pick(("Email", "Phone", "In person", "In person", "SMS", "Social media")),
                    "Direction": "Inbound" if mood == "bad" or g.chance(0.6) else "Outbound",
                    "Summary": g.pick(SUMMARIES[mood]),
                    "Outcome": g.pick(OUTCOMES[mood]),
                    "Satisfaction": score,
                    "Follow up": follow,
                },
            )
        )
    rows.sort(key=lambda t: (t[0], t[1]))
    return [r for _, _, r in rows]
