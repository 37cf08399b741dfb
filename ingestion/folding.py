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

Organizations fold in parallel (`Folder`): every rollup row belongs to one organization, so
folds of different organizations touch disjoint rollup rows and never wait for each other.
The organizations are split in `workers` shares (id modulo `workers`); a round folds one
batch of each share at once, each on a pool connection of its own and in its own
transaction as above. An organization belongs to one share, so it is folded by one batch
at a time, oldest ids first: its order and exactly-once are those of a single folder. A
batch spans every organization of its share (a batch per organization would multiply the
statements per row folded). A share whose batch was full (it is behind) gets twice the rows
next round, up to MAX_BATCH_GROWTH times the configured batch: bigger folds are cheaper per
row.

INLINE folds in the ingest transaction (the behaviour before; SQLite always does).
"""

from __future__ import annotations

import asyncio
import enum
import logging
from dataclasses import dataclass, field
from datetime import datetime

from asyncpg import Connection
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from ingestion.rollup_sql import (
    BATCH_TABLES,
    ROLLUP_SOURCE_COLUMNS,
    create_batch_tables_sql,
    rollup_script,
)
from models.database import Dialect, connection, dialect_of

# Rows per fold transaction: the more rows, the more of them share each upserted rollup row
# (docs/PERFORMANCE.md: 20,000 folded about 3.5x faster per row than 5,000, shuffled).
DEFAULT_BATCH_ROWS = 20_000
# Shares of the organizations folded at once, each on a pool connection of its own
# (AIZE_FOLD_WORKERS).
DEFAULT_FOLD_WORKERS = 2
# An organization that is behind folds up to this many times AIZE_FOLD_BATCH_ROWS at once.
MAX_BATCH_GROWTH = 4

log = logging.getLogger(__name__)
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
    "WITH picked AS (SELECT log_id, organization_id FROM fold_pending {where} ORDER BY log_id "
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
        *(f"DELETE FROM {family.table(family.grains[0])}" for family in BATCH_TABLES),
        rollup_script(_ROWS),
    )
)
_EMPTY_ROWS = f"DELETE FROM {_ROWS}"
# What ingest runs instead of the rollup upserts: pending rows from the rows it inserted.
RECORD_PENDING = (
    'INSERT INTO fold_pending (log_id, organization_id, "timestamp") '
    'SELECT id, organization_id, "timestamp" FROM {inserted}'
)


# A share of the organizations: those whose id is `index` modulo `count`. Shares are
# disjoint, so are their rollup rows.
Share = tuple[int, int]  # (index, count)


async def fold_batch(limit: int = DEFAULT_BATCH_ROWS, share: Share | None = None) -> int:
    """Fold up to `limit` pending rows (of one share of the organizations, if given) in one
    transaction; returns how many were folded (0: nothing was pending, or every pending row
    is being folded by another folder)."""
    async with in_transaction() as conn:
        return await fold_in_transaction(conn, limit, share)


async def fold_in_transaction(
    conn: BaseDBAsyncClient, limit: int, share: Share | None = None
) -> int:
    """`fold_batch`'s work inside the caller's transaction on `conn` (PostgreSQL)."""
    async with conn.acquire_connection() as raw:
        return len(await fold_on(raw, limit, share=share))


async def fold_on(
    raw: Connection,
    limit: int,
    before: datetime | None = None,
    share: Share | None = None,
) -> list[int]:
    """Take and fold up to `limit` pending rows (with a timestamp before `before`, of the
    organizations of `share`, if given) on an asyncpg connection, inside the transaction the
    caller opened on it (its commit is the fold's); returns the log ids taken."""
    await raw.execute(_FOLD_STATEMENT_TIMEOUT)
    conditions: list[str] = []
    args: list[object] = [limit]
    if before is not None:
        args.append(before)
        conditions.append(f'"timestamp" < ${len(args)}')
    if share is not None and share[1] > 1:
        args.extend((share[1], share[0]))
        conditions.append(f"organization_id % ${len(args) - 1} = ${len(args)}")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    taken = await raw.fetch(_TAKE.format(where=where), *args)
    if not taken:
        return []
    ids, times = [row["log_id"] for row in taken], [row["timestamp"] for row in taken]
    await raw.execute(f"{_CREATE_TABLES};\n{_EMPTY_ROWS}")
    await raw.execute(_LOAD, ids, min(times), max(times))
    await raw.execute(_FOLD)
    return ids


@dataclass(frozen=True, slots=True)
class FoldRound:
    """What one round of a `Folder` did: rows folded, whether some share's batch was full
    (it is behind: the next round should follow at once), why batches failed."""

    folded: int
    behind: bool
    errors: tuple[Exception, ...] = ()


@dataclass(slots=True)
class Folder:
    """Folds the pending rows of `workers` shares of the organizations at once (one pool
    connection and transaction each), `batch_rows` per batch, more for a share behind."""

    batch_rows: int = DEFAULT_BATCH_ROWS
    workers: int = DEFAULT_FOLD_WORKERS
    # Rows the next batch of each share takes.
    _limits: list[int] = field(default_factory=list)

    async def fold_round(self) -> FoldRound:
        """Fold one batch of each share, all at once; a failed batch is rolled back whole
        (logged, returned), the others commit."""
        if len(self._limits) != self.workers:
            self._limits = [self.batch_rows] * self.workers
        outcomes = await asyncio.gather(
            *(fold_batch(self._limits[i], (i, self.workers)) for i in range(self.workers)),
            return_exceptions=True,
        )
        folded, behind, errors = 0, False, []
        for index, outcome in enumerate(outcomes):
            limit = self._limits[index]
            self._limits[index] = self.batch_rows
            if isinstance(outcome, Exception):  # rolled back whole: the next round retries
                log.error("rollup fold failed", exc_info=outcome)
                errors.append(outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                folded += outcome
                if outcome == limit:
                    behind = True
                    self._limits[index] = min(2 * limit, MAX_BATCH_GROWTH * self.batch_rows)
        return FoldRound(folded, behind, tuple(errors))


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


async def drain(limit: int = DEFAULT_BATCH_ROWS, workers: int = DEFAULT_FOLD_WORKERS) -> int:
    """Fold rounds (`Folder`) until no organization is behind; returns the rows folded. Rows
    ingested while it runs are folded too, so under a steady stream it returns once it
    catches up. A failed batch's error is raised after its round (the others committed)."""
    if dialect_of(connection()) is not Dialect.POSTGRES:
        return 0
    folder = Folder(limit, workers)
    folded = 0
    while True:
        done = await folder.fold_round()
        folded += done.folded
        if done.errors:
            raise done.errors[0]
        if not done.behind:
            return folded


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
