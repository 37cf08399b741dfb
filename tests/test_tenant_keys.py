"""Keys by organization (migration 0024; docs/SCALING.md): the ORM's deletes keep their
cascades and SET NULLs on both backends; on PostgreSQL the composite foreign keys refuse a
reference to another organization's row, and the migration goes back to the keys by id and
forward again with the rows intact, adopting an index an operator built ahead.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from tortoise.exceptions import IntegrityError

from auth.tokens import issue_token
from models.access_token import AccessToken
from models.alert import AlertEvent, AlertKind, AlertRule
from models.alert_delivery import AlertDelivery, DeliveryChannel
from models.api_key import ApiKey
from models.member import Member
from models.organization import Organization
from models.wallet import EntryKind, WalletEntry
from settings import Settings
from tests.conftest import POSTGRES_ADMIN_URL
from tests.factories import make_key, make_member, make_org

REPO = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


async def _event(org: Organization, rule: AlertRule | None, by: Member | None) -> AlertEvent:
    return await AlertEvent.create(
        organization=org,
        rule=rule,
        kind=AlertKind.DAILY_SPEND,
        threshold="10.00",
        period_key=f"2026-12-01-{uuid.uuid4().hex[:6]}",
        message="spend over 10.00",
        fired_at=NOW,
        acknowledged_at=NOW if by else None,
        acknowledged_by=by,
    )


async def _delivery(org: Organization, event: AlertEvent) -> AlertDelivery:
    return await AlertDelivery.create(
        organization=org,
        event=event,
        channel=DeliveryChannel.WEBHOOK,
        target="https://hooks.example.com/a",
        message_id=str(uuid.uuid4()),
        subject="alert",
        body="{}",
        next_attempt_at=NOW,
        created_at=NOW,
    )


async def test_deleting_a_member_drops_its_tokens_and_clears_what_it_owned(db: Settings) -> None:
    org = await make_org()
    leaving, staying = await make_member(org), await make_member(org)
    key = await make_key(org, owner=leaving)
    other_key = await make_key(org, owner=staying)
    await issue_token(org.id, leaving, "laptop", None)
    kept_token = await issue_token(org.id, staying, "laptop", None)
    entry = await WalletEntry.create(
        organization=org,
        kind=EntryKind.DEPOSIT,
        amount_nanos=5_000_000_000,
        balance_after_nanos=5_000_000_000,
        created_by=leaving,
        created_at=NOW,
    )
    event = await _event(org, None, leaving)

    await leaving.delete()

    assert await AccessToken.filter(organization_id=org.id).values_list("id", flat=True) == [
        kept_token.record.id
    ]
    assert await ApiKey.filter(id=key.id).values_list("organization_id", "owner_id") == [
        (org.id, None)
    ]
    assert await ApiKey.filter(id=other_key.id).values_list("owner_id", flat=True) == [staying.id]
    assert await WalletEntry.filter(id=entry.id).values_list(
        "organization_id", "created_by_id", "amount_nanos"
    ) == [(org.id, None, 5_000_000_000)]
    assert await AlertEvent.filter(id=event.id).values_list(
        "organization_id", "acknowledged_by_id"
    ) == [(org.id, None)]


async def test_deleting_an_alert_rule_keeps_its_events_and_their_deliveries(db: Settings) -> None:
    org = await make_org()
    rule = await AlertRule.create(organization=org, kind=AlertKind.DAILY_SPEND)
    event = await _event(org, rule, None)
    delivery = await _delivery(org, event)

    await rule.delete()

    assert await AlertEvent.filter(id=event.id).values_list("rule_id", flat=True) == [None]
    assert await AlertDelivery.filter(event_id=event.id).count() == 1

    await event.delete()

    assert await AlertDelivery.filter(id=delivery.id).count() == 0


async def test_deleting_a_key_deletes_its_rules(db: Settings) -> None:
    org = await make_org()
    key, other = await make_key(org), await make_key(org)
    await AlertRule.create(organization=org, kind=AlertKind.DAILY_SPEND, api_key=key)
    kept = await AlertRule.create(organization=org, kind=AlertKind.DAILY_SPEND, api_key=other)

    await key.delete()

    assert await AlertRule.filter(organization_id=org.id).values_list("id", flat=True) == [kept.id]


async def test_deleting_an_organization_deletes_every_row_it_had(db: Settings) -> None:
    org, other = await make_org(), await make_org()
    for owner in (org, other):
        member = await make_member(owner)
        rule = await AlertRule.create(
            organization=owner, kind=AlertKind.DAILY_SPEND, api_key=await make_key(owner, member)
        )
        await _delivery(owner, await _event(owner, rule, member))
        await issue_token(owner.id, member, "laptop", None)

    await org.delete()

    for model in (Member, ApiKey, AlertRule, AlertEvent, AlertDelivery, AccessToken):
        assert await model.filter(organization_id=org.id).count() == 0, model.__name__
        assert await model.filter(organization_id=other.id).count() == 1, model.__name__


@pytest.mark.postgres_only
async def test_a_row_cannot_reference_another_organizations_row(db: Settings) -> None:
    org, other = await make_org(), await make_org()
    outsider = await make_member(other)
    outside_key = await make_key(other)

    with pytest.raises(IntegrityError):
        await make_key(org, owner=outsider)
    with pytest.raises(IntegrityError):
        await AlertRule.create(organization=org, kind=AlertKind.DAILY_SPEND, api_key=outside_key)
    assert await ApiKey.filter(organization_id=org.id).count() == 0


_ROUND_TRIP = """
import asyncio, json, sys
import asyncpg
from tortoise.migrations.api.migrate import migrate
from models.database import tortoise_config
from settings import Settings

