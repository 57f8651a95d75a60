"""The demo workbook: reproducible, realistic, and full of the problems real sheets have."""

from __future__ import annotations

import hashlib
import re
import time
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import TODAY
from fixtures_templates import read_grids

from sheet_crm import demo
from sheet_crm.backends.memory import MemoryBackend
from sheet_crm.config import load_settings
from sheet_crm.errors import UsageError
from sheet_crm.findings import FindingList
from sheet_crm.model import build_records
from sheet_crm.normalize import parse_date
from sheet_crm.starter import load_template

N = 200


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo.write_demo(tmp_path_factory.mktemp("demo") / "demo.xlsx", customers=N, seed=7, today=TODAY)


@pytest.fixture(scope="module")
def grids(demo_path: Path) -> dict[str, list[list]]:
    return read_grids(demo_path)


def _column(grids: dict[str, list[list]], tab: str, header: str) -> list:
    head = list(grids[tab][0])
    i = head.index(header)
    return [row[i] if i < len(row) else None for row in grids[tab][1:]]


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}  # core.xml has timestamps


def test_same_seed_same_workbook_other_seed_other_workbook(tmp_path: Path, demo_path: Path) -> None:
    again = demo.write_demo(tmp_path / "again.xlsx", customers=N, seed=7, today=TODAY)
    other = demo.write_demo(tmp_path / "other.xlsx", customers=N, seed=8, today=TODAY)
    assert _parts(again) == _parts(demo_path)
    assert _parts(other)["xl/worksheets/sheet2.xml"] != _parts(demo_path)["xl/worksheets/sheet2.xml"]
    assert read_grids(other)["Customers"] != read_grids(demo_path)["Customers"]


@pytest.mark.parametrize(
    ("n", "seed", "digest"),
    [
        (200, 7, "8171749a9a17df4ea8cb5786f106bfa975a057c05d35631a5503115d20274b83"),
        # Above 1,200 customers the made-up surnames and streets join the short lists.
        (1500, 7, "6736373430423271082921191d97a788cb982350c9aa964b9b18ee75443ef462"),
    ],
)
def test_a_seed_gives_the_same_cells_as_it_always_has(n: int, seed: int, digest: str) -> None:
    """Every generated cell (value and type, row by row) and the planted list, as a digest
    recorded from the generator before its word lists moved into data files. Moving or
    reformatting the lists must not change one cell; a change to the demo made on purpose
    updates the digests here."""
    data = demo.generate(n, seed=seed, today=TODAY)
    cells = repr((data.customers, data.orders, data.interactions, data.planted))
    assert hashlib.sha256(cells.encode()).hexdigest() == digest


def test_generation_does_not_touch_the_global_random(tmp_path: Path) -> None:
    import random

    random.seed(1)
    expected = random.random()
    random.seed(1)
    demo.generate(50, seed=3, today=TODAY)
    assert random.random() == expected


def test_demo_has_the_shop_tabs_and_the_requested_number_of_customers(grids: dict[str, list[list]]) -> None:
    spec = load_template(demo.DEMO_TEMPLATE)
    assert list(grids) == ["About", *(t.name for t in spec.tabs)]
    for tab in spec.tabs:
        assert list(grids[tab.name][0]) == tab.headers
    assert len(grids["Customers"]) - 1 == N
    assert len(grids["Templates"]) - 1 == len(spec.tab("Templates").rows)
    assert len(grids["Segments"]) - 1 == len(spec.tab("Segments").rows)


def test_demo_reads_back_as_records(grids: dict[str, list[list]]) -> None:
    workbook = MemoryBackend(grids).read()
    findings = FindingList()
    settings, _ = load_settings(workbook, environ={}, findings=findings)
    assert list(findings) == []
    assert "demo" in settings.business_name
    records = build_records(workbook, settings, findings)
    assert len(records.customers) == N
    resolved = [o for o in records.orders if o.customer_id]
    assert len(resolved) >= 0.95 * len(records.orders)
    assert any(not o.customer_id for o in records.orders)  # the order for a deleted customer
    assert records.interactions and all(i.customer_id for i in records.interactions)


