"""Directory sync: the gateway's own ids on api_key and member (unique per organization),
a key's revocation time and last synced status, the UNSYNCED key status, removed members."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from models.api_key import KeyStatus
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0010_audit_trail')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='ApiKey',
            name='status',
            field=fields.CharEnumField(default=KeyStatus.ACTIVE, description='ACTIVE: ACTIVE\nBLOCKED: BLOCKED\nREVOKED: REVOKED\nUNSYNCED: UNSYNCED', enum_type=KeyStatus, max_length=10),
        ),
        ops.AddField(
            model_name='ApiKey',
            name='external_id',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='ApiKey',
            name='gateway_status',
            field=fields.CharEnumField(null=True, description='ACTIVE: ACTIVE\nBLOCKED: BLOCKED\nREVOKED: REVOKED\nUNSYNCED: UNSYNCED', enum_type=KeyStatus, max_length=10),
        ),
        ops.AddField(
            model_name='ApiKey',
            name='revoked_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddConstraint(
            model_name='ApiKey',
            constraint=UniqueConstraint(fields=('organization', 'external_id'), name=None),
        ),
        ops.AddField(
            model_name='Member',
            name='external_id',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Member',
            name='removed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddConstraint(
            model_name='Member',
            constraint=UniqueConstraint(fields=('organization', 'external_id'), name=None),
        ),
    ]
