"""Migration 0028 on a database whose per-member end-user and tag cubes hold rows: the team
end-user table is filled with the old rows summed over members (every measure, exact), the
two per-member tables go, and going back recreates them empty (keyed as they were on
PostgreSQL) and drops the team table.

As in tests/test_rollup_bytes_migration.py, the database is migrated to 0027, given rows
with that schema, then migrated, in a subprocess (Tortoise's migrate() re-initialises the
process-wide ORM, which must not touch the test session's connections). The rows are
inserted in SQL: the code of this tree no longer writes the old tables.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from models.rollup import MEASURE_COLUMNS
from settings import Settings
from tests.migration_runs import SCRIPT_PRELUDE, run_script, scratch_database

MIGRATION = importlib.import_module("models.migrations.0028_team_end_users").Migration
BEFORE = f"models.{MIGRATION.dependencies[0][1]}"
DAYS = ("2025-01-15 00:00:00+00:00", "2025-01-16 00:00:00+00:00")
# (organization, day, member, end user): four members' rows over two organizations.
OLD_KEYS = [
    (org, day, member, end_user)
    for org in (1, 2)
    for day in DAYS
    for member in (0, 1, 2, 3)
    for end_user in ("", "alice", "bob")
    if (member + len(end_user) + org) % 4 != 0
]


def measures(position: int) -> list[int]:
    """A row's measures: large (nanos past 2**31), distinct per row, the savings negative."""
    values = [(position + 1) * 1_000_003 + 7 * i for i in range(len(MEASURE_COLUMNS))]
    values[MEASURE_COLUMNS.index("customer_cost_nanos")] = (position + 1) * 4_000_000_007
    values[MEASURE_COLUMNS.index("cache_savings_nanos")] = -(position + 1) * 13
    return values


SCRIPT = (
    SCRIPT_PRELUDE
    + """
from models.rollup import MEASURE_COLUMNS

BEFORE, OLD_ROWS = sys.argv[1], json.loads(sys.argv[2])
COLUMNS = ", ".join(MEASURE_COLUMNS)
TEAM_TAGS = ("usage_cube_team_tag_hour", "usage_cube_team_tag_day")

async def tables():
    found = await rows("SELECT name FROM sqlite_master WHERE type = 'table'" if sqlite()
                       else "SELECT relname FROM pg_class WHERE relkind = 'r'")
    return sorted(r[0] for r in found
                  if r[0].startswith(("usage_cube_end_user", "usage_cube_t")))

async def keys(table):
    if sqlite():
        return []
    return [r[0] for r in await rows(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        f"WHERE conrelid = '{table}'::regclass ORDER BY contype, 1")]

async def main():
    seen = {}
    await step(BEFORE)
    for org, day, member, end_user, values in OLD_ROWS:
        cells = ", ".join(str(v) for v in values)
        await conn().execute_script(
            "INSERT INTO usage_cube_end_user_day (organization_id, bucket_start, member_id, "
            f"end_user, {COLUMNS}) VALUES ({org}, '{day}', {member}, '{end_user}', {cells})")
        await conn().execute_script(
            "INSERT INTO usage_cube_tag_day (organization_id, bucket_start, member_id, "
            f"tag, {COLUMNS}) VALUES ({org}, '{day}', {member}, 't{end_user}', {cells})")
    seen["before"] = await tables()
    await step()
    seen["head"] = await tables()
    seen["team"] = await rows(
        f"SELECT organization_id, bucket_start, end_user, {COLUMNS} "
        "FROM usage_cube_team_end_user_day ORDER BY 1, 2, 3")
    seen["team_keys"] = await keys("usage_cube_team_end_user_day")
    seen["team_tag_keys"] = [await keys(t) for t in TEAM_TAGS]
    await step(BEFORE)
    seen["back"] = await tables()
    seen["back_rows"] = [(await rows(f"SELECT count(*) FROM {t}"))[0][0]
                         for t in ("usage_cube_end_user_day", "usage_cube_tag_day")]
    seen["back_keys"] = {t: await keys(t) for t in ("usage_cube_end_user_day",
                                                   "usage_cube_tag_day")}
    seen["back_team_tag_keys"] = [await keys(t) for t in TEAM_TAGS]
    await step()
    seen["again"] = await tables()
    await Tortoise.close_connections()
    print(json.dumps(seen))

asyncio.run(main())
"""
)


@pytest.fixture(scope="module")
async def migrated(
    database: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, Any]]:
    """What the subprocess saw at each step, on the backend under test."""
    old_rows = [[*key, measures(i)] for i, key in enumerate(OLD_KEYS)]
    async with scratch_database(database, tmp_path_factory, "team_end_users") as url:
        yield await run_script(SCRIPT, url, BEFORE, json.dumps(old_rows), seconds=300)


def test_the_team_table_holds_the_old_rows_summed_over_members(
    migrated: dict[str, Any],
) -> None:
    expected: dict[tuple[str, str, str], list[int]] = {}
    for i, (org, day, _, end_user) in enumerate(OLD_KEYS):
        sums = expected.setdefault((str(org), day, end_user), [0] * len(MEASURE_COLUMNS))
        for j, value in enumerate(measures(i)):
            sums[j] += value
    got = {
        (org, day, user): [int(v) for v in values] for org, day, user, *values in migrated["team"]
    }

    assert got == expected
    assert len(got) == 12  # 2 organizations x 2 days x 3 end users
    # The customer cost summed over members is past 2**32 nanos: no float, no overflow.
    assert max(v[MEASURE_COLUMNS.index("customer_cost_nanos")] for v in got.values()) > 2**32


def test_the_per_member_tables_go_and_come_back_empty(migrated: dict[str, Any]) -> None:
    kept = ["usage_cube_team_tag_day", "usage_cube_team_tag_hour"]
    assert migrated["before"] == ["usage_cube_end_user_day", "usage_cube_tag_day", *kept]
    assert migrated["head"] == ["usage_cube_team_end_user_day", *kept]
    assert migrated["back"] == migrated["before"]
    assert migrated["back_rows"] == ["0", "0"]
    assert migrated["again"] == migrated["head"]


def test_postgresql_keys_the_tables_as_the_other_attribution_cubes(
    migrated: dict[str, Any], database: Settings
) -> None:
    if database.is_sqlite:
        assert migrated["team_keys"] == []
        assert migrated["team_tag_keys"] == migrated["back_team_tag_keys"] == [[], []]
        return
    include = f" INCLUDE ({', '.join(MEASURE_COLUMNS)})"
    # The team cubes' unique keys carry no measures; going back puts them on the tag cubes.
    assert migrated["team_keys"] == [
        "PRIMARY KEY (organization_id, id)",
        "UNIQUE (organization_id, bucket_start, end_user)",
    ]
    team_tag_key = "UNIQUE (organization_id, bucket_start, tag)"
    assert [keys[-1] for keys in migrated["team_tag_keys"]] == [team_tag_key] * 2
    assert [keys[-1] for keys in migrated["back_team_tag_keys"]] == [team_tag_key + include] * 2
    assert migrated["back_keys"] == {
        "usage_cube_end_user_day": [
            "PRIMARY KEY (organization_id, id)",
            f"UNIQUE (organization_id, bucket_start, member_id, end_user){include}",
        ],
        "usage_cube_tag_day": [
            "PRIMARY KEY (organization_id, id)",
            f"UNIQUE (organization_id, bucket_start, member_id, tag){include}",
        ],
    }
