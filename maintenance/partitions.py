"""PostgreSQL: create request_log's monthly partitions ahead of time and drop expired ones.

Both run inside the caller's transaction (see maintenance/runner.py for the locking).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from ingestion.folding import fold_before
from models.request_log_partitions import (
    MonthPartition,
    add_month_partition,
    drop_month_partition,
    month_partitions,
    months_in_default,
)


@dataclass(slots=True)
class PreparedPartitions:
    """Partitions created (table names) and rows moved into them from the default one."""

    created: list[str] = field(default_factory=list)
    moved_rows: int = 0


async def prepare_partitions(
    conn: BaseDBAsyncClient, months: Iterable[datetime]
) -> PreparedPartitions:
    """Create the partitions of `months` (first instants, UTC) that do not exist yet, and
    one for every month that has rows in the default partition, moving those rows in; so
    after this the default partition is empty. Idempotent."""
    existing = {p.name for p in await month_partitions(conn)}
    wanted = {MonthPartition.of(m) for m in months}
    wanted.update(MonthPartition.of(m) for m in await months_in_default(conn))
    result = PreparedPartitions()
    for partition in sorted(wanted, key=lambda p: p.start):
        if partition.name in existing:
            continue
        result.moved_rows += await add_month_partition(conn, partition)
        result.created.append(partition.name)
    return result


async def drop_partitions_before(conn: BaseDBAsyncClient, cutoff: datetime) -> list[str]:
    """Detach and drop every monthly partition that ends at or before `cutoff` (UTC);
    returns their names, oldest first. Rollup tables keep what they hold: the rows of those
    months still pending (ingestion/folding.py) are folded first."""
    dropped = []
    for partition in await month_partitions(conn):
        if partition.end <= cutoff:
            await fold_before(conn, partition.end)
            await drop_month_partition(conn, partition)
            dropped.append(partition.name)
    return dropped
