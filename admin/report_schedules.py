"""Report schedules: which reports an organization gets, when, and who receives them.

One schedule per kind (DAILY, WEEKLY, MONTHLY). Setting a kind's schedule replaces it as a
whole; the first schedule an organization sets takes it off the server-wide default
(AIZE_REPORTS_SCHEDULE), so from then on it gets exactly the kinds it scheduled, sent only
to their recipients. Admins and Owners read them; changing them needs an admin-scoped token
(graph/permissions.py). Every change is recorded in the audit trail in its own transaction.

Webhook secrets work as for alert rules: leave one out and it is generated (returned once,
by the change that set it) or, for the same webhook URL, the current one is kept; afterwards
only its last four characters are readable, and the trail records no more than that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from alerts.targets import (
    check_email,
    check_secret,
    check_webhook_url,
    generate_secret,
    mask_webhook_url,
    secret_hint,
)
from audit.trail import Actor, record_change
from models.report import ReportKind
from models.report_schedule import ReportSchedule
from resolvers.errors import BadInputError, NotFoundError
from resolvers.scope import Scope
from spend.state import lock_organization

__all__ = [
    "MAX_EMAILS",
    "SavedSchedule",
    "ScheduleInput",
    "list_report_schedules",
    "remove_report_schedule",
    "report_schedule_by_id",
    "set_report_schedule",
]

MAX_EMAILS = 20
# Report schedule ids are 32-bit integers: a larger number names none (and must not reach SQL).
_MAX_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class ScheduleInput:
    """A kind's schedule: the local `hour` (0-23), for WEEKLY the ISO `weekday` (1 = Monday,
    default 1), for MONTHLY the `day_of_month` (1-28; None: the day the period ends), and
    the recipients."""

    kind: ReportKind
    hour: int = 0
    weekday: int | None = None
    day_of_month: int | None = None
    emails: tuple[str, ...] = ()
    webhook_url: str | None = None
    webhook_secret: str | None = None


@dataclass(frozen=True, slots=True)
class SavedSchedule:
    """The stored schedule, and the webhook secret this change set (None if it set none)."""

    schedule: ReportSchedule
    webhook_secret: str | None


async def list_report_schedules(scope: Scope) -> list[ReportSchedule]:
    """The organization's schedules, DAILY, WEEKLY, MONTHLY (Admins/Owners; ForbiddenError
    otherwise)."""
    scope.require_team("report schedules")
    rows = await scope.filter(ReportSchedule)
    order = list(ReportKind)
    return sorted(rows, key=lambda row: order.index(ReportKind(row.kind)))


async def report_schedule_by_id(scope: Scope, schedule_id: int) -> ReportSchedule | None:
    """The schedule; None when missing, another organization's, or the viewer is a Member."""
    if not scope.sees_team or not 1 <= schedule_id <= _MAX_ID:
        return None
    return await scope.filter(ReportSchedule).get_or_none(id=schedule_id)


async def set_report_schedule(scope: Scope, actor: Actor, data: ScheduleInput) -> SavedSchedule:
    """Create or replace the organization's schedule of `data.kind`; BadInputError naming
    the first bad field."""
    scope.require_team("report schedules")
    columns = _columns(data)
    async with in_transaction() as conn:
        # Serializes two Admins setting the same kind at once (the second replaces the first).
        await lock_organization(conn, scope.organization_id)
        current = await scope.filter(ReportSchedule).filter(kind=data.kind).using_db(conn).first()
        secret = _secret(data, current)
        columns["webhook_secret"] = secret
        if current is None:
            schedule = await ReportSchedule.create(
                organization_id=scope.organization_id, kind=data.kind, using_db=conn, **columns
            )
            before = dict.fromkeys(_audited(schedule))
        else:
            before = _audited(current)
            this_schedule = (
                Scope.for_organization(current.organization_id)
                .filter(ReportSchedule)
                .filter(id=current.id)
            )
            await this_schedule.using_db(conn).update(**columns)
            schedule = await this_schedule.using_db(conn).get()
        after = _audited(schedule)
        await _record(conn, scope, actor, "reportSchedule.set", schedule, before, after)
    new_secret = secret if current is None or secret != current.webhook_secret else None
    return SavedSchedule(schedule, new_secret)


