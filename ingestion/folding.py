"""Rollups folded after the commit (PostgreSQL): what ingest records, and the fold itself.

With folding DEFERRED (the PostgreSQL default, AIZE_ROLLUP_FOLDING), the ingest transaction
stores the raw log, claims the request ids and charges wallet and spend as before, but
instead of upserting the rollups it lists the new rows in `fold_pending` (migration 0022),
in the same statement that stores them. A fold (`fold_batch`) then, in ONE transaction:

1. deletes up to `limit` pending rows, oldest ids first, skipping rows another folder (or a
   reprice) holds (`FOR UPDATE SKIP LOCKED`), and returns them;
2. copies exactly those raw rows into a temporary table (a statement of its own, so its
   snapshot is taken after the rows were locked: a reprice that committed meanwhile is
   seen);
3. runs every rollup, cube and histogram upsert from them (`rollup_script`, the statements
   inline ingest runs).

Progress (the deleted pending rows) and the fold commit together: a fold rolled back or
killed mid-batch leaves the rows pending and the rollups untouched, and two folders never
take the same row. Readers add the rows still pending to what the rollups hold
(resolvers/fold_tail.py), so every answer equals a raw scan whether or not a row is folded.

INLINE folds in the ingest transaction (the behaviour before; SQLite always does).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from asyncpg import Connection
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from ingestion.rollup_sql import (
    BATCH_LATENCY,
    BATCH_USAGE,
    ROLLUP_SOURCE_COLUMNS,
    create_batch_tables_sql,
    rollup_script,
)
from models.database import Dialect, Params, connection, dialect_of
from resolvers.scope import Scope

# Rows per fold transaction: the more rows, the more of them share each upserted rollup row
# (docs/PERFORMANCE.md: 20,000 folded about 3.5x faster per row than 5,000, shuffled).
DEFAULT_BATCH_ROWS = 20_000
# A fold is background work: it may take longer than a request's statement timeout (the
# serving connections'), and a fold cut short would be retried whole, forever.
_FOLD_STATEMENT_TIMEOUT = "SET LOCAL statement_timeout = '300s'"


class FoldingMode(enum.Enum):
    """When the rollups of newly ingested rows are folded."""

    INLINE = "inline"
    DEFERRED = "deferred"


# None: the backend's default (DEFERRED on PostgreSQL; SQLite is always INLINE).
_configured: FoldingMode | None = None


def configure_folding(mode: FoldingMode | str | None) -> None:
    """Set the folding mode of this process (AIZE_ROLLUP_FOLDING: "deferred", "inline";
    None: the backend's default)."""
    global _configured
    _configured = FoldingMode(mode) if isinstance(mode, str) else mode


def folds_deferred(conn: BaseDBAsyncClient) -> bool:
    """Whether ingest on `conn` leaves its rollups to the folder."""
    if dialect_of(conn) is not Dialect.POSTGRES:
        return False
    return _configured is not FoldingMode.INLINE


_ROWS = "fold_rows"
_COLUMNS = ", ".join(ROLLUP_SOURCE_COLUMNS)
# The raw rows a fold reads, and the batch aggregates rollup_script sums them into:
# temporary tables of the folding connection, emptied at commit.
_CREATE_TABLES = ";\n".join(
    (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_ROWS} ON COMMIT DELETE ROWS AS "
        f"SELECT {_COLUMNS} FROM request_log WITH NO DATA",
        create_batch_tables_sql(),
    )
)
# Oldest ids first through the primary key; rows locked by another fold are skipped, so
# concurrent folds take disjoint batches.
_TAKE = (
    "WITH picked AS (SELECT log_id, organization_id FROM fold_pending {where}ORDER BY log_id "
    "LIMIT $1 FOR UPDATE SKIP LOCKED) "
    "DELETE FROM fold_pending AS p USING picked "
    "WHERE p.log_id = picked.log_id AND p.organization_id = picked.organization_id "
    'RETURNING p.log_id, p."timestamp"'
)
# request_log's key is (id, timestamp) per monthly partition: the id list probes the key,
# the time bounds leave out the partitions that cannot hold the batch.
_LOAD = (
    f"INSERT INTO {_ROWS} ({_COLUMNS}) SELECT {_COLUMNS} FROM request_log "
    'WHERE id = ANY($1::bigint[]) AND "timestamp" >= $2 AND "timestamp" <= $3'
)
# The temporary tables are emptied at commit; emptied here too, for a transaction folding
# several batches (`fold_before`).
_FOLD = ";\n".join(
    (
        *(
            f"DELETE FROM {family.table(family.grains[0])}"
            for family in (BATCH_USAGE, BATCH_LATENCY)
        ),
        rollup_script(_ROWS),
    )
)
_EMPTY_ROWS = f"DELETE FROM {_ROWS}"
# What ingest runs instead of the rollup upserts: pending rows from the rows it inserted.
RECORD_PENDING = (
    'INSERT INTO fold_pending (log_id, organization_id, "timestamp") '
    'SELECT id, organization_id, "timestamp" FROM {inserted}'
)


