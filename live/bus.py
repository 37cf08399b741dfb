"""The in-process bus: notices go to every hub watching their organization.

Fed by the PostgreSQL listener (live/listener.py) or, on SQLite, by the writer after commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from live.notices import Notice

Watcher = Callable[[Notice], None]


class LiveBus:
    def __init__(self) -> None:
        self._watchers: dict[int, set[Watcher]] = {}
        # Published when the listener lost its connection: every watcher must re-read.
        self._everyone: set[Watcher] = set()

    def watch(self, organization_id: int, watcher: Watcher) -> Callable[[], None]:
        """Call `watcher` for each notice about the organization; returns the unwatch."""
        self._watchers.setdefault(organization_id, set()).add(watcher)

        def unwatch() -> None:
            watchers = self._watchers.get(organization_id)
            if watchers is not None:
                watchers.discard(watcher)
                if not watchers:
                    del self._watchers[organization_id]

        return unwatch

    def watching(self, organization_id: int) -> int:
        """How many watchers the organization has (0 once its last hub closed)."""
        return len(self._watchers.get(organization_id, ()))

    def publish(self, notice: Notice) -> None:
        for watcher in list(self._watchers.get(notice.organization_id, ())):
            watcher(notice)

    def publish_everywhere(self, oldest: datetime | None) -> None:
        """Every watched organization may have changed since `oldest` (notices were lost)."""
        for organization_id, watchers in list(self._watchers.items()):
            for watcher in list(watchers):
                watcher(Notice(organization_id, oldest))


# One per process: hubs watch it, the listener and the SQLite writer publish to it.
LIVE_BUS = LiveBus()
