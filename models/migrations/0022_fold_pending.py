"""Rollups folded after the commit (ingestion/folding.py): `fold_pending`, the committed raw
rows whose rollups are still to be folded.

The ingest transaction records each new log here (its id, organization and timestamp) in
the same round trip that stores it; the folder deletes a batch of these rows and applies
exactly their rollups in one transaction, and every rollup read adds the raw rows still
listed here (resolvers/fold_tail.py). A watermark on request_log.id would not do: concurrent
transactions commit out of id order, so a row with a smaller id can become visible after
the watermark passed it.

- primary key (log_id, organization_id): the folder takes the oldest ids first through it;
  organization_id in every key, as Citus needs of a tenant table (docs/SCALING.md);
- index (organization_id, timestamp): a read finds its organization's pending rows in its
  time range;
- autovacuum after every 10,000 deleted rows whatever the table's size: a queue's rows are
  all deleted soon after they are written.

SQLite folds in the ingest transaction (the table exists there, always empty).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from models.database import Dialect, dialect_of

_POSTGRES = """
CREATE TABLE fold_pending (
    log_id bigint NOT NULL,
    organization_id integer NOT NULL,
    "timestamp" timestamptz NOT NULL,
    queued_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT fold_pending_pkey PRIMARY KEY (log_id, organization_id)
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
        autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 10000);
CREATE INDEX fold_pending_org_ts ON fold_pending (organization_id, "timestamp")
"""
_SQLITE = """
CREATE TABLE fold_pending (
    log_id BIGINT NOT NULL,
    organization_id INT NOT NULL,
    "timestamp" TIMESTAMP NOT NULL,
    queued_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (log_id, organization_id)
)
"""


async def create_fold_pending(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    await conn.execute_script(_POSTGRES if dialect_of(conn) is Dialect.POSTGRES else _SQLITE)


async def drop_fold_pending(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    # Going back to folding at ingest: whatever is still pending must be folded first
    # (`aize-analytics fold --drain`), or its rollups are lost.
    await schema_editor.client.execute_script("DROP TABLE fold_pending")


class Migration(migrations.Migration):
    dependencies = [("models", "0021_rollup_keys_by_organization")]

    initial = False

    operations = [ops.RunPython(create_fold_pending, drop_fold_pending)]
