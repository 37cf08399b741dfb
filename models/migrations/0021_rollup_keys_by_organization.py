"""Rollup, cube and histogram tables keyed by organization first (PostgreSQL): primary key
(organization_id, id) instead of (id).

What Citus needs of a table distributed by organization_id (docs/SCALING.md): every primary
and unique key holds the distribution column. Their unique keys already start with it; the
surrogate `id` key did not. `id` still comes from its sequence, so it stays unique; nothing
references these tables by foreign key, and every statement on them reads or upserts by the
unique key, so only the index behind the key changes (rebuilt once, by this migration).
The tag and end-user cubes (0019) and the tables other tables reference are not changed
here; tests/test_citus_readiness.py lists them with the reason. SQLite: a no-op.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from models.database import Dialect, dialect_of

# The rollup tables of 0005 (models/rollup.py, models/latency_rollup.py).
_TABLES = (
    *(
        f"{family}_{grain}"
        for family in (
            "usage_rollup",
            "usage_cube_model",
            "usage_cube_model_status",
            "usage_cube_key",
            "usage_cube_member",
        )
        for grain in ("quarter", "hour", "day")
    ),
    "latency_hist_hour",
    "latency_hist_day",
    "latency_hist_model_status_day",
)


async def _set_primary_keys(schema_editor: BaseSchemaEditor, columns: str) -> None:
    conn = schema_editor.client
    if dialect_of(conn) is not Dialect.POSTGRES:
        return
    for table in _TABLES:
        await conn.execute_script(
            f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey, "
            f"ADD CONSTRAINT {table}_pkey PRIMARY KEY ({columns})"
        )


async def key_by_organization(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    await _set_primary_keys(schema_editor, "organization_id, id")


async def key_by_id(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    await _set_primary_keys(schema_editor, "id")


class Migration(migrations.Migration):
    dependencies = [("models", "0020_attribution_grains")]

    initial = False

    operations = [ops.RunPython(key_by_organization, key_by_id)]