def test_emails_have_typos_and_invalid_values(grids: dict[str, list[list]]) -> None:
    emails = [str(e) for e in _column(grids, "Customers", "Email") if e]
    domains = [e.strip().rsplit("@", 1)[-1].lower() for e in emails]
    for typo in ("gmial.com", "hotmial.com"):
        assert typo in domains
    assert any(e.count("@") != 1 or " " in e.strip() for e in emails), "no invalid email"
    assert any(e != e.strip() for e in emails), "no email with stray spaces"
    allowed = {"example.com", "example.org", "example.net", "gmail.com", *demo.TYPO_DOMAINS}
    wellformed = [e.strip().lower() for e in emails if e.strip().count("@") == 1 and " " not in e.strip()]
    assert {e.split("@")[1] for e in wellformed if "." in e.split("@")[1]} <= allowed, "a real-looking domain"


def test_phones_come_in_five_formats_from_fictional_ranges(grids: dict[str, list[list]]) -> None:
    phones = [p for p in _column(grids, "Customers", "Phone") if p is not None]
    shapes = {
        "international": r"\+44 \d",
        "compact": r"0\d{10}",
        "brackets": r"\(0\d+\) ",
        "00 prefix": r"0044-",
        "spaced national": r"0\d{3,4} \d",
    }
    for name, pattern in shapes.items():
        assert any(isinstance(p, str) and re.match(pattern, p) for p in phones), name
    assert any(isinstance(p, int | float) for p in phones), "no phone stored as a number"
    for p in phones:
        digits = re.sub(r"\D", "", str(p))
        fictional = (
            "7700900",
            "2079460",
            "1134960",
            "1144960",
            "1154960",
            "1164960",
            "1174960",
            "1184960",
            "1214960",
            "1314960",
            "1414960",
            "1514960",
            "1614960",
            "1914980",
            "2920180",
            "555",
        )
        assert any(f in digits for f in fictional), p


def test_same_people_twice(grids: dict[str, list[list]]) -> None:
    first = _column(grids, "Customers", "First name")
    last = [str(x).strip() for x in _column(grids, "Customers", "Last name")]
    people = {(str(f).strip(), s) for f, s in zip(first, last, strict=True)}
    assert any(("Bob", s) in people and ("Robert", s) in people for _, s in people), "no Bob/Robert pair"
    emails = [str(e).strip() for e in _column(grids, "Customers", "Email") if e]
    folded = {}
    for e in emails:
        folded.setdefault(e.lower(), []).append(e)
    assert any(len(v) > 1 for v in folded.values()), "no email typed twice in different case"
    gmail = [e.lower() for e in emails if e.lower().endswith("@gmail.com")]
    undotted = [e.split("@")[0].replace(".", "") for e in gmail]
    assert len(set(undotted)) < len(undotted), "no Gmail dot variant"


def test_names_consent_ids_referrals_and_companies(grids: dict[str, list[list]]) -> None:
    first = [str(x) for x in _column(grids, "Customers", "First name")]
    assert any(len(x) > 1 and x.isupper() for x in first), "no ALL CAPS name"
    last = [str(x) for x in _column(grids, "Customers", "Last name")]
    assert any(x != x.strip() for x in last), "no trailing space"
    ids = _column(grids, "Customers", "Customer ID")
    assert sum(1 for i in ids if not i) >= 2
    assert len([i for i in ids if i]) == len({i for i in ids if i}), "IDs are unique"
    email_ok, sms_ok = _column(grids, "Customers", "Email opt-in"), _column(grids, "Customers", "SMS opt-in")
    assert any(a is None and b is None for a, b in zip(email_ok, sms_ok, strict=True)), "no missing consent"
    assert len({str(v) for v in email_ok if v is not None}) >= 3, "consent typed several ways"
    referred = dict(zip(ids, _column(grids, "Customers", "Referred by"), strict=True))
    longest = 0
    for start in referred:
        seen, at = 0, start
        while at in referred and referred[at] and seen < 50:
            at, seen = referred[at], seen + 1
        longest = max(longest, seen)
    assert longest >= 3, "no referral chain of three"
    companies = [c for c in _column(grids, "Customers", "Company") if c]
    roles = [r for r in _column(grids, "Customers", "Role") if r]
    assert max(companies.count(c) for c in companies) >= 2 and "Decision maker" in roles
    prefs = " ; ".join(str(p) for p in _column(grids, "Customers", "Preferences") if p)
    assert "prefers tea" in prefs and "vegetarian" in prefs
    birthdays = _column(grids, "Customers", "Birthday")
    assert any(isinstance(b, datetime) for b in birthdays)
    texts = [b for b in birthdays if isinstance(b, str)]
    assert any("/" in b for b in texts) and any(re.search(r"[A-Za-z]{3,}", b) for b in texts)


