"""Ingest benchmark: records/s through POST /ingest/bulk into PostgreSQL, end to end, with a
raw COPY of the same records into a bare table measured in the same run as the reference.

    python -m bench.ingest_bench --records 200000

The database is AIZE_BENCH_DATABASE_URL, or a scratch database created on
127.0.0.1:5432 (dropped afterwards). The real service runs in a subprocess (uvicorn,
--workers processes); batches of --batch JSON lines are posted by --clients concurrent
clients, all to one organization (--orgs 1) or in turn to --orgs organizations; every batch
must come back fully accepted. A batch refused 503 with Retry-After (busy) is resent after
that many seconds, as a gateway does, and counted.

    python -m bench.ingest_bench --records 40000 --orgs 8 --sustain-rate 2000 --sustain-seconds 300

With --sustain-rate, batches are posted at that many records per second (a batch every
batch/rate seconds, at most --clients in flight) for --sustain-seconds, the --records
generated ones over and over with fresh request ids; the folder's lag (fold_pending: rows
pending, and the age of the oldest, what Organization.rollupLag shows) is sampled every
0.5 s and reported as p50 / p99 / max and whether it grows. No COPY reference then.
AIZE_BENCH_NAME_TAG, if set, goes into the scratch database's name.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import re
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import orjson

from auth.tokens import issue_token
from bench import process_cpu
from bench.datagen import (
    CUSTOMER_TAGGED,
    CUSTOMERS,
    END_USER_SHARE,
    END_USERS,
    FEATURE_TAGGED,
    FEATURES,
)
from bench.process_cpu import load_average
from bench.service import start_service
from ingestion.gc_tuning import freeze_startup_objects
from ingestion.json_lines import parse_json_lines
from ingestion.log_row import log_row
from ingestion.pricing import RecordPricer
from ingestion.staged_insert import (
    DEFERRED_WRITE_SCRIPT,
    INSERT_LOGS,
    WRITE_SCRIPT,
    stage_and_claim,
)
from ingestion.validation import KeyInfo, OrgDirectory, ValidationRules, validate_record
from models.access_token import Scope
from models.api_key import ApiKey
from models.database import apply_migrations, close_database, init_database
from models.global_ids import decode_global_id_of
from models.member import Member, Role
from models.organization import Organization
from pricing.catalog import load_default_catalog
from pricing.money import usd_to_nanos
from pricing.terms import TermsTimeline
from settings import Settings

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
MODELS = [
    ("gpt-4o", "gpt-4o-2024-08-06"),
    ("gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
    ("claude-3-5-sonnet", "claude-3-5-sonnet-20241022"),
    ("gemini-1.5-flash", "gemini-1.5-flash-002"),
    ("gpt-3.5-turbo", "gpt-3.5-turbo-0125"),
]
ENDPOINTS = ["/v1/chat/completions", "/v1/embeddings", "/v1/responses"]
STATUSES = [200] * 95 + [429, 429, 500, 503, 400]
ORDERS = ("arrival", "shuffled")
MARKUP_BPS = 2500  # the bench organization's terms: 25% markup, $0.001 per request
FIXED_FEE_NANOS = usd_to_nanos("0.001")
# The bare reference table: request_log's columns and types, no index, no constraint.
REFERENCE_DDL = """
CREATE TABLE bench_copy_reference (
    request_id uuid, organization_id integer, api_key_id integer, member_id integer,
    timestamp timestamptz, model varchar(100), provider_model varchar(100),
    endpoint varchar(200), input_tokens bigint, output_tokens bigint, total_tokens bigint,
    provider_cost_nanos bigint, markup_nanos bigint, fixed_fee_nanos bigint,
    customer_cost_nanos bigint, priced boolean, latency_ms integer, status_code smallint,
    error_message text, metadata jsonb, request_body text, response_body text,
    ingested_at timestamptz
)
"""


@dataclass(slots=True)
class CpuUsage:
    """CPU seconds the service (uvicorn and its workers) and the PostgreSQL backends of the
    bench database used between start() and stop(); None where /proc is not available."""

    database: str
    service_pid: int
    service_seconds: float | None = None
    postgres_seconds: float = 0.0
    _service_before: float = 0.0
    _backends_before: dict[int, float] | None = None

    async def start(self) -> None:
        # Backends' CPU is readable only for the scratch database on this machine's server.
        if not process_cpu.available() or os.environ.get("AIZE_BENCH_DATABASE_URL"):
            return
        self._service_before = sum(map(process_cpu.cpu_seconds, self._service()))
        self._backends_before = await self._backends()

    async def stop(self) -> None:
        if self._backends_before is None:
            return
        self.service_seconds = (
            sum(map(process_cpu.cpu_seconds, self._service())) - self._service_before
        )
        after = await self._backends()
        # A backend that appeared during the run counts from zero.
        self.postgres_seconds = sum(
            seconds - self._backends_before.get(pid, 0.0) for pid, seconds in after.items()
        )

    def _service(self) -> list[int]:
        return process_cpu.process_tree(self.service_pid)

    async def _backends(self) -> dict[int, float]:
        admin = await asyncpg.connect(ADMIN_URL)
        try:
            pids = await process_cpu.backend_pids(admin, self.database)
        finally:
            await admin.close()
        return {pid: process_cpu.cpu_seconds(pid) for pid in pids}


@dataclass(frozen=True, slots=True)
class BenchOrg:
    organization_id: int
    token: str
    keys: list[tuple[int, str, int | None]]  # (id, prefix, owner member id)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_bench", description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5000, help="records per POST")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument(
        "--orgs",
        type=int,
        default=1,
        help="organizations the records are spread over (batches go to each in turn); "
        "1: every client posts to the same organization",
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also measure, in this process and one connection, the CPU per record of "
        "parse + validate + price alone and of the staged SQL write without and with rollups",
    )
    parser.add_argument(
        "--index-costs",
        action="store_true",
        help="with --floor: also the raw log's write CPU with each secondary index of "
        "request_log dropped in turn (the scratch database's; made again after)",
    )
    parser.add_argument(
        "--order",
        choices=ORDERS,
        default="arrival",
        help="arrival: records sorted by timestamp, as a gateway serves and flushes them; "
        "shuffled: timestamps in random order over the two hours (worst case for rollups)",
    )
    parser.add_argument(
        "--sustain-rate",
        type=int,
        default=None,
        help="post at this many records/s for --sustain-seconds and sample the fold lag",
    )
    parser.add_argument("--sustain-seconds", type=float, default=300.0)
    parser.add_argument(
        "--print-samples", action="store_true", help="with --sustain-rate: every lag sample"
    )
    args = parser.parse_args(argv)
    if args.sustain_rate is not None and (args.sustain_rate < 1 or args.floor):
        parser.error("--sustain-rate must be at least 1, without --floor")
    if args.orgs < 1:
        parser.error("--orgs must be at least 1")
    if args.index_costs and not args.floor:
        parser.error("--index-costs goes with --floor")
    if args.floor and args.orgs != 1:
        parser.error("--floor measures one organization's batches: use it with --orgs 1")
    return args


@asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """AIZE_BENCH_DATABASE_URL, or a fresh database dropped on exit."""
    given = os.environ.get("AIZE_BENCH_DATABASE_URL")
    if given:
        yield given
        return
    name = f"aize_bench_{os.environ.get('AIZE_BENCH_NAME_TAG', '')}{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        admin = await asyncpg.connect(ADMIN_URL)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def create_bench_orgs(settings: Settings, count: int) -> list[BenchOrg]:
    """`count` organizations, each with 16 members with personal keys, 4 team keys, 25%
    markup, a $0.001 fee, $1,000,000 in its wallet and an ingest token; key prefixes are
    unique across them."""
    await init_database(settings)
    try:
        return [await _create_org(n) for n in range(count)]
    finally:
        await close_database()


async def _create_org(n: int) -> BenchOrg:
    # The first organization's prefixes are the ones earlier runs used.
    tag = "" if n == 0 else f"{n}-"
    org = await Organization.create(
        name="Bench Org" if n == 0 else f"Bench Org {n}",
        slug=f"bench-{uuid.uuid4().hex[:6]}",
        markup_bps=MARKUP_BPS,
        fixed_fee_nanos=FIXED_FEE_NANOS,
        wallet_balance_nanos=usd_to_nanos("1000000"),
    )
    keys: list[tuple[int, str, int | None]] = []
    for i in range(16):
        member = await Member.create(
            organization=org, name=f"Bench {i}", email=f"bench{i}@example.com", role=Role.MEMBER
        )
        key = await ApiKey.create(
            organization=org, owner=member, label=f"key {i}", prefix=f"sk-bench-{tag}{i:04d}"
        )
        keys.append((key.id, key.prefix, member.id))
    for i in range(4):
        key = await ApiKey.create(
            organization=org, label=f"team {i}", prefix=f"sk-team-{tag}{i:04d}"
        )
        keys.append((key.id, key.prefix, None))
    token = (await issue_token(org.id, None, "bench gateway", [Scope.INGEST])).token
    return BenchOrg(org.id, token, keys)


def generate(org: BenchOrg, count: int, seed: int, order: str) -> list[dict[str, Any]]:
    """Gateway records spread over the last two hours; with order "arrival" sorted by
    timestamp (a gateway flushes what it served, oldest first), else in random order."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    records = []
    for _ in range(count):
        _, prefix, _ = rng.choice(org.keys)
        model, provider_model = rng.choice(MODELS)
        status = rng.choice(STATUSES)
        ok = status == 200
        records.append(
            {
                "requestId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "timestamp": (now - timedelta(seconds=rng.randrange(60, 7200))).isoformat(),
                "apiKeyPrefix": prefix,
                "model": model,
                "providerModel": provider_model,
                "endpoint": rng.choice(ENDPOINTS),
                "inputTokens": rng.randrange(10, 4000),
                "outputTokens": rng.randrange(1, 1500) if ok else 0,
                "latencyMs": rng.randrange(80, 9000),
                "statusCode": status,
                "errorMessage": None if ok else "upstream error",
                "metadata": {"temperature": 0.7, "max_tokens": 1024, "stream": rng.random() < 0.4},
                **_attribution(rng),
            }
        )
    if order == "arrival":
        # Same offset for every record: the ISO strings sort like the instants.
        records.sort(key=lambda r: str(r["timestamp"]))
    return records


