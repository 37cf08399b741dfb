"""Indexes for request logs in other orders, looked up by request id, and searched.

- request_log_org_cost (organization_id, customer_cost_nanos, id), request_log_org_latency
  (organization_id, latency_ms, id) and request_log_org_tokens (organization_id,
  total_tokens, id): a page of logs by cost, latency or tokens (resolvers/log_order.py),
  either direction, is one index range scan, filtered by the time range (on PostgreSQL
  the range first prunes the monthly partitions);
- request_log_request_id (request_id): `Organization.requestLog(requestId:)` (the global
  uniqueness lives in request_id_seen, which is pruned; this index keeps the lookup fast at
  any age);
- search (resolvers/log_search.py): on PostgreSQL the `pg_trgm` extension (a contrib module
  shipped with PostgreSQL) and a GIN trigram index request_log_search_trgm on the searched
  expression; on SQLite the FTS5 table request_log_search (trigram tokenizer, external
  content on request_log, filled from the stored rows here) and the triggers that keep it in
  sync on insert, delete and update of the searched columns.

On the partitioned table each index is created ON ONLY the parent, then on each partition
(named `<index>_<suffix>`) and attached, as 0008 does; months added later get them from
models/request_log_partitions.py. Tortoise's Index cannot express an expression or a GIN
index, so none of these is in the model's Meta: this migration is their only definition.
"""

from tortoise import migrations
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from models.database import Dialect, dialect_of
from models.request_log_partitions import DEFAULT_PARTITION, is_partitioned, month_partitions
from resolvers.log_search import FTS_TABLE, SEARCH_DOCUMENT

# Name and what follows `ON <table>` for each index (both backends, then PostgreSQL's own).
BTREE_INDEXES = (
    ("request_log_org_cost", "(organization_id, customer_cost_nanos, id)"),
    ("request_log_org_latency", "(organization_id, latency_ms, id)"),
    ("request_log_org_tokens", "(organization_id, total_tokens, id)"),
    ("request_log_request_id", "(request_id)"),
)
TRIGRAM_INDEX = ("request_log_search_trgm", f"USING gin ({SEARCH_DOCUMENT} gin_trgm_ops)")
_SEARCHED = "error_message, model, provider_model, endpoint"

_SQLITE_SEARCH = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5({_SEARCHED}, "
    "content='request_log', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON request_log BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, {_SEARCHED}) VALUES "
    "(new.id, new.error_message, new.model, new.provider_model, new.endpoint); END",
    f"CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON request_log BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_SEARCHED}) VALUES "
    "('delete', old.id, old.error_message, old.model, old.provider_model, old.endpoint); END",
    f"CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF {_SEARCHED} ON request_log BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_SEARCHED}) VALUES "
    "('delete', old.id, old.error_message, old.model, old.provider_model, old.endpoint); "
    f"INSERT INTO {FTS_TABLE}(rowid, {_SEARCHED}) VALUES "
    "(new.id, new.error_message, new.model, new.provider_model, new.endpoint); END",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')",
)


async def create_indexes(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    if dialect_of(conn) is Dialect.SQLITE:
        await _require_fts5(conn)
        for name, definition in BTREE_INDEXES:
            await conn.execute_script(f"CREATE INDEX {name} ON request_log {definition}")
        for statement in _SQLITE_SEARCH:
            await conn.execute_script(statement)
        return
    await conn.execute_script("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    indexes = (*BTREE_INDEXES, TRIGRAM_INDEX)
    if not await is_partitioned(conn):
        for name, definition in indexes:
            await conn.execute_script(f"CREATE INDEX {name} ON request_log {definition}")
        return
    tables = [(p.name, p.suffix) for p in await month_partitions(conn)]
    tables.append((DEFAULT_PARTITION, "default"))
    for name, definition in indexes:
        await conn.execute_script(f"CREATE INDEX {name} ON ONLY request_log {definition}")
        for table, suffix in tables:
            await conn.execute_script(f"CREATE INDEX {name}_{suffix} ON {table} {definition}")
            await conn.execute_script(f"ALTER INDEX {name} ATTACH PARTITION {name}_{suffix}")


async def _require_fts5(conn: BaseDBAsyncClient) -> None:
    """Refuse clearly when this SQLite build lacks FTS5 (Python's own builds have it)."""
    options = await conn.execute_query_dict("PRAGMA compile_options")
    if not any("ENABLE_FTS5" in str(next(iter(row.values()))) for row in options):
        raise RuntimeError(
            "this SQLite build has no FTS5 (request log search needs it): use a Python whose "
            "sqlite3 module is built with SQLITE_ENABLE_FTS5"
        )


async def drop_indexes(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    if dialect_of(conn) is Dialect.SQLITE:
        for trigger in ("insert", "delete", "update"):
            await conn.execute_script(f"DROP TRIGGER {FTS_TABLE}_{trigger}")
        await conn.execute_script(f"DROP TABLE {FTS_TABLE}")
    else:
        await conn.execute_script(f"DROP INDEX {TRIGRAM_INDEX[0]}")
    for name, _ in BTREE_INDEXES:
        await conn.execute_script(f"DROP INDEX {name}")


class Migration(migrations.Migration):
    dependencies = [("models", "0017_token_classes")]

    initial = False

    operations = [ops.RunPython(create_indexes, drop_indexes)]
