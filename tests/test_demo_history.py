"""The demo reads like a real history: everything existed before its first request, the
revoked key stopped at its revocation, and the unusual-activity rule finds the runaway."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alerts.rules import evaluate_due_rules
from cli.demo_data import HISTORY, TEAM_KEYS, demo_key_prefix, seed_demo
from models.access_token import AccessToken
from models.alert import AlertEvent, AlertKind
from models.api_key import ApiKey, KeyStatus
from models.database import Params, current_dialect, fetch_all, parse_db_datetime
from models.global_ids import encode_global_id
from models.member import Member
from models.organization import Organization
from settings import Settings

NOW = datetime(2025, 6, 11, 15, 0, tzinfo=UTC)
DEMO_DOC = (Path(__file__).resolve().parent.parent / "docs" / "readme" / "demo.md").read_text()


async def _first_requests(column: str) -> dict[int, datetime]:
    rows = await fetch_all(
        f"SELECT {column} AS owner, MIN(timestamp) AS first FROM request_log "
        f"WHERE {column} IS NOT NULL GROUP BY {column}",
        Params(current_dialect()),
    )
    return {int(r["owner"]): parse_db_datetime(r["first"]) for r in rows}


async def test_organizations_members_keys_and_tokens_exist_before_their_first_request(
    db: Settings,
) -> None:
    await seed_demo(1500, now=NOW)

    for column, model in (
        ("organization_id", Organization),
        ("member_id", Member),
        ("api_key_id", ApiKey),
    ):
        first = await _first_requests(column)
        created = {o.id: o.created_at for o in await model.all()}
        assert set(first) <= set(created)
        assert [i for i, at in first.items() if created[i] > at] == [], model.__name__
    org_first = await _first_requests("organization_id")
    member_first = await _first_requests("member_id")
    tokens = await AccessToken.all()
    assert min(org_first.values()) >= NOW - HISTORY
    assert len(tokens) == 5  # Owner, Admin, Member, ingest and directory sync
    # Nobody has left: every member who ever made a request is still a member.
    assert await Member.filter(removed_at__isnull=False).count() == 0
    first_use = {
        t.name: member_first[t.member_id] if t.member_id else org_first[t.organization_id]
        for t in tokens
    }
    assert [t.name for t in tokens if t.created_at > first_use[t.name]] == []


async def test_the_revoked_key_has_no_requests_after_its_revocation(db: Settings) -> None:
    await seed_demo(1500, now=NOW)
    revoked_plan = next(p for p in TEAM_KEYS if p.revoked is not None)
    assert revoked_plan.revoked is not None
    revoked_at = NOW - revoked_plan.revoked

    keys = await ApiKey.filter(label=revoked_plan.label)
    last = await fetch_all(
        "SELECT MAX(timestamp) AS last FROM request_log WHERE api_key_id IN "
        f"({', '.join(str(k.id) for k in keys)})",
        Params(current_dialect()),
    )
    replacements = await ApiKey.filter(label="CI runner")

    assert [(k.status, k.status_reason, k.revoked_at) for k in keys] == [
        (KeyStatus.REVOKED, "Rotated after it appeared in a CI log", revoked_at)
    ] * 3
    assert parse_db_datetime(last[0]["last"]) < revoked_at
    assert {k.created_at for k in replacements} == {revoked_at}


async def test_the_unusual_activity_rule_fires_on_the_demo(db: Settings) -> None:
    await seed_demo(1500, now=NOW)
    batch = await ApiKey.get(label="Batch jobs", organization__slug="acme-ai")

    report = await evaluate_due_rules(NOW + timedelta(minutes=1), timedelta(seconds=60))

    events = await AlertEvent.all()
    assert (report.checked, report.fired) == (3, 1)
    assert [(e.kind, e.api_key_id_subject) for e in events] == [
        (AlertKind.UNUSUAL_ACTIVITY, batch.id)
    ]
    assert events[0].message == (
        "Unusual activity for API key 'Batch jobs': 180 requests and $1.850228125 in the last "
        "60 minutes, against a usual 0 requests and $0.00 at this time of week (mean of the "
        "last 4 weeks); the rule fires at 3x."
    )


async def test_the_key_prefixes_in_the_demo_doc_are_the_demo_s(db: Settings) -> None:
    await seed_demo(300, now=NOW)
    row = r"^\| (\d+) \| `(\w+)` \| ([^|]+?) \| `(sk-aize-\w+)` \|"
    documented = re.findall(row, DEMO_DOC, re.M)
    keys = {k.id: k for k in await ApiKey.filter(organization__slug="acme-ai")}

    assert len(documented) >= 5
    for key_id, global_id, label, prefix in documented:
        key = keys[int(key_id)]
        assert (key.label, key.prefix) == (label, prefix)
        assert prefix == demo_key_prefix("acme-ai", label)
        assert global_id == encode_global_id("ApiKey", key.id)
