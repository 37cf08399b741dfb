"""Latency percentiles from the histograms: the bucketing (the same in Python and SQL), the
stated error bound, and when the exact method is kept."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import httpx
import pytest

from models.database import Params, current_dialect, fetch_all
from models.latency_rollup import (
    MAX_RELATIVE_ERROR,
    bucket_bounds_ms,
    bucket_value_ms,
    latency_bucket,
    latency_bucket_sql,
)
from models.member import Role
from resolvers import latency
from settings import Settings
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

EDGES = [0, 1, 63, 64, 127, 128, 129, 255, 256, 257, 1000, 4095, 4096, 65_535, 2**30, 2**31 - 1]
LATENCY = """
query($filter: UsageFilter) {
  organization { usage(filter: $filter) {
    latency {
      requests averageMs p50Ms p95Ms p99Ms method maxRelativeError
      groups(by: MODEL) { model requests p50Ms p95Ms p99Ms method }
    }
  } }
}
"""
# From mid-day to mid-day: whole days, whole hours and raw edges are all read.
WINDOW = {"from": "2024-05-01T09:17:00Z", "to": "2024-05-04T15:41:30Z"}
START = datetime(2024, 5, 1, 9, 17, tzinfo=UTC)


def nearest_rank(values: list[int], p: int) -> int:
    ordered = sorted(values)
    return ordered[math.ceil(p * len(ordered) / 100) - 1]


def within_bound(reported: int, exact: int) -> bool:
    return abs(reported - exact) * MAX_RELATIVE_ERROR.denominator <= exact


def test_every_latency_falls_in_its_bucket_and_is_reported_within_one_128th() -> None:
    previous = -1
    for value in [*range(0, 1 << 17), *(2**k + d for k in range(17, 31) for d in (-1, 0, 1))]:
        if value >= 2**31:
            continue
        bucket = latency_bucket(value)
        low, high = bucket_bounds_ms(bucket)
        assert low <= value <= high
        assert within_bound(bucket_value_ms(bucket), value)
        if value < 1 << 17:
            assert bucket in (previous, previous + 1)
            previous = bucket
    assert latency_bucket(2**31 - 1) == 1663
    assert Fraction(1, 128) == MAX_RELATIVE_ERROR


def test_latencies_under_128_ms_are_their_own_bucket() -> None:
    assert [bucket_value_ms(latency_bucket(v)) for v in range(128)] == list(range(128))


async def test_sql_buckets_latencies_exactly_as_python_does(db: Settings) -> None:
    params = Params(current_dialect())
    values = " UNION ALL ".join(
        f"SELECT CAST({params.add(v)} AS INTEGER) AS latency_ms" for v in EDGES
    )
    rows = await fetch_all(
        f"SELECT latency_ms, {latency_bucket_sql('latency_ms')} AS bucket FROM ({values}) AS v",
        params,
    )

    assert {int(r["latency_ms"]): int(r["bucket"]) for r in rows} == {
        v: latency_bucket(v) for v in EDGES
    }


async def _logs(count: int) -> tuple[str, str, list[tuple[str, int]]]:
    """An owner's and a member's tokens, and the (model, latency) of every log in WINDOW."""
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    member = await make_member(org, Role.MEMBER)
    keys = [await make_key(org, owner), await make_key(org, member)]
    rng = random.Random(5)
    logs = []
    records = []
    for i in range(count):
        model = rng.choice(["gpt-4", "gpt-4o"])
        ms = int(rng.lognormvariate(7, 1.2))
        key = keys[i % 2]
        at = START + timedelta(
            seconds=rng.randrange(int(timedelta(days=3, hours=6).total_seconds()))
        )
        records.append(
            make_record(
                org, key, owner if key is keys[0] else member, at, model=model, latency_ms=ms
            )
        )
        logs.append((model, ms))
    await store(*records)
    return await make_token(owner), await make_token(member), logs


async def test_large_slices_are_answered_from_the_histograms_within_the_bound(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, _, logs = await _logs(400)
    monkeypatch.setattr(latency, "EXACT_SCAN_LIMIT", 0)

    result = await gql(client, owner, LATENCY, filter=WINDOW)

    assert result.errors is None, result.errors
    report = result.data["organization"]["usage"]["latency"]  # type: ignore[index]
    values = [ms for _, ms in logs]
    assert report["method"] == "APPROXIMATE"
    assert report["maxRelativeError"] == "0.0078125"
    assert report["requests"] == 400
    assert Decimal(report["averageMs"]) == Decimal(sum(values)) / 400
    for p in (50, 95, 99):
        assert within_bound(report[f"p{p}Ms"], nearest_rank(values, p)), p
    for group in report["groups"]:
        of_model = [ms for model, ms in logs if model == group["model"]]
        assert group["method"] == "APPROXIMATE"
        assert group["requests"] == len(of_model)
        for p in (50, 95, 99):
            assert within_bound(group[f"p{p}Ms"], nearest_rank(of_model, p)), (group, p)


async def test_a_model_filter_is_answered_from_the_model_histograms(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, _, logs = await _logs(300)
    monkeypatch.setattr(latency, "EXACT_SCAN_LIMIT", 0)

    result = await gql(client, owner, LATENCY, filter={**WINDOW, "models": ["gpt-4o"]})

    report = result.data["organization"]["usage"]["latency"]  # type: ignore[index]
    values = [ms for model, ms in logs if model == "gpt-4o"]
    assert report["method"] == "APPROXIMATE"
    assert report["requests"] == len(values)
    for p in (50, 95, 99):
        assert within_bound(report[f"p{p}Ms"], nearest_rank(values, p)), p


async def test_small_slices_keep_exact_percentiles(client: httpx.AsyncClient) -> None:
    owner, _, logs = await _logs(120)

    result = await gql(client, owner, LATENCY, filter=WINDOW)

    report = result.data["organization"]["usage"]["latency"]  # type: ignore[index]
    values = [ms for _, ms in logs]
    assert report["method"] == "EXACT"
    assert report["maxRelativeError"] == "0"
    assert [report[f"p{p}Ms"] for p in (50, 95, 99)] == [
        nearest_rank(values, p) for p in (50, 95, 99)
    ]


async def test_a_members_own_latency_is_always_exact(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, member, logs = await _logs(200)
    monkeypatch.setattr(latency, "EXACT_SCAN_LIMIT", 0)

    result = await gql(
        client,
        member,
        "query($filter: UsageFilter) { organization { usage(filter: $filter) { "
        "latency { requests p50Ms method } } } }",
        filter=WINDOW,
    )

    report = result.data["organization"]["usage"]["latency"]  # type: ignore[index]
    own = [ms for i, (_, ms) in enumerate(logs) if i % 2 == 1]
    assert report == {"requests": 100, "p50Ms": nearest_rank(own, 50), "method": "EXACT"}
