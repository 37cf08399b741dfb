"""Validate one submitted record: every field checked, the first problem named.

Pure: the organization's keys and members arrive as an `OrgDirectory`, the clock as
`ValidationRules`. A bad record raises `InvalidRecord(field, reason)`; the pipeline turns it
into a rejection and keeps going with the rest of the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import orjson

from ingestion.json_nesting import MAX_METADATA_DEPTH, nested_deeper_than
from ingestion.provider_usage import USAGE_FORMATS, UsageFieldError, normalize_usage
from ingestion.providers import normalize_provider, provider_name_problem
from models.attribution import TagError, normalize_end_user, normalize_tags
from pricing.cost import MAX_REQUEST_COST_NANOS
from pricing.money import format_usd, usd_to_nanos

FUTURE_TOLERANCE = timedelta(minutes=5)
# Tokens, latency: one request never comes near (the largest context windows hold 1e7
# tokens); it fits the 32-bit columns, and a batch of 10,000 adds at most 2.1e13 to a 64-bit
# sum (a rollup row holds 4.3e9 such requests).
MAX_COUNT = 2**31 - 1
_MAX_LENGTHS = {"model": 100, "providerModel": 100, "endpoint": 200}

REQUIRED_FIELDS = (
    "requestId",
    "timestamp",
    "model",
    "endpoint",
    "inputTokens",
    "outputTokens",
    "latencyMs",
    "statusCode",
)
# Required unless the record carries a provider `usage` object they are derived from.
_USAGE_DERIVED = frozenset({"inputTokens", "outputTokens"})
# Token classes beside input and output, in the canonical meaning (docs/readme/pricing.md):
# the cache counts are part of inputTokens, reasoningTokens part of outputTokens.
CLASS_COUNT_FIELDS = (
    "cacheReadTokens",
    "cacheWrite5mTokens",
    "cacheWrite1hTokens",
    "reasoningTokens",
)
OPTIONAL_FIELDS = (
    *CLASS_COUNT_FIELDS,
    "requestUnits",
    "usage",
    "usageFormat",
    "apiKeyId",
    "apiKeyPrefix",
    "memberId",
    "providerModel",
    "provider",
    "totalTokens",
    "providerCost",
    "errorMessage",
    "metadata",
    "requestBody",
    "responseBody",
    "tags",
    "endUser",
)
ACCEPTED_FIELDS = frozenset(REQUIRED_FIELDS + OPTIONAL_FIELDS)
_ALL_NAMES = sorted(ACCEPTED_FIELDS)

MAX_REQUEST_COST_USD = f"{format_usd(MAX_REQUEST_COST_NANOS)} USD"

# (global id, expected type name) -> primary key, or None when it is not such an id.
IdDecoder = Callable[[str, str], int | None]


class InvalidRecord(Exception):
    """The record cannot be stored; `field` (camelCase, None = whole record) and why."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class KeyInfo:
    id: int
    owner_id: int | None  # None for a team key


@dataclass(frozen=True, slots=True)
class OrgDirectory:
    """The organization's keys and members that the batch refers to."""

    keys_by_id: Mapping[int, KeyInfo]
    keys_by_prefix: Mapping[str, list[KeyInfo]]
    member_ids: frozenset[int]


@dataclass(frozen=True, slots=True)
class ValidationRules:
    """Accepted timestamps are within [earliest, latest]; both aware UTC."""

    earliest: datetime
    latest: datetime
    late_arrival_days: int
    keep_bodies: bool
    decode_id: IdDecoder

    @classmethod
    def at(
        cls, now: datetime, late_arrival_days: int, keep_bodies: bool, decode_id: IdDecoder
    ) -> ValidationRules:
        return cls(
            earliest=now - timedelta(days=late_arrival_days),
            latest=now + FUTURE_TOLERANCE,
            late_arrival_days=late_arrival_days,
            keep_bodies=keep_bodies,
            decode_id=decode_id,
        )


