"""Report: a rendered scheduled report (daily, weekly, monthly) of one organization.

The unique (organization, kind, period_start) makes each report exist once per period
whichever replica or cron job produced it first.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.organization import Organization


class ReportKind(StrEnum):
    DAILY = "DAILY"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


class Report(Model):
    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="reports", on_delete=fields.CASCADE, db_index=False
    )
    kind = fields.CharEnumField(ReportKind, max_length=10)
    # The period covered, [start, end) in UTC; local calendar units of `timezone`.
    period_start = fields.DatetimeField()
    period_end = fields.DatetimeField()
    timezone = fields.CharField(max_length=64)
    html = fields.TextField()
    csv = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    organization_id: int

    class Meta:
        table = "report"
        # Also the index of an organization's report list.
        unique_together = (("organization", "kind", "period_start"),)
