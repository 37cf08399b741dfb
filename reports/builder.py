"""Gather a report's numbers through the same resolvers `Organization.usage` answers from,
for the organization as a whole (the Admin view), so each figure equals the API's for the
same period and timezone.

What every report holds: key metrics and the previous period's (growth), a trend (hourly
for a day, daily for a week or month), the top models, providers, API keys and members by
customer cost, requests by status code, the most frequent error patterns, and spend against the
monthly budget (the billing period so far for daily and weekly reports; the whole billing
period, i.e. budget vs actual, for monthly ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from exports.usage import GroupLabels
from models.attribution import NO_TAG
from models.organization import Organization
from models.report import ReportKind
from reports.periods import previous_period
from resolvers.billing_policy import billing_policy
from resolvers.current_spend import BudgetStatus, budget_status, percent_used
from resolvers.error_analysis import ErrorAnalysis, error_analysis
from resolvers.periods import TimeRange
from resolvers.scope import LogFilter, Scope
from resolvers.time_slices import Granularity
from resolvers.usage import (
    BreakdownField,
    SortDirection,
    Trend,
    UsageGroup,
    usage_breakdown,
    usage_totals,
    usage_trend,
)
from resolvers.usage_dimensions import NO_MEMBER, UsageDimension
from resolvers.usage_measures import UsageMeasures

TOP_GROUPS = 10
TOP_ERROR_PATTERNS = 10
_STATUS_CODES_SHOWN = 100

TITLES = {
    ReportKind.DAILY: "Daily usage summary",
    ReportKind.WEEKLY: "Weekly cost report",
    ReportKind.MONTHLY: "Monthly spending analysis",
}
_TREND_GRANULARITY = {
    ReportKind.DAILY: Granularity.HOUR,
    ReportKind.WEEKLY: Granularity.DAY,
    ReportKind.MONTHLY: Granularity.DAY,
}


@dataclass(frozen=True, slots=True)
class BudgetView:
    """Spend in (part of) a billing period against the monthly budget (nano-USD)."""

    billing_period: TimeRange
    # The part of the billing period counted: its start up to the report period's end.
    counted: TimeRange
    spend_nanos: int
    budget_nanos: int | None

    @property
    def percent_used(self) -> str | None:
        """Spend / budget x 100 to 2 decimals ("74.99"); None without a (positive) budget."""
        if self.budget_nanos is None:
            return None
        value = percent_used(self.spend_nanos, self.budget_nanos)
        return None if value is None else format(value, "f")

    @property
    def status(self) -> BudgetStatus | None:
        return (
            None
            if self.budget_nanos is None
            else budget_status(self.spend_nanos, self.budget_nanos)
        )


@dataclass(frozen=True, slots=True)
class ReportData:
    """Every number of one report; ranges UTC, money nano-USD, shown in `timezone`."""

    organization_name: str
    organization_slug: str
    kind: ReportKind
    period: TimeRange
    timezone: ZoneInfo
    generated_at: datetime
    totals: UsageMeasures
    previous_period: TimeRange
    previous: UsageMeasures
    trend: Trend
    top_models: list[UsageGroup]
    top_providers: list[UsageGroup]
    top_api_keys: list[UsageGroup]
    top_members: list[UsageGroup]
    # By tag: a request with two tags is in both groups (untagged requests: tag "").
    top_tags: list[UsageGroup]
    status_codes: list[UsageGroup]
    errors: ErrorAnalysis
    budget: BudgetView
    labels: GroupLabels

    @property
    def title(self) -> str:
        return TITLES[self.kind]


async def build_report(
    org: Organization, kind: ReportKind, period: TimeRange, generated_at: datetime
) -> ReportData:
    """The numbers of `org`'s `kind` report for `period` (a UTC range from
    `reports.periods`), in the organization's timezone."""
    tz = ZoneInfo(org.timezone)
    scope = Scope.for_organization(org.id)
    log_filter = LogFilter(time_range=period, timezone=tz)
    earlier = previous_period(kind, period, tz, org.billing_anchor_day)
    totals = await usage_totals(scope, log_filter)
    previous = await usage_totals(scope, log_filter.with_range(earlier))
    trend = await usage_trend(scope, log_filter, _TREND_GRANULARITY[kind])
    top_models = await _top(scope, log_filter, UsageDimension.MODEL)
    top_providers = await _top(scope, log_filter, UsageDimension.PROVIDER)
    top_keys = await _top(scope, log_filter, UsageDimension.API_KEY)
    top_members = await _top(scope, log_filter, UsageDimension.MEMBER)
    top_tags = await _top(scope, log_filter, UsageDimension.TAG)
    status_codes = await usage_breakdown(
        scope,
        log_filter,
        (UsageDimension.STATUS_CODE,),
        BreakdownField.REQUESTS,
        SortDirection.DESC,
        _STATUS_CODES_SHOWN,
    )
    errors = await error_analysis(scope, log_filter)
    budget = await _budget(scope, org, period, tz)
    labels = await GroupLabels.load(scope, (UsageDimension.API_KEY, UsageDimension.MEMBER))
    return ReportData(
        organization_name=org.name,
        organization_slug=org.slug,
        kind=kind,
        period=period,
        timezone=tz,
        generated_at=generated_at,
        totals=totals,
        previous_period=earlier,
        previous=previous,
        trend=trend,
        top_models=top_models,
        top_providers=top_providers,
        top_api_keys=top_keys,
        top_members=top_members,
        top_tags=top_tags,
        status_codes=status_codes,
        errors=errors,
        budget=budget,
        labels=labels,
    )


async def _top(scope: Scope, log_filter: LogFilter, dimension: UsageDimension) -> list[UsageGroup]:
    return await usage_breakdown(
        scope, log_filter, (dimension,), BreakdownField.COST, SortDirection.DESC, TOP_GROUPS
    )


async def _budget(scope: Scope, org: Organization, period: TimeRange, tz: ZoneInfo) -> BudgetView:
    """The billing period the report period ends in, counted up to the report's end."""
    billing = billing_policy(org).period(period.end - timedelta(microseconds=1))
    counted = TimeRange(billing.start, period.end)
    spend = await usage_totals(scope, LogFilter(time_range=counted, timezone=tz))
    return BudgetView(billing, counted, spend.customer_cost_nanos, org.monthly_budget_nanos)


NO_MEMBER_LABEL = "(no member: team key)"


NO_TAG_LABEL = "(untagged)"


def group_label(data: ReportData, group: UsageGroup) -> str:
    """How a top-list group is named: the model alias, the provider, the key's label, the
    member's name (user-supplied text: escape or neutralize it where it is rendered)."""
    [dimension] = group.dimensions
    [value] = group.key
    if dimension is UsageDimension.API_KEY:
        return data.labels.api_keys.get(int(value), f"(key {value})")
    if dimension is UsageDimension.MEMBER:
        if int(value) == NO_MEMBER:
            return NO_MEMBER_LABEL
        return data.labels.members.get(int(value), f"(member {value})")
    if dimension is UsageDimension.TAG and value == NO_TAG:
        return NO_TAG_LABEL
    return str(value)
