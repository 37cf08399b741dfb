"""Billing periods by tier: what an organization's billing period is, in its timezone.

- FREE: the calendar month (the anchor day is ignored).
- TEAM and BUSINESS: a month from the billing anchor day (1-31; in a shorter month the
  period starts on its last day).
- ENTERPRISE: what the contract sets, when one is stored: periods `contract_period_months`
  long (1 monthly, 3 quarterly, 12 annual), one of them starting at local midnight of
  `contract_period_start`, the others on the same day of month (clamped like an anchor day)
  every so many months before and after it. Without a contract, like TEAM.

Every period is a half-open UTC range between two local midnights of the organization's
timezone (DST gaps and overlaps resolved by `resolvers.periods`). `currentSpend`, the spend
counters behind key limits and the budget, and `keyAccess` all take their period from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from models.organization import Organization, Tier
from resolvers.periods import TimeRange, billing_period

__all__ = [
    "BILLING_POLICY_COLUMNS",
    "MAX_CONTRACT_MONTHS",
    "BillingPeriodKind",
    "BillingPolicy",
    "billing_policy",
    "billing_policy_of_row",
    "policy_for",
]

MAX_CONTRACT_MONTHS = 12
_MICROSECOND = timedelta(microseconds=1)
# The organization columns a policy is built from, for raw-SQL readers (ingest).
BILLING_POLICY_COLUMNS = (
    "tier, timezone, billing_anchor_day, contract_period_start, contract_period_months"
)


class BillingPeriodKind(StrEnum):
    CALENDAR_MONTH = "CALENDAR_MONTH"
    ANCHOR_DAY = "ANCHOR_DAY"
    CONTRACT = "CONTRACT"


@dataclass(frozen=True, slots=True)
class BillingPolicy:
    """How an organization's billing periods run: `months` long, starting at local midnight
    of `anchor_day` in the months `cycle_month` selects (see `resolvers.periods.billing_period`)."""

    kind: BillingPeriodKind
    timezone: ZoneInfo
    anchor_day: int = 1
    months: int = 1
    cycle_month: int = 0
    # The contract's first period start (CONTRACT only), as stored.
    contract_start: date | None = None

    def period(self, at: datetime) -> TimeRange:
        """The billing period containing the aware instant `at` (UTC range)."""
        return billing_period(
            at, self.timezone, self.anchor_day, months=self.months, cycle_month=self.cycle_month
        )

    def previous(self, period: TimeRange) -> TimeRange:
        """The whole billing period just before `period` (one of this policy's)."""
        return self.period(period.start - _MICROSECOND)


def policy_for(
    tier: Tier,
    timezone: ZoneInfo,
    anchor_day: int,
    contract_start: date | None,
    contract_months: int | None,
) -> BillingPolicy:
    """The policy the tier gives an organization with these stored settings."""
    if tier is Tier.FREE:
        return BillingPolicy(BillingPeriodKind.CALENDAR_MONTH, timezone)
    if tier is Tier.ENTERPRISE and contract_start is not None and contract_months is not None:
        return BillingPolicy(
            BillingPeriodKind.CONTRACT,
            timezone,
            anchor_day=contract_start.day,
            months=contract_months,
            cycle_month=(contract_start.year * 12 + contract_start.month - 1) % contract_months,
            contract_start=contract_start,
        )
    return BillingPolicy(BillingPeriodKind.ANCHOR_DAY, timezone, anchor_day=anchor_day)


def billing_policy(org: Organization) -> BillingPolicy:
    """The organization's billing policy (its tier, timezone, anchor day and contract)."""
    return policy_for(
        Tier(org.tier),
        ZoneInfo(org.timezone),
        org.billing_anchor_day,
        org.contract_period_start,
        org.contract_period_months,
    )


def billing_policy_of_row(row: dict[str, object]) -> BillingPolicy:
    """The policy from a raw row holding BILLING_POLICY_COLUMNS."""
    start = row["contract_period_start"]
    months = row["contract_period_months"]
    return policy_for(
        Tier(str(row["tier"])),
        ZoneInfo(str(row["timezone"])),
        int(str(row["billing_anchor_day"])),
        _stored_date(start),
        None if months is None else int(str(months)),
    )


def _stored_date(value: object) -> date | None:
    # SQLite hands a DATE back as text, PostgreSQL as a date.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
