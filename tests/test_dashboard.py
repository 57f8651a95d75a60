"""The Dashboard step: key figures on a hand-made case, the side-by-side blocks, and
chart ranges that point at the cells the tab really holds once written."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from conftest import TODAY
from test_segments import make_context, value

from sheet_crm.backends.memory import MemoryBackend
from sheet_crm.findings import column_letter
from sheet_crm.steps import Context, StepOutput, segments
from sheet_crm.steps import dashboard as dash
from sheet_crm.steps.dashboard import HEADERS, month_labels, pareto_points
from sheet_crm.steps.tiers import TiersResult
from sheet_crm.workbook import ToolTab, WritePlan


def shop() -> Context:
    ctx = make_context(
        [
            ["C1", "Ann", "", ""],
            ["C2", "Bob", "", ""],
            ["C3", "Cy", "", ""],
            ["C4", "Di", "", ""],
            ["C5", "Ed", "", ""],
        ],
        {
            "C1": value(
                "C1",
                tier="Platinum",
                revenue=500,
                orders=5,
                days_since_last_order=10,
                rfm_segment="Champions",
            ),
            "C2": value(
                "C2",
                tier="Gold",
                revenue=300,
                orders=3,
                days_since_last_order=400,
                usual_gap_days=30,
                rfm_segment="At risk",
            ),
            "C3": value("C3", tier="Silver", revenue=100, orders=1, days_since_last_order=20),
            "C4": value(
                "C4",
                tier="Bronze",
                revenue=50,
                orders=1,
                days_since_last_order=800,
                rfm_segment="Can't lose them",
            ),
            "C5": value("C5"),
        },
        orders=[
            ["1", "C1", datetime(2026, 11, 2), 120.0, "Tea"],
            ["2", "C1", datetime(2026, 11, 20), 30.0, "Tea"],
            ["3", "C2", datetime(2024, 12, 1), 80.0, "Cake"],  # 23 months back: the first month shown
            ["4", "C2", datetime(2024, 11, 30), 99.0, "Cake"],  # 24 months back: not shown
            ["5", "C3", datetime(2026, 12, 1), 500.0, "Cake"],  # future: not counted
            ["6", "C4", datetime(2025, 6, 15), -20.0, "Refund"],
        ],
    )
    tiers: TiersResult = ctx.results["tiers"]
    tiers.total_revenue = 950.0
    tiers.top20_share = 500 / 950
    ctx.results["segments"] = segments.run(ctx).result
    return ctx


def test_key_figures_on_a_hand_made_shop() -> None:
    out = dash.run(shop())
    figures = out.result.figures
    assert figures["Customers"] == 5
    assert figures["Customers with orders"] == 4
    assert figures["Active customers"] == 2  # C1 and C3 ordered within a year
    assert figures["Revenue"] == 950.0
    assert figures["Orders"] == 10
    assert figures["Average order value"] == 95.0
    assert figures["Share of revenue from the top 20% of customers (%)"] == 52.6
    assert figures["Customers at risk"] == 2  # At risk + Can't lose them
    assert figures["Revenue from customers at risk"] == 350.0
    assert figures["Lapsed VIPs"] == 1  # C2: Gold, 400 days against a 30-day gap
    assert figures["Revenue from Lapsed VIPs"] == 300.0
    assert out.result.tiers == {
        "Platinum": (1, 500.0),
        "Gold": (1, 300.0),
        "Silver": (1, 100.0),
        "Bronze": (1, 50.0),
        "No revenue": (1, 0.0),
    }
    assert out.result.segments["Lapsed VIPs"] == 1
    assert any("2 at risk carrying 350.00" in line for line in out.summary)


def test_revenue_by_month_covers_the_last_24_months() -> None:
    out = dash.run(shop())
    months = dict(out.result.months)
    assert list(months) == month_labels(TODAY)
    labels = list(months)
    assert len(labels) == 24 and labels[0] == "2024-12" and labels[-1] == "2026-11"
    assert months["2026-11"] == 150.0
    assert months["2024-12"] == 80.0
    assert months["2025-06"] == -20.0  # refunds subtract
    assert sum(months.values()) == 210.0  # the 24-months-back and future orders are out


def test_pareto_points() -> None:
    points = pareto_points([500, 300, 100, 50, 0, -5])
    assert len(points) == 101
    assert points[0] == (0, 0.0) and points[-1] == (100, 100.0)
    assert dict(points)[25] == round(100 * 500 / 950, 2)  # 4 buyers: the top 25% is one customer
    assert dict(points)[50] == round(100 * 800 / 950, 2)
    shares = [s for _, s in points]
    assert shares == sorted(shares)
    assert pareto_points([]) == [] and pareto_points([0.0, -3.0]) == []


def test_one_customer_and_ties() -> None:
    assert dict(pareto_points([10.0]))[1] == 0.0
    assert dict(pareto_points([10.0]))[50] == 100.0
    tied = dict(pareto_points([5.0, 5.0, 5.0, 5.0]))
    assert tied[25] == 25.0 and tied[75] == 75.0


def written_grid(out: StepOutput) -> list[list[Any]]:
    backend = MemoryBackend({"Customers": [["Customer ID"], ["C1"]]})
    backend.write(WritePlan(tabs=out.tabs, generated_at=datetime(2026, 11, 22, 9)), expected_version="0")
    return backend.sheets["Dashboard"]


def cell(grid: list[list[Any]], row: int, column: int) -> Any:
    """1-based, as the ChartSpec ranges are."""
    if row > len(grid) or column > len(grid[row - 1]):
        return None
    return grid[row - 1][column - 1]


def test_chart_ranges_point_at_the_blocks_as_written() -> None:
    out = dash.run(shop())
    tab: ToolTab = out.tabs[0]
    grid = written_grid(out)
    assert cell(grid, 1, 1).startswith("Generated by sheet-crm")
    assert grid[ToolTab.HEADER_ROW - 1] == HEADERS
    by_title = {c.title: c for c in tab.charts}
    assert set(by_title) == {
        "Pareto: share of revenue from the top customers",
        "Customers per tier",
        "Revenue by month",
        "Segment sizes",
    }
    for chart in tab.charts:
        col, first, last = chart.categories
        assert first == ToolTab.FIRST_DATA_ROW
        labels = [cell(grid, r, col) for r in range(first, last + 1)]
        assert None not in labels, chart.title
        after = cell(grid, last + 1, col)
        assert after is None or (chart.title, after) == ("Customers per tier", "No revenue"), chart.title
        for name, s_col, s_first, s_last in chart.series:
            assert (s_first, s_last) == (first, last)
            assert cell(grid, ToolTab.HEADER_ROW, s_col) in (name, *HEADERS)
            numbers = [cell(grid, r, s_col) for r in range(s_first, s_last + 1)]
            assert all(isinstance(n, int | float) for n in numbers), chart.title
    pareto = by_title["Pareto: share of revenue from the top customers"]
    col, first, last = pareto.categories
    assert last - first + 1 == 101
    assert [cell(grid, first, col), cell(grid, last, col)] == [0, 100]
    share_col = pareto.series[0][1]
    assert cell(grid, last, share_col) == 100.0
    tiers = by_title["Customers per tier"]
    assert [
        cell(grid, r, tiers.categories[0]) for r in range(tiers.categories[1], tiers.categories[2] + 1)
    ] == [
        "Platinum",
        "Gold",
        "Silver",
        "Bronze",
    ]
    months = by_title["Revenue by month"]
    assert cell(grid, months.categories[2], months.categories[0]) == "2026-11"
    assert cell(grid, months.categories[2], months.series[0][1]) == 150.0
    # Charts sit to the right of every block, one below the other.
    anchors = [c.anchor for c in tab.charts]
    assert all(a.startswith("O") for a in anchors)
    assert len(set(anchors)) == len(anchors)
    assert column_letter(len(HEADERS)) < "O"


def test_reading_the_dashboard_back_raises_no_header_findings() -> None:
    out = dash.run(shop())
    backend = MemoryBackend({"Customers": [["Customer ID"], ["C1"]]})
    backend.write(WritePlan(tabs=out.tabs, generated_at=datetime(2026, 11, 22, 9)), expected_version="0")
    workbook = backend.read()
    assert [f.code for f in workbook.findings] == []
    table = workbook.tab("Dashboard")
    assert table is not None and table.header_row == 2 and table.headers == HEADERS


def test_no_orders_at_all_gives_no_pareto_chart() -> None:
    ctx = make_context([["C1", "Ann", "", ""]], {})
    ctx.results["segments"] = segments.run(ctx).result
    out = dash.run(ctx)
    titles = [c.title for c in out.tabs[0].charts]
    assert "Pareto: share of revenue from the top customers" not in titles
    assert out.result.figures["Revenue"] == 0.0
    assert out.result.figures["Average order value"] is None
    assert out.result.figures["Share of revenue from the top 20% of customers (%)"] is None


@pytest.mark.parametrize("today", [date(2026, 1, 15), date(2025, 12, 31)])
def test_month_labels_cross_years(today: date) -> None:
    labels = month_labels(today)
    assert labels[-1] == f"{today.year:04d}-{today.month:02d}"
    assert len(set(labels)) == 24 and labels == sorted(labels)


def test_numbers_carry_formats_that_fit_them() -> None:
    """Money shows with thousands separators and two decimals, counts whole, shares with
    one decimal: each key figure's Value cell gets the format of its own kind."""
    from sheet_crm.workbook import AMOUNT, ONE_DECIMAL, WHOLE

    tab = dash.run(shop()).tabs[0]
    by_label = {row[0]: i for i, row in enumerate(tab.rows) if isinstance(row[0], str)}
    kind = {label: tab.cell_formats.get((i, "Value")) for label, i in by_label.items()}
    assert kind["Customers"] == WHOLE and kind["Orders"] == WHOLE
    assert kind["Share of revenue from the top 20% of customers (%)"] == ONE_DECIMAL
    assert all(kind[label] == AMOUNT for label in by_label if label.startswith("Revenue"))
    assert kind["Figures as of"] is None
    assert tab.formats["Revenue in month"] == AMOUNT and tab.formats["Members"] == WHOLE
