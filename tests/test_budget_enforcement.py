"""Budget enforcement: ALERT_ONLY (the default) only alerts; BLOCK makes keyAccess refuse with
402 BUDGET_EXCEEDED once the period's spend reaches the budget, or would pass it with the
estimated cost. Only Owners choose the mode, and the change is audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from models.access_token import Scope
from models.api_key import ApiKey
from models.audit import AuditEntry
from models.global_ids import encode_global_id
from models.member import Role
from models.organization import BudgetEnforcement, Organization
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

USD = 1_000_000_000
NANO = 1
ACCESS = """
query Access($id: ID, $estimate: Decimal) {
  keyAccess(apiKeyId: $id, model: "gpt-4", estimatedCost: $estimate) {
    allowed statusCode denial reason
  }
}
"""
ENFORCEMENT = """
mutation Mode($mode: BudgetEnforcement!) {
  setBudgetEnforcement(mode: $mode) { budgetEnforcement monthlyBudget }
}
"""
ALLOWED = {"allowed": True, "statusCode": None, "denial": None, "reason": None}


async def ask(
    client: httpx.AsyncClient, org: Organization, key: ApiKey, estimate: str | None = None
) -> dict[str, Any]:
    token = await make_ingest_token(org)
    result = await gql(
        client, token, ACCESS, id=encode_global_id("ApiKey", key.id), estimate=estimate
    )
    assert result.errors is None, result.errors
    return dict(result.data["keyAccess"])  # type: ignore[index]


async def org_that_spent(
    spent_nanos: int, budget_nanos: int, mode: BudgetEnforcement
) -> tuple[Organization, ApiKey]:
    """An organization with a wallet of $1000, the budget and mode, and `spent_nanos` of
    customer cost this period (no markup or fee, so provider cost is customer cost)."""
    org = await make_org(
        wallet_balance_nanos=1000 * USD, monthly_budget_nanos=budget_nanos, budget_enforcement=mode
    )
    key = await make_key(org)
    if spent_nanos:
        await store(make_record(org, key, None, datetime.now(UTC), provider_cost_nanos=spent_nanos))
    return org, key


async def test_spend_exactly_at_the_budget_is_refused_with_402_when_blocking(
    client: httpx.AsyncClient,
) -> None:
    org, key = await org_that_spent(10 * USD, 10 * USD, BudgetEnforcement.BLOCK)

    assert await ask(client, org, key) == {
        "allowed": False,
        "statusCode": 402,
        "denial": "BUDGET_EXCEEDED",
        "reason": "organization budget reached: $10.00 of $10.00 spent this billing period",
    }


async def test_spend_one_nano_below_the_budget_is_allowed(client: httpx.AsyncClient) -> None:
    org, key = await org_that_spent(10 * USD - NANO, 10 * USD, BudgetEnforcement.BLOCK)

    assert await ask(client, org, key) == ALLOWED


async def test_an_estimate_that_would_pass_the_budget_is_refused(
    client: httpx.AsyncClient,
) -> None:
    org, key = await org_that_spent(9 * USD, 10 * USD, BudgetEnforcement.BLOCK)

    assert await ask(client, org, key, estimate="1.000000001") == {
        "allowed": False,
        "statusCode": 402,
        "denial": "BUDGET_EXCEEDED",
        "reason": (
            "organization budget would be exceeded: $9.00 of $10.00 spent, $1.000000001 estimated"
        ),
    }
    # Landing exactly on the budget is still within it.
    assert await ask(client, org, key, estimate="1") == ALLOWED


async def test_alert_only_allows_an_organization_far_over_its_budget(
    client: httpx.AsyncClient,
) -> None:
    org, key = await org_that_spent(176 * USD, 100 * USD, BudgetEnforcement.ALERT_ONLY)

    assert await ask(client, org, key) == ALLOWED


async def test_blocking_without_a_budget_refuses_nothing(client: httpx.AsyncClient) -> None:
    org = await make_org(wallet_balance_nanos=USD, budget_enforcement=BudgetEnforcement.BLOCK)
    key = await make_key(org)
    await store(make_record(org, key, None, datetime.now(UTC), provider_cost_nanos=USD // 2))

    assert await ask(client, org, key) == ALLOWED


async def test_a_revoked_key_is_still_told_it_is_revoked_before_the_budget(
    client: httpx.AsyncClient,
) -> None:
    org, key = await org_that_spent(10 * USD, 10 * USD, BudgetEnforcement.BLOCK)
    await ApiKey.filter(id=key.id).update(status="REVOKED", status_reason="leaked")

    answer = await ask(client, org, key)

    assert (answer["statusCode"], answer["denial"]) == (401, "KEY_REVOKED")


async def test_an_owner_switches_to_block_and_keyaccess_refuses_at_once(
    client: httpx.AsyncClient,
) -> None:
    org, key = await org_that_spent(10 * USD, 10 * USD, BudgetEnforcement.ALERT_ONLY)
    owner = await make_member(org, Role.OWNER)
    token = await make_token(owner)
    assert await ask(client, org, key) == ALLOWED

    result = await gql(client, token, ENFORCEMENT, mode="BLOCK")

    assert result.data == {
        "setBudgetEnforcement": {"budgetEnforcement": "BLOCK", "monthlyBudget": "10.00"}
    }
    assert (await ask(client, org, key))["denial"] == "BUDGET_EXCEEDED"
    [entry] = await AuditEntry.filter(organization_id=org.id)
    assert (entry.action, entry.actor_member_id, entry.changes) == (
        "organization.settings",
        owner.id,
        {"budgetEnforcement": {"old": "ALERT_ONLY", "new": "BLOCK"}},
    )


async def test_only_owners_with_an_admin_token_choose_the_enforcement_mode(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    tokens = {
        "admin": await make_token(await make_member(org, Role.ADMIN)),
        "member": await make_token(await make_member(org, Role.MEMBER)),
        "ingest": await make_ingest_token(org),
        "owner read-only": await make_token(await make_member(org, Role.OWNER), [Scope.READ]),
        "owner read+export": await make_token(
            await make_member(org, Role.OWNER), [Scope.READ, Scope.EXPORT]
        ),
    }

    for role, token in tokens.items():
        result = await gql(client, token, ENFORCEMENT, mode="BLOCK")
        assert result.error_codes == ["FORBIDDEN"], role
    stored = await Organization.get(id=org.id)
    assert stored.budget_enforcement is BudgetEnforcement.ALERT_ONLY
    assert await AuditEntry.filter(organization_id=org.id).count() == 0


async def test_an_unknown_mode_is_bad_user_input(client: httpx.AsyncClient) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))

    result = await gql(client, token, ENFORCEMENT, mode="SOMETIMES")

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "SOMETIMES" in result.errors[0]["message"]  # type: ignore[index]
