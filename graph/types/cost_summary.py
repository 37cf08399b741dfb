"""CostSummary: the key metrics of a set of requests (totals, a bucket or a group)."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from graph.scalars import BigInt, usd
from resolvers.usage_measures import UsageMeasures


@strawberry.type(
    name="CostSummary",
    description=(
        "Requests, tokens, money (USD, exact) and latency of a set of requests. Rates and "
        "averages are exact, rounded half-even to at most 9 decimals, and null when there "
        "are no requests."
    ),
)
class CostSummary:
    requests: BigInt = strawberry.field(description="All requests, successful and failed.")
    successful: BigInt = strawberry.field(description="Requests answered 2xx.")
    failed: BigInt = strawberry.field(description="Requests not answered 2xx (4xx, 5xx...).")
    client_errors: BigInt = strawberry.field(description="Requests answered 4xx.")
    server_errors: BigInt = strawberry.field(description="Requests answered 5xx.")
    success_rate: Decimal | None = strawberry.field(
        description="2xx responses / all responses x 100 (percent); null without requests."
    )
    error_rate: Decimal | None = strawberry.field(
        description="failed / requests x 100 (percent); null without requests."
    )
    input_tokens: BigInt
    output_tokens: BigInt
    total_tokens: BigInt = strawberry.field(description="Input + output tokens.")
    provider_cost: Decimal = strawberry.field(description="USD paid to providers.")
    markup: Decimal = strawberry.field(description="USD markup on the provider cost.")
    fixed_fees: Decimal = strawberry.field(description="USD of per-request fixed fees.")
    customer_cost: Decimal = strawberry.field(
        description="USD charged: provider cost + markup + fixed fees (usage only)."
    )
    average_cost_per_request: Decimal | None = strawberry.field(
        description="customerCost / requests in USD, rounded half-even to 9 decimals."
    )
    average_latency_ms: Decimal | None = strawberry.field(
        description="Mean latency in milliseconds, rounded half-even to 9 decimals."
    )
    unpriced_requests: BigInt = strawberry.field(
        description="Requests with no catalog price yet (counted at cost 0 until repriced)."
    )

    @classmethod
    def from_measures(cls, measures: UsageMeasures) -> CostSummary:
        average_cost = measures.average_cost_nanos()
        return cls(
            requests=BigInt(measures.requests),
            successful=BigInt(measures.successful),
            failed=BigInt(measures.failed),
            client_errors=BigInt(measures.client_errors),
            server_errors=BigInt(measures.server_errors),
            success_rate=measures.success_rate_percent(),
            error_rate=measures.error_rate_percent(),
            input_tokens=BigInt(measures.input_tokens),
            output_tokens=BigInt(measures.output_tokens),
            total_tokens=BigInt(measures.total_tokens),
            provider_cost=usd(measures.provider_cost_nanos),
            markup=usd(measures.markup_nanos),
            fixed_fees=usd(measures.fixed_fee_nanos),
            customer_cost=usd(measures.customer_cost_nanos),
            average_cost_per_request=None if average_cost is None else usd(average_cost),
            average_latency_ms=measures.average_latency_ms(),
            unpriced_requests=BigInt(measures.unpriced),
        )
