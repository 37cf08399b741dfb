"""No acknowledged record is lost when PostgreSQL crashes under the running service.

The real service (`aize-analytics serve`, a subprocess) runs on a throwaway PostgreSQL cluster
that this test creates on a free port (tests/pg_cluster.py; never the shared server). A
gateway-like client posts numbered records to /ingest/bulk in small batches, without pause,
and resends every batch that was not acknowledged. Meanwhile PostgreSQL is stopped in
immediate mode (as in a crash: connections cut, no checkpoint) and started again.

What must hold:
- while the database is down, /ingest/bulk and /graphql answer 503 with a JSON error and
  Retry-After, and /healthz reports 503 "unavailable";
- the service recovers by itself (same process): /healthz is 200 again and batches are
  acknowledged again;
- afterwards every acknowledged request id is stored exactly once, and the rollups, wallet
  and spend counters equal a scan of the raw logs, to the nano-dollar.

Runs on the PostgreSQL pass only (it needs PostgreSQL's server binaries, not the shared
server). Without initdb it fails under CI and is skipped elsewhere, saying why. Prints the
run's figures (records, outage length, 503s) on one line starting with "outage:".
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from tests.pg_cluster import ClusterUnavailable, PgCluster
from web.database_errors import RETRY_AFTER_SECONDS, unavailable_body

pytestmark = pytest.mark.postgres_only

REPO = Path(__file__).resolve().parent.parent
IN_CI = bool(os.environ.get("CI"))
BATCH_SIZE = 25
# Batches acknowledged before the crash, and again after the restart, before moving on.
BATCHES_PER_PHASE = 20
MARKUP_BPS = 2500
# Each record's provider cost is its number in micro-USD; with 25% markup and no fee the
# customer pays 1250 nano-USD per number.
CUSTOMER_NANOS_PER_NUMBER = 1250
# A gateway honours Retry-After; this client retries sooner to observe the outage closely,
# yet without spinning.
RETRY_PAUSE_SECONDS = 0.02
# Bounds: every wait below fails the test instead of hanging it.
STEP_TIMEOUT_SECONDS = 60
MAX_REQUESTS = 20_000
POLL_ATTEMPTS = 300
POLL_PAUSE_SECONDS = 0.05
NAMESPACE = uuid.UUID("6f1d2c4e-8a53-4b8e-9f0e-2d6c1b7a9e31")

# Run in a subprocess with AIZE_DATABASE_URL set: migrate, then create what the gateway needs.
SEED_SCRIPT = f"""
import asyncio, json
from models.database import apply_migrations, close_database, init_database
from settings import Settings
from tests.factories import make_ingest_token, make_key, make_org

async def main():
    settings = Settings.from_env()
    await apply_migrations(settings)
    await init_database(settings)
    try:
        org = await make_org(name="Outage", markup_bps={MARKUP_BPS})
        key = await make_key(org)
        token = await make_ingest_token(org)
        print(json.dumps({{"org": org.id, "key_id": key.id, "key": key.prefix, "token": token}}))
    finally:
        await close_database()

