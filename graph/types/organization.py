"""Organization type: the tenant, and the root of every analytics question."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from graph.context import Info
from graph.permissions import CanRead, require
from graph.relay import encode_global_id
from graph.scalars import usd
from graph.types.api_key import ApiKeyType
from graph.types.enums import TierEnum
from graph.types.member import MemberType
from graph.types.node import Node
from models.organization import Organization, Tier
from pricing.cost import basis_points_to_percent
from resolvers.api_keys import list_api_keys
from resolvers.members import list_members


@strawberry.type(name="Organization", description="The caller's organization.")
class OrganizationType(Node):
    name: str
    slug: str
    tier: TierEnum  # type: ignore[valid-type]
    timezone: str = strawberry.field(description="IANA zone; trends and periods use it.")
    markup_percent: Decimal = strawberry.field(description="Markup on provider cost, percent.")
    fixed_fee: Decimal = strawberry.field(description="USD added to every request.")
    billing_anchor_day: int = strawberry.field(description="Day of month periods start on.")
    monthly_budget: Decimal | None = strawberry.field(description="USD; null means none.")
    log_bodies: bool = strawberry.field(description="Whether request bodies are kept.")
    created_at: datetime
    pk: strawberry.Private[int]

    @strawberry.field(
        description="API keys: all for Admins/Owners, a Member's own keys for a Member.",
        extensions=require(CanRead),
    )
    async def api_keys(self, info: Info) -> list[ApiKeyType]:
        return [ApiKeyType.from_model(k) for k in await list_api_keys(info.context.scope)]

    @strawberry.field(
        description="Members: everyone for Admins/Owners, only yourself for a Member.",
        extensions=require(CanRead),
    )
    async def members(self, info: Info) -> list[MemberType]:
        return [MemberType.from_model(m) for m in await list_members(info.context.scope)]

    @classmethod
    def from_model(cls, org: Organization) -> OrganizationType:
        return cls(
            id=strawberry.ID(encode_global_id("Organization", org.id)),
            name=org.name,
            slug=org.slug,
            tier=Tier(org.tier),
            timezone=org.timezone,
            markup_percent=basis_points_to_percent(org.markup_bps),
            fixed_fee=usd(org.fixed_fee_nanos),
            billing_anchor_day=org.billing_anchor_day,
            monthly_budget=(
                None if org.monthly_budget_nanos is None else usd(org.monthly_budget_nanos)
            ),
            log_bodies=org.log_bodies,
            created_at=org.created_at,
            pk=org.id,
        )
