"""UsageReport: Organization.usage(filter), the dashboard's analytics in one object.

Every field runs its own single SQL statement: totals, trend, breakdown and comparison
from the rollups (raw rows only for sub-quarter edges), latency from the raw rows or the
latency histograms, errors from raw rows.
A Member's figures cover only their own requests; breakdowns, split trends and latency
groups are FORBIDDEN for Members (the seed's "Cost breakdowns" row).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from graph.context import Info
from graph.inputs.filters import UsageFilter
from graph.permissions import TEAM_ONLY, IsAdminOrOwner, require
from graph.types.cost_summary import CostSummary
from graph.types.current_spend import CurrentSpend
from graph.types.error_analysis import UsageErrors
from graph.types.latency import LatencyReport
from graph.types.usage_breakdown import UsageGroupType, UsageOrder
from graph.types.usage_comparison import UsageComparison
from graph.types.usage_enums import TrendGranularityEnum, UsageDimensionEnum
from graph.types.usage_trend import UsageTrend
from maintenance.policy import retention_cutoff
from models.organization import Organization
from resolvers.current_spend import current_spend
from resolvers.error_analysis import error_analysis
from resolvers.scope import LogFilter, Scope, check_filter
from resolvers.time_slices import Granularity
from resolvers.usage import (
    BreakdownField,
    SortDirection,
    usage_breakdown,
    usage_totals,
    usage_trend,
)
from resolvers.usage_comparison import usage_comparison
from resolvers.usage_dimensions import UsageDimension, distinct_dimensions
from settings import Settings


@strawberry.type(
    name="UsageReport",
    description=(
        "Usage matching a filter. Money is exact USD; counts and tokens are BigInt. A Member "
        "sees only their own requests."
    ),
)
class UsageReport:
    from_: datetime = strawberry.field(
        name="from", description="Range start, ISO 8601 in the report's timezone."
    )
    to: datetime = strawberry.field(description="Range end (exclusive).")
    timezone: str = strawberry.field(description="IANA zone of trends and times.")
    scope: strawberry.Private[Scope]
    log_filter: strawberry.Private[LogFilter]
    now: strawberry.Private[datetime]
    # Raw logs before this may have been dropped by retention (None: all kept).
    raw_kept_from: strawberry.Private[datetime | None]

    @strawberry.field(description="Key metrics over the whole range.")
    async def totals(self) -> CostSummary:
        return CostSummary.from_measures(await usage_totals(self.scope, self.log_filter))

    @strawberry.field(
        description=(
            "Zero-filled local calendar buckets (at most 1500). `splitBy` adds one series per "
            "group, top `limit` (1-100) by customer cost: e.g. DAY split by MEMBER is the "
            "team spending trend. Splitting is FORBIDDEN for Members: null with the error; the "
            "rest of the answer stands."
        )
    )
    async def trend(
        self,
        granularity: Annotated[
            TrendGranularityEnum,  # type: ignore[valid-type]
            strawberry.argument(
                description=(
                    "Bucket size: HOUR, DAY, WEEK (from Monday) or MONTH, in the filter's timezone."
                )
            ),
        ] = Granularity.DAY,
        split_by: Annotated[
            UsageDimensionEnum | None,  # type: ignore[valid-type]
            strawberry.argument(
                description="Also split the trend into one series per value of this dimension."
            ),
        ] = None,
        limit: Annotated[
            int,
            strawberry.argument(
                description="With splitBy: most series, the top ones by customer cost (1-100)."
            ),
        ] = 20,
    ) -> UsageTrend | None:
        trend = await usage_trend(
            self.scope,
            self.log_filter,
            Granularity(granularity),
            None if split_by is None else UsageDimension(split_by),
            limit,
        )
        return UsageTrend.from_trend(trend, self.log_filter.timezone)

    @strawberry.field(
        description=(
            "Groups by one or several dimensions, each with its totals; ordered by `orderBy` "
            f"(default COST DESC, ties by value), top `limit` (1-100). Admins/Owners. {TEAM_ONLY}"
        ),
        extensions=require(IsAdminOrOwner),
    )
    async def breakdown(
        self,
        by: Annotated[
            list[UsageDimensionEnum],  # type: ignore[valid-type]
            strawberry.argument(description="The dimensions to group by (one or more)."),
        ],
        order_by: Annotated[
            UsageOrder | None,
            strawberry.argument(
                description="How to sort the groups (customer cost, largest first, by default)."
            ),
        ] = None,
        limit: Annotated[
            int, strawberry.argument(description="Most groups to return (1-100).")
        ] = 20,
    ) -> list[UsageGroupType] | None:
        dimensions = distinct_dimensions([UsageDimension(d) for d in by], "by")
        field, direction = (
            order_by.parsed() if order_by else (BreakdownField.COST, SortDirection.DESC)
        )
        groups = await usage_breakdown(
            self.scope, self.log_filter, dimensions, field, direction, limit
        )
        return [UsageGroupType.from_group(group) for group in groups]

    @strawberry.field(
        description=(
            "Average and p50/p95/p99 latency: exact for small slices, from the latency "
            "histograms (within 1/128) for large ones; see `method`."
        )
    )
    async def latency(self) -> LatencyReport:
        return await LatencyReport.load(self.scope, self.log_filter, self.raw_kept_from)

    @strawberry.field(description="Failed requests by status code and by message pattern.")
    async def errors(self) -> UsageErrors:
        analysis = await error_analysis(self.scope, self.log_filter)
        return UsageErrors.from_analysis(analysis, self.log_filter.timezone)

    @strawberry.field(description="Against the previous period, a week and a month earlier.")
    async def comparison(self) -> UsageComparison:
        data = await usage_comparison(self.scope, self.log_filter, self.now)
        return UsageComparison.from_data(data, self.log_filter.timezone)


async def resolve_usage(
    info: Info, org: Organization, usage_filter: UsageFilter | None
) -> UsageReport:
    """Organization.usage: the filter resolved once (FORBIDDEN at once when it names
    another member for a Member viewer)."""
    loader = info.context.loaders.usage_by_subject
    loader.prime_organization(org)
    log_filter = await loader.log_filter(usage_filter)
    scope = info.context.scope
    check_filter(scope, log_filter)
    tz = log_filter.timezone
    settings: Settings = info.context.request.app.state.settings
    return UsageReport(
        from_=log_filter.time_range.start.astimezone(tz),
        to=log_filter.time_range.end.astimezone(tz),
        timezone=tz.key,
        scope=scope,
        log_filter=log_filter,
        now=loader.now,
        raw_kept_from=retention_cutoff(
            loader.now, settings.raw_retention_months, settings.late_arrival_days
        ),
    )


async def resolve_current_spend(info: Info, org: Organization) -> CurrentSpend:
    """Organization.currentSpend for the viewer (own spend only for a Member)."""
    loader = info.context.loaders.usage_by_subject
    scope = info.context.scope
    data = await current_spend(scope, org, loader.now)
    return CurrentSpend.from_data(data, own_only=not scope.sees_team)