def bench_batches(
    orgs: list[BenchOrg], count: int, batch: int, seed: int, order: str
) -> tuple[list[dict[str, Any]], list[tuple[str, bytes]]]:
    """`count` records spread evenly over the organizations (each its own generate() run),
    and their JSON lines bodies of `batch` records as (ingest token, body): the
    organizations' batches in turn, so concurrent clients post to different ones."""
    records: list[dict[str, Any]] = []
    per_org: list[list[tuple[str, bytes]]] = []
    for n, org in enumerate(orgs):
        own = generate(org, count // len(orgs) + (n < count % len(orgs)), seed + n, order)
        records.extend(own)
        per_org.append(
            [
                (org.token, b"\n".join(orjson.dumps(r) for r in own[i : i + batch]))
                for i in range(0, len(own), batch)
            ]
        )
    in_turn = [b for turn in itertools.zip_longest(*per_org) for b in turn if b is not None]
    return records, in_turn


def _attribution(rng: random.Random) -> dict[str, Any]:
    """Tags and end user in bench.datagen's proportions (a feature tag on 80%, a customer
    tag on 50%, an end user on 70%); customers uniform here, so rollup rows are if
    anything more numerous than with datagen's Zipf."""
    tags = []
    if rng.random() < FEATURE_TAGGED:
        tags.append(f"feature:{rng.choice(FEATURES)}")
    if rng.random() < CUSTOMER_TAGGED:
        tags.append(f"customer:{rng.randrange(CUSTOMERS)}")
    fields: dict[str, Any] = {"tags": tags} if tags else {}
    if rng.random() < END_USER_SHARE:
        fields["endUser"] = f"user-{rng.randrange(END_USERS)}"
    return fields


@dataclass(slots=True)
class Posting:
    """How posting went: wall seconds, busy refusals (503 + Retry-After, each resent after
    it), and the slowest batch's seconds from its first post to its acceptance."""

    seconds: float = 0.0
    busy: int = 0
    slowest_batch: float = 0.0


async def post_all(url: str, batches: list[tuple[str, bytes]], clients: int) -> Posting:
    """Post every (ingest token, body) with `clients` concurrent clients, in list order;
    checks each answer. A 503 with Retry-After is resent after it, as a gateway does."""
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)
    posting = Posting()

    async def client_loop() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=300) as client:
            while not queue.empty():
                token, body = queue.get_nowait()
                headers = {
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/x-ndjson",
                }
                first_post = time.perf_counter()
                while True:
                    response = await client.post("/ingest/bulk", content=body, headers=headers)
                    if response.status_code != 503 or "retry-after" not in response.headers:
                        break
                    posting.busy += 1
                    await asyncio.sleep(float(response.headers["retry-after"]))
                payload = response.json()
                if response.status_code != 200 or payload["rejected"] or payload["duplicates"]:
                    raise RuntimeError(
                        f"batch not fully accepted: {response.status_code} {payload}"
                    )
                posting.slowest_batch = max(posting.slowest_batch, time.perf_counter() - first_post)

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    posting.seconds = time.perf_counter() - started
    return posting


