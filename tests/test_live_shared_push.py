"""One push, shared work: a hub's message is shaped once per viewer (live/hub.py's
`Hub.shared`), its selection executed once per operation, variables and viewer
(graph/library_executor.py's SharedResults), and its data encoded once (web/live_socket.py);
with real clients, subscribers sharing a push receive identical messages and role scoping
still holds."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any, cast

from auth.viewer import Viewer
from graph.context import Context
from graph.library_executor import LibraryExecutor, SharedResults
from live.bus import LiveBus
from live.hub import Feed, HubRegistry, HubTiming, Subscriber
from models.access_token import Scope as TokenScope
from models.member import Role
from tests.factories import make_ingest_token, make_key, make_member, make_org, make_token
from tests.ingest_support import gateway_record
from tests.live_clients import Subscription, session
from tests.live_service import LiveServer, live_server
from tests.test_live_subscriptions import LOGS, ingest

__all__ = ["live_server"]

DEADLINE_SECONDS = 10


class OneMessage(Feed):
    async def compute(self, oldest: object, refresh: bool) -> Any:
        return {"computed": True}


async def test_a_message_is_derived_once_per_key() -> None:
    hubs = HubRegistry(LiveBus())
    subscriber = Subscriber(8, lambda: None)
    hub = hubs.join("key", 7, OneMessage, HubTiming(interval=0.05, refresh=60), subscriber)
    async with asyncio.timeout(DEADLINE_SECONDS):
        message = await subscriber.queue.get()
    built: list[str] = []

    def build(name: str) -> Any:
        built.append(name)
        return [name]

    first = hub.shared(message, "owner", lambda: build("owner"))
    assert hub.shared(message, "owner", lambda: build("again")) is first
    other = hub.shared(message, "member", lambda: build("member"))
    assert other == ["member"]
    later = {"computed": True}  # an equal but distinct message is another push
    assert hub.shared(later, "owner", lambda: build("later")) == ["later"]
    assert built == ["owner", "member", "later"]
    hub.close()


def _viewer(member_id: int, role: Role) -> Viewer:
    return Viewer(
        token_id=member_id,
        organization_id=1,
        member_id=member_id,
        role=role,
        scopes=frozenset({TokenScope.READ}),
    )


def _executor(viewer: Viewer, operation: object, variables: dict[str, Any]) -> LibraryExecutor:
    context = Context(request=cast(Any, None), response=None, viewer=viewer)
    stub = SimpleNamespace(
        context_value=context,
        operation=operation,
        variable_values=SimpleNamespace(coerced=variables),
    )
    return cast(LibraryExecutor, stub)


async def test_results_are_shared_per_operation_variables_and_viewer() -> None:
    shared = SharedResults()
    operation = object()
    runs: list[str] = []

    def run(name: str, errors: list[str] | None = None) -> Any:
        runs.append(name)
        return SimpleNamespace(data={"by": name}, errors=errors)

    owner = _viewer(1, Role.OWNER)
    first = shared.execute(_executor(owner, operation, {"n": 1}), lambda: run("owner"))
    again = shared.execute(_executor(owner, operation, {"n": 1}), lambda: run("owner again"))
    assert again is first
    # Another viewer, other variables or another operation: their own execution.
    admin = shared.execute(
        _executor(_viewer(2, Role.ADMIN), operation, {"n": 1}), lambda: run("admin")
    )
    assert admin.data == {"by": "admin"}
    shared.execute(_executor(owner, operation, {"n": 2}), lambda: run("n=2"))
    shared.execute(_executor(owner, object(), {"n": 1}), lambda: run("other operation"))
    # A result with errors is each subscriber's own.
    member = _viewer(3, Role.MEMBER)
    shared.execute(_executor(member, operation, {}), lambda: run("failed", ["boom"]))
    shared.execute(_executor(member, operation, {}), lambda: run("failed again", ["boom"]))
    assert runs == ["owner", "admin", "n=2", "other operation", "failed", "failed again"]


async def test_an_awaited_result_is_shared_and_survives_a_leaving_subscriber() -> None:
    shared = SharedResults()
    operation = object()
    release = asyncio.Event()
    runs: list[int] = []

    async def slow() -> Any:
        runs.append(1)
        await release.wait()
        return SimpleNamespace(data={"n": 1}, errors=None)

    owner = _viewer(1, Role.OWNER)
    leaving = asyncio.ensure_future(shared.execute(_executor(owner, operation, {}), slow))
    staying = asyncio.ensure_future(shared.execute(_executor(owner, operation, {}), slow))
    await asyncio.sleep(0)
    leaving.cancel()
    release.set()
    async with asyncio.timeout(DEADLINE_SECONDS):
        result = await staying
    assert result.data == {"n": 1}
    assert leaving.cancelled()
    # Settled: a later subscriber of the same push gets the same result without running.
    later = shared.execute(_executor(owner, operation, {}), slow)
    assert later is result
    assert runs == [1]


async def test_subscribers_sharing_a_push_receive_identical_messages_in_their_scope(
    live_server: LiveServer,
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER, name="Olga")
    alice = await make_member(org, Role.MEMBER, name="Alice")
    owner_key = await make_key(org, owner, label="owner-key")
    alice_key = await make_key(org, alice, label="alice-key")
    gateway = await make_ingest_token(org)
    async with (
        session(live_server.ws_url, await make_token(owner)) as owner_live,
        session(live_server.ws_url, await make_token(alice)) as alice_live,
    ):
        # Two identical subscriptions of one viewer share one execution and one encoding.
        first = Subscription(owner_live, LOGS)
        second = Subscription(owner_live, LOGS)
        own = Subscription(alice_live, LOGS)
        owner_record = gateway_record(owner_key, model="gpt-4")
        alice_record = gateway_record(alice_key, model="gpt-4")
        await ingest(live_server, gateway, [owner_record, alice_record])
        seen: list[dict[str, Any]] = []
        while sum(len(m["requestLogs"]["logs"]) for m in seen) < 2:
            seen.append(await first.next())
        assert sorted(
            log["requestId"] for message in seen for log in message["requestLogs"]["logs"]
        ) == sorted([owner_record["requestId"], alice_record["requestId"]])
        for message in seen:
            assert await second.next() == message
        pushed = (await own.next())["requestLogs"]
        assert [log["requestId"] for log in pushed["logs"]] == [alice_record["requestId"]]
        assert pushed["logs"][0]["member"] == {"name": "Alice"}
        for subscription in (first, second, own):
            await subscription.cancel()
