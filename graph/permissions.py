"""Field permissions. Each is async and returns a real bool; refusals carry FORBIDDEN.

The data layer enforces the same rules (resolvers/scope.py); these make the refusal explicit
at the field, where the schema declares it.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from graph.context import Info

_FORBIDDEN = {"code": "FORBIDDEN"}
# Said in the description of every field a Member's role may not see: such fields are
# nullable (as GitHub's API makes them), so one refusal does not null the whole answer.
TEAM_ONLY = "Null with a FORBIDDEN error for Members; the rest of the answer stands."


class CanRead(BasePermission):
    message = "This token cannot read analytics (ingest tokens can only ingest)."
    error_extensions = _FORBIDDEN

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return bool(info.context.viewer.can_read)


class IsAdminOrOwner(BasePermission):
    message = "Only Admins and Owners can see this."
    error_extensions = _FORBIDDEN

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = info.context.viewer
        return bool(viewer.can_read and viewer.sees_team)


class CanAdminister(BasePermission):
    message = "Only Admins and Owners with an admin-scoped token can change this."
    error_extensions = _FORBIDDEN

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return bool(info.context.viewer.can_administer)


class IsOwner(BasePermission):
    message = "Only Owners can do this."
    error_extensions = _FORBIDDEN

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return bool(info.context.viewer.is_owner)


class CanIngest(BasePermission):
    message = "Only ingest tokens can do this."
    error_extensions = _FORBIDDEN

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return bool(info.context.viewer.can_ingest)


def require(*permissions: type[BasePermission]) -> list[FieldExtension]:
    """Field extensions for `strawberry.field(extensions=require(...))`, SDL kept clean."""
    return [PermissionExtension(permissions=[p() for p in permissions], use_directives=False)]


class CanSyncDirectory(BasePermission):
    message = "Only directory tokens and Owners (admin-scoped token) can sync the directory."
    error_extensions = _FORBIDDEN

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return bool(info.context.viewer.can_sync_directory)
