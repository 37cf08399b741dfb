"""GraphQL over HTTP: media types, status codes and error bodies of /graphql, per case.

Clients accepting `application/graphql-response+json` get 4xx without `data` for request
errors; `application/json` (and `*/*`, no Accept) keeps the legacy 200 with `"data": null`.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport
from starlette.applications import Starlette

from models.member import Role
from tests.factories import make_ingest_token, make_member, make_org, make_token
from web.graphql_http import APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, response_media_type

GRAPHQL_RESPONSE = f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8"
PARSE_ERROR = "{"
UNKNOWN_FIELD = "{ noSuchField }"
COERCION = {"query": "query Q($id: ID!) { node(id: $id) { id } }", "variables": {"id": None}}


@pytest.fixture
async def owner_token(db: object) -> str:
    return await make_token(await make_member(await make_org(), Role.OWNER))


def _headers(token: str, accept: str | None) -> dict[str, str]:
    headers = {"authorization": f"Bearer {token}"}
    if accept is not None:
        headers["accept"] = accept
    return headers


async def _post(
    client: httpx.AsyncClient, token: str, accept: str | None, body: dict[str, Any]
) -> httpx.Response:
    return await client.post("/graphql", json=body, headers=_headers(token, accept))


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, APPLICATION_JSON),
        ("", APPLICATION_JSON),
        ("*/*", APPLICATION_JSON),
        ("application/json", APPLICATION_JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE_JSON),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE_JSON),
        ("application/json, application/graphql-response+json;q=0.5", APPLICATION_JSON),
        ("application/graphql-response+json;q=0", APPLICATION_JSON),
        ("Application/GraphQL-Response+JSON", GRAPHQL_RESPONSE_JSON),
        ("text/html", APPLICATION_JSON),
    ],
)
def test_the_response_media_type_follows_accept_and_its_qualities(
    accept: str | None, expected: str
) -> None:
    assert response_media_type(accept) == expected


async def test_a_query_answers_200_in_the_media_type_the_client_accepts(
    client: httpx.AsyncClient, owner_token: str
) -> None:
    for accept, content_type in [
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        (None, "application/json"),
    ]:
        response = await _post(client, owner_token, accept, {"query": "{ __typename }"})
        assert (response.status_code, response.headers["content-type"]) == (200, content_type)
        assert response.json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize(
    "body",
    [{"query": PARSE_ERROR}, {"query": UNKNOWN_FIELD}, COERCION],
    ids=["parse", "validation", "variable-coercion"],
)
async def test_a_request_error_is_a_400_without_data_for_graphql_response_json(
    client: httpx.AsyncClient, owner_token: str, body: dict[str, Any]
) -> None:
    response = await _post(client, owner_token, GRAPHQL_RESPONSE_JSON, body)
    assert response.status_code == 400
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    answer = response.json()
    assert "data" not in answer
    assert len(answer["errors"]) == 1


@pytest.mark.parametrize(
    "body",
    [{"query": PARSE_ERROR}, {"query": UNKNOWN_FIELD}, COERCION],
    ids=["parse", "validation", "variable-coercion"],
)
async def test_a_request_error_keeps_the_legacy_200_with_null_data_for_application_json(
    client: httpx.AsyncClient, owner_token: str, body: dict[str, Any]
) -> None:
    response = await _post(client, owner_token, "application/json", body)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    assert answer["data"] is None
    assert len(answer["errors"]) == 1


async def test_an_executed_operation_with_null_data_still_answers_200(
    client: httpx.AsyncClient, db: object
) -> None:
    # An ingest token may not read: `organization` (non-null) fails while executing, so data
    # is null, yet the operation ran; the spec wants 2xx for a response with a data entry.
    token = await make_ingest_token(await make_org())
    response = await _post(
        client, token, GRAPHQL_RESPONSE_JSON, {"query": "{ organization { id } }"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    answer = response.json()
    assert answer["data"] is None
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["FORBIDDEN"]


@pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE_JSON, "application/json"])
async def test_a_mutation_over_get_is_a_405_allowing_post(
    client: httpx.AsyncClient, owner_token: str, accept: str
) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "mutation { __typename }"},
        headers=_headers(owner_token, accept),
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json() == {
        "errors": [
            {
                "message": "mutations are not allowed when using GET",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }


async def test_a_query_over_get_still_answers(client: httpx.AsyncClient, owner_token: str) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "{ __typename }"},
        headers=_headers(owner_token, GRAPHQL_RESPONSE_JSON),
    )
    assert (response.status_code, response.json()["data"]) == (200, {"__typename": "Query"})


@pytest.mark.parametrize("operation_name", [{"obj": "ect"}, 0, False, ["array"]])
async def test_an_operation_name_that_is_not_a_string_is_a_400(
    client: httpx.AsyncClient, owner_token: str, operation_name: object
) -> None:
    body = {"query": "{ __typename }", "operationName": operation_name}
    response = await _post(client, owner_token, None, body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "operationName" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [(GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE), (None, "application/json")],
)
async def test_bad_json_is_a_coded_400_in_the_negotiated_media_type(
    client: httpx.AsyncClient, owner_token: str, accept: str | None, content_type: str
) -> None:
    headers = {**_headers(owner_token, accept), "content-type": "application/json"}
    response = await client.post("/graphql", content=b'{ "not a JSON', headers=headers)
    assert (response.status_code, response.headers["content-type"]) == (400, content_type)
    assert response.json() == {
        "errors": [
            {
                "message": "Unable to parse request body as JSON",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [
        (None, "missing bearer token: send 'Authorization: Bearer <token>'"),
        ("Bearer aize_" + "x" * 40, "unknown token"),
    ],
)
async def test_401_is_a_graphql_error_with_the_reason_and_the_bearer_challenge(
    client: httpx.AsyncClient, db: object, authorization: str | None, reason: str
) -> None:
    headers = {"accept": GRAPHQL_RESPONSE_JSON}
    if authorization is not None:
        headers["authorization"] = authorization
    response = await client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="aize-analytics"'
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    assert response.json() == {
        "errors": [{"message": reason, "extensions": {"code": "UNAUTHENTICATED"}}]
    }


async def test_the_rest_endpoints_keep_their_own_401_shape(
    client: httpx.AsyncClient, db: object
) -> None:
    response = await client.post("/ingest/bulk", content=b"")
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "UNAUTHENTICATED",
            "message": "missing bearer token: send 'Authorization: Bearer <token>'",
        }
    }


async def test_the_gql_client_sees_why_a_token_is_refused(app: Starlette, db: object) -> None:
    transport = HTTPXAsyncTransport(
        url="http://test/graphql",
        headers={"authorization": "Bearer aize_" + "y" * 40},
        transport=httpx.ASGITransport(app=app),
    )
    async with Client(transport=transport) as session:
        with pytest.raises(TransportQueryError) as refused:
            await session.execute(gql("{ viewer { role } }"))
    assert refused.value.errors == [
        {"message": "unknown token", "extensions": {"code": "UNAUTHENTICATED"}}
    ]
    assert (
        str(refused.value)
        == "{'message': 'unknown token', 'extensions': {'code': 'UNAUTHENTICATED'}}"
    )


async def test_the_gql_client_reads_a_request_error_answered_400(
    app: Starlette, owner_token: str
) -> None:
    transport = HTTPXAsyncTransport(
        url="http://test/graphql",
        headers={"authorization": f"Bearer {owner_token}", "accept": GRAPHQL_RESPONSE_JSON},
        transport=httpx.ASGITransport(app=app),
    )
    async with Client(transport=transport) as session:
        with pytest.raises(TransportQueryError) as refused:
            await session.execute(gql("query Q($id: ID!) { node(id: $id) { id } }"))
    assert refused.value.errors is not None
    assert [e["extensions"]["code"] for e in refused.value.errors] == ["BAD_USER_INPUT"]
