"""request_log for growth and ingest speed: monthly partitions on PostgreSQL, request ids
claimed in `request_id_seen`, no foreign keys, a partial index for unpriced logs.

The model changes (no unique request_id, FKs without constraints, the partial index) are
recorded in the migration state only (`StateOnly`): Tortoise cannot create a partitioned
table, and SQLite cannot drop a constraint without rebuilding the table, so the database
side is one `RunPython` per dialect that rebuilds `request_log` and keeps every row and id:

- PostgreSQL: a new `request_log` PARTITION BY RANGE (timestamp), with the default partition
  and one partition per month from the earliest stored row's month (at the latest, the
  previous month) to two months ahead; the old rows are copied in one pass (each row is
  routed to its month), the old table dropped, the id sequence handed over.
- SQLite: the same plain table without the foreign keys and the unique request_id.

On both, every stored request id is registered in `request_id_seen`. Irreversible: going
back would need the global unique index on a partitioned table, which PostgreSQL cannot
have.
"""

from datetime import UTC, datetime
from uuid import uuid4

from tortoise import fields, migrations
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index, PartialIndex
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state import State
from tortoise.migrations.schema_generator.state_apps import StateApps

from models.database import Dialect, dialect_of
from models.request_log_partitions import (
    MonthPartition,
    add_default_partition,
    add_month_partition,
    add_months,
    month_start,
)

# Columns after the id, as 0001 created them (the foreign key columns last).
_COLUMNS = (
    "request_id, timestamp, model, provider_model, endpoint, input_tokens, output_tokens, "
    "total_tokens, provider_cost_nanos, markup_nanos, fixed_fee_nanos, customer_cost_nanos, "
    "priced, latency_ms, status_code, error_message, metadata, request_body, response_body, "
    "ingested_at, api_key_id, member_id, organization_id"
)
_INDEXES = (
    'CREATE INDEX request_log_org_ts ON request_log (organization_id, "timestamp", id)',
    'CREATE INDEX request_log_org_key_ts ON request_log (organization_id, api_key_id, "timestamp")',
    'CREATE INDEX request_log_org_mem_ts ON request_log (organization_id, member_id, "timestamp")',
    "CREATE INDEX request_log_unpriced ON request_log (organization_id, id) WHERE priced = false",
)
_OLD_INDEXES = (
    "request_log_org_ts",
    "request_log_org_key_ts",
    "request_log_org_mem_ts",
    "request_log_org_priced",
)
_REGISTER_IDS = (
    "INSERT INTO request_id_seen (request_id, organization_id, timestamp) "
    "SELECT request_id, organization_id, timestamp FROM {source}"
)
_POSTGRES_TABLE = """
CREATE TABLE request_log (
    id bigint NOT NULL DEFAULT nextval('{sequence}'),
    request_id uuid NOT NULL,
    "timestamp" timestamptz NOT NULL,
    model varchar(100) NOT NULL,
    provider_model varchar(100) NOT NULL,
    endpoint varchar(200) NOT NULL,
    input_tokens bigint NOT NULL,
    output_tokens bigint NOT NULL,
    total_tokens bigint NOT NULL,
    provider_cost_nanos bigint NOT NULL,
    markup_nanos bigint NOT NULL,
    fixed_fee_nanos bigint NOT NULL,
    customer_cost_nanos bigint NOT NULL,
    priced boolean NOT NULL,
    latency_ms integer NOT NULL,
    status_code smallint NOT NULL,
    error_message text,
    metadata jsonb,
    request_body text,
    response_body text,
    ingested_at timestamptz NOT NULL,
    api_key_id integer NOT NULL,
    member_id integer,
    organization_id integer NOT NULL,
    CONSTRAINT request_log_pkey PRIMARY KEY (id, "timestamp")
) PARTITION BY RANGE ("timestamp")
"""
_SQLITE_TABLE = """
CREATE TABLE "request_log_rebuilt" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "request_id" CHAR(36) NOT NULL,
    "timestamp" TIMESTAMP NOT NULL,
    "model" VARCHAR(100) NOT NULL,
    "provider_model" VARCHAR(100) NOT NULL,
    "endpoint" VARCHAR(200) NOT NULL,
    "input_tokens" BIGINT NOT NULL,
    "output_tokens" BIGINT NOT NULL,
    "total_tokens" BIGINT NOT NULL,
    "provider_cost_nanos" BIGINT NOT NULL,
    "markup_nanos" BIGINT NOT NULL,
    "fixed_fee_nanos" BIGINT NOT NULL,
    "customer_cost_nanos" BIGINT NOT NULL,
    "priced" INT NOT NULL,
    "latency_ms" INT NOT NULL,
    "status_code" SMALLINT NOT NULL,
    "error_message" TEXT,
    "metadata" JSON,
    "request_body" TEXT,
    "response_body" TEXT,
    "ingested_at" TIMESTAMP NOT NULL,
    "api_key_id" INT NOT NULL,
    "member_id" INT,
    "organization_id" INT NOT NULL
)
"""


