"""One leader among service processes for background work: service_lease (models/service_lease.py)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [("models", "0014_report_schedules")]

    initial = False

    operations = [
        ops.CreateModel(
            name='ServiceLease',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('holder', fields.CharField(max_length=200)),
                ('expires_at_ms', fields.BigIntField()),
                ('term', fields.BigIntField()),
                ('acquired_at_ms', fields.BigIntField()),
            ],
            options={'table': 'service_lease', 'app': 'models', 'pk_attr': 'name'},
            bases=['Model'],
        ),
    ]
