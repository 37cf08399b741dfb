"""Viewer type: who is calling."""

from __future__ import annotations

import strawberry

from graph.context import Info
from graph.permissions import CanRead, require
from graph.types.enums import RoleEnum, TokenScopeEnum
from graph.types.member import MemberType
from graph.types.organization import OrganizationType
from models.access_token import Scope as TokenScope
from models.member import Member, Role
from models.organization import Organization
from resolvers.scope import Scope


@strawberry.type(name="Viewer", description="The caller: member, role, organization.")
class ViewerType:
    # role, scopes and member are what an ingest token may read here (role and member are
    # null for it): enough for a gateway to check its token; everything else is FORBIDDEN.
    role: RoleEnum | None = strawberry.field(  # type: ignore[valid-type]
        description="The token's member's role; null for a service token without a member."
    )
    scopes: list[TokenScopeEnum] = strawberry.field(  # type: ignore[valid-type]
        description="What the token may do: READ, EXPORT, ADMIN, INGEST, DIRECTORY."
    )
    member_pk: strawberry.Private[int | None]
    organization_pk: strawberry.Private[int]

    @strawberry.field(description="The member behind the token (null for ingest tokens).")
    async def member(self, info: Info) -> MemberType | None:
        if self.member_pk is None:
            return None
        members = Scope.for_organization(self.organization_pk).filter(Member)
        member = await members.get_or_none(id=self.member_pk)
        return MemberType.from_model(member) if member else None

    @strawberry.field(
        description="The caller's organization (not for ingest tokens: FORBIDDEN).",
        extensions=require(CanRead),
    )
    async def organization(self, info: Info) -> OrganizationType:
        return OrganizationType.from_model(await Organization.get(id=self.organization_pk))

    @classmethod
    def from_context(cls, info: Info) -> ViewerType:
        viewer = info.context.viewer
        return cls(
            role=Role(viewer.role) if viewer.role else None,
            scopes=sorted(TokenScope(s) for s in viewer.scopes),
            member_pk=viewer.member_id,
            organization_pk=viewer.organization_id,
        )
