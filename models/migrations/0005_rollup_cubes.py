"""Narrower usage rollups ("cubes": by model, model and status, key, member) and latency
histograms, each at its grains (models/rollup.py, models/latency_rollup.py).

On PostgreSQL each table's unique key also carries the measures (INCLUDE), so the reads,
which sum measures over an organization's rows in a time range, are index-only scans that
never visit the heap: 2-3x faster on a large tenant (docs/PERFORMANCE.md). SQLite has no
INCLUDE and keeps the plain unique key.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

from models.database import Dialect, dialect_of

_USAGE_MEASURES = (
    "requests, successful, client_errors, server_errors, unpriced, input_tokens, "
    "output_tokens, provider_cost_nanos, markup_nanos, fixed_fee_nanos, customer_cost_nanos, "
    "latency_ms_sum"
)
_COVERED = {
    **{
        f"usage_cube_{cube}_{grain}": _USAGE_MEASURES
        for cube in ("model", "model_status", "key", "member")
        for grain in ("quarter", "hour", "day")
    },
    "latency_hist_hour": "requests, latency_ms_sum",
    "latency_hist_day": "requests, latency_ms_sum",
    "latency_hist_model_status_day": "requests, latency_ms_sum",
}


async def cover_measures(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    conn = schema_editor.client
    if dialect_of(conn) is not Dialect.POSTGRES:
        return
    for table, measures in _COVERED.items():
        rows = await conn.execute_query_dict(
            "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
            "WHERE conrelid = $1::regclass AND contype = 'u'",
            [table],
        )
        for row in rows:
            name, definition = row["conname"], row["definition"]
            await conn.execute_script(
                f'ALTER TABLE {table} DROP CONSTRAINT "{name}", '
                f'ADD CONSTRAINT "{name}" {definition} INCLUDE ({measures})'
            )

class Migration(migrations.Migration):
    dependencies = [('models', '0004_reports')]

    initial = False

    operations = [
        ops.CreateModel(
            name='UsageCubeModelQuarter',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('model', fields.CharField(max_length=100)),
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
            ],
            options={'table': 'usage_cube_model_quarter', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'model'),), 'pk_attr': 'id'},
            bases=['ModelCubeBase'],
        ),
        ops.CreateModel(
            name='UsageCubeModelHour',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('model', fields.CharField(max_length=100)),
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
            ],
            options={'table': 'usage_cube_model_hour', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'model'),), 'pk_attr': 'id'},
            bases=['ModelCubeBase'],
        ),
        ops.CreateModel(
            name='UsageCubeModelDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('model', fields.CharField(max_length=100)),
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
            ],
            options={'table': 'usage_cube_model_day', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'model'),), 'pk_attr': 'id'},
            bases=['ModelCubeBase'],
        ),
        ops.CreateModel(
            name='UsageCubeModelStatusQuarter',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('model', fields.CharField(max_length=100)),
                ('status_code', fields.SmallIntField()),
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
            ],
            options={'table': 'usage_cube_model_status_quarter', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'model', 'status_code'),), 'pk_attr': 'id'},
            bases=['ModelStatusCubeBase'],
        ),
        ops.CreateModel(
            name='UsageCubeModelStatusHour',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('model', fields.CharField(max_length=100)),
                ('status_code', fields.SmallIntField()),
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
            ],
            options={'table': 'usage_cube_model_status_hour', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'model', 'status_code'),), 'pk_attr': 'id'},
            bases=['ModelStatusCubeBase'],
        ),
        ops.CreateModel(
            name='UsageCubeModelStatusDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('model', fields.CharField(max_length=100)),
                ('status_code', fields.SmallIntField()),
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
            ],
            options={'table': 'usage_cube_model_status_day', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'model', 'status_code'),), 'pk_attr': 'id'},
            bases=['ModelStatusCubeBase'],
        ),
        ops.CreateModel(
            name='UsageCubeKeyQuarter',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('api_key_id', fields.IntField()),
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
            ],
            options={'table': 'usage_cube_key_quarter', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'api_key_id'),), 'pk_attr': 'id'},
            bases=['KeyCubeBase'],
        ),
        ops.CreateModel(
            name='UsageCubeKeyHour',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('api_key_id', fields.IntField()),
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
            ],
            options={'table': 'usage_cube_key_hour', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'api_key_id'),), 'pk_attr': 'id'},
            bases=['KeyCubeBase'],
        ),
        ops.CreateModel(
            name='UsageCubeKeyDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('api_key_id', fields.IntField()),
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
            ],
            options={'table': 'usage_cube_key_day', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'api_key_id'),), 'pk_attr': 'id'},
            bases=['KeyCubeBase'],
        ),
        ops.CreateModel(
            name='UsageCubeMemberQuarter',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('member_id', fields.IntField()),
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
            ],
            options={'table': 'usage_cube_member_quarter', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'member_id'),), 'pk_attr': 'id'},
            bases=['MemberCubeBase'],
        ),
        ops.CreateModel(
            name='UsageCubeMemberHour',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('member_id', fields.IntField()),
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
            ],
            options={'table': 'usage_cube_member_hour', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'member_id'),), 'pk_attr': 'id'},
            bases=['MemberCubeBase'],
        ),
        ops.CreateModel(
            name='UsageCubeMemberDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('member_id', fields.IntField()),
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
            ],
            options={'table': 'usage_cube_member_day', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'member_id'),), 'pk_attr': 'id'},
            bases=['MemberCubeBase'],
        ),
        ops.CreateModel(
            name='LatencyHistHour',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('latency_bucket', fields.SmallIntField()),
                ('requests', fields.BigIntField(default=0)),
                ('latency_ms_sum', fields.BigIntField(default=0)),
            ],
            options={'table': 'latency_hist_hour', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'latency_bucket'),), 'pk_attr': 'id'},
            bases=['LatencyHistogramBase'],
        ),
        ops.CreateModel(
            name='LatencyHistDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('latency_bucket', fields.SmallIntField()),
                ('requests', fields.BigIntField(default=0)),
                ('latency_ms_sum', fields.BigIntField(default=0)),
            ],
            options={'table': 'latency_hist_day', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'latency_bucket'),), 'pk_attr': 'id'},
            bases=['LatencyHistogramBase'],
        ),
        ops.CreateModel(
            name='LatencyHistModelStatusDay',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization_id', fields.IntField()),
                ('bucket_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('model', fields.CharField(max_length=100)),
                ('status_code', fields.SmallIntField()),
                ('latency_bucket', fields.SmallIntField()),
                ('requests', fields.BigIntField(default=0)),
                ('latency_ms_sum', fields.BigIntField(default=0)),
            ],
            options={'table': 'latency_hist_model_status_day', 'app': 'models', 'unique_together': (('organization_id', 'bucket_start', 'model', 'status_code', 'latency_bucket'),), 'pk_attr': 'id'},
            bases=['LatencyHistogramByModelStatusBase'],
        ),
        ops.RunPython(cover_measures),
    ]
