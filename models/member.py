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
    # The gateway's own id for the person (directory sync upserts by it); None for members
    # created here until a sync with their email links them.
    external_id = fields.CharField(max_length=200, null=True)
    # Set when the member was removed (their tokens are revoked then); rows are kept so their
    # history keeps its name. A later sync or `member add` brings them back.
    removed_at = fields.DatetimeField(null=True)

    organization_id: int

    class Meta:
        table = "member"
        unique_together = (("organization", "email"), ("organization", "external_id"))

    def __str__(self) -> str:
        return self.name
