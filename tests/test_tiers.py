"""The tiers step on small hand-made workbooks: each rule with the case that tests it."""

from __future__ import annotations

import importlib.util
import itertools
import random
from datetime import date, datetime, timedelta
from typing import Any

import hypothesis
import numpy as np
import pytest
from conftest import TODAY
from hypothesis import given
from hypothesis import strategies as st

import sheet_crm.steps.tiers as tiers_module
from sheet_crm.backends.memory import MemoryBackend
from sheet_crm.config import load_settings
from sheet_crm.findings import FindingList
from sheet_crm.model import build_records
from sheet_crm.steps import Context, StepOutput
from sheet_crm.steps.tiers import (
    RFM_RULES,
    TIER_NAMES,
    TIERS_HEADERS,
    TiersResult,
    account_key,
    pareto,
    quintile_scores,
    rfm_segment,
    run,
)

CUSTOMER_HEADERS = [
    "Customer ID",
    "First name",
    "Last name",
    "Email",
    "Company",
    "Referred by",
    "Merged into",
]
ORDER_HEADERS = ["Order ID", "Customer", "Date", "Amount", "Product"]


def customer(
    cid: str, first: str = "", last: str = "", company: str = "", referred_by: str = "", merged: str = ""
):
    return [cid, first or cid, last, f"{cid.lower()}@example.org", company, referred_by, merged]


def run_tiers(
    customers: list[list[Any]],
    orders: list[list[Any]] | None = None,
    settings: list[list[Any]] | None = None,
) -> tuple[StepOutput, TiersResult, Context]:
    """Run the step directly on a Context built the way api.run builds it."""
    sheets: dict[str, list[list[Any]]] = {"Customers": [CUSTOMER_HEADERS, *customers]}
    if orders is not None:
        numbered = [[f"O{i}", *o] for i, o in enumerate(orders, 1)]
        sheets["Orders"] = [ORDER_HEADERS, *numbered]
    if settings is not None:
        sheets["Settings"] = [["Setting", "Value"], *settings]
    workbook = MemoryBackend(sheets).read()
    findings = FindingList()
    cfg, _ = load_settings(workbook, environ={}, findings=findings)
    records = build_records(workbook, cfg, findings)
    ctx = Context(workbook, records, cfg, TODAY, datetime(2026, 11, 22, 9, 0), findings)
    out = run(ctx)
    assert isinstance(out.result, TiersResult)
    return out, out.result, ctx


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def tab_rows(out: StepOutput) -> list[dict[str, Any]]:
    (tab,) = out.tabs
    assert tab.name == "Tiers"
    assert tab.headers == TIERS_HEADERS
    return [dict(zip(tab.headers, row, strict=True)) for row in tab.rows]


# ---------------------------------------------------------------- totals


def test_totals_for_one_customer_are_shown_beside_the_result() -> None:
    out, res, _ = run_tiers(
        [customer("C1", "Ann", "Lee")],
        [
            ["C1", days_ago(100), 40, "Tea"],
            ["C1", days_ago(60), 60, "Cake"],
            ["C1", days_ago(10), 20, "Tea"],
        ],
    )
    v = res.customers["C1"]
    assert (v.orders, v.revenue, v.avg_order_value) == (3, 120.0, 40.0)
    assert (v.first_order, v.last_order, v.days_since_last_order) == (days_ago(100), days_ago(10), 10)
    assert v.usual_gap_days == 45.0  # gaps 40 and 50 days
    assert v.products == ["Cake", "Tea"]
    # One customer: everything relative is trivially theirs.
    assert (v.tier, v.revenue_rank, v.cumulative_share) == ("Platinum", 1, 1.0)
    assert res.top20_share == 1.0 and res.top20_customers == 1
    assert (v.r_score, v.f_score, v.m_score) == (3, 3, 3)  # the middle score for a lone value
    assert v.rfm_segment == "Needs attention"
    (row,) = tab_rows(out)
    assert row["Level"] == "Customer" and row["Customer ID"] == "C1" and row["Name"] == "Ann Lee"
    assert (row["Orders"], row["Revenue"], row["Usual gap (days)"], row["Tier"]) == (
        3,
        120.0,
        45.0,
        "Platinum",
    )
    assert row["Reason"].startswith(
        "Platinum: 120 over 3 orders; top 100% of customers by revenue; RFM 3-3-3"
    )


