"""Organization.requestLogs: the logs table, one keyset page at a time, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

from strawberry.types.nodes import SelectedField, Selection

from graph.context import Info
from graph.inputs.filters import UsageFilter, to_log_filter
from graph.types.api_key import ApiKeyType
from graph.types.connection import Connection, connection_from_page
from graph.types.member import MemberType
from graph.types.request_log import RequestLogType
from models.organization import Organization
from resolvers.log_pages import LogPage, LogRecord, count_request_logs, request_log_page
from resolvers.pagination import PageRequest
from resolvers.scope import Scope

RequestLogConnection: TypeAlias = Connection[RequestLogType]

REQUEST_LOGS_DESCRIPTION = (
    "Request logs, newest first (timestamp, then id). Forwards: `first` 1 to 100 (default "
    "50) and `after`, the `endCursor` of the previous page. Backwards: `last` 1 to 100 and "
    "`before`, the `startCursor` of the page after (without `before`: the oldest rows); "
    "edges stay newest first. Giving both pairs is BAD_USER_INPUT. A Member sees only their "
    "own requests; naming another member in `filter.memberIds` is FORBIDDEN."
)

LOGS_FIRST = "Page forwards: this many rows (1-100; default 50 when no `last` is given)."
LOGS_AFTER = "Page forwards from this cursor: the previous page's `endCursor`."
LOGS_LAST = "Page backwards: this many rows (1-100; default 50), just newer than `before`."
LOGS_BEFORE = (
    "Page backwards from this cursor: the `startCursor` of the page after; without it, "
    "`last` gives the oldest rows."
)


async def resolve_request_logs(
    scope: Scope,
    org: Organization,
    usage_filter: UsageFilter | None,
    page_request: PageRequest,
    info: Info,
) -> RequestLogConnection:
    """One page of the viewer's logs in `org` (forwards or backwards); bodies only if the org
    keeps them. The keys and members the selection asks for are read with the page, in the
    same statement."""
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
        return await count_request_logs(scope, log_filter)

    return connection_from_page(page, to_node, count_rows)


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
