"""PostgreSQL fast path: COPY a batch into a staging table, insert from there, roll up in SQL.

Binary COPY is the cheapest way to hand PostgreSQL thousands of rows; the staging table is a
per-connection temporary table emptied at every commit (ON COMMIT DELETE ROWS), so a batch
always starts from an empty one. From it, one `INSERT ... SELECT ... ON CONFLICT (request_id)
DO NOTHING RETURNING` stores the new logs (in request-id order, like the portable path, so
concurrent batches meet on the unique index in one order), and each rollup table gets one
`INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE` computed from the new rows only.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient

from ingestion.log_row import LOG_COLUMNS, log_row
from ingestion.records import PricedRecord
from ingestion.rollups import ROLLUP_TABLES
from models.rollup import DIMENSION_COLUMNS, MEASURE_COLUMNS

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
_EPOCH = "TIMESTAMPTZ '1970-01-01 00:00:00+00'"
# Same measures, in the same order, as ingestion.rollups.measures().
_MEASURE_SQL = (
    "count(*)",
    "count(*) FILTER (WHERE status_code BETWEEN 200 AND 299)",
    "count(*) FILTER (WHERE status_code BETWEEN 400 AND 499)",
    "count(*) FILTER (WHERE status_code BETWEEN 500 AND 599)",
    "count(*) FILTER (WHERE NOT priced)",
    "sum(input_tokens)",
    "sum(output_tokens)",
    "sum(provider_cost_nanos)",
    "sum(markup_nanos)",
    "sum(fixed_fee_nanos)",
    "sum(customer_cost_nanos)",
    "sum(latency_ms)",
)
_INTERVALS = {
    "usage_rollup_quarter": "15 minutes",
    "usage_rollup_hour": "1 hour",
    "usage_rollup_day": "1 day",
}


def _rollup_sql(table: str) -> str:
    keys = [
        "organization_id",
        f"date_bin('{_INTERVALS[table]}', timestamp, {_EPOCH})",
        *("COALESCE(member_id, 0)" if c == "member_id" else c for c in DIMENSION_COLUMNS),
    ]
    # Text sorted byte-wise ("C"), like Python's str order in rollups.apply_rollups, so both
    # paths lock rollup rows in the same order.
    order = ", ".join(
        f'{k} COLLATE "C"' if k in {"model", "provider_model", "endpoint"} else k for k in keys
    )
    conflict = ", ".join(("organization_id", "bucket_start", *DIMENSION_COLUMNS))
    updates = ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in MEASURE_COLUMNS)
    group = ", ".join(str(i) for i in range(1, len(keys) + 1))
    return (
        f"INSERT INTO {table} ({conflict}, {', '.join(MEASURE_COLUMNS)}) "
        f"SELECT {', '.join(keys)}, {', '.join(_MEASURE_SQL)} FROM {_STAGING} "
        f"GROUP BY {group} ORDER BY {order} "
        f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
    )


# One script, one round trip: rollup rows stay locked until commit, so every round trip
# inside the locked part of the transaction makes concurrent batches wait longer.
_ROLLUP_SCRIPT = ";\n".join(_rollup_sql(table) for table in ROLLUP_TABLES)


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
