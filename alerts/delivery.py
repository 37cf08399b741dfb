"""Sending the outbox: claim due deliveries, send them, log each attempt, back off on failure.

Claiming is one UPDATE over a sub-select of due PENDING rows (`FOR UPDATE SKIP LOCKED` on
PostgreSQL), which counts the attempt and pushes `next_attempt_at` a lease ahead before
anything is sent. Replicas therefore never send the same row at once, no transaction stays
open while a receiver answers, and a worker that dies mid-send leaves the row to be retried
when the lease ends. The outcome is written only if the row still carries this claim.

Retries: after failed attempt n the next one is due BASE_BACKOFF x 2^(n-1) later (30 s,
1 min, 2 min, ... at most MAX_BACKOFF); after AIZE_ALERT_MAX_ATTEMPTS attempts, or at once
when retrying cannot help, the delivery is FAILED.

Other features deliver through the same outbox: `enqueue_message` (from `alerts.outbox`)
writes rows for any message in the caller's transaction; the worker sends them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from alerts.attempt import AttemptOutcome
from alerts.email import EmailRequest, send_email
from alerts.message import DeliveryTarget, OutboundMessage
from alerts.outbox import enqueue_message
from alerts.webhook import WebhookRequest, post_webhook
from models.alert_delivery import DeliveryChannel, DeliveryStatus
from models.database import Dialect, Params, current_dialect, fetch_all
from observability.metrics import ALERT_DELIVERIES
from resolvers.scope import Scope
from settings import Settings

__all__ = [
    "BASE_BACKOFF",
    "MAX_BACKOFF",
    "DeliveryReport",
    "DeliveryTarget",
    "OutboundMessage",
    "backoff",
    "deliver_due",
    "enqueue_message",
]

BASE_BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
# A claimed row is left alone this long (at least): longer than any one attempt can take.
MIN_LEASE = timedelta(minutes=5)
CLAIM_BATCH = 50
# The result label of aize_alert_delivery_attempts_total for the status an attempt leaves.
_RESULTS = {
    DeliveryStatus.DELIVERED: "delivered",
    DeliveryStatus.PENDING: "retrying",
    DeliveryStatus.FAILED: "failed",
}
SEND_CONCURRENCY = 10


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    id: int
    organization_id: int
    channel: DeliveryChannel
    target: str
    secret: str | None
    message_id: str
    subject: str
    body: str
    attempts: int


@dataclass(slots=True)
class DeliveryReport:
    """What one pass did: rows delivered, rows left to retry, rows given up on."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def backoff(attempts: int) -> timedelta:
    """Wait before the attempt after the `attempts`-th failed one: 30 s x 2^(n-1), capped."""
    exponent = max(0, min(attempts - 1, 20))
    wait: timedelta = BASE_BACKOFF * (1 << exponent)
    return min(wait, MAX_BACKOFF)


def lease(settings: Settings) -> timedelta:
    """How long a claimed row is reserved for the worker that claimed it."""
    longest = max(settings.webhook_timeout_seconds, settings.smtp_timeout_seconds)
    return max(MIN_LEASE, timedelta(seconds=3 * longest))


async def deliver_due(
    settings: Settings, now: datetime, *, client: httpx.AsyncClient | None = None
) -> DeliveryReport:
    """Send every PENDING delivery due at `now` (aware) and log each attempt."""
    report = DeliveryReport()
    limiter = asyncio.Semaphore(SEND_CONCURRENCY)
    async with _http_client(client) as http:

        async def send_one(delivery: ClaimedDelivery) -> AttemptOutcome:
            async with limiter:
                return await _send(settings, http, delivery, now)

        while True:
            claimed = await _claim(now, lease(settings), CLAIM_BATCH)
            if not claimed:
                break
            outcomes = await asyncio.gather(*(send_one(d) for d in claimed))
            for delivery, outcome in zip(claimed, outcomes, strict=True):
                await _record(delivery, outcome, now, settings.alert_max_attempts, report)
            if len(claimed) < CLAIM_BATCH:
                break
    return report


