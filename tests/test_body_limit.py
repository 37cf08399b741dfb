"""web.body_limit: /graphql requests over AIZE_MAX_REQUEST_BYTES are refused with HTTP 413,
before their body is read whole."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator

from models.member import Role
from settings import Settings
from tests.factories import make_member, make_org, make_token
from tests.http_clients import client_for
from web.app import create_app

LIMIT = 64 * 1024


def refusal(limit: int) -> dict[str, object]:
    message = (
        f"The request is larger than {limit} bytes (AIZE_MAX_REQUEST_BYTES); send large "
        "batches of request logs to POST /ingest/bulk."
    )
    return {
        "errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT", "limit": limit}}]
    }


async def _owner_headers() -> dict[str, str]:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def _body(size: int) -> bytes:
    """A valid request of exactly `size` bytes (a variable pads it)."""
    empty = json.dumps({"query": "{ viewer { role } }", "variables": {"pad": ""}}).encode()
    return json.dumps(
        {"query": "{ viewer { role } }", "variables": {"pad": "A" * (size - len(empty))}}
    ).encode()


async def test_a_body_of_exactly_the_limit_is_served(db: Settings) -> None:
    app = create_app(dataclasses.replace(db, max_request_bytes=LIMIT), manage_database=False)
    async with client_for(app) as http:
        body = _body(LIMIT)
        response = await http.post("/graphql", content=body, headers=await _owner_headers())

    assert len(body) == LIMIT
    assert response.status_code == 200
    assert response.json()["data"] == {"viewer": {"role": "OWNER"}}


async def test_a_body_announced_over_the_limit_is_refused_413(db: Settings) -> None:
    app = create_app(dataclasses.replace(db, max_request_bytes=LIMIT), manage_database=False)
    async with client_for(app) as http:
        response = await http.post(
            "/graphql", content=_body(LIMIT + 1), headers=await _owner_headers()
        )

    assert response.status_code == 413
    assert response.json() == refusal(LIMIT)


async def test_a_streamed_body_is_refused_once_past_the_limit_without_reading_the_rest(
    db: Settings,
) -> None:
    app = create_app(dataclasses.replace(db, max_request_bytes=LIMIT), manage_database=False)
    chunks_sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        # No Content-Length: the body arrives chunked, 100 chunks of 16 KiB.
        nonlocal chunks_sent
        for _ in range(100):
            chunks_sent += 1
            yield b" " * 16 * 1024

    async with client_for(app) as http:
        response = await http.post("/graphql", content=chunks(), headers=await _owner_headers())

    assert response.status_code == 413
    assert response.json() == refusal(LIMIT)
    # 64 KiB is passed by the 5th chunk; the rest is never read.
    assert chunks_sent == 5


async def test_a_query_string_over_the_limit_is_refused_413(db: Settings) -> None:
    # A small limit: httpx itself refuses URLs beyond 64 KiB.
    app = create_app(dataclasses.replace(db, max_request_bytes=4096), manage_database=False)
    query = "{ viewer { role } }" + "#" * 4096
    async with client_for(app) as http:
        response = await http.get(
            "/graphql", params={"query": query}, headers=await _owner_headers()
        )

    assert response.status_code == 413
    assert response.json() == refusal(4096)


def test_the_request_limit_defaults_to_one_mebibyte_and_is_read_from_the_environment() -> None:
    # Large batches go to /ingest/bulk (AIZE_BULK_MAX_BYTES); /graphql is refused at 1 MiB.
    assert Settings.from_env({}).max_request_bytes == 1024 * 1024
    assert Settings.from_env({"AIZE_MAX_REQUEST_BYTES": "100000"}).max_request_bytes == 100_000