# Not frozen: a frozen dataclass sets each field through object.__setattr__, which costs
# microseconds per record at gateway volume.
@dataclass(slots=True)
class ValidRecord:
    """A record that passed validation; not yet priced. Times are aware UTC."""

    request_id: UUID
    timestamp: datetime
    api_key_id: int
    member_id: int | None
    model: str
    provider_model: str
    endpoint: str
    input_tokens: int
    output_tokens: int
    provider_cost_nanos: int | None  # None: price it from the catalog
    latency_ms: int
    status_code: int
    error_message: str | None
    metadata: dict[str, Any] | None
    request_body: str | None
    response_body: str | None
    # The gateway's provider name (normalized); None: the catalog decides at pricing.
    provider: str | None = None
    cache_read_tokens: int = 0
    cache_write_5m_tokens: int = 0
    cache_write_1h_tokens: int = 0
    reasoning_tokens: int = 0
    request_units: int = 0
    # Normal form (models.attribution): distinct, sorted; () without tags.
    tags: tuple[str, ...] = ()
    end_user: str | None = None


def validate_record(fields: object, directory: OrgDirectory, rules: ValidationRules) -> ValidRecord:
    """The record as a ValidRecord; raises InvalidRecord naming the first bad field."""
    if not isinstance(fields, dict):
        raise InvalidRecord(None, f"expected a JSON object, got {_json_type(fields)}")
    if not ACCEPTED_FIELDS.issuperset(fields):
        name = min(fields.keys() - ACCEPTED_FIELDS)
        raise InvalidRecord(name, f"unknown field {name!r}; accepted: {', '.join(_ALL_NAMES)}")
    with_usage = fields.get("usage") is not None
    for name in REQUIRED_FIELDS:
        if fields.get(name) is None and not (with_usage and name in _USAGE_DERIVED):
            raise InvalidRecord(name, "is required")
    key_id, member_id = _key_and_member(fields, directory, rules.decode_id)
    model = _name(fields, "model")
    provider_model = _name(fields, "providerModel") if fields.get("providerModel") else model
    counts = token_counts(fields)
    input_tokens = counts["inputTokens"]
    output_tokens = counts["outputTokens"]
    total = fields.get("totalTokens")
    if total is not None and _count(fields, "totalTokens") != input_tokens + output_tokens:
        raise InvalidRecord(
            "totalTokens",
            f"is {total} but inputTokens + outputTokens = {input_tokens + output_tokens}",
        )
    status_code = fields["statusCode"]
    if type(status_code) is not int or not 100 <= status_code <= 599:
        raise InvalidRecord(
            "statusCode", f"must be an HTTP status code 100..599, got {status_code!r}"
        )
    bodies = (_text(fields, "requestBody"), _text(fields, "responseBody"))
    return ValidRecord(
        request_id=_request_id(fields["requestId"]),
        timestamp=_timestamp(fields["timestamp"], rules),
        api_key_id=key_id,
        member_id=member_id,
        model=model,
        provider_model=provider_model,
        endpoint=_name(fields, "endpoint"),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        provider_cost_nanos=_provider_cost(fields.get("providerCost")),
        latency_ms=_count(fields, "latencyMs"),
        status_code=status_code,
        error_message=_text(fields, "errorMessage"),
        metadata=_metadata(fields.get("metadata")),
        request_body=bodies[0] if rules.keep_bodies else None,
        response_body=bodies[1] if rules.keep_bodies else None,
        provider=_provider(fields.get("provider")),
        cache_read_tokens=counts["cacheReadTokens"],
        cache_write_5m_tokens=counts["cacheWrite5mTokens"],
        cache_write_1h_tokens=counts["cacheWrite1hTokens"],
        reasoning_tokens=counts["reasoningTokens"],
        request_units=_optional_count(fields, "requestUnits"),
        tags=_tags(fields.get("tags")),
        end_user=_end_user(fields.get("endUser")),
    )


def token_counts(fields: dict[str, Any]) -> dict[str, int]:
    """inputTokens, outputTokens and CLASS_COUNT_FIELDS in the canonical meaning: from the
    record's own fields, or derived from its provider `usage` (then any own field sent must
    agree). Raises InvalidRecord naming the field when a count is bad or a subset is larger
    than its whole."""
    own = {
        name: _count(fields, name) if fields.get(name) is not None else None
        for name in ("inputTokens", "outputTokens", *CLASS_COUNT_FIELDS)
    }
    if fields.get("usage") is None:
        if fields.get("usageFormat") is not None:
            raise InvalidRecord("usage", "is required when usageFormat is sent")
        counts = {name: value or 0 for name, value in own.items()}
    else:
        counts = _from_usage(fields)
        for name, value in own.items():
            if value is not None and value != counts[name]:
                raise InvalidRecord(
                    name, f"is {value} but usage ({fields['usageFormat']}) gives {counts[name]}"
                )
    cached = counts["cacheReadTokens"] + counts["cacheWrite5mTokens"] + counts["cacheWrite1hTokens"]
    if cached > counts["inputTokens"]:
        field = next(n for n in CLASS_COUNT_FIELDS[:3] if counts[n])
        raise InvalidRecord(
            field,
            f"cache reads + cache writes = {cached} exceed inputTokens = "
            f"{counts['inputTokens']} (inputTokens counts every prompt token, cached ones "
            "included; send usage with usageFormat to have a provider's counts mapped)",
        )
    if counts["reasoningTokens"] > counts["outputTokens"]:
        raise InvalidRecord(
            "reasoningTokens",
            f"is {counts['reasoningTokens']} but outputTokens = {counts['outputTokens']} "
            "(outputTokens counts every generated token, reasoning included)",
        )
    return counts


