"""The outbox: delivery rows written in the caller's transaction, sent later by the worker.

Writing a row is all that happens where an alert fires (inside the ingest transaction, or a
mutation's): nothing here opens a connection to a receiver, so a receiver that is down can
neither slow ingestion down nor lose the alert. The rows commit, or roll back, with the
event they deliver.

Where events go: a usage event (DAILY_SPEND, UNUSUAL_ACTIVITY, ERROR_RATE) to the targets of
the rule that fired it; a KEY_LIMIT, BUDGET, LOW_BALANCE or LIMIT_REQUEST event to every enabled
rule of that kind in the organization (a KEY_LIMIT or LIMIT_REQUEST rule with an API key only
for that key's events).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tortoise.backends.base.client import BaseDBAsyncClient

from alerts.message import DeliveryTarget, OutboundMessage, targets_of
from alerts.payload import ApiKeyRef, OrganizationRef, alert_message
from models.alert import AlertKind
from models.alert_delivery import DeliveryChannel, DeliveryStatus
from models.database import Params, dialect_of
from resolvers.scope import organizations_condition

if TYPE_CHECKING:
    from alerts.events import FiredAlert

__all__ = ["DELIVERY_ONLY_KINDS", "enqueue_alert_deliveries", "enqueue_message"]

# Kinds fired by spend control and cost governance; their rules carry delivery targets only.
DELIVERY_ONLY_KINDS = frozenset(
    {AlertKind.KEY_LIMIT, AlertKind.BUDGET, AlertKind.LOW_BALANCE, AlertKind.LIMIT_REQUEST}
)

_COLUMNS = (
    "organization_id",
    "event_id",
    "channel",
    "target",
    "secret",
    "message_id",
    "subject",
    "body",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
)
# Twelve parameters a row: far under either driver's bound-parameter limit.
_ROWS_PER_STATEMENT = 200


@dataclass(frozen=True, slots=True)
class _Rule:
    id: int
    organization_id: int
    kind: AlertKind
    api_key_id: int | None
    targets: tuple[DeliveryTarget, ...]

    def delivers(self, alert: FiredAlert) -> bool:
        draft = alert.draft
        if draft.organization_id != self.organization_id or draft.kind is not self.kind:
            return False
        if self.kind in DELIVERY_ONLY_KINDS:
            return self.api_key_id is None or self.api_key_id == draft.subject_api_key_id
        return draft.rule_id == self.id


async def enqueue_message(
    conn: BaseDBAsyncClient,
    organization_id: int,
    targets: Sequence[DeliveryTarget],
    message: OutboundMessage,
    now: datetime,
    *,
    event_id: int | None = None,
) -> int:
    """Write one PENDING delivery per target, due at `now` (aware), in the caller's
    transaction (commit it for the worker to send). Returns how many rows were written."""
    rows = [(organization_id, event_id, target, message, now) for target in _unique(targets)]
    await _insert(conn, rows)
    return len(rows)


async def enqueue_alert_deliveries(conn: BaseDBAsyncClient, fired: Sequence[FiredAlert]) -> int:
    """Write the deliveries of newly fired events, in the caller's transaction; returns how
    many rows were written (0, after one query, when no enabled rule has targets)."""
    if not fired:
        return 0
    org_ids = sorted({alert.draft.organization_id for alert in fired})
    rules = await _rules_with_targets(conn, org_ids)
    routed = [
        (alert, _unique([t for rule in rules if rule.delivers(alert) for t in rule.targets]))
        for alert in fired
    ]
    routed = [(alert, targets) for alert, targets in routed if targets]
    if not routed:
        return 0
    orgs = await _organizations(conn, sorted({a.draft.organization_id for a, _ in routed}))
    keys = await _api_keys(conn, sorted({a.draft.subject_api_key_id for a, _ in routed} - {0}))
    rows = []
    for alert, targets in routed:
        draft = alert.draft
        message = alert_message(
            alert.event_id,
            draft,
            orgs[draft.organization_id],
            keys.get(draft.subject_api_key_id),
        )
        rows += [
            (draft.organization_id, alert.event_id, target, message, draft.fired_at)
            for target in targets
        ]
    await _insert(conn, rows)
    return len(rows)


def _unique(targets: Sequence[DeliveryTarget]) -> list[DeliveryTarget]:
    # Two rules naming the same address get one message, not two.
    seen: dict[tuple[DeliveryChannel, str], DeliveryTarget] = {}
    for target in targets:
        seen.setdefault((target.channel, target.address), target)
    return list(seen.values())


async def _rules_with_targets(conn: BaseDBAsyncClient, org_ids: list[int]) -> list[_Rule]:
    params = Params(dialect_of(conn))
    rows = await conn.execute_query_dict(
        "SELECT id, organization_id, kind, api_key_id, webhook_url, webhook_secret, email "
        f"FROM alert_rule WHERE {organizations_condition(org_ids, params)} "
        f"AND enabled = {params.add(True)} "
        "AND (webhook_url IS NOT NULL OR email IS NOT NULL) ORDER BY id",
        params.values,
    )
    rules = []
    for row in rows:
        targets = targets_of(row["webhook_url"], row["webhook_secret"], row["email"])
        key = row["api_key_id"]
        rules.append(
            _Rule(
                id=int(row["id"]),
                organization_id=int(row["organization_id"]),
                kind=AlertKind(str(row["kind"])),
                api_key_id=None if key is None else int(key),
                targets=tuple(targets),
            )
        )
    return rules


async def _organizations(conn: BaseDBAsyncClient, org_ids: list[int]) -> dict[int, OrganizationRef]:
    params = Params(dialect_of(conn))
    rows = await conn.execute_query_dict(
        f"SELECT id, slug, name FROM organization WHERE id IN ({params.add_list(org_ids)})",
        params.values,
    )
    return {
        int(r["id"]): OrganizationRef(int(r["id"]), str(r["slug"]), str(r["name"])) for r in rows
    }


async def _api_keys(conn: BaseDBAsyncClient, key_ids: list[int]) -> dict[int, ApiKeyRef]:
    if not key_ids:
        return {}
    params = Params(dialect_of(conn))
    rows = await conn.execute_query_dict(
        f"SELECT id, label, prefix FROM api_key WHERE id IN ({params.add_list(key_ids)})",
        params.values,
    )
    return {int(r["id"]): ApiKeyRef(int(r["id"]), str(r["label"]), str(r["prefix"])) for r in rows}


async def _insert(
    conn: BaseDBAsyncClient,
    rows: Sequence[tuple[int, int | None, DeliveryTarget, OutboundMessage, datetime]],
) -> None:
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        params = Params(dialect_of(conn))
        values = []
        for organization_id, event_id, target, message, due in rows[
            start : start + _ROWS_PER_STATEMENT
        ]:
            body = (
                message.json_body
                if target.channel is DeliveryChannel.WEBHOOK
                else message.text_body
            )
            cells: tuple[Any, ...] = (
                organization_id,
                event_id,
                target.channel.value,
                target.address,
                target.secret,
                message.message_id,
                message.subject,
                body,
                DeliveryStatus.PENDING.value,
                0,
                due,
                due,
            )
            values.append("(" + ", ".join(params.add(c) for c in cells) + ")")
        await conn.execute_query(
            f"INSERT INTO alert_delivery ({', '.join(_COLUMNS)}) VALUES {', '.join(values)}",
            params.values,
        )
