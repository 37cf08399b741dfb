"""SpendCounter: spend per billing period, for the organization budget and each key's limit."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class SpendCounter(Model):
    id = fields.BigIntField(primary_key=True)
    organization_id = fields.IntField()
    # 0 = the organization as a whole; otherwise the API key's id.
    api_key_id = fields.IntField()
    period_start = fields.DatetimeField()
    spend_nanos = fields.BigIntField(default=0)
    requests = fields.BigIntField(default=0)

    class Meta:
        table = "spend_counter"
        unique_together = (("organization_id", "api_key_id", "period_start"),)