def test_no_orders_tab_gives_no_tiers_and_says_so() -> None:
    out, res, _ = run_tiers([customer("C1"), customer("C2")])
    assert res.customers_with_orders == 0 and res.total_revenue == 0
    assert res.top20_share is None
    assert all(v.tier == "" and v.rfm_segment == "" for v in res.customers.values())
    assert [r["Reason"] for r in tab_rows(out)] == ["No tier: no orders yet"] * 2
    assert not res.ltv_fitted and "not predicted" in res.ltv_note
    assert out.summary[0] == "Tiers: 0 of 2 customers have orders; revenue 0."


def test_every_order_on_one_day() -> None:
    customers = [customer(f"C{i}") for i in range(1, 5)]
    orders = [[f"C{i}", days_ago(3), 10 * i, "x"] for i in range(1, 5)] + [["C4", days_ago(3), 5, "y"]]
    _out, res, _ = run_tiers(customers, orders)
    vals = [res.customers[f"C{i}"] for i in range(1, 5)]
    assert {v.r_score for v in vals} == {3}  # all equally recent: equal R
    assert all(v.usual_gap_days is None for v in vals)  # one order day: no gap
    assert vals[3].orders == 2 and vals[3].revenue == 45
    assert not res.ltv_fitted


# ---------------------------------------------------------------- Pareto


def test_pareto_tiers_follow_the_cumulative_share() -> None:
    revenue = {"C1": 500, "C2": 300, "C3": 150, "C4": 50}
    customers = [customer(k) for k in revenue]
    orders = [[k, days_ago(5), amount, ""] for k, amount in revenue.items()]
    out, res, _ = run_tiers(customers, orders)
    tiers = {k: res.customers[k].tier for k in revenue}
    # Shares before each customer: 0%, 50%, 80%, 95% -> the line-crossing customer keeps the higher tier.
    assert tiers == {"C1": "Platinum", "C2": "Gold", "C3": "Silver", "C4": "Bronze"}
    assert [res.customers[k].cumulative_share for k in revenue] == pytest.approx([0.5, 0.8, 0.95, 1.0])
    assert res.top20_customers == 1 and res.top20_share == pytest.approx(0.5)  # measured, not assumed
    assert res.tier_counts == {"Platinum": 1, "Gold": 1, "Silver": 1, "Bronze": 1}
    assert res.cutoffs == {"Platinum": 50.0, "Gold": 80.0, "Silver": 95.0}
    joined = "\n".join(out.summary)
    assert "Platinum = the customers making the first 50% of revenue, Gold up to 80%" in joined
    assert "The top 20% of customers (1 of 4 with revenue) bring 50% of revenue." in joined
    assert "first 50% of revenue" in out.tabs[0].note
    assert [r["Customer ID"] for r in tab_rows(out)] == ["C1", "C2", "C3", "C4"]  # by rank


def test_equal_revenue_gets_the_same_rank_and_tier() -> None:
    revenue = {"C1": 40, "C2": 40, "C3": 10, "C4": 10}
    customers = [customer(k) for k in revenue]
    orders = [[k, days_ago(5), amount, ""] for k, amount in revenue.items()]
    _out, res, _ = run_tiers(customers, orders)
    got = {k: (res.customers[k].revenue_rank, res.customers[k].tier) for k in revenue}
    # C2 alone would cross 50% -> still Platinum like C1; C3 and C4 start at 80% -> Silver.
    assert got == {"C1": (1, "Platinum"), "C2": (1, "Platinum"), "C3": (3, "Silver"), "C4": (3, "Silver")}
    assert res.customers["C1"].cumulative_share == res.customers["C2"].cumulative_share == pytest.approx(0.8)


def test_top_20_percent_share_is_measured() -> None:
    revenue = [100, 50, 10, 10, 10, 5, 5, 5, 3, 2]  # 10 customers -> the top 2 bring 150 of 200
    customers = [customer(f"C{i}") for i in range(len(revenue))]
    orders = [[f"C{i}", days_ago(1 + i), r, ""] for i, r in enumerate(revenue)]
    out, res, _ = run_tiers(customers, orders)
    assert res.top20_customers == 2 and res.top20_share == pytest.approx(0.75)
    assert "bring 75% of revenue" in "\n".join(out.summary)


