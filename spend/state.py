"""Spend state under lock: the organization, key and spend-counter rows spend control reads,
and the key status changes it writes. Everything runs in the caller's transaction.

Lock order, followed by every path: the organization row, then spend counters, then API keys.
Ingest takes the organization row first with its wallet UPDATE, so all spend-control work for
one organization is serialized on that row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from models.api_key import KeyStatus
from models.database import Dialect, Params, dialect_of, parse_db_datetime
from pricing.money import format_usd
from resolvers.billing_policy import BILLING_POLICY_COLUMNS, BillingPolicy, billing_policy_of_row
from resolvers.periods import TimeRange
from resolvers.scope import Scope

__all__ = [
    "KeyState",
    "OrgState",
    "block_key_for_limit",
    "limit_block_reason",
    "lock_counters",
    "lock_keys",
    "lock_organization",
    "lock_organizations",
    "unblock_key",
]


@dataclass(frozen=True, slots=True)
class OrgState:
    """An organization's spend settings and balance; money in nano-USD."""

    id: int
    billing: BillingPolicy
    budget_nanos: int | None
    balance_nanos: int
    low_balance_threshold_nanos: int
    low_balance_episode: int

    def period(self, at: datetime) -> TimeRange:
        return self.billing.period(at)

    def period_start(self, at: datetime) -> datetime:
        return self.period(at).start


@dataclass(frozen=True, slots=True)
class KeyState:
    """An API key's status and limit (nano-USD); the period start is aware UTC."""

    id: int
    label: str
    status: KeyStatus
    limit_nanos: int | None
    limit_blocked_period_start: datetime | None


def limit_block_reason(limit_nanos: int) -> str:
    """The status reason an automatic block carries, e.g. "monthly limit of $1.00 reached"."""
    return f"monthly limit of ${format_usd(limit_nanos)} reached"


async def lock_organization(conn: BaseDBAsyncClient, organization_id: int) -> None:
    """Lock the organization row (PostgreSQL) before touching its keys or counters, the order
    every spend-control path follows."""
    await lock_organizations(conn, [organization_id])


def _row_lock(conn: BaseDBAsyncClient) -> str:
    # FOR NO KEY UPDATE, not FOR UPDATE: inserting a request_log takes a KEY SHARE lock on
    # its organization and key (foreign keys), which FOR UPDATE would wait on -> deadlock.
    # SQLite runs one write transaction at a time, so it needs no row locks.
    return "" if dialect_of(conn) is Dialect.SQLITE else " FOR NO KEY UPDATE"


async def lock_organizations(conn: BaseDBAsyncClient, ids: list[int]) -> dict[int, OrgState]:
    """Lock the organizations' rows (in id order) and return their spend state by id."""
    params = Params(dialect_of(conn))
    rows = await conn.execute_query_dict(
        f"SELECT id, {BILLING_POLICY_COLUMNS}, monthly_budget_nanos, wallet_balance_nanos, "
        "low_balance_threshold_nanos, low_balance_episode FROM organization "
        f"WHERE id IN ({params.add_list(ids)}) ORDER BY id" + _row_lock(conn),
        params.values,
    )
    return {
        int(row["id"]): OrgState(
            id=int(row["id"]),
            billing=billing_policy_of_row(row),
            budget_nanos=_optional_int(row["monthly_budget_nanos"]),
            balance_nanos=int(row["wallet_balance_nanos"]),
            low_balance_threshold_nanos=int(row["low_balance_threshold_nanos"]),
            low_balance_episode=int(row["low_balance_episode"]),
        )
        for row in rows
    }


async def lock_counters(
    conn: BaseDBAsyncClient, organization_id: int, wanted: set[tuple[int, datetime]]
) -> dict[tuple[int, datetime], int]:
    """Spend (nano-USD) per (key id, period start) of the wanted counters that exist."""
    params = Params(dialect_of(conn))
    key_ids = sorted({key_id for key_id, _ in wanted})
    starts = sorted({start for _, start in wanted})
    rows = await conn.execute_query_dict(
        "SELECT api_key_id, period_start, spend_nanos FROM spend_counter WHERE "
        + " AND ".join(Scope.for_organization(organization_id).where(params))
        + " "
        f"AND api_key_id IN ({params.add_list(key_ids)}) "
        f"AND period_start IN ({params.add_list(starts)}) "
        "ORDER BY api_key_id, period_start" + _row_lock(conn),
        params.values,
    )
    found = {
        (int(row["api_key_id"]), parse_db_datetime(row["period_start"])): int(row["spend_nanos"])
        for row in rows
    }
    return {key: spend for key, spend in found.items() if key in wanted}


async def lock_keys(
    conn: BaseDBAsyncClient, organization_id: int, ids: list[int]
) -> dict[int, KeyState]:
    """Lock the organization's keys among `ids` (in id order); missing ones are absent."""
    if not ids:
        return {}
    params = Params(dialect_of(conn))
    rows = await conn.execute_query_dict(
        "SELECT id, label, status, monthly_limit_nanos, limit_blocked_period_start FROM api_key "
        "WHERE "
        + " AND ".join(Scope.for_organization(organization_id).where(params))
        + f" AND id IN ({params.add_list(ids)}) ORDER BY id"
        + _row_lock(conn),
        params.values,
    )
    return {
        int(row["id"]): KeyState(
            id=int(row["id"]),
            label=str(row["label"]),
            status=KeyStatus(row["status"]),
            limit_nanos=_optional_int(row["monthly_limit_nanos"]),
            limit_blocked_period_start=(
                None
                if row["limit_blocked_period_start"] is None
                else parse_db_datetime(row["limit_blocked_period_start"])
            ),
        )
        for row in rows
    }


async def block_key_for_limit(
    conn: BaseDBAsyncClient, key: KeyState, period_start: datetime
) -> None:
    """Mark the key BLOCKED by its limit for the period starting at `period_start` (UTC)."""
    assert key.limit_nanos is not None  # only a key with a limit is blocked by it
    params = Params(dialect_of(conn))
    await conn.execute_query(
        f"UPDATE api_key SET status = {params.add(KeyStatus.BLOCKED.value)}, "
        f"status_reason = {params.add(limit_block_reason(key.limit_nanos))}, "
        f"limit_blocked_period_start = {params.add(period_start)} "
        f"WHERE id = {params.add(key.id)}",
        params.values,
    )


async def unblock_key(conn: BaseDBAsyncClient, api_key_id: int) -> None:
    """Make the key ACTIVE again, clearing the reason and the limit block."""
    params = Params(dialect_of(conn))
    await conn.execute_query(
        f"UPDATE api_key SET status = {params.add(KeyStatus.ACTIVE.value)}, "
        "status_reason = NULL, limit_blocked_period_start = NULL "
        f"WHERE id = {params.add(api_key_id)}",
        params.values,
    )


def _optional_int(value: object) -> int | None:
    return None if value is None else int(str(value))
