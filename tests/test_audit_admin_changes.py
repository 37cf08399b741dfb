"""The administrative mutations that existed before the audit trail now each write exactly
one entry, in their own transaction, with the exact old and new values (money as USD
strings, as the API writes them: "20.00", "0.135"); refused changes write none."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from models.alert import AlertKind, AlertRule
from models.api_key import ApiKey, KeyStatus
from models.audit import AuditEntry
from models.global_ids import encode_global_id
from models.member import Member, Role
from models.organization import Organization
from tests.factories import gql, make_key, make_member, make_org, make_token

USD = 1_000_000_000


@dataclass
class Team:
    org: Organization
    owner: Member
    token: str
    key: ApiKey


@pytest.fixture
async def team(client: httpx.AsyncClient) -> Team:
    org = await make_org(monthly_budget_nanos=500 * USD, wallet_balance_nanos=20 * USD)
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner, monthly_limit_nanos=50 * USD, allowed_models=["gpt-4"])
    return Team(org, owner, await make_token(owner), key)


async def _run(team: Team, client: httpx.AsyncClient, query: str, **variables: Any) -> None:
    result = await gql(client, team.token, query, **variables)
    assert result.errors is None, result.errors


async def _only_entry(team: Team) -> AuditEntry:
    [entry] = await AuditEntry.filter(organization_id=team.org.id)
    assert (entry.actor_member_id, entry.via) == (team.owner.id, "graphql")
    assert entry.actor_token_id is not None
    return entry


def _key_id(team: Team) -> str:
    return encode_global_id("ApiKey", team.key.id)


async def test_set_monthly_budget_records_the_old_and_new_budget(
    client: httpx.AsyncClient, team: Team
) -> None:
    await _run(team, client, 'mutation { setMonthlyBudget(amount: "750.25") { id } }')

    entry = await _only_entry(team)
    assert (entry.action, entry.subject_type, entry.subject_id) == (
        "organization.budget",
        "Organization",
        team.org.id,
    )
    assert entry.changes == {"monthlyBudget": {"old": "500.00", "new": "750.25"}}


async def test_clearing_the_budget_records_null_as_the_new_value(
    client: httpx.AsyncClient, team: Team
) -> None:
    await _run(team, client, "mutation { setMonthlyBudget(amount: null) { id } }")

    assert (await _only_entry(team)).changes == {"monthlyBudget": {"old": "500.00", "new": None}}


async def test_set_api_key_limit_records_the_old_and_new_limit(
    client: httpx.AsyncClient, team: Team
) -> None:
    await _run(
        team,
        client,
        'mutation K($id: ID!) { setApiKeyLimit(apiKeyId: $id, monthlyLimit: "0.5") { id } }',
        id=_key_id(team),
    )

    entry = await _only_entry(team)
    assert (entry.action, entry.subject_type, entry.subject_id) == (
        "apiKey.limit",
        "ApiKey",
        team.key.id,
    )
    assert entry.changes == {"monthlyLimit": {"old": "50.00", "new": "0.50"}}


async def test_set_api_key_status_records_the_status_and_reason(
    client: httpx.AsyncClient, team: Team
) -> None:
    await _run(
        team,
        client,
        "mutation K($id: ID!) { setApiKeyStatus(apiKeyId: $id, status: BLOCKED, "
        'reason: "leaked") { id } }',
        id=_key_id(team),
    )

    entry = await _only_entry(team)
    assert (entry.action, entry.subject_id) == ("apiKey.status", team.key.id)
    assert entry.changes == {
        "status": {"old": "ACTIVE", "new": "BLOCKED"},
        "statusReason": {"old": None, "new": "leaked"},
    }
    assert (await ApiKey.get(id=team.key.id)).status is KeyStatus.BLOCKED


async def test_set_allowed_models_records_the_old_and_new_lists(
    client: httpx.AsyncClient, team: Team
) -> None:
    await _run(
        team,
        client,
        "mutation K($id: ID!) { setApiKeyAllowedModels(apiKeyId: $id, "
        'models: ["gpt-4", " claude-3 ", "gpt-4"]) { id } }',
        id=_key_id(team),
    )

    entry = await _only_entry(team)
    assert (entry.action, entry.subject_id) == ("apiKey.allowedModels", team.key.id)
    assert entry.changes == {"allowedModels": {"old": ["gpt-4"], "new": ["gpt-4", "claude-3"]}}


async def test_set_low_balance_threshold_records_the_old_and_new_threshold(
    client: httpx.AsyncClient, team: Team
) -> None:
    await _run(team, client, 'mutation { setLowBalanceThreshold(amount: "2.5") { balance } }')

    entry = await _only_entry(team)
    assert (entry.action, entry.subject_type, entry.subject_id) == (
        "wallet.lowBalanceThreshold",
        "Organization",
        team.org.id,
    )
    assert entry.changes == {"lowBalanceThreshold": {"old": "10.00", "new": "2.50"}}


async def test_a_deposit_records_the_amount_the_balance_and_the_note(
    client: httpx.AsyncClient, team: Team
) -> None:
    result = await gql(
        client, team.token, 'mutation { depositFunds(amount: "5.125", note: "top-up") { id } }'
    )

    assert result.errors is None and result.data is not None
    entry = await _only_entry(team)
    assert (entry.action, entry.subject_type) == ("wallet.deposit", "WalletEntry")
    assert (
        encode_global_id("WalletEntry", entry.subject_id or 0) == result.data["depositFunds"]["id"]
    )
    assert entry.changes == {
        "amount": {"old": None, "new": "5.125"},
        "balance": {"old": "20.00", "new": "25.125"},
        "note": {"old": None, "new": "top-up"},
    }


async def test_a_refund_records_the_negative_amount_and_the_balance(
    client: httpx.AsyncClient, team: Team
) -> None:
    await _run(team, client, 'mutation { refundFunds(amount: "7") { id } }')

    entry = await _only_entry(team)
    assert entry.action == "wallet.refund"
    assert entry.changes == {
        "amount": {"old": None, "new": "-7.00"},
        "balance": {"old": "20.00", "new": "13.00"},
    }


CREATE_RULE = """
mutation C($input: CreateAlertRuleInput!) { createAlertRule(input: $input) { rule { id } } }
"""


async def test_creating_updating_and_deleting_a_rule_each_record_one_entry(
    client: httpx.AsyncClient, team: Team
) -> None:
    created = await gql(
        client,
        team.token,
        CREATE_RULE,
        input={"kind": "DAILY_SPEND", "spendThreshold": "25", "email": "ops@example.com"},
    )
    assert created.data is not None
    rule_gid = created.data["createAlertRule"]["rule"]["id"]
    await _run(
        team,
        client,
        'mutation U($id: ID!) { updateAlertRule(id: $id, input: {spendThreshold: "30.5", '
        "enabled: false}) { rule { id } } }",
        id=rule_gid,
    )
    await _run(team, client, "mutation D($id: ID!) { deleteAlertRule(id: $id) }", id=rule_gid)

    entries = await AuditEntry.filter(organization_id=team.org.id).order_by("id")
    rule_id = entries[0].subject_id
    assert [(e.action, e.subject_type, e.subject_id) for e in entries] == [
        ("alertRule.create", "AlertRule", rule_id),
        ("alertRule.update", "AlertRule", rule_id),
        ("alertRule.delete", "AlertRule", rule_id),
    ]
    assert entries[0].changes == {
        "kind": {"old": None, "new": "DAILY_SPEND"},
        "spendThreshold": {"old": None, "new": "25.00"},
        "windowMinutes": {"old": None, "new": 60},
        "minRequests": {"old": None, "new": 50},
        "enabled": {"old": None, "new": True},
        "email": {"old": None, "new": "ops@example.com"},
    }
    assert entries[1].changes == {
        "spendThreshold": {"old": "25.00", "new": "30.50"},
        "enabled": {"old": True, "new": False},
    }
    assert entries[2].changes == {
        "kind": {"old": "DAILY_SPEND", "new": None},
        "spendThreshold": {"old": "30.50", "new": None},
        "windowMinutes": {"old": 60, "new": None},
        "minRequests": {"old": 50, "new": None},
        "enabled": {"old": False, "new": None},
        "email": {"old": "ops@example.com", "new": None},
    }


async def test_a_webhook_rules_entry_shows_the_masked_url_and_the_secret_hint_only(
    client: httpx.AsyncClient, team: Team
) -> None:
    secret = "whsec_audit_0123456789abcd"
    await _run(
        team,
        client,
        CREATE_RULE,
        input={
            "kind": "BUDGET",
            "webhookUrl": "https://hooks.example.com/T0/SECRETPATH",
            "webhookSecret": secret,
        },
    )

    changes = (await _only_entry(team)).changes
    assert changes["webhookUrl"] == {"old": None, "new": "https://hooks.example.com/…"}
    assert changes["webhookSecret"] == {"old": None, "new": "…abcd"}
    assert "SECRETPATH" not in str(changes) and secret not in str(changes)


async def test_refused_changes_and_changes_to_another_tenants_key_write_nothing(
    client: httpx.AsyncClient, team: Team
) -> None:
    other_key = await make_key(await make_org())
    foreign = await gql(
        client,
        team.token,
        'mutation K($id: ID!) { setApiKeyLimit(apiKeyId: $id, monthlyLimit: "1") { id } }',
        id=encode_global_id("ApiKey", other_key.id),
    )
    too_much = await gql(client, team.token, 'mutation { refundFunds(amount: "21") { id } }')

    assert foreign.error_codes == ["NOT_FOUND"]
    assert too_much.error_codes == ["BAD_USER_INPUT"]
    assert await AuditEntry.all().count() == 0
    assert await AlertRule.filter(organization_id=team.org.id, kind=AlertKind.BUDGET).count() == 0


async def test_setting_a_value_to_what_it_already_is_records_nothing(
    client: httpx.AsyncClient, team: Team
) -> None:
    await _run(team, client, 'mutation { setMonthlyBudget(amount: "500") { id } }')

    assert await AuditEntry.filter(organization_id=team.org.id).count() == 0
