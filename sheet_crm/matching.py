"""Finding records that describe the same person: normalise, block, score, cluster.

Pure functions on plain values, so the dedupe step and the Febrl benchmark share
them. The pipeline:

1. ``prepare`` turns raw values into an ``Entity`` of comparable forms
   (``'Dr. Bob  Smith'`` -> first ``bob``, last ``smith``; ``J.Doe+news@GoogleMail.com``
   -> ``jdoe@gmail.com``; ``'Flat 3, 12 High St'`` -> ``'12 high street unit 3'``).
2. ``candidate_pairs`` gathers pairs sharing a blocking key (same email, same phone,
   sound-alike name, sound-alike name + postcode, company + city, ...). Every block is
   capped: a block larger than ``block_cap`` is only compared within a sliding window
   of its sorted members, so a common surname costs ``n * window`` comparisons, not
   ``n**2``. All pairs are never compared.
3. ``compare`` puts each pair's fields into agreement levels (exact / close / similar /
   different, or missing) with rapidfuzz, vectorised over all pairs at once.
4. ``fit`` estimates Fellegi-Sunter weights by EM from the candidate pairs themselves
   (no labels): m = P(level | same person), u = P(level | different people), with
   weak priors so a sheet of twenty customers still gets sensible weights. A missing
   value adds nothing either way.
5. ``cluster`` links pairs above ``link`` and groups them agglomeratively, merging two
   groups only if *every* pair across them is at least ``keep_together`` likely and
   not known to be different. One ambiguous record therefore cannot chain two
   different people into one cluster (complete linkage at a lower threshold).

Business rule on top of the statistics: two records whose first names clearly differ
(not a typo, nickname, initial or sound-alike) are never a match when they name the
same company (colleagues share the company's phone and address) or when both have an
email and the emails differ (two people in one household). Elsewhere the estimated
weights decide; a different first name counts strongly against there anyway.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import jellyfish
import numpy as np
import phonenumbers
from nicknames import NickNamer
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA, JaroWinkler

# ---------------------------------------------------------------- normalisers


def fold(text: str) -> str:
    """Lower case, accents removed, whitespace collapsed: ``' Zoë  Ångström '`` -> ``'zoe angstrom'``."""
    s = str(text or "")
    if not s.isascii():
        s = unicodedata.normalize("NFKD", s)
        s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return " ".join(s.lower().split())


def _words(text: str) -> list[str]:
    """Folded words with punctuation removed; apostrophes join (``O'Brien`` -> ``obrien``),
    other punctuation separates."""
    s = fold(text).replace("'", "").replace("’", "")
    return re.sub(r"[^0-9a-z]+", " ", s).split()


_GMAIL = {"gmail.com", "googlemail.com"}


def email_match_key(value: str) -> str:
    """The key two emails are blocked and compared by: case and spaces ignored, ``+tags``
    dropped, and for Gmail the dots too (Gmail ignores them) with googlemail.com read as
    gmail.com. ``' J.Doe+news@GoogleMail.com '`` -> ``'jdoe@gmail.com'``. Not an email -> ``''``.

    A key for finding one mailbox written two ways, never written to the sheet: the
    address validation keeps is ``normalize.normalize_email`` (dots and tags kept,
    ``''`` unless email-validator accepts it)."""
    s = "".join(str(value or "").split()).lower().strip("<>;,.")
    if s.startswith("mailto:"):
        s = s[7:]
    local, at, domain = s.rpartition("@")
    if not at or not local or "." not in domain:
        return ""
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        domain = "gmail.com"
        local = local.replace(".", "")
    return f"{local}@{domain}" if local else ""


_E164 = re.compile(r"\+[1-9]\d{6,14}")


def phone_match_key(value: str, default_country: str = "GB") -> str:
    """The key two phone numbers are blocked and compared by: E.164 for a possible
    number (``'07700 900123'`` -> ``'+447700900123'`` for GB), and for a number
    phonenumbers cannot parse its digits (so two copies of the same odd number still
    agree); blank -> ``''``.

    Not the number validation keeps (``normalize.normalize_phone``: ``''`` unless the
    number is valid for its country), which ``prepare`` takes instead when it has it."""
    s = str(value or "").strip()
    if not s:
        return ""
    if _E164.fullmatch(s):
        return s
    try:
        parsed = phonenumbers.parse(s, (default_country or "GB").upper())
        if phonenumbers.is_possible_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    digits = re.sub(r"\D", "", s)
    return digits if len(digits) >= 6 else ""


TITLES = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "doctor",
        "prof",
        "professor",
        "sir",
        "dame",
        "lady",
        "lord",
        "rev",
        "revd",
        "reverend",
        "fr",
        "father",
    ]
)
NAME_SUFFIXES = frozenset(
    ["jr", "jnr", "sr", "snr", "ii", "iii", "iv", "phd", "md", "esq", "obe", "mbe", "cbe"]
)


def name_tokens(value: str) -> list[str]:
    """A name's words without titles, suffixes or punctuation:
    ``'Dr. Mary-Jane O'Neil Jr'`` -> ``['mary', 'jane', 'oneil']``."""
    words = _words(value)
    return [w for w in words if w not in TITLES and w not in NAME_SUFFIXES]


@lru_cache(maxsize=100_000)
def split_name(first: str = "", last: str = "", name: str = "") -> tuple[str, str]:
    """(first, last) as comparable words. Separate first/last columns win; a single
    Name column is split: ``'Smith, John'`` and ``'Mr John A. Smith'`` both give
    ``('john', 'smith')``. The first name is its first word (an initial stays an
    initial); the last name keeps all its words (``'van der berg'``)."""
    if first or last:
        f = name_tokens(first)
        lt = name_tokens(last)
        return (f[0] if f else ""), " ".join(lt)
    if "," in name:
        surname, _, given = name.partition(",")
        f = name_tokens(given)
        return (f[0] if f else ""), " ".join(name_tokens(surname))
    words = name_tokens(name)
    if not words:
        return "", ""
    if len(words) == 1:
        return words[0], ""
    # Middle names and initials between first and last are dropped.
    return words[0], words[-1]


@lru_cache(maxsize=1)
def _nicknamer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=50_000)
def name_variants(first: str) -> frozenset[str]:
    """A first name with its nicknames and the names it is a nickname of, from the
    maintained ``nicknames`` list: ``'bob'`` -> {'bob', 'robert', ...}."""
    if len(first) < 2:
        return frozenset({first})
    nn = _nicknamer()
    return frozenset({first} | nn.nicknames_of(first) | nn.canonicals_of(first))


