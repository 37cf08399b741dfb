"""Organization.requestLogs(orderBy:): every order, both directions, keyset pages that stay
exact while requests arrive between them, ties, and cursors of another order refused."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models.api_key import ApiKey
from models.global_ids import decode_global_id_of, encode_global_id
from models.member import Member, Role
from models.organization import Organization
from models.priced_record import PricedRecord
from models.request_log import RequestLog
from resolvers.log_order import LogOrder, LogOrderField
from resolvers.usage import SortDirection
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

PAGE = """
query Page($first: Int, $after: String, $orderBy: RequestLogOrder) {
  organization {
    requestLogs(first: $first, after: $after, orderBy: $orderBy) {
      edges { cursor node { id customerCost latencyMs totalTokens timestamp } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

ORDERS = [
    LogOrder(field, direction)
    for field, direction in itertools.product(LogOrderField, SortDirection)
]
_NOW = datetime.now(UTC).replace(microsecond=0)


def _values(index: int) -> dict[str, Any]:
    """A log's sort values: few distinct ones, so every order has ties."""
    cost = (index % 4) * 1_000_000
    return {
        "provider_cost_nanos": cost,
        "markup_nanos": 0,
        "fixed_fee_nanos": 0,
        "customer_cost_nanos": cost,
        "latency_ms": 100 * (index % 3),
        "input_tokens": 10 * (index % 5),
        "output_tokens": 7,
    }


class Writer:
    """Stores logs for one organization, each with its own sort values."""

    def __init__(self, org: Organization, key: ApiKey, member: Member) -> None:
        self.org, self.key, self.member = org, key, member
        self.count = 0

    async def write(self, how_many: int, minutes_ago: Callable[[int], int]) -> None:
        records: list[PricedRecord] = []
        for _ in range(how_many):
            self.count += 1
            at = _NOW - timedelta(minutes=minutes_ago(self.count))
            records.append(make_record(self.org, self.key, self.member, at, **_values(self.count)))
        await store(*records)


def _sort_key(order: LogOrder) -> Callable[[RequestLog], tuple[Any, int]]:
    column = order.field.column
    return lambda log: (getattr(log, column), log.id)


async def _page(
    client: httpx.AsyncClient, token: str, order: LogOrder, after: str | None
) -> dict[str, Any]:
    result = await gql(
        client,
        token,
        PAGE,
        first=4,
        after=after,
        orderBy={"field": order.field.value, "direction": order.direction.value},
    )
    assert result.errors is None, result.errors
    connection: dict[str, Any] = result.data["organization"]["requestLogs"]  # type: ignore[index]
    return connection


@pytest.mark.parametrize("order", ORDERS, ids=lambda o: f"{o.field.value}-{o.direction.value}")
async def test_pages_return_each_log_once_in_order_while_requests_arrive(
    client: httpx.AsyncClient, order: LogOrder
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    writer = Writer(org, await make_key(org, owner), owner)
    token = await make_token(owner)
    # 13 logs, two per minute (equal timestamps too), then 2 more before every next page:
    # one a minute newer than any, one older than any.
    await writer.write(13, lambda n: 60 - n // 2)
    existing = {log.id for log in await RequestLog.filter(organization_id=org.id)}
    key = _sort_key(order)

    seen: list[str] = []
    must_appear: set[int] = set()
    after: str | None = None
    last: tuple[Any, int] | None = None
    while True:
        connection = await _page(client, token, order, after)
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
        last_id = int(_pk(seen[-1]))
        last = key(await RequestLog.get(id=last_id))
        before = writer.count
        await writer.write(1, lambda n: 1)
        await writer.write(1, lambda n: 120 + n)
        for log in await RequestLog.filter(organization_id=org.id, id__gt=before):
            # A new log sorting after the page's last row must come on a later page.
            if (key(log) < last) if order.descending else (key(log) > last):
                must_appear.add(log.id)

    shown = [int(_pk(gid)) for gid in seen]
    assert len(shown) == len(set(shown)), "a log was returned twice"
    assert existing <= set(shown), "a log that existed before paging began was skipped"
    assert must_appear <= set(shown)
    logs = {log.id: log for log in await RequestLog.filter(id__in=shown)}
    keys = [key(logs[pk]) for pk in shown]
    assert keys == sorted(keys, reverse=order.descending)
    assert last is not None


def _pk(global_id: str) -> str:
    decoded = decode_global_id_of(global_id, "RequestLog")
    assert decoded is not None
    return str(decoded)


async def test_ties_on_cost_are_ordered_by_id_in_the_same_direction(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    at = _NOW - timedelta(minutes=5)
    costs = [5, 9, 5, 1, 9, 5]
    await store(
        *[
            make_record(
                org,
                key,
                owner,
                at,
                provider_cost_nanos=c,
                markup_nanos=0,
                fixed_fee_nanos=0,
                customer_cost_nanos=c,
            )
            for c in costs
        ]
    )
    token = await make_token(owner)
    logs = await RequestLog.filter(organization_id=org.id)
    assert sorted(log.customer_cost_nanos for log in logs) == sorted(costs)

    desc = await _page(client, token, LogOrder(LogOrderField.CUSTOMER_COST), None)
    second = await _page(
        client, token, LogOrder(LogOrderField.CUSTOMER_COST), desc["pageInfo"]["endCursor"]
    )

    # Equal costs: the higher id first, as the cost itself (DESC).
    ordered = sorted(logs, key=lambda log: (log.customer_cost_nanos, log.id), reverse=True)
    expected = [log.id for log in ordered]
    assert [log.customer_cost_nanos for log in ordered] == [9, 9, 5, 5, 5, 1]
    got = [e["node"]["id"] for e in desc["edges"] + second["edges"]]
    assert got == [encode_global_id("RequestLog", pk) for pk in expected]
    assert [e["node"]["customerCost"] for e in desc["edges"]] == [
        "0.000000009",
        "0.000000009",
        "0.000000005",
        "0.000000005",
    ]


async def test_oldest_first_is_timestamp_ascending(client: httpx.AsyncClient) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(*[make_record(org, key, owner, _NOW - timedelta(minutes=m)) for m in (3, 9, 1)])
    token = await make_token(owner)

    page = await _page(client, token, LogOrder(LogOrderField.TIMESTAMP, SortDirection.ASC), None)

    times = [e["node"]["timestamp"] for e in page["edges"]]
    assert times == sorted(times)
    assert len(times) == 3


@pytest.mark.parametrize(
    ("cursor_order", "asked_order", "message"),
    [
        (
            LogOrder(),
            LogOrder(LogOrderField.LATENCY),
            "after: this cursor belongs to orderBy TIMESTAMP DESC; with orderBy LATENCY DESC",
        ),
        (
            LogOrder(LogOrderField.CUSTOMER_COST),
            LogOrder(LogOrderField.CUSTOMER_COST, SortDirection.ASC),
            "after: this cursor belongs to orderBy CUSTOMER_COST DESC; with orderBy "
            "CUSTOMER_COST ASC",
        ),
        (
            LogOrder(LogOrderField.TOTAL_TOKENS),
            LogOrder(),
            "after: this cursor belongs to orderBy TOTAL_TOKENS DESC; with orderBy TIMESTAMP DESC",
        ),
    ],
)
async def test_a_cursor_of_another_order_is_refused_naming_both_orders(
    client: httpx.AsyncClient, cursor_order: LogOrder, asked_order: LogOrder, message: str
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(*[make_record(org, key, owner, _NOW - timedelta(minutes=m)) for m in range(6)])
    token = await make_token(owner)
    cursor = (await _page(client, token, cursor_order, None))["pageInfo"]["endCursor"]

    result = await gql(
        client,
        token,
        PAGE,
        after=cursor,
        orderBy={"field": asked_order.field.value, "direction": asked_order.direction.value},
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["message"].startswith(message)


@pytest.mark.parametrize(
    "cursor",
    [
        "nonsense",
        "azI6TEFURU5DWTpERVNDOng6MQ",  # k2:LATENCY:DESC:x:1
        "azI6TEFURU5DWTpERVNDOjEwOjA",  # k2:LATENCY:DESC:10:0
        "azI6Rk9POkRFU0M6MTox",  # k2:FOO:DESC:1:1
        "azI6TEFURU5DWTpERVNDOjIxNDc0ODM2NDg6MQ",  # k2:LATENCY:DESC:2147483648:1
    ],
    ids=["not-base64", "value-not-integer", "id-zero", "unknown-field", "latency-overflow"],
)
async def test_a_forged_cursor_is_refused_as_invalid(
    client: httpx.AsyncClient, cursor: str
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    token = await make_token(owner)

    result = await gql(
        client, token, PAGE, after=cursor, orderBy={"field": "LATENCY", "direction": "DESC"}
    )

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["message"].startswith("after: not a valid cursor")


async def test_a_member_ordering_by_cost_sees_only_their_own_requests(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    alice = await make_member(org, Role.MEMBER)
    owner_key, alice_key = await make_key(org, owner), await make_key(org, alice)
    at = _NOW - timedelta(minutes=5)
    await store(
        *[make_record(org, owner_key, owner, at, **_values(n)) for n in range(1, 9)],
        *[make_record(org, alice_key, alice, at, **_values(n)) for n in range(3, 6)],
    )
    own = await RequestLog.filter(member_id=alice.id)
    expected = sorted(own, key=lambda log: (log.customer_cost_nanos, log.id), reverse=True)

    page = await _page(client, await make_token(alice), LogOrder(LogOrderField.CUSTOMER_COST), None)
    rest = await _page(
        client,
        await make_token(alice),
        LogOrder(LogOrderField.CUSTOMER_COST),
        page["pageInfo"]["endCursor"],
    )

    shown = [e["node"]["id"] for e in page["edges"] + rest["edges"]]
    assert shown == [encode_global_id("RequestLog", log.id) for log in expected]
