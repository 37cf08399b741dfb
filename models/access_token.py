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
    # Unique with the organization here, and across organizations through the lookup table
    # (AccessTokenLookup, written in the same transaction), which authentication reads first.
    token_hash = fields.CharField(max_length=64)
    scopes: fields.Field[list[str]] = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    organization_id: int
    member_id: int | None

    class Meta:
        table = "access_token"
        unique_together = (("organization", "token_hash"),)

    def scope_set(self) -> frozenset[Scope]:
        return frozenset(Scope(s) for s in self.scopes)


class AccessTokenLookup(Model):
    """Which organization a token hash belongs to: read first to authenticate

    The first of authentication's two steps (auth/tokens.py): a request's organization is
    not known before its token is.

    One row per access_token row, written in the same transaction (migration 0026 filled it
    from the tokens stored before). Its key makes a hash unique across organizations. In a
    Citus deployment it is a reference table (docs/SCALING.md): it has no foreign key to the
    organization (a reference table cannot reference a distributed one); access_token's hash
    references it instead (PostgreSQL).
    """

    token_hash = fields.CharField(max_length=64, primary_key=True)
    organization_id = fields.IntField()

    class Meta:
        table = "access_token_lookup"
