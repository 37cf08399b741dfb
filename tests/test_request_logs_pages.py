"""Organization.requestLogs paging: newest first, keyset cursors, limits, totalCount."""

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
from resolvers.scope import LogFilter, Scope, StatusClass
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store
from tests.query_counter import count_queries

PAGE = """
query Page($first: Int, $after: String) {
  organization {
    requestLogs(first: $first, after: $after) {
      edges { cursor node { id } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
}
"""

DEFAULT_PAGE = """
{ organization { requestLogs { edges { node { id } } pageInfo { hasNextPage endCursor } } } }
"""

COUNTED = """
query Counted($first: Int, $after: String) {
  organization { requestLogs(first: $first, after: $after) { totalCount edges { node { id } } } }
}
"""


def _recent(minutes_ago: int) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_ago)


async def _owner_with_logs(minutes_ago: list[int]) -> tuple[str, list[RequestLog]]:
    """An Owner's token and their organization's logs, stored in the given order."""
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(*[make_record(org, key, owner, _recent(m)) for m in minutes_ago])
    logs = await RequestLog.filter(organization_id=org.id).order_by("id")
    return await make_token(owner), logs


def _newest_first(logs: list[RequestLog]) -> list[str]:
    ordered = sorted(logs, key=lambda log: (log.timestamp, log.id), reverse=True)
    return [encode_global_id("RequestLog", log.id) for log in ordered]


def _connection(result: Any) -> dict[str, Any]:
    assert result.errors is None, result.errors
    connection_data: dict[str, Any] = result.data["organization"]["requestLogs"]
    return connection_data


def _ids(connection_data: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection_data["edges"]]


async def test_logs_come_newest_first_with_the_higher_id_first_on_equal_timestamps(
    client: httpx.AsyncClient,
) -> None:
    token, logs = await _owner_with_logs([5, 1, 5, 3, 1])

    page = _connection(await gql(client, token, PAGE, first=10))

    assert _ids(page) == _newest_first(logs)


async def test_default_page_holds_50_logs_and_after_continues_with_the_rest(
    client: httpx.AsyncClient,
) -> None:
    token, logs = await _owner_with_logs(list(range(60)))

    first = _connection(await gql(client, token, DEFAULT_PAGE))
    second = _connection(await gql(client, token, PAGE, after=first["pageInfo"]["endCursor"]))

    assert len(first["edges"]) == 50
    assert first["pageInfo"]["hasNextPage"] is True
    assert len(second["edges"]) == 10
    assert second["pageInfo"]["hasNextPage"] is False
    assert _ids(first) + _ids(second) == _newest_first(logs)


async def test_paging_returns_every_log_exactly_once_when_timestamps_are_equal(
    client: httpx.AsyncClient,
) -> None:
    token, logs = await _owner_with_logs([7] * 8 + [3] * 5)

    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        page = _connection(await gql(client, token, PAGE, first=3, after=after))
        seen.extend(_ids(page))
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == _newest_first(logs)
    assert pages == 5


async def test_page_info_cursors_are_the_first_and_last_edge_cursors(
    client: httpx.AsyncClient,
) -> None:
    token, _ = await _owner_with_logs([1, 2, 3, 4])

    first = _connection(await gql(client, token, PAGE, first=2))
    second = _connection(
        await gql(client, token, PAGE, first=2, after=first["pageInfo"]["endCursor"])
    )

    assert first["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": first["edges"][0]["cursor"],
        "endCursor": first["edges"][1]["cursor"],
    }
    assert second["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": second["edges"][0]["cursor"],
        "endCursor": second["edges"][1]["cursor"],
    }


