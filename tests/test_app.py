"""The HTTP surface: /healthz, GraphiQL, GET queries, parse errors, 401s."""

from __future__ import annotations

import httpx

from models.member import Role
from tests.factories import gql, make_member, make_org, make_token


async def test_healthz_reports_the_database_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_browser_gets_graphiql_without_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_queries_work_over_get(client: httpx.AsyncClient) -> None:
    org = await make_org(name="Getters")
    token = await make_token(await make_member(org, Role.ADMIN))

    response = await client.get(
        "/graphql",
        params={"query": "{ viewer { role organization { name } } }"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 200
    assert response.json()["data"] == {
        "viewer": {"role": "ADMIN", "organization": {"name": "Getters"}}
    }


async def test_malformed_graphql_is_a_parse_error_not_a_500(client: httpx.AsyncClient) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))

    result = await gql(client, token, "{ viewer { role ")

    # GraphQL-over-HTTP answers a document error in the body, with a client-side code.
    assert result.status == 200
    assert result.data is None
    assert result.errors is not None
    assert result.errors[0]["message"].startswith("Syntax Error: Expected Name, found <EOF>")
    assert result.error_codes == ["BAD_USER_INPUT"]


async def test_missing_token_is_401_json_naming_the_problem(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ viewer { role } }"})

    assert response.status_code == 401
    # GraphQL's error shape (tests/test_graphql_http.py), so GraphQL clients show the reason.
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "missing bearer token" in error["message"]


async def test_money_is_an_exact_decimal_string(client: httpx.AsyncClient) -> None:
    org = await make_org(markup_bps=2500, fixed_fee_nanos=10_000_000, monthly_budget_nanos=525)
    token = await make_token(await make_member(org, Role.OWNER))

    result = await gql(client, token, "{ organization { markupPercent fixedFee monthlyBudget } }")

    assert result.errors is None
    assert result.data == {
        "organization": {
            "markupPercent": "25.00",
            "fixedFee": "0.01",
            "monthlyBudget": "0.000000525",
        }
    }
