"""Benchmark: the tiers step on 100k customers / 1M orders, and the lifetime-value fit
on the full CDNOW master file (23,570 customers), beside the `lifetimes` package.

Run:  .venv/bin/python benchmarks/bench_tiers.py [--customers 100000] [--orders 1000000]

Targets (issue 4): the tiers step < 5 s; the lifetime-value fit < 2 s. The records are
built before the clock starts (reading and typing the workbook is measured by the
workbook benchmarks, not here).
"""

from __future__ import annotations

import argparse
import time
from datetime import date, datetime
from pathlib import Path

import numpy as np

from sheet_crm import ltv
from sheet_crm.config import Settings
from sheet_crm.findings import FindingList
from sheet_crm.model import Customer, Order, Records
from sheet_crm.steps import Context
from sheet_crm.steps.tiers import run as run_tiers
from sheet_crm.workbook import Workbook

TODAY = date(2026, 11, 22)
CDNOW = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "cdnow" / "CDNOW_master.txt"


def generated_records(n_customers: int, n_orders: int, seed: int = 1) -> Records:
    """Customers with heavy-tailed order counts and amounts, some companies, some
    referrals, 2% refunds and a few orders dated after today."""
    rng = np.random.default_rng(seed)
    customers = []
    companies = [f"Company {i} Ltd" for i in range(n_customers // 20)]
    for i in range(n_customers):
        company = companies[i % len(companies)] if i % 5 == 0 else ""
        ref = f"C{rng.integers(n_customers):06d}" if i % 10 == 3 else ""
        customers.append(
            Customer(
                row=i + 2,
                invalid=set(),
                extra={},
                customer_id=f"C{i:06d}",
                first_name=f"First{i}",
                last_name=f"Last{i}",
                name="",
                company=company,
                email=f"c{i}@example.org",
                email_normalized="",
                referred_by=ref,
                merged_into="",
            )
        )
    # Pareto-ish: who buys is drawn from a Zipf-like weight per customer.
    weights = rng.pareto(1.2, n_customers) + 0.05
    who = rng.choice(n_customers, size=n_orders, p=weights / weights.sum())
    start = TODAY.toordinal() - 3 * 365
    days = start + rng.integers(0, 3 * 365 + 10, size=n_orders)  # a few after today
    amounts = np.round(rng.lognormal(3.5, 0.8, size=n_orders), 2)
    refund = rng.random(n_orders) < 0.02
    amounts[refund] = -np.round(amounts[refund] / 2, 2)
    products = [f"Product {k}" for k in range(200)]
    prod = rng.integers(0, 200, size=n_orders)
    orders = [
        Order(
            row=j + 2,
            invalid=set(),
            extra={},
            order_id=f"O{j}",
            customer_ref=f"C{who[j]:06d}",
            customer_id="",
            date=date.fromordinal(int(days[j])),
            amount=float(amounts[j]),
            product=products[prod[j]],
            quantity=1.0,
        )
        for j in range(n_orders)
    ]
    return Records(customers, orders)


def bench_tiers(n_customers: int, n_orders: int) -> None:
    t0 = time.perf_counter()
    records = generated_records(n_customers, n_orders)
    built = time.perf_counter() - t0
    ctx = Context(
        Workbook({}), records, Settings(), TODAY, datetime(2026, 11, 22, 9), FindingList(), options={}
    )
    t0, c0 = time.perf_counter(), time.process_time()
    out = run_tiers(ctx)
    took, cpu = time.perf_counter() - t0, time.process_time() - c0
    res = out.result
    print(f"generated {n_customers:,} customers / {n_orders:,} orders in {built:.1f} s (not timed below)")
    print(
        f"tiers step: {took:.2f} s wall, {cpu:.2f} s CPU (target < 5 s) -> {'OK' if took < 5 else 'TOO SLOW'}"
    )
    print(f"  rows in Tiers tab: {len(out.tabs[0].rows):,}; accounts: {len(res.accounts):,}")
    print(f"  top 20% share: {res.top20_share:.1%}; tiers: {res.tier_counts}")
    print(f"  {res.ltv_note}")


def read_cdnow_master() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CDNOW_master.txt: a header line, then customer id, date YYYYMMDD, CDs, dollars."""
    raw = np.loadtxt(CDNOW, skiprows=1)
    ymd = raw[:, 1].astype(np.int64)
    uniq, inverse = np.unique(ymd, return_inverse=True)
    ordinals = np.array([date(int(v) // 10000, int(v) // 100 % 100, int(v) % 100).toordinal() for v in uniq])
    return raw[:, 0].astype(np.int64), ordinals[inverse], raw[:, 3]


def bench_cdnow() -> None:
    if not CDNOW.exists():
        print(f"CDNOW master file not found at {CDNOW}; skipping the lifetime-value benchmark")
        return
    cust, days, value = read_cdnow_master()
    end = date(1997, 9, 30).toordinal()
    cal = days <= end
    t0, c0 = time.perf_counter(), time.process_time()
    s = ltv.summarise(cust[cal], days[cal], value[cal], end)
    bg = ltv.fit_bgnbd(s.x, s.t_x, s.T)
    gg = ltv.fit_gamma_gamma(s.x, s.monetary)
    alive = ltv.p_alive(bg, s.x, s.t_x, s.T)
    purchases = ltv.expected_purchases(bg, 52.18, s.x, s.t_x, s.T)
    value12 = purchases * ltv.expected_spend(gg, s.x, s.monetary)
    took, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"CDNOW master: {len(s.x):,} customers, {int((s.x > 0).sum()):,} repeat buyers "
        f"(calibration 1997-01-01..1997-09-30)"
    )
    print(
        f"sheet_crm.ltv (summary + BG/NBD + Gamma-Gamma + predictions): {took:.2f} s wall, "
        f"{cpu:.2f} s CPU (target < 2 s)"
    )
    print(
        f"  BG/NBD r={bg.r:.4f} alpha={bg.alpha:.4f} a={bg.a:.4f} b={bg.b:.4f} LL={bg.log_likelihood:.1f} "
        f"converged={bg.converged}"
    )
    print(f"  Gamma-Gamma p={gg.p:.4f} q={gg.q:.4f} gamma={gg.gamma:.4f} converged={gg.converged}")
    print(f"  mean P(active) {np.mean(alive):.3f}; predicted 12-month value {np.nansum(value12):,.0f}")
    holdout = (~cal) & (days <= date(1998, 6, 30).toordinal())
    actual = len(set(zip(cust[holdout].tolist(), days[holdout].tolist(), strict=True)))
    predicted = float(np.nansum(ltv.expected_purchases(bg, 39.0, s.x, s.t_x, s.T)))
    print(f"  39-week holdout repeat purchases: predicted {predicted:,.0f}, actual {actual:,}")
    bench_lifetimes(s)


def bench_lifetimes(s: ltv.PurchaseSummary) -> None:
    try:
        from lifetimes import BetaGeoFitter, GammaGammaFitter
    except Exception as exc:  # the package may be missing or broken on new pandas/scipy
        print(f"lifetimes: not available ({type(exc).__name__}: {exc})")
        return
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        bgf = BetaGeoFitter().fit(s.x, s.t_x, s.T)
        repeat = (s.x > 0) & (s.monetary > 0)  # as sheet_crm.ltv: a $0 average cannot be fitted
        ggf = GammaGammaFitter().fit(s.x[repeat], s.monetary[repeat])
        bgf.conditional_expected_number_of_purchases_up_to_time(52.18, s.x, s.t_x, s.T)
        took, cpu = time.perf_counter() - t0, time.process_time() - c0
    except Exception as exc:
        print(f"lifetimes: the fit failed ({type(exc).__name__}: {exc})")
        return
    p = bgf.params_
    g = ggf.params_
    print(f"lifetimes 0.11 (same data, same steps): {took:.2f} s wall, {cpu:.2f} s CPU")
    print(
        f"  BG/NBD r={p['r']:.4f} alpha={p['alpha']:.4f} a={p['a']:.4f} b={p['b']:.4f} "
        f"LL={ltv.bgnbd_log_likelihood(p['r'], p['alpha'], p['a'], p['b'], s.x, s.t_x, s.T).sum():.1f}"
    )
    print(f"  Gamma-Gamma p={g['p']:.4f} q={g['q']:.4f} gamma={g['v']:.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    args = parser.parse_args()
    bench_tiers(args.customers, args.orders)
    print()
    bench_cdnow()


if __name__ == "__main__":
    main()
