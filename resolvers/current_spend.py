"""Current spend: customer cost in the current billing period against the monthly budget.

Status thresholds are decided on exact integers (spend x 100 against budget x 75 and x 90),
never on a rounded percentage: GREEN under 75%, YELLOW from 75% through 90% inclusive, RED
over 90%. A Member sees only their own spend, without budget, percentage or status (the
organization's budget is team information).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from zoneinfo import ZoneInfo

from models.organization import Organization
from pricing.money import round_half_even_div
from resolvers.billing_policy import BillingPolicy, billing_policy
from resolvers.periods import TimeRange
from resolvers.rollup_reader import read_usage
from resolvers.scope import LogFilter, Scope
from resolvers.time_slices import decompose
from resolvers.usage_measures import UsageMeasures, fixed_point

YELLOW_FROM_PERCENT = 75
RED_ABOVE_PERCENT = 90


class BudgetStatus(Enum):
    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"


def budget_status(spend_nanos: int, budget_nanos: int) -> BudgetStatus:
    """GREEN below 75% of the budget, YELLOW for 75%-90% inclusive, RED above 90%.

    A zero budget is RED as soon as anything is spent (GREEN while nothing is).
    """
    if spend_nanos * 100 < budget_nanos * YELLOW_FROM_PERCENT:
        return BudgetStatus.GREEN
    if spend_nanos * 100 <= budget_nanos * RED_ABOVE_PERCENT:
        return BudgetStatus.YELLOW if spend_nanos > 0 else BudgetStatus.GREEN
    return BudgetStatus.RED


def percent_used(spend_nanos: int, budget_nanos: int) -> Decimal | None:
    """spend / budget x 100 rounded half-even to 2 decimals ("74.99"); None for a zero
    budget (no meaningful percentage)."""
    if budget_nanos <= 0:
        return None
    return fixed_point(round_half_even_div(spend_nanos * 100 * 100, budget_nanos), 2)


@dataclass(frozen=True, slots=True)
class CurrentSpend:
    """Spend in the billing period (UTC range; local to `timezone`), money in nano-USD."""

    period: TimeRange
    timezone: ZoneInfo
    totals: UsageMeasures
    # None for a Member viewer and for organizations without a budget.
    budget_nanos: int | None
    # The rule the period follows (tier, anchor day or contract).
    policy: BillingPolicy

    @property
    def spend_nanos(self) -> int:
        return self.totals.customer_cost_nanos

    def remaining_nanos(self) -> int | None:
        return None if self.budget_nanos is None else self.budget_nanos - self.spend_nanos

    def percent_used(self) -> Decimal | None:
        return (
            None if self.budget_nanos is None else percent_used(self.spend_nanos, self.budget_nanos)
        )

    def status(self) -> BudgetStatus | None:
        return (
            None
            if self.budget_nanos is None
            else budget_status(self.spend_nanos, self.budget_nanos)
        )


async def current_spend(scope: Scope, org: Organization, now: datetime) -> CurrentSpend:
    """Customer cost of the billing period containing `now` (the org's billing policy, in its
    timezone), from the rollups: the whole organization for Admins/Owners, their own requests
    for a Member (then without budget)."""
    policy = billing_policy(org)
    tz = policy.timezone
    period = policy.period(now)
    log_filter = LogFilter(time_range=period, timezone=tz)
    [by_group] = await read_usage(scope, log_filter, [decompose(period, signed=True)])
    budget = org.monthly_budget_nanos if scope.sees_team else None
    return CurrentSpend(period, tz, by_group.get((), UsageMeasures()), budget, policy)
