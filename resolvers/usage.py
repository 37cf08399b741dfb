"""Usage totals, trends and breakdowns, read from the rollups (raw rows only for the
sub-quarter edges of a range), each in one SQL statement.

A Member's questions are silently limited to their own requests by the scope; breakdowns
and split trends are Admin/Owner only (the seed's "Cost breakdowns" row).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from fractions import Fraction

from resolvers.errors import BadInputError
from resolvers.loop_turns import LoopTurns, in_slices
from resolvers.periods import TimeRange
from resolvers.rollup_reader import read_usage
from resolvers.scope import LogFilter, Scope
from resolvers.time_slices import Granularity, bucket_spans, decompose
from resolvers.usage_dimensions import GroupKey, UsageDimension, require_breakdown_access
from resolvers.usage_measures import UsageMeasures

# Each bucket can need up to seven slices; this many keeps a trend's SQL well within the
# drivers' parameter limits (and an HOUR trend still covers two months).
MAX_TREND_BUCKETS = 1_500
MAX_GROUPS = 100


class BreakdownField(Enum):
    COST = "COST"
    REQUESTS = "REQUESTS"
    TOKENS = "TOKENS"
    AVERAGE_LATENCY = "AVERAGE_LATENCY"
    ERROR_RATE = "ERROR_RATE"


class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@dataclass(frozen=True, slots=True)
class UsageGroup:
    """One group of a breakdown: its values (in `dimensions` order) and its sums."""

    dimensions: tuple[UsageDimension, ...]
    key: GroupKey
    totals: UsageMeasures

    def value(self, dimension: UsageDimension) -> str | int | None:
        """This group's value for `dimension`, or None when not grouped by it."""
        if dimension not in self.dimensions:
            return None
        return self.key[self.dimensions.index(dimension)]


@dataclass(frozen=True, slots=True)
class TrendBucket:
    """One local calendar bucket; start/end are UTC, totals cover bucket ∩ range only."""

    start: datetime
    end: datetime
    totals: UsageMeasures


@dataclass(frozen=True, slots=True)
class TrendSeries:
    group: UsageGroup
    buckets: list[TrendBucket]


@dataclass(frozen=True, slots=True)
class Trend:
    granularity: Granularity
    buckets: list[TrendBucket]
    series: list[TrendSeries]


async def usage_totals(scope: Scope, log_filter: LogFilter) -> UsageMeasures:
    """Sums over the filter's whole range (money in nano-USD, latency in ms)."""
    [by_group] = await read_usage(
        scope, log_filter, [decompose(log_filter.time_range, signed=True)]
    )
    return by_group.get((), UsageMeasures())


def check_limit(limit: int, argument: str = "limit", maximum: int = MAX_GROUPS) -> None:
    """BadInputError naming `argument` unless 1 <= limit <= maximum."""
    if not 1 <= limit <= maximum:
        raise BadInputError(f"{argument}: must be between 1 and {maximum}, got {limit}")


async def usage_breakdown(
    scope: Scope,
    log_filter: LogFilter,
    dimensions: tuple[UsageDimension, ...],
    order_by: BreakdownField = BreakdownField.COST,
    direction: SortDirection = SortDirection.DESC,
    limit: int = 20,
) -> list[UsageGroup]:
    """The top `limit` groups of the filter's usage by `dimensions`, ordered by `order_by`
    (ties by the group values, ascending). ForbiddenError for Members."""
    require_breakdown_access(scope, "Cost breakdowns")
    check_limit(limit)
    [by_group] = await read_usage(
        scope, log_filter, [decompose(log_filter.time_range, signed=True)], dimensions
    )
    groups = [UsageGroup(dimensions, key, totals) for key, totals in by_group.items()]
    return sort_groups(groups, order_by, direction)[:limit]


