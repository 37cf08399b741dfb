"""UsageFormat: which provider's convention a provider-native usage object follows."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(
    name="UsageFormat",
    description=(
        "A provider's usage object convention, mapped onto inputTokens (every prompt token) "
        "and outputTokens (every generated token) with their cache and reasoning parts "
        "(docs/readme/pricing.md)."
    ),
)
class UsageFormat(Enum):
    OPENAI = strawberry.enum_value(
        "OPENAI",
        description=(
            "prompt_tokens includes prompt_tokens_details.cached_tokens; completion_tokens "
            "includes completion_tokens_details.reasoning_tokens (Responses API names too)."
        ),
    )
    ANTHROPIC = strawberry.enum_value(
        "ANTHROPIC",
        description=(
            "input_tokens excludes cache_read_input_tokens and cache_creation_input_tokens "
            "(split by cache_creation.ephemeral_5m/1h_input_tokens)."
        ),
    )
    GEMINI = strawberry.enum_value(
        "GEMINI",
        description=(
            "promptTokenCount includes cachedContentTokenCount; thoughtsTokenCount is "
            "output beside candidatesTokenCount."
        ),
    )
    BEDROCK = strawberry.enum_value(
        "BEDROCK",
        description=(
            "Converse: inputTokens excludes cacheReadInputTokens and cacheWriteInputTokens."
        ),
    )
