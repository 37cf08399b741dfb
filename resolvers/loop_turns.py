"""Long CPU loops on the event loop, cut into slices so other requests run in between.

Everything here runs on one event loop per process: a loop over a hundred thousand rows
holds every other request (and the request timeout, which can only fire at an `await`)
until it ends. Such loops go through these slices instead; between two slices the loop
gets a turn (`await asyncio.sleep(0)`), which costs about a microsecond.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import TypeVar

T = TypeVar("T")

# Items per slice: a few milliseconds of work for the loops of the usage reports.
SLICE_ITEMS = 2_000


async def in_slices(items: Sequence[T], size: int = SLICE_ITEMS) -> AsyncIterator[Sequence[T]]:
    """`items` in consecutive slices of at most `size`, the event loop getting a turn
    between two slices (none before the first: a short sequence costs nothing)."""
    for start in range(0, len(items), size):
        if start:
            await asyncio.sleep(0)
        yield items[start : start + size]


class LoopTurns:
    """Counts work done and gives the event loop a turn every `every` units of it."""

    def __init__(self, every: int = SLICE_ITEMS) -> None:
        self.every = every
        self.done = 0

    async def after(self, units: int) -> None:
        """Count `units` of work just done; yield to the loop once `every` have accrued."""
        self.done += units
        if self.done >= self.every:
            self.done = 0
            await asyncio.sleep(0)


class SliceLine:
    """Slices of one request's CPU work waiting in line: at most one runs per turn of the
    event loop, however many of the request's tasks are ready at once.

    The executor completes lists in parallel tasks (one per list being completed); had each
    of them slept with `asyncio.sleep(0)`, all would wake in the same loop iteration and run
    back to back, holding the loop as long as before. In line, the others' callbacks (the
    other requests, the timeout) run between any two slices.
    """

    def __init__(self) -> None:
        self._line: deque[asyncio.Future[None]] = deque()
        self._busy = False  # a slice was let through and has not finished
        self._scheduled = False

    async def wait(self) -> None:
        """Wait for this slice's turn; call `done()` once its synchronous work is over."""
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[None] = loop.create_future()
        self._line.append(turn)
        self._schedule(loop)
        try:
            await turn
        except BaseException:
            # Cancelled after being let through: the turn is over all the same.
            if turn.done() and not turn.cancelled():
                self.done()
            raise

    def done(self) -> None:
        """The slice let through last has finished; the next one may go."""
        self._busy = False
        if self._line:
            self._schedule(asyncio.get_running_loop())

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._busy and not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._let_next_through)

    def _let_next_through(self) -> None:
        self._scheduled = False
        while self._line:
            turn = self._line.popleft()
            if not turn.done():  # a cancelled slice left the line
                turn.set_result(None)
                self._busy = True
                return