def test_tier_cutoffs_come_from_settings() -> None:
    revenue = {"C1": 500, "C2": 300, "C3": 150, "C4": 50}
    customers = [customer(k) for k in revenue]
    orders = [[k, days_ago(5), amount, ""] for k, amount in revenue.items()]
    settings = [["Tier platinum", 40], ["Tier gold", "60%"], ["Tier silver", 99]]
    out, res, ctx = run_tiers(customers, orders, settings)
    assert res.cutoffs == {"Platinum": 40.0, "Gold": 60.0, "Silver": 99.0}
    tiers = [res.customers[k].tier for k in revenue]
    # Shares before each customer 0, 50, 80, 95 against 40 / 60 / 99.
    assert tiers == ["Platinum", "Gold", "Silver", "Silver"]
    assert "first 40% of revenue, Gold up to 60%, Silver up to 99%" in out.tabs[0].note
    assert not [f for f in ctx.findings if f.code == "bad-tier-cutoffs"]


def test_cutoffs_out_of_order_fall_back_to_defaults_with_a_finding() -> None:
    _out, res, ctx = run_tiers(
        [customer("C1")], [["C1", days_ago(1), 10, ""]], [["Tier platinum", 90], ["Tier gold", 60]]
    )
    assert res.cutoffs == {"Platinum": 50.0, "Gold": 80.0, "Silver": 95.0}
    assert [f.code for f in ctx.findings if f.code == "bad-tier-cutoffs"] == ["bad-tier-cutoffs"]


def test_cutoffs_typed_as_fractions_are_read_as_percentages() -> None:
    settings = [["Tier platinum", 0.6], ["Tier gold", 0.85], ["Tier silver", 0.97]]
    _out, res, _ = run_tiers([customer("C1")], [["C1", days_ago(1), 10, ""]], settings)
    assert res.cutoffs == {"Platinum": 60.0, "Gold": 85.0, "Silver": 97.0}
    settings = [["Tier platinum", 0.4]]  # one percentage-formatted cell, the others default
    _out, res, _ = run_tiers([customer("C1")], [["C1", days_ago(1), 10, ""]], settings)
    assert res.cutoffs == {"Platinum": 40.0, "Gold": 80.0, "Silver": 95.0}


def test_a_fit_that_does_not_settle_shows_historical_value_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from sheet_crm import ltv

    real_fit = ltv.fit_bgnbd

    def unsettled(*args: Any) -> ltv.BgNbdParams:
        fit = real_fit(*args)
        return ltv.BgNbdParams(fit.r, fit.alpha, fit.a, fit.b, fit.log_likelihood, False, fit.customers)

    monkeypatch.setattr(ltv, "fit_bgnbd", unsettled)
    customers, orders = synthetic_shop(150)
    out, res, _ = run_tiers(customers, orders)
    assert not res.ltv_fitted and res.ltv_params == {}
    assert "could not be fitted" in res.ltv_note and res.ltv_note in out.summary
    assert all(v.p_alive is None and v.predicted_value_12m is None for v in res.customers.values())


# ---------------------------------------------------------------- refunds, skips, merges


def test_refunds_net_against_revenue_and_zero_net_has_no_tier() -> None:
    orders = [
        ["C1", days_ago(30), 100, "Chair"],
        ["C1", days_ago(20), -30, "Chair refund"],
        ["C2", days_ago(15), 50, "Lamp"],
        ["C2", days_ago(10), -50, "Lamp refund"],
    ]
    out, res, _ = run_tiers([customer("C1"), customer("C2")], orders)
    c1, c2 = res.customers["C1"], res.customers["C2"]
    assert (c1.orders, c1.revenue, c1.refunds, c1.last_order) == (1, 70.0, 30.0, days_ago(30))
    assert c1.tier == "Platinum" and "30 refunded" in c1.reason
    assert (c2.orders, c2.revenue, c2.tier, c2.revenue_rank) == (1, 0.0, "", None)
    assert c2.reason.startswith("No tier: refunds cancel the revenue of 1 order (net 0)")
    assert res.total_revenue == 70.0 and res.customers_with_orders == 2
    assert tab_rows(out)[1]["Tier"] is None


