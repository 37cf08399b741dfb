"""Named and custom reporting periods, resolved to exact UTC ranges.

Everything that leaves this module is timezone-aware and in UTC. Local calendar
arithmetic (midnights, month starts) happens on naive wall-clock values and is
converted with `resolve_wall_time`, which handles DST gaps and overlaps exactly.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "EARLIEST_INSTANT",
    "LATEST_INSTANT",
    "Period",
    "TimeRange",
    "anchored_date",
    "billing_period",
    "local_day_start",
    "parse_timezone",
    "previous_billing_period",
    "require_aware",
    "resolve_range",
    "resolve_wall_time",
]

_MICROSECOND = timedelta(microseconds=1)
# Custom from/to must lie in this window: wider than any stored data, and far enough from
# datetime's own limits (years 1 and 9999) that the previous period of a comparison, local
# time-zone offsets and bucket arithmetic stay representable.
EARLIEST_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(2200, 1, 1, tzinfo=UTC)

# Names a ZoneInfo lookup accepts on some hosts that are not IANA zones: their meaning
# depends on how the server is configured, so results would differ between machines.
_HOST_SPECIFIC_ZONE_NAMES = frozenset({"localtime", "posixrules"})


class Period(enum.Enum):
    """Named reporting periods a dashboard can ask for."""

    LAST_HOUR = "LAST_HOUR"
    LAST_24_HOURS = "LAST_24_HOURS"
    LAST_7_DAYS = "LAST_7_DAYS"
    LAST_30_DAYS = "LAST_30_DAYS"
    CURRENT_BILLING_PERIOD = "CURRENT_BILLING_PERIOD"
    # Everything stored up to now: [EARLIEST_INSTANT, now). Its whole UTC days are read
    # from the day rollups in one index range, so its cost does not grow with the
    # organization's age (only the day rows it has).
    LIFETIME = "LIFETIME"


_TRAILING_PERIODS: dict[Period, timedelta] = {
    Period.LAST_HOUR: timedelta(hours=1),
    Period.LAST_24_HOURS: timedelta(hours=24),
    Period.LAST_7_DAYS: timedelta(days=7),
    Period.LAST_30_DAYS: timedelta(days=30),
}


def require_aware(value: datetime, name: str) -> datetime:
    """Return `value` converted to UTC; raise ValueError naming `name` if it is naive."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"'{name}' must be timezone-aware (include a UTC offset)")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # Year 1 or 9999 with an offset that crosses datetime's limits.
        raise ValueError(f"'{name}' ({value.isoformat()}) is out of range") from None


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A half-open UTC interval [start, end).

    Aware datetimes in any zone are accepted and normalised to UTC, so equality and
    hashing compare instants. Raises ValueError if either end is naive or start >= end.
    """

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        start = require_aware(self.start, "start")
        end = require_aware(self.end, "end")
        if start >= end:
            raise ValueError(
                f"range start ({start.isoformat()}) must be before its end ({end.isoformat()})"
            )
        # Frozen dataclass: normalising in place needs object.__setattr__.
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @property
    def duration(self) -> timedelta:
        """Exact elapsed time end - start (not wall-clock time)."""
        return self.end - self.start

    def previous(self) -> TimeRange:
        """Return the range of the same exact duration ending where this one starts (UTC)."""
        return TimeRange(self.start - self.duration, self.start)

    def contains(self, instant: datetime) -> bool:
        """Whether the aware `instant` lies in [start, end)."""
        return self.start <= require_aware(instant, "instant") < self.end


def _local_wall(instant: datetime, tz: ZoneInfo) -> datetime:
    """Naive wall-clock reading of `instant` in `tz`."""
    return instant.astimezone(tz).replace(tzinfo=None)


def resolve_wall_time(wall: datetime, tz: ZoneInfo) -> tuple[datetime, ...]:
    """Return the UTC instants at which clocks in `tz` read the naive `wall` time.

    One instant normally; two (earlier first) when the wall time repeats on a fall-back
    transition; and when the wall time is skipped by a spring-forward gap, the single
    first instant after the gap (the transition itself), so "local midnight" on a day
    whose midnight does not exist is the first instant of that day. All results are UTC.
    """
    if wall.tzinfo is not None:
        raise ValueError("wall time must be naive (a local clock reading)")
    candidates = sorted({wall.replace(tzinfo=tz, fold=fold).astimezone(UTC) for fold in (0, 1)})
    existing = tuple(c for c in candidates if _local_wall(c, tz) == wall)
    if existing:
        return existing
    # In a gap the two folds map to instants on either side of the transition; search
    # between them for the first instant whose wall clock has reached `wall`.
    low, high = candidates[0], candidates[-1]
    while high - low > _MICROSECOND:
        middle = low + (high - low) // 2
        if _local_wall(middle, tz) >= wall:
            high = middle
        else:
            low = middle
    return (high,)


def local_day_start(day: date, tz: ZoneInfo) -> datetime:
    """Return the UTC instant at which the local calendar `day` begins in `tz`.

    That is local midnight; its first occurrence if midnight repeats, or the first
    instant that exists after midnight if a DST gap skips it.
    """
    return resolve_wall_time(datetime.combine(day, time()), tz)[0]


def _check_anchor_day(anchor_day: int) -> None:
    # 29-31 are allowed: in a shorter month the period starts on its last day instead.
    if not 1 <= anchor_day <= 31:
        raise ValueError(f"billing anchor day must be between 1 and 31, got {anchor_day}")


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def anchored_date(year: int, month: int, anchor_day: int) -> date:
    """The anchor day in that month, or the month's last day when it is shorter (anchor 31
    in April is April 30, anchor 29-31 in February is the 28th or 29th)."""
    following_year, following_month = _add_months(year, month, 1)
    last_day = (date(following_year, following_month, 1) - timedelta(days=1)).day
    return date(year, month, min(anchor_day, last_day))


def billing_period(
    at: datetime, tz: ZoneInfo, anchor_day: int = 1, *, months: int = 1, cycle_month: int = 0
) -> TimeRange:
    """Return the billing period containing the aware instant `at`, as a UTC TimeRange.

    Periods run from local midnight of `anchor_day` (the month's last day when it is
    shorter) in one month to local midnight of the same day `months` months later, in the
    organization's timezone `tz`; with the defaults that is the calendar month. For
    periods longer than a month, `cycle_month` (0-11) says which months they start in:
    those whose (year * 12 + month - 1) % months equals cycle_month % months. Raises
    ValueError for a naive `at`, an anchor_day outside 1..31 or months outside 1..12.
    """
    _check_anchor_day(anchor_day)
    if not 1 <= months <= 12:
        raise ValueError(f"a billing period is 1 to 12 months long, got {months}")
    at_utc = require_aware(at, "at")
    local = _local_wall(at_utc, tz)
    month_index = local.year * 12 + local.month - 1
    first_index = month_index - (month_index - cycle_month) % months

    def period_start(index: int) -> datetime:
        year, month = divmod(index, 12)
        return local_day_start(anchored_date(year, month + 1, anchor_day), tz)

    # The wall-clock guess can be one period off: before this month's anchor day, or when
    # a fall-back transition moves the clock back across the anchor midnight. The instants
    # decide.
    while at_utc < period_start(first_index):
        first_index -= months
    while at_utc >= period_start(first_index + months):
        first_index += months
    return TimeRange(period_start(first_index), period_start(first_index + months))


def previous_billing_period(period: TimeRange, tz: ZoneInfo, anchor_day: int = 1) -> TimeRange:
    """Return the whole billing period before the one starting at `period.start` (UTC).

    Meant for month-over-month comparison; `period` should come from `billing_period`
    with the same `tz` and `anchor_day`.
    """
    return billing_period(period.start - _MICROSECOND, tz, anchor_day)


def resolve_range(
    period: Period | None,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
    tz: ZoneInfo,
    anchor_day: int = 1,
    *,
    billing: Callable[[datetime], TimeRange] | None = None,
) -> TimeRange:
    """Turn a query's period or from/to arguments into a UTC TimeRange.

    - Trailing periods (LAST_HOUR, LAST_24_HOURS, LAST_7_DAYS, LAST_30_DAYS) are exact
      durations back from `now`: [now - d, now).
    - LIFETIME is everything before `now`: [EARLIEST_INSTANT, now).
    - CURRENT_BILLING_PERIOD is the WHOLE billing period containing `now` (see
      `billing_period`), so its end lies in the future; trends then show the full month
      with the days still to come zero-filled. Clip to `now` where "so far" is meant.
      `billing` (the organization's policy, `BillingPolicy.period`) decides it when
      given; otherwise the anchor-day period in `tz`.
    - Custom: `start` is required, `end` defaults to `now`.
    - Nothing given: LAST_30_DAYS.

    Raises ValueError when a period is combined with from/to, when only `to` is given,
    when a datetime is naive, when from >= to, or when from/to lies outside
    [EARLIEST_INSTANT, LATEST_INSTANT].
    """
    now_utc = require_aware(now, "now")
    if period is not None:
        if start is not None or end is not None:
            raise ValueError("give either period or from/to, not both")
        if period is Period.LIFETIME:
            return TimeRange(EARLIEST_INSTANT, now_utc)
        if period is Period.CURRENT_BILLING_PERIOD:
            if billing is not None:
                return billing(now_utc)
            return billing_period(now_utc, tz, anchor_day)
        return TimeRange(now_utc - _TRAILING_PERIODS[period], now_utc)
    if start is None:
        if end is not None:
            raise ValueError("'from' is required when 'to' is given")
        return TimeRange(now_utc - _TRAILING_PERIODS[Period.LAST_30_DAYS], now_utc)
    start_utc = _supported(require_aware(start, "from"), "from")
    end_utc = now_utc if end is None else _supported(require_aware(end, "to"), "to")
    if start_utc >= end_utc:
        raise ValueError(
            f"'from' ({start_utc.isoformat()}) must be before 'to' ({end_utc.isoformat()})"
        )
    return TimeRange(start_utc, end_utc)


def _supported(instant: datetime, name: str) -> datetime:
    if not EARLIEST_INSTANT <= instant <= LATEST_INSTANT:
        raise ValueError(
            f"'{name}' ({instant.isoformat()}) must lie between "
            f"{EARLIEST_INSTANT.isoformat()} and {LATEST_INSTANT.isoformat()}"
        )
    return instant


def parse_timezone(name: str) -> ZoneInfo:
    """Return the ZoneInfo for the IANA name `name`.

    Raises ValueError("unknown timezone '<name>'") for names that are not zones,
    malformed keys (e.g. '../etc'), directories and non-TZif files.
    """
    if name in _HOST_SPECIFIC_ZONE_NAMES:
        raise ValueError(f"unknown timezone '{name}'")
    try:
        return ZoneInfo(name)
    # ZoneInfoNotFoundError is a KeyError; bad keys and non-TZif files are ValueError;
    # directories and over-long names surface as OSError.
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ValueError(f"unknown timezone '{name}'") from error
