"""UsageReport.latency: average and exact nearest-rank p50/p95/p99, overall and per group."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from models.member import Role
from resolvers.latency import nearest_rank
from resolvers.usage_measures import ratio
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

LATENCY = """
query($filter: UsageFilter) {
  organization { usage(filter: $filter) {
    latency { requests averageMs p50Ms p95Ms p99Ms }
  } }
}
"""
GROUPS = """
query($filter: UsageFilter, $by: UsageDimension!) {
  organization { usage(filter: $filter) {
    latency { groups(by: $by) { model statusCode requests averageMs p50Ms p95Ms p99Ms } }
  } }
}
"""
WINDOW = {"from": "2024-05-01T00:00:00Z", "to": "2024-05-02T00:00:00Z"}
AT = datetime(2024, 5, 1, 10, tzinfo=UTC)


def expected_percentile(values: list[int], p: int) -> int:
    """Nearest rank, written independently of the code under test."""
    ordered = sorted(values)
    return ordered[math.ceil(p * len(ordered) / 100) - 1]


@pytest.mark.parametrize(
    ("p", "count", "rank"),
    [(50, 1, 1), (50, 2, 1), (50, 3, 2), (95, 20, 19), (95, 21, 20), (99, 100, 99), (99, 101, 100)],
)
def test_nearest_rank_is_ceil_of_p_times_n_over_100(p: int, count: int, rank: int) -> None:
    assert nearest_rank(p, count) == rank


async def test_percentiles_are_observed_values_at_the_nearest_rank(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    latencies = random.Random(7).choices(range(50, 20_000), k=137)
    await store(
        *(
            make_record(org, key, owner, AT + timedelta(seconds=i), latency_ms=ms)
            for i, ms in enumerate(latencies)
        )
    )

    result = await gql(client, await make_token(owner), LATENCY, filter=WINDOW)

    assert result.errors is None, result.errors
    latency = result.data["organization"]["usage"]["latency"]  # type: ignore[index]
    assert latency["requests"] == 137
    assert latency["p50Ms"] == expected_percentile(latencies, 50)
    assert latency["p95Ms"] == expected_percentile(latencies, 95)
    assert latency["p99Ms"] == expected_percentile(latencies, 99)
    total = sum(latencies)
    assert latency["averageMs"] == _nine_decimals(total, 137)


def _nine_decimals(total: int, count: int) -> str:
    value = ratio(total, count)
    assert value is not None
    return format(value, "f")


async def test_small_samples_use_the_lower_middle_and_the_maximum(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(
        make_record(org, key, owner, AT, latency_ms=300),
        make_record(org, key, owner, AT, latency_ms=100),
        make_record(org, key, owner, AT, latency_ms=200),
        make_record(org, key, owner, AT, latency_ms=400, status_code=500),
    )

    result = await gql(client, await make_token(owner), LATENCY, filter=WINDOW)

    assert result.errors is None, result.errors
    assert result.data["organization"]["usage"]["latency"] == {  # type: ignore[index]
        "requests": 4,
        "averageMs": "250",
        "p50Ms": 200,
        "p95Ms": 400,
        "p99Ms": 400,
    }


async def test_no_requests_means_null_latency(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)

    result = await gql(client, await make_token(owner), LATENCY, filter=WINDOW)

    assert result.data["organization"]["usage"]["latency"] == {  # type: ignore[index]
        "requests": 0,
        "averageMs": None,
        "p50Ms": None,
        "p95Ms": None,
        "p99Ms": None,
    }


async def test_latency_per_model_lists_the_slowest_p95_first(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    fast = [500, 700, 900, 1_100]
    slow = [2_000, 3_000, 9_000]
    await store(
        *(make_record(org, key, owner, AT, model="gpt-3.5-turbo", latency_ms=ms) for ms in fast),
        *(make_record(org, key, owner, AT, model="gpt-4", latency_ms=ms) for ms in slow),
    )

    result = await gql(client, await make_token(owner), GROUPS, filter=WINDOW, by="MODEL")

    assert result.errors is None, result.errors
    groups = result.data["organization"]["usage"]["latency"]["groups"]  # type: ignore[index]
    assert groups == [
        {
            "model": "gpt-4",
            "statusCode": None,
            "requests": 3,
            "averageMs": "4666.666666667",
            "p50Ms": 3_000,
            "p95Ms": 9_000,
            "p99Ms": 9_000,
        },
        {
            "model": "gpt-3.5-turbo",
            "statusCode": None,
            "requests": 4,
            "averageMs": "800",
            "p50Ms": 700,
            "p95Ms": 1_100,
            "p99Ms": 1_100,
        },
    ]


async def test_member_latency_is_their_own_and_groups_are_forbidden(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    member = await make_member(org, Role.MEMBER)
    colleague = await make_member(org, Role.MEMBER)
    key = await make_key(org, None)
    await store(
        make_record(org, key, member, AT, latency_ms=100),
        make_record(org, key, colleague, AT, latency_ms=5_000),
    )
    token = await make_token(member)

    own = await gql(client, token, LATENCY, filter=WINDOW)
    groups = await gql(client, token, GROUPS, filter=WINDOW, by="MODEL")

    assert own.data["organization"]["usage"]["latency"]["p99Ms"] == 100  # type: ignore[index]
    assert groups.error_codes == ["FORBIDDEN"]


async def test_latency_respects_the_filter(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(
        make_record(org, key, owner, AT, latency_ms=100),
        make_record(org, key, owner, AT, latency_ms=7_000, status_code=503),
        make_record(org, key, owner, AT - timedelta(days=2), latency_ms=9_999),
    )

    result = await gql(
        client,
        await make_token(owner),
        LATENCY,
        filter={**WINDOW, "statusClasses": ["SUCCESS"]},
    )

    assert result.data["organization"]["usage"]["latency"]["p99Ms"] == 100  # type: ignore[index]
