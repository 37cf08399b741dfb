"""Member type."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graph.relay import encode_global_id
from graph.types.enums import RoleEnum
from graph.types.node import Node
from models.member import Member, Role


@strawberry.type(name="Member", description="A person in the organization.")
class MemberType(Node):
    name: str
    email: str
    role: RoleEnum  # type: ignore[valid-type]
    created_at: datetime
    pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, member: Member) -> MemberType:
        return cls(
            id=strawberry.ID(encode_global_id("Member", member.id)),
            name=member.name,
            email=member.email,
            role=Role(member.role),
            created_at=member.created_at,
            pk=member.id,
        )
