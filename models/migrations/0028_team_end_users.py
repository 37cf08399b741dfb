"""End users and tags rolled up for the team only (issue 17; docs/PERFORMANCE.md "Bytes per
table (issue 17)"): the per member x end user DAY cube is replaced by a per end user one
(models/rollup.py USAGE_BY_TEAM_END_USER, `usage_cube_team_end_user_day`), and the per
member x tag DAY cube is dropped (the team tag cube of 0019, `usage_cube_team_tag_*`, stays).

Measured at 10M logs, the member x end-user cube was the largest rollup (3.5 GiB): the
member dimension multiplied it until it barely aggregated (794k rows for the big tenant's
1.33M requests of 30 days). An Admin's end users and tags now read the team cubes; a
Member's own, and any end-user or tag question split or filtered by member, read the raw
rows (exact; one member's rows come through request_log_org_mem_ts), as 0027 did for the
member x tag HOUR grain.

On a database with data, the new table is filled from the old one summed over members
(every measure is an integer sum), so nothing is lost but the member split; rows still in
`fold_pending` are folded by the folder into the tables that exist then. On PostgreSQL the
new table has the primary key (organization_id, id) as 0024 gave every tenant table.

PostgreSQL: the team cubes' unique keys (the new table's and the team tag cubes') no longer
INCLUDE the 24 measures (0019 did, for index-only reads). At 10M logs those INCLUDEs were
1,322 MiB of the team end-user cube's 2,234 (more than its heap) and 586 MiB of the team
tag hour cube's 1,498; without them the Admin's cost by tag and by end user, which now
fetch heap pages, answered in the same time (docs/PERFORMANCE.md, "Tags and end users for
the team only (migration 0028)"), and all tables together went from 2.14x to 1.95x the raw
log's bytes.

Reversing recreates the two per-member tables EMPTY, keyed as they were (the member split
cannot be recovered from the team's sums: rebuild them from the raw log with
bench.load_data's statements of the code of that time, or re-ingest), puts the INCLUDE back
on the team tag cubes, and drops the team end-user table.
"""

from tortoise import fields, migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from models.database import Dialect, dialect_of

_MEASURES = (
    "requests",
    "successful",
    "client_errors",
    "server_errors",
    "unpriced",
    "input_tokens",
    "output_tokens",
    "provider_cost_nanos",
    "markup_nanos",
    "fixed_fee_nanos",
    "customer_cost_nanos",
    "latency_ms_sum",
    "cache_read_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
    "request_units",
    "input_cost_nanos",
    "cache_read_cost_nanos",
    "cache_write_cost_nanos",
    "output_cost_nanos",
    "reasoning_cost_nanos",
    "request_cost_nanos",
    "cache_savings_nanos",
)
_NEW = "usage_cube_team_end_user_day"
_OLD = "usage_cube_end_user_day"
_OLD_TAGS = "usage_cube_tag_day"
_TEAM_TAGS = ("usage_cube_team_tag_hour", "usage_cube_team_tag_day")


async def _unique_keys(schema_editor: BaseSchemaEditor, table: str, include: str) -> None:
    """PostgreSQL: rebuild `table`'s unique key with `include` after its columns ("" for
    the key alone). SQLite: nothing."""
    conn = schema_editor.client
    if dialect_of(conn) is not Dialect.POSTGRES:
        return
    rows = await conn.execute_query_dict(
        "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
        "WHERE conrelid = $1::regclass AND contype = 'u'",
        [table],
    )
    for row in rows:
        name, key = row["conname"], row["definition"].split(" INCLUDE ")[0]
        await conn.execute_script(
            f'ALTER TABLE {table} DROP CONSTRAINT "{name}", ADD CONSTRAINT "{name}" {key}{include}'
        )


async def _key_by_organization(schema_editor: BaseSchemaEditor, table: str) -> None:
    """PostgreSQL: primary key (organization_id, id), as 0024 keyed every tenant table."""
    conn = schema_editor.client
    if dialect_of(conn) is not Dialect.POSTGRES:
        return
    await conn.execute_script(
        f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey, "
        f"ADD CONSTRAINT {table}_pkey PRIMARY KEY (organization_id, id)"
    )


