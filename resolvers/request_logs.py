"""Request logs, read through the scope."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from models.request_log import RequestLog
from resolvers.scope import Scope


async def request_logs_by_ids(scope: Scope, ids: Sequence[int]) -> dict[int, RequestLog]:
    """Logs by id; another member's or organization's logs are absent."""
    rows = await scope.logs().filter(id__in=list(ids))
    return {row.id: row for row in rows}


async def request_log_by_request_id(scope: Scope, request_id: UUID) -> RequestLog | None:
    """The log the gateway sent with `request_id`, or None when it is missing, another
    organization's or (for a Member) another member's: all three answer alike. Served by
    the request_log_request_id index (migration 0018)."""
    return await scope.logs().filter(request_id=request_id).first()
