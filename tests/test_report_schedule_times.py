"""Per-organization report schedules in the scheduler: exact due instants in the
organization's timezone (DST days, a +05:45 zone), only the scheduled kinds, the server-wide
default for organizations without schedules, and delivery to each schedule's recipients."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest

from alerts.worker import run_once as run_alert_worker_once
from models.alert import AlertKind, AlertRule
from models.alert_delivery import AlertDelivery, DeliveryChannel
from models.global_ids import encode_global_id
from models.member import Role
from models.organization import Organization
from models.report import Report, ReportKind
from models.report_schedule import ReportSchedule
from reports.periods import ReportTime, due_at, period_containing
from reports.scheduler import ReportScheduler, start_report_scheduler
from settings import Settings
from tests.alert_receivers import (  # noqa: F401 - fixtures
    SmtpReceiver,
    WebhookReceiver,
    receiver_fixture,
    settings_fixture,
    smtp_fixture,
)
from tests.factories import make_key, make_member, make_org, make_record, store

BERLIN = ZoneInfo("Europe/Berlin")
KATHMANDU = ZoneInfo("Asia/Kathmandu")  # UTC+05:45, no DST
NEW_YORK = ZoneInfo("America/New_York")
SECRET = "whsec_schedule_0123456789abcdef"
_MICROSECOND = timedelta(microseconds=1)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _due(kind: ReportKind, day: datetime, tz: ZoneInfo, at: ReportTime) -> datetime:
    return due_at(kind, period_containing(kind, day, tz), tz, at)


def test_a_daily_report_in_kathmandu_is_due_at_the_local_hour() -> None:
    due = _due(
        ReportKind.DAILY, datetime(2026, 3, 9, 12, tzinfo=KATHMANDU), KATHMANDU, ReportTime(6)
    )

    assert due == datetime(2026, 3, 10, 6, 0, tzinfo=KATHMANDU)
    assert due == datetime(2026, 3, 10, 0, 15, tzinfo=UTC)


def test_a_daily_report_at_hour_zero_waits_the_half_hour_after_midnight() -> None:
    due = _due(
        ReportKind.DAILY, datetime(2026, 3, 9, 12, tzinfo=KATHMANDU), KATHMANDU, ReportTime()
    )

    assert due == datetime(2026, 3, 9, 18, 45, tzinfo=UTC)  # 00:30 on the 10th, +05:45


def test_a_schedule_hour_skipped_by_spring_forward_is_the_first_instant_after_the_gap() -> None:
    # Berlin, Sunday 29 March 2026: 02:00 CET jumps to 03:00 CEST.
    due = _due(ReportKind.DAILY, datetime(2026, 3, 28, 12, tzinfo=BERLIN), BERLIN, ReportTime(2))

    assert due == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST


def test_a_schedule_hour_repeated_by_fall_back_is_its_first_occurrence() -> None:
    # New York, Sunday 1 November 2026: 01:00-02:00 happens twice (EDT, then EST).
    due = _due(
        ReportKind.DAILY, datetime(2026, 10, 31, 12, tzinfo=NEW_YORK), NEW_YORK, ReportTime(1)
    )

    assert due == datetime(2026, 11, 1, 5, 0, tzinfo=UTC)  # 01:00 EDT


def test_a_weekly_report_is_due_on_the_weekday_of_the_following_week() -> None:
    # The ISO week of Monday 23 March 2026 ends on the DST Sunday; due Wednesday 09:00 CEST.
    at = ReportTime(hour=9, weekday=3)
    due = _due(ReportKind.WEEKLY, datetime(2026, 3, 25, 12, tzinfo=BERLIN), BERLIN, at)

    assert due == datetime(2026, 4, 1, 7, 0, tzinfo=UTC)


def test_a_monthly_report_is_due_on_the_first_such_day_after_the_billing_period() -> None:
    at = ReportTime(hour=8, day_of_month=3)
    due = _due(ReportKind.MONTHLY, datetime(2026, 10, 15, tzinfo=BERLIN), BERLIN, at)

    # October's period ends 1 November 00:00 CET (after the fall-back), due 3 November 08:00.
    assert due == datetime(2026, 11, 3, 7, 0, tzinfo=UTC)


@pytest.fixture
async def kathmandu(db: object) -> Organization:
    org = await make_org(timezone="Asia/Kathmandu")
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    day = datetime(2026, 3, 9, 12, tzinfo=KATHMANDU)
    await store(*(make_record(org, key, owner, day + timedelta(hours=h)) for h in range(3)))
    return org


async def test_the_scheduler_produces_a_scheduled_report_exactly_at_its_due_instant(
    kathmandu: Organization,
) -> None:
    await ReportSchedule.create(
        organization=kathmandu, kind=ReportKind.DAILY, hour=6, emails=["ops@example.com"]
    )
    due = datetime(2026, 3, 10, 0, 15, tzinfo=UTC)
    clock = Clock(due - _MICROSECOND)
    # No server-wide kinds: only the organization's own schedule runs.
    scheduler = ReportScheduler((), clock=clock)

    just_before = await scheduler.run_once()
    clock.now = due
    at_due = await scheduler.run_once()

    # A microsecond early, the latest due report is still the 8th's (caught up); the 9th's
    # comes at 06:00 local on the 10th, and not a microsecond before.
    starts = [(await Report.get(id=r.report_id)).period_start for r in (*just_before, *at_due)]
    assert starts == [
        datetime(2026, 3, 8, tzinfo=KATHMANDU).astimezone(UTC),
        datetime(2026, 3, 9, tzinfo=KATHMANDU).astimezone(UTC),
    ]


async def test_an_organization_with_schedules_gets_only_the_kinds_it_scheduled(
    kathmandu: Organization,
) -> None:
    other = await make_org(timezone="Asia/Kathmandu")
    await ReportSchedule.create(
        organization=kathmandu, kind=ReportKind.WEEKLY, hour=0, weekday=1, emails=[]
    )
    now = datetime(2026, 3, 16, 12, tzinfo=KATHMANDU)  # a Monday afternoon

    await ReportScheduler((ReportKind.DAILY, ReportKind.MONTHLY), clock=Clock(now)).run_once()

    assert [r.kind for r in await Report.filter(organization_id=kathmandu.id)] == [
        ReportKind.WEEKLY
    ]
    # Without schedules of its own, the other organization follows the server-wide kinds.
    kinds = sorted(r.kind for r in await Report.filter(organization_id=other.id))
    assert kinds == [ReportKind.DAILY, ReportKind.MONTHLY]


async def test_a_scheduled_report_goes_only_to_the_schedules_recipients(
    kathmandu: Organization,
) -> None:
    await AlertRule.create(
        organization=kathmandu, kind=AlertKind.BUDGET, email="alerts@example.com"
    )
    await ReportSchedule.create(
        organization=kathmandu,
        kind=ReportKind.DAILY,
        hour=6,
        emails=["cfo@example.com", "ops@example.com"],
        webhook_url="https://hooks.example.com/reports",
        webhook_secret=SECRET,
    )

    [produced] = await ReportScheduler(
        (), clock=Clock(datetime(2026, 3, 10, 1, tzinfo=UTC))
    ).run_once()

    deliveries = await AlertDelivery.filter(organization_id=kathmandu.id).order_by(
        "channel", "target"
    )
    assert [(d.channel, d.target) for d in deliveries] == [
        (DeliveryChannel.EMAIL, "cfo@example.com"),
        (DeliveryChannel.EMAIL, "ops@example.com"),
        (DeliveryChannel.WEBHOOK, "https://hooks.example.com/reports"),
    ]
    assert {d.message_id for d in deliveries} == {encode_global_id("Report", produced.report_id)}


async def test_a_schedule_without_recipients_stores_the_report_and_sends_nothing(
    kathmandu: Organization,
) -> None:
    await AlertRule.create(
        organization=kathmandu, kind=AlertKind.BUDGET, email="alerts@example.com"
    )
    await ReportSchedule.create(organization=kathmandu, kind=ReportKind.DAILY, hour=6, emails=[])

    produced = await ReportScheduler(
        (), clock=Clock(datetime(2026, 3, 10, 1, tzinfo=UTC))
    ).run_once()

    assert len(produced) == 1
    assert await AlertDelivery.filter(organization_id=kathmandu.id).count() == 0


async def test_the_schedules_webhook_receives_the_report_signed_with_its_secret(
    settings: Settings, receiver: WebhookReceiver, smtp: SmtpReceiver
) -> None:
    org = await make_org(name="Everest AI", timezone="Asia/Kathmandu")
    await ReportSchedule.create(
        organization=org,
        kind=ReportKind.DAILY,
        hour=6,
        emails=["cfo@everest.test"],
        webhook_url=receiver.url,
        webhook_secret=SECRET,
    )
    now = datetime(2026, 3, 10, 0, 15, tzinfo=UTC)
    [produced] = await ReportScheduler((), clock=Clock(now)).run_once()

    sent = await run_alert_worker_once(settings, now)

    assert sent.deliveries.delivered == 2
    [request] = receiver.requests
    assert request.signature_is_valid(SECRET)
    assert orjson.loads(request.body)["csv"] == produced.csv
    [email] = smtp.messages
    assert email["To"] == "cfo@everest.test"
    assert email["Subject"] == "[Aize] Daily usage summary: Everest AI"


async def test_the_organizations_setting_runs_the_scheduler_without_default_kinds(
    db: object,
) -> None:
    settings = Settings.from_env({"AIZE_REPORTS_SCHEDULE": "organizations"})
    before = {t.get_name() for t in asyncio.all_tasks()}

    stop = start_report_scheduler(settings)
    started = {t.get_name() for t in asyncio.all_tasks()} - before
    await stop()

    assert started == {"report-scheduler"}
    assert (settings.reports_scheduler_on, settings.reports_schedule) == (True, ())
    assert Settings.from_env({}).reports_scheduler_on is False


async def test_replicas_store_and_deliver_a_scheduled_report_once(
    kathmandu: Organization,
) -> None:
    await ReportSchedule.create(
        organization=kathmandu, kind=ReportKind.DAILY, hour=6, emails=["ops@example.com"]
    )
    now = datetime(2026, 3, 10, 0, 15, tzinfo=UTC)
    replicas = [ReportScheduler((), clock=Clock(now)) for _ in range(3)]

    results = await asyncio.gather(*(r.run_once() for r in replicas))

    assert sum(len(produced) for produced in results) == 1
    assert await Report.filter(organization_id=kathmandu.id).count() == 1
    assert await AlertDelivery.filter(organization_id=kathmandu.id).count() == 1
