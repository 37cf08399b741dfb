"""Organization.requestLogs(search:): a case-insensitive substring of the error message,
model, provider model or endpoint (PostgreSQL pg_trgm, SQLite FTS5), scoped, bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from models.member import Member, Role
from models.request_log import RequestLog
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

SEARCH = """
query Search($search: String, $orderBy: RequestLogOrder) {
  organization {
    requestLogs(search: $search, orderBy: $orderBy, first: 100) {
      totalCount edges { node { errorMessage model endpoint customerCost } }
    }
  }
}
"""
_NOW = datetime.now(UTC).replace(microsecond=0)

# (error message, model, provider model, endpoint, member: "owner" or "alice")
LOGS = [
    ("Upstream TIMEOUT after 30s", "gpt-4", "gpt-4-0613", "/v1/chat/completions", "owner"),
    ("rate limited: 50% of quota used", "gpt-4", "gpt-4-0613", "/v1/chat/completions", "alice"),
    ("bad value in field a_b", "claude-3", "claude-3-opus", "/v1/messages", "owner"),
    ('model said "no"', "gpt-4o", "gpt-4o-2024", "/v1/chat/completions", "owner"),
    (None, "text-embedding-3", "text-embedding-3-small", "/v1/embeddings", "alice"),
    ("connection timeout", "claude-3", "claude-3-haiku", "/v1/messages", "alice"),
    ("Ünïcode fehler", "gpt-4", "gpt-4-0613", "/v1/chat/completions", "owner"),
]


@pytest.fixture
async def team(db: object) -> dict[str, Member]:
    org = await make_org()
    people = {
        "owner": await make_member(org, Role.OWNER),
        "alice": await make_member(org, Role.MEMBER),
    }
    keys = {name: await make_key(org, member) for name, member in people.items()}
    records = []
    for index, (message, model, provider_model, endpoint, who) in enumerate(LOGS):
        records.append(
            make_record(
                org,
                keys[who],
                people[who],
                _NOW - timedelta(minutes=index + 1),
                status_code=500 if message else 200,
                error_message=message,
                model=model,
                provider_model=provider_model,
                endpoint=endpoint,
                provider_cost_nanos=(index + 1) * 1_000_000,
                markup_nanos=0,
                fixed_fee_nanos=0,
                customer_cost_nanos=(index + 1) * 1_000_000,
            )
        )
    # Another tenant's log that matches every search below: never shown.
    other = await make_org()
    stranger = await make_member(other, Role.OWNER)
    records.append(
        make_record(
            other,
            await make_key(other, stranger),
            stranger,
            _NOW,
            error_message="timeout 50% a_b claude embeddings",
            status_code=500,
        )
    )
    await store(*records)
    return people


async def _search(
    client: httpx.AsyncClient, member: Member, text: str, **variables: Any
) -> dict[str, Any]:
    result = await gql(client, await make_token(member), SEARCH, search=text, **variables)
    assert result.errors is None, result.errors
    logs: dict[str, Any] = result.data["organization"]["requestLogs"]  # type: ignore[index]
    return logs


def _messages(logs: dict[str, Any]) -> list[str | None]:
    return sorted((e["node"]["errorMessage"] or "") for e in logs["edges"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("timeout", ["Upstream TIMEOUT after 30s", "connection timeout"]),  # any case
        ("TimeOut after", ["Upstream TIMEOUT after 30s"]),
        ("50%", ["rate limited: 50% of quota used"]),  # % taken literally
        ("%", ["rate limited: 50% of quota used"]),
        ("a_b", ["bad value in field a_b"]),  # _ taken literally
        ('"no"', ['model said "no"']),  # quotes taken literally
        ("claude", ["bad value in field a_b", "connection timeout"]),  # model
        ("haiku", ["connection timeout"]),  # provider model
        ("embeddings", [""]),  # endpoint
        ("4o", ['model said "no"']),  # shorter than a trigram
        ("fehler", ["Ünïcode fehler"]),
        ("nothing like this", []),
    ],
)
async def test_search_matches_a_substring_of_the_searched_columns(
    client: httpx.AsyncClient, team: dict[str, Member], text: str, expected: list[str]
) -> None:
    logs = await _search(client, team["owner"], text)

    assert _messages(logs) == sorted(expected)
    assert logs["totalCount"] == len(expected)


async def test_a_member_searches_only_their_own_requests(
    client: httpx.AsyncClient, team: dict[str, Member]
) -> None:
    logs = await _search(client, team["alice"], "timeout")

    assert _messages(logs) == ["connection timeout"]
    assert logs["totalCount"] == 1


async def test_search_combines_with_an_order(
    client: httpx.AsyncClient, team: dict[str, Member]
) -> None:
    logs = await _search(
        client,
        team["owner"],
        "/v1/chat",
        orderBy={"field": "CUSTOMER_COST", "direction": "ASC"},
    )

    assert [e["node"]["customerCost"] for e in logs["edges"]] == [
        "0.001",
        "0.002",
        "0.004",
        "0.007",
    ]


async def test_search_follows_deleted_and_changed_logs(
    client: httpx.AsyncClient, team: dict[str, Member]
) -> None:
    await RequestLog.filter(error_message="connection timeout").delete()
    await RequestLog.filter(error_message="bad value in field a_b").update(
        error_message="still a timeout"
    )

    logs = await _search(client, team["owner"], "timeout")

    assert _messages(logs) == ["Upstream TIMEOUT after 30s", "still a timeout"]
    assert await _search(client, team["owner"], "a_b") == {"totalCount": 0, "edges": []}


@pytest.mark.parametrize("text", ["", "   ", None])
async def test_an_empty_search_matches_everything(
    client: httpx.AsyncClient, team: dict[str, Member], text: str | None
) -> None:
    logs = await _search(client, team["owner"], text)  # type: ignore[arg-type]

    assert logs["totalCount"] == len(LOGS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x" * 201, "search: at most 200 bytes (UTF-8), got 201"),
        ("€" * 67, "search: at most 200 bytes (UTF-8), got 201"),
        ("line\nbreak", "search: may not contain control characters"),
    ],
)
async def test_an_unusable_search_is_refused_naming_it(
    client: httpx.AsyncClient, team: dict[str, Member], text: str, message: str
) -> None:
    result = await gql(client, await make_token(team["owner"]), SEARCH, search=text)

    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["message"] == message


async def test_two_hundred_bytes_are_accepted(
    client: httpx.AsyncClient, team: dict[str, Member]
) -> None:
    logs = await _search(client, team["owner"], "€" * 66 + "ab")

    assert logs["totalCount"] == 0
