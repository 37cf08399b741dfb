"""Members, read through the scope."""

from __future__ import annotations

from collections.abc import Sequence

from models.member import Member
from resolvers.scope import Scope


async def members_by_ids(scope: Scope, ids: Sequence[int]) -> dict[int, Member]:
    """Members by id; those outside the scope are absent."""
    rows = await scope.members().filter(id__in=list(ids))
    return {row.id: row for row in rows}


async def list_members(scope: Scope) -> list[Member]:
    """Members the viewer may list, by id."""
    return await scope.members().order_by("id")
