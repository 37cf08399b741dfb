"""DeliveriesByEventIdLoader: an alert event's deliveries, within the request's scope."""

from __future__ import annotations

from collections.abc import Sequence

from aiodataloader import DataLoader

from resolvers.alert_deliveries import DeliveryRecord, deliveries_by_event
from resolvers.scope import Scope


class DeliveriesByEventIdLoader(DataLoader[int, list[DeliveryRecord]]):
    def __init__(self, scope: Scope) -> None:
        super().__init__()
        self.scope = scope

    async def batch_load_fn(self, keys: Sequence[int]) -> list[list[DeliveryRecord]]:
        found = await deliveries_by_event(self.scope, keys)
        return [found.get(key, []) for key in keys]
