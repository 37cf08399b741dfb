"""What migration 0024 (every tenant key by organization) costs on a loaded database: the
database is taken back to the keys by id (0024 backward), then 0024 runs forward, timed as
a whole; then, back at the keys by id, each of its three steps is timed in its own
transaction, and the database is left migrated as it was found.

    python -m bench.load_data --rows 1000000 --database-url URL      # once
    python -m bench.tenant_keys_migration --database-url URL

Prints seconds per step and request_log's size; docs/SCALING.md holds the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import time
from types import SimpleNamespace

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.migrations.api.migrate import migrate
from tortoise.transactions import in_transaction

from models.database import close_database, init_database, tortoise_config
from settings import Settings

keys = importlib.import_module("models.migrations.0024_tenant_keys_by_organization")
_BEFORE = f"models.{keys.Migration.dependencies[0][1]}"


async def _timed_steps() -> list[tuple[str, float]]:
    """Each forward step of 0024 in its own transaction, timed, on a database at the keys by
    id; then 0024 backward again, so the caller's migrate() applies it as recorded."""
    steps: list[tuple[str, float]] = []

    async def surrogate(tx: BaseDBAsyncClient) -> None:
        await keys._drop_foreign_keys(tx)
        for table in keys._SURROGATE_TABLES:
            await keys._set_primary_key(tx, table, "id, organization_id")
        for table, column, referenced, on_delete in keys._FOREIGN_KEYS:
            action = f"SET NULL ({column})" if on_delete == "SET NULL" else on_delete
            await tx.execute_script(
                f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fkey "
                f"FOREIGN KEY (organization_id, {column}) "
                f"REFERENCES {referenced} (organization_id, id) ON DELETE {action}"
            )

    async def cubes(tx: BaseDBAsyncClient) -> None:
        for table in keys._CUBES:
            await keys._set_primary_key(tx, table, "organization_id, id")

    async def request_log(tx: BaseDBAsyncClient) -> None:
        await keys._set_request_log_key(tx, "id, organization_id, timestamp")

    for name, work in (
        ("13 surrogate-id tables and 8 foreign keys", surrogate),
        ("5 tag and end-user cubes", cubes),
        ("request_log (every partition)", request_log),
    ):
        started = time.perf_counter()
        async with in_transaction() as tx:
            await tx.execute_script("SET LOCAL maintenance_work_mem = '256MB'")
            await work(tx)
        steps.append((name, time.perf_counter() - started))
    async with in_transaction() as tx:
        await keys.key_by_id(None, SimpleNamespace(client=tx))  # type: ignore[arg-type]
    return steps


async def _main(database_url: str) -> None:
    settings = Settings.from_env({"AIZE_DATABASE_URL": database_url})
    config = tortoise_config(settings)
    await migrate(config=config, target=_BEFORE)
    started = time.perf_counter()
    await migrate(config=config)
    whole = time.perf_counter() - started
    started = time.perf_counter()
    await migrate(config=config)  # nothing to apply: Tortoise's own cost of a run
    idle = time.perf_counter() - started
    await migrate(config=config, target=_BEFORE)
    await init_database(settings)
    try:
        conn = connections.get("default")
        size = await conn.execute_query_dict(
            "SELECT count(*) AS partitions, sum(pg_table_size(inhrelid)) AS bytes "
            "FROM pg_inherits WHERE inhparent = 'request_log'::regclass"
        )
        logs = await conn.execute_query_dict("SELECT count(*) AS n FROM request_log")
        steps = await _timed_steps()
    finally:
        await close_database()
    await migrate(config=config)
    heap = int(size[0]["bytes"]) / 2**30
    print(
        f"request_log: {logs[0]['n']:,} rows in {size[0]['partitions']} partitions, "
        f"{heap:.2f} GiB of heap"
    )
    print(
        f"migration 0024 forward, whole: {whole:.1f} s (a run with nothing to apply: {idle:.1f} s)"
    )
    for name, seconds in steps:
        print(f"  {name:45s} {seconds:6.1f} s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tenant_keys_migration")
    parser.add_argument("--database-url", required=True)
    asyncio.run(_main(parser.parse_args(argv).database_url))


if __name__ == "__main__":
    main()
