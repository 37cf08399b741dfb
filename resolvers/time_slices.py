"""Local-calendar trend buckets and their decomposition onto UTC rollup grains.

Trend buckets (HOUR, DAY, WEEK, MONTH) follow the dashboard's local calendar in any
IANA zone. Rollup tables are keyed by UTC bucket start at DAY, HOUR and QUARTER
(15 minute) grains, so every local bucket (or range) is split into the fewest aligned
rollup slices plus RAW slices for sub-quarter edges. All returned instants are UTC.

Bucket boundaries are the instants at which the local clock reads a whole unit
(hh:00 for HOUR, 00:00 for DAY, Monday 00:00 for WEEK, the 1st 00:00 for MONTH). When
a DST gap skips such a reading, the boundary is the first instant after the gap. When
a fall-back repeats it, HOUR gets a boundary at both occurrences (a 25-hour day has 25
HOUR buckets) while DAY, WEEK and MONTH use the first occurrence only.
"""

from __future__ import annotations

import enum
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from resolvers.periods import TimeRange, require_aware, resolve_wall_time

__all__ = [
    "DEFAULT_GRAINS",
    "Grain",
    "Granularity",
    "TimeSlice",
    "bucket_end",
    "bucket_floor",
    "bucket_starts",
    "decompose",
    "decompose_buckets",
    "slices_by_grain",
]


class Granularity(enum.Enum):
    """Trend bucket size in the viewer's local calendar; WEEK starts on Monday (ISO)."""

    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


class Grain(enum.Enum):
    """Where a slice of time is read from: a UTC-aligned rollup table or the raw rows."""

    DAY = "DAY"
    HOUR = "HOUR"
    QUARTER = "QUARTER"
    RAW = "RAW"


DEFAULT_GRAINS: tuple[Grain, ...] = (Grain.DAY, Grain.HOUR, Grain.QUARTER)

_GRAIN_LENGTH: dict[Grain, timedelta] = {
    Grain.DAY: timedelta(days=1),
    Grain.HOUR: timedelta(hours=1),
    Grain.QUARTER: timedelta(minutes=15),
}

# UTC rollup buckets are aligned to the Unix epoch (no leap seconds in datetime).
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Shortest nominal bucket per granularity, for a cheap upper bound on the bucket count
# before any zone arithmetic is done.
_SHORTEST_NOMINAL: dict[Granularity, timedelta] = {
    Granularity.HOUR: timedelta(hours=1),
    Granularity.DAY: timedelta(days=1),
    Granularity.WEEK: timedelta(days=7),
    Granularity.MONTH: timedelta(days=28),
}

# Wall-clock slack when enumerating boundaries around an instant: larger than any
# single UTC offset change (the biggest, Samoa skipping a whole day in 2011, is 24 h).
_WALL_MARGIN = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class TimeSlice:
    """A half-open UTC interval [start, end) to read from one grain.

    For DAY/HOUR/QUARTER both ends are aligned to that grain, so the slice is a run of
    whole rollup buckets whose (UTC) bucket start lies in [start, end).
    """

    grain: Grain
    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        """Exact elapsed time end - start."""
        return self.end - self.start


def _local_wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _truncate_wall(wall: datetime, granularity: Granularity) -> datetime:
    """Naive start of the wall-clock unit containing the naive `wall`."""
    if granularity is Granularity.HOUR:
        return wall.replace(minute=0, second=0, microsecond=0)
    midnight = wall.replace(hour=0, minute=0, second=0, microsecond=0)
    if granularity is Granularity.DAY:
        return midnight
    if granularity is Granularity.WEEK:
        return midnight - timedelta(days=midnight.weekday())
    return midnight.replace(day=1)


