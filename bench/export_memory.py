"""Export memory benchmark: peak RSS of the service while it streams a large request-log
export over HTTP, for a small and a full export, and a check that what streamed equals the
API's totals.

    python -m bench.export_memory --rows 1000000                 # scratch SQLite file
    python -m bench.export_memory --rows 1000000 --postgres      # scratch PostgreSQL database

The logs are written through the ingest writer (so rollups are exact), spread over 30 days.
The real service runs as a uvicorn subprocess (one worker); its resident memory is read from
/proc/<pid>/status (VmRSS now, VmHWM = peak since start) before and after each export. The
client streams each export line by line, never holding it, and checks its row count, token
sum and customer-cost sum against `Organization.usage` for the same filter.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson

from auth.tokens import issue_token
from bench.ingest_bench import scratch_database
from bench.service import start_service
from ingestion.writer import write_records
from models.api_key import ApiKey
from models.database import apply_migrations, close_database, init_database
from models.member import Member, Role
from models.organization import Organization
from models.priced_record import PricedRecord
from pricing.cost import customer_cost
from settings import Settings

MODELS = [("gpt-4o", "gpt-4o-2024-08-06"), ("gpt-4o-mini", "gpt-4o-mini-2024-07-18")]
MODELS += [("claude-3-5-sonnet", "claude-3-5-sonnet-20241022"), ("gpt-4", "gpt-4-0613")]
STATUSES = [200] * 95 + [429, 429, 500, 503, 400]
ERRORS = {
    429: "Rate limit exceeded for key 'k-19', retry in 20s",
    500: "=upstream error, see https://status.example.com",
    503: "Service unavailable: provider is overloaded",
    400: "Invalid request: 'messages' must be a non-empty array",
}
BATCH = 20_000
USAGE = """
query Totals($filter: UsageFilter) {
  organization { usage(filter: $filter) { totals { requests totalTokens customerCost } } }
}
"""


@dataclass(frozen=True, slots=True)
class Seeded:
    token: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Streamed:
    rows: int
    tokens: int
    customer_cost: Decimal
    bytes: int
    seconds: float


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.export_memory", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true", help="use a scratch PostgreSQL DB")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


@asynccontextmanager
async def database(postgres: bool) -> AsyncIterator[str]:
    if postgres:
        async with scratch_database() as url:
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="aize-export-bench-") as folder:
        yield f"sqlite://{Path(folder) / 'bench.sqlite3'}"


async def seed(settings: Settings, rows: int, rng: random.Random) -> Seeded:
    """An organization with 20 keys and `rows` priced logs over the last 30 days."""
    await apply_migrations(settings)
    await init_database(settings)
    try:
        org = await Organization.create(
            name="Export Bench", slug="export-bench", markup_bps=2500, fixed_fee_nanos=1_000_000
        )
        owner = await Member.create(
            organization=org, name="Owner", email="owner@example.com", role=Role.OWNER
        )
        keys = [
            await ApiKey.create(organization=org, owner=owner, label=f"key {i}", prefix=f"sk-{i}")
            for i in range(20)
        ]
        end = datetime.now(UTC).replace(microsecond=0)
        start = end - timedelta(days=30)
        written = 0
        while written < rows:
            count = min(BATCH, rows - written)
            await write_records([_record(org, owner, keys, start, rng) for _ in range(count)])
            written += count
            print(f"\r  seeded {written:,} / {rows:,} logs", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        token = (await issue_token(org.id, owner, "export bench")).token
        return Seeded(token, start, end + timedelta(seconds=1))
    finally:
        await close_database()


def _record(
    org: Organization, owner: Member, keys: list[ApiKey], start: datetime, rng: random.Random
) -> PricedRecord:
    model, provider_model = rng.choice(MODELS)
    status = rng.choice(STATUSES)
    input_tokens, output_tokens = rng.randrange(10, 4000), rng.randrange(1, 1500)
    cost = customer_cost(rng.randrange(1, 50_000_000), org.markup_bps, org.fixed_fee_nanos)
    return PricedRecord(
        request_id=uuid.UUID(int=rng.getrandbits(128), version=4),
        organization_id=org.id,
        api_key_id=rng.choice(keys).id,
        member_id=owner.id,
        timestamp=start + timedelta(microseconds=rng.randrange(30 * 86_400_000_000)),
        model=model,
        provider_model=provider_model,
        endpoint="/v1/chat/completions",
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        provider_cost_nanos=cost.provider_cost_nanos,
        markup_nanos=cost.markup_nanos,
        fixed_fee_nanos=cost.fixed_fee_nanos,
        customer_cost_nanos=cost.customer_cost_nanos,
        priced=True,
        latency_ms=rng.randrange(80, 9000),
        status_code=status,
        error_message=ERRORS.get(status),
        metadata={"temperature": 0.7, "max_tokens": 1024, "stream": rng.random() < 0.4},
    )


@asynccontextmanager
async def service(database_url: str) -> AsyncIterator[tuple[int, str]]:
    """The real app under uvicorn (one worker); yields its pid and base URL."""
    process, url = await start_service(database_url)
    try:
        yield process.pid, url
    finally:
        process.terminate()
        await process.wait()


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak since start) of a process, in KiB."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in {"VmRSS", "VmHWM"}:
            values[name] = int(rest.split()[0])
    return values


async def stream_export(url: str, token: str, suffix: str, params: dict[str, str]) -> Streamed:
    """Stream one export, keeping only running sums (never the rows)."""
    rows = tokens = size = 0
    cost = Decimal(0)
    header: list[str] | None = None
    started = time.perf_counter()
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx.AsyncClient(timeout=None) as client,
        client.stream(
            "GET", f"{url}/export/request-logs.{suffix}", params=params, headers=headers
        ) as response,
    ):
        if response.status_code != 200:
            raise RuntimeError(f"export answered {response.status_code}")
        async for line in response.aiter_lines():
            size += len(line) + 1
            if not line:
                continue
            if suffix == "jsonl":
                item: dict[str, Any] = orjson.loads(line)
            elif header is None:
                header = next(csv.reader([line]))
                continue
            else:
                # The bench's texts hold no line breaks, so each line is one record.
                item = dict(zip(header, next(csv.reader([line])), strict=True))
            rows += 1
            tokens += int(item["totalTokens"])
            cost += Decimal(item["customerCost"])
    return Streamed(rows, tokens, cost, size, time.perf_counter() - started)


async def api_totals(url: str, token: str, params: dict[str, str]) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.post(
            f"{url}/graphql",
            json={"query": USAGE, "variables": {"filter": params}},
            headers={"Authorization": f"Bearer {token}"},
        )
    totals: dict[str, Any] = response.json()["data"]["organization"]["usage"]["totals"]
    return totals


def check(streamed: Streamed, totals: dict[str, Any]) -> str:
    same = (
        streamed.rows == int(totals["requests"])
        and streamed.tokens == int(totals["totalTokens"])
        and streamed.customer_cost == Decimal(totals["customerCost"])
    )
    if not same:
        raise RuntimeError(f"export {streamed} differs from the API's totals {totals}")
    return f"= API ({streamed.rows:,} rows, {streamed.tokens:,} tokens, ${totals['customerCost']})"


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    async with database(args.postgres) as database_url:
        settings = Settings.from_env({"AIZE_DATABASE_URL": database_url})
        seeded_at = time.perf_counter()
        seeded = await seed(settings, args.rows, rng)
        print(f"seeded {args.rows:,} logs in {time.perf_counter() - seeded_at:.0f} s")
        whole = {"from": seeded.start.isoformat(), "to": seeded.end.isoformat()}
        tenth = {"from": (seeded.end - timedelta(days=3)).isoformat(), "to": whole["to"]}
        async with service(database_url) as (pid, url):
            print(f"service started: {memory_kib(pid)}")
            await stream_export(url, seeded.token, "csv", {"period": "LAST_HOUR"})
            print(f"after a warm-up export: {memory_kib(pid)}")
            for label, params, suffix in (
                ("last 3 days, csv", tenth, "csv"),
                ("all 30 days, csv", whole, "csv"),
                ("all 30 days, jsonl", whole, "jsonl"),
            ):
                streamed = await stream_export(url, seeded.token, suffix, params)
                verdict = check(streamed, await api_totals(url, seeded.token, params))
                rate = streamed.rows / streamed.seconds
                print(
                    f"{label}: {streamed.bytes / 2**20:,.0f} MiB in {streamed.seconds:.1f} s "
                    f"({rate:,.0f} rows/s) {verdict}; memory {memory_kib(pid)}"
                )
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"backend: {backend}  cpus: {os.cpu_count()}  python: {sys.version.split()[0]}")


def main(argv: list[str] | None = None) -> None:
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
