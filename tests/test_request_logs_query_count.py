"""Organization.requestLogs runs a fixed number of SQL statements, whatever the page size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from models.member import Member, Role
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store
from tests.query_counter import QueryLog, count_queries

PAGE_WITH_KEYS_AND_MEMBERS = """
query Page($first: Int) {
  organization {
    requestLogs(first: $first) {
      totalCount
      edges { cursor node { requestId customerCost apiKey { label } member { name } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


async def _organization_with_logs(rows: int, viewer_role: Role) -> tuple[Member, int]:
    """An organization whose logs each use a different key and (mostly) a different member;
    returns the viewer and how many logs they can see."""
    org = await make_org()
    viewer = await make_member(org, viewer_role)
    others = [await make_member(org, Role.MEMBER) for _ in range(rows // 4)]
    now = datetime.now(UTC)
    records = []
    for n in range(rows):
        # A Member sees only their own rows, so for them every row is theirs (on many keys).
        member = viewer if viewer_role is Role.MEMBER else [viewer, *others][n % (len(others) + 1)]
        key = await make_key(org, None)
        records.append(make_record(org, key, member, now - timedelta(seconds=n + 1)))
    await store(*records)
    return viewer, rows


async def _measure(client: httpx.AsyncClient, viewer: Member, rows: int) -> QueryLog:
    token = await make_token(viewer)
    with count_queries() as queries:
        result = await gql(client, token, PAGE_WITH_KEYS_AND_MEMBERS, first=100)
    assert result.errors is None, result.errors
    assert result.data is not None
    edges = result.data["organization"]["requestLogs"]["edges"]
    assert len(edges) == rows
    assert all(edge["node"]["apiKey"] and edge["node"]["member"] for edge in edges)
    return queries


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.MEMBER])
async def test_a_page_of_100_logs_with_keys_and_members_runs_as_many_statements_as_10(
    client: httpx.AsyncClient, role: Role
) -> None:
    small_viewer, small_rows = await _organization_with_logs(10, role)
    large_viewer, large_rows = await _organization_with_logs(100, role)

    small = await _measure(client, small_viewer, small_rows)
    large = await _measure(client, large_viewer, large_rows)

    assert large.count == small.count
    # Keys and members come with the page's rows, in its statement, however many it holds.
    assert not [s for s in large.statements if 'FROM "api_key"' in s or 'FROM "member"' in s]
    pages = [s for s in large.statements if "FROM request_log" in s and "ORDER BY" in s]
    assert len(pages) == 1
    assert "LEFT JOIN api_key" in pages[0] and "LEFT JOIN member" in pages[0]
