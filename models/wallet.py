"""Wallet ledger: deposits, refunds and usage deductions; the balance lives on Organization."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:
    from models.member import Member
    from models.organization import Organization


class EntryKind(StrEnum):
    DEPOSIT = "DEPOSIT"
    REFUND = "REFUND"
    USAGE = "USAGE"
    ADJUSTMENT = "ADJUSTMENT"


class WalletEntry(Model):
    id = fields.BigIntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization",
        related_name="wallet_entries",
        on_delete=fields.CASCADE,
        db_index=False,
    )
    kind = fields.CharEnumField(EntryKind, max_length=12)
    # Signed: deposits positive; usage deductions and refunds paid out negative.
    amount_nanos = fields.BigIntField()
    balance_after_nanos = fields.BigIntField()
    # Usage entries cover one ingest batch; this is how many requests they paid for.
    request_count = fields.IntField(default=0)
    note = fields.CharField(max_length=500, null=True)
    created_by: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member",
        related_name="wallet_entries",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=False,
    )
    created_at = fields.DatetimeField()

    organization_id: int
    created_by_id: int | None

    class Meta:
        table = "wallet_entry"
        # The ledger is listed by id: ids are drawn under the organization lock, in the order
        # the balance changed (resolvers/wallet.py).
        indexes = (Index(fields=("organization_id", "id"), name="wallet_org_id"),)
