"""Rollup maintenance: fold written records into the QUARTER/HOUR/DAY usage tables.

Called inside the ingest transaction, with only the records that were newly inserted, so a
resent record never counts twice. Rows are upserted in key order so that concurrent batches
lock rollup rows in the same order and cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from ingestion.records import PricedRecord
from models.database import Params, dialect_of
from models.rollup import DIMENSION_COLUMNS, MEASURE_COLUMNS

ROLLUP_TABLES: dict[str, timedelta] = {
    "usage_rollup_quarter": timedelta(minutes=15),
    "usage_rollup_hour": timedelta(hours=1),
    "usage_rollup_day": timedelta(days=1),
}
# Keep each statement under SQLite's bound-variable limit (32766).
_ROWS_PER_STATEMENT = 1000

RollupKey = tuple[datetime, int, int, str, str, str, int]


def floor_utc(instant: datetime, width: timedelta) -> datetime:
    """Start of the UTC bucket of `width` (15 min, 1 h or 1 day) containing the instant."""
    epoch = datetime(1970, 1, 1, tzinfo=instant.tzinfo)
    return instant - (instant - epoch) % width


def measures(record: PricedRecord) -> tuple[int, ...]:
    """The record's contribution to each MEASURE_COLUMNS column, in order."""
    code = record.status_code
    return (
        1,
        1 if 200 <= code < 300 else 0,
        1 if 400 <= code < 500 else 0,
        1 if 500 <= code < 600 else 0,
        0 if record.priced else 1,
        record.input_tokens,
        record.output_tokens,
        record.provider_cost_nanos,
        record.markup_nanos,
        record.fixed_fee_nanos,
        record.customer_cost_nanos,
        record.latency_ms,
    )


def aggregate(
    records: Iterable[PricedRecord], width: timedelta
) -> dict[tuple[int, RollupKey], list[int]]:
    """Sum records per (organization, bucket and dimensions)."""
    totals: dict[tuple[int, RollupKey], list[int]] = {}
    for record in records:
        key: RollupKey = (
            floor_utc(record.timestamp, width),
            record.api_key_id,
            record.member_id or 0,
            record.model,
            record.provider_model,
            record.endpoint,
            record.status_code,
        )
        values = measures(record)
        current = totals.get((record.organization_id, key))
        if current is None:
            totals[(record.organization_id, key)] = list(values)
        else:
            for i, value in enumerate(values):
                current[i] += value
    return totals


async def apply_rollups(
    conn: BaseDBAsyncClient, records: list[PricedRecord], sign: int = 1
) -> None:
    """Add (sign=1) or subtract (sign=-1) the records' measures in every rollup table."""
    if not records:
        return
    columns = ("organization_id", "bucket_start", *DIMENSION_COLUMNS, *MEASURE_COLUMNS)
    conflict = ", ".join(("organization_id", "bucket_start", *DIMENSION_COLUMNS))
    for table, width in ROLLUP_TABLES.items():
        rows = sorted(aggregate(records, width).items(), key=lambda item: _sort_key(item[0]))
        updates = ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in MEASURE_COLUMNS)
        for start in range(0, len(rows), _ROWS_PER_STATEMENT):
            params = Params(dialect_of(conn))
            value_rows = []
            for (organization_id, key), values in rows[start : start + _ROWS_PER_STATEMENT]:
                cells = [organization_id, *key, *(sign * v for v in values)]
                value_rows.append("(" + ", ".join(params.add(c) for c in cells) + ")")
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join(value_rows)} "
                f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
            )
            await conn.execute_query(sql, params.values)


def _sort_key(item: tuple[int, RollupKey]) -> tuple[object, ...]:
    organization_id, key = item
    return (organization_id, *key)
