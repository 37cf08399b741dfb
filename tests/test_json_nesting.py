"""Deeply nested JSON is refused with a clear answer, never a RecursionError (HTTP 500).

A /graphql request nesting more than 64 levels of objects and arrays is a 400
BAD_USER_INPUT before anything reads it; a record's `metadata` may nest at most 32 levels
(the record is rejected with that reason, on /graphql and /ingest/bulk alike).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from ingestion.json_nesting import MAX_METADATA_DEPTH, nested_deeper_than
from models.member import Role
from tests.factories import make_ingest_token, make_key, make_member, make_org, make_token
from web.request_json import MAX_REQUEST_JSON_DEPTH

TOO_DEEP = {
    "errors": [
        {
            "message": "The request's JSON nests more than 64 levels of objects and arrays.",
            "extensions": {"code": "BAD_USER_INPUT"},
        }
    ]
}
USAGE = "query Q($f: UsageFilter) { organization { usage(filter: $f) { timezone } } }"
INGEST = (
    "mutation M($r: [RequestLogInput!]!) "
    "{ ingestRequestLogs(records: $r) { accepted rejected { field reason } } }"
)
METADATA_REASON = "must nest at most 32 levels of objects and arrays"


def _nested(levels: int) -> str:
    """JSON text of `levels` nested objects: {"a":{"a":...1...}}."""
    return '{"a":' * levels + "1" + "}" * levels


@pytest.fixture
async def gateway(db: object) -> dict[str, str]:
    org = await make_org()
    key = await make_key(org, None)
    owner = await make_member(org, Role.OWNER)
    return {
        "ingest": await make_ingest_token(org),
        "owner": await make_token(owner),
        "prefix": key.prefix,
    }


def _record(prefix: str) -> dict[str, Any]:
    return {
        "requestId": str(uuid.uuid4()),
        "timestamp": datetime.now(UTC).isoformat(),
        "model": "gpt-4",
        "endpoint": "/v1/chat/completions",
        "inputTokens": 1,
        "outputTokens": 1,
        "latencyMs": 1,
        "statusCode": 200,
        "apiKeyPrefix": prefix,
        "metadata": "METADATA",
    }


async def _post(client: httpx.AsyncClient, token: str, body: str) -> httpx.Response:
    return await client.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


@pytest.fixture
async def unraised_client(app: object) -> Any:
    """A client that sees the HTTP answer even if the app raised (a 500), as uvicorn would."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.mark.parametrize("levels", [65, 1_000, 5_000, 100_000])
async def test_variables_nested_too_deeply_are_a_400(
    unraised_client: httpx.AsyncClient, gateway: dict[str, str], levels: int
) -> None:
    body = f'{{"query": {json.dumps(USAGE)}, "variables": {{"f": {_nested(levels)}}}}}'

    response = await _post(unraised_client, gateway["owner"], body)

    assert response.status_code == 400
    assert response.json() == TOO_DEEP


async def test_variables_in_a_get_query_string_are_bounded_too(
    unraised_client: httpx.AsyncClient, gateway: dict[str, str]
) -> None:
    response = await unraised_client.get(
        "/graphql",
        params={"query": USAGE, "variables": f'{{"f": {_nested(1_000)}}}'},
        headers={"Authorization": f"Bearer {gateway['owner']}"},
    )

    assert response.status_code == 400
    assert response.json() == TOO_DEEP


@pytest.mark.parametrize("levels", [900, 5_000])
async def test_metadata_nested_thousands_deep_is_a_400(
    unraised_client: httpx.AsyncClient, gateway: dict[str, str], levels: int
) -> None:
    body = json.dumps({"query": INGEST, "variables": {"r": [_record(gateway["prefix"])]}})

    response = await _post(
        unraised_client, gateway["ingest"], body.replace('"METADATA"', _nested(levels))
    )

    assert response.status_code == 400
    assert response.json() == TOO_DEEP


@pytest.mark.parametrize(("levels", "accepted"), [(32, 1), (33, 0)])
async def test_metadata_may_nest_32_levels_through_graphql(
    client: httpx.AsyncClient, gateway: dict[str, str], levels: int, accepted: int
) -> None:
    body = json.dumps({"query": INGEST, "variables": {"r": [_record(gateway["prefix"])]}})

    response = await _post(client, gateway["ingest"], body.replace('"METADATA"', _nested(levels)))

    assert response.status_code == 200
    rejected = [] if accepted else [{"field": "metadata", "reason": METADATA_REASON}]
    assert response.json()["data"] == {
        "ingestRequestLogs": {"accepted": accepted, "rejected": rejected}
    }


async def test_bulk_records_with_deep_metadata_are_rejected_alone(
    client: httpx.AsyncClient, gateway: dict[str, str]
) -> None:
    lines = [
        json.dumps(_record(gateway["prefix"])).replace('"METADATA"', _nested(levels))
        for levels in (32, 33, 5_000)
    ]

    response = await client.post(
        "/ingest/bulk",
        content="\n".join(lines),
        headers={
            "Authorization": f"Bearer {gateway['ingest']}",
            "Content-Type": "application/x-ndjson",
        },
    )

    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] == 1
    assert [(r["line"], r["field"]) for r in answer["rejected"]] == [(2, "metadata"), (3, None)]
    assert answer["rejected"][0]["reason"] == METADATA_REASON
    assert answer["rejected"][1]["reason"].startswith("line 3 is not valid JSON")


def test_nesting_is_measured_in_levels_of_objects_and_arrays() -> None:
    assert not nested_deeper_than("text", 0)
    assert nested_deeper_than({}, 0)
    assert not nested_deeper_than({"a": [1, 2], "b": {"c": "d"}}, 2)
    assert nested_deeper_than({"a": [1, 2], "b": {"c": [3]}}, 2)
    assert nested_deeper_than([[[]]], 2)
    assert not nested_deeper_than(json.loads(_nested(MAX_METADATA_DEPTH)), MAX_METADATA_DEPTH)


def test_nesting_is_measured_without_recursion() -> None:
    value: Any = 1
    for _ in range(100_000):
        value = [value]

    assert nested_deeper_than(value, MAX_REQUEST_JSON_DEPTH)
    assert not nested_deeper_than(value, 100_000)
