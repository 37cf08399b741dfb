"""Read usage sums for any set of time windows in ONE SQL statement.

A window is a list of `TimeSlice`s (from `resolvers.time_slices.decompose`): whole UTC
days, hours and quarters read from one rollup family's day, hour and quarter tables, and
sub-quarter RAW edges read from `request_log`. The family is the smallest one having every
dimension the question groups or filters on (`resolvers.rollup_choice`): a tenant-wide
total reads the (model, status_code) cube, a breakdown by key the key cube, anything
touching provider model or endpoint the full rollup. The statement is a UNION ALL with one
branch per grain in use; each branch tags its rows with a slot that says which windows they
belong to:

- a slot from a CASE over the grain's elementary intervals (the pieces between every window
  boundary) when there are few of them: the number of the set of windows covering the
  interval, the same numbering in every branch, so an outer GROUP BY merges the branches
  and returns one row per window set and group; or
- the rollup bucket's start as Unix seconds when there are many (long HOUR trends), mapped
  to the windows in Python by binary search, so the SQL stays short.

Windows may overlap (a comparison reads this period and the previous one together): a row
counts once in every window that covers it. All sums are Python ints (cast to BIGINT in
SQL: PostgreSQL's SUM of a BIGINT is a NUMERIC, several times slower to decode).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise

from models.database import Dialect, Params, current_dialect, fetch_rows
from models.rollup import MEASURE_COLUMNS, USAGE_FAMILIES, USAGE_FULL, RollupFamily
from resolvers.errors import BadInputError
from resolvers.periods import TimeRange
from resolvers.rollup_choice import filtered_columns, smallest_family
from resolvers.scope import LogFilter, Scope, scoped_conditions
from resolvers.time_slices import Grain, TimeSlice
from resolvers.usage_dimensions import GroupKey, UsageDimension, normalize_group_value
from resolvers.usage_measures import UsageMeasures

# Branch order in the statement; each grain's tag tells its rows apart. Rows whose slot is a
# window set (merged across grains) carry the tag _MERGED.
_GRAINS = (Grain.DAY, Grain.HOUR, Grain.QUARTER, Grain.RAW)
_TAGS = {grain: tag for tag, grain in enumerate(_GRAINS)}
_MERGED = -1
# Up to this many elementary intervals a grain's slot is a CASE index; beyond it, the
# bucket start (a CASE with hundreds of arms would be evaluated for every row).
_MAX_CASE_ARMS = 64
# Both drivers cap bound parameters near 32767; refuse clearly well before that.
_MAX_PARAMETERS = 30_000

# What each rollup measure column sums, computed from raw request_log rows.
_RAW_MEASURES: dict[str, str] = {
    "requests": "COUNT(*)",
    "successful": "SUM(CASE WHEN status_code >= 200 AND status_code < 300 THEN 1 ELSE 0 END)",
    "client_errors": "SUM(CASE WHEN status_code >= 400 AND status_code < 500 THEN 1 ELSE 0 END)",
    "server_errors": "SUM(CASE WHEN status_code >= 500 AND status_code < 600 THEN 1 ELSE 0 END)",
    "unpriced": "SUM(CASE WHEN priced THEN 0 ELSE 1 END)",
    "input_tokens": "SUM(input_tokens)",
    "output_tokens": "SUM(output_tokens)",
    "provider_cost_nanos": "SUM(provider_cost_nanos)",
    "markup_nanos": "SUM(markup_nanos)",
    "fixed_fee_nanos": "SUM(fixed_fee_nanos)",
    "customer_cost_nanos": "SUM(customer_cost_nanos)",
    "latency_ms_sum": "SUM(latency_ms)",
}

UsageByGroup = dict[GroupKey, UsageMeasures]


@dataclass(frozen=True, slots=True)
class _Interval:
    """A piece of one grain's time, aligned to that grain, and the windows covering it."""

    start: datetime
    end: datetime
    windows: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Branch:
    grain: Grain
    intervals: list[_Interval]
    starts: list[datetime]

    @property
    def by_case(self) -> bool:
        return self.grain is Grain.RAW or len(self.intervals) <= _MAX_CASE_ARMS


