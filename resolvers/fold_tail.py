"""The unfolded tail: raw rows whose rollups the folder has not folded yet (PostgreSQL).

With folding deferred (ingestion/folding.py) a committed raw row is in `fold_pending` until
a fold deletes it there and adds it to every rollup table, in one transaction. A read of a
rollup table therefore reads, in the SAME statement (one snapshot), the raw rows still
pending over the same time: each row is then counted exactly once, in the rollups or in the
tail, and the answer equals a raw scan at every instant, folder running or stopped.

`pending_rows` is the FROM item of such a tail: request_log's rows of one organization and
time range that are still pending, under the name `request_log`, so the raw branches'
conditions, dimension expressions and tag join apply to it unchanged (the scope builder
is applied to the tail exactly as to a raw slice). SQLite folds at ingest: no tail.
"""

from __future__ import annotations

from models.database import Dialect, Params
from resolvers.periods import TimeRange
from resolvers.scope import Scope


def has_tail(dialect: Dialect) -> bool:
    """Whether rollup reads on `dialect` must add the pending raw rows."""
    return dialect is Dialect.POSTGRES


def pending_rows(scope: Scope, hull: TimeRange, params: Params) -> str:
    """FROM item: the scope's organization's request_log rows with a timestamp in `hull`
    that are still pending, named `request_log` (the caller adds the scope's conditions).
    Placeholders are added here: build it where it stands in the statement's text."""
    # Driven by the pending rows, whatever the statistics of a table that empties and
    # fills all day: OFFSET 0 keeps the lateral subquery from being flattened, so each
    # pending row probes request_log's key (id, timestamp) in its own month's partition,
    # and a read never scans the organization's raw rows of the range to find the few
    # pending ones.
    tenant = scope.tenant().sql(params, "fold_pending")
    return (
        "(SELECT logged.* FROM fold_pending CROSS JOIN LATERAL (SELECT * FROM request_log "
        "WHERE request_log.id = fold_pending.log_id "
        'AND request_log."timestamp" = fold_pending."timestamp" OFFSET 0) AS logged '
        f"WHERE {tenant} "
        f'AND fold_pending."timestamp" >= {params.add(hull.start)} '
        f'AND fold_pending."timestamp" < {params.add(hull.end)}) AS request_log'
    )
