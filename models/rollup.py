"""Pre-aggregated usage, maintained at ingest in the same transaction as the raw log.

Three UTC grains: a QUARTER (15 minutes), an HOUR and a DAY. Every timezone offset in use is a
multiple of 15 minutes, so any local bucket (a day in Asia/Kathmandu, an hour in
Asia/Kolkata) is an exact union of rollup rows; coarser grains make long ranges cheap.
Dimensions are plain integers/strings (member_id 0 = no member) so the unique key can serve
as the upsert target on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

DIMENSION_COLUMNS = (
    "api_key_id",
    "member_id",
    "model",
    "provider_model",
    "endpoint",
    "status_code",
)
MEASURE_COLUMNS = (
    "requests",
    "successful",
    "client_errors",
    "server_errors",
    "unpriced",
    "input_tokens",
    "output_tokens",
    "provider_cost_nanos",
    "markup_nanos",
    "fixed_fee_nanos",
    "customer_cost_nanos",
    "latency_ms_sum",
)


class UsageRollupBase(Model):
    id = fields.BigIntField(primary_key=True)
    organization_id = fields.IntField()
    bucket_start = fields.DatetimeField()
    api_key_id = fields.IntField()
    member_id = fields.IntField()
    model = fields.CharField(max_length=100)
    provider_model = fields.CharField(max_length=100)
    endpoint = fields.CharField(max_length=200)
    status_code = fields.SmallIntField()
    requests = fields.BigIntField(default=0)
    successful = fields.BigIntField(default=0)
    client_errors = fields.BigIntField(default=0)
    server_errors = fields.BigIntField(default=0)
    unpriced = fields.BigIntField(default=0)
    input_tokens = fields.BigIntField(default=0)
    output_tokens = fields.BigIntField(default=0)
    provider_cost_nanos = fields.BigIntField(default=0)
    markup_nanos = fields.BigIntField(default=0)
    fixed_fee_nanos = fields.BigIntField(default=0)
    customer_cost_nanos = fields.BigIntField(default=0)
    latency_ms_sum = fields.BigIntField(default=0)

    class Meta:
        abstract = True


_UNIQUE = (
    (
        "organization_id",
        "bucket_start",
        "api_key_id",
        "member_id",
        "model",
        "provider_model",
        "endpoint",
        "status_code",
    ),
)


class UsageRollupQuarter(UsageRollupBase):
    class Meta:
        table = "usage_rollup_quarter"
        unique_together = _UNIQUE


class UsageRollupHour(UsageRollupBase):
    class Meta:
        table = "usage_rollup_hour"
        unique_together = _UNIQUE


class UsageRollupDay(UsageRollupBase):
    class Meta:
        table = "usage_rollup_day"
        unique_together = _UNIQUE
