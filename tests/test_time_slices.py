from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers.periods import TimeRange, local_day_start
from resolvers.time_slices import (
    Grain,
    Granularity,
    TimeSlice,
    bucket_end,
    bucket_floor,
    bucket_spans,
    bucket_starts,
    decompose,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
KATHMANDU = ZoneInfo("Asia/Kathmandu")
SANTIAGO = ZoneInfo("America/Santiago")
HAVANA = ZoneInfo("America/Havana")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
APIA = ZoneInfo("Pacific/Apia")

TRICKY_ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Chatham",
    "UTC",
]

HOUR = timedelta(hours=1)
GRAIN_LENGTH = {
    Grain.DAY: timedelta(days=1),
    Grain.HOUR: timedelta(hours=1),
    Grain.QUARTER: timedelta(minutes=15),
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def local_day(day: date, tz: ZoneInfo) -> TimeRange:
    return TimeRange(local_day_start(day, tz), local_day_start(day + timedelta(days=1), tz))


def wall(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def lengths(starts: list[datetime], granularity: Granularity, tz: ZoneInfo) -> list[timedelta]:
    ends = [*starts[1:], bucket_end(starts[-1], granularity, tz)]
    return [end - start for start, end in zip(starts, ends, strict=True)]


def is_aligned(instant: datetime, grain: Grain) -> bool:
    return (instant - EPOCH) % GRAIN_LENGTH[grain] == timedelta(0)


# --- DST days ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "start", "end"),
    [
        ("Europe/Berlin", date(2024, 3, 31), utc(2024, 3, 30, 23), utc(2024, 3, 31, 22)),
        ("America/New_York", date(2024, 3, 10), utc(2024, 3, 10, 5), utc(2024, 3, 11, 4)),
    ],
)
def test_spring_forward_day_is_23_hours_with_23_hour_buckets(
    zone: str, day: date, start: datetime, end: datetime
) -> None:
    tz = ZoneInfo(zone)
    noon = datetime.combine(day, datetime.min.time()).replace(hour=12, tzinfo=tz)
    assert bucket_floor(noon, Granularity.DAY, tz) == start
    assert bucket_end(start, Granularity.DAY, tz) == end
    hours = bucket_starts(TimeRange(start, end), Granularity.HOUR, tz)
    assert len(hours) == 23
    assert hours == [start + HOUR * n for n in range(23)]
    assert [wall(h, tz).hour for h in hours] == [0, 1, *range(3, 24)]


@pytest.mark.parametrize(
    ("zone", "day", "start", "end"),
    [
        ("Europe/Berlin", date(2024, 10, 27), utc(2024, 10, 26, 22), utc(2024, 10, 27, 23)),
        ("America/New_York", date(2024, 11, 3), utc(2024, 11, 3, 4), utc(2024, 11, 4, 5)),
    ],
)
def test_fall_back_day_is_25_hours_with_25_hour_buckets(
    zone: str, day: date, start: datetime, end: datetime
) -> None:
    tz = ZoneInfo(zone)
    noon = datetime.combine(day, datetime.min.time()).replace(hour=12, tzinfo=tz)
    assert bucket_floor(noon, Granularity.DAY, tz) == start
    assert bucket_end(start, Granularity.DAY, tz) == end
    hours = bucket_starts(TimeRange(start, end), Granularity.HOUR, tz)
    assert len(hours) == 25
    assert hours == [start + HOUR * n for n in range(25)]


def test_repeated_local_hour_gives_two_hour_buckets() -> None:
    first_one_am = utc(2024, 11, 3, 5)  # 01:00 EDT
    second_one_am = utc(2024, 11, 3, 6)  # 01:00 EST
    assert bucket_floor(utc(2024, 11, 3, 5, 59, 59), Granularity.HOUR, NEW_YORK) == first_one_am
    assert bucket_floor(utc(2024, 11, 3, 6, 0, 1), Granularity.HOUR, NEW_YORK) == second_one_am
    assert bucket_end(first_one_am, Granularity.HOUR, NEW_YORK) == second_one_am
    assert wall(first_one_am, NEW_YORK) == wall(second_one_am, NEW_YORK) == datetime(2024, 11, 3, 1)


def test_missing_local_hour_gives_no_bucket() -> None:
    # 02:00-03:00 does not exist in New York on 2024-03-10: 01:00 EST is followed by 03:00 EDT.
    assert bucket_end(utc(2024, 3, 10, 6), Granularity.HOUR, NEW_YORK) == utc(2024, 3, 10, 7)
    assert wall(utc(2024, 3, 10, 7), NEW_YORK) == datetime(2024, 3, 10, 3)


# --- odd offsets -------------------------------------------------------------------------


def test_kolkata_day_buckets_start_at_1830_utc_of_the_previous_day() -> None:
    time_range = TimeRange(utc(2024, 1, 15, 6), utc(2024, 1, 17, 6))
    assert bucket_starts(time_range, Granularity.DAY, KOLKATA) == [
        utc(2024, 1, 14, 18, 30),
        utc(2024, 1, 15, 18, 30),
        utc(2024, 1, 16, 18, 30),
    ]


def test_kolkata_hour_buckets_start_at_half_past_utc() -> None:
    time_range = TimeRange(utc(2024, 1, 15, 6), utc(2024, 1, 15, 9))
    assert bucket_starts(time_range, Granularity.HOUR, KOLKATA) == [
        utc(2024, 1, 15, 5, 30),
        utc(2024, 1, 15, 6, 30),
        utc(2024, 1, 15, 7, 30),
        utc(2024, 1, 15, 8, 30),
    ]


def test_kathmandu_day_buckets_start_at_1815_utc_of_the_previous_day() -> None:
    assert bucket_floor(utc(2024, 1, 15, 12), Granularity.DAY, KATHMANDU) == utc(
        2024, 1, 14, 18, 15
    )
    assert bucket_end(utc(2024, 1, 14, 18, 15), Granularity.DAY, KATHMANDU) == utc(
        2024, 1, 15, 18, 15
    )


def test_kathmandu_hour_buckets_start_at_quarter_past_utc() -> None:
    assert bucket_floor(utc(2024, 1, 15, 12, 10), Granularity.HOUR, KATHMANDU) == utc(
        2024, 1, 15, 11, 15
    )


# --- skipped and repeated midnights, half-hour DST, skipped days -------------------------


def test_santiago_day_whose_midnight_is_skipped_starts_at_local_one_am() -> None:
    # 2024-09-08 00:00 -04 jumps to 01:00 -03, so the day starts at 04:00 UTC.
    day_start = utc(2024, 9, 8, 4)
    assert bucket_floor(utc(2024, 9, 8, 12), Granularity.DAY, SANTIAGO) == day_start
    assert wall(day_start, SANTIAGO) == datetime(2024, 9, 8, 1)
    assert bucket_end(day_start, Granularity.DAY, SANTIAGO) == utc(2024, 9, 9, 3)
    days = bucket_starts(
        TimeRange(utc(2024, 9, 7, 12), utc(2024, 9, 9, 12)), Granularity.DAY, SANTIAGO
    )
    assert days == [utc(2024, 9, 7, 4), day_start, utc(2024, 9, 9, 3)]
    assert lengths(days, Granularity.DAY, SANTIAGO) == [HOUR * 24, HOUR * 23, HOUR * 24]


def test_santiago_hour_buckets_on_the_skipped_midnight_day() -> None:
    hours = bucket_starts(local_day(date(2024, 9, 8), SANTIAGO), Granularity.HOUR, SANTIAGO)
    assert len(hours) == 23
    assert [wall(h, SANTIAGO).hour for h in hours] == list(range(1, 24))


def test_havana_day_with_a_repeated_midnight_starts_at_the_first_midnight() -> None:
    # 2024-11-03 01:00 -04 falls back to 00:00 -05: local midnight happens twice.
    day_start = utc(2024, 11, 3, 4)
    assert bucket_floor(utc(2024, 11, 3, 5, 30), Granularity.DAY, HAVANA) == day_start
    assert bucket_end(day_start, Granularity.DAY, HAVANA) == utc(2024, 11, 4, 5)
    assert bucket_end(utc(2024, 11, 2, 4), Granularity.DAY, HAVANA) == day_start
    hours = bucket_starts(local_day(date(2024, 11, 3), HAVANA), Granularity.HOUR, HAVANA)
    assert len(hours) == 25
    assert [wall(h, HAVANA).hour for h in hours[:3]] == [0, 0, 1]


def test_havana_day_whose_midnight_is_skipped() -> None:
    # 2024-03-10 00:00 -05 jumps to 01:00 -04.
    assert local_day(date(2024, 3, 10), HAVANA) == TimeRange(
        utc(2024, 3, 10, 5), utc(2024, 3, 11, 4)
    )
    assert bucket_floor(utc(2024, 3, 10, 5), Granularity.DAY, HAVANA) == utc(2024, 3, 10, 5)
    assert bucket_floor(utc(2024, 3, 10, 4, 59, 59), Granularity.DAY, HAVANA) == utc(2024, 3, 9, 5)


def test_lord_howe_spring_forward_half_hour_makes_a_30_minute_hour_bucket() -> None:
    # 2024-10-06 02:00 +10:30 jumps to 02:30 +11: the 02 hour is half an hour long.
    day = local_day(date(2024, 10, 6), LORD_HOWE)
    assert day == TimeRange(utc(2024, 10, 5, 13, 30), utc(2024, 10, 6, 13))
    hours = bucket_starts(day, Granularity.HOUR, LORD_HOWE)
    assert len(hours) == 24
    assert hours[:4] == [
        utc(2024, 10, 5, 13, 30),
        utc(2024, 10, 5, 14, 30),
        utc(2024, 10, 5, 15, 30),
        utc(2024, 10, 5, 16),
    ]
    assert wall(hours[2], LORD_HOWE) == datetime(2024, 10, 6, 2, 30)


def test_lord_howe_fall_back_half_hour_makes_a_90_minute_hour_bucket() -> None:
    # 2024-04-07 02:00 +11 falls back to 01:30 +10:30: 01:30-02:00 repeats inside hour 01.
    day = local_day(date(2024, 4, 7), LORD_HOWE)
    assert day.duration == timedelta(hours=24, minutes=30)
    hours = bucket_starts(day, Granularity.HOUR, LORD_HOWE)
    assert len(hours) == 24
    assert hours[1:3] == [utc(2024, 4, 6, 14), utc(2024, 4, 6, 15, 30)]


def test_a_skipped_calendar_day_has_no_day_bucket() -> None:
    # Samoa skipped 2011-12-30 entirely, moving from -10 to +14.
    days = bucket_starts(
        TimeRange(utc(2011, 12, 29, 12), utc(2011, 12, 31, 12)), Granularity.DAY, APIA
    )
    assert [wall(d, APIA).date() for d in days] == [
        date(2011, 12, 29),
        date(2011, 12, 31),
        date(2012, 1, 1),
    ]
    assert lengths(days, Granularity.DAY, APIA)[0] == timedelta(hours=24)


# --- weeks and months --------------------------------------------------------------------


def test_week_buckets_start_on_local_monday() -> None:
    # Sunday 2024-03-17 22:00 EDT is already Monday in UTC.
    sunday_evening = utc(2024, 3, 18, 2)
    assert bucket_floor(sunday_evening, Granularity.WEEK, NEW_YORK) == utc(2024, 3, 11, 4)
    assert bucket_floor(utc(2024, 3, 18, 4), Granularity.WEEK, NEW_YORK) == utc(2024, 3, 18, 4)
    assert bucket_floor(utc(2024, 1, 17), Granularity.WEEK, KOLKATA) == utc(2024, 1, 14, 18, 30)


def test_week_containing_spring_forward_is_167_hours() -> None:
    week_start = bucket_floor(utc(2024, 3, 31, 12), Granularity.WEEK, BERLIN)
    assert week_start == utc(2024, 3, 24, 23)
    assert wall(week_start, BERLIN).weekday() == 0
    assert bucket_end(week_start, Granularity.WEEK, BERLIN) - week_start == HOUR * 167


def test_month_buckets_across_dst_changes() -> None:
    time_range = TimeRange(utc(2024, 2, 15), utc(2024, 5, 15))
    months = bucket_starts(time_range, Granularity.MONTH, BERLIN)
    assert months == [
        utc(2024, 1, 31, 23),
        utc(2024, 2, 29, 23),
        utc(2024, 3, 31, 22),
        utc(2024, 4, 30, 22),
    ]
    assert lengths(months, Granularity.MONTH, BERLIN)[1] == timedelta(days=31) - HOUR


def test_month_bucket_end_across_the_year() -> None:
    assert bucket_end(utc(2024, 11, 30, 23), Granularity.MONTH, BERLIN) == utc(2024, 12, 31, 23)


# --- bucket_starts over ranges -----------------------------------------------------------


def test_30_day_range_at_local_midnights_gives_30_day_buckets() -> None:
    start = local_day_start(date(2024, 3, 15), BERLIN)
    end = local_day_start(date(2024, 4, 14), BERLIN)
    days = bucket_starts(TimeRange(start, end), Granularity.DAY, BERLIN)
    assert len(days) == 30
    assert days[0] == start
    assert bucket_end(days[-1], Granularity.DAY, BERLIN) == end


def test_trailing_30_day_range_gives_31_day_buckets_covering_it() -> None:
    now = utc(2024, 4, 10, 10, 17, 42)
    time_range = TimeRange(now - timedelta(days=30), now)
    days = bucket_starts(time_range, Granularity.DAY, BERLIN)
    assert len(days) == 31
    assert days[0] == utc(2024, 3, 10, 23)
    assert days[0] <= time_range.start
    assert bucket_end(days[-1], Granularity.DAY, BERLIN) >= time_range.end
    assert days == sorted(set(days))


def test_range_ending_on_a_bucket_start_does_not_include_that_bucket() -> None:
    time_range = TimeRange(utc(2024, 1, 1), utc(2024, 1, 1, 2))
    assert bucket_starts(time_range, Granularity.HOUR, ZoneInfo("UTC")) == [
        utc(2024, 1, 1, 0),
        utc(2024, 1, 1, 1),
    ]


def test_too_many_buckets_is_rejected_with_granularity_and_count() -> None:
    time_range = TimeRange(utc(2024, 1, 1), utc(2024, 1, 3))
    with pytest.raises(ValueError, match="HOUR granularity would produce 48 buckets"):
        bucket_starts(time_range, Granularity.HOUR, ZoneInfo("UTC"), max_buckets=47)
    assert len(bucket_starts(time_range, Granularity.HOUR, ZoneInfo("UTC"), max_buckets=48)) == 48


def test_huge_ranges_are_rejected_before_computing_buckets() -> None:
    time_range = TimeRange(utc(1900, 1, 1), utc(2100, 1, 1))
    with pytest.raises(ValueError, match=r"HOUR granularity would produce about \d+ buckets"):
        bucket_starts(time_range, Granularity.HOUR, BERLIN)


# --- decompose ---------------------------------------------------------------------------


def test_decompose_uses_days_in_the_middle_then_hours_quarters_and_raw_edges() -> None:
    time_range = TimeRange(utc(2024, 1, 1, 0, 7, 13), utc(2024, 1, 31, 5, 52, 1))
    assert decompose(time_range) == [
        TimeSlice(Grain.RAW, utc(2024, 1, 1, 0, 7, 13), utc(2024, 1, 1, 0, 15)),
        TimeSlice(Grain.QUARTER, utc(2024, 1, 1, 0, 15), utc(2024, 1, 1, 1)),
        TimeSlice(Grain.HOUR, utc(2024, 1, 1, 1), utc(2024, 1, 2)),
        TimeSlice(Grain.DAY, utc(2024, 1, 2), utc(2024, 1, 31)),
        TimeSlice(Grain.HOUR, utc(2024, 1, 31), utc(2024, 1, 31, 5)),
        TimeSlice(Grain.QUARTER, utc(2024, 1, 31, 5), utc(2024, 1, 31, 5, 45)),
        TimeSlice(Grain.RAW, utc(2024, 1, 31, 5, 45), utc(2024, 1, 31, 5, 52, 1)),
    ]


def test_decompose_of_whole_utc_days_is_one_day_slice() -> None:
    time_range = TimeRange(utc(2024, 1, 1), utc(2024, 2, 1))
    assert decompose(time_range) == [TimeSlice(Grain.DAY, utc(2024, 1, 1), utc(2024, 2, 1))]


def test_decompose_of_a_kolkata_day_uses_quarters_and_hours() -> None:
    time_range = TimeRange(utc(2024, 1, 14, 18, 30), utc(2024, 1, 15, 18, 30))
    assert decompose(time_range) == [
        TimeSlice(Grain.QUARTER, utc(2024, 1, 14, 18, 30), utc(2024, 1, 14, 19)),
        TimeSlice(Grain.HOUR, utc(2024, 1, 14, 19), utc(2024, 1, 15, 18)),
        TimeSlice(Grain.QUARTER, utc(2024, 1, 15, 18), utc(2024, 1, 15, 18, 30)),
    ]


def test_decompose_of_a_sub_quarter_range_is_one_raw_slice() -> None:
    time_range = TimeRange(utc(2024, 1, 1, 0, 1), utc(2024, 1, 1, 0, 14))
    assert decompose(time_range) == [TimeSlice(Grain.RAW, time_range.start, time_range.end)]


def test_decompose_without_day_grain_merges_whole_hours() -> None:
    time_range = TimeRange(utc(2024, 1, 1, 0, 30), utc(2024, 1, 3, 0, 30))
    assert decompose(time_range, (Grain.HOUR, Grain.QUARTER)) == [
        TimeSlice(Grain.QUARTER, utc(2024, 1, 1, 0, 30), utc(2024, 1, 1, 1)),
        TimeSlice(Grain.HOUR, utc(2024, 1, 1, 1), utc(2024, 1, 3)),
        TimeSlice(Grain.QUARTER, utc(2024, 1, 3), utc(2024, 1, 3, 0, 30)),
    ]


def test_decompose_with_no_grains_reads_everything_raw() -> None:
    time_range = TimeRange(utc(2024, 1, 1), utc(2024, 1, 3))
    assert decompose(time_range, ()) == [TimeSlice(Grain.RAW, time_range.start, time_range.end)]


def test_signed_decompose_reads_a_new_york_day_as_the_utc_day_minus_and_plus_five_hours() -> None:
    # 2024-01-15 in New York (UTC-5) is [05:00, 05:00) UTC: 24 hours unsigned, 11 buckets signed.
    time_range = TimeRange(utc(2024, 1, 15, 5), utc(2024, 1, 16, 5))
    assert decompose(time_range, signed=True) == [
        TimeSlice(Grain.HOUR, utc(2024, 1, 15), utc(2024, 1, 15, 5), -1),
        TimeSlice(Grain.DAY, utc(2024, 1, 15), utc(2024, 1, 16)),
        TimeSlice(Grain.HOUR, utc(2024, 1, 16), utc(2024, 1, 16, 5)),
    ]
    assert decompose(time_range) == [TimeSlice(Grain.HOUR, time_range.start, time_range.end)]


def test_signed_decompose_adds_a_kolkata_evening_before_the_utc_day() -> None:
    time_range = TimeRange(utc(2024, 1, 14, 18, 30), utc(2024, 1, 15, 18, 30))
    assert decompose(time_range, signed=True) == [
        TimeSlice(Grain.QUARTER, utc(2024, 1, 14, 18, 30), utc(2024, 1, 14, 19)),
        TimeSlice(Grain.HOUR, utc(2024, 1, 14, 19), utc(2024, 1, 15)),
        TimeSlice(Grain.DAY, utc(2024, 1, 15), utc(2024, 1, 16)),
        TimeSlice(Grain.QUARTER, utc(2024, 1, 15, 18, 30), utc(2024, 1, 15, 19), -1),
        TimeSlice(Grain.HOUR, utc(2024, 1, 15, 19), utc(2024, 1, 16), -1),
    ]


def test_signed_decompose_keeps_the_plain_cover_when_it_is_not_cheaper() -> None:
    short = TimeRange(utc(2024, 1, 15, 23), utc(2024, 1, 16, 1))
    aligned = TimeRange(utc(2024, 1, 15), utc(2024, 1, 18))
    # Noon to noon: 24 hours plain, 1 day and 2 x 12 hours signed.
    noon_to_noon = TimeRange(utc(2024, 1, 15, 12), utc(2024, 1, 16, 12))
    for time_range in (short, aligned, noon_to_noon):
        assert decompose(time_range, signed=True) == decompose(time_range)
    # Without the DAY grain there is nothing to subtract from.
    new_york_day = TimeRange(utc(2024, 1, 15, 5), utc(2024, 1, 16, 5))
    assert decompose(new_york_day, (Grain.HOUR,), signed=True) == decompose(
        new_york_day, (Grain.HOUR,)
    )


def test_bucket_spans_are_whole_kolkata_days_overlapping_the_range() -> None:
    time_range = TimeRange(utc(2024, 1, 15, 6, 10), utc(2024, 1, 16, 20))
    assert bucket_spans(time_range, Granularity.DAY, KOLKATA) == [
        (utc(2024, 1, 14, 18, 30), utc(2024, 1, 15, 18, 30)),
        (utc(2024, 1, 15, 18, 30), utc(2024, 1, 16, 18, 30)),
        (utc(2024, 1, 16, 18, 30), utc(2024, 1, 17, 18, 30)),
    ]


def test_bucket_spans_refuse_too_many_buckets() -> None:
    time_range = TimeRange(utc(2024, 1, 1), utc(2024, 1, 11))
    # Berlin's days start an hour before UTC's: 11 of them overlap ten UTC days.
    with pytest.raises(ValueError, match="DAY granularity would produce 11 buckets"):
        bucket_spans(time_range, Granularity.DAY, BERLIN, max_buckets=10)
    assert len(bucket_spans(time_range, Granularity.DAY, ZoneInfo("UTC"), max_buckets=10)) == 10


# --- properties --------------------------------------------------------------------------

ALIGNMENTS = st.sampled_from([1, 1, 60, 900, 3600, 86400])


@st.composite
def utc_ranges(draw: st.DrawFn, max_seconds: int) -> TimeRange:
    """Ranges within 2020-2030 at second precision, often starting or ending aligned."""
    lowest, highest = utc(2020, 1, 1), utc(2030, 1, 1)
    span = int((highest - lowest).total_seconds())
    start_step, end_step = draw(ALIGNMENTS), draw(ALIGNMENTS)
    start = draw(st.integers(0, (span - max_seconds) // start_step)) * start_step
    end = start + draw(st.integers(1, max_seconds))
    end = max(end - end % end_step, start + 1)
    return TimeRange(lowest + timedelta(seconds=start), lowest + timedelta(seconds=end))


def assert_exact_cover(slices: list[TimeSlice], start: datetime, end: datetime) -> None:
    assert slices[0].start == start
    assert slices[-1].end == end
    for before, after in pairwise(slices):
        assert before.end == after.start
    for piece in slices:
        assert piece.start < piece.end
        if piece.grain is not Grain.RAW:
            assert is_aligned(piece.start, piece.grain)
            assert is_aligned(piece.end, piece.grain)
    total = sum((piece.duration for piece in slices), timedelta(0))
    assert total == end - start


@settings(max_examples=300, deadline=None)
@given(
    time_range=utc_ranges(max_seconds=90 * 86400),
    grains=st.sets(st.sampled_from([Grain.DAY, Grain.HOUR, Grain.QUARTER])),
)
def test_decompose_covers_the_range_exactly_with_merged_aligned_pieces(
    time_range: TimeRange, grains: set[Grain]
) -> None:
    slices = decompose(time_range, tuple(grains))
    assert_exact_cover(slices, time_range.start, time_range.end)
    assert {piece.grain for piece in slices} <= grains | {Grain.RAW}
    for before, after in pairwise(slices):
        assert before.grain is not after.grain
    assert len(slices) <= 2 * len(grains) + 1
    # Coarsest in the middle: lengths rise to a single peak and then fall.
    sizes = [GRAIN_LENGTH.get(piece.grain, timedelta(0)) for piece in slices]
    peak = sizes.index(max(sizes))
    assert sizes[: peak + 1] == sorted(sizes[: peak + 1])
    assert sizes[peak:] == sorted(sizes[peak:], reverse=True)
    # Greedy: no piece could have been read from a coarser available grain.
    for piece in slices:
        for grain in grains:
            if piece.grain is Grain.RAW or GRAIN_LENGTH[grain] > GRAIN_LENGTH[piece.grain]:
                length = GRAIN_LENGTH[grain]
                first = piece.start + (EPOCH - piece.start) % length
                assert first + length > piece.end


def signed_coverage(slices: list[TimeSlice], instant: datetime) -> int:
    return sum(piece.sign for piece in slices if piece.start <= instant < piece.end)


def cost(slices: list[TimeSlice]) -> int:
    """Rollup buckets read, a started raw minute counting as one."""
    length = {**GRAIN_LENGTH, Grain.RAW: timedelta(minutes=1)}
    return sum(-(-piece.duration // length[piece.grain]) for piece in slices)


@settings(max_examples=300, deadline=None)
@given(
    time_range=utc_ranges(max_seconds=90 * 86400),
    grains=st.sets(st.sampled_from([Grain.DAY, Grain.HOUR, Grain.QUARTER])),
    probes=st.lists(st.integers(-2 * 86400, 92 * 86400), min_size=1, max_size=20),
)
def test_signed_decompose_counts_every_instant_of_the_range_once_and_nothing_else(
    time_range: TimeRange, grains: set[Grain], probes: list[int]
) -> None:
    signed = decompose(time_range, tuple(grains), signed=True)
    plain = decompose(time_range, tuple(grains))
    assert cost(signed) <= cost(plain)
    assert {piece.grain for piece in signed} <= grains | {Grain.RAW}
    assert {piece.sign for piece in signed} <= {1, -1}
    # Every slice boundary, either side of it, and random instants around the range.
    instants = {time_range.start, time_range.end}
    for piece in signed:
        assert piece.start < piece.end
        if piece.grain is not Grain.RAW:
            assert is_aligned(piece.start, piece.grain) and is_aligned(piece.end, piece.grain)
        instants.update((piece.start, piece.end))
    instants.update(time_range.start + timedelta(seconds=probe) for probe in probes)
    for instant in list(instants):
        instants.add(instant - timedelta(microseconds=1))
    for instant in instants:
        assert signed_coverage(signed, instant) == (1 if time_range.contains(instant) else 0)


GRANULARITY_SPANS = {
    Granularity.HOUR: 4 * 86400,
    Granularity.DAY: 70 * 86400,
    Granularity.WEEK: 200 * 86400,
    Granularity.MONTH: 900 * 86400,
}
BUCKET_LENGTH_BOUNDS = {
    Granularity.HOUR: (timedelta(minutes=30), timedelta(hours=2)),
    Granularity.DAY: (timedelta(hours=23), timedelta(hours=25)),
    Granularity.WEEK: (timedelta(days=7, hours=-1), timedelta(days=7, hours=1)),
    Granularity.MONTH: (timedelta(days=28, hours=-1), timedelta(days=31, hours=1)),
}


@st.composite
def zoned_cases(draw: st.DrawFn) -> tuple[ZoneInfo, Granularity, TimeRange]:
    tz = ZoneInfo(draw(st.sampled_from(TRICKY_ZONES)))
    granularity = draw(st.sampled_from(list(Granularity)))
    return tz, granularity, draw(utc_ranges(max_seconds=GRANULARITY_SPANS[granularity]))


@settings(max_examples=200, deadline=None)
@given(case=zoned_cases())
def test_bucket_spans_partition_the_range_into_local_calendar_buckets(
    case: tuple[ZoneInfo, Granularity, TimeRange],
) -> None:
    tz, granularity, time_range = case
    spans = bucket_spans(time_range, granularity, tz)
    starts = [start for start, _ in spans]
    ends = [*starts[1:], bucket_end(starts[-1], granularity, tz)]
    assert starts == bucket_starts(time_range, granularity, tz)
    assert [end for _, end in spans] == ends
    assert starts[0] == bucket_floor(time_range.start, granularity, tz)
    assert starts[0] <= time_range.start
    assert ends[-1] >= time_range.end > starts[-1]

    decomposed = []
    for start, end in spans:
        assert start < end
        low, high = max(start, time_range.start), min(end, time_range.end)
        assert low < high, "every bucket overlaps the range"
        slices = decompose(TimeRange(low, high))
        assert_exact_cover(slices, low, high)
        decomposed.append(slices)
        shortest, longest = BUCKET_LENGTH_BOUNDS[granularity]
        assert shortest <= end - start <= longest
        assert bucket_floor(start, granularity, tz) == start
        assert bucket_floor(end - timedelta(microseconds=1), granularity, tz) == start
        local_start, local_before = wall(start, tz), wall(start - timedelta(microseconds=1), tz)
        if granularity is Granularity.HOUR:
            on_the_hour = local_start.minute == local_start.second == 0
            assert on_the_hour or local_start.hour != local_before.hour
        else:
            # Starts at the first instant of a new local date, and the bucket's last
            # instant still reads the same local day, ISO week or month.
            local_last = wall(end - timedelta(microseconds=1), tz)
            assert local_start.date() != local_before.date()
            if granularity is Granularity.DAY:
                assert local_start.date() == local_last.date()
            if granularity is Granularity.WEEK:
                assert local_start.weekday() == 0
                assert local_start.isocalendar()[:2] == local_last.isocalendar()[:2]
            if granularity is Granularity.MONTH:
                assert local_start.day == 1
                assert (local_start.year, local_start.month) == (local_last.year, local_last.month)
    every_slice = [piece for slices in decomposed for piece in slices]
    assert_exact_cover(every_slice, time_range.start, time_range.end)


def scanned_boundaries(
    tz: ZoneInfo, granularity: Granularity, start: datetime, end: datetime
) -> list[datetime]:
    """Brute-force bucket starts by reading the local clock every 15 UTC minutes.

    Every offset and transition since 1970 is on a 15-minute grid, so this sees all of them.
    """
    step = timedelta(minutes=15)
    found: list[datetime] = []
    instant = start - step
    seen_date = wall(instant, tz).date()
    previous = wall(instant, tz)
    while instant + step < end:
        instant += step
        local = wall(instant, tz)
        just_before = previous + step
        if granularity is Granularity.DAY:
            # A day starts at the first instant that reads a date not seen before.
            if local.date() > seen_date:
                found.append(instant)
                seen_date = local.date()
        else:
            # An hour starts where the clock reads hh:00, or right after a gap that skipped it.
            on_the_hour = local.minute == 0
            next_mark = just_before.replace(minute=0)
            if just_before.minute:
                next_mark += HOUR
            skipped_a_mark = local > just_before and next_mark < local
            if on_the_hour or skipped_a_mark:
                found.append(instant)
        previous = local
    return found


@pytest.mark.parametrize("zone", [*TRICKY_ZONES, "America/Havana", "Pacific/Apia"])
@pytest.mark.parametrize("granularity", [Granularity.HOUR, Granularity.DAY])
def test_bucket_starts_match_a_brute_force_scan_of_the_local_clock(
    zone: str, granularity: Granularity
) -> None:
    tz = ZoneInfo(zone)
    # Eleven months of 2024 hold both DST changes everywhere; Apia's is its skipped day.
    start, end = utc(2024, 1, 1), utc(2024, 12, 1)
    if zone == "Pacific/Apia":
        start, end = utc(2011, 9, 1), utc(2012, 5, 1)
    expected = scanned_boundaries(tz, granularity, start, end)
    starts = bucket_starts(TimeRange(start, end), granularity, tz)
    assert [s for s in starts if s >= start] == expected


def test_ranges_at_the_limits_of_the_calendar_are_a_value_error() -> None:
    time_range = TimeRange(utc(9999, 12, 31), utc(9999, 12, 31, 1))
    with pytest.raises(ValueError, match="too close to the limits of the calendar"):
        bucket_starts(time_range, Granularity.DAY, BERLIN)