def test_future_unreadable_and_unknown_orders_are_left_out_and_reported() -> None:
    orders = [
        ["C1", days_ago(10), 10, ""],
        ["C1", TODAY + timedelta(days=3), 999, ""],  # row 3: future
        ["C1", "not a date", 20, ""],  # row 4: unreadable date
        ["C1", days_ago(5), "lots", ""],  # row 5: unreadable amount
        ["C1", days_ago(5), None, ""],  # row 6: no amount
        ["C-999", days_ago(5), 70, ""],  # row 7: no such customer
        ["C-999", days_ago(4), 30, ""],  # row 8
    ]
    out, res, _ = run_tiers([customer("C1")], orders)
    assert (res.customers["C1"].orders, res.customers["C1"].revenue) == (1, 10.0)
    assert "C-999" not in res.customers
    skipped = "\n".join(res.skipped)
    assert "1 order left out because dated after 2026-11-22 (Orders rows 3)" in skipped
    assert (
        "3 orders left out because the date or amount is missing or unreadable (Orders rows 4, 5, 6)"
        in skipped
    )
    assert "2 orders (100) for 'C-999', who has no row in Customers, left out (Orders rows 7, 8)" in skipped
    assert set(res.skipped) <= set(out.summary)


def test_merged_customers_count_for_their_survivor() -> None:
    customers = [customer("C1"), customer("C2", merged="C1"), customer("C3")]
    orders = [
        ["C1", days_ago(40), 10, ""],
        ["C2", days_ago(20), 15, ""],
        ["c2@example.org", days_ago(2), 5, ""],
    ]
    out, res, _ = run_tiers(customers, orders)
    assert set(res.customers) == {"C1", "C3"}
    assert (res.customers["C1"].orders, res.customers["C1"].revenue) == (3, 30.0)
    assert len(tab_rows(out)) == 2


def test_a_repeated_customer_id_is_counted_once() -> None:
    customers = [customer("C1", "Ann"), customer("C2"), customer("C1", "Annie")]
    out, res, _ = run_tiers(customers, [["C1", days_ago(3), 10, ""], ["C1", days_ago(2), 5, ""]])
    assert (res.customers["C1"].name, res.customers["C1"].revenue) == ("Ann", 15.0)
    assert [r["Customer ID"] for r in tab_rows(out)] == ["C1", "C2"]
    assert "Customers row 4 repeats Customer ID C1 (row 2); it is counted once, as row 2." in res.skipped


# ---------------------------------------------------------------- RFM


