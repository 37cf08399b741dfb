"""What a usage export will cost, predicted from its parameters before anything runs.

An export row is one trend bucket (of one series) or one breakdown group with every summary
figure: the same work as a GraphQL `TrendBucket { start end totals { ...30 measures } }`,
so an export costs what that query would (`graph.limits`): 10 points for the aggregate
plus one point per cell (rows x columns), because an export row and a GraphQL bucket take
about the same time to produce (docs/PERFORMANCE.md, "Figures behind design choices").

- Trend: the buckets `usage_trend` will make for the filter's range, timezone and
  granularity (the same `bucket_spans`), times the series: `limit` with `splitBy` (the
  top series by cost; fewer when fewer groups have usage), 1 without.
- Breakdown: `limit` groups, or without it at most MAX_EXPORT_GROUPS (an export of every
  group is refused past that, after the groups are read; see `breakdown_groups`).

Request-log exports are not predicted here: they stream in chunks and hold any number of
rows, one page of memory at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from exports.usage import (
    BUCKET_TIME_COLUMNS,
    MAX_EXPORT_GROUPS,
    SUMMARY_COLUMNS,
    dimension_columns,
)
from resolvers.scope import LogFilter
from resolvers.time_slices import Granularity, bucket_spans
from resolvers.usage import MAX_GROUPS, MAX_TREND_BUCKETS
from resolvers.usage_dimensions import UsageDimension

# As graph.limits.AGGREGATE_WEIGHT: the export runs one aggregate over the rollups.
EXPORT_AGGREGATE_WEIGHT = 10
# As graph.limits.RAW_SCAN_WEIGHT: with a threshold (latency, cost, tokens) no rollup can
# answer, and the aggregate scans the range's raw request logs (bounded by the timeout).
EXPORT_RAW_SCAN_WEIGHT = 250


@dataclass(frozen=True, slots=True)
class ExportCost:
    """An export's predicted size: at most `rows` rows of `columns` cells, read from the
    rollups or (`raw_scan`) from the raw request logs."""

    rows: int
    columns: int
    raw_scan: bool = False

    @property
    def points(self) -> int:
        """The cost in query-cost points: the aggregate's weight (a raw scan's when it reads
        raw logs) plus one per cell."""
        weight = EXPORT_RAW_SCAN_WEIGHT if self.raw_scan else EXPORT_AGGREGATE_WEIGHT
        return weight + self.rows * self.columns


def predicted_trend_export_cost(
    log_filter: LogFilter,
    granularity: Granularity,
    split_by: UsageDimension | None,
    limit: int,
) -> ExportCost:
    """The trend export's size: buckets x series (limit with `split_by`, else 1). An
    export the trend will refuse (too many buckets, `limit` outside 1-100) predicts 0 rows."""
    columns = len(BUCKET_TIME_COLUMNS) + len(SUMMARY_COLUMNS)
    if split_by is not None:
        columns += len(dimension_columns((split_by,)))
        if not 1 <= limit <= MAX_GROUPS:
            return ExportCost(0, columns)
    try:
        buckets = len(
            bucket_spans(
                log_filter.time_range,
                granularity,
                log_filter.timezone,
                max_buckets=MAX_TREND_BUCKETS,
            )
        )
    except ValueError:
        return ExportCost(0, columns)
    return ExportCost(buckets * (limit if split_by is not None else 1), columns)


def predicted_breakdown_export_cost(
    dimensions: Sequence[UsageDimension], limit: int | None
) -> ExportCost:
    """The breakdown export's size: `limit` groups, or MAX_EXPORT_GROUPS without one."""
    columns = len(dimension_columns(dimensions)) + len(SUMMARY_COLUMNS)
    if limit is None:
        return ExportCost(MAX_EXPORT_GROUPS, columns)
    return ExportCost(limit if 1 <= limit <= MAX_GROUPS else 0, columns)
