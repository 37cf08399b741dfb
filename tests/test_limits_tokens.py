"""Document size: at most AIZE_MAX_QUERY_TOKENS lexical tokens, checked while parsing."""

from __future__ import annotations

import dataclasses

import httpx

from models.member import Role
from settings import Settings
from tests.factories import gql, make_member, make_org, make_token
from tests.http_clients import client_for
from tests.probe_schema import probe_app


async def _owner_token() -> str:
    org = await make_org()
    return await make_token(await make_member(org, Role.OWNER))


async def test_a_document_over_the_token_limit_is_refused_as_too_complex(db: Settings) -> None:
    # `{ folder { name name ... } }`: 4 braces + folder + 200 names = 205 tokens
    query = "{ folder { " + "name " * 200 + "} }"
    async with client_for(probe_app(dataclasses.replace(db, max_query_tokens=200))) as http:
        result = await gql(http, await _owner_token(), query)
    assert result.data is None
    assert result.error_codes == ["QUERY_TOO_COMPLEX"]
    assert result.errors is not None
    assert result.errors[0]["message"] == (
        "The query has more than 200 tokens; at most 200 are allowed."
    )
    assert result.errors[0]["extensions"] == {"code": "QUERY_TOO_COMPLEX", "limit": 200}


async def test_comments_count_as_tokens(db: Settings) -> None:
    query = "{ folder { name } }\n" + "# padding\n" * 300
    async with client_for(probe_app(dataclasses.replace(db, max_query_tokens=200))) as http:
        result = await gql(http, await _owner_token(), query)
    assert result.error_codes == ["QUERY_TOO_COMPLEX"]


async def test_a_document_within_the_limit_runs(db: Settings) -> None:
    query = "{ folder { " + "name " * 190 + "} }"
    async with client_for(probe_app(dataclasses.replace(db, max_query_tokens=200))) as http:
        result = await gql(http, await _owner_token(), query)
    assert result.errors is None


async def test_the_standard_introspection_query_fits_the_default_limit(
    client: httpx.AsyncClient,
) -> None:
    from graphql import get_introspection_query

    query = get_introspection_query(descriptions=True, input_value_deprecation=True)
    result = await gql(client, await _owner_token(), query)
    assert result.errors is None
    assert result.data is not None
    assert result.data["__schema"]["queryType"]["name"] == "Query"


async def test_a_plain_syntax_error_stays_bad_user_input(client: httpx.AsyncClient) -> None:
    result = await gql(client, await _owner_token(), "{ viewer { role }")
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["message"].startswith("Syntax Error: Expected Name, found <EOF>.")
