"""Wallet mutations: deposits and refunds (Owners), the low-balance threshold (Admins/Owners)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry

from audit.trail import Actor
from graph.context import Info
from graph.errors import BadUserInputError
from graph.inputs.amounts import amount_nanos
from graph.permissions import CanAdminister, IsOwner, require
from graph.types.wallet import WalletEntryType, WalletType
from models.organization import Organization
from resolvers.wallet import wallet_summary
from spend.wallet import deposit, refund, set_low_balance_threshold

_NOTE_LENGTH = 500


def _note(note: str | None) -> str | None:
    if note is None:
        return None
    if len(note) > _NOTE_LENGTH:
        raise BadUserInputError(f"note: at most {_NOTE_LENGTH} characters")
    return note.strip() or None


@strawberry.type
class WalletMutations:
    @strawberry.mutation(
        description=(
            "Owners only: add `amount` USD (> 0, at most 9 decimals) to the wallet. Deposits "
            "never count as cost. Returns the ledger entry."
        ),
        extensions=require(IsOwner),
    )
    async def deposit_funds(
        self,
        info: Info,
        amount: Annotated[
            Decimal, strawberry.argument(description="USD to add, > 0, at most 9 decimals.")
        ],
        note: Annotated[
            str | None, strawberry.argument(description="A note kept with the entry (user text).")
        ] = None,
    ) -> WalletEntryType:
        viewer = info.context.viewer
        entry = await deposit(
            viewer.organization_id,
            amount_nanos(amount, "amount"),
            _note(note),
            viewer.member_id,
            actor=Actor.of(viewer),
        )
        return WalletEntryType.from_entry(entry)

    @strawberry.mutation(
        description=(
            "Owners only: pay `amount` USD (> 0, at most the balance) back out of the wallet. "
            "Refunds never count as cost. Returns the ledger entry (negative amount)."
        ),
        extensions=require(IsOwner),
    )
    async def refund_funds(
        self,
        info: Info,
        amount: Annotated[
            Decimal, strawberry.argument(description="USD to pay back, > 0, at most the balance.")
        ],
        note: Annotated[
            str | None, strawberry.argument(description="A note kept with the entry (user text).")
        ] = None,
    ) -> WalletEntryType:
        viewer = info.context.viewer
        entry = await refund(
            viewer.organization_id,
            amount_nanos(amount, "amount"),
            _note(note),
            viewer.member_id,
            actor=Actor.of(viewer),
        )
        return WalletEntryType.from_entry(entry)

    @strawberry.mutation(
        description=(
            "Admins/Owners: the USD balance under which a LOW_BALANCE alert fires ($10 by "
            "default); alerts at once if the balance is already under it."
        ),
        extensions=require(CanAdminister),
    )
    async def set_low_balance_threshold(
        self,
        info: Info,
        amount: Annotated[
            Decimal,
            strawberry.argument(
                description="The balance in USD (0 or more) under which LOW_BALANCE fires."
            ),
        ],
    ) -> WalletType:
        viewer = info.context.viewer
        organization_id = viewer.organization_id
        await set_low_balance_threshold(
            organization_id, amount_nanos(amount, "amount"), actor=Actor.of(viewer)
        )
        org = await Organization.get(id=organization_id)
        return WalletType.from_summary(wallet_summary(info.context.scope, org))
