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
    # Fields are computed when selected: a trend can carry hundreds of summaries, and a
    # dashboard selects two or three of their fields.
    measures: strawberry.Private[UsageMeasures]

    @strawberry.field(description="All requests, successful and failed.")
    def requests(self) -> BigInt:
        return BigInt(self.measures.requests)

    @strawberry.field(description="Requests answered 2xx.")
    def successful(self) -> BigInt:
        return BigInt(self.measures.successful)

    @strawberry.field(description="Requests not answered 2xx (4xx, 5xx...).")
    def failed(self) -> BigInt:
        return BigInt(self.measures.failed)

    @strawberry.field(description="Requests answered 4xx.")
    def client_errors(self) -> BigInt:
        return BigInt(self.measures.client_errors)

    @strawberry.field(description="Requests answered 5xx.")
    def server_errors(self) -> BigInt:
        return BigInt(self.measures.server_errors)

    @strawberry.field(
        description="2xx responses / all responses x 100 (percent); null without requests."
    )
    def success_rate(self) -> Decimal | None:
        return self.measures.success_rate_percent()

    @strawberry.field(description="failed / requests x 100 (percent); null without requests.")
    def error_rate(self) -> Decimal | None:
        return self.measures.error_rate_percent()

    @strawberry.field(description="Prompt (input) tokens.")
    def input_tokens(self) -> BigInt:
        return BigInt(self.measures.input_tokens)

    @strawberry.field(description="Completion (output) tokens.")
    def output_tokens(self) -> BigInt:
        return BigInt(self.measures.output_tokens)

    @strawberry.field(description="Input + output tokens.")
    def total_tokens(self) -> BigInt:
        return BigInt(self.measures.total_tokens)

    @strawberry.field(
        description=(
            "Prompt tokens served from a prompt cache (part of inputTokens, which counts "
            "every prompt token)."
        )
    )
    def cache_read_tokens(self) -> BigInt:
        return BigInt(self.measures.cache_read_tokens)

    @strawberry.field(
        description="Prompt tokens written to a cache, both lifetimes (part of inputTokens)."
    )
    def cache_write_tokens(self) -> BigInt:
        return BigInt(self.measures.cache_write_tokens)

    @strawberry.field(description="Prompt tokens written to a cache for 5 minutes (the default).")
    def cache_write_5m_tokens(self) -> BigInt:
        return BigInt(self.measures.cache_write_5m_tokens)

    @strawberry.field(description="Prompt tokens written to a cache for 1 hour.")
    def cache_write_1h_tokens(self) -> BigInt:
        return BigInt(self.measures.cache_write_1h_tokens)

    @strawberry.field(
        description="inputTokens - cacheReadTokens - cacheWriteTokens: prompt tokens read fresh."
    )
    def uncached_input_tokens(self) -> BigInt:
        measures = self.measures
        return BigInt(
            measures.input_tokens - measures.cache_read_tokens - measures.cache_write_tokens
        )

    @strawberry.field(description="Reasoning (thinking) tokens, part of outputTokens.")
    def reasoning_tokens(self) -> BigInt:
        return BigInt(self.measures.reasoning_tokens)

    @strawberry.field(description="Billable per-request units (images, searches...) reported.")
    def request_units(self) -> BigInt:
        return BigInt(self.measures.request_units)

    @strawberry.field(
        description=(
            "cacheReadTokens / inputTokens x 100 (percent, 9 decimals): the share of prompt "
            "tokens served from a cache; null without input tokens."
        )
    )
    def cache_hit_rate(self) -> Decimal | None:
        return self.measures.cache_hit_rate_percent()

    @strawberry.field(
        description=(
            "USD of uncachedInputTokens at the catalog's input price. The six class costs "
            "(uncachedInputCost, cacheReadCost, cacheWriteCost, nonReasoningOutputCost, "
            "reasoningCost, requestCost) sum to the catalog-priced providerCost; requests whose "
            "providerCost the gateway sent count 0 in each."
        )
    )
    def uncached_input_cost(self) -> Decimal:
        return usd(self.measures.input_cost_nanos)

    @strawberry.field(description="USD of cache-read tokens at the cache-read price.")
    def cache_read_cost(self) -> Decimal:
        return usd(self.measures.cache_read_cost_nanos)

    @strawberry.field(description="USD of cache-write tokens (both lifetimes) at their prices.")
    def cache_write_cost(self) -> Decimal:
        return usd(self.measures.cache_write_cost_nanos)

    @strawberry.field(description="USD of output tokens other than reasoning at the output price.")
    def non_reasoning_output_cost(self) -> Decimal:
        return usd(self.measures.output_cost_nanos)

    @strawberry.field(description="USD of reasoning tokens (the output price unless priced apart).")
    def reasoning_cost(self) -> Decimal:
        return usd(self.measures.reasoning_cost_nanos)

    @strawberry.field(description="USD of per-request and per-unit catalog prices.")
    def request_cost(self) -> Decimal:
        return usd(self.measures.request_cost_nanos)

    @strawberry.field(
        description=(
            "USD caching saved: cache-read and cache-write tokens at the uncached input "
            "price minus what they cost (negative when cache writes cost more than reads "
            "saved)."
        )
    )
    def cache_savings(self) -> Decimal:
        return usd(self.measures.cache_savings_nanos)

    @strawberry.field(description="USD paid to providers.")
    def provider_cost(self) -> Decimal:
        return usd(self.measures.provider_cost_nanos)

    @strawberry.field(description="USD markup on the provider cost.")
    def markup(self) -> Decimal:
        return usd(self.measures.markup_nanos)

    @strawberry.field(description="USD of per-request fixed fees.")
    def fixed_fees(self) -> Decimal:
        return usd(self.measures.fixed_fee_nanos)

    @strawberry.field(description="USD charged: provider cost + markup + fixed fees (usage only).")
    def customer_cost(self) -> Decimal:
        return usd(self.measures.customer_cost_nanos)

    @strawberry.field(
        description="customerCost / requests in USD, rounded half-even to 9 decimals."
    )
    def average_cost_per_request(self) -> Decimal | None:
        return average_cost_usd(self.measures)

    @strawberry.field(description="Mean latency in milliseconds, rounded half-even to 9 decimals.")
    def average_latency_ms(self) -> Decimal | None:
        return self.measures.average_latency_ms()

    @strawberry.field(
        description="Requests with no catalog price yet (counted at cost 0 until repriced)."
    )
    def unpriced_requests(self) -> BigInt:
        return BigInt(self.measures.unpriced)

    @classmethod
    def from_measures(cls, measures: UsageMeasures) -> CostSummary:
        return cls(measures=measures)


def average_cost_usd(measures: UsageMeasures) -> Decimal | None:
    """customerCost / requests in USD (rounded half-even to the nano); None without requests."""
    nanos = measures.average_cost_nanos()
    return None if nanos is None else usd(nanos)
