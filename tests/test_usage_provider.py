"""The PROVIDER dimension: decided at ingest (gateway field, else the catalog, else
"unknown"), stored on the log, a breakdown and trend-split dimension, a filter on usage,
logs and exports, and a section of reports; scoped by role and tenant like every read."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ingestion.providers import UNKNOWN_PROVIDER, resolve_provider
from models.member import Member, Role
from models.organization import Organization
from models.report import ReportKind
from pricing.catalog import load_default_catalog, parse_catalog
from reports.builder import build_report
from reports.csv import report_rows
from resolvers.periods import TimeRange
from tests.factories import (
    gql,
    make_ingest_token,
    make_key,
    make_member,
    make_org,
    make_record,
    make_token,
    store,
)
from tests.ingest_support import assert_rollups_match_raw_scan, gateway_record, post_bulk

BREAKDOWN = """
query Breakdown($filter: UsageFilter, $by: [UsageDimension!]!) {
  organization { usage(filter: $filter) {
    totals { requests customerCost }
    breakdown(by: $by, limit: 100) { provider model totals { requests customerCost } }
  } }
}
"""
TOTALS = """
query Totals($filter: UsageFilter) {
  organization { usage(filter: $filter) { totals { requests customerCost } } }
}
"""
TREND = """
query Trend($filter: UsageFilter) {
  organization { usage(filter: $filter) {
    trend(granularity: DAY, splitBy: PROVIDER) {
      series { provider buckets { start totals { requests customerCost } } }
    }
  } }
}
"""
LOGS = """
query Logs($filter: UsageFilter) {
  organization { requestLogs(filter: $filter, first: 50) {
    totalCount edges { node { model provider customerCost } }
  } }
}
"""
# Kolkata (+05:30): a local day is not a UTC day, so the DAY reads mix rollup grains.
WINDOW = {
    "from": "2024-05-01T00:00:00+05:30",
    "to": "2024-05-03T00:00:00+05:30",
    "timezone": "Asia/Kolkata",
}
AT = datetime(2024, 5, 1, 20, 10, tzinfo=UTC)  # 2 May 01:40 in Kolkata


def _data(result: Any) -> Any:
    assert result.errors is None, result.errors
    return result.data["organization"]


async def _team(org: Organization) -> tuple[Member, Member, Member]:
    owner = await make_member(org, Role.OWNER)
    admin = await make_member(org, Role.ADMIN)
    alice = await make_member(org, Role.MEMBER)
    return owner, admin, alice


@pytest.fixture
async def seeded(db: object) -> dict[str, Any]:
    """Org A: three OpenAI calls (one Alice's), one Azure gpt-4 call, two Anthropic calls
    and one unknown; org B: OpenAI calls that must never show up in A."""
    org = await make_org(timezone="Asia/Kolkata")
    owner, admin, alice = await _team(org)
    key = await make_key(org, None)
    alice_key = await make_key(org, alice)
    cents = 10_000_000  # nano-USD
    await store(
        make_record(org, key, owner, AT, provider="openai", provider_cost_nanos=3 * cents),
        make_record(org, key, admin, AT, provider="openai", provider_cost_nanos=5 * cents),
        make_record(org, alice_key, alice, AT, provider="openai", provider_cost_nanos=cents),
        make_record(org, key, owner, AT, provider="azure", provider_cost_nanos=7 * cents),
        make_record(
            org,
            key,
            owner,
            AT - timedelta(hours=16),  # 1 May 09:40 in Kolkata
            model="claude-3-5-sonnet",
            provider="anthropic",
            provider_cost_nanos=11 * cents,
        ),
        make_record(
            org,
            alice_key,
            alice,
            AT,
            model="claude-3-5-sonnet",
            provider="anthropic",
            provider_cost_nanos=13 * cents,
        ),
        make_record(org, key, owner, AT, model="house-llm", provider_cost_nanos=2 * cents),
    )
    other = await make_org()
    other_owner = await make_member(other, Role.OWNER)
    other_key = await make_key(other, None)
    await store(
        *(make_record(other, other_key, other_owner, AT, provider="openai") for _ in range(4))
    )
    return {"org": org, "owner": owner, "admin": admin, "alice": alice, "other": other_owner}


async def test_breakdown_by_provider_is_exact(
    client: httpx.AsyncClient, seeded: dict[str, Any]
) -> None:
    for viewer in (seeded["owner"], seeded["admin"]):
        token = await make_token(viewer)
        data = _data(await gql(client, token, BREAKDOWN, filter=WINDOW, by=["PROVIDER"]))
        groups = data["usage"]["breakdown"]
        assert [
            (g["provider"], g["totals"]["requests"], g["totals"]["customerCost"]) for g in groups
        ] == [
            ("anthropic", 2, "0.24"),
            ("openai", 3, "0.09"),
            ("azure", 1, "0.07"),
            ("unknown", 1, "0.02"),
        ]
        assert all(g["model"] is None for g in groups)
        assert data["usage"]["totals"] == {"requests": 7, "customerCost": "0.42"}
    await assert_rollups_match_raw_scan(seeded["org"].id)


async def test_one_model_served_by_two_providers_splits_in_two_groups(
    client: httpx.AsyncClient, seeded: dict[str, Any]
) -> None:
    token = await make_token(seeded["owner"])
    data = _data(await gql(client, token, BREAKDOWN, filter=WINDOW, by=["MODEL", "PROVIDER"]))
    pairs = {
        (g["model"], g["provider"]): g["totals"]["requests"] for g in data["usage"]["breakdown"]
    }
    assert pairs == {
        ("gpt-4", "openai"): 3,
        ("gpt-4", "azure"): 1,
        ("claude-3-5-sonnet", "anthropic"): 2,
        ("house-llm", "unknown"): 1,
    }


async def test_trend_split_by_provider_in_local_days(
    client: httpx.AsyncClient, seeded: dict[str, Any]
) -> None:
    token = await make_token(seeded["owner"])
    data = _data(await gql(client, token, TREND, filter=WINDOW))
    series = {
        s["provider"]: [
            (b["start"], b["totals"]["requests"], b["totals"]["customerCost"]) for b in s["buckets"]
        ]
        for s in data["usage"]["trend"]["series"]
    }
    assert series["anthropic"] == [
        ("2024-05-01T00:00:00.000000+05:30", 1, "0.11"),
        ("2024-05-02T00:00:00.000000+05:30", 1, "0.13"),
    ]
    assert series["openai"] == [
        ("2024-05-01T00:00:00.000000+05:30", 0, "0.00"),
        ("2024-05-02T00:00:00.000000+05:30", 3, "0.09"),
    ]
    assert set(series) == {"anthropic", "openai", "azure", "unknown"}


async def test_providers_filter_narrows_usage_and_logs_case_insensitively(
    client: httpx.AsyncClient, seeded: dict[str, Any]
) -> None:
    token = await make_token(seeded["owner"])
    chosen = {**WINDOW, "providers": ["OpenAI", " Azure "]}
    totals = _data(await gql(client, token, TOTALS, filter=chosen))["usage"]["totals"]
    assert totals == {"requests": 4, "customerCost": "0.16"}
    logs = _data(await gql(client, token, LOGS, filter=chosen))["requestLogs"]
    assert logs["totalCount"] == 4
    assert sorted(e["node"]["provider"] for e in logs["edges"]) == [
        "azure",
        "openai",
        "openai",
        "openai",
    ]
    unknown = {**WINDOW, "providers": ["unknown"]}
    logs = _data(await gql(client, token, LOGS, filter=unknown))["requestLogs"]
    assert [e["node"]["model"] for e in logs["edges"]] == ["house-llm"]
    nothing = {**WINDOW, "providers": []}
    totals = _data(await gql(client, token, TOTALS, filter=nothing))["usage"]["totals"]
    assert totals == {"requests": 0, "customerCost": "0.00"}


async def test_a_member_sees_only_their_own_requests_of_a_provider(
    client: httpx.AsyncClient, seeded: dict[str, Any]
) -> None:
    token = await make_token(seeded["alice"])
    openai = {**WINDOW, "providers": ["openai"]}
    totals = _data(await gql(client, token, TOTALS, filter=openai))["usage"]["totals"]
    assert totals == {"requests": 1, "customerCost": "0.01"}
    logs = _data(await gql(client, token, LOGS, filter=openai))["requestLogs"]
    assert [(e["node"]["provider"], e["node"]["customerCost"]) for e in logs["edges"]] == [
        ("openai", "0.01")
    ]
    anthropic = {**WINDOW, "providers": ["anthropic"]}
    totals = _data(await gql(client, token, TOTALS, filter=anthropic))["usage"]["totals"]
    assert totals == {"requests": 1, "customerCost": "0.13"}
    # Breakdowns (by any dimension) stay Admin/Owner only.
    refused = await gql(client, token, BREAKDOWN, filter=WINDOW, by=["PROVIDER"])
    assert refused.error_codes == ["FORBIDDEN"]


async def test_another_tenant_never_shows_in_provider_groups(
    client: httpx.AsyncClient, seeded: dict[str, Any]
) -> None:
    token = await make_token(seeded["other"])
    data = _data(await gql(client, token, BREAKDOWN, filter=WINDOW, by=["PROVIDER"]))
    assert [(g["provider"], g["totals"]["requests"]) for g in data["usage"]["breakdown"]] == [
        ("openai", 4)
    ]
    anthropic = {**WINDOW, "providers": ["anthropic"]}
    totals = _data(await gql(client, token, TOTALS, filter=anthropic))["usage"]["totals"]
    assert totals == {"requests": 0, "customerCost": "0.00"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("open ai", "'open ai' is not a provider name"),
        ("", "must not be empty"),
        ("-openai", "is not a provider name"),
        ("a" * 51, "must be at most 50 bytes, got 51"),
        ("é" * 30, "must be at most 50 bytes, got 60"),
    ],
)
async def test_a_bad_provider_in_the_filter_is_named(
    client: httpx.AsyncClient, seeded: dict[str, Any], value: str, message: str
) -> None:
    token = await make_token(seeded["owner"])
    result = await gql(client, token, TOTALS, filter={**WINDOW, "providers": ["openai", value]})
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    text = result.errors[0]["message"]
    assert "filter.providers[1]" in text and message in text, text


async def test_exports_carry_the_provider_column_and_filter(
    client: httpx.AsyncClient, seeded: dict[str, Any]
) -> None:
    headers = {"Authorization": f"Bearer {await make_token(seeded['owner'])}"}
    window = {"from": WINDOW["from"], "to": WINDOW["to"], "timezone": WINDOW["timezone"]}
    response = await client.get(
        "/export/usage/breakdown.csv",
        params={**window, "by": "PROVIDER", "providers": "anthropic,unknown"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["provider"], r["requests"], r["customerCost"]) for r in rows] == [
        ("anthropic", "2", "0.24"),
        ("unknown", "1", "0.02"),
    ]
    response = await client.get(
        "/export/request-logs.csv", params={**window, "providers": "azure"}, headers=headers
    )
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["model"], r["provider"], r["customerCost"]) for r in rows] == [
        ("gpt-4", "azure", "0.07")
    ]
    refused = await client.get(
        "/export/request-logs.csv", params={**window, "providers": "a b"}, headers=headers
    )
    assert refused.status_code == 400
    assert "filter.providers[0]" in refused.text


async def test_a_report_lists_the_top_providers(seeded: dict[str, Any]) -> None:
    period = TimeRange(
        datetime(2024, 4, 30, 18, 30, tzinfo=UTC), datetime(2024, 5, 2, 18, 30, tzinfo=UTC)
    )
    data = await build_report(seeded["org"], ReportKind.WEEKLY, period, period.end)
    rows = [r for r in report_rows(data) if r[0] == "provider"]
    assert [(r[1], r[2]) for r in rows] == [
        ("anthropic", None),
        ("openai", None),
        ("azure", None),
        ("unknown", None),
    ]


def test_the_catalog_names_the_provider_of_the_provider_model_first() -> None:
    catalog = load_default_catalog()
    assert resolve_provider(catalog, None, "gpt-4o", "my-alias") == "openai"
    assert resolve_provider(catalog, None, "nobody-knows", "claude-3-5-sonnet") == "anthropic"
    assert resolve_provider(catalog, None, "GPT-4O", "x") == "openai"
    assert resolve_provider(catalog, "azure", "gpt-4o", "gpt-4o") == "azure"
    assert resolve_provider(catalog, None, "house-llm", "house-llm") == UNKNOWN_PROVIDER
    custom = parse_catalog(
        '{"prices": [{"model": "m", "provider": "Acme", "input_per_million_usd": "1", '
        '"output_per_million_usd": "1", "effective_from": "2024-01-01"}]}'
    )
    assert resolve_provider(custom, None, "m", "m") == "acme"


async def test_ingest_stores_the_provider_and_names_a_bad_one(
    client: httpx.AsyncClient, db: object
) -> None:
    org = await make_org()
    key = await make_key(org, None)
    token = await make_ingest_token(org)
    records = [
        gateway_record(key, model="gpt-4o", providerModel="gpt-4o-2024-08-06"),
        gateway_record(key, model="gpt-4o", provider="Azure"),
        gateway_record(key, model="fast", providerModel="claude-3-5-haiku"),
        gateway_record(key, model="house-llm", providerModel=None),
        gateway_record(key, model="gpt-4o", provider="open ai"),
        gateway_record(key, model="gpt-4o", provider=7),
        gateway_record(key, model="gpt-4o", provider="x" * 51),
    ]
    response = await post_bulk(client, token, records)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accepted"] == 4
    assert [(r["line"], r["field"], r["reason"]) for r in body["rejected"]] == [
        (
            5,
            "provider",
            "'open ai' is not a provider name: letters, digits and inner '.', '_' "
            "or '-' only (e.g. \"openai\")",
        ),
        (6, "provider", "must be a string, got a number"),
        (7, "provider", "must be at most 50 bytes, got 51"),
    ]
    owner = await make_member(org, Role.OWNER)
    logs = await gql(client, await make_token(owner), LOGS, filter={"period": "LAST_24_HOURS"})
    stored = sorted(
        (e["node"]["model"], e["node"]["provider"]) for e in _data(logs)["requestLogs"]["edges"]
    )
    assert stored == [
        ("fast", "anthropic"),
        ("gpt-4o", "azure"),
        ("gpt-4o", "openai"),
        ("house-llm", "unknown"),
    ]
    await assert_rollups_match_raw_scan(org.id)


LATENCY = """
query Latency($filter: UsageFilter) {
  organization { usage(filter: $filter) {
    latency { requests method p50Ms groups(by: PROVIDER, limit: 10) { provider requests } }
  } }
}
"""


async def test_latency_of_a_provider_is_exact_over_its_requests(
    client: httpx.AsyncClient, seeded: dict[str, Any]
) -> None:
    token = await make_token(seeded["owner"])
    chosen = {**WINDOW, "providers": ["anthropic", "azure"]}
    latency = _data(await gql(client, token, LATENCY, filter=chosen))["usage"]["latency"]
    assert (latency["requests"], latency["method"], latency["p50Ms"]) == (3, "EXACT", 1200)
    assert sorted((g["provider"], g["requests"]) for g in latency["groups"]) == [
        ("anthropic", 2),
        ("azure", 1),
    ]


INGEST = """
mutation Ingest($records: [RequestLogInput!]!) {
  ingestRequestLogs(records: $records) { accepted rejected { position field reason } }
}
"""


async def test_the_ingest_mutation_takes_the_provider_too(
    client: httpx.AsyncClient, db: object
) -> None:
    org = await make_org()
    key = await make_key(org, None)
    records = [
        {**gateway_record(key, model="gemini-1.5-pro"), "provider": "Vertex_AI"},
        {**gateway_record(key, model="gemini-1.5-pro"), "provider": "vertex ai"},
        gateway_record(key, model="gemini-1.5-pro"),
    ]
    result = await gql(client, await make_ingest_token(org), INGEST, records=records)
    assert result.errors is None, result.errors
    assert result.data == {
        "ingestRequestLogs": {
            "accepted": 2,
            "rejected": [
                {
                    "position": 1,
                    "field": "provider",
                    "reason": "'vertex ai' is not a provider name: letters, digits and inner "
                    "'.', '_' or '-' only (e.g. \"openai\")",
                }
            ],
        }
    }
    owner = await make_member(org, Role.OWNER)
    logs = await gql(client, await make_token(owner), LOGS, filter={"period": "LAST_24_HOURS"})
    assert sorted(e["node"]["provider"] for e in _data(logs)["requestLogs"]["edges"]) == [
        "google",
        "vertex_ai",
    ]