async def copy_reference(
    database_url: str, records: list[dict[str, Any]], orgs: list[BenchOrg]
) -> float:
    """Seconds for one asyncpg COPY of the same records into a bare table."""
    owners = {
        prefix: (org.organization_id, key_id, owner)
        for org in orgs
        for key_id, prefix, owner in org.keys
    }
    now = datetime.now(UTC)
    rows = []
    for r in records:
        organization_id, key_id, owner = owners[r["apiKeyPrefix"]]
        rows.append(
            (
                uuid.UUID(r["requestId"]),
                organization_id,
                key_id,
                owner,
                datetime.fromisoformat(r["timestamp"]),
                r["model"],
                r["providerModel"],
                r["endpoint"],
                r["inputTokens"],
                r["outputTokens"],
                r["inputTokens"] + r["outputTokens"],
                1000,
                250,
                1_000_000,
                1_001_250,
                True,
                r["latencyMs"],
                r["statusCode"],
                r["errorMessage"],
                orjson.dumps(r["metadata"]).decode(),
                None,
                None,
                now,
            )
        )
    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute(REFERENCE_DDL)
        started = time.perf_counter()
        await conn.copy_records_to_table("bench_copy_reference", records=rows)
        elapsed = time.perf_counter() - started
        await conn.execute("DROP TABLE bench_copy_reference")
    finally:
        await conn.close()
    return elapsed


