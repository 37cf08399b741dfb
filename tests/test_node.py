"""Query.node: global ids answer only inside the viewer's scope, and every miss looks alike.

Another organization's id, another member's row (for a Member), an id of an unknown or
wrong type and an id that does not decode all answer `{"node": null}` with no error, so a
caller cannot tell "exists elsewhere" from "does not exist".
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models.api_key import ApiKey
from models.global_ids import encode_global_id
from models.member import Member, Role
from models.organization import Organization
from models.request_log import RequestLog
from tests.factories import make_key, make_member, make_org, make_record, make_token, store

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename
    id
    ... on RequestLog { requestId member { name } }
    ... on ApiKey { label }
    ... on Member { name }
    ... on Organization { name }
  }
}
"""
# Far above any id a test creates; such a row exists in no organization.
MISSING_PK = 900_000_000


@dataclass
class Tenant:
    org: Organization
    owner: Member
    admin: Member
    member: Member
    colleague: Member
    member_key: ApiKey
    colleague_key: ApiKey
    team_key: ApiKey
    member_log: RequestLog
    colleague_log: RequestLog


async def _tenant(name: str) -> Tenant:
    org = await make_org(name=name)
    owner = await make_member(org, Role.OWNER)
    admin = await make_member(org, Role.ADMIN)
    member = await make_member(org, Role.MEMBER, name=f"{name} member")
    colleague = await make_member(org, Role.MEMBER, name=f"{name} colleague")
    member_key = await make_key(org, member, label=f"{name} member key")
    colleague_key = await make_key(org, colleague, label=f"{name} colleague key")
    team_key = await make_key(org, None, label=f"{name} team key")
    now = datetime.now(UTC)
    mine = make_record(org, member_key, member, now - timedelta(minutes=1))
    theirs = make_record(org, colleague_key, colleague, now - timedelta(minutes=2))
    await store(mine, theirs)
    return Tenant(
        org,
        owner,
        admin,
        member,
        colleague,
        member_key,
        colleague_key,
        team_key,
        await RequestLog.get(request_id=mine.request_id),
        await RequestLog.get(request_id=theirs.request_id),
    )


@pytest.fixture
async def tenants(db: object) -> tuple[Tenant, Tenant]:
    return await _tenant("Acme"), await _tenant("Globex")


def _gid(thing: Organization | Member | ApiKey | RequestLog) -> str:
    return encode_global_id(type(thing).__name__, thing.id)


async def _raw_node(client: httpx.AsyncClient, viewer: Member, global_id: str) -> tuple[int, Any]:
    """The HTTP status and the whole JSON body, to compare answers byte for byte."""
    response = await client.post(
        "/graphql",
        json={"query": NODE, "variables": {"id": global_id}},
        headers={"Authorization": f"Bearer {await make_token(viewer)}"},
    )
    return response.status_code, response.json()


async def _node(client: httpx.AsyncClient, viewer: Member, global_id: str) -> Any:
    status, body = await _raw_node(client, viewer, global_id)
    assert status == 200
    assert "errors" not in body, body
    return body["data"]["node"]


async def test_a_member_finds_their_own_log(
    client: httpx.AsyncClient, tenants: tuple[Tenant, Tenant]
) -> None:
    acme, _ = tenants

    node = await _node(client, acme.member, _gid(acme.member_log))

    assert node == {
        "__typename": "RequestLog",
        "id": _gid(acme.member_log),
        "requestId": str(acme.member_log.request_id),
        "member": {"name": "Acme member"},
    }


async def test_a_member_looking_up_another_members_log_gets_null(
    client: httpx.AsyncClient, tenants: tuple[Tenant, Tenant]
) -> None:
    acme, _ = tenants

    assert await _node(client, acme.member, _gid(acme.colleague_log)) is None


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
async def test_admins_and_owners_find_any_members_log(
    client: httpx.AsyncClient, tenants: tuple[Tenant, Tenant], role: Role
) -> None:
    acme, _ = tenants
    viewer = acme.admin if role is Role.ADMIN else acme.owner

    node = await _node(client, viewer, _gid(acme.colleague_log))

    assert node["requestId"] == str(acme.colleague_log.request_id)
    assert node["member"] == {"name": "Acme colleague"}


