"""GET /export/usage/trend|breakdown: the API's trend buckets and breakdown groups as rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest

from exports.usage import SUMMARY_COLUMNS
from models.global_ids import encode_global_id
from models.member import Member, Role
from models.organization import Organization
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

SUMMARY = (
    "requests successful failed clientErrors serverErrors successRate errorRate inputTokens "
    "outputTokens totalTokens providerCost markup fixedFees customerCost averageCostPerRequest "
    "averageLatencyMs unpricedRequests"
)
TREND = f"""
query Trend($filter: UsageFilter, $split: UsageDimension) {{
  organization {{ usage(filter: $filter) {{
    trend(granularity: DAY, splitBy: $split) {{
      buckets {{ start end totals {{ {SUMMARY} }} }}
      series {{ model buckets {{ start totals {{ requests customerCost }} }} }}
    }}
  }} }}
}}
"""
BREAKDOWN = f"""
query Breakdown($filter: UsageFilter) {{
  organization {{ usage(filter: $filter) {{
    totals {{ requests customerCost totalTokens }}
    breakdown(by: [API_KEY, MEMBER], limit: 100) {{
      apiKey {{ id label }} member {{ id name }} hasMember totals {{ {SUMMARY} }}
    }}
  }} }}
}}
"""
# Berlin: the range crosses the spring-forward night of 31 March 2024.
FROM = "2024-03-29T00:00:00.000000+01:00"
TO = "2024-04-02T00:00:00.000000+02:00"


@pytest.fixture
async def seeded(db: object) -> tuple[Organization, Member]:
    org = await make_org(timezone="Europe/Berlin", markup_bps=2000, fixed_fee_nanos=1_000_000)
    owner = await make_member(org, Role.OWNER, name="Owen")
    alice = await make_member(org, Role.MEMBER, name="-Alice")
    alice_key = await make_key(org, alice, label="=alice")
    team_key = await make_key(org, None, label="Team")
    start = datetime(2024, 3, 29, tzinfo=UTC)
    records = []
    for hour in range(0, 90, 5):
        at = start + timedelta(hours=hour, minutes=7)
        records.append(make_record(org, alice_key, alice, at, model="gpt-4"))
        records.append(
            make_record(
                org, team_key, None, at, model="gpt-4o", status_code=500 if hour % 2 else 200
            )
        )
    await store(*records)
    return org, owner


async def _get(client: httpx.AsyncClient, token: str, path: str, **params: Any) -> httpx.Response:
    return await client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})


def _rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.content.decode(), newline="")))


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


async def test_trend_rows_equal_the_apis_buckets_figure_for_figure(
    client: httpx.AsyncClient, seeded: tuple[Organization, Member]
) -> None:
    _, owner = seeded
    token = await make_token(owner)
    api = await gql(client, token, TREND, filter={"from": FROM, "to": TO})
    buckets = api.data["organization"]["usage"]["trend"]["buckets"]  # type: ignore[index]

    rows = _rows(await _get(client, token, "/export/usage/trend.csv", **{"from": FROM, "to": TO}))

    times = ["bucketStart", "bucketEnd", "bucketStartUtc", "bucketEndUtc"]
    assert list(rows[0]) == [*times, *(c.name for c in SUMMARY_COLUMNS)]
    assert len(rows) == len(buckets) == 4
    # The wall clock in the filter's zone without an offset, the instant in UTC beside it:
    # the day of the DST change starts at +01:00 and ends at +02:00.
    assert [r["bucketStart"] for r in rows] == [b["start"][:-6] for b in buckets]
    assert rows[2]["bucketStart"] == "2024-03-31T00:00:00.000000"
    assert rows[2]["bucketEnd"] == "2024-04-01T00:00:00.000000"
    assert rows[2]["bucketStartUtc"] == "2024-03-30T23:00:00.000000+00:00"
    assert rows[2]["bucketEndUtc"] == "2024-03-31T22:00:00.000000+00:00"
    for row, bucket in zip(rows, buckets, strict=True):
        assert row["bucketEnd"] == bucket["end"][:-6]
        assert datetime.fromisoformat(row["bucketStartUtc"]) == datetime.fromisoformat(
            bucket["start"]
        )
        for name in SUMMARY.split():
            assert row[name] == _cell(bucket["totals"][name]), name


async def test_a_split_trend_has_one_row_per_series_and_bucket(
    client: httpx.AsyncClient, seeded: tuple[Organization, Member]
) -> None:
    _, owner = seeded
    token = await make_token(owner)
    api = await gql(client, token, TREND, filter={"from": FROM, "to": TO}, split="MODEL")
    series = api.data["organization"]["usage"]["trend"]["series"]  # type: ignore[index]

    response = await _get(
        client, token, "/export/usage/trend.jsonl", splitBy="MODEL", **{"from": FROM, "to": TO}
    )

    objects = [orjson.loads(line) for line in response.content.splitlines()]
    expected = [
        (s["model"], b["start"][:-6], b["totals"]["requests"], b["totals"]["customerCost"])
        for s in series
        for b in s["buckets"]
    ]
    assert [
        (o["model"], o["bucketStart"], o["requests"], o["customerCost"]) for o in objects
    ] == expected
    assert len(objects) == 8


async def test_breakdown_rows_equal_the_apis_groups_and_sum_to_its_totals(
    client: httpx.AsyncClient, seeded: tuple[Organization, Member]
) -> None:
    _, owner = seeded
    token = await make_token(owner)
    api = await gql(client, token, BREAKDOWN, filter={"from": FROM, "to": TO})
    usage = api.data["organization"]["usage"]  # type: ignore[index]

    rows = _rows(
        await _get(
            client,
            token,
            "/export/usage/breakdown.csv",
            by="API_KEY,MEMBER",
            **{"from": FROM, "to": TO},
        )
    )

    assert list(rows[0])[:4] == ["apiKeyId", "apiKeyLabel", "memberId", "memberName"]
    assert len(rows) == len(usage["breakdown"]) == 2
    for row, group in zip(rows, usage["breakdown"], strict=True):
        assert row["apiKeyId"] == group["apiKey"]["id"]
        assert row["memberId"] == (group["member"]["id"] if group["hasMember"] else "")
        for name in SUMMARY.split():
            assert row[name] == _cell(group["totals"][name]), name
    assert {r["apiKeyLabel"] for r in rows} == {"'=alice", "Team"}
    assert {r["memberName"] for r in rows} == {"'-Alice", ""}
    totals = usage["totals"]
    assert sum(int(r["requests"]) for r in rows) == int(totals["requests"])
    assert sum(Decimal(r["customerCost"]) for r in rows) == Decimal(totals["customerCost"])
    assert sum(int(r["totalTokens"]) for r in rows) == int(totals["totalTokens"])


async def test_breakdown_order_and_limit_follow_the_api(
    client: httpx.AsyncClient, seeded: tuple[Organization, Member]
) -> None:
    _, owner = seeded
    token = await make_token(owner)

    rows = _rows(
        await _get(
            client,
            token,
            "/export/usage/breakdown.csv",
            by="MODEL",
            orderBy="ERROR_RATE",
            direction="DESC",
            limit="1",
            **{"from": FROM, "to": TO},
        )
    )

    assert [r["model"] for r in rows] == ["gpt-4o"]


async def test_breakdown_needs_at_least_one_dimension(
    client: httpx.AsyncClient, seeded: tuple[Organization, Member]
) -> None:
    _, owner = seeded

    response = await _get(client, await make_token(owner), "/export/usage/breakdown.csv")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "by: give at least one dimension"


async def test_a_member_cannot_export_usage(
    client: httpx.AsyncClient, seeded: tuple[Organization, Member]
) -> None:
    org, _ = seeded
    member = await make_member(org, Role.MEMBER)
    token = await make_token(member)

    trend = await _get(client, token, "/export/usage/trend.csv")
    breakdown = await _get(client, token, "/export/usage/breakdown.csv", by="MODEL")

    assert (trend.status_code, breakdown.status_code) == (403, 403)


async def test_usage_filters_apply_to_the_export(
    client: httpx.AsyncClient, seeded: tuple[Organization, Member]
) -> None:
    org, owner = seeded
    token = await make_token(owner)
    team_key = next(k for k in await org.api_keys.all() if k.label == "Team")

    rows = _rows(
        await _get(
            client,
            token,
            "/export/usage/breakdown.csv",
            by="MODEL",
            statusClasses="SERVER_ERROR",
            apiKeyIds=encode_global_id("ApiKey", team_key.id),
            **{"from": FROM, "to": TO},
        )
    )

    assert [(r["model"], r["requests"], r["serverErrors"]) for r in rows] == [("gpt-4o", "9", "9")]
