"""Read usage sums for any set of time windows in ONE SQL statement.

A window is a list of `TimeSlice`s (from `resolvers.time_slices.decompose`): whole UTC
days, hours and quarters read from one rollup family's day, hour and quarter tables, and
sub-quarter RAW edges read from `request_log` (as are the pieces of a grain the family does
not keep: `family_slices`). The family is the smallest one having every
dimension the question groups or filters on (`resolvers.rollup_choice`): a tenant-wide
total reads the (model, status_code) cube, a breakdown by key the key cube, anything
touching provider model or endpoint the full rollup. The statement is a UNION ALL with one
branch per grain in use, each branch's rows (rollup rows, or raw rows as one request each)
tagged with a slot that says which windows they belong to, and one outer GROUP BY:

- a slot from a CASE over the grain's elementary intervals (the pieces between every window
  boundary) when there are few of them: the number of the set of windows covering the
  interval, the same numbering in every branch. When every branch is slotted so, the
  statement returns one row per window and group: a slot that is one window counts there,
  and otherwise a VALUES list maps the slot to its windows and signs; or
- the rollup bucket's start as Unix seconds when there are many (long HOUR trends), mapped
  to the windows in Python by binary search, so the SQL stays short.

On PostgreSQL each rollup branch has a twin, its unfolded tail (resolvers/fold_tail.py): the
raw rows of the same intervals whose rollups the folder has not folded yet, slotted as the
rollup rows they will become, in the same statement, so the sums equal a raw scan whether
or not the folder has run.

Windows may overlap (a comparison reads this period and the previous one together): a row
counts once in every window that covers it. A window's signed slices (`decompose(...,
signed=True)`) are subtracted: a row covered by one is taken away from that window's sums.
All sums are Python ints (cast to BIGINT in SQL: PostgreSQL's SUM of a BIGINT is a NUMERIC,
several times slower to decode).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from operator import itemgetter
from typing import Any

from models.database import Dialect, Params, current_dialect, fetch_rows, to_utc
from models.rollup import (
    GRAIN_WIDTHS,
    MEASURE_COLUMNS,
    TAG_FAMILIES,
    USAGE_BY_TEAM_END_USER,
    USAGE_FAMILIES,
    USAGE_FULL,
    RollupFamily,
)
from resolvers.attribution_sql import tag_rows_join
from resolvers.errors import BadInputError
from resolvers.fold_tail import has_tail, pending_rows
from resolvers.loop_turns import in_slices
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
# Up to this many bucket starts, a grain's scattered runs are read as a list (in_time_ranges).
_MAX_LISTED_BUCKETS = 2_000
# Both drivers cap bound parameters near 32767; refuse clearly well before that.
_MAX_PARAMETERS = 30_000

# What one raw request_log row adds to each rollup measure column.
_RAW_MEASURES: dict[str, str] = {
    "requests": "1",
    "successful": "CASE WHEN status_code >= 200 AND status_code < 300 THEN 1 ELSE 0 END",
    "client_errors": "CASE WHEN status_code >= 400 AND status_code < 500 THEN 1 ELSE 0 END",
    "server_errors": "CASE WHEN status_code >= 500 AND status_code < 600 THEN 1 ELSE 0 END",
    "unpriced": "CASE WHEN priced THEN 0 ELSE 1 END",
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "provider_cost_nanos": "provider_cost_nanos",
    "markup_nanos": "markup_nanos",
    "fixed_fee_nanos": "fixed_fee_nanos",
    "customer_cost_nanos": "customer_cost_nanos",
    "latency_ms_sum": "latency_ms",
    "cache_read_tokens": "cache_read_tokens",
    "cache_write_5m_tokens": "cache_write_5m_tokens",
    "cache_write_1h_tokens": "cache_write_1h_tokens",
    "reasoning_tokens": "reasoning_tokens",
    "request_units": "request_units",
    "input_cost_nanos": "input_cost_nanos",
    "cache_read_cost_nanos": "cache_read_cost_nanos",
    "cache_write_cost_nanos": "cache_write_cost_nanos",
    "output_cost_nanos": "output_cost_nanos",
    "reasoning_cost_nanos": "reasoning_cost_nanos",
    "request_cost_nanos": "request_cost_nanos",
    "cache_savings_nanos": "cache_savings_nanos",
}

UsageByGroup = dict[GroupKey, UsageMeasures]
# A result row's sums in UsageMeasures field order; CAST(SUM(...) AS BIGINT) gives ints.
_measures = itemgetter(*MEASURE_COLUMNS)


# (window index, +1 or -1): a window adds or subtracts the rows of a piece of time.
_Cover = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class _Interval:
    """A piece of one grain's time, aligned to that grain, and the windows covering it
    with their signs."""

    start: datetime
    end: datetime
    windows: _Cover


@dataclass(frozen=True, slots=True)
class _Slots:
    """The slot value of each window set (cover) in the CASE branches. `direct` when every
    branch is a CASE branch and every cover is one window: the slot is that window, and
    with `signed` a second CASE column gives each row's sign."""

    numbers: dict[_Cover, int]
    direct: bool = False
    signed: bool = False


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
    family = usage_family(scope, log_filter, dimensions)
    if log_filter.needs_raw_rows or family is None:
        # No rollup holds this question: thresholds on a request's own latency, cost or
        # tokens, or tags and end users with other dimensions (or several tags). Every
        # window is read from request_log (a threshold is priced as a raw scan).
        windows = [raw_slices(slices) for slices in windows]
    elif len(family.grains) < len(GRAIN_WIDTHS):
        windows = [family_slices(family, slices) for slices in windows]
    branches = _branches(windows)
    if not branches:
        return results
    slots = _slots(branches)
    params = Params(current_dialect())
    parts = [
        _branch_sql(branch, family, scope, log_filter, dimensions, slots, params)
        for branch in branches
    ]
    if has_tail(params.dialect):
        # The rows not folded yet, read in the same statement (one snapshot): each row is
        # in the rollups or in this tail, never both, never neither.
        parts += [
            _branch_sql(branch, family, scope, log_filter, dimensions, slots, params, tail=True)
            for branch in branches
            if branch.grain is not Grain.RAW
        ]
    inner = " UNION ALL ".join(parts)
    if len(params.values) > _MAX_PARAMETERS:
        raise BadInputError(
            "this question needs too many time buckets; use a coarser granularity or a "
            "shorter range"
        )
    groups = [f"d{i}" for i in range(len(dimensions))]
    # Rows are many when buckets x groups are (a month of hours split by endpoint): they
    # are read in slices, other requests running in between (resolvers.loop_turns).
    if all(branch.by_case for branch in branches):
        rows = await fetch_rows(_by_window_sql(inner, groups, slots), params, may_lag=True)
        async for some_rows in in_slices(rows):
            for row in some_rows:
                key: GroupKey = tuple(
                    normalize_group_value(d, row[f"d{i}"]) for i, d in enumerate(dimensions)
                )
                results[row["win"]][key] = UsageMeasures(*_measures(row))
    else:
        keys = ", ".join(["grain", "slot", *groups])
        sums = ", ".join(f"CAST(SUM({m}) AS BIGINT) AS {m}" for m in MEASURE_COLUMNS)
        sql = f"SELECT {keys}, {sums} FROM ({inner}) AS branches GROUP BY {keys}"
        async for some_rows in in_slices(await fetch_rows(sql, params, may_lag=True)):
            _add_by_slot(some_rows, branches, slots, dimensions, results)
    for result in results:
        # A group whose subtracted rows cancel its added ones had no requests in the window.
        for key in [k for k, m in result.items() if m.requests == 0]:
            del result[key]
    return results


