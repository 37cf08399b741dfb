"""OrganizationPricing: a change of the organization's markup and fixed fee, from an instant on.

The organization row keeps the terms it was created with (`markup_bps`, `fixed_fee_nanos`):
they price every request before the first version here. Each version prices the requests
whose timestamp is at or after its `effective_from`, until the next version. Versions are
only ever added (or, while still in the future, replaced at the same instant), so a request
priced once keeps its price: the terms of its own instant never change afterwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.organization import Organization


class OrganizationPricing(Model):
    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization",
        related_name="pricing_versions",
        on_delete=fields.CASCADE,
        db_index=False,
    )
    # UTC instant from which these terms price requests (by the request's own timestamp).
    effective_from = fields.DatetimeField()
    # Basis points (2500 = 25%) and nano-USD, as on the organization row.
    markup_bps = fields.IntField()
    fixed_fee_nanos = fields.BigIntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    organization_id: int

    class Meta:
        table = "organization_pricing"
        # One version per instant; ingest loads an organization's versions in this order.
        unique_together = (("organization_id", "effective_from"),)
