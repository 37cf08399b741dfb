"""Ingest input and result types: the gateway's request log record and the batch verdict."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.scalars import JSON

from graph.input_size import LARGE_TEXT
from graph.types.usage_format import UsageFormat
from ingestion.submission import IngestOutcome
from models.attribution import MAX_END_USER_BYTES, MAX_TAG_BYTES, MAX_TAGS


@strawberry.input(
    name="RequestLogInput",
    description="One gateway request. Send apiKeyId or apiKeyPrefix (one is required).",
)
class RequestLogInput:
    request_id: strawberry.ID = strawberry.field(
        description="The gateway's UUID; unique within the organization (a resend is a duplicate)."
    )
    timestamp: datetime = strawberry.field(
        description="When the request was made, ISO 8601 with a UTC offset."
    )
    model: str = strawberry.field(description='Model alias requested, e.g. "gpt-4".')
    endpoint: str = strawberry.field(description='API endpoint, e.g. "/v1/chat/completions".')
    latency_ms: int = strawberry.field(
        description="How long the request took, in milliseconds, 0 or more."
    )
    status_code: int = strawberry.field(description="HTTP status the gateway answered.")
    api_key_id: strawberry.ID | None = strawberry.field(
        default=None, description="The key's global id (Organization.apiKeys { id })."
    )
    api_key_prefix: str | None = strawberry.field(
        default=None, description='The key\'s prefix, e.g. "sk-aize-3f9a".'
    )
    member_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Who made the request (team keys); a personal key's owner by default.",
    )
    provider_model: str | None = strawberry.field(
        default=None, description="Model actually used; defaults to model."
    )
    provider: str | None = strawberry.field(
        default=None,
        description=(
            'Who served the call, e.g. "openai", "azure", "anthropic" (case-insensitive, at '
            "most 50 bytes: letters, digits, inner '.', '_' or '-'); default: the price "
            'catalog\'s provider of providerModel, else of model, else "unknown".'
        ),
    )
    input_tokens: int | None = strawberry.field(
        default=None,
        description=(
            "Every prompt token, cache reads and cache writes included (OpenAI's "
            "prompt_tokens; for Anthropic add the cache counts to input_tokens). Required "
            "unless usage is sent."
        ),
    )
    output_tokens: int | None = strawberry.field(
        default=None,
        description=("Every generated token, reasoning included. Required unless usage is sent."),
    )
    total_tokens: int | None = strawberry.field(
        default=None, description="If sent, must equal inputTokens + outputTokens."
    )
    cache_read_tokens: int | None = strawberry.field(
        default=None,
        description="Prompt tokens served from a prompt cache (part of inputTokens); default 0.",
    )
    cache_write_5m_tokens: int | None = strawberry.field(
        default=None,
        description=(
            "Prompt tokens written to a cache for 5 minutes, the default lifetime (part of "
            "inputTokens); default 0."
        ),
    )
    cache_write_1h_tokens: int | None = strawberry.field(
        default=None,
        description="Prompt tokens written to a cache for 1 hour (part of inputTokens); default 0.",
    )
    reasoning_tokens: int | None = strawberry.field(
        default=None,
        description="Reasoning (thinking) tokens (part of outputTokens); default 0.",
    )
    request_units: int | None = strawberry.field(
        default=None,
        description=(
            "Billable units priced per unit by the catalog (images, searches); default 0."
        ),
    )
    usage: JSON | None = strawberry.field(
        default=None,
        description=(
            "The provider's own usage object, as it answered (with usageFormat): the token "
            "counts are derived from it; token fields sent beside it must agree."
        ),
    )
    usage_format: UsageFormat | None = strawberry.field(
        default=None, description="How to read usage: which provider's convention it follows."
    )
    provider_cost: Decimal | None = strawberry.field(
        default=None, description="USD paid to the provider; when sent, the catalog is skipped."
    )
    error_message: str | None = strawberry.field(
        default=None, description="The error for a failed request (user text, bounded in length)."
    )
    metadata: JSON | None = strawberry.field(
        default=None, description="A JSON object: model parameters, provider details."
    )
    request_body: str | None = strawberry.field(
        default=None,
        description="Stored only when the organization logs bodies.",
        metadata=LARGE_TEXT,
    )
    response_body: str | None = strawberry.field(
        default=None,
        description="Stored only when the organization logs bodies.",
        metadata=LARGE_TEXT,
    )
    tags: list[str] | None = strawberry.field(
        default=None,
        description=(
            f"Up to {MAX_TAGS} tags (features, customers, projects) to attribute spend to: "
            f"trimmed and lowercased, each 1 to {MAX_TAG_BYTES} bytes of a-z, 0-9 and "
            "_ - . : / = @ +, starting with a letter or digit; repeats count once."
        ),
    )
    end_user: str | None = strawberry.field(
        default=None,
        description=(
            "The application's own id for the end user (OpenAI's `user`): up to "
            f"{MAX_END_USER_BYTES} bytes, trimmed, case kept; blank means none."
        ),
    )

    def as_fields(self) -> dict[str, Any]:
        """The record as the camelCase mapping validation reads (unset fields left out)."""
        values: dict[str, Any] = {
            "requestId": str(self.request_id),
            "timestamp": self.timestamp,
            "model": self.model,
            "endpoint": self.endpoint,
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "latencyMs": self.latency_ms,
            "statusCode": self.status_code,
            "apiKeyId": None if self.api_key_id is None else str(self.api_key_id),
            "apiKeyPrefix": self.api_key_prefix,
            "memberId": None if self.member_id is None else str(self.member_id),
            "providerModel": self.provider_model,
            "provider": self.provider,
            "totalTokens": self.total_tokens,
            "cacheReadTokens": self.cache_read_tokens,
            "cacheWrite5mTokens": self.cache_write_5m_tokens,
            "cacheWrite1hTokens": self.cache_write_1h_tokens,
            "reasoningTokens": self.reasoning_tokens,
            "requestUnits": self.request_units,
            "usage": self.usage,
            "usageFormat": None if self.usage_format is None else self.usage_format.value,
            "providerCost": self.provider_cost,
            "errorMessage": self.error_message,
            "metadata": self.metadata,
            "requestBody": self.request_body,
            "responseBody": self.response_body,
            "tags": self.tags,
            "endUser": self.end_user,
        }
        return {name: value for name, value in values.items() if value is not None}


@strawberry.type(name="RejectedRecord", description="A record that was not stored, and why.")
class RejectedRecordType:
    position: int = strawberry.field(description="0-based index in the batch.")
    line: int | None = strawberry.field(description="Line number (bulk JSON lines only).")
    field: str | None = strawberry.field(
        description="The offending field (camelCase); null when the whole record is unusable."
    )
    reason: str = strawberry.field(description="Why the record was not stored, naming the field.")


@strawberry.type(name="IngestResult", description="What happened to each record of a batch.")
class IngestResultType:
    accepted: int = strawberry.field(description="Records stored by this call.")
    duplicates: int = strawberry.field(
        description="Records whose requestId was already stored (or repeated in the batch)."
    )
    rejected: list[RejectedRecordType] = strawberry.field(
        description="The records not stored, each with its position and reason."
    )

    @classmethod
    def from_outcome(cls, outcome: IngestOutcome) -> IngestResultType:
        return cls(
            accepted=outcome.accepted,
            duplicates=outcome.duplicates,
            rejected=[
                RejectedRecordType(position=r.position, line=r.line, field=r.field, reason=r.reason)
                for r in outcome.rejected
            ],
        )
