"""Exact latency percentiles (nearest rank) from raw request_log rows.

Method: for N requests sorted by latency ascending, the p-th percentile is the latency at
1-based rank ceil(p x N / 100), an actual observed value (no interpolation). PostgreSQL
computes it with `percentile_disc(p / 100)`, whose rank ceil(fraction x N) equals the
integer one for 0.5, 0.95 and 0.99 (each float8 is at or below the true fraction, so the
product never rounds above an integer rank). SQLite numbers the rows in latency order with
ROW_NUMBER() and keeps the rows at rank (N x p + 99) / 100 (integer division), the
ORDER BY + OFFSET of each group. Every request matching the filter counts, failed ones
included. This scans the matching raw rows, so it suits the slices a dashboard asks about;
an approximate method for very large slices is planned separately.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from models.database import Dialect, Params, current_dialect, fetch_all
from resolvers.scope import LogFilter, Scope, scoped_conditions
from resolvers.usage_dimensions import GroupKey, UsageDimension, normalize_group_value
from resolvers.usage_measures import ratio

PERCENTILES = (50, 95, 99)


@dataclass(slots=True)
class LatencyStats:
    """Latency of a set of requests in milliseconds; percentiles are None without requests."""

    requests: int = 0
    latency_ms_sum: int = 0
    percentiles: dict[int, int] = field(default_factory=dict)

    def average_ms(self) -> Decimal | None:
        """Mean latency in ms, exact to 9 decimals; None without requests."""
        return ratio(self.latency_ms_sum, self.requests)

    def percentile_ms(self, p: int) -> int | None:
        return self.percentiles.get(p)


def nearest_rank(p: int, count: int) -> int:
    """The 1-based rank of the p-th percentile among `count` sorted values: ceil(p x N / 100)."""
    return (count * p + 99) // 100


async def latency_stats(
    scope: Scope, log_filter: LogFilter, dimension: UsageDimension | None = None
) -> dict[GroupKey, LatencyStats]:
    """Latency per group of `dimension` (key `()` when ungrouped; absent when no requests)."""
    params = Params(current_dialect())
    conditions = " AND ".join(scoped_conditions(scope, log_filter, params))
    group = dimension.raw_expression() if dimension is not None else None
    if params.dialect is Dialect.POSTGRES:
        rows = await fetch_all(_postgres_sql(group, conditions), params)
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
