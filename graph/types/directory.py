"""Directory sync input and result types: one member or API key record, and the verdict."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry

from directory.sync import SyncOutcome
from graph.types.enum_values import describe_values
from graph.types.enums import KeyStatusEnum, RoleEnum
from graph.types.ingest import RejectedRecordType


@strawberry.enum(name="DirectoryRecordType", description="What a directory record describes.")
class DirectoryRecordKind(Enum):
    API_KEY = "apiKey"
    MEMBER = "member"


describe_values(
    DirectoryRecordKind,
    {
        "API_KEY": "An API key of the gateway.",
        "MEMBER": "A person of the organization.",
    },
)


@strawberry.input(
    name="DirectoryRecordInput",
    description=(
        "A member or an API key as the gateway knows it, upserted by externalId. A field left "
        "out keeps the stored value; null clears a field that may be empty. Member fields: "
        "email, name, role (MEMBER or ADMIN), removed. Key fields: prefix (required for a new "
        "key), label, ownerExternalId or ownerEmail (both null: a team key), allowedModels, "
        "status (ACTIVE, BLOCKED, REVOKED), statusReason, createdAt, revokedAt."
    ),
)
class DirectoryRecordInput:
    type: DirectoryRecordKind = strawberry.field(
        description="MEMBER or API_KEY: which fields apply."
    )
    external_id: str = strawberry.field(description="The gateway's own id for the record.")
    email: str | None = strawberry.field(
        default=strawberry.UNSET, description="A member's email address (members)."
    )
    name: str | None = strawberry.field(
        default=strawberry.UNSET, description="A member's display name (members)."
    )
    role: RoleEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=strawberry.UNSET,
        description="A member's role (members; OWNER is never set by sync).",
    )
    removed: bool | None = strawberry.field(
        default=strawberry.UNSET, description="True removes the member (members)."
    )
    prefix: str | None = strawberry.field(
        default=strawberry.UNSET, description="The key's public prefix (keys)."
    )
    label: str | None = strawberry.field(
        default=strawberry.UNSET, description="The key's name (keys)."
    )
    owner_external_id: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The gateway's id of the member who owns the key; null for a team key (keys).",
    )
    owner_email: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="The owner's email, instead of ownerExternalId (keys).",
    )
    allowed_models: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="Model aliases the key may use; null allows every model (keys).",
    )
    status: KeyStatusEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=strawberry.UNSET, description="The key's status in the gateway (keys)."
    )
    status_reason: str | None = strawberry.field(
        default=strawberry.UNSET, description="Why the key is blocked or revoked (keys)."
    )
    created_at: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="When the gateway created the record (RFC 3339 with an offset).",
    )
    revoked_at: datetime | None = strawberry.field(
        default=strawberry.UNSET,
        description="When the gateway revoked the key (keys; RFC 3339 with an offset).",
    )

    def as_fields(self) -> dict[str, Any]:
        """The record as the camelCase mapping bulk JSON lines carry (fields left out of the
        input are left out here too, so "absent" and "null" stay distinct)."""
        values: dict[str, Any] = {
            "type": self.type.value,
            "externalId": self.external_id,
            "email": self.email,
            "name": self.name,
            "role": self.role,
            "removed": self.removed,
            "prefix": self.prefix,
            "label": self.label,
            "ownerExternalId": self.owner_external_id,
            "ownerEmail": self.owner_email,
            "allowedModels": self.allowed_models,
            "status": self.status,
            "statusReason": self.status_reason,
            "createdAt": self.created_at,
            "revokedAt": self.revoked_at,
        }
        return {name: value for name, value in values.items() if value is not strawberry.UNSET}


@strawberry.type(
    name="DirectorySyncResult", description="What a directory batch did, after its commit."
)
class DirectorySyncResultType:
    created: int = strawberry.field(description="Records that made a new member or key.")
    updated: int = strawberry.field(description="Records that changed a stored one.")
    unchanged: int = strawberry.field(description="Records that matched what is stored.")
    rejected: list[RejectedRecordType] = strawberry.field(
        description="The records not applied, each with its position and reason."
    )

    @classmethod
    def from_outcome(cls, outcome: SyncOutcome) -> DirectorySyncResultType:
        return cls(
            created=outcome.created,
            updated=outcome.updated,
            unchanged=outcome.unchanged,
            rejected=[
                RejectedRecordType(position=r.position, line=r.line, field=r.field, reason=r.reason)
                for r in outcome.rejected
            ],
        )
