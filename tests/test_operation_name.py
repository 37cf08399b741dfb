"""A document of several operations needs `operationName` (GraphQL spec, GetOperation):
without it nothing runs, and the answer is HTTP 400 with BAD_USER_INPUT."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from models.member import Role
from models.organization import Organization
from tests.factories import make_member, make_org, make_token

# The first operation would move money if it ran.
TWO_OPERATIONS = """
mutation Deposit { depositFunds(amount: "5") { amount } }
query Who { viewer { role } }
"""


@pytest.fixture
async def owner(db: object) -> tuple[Organization, str]:
    org = await make_org()
    return org, await make_token(await make_member(org, Role.OWNER))


async def _post(client: httpx.AsyncClient, token: str, **body: Any) -> httpx.Response:
    return await client.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})


async def test_two_operations_without_an_operation_name_are_refused_and_nothing_runs(
    client: httpx.AsyncClient, owner: tuple[Organization, str]
) -> None:
    org, token = owner

    response = await _post(client, token, query=TWO_OPERATIONS)

    assert response.status_code == 400
    assert response.json()["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in response.json()["errors"]] == [
        (
            "The document holds 2 operations (Deposit, Who): say which one to run with "
            "operationName.",
            "BAD_USER_INPUT",
        )
    ]
    await org.refresh_from_db()
    assert org.wallet_balance_nanos == 0


async def test_an_anonymous_operation_beside_a_named_one_is_refused_too(
    client: httpx.AsyncClient, owner: tuple[Organization, str]
) -> None:
    _, token = owner

    response = await _post(client, token, query="{ viewer { role } } query Who { viewer { role } }")

    assert response.status_code == 400
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_USER_INPUT"]


async def test_a_get_request_with_two_operations_is_refused(
    client: httpx.AsyncClient, owner: tuple[Organization, str]
) -> None:
    _, token = owner

    response = await client.get(
        "/graphql",
        params={"query": "query A { viewer { role } } query B { viewer { scopes } }"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 400
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    ("name", "data", "balance"),
    [
        ("Who", {"viewer": {"role": "OWNER"}}, 0),
        ("Deposit", {"depositFunds": {"amount": "5.00"}}, 5_000_000_000),
    ],
)
async def test_the_named_operation_runs(
    client: httpx.AsyncClient,
    owner: tuple[Organization, str],
    name: str,
    data: dict[str, Any],
    balance: int,
) -> None:
    org, token = owner

    response = await _post(client, token, query=TWO_OPERATIONS, operationName=name)

    assert response.status_code == 200
    assert response.json()["data"] == data
    await org.refresh_from_db()
    assert org.wallet_balance_nanos == balance


async def test_a_single_operation_needs_no_name(
    client: httpx.AsyncClient, owner: tuple[Organization, str]
) -> None:
    _, token = owner

    response = await _post(client, token, query="query Who { viewer { role } }")

    assert response.status_code == 200
    assert response.json()["data"] == {"viewer": {"role": "OWNER"}}
