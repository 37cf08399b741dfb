"""The delivery log of alert events: one row per target, how sending went (Admins/Owners).

Signing secrets and bodies are never read here; targets are returned as stored and masked
by whoever shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from models.alert_delivery import DeliveryChannel, DeliveryStatus
from models.database import Params, current_dialect, fetch_all, parse_db_datetime
from resolvers.scope import Scope

__all__ = ["DeliveryRecord", "deliveries_by_event"]


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One delivery; times aware UTC, `last_status_code` HTTP (webhook) or SMTP (email)."""

    id: int
    event_id: int
    channel: DeliveryChannel
    target: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


async def deliveries_by_event(
    scope: Scope, event_ids: Sequence[int]
) -> dict[int, list[DeliveryRecord]]:
    """Deliveries of these events in the viewer's organization, by event id, oldest first.
    Admins/Owners only (ForbiddenError)."""
    params = Params(current_dialect())
    conditions = scope.team_where(params, "alert deliveries")
    if not event_ids:
        return {}
    conditions.append(f"event_id IN ({params.add_list(sorted(set(event_ids)))})")
    rows = await fetch_all(
        "SELECT id, event_id, channel, target, status, attempts, next_attempt_at, "
        "last_attempt_at, last_status_code, last_error, delivered_at, created_at "
        f"FROM alert_delivery WHERE {' AND '.join(conditions)} ORDER BY id",
        params,
    )
    found: dict[int, list[DeliveryRecord]] = {}
    for row in rows:
        status = DeliveryStatus(str(row["status"]))
        record = DeliveryRecord(
            id=int(row["id"]),
            event_id=int(row["event_id"]),
            channel=DeliveryChannel(str(row["channel"])),
            target=str(row["target"]),
            status=status,
            attempts=int(row["attempts"]),
            # Only a PENDING delivery has a next attempt.
            next_attempt_at=_time(row["next_attempt_at"])
            if status is DeliveryStatus.PENDING
            else None,
            last_attempt_at=_time(row["last_attempt_at"]),
            last_status_code=None
            if row["last_status_code"] is None
            else int(row["last_status_code"]),
            last_error=None if row["last_error"] is None else str(row["last_error"]),
            delivered_at=_time(row["delivered_at"]),
            created_at=parse_db_datetime(row["created_at"]),
        )
        found.setdefault(record.event_id, []).append(record)
    return found


def _time(value: object) -> datetime | None:
    return None if value is None else parse_db_datetime(value)
