"""The windows usage rules compare, and the integer comparisons they make.

- DAILY_SPEND: the organization's local calendar day (its timezone; DST days are 23 or 25
  hours long). During the first DAY_GRACE of a day the day before is checked too, so spend
  in its last minutes is not missed by a check that runs after midnight.
- UNUSUAL_ACTIVITY: the trailing window [now - window, now) against the same local time of
  week in each of the past HISTORY_WEEKS weeks; the baseline is their mean. Weeks that start
  before the subject (organization or key) existed are left out, so a new subject is not
  compared with weeks it had no chance to have traffic in.
- ERROR_RATE: the trailing window against the ERROR_BASELINE before it.

All comparisons are on integers (no floats): a factor or share in basis points.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from resolvers.periods import TimeRange, local_day_start, resolve_wall_time

HISTORY_WEEKS = 4
ERROR_BASELINE = timedelta(hours=24)
DAY_GRACE = timedelta(hours=1)
BPS = 10_000


def local_day(instant: datetime, tz: ZoneInfo) -> tuple[date, TimeRange]:
    """The local calendar date containing `instant` in `tz`, and its UTC range."""
    day = instant.astimezone(tz).date()
    return day, TimeRange(local_day_start(day, tz), local_day_start(day + timedelta(days=1), tz))


def days_to_check(
    now: datetime, tz: ZoneInfo, rule_created_at: datetime
) -> list[tuple[date, TimeRange]]:
    """Today (local), preceded by yesterday during today's first DAY_GRACE when the rule
    already existed before today began."""
    today = local_day(now, tz)
    days = [today]
    start = today[1].start
    if now - start < DAY_GRACE and rule_created_at < start:
        days.insert(0, local_day(start - timedelta(microseconds=1), tz))
    return days


def trailing_window(now: datetime, minutes: int) -> TimeRange:
    """[now - minutes, now), UTC."""
    return TimeRange(now - timedelta(minutes=minutes), now)


def same_time_past_weeks(
    window: TimeRange, tz: ZoneInfo, history_start: datetime, weeks: int = HISTORY_WEEKS
) -> list[TimeRange]:
    """`window` moved back 1..`weeks` weeks on the local clock (same weekday and time in `tz`,
    so a DST change in between does not shift it by an hour), same length; windows starting
    before `history_start` are left out. Most recent first."""
    wall = window.start.astimezone(tz).replace(tzinfo=None)
    found = []
    for week in range(1, weeks + 1):
        start = resolve_wall_time(wall - timedelta(weeks=week), tz)[0]
        if start >= history_start:
            found.append(TimeRange(start, start + window.duration))
    return found


def span_before(window: TimeRange, span: timedelta) -> TimeRange:
    """The `span` that ends where `window` starts."""
    return TimeRange(window.start - span, window.start)


def factor_reached(current: int, baseline_total: int, baseline_windows: int, bps: int) -> bool:
    """current >= (bps / 10000) x mean(baseline), the mean being baseline_total over
    baseline_windows windows; never for a current value of 0."""
    return current > 0 and current * baseline_windows * BPS >= bps * baseline_total


def share_reached(part: int, whole: int, bps: int) -> bool:
    """part / whole >= bps / 10000 (false for an empty whole)."""
    return whole > 0 and part * BPS >= bps * whole


def share_at_least_double(part: int, whole: int, base_part: int, base_whole: int) -> bool:
    """part / whole >= 2 x base_part / base_whole; an empty baseline counts as a share of 0."""
    if base_whole == 0:
        return True
    return part * base_whole >= 2 * base_part * whole
