"""The Dashboard tab: key figures and native charts of value, tiers and segments.

A tool tab has one header row (sheet row 2) and plain rows below it, so the
Dashboard puts several blocks side by side under that one header, each in its own
columns, and the charts to the right of them::

    row 2 | A Key figure | B Value | C How it is worked out | D Tier | E Customers in tier |
          | F Revenue of tier | G Month | H Revenue in month | I Segment | J Members |
          | K Top % of customers | L Share of revenue % | M Equal share % |      O..: charts
    row 3 | Customers    | 1,204   | rows in Customers ...  | Platinum | 31 | 52,000 | 2024-12 | 3,100 | ...

- A-C key figures (label, value, how it is worked out) — one figure per row;
- D-F one row per tier (Platinum, Gold, Silver, Bronze, No revenue);
- G-H revenue per calendar month, the last 24 months up to this one;
- I-J members per active segment;
- K-M the Pareto curve: 101 points, the share of revenue brought by the top 0%,
  1%, ..., 100% of customers with revenue, beside the equal-share line.

Charts (``ChartSpec``) point at these cells as written: data from row 3
(``ToolTab.FIRST_DATA_ROW``) down to the block's last row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from ..workbook import AMOUNT, ONE_DECIMAL, WHOLE, Cell, ChartSpec, ToolTab
from . import Context, StepOutput
from .segments import AT_RISK_RFM, SegmentsResult
from .tiers import TIER_NAMES, CustomerValue, TiersResult

DASHBOARD_TAB = "Dashboard"

HEADERS = [
    "Key figure",
    "Value",
    "How it is worked out",
    "Tier",
    "Customers in tier",
    "Revenue of tier",
    "Month",
    "Revenue in month",
    "Segment",
    "Members",
    "Top % of customers",
    "Share of revenue %",
    "Equal share %",
]
# 1-based sheet columns of each block (A = 1).
COL_FIGURE, COL_VALUE, COL_HOW = 1, 2, 3
COL_TIER, COL_TIER_CUSTOMERS, COL_TIER_REVENUE = 4, 5, 6
COL_MONTH, COL_MONTH_REVENUE = 7, 8
COL_SEGMENT, COL_MEMBERS = 9, 10
COL_PERCENTILE, COL_SHARE, COL_EQUAL = 11, 12, 13
CHART_COLUMN = "O"
CHART_ROWS = 18  # sheet rows between chart tops (a 8 cm chart is about 16 rows)

MONTHS = 24
PARETO_POINTS = 101
ACTIVE_DAYS = 365
NO_REVENUE = "No revenue"


@dataclass
class DashboardResult:
    figures: dict[str, Any]  # key figure label -> value
    tiers: dict[str, tuple[int, float]]  # tier -> (customers, revenue)
    months: list[tuple[str, float]]  # ("2026-11", revenue)
    segments: dict[str, int]
    pareto: list[tuple[int, float]]  # (top % of customers, share of revenue %)


def _money(x: float) -> float:
    return round(x + 0.0, 2)


def month_labels(today: date, count: int = MONTHS) -> list[str]:
    """The last ``count`` calendar months up to and including today's, oldest first."""
    out = []
    y, m = today.year, today.month
    for _ in range(count):
        out.append(f"{y:04d}-{m:02d}")
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    return out[::-1]


def pareto_points(revenues: Sequence[float], points: int = PARETO_POINTS) -> list[tuple[int, float]]:
    """The Pareto curve downsampled to ``points`` evenly spaced customer percentiles:
    for p = 0..100, the share of revenue (%) that the top p% of customers bring.
    Only customers with revenue above zero count; the top p% is the first
    round(p% of them) after sorting by revenue, highest first."""
    positive = sorted((r for r in revenues if r > 0), reverse=True)
    total = sum(positive)
    if not positive or total <= 0:
        return []
    cumulative = [0.0]
    for r in positive:
        cumulative.append(cumulative[-1] + r)
    n = len(positive)
    out = []
    for i in range(points):
        pct = round(100 * i / (points - 1))
        k = min(n, math.floor(n * pct / 100 + 0.5))
        out.append((pct, round(100 * cumulative[k] / total, 2)))
    return out


def _tier_block(values: Sequence[CustomerValue]) -> dict[str, tuple[int, float]]:
    block = {t: (0, 0.0) for t in (*TIER_NAMES, NO_REVENUE)}
    for v in values:
        tier = v.tier if v.tier in TIER_NAMES else NO_REVENUE
        n, rev = block[tier]
        block[tier] = (n + 1, rev + v.revenue)
    return {t: (n, _money(r)) for t, (n, r) in block.items()}


_EPOCH = date(1970, 1, 1).toordinal()