def is_nickname(a: str, b: str) -> bool:
    """Whether two different first names are a nickname pair (Bob/Robert, Liz/Elizabeth)."""
    return a != b and bool(a) and bool(b) and (b in name_variants(a) or a in name_variants(b))


def is_initial_of(a: str, b: str) -> bool:
    """``'j'`` and ``'john'``: one is an initial the other starts with."""
    if not a or not b or a == b:
        return False
    return (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b))


LEGAL_SUFFIXES = frozenset(
    [
        "ltd",
        "limited",
        "llc",
        "llp",
        "lp",
        "plc",
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "pty",
        "pty.",
        "gmbh",
        "ag",
        "sa",
        "sarl",
        "sas",
        "srl",
        "spa",
        "bv",
        "nv",
        "oy",
        "ab",
        "as",
        "aps",
        "kg",
        "ug",
        "kft",
        "sro",
        "pte",
        "pvt",
    ]
)


@lru_cache(maxsize=100_000)
def normalize_company(value: str) -> str:
    """Comparable company name: ``'The Smith & Sons Co. Pty Ltd'`` -> ``'smith and sons'``.
    Drops a leading "The", legal suffixes (Ltd, LLC, Pty, GmbH, Inc, ...) and punctuation;
    "&" reads as "and"."""
    s = fold(value).replace("&", " and ").replace("+", " and ")
    words = re.sub(r"[^0-9a-z]+", " ", s.replace("'", "")).split()
    if words and words[0] == "the":
        words = words[1:]
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    return " ".join(words)


STREET_WORDS = {
    "st": "street",
    "str": "street",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "dr": "drive",
    "drv": "drive",
    "ln": "lane",
    "ct": "court",
    "crt": "court",
    "pl": "place",
    "cres": "crescent",
    "cr": "crescent",
    "cl": "close",
    "tce": "terrace",
    "ter": "terrace",
    "pde": "parade",
    "hwy": "highway",
    "blvd": "boulevard",
    "sq": "square",
    "cct": "circuit",
    "cir": "circle",
    "gr": "grove",
    "gdns": "gardens",
    "pk": "park",
    "mt": "mount",
    "n": "north",
    "s": "south",
    "e": "east",
    "w": "west",
}
_UNIT = re.compile(r"\b(?:flat|apt|apartment|unit|suite|ste|no|number|#)\s*#?\s*([0-9]+[a-z]?|[a-z])\b")
_SLASH_UNIT = re.compile(r"\b([0-9]+[a-z]?)\s*/\s*([0-9]+[a-z]?)\b")


def normalize_address(value: str) -> str:
    """Comparable street address: abbreviations written out, unit numbers in one form.

    ``'Flat 3, 12 High St.'``, ``'3/12 High Street'`` and ``'12 high street apt 3'`` all
    give ``'12 high street unit 3'``."""
    s = fold(value).replace("'", "")
    units: list[str] = []

    def take_unit(m: re.Match[str]) -> str:
        units.append(m.group(1))
        return " "

    s = _SLASH_UNIT.sub(lambda m: f" unit {m.group(1)} {m.group(2)} ", s)
    s = re.sub(r"[^0-9a-z#/]+", " ", s)
    s = _UNIT.sub(take_unit, s)
    words = [STREET_WORDS.get(w, w) for w in re.sub(r"[^0-9a-z]+", " ", s).split()]
    # A lone "street" abbreviation used as a first word ("St James") stays a saint.
    if len(words) > 1 and words[0] == "street" and fold(value).startswith("st "):
        words[0] = "saint"
    out = " ".join(words)
    if units:
        out += " unit " + " ".join(units)
    return out


@lru_cache(maxsize=100_000)
def normalize_place(value: str) -> str:
    """A town or suburb: folded, punctuation removed, ``St``/``Mt`` written out."""
    words = _words(value)
    return " ".join({"st": "saint", "mt": "mount", "ft": "fort"}.get(w, w) for w in words)


@lru_cache(maxsize=100_000)
def normalize_postcode(value: str) -> str:
    """``' sw1a 1aa '`` -> ``'SW1A1AA'``; a US ZIP+4 keeps its five digits."""
    s = re.sub(r"[^0-9A-Za-z]", "", fold(value)).upper()
    if re.fullmatch(r"\d{9}", s) and "-" in str(value):
        return s[:5]
    return s


def normalize_code(value: str) -> str:
    """Identifiers and dates as bare letters and digits (``'1956-04-09'`` -> ``'19560409'``)."""
    return re.sub(r"[^0-9a-z]", "", fold(value))


# ---------------------------------------------------------------- entities


@dataclass(slots=True)
class Entity:
    """One record in comparable form. Empty string = unknown."""

    key: str
    first: str = ""
    last: str = ""
    email: str = ""
    phone: str = ""
    company: str = ""
    street_number: str = ""
    address: str = ""
    address2: str = ""
    city: str = ""
    postcode: str = ""
    state: str = ""
    birth: str = ""
    ident: str = ""
    display_name: str = ""  # as typed, for reasons

    @property
    def has_person(self) -> bool:
        return bool(self.first or self.last)


