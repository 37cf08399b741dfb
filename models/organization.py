"""Organization: the tenant. Every other row belongs to exactly one."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

DEFAULT_LOW_BALANCE_THRESHOLD_NANOS = 10 * 1_000_000_000


class Tier(StrEnum):
    FREE = "FREE"
    TEAM = "TEAM"
    BUSINESS = "BUSINESS"
    ENTERPRISE = "ENTERPRISE"


class BudgetEnforcement(StrEnum):
    """What reaching the monthly budget does: alerts only, or keyAccess refuses (402)."""

    ALERT_ONLY = "ALERT_ONLY"
    BLOCK = "BLOCK"


class Organization(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    slug = fields.CharField(max_length=100, unique=True)
    tier = fields.CharEnumField(Tier, max_length=20, default=Tier.TEAM)
    # IANA zone name; trends and billing periods are computed in it.
    timezone = fields.CharField(max_length=64, default="UTC")
    # Markup in basis points (2500 = 25%) so it stays an exact integer.
    markup_bps = fields.IntField(default=0)
    fixed_fee_nanos = fields.BigIntField(default=0)
    # Day of month the billing period starts on (1 = calendar month).
    billing_anchor_day = fields.SmallIntField(default=1)
    # An Enterprise contract's billing periods: `contract_period_months` long (1-12), one of
    # them starting at local midnight of `contract_period_start` (resolvers/billing_policy.py).
    # Both null, or both set.
    contract_period_start = fields.DateField(null=True)
    contract_period_months = fields.SmallIntField(null=True)
    monthly_budget_nanos = fields.BigIntField(null=True)
    # db_default: the migration adds the column to organizations that already exist.
    budget_enforcement = fields.CharEnumField(
        BudgetEnforcement,
        max_length=20,
        default=BudgetEnforcement.ALERT_ONLY,
        db_default=BudgetEnforcement.ALERT_ONLY,
    )
    # A key limit an Admin sets above this (or clears) waits for an Owner's approval;
    # null: no approval needed.
    limit_approval_threshold_nanos = fields.BigIntField(null=True)
    # Request/response bodies are kept only when the organization opts in.
    log_bodies = fields.BooleanField(default=False)
    wallet_balance_nanos = fields.BigIntField(default=0)
    low_balance_threshold_nanos = fields.BigIntField(default=DEFAULT_LOW_BALANCE_THRESHOLD_NANOS)
    # Numbers low-balance episodes: bumped whenever a deposit or a threshold change leaves the
    # balance at/above the threshold, so the next fall below fires LOW_BALANCE again (and a
    # fall that continues the same episode does not).
    low_balance_episode = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "organization"

    def __str__(self) -> str:
        return self.name
