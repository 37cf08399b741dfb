"""Request logs, read through the scope."""

from __future__ import annotations

from collections.abc import Sequence

from models.request_log import RequestLog
from resolvers.scope import Scope


async def request_logs_by_ids(scope: Scope, ids: Sequence[int]) -> dict[int, RequestLog]:
    """Logs by id; another member's or organization's logs are absent."""
    rows = await scope.logs().filter(id__in=list(ids))
    return {row.id: row for row in rows}
