"""Member administration: invite and remove (Admins/Owners), roles and ownership (Owners).

Who may do what is decided in admin/member_administration.py (docs/readme/admin.md).
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from admin.member_administration import (
    change_member_role,
    invite_member,
    remove_member,
    transfer_ownership,
)
from audit.trail import Actor
from graph.context import Info
from graph.permissions import CanAdminister, IsOwner, require
from graph.types.enums import RoleEnum
from graph.types.member import MemberType
from models.global_ids import decode_global_id_of
from models.member import Role


def _member_pk(member_id: strawberry.ID) -> int:
    # Another type's id or garbage is NOT_FOUND like a missing member (-1 never is).
    return decode_global_id_of(str(member_id), "Member") or -1


def _role(info: Info) -> Role:
    # The permission on the field guarantees a member behind the token.
    role = info.context.viewer.role
    assert role is not None
    return role


@strawberry.type
class MemberMutations:
    @strawberry.mutation(
        description=(
            "Admins/Owners: add a person (name defaults to the email's local part). Admins "
            "invite Members, Owners also Admins; nobody is invited as an Owner (see "
            "transferOwnership). A removed member's email brings them back."
        ),
        extensions=require(CanAdminister),
    )
    async def invite_member(
        self,
        info: Info,
        email: Annotated[str, strawberry.argument(description="The person's email address.")],
        name: Annotated[
            str | None,
            strawberry.argument(
                description="Their display name (the email's local part by default)."
            ),
        ] = None,
        role: Annotated[
            RoleEnum,  # type: ignore[valid-type]
            strawberry.argument(description="MEMBER or ADMIN (Owners only may invite Admins)."),
        ] = Role.MEMBER,
    ) -> MemberType:
        viewer = info.context.viewer
        member = await invite_member(
            viewer.organization_id, Actor.of(viewer), _role(info), email, name, Role(role)
        )
        return MemberType.from_model(member)

    @strawberry.mutation(
        description=(
            "Admins remove Members; Owners remove anyone but the last Owner. The member's "
            "tokens stop working at once, their personal keys become team keys, and their "
            "past requests keep their name."
        ),
        extensions=require(CanAdminister),
    )
    async def remove_member(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The member's global id.")],
    ) -> MemberType:
        viewer = info.context.viewer
        member = await remove_member(
            viewer.organization_id, Actor.of(viewer), _role(info), _member_pk(id)
        )
        return MemberType.from_model(member)

    @strawberry.mutation(
        description=(
            "Owners only: make a member a MEMBER or an ADMIN (effective on their next "
            "request). The last Owner keeps the role; Owners are made by transferOwnership."
        ),
        extensions=require(IsOwner),
    )
    async def change_member_role(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The member's global id.")],
        role: Annotated[RoleEnum, strawberry.argument(description="MEMBER or ADMIN.")],  # type: ignore[valid-type]
    ) -> MemberType:
        viewer = info.context.viewer
        member = await change_member_role(
            viewer.organization_id, Actor.of(viewer), _member_pk(id), Role(role)
        )
        return MemberType.from_model(member)

    @strawberry.mutation(
        description=(
            "Owners only: make the member the Owner; you become an Admin, in one transaction. "
            "Returns the new Owner."
        ),
        extensions=require(IsOwner),
    )
    async def transfer_ownership(
        self,
        info: Info,
        member_id: Annotated[
            strawberry.ID,
            strawberry.argument(description="The global id of the member who becomes the Owner."),
        ],
    ) -> MemberType:
        viewer = info.context.viewer
        member = await transfer_ownership(
            viewer.organization_id, Actor.of(viewer), _member_pk(member_id)
        )
        return MemberType.from_model(member)
