"""Migrations 0025 (request_id_seen keyed by (organization_id, request_id)) and 0026 (the
token lookup table, access_token unique by (organization_id, token_hash)) on a database that
already has claimed request ids and issued tokens, forward, back and forward again.

As in tests/test_token_classes_migration.py, the migrations run in a subprocess (Tortoise's
migrate() re-initialises the process-wide ORM, which must not touch the test session's
connections), against a database of its own: a temporary file on SQLite, a scratch database
on PostgreSQL created and dropped here. The shared `test` database is never migrated: a key
swap takes its table's ACCESS EXCLUSIVE lock, which would wait behind the test session's
connections (and they behind it). The subprocess closes its connections before every
migrate() for the same reason, and is bounded by a timeout.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from settings import Settings
from tests.migration_runs import SCRIPT_PRELUDE, run_script, scratch_database

BEFORE = importlib.import_module("models.migrations.0025_request_ids_by_organization")
BEFORE_0025 = f"models.{BEFORE.Migration.dependencies[0][1]}"
TOKENS = {1: "aize_" + "a" * 40, 2: "aize_" + "b" * 40}
SHARED_ID = "00000000-0000-0000-0000-0000000000aa"
OTHER_ID = "00000000-0000-0000-0000-0000000000bb"

SCRIPT = (
    SCRIPT_PRELUDE
    + """
import hashlib
from auth.tokens import TokenError, authenticate

BEFORE_0025, TOKENS = sys.argv[1], json.loads(sys.argv[2])
SHARED_ID, OTHER_ID = sys.argv[3], sys.argv[4]

async def keys():
    if sqlite():
        found = []
        for table in ("request_id_seen", "access_token"):
            for index in await conn().execute_query_dict(f"PRAGMA index_list({table})"):
                if index["unique"]:
                    cols = await conn().execute_query_dict(f"PRAGMA index_info('{index['name']}')")
                    found.append(f"{table}: " + ", ".join(c["name"] for c in cols))
        return sorted(found)
    return [f"{r['relname']}: {r['definition']}" for r in await conn().execute_query_dict(
        "SELECT c.relname, pg_get_constraintdef(con.oid) AS definition FROM pg_constraint con "
        "JOIN pg_class c ON c.oid = con.conrelid WHERE con.contype IN ('p', 'u') "
        "AND c.relname IN ('request_id_seen', 'access_token', 'access_token_lookup') "
        "ORDER BY 1, 2")]

async def snapshot():
    return {
        "seen": await rows("SELECT organization_id, request_id FROM request_id_seen "
                           "ORDER BY organization_id, request_id"),
        "tokens": await rows("SELECT organization_id, token_hash, name "
                             "FROM access_token ORDER BY id"),
        "keys": await keys(),
    }

async def lookup():
    return await rows("SELECT organization_id, token_hash FROM access_token_lookup "
                      "ORDER BY organization_id")

async def viewers():
    found = {}
    for org, token in TOKENS.items():
        try:
            viewer = await authenticate(f"Bearer {token}")
            found[org] = [viewer.organization_id, sorted(viewer.scopes)]
        except TokenError as exc:
            found[org] = exc.reason
    return found

async def claim(org, request_id):
    # Ingest's claim (ingestion/): a conflict on the key means "already stored".
    found = await conn().execute_query_dict(
        "INSERT INTO request_id_seen (request_id, organization_id, timestamp) VALUES "
        f"('{request_id}', {org}, '2026-12-01 12:00:00') "
        "ON CONFLICT (organization_id, request_id) DO NOTHING RETURNING request_id")
    return len(found)