def sort_groups(
    groups: list[UsageGroup], order_by: BreakdownField, direction: SortDirection
) -> list[UsageGroup]:
    """Groups ordered by `order_by` exactly (ratios compared as fractions), ties by values."""
    ordered = sorted(groups, key=lambda group: group.key)
    # Stable: groups with equal metrics keep the ascending value order in both directions.
    return sorted(
        ordered,
        key=lambda group: _metric(group.totals, order_by),
        reverse=direction is SortDirection.DESC,
    )


def _metric(totals: UsageMeasures, field: BreakdownField) -> int | Fraction:
    # Sums compare as ints (a breakdown sorts hundreds of groups); ratios as exact fractions.
    if field is BreakdownField.COST:
        return totals.customer_cost_nanos
    if field is BreakdownField.REQUESTS:
        return totals.requests
    if field is BreakdownField.TOKENS:
        return totals.total_tokens
    if totals.requests == 0:
        return Fraction(0)
    if field is BreakdownField.AVERAGE_LATENCY:
        return Fraction(totals.latency_ms_sum, totals.requests)
    return Fraction(totals.failed, totals.requests)


async def usage_trend(
    scope: Scope,
    log_filter: LogFilter,
    granularity: Granularity,
    split_by: UsageDimension | None = None,
    limit: int = 20,
) -> Trend:
    """Zero-filled local buckets of `granularity` in the filter's timezone over its range,
    and with `split_by` one series per group (top `limit` by customer cost, ties by value).

    Bucket start/end are whole calendar units (UTC instants), so the first and last may
    reach past the range; their totals count only the part inside it. BadInputError when
    more than MAX_TREND_BUCKETS buckets would be needed; ForbiddenError for a Member's split.
    """
    if split_by is not None:
        require_breakdown_access(scope, "Split trends")
        check_limit(limit)
    time_range, tz = log_filter.time_range, log_filter.timezone
    try:
        spans = bucket_spans(time_range, granularity, tz, max_buckets=MAX_TREND_BUCKETS)
    except ValueError as error:
        raise BadInputError(f"granularity: {error}") from None
    # Every bucket overlaps the range; its totals count the overlap only. Up to 1,500 buckets
    # (about 0.1 s): the event loop gets turns meanwhile (loop_turns).
    windows = []
    async for some_spans in in_slices(spans, size=100):
        windows += [
            decompose(
                TimeRange(max(start, time_range.start), min(end, time_range.end)), signed=True
            )
            for start, end in some_spans
        ]
    starts, ends = [start for start, _ in spans], [end for _, end in spans]
    dimensions = (split_by,) if split_by is not None else ()
    results = await read_usage(scope, log_filter, windows, dimensions)
    turns = LoopTurns()  # buckets x groups steps
    buckets: list[TrendBucket] = []
    if split_by is UsageDimension.TAG:
        # Tag groups overlap (a request counts in each of its tags): the buckets' own
        # totals are read ungrouped, so they count each request once.
        totals = await read_usage(scope, log_filter, windows)
        for start, end, by_group in zip(starts, ends, totals, strict=True):
            buckets.append(TrendBucket(start, end, by_group.get((), UsageMeasures())))
    else:
        for start, end, by_group in zip(starts, ends, results, strict=True):
            buckets.append(TrendBucket(start, end, _sum(by_group.values())))
            await turns.after(len(by_group))
    series: list[TrendSeries] = []
    if split_by is not None:
        keys = {key for by_group in results for key in by_group}
        groups: list[UsageGroup] = []
        for key in keys:
            groups.append(UsageGroup(dimensions, key, _sum(r[key] for r in results if key in r)))
            await turns.after(len(results))
        for group in sort_groups(groups, BreakdownField.COST, SortDirection.DESC)[:limit]:
            series_buckets = [
                TrendBucket(start, end, by_group.get(group.key, UsageMeasures()))
                for start, end, by_group in zip(starts, ends, results, strict=True)
            ]
            series.append(TrendSeries(group, series_buckets))
            await turns.after(len(results))
    return Trend(granularity, buckets, series)


def _sum(measures: Iterable[UsageMeasures]) -> UsageMeasures:
    total = UsageMeasures()
    for item in measures:
        total.add(item)
    return total
