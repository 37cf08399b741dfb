"""Log orders, search and thresholds benchmark: the real service through HTTP beside the
plain SQL answer, on the same data, in the same run.

    python -m bench.log_order_bench --rows 1000000 [--database-url URL]

Loads (or reuses) the data set of bench.load_data (pending migrations applied: the order
and search indexes of migration 0018), starts the service (uvicorn) and times through HTTP,
after a warm-up, `--runs` times each, for the big organization's last 30 days:

- the 50 most expensive requests (`orderBy: {field: CUSTOMER_COST, direction: DESC}`);
- the 50 slowest requests (`orderBy: {field: LATENCY, direction: DESC}`);
- the 50 newest requests whose error message, model or endpoint contains
  "provider unavailable" (`search`);
- usage totals of the requests slower than 5 s (`filter.minLatencyMs`: a raw scan).

Each is answered by plain SQL over request_log in the same run (timed the same way) and the
answers are compared (request ids in order; counts and money exactly). Prints medians with
min/max and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from decimal import Decimal
from typing import Any

import asyncpg

from bench.dashboard_bench import (
    Timing,
    _checked,
    graphql_body,
    graphql_data,
    load_average,
    prepare,
    time_runs,
)
from bench.http_client import HttpConnection
from bench.service import running_service
from models.database import POSTGRES_SERVER_SETTINGS
from resolvers.log_search import SEARCH_DOCUMENT

TOP_QUERY = """
query Top($filter: UsageFilter, $orderBy: RequestLogOrder, $search: String) {
  organization {
    requestLogs(filter: $filter, first: 50, orderBy: $orderBy, search: $search) {
      edges { node { requestId timestamp model customerCost latencyMs totalTokens } }
      pageInfo { endCursor hasNextPage }
    }
  }
}
"""
SLOW_TOTALS_QUERY = """
query Slow($filter: UsageFilter) {
  organization { usage(filter: $filter) { totals { requests customerCost } } }
}
"""
SEARCH_TEXT = "provider unavailable"
SLOW_MS = 5_000
_ORDER_SQL = {"CUSTOMER_COST": "customer_cost_nanos", "LATENCY": "latency_ms"}
NANOS_PER_USD = Decimal(1_000_000_000)


async def _reference_top(
    conn: asyncpg.Connection, org: int, start: Any, end: Any, order: str | None
) -> list[str]:
    """Request ids of the 50 first rows in plain SQL: by `order` (a column) or, with
    None, the newest matching the search."""
    if order is not None:
        column = _ORDER_SQL[order]
        rows = await conn.fetch(
            "SELECT request_id FROM request_log WHERE organization_id = $1 AND timestamp >= $2 "
            f"AND timestamp < $3 ORDER BY {column} DESC, id DESC LIMIT 50",
            org,
            start,
            end,
        )
    else:
        rows = await conn.fetch(
            "SELECT request_id FROM request_log WHERE organization_id = $1 AND timestamp >= $2 "
            f"AND timestamp < $3 AND {SEARCH_DOCUMENT} ILIKE $4 "
            "ORDER BY timestamp DESC, id DESC LIMIT 50",
            org,
            start,
            end,
            f"%{SEARCH_TEXT}%",
        )
    return [str(row["request_id"]) for row in rows]


async def _reference_slow(
    conn: asyncpg.Connection, org: int, start: Any, end: Any
) -> tuple[int, Decimal]:
    row = await conn.fetchrow(
        "SELECT count(*) AS n, CAST(COALESCE(sum(customer_cost_nanos), 0) AS BIGINT) AS cost "
        "FROM request_log WHERE organization_id = $1 AND timestamp >= $2 AND timestamp < $3 "
        "AND latency_ms >= $4",
        org,
        start,
        end,
        SLOW_MS,
    )
    assert row is not None
    return int(row["n"]), Decimal(int(row["cost"])) / NANOS_PER_USD


def _ids(body: bytes) -> list[str]:
    edges = graphql_data(body)["organization"]["requestLogs"]["edges"]
    return [edge["node"]["requestId"] for edge in edges]


def _slow(body: bytes) -> tuple[int, Decimal]:
    totals = graphql_data(body)["organization"]["usage"]["totals"]
    return int(totals["requests"]), Decimal(totals["customerCost"])


async def run(args: argparse.Namespace) -> dict[str, Any]:
    print(f"machine: {os.cpu_count()} cores; load average {load_average()}", flush=True)
    setup = await prepare(args.rows, args.seed, args.database_url)
    org, window = setup.loaded.big_organization_id, setup.window
    base_filter = window.usage_filter()
    bodies = {
        "most expensive 50": graphql_body(
            TOP_QUERY,
            {"filter": base_filter, "orderBy": {"field": "CUSTOMER_COST", "direction": "DESC"}},
        ),
        "slowest 50": graphql_body(
            TOP_QUERY,
            {"filter": base_filter, "orderBy": {"field": "LATENCY", "direction": "DESC"}},
        ),
        f"search {SEARCH_TEXT!r}, newest 50": graphql_body(
            TOP_QUERY, {"filter": base_filter, "search": SEARCH_TEXT}
        ),
        f"usage totals, latency >= {SLOW_MS} ms": graphql_body(
            SLOW_TOTALS_QUERY, {"filter": {**base_filter, "minLatencyMs": SLOW_MS}}
        ),
    }
    service: dict[str, tuple[Timing, bytes]] = {}
    async with running_service(setup.database_url, workers=1) as base_url:
        http = HttpConnection(base_url)
        for name, body in bodies.items():
            request = http.request_bytes("/graphql", body, setup.auth)

            def call(request: bytes = request, name: str = name) -> Awaitable[bytes]:
                return _checked(http, request, name)

            timing, raw = await time_runs(call, args.runs, args.warmup)
            assert isinstance(raw, bytes)
            service[name] = (timing, raw)
        await http.close()

    conn = await asyncpg.connect(
        "postgresql://" + setup.database_url.split("://", 1)[1],
        server_settings=dict(POSTGRES_SERVER_SETTINGS),
    )
    references: dict[str, Callable[[], Awaitable[object]]] = {
        "most expensive 50": lambda: _reference_top(
            conn, org, window.start, window.end, "CUSTOMER_COST"
        ),
        "slowest 50": lambda: _reference_top(conn, org, window.start, window.end, "LATENCY"),
        f"search {SEARCH_TEXT!r}, newest 50": lambda: _reference_top(
            conn, org, window.start, window.end, None
        ),
        f"usage totals, latency >= {SLOW_MS} ms": lambda: _reference_slow(
            conn, org, window.start, window.end
        ),
    }
    report: dict[str, Any] = {"rows": setup.loaded.rows, "questions": {}}
    try:
        for name, reference in references.items():
            ref_timing, answer = await time_runs(reference, args.runs, args.warmup)
            timing, raw = service[name]
            got: object = _slow(raw) if name.startswith("usage") else _ids(raw)
            report["questions"][name] = {
                "service": asdict(timing),
                "raw_sql": asdict(ref_timing),
                "equal": got == answer,
                "rows": len(got) if isinstance(got, list) else str(got),
            }
            print(f"{name}:")
            print(f"  service over HTTP : {timing}")
            print(f"  raw SQL reference : {ref_timing}")
            state = "equal" if got == answer else f"DIFFER: {got!r} vs {answer!r}"
            print(f"  answers {state} ({report['questions'][name]['rows']} rows)")
    finally:
        await conn.close()
    report["load_average_end"] = load_average()
    print(f"load average at the end: {report['load_average_end']}")
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.log_order_bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=15, help="timed runs per question")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--database-url", default=None, help="default: the scratch database")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    report = asyncio.run(run(args))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=2, default=str)


if __name__ == "__main__":
    main()
