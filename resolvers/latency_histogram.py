"""Latency histograms read from the latency rollups, for percentiles over large slices.

One SQL statement reads the histogram of a filter's range: the whole UTC days (and hours,
where the family keeps them) from a `latency_hist*` family's tables, the edges from `request_log`
(bucketing each raw latency with the same integer formula). The range is decomposed signed
(`decompose(..., signed=True)`): a New York month reads whole UTC days, minus the hours before
its first local midnight and plus those after its last, subtracted rows counting negatively.
Each row reports two counts: the requests matching the whole filter, and every request of the
organization in the range (what an exact computation would have to scan), so the caller can
decide between the exact method and the histogram from the same read. On PostgreSQL the
raw rows not folded into the histograms yet are read with them (resolvers/fold_tail.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from models.database import Params, current_dialect, fetch_rows
from models.latency_rollup import LATENCY_FAMILIES, bucket_value_ms, latency_bucket_sql
from models.rollup import GRAIN_WIDTHS, RollupFamily
from resolvers.fold_tail import has_tail, pending_rows
from resolvers.periods import TimeRange
from resolvers.rollup_choice import filtered_columns, smallest_family
from resolvers.rollup_reader import in_time_ranges
from resolvers.scope import LogFilter, Scope, scoped_conditions
from resolvers.time_slices import Grain, TimeSlice, decompose
from resolvers.usage_dimensions import GroupKey, UsageDimension, normalize_group_value


@dataclass(slots=True)
class Histogram:
    """Requests per latency bucket (index -> count) and their exact latency sum in ms."""

    counts: dict[int, int] = field(default_factory=dict)
    latency_ms_sum: int = 0

    @property
    def requests(self) -> int:
        return sum(self.counts.values())

    def percentile_ms(self, p: int, rank: int) -> int:
        """The reported latency (ms) of the bucket holding the request at 1-based `rank`
        in latency order; the true value is within models.latency_rollup's bound."""
        seen = 0
        for bucket in sorted(self.counts):
            seen += self.counts[bucket]
            if seen >= rank:
                return bucket_value_ms(bucket)
        raise ValueError(f"rank {rank} (p{p}) is beyond the histogram's {seen} requests")


@dataclass(slots=True)
class HistogramRead:
    """Histograms per group of the matching requests, and how many requests of the scope
    lie in the range whatever the other filters (the rows an exact answer would scan)."""

    groups: dict[GroupKey, Histogram]
    scanned: int


def histogram_family(
    scope: Scope, log_filter: LogFilter, dimension: UsageDimension | None
) -> RollupFamily | None:
    """The smallest latency family able to answer, or None (a member, key, endpoint or
    provider-model condition: those need the raw rows)."""
    columns = filtered_columns(scope, log_filter)
    if dimension is not None:
        columns.add(dimension.column)
    return smallest_family(LATENCY_FAMILIES, columns)


async def read_histograms(
    scope: Scope,
    log_filter: LogFilter,
    family: RollupFamily,
    dimension: UsageDimension | None = None,
) -> HistogramRead:
    """The latency histograms of the filter's range per group of `dimension` (key `()`
    when ungrouped), in one SQL statement."""
    grains = [Grain(grain.upper()) for grain in family.grains]
    # One branch per grain and sign: a signed slice's rows are subtracted.
    pieces: dict[tuple[Grain, int], list[TimeSlice]] = {}
    for piece in decompose(log_filter.time_range, grains, signed=True):
        pieces.setdefault((piece.grain, piece.sign), []).append(piece)
    params = Params(current_dialect())
    # Without conditions beyond the scope, every request read matches.
    filtered = bool(filtered_columns(scope, log_filter))
    branches = [
        _branch_sql(grain, sign, slices, family, scope, log_filter, dimension, filtered, params)
        for (grain, sign), slices in pieces.items()
    ]
    if has_tail(params.dialect):
        # The raw rows not folded into the histograms yet, in the same statement (one
        # snapshot): each request is counted in the histograms or in this tail, once.
        branches += [
            _branch_sql(
                grain,
                sign,
                slices,
                family,
                scope,
                log_filter,
                dimension,
                filtered,
                params,
                tail=True,
            )
            for (grain, sign), slices in pieces.items()
            if grain is not Grain.RAW
        ]
    groups: dict[GroupKey, Histogram] = defaultdict(Histogram)
    scanned = 0
    if not branches:
        return HistogramRead({}, 0)
    keys = "d0, bucket" if dimension else "bucket"
    sql = (
        f"SELECT {keys}, CAST(SUM(matched) AS BIGINT) AS matched, "
        "CAST(SUM(latency_sum) AS BIGINT) AS latency_sum, "
        f"CAST(SUM(scanned) AS BIGINT) AS scanned FROM ({' UNION ALL '.join(branches)}) "
        f"AS branches GROUP BY {keys}"
    )
    for row in await fetch_rows(sql, params, may_lag=True):
        scanned += int(row["scanned"] or 0)
        matched = int(row["matched"] or 0)
        if matched == 0:
            continue
        key: GroupKey = () if dimension is None else (normalize_group_value(dimension, row["d0"]),)
        histogram = groups[key]
        bucket = int(row["bucket"])
        histogram.counts[bucket] = histogram.counts.get(bucket, 0) + matched
        histogram.latency_ms_sum += int(row["latency_sum"] or 0)
    return HistogramRead(dict(groups), scanned)


def _branch_sql(
    grain: Grain,
    sign: int,
    slices: list[TimeSlice],
    family: RollupFamily,
    scope: Scope,
    log_filter: LogFilter,
    dimension: UsageDimension | None,
    filtered: bool,
    params: Params,
    *,
    tail: bool = False,
) -> str:
    """One branch's rows; with `tail`, the raw rows of a histogram branch's slices still
    pending (resolvers/fold_tail.py), bucketed as the histogram rows they will become."""
    raw = grain is Grain.RAW or tail
    requests, latency = ("1", "latency_ms") if raw else ("requests", "latency_ms_sum")
    if sign < 0:
        requests, latency = f"-{requests}", f"-{latency}"
    matched, matched_latency = requests, latency
    if filtered:
        # Placeholders are numbered in text order: SELECT first, then WHERE.
        matches = " AND ".join(scoped_conditions(scope, log_filter, params, time_column=None))
        matched = f"CASE WHEN {matches} THEN {requests} ELSE 0 END"
        matches = " AND ".join(scoped_conditions(scope, log_filter, params, time_column=None))
        matched_latency = f"CASE WHEN {matches} THEN {latency} ELSE 0 END"
    columns = [
        f"{dimension.raw_expression() if raw else dimension.column} AS d0" if dimension else "",
        f"{latency_bucket_sql('latency_ms') if raw else 'latency_bucket'} AS bucket",
        f"{matched} AS matched",
        f"{matched_latency} AS latency_sum",
        f"{requests} AS scanned",
    ]
    time_column = "timestamp" if raw else "bucket_start"
    # Placeholders in text order: the FROM item's before the WHERE's.
    if tail:
        table = pending_rows(
            scope, TimeRange(min(s.start for s in slices), max(s.end for s in slices)), params
        )
    else:
        table = "request_log" if raw else family.table(grain.value.lower())
    where = scoped_conditions(scope, None, params)
    step = None if raw else GRAIN_WIDTHS[grain.value.lower()]
    where.append(in_time_ranges(time_column, [(s.start, s.end) for s in slices], params, step))
    # Rows, not sums: the outer GROUP BY sums every branch in one aggregation.
    return f"SELECT {', '.join(c for c in columns if c)} FROM {table} WHERE {' AND '.join(where)}"
