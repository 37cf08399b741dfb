"""ApiKey type."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from graph.context import Info
from graph.inputs.filters import UsageFilter
from graph.permissions import CanRead, IsAdminOrOwner, require
from graph.scalars import usd
from graph.types.enums import KeyStatusEnum
from graph.types.member import MemberType
from graph.types.node import Node
from graph.types.usage_summary import SUBJECT_USAGE_DESCRIPTION, UsageSummary, resolve_subject_usage
from models.api_key import ApiKey, KeyStatus
from models.global_ids import encode_global_id
from resolvers.log_pages import KeyRecord
from resolvers.usage_dimensions import UsageDimension

if TYPE_CHECKING:
    from graph.types.limit_request import LimitRequestType


@strawberry.type(name="ApiKey", description="A gateway key: personal (has an owner) or team.")
class ApiKeyType(Node):
    label: str = strawberry.field(description="The key's name as shown in the gateway (user text).")
    prefix: str = strawberry.field(
        description="The key's public prefix (e.g. `sk-aize-66a078`); never the secret."
    )
    status: KeyStatusEnum = strawberry.field(  # type: ignore[valid-type]
        description="ACTIVE, BLOCKED (by a limit or by hand), REVOKED (final) or UNSYNCED."
    )
    status_reason: str | None = strawberry.field(
        description="Why the key is blocked or revoked, when someone said; null otherwise."
    )
    allowed_models: list[str] | None = strawberry.field(
        description="Model aliases the key may use; null allows every model, an empty list none."
    )
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    pk: strawberry.Private[int]
    owner_pk: strawberry.Private[int | None]
    monthly_limit_nanos: strawberry.Private[int | None]

    @strawberry.field(description="Monthly spend limit in USD; null means no limit.")
    def monthly_limit(self) -> Decimal | None:
        return None if self.monthly_limit_nanos is None else usd(self.monthly_limit_nanos)

    @strawberry.field(description="The member who owns a personal key; null for team keys.")
    async def owner(self, info: Info) -> MemberType | None:
        if self.owner_pk is None:
            return None
        member = await info.context.loaders.member_by_id.load(self.owner_pk)
        return MemberType.from_model(member) if member else None

    @strawberry.field(description=SUBJECT_USAGE_DESCRIPTION, extensions=require(CanRead))
    async def usage(
        self,
        info: Info,
        filter: Annotated[
            UsageFilter | None,
            strawberry.argument(
                description=(
                    "Which requests count: range, timezone, models, keys, members, status "
                    "(the last 30 days by default)."
                )
            ),
        ] = None,
    ) -> UsageSummary:
        return await resolve_subject_usage(info, UsageDimension.API_KEY, self.pk, filter)

    @strawberry.field(
        description=(
            "The limit change waiting for an Owner's approval (Admins/Owners); null if none."
        ),
        extensions=require(IsAdminOrOwner),
    )
    async def pending_limit_request(
        self, info: Info
    ) -> Annotated[LimitRequestType, strawberry.lazy("graph.types.limit_request")] | None:
        from graph.types.limit_request import LimitRequestType  # import cycle: it shows keys

        request = await info.context.loaders.pending_limit_request_by_api_key_id.load(self.pk)
        return None if request is None else LimitRequestType.from_model(request)

    @strawberry.field(description="True for a team key (no owner).")
    def is_team_key(self) -> bool:
        return self.owner_pk is None

    @classmethod
    def from_model(cls, key: ApiKey | KeyRecord) -> ApiKeyType:
        return cls(
            id=strawberry.ID(encode_global_id("ApiKey", key.id)),
            label=key.label,
            prefix=key.prefix,
            status=KeyStatus(key.status),
            status_reason=key.status_reason,
            allowed_models=list(key.allowed_models) if key.allowed_models is not None else None,
            created_at=key.created_at,
            pk=key.id,
            owner_pk=key.owner_id,
            monthly_limit_nanos=key.monthly_limit_nanos,
        )
