"""Migration 0006 on a database that already has logs: every row keeps its id and values
(on PostgreSQL, in its month's partition), every stored request id is claimed, the id
sequence continues, and a resend of a pre-migration record is still a duplicate.

The database is migrated to the migration before 0006, given logs with that schema, then
migrated forward, in a subprocess: Tortoise's migrate() re-initialises the process-wide ORM,
which must not touch the test session's connections.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from settings import Settings
from tests.migration_runs import run_script, scratch_database

REPO = Path(__file__).resolve().parent.parent
PREVIOUS = importlib.import_module("models.migrations.0006_request_log_partitions").Migration
BEFORE_PARTITIONS = PREVIOUS.dependencies[0][1]

SCRIPT = """
import asyncio, json, sys, uuid
from datetime import UTC, datetime
from tortoise import Tortoise, connections
from tortoise.migrations.api.migrate import migrate
from models.priced_record import PricedRecord
from ingestion.writer import write_records
from models.database import Params, current_dialect, tortoise_config
from settings import Settings

STAMPS = ["2024-11-30T23:59:59.5+00:00", "2024-12-01T00:00:00+00:00", "2025-01-15T12:00:00+00:00"]
COLUMNS = ("id, request_id, timestamp, api_key_id, member_id, organization_id, model, "
           "customer_cost_nanos, priced, metadata")

async def rows():
    result = await connections.get("default").execute_query_dict(
        f"SELECT {COLUMNS} FROM request_log ORDER BY id")
    return [{k: str(v) if v is not None else None for k, v in r.items()} for r in result]

async def main(target):
    config = tortoise_config(Settings.from_env())
    await migrate(config=config, target=target)
    conn = connections.get("default")
    for sql in (
        "INSERT INTO organization (name, slug, tier, timezone, markup_bps, fixed_fee_nanos, "
        "billing_anchor_day, log_bodies, wallet_balance_nanos, low_balance_threshold_nanos, "
        "created_at, low_balance_episode) VALUES ('Old', 'old', 'TEAM', 'UTC', 0, 0, 1, "
        "FALSE, 0, 0, '2024-01-01 00:00:00+00:00', 0)",
        "INSERT INTO member (organization_id, name, email, role, created_at) "
        "VALUES (1, 'Ann', 'ann@example.com', 'MEMBER', '2024-01-01 00:00:00+00:00')",
        "INSERT INTO api_key (organization_id, owner_id, label, prefix, status, created_at) "
        "VALUES (1, 1, 'k', 'sk-old', 'ACTIVE', '2024-01-01 00:00:00+00:00')",
    ):
        await conn.execute_script(sql)
    for i, stamp in enumerate(STAMPS * 2):
        params = Params(current_dialect())
        values = [str(uuid.UUID(int=i + 1)), datetime.fromisoformat(stamp), "gpt-4",
                  "gpt-4", "/v1/chat/completions", 10, 5, 15, 100 * i, 0, 0, 100 * i,
                  i != 4, 100 + i, 200, '{"temperature": 0.5}',
                  datetime(2025, 2, 1, tzinfo=UTC), 1, 1 if i % 2 else None, 1]
        await conn.execute_query(
            "INSERT INTO request_log (request_id, timestamp, model, provider_model, endpoint, "
            "input_tokens, output_tokens, total_tokens, provider_cost_nanos, markup_nanos, "
            "fixed_fee_nanos, customer_cost_nanos, priced, latency_ms, status_code, metadata, "
            "ingested_at, api_key_id, member_id, organization_id) VALUES ("
            + ", ".join(params.add(v) for v in values) + ")", params.values)
    before = await rows()
    await Tortoise.close_connections()
    await migrate(config=config)
    await Tortoise.init(config=config)
    after = await rows()
    seen = await connections.get("default").execute_query_dict(
        "SELECT request_id, organization_id, timestamp FROM request_id_seen ORDER BY request_id")
    placed = []
    if current_dialect().value == "postgres":
        placed = [str(r["partition"]) for r in await connections.get("default").execute_query_dict(
            "SELECT tableoid::regclass::text AS partition FROM request_log ORDER BY id")]
    def record(request_id, stamp):
        return PricedRecord(request_id=request_id, organization_id=1, api_key_id=1, member_id=1,
            timestamp=datetime.fromisoformat(stamp), model="gpt-4", provider_model="gpt-4",
            endpoint="/v1/chat/completions", input_tokens=1, output_tokens=1,
            provider_cost_nanos=0, markup_nanos=0, fixed_fee_nanos=0, customer_cost_nanos=0,
            priced=True, latency_ms=1, status_code=200)
    resent = await write_records([record(uuid.UUID(int=1), STAMPS[0])])
    fresh = await write_records([record(uuid.UUID(int=99), STAMPS[2])])
    newest = await connections.get("default").execute_query_dict(
        "SELECT max(id) AS id FROM request_log")
    print(json.dumps({
        "before": before, "after": after, "placed": placed,
        "seen": [{k: str(v) for k, v in r.items()} for r in seen],
        "resent": [len(resent.inserted), len(resent.duplicates)],
        "fresh": [len(fresh.inserted), len(fresh.duplicates)],
        "newest_id": int(newest[0]["id"]),
    }))
    await Tortoise.close_connections()

asyncio.run(main(sys.argv[1]))
"""


@pytest.fixture(scope="module")
async def migrated(
    database: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, Any]]:
    """What the subprocess saw before and after migrating a new database with old logs."""
    async with scratch_database(database, tmp_path_factory, "partitions") as url:
        yield await run_script(SCRIPT, url, f"models.{BEFORE_PARTITIONS}", seconds=120)


def test_migrating_a_database_with_logs_keeps_every_row_and_claims_its_id(
    migrated: dict[str, Any],
) -> None:
    assert len(migrated["before"]) == 6
    assert migrated["after"] == migrated["before"]
    assert [r["request_id"] for r in migrated["seen"]] == [
        str(uuid.UUID(int=i)) for i in range(1, 7)
    ]
    assert {r["organization_id"] for r in migrated["seen"]} == {"1"}


def test_after_the_migration_a_resend_is_a_duplicate_and_ids_continue(
    migrated: dict[str, Any],
) -> None:
    assert migrated["resent"] == [0, 1]
    assert migrated["fresh"] == [1, 0]
    assert migrated["newest_id"] == 7


@pytest.mark.postgres_only
def test_on_postgres_migrated_rows_sit_in_their_months_partitions(
    migrated: dict[str, Any],
) -> None:
    assert (
        migrated["placed"]
        == [
            "request_log_p2024_11",
            "request_log_p2024_12",
            "request_log_p2025_01",
        ]
        * 2
    )
