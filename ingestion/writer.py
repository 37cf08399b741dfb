"""Write priced records: raw log, wallet and spend counters (and the rollups, or on
PostgreSQL by default the list of rows the folder folds after the commit:
ingestion/folding.py) in ONE transaction.

Each record first claims its request id in `request_id_seen`, keyed by (organization_id,
request_id): idempotency is per organization, so one organization's ids never make another's
records duplicates (`INSERT ... ON CONFLICT DO NOTHING RETURNING` tells which ids are new);
only the records whose ids were new are written to request_log and touch rollups, wallet and
spend. A concurrent batch carrying the same id for the same organization waits on that key
until the first commits, then skips it, so nothing is ever counted twice; a rolled-back
batch releases its claims with the rest.

PostgreSQL takes the staged COPY path (ingestion/staged_insert.py); SQLite claims and inserts
with multi-row VALUES and folds rollups in Python. Both produce identical rows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from ingestion.lock_wait import IngestBusy, bound_lock_waits, is_wait_timeout
from ingestion.log_row import LOG_COLUMNS, log_row
from ingestion.retry import with_rollback_retry
from ingestion.rollups import apply_rollups
from ingestion.staged_insert import insert_staged
from live.bus import LIVE_BUS
from live.notices import notices_for, notify_in_transaction
from models.database import Dialect, Params, dialect_of
from models.priced_record import PricedRecord
from spend.deductions import add_spend, deduct_wallets
from spend.out_of_range import TotalsOutOfRange, is_out_of_range

_ROWS_PER_STATEMENT = 500

# Hook run inside the transaction with the newly inserted records (spend control, alerts).
AfterWrite = Callable[[BaseDBAsyncClient, list[PricedRecord]], Awaitable[None]]


@dataclass(slots=True)
class WriteResult:
    inserted: list[PricedRecord] = field(default_factory=list)
    duplicates: list[PricedRecord] = field(default_factory=list)


async def write_records(
    records: Sequence[PricedRecord],
    after_write: AfterWrite | None = None,
    *,
    lock_wait_seconds: float | None = None,
) -> WriteResult:
    """Store the records exactly once each per organization; returns which were new and
    which duplicates (a request id already stored for the record's organization, or repeated
    within the batch for it). Returns after commit.
    Raises TotalsOutOfRange (nothing stored) when a running total would leave 64 bits, and
    IngestBusy (nothing stored) when a wait for a row lock would outlast
    `lock_wait_seconds` (PostgreSQL; None: bounded by the statement timeout only) or a
    statement its timeout (ingestion/lock_wait.py)."""
    if not records:
        return WriteResult()
    # One order for every batch: concurrent batches then lock shared rows in the same order.
    # Keyed and sorted by the id's integer value (the order of its bytes, PostgreSQL's uuid
    # order; ints hash and compare in C, UUID objects through Python methods), then the
    # organization, as the claim statements order them.
    unique: dict[tuple[int, int], PricedRecord] = {}
    repeated: list[PricedRecord] = []
    for record in sorted(records, key=_claim_key):
        value = _claim_key(record)
        if value in unique:
            repeated.append(record)
        else:
            unique[value] = record
    ordered = list(unique.values())
    try:
        result = await with_rollback_retry(
            lambda: _write_once(ordered, after_write, lock_wait_seconds), "ingest batch"
        )
    except Exception as exc:
        if is_out_of_range(exc):
            raise TotalsOutOfRange() from exc
        if is_wait_timeout(exc):
            raise IngestBusy() from exc
        raise
    result.duplicates.extend(repeated)
    return result


async def _write_once(
    ordered: list[PricedRecord], after_write: AfterWrite | None, lock_wait_seconds: float | None
) -> WriteResult:
    result = WriteResult()
    async with in_transaction() as conn:
        if lock_wait_seconds is not None:
            await bound_lock_waits(conn, lock_wait_seconds)
        if dialect_of(conn) is Dialect.POSTGRES:
            stored_before = await insert_staged(conn, ordered)
            if stored_before:
                for record in ordered:
                    new = (record.organization_id, record.request_id) not in stored_before
                    (result.inserted if new else result.duplicates).append(record)
            else:
                result.inserted = list(ordered)
        else:
            claimed = set()
            for start in range(0, len(ordered), _ROWS_PER_STATEMENT):
                claimed |= await _claim_values(conn, ordered[start : start + _ROWS_PER_STATEMENT])
            for record in ordered:
                new = (record.organization_id, record.request_id) in claimed
                (result.inserted if new else result.duplicates).append(record)
        if dialect_of(conn) is Dialect.SQLITE:
            for start in range(0, len(result.inserted), _ROWS_PER_STATEMENT):
                await _insert_values(conn, result.inserted[start : start + _ROWS_PER_STATEMENT])
            await apply_rollups(conn, result.inserted)
        if result.inserted:
            await deduct_wallets(conn, result.inserted)
            await add_spend(conn, result.inserted)
        if after_write is not None:
            await after_write(conn, result.inserted)
        # Live subscriptions: PostgreSQL delivers these at commit, to every process.
        notices = notices_for([(r.organization_id, r.timestamp) for r in result.inserted])
        await notify_in_transaction(conn, notices)
        postgres = dialect_of(conn) is Dialect.POSTGRES
    if not postgres:
        # SQLite: one process; announced in it now that the batch is committed.
        for notice in notices:
            LIVE_BUS.publish(notice)
    return result


def _claim_key(record: PricedRecord) -> tuple[int, int]:
    return record.request_id.int, record.organization_id


async def _claim_values(
    conn: BaseDBAsyncClient, records: Sequence[PricedRecord]
) -> set[tuple[int, UUID]]:
    """Claim the records' request ids in their organizations; returns the (organization_id,
    request_id) pairs that were not stored before."""
    params = Params(dialect_of(conn))
    rows = ", ".join(
        # SQLite keeps the request id as text.
        f"({params.add(str(r.request_id))}, {params.add(r.organization_id)}, "
        f"{params.add(r.timestamp)})"
        for r in records
    )
    returned = await conn.execute_query_dict(
        f"INSERT INTO request_id_seen (request_id, organization_id, timestamp) VALUES {rows} "
        "ON CONFLICT (organization_id, request_id) DO NOTHING RETURNING organization_id, "
        "request_id",
        params.values,
    )
    return {(row["organization_id"], UUID(str(row["request_id"]))) for row in returned}


async def _insert_values(conn: BaseDBAsyncClient, records: Sequence[PricedRecord]) -> None:
    params = Params(dialect_of(conn))
    now = datetime.now(UTC)
    rows = []
    for r in records:
        cells = (str(r.request_id), *log_row(r)[1:], now)
        rows.append("(" + ", ".join(params.add(c) for c in cells) + ")")
    await conn.execute_query(
        f"INSERT INTO request_log ({', '.join(LOG_COLUMNS)}, ingested_at) VALUES {', '.join(rows)}",
        params.values,
    )
