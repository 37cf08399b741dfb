"""One operation per HTTP request: batches (JSON arrays) are refused with a clear 400."""

from __future__ import annotations

import httpx

from models.member import Role
from tests.factories import make_member, make_org, make_token


async def _owner_headers() -> dict[str, str]:
    org = await make_org()
    return {"Authorization": f"Bearer {await make_token(await make_member(org, Role.OWNER))}"}


async def test_a_batch_of_operations_is_refused_with_a_coded_400(
    client: httpx.AsyncClient,
) -> None:
    batch = [{"query": "{ viewer { role } }"}, {"query": "{ organization { name } }"}]

    response = await client.post("/graphql", json=batch, headers=await _owner_headers())

    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": (
                    "Batched operations are not accepted: send one operation per request "
                    "(a JSON object, not an array)."
                ),
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }


async def test_a_batch_of_one_is_refused_too(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json=[{"query": "{ viewer { role } }"}], headers=await _owner_headers()
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}


async def test_a_batch_without_a_token_is_refused_as_unauthenticated_first(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/graphql", json=[{"query": "{ viewer { role } }"}])
    assert response.status_code == 401


async def test_other_http_level_refusals_are_coded_json_too(client: httpx.AsyncClient) -> None:
    headers = await _owner_headers()
    not_json = await client.post(
        "/graphql",
        content=b"{not json",
        headers={**headers, "Content-Type": "application/json"},
    )
    no_query = await client.post("/graphql", json={"variables": {}}, headers=headers)

    assert not_json.status_code == 400
    assert not_json.json()["errors"][0] == {
        "message": "Unable to parse request body as JSON",
        "extensions": {"code": "BAD_USER_INPUT"},
    }
    assert no_query.status_code == 400
    assert no_query.json()["errors"][0] == {
        "message": "No GraphQL query found in the request",
        "extensions": {"code": "BAD_USER_INPUT"},
    }
