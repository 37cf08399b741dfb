"""Migration 0016 on a database that already has logs and rollups: each log's provider is
back-filled from the catalog in effect (a stored price included), provider model first,
then alias, else "unknown"; the full rollup's rows get the same providers, so they still
equal a scan of the raw logs; and the wider unique key lets one model's calls through two
providers sit in two rollup rows.

The database is migrated to the migration before 0016, given logs and rollup rows with that
schema, then migrated forward, in a subprocess: Tortoise's migrate() re-initialises the
process-wide ORM, which must not touch the test session's connections.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from settings import Settings
from tests.migration_runs import run_script, scratch_database

REPO = Path(__file__).resolve().parent.parent
MIGRATION = importlib.import_module("models.migrations.0016_request_provider").Migration
BEFORE = MIGRATION.dependencies[0][1]

SCRIPT = """
import asyncio, json, sys, uuid
from datetime import UTC, datetime
from tortoise import Tortoise, connections
from tortoise.migrations.api.migrate import migrate
from models.priced_record import PricedRecord
from ingestion.folding import drain
from ingestion.writer import write_records
from models.database import Params, current_dialect, tortoise_config
from settings import Settings

# A UTC midnight: the bucket of every grain starts at the log's own timestamp.
AT = datetime(2025, 1, 15, tzinfo=UTC)
# (model, provider model, customer cost): an alias whose provider model is in the catalog,
# a catalog model, a stored price's model, an unknown model (twice).
LOGS = [("fast", "claude-3-5-haiku", 100), ("gpt-4o", "gpt-4o", 200),
        ("acme-1", "acme-1", 300), ("house", "house", 400), ("house", "house", 500)]
ROLLUP_KEY = ("organization_id, bucket_start, api_key_id, member_id, model, provider_model, "
              "endpoint, status_code")
MEASURES = ("requests, successful, client_errors, server_errors, unpriced, input_tokens, "
            "output_tokens, provider_cost_nanos, markup_nanos, fixed_fee_nanos, "
            "customer_cost_nanos, latency_ms_sum")
SUMS = ("count(*), count(*), 0, 0, 0, sum(input_tokens), sum(output_tokens), "
        "sum(provider_cost_nanos), sum(markup_nanos), sum(fixed_fee_nanos), "
        "sum(customer_cost_nanos), sum(latency_ms)")

async def query(sql):
    rows = await connections.get("default").execute_query_dict(sql)
    return [[str(v) for v in r.values()] for r in rows]

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
        "INSERT INTO model_price (model, provider, input_per_million_nanos, "
        "output_per_million_nanos, effective_from, created_at) VALUES ('ACME-1', 'Acme', 1, 1, "
        "'2024-01-01 00:00:00+00:00', '2024-01-01 00:00:00+00:00')",
    ):
        await conn.execute_script(sql)
    for i, (model, provider_model, cost) in enumerate(LOGS):
        params = Params(current_dialect())
        values = [str(uuid.UUID(int=i + 1)), AT, model, provider_model, "/v1/chat/completions",
                  10, 5, 15, cost, 0, 0, cost, True, 100, 200, datetime(2025, 2, 1, tzinfo=UTC),
                  1, 1, 1]
        await conn.execute_query(
            "INSERT INTO request_log (request_id, timestamp, model, provider_model, endpoint, "
            "input_tokens, output_tokens, total_tokens, provider_cost_nanos, markup_nanos, "
            "fixed_fee_nanos, customer_cost_nanos, priced, latency_ms, status_code, "
            "ingested_at, api_key_id, member_id, organization_id) VALUES ("
            + ", ".join(params.add(v) for v in values) + ")", params.values)
    for grain in ("quarter", "hour", "day"):
        await conn.execute_script(
            f"INSERT INTO usage_rollup_{grain} ({ROLLUP_KEY}, {MEASURES}) "
            f"SELECT organization_id, timestamp, api_key_id, COALESCE(member_id, 0), model, "
            f"provider_model, endpoint, status_code, {SUMS} FROM request_log "
            f"GROUP BY organization_id, timestamp, api_key_id, COALESCE(member_id, 0), model, "
            f"provider_model, endpoint, status_code")
    await Tortoise.close_connections()
    # Up to 0016 only: a later migration (0027) drops the full rollup's quarter grain.
    await migrate(config=config, target="models.0016_request_provider")
    await Tortoise.init(config=config)
    logs = await query("SELECT model, provider FROM request_log ORDER BY id")
    rollups = {
        grain: await query(f"SELECT model, provider, requests, customer_cost_nanos "
                           f"FROM usage_rollup_{grain} ORDER BY model")
        for grain in ("quarter", "hour", "day")
    }
    await Tortoise.close_connections()
    await migrate(config=config)
    await Tortoise.init(config=config)
    def record(request_id, provider):
        return PricedRecord(request_id=request_id, organization_id=1, api_key_id=1, member_id=1,
            timestamp=AT, model="house", provider_model="house", endpoint="/v1/chat/completions",
            input_tokens=1, output_tokens=1, provider_cost_nanos=7, markup_nanos=0,
            fixed_fee_nanos=0, customer_cost_nanos=7, priced=True, latency_ms=1,
            status_code=200, provider=provider)
    written = await write_records([record(uuid.UUID(int=90), "azure"),
                                   record(uuid.UUID(int=91), "unknown")])
    await drain()  # rollups folded after the commit (ingestion/folding.py)
    house = await query("SELECT provider, requests, customer_cost_nanos FROM usage_rollup_day "
                        "WHERE model = 'house' ORDER BY provider")
    print(json.dumps({"logs": logs, "rollups": rollups, "written": len(written.inserted),
                      "house": house}))
    await Tortoise.close_connections()

asyncio.run(main(sys.argv[1]))
"""


@pytest.fixture(scope="module")
async def migrated(
    database: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, Any]]:
    """What the subprocess saw after migrating a database with old logs and rollups."""
    async with scratch_database(database, tmp_path_factory, "provider") as url:
        yield await run_script(SCRIPT, url, f"models.{BEFORE}", seconds=120)


def test_logs_get_the_provider_of_the_catalog_in_effect(migrated: dict[str, Any]) -> None:
    assert migrated["logs"] == [
        ["fast", "anthropic"],
        ["gpt-4o", "openai"],
        ["acme-1", "acme"],
        ["house", "unknown"],
        ["house", "unknown"],
    ]


def test_rollup_rows_get_the_same_providers_and_keep_their_sums(
    migrated: dict[str, Any],
) -> None:
    expected = [
        ["acme-1", "acme", "1", "300"],
        ["fast", "anthropic", "1", "100"],
        ["gpt-4o", "openai", "1", "200"],
        ["house", "unknown", "2", "900"],
    ]
    assert migrated["rollups"] == {"quarter": expected, "hour": expected, "day": expected}


def test_the_wider_key_keeps_one_model_of_two_providers_apart(
    migrated: dict[str, Any],
) -> None:
    assert migrated["written"] == 2
    assert migrated["house"] == [["azure", "1", "7"], ["unknown", "3", "907"]]
