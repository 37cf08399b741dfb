"""Per-organization report schedules: report_schedule (models/report_schedule.py)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.report import ReportKind
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [("models", "0013_billing_periods_and_governance")]

    initial = False

    operations = [
        ops.CreateModel(
            name='ReportSchedule',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='report_schedules', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='DAILY: DAILY\nWEEKLY: WEEKLY\nMONTHLY: MONTHLY', enum_type=ReportKind, max_length=10)),
                ('hour', fields.SmallIntField()),
                ('weekday', fields.SmallIntField(null=True)),
                ('day_of_month', fields.SmallIntField(null=True)),
                ('emails', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('webhook_url', fields.CharField(null=True, max_length=2000)),
                ('webhook_secret', fields.CharField(null=True, max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'report_schedule', 'app': 'models', 'unique_together': (('organization', 'kind'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
