"""Run a whole write transaction again after PostgreSQL rolled it back for a deadlock or a
serialization failure. Safe because every write here is idempotent and all-or-nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

log = logging.getLogger("aize.ingest")

T = TypeVar("T")
ATTEMPTS = 5


async def with_rollback_retry(operation: Callable[[], Awaitable[T]], what: str) -> T:
    """The operation's result; retried up to ATTEMPTS times on a rolled-back transaction."""
    for attempt in range(1, ATTEMPTS):
        try:
            return await operation()
        except asyncpg.TransactionRollbackError as exc:
            log.warning("%s rolled back (%s); retrying, attempt %d", what, exc, attempt + 1)
            # A short, growing pause lets the transaction we collided with finish first.
            await asyncio.sleep(0.01 * attempt)
    return await operation()
