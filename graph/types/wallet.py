"""Wallet and WalletEntry types: balance, low-balance threshold and the ledger (newest first)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, TypeAlias

import strawberry

from graph.context import Info
from graph.scalars import usd
from graph.types.connection import Connection, connection_from_page
from graph.types.enum_values import describe_values
from graph.types.member import MemberType
from graph.types.node import Node
from models.global_ids import encode_global_id
from models.wallet import EntryKind
from resolvers.pagination import PageRequest
from resolvers.wallet import LedgerEntry, WalletSummary, count_ledger_entries, ledger_page

WalletEntryKindEnum = strawberry.enum(
    EntryKind,
    name="WalletEntryKind",
    description="DEPOSIT and REFUND move money in and out; USAGE is what requests cost.",
)

describe_values(
    WalletEntryKindEnum,
    {
        "DEPOSIT": "Money an Owner added.",
        "REFUND": "Money paid back out (a negative amount).",
        "USAGE": "Spend charged for requests (a negative amount).",
        "ADJUSTMENT": "A correction made by an operator.",
    },
)


@strawberry.type(
    name="WalletEntry",
    description="One line of the wallet ledger (a Node: Admins and Owners fetch it by id).",
)
class WalletEntryType(Node):
    kind: WalletEntryKindEnum = strawberry.field(  # type: ignore[valid-type]
        description="DEPOSIT, REFUND, USAGE or ADJUSTMENT."
    )
    amount: Decimal = strawberry.field(
        description="USD, signed: deposits positive, usage deductions and refunds negative."
    )
    balance_after: Decimal = strawberry.field(description="USD balance after this entry.")
    request_count: int = strawberry.field(description="Requests a USAGE entry paid for.")
    note: str | None = strawberry.field(
        description="The note given with a deposit or refund (user text); null when none."
    )
    created_at: datetime = strawberry.field(description="When the entry was booked (UTC).")
    created_by_pk: strawberry.Private[int | None]

    @strawberry.field(description="Who made a deposit or refund (null for usage).")
    async def created_by(self, info: Info) -> MemberType | None:
        if self.created_by_pk is None:
            return None
        member = await info.context.loaders.member_by_id.load(self.created_by_pk)
        return MemberType.from_model(member) if member else None

    @classmethod
    def from_entry(cls, entry: LedgerEntry) -> WalletEntryType:
        return cls(
            id=strawberry.ID(encode_global_id("WalletEntry", entry.id)),
            kind=entry.kind,
            amount=usd(entry.amount_nanos),
            balance_after=usd(entry.balance_after_nanos),
            request_count=entry.request_count,
            note=entry.note,
            created_at=entry.created_at,
            created_by_pk=entry.created_by_id,
        )


WalletEntryConnection: TypeAlias = Connection[WalletEntryType]


@strawberry.type(name="Wallet", description="The organization's prepaid balance (team money).")
class WalletType:
    balance: Decimal = strawberry.field(description="USD available.")
    low_balance_threshold: Decimal = strawberry.field(
        description="USD; a LOW_BALANCE alert fires when the balance falls below it."
    )
    is_low: bool = strawberry.field(description="True while the balance is under the threshold.")

    @strawberry.field(
        description=(
            "The ledger, newest first, in the order the balance changed: an entry's "
            "`balanceAfter` is the next listed (older) entry's `balanceAfter` plus the "
            "entry's own `amount`. `first`: 1 to 100 (default 50); `after`: the `endCursor` "
            "of the previous page."
        )
    )
    async def entries(
        self,
        info: Info,
        first: Annotated[
            int | None,
            strawberry.argument(
                description=(
                    "How many items to return from the start of the page (1-100; 50 by default)."
                )
            ),
        ] = 50,
        after: Annotated[
            str | None,
            strawberry.argument(
                description=(
                    "A cursor (`pageInfo.endCursor` of the previous page): return the items"
                    " after it."
                )
            ),
        ] = None,
    ) -> WalletEntryConnection:
        scope = info.context.scope
        page = await ledger_page(scope, PageRequest.parse(first, after))

        async def count_rows() -> int:
            return await count_ledger_entries(scope)

        return connection_from_page(page, WalletEntryType.from_entry, count_rows)

    @classmethod
    def from_summary(cls, summary: WalletSummary) -> WalletType:
        return cls(
            balance=usd(summary.balance_nanos),
            low_balance_threshold=usd(summary.low_balance_threshold_nanos),
            is_low=summary.is_low,
        )
