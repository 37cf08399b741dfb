"""RequestLog type: every field of the usage page's log record.

One field per column models/request_log_columns.py's LOG_ROW shows, under its public name
(tests/test_request_log_columns.py checks both ways)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from decimal import Decimal
from typing import cast

import strawberry
from strawberry.scalars import JSON

from graph.dataloaders import Loaders
from graph.scalars import usd
from graph.types.api_key import ApiKeyType
from graph.types.member import MemberType
from graph.types.node import Node
from models.attribution import stored_tags
from models.global_ids import encode_global_id
from models.request_log import RequestLog
from resolvers.log_pages import LogRecord


@strawberry.type(name="RequestLog", description="One gateway call, priced.")
class RequestLogType(Node):
    request_id: strawberry.ID = strawberry.field(description="The gateway's UUID for tracing.")
    timestamp: datetime = strawberry.field(description="When the gateway served the request (UTC).")
    model: str = strawberry.field(description='Model alias requested, e.g. "gpt-4".')
    provider_model: str = strawberry.field(description='Model actually used ("gpt-4-0613").')
    provider: str = strawberry.field(
        description=(
            'Who served the call, lower-case ("openai", "anthropic", "google"; "unknown" when '
            "neither the gateway nor the price catalog named one). Fixed at ingest."
        )
    )
    endpoint: str = strawberry.field(
        description='The gateway path called, e.g. "/v1/chat/completions".'
    )
    input_tokens: int = strawberry.field(
        description="Every prompt token, cache reads and cache writes included."
    )
    output_tokens: int = strawberry.field(description="Every generated token, reasoning included.")
    total_tokens: int = strawberry.field(description="Input plus output tokens.")
    cache_read_tokens: int = strawberry.field(
        description="Prompt tokens served from a prompt cache (part of inputTokens)."
    )
    cache_write_5m_tokens: int = strawberry.field(
        description="Prompt tokens written to a cache for 5 minutes (part of inputTokens)."
    )
    cache_write_1h_tokens: int = strawberry.field(
        description="Prompt tokens written to a cache for 1 hour (part of inputTokens)."
    )
    reasoning_tokens: int = strawberry.field(
        description="Reasoning (thinking) tokens (part of outputTokens)."
    )
    request_units: int = strawberry.field(
        description="Billable per-request units (images, searches...) the gateway reported."
    )

    # Money is computed when selected: a page of 50 shows one or two amounts per row.
    @strawberry.field(description="USD paid to the provider.")
    def provider_cost(self) -> Decimal:
        return usd(self.provider_cost_nanos)

    @strawberry.field(description="USD markup on the provider cost.")
    def markup(self) -> Decimal:
        return usd(self.markup_nanos)

    @strawberry.field(description="USD per-request fee.")
    def fixed_fee(self) -> Decimal:
        return usd(self.fixed_fee_nanos)

    @strawberry.field(description="USD charged: provider+markup+fee.")
    def customer_cost(self) -> Decimal:
        return usd(self.customer_cost_nanos)

    @strawberry.field(
        description=(
            "USD of the prompt tokens read fresh (not from or into a cache). The class costs "
            "sum to providerCost when the catalog priced the request; all 0 when the gateway "
            "sent providerCost."
        )
    )
    def uncached_input_cost(self) -> Decimal:
        return usd(self.class_costs[0])

    @strawberry.field(description="USD of the cache-read tokens.")
    def cache_read_cost(self) -> Decimal:
        return usd(self.class_costs[1])

    @strawberry.field(description="USD of the cache-write tokens, both lifetimes.")
    def cache_write_cost(self) -> Decimal:
        return usd(self.class_costs[2])

    @strawberry.field(description="USD of the output tokens other than reasoning.")
    def non_reasoning_output_cost(self) -> Decimal:
        return usd(self.class_costs[3])

    @strawberry.field(description="USD of the reasoning tokens.")
    def reasoning_cost(self) -> Decimal:
        return usd(self.class_costs[4])

    @strawberry.field(description="USD of per-request and per-unit catalog prices.")
    def request_cost(self) -> Decimal:
        return usd(self.class_costs[5])

    @strawberry.field(
        description=(
            "USD caching saved on this request: its cached tokens at the uncached input "
            "price minus what they cost (negative when a cache write cost more)."
        )
    )
    def cache_savings(self) -> Decimal:
        return usd(self.class_costs[6])

    priced: bool = strawberry.field(
        description="False while no catalog price existed for the model (cost shown as 0)."
    )
    latency_ms: int = strawberry.field(description="How long the request took, in milliseconds.")
    status_code: int = strawberry.field(description="The HTTP status the gateway answered with.")
    error_message: str | None = strawberry.field(
        description="The error the gateway reported for a failed request; null otherwise."
    )
    metadata: JSON | None = strawberry.field(description="Model parameters and provider details.")
    request_body: str | None = strawberry.field(
        description="Only when the organization has enabled body logging."
    )
    response_body: str | None = strawberry.field(
        description="Only when the organization has enabled body logging."
    )
    tags: list[str] = strawberry.field(
        description=(
            "The request's tags, normalised (trimmed, lowercased), distinct and sorted; "
            "empty when it has none."
        )
    )
    end_user: str | None = strawberry.field(
        description="The application's end-user id sent with the request (OpenAI's `user`)."
    )
    pk: strawberry.Private[int]
    provider_cost_nanos: strawberry.Private[int]
    markup_nanos: strawberry.Private[int]
    fixed_fee_nanos: strawberry.Private[int]
    customer_cost_nanos: strawberry.Private[int]
    # Nano-USD: uncached input, cache read, cache write, non-reasoning output, reasoning,
    # request, cache savings.
    class_costs: strawberry.Private[tuple[int, int, int, int, int, int, int]]
    api_key_pk: strawberry.Private[int]
    member_pk: strawberry.Private[int | None]
    # This request's loaders, for a key or member not preloaded.
    loaders: strawberry.Private[Loaders]
    # Filled when the page loaded every row's key and member up front (the logs table asks
    # for them on every row): the fields then answer without awaiting, which on a page of
    # 50 saves a hundred asynchronous resolutions.
    key_preloaded: strawberry.Private[bool] = False
    preloaded_key: strawberry.Private[ApiKeyType | None] = None
    member_preloaded: strawberry.Private[bool] = False
    preloaded_member: strawberry.Private[MemberType | None] = None

    @strawberry.field(
        description="The key used (its label is what the logs table shows).",
        graphql_type=ApiKeyType | None,
    )
    def api_key(self) -> ApiKeyType | Awaitable[ApiKeyType | None] | None:
        # No info parameter: a preloaded key is then a plain field (graph.execution).
        if self.key_preloaded:
            return self.preloaded_key
        return self._load_api_key()

    @strawberry.field(
        description="Who made the request (for team keys).", graphql_type=MemberType | None
    )
    def member(self) -> MemberType | Awaitable[MemberType | None] | None:
        if self.member_pk is None:
            return None
        if self.member_preloaded:
            return self.preloaded_member
        return self._load_member(self.member_pk)

    async def _load_api_key(self) -> ApiKeyType | None:
        key = await self.loaders.api_key_by_id.load(self.api_key_pk)
        return ApiKeyType.from_model(key) if key else None

    async def _load_member(self, member_pk: int) -> MemberType | None:
        member = await self.loaders.member_by_id.load(member_pk)
        return MemberType.from_model(member) if member else None

    def preload_key(self, key: ApiKeyType | None) -> None:
        """Set the log's key, already loaded (None: not visible to the viewer); rows of
        one page share one object per key."""
        self.key_preloaded, self.preloaded_key = True, key

    def preload_member(self, member: MemberType | None) -> None:
        """Set the log's member, already loaded (None: not visible to the viewer); rows of
        one page share one object per member."""
        self.member_preloaded, self.preloaded_member = True, member

    @classmethod
    def from_model(
        cls, log: RequestLog | LogRecord, *, show_bodies: bool, loaders: Loaders
    ) -> RequestLogType:
        return cls(
            id=strawberry.ID(encode_global_id("RequestLog", log.id)),
            request_id=strawberry.ID(str(log.request_id)),
            timestamp=log.timestamp,
            model=log.model,
            provider_model=log.provider_model,
            provider=log.provider,
            endpoint=log.endpoint,
            input_tokens=log.input_tokens,
            output_tokens=log.output_tokens,
            total_tokens=log.total_tokens,
            cache_read_tokens=log.cache_read_tokens,
            cache_write_5m_tokens=log.cache_write_5m_tokens,
            cache_write_1h_tokens=log.cache_write_1h_tokens,
            reasoning_tokens=log.reasoning_tokens,
            request_units=log.request_units,
            class_costs=(
                log.input_cost_nanos,
                log.cache_read_cost_nanos,
                log.cache_write_cost_nanos,
                log.output_cost_nanos,
                log.reasoning_cost_nanos,
                log.request_cost_nanos,
                log.cache_savings_nanos,
            ),
            provider_cost_nanos=log.provider_cost_nanos,
            markup_nanos=log.markup_nanos,
            fixed_fee_nanos=log.fixed_fee_nanos,
            customer_cost_nanos=log.customer_cost_nanos,
            priced=log.priced,
            latency_ms=log.latency_ms,
            status_code=log.status_code,
            error_message=log.error_message,
            metadata=cast(JSON, log.metadata),
            request_body=log.request_body if show_bodies else None,
            response_body=log.response_body if show_bodies else None,
            tags=list(stored_tags(log.tags)),
            end_user=log.end_user,
            pk=log.id,
            api_key_pk=log.api_key_id,
            member_pk=log.member_id,
            loaders=loaders,
        )