def test_quintile_scores_give_equal_values_equal_scores() -> None:
    assert list(quintile_scores([1, 2, 3, 4, 5])) == [1, 2, 3, 4, 5]
    assert list(quintile_scores([5, 4, 3, 2, 1], higher_is_better=False)) == [1, 2, 3, 4, 5]
    assert list(quintile_scores(list(range(10)))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert list(quintile_scores([7, 7, 7])) == [3, 3, 3]
    # Six one-time buyers of ten share mid-rank 3.5 -> pct 0.3 -> F 2.
    assert list(quintile_scores([1] * 6 + [2, 2, 5, 9])) == [2] * 6 + [4, 4, 5, 5]


def test_every_score_combination_gets_exactly_the_first_matching_segment() -> None:
    names = {rule.segment for rule in RFM_RULES}
    assert names == {
        "Champions",
        "Loyal",
        "Potential loyalist",
        "New",
        "Promising",
        "Needs attention",
        "About to sleep",
        "At risk",
        "Can't lose them",
        "Hibernating",
        "Lost",
    }
    for r, f, m, orders in itertools.product(range(1, 6), range(1, 6), range(1, 6), (1, 2, 7)):
        seg = rfm_segment(r, f, m, orders)
        first = next(rule.segment for rule in RFM_RULES if rule.matches(r, f, m, orders))
        assert seg == first and seg
    assert rfm_segment(5, 5, 5, 9) == "Champions"
    assert rfm_segment(5, 5, 1, 9) == "Loyal"
    assert rfm_segment(1, 5, 5, 9) == "Can't lose them"
    assert rfm_segment(2, 3, 1, 3) == "At risk"
    assert rfm_segment(2, 3, 1, 1) == "Hibernating"  # one order is never "bought often"
    assert rfm_segment(5, 2, 3, 1) == "New"
    assert rfm_segment(4, 3, 3, 1) == "Promising"
    assert rfm_segment(5, 3, 2, 2) == "Potential loyalist"
    assert rfm_segment(3, 2, 2, 2) == "Needs attention"
    assert rfm_segment(3, 2, 2, 1) == "About to sleep"
    assert rfm_segment(1, 1, 1, 1) == "Lost"


def test_rfm_scores_and_segments_on_a_small_shop() -> None:
    # Five customers, each clearly in one quintile for each measure.
    spec = {
        "C1": [1, 5, 9, 14, 20, 30],  # six orders, the latest yesterday
        "C2": [200, 230, 260, 300],  # four orders, long ago
        "C3": [2],  # one order, very recent
        "C4": [90, 120],
        "C5": [400],
    }
    customers = [customer(k) for k in spec]
    orders = [[k, days_ago(d), 50, ""] for k, ds in spec.items() for d in ds]
    _out, res, _ = run_tiers(customers, orders)
    got = {k: (v.r_score, v.f_score, v.m_score, v.rfm_segment) for k, v in res.customers.items()}
    assert got == {
        "C1": (5, 5, 5, "Champions"),
        "C2": (2, 4, 4, "Can't lose them"),
        "C3": (4, 1, 1, "Promising"),  # one order (tied lowest: mid-rank 1.5 -> score 1)
        "C4": (3, 3, 3, "Needs attention"),
        "C5": (1, 1, 1, "Lost"),
    }
    assert "RFM 5-5-5 = Champions" in res.customers["C1"].reason


# ---------------------------------------------------------------- referrals


def test_referrals_by_id_email_and_name_count_only_buyers() -> None:
    customers = [
        customer("C1", "Ann", "Lee"),
        customer("C2", referred_by="C1"),
        customer("C3", referred_by="c1@example.org"),
        customer("C4", referred_by="ann  LEE"),
        customer("C5", referred_by="C1"),  # never bought: does not count
        customer("C6", referred_by="Nobody Known"),
        customer("C7", referred_by="C7"),  # themselves: ignored
    ]
    orders = [[k, days_ago(5), amount, ""] for k, amount in (("C2", 10), ("C3", 20), ("C4", 30), ("C7", 5))]
    out, res, _ = run_tiers(customers, orders)
    ann = res.customers["C1"]
    assert (ann.referrals, ann.referred_revenue, ann.advocate) == (3, 60.0, True)
    assert "advocate: referred 3 customers who bought (60)" in ann.reason
    assert res.customers["C2"].referred_by == "C1"
    assert not res.customers["C7"].advocate
    assert res.referral_notes == ["Customers row 7: 'Referred by' 'Nobody Known' matches no customer."]
    assert "1 Referred by entry could not be matched to one customer" in "\n".join(out.summary)
    row = next(r for r in tab_rows(out) if r["Customer ID"] == "C1")
    assert (row["Referrals"], row["Referred revenue"], row["Advocate"]) == (3, 60.0, "yes")


def test_a_name_shared_by_two_customers_is_not_guessed() -> None:
    customers = [
        customer("C1", "Sam", "Fox"),
        customer("C2", "Sam", "Fox"),
        customer("C3", referred_by="Sam Fox"),
    ]
    _out, res, _ = run_tiers(customers, [["C3", days_ago(1), 10, ""]])
    assert not any(v.advocate for v in res.customers.values())
    assert "matches 2 customers by name" in res.referral_notes[0]


# ---------------------------------------------------------------- accounts


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Acme Ltd", "ACME"),
        ("Acme Pty. Ltd.", "acme"),
        ("Smith & Sons, Inc.", "Smith and Sons"),
        ("Müller GmbH", "Muller"),
        ("The Widget Co.", "Widget"),
        ("Globex LLC", "globex, llc"),
    ],
)
def test_account_key_folds_spellings_of_one_company(a: str, b: str) -> None:
    assert account_key(a) == account_key(b) != ""


def test_account_key_keeps_different_companies_apart() -> None:
    assert account_key("Acme Foods") != account_key("Acme")
    assert account_key("Ltd") == "ltd"  # a suffix alone is still a name


