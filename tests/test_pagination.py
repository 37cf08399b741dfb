"""resolvers/pagination.py: keyset cursors, `first` limits, pages and the keyset condition."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from models.database import Dialect, Params
from resolvers.errors import BadInputError
from resolvers.pagination import (
    KeysetCursor,
    PageRequest,
    build_page,
    decode_cursor,
    encode_cursor,
    keyset_older_than,
)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "timestamp",
    [
        datetime(2025, 3, 9, 10, 30, tzinfo=UTC),
        datetime(2025, 3, 9, 10, 30, 0, 123456, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_cursor_round_trips_timestamp_to_the_microsecond_and_id(timestamp: datetime) -> None:
    cursor = KeysetCursor(timestamp=timestamp, id=9_007_199_254_740_993)

    assert decode_cursor(encode_cursor(cursor)) == cursor


def test_cursor_of_a_non_utc_timestamp_decodes_to_the_same_instant_in_utc() -> None:
    local = datetime(2025, 3, 9, 16, 0, tzinfo=timezone(timedelta(hours=5, minutes=30)))

    decoded = decode_cursor(encode_cursor(KeysetCursor(local, 7)))

    assert decoded.timestamp == datetime(2025, 3, 9, 10, 30, tzinfo=UTC)
    assert decoded.timestamp.tzinfo is UTC


def test_cursor_is_url_safe_text_without_padding() -> None:
    text = encode_cursor(KeysetCursor(datetime(2025, 1, 1, tzinfo=UTC), 1))

    assert "=" not in text and "+" not in text and "/" not in text


@pytest.mark.parametrize(
    "value",
    [
        "zzz",
        "not a cursor!",
        _b64("k1:abc:5"),
        _b64("k1:1700000000000000"),
        _b64("k1:1700000000000000:5:6"),
        _b64("k2:1700000000000000:5"),
        _b64("k1:1700000000000000:0"),
        _b64("k1:1700000000000000:-5"),
        _b64("k1:1700000000000000:9223372036854775808"),
        _b64("k1:999999999999999999:5"),
        _b64("RequestLog:5"),
        _b64("k1:1700000000000000:²"),
        _b64("k1:¹700000000000000:5"),
        base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode(),
    ],
)
def test_malformed_cursor_is_bad_input_naming_after(value: str) -> None:
    with pytest.raises(BadInputError, match=r"^after: not a valid cursor"):
        decode_cursor(value)


def test_page_request_defaults_to_50_rows_from_the_newest() -> None:
    assert PageRequest.parse(None, None) == PageRequest(size=50, after=None)


def test_empty_after_means_the_first_page() -> None:
    assert PageRequest.parse(10, "") == PageRequest(size=10, after=None)


@pytest.mark.parametrize("first", [1, 50, 100])
def test_first_from_1_to_100_is_accepted(first: int) -> None:
    assert PageRequest.parse(first, None).size == first


@pytest.mark.parametrize("first", [0, -1, 101, 10_000])
def test_first_outside_1_to_100_is_bad_input_naming_first(first: int) -> None:
    with pytest.raises(BadInputError, match=rf"^first: must be between 1 and 100, got {first}$"):
        PageRequest.parse(first, None)


def test_keyset_condition_bounds_the_timestamp_on_its_own_then_breaks_ties_by_id() -> None:
    params = Params(Dialect.POSTGRES)
    params.add(1)  # an earlier condition's parameter: placeholders continue from it
    at = datetime(2025, 1, 1, tzinfo=UTC)

    sql = keyset_older_than(KeysetCursor(at, 42), params)

    assert sql == "timestamp <= $2 AND (timestamp < $3 OR id < $4)"
    assert params.values == [1, at, at, 42]


def test_build_page_drops_the_look_ahead_row_and_reports_a_next_page() -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    rows = [KeysetCursor(at, 3), KeysetCursor(at, 2), KeysetCursor(at, 1)]

    page = build_page(rows, PageRequest(size=2, after=None), lambda row: row)

    assert page.rows == rows[:2]
    assert page.has_next_page is True
    assert page.has_previous_page is False
    assert [decode_cursor(c) for c in page.cursors] == rows[:2]
    assert page.start_cursor == page.cursors[0]
    assert page.end_cursor == page.cursors[1]


def test_build_page_of_the_last_rows_has_no_next_page() -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    after = KeysetCursor(at, 9)

    page = build_page([KeysetCursor(at, 1)], PageRequest(size=2, after=after), lambda row: row)

    assert page.has_next_page is False
    assert page.has_previous_page is True


def test_empty_page_has_no_cursors() -> None:
    page = build_page([], PageRequest(size=50, after=None), lambda row: row)

    assert page.rows == []
    assert page.start_cursor is None
    assert page.end_cursor is None
    assert page.has_next_page is False
