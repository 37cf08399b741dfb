"""Organization.requestLogs: the logs table, one keyset page at a time, newest first."""

from __future__ import annotations

from typing import TypeAlias

from graph.inputs.filters import UsageFilter, to_log_filter
from graph.types.connection import Connection, connection_from_page
from graph.types.request_log import RequestLogType
from models.organization import Organization
from models.request_log import RequestLog
from resolvers.log_pages import count_request_logs, request_log_page
from resolvers.pagination import PageRequest
from resolvers.scope import Scope

RequestLogConnection: TypeAlias = Connection[RequestLogType]

REQUEST_LOGS_DESCRIPTION = (
    "Request logs, newest first (timestamp, then id). `first`: 1 to 100 (default 50); "
    "`after`: the `endCursor` of the previous page. A Member sees only their own requests; "
    "naming another member in `filter.memberIds` is FORBIDDEN."
)


async def resolve_request_logs(
    scope: Scope,
    org: Organization,
    usage_filter: UsageFilter | None,
    first: int | None,
    after: str | None,
) -> RequestLogConnection:
    """One page of the viewer's logs in `org`; bodies only if the org keeps them."""
    page_request = PageRequest.parse(first, after)
    log_filter = to_log_filter(usage_filter, org)
    page = await request_log_page(scope, log_filter, page_request)

    def to_node(log: RequestLog) -> RequestLogType:
        return RequestLogType.from_model(log, show_bodies=org.log_bodies)

    async def count_rows() -> int:
        return await count_request_logs(scope, log_filter)

    return connection_from_page(page, to_node, count_rows)
