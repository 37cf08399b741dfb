"""LimitRequest: a key limit above the approval threshold, waiting for an Owner; and the
Organization.limitRequests connection."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TypeAlias

import strawberry

from admin.limit_requests import count_limit_requests, limit_request_page
from graph.context import Info
from graph.permissions import TEAM_ONLY
from graph.scalars import usd
from graph.types.api_key import ApiKeyType
from graph.types.connection import Connection, connection_from_page
from graph.types.enum_values import describe_values
from graph.types.member import MemberType
from graph.types.node import Node
from models.global_ids import encode_global_id
from models.limit_request import LimitRequest, LimitRequestStatus
from resolvers.pagination import PageRequest

LimitRequestStatusEnum = strawberry.enum(
    LimitRequestStatus,
    name="LimitRequestStatus",
    description=(
        "PENDING until an Owner decides; APPROVED (the limit applied), REJECTED, or "
        "SUPERSEDED (a later limit change for the key replaced it)."
    ),
)

describe_values(
    LimitRequestStatusEnum,
    {
        "PENDING": "Waiting for an Owner's decision.",
        "APPROVED": "An Owner approved it; the key got the limit.",
        "REJECTED": "An Owner rejected it; the key kept its limit.",
        "SUPERSEDED": "A newer request for the same key replaced it.",
    },
)

LIMIT_REQUESTS_DESCRIPTION = (
    "Key limits above the organization's approval threshold, newest first (Admins and Owners "
    "see them; only Owners approve or reject). `status` filters; `first`: 1 to 100 (default "
    "50); `after`: the `endCursor` of the previous page. " + TEAM_ONLY
)


@strawberry.type(
    name="LimitRequest",
    description=(
        "An Admin's key limit above the approval threshold. Until an Owner approves it, the "
        "key keeps `oldLimit`."
    ),
)
class LimitRequestType(Node):
    status: LimitRequestStatusEnum = strawberry.field(  # type: ignore[valid-type]
        description=(
            "PENDING until an Owner decides; APPROVED, REJECTED, or SUPERSEDED by a"
            " newer request for the key."
        )
    )
    old_limit: Decimal | None = strawberry.field(
        description="USD limit when it was requested; null: no limit."
    )
    requested_limit: Decimal | None = strawberry.field(
        description="USD limit asked for; null: no limit (clearing a limit needs approval too)."
    )
    requested_at: datetime = strawberry.field(
        description="When the Admin asked for the limit (UTC)."
    )
    decided_at: datetime | None = strawberry.field(
        description="When it was approved, rejected or superseded; null while pending."
    )
    reason: str | None = strawberry.field(description="The Owner's reason for a rejection.")
    pk: strawberry.Private[int]
    api_key_pk: strawberry.Private[int]
    requested_by_pk: strawberry.Private[int | None]
    decided_by_pk: strawberry.Private[int | None]

    @strawberry.field(description="The key whose limit it would change.")
    async def api_key(self, info: Info) -> ApiKeyType | None:
        key = await info.context.loaders.api_key_by_id.load(self.api_key_pk)
        return ApiKeyType.from_model(key) if key else None

    @strawberry.field(description="The member who asked; null when removed since.")
    async def requested_by(self, info: Info) -> MemberType | None:
        return await _member(info, self.requested_by_pk)

    @strawberry.field(description="The Owner who approved or rejected it.")
    async def decided_by(self, info: Info) -> MemberType | None:
        return await _member(info, self.decided_by_pk)

    @classmethod
    def from_model(cls, request: LimitRequest) -> LimitRequestType:
        old, requested = request.old_limit_nanos, request.requested_limit_nanos
        return cls(
            id=strawberry.ID(encode_global_id("LimitRequest", request.id)),
            status=LimitRequestStatus(request.status),
            old_limit=None if old is None else usd(old),
            requested_limit=None if requested is None else usd(requested),
            requested_at=request.requested_at,
            decided_at=request.decided_at,
            reason=request.reason,
            pk=request.id,
            api_key_pk=request.api_key_id,
            requested_by_pk=request.requested_by_member_id,
            decided_by_pk=request.decided_by_member_id,
        )


LimitRequestConnection: TypeAlias = Connection[LimitRequestType]


async def resolve_limit_requests(
    info: Info, status: LimitRequestStatus | None, first: int | None, after: str | None
) -> LimitRequestConnection:
    """One page of the viewer organization's limit requests."""
    scope = info.context.scope
    wanted = None if status is None else LimitRequestStatus(status)
    page = await limit_request_page(scope, wanted, PageRequest.parse(first, after))

    async def count_rows() -> int:
        return await count_limit_requests(scope, wanted)

    return connection_from_page(page, LimitRequestType.from_model, count_rows)


async def _member(info: Info, member_pk: int | None) -> MemberType | None:
    if member_pk is None:
        return None
    member = await info.context.loaders.member_by_id.load(member_pk)
    return MemberType.from_model(member) if member else None
