"""Inviting and removing members, changing roles and transferring ownership.

Who may do what (docs/readme/admin.md):
- Admins and Owners invite Members; only Owners invite Admins; nobody invites an Owner
  (ownership moves by `transfer_ownership`, so an organization never gains an Owner no
  Owner chose).
- Admins and Owners remove Members; only Owners remove Admins and Owners; the last Owner
  is never removed. A removed member keeps their row (their requests keep their name), their
  tokens are revoked at once, and their personal keys become team keys.
- Only Owners change roles (MEMBER or ADMIN) and transfer ownership (the new Owner's old
  role goes to the old Owner: ADMIN).

Every change runs in one transaction that locks the organization row first, so changes to
one organization's people are applied one at a time and the last-Owner rule cannot be
raced; each records its audit entry in the same transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from audit.trail import Actor, record_change
from auth.tokens import revoke_member_tokens
from models.api_key import ApiKey
from models.member import Member, Role
from resolvers.errors import BadInputError, ForbiddenError, NotFoundError
from resolvers.scope import Scope
from spend.state import lock_organization

__all__ = ["change_member_role", "invite_member", "remove_member", "transfer_ownership"]

_EMAIL_LENGTH = 320
_NAME_LENGTH = 200


async def _update_member(conn: BaseDBAsyncClient, member: Member, **columns: object) -> None:
    """Write `columns` of a loaded member by its id and organization (the ORM's save() would
    update by id alone, a statement for every shard in Citus: docs/SCALING.md)."""
    await (
        Scope.for_organization(member.organization_id)
        .filter(Member)
        .filter(id=member.id)
        .using_db(conn)
        .update(**columns)
    )


async def invite_member(
    organization_id: int, actor: Actor, actor_role: Role, email: str, name: str | None, role: Role
) -> Member:
    """Add a person with `role` (MEMBER, or ADMIN when an Owner invites). An email of a removed
    member brings that member back (same id, so their history stays theirs). Returns the
    member; BadInputError naming the field, ForbiddenError for an Admin inviting an Admin."""
    address = _clean_email(email)
    display_name = _clean_name(name, address)
    if role is Role.OWNER:
        raise BadInputError("role: nobody is invited as an Owner; use transferOwnership")
    if role is Role.ADMIN and actor_role is not Role.OWNER:
        raise ForbiddenError("Only Owners can invite an Admin.")
    async with in_transaction() as conn:
        await lock_organization(conn, organization_id)
        existing = await (
            Scope.for_organization(organization_id)
            .filter(Member)
            .filter(email__iexact=address)
            .using_db(conn)
            .first()
        )
        if existing is not None and existing.removed_at is None:
            raise BadInputError(f"email: {address} is already a member")
        if existing is None:
            member = await Member.create(
                organization_id=organization_id,
                email=address,
                name=display_name,
                role=role,
                using_db=conn,
            )
            before: tuple[str | None, str | None, Role | None] = (None, None, None)
        else:
            member = existing
            before = (member.email, member.name, member.role)
            member.name, member.role, member.removed_at = display_name, role, None
            await _update_member(conn, member, name=display_name, role=role, removed_at=None)
        await record_change(
            organization_id,
            actor,
            "member.invite",
            "Member",
            member.id,
            {
                "email": (before[0], member.email),
                "name": (before[1], member.name),
                "role": (before[2], member.role),
            },
            connection=conn,
        )
    return member


async def remove_member(
    organization_id: int, actor: Actor, actor_role: Role, member_id: int
) -> Member:
    """Remove the member: revoke their tokens, turn their personal keys into team keys.
    Returns the removed member; NotFoundError outside the organization (or removed already),
    ForbiddenError for an Admin removing an Admin or Owner, BadInputError for the last
    Owner."""
    async with in_transaction() as conn:
        await lock_organization(conn, organization_id)
        member = await _active_member(conn, organization_id, member_id)
        if member.role is not Role.MEMBER and actor_role is not Role.OWNER:
            raise ForbiddenError("Only Owners can remove an Admin or an Owner.")
        if member.role is Role.OWNER and await _owner_count(conn, organization_id) == 1:
            raise BadInputError(
                "id: the organization's only Owner cannot be removed; transfer ownership first"
            )
        now = datetime.now(UTC)
        member.removed_at = now
        await _update_member(conn, member, removed_at=now)
        revoked = await revoke_member_tokens(conn, member, now)
        await record_change(
            organization_id,
            actor,
            "member.remove",
            "Member",
            member.id,
            {"removedAt": (None, now), "activeTokens": (revoked, 0)},
            connection=conn,
        )
        owned = Scope.for_organization(organization_id).filter(ApiKey).filter(owner_id=member.id)
        for key in await owned.using_db(conn).order_by("id"):
            await (
                Scope.for_organization(organization_id)
                .filter(ApiKey)
                .filter(id=key.id)
                .using_db(conn)
                .update(owner_id=None)
            )
            await record_change(
                organization_id,
                actor,
                "apiKey.update",
                "ApiKey",
                key.id,
                {"ownerMemberId": (member.id, None)},
                connection=conn,
            )
    return member


async def change_member_role(
    organization_id: int, actor: Actor, member_id: int, role: Role
) -> Member:
    """Make the member a MEMBER or an ADMIN (the caller is an Owner). Takes effect on their
    next request, whatever their tokens' scopes. Returns the member; NotFoundError outside the
    organization, BadInputError for OWNER (use transfer_ownership) or the last Owner."""
    if role is Role.OWNER:
        raise BadInputError("role: Owners are made by transferOwnership")
    async with in_transaction() as conn:
        await lock_organization(conn, organization_id)
        member = await _active_member(conn, organization_id, member_id)
        if member.role is Role.OWNER and await _owner_count(conn, organization_id) == 1:
            raise BadInputError(
                "id: the organization's only Owner keeps the role; transfer ownership first"
            )
        old = member.role
        member.role = role
        await _update_member(conn, member, role=role)
        await record_change(
            organization_id,
            actor,
            "member.role",
            "Member",
            member.id,
            {"role": (old, role)},
            connection=conn,
        )
    return member


async def transfer_ownership(organization_id: int, actor: Actor, member_id: int) -> Member:
    """Make the member an Owner and the calling Owner an Admin, atomically. Returns the new
    Owner; NotFoundError outside the organization, BadInputError for yourself or an Owner,
    ForbiddenError when the caller is no longer an Owner (a concurrent transfer won)."""
    if actor.member_id is None:
        raise ForbiddenError("Only Owners can transfer ownership.")
    if member_id == actor.member_id:
        raise BadInputError("memberId: you are already the Owner")
    async with in_transaction() as conn:
        await lock_organization(conn, organization_id)
        target = await _active_member(conn, organization_id, member_id, argument="memberId")
        current = await _active_member(conn, organization_id, actor.member_id)
        # Re-read under the lock: a transfer that committed first made the caller an Admin.
        if current.role is not Role.OWNER:
            raise ForbiddenError("Only Owners can transfer ownership.")
        if target.role is Role.OWNER:
            raise BadInputError("memberId: this member is already an Owner")
        for member, role in ((target, Role.OWNER), (current, Role.ADMIN)):
            old = member.role
            member.role = role
            await _update_member(conn, member, role=role)
            await record_change(
                organization_id,
                actor,
                "member.transferOwnership",
                "Member",
                member.id,
                {"role": (old, role)},
                connection=conn,
            )
    return target


async def _active_member(
    conn: BaseDBAsyncClient, organization_id: int, member_id: int, argument: str = "id"
) -> Member:
    member = await (
        Scope.for_organization(organization_id)
        .filter(Member)
        .filter(id=member_id, removed_at__isnull=True)
        .using_db(conn)
        .select_for_update(no_key=True)
        .first()
    )
    if member is None:
        raise NotFoundError(f"{argument}: no such member")
    return member


async def _owner_count(conn: BaseDBAsyncClient, organization_id: int) -> int:
    return await (
        Scope.for_organization(organization_id)
        .filter(Member)
        .filter(role=Role.OWNER, removed_at__isnull=True)
        .using_db(conn)
        .count()
    )


def _clean_email(email: str) -> str:
    address = email.strip()
    local, at, domain = address.partition("@")
    if not at or not local or "." not in domain or " " in address:
        raise BadInputError(f"email: {address[:100]!r} is not an email address")
    if len(address) > _EMAIL_LENGTH:
        raise BadInputError(f"email: at most {_EMAIL_LENGTH} characters")
    return address


def _clean_name(name: str | None, email: str) -> str:
    cleaned = (name or "").strip() or email.split("@", 1)[0]
    if len(cleaned) > _NAME_LENGTH:
        raise BadInputError(f"name: at most {_NAME_LENGTH} characters")
    return cleaned[:_NAME_LENGTH]
