"""The documents of issue 12's attack are refused before they run; the standard
introspection query and the dashboard's questions still fit the default limits, and what
the prediction says is what the response holds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from graphql import get_introspection_query

from bench.dashboard_queries import (
    DASHBOARD_QUERY,
    DASHBOARD_QUERY_OBJECTS,
    LOG_PAGE_QUERY,
    Window,
)
from graph.limits import full_introspection_cost
from graph.schema import schema
from models.member import Role
from settings import Settings
from tests.factories import make_member, make_org, make_token

MEASURES = (
    "requests successful failed successRate inputTokens outputTokens totalTokens "
    "providerCost markup fixedFees customerCost averageCostPerRequest averageLatencyMs "
    "clientErrors serverErrors unpricedRequests errorRate"
)
SIXTY_DAYS = '{from: "2024-03-01T00:00:00Z", to: "2024-04-30T00:00:00Z"}'
ATTACK_TREND = (
    f"{{ organization {{ usage(filter: {SIXTY_DAYS}) {{ "
    "trend(granularity: HOUR, splitBy: MODEL, limit: 100) { "
    f"series {{ model buckets {{ start end totals {{ {MEASURES} }} }} }} }} }} }} }}"
)
ONE_COPY = "types { name fields { name args { name } type { name } } }"
# An introspection's limit: AIZE_MAX_QUERY_COST (10,000), raised to one standard
# introspection of the schema when that costs more (graph/limits.py).
INTROSPECTION_LIMIT = max(10_000, full_introspection_cost(schema._schema))
ATTACK_INTROSPECTION = "{ __schema { " + " ".join(f"a{n}: {ONE_COPY}" for n in range(15)) + " } }"


async def _owner_token(timezone: str = "America/New_York") -> str:
    org = await make_org(timezone=timezone)
    return await make_token(await make_member(org, Role.OWNER))


async def _post(
    client: httpx.AsyncClient, token: str, query: str, **variables: Any
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body: dict[str, Any] = response.json()
    return body


async def test_the_sixty_day_hourly_trend_split_by_model_is_refused(
    client: httpx.AsyncClient,
) -> None:
    body = await _post(client, await _owner_token(), ATTACK_TREND)

    assert body.get("data") is None
    [error] = body["errors"]
    # 100 series x (model + buckets + 1440 hours x (start end totals + 17 measures))
    cost = 13 + 100 * (2 + 1440 * 20)
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "cost": cost,
        "limit": 10_000,
    }


async def test_fifteen_aliased_copies_of_the_schemas_types_are_refused(
    client: httpx.AsyncClient,
) -> None:
    token = await _owner_token()
    one_copy = await _post(client, token, f"{{ __schema {{ {ONE_COPY} }} }}")
    assert "errors" not in one_copy
    single = one_copy["extensions"]["cost"]["requested"]
    assert single == one_copy["extensions"]["cost"]["actual"]

    body = await _post(client, token, ATTACK_INTROSPECTION)

    assert body.get("data") is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["limit"] == INTROSPECTION_LIMIT
    # counting stops once the answer is known to be too large
    assert error["extensions"]["cost"] > INTROSPECTION_LIMIT


async def test_the_standard_introspection_query_fits_and_costs_what_it_returns(
    client: httpx.AsyncClient,
) -> None:
    body = await _post(client, await _owner_token(), get_introspection_query())

    assert "errors" not in body
    cost = body["extensions"]["cost"]
    assert cost["requested"] == cost["actual"]
    assert cost["requested"] <= cost["limit"] == INTROSPECTION_LIMIT


async def test_a_response_of_too_many_nodes_is_refused_whatever_its_points(
    client: httpx.AsyncClient,
) -> None:
    # __typename costs no points, but every bucket is still a node to complete and send
    query = (
        f"{{ organization {{ usage(filter: {SIXTY_DAYS}) {{ "
        "trend(granularity: HOUR, splitBy: MODEL, limit: 10) { "
        "series { buckets { __typename } } } } } }"
    )
    body = await _post(client, await _owner_token(), query)

    assert body.get("data") is None
    [error] = body["errors"]
    # 4 fields + 10 series items + 10 x (buckets 1 + 1440 items + 1440 __typename)
    nodes = 4 + 10 + 10 * (1 + 2 * 1440)
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "responseNodes": nodes,
        "limit": 20_000,
    }
    assert error["message"].startswith(
        f"The response could hold {nodes} fields and list items; at most 20000 are allowed"
    )


async def test_a_trend_costs_exactly_what_it_returns(client: httpx.AsyncClient) -> None:
    # a relative period in the organization's zone: the prediction resolves it with the
    # request's own "now", as the resolver does
    query = """{ organization { usage(filter: {period: LAST_7_DAYS}) {
      trend(granularity: HOUR) { buckets { start totals { requests } } columns { end } }
    } } }"""
    body = await _post(client, await _owner_token(), query)

    assert "errors" not in body
    buckets = len(body["data"]["organization"]["usage"]["trend"]["buckets"])
    assert buckets in (168, 169)
    cost = body["extensions"]["cost"]
    # organization + usage + trend 10 + buckets + n x 3 + columns + end + n items
    assert cost["requested"] == cost["actual"] == 14 + buckets * 3 + 1 + buckets


async def test_the_dashboard_questions_fit_the_default_limits(client: httpx.AsyncClient) -> None:
    token = await _owner_token("UTC")
    window = Window.last_30_days(datetime(2024, 5, 1, tzinfo=UTC), "UTC")

    requested = {}
    for name, query, variables in (
        ("columns", DASHBOARD_QUERY, {"filter": window.usage_filter()}),
        ("objects", DASHBOARD_QUERY_OBJECTS, {"filter": window.usage_filter()}),
        ("log page", LOG_PAGE_QUERY, {"filter": window.log_filter()}),
    ):
        body = await _post(client, token, query, **variables)
        assert "errors" not in body, body["errors"]
        requested[name] = body["extensions"]["cost"]["requested"]

    # 30 daily buckets, 12 series of 3 columns (columns) or of 2-measure buckets (objects)
    assert requested == {"columns": 1_395, "objects": 1_746, "log page": 606}
    assert max(requested.values()) < Settings().max_query_cost
