from tortoise import migrations
from tortoise.migrations import operations as ops
from models.alert_delivery import DeliveryChannel, DeliveryStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_spend_control_state')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AlertDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='alert_deliveries', on_delete=OnDelete.CASCADE)),
                ('event', fields.ForeignKeyField('models.AlertEvent', source_field='event_id', null=True, db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('channel', fields.CharEnumField(description='WEBHOOK: WEBHOOK\nEMAIL: EMAIL', enum_type=DeliveryChannel, max_length=10)),
                ('target', fields.CharField(max_length=2000)),
                ('secret', fields.CharField(null=True, max_length=200)),
                ('message_id', fields.CharField(max_length=100)),
                ('subject', fields.CharField(max_length=300)),
                ('body', fields.TextField(unique=False)),
                ('status', fields.CharEnumField(default=DeliveryStatus.PENDING, description='PENDING: PENDING\nDELIVERED: DELIVERED\nFAILED: FAILED', enum_type=DeliveryStatus, max_length=10)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_status_code', fields.IntField(null=True)),
                ('last_error', fields.CharField(null=True, max_length=500)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'alert_delivery', 'app': 'models', 'indexes': [Index(fields=['status', 'next_attempt_at'], name='alert_delivery_due'), Index(fields=['event_id'], name='alert_delivery_event')], 'pk_attr': 'id', 'table_description': 'One message to one target (a webhook URL or an email address), and how sending went.'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='AlertRule',
            options={'table': 'alert_rule', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A configured alert: a usage rule, or delivery targets for a built-in alert kind.'},
        ),
        ops.AddField(
            model_name='AlertRule',
            name='episode_started_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='AlertRule',
            name='next_evaluation_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
