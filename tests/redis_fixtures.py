"""A real Redis for tests that share state through it (AIZE_TEST_REDIS_URL): under CI it
must answer; elsewhere a test that needs it skips, saying why. Each test gets a key prefix
of its own, deleted after, so tests never share counters."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable

import coredis
import pytest

REDIS_URL = os.environ.get("AIZE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = bool(os.environ.get("CI"))
# Nothing listens on port 1: connections are refused at once.
CLOSED_PORT_URL = "redis://127.0.0.1:1/0"


async def reachable_redis() -> coredis.Redis[str]:
    """A client of REDIS_URL that answered a PING (else the test fails under CI, skips
    elsewhere)."""
    client: coredis.Redis[str] = coredis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        await client.ping()
    except (coredis.exceptions.RedisError, OSError) as exc:
        message = f"Redis is not reachable at {REDIS_URL}: {exc}"
        if IN_CI:
            pytest.fail(f"{message} (required under CI)")
        pytest.skip(message)
    return client


def key_prefix_fixture(stem: str) -> Callable[[], AsyncIterator[str]]:
    """A `key_prefix` fixture: `stem` and a random suffix, in a reachable Redis; the keys under
    it are deleted after the test. Assign it in the test module: `key_prefix = ...`."""

    @pytest.fixture(name="key_prefix")
    async def key_prefix() -> AsyncIterator[str]:
        client = await reachable_redis()
        prefix = f"{stem}-{uuid.uuid4().hex}"
        try:
            yield prefix
        finally:
            keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
            if keys:
                await client.delete(keys)

    return key_prefix


class Clock:
    """A monotonic clock a test moves by hand: `clock.now += 30`."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now
