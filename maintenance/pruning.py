"""Batched deletes on either backend: raw logs past retention (SQLite, where request_log is
one table) and request ids too old to be claimed again (both backends).

Each batch is its own short transaction, so a large backlog never holds locks for long;
deleting in batches also keeps SQLite's single writer free for ingest in between.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from models.database import Params, current_dialect

BATCH_ROWS = 10_000


async def delete_logs_before(cutoff: datetime, batch_rows: int = BATCH_ROWS) -> int:
    """Delete raw logs with a timestamp before `cutoff` (UTC); returns how many."""
    return await _delete_in_batches("request_log", "id", cutoff, batch_rows)


async def prune_request_ids_before(before: datetime, batch_rows: int = BATCH_ROWS) -> int:
    """Forget request ids of logs timestamped before `before` (UTC); returns how many."""
    # The whole key: a request id may be stored for several organizations, each pruned by
    # its own entry's timestamp.
    return await _delete_in_batches(
        "request_id_seen", "organization_id, request_id", before, batch_rows
    )


async def _delete_in_batches(table: str, key: str, before: datetime, batch_rows: int) -> int:
    """Delete rows of `table` timestamped before `before`, `batch_rows` at a time, each
    batch chosen by `key` (the table's key columns, comma-separated)."""
    deleted = 0
    while True:
        params = Params(current_dialect())
        async with in_transaction() as conn:
            rows = await conn.execute_query_dict(
                f"DELETE FROM {table} WHERE ({key}) IN (SELECT {key} FROM {table} "
                f"WHERE timestamp < {params.add(before)} LIMIT {params.add(batch_rows)}) "
                f"RETURNING {key}",
                params.values,
            )
        deleted += len(rows)
        if len(rows) < batch_rows:
            return deleted
