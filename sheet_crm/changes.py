"""What a run changed since the last one, in the owner's words, and the content
hash that lets ``sync`` skip a run when nothing changed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import date

from ._version import __version__
from .workbook import TOOL_TABS, Table, ToolTab, Workbook, cell_key, header_key, previous_decisions


def decision_tabs() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Tool tabs whose owner columns (decisions) are inputs of the next run:
    tab -> (key columns, decision columns), as the steps that write them define them."""
    from .steps import dedupe, outreach

    return {
        "Duplicates": (dedupe.KEY_COLUMNS, dedupe.DECISION_COLUMNS),
        "Outreach": (outreach.KEY_COLUMNS, outreach.DECISIONS),
    }


def content_hash(workbook: Workbook, today: date, steps: Sequence[str]) -> str:
    """A hash of everything a run reads: the owner tabs, the owner's decisions in the
    tool tabs, the date and the sheet-crm version. Equal hashes mean a run would write
    the same results. (Blank decisions count as none, so the tabs a first run creates
    do not make the second run look changed.)"""
    h = hashlib.sha256()
    h.update(_bytes(f"{__version__}|{today.isoformat()}|{','.join(steps)}"))
    for name in sorted(workbook.tables):
        if name in TOOL_TABS:
            continue
        table = workbook.tables[name]
        h.update(b"\x00tab\x00" + _bytes(name))
        h.update(_bytes(repr(table.headers)))
        for row in table.rows:
            # text, most cells, is its own key: skip the call (``cell_key`` gives the same)
            keys = [v if type(v) is str and not v.isspace() else cell_key(v) for v in row.values]
            cells = "\x1f".join(keys)
            h.update(_bytes(f"{row.number}\x1e{cells}\x1d"))
    for name, (keys, decisions) in decision_tabs().items():
        chosen = previous_decisions(workbook, name, keys, decisions)
        h.update(b"\x00decisions\x00" + _bytes(name))
        h.update(
            _bytes(
                repr(sorted((k, sorted((c, cell_key(x)) for c, x in v.items())) for k, v in chosen.items()))
            )
        )
    return h.hexdigest()[:32]


def _bytes(text: str) -> bytes:
    """UTF-8 that also takes a lone surrogate (``_xD800_`` in an .xlsx, ``\\ud800`` in
    Google's JSON): such a cell is not valid text, but it is what the owner's file holds,
    so it must hash, and hash differently from any other cell."""
    return text.encode("utf-8", "surrogatepass")


def last_run_value(workbook: Workbook, header: str) -> str:
    """A value from the newest row of the Runs tab ("" when there is none)."""
    runs = workbook.tab("Runs")
    if runs is None or not runs.rows:
        return ""
    col = _col(runs, header)
    if col is None:
        return ""
    value = runs.rows[-1].get(col)
    return "" if value is None else str(value)


def _col(table: Table, *headers: str) -> int | None:
    keys = {header_key(h) for h in headers}
    for i, h in enumerate(table.headers):
        if header_key(h) in keys:
            return i
    return None


def _column_values(headers: Sequence[str], rows: Iterable[Sequence[object]], *names: str) -> list[str]:
    keys = {header_key(n) for n in names}
    idx = next((i for i, h in enumerate(headers) if header_key(h) in keys), None)
    if idx is None:
        return []
    return [str(r[idx]) for r in rows if idx < len(r) and r[idx] not in (None, "")]


def _old(workbook: Workbook, tab: str, *names: str) -> list[str]:
    table = workbook.tab(tab)
    if table is None:
        return []
    return _column_values(table.headers, (r.values for r in table.rows), *names)


def _new(tabs: dict[str, ToolTab], tab: str, *names: str) -> list[str] | None:
    t = tabs.get(tab)
    return None if t is None else _column_values(t.headers, t.rows, *names)


def describe_changes(before: Workbook, tabs: Sequence[ToolTab]) -> list[str]:
    """Plain lines: new customers, tier moves, new duplicate groups, new drafts.
    Nothing is said on the first run (there is nothing to compare with)."""
    new_tabs = {t.name: t for t in tabs}
    lines: list[str] = []
    if before.tab("Tiers") is not None and "Tiers" in new_tabs:
        old_ids = _old(before, "Tiers", "Customer ID")
        new_ids = _new(new_tabs, "Tiers", "Customer ID") or []
        added = len(set(new_ids) - set(old_ids))
        if added:
            lines.append(f"{added} new customers since the last run.")
        old_tier = dict(zip(old_ids, _old(before, "Tiers", "Tier"), strict=False))
        new_tier = dict(zip(new_ids, _new(new_tabs, "Tiers", "Tier") or [], strict=False))
        moves = [(k, old_tier[k], v) for k, v in new_tier.items() if k in old_tier and old_tier[k] != v]
        if moves:
            ups = sum(1 for _k, a, b in moves if _rank(b) < _rank(a))
            lines.append(f"{len(moves)} customers changed tier ({ups} up, {len(moves) - ups} down).")
    for tab, column, noun in (
        ("Duplicates", "Cluster ID", "possible duplicate groups"),
        ("Outreach", "Draft ID", "drafts"),
    ):
        if before.tab(tab) is None or tab not in new_tabs:
            continue
        added = len(set(_new(new_tabs, tab, column) or []) - set(_old(before, tab, column)))
        if added:
            lines.append(f"{added} new {noun}.")
    return lines


def _rank(tier: str) -> int:
    order = ["platinum", "gold", "silver", "bronze"]
    t = tier.lower()
    return order.index(t) if t in order else len(order)
