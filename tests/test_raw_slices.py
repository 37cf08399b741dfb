"""rollup_reader.raw_slices: a window's slices (signed or not) become RAW slices covering
exactly the window's time, as a threshold question reads it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from resolvers.periods import TimeRange
from resolvers.rollup_reader import raw_slices
from resolvers.time_slices import Grain, TimeSlice, decompose

_BASE = datetime(2024, 3, 9, 21, 7, 13, tzinfo=UTC)


@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize(
    ("start_minutes", "length_minutes"),
    [(0, 1), (0, 14), (3, 60), (53, 24 * 60), (0, 3 * 24 * 60 + 17), (-600, 40 * 24 * 60 + 601)],
)
def test_the_raw_slices_of_a_decomposition_are_the_range_itself(
    start_minutes: int, length_minutes: int, signed: bool
) -> None:
    start = _BASE + timedelta(minutes=start_minutes)
    end = start + timedelta(minutes=length_minutes)

    slices = decompose(TimeRange(start, end), signed=signed)

    assert raw_slices(slices) == [TimeSlice(Grain.RAW, start, end)]


def test_disjoint_pieces_stay_apart() -> None:
    hour = timedelta(hours=1)
    slices = [
        TimeSlice(Grain.HOUR, _BASE, _BASE + hour),
        TimeSlice(Grain.HOUR, _BASE + 2 * hour, _BASE + 3 * hour),
    ]

    assert raw_slices(slices) == [
        TimeSlice(Grain.RAW, _BASE, _BASE + hour),
        TimeSlice(Grain.RAW, _BASE + 2 * hour, _BASE + 3 * hour),
    ]


def test_a_subtracted_slice_is_left_out() -> None:
    day = timedelta(days=1)
    slices = [
        TimeSlice(Grain.DAY, _BASE, _BASE + day),
        TimeSlice(Grain.HOUR, _BASE, _BASE + timedelta(hours=5), sign=-1),
    ]

    assert raw_slices(slices) == [TimeSlice(Grain.RAW, _BASE + timedelta(hours=5), _BASE + day)]