def prepare(
    key: str,
    *,
    first: str = "",
    last: str = "",
    name: str = "",
    email: str = "",
    phone: str = "",
    company: str = "",
    street_number: str = "",
    address: str = "",
    address2: str = "",
    city: str = "",
    postcode: str = "",
    state: str = "",
    birth: str = "",
    ident: str = "",
    default_country: str = "GB",
    email_normalized: str = "",
    phone_e164: str = "",
) -> Entity:
    """An ``Entity`` from raw values. ``email_normalized``/``phone_e164`` (from the
    validation step) are used when given; otherwise they are worked out here."""
    f, la = split_name(first, last, name)
    shown = " ".join(p for p in (str(first or "").strip(), str(last or "").strip()) if p) or str(name or "")
    return Entity(
        key=key,
        first=f,
        last=la,
        email=email_match_key(email_normalized or email),
        phone=phone_e164 or phone_match_key(phone, default_country),
        company=normalize_company(company),
        street_number=normalize_code(street_number),
        address=normalize_address(address),
        address2=normalize_address(address2),
        city=normalize_place(city),
        postcode=normalize_postcode(postcode),
        state=normalize_code(state),
        birth=normalize_code(birth),
        ident=normalize_code(ident),
        display_name=" ".join(shown.split()),
    )


# ---------------------------------------------------------------- blocking


@lru_cache(maxsize=200_000)
def _phonetic(word: str) -> str:
    """How a name sounds (Metaphone); names repeat, so each is worked out once."""
    return jellyfish.metaphone(word) if word else ""


@lru_cache(maxsize=200_000)
def _soundex(word: str) -> str:
    return jellyfish.soundex(word) if word else ""


def blocking_keys(e: Entity) -> list[str]:
    """The blocks a record joins. Each key is cheap and catches a different kind of
    error: a typo in the name still shares email/phone/address keys; a new email still
    shares the name keys; first and last name swapped share the sorted-sound key."""
    keys: list[str] = []
    if e.email:
        keys.append("e:" + e.email)
    if e.phone:
        keys.append("p:" + e.phone)
    pf = _phonetic(e.first.replace(" ", ""))
    pl = _phonetic(e.last.replace(" ", ""))
    if pf and pl:
        keys.append("n:" + "|".join(sorted((pf, pl))))
        keys.append("ls:" + _soundex(e.last) + e.first[:1])
    place = e.postcode or e.city
    if place:
        if pl:
            keys.append("lp:" + pl + "|" + place)
        if pf:
            keys.append("fp:" + pf + "|" + place)
        if e.street_number:
            keys.append("sp:" + e.street_number + "|" + place)
    if e.address:
        keys.append("a:" + e.address)
        if e.street_number:
            keys.append("an:" + e.street_number + "|" + e.address.split()[0])
    if e.company:
        keys.append("c:" + e.company + "|" + e.city)
    if e.birth:
        keys.append("b:" + e.birth)
    if e.ident:
        keys.append("i:" + e.ident)
    return keys


def _sort_key(e: Entity) -> str:
    return f"{e.last} {e.first} {e.postcode} {e.key}"


