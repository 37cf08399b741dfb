"""A log page reads the keys and members its selection asks for in the page's own statement,
whether the fields are selected directly or through fragments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from graph.types.api_key import ApiKeyType
from graph.types.member import MemberType
from graph.types.request_log import RequestLogType
from models.api_key import ApiKey, KeyStatus
from models.member import Member, Role
from resolvers.log_pages import LogPageRequest, request_log_page
from resolvers.periods import TimeRange
from resolvers.scope import LogFilter, Scope
from settings import Settings
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


def _reads(statements: list[str]) -> tuple[int, int, int, int]:
    """Statements reading keys and members on their own, and page statements joining them."""
    return (
        len([s for s in statements if 'FROM "api_key"' in s]),
        len([s for s in statements if 'FROM "member"' in s]),
        len([s for s in statements if "FROM request_log" in s and "JOIN api_key" in s]),
        len([s for s in statements if "FROM request_log" in s and "JOIN member" in s]),
    )


@pytest.mark.parametrize(
    ("fields", "key_joins", "member_joins"),
    [
        ("requestId apiKey { label } member { name }", 1, 1),
        ("requestId apiKey { label }", 1, 0),
        ("requestId member { name }", 0, 1),
        ("requestId", 0, 0),
    ],
)
async def test_a_page_reads_only_the_keys_and_members_it_shows(
    client: httpx.AsyncClient, fields: str, key_joins: int, member_joins: int
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
    assert _reads(queries.statements) == (0, 0, key_joins, member_joins)


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
    assert _reads(queries.statements) == (0, 0, 1, 1)


@pytest.mark.parametrize(("role", "sees_other_key"), [(Role.MEMBER, False), (Role.ADMIN, True)])
async def test_keys_and_members_read_with_the_page_stay_within_the_viewers_scope(
    client: httpx.AsyncClient, role: Role, sees_other_key: bool
) -> None:
    org = await make_org()
    viewer = await make_member(org, role)
    colleague = await make_member(org, Role.MEMBER)
    team_key = await make_key(org, None, label="team")
    colleagues_key = await make_key(org, colleague, label="colleague's")
    now = datetime.now(UTC)
    await store(
        make_record(org, team_key, viewer, now - timedelta(minutes=1)),
        # The viewer's request through a colleague's personal key: a Member may not see it.
        make_record(org, colleagues_key, viewer, now - timedelta(minutes=2)),
    )

    result = await gql(
        client, await make_token(viewer), PAGE.format(fields="apiKey { label } member { name }")
    )

    assert result.errors is None, result.errors
    nodes = [e["node"] for e in result.data["organization"]["requestLogs"]["edges"]]  # type: ignore[index]
    assert nodes == [
        {"apiKey": {"label": "team"}, "member": {"name": viewer.name}},
        {
            "apiKey": {"label": "colleague's"} if sees_other_key else None,
            "member": {"name": viewer.name},
        },
    ]


async def test_keys_and_members_read_with_the_page_equal_the_orm_objects(db: Settings) -> None:
    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    person = await make_member(org, Role.ADMIN)
    keys = [
        await make_key(
            org,
            person,
            allowed_models=["gpt-4o", "claude-3-opus"],
            status=KeyStatus.REVOKED,
            status_reason="rotated",
            monthly_limit_nanos=12_345_000_000,
        ),
        await make_key(org, None),
    ]
    now = datetime.now(UTC)
    await store(
        make_record(org, keys[0], person, now - timedelta(minutes=1)),
        make_record(org, keys[1], None, now - timedelta(minutes=2)),
    )
    scope = Scope(org.id, None, owner.id, True)
    log_filter = LogFilter(TimeRange(now - timedelta(hours=1), now), ZoneInfo("UTC"))

    read = await request_log_page(
        scope, log_filter, LogPageRequest(size=10), with_keys=True, with_members=True
    )

    assert read.api_keys is not None and read.members is not None
    assert {pk: ApiKeyType.from_model(k) for pk, k in read.api_keys.items() if k} == {
        key.id: ApiKeyType.from_model(await ApiKey.get(id=key.id)) for key in keys
    }
    assert {pk: MemberType.from_model(m) for pk, m in read.members.items() if m} == {
        person.id: MemberType.from_model(await Member.get(id=person.id))
    }
