"""Report schedule mutations (Admins/Owners with an admin-scoped token)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from admin.report_schedules import remove_report_schedule, set_report_schedule
from audit.trail import Actor
from graph.context import Info
from graph.permissions import CanAdminister, require
from graph.types.report_schedule import (
    ReportSchedulePayload,
    ReportScheduleType,
    SetReportScheduleInput,
    decode_schedule_id,
)


@strawberry.type
class ReportScheduleMutations:
    @strawberry.mutation(
        description=(
            "Schedule one report kind for the organization, at a local hour (and weekday or "
            "day of month), with its recipients; replaces the kind's schedule. Once an "
            "organization has a schedule, it gets only the kinds it scheduled."
        ),
        extensions=require(CanAdminister),
    )
    async def set_report_schedule(
        self,
        info: Info,
        input: Annotated[
            SetReportScheduleInput,
            strawberry.argument(description="The kind, local time and recipients."),
        ],
    ) -> ReportSchedulePayload:
        saved = await set_report_schedule(
            info.context.scope, Actor.of(info.context.viewer), input.to_schedule_input()
        )
        return ReportSchedulePayload(
            schedule=ReportScheduleType.from_model(saved.schedule),
            webhook_secret=saved.webhook_secret,
        )

    @strawberry.mutation(
        description=(
            "Remove a schedule; without any, the organization follows the server-wide "
            "AIZE_REPORTS_SCHEDULE again. Returns the removed id."
        ),
        extensions=require(CanAdminister),
    )
    async def remove_report_schedule(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The schedule's global id.")],
    ) -> strawberry.ID:
        await remove_report_schedule(
            info.context.scope, Actor.of(info.context.viewer), decode_schedule_id(id)
        )
        return id
