"""Report periods: the local day, ISO week and billing month a report covers, and which
period is due at a given instant.

A DAILY report covers one local calendar day, a WEEKLY report one ISO week (Monday 00:00 to
the next Monday 00:00), a MONTHLY report one billing period (the calendar month unless the
organization's billing anchor day is not the 1st, so budget and actual compare the same
days). All ranges are UTC instants of the organization's local calendar, DST included.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from models.report import ReportKind
from resolvers.periods import TimeRange, billing_period, local_day_start, require_aware

# A period's report is produced this long after the period ends (00:30 local), so late
# requests from the gateway's last minutes are in.
RUN_AFTER_PERIOD_END = timedelta(minutes=30)
_MICROSECOND = timedelta(microseconds=1)


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


def due_period(kind: ReportKind, now: datetime, tz: ZoneInfo, anchor_day: int = 1) -> TimeRange:
    """The most recent period of `kind` whose report is due at `now`: the one before the
    current period once RUN_AFTER_PERIOD_END has passed since it ended, else the one
    before that."""
    current = period_containing(kind, now, tz, anchor_day)
    last = previous_period(kind, current, tz, anchor_day)
    if require_aware(now, "now") >= current.start + RUN_AFTER_PERIOD_END:
        return last
    return previous_period(kind, last, tz, anchor_day)
