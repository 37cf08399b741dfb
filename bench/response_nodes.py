"""Response-size benchmark: how long the service takes to complete a GraphQL response of N
nodes (fields and list items), and what the dashboard's questions predict, to choose
AIZE_MAX_RESPONSE_NODES from measurements.

    python -m bench.response_nodes

In process (the app over an ASGI transport, a scratch SQLite file, one organization with
no traffic: trend buckets are zero-filled, so their size does not depend on data). Each
query is sent `--repeat` times with the limits raised out of the way; the median wall time
is reported with the predicted cost and nodes (graph.limits.requested_cost) and the nodes
counted in the JSON answer.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from graphql import get_introspection_query, parse

from auth.tokens import issue_token
from bench.dashboard_queries import DASHBOARD_QUERY, DASHBOARD_QUERY_OBJECTS, LOG_PAGE_QUERY
from graph.cost_sizes import PredictionClock
from graph.limits import requested_cost, select_operation
from graph.schema import schema
from models.member import Member, Role
from models.organization import Organization
from settings import Settings
from web.app import create_app

MEASURES = (
    "requests successful failed clientErrors serverErrors successRate errorRate inputTokens "
    "outputTokens totalTokens unpricedRequests providerCost markup fixedFees customerCost "
    "averageCostPerRequest averageLatencyMs"
)


def trend_query(hours: int, series: bool = False) -> str:
    """An hourly trend over `hours` hours with all 17 measures per bucket."""
    end = datetime(2024, 5, 1, tzinfo=UTC)
    start = end - timedelta(hours=hours)
    buckets = f"buckets {{ start end totals {{ {MEASURES} }} }}"
    shape = f"series {{ model {buckets} }}" if series else buckets
    return (
        f'{{ organization {{ usage(filter: {{from: "{start.isoformat()}", '
        f'to: "{end.isoformat()}"}}) {{ trend(granularity: HOUR) {{ {shape} }} }} }} }}'
    )


def count_nodes(value: Any) -> int:
    """Fields and list items in a JSON answer."""
    if isinstance(value, dict):
        return sum(1 + count_nodes(item) for item in value.values())
    if isinstance(value, list):
        return sum(1 + count_nodes(item) for item in value)
    return 0


def predicted(query: str, variables: dict[str, Any]) -> tuple[int, int]:
    document = parse(query)
    operation = select_operation(document, None)
    assert operation is not None
    clock = PredictionClock(datetime(2024, 5, 1, tzinfo=UTC))
    cost = requested_cost(schema._schema, document, operation, variables, clock)
    return cost.points, cost.nodes


async def measure(http: httpx.AsyncClient, token: str, query: str, repeat: int) -> None:
    times: list[float] = []
    body: dict[str, Any] = {}
    for _ in range(repeat):
        began = time.perf_counter()
        response = await http.post(
            "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
        )
        times.append(time.perf_counter() - began)
        body = response.json()
    assert "errors" not in body, body["errors"]
    nodes = count_nodes(body["data"])
    median = statistics.median(times)
    points, predicted_nodes = predicted(query, {})
    print(
        f"{query[:60]:60} points {points:>9,} nodes predicted {predicted_nodes:>9,} "
        f"returned {nodes:>9,}  {median * 1000:8.1f} ms  {median / nodes * 1e6:6.1f} us/node"
    )


async def main(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.from_env(
            {
                "AIZE_DATABASE_URL": f"sqlite://{Path(folder) / 'nodes.sqlite3'}",
                "AIZE_MAX_QUERY_COST": "100000000",
                "AIZE_RATE_LIMIT_CAPACITY": "1000000000",
                "AIZE_MAX_RESPONSE_NODES": "100000000",
                "AIZE_REQUEST_TIMEOUT_SECONDS": "120",
            }
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            org = await Organization.create(name="Nodes", slug="nodes", timezone="UTC")
            owner = await Member.create(
                organization=org, role=Role.OWNER, name="Owner", email="o@example.com"
            )
            token = (await issue_token(org.id, owner, "bench")).token
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
                await measure(http, token, get_introspection_query(), 1)  # warm up
                await measure(http, token, get_introspection_query(), repeat)
                for hours in (24, 168, 720, 1440):
                    await measure(http, token, trend_query(hours), repeat)
    window = {"filter": {"from": "2024-04-01T00:00:00+00:00", "to": "2024-05-01T00:00:00+00:00"}}
    for name, query in (
        ("dashboard (columns)", DASHBOARD_QUERY),
        ("dashboard (objects)", DASHBOARD_QUERY_OBJECTS),
        ("log page", LOG_PAGE_QUERY),
    ):
        points, nodes = predicted(query, window)
        print(f"{name:22} requested points {points:,} nodes {nodes:,}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    asyncio.run(main(parser.parse_args().repeat))
