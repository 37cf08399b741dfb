"""Alert deliveries: the outbox and delivery log of webhook and email messages.

A row is written in the same transaction as the event it delivers (or by any caller that
enqueues a message), and sent later by the alert worker, outside any transaction, so a
receiver that is down never blocks or loses what caused it. The row holds everything needed
to send: target, signing secret, the exact body. Each attempt updates it in place: status,
attempts, the receiver's status code and a short error, never the receiver's body.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:
    from models.alert import AlertEvent
    from models.organization import Organization


class DeliveryChannel(StrEnum):
    WEBHOOK = "WEBHOOK"
    EMAIL = "EMAIL"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class AlertDelivery(Model):
    """One message to one target (a webhook URL or an email address), and how sending went."""

    id = fields.BigIntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization",
        related_name="alert_deliveries",
        on_delete=fields.CASCADE,
        db_index=False,
    )
    # The alert event delivered; null for other messages (scheduled reports).
    event: fields.ForeignKeyNullableRelation[AlertEvent] = fields.ForeignKeyField(
        "models.AlertEvent", related_name="deliveries", null=True, on_delete=fields.CASCADE
    )
    channel = fields.CharEnumField(DeliveryChannel, max_length=10)
    # Webhook URL or email address.
    target = fields.CharField(max_length=2000)
    # HMAC-SHA256 key for webhooks, as configured when the message was enqueued.
    secret = fields.CharField(max_length=200, null=True)
    # Sent as X-Aize-Event-Id so receivers can drop a retried message they already have.
    message_id = fields.CharField(max_length=100)
    subject = fields.CharField(max_length=300)
    # The exact bytes (UTF-8) sent: a JSON document for webhooks, plain text for email.
    body = fields.TextField()
    status = fields.CharEnumField(DeliveryStatus, max_length=10, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_attempt_at = fields.DatetimeField(null=True)
    last_status_code = fields.IntField(null=True)
    last_error = fields.CharField(max_length=500, null=True)
    delivered_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    organization_id: int
    event_id: int | None

    class Meta:
        table = "alert_delivery"
        indexes = (
            Index(fields=("status", "next_attempt_at"), name="alert_delivery_due"),
            Index(fields=("event_id",), name="alert_delivery_event"),
        )
