"""Scalars that client tools can type: each has a precise description and `@specifiedBy`.

- DateTime: RFC 3339 with exactly six fractional digits and an offset, always
  (`2026-01-01T00:00:00.000000+00:00`); one format for the API, exports, reports and alerts
  (models/timestamps.py).
- Date: an RFC 3339 full-date (`2026-01-31`).
- Decimal: money and other exact decimals as plain decimal strings, never floats.
- BigInt: counts and token totals as JSON numbers, within JavaScript's safe integers
  (at most 2^53 - 1); see `BIG_INT_MAX`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from models.timestamps import format_instant
from pricing.money import format_usd

RFC_3339_URL = "https://www.rfc-editor.org/rfc/rfc3339"
# The lexical form of XML Schema's decimal: sign, digits, point, digits; no exponent.
DECIMAL_SPEC_URL = "https://www.w3.org/TR/xmlschema11-2/#decimal"
# RFC 8259 section 6: integers in [-(2^53)+1, 2^53-1] are exact in every JSON parser.
BIG_INT_SPEC_URL = "https://www.rfc-editor.org/rfc/rfc8259#section-6"


def _serialize(value: Decimal) -> str:
    # format(..., "f") never switches to scientific notation ("0.000000525", not "5.25E-7").
    return format(value, "f")


def _parse(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError('Decimal values must be sent as strings, e.g. "12.50"')
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal number") from None
    if not number.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return number


DecimalScalar: ScalarDefinition = strawberry.scalar(
    name="Decimal",
    description=(
        "An exact decimal number as a JSON string in plain positional notation: an optional "
        'minus sign, digits, optionally a point and more digits ("0.135", "-12.50"; never '
        "an exponent). Money is in USD with at most 9 decimals (nano-USD). Parse it with an "
        "exact decimal type (Python `decimal.Decimal`, JavaScript a decimal library), never "
        "a float. Inputs accept the same strings (integers too)."
    ),
    specified_by_url=DECIMAL_SPEC_URL,
    serialize=_serialize,
    parse_value=_parse,
)


def usd(nanos: int) -> Decimal:
    """Nano-USD as exact dollars, keeping at least two decimals ("1.00", "0.135")."""
    return Decimal(format_usd(nanos))


# The largest BigInt: JavaScript's Number.MAX_SAFE_INTEGER, so a JSON number never loses
# precision in a browser (9,007,199,254,740,991: nine quadrillion tokens or requests).
BIG_INT_MAX = 2**53 - 1


def _serialize_big_int(value: int) -> int:
    number = int(value)
    if not -BIG_INT_MAX <= number <= BIG_INT_MAX:
        # Refused rather than sent: a JavaScript client would silently round it.
        raise ValueError(f"{number} is beyond BigInt's range (+/- {BIG_INT_MAX})")
    return number


def _parse_big_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("BigInt values must be whole numbers")
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number") from None
    if not -BIG_INT_MAX <= number <= BIG_INT_MAX:
        raise ValueError(f"{number} is beyond BigInt's range (+/- {BIG_INT_MAX})")
    return number


BigInt = NewType("BigInt", int)

BigIntScalar: ScalarDefinition = strawberry.scalar(
    name="BigInt",
    description=(
        "A whole number beyond 32 bits (request counts, token totals), sent as a JSON "
        "number, never a string. Always within JavaScript's safe integers, "
        "-(2^53 - 1) to 2^53 - 1 (Number.MAX_SAFE_INTEGER), so `number` and Python `int` "
        "hold it exactly; a total beyond that is an error, never a rounded value. Inputs "
        'accept a number or a string of digits ("42").'
    ),
    specified_by_url=BIG_INT_SPEC_URL,
    serialize=_serialize_big_int,
    parse_value=_parse_big_int,
)


def _parse_datetime(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError('DateTime values must be RFC 3339 strings, e.g. "2026-01-01T00:00:00Z"')
    try:
        return dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not an RFC 3339 date-time") from None


def _parse_date(value: object) -> dt.date:
    if not isinstance(value, str):
        raise ValueError('Date values must be RFC 3339 full-dates, e.g. "2026-01-31"')
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not an RFC 3339 full-date (YYYY-MM-DD)") from None


def _serialize_datetime(value: dt.datetime) -> str:
    # The database gives naive UTC on SQLite (as models.database.parse_db_datetime reads it).
    instant = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return format_instant(instant, instant.tzinfo or dt.UTC)


DateTimeScalar: ScalarDefinition = strawberry.scalar(
    name="DateTime",
    description=(
        "An instant as an RFC 3339 date-time with exactly six fractional digits and an "
        'offset: "2026-01-01T00:00:00.000000+00:00" (microseconds are never dropped, even '
        "when zero). Times are in UTC unless a field says it is local to a timezone, then "
        "the offset is that zone's at the instant. Inputs accept any RFC 3339 date-time "
        'with an offset, any number of fractional digits ("2026-01-01T00:00:00Z", '
        '"2026-01-01T05:30:00+05:30"); always give the offset (filters refuse a time '
        "without one)."
    ),
    specified_by_url=RFC_3339_URL,
    serialize=_serialize_datetime,
    parse_value=_parse_datetime,
)

DateScalar: ScalarDefinition = strawberry.scalar(
    name="Date",
    description=(
        'A calendar day as an RFC 3339 full-date, "2026-01-31" (no time, no timezone: a '
        "day in the timezone the field names)."
    ),
    specified_by_url=RFC_3339_URL,
    serialize=dt.date.isoformat,
    parse_value=_parse_date,
)

UUID_SPEC_URL = "https://www.rfc-editor.org/rfc/rfc9562"


def _parse_uuid(value: object) -> uuid.UUID:
    if not isinstance(value, str):
        raise ValueError(f"UUID must be a string, got {type(value).__name__}")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValueError(f"not a UUID: {value[:64]!r}") from None


UuidScalar: ScalarDefinition = strawberry.scalar(
    name="UUID",
    description=(
        'A UUID as RFC 9562 text, "550e8400-e29b-41d4-a716-446655440000" (any case on '
        "input, lower case on output): the gateway's request ids."
    ),
    specified_by_url=UUID_SPEC_URL,
    serialize=str,
    parse_value=_parse_uuid,
)

# Passed to StrawberryConfig(scalar_map=...): Decimal replaces strawberry's own (which would
# print 5.25E-7), BigInt carries totals beyond 32 bits, DateTime always has 6 fractional
# digits (strawberry's `isoformat` drops zero microseconds) and Date gets its spec.
SCALAR_MAP: dict[object, ScalarDefinition] = {
    Decimal: DecimalScalar,
    BigInt: BigIntScalar,
    dt.datetime: DateTimeScalar,
    dt.date: DateScalar,
    uuid.UUID: UuidScalar,
}
