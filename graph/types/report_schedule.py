"""ReportSchedule type: when an organization's report of one kind is due, and who gets it;
and the input and payload of `setReportSchedule`."""

from __future__ import annotations

import strawberry

from admin.report_schedules import ScheduleInput
from alerts.targets import mask_webhook_url, secret_hint
from graph.types.node import Node
from graph.types.report import ReportKindEnum
from models.global_ids import decode_global_id_of, encode_global_id
from models.report import ReportKind
from models.report_schedule import ReportSchedule


@strawberry.type(
    name="ReportSchedule",
    description=(
        "The organization's own schedule of one report kind, in its timezone. An organization "
        "with schedules gets exactly the kinds it scheduled, sent only to their recipients."
    ),
)
class ReportScheduleType(Node):
    kind: ReportKindEnum = strawberry.field(description="The report kind this schedule produces.")  # type: ignore[valid-type]
    hour: int = strawberry.field(
        description="Local hour (0-23) the report is due at; never before 00:30 after the period."
    )
    weekday: int | None = strawberry.field(
        description="WEEKLY: ISO weekday of the week after the period (1 = Monday)."
    )
    day_of_month: int | None = strawberry.field(
        description="MONTHLY: the first such day (1-28) on or after the period's end (null: "
        "the day it ends)."
    )
    emails: list[str] = strawberry.field(description="Addresses the report is emailed to.")
    webhook_url: str | None = strawberry.field(
        description="Where the report is POSTed, masked (scheme://host/…)."
    )
    webhook_secret_hint: str | None = strawberry.field(
        description="The last four characters of the webhook's signing secret."
    )

    @classmethod
    def from_model(cls, schedule: ReportSchedule) -> ReportScheduleType:
        return cls(
            id=strawberry.ID(encode_global_id("ReportSchedule", schedule.id)),
            kind=ReportKind(schedule.kind),
            hour=schedule.hour,
            weekday=schedule.weekday,
            day_of_month=schedule.day_of_month,
            emails=list(schedule.emails),
            webhook_url=None
            if schedule.webhook_url is None
            else mask_webhook_url(schedule.webhook_url),
            webhook_secret_hint=None
            if schedule.webhook_secret is None
            else secret_hint(schedule.webhook_secret),
        )


@strawberry.input(
    name="SetReportScheduleInput",
    description="A kind's whole schedule; it replaces the kind's current one.",
)
class SetReportScheduleInput:
    kind: ReportKindEnum = strawberry.field(  # type: ignore[valid-type]
        description="The report kind to schedule; replaces that kind's schedule."
    )
    hour: int = strawberry.field(default=0, description="Local hour 0-23 (default 0: 00:30).")
    weekday: int | None = strawberry.field(
        default=None, description="WEEKLY only: 1 (Monday, the default) to 7 (Sunday)."
    )
    day_of_month: int | None = strawberry.field(
        default=None, description="MONTHLY only: 1-28 (default: the day the period ends)."
    )
    emails: list[str] = strawberry.field(
        default_factory=list, description="Up to 20 addresses (emailed when SMTP is set up)."
    )
    webhook_url: str | None = strawberry.field(
        default=None, description="http(s) URL to POST each report to (signed like alerts)."
    )
    webhook_secret: str | None = strawberry.field(
        default=None,
        description=(
            "16 to 200 characters; left out, the current one is kept for the same URL, else "
            "one is generated and returned once."
        ),
    )

    def to_schedule_input(self) -> ScheduleInput:
        return ScheduleInput(
            kind=ReportKind(self.kind),
            hour=self.hour,
            weekday=self.weekday,
            day_of_month=self.day_of_month,
            emails=tuple(self.emails),
            webhook_url=self.webhook_url,
            webhook_secret=self.webhook_secret,
        )


@strawberry.type(name="ReportSchedulePayload", description="A set report schedule.")
class ReportSchedulePayload:
    schedule: ReportScheduleType = strawberry.field(description="The schedule as stored.")
    webhook_secret: str | None = strawberry.field(
        description=(
            "The signing secret this change set (generated, or the one you gave), shown only "
            "here and only once; null when the secret did not change."
        )
    )


def decode_schedule_id(global_id: strawberry.ID) -> int:
    """The schedule's primary key; -1 (never found) for an id of another type or undecodable."""
    return decode_global_id_of(str(global_id), "ReportSchedule") or -1
