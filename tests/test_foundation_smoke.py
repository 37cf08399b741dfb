from __future__ import annotations

import httpx

from models.member import Role
from tests.factories import gql, make_member, make_org, make_token


async def test_viewer_answers_role_and_organization_name(client: httpx.AsyncClient) -> None:
    org = await make_org(name="Acme AI")
    owner = await make_member(org, Role.OWNER)
    token = await make_token(owner)

    result = await gql(client, token, "{ viewer { role organization { name } } }")

    assert result.errors is None
    assert result.data == {"viewer": {"role": "OWNER", "organization": {"name": "Acme AI"}}}


async def test_query_counter_sees_each_statement(client: httpx.AsyncClient) -> None:
    from tests.query_counter import count_queries

    org = await make_org()
    owner = await make_member(org, Role.OWNER)
    token = await make_token(owner)
    with count_queries() as queries:
        result = await gql(client, token, "{ organization { name members { name } } }")
    assert result.errors is None
    # the token's organization (lookup), the token with its organization (+ last_used
    # update), members
    assert queries.count == 4
