"""The provider of each request (OpenAI, Anthropic, Google, ...): a `provider` column on
`request_log` and on the full usage rollup (`usage_rollup_{quarter,hour,day}`), which also
joins that rollup's unique key (the upsert target), so PROVIDER is a breakdown dimension and
a filter like the others (ingestion/providers.py decides it at ingest).

Existing rows are back-filled the way ingest decides for a record without a `provider`
field: the catalog in effect (the shipped prices.json plus the `model_price` table) names
the provider of the provider model, else of the alias; other rows keep "unknown". Models
match case-insensitively (ASCII; the catalog's model names are ASCII). The full rollup's
rows carry both the provider model and the alias, so the same rule back-fills them and
every rollup row still equals its scan of the raw log. The cubes have no provider column.

Database side by dialect (one RunPython), the model changes recorded by `StateOnly`:
- PostgreSQL: ADD COLUMN ... DEFAULT 'unknown' (no table rewrite; on the partitioned
  request_log it reaches every partition), UPDATE from the catalog, and each full rollup
  table's unique constraint dropped and re-added with `provider` last (same name);
- SQLite: the same columns and UPDATE; a table's UNIQUE constraint cannot be altered, so
  each full rollup table is rebuilt (create, copy, drop, rename) with the wider key.
Irreversible only in spirit: backwards drops the column and restores the old key, which
fails (as it must) when two rows now differ only by provider.
"""

from tortoise import fields, migrations
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state import State
from tortoise.migrations.schema_generator.state_apps import StateApps

from models.database import Dialect, dialect_of, parse_db_datetime
from pricing.catalog import ModelPrice, PriceCatalog, load_default_catalog

_ROLLUP_TABLES = ("usage_rollup_quarter", "usage_rollup_hour", "usage_rollup_day")
_OLD_KEY = (
    "organization_id, bucket_start, api_key_id, member_id, model, provider_model, endpoint, "
    "status_code"
)
_NEW_KEY = f"{_OLD_KEY}, provider"
_ADD_COLUMN = "ALTER TABLE {table} ADD COLUMN provider VARCHAR(50) NOT NULL DEFAULT 'unknown'"
_MAP = "provider_backfill_0015"
# The rollup table as 0001 created it on SQLite, with the provider column and wider key.
_SQLITE_ROLLUP = """CREATE TABLE "{table}" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "organization_id" INT NOT NULL,
    "bucket_start" TIMESTAMP NOT NULL,
    "api_key_id" INT NOT NULL,
    "member_id" INT NOT NULL,
    "model" VARCHAR(100) NOT NULL,
    "provider_model" VARCHAR(100) NOT NULL,
    "endpoint" VARCHAR(200) NOT NULL,
    "status_code" SMALLINT NOT NULL,
    "requests" BIGINT NOT NULL,
    "successful" BIGINT NOT NULL,
    "client_errors" BIGINT NOT NULL,
    "server_errors" BIGINT NOT NULL,
    "unpriced" BIGINT NOT NULL,
    "input_tokens" BIGINT NOT NULL,
    "output_tokens" BIGINT NOT NULL,
    "provider_cost_nanos" BIGINT NOT NULL,
    "markup_nanos" BIGINT NOT NULL,
    "fixed_fee_nanos" BIGINT NOT NULL,
    "customer_cost_nanos" BIGINT NOT NULL,
    "latency_ms_sum" BIGINT NOT NULL,
    "provider" VARCHAR(50) NOT NULL DEFAULT 'unknown',
    CONSTRAINT "uid_{name}_provider" UNIQUE ({key})
)"""
_SQLITE_COLUMNS = (
    "id, organization_id, bucket_start, api_key_id, member_id, model, provider_model, "
    "endpoint, status_code, requests, successful, client_errors, server_errors, unpriced, "
    "input_tokens, output_tokens, provider_cost_nanos, markup_nanos, fixed_fee_nanos, "
    "customer_cost_nanos, latency_ms_sum, provider"
)


class StateOnly(ops.TortoiseOperation):
    """`operation`'s change to the migration state, without its SQL (the RunPython below
    changes the database)."""

    def __init__(self, operation: ops.TortoiseOperation) -> None:
        self.operation = operation

    def describe(self) -> str:
        return f"{self.operation.describe()} (state only)"

    def state_forward(self, app_label: str, state: State) -> None:
        self.operation.state_forward(app_label, state)


