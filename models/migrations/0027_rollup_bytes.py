"""Fewer rollup bytes per request (issue 17; docs/PERFORMANCE.md "Bytes per table (issue 17)").

1. The full usage rollup and the key and member cubes drop their QUARTER grain
   (models/rollup.py): measured at 1M logs, each held about as many rows as the raw log over
   the same time, so reading a quarter from them costs what reading its raw rows costs; the
   reader now reads those quarters from the raw rows (resolvers/rollup_reader.py
   `family_slices`, as for the attribution grains of 0020), and every answer stays exact.
   The (model) and (model, status code) cubes keep theirs.
2. PostgreSQL: the usage cubes' unique keys no longer INCLUDE measures (0005 added twelve of
   them). Since the token and cost classes (0017) every read sums 24 measures, twelve of
   which were never in the index, so no read of a cube was an index-only scan any more: the
   INCLUDEd columns were bytes written into every index entry for nothing. The latency
   histograms' and the attribution cubes' keys cover every column their reads take, and
   keep their INCLUDE.

3. PostgreSQL: the rollup tables fill their pages again (fillfactor back to the default,
   100; 0007 and 0019 left 30% of each page free). That room served in-place updates when
   ingest upserted every rollup row of every batch; with folding deferred (0022) a fold
   updates each row of the current hour or day once per batch, and the rows of closed
   buckets, nearly all of them, are never updated again: the free 30% was disk for nothing.
   It applies to pages written from now on (a table rewrite, e.g. `VACUUM FULL`, compacts
   the old ones).

On a database with data: the tables that stay are untouched but for their unique key,
rebuilt once; the raw log is where the dropped rows came from; rows still in
`fold_pending` are folded by the folder into the tables that stay, as before. Reversing
recreates the dropped tables EMPTY (rebuild them with bench.load_data's statements, or
re-ingest) and puts the INCLUDE back.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from models.database import Dialect, dialect_of

# The usage cubes' tables that stay, and the measures 0005 INCLUDEd in their unique keys.
_CUBES = (
    *(
        f"usage_cube_{cube}_{grain}"
        for cube in ("model", "model_status")
        for grain in ("quarter", "hour", "day")
    ),
    *(f"usage_cube_{cube}_{grain}" for cube in ("key", "member") for grain in ("hour", "day")),
)
_MEASURES_0005 = (
    "requests, successful, client_errors, server_errors, unpriced, input_tokens, "
    "output_tokens, provider_cost_nanos, markup_nanos, fixed_fee_nanos, customer_cost_nanos, "
    "latency_ms_sum"
)


async def _rebuild_unique_keys(schema_editor: BaseSchemaEditor, include: str) -> None:
    conn = schema_editor.client
    if dialect_of(conn) is not Dialect.POSTGRES:
        return
    for table in _CUBES:
        rows = await conn.execute_query_dict(
            "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
            "WHERE conrelid = $1::regclass AND contype = 'u'",
            [table],
        )
        for row in rows:
            name, definition = row["conname"], row["definition"]
            # "UNIQUE (organization_id, bucket_start, ...) INCLUDE (...)": the key alone.
            key = definition.split(" INCLUDE ")[0]
            await conn.execute_script(
                f'ALTER TABLE {table} DROP CONSTRAINT "{name}", '
                f'ADD CONSTRAINT "{name}" {key}{include}'
            )


# Every rollup table that stays (0007 and 0019 set their fillfactor to 70).
_ROLLUP_TABLES = (
    "usage_rollup_day",
    *_CUBES,
    "usage_cube_tag_day",
    "usage_cube_team_tag_hour",
    "usage_cube_team_tag_day",
    "usage_cube_end_user_day",
    "latency_hist_hour",
    "latency_hist_day",
    "latency_hist_model_status_day",
)


async def _set_fillfactor(schema_editor: BaseSchemaEditor, setting: str) -> None:
    conn = schema_editor.client
    if dialect_of(conn) is not Dialect.POSTGRES:
        return
    for table in _ROLLUP_TABLES:
        await conn.execute_script(f"ALTER TABLE {table} {setting}")


async def fill_pages(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    await _set_fillfactor(schema_editor, "RESET (fillfactor)")


async def leave_room_for_updates(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    await _set_fillfactor(schema_editor, "SET (fillfactor = 70)")


async def plain_unique_keys(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    await _rebuild_unique_keys(schema_editor, "")


async def covering_unique_keys(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    await _rebuild_unique_keys(schema_editor, f" INCLUDE ({_MEASURES_0005})")


class Migration(migrations.Migration):
    dependencies = [("models", "0026_token_lookup")]

    initial = False

    operations = [
        ops.DeleteModel(name="UsageRollupQuarter"),
        ops.DeleteModel(name="UsageRollupHour"),
        ops.DeleteModel(name="UsageCubeKeyQuarter"),
        ops.DeleteModel(name="UsageCubeMemberQuarter"),
        ops.DeleteModel(name="UsageCubeTagHour"),
        ops.RunPython(plain_unique_keys, covering_unique_keys),
        ops.RunPython(fill_pages, leave_room_for_updates),
    ]
