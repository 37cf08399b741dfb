"""Subscriptions under ingest load: N subscribers over W workers while the gateway ingests
R records/s; time from commit to push (p50/p99) and service CPU per subscriber.

    .venv/bin/python -m bench.subscriptions --subscribers 1000 --workers 2 --rate 5000 \
        --seconds 30

A fresh PostgreSQL database (`--database-url`, created and migrated, dropped at the end),
`--organizations` organizations, each with an owner, a key and an ingest token. Subscribers
are graphql-transport-ws connections (the `websockets` library, answering the server's
pings), `--per-connection` subscriptions each, half `usage` cards and half `requestLogs`,
spread over the organizations. One producer per organization posts `/ingest/bulk` batches
so that all of them together send `--rate` records/s.

Commit to push: every request id a `requestLogs` message carries, and every `usage` message
(by the request count it shows, which one organization's sequential batches make exact), is
matched with its batch. The batch committed between the moment its POST was sent and the
moment its answer arrived (the two bracketing columns); the bench also LISTENs on the
service's NOTIFY channel itself, and PostgreSQL delivers a batch's notification at its
commit: the time that notification reached the bench is the batch's commit time ("commit
to push"; each organization has one batch in flight at a time, so notices and batches pair
up: a batch's commit is the first notice of its organization after its POST was sent).
For each message (one hub's computation: its organization, feed and `computedAt`; each
worker has its own hubs), "first subscriber" is when its first copy arrived and "fan-out"
the spread to its last copy; the
message's `computedAt` (when its hub started computing, wall clock of the same machine)
splits commit to push into "commit to compute" (coalescing wait, NOTIFY delivery, event
loop) and "compute to push" (the computation, shaping and sending, the client reading).

CPU: the service's processes (uvicorn and its workers, from /proc) during a phase with
ingest alone and a phase with ingest and the subscribers; the difference per subscriber.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import websockets

from auth.tokens import issue_token
from bench.process_cpu import cpu_seconds, load_average, process_tree
from bench.service import start_service
from live.listener import asyncpg_dsn
from live.notices import CHANNEL
from models.access_token import Scope
from models.api_key import ApiKey
from models.database import apply_migrations, close_database, init_database
from models.member import Member, Role
from models.organization import Organization
from settings import Settings

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
CARDS = "subscription Cards { usage { totals { requests customerCost } computedAt } }"
LOGS = "subscription Logs { requestLogs { logs { requestId } computedAt } }"
_UNLIMITED = "1000000000"


@dataclass
class Tenant:
    organization_id: int
    read_token: str
    ingest_token: str
    key_prefix: str
    # Request id -> when its batch was sent (monotonic seconds).
    sent_at: dict[str, float] = field(default_factory=dict)
    # Cumulative request count after each batch -> when that batch was sent.
    count_sent_at: dict[int, float] = field(default_factory=dict)
    # The same two, to when the batch's answer (after its commit) arrived.
    acked_at: dict[str, float] = field(default_factory=dict)
    count_acked_at: dict[int, float] = field(default_factory=dict)
    stored: int = 0
    # When each batch was sent, in order; when each notice of the organization arrived.
    batch_sent_at: list[float] = field(default_factory=list)
    committed_at: list[float] = field(default_factory=list)
    # The same notices' arrival on the wall clock (to compare with `computedAt`).
    committed_wall: list[float] = field(default_factory=list)
    batch_of_id: dict[str, int] = field(default_factory=dict)
    batch_of_count: dict[int, int] = field(default_factory=dict)
    # Seconds each bulk POST took (send to answer), to tell ingest queueing from push delay.
    post_seconds: list[float] = field(default_factory=list)


@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)
    # Push time minus the time the batch's answer arrived (negative: pushed before the
    # ingest client read its answer).
    after_ack: list[float] = field(default_factory=list)
    messages: int = 0
    # Push arrival times per message, keyed by (organization, feed and computedAt, count or
    # first id): one key per hub computation.
    arrivals: dict[tuple[int, str, object], list[float]] = field(default_factory=dict)
    # Each message key's `computedAt` (seconds since the epoch) and the wall clock at its
    # copies' arrival.
    computed_at: dict[tuple[int, str, object], float] = field(default_factory=dict)
    arrivals_wall: dict[tuple[int, str, object], list[float]] = field(default_factory=dict)
    # The batch each message key carries: (tenant, batch index).
    batch_of_message: dict[tuple[int, str, object], tuple[Tenant, int]] = field(
        default_factory=dict
    )
    connected: int = 0
    subscribed: int = 0
    errors: list[str] = field(default_factory=list)


async def _create_database(name: str) -> str:
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"postgres://postgres@127.0.0.1:5432/{name}"


async def _drop_database(name: str) -> None:
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _tenants(database_url: str, count: int) -> list[Tenant]:
    settings = Settings.from_env({"AIZE_DATABASE_URL": database_url})
    await apply_migrations(settings)
    await init_database(settings)
    try:
        tenants = []
        for n in range(count):
            org = await Organization.create(name=f"Bench {n}", slug=f"bench-{n}", timezone="UTC")
            owner = await Member.create(
                organization=org, role=Role.OWNER, name=f"Owner {n}", email=f"o{n}@example.com"
            )
            key = await ApiKey.create(
                organization=org, owner=owner, label=f"key {n}", prefix=f"sk-bench-{n:04d}"
            )
            read = (await issue_token(org.id, owner, "subscriptions bench")).token
            ingest = (await issue_token(org.id, None, "gateway", [Scope.INGEST])).token
            tenants.append(Tenant(org.id, read, ingest, key.prefix))
        return tenants
    finally:
        await close_database()


def _record(prefix: str) -> dict[str, Any]:
    return {
        "requestId": str(uuid.uuid4()),
        "timestamp": datetime.now(UTC).isoformat(),
        "apiKeyPrefix": prefix,
        "model": "gpt-4",
        "providerModel": "gpt-4-0613",
        "endpoint": "/v1/chat/completions",
        "inputTokens": 1000,
        "outputTokens": 500,
        "latencyMs": 800,
        "statusCode": 200,
    }


async def _produce(
    base_url: str, tenant: Tenant, per_second: float, batch: int, until: float
) -> None:
    """Post batches of `batch` records, `per_second` records/s on average, until `until`."""
    pause = batch / per_second
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        next_at = time.monotonic()
        while time.monotonic() < until:
            records = [_record(tenant.key_prefix) for _ in range(batch)]
            body = b"\n".join(json.dumps(r).encode() for r in records)
            sent = time.monotonic()
            index = len(tenant.batch_sent_at)
            tenant.batch_sent_at.append(sent)
            tenant.batch_of_count[tenant.stored + batch] = index
            for record in records:
                tenant.sent_at[record["requestId"]] = sent
                tenant.batch_of_id[record["requestId"]] = index
            # Before the answer: a push may arrive before this task reads it.
            tenant.count_sent_at[tenant.stored + batch] = sent
            response = await http.post(
                "/ingest/bulk",
                content=body,
                headers={
                    "Authorization": f"Bearer {tenant.ingest_token}",
                    "Content-Type": "application/x-ndjson",
                },
            )
            response.raise_for_status()
            acked = time.monotonic()
            tenant.post_seconds.append(acked - sent)
            for record in records:
                tenant.acked_at[record["requestId"]] = acked
            tenant.count_acked_at[tenant.stored + batch] = acked
            tenant.stored += batch
            next_at += pause
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))


async def _subscriber(
    ws_url: str,
    tenant: Tenant,
    documents: list[str],
    figures: Figures,
    measuring: asyncio.Event,
    stop: asyncio.Event,
    ready: asyncio.Event,
) -> None:
    """One connection with its subscriptions; records commit-to-push for each message."""
    try:
        async with websockets.connect(
            ws_url,
            subprotocols=["graphql-transport-ws"],
            max_size=None,  # type: ignore[list-item]
        ) as conn:
            init = {
                "type": "connection_init",
                "payload": {"authorization": f"Bearer {tenant.read_token}"},
            }
            await conn.send(json.dumps(init))
            assert json.loads(await conn.recv())["type"] == "connection_ack"
            figures.connected += 1
            for n, document in enumerate(documents):
                message = {"id": str(n), "type": "subscribe", "payload": {"query": document}}
                await conn.send(json.dumps(message))
                figures.subscribed += 1
            ready.set()
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(conn.recv(), 1.0)
                except TimeoutError:
                    continue
                arrived = time.monotonic()
                arrived_wall = time.time()
                message = json.loads(raw)
                if message["type"] == "ping":
                    await conn.send(json.dumps({"type": "pong"}))
                    continue
                if message["type"] == "error":
                    figures.errors.append(str(message["payload"])[:200])
                    continue
                if message["type"] != "next" or not measuring.is_set():
                    continue
                figures.messages += 1
                data = message["payload"].get("data") or {}
                if "requestLogs" in data:
                    ids = [log["requestId"] for log in data["requestLogs"]["logs"]]
                    if ids and ids[-1] in tenant.batch_of_id:
                        # Newest first: the oldest id's batch committed first.
                        computed = data["requestLogs"]["computedAt"]
                        key = (tenant.organization_id, f"logs {computed}", ids[-1])
                        figures.arrivals.setdefault(key, []).append(arrived)
                        figures.arrivals_wall.setdefault(key, []).append(arrived_wall)
                        figures.computed_at[key] = _epoch(computed)
                        figures.batch_of_message[key] = (tenant, tenant.batch_of_id[ids[-1]])
                    sent = [tenant.sent_at[i] for i in ids if i in tenant.sent_at]
                    if sent:
                        figures.latencies.append(arrived - min(sent))
                    acked = [tenant.acked_at[i] for i in ids if i in tenant.acked_at]
                    if acked:
                        figures.after_ack.append(arrived - min(acked))
                elif "usage" in data:
                    requests = int(data["usage"]["totals"]["requests"])
                    if requests in tenant.batch_of_count:
                        computed = data["usage"]["computedAt"]
                        key = (tenant.organization_id, f"usage {computed}", requests)
                        figures.arrivals.setdefault(key, []).append(arrived)
                        figures.arrivals_wall.setdefault(key, []).append(arrived_wall)
                        figures.computed_at[key] = _epoch(computed)
                        figures.batch_of_message[key] = (tenant, tenant.batch_of_count[requests])
                    sent_at = tenant.count_sent_at.get(requests)
                    if sent_at is not None:
                        figures.latencies.append(arrived - sent_at)
                    acked_at = tenant.count_acked_at.get(requests)
                    if acked_at is not None:
                        figures.after_ack.append(arrived - acked_at)
    except Exception as exc:
        figures.errors.append(f"{type(exc).__name__}: {exc}"[:200])
    finally:
        ready.set()


async def _listen_for_commits(database_url: str, tenants: list[Tenant]) -> asyncpg.Connection:
    """LISTEN on the service's channel: each notice is its organization's next batch's
    commit (one batch in flight per organization; the first after its send is its commit)."""
    by_org = {t.organization_id: t for t in tenants}
    conn = await asyncpg.connect(asyncpg_dsn(database_url))

    def on_notice(_conn: object, _pid: int, _channel: str, payload: object) -> None:
        tenant = by_org.get(int(str(payload).partition(":")[0]))
        if tenant is not None:
            tenant.committed_at.append(time.monotonic())
            tenant.committed_wall.append(time.time())

    await conn.add_listener(CHANNEL, on_notice)
    return conn


def _commit_figures(figures: Figures) -> dict[str, Any]:
    """Commit (NOTIFY at the bench) to push: every copy, the first copy, and the fan-out."""
    every: list[float] = []
    first: list[float] = []
    spread: list[float] = []
    to_compute: list[float] = []
    compute_to_push: list[float] = []
    for key, arrivals in figures.arrivals.items():
        tenant, index = figures.batch_of_message[key]
        # The batch's commit: its organization's first notice after the batch was sent.
        at = bisect.bisect_left(tenant.committed_at, tenant.batch_sent_at[index])
        if at == len(tenant.committed_at):
            continue
        committed = tenant.committed_at[at]
        every.extend(a - committed for a in arrivals)
        first.append(min(arrivals) - committed)
        spread.append(max(arrivals) - min(arrivals))
        computed = figures.computed_at[key]
        to_compute.append(computed - tenant.committed_wall[at])
        compute_to_push.extend(a - computed for a in figures.arrivals_wall[key])

    def q(values: list[float], at: int) -> float | None:
        if len(values) < 2:
            return None
        return round(statistics.quantiles(values, n=100)[at - 1], 3)

    return {
        "commit_to_push_p50_seconds": q(every, 50),
        "commit_to_push_p99_seconds": q(every, 99),
        "commit_to_push_max_seconds": round(max(every), 3) if every else None,
        "commit_to_first_subscriber_p50_seconds": q(first, 50),
        "commit_to_first_subscriber_p99_seconds": q(first, 99),
        "commit_to_compute_start_p50_seconds": q(to_compute, 50),
        "commit_to_compute_start_p99_seconds": q(to_compute, 99),
        "compute_start_to_push_p50_seconds": q(compute_to_push, 50),
        "compute_start_to_push_p99_seconds": q(compute_to_push, 99),
        "fan_out_spread_p50_seconds": q(spread, 50),
        "fan_out_spread_p99_seconds": q(spread, 99),
        "matched_pushes": len(every),
    }


def _settings(pairs: list[str]) -> dict[str, str]:
    """`--env NAME=VALUE` pairs as service settings."""
    settings = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name:
            raise SystemExit(f"--env expects NAME=VALUE, got {pair!r}")
        settings[name] = value
    return settings


def _epoch(iso: str) -> float:
    """Seconds since the epoch of an ISO 8601 date-time with its offset."""
    return datetime.fromisoformat(iso).timestamp()


def _service_cpu(pid: int) -> float:
    return sum(cpu_seconds(p) for p in process_tree(pid))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    name = f"aize_bench_subs_{uuid.uuid4().hex[:8]}"
    database_url = await _create_database(name)
    try:
        tenants = await _tenants(database_url, args.organizations)
        process, base_url = await start_service(
            database_url,
            args.workers,
            {
                "AIZE_ALERT_WORKER": "false",
                "AIZE_RATE_LIMIT_CAPACITY": _UNLIMITED,
                "AIZE_RATE_LIMIT_REFILL_PER_SECOND": _UNLIMITED,
                "AIZE_RATE_LIMIT_ORG_CAPACITY": _UNLIMITED,
                "AIZE_RATE_LIMIT_INGEST_CAPACITY": _UNLIMITED,
                "AIZE_SUBSCRIPTION_INTERVAL_SECONDS": str(args.interval),
                "AIZE_MAX_SUBSCRIPTIONS_PER_TOKEN": str(args.subscribers),
                "AIZE_MAX_SUBSCRIPTIONS_PER_CONNECTION": str(args.per_connection),
                **_settings(args.env),
            },
        )
        commits = await _listen_for_commits(database_url, tenants)
        try:
            return await _measure(args, tenants, base_url, process.pid)
        finally:
            await commits.close()
            process.terminate()
            await process.wait()
    finally:
        await _drop_database(name)


async def _measure(
    args: argparse.Namespace, tenants: list[Tenant], base_url: str, pid: int
) -> dict[str, Any]:
    per_tenant = args.rate / len(tenants)
    phase = args.seconds / 2
    start = time.monotonic()
    producers = [
        asyncio.create_task(_produce(base_url, t, per_tenant, args.batch, start + 2 * phase + 5))
        for t in tenants
    ]
    # Phase 1: ingest alone (after a few seconds of warm-up).
    await asyncio.sleep(3)
    cpu_a, at_a = _service_cpu(pid), time.monotonic()
    await asyncio.sleep(phase - 3)
    ingest_only_cpu = (_service_cpu(pid) - cpu_a) / (time.monotonic() - at_a)
    # Phase 2: the subscribers join.
    ws_url = base_url.replace("http://", "ws://") + "/graphql"
    figures = Figures()
    measuring, stop = asyncio.Event(), asyncio.Event()
    connections = args.subscribers // args.per_connection
    subscribers = []
    readies = [asyncio.Event() for _ in range(connections)]
    for n in range(connections):
        if n and n % 25 == 0:
            # In waves of 25 connections, each wave subscribed before the next.
            async with asyncio.timeout(120):
                for ready in readies[n - 25 : n]:
                    await ready.wait()
        tenant = tenants[n % len(tenants)]
        documents = [CARDS if (n + i) % 2 == 0 else LOGS for i in range(args.per_connection)]
        subscribers.append(
            asyncio.create_task(
                _subscriber(ws_url, tenant, documents, figures, measuring, stop, readies[n])
            )
        )
    async with asyncio.timeout(120):
        for ready in readies:
            await ready.wait()
    await asyncio.sleep(2)
    measuring.set()
    cpu_b, at_b = _service_cpu(pid), time.monotonic()
    load_before = load_average()
    await asyncio.sleep(phase)
    measured_seconds = time.monotonic() - at_b
    with_subscribers_cpu = (_service_cpu(pid) - cpu_b) / measured_seconds
    measuring.clear()
    stop.set()
    await asyncio.gather(*subscribers)
    for producer in producers:
        producer.cancel()
    await asyncio.gather(*producers, return_exceptions=True)
    stored = sum(t.stored for t in tenants)
    latencies = sorted(figures.latencies)
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [0.0] * 99
    after_ack = (
        statistics.quantiles(figures.after_ack, n=100)
        if len(figures.after_ack) >= 2
        else [0.0] * 99
    )
    posts = sorted(x for t in tenants for x in t.post_seconds)
    post_quantiles = statistics.quantiles(posts, n=100) if len(posts) >= 2 else [0.0] * 99
    return {
        "ingest_post_p50_seconds": round(post_quantiles[49], 3),
        "ingest_post_p99_seconds": round(post_quantiles[98], 3),
        "subscribers": figures.subscribed,
        "connections": figures.connected,
        "workers": args.workers,
        "interval_seconds": args.interval,
        "target_records_per_second": args.rate,
        "achieved_records_per_second": round(stored / (time.monotonic() - start), 1),
        "messages": figures.messages,
        "post_sent_to_push_p50_seconds": round(quantiles[49], 3),
        "post_sent_to_push_p99_seconds": round(quantiles[98], 3),
        "post_sent_to_push_max_seconds": round(latencies[-1], 3) if latencies else None,
        "ingest_answer_to_push_p50_seconds": round(after_ack[49], 3),
        "ingest_answer_to_push_p99_seconds": round(after_ack[98], 3),
        **_commit_figures(figures),
        "service_cpu_ingest_only": round(ingest_only_cpu, 3),
        "service_cpu_with_subscribers": round(with_subscribers_cpu, 3),
        "cpu_ms_per_subscriber_second": round(
            (with_subscribers_cpu - ingest_only_cpu) * 1000 / max(figures.subscribed, 1), 4
        ),
        "load_average": load_before,
        "errors": figures.errors[:5],
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--per-connection", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=5000.0, help="records/s, all producers")
    parser.add_argument("--batch", type=int, default=100, help="records per bulk POST")
    parser.add_argument("--organizations", type=int, default=10)
    parser.add_argument("--interval", type=float, default=1.0, help="coalescing interval, s")
    parser.add_argument("--seconds", type=float, default=40.0, help="both phases together")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a service setting (repeatable), e.g. AIZE_DB_POOL_MAX=30",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    print(json.dumps(asyncio.run(run(parse_args(argv))), indent=2))


if __name__ == "__main__":
    main()
