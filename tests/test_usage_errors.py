"""UsageReport.errors: failed requests by status code and by normalized message pattern."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from models.member import Role
from resolvers.error_analysis import normalize_error_message
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

ERRORS = """
query($filter: UsageFilter) {
  organization { usage(filter: $filter) {
    errors {
      failedRequests
      byStatusCode {
        statusCode count firstSeen lastSeen
        topApiKeys { apiKey { label } requests } topModels { model requests }
      }
      byPattern {
        pattern statusCodes count firstSeen lastSeen sampleMessage
        topApiKeys { apiKey { label } requests } topModels { model requests }
      }
    }
  } }
}
"""
WINDOW = {"from": "2024-05-01T00:00:00Z", "to": "2024-05-02T00:00:00Z"}
AT = datetime(2024, 5, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("message", "pattern"),
    [
        ("Rate limit exceeded, retry in 20s", "Rate limit exceeded, retry in <num>s"),
        ("Invalid API key 'sk-aize-00ab12'", "Invalid API key <str>"),
        ('Model "gpt-4" not allowed for this key', "Model <str> not allowed for this key"),
        ("You don't have access", "You don't have access"),
        (
            "request 3f2b9c1e-8a7d-4e6f-9b0a-1c2d3e4f5a6b failed",
            "request <uuid> failed",
        ),
        ("upstream id 0x1f3a error", "upstream id <hex> error"),
        ("trace req_8f3a9c2b1d7e lost", "trace req_<hex> lost"),
        ("balance 12.50 below 15", "balance <num> below <num>"),
        ("calls /v1/chat failed", "calls /v1/chat failed"),
        ("  too   many\nspaces ", "too many spaces"),
        (None, "(no message)"),
        ("   ", "(no message)"),
    ],
)
def test_messages_are_normalized_to_patterns(message: str | None, pattern: str) -> None:
    assert normalize_error_message(message) == pattern


async def test_errors_are_grouped_by_status_code_and_pattern(client: httpx.AsyncClient) -> None:
    org = await make_org(timezone="Asia/Kolkata")
    owner = await make_member(org, Role.OWNER)
    prod = await make_key(org, owner, label="prod")
    dev = await make_key(org, owner, label="dev")
    await store(
        make_record(org, prod, owner, AT, status_code=200),
        make_record(
            org,
            prod,
            owner,
            AT,
            status_code=429,
            error_message="Rate limit exceeded, retry in 20s",
        ),
        make_record(
            org,
            prod,
            owner,
            AT + timedelta(minutes=5),
            status_code=429,
            error_message="Rate limit exceeded, retry in 30s",
            model="gpt-3.5-turbo",
        ),
        make_record(
            org,
            dev,
            owner,
            AT + timedelta(minutes=9),
            status_code=429,
            error_message="Rate limit exceeded, retry in 5s",
        ),
        make_record(
            org,
            dev,
            owner,
            AT + timedelta(minutes=1),
            status_code=503,
            error_message="Provider unavailable",
        ),
    )

    result = await gql(client, await make_token(owner), ERRORS, filter=WINDOW)

    assert result.errors is None, result.errors
    errors = result.data["organization"]["usage"]["errors"]  # type: ignore[index]
    assert errors["failedRequests"] == 4
    [too_many, unavailable] = errors["byStatusCode"]
    assert too_many == {
        "statusCode": 429,
        "count": 3,
        "firstSeen": "2024-05-01T15:30:00.000000+05:30",
        "lastSeen": "2024-05-01T15:39:00.000000+05:30",
        "topApiKeys": [
            {"apiKey": {"label": "prod"}, "requests": 2},
            {"apiKey": {"label": "dev"}, "requests": 1},
        ],
        "topModels": [
            {"model": "gpt-4", "requests": 2},
            {"model": "gpt-3.5-turbo", "requests": 1},
        ],
    }
    assert unavailable["statusCode"] == 503
    assert unavailable["count"] == 1
    [rate_limit, provider] = errors["byPattern"]
    assert rate_limit["pattern"] == "Rate limit exceeded, retry in <num>s"
    assert rate_limit["statusCodes"] == [429]
    assert rate_limit["count"] == 3
    assert rate_limit["sampleMessage"] == "Rate limit exceeded, retry in 5s"
    assert provider["pattern"] == "Provider unavailable"


async def test_one_pattern_can_span_status_codes(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(
        make_record(org, key, owner, AT, status_code=500, error_message="upstream 500"),
        make_record(org, key, owner, AT, status_code=502, error_message="upstream 502"),
        make_record(org, key, owner, AT, status_code=401, error_message=None),
    )

    result = await gql(client, await make_token(owner), ERRORS, filter=WINDOW)

    patterns = result.data["organization"]["usage"]["errors"]["byPattern"]  # type: ignore[index]
    assert [(p["pattern"], p["statusCodes"], p["count"]) for p in patterns] == [
        ("upstream <num>", [500, 502], 2),
        ("(no message)", [401], 1),
    ]


async def test_member_sees_only_their_own_errors(client: httpx.AsyncClient) -> None:
    org = await make_org()
    member = await make_member(org, Role.MEMBER)
    colleague = await make_member(org, Role.MEMBER)
    team_key = await make_key(org, None, label="team")
    await store(
        make_record(org, team_key, member, AT, status_code=402, error_message="Insufficient"),
        make_record(org, team_key, colleague, AT, status_code=500, error_message="Boom"),
    )

    result = await gql(client, await make_token(member), ERRORS, filter=WINDOW)

    assert result.errors is None, result.errors
    errors = result.data["organization"]["usage"]["errors"]  # type: ignore[index]
    assert errors["failedRequests"] == 1
    assert [g["statusCode"] for g in errors["byStatusCode"]] == [402]
    assert errors["byStatusCode"][0]["topApiKeys"] == [{"apiKey": {"label": "team"}, "requests": 1}]


async def test_no_failures_means_empty_groups(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(make_record(org, key, owner, AT))

    result = await gql(client, await make_token(owner), ERRORS, filter=WINDOW)

    errors = result.data["organization"]["usage"]["errors"]  # type: ignore[index]
    assert errors == {"failedRequests": 0, "byStatusCode": [], "byPattern": []}
