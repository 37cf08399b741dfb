"""API keys, read through the scope."""

from __future__ import annotations

from collections.abc import Sequence

from models.api_key import ApiKey
from models.database import Params, current_dialect, load_models
from resolvers.scope import Scope, in_list


async def api_keys_by_ids(scope: Scope, ids: Sequence[int]) -> dict[int, ApiKey]:
    """Keys by id, only those the scope may see (others are simply absent). One prebuilt
    statement: a page of logs asks for dozens of keys, and the ORM builds a term per id."""
    params = Params(current_dialect())
    conditions = [
        *scope.api_key_conditions(params, include_team_keys=True),
        in_list("id", tuple(ids), params),
    ]
    return {key.id: key for key in await load_models(ApiKey, conditions, params)}


async def list_api_keys(scope: Scope, limit: int) -> list[ApiKey]:
    """The first `limit` keys the viewer may list, by id (for a Member: own keys only)."""
    return await scope.api_keys().order_by("id").limit(limit)
