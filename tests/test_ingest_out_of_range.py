"""Which failures mean "a running total would leave 64 bits" (a clear, non-retryable 422),
told apart from other errors that stay INTERNAL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from spend.out_of_range import is_out_of_range


def _raised(action: Callable[[], object]) -> BaseException:
    with pytest.raises(Exception) as caught:
        action()
    return caught.value


def test_a_parameter_beyond_64_bits_for_sqlite_is_out_of_range() -> None:
    connection = sqlite3.connect(":memory:")
    error = _raised(lambda: connection.execute("SELECT ?", (2**63,)))
    assert is_out_of_range(error)


def test_sqlite_sum_overflowing_is_out_of_range() -> None:
    connection = sqlite3.connect(":memory:")
    query = "SELECT sum(x) FROM (SELECT 9223372036854775807 AS x UNION ALL SELECT 1)"
    error = _raised(lambda: connection.execute(query).fetchall())
    assert is_out_of_range(error)


def test_an_overflow_wrapped_by_another_exception_is_found_through_its_cause() -> None:
    try:
        try:
            raise OverflowError("value out of int64 range")
        except OverflowError as inner:
            raise RuntimeError("invalid input for query argument $1") from inner
    except RuntimeError as outer:
        assert is_out_of_range(outer)


def test_a_date_overflow_and_other_errors_are_not_out_of_range() -> None:
    assert not is_out_of_range(_raised(lambda: datetime.max + timedelta(days=1)))
    assert not is_out_of_range(ValueError("integer overflow"))
