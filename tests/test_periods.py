from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from resolvers.periods import (
    Period,
    TimeRange,
    billing_period,
    local_day_start,
    parse_timezone,
    previous_billing_period,
    resolve_range,
    resolve_wall_time,
)

BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")
SANTIAGO = ZoneInfo("America/Santiago")
HAVANA = ZoneInfo("America/Havana")
NEW_YORK = ZoneInfo("America/New_York")

NOW = datetime(2024, 3, 20, 10, 17, 42, 123456, tzinfo=UTC)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- TimeRange ---------------------------------------------------------------------------


def test_time_range_normalises_aware_datetimes_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    time_range = TimeRange(
        datetime(2024, 1, 1, 2, tzinfo=plus_two), datetime(2024, 1, 1, 5, tzinfo=plus_two)
    )
    assert time_range.start == utc(2024, 1, 1, 0)
    assert time_range.start.tzinfo is UTC
    assert time_range.end.tzinfo is UTC
    assert time_range == TimeRange(utc(2024, 1, 1, 0), utc(2024, 1, 1, 3))


def test_time_range_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="'start' must be timezone-aware"):
        TimeRange(datetime(2024, 1, 1), utc(2024, 1, 2))
    with pytest.raises(ValueError, match="'end' must be timezone-aware"):
        TimeRange(utc(2024, 1, 1), datetime(2024, 1, 2))


def test_time_range_rejects_empty_and_reversed_ranges() -> None:
    with pytest.raises(ValueError, match="must be before its end"):
        TimeRange(utc(2024, 1, 1), utc(2024, 1, 1))
    with pytest.raises(ValueError, match="must be before its end"):
        TimeRange(utc(2024, 1, 2), utc(2024, 1, 1))


def test_time_range_duration_is_exact_elapsed_time() -> None:
    assert TimeRange(utc(2024, 3, 30, 23), utc(2024, 3, 31, 22)).duration == timedelta(hours=23)


def test_time_range_previous_is_the_same_length_immediately_before() -> None:
    time_range = TimeRange(utc(2024, 3, 20, 10, 17, 42), utc(2024, 3, 20, 11, 17, 42))
    assert time_range.previous() == TimeRange(
        utc(2024, 3, 20, 9, 17, 42), utc(2024, 3, 20, 10, 17, 42)
    )


def test_time_range_contains_is_half_open() -> None:
    time_range = TimeRange(utc(2024, 1, 1), utc(2024, 1, 2))
    assert time_range.contains(utc(2024, 1, 1))
    assert time_range.contains(utc(2024, 1, 1, 23, 59, 59))
    assert not time_range.contains(utc(2024, 1, 2))


# --- wall-clock resolution ---------------------------------------------------------------


def test_resolve_wall_time_gives_both_instants_of_a_repeated_hour_earlier_first() -> None:
    assert resolve_wall_time(datetime(2024, 11, 3, 1, 30), NEW_YORK) == (
        utc(2024, 11, 3, 5, 30),
        utc(2024, 11, 3, 6, 30),
    )


def test_resolve_wall_time_maps_a_skipped_time_to_the_end_of_the_gap() -> None:
    assert resolve_wall_time(datetime(2024, 3, 10, 2, 30), NEW_YORK) == (utc(2024, 3, 10, 7),)


def test_local_day_start_is_first_instant_after_a_skipped_midnight() -> None:
    # Santiago springs forward from 00:00 -04 to 01:00 -03 on 2024-09-08.
    start = local_day_start(date(2024, 9, 8), SANTIAGO)
    assert start == utc(2024, 9, 8, 4)
    assert start.astimezone(SANTIAGO).replace(tzinfo=None) == datetime(2024, 9, 8, 1)


def test_local_day_start_is_the_first_of_a_repeated_midnight() -> None:
    # Havana falls back from 01:00 -04 to 00:00 -05 on 2024-11-03.
    assert local_day_start(date(2024, 11, 3), HAVANA) == utc(2024, 11, 3, 4)


# --- billing periods ---------------------------------------------------------------------