async def test_a_member_finds_their_own_key_and_the_team_key_but_not_a_colleagues(
    client: httpx.AsyncClient, tenants: tuple[Tenant, Tenant]
) -> None:
    acme, _ = tenants

    own = await _node(client, acme.member, _gid(acme.member_key))
    team = await _node(client, acme.member, _gid(acme.team_key))
    colleagues = await _node(client, acme.member, _gid(acme.colleague_key))

    assert own["label"] == "Acme member key"
    assert team["label"] == "Acme team key"
    assert colleagues is None


async def test_a_member_finds_themselves_but_not_a_colleague(
    client: httpx.AsyncClient, tenants: tuple[Tenant, Tenant]
) -> None:
    acme, _ = tenants

    assert (await _node(client, acme.member, _gid(acme.member)))["name"] == "Acme member"
    assert await _node(client, acme.member, _gid(acme.colleague)) is None


async def test_every_role_finds_their_own_organization(
    client: httpx.AsyncClient, tenants: tuple[Tenant, Tenant]
) -> None:
    acme, _ = tenants

    for viewer in (acme.owner, acme.admin, acme.member):
        node = await _node(client, viewer, _gid(acme.org))
        assert node == {"__typename": "Organization", "id": _gid(acme.org), "name": "Acme"}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("type_name", ["RequestLog", "ApiKey", "Member", "Organization"])
async def test_another_organizations_id_answers_exactly_like_a_missing_one(
    client: httpx.AsyncClient, tenants: tuple[Tenant, Tenant], role: Role, type_name: str
) -> None:
    acme, globex = tenants
    viewer = {Role.OWNER: acme.owner, Role.ADMIN: acme.admin, Role.MEMBER: acme.member}[role]
    theirs = {
        "RequestLog": globex.member_log,
        "ApiKey": globex.team_key,
        "Member": globex.owner,
        "Organization": globex.org,
    }[type_name]

    elsewhere = await _raw_node(client, viewer, _gid(theirs))
    missing = await _raw_node(client, viewer, encode_global_id(type_name, MISSING_PK))

    assert elsewhere == missing
    status, body = elsewhere
    assert status == 200
    assert body["data"] == {"node": None}
    assert "errors" not in body


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "global_id",
    [
        "",
        "   ",
        "not an id!",
        "RequestLog:1",
        _b64(b"RequestLog"),
        _b64(b"RequestLog:"),
        _b64(b"RequestLog:abc"),
        _b64(b"RequestLog:-1"),
        _b64(b"RequestLog:1.5"),
        _b64("RequestLog:²".encode()),
        _b64(b"RequestLog:99999999999999999999"),
        _b64(b":1"),
        _b64(b"\xff\xfe:1"),
        "x" * 5000,
    ],
)
async def test_malformed_ids_answer_null(
    client: httpx.AsyncClient, tenants: tuple[Tenant, Tenant], global_id: str
) -> None:
    acme, _ = tenants

    assert await _node(client, acme.owner, global_id) is None


@pytest.mark.parametrize("type_name", ["Secret", "requestlog", "AccessToken", "Wallet"])
async def test_ids_of_types_that_are_not_nodes_answer_null(
    client: httpx.AsyncClient, tenants: tuple[Tenant, Tenant], type_name: str
) -> None:
    acme, _ = tenants

    node = await _node(client, acme.owner, encode_global_id(type_name, acme.member_log.id))

    assert node is None


async def test_a_log_number_under_another_type_name_is_not_the_log(
    client: httpx.AsyncClient, tenants: tuple[Tenant, Tenant]
) -> None:
    acme, _ = tenants
    # Store logs until one has a number no key, member or organization has: only the log
    # could match it.
    highest_other = max(
        (await ApiKey.all().order_by("-id").first() or acme.team_key).id,
        (await Member.all().order_by("-id").first() or acme.owner).id,
        (await Organization.all().order_by("-id").first() or acme.org).id,
    )
    needed = max(highest_other - acme.member_log.id, 0) + 1
    now = datetime.now(UTC)
    await store(*[make_record(acme.org, acme.member_key, acme.member, now) for _ in range(needed)])
    log = await RequestLog.filter(organization_id=acme.org.id).order_by("-id").first()
    assert log is not None and log.id > highest_other

    for type_name in ("ApiKey", "Member", "Organization"):
        assert await _node(client, acme.owner, encode_global_id(type_name, log.id)) is None
    assert (await _node(client, acme.owner, _gid(log)))["__typename"] == "RequestLog"