KEYS = '''
SELECT c.relname, pg_get_constraintdef(con.oid) AS definition FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
WHERE con.contype IN ('p', 'f') AND c.relname IN
  ('member', 'api_key', 'usage_cube_team_tag_day', 'request_log', 'request_log_default')
ORDER BY 1, 2
'''

async def snapshot(url):
    conn = await asyncpg.connect(url)
    try:
        keys = [f"{r['relname']}: {r['definition']}" for r in await conn.fetch(KEYS)]
        rows = [tuple(r) for r in await conn.fetch(
            "SELECT m.id, m.organization_id, k.id, k.owner_id FROM member m "
            "JOIN api_key k ON k.owner_id = m.id ORDER BY 1")]
        cube_indexes = [r[0] for r in await conn.fetch(
            "SELECT indexrelid::regclass::text FROM pg_index "
            "WHERE indrelid = 'usage_cube_team_tag_day'::regclass ORDER BY 1")]
    finally:
        await conn.close()
    return {"keys": keys, "rows": rows, "cube_indexes": cube_indexes}

async def main(url, previous):
    config = tortoise_config(Settings.from_env())
    await migrate(config=config)
    conn = await asyncpg.connect(url)
    await conn.execute(
        "INSERT INTO organization (name, slug, tier, timezone, markup_bps, fixed_fee_nanos, "
        "billing_anchor_day, log_bodies, wallet_balance_nanos, low_balance_threshold_nanos, "
        "created_at, low_balance_episode) VALUES ('A', 'a', 'TEAM', 'UTC', 0, 0, 1, FALSE, "
        "0, 0, now(), 0)")
    await conn.execute(
        "INSERT INTO member (organization_id, name, email, role, created_at) "
        "VALUES (1, 'Ann', 'ann@example.com', 'MEMBER', now())")
    await conn.execute(
        "INSERT INTO api_key (organization_id, owner_id, label, prefix, status, created_at) "
        "VALUES (1, 1, 'k', 'sk-a', 'ACTIVE', now())")
    await conn.close()
    head = await snapshot(url)
    await migrate(config=config, target=previous)
    back = await snapshot(url)
    # An operator's index built ahead (docs/SCALING.md) becomes the cube's key.
    conn = await asyncpg.connect(url)
    await conn.execute(
        "CREATE UNIQUE INDEX CONCURRENTLY usage_cube_team_tag_day_pkey_0024 "
        "ON usage_cube_team_tag_day (organization_id, id)")
    await conn.close()
    await migrate(config=config)
    again = await snapshot(url)
    print(json.dumps({"head": head, "back": back, "again": again}))

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


@pytest.mark.postgres_only
async def test_the_migration_goes_back_to_keys_by_id_and_forward_again(database: Settings) -> None:
    name = f"aize_keys_{uuid.uuid4().hex[:10]}"
    admin_url = POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://")
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _ROUND_TRIP,
            url.replace("postgres://", "postgresql://"),
            "models.0022_fold_pending",
            cwd=REPO,
            env={**os.environ, "AIZE_DATABASE_URL": url},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=300)
        assert process.returncode == 0, err.decode()
        seen: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    finally:
        admin = await asyncpg.connect(admin_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    by_organization = [
        "api_key: FOREIGN KEY (organization_id) REFERENCES organization(id) ON DELETE CASCADE",
        "api_key: FOREIGN KEY (organization_id, owner_id) REFERENCES member(organization_id, id) "
        "ON DELETE SET NULL (owner_id)",
        "api_key: PRIMARY KEY (id, organization_id)",
        "member: FOREIGN KEY (organization_id) REFERENCES organization(id) ON DELETE CASCADE",
        "member: PRIMARY KEY (id, organization_id)",
        'request_log: PRIMARY KEY (id, organization_id, "timestamp")',
        'request_log_default: PRIMARY KEY (id, organization_id, "timestamp")',
        "usage_cube_team_tag_day: PRIMARY KEY (organization_id, id)",
    ]
    by_id = [
        "api_key: FOREIGN KEY (organization_id) REFERENCES organization(id) ON DELETE CASCADE",
        "api_key: FOREIGN KEY (owner_id) REFERENCES member(id) ON DELETE SET NULL",
        "api_key: PRIMARY KEY (id)",
        "member: FOREIGN KEY (organization_id) REFERENCES organization(id) ON DELETE CASCADE",
        "member: PRIMARY KEY (id)",
        'request_log: PRIMARY KEY (id, "timestamp")',
        'request_log_default: PRIMARY KEY (id, "timestamp")',
        "usage_cube_team_tag_day: PRIMARY KEY (id)",
    ]
    assert seen["head"]["keys"] == by_organization
    assert seen["back"]["keys"] == by_id
    assert seen["again"]["keys"] == by_organization
    assert seen["again"]["cube_indexes"] == seen["head"]["cube_indexes"]
    assert "usage_cube_team_tag_day_pkey" in seen["again"]["cube_indexes"]
    rows = [[1, 1, 1, 1]]
    assert seen["head"]["rows"] == seen["back"]["rows"] == seen["again"]["rows"] == rows