class StateOnly(ops.TortoiseOperation):
    """`operation`'s change to the migration state, without its SQL (the RunPython below
    changes the database)."""

    def __init__(self, operation: ops.TortoiseOperation) -> None:
        self.operation = operation

    def describe(self) -> str:
        return f"{self.operation.describe()} (state only)"

    def state_forward(self, app_label: str, state: State) -> None:
        self.operation.state_forward(app_label, state)


async def rebuild_request_log(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    if dialect_of(conn) is Dialect.SQLITE:
        await _rebuild_on_sqlite(conn)
    else:
        await _partition_on_postgres(conn, datetime.now(UTC))


async def _partition_on_postgres(conn: BaseDBAsyncClient, now: datetime) -> None:
    rows = await conn.execute_query_dict(
        "SELECT pg_get_serial_sequence('request_log', 'id') AS sequence, "
        "(SELECT min(timestamp) FROM request_log) AS earliest"
    )
    sequence, earliest = rows[0]["sequence"], rows[0]["earliest"]
    # Keep the id sequence (ids are public: global ids, cursors) when the old table goes.
    await conn.execute_script(f"ALTER SEQUENCE {sequence} OWNED BY NONE")
    await conn.execute_script("ALTER TABLE request_log RENAME TO request_log_unpartitioned")
    await conn.execute_script(f"DROP INDEX {', '.join(_OLD_INDEXES)}")
    await conn.execute_script(
        "ALTER TABLE request_log_unpartitioned "
        "RENAME CONSTRAINT request_log_pkey TO request_log_unpartitioned_pkey"
    )
    await conn.execute_script(_POSTGRES_TABLE.format(sequence=sequence))
    for statement in _INDEXES:
        await conn.execute_script(statement)
    await add_default_partition(conn)
    current = month_start(now)
    first = add_months(current, -1)
    if earliest is not None:
        first = min(first, month_start(earliest))
    month = first
    while month <= add_months(current, 2):
        await add_month_partition(conn, MonthPartition.of(month))
        month = add_months(month, 1)
    # One pass: PostgreSQL routes every row to its month's partition.
    await conn.execute_script(
        f"INSERT INTO request_log (id, {_COLUMNS}) "
        f"SELECT id, {_COLUMNS} FROM request_log_unpartitioned"
    )
    await conn.execute_script(_REGISTER_IDS.format(source="request_log_unpartitioned"))
    await conn.execute_script("DROP TABLE request_log_unpartitioned")
    await conn.execute_script(f"ALTER SEQUENCE {sequence} OWNED BY request_log.id")
    await conn.execute_script("ANALYZE request_log")


async def _rebuild_on_sqlite(conn: BaseDBAsyncClient) -> None:
    await conn.execute_script(_SQLITE_TABLE)
    await conn.execute_script(
        f"INSERT INTO request_log_rebuilt (id, {_COLUMNS}) SELECT id, {_COLUMNS} FROM request_log"
    )
    await conn.execute_script(_REGISTER_IDS.format(source="request_log"))
    await conn.execute_script("DROP TABLE request_log")
    await conn.execute_script("ALTER TABLE request_log_rebuilt RENAME TO request_log")
    for statement in _INDEXES:
        await conn.execute_script(statement)


class Migration(migrations.Migration):
    dependencies = [("models", "0005_rollup_cubes")]

    initial = False

    operations = [
        ops.CreateModel(
            name="RequestIdSeen",
            fields=[
                (
                    "request_id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                ("organization_id", fields.IntField()),
                ("timestamp", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "request_id_seen",
                "app": "models",
                "indexes": [Index(fields=["timestamp"], name="request_id_seen_ts")],
                "pk_attr": "request_id",
                "table_description": (
                    "A stored request id, claimed by ingest in the transaction that stores "
                    "the log."
                ),
            },
            bases=["Model"],
        ),
        StateOnly(ops.RemoveIndex(model_name="RequestLog", name="request_log_org_priced")),
        StateOnly(
            ops.AlterField(
                model_name="RequestLog",
                name="api_key",
                field=fields.ForeignKeyField(
                    "models.ApiKey",
                    source_field="api_key_id",
                    db_constraint=False,
                    to_field="id",
                    related_name="request_logs",
                    on_delete=OnDelete.CASCADE,
                ),
            )
        ),
        StateOnly(
            ops.AlterField(
                model_name="RequestLog",
                name="member",
                field=fields.ForeignKeyField(
                    "models.Member",
                    source_field="member_id",
                    null=True,
                    db_constraint=False,
                    to_field="id",
                    related_name="request_logs",
                    on_delete=OnDelete.SET_NULL,
                ),
            )
        ),
        StateOnly(
            ops.AlterField(
                model_name="RequestLog",
                name="organization",
                field=fields.ForeignKeyField(
                    "models.Organization",
                    source_field="organization_id",
                    db_constraint=False,
                    to_field="id",
                    related_name="request_logs",
                    on_delete=OnDelete.CASCADE,
                ),
            )
        ),
        StateOnly(ops.AlterField(model_name="RequestLog", name="request_id", field=fields.UUIDField())),
        StateOnly(
            ops.AddIndex(
                model_name="RequestLog",
                index=PartialIndex(
                    fields=["organization_id", "id"],
                    name="request_log_unpriced",
                    condition={"priced": False},
                ),
            )
        ),
        ops.RunPython(rebuild_request_log),
    ]
