"""Subscriptions open per token in this process, bounded by AIZE_MAX_SUBSCRIPTIONS_PER_TOKEN."""

from __future__ import annotations

from collections import Counter


class TooManySubscriptions(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(
            f"This token already has {limit} subscriptions open (AIZE_MAX_SUBSCRIPTIONS_PER_TOKEN)"
        )


class SubscriptionSlots:
    def __init__(self) -> None:
        self._open: Counter[int] = Counter()

    def open_for(self, token_id: int) -> int:
        return self._open[token_id]

    def take(self, token_id: int, limit: int) -> None:
        """Count one more subscription for the token; raises TooManySubscriptions at `limit`."""
        if self._open[token_id] >= limit:
            raise TooManySubscriptions(limit)
        self._open[token_id] += 1

    def give_back(self, token_id: int) -> None:
        self._open[token_id] -= 1
        if self._open[token_id] <= 0:
            del self._open[token_id]


SLOTS = SubscriptionSlots()
