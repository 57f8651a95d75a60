"""Deduplication accuracy and speed: Febrl 1-3 and 100k generated contacts.

Prints figures; not a test. Run from the repository root::

    .venv/bin/python benchmarks/bench_dedupe.py            # everything
    .venv/bin/python benchmarks/bench_dedupe.py --febrl    # accuracy only
    .venv/bin/python benchmarks/bench_dedupe.py --scale 100000

Febrl (../shared/datasets/febrl): ``rec-N-org`` and ``rec-N-dup-K`` with the same N
are one person; the true pairs are all pairs within a group. Scored by pairwise
precision, recall and F1 over the pairs inside predicted clusters, in two profiles:
``all`` columns, and ``contact`` (no date_of_birth, no soc_sec_id), as a customer
list would be. The weights are estimated by EM from each data set; the labels are
only used to count.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import sys
import time
import tomllib
from importlib.resources import files
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sheet_crm.matching import Entity, find_duplicates, prepare

FEBRL = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "febrl"


def load_febrl(path: Path, profile: str) -> tuple[list[Entity], set[tuple[str, str]]]:
    """Entities and the true pairs of one Febrl file."""
    with path.open(newline="") as fh:
        rows = [{k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]
    entities = []
    groups: dict[str, list[str]] = {}
    for r in rows:
        rid = r["rec_id"]
        groups.setdefault(rid.split("-")[1], []).append(rid)
        entities.append(
            prepare(
                rid,
                first=r["given_name"],
                last=r["surname"],
                street_number=r["street_number"],
                address=r["address_1"],
                address2=r["address_2"],
                city=r["suburb"],
                postcode=r["postcode"],
                state=r["state"],
                birth=r["date_of_birth"] if profile == "all" else "",
                ident=r["soc_sec_id"] if profile == "all" else "",
            )
        )
    truth = {tuple(sorted(p)) for g in groups.values() for p in combinations(g, 2)}
    return entities, truth  # type: ignore[return-value]


def score(predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> tuple[float, float, float]:
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def bench_febrl() -> None:
    print("Febrl: pairwise precision / recall / F1 (seconds include normalising)")
    print("contact = the product default (sheet-crm dedupe); Febrl has no company or email column,")
    print("so the keep-apart rule never fires there and the weights alone decide")
    print(
        f"{'data set':<10} {'profile':<8} {'records':>7} {'true':>6} {'found':>6} "
        f"{'P':>7} {'R':>7} {'F1':>7} {'cands':>7} {'sec':>6}"
    )
    for name in ("dataset1", "dataset2", "dataset3"):
        path = FEBRL / f"{name}.csv"
        if not path.exists():
            print(f"{path} is missing")
            continue
        for profile in ("contact", "all"):
            t0 = time.perf_counter()
            entities, truth = load_febrl(path, profile)
            result = find_duplicates(entities)
            seconds = time.perf_counter() - t0
            predicted = result.predicted_pairs()
            p, r, f1 = score(predicted, truth)
            print(
                f"{name:<10} {profile:<8} {len(entities):>7} {len(truth):>6} {len(predicted):>6} "
                f"{p:>7.4f} {r:>7.4f} {f1:>7.4f} {result.candidates:>7} {seconds:>6.2f}"
            )


FIRST = [
    "james",
    "mary",
    "robert",
    "patricia",
    "john",
    "jennifer",
    "michael",
    "linda",
    "william",
    "elizabeth",
    "david",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "chris",
    "nancy",
    "daniel",
    "lisa",
    "matthew",
    "betty",
    "anthony",
    "margaret",
    "mark",
    "sandra",
    "donald",
    "ashley",
    "steven",
    "kimberly",
    "paul",
    "emily",
    "andrew",
    "donna",
    "joshua",
    "michelle",
    "kenneth",
    "carol",
    "kevin",
    "amanda",
    "brian",
    "melissa",
    "george",
    "deborah",
    "timothy",
    "stephanie",
]
LAST = [
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "perez",
    "thompson",
    "white",
    "harris",
    "sanchez",
    "clark",
    "ramirez",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
    "nelson",
    "baker",
    "hall",
    "rivera",
    "campbell",
    "mitchell",
    "carter",
    "roberts",
]
STREETS = [
    "high",
    "church",
    "station",
    "victoria",
    "park",
    "london",
    "green",
    "manor",
    "mill",
    "kings",
    "queens",
    "new",
    "grange",
    "school",
    "north",
    "south",
    "west",
    "east",
    "chapel",
    "albert",
]
# Made-up surnames (Ashford, Brockley ...) from the demo's word parts: the first 24 starts
# and 20 ends, lower case. Read from the data file, not through sheet_crm.demo, which
# would load openpyxl into the memory this script measures.
_DEMO_NAMES = tomllib.loads(files("sheet_crm").joinpath("data/demo_names.toml").read_text(encoding="utf-8"))
SYLLABLES_A = [start.lower() for start in _DEMO_NAMES["name_starts"][:24]]
SYLLABLES_B = [end.lower() for end in _DEMO_NAMES["name_ends"][:20]]
UNIT_LETTERS = [a + b for a in "ABDEFGH" for b in "JLNPQRSTUW"]


def _typo(rng: random.Random, s: str) -> str:
    if len(s) < 3:
        return s
    i = rng.randrange(len(s) - 1)
    return s[:i] + s[i + 1] + s[i] + s[i + 2 :]


def generate_contacts(
    n: int, dup_share: float = 0.1, seed: int = 1
) -> tuple[list[dict[str, str]], set[tuple[str, str]]]:
    """n contacts, ``dup_share`` of them copies of another with typical damage
    (typo, nickname, new email, missing phone, abbreviated street), and the true
    pairs (every two records made from one original)."""
    rng = random.Random(seed)
    originals = int(n * (1 - dup_share))
    rows: list[dict[str, str]] = []
    # Surnames: the common ones half the time, else made-up ones (Ashford, Brockley...)
    # so that names repeat about as often as in a real list of 100k people.
    made_up = [a + b for a in SYLLABLES_A for b in SYLLABLES_B]
    towns = (("Leeds", "LS"), ("York", "YO"), ("Bath", "BA"), ("Hull", "HU"), ("Derby", "DE"), ("Ely", "CB"))
    streets = [
        (town, f"{name.title()} {kind}", f"{area}{rng.randint(1, 30)} {rng.randint(1, 9)}")
        for town, area in towns
        for name in STREETS
        for kind in ("Street", "Road", "Lane", "Avenue", "Close")
    ]
    for k in range(originals):
        f = rng.choice(FIRST)
        la = rng.choice(LAST) if rng.random() < 0.5 else rng.choice(made_up)
        # A street lies in one town and one postcode sector, as in real addresses:
        # "12 High Street" recurs in other towns, never with the same postcode.
        town, street, district = streets[rng.randrange(len(streets))]
        rows.append(
            {
                "key": f"C{k}",
                "first": f.title(),
                "last": la.title(),
                "email": f"{f}.{la}{k}@example.com",
                "phone": f"+4477009{k:05d}",
                "address": f"{rng.randint(1, 300)} {street}",
                "city": town,
                "postcode": f"{district} {rng.choice(UNIT_LETTERS)}",
            }
        )
    copies: dict[str, list[str]] = {}
    nick = {"robert": "Bob", "william": "Bill", "elizabeth": "Liz", "james": "Jim", "michael": "Mike"}
    for k in range(n - originals):
        origin = rng.randrange(originals)
        src = dict(rows[origin])
        src["key"] = f"D{k}"
        copies.setdefault(f"C{origin}", []).append(src["key"])
        damage = rng.randrange(4)
        if damage == 0:
            src["last"] = _typo(rng, src["last"])
        elif damage == 1:
            src["first"] = nick.get(src["first"].lower(), src["first"])
            src["email"] = ""
        elif damage == 2:
            src["phone"] = ""
            src["address"] = src["address"].replace("Street", "St").replace("Road", "Rd")
        else:
            src["email"] = src["email"].upper()
        rows.append(src)
    rng.shuffle(rows)
    truth = {
        tuple(sorted(pair)) for origin, keys in copies.items() for pair in combinations([origin, *keys], 2)
    }
    return rows, truth  # type: ignore[return-value]


def bench_scale(n: int) -> None:
    rows, truth = generate_contacts(n)
    dups = sum(1 for r in rows if r["key"].startswith("D"))
    t0, c0 = time.perf_counter(), time.process_time()
    entities = [prepare(r.pop("key"), **r) for r in rows]
    t1 = time.perf_counter()
    result = find_duplicates(entities)
    t2, c2 = time.perf_counter(), time.process_time()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    found = sum(len(c) - 1 for c in result.clusters)
    print(
        f"{n} generated contacts ({dups} copies): normalise {t1 - t0:.1f} s, match {t2 - t1:.1f} s, "
        f"total {t2 - t0:.1f} s, {result.candidates} candidate pairs, {len(result.clusters)} clusters "
        f"({found} records to fold), peak memory {rss:.0f} MB"
    )
    print(f"  CPU time {c2 - c0:.1f} s (wall time above depends on the machine's load)")
    predicted = result.predicted_pairs()
    p, r, f1 = score(predicted, truth)
    print(f"  true pairs {len(truth)}, found {len(predicted)}: P {p:.4f}  R {r:.4f}  F1 {f1:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--febrl", action="store_true", help="only the Febrl accuracy figures")
    parser.add_argument("--scale", type=int, default=0, help="only the speed run with N contacts")
    args = parser.parse_args()
    if args.scale:
        bench_scale(args.scale)
        return
    bench_febrl()
    if not args.febrl:
        bench_scale(100_000)


if __name__ == "__main__":
    main()
