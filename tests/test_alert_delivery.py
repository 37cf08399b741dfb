"""Alert delivery: the outbox written with the event, signed webhooks and SMTP email sent by
the worker, retries with backoff, and the delivery log. Real receivers on 127.0.0.1 (see
tests/alert_receivers.py); the worker's clock is passed in, so nothing sleeps."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from alerts.delivery import DeliveryTarget, OutboundMessage, enqueue_message
from alerts.worker import AlertWorker, run_once
from ingestion.writer import write_records
from models.alert import AlertEvent, AlertKind, AlertRule
from models.alert_delivery import AlertDelivery, DeliveryChannel, DeliveryStatus
from models.api_key import ApiKey
from models.global_ids import encode_global_id
from models.organization import Organization
from models.request_log import RequestLog
from settings import Settings
from spend.control import after_write
from tests.alert_receivers import (  # noqa: F401 - fixtures
    SmtpReceiver,
    WebhookReceiver,
    receiver_fixture,
    settings_fixture,
    smtp_fixture,
)
from tests.factories import make_key, make_org, make_record

USD = 1_000_000_000
SECRET = "whsec_test_0123456789abcdef"


async def spend(org: Organization, key: ApiKey, cents: int, at: datetime | None = None) -> None:
    """Ingest one request costing `cents` through the ingest path (spend control included)."""
    record = make_record(
        org, key, None, at or datetime.now(UTC), provider_cost_nanos=cents * USD // 100
    )
    await write_records([record], after_write=after_write)


async def budget_rule(org: Organization, url: str, email: str | None = None) -> AlertRule:
    return await AlertRule.create(
        organization=org,
        kind=AlertKind.BUDGET,
        webhook_url=url,
        webhook_secret=SECRET,
        email=email,
    )


async def deliveries(org: Organization) -> list[AlertDelivery]:
    return await AlertDelivery.filter(organization_id=org.id).order_by("id")


async def test_an_alert_fired_at_ingest_is_posted_signed_and_emailed(
    settings: Settings, receiver: WebhookReceiver, smtp: SmtpReceiver
) -> None:
    org = await make_org(
        name="Acme AI", slug="acme-ai", monthly_budget_nanos=USD, wallet_balance_nanos=100 * USD
    )
    key = await make_key(org, label="ci-runner")
    await budget_rule(org, receiver.url, "ops@acme.test")
    await spend(org, key, 80)
    event = await AlertEvent.get(organization_id=org.id, kind=AlertKind.BUDGET)
    assert [(d.channel, d.status, d.attempts) for d in await deliveries(org)] == [
        (DeliveryChannel.WEBHOOK, DeliveryStatus.PENDING, 0),
        (DeliveryChannel.EMAIL, DeliveryStatus.PENDING, 0),
    ]

    now = datetime.now(UTC)
    report = await run_once(settings, now)

    assert (report.deliveries.delivered, report.deliveries.retrying) == (2, 0)
    [request] = receiver.requests
    assert request.method == "POST"
    assert request.path == "/hooks/aize?token=s3cr3t-path-token"
    assert request.signature_is_valid(SECRET)
    assert not request.signature_is_valid("another-secret-entirely")
    event_id = encode_global_id("AlertEvent", event.id)
    assert request.headers["x-aize-event-id"] == event_id
    assert request.headers["x-aize-timestamp"] == str(int(now.timestamp()))
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.body)
    assert body == {
        "id": event_id,
        "kind": "BUDGET",
        "threshold": "75",
        "periodKey": event.period_key,
        "organization": {
            "id": encode_global_id("Organization", org.id),
            "slug": "acme-ai",
            "name": "Acme AI",
        },
        "apiKey": None,
        "value": "0.80",
        "message": "The organization reached 75% of its monthly budget: $0.80 of $1.00 spent",
        "firedAt": event.fired_at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    [email] = smtp.messages
    assert smtp.recipients == [["ops@acme.test"]]
    assert email["From"] == "alerts@aize.test"
    assert email["To"] == "ops@acme.test"
    assert email["Subject"] == "[Aize] Monthly budget: Acme AI"
    assert email["X-Aize-Event-Id"] == event_id
    text = email.get_payload(decode=True).decode()
    assert "The organization reached 75% of its monthly budget: $0.80 of $1.00 spent" in text
    assert f"Alert id: {event_id}" in text
    webhook, mail = await deliveries(org)
    assert (webhook.status, webhook.attempts, webhook.last_status_code) == (
        DeliveryStatus.DELIVERED,
        1,
        200,
    )
    assert (mail.status, mail.attempts, mail.last_status_code) == (DeliveryStatus.DELIVERED, 1, 250)
    assert webhook.delivered_at == mail.delivered_at == now


async def test_a_receiver_that_is_down_neither_blocks_ingestion_nor_loses_the_alert(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await make_org(monthly_budget_nanos=USD, wallet_balance_nanos=100 * USD)
    key = await make_key(org)
    await budget_rule(org, receiver.url)
    await receiver.stop()

    await spend(org, key, 80)
    assert await RequestLog.filter(organization_id=org.id).count() == 1
    now = datetime.now(UTC)
    first = await run_once(settings, now)

    assert (first.deliveries.delivered, first.deliveries.retrying) == (0, 1)
    [pending] = await deliveries(org)
    assert (pending.status, pending.attempts, pending.last_status_code) == (
        DeliveryStatus.PENDING,
        1,
        None,
    )
    assert pending.next_attempt_at == now + timedelta(seconds=30)
    assert pending.last_error is not None and pending.last_error.startswith("ConnectError")
    # Ingestion goes on while the receiver is away.
    await spend(org, key, 5)
    assert await RequestLog.filter(organization_id=org.id).count() == 2

    early = await run_once(settings, now + timedelta(seconds=29))
    assert early.deliveries.delivered + early.deliveries.retrying == 0
    await receiver.start()
    back = await run_once(settings, now + timedelta(seconds=30))

    assert back.deliveries.delivered == 1
    [request] = receiver.requests
    assert request.signature_is_valid(SECRET)
    assert json.loads(request.body)["threshold"] == "75"
    [delivered] = await deliveries(org)
    assert (delivered.status, delivered.attempts, delivered.last_status_code) == (
        DeliveryStatus.DELIVERED,
        2,
        200,
    )
    assert delivered.last_error is None


async def test_failed_attempts_back_off_exponentially_until_the_delivery_fails(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await make_org(monthly_budget_nanos=USD, wallet_balance_nanos=100 * USD)
    key = await make_key(org)
    await budget_rule(org, receiver.url)
    receiver.status = 503
    await spend(org, key, 80)
    now = datetime.now(UTC)

    await run_once(settings, now)
    [delivery] = await deliveries(org)
    assert (delivery.attempts, delivery.next_attempt_at) == (1, now + timedelta(seconds=30))
    assert (delivery.last_status_code, delivery.last_error) == (
        503,
        "the receiver answered HTTP 503",
    )
    await run_once(settings, now + timedelta(seconds=30))
    [delivery] = await deliveries(org)
    assert (delivery.attempts, delivery.next_attempt_at) == (2, now + timedelta(seconds=90))
    final = await run_once(settings, now + timedelta(seconds=90))
    later = await run_once(settings, now + timedelta(days=1))

    assert final.deliveries.failed == 1
    assert later.deliveries.failed + later.deliveries.retrying == 0
    [delivery] = await deliveries(org)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.FAILED,
        3,
        503,
    )
    assert len(receiver.requests) == 3
    # Every retry is the same message: same id, same body, each validly signed.
    assert len({(r.headers["x-aize-event-id"], r.body) for r in receiver.requests}) == 1
    assert all(r.signature_is_valid(SECRET) for r in receiver.requests)


async def test_built_in_alerts_go_to_every_enabled_rule_of_their_kind(
    settings: Settings, receiver: WebhookReceiver, smtp: SmtpReceiver
) -> None:
    org = await make_org(wallet_balance_nanos=11 * USD)
    watched = await make_key(org, label="watched", monthly_limit_nanos=USD)
    other = await make_key(org, label="other", monthly_limit_nanos=USD)
    await AlertRule.create(
        organization=org, kind=AlertKind.KEY_LIMIT, api_key=watched, email="keys@acme.test"
    )
    await AlertRule.create(
        organization=org,
        kind=AlertKind.LOW_BALANCE,
        webhook_url=receiver.url,
        webhook_secret=SECRET,
    )
    await AlertRule.create(
        organization=org, kind=AlertKind.LOW_BALANCE, email="off@acme.test", enabled=False
    )

    await spend(org, watched, 80)  # watched key at 75%
    await spend(org, other, 80)  # other key at 75%; the wallet falls to $9.40
    await run_once(settings, datetime.now(UTC))

    assert [m["Subject"] for m in smtp.messages] == ["[Aize] API key monthly limit: " + org.name]
    assert smtp.recipients == [["keys@acme.test"]]
    assert "'watched'" in smtp.messages[0].get_payload(decode=True).decode()
    [request] = receiver.requests
    body = json.loads(request.body)
    assert (body["kind"], body["threshold"], body["value"]) == ("LOW_BALANCE", "10.00", "9.40")


async def test_concurrent_workers_send_each_delivery_once(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await make_org(monthly_budget_nanos=USD, wallet_balance_nanos=100 * USD)
    key = await make_key(org)
    await budget_rule(org, receiver.url)
    await spend(org, key, 100)  # 75%, 90% and 100% at once
    now = datetime.now(UTC)

    reports = await asyncio.gather(*(run_once(settings, now) for _ in range(4)))

    assert sum(r.deliveries.delivered for r in reports) == 3
    assert sorted(json.loads(r.body)["threshold"] for r in receiver.requests) == [
        "100",
        "75",
        "90",
    ]


async def test_email_without_smtp_configured_fails_at_once_saying_why(
    db: Settings, receiver: WebhookReceiver
) -> None:
    org = await make_org(monthly_budget_nanos=USD, wallet_balance_nanos=100 * USD)
    key = await make_key(org)
    await AlertRule.create(organization=org, kind=AlertKind.BUDGET, email="ops@acme.test")
    await spend(org, key, 80)

    report = await run_once(db, datetime.now(UTC))

    assert report.deliveries.failed == 1
    [delivery] = await deliveries(org)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.FAILED,
        1,
        "email delivery is not configured on this server (set AIZE_SMTP_HOST)",
    )


async def test_webhooks_to_private_addresses_are_refused_unless_allowed(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await make_org(monthly_budget_nanos=USD, wallet_balance_nanos=100 * USD)
    key = await make_key(org)
    await budget_rule(org, receiver.url)
    await spend(org, key, 80)

    await run_once(replace(settings, webhook_allow_private_networks=False), datetime.now(UTC))

    assert receiver.requests == []
    [delivery] = await deliveries(org)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.last_error == (
        "refused: 127.0.0.1 resolves to the non-public address 127.0.0.1 "
        "(AIZE_WEBHOOK_ALLOW_PRIVATE_NETWORKS)"
    )


async def test_any_feature_can_enqueue_a_message_for_the_worker_to_deliver(
    settings: Settings, receiver: WebhookReceiver, smtp: SmtpReceiver
) -> None:
    org = await make_org()
    now = datetime.now(UTC)
    message = OutboundMessage(
        message_id="report-daily-2024-05-07",
        subject="Daily usage summary\r\nBcc: everyone@example.com",
        json_body='{"report":"daily","date":"2024-05-07"}',
        text_body="Requests: 1,234\n",
    )
    async with in_transaction() as conn:
        written = await enqueue_message(
            conn,
            org.id,
            [DeliveryTarget.webhook(receiver.url, SECRET), DeliveryTarget.email("cfo@acme.test")],
            message,
            now,
        )

    report = await run_once(settings, now)

    assert (written, report.deliveries.delivered) == (2, 2)
    [request] = receiver.requests
    assert request.body == b'{"report":"daily","date":"2024-05-07"}'
    assert request.signature_is_valid(SECRET)
    assert request.headers["x-aize-event-id"] == "report-daily-2024-05-07"
    [email] = smtp.messages
    assert email["Subject"] == "Daily usage summary  Bcc: everyone@example.com"
    assert email["Bcc"] is None
    # SMTP carries lines with CRLF endings.
    assert email.get_payload(decode=True).decode() == "Requests: 1,234\r\n"


async def test_the_background_worker_delivers_on_its_own_turns(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await make_org(monthly_budget_nanos=USD, wallet_balance_nanos=100 * USD)
    key = await make_key(org)
    await budget_rule(org, receiver.url)
    await spend(org, key, 80)
    turns: list[datetime] = []
    second_turn = asyncio.Event()

    def clock() -> datetime:
        turns.append(datetime.now(UTC))
        if len(turns) == 2:
            second_turn.set()
        return turns[-1]

    worker = AlertWorker(replace(settings, alert_poll_seconds=0.001), clock)
    worker.start()
    try:
        await asyncio.wait_for(second_turn.wait(), timeout=10)
    finally:
        await worker.stop()

    assert len(receiver.requests) == 1
    [delivery] = await deliveries(org)
    assert delivery.status is DeliveryStatus.DELIVERED
