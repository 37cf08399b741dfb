"""PostgreSQL fast path: COPY a batch into a staging table, insert from there, roll up in SQL.

Binary COPY is the cheapest way to hand PostgreSQL thousands of rows; the staging table is a
per-connection temporary table emptied at every commit (ON COMMIT DELETE ROWS), so a batch
always starts from an empty one. From it, one `INSERT ... SELECT ... ON CONFLICT (request_id)
DO NOTHING RETURNING` stores the new logs (in request-id order, like the portable path, so
concurrent batches meet on the unique index in one order), and each rollup table (usage rollups,
cubes and latency histograms) gets one `INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO
UPDATE` computed from the new rows only (ingestion/rollup_sql.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient

from ingestion.log_row import LOG_COLUMNS, log_row
from ingestion.records import PricedRecord
from ingestion.rollup_sql import rollup_script

_STAGING = "ingest_staging"
_CREATE_STAGING = f"""
CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGING} (
    request_id uuid NOT NULL,
    organization_id integer NOT NULL,
    api_key_id integer NOT NULL,
    member_id integer,
    timestamp timestamptz NOT NULL,
    model varchar(100) NOT NULL,
    provider_model varchar(100) NOT NULL,
    endpoint varchar(200) NOT NULL,
    input_tokens bigint NOT NULL,
    output_tokens bigint NOT NULL,
    total_tokens bigint NOT NULL,
    provider_cost_nanos bigint NOT NULL,
    markup_nanos bigint NOT NULL,
    fixed_fee_nanos bigint NOT NULL,
    customer_cost_nanos bigint NOT NULL,
    priced boolean NOT NULL,
    latency_ms integer NOT NULL,
    status_code smallint NOT NULL,
    error_message text,
    metadata jsonb,
    request_body text,
    response_body text
) ON COMMIT DELETE ROWS
"""
_COLUMN_LIST = ", ".join(LOG_COLUMNS)
_INSERT_LOGS = (
    f"INSERT INTO request_log ({_COLUMN_LIST}, ingested_at) "
    f"SELECT {_COLUMN_LIST}, now() FROM {_STAGING} ORDER BY request_id "
    "ON CONFLICT (request_id) DO NOTHING RETURNING request_id"
)
# A join on unnest() is hashed; "= ANY($1)" would compare every row with every duplicate.
_DROP_DUPLICATES = (
    f"DELETE FROM {_STAGING} AS s USING unnest($1::uuid[]) AS d(request_id) "
    "WHERE s.request_id = d.request_id"
)
# Every rollup family and grain, computed in SQL from the new rows (one definition, shared
# with the benchmark's bulk rebuild); one script, one round trip.
_ROLLUP_SCRIPT = rollup_script(_STAGING)


async def insert_staged(conn: BaseDBAsyncClient, records: Sequence[PricedRecord]) -> set[UUID]:
    """Store the records (unique request ids, sorted) and roll up the new ones; returns the
    request ids that were new. Runs inside the caller's transaction on PostgreSQL."""
    async with conn.acquire_connection() as raw:
        await raw.execute(_CREATE_STAGING)
        await raw.copy_records_to_table(
            _STAGING, records=[log_row(r) for r in records], columns=LOG_COLUMNS
        )
        inserted = {row[0] for row in await raw.fetch(_INSERT_LOGS)}
        if not inserted:
            return inserted
        if len(inserted) < len(records):
            # Rows another batch stored first must not be rolled up a second time.
            duplicates = [r.request_id for r in records if r.request_id not in inserted]
            await raw.execute(_DROP_DUPLICATES, duplicates)
        await raw.execute(_ROLLUP_SCRIPT)
    return inserted
