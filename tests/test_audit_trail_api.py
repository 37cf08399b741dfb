"""Organization.auditTrail: a keyset-paginated connection, newest first, filtered, for Admins
and Owners only, scoped to the organization; entries are Nodes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from audit.trail import Actor, record_change
from auth.tokens import issue_token
from models.access_token import Scope
from models.audit import AuditEntry
from models.global_ids import encode_global_id
from models.member import Member, Role
from models.organization import Organization
from tests.factories import gql, make_ingest_token, make_member, make_org, make_token

TRAIL = """
query Trail($filter: AuditTrailFilter, $first: Int, $after: String) {
  organization {
    auditTrail(filter: $filter, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node {
        id createdAt action subjectType subjectId
        actor { member { id name email } tokenPrefix via }
        changes { field old new }
      } }
    }
  }
}
"""


@dataclass
class Team:
    org: Organization
    owner: Member
    admin: Member
    member: Member


@pytest.fixture
async def team(client: httpx.AsyncClient) -> Team:
    org = await make_org()
    members = [await make_member(org, role) for role in (Role.OWNER, Role.ADMIN, Role.MEMBER)]
    return Team(org, *members)


async def _trail(client: httpx.AsyncClient, token: str, **variables: Any) -> dict[str, Any]:
    result = await gql(client, token, TRAIL, **variables)
    assert result.errors is None, result.errors
    assert result.data is not None
    trail: dict[str, Any] = result.data["organization"]["auditTrail"]
    return trail


def _actions(trail: dict[str, Any]) -> list[str]:
    return [edge["node"]["action"] for edge in trail["edges"]]


async def _entry(
    org: Organization, action: str, actor: Actor | None = None, **fields: Any
) -> AuditEntry:
    entry = await record_change(
        org.id,
        actor or Actor.operator(),
        action,
        fields.get("subject_type", "ApiKey"),
        fields.get("subject_id", 1),
        fields.get("changes", {"label": ("a", "b")}),
    )
    assert entry is not None
    return entry


async def test_an_entry_shows_who_through_which_token_what_and_old_and_new(
    client: httpx.AsyncClient, team: Team
) -> None:
    issued = await issue_token(team.org.id, team.admin, "laptop", [Scope.READ, Scope.ADMIN])
    entry = await _entry(
        team.org,
        "apiKey.limit",
        Actor(member_id=team.admin.id, token_id=issued.record.id, via="graphql"),
        subject_id=42,
        changes={"monthlyLimit": (None, "250.5")},
    )

    trail = await _trail(client, await make_token(team.owner))

    assert trail["totalCount"] == 1
    assert trail["edges"][0]["node"] == {
        "id": encode_global_id("AuditEntry", entry.id),
        "createdAt": entry.created_at.astimezone(UTC).isoformat(),
        "action": "apiKey.limit",
        "subjectType": "ApiKey",
        "subjectId": encode_global_id("ApiKey", 42),
        "actor": {
            "member": {
                "id": encode_global_id("Member", team.admin.id),
                "name": team.admin.name,
                "email": team.admin.email,
            },
            "tokenPrefix": issued.record.prefix,
            "via": "graphql",
        },
        "changes": [{"field": "monthlyLimit", "old": None, "new": "250.5"}],
    }


async def test_a_server_change_has_no_member_and_no_token(
    client: httpx.AsyncClient, team: Team
) -> None:
    await _entry(team.org, "organization.settings", subject_type="Organization")

    trail = await _trail(client, await make_token(team.admin))

    assert trail["edges"][0]["node"]["actor"] == {"member": None, "tokenPrefix": None, "via": "cli"}


async def test_pages_run_newest_first_without_skipping_or_repeating(
    client: httpx.AsyncClient, team: Team
) -> None:
    for n in range(5):
        await _entry(team.org, f"test.step{n}")
    token = await make_token(team.admin)

    first = await _trail(client, token, first=2)
    second = await _trail(client, token, first=2, after=first["pageInfo"]["endCursor"])
    third = await _trail(client, token, first=2, after=second["pageInfo"]["endCursor"])

    assert _actions(first) + _actions(second) + _actions(third) == [
        "test.step4",
        "test.step3",
        "test.step2",
        "test.step1",
        "test.step0",
    ]
    assert [p["pageInfo"]["hasNextPage"] for p in (first, second, third)] == [True, True, False]


async def test_filters_narrow_by_action_actor_subject_and_time(
    client: httpx.AsyncClient, team: Team
) -> None:
    by_admin = Actor(member_id=team.admin.id, token_id=None, via="graphql")
    by_owner = Actor(member_id=team.owner.id, token_id=None, via="graphql")
    await _entry(team.org, "apiKey.limit", by_admin, subject_id=7)
    await _entry(team.org, "apiKey.limit", by_owner, subject_id=8)
    budget = await _entry(team.org, "organization.budget", by_admin, subject_type="Organization")
    token = await make_token(team.owner)

    by_action = await _trail(client, token, filter={"actions": ["apiKey.limit"]})
    by_actor = await _trail(
        client, token, filter={"actorMemberIds": [encode_global_id("Member", team.admin.id)]}
    )
    by_subject = await _trail(client, token, filter={"subjectId": encode_global_id("ApiKey", 8)})
    by_type = await _trail(client, token, filter={"subjectType": "Organization"})
    from_budget = await _trail(
        client, token, filter={"from": budget.created_at.astimezone(UTC).isoformat()}
    )
    nothing = await _trail(client, token, filter={"actions": []})

    assert by_action["totalCount"] == 2
    assert _actions(by_actor) == ["organization.budget", "apiKey.limit"]
    assert [e["node"]["actor"]["member"]["id"] for e in by_subject["edges"]] == [
        encode_global_id("Member", team.owner.id)
    ]
    assert _actions(by_type) == ["organization.budget"]
    assert "organization.budget" in _actions(from_budget)
    assert nothing["totalCount"] == 0


async def test_a_time_range_that_ends_before_it_starts_is_bad_input(
    client: httpx.AsyncClient, team: Team
) -> None:
    at = datetime(2026, 5, 1, tzinfo=UTC).isoformat()

    result = await gql(client, await make_token(team.admin), TRAIL, filter={"from": at, "to": at})

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["message"] == "filter.to: must be after filter.from"


async def test_an_undecodable_cursor_is_bad_input(client: httpx.AsyncClient, team: Team) -> None:
    result = await gql(client, await make_token(team.admin), TRAIL, after="nope")

    assert result.error_codes == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    ("role", "scopes", "allowed"),
    [
        (Role.OWNER, None, True),
        (Role.ADMIN, None, True),
        (Role.ADMIN, [Scope.READ], True),
        (Role.MEMBER, None, False),
    ],
)
async def test_only_admins_and_owners_read_the_trail(
    client: httpx.AsyncClient, team: Team, role: Role, scopes: list[Scope] | None, allowed: bool
) -> None:
    await _entry(team.org, "apiKey.limit")
    person = {Role.OWNER: team.owner, Role.ADMIN: team.admin, Role.MEMBER: team.member}[role]

    result = await gql(client, await make_token(person, scopes), TRAIL)

    if allowed:
        assert result.errors is None
        assert result.data is not None
        assert result.data["organization"]["auditTrail"]["totalCount"] == 1
    else:
        assert result.error_codes == ["FORBIDDEN"]


async def test_an_ingest_token_cannot_read_the_trail(client: httpx.AsyncClient, team: Team) -> None:
    result = await gql(client, await make_ingest_token(team.org), TRAIL)

    assert result.error_codes == ["FORBIDDEN"]


async def test_another_organizations_entries_are_neither_listed_nor_nodes(
    client: httpx.AsyncClient, team: Team
) -> None:
    other = await make_org()
    other_admin = await make_member(other, Role.ADMIN)
    theirs = await _entry(
        other, "apiKey.limit", Actor(member_id=other_admin.id, token_id=None, via="graphql")
    )
    token = await make_token(team.admin)

    trail = await _trail(
        client, token, filter={"actorMemberIds": [encode_global_id("Member", other_admin.id)]}
    )
    node = await gql(
        client,
        token,
        "query N($id: ID!) { node(id: $id) { id } }",
        id=encode_global_id("AuditEntry", theirs.id),
    )

    assert trail["totalCount"] == 0
    assert node.data == {"node": None}


async def test_an_entry_is_a_node_for_admins_but_not_for_members(
    client: httpx.AsyncClient, team: Team
) -> None:
    entry = await _entry(team.org, "apiKey.limit")
    gid = encode_global_id("AuditEntry", entry.id)
    query = "query N($id: ID!) { node(id: $id) { ... on AuditEntry { id action } } }"

    as_admin = await gql(client, await make_token(team.admin), query, id=gid)
    as_member = await gql(client, await make_token(team.member), query, id=gid)

    assert as_admin.data == {"node": {"id": gid, "action": "apiKey.limit"}}
    assert as_member.data == {"node": None}
