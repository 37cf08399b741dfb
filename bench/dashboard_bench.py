"""Dashboard benchmark: the real service through HTTP against plain SQL on the raw table,
on the same data, in the same run.

    python -m bench.dashboard_bench --rows 10000000

Loads (or reuses) the skewed data set of `--rows` request logs (bench.load_data), starts
the service (uvicorn, `--workers`), and times through HTTP, after a warm-up, `--runs` times
each: the dashboard query for the big organization's last 30 days (totals, daily trend by
model, top-20 keys, p50/p95/p99) and a log page of 50 (status-class and model filter, after
a cursor, with apiKey and member). The same answers are computed by plain SQL over
request_log in the same run (the reference) and compared: exactly for counts and money,
within the stated bound for histogram percentiles. Prints medians with min/max, the ratios
and the SQL statements each request sends. `--load-seconds` then runs the open-loop load
test (bench.load_test) against the same service.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import asyncpg
import httpx
import orjson

from bench.answer_checks import dashboard_differences, log_page_differences
from bench.dashboard_queries import (
    DASHBOARD_QUERY,
    DASHBOARD_QUERY_OBJECTS,
    LOG_PAGE_QUERY,
    DashboardAnswer,
    LogRow,
    Window,
    parse_dashboard,
    parse_log_page,
)
from bench.datagen import DataPlan
from bench.http_client import HttpConnection
from bench.load_data import (
    LoadedData,
    disk_usage,
    drop_database,
    ensure_loaded,
    scratch_name,
)
from bench.load_test import LoadPlan, run_load
from bench.reference_sql import reference_dashboard, reference_log_page
from bench.service import owner_token, running_service
from models.database import POSTGRES_SERVER_SETTINGS, close_database, init_database
from resolvers.pagination import KeysetCursor, decode_cursor
from settings import Settings
from web.app import create_app


@dataclass(frozen=True, slots=True)
class Timing:
    """Milliseconds of `runs` timed repetitions."""

    median_ms: float
    min_ms: float
    max_ms: float
    runs: int

    @classmethod
    def of(cls, samples: list[float]) -> Timing:
        return cls(statistics.median(samples), min(samples), max(samples), len(samples))

    def __str__(self) -> str:
        return f"median {self.median_ms:8.2f} ms  (min {self.min_ms:.2f}, max {self.max_ms:.2f})"


def graphql_body(query: str, variables: dict[str, Any]) -> bytes:
    return orjson.dumps({"query": query, "variables": variables})


async def time_runs(
    call: Callable[[], Awaitable[object]], runs: int, warmup: int
) -> tuple[Timing, object]:
    """Warm up, then time `runs` sequential calls; returns the timing and the last result."""
    result: object = None
    for _ in range(warmup):
        result = await call()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = await call()
        samples.append((time.perf_counter() - started) * 1000)
    return Timing.of(samples), result


def graphql_data(body: bytes) -> dict[str, Any]:
    payload = orjson.loads(body)
    if payload.get("errors"):
        raise RuntimeError(f"GraphQL errors: {payload['errors']}")
    data: dict[str, Any] = payload["data"]
    return data


class _StatementCounter(logging.Handler):
    """Counts the SQL statements Tortoise sends (it logs each at DEBUG)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        head = record.getMessage().lstrip().split(None, 1)[:1]
        if head and head[0].upper() in {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}:
            self.count += 1


@contextmanager
def _counting() -> Iterator[_StatementCounter]:
    logger = logging.getLogger("tortoise.db_client")
    counter = _StatementCounter()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous)


async def statement_counts(
    database_url: str, token: str, requests: dict[str, bytes], repeats: int = 3
) -> dict[str, list[int]]:
    """SQL statements per request, counted in-process through the same ASGI app (each
    request sent once uncounted, then `repeats` times: the count must not change)."""
    settings = Settings.from_env(
        {
            "AIZE_DATABASE_URL": database_url,
            "AIZE_ALERT_WORKER": "false",
            "AIZE_RATE_LIMIT_CAPACITY": "1000000000",
            "AIZE_RATE_LIMIT_REFILL_PER_SECOND": "1000000000",
        }
    )
    await init_database(settings)
    counts: dict[str, list[int]] = {}
    try:
        app = create_app(settings, manage_database=False)
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for name, body in requests.items():
                # Not counted: the token's last-used write (at most once a minute).
                graphql_data((await client.post("/graphql", content=body, headers=headers)).content)
                for _ in range(repeats):
                    with _counting() as counter:
                        response = await client.post("/graphql", content=body, headers=headers)
                    graphql_data(response.content)
                    counts.setdefault(name, []).append(counter.count)
    finally:
        await close_database()
    return counts


