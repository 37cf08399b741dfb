"""Report periods: the local day, ISO week and billing month a report covers, and which
period is due at a given instant.

A DAILY report covers one local calendar day, a WEEKLY report one ISO week (Monday 00:00 to
the next Monday 00:00), a MONTHLY report one billing period (the calendar month unless the
organization's billing anchor day is not the 1st, so budget and actual compare the same
days). All ranges are UTC instants of the organization's local calendar, DST included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from models.report import ReportKind
from resolvers.periods import (
    TimeRange,
    billing_period,
    local_day_start,
    require_aware,
    resolve_wall_time,
)

# A period's report is produced this long after the period ends (00:30 local), so late
# requests from the gateway's last minutes are in.
RUN_AFTER_PERIOD_END = timedelta(minutes=30)
_MICROSECOND = timedelta(microseconds=1)
# How many periods back a schedule is looked at: the latest due one is at most two back.
_PERIODS_BACK = 3


@dataclass(frozen=True, slots=True)
class ReportTime:
    """When a period's report is due, on the organization's local clock: at `hour`:00 of
    the day the period ends (DAILY), of the `weekday` (1 = Monday) of the week after it
    (WEEKLY), or of the first `day_of_month` on or after the day it ends (MONTHLY); never
    before RUN_AFTER_PERIOD_END has passed since the end. The default is 00:30 right after
    the period, the server-wide schedule's time."""

    hour: int = 0
    weekday: int | None = None
    day_of_month: int | None = None


DEFAULT_REPORT_TIME = ReportTime()


def report_period(kind: ReportKind, day: date, tz: ZoneInfo, anchor_day: int = 1) -> TimeRange:
    """The period of `kind` containing the local calendar `day` in `tz` (UTC range)."""
    if kind is ReportKind.DAILY:
        return TimeRange(local_day_start(day, tz), local_day_start(day + timedelta(days=1), tz))
    if kind is ReportKind.WEEKLY:
        monday = day - timedelta(days=day.weekday())
        return TimeRange(
            local_day_start(monday, tz), local_day_start(monday + timedelta(days=7), tz)
        )
    return billing_period(local_day_start(day, tz), tz, anchor_day)


def period_containing(
    kind: ReportKind, instant: datetime, tz: ZoneInfo, anchor_day: int = 1
) -> TimeRange:
    """The period of `kind` containing the aware `instant`."""
    moment = require_aware(instant, "instant")
    period = report_period(kind, moment.astimezone(tz).date(), tz, anchor_day)
    # Near a fall-back midnight the local date can name the neighbouring period.
    if moment < period.start:
        return period_containing(kind, period.start - _MICROSECOND, tz, anchor_day)
    if moment >= period.end:
        return period_containing(kind, period.end, tz, anchor_day)
    return period


def previous_period(
    kind: ReportKind, period: TimeRange, tz: ZoneInfo, anchor_day: int = 1
) -> TimeRange:
    """The period of `kind` just before `period` (for "against the previous period")."""
    return period_containing(kind, period.start - _MICROSECOND, tz, anchor_day)


def due_at(kind: ReportKind, period: TimeRange, tz: ZoneInfo, at: ReportTime) -> datetime:
    """The UTC instant the report of `period` is due at `at` local time. A wall time that a
    spring-forward gap skips is the first instant after the gap; one that repeats on a
    fall-back night is its first occurrence."""
    end_day = period.end.astimezone(tz).date()
    day = end_day
    if kind is ReportKind.WEEKLY:
        day = end_day + timedelta(days=(at.weekday or 1) - 1)
    elif kind is ReportKind.MONTHLY and at.day_of_month is not None:
        while day.day != at.day_of_month:
            day += timedelta(days=1)
    scheduled = resolve_wall_time(datetime.combine(day, time(at.hour)), tz)[0]
    return max(scheduled, period.end + RUN_AFTER_PERIOD_END)


def due_period(
    kind: ReportKind,
    now: datetime,
    tz: ZoneInfo,
    anchor_day: int = 1,
    at: ReportTime = DEFAULT_REPORT_TIME,
) -> TimeRange:
    """The most recent period of `kind` whose report is due at `now` (see `ReportTime`)."""
    moment = require_aware(now, "now")
    period = previous_period(kind, period_containing(kind, moment, tz, anchor_day), tz, anchor_day)
    for _ in range(_PERIODS_BACK - 1):
        if due_at(kind, period, tz, at) <= moment:
            return period
        period = previous_period(kind, period, tz, anchor_day)
    return period
