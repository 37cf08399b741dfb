"""Thresholds (latency range, minimum customer cost, minimum total tokens) and provider
models, on logs and on usage alike: exact against the stored records, in any timezone,
scoped by role, and refused clearly when unusable.

A usage question with a threshold reads raw rows (no rollup keeps a request's own latency,
cost or tokens); one with `providerModels` only still reads the rollups, and equals a scan
of the raw rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from models.member import Member, Role
from models.priced_record import PricedRecord
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

# Two whole days and ragged edges: whole-day, hour, quarter and raw slices are all in use.
FROM = "2024-03-09T21:07:00+05:45"
TO = "2024-03-12T04:52:30+05:45"
START = datetime.fromisoformat(FROM)
END = datetime.fromisoformat(TO)
KATHMANDU = "Asia/Kathmandu"

USAGE = """
query Usage($filter: UsageFilter) {
  organization {
    usage(filter: $filter) {
      totals { requests totalTokens customerCost averageLatencyMs }
      trend(granularity: DAY) { buckets { start totals { requests customerCost } } }
      breakdown(by: [MODEL]) { model totals { requests customerCost } }
    }
  }
}
"""
LOGS = """
query Logs($filter: UsageFilter) {
  organization {
    requestLogs(filter: $filter, first: 100) { totalCount edges { node { requestId } } }
  }
}
"""


@dataclass
class Shop:
    owner: Member
    alice: Member
    records: list[PricedRecord]


def _spread(index: int) -> dict[str, Any]:
    """Varied values with repeats, so every threshold's boundary is hit exactly."""
    cost = [0, 1_500_000, 2_000_000, 2_000_001, 125_000_000][index % 5]
    return {
        "provider_cost_nanos": cost,
        "markup_nanos": 0,
        "fixed_fee_nanos": 0,
        "customer_cost_nanos": cost,
        "latency_ms": [80, 250, 999, 1_000, 4_000, 12_345][index % 6],
        "input_tokens": [0, 10, 500, 4_000][index % 4],
        "output_tokens": [0, 90, 500][index % 3],
        "model": ["gpt-4", "claude-3"][index % 2],
        "provider_model": ["gpt-4-0613", "gpt-4-1106", "claude-3-opus"][index % 3],
    }


@pytest.fixture
async def shop(db: object) -> Shop:
    org = await make_org(markup_bps=0, fixed_fee_nanos=0, timezone=KATHMANDU)
    owner = await make_member(org, Role.OWNER)
    alice = await make_member(org, Role.MEMBER)
    owner_key, alice_key = await make_key(org, owner), await make_key(org, alice)
    records = []
    # Every 37 minutes from just before the range to just after: 150 requests.
    at = START - timedelta(minutes=40)
    index = 0
    while at < END + timedelta(minutes=40):
        who, key = (alice, alice_key) if index % 3 == 0 else (owner, owner_key)
        records.append(make_record(org, key, who, at, **_spread(index)))
        at += timedelta(minutes=37, seconds=11)
        index += 1
    await store(*records)
    return Shop(owner, alice, records)


def _matching(
    shop: Shop, keep: Callable[[PricedRecord], bool], member: Member | None = None
) -> list[PricedRecord]:
    return [
        r
        for r in shop.records
        if START <= r.timestamp < END and keep(r) and (member is None or r.member_id == member.id)
    ]


def _usd(nanos: int) -> Decimal:
    return Decimal(nanos) / Decimal(1_000_000_000)


def _usage(result: Any) -> dict[str, Any]:
    assert result.errors is None, result.errors
    return dict(result.data["organization"]["usage"])


THRESHOLDS: list[tuple[dict[str, Any], Callable[[PricedRecord], bool]]] = [
    ({"minLatencyMs": 1000}, lambda r: r.latency_ms >= 1000),
    ({"maxLatencyMs": 999}, lambda r: r.latency_ms <= 999),
    ({"minLatencyMs": 250, "maxLatencyMs": 4000}, lambda r: 250 <= r.latency_ms <= 4000),
    ({"minCustomerCost": "0.002"}, lambda r: r.customer_cost_nanos >= 2_000_000),
    ({"minCustomerCost": "0.002000001"}, lambda r: r.customer_cost_nanos >= 2_000_001),
    ({"minTotalTokens": 590}, lambda r: r.total_tokens >= 590),
    (
        {"minTotalTokens": 100, "minLatencyMs": 999, "providerModels": ["gpt-4-0613"]},
        lambda r: (
            r.total_tokens >= 100 and r.latency_ms >= 999 and r.provider_model == "gpt-4-0613"
        ),
    ),
    (
        {"providerModels": ["claude-3-opus", "gpt-4-1106"]},
        lambda r: r.provider_model != "gpt-4-0613",
    ),
]


