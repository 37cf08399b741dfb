"""Read replicas (AIZE_DATABASE_READ_URLS): which one, if any, may answer a read now.

A read goes to a replica only when both sides agree:
- the caller's data may lag: analytics reads (rollups, request logs, percentiles, errors)
  pass `may_lag=True` to `models.database.fetch_rows`/`fetch_all`; keys, members, settings,
  spend counters, `keyAccess` and everything in a transaction never do;
- the request may see lagging data: GraphQL queries, exports and reports run under
  `replica_reads()`; mutations and ingest do not, so what a request wrote it reads back
  from the primary.

Each replica is checked every AIZE_READ_REPLICA_CHECK_SECONDS: the primary's flushed WAL
position is read, then the replica is asked until it has replayed that far. The time that
took is its lag; a replica takes reads only while the lag is within
AIZE_READ_REPLICA_MAX_LAG_SECONDS. One that lags longer, cannot be reached, or is no longer
in recovery (promoted) is skipped, and the next check tries it again. A read that finds its
replica gone is answered by the primary and the replica is skipped until a check passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient, TransactionalDBClient

from models.unavailability import is_database_unavailable
from observability.metrics import READ_REPLICA_LAG, READ_REPLICA_READS, READ_REPLICA_UP

log = logging.getLogger("aize.replicas")

# How often a check asks a replica whether it has replayed far enough.
_REPLAY_POLL_SECONDS = 0.02
# A replica that does not answer a check within this long (beyond the lag bound) is down.
_CONNECT_BOUND_SECONDS = 5.0
PRIMARY_TARGET = "primary"
# On a replica: whether it is one (in recovery), and whether it has replayed the primary's
# WAL up to $1 (a position read from the primary, as text).
_REPLAYED_SQL = (
    "SELECT pg_is_in_recovery() AS recovery, "
    "COALESCE(pg_last_wal_replay_lsn() >= $1::text::pg_lsn, false) AS caught_up"
)

_replica_reads: ContextVar[bool] = ContextVar("aize_replica_reads", default=False)


class ReplicaState(Enum):
    UNCHECKED = "unchecked"  # not checked yet: takes no reads
    IN_USE = "in_use"
    LAGGING = "lagging"
    DOWN = "down"
    NOT_A_REPLICA = "not_a_replica"  # answers, but is not in recovery (promoted?)


@dataclass
class ReplicaStatus:
    """One replica as its last check (or failed read) left it."""

    label: str
    # host:port/database, never the URL (it may hold a password).
    address: str
    state: ReplicaState = ReplicaState.UNCHECKED
    # Seconds the replica took to replay what the primary had flushed; None if not known.
    lag_seconds: float | None = None
    checked_at: datetime | None = None
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The operator's view (`aize-analytics replicas`, /healthz)."""
        return {
            "replica": self.label,
            "address": self.address,
            "state": self.state.value,
            "lagSeconds": None if self.lag_seconds is None else round(self.lag_seconds, 3),
            "checkedAt": None if self.checked_at is None else self.checked_at.isoformat(),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class ReplicaClients:
    """One replica: its address for operators, the pool its reads use, and the pool (of
    one connection) its checks use, so a check never queues behind reads."""

    address: str
    reads: BaseDBAsyncClient
    checks: BaseDBAsyncClient


class ReadReplicas:
    """The configured replicas, their states, and the task that checks them."""

    def __init__(
        self, replicas: list[ReplicaClients], *, max_lag_seconds: float, check_seconds: float
    ) -> None:
        """`replicas` in the order of AIZE_DATABASE_READ_URLS."""
        self.statuses = [
            ReplicaStatus(label=replica_label(n), address=replica.address)
            for n, replica in enumerate(replicas, start=1)
        ]
        self.replicas = {replica_label(n): replica for n, replica in enumerate(replicas, start=1)}
        self.max_lag_seconds = max_lag_seconds
        self.check_seconds = check_seconds
        self._turn = 0
        self._task: asyncio.Task[None] | None = None
        for status in self.statuses:
            self._publish(status)

    def choose(self) -> str | None:
        """The label of a replica taking reads (in turn), or None: use the primary."""
        usable = [s.label for s in self.statuses if s.state is ReplicaState.IN_USE]
        if not usable:
            return None
        self._turn += 1
        return usable[self._turn % len(usable)]

    def mark_down(self, label: str, exc: BaseException) -> None:
        """A read found the replica unreachable: skip it until a check passes."""
        for status in self.statuses:
            if status.label == label:
                self._set(status, ReplicaState.DOWN, None, _describe(exc))
                log.warning("read replica %s is down, reads go to the primary: %s", label, exc)

    async def check(self) -> list[ReplicaStatus]:
        """Check every replica now; returns their statuses. When the primary itself cannot
        be asked, the states stay as they were (there is nothing to compare with)."""
        try:
            rows = await connections.get("default").execute_query_dict(
                "SELECT pg_current_wal_flush_lsn()::text AS lsn"
            )
        except Exception as exc:  # driver errors vary; the primary's outage is reported elsewhere
            log.warning("read replicas not checked: the primary did not answer: %s", exc)
            return self.statuses
        primary_lsn = str(rows[0]["lsn"])
        await asyncio.gather(*(self._check_one(s, primary_lsn) for s in self.statuses))
        return self.statuses

    async def _check_one(self, status: ReplicaStatus, primary_lsn: str) -> None:
        started = time.monotonic()
        client = self.replicas[status.label].checks
        try:
            async with asyncio.timeout(self.max_lag_seconds + _CONNECT_BOUND_SECONDS):
                while True:
                    rows = await client.execute_query_dict(_REPLAYED_SQL, [primary_lsn])
                    elapsed = time.monotonic() - started
                    if not rows[0]["recovery"]:
                        reason = "not in recovery: a primary, not a streaming replica"
                        self._set(status, ReplicaState.NOT_A_REPLICA, None, reason)
                        return
                    if rows[0]["caught_up"] and elapsed <= self.max_lag_seconds:
                        self._set(status, ReplicaState.IN_USE, elapsed, None)
                        return
                    if elapsed > self.max_lag_seconds:
                        reason = f"replay lags more than {self.max_lag_seconds:g} s"
                        self._set(status, ReplicaState.LAGGING, elapsed, reason)
                        return
                    await asyncio.sleep(_REPLAY_POLL_SECONDS)
        except TimeoutError:
            self._set(status, ReplicaState.DOWN, None, "did not answer the check in time")
        except Exception as exc:  # driver errors vary; any failure means "skip it"
            self._set(status, ReplicaState.DOWN, None, _describe(exc))

    def _set(
        self, status: ReplicaStatus, state: ReplicaState, lag: float | None, reason: str | None
    ) -> None:
        if state is not status.state:
            log.info("read replica %s: %s -> %s", status.label, status.state.value, state.value)
        status.state = state
        status.lag_seconds = lag
        status.reason = reason
        status.checked_at = datetime.now(UTC)
        self._publish(status)

    def _publish(self, status: ReplicaStatus) -> None:
        READ_REPLICA_UP.labels(replica=status.label).set(
            1 if status.state is ReplicaState.IN_USE else 0
        )
        # Unknown lag (down, unchecked) shows as the bound plus one: past it, not in use.
        lag = status.lag_seconds
        READ_REPLICA_LAG.labels(replica=status.label).set(
            self.max_lag_seconds + 1 if lag is None else lag
        )

    def start(self) -> None:
        """Check every `check_seconds` until `stop()`."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="read-replica-checks")

    async def stop(self) -> None:
        """Stop checking and close the replicas' pools."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for replica in self.replicas.values():
            await replica.reads.close()
            await replica.checks.close()

    async def _run(self) -> None:
        # init_database has just checked them once.
        while True:
            await asyncio.sleep(self.check_seconds)
            await self.check()


def replica_label(position: int) -> str:
    """The connection name and metric label of the `position`-th URL (from 1)."""
    return f"read_{position}"


_replicas: ReadReplicas | None = None


def configure(replicas: ReadReplicas | None) -> None:
    """Set (or clear, with None) this process's replicas; models.database calls it."""
    global _replicas
    _replicas = replicas


def configured() -> ReadReplicas | None:
    return _replicas


def client(label: str) -> BaseDBAsyncClient:
    """The client (pool) of replica `label`; only while replicas are configured."""
    if _replicas is None:
        raise RuntimeError("no read replicas are configured")
    return _replicas.replicas[label].reads


@contextlib.contextmanager
def replica_reads() -> Iterator[None]:
    """Within this block, reads whose data may lag may go to a replica."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def replica_for_read(primary: BaseDBAsyncClient) -> str | None:
    """The replica a read whose data may lag should use, or None for the primary: none is
    configured or in use, the request does not allow it, or `primary` (the default
    connection as this task sees it) is inside a transaction."""
    if _replicas is None:
        return None
    if not _replica_reads.get() or isinstance(primary, TransactionalDBClient):
        return None
    label = _replicas.choose()
    READ_REPLICA_READS.labels(target=label or PRIMARY_TARGET).inc()
    return label


def skip_unreachable(label: str, exc: BaseException) -> bool:
    """After a read on replica `label` raised `exc`: True (and the replica is skipped from
    now on) when the replica could not be reached, so the read should go to the primary."""
    if _replicas is None or not is_database_unavailable(exc):
        return False
    _replicas.mark_down(label, exc)
    READ_REPLICA_READS.labels(target=PRIMARY_TARGET).inc()
    return True


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
