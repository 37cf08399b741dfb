"""Read replicas (AIZE_DATABASE_READ_URLS) with a real streaming replica.

A throwaway primary (initdb, tests/pg_cluster.py) and a streaming replica of it
(`pg_basebackup -R`), each on a free port; the real service (uvicorn) on the primary with
the replica as its read URL; the gateway's ingest and a dashboard's query over HTTP. Reads
are proved to reach the replica by its own pg_stat_activity (the service's replica
connections carry application_name `aize-analytics-read`), and to come back to the primary
by answers only the primary can give (rows the paused or stopped replica does not have).

Not the shared server on 5432: its pg_hba.conf has no `replication` line and a base backup of
it would copy every other test database. Without initdb/pg_basebackup the cluster tests fail
under CI and are skipped elsewhere, saying why.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest

from bench.service import serving
from models.database import REPLICA_APPLICATION_NAME
from settings import Settings, SettingsError
from tests import polling
from tests.pg_cluster import ClusterUnavailable, PgCluster

IN_CI = bool(os.environ.get("CI"))
T = TypeVar("T")
METRICS_TOKEN = "replica-metrics-token-0123456789"
MAX_LAG_SECONDS = 1.0
SERVICE_SETTINGS = {
    "AIZE_READ_REPLICA_MAX_LAG_SECONDS": str(MAX_LAG_SECONDS),
    "AIZE_READ_REPLICA_CHECK_SECONDS": "0.2",
    "AIZE_METRICS_TOKEN": METRICS_TOKEN,
    "AIZE_ALERT_WORKER": "false",
}
# The demo's "Production backend" key (docs/readme/demo.md); the probe's own model alias
# keeps the demo's rows out of the totals asserted below.
DEMO_KEY_PREFIX = "sk-aize-66a078"
PROBE_MODEL = "replica-probe"
TOTALS = """
query ProbeTotals($models: [String!]) {
  organization { usage(filter: { period: LAST_30_DAYS, models: $models }) {
    totals { requests inputTokens outputTokens }
  } }
}
"""


async def until(what: str, check: Callable[[], Awaitable[T | None]], seconds: float = 60) -> T:
    """`tests.polling.until` with a replica's longer deadline (replay, restarts)."""
    return await polling.until(what, check, seconds)


# --- settings: no database needed ---------------------------------------------------------


def test_read_urls_are_refused_with_sqlite() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(
            {
                "AIZE_DATABASE_URL": "sqlite://./x.sqlite3",
                "AIZE_DATABASE_READ_URLS": "postgres://u@replica:5432/db",
            }
        )
    assert str(refused.value) == (
        "AIZE_DATABASE_READ_URLS needs a PostgreSQL primary: AIZE_DATABASE_URL is sqlite, "
        "which has no read replicas; unset it"
    )


def test_a_read_url_that_is_not_postgres_is_named_by_position() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(
            {
                "AIZE_DATABASE_URL": "postgres://u@primary:5432/db",
                "AIZE_DATABASE_READ_URLS": "postgres://u@r1:5432/db, mysql://u@r2/db",
            }
        )
    assert str(refused.value) == (
        "AIZE_DATABASE_READ_URLS: URL 2 is not PostgreSQL ('mysql'); "
        "use postgres://USER@HOST:PORT/DB"
    )


def test_read_urls_are_read_in_order_and_kept_out_of_repr() -> None:
    settings = Settings.from_env(
        {
            "AIZE_DATABASE_URL": "postgres://u@primary:5432/db",
            "AIZE_DATABASE_READ_URLS": " postgres://u:secret@r1:5432/db ,postgresql://u@r2/db,",
            "AIZE_READ_REPLICA_MAX_LAG_SECONDS": "2.5",
        }
    )
    assert settings.database_read_urls == ("postgres://u:secret@r1:5432/db", "postgresql://u@r2/db")
    assert settings.read_replica_max_lag_seconds == 2.5
    assert settings.read_replica_check_seconds == 5.0
    assert "secret" not in repr(settings)


def test_a_lag_bound_that_is_not_positive_is_refused() -> None:
    with pytest.raises(SettingsError, match="AIZE_READ_REPLICA_MAX_LAG_SECONDS must be a positive"):
        Settings.from_env({"AIZE_READ_REPLICA_MAX_LAG_SECONDS": "0"})


# --- a real streaming replica -------------------------------------------------------------


