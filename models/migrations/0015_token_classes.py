"""Token classes and cost classes (issue 14): request_log and every usage rollup table gain
cache read / cache write (5-minute, 1-hour) / reasoning tokens, request units, the provider
cost per class and the caching savings, all BIGINT NOT NULL DEFAULT 0, so every existing row
keeps its numbers and its new measures are 0; model_price gains class_prices (JSON, null =
input/output only). On PostgreSQL, ADD COLUMN on the partitioned request_log reaches every
partition."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0014_report_schedules')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ModelPrice',
            name='class_prices',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='RequestLog',
            name='cache_read_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='RequestLog',
            name='cache_read_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='RequestLog',
            name='cache_savings_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='RequestLog',
            name='cache_write_1h_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='RequestLog',
            name='cache_write_5m_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='RequestLog',
            name='cache_write_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='RequestLog',
            name='input_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='RequestLog',
            name='output_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='RequestLog',
            name='reasoning_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='RequestLog',
            name='reasoning_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='RequestLog',
            name='request_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='RequestLog',
            name='request_units',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyDay',
            name='cache_read_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyDay',
            name='cache_read_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyDay',
            name='cache_savings_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyDay',
            name='cache_write_1h_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyDay',
            name='cache_write_5m_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyDay',
            name='cache_write_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyDay',
            name='input_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyDay',
            name='output_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyDay',
            name='reasoning_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyDay',
            name='reasoning_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyDay',
            name='request_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyDay',
            name='request_units',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyHour',
            name='cache_read_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyHour',
            name='cache_read_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyHour',
            name='cache_savings_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyHour',
            name='cache_write_1h_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyHour',
            name='cache_write_5m_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyHour',
            name='cache_write_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyHour',
            name='input_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyHour',
            name='output_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyHour',
            name='reasoning_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyHour',
            name='reasoning_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyHour',
            name='request_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyHour',
            name='request_units',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyQuarter',
            name='cache_read_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyQuarter',
            name='cache_read_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyQuarter',
            name='cache_savings_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyQuarter',
            name='cache_write_1h_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyQuarter',
            name='cache_write_5m_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyQuarter',
            name='cache_write_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyQuarter',
            name='input_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyQuarter',
            name='output_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyQuarter',
            name='reasoning_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyQuarter',
            name='reasoning_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyQuarter',
            name='request_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeKeyQuarter',
            name='request_units',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberDay',
            name='cache_read_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberDay',
            name='cache_read_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberDay',
            name='cache_savings_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberDay',
            name='cache_write_1h_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberDay',
            name='cache_write_5m_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberDay',
            name='cache_write_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberDay',
            name='input_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberDay',
            name='output_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberDay',
            name='reasoning_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberDay',
            name='reasoning_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberDay',
            name='request_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberDay',
            name='request_units',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberHour',
            name='cache_read_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberHour',
            name='cache_read_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberHour',
            name='cache_savings_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberHour',
            name='cache_write_1h_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberHour',
            name='cache_write_5m_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberHour',
            name='cache_write_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberHour',
            name='input_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberHour',
            name='output_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberHour',
            name='reasoning_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberHour',
            name='reasoning_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberHour',
            name='request_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberHour',
            name='request_units',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberQuarter',
            name='cache_read_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberQuarter',
            name='cache_read_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberQuarter',
            name='cache_savings_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberQuarter',
            name='cache_write_1h_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberQuarter',
            name='cache_write_5m_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberQuarter',
            name='cache_write_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberQuarter',
            name='input_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberQuarter',
            name='output_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberQuarter',
            name='reasoning_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberQuarter',
            name='reasoning_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberQuarter',
            name='request_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeMemberQuarter',
            name='request_units',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelDay',
            name='cache_read_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelDay',
            name='cache_read_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelDay',
            name='cache_savings_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelDay',
            name='cache_write_1h_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelDay',
            name='cache_write_5m_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelDay',
            name='cache_write_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelDay',
            name='input_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelDay',
            name='output_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelDay',
            name='reasoning_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelDay',
            name='reasoning_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelDay',
            name='request_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelDay',
            name='request_units',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelHour',
            name='cache_read_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelHour',
            name='cache_read_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelHour',
            name='cache_savings_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelHour',
            name='cache_write_1h_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelHour',
            name='cache_write_5m_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelHour',
            name='cache_write_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelHour',
            name='input_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelHour',
            name='output_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelHour',
            name='reasoning_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelHour',
            name='reasoning_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelHour',
            name='request_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelHour',
            name='request_units',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelQuarter',
            name='cache_read_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelQuarter',
            name='cache_read_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelQuarter',
            name='cache_savings_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelQuarter',
            name='cache_write_1h_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelQuarter',
            name='cache_write_5m_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelQuarter',
            name='cache_write_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelQuarter',
            name='input_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelQuarter',
            name='output_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelQuarter',
            name='reasoning_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelQuarter',
            name='reasoning_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelQuarter',
            name='request_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelQuarter',
            name='request_units',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusDay',
            name='cache_read_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusDay',
            name='cache_read_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusDay',
            name='cache_savings_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusDay',
            name='cache_write_1h_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusDay',
            name='cache_write_5m_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusDay',
            name='cache_write_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusDay',
            name='input_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusDay',
            name='output_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusDay',
            name='reasoning_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusDay',
            name='reasoning_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusDay',
            name='request_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusDay',
            name='request_units',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusHour',
            name='cache_read_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusHour',
            name='cache_read_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusHour',
            name='cache_savings_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusHour',
            name='cache_write_1h_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusHour',
            name='cache_write_5m_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusHour',
            name='cache_write_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusHour',
            name='input_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusHour',
            name='output_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusHour',
            name='reasoning_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusHour',
            name='reasoning_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusHour',
            name='request_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusHour',
            name='request_units',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusQuarter',
            name='cache_read_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusQuarter',
            name='cache_read_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusQuarter',
            name='cache_savings_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusQuarter',
            name='cache_write_1h_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusQuarter',
            name='cache_write_5m_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusQuarter',
            name='cache_write_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusQuarter',
            name='input_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusQuarter',
            name='output_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusQuarter',
            name='reasoning_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusQuarter',
            name='reasoning_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusQuarter',
            name='request_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageCubeModelStatusQuarter',
            name='request_units',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupDay',
            name='cache_read_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupDay',
            name='cache_read_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupDay',
            name='cache_savings_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupDay',
            name='cache_write_1h_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupDay',
            name='cache_write_5m_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupDay',
            name='cache_write_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupDay',
            name='input_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupDay',
            name='output_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupDay',
            name='reasoning_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupDay',
            name='reasoning_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupDay',
            name='request_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupDay',
            name='request_units',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupHour',
            name='cache_read_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupHour',
            name='cache_read_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupHour',
            name='cache_savings_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupHour',
            name='cache_write_1h_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupHour',
            name='cache_write_5m_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupHour',
            name='cache_write_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupHour',
            name='input_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupHour',
            name='output_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupHour',
            name='reasoning_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupHour',
            name='reasoning_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupHour',
            name='request_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupHour',
            name='request_units',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupQuarter',
            name='cache_read_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupQuarter',
            name='cache_read_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupQuarter',
            name='cache_savings_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupQuarter',
            name='cache_write_1h_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupQuarter',
            name='cache_write_5m_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupQuarter',
            name='cache_write_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupQuarter',
            name='input_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupQuarter',
            name='output_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupQuarter',
            name='reasoning_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupQuarter',
            name='reasoning_tokens',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupQuarter',
            name='request_cost_nanos',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='UsageRollupQuarter',
            name='request_units',
            field=fields.BigIntField(default=0, db_default=0),
        ),
    ]
