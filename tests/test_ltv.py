"""Lifetime-value models: the CDNOW reproduction of the published figures, and the
formulas on hand-checked cases."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from conftest import shared_path

from sheet_crm import ltv

CALIBRATION_END = date(1997, 9, 30)  # week 39 of 1997
HOLDOUT_END = date(1998, 6, 30)  # 39 weeks more


def read_cdnow_sample() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CDNOW_sample.txt: one purchase a line, whitespace-separated:
    master customer id, sample customer id, date YYYYMMDD, number of CDs, dollar value.
    Returns (customer, day ordinal, dollar value)."""
    raw = np.loadtxt(shared_path("datasets", "cdnow", "CDNOW_sample.txt"))
    assert raw.shape == (6919, 5)
    ymd = raw[:, 2].astype(np.int64)
    days = np.array([date(int(v) // 10000, int(v) // 100 % 100, int(v) % 100).toordinal() for v in ymd])
    return raw[:, 1].astype(np.int64), days, raw[:, 4]


@pytest.fixture(scope="module")
def cdnow() -> dict[str, object]:
    cust, days, value = read_cdnow_sample()
    end = CALIBRATION_END.toordinal()
    cal = days <= end
    summary = ltv.summarise(cust[cal], days[cal], value[cal], end)
    holdout = (~cal) & (days <= HOLDOUT_END.toordinal())
    # Repeat purchases in the holdout: same-day purchases of a customer count once.
    holdout_purchases = len(set(zip(cust[holdout].tolist(), days[holdout].tolist(), strict=True)))
    return {"summary": summary, "holdout_purchases": holdout_purchases, "customers": len(np.unique(cust))}


def within(value: float, target: float, tolerance: float) -> bool:
    return abs(value - target) <= tolerance * abs(target)


def test_cdnow_sample_shape(cdnow: dict) -> None:
    s: ltv.PurchaseSummary = cdnow["summary"]
    assert cdnow["customers"] == 2357 == len(s.x)
    assert int((s.x > 0).sum()) == 946  # the repeat buyers of the Gamma-Gamma note
    # Everyone's first purchase is in the first 12 weeks of 1997.
    assert s.first_day.max() < date(1997, 1, 1).toordinal() + 12 * 7
    assert cdnow["holdout_purchases"] == 1882


def test_bgnbd_reproduces_fader_hardie_lee_2005(cdnow: dict) -> None:
    s: ltv.PurchaseSummary = cdnow["summary"]
    fit = ltv.fit_bgnbd(s.x, s.t_x, s.T)
    assert fit.converged
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, target in published.items():
        assert within(getattr(fit, name), target, 0.01), (name, getattr(fit, name))
    assert within(fit.log_likelihood, -9582.4, 0.01)
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.5)


def test_bgnbd_holdout_prediction_is_within_15_percent(cdnow: dict) -> None:
    s: ltv.PurchaseSummary = cdnow["summary"]
    fit = ltv.fit_bgnbd(s.x, s.t_x, s.T)
    predicted = float(np.sum(ltv.expected_purchases(fit, 39.0, s.x, s.t_x, s.T)))
    actual = cdnow["holdout_purchases"]
    assert within(predicted, actual, 0.15), predicted


def test_gamma_gamma_reproduces_fader_hardie_2013(cdnow: dict) -> None:
    s: ltv.PurchaseSummary = cdnow["summary"]
    fit = ltv.fit_gamma_gamma(s.x, s.monetary)
    assert fit.converged and fit.customers == 946
    for name, target in {"p": 6.25, "q": 3.74, "gamma": 15.44}.items():
        assert within(getattr(fit, name), target, 0.01), (name, getattr(fit, name))
    spend = ltv.expected_spend(fit, s.x, s.monetary)
    # Shrinkage: a customer's expected spend lies between their own average and everyone's.
    population = fit.p * fit.gamma / (fit.q - 1)
    repeat = s.x > 0
    lo = np.minimum(s.monetary[repeat], population) - 1e-9
    hi = np.maximum(s.monetary[repeat], population) + 1e-9
    assert np.all((spend[repeat] >= lo) & (spend[repeat] <= hi))
    assert np.allclose(spend[~repeat], population)


def test_published_worked_example() -> None:
    """FHL 2005, section 5: a customer with x=2, t_x=30.43, T=38.86 expects 1.226
    purchases in the next 39 weeks."""
    params = ltv.BgNbdParams(0.243, 4.414, 0.793, 2.426, 0.0, True)
    assert ltv.expected_purchases(params, 39, [2], [30.43], [38.86])[0] == pytest.approx(1.226, abs=1e-3)
    # No repeat purchase: certainly still "alive" as far as the model can tell.
    assert ltv.p_alive(params, [0], [0], [30])[0] == 1.0
    # The longer the silence since the last purchase, the less likely still active.
    alive = ltv.p_alive(params, [3, 3, 3], [35, 20, 5], [38, 38, 38])
    assert alive[0] > alive[1] > alive[2]


def test_summarise_collapses_same_day_purchases() -> None:
    d0 = date(2025, 1, 1).toordinal()
    s = ltv.summarise(
        customer=[1, 1, 1, 2, 1],
        day=[d0, d0, d0 + 7, d0 + 14, d0 + 14],
        value=[10, 5, 20, 8, 30],
        end_day=d0 + 28,
    )
    assert list(s.keys) == [1, 2]
    assert list(s.x) == [2, 0]  # customer 1: three purchase days
    assert list(s.t_x) == [2.0, 0.0]  # weeks
    assert list(s.T) == [4.0, 2.0]
    assert list(s.monetary) == [25.0, 0.0]  # (20 + 30) / 2; the first day is not a repeat


@pytest.mark.parametrize("shuffle", [False, True])
def test_summarise_whatever_the_customer_numbers_and_order(shuffle: bool) -> None:
    """The same purchases give the same summary whether they come sorted or not, and
    whether the customer numbers are small (one sort of a combined key) or so large
    that the combined key would overflow (``np.lexsort`` instead)."""
    rng = np.random.default_rng(3)
    n = 400
    small = rng.integers(0, 40, n)
    days = 738_000 + rng.integers(0, 700, n)
    value = np.round(rng.uniform(5, 90, n), 2)
    order = rng.permutation(n) if shuffle else np.lexsort((days, small))
    small, days, value = small[order], days[order], value[order]
    big = small * (1 << 55) + 7  # the same customers, numbered far apart
    a = ltv.summarise(small, days, value, 739_000)
    b = ltv.summarise(big, days, value, 739_000)
    assert ((b.keys - 7) >> 55).tolist() == a.keys.tolist()
    for field in ("x", "t_x", "T", "monetary"):
        assert np.allclose(getattr(a, field), getattr(b, field)), field
    if not shuffle:  # already in order: neither way sorts again
        assert ltv.by_customer_then_day(small, days) is None
        assert ltv.by_customer_then_day(big, days) is None
