"""ReportSchedule: when one organization's report of one kind is produced, and who gets it.

One row per (organization, kind). An organization with no rows follows the server-wide
AIZE_REPORTS_SCHEDULE (every kind it lists, at 00:30 local, to the alert targets); an
organization with rows gets exactly the kinds it scheduled, at its own local times, sent
only to each schedule's own recipients (see reports/schedules.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.report import ReportKind

if TYPE_CHECKING:
    from models.organization import Organization


class ReportSchedule(Model):
    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization",
        related_name="report_schedules",
        on_delete=fields.CASCADE,
        db_index=False,
    )
    kind = fields.CharEnumField(ReportKind, max_length=10)
    # Local wall-clock hour (0-23) in the organization's timezone the report is due at.
    hour = fields.SmallIntField()
    # WEEKLY only: ISO weekday of the week after the period (1 = Monday ... 7 = Sunday).
    weekday = fields.SmallIntField(null=True)
    # MONTHLY only: day of month (1-28), the first such day on or after the period's end.
    day_of_month = fields.SmallIntField(null=True)
    # Recipients: email addresses (a JSON list, possibly empty) and at most one webhook.
    emails: fields.Field[list[str]] = fields.JSONField()
    webhook_url = fields.CharField(max_length=2000, null=True)
    webhook_secret = fields.CharField(max_length=200, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    organization_id: int

    class Meta:
        table = "report_schedule"
        # Also the index of an organization's schedule list.
        unique_together = (("organization", "kind"),)