async def test_logs_arriving_between_pages_do_not_shift_the_next_page(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    older = [make_record(org, key, owner, _recent(m)) for m in (10, 20, 30, 40)]
    await store(*older)
    token = await make_token(owner)
    first = _connection(await gql(client, token, PAGE, first=2))

    await store(make_record(org, key, owner, _recent(0)), make_record(org, key, owner, _recent(15)))
    second = _connection(
        await gql(client, token, PAGE, first=2, after=first["pageInfo"]["endCursor"])
    )

    expected = [await RequestLog.get(request_id=r.request_id) for r in older[2:]]
    assert _ids(second) == [encode_global_id("RequestLog", log.id) for log in expected]


async def test_an_organization_without_logs_answers_an_empty_page(
    client: httpx.AsyncClient,
) -> None:
    token, _ = await _owner_with_logs([])

    page = _connection(await gql(client, token, PAGE))

    assert page == {
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }


@pytest.mark.parametrize("first", [0, -5, 101])
async def test_first_outside_1_to_100_is_refused_naming_first(
    client: httpx.AsyncClient, first: int
) -> None:
    token, _ = await _owner_with_logs([1])

    result = await gql(client, token, PAGE, first=first)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["message"] == f"first: must be between 1 and 100, got {first}"


async def test_first_of_100_returns_a_full_page_of_100(client: httpx.AsyncClient) -> None:
    token, _ = await _owner_with_logs(list(range(101)))

    page = _connection(await gql(client, token, PAGE, first=100))

    assert len(page["edges"]) == 100
    assert page["pageInfo"]["hasNextPage"] is True


async def test_explicit_null_first_means_the_default_of_50(client: httpx.AsyncClient) -> None:
    token, _ = await _owner_with_logs(list(range(51)))

    page = _connection(await gql(client, token, PAGE, first=None))

    assert len(page["edges"]) == 50


@pytest.mark.parametrize(
    "after",
    ["garbage", "azE6eHl6OjE", encode_global_id("RequestLog", 1), "a" * 4000],
)
async def test_malformed_after_is_refused_naming_after(
    client: httpx.AsyncClient, after: str
) -> None:
    token, _ = await _owner_with_logs([1])

    result = await gql(client, token, PAGE, after=after)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["message"].startswith("after: not a valid cursor")


async def test_total_count_counts_every_matching_log_across_pages(
    client: httpx.AsyncClient,
) -> None:
    token, _ = await _owner_with_logs(list(range(7)))

    page = _connection(await gql(client, token, COUNTED, first=2))

    assert page["totalCount"] == 7
    assert len(page["edges"]) == 2


async def test_total_count_is_queried_only_when_selected(client: httpx.AsyncClient) -> None:
    token, _ = await _owner_with_logs(list(range(3)))

    with count_queries() as without_count:
        _connection(await gql(client, token, PAGE))
    with count_queries() as with_count:
        _connection(await gql(client, token, COUNTED))

    log_reads_without = [s for s in without_count.statements if "request_log" in s]
    log_reads_with = [s for s in with_count.statements if "request_log" in s]
    assert not [s for s in log_reads_without if "COUNT(" in s.upper()]
    assert len(log_reads_with) == len(log_reads_without) + 1
    assert "COUNT(*)" in log_reads_with[-1]


async def test_page_query_never_uses_offset(db: object) -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    log_filter = LogFilter(TimeRange(at - timedelta(days=30), at), ZoneInfo("UTC"))
    request = LogPageRequest(size=50, after=LogPosition(at - timedelta(days=1), 10))

    sql, _ = page_query(Scope(1, None, 1, True), log_filter, request, current_dialect())

    assert "OFFSET" not in sql.upper()
    assert "ORDER BY timestamp DESC, id DESC" in sql


async def test_next_page_query_is_served_in_order_by_the_organization_timestamp_index(
    db: object,
) -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    log_filter = LogFilter(TimeRange(at - timedelta(days=30), at), ZoneInfo("UTC"))
    request = LogPageRequest(size=50, after=LogPosition(at - timedelta(days=1), 10))
    dialect = current_dialect()
    sql, params = page_query(Scope(1, None, 1, True), log_filter, request, dialect)

    if dialect is Dialect.SQLITE:
        rows = await connection().execute_query_dict("EXPLAIN QUERY PLAN " + sql, params.values)
        plan = " ".join(str(row["detail"]) for row in rows)
        assert "INDEX request_log_org_ts" in plan
        assert "TEMP B-TREE" not in plan
    else:
        async with in_transaction() as conn:
            # An empty table would be scanned; forbidding scans and sorts shows whether the
            # index alone can deliver the rows in page order.
            await conn.execute_script(
                "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; "
                "SET LOCAL enable_sort = off"
            )
            rows = await conn.execute_query_dict("EXPLAIN " + sql, params.values)
        plan = " ".join(str(row["QUERY PLAN"]) for row in rows)
        # The page reads its rows' columns from the heap, in the index's order: no sort.
        assert "Index Scan Backward using request_log_org_ts" in plan
        assert "Sort" not in plan


async def test_a_page_of_failed_requests_reads_the_failed_requests_index(db: object) -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    log_filter = LogFilter(
        TimeRange(at - timedelta(days=30), at),
        ZoneInfo("UTC"),
        models=("gpt-4o-mini",),
        status_classes=(StatusClass.CLIENT_ERROR, StatusClass.SERVER_ERROR),
    )
    request = LogPageRequest(size=50, after=LogPosition(at - timedelta(days=1), 10))
    dialect = current_dialect()
    sql, params = page_query(Scope(1, None, 1, True), log_filter, request, dialect)

    if dialect is Dialect.SQLITE:
        # SQLite keeps the index (migration 0008) but cannot prove a bound parameter's range.
        rows = await connection().execute_query_dict(
            "SELECT sql FROM sqlite_master WHERE name = 'request_log_failed_ts'"
        )
        assert "WHERE status_code >= 300" in rows[0]["sql"]
        return
    async with in_transaction() as conn:
        await conn.execute_script(
            "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; "
            "SET LOCAL enable_sort = off"
        )
        failed = await conn.execute_query_dict("EXPLAIN " + sql, params.values)
        every = LogFilter(log_filter.time_range, log_filter.timezone, models=("gpt-4o-mini",))
        sql, params = page_query(Scope(1, None, 1, True), every, request, dialect)
        mixed = await conn.execute_query_dict("EXPLAIN " + sql, params.values)
    # Only failed requests: the partial index, in page order. Any status: the full one.
    assert "Index Scan Backward using request_log_failed_ts" in " ".join(
        str(row["QUERY PLAN"]) for row in failed
    )
    assert "request_log_failed_ts" not in " ".join(str(row["QUERY PLAN"]) for row in mixed)
