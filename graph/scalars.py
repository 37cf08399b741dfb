"""Scalars: money and other decimals travel as plain decimal strings, never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from pricing.money import format_usd


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
    description='An exact decimal number as a string (money is in USD, e.g. "0.135").',
    serialize=_serialize,
    parse_value=_parse,
)


def usd(nanos: int) -> Decimal:
    """Nano-USD as exact dollars, keeping at least two decimals ("1.00", "0.135")."""
    return Decimal(format_usd(nanos))


def _parse_big_int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("BigInt values must be whole numbers")
    return int(value)


BigInt = NewType("BigInt", int)

BigIntScalar: ScalarDefinition = strawberry.scalar(
    name="BigInt",
    description="A whole number that may exceed 32 bits (token and request totals).",
    serialize=int,
    parse_value=_parse_big_int,
)

# Passed to StrawberryConfig(scalar_map=...): Decimal replaces strawberry's own (which would
# print 5.25E-7), BigInt carries totals beyond 32 bits.
SCALAR_MAP: dict[object, ScalarDefinition] = {Decimal: DecimalScalar, BigInt: BigIntScalar}
