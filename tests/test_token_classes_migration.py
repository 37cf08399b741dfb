"""Migration 0017 (token classes) on a database that already has logs, rollups and stored
prices: every existing number is kept exactly, the new measures read 0 on old rows, and a
stored price without class prices still loads.

As in tests/test_partitions_migration.py, the database is migrated to the migration before
0015, filled with that schema, then migrated forward, in a subprocess: Tortoise's migrate()
re-initialises the process-wide ORM, which must not touch the test session's connections.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from models.request_log_columns import CLASS_COLUMNS
from settings import Settings
from tests.migration_runs import run_script, scratch_database

REPO = Path(__file__).resolve().parent.parent
MIGRATION = importlib.import_module("models.migrations.0017_token_classes").Migration
BEFORE = MIGRATION.dependencies[0][1]

SCRIPT = """
import asyncio, json, sys
from datetime import UTC, datetime
from tortoise import Tortoise, connections
from tortoise.migrations.api.migrate import migrate
from ingestion.catalog_store import stored_prices
from models.database import Params, current_dialect, tortoise_config
from settings import Settings

async def table(name):
    rows = await connections.get("default").execute_query_dict(f"SELECT * FROM {name} ORDER BY id")
    return [{k: str(v) for k, v in r.items()} for r in rows]

async def main(target):
    config = tortoise_config(Settings.from_env())
    await migrate(config=config, target=target)
    conn = connections.get("default")
    for sql in (
        "INSERT INTO organization (name, slug, tier, timezone, markup_bps, fixed_fee_nanos, "
        "billing_anchor_day, log_bodies, wallet_balance_nanos, low_balance_threshold_nanos, "
        "created_at, low_balance_episode) VALUES ('Old', 'old', 'TEAM', 'UTC', 2500, 0, 1, "
        "FALSE, 0, 0, '2024-01-01 00:00:00+00:00', 0)",
        "INSERT INTO api_key (organization_id, label, prefix, status, created_at) "
        "VALUES (1, 'k', 'sk-old', 'ACTIVE', '2024-01-01 00:00:00+00:00')",
        "INSERT INTO model_price (model, provider, input_per_million_nanos, "
        "output_per_million_nanos, effective_from, created_at) VALUES ('old-model', 'p', "
        "1250000000, 5000000000, '2024-01-01 00:00:00+00:00', '2024-01-01 00:00:00+00:00')",
        "INSERT INTO usage_rollup_day (organization_id, bucket_start, api_key_id, member_id, "
        "model, provider_model, endpoint, status_code, requests, successful, client_errors, "
        "server_errors, unpriced, input_tokens, output_tokens, provider_cost_nanos, "
        "markup_nanos, fixed_fee_nanos, customer_cost_nanos, latency_ms_sum) VALUES (1, "
        "'2025-01-15 00:00:00+00:00', 1, 0, 'gpt-4', 'gpt-4', '/v1/chat/completions', 200, "
        "2, 2, 0, 0, 0, 3000, 1500, 123456789, 30864197, 0, 154320986, 2400)",
    ):
        await conn.execute_script(sql)
    for i in range(2):
        params = Params(current_dialect())
        values = [f"00000000-0000-0000-0000-00000000000{i + 1}",
                  datetime(2025, 1, 15, 12, i, tzinfo=UTC), "gpt-4", "gpt-4",
                  "/v1/chat/completions", 1500, 750, 2250, 61728394 + i, 15432099, 0,
                  77160493 + i, True, 1200, 200, None, datetime(2025, 1, 15, tzinfo=UTC), 1,
                  None, 1]
        await conn.execute_query(
            "INSERT INTO request_log (request_id, timestamp, model, provider_model, endpoint, "
            "input_tokens, output_tokens, total_tokens, provider_cost_nanos, markup_nanos, "
            "fixed_fee_nanos, customer_cost_nanos, priced, latency_ms, status_code, metadata, "
            "ingested_at, api_key_id, member_id, organization_id) VALUES ("
            + ", ".join(params.add(v) for v in values) + ")", params.values)
    before = {t: await table(t) for t in ("request_log", "usage_rollup_day", "model_price")}
    await Tortoise.close_connections()
    await migrate(config=config)
    await Tortoise.init(config=config)
    after = {t: await table(t) for t in ("request_log", "usage_rollup_day", "model_price")}
    prices = [[p.model, p.input_per_million_nanos, p.output_per_million_nanos,
               p.cache_read_per_million_nanos, len(p.tiers)] for p in await stored_prices()]
    print(json.dumps({"before": before, "after": after, "prices": prices}))
    await Tortoise.close_connections()

asyncio.run(main(sys.argv[1]))
"""


@pytest.fixture(scope="module")
async def migrated(
    database: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, Any]]:
    """What the subprocess saw before and after migrating a database with old rows."""
    async with scratch_database(database, tmp_path_factory, "token_classes") as url:
        yield await run_script(SCRIPT, url, f"models.{BEFORE}", seconds=240)


def test_every_existing_number_is_kept_and_the_new_measures_are_zero(
    migrated: dict[str, Any],
) -> None:
    for table in ("request_log", "usage_rollup_day"):
        before, after = migrated["before"][table], migrated["after"][table]
        assert len(before) == len(after) > 0
        for old, new in zip(before, after, strict=True):
            assert {column: new[column] for column in old} == old, table
            assert {column: new[column] for column in CLASS_COLUMNS} == dict.fromkeys(
                CLASS_COLUMNS, "0"
            )


def test_a_stored_price_from_before_loads_without_class_prices(
    migrated: dict[str, Any],
) -> None:
    assert migrated["after"]["model_price"][0]["class_prices"] == "None"
    assert migrated["prices"] == [["old-model", 1_250_000_000, 5_000_000_000, None, 0]]
