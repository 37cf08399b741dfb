"""A partial index for log pages of failed requests: request_log (organization_id, timestamp,
id) WHERE status_code >= 300.

The logs table filtered to client or server errors is what an on-call engineer opens first.
With only `request_log_org_ts`, such a page walks the organization's newest logs and drops
the ~95% that succeeded: ~4,400 rows read for a page of 50 failures of one model at 10M logs.
This index holds only the failed ~5%, in page order, so the same page reads ~200; ingest
adds an index entry for failed requests only.

PostgreSQL uses it when the page's status condition implies `status_code >= 300` (the
CLIENT_ERROR/SERVER_ERROR classes, or codes of 300 and up), which it can prove because every
execution is planned with its values (`plan_cache_mode = force_custom_plan`). On the
partitioned table the parent's index is created ON ONLY the parent, then each partition's,
named `request_log_failed_ts_<suffix>` like the other partition indexes, and attached;
maintenance gives the months it adds the same index (models/request_log_partitions.py
copies the parent's indexes). SQLite keeps the index too, though its planner cannot prove
the implication from bound parameters.
Tortoise's PartialIndex only expresses equality conditions, so the index is not in the model's
Meta: this migration is its only definition.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from models.database import Dialect, dialect_of
from models.request_log_partitions import DEFAULT_PARTITION, is_partitioned, month_partitions

FAILED_INDEX = "request_log_failed_ts"
_COLUMNS = '(organization_id, "timestamp", id) WHERE status_code >= 300'


async def create_failed_index(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    if dialect_of(conn) is Dialect.SQLITE or not await is_partitioned(conn):
        await conn.execute_script(f"CREATE INDEX {FAILED_INDEX} ON request_log {_COLUMNS}")
        return
    await conn.execute_script(f"CREATE INDEX {FAILED_INDEX} ON ONLY request_log {_COLUMNS}")
    partitions = [(p.name, p.suffix) for p in await month_partitions(conn)]
    for table, suffix in [*partitions, (DEFAULT_PARTITION, "default")]:
        name = f"{FAILED_INDEX}_{suffix}"
        await conn.execute_script(f"CREATE INDEX {name} ON {table} {_COLUMNS}")
        await conn.execute_script(f"ALTER INDEX {FAILED_INDEX} ATTACH PARTITION {name}")


async def drop_failed_index(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    await schema_editor.client.execute_script(f"DROP INDEX {FAILED_INDEX}")


class Migration(migrations.Migration):
    dependencies = [("models", "0007_rollup_fillfactor")]

    initial = False

    operations = [ops.RunPython(create_failed_index, drop_failed_index)]
