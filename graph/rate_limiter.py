"""Per-token query budget: a leaky bucket of cost points that refills continuously.

Each access token has a bucket holding up to `capacity` points; it refills at
`refill_per_second` points per second, and every GraphQL request takes its query cost out
of it. A request that costs more than the bucket holds is refused (RATE_LIMITED) and takes
nothing. Once a request has run, its charge is settled to its actual cost.

The buckets live in this process's memory. Every replica (and every uvicorn worker) keeps its
own buckets, so a token's effective budget is `capacity` times the number of processes its
requests are spread over; SECURITY.md says so. The state is tiny and rebuilt from nothing
on restart (a restart refills every bucket).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]

# Full buckets carry no information (a missing bucket is a full one); they are swept
# once the table grows past this many entries, so memory follows the active tokens only.
_SWEEP_THRESHOLD = 10_000


@dataclass(frozen=True, slots=True)
class BudgetState:
    """A token's bucket as headers report it: points and whole seconds."""

    limit: int
    remaining: int
    # Seconds until the bucket is full again.
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        """The x-ratelimit-* response headers."""
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset_seconds),
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of asking for points: allowed or not, the bucket after, when to retry."""

    allowed: bool
    state: BudgetState
    # Seconds until the asked-for points are available (0 when allowed).
    retry_after_seconds: int


@dataclass(slots=True)
class _Bucket:
    points: float
    updated_at: float


class TokenRateLimiter:
    """Leaky buckets of cost points, one per access token id."""

    def __init__(
        self, capacity: int, refill_per_second: float, clock: Clock = time.monotonic
    ) -> None:
        if capacity < 1 or refill_per_second <= 0:
            raise ValueError("capacity and refill rate must be positive")
        self.capacity = capacity
        self.refill_per_second = refill_per_second
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def try_consume(self, token_id: int, points: int) -> Decision:
        """Take `points` from the token's bucket if it holds them; never partially."""
        now = self._clock()
        bucket = self._current(token_id, now)
        points = max(points, 0)
        if points <= bucket.points:
            bucket.points -= points
            return Decision(True, self._state(bucket), 0)
        missing = points - bucket.points
        retry_after = math.ceil(missing / self.refill_per_second)
        return Decision(False, self._state(bucket), max(retry_after, 1))

    def settle(self, token_id: int, charged: int, actual: int) -> BudgetState:
        """Correct a charge once the actual cost is known: give back what went unused, or
        take what it cost beyond the charge. The extra is taken even from an empty bucket
        (the token then owes it, and waits longer); a refund never fills beyond capacity."""
        bucket = self._current(token_id, self._clock())
        bucket.points = min(float(self.capacity), bucket.points + (charged - actual))
        return self._state(bucket)

    def peek(self, token_id: int) -> BudgetState:
        """The token's bucket now, without taking anything."""
        return self._state(self._current(token_id, self._clock()))

    @property
    def tracked_tokens(self) -> int:
        """How many tokens have a bucket in memory (tokens with a full bucket may not)."""
        return len(self._buckets)

    def _current(self, token_id: int, now: float) -> _Bucket:
        bucket = self._buckets.get(token_id)
        if bucket is None:
            if len(self._buckets) >= _SWEEP_THRESHOLD:
                self._sweep(now)
            bucket = self._buckets[token_id] = _Bucket(float(self.capacity), now)
            return bucket
        elapsed = max(now - bucket.updated_at, 0.0)
        bucket.points = min(float(self.capacity), bucket.points + elapsed * self.refill_per_second)
        bucket.updated_at = now
        return bucket

    def _sweep(self, now: float) -> None:
        for token_id in list(self._buckets):
            bucket = self._buckets[token_id]
            refilled = bucket.points + (now - bucket.updated_at) * self.refill_per_second
            if refilled >= self.capacity:
                del self._buckets[token_id]

    def _state(self, bucket: _Bucket) -> BudgetState:
        missing = self.capacity - bucket.points
        return BudgetState(
            limit=self.capacity,
            remaining=max(math.floor(bucket.points), 0),
            reset_seconds=math.ceil(missing / self.refill_per_second) if missing > 0 else 0,
        )
