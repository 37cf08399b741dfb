"""PricingVersion: the organization's markup and fee from an instant on."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from graph.scalars import usd
from pricing.cost import basis_points_to_percent
from pricing.terms import PricingTerms

PRICING_HISTORY_DESCRIPTION = (
    "The markup and fixed fee over time, oldest first: the original terms (effectiveFrom "
    "null), then each change from its instant on. A request is priced by the version in "
    "effect at its timestamp, and keeps that price. The latest `limit` (1-1000, default "
    "100) entries."
)


@strawberry.type(name="PricingVersion", description="Markup and fee from an instant on.")
class PricingVersionType:
    effective_from: datetime | None = strawberry.field(
        description="From when (UTC) these terms price requests; null: since the beginning."
    )
    markup_percent: Decimal = strawberry.field(description="Markup on provider cost, percent.")
    fixed_fee: Decimal = strawberry.field(description="USD added to every successful request.")

    @classmethod
    def from_terms(cls, terms: PricingTerms) -> PricingVersionType:
        return cls(
            effective_from=terms.effective_from,
            markup_percent=basis_points_to_percent(terms.markup_bps),
            fixed_fee=usd(terms.fixed_fee_nanos),
        )