def _from_usage(fields: dict[str, Any]) -> dict[str, int]:
    usage, usage_format = fields["usage"], fields.get("usageFormat")
    if not isinstance(usage, dict):
        raise InvalidRecord("usage", f"must be a JSON object, got {_json_type(usage)}")
    if not isinstance(usage_format, str) or usage_format.upper() not in USAGE_FORMATS:
        raise InvalidRecord(
            "usageFormat",
            f"must be one of {', '.join(USAGE_FORMATS)} when usage is sent, got {usage_format!r}"[
                :200
            ],
        )
    try:
        canonical = normalize_usage(usage_format, usage)
    except UsageFieldError as exc:
        raise InvalidRecord(f"usage.{exc.path}", exc.reason) from None
    return {
        "inputTokens": canonical.input_tokens,
        "outputTokens": canonical.output_tokens,
        "cacheReadTokens": canonical.cache_read_tokens,
        "cacheWrite5mTokens": canonical.cache_write_5m_tokens,
        "cacheWrite1hTokens": canonical.cache_write_1h_tokens,
        "reasoningTokens": canonical.reasoning_tokens,
    }


def _optional_count(fields: dict[str, Any], name: str) -> int:
    return 0 if fields.get(name) is None else _count(fields, name)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object" if isinstance(value, dict) else type(value).__name__


def _request_id(value: object) -> UUID:
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    raise InvalidRecord("requestId", f"must be a UUID string, got {value!r}"[:200])


def _timestamp(value: object, rules: ValidationRules) -> datetime:
    if isinstance(value, datetime):
        instant = value
    elif isinstance(value, str):
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidRecord(
                "timestamp", f"{value[:60]!r} is not an ISO 8601 date-time"
            ) from None
    else:
        raise InvalidRecord("timestamp", f"must be an ISO 8601 string, got {_json_type(value)}")
    if instant.utcoffset() is None:
        raise InvalidRecord("timestamp", "needs a UTC offset, e.g. 2025-03-01T12:00:00Z")
    try:
        instant = instant.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 shifted past the calendar's edge
        raise InvalidRecord("timestamp", "is outside the accepted range") from None
    if instant > rules.latest:
        raise InvalidRecord("timestamp", "is more than 5 minutes in the future")
    if instant < rules.earliest:
        raise InvalidRecord(
            "timestamp",
            f"is older than the late-arrival window ({rules.late_arrival_days} days)",
        )
    return instant


def _count(fields: dict[str, Any], name: str) -> int:
    value = fields[name]
    # type() rather than isinstance(): true/false are ints to Python, never counts to us.
    if type(value) is not int:
        raise InvalidRecord(name, f"must be a whole number, got {_json_type(value)}")
    if value < 0:
        raise InvalidRecord(name, f"must not be negative, got {value}")
    if value > MAX_COUNT:
        raise InvalidRecord(name, f"must be at most {MAX_COUNT}, got {value}")
    return value


def _name(fields: dict[str, Any], name: str) -> str:
    value = fields[name]
    if not isinstance(value, str) or not value.strip():
        raise InvalidRecord(name, f"must be a non-empty string, got {_json_type(value)}")
    limit = _MAX_LENGTHS[name]
    if len(value) > limit:
        raise InvalidRecord(name, f"must be at most {limit} characters, got {len(value)}")
    if "\x00" in value:
        raise InvalidRecord(name, "must not contain NUL characters")
    return value


