"""PostgreSQL pool: a released connection is taken back without asyncpg's reset round trip
(models.database.keep_session), and still without an open transaction."""

from __future__ import annotations

import pytest

from models.database import connection
from settings import Settings

pytestmark = pytest.mark.postgres_only


async def test_release_rolls_back_an_open_transaction_but_sends_no_reset_query(
    db: Settings,
) -> None:
    client = connection()
    async with client.acquire_connection() as raw:
        pid = await raw.fetchval("SELECT pg_backend_pid()")
        await raw.execute("SET application_name = 'left behind'")
        await raw.execute("BEGIN")
        await raw.execute("SET LOCAL work_mem = '7MB'")
        assert raw.is_in_transaction()

    async with client.acquire_connection() as raw:
        # The pool hands the same connection back (last in, first out).
        assert await raw.fetchval("SELECT pg_backend_pid()") == pid
        assert not raw.is_in_transaction()
        assert await raw.fetchval("SHOW work_mem") != "7MB"
        # No RESET ALL ran: session-level SETs would survive, so the service makes none.
        assert await raw.fetchval("SHOW application_name") == "left behind"
        # The settings every connection starts with are still in force.
        assert await raw.fetchval("SHOW plan_cache_mode") == "force_custom_plan"
        assert await raw.fetchval("SHOW jit") == "off"
        await raw.execute("RESET application_name")
