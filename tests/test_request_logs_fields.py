"""Organization.requestLogs nodes: every field of the log record, exact costs, bodies."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from models.global_ids import encode_global_id
from models.member import Role
from models.request_log import RequestLog
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

EVERY_FIELD = """
{
  organization {
    requestLogs(first: 1) {
      edges {
        node {
          id requestId timestamp
          apiKey { label } member { name }
          model providerModel endpoint
          inputTokens outputTokens totalTokens
          providerCost markup fixedFee customerCost priced
          latencyMs statusCode errorMessage metadata
          requestBody responseBody
        }
      }
    }
  }
}
"""

BODIES = "{ organization { requestLogs { edges { node { requestBody responseBody } } } } }"


async def test_a_log_shows_every_field_of_the_record_with_the_seed_cost_example(
    client: httpx.AsyncClient,
) -> None:
    # The seed's example: provider $0.10, markup 25%, fee $0.01 -> $0.135.
    org = await make_org(markup_bps=2500, fixed_fee_nanos=10_000_000)
    owner = await make_member(org, Role.OWNER, name="Dana Owner")
    key = await make_key(org, owner, label="Production backend")
    at = datetime.now(UTC).replace(microsecond=250000) - timedelta(minutes=3)
    request_id = uuid.uuid4()
    await store(
        make_record(
            org,
            key,
            owner,
            at,
            request_id=request_id,
            provider_cost_nanos=100_000_000,
            status_code=402,
            error_message="Insufficient balance",
            input_tokens=1200,
            output_tokens=345,
            latency_ms=2345,
            metadata={"temperature": 0.2, "max_tokens": 512},
        )
    )
    log = await RequestLog.get(request_id=request_id)

    result = await gql(client, await make_token(owner), EVERY_FIELD)

    assert result.errors is None
    assert result.data == {
        "organization": {
            "requestLogs": {
                "edges": [
                    {
                        "node": {
                            "id": encode_global_id("RequestLog", log.id),
                            "requestId": str(request_id),
                            "timestamp": at.isoformat(),
                            "apiKey": {"label": "Production backend"},
                            "member": {"name": "Dana Owner"},
                            "model": "gpt-4",
                            "providerModel": "gpt-4-0613",
                            "endpoint": "/v1/chat/completions",
                            "inputTokens": 1200,
                            "outputTokens": 345,
                            "totalTokens": 1545,
                            "providerCost": "0.10",
                            "markup": "0.025",
                            "fixedFee": "0.01",
                            "customerCost": "0.135",
                            "priced": True,
                            "latencyMs": 2345,
                            "statusCode": 402,
                            "errorMessage": "Insufficient balance",
                            "metadata": {"temperature": 0.2, "max_tokens": 512},
                            "requestBody": None,
                            "responseBody": None,
                        }
                    }
                ]
            }
        }
    }


async def test_a_team_key_log_names_the_member_who_made_the_request(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    caller = await make_member(org, Role.MEMBER, name="Sam Caller")
    team_key = await make_key(org, None, label="Shared team key")
    await store(make_record(org, team_key, caller, datetime.now(UTC) - timedelta(minutes=1)))

    result = await gql(
        client,
        await make_token(owner),
        "{ organization { requestLogs { edges { node {"
        " apiKey { label isTeamKey } member { name } } } } } }",
    )

    assert result.errors is None
    assert result.data is not None
    assert result.data["organization"]["requestLogs"]["edges"] == [
        {
            "node": {
                "apiKey": {"label": "Shared team key", "isTeamKey": True},
                "member": {"name": "Sam Caller"},
            }
        }
    ]


@pytest.mark.parametrize(
    ("log_bodies", "expected"),
    [
        (True, {"requestBody": '{"prompt": "hi"}', "responseBody": '{"text": "hello"}'}),
        (False, {"requestBody": None, "responseBody": None}),
    ],
)
async def test_bodies_are_shown_only_when_the_organization_keeps_them(
    client: httpx.AsyncClient, log_bodies: bool, expected: dict[str, str | None]
) -> None:
    org = await make_org(log_bodies=log_bodies)
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(
        make_record(
            org,
            key,
            owner,
            datetime.now(UTC) - timedelta(minutes=1),
            request_body='{"prompt": "hi"}',
            response_body='{"text": "hello"}',
        )
    )

    result = await gql(client, await make_token(owner), BODIES)

    assert result.errors is None
    assert result.data == {"organization": {"requestLogs": {"edges": [{"node": expected}]}}}


async def test_a_log_priced_without_a_catalog_price_says_so_and_costs_zero(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(
        make_record(
            org,
            key,
            owner,
            datetime.now(UTC) - timedelta(minutes=1),
            provider_cost_nanos=0,
            priced=False,
        )
    )

    result = await gql(
        client,
        await make_token(owner),
        "{ organization { requestLogs { edges { node { priced providerCost customerCost } } } } }",
    )

    assert result.errors is None
    assert result.data is not None
    assert result.data["organization"]["requestLogs"]["edges"] == [
        {"node": {"priced": False, "providerCost": "0.00", "customerCost": "0.00"}}
    ]
