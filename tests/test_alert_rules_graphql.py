"""Alert rules through GraphQL: Organization.alertRules, createAlertRule, updateAlertRule,
deleteAlertRule (Admins and Owners), input checks naming the field, and the delivery log on
AlertEvent.deliveries with targets masked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from alerts.worker import run_once
from ingestion.writer import write_records
from models.alert import AlertEvent, AlertKind, AlertRule
from models.global_ids import encode_global_id
from models.member import Member, Role
from models.organization import Organization
from settings import Settings
from spend.control import after_write
from tests.alert_receivers import (  # noqa: F401 - fixtures
    SmtpReceiver,
    WebhookReceiver,
    receiver_fixture,
    settings_fixture,
    smtp_fixture,
)
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token
from tests.query_counter import count_queries

USD = 1_000_000_000
RULE_FIELDS = """
  id kind enabled spendThreshold activityFactor errorRatePercent windowMinutes minRequests
  webhookUrl webhookSecretHint email inEpisodeSince apiKey { label }
"""
CREATE = f"""
mutation Create($input: CreateAlertRuleInput!) {{
  createAlertRule(input: $input) {{ webhookSecret rule {{ {RULE_FIELDS} }} }}
}}
"""
UPDATE = f"""
mutation Update($id: ID!, $input: UpdateAlertRuleInput!) {{
  updateAlertRule(id: $id, input: $input) {{ webhookSecret rule {{ {RULE_FIELDS} }} }}
}}
"""
DELETE = "mutation Delete($id: ID!) { deleteAlertRule(id: $id) }"
RULES = f"{{ organization {{ alertRules {{ {RULE_FIELDS} }} }} }}"
DELIVERIES = """
{ organization { alerts { edges { node { kind threshold deliveries {
  channel target status attempts lastStatusCode lastError deliveredAt nextAttemptAt
} } } } } }
"""
HOOK = "https://hooks.example.com/services/T000/B000/XXXXSECRET"


@dataclass
class Team:
    org: Organization
    owner: str
    admin: str
    member: str


@pytest.fixture
async def team(client: httpx.AsyncClient) -> Team:
    org = await make_org()
    tokens = [await make_token(await make_member(org, role)) for role in Role]
    by_role = dict(zip(Role, tokens, strict=True))
    return Team(org, by_role[Role.OWNER], by_role[Role.ADMIN], by_role[Role.MEMBER])


async def create(client: httpx.AsyncClient, token: str, **fields: Any) -> dict[str, Any]:
    result = await gql(client, token, CREATE, input=fields)
    assert result.errors is None, result.errors
    assert result.data is not None
    payload: dict[str, Any] = result.data["createAlertRule"]
    return payload


async def test_an_admin_creates_a_daily_spend_rule_and_sees_its_secret_once(
    client: httpx.AsyncClient, team: Team
) -> None:
    payload = await create(
        client, team.admin, kind="DAILY_SPEND", spendThreshold="250.5", webhookUrl=HOOK
    )

    secret = payload["webhookSecret"]
    assert secret.startswith("whsec_") and len(secret) == 54
    rule = payload["rule"]
    stored = await AlertRule.get(organization_id=team.org.id)
    assert rule == {
        "id": encode_global_id("AlertRule", stored.id),
        "kind": "DAILY_SPEND",
        "enabled": True,
        "spendThreshold": "250.50",
        "activityFactor": None,
        "errorRatePercent": None,
        "windowMinutes": None,
        "minRequests": None,
        "webhookUrl": "https://hooks.example.com/…",
        "webhookSecretHint": "…" + secret[-4:],
        "email": None,
        "inEpisodeSince": None,
        "apiKey": None,
    }
    assert (stored.threshold_nanos, stored.webhook_secret) == (250_500_000_000, secret)
    listed = await gql(client, team.owner, RULES)
    assert listed.data == {"organization": {"alertRules": [rule]}}
    assert "whsec_" not in str(listed.data)


async def test_rules_of_each_kind_store_their_settings(
    client: httpx.AsyncClient, team: Team
) -> None:
    key = await make_key(team.org, label="checkout")
    key_id = encode_global_id("ApiKey", key.id)

    unusual = await create(
        client,
        team.owner,
        kind="UNUSUAL_ACTIVITY",
        activityFactor="2.5",
        windowMinutes=30,
        minRequests=100,
        email="ops@acme.test",
    )
    errors = await create(
        client,
        team.owner,
        kind="ERROR_RATE",
        apiKeyId=key_id,
        errorRatePercent="5.25",
        webhookUrl="http://alerts.internal.test:8080/",
        webhookSecret="my-own-secret-0123456789",
    )
    budget = await create(client, team.owner, kind="BUDGET", email="finance@acme.test")

    assert {k: unusual["rule"][k] for k in ("activityFactor", "windowMinutes", "minRequests")} == {
        "activityFactor": "2.50",
        "windowMinutes": 30,
        "minRequests": 100,
    }
    assert unusual["webhookSecret"] is None
    assert errors["webhookSecret"] == "my-own-secret-0123456789"
    assert errors["rule"]["errorRatePercent"] == "5.25"
    assert errors["rule"]["webhookUrl"] == "http://alerts.internal.test:8080/"
    assert errors["rule"]["apiKey"] == {"label": "checkout"}
    assert (budget["rule"]["kind"], budget["rule"]["email"]) == ("BUDGET", "finance@acme.test")
    stored = await AlertRule.filter(organization_id=team.org.id).order_by("id")
    assert [(r.threshold_bps, r.window_minutes, r.min_requests) for r in stored] == [
        (25_000, 30, 100),
        (525, 60, 50),
        (None, 60, 50),
    ]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "DAILY_SPEND"}, "spendThreshold: required for this kind of rule"),
        ({"kind": "DAILY_SPEND", "spendThreshold": "0"}, "spendThreshold: must be greater than 0"),
        (
            {"kind": "DAILY_SPEND", "spendThreshold": "1.0000000001"},
            "spendThreshold: 1.0000000001 has more than 9 decimal places",
        ),
        (
            {"kind": "DAILY_SPEND", "spendThreshold": "5", "windowMinutes": 30},
            "windowMinutes: not used by DAILY_SPEND rules",
        ),
        (
            {"kind": "UNUSUAL_ACTIVITY", "activityFactor": "1"},
            "activityFactor: must be more than 1 and at most 100 "
            "(3 fires at three times the usual activity)",
        ),
        (
            {"kind": "UNUSUAL_ACTIVITY", "activityFactor": "3", "spendThreshold": "5"},
            "spendThreshold: not used by UNUSUAL_ACTIVITY rules",
        ),
        (
            {"kind": "ERROR_RATE", "errorRatePercent": "150"},
            "errorRatePercent: must be more than 0 and at most 100",
        ),
        (
            {"kind": "ERROR_RATE", "errorRatePercent": "5.125"},
            "errorRatePercent: errorRatePercent Decimal('5.125') has more than 2 decimal places",
        ),
        (
            {"kind": "ERROR_RATE", "errorRatePercent": "5", "windowMinutes": 2},
            "windowMinutes: must be 5 to 1440 minutes",
        ),
        (
            {"kind": "ERROR_RATE", "errorRatePercent": "5", "minRequests": 0},
            "minRequests: must be 1 to 1000000000",
        ),
        (
            {"kind": "DAILY_SPEND", "spendThreshold": "5", "webhookUrl": "ftp://example.com/x"},
            "webhookUrl: must be an http:// or https:// URL",
        ),
        (
            {"kind": "DAILY_SPEND", "spendThreshold": "5", "webhookUrl": "https:///path"},
            "webhookUrl: must name a host",
        ),
        (
            {
                "kind": "DAILY_SPEND",
                "spendThreshold": "5",
                "webhookUrl": HOOK,
                "webhookSecret": "short",
            },
            "webhookSecret: must be 16 to 200 characters (leave it out to have one generated)",
        ),
        (
            {"kind": "DAILY_SPEND", "spendThreshold": "5", "webhookSecret": "0123456789abcdefgh"},
            "webhookSecret: only a rule with a webhookUrl has a secret",
        ),
        (
            {"kind": "DAILY_SPEND", "spendThreshold": "5", "email": "ops@acme.test\nBcc: x@y.z"},
            "email: must be one email address such as ops@example.com",
        ),
        (
            {"kind": "BUDGET"},
            "webhookUrl: a BUDGET rule only says where those alerts go; give webhookUrl or "
            "email (or both)",
        ),
        (
            {"kind": "LOW_BALANCE", "email": "ops@acme.test", "spendThreshold": "5"},
            "spendThreshold: not used by LOW_BALANCE rules",
        ),
    ],
)
async def test_bad_rule_input_is_refused_naming_the_field(
    client: httpx.AsyncClient, team: Team, fields: dict[str, Any], message: str
) -> None:
    result = await gql(client, team.admin, CREATE, input=fields)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None and result.errors[0]["message"] == message
    assert await AlertRule.filter(organization_id=team.org.id).count() == 0


async def test_a_budget_rule_cannot_name_a_key_and_another_tenants_key_is_not_found(
    client: httpx.AsyncClient, team: Team
) -> None:
    stranger = await make_key(await make_org())
    own = await make_key(team.org)

    budget = await gql(
        client,
        team.admin,
        CREATE,
        input={"kind": "BUDGET", "email": "a@b.co", "apiKeyId": encode_global_id("ApiKey", own.id)},
    )
    foreign = await gql(
        client,
        team.admin,
        CREATE,
        input={
            "kind": "KEY_LIMIT",
            "email": "a@b.co",
            "apiKeyId": encode_global_id("ApiKey", stranger.id),
        },
    )

    assert budget.errors is not None
    assert budget.errors[0]["message"] == "apiKeyId: BUDGET alerts are about the whole organization"
    assert foreign.error_codes == ["NOT_FOUND"]


async def test_members_can_neither_see_nor_change_rules(
    client: httpx.AsyncClient, team: Team
) -> None:
    created = await create(client, team.admin, kind="BUDGET", email="ops@acme.test")
    rule_id = created["rule"]["id"]

    listing = await gql(client, team.member, RULES)
    creating = await gql(client, team.member, CREATE, input={"kind": "BUDGET", "email": "m@x.io"})
    updating = await gql(client, team.member, UPDATE, id=rule_id, input={"enabled": False})
    deleting = await gql(client, team.member, DELETE, id=rule_id)

    for result in (listing, creating, updating, deleting):
        assert result.error_codes == ["FORBIDDEN"]
    assert await AlertRule.filter(organization_id=team.org.id, enabled=True).count() == 1


async def test_updating_changes_only_the_given_fields(
    client: httpx.AsyncClient, team: Team
) -> None:
    created = await create(
        client,
        team.admin,
        kind="ERROR_RATE",
        errorRatePercent="5",
        webhookUrl=HOOK,
        email="ops@acme.test",
    )
    rule_id = created["rule"]["id"]
    stored = await AlertRule.get(organization_id=team.org.id)
    await AlertRule.filter(id=stored.id).update(episode_started_at=datetime.now(UTC))

    renamed = await gql(client, team.admin, UPDATE, id=rule_id, input={"email": "oncall@acme.test"})
    assert renamed.data is not None
    assert renamed.data["updateAlertRule"]["webhookSecret"] is None
    assert renamed.data["updateAlertRule"]["rule"]["inEpisodeSince"] is not None
    changed = await gql(
        client, team.admin, UPDATE, id=rule_id, input={"errorRatePercent": "8", "minRequests": 10}
    )
    rotated = await gql(client, team.admin, UPDATE, id=rule_id, input={"rotateWebhookSecret": True})
    cleared = await gql(client, team.admin, UPDATE, id=rule_id, input={"webhookUrl": None})

    assert changed.data is not None
    rule = changed.data["updateAlertRule"]["rule"]
    assert (rule["errorRatePercent"], rule["minRequests"], rule["windowMinutes"]) == (
        "8.00",
        10,
        60,
    )
    assert rule["email"] == "oncall@acme.test"
    # A new threshold is a fresh start: the running episode is forgotten.
    assert rule["inEpisodeSince"] is None
    assert rotated.data is not None
    new_secret = rotated.data["updateAlertRule"]["webhookSecret"]
    assert new_secret.startswith("whsec_") and new_secret != stored.webhook_secret
    assert rotated.data["updateAlertRule"]["rule"]["webhookSecretHint"] == "…" + new_secret[-4:]
    assert cleared.data is not None
    assert cleared.data["updateAlertRule"]["rule"]["webhookUrl"] is None
    assert cleared.data["updateAlertRule"]["rule"]["webhookSecretHint"] is None


async def test_another_organizations_rule_is_not_found(
    client: httpx.AsyncClient, team: Team
) -> None:
    other = await make_org()
    foreign = await AlertRule.create(organization=other, kind=AlertKind.BUDGET, email="x@y.io")
    foreign_id = encode_global_id("AlertRule", foreign.id)

    updating = await gql(client, team.admin, UPDATE, id=foreign_id, input={"enabled": False})
    deleting = await gql(client, team.admin, DELETE, id=foreign_id)

    assert updating.error_codes == deleting.error_codes == ["NOT_FOUND"]
    assert await AlertRule.filter(id=foreign.id, enabled=True).exists()


async def test_deleting_a_rule_keeps_the_alerts_it_fired(
    client: httpx.AsyncClient, team: Team
) -> None:
    rule = await AlertRule.create(
        organization=team.org, kind=AlertKind.DAILY_SPEND, threshold_nanos=USD
    )
    await AlertEvent.create(
        organization=team.org,
        rule=rule,
        kind=AlertKind.DAILY_SPEND,
        threshold="1.00",
        period_key=f"rule-{rule.id}/2024-05-08",
        message="spent",
        fired_at=datetime.now(UTC),
    )
    rule_id = encode_global_id("AlertRule", rule.id)

    result = await gql(client, team.owner, DELETE, id=rule_id)

    assert result.data == {"deleteAlertRule": rule_id}
    assert not await AlertRule.filter(id=rule.id).exists()
    [event] = await AlertEvent.filter(organization_id=team.org.id)
    assert event.rule_id is None


async def test_an_alerts_deliveries_show_the_log_with_masked_targets(
    client: httpx.AsyncClient,
    team: Team,
    settings: Settings,
    receiver: WebhookReceiver,
    smtp: SmtpReceiver,
) -> None:
    org = team.org
    await Organization.filter(id=org.id).update(
        monthly_budget_nanos=USD, wallet_balance_nanos=100 * USD
    )
    await create(client, team.admin, kind="BUDGET", webhookUrl=receiver.url, email="ops@acme.test")
    receiver.status = 500
    # The member's own key reaches 75% of its limit too: that alert they may see.
    mia = await Member.get(organization_id=org.id, role=Role.MEMBER)
    key = await make_key(org, owner=mia, monthly_limit_nanos=USD)
    spent = make_record(org, key, mia, datetime.now(UTC), provider_cost_nanos=8 * USD // 10)
    await write_records([spent], after_write=after_write)
    await run_once(settings, datetime.now(UTC))

    with count_queries() as queries:
        result = await gql(client, team.admin, DELIVERIES)
    member = await gql(client, team.member, DELIVERIES)

    assert result.errors is None and result.data is not None
    by_kind = {
        e["node"]["kind"]: e["node"]["deliveries"]
        for e in result.data["organization"]["alerts"]["edges"]
    }
    assert by_kind["KEY_LIMIT"] == []
    webhook, email = by_kind["BUDGET"]
    assert webhook["target"] == f"http://127.0.0.1:{receiver.port}/…"
    assert (webhook["channel"], webhook["status"], webhook["attempts"]) == ("WEBHOOK", "PENDING", 1)
    assert (webhook["lastStatusCode"], webhook["lastError"]) == (
        500,
        "the receiver answered HTTP 500",
    )
    assert webhook["deliveredAt"] is None and webhook["nextAttemptAt"] is not None
    assert {k: email[k] for k in ("channel", "target", "status", "lastStatusCode")} == {
        "channel": "EMAIL",
        "target": "ops@acme.test",
        "status": "DELIVERED",
        "lastStatusCode": 250,
    }
    assert email["nextAttemptAt"] is None
    # the token's organization (lookup), token with its organization, the page, the
    # deliveries of the whole page in one batch
    assert queries.count == 4
    assert member.error_codes == ["FORBIDDEN"]
    assert member.errors is not None
    assert member.errors[0]["path"] == ["organization", "alerts", "edges", 0, "node", "deliveries"]
