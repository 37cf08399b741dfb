"""Query.node: global ids resolved through the viewer's scope.

Another organization's id, another member's log (for a Member), an id of a type we do not
know and an id that does not decode all answer null, indistinguishably.
"""

from __future__ import annotations

from graph.context import Info
from graph.relay import decode_global_id
from graph.types.api_key import ApiKeyType
from graph.types.audit_entry import AuditEntryType
from graph.types.limit_request import LimitRequestType
from graph.types.member import MemberType
from graph.types.node import Node
from graph.types.organization import OrganizationType
from graph.types.report import ReportType
from graph.types.report_schedule import ReportScheduleType
from graph.types.request_log import RequestLogType
from models.organization import Organization
from reports.store import report_record_by_id
from resolvers.api_keys import api_keys_by_ids
from resolvers.audit_trail import audit_record_by_id, token_prefixes
from resolvers.limit_requests import limit_request_by_id
from resolvers.report_schedules import report_schedule_by_id
from resolvers.request_logs import request_logs_by_ids


async def resolve_node(info: Info, global_id: str) -> Node | None:
    decoded = decode_global_id(global_id)
    if decoded is None:
        return None
    type_name, pk = decoded
    scope = info.context.scope
    if type_name == "Organization":
        if pk != scope.organization_id:
            return None
        return OrganizationType.from_model(await Organization.get(id=pk))
    if type_name == "Member":
        member = await info.context.loaders.member_by_id.load(pk)
        return MemberType.from_model(member) if member else None
    if type_name == "ApiKey":
        keys = await api_keys_by_ids(scope, [pk])
        return ApiKeyType.from_model(keys[pk]) if pk in keys else None
    if type_name == "RequestLog":
        logs = await request_logs_by_ids(scope, [pk])
        if pk not in logs:
            return None
        org = await Organization.get(id=scope.organization_id)
        return RequestLogType.from_model(
            logs[pk], show_bodies=org.log_bodies, loaders=info.context.loaders
        )
    if type_name == "LimitRequest":
        request = await limit_request_by_id(scope, pk)
        return LimitRequestType.from_model(request) if request else None
    if type_name == "Report":
        record = await report_record_by_id(scope, pk)
        return ReportType.from_record(record) if record else None
    if type_name == "ReportSchedule":
        schedule = await report_schedule_by_id(scope, pk)
        return ReportScheduleType.from_model(schedule) if schedule else None
    if type_name == "AuditEntry":
        entry = await audit_record_by_id(scope, pk)
        if entry is None:
            return None
        return AuditEntryType.from_record(entry, await token_prefixes(scope, [entry]))
    return None
