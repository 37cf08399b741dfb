"""Cost governance: a key limit an Admin sets above the approval threshold waits for an Owner
(alerted like other alerts); until approved the old limit holds. Owners approve or reject;
every step is audited; another tenant's ids answer like missing ones."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from admin.limit_requests import approve_limit_request, change_api_key_limit, needs_approval
from audit.trail import Actor
from models.access_token import Scope
from models.alert import AlertEvent, AlertKind, AlertRule
from models.alert_delivery import AlertDelivery
from models.api_key import ApiKey
from models.audit import AuditEntry
from models.global_ids import encode_global_id
from models.limit_request import LimitRequest, LimitRequestStatus
from models.member import Member, Role
from models.organization import Organization
from resolvers.errors import BadInputError
from tests.factories import (
    gql,
    make_ingest_token,
    make_key,
    make_member,
    make_org,
    make_token,
)

USD = 1_000_000_000
THRESHOLD = """
mutation Threshold($amount: Decimal) {
  setLimitApprovalThreshold(amount: $amount) { limitApprovalThreshold }
}
"""
LIMIT = """
mutation Limit($key: ID!, $limit: Decimal) {
  setApiKeyLimit(apiKeyId: $key, monthlyLimit: $limit) {
    monthlyLimit
    pendingLimitRequest { id status oldLimit requestedLimit requestedBy { name } }
  }
}
"""
APPROVE = """
mutation Approve($id: ID!) {
  approveLimitRequest(id: $id) { status decidedBy { name } apiKey { monthlyLimit } }
}
"""
REJECT = """
mutation Reject($id: ID!, $reason: String) {
  rejectLimitRequest(id: $id, reason: $reason) { status reason apiKey { monthlyLimit } }
}
"""
REQUESTS = """
query Requests($status: LimitRequestStatus, $first: Int, $after: String) {
  viewer { organization { limitRequests(status: $status, first: $first, after: $after) {
    totalCount
    edges { node { status requestedLimit apiKey { label } } }
    pageInfo { hasNextPage endCursor }
  } } }
}
"""


def key_id(key: ApiKey) -> str:
    return encode_global_id("ApiKey", key.id)


def request_id(request: LimitRequest) -> str:
    return encode_global_id("LimitRequest", request.id)


async def governed_org(threshold_usd: int = 1000) -> Organization:
    return await make_org(limit_approval_threshold_nanos=threshold_usd * USD)


async def token_of(org: Organization, role: Role, **fields: Any) -> tuple[Member, str]:
    member = await make_member(org, role, **fields)
    return member, await make_token(member)


async def limit_of(key: ApiKey) -> int | None:
    return (await ApiKey.get(id=key.id)).monthly_limit_nanos


async def other_role_tokens(org: Organization) -> dict[str, str]:
    """Every token of the role table that is not an Owner with the admin scope."""
    return {
        "admin": await make_token(await make_member(org, Role.ADMIN)),
        "member": await make_token(await make_member(org, Role.MEMBER)),
        "ingest": await make_ingest_token(org),
        "owner read-only": await make_token(await make_member(org, Role.OWNER), [Scope.READ]),
        "owner read+export": await make_token(
            await make_member(org, Role.OWNER), [Scope.READ, Scope.EXPORT]
        ),
    }


async def pending_request(org: Organization, key: ApiKey, limit_usd: int) -> LimitRequest:
    """A request filed the way an Admin files one."""
    admin = await make_member(org, Role.ADMIN)
    change = await change_api_key_limit(
        Actor(admin.id, None, "graphql"), False, org.id, key.id, limit_usd * USD
    )
    assert change.request is not None
    return change.request


# --- deciding when approval is needed -----------------------------------------------------


@pytest.mark.parametrize(
    ("threshold", "current", "requested", "expected"),
    [
        (None, 10, 10**9, False),  # no threshold: never
        (100, 10, 100, False),  # exactly at the threshold applies
        (100, 10, 101, True),  # above it waits
        (100, 10, None, True),  # clearing means no limit: waits
        (100, None, None, False),  # already without limit: nothing changes
        (100, None, 500, False),  # from no limit to a limit is a decrease
        (100, 500, 300, False),  # lowering, even above the threshold, applies
        (100, 300, 500, True),
    ],
)
def test_a_change_needs_approval_only_when_it_raises_a_limit_past_the_threshold(
    threshold: int | None, current: int | None, requested: int | None, expected: bool
) -> None:
    assert needs_approval(threshold, current, requested) is expected


# --- the threshold setting ---------------------------------------------------------------


async def test_an_owner_sets_and_clears_the_approval_threshold_and_it_is_audited(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    owner, token = await token_of(org, Role.OWNER)

    set_result = await gql(client, token, THRESHOLD, amount="1000")
    cleared = await gql(client, token, THRESHOLD, amount=None)

    assert set_result.data == {"setLimitApprovalThreshold": {"limitApprovalThreshold": "1000.00"}}
    assert cleared.data == {"setLimitApprovalThreshold": {"limitApprovalThreshold": None}}
    entries = await AuditEntry.filter(organization_id=org.id).order_by("id")
    assert [(e.action, e.actor_member_id, e.changes) for e in entries] == [
        (
            "organization.settings",
            owner.id,
            {"limitApprovalThreshold": {"old": None, "new": "1000.00"}},
        ),
        (
            "organization.settings",
            owner.id,
            {"limitApprovalThreshold": {"old": "1000.00", "new": None}},
        ),
    ]


async def test_only_owners_with_an_admin_token_set_the_threshold(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    for role, token in (await other_role_tokens(org)).items():
        result = await gql(client, token, THRESHOLD, amount="5")
        assert result.error_codes == ["FORBIDDEN"], role
    assert (await Organization.get(id=org.id)).limit_approval_threshold_nanos is None
    assert await AuditEntry.filter(organization_id=org.id).count() == 0


@pytest.mark.parametrize("amount", ["0", "-1"])
async def test_a_threshold_must_be_positive(client: httpx.AsyncClient, amount: str) -> None:
    org = await make_org()
    _, token = await token_of(org, Role.OWNER)
    result = await gql(client, token, THRESHOLD, amount=amount)
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert "amount" in result.errors[0]["message"]  # type: ignore[index]


async def test_members_do_not_see_the_threshold(client: httpx.AsyncClient) -> None:
    org = await governed_org(1000)
    _, member_token = await token_of(org, Role.MEMBER)
    _, admin_token = await token_of(org, Role.ADMIN)
    query = "{ viewer { organization { limitApprovalThreshold budgetEnforcement } } }"
    assert (await gql(client, member_token, query)).data == {
        "viewer": {"organization": {"limitApprovalThreshold": None, "budgetEnforcement": None}}
    }
    assert (await gql(client, admin_token, query)).data == {
        "viewer": {
            "organization": {"limitApprovalThreshold": "1000.00", "budgetEnforcement": "ALERT_ONLY"}
        }
    }


# --- an Admin's change above the threshold -----------------------------------------------


async def test_an_admins_limit_above_the_threshold_waits_and_the_old_limit_holds(
    client: httpx.AsyncClient,
) -> None:
    org = await governed_org(1000)
    key = await make_key(org, monthly_limit_nanos=50 * USD)
    admin, token = await token_of(org, Role.ADMIN, name="Ada")

    result = await gql(client, token, LIMIT, key=key_id(key), limit="1000000")

    assert result.errors is None
    answer = result.data["setApiKeyLimit"]  # type: ignore[index]
    assert answer["monthlyLimit"] == "50.00"
    pending = answer["pendingLimitRequest"]
    assert {k: v for k, v in pending.items() if k != "id"} == {
        "status": "PENDING",
        "oldLimit": "50.00",
        "requestedLimit": "1000000.00",
        "requestedBy": {"name": "Ada"},
    }
    assert await limit_of(key) == 50 * USD
    [stored] = await LimitRequest.filter(organization_id=org.id)
    assert (stored.requested_by_member_id, stored.api_key_id) == (admin.id, key.id)
    [entry] = await AuditEntry.filter(organization_id=org.id)
    assert (entry.action, entry.subject_type, entry.subject_id) == (
        "limitRequest.create",
        "LimitRequest",
        stored.id,
    )
    assert entry.changes["monthlyLimit"] == {"old": "50.00", "new": "1000000.00"}


async def test_a_limit_at_exactly_the_threshold_applies_at_once(
    client: httpx.AsyncClient,
) -> None:
    org = await governed_org(1000)
    key = await make_key(org, monthly_limit_nanos=50 * USD)
    _, token = await token_of(org, Role.ADMIN)

    result = await gql(client, token, LIMIT, key=key_id(key), limit="1000")

    assert result.data == {
        "setApiKeyLimit": {"monthlyLimit": "1000.00", "pendingLimitRequest": None}
    }
    assert await LimitRequest.filter(organization_id=org.id).count() == 0
    [entry] = await AuditEntry.filter(organization_id=org.id)
    assert (entry.action, entry.changes) == (
        "apiKey.limit",
        {"monthlyLimit": {"old": "50.00", "new": "1000.00"}},
    )


async def test_an_admin_clearing_a_limit_needs_approval_too(client: httpx.AsyncClient) -> None:
    org = await governed_org(1000)
    key = await make_key(org, monthly_limit_nanos=50 * USD)
    _, token = await token_of(org, Role.ADMIN)

    result = await gql(client, token, LIMIT, key=key_id(key), limit=None)

    assert result.data["setApiKeyLimit"]["monthlyLimit"] == "50.00"  # type: ignore[index]
    [stored] = await LimitRequest.filter(organization_id=org.id)
    assert stored.requested_limit_nanos is None


async def test_an_owners_own_change_above_the_threshold_applies_at_once(
    client: httpx.AsyncClient,
) -> None:
    org = await governed_org(1000)
    key = await make_key(org, monthly_limit_nanos=50 * USD)
    owner, token = await token_of(org, Role.OWNER)

    result = await gql(client, token, LIMIT, key=key_id(key), limit="5000")

    assert result.data == {
        "setApiKeyLimit": {"monthlyLimit": "5000.00", "pendingLimitRequest": None}
    }
    [entry] = await AuditEntry.filter(organization_id=org.id)
    assert (entry.action, entry.actor_member_id) == ("apiKey.limit", owner.id)


async def test_a_request_fires_a_limit_request_alert_delivered_to_its_rules_targets(
    client: httpx.AsyncClient,
) -> None:
    org = await governed_org(1000)
    key = await make_key(org, label="batch jobs", monthly_limit_nanos=50 * USD)
    rule = await AlertRule.create(
        organization=org, kind=AlertKind.LIMIT_REQUEST, email="owners@example.com"
    )
    _, token = await token_of(org, Role.ADMIN)

    await gql(client, token, LIMIT, key=key_id(key), limit="2500")

    [event] = await AlertEvent.filter(organization_id=org.id)
    [stored] = await LimitRequest.filter(organization_id=org.id)
    assert (event.kind, event.api_key_id_subject, event.threshold, event.period_key) == (
        AlertKind.LIMIT_REQUEST,
        key.id,
        "1000.00",
        f"LimitRequest:{stored.id}",
    )
    assert event.value_nanos == 2500 * USD
    assert event.message == (
        "A limit of $2500.00 for API key 'batch jobs' (now $50.00) is above the approval "
        "threshold of $1000.00 and waits for an Owner's approval"
    )
    [delivery] = await AlertDelivery.filter(event_id=event.id)
    assert (delivery.target, delivery.status.value) == ("owners@example.com", "PENDING")
    assert rule.id is not None


async def test_a_newer_change_supersedes_the_pending_request(client: httpx.AsyncClient) -> None:
    org = await governed_org(1000)
    key = await make_key(org, monthly_limit_nanos=50 * USD)
    _, token = await token_of(org, Role.ADMIN)
    await gql(client, token, LIMIT, key=key_id(key), limit="2000")

    await gql(client, token, LIMIT, key=key_id(key), limit="100")

    [stored] = await LimitRequest.filter(organization_id=org.id)
    assert stored.status is LimitRequestStatus.SUPERSEDED
    assert await limit_of(key) == 100 * USD
    actions = await AuditEntry.filter(organization_id=org.id).order_by("id")
    assert [e.action for e in actions] == [
        "limitRequest.create",
        "limitRequest.supersede",
        "apiKey.limit",
    ]


# --- approving and rejecting -------------------------------------------------------------


async def test_an_owner_approves_and_the_key_gets_the_requested_limit(
    client: httpx.AsyncClient,
) -> None:
    org = await governed_org(1000)
    key = await make_key(org, monthly_limit_nanos=50 * USD)
    request = await pending_request(org, key, 3000)
    owner, token = await token_of(org, Role.OWNER, name="Olga")

    result = await gql(client, token, APPROVE, id=request_id(request))

    assert result.data == {
        "approveLimitRequest": {
            "status": "APPROVED",
            "decidedBy": {"name": "Olga"},
            "apiKey": {"monthlyLimit": "3000.00"},
        }
    }
    assert await limit_of(key) == 3000 * USD
    entries = await AuditEntry.filter(organization_id=org.id, actor_member_id=owner.id).order_by(
        "id"
    )
    assert [(e.action, e.changes) for e in entries] == [
        (
            "limitRequest.approve",
            {"status": {"old": "PENDING", "new": "APPROVED"}},
        ),
        ("apiKey.limit", {"monthlyLimit": {"old": "50.00", "new": "3000.00"}}),
    ]


async def test_an_owner_rejects_with_a_reason_and_the_old_limit_stays(
    client: httpx.AsyncClient,
) -> None:
    org = await governed_org(1000)
    key = await make_key(org, monthly_limit_nanos=50 * USD)
    request = await pending_request(org, key, 3000)
    owner, token = await token_of(org, Role.OWNER)

    result = await gql(client, token, REJECT, id=request_id(request), reason="too much")

    assert result.data == {
        "rejectLimitRequest": {
            "status": "REJECTED",
            "reason": "too much",
            "apiKey": {"monthlyLimit": "50.00"},
        }
    }
    assert await limit_of(key) == 50 * USD
    entry = await AuditEntry.filter(organization_id=org.id, actor_member_id=owner.id).first()
    assert entry is not None
    assert (entry.action, entry.changes) == (
        "limitRequest.reject",
        {
            "status": {"old": "PENDING", "new": "REJECTED"},
            "reason": {"old": None, "new": "too much"},
        },
    )


async def test_a_decided_request_cannot_be_decided_again(client: httpx.AsyncClient) -> None:
    org = await governed_org(1000)
    key = await make_key(org, monthly_limit_nanos=50 * USD)
    request = await pending_request(org, key, 3000)
    _, token = await token_of(org, Role.OWNER)
    await gql(client, token, REJECT, id=request_id(request))

    again = await gql(client, token, APPROVE, id=request_id(request))

    assert again.error_codes == ["BAD_USER_INPUT"]
    assert "already REJECTED" in again.errors[0]["message"]  # type: ignore[index]
    assert await limit_of(key) == 50 * USD


@pytest.mark.parametrize("mutation", [APPROVE, REJECT])
async def test_only_owners_with_an_admin_token_decide(
    client: httpx.AsyncClient, mutation: str
) -> None:
    org = await governed_org(1000)
    key = await make_key(org, monthly_limit_nanos=50 * USD)
    request = await pending_request(org, key, 3000)

    for role, token in (await other_role_tokens(org)).items():
        result = await gql(client, token, mutation, id=request_id(request))
        assert result.error_codes == ["FORBIDDEN"], role
    assert (await LimitRequest.get(id=request.id)).status is LimitRequestStatus.PENDING
    assert await limit_of(key) == 50 * USD


@pytest.mark.parametrize("mutation", [APPROVE, REJECT])
async def test_another_tenants_request_is_not_found_like_a_missing_one(
    client: httpx.AsyncClient, mutation: str
) -> None:
    other = await governed_org(1000)
    other_key = await make_key(other, monthly_limit_nanos=50 * USD)
    theirs = await pending_request(other, other_key, 3000)
    org = await make_org()
    _, token = await token_of(org, Role.OWNER)

    foreign = await gql(client, token, mutation, id=request_id(theirs))
    missing = await gql(client, token, mutation, id=encode_global_id("LimitRequest", 10**9))
    wrong_type = await gql(client, token, mutation, id=key_id(other_key))

    assert foreign.error_codes == missing.error_codes == wrong_type.error_codes == ["NOT_FOUND"]
    assert foreign.errors[0]["message"] == missing.errors[0]["message"]  # type: ignore[index]
    assert (await LimitRequest.get(id=theirs.id)).status is LimitRequestStatus.PENDING
    assert await limit_of(other_key) == 50 * USD


async def test_another_tenants_key_is_not_found_when_setting_a_limit(
    client: httpx.AsyncClient,
) -> None:
    other_key = await make_key(await governed_org(1000))
    org = await governed_org(1000)
    _, token = await token_of(org, Role.ADMIN)
    result = await gql(client, token, LIMIT, key=key_id(other_key), limit="5000")
    assert result.error_codes == ["NOT_FOUND"]
    assert await LimitRequest.all().count() == 0


async def test_two_approvals_of_one_request_at_once_one_wins(db: object) -> None:
    org = await governed_org(1000)
    key = await make_key(org, monthly_limit_nanos=50 * USD)
    request = await pending_request(org, key, 3000)
    owners = [await make_member(org, Role.OWNER) for _ in range(2)]

    outcomes = await asyncio.gather(
        *(approve_limit_request(Actor(o.id, None, "graphql"), org.id, request.id) for o in owners),
        return_exceptions=True,
    )

    won = [o for o in outcomes if isinstance(o, LimitRequest)]
    lost = [o for o in outcomes if isinstance(o, BadInputError)]
    assert (len(won), len(lost)) == (1, 1)
    assert "already APPROVED" in str(lost[0])
    assert await limit_of(key) == 3000 * USD
    assert (
        await AuditEntry.filter(organization_id=org.id, action="limitRequest.approve").count() == 1
    )


# --- listing ------------------------------------------------------------------------------


async def test_owners_and_admins_list_requests_by_status_in_pages(
    client: httpx.AsyncClient,
) -> None:
    org = await governed_org(1000)
    keys = [await make_key(org, label=f"k{n}", monthly_limit_nanos=USD) for n in range(3)]
    requests = [await pending_request(org, key, 2000 + n) for n, key in enumerate(keys)]
    _, owner_token = await token_of(org, Role.OWNER)
    await gql(client, owner_token, REJECT, id=request_id(requests[0]))
    _, admin_token = await token_of(org, Role.ADMIN)

    first = await gql(client, admin_token, REQUESTS, status="PENDING", first=1)
    page = first.data["viewer"]["organization"]["limitRequests"]  # type: ignore[index]
    second = await gql(
        client,
        owner_token,
        REQUESTS,
        status="PENDING",
        first=1,
        after=page["pageInfo"]["endCursor"],
    )
    rest = second.data["viewer"]["organization"]["limitRequests"]  # type: ignore[index]

    assert page["totalCount"] == 2
    assert [e["node"] for e in page["edges"] + rest["edges"]] == [
        {"status": "PENDING", "requestedLimit": "2002.00", "apiKey": {"label": "k2"}},
        {"status": "PENDING", "requestedLimit": "2001.00", "apiKey": {"label": "k1"}},
    ]
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_members_and_ingest_tokens_cannot_list_requests(client: httpx.AsyncClient) -> None:
    org = await governed_org(1000)
    await pending_request(org, await make_key(org, monthly_limit_nanos=USD), 2000)
    _, member_token = await token_of(org, Role.MEMBER)
    for token in (member_token, await make_ingest_token(org)):
        result = await gql(client, token, REQUESTS)
        assert result.error_codes == ["FORBIDDEN"]


async def test_another_tenants_requests_are_not_listed_nor_reachable_by_node(
    client: httpx.AsyncClient,
) -> None:
    other = await governed_org(1000)
    theirs = await pending_request(other, await make_key(other, monthly_limit_nanos=USD), 2000)
    org = await make_org()
    _, token = await token_of(org, Role.OWNER)

    listed = await gql(client, token, REQUESTS)
    node = await gql(
        client, token, "query N($id: ID!) { node(id: $id) { id } }", id=request_id(theirs)
    )

    assert listed.data["viewer"]["organization"]["limitRequests"]["totalCount"] == 0  # type: ignore[index]
    assert node.data == {"node": None}


async def test_a_member_cannot_see_the_pending_request_on_their_own_key(
    client: httpx.AsyncClient,
) -> None:
    org = await governed_org(1000)
    member, token = await token_of(org, Role.MEMBER)
    key = await make_key(org, owner=member, monthly_limit_nanos=USD)
    await pending_request(org, key, 2000)

    result = await gql(
        client, token, "{ viewer { organization { apiKeys { pendingLimitRequest { id } } } } }"
    )

    assert result.error_codes == ["FORBIDDEN"]
