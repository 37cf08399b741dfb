"""POST /ingest/bulk: JSON lines in, per-batch verdict out, only after commit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
from starlette.applications import Starlette

from models.access_token import Scope
from models.member import Role
from models.organization import Organization
from models.request_log import RequestLog
from settings import Settings
from tests.factories import make_ingest_token, make_key, make_member, make_org, make_token
from tests.ingest_support import (
    assert_rollups_match_raw_scan,
    gateway_record,
    json_lines,
    post_bulk,
)
from web.app import create_app


async def test_bulk_endpoint_stores_records_and_reports_counts(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    records = [gateway_record(key) for _ in range(3)]

    response = await post_bulk(client, token, records)

    assert response.status_code == 200
    assert response.json() == {"accepted": 3, "duplicates": 0, "rejected": []}
    assert await RequestLog.filter(organization_id=org.id).count() == 3
    await assert_rollups_match_raw_scan(org.id)


async def test_bad_record_in_the_middle_is_named_and_the_others_are_stored(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    records = [gateway_record(key) for _ in range(5)]
    records[2]["inputTokens"] = -5

    response = await post_bulk(client, token, records)

    assert response.status_code == 200
    assert response.json() == {
        "accepted": 4,
        "duplicates": 0,
        "rejected": [
            {
                "position": 2,
                "line": 3,
                "field": "inputTokens",
                "reason": "must not be negative, got -5",
            }
        ],
    }
    stored = {str(r.request_id) for r in await RequestLog.filter(organization_id=org.id)}
    assert stored == {r["requestId"] for i, r in enumerate(records) if i != 2}


async def test_a_line_that_is_not_json_is_rejected_by_position_and_line_number(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    good = gateway_record(key)
    body = b"\n" + orjson.dumps(good) + b"\n\n{not json\n"

    response = await post_bulk(client, token, body)

    payload = response.json()
    assert payload["accepted"] == 1
    [rejection] = payload["rejected"]
    assert rejection["position"] == 1
    assert rejection["line"] == 4
    assert rejection["field"] is None
    assert rejection["reason"].startswith("line 4 is not valid JSON")


async def test_a_line_that_is_not_an_object_is_rejected(client: httpx.AsyncClient) -> None:
    org = await make_org()
    token = await make_ingest_token(org)

    response = await post_bulk(client, token, b"[1, 2]\n")

    assert response.json()["rejected"] == [
        {"position": 0, "line": 1, "field": None, "reason": "expected a JSON object, got an array"}
    ]


async def test_resent_batch_answers_duplicates(client: httpx.AsyncClient) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    records = [gateway_record(key) for _ in range(4)]
    await post_bulk(client, token, records)

    response = await post_bulk(client, token, records)

    assert response.json() == {"accepted": 0, "duplicates": 4, "rejected": []}


async def test_missing_token_is_401_json(client: httpx.AsyncClient) -> None:
    response = await post_bulk(client, None, b"{}\n")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHENTICATED"


async def test_invalid_token_is_401_json(client: httpx.AsyncClient) -> None:
    response = await post_bulk(client, "aize_" + "x" * 40, b"{}\n")

    assert response.status_code == 401
    assert response.json()["error"] == {"code": "UNAUTHENTICATED", "message": "unknown token"}


async def test_reading_token_is_refused_with_403(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    token = await make_token(owner, [Scope.READ, Scope.ADMIN])

    response = await post_bulk(client, token, b"{}\n")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"


async def test_wrong_content_type_is_415(client: httpx.AsyncClient) -> None:
    org = await make_org()
    token = await make_ingest_token(org)

    response = await client.post(
        "/ingest/bulk",
        content=b"a,b\n",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
    )

    assert response.status_code == 415


@pytest.fixture
async def small_limits_client(db: Settings) -> httpx.AsyncClient:
    settings = Settings.from_env(
        {
            "AIZE_DATABASE_URL": db.database_url,
            "AIZE_BULK_MAX_RECORDS": "3",
            "AIZE_BULK_MAX_BYTES": "2048",
        }
    )
    app: Starlette = create_app(settings, manage_database=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_more_records_than_the_limit_is_413_naming_the_limit(
    small_limits_client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)

    response = await post_bulk(small_limits_client, token, [gateway_record(key) for _ in range(4)])

    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "PAYLOAD_TOO_LARGE",
        "message": "a request may carry at most 3 records",
        "limit": {"records": 3},
    }
    assert await RequestLog.filter(organization_id=org.id).count() == 0


async def test_a_body_over_the_byte_limit_is_413_naming_the_limit(
    small_limits_client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    record = gateway_record(key, errorMessage="x" * 3000)

    response = await post_bulk(small_limits_client, token, json_lines([record]))

    assert response.status_code == 413
    assert response.json()["error"]["limit"] == {"bytes": 2048}


async def test_late_record_inside_the_window_counts_in_its_own_day(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    late = datetime.now(UTC).replace(microsecond=0) - timedelta(days=20)

    response = await post_bulk(client, token, [gateway_record(key, timestamp=late.isoformat())])

    assert response.json()["accepted"] == 1
    await assert_rollups_match_raw_scan(org.id)
    day_start = late.replace(hour=0, minute=0, second=0)
    from models.rollup import UsageRollupDay

    [row] = await UsageRollupDay.filter(organization_id=org.id)
    assert row.bucket_start == day_start
    assert row.requests == 1


async def test_bodies_are_dropped_unless_the_organization_logs_them(
    client: httpx.AsyncClient,
) -> None:
    quiet = await make_org()
    verbose = await make_org(log_bodies=True)
    for org in (quiet, verbose):
        key = await make_key(org)
        token = await make_ingest_token(org)
        record = gateway_record(key, requestBody='{"q": 1}', responseBody='{"a": 2}')
        await post_bulk(client, token, [record])

    quiet_log = await RequestLog.get(organization_id=quiet.id)
    verbose_log = await RequestLog.get(organization_id=verbose.id)
    assert (quiet_log.request_body, quiet_log.response_body) == (None, None)
    assert (verbose_log.request_body, verbose_log.response_body) == ('{"q": 1}', '{"a": 2}')


async def test_metadata_and_error_message_are_stored(client: httpx.AsyncClient) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)
    record = gateway_record(
        key,
        statusCode=429,
        outputTokens=0,
        errorMessage="Rate limit exceeded",
        metadata={"temperature": 0.7, "max_tokens": 256, "stream": True},
    )

    await post_bulk(client, token, [record])

    log = await RequestLog.get(organization_id=org.id)
    assert log.metadata == {"max_tokens": 256, "stream": True, "temperature": 0.7}
    assert log.error_message == "Rate limit exceeded"
    assert log.status_code == 429
    assert (await Organization.get(id=org.id)).id == org.id


async def test_a_key_prefix_with_a_nul_character_is_an_unknown_key(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await make_ingest_token(org)

    response = await post_bulk(client, token, [gateway_record(key, apiKeyPrefix="sk-\x00")])

    assert response.status_code == 200
    assert response.json()["rejected"][0]["field"] == "apiKeyPrefix"
