"""Property: nothing of organization B ever reaches organization A's Owner, Admin or Member.

Hypothesis draws two organizations with random members, personal and team keys, and logs
(ties in timestamps included). With each of A's three roles the test pages through every
request log page, looks up each of B's ids with Query.node, lists apiKeys and members, and
filters by B's key and member ids; no answer may contain any id, request id, label or name
of B's. Each example creates fresh organizations, so the database the function-scoped
fixture provides may hold earlier examples' rows: they only add more tenants to leak from.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.api_key import ApiKey
from models.global_ids import encode_global_id
from models.member import Member, Role
from models.organization import Organization
from models.request_log import RequestLog
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

LOG_PAGE = """
query Page($first: Int, $after: String, $filter: UsageFilter) {
  organization {
    requestLogs(first: $first, after: $after, filter: $filter) {
      totalCount
      edges {
        cursor
        node { id requestId apiKey { id label } member { id name email } }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
LISTS = """
{
  organization {
    id name
    apiKeys { id label owner { id name } }
    members { id name email }
  }
}
"""
_LOOKUPS_PER_REQUEST = 5
NODE_FIELDS = """
  __typename id
  ... on RequestLog { requestId apiKey { id label } member { id name } }
  ... on ApiKey { label owner { id name } }
  ... on Member { name email }
  ... on Organization { name slug }
"""


@dataclass(frozen=True)
class LogSpec:
    key: int  # index into the tenant's keys
    member: int  # index into the members; used for team keys (a personal key's owner calls)
    minutes_ago: int
    status_code: int
    model: str


@dataclass(frozen=True)
class TenantSpec:
    extra_roles: list[Role]
    key_owners: list[int | None]  # index into the members, None for a team key
    logs: list[LogSpec]


@dataclass
class Tenant:
    org: Organization
    members: list[Member]
    keys: list[ApiKey]
    logs: list[RequestLog]
    # Global ids of everything the tenant holds, and every string that identifies any of it.
    global_ids: list[str] = field(default_factory=list)
    identifiers: set[str] = field(default_factory=set)

    def by_role(self, role: Role) -> Member:
        # The first three members are an Owner, an Admin and a Member, in that order.
        return self.members[[Role.OWNER, Role.ADMIN, Role.MEMBER].index(role)]


@st.composite
def tenant_specs(draw: st.DrawFn) -> TenantSpec:
    extra_roles = draw(st.lists(st.sampled_from(list(Role)), max_size=2))
    member_count = 3 + len(extra_roles)
    key_owners = draw(
        st.lists(st.none() | st.integers(0, member_count - 1), min_size=1, max_size=4)
    )
    logs = draw(
        st.lists(
            st.builds(
                LogSpec,
                key=st.integers(0, len(key_owners) - 1),
                member=st.integers(0, member_count - 1),
                # Few distinct minutes, so equal timestamps (the id tie-break) are common.
                minutes_ago=st.sampled_from([1, 2, 3, 60, 600]),
                status_code=st.sampled_from([200, 201, 401, 429, 500, 503]),
                model=st.sampled_from(["gpt-4", "gpt-3.5-turbo"]),
            ),
            max_size=14,
        )
    )
    return TenantSpec(extra_roles, key_owners, logs)


async def _build(spec: TenantSpec, now: datetime) -> Tenant:
    marker = uuid.uuid4().hex[:12]
    org = await make_org(name=f"org-{marker}", slug=f"org-{marker}")
    roles = [Role.OWNER, Role.ADMIN, Role.MEMBER, *spec.extra_roles]
    members = [
        await make_member(org, role, name=f"person-{marker}-{n}", email=f"{marker}-{n}@example.com")
        for n, role in enumerate(roles)
    ]
    keys = [
        await make_key(
            org,
            None if owner is None else members[owner],
            label=f"key-{marker}-{n}",
            prefix=f"sk-{marker}-{n}",
        )
        for n, owner in enumerate(spec.key_owners)
    ]
    records = []
    for log in spec.logs:
        # A personal key is used by its owner; a team key by whichever member drawn.
        owner = spec.key_owners[log.key]
        caller = members[log.member if owner is None else owner]
        records.append(
            make_record(
                org,
                keys[log.key],
                caller,
                now - timedelta(minutes=log.minutes_ago),
                status_code=log.status_code,
                model=log.model,
            )
        )
    await store(*records)
    stored = await RequestLog.filter(organization_id=org.id).order_by("id")
    tenant = Tenant(org, members, keys, stored)
    tenant.global_ids = [
        encode_global_id("Organization", org.id),
        *(encode_global_id("Member", m.id) for m in members),
        *(encode_global_id("ApiKey", k.id) for k in keys),
        *(encode_global_id("RequestLog", log.id) for log in stored),
    ]
    tenant.identifiers = {
        *tenant.global_ids,
        org.name,
        org.slug,
        *(m.name for m in members),
        *(m.email for m in members),
        *(k.label for k in keys),
        *(k.prefix for k in keys),
        *(str(log.request_id) for log in stored),
    }
    return tenant


def _strings(value: Any) -> set[str]:
    """Every string anywhere in a JSON answer (data and error messages alike)."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        return set().union(*(_strings(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value)) if value else set()
    return set()


def _assert_nothing_of(other: Tenant, answer: Any) -> None:
    strings = _strings(answer)
    assert not strings & other.identifiers
    marker = other.org.name.removeprefix("org-")
    assert not [s for s in strings if marker in s]


async def _all_log_pages(
    client: httpx.AsyncClient, token: str, page_size: int, other: Tenant
) -> list[str]:
    """Request ids of every log the viewer can page through, in page order."""
    request_ids: list[str] = []
    after: str | None = None
    while True:
        result = await gql(client, token, LOG_PAGE, first=page_size, after=after)
        assert result.errors is None, result.errors
        _assert_nothing_of(other, result.data)
        assert result.data is not None
        connection = result.data["organization"]["requestLogs"]
        request_ids.extend(edge["node"]["requestId"] for edge in connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            return request_ids
        after = connection["pageInfo"]["endCursor"]


def _visible_request_ids(tenant: Tenant, viewer: Member) -> list[str]:
    """What the viewer's pages must hold: newest first, all logs or only their own."""
    logs = (
        tenant.logs
        if viewer.role is not Role.MEMBER
        else [log for log in tenant.logs if log.member_id == viewer.id]
    )
    ordered = sorted(logs, key=lambda log: (log.timestamp, log.id), reverse=True)
    return [str(log.request_id) for log in ordered]


async def _check_viewer(
    client: httpx.AsyncClient, ours: Tenant, other: Tenant, viewer: Member, page_size: int
) -> None:
    token = await make_token(viewer)

    assert await _all_log_pages(client, token, page_size, other) == _visible_request_ids(
        ours, viewer
    )

    lists = await gql(client, token, LISTS)
    assert lists.errors is None, lists.errors
    _assert_nothing_of(other, lists.data)

    # B's ids a few per request, each under its own alias (queries cap their aliases).
    for start in range(0, len(other.global_ids), _LOOKUPS_PER_REQUEST):
        batch = other.global_ids[start : start + _LOOKUPS_PER_REQUEST]
        lookups = " ".join(
            f'n{n}: node(id: "{global_id}") {{ {NODE_FIELDS} }}'
            for n, global_id in enumerate(batch)
        )
        nodes = await gql(client, token, "{ " + lookups + " }")
        assert nodes.errors is None, nodes.errors
        assert nodes.data == {f"n{n}": None for n in range(len(batch))}

    by_keys = await gql(
        client,
        token,
        LOG_PAGE,
        filter={"apiKeyIds": [encode_global_id("ApiKey", k.id) for k in other.keys]},
    )
    assert by_keys.errors is None, by_keys.errors
    assert by_keys.data is not None
    assert by_keys.data["organization"]["requestLogs"]["totalCount"] == 0
    _assert_nothing_of(other, by_keys.data)

    by_members = await gql(
        client,
        token,
        LOG_PAGE,
        filter={"memberIds": [encode_global_id("Member", m.id) for m in other.members]},
    )
    _assert_nothing_of(other, {"data": by_members.data, "errors": by_members.errors})
    if viewer.role is Role.MEMBER:
        assert by_members.error_codes == ["FORBIDDEN"]
    else:
        assert by_members.errors is None
        assert by_members.data is not None
        assert by_members.data["organization"]["requestLogs"]["totalCount"] == 0


@settings(
    max_examples=20,
    deadline=None,
    # Each example builds its own two organizations; the shared database only adds tenants.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ours=tenant_specs(), theirs=tenant_specs(), page_size=st.integers(1, 6))
async def test_no_answer_to_organization_a_contains_anything_of_organization_b(
    client: httpx.AsyncClient, ours: TenantSpec, theirs: TenantSpec, page_size: int
) -> None:
    now = datetime.now(UTC)
    a = await _build(ours, now)
    b = await _build(theirs, now)

    for role in (Role.OWNER, Role.ADMIN, Role.MEMBER):
        await _check_viewer(client, a, b, a.by_role(role), page_size)