def family_slices(family: RollupFamily, slices: Sequence[TimeSlice]) -> list[TimeSlice]:
    """The slices with those of a grain `family` does not keep (the attribution families,
    the full rollup and the key and member cubes keep fewer, models/rollup.py) read from the
    raw rows instead, with the same sign."""
    return [
        piece
        if piece.grain is Grain.RAW or piece.grain.value.lower() in family.grains
        else TimeSlice(Grain.RAW, piece.start, piece.end, piece.sign)
        for piece in slices
    ]


def raw_slices(slices: Sequence[TimeSlice]) -> list[TimeSlice]:
    """The same time as `slices` (signed or not) as RAW slices with sign +1: the pieces
    where the signs of the slices holding them sum to 1, adjacent pieces merged."""
    points = sorted({s.start for s in slices} | {s.end for s in slices})
    raw: list[TimeSlice] = []
    for low, high in pairwise(points):
        if sum(s.sign for s in slices if s.start <= low and high <= s.end) != 1:
            continue
        if raw and raw[-1].end == low:
            raw[-1] = TimeSlice(Grain.RAW, raw[-1].start, high)
        else:
            raw.append(TimeSlice(Grain.RAW, low, high))
    return raw


def _by_window_sql(inner: str, groups: list[str], slots: _Slots) -> str:
    """Sums per window and group, every branch being a CASE branch. With direct slots the
    slot is the window (and `sign` the row's sign); otherwise a VALUES list maps each slot
    to its windows and signs, so a row covered by several windows counts in each."""
    by_group = "".join(f", {g}" for g in groups)
    if slots.direct:
        weight = "sign * " if slots.signed else ""
        sums = ", ".join(f"CAST(SUM({weight}{m}) AS BIGINT) AS {m}" for m in MEASURE_COLUMNS)
        return (
            f"SELECT slot AS win{by_group}, {sums} FROM ({inner}) AS branches "
            f"GROUP BY slot{by_group}"
        )
    mapping = ", ".join(
        f"({number}, {window}, {sign})"
        for cover, number in slots.numbers.items()
        for window, sign in cover
    )
    sums = ", ".join(f"CAST(SUM(w.column3 * b.{m}) AS BIGINT) AS {m}" for m in MEASURE_COLUMNS)
    return (
        f"SELECT w.column2 AS win{''.join(f', b.{g} AS {g}' for g in groups)}, {sums} "
        f"FROM ({inner}) AS b JOIN (VALUES {mapping}) AS w ON w.column1 = b.slot "
        f"GROUP BY w.column2{''.join(', b.' + g for g in groups)}"
    )


