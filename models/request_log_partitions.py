"""request_log's monthly partitions on PostgreSQL: names, bounds and the DDL that adds,
lists and drops them. Policy (which months, when to drop) lives in `maintenance/`.

Layout: `request_log` is `PARTITION BY RANGE (timestamp)`; one partition per calendar month
in UTC, named `request_log_pYYYY_MM`, bounds [first instant of the month, first instant of
the next); plus `request_log_default` for any other timestamp, so an insert never fails for
a missing month. Each partition's indexes are named after the parent's index with the
partition's suffix (`request_log_org_ts_p2026_11`), so plans and `\\d` read naturally.

A month is added as a standalone table, given the parent's indexes, filled with the rows the
default partition holds for that month (moved, in the same transaction) and then attached:
ATTACH takes only a SHARE UPDATE EXCLUSIVE lock on the parent, so ingest and reads go on.
Every function here runs inside the caller's transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient

PARENT = "request_log"
DEFAULT_PARTITION = f"{PARENT}_default"
_NAME = re.compile(rf"^{PARENT}_p(\d{{4}})_(\d{{2}})$")
_INDEX_DEF = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON ONLY \S+ (USING .+)$")


def month_start(instant: datetime) -> datetime:
    """The first instant (UTC) of the UTC calendar month containing `instant` (aware)."""
    utc = instant.astimezone(UTC)
    return datetime(utc.year, utc.month, 1, tzinfo=UTC)


def add_months(month: datetime, count: int) -> datetime:
    """The first instant (UTC) of the month `count` months after (or before) `month`."""
    index = month.year * 12 + month.month - 1 + count
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class MonthPartition:
    """One monthly partition: its table name and UTC bounds [start, end)."""

    name: str
    start: datetime
    end: datetime

    @classmethod
    def of(cls, month: datetime) -> MonthPartition:
        start = month_start(month)
        return cls(f"{PARENT}_p{start:%Y_%m}", start, add_months(start, 1))

    @property
    def suffix(self) -> str:
        """What the partition's index names end with, e.g. "p2026_11"."""
        return self.name.removeprefix(f"{PARENT}_")


async def is_partitioned(conn: BaseDBAsyncClient) -> bool:
    """True when request_log is a partitioned table (PostgreSQL after migration 0006)."""
    rows = await conn.execute_query_dict(
        "SELECT c.relkind = 'p' AS partitioned FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relname = $1",
        [PARENT],
    )
    return bool(rows) and bool(rows[0]["partitioned"])


async def month_partitions(conn: BaseDBAsyncClient) -> list[MonthPartition]:
    """The monthly partitions attached to request_log, oldest first (the default excluded)."""
    rows = await conn.execute_query_dict(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = $1::regclass",
        [PARENT],
    )
    found = []
    for row in rows:
        match = _NAME.match(str(row["relname"]))
        if match:
            found.append(MonthPartition.of(datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)))
    return sorted(found, key=lambda p: p.start)


async def months_in_default(conn: BaseDBAsyncClient) -> list[datetime]:
    """The UTC months (first instants) of the rows sitting in the default partition."""
    rows = await conn.execute_query_dict(
        "SELECT DISTINCT date_trunc('month', timestamp AT TIME ZONE 'UTC') AS month "
        f"FROM {DEFAULT_PARTITION} ORDER BY 1"
    )
    return [row["month"].replace(tzinfo=UTC) for row in rows]


async def add_month_partition(conn: BaseDBAsyncClient, partition: MonthPartition) -> int:
    """Create and attach the partition, moving the default partition's rows of its month
    into it first; returns how many rows were moved."""
    await conn.execute_script(
        f"CREATE TABLE {partition.name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING STORAGE)"
    )
    for statement in await partition_index_statements(conn, partition.name, partition.suffix):
        await conn.execute_script(statement)
    moved = await conn.execute_query_dict(
        f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} "
        "WHERE timestamp >= $1 AND timestamp < $2 RETURNING *), "
        f"copied AS (INSERT INTO {partition.name} SELECT * FROM moved RETURNING 1) "
        "SELECT count(*) AS moved FROM copied",
        [partition.start, partition.end],
    )
    await conn.execute_script(
        f"ALTER TABLE {PARENT} ATTACH PARTITION {partition.name} "
        f"FOR VALUES FROM ({_literal(partition.start)}) TO ({_literal(partition.end)})"
    )
    return int(moved[0]["moved"])


async def add_default_partition(conn: BaseDBAsyncClient) -> None:
    """Create and attach the default partition (for timestamps no month partition covers)."""
    await conn.execute_script(
        f"CREATE TABLE {DEFAULT_PARTITION} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING STORAGE)"
    )
    for statement in await partition_index_statements(conn, DEFAULT_PARTITION, "default"):
        await conn.execute_script(statement)
    await conn.execute_script(f"ALTER TABLE {PARENT} ATTACH PARTITION {DEFAULT_PARTITION} DEFAULT")


async def drop_month_partition(conn: BaseDBAsyncClient, partition: MonthPartition) -> None:
    """Detach the partition from request_log and drop it with its rows."""
    await conn.execute_script(f"ALTER TABLE {PARENT} DETACH PARTITION {partition.name}")
    await conn.execute_script(f"DROP TABLE {partition.name}")


async def partition_index_statements(conn: BaseDBAsyncClient, table: str, suffix: str) -> list[str]:
    """DDL giving `table` every index and key request_log has, named `{parent's}_{suffix}`,
    so ATTACH PARTITION adopts them instead of building unnamed ones."""
    rows = await conn.execute_query_dict(
        "SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition, "
        "con.contype AS constraint_type, pg_get_constraintdef(con.oid) AS constraint_definition "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.conrelid = x.indrelid "
        "WHERE x.indrelid = $1::regclass ORDER BY i.relname",
        [PARENT],
    )
    statements = []
    for row in rows:
        name = f"{row['name']}_{suffix}"
        if row["constraint_type"] is not None:
            # A primary key or unique constraint: the partition needs the constraint itself.
            statements.append(
                f"ALTER TABLE {table} ADD CONSTRAINT {name} {row['constraint_definition']}"
            )
            continue
        match = _INDEX_DEF.match(str(row["definition"]))
        if match is None:
            raise RuntimeError(f"unexpected index definition on {PARENT}: {row['definition']}")
        unique, rest = match[1] or "", match[2]
        statements.append(f"CREATE {unique}INDEX {name} ON {table} {rest}")
    return statements


def _literal(instant: datetime) -> str:
    # Bounds are UTC instants written with their offset, whatever the session's timezone.
    return f"'{instant.astimezone(UTC).isoformat(sep=' ')}'"
