"""Money arguments: a Decimal from the client to exact nano-USD, or a BAD_USER_INPUT error
naming the argument (more than 9 decimals cannot be stored exactly, so it is refused; more
than MAX_AMOUNT_USD is refused too: amounts are stored in 64-bit integer columns)."""

from __future__ import annotations

from decimal import Decimal

from graph.errors import BadUserInputError
from pricing.money import NANOS_PER_USD, usd_to_nanos

# Far beyond any budget, limit, threshold or deposit, and 9x below what a BIGINT of nano-USD
# holds (9.2e18), so sums of a few such amounts still fit.
MAX_AMOUNT_USD = 1_000_000_000
MAX_AMOUNT_NANOS = MAX_AMOUNT_USD * NANOS_PER_USD
# Beyond this many digits the value is echoed in scientific notation: "1E+999999999" in
# positional notation would be a billion characters.
_POSITIONAL_DIGITS = 30


def amount_nanos(value: Decimal, argument: str) -> int:
    """`value` USD as an int of nano-USD, at most MAX_AMOUNT_USD in magnitude; the sign is
    the caller's to check."""
    try:
        nanos = usd_to_nanos(value)
    except ValueError as exc:
        problem = (
            "has more than 9 decimal places"
            if "decimal places" in str(exc)
            else "is not a usable USD amount"
        )
        raise BadUserInputError(f"{argument}: {_shown(value)} {problem}") from None
    if abs(nanos) > MAX_AMOUNT_NANOS:
        raise BadUserInputError(
            f"{argument}: {_shown(value)} is too large; at most {MAX_AMOUNT_USD} USD"
        )
    return nanos


def optional_amount_nanos(value: Decimal | None, argument: str) -> int | None:
    """As `amount_nanos`, with None passed through (null clears a setting)."""
    return None if value is None else amount_nanos(value, argument)


def _shown(value: Decimal) -> str:
    """The value as the client wrote it, in a bounded number of characters."""
    if value.is_finite() and -_POSITIONAL_DIGITS < value.adjusted() < _POSITIONAL_DIGITS:
        return format(value, "f")
    return str(value)