@dataclass
class Deployment:
    primary: PgCluster
    replica: PgCluster
    url: str
    owner: str
    ingest_token: str
    http: httpx.AsyncClient
    ingested: int = 0

    async def totals(self) -> dict[str, Any]:
        response = await self.http.post(
            f"{self.url}/graphql",
            json={"query": TOTALS, "variables": {"models": [PROBE_MODEL]}},
            headers={"Authorization": f"Bearer {self.owner}"},
        )
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        totals: dict[str, Any] = body["data"]["organization"]["usage"]["totals"]
        return totals

    async def ingest(self, count: int) -> None:
        lines = [
            json.dumps(
                {
                    "requestId": str(uuid.uuid4()),
                    "timestamp": datetime.now(UTC).isoformat(),
                    "apiKeyPrefix": DEMO_KEY_PREFIX,
                    "model": PROBE_MODEL,
                    "endpoint": "/v1/chat/completions",
                    "inputTokens": 100,
                    "outputTokens": 7,
                    "latencyMs": 250,
                    "statusCode": 200,
                }
            )
            for _ in range(count)
        ]
        response = await self.http.post(
            f"{self.url}/ingest/bulk",
            content="\n".join(lines),
            headers={
                "Authorization": f"Bearer {self.ingest_token}",
                "Content-Type": "application/x-ndjson",
            },
        )
        assert response.status_code == 200, response.text
        assert response.json()["accepted"] == count
        self.ingested += count

    async def replica_state(self) -> str:
        health = (await self.http.get(f"{self.url}/healthz")).json()
        assert health["status"] == "ok"
        state: str = health["readReplicas"]["read_1"]
        return state

    async def metric(self, name: str) -> float:
        response = await self.http.get(
            f"{self.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
        )
        prefix = f'{name}{{replica="read_1"}} '
        for line in response.text.splitlines():
            if line.startswith(prefix):
                return float(line.removeprefix(prefix))
        raise AssertionError(f"{prefix} not in /metrics")


def _cli(cluster: PgCluster, replica: PgCluster, *args: str) -> str:
    env = {
        **os.environ,
        "AIZE_DATABASE_URL": cluster.url,
        "AIZE_DATABASE_READ_URLS": replica.url,
        "AIZE_READ_REPLICA_MAX_LAG_SECONDS": str(MAX_LAG_SECONDS),
        "AIZE_LOG_LEVEL": "warning",
    }
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def clusters() -> Iterator[tuple[PgCluster, PgCluster]]:
    """A started throwaway primary, migrated with the demo data, and a streaming replica."""
    try:
        primary = PgCluster.create()
    except ClusterUnavailable as exc:
        if IN_CI:
            pytest.fail(f"cannot create a throwaway PostgreSQL cluster: {exc} (required under CI)")
        pytest.skip(f"cannot create a throwaway PostgreSQL cluster: {exc}")
    replica: PgCluster | None = None
    try:
        primary.start()
        replica = PgCluster.replica_of(primary)
        replica.start()
        yield primary, replica
    finally:
        if replica is not None:
            replica.destroy()
        primary.destroy()


@pytest.fixture(scope="module")
async def deployment(clusters: tuple[PgCluster, PgCluster]) -> AsyncIterator[Deployment]:
    primary, replica = clusters
    _cli(primary, replica, "migrate")
    tokens = json.loads(_cli(primary, replica, "demo", "--requests", "200", "--json"))
    settings = {**SERVICE_SETTINGS, "AIZE_DATABASE_READ_URLS": replica.url}
    async with serving(primary.url, 1, settings) as url, httpx.AsyncClient(timeout=30) as http:
        yield Deployment(primary, replica, url, tokens["owner"], tokens["ingest"], http)


async def _connect(cluster: PgCluster) -> asyncpg.Connection:
    return await asyncpg.connect(cluster.url.replace("postgres://", "postgresql://"))


async def _replayed_everything(deployment: Deployment) -> bool:
    primary = await _connect(deployment.primary)
    replica = await _connect(deployment.replica)
    try:
        flushed = await primary.fetchval("SELECT pg_current_wal_flush_lsn()")
        caught_up = await replica.fetchval("SELECT pg_last_wal_replay_lsn() >= $1", flushed)
        return bool(caught_up)
    finally:
        await primary.close()
        await replica.close()


async def _replica_clock(deployment: Deployment) -> datetime:
    replica = await _connect(deployment.replica)
    try:
        now: datetime = await replica.fetchval("SELECT clock_timestamp()")
        return now
    finally:
        await replica.close()


async def _read_on_replica_since(deployment: Deployment, mark: datetime) -> bool:
    """Whether one of the service's read connections to the replica started a statement at
    or after `mark` (the replica's clock). The lag checks have connections of their own, so
    these only ever run the analytics reads."""
    replica = await _connect(deployment.replica)
    try:
        found = await replica.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 "
            "AND query_start >= $2",
            REPLICA_APPLICATION_NAME,
            mark,
        )
        return bool(found)
    finally:
        await replica.close()


