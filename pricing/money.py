"""Exact money arithmetic: every amount in the service is an ``int`` of nano-USD.

Floats never touch money: they cannot represent most decimal prices exactly, so
every entry point here rejects them with ``TypeError``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "NANOS_PER_USD",
    "UsdDecimal",
    "format_usd",
    "nanos_to_usd",
    "round_half_even_div",
    "to_scaled_int",
    "usd_to_nanos",
]

NANOS_PER_USD = 1_000_000_000
_USD_PLACES = 9
# Far beyond any real amount (10**51 USD); bounds the work parsing "1E+999999999" would take.
_MAX_SCALED_DIGITS = 60


def _require_int(name: str, value: object) -> int:
    # bool is an int subclass; True as an amount is always a bug.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return value


def _pow10(exponent: int) -> int:
    # typeshed types int ** int as Any; a negative exponent would yield a float.
    if exponent < 0:
        raise ValueError(f"negative power of ten: {exponent}")
    return int(10**exponent)


def to_scaled_int(value: Decimal | str | int, places: int, what: str = "value") -> int:
    """Return ``value * 10**places`` as an exact ``int``.

    Accepts a ``Decimal``, a decimal string or an ``int``. Raises ``TypeError`` for
    float, bool or any other type, and ``ValueError`` if the value is not a number,
    is not finite, or has non-zero digits beyond ``places`` decimal places (trailing
    zeros such as ``"1.50000000000"`` are fine because they lose nothing).
    """
    if isinstance(value, bool | float):
        raise TypeError(
            f"{what} must be a Decimal, str or int, not {type(value).__name__}; "
            "floats cannot represent money exactly"
        )
    if isinstance(value, int):
        return value * _pow10(places)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{what} {value!r} is not a decimal number") from None
    elif isinstance(value, Decimal):
        number = value
    else:
        raise TypeError(f"{what} must be a Decimal, str or int, not {type(value).__name__}")
    if not number.is_finite():
        raise ValueError(f"{what} {value!r} is not a finite number")
    # Work on the digit tuple so no Decimal context precision can round anything.
    sign, digits, exponent = number.as_tuple()
    coefficient = int("".join(map(str, digits)))
    if coefficient == 0:
        return 0
    shift = int(exponent) + places
    # Checked before any power of ten is built, so "1E+999999999" cannot exhaust memory.
    if len(digits) + shift > _MAX_SCALED_DIGITS:
        raise ValueError(f"{what} {value!r} is too large")
    if -shift >= len(digits):
        raise ValueError(f"{what} {value!r} has more than {places} decimal places")
    scaled: int
    if shift >= 0:
        scaled = coefficient * _pow10(shift)
    else:
        scaled, remainder = divmod(coefficient, _pow10(-shift))
        if remainder:
            raise ValueError(f"{what} {value!r} has more than {places} decimal places")
    return -scaled if sign else scaled


def usd_to_nanos(value: Decimal | str | int) -> int:
    """Return the exact amount of ``value`` US dollars in nano-USD (``int``).

    Raises ``ValueError`` for non-numbers, non-finite values and values with more
    than 9 significant decimal places; ``TypeError`` for float or bool.
    """
    return to_scaled_int(value, _USD_PLACES, "USD amount")


class UsdDecimal(Decimal):
    """A ``Decimal`` whose ``str()`` is always plain positional notation.

    A plain ``Decimal`` prints values below 1e-6 as ``5.25E-7`` whatever its
    exponent, so only a subclass can keep amounts like $0.000000525 readable.
    Arithmetic on it returns ordinary ``Decimal`` values.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return format(self, "f")

    def __repr__(self) -> str:
        return f"UsdDecimal('{self}')"

    def __format__(self, spec: str, context: Any = None) -> str:
        # f"{x}" passes an empty spec, which Decimal would render scientifically.
        return str(self) if spec == "" else super().__format__(spec)


def nanos_to_usd(nanos: int) -> UsdDecimal:
    """Return ``nanos`` nano-USD as exact dollars (a ``Decimal`` subclass).

    The value is normalized (no trailing fractional zeros, e.g. ``Decimal("10")``,
    ``Decimal("0.135")``) and its ``str()`` never uses scientific notation
    (525 nanos -> ``"0.000000525"``).
    """
    nanos = _require_int("nanos", nanos)
    magnitude = abs(nanos)
    exponent = -_USD_PLACES
    # Strip trailing zeros by hand: Decimal.normalize() would round huge values
    # to the context precision and turn 10 into 1E+1.
    while exponent < 0 and magnitude and magnitude % 10 == 0:
        magnitude //= 10
        exponent += 1
    if magnitude == 0:
        exponent = 0
    digits = tuple(int(d) for d in str(magnitude))
    return UsdDecimal((1 if nanos < 0 else 0, digits, exponent))


def format_usd(nanos: int) -> str:
    """Return ``nanos`` nano-USD as a plain dollar string.

    At least 2 decimals, no trailing zeros beyond that, never scientific notation:
    135_000_000 -> ``"0.135"``, 10**9 -> ``"1.00"``, 525 -> ``"0.000000525"``,
    -2_500_000_000 -> ``"-2.50"``. This is the wire format of the GraphQL Decimal.
    """
    nanos = _require_int("nanos", nanos)
    whole, fraction = divmod(abs(nanos), NANOS_PER_USD)
    decimals = f"{fraction:09d}".rstrip("0").ljust(2, "0")
    return f"{'-' if nanos < 0 else ''}{whole}.{decimals}"


def format_optional_usd(nanos: int | None) -> str | None:
    """`format_usd` of an amount that may be absent (no limit, no budget): None stays None."""
    return None if nanos is None else format_usd(nanos)


def round_half_even_div(numerator: int, denominator: int) -> int:
    """Return ``numerator / denominator`` rounded to the nearest ``int``, ties to even.

    Exact for any sign of either argument (-2.5 -> -2, -3.5 -> -4). The unit is
    whatever ``numerator / denominator`` is in, usually nano-USD. Raises
    ``ZeroDivisionError`` for a zero denominator.
    """
    numerator = _require_int("numerator", numerator)
    denominator = _require_int("denominator", denominator)
    if denominator == 0:
        raise ZeroDivisionError("round_half_even_div: denominator is zero")
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    return half_even_div_positive(numerator, denominator)


def half_even_div_positive(numerator: int, denominator: int) -> int:
    """`round_half_even_div` without its checks, for callers whose ints are already
    validated and whose denominator is positive (ingest prices thousands of records per
    batch; the checks cost more than the arithmetic)."""
    # divmod floors, so 0 <= remainder < denominator even for negative numerators.
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient
