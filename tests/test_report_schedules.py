"""Report schedules through GraphQL: setReportSchedule, removeReportSchedule and
Organization.reportSchedules, by role and token scope, another tenant's ids, input checks
naming the field, and the audit entry each change writes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from models.access_token import Scope
from models.audit import AuditEntry
from models.global_ids import encode_global_id
from models.member import Member, Role
from models.organization import Organization
from models.report import ReportKind
from models.report_schedule import ReportSchedule
from tests.factories import gql, make_ingest_token, make_member, make_org, make_token

FIELDS = "id kind hour weekday dayOfMonth emails webhookUrl webhookSecretHint"
SET = f"""
mutation Set($input: SetReportScheduleInput!) {{
  setReportSchedule(input: $input) {{ webhookSecret schedule {{ {FIELDS} }} }}
}}
"""
REMOVE = "mutation Remove($id: ID!) { removeReportSchedule(id: $id) }"
LIST = f"{{ organization {{ reportSchedules {{ {FIELDS} }} }} }}"
WEEKLY = {"kind": "WEEKLY", "hour": 9, "weekday": 3, "emails": ["cfo@example.com"]}


@dataclass
class Team:
    org: Organization
    owner: Member
    admin: Member
    member: Member


@pytest.fixture
async def team(client: httpx.AsyncClient) -> Team:
    org = await make_org(timezone="Asia/Kathmandu")
    members = [await make_member(org, role) for role in (Role.OWNER, Role.ADMIN, Role.MEMBER)]
    return Team(org, *members)


async def _set(client: httpx.AsyncClient, token: str, **fields: Any) -> dict[str, Any]:
    result = await gql(client, token, SET, input=fields)
    assert result.errors is None, result.errors
    assert result.data is not None
    payload: dict[str, Any] = result.data["setReportSchedule"]
    return payload


async def test_an_admin_schedules_a_weekly_report_and_lists_it(
    client: httpx.AsyncClient, team: Team
) -> None:
    token = await make_token(team.admin)

    payload = await _set(client, token, **WEEKLY)
    listed = await gql(client, token, LIST)

    schedule = payload["schedule"]
    assert payload["webhookSecret"] is None
    assert {k: schedule[k] for k in ("kind", "hour", "weekday", "dayOfMonth", "emails")} == {
        "kind": "WEEKLY",
        "hour": 9,
        "weekday": 3,
        "dayOfMonth": None,
        "emails": ["cfo@example.com"],
    }
    assert listed.data == {"organization": {"reportSchedules": [schedule]}}


async def test_a_webhook_gets_a_generated_secret_shown_once_and_kept_for_the_same_url(
    client: httpx.AsyncClient, team: Team
) -> None:
    token = await make_token(team.owner)
    hook = "https://hooks.example.com/reports/T0/SECRETPATH"

    first = await _set(client, token, kind="DAILY", hour=6, webhookUrl=hook)
    again = await _set(client, token, kind="DAILY", hour=7, webhookUrl=hook)

    secret = first["webhookSecret"]
    assert secret.startswith("whsec_") and again["webhookSecret"] is None
    assert again["schedule"]["webhookSecretHint"] == "…" + secret[-4:]
    assert again["schedule"]["webhookUrl"] == "https://hooks.example.com/…"
    stored = await ReportSchedule.get(organization_id=team.org.id, kind=ReportKind.DAILY)
    assert (stored.hour, stored.webhook_secret, stored.webhook_url) == (7, secret, hook)


async def test_setting_a_kind_again_replaces_its_schedule(
    client: httpx.AsyncClient, team: Team
) -> None:
    token = await make_token(team.admin)

    await _set(client, token, **WEEKLY)
    await _set(client, token, kind="WEEKLY", hour=0)

    [stored] = await ReportSchedule.filter(organization_id=team.org.id)
    assert (stored.hour, stored.weekday, stored.emails) == (0, 1, [])


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "DAILY", "hour": 24}, "hour: a local hour from 0 to 23, got 24"),
        ({"kind": "WEEKLY", "weekday": 8}, "weekday: 1 (Monday) to 7 (Sunday), got 8"),
        ({"kind": "DAILY", "weekday": 2}, "weekday: only WEEKLY schedules have one, not DAILY"),
        ({"kind": "MONTHLY", "dayOfMonth": 29}, "dayOfMonth: 1 to 28 (every month has it), got 29"),
        (
            {"kind": "WEEKLY", "dayOfMonth": 3},
            "dayOfMonth: only MONTHLY schedules have one, not WEEKLY",
        ),
        (
            {"kind": "DAILY", "emails": ["ok@example.com", "not an address"]},
            "emails[1]: must be one email address such as ops@example.com",
        ),
        (
            {"kind": "DAILY", "emails": [f"p{i}@example.com" for i in range(21)]},
            "emails: at most 20 addresses",
        ),
        (
            {"kind": "DAILY", "webhookUrl": "ftp://example.com/x"},
            "webhookUrl: must be an http:// or https:// URL",
        ),
        (
            {"kind": "DAILY", "webhookSecret": "whsec_0123456789abcdef"},
            "webhookSecret: only a schedule with a webhookUrl has a secret",
        ),
    ],
)
async def test_bad_schedule_input_is_refused_naming_the_field(
    client: httpx.AsyncClient, team: Team, fields: dict[str, Any], message: str
) -> None:
    result = await gql(client, await make_token(team.admin), SET, input=fields)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None and result.errors[0]["message"] == message
    assert await ReportSchedule.filter(organization_id=team.org.id).count() == 0
    assert await AuditEntry.filter(organization_id=team.org.id).count() == 0


@pytest.mark.parametrize(
    ("role", "scopes", "allowed"),
    [
        (Role.OWNER, None, True),
        (Role.ADMIN, None, True),
        (Role.MEMBER, None, False),
        (Role.OWNER, [Scope.READ], False),
        (Role.ADMIN, [Scope.READ, Scope.EXPORT], False),
        (Role.ADMIN, [Scope.READ, Scope.ADMIN], True),
    ],
)
async def test_who_may_set_and_remove_a_schedule(
    client: httpx.AsyncClient,
    team: Team,
    role: Role,
    scopes: list[Scope] | None,
    allowed: bool,
) -> None:
    person = {Role.OWNER: team.owner, Role.ADMIN: team.admin, Role.MEMBER: team.member}[role]
    token = await make_token(person, scopes)
    existing = await ReportSchedule.create(
        organization=team.org, kind=ReportKind.DAILY, hour=6, emails=[]
    )

    set_result = await gql(client, token, SET, input=WEEKLY)
    gid = encode_global_id("ReportSchedule", existing.id)
    remove_result = await gql(client, token, REMOVE, id=gid)

    if allowed:
        assert set_result.errors is None and remove_result.errors is None
        assert remove_result.data == {"removeReportSchedule": gid}
        assert [s.kind for s in await ReportSchedule.filter(organization_id=team.org.id)] == [
            ReportKind.WEEKLY
        ]
    else:
        assert set_result.error_codes == ["FORBIDDEN"]
        assert remove_result.error_codes == ["FORBIDDEN"]
        assert await ReportSchedule.filter(organization_id=team.org.id).count() == 1
        assert await AuditEntry.filter(organization_id=team.org.id).count() == 0


async def test_an_ingest_token_can_neither_set_nor_list_schedules(
    client: httpx.AsyncClient, team: Team
) -> None:
    token = await make_ingest_token(team.org)

    set_result = await gql(client, token, SET, input=WEEKLY)
    listed = await gql(client, token, LIST)

    assert set_result.error_codes == ["FORBIDDEN"]
    assert listed.error_codes == ["FORBIDDEN"]
    assert await ReportSchedule.filter(organization_id=team.org.id).count() == 0


async def test_a_member_cannot_list_the_schedules(client: httpx.AsyncClient, team: Team) -> None:
    await ReportSchedule.create(organization=team.org, kind=ReportKind.DAILY, hour=6, emails=[])

    listed = await gql(client, await make_token(team.member), LIST)

    assert listed.error_codes == ["FORBIDDEN"]


async def test_another_tenants_schedule_id_is_not_found_like_a_missing_one(
    client: httpx.AsyncClient, team: Team
) -> None:
    other = await make_org()
    theirs = await ReportSchedule.create(
        organization=other, kind=ReportKind.DAILY, hour=6, emails=[]
    )
    token = await make_token(team.admin)

    foreign = await gql(client, token, REMOVE, id=encode_global_id("ReportSchedule", theirs.id))
    missing = await gql(client, token, REMOVE, id=encode_global_id("ReportSchedule", 99_999_999))
    node = await gql(
        client,
        token,
        "query N($id: ID!) { node(id: $id) { id } }",
        id=encode_global_id("ReportSchedule", theirs.id),
    )

    assert foreign.error_codes == missing.error_codes == ["NOT_FOUND"]
    assert foreign.errors is not None and missing.errors is not None
    assert foreign.errors[0]["message"] == missing.errors[0]["message"]
    assert node.data == {"node": None}
    assert await ReportSchedule.filter(id=theirs.id).exists()


async def test_setting_and_removing_a_schedule_each_write_one_audit_entry(
    client: httpx.AsyncClient, team: Team
) -> None:
    token = await make_token(team.admin)
    payload = await _set(client, token, **WEEKLY)
    await _set(client, token, kind="WEEKLY", hour=9, weekday=5, emails=["cfo@example.com"])
    await gql(client, token, REMOVE, id=payload["schedule"]["id"])

    entries = await AuditEntry.filter(organization_id=team.org.id).order_by("id")

    schedule_id = (await AuditEntry.filter(organization_id=team.org.id).first()).subject_id
    assert [(e.action, e.subject_type, e.subject_id) for e in entries] == [
        ("reportSchedule.set", "ReportSchedule", schedule_id),
        ("reportSchedule.set", "ReportSchedule", schedule_id),
        ("reportSchedule.remove", "ReportSchedule", schedule_id),
    ]
    assert all((e.actor_member_id, e.via) == (team.admin.id, "graphql") for e in entries)
    assert entries[0].changes == {
        "kind": {"old": None, "new": "WEEKLY"},
        "hour": {"old": None, "new": 9},
        "weekday": {"old": None, "new": 3},
        "emails": {"old": None, "new": ["cfo@example.com"]},
    }
    assert entries[1].changes == {"weekday": {"old": 3, "new": 5}}
    assert entries[2].changes == {
        "kind": {"old": "WEEKLY", "new": None},
        "hour": {"old": 9, "new": None},
        "weekday": {"old": 5, "new": None},
        "emails": {"old": ["cfo@example.com"], "new": None},
    }


async def test_two_admins_setting_one_kind_at_once_leave_one_schedule_and_two_entries(
    client: httpx.AsyncClient, team: Team
) -> None:
    owner, admin = await make_token(team.owner), await make_token(team.admin)

    results = await asyncio.gather(
        gql(client, owner, SET, input={"kind": "DAILY", "hour": 6}),
        gql(client, admin, SET, input={"kind": "DAILY", "hour": 7}),
    )

    assert [r.errors for r in results] == [None, None]
    [stored] = await ReportSchedule.filter(organization_id=team.org.id)
    entries = await AuditEntry.filter(organization_id=team.org.id).order_by("id")
    # The second change replaced the first, and the trail says so in the order they committed.
    assert [e.changes["hour"]["new"] for e in entries] == [
        entries[0].changes["hour"]["new"],
        stored.hour,
    ]
    assert entries[0].changes["kind"] == {"old": None, "new": "DAILY"}
    assert entries[1].changes == {
        "hour": {"old": entries[0].changes["hour"]["new"], "new": stored.hour}
    }
