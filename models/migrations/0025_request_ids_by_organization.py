"""Ingest idempotency per organization: request_id_seen is keyed by (organization_id,
request_id) instead of request_id alone (docs/readme/ingest.md, docs/SCALING.md).

The same request id sent by two organizations is now stored for each (each organization's
own idempotency); within one organization it is still stored once. One organization's ingest
token can no longer make another organization's later record with the same id a duplicate,
and the key holds Citus's distribution column.

- PostgreSQL: the primary key is swapped in place. An index an operator built beforehand,
  concurrently, as `request_id_seen_pkey_0025` on (organization_id, request_id), is adopted
  instead of building one under the table's lock.
- SQLite: a primary key cannot be altered, so the table is rebuilt with the new key (rows
  kept) and its timestamp index recreated; ON CONFLICT (organization_id, request_id) needs
  that key.

Back: the old key again, refused with a clear error when a request id is stored for more
than one organization (the old key cannot hold both).
"""

from tortoise import migrations
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from models.database import Dialect, dialect_of

_TABLE = "request_id_seen"
_PREBUILT = f"{_TABLE}_pkey_0025"
_SQLITE_REBUILD = (
    f'CREATE TABLE "{_TABLE}_rebuilt" ('
    '"request_id" CHAR(36) NOT NULL, '
    '"organization_id" INT NOT NULL, '
    '"timestamp" TIMESTAMP NOT NULL, '
    "PRIMARY KEY ({key}))",
    f'INSERT INTO "{_TABLE}_rebuilt" (request_id, organization_id, timestamp) '
    f"SELECT request_id, organization_id, timestamp FROM {_TABLE}",
    f"DROP TABLE {_TABLE}",
    f'ALTER TABLE "{_TABLE}_rebuilt" RENAME TO {_TABLE}',
    f'CREATE INDEX "{_TABLE}_ts" ON {_TABLE} ("timestamp")',
)


async def _set_key(conn: BaseDBAsyncClient, columns: str) -> None:
    if dialect_of(conn) is Dialect.SQLITE:
        for statement in _SQLITE_REBUILD:
            await conn.execute_script(statement.format(key=columns))
        return
    found = await conn.execute_query_dict(
        "SELECT pg_get_indexdef(x.indexrelid) AS definition FROM pg_index x "
        "JOIN pg_class i ON i.oid = x.indexrelid "
        "WHERE x.indrelid = $1::regclass AND i.relname = $2 AND x.indisvalid",
        [_TABLE, _PREBUILT],
    )
    expected = f"CREATE UNIQUE INDEX {_PREBUILT} ON public.{_TABLE} USING btree ({columns})"
    if found and found[0]["definition"] == expected:
        key = f"PRIMARY KEY USING INDEX {_PREBUILT}"
    else:
        key = f"PRIMARY KEY ({columns})"
    await conn.execute_script(
        f"ALTER TABLE {_TABLE} DROP CONSTRAINT {_TABLE}_pkey, ADD CONSTRAINT {_TABLE}_pkey {key}"
    )


async def key_by_organization(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    await _set_key(schema_editor.client, "organization_id, request_id")


async def key_by_request_id(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    shared = await conn.execute_query_dict(
        f"SELECT request_id FROM {_TABLE} GROUP BY request_id HAVING count(*) > 1 LIMIT 1"
    )
    if shared:
        raise RuntimeError(
            f"cannot key {_TABLE} by request_id again: request id {shared[0]['request_id']} "
            "is stored for more than one organization (delete all but one first)"
        )
    await _set_key(conn, "request_id")


class Migration(migrations.Migration):
    dependencies = [("models", "0024_tenant_keys_by_organization")]

    initial = False

    operations = [ops.RunPython(key_by_organization, key_by_request_id)]
