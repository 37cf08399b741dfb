"""Member type."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from graph.context import Info
from graph.inputs.filters import UsageFilter
from graph.permissions import CanRead, require
from graph.types.enums import RoleEnum
from graph.types.node import Node
from graph.types.usage_summary import SUBJECT_USAGE_DESCRIPTION, UsageSummary, resolve_subject_usage
from models.global_ids import encode_global_id
from models.member import Member, Role
from resolvers.log_pages import MemberRecord
from resolvers.usage_dimensions import UsageDimension


@strawberry.type(name="Member", description="A person in the organization.")
class MemberType(Node):
    name: str = strawberry.field(description="The member's display name (user text).")
    email: str = strawberry.field(description="The member's email address.")
    role: RoleEnum = strawberry.field(  # type: ignore[valid-type]
        description="MEMBER, ADMIN or OWNER: what the member may see and change."
    )
    created_at: datetime = strawberry.field(
        description="When the member joined or was invited (UTC)."
    )
    pk: strawberry.Private[int]

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
        return await resolve_subject_usage(info, UsageDimension.MEMBER, self.pk, filter)

    @classmethod
    def from_model(cls, member: Member | MemberRecord) -> MemberType:
        return cls(
            id=strawberry.ID(encode_global_id("Member", member.id)),
            name=member.name,
            email=member.email,
            role=Role(member.role),
            created_at=member.created_at,
            pk=member.id,
        )
