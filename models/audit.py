"""AuditEntry: one administrative change (who, when, what, old -> new, through which token).

Written in the same transaction as the change it records, so the trail never shows a change
that was rolled back nor misses one that was committed. Rows are only ever inserted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.organization import Organization


class AuditEntry(Model):
    id = fields.BigIntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization",
        related_name="audit_entries",
        on_delete=fields.CASCADE,
        db_index=False,
    )
    # Who acted: ids kept as plain numbers (a removed member or token keeps its history);
    # None for the server itself (CLI commands run by an operator, scheduled jobs).
    actor_member_id = fields.IntField(null=True)
    actor_token_id = fields.IntField(null=True)
    # "cli", "graphql", "directory-sync", ...: the way the change came in.
    via = fields.CharField(max_length=32)
    # Dotted verb, e.g. "apiKey.update", "member.role", "organization.settings".
    action = fields.CharField(max_length=64)
    # What changed: a type name ("ApiKey", "Member", "Organization", ...) and its id.
    subject_type = fields.CharField(max_length=32)
    subject_id = fields.BigIntField(null=True)
    # {field: {"old": value, "new": value}}, values as the API shows them (strings for money).
    changes: fields.Field[dict[str, Any]] = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    organization_id: int

    class Meta:
        table = "audit_entry"
        # The connection lists an organization's entries newest first by id.
        indexes = (("organization_id", "id"),)
