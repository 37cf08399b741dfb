"""What AIZE_OTEL_TRACES costs per request: the same GraphQL requests with and without it.

    python -m bench.tracing_overhead --requests 20000 --runs 40

Seeds the demo data set (`--requests` logs) into a scratch SQLite file (or uses
`--database-url`), then times, in this process through the ASGI interface (no network, so
the difference is the service's own work), `--runs` times each after a warm-up: a log page
of 100 rows (about 1,100 fields, most of them plain scalars: the fields graph/execution.py's
short path completes) and the usage page's totals. Traced runs use an SDK tracer provider
with no exporter (spans are made and dropped), so the figure is the instrumentation alone:
the Starlette and strawberry spans and the resolve hook that turns the short path off.
Prints the medians (min-max) of both and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from cli.demo_data import seed_demo
from graph.schema import schema
from models.database import close_database, init_database
from settings import Settings
from web.app import create_app

LOG_PAGE = """query LogPage {
  organization {
    requestLogs(first: 100) {
      edges { cursor node {
        requestId timestamp model endpoint statusCode latencyMs inputTokens outputTokens
        customerCost providerCost
      } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""
TOTALS = """query Totals($from: DateTime!, $to: DateTime!) {
  organization { usage(filter: {from: $from, to: $to}) {
    totals { requests inputTokens outputTokens customerCost errorRate }
  } }
}"""
WARM_UP = 5


async def _time(
    client: httpx.AsyncClient, token: str, body: dict[str, object], runs: int
) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    timings: list[float] = []
    for n in range(WARM_UP + runs):
        started = time.perf_counter()
        response = await client.post("/graphql", json=body, headers=headers)
        elapsed = time.perf_counter() - started
        data = response.json()
        if response.status_code != 200 or data.get("errors"):
            raise SystemExit(f"unexpected answer: {response.status_code} {data.get('errors')}")
        if n >= WARM_UP:
            timings.append(elapsed * 1000)
    return timings


def _figure(timings: list[float]) -> str:
    return f"{statistics.median(timings):7.2f} ms ({min(timings):.2f}-{max(timings):.2f})"


async def _main(args: argparse.Namespace) -> None:
    scratch = tempfile.TemporaryDirectory(prefix="aize-tracing-bench-")
    url = args.database_url or f"sqlite://{Path(scratch.name) / 'bench.sqlite3'}"
    settings = Settings.from_env(
        {
            "AIZE_DATABASE_URL": url,
            "AIZE_ALERT_WORKER": "false",
            "AIZE_RATE_LIMIT_PAUSE_SECONDS": "0",
        }
    )
    await init_database(settings, migrate=settings.is_sqlite)
    try:
        tokens = await seed_demo(args.requests)
        trace.set_tracer_provider(TracerProvider())  # spans are made, then dropped
        bodies = {
            "log page (100 rows)": {"query": LOG_PAGE},
            "usage totals": {
                "query": TOTALS,
                "variables": {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"},
            },
        }
        plain_app = create_app(settings, manage_database=False)
        untraced_extensions = schema.extensions
        results: dict[str, dict[str, list[float]]] = {name: {} for name in bodies}
        for label in ("untraced", "traced"):
            if label == "traced":
                app = create_app(
                    dataclasses.replace(settings, otel_traces=True), manage_database=False
                )
            else:
                app = plain_app
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for name, body in bodies.items():
                    results[name][label] = await _time(client, tokens.owner, body, args.runs)
        schema.extensions = untraced_extensions
        for name, by_label in results.items():
            ratio = statistics.median(by_label["traced"]) / statistics.median(by_label["untraced"])
            untraced, traced = _figure(by_label["untraced"]), _figure(by_label["traced"])
            print(f"{name}: untraced {untraced}, traced {traced}, x{ratio:.2f}")
    finally:
        await close_database()
        scratch.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000, help="demo logs to seed")
    parser.add_argument("--runs", type=int, default=40, help="timed requests per case")
    parser.add_argument("--database-url", help="an existing database (default: scratch SQLite)")
    asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
