"""aize_alert_delivery_attempts_total: one count per attempt, by channel and result."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from prometheus_client import REGISTRY
from tortoise.transactions import in_transaction

from alerts.delivery import DeliveryTarget, OutboundMessage, enqueue_message
from alerts.worker import run_once
from settings import Settings
from tests.alert_receivers import (  # noqa: F401 - fixtures
    SmtpReceiver,
    WebhookReceiver,
    receiver_fixture,
    settings_fixture,
    smtp_fixture,
)
from tests.factories import make_org

SECRET = "whsec_test_0123456789abcdef"
NAME = "aize_alert_delivery_attempts_total"


def _count(channel: str, result: str) -> float:
    return REGISTRY.get_sample_value(NAME, {"channel": channel, "result": result}) or 0.0


async def test_each_attempt_is_counted_by_channel_and_result(
    settings: Settings, receiver: WebhookReceiver
) -> None:
    org = await make_org()
    now = datetime.now(UTC)
    message = OutboundMessage(
        message_id="metrics-test-1", subject="Test", json_body="{}", text_body="Test\n"
    )
    async with in_transaction() as conn:
        await enqueue_message(
            conn,
            org.id,
            [DeliveryTarget.webhook(receiver.url, SECRET), DeliveryTarget.email("ops@acme.test")],
            message,
            now,
        )
    before = {
        (channel, result): _count(channel, result)
        for channel in ("WEBHOOK", "EMAIL")
        for result in ("delivered", "retrying", "failed")
    }

    # No SMTP server configured: the email fails at once, the webhook is delivered.
    report = await run_once(replace(settings, smtp_host=None), now)

    assert (report.deliveries.delivered, report.deliveries.failed) == (1, 1)
    changes = {key: _count(*key) - value for key, value in before.items()}
    assert changes == {
        ("WEBHOOK", "delivered"): 1,
        ("WEBHOOK", "retrying"): 0,
        ("WEBHOOK", "failed"): 0,
        ("EMAIL", "delivered"): 0,
        ("EMAIL", "retrying"): 0,
        ("EMAIL", "failed"): 1,
    }
