from tortoise import migrations
from tortoise.migrations import operations as ops
from models.report import ReportKind
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_alert_delivery')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Report',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='DAILY: DAILY\nWEEKLY: WEEKLY\nMONTHLY: MONTHLY', enum_type=ReportKind, max_length=10)),
                ('period_start', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('period_end', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('timezone', fields.CharField(max_length=64)),
                ('html', fields.TextField(unique=False)),
                ('csv', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'report', 'app': 'models', 'unique_together': (('organization', 'kind', 'period_start'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
