"""graph.extensions.document_cache: each query text is parsed and checked by the standard
rules once, while the request-specific limits still apply to every request."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
import strawberry.schema.schema as strawberry_schema

from graph.extensions import document_cache
from models.member import Role
from settings import Settings
from tests.factories import gql, make_member, make_org, make_token
from web.app import create_app

NESTED = "{ organization { usage { totals { requests } } } }"


async def _owner_token() -> str:
    org = await make_org()
    return await make_token(await make_member(org, Role.OWNER))


def _client(settings: Settings) -> httpx.AsyncClient:
    app = create_app(settings, manage_database=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_a_repeated_query_is_parsed_once_and_answers_the_same(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await _owner_token()
    query = "{ organization { name timezone } } # document cache"
    first = await gql(client, token, query)
    parses: list[str] = []
    monkeypatch.setattr("strawberry.schema.schema.parse", lambda *a, **k: parses.append("parsed"))

    second = await gql(client, token, query)

    assert first.errors is None and second.data == first.data
    assert parses == []


async def test_an_invalid_query_is_refused_every_time(client: httpx.AsyncClient) -> None:
    token = await _owner_token()
    for _ in range(2):
        result = await gql(client, token, "{ organization { noSuchField } }")
        assert result.data is None
        assert result.error_codes == ["BAD_USER_INPUT"]


async def test_the_request_specific_limits_still_apply_to_a_cached_document(db: Settings) -> None:
    token = await _owner_token()
    strict = dataclasses.replace(db, max_query_depth=3)
    async with _client(db) as lenient_client, _client(strict) as strict_client:
        accepted = await gql(lenient_client, token, NESTED)
        refused = await gql(strict_client, token, NESTED)
        accepted_again = await gql(lenient_client, token, NESTED)

    assert accepted.errors is None and accepted_again.errors is None
    assert refused.error_codes == ["QUERY_TOO_COMPLEX"]


async def test_the_token_limit_is_part_of_what_is_cached(db: Settings) -> None:
    token = await _owner_token()
    query = "{ organization { name slug timezone tier } }"
    tight = dataclasses.replace(db, max_query_tokens=100)
    async with _client(db) as normal_client, _client(tight) as tight_client:
        assert (await gql(normal_client, token, query)).errors is None
        assert (await gql(tight_client, token, query + " " * 10 + "#" * 5)).errors is None
        padded = "{ organization { " + "name " * 120 + "} }"
        assert (await gql(normal_client, token, padded)).errors is None
        assert (await gql(tight_client, token, padded)).error_codes == ["QUERY_TOO_COMPLEX"]


def test_the_cache_is_bounded() -> None:
    assert document_cache.MAX_DOCUMENTS == 256
    assert len(document_cache._documents) <= document_cache.MAX_DOCUMENTS


async def test_the_cache_holds_at_most_its_bytes_of_query_text(db: Settings) -> None:
    token = await _owner_token()
    capacity = 32 * 1024  # entries of at most 1 KiB
    async with _client(dataclasses.replace(db, document_cache_bytes=capacity)) as http:
        for n in range(60):
            # Distinct 1,000-byte documents: 60 of them would take 60,000 bytes.
            query = f"{{ viewer {{ role }} }} # {n:03d} ".ljust(1000, "x")
            assert (await gql(http, token, query)).errors is None

    assert document_cache.cached_bytes() <= capacity
    assert document_cache.cached_bytes() == sum(e.size for e in document_cache._documents.values())
    assert len(document_cache._documents) <= capacity // 1000


async def test_a_document_over_its_share_of_the_cache_is_parsed_every_time(
    db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await _owner_token()
    query = "{ viewer { role } } # too big for the cache ".ljust(1025, "x")
    parses: list[str] = []
    real_parse = strawberry_schema.parse

    def counting_parse(*args: object, **kwargs: object) -> object:
        parses.append("parsed")
        return real_parse(*args, **kwargs)

    monkeypatch.setattr("strawberry.schema.schema.parse", counting_parse)
    async with _client(dataclasses.replace(db, document_cache_bytes=32 * 1024)) as http:
        for _ in range(2):
            assert (await gql(http, token, query)).errors is None

    assert parses == ["parsed", "parsed"]
    assert all(key[1] != query for key in document_cache._documents)


def test_the_cache_bytes_default_to_4_mib_and_are_read_from_the_environment() -> None:
    assert Settings.from_env({}).document_cache_bytes == 4 * 1024 * 1024
    assert Settings.from_env({"AIZE_DOCUMENT_CACHE_BYTES": "0"}).document_cache_bytes == 0
