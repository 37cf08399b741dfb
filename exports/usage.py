"""Usage report export rows: trend buckets and breakdown groups, with every CostSummary
figure, computed by the same resolvers as `Organization.usage` (rollups, one statement).

Both are bounded before they run (exports/cost.py predicts their size: a trend has at most
1500 buckets per series, a breakdown one row per group, at most MAX_EXPORT_GROUPS), so they
are built whole. Money is plain USD strings, rates and averages exact
decimals as the API gives them. A trend bucket's times come twice: `bucketStart`/`bucketEnd`
are the wall-clock times in the filter's zone without an offset (a DST change never mixes
offsets in one column), `bucketStartUtc`/`bucketEndUtc` the instants in UTC; all RFC 3339
with 6 fractional digits (models/timestamps.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from exports.formats import Column, Row, text
from models.global_ids import encode_global_id
from models.timestamps import format_instant, format_wall_time
from pricing.money import format_usd
from resolvers.errors import BadInputError
from resolvers.loop_turns import LoopTurns, in_slices
from resolvers.rollup_reader import read_usage
from resolvers.scope import LogFilter, Scope
from resolvers.time_slices import Granularity, decompose
from resolvers.usage import (
    BreakdownField,
    SortDirection,
    TrendBucket,
    UsageGroup,
    check_limit,
    sort_groups,
    usage_trend,
)
from resolvers.usage_dimensions import (
    NO_MEMBER,
    GroupKey,
    UsageDimension,
    require_breakdown_access,
)
from resolvers.usage_measures import UsageMeasures

# Most groups an export of "every group" (a breakdown without `limit`) returns.
MAX_EXPORT_GROUPS = 1_000

SUMMARY_COLUMNS: tuple[Column, ...] = (
    Column("requests"),
    Column("successful"),
    Column("failed"),
    Column("clientErrors"),
    Column("serverErrors"),
    Column("successRate"),
    Column("errorRate"),
    Column("inputTokens"),
    Column("outputTokens"),
    Column("totalTokens"),
    Column("providerCost"),
    Column("markup"),
    Column("fixedFees"),
    Column("customerCost"),
    Column("averageCostPerRequest"),
    Column("averageLatencyMs"),
    Column("unpricedRequests"),
    Column("cacheReadTokens"),
    Column("cacheWrite5mTokens"),
    Column("cacheWrite1hTokens"),
    Column("reasoningTokens"),
    Column("requestUnits"),
    Column("cacheHitRate"),
    Column("uncachedInputCost"),
    Column("cacheReadCost"),
    Column("cacheWriteCost"),
    Column("nonReasoningOutputCost"),
    Column("reasoningCost"),
    Column("requestCost"),
    Column("cacheSavings"),
)

_DIMENSION_COLUMNS: dict[UsageDimension, tuple[Column, ...]] = {
    UsageDimension.MODEL: (text("model"),),
    UsageDimension.PROVIDER_MODEL: (text("providerModel"),),
    UsageDimension.API_KEY: (Column("apiKeyId"), text("apiKeyLabel")),
    UsageDimension.MEMBER: (Column("memberId"), text("memberName")),
    UsageDimension.STATUS_CODE: (Column("statusCode"),),
    UsageDimension.ENDPOINT: (text("endpoint"),),
    UsageDimension.PROVIDER: (text("provider"),),
    UsageDimension.TAG: (text("tag"),),
    UsageDimension.END_USER: (text("endUser"),),
}


# A trend bucket's times: local wall clock (no offset), then the same instants in UTC.
BUCKET_TIME_COLUMNS: tuple[Column, ...] = (
    Column("bucketStart"),
    Column("bucketEnd"),
    Column("bucketStartUtc"),
    Column("bucketEndUtc"),
)

# Rows built between two turns of the event loop: a row's 30 figures take ~80 µs.
ROWS_PER_TURN = 250


@dataclass(frozen=True, slots=True)
class UsageExport:
    columns: tuple[Column, ...]
    rows: list[Row]


def decimal_text(value: Decimal | None) -> str | None:
    """An exact decimal as plain positional text ("0.000000525", never "5.25E-7")."""
    return None if value is None else format(value, "f")


def summary_cells(measures: UsageMeasures) -> list[object]:
    """The SUMMARY_COLUMNS cells of `measures`, exactly as CostSummary reports them."""
    average_cost = measures.average_cost_nanos()
    return [
        measures.requests,
        measures.successful,
        measures.failed,
        measures.client_errors,
        measures.server_errors,
        decimal_text(measures.success_rate_percent()),
        decimal_text(measures.error_rate_percent()),
        measures.input_tokens,
        measures.output_tokens,
        measures.total_tokens,
        format_usd(measures.provider_cost_nanos),
        format_usd(measures.markup_nanos),
        format_usd(measures.fixed_fee_nanos),
        format_usd(measures.customer_cost_nanos),
        None if average_cost is None else format_usd(average_cost),
        decimal_text(measures.average_latency_ms()),
        measures.unpriced,
        measures.cache_read_tokens,
        measures.cache_write_5m_tokens,
        measures.cache_write_1h_tokens,
        measures.reasoning_tokens,
        measures.request_units,
        decimal_text(measures.cache_hit_rate_percent()),
        format_usd(measures.input_cost_nanos),
        format_usd(measures.cache_read_cost_nanos),
        format_usd(measures.cache_write_cost_nanos),
        format_usd(measures.output_cost_nanos),
        format_usd(measures.reasoning_cost_nanos),
        format_usd(measures.request_cost_nanos),
        format_usd(measures.cache_savings_nanos),
    ]


class GroupLabels:
    """Key labels and member names of the scope, loaded once, for dimension cells."""

    def __init__(self, api_keys: dict[int, str], members: dict[int, str]) -> None:
        self.api_keys = api_keys
        self.members = members

    @classmethod
    async def load(cls, scope: Scope, dimensions: Sequence[UsageDimension]) -> GroupLabels:
        """Only the maps `dimensions` need (none for MODEL or STATUS_CODE groups)."""
        keys: dict[int, str] = {}
        members: dict[int, str] = {}
        if UsageDimension.API_KEY in dimensions:
            keys = dict(await scope.api_keys(include_team_keys=True).values_list("id", "label"))
        if UsageDimension.MEMBER in dimensions:
            members = dict(await scope.members().values_list("id", "name"))
        return cls(keys, members)

    def cells(self, dimensions: Sequence[UsageDimension], key: GroupKey) -> list[object]:
        """The dimension columns' cells of one group (a MEMBER group without a member has
        empty id and name)."""
        cells: list[object] = []
        for dimension, value in zip(dimensions, key, strict=True):
            if dimension is UsageDimension.API_KEY:
                cells += [encode_global_id("ApiKey", int(value)), self.api_keys.get(int(value))]
            elif dimension is UsageDimension.MEMBER:
                member_id = int(value)
                if member_id == NO_MEMBER:
                    cells += [None, None]
                else:
                    cells += [encode_global_id("Member", member_id), self.members.get(member_id)]
            else:
                cells.append(value)
        return cells


def dimension_columns(dimensions: Sequence[UsageDimension]) -> tuple[Column, ...]:
    """The columns naming a group of `dimensions`, in order."""
    return tuple(column for d in dimensions for column in _DIMENSION_COLUMNS[d])


async def trend_export(
    scope: Scope,
    log_filter: LogFilter,
    granularity: Granularity,
    split_by: UsageDimension | None = None,
    limit: int = 20,
) -> UsageExport:
    """One row per local bucket (BUCKET_TIME_COLUMNS, the summary figures), or with
    `split_by` one row per series and bucket (top `limit` series by customer cost, in that
    order). Raises as `usage_trend` does (BadInputError, ForbiddenError for a split)."""
    trend = await usage_trend(scope, log_filter, granularity, split_by, limit)
    tz = log_filter.timezone
    times = BUCKET_TIME_COLUMNS
    if split_by is None:
        rows: list[Row] = [[*_bucket_times(b, tz), *summary_cells(b.totals)] for b in trend.buckets]
        return UsageExport(times + SUMMARY_COLUMNS, rows)
    dimensions = (split_by,)
    labels = await GroupLabels.load(scope, dimensions)
    rows = []
    turns = LoopTurns(ROWS_PER_TURN)  # series x buckets rows: other requests run in between
    for series in trend.series:
        group_cells = labels.cells(dimensions, series.group.key)
        for bucket in series.buckets:
            rows.append([*_bucket_times(bucket, tz), *group_cells, *summary_cells(bucket.totals)])
            await turns.after(1)
    return UsageExport(times + dimension_columns(dimensions) + SUMMARY_COLUMNS, rows)


def _bucket_times(bucket: TrendBucket, tz: ZoneInfo) -> list[object]:
    """A bucket's start and end as wall-clock times in `tz`, then as UTC instants."""
    return [
        format_wall_time(bucket.start, tz),
        format_wall_time(bucket.end, tz),
        format_instant(bucket.start),
        format_instant(bucket.end),
    ]


