"""The wire format of the custom scalars: one timestamp format, exact decimals, safe BigInts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from strawberry.types.scalar import ScalarDefinition

from graph.schema import schema
from models.timestamps import format_instant, format_wall_time


def _scalar(name: str) -> ScalarDefinition:
    """The scalar the schema serves under `name` (graph/scalars.py SCALAR_MAP)."""
    scalar = schema.get_type_by_name(name)
    assert isinstance(scalar, ScalarDefinition)
    return scalar


def test_datetime_always_has_six_fractional_digits_and_an_offset() -> None:
    serialize = _scalar("DateTime").serialize
    on_the_minute = datetime(2026, 1, 1, 0, 58, tzinfo=UTC)
    with_micros = datetime(2026, 1, 1, 0, 57, 19, 131543, tzinfo=UTC)
    kolkata = datetime(2026, 1, 1, 5, 30, tzinfo=timezone(timedelta(hours=5, minutes=30)))

    assert serialize(on_the_minute) == "2026-01-01T00:58:00.000000+00:00"
    assert serialize(with_micros) == "2026-01-01T00:57:19.131543+00:00"
    assert serialize(kolkata) == "2026-01-01T05:30:00.000000+05:30"
    # SQLite hands back naive UTC; it is sent as UTC, not as a time without an offset.
    assert serialize(datetime(2026, 1, 1)) == "2026-01-01T00:00:00.000000+00:00"


def test_datetime_inputs_accept_rfc_3339_and_refuse_other_text() -> None:
    parse = _scalar("DateTime").parse_value

    assert parse("2026-01-01T00:00:00Z") == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse("2026-01-01T05:45:00.5+05:45") == datetime(2026, 1, 1, 0, 0, 0, 500000, UTC)
    with pytest.raises(ValueError, match="'yesterday' is not an RFC 3339 date-time"):
        parse("yesterday")
    with pytest.raises(ValueError, match="must be RFC 3339 strings"):
        parse(1767225600)


def test_the_timestamp_helpers_keep_the_precision_across_a_dst_change() -> None:
    new_york = ZoneInfo("America/New_York")
    first_one_am = datetime(2024, 11, 3, 5, tzinfo=UTC)
    second_one_am = datetime(2024, 11, 3, 6, tzinfo=UTC)

    assert format_instant(first_one_am, new_york) == "2024-11-03T01:00:00.000000-04:00"
    assert format_instant(second_one_am, new_york) == "2024-11-03T01:00:00.000000-05:00"
    assert format_wall_time(first_one_am, new_york) == "2024-11-03T01:00:00.000000"
    assert format_wall_time(second_one_am, new_york) == "2024-11-03T01:00:00.000000"
    with pytest.raises(ValueError, match="naive"):
        format_instant(datetime(2024, 11, 3))


def test_decimal_is_plain_positional_text() -> None:
    assert _scalar("Decimal").serialize(Decimal("5.25E-7")) == "0.000000525"
    assert _scalar("Decimal").parse_value("12.50") == Decimal("12.50")


def test_big_int_is_a_json_number_within_javascripts_safe_integers() -> None:
    big_int = _scalar("BigInt")
    largest = 2**53 - 1

    assert big_int.serialize(largest) == 9_007_199_254_740_991
    assert big_int.serialize(-largest) == -largest
    with pytest.raises(ValueError, match="beyond BigInt's range"):
        big_int.serialize(largest + 1)
    assert big_int.parse_value("42") == 42
    with pytest.raises(ValueError, match="beyond BigInt's range"):
        big_int.parse_value(2**53)
    with pytest.raises(ValueError, match=r"'4\.2' is not a whole number"):
        big_int.parse_value("4.2")