async def read_usage(
    scope: Scope,
    log_filter: LogFilter,
    windows: Sequence[Sequence[TimeSlice]],
    dimensions: Sequence[UsageDimension] = (),
) -> list[UsageByGroup]:
    """Usage sums per window and per group of `dimensions`, in one SQL statement.

    `log_filter` supplies everything but time (its range is ignored: the windows say which
    time to read). Returns, for each window in order, a dict from the group's values (in
    `dimensions` order; `()` when ungrouped) to its sums. Groups with no requests are
    absent. Raises ForbiddenError when the filter reaches outside the scope.
    """
    results: list[UsageByGroup] = [{} for _ in windows]
    branches = _branches(windows)
    if not branches:
        return results
    family = usage_family(scope, log_filter, dimensions)
    window_sets = _window_sets(branches)
    params = Params(current_dialect())
    inner = " UNION ALL ".join(
        _branch_sql(branch, family, scope, log_filter, dimensions, window_sets, params)
        for branch in branches
    )
    if len(params.values) > _MAX_PARAMETERS:
        raise BadInputError(
            "this question needs too many time buckets; use a coarser granularity or a "
            "shorter range"
        )
    keys = ", ".join(["grain", "slot", *(f"d{i}" for i in range(len(dimensions)))])
    sums = ", ".join(f"CAST(SUM({m}) AS BIGINT) AS {m}" for m in MEASURE_COLUMNS)
    sql = f"SELECT {keys}, {sums} FROM ({inner}) AS branches GROUP BY {keys}"
    by_tag = {_TAGS[branch.grain]: branch for branch in branches}
    set_windows = {number: windows for windows, number in window_sets.items()}
    for row in await fetch_rows(sql, params):
        tag, slot = int(row["grain"]), int(row["slot"])
        covering = set_windows[slot] if tag == _MERGED else _interval_of(by_tag[tag], slot).windows
        key: GroupKey = tuple(
            normalize_group_value(d, row[f"d{i}"]) for i, d in enumerate(dimensions)
        )
        measures = UsageMeasures.from_row(row)
        for position, window in enumerate(covering):
            current = results[window].get(key)
            if current is None:
                # The first window takes the row's own object; later ones need a copy.
                results[window][key] = measures if position == 0 else measures.copy()
            else:
                current.add(measures)
    for result in results:
        for key in [k for k, m in result.items() if m.requests == 0]:
            del result[key]
    return results


def usage_family(
    scope: Scope, log_filter: LogFilter, dimensions: Sequence[UsageDimension] = ()
) -> RollupFamily:
    """The smallest usage rollup family able to answer: every filtered or grouped column."""
    columns = filtered_columns(scope, log_filter) | {d.column for d in dimensions}
    return smallest_family(USAGE_FAMILIES, columns) or USAGE_FULL


def _window_sets(branches: list[_Branch]) -> dict[tuple[int, ...], int]:
    """A number for each distinct set of windows covering an interval of a CASE branch."""
    numbers: dict[tuple[int, ...], int] = {}
    for branch in branches:
        if branch.by_case:
            for interval in branch.intervals:
                numbers.setdefault(interval.windows, len(numbers))
    return numbers


def _branches(windows: Sequence[Sequence[TimeSlice]]) -> list[_Branch]:
    by_grain: dict[Grain, list[tuple[TimeSlice, int]]] = {}
    for index, slices in enumerate(windows):
        for time_slice in slices:
            by_grain.setdefault(time_slice.grain, []).append((time_slice, index))
    branches: list[_Branch] = []
    for grain in _GRAINS:
        if grain in by_grain:
            intervals = _elementary_intervals(by_grain[grain])
            branches.append(_Branch(grain, intervals, [i.start for i in intervals]))
    return branches


