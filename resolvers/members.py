"""Members, read through the scope."""

from __future__ import annotations

from collections.abc import Sequence

from models.database import Params, current_dialect, load_models
from models.member import Member
from resolvers.scope import Scope, in_list


async def members_by_ids(scope: Scope, ids: Sequence[int]) -> dict[int, Member]:
    """Members by id; those outside the scope are absent (one prebuilt statement, as for
    keys in resolvers.api_keys)."""
    params = Params(current_dialect())
    conditions = [
        *scope.member_conditions(params),
        in_list("id", tuple(ids), params),
    ]
    return {member.id: member for member in await load_models(Member, conditions, params)}


async def list_members(scope: Scope, limit: int) -> list[Member]:
    """The first `limit` members the viewer may list, by id; removed members are no longer
    listed (their requests still name them)."""
    return await scope.members().filter(removed_at__isnull=True).order_by("id").limit(limit)
