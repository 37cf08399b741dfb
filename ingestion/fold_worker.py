"""The folder inside `serve`: folds pending rollups (ingestion/folding.py) while this
process leads the background work (coordination/leadership.py).

It folds round after round (`Folder`: one batch of every organization with rows pending,
AIZE_FOLD_WORKERS organizations at once) while some organization is behind, then polls
every AIZE_FOLD_INTERVAL_SECONDS. Only the leader folds, but a fold is claimed row by row
(`FOR UPDATE SKIP LOCKED`, committed with the rollups), so a second folder for a moment
(a leader change, `aize-analytics fold` run by hand) never counts a row twice. A failed
batch (database away, statement timeout) is rolled back whole and retried on the next turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from coordination.leadership import Leadership
from ingestion.folding import Folder
from observability.metrics import FOLDED_ROWS
from settings import Settings

log = logging.getLogger(__name__)


def start_folder(
    settings: Settings, leadership: Leadership | None = None
) -> Callable[[], Awaitable[None]]:
    """Run the folder in a background task; returns the coroutine function that stops it.
    With `leadership`, only while this process leads."""

    folder = Folder(settings.fold_batch_rows, settings.fold_workers)

    async def loop() -> None:
        while True:
            if leadership is not None:
                await leadership.wait_until_leader()
            try:
                done = await folder.fold_round()
                FOLDED_ROWS.inc(done.folded)
                behind = done.behind
            except Exception:  # finding the organizations failed: the next turn retries
                log.exception("rollup fold failed")
                behind = False
            if not behind:
                await asyncio.sleep(settings.fold_interval_seconds)

    task = asyncio.create_task(loop(), name="rollup-folder")

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return stop
