"""ApiKeyByIdLoader: keys by id within the request's scope (invisible keys load as None)."""

from __future__ import annotations

from collections.abc import Sequence

from aiodataloader import DataLoader

from models.api_key import ApiKey
from resolvers.api_keys import api_keys_by_ids
from resolvers.scope import Scope


class ApiKeyByIdLoader(DataLoader[int, ApiKey | None]):
    def __init__(self, scope: Scope) -> None:
        super().__init__()
        self.scope = scope

    async def batch_load_fn(self, keys: Sequence[int]) -> list[ApiKey | None]:
        found = await api_keys_by_ids(self.scope, keys)
        return [found.get(key) for key in keys]
