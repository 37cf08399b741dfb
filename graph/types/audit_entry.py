"""AuditEntry type: one administrative change, and Organization.auditTrail (Admins/Owners)."""

from __future__ import annotations

from datetime import datetime
from typing import TypeAlias

import strawberry
from strawberry.scalars import JSON

from graph.context import Info
from graph.inputs.audit_filter import AuditTrailFilter, to_audit_filter
from graph.permissions import TEAM_ONLY
from graph.types.connection import Connection, connection_from_page
from graph.types.member import MemberType
from graph.types.node import Node
from models.global_ids import encode_global_id
from resolvers.audit_trail import (
    AuditRecord,
    audit_page,
    count_audit_entries,
    token_prefixes,
)
from resolvers.pagination import PageRequest
from resolvers.scope import Scope


@strawberry.type(name="AuditChange", description="One field of a change: old and new value.")
class AuditChangeType:
    field: str = strawberry.field(description="The field as the API names it (monthlyLimit).")
    old: JSON | None = strawberry.field(description="Before (money as a USD string).")
    new: JSON | None = strawberry.field(description="After (money as a USD string).")


@strawberry.type(
    name="AuditActor",
    description="Who made a change: a member through a token, or the server itself (both null).",
)
class AuditActorType:
    token_prefix: str | None = strawberry.field(
        description="Prefix of the access token used (null for CLI/server changes)."
    )
    via: str = strawberry.field(description='How it came in: "graphql", "cli", ...')
    member_id: strawberry.Private[int | None]

    @strawberry.field(description="The member who acted; null for the server or a removed one.")
    async def member(self, info: Info) -> MemberType | None:
        if self.member_id is None:
            return None
        found = await info.context.loaders.member_by_id.load(self.member_id)
        return None if found is None else MemberType.from_model(found)


@strawberry.type(
    name="AuditEntry",
    description="One administrative change: who, when, what, old and new values.",
)
class AuditEntryType(Node):
    created_at: datetime = strawberry.field(description="When the change was made (UTC).")
    actor: AuditActorType = strawberry.field(
        description="Who made the change: a member, the token used, or the server."
    )
    action: str = strawberry.field(description='Dotted verb, e.g. "apiKey.limit".')
    subject_type: str = strawberry.field(description='"ApiKey", "Organization", ...')
    subject_id: strawberry.ID | None = strawberry.field(
        description="Global id of what changed (subjectType and its id)."
    )
    changes: list[AuditChangeType] = strawberry.field(
        description="Each changed field with its old and new value."
    )

    @classmethod
    def from_record(cls, record: AuditRecord, prefixes: dict[int, str]) -> AuditEntryType:
        token = record.actor_token_id
        return cls(
            id=strawberry.ID(encode_global_id("AuditEntry", record.id)),
            created_at=record.created_at,
            actor=AuditActorType(
                token_prefix=None if token is None else prefixes.get(token),
                via=record.via,
                member_id=record.actor_member_id,
            ),
            action=record.action,
            subject_type=record.subject_type,
            subject_id=None
            if record.subject_id is None
            else strawberry.ID(encode_global_id(record.subject_type, record.subject_id)),
            changes=[
                AuditChangeType(field=name, old=value.get("old"), new=value.get("new"))
                for name, value in record.changes.items()
            ],
        )


AuditEntryConnection: TypeAlias = Connection[AuditEntryType]

AUDIT_TRAIL_DESCRIPTION = (
    "Administrative changes (budgets, limits, rules, schedules, ...), newest first. "
    "Admins/Owners only. `first`: 1 to 100 (default 50); `after`: the previous page's "
    "`endCursor`. " + TEAM_ONLY
)


async def resolve_audit_trail(
    scope: Scope, audit_filter: AuditTrailFilter | None, first: int | None, after: str | None
) -> AuditEntryConnection:
    """One page of the organization's audit trail."""
    wanted = to_audit_filter(audit_filter)
    page = await audit_page(scope, wanted, PageRequest.parse(first, after))
    prefixes = await token_prefixes(scope, page.rows)

    async def count_rows() -> int:
        return await count_audit_entries(scope, wanted)

    return connection_from_page(
        page, lambda record: AuditEntryType.from_record(record, prefixes), count_rows
    )
