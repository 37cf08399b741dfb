"""One leader among all service processes for the background work.

Every `serve` process (uvicorn workers, instances on other machines) runs a `Leadership`:
a task that tries to take or renew the lease "background" in `service_lease`
(coordination/lease.py) every third of AIZE_LEADER_LEASE_SECONDS. The process holding it
runs the alert worker's, the report scheduler's, maintenance's and the rollup folder's turns
(ingestion/fold_worker.py); the others wait in
`wait_until_leader` and take over when the leader stops renewing:
- a leader that shuts down cleanly releases the lease: another takes over within a renewal
  interval;
- a leader that dies or hangs stops renewing: another takes over once the lease expires,
  within one lease length and a renewal interval;
- a hung leader that wakes up again does not start another turn: it counts itself leader
  only until its last successful renewal plus the lease length (less a margin for clock
  drift), measured on its own monotonic clock from before that renewal was sent.
A turn already running when leadership moves finishes; what it does is still claimed item by
item (alert deliveries and rule checks with `FOR UPDATE SKIP LOCKED` and a claim lease,
reports by their unique row, maintenance steps under an advisory lock, pending rollup rows
with `FOR UPDATE SKIP LOCKED` deleted in the fold's own transaction), so two leaders for a
moment never deliver, report, maintain or fold twice.

With AIZE_LEADER_ELECTION=false every process counts as leader (the behaviour before
leadership existed; still exactly once by those per-item claims).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable

from coordination.lease import LeaseState, claim_lease, release_lease

log = logging.getLogger(__name__)

BACKGROUND_LEASE = "background"
# A leader steps down this share of the lease before it ends by its own clock, so clocks
# running at slightly different rates never let two processes lead at once.
_DRIFT_MARGIN = 0.1


def process_holder_id() -> str:
    """This process's name in the lease: host, pid and a random part (pids repeat)."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{secrets.token_hex(4)}"


class Leadership:
    """Whether this process leads the background work; `start` inside a running event loop,
    `stop` on shutdown."""

    def __init__(
        self,
        lease_seconds: float,
        *,
        enabled: bool = True,
        name: str = BACKGROUND_LEASE,
        holder: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.holder = holder or process_holder_id()
        self.enabled = enabled
        self.lease_seconds = lease_seconds
        self.renew_seconds = lease_seconds / 3
        self.term: int | None = None
        self._monotonic = monotonic
        self._valid_until = 0.0
        self._leading = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def is_leader(self) -> bool:
        """True while this process may start a background turn."""
        if not self.enabled:
            return True
        return self._leading.is_set() and self._monotonic() < self._valid_until

    async def wait_until_leader(self) -> None:
        """Return at once while leading; else when this process becomes the leader."""
        while not self.is_leader():
            if self._leading.is_set():
                # Renewals stopped succeeding (database away, event loop hung): not leading.
                self._step_down("its lease ran out before it could renew it")
            await self._leading.wait()

    async def renew_once(self) -> bool:
        """Take or renew the lease once; returns whether this process now leads."""
        if not self.enabled:
            return True
        sent_at = self._monotonic()
        try:
            state = await claim_lease(self.name, self.holder, round(self.lease_seconds * 1000))
        except Exception:  # the database may be briefly away: lead until the lease ends
            log.warning("could not renew the %s lease", self.name, exc_info=True)
            if self._monotonic() >= self._valid_until:
                self._step_down("it could not renew its lease")
            return self.is_leader()
        if state is None:
            self._step_down("another process holds the lease")
            return False
        self._lead(state, sent_at)
        return True

    def _lead(self, state: LeaseState, sent_at: float) -> None:
        self._valid_until = sent_at + self.lease_seconds * (1 - _DRIFT_MARGIN)
        if self.term != state.term or not self._leading.is_set():
            log.info("leading the background work (lease %s, term %s)", self.name, state.term)
        self.term = state.term
        self._leading.set()

    def _step_down(self, why: str) -> None:
        if self._leading.is_set():
            log.warning("no longer leading the background work: %s", why)
        self._leading.clear()
        self._valid_until = 0.0

    def start(self) -> None:
        """Begin taking and renewing the lease in a background task."""
        if self.enabled and self._task is None:
            self._task = asyncio.create_task(self._run(), name="leadership")

    async def _run(self) -> None:
        while True:
            await self.renew_once()
            await asyncio.sleep(self.renew_seconds)

    async def stop(self) -> None:
        """Stop renewing and, if leading, release the lease so another process takes over
        at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.enabled and self._leading.is_set():
            self._step_down("shutting down")
            with contextlib.suppress(Exception):
                await release_lease(self.name, self.holder)