@dataclass(slots=True)
class Floor:
    """CPU seconds (whole run) of the parts of ingest measured alone; see measure_floor."""

    service: float  # parse + validate + price in this process
    sql_log_only: float  # backend: COPY to staging + claim + INSERT INTO request_log
    sql_with_rollups: float  # backend: the same + the 18 rollup upserts
    sql_deferred: float  # backend: the raw log listed in fold_pending (folding deferred)
    # --index-costs: backend, the raw log alone with every index, then without each
    # secondary index of request_log, measured back to back
    sql_without_index: dict[str, tuple[float, float]]


async def measure_floor(
    database_url: str,
    bodies: list[bytes],
    org: BenchOrg,
    settings: Settings,
    index_costs: bool = False,
) -> Floor:
    """The floor under the bulk endpoint's CPU per record, measured (not product code):
    the service's parse + validate + price of every body, in this process; then the staged
    SQL write of the same records under fresh request ids, one batch per transaction on one
    connection, once storing only the raw log, once with every rollup (what inline ingest
    runs, minus wallet, spend counters and spend control) and once listing the raw log in
    fold_pending (what deferred ingest runs, the same minus)."""
    freeze_startup_objects()  # as the service does after start-up
    directory = OrgDirectory(
        keys_by_id={key_id: KeyInfo(key_id, owner) for key_id, _, owner in org.keys},
        keys_by_prefix={prefix: [KeyInfo(key_id, owner)] for key_id, prefix, owner in org.keys},
        member_ids=frozenset(owner for _, _, owner in org.keys if owner is not None),
    )
    rules = ValidationRules.at(
        datetime.now(UTC), settings.late_arrival_days, False, decode_global_id_of
    )
    pricer = RecordPricer(
        load_default_catalog(),
        org.organization_id,
        TermsTimeline.constant(2500, usd_to_nanos("0.001")),
    )
    started = time.process_time()
    batches = []
    for body in bodies:
        parsed, broken = parse_json_lines(body, settings.bulk_max_records)
        batches.append([pricer.price(validate_record(s.fields, directory, rules)) for s in parsed])
        if broken:
            raise RuntimeError(f"bench body has broken lines: {broken[:1]}")
    service = time.process_time() - started
    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        seconds = [
            await _write_cpu(conn, batches, script)
            for script in (INSERT_LOGS, WRITE_SCRIPT, DEFERRED_WRITE_SCRIPT)
        ]
        without = await _without_each_index(conn, batches) if index_costs else {}
    finally:
        await conn.close()
    return Floor(service, *seconds, without)