async def big_org_timezone(database_url: str, organization_id: int) -> str:
    conn = await asyncpg.connect("postgresql://" + database_url.split("://", 1)[1])
    try:
        zone: str = await conn.fetchval(
            "SELECT timezone FROM organization WHERE id = $1", organization_id
        )
        return zone
    finally:
        await conn.close()


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@dataclass(slots=True)
class BenchSetup:
    """A loaded database, the big organization's window and token, the request bodies."""

    loaded: LoadedData
    window: Window
    token: str
    dashboard_body: bytes
    dashboard_objects_body: bytes
    cursor: KeysetCursor | None = None
    page_body: bytes = b""

    @property
    def database_url(self) -> str:
        return self.loaded.database_url

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def requests(self, base_url: str) -> tuple[bytes, bytes, bytes]:
        """The dashboard, page-2 log and object-shaped dashboard requests as HTTP bytes
        (page 1 is fetched once for its cursor)."""
        http = HttpConnection(base_url)
        first = graphql_body(LOG_PAGE_QUERY, {"filter": self.window.log_filter()})
        response = await http.send(http.request_bytes("/graphql", first, self.auth))
        _, end_cursor = parse_log_page(graphql_data(response.body))
        if end_cursor is None:
            raise RuntimeError("the log filter matched no rows")
        self.cursor = decode_cursor(end_cursor)
        self.page_body = graphql_body(
            LOG_PAGE_QUERY, {"filter": self.window.log_filter(), "after": end_cursor}
        )
        requests = (
            http.request_bytes("/graphql", self.dashboard_body, self.auth),
            http.request_bytes("/graphql", self.page_body, self.auth),
            http.request_bytes("/graphql", self.dashboard_objects_body, self.auth),
        )
        await http.close()
        return requests


async def prepare(
    rows: int, seed: int, database_url: str | None, *, reload: bool = False
) -> BenchSetup:
    """Load (or reuse) the data; the big organization's last-30-days window and a token."""
    loaded = await ensure_loaded(DataPlan(rows=rows, seed=seed), database_url, reload=reload)
    state = "reused" if loaded.reused else "loaded"
    print(f"data: {loaded.rows:,} request logs {state} ({loaded.loaded_seconds:.0f} s to load)")
    org = loaded.big_organization_id
    window = Window.last_30_days(loaded.data_end, await big_org_timezone(loaded.database_url, org))
    token = await owner_token(loaded.database_url, org)
    variables = {"filter": window.usage_filter()}
    return BenchSetup(
        loaded,
        window,
        token,
        graphql_body(DASHBOARD_QUERY, variables),
        graphql_body(DASHBOARD_QUERY_OBJECTS, variables),
    )


async def _checked(http: HttpConnection, request: bytes, what: str) -> bytes:
    response = await http.send(request)
    if response.status != 200:
        raise RuntimeError(f"{what}: HTTP {response.status}: {response.body[:300]!r}")
    return response.body


