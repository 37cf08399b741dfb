"""Subscriptions with a real client (gql, graphql-transport-ws) against a real server on
both backends: dashboard cards, new logs and alerts, role scoping, tenant isolation,
authentication and revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from gql.transport.exceptions import TransportQueryError

from auth.tokens import revoke_token
from models.access_token import AccessToken
from models.member import Role
from tests.admin_callers import gid, make_callers
from tests.factories import make_ingest_token, make_key, make_member, make_org, make_token
from tests.ingest_support import gateway_record, post_bulk
from tests.live_clients import Subscription, close_code, session
from tests.live_service import LiveServer, live_server

__all__ = ["live_server"]

USAGE = """
subscription Cards($filter: UsageFilter) {
  usage(filter: $filter) {
    totals { requests customerCost }
    currentSpend { spend requests ownSpendOnly }
  }
}
"""
LOGS = """
subscription Logs($filter: UsageFilter) {
  requestLogs(filter: $filter) {
    truncated
    logs { requestId model statusCode customerCost apiKey { label } member { name } }
  }
}
"""
ALERTS = "subscription Fired { alerts { alerts { kind threshold message } } }"


async def ingest(server: LiveServer, token: str, records: list[dict[str, object]]) -> None:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        response = await post_bulk(http, token, records)
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == len(records), response.text


async def test_usage_cards_arrive_at_once_then_after_each_ingest(live_server: LiveServer) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    token = await make_token(owner)
    gateway = await make_ingest_token(org)
    async with session(live_server.ws_url, token) as live:
        cards = Subscription(live, USAGE, {"filter": {"period": "LAST_24_HOURS"}})
        first = await cards.next()
        assert first["usage"]["totals"] == {"requests": 0, "customerCost": "0.00"}
        # gpt-4 list price: 1000 input + 500 output tokens = $0.06 each, no markup.
        await ingest(live_server, gateway, [gateway_record(key) for _ in range(3)])
        second = await cards.next()
        assert second["usage"]["totals"] == {"requests": 3, "customerCost": "0.18"}
        assert second["usage"]["currentSpend"] == {
            "spend": "0.18",
            "requests": 3,
            "ownSpendOnly": False,
        }
        await cards.cancel()


async def test_member_receives_only_their_own_new_logs(live_server: LiveServer) -> None:
    org = await make_org()
    admin = await make_member(org, Role.ADMIN, name="Ada")
    alice = await make_member(org, Role.MEMBER, name="Alice")
    bob = await make_member(org, Role.MEMBER, name="Bob")
    alice_key = await make_key(org, alice, label="alice-key")
    bob_key = await make_key(org, bob, label="bob-key")
    gateway = await make_ingest_token(org)
    async with (
        session(live_server.ws_url, await make_token(alice)) as alice_live,
        session(live_server.ws_url, await make_token(admin)) as admin_live,
    ):
        alice_logs = Subscription(alice_live, LOGS)
        team_logs = Subscription(admin_live, LOGS)
        bob_record = gateway_record(bob_key, model="gpt-4")
        alice_record = gateway_record(alice_key, model="gpt-3.5-turbo")
        await ingest(live_server, gateway, [bob_record])
        await ingest(live_server, gateway, [alice_record])
        pushed = (await alice_logs.next())["requestLogs"]
        assert pushed["truncated"] is False
        assert [log["requestId"] for log in pushed["logs"]] == [alice_record["requestId"]]
        assert pushed["logs"][0]["member"] == {"name": "Alice"}
        assert pushed["logs"][0]["apiKey"] == {"label": "alice-key"}
        seen: list[str] = []
        while len(seen) < 2:
            seen += [log["requestId"] for log in (await team_logs.next())["requestLogs"]["logs"]]
        assert sorted(seen) == sorted([bob_record["requestId"], alice_record["requestId"]])
        await alice_logs.cancel()
        await team_logs.cancel()


async def test_member_cards_cover_only_their_own_requests(live_server: LiveServer) -> None:
    org = await make_org()
    alice = await make_member(org, Role.MEMBER)
    bob = await make_member(org, Role.MEMBER)
    alice_key = await make_key(org, alice)
    bob_key = await make_key(org, bob)
    gateway = await make_ingest_token(org)
    async with session(live_server.ws_url, await make_token(alice)) as live:
        cards = Subscription(live, USAGE)
        assert (await cards.next())["usage"]["totals"]["requests"] == 0
        await ingest(live_server, gateway, [gateway_record(bob_key) for _ in range(2)])
        await ingest(live_server, gateway, [gateway_record(alice_key)])
        usage = (await cards.next())["usage"]
        # Bob's batch alone changes nothing Alice sees, so her next message is her own.
        assert usage["totals"] == {"requests": 1, "customerCost": "0.06"}
        assert usage["currentSpend"] == {"spend": "0.06", "requests": 1, "ownSpendOnly": True}
        await cards.cancel()


async def test_another_tenant_sees_nothing_of_an_organization(live_server: LiveServer) -> None:
    org = await make_org()
    other = await make_org()
    owner = await make_member(org, Role.OWNER)
    other_owner = await make_member(other, Role.OWNER)
    key = await make_key(org, owner)
    other_key = await make_key(other, other_owner)
    async with session(live_server.ws_url, await make_token(other_owner)) as live:
        logs = Subscription(live, LOGS)
        cards = Subscription(live, USAGE)
        assert (await cards.next())["usage"]["totals"]["requests"] == 0
        await ingest(live_server, await make_ingest_token(org), [gateway_record(key)])
        # The other tenant's own record is the first thing it hears of.
        own = gateway_record(other_key)
        await ingest(live_server, await make_ingest_token(other), [own])
        pushed = (await logs.next())["requestLogs"]["logs"]
        assert [log["requestId"] for log in pushed] == [own["requestId"]]
        assert (await cards.next())["usage"]["totals"] == {"requests": 1, "customerCost": "0.06"}
        await logs.cancel()
        await cards.cancel()


async def test_another_tenants_ids_in_the_filter_match_nothing(live_server: LiveServer) -> None:
    org = await make_org()
    other = await make_org()
    owner = await make_member(org, Role.OWNER)
    other_owner = await make_member(other, Role.OWNER)
    key = await make_key(org, owner)
    other_key = await make_key(other, other_owner)
    async with session(live_server.ws_url, await make_token(owner)) as live:
        foreign = Subscription(
            live,
            USAGE,
            {"filter": {"apiKeyIds": [gid("ApiKey", other_key.id)], "period": "LAST_24_HOURS"}},
        )
        assert (await foreign.next())["usage"]["totals"]["requests"] == 0
        await ingest(live_server, await make_ingest_token(other), [gateway_record(other_key)])
        await ingest(live_server, await make_ingest_token(org), [gateway_record(key)])
        # The organization's own spend changed (currentSpend); the other tenant's key
        # still matches nothing.
        usage = (await foreign.next())["usage"]
        assert usage["totals"] == {"requests": 0, "customerCost": "0.00"}
        assert usage["currentSpend"] == {"spend": "0.06", "requests": 1, "ownSpendOnly": False}
        await foreign.cancel()


async def test_member_naming_another_member_is_forbidden(live_server: LiveServer) -> None:
    org = await make_org()
    alice = await make_member(org, Role.MEMBER)
    bob = await make_member(org, Role.MEMBER)
    async with session(live_server.ws_url, await make_token(alice)) as live:
        for document in (USAGE, LOGS):
            refused = Subscription(
                live, document, {"filter": {"memberIds": [gid("Member", bob.id)]}}
            )
            error = await refused.failure()
            assert isinstance(error, TransportQueryError)
            assert error.errors is not None
            assert error.errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_bad_filter_is_bad_user_input(live_server: LiveServer) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    async with session(live_server.ws_url, await make_token(owner)) as live:
        refused = Subscription(live, USAGE, {"filter": {"timezone": "Mars/Olympus"}})
        error = await refused.failure()
        assert isinstance(error, TransportQueryError)
        assert error.errors is not None
        assert error.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "timezone" in error.errors[0]["message"]


async def test_alerts_reach_admins_as_they_fire_and_members_are_refused(
    live_server: LiveServer,
) -> None:
    org = await make_org()
    admin = await make_member(org, Role.ADMIN)
    member = await make_member(org, Role.MEMBER)
    # $0.06 a request: the second request passes 75% of $0.15.
    key = await make_key(org, admin, monthly_limit_nanos=150_000_000)
    gateway = await make_ingest_token(org)
    async with (
        session(live_server.ws_url, await make_token(admin)) as admin_live,
        session(live_server.ws_url, await make_token(member)) as member_live,
    ):
        refused = Subscription(member_live, ALERTS)
        error = await refused.failure()
        assert isinstance(error, TransportQueryError)
        assert error.errors is not None
        assert error.errors[0]["extensions"]["code"] == "FORBIDDEN"
        alerts = Subscription(admin_live, ALERTS)
        # The empty wallet goes under its $10 threshold with the first request...
        await ingest(live_server, gateway, [gateway_record(key)])
        fired = (await alerts.next())["alerts"]["alerts"]
        assert [(a["kind"], a["threshold"]) for a in fired] == [("LOW_BALANCE", "10.00")]
        # ...and the key passes 75% of its limit with the second (40% after the first).
        await ingest(live_server, gateway, [gateway_record(key)])
        fired = (await alerts.next())["alerts"]["alerts"]
        assert [(a["kind"], a["threshold"]) for a in fired] == [("KEY_LIMIT", "75")]
        await alerts.cancel()


async def test_a_bad_token_is_refused_with_4403(live_server: LiveServer) -> None:
    for token in (None, "aize_not-a-real-token"):
        with pytest.raises(Exception) as refused:
            async with session(live_server.ws_url, token):
                pass
        assert close_code(refused.value) == 4403


async def test_a_revoked_token_is_disconnected_within_seconds(live_server: LiveServer) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    token = await make_token(owner)
    async with session(live_server.ws_url, token) as live:
        cards = Subscription(live, USAGE)
        await cards.next()
        stored = await AccessToken.get(organization_id=org.id, member_id=owner.id)
        revoked_at = datetime.now(UTC)
        await revoke_token(str(stored.id))
        failure = await cards.failure()
        # Re-checked every 0.5 s here (AIZE_SUBSCRIPTION_AUTH_RECHECK_SECONDS).
        assert datetime.now(UTC) - revoked_at < timedelta(seconds=5)
        assert close_code(failure) == 4403


async def _as_owner(server: LiveServer, token: str, query: str) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        response = await http.post(
            "/graphql",
            json={"query": query},
            headers={"Authorization": f"Bearer {token}"},
        )
    body: dict[str, object] = response.json()
    assert "errors" not in body, body
    return body


async def test_a_removed_member_and_a_demoted_admin_are_disconnected(
    live_server: LiveServer,
) -> None:
    callers = await make_callers()
    owner_token = callers.tokens["owner"]
    async with (
        session(live_server.ws_url, callers.tokens["member"]) as member_live,
        session(live_server.ws_url, callers.tokens["admin"]) as admin_live,
    ):
        member_cards = Subscription(member_live, USAGE)
        admin_alerts = Subscription(admin_live, USAGE)
        await member_cards.next()
        await admin_alerts.next()
        member_id = gid("Member", callers.member.id)
        admin_id = gid("Member", callers.admin.id)
        await _as_owner(
            live_server, owner_token, f'mutation {{ removeMember(id: "{member_id}") {{ id }} }}'
        )
        await _as_owner(
            live_server,
            owner_token,
            f'mutation {{ changeMemberRole(id: "{admin_id}", role: MEMBER) {{ id }} }}',
        )
        # The Admin's token now reads as a Member: a narrower scope, so the connection ends.
        assert close_code(await member_cards.failure()) == 4403
        assert close_code(await admin_alerts.failure()) == 4403
