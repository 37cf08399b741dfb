"""Member: a person in one organization, with one role."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.organization import Organization


class Role(StrEnum):
    MEMBER = "MEMBER"
    ADMIN = "ADMIN"
    OWNER = "OWNER"

    @property
    def sees_team(self) -> bool:
        """Admins and Owners see the whole organization; Members only themselves."""
        return self is not Role.MEMBER


class Member(Model):
    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="members", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=200)
    email = fields.CharField(max_length=320)
    role = fields.CharEnumField(Role, max_length=10, default=Role.MEMBER)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Set when the member is removed: their tokens are revoked and they no longer count as a
    # member, but the row stays so their past requests keep their name (rows are never
    # deleted; request_log.member_id has no foreign key).
    removed_at = fields.DatetimeField(null=True)

    organization_id: int

    class Meta:
        table = "member"
        unique_together = (("organization", "email"),)

    def __str__(self) -> str:
        return self.name
