"""Organization.requestLogs paging backwards (`last`/`before`): the same keyset order read
the other way, edges still newest first, no duplicate and no gap against forward paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from tortoise.transactions import in_transaction

from models.database import Dialect, connection, current_dialect
from models.global_ids import encode_global_id
from models.member import Role
from models.request_log import RequestLog
from resolvers.log_order import LogPosition
from resolvers.log_pages import LogPageRequest, page_query
from resolvers.periods import TimeRange
from resolvers.scope import LogFilter, Scope
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

FORWARD = """
query Forward($first: Int, $after: String) {
  organization {
    requestLogs(first: $first, after: $after) {
      edges { cursor node { id } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""
BACKWARD = """
query Backward($last: Int, $before: String) {
  organization {
    requestLogs(last: $last, before: $before) {
      edges { cursor node { id } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""
# Minutes ago of each stored log: ties on the timestamp are broken by id.
MINUTES_AGO = [5, 1, 5, 3, 1, 9, 7, 3]


def _recent(minutes_ago: int) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_ago)


@pytest.fixture
async def team(db: object) -> dict[str, Any]:
    """The Owner's logs (MINUTES_AGO) and a Member's own 3, in one organization."""
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    member = await make_member(org, Role.MEMBER, email="member@example.com")
    owner_key = await make_key(org, owner, prefix="sk-owner")
    member_key = await make_key(org, member, prefix="sk-member")
    await store(*[make_record(org, owner_key, owner, _recent(m)) for m in MINUTES_AGO])
    await store(*[make_record(org, member_key, member, _recent(m)) for m in (2, 4, 6)])
    logs = await RequestLog.filter(organization_id=org.id)
    return {
        "owner": await make_token(owner),
        "member": await make_token(member),
        "all": _newest_first(logs),
        "member_only": _newest_first([log for log in logs if log.member_id == member.id]),
    }


def _newest_first(logs: list[RequestLog]) -> list[str]:
    ordered = sorted(logs, key=lambda log: (log.timestamp, log.id), reverse=True)
    return [encode_global_id("RequestLog", log.id) for log in ordered]


def _connection(result: Any) -> dict[str, Any]:
    assert result.errors is None, result.errors
    connection: dict[str, Any] = result.data["organization"]["requestLogs"]
    return connection


def _ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


def _flags(connection: dict[str, Any]) -> tuple[bool, bool]:
    info = connection["pageInfo"]
    return info["hasPreviousPage"], info["hasNextPage"]


async def test_paging_backwards_from_the_oldest_meets_every_log_once_in_order(
    client: httpx.AsyncClient, team: dict[str, Any]
) -> None:
    pages: list[list[str]] = []
    flags: list[tuple[bool, bool]] = []
    before = None
    while True:
        page = _connection(await gql(client, team["owner"], BACKWARD, last=3, before=before))
        pages.append(_ids(page))
        flags.append(_flags(page))
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]

    all_logs = team["all"]  # 11 logs: pages of 3 from the oldest are 3, 3, 3, 2
    assert pages == [all_logs[8:11], all_logs[5:8], all_logs[2:5], all_logs[0:2]]
    # (hasPreviousPage, hasNextPage): no `before` on the first, nothing newer on the last.
    assert flags == [(True, False), (True, True), (True, True), (False, True)]


async def test_a_backward_page_is_the_forward_page_before_it(
    client: httpx.AsyncClient, team: dict[str, Any]
) -> None:
    first = _connection(await gql(client, team["owner"], FORWARD, first=4))
    second = _connection(
        await gql(client, team["owner"], FORWARD, first=4, after=first["pageInfo"]["endCursor"])
    )
    back = _connection(
        await gql(client, team["owner"], BACKWARD, last=4, before=second["pageInfo"]["startCursor"])
    )

    assert _ids(back) == _ids(first) == team["all"][0:4]
    assert [edge["cursor"] for edge in back["edges"]] == [edge["cursor"] for edge in first["edges"]]
    assert _flags(back) == (False, True)


async def test_last_without_before_is_the_oldest_rows_newest_first(
    client: httpx.AsyncClient, team: dict[str, Any]
) -> None:
    page = _connection(await gql(client, team["owner"], BACKWARD, last=2))

    assert _ids(page) == team["all"][-2:]
    assert _flags(page) == (True, False)


async def test_a_member_pages_backwards_through_their_own_logs_only(
    client: httpx.AsyncClient, team: dict[str, Any]
) -> None:
    oldest = _connection(await gql(client, team["member"], BACKWARD, last=2))
    newest = _connection(
        await gql(
            client, team["member"], BACKWARD, last=2, before=oldest["pageInfo"]["startCursor"]
        )
    )

    assert _ids(newest) + _ids(oldest) == team["member_only"]
    assert _flags(newest) == (False, True)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            "first: 2, last: 2",
            "first/after page forwards and last/before backwards: give one pair, not both",
        ),
        (
            'after: "x", before: "y"',
            "first/after page forwards and last/before backwards: give one pair, not both",
        ),
        ("last: 0", "last: must be between 1 and 100, got 0"),
        ("last: 101", "last: must be between 1 and 100, got 101"),
        ('before: "zzz"', "before: not a valid cursor (use a cursor from a previous page)"),
    ],
)
async def test_bad_backward_arguments_are_bad_input_naming_them(
    client: httpx.AsyncClient, team: dict[str, Any], arguments: str, message: str
) -> None:
    query = f"{{ organization {{ requestLogs({arguments}) {{ edges {{ node {{ id }} }} }} }} }}"
    result = await gql(client, team["owner"], query)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["message"] == message


async def test_a_backward_page_query_is_served_in_order_by_the_organization_timestamp_index(
    db: object,
) -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    log_filter = LogFilter(TimeRange(at - timedelta(days=30), at), ZoneInfo("UTC"))
    request = LogPageRequest(size=50, backward=True, before=LogPosition(at - timedelta(days=1), 10))
    dialect = current_dialect()
    sql, params = page_query(Scope(1, None, 1, True), log_filter, request, dialect)

    assert "ORDER BY timestamp ASC, id ASC" in sql
    if dialect is Dialect.SQLITE:
        rows = await connection().execute_query_dict("EXPLAIN QUERY PLAN " + sql, params.values)
        plan = " ".join(str(row["detail"]) for row in rows)
        assert "INDEX request_log_org_ts" in plan
        assert "TEMP B-TREE" not in plan
    else:
        async with in_transaction() as conn:
            # As for forward pages: with scans and sorts forbidden, the index alone must
            # deliver the rows in page order (forwards through it, this time).
            await conn.execute_script(
                "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; "
                "SET LOCAL enable_sort = off"
            )
            rows = await conn.execute_query_dict("EXPLAIN " + sql, params.values)
        plan = " ".join(str(row["QUERY PLAN"]) for row in rows)
        assert "Index Scan using request_log_org_ts" in plan
        assert "Sort" not in plan
