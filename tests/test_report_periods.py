"""Report periods: local days, ISO weeks and billing months, and when each report is due."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.report import ReportKind
from reports.periods import due_period, period_containing, previous_period, report_period
from reports.scheduler import scheduled_kinds
from settings import Settings, SettingsError

BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")


def _local(*args: int, tz: ZoneInfo = BERLIN) -> datetime:
    return datetime(*args, tzinfo=tz)


def test_a_daily_period_is_one_local_day_even_when_dst_shortens_it() -> None:
    period = report_period(ReportKind.DAILY, date(2024, 3, 31), BERLIN)

    assert period.start == _local(2024, 3, 31)
    assert period.end == _local(2024, 4, 1)
    assert period.duration == timedelta(hours=23)


def test_a_weekly_period_is_the_iso_week_monday_to_monday() -> None:
    for day in (date(2024, 5, 6), date(2024, 5, 9), date(2024, 5, 12)):
        period = report_period(ReportKind.WEEKLY, day, BERLIN)

        assert (period.start, period.end) == (_local(2024, 5, 6), _local(2024, 5, 13))


def test_a_monthly_period_is_the_billing_period() -> None:
    calendar = report_period(ReportKind.MONTHLY, date(2024, 2, 10), KOLKATA)
    anchored = report_period(ReportKind.MONTHLY, date(2024, 2, 10), KOLKATA, anchor_day=15)

    assert (calendar.start, calendar.end) == (
        _local(2024, 2, 1, tz=KOLKATA),
        _local(2024, 3, 1, tz=KOLKATA),
    )
    assert (anchored.start, anchored.end) == (
        _local(2024, 1, 15, tz=KOLKATA),
        _local(2024, 2, 15, tz=KOLKATA),
    )


def test_the_previous_period_ends_where_the_period_starts() -> None:
    for kind in ReportKind:
        period = report_period(kind, date(2024, 3, 1), BERLIN)

        assert previous_period(kind, period, BERLIN).end == period.start


def test_the_period_containing_an_instant_follows_the_local_calendar() -> None:
    # 23:30 UTC on 5 May is 01:30 on Monday 6 May in Berlin.
    instant = datetime.fromisoformat("2024-05-05T23:30:00+00:00")

    assert period_containing(ReportKind.DAILY, instant, BERLIN).start == _local(2024, 5, 6)
    assert period_containing(ReportKind.WEEKLY, instant, BERLIN).start == _local(2024, 5, 6)


def test_the_daily_report_of_yesterday_is_due_from_half_past_midnight_local() -> None:
    before = due_period(ReportKind.DAILY, _local(2024, 5, 8, 0, 29), BERLIN)
    after = due_period(ReportKind.DAILY, _local(2024, 5, 8, 0, 30), BERLIN)

    assert before.start == _local(2024, 5, 6)
    assert after.start == _local(2024, 5, 7)


def test_the_weekly_report_is_due_on_monday_at_half_past_midnight() -> None:
    sunday_night = due_period(ReportKind.WEEKLY, _local(2024, 5, 12, 23, 59), BERLIN)
    monday = due_period(ReportKind.WEEKLY, _local(2024, 5, 13, 0, 30), BERLIN)
    wednesday = due_period(ReportKind.WEEKLY, _local(2024, 5, 15, 12, 0), BERLIN)

    assert sunday_night.start == _local(2024, 4, 29)
    assert monday.start == wednesday.start == _local(2024, 5, 6)


def test_the_monthly_report_is_due_on_the_first_at_half_past_midnight() -> None:
    last_day = due_period(ReportKind.MONTHLY, _local(2024, 6, 30, 22, 0), BERLIN)
    first = due_period(ReportKind.MONTHLY, _local(2024, 7, 1, 0, 30), BERLIN)

    assert (last_day.start, last_day.end) == (_local(2024, 5, 1), _local(2024, 6, 1))
    assert (first.start, first.end) == (_local(2024, 6, 1), _local(2024, 7, 1))


def test_the_schedule_is_off_unless_configured() -> None:
    assert scheduled_kinds(Settings.from_env({})) == ()
    assert scheduled_kinds(Settings.from_env({"AIZE_REPORTS_SCHEDULE": "off"})) == ()
    assert scheduled_kinds(Settings.from_env({"AIZE_REPORTS_SCHEDULE": "on"})) == (
        ReportKind.DAILY,
        ReportKind.WEEKLY,
        ReportKind.MONTHLY,
    )
    assert scheduled_kinds(Settings.from_env({"AIZE_REPORTS_SCHEDULE": "monthly, weekly"})) == (
        ReportKind.WEEKLY,
        ReportKind.MONTHLY,
    )


def test_an_unknown_report_kind_in_the_schedule_is_a_clear_error() -> None:
    with pytest.raises(
        SettingsError, match="AIZE_REPORTS_SCHEDULE must be off, on, organizations, or a list"
    ):
        Settings.from_env({"AIZE_REPORTS_SCHEDULE": "hourly"})
