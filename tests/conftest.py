"""Test fixtures: a real database, migrated once per run.

The suite runs once per backend (Tortoise binds its SQL dialect per process):
`AIZE_TEST_BACKEND=sqlite` (default) runs everything on a SQLite file;
`AIZE_TEST_BACKEND=postgres` runs every test that touches the database on a fresh
PostgreSQL database. PostgreSQL tests skip with a reason when no server answers, except
under CI (the CI variable set), where that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette
from tortoise import connections

from models.database import apply_migrations, close_database, init_database
from settings import Settings
from web.app import create_app

POSTGRES_ADMIN_URL = os.environ.get(
    "AIZE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"
)
IN_CI = bool(os.environ.get("CI"))
BACKEND = os.environ.get("AIZE_TEST_BACKEND", "sqlite")
if BACKEND not in {"sqlite", "postgres"}:
    raise RuntimeError(f"AIZE_TEST_BACKEND must be sqlite or postgres, got {BACKEND!r}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "postgres_only: runs on the PostgreSQL pass only (it needs PostgreSQL itself)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, run only tests that use the database (the rest ran on the
    SQLite pass) or are marked `postgres_only`; on the SQLite pass, all but the latter.
    They are deselected, not skipped."""
    if BACKEND == "postgres":
        selected = [
            i
            for i in items
            if "database" in getattr(i, "fixturenames", ()) or i.get_closest_marker("postgres_only")
        ]
    else:
        selected = [i for i in items if not i.get_closest_marker("postgres_only")]
    deselected = [i for i in items if i not in selected]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def pytest_report_header(config: pytest.Config) -> str:
    return f"aize backend: {BACKEND}"


_TABLES = (
    "service_lease",
    "limit_request",
    "audit_entry",
    "report_schedule",
    "report",
    "alert_delivery",
    "alert_event",
    "alert_rule",
    "wallet_entry",
    "spend_counter",
    "usage_rollup_day",
    "usage_cube_model_quarter",
    "usage_cube_model_hour",
    "usage_cube_model_day",
    "usage_cube_model_status_quarter",
    "usage_cube_model_status_hour",
    "usage_cube_model_status_day",
    "usage_cube_key_hour",
    "usage_cube_key_day",
    "usage_cube_member_hour",
    "usage_cube_member_day",
    "usage_cube_team_tag_hour",
    "usage_cube_team_tag_day",
    "usage_cube_team_end_user_day",
    "latency_hist_hour",
    "latency_hist_day",
    "latency_hist_model_status_day",
    "fold_pending",
    "request_log",
    "request_id_seen",
    "access_token",
    "api_key",
    "member",
    "model_price",
    "organization_pricing",
    "organization",
)


async def _create_postgres_database() -> str | None:
    """A fresh, uniquely named database on the test server, or None when unreachable."""
    name = f"aize_test_{uuid.uuid4().hex[:10]}"
    try:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://"))
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


async def _drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Settings]:
    """A migrated database on this run's backend for the whole session."""
    pg_url: str | None = None
    if BACKEND == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        url = f"sqlite://{path}"
    else:
        pg_url = await _create_postgres_database()
        if pg_url is None:
            message = f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}"
            if IN_CI:
                pytest.fail(f"{message} (required under CI)")
            pytest.skip(message)
        url = pg_url
    # The alert worker stays off: tests drive `alerts.worker.run_once` with their own clock.
    # No pause before a spent budget's 429 (tests/test_limits_rate_gate.py checks the pause).
    settings = Settings.from_env(
        {
            "AIZE_DATABASE_URL": url,
            "AIZE_ALERT_WORKER": "false",
            "AIZE_RATE_LIMIT_PAUSE_SECONDS": "0",
        }
    )
    await apply_migrations(settings)
    await init_database(settings)
    try:
        yield settings
    finally:
        await close_database()
        if pg_url is not None:
            await _drop_postgres_database(pg_url)


@pytest.fixture
async def db(database: Settings) -> AsyncIterator[Settings]:
    """An empty database (every table cleared) on each backend."""
    await clear_tables(database)
    yield database


async def clear_tables(settings: Settings) -> None:
    """Empty every table; ids start again at 1 on both backends (as in a fresh database,
    which the docs' examples of the demo's ids assume)."""
    conn = connections.get("default")
    if settings.is_sqlite:
        for table in _TABLES:
            await conn.execute_script(f"DELETE FROM {table}")
        # AUTOINCREMENT tables keep their last id here.
        await conn.execute_script("DELETE FROM sqlite_sequence")
    else:
        await conn.execute_script(f"TRUNCATE {', '.join(_TABLES)} RESTART IDENTITY CASCADE")


@pytest.fixture
def app(db: Settings) -> Starlette:
    return create_app(db, manage_database=False)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@pytest.fixture
def backend(db: Settings) -> Iterator[str]:
    yield "sqlite" if db.is_sqlite else "postgres"
