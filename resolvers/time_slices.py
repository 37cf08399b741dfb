"""Local-calendar trend buckets and their decomposition onto UTC rollup grains.

Trend buckets (HOUR, DAY, WEEK, MONTH) follow the dashboard's local calendar in any
IANA zone. Rollup tables are keyed by UTC bucket start at DAY, HOUR and QUARTER
(15 minute) grains, so every local bucket (or range) is split into the fewest aligned
rollup slices plus RAW slices for sub-quarter edges. All returned instants are UTC.

A signed decomposition (`decompose(..., signed=True)`) may also subtract: a New York day
[05:00, 05:00) UTC is read as the UTC day, minus its first five hours, plus the next day's
first five, 11 rollup buckets instead of 24. Readers add slices of sign +1 and subtract
slices of sign -1; the sums stay exact because every grain holds the same requests.

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
from functools import lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

from resolvers.periods import TimeRange, require_aware, resolve_wall_time

__all__ = [
    "DEFAULT_GRAINS",
    "Grain",
    "Granularity",
    "TimeSlice",
    "bucket_end",
    "bucket_floor",
    "bucket_spans",
    "bucket_starts",
    "decompose",
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
    """A half-open UTC interval [start, end) to read from one grain, added (sign +1) or
    subtracted (sign -1, only in signed decompositions).

    For DAY/HOUR/QUARTER both ends are aligned to that grain, so the slice is a run of
    whole rollup buckets whose (UTC) bucket start lies in [start, end).
    """

    grain: Grain
    start: datetime
    end: datetime
    sign: int = 1

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
    return [
        start for start, _ in bucket_spans(time_range, granularity, tz, max_buckets=max_buckets)
    ]


def bucket_spans(
    time_range: TimeRange,
    granularity: Granularity,
    tz: ZoneInfo,
    *,
    max_buckets: int = 10_000,
) -> list[tuple[datetime, datetime]]:
    """`bucket_starts` with each bucket's end (the next one's start), from one pass over
    the local calendar."""
    # Refuse absurd requests before doing per-bucket zone arithmetic; the bound uses the
    # shortest nominal unit, so it is only approximate and checked with headroom.
    estimate = time_range.duration // _SHORTEST_NOMINAL[granularity] + 1
    if estimate > 2 * max_buckets + 10:
        raise _too_many_buckets(granularity, f"about {estimate}", max_buckets)
    boundaries = _boundaries(time_range.start, time_range.end, granularity, tz)
    first = bisect_right(boundaries, time_range.start) - 1
    stop = bisect_left(boundaries, time_range.end)
    if stop - first > max_buckets:
        raise _too_many_buckets(granularity, str(stop - first), max_buckets)
    # The boundaries reach past the range's end (by _WALL_MARGIN), so the last bucket's end
    # is among them.
    return list(pairwise(boundaries[first : stop + 1]))


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


def decompose(
    time_range: TimeRange, grains: Sequence[Grain] = DEFAULT_GRAINS, *, signed: bool = False
) -> list[TimeSlice]:
    """Split `time_range` into the fewest UTC slices, each read from one grain, in order.

    The slices cover [start, end) exactly without overlap: whole UTC days in the middle,
    whole UTC hours around them, whole quarters around those and RAW slices for the
    sub-quarter edges; adjacent pieces of one grain are merged into a single slice, so
    there are at most 7 slices. Grains missing from `grains` are never used (RAW is
    always available and need not be listed). All instants are UTC.

    With `signed`, the result may instead be the whole UTC days between the day boundaries
    nearest to each end, with the edges between those boundaries and the range's ends
    added (sign +1) or subtracted (sign -1), whichever reads fewer rollup buckets: at any
    instant the signs of the slices holding it sum to 1 inside the range and 0 outside.
    """
    start, end = time_range.start.astimezone(UTC), time_range.end.astimezone(UTC)
    return list(_decompose(start, end, frozenset(grains), signed))


# A trend asks for the same whole buckets request after request (only the range's ends move).
@lru_cache(maxsize=4096)
def _decompose(
    start: datetime, end: datetime, grains: frozenset[Grain], signed: bool
) -> tuple[TimeSlice, ...]:
    usable = sorted(
        (grain for grain in grains if grain is not Grain.RAW),
        key=lambda grain: _GRAIN_LENGTH[grain],
        reverse=True,
    )
    plain = _cover(start, end, usable)
    if not signed or not usable or usable[0] is not Grain.DAY:
        return tuple(plain)
    day, finer = _GRAIN_LENGTH[Grain.DAY], usable[1:]
    first, last = _nearest(start, day), _nearest(end, day)
    if last <= first:
        return tuple(plain)
    pieces = [
        *_signed_edge(start, first, finer),
        TimeSlice(Grain.DAY, first, last),
        *_signed_edge(last, end, finer),
    ]
    return tuple(pieces if _cost(pieces) < _cost(plain) else plain)


def _nearest(instant: datetime, length: timedelta) -> datetime:
    """The `length`-aligned instant nearest to `instant` (the earlier one on a tie)."""
    floor = _floor_to(instant, length)
    return floor if instant - floor <= length / 2 else floor + length


def _signed_edge(low: datetime, high: datetime, grains: Sequence[Grain]) -> list[TimeSlice]:
    """[low, high) with sign +1, or [high, low) with sign -1 when high is before low."""
    if low <= high:
        return _cover(low, high, grains)
    return [
        TimeSlice(piece.grain, piece.start, piece.end, -1) for piece in _cover(high, low, grains)
    ]


def _cost(slices: Iterable[TimeSlice]) -> int:
    """Rollup buckets read; a started RAW minute counts as one bucket (a busy tenant's
    minute holds more raw rows than a rollup bucket holds groups)."""
    total = 0
    for piece in slices:
        length = _GRAIN_LENGTH.get(piece.grain, timedelta(minutes=1))
        total += -(-piece.duration // length)
    return total
