"""Subscriptions per token counted in Redis (AIZE_REDIS_URL) by every process, robust to a
crashed process, and counted per process when Redis cannot be reached.

The first tests use two SubscriptionSlots for two processes on one real Redis, each test
under a key prefix of its own; the last starts two real `serve` processes on one Redis and
subscribes with the Python `gql` client. Redis must answer under CI; elsewhere these tests
skip with the reason when it does not.
"""

from __future__ import annotations

import asyncio
import logging

import coredis
import pytest
from gql.transport.exceptions import TransportQueryError

from live.slots import (
    REDIS_KEY_PREFIX,
    SHARED_RETRY_SECONDS,
    SubscriptionSlots,
    TooManySubscriptions,
)
from models.member import Role
from settings import Settings
from tests.factories import make_member, make_org, make_token
from tests.live_clients import Subscription, session
from tests.live_service import LiveServer, free_port
from tests.polling import until
from tests.redis_fixtures import (
    CLOSED_PORT_URL,
    REDIS_URL,
    Clock,
    key_prefix_fixture,
    reachable_redis,
)

CARDS = "subscription Cards { usage { totals { requests } } }"


key_prefix = key_prefix_fixture("aize-test-slots")


async def test_two_processes_share_a_tokens_subscription_limit(key_prefix: str) -> None:
    first = SubscriptionSlots(REDIS_URL, key_prefix=key_prefix)
    second = SubscriptionSlots(REDIS_URL, key_prefix=key_prefix)
    try:
        a = await first.take(7, 3)
        await first.take(7, 3)
        await second.take(7, 3)
        with pytest.raises(TooManySubscriptions, match="already has 3 subscriptions open"):
            await second.take(7, 3)
        # Another token has its own count.
        await second.take(8, 3)

        first.give_back(a)
        await first.stop()  # waits for the removal to land
        await second.take(7, 3)

        assert (first.open_for(7), second.open_for(7), second.open_for(8)) == (1, 2, 1)
        assert first.is_shared and second.is_shared
    finally:
        await first.stop()
        await second.stop()


async def test_a_crashed_processes_subscriptions_stop_counting_after_the_ttl(
    key_prefix: str,
) -> None:
    crashed = SubscriptionSlots(REDIS_URL, ttl_seconds=0.6, key_prefix=key_prefix)
    alive = SubscriptionSlots(REDIS_URL, ttl_seconds=0.6, key_prefix=key_prefix)
    try:
        await crashed.take(7, 2)
        await crashed.take(7, 2)
        await crashed.stop()  # no heartbeat and no removal: as after a SIGKILL
        with pytest.raises(TooManySubscriptions):
            await alive.take(7, 2)

        async def a_slot_frees() -> bool:
            try:
                await alive.take(7, 2)
            except TooManySubscriptions:
                return False
            return True

        await until("the crashed process's entries to expire", a_slot_frees)
        await alive.take(7, 2)
        # The heartbeat keeps the live process's entries past the TTL.
        client = await reachable_redis()
        key = f"{key_prefix}:token:7"
        members = await client.zrange(key, 0, -1)
        assert len(members) == 2
        await asyncio.wait_for(_beats_past(alive, client, key, members), 10)
        with pytest.raises(TooManySubscriptions):
            await alive.take(7, 2)
    finally:
        await alive.stop()


async def _beats_past(
    slots: SubscriptionSlots, client: coredis.Redis[str], key: str, members: list[str]
) -> None:
    """Wait until every member was re-scored later than the TTL after it was first seen."""
    first = {m: s for m, s in await client.zrange(key, 0, -1, withscores=True)}  # type: ignore[misc]
    ttl_ms = slots.ttl_seconds * 1000
    while True:
        now = {m: s for m, s in await client.zrange(key, 0, -1, withscores=True)}  # type: ignore[misc]
        if set(now) == set(members) and all(now[m] > first[m] + ttl_ms for m in members):
            return
        await asyncio.sleep(0.05)


async def test_without_redis_subscriptions_are_counted_per_process_and_it_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    slots = SubscriptionSlots(CLOSED_PORT_URL, key_prefix="unused", clock=clock)
    try:
        with caplog.at_level(logging.WARNING, logger="aize.live"):
            a = await slots.take(7, 2)
            await slots.take(7, 2)
            with pytest.raises(TooManySubscriptions):
                await slots.take(7, 2)
            clock.now += SHARED_RETRY_SECONDS  # Redis is tried again, and still refuses
            slots.give_back(a)
            await slots.take(7, 2)

        assert not slots.is_shared
        assert slots.open_for(7) == 2
        warnings = [r.getMessage() for r in caplog.records if r.name == "aize.live"]
        assert len(warnings) == 1
        assert warnings[0].startswith("subscription limits: Redis cannot be reached (")
        assert "counted in this process" in warnings[0]
    finally:
        await slots.stop()


def _error_code(failure: BaseException) -> str:
    assert isinstance(failure, TransportQueryError), repr(failure)
    assert failure.errors is not None
    return str(failure.errors[0].get("extensions", {}).get("code", failure.errors[0]["message"]))


async def _subscribed(subscription: Subscription) -> None:
    assert (await subscription.next())["usage"]["totals"]["requests"] == 0


async def test_the_limit_holds_across_two_service_processes_and_a_killed_ones_slots_free(
    db: Settings,
) -> None:
    client = await reachable_redis()
    token = await make_token(await make_member(await make_org(), Role.OWNER))
    env = {
        "AIZE_REDIS_URL": REDIS_URL,
        "AIZE_MAX_SUBSCRIPTIONS_PER_TOKEN": "3",
        "AIZE_SUBSCRIPTION_SLOT_TTL_SECONDS": "1",
    }
    # Token ids restart in every test database: drop what an earlier run left for them.
    await client.delete([f"{REDIS_KEY_PREFIX}:token:{i}" for i in range(1, 10)])
    first = LiveServer(db, free_port(), extra_env=env)
    second = LiveServer(db, free_port(), extra_env=env)
    await first.start()
    try:
        await second.start()
        async with session(first.ws_url, token) as on_first:
            opened = [Subscription(on_first, CARDS), Subscription(on_first, CARDS)]
            for subscription in opened:
                await _subscribed(subscription)
            async with session(second.ws_url, token) as on_second:
                third = Subscription(on_second, CARDS)
                await _subscribed(third)
                # Each process holds fewer than 3, together they hold 3: the 4th is refused.
                fourth = Subscription(on_second, CARDS)
                assert _error_code(await fourth.failure()) == "RATE_LIMITED"

                # The first process dies without closing anything: its two entries stop
                # counting once their heartbeat is a TTL old, and the second takes them.
                assert first.process is not None
                first.process.kill()
                await first.process.wait()
                for subscription in opened:
                    await subscription.cancel()
                retried: list[Subscription] = []

                async def a_slot_frees() -> bool:
                    attempt = Subscription(on_second, CARDS)
                    try:
                        await _subscribed(attempt)
                    except TransportQueryError as exc:
                        assert _error_code(exc) == "RATE_LIMITED"
                        return False
                    retried.append(attempt)
                    return True

                await until("the killed process's slots to expire", a_slot_frees)
                last = Subscription(on_second, CARDS)
                await _subscribed(last)
                over = Subscription(on_second, CARDS)
                assert _error_code(await over.failure()) == "RATE_LIMITED"
                for subscription in (third, *retried, last):
                    await subscription.cancel()
    finally:
        await second.stop()
        await first.stop()
