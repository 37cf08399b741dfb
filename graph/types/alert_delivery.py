"""AlertDelivery type: one message of an alert to one target, and how sending went."""

from __future__ import annotations

from datetime import datetime

import strawberry

from alerts.targets import mask_webhook_url
from graph.types.enum_values import describe_values
from models.alert_delivery import DeliveryChannel, DeliveryStatus
from models.global_ids import encode_global_id
from resolvers.alert_deliveries import DeliveryRecord

DeliveryChannelEnum = strawberry.enum(
    DeliveryChannel,
    name="AlertDeliveryChannel",
    description="WEBHOOK: a signed HTTP POST. EMAIL: a plain-text email through SMTP.",
)

describe_values(
    DeliveryChannelEnum,
    {
        "WEBHOOK": "A signed HTTP POST to the rule's or organization's webhook URL.",
        "EMAIL": "An email to the rule's or organization's address.",
    },
)
DeliveryStatusEnum = strawberry.enum(
    DeliveryStatus,
    name="AlertDeliveryStatus",
    description=(
        "PENDING: not delivered yet (see nextAttemptAt). DELIVERED: the receiver accepted it "
        "(2xx, or the SMTP server took it). FAILED: given up after the last attempt, or at "
        "once when retrying cannot help."
    ),
)

describe_values(
    DeliveryStatusEnum,
    {
        "PENDING": "Queued or waiting for a retry.",
        "DELIVERED": "The receiver accepted it.",
        "FAILED": "Every retry failed; no more attempts.",
    },
)


@strawberry.type(
    name="AlertDelivery",
    description="An alert sent to one target; each attempt updates it (the delivery log).",
)
class AlertDeliveryType:
    id: strawberry.ID = strawberry.field(
        description="The object's global id (use it with `node(id:)`)."
    )
    channel: DeliveryChannelEnum = strawberry.field(description="WEBHOOK or EMAIL.")  # type: ignore[valid-type]
    target: str = strawberry.field(
        description=(
            "The email address, or the webhook's scheme and host: its path and query often "
            "hold credentials and are shown as '…'."
        )
    )
    status: DeliveryStatusEnum = strawberry.field(  # type: ignore[valid-type]
        description="PENDING (queued or retrying), DELIVERED or FAILED (retries exhausted)."
    )
    attempts: int = strawberry.field(description="How many times sending was tried.")
    last_status_code: int | None = strawberry.field(
        description="The receiver's HTTP status (webhook) or SMTP reply code of the last attempt."
    )
    last_error: str | None = strawberry.field(
        description="Why the last attempt failed, in short (the receiver's body is never kept)."
    )
    last_attempt_at: datetime | None = strawberry.field(
        description="When sending was last tried (UTC); null before the first try."
    )
    next_attempt_at: datetime | None = strawberry.field(description="When PENDING: next try.")
    delivered_at: datetime | None = strawberry.field(
        description="When the receiver accepted it (UTC); null until then."
    )
    created_at: datetime = strawberry.field(description="When the delivery was queued (UTC).")

    @classmethod
    def from_record(cls, record: DeliveryRecord) -> AlertDeliveryType:
        webhook = record.channel is DeliveryChannel.WEBHOOK
        return cls(
            id=strawberry.ID(encode_global_id("AlertDelivery", record.id)),
            channel=record.channel,
            target=mask_webhook_url(record.target) if webhook else record.target,
            status=record.status,
            attempts=record.attempts,
            last_status_code=record.last_status_code,
            last_error=record.last_error,
            last_attempt_at=record.last_attempt_at,
            next_attempt_at=record.next_attempt_at,
            delivered_at=record.delivered_at,
            created_at=record.created_at,
        )
