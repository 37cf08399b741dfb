"""Query.keyAccess: the gateway asks whether a key may spend, and hears why not in the usage
page's terms (401 revoked or blocked key, 402 insufficient balance, 403 model not allowed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from models.api_key import ApiKey, KeyStatus
from models.global_ids import encode_global_id
from models.member import Role
from models.organization import Organization
from resolvers.periods import billing_period, previous_billing_period
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
from tests.query_counter import count_queries

USD = 1_000_000_000
ACCESS = """
query Access($id: ID, $prefix: String, $model: String!, $estimate: Decimal) {
  keyAccess(apiKeyId: $id, apiKeyPrefix: $prefix, model: $model, estimatedCost: $estimate) {
    allowed statusCode denial reason
  }
}
"""
ACCESS_DETAILS = """
query Access($id: ID) {
  keyAccess(apiKeyId: $id, model: "gpt-4") {
    allowed apiKeyId keyStatus monthlyLimit monthlySpend remainingLimit balance
    periodStart periodEnd
  }
}
"""


def key_id(key: ApiKey) -> str:
    return encode_global_id("ApiKey", key.id)


async def ask(
    client: httpx.AsyncClient, org: Organization, key: ApiKey | None = None, **variables: Any
) -> dict[str, Any]:
    """The keyAccess answer for the key (by id unless a prefix is given) on gpt-4."""
    arguments: dict[str, Any] = {"model": "gpt-4"}
    if key is not None:
        arguments["id"] = key_id(key)
    arguments.update(variables)
    result = await gql(client, await make_ingest_token(org), ACCESS, **arguments)
    assert result.errors is None, result.errors
    assert result.data is not None
    answer: dict[str, Any] = result.data["keyAccess"]
    return answer


def refused(status: int, denial: str, reason: str) -> dict[str, Any]:
    return {"allowed": False, "statusCode": status, "denial": denial, "reason": reason}


ALLOWED = {"allowed": True, "statusCode": None, "denial": None, "reason": None}


async def test_an_active_key_with_money_in_the_wallet_may_spend(client: httpx.AsyncClient) -> None:
    org = await make_org(wallet_balance_nanos=20 * USD)
    key = await make_key(org, monthly_limit_nanos=5 * USD)
    await store(make_record(org, key, None, datetime.now(UTC), provider_cost_nanos=USD // 4))
    period = billing_period(datetime.now(UTC), ZoneInfo("UTC"))

    result = await gql(client, await make_ingest_token(org), ACCESS_DETAILS, id=key_id(key))

    assert result.errors is None
    assert result.data == {
        "keyAccess": {
            "allowed": True,
            "apiKeyId": key_id(key),
            "keyStatus": "ACTIVE",
            "monthlyLimit": "5.00",
            "monthlySpend": "0.25",
            "remainingLimit": "4.75",
            "balance": "19.75",
            "periodStart": period.start.isoformat(timespec="microseconds"),
            "periodEnd": period.end.isoformat(timespec="microseconds"),
        }
    }


async def test_the_key_can_be_named_by_its_visible_prefix(client: httpx.AsyncClient) -> None:
    org = await make_org(wallet_balance_nanos=USD)
    await make_key(org, prefix="sk-aize-3f9a")

    assert await ask(client, org, prefix="sk-aize-3f9a") == ALLOWED


async def test_unknown_keys_and_other_tenants_keys_are_401(client: httpx.AsyncClient) -> None:
    org = await make_org(wallet_balance_nanos=USD)
    other = await make_org(wallet_balance_nanos=USD)
    foreign = await make_key(other, prefix="sk-aize-other")
    unknown = refused(401, "UNKNOWN_KEY", "unknown API key")

    assert await ask(client, org, foreign) == unknown
    assert await ask(client, org, prefix="sk-aize-other") == unknown
    assert await ask(client, org, prefix="sk-aize-nope") == unknown
    assert await ask(client, org, id="not-a-global-id") == unknown
    assert await ask(client, org, id=encode_global_id("Member", 1)) == unknown


async def test_revoked_keys_are_401_even_with_an_empty_wallet(client: httpx.AsyncClient) -> None:
    org = await make_org(wallet_balance_nanos=0)
    key = await make_key(org, label="CI", status=KeyStatus.REVOKED, status_reason="leaked")

    assert await ask(client, org, key) == refused(
        401, "KEY_REVOKED", "API key 'CI' was revoked: leaked"
    )


async def test_blocked_keys_are_401(client: httpx.AsyncClient) -> None:
    org = await make_org(wallet_balance_nanos=USD)
    key = await make_key(org, label="CI", status=KeyStatus.BLOCKED, status_reason="audit")

    assert await ask(client, org, key) == refused(
        401, "KEY_BLOCKED", "API key 'CI' is blocked: audit"
    )


async def test_a_key_at_its_monthly_limit_is_401_even_before_it_is_marked_blocked(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(wallet_balance_nanos=10 * USD)
    key = await make_key(org, label="CI", monthly_limit_nanos=USD)
    # Stored without spend control, so nothing has marked the key BLOCKED yet.
    await store(
        *(
            make_record(org, key, None, datetime.now(UTC), provider_cost_nanos=USD // 2)
            for _ in range(2)
        )
    )

    assert await ask(client, org, key) == refused(
        401,
        "LIMIT_REACHED",
        "API key 'CI' is blocked: monthly limit reached ($1.00 of $1.00 spent)",
    )


async def test_a_model_outside_the_keys_allowed_models_is_403(client: httpx.AsyncClient) -> None:
    org = await make_org(wallet_balance_nanos=0)
    key = await make_key(org, label="CI", allowed_models=["gpt-3.5-turbo", "claude-3-haiku"])

    # 403 comes before 402: a refill would not make the model allowed.
    assert await ask(client, org, key) == refused(
        403,
        "MODEL_NOT_ALLOWED",
        "model 'gpt-4' is not allowed for API key 'CI' (allowed: gpt-3.5-turbo, claude-3-haiku)",
    )
    assert (await ask(client, org, key, model="claude-3-haiku"))["statusCode"] == 402


@pytest.mark.parametrize(
    ("balance_nanos", "estimate", "expected"),
    [
        (
            0,
            None,
            refused(402, "INSUFFICIENT_BALANCE", "insufficient balance: the wallet holds $0.00"),
        ),
        (
            -USD // 2,
            None,
            refused(402, "INSUFFICIENT_BALANCE", "insufficient balance: the wallet holds $-0.50"),
        ),
        (
            USD // 10,
            "0.100000001",
            refused(
                402,
                "INSUFFICIENT_BALANCE",
                "insufficient balance: $0.10 available, $0.100000001 estimated",
            ),
        ),
        (USD // 10, "0.1", ALLOWED),
        (1, None, ALLOWED),
    ],
)
async def test_an_empty_wallet_or_one_short_of_the_estimate_is_402(
    client: httpx.AsyncClient, balance_nanos: int, estimate: str | None, expected: dict[str, Any]
) -> None:
    org = await make_org(wallet_balance_nanos=balance_nanos)
    key = await make_key(org)

    assert await ask(client, org, key, estimate=estimate) == expected


async def test_only_ingest_tokens_may_ask(client: httpx.AsyncClient) -> None:
    org = await make_org(wallet_balance_nanos=USD)
    key = await make_key(org)

    for role in Role:
        token = await make_token(await make_member(org, role))
        result = await gql(client, token, ACCESS, id=key_id(key), model="gpt-4")
        assert result.error_codes == ["FORBIDDEN"]
        assert result.data is None


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({}, "give exactly one of apiKeyId and apiKeyPrefix"),
        ({"id": "x", "prefix": "sk"}, "give exactly one of apiKeyId and apiKeyPrefix"),
        ({"prefix": "sk-aize-twin"}, "apiKeyPrefix: several keys share this prefix; use apiKeyId"),
        ({"prefix": "sk-aize-twin", "model": " "}, "model: must not be empty"),
        (
            {"prefix": "sk-aize-twin", "estimate": "0.0000000001"},
            "estimatedCost: 0.0000000001 has more than 9 decimal places",
        ),
        ({"prefix": "sk-aize-twin", "estimate": "-1"}, "estimatedCost: cannot be negative"),
    ],
)
async def test_unusable_questions_are_bad_user_input(
    client: httpx.AsyncClient, variables: dict[str, Any], message: str
) -> None:
    org = await make_org(wallet_balance_nanos=USD)
    await make_key(org, prefix="sk-aize-twin")
    await make_key(org, prefix="sk-aize-twin")

    result = await gql(
        client, await make_ingest_token(org), ACCESS, **{"model": "gpt-4", **variables}
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None and result.errors[0]["message"] == message


async def test_a_limit_block_from_last_period_ends_when_the_new_period_starts(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(wallet_balance_nanos=10 * USD)
    tz = ZoneInfo("UTC")
    last = previous_billing_period(billing_period(datetime.now(UTC), tz), tz)
    key = await make_key(
        org,
        monthly_limit_nanos=USD,
        status=KeyStatus.BLOCKED,
        status_reason="monthly limit of $1.00 reached",
        limit_blocked_period_start=last.start,
    )
    await store(
        make_record(org, key, None, last.start + timedelta(days=1), provider_cost_nanos=USD)
    )

    assert await ask(client, org, key) == ALLOWED

    reactivated = await ApiKey.get(id=key.id)
    assert (reactivated.status, reactivated.status_reason) == (KeyStatus.ACTIVE, None)
    assert reactivated.limit_blocked_period_start is None


async def test_a_manual_block_does_not_end_with_the_period(client: httpx.AsyncClient) -> None:
    org = await make_org(wallet_balance_nanos=10 * USD)
    key = await make_key(org, label="CI", status=KeyStatus.BLOCKED, status_reason="audit")

    assert (await ask(client, org, key))["denial"] == "KEY_BLOCKED"
    assert (await ApiKey.get(id=key.id)).status is KeyStatus.BLOCKED


async def test_the_check_costs_a_fixed_handful_of_statements(client: httpx.AsyncClient) -> None:
    org = await make_org(wallet_balance_nanos=10 * USD)
    key = await make_key(org, monthly_limit_nanos=USD)
    token = await make_ingest_token(org)
    await gql(client, token, ACCESS, id=key_id(key), model="gpt-4")  # token's last-used write

    with count_queries() as queries:
        result = await gql(client, token, ACCESS, id=key_id(key), model="gpt-4")

    assert result.data == {"keyAccess": ALLOWED}
    # the token's organization (lookup), token, key, organization, spend counter
    assert queries.count == 5