def test_billing_period_is_the_local_calendar_month_in_kolkata() -> None:
    assert billing_period(utc(2024, 2, 10, 12), KOLKATA) == TimeRange(
        utc(2024, 1, 31, 18, 30), utc(2024, 2, 29, 18, 30)
    )


def test_billing_period_follows_local_not_utc_month_boundaries() -> None:
    # 18:30 UTC on Jan 31 is already 00:00 on Feb 1 in Kolkata.
    assert billing_period(utc(2024, 1, 31, 18, 30), KOLKATA).start == utc(2024, 1, 31, 18, 30)
    assert billing_period(utc(2024, 1, 31, 18, 29, 59), KOLKATA) == TimeRange(
        utc(2023, 12, 31, 18, 30), utc(2024, 1, 31, 18, 30)
    )


def test_billing_period_spanning_a_dst_change_is_shorter_by_that_hour() -> None:
    march = billing_period(utc(2024, 3, 15), BERLIN)
    assert march == TimeRange(utc(2024, 2, 29, 23), utc(2024, 3, 31, 22))
    assert march.duration == timedelta(days=31) - timedelta(hours=1)


def test_billing_period_with_anchor_day_15_starts_on_the_15th() -> None:
    assert billing_period(utc(2024, 3, 20), BERLIN, anchor_day=15) == TimeRange(
        utc(2024, 3, 14, 23), utc(2024, 4, 14, 22)
    )


def test_billing_period_with_anchor_day_15_before_the_15th_is_the_previous_one() -> None:
    assert billing_period(utc(2024, 3, 10), BERLIN, anchor_day=15) == TimeRange(
        utc(2024, 2, 14, 23), utc(2024, 3, 14, 23)
    )


def test_billing_period_anchored_on_a_skipped_midnight_starts_after_the_gap() -> None:
    assert billing_period(utc(2024, 9, 20), SANTIAGO, anchor_day=8) == TimeRange(
        utc(2024, 9, 8, 4), utc(2024, 10, 8, 3)
    )


def test_billing_period_crosses_the_year_end() -> None:
    assert billing_period(utc(2024, 12, 31, 12), BERLIN) == TimeRange(
        utc(2024, 11, 30, 23), utc(2024, 12, 31, 23)
    )
    assert billing_period(utc(2024, 1, 5), BERLIN, anchor_day=10) == TimeRange(
        utc(2023, 12, 9, 23), utc(2024, 1, 9, 23)
    )


@pytest.mark.parametrize("anchor_day", [0, 32, -1])
def test_billing_period_rejects_anchor_days_outside_1_to_31(anchor_day: int) -> None:
    with pytest.raises(ValueError, match="anchor day must be between 1 and 31"):
        billing_period(NOW, BERLIN, anchor_day=anchor_day)


def test_billing_period_rejects_a_naive_instant() -> None:
    with pytest.raises(ValueError, match="'at' must be timezone-aware"):
        billing_period(datetime(2024, 3, 1), BERLIN)


def test_previous_billing_period_is_the_whole_previous_month() -> None:
    february = billing_period(utc(2024, 2, 10), KOLKATA)
    assert previous_billing_period(february, KOLKATA) == TimeRange(
        utc(2023, 12, 31, 18, 30), utc(2024, 1, 31, 18, 30)
    )


def test_previous_billing_period_crosses_the_year_and_keeps_the_anchor() -> None:
    period = billing_period(utc(2024, 1, 10), BERLIN, anchor_day=15)
    assert previous_billing_period(period, BERLIN, anchor_day=15) == TimeRange(
        utc(2023, 11, 14, 23), utc(2023, 12, 14, 23)
    )


# --- resolve_range -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "length"),
    [
        (Period.LAST_HOUR, timedelta(hours=1)),
        (Period.LAST_24_HOURS, timedelta(hours=24)),
        (Period.LAST_7_DAYS, timedelta(days=7)),
        (Period.LAST_30_DAYS, timedelta(days=30)),
    ],
)
def test_trailing_periods_are_exact_durations_back_from_now(
    period: Period, length: timedelta
) -> None:
    assert resolve_range(period, None, None, NOW, BERLIN) == TimeRange(NOW - length, NOW)


