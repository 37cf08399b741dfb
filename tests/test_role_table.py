"""The role table ("Who sees what" in DESIGN.md), one test per cell and role.

Where each cell is tested (Member / Admin / Owner):
- own requests (yes / yes / yes): here, requestLogs.
- own costs (yes / yes / yes): here, the log cost fields; totals in tests/test_usage_*.py.
- team requests (silently no / yes / yes): here, requestLogs.
- team costs (silently no / yes / yes): here, the log cost fields; totals in
  tests/test_usage_*.py.
- other members' logs named in memberIds (FORBIDDEN / yes / yes): here; node lookups of
  another member's log in tests/test_node.py.
- all API keys, organization.apiKeys (own keys only / yes / yes): here.
- members listing, organization.members (only themselves / yes / yes): here.
- cost breakdowns by member, by key, team trends (no / yes / yes): tests/test_usage_*.py.
- export data (no / yes / yes): tests/test_export_*.py, with the export issue.
- the organization's monthly budget, organization.monthlyBudget (null, as
  currentSpend.budget / yes / yes): here, through organization, viewer.organization and
  node(id:).
- the organization's pricing and settings (markupPercent, fixedFee, tier, timezone,
  billingAnchorDay, logBodies: yes / yes / yes; a Member sees markup and fee on their own
  logs anyway): here.

Every organization below has the seed's pricing (25% markup, $0.01 fee), so each request at
a $0.10 provider cost costs the customer exactly $0.135, and a $2,500 monthly budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from models.api_key import ApiKey
from models.global_ids import encode_global_id
from models.member import Member, Role
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

LOGS = """
query Logs($filter: UsageFilter) {
  organization {
    requestLogs(filter: $filter) {
      totalCount
      edges { node { requestId member { name } providerCost markup fixedFee customerCost } }
    }
  }
}
"""
API_KEYS = "{ organization { apiKeys { label } } }"
MEMBERS = "{ organization { members { name role } } }"

SEED_COSTS = {
    "providerCost": "0.10",
    "markup": "0.025",
    "fixedFee": "0.01",
    "customerCost": "0.135",
}


@dataclass
class Organization:
    people: dict[Role, Member]
    colleague: Member
    keys: dict[str, ApiKey]
    id: int

    def person(self, role: Role) -> Member:
        return self.people[role]


@pytest.fixture
async def organization(db: object) -> Organization:
    """An Owner, an Admin, a Member and a colleague (another Member); each has a personal
    key and made two requests with it, and the colleague one more with the team key."""
    org = await make_org(
        markup_bps=2500, fixed_fee_nanos=10_000_000, monthly_budget_nanos=2500 * 10**9
    )
    people = {
        role: await make_member(org, role, name=f"{role.value.title()} Person") for role in Role
    }
    colleague = await make_member(org, Role.MEMBER, name="Colleague Person")
    keys = {
        person.name: await make_key(org, person, label=f"{person.name}'s key")
        for person in [*people.values(), colleague]
    }
    keys["team"] = await make_key(org, None, label="Team key")
    now = datetime.now(UTC)
    records = [
        make_record(org, keys[person.name], person, now - timedelta(minutes=minutes))
        for person in [*people.values(), colleague]
        for minutes in (1, 2)
    ]
    records.append(make_record(org, keys["team"], colleague, now - timedelta(minutes=3)))
    await store(*records)
    return Organization(people, colleague, keys, org.id)


def _gid(member: Member) -> str:
    return encode_global_id("Member", member.id)


async def _logs(
    client: httpx.AsyncClient, viewer: Member, **filter: Any
) -> tuple[int, list[dict[str, Any]]]:
    result = await gql(client, await make_token(viewer), LOGS, filter=filter)
    assert result.errors is None, result.errors
    assert result.data is not None
    connection = result.data["organization"]["requestLogs"]
    return connection["totalCount"], [edge["node"] for edge in connection["edges"]]


def _names(nodes: list[dict[str, Any]]) -> list[str]:
    return sorted(node["member"]["name"] for node in nodes)


# Own requests and own costs: every role.


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_sees_their_own_requests(
    client: httpx.AsyncClient, organization: Organization, role: Role
) -> None:
    viewer = organization.person(role)

    total, nodes = await _logs(client, viewer, onlyMine=True)

    assert total == 2
    assert _names(nodes) == [viewer.name, viewer.name]


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_sees_the_costs_of_their_own_requests(
    client: httpx.AsyncClient, organization: Organization, role: Role
) -> None:
    _, nodes = await _logs(client, organization.person(role), onlyMine=True)

    assert [{k: node[k] for k in SEED_COSTS} for node in nodes] == [SEED_COSTS, SEED_COSTS]


# Team requests and team costs: Admins and Owners; a Member is silently limited to their own.


async def test_a_member_does_not_see_team_requests(
    client: httpx.AsyncClient, organization: Organization
) -> None:
    member = organization.person(Role.MEMBER)

    total, nodes = await _logs(client, member)

    assert total == 2
    assert _names(nodes) == [member.name, member.name]


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
async def test_admins_and_owners_see_team_requests(
    client: httpx.AsyncClient, organization: Organization, role: Role
) -> None:
    total, nodes = await _logs(client, organization.person(role))

    assert total == 9
    assert _names(nodes) == sorted(
        [p.name for p in organization.people.values() for _ in (1, 2)]
        + [organization.colleague.name] * 3
    )


async def test_a_member_does_not_see_team_costs(
    client: httpx.AsyncClient, organization: Organization
) -> None:
    _, nodes = await _logs(client, organization.person(Role.MEMBER))

    assert sum(Decimal(node["customerCost"]) for node in nodes) == Decimal("0.270")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
async def test_admins_and_owners_see_team_costs(
    client: httpx.AsyncClient, organization: Organization, role: Role
) -> None:
    _, nodes = await _logs(client, organization.person(role))

    assert sum(Decimal(node["customerCost"]) for node in nodes) == Decimal("1.215")
    assert all({k: node[k] for k in SEED_COSTS} == SEED_COSTS for node in nodes)


# Other members' logs, asked for by name: a permission error for a Member, never an empty page.


async def test_a_member_asking_for_another_members_logs_is_forbidden(
    client: httpx.AsyncClient, organization: Organization
) -> None:
    member = organization.person(Role.MEMBER)

    result = await gql(
        client,
        await make_token(member),
        LOGS,
        filter={"memberIds": [_gid(organization.colleague)]},
    )

    assert result.error_codes == ["FORBIDDEN"]
    assert result.data is None


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
async def test_admins_and_owners_see_another_members_logs(
    client: httpx.AsyncClient, organization: Organization, role: Role
) -> None:
    colleague = organization.colleague

    total, nodes = await _logs(client, organization.person(role), memberIds=[_gid(colleague)])

    assert total == 3
    assert _names(nodes) == [colleague.name] * 3


# All API keys: Admins and Owners; a Member lists only their own (not team keys).


async def test_a_member_lists_only_their_own_api_keys(
    client: httpx.AsyncClient, organization: Organization
) -> None:
    member = organization.person(Role.MEMBER)

    result = await gql(client, await make_token(member), API_KEYS)

    assert result.errors is None
    assert result.data == {"organization": {"apiKeys": [{"label": "Member Person's key"}]}}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
async def test_admins_and_owners_list_every_api_key(
    client: httpx.AsyncClient, organization: Organization, role: Role
) -> None:
    result = await gql(client, await make_token(organization.person(role)), API_KEYS)

    assert result.errors is None
    assert result.data is not None
    labels = sorted(key["label"] for key in result.data["organization"]["apiKeys"])
    assert labels == sorted(key.label for key in organization.keys.values())


# Members listing: Admins and Owners see everyone; a Member only themselves.


async def test_a_member_lists_only_themselves_as_members(
    client: httpx.AsyncClient, organization: Organization
) -> None:
    member = organization.person(Role.MEMBER)

    result = await gql(client, await make_token(member), MEMBERS)

    assert result.errors is None
    assert result.data == {
        "organization": {"members": [{"name": "Member Person", "role": "MEMBER"}]}
    }


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
async def test_admins_and_owners_list_every_member(
    client: httpx.AsyncClient, organization: Organization, role: Role
) -> None:
    result = await gql(client, await make_token(organization.person(role)), MEMBERS)

    assert result.errors is None
    assert result.data is not None
    assert sorted(m["name"] for m in result.data["organization"]["members"]) == [
        "Admin Person",
        "Colleague Person",
        "Member Person",
        "Owner Person",
    ]


# The monthly budget is team information: null for a Member (as currentSpend.budget) on every
# path to the organization; Admins and Owners read it.

BUDGET_PATHS = {
    "organization": ("{ organization { monthlyBudget } }", ("organization",)),
    "viewer.organization": (
        "{ viewer { organization { monthlyBudget } } }",
        ("viewer", "organization"),
    ),
    "node": (
        "query N($id: ID!) { node(id: $id) { ... on Organization { monthlyBudget } } }",
        ("node",),
    ),
}


async def _monthly_budget(
    client: httpx.AsyncClient, organization: Organization, role: Role, path: str
) -> object:
    query, keys = BUDGET_PATHS[path]
    token = await make_token(organization.person(role))
    result = await gql(client, token, query, id=encode_global_id("Organization", organization.id))
    assert result.errors is None, result.errors
    answer: Any = result.data
    for key in keys:
        answer = answer[key]
    return answer["monthlyBudget"]


@pytest.mark.parametrize("path", list(BUDGET_PATHS))
async def test_a_member_reads_a_null_monthly_budget(
    client: httpx.AsyncClient, organization: Organization, path: str
) -> None:
    assert await _monthly_budget(client, organization, Role.MEMBER, path) is None


@pytest.mark.parametrize("path", list(BUDGET_PATHS))
@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
async def test_admins_and_owners_read_the_monthly_budget(
    client: httpx.AsyncClient, organization: Organization, role: Role, path: str
) -> None:
    assert await _monthly_budget(client, organization, role, path) == "2500.00"


# Pricing and settings: every role (a Member sees markup and fee on their own logs anyway).


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_reads_the_organizations_pricing_and_settings(
    client: httpx.AsyncClient, organization: Organization, role: Role
) -> None:
    query = "{ organization { markupPercent fixedFee tier timezone billingAnchorDay logBodies } }"

    result = await gql(client, await make_token(organization.person(role)), query)

    assert result.errors is None
    assert result.data == {
        "organization": {
            "markupPercent": "25.00",
            "fixedFee": "0.01",
            "tier": "TEAM",
            "timezone": "UTC",
            "billingAnchorDay": 1,
            "logBodies": False,
        }
    }
