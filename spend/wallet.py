"""Ledger writes: deposits, refunds and the low-balance threshold, each in one transaction.

The balance lives on the organization row and changes only through `UPDATE ... RETURNING`,
which also locks the row: concurrent deposits, refunds and ingest deductions queue on it, so
every ledger entry's `balance_after_nanos` is exact. Deposits and refunds never touch spend
counters or usage rollups: they are money in and out, not cost. Each write is recorded in
the audit trail (money as USD strings) in its own transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from audit.trail import Actor, record_change
from models.database import Params, dialect_of
from models.wallet import EntryKind
from pricing.money import format_usd
from resolvers.errors import BadInputError
from resolvers.wallet import LedgerEntry
from spend.control import enforce_low_balance
from spend.state import lock_organizations

__all__ = [
    "MAX_BALANCE_NANOS",
    "apply_low_balance_threshold",
    "deposit",
    "refund",
    "set_low_balance_threshold",
]

# The most a wallet may hold: $1,000,000,000. Balances are 64-bit integers of nano-USD
# (at most 9.2e18); without a ceiling, repeated deposits would overflow the column.
MAX_BALANCE_NANOS = 10**18

# Bumps the low-balance episode when the balance ends at/above the threshold, so the next
# fall below it is a new episode that alerts again. Column references on the right-hand side
# of SET read the row's old values on both SQLite and PostgreSQL.
_NEXT_EPISODE = (
    "low_balance_episode = low_balance_episode + "
    "CASE WHEN {balance} >= {threshold} THEN 1 ELSE 0 END"
)


async def deposit(
    organization_id: int,
    amount_nanos: int,
    note: str | None,
    member_id: int | None,
    *,
    actor: Actor,
) -> LedgerEntry:
    """Add `amount_nanos` (> 0) to the balance; returns the DEPOSIT ledger entry. Raises
    BadInputError when the balance would exceed MAX_BALANCE_NANOS."""
    _require_positive(amount_nanos)
    if amount_nanos > MAX_BALANCE_NANOS:
        raise BadInputError(f"amount: a wallet holds at most ${format_usd(MAX_BALANCE_NANOS)}")
    async with in_transaction() as conn:
        params = Params(dialect_of(conn))
        amount = params.add(amount_nanos)
        episode = _NEXT_EPISODE.format(
            balance=f"wallet_balance_nanos + {params.add(amount_nanos)}",
            threshold="low_balance_threshold_nanos",
        )
        # The ceiling is checked in the same statement, so the sum is never computed past it.
        rows = await conn.execute_query_dict(
            f"UPDATE organization SET wallet_balance_nanos = wallet_balance_nanos + {amount}, "
            f"{episode} WHERE id = {params.add(organization_id)} "
            f"AND wallet_balance_nanos <= {params.add(MAX_BALANCE_NANOS - amount_nanos)} "
            "RETURNING wallet_balance_nanos",
            params.values,
        )
        if not rows:
            available = await _balance(conn, organization_id)
            raise BadInputError(
                f"amount: a deposit of ${format_usd(amount_nanos)} would take the wallet "
                f"balance of ${format_usd(available)} above "
                f"${format_usd(MAX_BALANCE_NANOS)}"
            )
        balance = int(rows[0]["wallet_balance_nanos"])
        entry = await _add_entry(
            conn, organization_id, EntryKind.DEPOSIT, amount_nanos, balance, note, member_id
        )
        await _record_entry(conn, actor, organization_id, "wallet.deposit", entry)
        # A deposit that leaves the balance under the threshold continues the episode.
        await enforce_low_balance(conn, organization_id)
    return entry


async def refund(
    organization_id: int,
    amount_nanos: int,
    note: str | None,
    member_id: int | None,
    *,
    actor: Actor,
) -> LedgerEntry:
    """Pay `amount_nanos` (> 0, at most the balance) back out of the wallet; returns the
    REFUND ledger entry (negative amount). Raises BadInputError when it exceeds the balance."""
    _require_positive(amount_nanos)
    async with in_transaction() as conn:
        params = Params(dialect_of(conn))
        amount = params.add(amount_nanos)
        rows = await conn.execute_query_dict(
            f"UPDATE organization SET wallet_balance_nanos = wallet_balance_nanos - {amount} "
            f"WHERE id = {params.add(organization_id)} "
            f"AND wallet_balance_nanos >= {params.add(amount_nanos)} "
            "RETURNING wallet_balance_nanos",
            params.values,
        )
        if not rows:
            available = await _balance(conn, organization_id)
            raise BadInputError(
                f"amount: a refund of ${format_usd(amount_nanos)} exceeds the wallet balance "
                f"of ${format_usd(available)}"
            )
        balance = int(rows[0]["wallet_balance_nanos"])
        entry = await _add_entry(
            conn, organization_id, EntryKind.REFUND, -amount_nanos, balance, note, member_id
        )
        await _record_entry(conn, actor, organization_id, "wallet.refund", entry)
        await enforce_low_balance(conn, organization_id)
    return entry


async def set_low_balance_threshold(
    organization_id: int, threshold_nanos: int, *, actor: Actor
) -> None:
    """Set the threshold (>= 0 nano-USD) under which the wallet alerts; alerts at once when the
    balance is already under the new threshold (once per episode)."""
    async with in_transaction() as conn:
        old = await _threshold(conn, organization_id)
        await apply_low_balance_threshold(conn, organization_id, threshold_nanos)
        await record_change(
            organization_id,
            actor,
            "wallet.lowBalanceThreshold",
            "Organization",
            organization_id,
            {"lowBalanceThreshold": (format_usd(old), format_usd(threshold_nanos))},
            connection=conn,
        )


async def apply_low_balance_threshold(
    conn: BaseDBAsyncClient, organization_id: int, threshold_nanos: int
) -> None:
    """`set_low_balance_threshold` inside the caller's transaction `conn` (a settings change
    that also records its audit entry)."""
    if threshold_nanos < 0:
        raise BadInputError("amount: the low-balance threshold cannot be negative")
    params = Params(dialect_of(conn))
    threshold = params.add(threshold_nanos)
    episode = _NEXT_EPISODE.format(
        balance="wallet_balance_nanos", threshold=params.add(threshold_nanos)
    )
    await conn.execute_query(
        f"UPDATE organization SET low_balance_threshold_nanos = {threshold}, {episode} "
        f"WHERE id = {params.add(organization_id)}",
        params.values,
    )
    await enforce_low_balance(conn, organization_id)


def _require_positive(amount_nanos: int) -> None:
    if amount_nanos <= 0:
        raise BadInputError("amount: must be greater than 0")


async def _threshold(conn: BaseDBAsyncClient, organization_id: int) -> int:
    # Locks the row first, so the old value recorded is the one this change replaces.
    states = await lock_organizations(conn, [organization_id])
    return states[organization_id].low_balance_threshold_nanos


async def _record_entry(
    conn: BaseDBAsyncClient, actor: Actor, organization_id: int, action: str, entry: LedgerEntry
) -> None:
    """A deposit or refund in the trail: the amount, the balance before and after, the note."""
    await record_change(
        organization_id,
        actor,
        action,
        "WalletEntry",
        entry.id,
        {
            "amount": (None, format_usd(entry.amount_nanos)),
            "balance": (
                format_usd(entry.balance_after_nanos - entry.amount_nanos),
                format_usd(entry.balance_after_nanos),
            ),
            "note": (None, entry.note),
        },
        connection=conn,
    )


async def _balance(conn: BaseDBAsyncClient, organization_id: int) -> int:
    params = Params(dialect_of(conn))
    rows = await conn.execute_query_dict(
        f"SELECT wallet_balance_nanos FROM organization WHERE id = {params.add(organization_id)}",
        params.values,
    )
    return int(rows[0]["wallet_balance_nanos"])


async def _add_entry(
    conn: BaseDBAsyncClient,
    organization_id: int,
    kind: EntryKind,
    amount_nanos: int,
    balance_after_nanos: int,
    note: str | None,
    member_id: int | None,
) -> LedgerEntry:
    # Taken after the balance UPDATE locked the row, so created_at follows balance order.
    created_at = datetime.now(UTC)
    params = Params(dialect_of(conn))
    values = (
        organization_id,
        kind.value,
        amount_nanos,
        balance_after_nanos,
        0,
        note,
        member_id,
        created_at,
    )
    rows = await conn.execute_query_dict(
        "INSERT INTO wallet_entry (organization_id, kind, amount_nanos, balance_after_nanos, "
        "request_count, note, created_by_id, created_at) VALUES ("
        + ", ".join(params.add(v) for v in values)
        + ") RETURNING id",
        params.values,
    )
    return LedgerEntry(
        id=int(rows[0]["id"]),
        kind=kind,
        amount_nanos=amount_nanos,
        balance_after_nanos=balance_after_nanos,
        request_count=0,
        note=note,
        created_by_id=member_id,
        created_at=created_at,
    )
