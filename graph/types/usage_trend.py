"""Trend: zero-filled local calendar buckets, optionally split into one series per group."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

import strawberry

from graph.scalars import BigInt, usd
from graph.types.cost_summary import CostSummary, average_cost_usd
from graph.types.usage_breakdown import UsageGroupType
from graph.types.usage_enums import TrendGranularityEnum
from graph.types.usage_group import dimension_values
from resolvers.time_slices import Granularity
from resolvers.usage import Trend, TrendBucket
from resolvers.usage_measures import UsageMeasures


@strawberry.type(
    name="TrendBucket",
    description=(
        "One whole local calendar unit [start, end), ISO 8601 with the offset of the report's "
        "timezone at that instant. `totals` counts only the part inside the report's range "
        "(the first and last bucket may reach past it); empty buckets have zero totals."
    ),
)
class TrendBucketType:
    start: datetime = strawberry.field(
        description=(
            "The bucket's start: a local boundary of the filter's timezone, with "
            "that zone's offset."
        )
    )
    end: datetime = strawberry.field(
        description="The bucket's end (exclusive), with the timezone's offset at that instant."
    )
    totals: CostSummary = strawberry.field(
        description="The bucket's figures (zero-filled when nothing happened)."
    )

    @classmethod
    def from_bucket(cls, bucket: TrendBucket, tz: ZoneInfo) -> TrendBucketType:
        return cls(
            start=bucket.start.astimezone(tz),
            end=bucket.end.astimezone(tz),
            totals=CostSummary.from_measures(bucket.totals),
        )


T = TypeVar("T")


@strawberry.type(
    name="TrendColumns",
    description=(
        "The same buckets as parallel arrays, entry i of every array belonging to bucket i "
        "(the shape chart libraries take). Each metric means what the CostSummary field of the "
        "same name means, over that bucket's part of the report's range; a 30-day chart with "
        "12 series costs a few dozen fields instead of thousands."
    ),
)
class TrendColumns:
    buckets: strawberry.Private[list[TrendBucket]]
    tz: strawberry.Private[ZoneInfo]

    def _each(self, metric: Callable[[UsageMeasures], T]) -> list[T]:
        return [metric(bucket.totals) for bucket in self.buckets]

    @strawberry.field(description="Each bucket's start (see TrendBucket.start).")
    def start(self) -> list[datetime]:
        return [bucket.start.astimezone(self.tz) for bucket in self.buckets]

    @strawberry.field(description="Each bucket's end.")
    def end(self) -> list[datetime]:
        return [bucket.end.astimezone(self.tz) for bucket in self.buckets]

    @strawberry.field(description="One value per bucket, in the order of `start`: requests.")
    def requests(self) -> list[BigInt]:
        return self._each(lambda m: BigInt(m.requests))

    @strawberry.field(
        description="One value per bucket, in the order of `start`: requests answered 2xx."
    )
    def successful(self) -> list[BigInt]:
        return self._each(lambda m: BigInt(m.successful))

    @strawberry.field(
        description="One value per bucket, in the order of `start`: requests not answered 2xx."
    )
    def failed(self) -> list[BigInt]:
        return self._each(lambda m: BigInt(m.failed))

    @strawberry.field(
        description="One value per bucket, in the order of `start`: requests answered 4xx."
    )
    def client_errors(self) -> list[BigInt]:
        return self._each(lambda m: BigInt(m.client_errors))

    @strawberry.field(
        description="One value per bucket, in the order of `start`: requests answered 5xx."
    )
    def server_errors(self) -> list[BigInt]:
        return self._each(lambda m: BigInt(m.server_errors))

    @strawberry.field(description="One value per bucket, in the order of `start`: input tokens.")
    def input_tokens(self) -> list[BigInt]:
        return self._each(lambda m: BigInt(m.input_tokens))

    @strawberry.field(description="One value per bucket, in the order of `start`: output tokens.")
    def output_tokens(self) -> list[BigInt]:
        return self._each(lambda m: BigInt(m.output_tokens))

    @strawberry.field(
        description="One value per bucket, in the order of `start`: input plus output tokens."
    )
    def total_tokens(self) -> list[BigInt]:
        return self._each(lambda m: BigInt(m.total_tokens))

    @strawberry.field(description="Prompt tokens served from a cache, per bucket.")
    def cache_read_tokens(self) -> list[BigInt]:
        return self._each(lambda m: BigInt(m.cache_read_tokens))

    @strawberry.field(description="Prompt tokens written to a cache (both lifetimes), per bucket.")
    def cache_write_tokens(self) -> list[BigInt]:
        return self._each(lambda m: BigInt(m.cache_write_tokens))

    @strawberry.field(description="Prompt tokens written to a cache for 5 minutes, per bucket.")
    def cache_write_5m_tokens(self) -> list[BigInt]:
        return self._each(lambda m: BigInt(m.cache_write_5m_tokens))

    @strawberry.field(description="Prompt tokens written to a cache for 1 hour, per bucket.")
    def cache_write_1h_tokens(self) -> list[BigInt]:
        return self._each(lambda m: BigInt(m.cache_write_1h_tokens))

    @strawberry.field(
        description="Prompt tokens read fresh (input - cache reads - cache writes), per bucket."
    )
    def uncached_input_tokens(self) -> list[BigInt]:
        return self._each(
            lambda m: BigInt(m.input_tokens - m.cache_read_tokens - m.cache_write_tokens)
        )

    @strawberry.field(description="Billable per-request units, per bucket.")
    def request_units(self) -> list[BigInt]:
        return self._each(lambda m: BigInt(m.request_units))

    @strawberry.field(description="USD of uncached input tokens, per bucket.")
    def uncached_input_cost(self) -> list[Decimal]:
        return self._each(lambda m: usd(m.input_cost_nanos))

    @strawberry.field(description="USD of cache-read tokens, per bucket.")
    def cache_read_cost(self) -> list[Decimal]:
        return self._each(lambda m: usd(m.cache_read_cost_nanos))

    @strawberry.field(description="USD of cache-write tokens, per bucket.")
    def cache_write_cost(self) -> list[Decimal]:
        return self._each(lambda m: usd(m.cache_write_cost_nanos))

    @strawberry.field(description="USD of output tokens other than reasoning, per bucket.")
    def non_reasoning_output_cost(self) -> list[Decimal]:
        return self._each(lambda m: usd(m.output_cost_nanos))

    @strawberry.field(description="USD of reasoning tokens, per bucket.")
    def reasoning_cost(self) -> list[Decimal]:
        return self._each(lambda m: usd(m.reasoning_cost_nanos))

    @strawberry.field(description="USD of per-request and per-unit prices, per bucket.")
    def request_cost(self) -> list[Decimal]:
        return self._each(lambda m: usd(m.request_cost_nanos))

    @strawberry.field(description="Reasoning tokens (part of outputTokens), per bucket.")
    def reasoning_tokens(self) -> list[BigInt]:
        return self._each(lambda m: BigInt(m.reasoning_tokens))

    @strawberry.field(
        description="cacheReadTokens / inputTokens x 100; null entries for buckets without input."
    )
    def cache_hit_rate(self) -> list[Decimal | None]:
        return self._each(lambda m: m.cache_hit_rate_percent())

    @strawberry.field(description="USD caching saved (signed), per bucket.")
    def cache_savings(self) -> list[Decimal]:
        return self._each(lambda m: usd(m.cache_savings_nanos))

    @strawberry.field(
        description=(
            "One value per bucket, in the order of `start`: requests without a "
            "price for their model."
        )
    )
    def unpriced_requests(self) -> list[BigInt]:
        return self._each(lambda m: BigInt(m.unpriced))

    @strawberry.field(
        description="One value per bucket, in the order of `start`: provider cost in USD."
    )
    def provider_cost(self) -> list[Decimal]:
        return self._each(lambda m: usd(m.provider_cost_nanos))

    @strawberry.field(description="One value per bucket, in the order of `start`: markup in USD.")
    def markup(self) -> list[Decimal]:
        return self._each(lambda m: usd(m.markup_nanos))

    @strawberry.field(
        description="One value per bucket, in the order of `start`: fixed fees in USD."
    )
    def fixed_fees(self) -> list[Decimal]:
        return self._each(lambda m: usd(m.fixed_fee_nanos))

    @strawberry.field(
        description=(
            "One value per bucket, in the order of `start`: customer cost in USD "
            "(provider cost + markup + fixed fees)."
        )
    )
    def customer_cost(self) -> list[Decimal]:
        return self._each(lambda m: usd(m.customer_cost_nanos))

    @strawberry.field(description="Null entries for buckets without requests.")
    def average_cost_per_request(self) -> list[Decimal | None]:
        return self._each(average_cost_usd)

    @strawberry.field(description="Null entries for buckets without requests.")
    def average_latency_ms(self) -> list[Decimal | None]:
        return self._each(lambda m: m.average_latency_ms())

    @strawberry.field(description="Percent; null entries for buckets without requests.")
    def success_rate(self) -> list[Decimal | None]:
        return self._each(lambda m: m.success_rate_percent())

    @strawberry.field(description="Percent; null entries for buckets without requests.")
    def error_rate(self) -> list[Decimal | None]:
        return self._each(lambda m: m.error_rate_percent())


@strawberry.type(
    name="TrendSeries",
    description="One group's line on the chart: its values, totals and every bucket.",
)
class TrendSeriesType(UsageGroupType):
    bucket_data: strawberry.Private[list[TrendBucket]]
    tz: strawberry.Private[ZoneInfo]

    @strawberry.field(description="The group's value in every bucket of the trend.")
    def buckets(self) -> list[TrendBucketType]:
        return [TrendBucketType.from_bucket(b, self.tz) for b in self.bucket_data]

    @strawberry.field(description="The group's buckets as parallel arrays.")
    def columns(self) -> TrendColumns:
        return TrendColumns(buckets=self.bucket_data, tz=self.tz)


@strawberry.type(name="UsageTrend", description="Usage over time in local calendar buckets.")
class UsageTrend:
    granularity: TrendGranularityEnum = strawberry.field(  # type: ignore[valid-type]
        description="The bucket size the trend was asked for."
    )
    timezone: str = strawberry.field(description="IANA zone the buckets follow.")
    bucket_data: strawberry.Private[list[TrendBucket]]
    tz: strawberry.Private[ZoneInfo]

    @strawberry.field(description="All requests, per bucket.")
    def buckets(self) -> list[TrendBucketType]:
        return [TrendBucketType.from_bucket(b, self.tz) for b in self.bucket_data]

    series: list[TrendSeriesType] = strawberry.field(
        description="With `splitBy`: one series per group, top `limit` by customer cost."
    )

    @strawberry.field(description="All requests, per bucket, as parallel arrays.")
    def columns(self) -> TrendColumns:
        return TrendColumns(buckets=self.bucket_data, tz=self.tz)

    @classmethod
    def from_trend(cls, trend: Trend, tz: ZoneInfo) -> UsageTrend:
        return cls(
            granularity=Granularity(trend.granularity),
            timezone=tz.key,
            bucket_data=trend.buckets,
            tz=tz,
            series=[
                TrendSeriesType(
                    totals=CostSummary.from_measures(s.group.totals),
                    bucket_data=s.buckets,
                    tz=tz,
                    **dimension_values(s.group.dimensions, s.group.key),
                )
                for s in trend.series
            ],
        )
