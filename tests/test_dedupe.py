"""The dedupe step through the library's front door, on an in-memory workbook."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sheet_crm import api
from sheet_crm.backends.memory import MemoryBackend
from sheet_crm.steps.dedupe import HEADERS, cluster_id

TODAY = date(2026, 11, 22)
CUSTOMER_HEADERS = [
    "Customer ID",
    "First name",
    "Last name",
    "Company",
    "Email",
    "Phone",
    "Address",
    "City",
    "Postcode",
]


def sheets() -> dict[str, list[list[object]]]:
    return {
        "Customers": [
            CUSTOMER_HEADERS,
            [
                "C-00001",
                "Robert",
                "Smith",
                "",
                "bob.smith@gmail.com",
                "07700 900123",
                "12 High St",
                "Leeds",
                "LS1 1AA",
            ],
            ["C-00002", "Bob", "Smith", "", "", "+447700900123", "12 High Street", "Leeds", "LS1 1AA"],
            [
                "C-00003",
                "Mary",
                "Jones",
                "Acme Ltd",
                "mary@acme.com",
                "0113 496 0000",
                "1 Mill Rd",
                "Leeds",
                "LS2 2BB",
            ],
            [
                "C-00004",
                "John",
                "Brown",
                "ACME Limited",
                "john@acme.com",
                "0113 496 0000",
                "1 Mill Rd",
                "Leeds",
                "LS2 2BB",
            ],
            ["C-00005", "Liz", "Taylor", "", "liz@example.com", "", "5 Park Lane", "York", "YO1 1AA"],
            ["C-00006", "Elizabeth", "Taylor", "", "Liz@Example.com", "07700 900555", "", "York", "YO1 1AA"],
            [
                "C-00007",
                "Priya",
                "Shah",
                "",
                "priya@example.org",
                "07700 900777",
                "9 Elm Road",
                "Bath",
                "BA1 1AA",
            ],
        ],
        "Orders": [
            ["Order ID", "Customer", "Date", "Amount"],
            ["1", "C-00002", "2025-01-01", 10],
            ["2", "C-00002", "2025-02-01", 10],
            ["3", "C-00001", "2025-03-01", 10],
            ["4", "C-00002", "2025-04-01", 10],
        ],
    }


def run(backend: MemoryBackend, hour: int = 9, **options: object) -> api.RunReport:
    return api.run(backend, ["dedupe"], today=TODAY, now=datetime(2026, 11, 22, hour), options=options)


def tab(backend: MemoryBackend, name: str) -> list[dict[str, object]]:
    grid = backend.sheets[name]
    headers = grid[1]
    return [dict(zip(headers, row, strict=False)) for row in grid[2:]]


def groups(backend: MemoryBackend) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for row in tab(backend, "Duplicates"):
        out.setdefault(str(row["Cluster ID"]), []).append(str(row["Customer ID"]))
    return out


def set_decision(backend: MemoryBackend, customer: str, column: str, value: object) -> None:
    grid = backend.sheets["Duplicates"]
    col = grid[1].index(column)
    for r, row in enumerate(grid[2:], start=3):
        if row[1] == customer:
            backend.set_cell("Duplicates", r, col + 1, value)
            return
    raise AssertionError(f"{customer} is not in the Duplicates tab")


def test_finds_nickname_and_email_duplicates_with_reasons() -> None:
    backend = MemoryBackend(sheets())
    report = run(backend)
    assert backend.sheets["Duplicates"][1] == HEADERS
    found = sorted(sorted(m) for m in groups(backend).values())
    assert found == [["C-00001", "C-00002"], ["C-00005", "C-00006"]]
    rows = {r["Customer ID"]: r for r in tab(backend, "Duplicates")}
    assert rows["C-00002"]["Reasons"] == "suggested to keep: most orders (3)"
    reasons = str(rows["C-00001"]["Reasons"])
    assert "same phone" in reasons
    assert "'Robert Smith' / 'Bob Smith' is a nickname match" in reasons
    assert "same email" in str(rows["C-00006"]["Reasons"])
    assert rows["C-00001"]["Cluster ID"] == cluster_id(["C-00002", "C-00001"])
    assert 0.5 < float(rows["C-00001"]["Match probability"]) <= 1.0  # type: ignore[arg-type]
    assert report.outputs["dedupe"].counts["clusters"] == 2
    # Proposing writes nothing into Customers.
    assert backend.sheets["Customers"] == sheets()["Customers"]
    assert report.plan.edits == [] or all(e.tab != "Customers" or e.column == 1 for e in report.plan.edits)


def test_colleagues_at_one_company_are_not_duplicates() -> None:
    backend = MemoryBackend(sheets())
    run(backend)
    listed = {c for members in groups(backend).values() for c in members}
    assert "C-00003" not in listed and "C-00004" not in listed


def test_cluster_id_is_stable_and_order_free() -> None:
    assert cluster_id(["C-2", "C-1"]) == cluster_id(["c-1", "C-2 "])
    assert cluster_id(["C-1", "C-2"]) != cluster_id(["C-1", "C-3"])
    assert cluster_id(["C-1", "C-2"]).startswith("D-")


def test_decisions_survive_a_rerun() -> None:
    backend = MemoryBackend(sheets())
    run(backend)
    set_decision(backend, "C-00006", "Keep", "x")
    run(backend, hour=10)
    rows = {r["Customer ID"]: r for r in tab(backend, "Duplicates")}
    assert rows["C-00006"]["Keep"] == "x"
    assert rows["C-00005"]["Keep"] is None


def test_not_duplicate_is_remembered_and_never_proposed_again() -> None:
    backend = MemoryBackend(sheets())
    run(backend)
    cid = cluster_id(["C-00005", "C-00006"])
    set_decision(backend, "C-00006", "Decision", "Not duplicate")
    for hour in (10, 11, 12):
        report = run(backend, hour=hour)
        rows = [r for r in tab(backend, "Duplicates") if r["Customer ID"] in {"C-00005", "C-00006"}]
        # Listed once, under the old cluster, with the owner's decision; no new proposal.
        assert {r["Cluster ID"] for r in rows} == {cid}
        decisions = {r["Customer ID"]: r["Decision"] for r in rows}
        assert decisions == {"C-00006": "Not duplicate", "C-00005": None}
        assert report.outputs["dedupe"].counts["kept_apart"] == 1
        assert all("C-00006" not in p.members for p in report.outputs["dedupe"].result.clusters)


def test_unknown_decision_is_a_finding() -> None:
    backend = MemoryBackend(sheets())
    run(backend)
    set_decision(backend, "C-00001", "Decision", "maybe")
    report = run(backend, hour=10)
    codes = [(f.location.cell, f.code) for f in report.findings if f.code.startswith("duplicate-")]
    assert len(codes) == 1 and codes[0][1] == "duplicate-decision-unknown"
    assert codes[0][0].startswith("Duplicates!M")
    assert backend.sheets["Customers"][1:3] == sheets()["Customers"][1:3]


def test_merge_decision_is_carried_out_and_orders_follow() -> None:
    backend = MemoryBackend(sheets())
    run(backend)
    set_decision(backend, "C-00001", "Decision", "merge")
    report = run(backend, hour=10)
    grid = backend.sheets["Customers"]
    assert grid[0][-1] == "Merged into"
    assert grid[1][9] == "C-00002"  # Robert merged into Bob (Bob has more orders)
    assert grid[2][4] == "bob.smith@gmail.com"  # Bob's blank email filled from Robert
    records = report.records
    assert records is not None
    assert records.find("C-00001") is records.find("C-00002")
    assert {o.customer_id for o in records.orders} == {"C-00002"}
    assert "C-00001" not in {c for m in groups(backend).values() for c in m}
    log = tab(backend, "Merge Log")
    assert {r["Action"] for r in log} == {"merge"}
    assert any(r["Cell"] == "Customers!E3" and r["After"] == "bob.smith@gmail.com" for r in log)
    # Bob keeps his own first name; Robert's is kept in the log, not lost.
    assert any(
        r["Column"] == "First name" and r["Before"] == "Robert" and r["After"] == "Robert" for r in log
    )


def test_keep_mark_chooses_the_survivor() -> None:
    backend = MemoryBackend(sheets())
    run(backend)
    set_decision(backend, "C-00001", "Decision", "merge")
    set_decision(backend, "C-00001", "Keep", "yes")
    run(backend, hour=10)
    assert backend.sheets["Customers"][2][9] == "C-00001"


def test_auto_merge_only_with_the_option() -> None:
    backend = MemoryBackend(sheets())
    run(backend, auto_merge_above=None)
    assert "Merge Log" not in backend.sheets
    report = run(backend, hour=10, auto_merge_above=0.9)
    assert report.outputs["dedupe"].counts["merged"] == 2
    assert "Merged into" in backend.sheets["Customers"][0]
    notes = [str(r["Note"]) for r in tab(backend, "Merge Log")]
    assert all("merged automatically" in n for n in notes)


def test_a_household_is_only_proposed_never_auto_merged() -> None:
    # Spouses with no emails, one surname, address and landline: the statistics may
    # call them one person, but different first names always wait for the owner.
    grid = sheets()
    grid["Customers"] += [
        ["C-00008", "John", "Walker", "", "", "0113 496 0123", "4 Elm Close", "Leeds", "LS6 2QT"],
        ["C-00009", "Mary", "Walker", "", "", "0113 496 0123", "4 Elm Close", "Leeds", "LS6 2QT"],
    ]
    backend = MemoryBackend(grid)
    report = run(backend, auto_merge_above=0.0)
    merged = report.outputs["dedupe"].data["merged"]
    assert report.outputs["dedupe"].counts["merged"] == 2
    assert all({"C-00008", "C-00009"}.isdisjoint([m["survivor"], *m["merged"]]) for m in merged)
    # Proposed for the owner to decide, with the difference spelt out.
    assert sorted(["C-00008", "C-00009"]) in [sorted(g) for g in groups(backend).values()]
    rows = {r["Customer ID"]: r for r in tab(backend, "Duplicates")}
    assert "first names differ ('Mary Walker' / 'John Walker')" in str(rows["C-00009"]["Reasons"])


def test_a_rejected_group_is_never_auto_merged() -> None:
    backend = MemoryBackend(sheets())
    run(backend)
    set_decision(backend, "C-00005", "Decision", "not duplicate")
    report = run(backend, hour=10, auto_merge_above=0.5)
    merged = report.outputs["dedupe"].data["merged"]
    assert all("C-00005" not in [m["survivor"], *m["merged"]] for m in merged)


people = st.tuples(
    st.sampled_from(["Ann", "Bob", "Robert", "Liz", "Elizabeth", "Jon", "John", ""]),
    st.sampled_from(["Lee", "Smith", "Smyth", ""]),
    st.sampled_from(["a@x.com", "A@x.com", "b@y.org", ""]),
    st.sampled_from(["07700 900123", "+447700900123", "07700 900999", ""]),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(people, min_size=2, max_size=8))
def test_nothing_is_merged_without_a_decision(rows: list[tuple[str, str, str, str]]) -> None:
    grid: list[list[object]] = [["Customer ID", "First name", "Last name", "Email", "Phone"]]
    grid += [[f"C-{i:05d}", *r] for i, r in enumerate(rows, start=1)]
    backend = MemoryBackend({"Customers": grid})
    for hour in (9, 10):
        report = run(backend, hour=hour)
        assert [e for e in report.plan.edits if e.tab == "Customers"] == []
    assert backend.sheets["Customers"] == grid
    assert "Merge Log" not in backend.sheets
