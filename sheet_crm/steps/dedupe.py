"""Duplicates: find customers who are probably the same, let the owner decide, merge.

Each run, in this order:

1. Read the owner's decisions from the ``Duplicates`` tab as it is now (a group is
   all rows with one Cluster ID):

   - a row marked ``not duplicate`` keeps that customer apart from every other
     customer of its group, for good: the group is listed again at the bottom of the
     tab with that decision (the tab itself is the memory), and the pairs are never
     proposed again. Clear the decision to let them be proposed again.
   - if any row of a group says ``merge``, the customers of that group not marked
     ``not duplicate`` are merged into one (the row marked in Keep survives, else the
     rule in ``merge.choose_survivor``).

2. Carry out those merges (``merge.Merger``). The records are not changed: the
   result's ``record_changes`` says what the merges change (Merged into, the
   survivor's blanks filled), and the pipeline makes the records every later step
   reads from it, so they count the merged rows' orders for the survivor.
3. Match the remaining customers (``matching.find_duplicates``), never pairing ones
   the owner kept apart.
4. With ``--auto-merge-above P``, merge groups whose every pair is above P and whose
   first names do not clearly differ (two people of one household sharing a phone
   and an address can score high: only the owner merges those); nothing else is
   merged without a decision.
5. Write the proposals: one row per member, with a Cluster ID derived from the sorted
   customer IDs (so a decision stays attached as long as the group is the same).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from ..findings import Location, Severity
from ..matching import Entity, MatchResult, explain, find_duplicates, prepare
from ..merge import MERGE_LOG, MergeOutcome, Merger, choose_survivor, merge_log_tab
from ..merge import undo_plan as _undo_plan
from ..model import CUSTOMER_FIELD_NAMES, Customer, RecordChanges
from ..normalize import text
from ..workbook import Cell, Table, ToolTab, Workbook, WritePlan, header_key, is_blank
from . import Context, StepOutput

DUPLICATES = "Duplicates"
HEADERS = [
    "Cluster ID",
    "Customer ID",
    "Row",
    "Name",
    "Email",
    "Phone",
    "Company",
    "Address",
    "Postcode",
    "Orders",
    "Match probability",
    "Reasons",
    "Decision",
    "Keep",
]
DECISION_COLUMNS = ("Decision", "Keep")
KEY_COLUMNS = ("Cluster ID", "Customer ID")
TAB_NOTE = (
    "Customers who are probably the same. Type merge in Decision (on any row of a group) to merge "
    "the group on the next run, or not duplicate on a row to keep that customer apart from the "
    "others for good. Mark Keep on the record that should stay (optional)."
)
MERGE_WORDS = {"merge", "merged", "yes", "y", "same", "duplicate"}
REJECT_WORDS = {
    "notduplicate",
    "notaduplicate",
    "notdup",
    "no",
    "n",
    "different",
    "keepapart",
    "keepseparate",
}
NO_WORDS = {"no", "n", "false", "0", "-"}

__all__ = ["DedupeResult", "ProposedCluster", "cluster_id", "run", "undo_plan"]


def undo_plan(workbook: Workbook, cluster_id: str, now: datetime) -> tuple[WritePlan, list[str]]:
    """Put back a merge (see ``merge.undo_plan``)."""
    return _undo_plan(workbook, cluster_id, now)


def cluster_id(keys: Sequence[str]) -> str:
    """A stable ID for a group of customers: the same customers give the same ID on
    every run, in any order (``D-`` and 6 hex digits of a hash of the sorted IDs)."""
    joined = "|".join(sorted(k.strip().casefold() for k in keys))
    return "D-" + hashlib.sha1(joined.encode()).hexdigest()[:6].upper()


@dataclass
class ProposedCluster:
    cluster_id: str
    members: list[str]  # customer keys, survivor first
    probability: float  # the weakest pair inside
    survivor_reason: str
    reasons: dict[str, str]  # member key -> reasons against the suggested survivor
    member_probability: dict[str, float]


@dataclass
class DedupeResult:
    clusters: list[ProposedCluster] = field(default_factory=list)
    merges: list[MergeOutcome] = field(default_factory=list)
    kept_apart: set[frozenset[str]] = field(default_factory=set)  # pairs the owner rejected
    # What the merges change in the records the later steps read: each merged row's
    # Merged into, the survivor's blanks filled (by index in ``records.customers``).
    record_changes: RecordChanges = field(default_factory=RecordChanges)


@dataclass
class _Group:
    """A group as read from the Duplicates tab."""

    cluster_id: str
    rows: list[tuple[str, str, bool, int]] = field(default_factory=list)  # key, decision, keep, sheet row


def _decision(value: Cell) -> str:
    key = header_key(value)
    if not key:
        return ""
    if key in MERGE_WORDS:
        return "merge"
    if key in REJECT_WORDS:
        return "not duplicate"
    return "?"


def _read_groups(workbook: Workbook) -> list[_Group]:
    """The Duplicates tab as the owner left it, grouped by Cluster ID."""
    table = workbook.tab(DUPLICATES)
    if table is None or not table.headers:
        return []
    pos = {h: i for i, h in enumerate(table.headers)}
    if "Cluster ID" not in pos or "Customer ID" not in pos:
        return []
    groups: dict[str, _Group] = {}
    for row in table.rows:
        cid = text(row.get(pos["Cluster ID"]))
        key = text(row.get(pos["Customer ID"]))
        if not cid or not key:
            continue
        decision = text(row.get(pos["Decision"])) if "Decision" in pos else ""
        keep_cell = row.get(pos["Keep"]) if "Keep" in pos else None
        keep = not is_blank(keep_cell) and header_key(keep_cell) not in NO_WORDS and keep_cell is not False
        groups.setdefault(cid, _Group(cid)).rows.append((key, decision, keep, row.number))
    return list(groups.values())


def _entity(c: Customer, country: str) -> Entity:
    return prepare(
        c.key,
        first=c.first_name,
        last=c.last_name,
        name=c.name,
        email=c.email,
        phone=c.phone,
        company=c.company,
        address=c.address,
        city=c.city,
        postcode=c.postcode,
        birth=c.birthday.isoformat() if c.birthday else "",
        default_country=country,
        email_normalized=c.email_normalized,
        phone_e164=c.phone_e164,
    )


def _names_differ(match: MatchResult, members: Sequence[int]) -> bool:
    """Whether any two members of a group have clearly different first names."""
    pairs = [(a, b) for ai, a in enumerate(members) for b in members[ai + 1 :]]
    _p, comparison = match.scorer.score(np.array(pairs, dtype=np.int64).reshape(-1, 2))
    return bool(comparison.first_names_differ.any())


def run(ctx: Context) -> StepOutput:
    records = ctx.records
    table: Table | None = records.tables.get("Customers") or ctx.workbook.find("Customers")
    out = StepOutput()
    result = DedupeResult()
    if table is None:  # build_records already refuses a workbook without Customers
        return out
    # This run's view of the customers: a merged or filled customer is replaced here by
    # a changed copy, and the changes go to the pipeline as data (``record_changes``);
    # the records the step was given stay as they are.
    customers = list(records.customers)
    changes: dict[int, dict[str, Any]] = {}
    by_key = {c.key.casefold(): i for i, c in enumerate(customers)}
    orders = {k: len(v) for k, v in records.orders_by_customer().items()}
    merger = Merger(table, ctx.now)
    log_rows: list[list[Cell]] = []
    remembered: list[_Group] = []

    def change(i: int, fields: dict[str, Any]) -> None:
        customers[i] = dataclasses.replace(customers[i], **fields)
        changes.setdefault(i, {}).update(fields)

    def apply(outcome: MergeOutcome, survivor: int, others: Sequence[int]) -> None:
        result.merges.append(outcome)
        out.summary.append(outcome.summary)
        if outcome.skipped:
            return
        out.edits.extend(outcome.edits)
        log_rows.extend(outcome.log_rows)
        survivor_id = customers[survivor].customer_id
        for i in others:
            if customers[i].key in outcome.merged:
                change(i, {"merged_into": survivor_id})
        filled: dict[str, Any] = {}
        for fieldname in outcome.filled:
            donor_value = next(
                (
                    getattr(customers[i], fieldname)
                    for i in others
                    if getattr(customers[i], fieldname, None) not in (None, "", [])
                ),
                None,
            )
            if fieldname in CUSTOMER_FIELD_NAMES and donor_value is not None:
                filled[fieldname] = donor_value
        if filled:
            change(survivor, filled)

    def merge(cluster: str, members: list[int], survivor: Customer, note: str, order: dict[str, int]) -> None:
        """Merge the ``members`` (indexes) into ``survivor``, donors in ranked order."""
        objects = [customers[i] for i in members]
        at = {id(c): i for c, i in zip(objects, members, strict=True)}
        others = [c for c in _ranked(table, objects, order) if c is not survivor]
        apply(merger.merge(cluster, survivor, others, note), at[id(survivor)], [at[id(c)] for c in others])

    # 1-2. The owner's decisions.
    for group in _read_groups(ctx.workbook):
        decisions = {}
        for key, raw, _keep, number in group.rows:
            d = _decision(raw)
            decisions[key] = d
            if d == "?":
                ctx.findings.add(
                    "duplicate-decision-unknown",
                    Severity.WARNING,
                    Location(DUPLICATES, number, HEADERS.index("Decision") + 1, "Decision"),
                    f"'{raw}' is not a decision sheet-crm knows, so this row was left as it is.",
                    "Type merge, not duplicate, or leave the cell blank.",
                    value=raw,
                )
        rejected = [k for k, d in decisions.items() if d == "not duplicate"]
        for k in rejected:
            for other in decisions:
                if other.casefold() != k.casefold():
                    result.kept_apart.add(frozenset((k.casefold(), other.casefold())))
        if rejected:
            remembered.append(group)
        if "merge" not in decisions.values():
            continue
        members = [
            by_key[k.casefold()]
            for k, d in decisions.items()
            if d != "not duplicate"
            and k.casefold() in by_key
            and not customers[by_key[k.casefold()]].merged_into
        ]
        if len(members) < 2:
            continue
        keep = [k for k, _d, marked, _n in group.rows if marked]
        survivor = choose_survivor(
            table,
            [customers[i] for i in members],
            orders,
            [customers[by_key[k.casefold()]].key for k in keep if k.casefold() in by_key],
        )
        note = f"you chose merge; kept: {survivor.reason}"
        merge(group.cluster_id, members, survivor.customer, note, orders)
    # The owner's merges count from here on: their orders now count for the survivor.
    # Every order is resolved again, merges or not, against the emails as normalised
    # (see ``Records.reindex``); that is what the steps after this one have always read.
    merged = records.changed(RecordChanges(customers=changes, resolve="all"))

    # 3. Match the customers still active.
    active_at = [i for i, c in enumerate(customers) if not c.merged_into]
    active = [customers[i] for i in active_at]
    entities = [_entity(c, ctx.settings.default_country) for c in active]
    index = {c.key.casefold(): i for i, c in enumerate(active)}
    cannot = [
        (index[a], index[b])
        for pair in result.kept_apart
        if len(pair) == 2
        for a, b in [tuple(pair)]
        if a in index and b in index
    ]
    match = find_duplicates(entities, cannot_link=cannot)
    orders = {k: len(v) for k, v in merged.orders_by_customer().items()}
    previous = _previous(ctx.workbook)
    auto = ctx.options.get("auto_merge_above")
    proposals: list[ProposedCluster] = []
    anchor_pairs: list[tuple[int, int]] = []
    plan: list[tuple[list[int], int, str]] = []
    for members in match.clusters:
        group_customers = [active[i] for i in members]
        survivor = choose_survivor(table, group_customers, orders)
        anchor = members[group_customers.index(survivor.customer)]
        plan.append((members, anchor, survivor.reason))
        anchor_pairs.extend((min(i, anchor), max(i, anchor)) for i in members if i != anchor)
    probs, comparison = match.scorer.score(np.array(anchor_pairs, dtype=np.int64).reshape(-1, 2))
    row_of = {pair: k for k, pair in enumerate(anchor_pairs)}
    for members, anchor, why in plan:
        keys = [active[i].key for i in members]
        cid = cluster_id(keys)
        weakest = min(
            match.pair_probability.get((a, b), 0.0) for ai, a in enumerate(members) for b in members[ai + 1 :]
        )
        reasons: dict[str, str] = {}
        member_p: dict[str, float] = {}
        for i in members:
            if i == anchor:
                continue
            k = row_of[(min(i, anchor), max(i, anchor))]
            words = explain(entities[i], entities[anchor], comparison, k)
            reasons[active[i].key] = "; ".join(words) or "similar records"
            member_p[active[i].key] = float(probs[k])
        member_p[active[anchor].key] = max(member_p.values())
        reasons[active[anchor].key] = f"suggested to keep: {why}"
        ordered = [active[anchor].key] + [k for k in keys if k != active[anchor].key]
        decided = any(previous.get((cid, k)) for k in keys)
        if auto is not None and not decided and weakest > float(auto) and not _names_differ(match, members):
            note = f"merged automatically: every pair above {float(auto):g} (weakest {weakest:.3f})"
            merge(cid, [active_at[i] for i in members], active[anchor], note, orders)
            if not result.merges[-1].skipped:
                continue
        proposals.append(ProposedCluster(cid, ordered, weakest, why, reasons, member_p))
    result.clusters = proposals
    # Merged rows count for their survivor in every later step: the pipeline resolves
    # the orders and interactions again when it makes the records for them.
    result.record_changes = RecordChanges(customers=changes, resolve="all")

    # 5. The tab: proposals, then the groups the owner kept apart.
    rows: list[list[Cell]] = []
    for p in proposals:
        for key in p.members:
            c = customers[by_key[key.casefold()]]
            carried = previous.get((p.cluster_id, key), {})
            rows.append(
                [
                    *_row(c, p.cluster_id, orders, round(p.member_probability[key], 3), p.reasons[key]),
                    carried.get("Decision"),
                    carried.get("Keep"),
                ]
            )
    for group in remembered:
        keys = [k for k, _d, _keep, _n in group.rows]
        for key, raw, _keep, _n in group.rows:
            at = by_key.get(key.casefold())
            if at is None:
                continue
            c = customers[at]
            others = ", ".join(k for k in keys if k != key)
            if _decision(raw) == "not duplicate":
                why = f"you said not duplicate: kept apart from {others} for good"
                rows.append([*_row(c, group.cluster_id, orders, None, why), raw, None])
            else:
                why = f"kept apart from the ones marked not duplicate ({others})"
                rows.append([*_row(c, group.cluster_id, orders, None, why), None, None])
    out.tabs.append(
        ToolTab(
            DUPLICATES,
            list(HEADERS),
            rows,
            note=TAB_NOTE,
            decision_columns=DECISION_COLUMNS,
            key_columns=KEY_COLUMNS,
            widths={"Name": 22, "Email": 28, "Address": 30, "Reasons": 70, "Decision": 14},
        )
    )
    if log_rows:
        out.tabs.append(merge_log_tab(log_rows))
    n_people = sum(len(p.members) for p in proposals)
    done = [m for m in result.merges if not m.skipped]
    if proposals:
        out.summary.insert(
            0,
            f"Found {len(proposals)} group(s) of probable duplicates ({n_people} customers); "
            f"see the {DUPLICATES} tab and type merge or not duplicate in Decision.",
        )
    else:
        out.summary.insert(0, "No probable duplicates found.")
    if result.kept_apart:
        out.summary.append(f"Remembered {len(result.kept_apart)} pair(s) you marked not duplicate.")
    if done:
        out.summary.append(
            f"Every change is in the {MERGE_LOG} tab; `sheet-crm undo-merge` puts a merge back."
        )
    out.result = result
    out.counts = {"clusters": len(proposals), "merged": len(done), "kept_apart": len(result.kept_apart)}
    out.data = {
        "clusters": [
            {
                "cluster_id": p.cluster_id,
                "members": p.members,
                "probability": round(p.probability, 4),
                "reasons": p.reasons,
            }
            for p in proposals
        ],
        "merged": [
            {
                "cluster_id": m.cluster_id,
                "survivor": m.survivor,
                "merged": m.merged,
                "filled": sorted(m.filled),
            }
            for m in done
        ],
        "skipped_merges": [
            {"cluster_id": m.cluster_id, "why": m.skipped} for m in result.merges if m.skipped
        ],
    }
    return out


def _ranked(table: Table, members: Sequence[Customer], orders: dict[str, int]) -> list[Customer]:
    """Members in the order the survivor rule prefers them (donors are tried in this order)."""

    def rank(c: Customer) -> tuple[int, int, str, int]:
        from ..merge import completeness

        since = c.customer_since.isoformat() if c.customer_since else "9999"
        return (-orders.get(c.key, 0), -completeness(table, c), since, c.row)

    return sorted(members, key=rank)


def _previous(workbook: Workbook) -> dict[tuple[str, str], dict[str, Cell]]:
    from ..workbook import previous_decisions

    return previous_decisions(workbook, DUPLICATES, KEY_COLUMNS, DECISION_COLUMNS)


def _row(
    c: Customer, cid: str, orders: dict[str, int], probability: float | None, reasons: str
) -> list[Cell]:
    address = ", ".join(p for p in (c.address, c.city) if p)
    return [
        cid,
        c.key,
        c.row,
        c.full_name,
        c.email,
        c.phone,
        c.company,
        address,
        c.postcode,
        orders.get(c.key, 0),
        probability,
        reasons,
    ]
