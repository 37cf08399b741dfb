"""Query budgets per token and per organization, kept by the `limits` library.

Every authenticated request pays two budgets: its token's and its organization's (shared by
all the organization's tokens and members). Ingest tokens pay an ingest budget of their own
and the organization's ingest budget, so dashboards cannot starve the gateway nor the
gateway the dashboards. A request runs only if both budgets can pay for it.

Each budget is the library's sliding window counter: at most `capacity` points per window of
`AIZE_RATE_LIMIT_CAPACITY / AIZE_RATE_LIMIT_REFILL_PER_SECOND` seconds, points spent in one
window coming back gradually over the next (graph/rate_window.py). The library has no
refunds: a request pays what it was charged before running.

Without `AIZE_REDIS_URL` the counters live in this process's memory (N uvicorn workers keep
N sets of budgets). With it, every worker and replica shares them in Redis. When Redis
cannot be reached the limiter falls back to this process's memory, logs a warning, and
tries Redis again `SHARED_RETRY_SECONDS` later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError

from auth.viewer import Viewer
from graph.rate_window import BudgetState, SlidingWindow
from settings import Settings

log = logging.getLogger("aize.rate_limit")

Clock = Callable[[], float]
T = TypeVar("T")

# Redis answers in well under a millisecond on the same network; one that does not answer
# within this costs each request at most this long, once per SHARED_RETRY_SECONDS.
REDIS_TIMEOUT_SECONDS = 0.5
SHARED_RETRY_SECONDS = 5.0
REDIS_KEY_PREFIX = "aize-ratelimit"


class BudgetKind(StrEnum):
    TOKEN = "token"
    ORGANIZATION = "organization"
    INGEST_TOKEN = "ingest-token"
    INGEST_ORGANIZATION = "ingest-organization"


@dataclass(frozen=True, slots=True)
class Budget:
    """One budget: whose it is and how many points it holds per window."""

    kind: BudgetKind
    owner_id: int
    capacity: int

    @property
    def payer(self) -> str:
        """Who pays, as error messages say it."""
        if self.kind in (BudgetKind.TOKEN, BudgetKind.INGEST_TOKEN):
            return "the token"
        return "the organization"


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The budgets' sizes and their common window."""

    token_capacity: int
    organization_capacity: int
    ingest_capacity: int
    window_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        return cls(
            token_capacity=settings.rate_limit_capacity,
            organization_capacity=settings.rate_limit_org_capacity,
            ingest_capacity=settings.rate_limit_ingest_capacity,
            window_seconds=settings.rate_limit_window_seconds,
        )

    def budgets_for(self, viewer: Viewer) -> tuple[Budget, Budget]:
        """The token's budget and its organization's, in the order they are charged."""
        if viewer.member_id is None:  # an ingest service token
            return (
                Budget(BudgetKind.INGEST_TOKEN, viewer.token_id, self.ingest_capacity),
                Budget(
                    BudgetKind.INGEST_ORGANIZATION, viewer.organization_id, self.ingest_capacity
                ),
            )
        return (
            Budget(BudgetKind.TOKEN, viewer.token_id, self.token_capacity),
            Budget(BudgetKind.ORGANIZATION, viewer.organization_id, self.organization_capacity),
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of a charge: allowed or not, the budget headers report, when to retry."""

    allowed: bool
    # The tighter budget after the charge (the refusing one when refused).
    state: BudgetState
    # Whose budget `state` is: "the token" or "the organization".
    payer: str
    # Seconds until the asked-for points are available in every budget (0 when allowed).
    retry_after_seconds: int


@dataclass(frozen=True, slots=True)
class _Store:
    """Where counters live, and the library's strategy over them."""

    storage: MemoryStorage | RedisStorage
    strategy: SlidingWindowCounterRateLimiter


def _store(storage: MemoryStorage | RedisStorage) -> _Store:
    return _Store(storage, SlidingWindowCounterRateLimiter(storage))


class RateLimiter:
    """Charges requests to their token's and organization's budgets."""

    def __init__(
        self,
        limits: RateLimits,
        redis_url: str | None = None,
        *,
        key_prefix: str = REDIS_KEY_PREFIX,
        clock: Clock = time.monotonic,
    ) -> None:
        self.limits = limits
        self._memory = _store(MemoryStorage())
        self._shared: _Store | None = None
        if redis_url is not None:
            storage = RedisStorage(
                f"async+{redis_url}",
                wrap_exceptions=True,
                key_prefix=key_prefix,
                connect_timeout=REDIS_TIMEOUT_SECONDS,
                stream_timeout=REDIS_TIMEOUT_SECONDS,
            )
            self._shared = _store(storage)
        self._clock = clock
        self._shared_retry_at = 0.0
        self._shared_down = False

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter:
        return cls(RateLimits.from_settings(settings), settings.redis_url)

    @property
    def is_shared(self) -> bool:
        """True while budgets are kept in Redis (configured and reachable at last try)."""
        return self._shared is not None and not self._shared_down

    async def charge(self, viewer: Viewer, points: int) -> Decision:
        """Take `points` from both of the viewer's budgets if both hold them; else neither
        (but for a race with another request, which may leave the token's charged)."""
        budgets = self.limits.budgets_for(viewer)
        return await self._run(lambda store: self._charge(store, budgets, max(points, 1)))

    async def charge_what_fits(self, viewer: Viewer, points: int = 1) -> BudgetState:
        """Take `points` from each budget, or all it holds when it holds fewer, for a
        request answered whatever the budgets hold (refused before running, or costlier
        than charged); the tighter budget after."""
        budgets = self.limits.budgets_for(viewer)
        return await self._run(lambda store: self._take_what_fits(store, budgets, points))

    async def check(self, viewer: Viewer, points: int) -> Decision:
        """Whether both of the viewer's budgets hold `points` now (or, a budget smaller than
        that, all of its capacity), taking nothing: the gate a request passes before any
        work is done on it, when its own cost is not known yet."""
        budgets = self.limits.budgets_for(viewer)
        return await self._run(lambda store: self._check(store, budgets, max(points, 1)))

    async def peek(self, viewer: Viewer) -> BudgetState:
        """The tighter of the viewer's budgets now, without taking anything."""
        budgets = self.limits.budgets_for(viewer)
        return await self._run(lambda store: self._peek(store, budgets))

    async def _charge(self, store: _Store, budgets: tuple[Budget, Budget], points: int) -> Decision:
        windows = await self._windows(store, budgets)
        if all(window.remaining >= points for window in windows):
            if await self._hit_all(store, budgets, points):
                after = [window.after(points) for window in windows]
                budget, window = _tightest(budgets, after)
                return Decision(True, window.state(), budget.payer, 0)
            # Another request took the points between reading and hitting: read again.
            windows = await self._windows(store, budgets)
        return _refusal(budgets, windows, points)

    async def _check(self, store: _Store, budgets: tuple[Budget, Budget], points: int) -> Decision:
        windows = await self._windows(store, budgets)
        needed = [min(points, budget.capacity) for budget in budgets]
        if all(w.remaining >= n for w, n in zip(windows, needed, strict=True)):
            budget, window = _tightest(budgets, windows)
            return Decision(True, window.state(), budget.payer, 0)
        waits = [w.pays_in(n) for w, n in zip(windows, needed, strict=True)]
        refusing = max(range(len(budgets)), key=lambda i: waits[i])
        return Decision(
            False, windows[refusing].state(), budgets[refusing].payer, max(waits[refusing], 1)
        )

    async def _hit_all(self, store: _Store, budgets: tuple[Budget, Budget], points: int) -> bool:
        for budget in budgets:
            if not await store.strategy.hit(self._item(budget), *_identifiers(budget), cost=points):
                return False
        return True

    async def _take_what_fits(
        self, store: _Store, budgets: tuple[Budget, Budget], points: int
    ) -> BudgetState:
        # Each budget gives what it holds, up to `points`: a refusal charged more than is
        # left spends the budget to 0 (and the next request meets the gate), never nothing.
        windows = await self._windows(store, budgets)
        for budget, window in zip(budgets, windows, strict=True):
            take = min(points, window.takeable)
            if take > 0:
                await store.strategy.hit(self._item(budget), *_identifiers(budget), cost=take)
        return await self._peek(store, budgets)

    async def _peek(self, store: _Store, budgets: tuple[Budget, Budget]) -> BudgetState:
        windows = await self._windows(store, budgets)
        return _tightest(budgets, windows)[1].state()

    async def _windows(self, store: _Store, budgets: tuple[Budget, Budget]) -> list[SlidingWindow]:
        windows = []
        for budget in budgets:
            item = self._item(budget)
            # The storage's own read of the two counters the strategy decides on.
            counters = await store.storage.get_sliding_window(
                item.key_for(*_identifiers(budget)), item.get_expiry()
            )
            windows.append(SlidingWindow(budget.capacity, item.get_expiry(), *counters))
        return windows

    def _item(self, budget: Budget) -> RateLimitItem:
        return RateLimitItemPerSecond(budget.capacity, self.limits.window_seconds, namespace="aize")

    async def _run(self, operation: Callable[[_Store], Awaitable[T]]) -> T:
        """Run on Redis when configured and reachable, else on this process's memory."""
        shared = self._shared
        if shared is not None and self._clock() >= self._shared_retry_at:
            try:
                result = await operation(shared)
            except (StorageError, OSError) as exc:
                self._shared_failed(exc)
            else:
                if self._shared_down:
                    self._shared_down = False
                    log.warning("rate limits: Redis answers again; budgets are shared again")
                return result
        return await operation(self._memory)

    def _shared_failed(self, exc: BaseException) -> None:
        self._shared_retry_at = self._clock() + SHARED_RETRY_SECONDS
        if not self._shared_down:
            self._shared_down = True
            log.warning(
                "rate limits: Redis cannot be reached (%s: %s); budgets are kept in this "
                "process's memory until it answers (retried every %.0f s)",
                type(exc).__name__,
                exc,
                SHARED_RETRY_SECONDS,
            )


def _refusal(budgets: tuple[Budget, Budget], windows: list[SlidingWindow], points: int) -> Decision:
    """A refused charge: the budget that makes the request wait longest, and how long."""
    waits = [window.pays_in(points) for window in windows]
    refusing = max(range(len(budgets)), key=lambda i: waits[i])
    return Decision(
        False, windows[refusing].state(), budgets[refusing].payer, max(waits[refusing], 1)
    )


def _identifiers(budget: Budget) -> tuple[str, str]:
    return budget.kind.value, str(budget.owner_id)


def _tightest(
    budgets: tuple[Budget, Budget], windows: list[SlidingWindow]
) -> tuple[Budget, SlidingWindow]:
    """The budget with the fewest points left (on a tie, the one full again later)."""
    pairs = list(zip(budgets, windows, strict=True))
    return min(pairs, key=lambda pair: (pair[1].remaining, -pair[1].state().reset_seconds))
