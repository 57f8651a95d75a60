"""Normalisers, blocking, scoring and clustering (sheet_crm.matching)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sheet_crm.matching import (
    MAX_GROUP,
    ClusterStats,
    Columns,
    Entity,
    Scorer,
    blocking_keys,
    candidate_pairs,
    cluster,
    compare,
    disagreement_lowest,
    email_match_key,
    explain,
    find_duplicates,
    fit,
    is_initial_of,
    is_nickname,
    normalize_address,
    normalize_company,
    normalize_place,
    normalize_postcode,
    phone_match_key,
    prepare,
    split_name,
    used_fields,
)

# ---------------------------------------------------------------- normalisers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ann@Example.COM", "ann@example.com"),
        ("  ann @ example.com ", "ann@example.com"),
        ("j.doe@gmail.com", "jdoe@gmail.com"),
        ("J.Doe+news@GoogleMail.com", "jdoe@gmail.com"),
        ("ann+shop@example.com", "ann@example.com"),
        ("a.b@example.com", "a.b@example.com"),  # dots only matter to Gmail
        ("mailto:ann@example.com", "ann@example.com"),
        ("not an email", ""),
        ("", ""),
        ("@example.com", ""),
    ],
)
def test_email_match_key(raw: str, expected: str) -> None:
    assert email_match_key(raw) == expected


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("07700 900123", "GB", "+447700900123"),
        ("+44 7700 900123", "GB", "+447700900123"),
        ("(0113) 496-0000", "GB", "+441134960000"),
        ("+447700900123", "US", "+447700900123"),
        ("(202) 555-0143", "US", "+12025550143"),
        ("", "GB", ""),
        ("n/a", "GB", ""),
    ],
)
def test_phone_match_key(raw: str, country: str, expected: str) -> None:
    assert phone_match_key(raw, country) == expected


@pytest.mark.parametrize(
    ("typed", "written", "key"),
    [
        (" Ann@Example.COM ", "ann@example.com", "ann@example.com"),  # a plain address: the same
        ("J.Doe+news@GoogleMail.com", "j.doe+news@googlemail.com", "jdoe@gmail.com"),
        ("jane.doe@gmail.com", "jane.doe@gmail.com", "janedoe@gmail.com"),
        ("ann@exa mple.com", "", "ann@example.com"),
        ("a..b@example.com", "", "a..b@example.com"),
    ],
)
def test_an_email_match_key_is_not_the_address_validation_writes(typed: str, written: str, key: str) -> None:
    """normalize.normalize_email is the address validation keeps (as the owner gave it,
    or nothing when it is not valid); the match key is what dedupe compares, so that one
    mailbox typed two ways, or an invalid address and its copy, still meet."""
    from sheet_crm.normalize import normalize_email

    assert (normalize_email(typed), email_match_key(typed)) == (written, key)


@pytest.mark.parametrize(
    ("typed", "country", "written", "key"),
    [
        ("07700 900123", "GB", "+447700900123", "+447700900123"),  # a valid number: the same
        ("0044 20 7946 0000", "GB", "+442079460000", "+442079460000"),
        ("555-0143", "US", "", "+15550143"),
        ("12345678", "DE", "", "+4912345678"),
    ],
)
def test_a_phone_match_key_is_not_the_number_validation_writes(
    typed: str, country: str, written: str, key: str
) -> None:
    """normalize.normalize_phone gives E.164 only for a valid number; the match key keeps
    a number that is possible, or failing that its digits, so copies of it still meet."""
    from sheet_crm.normalize import normalize_phone

    assert (normalize_phone(typed, country), phone_match_key(typed, country)) == (written, key)


@pytest.mark.parametrize(
    ("first", "last", "name", "expected"),
    [
        ("Robert", "Smith", "", ("robert", "smith")),
        ("", "", "Smith, John", ("john", "smith")),
        ("", "", "Mr John A. Smith", ("john", "smith")),
        ("", "", "Dr. Zoë Ångström PhD", ("zoe", "angstrom")),
        ("J.", "Smith", "", ("j", "smith")),
        ("Mrs", "O'Brien", "", ("", "obrien")),
        ("Anne", "van der Berg", "", ("anne", "van der berg")),
        ("", "", "Cher", ("cher", "")),
        ("", "", "", ("", "")),
    ],
)
def test_split_name(first: str, last: str, name: str, expected: tuple[str, str]) -> None:
    assert split_name(first, last, name) == expected


def test_nicknames_come_from_the_maintained_list() -> None:
    assert is_nickname("bob", "robert")
    assert is_nickname("robert", "bob")
    assert is_nickname("liz", "elizabeth")
    assert not is_nickname("bob", "bob")
    assert not is_nickname("mary", "john")


def test_initials() -> None:
    assert is_initial_of("j", "john")
    assert is_initial_of("john", "j")
    assert not is_initial_of("k", "john")
    assert not is_initial_of("jo", "john")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Acme Ltd", "acme"),
        ("ACME Limited", "acme"),
        ("The Smith & Sons Co. Pty Ltd", "smith and sons"),
        ("Smith and Sons", "smith and sons"),
        ("Müller GmbH", "muller"),
        ("Widgets, Inc.", "widgets"),
        ("Foo LLC", "foo"),
        ("The Company", "company"),  # a name that is only a suffix keeps it
    ],
)
def test_normalize_company(raw: str, expected: str) -> None:
    assert normalize_company(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12 High St", "12 high street"),
        ("12 High St.", "12 high street"),
        ("12 high street", "12 high street"),
        ("4 Mill Rd", "4 mill road"),
        ("Flat 3, 12 High St", "12 high street unit 3"),
        ("3/12 High Street", "12 high street unit 3"),
        ("12 High Street Apt 3", "12 high street unit 3"),
        ("Unit 7B, 1 Park Ave", "1 park avenue unit 7b"),
        ("St James Rd", "saint james road"),
        ("", ""),
    ],
)
def test_normalize_address(raw: str, expected: str) -> None:
    assert normalize_address(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" sw1a 1aa ", "SW1A1AA"), ("SW1A 1AA", "SW1A1AA"), ("12345-6789", "12345"), ("2119", "2119"), ("", "")],
)
def test_normalize_postcode(raw: str, expected: str) -> None:
    assert normalize_postcode(raw) == expected


def test_normalize_place() -> None:
    assert normalize_place("St. Albans") == "saint albans"
    assert normalize_place("Mt Eliza") == "mount eliza"


text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@given(text)
def test_normalisers_are_idempotent(value: str) -> None:
    for f in (email_match_key, normalize_company, normalize_address, normalize_postcode, normalize_place):
        once = f(value)
        assert f(once) == once, f.__name__


# ---------------------------------------------------------------- blocking


def test_blocking_keys_cover_each_way_in() -> None:
    e = prepare("1", first="Bob", last="Smith", email="bob@x.com", phone="07700 900123", postcode="LS1 1AA")
    keys = blocking_keys(e)
    assert "e:bob@x.com" in keys
    assert "p:+447700900123" in keys
    assert any(k.startswith("n:") for k in keys)
    assert any(k.startswith("lp:") for k in keys)


def test_swapped_names_share_a_block() -> None:
    a = prepare("1", first="John", last="Smith")
    b = prepare("2", first="Smith", last="John")
    assert {k for k in blocking_keys(a) if k.startswith("n:")} == {
        k for k in blocking_keys(b) if k.startswith("n:")
    }


def test_a_common_surname_does_not_explode_the_work() -> None:
    n = 2000
    entities = [prepare(str(i), first=f"name{i}", last="Smith", postcode="LS1 1AA") for i in range(n)]
    pairs = candidate_pairs(entities, block_cap=40, window=8)
    assert len(pairs) < n * 40  # all pairs would be ~2,000,000
    assert (pairs[:, 0] < pairs[:, 1]).all()


# ---------------------------------------------------------------- scoring


def _model_for(entities: list[Entity]) -> tuple[Columns, Scorer]:
    cols = Columns(entities, used_fields(entities))
    pairs = candidate_pairs(entities)
    scorer = Scorer(cols, fit(compare(cols, pairs)))
    return cols, scorer


def _pair_reasons(a: Entity, b: Entity) -> list[str]:
    entities = [a, b]
    cols = Columns(entities, used_fields(entities) or ["first"])
    comparison = compare(cols, np.array([[0, 1]]))
    return explain(a, b, comparison, 0)


def test_reason_nickname_same_phone_emails_differ() -> None:
    a = prepare("1", first="Bob", last="Smith", email="bob@x.com", phone="07700 900123")
    b = prepare("2", first="Robert", last="Smith", email="robert@y.com", phone="+447700900123")
    reasons = _pair_reasons(a, b)
    assert "same phone" in reasons
    assert "'Bob Smith' / 'Robert Smith' is a nickname match" in reasons
    assert "emails differ" in reasons


def test_reason_same_email_and_name() -> None:
    a = prepare("1", first="Ann", last="Lee", email="ANN@x.com")
    b = prepare("2", first="Ann", last="Lee", email="ann@x.com")
    assert _pair_reasons(a, b) == ["same name", "same email"]


def test_reason_spelt_alike_and_nearly_same_address() -> None:
    a = prepare("1", first="Jon", last="Smyth", address="12 High Street")
    b = prepare("2", first="John", last="Smith", address="12 Hgih Street")
    reasons = _pair_reasons(a, b)
    assert "'Jon Smyth' / 'John Smith' are spelt alike" in reasons
    assert "similar address ('12 high street' / '12 hgih street')" in reasons
    c = prepare("3", first="Jon", last="Smyth", address="99 Low Road")
    assert "addresses differ" in _pair_reasons(a, c)


def test_reason_initial_and_swapped() -> None:
    a = prepare("1", first="J.", last="Smith")
    b = prepare("2", first="John", last="Smith")
    assert "'J. Smith' / 'John Smith': an initial matches the first name" in _pair_reasons(a, b)
    c = prepare("3", first="Smith", last="John")
    assert "'John Smith' / 'Smith John': first and last name swapped" in _pair_reasons(b, c)


def test_reason_different_people() -> None:
    a = prepare("1", first="Mary", last="Jones", company="Acme Ltd", phone="0113 496 0000")
    b = prepare("2", first="John", last="Brown", company="ACME Limited", phone="01134960000")
    reasons = _pair_reasons(a, b)
    assert reasons[0] == "same phone" or "same company" in reasons
    assert "'Mary Jones' / 'John Brown' are different people at one company (first names differ)" in reasons


def test_reason_household_with_own_emails() -> None:
    a = prepare("1", first="John", last="Smith", email="john@x.com", address="4 Elm Close")
    b = prepare("2", first="Mary", last="Smith", email="mary.s@y.org", address="4 Elm Cl")
    assert (
        "'John Smith' / 'Mary Smith' are different people (first names and emails differ)"
        in _pair_reasons(a, b)
    )


def test_keep_apart_rule_needs_a_company_or_two_emails() -> None:
    """A different first name alone is left to the weights; the rule needs the B2B or
    the own-email context, and the same date of birth overrides it."""
    pairs = {
        "company": ({"company": "Acme Ltd"}, {"company": "ACME Limited"}, 1),
        "emails": ({"email": "john@x.com"}, {"email": "mary@y.org"}, 2),
        "one email": ({"email": "john@x.com"}, {}, 0),
        "same email": ({"email": "smiths@x.com"}, {"email": "smiths@x.com"}, 0),
        "companies differ": ({"company": "Acme"}, {"company": "Zenith"}, 0),
        "nothing": ({}, {}, 0),
        "same birth": (
            {"company": "Acme", "birth": "1970-01-02"},
            {"company": "Acme", "birth": "1970-01-02"},
            0,
        ),
    }
    for label, (extra_a, extra_b, code) in pairs.items():
        a = prepare("1", first="John", last="Smith", phone="0113 496 0000", **extra_a)
        b = prepare("2", first="Mary", last="Smith", phone="0113 496 0000", **extra_b)
        cols = Columns([a, b], used_fields([a, b]))
        comparison = compare(cols, np.array([[0, 1]]))
        assert int(comparison.keep_apart[0]) == code, label
        assert bool(comparison.different_people[0]) == (code > 0), label
        assert bool(comparison.first_names_differ[0]) == (label != "same birth"), label
    # Nicknames, initials and typos are not "clearly different" first names.
    for other in ("Jon", "J.", "Johnny", "Jhon"):
        a = prepare("1", first="John", last="Smith", company="Acme", email="a@x.com")
        b = prepare("2", first=other, last="Smith", company="Acme", email="b@y.org")
        comparison = compare(Columns([a, b], used_fields([a, b])), np.array([[0, 1]]))
        assert not comparison.first_names_differ[0], other


def test_missing_values_neither_help_nor_hurt() -> None:
    base = [
        prepare(str(i), first=f, last=last, email=f"{f}.{last}@x.com", postcode=f"LS{i % 9} 1AA")
        for i, (f, last) in enumerate(
            (f, la) for f in ("ann", "bob", "cat", "dan") for la in ("lee", "ray", "oak")
        )
    ]
    a = prepare("a", first="Eve", last="Stone", email="eve@x.com")
    b = prepare("b", first="Eve", last="Stone", email="eve@x.com", postcode="")
    c = prepare("c", first="Eve", last="Stone", email="eve@x.com", postcode="YO1 1AA")
    entities = [*base, a, b, c]
    _cols, scorer = _model_for(entities)
    n = len(base)
    p, comparison = scorer.score(np.array([[n, n + 1], [n, n + 2]]))
    assert comparison.levels[0, comparison.fields.index("postcode")] == -1
    assert p[0] == pytest.approx(p[1])


names = st.sampled_from(["bob", "robert", "rob", "liz", "elizabeth", "john", "jon", "mary", "", "j."])
surnames = st.sampled_from(["smith", "smyth", "jones", "brown", ""])
emails = st.sampled_from(["a@x.com", "A@X.com", "b@x.com", ""])
phones = st.sampled_from(["07700 900123", "+447700900123", "07700 900124", ""])


@st.composite
def entity_lists(draw: st.DrawFn) -> list[Entity]:
    n = draw(st.integers(2, 12))
    return [
        prepare(
            str(i),
            first=draw(names),
            last=draw(surnames),
            email=draw(emails),
            phone=draw(phones),
            postcode=draw(st.sampled_from(["LS1 1AA", "ls11aa", "YO1 1AA", ""])),
        )
        for i in range(n)
    ]


@settings(max_examples=60, deadline=None)
@given(entity_lists())
def test_score_is_symmetric_and_a_record_is_never_its_own_duplicate(entities: list[Entity]) -> None:
    _cols, scorer = _model_for(entities)
    n = len(entities)
    forward = np.array([(i, j) for i in range(n) for j in range(n) if i != j])
    backward = forward[:, ::-1]
    p_forward, _ = scorer.score(forward)
    p_backward, _ = scorer.score(backward)
    assert np.allclose(p_forward, p_backward)
    p_self, _ = scorer.score(np.array([(i, i) for i in range(n)]))
    assert (p_self == 0).all()
    result = find_duplicates(entities)
    for group in result.clusters:
        assert len(group) == len(set(group)) >= 2


# ---------------------------------------------------------------- clustering


def test_colleagues_sharing_phone_and_address_are_not_duplicates() -> None:
    staff = [
        prepare(
            str(i),
            first=f,
            last=la,
            company="Acme Ltd",
            phone="0113 496 0000",
            address="1 Mill Rd",
            postcode="LS2 2BB",
        )
        for i, (f, la) in enumerate(
            [("Mary", "Jones"), ("John", "Brown"), ("Priya", "Shah"), ("Tom", "Jones")]
        )
    ]
    result = find_duplicates(staff)
    assert result.clusters == []


FIRST_NAMES = [
    "oliver",
    "amelia",
    "george",
    "isla",
    "harry",
    "ava",
    "noah",
    "mia",
    "jack",
    "ivy",
    "leo",
    "freya",
    "arthur",
    "lily",
    "oscar",
]
LAST_NAMES = [
    "taylor",
    "brown",
    "wilson",
    "evans",
    "walker",
    "wright",
    "robinson",
    "thompson",
    "white",
    "hughes",
    "edwards",
    "green",
]


def _neighbours(n: int = 30) -> list[Entity]:
    """A plausible list of unrelated customers, so EM has something to learn from."""
    return [
        prepare(
            f"f{i}",
            first=FIRST_NAMES[i % len(FIRST_NAMES)],
            last=LAST_NAMES[(i * 7) % len(LAST_NAMES)],
            email=f"{FIRST_NAMES[i % len(FIRST_NAMES)]}{i}@mail.com",
            phone=f"07700 9{i:05d}",
            address=f"{i + 3} Oak Road",
            postcode=f"LS{i % 9 + 1} {i % 7 + 1}AB",
        )
        for i in range(n)
    ]


def test_household_with_own_emails_is_not_a_duplicate() -> None:
    # Spouses: one surname, one address, one landline, each their own email.
    john = prepare(
        "H1",
        first="John",
        last="Smith",
        email="john.smith@x.com",
        phone="0113 496 0123",
        address="4 Elm Close",
        postcode="LS6 2QT",
    )
    mary = prepare(
        "H2",
        first="Mary",
        last="Smith",
        email="mary@y.org",
        phone="0113 496 0123",
        address="4 Elm Cl",
        postcode="LS6 2QT",
    )
    # The same person twice (nickname, new email) is still found.
    bob = prepare(
        "B1",
        first="Robert",
        last="Stone",
        email="rob@x.com",
        phone="07700 900777",
        address="9 Mill Lane",
        postcode="YO1 7HH",
    )
    bob2 = prepare(
        "B2",
        first="Bob",
        last="Stone",
        email="bob.stone@z.net",
        phone="07700900777",
        address="9 Mill Ln",
        postcode="YO1 7HH",
    )
    result = find_duplicates([john, mary, bob, bob2, *_neighbours()])
    keys = [sorted(result.entities[i].key for i in g) for g in result.clusters]
    assert keys == [["B1", "B2"]]


def test_private_contacts_without_emails_are_left_to_the_weights() -> None:
    # Without a company or emails nothing tells a household from a copy whose first
    # name was retyped; the estimated weights decide and the reasons say so.
    a = prepare(
        "H1", first="John", last="Smith", phone="0113 496 0123", address="4 Elm Close", postcode="LS6 2QT"
    )
    b = prepare(
        "H2", first="Mary", last="Smith", phone="0113 496 0123", address="4 Elm Close", postcode="LS6 2QT"
    )
    result = find_duplicates([a, b, *_neighbours()])
    p, comparison = result.scorer.score(np.array([[0, 1]]))
    assert not comparison.different_people[0] and comparison.first_names_differ[0]
    assert 0.0 < p[0] < 1.0
    assert "first names differ ('John Smith' / 'Mary Smith')" in explain(a, b, comparison, 0)


def test_one_ambiguous_record_does_not_chain_two_people() -> None:
    # A and B share an email; B and C share a phone; "J." fits both John and Jane,
    # but John and Jane are clearly different people (own first names, own emails).
    a = prepare("A", first="John", last="Smith", email="js@x.com", postcode="LS1 1AA")
    b = prepare("B", first="J.", last="Smith", email="js@x.com", phone="07700 900123", postcode="LS1 1AA")
    c = prepare("C", first="Jane", last="Smith", email="jane@y.org", phone="07700 900123", postcode="LS1 1AA")
    filler = [prepare(f"f{i}", first=f"x{i}name", last=f"y{i}name", postcode=f"YO{i} 1AA") for i in range(20)]
    result = find_duplicates([a, b, c, *filler])
    keys = [sorted(result.entities[i].key for i in g) for g in result.clusters]
    assert ["A", "B", "C"] not in keys
    assert any(set(k) <= {"A", "B", "C"} and len(k) == 2 and "B" in k for k in keys)


def test_cannot_link_keeps_a_pair_apart() -> None:
    a = prepare("A", first="Ann", last="Lee", email="ann@x.com")
    b = prepare("B", first="Ann", last="Lee", email="ann@x.com")
    assert find_duplicates([a, b]).clusters == [[0, 1]]
    assert find_duplicates([a, b], cannot_link=[(1, 0)]).clusters == []


def test_disagreement_is_never_better_evidence_than_agreement() -> None:
    # EM once learnt "different first name" = +2 and "same first name" = -0.4 on a list
    # where many strangers share a street address; the constraint pools such levels.
    m = np.array([0.5, 0.05, 0.05, 0.4])
    u = np.array([0.2, 0.05, 0.05, 0.7])
    fixed = disagreement_lowest(m, u)
    ratio = fixed / u
    assert ratio[0] <= ratio[1:].min() + 1e-12
    assert fixed.sum() == pytest.approx(m.sum())
    # Data that already behaves is left alone, including "close" above "same".
    fine = np.array([0.05, 0.1, 0.5, 0.35])
    u_fine = np.array([0.9, 0.05, 0.01, 0.04])
    assert np.array_equal(disagreement_lowest(fine, u_fine), fine)


def test_different_house_numbers_make_addresses_different() -> None:
    a = prepare("1", first="Emily", last="Hill", address="64 Queens Lane")
    b = prepare("2", first="Emily", last="Cran", address="257 Queens Lane")
    c = prepare("3", first="Emily", last="Hill", address="64 Queens Ln")
    d = prepare("4", first="Emily", last="Hill", address="Flat 2, 64 Queens Lane")
    entities = [a, b, c, d]
    comparison = compare(Columns(entities, used_fields(entities)), np.array([[0, 1], [0, 2], [0, 3]]))
    address = comparison.levels[:, comparison.fields.index("address")]
    assert address[0] == 0  # neighbours, not a typo
    assert address[1] == 3  # Ln written out
    assert address[2] >= 1  # a flat number on one side only: left to the similarity
    assert "addresses differ" in explain(a, b, comparison, 0)


def test_three_thousand_namesakes_in_one_town_stay_cheap_and_sane() -> None:
    # 3,000 "John Smith"s in Leeds on one street, each with their own email
    # (john7@ / john8@: numbers differ, so different mailboxes), and 1,500 of them
    # written down twice (the copy has the same email). The work stays bounded and
    # every group is one person's two rows, never a crowd of namesakes.
    def row(key: str, i: int) -> Entity:
        return prepare(
            key, first="John", last="Smith", city="Leeds", email=f"john{i}@example.com", address="High Street"
        )

    entities = [row(f"C{i}", i) for i in range(3000)] + [row(f"D{i}", i) for i in range(0, 3000, 2)]
    result = find_duplicates(entities)
    stats = result.stats
    assert result.candidates < len(entities) * 40
    assert stats["join_checks"] <= 50 * max(stats["strong_pairs"], 1)
    assert stats["extra_scored"] <= len(entities) * 300
    groups = [sorted(entities[i].key for i in g) for g in result.clusters]
    assert len(groups) == 1500
    assert all(len(g) == 2 and g[0][1:] == g[1][1:] for g in groups)


def test_a_huge_connected_set_is_grouped_without_quadratic_work() -> None:
    # A band of strong pairs (i, i+1..i+8) over 3,000 records joins them all into one
    # connected set, far above max_component. No pair outside the band is scored, every
    # group keeps every pair inside it at least keep_together likely (so it spans at
    # most nine neighbours: no chaining), and the checks stay proportional to the pairs.
    n, reach = 3000, 8
    entities = [prepare(f"C{i}", first=f"name{i}", last="Band") for i in range(n)]
    scorer = find_duplicates(entities[:50]).scorer
    pairs = np.array([(i, i + d) for i in range(n) for d in range(1, reach + 1) if i + d < n], dtype=np.int64)
    probabilities = np.linspace(0.99, 0.6, len(pairs))
    stats = ClusterStats()
    clusters, within = cluster(n, pairs, probabilities, scorer, stats=stats)
    assert stats.components == 1 and stats.largest_component == n and stats.large_components == 1
    assert stats.extra_scored == 0
    assert stats.join_checks <= 50 * len(pairs)
    assert clusters and all(2 <= len(g) <= MAX_GROUP for g in clusters)
    assert all(max(g) - min(g) <= reach for g in clusters)
    assert all(p >= 0.2 for p in within.values())
    seen = [x for g in clusters for x in g]
    assert len(seen) == len(set(seen))


def test_a_group_never_outgrows_max_group() -> None:
    # Thirty copies of one record: every pair is a strong match, yet a group stops at
    # max_group records and the rest form another group.
    entities = [prepare(f"C{i}", first="Ann", last="Lee", email="ann@x.com") for i in range(30)]
    others = [prepare(f"O{i}", first=f"x{i}name", last=f"y{i}name", email=f"o{i}@y.org") for i in range(20)]
    result = find_duplicates([*entities, *others])
    sizes = sorted(len(g) for g in result.clusters)
    assert sizes == [10, 20]
    assert result.stats["refused_size"] >= 1


def test_emails_one_edit_apart_are_one_mailbox_only_when_it_can_be_a_typo() -> None:
    emails = [
        "john.smith2@x.com",
        "john.smith3@x.com",
        "jsmith@x.com",
        "asmith@x.com",
        "jonh@x.com",
        "john@x.com",
    ]
    entities = [prepare(str(i), first="John", last="Smith", email=e) for i, e in enumerate(emails)]
    comparison = compare(Columns(entities, used_fields(entities)), np.array([[0, 1], [2, 3], [4, 5]]))
    email = comparison.levels[:, comparison.fields.index("email")].tolist()
    assert email == [0, 0, 1]  # other number, other initial: different people; a swap: a typo
