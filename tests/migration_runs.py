"""What the migration tests share: a scratch database of the backend under test, and a
migration script run in a subprocess. The subprocess has its own Tortoise and its own
connections, all closed when it ends, so nothing it opens can hold a lock against the shared
test database (an earlier in-process draft hung on one)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from settings import Settings
from tests.conftest import POSTGRES_ADMIN_URL

REPO = Path(__file__).resolve().parent.parent


@asynccontextmanager
async def scratch_database(
    database: Settings, tmp_path_factory: pytest.TempPathFactory, name: str
) -> AsyncIterator[str]:
    """The URL of an empty database of the backend under test: a temporary SQLite file, or a
    PostgreSQL database created for the test and dropped (forcibly) after it."""
    if database.is_sqlite:
        yield f"sqlite://{tmp_path_factory.mktemp('migration') / f'{name}.sqlite3'}"
        return
    scratch = f"aize_{name}_{uuid.uuid4().hex[:10]}"
    admin_url = POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://")
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{scratch}"')
    await admin.close()
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{scratch}"
    finally:
        admin = await asyncpg.connect(admin_url)
        await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        await admin.close()


# What a migration script starts with (put it before the script's own source): the
# service's Tortoise configuration, its connection, whether it is SQLite, a query's rows as
# strings, and `step`: migrate to `target` (the newest migration when None) with every
# connection closed first, then open Tortoise again.
SCRIPT_PRELUDE = """
import asyncio, json, sys
from tortoise import Tortoise, connections
from tortoise.migrations.api.migrate import migrate
from models.database import Dialect, dialect_of, tortoise_config
from settings import Settings

CONFIG = tortoise_config(Settings.from_env())

def conn():
    return connections.get("default")

def sqlite():
    return dialect_of(conn()) is Dialect.SQLITE

async def rows(sql):
    found = await conn().execute_query_dict(sql)
    return [[str(v) for v in r.values()] for r in found]

async def step(target=None):
    await Tortoise.close_connections()
    if target is None:
        await migrate(config=CONFIG)
    else:
        await migrate(config=CONFIG, target=target)
    await Tortoise.init(config=CONFIG)
"""


async def run_script(script: str, url: str, *args: str, seconds: float) -> dict[str, Any]:
    """Run `script` (Python source) with `args` on the database at `url`, from the
    repository's root; its last line of output, read as JSON. Killed past `seconds`
    seconds; a failure shows the script's stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        script,
        *args,
        cwd=REPO,
        env={**os.environ, "AIZE_DATABASE_URL": url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=seconds)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode == 0, err.decode()
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result
