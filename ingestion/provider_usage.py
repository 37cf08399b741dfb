"""Provider-native usage objects mapped onto the canonical token classes.

Canonical (docs/readme/pricing.md): input_tokens = every prompt token, cache reads and
writes included; output_tokens = every generated token, reasoning included; the cache and
reasoning counts are subsets of those.

Each provider counts differently:
- OPENAI (Chat Completions; the Responses API's names too): `prompt_tokens` INCLUDES
  `prompt_tokens_details.cached_tokens`; `completion_tokens` INCLUDES
  `completion_tokens_details.reasoning_tokens`. Responses: `input_tokens`,
  `input_tokens_details.cached_tokens`, `output_tokens`, `output_tokens_details.reasoning_tokens`.
- ANTHROPIC (Messages): `input_tokens` EXCLUDES `cache_read_input_tokens` and
  `cache_creation_input_tokens`; the latter splits into `cache_creation.ephemeral_5m_input_tokens`
  and `ephemeral_1h_input_tokens` (without the split, every write is a 5-minute write).
  Extended thinking is inside `output_tokens` and not reported apart.
- GEMINI (generateContent `usageMetadata`): `promptTokenCount` INCLUDES
  `cachedContentTokenCount`; `toolUsePromptTokenCount` is prompt input beside it;
  `thoughtsTokenCount` is NOT in `candidatesTokenCount` (both are output).
- BEDROCK (Converse `usage`): `inputTokens` EXCLUDES `cacheReadInputTokens` and
  `cacheWriteInputTokens` (5-minute writes).

Unknown keys are ignored (providers add fields); a known key that is not a whole number
>= 0 is refused, naming its path inside `usage`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["USAGE_FORMATS", "CanonicalUsage", "UsageFieldError", "normalize_usage"]

_MAX_COUNT = 2**31 - 1


class UsageFieldError(ValueError):
    """A provider usage field is malformed; `path` is its dotted path inside `usage`."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path} {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CanonicalUsage:
    """Token counts in the canonical meaning (see the module docstring)."""

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0


def _count(usage: dict[str, Any], *path: str) -> int:
    """The whole number at `path` in `usage`, 0 when absent or null."""
    value: Any = usage
    for key in path:
        if value is None:
            return 0
        if not isinstance(value, dict):
            raise UsageFieldError(".".join(path), "must sit inside an object")
        value = value.get(key)
    if value is None:
        return 0
    if type(value) is not int or value < 0 or value > _MAX_COUNT:
        raise UsageFieldError(".".join(path), f"must be a whole number 0..{_MAX_COUNT}")
    return value


def _openai(usage: dict[str, Any]) -> CanonicalUsage:
    if "prompt_tokens" in usage or "completion_tokens" in usage:
        return CanonicalUsage(
            input_tokens=_count(usage, "prompt_tokens"),
            output_tokens=_count(usage, "completion_tokens"),
            cache_read_tokens=_count(usage, "prompt_tokens_details", "cached_tokens"),
            reasoning_tokens=_count(usage, "completion_tokens_details", "reasoning_tokens"),
        )
    return CanonicalUsage(  # the Responses API's names
        input_tokens=_count(usage, "input_tokens"),
        output_tokens=_count(usage, "output_tokens"),
        cache_read_tokens=_count(usage, "input_tokens_details", "cached_tokens"),
        reasoning_tokens=_count(usage, "output_tokens_details", "reasoning_tokens"),
    )


def _anthropic(usage: dict[str, Any]) -> CanonicalUsage:
    read = _count(usage, "cache_read_input_tokens")
    written = _count(usage, "cache_creation_input_tokens")
    five = _count(usage, "cache_creation", "ephemeral_5m_input_tokens")
    hour = _count(usage, "cache_creation", "ephemeral_1h_input_tokens")
    split = usage.get("cache_creation")
    if isinstance(split, dict) and (
        "ephemeral_5m_input_tokens" in split or "ephemeral_1h_input_tokens" in split
    ):
        if "cache_creation_input_tokens" in usage and five + hour != written:
            raise UsageFieldError(
                "cache_creation",
                f"has ephemeral_5m + ephemeral_1h = {five + hour} but "
                f"cache_creation_input_tokens = {written}",
            )
    else:
        five, hour = written, 0
    return CanonicalUsage(
        input_tokens=_count(usage, "input_tokens") + read + five + hour,
        output_tokens=_count(usage, "output_tokens"),
        cache_read_tokens=read,
        cache_write_5m_tokens=five,
        cache_write_1h_tokens=hour,
    )


def _gemini(usage: dict[str, Any]) -> CanonicalUsage:
    thoughts = _count(usage, "thoughtsTokenCount")
    return CanonicalUsage(
        input_tokens=_count(usage, "promptTokenCount") + _count(usage, "toolUsePromptTokenCount"),
        output_tokens=_count(usage, "candidatesTokenCount") + thoughts,
        cache_read_tokens=_count(usage, "cachedContentTokenCount"),
        reasoning_tokens=thoughts,
    )


def _bedrock(usage: dict[str, Any]) -> CanonicalUsage:
    read = _count(usage, "cacheReadInputTokens")
    written = _count(usage, "cacheWriteInputTokens")
    return CanonicalUsage(
        input_tokens=_count(usage, "inputTokens") + read + written,
        output_tokens=_count(usage, "outputTokens"),
        cache_read_tokens=read,
        cache_write_5m_tokens=written,
    )


USAGE_FORMATS: dict[str, Callable[[dict[str, Any]], CanonicalUsage]] = {
    "OPENAI": _openai,
    "ANTHROPIC": _anthropic,
    "GEMINI": _gemini,
    "BEDROCK": _bedrock,
}


def normalize_usage(usage_format: str, usage: dict[str, Any]) -> CanonicalUsage:
    """`usage` (a provider's own usage object) in the canonical meaning.

    Raises KeyError for an unknown format, UsageFieldError for a malformed field."""
    return USAGE_FORMATS[usage_format.upper()](usage)
