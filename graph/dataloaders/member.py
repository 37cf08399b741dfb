"""MemberByIdLoader: members by id within the request's scope (invisible ones load as None)."""

from __future__ import annotations

from collections.abc import Sequence

from aiodataloader import DataLoader

from models.member import Member
from resolvers.members import members_by_ids
from resolvers.scope import Scope


class MemberByIdLoader(DataLoader[int, Member | None]):
    def __init__(self, scope: Scope) -> None:
        super().__init__()
        self.scope = scope

    async def batch_load_fn(self, keys: Sequence[int]) -> list[Member | None]:
        found = await members_by_ids(self.scope, keys)
        return [found.get(key) for key in keys]
