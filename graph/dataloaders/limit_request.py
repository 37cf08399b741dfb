"""PendingLimitRequestByApiKeyIdLoader: each key's pending limit request, if any."""

from __future__ import annotations

from collections.abc import Sequence

from aiodataloader import DataLoader

from admin.limit_requests import pending_limit_requests
from models.limit_request import LimitRequest
from resolvers.scope import Scope


class PendingLimitRequestByApiKeyIdLoader(DataLoader[int, LimitRequest | None]):
    def __init__(self, scope: Scope) -> None:
        super().__init__()
        self.scope = scope

    async def batch_load_fn(self, keys: Sequence[int]) -> list[LimitRequest | None]:
        found = await pending_limit_requests(self.scope, keys)
        return [found.get(key) for key in keys]
