"""Request timeout: an operation running past AIZE_REQUEST_TIMEOUT_SECONDS is cancelled,
database work included, and answered QUERY_TOO_COMPLEX."""

from __future__ import annotations

import dataclasses

from tortoise import connections

from models.database import server_statement_timeout_ms, tortoise_config
from models.member import Role
from settings import Settings
from tests import probe_schema
from tests.factories import GraphQLResult, gql, make_member, make_org, make_token
from tests.http_clients import client_for
from tests.probe_schema import probe_app


async def _ask_with_timeout(db: Settings, seconds: float, query: str) -> GraphQLResult:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    app = probe_app(dataclasses.replace(db, request_timeout_seconds=seconds))
    async with client_for(app) as http:
        return await gql(http, token, query)


async def test_an_operation_past_the_timeout_is_cancelled_and_answered_too_complex(
    db: Settings,
) -> None:
    result = await _ask_with_timeout(db, 0.05, "{ waitForever }")

    assert result.status == 200
    assert result.data is None
    assert result.errors == [
        {
            "message": (
                "The query took longer than 0.05 s and was cancelled; ask for a shorter "
                "period or fewer fields."
            ),
            "extensions": {"code": "QUERY_TOO_COMPLEX", "timeoutSeconds": 0.05},
        }
    ]
    assert probe_schema.events().started.is_set()
    assert probe_schema.events().cancelled


async def test_a_database_query_past_the_timeout_is_cancelled(db: Settings, backend: str) -> None:
    if backend == "postgres":
        result = await _ask_with_timeout(db, 0.2, "{ pgSleep(seconds: 30) }")
    else:
        # SQLite statements cannot be interrupted from asyncio; what is cancelled is the
        # awaiting resolver, and the client is answered at the timeout.
        result = await _ask_with_timeout(db, 0.2, "{ waitForever }")

    assert result.error_codes == ["QUERY_TOO_COMPLEX"]
    if backend == "postgres":
        assert probe_schema.events().backend_pid is not None
        rows = await connections.get("default").execute_query_dict(
            "SELECT count(*) AS sleeping FROM pg_stat_activity "
            "WHERE datname = current_database() AND state = 'active' "
            "AND query LIKE '%pg_sleep(%' AND pid <> pg_backend_pid()"
        )
        # The sleeping statement was cancelled on the server, not left running.
        assert rows == [{"sleeping": 0}]
    else:
        assert probe_schema.events().cancelled


async def test_operations_within_the_timeout_are_untouched(db: Settings) -> None:
    result = await _ask_with_timeout(db, 5, "{ folder { name } }")
    assert result.errors is None
    assert result.data == {"folder": {"name": "root"}}


def test_the_server_connections_get_a_statement_timeout_above_the_request_timeout() -> None:
    settings = Settings.from_env(
        {"AIZE_DATABASE_URL": "postgres://u@db:5432/aize", "AIZE_REQUEST_TIMEOUT_SECONDS": "10"}
    )
    assert server_statement_timeout_ms(settings) == 15_000

    server = tortoise_config(settings, statement_timeout_ms=15_000)
    cli = tortoise_config(settings)

    server_settings = server["connections"]["default"]["credentials"]["server_settings"]
    assert server_settings["statement_timeout"] == "15000"
    assert (
        "statement_timeout" not in cli["connections"]["default"]["credentials"]["server_settings"]
    )