asyncio.run(main())
"""


def request_id(number: int) -> str:
    return str(uuid.uuid5(NAMESPACE, str(number)))


@dataclass
class Tenant:
    org_id: int
    key_id: int
    key_prefix: str
    token: str


@dataclass
class Service:
    """The service subprocess, its URL, and everything it has printed so far."""

    process: asyncio.subprocess.Process
    base_url: str
    output: list[str]
    reader: asyncio.Task[None]

    def log(self) -> str:
        return "".join(self.output[-200:])


@dataclass
class IngestClient:
    """Posts numbered records in batches until stopped; resends what was not acknowledged."""

    http: httpx.AsyncClient
    tenant: Tenant
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    acknowledged: list[list[int]] = field(default_factory=list)
    accepted: int = 0
    duplicates: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    first_unavailable: httpx.Response | None = None
    failure: BaseException | None = None
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def run(self) -> None:
        try:
            await self._send_until_stopped()
        except BaseException as exc:
            async with self.changed:
                self.failure = exc
                self.changed.notify_all()
            raise

    async def _send_until_stopped(self) -> None:
        next_number = 0
        pending: list[int] | None = None
        for _ in range(MAX_REQUESTS):
            if pending is None:
                if self.stop.is_set():
                    return
                pending = list(range(next_number, next_number + BATCH_SIZE))
                next_number += BATCH_SIZE
            response = await self.http.post(
                "/ingest/bulk",
                content=self._body(pending),
                headers={
                    "Authorization": f"Bearer {self.tenant.token}",
                    "Content-Type": "application/x-ndjson",
                },
            )
            async with self.changed:
                self.statuses[response.status_code] += 1
                if response.status_code == 200:
                    verdict = response.json()
                    assert verdict["rejected"] == [], verdict
                    assert verdict["accepted"] + verdict["duplicates"] == len(pending), verdict
                    self.accepted += verdict["accepted"]
                    self.duplicates += verdict["duplicates"]
                    self.acknowledged.append(pending)
                    pending = None
                elif response.status_code == 503:
                    self.first_unavailable = self.first_unavailable or response
                else:
                    raise AssertionError(f"HTTP {response.status_code}: {response.text}")
                self.changed.notify_all()
            if pending is not None:
                await asyncio.sleep(RETRY_PAUSE_SECONDS)
        raise AssertionError(f"the client sent {MAX_REQUESTS} requests without finishing")

    async def wait_until(self, what: str, condition: Callable[[], bool]) -> None:
        """Wait (bounded) until the condition holds; the client notifies on every answer."""
        try:
            async with asyncio.timeout(STEP_TIMEOUT_SECONDS), self.changed:
                await self.changed.wait_for(lambda: self.failure is not None or condition())
        except TimeoutError:
            raise AssertionError(
                f"timed out waiting for {what}; statuses so far {dict(self.statuses)}"
            ) from None
        if self.failure is not None:
            raise AssertionError(f"the client failed: {self.failure!r}") from self.failure

    def _body(self, numbers: list[int]) -> bytes:
        at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
        records = [
            {
                "requestId": request_id(n),
                "timestamp": at,
                "apiKeyPrefix": self.tenant.key_prefix,
                "model": "gpt-4o",
                "endpoint": "/v1/chat/completions",
                "inputTokens": 100 + n % 7,
                "outputTokens": 50,
                "latencyMs": 300,
                "statusCode": 200,
                "providerCost": f"0.{n:06d}",
            }
            for n in numbers
        ]
        return b"\n".join(orjson.dumps(r) for r in records)


@pytest.fixture
def cluster() -> Iterator[PgCluster]:
    """A started throwaway cluster, stopped and deleted afterwards."""
    try:
        created = PgCluster.create()
    except ClusterUnavailable as exc:
        if IN_CI:
            pytest.fail(f"cannot create a throwaway PostgreSQL cluster: {exc} (required under CI)")
        pytest.skip(f"cannot create a throwaway PostgreSQL cluster: {exc}")
    try:
        created.start()
        yield created
    finally:
        created.destroy()


def _service_env(cluster: PgCluster) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        AIZE_DATABASE_URL=cluster.url,
        AIZE_LOG_LEVEL="info",
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(REPO),
    )
    return env


@pytest.fixture
async def tenant(cluster: PgCluster) -> Tenant:
    """The cluster migrated, with an organization, a key and an ingest token."""
    seeding = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SEED_SCRIPT,
        cwd=REPO,
        env=_service_env(cluster),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(STEP_TIMEOUT_SECONDS):
        out, err = await seeding.communicate()
    assert seeding.returncode == 0, err.decode()
    seeded = json.loads(out.decode().strip().splitlines()[-1])
    return Tenant(seeded["org"], seeded["key_id"], seeded["key"], seeded["token"])


@pytest.fixture
async def service(cluster: PgCluster, tenant: Tenant) -> AsyncIterator[Service]:
    """`aize-analytics serve --port 0` on the migrated cluster; its URL read from uvicorn's
    banner."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli.main",
        "serve",
        "--port",
        "0",
        cwd=REPO,
        env=_service_env(cluster),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    stdout = process.stdout
    output: list[str] = []
    banner = re.compile(r"Uvicorn running on (http://[\d.]+:\d+)")
    base_url = None
    try:
        async with asyncio.timeout(STEP_TIMEOUT_SECONDS):
            while base_url is None:
                line = (await stdout.readline()).decode(errors="replace")
                if not line:
                    raise AssertionError(f"the service exited:\n{''.join(output)}")
                output.append(line)
                if found := banner.search(line):
                    base_url = found.group(1)
    except BaseException:
        process.kill()
        await process.wait()
        raise

    async def drain() -> None:
        # Keeps reading so the service never blocks on a full pipe; kept for failure messages.
        while line := await stdout.readline():
            output.append(line.decode(errors="replace"))

    running = Service(process, base_url, output, asyncio.create_task(drain()))
    try:
        yield running
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(15):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        await running.reader


async def _poll(what: str, probe: Callable[[], Awaitable[bool]]) -> None:
    """Probe until it says yes, at most POLL_ATTEMPTS times."""
    for _ in range(POLL_ATTEMPTS):
        if await probe():
            return
        await asyncio.sleep(POLL_PAUSE_SECONDS)
    raise AssertionError(f"gave up waiting for {what}")


async def _row(conn: asyncpg.Connection, sql: str, *args: Any) -> asyncpg.Record:
    row = await conn.fetchrow(sql, *args)
    assert row is not None, sql
    return row


async def _scalar(conn: asyncpg.Connection, sql: str, *args: Any) -> int:
    value = await conn.fetchval(sql, *args)
    return int(value or 0)


async def _fold_pending_rollups(cluster: PgCluster) -> None:
    """`aize-analytics fold` until nothing is pending: whatever the service's folder has not
    folded yet (rollups are folded after the commit, ingestion/folding.py), so the tables
    can be compared. Rows the service's folder is folding at that moment are skipped by
    `fold`, hence the repetition until its fold has committed too."""
    async with asyncio.timeout(STEP_TIMEOUT_SECONDS):
        while True:
            folding = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "cli.main",
                "fold",
                cwd=REPO,
                env=_service_env(cluster),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await folding.communicate()
            assert folding.returncode == 0, err.decode()
            if json.loads(out.decode())["pendingRows"] == 0:
                return


