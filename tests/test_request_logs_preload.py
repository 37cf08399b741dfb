"""A log page loads the keys and members its selection asks for in one statement each, up
front, whether the fields are selected directly or through fragments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from graph.types.request_log import RequestLogType
from models.member import Role
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store
from tests.query_counter import count_queries

PAGE = "query {{ organization {{ requestLogs(first: 20) {{ edges {{ node {{ {fields} }} }} }} }} }}"
WITH_FRAGMENT = """
query { organization { requestLogs(first: 20) { edges { node { ...Who } } } } }
fragment Who on RequestLog { requestId apiKey { label } member { name } }
"""


async def _page_owner() -> tuple[str, dict[str, tuple[str, str | None]]]:
    """An owner's token and, per request id, the (key label, member name) of its log."""
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    people = [await make_member(org, Role.MEMBER) for _ in range(3)]
    keys = [await make_key(org, people[0]), await make_key(org, None)]
    now = datetime.now(UTC)
    records = [
        make_record(
            org, keys[i % 2], None if i % 5 == 0 else people[i % 3], now - timedelta(minutes=i + 1)
        )
        for i in range(12)
    ]
    await store(*records)
    label = {k.id: k.label for k in keys}
    name = {p.id: p.name for p in people}
    expected = {
        str(r.request_id): (label[r.api_key_id], None if r.member_id is None else name[r.member_id])
        for r in records
    }
    return await make_token(owner), expected


@pytest.mark.parametrize(
    ("fields", "key_reads", "member_reads"),
    [
        ("requestId apiKey { label } member { name }", 1, 1),
        ("requestId apiKey { label }", 1, 0),
        ("requestId member { name }", 0, 1),
        ("requestId", 0, 0),
    ],
)
async def test_a_page_reads_only_the_keys_and_members_it_shows(
    client: httpx.AsyncClient, fields: str, key_reads: int, member_reads: int
) -> None:
    token, expected = await _page_owner()

    with count_queries() as queries:
        result = await gql(client, token, PAGE.format(fields=fields))

    assert result.errors is None, result.errors
    edges = result.data["organization"]["requestLogs"]["edges"]  # type: ignore[index]
    for edge in edges:
        label, name = expected[edge["node"]["requestId"]]
        if "apiKey" in fields:
            assert edge["node"]["apiKey"] == {"label": label}
        if "member" in fields:
            assert edge["node"]["member"] == (None if name is None else {"name": name})
    assert len([s for s in queries.statements if 'FROM "api_key"' in s]) == key_reads
    assert len([s for s in queries.statements if 'FROM "member"' in s]) == member_reads


async def test_fields_selected_through_a_fragment_are_preloaded_too(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, expected = await _page_owner()

    async def not_preloaded(*args: object) -> None:
        raise AssertionError("loaded one by one instead of preloaded")

    monkeypatch.setattr(RequestLogType, "_load_api_key", not_preloaded)
    monkeypatch.setattr(RequestLogType, "_load_member", not_preloaded)

    with count_queries() as queries:
        result = await gql(client, token, WITH_FRAGMENT)

    assert result.errors is None, result.errors
    nodes = [e["node"] for e in result.data["organization"]["requestLogs"]["edges"]]  # type: ignore[index]
    assert {
        n["requestId"]: (n["apiKey"]["label"], n["member"] and n["member"]["name"]) for n in nodes
    } == expected
    assert len([s for s in queries.statements if 'FROM "api_key"' in s]) == 1
    assert len([s for s in queries.statements if 'FROM "member"' in s]) == 1
