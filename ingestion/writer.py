"""Write priced records: raw log, rollups, wallet and spend counters in ONE transaction.

The request id is unique, and `INSERT ... ON CONFLICT DO NOTHING RETURNING` tells which
records are new; only those touch rollups, wallet and spend. A concurrent batch carrying the
same id waits on the unique index and then skips it, so nothing is ever counted twice.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from ingestion.records import PricedRecord
from ingestion.rollups import apply_rollups
from models.database import Dialect, Params, dialect_of
from resolvers.periods import billing_period

_LOG_COLUMNS = (
    "request_id",
    "organization_id",
    "api_key_id",
    "member_id",
    "timestamp",
    "model",
    "provider_model",
    "endpoint",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "provider_cost_nanos",
    "markup_nanos",
    "fixed_fee_nanos",
    "customer_cost_nanos",
    "priced",
    "latency_ms",
    "status_code",
    "error_message",
    "metadata",
    "request_body",
    "response_body",
    "ingested_at",
)
_ROWS_PER_STATEMENT = 500

# Hook run inside the transaction with the newly inserted records (spend control, alerts).
AfterWrite = Callable[[BaseDBAsyncClient, list[PricedRecord]], Awaitable[None]]


@dataclass(slots=True)
class WriteResult:
    inserted: list[PricedRecord] = field(default_factory=list)
    duplicates: list[PricedRecord] = field(default_factory=list)


async def write_records(
    records: Sequence[PricedRecord], after_write: AfterWrite | None = None
) -> WriteResult:
    """Store the records exactly once each; returns which were new and which duplicates."""
    result = WriteResult()
    if not records:
        return result
    # One order for every batch: concurrent batches then lock shared rows in the same order.
    ordered = sorted(records, key=lambda r: str(r.request_id))
    async with in_transaction() as conn:
        inserted_ids: set[UUID] = set()
        for start in range(0, len(ordered), _ROWS_PER_STATEMENT):
            chunk = ordered[start : start + _ROWS_PER_STATEMENT]
            inserted_ids |= await _insert_logs(conn, chunk)
        seen: set[UUID] = set()
        for record in ordered:
            if record.request_id in inserted_ids and record.request_id not in seen:
                result.inserted.append(record)
                seen.add(record.request_id)
            else:
                result.duplicates.append(record)
        await apply_rollups(conn, result.inserted)
        await _deduct_wallets(conn, result.inserted)
        await _add_spend(conn, result.inserted)
        if after_write is not None:
            await after_write(conn, result.inserted)
    return result


async def _insert_logs(conn: BaseDBAsyncClient, records: Sequence[PricedRecord]) -> set[UUID]:
    dialect = dialect_of(conn)
    params = Params(dialect)
    now = datetime.now(UTC)
    rows = []
    for r in records:
        cells = (
            str(r.request_id) if dialect is Dialect.SQLITE else r.request_id,
            r.organization_id,
            r.api_key_id,
            r.member_id,
            r.timestamp,
            r.model,
            r.provider_model,
            r.endpoint,
            r.input_tokens,
            r.output_tokens,
            r.total_tokens,
            r.provider_cost_nanos,
            r.markup_nanos,
            r.fixed_fee_nanos,
            r.customer_cost_nanos,
            r.priced,
            r.latency_ms,
            r.status_code,
            r.error_message,
            None if r.metadata is None else json.dumps(r.metadata, sort_keys=True),
            r.request_body,
            r.response_body,
            now,
        )
        rows.append("(" + ", ".join(params.add(c) for c in cells) + ")")
    sql = (
        f"INSERT INTO request_log ({', '.join(_LOG_COLUMNS)}) VALUES {', '.join(rows)} "
        "ON CONFLICT (request_id) DO NOTHING RETURNING request_id"
    )
    returned = await conn.execute_query_dict(sql, params.values)
    return {UUID(str(row["request_id"])) for row in returned}


async def _deduct_wallets(conn: BaseDBAsyncClient, records: list[PricedRecord]) -> None:
    per_org: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for record in records:
        per_org[record.organization_id][0] += record.customer_cost_nanos
        per_org[record.organization_id][1] += 1
    now = datetime.now(UTC)
    for organization_id in sorted(per_org):
        cost, count = per_org[organization_id]
        params = Params(dialect_of(conn))
        rows = await conn.execute_query_dict(
            f"UPDATE organization SET wallet_balance_nanos = wallet_balance_nanos - "
            f"{params.add(cost)} WHERE id = {params.add(organization_id)} "
            "RETURNING wallet_balance_nanos",
            params.values,
        )
        balance = int(rows[0]["wallet_balance_nanos"])
        params = Params(dialect_of(conn))
        values = (organization_id, "USAGE", -cost, balance, count, None, None, now)
        await conn.execute_query(
            "INSERT INTO wallet_entry (organization_id, kind, amount_nanos, "
            "balance_after_nanos, request_count, note, created_by_id, created_at) VALUES ("
            + ", ".join(params.add(v) for v in values)
            + ")",
            params.values,
        )


async def _add_spend(conn: BaseDBAsyncClient, records: list[PricedRecord]) -> None:
    """Spend per billing period for the organization (api_key_id 0) and for each key."""
    if not records:
        return
    billing = await _billing_settings(conn, {r.organization_id for r in records})
    per_counter: dict[tuple[int, int, datetime], list[int]] = defaultdict(lambda: [0, 0])
    for record in records:
        tz, anchor_day = billing[record.organization_id]
        start = billing_period(record.timestamp, tz, anchor_day).start
        for key_id in (0, record.api_key_id):
            counter = per_counter[(record.organization_id, key_id, start)]
            counter[0] += record.customer_cost_nanos
            counter[1] += 1
    for (organization_id, key_id, start), (spend, count) in sorted(per_counter.items()):
        params = Params(dialect_of(conn))
        values = (organization_id, key_id, start, spend, count)
        await conn.execute_query(
            "INSERT INTO spend_counter (organization_id, api_key_id, period_start, spend_nanos, "
            "requests) VALUES (" + ", ".join(params.add(v) for v in values) + ") "
            "ON CONFLICT (organization_id, api_key_id, period_start) DO UPDATE SET "
            "spend_nanos = spend_counter.spend_nanos + excluded.spend_nanos, "
            "requests = spend_counter.requests + excluded.requests",
            params.values,
        )


async def _billing_settings(
    conn: BaseDBAsyncClient, organization_ids: set[int]
) -> dict[int, tuple[ZoneInfo, int]]:
    params = Params(dialect_of(conn))
    rows = await conn.execute_query_dict(
        "SELECT id, timezone, billing_anchor_day FROM organization WHERE id IN ("
        + params.add_list(sorted(organization_ids))
        + ")",
        params.values,
    )
    return {
        int(row["id"]): (ZoneInfo(row["timezone"]), int(row["billing_anchor_day"])) for row in rows
    }