@asynccontextmanager
async def _http_client(client: httpx.AsyncClient | None) -> AsyncIterator[httpx.AsyncClient]:
    if client is not None:
        yield client
        return
    async with httpx.AsyncClient(follow_redirects=False, trust_env=False) as owned:
        yield owned


async def _send(
    settings: Settings, http: httpx.AsyncClient, delivery: ClaimedDelivery, now: datetime
) -> AttemptOutcome:
    if delivery.channel is DeliveryChannel.EMAIL:
        return await send_email(
            settings,
            EmailRequest(delivery.target, delivery.subject, delivery.body, delivery.message_id),
        )
    if not delivery.secret:
        return AttemptOutcome.failure("the webhook has no signing secret", permanent=True)
    return await post_webhook(
        http,
        WebhookRequest(delivery.target, delivery.secret, delivery.body, delivery.message_id),
        now,
        timeout_seconds=settings.webhook_timeout_seconds,
        allow_private_networks=settings.webhook_allow_private_networks,
    )


async def _claim(now: datetime, reserved: timedelta, limit: int) -> list[ClaimedDelivery]:
    params = Params(current_dialect())
    lock = " FOR UPDATE SKIP LOCKED" if params.dialect is Dialect.POSTGRES else ""
    rows = await fetch_all(
        f"UPDATE alert_delivery SET attempts = attempts + 1, "
        f"last_attempt_at = {params.add(now)}, next_attempt_at = {params.add(now + reserved)} "
        "WHERE id IN (SELECT id FROM alert_delivery "
        f"WHERE status = {params.add(DeliveryStatus.PENDING.value)} "
        f"AND next_attempt_at <= {params.add(now)} "
        f"ORDER BY next_attempt_at, id LIMIT {params.add(limit)}{lock}) "
        "RETURNING id, organization_id, channel, target, secret, message_id, subject, body, "
        "attempts",
        params,
    )
    claimed = [
        ClaimedDelivery(
            id=int(row["id"]),
            organization_id=int(row["organization_id"]),
            channel=DeliveryChannel(str(row["channel"])),
            target=str(row["target"]),
            secret=None if row["secret"] is None else str(row["secret"]),
            message_id=str(row["message_id"]),
            subject=str(row["subject"]),
            body=str(row["body"]),
            attempts=int(row["attempts"]),
        )
        for row in rows
    ]
    return sorted(claimed, key=lambda d: d.id)


async def _record(
    delivery: ClaimedDelivery,
    outcome: AttemptOutcome,
    now: datetime,
    max_attempts: int,
    report: DeliveryReport,
) -> None:
    delivered_at: datetime | None = None
    next_attempt_at: datetime | None = None
    if outcome.delivered:
        status = DeliveryStatus.DELIVERED
        delivered_at = now
        report.delivered += 1
    elif outcome.permanent or delivery.attempts >= max_attempts:
        status = DeliveryStatus.FAILED
        report.failed += 1
    else:
        status = DeliveryStatus.PENDING
        next_attempt_at = now + backoff(delivery.attempts)
        report.retrying += 1
    ALERT_DELIVERIES.labels(channel=delivery.channel.value, result=_RESULTS[status]).inc()
    # Placeholders are numbered in text order (SQLite's are positional): add in that order.
    params = Params(current_dialect())
    sql = (
        f"UPDATE alert_delivery SET status = {params.add(status.value)}, "
        f"last_status_code = {params.add(outcome.status_code)}, "
        f"last_error = {params.add(outcome.error)}, "
        f"delivered_at = {params.add(delivered_at)}, "
        f"next_attempt_at = COALESCE({params.add(next_attempt_at)}, next_attempt_at) "
        # By id and organization: one shard in Citus (docs/SCALING.md).
        "WHERE "
        + " AND ".join(Scope.for_organization(delivery.organization_id).where(params))
        + f" AND id = {params.add(delivery.id)} "
        f"AND attempts = {params.add(delivery.attempts)} "
        f"AND status = {params.add(DeliveryStatus.PENDING.value)} RETURNING id"
    )
    await fetch_all(sql, params)
