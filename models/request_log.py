"""RequestLog: one gateway call, priced, with every field of the usage page's log record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:
    from models.api_key import ApiKey
    from models.member import Member
    from models.organization import Organization


class RequestLog(Model):
    id = fields.BigIntField(primary_key=True)
    # The gateway's id for the call; unique, so a resend is recognised and never counted twice.
    request_id = fields.UUIDField(unique=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization",
        related_name="request_logs",
        on_delete=fields.CASCADE,
        db_index=False,
    )
    api_key: fields.ForeignKeyRelation[ApiKey] = fields.ForeignKeyField(
        "models.ApiKey", related_name="request_logs", on_delete=fields.CASCADE, db_index=False
    )
    member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member",
        related_name="request_logs",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=False,
    )
    timestamp = fields.DatetimeField()
    model = fields.CharField(max_length=100)
    provider_model = fields.CharField(max_length=100)
    endpoint = fields.CharField(max_length=200)
    input_tokens = fields.BigIntField()
    output_tokens = fields.BigIntField()
    total_tokens = fields.BigIntField()
    provider_cost_nanos = fields.BigIntField()
    markup_nanos = fields.BigIntField()
    fixed_fee_nanos = fields.BigIntField()
    customer_cost_nanos = fields.BigIntField()
    # False when no catalog price existed at ingest; `reprice` fixes it later.
    priced = fields.BooleanField(default=True)
    latency_ms = fields.IntField()
    status_code = fields.SmallIntField()
    error_message = fields.TextField(null=True)
    metadata: fields.Field[dict[str, object] | None] = fields.JSONField(null=True)
    request_body = fields.TextField(null=True)
    response_body = fields.TextField(null=True)
    ingested_at = fields.DatetimeField(auto_now_add=True)

    organization_id: int
    api_key_id: int
    member_id: int | None

    class Meta:
        table = "request_log"
        # Every read is tenant-scoped and newest-first, so indexes lead with the organization.
        indexes = (
            Index(fields=("organization_id", "timestamp", "id"), name="request_log_org_ts"),
            Index(
                fields=("organization_id", "api_key_id", "timestamp"), name="request_log_org_key_ts"
            ),
            Index(
                fields=("organization_id", "member_id", "timestamp"), name="request_log_org_mem_ts"
            ),
            Index(fields=("organization_id", "priced"), name="request_log_org_priced"),
        )
