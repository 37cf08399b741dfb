"""ApiKey: a gateway key, personal (owned by a member) or a team key (no owner)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.member import Member
    from models.organization import Organization


class KeyStatus(StrEnum):
    ACTIVE = "ACTIVE"
    BLOCKED = "BLOCKED"
    REVOKED = "REVOKED"
    # Known only from ingested usage: the gateway reported requests with this prefix before
    # directory sync told us about the key. keyAccess treats it as unknown; a sync adopts it.
    UNSYNCED = "UNSYNCED"


class ApiKey(Model):
    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="api_keys", on_delete=fields.CASCADE
    )
    owner: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="api_keys", null=True, on_delete=fields.SET_NULL
    )
    label = fields.CharField(max_length=200)
    # The visible start of the gateway key (e.g. "sk-aize-3f9a"); the secret never reaches us.
    prefix = fields.CharField(max_length=32)
    status = fields.CharEnumField(KeyStatus, max_length=10, default=KeyStatus.ACTIVE)
    status_reason = fields.CharField(max_length=200, null=True)
    monthly_limit_nanos = fields.BigIntField(null=True)
    # Set when spend control blocked the key for reaching its limit: the start (UTC) of the
    # billing period it reached it in. Such a block ends with that period or a higher limit;
    # a manual block (null here) lasts until someone lifts it.
    limit_blocked_period_start = fields.DatetimeField(null=True)
    # None = every model allowed; otherwise a list of model aliases.
    allowed_models: fields.Field[list[str] | None] = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)
    # The gateway's own id for the key (directory sync upserts by it); None for keys created
    # here (CLI, demo) or known only from usage, until a sync adopts them.
    external_id = fields.CharField(max_length=200, null=True)
    # The status the gateway last synced. A resend of the same status leaves `status` alone,
    # so a sync never lifts a block spend control or an administrator set here.
    gateway_status = fields.CharEnumField(KeyStatus, max_length=10, null=True)

    organization_id: int
    owner_id: int | None

    class Meta:
        table = "api_key"
        indexes = (("organization_id", "owner_id"),)
        unique_together = (("organization", "external_id"),)

    def __str__(self) -> str:
        return self.label
