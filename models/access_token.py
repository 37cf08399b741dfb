"""AccessToken: a bearer token bound to one member of one organization, stored hashed."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.member import Member
    from models.organization import Organization


class Scope(StrEnum):
    READ = "read"
    EXPORT = "export"
    ADMIN = "admin"
    # Service tokens for the gateway: may ingest and ask about keys, never read analytics.
    INGEST = "ingest"
    # Service tokens for the gateway's directory sync: may upsert its keys and members, never
    # read analytics. Alone or with INGEST on the same memberless token.
    DIRECTORY = "directory"


# The scopes a token without a member (a gateway service token) may carry.
SERVICE_SCOPES = frozenset({Scope.INGEST, Scope.DIRECTORY})


class AccessToken(Model):
    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="access_tokens", on_delete=fields.CASCADE
    )
    # Service tokens (ingest, directory) have no member; every reading token has one.
    member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member", related_name="access_tokens", null=True, on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    # The first characters of the token, safe to show again ("aize_3f9a2c").
    prefix = fields.CharField(max_length=16)
    # SHA-256 hex of the whole token; the token itself is shown once and never stored.
    token_hash = fields.CharField(max_length=64, unique=True)
    scopes: fields.Field[list[str]] = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    organization_id: int
    member_id: int | None

    class Meta:
        table = "access_token"

    def scope_set(self) -> frozenset[Scope]:
        return frozenset(Scope(s) for s in self.scopes)