def test_contacts_at_one_company_roll_up_into_a_tiered_account() -> None:
    customers = [
        customer("C1", company="Acme Ltd"),
        customer("C2", company="ACME"),
        customer("C3", company="acme, ltd."),
        customer("C4", company="Globex Inc"),
        customer("C5"),  # a private customer
    ]
    orders = [
        ["C1", days_ago(30), 300, ""],
        ["C2", days_ago(10), 200, ""],
        ["C4", days_ago(5), 100, ""],
        ["C5", days_ago(5), 1000, ""],
    ]
    out, res, _ = run_tiers(customers, orders)
    acme, globex = res.accounts
    assert acme.account == "Acme Ltd" or acme.account in {"ACME", "acme, ltd."}
    assert (sorted(acme.contacts), acme.orders, acme.revenue, acme.last_order) == (
        ["C1", "C2", "C3"],
        2,
        500.0,
        days_ago(10),
    )
    # Among accounts: 500 of 600 -> Acme Platinum; Globex starts at 83% -> Silver.
    assert (acme.tier, acme.revenue_rank, globex.tier, globex.revenue) == ("Platinum", 1, "Silver", 100.0)
    assert "3 contacts (C1, C2, C3)" in acme.reason
    assert res.customers["C3"].account == acme.account and res.customers["C5"].account == ""
    rows = tab_rows(out)
    accounts = [r for r in rows if r["Level"] == "Account"]
    assert [r["Name"] for r in accounts] == [acme.account, "Globex Inc"]
    assert accounts[0]["Revenue"] == 500.0 and accounts[0]["Tier"] == "Platinum"
    assert rows[: len(customers)] == [r for r in rows if r["Level"] == "Customer"]  # customers first


# ---------------------------------------------------------------- lifetime value


def synthetic_shop(n: int, seed: int = 7) -> tuple[list[list[Any]], list[list[Any]]]:
    """Customers buying at random rates over two years; some stop."""
    rng = random.Random(seed)
    customers = [customer(f"C{i}") for i in range(n)]
    orders: list[list[Any]] = []
    for i in range(n):
        start = rng.randint(30, 700)
        rate = rng.uniform(5, 60)  # days between orders
        alive_until = start - rng.randint(0, 700)
        d = start
        while d > 0:
            orders.append([f"C{i}", days_ago(d), round(rng.uniform(10, 90), 2), ""])
            if d < alive_until:
                break
            d -= max(1, int(rng.expovariate(1 / rate)))
    return customers, orders


def test_lifetime_value_is_predicted_with_enough_repeat_customers() -> None:
    customers, orders = synthetic_shop(150)
    out, res, _ = run_tiers(customers, orders)
    assert res.ltv_fitted, res.ltv_note
    assert set(res.ltv_params) >= {"r", "alpha", "a", "b", "p", "q", "gamma"}
    for v in res.customers.values():
        assert v.p_alive is not None and 0 <= v.p_alive <= 1
        assert v.predicted_purchases_12m is not None and v.predicted_purchases_12m >= 0
        assert v.predicted_value_12m is not None and v.predicted_value_12m >= 0
    # A frequent, recent buyer is expected to buy more than one who stopped long ago.
    ranked = sorted(res.customers.values(), key=lambda v: v.days_since_last_order or 0)
    recent = [v for v in ranked[:30] if v.orders >= 5]
    stale = [v for v in ranked[-30:] if v.orders >= 5]
    if recent and stale:
        assert max(v.p_alive or 0 for v in stale) < max(v.p_alive or 0 for v in recent)
    assert "BG/NBD fitted on 150 customers" in res.ltv_note
    assert res.ltv_note in out.summary
    row = tab_rows(out)[0]
    assert row["P(active) %"] is not None and row["Predicted value 12m"] is not None


