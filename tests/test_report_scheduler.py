"""The report scheduler: each report once per period (across replicas too), delivered like
alerts, driven by an injected clock (no sleeps)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

import reports.scheduler
from alerts.worker import run_once as run_alert_worker_once
from models.alert import AlertKind, AlertRule
from models.alert_delivery import AlertDelivery, DeliveryChannel
from models.global_ids import encode_global_id
from models.member import Role
from models.organization import Organization
from models.report import Report, ReportKind
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
EVERY_KIND = (ReportKind.DAILY, ReportKind.WEEKLY, ReportKind.MONTHLY)
# Monday 13 May 2024, 00:31 in Berlin: yesterday, last week and April are all due.
MONDAY = datetime(2024, 5, 13, 0, 31, tzinfo=BERLIN)
SECRET = "whsec_test_0123456789abcdef"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def org(db: object) -> Organization:
    org = await make_org(timezone="Europe/Berlin", monthly_budget_nanos=50_000_000_000)
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner)
    await store(
        *(make_record(org, key, owner, MONDAY - timedelta(hours=h)) for h in range(1, 24 * 20, 5))
    )
    return org


async def _reports(org: Organization) -> list[tuple[ReportKind, datetime]]:
    rows = await Report.filter(organization_id=org.id).order_by("kind", "period_start")
    return [(ReportKind(r.kind), r.period_start.astimezone(BERLIN)) for r in rows]


async def test_a_turn_produces_every_due_report_once(org: Organization) -> None:
    scheduler = ReportScheduler(EVERY_KIND, clock=Clock(MONDAY))

    produced = await scheduler.run_once()
    again = await scheduler.run_once()

    assert len(produced) == 3 and again == []
    assert await _reports(org) == [
        (ReportKind.DAILY, datetime(2024, 5, 12, tzinfo=BERLIN)),
        (ReportKind.MONTHLY, datetime(2024, 4, 1, tzinfo=BERLIN)),
        (ReportKind.WEEKLY, datetime(2024, 5, 6, tzinfo=BERLIN)),
    ]


async def test_nothing_new_is_due_until_the_next_period_has_ended(org: Organization) -> None:
    clock = Clock(MONDAY)
    scheduler = ReportScheduler(EVERY_KIND, clock=clock)
    await scheduler.run_once()

    clock.now = MONDAY + timedelta(hours=23, minutes=58)
    later_that_day = await scheduler.run_once()
    clock.now = MONDAY + timedelta(days=1)
    next_day = await scheduler.run_once()

    assert later_that_day == []
    assert len(next_day) == 1
    assert (ReportKind.DAILY, datetime(2024, 5, 13, tzinfo=BERLIN)) in await _reports(org)
    assert len(await _reports(org)) == 4


async def test_only_the_configured_kinds_are_produced(org: Organization) -> None:
    await ReportScheduler((ReportKind.WEEKLY,), clock=Clock(MONDAY)).run_once()

    assert [kind for kind, _ in await _reports(org)] == [ReportKind.WEEKLY]


async def test_several_replicas_store_each_report_once(org: Organization) -> None:
    replicas = [ReportScheduler(EVERY_KIND, clock=Clock(MONDAY)) for _ in range(3)]

    results = await asyncio.gather(*(r.run_once() for r in replicas))

    assert sum(len(produced) for produced in results) == 3
    assert len(await _reports(org)) == 3


async def test_a_new_report_is_delivered_once_to_the_organizations_alert_targets(
    org: Organization,
) -> None:
    key = await make_key(org, None)
    await AlertRule.create(
        organization=org,
        kind=AlertKind.BUDGET,
        webhook_url="https://hooks.example.com/aize",
        webhook_secret="whsec_0123456789abcdef0123",
        email="finance@example.com",
    )
    await AlertRule.create(
        organization=org, kind=AlertKind.LOW_BALANCE, email="finance@example.com"
    )
    # Tied to one key: its target is not told the team's figures.
    await AlertRule.create(
        organization=org, kind=AlertKind.KEY_LIMIT, api_key=key, email="dev@example.com"
    )
    await AlertRule.create(
        organization=org, kind=AlertKind.BUDGET, email="off@example.com", enabled=False
    )
    scheduler = ReportScheduler((ReportKind.WEEKLY,), clock=Clock(MONDAY))

    [produced] = await scheduler.run_once()
    await scheduler.run_once()

    deliveries = await AlertDelivery.filter(organization_id=org.id).order_by("channel")
    assert [(d.channel, d.target) for d in deliveries] == [
        (DeliveryChannel.EMAIL, "finance@example.com"),
        (DeliveryChannel.WEBHOOK, "https://hooks.example.com/aize"),
    ]
    report_id = encode_global_id("Report", produced.report_id)
    assert {d.message_id for d in deliveries} == {report_id}
    assert all(d.event_id is None for d in deliveries)
    email, webhook = deliveries
    document: dict[str, Any] = orjson.loads(webhook.body)
    assert document["type"] == "report" and document["kind"] == "WEEKLY"
    assert document["csv"] == produced.csv and document["html"] == produced.html
    assert document["periodStart"] == "2024-05-06T00:00:00.000000+02:00"
    assert document["totals"]["requests"] == int(produced.csv.splitlines()[1].split(",")[7])
    assert "Weekly cost report" in email.subject
    assert f"GET /reports/{report_id}.html" in email.body


async def test_one_organizations_failure_does_not_stop_the_others(
    org: Organization, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = await make_org(timezone="UTC")
    real = reports.scheduler.produce_report

    async def failing_for_broken(target: Organization, *args: Any) -> Any:
        if target.id == broken.id:
            raise RuntimeError("boom")
        return await real(target, *args)

    monkeypatch.setattr(reports.scheduler, "produce_report", failing_for_broken)

    produced = await ReportScheduler((ReportKind.DAILY,), clock=Clock(MONDAY)).run_once()

    assert len(produced) == 1
    assert await Report.filter(organization_id=broken.id).count() == 0


async def test_the_scheduler_task_starts_only_when_configured(db: object) -> None:
    before = {t.get_name() for t in asyncio.all_tasks()}
    stop_off = start_report_scheduler(Settings.from_env({}))
    off_tasks = {t.get_name() for t in asyncio.all_tasks()} - before
    stop_on = start_report_scheduler(Settings.from_env({"AIZE_REPORTS_SCHEDULE": "weekly"}))
    on_tasks = {t.get_name() for t in asyncio.all_tasks()} - before

    await stop_on()
    await stop_off()

    assert off_tasks == set()
    assert on_tasks == {"report-scheduler"}
    assert "report-scheduler" not in {t.get_name() for t in asyncio.all_tasks()}


async def test_the_alert_worker_sends_a_stored_report_signed_and_by_email(
    settings: Settings, receiver: WebhookReceiver, smtp: SmtpReceiver
) -> None:
    org = await make_org(name="Acme AI", slug="acme-ai", timezone="Europe/Berlin")
    await AlertRule.create(
        organization=org,
        kind=AlertKind.BUDGET,
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        email="finance@acme.test",
    )
    [produced] = await ReportScheduler((ReportKind.WEEKLY,), clock=Clock(MONDAY)).run_once()

    report = await run_alert_worker_once(settings, MONDAY)

    assert report.deliveries.delivered == 2
    report_id = encode_global_id("Report", produced.report_id)
    [request] = receiver.requests
    assert request.signature_is_valid(SECRET)
    assert request.headers["x-aize-event-id"] == report_id
    assert orjson.loads(request.body)["csv"] == produced.csv
    [email] = smtp.messages
    assert email["Subject"] == "[Aize] Weekly cost report: Acme AI"
    assert f"GET /reports/{report_id}.csv" in email.get_payload(decode=True).decode()