async def fold_batch(limit: int = DEFAULT_BATCH_ROWS) -> int:
    """Fold up to `limit` pending rows in one transaction; returns how many were folded
    (0: nothing was pending, or every pending row is being folded by another folder)."""
    async with in_transaction() as conn:
        return await fold_in_transaction(conn, limit)


async def fold_in_transaction(conn: BaseDBAsyncClient, limit: int) -> int:
    """`fold_batch`'s work inside the caller's transaction on `conn` (PostgreSQL)."""
    async with conn.acquire_connection() as raw:
        return len(await fold_on(raw, limit))


async def fold_on(raw: Connection, limit: int, before: datetime | None = None) -> list[int]:
    """Take and fold up to `limit` pending rows (with a timestamp before `before`, if
    given) on an asyncpg connection, inside the transaction the caller opened on it (its
    commit is the fold's); returns the log ids taken."""
    await raw.execute(_FOLD_STATEMENT_TIMEOUT)
    if before is None:
        taken = await raw.fetch(_TAKE.format(where=""), limit)
    else:
        taken = await raw.fetch(_TAKE.format(where='WHERE "timestamp" < $2 '), limit, before)
    if not taken:
        return []
    ids, times = [row["log_id"] for row in taken], [row["timestamp"] for row in taken]
    await raw.execute(f"{_CREATE_TABLES};\n{_EMPTY_ROWS}")
    await raw.execute(_LOAD, ids, min(times), max(times))
    await raw.execute(_FOLD)
    return ids


async def fold_before(conn: BaseDBAsyncClient, before: datetime) -> int:
    """Fold, in the caller's transaction on `conn`, every pending row with a timestamp
    before `before`: what retention does before it drops the raw rows of those months
    (a row dropped while pending would never reach the rollups). Returns the rows folded."""
    if dialect_of(conn) is not Dialect.POSTGRES:
        return 0
    folded = 0
    async with conn.acquire_connection() as raw:
        while taken := await fold_on(raw, DEFAULT_BATCH_ROWS, before):
            folded += len(taken)
    return folded


async def drain(limit: int = DEFAULT_BATCH_ROWS) -> int:
    """Fold batches until none is left to take; returns the rows folded. Rows ingested
    while it runs are folded too, so under a steady stream it returns once it catches up."""
    if dialect_of(connection()) is not Dialect.POSTGRES:
        return 0
    folded = 0
    while True:
        count = await fold_batch(limit)
        folded += count
        if count < limit:
            return folded


@dataclass(frozen=True, slots=True)
class FoldLag:
    """How far the folder is behind: rows still pending, and since when the oldest one
    waits (its ingest transaction's start, UTC; None when nothing is pending)."""

    pending_rows: int
    oldest_queued_at: datetime | None

    def oldest_age_seconds(self, now: datetime) -> float:
        """Seconds the oldest pending row has waited at `now` (0 when none)."""
        if self.oldest_queued_at is None:
            return 0.0
        return max((now - self.oldest_queued_at).total_seconds(), 0.0)


async def fold_lag(organization_id: int | None = None) -> FoldLag:
    """The folder's lag for one organization, or for all (None)."""
    conn = connection()
    if dialect_of(conn) is not Dialect.POSTGRES:
        return FoldLag(0, None)
    sql = "SELECT count(*) AS pending, min(queued_at) AS oldest FROM fold_pending"
    params = Params(Dialect.POSTGRES)
    if organization_id is not None:
        sql += " WHERE " + " AND ".join(Scope.for_organization(organization_id).where(params))
    [row] = await conn.execute_query_dict(sql, params.values)
    return FoldLag(int(row["pending"]), row["oldest"])


async def pending_log_ids(
    conn: BaseDBAsyncClient, log_ids: list[int], organization_ids: list[int]
) -> set[int]:
    """Of `log_ids`, those still pending, locked until the caller's transaction ends (a
    folder skips them meanwhile); a row a folder is folding is waited for, then not
    pending. What a reprice needs: a pending row gets its new costs when it is folded, a
    folded one needs its rollups corrected."""
    if not log_ids or dialect_of(conn) is not Dialect.POSTGRES:
        return set()
    rows = await conn.execute_query_dict(
        "SELECT log_id FROM fold_pending WHERE organization_id = ANY($1::integer[]) "
        "AND log_id = ANY($2::bigint[]) ORDER BY log_id FOR UPDATE",
        [sorted(set(organization_ids)), sorted(log_ids)],
    )
    return {int(row["log_id"]) for row in rows}
