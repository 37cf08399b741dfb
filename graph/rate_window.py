"""A budget's sliding window counter, read back: points left, when it is full, when it pays.

The `limits` library's sliding window counter keeps two counters per budget: the points
spent in the current fixed window of W seconds and in the one before. It counts as spent
`floor(previous x share of the previous window still inside the trailing W seconds) +
current`, so points spent in one window come back gradually over the next one. The library
answers whether a hit fits; the numbers clients see (x-ratelimit-remaining, -reset and
retry-after) are derived here from the same two counters, so they agree with its decisions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class BudgetState:
    """A budget as headers report it: points and whole seconds."""

    limit: int
    remaining: int
    # Seconds until nothing counts as spent any more (the budget is full again).
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        """The x-ratelimit-* response headers."""
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset_seconds),
        }


@dataclass(frozen=True, slots=True)
class SlidingWindow:
    """One budget's counters as the library's storage returns them (seconds, points)."""

    capacity: int
    window_seconds: int
    previous_points: int
    # Seconds until the previous window's counter expires (when the current window ends).
    previous_expires_in: float
    current_points: int
    # Seconds until the current window's counter expires: its end plus one window (the
    # library keeps it a window longer, as the next window's "previous"); 0 when absent.
    current_expires_in: float

    @property
    def spent(self) -> int:
        """Points counted as spent now, as the library weighs them."""
        weighted = self.previous_points * self.previous_expires_in / self.window_seconds
        return math.floor(weighted) + self.current_points

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.spent, 0)

    @property
    def takeable(self) -> int:
        """Points the library will surely let one hit take now: `remaining` less the
        fraction `spent` rounds away (the library compares unrounded counts, so a hit of
        exactly `remaining` may be refused, and a refused hit takes nothing)."""
        weighted = self.previous_points * self.previous_expires_in / self.window_seconds
        return max(self.capacity - math.ceil(weighted) - self.current_points, 0)

    def after(self, points: int) -> SlidingWindow:
        """The window once `points` more were spent in it (a first hit starts a window, as
        Redis keeps them: its counter then lives two windows)."""
        expires_in = self.current_expires_in or 2.0 * self.window_seconds
        return replace(
            self, current_points=self.current_points + points, current_expires_in=expires_in
        )

    def state(self) -> BudgetState:
        return BudgetState(self.capacity, self.remaining, math.ceil(self._full_in()))

    def pays_in(self, points: int) -> int:
        """Whole seconds until `points` fit (0 when they fit now), if nothing else is spent."""
        if self.spent + points <= self.capacity:
            return 0
        window = self.window_seconds
        if points > self.capacity:
            # Never fits (settings keep every admitted request within the capacities):
            # answer a full window rather than divide by an empty window's zero points.
            return max(math.ceil(2 * window), 1)
        room = self.capacity - points - self.current_points
        if room >= 0:
            # The previous window's share has to shrink until floor(share) <= room.
            wait = self.previous_expires_in - (room + 1) * window / self.previous_points
        else:
            # Only once this window has become the previous one and shrunk enough.
            share_left = (self.capacity - points + 1) * window / self.current_points
            wait = self._current_ends_in() + max(window - share_left, 0.0)
        # Strictly past the point where it still does not fit, and never "retry now".
        return max(math.floor(wait) + 1, 1)

    def _current_ends_in(self) -> float:
        if self.current_expires_in > self.window_seconds:
            return self.current_expires_in - self.window_seconds
        return self.previous_expires_in

    def _full_in(self) -> float:
        if self.current_points > 0:
            return self._current_ends_in() + self.window_seconds
        if self.previous_points > 0:
            return self.previous_expires_in
        return 0.0
