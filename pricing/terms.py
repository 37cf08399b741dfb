"""An organization's pricing terms over time: markup and fixed fee, each from an instant on.

Pure: the versions arrive from storage (ingestion/directory.py); this says which terms price
a request at a given instant. Before the first version, the organization's original terms
apply.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["PricingTerms", "TermsTimeline"]

_BEGINNING = datetime.min.replace(tzinfo=UTC)
_END = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PricingTerms:
    """Markup in basis points (2500 = 25%) and fixed fee in nano-USD, from `effective_from`
    (UTC) on; None for the organization's original terms, in effect since the beginning."""

    markup_bps: int
    fixed_fee_nanos: int
    effective_from: datetime | None = None

    def __post_init__(self) -> None:
        if self.markup_bps < 0 or self.fixed_fee_nanos < 0:
            raise ValueError("markup and fee must not be negative")


class TermsTimeline:
    """The terms in effect at any instant: `original` until the first of `versions`, then
    each version until the next one."""

    __slots__ = ("_original", "_starts", "_versions")

    def __init__(self, original: PricingTerms, versions: Sequence[PricingTerms] = ()) -> None:
        ordered = sorted(versions, key=_start)
        starts = [_start(v) for v in ordered]
        if len(set(starts)) != len(starts):
            raise ValueError("two pricing versions start at the same instant")
        self._original = original
        self._versions = ordered
        self._starts = starts

    @classmethod
    def constant(cls, markup_bps: int, fixed_fee_nanos: int) -> TermsTimeline:
        """The same terms at every instant (an organization that never changed them)."""
        return cls(PricingTerms(markup_bps, fixed_fee_nanos))

    def history(self) -> list[PricingTerms]:
        """The original terms, then every version, oldest first."""
        return [self._original, *self._versions]

    def at(self, when: datetime) -> PricingTerms:
        """The terms in effect at `when` (an aware datetime)."""
        return self.span_at(when)[0]

    def span_at(self, when: datetime) -> tuple[PricingTerms, datetime, datetime]:
        """The terms in effect at `when` and the span [start, end) over which they hold."""
        index = bisect_right(self._starts, when)
        start = self._starts[index - 1] if index else _BEGINNING
        end = self._starts[index] if index < len(self._starts) else _END
        return (self._versions[index - 1] if index else self._original), start, end


def _start(version: PricingTerms) -> datetime:
    if version.effective_from is None:
        raise ValueError("a pricing version needs its effective_from instant")
    return version.effective_from
