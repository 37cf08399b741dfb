"""LimitRequest: a key limit above the organization's approval threshold, waiting for an
Owner (cost governance). Until an Owner approves it, the key's old limit holds."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.api_key import ApiKey
    from models.organization import Organization


class LimitRequestStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    # A later limit change for the same key replaced it before anyone decided.
    SUPERSEDED = "SUPERSEDED"


class LimitRequest(Model):
    id = fields.BigIntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization",
        related_name="limit_requests",
        on_delete=fields.CASCADE,
        db_index=False,
    )
    api_key: fields.ForeignKeyRelation[ApiKey] = fields.ForeignKeyField(
        "models.ApiKey", related_name="limit_requests", on_delete=fields.CASCADE
    )
    # Member and token ids as plain numbers, like the audit trail: a removed member's
    # request keeps saying who asked.
    requested_by_member_id = fields.IntField(null=True)
    requested_by_token_id = fields.IntField(null=True)
    # Nano-USD; null means "no limit" (clearing a limit needs approval too).
    old_limit_nanos = fields.BigIntField(null=True)
    requested_limit_nanos = fields.BigIntField(null=True)
    status = fields.CharEnumField(
        LimitRequestStatus, max_length=12, default=LimitRequestStatus.PENDING
    )
    requested_at = fields.DatetimeField()
    decided_at = fields.DatetimeField(null=True)
    decided_by_member_id = fields.IntField(null=True)
    # The Owner's reason for a rejection.
    reason = fields.CharField(max_length=500, null=True)

    organization_id: int
    api_key_id: int

    class Meta:
        table = "limit_request"
        # The connection lists an organization's requests newest first by id.
        indexes = (("organization_id", "status", "id"),)
