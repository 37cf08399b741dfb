"""Query.nodes(ids:) and Node on every connection's node: scoped exactly like Query.node.

Each id answers its object only inside the viewer's scope (Owner/Admin: the organization;
Member: their own logs and their own keys' alerts, no team money); another tenant's id, a
team-only object for a Member, an unknown type and garbage all answer null, in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from graphql import GraphQLInterfaceType, GraphQLList, GraphQLNonNull, GraphQLObjectType

from graph.relay import MAX_NODE_IDS
from graph.schema import schema
from models.alert import AlertEvent, AlertKind
from models.global_ids import encode_global_id
from models.member import Role
from models.organization import Organization
from models.request_log import RequestLog
from models.wallet import EntryKind, WalletEntry
from tests.factories import (
    gql,
    make_ingest_token,
    make_key,
    make_member,
    make_org,
    make_record,
    make_token,
    store,
)
from tests.query_counter import count_queries

NODES = """
query Nodes($ids: [ID!]!) {
  nodes(ids: $ids) {
    __typename
    id
    ... on AlertEvent { alertKind: kind threshold }
    ... on WalletEntry { entryKind: kind amount balanceAfter }
    ... on RequestLog { statusCode }
    ... on Organization { name }
  }
}
"""
NODE = "query Node($id: ID!) { node(id: $id) { __typename id } }"
WHEN = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


@dataclass
class Tenant:
    org: Organization
    tokens: dict[Role, str]
    member_log: str
    colleague_log: str
    member_alert: str
    colleague_alert: str
    budget_alert: str
    deposit: str


async def _alert(org: Organization, subject: int, kind: AlertKind, threshold: str) -> str:
    event = await AlertEvent.create(
        organization=org,
        kind=kind,
        api_key_id_subject=subject,
        threshold=threshold,
        period_key="2026-11-01T00:00:00Z",
        message=f"{kind} {threshold}",
        fired_at=WHEN,
    )
    return encode_global_id("AlertEvent", event.id)


async def _tenant(name: str) -> Tenant:
    org = await make_org(name=name)
    owner = await make_member(org, Role.OWNER, email=f"owner@{name}.example")
    admin = await make_member(org, Role.ADMIN, email=f"admin@{name}.example")
    member = await make_member(org, Role.MEMBER, email=f"member@{name}.example")
    colleague = await make_member(org, Role.MEMBER, email=f"colleague@{name}.example")
    member_key = await make_key(org, member, prefix=f"sk-{name}-m")
    colleague_key = await make_key(org, colleague, prefix=f"sk-{name}-c")
    now = datetime.now(UTC)
    await store(
        make_record(org, member_key, member, now - timedelta(hours=1)),
        make_record(org, colleague_key, colleague, now - timedelta(hours=2), status_code=500),
    )
    logs = {log.member_id: log.id for log in await RequestLog.filter(organization_id=org.id)}
    entry = await WalletEntry.create(
        organization=org,
        kind=EntryKind.DEPOSIT,
        amount_nanos=5_000_000_000,
        balance_after_nanos=5_000_000_000,
        created_by=owner,
        created_at=WHEN,
    )
    return Tenant(
        org=org,
        tokens={
            role: await make_token(m)
            for role, m in ((Role.OWNER, owner), (Role.ADMIN, admin), (Role.MEMBER, member))
        },
        member_log=encode_global_id("RequestLog", logs[member.id]),
        colleague_log=encode_global_id("RequestLog", logs[colleague.id]),
        member_alert=await _alert(org, member_key.id, AlertKind.KEY_LIMIT, "75"),
        colleague_alert=await _alert(org, colleague_key.id, AlertKind.KEY_LIMIT, "90"),
        budget_alert=await _alert(org, 0, AlertKind.BUDGET, "100"),
        deposit=encode_global_id("WalletEntry", entry.id),
    )


@pytest.fixture
async def tenants(db: object) -> tuple[Tenant, Tenant]:
    return await _tenant("acme"), await _tenant("globex")


def _ids(tenant: Tenant, other: Tenant) -> list[str]:
    return [
        tenant.member_log,
        tenant.colleague_log,
        tenant.member_alert,
        tenant.colleague_alert,
        tenant.budget_alert,
        tenant.deposit,
        encode_global_id("Organization", tenant.org.id),
        other.member_log,
        other.member_alert,
        other.deposit,
        encode_global_id("Organization", other.org.id),
        encode_global_id("Spaceship", 1),
        "not-an-id",
        tenant.member_log,  # asked twice: answered twice
    ]


def _answer(result: Any) -> list[str | None]:
    assert result.errors is None, result.errors
    return [None if node is None else node["id"] for node in result.data["nodes"]]


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
async def test_owners_and_admins_get_their_organization_s_nodes_in_order(
    client: httpx.AsyncClient, tenants: tuple[Tenant, Tenant], role: Role
) -> None:
    acme, globex = tenants
    ids = _ids(acme, globex)
    result = await gql(client, acme.tokens[role], NODES, ids=ids)

    assert _answer(result) == [*ids[:7], None, None, None, None, None, None, ids[13]]
    assert result.data is not None
    nodes = result.data["nodes"]
    assert nodes[2] == {
        "__typename": "AlertEvent",
        "id": acme.member_alert,
        "alertKind": "KEY_LIMIT",
        "threshold": "75",
    }
    assert nodes[5] == {
        "__typename": "WalletEntry",
        "id": acme.deposit,
        "entryKind": "DEPOSIT",
        "amount": "5.00",
        "balanceAfter": "5.00",
    }
    assert nodes[1]["statusCode"] == 500
    assert nodes[6]["name"] == "acme"


async def test_a_member_gets_only_their_own_nodes(
    client: httpx.AsyncClient, tenants: tuple[Tenant, Tenant]
) -> None:
    acme, globex = tenants
    ids = _ids(acme, globex)
    result = await gql(client, acme.tokens[Role.MEMBER], NODES, ids=ids)

    # Their log and their key's alert, their organization; not a colleague's log or alert,
    # not the organization-wide budget alert, not the wallet (team money).
    assert _answer(result) == [
        ids[0],
        None,
        ids[2],
        None,
        None,
        None,
        ids[6],
        None,
        None,
        None,
        None,
        None,
        None,
        ids[13],
    ]


@pytest.mark.parametrize("role", [Role.OWNER, Role.MEMBER])
async def test_node_answers_alert_events_and_wallet_entries_as_nodes_does(
    client: httpx.AsyncClient, tenants: tuple[Tenant, Tenant], role: Role
) -> None:
    acme, _ = tenants
    token = acme.tokens[role]
    alert = await gql(client, token, NODE, id=acme.member_alert)
    entry = await gql(client, token, NODE, id=acme.deposit)

    assert alert.data == {"node": {"__typename": "AlertEvent", "id": acme.member_alert}}
    expected_entry = {"__typename": "WalletEntry", "id": acme.deposit}
    assert entry.data == {"node": expected_entry if role == Role.OWNER else None}


async def test_more_ids_than_the_bound_is_bad_user_input(
    client: httpx.AsyncClient, tenants: tuple[Tenant, Tenant]
) -> None:
    acme, _ = tenants
    ids = [acme.member_log] * (MAX_NODE_IDS + 1)
    result = await gql(client, acme.tokens[Role.OWNER], NODES, ids=ids)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["message"] == f"ids: at most {MAX_NODE_IDS} ids, got {MAX_NODE_IDS + 1}"
    assert result.data is None


async def test_the_bound_itself_is_answered(
    client: httpx.AsyncClient, tenants: tuple[Tenant, Tenant]
) -> None:
    acme, _ = tenants
    ids = [acme.member_log] * MAX_NODE_IDS
    result = await gql(client, acme.tokens[Role.OWNER], NODES, ids=ids)

    assert _answer(result) == ids


async def test_an_ingest_token_may_not_read_nodes(
    client: httpx.AsyncClient, tenants: tuple[Tenant, Tenant]
) -> None:
    acme, _ = tenants
    result = await gql(client, await make_ingest_token(acme.org), NODES, ids=[acme.member_log])

    assert result.error_codes == ["FORBIDDEN"]


def _named(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def test_every_connection_s_node_type_implements_node() -> None:
    graphql_schema = schema._schema
    node_interface = graphql_schema.type_map["Node"]
    assert isinstance(node_interface, GraphQLInterfaceType)
    connections = {
        name: named
        for name, named in graphql_schema.type_map.items()
        if name.endswith("Connection") and isinstance(named, GraphQLObjectType)
    }
    node_types = {
        name: _named(_named(connection.fields["edges"].type).fields["node"].type)
        for name, connection in connections.items()
    }
    assert sorted(node_types) == [
        "AlertEventConnection",
        "AuditEntryConnection",
        "LimitRequestConnection",
        "ReportConnection",
        "RequestLogConnection",
        "WalletEntryConnection",
    ]
    assert [name for name, t in node_types.items() if node_interface not in t.interfaces] == []


async def test_nodes_reads_each_batched_type_in_one_statement_whatever_the_count(
    client: httpx.AsyncClient, tenants: tuple[Tenant, Tenant]
) -> None:
    acme, _ = tenants
    org = acme.org
    key = await make_key(org, None, prefix="sk-acme-team")
    now = datetime.now(UTC)
    await store(*(make_record(org, key, None, now - timedelta(minutes=m)) for m in range(20)))
    log_ids = [
        encode_global_id("RequestLog", log.id)
        for log in await RequestLog.filter(organization_id=org.id, api_key_id=key.id)
    ]
    token = acme.tokens[Role.OWNER]

    with count_queries() as two:
        few = await gql(client, token, NODES, ids=[*log_ids[:2], acme.member_alert])
    with count_queries() as twenty:
        many = await gql(client, token, NODES, ids=[*log_ids, acme.member_alert])

    assert _answer(few) == [*log_ids[:2], acme.member_alert]
    assert _answer(many) == [*log_ids, acme.member_alert]
    assert len(log_ids) == 20
    # Besides authentication (the token's lookup and its throttled last-use update): one
    # statement for the logs, one for the alerts, however many ids.
    reads = [[q for q in log.statements if "access_token" not in q] for log in (two, twenty)]
    assert [len(r) for r in reads] == [2, 2]
    assert all("request_log" in r[0] and "alert_event" in r[1] for r in reads)
