"""Every query in docs/readme/logs.md runs as written and answers what the text says."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from models.global_ids import decode_global_id, encode_global_id
from models.member import Role
from resolvers.pagination import decode_cursor
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

DOC = Path(__file__).resolve().parent.parent / "docs" / "readme" / "logs.md"
TEXT = DOC.read_text()


def _named_queries() -> dict[str, str]:
    """The doc's GraphQL blocks by operation name, in the order they appear."""
    queries: dict[str, str] = {}
    for block in re.findall(r"```graphql\n(.*?)```", TEXT, re.S):
        name = re.match(r"query (\w+)", block)
        assert name is not None, f"every example is a named query: {block[:40]!r}"
        queries[name.group(1)] = block
    return queries


QUERY_TEXT = _named_queries()


def test_the_logs_doc_has_every_example() -> None:
    assert list(QUERY_TEXT) == [
        "LogsFirstPage",
        "LogsNextPage",
        "MyLogsOnly",
        "ServerErrorsForModel",
        "KeyLogs",
        "MostExpensiveRequests",
        "SlowestRequestsThisWeek",
        "SlowAndExpensive",
        "FindRequest",
        "SearchErrors",
    ]


def test_the_sample_cursor_and_key_id_in_the_doc_are_well_formed() -> None:
    cursor = re.search(r'\{"after": "([^"]+)"\}', TEXT)
    key = re.search(r'\{"key": "([^"]+)"\}', TEXT)
    assert cursor is not None and key is not None

    assert decode_cursor(cursor.group(1)).id == 42
    assert decode_global_id(key.group(1)) == ("ApiKey", 1)


async def _run(client: httpx.AsyncClient, name: str, **variables: Any) -> dict[str, Any]:
    org = await make_org(markup_bps=2500, fixed_fee_nanos=10_000_000)
    owner = await make_member(org, Role.OWNER)
    member = await make_member(org, Role.MEMBER)
    key = await make_key(org, member)
    now = datetime.now(UTC)
    await store(
        *[make_record(org, key, member, now - timedelta(minutes=n + 1)) for n in range(55)],
        make_record(org, key, owner, now - timedelta(hours=2), status_code=503),
        make_record(org, key, member, datetime(2025, 3, 3, 12, tzinfo=UTC), status_code=429),
    )
    token = await make_token(owner)
    if name == "LogsNextPage":
        first = await gql(client, token, QUERY_TEXT["LogsFirstPage"])
        assert first.data is not None
        variables["after"] = first.data["organization"]["requestLogs"]["pageInfo"]["endCursor"]
    if name == "KeyLogs":
        variables["key"] = encode_global_id("ApiKey", key.id)
    result = await gql(client, token, QUERY_TEXT[name], **variables)
    assert result.errors is None, result.errors
    assert result.data is not None
    connection: dict[str, Any] = result.data["organization"]["requestLogs"]
    return connection


@pytest.mark.parametrize(
    ("name", "rows", "has_next_page"),
    [
        ("LogsFirstPage", 50, True),
        ("LogsNextPage", 6, False),
        ("MyLogsOnly", 1, False),
        ("ServerErrorsForModel", 1, False),
        ("KeyLogs", 1, False),
    ],
)
async def test_documented_query_answers_as_described(
    client: httpx.AsyncClient, name: str, rows: int, has_next_page: bool
) -> None:
    connection = await _run(client, name)

    assert len(connection["edges"]) == rows
    assert connection["pageInfo"]["hasNextPage"] is has_next_page


async def test_the_ordered_examples_answer_largest_first(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    now = datetime.now(UTC)
    await store(
        *[
            make_record(
                org,
                key,
                owner,
                now - timedelta(hours=n + 1),
                provider_cost_nanos=(n * 7919) % 100 * 1_000_000,
                latency_ms=(n * 104729) % 9000 + 100,
            )
            for n in range(60)
        ]
    )
    token = await make_token(owner)

    expensive = await gql(client, token, QUERY_TEXT["MostExpensiveRequests"])
    slowest = await gql(client, token, QUERY_TEXT["SlowestRequestsThisWeek"])

    assert expensive.data is not None and slowest.data is not None
    costs = [
        float(e["node"]["customerCost"])
        for e in expensive.data["organization"]["requestLogs"]["edges"]
    ]
    latencies = [
        e["node"]["latencyMs"] for e in slowest.data["organization"]["requestLogs"]["edges"]
    ]
    assert len(costs) == 50 and costs == sorted(costs, reverse=True)
    assert len(latencies) == 50 and latencies == sorted(latencies, reverse=True)


async def test_the_search_example_finds_the_rate_limited_requests(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    now = datetime.now(UTC)
    await store(
        make_record(
            org,
            key,
            owner,
            now - timedelta(minutes=1),
            status_code=429,
            error_message="Rate limit exceeded: too many requests per minute",
        ),
        make_record(org, key, owner, now - timedelta(minutes=2), status_code=500),
        make_record(org, key, owner, now - timedelta(minutes=3)),
    )

    result = await gql(client, await make_token(owner), QUERY_TEXT["SearchErrors"])

    assert result.data is not None, result.errors
    logs = result.data["organization"]["requestLogs"]
    assert logs["totalCount"] == 1
    assert logs["edges"][0]["node"]["statusCode"] == 429