async def _write_cpu(conn: asyncpg.Connection, batches: list[list[Any]], script: str) -> float:
    """The backend's CPU seconds to write `batches` under fresh request ids, one batch per
    transaction: staged, claimed, then `script`."""
    backend = await conn.fetchval("SELECT pg_backend_pid()")
    before = process_cpu.cpu_seconds(backend)
    for batch in batches:
        for record in batch:
            record.request_id = uuid.uuid4()
        rows = [log_row(r) for r in sorted(batch, key=lambda r: r.request_id.int)]
        async with conn.transaction():
            await stage_and_claim(conn, rows)
            await conn.execute(script)
    return process_cpu.cpu_seconds(backend) - before


_SECONDARY_INDEXES = """
SELECT i.relname AS name, replace(pg_get_indexdef(i.oid), ' ON ONLY ', ' ON ') AS definition
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
WHERE t.relname = 'request_log' AND NOT x.indisunique AND NOT x.indisprimary ORDER BY 1
"""


async def _without_each_index(
    conn: asyncpg.Connection, batches: list[list[Any]]
) -> dict[str, tuple[float, float]]:
    """The raw log's write CPU with every index, then with one secondary index of
    request_log dropped (then made again, on every partition: the parent's definition says
    ON ONLY), for each in turn, and likewise without all of them ("(every one)"): what each
    costs ingest. Each pair is measured back to back, as the table grows with every run."""
    indexes = await conn.fetch(_SECONDARY_INDEXES)
    costs = {}
    for name, dropped in [(i["name"], [i]) for i in indexes] + [("(every one)", indexes)]:
        with_it = await _write_cpu(conn, batches, INSERT_LOGS)
        for index in dropped:
            await conn.execute(f"DROP INDEX {index['name']}")
        try:
            costs[name] = (with_it, await _write_cpu(conn, batches, INSERT_LOGS))
        finally:
            for index in dropped:
                await conn.execute(index["definition"])
    return costs


