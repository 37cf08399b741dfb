"""Introspection is for authenticated tokens only (BI tools need it; strangers do not)."""

from __future__ import annotations

import httpx
from graphql import get_introspection_query

from models.member import Role
from tests.factories import gql, make_ingest_token, make_member, make_org, make_token

INTROSPECTION = get_introspection_query(descriptions=True)


async def test_introspection_without_a_token_is_refused_before_parsing(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/graphql", json={"query": INTROSPECTION})

    assert response.status_code == 401
    assert response.json() == {
        "errors": [
            {
                "message": "missing bearer token: send 'Authorization: Bearer <token>'",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ]
    }
    assert "__schema" not in response.text


async def test_introspection_by_get_without_a_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ __schema { types { name } } }"})
    assert response.status_code == 401


async def test_introspection_with_a_bad_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": '{ __type(name: "Organization") { name } }'},
        headers={"Authorization": "Bearer aize_" + "x" * 40},
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "unknown token"


async def test_a_member_token_can_introspect_the_whole_schema(client: httpx.AsyncClient) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.MEMBER))

    result = await gql(client, token, INTROSPECTION)

    assert result.errors is None
    assert result.data is not None
    names = {t["name"] for t in result.data["__schema"]["types"]}
    assert {"Query", "Organization", "RequestLog", "UsageFilter"} <= names


async def test_an_ingest_token_can_introspect_too(client: httpx.AsyncClient) -> None:
    org = await make_org()
    result = await gql(client, await make_ingest_token(org), "{ __schema { queryType { name } } }")
    assert result.errors is None
    assert result.data == {"__schema": {"queryType": {"name": "Query"}}}


async def test_a_stranger_gets_no_field_suggestions(client: httpx.AsyncClient) -> None:
    # Misspelled fields are where "Did you mean ...?" would leak schema names.
    response = await client.post("/graphql", json={"query": "{ organizaton { nme } }"})
    assert response.status_code == 401
    assert "Did you mean" not in response.text
    assert "organization" not in response.text


async def test_an_authenticated_caller_gets_no_suggestions_either(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.MEMBER))
    result = await gql(client, token, "{ organizaton { name } }")
    assert result.errors is not None
    assert result.errors[0]["message"] == "Cannot query field 'organizaton' on type 'Query'."
