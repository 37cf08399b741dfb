"""Coalescing hubs (live/hub.py): one computation per interval whatever the notices, one
result shared by every subscriber of a key, slow subscribers reported, hubs gone with their
last subscriber; and the notices' payloads (live/notices.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from auth.viewer import Viewer
from graph.subscription import _shared_scope
from live.bus import LiveBus
from live.hub import Feed, HubRegistry, HubTiming, Subscriber
from live.notices import Notice, notices_for
from models.access_token import Scope as TokenScope
from models.member import Role
from resolvers.scope import Scope

DEADLINE_SECONDS = 10


class CountingFeed(Feed):
    """Answers the number of its computation and the oldest timestamp it was given."""

    replays_latest = True

    def __init__(self) -> None:
        self.calls: list[datetime | None] = []
        self.computed = asyncio.Event()

    async def compute(self, oldest: datetime | None, refresh: bool) -> Any:
        self.calls.append(oldest)
        self.computed.set()
        return (len(self.calls), oldest)


async def _next(subscriber: Subscriber) -> Any:
    async with asyncio.timeout(DEADLINE_SECONDS):
        return await subscriber.queue.get()


async def test_many_notices_make_one_computation_shared_by_every_subscriber() -> None:
    bus = LiveBus()
    hubs = HubRegistry(bus)
    feed = CountingFeed()
    timing = HubTiming(interval=0.5, refresh=60)
    first = Subscriber(8, lambda: None)
    second = Subscriber(8, lambda: None)
    hub = hubs.join("key", 7, lambda: feed, timing, first)
    assert hubs.join("key", 7, CountingFeed, timing, second) is hub
    initial = await _next(first)
    assert initial == (1, None)
    assert await _next(second) is initial
    older = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    for minute in range(50):
        bus.publish(Notice(7, older.replace(minute=minute)))
    bus.publish(Notice(8, datetime(2020, 1, 1, tzinfo=UTC)))  # another organization
    update = await _next(first)
    assert await _next(second) is update
    # Fifty notices within one interval: one computation, from the oldest they announced.
    assert update == (2, older)
    assert feed.calls == [None, older]


async def _settle() -> None:
    """Let every ready task run (a computation with nothing to await finishes in these)."""
    for _ in range(10):
        await asyncio.sleep(0)


async def test_a_notice_to_a_quiet_hub_is_computed_at_once() -> None:
    bus = LiveBus()
    hubs = HubRegistry(bus)
    feed = CountingFeed()
    subscriber = Subscriber(8, lambda: None)
    hub = hubs.join("key", 7, lambda: feed, HubTiming(interval=0.05, refresh=60), subscriber)
    assert await _next(subscriber) == (1, None)
    async with asyncio.timeout(DEADLINE_SECONDS):
        await hub.quiet.wait()  # its interval is over: nothing pending

    at = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    bus.publish(Notice(7, at))
    await _settle()

    # Leading edge: computed without waiting for any timer.
    assert feed.calls == [None, at]
    assert subscriber.queue.get_nowait() == (2, at)
    hub.remove(subscriber)


async def test_notices_within_an_interval_wait_for_its_end_and_are_computed_together() -> None:
    bus = LiveBus()
    hubs = HubRegistry(bus)
    feed = CountingFeed()
    subscriber = Subscriber(8, lambda: None)
    # An interval far longer than the test: nothing may be computed before it ends.
    hub = hubs.join("key", 7, lambda: feed, HubTiming(interval=3600, refresh=7200), subscriber)
    assert await _next(subscriber) == (1, None)
    for minute in range(3):
        bus.publish(Notice(7, datetime(2026, 1, 1, 12, minute, tzinfo=UTC)))
        await _settle()

    assert not hub.quiet.is_set()
    assert feed.calls == [None]
    assert subscriber.queue.empty()
    hub.remove(subscriber)


async def test_a_subscriber_that_does_not_read_is_reported_slow() -> None:
    overflows: list[str] = []
    subscriber = Subscriber(2, lambda: overflows.append("slow"))
    subscriber.offer("a")
    subscriber.offer("b")
    assert overflows == []
    subscriber.offer("c")
    assert overflows == ["slow"]
    assert subscriber.queue.qsize() == 2


async def test_the_last_subscriber_leaving_closes_the_hub() -> None:
    bus = LiveBus()
    hubs = HubRegistry(bus)
    feed = CountingFeed()
    subscriber = Subscriber(8, lambda: None)
    hub = hubs.join("key", 3, lambda: feed, HubTiming(0.1, 60), subscriber)
    await _next(subscriber)
    assert len(hubs) == 1
    hub.remove(subscriber)
    assert len(hubs) == 0
    assert bus.watching(3) == 0
    feed.computed.clear()
    bus.publish(Notice(3))
    assert feed.calls == [None]
    assert not feed.computed.is_set()


def test_notices_carry_the_organization_and_the_oldest_timestamp() -> None:
    at = datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=UTC)
    assert Notice(12, at).encode() == f"12:{round(at.timestamp() * 1_000_000)}"
    assert Notice.decode(Notice(12, at).encode()) == Notice(12, at)
    assert Notice.decode("12") == Notice(12, None)
    assert Notice.decode("not-a-notice") is None
    later = at.replace(hour=2)
    assert notices_for([(2, later), (1, later), (2, at)]) == [Notice(1, later), Notice(2, at)]


def _viewer(member_id: int, role: Role) -> Viewer:
    return Viewer(
        token_id=member_id,
        organization_id=5,
        member_id=member_id,
        role=role,
        scopes=frozenset({TokenScope.READ}),
    )


def test_admins_and_owners_share_a_hub_and_members_have_their_own() -> None:
    admin = Scope.for_viewer(_viewer(1, Role.ADMIN))
    owner = Scope.for_viewer(_viewer(2, Role.OWNER))
    member = Scope.for_viewer(_viewer(3, Role.MEMBER))
    other_member = Scope.for_viewer(_viewer(4, Role.MEMBER))
    assert _shared_scope(admin, only_mine=False) == _shared_scope(owner, only_mine=False)
    assert _shared_scope(member, only_mine=False) != _shared_scope(other_member, only_mine=False)
    assert _shared_scope(member, only_mine=False) != _shared_scope(admin, only_mine=False)
    # "My Logs Only" is the viewer's own: not shared between two Admins.
    assert _shared_scope(admin, only_mine=True) != _shared_scope(owner, only_mine=True)
