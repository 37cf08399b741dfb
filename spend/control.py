"""Spend control: key limits, the organization budget and low balance, enforced where money moves.

`after_write` runs inside the ingest transaction (`write_records(..., after_write=...)`) after
the logs, rollups, wallet deduction and spend counters are written, so a threshold alert or an
automatic block commits, or rolls back, with the spend that caused it. The mutations that move
the goalposts (a new limit, budget, threshold, a deposit or refund) call the `enforce_*`
functions in their own transaction so the same rules apply to them.

Concurrency: every path locks the organization row first (ingest does so with its wallet
UPDATE), then spend counters, then API keys (`spend/state.py`), so concurrent
batches for one organization run these steps one after another and always see each other's
spend. Alert events are inserted with ON CONFLICT DO NOTHING on their unique key
(organization, kind, subject, threshold, period), which makes "each threshold once per
period" hold even across processes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from alerts.events import AlertDraft, insert_alerts, reached_thresholds
from models.alert import AlertKind
from models.api_key import KeyStatus
from models.priced_record import PricedRecord
from pricing.money import format_usd
from resolvers.periods import TimeRange
from spend.state import (
    KeyState,
    OrgState,
    block_key_for_limit,
    lock_counters,
    lock_keys,
    lock_organizations,
    unblock_key,
)

__all__ = ["after_write", "enforce_budget", "enforce_key_limit", "enforce_low_balance"]


async def after_write(conn: BaseDBAsyncClient, inserted: list[PricedRecord]) -> None:
    """Fire threshold alerts and block keys for the spend the newly inserted records added.

    Call inside the ingest transaction, after spend counters are updated; an empty list is a
    no-op. Alerts for late records count toward the period the records belong to; a key is
    blocked only for the current (or a later) billing period.
    """
    if not inserted:
        return
    now = datetime.now(UTC)
    orgs = await lock_organizations(conn, sorted({r.organization_id for r in inserted}))
    touched: dict[int, set[tuple[int, datetime]]] = defaultdict(set)
    # A batch spans one or two periods per organization: find each once, not per record,
    # trying the last one first.
    periods: dict[int, list[TimeRange]] = defaultdict(list)
    last_org, last = 0, None
    keys_in: set[tuple[int, int, datetime]] = set()
    for record in inserted:
        org_id, at = record.organization_id, record.timestamp
        if last is None or org_id != last_org or not last.start <= at < last.end:
            last_org, last = org_id, next((p for p in periods[org_id] if p.contains(at)), None)
            if last is None:
                last = orgs[org_id].period(at)
                periods[org_id].append(last)
        keys_in.add((org_id, record.api_key_id, last.start))
    for org_id, key_id, start in keys_in:
        touched[org_id].update({(0, start), (key_id, start)})
    drafts: list[AlertDraft] = []
    for org_id in sorted(touched):
        org = orgs[org_id]
        counters = await lock_counters(conn, org_id, touched[org_id])
        keys = await lock_keys(conn, org_id, sorted({k for k, _ in touched[org_id] if k}))
        current_start = org.period_start(now)
        for (key_id, start), spend in sorted(counters.items()):
            if key_id == 0:
                drafts.extend(_budget_alerts(org, start, spend, now))
            elif key_id in keys:
                key = keys[key_id]
                drafts.extend(_key_alerts(org, key, start, spend, now))
                if start >= current_start and _must_block(key, start, spend):
                    await block_key_for_limit(conn, key, start)
        drafts.extend(_low_balance_alerts(org, now))
    await insert_alerts(conn, drafts)


async def enforce_key_limit(conn: BaseDBAsyncClient, organization_id: int, api_key_id: int) -> None:
    """Apply the key's current limit to its current-period spend, inside the caller's
    transaction: fire the thresholds it has reached, block it at 100%, and lift a limit block
    the spend no longer justifies (a higher or cleared limit, or a new period)."""
    now = datetime.now(UTC)
    org = (await lock_organizations(conn, [organization_id]))[organization_id]
    start = org.period_start(now)
    keys = await lock_keys(conn, organization_id, [api_key_id])
    if api_key_id not in keys:
        return
    key = keys[api_key_id]
    spend = (await lock_counters(conn, organization_id, {(api_key_id, start)})).get(
        (api_key_id, start), 0
    )
    await insert_alerts(conn, _key_alerts(org, key, start, spend, now))
    reached = key.limit_nanos is not None and spend >= key.limit_nanos
    if reached and _must_block(key, start, spend):
        await block_key_for_limit(conn, key, start)
    elif not reached and key.status is KeyStatus.BLOCKED and key.limit_blocked_period_start:
        await unblock_key(conn, key.id)


async def enforce_budget(conn: BaseDBAsyncClient, organization_id: int) -> None:
    """Fire the budget thresholds the current period's spend has reached (caller's transaction)."""
    now = datetime.now(UTC)
    org = (await lock_organizations(conn, [organization_id]))[organization_id]
    start = org.period_start(now)
    spend = (await lock_counters(conn, organization_id, {(0, start)})).get((0, start), 0)
    await insert_alerts(conn, _budget_alerts(org, start, spend, now))


async def enforce_low_balance(conn: BaseDBAsyncClient, organization_id: int) -> None:
    """Fire LOW_BALANCE if the balance is under the threshold (once per episode), inside the
    caller's transaction, after it changed the balance, the threshold or the episode."""
    now = datetime.now(UTC)
    org = (await lock_organizations(conn, [organization_id]))[organization_id]
    await insert_alerts(conn, _low_balance_alerts(org, now))


