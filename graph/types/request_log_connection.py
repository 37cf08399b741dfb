"""Organization.requestLogs: the logs table, one keyset page at a time, newest first or in
another order (`orderBy`), optionally searched; Organization.requestLog: one log by the
gateway's request id."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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
from resolvers.request_logs import request_log_by_request_id
from resolvers.scope import Scope

RequestLogConnection: TypeAlias = Connection[RequestLogType]


@dataclass(frozen=True, slots=True)
class LogPageArguments:
    """`requestLogs`' paging arguments as the client sent them."""

    first: int | None
    after: str | None
    last: int | None
    before: str | None
    order_by: RequestLogOrder | None
    search: str | None


REQUEST_LOGS_DESCRIPTION = (
    "Request logs, newest first (timestamp, then id) unless `orderBy` says otherwise. "
    "Forwards: `first` 1 to 100 (default 50) and `after`, the `endCursor` of the previous "
    "page. Backwards: `last` 1 to 100 and `before`, the `startCursor` of the page after "
    "(without `before`: the last rows of the order); edges stay in the order. Giving both "
    "pairs is BAD_USER_INPUT; a cursor works only with the order it came from. A Member "
    "sees only their own requests; naming another member in `filter.memberIds` is FORBIDDEN."
)

LOGS_FIRST = "Page forwards: this many rows (1-100; default 50 when no `last` is given)."
LOGS_AFTER = "Page forwards from this cursor: the previous page's `endCursor`."
LOGS_LAST = "Page backwards: this many rows (1-100; default 50), just before `before`."
LOGS_BEFORE = (
    "Page backwards from this cursor: the `startCursor` of the page after; without it, "
    "`last` gives the last rows of the order."
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
    arguments: LogPageArguments,
    info: Info,
) -> RequestLogConnection:
    """One page of the viewer's logs in `org` (forwards or backwards, in any order);
    bodies only if the org keeps them. The keys and members the selection asks for are read
    with the page, in the same statement."""
    page_request = LogPageRequest.parse(
        arguments.first,
        arguments.after,
        arguments.last,
        arguments.before,
        order=arguments.order_by.parsed() if arguments.order_by is not None else NEWEST_FIRST,
        search=parse_search(arguments.search),
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
    keys, members = preloaded_objects(read)

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


def preloaded_objects(
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
