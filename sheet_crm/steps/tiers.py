"""Value tiers: totals, Pareto share, RFM scores, lifetime value, referrals, accounts.

The result types below are the interface later steps (segments, dashboard,
outreach) rely on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

TIER_NAMES = ("Platinum", "Gold", "Silver", "Bronze")


@dataclass
class CustomerValue:
    """One customer's value figures; ``key`` is ``Customer.key``."""

    key: str
    name: str = ""
    orders: int = 0
    revenue: float = 0.0
    first_order: date | None = None
    last_order: date | None = None
    avg_order_value: float | None = None
    days_since_last_order: int | None = None
    usual_gap_days: float | None = None  # median days between orders; None with < 2 orders
    revenue_rank: int | None = None  # 1 = highest revenue
    cumulative_share: float | None = None  # share of all revenue up to and including this one
    top_percent: float | None = None  # "top 14% of customers by revenue"
    tier: str = ""  # one of TIER_NAMES, or "" with no revenue
    r_score: int | None = None
    f_score: int | None = None
    m_score: int | None = None
    rfm_segment: str = ""  # Champions, Loyal, ..., Lost
    historical_value: float = 0.0
    p_alive: float | None = None
    predicted_purchases_12m: float | None = None
    predicted_value_12m: float | None = None
    referrals: int = 0  # customers they referred who bought
    referred_revenue: float = 0.0
    advocate: bool = False
    account: str = ""  # the company account it rolls up into ("" for private customers)
    products: list[str] = field(default_factory=list)  # distinct products bought
    reason: str = ""


@dataclass
class AccountValue:
    """A company with its contacts rolled up."""

    account: str
    contacts: list[str]
    orders: int
    revenue: float
    last_order: date | None
    tier: str
    reason: str


@dataclass
class TiersResult:
    customers: dict[str, CustomerValue]  # by Customer.key
    accounts: list[AccountValue] = field(default_factory=list)
    total_revenue: float = 0.0
    top20_share: float | None = None  # measured share of revenue from the top 20% of customers
    cutoffs: dict[str, float] = field(default_factory=dict)  # tier -> cumulative revenue share %
    ltv_fitted: bool = False
    ltv_note: str = ""  # why lifetime value is (not) predicted
    skipped: list[str] = field(default_factory=list)  # plain-words notes on rows left out
