"""Budget and key-control mutations: who may change them, and spend control applied to the
new settings at once (a lower limit blocks, a higher one lifts a limit block)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from ingestion.writer import write_records
from models.alert import AlertEvent, AlertKind
from models.api_key import ApiKey, KeyStatus
from models.global_ids import encode_global_id
from models.member import Role
from models.organization import Organization
from resolvers.periods import billing_period
from spend.control import after_write
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token

USD = 1_000_000_000
BUDGET = """
mutation Budget($amount: Decimal) { setMonthlyBudget(amount: $amount) { monthlyBudget } }
"""
LIMIT = """
mutation Limit($key: ID!, $limit: Decimal) {
  setApiKeyLimit(apiKeyId: $key, monthlyLimit: $limit) { monthlyLimit status statusReason }
}
"""
STATUS = """
mutation Status($key: ID!, $status: ApiKeyStatus!, $reason: String) {
  setApiKeyStatus(apiKeyId: $key, status: $status, reason: $reason) { status statusReason }
}
"""
MODELS = """
mutation Models($key: ID!, $models: [String!]) {
  setApiKeyAllowedModels(apiKeyId: $key, models: $models) { allowedModels }
}
"""


def key_id(key: ApiKey) -> str:
    return encode_global_id("ApiKey", key.id)


async def admin_token(org: Organization, role: Role = Role.ADMIN) -> str:
    return await make_token(await make_member(org, role))


async def spend(org: Organization, key: ApiKey, nanos: int) -> None:
    record = make_record(org, key, None, datetime.now(UTC), provider_cost_nanos=nanos)
    await write_records([record], after_write=after_write)


def period_key(org: Organization) -> str:
    return billing_period(datetime.now(UTC), ZoneInfo(org.timezone)).start.isoformat()


async def thresholds(org: Organization, kind: AlertKind) -> list[str]:
    events = await AlertEvent.filter(organization_id=org.id, kind=kind)
    return sorted(e.threshold for e in events)


def data(result: Any) -> dict[str, Any]:
    assert result.errors is None, result.errors
    assert result.data is not None
    return dict(result.data)


async def test_admins_and_owners_set_and_clear_the_monthly_budget(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()

    for role in (Role.ADMIN, Role.OWNER):
        token = await admin_token(org, role)
        assert data(await gql(client, token, BUDGET, amount="250.5")) == {
            "setMonthlyBudget": {"monthlyBudget": "250.50"}
        }
        assert data(await gql(client, token, BUDGET, amount=None)) == {
            "setMonthlyBudget": {"monthlyBudget": None}
        }
    member = await gql(client, await admin_token(org, Role.MEMBER), BUDGET, amount="1")
    assert member.error_codes == ["FORBIDDEN"]
    assert (await Organization.get(id=org.id)).monthly_budget_nanos is None


async def test_a_budget_must_be_positive(client: httpx.AsyncClient) -> None:
    org = await make_org()

    result = await gql(client, await admin_token(org), BUDGET, amount="0")

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["message"] == "amount: a budget must be greater than 0 (null clears it)"


async def test_a_budget_set_under_this_periods_spend_alerts_at_once(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(wallet_balance_nanos=100 * USD)
    key = await make_key(org)
    await spend(org, key, 95 * USD // 100)

    await gql(client, await admin_token(org), BUDGET, amount="1")

    assert await thresholds(org, AlertKind.BUDGET) == ["75", "90"]
    event = await AlertEvent.get(organization_id=org.id, kind=AlertKind.BUDGET, threshold="90")
    assert (event.period_key, event.value_nanos) == (period_key(org), 95 * USD // 100)


async def test_lowering_a_limit_under_the_spend_blocks_the_key_and_alerts(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(wallet_balance_nanos=100 * USD)
    key = await make_key(org)
    await spend(org, key, 3 * USD)

    result = await gql(client, await admin_token(org), LIMIT, key=key_id(key), limit="2.5")

    assert data(result) == {
        "setApiKeyLimit": {
            "monthlyLimit": "2.50",
            "status": "BLOCKED",
            "statusReason": "monthly limit of $2.50 reached",
        }
    }
    assert await thresholds(org, AlertKind.KEY_LIMIT) == ["100", "75", "90"]


async def test_raising_the_limit_above_the_spend_reactivates_a_key_the_limit_blocked(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(wallet_balance_nanos=100 * USD)
    key = await make_key(org, monthly_limit_nanos=USD)
    await spend(org, key, 12 * USD // 10)
    token = await admin_token(org)

    still_over = await gql(client, token, LIMIT, key=key_id(key), limit="1.2")
    raised = await gql(client, token, LIMIT, key=key_id(key), limit="2")

    assert data(still_over)["setApiKeyLimit"]["status"] == "BLOCKED"
    assert data(raised) == {
        "setApiKeyLimit": {"monthlyLimit": "2.00", "status": "ACTIVE", "statusReason": None}
    }
    assert (await ApiKey.get(id=key.id)).limit_blocked_period_start is None


async def test_clearing_the_limit_reactivates_a_key_the_limit_blocked(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(wallet_balance_nanos=100 * USD)
    key = await make_key(org, monthly_limit_nanos=USD)
    await spend(org, key, USD)

    result = await gql(client, await admin_token(org), LIMIT, key=key_id(key), limit=None)

    assert data(result) == {
        "setApiKeyLimit": {"monthlyLimit": None, "status": "ACTIVE", "statusReason": None}
    }


async def test_a_new_limit_does_not_lift_a_manual_block(client: httpx.AsyncClient) -> None:
    org = await make_org(wallet_balance_nanos=100 * USD)
    key = await make_key(org, status=KeyStatus.BLOCKED, status_reason="audit")

    result = await gql(client, await admin_token(org), LIMIT, key=key_id(key), limit="50")

    assert data(result) == {
        "setApiKeyLimit": {"monthlyLimit": "50.00", "status": "BLOCKED", "statusReason": "audit"}
    }


async def test_another_tenants_key_is_not_found_exactly_like_a_missing_one(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    foreign = await make_key(await make_org(), monthly_limit_nanos=USD)
    token = await admin_token(org)
    missing_id = encode_global_id("ApiKey", foreign.id + 1000)

    answers = []
    for target in (key_id(foreign), missing_id, "garbage"):
        for mutation, extra in (
            (LIMIT, {"limit": "1"}),
            (STATUS, {"status": "REVOKED"}),
            (MODELS, {"models": ["gpt-4"]}),
        ):
            result = await gql(client, token, mutation, key=target, **extra)
            answers.append((result.error_codes, result.errors and result.errors[0]["message"]))

    assert set(map(str, answers)) == {str((["NOT_FOUND"], "apiKeyId: no such API key"))}
    untouched = await ApiKey.get(id=foreign.id)
    assert (untouched.monthly_limit_nanos, untouched.status) == (USD, KeyStatus.ACTIVE)


async def test_members_cannot_change_keys_even_their_own(client: httpx.AsyncClient) -> None:
    org = await make_org()
    member = await make_member(org, Role.MEMBER)
    key = await make_key(org, owner=member)
    token = await make_token(member)

    for mutation, extra in (
        (LIMIT, {"limit": "1"}),
        (STATUS, {"status": "BLOCKED"}),
        (MODELS, {"models": ["gpt-4"]}),
    ):
        result = await gql(client, token, mutation, key=key_id(key), **extra)
        assert result.error_codes == ["FORBIDDEN"]


async def test_blocking_and_reactivating_a_key_by_hand(client: httpx.AsyncClient) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await admin_token(org)

    blocked = await gql(client, token, STATUS, key=key_id(key), status="BLOCKED", reason="audit")
    default_reason = await gql(client, token, STATUS, key=key_id(key), status="BLOCKED")
    active = await gql(client, token, STATUS, key=key_id(key), status="ACTIVE")

    assert data(blocked) == {"setApiKeyStatus": {"status": "BLOCKED", "statusReason": "audit"}}
    assert data(default_reason) == {
        "setApiKeyStatus": {"status": "BLOCKED", "statusReason": "blocked by an administrator"}
    }
    assert data(active) == {"setApiKeyStatus": {"status": "ACTIVE", "statusReason": None}}


async def test_reactivating_a_key_still_at_its_limit_is_refused(client: httpx.AsyncClient) -> None:
    org = await make_org(wallet_balance_nanos=100 * USD)
    key = await make_key(org, monthly_limit_nanos=USD)
    await spend(org, key, USD)

    result = await gql(client, await admin_token(org), STATUS, key=key_id(key), status="ACTIVE")

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["message"] == (
        "status: the key has spent $1.00 of its $1.00 monthly limit this period; "
        "raise or clear the limit to reactivate it"
    )
    assert (await ApiKey.get(id=key.id)).status is KeyStatus.BLOCKED


async def test_revocation_is_final(client: httpx.AsyncClient) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await admin_token(org)

    revoked = await gql(client, token, STATUS, key=key_id(key), status="REVOKED")
    back = await gql(client, token, STATUS, key=key_id(key), status="ACTIVE")

    assert data(revoked) == {"setApiKeyStatus": {"status": "REVOKED", "statusReason": "revoked"}}
    assert back.error_codes == ["BAD_USER_INPUT"]
    assert (await ApiKey.get(id=key.id)).status is KeyStatus.REVOKED


async def test_allowed_models_are_trimmed_deduplicated_and_clearable(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    key = await make_key(org)
    token = await admin_token(org)

    set_models = await gql(
        client, token, MODELS, key=key_id(key), models=[" gpt-4 ", "claude-3-haiku", "gpt-4"]
    )
    cleared = await gql(client, token, MODELS, key=key_id(key), models=None)

    assert data(set_models) == {
        "setApiKeyAllowedModels": {"allowedModels": ["gpt-4", "claude-3-haiku"]}
    }
    assert data(cleared) == {"setApiKeyAllowedModels": {"allowedModels": None}}


@pytest.mark.parametrize(
    ("models", "message"),
    [
        (["gpt-4", "  "], "models[1]: a model alias of 1 to 100 characters"),
        (["m" * 101], "models[0]: a model alias of 1 to 100 characters"),
        ([f"model-{n}" for n in range(201)], "models: at most 200 models"),
    ],
)
async def test_unusable_model_lists_are_refused(
    client: httpx.AsyncClient, models: list[str], message: str
) -> None:
    org = await make_org()
    key = await make_key(org)

    result = await gql(client, await admin_token(org), MODELS, key=key_id(key), models=models)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None and result.errors[0]["message"] == message


async def test_leaving_out_a_clearable_argument_is_refused_rather_than_clearing(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org(monthly_budget_nanos=USD)
    key = await make_key(org, monthly_limit_nanos=USD, allowed_models=["gpt-4"])
    token = await admin_token(org)

    budget = await gql(client, token, "mutation { setMonthlyBudget { monthlyBudget } }")
    limit = await gql(
        client,
        token,
        "mutation($key: ID!) { setApiKeyLimit(apiKeyId: $key) { monthlyLimit } }",
        key=key_id(key),
    )
    models = await gql(
        client,
        token,
        "mutation($key: ID!) { setApiKeyAllowedModels(apiKeyId: $key) { allowedModels } }",
        key=key_id(key),
    )

    assert [r.errors and r.errors[0]["message"] for r in (budget, limit, models)] == [
        "amount: required; send null to clear it",
        "monthlyLimit: required; send null to clear it",
        "models: required; send null to allow every model",
    ]
    unchanged = await ApiKey.get(id=key.id)
    assert (unchanged.monthly_limit_nanos, unchanged.allowed_models) == (USD, ["gpt-4"])
    assert (await Organization.get(id=org.id)).monthly_budget_nanos == USD
