"""Migration 0027 on a database that already has logs, folded rollups and (PostgreSQL) rows
still pending in fold_pending: the dropped tables go, the kept ones keep their rows, the
pending rows are folded afterwards, and every kept table then equals a scan of the raw log.

As in tests/test_provider_migration.py, the database is migrated to the migration before
0027, given logs with that schema, then migrated forward, in a subprocess: Tortoise's
migrate() re-initialises the process-wide ORM, which must not touch the test session's
connections.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from settings import Settings
from tests.migration_runs import SCRIPT_PRELUDE, run_script, scratch_database

MIGRATION = importlib.import_module("models.migrations.0027_rollup_bytes").Migration
BEFORE = MIGRATION.dependencies[0][1]

SCRIPT = (
    SCRIPT_PRELUDE
    + """
import uuid
from datetime import UTC, datetime, timedelta
from ingestion.folding import drain
from models.priced_record import PricedRecord
from ingestion.writer import write_records
from models.rollup import MEASURE_COLUMNS

AT = datetime(2025, 1, 15, 23, 50, tzinfo=UTC)

def record(n):
    return PricedRecord(request_id=uuid.UUID(int=n), organization_id=1, api_key_id=1,
        member_id=1, timestamp=AT + timedelta(minutes=7 * n), model=f"m{n % 2}",
        provider_model="p", endpoint="/v1/chat/completions", input_tokens=n, output_tokens=1,
        provider_cost_nanos=1000 + n, markup_nanos=0, fixed_fee_nanos=0,
        customer_cost_nanos=1000 + n, priced=True, latency_ms=10 * n, status_code=200)

async def tables():
    found = await rows("SELECT name FROM sqlite_master WHERE type = 'table'" if sqlite()
                       else "SELECT relname FROM pg_class WHERE relkind = 'r'")
    return sorted(r[0] for r in found if r[0].startswith(("usage_rollup", "usage_cube")))

SUMS = ("SELECT sum(requests) AS n, sum(customer_cost_nanos) AS cost, "
        "sum(input_tokens) AS tokens FROM {}")

async def main(target):
    await migrate(config=CONFIG, target=target)
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
        await conn().execute_script(sql)
    # This tree's code also writes the team end-user table of 0028: a stand-in while the
    # records are written (dropped before migrating; 0028 creates and fills the real one).
    stand_in = ("id INTEGER PRIMARY KEY, bucket_start TIMESTAMP" if sqlite()
                else "id BIGSERIAL PRIMARY KEY, bucket_start TIMESTAMPTZ")
    measures = ", ".join(f"{m} BIGINT NOT NULL DEFAULT 0" for m in MEASURE_COLUMNS)
    await conn().execute_script(
        f"CREATE TABLE usage_cube_team_end_user_day ({stand_in}, organization_id INT NOT NULL, "
        f"end_user VARCHAR(128) NOT NULL, {measures}, "
        "UNIQUE (organization_id, bucket_start, end_user))")
    await write_records([record(n) for n in range(1, 6)])
    await drain()  # folded before the migration
    await write_records([record(n) for n in range(6, 12)])  # left pending (PostgreSQL)
    await conn().execute_script("DROP TABLE usage_cube_team_end_user_day")
    before = await tables()
    pending = 0 if sqlite() else int((await rows("SELECT count(*) FROM fold_pending"))[0][0])
    await step()
    after = await tables()
    await drain()
    raw = (await rows("SELECT count(*) AS n, sum(customer_cost_nanos) AS cost, "
                       "sum(input_tokens) AS tokens FROM request_log"))[0]
    # The usage tables (not the tag ones, where a request counts once per tag, nor the end-user
    # one, filled by 0028 from rows this tree's code did not write).
    kept = {t: (await rows(SUMS.format(t)))[0] for t in after
            if "_tag_" not in t and "end_user" not in t}
    print(json.dumps({"before": before, "after": after, "pending": pending, "raw": raw,
                      "kept": kept}))
    await Tortoise.close_connections()

asyncio.run(main(sys.argv[1]))
"""
)


@pytest.fixture(scope="module")
async def migrated(
    database: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, Any]]:
    """What the subprocess saw before and after migrating a database with logs."""
    async with scratch_database(database, tmp_path_factory, "rollup_bytes") as url:
        yield await run_script(SCRIPT, url, f"models.{BEFORE}", seconds=600)


DROPPED = {
    "usage_rollup_quarter",
    "usage_rollup_hour",
    "usage_cube_key_quarter",
    "usage_cube_member_quarter",
    "usage_cube_tag_hour",
}
# The script migrates to the latest migration: 0028 (tests/test_team_end_users_migration.py)
# replaces the per-member end-user and tag cubes by a team end-user one.
REPLACED_BY_0028 = {"usage_cube_end_user_day", "usage_cube_tag_day"}


def test_the_dropped_tables_go_and_the_others_stay(
    migrated: dict[str, Any], database: Settings
) -> None:
    assert set(migrated["before"]) >= DROPPED | REPLACED_BY_0028
    assert set(migrated["after"]) == (set(migrated["before"]) - DROPPED - REPLACED_BY_0028) | {
        "usage_cube_team_end_user_day"
    }
    # PostgreSQL folds after the commit: six rows were still pending when it migrated.
    assert migrated["pending"] == (0 if database.is_sqlite else 6)


def test_every_kept_table_equals_the_raw_log_once_the_pending_rows_are_folded(
    migrated: dict[str, Any],
) -> None:
    # 11 logs: costs 1001..1011, input tokens 1..11.
    assert migrated["raw"] == ["11", str(sum(1000 + n for n in range(1, 12))), "66"]
    assert len(migrated["kept"]) == 11
    assert all(sums == migrated["raw"] for sums in migrated["kept"].values()), migrated["kept"]