def _must_block(key: KeyState, period_start: datetime, spend_nanos: int) -> bool:
    if key.limit_nanos is None or spend_nanos < key.limit_nanos:
        return False
    if key.status is KeyStatus.ACTIVE:
        return True
    # A limit block from an earlier period is renewed for this one; manual blocks and
    # revocations are left exactly as they are.
    blocked_for = key.limit_blocked_period_start
    return (
        key.status is KeyStatus.BLOCKED and blocked_for is not None and blocked_for < period_start
    )


def _key_alerts(
    org: OrgState, key: KeyState, start: datetime, spend_nanos: int, now: datetime
) -> list[AlertDraft]:
    if key.limit_nanos is None:
        return []
    limit = key.limit_nanos
    return [
        AlertDraft(
            organization_id=org.id,
            kind=AlertKind.KEY_LIMIT,
            subject_api_key_id=key.id,
            threshold=str(percent),
            period_key=start.isoformat(),
            value_nanos=spend_nanos,
            message=(
                f"API key '{key.label}' reached {percent}% of its monthly limit: "
                f"${format_usd(spend_nanos)} of ${format_usd(limit)} spent"
                + ("; the key is blocked" if percent == 100 else "")
            ),
            fired_at=now,
        )
        for percent in reached_thresholds(spend_nanos, limit)
    ]


def _budget_alerts(
    org: OrgState, start: datetime, spend_nanos: int, now: datetime
) -> list[AlertDraft]:
    if org.budget_nanos is None:
        return []
    budget = org.budget_nanos
    return [
        AlertDraft(
            organization_id=org.id,
            kind=AlertKind.BUDGET,
            subject_api_key_id=0,
            threshold=str(percent),
            period_key=start.isoformat(),
            value_nanos=spend_nanos,
            message=(
                f"The organization reached {percent}% of its monthly budget: "
                f"${format_usd(spend_nanos)} of ${format_usd(budget)} spent"
            ),
            fired_at=now,
        )
        for percent in reached_thresholds(spend_nanos, budget)
    ]


def _low_balance_alerts(org: OrgState, now: datetime) -> list[AlertDraft]:
    if org.balance_nanos >= org.low_balance_threshold_nanos:
        return []
    threshold = format_usd(org.low_balance_threshold_nanos)
    return [
        AlertDraft(
            organization_id=org.id,
            kind=AlertKind.LOW_BALANCE,
            subject_api_key_id=0,
            threshold=threshold,
            period_key=f"episode-{org.low_balance_episode}",
            value_nanos=org.balance_nanos,
            message=(
                f"Wallet balance ${format_usd(org.balance_nanos)} is below the "
                f"low-balance threshold of ${threshold}"
            ),
            fired_at=now,
        )
    ]