def print_floor(floor: Floor, records: int, copy_rate: float) -> None:
    cpus = os.cpu_count() or 1
    per_record = {
        "service: parse + validate + price": floor.service,
        "PostgreSQL: COPY to staging + claim + INSERT request_log": floor.sql_log_only,
        "PostgreSQL: the same + 18 rollup upserts": floor.sql_with_rollups,
        "PostgreSQL: the raw log listed in fold_pending (deferred)": floor.sql_deferred,
    }
    print("floor (one process, one connection, CPU per record):")
    for name, seconds in per_record.items():
        print(f"  {name}: {seconds * 1e6 / records:.1f} us")
    budget = cpus / (0.2 * copy_rate)
    print(f"  20% of the COPY rate on {cpus} cores leaves {budget * 1e6:.1f} us of CPU per record")
    for name, (with_it, without) in floor.sql_without_index.items():
        print(
            f"  PostgreSQL: the raw log with every index / without {name}: "
            f"{with_it * 1e6 / records:.1f} / {without * 1e6 / records:.1f} us "
            f"(it costs {(with_it - without) * 1e6 / records:.1f} us)"
        )
    for label, sql in (
        ("raw log only", floor.sql_log_only),
        ("with rollups", floor.sql_with_rollups),
        ("folding deferred", floor.sql_deferred),
    ):
        ceiling = records * cpus / (floor.service + sql)
        print(
            f"  CPU-bound ceiling, {label}: {ceiling:,.0f} records/s "
            f"({ceiling / copy_rate:.1%} of COPY)"
        )


async def stored_count(database_url: str, organization_ids: list[int]) -> int:
    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM request_log WHERE organization_id = ANY($1::int[])",
            organization_ids,
        )
        return count
    finally:
        await conn.close()


# The longest the bench waits for the service's folder to catch up.
FOLD_DEADLINE_SECONDS = 1800.0


async def wait_for_folder(database_url: str) -> tuple[int, float]:
    """(rows pending now, seconds until the service's folder has folded them all)."""
    conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        started = time.perf_counter()
        pending: int = await conn.fetchval("SELECT count(*) FROM fold_pending")
        left = pending
        while left:
            if time.perf_counter() - started > FOLD_DEADLINE_SECONDS:
                raise RuntimeError(
                    f"the folder left {left} rows pending after {FOLD_DEADLINE_SECONDS} s"
                )
            await asyncio.sleep(0.05)
            left = await conn.fetchval("SELECT count(*) FROM fold_pending")
        return pending, time.perf_counter() - started
    finally:
        await conn.close()


# Where a batch's request ids are rewritten for each pass over the generated batches.
_REQUEST_ID_HEAD = re.compile(rb'"requestId":"[0-9a-f]{8}')
LAG_SAMPLE_SECONDS = 0.5


@dataclass(slots=True)
class Sustained:
    """A sustained run: records acknowledged, seconds, lag samples (seconds since the start,
    rows pending, oldest pending age in seconds), batches sent late (every client busy), not
    sent at all (the time was up) and refused busy (503 + Retry-After, resent)."""

    records: int = 0
    seconds: float = 0.0
    samples: list[tuple[float, int, float]] | None = None
    late_batches: int = 0
    unsent_batches: int = 0
    busy: int = 0


