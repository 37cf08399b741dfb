"""PostgreSQL LISTEN: one dedicated connection per process, feeding the in-process bus.

A lost connection is re-opened (doubling waits up to 5 s); while it was down notices may
have been missed, so on reconnect every watched organization is told to re-read everything
since the connection was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import asyncpg

from live.bus import LIVE_BUS, LiveBus
from live.notices import CHANNEL, Notice

log = logging.getLogger("aize.live")

_MAX_BACKOFF_SECONDS = 5.0
# The connection is checked this often; a dead one is noticed within this time.
_PROBE_SECONDS = 2.0


def asyncpg_dsn(database_url: str) -> str:
    """The service's database URL in a form asyncpg.connect accepts."""
    return "postgresql://" + database_url.split("://", 1)[1]


class NotificationListener:
    def __init__(self, database_url: str, bus: LiveBus = LIVE_BUS) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._bus = bus
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="aize-live-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _on_notification(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        notice = Notice.decode(str(payload))
        if notice is not None:
            self._bus.publish(notice)

    async def _run(self) -> None:
        backoff = 0.1
        lost_at: datetime | None = None
        while True:
            try:
                conn = await asyncpg.connect(self._dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("live listener cannot connect: %s", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)
                continue
            backoff = 0.1
            try:
                await conn.add_listener(CHANNEL, self._on_notification)
                self.connected.set()
                if lost_at is not None:
                    # Anything committed while no one listened: re-read from before the loss.
                    self._bus.publish_everywhere(lost_at - timedelta(minutes=1))
                await _until_closed(conn.execute, conn.is_closed)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("live listener lost its connection: %s", exc)
            finally:
                self.connected.clear()
                lost_at = datetime.now(UTC)
                with contextlib.suppress(Exception):
                    await conn.close(timeout=1)


async def _until_closed(
    execute: Callable[[str], Awaitable[str]], is_closed: Callable[[], bool]
) -> None:
    """Return when the connection dies: a cheap probe every _PROBE_SECONDS."""
    while not is_closed():
        await asyncio.sleep(_PROBE_SECONDS)
        await asyncio.wait_for(execute("SELECT 1"), _PROBE_SECONDS)
