"""Callers of the administration mutations, one per row of the role table and token scope:
an Owner, an Admin and a Member (each with every scope: the role decides), an ingest token,
and an Admin's and an Owner's token without the admin scope."""

from __future__ import annotations

from dataclasses import dataclass

from models.access_token import Scope
from models.audit import AuditEntry
from models.global_ids import encode_global_id
from models.member import Member, Role
from models.organization import Organization
from tests.factories import make_ingest_token, make_member, make_org, make_token

CALLERS = (
    "owner",
    "admin",
    "member",
    "ingest",
    "admin_without_admin_scope",
    "owner_without_admin_scope",
)
_EVERY_SCOPE = [Scope.READ, Scope.EXPORT, Scope.ADMIN]
_NO_ADMIN_SCOPE = [Scope.READ, Scope.EXPORT]


@dataclass
class Callers:
    org: Organization
    owner: Member
    admin: Member
    member: Member
    tokens: dict[str, str]


async def make_callers(org: Organization | None = None) -> Callers:
    """An organization (or `org`) with an Owner, an Admin and a Member, and a token per caller."""
    org = org or await make_org()
    owner = await make_member(org, Role.OWNER)
    admin = await make_member(org, Role.ADMIN)
    member = await make_member(org, Role.MEMBER)
    tokens = {
        "owner": await make_token(owner, _EVERY_SCOPE),
        "admin": await make_token(admin, _EVERY_SCOPE),
        "member": await make_token(member, _EVERY_SCOPE),
        "ingest": await make_ingest_token(org),
        "admin_without_admin_scope": await make_token(admin, _NO_ADMIN_SCOPE),
        "owner_without_admin_scope": await make_token(owner, _NO_ADMIN_SCOPE),
    }
    return Callers(org, owner, admin, member, tokens)


def gid(type_name: str, pk: int) -> str:
    return encode_global_id(type_name, pk)


async def audit_trail(organization_id: int) -> list[tuple[str, int | None, dict[str, object]]]:
    """(action, subject id, changes) of every audit entry, oldest first."""
    entries = await AuditEntry.filter(organization_id=organization_id).order_by("id")
    return [(e.action, e.subject_id, e.changes) for e in entries]
