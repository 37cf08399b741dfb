"""Bounded lock waits for a write transaction: past the bound, a clear "busy, resend" refusal.

Concurrent batches of one organization meet on the same rows (its rollup rows, its wallet,
its spend counters, its keys) and queue there, each until the one ahead commits. A queue
longer than the connections' `statement_timeout` used to cancel the waiting statement and
surface as an unexpected error. Instead, `bound_lock_waits` sets PostgreSQL's
`lock_timeout` for the rest of the transaction, so no single wait for a row lock outlasts
`seconds`; when one would, the transaction is rolled back (nothing stored) and
`is_wait_timeout` recognises the error, which ingest reports as `IngestBusy`: HTTP 503 with
`Retry-After` (web/database_errors.py), the same batch resent later counted exactly once.
A statement cancelled by `statement_timeout` is reported the same way.

SQLite runs one write transaction at a time, so it has nothing to bound.
"""

from __future__ import annotations

import math

import asyncpg
from tortoise.backends.base.client import BaseDBAsyncClient

from models.database import Dialect, dialect_of

# How long a busy refusal asks the client to wait before resending: a queue of batches
# drains within a few seconds, and a gateway resending sooner would only join it again.
BUSY_RETRY_AFTER_SECONDS = 2


class IngestBusy(Exception):
    """The batch waited too long for rows other transactions held; nothing was stored.

    `retry_after_seconds`: when to resend it (a resend is safe: request ids make it exact).
    """

    def __init__(self, retry_after_seconds: int = BUSY_RETRY_AFTER_SECONDS) -> None:
        self.retry_after_seconds = retry_after_seconds
        super().__init__(
            "ingest is busy for this organization: the batch waited too long for the "
            f"database and nothing in it was stored; resend it after {retry_after_seconds} s"
        )


async def bound_lock_waits(conn: BaseDBAsyncClient, seconds: float) -> None:
    """Limit every lock wait of the caller's transaction to `seconds` (PostgreSQL; rounded
    up to whole milliseconds); on SQLite a no-op."""
    if dialect_of(conn) is Dialect.SQLITE:
        return
    milliseconds = max(1, math.ceil(seconds * 1000))
    await conn.execute_script(f"SET LOCAL lock_timeout = {milliseconds}")


def is_wait_timeout(exc: BaseException) -> bool:
    """Whether `exc`, or an exception it was raised from or during, is PostgreSQL giving up
    a wait: `lock_timeout` (55P03) or `statement_timeout` (57014)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, asyncpg.LockNotAvailableError | asyncpg.QueryCanceledError):
            return True
        current = current.__cause__ or current.__context__
    return False
