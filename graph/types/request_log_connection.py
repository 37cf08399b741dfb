"""Organization.requestLogs: the logs table, one keyset page at a time, newest first or in
another order (`orderBy`), optionally searched; Organization.requestLog: one log by the
gateway's request id."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias
from uuid import UUID

from strawberry.types.nodes import SelectedField, Selection

from graph.context import Info
from graph.inputs.filters import UsageFilter, to_log_filter
from graph.inputs.log_order import RequestLogOrder
from graph.types.api_key import ApiKeyType
from graph.types.connection import Connection, connection_from_page
from graph.types.member import MemberType
from graph.types.request_log import RequestLogType
from models.organization import Organization
from resolvers.log_order import NEWEST_FIRST
from resolvers.log_pages import (
    LogPage,
    LogPageRequest,
    LogRecord,
    count_request_logs,
    request_log_page,
)
from resolvers.log_search import MAX_SEARCH_BYTES, parse_search
from resolvers.pagination import PageRequest
from resolvers.request_logs import request_log_by_request_id
from resolvers.scope import Scope

RequestLogConnection: TypeAlias = Connection[RequestLogType]

REQUEST_LOGS_DESCRIPTION = (
    "Request logs, newest first (timestamp, then id) unless `orderBy` says otherwise. "
    "`first`: 1 to 100 (default 50); `after`: the `endCursor` of the previous page of the "
    "same order. A Member sees only their own requests; naming another member in "
    "`filter.memberIds` is FORBIDDEN."
)
ORDER_BY_DESCRIPTION = (
    "Sort order (default newest first); ties are broken by id in the same direction. Pages "
    "stay exact while new requests arrive: no log is repeated or skipped."
)
SEARCH_DESCRIPTION = (
    "Only logs whose error message, model, provider model or endpoint contains this text "
    f"(case-insensitive; at most {MAX_SEARCH_BYTES} bytes). Priced higher: it may scan many "
    "rows."
)


async def resolve_request_logs(
    scope: Scope,
    org: Organization,
    usage_filter: UsageFilter | None,
    first: int | None,
    after: str | None,
    info: Info,
    order_by: RequestLogOrder | None = None,
    search: str | None = None,
) -> RequestLogConnection:
    """One page of the viewer's logs in `org`; bodies only if the org keeps them. The keys
    and members the selection asks for are read with the page, in the same statement."""
    size = PageRequest.parse(first, None).size
    order = order_by.parsed() if order_by is not None else NEWEST_FIRST
    page_request = LogPageRequest(
        size=size,
        order=order,
        after=order.decode(after) if after else None,
        search=parse_search(search),
    )
    log_filter = to_log_filter(usage_filter, org)
    wanted = node_fields(info)
    read = await request_log_page(
        scope,
        log_filter,
        page_request,
        with_keys="apiKey" in wanted,
        with_members="member" in wanted,
    )
    page = read.page
    keys, members = _preload(read)

    def to_node(log: LogRecord) -> RequestLogType:
        node = RequestLogType.from_model(
            log, show_bodies=org.log_bodies, loaders=info.context.loaders
        )
        if keys is not None:
            node.preload_key(keys.get(log.api_key_id))
        if members is not None and log.member_id is not None:
            node.preload_member(members.get(log.member_id))
        return node

    async def count_rows() -> int:
        return await count_request_logs(scope, log_filter, page_request.search)

    return connection_from_page(page, to_node, count_rows)


async def resolve_request_log(
    scope: Scope, org: Organization, request_id: UUID, info: Info
) -> RequestLogType | None:
    """The viewer's log with the gateway's `request_id` in `org`, or None."""
    log = await request_log_by_request_id(scope, request_id)
    if log is None:
        return None
    return RequestLogType.from_model(log, show_bodies=org.log_bodies, loaders=info.context.loaders)


def _preload(
    read: LogPage,
) -> tuple[dict[int, ApiKeyType | None] | None, dict[int, MemberType | None] | None]:
    """The page's keys and members as API objects (one per key and member, shared by the
    rows), each when the selection asked for it (else None)."""
    keys = members = None
    if read.api_keys is not None:
        keys = {pk: ApiKeyType.from_model(k) if k else None for pk, k in read.api_keys.items()}
    if read.members is not None:
        members = {pk: MemberType.from_model(m) if m else None for pk, m in read.members.items()}
    return keys, members


def node_fields(info: Info) -> set[str]:
    """Names of the fields selected on `edges { node { ... } }` (fragments included)."""
    names: set[str] = set()

    def walk(selections: Sequence[Selection], path: tuple[str, ...]) -> None:
        for selection in selections:
            if isinstance(selection, SelectedField):
                if path == ("edges", "node"):
                    names.add(selection.name)
                elif len(path) < 2:
                    walk(selection.selections, (*path, selection.name))
            else:
                walk(selection.selections, path)

    for field in info.selected_fields:
        walk(field.selections, ())
    return names