async def _assert_stored_exactly_once(cluster: PgCluster, client: IngestClient) -> None:
    await _fold_pending_rollups(cluster)
    numbers = [n for batch in client.acknowledged for n in batch]
    expected_ids = {request_id(n) for n in numbers}
    cost = CUSTOMER_NANOS_PER_NUMBER * sum(numbers)
    org, key = client.tenant.org_id, client.tenant.key_id
    conn = await asyncpg.connect(cluster.url.replace("postgres://", "postgresql://"))
    try:
        stored = [
            str(r["request_id"]) for r in await conn.fetch("SELECT request_id FROM request_log")
        ]
        assert len(stored) == len(set(stored))
        assert set(stored) == expected_ids
        raw = await _row(
            conn, "SELECT count(*) AS requests, sum(customer_cost_nanos) AS cost FROM request_log"
        )
        assert (raw["requests"], raw["cost"]) == (len(numbers), cost)
        for table in ("usage_rollup_day", "usage_cube_model_status_quarter"):
            rolled = await _row(
                conn,
                f"SELECT sum(requests) AS requests, sum(customer_cost_nanos) AS cost FROM {table}",
            )
            assert (rolled["requests"], rolled["cost"]) == (len(numbers), cost), table
        balance = await _scalar(
            conn, "SELECT wallet_balance_nanos FROM organization WHERE id = $1", org
        )
        usage = await _scalar(
            conn, "SELECT sum(amount_nanos) FROM wallet_entry WHERE kind = 'USAGE'"
        )
        assert (balance, usage) == (-cost, -cost)
        for counter in (0, key):
            spent = await _row(
                conn,
                "SELECT sum(spend_nanos) AS spend, sum(requests) AS requests "
                "FROM spend_counter WHERE organization_id = $1 AND api_key_id = $2",
                org,
                counter,
            )
            assert (spent["spend"], spent["requests"]) == (cost, len(numbers)), counter
    finally:
        await conn.close()


async def test_acknowledged_records_survive_a_database_crash_and_the_service_recovers(
    cluster: PgCluster, tenant: Tenant, service: Service
) -> None:
    async with httpx.AsyncClient(base_url=service.base_url, timeout=30) as http:
        client = IngestClient(http, tenant)
        ingesting = asyncio.create_task(client.run())
        try:
            await client.wait_until(
                "batches before the crash",
                lambda: len(client.acknowledged) >= BATCHES_PER_PHASE,
            )

            crashed_at = time.monotonic()
            await asyncio.to_thread(cluster.crash)

            async def healthz_is(status: int) -> bool:
                return (await http.get("/healthz")).status_code == status

            await _poll("/healthz to report the outage", lambda: healthz_is(503))
            health = await http.get("/healthz")
            assert health.json() == {
                "status": "unavailable",
                "database": "unreachable",
                **unavailable_body(),
            }
            assert health.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
            await client.wait_until("a 503 from /ingest/bulk", lambda: client.statuses[503] > 0)
            refused = client.first_unavailable
            assert refused is not None
            assert refused.json() == {
                "error": {
                    "code": "SERVICE_UNAVAILABLE",
                    "message": "the database is unavailable; retry shortly",
                }
            }
            assert refused.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
            graphql = await http.post(
                "/graphql",
                json={"query": '{ keyAccess(model: "gpt-4o", apiKeyPrefix: "x") { allowed } }'},
                headers={"Authorization": f"Bearer {tenant.token}"},
            )
            assert (graphql.status_code, graphql.json()) == (503, unavailable_body())

            await asyncio.to_thread(cluster.start)
            await _poll("/healthz to recover", lambda: healthz_is(200))
            outage_seconds = time.monotonic() - crashed_at
            unavailable_answers = client.statuses[503]
            after_restart = len(client.acknowledged) + BATCHES_PER_PHASE
            await client.wait_until(
                "batches after the restart", lambda: len(client.acknowledged) >= after_restart
            )
            client.stop.set()
            async with asyncio.timeout(STEP_TIMEOUT_SECONDS):
                await ingesting
        finally:
            if not ingesting.done():
                ingesting.cancel()
                await asyncio.gather(ingesting, return_exceptions=True)

    assert service.process.returncode is None, "the service must recover without a restart"
    assert set(client.statuses) == {200, 503}, (client.statuses, service.log())
    await _assert_stored_exactly_once(cluster, client)
    records = sum(len(batch) for batch in client.acknowledged)
    # A batch committed just before its connection was cut was answered 503; resent, its
    # records came back as duplicates. Either way each record counts once.
    assert client.accepted + client.duplicates == records
    print(
        f"outage: {records} records in {len(client.acknowledged)} batches of {BATCH_SIZE}; "
        f"database down for {outage_seconds:.2f} s (crash to healthz 200); "
        f"{unavailable_answers} answers 503 on /ingest/bulk; "
        f"{client.duplicates} records resent after an unacknowledged commit"
    )