@pytest.mark.parametrize(("extra", "keep"), THRESHOLDS, ids=lambda v: str(v))
async def test_usage_totals_trend_and_breakdown_equal_the_matching_records(
    client: httpx.AsyncClient,
    shop: Shop,
    extra: dict[str, Any],
    keep: Callable[[PricedRecord], bool],
) -> None:
    token = await make_token(shop.owner)
    expected = _matching(shop, keep)
    assert 0 < len(expected) < len(_matching(shop, lambda r: True))

    usage = _usage(await gql(client, token, USAGE, filter={"from": FROM, "to": TO, **extra}))

    totals = usage["totals"]
    assert totals["requests"] == len(expected)
    assert totals["totalTokens"] == sum(r.total_tokens for r in expected)
    assert Decimal(totals["customerCost"]) == _usd(sum(r.customer_cost_nanos for r in expected))
    latency = Decimal(sum(r.latency_ms for r in expected)) / len(expected)
    assert abs(Decimal(totals["averageLatencyMs"]) - latency) < Decimal("0.000000001")
    # Trend: local (Kathmandu) days, each exact.
    tz = ZoneInfo(KATHMANDU)
    for bucket in usage["trend"]["buckets"]:
        day = datetime.fromisoformat(bucket["start"]).astimezone(tz).date()
        in_day = [r for r in expected if r.timestamp.astimezone(tz).date() == day]
        assert bucket["totals"]["requests"] == len(in_day)
        assert Decimal(bucket["totals"]["customerCost"]) == _usd(
            sum(r.customer_cost_nanos for r in in_day)
        )
    assert sum(b["totals"]["requests"] for b in usage["trend"]["buckets"]) == len(expected)
    by_model = {g["model"]: g["totals"]["requests"] for g in usage["breakdown"]}
    assert by_model == {
        model: n
        for model in ("gpt-4", "claude-3")
        if (n := sum(1 for r in expected if r.model == model))
    }


@pytest.mark.parametrize(("extra", "keep"), THRESHOLDS, ids=lambda v: str(v))
async def test_logs_hold_exactly_the_matching_records(
    client: httpx.AsyncClient,
    shop: Shop,
    extra: dict[str, Any],
    keep: Callable[[PricedRecord], bool],
) -> None:
    token = await make_token(shop.owner)
    expected = _matching(shop, keep)

    result = await gql(client, token, LOGS, filter={"from": FROM, "to": TO, **extra})

    assert result.errors is None, result.errors
    logs = result.data["organization"]["requestLogs"]  # type: ignore[index]
    assert logs["totalCount"] == len(expected)
    assert {e["node"]["requestId"] for e in logs["edges"]} == {str(r.request_id) for r in expected}


async def test_a_member_with_a_threshold_counts_only_their_own_requests(
    client: httpx.AsyncClient, shop: Shop
) -> None:
    token = await make_token(shop.alice)
    expected = _matching(shop, lambda r: r.latency_ms >= 999, shop.alice)
    everyone = _matching(shop, lambda r: r.latency_ms >= 999)
    assert 0 < len(expected) < len(everyone)

    result = await gql(
        client,
        token,
        "query U($filter: UsageFilter) { organization { usage(filter: $filter) "
        "{ totals { requests customerCost } } requestLogs(filter: $filter, first: 100) "
        "{ totalCount } } }",
        filter={"from": FROM, "to": TO, "minLatencyMs": 999},
    )

    assert result.errors is None, result.errors
    org = result.data["organization"]  # type: ignore[index]
    assert org["usage"]["totals"]["requests"] == len(expected)
    assert org["requestLogs"]["totalCount"] == len(expected)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"minLatencyMs": -1}, "filter.minLatencyMs: must be 0 or more, got -1"),
        ({"maxLatencyMs": -5}, "filter.maxLatencyMs: must be 0 or more, got -5"),
        ({"minCustomerCost": "-0.01"}, "filter.minCustomerCost: must be 0 or more, got -0.01"),
        ({"minTotalTokens": -2}, "filter.minTotalTokens: must be 0 or more, got -2"),
        (
            {"minLatencyMs": 500, "maxLatencyMs": 100},
            "filter.maxLatencyMs: 100 is below filter.minLatencyMs 500",
        ),
        (
            {"minCustomerCost": "0.0000000001"},
            "filter.minCustomerCost: 0.0000000001 has more than 9 decimal places",
        ),
    ],
)
@pytest.mark.parametrize("field", ["usage", "requestLogs"])
async def test_an_unusable_threshold_is_refused_naming_it(
    client: httpx.AsyncClient, shop: Shop, extra: dict[str, Any], message: str, field: str
) -> None:
    selection = "{ totals { requests } }" if field == "usage" else "{ totalCount }"
    query = (
        f"query Q($filter: UsageFilter) {{ organization {{ {field}(filter: $filter) "
        f"{selection} }} }}"
    )

    result = await gql(client, await make_token(shop.owner), query, filter=extra)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["message"] == message


async def test_a_zero_threshold_keeps_every_request(client: httpx.AsyncClient, shop: Shop) -> None:
    token = await make_token(shop.owner)
    every = _matching(shop, lambda r: True)

    usage = _usage(
        await gql(
            client,
            token,
            USAGE,
            filter={"from": FROM, "to": TO, "minLatencyMs": 0, "minCustomerCost": "0"},
        )
    )

    assert usage["totals"]["requests"] == len(every)
