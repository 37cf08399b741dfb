"""Tags and end users (ingestion/attribution.py): request_log.tags (a JSON array, NULL
without tags) and request_log.end_user, and the attribution rollups per tag and per end user
(models/rollup.py USAGE_BY_TAG, USAGE_BY_TEAM_TAG, USAGE_BY_END_USER), each at the quarter,
hour and day grains. Logs stored before this migration have neither: they count in tag ""
and end user "" (a rebuild of the rollups, `ingestion/rollup_sql.py`, fills the new tables from the raw log).

On PostgreSQL each new table's unique key also carries the measures (INCLUDE), as migration
0005 does for the other cubes (the reads are index-only scans), and its pages leave room for
in-place updates (fillfactor 70, as 0007).
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from models.database import Dialect, dialect_of

_MEASURES = ", ".join(['requests', 'successful', 'client_errors', 'server_errors', 'unpriced', 'input_tokens', 'output_tokens', 'provider_cost_nanos', 'markup_nanos', 'fixed_fee_nanos', 'customer_cost_nanos', 'latency_ms_sum', 'cache_read_tokens', 'cache_write_5m_tokens', 'cache_write_1h_tokens', 'reasoning_tokens', 'request_units', 'input_cost_nanos', 'cache_read_cost_nanos', 'cache_write_cost_nanos', 'output_cost_nanos', 'reasoning_cost_nanos', 'request_cost_nanos', 'cache_savings_nanos'])
_TABLES = tuple(
    f"usage_cube_{family}_{grain}"
    for family in ("tag", "team_tag", "end_user")
    for grain in ("quarter", "hour", "day")
)


async def cover_measures(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    """Index-only reads on PostgreSQL, then the existing logs' attribution rows (tag "" and
    end user "": no log stored before this migration has either)."""
    conn = schema_editor.client
    if dialect_of(conn) is Dialect.POSTGRES:
        for table in _TABLES:
            # Room for in-place updates, as 0007 gives every other rollup table.
            await conn.execute_script(f"ALTER TABLE {table} SET (fillfactor = 70)")
            rows = await conn.execute_query_dict(
                "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
                "WHERE conrelid = $1::regclass AND contype = 'u'",
                [table],
            )
            for row in rows:
                name, definition = row["conname"], row["definition"]
                await conn.execute_script(
                    f'ALTER TABLE {table} DROP CONSTRAINT "{name}", '
                    f'ADD CONSTRAINT "{name}" {definition} INCLUDE ({_MEASURES})'
                )
    # Every stored log has no tag and no end user: its member cube rows are exactly the new
    # families' rows with tag "" / end user "".
    sums = ", ".join(f"SUM({m})" for m in _MEASURES.split(", "))
    for grain in ("quarter", "hour", "day"):
        for family, column in (("tag", "tag"), ("end_user", "end_user")):
            await conn.execute_script(
                f"INSERT INTO usage_cube_{family}_{grain} "
                f"(organization_id, bucket_start, member_id, {column}, {_MEASURES}) "
                f"SELECT organization_id, bucket_start, member_id, '', {_MEASURES} "
                f"FROM usage_cube_member_{grain}"
            )
        await conn.execute_script(
            f"INSERT INTO usage_cube_team_tag_{grain} "
            f"(organization_id, bucket_start, tag, {_MEASURES}) "
            f"SELECT organization_id, bucket_start, '', {sums} "
            f"FROM usage_cube_member_{grain} GROUP BY organization_id, bucket_start"
        )


class Migration(migrations.Migration):
    dependencies = [("models", "0018_request_log_order_search")]

    initial = False

    operations = [
        ops.AddField(
            model_name='RequestLog',
            name='tags',
            field=fields.JSONField(null=True),
        ),
        ops.AddField(
            model_name='RequestLog',
            name='end_user',
            field=fields.CharField(null=True, max_length=128),
        ),
        ops.CreateModel(
            name='UsageCubeTagQuarter',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('member_id', fields.IntField()),
                ('tag', fields.CharField(max_length=64)),
                ('requests', fields.BigIntField(default=0)),
                ('successful', fields.BigIntField(default=0)),
                ('client_errors', fields.BigIntField(default=0)),
                ('server_errors', fields.BigIntField(default=0)),
                ('unpriced', fields.BigIntField(default=0)),
                ('input_tokens', fields.BigIntField(default=0)),
                ('output_tokens', fields.BigIntField(default=0)),
                ('provider_cost_nanos', fields.BigIntField(default=0)),
                ('markup_nanos', fields.BigIntField(default=0)),
                ('fixed_fee_nanos', fields.BigIntField(default=0)),
                ('customer_cost_nanos', fields.BigIntField(default=0)),
                ('latency_ms_sum', fields.BigIntField(default=0)),
                ('cache_read_tokens', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_5m_tokens', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_1h_tokens', fields.BigIntField(default=0, db_default=0)),
                ('reasoning_tokens', fields.BigIntField(default=0, db_default=0)),
                ('request_units', fields.BigIntField(default=0, db_default=0)),
                ('input_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_read_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('output_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('reasoning_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('request_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_savings_nanos', fields.BigIntField(default=0, db_default=0)),
            ],
            options={'table': 'usage_cube_tag_quarter', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'member_id', 'tag'),), 'pk_attr': 'id'},
            bases=['TagCubeBase'],
        ),
        ops.CreateModel(
            name='UsageCubeTagHour',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('member_id', fields.IntField()),
                ('tag', fields.CharField(max_length=64)),
                ('requests', fields.BigIntField(default=0)),
                ('successful', fields.BigIntField(default=0)),
                ('client_errors', fields.BigIntField(default=0)),
                ('server_errors', fields.BigIntField(default=0)),
                ('unpriced', fields.BigIntField(default=0)),
                ('input_tokens', fields.BigIntField(default=0)),
                ('output_tokens', fields.BigIntField(default=0)),
                ('provider_cost_nanos', fields.BigIntField(default=0)),
                ('markup_nanos', fields.BigIntField(default=0)),
                ('fixed_fee_nanos', fields.BigIntField(default=0)),
                ('customer_cost_nanos', fields.BigIntField(default=0)),
                ('latency_ms_sum', fields.BigIntField(default=0)),
                ('cache_read_tokens', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_5m_tokens', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_1h_tokens', fields.BigIntField(default=0, db_default=0)),
                ('reasoning_tokens', fields.BigIntField(default=0, db_default=0)),
                ('request_units', fields.BigIntField(default=0, db_default=0)),
                ('input_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_read_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('output_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('reasoning_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('request_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_savings_nanos', fields.BigIntField(default=0, db_default=0)),
            ],
            options={'table': 'usage_cube_tag_hour', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'member_id', 'tag'),), 'pk_attr': 'id'},
            bases=['TagCubeBase'],
        ),
        ops.CreateModel(
            name='UsageCubeTagDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('member_id', fields.IntField()),
                ('tag', fields.CharField(max_length=64)),
                ('requests', fields.BigIntField(default=0)),
                ('successful', fields.BigIntField(default=0)),
                ('client_errors', fields.BigIntField(default=0)),
                ('server_errors', fields.BigIntField(default=0)),
                ('unpriced', fields.BigIntField(default=0)),
                ('input_tokens', fields.BigIntField(default=0)),
                ('output_tokens', fields.BigIntField(default=0)),
                ('provider_cost_nanos', fields.BigIntField(default=0)),
                ('markup_nanos', fields.BigIntField(default=0)),
                ('fixed_fee_nanos', fields.BigIntField(default=0)),
                ('customer_cost_nanos', fields.BigIntField(default=0)),
                ('latency_ms_sum', fields.BigIntField(default=0)),
                ('cache_read_tokens', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_5m_tokens', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_1h_tokens', fields.BigIntField(default=0, db_default=0)),
                ('reasoning_tokens', fields.BigIntField(default=0, db_default=0)),
                ('request_units', fields.BigIntField(default=0, db_default=0)),
                ('input_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_read_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('output_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('reasoning_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('request_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_savings_nanos', fields.BigIntField(default=0, db_default=0)),
            ],
            options={'table': 'usage_cube_tag_day', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'member_id', 'tag'),), 'pk_attr': 'id'},
            bases=['TagCubeBase'],
        ),
        ops.CreateModel(
            name='UsageCubeEndUserQuarter',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('member_id', fields.IntField()),
                ('end_user', fields.CharField(max_length=128)),
                ('requests', fields.BigIntField(default=0)),
                ('successful', fields.BigIntField(default=0)),
                ('client_errors', fields.BigIntField(default=0)),
                ('server_errors', fields.BigIntField(default=0)),
                ('unpriced', fields.BigIntField(default=0)),
                ('input_tokens', fields.BigIntField(default=0)),
                ('output_tokens', fields.BigIntField(default=0)),
                ('provider_cost_nanos', fields.BigIntField(default=0)),
                ('markup_nanos', fields.BigIntField(default=0)),
                ('fixed_fee_nanos', fields.BigIntField(default=0)),
                ('customer_cost_nanos', fields.BigIntField(default=0)),
                ('latency_ms_sum', fields.BigIntField(default=0)),
                ('cache_read_tokens', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_5m_tokens', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_1h_tokens', fields.BigIntField(default=0, db_default=0)),
                ('reasoning_tokens', fields.BigIntField(default=0, db_default=0)),
                ('request_units', fields.BigIntField(default=0, db_default=0)),
                ('input_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_read_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('output_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('reasoning_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('request_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_savings_nanos', fields.BigIntField(default=0, db_default=0)),
            ],
            options={'table': 'usage_cube_end_user_quarter', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'member_id', 'end_user'),), 'pk_attr': 'id'},
            bases=['EndUserCubeBase'],
        ),
        ops.CreateModel(
            name='UsageCubeEndUserHour',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('member_id', fields.IntField()),
                ('end_user', fields.CharField(max_length=128)),
                ('requests', fields.BigIntField(default=0)),
                ('successful', fields.BigIntField(default=0)),
                ('client_errors', fields.BigIntField(default=0)),
                ('server_errors', fields.BigIntField(default=0)),
                ('unpriced', fields.BigIntField(default=0)),
                ('input_tokens', fields.BigIntField(default=0)),
                ('output_tokens', fields.BigIntField(default=0)),
                ('provider_cost_nanos', fields.BigIntField(default=0)),
                ('markup_nanos', fields.BigIntField(default=0)),
                ('fixed_fee_nanos', fields.BigIntField(default=0)),
                ('customer_cost_nanos', fields.BigIntField(default=0)),
                ('latency_ms_sum', fields.BigIntField(default=0)),
                ('cache_read_tokens', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_5m_tokens', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_1h_tokens', fields.BigIntField(default=0, db_default=0)),
                ('reasoning_tokens', fields.BigIntField(default=0, db_default=0)),
                ('request_units', fields.BigIntField(default=0, db_default=0)),
                ('input_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_read_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('output_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('reasoning_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('request_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_savings_nanos', fields.BigIntField(default=0, db_default=0)),
            ],
            options={'table': 'usage_cube_end_user_hour', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'member_id', 'end_user'),), 'pk_attr': 'id'},
            bases=['EndUserCubeBase'],
        ),
        ops.CreateModel(
            name='UsageCubeEndUserDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('member_id', fields.IntField()),
                ('end_user', fields.CharField(max_length=128)),
                ('requests', fields.BigIntField(default=0)),
                ('successful', fields.BigIntField(default=0)),
                ('client_errors', fields.BigIntField(default=0)),
                ('server_errors', fields.BigIntField(default=0)),
                ('unpriced', fields.BigIntField(default=0)),
                ('input_tokens', fields.BigIntField(default=0)),
                ('output_tokens', fields.BigIntField(default=0)),
                ('provider_cost_nanos', fields.BigIntField(default=0)),
                ('markup_nanos', fields.BigIntField(default=0)),
                ('fixed_fee_nanos', fields.BigIntField(default=0)),
                ('customer_cost_nanos', fields.BigIntField(default=0)),
                ('latency_ms_sum', fields.BigIntField(default=0)),
                ('cache_read_tokens', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_5m_tokens', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_1h_tokens', fields.BigIntField(default=0, db_default=0)),
                ('reasoning_tokens', fields.BigIntField(default=0, db_default=0)),
                ('request_units', fields.BigIntField(default=0, db_default=0)),
                ('input_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_read_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('output_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('reasoning_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('request_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_savings_nanos', fields.BigIntField(default=0, db_default=0)),
            ],
            options={'table': 'usage_cube_end_user_day', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'member_id', 'end_user'),), 'pk_attr': 'id'},
            bases=['EndUserCubeBase'],
        ),
        ops.CreateModel(
            name='UsageCubeTeamTagQuarter',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('tag', fields.CharField(max_length=64)),
                ('requests', fields.BigIntField(default=0)),
                ('successful', fields.BigIntField(default=0)),
                ('client_errors', fields.BigIntField(default=0)),
                ('server_errors', fields.BigIntField(default=0)),
                ('unpriced', fields.BigIntField(default=0)),
                ('input_tokens', fields.BigIntField(default=0)),
                ('output_tokens', fields.BigIntField(default=0)),
                ('provider_cost_nanos', fields.BigIntField(default=0)),
                ('markup_nanos', fields.BigIntField(default=0)),
                ('fixed_fee_nanos', fields.BigIntField(default=0)),
                ('customer_cost_nanos', fields.BigIntField(default=0)),
                ('latency_ms_sum', fields.BigIntField(default=0)),
                ('cache_read_tokens', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_5m_tokens', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_1h_tokens', fields.BigIntField(default=0, db_default=0)),
                ('reasoning_tokens', fields.BigIntField(default=0, db_default=0)),
                ('request_units', fields.BigIntField(default=0, db_default=0)),
                ('input_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_read_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('output_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('reasoning_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('request_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_savings_nanos', fields.BigIntField(default=0, db_default=0)),
            ],
            options={'table': 'usage_cube_team_tag_quarter', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'tag'),), 'pk_attr': 'id'},
            bases=['TeamTagCubeBase'],
        ),
        ops.CreateModel(
            name='UsageCubeTeamTagHour',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('tag', fields.CharField(max_length=64)),
                ('requests', fields.BigIntField(default=0)),
                ('successful', fields.BigIntField(default=0)),
                ('client_errors', fields.BigIntField(default=0)),
                ('server_errors', fields.BigIntField(default=0)),
                ('unpriced', fields.BigIntField(default=0)),
                ('input_tokens', fields.BigIntField(default=0)),
                ('output_tokens', fields.BigIntField(default=0)),
                ('provider_cost_nanos', fields.BigIntField(default=0)),
                ('markup_nanos', fields.BigIntField(default=0)),
                ('fixed_fee_nanos', fields.BigIntField(default=0)),
                ('customer_cost_nanos', fields.BigIntField(default=0)),
                ('latency_ms_sum', fields.BigIntField(default=0)),
                ('cache_read_tokens', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_5m_tokens', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_1h_tokens', fields.BigIntField(default=0, db_default=0)),
                ('reasoning_tokens', fields.BigIntField(default=0, db_default=0)),
                ('request_units', fields.BigIntField(default=0, db_default=0)),
                ('input_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_read_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('output_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('reasoning_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('request_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_savings_nanos', fields.BigIntField(default=0, db_default=0)),
            ],
            options={'table': 'usage_cube_team_tag_hour', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'tag'),), 'pk_attr': 'id'},
            bases=['TeamTagCubeBase'],
        ),
        ops.CreateModel(
            name='UsageCubeTeamTagDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('tag', fields.CharField(max_length=64)),
                ('requests', fields.BigIntField(default=0)),
                ('successful', fields.BigIntField(default=0)),
                ('client_errors', fields.BigIntField(default=0)),
                ('server_errors', fields.BigIntField(default=0)),
                ('unpriced', fields.BigIntField(default=0)),
                ('input_tokens', fields.BigIntField(default=0)),
                ('output_tokens', fields.BigIntField(default=0)),
                ('provider_cost_nanos', fields.BigIntField(default=0)),
                ('markup_nanos', fields.BigIntField(default=0)),
                ('fixed_fee_nanos', fields.BigIntField(default=0)),
                ('customer_cost_nanos', fields.BigIntField(default=0)),
                ('latency_ms_sum', fields.BigIntField(default=0)),
                ('cache_read_tokens', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_5m_tokens', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_1h_tokens', fields.BigIntField(default=0, db_default=0)),
                ('reasoning_tokens', fields.BigIntField(default=0, db_default=0)),
                ('request_units', fields.BigIntField(default=0, db_default=0)),
                ('input_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_read_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_write_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('output_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('reasoning_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('request_cost_nanos', fields.BigIntField(default=0, db_default=0)),
                ('cache_savings_nanos', fields.BigIntField(default=0, db_default=0)),
            ],
            options={'table': 'usage_cube_team_tag_day', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'tag'),), 'pk_attr': 'id'},
            bases=['TeamTagCubeBase'],
        ),
        ops.RunPython(cover_measures),
    ]
