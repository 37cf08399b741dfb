"""The `graphql-ws` npm client (what browsers and Node dashboards use) against a real
server: role scoping, tenant isolation, and a worker restart the client reconnects through.

The client's packages are installed into tests/live_node by `npm ci` when missing (Node 20
and npm are on the CI machines); never skipped."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from models.member import Role
from tests.factories import make_ingest_token, make_key, make_member, make_org, make_token
from tests.ingest_support import gateway_record, post_bulk
from tests.live_clients import MESSAGE_DEADLINE_SECONDS
from tests.live_service import LiveServer, live_server

__all__ = ["live_server"]

NODE_CLIENT = Path(__file__).resolve().parent / "live_node"
LOGS = "subscription Logs { requestLogs { logs { requestId member { name } } } }"
CARDS = "subscription Cards { usage { totals { requests customerCost } } }"


@pytest.fixture(scope="session")
def node_client() -> Path:
    """tests/live_node with its node_modules (installed from the lock file if missing)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "Node 20 and npm are required for the graphql-ws client tests"
    if not (NODE_CLIENT / "node_modules" / "graphql-ws").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_CLIENT, check=True, timeout=300
        )
    return NODE_CLIENT / "client.mjs"


class NodeSubscription:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def event(self, kind: str) -> dict[str, Any]:
        """The next event of that kind (others are skipped), within the deadline."""
        assert self.process.stdout is not None
        async with asyncio.timeout(MESSAGE_DEADLINE_SECONDS):
            while True:
                line = await self.process.stdout.readline()
                assert line, "the Node client exited"
                event: dict[str, Any] = json.loads(line)
                if event["event"] == kind:
                    return event
                if event["event"] == "error":
                    raise AssertionError(f"subscription failed: {event}")


@asynccontextmanager
async def node_subscription(
    script: Path, server: LiveServer, token: str, query: str
) -> AsyncIterator[NodeSubscription]:
    process = await asyncio.create_subprocess_exec(
        "node", str(script), server.ws_url, token, query, stdout=asyncio.subprocess.PIPE
    )
    try:
        yield NodeSubscription(process)
    finally:
        process.kill()
        await process.wait()


async def _ingest(server: LiveServer, token: str, records: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        response = await post_bulk(http, token, records)
    assert response.status_code == 200, response.text


async def test_node_client_member_sees_only_own_logs_and_nothing_of_other_tenants(
    node_client: Path, live_server: LiveServer
) -> None:
    org = await make_org()
    other = await make_org()
    alice = await make_member(org, Role.MEMBER, name="Alice")
    bob = await make_member(org, Role.MEMBER, name="Bob")
    stranger = await make_member(other, Role.OWNER, name="Stranger")
    alice_key = await make_key(org, alice)
    bob_key = await make_key(org, bob)
    stranger_key = await make_key(other, stranger)
    async with node_subscription(node_client, live_server, await make_token(alice), LOGS) as logs:
        await logs.event("connected")
        await _ingest(live_server, await make_ingest_token(other), [gateway_record(stranger_key)])
        await _ingest(live_server, await make_ingest_token(org), [gateway_record(bob_key)])
        own = gateway_record(alice_key)
        await _ingest(live_server, await make_ingest_token(org), [own])
        pushed = (await logs.event("next"))["payload"]["data"]["requestLogs"]["logs"]
        assert pushed == [{"requestId": own["requestId"], "member": {"name": "Alice"}}]


async def test_node_client_reconnects_through_a_worker_restart(
    node_client: Path, live_server: LiveServer
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    gateway = await make_ingest_token(org)
    async with node_subscription(node_client, live_server, await make_token(owner), CARDS) as cards:
        await cards.event("connected")
        first = (await cards.event("next"))["payload"]["data"]["usage"]["totals"]
        assert first == {"requests": 0, "customerCost": "0.00"}
        await live_server.stop()
        await cards.event("closed")
        await live_server.start()
        await cards.event("connected")
        # The new worker's hub sends the current cards, then the next change.
        assert (await cards.event("next"))["payload"]["data"]["usage"]["totals"]["requests"] == 0
        await _ingest(live_server, gateway, [gateway_record(key), gateway_record(key)])
        after = (await cards.event("next"))["payload"]["data"]["usage"]["totals"]
        assert after == {"requests": 2, "customerCost": "0.12"}
