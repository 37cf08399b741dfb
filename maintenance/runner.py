"""One maintenance run, and the loop that repeats it inside `serve`.

A run, in this order:
1. PostgreSQL: create the monthly partitions of the late-arrival window and MONTHS_AHEAD
   ahead, and split any rows out of the default partition (maintenance/partitions.py);
2. retention (AIZE_RAW_RETENTION_MONTHS, 0 = off): PostgreSQL detaches and drops whole
   expired monthly partitions; SQLite deletes the expired rows in batches. The rollups are
   never touched, so usage totals for those months stay exact;
3. request ids older than the late-arrival window (+ a margin) are forgotten.

Several processes may run it at once (replicas, uvicorn workers): on PostgreSQL each step
takes a transaction-level advisory lock and a process that cannot get it skips the run; DDL
waits at most LOCK_TIMEOUT for a table lock, then the run fails and the next one retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from coordination.leadership import Leadership
from maintenance.partitions import drop_partitions_before, prepare_partitions
from maintenance.policy import months_to_prepare, request_ids_prunable_before, retention_cutoff
from maintenance.pruning import delete_logs_before, prune_request_ids_before
from models.database import Dialect, connection, dialect_of
from models.request_log_partitions import is_partitioned
from settings import Settings

log = logging.getLogger("aize.maintenance")

# pg_try_advisory_xact_lock key: "AIZEMAIN" in ASCII.
ADVISORY_LOCK_KEY = 0x4149_5A45_4D41_494E
LOCK_TIMEOUT = "5s"


@dataclass(slots=True)
class MaintenanceReport:
    """What one run did. `skipped`: another process was running maintenance."""

    created_partitions: list[str] = field(default_factory=list)
    moved_rows: int = 0
    dropped_partitions: list[str] = field(default_factory=list)
    deleted_rows: int = 0
    pruned_request_ids: int = 0
    skipped: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "createdPartitions": self.created_partitions,
            "movedRows": self.moved_rows,
            "droppedPartitions": self.dropped_partitions,
            "deletedRows": self.deleted_rows,
            "prunedRequestIds": self.pruned_request_ids,
            "skipped": self.skipped,
        }


async def run_maintenance(settings: Settings, now: datetime | None = None) -> MaintenanceReport:
    """Run every maintenance step once for the clock `now` (default: the current time)."""
    now = now or datetime.now(UTC)
    report = MaintenanceReport()
    cutoff = retention_cutoff(now, settings.raw_retention_months, settings.late_arrival_days)
    if dialect_of(connection()) is Dialect.POSTGRES and await is_partitioned(connection()):
        async with in_transaction() as conn:
            if not await _lock(conn):
                report.skipped = True
                return report
            prepared = await prepare_partitions(
                conn, months_to_prepare(now, settings.late_arrival_days)
            )
        report.created_partitions, report.moved_rows = prepared.created, prepared.moved_rows
        if cutoff is not None:
            async with in_transaction() as conn:
                if not await _lock(conn):
                    report.skipped = True
                    return report
                report.dropped_partitions = await drop_partitions_before(conn, cutoff)
    elif cutoff is not None:
        report.deleted_rows = await delete_logs_before(cutoff)
    report.pruned_request_ids = await prune_request_ids_before(
        request_ids_prunable_before(now, settings.late_arrival_days)
    )
    return report


async def _lock(conn: BaseDBAsyncClient) -> bool:
    rows = await conn.execute_query_dict(
        "SELECT pg_try_advisory_xact_lock($1) AS locked", [ADVISORY_LOCK_KEY]
    )
    if not rows[0]["locked"]:
        return False
    await conn.execute_script(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    return True


def start_maintenance(
    settings: Settings,
    run: Callable[[Settings], Awaitable[MaintenanceReport]] = run_maintenance,
    leadership: Leadership | None = None,
) -> Callable[[], Awaitable[None]]:
    """Run maintenance (`run`) now and then every AIZE_MAINTENANCE_INTERVAL_SECONDS in a
    background task; returns the coroutine function that stops it. A failed run is logged
    and the loop goes on. With `leadership`, only the leader runs it (a process that becomes
    leader runs it at once)."""

    async def loop() -> None:
        while True:
            if leadership is not None:
                await leadership.wait_until_leader()
            try:
                report = await run(settings)
                if report.created_partitions or report.dropped_partitions or report.deleted_rows:
                    log.info("maintenance: %s", report.as_dict())
            except Exception:  # the database may be briefly away; the next turn retries
                log.exception("maintenance run failed")
            await asyncio.sleep(settings.maintenance_interval_seconds)

    task = asyncio.create_task(loop(), name="maintenance")

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return stop
