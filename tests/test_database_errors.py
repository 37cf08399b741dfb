"""A database that cannot be reached is a 503 with Retry-After on every endpoint, never a 500
nor an INTERNAL error; other failures keep their 500 / INTERNAL answer.

The failures are injected here (a resolver, the token lookup, the ingest pipeline, the health
probe raising driver errors); tests/test_database_failure.py crashes a real PostgreSQL.
"""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import asyncpg
import httpx
import pytest
import strawberry
from tortoise.exceptions import DBConnectionError, IntegrityError

import web.app
import web.authentication
import web.ingest_endpoint
from graph.extensions import SCHEMA_EXTENSIONS
from models.member import Role
from settings import Settings
from tests.factories import gql, make_ingest_token, make_key, make_member, make_org, make_token
from tests.http_clients import client_for
from tests.ingest_support import gateway_record, post_bulk
from web.app import create_app
from web.database_errors import is_database_unavailable

UNAVAILABLE = {
    "error": {
        "code": "SERVICE_UNAVAILABLE",
        "message": "the database is unavailable; retry shortly",
    }
}


def _refused() -> ConnectionRefusedError:
    return ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 5432)")


def _wrapped(cause: BaseException) -> RuntimeError:
    try:
        raise RuntimeError("while acquiring a connection") from cause
    except RuntimeError as exc:
        return exc


@pytest.mark.parametrize(
    "exc",
    [
        _refused(),
        ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
        OSError("Multiple exceptions: [Errno 111] Connect call failed ('::1', 5432), ..."),
        OSError(errno.EHOSTUNREACH, "No route to host"),
        socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.CrashShutdownError("terminating connection due to crash of another process"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.InterfaceError("connection is closed"),
        DBConnectionError("Can't establish connection to database aize"),
        _wrapped(_refused()),
        ExceptionGroup("task group", [ValueError("other"), _refused()]),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_connection_level_failures_mean_the_database_is_unavailable(exc: BaseException) -> None:
    assert is_database_unavailable(exc)


async def test_a_missing_unix_socket_is_unavailability(tmp_path: Path) -> None:
    # What asyncpg raises when the server is down and its socket file is gone.
    with pytest.raises(FileNotFoundError) as raised:
        await asyncpg.connect(host=str(tmp_path), port=5432, user="aize")

    assert is_database_unavailable(raised.value)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("bad input"),
        RuntimeError("a bug"),
        TimeoutError(),
        asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.UniqueViolationError("duplicate key value"),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        IntegrityError("duplicate key value"),
        OSError(errno.ENOSPC, "No space left on device"),
        FileNotFoundError(errno.ENOENT, "No such file or directory"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_query_and_program_failures_are_not_unavailability(exc: BaseException) -> None:
    assert not is_database_unavailable(exc)


@strawberry.type
class CutOffQuery:
    @strawberry.field
    def fine(self) -> int:
        return 1

    @strawberry.field
    async def cut_off(self) -> int:
        raise asyncpg.ConnectionDoesNotExistError(
            "connection was closed in the middle of operation"
        )


cut_off_schema = strawberry.Schema(query=CutOffQuery, extensions=SCHEMA_EXTENSIONS)


async def _owner_token() -> str:
    org = await make_org()
    return await make_token(await make_member(org, Role.OWNER))


async def test_a_query_that_loses_the_database_is_503_service_unavailable(db: Settings) -> None:
    token = await _owner_token()
    async with client_for(
        create_app(db, manage_database=False, graphql_schema=cut_off_schema)
    ) as http:
        response = await http.post(
            "/graphql",
            json={"query": "{ fine cutOff }"},
            headers={"Authorization": f"Bearer {token}"},
        )

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["errors"] == [
        {
            "message": "the database is unavailable; retry shortly",
            "locations": [{"line": 1, "column": 8}],
            "path": ["cutOff"],
            "extensions": {"code": "SERVICE_UNAVAILABLE"},
        }
    ]


async def test_a_query_without_database_trouble_is_still_200(db: Settings) -> None:
    token = await _owner_token()
    async with client_for(
        create_app(db, manage_database=False, graphql_schema=cut_off_schema)
    ) as http:
        result = await gql(http, token, "{ fine }")

    assert (result.status, result.data, result.errors) == (200, {"fine": 1}, None)


async def test_graphql_is_503_with_a_json_error_when_the_token_lookup_cannot_reach_the_database(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable(authorization: str | None) -> None:
        raise _refused()

    monkeypatch.setattr(web.authentication, "authenticate", unreachable)
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { role } }"},
        headers={"Authorization": "Bearer aize_" + "x" * 40},
    )

    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
    assert response.headers["retry-after"] == "5"
    # Answered inside the security-headers middleware, like every other response.
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_bulk_ingest_is_503_when_the_database_goes_away_mid_batch(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)

    async def cut_off(*args: object, **kwargs: object) -> None:
        raise asyncpg.CannotConnectNowError("the database system is starting up")

    monkeypatch.setattr(web.ingest_endpoint, "ingest_batch", cut_off)
    response = await post_bulk(client, token, [gateway_record(key)])

    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
    assert response.headers["retry-after"] == "5"


async def test_bulk_ingest_is_503_when_the_token_lookup_cannot_reach_the_database(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable(authorization: str | None) -> None:
        raise asyncpg.ConnectionDoesNotExistError(
            "connection was closed in the middle of operation"
        )

    monkeypatch.setattr(web.authentication, "authenticate", unreachable)
    response = await post_bulk(client, "aize_" + "x" * 40, b'{"requestId": "x"}\n')

    assert response.status_code == 503
    assert response.json() == UNAVAILABLE


async def test_bulk_ingest_failing_for_another_reason_is_still_a_500_with_an_error_id(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(web.ingest_endpoint, "ingest_batch", broken)
    response = await post_bulk(client, token, [gateway_record(key)])

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "INTERNAL"
    assert "retry-after" not in response.headers


async def test_an_endpoint_failing_for_another_reason_is_not_turned_into_a_503(
    db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(authorization: str | None) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(web.authentication, "authenticate", broken)
    transport = httpx.ASGITransport(
        app=create_app(db, manage_database=False), raise_app_exceptions=False
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post("/graphql", json={"query": "{ viewer { role } }"})

    assert response.status_code == 500


class _UnreachableConnection:
    async def execute_query(self, sql: str) -> None:
        raise _refused()


async def test_healthz_reports_an_unreachable_database_as_503_with_retry_after(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web.app, "connection", _UnreachableConnection)
    response = await client.get("/healthz")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json() == {"status": "unavailable", "database": "unreachable", **UNAVAILABLE}
