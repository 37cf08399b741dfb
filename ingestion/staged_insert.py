"""PostgreSQL fast path: COPY a batch into a staging table, claim its request ids, insert the
new logs from there and roll them up in SQL.

Binary COPY is the cheapest way to hand PostgreSQL thousands of rows; the staging table is a
per-connection temporary table emptied at every commit (ON COMMIT DELETE ROWS), so a batch
always starts from an empty one. From it:

1. one statement claims the batch's request ids in their organizations (`INSERT INTO
   request_id_seen ... ORDER BY request_id, organization_id ON CONFLICT (organization_id,
   request_id) DO NOTHING RETURNING`, in the portable path's order, so concurrent batches
   meet on the same ids in one order and cannot deadlock; a concurrent batch holding one of
   the ids makes it wait for that commit, then skip the id) and deletes from the staging
   table the rows whose ids were already stored for their organization, returning only
   those;
2. one round trip stores the new logs (`INSERT INTO request_log SELECT ...`: no conflict
   check, the claim already did it), sums them into the batch aggregates (temporary tables
   like the staging one) and runs every rollup upsert (usage rollups, cubes and latency
   histograms, `ingestion/rollup_sql.py`) from those, so from the new rows only. With
   folding deferred (ingestion/folding.py) the same statement that stores the logs lists
   them in `fold_pending` instead, and the folder runs those upserts after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from uuid import UUID

from asyncpg import Connection
from tortoise.backends.base.client import BaseDBAsyncClient

from ingestion.folding import RECORD_PENDING, folds_deferred
from ingestion.log_row import LOG_COLUMNS, log_row
from ingestion.rollup_sql import create_batch_tables_sql, rollup_script
from models.database import Dialect
from models.priced_record import PricedRecord
from models.request_log_columns import column_sql

_STAGING = "ingest_staging"
_COLUMN_LIST = ", ".join(LOG_COLUMNS)


@cache
def _create_tables() -> str:
    """The staging table (request_log's LOG_COLUMNS, typed as the model types them) and the
    batch aggregates the rollups are computed from, in one round trip. Built at first use:
    the model's foreign-key columns exist once Tortoise is initialised."""
    columns = ",\n    ".join(f"{name} {column_sql(name, Dialect.POSTGRES)}" for name in LOG_COLUMNS)
    staging = (
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGING} (\n    {columns}\n) ON COMMIT DELETE ROWS"
    )
    return ";\n".join((staging, create_batch_tables_sql()))


# Claims the ids and, in the same statement (one snapshot, one round trip), drops from the
# staging table the rows whose ids another batch stored first; returns only those ids, so
# the usual answer (no duplicates) is empty.
_CLAIM = (
    "WITH claimed AS ("
    "INSERT INTO request_id_seen (request_id, organization_id, timestamp) "
    f"SELECT request_id, organization_id, timestamp FROM {_STAGING} "
    "ORDER BY request_id, organization_id "
    "ON CONFLICT (organization_id, request_id) DO NOTHING "
    "RETURNING organization_id, request_id), "
    f"dropped AS (DELETE FROM {_STAGING} AS s "
    "WHERE NOT EXISTS (SELECT 1 FROM claimed c "
    "WHERE c.organization_id = s.organization_id AND c.request_id = s.request_id) "
    "RETURNING s.organization_id, s.request_id) "
    "SELECT organization_id, request_id FROM dropped"
)
INSERT_LOGS = (
    f"INSERT INTO request_log ({_COLUMN_LIST}, ingested_at) "
    f"SELECT {_COLUMN_LIST}, now() FROM {_STAGING}"
)
# The new logs, then every rollup family and grain computed in SQL from them
# (ingestion/rollup_sql.py): one script, one round trip, because rollup rows
# stay locked until commit and every round trip inside that part makes concurrent batches
# of the organization wait longer.
WRITE_SCRIPT = ";\n".join((INSERT_LOGS, rollup_script(_STAGING)))
# Folding deferred: the new logs, listed for the folder by the same statement.
DEFERRED_WRITE_SCRIPT = (
    f'WITH logged AS ({INSERT_LOGS} RETURNING id, organization_id, "timestamp") '
    + RECORD_PENDING.format(inserted="logged")
)


async def insert_staged(
    conn: BaseDBAsyncClient, records: Sequence[PricedRecord]
) -> set[tuple[int, UUID]]:
    """Store the records (unique (organization, request id) pairs, sorted) whose ids are
    new in their organization, and roll them up (or list them for the folder); returns the
    (organization_id, request_id) pairs that were stored before (usually none). Runs inside
    the caller's transaction."""
    script = DEFERRED_WRITE_SCRIPT if folds_deferred(conn) else WRITE_SCRIPT
    async with conn.acquire_connection() as raw:
        duplicates = await stage_and_claim(raw, [log_row(r) for r in records])
        if len(duplicates) < len(records):
            await raw.execute(script)
    return duplicates


async def stage_and_claim(
    raw: Connection, rows: Sequence[tuple[object, ...]]
) -> set[tuple[int, UUID]]:
    """COPY the rows (LOG_COLUMNS, unique (organization, request id) pairs, sorted) into
    the staging table and claim their ids; returns the (organization_id, request_id) pairs
    stored before, whose rows left the staging table.
    Then `WRITE_SCRIPT` (or, to measure the raw log alone, `INSERT_LOGS`) stores the rest."""
    await raw.execute(_create_tables())
    await raw.copy_records_to_table(_STAGING, records=rows, columns=LOG_COLUMNS)
    return {(row[0], row[1]) for row in await raw.fetch(_CLAIM)}
