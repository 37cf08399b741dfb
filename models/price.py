"""ModelPrice: the versioned price catalog as stored (seeded from pricing/prices.json)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ModelPrice(Model):
    id = fields.IntField(primary_key=True)
    model = fields.CharField(max_length=100)
    provider = fields.CharField(max_length=50)
    input_per_million_nanos = fields.BigIntField()
    output_per_million_nanos = fields.BigIntField()
    effective_from = fields.DatetimeField()
    # The version's optional prices (per class, per request, tiers) in pricing/prices.json's
    # format (pricing.catalog.class_price_fields); null for input/output only.
    class_prices: fields.Field[dict[str, object] | None] = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "model_price"
        unique_together = (("model", "effective_from"),)
