"""Record validation: every bad field is named with a clear reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from ingestion.validation import (
    InvalidRecord,
    KeyInfo,
    OrgDirectory,
    ValidationRules,
    validate_record,
)
from models.global_ids import encode_global_id

NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
TEAM_KEY = KeyInfo(id=7, owner_id=None)
PERSONAL_KEY = KeyInfo(id=8, owner_id=21)
DIRECTORY = OrgDirectory(
    keys_by_id={7: TEAM_KEY, 8: PERSONAL_KEY},
    keys_by_prefix={"sk-team": [TEAM_KEY], "sk-mine": [PERSONAL_KEY]},
    member_ids=frozenset({21, 22}),
)


def _decode(global_id: str, type_name: str) -> int | None:
    from models.global_ids import decode_global_id_of

    return decode_global_id_of(global_id, type_name)


def rules(*, keep_bodies: bool = False, late_days: int = 35) -> ValidationRules:
    return ValidationRules.at(NOW, late_days, keep_bodies, _decode)


def record(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "requestId": "5b1f6c1e-7d0e-4d8e-9a51-4f5f1a0c9e11",
        "timestamp": "2025-03-10T11:00:00Z",
        "apiKeyPrefix": "sk-team",
        "model": "gpt-4",
        "endpoint": "/v1/chat/completions",
        "inputTokens": 100,
        "outputTokens": 50,
        "latencyMs": 900,
        "statusCode": 200,
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def rejection(fields: Any, **kw: Any) -> tuple[str | None, str]:
    with pytest.raises(InvalidRecord) as caught:
        validate_record(fields, DIRECTORY, rules(**kw))
    return caught.value.field, caught.value.reason


def test_a_valid_record_is_normalized() -> None:
    valid = validate_record(record(timestamp="2025-03-10T12:30:00+01:00"), DIRECTORY, rules())

    assert valid.request_id == UUID("5b1f6c1e-7d0e-4d8e-9a51-4f5f1a0c9e11")
    assert valid.timestamp == datetime(2025, 3, 10, 11, 30, tzinfo=UTC)
    assert (valid.api_key_id, valid.member_id) == (7, None)
    assert valid.provider_model == "gpt-4"
    assert valid.provider_cost_nanos is None


@pytest.mark.parametrize("name", ["requestId", "timestamp", "model", "endpoint", "statusCode"])
def test_missing_required_field_is_named(name: str) -> None:
    fields = record()
    del fields[name]

    assert rejection(fields) == (name, "is required")


def test_negative_tokens_are_rejected() -> None:
    assert rejection(record(outputTokens=-1)) == ("outputTokens", "must not be negative, got -1")


@pytest.mark.parametrize("value", ["100", 1.5, True])
def test_tokens_of_the_wrong_type_are_rejected(value: object) -> None:
    field, reason = rejection(record(inputTokens=value))

    assert field == "inputTokens"
    assert reason.startswith("must be a whole number")


def test_total_tokens_must_equal_the_sum() -> None:
    assert rejection(record(totalTokens=151)) == (
        "totalTokens",
        "is 151 but inputTokens + outputTokens = 150",
    )


def test_status_code_outside_http_range_is_rejected() -> None:
    assert rejection(record(statusCode=99))[0] == "statusCode"


def test_request_id_must_be_a_uuid() -> None:
    assert rejection(record(requestId="abc")) == (
        "requestId",
        "must be a UUID string, got 'abc'",
    )


def test_timestamp_without_offset_is_rejected() -> None:
    assert rejection(record(timestamp="2025-03-10T11:00:00")) == (
        "timestamp",
        "needs a UTC offset, e.g. 2025-03-01T12:00:00Z",
    )


def test_timestamp_more_than_five_minutes_ahead_is_rejected() -> None:
    ahead = (NOW + timedelta(minutes=5, seconds=1)).isoformat()

    assert rejection(record(timestamp=ahead)) == (
        "timestamp",
        "is more than 5 minutes in the future",
    )


def test_timestamp_five_minutes_ahead_is_accepted() -> None:
    ahead = (NOW + timedelta(minutes=5)).isoformat()

    assert validate_record(record(timestamp=ahead), DIRECTORY, rules()).timestamp > NOW


def test_timestamp_older_than_the_late_arrival_window_is_rejected() -> None:
    old = (NOW - timedelta(days=10, seconds=1)).isoformat()

    assert rejection(record(timestamp=old), late_days=10) == (
        "timestamp",
        "is older than the late-arrival window (10 days)",
    )


def test_unknown_key_prefix_is_rejected() -> None:
    assert rejection(record(apiKeyPrefix="sk-other")) == (
        "apiKeyPrefix",
        "no API key with this prefix in your organization",
    )


def test_key_is_required() -> None:
    fields = record()
    del fields["apiKeyPrefix"]

    assert rejection(fields) == ("apiKeyId", "is required (or send apiKeyPrefix)")


def test_key_by_global_id_and_personal_owner_as_member() -> None:
    fields = record(apiKeyPrefix=None, apiKeyId=encode_global_id("ApiKey", 8))

    valid = validate_record(fields, DIRECTORY, rules())

    assert (valid.api_key_id, valid.member_id) == (8, 21)


def test_key_of_another_organization_is_unknown() -> None:
    fields = record(apiKeyPrefix=None, apiKeyId=encode_global_id("ApiKey", 99))

    assert rejection(fields) == ("apiKeyId", "no API key with this id in your organization")


def test_member_of_another_organization_is_rejected() -> None:
    assert rejection(record(memberId=encode_global_id("Member", 99))) == (
        "memberId",
        "no member with this id in your organization",
    )


def test_team_key_takes_the_member_sent() -> None:
    fields = record(memberId=encode_global_id("Member", 22))

    assert validate_record(fields, DIRECTORY, rules()).member_id == 22


def test_someone_elses_personal_key_cannot_carry_another_member() -> None:
    fields = record(apiKeyPrefix="sk-mine", memberId=encode_global_id("Member", 22))

    assert rejection(fields)[0] == "memberId"


def test_provider_cost_must_be_a_decimal_string() -> None:
    field, reason = rejection(record(providerCost=0.1))

    assert field == "providerCost"
    assert reason.startswith('must be a decimal string in USD like "0.0123"')


def test_provider_cost_string_is_exact_nanos() -> None:
    fields = record(providerCost="0.123456789")

    assert validate_record(fields, DIRECTORY, rules()).provider_cost_nanos == 123_456_789


def test_negative_provider_cost_is_rejected() -> None:
    assert rejection(record(providerCost="-0.01"))[0] == "providerCost"


def test_unknown_fields_are_rejected_by_name() -> None:
    field, reason = rejection(record(costUsd="1"))

    assert field == "costUsd"
    assert reason.startswith("unknown field 'costUsd'; accepted: apiKeyId, apiKeyPrefix")


def test_metadata_must_be_an_object() -> None:
    assert rejection(record(metadata=[1]))[0] == "metadata"


def test_model_longer_than_the_column_is_rejected() -> None:
    assert rejection(record(model="m" * 101)) == (
        "model",
        "must be at most 100 characters, got 101",
    )


def test_nul_characters_are_rejected() -> None:
    assert rejection(record(errorMessage="bad\x00")) == (
        "errorMessage",
        "must not contain NUL characters",
    )


def test_bodies_are_kept_only_when_the_organization_logs_them() -> None:
    fields = record(requestBody="{}", responseBody="[]")

    assert validate_record(fields, DIRECTORY, rules()).request_body is None
    assert validate_record(fields, DIRECTORY, rules(keep_bodies=True)).response_body == "[]"


def test_a_record_that_is_not_an_object_names_no_field() -> None:
    assert rejection("text") == (None, "expected a JSON object, got a string")


def test_timestamp_at_the_calendar_edge_is_rejected_not_crashed() -> None:
    assert rejection(record(timestamp="0001-01-01T00:00:00+05:00")) == (
        "timestamp",
        "is outside the accepted range",
    )