def _month_block(ctx: Context) -> list[tuple[str, float]]:
    """Revenue in each of the last ``MONTHS`` calendar months: orders with a date up to
    today and a readable amount, refunds subtracted (summed over the order columns)."""
    labels = month_labels(ctx.today)
    cols = ctx.records.order_columns()
    day, amount = cols.day, cols.amount
    counted = (day >= 0) & (day <= ctx.today.toordinal()) & ~np.isnan(amount) & ~cols.amount_invalid
    # Months since January 1970, for each counted order and for the first label.
    month = (day[counted] - _EPOCH).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    first_year, first_month = (int(part) for part in labels[0].split("-"))
    offset = month - ((first_year - 1970) * 12 + first_month - 1)
    shown = (offset >= 0) & (offset < len(labels))
    totals = np.bincount(offset[shown], weights=amount[counted][shown], minlength=len(labels))
    return [(label, _money(float(total))) for label, total in zip(labels, totals.tolist(), strict=True)]


def run(ctx: Context) -> StepOutput:
    tiers: TiersResult | None = ctx.results.get("tiers")
    segments: SegmentsResult | None = ctx.results.get("segments")
    customers = ctx.records.active_customers()
    all_values = tiers.customers if tiers is not None else {}
    # Customers in the Customers tab; orders for IDs with no row there still count in revenue.
    values = [all_values[c.key] for c in customers if c.key in all_values]
    buyers = [v for v in values if v.orders > 0]
    active = [
        v for v in buyers if v.days_since_last_order is not None and v.days_since_last_order <= ACTIVE_DAYS
    ]
    revenue = tiers.total_revenue if tiers is not None else 0.0
    orders = sum(v.orders for v in buyers)
    months = _month_block(ctx)
    last_12 = sum(r for _, r in months[-12:])
    at_risk = [v for v in values if v.rfm_segment.replace("\u2019", "'").casefold().strip() in AT_RISK_RFM]
    sizes = segments.sizes() if segments is not None else {}
    lapsed_name = next(
        (s.name for s in (segments.segments if segments else []) if s.key == "lapsed_vips" and s.active), None
    )
    lapsed_keys = (
        {m["customer_id"] for m in segments.members_of(lapsed_name)} if segments and lapsed_name else set()
    )
    lapsed_revenue = sum(all_values[k].revenue for k in lapsed_keys if k in all_values)
    top20 = tiers.top20_share if tiers is not None else None
    currency = f" ({ctx.settings.currency})" if ctx.settings.currency else ""

    # (key figure, value, how it is worked out, number format)
    figures: list[tuple[str, Cell, str, str | None]] = [
        ("Figures as of", ctx.today.isoformat(), "the date of this run", None),
        ("Customers", len(customers), "rows in Customers, not counting rows merged into another", WHOLE),
        ("Customers with orders", len(buyers), "customers with at least one order", WHOLE),
        ("Active customers", len(active), f"ordered in the last {ACTIVE_DAYS} days", WHOLE),
        (f"Revenue{currency}", _money(revenue), "all orders up to today, refunds subtracted", AMOUNT),
        (
            f"Revenue, last 12 months{currency}",
            _money(last_12),
            "orders in the last 12 calendar months",
            AMOUNT,
        ),
        ("Orders", orders, "orders of customers in the Customers tab", WHOLE),
        (
            f"Average order value{currency}",
            _money(sum(v.revenue for v in buyers) / orders) if orders else None,
            "their revenue divided by their orders",
            AMOUNT,
        ),
        (
            "Share of revenue from the top 20% of customers (%)",
            None if top20 is None else round(100 * top20, 1),
            "measured from the orders (never assumed to be 80%)",
            ONE_DECIMAL,
        ),
        ("Customers at risk", len(at_risk), "RFM segment At risk or Can't lose them", WHOLE),
        (
            f"Revenue from customers at risk{currency}",
            _money(sum(v.revenue for v in at_risk)),
            "what those customers have spent so far",
            AMOUNT,
        ),
    ]
    if lapsed_name is not None:
        figures.append((f"{lapsed_name}", len(lapsed_keys), "the built-in lapsed VIPs segment", WHOLE))
        figures.append(
            (
                f"Revenue from {lapsed_name}{currency}",
                _money(lapsed_revenue),
                "what they have spent so far",
                AMOUNT,
            )
        )
    if tiers is not None and tiers.ltv_fitted:
        predicted = sum(v.predicted_value_12m or 0.0 for v in values)
        figures.append(
            (
                f"Predicted revenue, next 12 months{currency}",
                _money(predicted),
                "BG/NBD and Gamma-Gamma model",
                AMOUNT,
            )
        )

    tier_block = _tier_block(values)
    pareto = pareto_points([v.revenue for v in values])
    height = max(len(figures), len(tier_block), len(months), len(sizes), len(pareto))
    rows: list[list[Cell]] = [[None] * len(HEADERS) for _ in range(height)]

    def put(i: int, column: int, value: Cell) -> None:
        rows[i][column - 1] = value

    for i, (label, value, how, _fmt) in enumerate(figures):
        put(i, COL_FIGURE, label)
        put(i, COL_VALUE, value)
        put(i, COL_HOW, how)
    for i, (tier, (n, rev)) in enumerate(tier_block.items()):
        put(i, COL_TIER, tier)
        put(i, COL_TIER_CUSTOMERS, n)
        put(i, COL_TIER_REVENUE, rev)
    for i, (label, rev) in enumerate(months):
        put(i, COL_MONTH, label)
        put(i, COL_MONTH_REVENUE, rev)
    for i, (name, n) in enumerate(sizes.items()):
        put(i, COL_SEGMENT, name)
        put(i, COL_MEMBERS, n)
    for i, (pct, share) in enumerate(pareto):
        put(i, COL_PERCENTILE, pct)
        put(i, COL_SHARE, share)
        put(i, COL_EQUAL, pct)

    charts = _charts(len(pareto), len(tier_block), len(months), len(sizes))
    tab = ToolTab(
        DASHBOARD_TAB,
        list(HEADERS),
        rows,
        note="Key figures, tiers, revenue by month, segment sizes and the Pareto curve; charts on the right.",
        widths={
            "Key figure": 44,
            "Value": 14,
            "How it is worked out": 48,
            "Tier": 12,
            "Customers in tier": 17,
            "Revenue of tier": 16,
            "Month": 10,
            "Revenue in month": 17,
            "Segment": 22,
            "Members": 10,
            "Top % of customers": 19,
            "Share of revenue %": 19,
            "Equal share %": 14,
        },
        charts=charts,
        formats={
            "Customers in tier": WHOLE,
            "Revenue of tier": AMOUNT,
            "Revenue in month": AMOUNT,
            "Members": WHOLE,
            "Share of revenue %": ONE_DECIMAL,
        },
        cell_formats={(i, "Value"): fmt for i, (*_, fmt) in enumerate(figures) if fmt},
    )
    result = DashboardResult(
        {label: value for label, value, *_ in figures},
        tier_block,
        months,
        sizes,
        pareto,
    )
    share = "" if top20 is None else f"; the top 20% of customers bring {100 * top20:.1f}% of revenue"
    summary = [
        f"Dashboard: {len(customers):,} customers, {len(active):,} active, revenue "
        f"{revenue:,.2f}{share}; {len(at_risk):,} at risk carrying {sum(v.revenue for v in at_risk):,.2f}."
    ]
    data = {
        "figures": {label: value for label, value, *_ in figures},
        "tiers": {t: {"customers": n, "revenue": r} for t, (n, r) in tier_block.items()},
        "revenue_by_month": dict(months),
        "segments": sizes,
    }
    return StepOutput(tabs=[tab], summary=summary, data=data, result=result, counts={"charts": len(charts)})