async def run(args: argparse.Namespace) -> dict[str, Any]:
    print(f"machine: {os.cpu_count()} cores; load average {load_average()}", flush=True)
    setup = await prepare(args.rows, args.seed, args.database_url, reload=args.reload)
    org, window = setup.loaded.big_organization_id, setup.window
    async with running_service(setup.database_url, workers=args.workers) as base_url:
        dashboard_request, page_request, objects_request = await setup.requests(base_url)
        http = HttpConnection(base_url)
        dashboard_timing, dashboard_raw = await time_runs(
            lambda: _checked(http, dashboard_request, "dashboard"), args.runs, args.warmup
        )
        objects_timing, objects_raw = await time_runs(
            lambda: _checked(http, objects_request, "dashboard (objects)"), args.runs, args.warmup
        )
        page_timing, page_raw = await time_runs(
            lambda: _checked(http, page_request, "log page"), args.runs, args.warmup
        )
        await http.close()
        load_result = None
        if args.load_seconds > 0:
            load_result = await run_load(
                base_url,
                LoadPlan(args.clients, args.rate, args.load_seconds, args.dashboard_share),
                dashboard_request,
                page_request,
            )
    assert isinstance(dashboard_raw, bytes) and isinstance(page_raw, bytes)
    assert isinstance(objects_raw, bytes)
    assert setup.cursor is not None
    cursor = (setup.cursor.timestamp, setup.cursor.id)
    service_dashboard = parse_dashboard(graphql_data(dashboard_raw), window.timezone)
    service_objects = parse_dashboard(graphql_data(objects_raw), window.timezone)
    service_page, _ = parse_log_page(graphql_data(page_raw))

    conn = await asyncpg.connect(
        "postgresql://" + setup.database_url.split("://", 1)[1],
        server_settings=dict(POSTGRES_SERVER_SETTINGS),
    )
    try:

        async def reference() -> DashboardAnswer:
            return await reference_dashboard(conn, org, window)

        async def reference_page() -> list[LogRow]:
            return await reference_log_page(conn, org, window, cursor)

        ref_timing, ref_dashboard = await time_runs(reference, args.reference_runs or args.runs, 1)
        ref_page_timing, ref_page = await time_runs(reference_page, args.runs, args.warmup)
    finally:
        await conn.close()
    assert isinstance(ref_dashboard, DashboardAnswer) and isinstance(ref_page, list)
    counts = await statement_counts(
        setup.database_url,
        setup.token,
        {"dashboard": setup.dashboard_body, "log page": setup.page_body},
    )
    report = {
        "rows": setup.loaded.rows,
        "window_requests": ref_dashboard.latency_requests,
        "timezone": window.timezone,
        "workers": args.workers,
        "load_average_end": load_average(),
        "dashboard": asdict(dashboard_timing),
        "dashboard_raw_sql": asdict(ref_timing),
        "dashboard_ratio": ref_timing.median_ms / dashboard_timing.median_ms,
        "dashboard_objects": asdict(objects_timing),
        "log_page": asdict(page_timing),
        "log_page_raw_sql": asdict(ref_page_timing),
        "statements": counts,
        "latency_method": service_dashboard.latency_method,
        "percentiles_service": service_dashboard.percentiles,
        "percentiles_exact": ref_dashboard.percentiles,
        "dashboard_differences": dashboard_differences(service_dashboard, ref_dashboard),
        "dashboard_objects_differences": dashboard_differences(service_objects, ref_dashboard),
        "log_page_differences": log_page_differences(service_page, ref_page),
        "load_test": None if load_result is None else load_result.as_dict(),
        "disk_mib": {
            name: round(size / 2**20, 1) for name, size in await disk_usage(setup.database_url)
        },
    }
    _print_report(
        report, dashboard_timing, objects_timing, ref_timing, page_timing, ref_page_timing
    )
    if load_result is not None:
        print(load_result.summary())
    if args.drop and args.database_url is None:
        await drop_database(scratch_name(args.rows, args.seed))
    return report


def _print_report(
    report: dict[str, Any],
    dashboard: Timing,
    objects: Timing,
    reference: Timing,
    page: Timing,
    reference_page: Timing,
) -> None:
    print(
        f"big organization, last 30 days: {report['window_requests']:,} requests "
        f"({report['timezone']}); service workers: {report['workers']}"
    )
    print(f"dashboard, service over HTTP : {dashboard}")
    print(f"  same, trend as objects     : {objects}")
    print(f"dashboard, raw SQL reference : {reference}")
    print(f"  ratio raw SQL / service    : {report['dashboard_ratio']:.1f}x")
    print(f"log page, service over HTTP  : {page}")
    print(f"log page, raw SQL reference  : {reference_page}")
    for name, counts in report["statements"].items():
        print(f"SQL statements per request, {name}: {counts}")
    print(
        f"latency: {report['latency_method']} p50/p95/p99 service "
        f"{report['percentiles_service']}, exact {report['percentiles_exact']}"
    )
    for label, problems in (
        ("dashboard", report["dashboard_differences"]),
        ("dashboard (objects)", report["dashboard_objects_differences"]),
        ("log page", report["log_page_differences"]),
    ):
        if problems:
            print(f"{label}: DIFFERS from the raw SQL:")
            for problem in problems:
                print(f"  {problem}")
        else:
            print(f"{label}: answers equal the raw SQL's")
    print(f"load average at the end: {report['load_average_end']}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard_bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=30, help="timed runs per question")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--reference-runs", type=int, default=0, help="default: --runs")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--database-url", default=None, help="default: a scratch database")
    parser.add_argument("--reload", action="store_true", help="load the data again")
    parser.add_argument("--drop", action="store_true", help="drop the scratch database after")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument("--load-seconds", type=float, default=0, help="run the load test")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--rate", type=float, default=100.0, help="requests/s, all clients")
    parser.add_argument("--dashboard-share", type=float, default=0.5)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    report = asyncio.run(run(args))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2, default=str)
    if report["dashboard_differences"] or report["log_page_differences"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