def _add_by_slot(
    rows: Sequence[Mapping[str, Any]],
    branches: list[_Branch],
    slots: _Slots,
    dimensions: Sequence[UsageDimension],
    results: list[UsageByGroup],
) -> None:
    """Add rows keyed by (grain, slot) into the windows covering them (a slot is a window
    set, or a bucket start to look up in its branch)."""
    by_tag = {_TAGS[branch.grain]: branch for branch in branches}
    set_windows = {number: windows for windows, number in slots.numbers.items()}
    for row in rows:
        tag, slot = int(row["grain"]), int(row["slot"])
        covering = set_windows[slot] if tag == _MERGED else _interval_of(by_tag[tag], slot).windows
        key: GroupKey = tuple(
            normalize_group_value(d, row[f"d{i}"]) for i, d in enumerate(dimensions)
        )
        measures = UsageMeasures(*_measures(row))
        taken = False
        for window, sign in covering:
            current = results[window].get(key)
            if current is None:
                if sign > 0 and not taken:
                    # The first window adding the row takes its own object; others add it
                    # into their own.
                    results[window][key], taken = measures, True
                    continue
                current = results[window][key] = UsageMeasures()
            if sign > 0:
                current.add(measures)
            else:
                current.subtract(measures)


def usage_family(
    scope: Scope, log_filter: LogFilter, dimensions: Sequence[UsageDimension] = ()
) -> RollupFamily | None:
    """The smallest usage rollup family able to answer (every filtered or grouped column),
    or None when only the raw rows can.

    Tags and end users are answered by their team families (no member dimension,
    models/rollup.py): a question grouped by TAG (no tag filter), filtered to ONE tag (not
    grouped by TAG), or grouped or filtered by END_USER, when it touches no other dimension.
    Anything else with tags or end users reads raw rows: a Member's scope or a member filter
    or split (the families keep no member), and several tags (the tag family counts a
    request once per tag, so it cannot answer "any of two tags" without counting twice)."""
    columns = filtered_columns(scope, log_filter) | {d.column for d in dimensions}
    if "tag" in columns:
        grouped = UsageDimension.TAG in dimensions
        one_group = (
            log_filter.single_tag is not None if not grouped else not log_filter.filters_tags
        )
        if not one_group:
            return None
        return next((f for f in TAG_FAMILIES if columns <= set(f.dimensions)), None)
    if "end_user" in columns:
        return smallest_family((USAGE_BY_TEAM_END_USER,), columns)
    return smallest_family(USAGE_FAMILIES, columns) or USAGE_FULL


