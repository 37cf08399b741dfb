"""Comparisons of a window's usage with earlier windows: the previous period of the same
length, the same window one week earlier and one calendar month earlier.

The window is the filter's range clipped at `now`, so CURRENT_BILLING_PERIOD compares the
period so far (month to date) rather than including days still to come. All four windows
are read in one SQL statement.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from resolvers.periods import TimeRange, resolve_wall_time
from resolvers.rollup_reader import read_usage
from resolvers.scope import LogFilter, Scope
from resolvers.time_slices import decompose
from resolvers.usage_measures import UsageMeasures, growth_percent

ONE_WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class PeriodComparison:
    """This window's totals against an earlier window's (UTC ranges, exact sums)."""

    current_range: TimeRange
    previous_range: TimeRange
    current: UsageMeasures
    previous: UsageMeasures

    def requests_growth_percent(self) -> Decimal | None:
        return growth_percent(self.current.requests, self.previous.requests)

    def tokens_growth_percent(self) -> Decimal | None:
        return growth_percent(self.current.total_tokens, self.previous.total_tokens)

    def customer_cost_growth_percent(self) -> Decimal | None:
        return growth_percent(self.current.customer_cost_nanos, self.previous.customer_cost_nanos)


@dataclass(frozen=True, slots=True)
class UsageComparison:
    previous_period: PeriodComparison
    week_over_week: PeriodComparison
    month_over_month: PeriodComparison


def comparison_window(time_range: TimeRange, now: datetime) -> TimeRange:
    """The filter's range clipped at `now` (unchanged when it lies wholly before or after)."""
    if time_range.start < now < time_range.end:
        return TimeRange(time_range.start, now)
    return time_range


def week_earlier(window: TimeRange) -> TimeRange:
    """The window moved back exactly 7 x 24 hours (elapsed time: across a DST change the
    local clock readings differ by the change)."""
    return TimeRange(window.start - ONE_WEEK, window.end - ONE_WEEK)


def month_earlier(window: TimeRange, tz: ZoneInfo) -> TimeRange:
    """The window one calendar month earlier on the local calendar of `tz`.

    Each end keeps its local clock reading and moves to the same day of the previous month,
    clamped to that month's last day (31 March -> 29 February). When clamping would leave
    no time between the ends (a window inside the last days of a month), the earlier
    window is the one of equal length ending at the moved end.
    """
    start, end = _month_back(window.start, tz), _month_back(window.end, tz)
    if start >= end:
        return TimeRange(end - window.duration, end)
    return TimeRange(start, end)


def _month_back(instant: datetime, tz: ZoneInfo) -> datetime:
    wall = instant.astimezone(tz).replace(tzinfo=None)
    year, month = (wall.year, wall.month - 1) if wall.month > 1 else (wall.year - 1, 12)
    day = min(wall.day, calendar.monthrange(year, month)[1])
    return resolve_wall_time(wall.replace(year=year, month=month, day=day), tz)[0]


async def usage_comparison(scope: Scope, log_filter: LogFilter, now: datetime) -> UsageComparison:
    """Totals for the window (see module doc) and its three earlier windows."""
    window = comparison_window(log_filter.time_range, now)
    earlier = (window.previous(), week_earlier(window), month_earlier(window, log_filter.timezone))
    ranges = (window, *earlier)
    results = await read_usage(scope, log_filter, [decompose(r, signed=True) for r in ranges])
    current, *previous = (r.get((), UsageMeasures()) for r in results)
    comparisons = [
        PeriodComparison(window, earlier_range, current, totals)
        for earlier_range, totals in zip(earlier, previous, strict=True)
    ]
    return UsageComparison(*comparisons)
