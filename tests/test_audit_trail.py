"""audit.trail.record_change: what one administrative change stores."""

from __future__ import annotations

from decimal import Decimal

from tortoise.transactions import in_transaction

from audit.trail import Actor, record_change
from models.audit import AuditEntry
from models.member import Role
from tests.factories import make_member, make_org


async def test_a_change_is_stored_with_its_actor_and_old_and_new_values(db: object) -> None:
    org = await make_org()
    admin = await make_member(org, Role.ADMIN)
    actor = Actor(member_id=admin.id, token_id=7, via="graphql")

    entry = await record_change(
        org.id,
        actor,
        "apiKey.update",
        "ApiKey",
        42,
        {"label": ("old", "new"), "monthlyLimit": (Decimal("10.50"), Decimal("20"))},
    )

    assert entry is not None
    stored = await AuditEntry.get(id=entry.id)
    assert (stored.organization_id, stored.actor_member_id, stored.actor_token_id) == (
        org.id,
        admin.id,
        7,
    )
    assert (stored.via, stored.action, stored.subject_type, stored.subject_id) == (
        "graphql",
        "apiKey.update",
        "ApiKey",
        42,
    )
    assert stored.changes == {
        "label": {"old": "old", "new": "new"},
        "monthlyLimit": {"old": "10.50", "new": "20"},
    }


async def test_unchanged_fields_are_left_out_and_no_change_stores_nothing(db: object) -> None:
    org = await make_org()
    actor = Actor.operator()

    entry = await record_change(
        org.id,
        actor,
        "organization.settings",
        "Organization",
        org.id,
        {"timezone": ("UTC", "UTC"), "logBodies": (False, True)},
    )
    nothing = await record_change(
        org.id,
        actor,
        "organization.settings",
        "Organization",
        org.id,
        {"timezone": ("UTC", "UTC")},
    )

    assert entry is not None and entry.changes == {"logBodies": {"old": False, "new": True}}
    assert (entry.actor_member_id, entry.actor_token_id, entry.via) == (None, None, "cli")
    assert nothing is None
    assert await AuditEntry.filter(organization_id=org.id).count() == 1


async def test_a_rolled_back_change_leaves_no_entry(db: object) -> None:
    org = await make_org()

    class Abort(Exception):
        pass

    try:
        async with in_transaction() as conn:
            await record_change(
                org.id,
                Actor.operator(),
                "member.role",
                "Member",
                1,
                {"role": ("MEMBER", "ADMIN")},
                connection=conn,
            )
            raise Abort
    except Abort:
        pass

    assert await AuditEntry.filter(organization_id=org.id).count() == 0