def _slots(branches: list[_Branch]) -> _Slots:
    """Slot values for the covers of the CASE branches' intervals."""
    covers = [
        interval.windows for branch in branches if branch.by_case for interval in branch.intervals
    ]
    if all(branch.by_case for branch in branches) and all(len(cover) == 1 for cover in covers):
        return _Slots(
            {cover: cover[0][0] for cover in covers},
            direct=True,
            signed=any(cover[0][1] < 0 for cover in covers),
        )
    numbers: dict[_Cover, int] = {}
    for cover in covers:
        numbers.setdefault(cover, len(numbers))
    return _Slots(numbers)


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
    (and signs) covering it; adjacent pieces covered alike are merged."""
    points = sorted({s.start for s, _ in slices} | {s.end for s, _ in slices})
    ordered = sorted(slices, key=lambda item: item[0].start)
    active: list[tuple[datetime, int, int]] = []
    next_slice = 0
    intervals: list[_Interval] = []
    for low, high in pairwise(points):
        while next_slice < len(ordered) and ordered[next_slice][0].start <= low:
            time_slice, window = ordered[next_slice]
            active.append((time_slice.end, window, time_slice.sign))
            next_slice += 1
        active = [item for item in active if item[0] > low]
        if not active:
            continue
        covering = tuple(sorted({(window, sign) for _, window, sign in active}))
        last = intervals[-1] if intervals else None
        if last is not None and last.end == low and last.windows == covering:
            intervals[-1] = _Interval(last.start, high, covering)
        else:
            intervals.append(_Interval(low, high, covering))
    return intervals


def _branch_sql(
    branch: _Branch,
    family: RollupFamily | None,
    scope: Scope,
    log_filter: LogFilter,
    dimensions: Sequence[UsageDimension],
    slots: _Slots,
    params: Params,
    *,
    tail: bool = False,
) -> str:
    """One branch's rows: the rollup rows (or raw rows) of the branch's intervals. With
    `tail`, a rollup branch's unfolded tail instead: the raw rows of the same intervals
    still pending (resolvers/fold_tail.py), slotted as the rollup rows they will become."""
    raw = branch.grain is Grain.RAW or tail
    time_column = "timestamp" if raw else "bucket_start"
    # Placeholders are numbered in text order, so SELECT parameters are added first.
    intervals = branch.intervals
    if branch.by_case:
        tag = _MERGED
        slot = _case(time_column, intervals, [slots.numbers[i.windows] for i in intervals], params)
    else:
        tag = _TAGS[branch.grain]
        bucket = (
            _bucket_start("timestamp", GRAIN_WIDTHS[branch.grain.value.lower()])
            if tail
            else time_column
        )
        slot = _epoch(bucket, params.dialect)
    columns = [f"{tag} AS grain", f"{slot} AS slot"]
    if slots.signed:
        sign = _case(time_column, intervals, [i.windows[0][1] for i in intervals], params)
        columns.append(f"{sign} AS sign")
    for i, dimension in enumerate(dimensions):
        columns.append(f"{dimension.raw_expression() if raw else dimension.column} AS d{i}")
    for column in MEASURE_COLUMNS:
        columns.append(f"{_RAW_MEASURES[column]} AS {column}" if raw else column)
    # The hull of the pieces bounds the index range scan on (organization, time).
    hull = TimeRange(branch.intervals[0].start, branch.intervals[-1].end)
    table = _table(branch, family, scope, dimensions, hull, params, tail=tail)
    if raw:
        conditions = scoped_conditions(
            scope, log_filter.with_range(hull), params, time_column="timestamp"
        )
    else:
        if log_filter.needs_raw_rows:
            raise RuntimeError("a rollup cannot answer a threshold filter; read raw slices")
        conditions = scoped_conditions(
            scope, log_filter, params, time_column=None, tag_rows=family in TAG_FAMILIES
        )
    step = None if raw else GRAIN_WIDTHS[branch.grain.value.lower()]
    conditions.append(
        in_time_ranges(time_column, [(i.start, i.end) for i in branch.intervals], params, step)
    )
    # No GROUP BY here: the outer one sums every branch's rows in a single aggregation
    # (summing per branch first, then again over NUMERIC partial sums, cost twice as much).
    return f"SELECT {', '.join(columns)} FROM {table} WHERE {' AND '.join(conditions)}"


def _table(
    branch: _Branch,
    family: RollupFamily | None,
    scope: Scope,
    dimensions: Sequence[UsageDimension],
    hull: TimeRange,
    params: Params,
    *,
    tail: bool,
) -> str:
    """The branch's FROM item: the family's table at the branch's grain, or raw rows
    (all of request_log, or the pending tail), one row per (request, tag) when grouped
    by TAG, as the tag rollup counts them."""
    if branch.grain is not Grain.RAW and not tail:
        assert family is not None  # every slice is RAW without a family
        return family.table(branch.grain.value.lower())
    source = pending_rows(scope, hull, params) if tail else "request_log"
    if UsageDimension.TAG in dimensions:
        return tag_rows_join(params.dialect, source=source)
    return source


def _bucket_start(column: str, width: timedelta) -> str:
    """PostgreSQL: the start of the UTC rollup bucket of `width` holding the instant."""
    return f"date_bin('{int(width.total_seconds())} seconds', {column}, TIMESTAMPTZ 'epoch')"


def _case(column: str, intervals: list[_Interval], values: list[int], params: Params) -> str:
    """values[i] for a row in intervals[i] (rows are already limited to their union)."""
    if len(intervals) == 1:
        return str(values[0])
    arms = [
        f"WHEN {column} < {params.add(interval.end)} THEN {value}"
        for interval, value in zip(intervals[:-1], values, strict=False)
    ]
    return f"CASE {' '.join(arms)} ELSE {values[-1]} END"


def _epoch(column: str, dialect: Dialect) -> str:
    """Unix seconds of a bucket start (SQLite keeps it as ISO text with an offset)."""
    if dialect is Dialect.SQLITE:
        return f"CAST(strftime('%s', {column}) AS INTEGER)"
    return f"CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"


def in_time_ranges(
    column: str,
    ranges: Sequence[tuple[datetime, datetime]],
    params: Params,
    step: timedelta | None = None,
) -> str:
    """SQL condition: `column` in the union of the sorted, disjoint [start, end) ranges.

    `step` is a rollup grain's width (the ranges are aligned to it): on PostgreSQL, several
    runs of a few rollup buckets each (a trend's edge hours) are read as a list of bucket
    starts, which an index-only scan probes directly (an OR of ranges becomes a bitmap scan
    of the table). Otherwise several ranges are preceded by their hull, which bounds the
    index range scan (an OR of ranges alone is applied as a filter to every row of the
    organization)."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in ranges:
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    if len(merged) > 1 and step is not None and params.dialect is Dialect.POSTGRES:
        starts = [
            start + step * index for start, end in merged for index in range((end - start) // step)
        ]
        if len(starts) <= _MAX_LISTED_BUCKETS:
            return f"{column} = ANY({params.add([to_utc(start) for start in starts])})"
    # Placeholders are numbered in text order: the hull's first.
    hull = (
        f"{column} >= {params.add(merged[0][0])} AND {column} < {params.add(merged[-1][1])} AND "
        if len(merged) > 1
        else ""
    )
    conditions = [
        f"({column} >= {params.add(start)} AND {column} < {params.add(end)})"
        for start, end in merged
    ]
    return f"({hull}({' OR '.join(conditions)}))"


def _interval_of(branch: _Branch, slot: int) -> _Interval:
    if branch.by_case:
        return branch.intervals[slot]
    instant = datetime.fromtimestamp(slot, UTC)
    return branch.intervals[bisect_right(branch.starts, instant) - 1]
