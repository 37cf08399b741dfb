"""An alert event as a message: the webhook's JSON document and the email's subject and text.

Rendered once, when the event fires, and stored on each delivery, so every retry sends the
same bytes with the same signature input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from alerts.message import OutboundMessage, one_line
from models.global_ids import encode_global_id
from models.timestamps import format_instant
from pricing.money import format_usd

if TYPE_CHECKING:
    from alerts.events import AlertDraft

_TITLES = {
    "KEY_LIMIT": "API key monthly limit",
    "BUDGET": "Monthly budget",
    "LOW_BALANCE": "Low wallet balance",
    "DAILY_SPEND": "Daily spending threshold",
    "UNUSUAL_ACTIVITY": "Unusual activity",
    "ERROR_RATE": "Error-rate spike",
    "LIMIT_REQUEST": "Key limit awaiting approval",
}


@dataclass(frozen=True, slots=True)
class OrganizationRef:
    id: int
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class ApiKeyRef:
    id: int
    label: str
    prefix: str


def iso_utc(instant: datetime) -> str:
    """RFC 3339 in UTC with 6 fractional digits ("2024-05-03T14:00:25.000000+00:00"), as the
    API's DateTime."""
    return format_instant(instant)


def alert_document(
    event_id: int, draft: AlertDraft, org: OrganizationRef, key: ApiKeyRef | None
) -> dict[str, Any]:
    """The webhook document: ids are the GraphQL global ids, `value` USD as a string."""
    return {
        "id": encode_global_id("AlertEvent", event_id),
        "kind": draft.kind.value,
        "threshold": draft.threshold,
        "periodKey": draft.period_key,
        "organization": {
            "id": encode_global_id("Organization", org.id),
            "slug": org.slug,
            "name": org.name,
        },
        "apiKey": None
        if key is None
        else {"id": encode_global_id("ApiKey", key.id), "label": key.label, "prefix": key.prefix},
        "value": None if draft.value_nanos is None else format_usd(draft.value_nanos),
        "message": draft.message,
        "firedAt": iso_utc(draft.fired_at),
    }


def alert_message(
    event_id: int, draft: AlertDraft, org: OrganizationRef, key: ApiKeyRef | None
) -> OutboundMessage:
    """The event rendered for delivery; X-Aize-Event-Id is the event's global id."""
    document = alert_document(event_id, draft, org, key)
    title = _TITLES.get(draft.kind.value, draft.kind.value)
    lines = [
        f"{title} alert for {org.name}",
        "",
        draft.message,
        "",
        f"Organization: {org.name} ({org.slug})",
    ]
    if key is not None:
        lines.append(f"API key: {key.label} ({key.prefix}...)")
    lines += [
        f"Kind: {draft.kind.value}",
        f"Threshold: {draft.threshold}",
        f"Period: {draft.period_key}",
    ]
    if document["value"] is not None:
        lines.append(f"Value: ${document['value']}")
    lines += [
        f"Fired at: {document['firedAt']}",
        f"Alert id: {document['id']}",
        "",
        "Acknowledge it with the acknowledgeAlert mutation, or in the dashboard.",
    ]
    return OutboundMessage(
        message_id=document["id"],
        subject=f"[Aize] {title}: {one_line(org.name)}",
        json_body=orjson.dumps(document).decode(),
        text_body="\n".join(lines) + "\n",
    )
