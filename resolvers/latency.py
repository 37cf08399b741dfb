"""Latency percentiles (nearest rank): exact from the raw rows when the slice is small,
from the latency histograms (within a stated relative error) when it is large.

Exact method: for N requests sorted by latency ascending, the p-th percentile is the latency at
1-based rank ceil(p x N / 100), an actual observed value (no interpolation). PostgreSQL
computes it with `percentile_disc(p / 100)`, whose rank ceil(fraction x N) equals the
integer one for 0.5, 0.95 and 0.99 (each float8 is at or below the true fraction, so the
product never rounds above an integer rank). SQLite numbers the rows in latency order with
ROW_NUMBER() and keeps the rows at rank (N x p + 99) / 100 (integer division), the
ORDER BY + OFFSET of each group. Every request matching the filter counts, failed ones
included. It scans (and sorts) the raw rows of the range, so it is used when the
organization's requests in the range (after the member, key, endpoint and provider-model
conditions that an index or the histograms cannot absorb) number at most
`EXACT_SCAN_LIMIT`, or when the filter needs a dimension the histograms do not have. A range
that starts before `raw_kept_from` (raw-log retention may have dropped those months: the
histograms keep them) is read from the histograms whatever its size, when they can answer.

Approximate method (larger slices): the same nearest rank located in the latency histogram
(models.latency_rollup); the reported value is the middle of the bucket holding that rank,
within 1/128 (0.78125%) of the exact percentile, and exact below 128 ms. Counts and the
average are exact either way. The histogram read also tells how many rows the exact method
would scan, so the choice costs no extra statement: one statement for a large slice, two
for a small one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Any

from models.database import Dialect, Params, current_dialect, fetch_all
from models.latency_rollup import MAX_RELATIVE_ERROR
from resolvers.latency_histogram import Histogram, histogram_family, read_histograms
from resolvers.scope import LogFilter, Scope, scoped_conditions
from resolvers.usage_dimensions import GroupKey, UsageDimension, normalize_group_value
from resolvers.usage_measures import ratio

PERCENTILES = (50, 95, 99)
# Up to this many raw rows to scan, percentiles are exact: 20,000 take about 10 ms on
# PostgreSQL, where the histogram answers in 4 ms (docs/PERFORMANCE.md).
EXACT_SCAN_LIMIT = 20_000


class LatencyMethod(Enum):
    EXACT = "EXACT"
    APPROXIMATE = "APPROXIMATE"


@dataclass(slots=True)
class LatencyStats:
    """Latency of a set of requests in milliseconds; percentiles are None without requests.

    `max_relative_error` bounds |reported - exact| / exact for each percentile (0 when
    `method` is EXACT)."""

    requests: int = 0
    latency_ms_sum: int = 0
    percentiles: dict[int, int] = field(default_factory=dict)
    method: LatencyMethod = LatencyMethod.EXACT
    max_relative_error: Fraction = Fraction(0)

    def average_ms(self) -> Decimal | None:
        """Mean latency in ms, exact to 9 decimals; None without requests."""
        return ratio(self.latency_ms_sum, self.requests)

    def percentile_ms(self, p: int) -> int | None:
        return self.percentiles.get(p)


def nearest_rank(p: int, count: int) -> int:
    """The 1-based rank of the p-th percentile among `count` sorted values: ceil(p x N / 100)."""
    return (count * p + 99) // 100


async def latency_stats(
    scope: Scope,
    log_filter: LogFilter,
    dimension: UsageDimension | None = None,
    *,
    raw_kept_from: datetime | None = None,
) -> dict[GroupKey, LatencyStats]:
    """Latency per group of `dimension` (key `()` when ungrouped; absent when no requests):
    exact for small slices, from the histograms for large ones and for ranges reaching
    before `raw_kept_from`, the first instant whose raw logs retention keeps (see the module
    doc)."""
    family = histogram_family(scope, log_filter, dimension)
    if family is None:
        return await exact_latency_stats(scope, log_filter, dimension)
    read = await read_histograms(scope, log_filter, family, dimension)
    raw_may_be_gone = raw_kept_from is not None and log_filter.time_range.start < raw_kept_from
    if read.scanned <= EXACT_SCAN_LIMIT and not raw_may_be_gone:
        return await exact_latency_stats(scope, log_filter, dimension)
    return {key: _from_histogram(h) for key, h in read.groups.items() if h.requests}


def _from_histogram(histogram: Histogram) -> LatencyStats:
    count = histogram.requests
    return LatencyStats(
        count,
        histogram.latency_ms_sum,
        {p: histogram.percentile_ms(p, nearest_rank(p, count)) for p in PERCENTILES},
        LatencyMethod.APPROXIMATE,
        MAX_RELATIVE_ERROR,
    )


async def exact_latency_stats(
    scope: Scope, log_filter: LogFilter, dimension: UsageDimension | None = None
) -> dict[GroupKey, LatencyStats]:
    """Exact nearest-rank latency per group of `dimension`, from the raw rows."""
    params = Params(current_dialect())
    conditions = " AND ".join(scoped_conditions(scope, log_filter, params))
    group = dimension.raw_expression() if dimension is not None else None
    if params.dialect is Dialect.POSTGRES:
        rows = await fetch_all(_postgres_sql(group, conditions), params, may_lag=True)
        return _from_postgres(rows, dimension)
    rows = await fetch_all(_sqlite_sql(group, conditions), params)
    return _from_ranked(rows, dimension)


def _postgres_sql(group: str | None, conditions: str) -> str:
    percentiles = ", ".join(
        f"percentile_disc({p / 100}) WITHIN GROUP (ORDER BY latency_ms) AS p{p}"
        for p in PERCENTILES
    )
    select = f"{group} AS d0, " if group else ""
    tail = " GROUP BY 1" if group else ""
    return (
        f"SELECT {select}COUNT(*) AS requests, SUM(latency_ms) AS latency_sum, {percentiles} "
        f"FROM request_log WHERE {conditions}{tail}"
    )


def _sqlite_sql(group: str | None, conditions: str) -> str:
    partition = f"PARTITION BY {group} " if group else ""
    ranks = " OR ".join(f"rn = (cnt * {p} + 99) / 100" for p in PERCENTILES)
    return (
        "SELECT d0, latency_ms, rn, cnt, latency_sum FROM ("
        f"SELECT {group or '0'} AS d0, latency_ms, "
        f"ROW_NUMBER() OVER ({partition}ORDER BY latency_ms) AS rn, "
        f"COUNT(*) OVER ({partition.strip()}) AS cnt, "
        f"SUM(latency_ms) OVER ({partition.strip()}) AS latency_sum "
        f"FROM request_log WHERE {conditions}) AS ranked WHERE {ranks}"
    )


def _key(row: dict[str, Any], dimension: UsageDimension | None) -> GroupKey:
    return () if dimension is None else (normalize_group_value(dimension, row["d0"]),)


def _from_postgres(
    rows: list[dict[str, Any]], dimension: UsageDimension | None
) -> dict[GroupKey, LatencyStats]:
    stats: dict[GroupKey, LatencyStats] = {}
    for row in rows:
        requests = int(row["requests"])
        if requests == 0:
            continue
        stats[_key(row, dimension)] = LatencyStats(
            requests,
            int(row["latency_sum"]),
            {p: int(row[f"p{p}"]) for p in PERCENTILES},
        )
    return stats


def _from_ranked(
    rows: list[dict[str, Any]], dimension: UsageDimension | None
) -> dict[GroupKey, LatencyStats]:
    stats: dict[GroupKey, LatencyStats] = {}
    for row in rows:
        count, rank = int(row["cnt"]), int(row["rn"])
        group = stats.setdefault(_key(row, dimension), LatencyStats(count, int(row["latency_sum"])))
        for p in PERCENTILES:
            if nearest_rank(p, count) == rank:
                group.percentiles[p] = int(row["latency_ms"])
    return stats