def _provider(value: object) -> str | None:
    """The gateway's `provider` (absent/null: None), lower-cased; InvalidRecord when it is
    not a provider name (ingestion.providers)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRecord("provider", f"must be a string, got {_json_type(value)}")
    name = normalize_provider(value)
    problem = provider_name_problem(name)
    if problem is not None:
        raise InvalidRecord("provider", problem)
    return name


def _text(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRecord(name, f"must be a string or null, got {_json_type(value)}")
    if "\x00" in value:
        raise InvalidRecord(name, "must not contain NUL characters")
    return value


def _provider_cost(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, str | Decimal):
        raise InvalidRecord(
            "providerCost",
            f'must be a decimal string in USD like "0.0123", got {_json_type(value)} '
            "(numbers would lose cents to floating point)",
        )
    try:
        nanos = usd_to_nanos(value)
    except ValueError as exc:
        raise InvalidRecord("providerCost", str(exc)) from None
    if nanos < 0:
        raise InvalidRecord("providerCost", f"must not be negative, got {value}")
    if nanos > MAX_REQUEST_COST_NANOS:
        raise InvalidRecord(
            "providerCost", f"must be at most {MAX_REQUEST_COST_USD} per request, got {value}"
        )
    return nanos


def _tags(value: object) -> tuple[str, ...]:
    try:
        return normalize_tags(value)
    except TagError as error:
        where = "tags" if error.index is None else f"tags[{error.index}]"
        raise InvalidRecord(where, error.reason) from None


def _end_user(value: object) -> str | None:
    try:
        return normalize_end_user(value)
    except ValueError as error:
        raise InvalidRecord("endUser", str(error)) from None


def _metadata(value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRecord("metadata", f"must be a JSON object, got {_json_type(value)}")
    if nested_deeper_than(value, MAX_METADATA_DEPTH):
        raise InvalidRecord(
            "metadata", f"must nest at most {MAX_METADATA_DEPTH} levels of objects and arrays"
        )
    try:
        encoded = orjson.dumps(value)
    except TypeError as exc:
        raise InvalidRecord("metadata", f"is not JSON-serializable: {exc}") from None
    # PostgreSQL's jsonb cannot hold NUL characters; refuse them on every backend alike.
    if b"\\u0000" in encoded:
        raise InvalidRecord("metadata", "must not contain NUL characters")
    return value


def _key_and_member(
    fields: dict[str, Any], directory: OrgDirectory, decode_id: IdDecoder
) -> tuple[int, int | None]:
    key = _key(fields, directory, decode_id)
    raw_member = fields.get("memberId")
    if raw_member is None:
        return key.id, key.owner_id
    member_id = decode_id(raw_member, "Member") if isinstance(raw_member, str) else None
    if member_id is None or member_id not in directory.member_ids:
        raise InvalidRecord("memberId", "no member with this id in your organization")
    if key.owner_id is not None and key.owner_id != member_id:
        raise InvalidRecord(
            "memberId", "the API key is another member's personal key; omit memberId"
        )
    return key.id, member_id


def _key(fields: dict[str, Any], directory: OrgDirectory, decode_id: IdDecoder) -> KeyInfo:
    raw_id = fields.get("apiKeyId")
    raw_prefix = fields.get("apiKeyPrefix")
    if raw_id is None and raw_prefix is None:
        raise InvalidRecord("apiKeyId", "is required (or send apiKeyPrefix)")
    by_id: KeyInfo | None = None
    if raw_id is not None:
        pk = decode_id(raw_id, "ApiKey") if isinstance(raw_id, str) else None
        by_id = directory.keys_by_id.get(pk) if pk is not None else None
        if by_id is None:
            raise InvalidRecord("apiKeyId", "no API key with this id in your organization")
    if raw_prefix is None:
        assert by_id is not None
        return by_id
    if not isinstance(raw_prefix, str):
        raise InvalidRecord("apiKeyPrefix", f"must be a string, got {_json_type(raw_prefix)}")
    matches = directory.keys_by_prefix.get(raw_prefix, [])
    if not matches:
        raise InvalidRecord("apiKeyPrefix", "no API key with this prefix in your organization")
    if by_id is not None:
        if by_id not in matches:
            raise InvalidRecord("apiKeyPrefix", "names a different key than apiKeyId")
        return by_id
    if len(matches) > 1:
        raise InvalidRecord(
            "apiKeyPrefix", f"matches {len(matches)} keys in your organization; send apiKeyId"
        )
    return matches[0]
