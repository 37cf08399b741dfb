"""Read-replica benchmark: dashboard throughput with reads on the primary vs on one streaming
replica, under the same ingest load, in the same run.

    python -m bench.replica_bench --rows 200000 --seconds 30 --clients 4 --ingest-rate 200

A throwaway primary (initdb on a free port, tests/pg_cluster.py) is loaded with the skewed
data set (bench.load_data), then copied into a streaming replica (`pg_basebackup -R`). The
service (uvicorn, `--workers`) runs twice on the primary: once without and once with
AIZE_DATABASE_READ_URLS naming the replica. Each run lasts `--seconds`: one client posts
`--ingest-rate` records/s to /ingest/bulk (batches every 0.25 s, every one fully accepted)
while `--clients` closed-loop clients send the dashboard query of bench.dashboard_bench (the
big organization's last 30 days). Prints dashboards/s, latency percentiles and where the
reads went (the service's own counter in /metrics).

Both servers and the service share this machine's cores, so the figures show what moving
the reads costs or saves when nothing else changes, not the capacity a replica on its own
machine adds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import httpx

from bench.dashboard_bench import prepare
from bench.load_test import nearest_rank_ms
from bench.service import serving
from tests.pg_cluster import PgCluster

METRICS_TOKEN = "replica-bench-metrics-0123456789"
_UNLIMITED = "1000000000"
INGEST_BATCHES_PER_SECOND = 4


@dataclass(slots=True)
class RunFigures:
    mode: str
    seconds: float
    dashboards: int
    latencies_ms: list[float]
    ingested: int
    reads_by_target: dict[str, float]

    def line(self) -> str:
        ordered = sorted(self.latencies_ms)
        return (
            f"{self.mode:8s} dashboards/s {self.dashboards / self.seconds:6.1f}  "
            f"p50 {statistics.median(ordered):6.1f} ms  "
            f"p95 {nearest_rank_ms(ordered, 95):6.1f} ms  "
            f"p99 {nearest_rank_ms(ordered, 99):6.1f} ms  ingested/s "
            f"{self.ingested / self.seconds:6.1f}  reads {self.reads_by_target}"
        )


def _cli(database_url: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env={**os.environ, "AIZE_DATABASE_URL": database_url, "AIZE_LOG_LEVEL": "warning"},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


async def _key_prefix(database_url: str, organization_id: int) -> str:
    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://"))
    try:
        prefix: str = await conn.fetchval(
            "SELECT prefix FROM api_key WHERE organization_id = $1 AND status = 'ACTIVE' "
            "ORDER BY id LIMIT 1",
            organization_id,
        )
        return prefix
    finally:
        await conn.close()


async def _ingest(
    http: httpx.AsyncClient, url: str, token: str, prefix: str, rate: int, until: float
) -> int:
    """Post `rate` records/s until `until` (monotonic); returns how many were accepted."""
    per_batch = max(rate // INGEST_BATCHES_PER_SECOND, 1)
    interval = 1 / INGEST_BATCHES_PER_SECOND
    accepted = 0
    next_at = time.monotonic()
    while next_at < until:
        now = datetime.now(UTC).isoformat()
        body = "\n".join(
            json.dumps(
                {
                    "requestId": str(uuid.uuid4()),
                    "timestamp": now,
                    "apiKeyPrefix": prefix,
                    "model": "gpt-4o-mini",
                    "endpoint": "/v1/chat/completions",
                    "inputTokens": 900,
                    "outputTokens": 120,
                    "latencyMs": 700,
                    "statusCode": 200,
                }
            )
            for _ in range(per_batch)
        )
        response = await http.post(
            f"{url}/ingest/bulk",
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"},
        )
        response.raise_for_status()
        verdict = response.json()
        if verdict["accepted"] != per_batch:
            raise RuntimeError(f"ingest batch not fully accepted: {verdict}")
        accepted += per_batch
        next_at += interval
        await asyncio.sleep(max(next_at - time.monotonic(), 0))
    return accepted


async def _dashboards(
    http: httpx.AsyncClient, url: str, token: str, body: bytes, until: float
) -> list[float]:
    latencies = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    while time.monotonic() < until:
        started = time.perf_counter()
        response = await http.post(f"{url}/graphql", content=body, headers=headers)
        if response.status_code != 200 or "errors" in response.json():
            raise RuntimeError(f"dashboard: HTTP {response.status_code}: {response.text[:300]}")
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def _reads_by_target(http: httpx.AsyncClient, url: str) -> dict[str, float]:
    response = await http.get(
        f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    found = {}
    for line in response.text.splitlines():
        if line.startswith("aize_read_replica_reads_total{"):
            labels, value = line.rsplit(" ", 1)
            found[labels.split('"')[1]] = float(value)
    return found


async def run_mode(
    mode: str,
    args: argparse.Namespace,
    primary: PgCluster,
    replica: PgCluster,
    token: str,
    ingest_token: str,
    prefix: str,
    body: bytes,
) -> RunFigures:
    settings = {
        "AIZE_ALERT_WORKER": "false",
        "AIZE_RATE_LIMIT_CAPACITY": _UNLIMITED,
        "AIZE_RATE_LIMIT_REFILL_PER_SECOND": _UNLIMITED,
        "AIZE_RATE_LIMIT_INGEST_CAPACITY": _UNLIMITED,
        "AIZE_METRICS_TOKEN": METRICS_TOKEN,
    }
    if mode == "replica":
        settings["AIZE_DATABASE_READ_URLS"] = replica.url
    async with (
        serving(primary.url, args.workers, settings) as url,
        httpx.AsyncClient(
            timeout=60, limits=httpx.Limits(max_connections=args.clients + 2)
        ) as http,
    ):
        # Warm-up: plans, caches and the pools of both servers.
        await _dashboards(http, url, token, body, time.monotonic() + 3)
        until = time.monotonic() + args.seconds
        started = time.monotonic()
        ingest = asyncio.create_task(
            _ingest(http, url, ingest_token, prefix, args.ingest_rate, until)
        )
        readers = [
            asyncio.create_task(_dashboards(http, url, token, body, until))
            for _ in range(args.clients)
        ]
        latencies = [ms for done in await asyncio.gather(*readers) for ms in done]
        ingested = await ingest
        elapsed = time.monotonic() - started
        reads = await _reads_by_target(http, url)
    return RunFigures(mode, elapsed, len(latencies), latencies, ingested, reads)


async def main_async(args: argparse.Namespace) -> None:
    primary = PgCluster.create()
    replica: PgCluster | None = None
    try:
        primary.start()
        setup = await prepare(args.rows, args.seed, primary.url)
        replica = PgCluster.replica_of(primary)
        replica.start()
        organization = setup.loaded.big_organization_id
        ingest_token = _cli(primary.url, "create-token", str(organization), "--ingest").strip()
        prefix = await _key_prefix(primary.url, organization)
        print(
            f"rows {args.rows:,}; {args.clients} dashboard clients, ingest {args.ingest_rate}"
            f" records/s, {args.seconds:g} s per mode, {args.workers} worker(s); "
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}"
        )
        for mode in args.modes:
            figures = await run_mode(
                mode,
                args,
                primary,
                replica,
                setup.token,
                ingest_token,
                prefix,
                setup.dashboard_body,
            )
            print(figures.line(), flush=True)
    finally:
        if replica is not None:
            replica.destroy()
        primary.destroy()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=4, help="closed-loop dashboard clients")
    parser.add_argument("--ingest-rate", type=int, default=200, help="records/s")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--modes", nargs="+", default=["primary", "replica"], choices=["primary", "replica"]
    )
    asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
