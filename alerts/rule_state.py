"""Rule state kept on `alert_rule`: which rules are due for a check, and episodes.

Claiming pushes `next_evaluation_at` one poll interval ahead in one UPDATE over a sub-select
(`FOR UPDATE SKIP LOCKED` on PostgreSQL), so with several replicas each rule is checked by
one of them per interval. An episode starts with a compare-and-set on
`episode_started_at IS NULL` in the transaction that inserts its event: of two workers that
see the same spike, exactly one fires it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from models.alert import AlertKind
from models.database import (
    Dialect,
    Params,
    current_dialect,
    dialect_of,
    fetch_all,
    parse_db_datetime,
)

__all__ = ["EVALUATED_KINDS", "DueRule", "claim_due_rules", "end_episode", "start_episode"]

# The kinds the worker checks; the others only carry delivery targets.
EVALUATED_KINDS = (AlertKind.DAILY_SPEND, AlertKind.UNUSUAL_ACTIVITY, AlertKind.ERROR_RATE)
_CLAIM_BATCH = 500


@dataclass(frozen=True, slots=True)
class DueRule:
    """A rule to check now; thresholds as stored (nano-USD, basis points)."""

    id: int
    organization_id: int
    kind: AlertKind
    api_key_id: int | None
    threshold_nanos: int | None
    threshold_bps: int | None
    window_minutes: int
    min_requests: int
    episode_started_at: datetime | None
    created_at: datetime


async def claim_due_rules(now: datetime, interval: timedelta) -> list[DueRule]:
    """Enabled usage rules due at `now`, each marked not due again before now + interval."""
    claimed: list[DueRule] = []
    while True:
        batch = await _claim_batch(now, interval)
        claimed += batch
        if len(batch) < _CLAIM_BATCH:
            return sorted(claimed, key=lambda r: r.id)


async def _claim_batch(now: datetime, interval: timedelta) -> list[DueRule]:
    params = Params(current_dialect())
    lock = " FOR UPDATE SKIP LOCKED" if params.dialect is Dialect.POSTGRES else ""
    rows = await fetch_all(
        f"UPDATE alert_rule SET next_evaluation_at = {params.add(now + interval)} "
        "WHERE id IN (SELECT id FROM alert_rule "
        f"WHERE enabled = {params.add(True)} "
        f"AND kind IN ({params.add_list([k.value for k in EVALUATED_KINDS])}) "
        f"AND (next_evaluation_at IS NULL OR next_evaluation_at <= {params.add(now)}) "
        f"ORDER BY id LIMIT {params.add(_CLAIM_BATCH)}{lock}) "
        "RETURNING id, organization_id, kind, api_key_id, threshold_nanos, threshold_bps, "
        "window_minutes, min_requests, episode_started_at, created_at",
        params,
    )
    return [
        DueRule(
            id=int(row["id"]),
            organization_id=int(row["organization_id"]),
            kind=AlertKind(str(row["kind"])),
            api_key_id=_optional_int(row["api_key_id"]),
            threshold_nanos=_optional_int(row["threshold_nanos"]),
            threshold_bps=_optional_int(row["threshold_bps"]),
            window_minutes=int(row["window_minutes"]),
            min_requests=int(row["min_requests"]),
            episode_started_at=None
            if row["episode_started_at"] is None
            else parse_db_datetime(row["episode_started_at"]),
            created_at=parse_db_datetime(row["created_at"]),
        )
        for row in rows
    ]


async def start_episode(conn: BaseDBAsyncClient, rule_id: int, now: datetime) -> bool:
    """Mark an episode started at `now` unless one is running; True when this call did."""
    params = Params(dialect_of(conn))
    rows = await conn.execute_query_dict(
        f"UPDATE alert_rule SET episode_started_at = {params.add(now)} "
        f"WHERE id = {params.add(rule_id)} AND episode_started_at IS NULL RETURNING id",
        params.values,
    )
    return bool(rows)


async def end_episode(rule_id: int) -> None:
    """The rule is back under its threshold: the next crossing is a new episode."""
    params = Params(current_dialect())
    await fetch_all(
        f"UPDATE alert_rule SET episode_started_at = NULL WHERE id = {params.add(rule_id)} "
        "AND episode_started_at IS NOT NULL RETURNING id",
        params,
    )


def _optional_int(value: object) -> int | None:
    return None if value is None else int(str(value))
