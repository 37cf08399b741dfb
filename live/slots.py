"""Subscriptions open per token, bounded by AIZE_MAX_SUBSCRIPTIONS_PER_TOKEN.

Without `AIZE_REDIS_URL` each process counts its own (N workers let a token open N times
the limit). With it, every process counts in one Redis sorted set per token: one member per
open subscription, scored by the last heartbeat (Redis's own clock, so instances' clocks do
not matter). Each process re-scores its members every `ttl / 3` seconds; a member not
re-scored for `ttl` seconds (its process crashed or was killed) no longer counts and is
dropped by the next subscribe. A subscription that ends removes its member at once.

When Redis cannot be reached, subscribing falls back to this process's own count (its open
subscriptions, whichever way they were taken), logs a warning, and tries Redis again
`SHARED_RETRY_SECONDS` later; the heartbeat puts every open subscription back in Redis when
it answers again. There is no per-organization subscription limit to share.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import coredis
from coredis.exceptions import RedisError
from coredis.retry import NoRetryPolicy

log = logging.getLogger("aize.live")

Clock = Callable[[], float]

# As for the rate-limit budgets (graph/rate_limiter.py): a Redis that does not answer costs
# a subscribe at most this long, once per SHARED_RETRY_SECONDS.
REDIS_TIMEOUT_SECONDS = 0.5
SHARED_RETRY_SECONDS = 5.0
REDIS_KEY_PREFIX = "aize-live-slots"
_REDIS_FAILURES = (RedisError, OSError, TimeoutError)

# KEYS[1]: the token's set; ARGV: member, limit, ttl in ms. 1 taken, 0 refused (at limit).
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
return 1
"""
# KEYS: token sets, ARGV[1]: ttl in ms, ARGV[i + 1]: the member for KEYS[i]. Re-scores (or
# puts back, after a Redis restart or an outage) this process's open subscriptions.
_HEARTBEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[i + 1])
  redis.call('PEXPIRE', key, ARGV[1])
end
return #KEYS
"""


class TooManySubscriptions(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"This token already has {limit} subscriptions open (AIZE_MAX_SUBSCRIPTIONS_PER_TOKEN)"
        )


@dataclass(frozen=True, slots=True)
class Slot:
    """One open subscription of `token_id`; `member` names it in the token's Redis set."""

    token_id: int
    member: str


class SubscriptionSlots:
    """This process's open subscriptions per token, counted in Redis when configured."""

    def __init__(
        self,
        redis_url: str | None = None,
        *,
        ttl_seconds: float = 30.0,
        key_prefix: str = REDIS_KEY_PREFIX,
        clock: Clock = time.monotonic,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self._open: dict[int, set[Slot]] = {}
        self._redis: coredis.Redis[str] | None = None
        if redis_url is not None:
            self._redis = coredis.Redis.from_url(
                redis_url,
                decode_responses=True,
                retry_policy=NoRetryPolicy(),
                connect_timeout=REDIS_TIMEOUT_SECONDS,
                stream_timeout=REDIS_TIMEOUT_SECONDS,
            )
        self._key_prefix = key_prefix
        self._process = uuid.uuid4().hex
        self._numbers = itertools.count(1)
        self._clock = clock
        self._shared_retry_at = 0.0
        self._shared_down = False
        self._heartbeat: asyncio.Task[None] | None = None
        self._removals: set[asyncio.Task[None]] = set()
        self._take_script = None if self._redis is None else self._redis.register_script(_TAKE)
        self._beat_script = None if self._redis is None else self._redis.register_script(_HEARTBEAT)

    @property
    def is_shared(self) -> bool:
        """True while counts are kept in Redis (configured and reachable at last try)."""
        return self._redis is not None and not self._shared_down

    def open_for(self, token_id: int) -> int:
        """The token's subscriptions open in this process."""
        return len(self._open.get(token_id, ()))

    async def take(self, token_id: int, limit: int) -> Slot:
        """Count one more subscription for the token; raises TooManySubscriptions when it
        already has `limit` open (in every process sharing the Redis, else in this one)."""
        slot = Slot(token_id, f"{self._process}:{next(self._numbers)}")
        script = self._take_script
        taken: bool | None = None  # None: Redis not asked or not answering
        if script is not None and self._clock() >= self._shared_retry_at:
            try:
                answer = await script(
                    keys=[self._key(token_id)], args=[slot.member, limit, self._ttl_ms]
                )
                taken = answer == 1
            except _REDIS_FAILURES as exc:
                self._shared_failed(exc)
            else:
                self._shared_answered()
        if taken is None:
            taken = self.open_for(token_id) < limit
        if not taken:
            raise TooManySubscriptions(limit)
        self._open.setdefault(token_id, set()).add(slot)
        if script is not None and self._heartbeat is None:
            self._heartbeat = asyncio.create_task(self._beat(), name="aize-live-slots")
        return slot

    def give_back(self, slot: Slot) -> None:
        """The subscription ended: it stops counting here at once and in Redis as soon as
        the removal lands (else its entry expires after `ttl_seconds`)."""
        slots = self._open.get(slot.token_id)
        if slots is None or slot not in slots:
            return
        slots.discard(slot)
        if not slots:
            del self._open[slot.token_id]
        if self._redis is not None and not self._shared_down:
            task = asyncio.create_task(self._remove(slot))
            self._removals.add(task)
            task.add_done_callback(self._removals.discard)

    async def stop(self) -> None:
        """Stop the heartbeat; this process's entries expire unless removed first."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        if self._removals:
            await asyncio.gather(*self._removals, return_exceptions=True)

    async def beat(self) -> int:
        """Re-score every subscription open here (now); how many. Redis errors propagate."""
        script = self._beat_script
        assert script is not None
        slots = [slot for open_slots in self._open.values() for slot in open_slots]
        if not slots:
            return 0
        answer = await script(
            keys=[self._key(slot.token_id) for slot in slots],
            args=[self._ttl_ms, *(slot.member for slot in slots)],
        )
        return int(answer)  # type: ignore[arg-type]

    @property
    def _ttl_ms(self) -> int:
        return max(1, round(self.ttl_seconds * 1000))

    def _key(self, token_id: int) -> str:
        return f"{self._key_prefix}:token:{token_id}"

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.ttl_seconds / 3)
            try:
                await self.beat()
            except _REDIS_FAILURES as exc:
                self._shared_failed(exc)
            else:
                self._shared_answered()

    async def _remove(self, slot: Slot) -> None:
        assert self._redis is not None
        with contextlib.suppress(*_REDIS_FAILURES):  # the entry expires if this fails
            await self._redis.zrem(self._key(slot.token_id), [slot.member])

    def _shared_answered(self) -> None:
        if self._shared_down:
            self._shared_down = False
            log.warning("subscription limits: Redis answers again; counts are shared again")

    def _shared_failed(self, exc: BaseException) -> None:
        self._shared_retry_at = self._clock() + SHARED_RETRY_SECONDS
        if not self._shared_down:
            self._shared_down = True
            log.warning(
                "subscription limits: Redis cannot be reached (%s: %s); subscriptions per "
                "token are counted in this process until it answers (retried every %.0f s)",
                type(exc).__name__,
                exc,
                SHARED_RETRY_SECONDS,
            )