async def remove_report_schedule(scope: Scope, actor: Actor, schedule_id: int) -> None:
    """Delete the schedule; NotFoundError for a missing one or another organization's. The
    organization's last removal returns it to the server-wide default."""
    scope.require_team("report schedules")
    async with in_transaction() as conn:
        await lock_organization(conn, scope.organization_id)
        schedule = None
        if 1 <= schedule_id <= _MAX_ID:
            schedule = await (
                scope.filter(ReportSchedule).filter(id=schedule_id).using_db(conn).first()
            )
        if schedule is None:
            raise NotFoundError("id: no such report schedule")
        await scope.filter(ReportSchedule).filter(id=schedule.id).using_db(conn).delete()
        before = _audited(schedule)
        await _record(
            conn, scope, actor, "reportSchedule.remove", schedule, before, dict.fromkeys(before)
        )


async def _record(
    conn: BaseDBAsyncClient,
    scope: Scope,
    actor: Actor,
    action: str,
    schedule: ReportSchedule,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    changes = {name: (before[name], after[name]) for name in after}
    await record_change(
        scope.organization_id,
        actor,
        action,
        "ReportSchedule",
        schedule.id,
        changes,
        connection=conn,
    )


def _audited(schedule: ReportSchedule) -> dict[str, Any]:
    """What the trail shows of a schedule: no webhook path or secret, as the API shows them."""
    return {
        "kind": ReportKind(schedule.kind).value,
        "hour": schedule.hour,
        "weekday": schedule.weekday,
        "dayOfMonth": schedule.day_of_month,
        "emails": list(schedule.emails),
        "webhookUrl": None
        if schedule.webhook_url is None
        else mask_webhook_url(schedule.webhook_url),
        "webhookSecret": None
        if schedule.webhook_secret is None
        else secret_hint(schedule.webhook_secret),
    }


def _columns(data: ScheduleInput) -> dict[str, Any]:
    if not 0 <= data.hour <= 23:
        raise BadInputError(f"hour: a local hour from 0 to 23, got {data.hour}")
    weekday = data.weekday
    if data.kind is ReportKind.WEEKLY:
        weekday = 1 if weekday is None else weekday
        if not 1 <= weekday <= 7:
            raise BadInputError(f"weekday: 1 (Monday) to 7 (Sunday), got {weekday}")
    elif weekday is not None:
        raise BadInputError(f"weekday: only WEEKLY schedules have one, not {data.kind.value}")
    day = data.day_of_month
    if data.kind is not ReportKind.MONTHLY and day is not None:
        raise BadInputError(f"dayOfMonth: only MONTHLY schedules have one, not {data.kind.value}")
    if day is not None and not 1 <= day <= 28:
        raise BadInputError(f"dayOfMonth: 1 to 28 (every month has it), got {day}")
    if len(data.emails) > MAX_EMAILS:
        raise BadInputError(f"emails: at most {MAX_EMAILS} addresses")
    emails: list[str] = []
    for position, address in enumerate(data.emails):
        cleaned = _checked(f"emails[{position}]", check_email, address)
        if cleaned is not None and cleaned not in emails:
            emails.append(cleaned)
    return {
        "hour": data.hour,
        "weekday": weekday,
        "day_of_month": day,
        "emails": emails,
        "webhook_url": _checked("webhookUrl", check_webhook_url, data.webhook_url),
    }


def _secret(data: ScheduleInput, current: ReportSchedule | None) -> str | None:
    if data.webhook_url is None:
        if data.webhook_secret is not None:
            raise BadInputError("webhookSecret: only a schedule with a webhookUrl has a secret")
        return None
    if data.webhook_secret is not None:
        return _checked("webhookSecret", check_secret, data.webhook_secret)
    same_url = current is not None and current.webhook_url == data.webhook_url.strip()
    if same_url and current is not None and current.webhook_secret is not None:
        return current.webhook_secret
    return generate_secret()


def _checked(field: str, check: Callable[[str], str], value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check(value)
    except ValueError as exc:
        raise BadInputError(f"{field}: {exc}") from None