async def post_sustained(
    url: str, database_url: str, batches: list[tuple[str, bytes]], args: argparse.Namespace
) -> Sustained:
    """Post `batches` over and over (fresh request ids each pass) at args.sustain_rate
    records/s for args.sustain_seconds; sample the fold lag meanwhile."""
    result = Sustained(samples=[])
    slots = asyncio.Semaphore(args.clients)
    # Each batch is due when the records before it are, at the rate (the last batch of an
    # organization may be short).
    sizes = [body.count(b"\n") + 1 for _, body in batches]
    total = int(args.sustain_seconds * args.sustain_rate / statistics.fmean(sizes))
    due = 0.0
    started = time.perf_counter()
    done = asyncio.Event()

    async def sample() -> None:
        conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
        try:
            while not done.is_set():
                pending, age = await conn.fetchrow(
                    "SELECT count(*), COALESCE(extract(epoch FROM clock_timestamp() - "
                    "min(queued_at)), 0)::float8 FROM fold_pending"
                )
                assert result.samples is not None
                result.samples.append((time.perf_counter() - started, pending, age))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), LAG_SAMPLE_SECONDS)
        finally:
            await conn.close()

    async def post(client: httpx.AsyncClient, n: int) -> None:
        token, body = batches[n % len(batches)]
        body = _REQUEST_ID_HEAD.sub(b'"requestId":"%08x' % (n // len(batches)), body)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
        try:
            while True:
                response = await client.post("/ingest/bulk", content=body, headers=headers)
                if response.status_code != 503 or "retry-after" not in response.headers:
                    break
                result.busy += 1  # resent after Retry-After, as a gateway does
                await asyncio.sleep(float(response.headers["retry-after"]))
            payload = response.json()
            if response.status_code != 200 or payload["rejected"] or payload["duplicates"]:
                raise RuntimeError(f"batch not fully accepted: {response.status_code} {payload}")
            result.records += payload["accepted"]
        finally:
            slots.release()

    sampler = asyncio.create_task(sample())
    try:
        async with httpx.AsyncClient(base_url=url, timeout=300) as client:
            posts = []
            for n in range(total):
                await asyncio.sleep(max(started + due - time.perf_counter(), 0))
                due += sizes[n % len(batches)] / args.sustain_rate
                if slots.locked():
                    result.late_batches += 1  # every client busy: this batch goes out late
                await slots.acquire()
                if time.perf_counter() - started > args.sustain_seconds:
                    # The service could not keep up: what was not sent in time is not sent.
                    slots.release()
                    result.unsent_batches = total - n
                    break
                posts.append(asyncio.create_task(post(client, n)))
            await asyncio.gather(*posts)
        # The posting period: the last batch is posted when the records before it are due,
        # its own are due until the period ends.
        result.seconds = max(time.perf_counter() - started, args.sustain_seconds)
        # A few more samples while the folder finishes the last batches.
        await asyncio.sleep(2)
    finally:
        done.set()
        await sampler
    return result


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def print_sustained(result: Sustained, args: argparse.Namespace, loads: list[float]) -> None:
    """The rate achieved and the lag's distribution and trend, posting period only."""
    samples = [s for s in result.samples or [] if s[0] <= result.seconds]
    if args.print_samples:
        for at, pending_rows, age in result.samples or []:
            print(f"  {at:7.2f} s: {pending_rows:>8,} pending, oldest {age:6.2f} s")
    ages = [age for _, _, age in samples]
    print(
        f"sustained: target {args.sustain_rate:,} records/s for {args.sustain_seconds:.0f} s, "
        f"batch {args.batch}, clients {args.clients}, orgs {args.orgs}, workers "
        f"{args.workers}, order {args.order}, cpus {os.cpu_count()}"
    )
    print(
        f"acknowledged: {result.records:,} records in {result.seconds:.1f} s = "
        f"{result.records / result.seconds:,.0f} records/s; batches sent late (every client "
        f"busy): {result.late_batches}; not sent in time: {result.unsent_batches}; busy "
        f"refusals (503 + Retry-After, resent): {result.busy}"
    )
    print(
        f"fold lag (oldest pending row's age), {len(ages)} samples every "
        f"{LAG_SAMPLE_SECONDS} s: p50 {_percentile(ages, 0.5):.2f} s, "
        f"p99 {_percentile(ages, 0.99):.2f} s, max {max(ages):.2f} s"
    )
    pending = [p for _, p, _ in samples]
    print(
        f"rows pending: p50 {_percentile([float(p) for p in pending], 0.5):,.0f}, "
        f"p99 {_percentile([float(p) for p in pending], 0.99):,.0f}, max {max(pending):,}"
    )
    third = max(len(samples) // 3, 1)
    first, last = ages[:third], ages[-third:]
    slope = statistics.linear_regression([t for t, _, _ in samples], ages).slope
    grows = statistics.fmean(last) > 2 * statistics.fmean(first) + 0.5
    print(
        f"lag trend: mean {statistics.fmean(first):.2f} s in the first third, "
        f"{statistics.fmean(last):.2f} s in the last; slope {slope * 60:+.3f} s per minute: "
        f"{'GROWS' if grows else 'no growth'}"
    )
    print(f"load average during the run: {' -> '.join(f'{x:.1f}' for x in loads)}")


async def run_sustained(args: argparse.Namespace) -> None:
    async with scratch_database() as database_url:
        settings = Settings.from_env({"AIZE_DATABASE_URL": database_url})
        await apply_migrations(settings)
        orgs = await create_bench_orgs(settings, args.orgs)
        _, batches = bench_batches(orgs, args.records, args.batch, args.seed, args.order)
        process, url = await start_service(database_url, args.workers)
        try:
            loads = [load_average()]
            result = await post_sustained(url, database_url, batches, args)
            loads.append(load_average())
            await wait_for_folder(database_url)
        finally:
            process.terminate()
            await process.wait()
        stored = await stored_count(database_url, [org.organization_id for org in orgs])
        if stored != result.records:
            raise RuntimeError(f"expected {result.records} stored logs, found {stored}")
    print_sustained(result, args, loads)


async def run(args: argparse.Namespace) -> None:
    if args.sustain_rate is not None:
        await run_sustained(args)
        return
    async with scratch_database() as database_url:
        settings = Settings.from_env({"AIZE_DATABASE_URL": database_url})
        await apply_migrations(settings)
        orgs = await create_bench_orgs(settings, args.orgs)
        records, batches = bench_batches(orgs, args.records, args.batch, args.seed, args.order)
        process, url = await start_service(database_url, args.workers)
        try:
            usage = CpuUsage(database_url.rsplit("/", 1)[1], process.pid)
            await usage.start()
            load_before = load_average()
            posting = await post_all(url, batches, args.clients)
            await usage.stop()
            load_after = load_average()
            # The service's folder folds the rollups after the commits (ingestion/folding.py):
            # what is left when the last batch is acknowledged, and how long it takes.
            pending_at_end, drain_seconds = await wait_for_folder(database_url)
        finally:
            process.terminate()
            await process.wait()
        stored = await stored_count(database_url, [org.organization_id for org in orgs])
        if stored != len(records):
            raise RuntimeError(f"expected {len(records)} stored logs, found {stored}")
        floor = None
        if args.floor:
            floor = await measure_floor(
                database_url, [b for _, b in batches], orgs[0], settings, args.index_costs
            )
        copy_seconds = await copy_reference(database_url, records, orgs)
    ingest_seconds = posting.seconds
    ingest_rate = len(records) / ingest_seconds
    copy_rate = len(records) / copy_seconds
    print(
        f"records: {len(records)}  batch: {args.batch}  clients: {args.clients}  "
        f"orgs: {args.orgs}  workers: {args.workers}  order: {args.order}  "
        f"cpus: {os.cpu_count()}"
    )
    print(f"bulk endpoint (end to end): {ingest_rate:,.0f} records/s ({ingest_seconds:.2f} s)")
    print(
        f"busy refusals (503 + Retry-After, resent): {posting.busy}  "
        f"slowest batch: {posting.slowest_batch:.2f} s"
    )
    print(f"raw COPY into a bare table: {copy_rate:,.0f} records/s ({copy_seconds:.2f} s)")
    print(f"ratio bulk/COPY: {ingest_rate / copy_rate:.1%}")
    print(
        f"rollups pending at the last acknowledgement: {pending_at_end:,} rows, folded by the "
        f"service's folder {drain_seconds:.2f} s later; ingest + fold: "
        f"{len(records) / (ingest_seconds + drain_seconds):,.0f} records/s"
    )
    if usage.service_seconds is not None:
        print(
            f"CPU per record: service {usage.service_seconds * 1e6 / len(records):.1f} us, "
            f"PostgreSQL {usage.postgres_seconds * 1e6 / len(records):.1f} us  "
            f"(load average {load_before:.1f} -> {load_after:.1f})"
        )
    if floor is not None:
        print_floor(floor, len(records), copy_rate)


def main(argv: list[str] | None = None) -> None:
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