def _charts(pareto: int, tiers: int, months: int, segments: int) -> list[ChartSpec]:
    """Native charts over the blocks above; a block with no rows gets no chart."""
    first = ToolTab.FIRST_DATA_ROW
    charts: list[ChartSpec] = []

    def anchor() -> str:
        return f"{CHART_COLUMN}{first + CHART_ROWS * len(charts)}"

    if pareto:
        last = first + pareto - 1
        charts.append(
            ChartSpec(
                "Pareto: share of revenue from the top customers",
                "line",
                (COL_PERCENTILE, first, last),
                (("Share of revenue %", COL_SHARE, first, last), ("Equal share %", COL_EQUAL, first, last)),
                anchor=anchor(),
                x_title="Top % of customers by revenue",
                y_title="% of revenue",
            )
        )
    if tiers:
        # The tiers only: "No revenue" (often most customers) would flatten the bars.
        last = first + min(tiers, len(TIER_NAMES)) - 1
        charts.append(
            ChartSpec(
                "Customers per tier",
                "column",
                (COL_TIER, first, last),
                (("Customers", COL_TIER_CUSTOMERS, first, last),),
                anchor=anchor(),
                y_title="Customers",
            )
        )
    if months:
        last = first + months - 1
        charts.append(
            ChartSpec(
                "Revenue by month",
                "column",
                (COL_MONTH, first, last),
                (("Revenue", COL_MONTH_REVENUE, first, last),),
                anchor=anchor(),
                y_title="Revenue",
            )
        )
    if segments:
        last = first + segments - 1
        charts.append(
            ChartSpec(
                "Segment sizes",
                "bar",
                (COL_SEGMENT, first, last),
                (("Members", COL_MEMBERS, first, last),),
                anchor=anchor(),
                x_title="",
                y_title="Customers",
                height_cm=max(8.0, 0.6 * segments),  # room for every segment's label
            )
        )
    return charts
