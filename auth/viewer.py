"""Viewer: who is calling, resolved once per request from the bearer token."""

from __future__ import annotations

from dataclasses import dataclass, field

from models.access_token import Scope
from models.member import Role
from models.organization import Organization


@dataclass(frozen=True, slots=True)
class Viewer:
    token_id: int
    organization_id: int
    # None only for service tokens (ingest, directory), which carry no person.
    member_id: int | None
    role: Role | None
    scopes: frozenset[Scope]
    # The organization's row, read with the token in the same statement: most requests
    # start at `organization`, and this saves them a round trip.
    organization: Organization | None = field(default=None, compare=False, repr=False)

    @property
    def can_read(self) -> bool:
        return self.member_id is not None and Scope.READ in self.scopes

    @property
    def can_ingest(self) -> bool:
        return Scope.INGEST in self.scopes

    @property
    def can_sync_directory(self) -> bool:
        """Directory service tokens, and Owners with an admin-scoped token (sync can change
        roles, which only Owners may do in the service)."""
        return Scope.DIRECTORY in self.scopes or self.is_owner

    @property
    def sees_team(self) -> bool:
        """Admins and Owners see the whole organization's usage; Members only their own."""
        return self.role is not None and self.role.sees_team

    @property
    def can_export(self) -> bool:
        return self.sees_team and Scope.EXPORT in self.scopes

    @property
    def can_administer(self) -> bool:
        return self.sees_team and Scope.ADMIN in self.scopes

    @property
    def is_owner(self) -> bool:
        return self.role is Role.OWNER and Scope.ADMIN in self.scopes
