"""Alert events: which percentage thresholds a spend has reached, and firing events once.

An event's unique key is (organization, kind, subject key, threshold, period key); inserting
with ON CONFLICT DO NOTHING on it is what makes a threshold fire exactly once per period (or
low-balance episode) even when concurrent transactions reach it together. Each newly
inserted event gets its deliveries written in the same transaction (`alerts.outbox`); they
are sent after commit by the alert worker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from alerts.outbox import enqueue_alert_deliveries
from live.notices import Notice, notify_in_transaction
from models.alert import AlertKind
from models.database import Params, dialect_of

# Percentages of a key limit or budget that fire an alert.
PERCENT_THRESHOLDS = (75, 90, 100)

_COLUMNS = (
    "organization_id",
    "kind",
    "api_key_id_subject",
    "threshold",
    "period_key",
    "value_nanos",
    "message",
    "fired_at",
    "rule_id",
)
_UNIQUE = "organization_id, kind, api_key_id_subject, threshold, period_key"
# Nine parameters a row: far under SQLite's bound-variable limit.
_ROWS_PER_STATEMENT = 500


@dataclass(frozen=True, slots=True)
class AlertDraft:
    """An alert to fire; `subject_api_key_id` 0 means the organization as a whole, `rule_id`
    the usage rule that fired it (None for spend control's own alerts)."""

    organization_id: int
    kind: AlertKind
    subject_api_key_id: int
    threshold: str
    period_key: str
    value_nanos: int | None
    message: str
    fired_at: datetime
    rule_id: int | None = None

    @property
    def unique_key(self) -> tuple[int, str, int, str, str]:
        return (
            self.organization_id,
            self.kind.value,
            self.subject_api_key_id,
            self.threshold,
            self.period_key,
        )


@dataclass(frozen=True, slots=True)
class FiredAlert:
    """A draft that was inserted as event `event_id` (it had not fired before)."""

    event_id: int
    draft: AlertDraft


def reached_thresholds(spend_nanos: int, limit_nanos: int) -> list[int]:
    """The PERCENT_THRESHOLDS that `spend_nanos` has reached of `limit_nanos` (both nano-USD).

    Integer arithmetic (spend * 100 >= limit * percent), so $0.75 of $1.00 is exactly 75%.
    """
    return [p for p in PERCENT_THRESHOLDS if spend_nanos * 100 >= limit_nanos * p]


async def insert_alerts(conn: BaseDBAsyncClient, drafts: Sequence[AlertDraft]) -> int:
    """Insert the drafts that have not fired yet and enqueue their deliveries; returns how
    many were new.

    Rows go in unique-key order so concurrent transactions take index locks in one order.
    """
    ordered = sorted({d.unique_key: d for d in drafts}.values(), key=lambda d: d.unique_key)
    fired: list[FiredAlert] = []
    for start in range(0, len(ordered), _ROWS_PER_STATEMENT):
        params = Params(dialect_of(conn))
        rows = []
        chunk = ordered[start : start + _ROWS_PER_STATEMENT]
        for draft in chunk:
            cells = (
                draft.organization_id,
                draft.kind.value,
                draft.subject_api_key_id,
                draft.threshold,
                draft.period_key,
                draft.value_nanos,
                draft.message,
                draft.fired_at,
                draft.rule_id,
            )
            rows.append("(" + ", ".join(params.add(c) for c in cells) + ")")
        returned = await conn.execute_query_dict(
            f"INSERT INTO alert_event ({', '.join(_COLUMNS)}) VALUES {', '.join(rows)} "
            f"ON CONFLICT ({_UNIQUE}) DO NOTHING RETURNING id, {_UNIQUE}",
            params.values,
        )
        by_key = {draft.unique_key: draft for draft in chunk}
        for row in returned:
            key = (
                int(row["organization_id"]),
                str(row["kind"]),
                int(row["api_key_id_subject"]),
                str(row["threshold"]),
                str(row["period_key"]),
            )
            fired.append(FiredAlert(int(row["id"]), by_key[key]))
    await enqueue_alert_deliveries(conn, fired)
    # Alerts subscriptions (PostgreSQL; on SQLite ingest's own notice or the hubs' refresh).
    orgs = sorted({f.draft.organization_id for f in fired})
    await notify_in_transaction(conn, [Notice(org) for org in orgs])
    return len(fired)