def _step_wall(wall: datetime, granularity: Granularity, steps: int) -> datetime:
    """Move a naive unit start by `steps` whole wall-clock units."""
    if granularity is Granularity.HOUR:
        return wall + timedelta(hours=steps)
    if granularity is Granularity.DAY:
        return wall + timedelta(days=steps)
    if granularity is Granularity.WEEK:
        return wall + timedelta(weeks=steps)
    index = wall.year * 12 + (wall.month - 1) + steps
    return wall.replace(year=index // 12, month=index % 12 + 1)


def _boundaries(
    low: datetime, high: datetime, granularity: Granularity, tz: ZoneInfo
) -> list[datetime]:
    """Sorted distinct UTC bucket boundaries from at or before `low` to after `high`.

    Generated from wall-clock unit starts so that gaps, overlaps and odd offsets are
    handled by `resolve_wall_time` rather than by UTC arithmetic.
    """
    try:
        wall = _step_wall(
            _truncate_wall(_local_wall(low, tz) - _WALL_MARGIN, granularity), granularity, -1
        )
        last = _step_wall(
            _truncate_wall(_local_wall(high, tz) + _WALL_MARGIN, granularity), granularity, 1
        )
        found: set[datetime] = set()
        while wall <= last:
            instants = resolve_wall_time(wall, tz)
            # Only hours are split by a repeated reading; a day starts at its first midnight.
            found.update(instants if granularity is Granularity.HOUR else instants[:1])
            wall = _step_wall(wall, granularity, 1)
    # Years 1 and 9999 leave no room for the margin; say so instead of a bare overflow.
    except (OverflowError, ValueError) as error:
        raise ValueError("time range is too close to the limits of the calendar") from error
    return sorted(found)


def bucket_floor(instant: datetime, granularity: Granularity, tz: ZoneInfo) -> datetime:
    """Return the UTC start of the local `granularity` bucket in `tz` containing `instant`.

    `instant` must be aware (any zone). The result is the latest bucket boundary at or
    before it, in UTC.
    """
    moment = require_aware(instant, "instant")
    boundaries = _boundaries(moment, moment, granularity, tz)
    return boundaries[bisect_right(boundaries, moment) - 1]


def bucket_end(start: datetime, granularity: Granularity, tz: ZoneInfo) -> datetime:
    """Return the UTC end (exclusive) of the local bucket that starts at `start`.

    Works for any aware instant: the result is the first bucket boundary after it,
    i.e. the end of the bucket containing it, in UTC.
    """
    moment = require_aware(start, "start")
    boundaries = _boundaries(moment, moment, granularity, tz)
    return boundaries[bisect_right(boundaries, moment)]


def _too_many_buckets(granularity: Granularity, count: str, max_buckets: int) -> ValueError:
    return ValueError(
        f"{granularity.name} granularity would produce {count} buckets for this range, "
        f"more than the maximum of {max_buckets}; use a coarser granularity or a shorter range"
    )


def bucket_starts(
    time_range: TimeRange,
    granularity: Granularity,
    tz: ZoneInfo,
    *,
    max_buckets: int = 10_000,
) -> list[datetime]:
    """Return the UTC starts of every local bucket in `tz` overlapping `time_range`, in order.

    The first is `bucket_floor(time_range.start)`; buckets are whole local calendar units,
    so the first and last may extend past the range (callers clip counted data to the
    range). Consecutive starts are contiguous: each bucket ends where the next starts.
    Raises ValueError naming the granularity and the count when more than `max_buckets`
    buckets would be produced.
    """
    # Refuse absurd requests before doing per-bucket zone arithmetic; the bound uses the
    # shortest nominal unit, so it is only approximate and checked with headroom.
    estimate = time_range.duration // _SHORTEST_NOMINAL[granularity] + 1
    if estimate > 2 * max_buckets + 10:
        raise _too_many_buckets(granularity, f"about {estimate}", max_buckets)
    boundaries = _boundaries(time_range.start, time_range.end, granularity, tz)
    first = bisect_right(boundaries, time_range.start) - 1
    stop = bisect_left(boundaries, time_range.end)
    starts = boundaries[first:stop]
    if len(starts) > max_buckets:
        raise _too_many_buckets(granularity, str(len(starts)), max_buckets)
    return starts


def _floor_to(instant: datetime, length: timedelta) -> datetime:
    return instant - (instant - _EPOCH) % length


def _ceil_to(instant: datetime, length: timedelta) -> datetime:
    remainder = (instant - _EPOCH) % length
    return instant if not remainder else instant + (length - remainder)


def _cover(start: datetime, end: datetime, grains: Sequence[Grain]) -> list[TimeSlice]:
    """Greedy cover of [start, end) with `grains` ordered coarsest first."""
    if start >= end:
        return []
    if not grains:
        return [TimeSlice(Grain.RAW, start, end)]
    grain, finer = grains[0], grains[1:]
    length = _GRAIN_LENGTH[grain]
    core_start, core_end = _ceil_to(start, length), _floor_to(end, length)
    if core_start >= core_end:
        return _cover(start, end, finer)
    # Grain lengths divide each other, so the edges left over are aligned to every finer
    # grain and each side yields at most one merged slice per finer grain.
    return [
        *_cover(start, core_start, finer),
        TimeSlice(grain, core_start, core_end),
        *_cover(core_end, end, finer),
    ]


def decompose(time_range: TimeRange, grains: Sequence[Grain] = DEFAULT_GRAINS) -> list[TimeSlice]:
    """Split `time_range` into the fewest UTC slices, each read from one grain, in order.

    The slices cover [start, end) exactly without overlap: whole UTC days in the middle,
    whole UTC hours around them, whole quarters around those and RAW slices for the
    sub-quarter edges; adjacent pieces of one grain are merged into a single slice, so
    there are at most 7 slices. Grains missing from `grains` are never used (RAW is
    always available and need not be listed). All instants are UTC.
    """
    usable = sorted(
        {grain for grain in grains if grain is not Grain.RAW},
        key=lambda grain: _GRAIN_LENGTH[grain],
        reverse=True,
    )
    return _cover(time_range.start, time_range.end, usable)


def decompose_buckets(
    time_range: TimeRange,
    bucket_starts: list[datetime],
    granularity: Granularity,
    tz: ZoneInfo,
    grains: Sequence[Grain] = DEFAULT_GRAINS,
) -> list[tuple[datetime, list[TimeSlice]]]:
    """Return, per local bucket start (UTC), the decomposition of bucket ∩ `time_range`.

    `bucket_starts` must be starts of `granularity` buckets in `tz` (as produced by
    `bucket_starts`); otherwise ValueError. Buckets that do not intersect the range get
    an empty list. Starts are returned in UTC in the order given.
    """
    if not bucket_starts:
        return []
    starts = [require_aware(start, "bucket start") for start in bucket_starts]
    boundaries = _boundaries(min(starts), max(starts), granularity, tz)
    result: list[tuple[datetime, list[TimeSlice]]] = []
    for start in starts:
        index = bisect_left(boundaries, start)
        if index == len(boundaries) or boundaries[index] != start:
            raise ValueError(
                f"{start.isoformat()} is not the start of a {granularity.name} bucket in {tz}"
            )
        low = max(start, time_range.start)
        high = min(boundaries[index + 1], time_range.end)
        slices = decompose(TimeRange(low, high), grains) if low < high else []
        result.append((start, slices))
    return result


def slices_by_grain(slices: Iterable[TimeSlice]) -> dict[Grain, list[TimeSlice]]:
    """Group slices by grain, keeping their order; every Grain is a key (maybe empty)."""
    grouped: dict[Grain, list[TimeSlice]] = {grain: [] for grain in Grain}
    for time_slice in slices:
        grouped[time_slice.grain].append(time_slice)
    return grouped
