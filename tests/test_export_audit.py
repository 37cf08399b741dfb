"""GET /export/audit.{csv,jsonl}: the audit trail as a file, exactly the connection's rows,
for Admins and Owners with the export scope, charged like every export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from audit.trail import Actor, record_change
from exports.audit import audit_export
from models.access_token import Scope
from models.global_ids import encode_global_id
from models.member import Member, Role
from models.organization import Organization
from resolvers.audit_trail import AuditFilter
from resolvers.scope import Scope as ReadScope
from settings import Settings
from tests.factories import make_ingest_token, make_member, make_org, make_token


@dataclass
class Team:
    org: Organization
    owner: Member
    member: Member


@pytest.fixture
async def team(db: object) -> Team:
    org = await make_org(slug="acme-ai")
    owner = await make_member(org, Role.OWNER, name="Ada", email="ada@acme.test")
    member = await make_member(org, Role.MEMBER)
    by_owner = Actor(member_id=owner.id, token_id=None, via="graphql")
    await record_change(
        org.id, by_owner, "apiKey.limit", "ApiKey", 5, {"monthlyLimit": (None, "100")}
    )
    await record_change(
        org.id,
        Actor.operator(),
        "organization.budget",
        "Organization",
        org.id,
        {"monthlyBudget": ("10", "=1+1")},
    )
    return Team(org, owner, member)


async def _get(client: httpx.AsyncClient, token: str, path: str) -> httpx.Response:
    return await client.get(path, headers={"Authorization": f"Bearer {token}"})


async def test_json_lines_hold_every_entry_newest_first_with_its_actor_and_changes(
    client: httpx.AsyncClient, team: Team
) -> None:
    response = await _get(client, await make_token(team.owner), "/export/audit.jsonl")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["content-disposition"] == 'attachment; filename="audit_acme-ai.jsonl"'
    rows = [orjson.loads(line) for line in response.content.splitlines()]
    assert [row["action"] for row in rows] == ["organization.budget", "apiKey.limit"]
    budget, limit = rows
    assert {k: budget[k] for k in ("actorMemberId", "actorName", "tokenPrefix", "via")} == {
        "actorMemberId": None,
        "actorName": None,
        "tokenPrefix": None,
        "via": "cli",
    }
    assert limit["actorMemberId"] == encode_global_id("Member", team.owner.id)
    assert (limit["actorName"], limit["actorEmail"]) == ("Ada", "ada@acme.test")
    assert limit["subjectId"] == encode_global_id("ApiKey", 5)
    assert limit["changes"] == {"monthlyLimit": {"old": None, "new": "100"}}


async def test_csv_rows_parse_back_and_names_that_look_like_formulas_are_neutralized(
    client: httpx.AsyncClient, team: Team
) -> None:
    sneaky = await make_member(team.org, Role.ADMIN, name="=1+1")
    by_sneaky = Actor(member_id=sneaky.id, token_id=None, via="graphql")
    await record_change(team.org.id, by_sneaky, "apiKey.limit", "ApiKey", 6, {"x": (1, 2)})

    response = await _get(client, await make_token(team.owner), "/export/audit.csv")

    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["action"] for row in rows] == [
        "apiKey.limit",
        "organization.budget",
        "apiKey.limit",
    ]
    assert rows[0]["actorName"] == "'=1+1"
    assert orjson.loads(rows[2]["changes"]) == {"monthlyLimit": {"old": None, "new": "100"}}
    assert orjson.loads(rows[1]["changes"]) == {"monthlyBudget": {"old": "10", "new": "=1+1"}}


async def test_filters_narrow_the_export_as_they_narrow_the_connection(
    client: httpx.AsyncClient, team: Team
) -> None:
    token = await make_token(team.owner)
    member_gid = encode_global_id("Member", team.owner.id)

    by_action = await _get(client, token, "/export/audit.jsonl?actions=organization.budget")
    by_actor = await _get(client, token, f"/export/audit.jsonl?actorMemberIds={member_gid}")

    assert [orjson.loads(x)["action"] for x in by_action.content.splitlines()] == [
        "organization.budget"
    ]
    assert [orjson.loads(x)["action"] for x in by_actor.content.splitlines()] == ["apiKey.limit"]


async def test_an_export_is_charged_like_every_export(
    client: httpx.AsyncClient, team: Team, db: Settings
) -> None:
    response = await _get(client, await make_token(team.owner), "/export/audit.csv")

    charged = int(response.headers["x-ratelimit-limit"]) - int(
        response.headers["x-ratelimit-remaining"]
    )
    assert charged == db.max_query_cost


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/export/audit.jsonl?limit=5", "limit: unknown parameter"),
        ("/export/audit.jsonl?from=yesterday", "from: 'yesterday' is not an ISO 8601 date-time"),
        (
            "/export/audit.jsonl?from=2026-05-02T00:00:00Z&to=2026-05-01T00:00:00Z",
            "filter.to: must be after filter.from",
        ),
        ("/export/audit.xml", "format: expected csv or jsonl, got 'xml'"),
    ],
)
async def test_bad_parameters_get_400_naming_the_parameter(
    client: httpx.AsyncClient, team: Team, path: str, message: str
) -> None:
    response = await _get(client, await make_token(team.owner), path)

    assert response.status_code == 400
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith(message)


async def test_members_ingest_tokens_and_tokens_without_export_get_403(
    client: httpx.AsyncClient, team: Team
) -> None:
    as_member = await _get(client, await make_token(team.member), "/export/audit.csv")
    as_ingest = await _get(client, await make_ingest_token(team.org), "/export/audit.csv")
    no_export = await _get(
        client, await make_token(team.owner, [Scope.READ, Scope.ADMIN]), "/export/audit.csv"
    )
    anonymous = await client.get("/export/audit.csv")

    assert [r.status_code for r in (as_member, as_ingest, no_export, anonymous)] == [
        403,
        403,
        403,
        401,
    ]


async def test_another_organizations_entries_never_appear(
    client: httpx.AsyncClient, team: Team
) -> None:
    other = await make_org()
    other_owner = await make_member(other, Role.OWNER)

    response = await _get(client, await make_token(other_owner), "/export/audit.jsonl")

    assert response.status_code == 200
    assert response.content == b""


async def test_chunks_continue_exactly_after_each_other(team: Team) -> None:
    for n in range(5):
        await record_change(
            team.org.id, Actor.operator(), "test.step", "ApiKey", n, {"n": (None, n)}
        )

    export = await audit_export(
        ReadScope.for_organization(team.org.id), AuditFilter(actions=("test.step",)), chunk_rows=2
    )
    chunks = [chunk async for chunk in export.chunks]

    assert [len(chunk) for chunk in chunks] == [2, 2, 1]
    assert [row[-1] for chunk in chunks for row in chunk] == [
        {"n": {"old": None, "new": n}} for n in (4, 3, 2, 1, 0)
    ]
