"""Organization.requestLogs: the logs table, one keyset page at a time, newest first."""

from __future__ import annotations

import asyncio
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
from resolvers.log_pages import LogRecord, count_request_logs, request_log_page
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
    info: Info | None = None,
) -> RequestLogConnection:
    """One page of the viewer's logs in `org`; bodies only if the org keeps them. With
    `info`, the keys and members the selection asks for are loaded for the whole page at
    once (one statement each, as the dataloaders would)."""
    page_request = PageRequest.parse(first, after)
    log_filter = to_log_filter(usage_filter, org)
    page = await request_log_page(scope, log_filter, page_request)
    keys, members = await _preload(info, page.rows)

    def to_node(log: LogRecord) -> RequestLogType:
        node = RequestLogType.from_model(log, show_bodies=org.log_bodies)
        if keys is not None:
            node.preload_key(keys.get(log.api_key_id))
        if members is not None and log.member_id is not None:
            node.preload_member(members.get(log.member_id))
        return node

    async def count_rows() -> int:
        return await count_request_logs(scope, log_filter)

    return connection_from_page(page, to_node, count_rows)


async def _preload(
    info: Info | None, logs: list[LogRecord]
) -> tuple[dict[int, ApiKeyType | None] | None, dict[int, MemberType | None] | None]:
    """The page's keys and members, each when the selection asks for it (else None)."""
    wanted = node_fields(info) if info is not None and logs else set()
    if not wanted & {"apiKey", "member"}:
        return None, None
    assert info is not None
    loaders = info.context.loaders
    key_ids = sorted({log.api_key_id for log in logs}) if "apiKey" in wanted else []
    member_ids = (
        sorted({log.member_id for log in logs if log.member_id is not None})
        if "member" in wanted
        else []
    )
    keys, members = await asyncio.gather(
        loaders.api_key_by_id.load_many(key_ids), loaders.member_by_id.load_many(member_ids)
    )
    return (
        {
            pk: ApiKeyType.from_model(key) if key else None
            for pk, key in zip(key_ids, keys, strict=True)
        }
        if "apiKey" in wanted
        else None,
        {
            pk: MemberType.from_model(member) if member else None
            for pk, member in zip(member_ids, members, strict=True)
        }
        if "member" in wanted
        else None,
    )


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
