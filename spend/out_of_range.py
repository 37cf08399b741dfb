"""A write that would take a running total past what a 64-bit integer column holds.

Every amount is a signed 64-bit integer of nano-USD (at most 9.22e18, $9.2e9) and every
count a 64-bit integer. The per-request bounds (ingestion/validation.py,
`pricing.cost.MAX_REQUEST_COST_NANOS`) keep any one batch far inside that range; only a
counter that has already accumulated ~$9.2e9 (a month's spend, a day's rollup row, a wallet
in that much debt) can still be pushed past it. Then the batch cannot be stored, now or on a
resend, so the answer must say so (HTTP 422 / BAD_USER_INPUT) instead of an INTERNAL error
that tells the gateway to resend forever.

Where it shows: PostgreSQL raises `numeric_value_out_of_range` (SQLSTATE 22003) from the
statement; the drivers raise `OverflowError` for a parameter outside 64 bits; SQLite's sum()
raises "integer overflow". SQLite's `+` turns an overflowing sum into a float instead of
failing, so the wallet, the one total that grows for an organization's lifetime, is also
guarded explicitly (`spend.deductions.deduct_wallets`).
"""

from __future__ import annotations

import sqlite3

import asyncpg

from resolvers.errors import BadInputError

__all__ = ["TotalsOutOfRange", "is_out_of_range"]

OUT_OF_RANGE_MESSAGE = (
    "this batch would take one of the organization's running totals (wallet balance, spend "
    "counter or usage rollup) past the largest amount the database holds "
    "($9223372036.854775807); nothing in it was stored and resending it will not help: "
    "contact support"
)


class TotalsOutOfRange(BadInputError):
    """The batch cannot be stored: a running total would leave the 64-bit range."""

    def __init__(self, message: str = OUT_OF_RANGE_MESSAGE) -> None:
        super().__init__(message)


def is_out_of_range(exc: BaseException) -> bool:
    """Whether `exc`, or an exception it was raised from or during, is a 64-bit overflow."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, asyncpg.NumericValueOutOfRangeError):
            return True
        # An integer parameter beyond 64 bits ("Python int too large to convert to SQLite
        # INTEGER", asyncpg's "value out of int64 range"); not a date's overflow.
        if isinstance(current, OverflowError) and "int" in str(current):
            return True
        if isinstance(current, sqlite3.OperationalError) and "integer overflow" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False