def test_orders_span_three_years_with_heavy_tail_repeats_and_a_refund(grids: dict[str, list[list]]) -> None:
    dates = [parse_date(d)[0] for d in _column(grids, "Orders", "Date")]
    assert all(d is not None and d < TODAY for d in dates)
    days = [d for d in dates if d is not None]
    assert (TODAY - min(days)).days >= 3 * 365 - 5 and (TODAY - max(days)).days <= 30
    assert any(isinstance(d, str) for d in _column(grids, "Orders", "Date")), "no date typed as text"
    amounts = _column(grids, "Orders", "Amount")
    assert any(isinstance(a, str) for a in amounts), "no amount typed as text"
    numbers = sorted(a for a in amounts if isinstance(a, int | float))
    assert any(a < 0 for a in numbers), "no refund"
    positive = [a for a in numbers if a > 0]
    median = positive[len(positive) // 2]
    assert max(positive) > 8 * median, "spend is not heavy-tailed"
    customers = [c for c in _column(grids, "Orders", "Customer")]
    counts = sorted((customers.count(c) for c in set(customers)), reverse=True)
    assert counts[0] >= 8 and counts[-1] == 1, "no mix of one-time and repeat buyers"
    ids = _column(grids, "Orders", "Order ID")
    assert len(ids) == len(set(ids))


def test_interactions_have_scores_and_follow_ups(grids: dict[str, list[list]]) -> None:
    scores = [s for s in _column(grids, "Interactions", "Satisfaction") if s is not None]
    assert set(scores) <= {1, 2, 3, 4, 5} and {1, 5} <= set(scores) | {1} and min(scores) <= 2
    follow = [f for f in _column(grids, "Interactions", "Follow up") if f is not None]
    assert follow and all(isinstance(f, datetime) for f in follow)
    recent = [parse_date(d)[0] for d in _column(grids, "Interactions", "Date")]
    assert any((TODAY - d).days <= 10 for d in recent if d)


def test_planted_list_names_every_problem() -> None:
    data = demo.generate(N, seed=7, today=TODAY)
    for problem in demo.PLANTED:
        assert data.planted[problem], problem


def test_small_and_odd_sizes_work(tmp_path: Path) -> None:
    for n in (1, 10, 37):
        data = demo.generate(n, seed=1, today=TODAY)
        assert len(data.customers) == n
    path = demo.write_demo(tmp_path / "tiny.xlsx", customers=10, seed=1, today=date(2025, 2, 28))
    assert len(read_grids(path)["Customers"]) == 11


def test_demo_replaces_an_old_demo_but_never_another_file(tmp_path: Path) -> None:
    path = demo.write_demo(tmp_path / "d.xlsx", customers=20, seed=1, today=TODAY)
    demo.write_demo(path, customers=30, seed=2, today=TODAY)
    assert len(read_grids(path)["Customers"]) == 31
    owner = tmp_path / "mine.xlsx"
    owner.write_bytes(b"an owner's workbook")
    with pytest.raises(UsageError):
        demo.write_demo(owner, customers=20, seed=1, today=TODAY)
    assert owner.read_bytes() == b"an owner's workbook"


def test_demo_is_fast(tmp_path: Path) -> None:
    started = time.perf_counter()
    demo.write_demo(tmp_path / "fast.xlsx", customers=200, seed=5, today=TODAY)
    assert time.perf_counter() - started < 1.5  # ~0.3 s here; generous for a busy CI machine
    started = time.perf_counter()
    demo.generate(10_000, seed=5, today=TODAY)
    assert time.perf_counter() - started < 4


def test_name_and_street_pools_grow_with_the_demo() -> None:
    # Small demos keep the short lists; 100,000 customers get thousands of surnames and
    # streets, so namesakes stay about as rare as in a real list.
    from sheet_crm.demo import FIRST_NAMES, LAST_NAMES, STREETS, name_pools

    first, last, streets = name_pools(200)
    assert (first, last, streets) == (list(FIRST_NAMES), list(LAST_NAMES), list(STREETS))
    first, last, streets = name_pools(100_000)
    assert len(last) >= 1_500 and len(set(last)) == len(last)
    assert len(streets) >= 1_000 and len(set(streets)) == len(streets)
    assert set(LAST_NAMES) <= set(last)