async def _catalog(conn: BaseDBAsyncClient) -> PriceCatalog:
    """The catalog in effect (ingestion.catalog_store.load_catalog, on this connection)."""
    catalog = load_default_catalog()
    rows = await conn.execute_query_dict(
        "SELECT model, provider, input_per_million_nanos, output_per_million_nanos, "
        "effective_from FROM model_price ORDER BY model, effective_from"
    )
    for row in rows:
        catalog = catalog.with_price(
            ModelPrice(
                model=str(row["model"]),
                provider=str(row["provider"]),
                input_per_million_nanos=int(row["input_per_million_nanos"]),
                output_per_million_nanos=int(row["output_per_million_nanos"]),
                effective_from=parse_db_datetime(row["effective_from"]),
            )
        )
    return catalog


async def _backfill(conn: BaseDBAsyncClient, dialect: Dialect) -> None:
    """Set `provider` on request_log and the full rollup from the catalog: the provider
    model's provider, else the alias's (ingestion.providers.resolve_provider)."""
    catalog = await _catalog(conn)
    providers = {
        model.lower(): (catalog.provider_of(model) or "unknown").strip().lower()
        for model in catalog.models()
    }
    if not providers:
        return
    await conn.execute_script(
        f"CREATE TEMPORARY TABLE {_MAP} (model VARCHAR(100) PRIMARY KEY, provider VARCHAR(50))"
    )
    marks = ", ".join(
        f"(${2 * i + 1}, ${2 * i + 2})" if dialect is Dialect.POSTGRES else "(?, ?)"
        for i in range(len(providers))
    )
    values = [v for pair in sorted(providers.items()) for v in pair]
    await conn.execute_query(f"INSERT INTO {_MAP} (model, provider) VALUES {marks}", values)
    for table in ("request_log", *_ROLLUP_TABLES):
        await conn.execute_script(
            f"UPDATE {table} SET provider = COALESCE("
            f"(SELECT p.provider FROM {_MAP} p WHERE p.model = lower({table}.provider_model)), "
            f"(SELECT p.provider FROM {_MAP} p WHERE p.model = lower({table}.model))) "
            f"WHERE lower(provider_model) IN (SELECT model FROM {_MAP}) "
            f"OR lower(model) IN (SELECT model FROM {_MAP})"
        )
    await conn.execute_script(f"DROP TABLE {_MAP}")


async def _rekey_postgres(conn: BaseDBAsyncClient, key: str) -> None:
    for table in _ROLLUP_TABLES:
        rows = await conn.execute_query_dict(
            "SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'u'",
            [table],
        )
        for row in rows:
            name = row["conname"]
            await conn.execute_script(
                f'ALTER TABLE {table} DROP CONSTRAINT "{name}", '
                f'ADD CONSTRAINT "{name}" UNIQUE ({key})'
            )


async def _rebuild_sqlite(conn: BaseDBAsyncClient, key: str) -> None:
    for table in _ROLLUP_TABLES:
        await conn.execute_script(
            f"{_SQLITE_ROLLUP.format(table=f'{table}_new', name=table, key=key)};\n"
            f"INSERT INTO {table}_new ({_SQLITE_COLUMNS}) "
            f"SELECT {_SQLITE_COLUMNS} FROM {table};\n"
            f"DROP TABLE {table};\n"
            f"ALTER TABLE {table}_new RENAME TO {table}"
        )


async def add_provider(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    dialect = dialect_of(conn)
    for table in ("request_log", *_ROLLUP_TABLES):
        await conn.execute_script(_ADD_COLUMN.format(table=table))
    await _backfill(conn, dialect)
    if dialect is Dialect.POSTGRES:
        await _rekey_postgres(conn, _NEW_KEY)
    else:
        await _rebuild_sqlite(conn, _NEW_KEY)


async def drop_provider(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    if dialect_of(conn) is Dialect.POSTGRES:
        await _rekey_postgres(conn, _OLD_KEY)
    else:
        # Rebuilt with the old key first: SQLite drops no column a constraint names.
        await _rebuild_sqlite(conn, _OLD_KEY)
    for table in ("request_log", *_ROLLUP_TABLES):
        await conn.execute_script(f"ALTER TABLE {table} DROP COLUMN provider")


def _provider_field() -> fields.CharField:
    return fields.CharField(max_length=50, default="unknown", db_default="unknown")


class Migration(migrations.Migration):
    dependencies = [("models", "0015_service_lease")]

    initial = False

    operations = [
        StateOnly(ops.AddField(model_name="RequestLog", name="provider", field=_provider_field())),
        *(
            StateOnly(ops.AddField(model_name=model, name="provider", field=_provider_field()))
            for model in ("UsageRollupQuarter", "UsageRollupHour", "UsageRollupDay")
        ),
        ops.RunPython(add_provider, drop_provider),
    ]
