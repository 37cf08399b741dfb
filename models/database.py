"""Database lifecycle: Tortoise configuration, start-up checks, migrations, raw SQL access.

Aggregates and ingest upserts are written as SQL (Tortoise's builder cannot express them);
`Dialect` and `Params` keep that SQL portable between SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar

from tortoise import Tortoise, connections
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.models import Model

from models import MODEL_MODULES, read_replicas
from observability.metrics import DB_POOL_IN_USE
from settings import Settings

ModelT = TypeVar("ModelT", bound=Model)

log = logging.getLogger("aize.database")

# Applied to every PostgreSQL connection. After five executions a prepared statement may
# switch to a generic plan that ignores how big one tenant is (10-500x slower for the big
# ones); JIT compilation costs 10-15 ms on the small aggregates dashboards run.
POSTGRES_SERVER_SETTINGS = {
    "plan_cache_mode": "force_custom_plan",
    "jit": "off",
    "timezone": "UTC",
}
# The web server's connections also get a statement_timeout a little above the request
# timeout: a backstop should a cancelled request's query ever keep running (the request
# timeout cancels it first). Migrations and CLI jobs connect without it.
STATEMENT_TIMEOUT_MARGIN_SECONDS = 5


async def count_acquired(connection: object) -> None:
    """What the pool runs on a connection it hands out: count it in use (/metrics)."""
    DB_POOL_IN_USE.inc()


async def keep_session(connection: object) -> None:
    """What the pool runs on a connection it takes back, after asyncpg has rolled back any
    transaction left open: count it back (/metrics), nothing else. asyncpg's default sends
    `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`, one more round trip
    after every statement (a dashboard's 6 statements made 12). The service leaves none of
    that behind: settings are per connection (POSTGRES_SERVER_SETTINGS) or SET LOCAL,
    advisory locks are transaction-level, cursors live inside transactions, and nothing
    LISTENs."""
    DB_POOL_IN_USE.dec()


def server_statement_timeout_ms(settings: Settings) -> int:
    """The PostgreSQL statement_timeout for the web server's connections, in milliseconds."""
    return round((settings.request_timeout_seconds + STATEMENT_TIMEOUT_MARGIN_SECONDS) * 1000)


class DatabaseConfigError(ValueError):
    """The database URL is unusable; the message says why, without a stack trace."""


class Dialect(Enum):
    SQLITE = "sqlite"
    POSTGRES = "postgres"


# application_name of the service's connections (pg_stat_activity): the primary's, the read
# replicas' reads, and their lag checks.
PRIMARY_APPLICATION_NAME = "aize-analytics"
REPLICA_APPLICATION_NAME = "aize-analytics-read"
CHECK_APPLICATION_NAME = "aize-analytics-replica-check"


def tortoise_config(
    settings: Settings, *, statement_timeout_ms: int | None = None
) -> dict[str, Any]:
    """Tortoise configuration for the settings' database URL (statement timeout: Postgres)."""
    url = settings.database_url
    connections_config: dict[str, Any] = {}
    if url.startswith("sqlite://"):
        _check_sqlite_path(settings)
        connections_config["default"] = expand_db_url(url)
    elif url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        connections_config["default"] = _postgres_connection(
            url, settings, statement_timeout_ms, PRIMARY_APPLICATION_NAME
        )
    else:
        scheme = url.split("://", 1)[0] if "://" in url else url
        raise DatabaseConfigError(
            f"AIZE_DATABASE_URL: unsupported database {scheme!r}; "
            "use sqlite://PATH or postgres://USER@HOST:PORT/DB"
        )
    return {
        "connections": connections_config,
        "apps": {
            "models": {
                "models": list(MODEL_MODULES),
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _postgres_connection(
    url: str, settings: Settings, statement_timeout_ms: int | None, application_name: str
) -> dict[str, Any]:
    connection: dict[str, Any] = expand_db_url("asyncpg://" + url.split("://", 1)[1])
    credentials = connection["credentials"]
    credentials["maxsize"] = settings.db_pool_max
    credentials["minsize"] = 1
    credentials["server_settings"] = {
        **POSTGRES_SERVER_SETTINGS,
        "application_name": application_name,
    }
    credentials["reset"] = keep_session
    credentials["setup"] = count_acquired
    if statement_timeout_ms is not None:
        credentials["server_settings"]["statement_timeout"] = str(statement_timeout_ms)
    return connection


def replica_clients(
    settings: Settings, statement_timeout_ms: int | None
) -> list[read_replicas.ReplicaClients]:
    """Per AIZE_DATABASE_READ_URLS entry: its address (host:port/database, no user or
    password), the pool its reads use and a one-connection pool for its checks (both
    connect on first use). Not registered with Tortoise: its `in_transaction()` needs a
    connection name as soon as two are, and nothing but `fetch_rows`/`fetch_all` with
    `may_lag` reads a replica."""
    found = []
    for position, url in enumerate(settings.database_read_urls, start=1):
        label = read_replicas.replica_label(position)
        reads = _postgres_connection(url, settings, statement_timeout_ms, REPLICA_APPLICATION_NAME)
        checks = _postgres_connection(url, settings, statement_timeout_ms, CHECK_APPLICATION_NAME)
        credentials = reads["credentials"]
        checks["credentials"].update(minsize=1, maxsize=1)
        found.append(
            read_replicas.ReplicaClients(
                address=f"{credentials['host']}:{credentials['port']}/{credentials['database']}",
                reads=AsyncpgDBClient(connection_name=label, **credentials),
                checks=AsyncpgDBClient(connection_name=f"{label}_check", **checks["credentials"]),
            )
        )
    return found


def _check_sqlite_path(settings: Settings) -> None:
    # aiosqlite never reports a file it cannot open (the connect hangs), so check first.
    path = settings.sqlite_path()
    if path is None:
        return
    folder = path.resolve().parent
    if not folder.is_dir():
        raise DatabaseConfigError(f"AIZE_DATABASE_URL: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise DatabaseConfigError(f"AIZE_DATABASE_URL: folder {folder} is not writable")


async def init_database(
    settings: Settings, *, migrate: bool = False, statement_timeout_ms: int | None = None
) -> None:
    """Connect (and optionally apply migrations), or raise DatabaseConfigError saying why.
    With read replicas configured, checks them at once and then every
    AIZE_READ_REPLICA_CHECK_SECONDS until `close_database()` (a replica that is down does
    not stop the start: reads go to the primary until it answers)."""
    config = tortoise_config(settings, statement_timeout_ms=statement_timeout_ms)
    if migrate:
        await apply_migrations(settings)
    try:
        await Tortoise.init(config=config, _enable_global_fallback=True)
        await connection().execute_query("SELECT 1")
    except DatabaseConfigError:
        raise
    except Exception as exc:  # driver errors vary; the user needs one clear line
        raise DatabaseConfigError(f"cannot connect to the database: {_describe(exc)}") from exc
    if settings.database_read_urls:
        replicas = read_replicas.ReadReplicas(
            replica_clients(settings, statement_timeout_ms),
            max_lag_seconds=settings.read_replica_max_lag_seconds,
            check_seconds=settings.read_replica_check_seconds,
        )
        await replicas.check()
        read_replicas.configure(replicas)
        replicas.start()


async def apply_migrations(settings: Settings) -> None:
    """Apply every pending migration; raises DatabaseConfigError when the DB is unreachable."""
    from tortoise.migrations.api.migrate import migrate

    config = tortoise_config(settings)
    try:
        await migrate(config=config)
    except Exception as exc:  # unreachable server, bad path, no permission: one clear line
        log.debug("migration failed", exc_info=True)
        raise DatabaseConfigError(f"cannot migrate the database: {_describe(exc)}") from exc
    finally:
        await Tortoise.close_connections()


async def close_database() -> None:
    replicas = read_replicas.configured()
    if replicas is not None:
        read_replicas.configure(None)
        await replicas.stop()
    await Tortoise.close_connections()


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def connection() -> BaseDBAsyncClient:
    """The default connection (a pool on PostgreSQL)."""
    client: BaseDBAsyncClient = connections.get("default")
    return client


def dialect_of(conn: BaseDBAsyncClient) -> Dialect:
    name = type(conn).__module__
    return Dialect.SQLITE if ".sqlite" in name else Dialect.POSTGRES


def current_dialect() -> Dialect:
    return dialect_of(connection())


class Params:
    """Collects query parameters and hands out the dialect's placeholders (? or $n)."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self.values: list[Any] = []

    def add(self, value: Any) -> str:
        """Register one value; returns its placeholder."""
        if isinstance(value, datetime):
            value = to_utc(value)
        self.values.append(value)
        return "?" if self.dialect is Dialect.SQLITE else f"${len(self.values)}"

    def add_list(self, values: Sequence[Any]) -> str:
        """Placeholders for an IN (...) list; the caller guarantees it is non-empty."""
        return ", ".join(self.add(v) for v in values)


def to_utc(value: datetime) -> datetime:
    """The same instant in UTC; naive datetimes are refused rather than guessed."""
    if value.tzinfo is None:
        raise ValueError("naive datetime reached the database layer")
    return value.astimezone(UTC)


def parse_db_datetime(value: Any) -> datetime:
    """A timestamp as read back by either driver (SQLite gives text), as an aware UTC datetime."""
    if isinstance(value, datetime):
        return to_utc(value) if value.tzinfo else value.replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(str(value))
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def fetch_all(
    sql: str, params: Params, conn: BaseDBAsyncClient | None = None, *, may_lag: bool = False
) -> list[dict[str, Any]]:
    """Run a read query; rows as dicts. `may_lag`: the answer may come from a read replica
    (models/read_replicas.py) when the request allows it."""
    if conn is None and may_lag:
        label = read_replicas.replica_for_read(connection())
        if label is not None:
            try:
                return list(
                    await read_replicas.client(label).execute_query_dict(sql, params.values)
                )
            except Exception as exc:
                if not read_replicas.skip_unreachable(label, exc):
                    raise
    client = conn or connection()
    return list(await client.execute_query_dict(sql, params.values))


async def fetch_rows(
    sql: str, params: Params, *, may_lag: bool = False
) -> Sequence[Mapping[str, Any]]:
    """Run a read query; rows to read by column name. On PostgreSQL these are asyncpg's own
    records, not copied into dicts: the rollup readers receive hundreds of rows per request,
    and the copy cost ~3 ms of a dashboard's CPU. Logged like every ORM statement.
    `may_lag`: the answer may come from a read replica when the request allows it."""
    primary = connection()
    if params.dialect is Dialect.SQLITE:
        return await primary.execute_query_dict(sql, params.values)
    label = read_replicas.replica_for_read(primary) if may_lag else None
    if label is not None:
        try:
            return await _fetch_records(read_replicas.client(label), sql, params)
        except Exception as exc:
            if not read_replicas.skip_unreachable(label, exc):
                raise
    return await _fetch_records(primary, sql, params)


async def _fetch_records(
    client: BaseDBAsyncClient, sql: str, params: Params
) -> Sequence[Mapping[str, Any]]:
    async with client.acquire_connection() as raw:
        client.log.debug("%s: %s", sql, params.values)
        records: Sequence[Mapping[str, Any]] = await raw.fetch(sql, *params.values)
        return records


@cache
def model_columns(model: type[Model]) -> tuple[str, ...]:
    """The columns the ORM builds a `model` instance from (what `model_from_row` needs)."""
    meta = model._meta
    fields = (*meta.db_native_fields, *meta.db_default_fields, *meta.db_complex_fields)
    return tuple(sorted(column for column, _, _ in fields))


def model_from_row(model: type[ModelT], row: Mapping[str, Any], prefix: str = "") -> ModelT:
    """A `model` instance from a row holding its `model_columns` (each named `prefix` +
    column), converted as the ORM converts its own rows."""
    return model._init_from_db(**{column: row[prefix + column] for column in model_columns(model)})


async def load_models(
    model: type[ModelT], conditions: Sequence[str], params: Params
) -> list[ModelT]:
    """The `model` rows matching every condition, with one prebuilt statement (the ORM's query
    builder costs a term object per value of an IN list, ~1 ms for a page's keys)."""
    columns = ", ".join(f'"{column}"' for column in model_columns(model))
    sql = f'SELECT {columns} FROM "{model._meta.db_table}" WHERE ' + " AND ".join(conditions)
    return [model_from_row(model, row) for row in await fetch_rows(sql, params)]
