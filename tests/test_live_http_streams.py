"""Subscriptions over plain HTTP for where proxies block WebSockets: multipart
subscriptions and server-sent events, with the same token header, scope and checks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from auth.tokens import revoke_token
from models.access_token import AccessToken
from models.member import Role
from tests.factories import make_ingest_token, make_key, make_member, make_org, make_token
from tests.ingest_support import gateway_record, post_bulk
from tests.live_clients import MESSAGE_DEADLINE_SECONDS
from tests.live_service import LiveServer, live_server

__all__ = ["live_server"]

CARDS = "subscription Cards { usage { totals { requests customerCost } } }"
MULTIPART = 'multipart/mixed;subscriptionSpec="1.0",application/json'


async def _multipart_payloads(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """The JSON payload of each part (heartbeats, which are `{}`, skipped)."""
    buffer = ""
    async for chunk in response.aiter_text():
        buffer += chunk
        while "\r\n--graphql" in buffer:
            part, buffer = buffer.split("\r\n--graphql", 1)
            body = part.split("\r\n\r\n", 1)[-1].strip()
            if body.startswith("{"):
                data = json.loads(body)
                if data:
                    yield data


async def _sse_events(response: httpx.Response) -> AsyncIterator[tuple[str, str]]:
    event = ""
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield event, line.removeprefix("data: ")


async def test_multipart_subscription_pushes_cards(live_server: LiveServer) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    headers = {"Authorization": f"Bearer {await make_token(owner)}", "Accept": MULTIPART}
    async with (
        httpx.AsyncClient(base_url=live_server.http_url, timeout=30) as http,
        http.stream("POST", "/graphql", json={"query": CARDS}, headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("multipart/mixed")
        parts = _multipart_payloads(response)
        async with asyncio.timeout(MESSAGE_DEADLINE_SECONDS):
            first = await anext(parts)
        assert first["payload"]["data"]["usage"]["totals"] == {
            "requests": 0,
            "customerCost": "0.00",
        }
        async with httpx.AsyncClient(base_url=live_server.http_url) as ingest:
            sent = await post_bulk(ingest, await make_ingest_token(org), [gateway_record(key)])
        assert sent.status_code == 200
        async with asyncio.timeout(MESSAGE_DEADLINE_SECONDS):
            second = await anext(parts)
        assert second["payload"]["data"]["usage"]["totals"] == {
            "requests": 1,
            "customerCost": "0.06",
        }


async def test_server_sent_events_subscription_and_revocation(live_server: LiveServer) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    headers = {
        "Authorization": f"Bearer {await make_token(owner)}",
        "Accept": "text/event-stream",
    }
    async with (
        httpx.AsyncClient(base_url=live_server.http_url, timeout=30) as http,
        http.stream("POST", "/graphql", json={"query": CARDS}, headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _sse_events(response)
        async with asyncio.timeout(MESSAGE_DEADLINE_SECONDS):
            kind, data = await anext(events)
        assert kind == "next"
        assert json.loads(data)["data"]["usage"]["totals"]["requests"] == 0
        stored = await AccessToken.get(organization_id=org.id, member_id=owner.id)
        revoked_at = datetime.now(UTC)
        await revoke_token(str(stored.id))
        async with asyncio.timeout(MESSAGE_DEADLINE_SECONDS):
            kind, data = await anext(events)
        assert datetime.now(UTC) - revoked_at < timedelta(seconds=5)
        assert kind == "next"
        errors = json.loads(data)["errors"]
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"
        assert "revoked" in errors[0]["message"]


async def test_http_subscription_without_a_token_is_refused(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.http_url) as http:
        response = await http.post(
            "/graphql", json={"query": CARDS}, headers={"Accept": "text/event-stream"}
        )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_subscription_without_a_stream_is_a_clear_400(live_server: LiveServer) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    async with httpx.AsyncClient(base_url=live_server.http_url) as http:
        response = await http.post(
            "/graphql",
            json={"query": CARDS},
            headers={"Authorization": f"Bearer {await make_token(owner)}"},
        )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("A subscription needs a stream")
