"""ingestRequestLogs: the small-batch GraphQL path, ingest tokens only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from models.global_ids import encode_global_id
from models.member import Role
from models.request_log import RequestLog
from tests.factories import gql, make_ingest_token, make_key, make_member, make_org, make_token

MUTATION = """
mutation Ingest($records: [RequestLogInput!]!) {
  ingestRequestLogs(records: $records) {
    accepted duplicates rejected { position line field reason }
  }
}
"""


def record(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "requestId": str(uuid.uuid4()),
        "timestamp": (datetime.now(UTC) - timedelta(minutes=3)).isoformat(),
        "model": "gpt-4",
        "endpoint": "/v1/chat/completions",
        "inputTokens": 10,
        "outputTokens": 5,
        "latencyMs": 300,
        "statusCode": 200,
    }
    base.update(fields)
    return base


async def test_mutation_stores_records_and_reports_the_bad_one(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    member = await make_member(org)
    key = await make_key(org, owner=member)
    token = await make_ingest_token(org)
    key_id = encode_global_id("ApiKey", key.id)
    records = [
        record(apiKeyId=key_id, providerCost="0.02", metadata={"temperature": 0.2}),
        record(apiKeyId=key_id, inputTokens=-1),
        record(apiKeyPrefix=key.prefix),
    ]

    result = await gql(client, token, MUTATION, records=records)

    assert result.errors is None
    assert result.data == {
        "ingestRequestLogs": {
            "accepted": 2,
            "duplicates": 0,
            "rejected": [
                {
                    "position": 1,
                    "line": None,
                    "field": "inputTokens",
                    "reason": "must not be negative, got -1",
                }
            ],
        }
    }
    logs = await RequestLog.filter(organization_id=org.id)
    assert {log.member_id for log in logs} == {member.id}


async def test_mutation_resend_counts_duplicates(client: httpx.AsyncClient) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    records = [record(apiKeyPrefix=key.prefix)]
    await gql(client, token, MUTATION, records=records)

    result = await gql(client, token, MUTATION, records=records)

    assert result.data == {"ingestRequestLogs": {"accepted": 0, "duplicates": 1, "rejected": []}}


async def test_reading_token_cannot_ingest(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    token = await make_token(owner)

    result = await gql(client, token, MUTATION, records=[record(apiKeyPrefix="x")])

    assert result.error_codes == ["FORBIDDEN"]
    assert await RequestLog.all().count() == 0


async def test_more_than_1000_records_is_bad_input(client: httpx.AsyncClient) -> None:
    org = await make_org()
    token = await make_ingest_token(org)

    result = await gql(client, token, MUTATION, records=[record(apiKeyPrefix="x")] * 1001)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert "at most 1000 per call" in result.errors[0]["message"]


async def test_naive_timestamp_is_rejected_per_record(client: httpx.AsyncClient) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)

    result = await gql(
        client,
        token,
        MUTATION,
        records=[record(apiKeyPrefix=key.prefix, timestamp="2025-01-01T00:00:00")],
    )

    assert result.data is not None
    assert result.data["ingestRequestLogs"]["rejected"][0]["field"] == "timestamp"
