"""Partial answers: a field a role may not see is null with its FORBIDDEN error, and the rest
of the answer stands (team-only fields are nullable, as in GitHub's API).

The README's usage-page query, sent with a Member token, gives the Member's own totals,
trend and latency, with the error only on `breakdown`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from models.member import Role
from tests.docs_examples import ROOT, examples
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

USAGE_PAGE = next(e.text for e in examples(ROOT / "README.md") if "query UsagePage" in e.text)
BREAKDOWN_PATH = ["organization", "usage", "breakdown"]


@pytest.fixture
async def team(db: object) -> dict[str, Any]:
    """An organization at the seed's pricing (a $0.10 request costs $0.135): the Member made
    2 requests (1000 ms and 2000 ms), a colleague 3 (3000 ms each), in the last day."""
    org = await make_org(markup_bps=2500, fixed_fee_nanos=10_000_000)
    owner = await make_member(org, Role.OWNER)
    member = await make_member(org, Role.MEMBER, email="member@example.com")
    colleague = await make_member(org, Role.MEMBER, email="colleague@example.com")
    member_key = await make_key(org, member, prefix="sk-member")
    colleague_key = await make_key(org, colleague, prefix="sk-colleague")
    now = datetime.now(UTC)
    await store(
        make_record(org, member_key, member, now - timedelta(hours=2), latency_ms=1000),
        make_record(org, member_key, member, now - timedelta(hours=3), latency_ms=2000),
        *(
            make_record(org, colleague_key, colleague, now - timedelta(hours=h), latency_ms=3000)
            for h in (2, 4, 6)
        ),
    )
    return {"owner": await make_token(owner), "member": await make_token(member)}


async def test_the_usage_page_answers_a_member_with_only_the_breakdown_refused(
    client: httpx.AsyncClient, team: dict[str, Any]
) -> None:
    result = await gql(client, team["member"], USAGE_PAGE)

    assert result.status == 200
    assert result.errors is not None
    assert [(e["path"], e["extensions"]["code"]) for e in result.errors] == [
        (BREAKDOWN_PATH, "FORBIDDEN")
    ]
    assert result.data is not None
    usage = result.data["organization"]["usage"]
    assert usage["breakdown"] is None
    totals = usage["totals"]
    assert (totals["requests"], totals["successful"], totals["failed"]) == (2, 2, 0)
    assert (totals["providerCost"], totals["customerCost"]) == ("0.20", "0.27")
    assert totals["averageCostPerRequest"] == "0.135"
    columns = usage["trend"]["columns"]
    assert sum(columns["requests"]) == 2
    assert sum(Decimal(cost) for cost in columns["customerCost"]) == Decimal("0.27")
    assert usage["latency"]["averageMs"] == "1500"
    assert result.data["organization"]["currentSpend"] is not None


async def test_the_usage_page_answers_an_owner_in_full(
    client: httpx.AsyncClient, team: dict[str, Any]
) -> None:
    result = await gql(client, team["owner"], USAGE_PAGE)

    assert result.errors is None
    assert result.data is not None
    usage = result.data["organization"]["usage"]
    assert usage["totals"]["requests"] == 5
    assert usage["totals"]["customerCost"] == "0.675"
    assert usage["breakdown"] == [
        {
            "model": "gpt-4",
            "totals": {
                "requests": 5,
                "totalTokens": 750,
                "customerCost": "0.675",
                "errorRate": usage["breakdown"][0]["totals"]["errorRate"],
            },
        }
    ]
    assert Decimal(usage["breakdown"][0]["totals"]["errorRate"]) == 0


@pytest.mark.parametrize(
    ("field", "selection"),
    [
        ("wallet", "wallet { balance }"),
        ("alertRules", "alertRules { id }"),
        ("reportSchedules", "reportSchedules { id }"),
        ("limitRequests", "limitRequests { edges { node { id } } }"),
        ("reports", "reports { edges { node { id } } }"),
        ("auditTrail", "auditTrail { edges { node { id } } }"),
    ],
)
async def test_a_team_only_organization_field_is_null_for_a_member_beside_their_own_data(
    client: httpx.AsyncClient, team: dict[str, Any], field: str, selection: str
) -> None:
    query = f"{{ organization {{ name {selection} usage {{ totals {{ requests }} }} }} }}"
    result = await gql(client, team["member"], query)

    assert result.data is not None
    organization = result.data["organization"]
    assert organization[field] is None
    assert organization["usage"] == {"totals": {"requests": 2}}
    assert result.errors is not None
    assert [(e["path"], e["extensions"]["code"]) for e in result.errors] == [
        (["organization", field], "FORBIDDEN")
    ]


async def test_a_split_trend_and_latency_groups_are_null_for_a_member_beside_their_totals(
    client: httpx.AsyncClient, team: dict[str, Any]
) -> None:
    query = """{ organization { usage {
        totals { requests }
        trend(granularity: DAY, splitBy: MEMBER) { columns { requests } }
        latency { averageMs groups(by: MODEL) { p95Ms } }
    } } }"""
    result = await gql(client, team["member"], query)

    assert result.data is not None
    usage = result.data["organization"]["usage"]
    assert usage["totals"] == {"requests": 2}
    assert usage["trend"] is None
    assert usage["latency"] == {"averageMs": "1500", "groups": None}
    assert result.errors is not None
    assert sorted((e["path"], e["extensions"]["code"]) for e in result.errors) == [
        (["organization", "usage", "latency", "groups"], "FORBIDDEN"),
        (["organization", "usage", "trend"], "FORBIDDEN"),
    ]