_COVERING = f" INCLUDE ({', '.join(_MEASURES)})"


async def sum_over_members(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    """Key the new table, fill it from the member x end-user rows summed over members, and
    take the measures out of the team tag cubes' unique keys."""
    await _key_by_organization(schema_editor, _NEW)
    measures = ", ".join(_MEASURES)
    sums = ", ".join(f"SUM({m})" for m in _MEASURES)
    # Rows laid out in time order, as ingest appends them over time.
    await schema_editor.client.execute_script(
        f"INSERT INTO {_NEW} (organization_id, bucket_start, end_user, {measures}) "
        f"SELECT organization_id, bucket_start, end_user, {sums} FROM {_OLD} "
        "GROUP BY organization_id, bucket_start, end_user ORDER BY bucket_start"
    )
    for table in _TEAM_TAGS:
        await _unique_keys(schema_editor, table, "")


async def key_recreated_member_cubes(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    """Going back: the per-member tables come back empty; key them as they were (0019,
    0024), and the team tag cubes' unique keys INCLUDE the measures again."""
    for table in (_OLD, _OLD_TAGS):
        await _key_by_organization(schema_editor, table)
        await _unique_keys(schema_editor, table, _COVERING)
    for table in _TEAM_TAGS:
        await _unique_keys(schema_editor, table, _COVERING)


class Migration(migrations.Migration):
    dependencies = [("models", "0027_rollup_bytes")]

    initial = False

    operations = [
        ops.CreateModel(
            name="UsageCubeTeamEndUserDay",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("organization_id", fields.IntField()),
                ("bucket_start", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("end_user", fields.CharField(max_length=128)),
                ("requests", fields.BigIntField(default=0)),
                ("successful", fields.BigIntField(default=0)),
                ("client_errors", fields.BigIntField(default=0)),
                ("server_errors", fields.BigIntField(default=0)),
                ("unpriced", fields.BigIntField(default=0)),
                ("input_tokens", fields.BigIntField(default=0)),
                ("output_tokens", fields.BigIntField(default=0)),
                ("provider_cost_nanos", fields.BigIntField(default=0)),
                ("markup_nanos", fields.BigIntField(default=0)),
                ("fixed_fee_nanos", fields.BigIntField(default=0)),
                ("customer_cost_nanos", fields.BigIntField(default=0)),
                ("latency_ms_sum", fields.BigIntField(default=0)),
                ("cache_read_tokens", fields.BigIntField(default=0, db_default=0)),
                ("cache_write_5m_tokens", fields.BigIntField(default=0, db_default=0)),
                ("cache_write_1h_tokens", fields.BigIntField(default=0, db_default=0)),
                ("reasoning_tokens", fields.BigIntField(default=0, db_default=0)),
                ("request_units", fields.BigIntField(default=0, db_default=0)),
                ("input_cost_nanos", fields.BigIntField(default=0, db_default=0)),
                ("cache_read_cost_nanos", fields.BigIntField(default=0, db_default=0)),
                ("cache_write_cost_nanos", fields.BigIntField(default=0, db_default=0)),
                ("output_cost_nanos", fields.BigIntField(default=0, db_default=0)),
                ("reasoning_cost_nanos", fields.BigIntField(default=0, db_default=0)),
                ("request_cost_nanos", fields.BigIntField(default=0, db_default=0)),
                ("cache_savings_nanos", fields.BigIntField(default=0, db_default=0)),
            ],
            options={
                "table": _NEW,
                "app": "models",
                "unique_together": (("organization_id", "bucket_start", "end_user"),),
                "pk_attr": "id",
            },
            bases=["TeamEndUserCubeBase"],
        ),
        ops.RunPython(sum_over_members, key_recreated_member_cubes),
        ops.DeleteModel(name="UsageCubeEndUserDay"),
        ops.DeleteModel(name="UsageCubeTagDay"),
    ]