def _expected(requests: int) -> dict[str, Any]:
    return {"requests": requests, "inputTokens": 100 * requests, "outputTokens": 7 * requests}


@pytest.mark.postgres_only
async def test_dashboard_reads_go_to_the_replica_and_ingest_to_the_primary(
    deployment: Deployment,
) -> None:
    assert await until("the replica in use", lambda: _state_is(deployment, "in_use"))
    # The replica is read-only: these writes can only have gone to the primary.
    await deployment.ingest(3)
    await until("the replica to replay the ingest", lambda: _replayed_everything(deployment))
    mark = await _replica_clock(deployment)

    assert await deployment.totals() == _expected(3)

    assert await _read_on_replica_since(deployment, mark)
    # A usage export streams from the replica too.
    mark = await _replica_clock(deployment)
    export = await deployment.http.get(
        f"{deployment.url}/export/usage/trend.csv",
        params={"period": "LAST_30_DAYS", "granularity": "DAY", "models": PROBE_MODEL},
        headers={"Authorization": f"Bearer {deployment.owner}"},
    )
    assert export.status_code == 200, export.text
    assert await _read_on_replica_since(deployment, mark)
    # So does a request-log export, all three rows of it.
    mark = await _replica_clock(deployment)
    logs = await deployment.http.get(
        f"{deployment.url}/export/request-logs.csv",
        params={"period": "LAST_30_DAYS", "models": PROBE_MODEL},
        headers={"Authorization": f"Bearer {deployment.owner}"},
    )
    assert logs.status_code == 200, logs.text
    assert len(logs.text.strip().splitlines()) == 1 + 3
    assert await _read_on_replica_since(deployment, mark)
    assert await deployment.metric("aize_read_replica_in_use") == 1.0
    assert 0 <= await deployment.metric("aize_read_replica_lag_seconds") <= MAX_LAG_SECONDS
    shown = json.loads(_cli(deployment.primary, deployment.replica, "replicas"))
    assert [(r["replica"], r["state"], r["reason"]) for r in shown["readReplicas"]] == [
        ("read_1", "in_use", None)
    ]
    assert shown["readReplicas"][0]["address"] == f"127.0.0.1:{deployment.replica.port}/postgres"
    assert 0 <= shown["readReplicas"][0]["lagSeconds"] <= MAX_LAG_SECONDS


@pytest.mark.postgres_only
async def test_a_lagging_replica_is_skipped_until_it_catches_up(deployment: Deployment) -> None:
    assert await until("the replica in use", lambda: _state_is(deployment, "in_use"))
    before = deployment.ingested
    replica = await _connect(deployment.replica)
    try:
        await replica.execute("SELECT pg_wal_replay_pause()")
        await deployment.ingest(2)
        assert await until("the replica to lag", lambda: _state_is(deployment, "lagging"))
        # Only the primary has the two new requests.
        assert await deployment.totals() == _expected(before + 2)
        assert await deployment.metric("aize_read_replica_in_use") == 0.0
        assert await deployment.metric("aize_read_replica_lag_seconds") > MAX_LAG_SECONDS
        await replica.execute("SELECT pg_wal_replay_resume()")
    finally:
        await replica.close()

    assert await until("the replica back in use", lambda: _state_is(deployment, "in_use"))
    mark = await _replica_clock(deployment)
    assert await deployment.totals() == _expected(before + 2)
    assert await _read_on_replica_since(deployment, mark)


@pytest.mark.postgres_only
async def test_a_stopped_replica_is_skipped_and_tried_again(deployment: Deployment) -> None:
    assert await until("the replica in use", lambda: _state_is(deployment, "in_use"))
    await asyncio.to_thread(deployment.replica.stop)
    try:
        await deployment.ingest(1)
        # Asked at once, before or after a check has seen it stop: the primary answers.
        assert await deployment.totals() == _expected(deployment.ingested)
        assert await until("the replica marked down", lambda: _state_is(deployment, "down"))
        assert await deployment.totals() == _expected(deployment.ingested)
        assert await deployment.metric("aize_read_replica_in_use") == 0.0
    finally:
        await asyncio.to_thread(deployment.replica.start)

    assert await until("the replica back in use", lambda: _state_is(deployment, "in_use"))
    await until("the replica to replay the ingest", lambda: _replayed_everything(deployment))
    mark = await _replica_clock(deployment)
    assert await deployment.totals() == _expected(deployment.ingested)
    assert await _read_on_replica_since(deployment, mark)


async def _state_is(deployment: Deployment, state: str) -> bool:
    return await deployment.replica_state() == state
