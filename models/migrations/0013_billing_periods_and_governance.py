"""Billing periods by tier (an Enterprise contract period on organization), cost governance
(limit_request, organization.limit_approval_threshold_nanos, the LIMIT_REQUEST alert kind) and
the budget enforcement mode (organization.budget_enforcement)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.alert import AlertKind
from models.limit_request import LimitRequestStatus
from models.organization import BudgetEnforcement
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class DescriptionOnly(ops.AlterField):
    """AlertKind gained LIMIT_REQUEST: only the enum field's description changes (the column
    stays varchar(20)), so only the migration state moves. A real AlterField would rebuild
    the SQLite table and drop alert_event's unique constraint, which ON CONFLICT needs.
    Subclasses tortoise's AlterField and skips its database step (public operation API)."""

    async def database_forward(self, *args: object, **kwargs: object) -> None:
        return None

    async def database_backward(self, *args: object, **kwargs: object) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('models', '0012_administration')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LimitRequest',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='limit_requests', on_delete=OnDelete.CASCADE)),
                ('api_key', fields.ForeignKeyField('models.ApiKey', source_field='api_key_id', db_constraint=True, to_field='id', related_name='limit_requests', on_delete=OnDelete.CASCADE)),
                ('requested_by_member_id', fields.IntField(null=True)),
                ('requested_by_token_id', fields.IntField(null=True)),
                ('old_limit_nanos', fields.BigIntField(null=True)),
                ('requested_limit_nanos', fields.BigIntField(null=True)),
                ('status', fields.CharEnumField(default=LimitRequestStatus.PENDING, description='PENDING: PENDING\nAPPROVED: APPROVED\nREJECTED: REJECTED\nSUPERSEDED: SUPERSEDED', enum_type=LimitRequestStatus, max_length=12)),
                ('requested_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decided_by_member_id', fields.IntField(null=True)),
                ('reason', fields.CharField(null=True, max_length=500)),
            ],
            options={'table': 'limit_request', 'app': 'models', 'indexes': [Index(fields=['organization_id', 'status', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        DescriptionOnly(
            model_name='AlertEvent',
            name='kind',
            field=fields.CharEnumField(description='KEY_LIMIT: KEY_LIMIT\nBUDGET: BUDGET\nLOW_BALANCE: LOW_BALANCE\nDAILY_SPEND: DAILY_SPEND\nUNUSUAL_ACTIVITY: UNUSUAL_ACTIVITY\nERROR_RATE: ERROR_RATE\nLIMIT_REQUEST: LIMIT_REQUEST', enum_type=AlertKind, max_length=20),
        ),
        DescriptionOnly(
            model_name='AlertRule',
            name='kind',
            field=fields.CharEnumField(description='KEY_LIMIT: KEY_LIMIT\nBUDGET: BUDGET\nLOW_BALANCE: LOW_BALANCE\nDAILY_SPEND: DAILY_SPEND\nUNUSUAL_ACTIVITY: UNUSUAL_ACTIVITY\nERROR_RATE: ERROR_RATE\nLIMIT_REQUEST: LIMIT_REQUEST', enum_type=AlertKind, max_length=20),
        ),
        ops.AddField(
            model_name='Organization',
            name='budget_enforcement',
            field=fields.CharEnumField(default=BudgetEnforcement.ALERT_ONLY, db_default=BudgetEnforcement.ALERT_ONLY, description='ALERT_ONLY: ALERT_ONLY\nBLOCK: BLOCK', enum_type=BudgetEnforcement, max_length=20),
        ),
        ops.AddField(
            model_name='Organization',
            name='contract_period_months',
            field=fields.SmallIntField(null=True),
        ),
        ops.AddField(
            model_name='Organization',
            name='contract_period_start',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='Organization',
            name='limit_approval_threshold_nanos',
            field=fields.BigIntField(null=True),
        ),
    ]
