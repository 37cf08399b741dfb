"""Why the service sets `plan_cache_mode=force_custom_plan` and `jit=off` on every
PostgreSQL connection: the dashboard's own statements, timed on the big organization with
the service's settings and with PostgreSQL's defaults.

    python -m bench.pg_settings_bench --rows 10000000

The statements are captured from one in-process dashboard request. Each is a prepared
statement (asyncpg prepares every query): with the default `plan_cache_mode=auto`, after five
executions PostgreSQL may switch to a generic plan made without the parameter values. The
benchmark primes each statement five times with the smallest organization's id (as a busy
server does with its many small tenants), then times it on the big organization. JIT is
timed separately, on a fresh connection with `jit=on` (PostgreSQL's default).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import statistics
import time
from typing import Any

import asyncpg
import httpx
import orjson

from bench.dashboard_bench import prepare
from models.database import POSTGRES_SERVER_SETTINGS, close_database, init_database
from settings import Settings
from web.app import create_app

# Besides the dashboard: questions the cubes cannot answer (the full rollup, the raw rows).
WIDER_QUERY = """
query Wider($filter: UsageFilter!) {
  organization {
    usage(filter: $filter) {
      breakdown(by: [ENDPOINT]) { endpoint totals { requests } }
      errors { failedRequests byStatusCode { statusCode count } }
    }
  }
}
"""
_PRIMING_RUNS = 5
_TIMED_RUNS = 15


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[tuple[str, list[Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.args, tuple) and len(record.args) == 2:
            sql, values = record.args
            if isinstance(sql, str) and "GROUP BY" in sql:
                self.statements.append(
                    (sql, list(values) if isinstance(values, list | tuple) else [])
                )


async def dashboard_statements(
    database_url: str, token: str, body: bytes
) -> list[tuple[str, list[Any]]]:
    """The aggregate statements one dashboard request sends, with their parameters."""
    settings = Settings.from_env({"AIZE_DATABASE_URL": database_url, "AIZE_ALERT_WORKER": "false"})
    await init_database(settings)
    logger = logging.getLogger("tortoise.db_client")
    capture = _Capture()
    try:
        app = create_app(settings, manage_database=False)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench"
        ) as client:
            logger.setLevel(logging.DEBUG)
            logger.addHandler(capture)
            await client.post("/graphql", content=body, headers=headers)
    finally:
        logger.removeHandler(capture)
        await close_database()
    return capture.statements


async def _median_ms(conn: asyncpg.Connection, sql: str, values: list[Any]) -> float:
    samples = []
    for _ in range(_TIMED_RUNS):
        started = time.perf_counter()
        await conn.fetch(sql, *values)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _with_organization(values: list[Any], old: int, new: int) -> list[Any]:
    return [new if v == old else v for v in values]


async def run(args: argparse.Namespace) -> None:
    setup = await prepare(args.rows, args.seed, args.database_url)
    url = "postgresql://" + setup.database_url.split("://", 1)[1]
    big = setup.loaded.big_organization_id
    wider = orjson.dumps(
        {"query": WIDER_QUERY, "variables": {"filter": setup.window.usage_filter()}}
    )
    statements = [
        *await dashboard_statements(setup.database_url, setup.token, setup.dashboard_body),
        *await dashboard_statements(setup.database_url, setup.token, wider),
    ]
    admin = await asyncpg.connect(url)
    smallest = await admin.fetchval(
        "SELECT organization_id FROM request_log GROUP BY 1 ORDER BY count(*) LIMIT 1"
    )
    await admin.close()
    service = dict(POSTGRES_SERVER_SETTINGS)
    variants = (
        (service, False),
        ({**service, "jit": "on"}, False),
        ({**service, "plan_cache_mode": "force_generic_plan"}, False),
        ({"timezone": "UTC", "jit": "on", "plan_cache_mode": "auto"}, True),
    )
    print(f"{'statement':44s} {'service':>9s} {'jit on':>9s} {'generic':>9s} {'defaults':>9s}")
    for sql, values in statements:
        tables = sorted(set(re.findall(r"FROM (usage_\w+|latency_\w+|request_log)", sql)))
        dimensions = (
            "by " + ", ".join(sorted(set(re.findall(r"(\w+) AS d0", sql))))
            if " AS d0" in sql
            else "total"
        )
        table = next((t for t in tables if t != "request_log"), "request_log")
        row = [f"{table + ' ' + dimensions:44s}"]
        for settings, prime in variants:
            conn = await asyncpg.connect(url, server_settings=settings)
            try:
                if prime:
                    small = _with_organization(values, big, smallest)
                    for _ in range(_PRIMING_RUNS):
                        await conn.fetch(sql, *small)
                row.append(f"{await _median_ms(conn, sql, values):7.2f}ms")
            finally:
                await conn.close()
        print(" ".join(row))
    print(
        "median ms on the big organization. service: force_custom_plan, jit off; jit on: "
        "the same with jit on; generic: a generic plan (force_generic_plan); defaults: "
        f"plan_cache_mode=auto and jit on, after {_PRIMING_RUNS} runs for the smallest tenant"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.pg_settings_bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
