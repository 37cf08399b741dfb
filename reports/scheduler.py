"""The report scheduler inside `serve`: every few minutes, produce each organization's due
reports that are not stored yet.

An organization with schedules of its own (models/report_schedule.py, set through
`setReportSchedule`) gets exactly the kinds it scheduled, due at its own local times
(reports/periods.py `ReportTime`). One without follows the server-wide default: the kinds
AIZE_REPORTS_SCHEDULE lists, due (in its timezone) the DAILY report of the previous day from
00:30, the WEEKLY report of the previous ISO week from Monday 00:30, the MONTHLY report of
the previous billing period from 00:30 on its first day. A replica that was down catches up
the most recent due period of each kind on its next turn. With several
replicas (or uvicorn workers) each runs the loop; the unique report row makes each report
stored and delivered exactly once (see reports/store.py).

Off by default; AIZE_REPORTS_SCHEDULE turns it on, for every organization's schedules
(`organizations`) and as the default kinds (`on` or a list; docs/readme/reports.md). The clock is
injected, so tests drive `run_once` with any instant and no sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from coordination.leadership import Leadership
from models.database import Params, current_dialect, fetch_all, parse_db_datetime
from models.organization import Organization
from models.report import ReportKind
from models.report_schedule import ReportSchedule
from reports.periods import DEFAULT_REPORT_TIME, ReportTime, due_period
from reports.producer import ProducedReport, produce_report
from settings import Settings

log = logging.getLogger("aize.reports")

Clock = Callable[[], datetime]
# Reports of periods that started longer ago than this are never due any more (a
# billing period is at most 31 days, and the one before it is what may be due).
_LOOKBACK = timedelta(days=70)


def utc_now() -> datetime:
    return datetime.now(UTC)


def scheduled_kinds(settings: Settings) -> tuple[ReportKind, ...]:
    """The report kinds AIZE_REPORTS_SCHEDULE turns on for organizations without schedules of
    their own (empty when off or `organizations`)."""
    return tuple(ReportKind(kind.upper()) for kind in settings.reports_schedule)


class ReportScheduler:
    def __init__(
        self,
        kinds: tuple[ReportKind, ...],
        *,
        clock: Clock = utc_now,
        interval_seconds: float = 300.0,
        leadership: Leadership | None = None,
    ) -> None:
        self.kinds = kinds
        self.clock = clock
        self.interval_seconds = interval_seconds
        # With several processes only the leader takes turns (coordination/leadership.py).
        self.leadership = leadership

    async def run_once(self) -> list[ProducedReport]:
        """Produce every due report not stored yet; returns the ones this call stored.

        One organization's failure is logged and does not stop the others.
        """
        now = self.clock()
        stored = await _stored_since(now - _LOOKBACK)
        schedules = await _schedules_by_organization()
        produced: list[ProducedReport] = []
        for org in await Organization.all().order_by("id"):
            tz = ZoneInfo(org.timezone)
            plan = schedules.get(org.id) or {kind: DEFAULT_REPORT_TIME for kind in self.kinds}
            for kind, at in plan.items():
                period = due_period(kind, now, tz, org.billing_anchor_day, at)
                if (org.id, kind, period.start) in stored:
                    continue
                try:
                    result = await produce_report(org, kind, period, now)
                except Exception:
                    log.exception("%s report of %s failed", kind.value.lower(), org.slug)
                    continue
                if result.created:
                    log.info(
                        "stored %s report %d of %s", kind.value.lower(), result.report_id, org.slug
                    )
                    produced.append(result)
        return produced

    async def run_forever(self) -> None:
        """`run_once` every `interval_seconds` until cancelled."""
        while True:
            if self.leadership is not None:
                await self.leadership.wait_until_leader()
            try:
                await self.run_once()
            except Exception:  # the database may be briefly away; try again next turn
                log.exception("report scheduler turn failed")
            await asyncio.sleep(self.interval_seconds)


async def _schedules_by_organization() -> dict[int, dict[ReportKind, ReportTime]]:
    """Every organization's own schedules: organization id -> kind -> local due time."""
    plans: dict[int, dict[ReportKind, ReportTime]] = {}
    for row in await ReportSchedule.all().order_by("organization_id", "kind"):
        at = ReportTime(hour=row.hour, weekday=row.weekday, day_of_month=row.day_of_month)
        plans.setdefault(row.organization_id, {})[ReportKind(row.kind)] = at
    return plans


async def _stored_since(earliest: datetime) -> set[tuple[int, ReportKind, datetime]]:
    """(organization, kind, period start) of reports whose period starts after `earliest`."""
    params = Params(current_dialect())
    rows = await fetch_all(
        "SELECT organization_id, kind, period_start FROM report "
        f"WHERE period_start >= {params.add(earliest)}",
        params,
    )
    return {
        (int(r["organization_id"]), ReportKind(r["kind"]), parse_db_datetime(r["period_start"]))
        for r in rows
    }


def start_report_scheduler(
    settings: Settings, leadership: Leadership | None = None
) -> Callable[[], Awaitable[None]]:
    """Start the scheduler task unless AIZE_REPORTS_SCHEDULE is off; returns the coroutine
    function that stops it (a no-op when off)."""
    kinds = scheduled_kinds(settings)
    if not settings.reports_scheduler_on:

        async def nothing_to_stop() -> None:
            return None

        return nothing_to_stop
    scheduler = ReportScheduler(
        kinds, interval_seconds=settings.reports_check_seconds, leadership=leadership
    )
    task = asyncio.create_task(scheduler.run_forever(), name="report-scheduler")

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return stop
