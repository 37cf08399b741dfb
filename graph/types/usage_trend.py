"""Trend: zero-filled local calendar buckets, optionally split into one series per group."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import strawberry

from graph.types.cost_summary import CostSummary
from graph.types.usage_breakdown import UsageGroupType
from graph.types.usage_enums import TrendGranularityEnum
from graph.types.usage_group import dimension_values
from resolvers.time_slices import Granularity
from resolvers.usage import Trend, TrendBucket


@strawberry.type(
    name="TrendBucket",
    description=(
        "One whole local calendar unit [start, end), ISO 8601 with the offset of the report's "
        "timezone at that instant. `totals` counts only the part inside the report's range "
        "(the first and last bucket may reach past it); empty buckets have zero totals."
    ),
)
class TrendBucketType:
    start: datetime
    end: datetime
    totals: CostSummary

    @classmethod
    def from_bucket(cls, bucket: TrendBucket, tz: ZoneInfo) -> TrendBucketType:
        return cls(
            start=bucket.start.astimezone(tz),
            end=bucket.end.astimezone(tz),
            totals=CostSummary.from_measures(bucket.totals),
        )


@strawberry.type(
    name="TrendSeries",
    description="One group's line on the chart: its values, totals and every bucket.",
)
class TrendSeriesType(UsageGroupType):
    buckets: list[TrendBucketType]


@strawberry.type(name="UsageTrend", description="Usage over time in local calendar buckets.")
class UsageTrend:
    granularity: TrendGranularityEnum  # type: ignore[valid-type]
    timezone: str = strawberry.field(description="IANA zone the buckets follow.")
    buckets: list[TrendBucketType] = strawberry.field(description="All requests, per bucket.")
    series: list[TrendSeriesType] = strawberry.field(
        description="With `splitBy`: one series per group, top `limit` by customer cost."
    )

    @classmethod
    def from_trend(cls, trend: Trend, tz: ZoneInfo) -> UsageTrend:
        return cls(
            granularity=Granularity(trend.granularity),
            timezone=tz.key,
            buckets=[TrendBucketType.from_bucket(b, tz) for b in trend.buckets],
            series=[
                TrendSeriesType(
                    totals=CostSummary.from_measures(s.group.totals),
                    buckets=[TrendBucketType.from_bucket(b, tz) for b in s.buckets],
                    **dimension_values(s.group.dimensions, s.group.key),
                )
                for s in trend.series
            ],
        )
