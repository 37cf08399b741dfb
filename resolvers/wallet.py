"""The wallet as Admins and Owners read it: balance, threshold and the ledger, newest first.

The wallet is team money: Members are refused (FORBIDDEN), never shown a partial answer.
Ledger pages are ordered by id alone, newest first, served by the (organization_id, id)
index: every writer (deposit, refund, ingest, reprice) inserts its entry after the UPDATE of
the balance that locks the organization row, and holds that lock until commit, so ids are
drawn in the order the balance changed and each entry's `balance_after_nanos` is the
previous entry's plus its amount. `created_at` is also taken under the lock, but a clock
may step back, so it only labels the entry. Cursors are the one keyset helper's
(`resolvers.pagination`); only their id is compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models.database import Params, current_dialect, fetch_all, parse_db_datetime
from models.organization import Organization
from models.wallet import EntryKind
from resolvers.pagination import KeysetCursor, Page, PageRequest, build_page
from resolvers.scope import Scope

__all__ = [
    "LedgerEntry",
    "WalletSummary",
    "count_ledger_entries",
    "ledger_entries_by_ids",
    "ledger_page",
    "wallet_summary",
]

_COLUMNS = (
    "id, kind, amount_nanos, balance_after_nanos, request_count, note, created_by_id, created_at"
)


@dataclass(frozen=True, slots=True)
class WalletSummary:
    """Balance and low-balance threshold in nano-USD."""

    balance_nanos: int
    low_balance_threshold_nanos: int

    @property
    def is_low(self) -> bool:
        return self.balance_nanos < self.low_balance_threshold_nanos


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One ledger line; amounts in nano-USD, signed (deposits positive, usage and refunds
    negative); `created_at` aware UTC."""

    id: int
    kind: EntryKind
    amount_nanos: int
    balance_after_nanos: int
    request_count: int
    note: str | None
    created_by_id: int | None
    created_at: datetime

    @property
    def position(self) -> KeysetCursor:
        return KeysetCursor(timestamp=self.created_at, id=self.id)


def wallet_summary(scope: Scope, org: Organization) -> WalletSummary:
    """The organization's balance and threshold; ForbiddenError for Members."""
    scope.require_team("the wallet")
    return WalletSummary(org.wallet_balance_nanos, org.low_balance_threshold_nanos)


async def ledger_page(scope: Scope, request: PageRequest) -> Page[LedgerEntry]:
    """One page of the ledger, newest first in the order the balance changed (by id);
    ForbiddenError for Members."""
    params = Params(current_dialect())
    conditions = scope.team_where(params, "the wallet")
    if request.after is not None:
        conditions.append(f"id < {params.add(request.after.id)}")
    rows = await fetch_all(
        f"SELECT {_COLUMNS} FROM wallet_entry WHERE "
        + " AND ".join(conditions)
        + f" ORDER BY id DESC LIMIT {params.add(request.size + 1)}",
        params,
    )
    return build_page([_entry(row) for row in rows], request, lambda e: e.position)


async def ledger_entries_by_ids(scope: Scope, entry_ids: list[int]) -> dict[int, LedgerEntry]:
    """The organization's ledger entries among `entry_ids`, by id; empty for a Member (the
    ledger is team money: an entry looks to them like one that does not exist)."""
    if not entry_ids or not scope.sees_team:
        return {}
    params = Params(current_dialect())
    conditions = scope.where(params)
    conditions.append(f"id IN ({params.add_list(sorted(set(entry_ids)))})")
    rows = await fetch_all(
        f"SELECT {_COLUMNS} FROM wallet_entry WHERE " + " AND ".join(conditions), params
    )
    entries = [_entry(row) for row in rows]
    return {entry.id: entry for entry in entries}


async def count_ledger_entries(scope: Scope) -> int:
    """How many ledger entries the organization has (all pages)."""
    params = Params(current_dialect())
    conditions = scope.team_where(params, "the wallet")
    rows = await fetch_all(
        "SELECT COUNT(*) AS total FROM wallet_entry WHERE " + " AND ".join(conditions), params
    )
    return int(rows[0]["total"])


def _entry(row: dict[str, object]) -> LedgerEntry:
    created_by = row["created_by_id"]
    return LedgerEntry(
        id=int(str(row["id"])),
        kind=EntryKind(str(row["kind"])),
        amount_nanos=int(str(row["amount_nanos"])),
        balance_after_nanos=int(str(row["balance_after_nanos"])),
        request_count=int(str(row["request_count"])),
        note=None if row["note"] is None else str(row["note"]),
        created_by_id=None if created_by is None else int(str(created_by)),
        created_at=parse_db_datetime(row["created_at"]),
    )
