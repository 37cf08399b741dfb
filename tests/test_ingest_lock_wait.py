"""Concurrent batches of one organization: they queue on its rows and all succeed exactly;
a batch kept waiting past AIZE_INGEST_LOCK_WAIT_SECONDS is refused 503 with Retry-After,
stores nothing, and succeeds exactly once when resent."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from ingestion.lock_wait import BUSY_RETRY_AFTER_SECONDS, is_wait_timeout
from models.global_ids import encode_global_id
from models.member import Role
from models.organization import Organization
from models.wallet import EntryKind, WalletEntry
from pricing.money import usd_to_nanos
from settings import Settings, SettingsError
from tests.factories import gql, make_ingest_token, make_key, make_member, make_org
from tests.ingest_support import (
    assert_rollups_match_raw_scan,
    gateway_record,
    post_bulk,
    spend_totals,
    stored_records,
    usage_entries_total,
)
from web.app import create_app

DEPOSIT = usd_to_nanos("100000")
# Batches and records per batch of the concurrency test: large enough that every batch's
# transaction is still writing when the others reach the organization's rows.
BATCHES = 6
RECORDS_PER_BATCH = 1500
# The bound the refusal tests use: the holder keeps the row locked until the answer is in,
# so any bound is exceeded; a short one keeps the test fast.
SHORT_LOCK_WAIT = "0.2"
# Without the bound the refused request would wait for the holder forever: fail instead.
REFUSAL_DEADLINE_SECONDS = 60
INGEST = """
mutation Ingest($records: [RequestLogInput!]!) {
  ingestRequestLogs(records: $records) { accepted duplicates }
}
"""


async def _gateway_org(records: int) -> tuple[Organization, list[dict[str, Any]], str]:
    org = await make_org(
        markup_bps=2500, fixed_fee_nanos=usd_to_nanos("0.001"), wallet_balance_nanos=DEPOSIT
    )
    member = await make_member(org, Role.MEMBER)
    keys = [await make_key(org, owner=member), await make_key(org), await make_key(org)]
    rng = random.Random(17)
    now = datetime.now(UTC)
    batch = [
        gateway_record(
            rng.choice(keys),
            timestamp=(now - timedelta(seconds=rng.randrange(60, 7200))).isoformat(),
            model=rng.choice(["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet"]),
            providerModel=None,
            statusCode=rng.choice([200, 200, 200, 429, 500]),
            inputTokens=rng.randrange(0, 4000),
            outputTokens=rng.randrange(0, 1500),
            tags=[f"feature:{rng.randrange(5)}"],
        )
        for _ in range(records)
    ]
    return org, batch, await make_ingest_token(org)


async def _assert_stored_exactly(org: Organization, expected_ids: set[str], batches: int) -> None:
    """Each id stored once; wallet, USAGE entries, spend counters and rollups equal a scan of
    the stored logs to the nano-dollar, with one USAGE entry per accepted batch."""
    records = await stored_records(org.id)
    assert sorted(str(r.request_id) for r in records) == sorted(expected_ids)
    cost = sum(r.customer_cost_nanos for r in records)
    assert cost > 0
    assert (await Organization.get(id=org.id)).wallet_balance_nanos == DEPOSIT - cost
    assert await usage_entries_total(org.id) == -cost
    assert await spend_totals(org.id) == (cost, len(expected_ids))
    await assert_rollups_match_raw_scan(org.id)
    assert await _usage_entry_count(org.id) == batches


async def _usage_entry_count(organization_id: int) -> int:
    return await WalletEntry.filter(organization_id=organization_id, kind=EntryKind.USAGE).count()


async def test_concurrent_large_batches_of_one_organization_all_succeed_exactly(
    client: httpx.AsyncClient,
) -> None:
    org, records, token = await _gateway_org(BATCHES * RECORDS_PER_BATCH)
    batches = [records[i * RECORDS_PER_BATCH : (i + 1) * RECORDS_PER_BATCH] for i in range(BATCHES)]

    answers = await asyncio.gather(*(post_bulk(client, token, b) for b in batches))

    assert [a.status_code for a in answers] == [200] * BATCHES
    assert [a.json() for a in answers] == [
        {"accepted": RECORDS_PER_BATCH, "duplicates": 0, "rejected": []}
    ] * BATCHES
    await _assert_stored_exactly(org, {r["requestId"] for r in records}, BATCHES)


@asynccontextmanager
async def _organization_row_locked(settings: Settings, organization_id: int) -> AsyncIterator[None]:
    """Another connection holds the organization's row lock (as a wallet deposit does, FOR
    NO KEY UPDATE) in an open transaction until the block ends, then rolls back."""
    holder = await asyncpg.connect(settings.database_url.replace("postgres://", "postgresql://"))
    try:
        transaction = holder.transaction()
        await transaction.start()
        locked = await holder.fetchval(
            "SELECT id FROM organization WHERE id = $1 FOR NO KEY UPDATE", organization_id
        )
        assert locked == organization_id
        try:
            yield
        finally:
            await transaction.rollback()
    finally:
        await holder.close()


@pytest.fixture
async def short_wait_client(db: Settings) -> AsyncIterator[httpx.AsyncClient]:
    settings = dataclasses.replace(db, ingest_lock_wait_seconds=float(SHORT_LOCK_WAIT))
    app = create_app(settings, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.mark.postgres_only
async def test_a_batch_kept_waiting_past_the_bound_is_refused_503_and_stores_nothing(
    short_wait_client: httpx.AsyncClient, db: Settings
) -> None:
    org, batch, token = await _gateway_org(300)

    async with _organization_row_locked(db, org.id):
        refused = await asyncio.wait_for(
            post_bulk(short_wait_client, token, batch), REFUSAL_DEADLINE_SECONDS
        )

    assert refused.status_code == 503
    assert refused.headers["retry-after"] == str(BUSY_RETRY_AFTER_SECONDS)
    error = refused.json()["error"]
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert error["retryAfterSeconds"] == BUSY_RETRY_AFTER_SECONDS
    assert "nothing in it was stored" in error["message"]
    assert await stored_records(org.id) == []
    assert (await Organization.get(id=org.id)).wallet_balance_nanos == DEPOSIT
    assert await spend_totals(org.id) == (0, 0)
    await assert_rollups_match_raw_scan(org.id)

    resent = await post_bulk(short_wait_client, token, batch)
    again = await post_bulk(short_wait_client, token, batch)

    assert resent.json() == {"accepted": 300, "duplicates": 0, "rejected": []}
    assert again.json() == {"accepted": 0, "duplicates": 300, "rejected": []}
    await _assert_stored_exactly(org, {r["requestId"] for r in batch}, 1)


@pytest.mark.postgres_only
async def test_the_ingest_mutation_kept_waiting_past_the_bound_answers_service_unavailable(
    short_wait_client: httpx.AsyncClient, db: Settings
) -> None:
    org = await make_org(wallet_balance_nanos=DEPOSIT)
    key = await make_key(org)
    token = await make_ingest_token(org)
    records = [
        {
            "requestId": str(record["requestId"]),
            "timestamp": record["timestamp"],
            "apiKeyId": encode_global_id("ApiKey", key.id),
            "model": "gpt-4o",
            "endpoint": "/v1/chat/completions",
            "inputTokens": 100,
            "outputTokens": 20,
            "latencyMs": 300,
            "statusCode": 200,
        }
        for record in (gateway_record(key) for _ in range(3))
    ]

    async with _organization_row_locked(db, org.id):
        refused = await asyncio.wait_for(
            short_wait_client.post(
                "/graphql",
                json={"query": INGEST, "variables": {"records": records}},
                headers={"Authorization": f"Bearer {token}"},
            ),
            REFUSAL_DEADLINE_SECONDS,
        )
    resent = await gql(short_wait_client, token, INGEST, records=records)

    assert refused.status_code == 503
    assert refused.headers["retry-after"] == str(BUSY_RETRY_AFTER_SECONDS)
    body = refused.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {
        "code": "SERVICE_UNAVAILABLE",
        "retryAfterSeconds": BUSY_RETRY_AFTER_SECONDS,
    }
    assert "nothing in it was stored" in body["errors"][0]["message"]
    assert resent.errors is None
    assert resent.data == {"ingestRequestLogs": {"accepted": 3, "duplicates": 0}}
    assert len(await stored_records(org.id)) == 3


def test_lock_and_statement_timeouts_are_recognised_through_wrapping_errors() -> None:
    for cause in (
        asyncpg.LockNotAvailableError("canceling statement due to lock timeout"),
        asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
    ):
        wrapper = RuntimeError("wrapped")
        wrapper.__cause__ = cause
        assert is_wait_timeout(cause)
        assert is_wait_timeout(wrapper)
    assert not is_wait_timeout(asyncpg.DeadlockDetectedError("deadlock detected"))
    assert not is_wait_timeout(RuntimeError("something else"))


def test_the_lock_wait_bound_is_read_from_the_environment_and_must_be_positive() -> None:
    assert Settings.from_env({}).ingest_lock_wait_seconds == 10.0
    env = {"AIZE_INGEST_LOCK_WAIT_SECONDS": "2.5"}
    assert Settings.from_env(env).ingest_lock_wait_seconds == 2.5
    with pytest.raises(SettingsError, match="AIZE_INGEST_LOCK_WAIT_SECONDS"):
        Settings.from_env({"AIZE_INGEST_LOCK_WAIT_SECONDS": "0"})
