"""What the outbox delivers: a message (one content, rendered for each channel) and targets."""

from __future__ import annotations

from dataclasses import dataclass

from models.alert_delivery import DeliveryChannel

MAX_MESSAGE_ID_LENGTH = 100
MAX_SUBJECT_LENGTH = 300


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message for any number of targets.

    `message_id` is sent as X-Aize-Event-Id (receivers drop a retry they already have);
    `json_body` is the webhook's exact body (signed as sent); `subject` and `text_body` are
    the email's. Construction refuses values the columns cannot hold.
    """

    message_id: str
    subject: str
    json_body: str
    text_body: str

    def __post_init__(self) -> None:
        if not 0 < len(self.message_id) <= MAX_MESSAGE_ID_LENGTH:
            raise ValueError(f"message_id must be 1 to {MAX_MESSAGE_ID_LENGTH} characters")
        # A subject is one header line: control characters would start another one.
        object.__setattr__(self, "subject", one_line(self.subject)[:MAX_SUBJECT_LENGTH])


@dataclass(frozen=True, slots=True)
class DeliveryTarget:
    """Where to send: a webhook URL with its signing secret, or an email address."""

    channel: DeliveryChannel
    address: str
    secret: str | None = None

    def __post_init__(self) -> None:
        if self.channel is DeliveryChannel.WEBHOOK and not self.secret:
            raise ValueError("a webhook target needs a signing secret")

    @classmethod
    def webhook(cls, url: str, secret: str) -> DeliveryTarget:
        return cls(DeliveryChannel.WEBHOOK, url, secret)

    @classmethod
    def email(cls, address: str) -> DeliveryTarget:
        return cls(DeliveryChannel.EMAIL, address)


def targets_of(
    webhook_url: str | None, webhook_secret: str | None, email: str | None
) -> list[DeliveryTarget]:
    """The targets a rule's webhook URL (with its secret) and email address make."""
    targets: list[DeliveryTarget] = []
    if webhook_url and webhook_secret:
        targets.append(DeliveryTarget.webhook(webhook_url, webhook_secret))
    if email:
        targets.append(DeliveryTarget.email(email))
    return targets


def one_line(text: str) -> str:
    """`text` with every control character (newlines included) replaced by a space."""
    return "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in text).strip()
