"""Administration: organization_pricing (markup and fee versions, models/organization_pricing.py).

member.removed_at, which administration also uses, comes with 0011_directory_sync."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0011_directory_sync')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OrganizationPricing',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='pricing_versions', on_delete=OnDelete.CASCADE)),
                ('effective_from', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('markup_bps', fields.IntField()),
                ('fixed_fee_nanos', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'organization_pricing', 'app': 'models', 'unique_together': (('organization_id', 'effective_from'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