async def main():
    seen = {}
    await step(BEFORE_0025)
    for org in (1, 2):
        await conn().execute_script(
            "INSERT INTO organization (name, slug, tier, timezone, markup_bps, fixed_fee_nanos, "
            "billing_anchor_day, log_bodies, wallet_balance_nanos, low_balance_threshold_nanos, "
            f"created_at, low_balance_episode) VALUES ('Org {org}', 'org-{org}', 'TEAM', 'UTC', "
            "0, 0, 1, FALSE, 0, 0, '2026-01-01 00:00:00', 0)")
        digest = hashlib.sha256(TOKENS[str(org)].encode()).hexdigest()
        await conn().execute_script(
            "INSERT INTO access_token (organization_id, member_id, name, prefix, token_hash, "
            f"scopes, created_at) VALUES ({org}, NULL, 'gateway', 'aize_{org}', '{digest}', "
            "'[\\"ingest\\"]', '2026-01-01 00:00:00')")
    # Before 0025 a request id is stored once whatever the organization.
    await conn().execute_script(
        "INSERT INTO request_id_seen (request_id, organization_id, timestamp) VALUES "
        f"('{SHARED_ID}', 1, '2026-12-01 12:00:00'), ('{OTHER_ID}', 2, '2026-12-01 12:00:00')")
    seen["before"] = await snapshot()

    await step()
    seen["head"] = await snapshot()
    seen["head_lookup"] = await lookup()
    seen["head_viewers"] = await viewers()
    # The same request id, now claimed by the other organization too; not twice by one.
    seen["claims"] = [await claim(2, SHARED_ID), await claim(1, SHARED_ID),
                      await claim(2, SHARED_ID)]
    seen["claimed"] = await snapshot()

    # Back past 0025 is refused while a request id is stored for two organizations.
    await Tortoise.close_connections()
    try:
        await migrate(config=CONFIG, target=BEFORE_0025)
        seen["refused"] = None
    except Exception as exc:
        seen["refused"] = str(exc)
    await Tortoise.init(config=CONFIG)
    seen["after_refusal"] = await snapshot()
    await conn().execute_script(
        f"DELETE FROM request_id_seen WHERE organization_id = 2 AND request_id = '{SHARED_ID}'")
    await step(BEFORE_0025)
    seen["back"] = await snapshot()

    await step()
    seen["again"] = await snapshot()
    seen["again_lookup"] = await lookup()
    seen["again_viewers"] = await viewers()
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
    async with scratch_database(database, tmp_path_factory, "organization_keys") as url:
        yield await run_script(
            SCRIPT,
            url,
            BEFORE_0025,
            json.dumps({str(k): v for k, v in TOKENS.items()}),
            SHARED_ID,
            OTHER_ID,
            seconds=240,
        )


def _digest(org: int) -> str:
    return hashlib.sha256(TOKENS[org].encode()).hexdigest()


def _keys(database: Settings, by_organization: bool, lookup: bool) -> list[str]:
    if database.is_sqlite:
        # 0026 keeps the column's own UNIQUE (token_hash) on SQLite and adds the composite.
        found = [
            "access_token: token_hash",
            "request_id_seen: "
            + ("organization_id, request_id" if by_organization else "request_id"),
        ]
        if lookup:
            found.append("access_token: organization_id, token_hash")
        return sorted(found)
    request_key = "organization_id, request_id" if by_organization else "request_id"
    token_key = "organization_id, token_hash" if lookup else "token_hash"
    found = [
        "access_token: PRIMARY KEY (id, organization_id)",
        f"access_token: UNIQUE ({token_key})",
        f"request_id_seen: PRIMARY KEY ({request_key})",
    ]
    if lookup:
        found.append("access_token_lookup: PRIMARY KEY (token_hash)")
    return sorted(found)


def test_claimed_request_ids_and_tokens_survive_and_the_new_keys_hold(
    migrated: dict[str, Any], database: Settings
) -> None:
    stored = [["1", SHARED_ID], ["2", OTHER_ID]]
    tokens = [["1", _digest(1), "gateway"], ["2", _digest(2), "gateway"]]
    assert migrated["before"]["seen"] == stored
    assert migrated["before"]["tokens"] == tokens
    assert sorted(migrated["before"]["keys"]) == _keys(database, False, False)
    assert migrated["head"]["seen"] == stored
    assert migrated["head"]["tokens"] == tokens
    assert sorted(migrated["head"]["keys"]) == _keys(database, True, True)
    # Every token stored before 0026 has its lookup row, and authenticates through it.
    assert migrated["head_lookup"] == [["1", _digest(1)], ["2", _digest(2)]]
    assert migrated["head_viewers"] == {"1": [1, ["ingest"]], "2": [2, ["ingest"]]}


def test_the_same_request_id_is_stored_once_per_organization(migrated: dict[str, Any]) -> None:
    assert migrated["claims"] == [1, 0, 0]
    assert migrated["claimed"]["seen"] == [["1", SHARED_ID], ["2", SHARED_ID], ["2", OTHER_ID]]


def test_back_and_forward_again_keeps_every_row(
    migrated: dict[str, Any], database: Settings
) -> None:
    assert migrated["refused"] is not None
    assert (
        f"request id {SHARED_ID} is stored for more than one organization" in (migrated["refused"])
    )
    # 0026 went back (its own transaction) before 0025 refused: the rows are all there.
    assert migrated["after_refusal"]["seen"] == migrated["claimed"]["seen"]
    assert migrated["after_refusal"]["tokens"] == migrated["claimed"]["tokens"]
    assert sorted(migrated["after_refusal"]["keys"]) == _keys(database, True, False)
    stored = [["1", SHARED_ID], ["2", OTHER_ID]]
    assert migrated["back"]["seen"] == migrated["again"]["seen"] == stored
    assert migrated["back"]["tokens"] == migrated["again"]["tokens"] == migrated["head"]["tokens"]
    assert sorted(migrated["back"]["keys"]) == _keys(database, False, False)
    assert sorted(migrated["again"]["keys"]) == _keys(database, True, True)
    # Forward again, the lookup table is filled anew from the tokens.
    assert migrated["again_lookup"] == migrated["head_lookup"]
    assert migrated["again_viewers"] == migrated["head_viewers"]
