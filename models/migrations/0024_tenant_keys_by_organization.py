"""Every tenant table's primary key holds organization_id (PostgreSQL), as Citus needs of a
table distributed by it (docs/SCALING.md): what 0021 did for the rollups, for the rest.

- The tables keyed by a surrogate `id` get PRIMARY KEY (id, organization_id). `id` still
  comes from its sequence, so it stays unique; it leads the key so every lookup by id alone
  (ORM saves and deletes, the alert worker's claim) keeps its index probe, and the
  per-organization reads keep the indexes they already have.
- The foreign keys that pointed at those `id`s become composite, (organization_id, x_id)
  -> (organization_id, id), with the same ON DELETE: a row can now only reference a row of
  its own organization, and SET NULL clears only the reference, not organization_id.
- The tag and end-user cubes of 0019 get (organization_id, id), as 0021 gave the others.
- An index an operator built beforehand, concurrently, under the name `{table}_pkey_0024`
  with the new key's columns is adopted instead of building one under the table's lock.
- request_log gets (id, organization_id, timestamp): the key is rebuilt on every partition,
  under the partition's own constraint name, which maintenance copies to each new month
  (models/request_log_partitions.py reads the parent's definition).

Left as they are (tests/test_citus_readiness.py says why): request_id_seen (request_id) and
access_token (token_hash). SQLite: a no-op (one database, nothing to distribute).
"""

from tortoise import migrations
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from models.database import Dialect, dialect_of

_SURROGATE_TABLES = (
    "access_token",
    "alert_delivery",
    "alert_event",
    "alert_rule",
    "api_key",
    "audit_entry",
    "limit_request",
    "member",
    "organization_pricing",
    "report",
    "report_schedule",
    "spend_counter",
    "wallet_entry",
)
# The attribution cubes at the grains 0020 kept.
_CUBES = (
    "usage_cube_tag_hour",
    "usage_cube_tag_day",
    "usage_cube_team_tag_hour",
    "usage_cube_team_tag_day",
    "usage_cube_end_user_day",
)
# (table, column, referenced table, on delete) of every foreign key into a surrogate table.
_FOREIGN_KEYS = (
    ("access_token", "member_id", "member", "CASCADE"),
    ("alert_delivery", "event_id", "alert_event", "CASCADE"),
    ("alert_event", "acknowledged_by_id", "member", "SET NULL"),
    ("alert_event", "rule_id", "alert_rule", "SET NULL"),
    ("alert_rule", "api_key_id", "api_key", "CASCADE"),
    ("api_key", "owner_id", "member", "SET NULL"),
    ("limit_request", "api_key_id", "api_key", "CASCADE"),
    ("wallet_entry", "created_by_id", "member", "SET NULL"),
)
_REQUEST_LOG = "request_log"


async def _drop_foreign_keys(conn: BaseDBAsyncClient) -> None:
    for table, column, _, _ in _FOREIGN_KEYS:
        await conn.execute_script(f"ALTER TABLE {table} DROP CONSTRAINT {table}_{column}_fkey")


async def _set_primary_key(conn: BaseDBAsyncClient, table: str, columns: str) -> None:
    """Key `table` by `columns`, adopting the index `{table}_pkey_0024` when an operator
    built it beforehand (CREATE UNIQUE INDEX CONCURRENTLY, docs/SCALING.md): the table is
    then locked only for the swap, not for an index build."""
    prebuilt = f"{table}_pkey_0024"
    found = await conn.execute_query_dict(
        "SELECT pg_get_indexdef(x.indexrelid) AS definition FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = $1::regclass AND i.relname = $2 AND x.indisvalid",
        [table, prebuilt],
    )
    expected = f"CREATE UNIQUE INDEX {prebuilt} ON public.{table} USING btree ({columns})"
    if found and found[0]["definition"] == expected:
        key = f"PRIMARY KEY USING INDEX {prebuilt}"
    else:
        key = f"PRIMARY KEY ({columns})"
    await conn.execute_script(
        f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey, ADD CONSTRAINT {table}_pkey {key}"
    )


async def _set_request_log_key(conn: BaseDBAsyncClient, columns: str) -> None:
    """Rebuild request_log's primary key on `columns`, each partition's under the name it
    had (request_log_pkey_pYYYY_MM), then the parent's, which adopts them."""
    partitions = await conn.execute_query_dict(
        "SELECT c.relname AS partition, con.conname AS key FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_constraint con ON con.conrelid = c.oid AND con.contype = 'p' "
        "WHERE i.inhparent = $1::regclass",
        [_REQUEST_LOG],
    )
    if not partitions:  # not partitioned (or no partition yet): one table
        await _set_primary_key(conn, _REQUEST_LOG, columns)
        return
    await conn.execute_script(f"ALTER TABLE {_REQUEST_LOG} DROP CONSTRAINT {_REQUEST_LOG}_pkey")
    for row in partitions:
        await conn.execute_script(
            f'ALTER TABLE {row["partition"]} ADD CONSTRAINT "{row["key"]}" PRIMARY KEY ({columns})'
        )
    await conn.execute_script(
        f"ALTER TABLE {_REQUEST_LOG} ADD CONSTRAINT {_REQUEST_LOG}_pkey PRIMARY KEY ({columns})"
    )


async def key_by_organization(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    if dialect_of(conn) is not Dialect.POSTGRES:
        return
    # Index builds of the biggest keys (request_log's): more memory sorts them in one pass.
    await conn.execute_script("SET LOCAL maintenance_work_mem = '256MB'")
    await _drop_foreign_keys(conn)
    for table in _SURROGATE_TABLES:
        await _set_primary_key(conn, table, "id, organization_id")
    for table, column, referenced, on_delete in _FOREIGN_KEYS:
        # SET NULL (column): organization_id stays (it is NOT NULL and the row's own).
        action = f"SET NULL ({column})" if on_delete == "SET NULL" else on_delete
        await conn.execute_script(
            f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fkey "
            f"FOREIGN KEY (organization_id, {column}) "
            f"REFERENCES {referenced} (organization_id, id) ON DELETE {action}"
        )
    for table in _CUBES:
        await _set_primary_key(conn, table, "organization_id, id")
    await _set_request_log_key(conn, "id, organization_id, timestamp")


async def key_by_id(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    if dialect_of(conn) is not Dialect.POSTGRES:
        return
    await conn.execute_script("SET LOCAL maintenance_work_mem = '256MB'")
    await _set_request_log_key(conn, "id, timestamp")
    for table in _CUBES:
        await _set_primary_key(conn, table, "id")
    await _drop_foreign_keys(conn)
    for table in _SURROGATE_TABLES:
        await _set_primary_key(conn, table, "id")
    for table, column, referenced, on_delete in _FOREIGN_KEYS:
        await conn.execute_script(
            f"ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fkey "
            f"FOREIGN KEY ({column}) REFERENCES {referenced} (id) ON DELETE {on_delete}"
        )


class Migration(migrations.Migration):
    dependencies = [("models", "0022_fold_pending")]

    initial = False

    operations = [ops.RunPython(key_by_organization, key_by_id)]
