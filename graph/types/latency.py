"""Latency: average and nearest-rank percentiles (exact, or from the latency histograms for
large slices within a stated bound), overall and per group."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, TypedDict

import strawberry

from graph.context import Info
from graph.errors import BadUserInputError
from graph.permissions import TEAM_ONLY, IsAdminOrOwner, require
from graph.scalars import BigInt
from graph.types.enum_values import describe_values
from graph.types.usage_enums import UsageDimensionEnum
from graph.types.usage_group import DimensionValues, dimension_values
from resolvers.latency import EXACT_SCAN_LIMIT, LatencyMethod, LatencyStats, latency_stats
from resolvers.scope import LogFilter, Scope
from resolvers.usage import check_limit
from resolvers.usage_dimensions import GroupKey, UsageDimension, require_breakdown_access

_PERCENTILE_NOTE = (
    "nearest rank: the latency at rank ceil(p x N / 100) of the N requests sorted by "
    "latency (see `method`); null without requests"
)

LatencyMethodEnum = strawberry.enum(
    LatencyMethod,
    name="LatencyMethod",
    description=(
        "EXACT: percentiles are observed latencies, from the raw rows (slices of at most "
        f"{EXACT_SCAN_LIMIT:,} requests, or filtered by key, member, endpoint or provider "
        "model). APPROXIMATE: larger slices, from the latency histograms: each percentile is "
        "the middle of the histogram bucket holding that rank, within `maxRelativeError` of "
        "the exact value (exact below 128 ms)."
    ),
)

describe_values(
    LatencyMethodEnum,
    {
        "EXACT": "Percentiles are observed latencies from the raw rows.",
        "APPROXIMATE": "Percentiles come from the latency histograms, within maxRelativeError.",
    },
)


class _StatsFields(TypedDict):
    requests: BigInt
    average_ms: Decimal | None
    p50_ms: int | None
    p95_ms: int | None
    p99_ms: int | None
    method: LatencyMethod
    max_relative_error: Decimal


def _stats_fields(stats: LatencyStats) -> _StatsFields:
    bound = stats.max_relative_error
    return _StatsFields(
        requests=BigInt(stats.requests),
        average_ms=stats.average_ms(),
        p50_ms=stats.percentile_ms(50),
        p95_ms=stats.percentile_ms(95),
        p99_ms=stats.percentile_ms(99),
        method=stats.method,
        max_relative_error=Decimal(bound.numerator) / Decimal(bound.denominator),
    )


@strawberry.interface(name="LatencyStats", description="Latency of a set of requests, in ms.")
class LatencyStatsFields:
    requests: BigInt = strawberry.field(description="Requests measured (failed ones included).")
    average_ms: Decimal | None = strawberry.field(
        description="Mean latency in ms, rounded half-even to 9 decimals."
    )
    p50_ms: int | None = strawberry.field(description=f"Median; {_PERCENTILE_NOTE}.")
    p95_ms: int | None = strawberry.field(description=f"95th percentile; {_PERCENTILE_NOTE}.")
    p99_ms: int | None = strawberry.field(description=f"99th percentile; {_PERCENTILE_NOTE}.")
    method: LatencyMethodEnum = strawberry.field(  # type: ignore[valid-type]
        description="How the percentiles were computed: EXACT or APPROXIMATE (histograms)."
    )
    max_relative_error: Decimal = strawberry.field(
        description=(
            "Bound on |reported - exact| / exact for each percentile: 0 when EXACT, "
            "0.0078125 (1/128) when APPROXIMATE. Counts and averageMs are always exact."
        )
    )


@strawberry.type(name="LatencyGroup", description="Latency of one group.")
class LatencyGroup(LatencyStatsFields, DimensionValues):
    pass


@strawberry.type(
    name="LatencyReport",
    description=(
        "Latency of the requests matching the filter (all status codes): exact percentiles "
        "for small slices, histogram percentiles within a stated bound for large ones."
    ),
)
class LatencyReport(LatencyStatsFields):
    scope: strawberry.Private[Scope]
    log_filter: strawberry.Private[LogFilter]
    # Raw logs before this may have been dropped by retention (None: all kept).
    raw_kept_from: strawberry.Private[datetime | None]

    @strawberry.field(
        description=(
            "Per group of `by` (Admins/Owners), slowest p95 first (ties by value); "
            f"`limit` 1 to 100. {TEAM_ONLY}"
        ),
        extensions=require(IsAdminOrOwner),
    )
    async def groups(
        self,
        info: Info,
        by: Annotated[
            UsageDimensionEnum,  # type: ignore[valid-type]
            strawberry.argument(description="The dimension to group latency by."),
        ],
        limit: Annotated[
            int, strawberry.argument(description="Most groups to return (1-100).")
        ] = 20,
    ) -> list[LatencyGroup] | None:
        dimension = UsageDimension(by)
        require_breakdown_access(self.scope, "Latency per group")
        if dimension is UsageDimension.TAG:
            raise BadUserInputError(
                "by: latency is not grouped by TAG (a request counts in each of its tags); "
                "filter by tag instead"
            )
        check_limit(limit)
        stats = await latency_stats(
            self.scope, self.log_filter, dimension, raw_kept_from=self.raw_kept_from
        )
        ordered = sorted(stats.items(), key=lambda item: item[0])
        ordered.sort(key=lambda item: item[1].percentile_ms(95) or 0, reverse=True)
        return [_group(dimension, key, s) for key, s in ordered[:limit]]

    @classmethod
    async def load(
        cls, scope: Scope, log_filter: LogFilter, raw_kept_from: datetime | None
    ) -> LatencyReport:
        stats = await latency_stats(scope, log_filter, raw_kept_from=raw_kept_from)
        overall = stats.get((), LatencyStats())
        return cls(
            scope=scope,
            log_filter=log_filter,
            raw_kept_from=raw_kept_from,
            **_stats_fields(overall),
        )


def _group(dimension: UsageDimension, key: GroupKey, stats: LatencyStats) -> LatencyGroup:
    return LatencyGroup(
        **_stats_fields(stats),
        **dimension_values((dimension,), key),
    )
