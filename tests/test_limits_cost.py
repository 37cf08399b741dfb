"""Query cost: the static model (requested), the measured cost (actual), the per-query limit."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from graphql import parse

from graph.cost_introspection import Size
from graph.limits import actual_cost, requested_cost, select_operation
from graph.rate_limiter import RateLimiter, RateLimits
from models.member import Role
from settings import Settings
from tests.factories import gql, make_member, make_org, make_token
from tests.http_clients import client_for
from tests.probe_schema import probe_app, probe_schema
from tests.rate_clock import LibraryClock, library_clock

__all__ = ["library_clock"]

GRAPHQL_SCHEMA = probe_schema._schema


def _requested(query: str, **variables: object) -> int:
    document = parse(query)
    operation = select_operation(document, None)
    assert operation is not None
    return requested_cost(GRAPHQL_SCHEMA, document, operation, variables).points


def test_each_field_costs_one_and_typename_is_free() -> None:
    assert _requested("{ folder { name __typename } }") == 2


def test_a_list_multiplies_its_selection_by_its_first_argument() -> None:
    # folder 1 + children 1 + 3 x (name 1)
    assert _requested("{ folder { children(first: 3) { name } } }") == 5


def test_a_list_without_argument_uses_the_arguments_default() -> None:
    # children's `first` defaults to 10 in the schema
    assert _requested("{ folder { children { name } } }") == 12


def test_variables_give_the_list_size() -> None:
    query = "query Q($n: Int) { folder { children(first: $n) { name } } }"
    assert _requested(query, n=7) == 9


def test_variable_defaults_give_the_list_size_when_no_value_is_sent() -> None:
    query = "query Q($n: Int = 4) { folder { children(first: $n) { name } } }"
    assert _requested(query) == 6


def test_nested_lists_multiply() -> None:
    # folder 1 + children 1 + 5 x (children 1 + 4 x name 1)
    assert _requested("{ folder { children(first: 5) { children(first: 4) { name } } } }") == 27


def test_a_scalar_list_costs_one_per_item() -> None:
    # folder 1 + tags 1 + 10 items (no argument bounds `tags` in the probe schema)
    assert _requested("{ folder { tags } }") == 12


def test_a_fragment_spread_twice_costs_twice() -> None:
    query = """
    { folder { ...F child { ...F } } }
    fragment F on Folder { children(first: 2) { name } }
    """
    # folder 1 + F 3 + child 1 + F 3
    assert _requested(query) == 8


def test_introspection_counts_the_schemas_real_lists() -> None:
    types = GRAPHQL_SCHEMA.type_map.values()
    # per type: name 1 + fields 1 + one name per field (null `fields` on non-object types)
    per_type = sum(
        2 + len(getattr(t, "fields", {}) if hasattr(t, "interfaces") else ()) for t in types
    )
    assert _requested("{ __schema { types { name fields { name } } } }") == 2 + per_type


def test_actual_cost_counts_the_items_returned() -> None:
    document = parse("{ folder { children(first: 50) { name } } }")
    operation = select_operation(document, None)
    assert operation is not None
    data = {"folder": {"children": [{"name": "a"}, {"name": "b"}]}}
    # points: folder, children, 2 names; nodes: those 4 and the 2 items
    assert actual_cost(GRAPHQL_SCHEMA, document, operation, data) == Size(4, 6)
    assert actual_cost(GRAPHQL_SCHEMA, document, operation, None) == Size(0, 0)


def test_a_list_no_argument_bounds_is_estimated_at_ten_items() -> None:
    assert _requested("{ folder { versions { name } } }") == 12


async def test_a_longer_list_than_estimated_costs_its_actual_length(
    db: Settings, library_clock: LibraryClock
) -> None:
    # The library's clock stands still: the 12 points charged before running and the 2 after
    # fall in one window even when the request spans the start of a wall-clock window.
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    app = probe_app(db)
    app.state.rate_limiter = RateLimiter(RateLimits(50_000, 200_000, 1_000_000, 50))
    async with client_for(app) as http:
        response = await http.post(
            "/graphql",
            json={"query": "{ folder { versions { name } } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
    # 12 versions returned where 10 were estimated; the budget is charged the 14 (12 before
    # running, the extra 2 after)
    assert response.json()["extensions"]["cost"] == {"requested": 12, "actual": 14, "limit": 10_000}
    assert response.headers["x-ratelimit-remaining"] == str(50_000 - 14)


async def test_the_response_reports_requested_actual_and_limit(db: Settings) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    async with client_for(probe_app(db)) as http:
        response = await http.post(
            "/graphql",
            json={"query": "{ folder { children(first: 40) { name } } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
    body = response.json()
    # 40 children asked for, 3 returned
    assert body["extensions"]["cost"] == {"requested": 42, "actual": 5, "limit": 10_000}


async def test_a_query_above_the_cost_limit_is_refused_before_anything_runs(
    db: Settings,
) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    app = probe_app(dataclasses.replace(db, max_query_cost=100))
    async with client_for(app) as http:
        result = await gql(
            http, token, "{ folder { children(first: 99) { name child { name } } } }"
        )
    assert result.data is None
    assert result.error_codes == ["QUERY_TOO_COMPLEX"]
    assert result.errors is not None
    # folder 1 + children 1 + 99 x (name 1 + child 1 + name 1)
    assert result.errors[0]["message"] == (
        "The query would cost 299 points; at most 100 are allowed per query. "
        "Ask for fewer items (first/limit), a shorter period or coarser granularity, "
        "or fewer fields."
    )
    assert result.errors[0]["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "cost": 299,
        "limit": 100,
    }


@pytest.mark.parametrize("first", [0, 101, -1])
async def test_first_outside_1_to_100_is_refused_on_every_connection(
    client: httpx.AsyncClient, first: int
) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    result = await gql(
        client,
        token,
        "query Q($n: Int) { organization { requestLogs(first: $n) { edges { cursor } } } }",
        n=first,
    )
    assert result.data is None
    assert result.error_codes == ["BAD_USER_INPUT"]
    assert result.errors is not None
    assert result.errors[0]["message"] == f"first: must be between 1 and 100, got {first}"


def test_an_aggregate_field_costs_its_weight() -> None:
    from graph.limits import AGGREGATE_WEIGHT, field_weight

    assert field_weight("UsageReport", "totals") == AGGREGATE_WEIGHT
    assert field_weight("AlertEventConnection", "totalCount") == AGGREGATE_WEIGHT
    assert field_weight("UsageReport", "from") == 1


def test_every_weighted_field_exists_in_the_product_schema() -> None:
    from graph.limits import FIELD_WEIGHTS
    from graph.schema import schema

    graphql_schema = schema._schema
    for key in FIELD_WEIGHTS:
        type_name, field_name = key.split(".")
        if type_name == "*":
            continue
        named = graphql_schema.get_type(type_name)
        assert named is not None, key
        assert field_name in getattr(named, "fields", {}), key


DASHBOARD = """
query Dashboard {
  organization {
    name
    currentSpend { spend budget percentUsed status billingPeriod { start end } }
    usage(filter: {period: LAST_30_DAYS}) {
      totals { ...Summary }
      trend(granularity: DAY) { buckets { start end totals { ...Summary } } }
      breakdown(by: [MODEL], limit: 10) { model totals { ...Summary } }
      latency { averageMs p50Ms p95Ms p99Ms }
      errors { failedRequests byStatusCode { statusCode count } }
      comparison { current { ...Summary } previous { ...Summary } requestsGrowthPercent }
    }
    requestLogs(first: 100) {
      totalCount
      edges { cursor node {
        id requestId timestamp model providerModel endpoint inputTokens outputTokens
        totalTokens providerCost markup fixedFee customerCost latencyMs statusCode
        errorMessage apiKey { label } member { name }
      } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
fragment Summary on CostSummary {
  requests successful failed successRate inputTokens outputTokens totalTokens
  providerCost markup fixedFees customerCost averageCostPerRequest averageLatencyMs
}
"""


async def test_a_full_dashboard_page_fits_the_default_limits(client: httpx.AsyncClient) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))

    response = await client.post(
        "/graphql", json={"query": DASHBOARD}, headers={"Authorization": f"Bearer {token}"}
    )

    body = response.json()
    assert "errors" not in body, body["errors"]
    cost = body["extensions"]["cost"]
    assert cost["requested"] == _requested_in_product(DASHBOARD)
    assert cost["requested"] < cost["limit"] == Settings().max_query_cost


def _requested_in_product(query: str) -> int:
    from graph.schema import schema

    document = parse(query)
    operation = select_operation(document, None)
    assert operation is not None
    return requested_cost(schema._schema, document, operation, {}).points
