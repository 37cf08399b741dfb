"""Coalescing hubs: one per (feed, organization, filter, scope) key in each process.

A hub computes its feed at most once per interval, whatever the number of notices and
subscribers, and offers the one result to every subscriber. Each subscriber has a small
queue; a subscriber whose queue is full (a client not reading) is told it is too slow and
its connection is closed by the caller's `on_overflow`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from live.bus import LIVE_BUS, LiveBus
from live.notices import Notice

log = logging.getLogger("aize.live")

# How many recent messages per hub keep their derived values (Hub.shared): a subscriber's
# queue holds a few, so one reading a message or two late still finds them.
_DERIVED_MESSAGES = 4


class Feed:
    """What a hub computes. `compute(oldest)` returns the message to push, or None when
    there is nothing new; `oldest` is the earliest request timestamp the notices since the
    last computation announced (None: only a refresh, or notices without logs)."""

    # Whether a new subscriber gets the latest message at once (usage cards do; "new logs"
    # and "alerts as they fire" only push what is new).
    replays_latest: bool = False

    async def compute(self, oldest: datetime | None, refresh: bool) -> Any | None:
        raise NotImplementedError


@dataclass(eq=False)
class Subscriber:
    """One subscription's mailbox: messages the hub offered, at most `capacity` waiting."""

    capacity: int
    on_overflow: Callable[[], None]
    queue: asyncio.Queue[Any] = field(init=False)

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.capacity)

    def offer(self, message: Any) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.on_overflow()


@dataclass(frozen=True, slots=True)
class HubTiming:
    """Seconds: at most one computation per `interval`; at least one per `refresh` (a
    relative period moves, and alerts fired outside ingest on SQLite are found)."""

    interval: float
    refresh: float


class Hub:
    def __init__(
        self,
        key: Hashable,
        organization_id: int,
        feed: Feed,
        timing: HubTiming,
        on_empty: Callable[[Hub], None],
        bus: LiveBus = LIVE_BUS,
    ) -> None:
        self.key = key
        self.feed = feed
        self.timing = timing
        self.subscribers: set[Subscriber] = set()
        self.computations = 0
        self._latest: Any | None = None
        # The last few messages' derived values: id(message) -> (message, {key: value}).
        self._derived: dict[int, tuple[Any, dict[Hashable, Any]]] = {}
        self._dirty = asyncio.Event()
        # Set while the hub's last interval is over and it waits for a notice: the next one
        # is computed at once (leading edge). Clear while computing or coalescing.
        self.quiet = asyncio.Event()
        self._oldest: datetime | None = None
        self._on_empty = on_empty
        self._unwatch = bus.watch(organization_id, self._on_notice)
        # The first computation runs at once: the current figures, or a feed's baseline.
        self._dirty.set()
        self._task = asyncio.create_task(self._run(), name=f"aize-live-hub-{organization_id}")

    def _on_notice(self, notice: Notice) -> None:
        if notice.oldest is not None and (self._oldest is None or notice.oldest < self._oldest):
            self._oldest = notice.oldest
        self._dirty.set()

    def shared(self, message: Any, key: Hashable, build: Callable[[], Any]) -> Any:
        """`build()` for this message and key, built once and returned to every caller
        asking with the same message and key (subscribers whose scope, viewer and document
        make the same derivation). Remembered for the last _DERIVED_MESSAGES messages (a
        subscriber reading late still shares with its peers)."""
        entry = self._derived.get(id(message))
        if entry is None or entry[0] is not message:
            if len(self._derived) >= _DERIVED_MESSAGES:
                del self._derived[next(iter(self._derived))]
            entry = (message, {})
            self._derived[id(message)] = entry
        values = entry[1]
        try:
            return values[key]
        except KeyError:
            value = values[key] = build()
            return value

    def add(self, subscriber: Subscriber) -> None:
        self.subscribers.add(subscriber)
        if self.feed.replays_latest and self._latest is not None:
            subscriber.offer(self._latest)

    def remove(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)
        if not self.subscribers:
            self.close()

    def close(self) -> None:
        self._unwatch()
        self._task.cancel()
        self._on_empty(self)

    async def _run(self) -> None:
        while True:
            refresh = False
            self.quiet.set()
            try:
                await asyncio.wait_for(self._dirty.wait(), self.timing.refresh)
            except TimeoutError:
                refresh = True
            finally:
                self.quiet.clear()
            started = time.monotonic()
            self._dirty.clear()
            oldest, self._oldest = self._oldest, None
            try:
                message = await self.feed.compute(oldest, refresh)
            except asyncio.CancelledError:
                raise
            except Exception:  # a failed computation is retried on the next notice
                log.exception("live feed %r failed", self.key)
                message = None
            self.computations += 1
            if message is not None:
                self._latest = message
                for subscriber in list(self.subscribers):
                    subscriber.offer(message)
            # Coalescing: whatever arrives meanwhile waits for this interval's end; a notice
            # after it is computed at once (the wait above), not on a fixed tick.
            with contextlib.suppress(TimeoutError):
                await asyncio.sleep(max(0.0, self.timing.interval - (time.monotonic() - started)))


FeedFactory = Callable[[], Feed]


class HubRegistry:
    """This process's hubs by key: subscribers with the same key share one hub."""

    def __init__(self, bus: LiveBus = LIVE_BUS) -> None:
        self._hubs: dict[Hashable, Hub] = {}
        self._bus = bus

    def __len__(self) -> int:
        return len(self._hubs)

    def join(
        self,
        key: Hashable,
        organization_id: int,
        make_feed: FeedFactory,
        timing: HubTiming,
        subscriber: Subscriber,
    ) -> Hub:
        """Add the subscriber to the key's hub (created with `make_feed()` if new)."""
        hub = self._hubs.get(key)
        if hub is None:
            hub = Hub(key, organization_id, make_feed(), timing, self._forget, self._bus)
            self._hubs[key] = hub
        hub.add(subscriber)
        return hub

    def _forget(self, hub: Hub) -> None:
        if self._hubs.get(hub.key) is hub:
            del self._hubs[hub.key]


HUBS = HubRegistry()
