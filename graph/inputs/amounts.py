"""Money arguments: a Decimal from the client to exact nano-USD, or a BAD_USER_INPUT error
naming the argument (more than 9 decimals cannot be stored exactly, so it is refused)."""

from __future__ import annotations

from decimal import Decimal

from graph.errors import BadUserInputError
from pricing.money import usd_to_nanos


def amount_nanos(value: Decimal, argument: str) -> int:
    """`value` USD as an int of nano-USD; the sign is the caller's to check."""
    try:
        return usd_to_nanos(value)
    except ValueError as exc:
        problem = (
            "has more than 9 decimal places"
            if "decimal places" in str(exc)
            else "is not a usable USD amount"
        )
        raise BadUserInputError(f"{argument}: {format(value, 'f')} {problem}") from None


def optional_amount_nanos(value: Decimal | None, argument: str) -> int | None:
    """As `amount_nanos`, with None passed through (null clears a setting)."""
    return None if value is None else amount_nanos(value, argument)