def candidate_pairs(
    entities: Sequence[Entity], *, block_cap: int = 40, window: int = 8, neighbourhood: int = 4
) -> np.ndarray:
    """Pairs ``(i, j)``, ``i < j``, worth scoring, as an ``(n, 2)`` int array.

    Blocks of up to ``block_cap`` members give all their pairs; a larger block is
    sorted by name and each member meets only the next ``window`` ones. On top, a
    sorted neighbourhood over last+first name meets the next ``neighbourhood`` records
    (catches typos every key missed). Cost grows with n, never n**2."""
    n = len(entities)
    empty = np.zeros((0, 2), dtype=np.int64)
    if n < 2:
        return empty
    block_of: dict[str, int] = {}
    block_ids: list[int] = []
    members: list[int] = []
    for i, e in enumerate(entities):
        for k in blocking_keys(e):
            block_ids.append(block_of.setdefault(k, len(block_of)))
            members.append(i)
    order = sorted(range(n), key=[_sort_key(e) for e in entities].__getitem__)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    block = np.array(block_ids, dtype=np.int64)
    member = np.array(members, dtype=np.int64)
    # Members of one block side by side, in name order inside the block: a pair
    # (k, k + d) is in one block when the block numbers agree. Small blocks give all
    # their pairs (d up to block_cap - 1), large ones only d <= window.
    by = np.lexsort((rank[member], block))
    block, member = block[by], member[by]
    size = np.bincount(block)[block]
    reach = np.where(size <= block_cap, block_cap - 1, window)
    found: list[np.ndarray] = []
    for d in range(1, max(block_cap, window + 1)):
        if d >= len(member):
            break
        ok = (block[:-d] == block[d:]) & (reach[:-d] >= d)
        if not ok.any():
            break
        found.append(_pair_codes(member[:-d][ok], member[d:][ok], n))
    if neighbourhood:
        ordered = np.array(order, dtype=np.int64)
        person = np.array([e.has_person for e in entities], dtype=bool)
        for d in range(1, neighbourhood + 1):
            if d >= n:
                break
            i, j = ordered[:-d], ordered[d:]
            found.append(_pair_codes(i[person[i]], j[person[i]], n))
    codes = np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)
    codes = codes[np.concatenate(([True], codes[1:] != codes[:-1]))] if len(codes) else codes
    return np.stack([codes // n, codes % n], axis=1) if len(codes) else empty


def _pair_codes(i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    """Pairs as single numbers ``low * n + high``, a record never with itself."""
    keep = i != j
    i, j = i[keep], j[keep]
    return np.minimum(i, j) * n + np.maximum(i, j)


# ---------------------------------------------------------------- comparing

# Field -> (kind, words for reasons). Kinds decide the levels:
#   name: 0 different, 1 similar (JW >= .8 or an initial), 2 close (JW >= .92 or nickname), 3 same
#   exact: 0 different, 1 one typo apart, 2 same
#   code: 0 different, 1 one edit apart (codes of 3+ characters), 2 same
#   text: 0 different, 1 similar (>= 75%), 2 close (>= 90%), 3 same
FIELDS: dict[str, tuple[str, str]] = {
    "first": ("name", "first name"),
    "last": ("name", "last name"),
    "email": ("exact", "email"),
    "phone": ("exact", "phone"),
    "company": ("text", "company"),
    "street_number": ("code", "house number"),
    "address": ("text", "address"),
    "address2": ("text", "address line 2"),
    "city": ("text", "town"),
    "postcode": ("code", "postcode"),
    "state": ("code", "state"),
    "birth": ("code", "date of birth"),
    "ident": ("code", "ID number"),
}
LEVELS = {"name": 4, "exact": 3, "code": 3, "text": 4}

# Priors: what m (same person) and u (different people) look like before the data
# speaks, level 0 first. EM moves away from them as soon as there are enough pairs.
M_PRIOR = {
    "name": (0.03, 0.07, 0.15, 0.75),
    "exact": (0.25, 0.05, 0.70),
    "code": (0.05, 0.10, 0.85),
    "text": (0.05, 0.10, 0.15, 0.70),
}
U_PRIOR = {
    "name": (0.90, 0.07, 0.02, 0.01),
    "exact": (0.985, 0.01, 0.005),
    "code": (0.90, 0.05, 0.05),
    "text": (0.90, 0.06, 0.02, 0.02),
}


@dataclass
class Comparison:
    """Agreement levels of many pairs: ``levels[k, f]`` for pair k and field
    ``fields[f]``; -1 = missing on either side."""

    fields: list[str]
    levels: np.ndarray  # int8 (pairs, fields)
    swapped: np.ndarray  # bool: first/last names matched crosswise
    nickname: np.ndarray  # bool: first names are a nickname pair
    first_sim: np.ndarray  # float: Jaro-Winkler of the first names as compared
    different_people: np.ndarray  # bool: kept apart by the business rule (see ``_keep_apart``)
    keep_apart: np.ndarray  # int8: 0, or the ``KEEP_APART`` code saying why
    first_names_differ: np.ndarray  # bool: clearly different first names (kept apart or not)


def used_fields(entities: Sequence[Entity]) -> list[str]:
    """The fields at least two records have (a column nobody filled tells nothing)."""
    out = []
    for f in FIELDS:
        filled = 0
        for e in entities:
            if getattr(e, f):
                filled += 1
                if filled >= 2:
                    out.append(f)
                    break
    return out


def _column(entities: Sequence[Entity], name: str) -> np.ndarray:
    return np.array([getattr(e, name) for e in entities], dtype=object)


def _sim(values: np.ndarray, a: np.ndarray, b: np.ndarray, scorer: Callable[..., float]) -> np.ndarray:
    """``scorer(values[a[k]], values[b[k]])`` for every k, each distinct pair of values
    computed once (``scorer`` must be symmetric). Town names, first names and surnames
    repeat a lot, so a million pairs come down to a few thousand string comparisons."""
    if len(a) == 0:
        return np.zeros(0, dtype=np.float32)
    size = max(len(values), 1)
    codes = np.minimum(a, b).astype(np.int64) * size + np.maximum(a, b)
    distinct, where = np.unique(codes, return_inverse=True)
    out = process.cpdist(values[distinct // size], values[distinct % size], scorer=scorer, workers=1)
    return out[where]


def _value_ids(column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A column as (distinct values, each row's index into them)."""
    distinct, ids = np.unique(column.astype(str), return_inverse=True)
    return distinct.astype(object), ids.astype(np.int64)


class Columns:
    """The entities' fields as arrays, built once and reused for every batch of pairs."""

    def __init__(self, entities: Sequence[Entity], fields: Sequence[str]) -> None:
        self.entities = entities
        self.fields = list(fields)
        self.values = {f: _column(entities, f) for f in set(self.fields) | {"first", "last"}}
        self.present = {f: np.array([bool(v) for v in col]) for f, col in self.values.items()}
        # First names as small integers, the nickname pairs among them, first letters,
        # lengths and sounds: lets ``compare`` test nicknames, initials and sound-alikes
        # for a million pairs without a Python loop per pair.
        names = sorted({e.first for e in entities} | {e.last for e in entities})
        self.name_id = {name: i for i, name in enumerate(names)}
        present = set(names)
        size = max(len(names), 1)
        nick_codes = [
            self.name_id[a] * size + self.name_id[b]
            for a in {e.first for e in entities}
            if len(a) >= 2
            for b in name_variants(a) & present
            if b != a
        ]
        self.nick_codes = np.unique(
            np.array(nick_codes + [b % size * size + b // size for b in nick_codes], np.int64)
        )
        self.size = size
        self.ids = {
            f: np.array([self.name_id[getattr(e, f)] for e in entities], np.int64) for f in ("first", "last")
        }
        self.lengths = {
            f: np.array([len(getattr(e, f)) for e in entities], np.int32) for f in ("first", "last")
        }
        self.initial = {
            f: np.array([getattr(e, f)[:1] for e in entities], dtype=object) for f in ("first", "last")
        }
        self._lengths: dict[str, np.ndarray] = {}
        self.names = np.array(names, dtype=object)
        self._ids: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.sound = {
            f: np.array([_phonetic(getattr(e, f)) for e in entities], dtype=object) for f in ("first", "last")
        }

    def value_ids(self, f: str) -> tuple[np.ndarray, np.ndarray]:
        """One field's distinct values and each record's index into them."""
        if f not in self._ids:
            self._ids[f] = _value_ids(self.values[f])
        return self._ids[f]

    def house_numbers(self, f: str) -> np.ndarray:
        """Each address's house number (its first number; unit numbers come last in
        the normalised form): ``'12 high street unit 3'`` -> ``'12'``; ``''`` if none.
        A flat number given on one record only is left to the text similarity."""
        key = "#" + f
        if key not in self._ids:
            found = (re.search(r"\b\d+[a-z]?\b", v) for v in self.values[f])
            nums = np.array([m.group(0) if m else "" for m in found], dtype=object)
            self._ids[key] = (nums, nums)
        return self._ids[key][0]

    def lengths_of(self, f: str) -> np.ndarray:
        """Lengths of one field's values (a one-typo code must be 3+ characters)."""
        if f not in self._lengths:
            self._lengths[f] = np.array([len(v) for v in self.values[f]], dtype=np.int32)
        return self._lengths[f]


def compare(cols: Columns, pairs: np.ndarray) -> Comparison:
    """Agreement levels of each pair on each field, vectorised with rapidfuzz."""
    left, right = pairs[:, 0], pairs[:, 1]
    k = len(pairs)
    levels = np.full((k, len(cols.fields)), -1, dtype=np.int8)
    p = cols.present
    # Names: compare straight and crosswise, keep the better reading (Febrl and
    # hurried typists swap first and last names).
    fa, fb = cols.ids["first"][left], cols.ids["first"][right]
    la, lb = cols.ids["last"][left], cols.ids["last"][right]
    jw = JaroWinkler.normalized_similarity
    ff, ll = _sim(cols.names, fa, fb, jw), _sim(cols.names, la, lb, jw)
    fl, lf = _sim(cols.names, fa, lb, jw), _sim(cols.names, la, fb, jw)
    all_four = p["first"][left] & p["first"][right] & p["last"][left] & p["last"][right]
    swapped = all_four & (fl >= 0.8) & (lf >= 0.8) & ((fl + lf) > (ff + ll) + 0.15)
    first_sim = np.where(swapped, fl, ff)
    last_sim = np.where(swapped, lf, ll)
    both_first = p["first"][left] & p["first"][right]
    # Which columns of the right-hand record are compared with the left first name.
    other = np.where(swapped, 1, 0)
    right_first_id = np.where(other == 1, cols.ids["last"][right], cols.ids["first"][right])
    codes = cols.ids["first"][left] * cols.size + right_first_id
    nick = both_first & ~swapped & (first_sim < 0.92) & np.isin(codes, cols.nick_codes)
    len_a = cols.lengths["first"][left]
    len_b = cols.lengths["first"][right]
    same_letter = cols.initial["first"][left] == cols.initial["first"][right]
    initial = both_first & ~swapped & (first_sim < 1) & same_letter & ((len_a == 1) | (len_b == 1))
    nick &= ~initial
    first_lv = np.select(
        [first_sim >= 0.9999, (first_sim >= 0.92) | nick, (first_sim >= 0.8) | initial], [3, 2, 1], 0
    )
    last_lv = np.select([last_sim >= 0.9999, last_sim >= 0.92, last_sim >= 0.8], [3, 2, 1], 0)
    both_last = p["last"][left] & p["last"][right]
    first_known = np.where(swapped, all_four, both_first)
    # Clearly different first names: not a typo (Jaro-Winkler below .8), not a
    # nickname or initial, and not sound-alikes (Catherine / Kathryn).
    names_differ = first_known & (first_sim < 0.8) & ~nick & ~initial
    sound_b = np.where(swapped, cols.sound["last"][right], cols.sound["first"][right])
    names_differ &= ~((first_sim >= 0.7) & (cols.sound["first"][left] == sound_b))
    same_id = np.zeros(k, dtype=bool)
    for f_i, f in enumerate(cols.fields):
        kind = FIELDS[f][0]
        if f == "first":
            levels[:, f_i] = np.where(first_known, first_lv, -1)
            continue
        if f == "last":
            levels[:, f_i] = np.where(np.where(swapped, all_four, both_last), last_lv, -1)
            continue
        known = p[f][left] & p[f][right]
        # Only pairs where both records have the value are compared.
        rows = np.flatnonzero(known)
        distinct, ids = cols.value_ids(f)
        a, b = ids[left[rows]], ids[right[rows]]
        if kind == "exact":
            d = _sim(distinct, a, b, OSA.distance)
            lv = np.select([d == 0, d <= 1], [2, 1], 0)
            if f == "email":
                typo = np.flatnonzero(lv == 1)
                lv[typo] = _email_typo(distinct, a[typo], b[typo])
        elif kind == "code":
            d = _sim(distinct, a, b, OSA.distance)
            lens = np.minimum(cols.lengths_of(f)[left[rows]], cols.lengths_of(f)[right[rows]])
            lv = np.select([d == 0, (d <= 1) & (lens >= 3)], [2, 1], 0)
        else:
            s = (
                np.maximum(_sim(distinct, a, b, fuzz.ratio), _sim(distinct, a, b, fuzz.token_sort_ratio))
                / 100.0
            )
            lv = np.select([s >= 0.9999, s >= 0.9, s >= 0.75], [3, 2, 1], 0)
            if f in ("address", "address2"):
                # "64 Queens Lane" and "257 Queens Lane" are neighbours, not a typo:
                # house numbers that differ make two addresses different.
                numbers = cols.house_numbers(f)
                na, nb = numbers[left[rows]], numbers[right[rows]]
                lv = np.where((na != "") & (nb != "") & (na != nb), 0, lv)
        full = np.full(k, -1, dtype=np.int8)
        full[rows] = lv
        lv = full
        levels[:, f_i] = lv
        if f in ("birth", "ident"):
            same_id |= known & (lv == 2)
    keep_apart = _keep_apart(cols.fields, levels, names_differ, same_id)
    return Comparison(
        list(cols.fields),
        levels,
        swapped,
        nick,
        first_sim,
        keep_apart > 0,
        keep_apart,
        names_differ & ~same_id,
    )


def _one_mailbox(x: str, y: str) -> bool:
    """Whether two emails one edit apart can be one mailbox mistyped: not when they
    start differently (``jsmith`` / ``asmith``: initial + surname) or their numbers
    differ (``john.smith2`` / ``john.smith3``): those are how different people with
    alike names get their addresses."""
    return x[:1] == y[:1] and re.sub(r"\D", "", x) == re.sub(r"\D", "", y)


def _email_typo(distinct: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Level 1 ("one typo apart") where ``_one_mailbox`` allows it, else 0 (different)."""
    if len(a) == 0:
        return np.zeros(0, dtype=np.int64)
    size = max(len(distinct), 1)
    codes = np.minimum(a, b).astype(np.int64) * size + np.maximum(a, b)
    uniq, where = np.unique(codes, return_inverse=True)
    ok = np.array([_one_mailbox(distinct[c // size], distinct[c % size]) for c in uniq], dtype=bool)
    return np.where(ok[where], 1, 0)


def _keep_apart(
    fields: list[str], levels: np.ndarray, names_differ: np.ndarray, same_id: np.ndarray
) -> np.ndarray:
    """Which pairs the business rule keeps apart, and why (``KEEP_APART`` codes).

    A clearly different first name is only decisive where a shared phone and address
    say nothing about being one person:

    - the same company on both records (B2B): colleagues share the switchboard and
      the office address;
    - both records have an email and the emails differ: two people in one household
      (or one office) each with their own address.

    Anywhere else (a private contact without emails, say) the EM weights decide, and
    a different first name already counts strongly against there. The same date of
    birth or ID number overrides the rule (a nickname the list does not know, a name
    typed in the wrong column)."""
    k = len(levels)
    out = np.zeros(k, dtype=np.int8)
    if k == 0:
        return out
    col = {f: i for i, f in enumerate(fields)}
    company = levels[:, col["company"]] if "company" in col else np.full(k, -1, np.int8)
    email = levels[:, col["email"]] if "email" in col else np.full(k, -1, np.int8)
    out[names_differ & (email == 0)] = 2
    out[names_differ & (company >= 2)] = 1
    out[same_id] = 0
    return out


# Why a pair was kept apart (``Comparison.keep_apart``), as said in the reasons.
KEEP_APART = {
    1: "are different people at one company (first names differ)",
    2: "are different people (first names and emails differ)",
}


# ---------------------------------------------------------------- weights (EM)


@dataclass
class Model:
    """Fellegi-Sunter parameters: per field and level, m and u; ``prior`` = share of
    candidate pairs that are matches."""

    fields: list[str]
    m: list[np.ndarray]
    u: list[np.ndarray]
    prior: float
    iterations: int = 0

    def weights(self) -> list[np.ndarray]:
        """log(m/u) per field and level: how much each agreement level says."""
        return [np.log(m) - np.log(u) for m, u in zip(self.m, self.u, strict=True)]

    def log_odds(self, levels: np.ndarray) -> np.ndarray:
        out = np.full(len(levels), math.log(self.prior / (1 - self.prior)))
        for f_i, w in enumerate(self.weights()):
            lv = levels[:, f_i]
            known = lv >= 0
            out[known] += w[lv[known]]
        return out

    def probability(self, levels: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.log_odds(levels), -50, 50)))


def _counts(levels: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    known = levels >= 0
    return np.bincount(levels[known], weights=weights[known], minlength=size)[:size]


def _patterns(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``levels`` and how many times each occurs."""
    codes = np.zeros(len(levels), dtype=np.int64)
    for f_i in range(levels.shape[1]):
        codes = codes * 8 + (levels[:, f_i].astype(np.int64) + 1)
    order = np.argsort(codes, kind="stable")
    codes = codes[order]
    starts = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1])))
    counts = np.diff(np.append(starts, len(codes)))
    return levels[order[starts]], counts.astype(float)


def disagreement_lowest(m: np.ndarray, u: np.ndarray) -> np.ndarray:
    """m adjusted so that a disagreement (level 0) is never better evidence of a match
    than any level of agreement, keeping m's total.

    Without this, EM on a list where many different people share one value (one
    street address in several towns, say) can settle on "same address, different
    names" as what a match looks like and give a different name a positive weight.
    Levels whose m/u falls below that of level 0 are pooled with it, each level of the
    pool keeping a share of the pooled m in proportion to its u. The order among the
    agreeing levels is left to the data: blocking makes exact agreement common among
    the non-matches it brings together, so "close" can honestly say more than "same"."""
    pool = {0}
    while True:
        pm = sum(float(m[i]) for i in pool)
        pu = sum(float(u[i]) for i in pool)
        rest = [i for i in range(1, len(m)) if i not in pool]
        worst = min(rest, key=lambda i: float(m[i]) / float(u[i]), default=None)
        if worst is None or float(m[worst]) * pu >= pm * float(u[worst]):
            break
        pool.add(worst)
    if len(pool) == 1:
        return m
    out = np.array(m, dtype=float)
    for i in pool:
        out[i] = pm * float(u[i]) / pu
    return np.clip(out, 1e-6, 1)


def fit(
    comparison: Comparison,
    random_comparison: Comparison | None = None,
    *,
    max_iterations: int = 60,
    prior_strength: float = 20.0,
    max_share: float = 1.0,
) -> Model:
    """Fellegi-Sunter m, u and the match share estimated by EM on the candidate pairs.

    u starts from random pairs (what different people look like) and m from priors;
    both are updated by EM with ``prior_strength`` pseudo-pairs pulling towards
    the priors, so small sheets stay sensible and large ones follow their data.
    Pairs the business rule marks as different people are left out: they are
    decided already and would teach the model that households are matches."""
    fields = comparison.fields
    levels = comparison.levels[~comparison.different_people]
    u0 = []
    for f_i, f in enumerate(fields):
        kind = FIELDS[f][0]
        prior = np.array(U_PRIOR[kind])
        if random_comparison is not None and len(random_comparison.levels):
            c = _counts(random_comparison.levels[:, f_i], np.ones(len(random_comparison.levels)), len(prior))
            prior = (c + prior_strength * prior) / (c.sum() + prior_strength)
        u0.append(prior)
    m0 = [np.array(M_PRIOR[FIELDS[f][0]]) for f in fields]
    m = [x.copy() for x in m0]
    u = [x.copy() for x in u0]
    prior = 0.1
    model = Model(fields, m, u, prior)
    if len(levels) == 0:
        return model
    # EM only sees which levels a pair has: a million pairs are a few thousand
    # distinct patterns, each counted once with its number of pairs.
    levels, weight = _patterns(levels)
    total = float(weight.sum())
    for it in range(max_iterations):
        p = model.probability(levels)
        new_prior = min(float(((p * weight).sum() + 1.0) / (total + 2.0)), max_share)
        for f_i in range(len(fields)):
            size = len(m0[f_i])
            cm = _counts(levels[:, f_i], p * weight, size)
            cu = _counts(levels[:, f_i], (1.0 - p) * weight, size)
            model.m[f_i] = np.clip((cm + prior_strength * m0[f_i]) / (cm.sum() + prior_strength), 1e-6, 1)
            model.u[f_i] = np.clip((cu + prior_strength * u0[f_i]) / (cu.sum() + prior_strength), 1e-6, 1)
            model.m[f_i] = disagreement_lowest(model.m[f_i], model.u[f_i])
        change = abs(new_prior - model.prior)
        model.prior = min(max(new_prior, 1e-6), 1 - 1e-6)
        model.iterations = it + 1
        if change < 1e-6:
            break
    return model


def random_pairs(n: int, count: int, seed: int = 7) -> np.ndarray:
    """``count`` random pairs of distinct records (for estimating u)."""
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n, size=count)
    b = rng.integers(0, n - 1, size=count)
    b = np.where(b >= a, b + 1, b)
    return np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1)


# ---------------------------------------------------------------- scoring


@dataclass
class Scorer:
    """Scores any pair of the entities with a fitted model (pairs outside the
    blocks too, as clustering needs), applying the different-people rule and
    owner-known rejections."""

    cols: Columns
    model: Model
    cannot_link: frozenset[tuple[int, int]] = frozenset()
    keep_apart_rule: bool = True

    def score(self, pairs: np.ndarray, comparison: Comparison | None = None) -> tuple[np.ndarray, Comparison]:
        """Match probability of each pair (``comparison`` reused when already computed)."""
        pairs = np.sort(np.asarray(pairs, dtype=np.int64).reshape(-1, 2), axis=1)
        if comparison is None:
            comparison = compare(self.cols, pairs)
        if len(pairs) == 0:
            return np.zeros(0), comparison
        p = self.model.probability(comparison.levels)
        if self.keep_apart_rule:
            p = np.where(comparison.different_people, np.minimum(p, 0.001), p)
        if self.cannot_link:
            banned = np.array([(int(i), int(j)) in self.cannot_link for i, j in pairs], dtype=bool)
            p = np.where(banned, 0.0, p)
        p = np.where(pairs[:, 0] == pairs[:, 1], 0.0, p)
        return p, comparison


# ---------------------------------------------------------------- clustering


class _DisjointSet:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


# At most this many matching pairs per record on average (see ``find_duplicates``).
MATCHES_PER_RECORD = 2.0

# Nobody is written down more than this many times in one customer list: a group that
# would grow beyond it is refused (two groups of namesakes stay two groups), which also
# bounds the work of checking a join to MAX_GROUP**2 pairs.
MAX_GROUP = 20


@dataclass
class ClusterStats:
    """What ``cluster`` did, for tests and benchmarks (the work is bounded, see there)."""

    strong_pairs: int = 0
    components: int = 0
    largest_component: int = 0
    large_components: int = 0  # above max_component: no extra pairs scored
    extra_scored: int = 0  # pairs scored because blocking had not produced them
    join_checks: int = 0  # pairs looked up while deciding joins
    refused_size: int = 0
    refused_apart: int = 0


def cluster(
    n: int,
    pairs: np.ndarray,
    probabilities: np.ndarray,
    scorer: Scorer,
    *,
    link: float = 0.5,
    keep_together: float = 0.2,
    max_component: int = 300,
    max_group: int = MAX_GROUP,
    stats: ClusterStats | None = None,
) -> tuple[list[list[int]], dict[tuple[int, int], float]]:
    """Groups of records that are the same person, and the probability of every pair
    inside them.

    Pairs at or above ``link`` connect records; each connected set is then rebuilt
    greedily from its strongest pair down, joining two groups only when every pair
    across them scores at least ``keep_together``. So if A~B and B~C but A and C are
    clearly different people, B joins the closer of the two and the other stays out.

    The work is bounded whatever the data (3,000 "John Smith"s in one town, say):

    - a group never grows beyond ``max_group`` records (a join that would is refused),
      so checking a join looks at most ``max_group**2`` pairs;
    - two groups found unable to join are remembered as such (groups only grow, so a
      pair across them that is too weak stays there) and are not checked again;
    - pairs blocking did not produce are scored only inside connected sets of at most
      ``max_component`` records; in larger sets they count as unlikely, so a group there
      needs every pair inside it to come from blocking.
    """
    st = stats if stats is not None else ClusterStats()
    strong = probabilities >= link
    st.strong_pairs = int(strong.sum())
    ds = _DisjointSet(n)
    for i, j in pairs[strong]:
        ds.union(int(i), int(j))
    components: dict[int, list[int]] = {}
    for i, j in pairs[strong]:
        for x in (int(i), int(j)):
            components.setdefault(ds.find(x), [])
    for x in range(n):
        r = ds.find(x)
        if r in components:
            components[r].append(x)
    st.components = len(components)
    st.largest_component = max((len(m) for m in components.values()), default=0)
    # Only pairs that could matter inside a group: the rest count as 0.
    relevant = probabilities >= min(keep_together, link)
    known: dict[tuple[int, int], float] = {
        (int(i), int(j)): float(p) for (i, j), p in zip(pairs[relevant], probabilities[relevant], strict=True)
    }
    # Score every pair inside each small component that blocking did not produce.
    missing: list[tuple[int, int]] = []
    for members in components.values():
        if len(members) > max_component:
            st.large_components += 1
        elif len(members) > 2:
            for a in range(len(members)):
                for b in range(a + 1, len(members)):
                    key = (members[a], members[b])
                    if key not in known:
                        missing.append(key)
    if missing:
        st.extra_scored = len(missing)
        p_missing, _ = scorer.score(np.array(missing, dtype=np.int64))
        for key, p in zip(missing, p_missing, strict=True):
            if p >= keep_together:
                known[key] = float(p)
    # Strong edges by component, strongest first (ties by pair, so the result is stable).
    strong_edges: dict[int, list[tuple[float, int, int]]] = {}
    for (i, j), p in zip(pairs[strong], probabilities[strong], strict=True):
        strong_edges.setdefault(ds.find(int(i)), []).append((-float(p), int(i), int(j)))
    clusters: list[list[int]] = []
    within: dict[tuple[int, int], float] = {}
    for root, members in components.items():
        edges = strong_edges.get(root, [])
        if len(members) <= max_component:
            # Extra scored pairs can be strong too.
            listed = {(a, b) for _p, a, b in edges}
            edges = edges + [
                (-known[(a, b)], a, b)
                for ai, a in enumerate(members)
                for b in members[ai + 1 :]
                if (a, b) not in listed and known.get((a, b), 0.0) >= link
            ]
        edges.sort()
        group = {x: [x] for x in members}
        owner = {x: x for x in members}
        refused: set[tuple[int, int]] = set()
        for _p, a, b in edges:
            ga, gb = owner[a], owner[b]
            if ga == gb:
                continue
            pair_key = (ga, gb) if ga < gb else (gb, ga)
            if pair_key in refused:
                continue
            if len(group[ga]) + len(group[gb]) > max_group:
                st.refused_size += 1
                refused.add(pair_key)
                continue
            ok = True
            for x in group[ga]:
                for y in group[gb]:
                    st.join_checks += 1
                    if known.get((x, y) if x < y else (y, x), 0.0) < keep_together:
                        ok = False
                        break
                if not ok:
                    break
            if not ok:
                st.refused_apart += 1
                refused.add(pair_key)
                continue
            keep, drop = (ga, gb) if len(group[ga]) >= len(group[gb]) else (gb, ga)
            for x in group[drop]:
                owner[x] = keep
            group[keep].extend(group.pop(drop))
        for g in group.values():
            if len(g) >= 2:
                g.sort()
                clusters.append(g)
                for ai, a in enumerate(g):
                    for b in g[ai + 1 :]:
                        within[(a, b)] = known.get((a, b), 0.0)
    clusters.sort()
    return clusters, within


# ---------------------------------------------------------------- all together


@dataclass
class MatchResult:
    entities: Sequence[Entity]
    clusters: list[list[int]]  # entity indexes, each sorted
    pair_probability: dict[tuple[int, int], float]  # (i, j), i < j, inside clusters
    model: Model
    scorer: Scorer
    candidates: int = 0
    stats: dict[str, float] = field(default_factory=dict)  # ``ClusterStats`` as a dict

    def predicted_pairs(self) -> set[tuple[str, str]]:
        """Every pair of keys inside a cluster (what pairwise precision/recall count)."""
        out: set[tuple[str, str]] = set()
        for g in self.clusters:
            keys = sorted(self.entities[i].key for i in g)
            for a in range(len(keys)):
                for b in range(a + 1, len(keys)):
                    out.add((keys[a], keys[b]))
        return out


def find_duplicates(
    entities: Sequence[Entity],
    *,
    cannot_link: Iterable[tuple[int, int]] = (),
    link: float = 0.5,
    keep_together: float = 0.2,
    block_cap: int = 40,
    window: int = 8,
    random_sample: int = 20_000,
    keep_apart_rule: bool = True,
) -> MatchResult:
    """Clusters of records that are probably the same person (see the module docstring)."""
    n = len(entities)
    fields = used_fields(entities)
    cols = Columns(entities, fields)
    pairs = candidate_pairs(entities, block_cap=block_cap, window=window)
    comparison = compare(cols, pairs)
    sample = random_pairs(n, min(random_sample, max(0, n * (n - 1) // 2)))
    random_comparison = compare(cols, sample) if len(sample) else None
    if not keep_apart_rule:
        comparison.different_people[:] = False
        comparison.keep_apart[:] = 0
    # Nobody is on a list very many times: at most about MATCHES_PER_RECORD matching pairs
    # per record (groups of five on average). Without this bound, EM on a list where
    # names repeat a lot (thousands of namesakes among the candidate pairs) can settle on
    # "same name, everything else different" as what a match looks like.
    max_share = min(1.0, MATCHES_PER_RECORD * n / max(len(pairs), 1))
    model = fit(comparison, random_comparison, max_share=max_share)
    banned = frozenset((min(a, b), max(a, b)) for a, b in cannot_link)
    scorer = Scorer(cols, model, banned, keep_apart_rule)
    p, _ = scorer.score(pairs, comparison)
    st = ClusterStats()
    clusters, within = cluster(n, pairs, p, scorer, link=link, keep_together=keep_together, stats=st)
    return MatchResult(entities, clusters, within, model, scorer, candidates=len(pairs), stats=dict(vars(st)))


# ---------------------------------------------------------------- reasons


def _plural(word: str) -> str:
    return word + ("es" if word.endswith("s") else "s")


def explain(a: Entity, b: Entity, comparison: Comparison, row: int = 0) -> list[str]:
    """The evidence for and against one compared pair, in plain words:
    ``["same phone", "'Bob Smith' / 'Robert Smith' is a nickname match", "emails differ"]``."""
    levels = {f: int(comparison.levels[row, i]) for i, f in enumerate(comparison.fields)}
    agree: list[str] = []
    close: list[str] = []
    differ: list[str] = []
    name_a = a.display_name or f"{a.first} {a.last}".strip()
    name_b = b.display_name or f"{b.first} {b.last}".strip()
    fl, ll = levels.get("first", -1), levels.get("last", -1)
    if bool(comparison.different_people[row]):
        differ.append(f"'{name_a}' / '{name_b}' {KEEP_APART[int(comparison.keep_apart[row])]}")
    elif bool(comparison.nickname[row]):
        close.append(f"'{name_a}' / '{name_b}' is a nickname match")
    elif bool(comparison.swapped[row]):
        close.append(f"'{name_a}' / '{name_b}': first and last name swapped")
    elif fl == 3 and ll == 3:
        agree.append("same name")
    elif fl >= 0 or ll >= 0:
        if fl == 1 and is_initial_of(a.first, b.first):
            close.append(f"'{name_a}' / '{name_b}': an initial matches the first name")
        elif min(x for x in (fl, ll) if x >= 0) >= 1:
            close.append(f"'{name_a}' / '{name_b}' are spelt alike")
        elif ll == 0 and fl >= 2:
            differ.append(f"last names differ ('{name_a}' / '{name_b}')")
        elif fl == 0 and ll >= 0:
            differ.append(f"first names differ ('{name_a}' / '{name_b}')")
    for f in comparison.fields:
        if f in ("first", "last"):
            continue
        lv = levels[f]
        if lv < 0:
            continue
        kind, label = FIELDS[f]
        top = LEVELS[kind] - 1
        if lv == top:
            agree.append(f"same {label}")
        elif lv > 0:
            va, vb = getattr(a, f), getattr(b, f)
            close.append(f"similar {label} ('{va}' / '{vb}')")
        else:
            differ.append(f"{_plural(label)} differ")
    return agree + close + differ