async def breakdown_groups(
    scope: Scope,
    log_filter: LogFilter,
    dimensions: tuple[UsageDimension, ...],
    order_by: BreakdownField = BreakdownField.COST,
    direction: SortDirection = SortDirection.DESC,
    limit: int | None = None,
) -> list[UsageGroup]:
    """Every group of the filter's usage by `dimensions` (or the top `limit`, 1-100, as
    the API's breakdown), ordered as the API orders them. ForbiddenError for Members;
    BadInputError when, without `limit`, there are more than MAX_EXPORT_GROUPS groups."""
    require_breakdown_access(scope, "Cost breakdowns")
    if limit is not None:
        check_limit(limit)
    [by_group] = await read_usage(
        scope, log_filter, [decompose(log_filter.time_range, signed=True)], dimensions
    )
    if limit is None and len(by_group) > MAX_EXPORT_GROUPS:
        raise BadInputError(
            f"limit: the breakdown has {len(by_group)} groups, more than the "
            f"{MAX_EXPORT_GROUPS} an export returns at once; give limit (1-100) or a "
            "narrower filter"
        )
    groups = [UsageGroup(dimensions, key, totals) for key, totals in by_group.items()]
    ordered = sort_groups(groups, order_by, direction)
    return ordered if limit is None else ordered[:limit]


async def breakdown_export(
    scope: Scope,
    log_filter: LogFilter,
    dimensions: tuple[UsageDimension, ...],
    order_by: BreakdownField = BreakdownField.COST,
    direction: SortDirection = SortDirection.DESC,
    limit: int | None = None,
) -> UsageExport:
    """One row per group: its dimension values, then the summary figures."""
    groups = await breakdown_groups(scope, log_filter, dimensions, order_by, direction, limit)
    labels = await GroupLabels.load(scope, dimensions)
    rows: list[Row] = []
    async for some_groups in in_slices(groups, ROWS_PER_TURN):
        rows += [
            labels.cells(dimensions, group.key) + summary_cells(group.totals)
            for group in some_groups
        ]
    return UsageExport(dimension_columns(dimensions) + SUMMARY_COLUMNS, rows)
