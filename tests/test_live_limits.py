"""Subscription limits against a real server: per token and per connection, message size,
keep-alive and idle timeouts, and subscriptions outliving the per-request timeout."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import websockets
from gql.transport.exceptions import TransportQueryError

from models.member import Role
from settings import Settings
from tests.factories import make_ingest_token, make_key, make_member, make_org, make_token
from tests.ingest_support import gateway_record, post_bulk
from tests.live_clients import MESSAGE_DEADLINE_SECONDS, Subscription, session
from tests.live_service import LiveServer, free_port

CARDS = "subscription Cards { usage { totals { requests } } }"
LIMITED_ENV = {
    "AIZE_MAX_SUBSCRIPTIONS_PER_TOKEN": "3",
    "AIZE_MAX_SUBSCRIPTIONS_PER_CONNECTION": "2",
    "AIZE_MAX_SUBSCRIPTION_MESSAGE_BYTES": "4096",
    "AIZE_SUBSCRIPTION_IDLE_SECONDS": "1",
    "AIZE_SUBSCRIPTION_KEEPALIVE_SECONDS": "0.5",
    "AIZE_REQUEST_TIMEOUT_SECONDS": "1",
}


@pytest.fixture
async def limited_server(db: Settings) -> AsyncIterator[LiveServer]:
    server = LiveServer(db, free_port(), extra_env=LIMITED_ENV)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def _owner_token() -> tuple[str, str, object]:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    return await make_token(owner), await make_ingest_token(org), key


async def _raw_connection(server: LiveServer, token: str) -> websockets.ClientConnection:
    conn = await websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    await conn.send(
        json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    )
    async with asyncio.timeout(MESSAGE_DEADLINE_SECONDS):
        assert json.loads(await conn.recv()) == {"type": "connection_ack"}
    return conn


async def _closed_with(conn: websockets.ClientConnection) -> tuple[int, str]:
    """Read (answering pings? no) until the server closes; its close code and reason."""
    async with asyncio.timeout(MESSAGE_DEADLINE_SECONDS):
        await conn.wait_closed()
    assert conn.close_code is not None
    return conn.close_code, conn.close_reason or ""


def _error_code(failure: BaseException) -> str:
    assert isinstance(failure, TransportQueryError), repr(failure)
    assert failure.errors is not None
    return str(failure.errors[0].get("extensions", {}).get("code", failure.errors[0]["message"]))


async def test_subscriptions_per_token_and_per_connection_are_bounded(
    limited_server: LiveServer,
) -> None:
    token, _, _ = await _owner_token()
    async with (
        session(limited_server.ws_url, token) as first,
        session(limited_server.ws_url, token) as second,
    ):
        a = Subscription(first, CARDS)
        b = Subscription(first, CARDS)
        await a.next()
        await b.next()
        # A third on the same connection: over AIZE_MAX_SUBSCRIPTIONS_PER_CONNECTION (2).
        third = Subscription(first, CARDS)
        failure = await third.failure()
        assert isinstance(failure, TransportQueryError)
        assert "Subscription limit reached" in str(failure)
        c = Subscription(second, CARDS)
        await c.next()
        # A fourth for the token, on another connection: over the token's 3.
        fourth = Subscription(second, CARDS)
        assert _error_code(await fourth.failure()) == "RATE_LIMITED"
        # Ending one gives its slot back.
        await a.cancel()
        again = Subscription(second, CARDS)
        for _ in range(3):
            try:
                await again.next()
                break
            except TransportQueryError:
                # The server may not have seen `complete` yet: ask again.
                again = Subscription(second, CARDS)
        else:
            raise AssertionError("the freed slot was never given back")
        for subscription in (b, c, again):
            await subscription.cancel()


async def test_a_message_over_the_byte_limit_closes_with_1009(limited_server: LiveServer) -> None:
    token, _, _ = await _owner_token()
    conn = await _raw_connection(limited_server, token)
    big = {"id": "1", "type": "subscribe", "payload": {"query": CARDS + " " * 5000}}
    await conn.send(json.dumps(big))
    code, reason = await _closed_with(conn)
    assert code == 1009
    assert "4096 bytes" in reason


async def test_keepalive_pings_and_a_silent_client_is_closed(limited_server: LiveServer) -> None:
    token, _, _ = await _owner_token()
    conn = await _raw_connection(limited_server, token)
    await conn.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": CARDS}}))
    kinds: list[str] = []
    # Never answering the server's pings: closed after two keep-alive intervals.
    async with asyncio.timeout(MESSAGE_DEADLINE_SECONDS):
        try:
            while True:
                kinds.append(json.loads(await conn.recv())["type"])
        except websockets.ConnectionClosed:
            pass
    assert "ping" in kinds
    assert kinds[0] == "next"
    assert conn.close_code == 1000
    assert conn.close_reason == "No answer to keep-alive pings"


async def test_a_connection_without_subscriptions_is_closed_when_idle(
    limited_server: LiveServer,
) -> None:
    token, _, _ = await _owner_token()
    conn = await _raw_connection(limited_server, token)
    code, reason = await _closed_with(conn)
    assert (code, reason) == (1000, "Idle: no subscription open")


async def test_a_subscription_outlives_the_request_timeout(limited_server: LiveServer) -> None:
    token, gateway, key = await _owner_token()
    started = time.monotonic()
    async with session(limited_server.ws_url, token) as live:
        cards = Subscription(live, CARDS)
        assert (await cards.next())["usage"]["totals"]["requests"] == 0
        sent = 0
        # Round trips until well past AIZE_REQUEST_TIMEOUT_SECONDS (1 s): each one ingests
        # and waits for the push, so the subscription must keep working past the timeout.
        async with httpx.AsyncClient(base_url=limited_server.http_url) as http:
            while time.monotonic() - started < 3:
                response = await post_bulk(http, gateway, [gateway_record(key)])  # type: ignore[arg-type]
                assert response.status_code == 200
                sent += 1
                while (await cards.next())["usage"]["totals"]["requests"] != sent:
                    pass
        await cards.cancel()
    assert sent >= 2


@pytest.fixture
async def tight_budget_server(db: Settings) -> AsyncIterator[LiveServer]:
    # A budget of 100 points refilled at 1 point/s: a few subscribes spend it.
    env = {
        "AIZE_MAX_QUERY_COST": "100",
        "AIZE_RATE_LIMIT_CAPACITY": "100",
        "AIZE_MAX_EXPORT_COST": "100",
        "AIZE_RATE_LIMIT_REFILL_PER_SECOND": "1",
        "AIZE_RATE_LIMIT_ORG_CAPACITY": "100",
    }
    server = LiveServer(db, free_port(), extra_env=env)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_subscribing_is_charged_to_the_rate_budget(tight_budget_server: LiveServer) -> None:
    token, _, _ = await _owner_token()
    opened: list[Subscription] = []
    async with session(tight_budget_server.ws_url, token) as live:
        refusal = None
        for _ in range(101):
            subscription = Subscription(live, CARDS)
            try:
                await subscription.next()
            except TransportQueryError as exc:
                refusal = exc
                break
            opened.append(subscription)
            # Over the connection's 20: end each one (its slot is given back).
            await subscription.cancel()
        assert refusal is not None, "subscribing never spent the budget"
        assert _error_code(refusal) == "RATE_LIMITED"
        # Each subscribe cost at least one point of the 100.
        assert 1 <= len(opened) <= 100
