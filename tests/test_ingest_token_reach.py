"""What an ingest token (the gateway's) may ask: ingest, keyAccess, and who it is.

`viewer { role scopes member }` answers (role and member null: a service token carries no
person), so a gateway can check its token. Every path to the organization's data is
FORBIDDEN: `organization`, `viewer.organization`, `node(id:)` for any type, and every
mutation but the ingest one.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from models.global_ids import encode_global_id
from models.member import Role
from tests.factories import gql, make_ingest_token, make_key, make_member, make_org

ORGANIZATION_FIELDS = "name markupPercent fixedFee monthlyBudget tier"


@pytest.fixture
async def gateway(db: object) -> dict[str, str]:
    """A funded organization with a budget, an Owner's key, and an ingest token (`token`)."""
    org = await make_org(
        monthly_budget_nanos=2500 * 10**9, markup_bps=2500, wallet_balance_nanos=100 * 10**9
    )
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    return {
        "token": await make_ingest_token(org),
        "organization": encode_global_id("Organization", org.id),
        "member": encode_global_id("Member", owner.id),
        "key": encode_global_id("ApiKey", key.id),
        "prefix": key.prefix,
    }


async def test_an_ingest_token_reads_its_own_identity(
    client: httpx.AsyncClient, gateway: dict[str, str]
) -> None:
    result = await gql(client, gateway["token"], "{ viewer { role scopes member { id } } }")

    assert result.errors is None
    assert result.data == {"viewer": {"role": None, "scopes": ["INGEST"], "member": None}}


@pytest.mark.parametrize(
    ("query", "path"),
    [
        (f"{{ organization {{ {ORGANIZATION_FIELDS} }} }}", ["organization"]),
        (
            f"{{ viewer {{ organization {{ {ORGANIZATION_FIELDS} }} }} }}",
            ["viewer", "organization"],
        ),
        ("{ viewer { organization { id } } }", ["viewer", "organization"]),
    ],
    ids=["organization", "viewer.organization", "viewer.organization.id"],
)
async def test_an_ingest_token_cannot_read_the_organization(
    client: httpx.AsyncClient, gateway: dict[str, str], query: str, path: list[str]
) -> None:
    result = await gql(client, gateway["token"], query)

    assert result.error_codes == ["FORBIDDEN"]
    assert result.errors is not None and result.errors[0]["path"] == path
    assert "2500" not in str(result.data)


@pytest.mark.parametrize("kind", ["organization", "member", "key"])
async def test_an_ingest_token_cannot_read_nodes(
    client: httpx.AsyncClient, gateway: dict[str, str], kind: str
) -> None:
    result = await gql(
        client,
        gateway["token"],
        "query N($id: ID!) { node(id: $id) { id ... on Organization { monthlyBudget } } }",
        id=gateway[kind],
    )

    assert result.error_codes == ["FORBIDDEN"]
    assert result.data == {"node": None}


@pytest.mark.parametrize(
    "mutation",
    [
        'mutation { depositFunds(amount: "5") { amount } }',
        'mutation { setMonthlyBudget(amount: "1") { monthlyBudget } }',
        'mutation { setLowBalanceThreshold(amount: "1") { balance } }',
    ],
    ids=["depositFunds", "setMonthlyBudget", "setLowBalanceThreshold"],
)
async def test_an_ingest_token_cannot_run_other_mutations(
    client: httpx.AsyncClient, gateway: dict[str, str], mutation: str
) -> None:
    result = await gql(client, gateway["token"], mutation)

    assert result.error_codes == ["FORBIDDEN"]
    assert result.data is None


async def test_an_ingest_token_asks_key_access(
    client: httpx.AsyncClient, gateway: dict[str, str]
) -> None:
    result = await gql(
        client,
        gateway["token"],
        'query K($p: String) { keyAccess(apiKeyPrefix: $p, model: "gpt-4") { allowed } }',
        p=gateway["prefix"],
    )

    assert result.errors is None
    assert result.data == {"keyAccess": {"allowed": True}}


async def test_an_ingest_token_ingests(client: httpx.AsyncClient, gateway: dict[str, str]) -> None:
    record = {
        "requestId": str(uuid.uuid4()),
        "timestamp": datetime.now(UTC).isoformat(),
        "model": "gpt-4",
        "endpoint": "/v1/chat/completions",
        "inputTokens": 10,
        "outputTokens": 5,
        "latencyMs": 120,
        "statusCode": 200,
        "apiKeyPrefix": gateway["prefix"],
    }
    result = await gql(
        client,
        gateway["token"],
        "mutation I($r: [RequestLogInput!]!) { ingestRequestLogs(records: $r) { accepted } }",
        r=[record],
    )

    assert result.errors is None
    assert result.data == {"ingestRequestLogs": {"accepted": 1}}
