"""Cancel an operation that runs longer than AIZE_REQUEST_TIMEOUT_SECONDS (default 10 s).

The timeout cancels the task running the resolvers, and with it whatever they await: an
asyncpg query being awaited is cancelled on the PostgreSQL server too (asyncpg sends a
cancel request). On SQLite the statement runs on in aiosqlite's thread until it finishes,
but the client gets its answer at the timeout. The client sees QUERY_TOO_COMPLEX with the
limit in `extensions.timeoutSeconds`: in practice a query that slow asks for too much
(a long period at a fine granularity, many breakdowns), so narrowing it is the remedy.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from graph.errors import QueryTooComplexError
from graph.extensions.request_state import settings_of

log = logging.getLogger("aize.graphql")


class RequestTimeout(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        seconds = settings_of(self.execution_context).request_timeout_seconds
        deadline = asyncio.timeout(seconds)
        try:
            async with deadline:
                yield
        except TimeoutError:
            if not deadline.expired():
                raise
            log.warning(
                "operation %r cancelled after %g s", self.execution_context.operation_name, seconds
            )
            raise QueryTooComplexError(
                f"The query took longer than {seconds:g} s and was cancelled; ask for a "
                "shorter period or fewer fields.",
                timeoutSeconds=seconds,
            ) from None