def _elementary_intervals(slices: list[tuple[TimeSlice, int]]) -> list[_Interval]:
    """Split the slices at every boundary into disjoint pieces, each with the windows
    covering it; adjacent pieces covered by the same windows are merged."""
    points = sorted({s.start for s, _ in slices} | {s.end for s, _ in slices})
    ordered = sorted(slices, key=lambda item: item[0].start)
    active: list[tuple[datetime, int]] = []
    next_slice = 0
    intervals: list[_Interval] = []
    for low, high in pairwise(points):
        while next_slice < len(ordered) and ordered[next_slice][0].start <= low:
            time_slice, window = ordered[next_slice]
            active.append((time_slice.end, window))
            next_slice += 1
        active = [(end, window) for end, window in active if end > low]
        if not active:
            continue
        covering = tuple(sorted({window for _, window in active}))
        last = intervals[-1] if intervals else None
        if last is not None and last.end == low and last.windows == covering:
            intervals[-1] = _Interval(last.start, high, covering)
        else:
            intervals.append(_Interval(low, high, covering))
    return intervals


def _branch_sql(
    branch: _Branch,
    family: RollupFamily,
    scope: Scope,
    log_filter: LogFilter,
    dimensions: Sequence[UsageDimension],
    window_sets: dict[tuple[int, ...], int],
    params: Params,
) -> str:
    raw = branch.grain is Grain.RAW
    time_column = "timestamp" if raw else "bucket_start"
    # Placeholders are numbered in text order, so SELECT parameters are added first.
    if branch.by_case:
        tag = _MERGED
        slot = _case_slot(time_column, branch.intervals, window_sets, params)
    else:
        tag = _TAGS[branch.grain]
        slot = _epoch(time_column, params.dialect)
    columns = [f"{tag} AS grain", f"{slot} AS slot"]
    for i, dimension in enumerate(dimensions):
        columns.append(f"{dimension.raw_expression() if raw else dimension.column} AS d{i}")
    for column in MEASURE_COLUMNS:
        columns.append(f"{_RAW_MEASURES[column] if raw else f'SUM({column})'} AS {column}")
    if raw:
        # The hull of the raw pieces bounds the index range scan on (organization, time).
        hull = TimeRange(branch.intervals[0].start, branch.intervals[-1].end)
        conditions = scoped_conditions(
            scope, log_filter.with_range(hull), params, time_column="timestamp"
        )
    else:
        conditions = scoped_conditions(scope, log_filter, params, time_column=None)
    conditions.append(_in_intervals(time_column, branch.intervals, params))
    group_by = ", ".join(str(position) for position in range(1, len(dimensions) + 3))
    table = "request_log" if raw else family.table(branch.grain.value.lower())
    return (
        f"SELECT {', '.join(columns)} FROM {table} "
        f"WHERE {' AND '.join(conditions)} GROUP BY {group_by}"
    )


def _case_slot(
    column: str,
    intervals: list[_Interval],
    window_sets: dict[tuple[int, ...], int],
    params: Params,
) -> str:
    """The window set of the interval a row falls in (rows are already limited to the
    union of the intervals)."""
    last = window_sets[intervals[-1].windows]
    if len(intervals) == 1:
        return str(last)
    arms = [
        f"WHEN {column} < {params.add(interval.end)} THEN {window_sets[interval.windows]}"
        for interval in intervals[:-1]
    ]
    return f"CASE {' '.join(arms)} ELSE {last} END"


def _epoch(column: str, dialect: Dialect) -> str:
    """Unix seconds of a bucket start (SQLite keeps it as ISO text with an offset)."""
    if dialect is Dialect.SQLITE:
        return f"CAST(strftime('%s', {column}) AS INTEGER)"
    return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"


def _in_intervals(column: str, intervals: list[_Interval], params: Params) -> str:
    merged: list[tuple[datetime, datetime]] = []
    for interval in intervals:
        if merged and merged[-1][1] == interval.start:
            merged[-1] = (merged[-1][0], interval.end)
        else:
            merged.append((interval.start, interval.end))
    ranges = [
        f"({column} >= {params.add(start)} AND {column} < {params.add(end)})"
        for start, end in merged
    ]
    return "(" + " OR ".join(ranges) + ")"


def _interval_of(branch: _Branch, slot: int) -> _Interval:
    if branch.by_case:
        return branch.intervals[slot]
    instant = datetime.fromtimestamp(slot, UTC)
    return branch.intervals[bisect_right(branch.starts, instant) - 1]