def test_trailing_periods_ignore_dst_because_they_are_exact_durations() -> None:
    now = utc(2024, 4, 1, 12)
    assert resolve_range(Period.LAST_7_DAYS, None, None, now, BERLIN).start == utc(2024, 3, 25, 12)


def test_current_billing_period_is_the_whole_period_even_past_now() -> None:
    assert resolve_range(Period.CURRENT_BILLING_PERIOD, None, None, NOW, BERLIN) == TimeRange(
        utc(2024, 2, 29, 23), utc(2024, 3, 31, 22)
    )


def test_current_billing_period_uses_the_anchor_day() -> None:
    resolved = resolve_range(Period.CURRENT_BILLING_PERIOD, None, None, NOW, BERLIN, anchor_day=15)
    assert resolved == TimeRange(utc(2024, 3, 14, 23), utc(2024, 4, 14, 22))


def test_custom_range_is_taken_as_given_in_utc() -> None:
    start = datetime(2024, 3, 1, tzinfo=KOLKATA)
    end = datetime(2024, 3, 2, tzinfo=KOLKATA)
    assert resolve_range(None, start, end, NOW, BERLIN) == TimeRange(
        utc(2024, 2, 29, 18, 30), utc(2024, 3, 1, 18, 30)
    )


def test_custom_range_end_defaults_to_now() -> None:
    assert resolve_range(None, utc(2024, 3, 1), None, NOW, BERLIN) == TimeRange(
        utc(2024, 3, 1), NOW
    )


def test_nothing_given_means_the_last_30_days() -> None:
    assert resolve_range(None, None, None, NOW, BERLIN) == TimeRange(NOW - timedelta(days=30), NOW)


def test_period_together_with_from_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"^give either period or from/to, not both$"):
        resolve_range(Period.LAST_HOUR, utc(2024, 3, 1), None, NOW, BERLIN)


def test_period_together_with_to_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"^give either period or from/to, not both$"):
        resolve_range(Period.LAST_HOUR, None, utc(2024, 3, 1), NOW, BERLIN)


def test_to_without_from_is_rejected() -> None:
    with pytest.raises(ValueError, match="'from' is required when 'to' is given"):
        resolve_range(None, None, utc(2024, 3, 1), NOW, BERLIN)


def test_from_not_before_to_is_rejected_naming_both_fields() -> None:
    message = r"'from' \(2024-03-02T00:00:00\+00:00\) must be before 'to' \(2024-03-01T00:00:00"
    with pytest.raises(ValueError, match=message):
        resolve_range(None, utc(2024, 3, 2), utc(2024, 3, 1), NOW, BERLIN)
    with pytest.raises(ValueError, match=r"'from' .* must be before 'to'"):
        resolve_range(None, utc(2024, 3, 1), utc(2024, 3, 1), NOW, BERLIN)


def test_from_in_the_future_without_to_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"'from' .* must be before 'to'"):
        resolve_range(None, NOW + timedelta(seconds=1), None, NOW, BERLIN)


def test_naive_from_is_rejected_by_name() -> None:
    with pytest.raises(ValueError, match="'from' must be timezone-aware"):
        resolve_range(None, datetime(2024, 3, 1), None, NOW, BERLIN)


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="'now' must be timezone-aware"):
        resolve_range(Period.LAST_HOUR, None, None, datetime(2024, 3, 1), BERLIN)


# --- parse_timezone ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["UTC", "Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu", "America/Argentina/Buenos_Aires"],
)
def test_parse_timezone_accepts_iana_names(name: str) -> None:
    assert parse_timezone(name) == ZoneInfo(name)


@pytest.mark.parametrize(
    "name",
    [
        "Mars/Olympus_Mons",
        "europe/berlin_",
        "",
        "../etc",
        "/etc/passwd",
        "America",
        "zone.tab",
        "localtime",
        "UTC\x00",
        "x" * 300,
    ],
)
def test_parse_timezone_rejects_unknown_and_malformed_names(name: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_timezone(name)
    assert str(raised.value) == f"unknown timezone '{name}'"
