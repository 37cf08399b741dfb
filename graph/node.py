"""Query.node and Query.nodes: global ids resolved through the viewer's scope.

Another organization's id, another member's log (for a Member), a team-only object (for a
Member), an id of a type we do not know and an id that does not decode all answer null,
indistinguishably. `nodes` reads each type's ids together (one statement where a batched
reader exists) and answers in the order asked, a null for each miss.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence

from admin.limit_requests import limit_request_by_id
from admin.report_schedules import report_schedule_by_id
from graph.context import Info
from graph.errors import BadUserInputError
from graph.relay import MAX_NODE_IDS
from graph.types.alert import AlertEventType
from graph.types.api_key import ApiKeyType
from graph.types.audit_entry import AuditEntryType
from graph.types.limit_request import LimitRequestType
from graph.types.member import MemberType
from graph.types.node import Node
from graph.types.organization import OrganizationType
from graph.types.report import ReportType
from graph.types.report_schedule import ReportScheduleType
from graph.types.request_log import RequestLogType
from graph.types.wallet import WalletEntryType
from models.global_ids import decode_global_id
from models.organization import Organization
from reports.store import report_record_by_id
from resolvers.alerts import alerts_by_ids
from resolvers.api_keys import api_keys_by_ids
from resolvers.audit_trail import audit_record_by_id, token_prefixes
from resolvers.request_logs import request_logs_by_ids
from resolvers.wallet import ledger_entries_by_ids

# Reads the nodes of one type by primary key: those the viewer may see, by key.
NodeReader = Callable[[Info, list[int]], Awaitable[dict[int, Node]]]


async def resolve_node(info: Info, global_id: str) -> Node | None:
    """The object `global_id` names if the viewer may see it, else None."""
    return (await resolve_nodes(info, [global_id]))[0]


async def resolve_nodes(info: Info, global_ids: Sequence[str]) -> list[Node | None]:
    """One answer per id, in order: the object, or None (missing, out of scope, not ours).
    More than MAX_NODE_IDS ids is BAD_USER_INPUT."""
    if len(global_ids) > MAX_NODE_IDS:
        raise BadUserInputError(f"ids: at most {MAX_NODE_IDS} ids, got {len(global_ids)}")
    decoded = [decode_global_id(global_id) for global_id in global_ids]
    wanted: dict[str, list[int]] = defaultdict(list)
    for named in decoded:
        if named is not None and named[0] in _READERS:
            wanted[named[0]].append(named[1])
    found: dict[tuple[str, int], Node] = {}
    for type_name, pks in wanted.items():
        for pk, node in (await _READERS[type_name](info, sorted(set(pks)))).items():
            found[(type_name, pk)] = node
    return [None if named is None else found.get(named) for named in decoded]


async def _organization(info: Info) -> Organization:
    """The viewer's organization row (loaded once with the token when possible)."""
    org = info.context.viewer.organization
    if org is None or org.id != info.context.scope.organization_id:
        org = await Organization.get(id=info.context.scope.organization_id)
    return org


async def _organizations(info: Info, pks: list[int]) -> dict[int, Node]:
    own = info.context.scope.organization_id
    if own not in pks:
        return {}
    return {own: OrganizationType.from_model(await Organization.get(id=own))}


async def _members(info: Info, pks: list[int]) -> dict[int, Node]:
    members = await info.context.loaders.member_by_id.load_many(pks)
    return {m.id: MemberType.from_model(m) for m in members if m is not None}


async def _api_keys(info: Info, pks: list[int]) -> dict[int, Node]:
    keys = await api_keys_by_ids(info.context.scope, pks)
    return {pk: ApiKeyType.from_model(key) for pk, key in keys.items()}


async def _request_logs(info: Info, pks: list[int]) -> dict[int, Node]:
    logs = await request_logs_by_ids(info.context.scope, pks)
    if not logs:
        return {}
    org = await _organization(info)
    loaders = info.context.loaders
    return {
        pk: RequestLogType.from_model(log, show_bodies=org.log_bodies, loaders=loaders)
        for pk, log in logs.items()
    }


async def _alerts(info: Info, pks: list[int]) -> dict[int, Node]:
    records = await alerts_by_ids(info.context.scope, pks)
    if not records:
        return {}
    org = await _organization(info)
    return {pk: AlertEventType.from_record(record, org) for pk, record in records.items()}


async def _wallet_entries(info: Info, pks: list[int]) -> dict[int, Node]:
    entries = await ledger_entries_by_ids(info.context.scope, pks)
    return {pk: WalletEntryType.from_entry(entry) for pk, entry in entries.items()}


# One row each (these lists are short and team-only): read one by one.
async def _limit_requests(info: Info, pks: list[int]) -> dict[int, Node]:
    found: dict[int, Node] = {}
    for pk in pks:
        request = await limit_request_by_id(info.context.scope, pk)
        if request is not None:
            found[pk] = LimitRequestType.from_model(request)
    return found


async def _reports(info: Info, pks: list[int]) -> dict[int, Node]:
    found: dict[int, Node] = {}
    for pk in pks:
        record = await report_record_by_id(info.context.scope, pk)
        if record is not None:
            found[pk] = ReportType.from_record(record)
    return found


async def _report_schedules(info: Info, pks: list[int]) -> dict[int, Node]:
    found: dict[int, Node] = {}
    for pk in pks:
        schedule = await report_schedule_by_id(info.context.scope, pk)
        if schedule is not None:
            found[pk] = ReportScheduleType.from_model(schedule)
    return found


async def _audit_entries(info: Info, pks: list[int]) -> dict[int, Node]:
    scope = info.context.scope
    entries = [entry for pk in pks if (entry := await audit_record_by_id(scope, pk)) is not None]
    if not entries:
        return {}
    prefixes = await token_prefixes(scope, entries)
    return {entry.id: AuditEntryType.from_record(entry, prefixes) for entry in entries}


_READERS: dict[str, NodeReader] = {
    "Organization": _organizations,
    "Member": _members,
    "ApiKey": _api_keys,
    "RequestLog": _request_logs,
    "AlertEvent": _alerts,
    "WalletEntry": _wallet_entries,
    "LimitRequest": _limit_requests,
    "Report": _reports,
    "ReportSchedule": _report_schedules,
    "AuditEntry": _audit_entries,
}