def test_above_the_fit_sample_the_models_are_fitted_on_a_fixed_sample(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With more customers than FIT_SAMPLE the parameters come from a seeded sample (the
    same each run), every customer still gets a prediction, and the predictions stay
    close to those of the fit on everyone."""
    customers, orders = synthetic_shop(600, seed=3)
    _first, full, _ = run_tiers(customers, orders)
    monkeypatch.setattr(tiers_module, "FIT_SAMPLE", 300)
    _out, sampled, _ = run_tiers(customers, orders)
    _out2, again, _ = run_tiers(customers, orders)
    assert sampled.ltv_fitted and "fixed random sample of 300 of these customers" in sampled.ltv_note
    assert "sample" not in full.ltv_note
    assert sampled.ltv_params == again.ltv_params  # the sample is fixed, not drawn anew
    assert sampled.ltv_params != full.ltv_params  # and it is a sample: the fit differs a little
    for key, v in sampled.customers.items():
        assert v.p_alive is not None and v.predicted_value_12m is not None
        assert v.predicted_purchases_12m == pytest.approx(
            full.customers[key].predicted_purchases_12m, abs=1.0
        )
    total = sum(v.predicted_purchases_12m or 0 for v in full.customers.values())
    assert sum(v.predicted_purchases_12m or 0 for v in sampled.customers.values()) == pytest.approx(
        total, rel=0.1
    )


def test_too_few_repeat_customers_shows_historical_value_only() -> None:
    customers, orders = synthetic_shop(20)
    out, res, _ = run_tiers(customers, orders)
    assert not res.ltv_fitted
    assert "the model needs at least 50" in res.ltv_note and res.ltv_note in out.tabs[0].note
    for row in tab_rows(out):
        assert row["P(active) %"] is None and row["Predicted value 12m"] is None
        assert row["Historical value"] == row["Revenue"]


# ---------------------------------------------------------------- through the library front door


@pytest.mark.skipif(
    importlib.util.find_spec("sheet_crm.steps.validate") is None,
    reason="the validate step is not written yet",
)
def test_api_run_writes_the_tiers_tab() -> None:
    from sheet_crm import api

    backend = MemoryBackend(
        {
            "Customers": [CUSTOMER_HEADERS, customer("C1", "Ann", "Lee"), customer("C2", "Bo", "Ray")],
            "Orders": [
                ORDER_HEADERS,
                ["O1", "C1", days_ago(3), 80, "Tea"],
                ["O2", "C2", days_ago(9), 20, "Tea"],
            ],
        }
    )
    report = api.run(backend, ["tiers"], today=TODAY, now=datetime(2026, 11, 22, 9, 0))
    result = report.outputs["tiers"].result
    assert isinstance(result, TiersResult) and result.customers["C1"].tier == "Platinum"
    grid = backend.sheets["Tiers"]
    assert grid[0][0].startswith("Generated by sheet-crm")
    assert grid[1] == TIERS_HEADERS
    assert [r[1] for r in grid[2:]] == ["C1", "C2"]


# ---------------------------------------------------------------- properties of the Pareto rule


@hypothesis.settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from([-5.0, 0.0, 1.0, 2.5, 10.0, 10.0, 40.0, 99.99, 1000.0]), min_size=1, max_size=40
    ),
    st.sampled_from([(50.0, 80.0, 95.0), (30.0, 60.0, 90.0), (80.0, 80.0, 100.0)]),
)
def test_pareto_tiers_are_monotone_and_ties_agree(revenues: list[float], limits: tuple[float, ...]) -> None:
    cutoffs = dict(zip(TIER_NAMES[:3], limits, strict=True))
    rev = np.asarray(revenues)
    keys = [f"K{i:03d}" for i in range(len(revenues))]
    par = pareto(rev, keys, cutoffs)
    level = {t: i for i, t in enumerate(TIER_NAMES)}
    positive = [i for i, r in enumerate(revenues) if r > 0]
    assert all(par.tier[i] == "" for i in range(len(revenues)) if revenues[i] <= 0)
    for i in positive:
        for j in positive:
            if revenues[i] > revenues[j]:
                assert level[par.tier[i]] <= level[par.tier[j]] and par.rank[i] < par.rank[j]
            if revenues[i] == revenues[j]:
                assert par.tier[i] == par.tier[j] and par.rank[i] == par.rank[j]
    if positive:
        best = max(positive, key=lambda i: revenues[i])
        assert par.tier[best] == "Platinum" and par.rank[best] == 1
        assert max(par.cumulative[positive]) == pytest.approx(1.0)
        top = par.top20_share
        assert top is not None and par.top20_count == max(1, -(-len(positive) // 5))
        # The top 20% bring at least 20% of revenue (they are the biggest), never more than all.
        assert 0.2 - 1e-9 <= top <= 1.0 + 1e-9
    else:
        assert par.top20_share is None
