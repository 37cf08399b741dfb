"""Request log pages: newest first, keyset-paginated, through the scope.

A page is two statements: the keyset query picks the page's ids from the index that leads
with the organization (ORDER BY timestamp DESC, id DESC, LIMIT size + 1), then the rows are
loaded by primary key. The count of all matching rows is a separate query, run only when a
client asks for it.
"""

from __future__ import annotations

from models.database import Dialect, Params, current_dialect, fetch_all, parse_db_datetime
from models.request_log import RequestLog
from resolvers.pagination import KeysetCursor, Page, PageRequest, build_page, keyset_older_than
from resolvers.scope import LogFilter, Scope, scoped_conditions


def page_query(
    scope: Scope, log_filter: LogFilter, request: PageRequest, dialect: Dialect
) -> tuple[str, Params]:
    """The keyset SQL selecting one page's (id, timestamp), plus its parameters.

    Raises ForbiddenError when the filter reaches outside the scope.
    """
    params = Params(dialect)
    conditions = scoped_conditions(scope, log_filter, params)
    if request.after is not None:
        conditions.append(keyset_older_than(request.after, params))
    sql = (
        "SELECT id, timestamp FROM request_log WHERE "
        + " AND ".join(conditions)
        + f" ORDER BY timestamp DESC, id DESC LIMIT {params.add(request.size + 1)}"
    )
    return sql, params


async def request_log_page(
    scope: Scope, log_filter: LogFilter, request: PageRequest
) -> Page[RequestLog]:
    """One page of the viewer's request logs matching the filter, newest first."""
    sql, params = page_query(scope, log_filter, request, current_dialect())
    positions = [
        KeysetCursor(timestamp=parse_db_datetime(row["timestamp"]), id=int(row["id"]))
        for row in await fetch_all(sql, params)
    ]
    position_by_id = {p.id: p for p in positions}
    by_id: dict[int, RequestLog] = {}
    if positions:
        # Loaded through the same scope the keyset query used, never by bare id.
        loaded = await scope.logs().filter(id__in=list(position_by_id))
        by_id = {log.id: log for log in loaded}
    rows = [by_id[p.id] for p in positions if p.id in by_id]
    # The cursor keeps the timestamp exactly as the keyset query compared it.
    return build_page(rows, request, lambda log: position_by_id[log.id])


async def count_request_logs(scope: Scope, log_filter: LogFilter) -> int:
    """How many of the viewer's request logs match the filter (all pages together)."""
    params = Params(current_dialect())
    conditions = scoped_conditions(scope, log_filter, params)
    rows = await fetch_all(
        "SELECT COUNT(*) AS total FROM request_log WHERE " + " AND ".join(conditions), params
    )
    return int(rows[0]["total"])
