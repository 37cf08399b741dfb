"""Bearer tokens: every refusal is a 401 naming the problem; revocation is immediate.

/graphql answers them as GraphQL errors (`errors[0].extensions.code`), the REST endpoints
as `{"error": {...}}` (tests/test_graphql_http.py checks both)."""

from __future__ import annotations

import hashlib
import hmac

import httpx
import pytest

from auth.tokens import authenticate, issue_token, revoke_token
from models.access_token import AccessToken
from models.member import Role
from settings import Settings
from tests.factories import gql, make_member, make_org, make_token

QUERY = {"query": "{ viewer { role } }"}
CHALLENGE = 'Bearer realm="aize-analytics"'


async def _refusal(client: httpx.AsyncClient, authorization: str | None) -> tuple[int, object]:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = await client.post("/graphql", json=QUERY, headers=headers)
    if response.status_code == 401:
        assert response.headers["www-authenticate"] == CHALLENGE
    return response.status_code, response.json()


def _unauthenticated(message: str) -> tuple[int, object]:
    return 401, {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}


async def test_a_missing_token_is_named(client: httpx.AsyncClient) -> None:
    assert await _refusal(client, None) == _unauthenticated(
        "missing bearer token: send 'Authorization: Bearer <token>'"
    )


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "aize_x"])
async def test_a_malformed_header_is_named(client: httpx.AsyncClient, header: str) -> None:
    assert await _refusal(client, header) == _unauthenticated(
        "malformed Authorization header: expected 'Bearer <token>'"
    )


@pytest.mark.parametrize("token", ["aize_short", "sk-" + "a" * 40, "aize_" + "!" * 40])
async def test_a_malformed_token_is_named(client: httpx.AsyncClient, token: str) -> None:
    assert await _refusal(client, f"Bearer {token}") == _unauthenticated(
        "malformed token: expected 'aize_' followed by 40 characters"
    )


async def test_an_unknown_token_is_named(client: httpx.AsyncClient) -> None:
    assert await _refusal(client, "Bearer aize_" + "A" * 40) == _unauthenticated("unknown token")


async def test_a_revoked_token_is_named(client: httpx.AsyncClient) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    await revoke_token(token[:12])
    assert await _refusal(client, f"Bearer {token}") == _unauthenticated("revoked token")


async def test_revocation_takes_effect_on_the_very_next_request(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    before = await gql(client, token, "{ viewer { role } }")

    await revoke_token(token[:12])
    after = await client.post("/graphql", json=QUERY, headers={"Authorization": f"Bearer {token}"})

    assert before.data == {"viewer": {"role": "OWNER"}}
    assert after.status_code == 401
    assert after.json()["errors"][0]["message"] == "revoked token"


async def test_the_bearer_scheme_is_case_insensitive(client: httpx.AsyncClient) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.ADMIN))
    response = await client.post(
        "/graphql", json=QUERY, headers={"Authorization": f"bearer {token}"}
    )
    assert response.status_code == 200


async def test_only_a_hash_of_the_token_is_stored(db: Settings) -> None:
    org = await make_org()
    member = await make_member(org, Role.OWNER)
    issued = await issue_token(org.id, member, "laptop")

    record = await AccessToken.get(id=issued.record.id)

    assert record.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
    stored = [str(getattr(record, f)) for f in record._meta.fields_map]
    assert all(issued.token not in value for value in stored)
    assert record.prefix == issued.token[:12]


async def test_the_stored_hash_is_compared_in_constant_time(
    db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    compared: list[tuple[str, str]] = []
    compare_digest = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return compare_digest(a, b)

    monkeypatch.setattr("auth.tokens.hmac.compare_digest", spy)
    viewer = await authenticate(f"Bearer {token}")

    digest = hashlib.sha256(token.encode()).hexdigest()
    assert compared == [(digest, digest)]
    assert viewer.organization_id == org.id


async def test_a_token_of_one_organization_reads_only_its_own(client: httpx.AsyncClient) -> None:
    acme, globex = await make_org(name="Acme"), await make_org(name="Globex")
    await make_member(globex, Role.OWNER)
    token = await make_token(await make_member(acme, Role.OWNER))
    result = await gql(client, token, "{ organization { name } }")
    assert result.data == {"organization": {"name": "Acme"}}
