"""API keys, read through the scope."""

from __future__ import annotations

from collections.abc import Sequence

from models.api_key import ApiKey
from resolvers.scope import Scope


async def api_keys_by_ids(scope: Scope, ids: Sequence[int]) -> dict[int, ApiKey]:
    """Keys by id, only those the scope may see (others are simply absent)."""
    rows = await scope.api_keys(include_team_keys=True).filter(id__in=list(ids))
    return {row.id: row for row in rows}


async def list_api_keys(scope: Scope) -> list[ApiKey]:
    """Keys the viewer may list, by id (for a Member: own keys only)."""
    return await scope.api_keys().order_by("id")
